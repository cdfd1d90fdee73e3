-- The public proof of solvency (SOLVENCY.md). Per asset, each epoch is the Merkle-sum tree of every user's
-- liabilities at a confirmed block (the company excluded, zero balances included), built from one snapshot of the
-- ledger, stored, signed and committed on-chain like a payout batch: kept, retried with the same signed payload,
-- executed once (the contract takes only its latest epoch + 1).
--
-- status: built (tree stored) → signed (payload and signature kept) → sent (a transaction carries it) → committed
-- (the listener applied its LiabilitiesCommitted event) | failed (it can never execute: its deadline passed, or the
-- chain took another commitment for its epoch; the epoch number is built again from fresh figures).
CREATE TABLE solvency_epochs (
    id              BIGSERIAL PRIMARY KEY,
    asset_id        INTEGER  NOT NULL REFERENCES assets (id),
    epoch           BIGINT   NOT NULL CHECK (epoch >= 1),
    as_of_block     BIGINT   NOT NULL CHECK (as_of_block >= 0),
    root            BYTEA    NOT NULL CHECK (length(root) = 32),
    total           NUMERIC(78,0) NOT NULL CHECK (total >= 0 AND total < 340282366920938463463374607431768211456),
    leaf_count      INTEGER  NOT NULL CHECK (leaf_count >= 0),
    depth           SMALLINT NOT NULL CHECK (depth BETWEEN 0 AND 32),
    plan_hash       BYTEA    NOT NULL CHECK (length(plan_hash) = 32),
    status          TEXT     NOT NULL DEFAULT 'built'
        CHECK (status IN ('built', 'signed', 'sent', 'committed', 'failed')),
    -- The signed payload: its nonce (liability space), deadline and signature; every send uses these.
    chain_nonce     NUMERIC(78,0),
    deadline        BIGINT,
    signature       BYTEA,
    -- The last transaction sent for it, and when anything last moved it (a follow-up waits on that).
    tx_hash         BYTEA,
    chain_tx_raw    BYTEA,
    chain_tx_expiration_ms BIGINT,
    chain_tx_fee_limit BIGINT,
    moved_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- What the chain recorded (from the LiabilitiesCommitted event the listener applied).
    committed_block BIGINT,
    committed_tx    BYTEA,
    custody         NUMERIC(78,0),
    failure         TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status IN ('signed', 'sent', 'committed')) <= (signature IS NOT NULL)),
    CHECK ((status = 'committed') = (committed_block IS NOT NULL)),
    CHECK ((status = 'failed') = (failure IS NOT NULL))
);
-- One epoch number per asset, except for attempts that failed; one attempt in flight at a time.
CREATE UNIQUE INDEX solvency_epochs_asset_epoch ON solvency_epochs (asset_id, epoch) WHERE status <> 'failed';
CREATE UNIQUE INDEX solvency_epochs_in_flight ON solvency_epochs (asset_id)
    WHERE status IN ('built', 'signed', 'sent');

-- The nonces of liability roots: one per signing attempt, consecutive, so that consecutive commitments spend bits of
-- the same bitmap word on-chain.
CREATE SEQUENCE solvency_nonce_seq MINVALUE 0 START 0;

-- Every user's leaf of an epoch: its place in the tree and the balances it commits to (the salt is derived from
-- the backend's key when a proof is asked for, never stored).
CREATE TABLE solvency_leaves (
    epoch_id    BIGINT  NOT NULL REFERENCES solvency_epochs (id) ON DELETE CASCADE,
    address     BYTEA   NOT NULL CHECK (length(address) = 20),
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    reserved    NUMERIC(78,0) NOT NULL,
    held        NUMERIC(78,0) NOT NULL,
    pending     NUMERIC(78,0) NOT NULL,
    batched     NUMERIC(78,0) NOT NULL,
    claimable   NUMERIC(78,0) NOT NULL,
    PRIMARY KEY (epoch_id, address)
);

-- Every level of an epoch's tree, padding included: the nodes in index order, 48 bytes each (hash ‖ sum u128).
-- Stored out of line and uncompressed, so that a proof reads only the 48 bytes of each sibling (substring).
CREATE TABLE solvency_levels (
    epoch_id    BIGINT   NOT NULL REFERENCES solvency_epochs (id) ON DELETE CASCADE,
    level       SMALLINT NOT NULL CHECK (level >= 0),
    nodes       BYTEA    NOT NULL,
    PRIMARY KEY (epoch_id, level)
);
ALTER TABLE solvency_levels ALTER COLUMN nodes SET STORAGE EXTERNAL;
