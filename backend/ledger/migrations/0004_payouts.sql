-- A payout batch as signed: its contract nonce (one version of a batch can ever execute), the EIP-712 hash of
-- its payouts array (to prove the executed batch is the one built), deadline and signature (resent unchanged
-- on retry), and each entry's position in the signed array.
ALTER TABLE payout_batches
    ADD COLUMN chain_nonce  NUMERIC(78,0),
    ADD COLUMN payouts_hash BYTEA CHECK (payouts_hash IS NULL OR length(payouts_hash) = 32),
    ADD COLUMN deadline     BIGINT,
    ADD COLUMN signature    BYTEA;
CREATE UNIQUE INDEX payout_batches_chain_nonce ON payout_batches (asset_id, chain_nonce) WHERE chain_nonce IS NOT NULL;
ALTER TABLE payout_batch_items ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX payout_batch_items_position ON payout_batch_items (batch_id, position);
CREATE INDEX rewards_batch ON rewards (asset_id, batch_id) WHERE batch_id IS NOT NULL;

-- Entries the contract could not push (PayoutDeferred), kept until their batch's PayoutBatchExecuted settles it.
CREATE TABLE payout_deferrals (
    chain_id     BIGINT NOT NULL,
    batch_nonce  NUMERIC(78,0) NOT NULL,
    entry_index  BIGINT NOT NULL,
    recipient    BYTEA  NOT NULL CHECK (length(recipient) = 20),
    amount       NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    PRIMARY KEY (chain_id, batch_nonce, entry_index)
);
