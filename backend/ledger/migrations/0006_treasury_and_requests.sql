-- Treasury transfers (company share leaving custody) and operators' on-demand requests.

-- A treasury transfer as signed for the admin (status 'signed'), then as executed on-chain (the listener marks it
-- from `TreasuryTransferred`). A signed transfer counts against the company's share until it executes or can
-- no longer execute (its deadline has passed at a confirmed block: 'expired'). A `TreasuryTransferred` with no
-- row here (signed outside the API) is recorded with origin 'chain' and raises an alert.
CREATE TABLE treasury_transfers (
    id              BIGSERIAL PRIMARY KEY,
    asset_id        INTEGER NOT NULL REFERENCES assets (id),
    chain_nonce     NUMERIC(78,0) NOT NULL,
    recipient       BYTEA   NOT NULL CHECK (length(recipient) = 20),
    amount          NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    origin          TEXT    NOT NULL DEFAULT 'api' CHECK (origin IN ('api', 'chain')),
    deadline        BIGINT,
    signature       BYTEA,
    requested_by    TEXT,
    status          TEXT    NOT NULL DEFAULT 'signed' CHECK (status IN ('signed', 'executed', 'expired')),
    executed_block  BIGINT,
    tx_hash         BYTEA   CHECK (tx_hash IS NULL OR length(tx_hash) = 32),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (asset_id, chain_nonce),
    CHECK (origin = 'chain' OR (deadline IS NOT NULL AND signature IS NOT NULL AND requested_by IS NOT NULL)),
    CHECK ((status = 'executed') = (executed_block IS NOT NULL))
);
CREATE INDEX treasury_transfers_open ON treasury_transfers (asset_id) WHERE status = 'signed';

-- Work asked for through the API and done by the service that owns it: a listener replays a block range of its
-- chain, a reconciler runs now. Workers take rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE ops_requests (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT   NOT NULL CHECK (kind IN ('replay', 'reconcile')),
    chain_id      BIGINT,
    from_block    BIGINT CHECK (from_block >= 0),
    to_block      BIGINT,
    requested_by  TEXT   NOT NULL,
    status        TEXT   NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    result        JSONB,
    error         TEXT,
    requested_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ,
    CHECK (kind <> 'replay' OR (chain_id IS NOT NULL AND from_block IS NOT NULL AND to_block >= from_block))
);
CREATE INDEX ops_requests_queued ON ops_requests (kind, chain_id, id) WHERE status = 'queued';
