-- One authorisation lifecycle for outflows (issue 45, backend/STAFF.md §3): a finance wallet proposes an outflow whose
-- Settlement payload (nonce, deadline, every entry) is fixed at once; its own wallet and approvers' wallets sign the
-- `StaffApproval` over that payload's digest; the signer service checks those signatures itself before it signs.
--
-- Stored here: proposed → approved (the proposer's and enough approvers' signatures are in), or rejected (by an
-- approver, with a reason) or expired (its deadline passed, by the chain's clock, before it was signed). What follows
-- approval (signed, sent, executed, failed) is the outflow's own row's status (`payout_batches.status`), read with it:
-- one source for each fact.
CREATE TABLE authorisations (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT        NOT NULL CHECK (kind IN ('payout_batch', 'treasury_transfer', 'refund')),
    -- The outflow's own row: `payout_batches.id` for a payout batch.
    subject         BIGINT      NOT NULL,
    asset_id        INT         NOT NULL REFERENCES assets (id),
    chain_id        BIGINT      NOT NULL,
    contract        BYTEA       NOT NULL CHECK (length(contract) = 20),
    token           BYTEA       NOT NULL CHECK (length(token) = 20),
    -- The outflow's Settlement EIP-712 digest: what every staff signature covers.
    payload         BYTEA       NOT NULL CHECK (length(payload) = 32),
    total           NUMERIC(78) NOT NULL CHECK (total >= 0),
    nonce           NUMERIC(78) NOT NULL CHECK (nonce >= 0),
    deadline        BIGINT      NOT NULL,
    status          TEXT        NOT NULL DEFAULT 'proposed'
                                CHECK (status IN ('proposed', 'approved', 'rejected', 'expired')),
    proposer        BYTEA       NOT NULL CHECK (length(proposer) = 20),
    proposed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    approved_at     TIMESTAMPTZ,
    decided_by      BYTEA       CHECK (length(decided_by) = 20),
    decided_at      TIMESTAMPTZ,
    decision_reason TEXT        CHECK (length(decision_reason) BETWEEN 1 AND 500),
    CHECK ((status IN ('rejected', 'expired')) = (decided_at IS NOT NULL)),
    -- One authorisation per outflow: its nonce is fixed once, so a second would be a second approval of the same.
    UNIQUE (kind, subject)
);
CREATE INDEX authorisations_open ON authorisations (id) WHERE status IN ('proposed', 'approved');

-- Each staff wallet's signature, once per action: the proposer's `propose`, approvers' `approve`.
CREATE TABLE authorisation_signatures (
    authorisation_id BIGINT      NOT NULL REFERENCES authorisations (id),
    wallet           BYTEA       NOT NULL CHECK (length(wallet) = 20),
    action           TEXT        NOT NULL CHECK (action IN ('propose', 'approve')),
    signature        BYTEA       NOT NULL CHECK (length(signature) = 65),
    signed_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (authorisation_id, wallet, action)
);
