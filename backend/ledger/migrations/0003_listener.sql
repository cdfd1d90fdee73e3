-- The listener's position per chain: the last confirmed block whose events are all applied (also when it had
-- none), its hash for the parent-link check of the next block, and why the listener stopped itself, if it did.
ALTER TABLE blockchain_sync
    ADD COLUMN listener_block      BIGINT,
    ADD COLUMN listener_block_hash BYTEA CHECK (listener_block_hash IS NULL OR length(listener_block_hash) = 32),
    ADD COLUMN chain_head          BIGINT,
    ADD COLUMN chain_head_seen_at  TIMESTAMPTZ,
    ADD COLUMN halted_reason       TEXT,
    ADD CONSTRAINT listener_cursor_whole CHECK ((listener_block IS NULL) = (listener_block_hash IS NULL));

-- Hashes of recently applied blocks (one per listener transaction), newest kept: after a deep reorg they tell
-- how far back the chain and the ledger still agree.
CREATE TABLE listener_blocks (
    chain_id     BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash   BYTEA  NOT NULL CHECK (length(block_hash) = 32),
    applied_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, block_number)
);
