-- Forfeits as two-person approved actions the signer sees (issue 65, item 4; backend/SOLVENCY.md §1).
--
-- A forfeit (PLAN.md §5: every held reward's rest of a member moves to the company) is proposed by a finance wallet,
-- which fixes the member, the rewards and the amount, and approved by another approver; each signs
-- abi::approval::Forfeit's approval with their own wallet, as for an outflow. It is applied once approved, before its
-- deadline (the chain's clock), and only while the member's held rewards are still exactly those proposed. A
-- liability root then carries it to the signer, which checks the signatures against its own list and lets the root's
-- total fall by it once.
CREATE TABLE forfeits (
    id          BIGSERIAL   PRIMARY KEY,
    asset_id    INTEGER     NOT NULL REFERENCES assets (id),
    member      BYTEA       NOT NULL CHECK (length(member) = 20),
    -- The held rewards it forfeits, and the sum of their rests when proposed.
    rewards     BIGINT[]    NOT NULL CHECK (cardinality(rewards) > 0),
    amount      NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    reason      TEXT        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    status      TEXT        NOT NULL DEFAULT 'proposed'
        CHECK (status IN ('proposed', 'executed', 'rejected', 'expired', 'failed')),
    failure     TEXT,
    executed_at TIMESTAMPTZ,
    -- The first solvency round whose snapshot shows it applied: the roots from that round on carry it to the signer
    -- until one of them is committed.
    first_round BIGINT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'executed') = (executed_at IS NOT NULL)),
    CHECK ((status = 'failed') = (failure IS NOT NULL)),
    CHECK (first_round IS NULL OR status = 'executed')
);
CREATE INDEX forfeits_applied ON forfeits (asset_id, first_round) WHERE status = 'executed';
-- One open forfeit of a member's held rewards at a time.
CREATE UNIQUE INDEX forfeits_one_open ON forfeits (asset_id, member) WHERE status = 'proposed';

ALTER TABLE authorisations DROP CONSTRAINT authorisations_kind_check;
ALTER TABLE authorisations ADD CONSTRAINT authorisations_kind_check
    CHECK (kind IN ('payout_batch', 'treasury_transfer', 'refund', 'solvency_commitment', 'forfeit'));
