-- How far the reconciler has read each Settlement contract's admin events (SignerRotated, RoleGranted,
-- ChangeApplied, Paused, DefaultAdminTransferScheduled, …; reconciler/src/watch.rs): every run pages the events of
-- the blocks after `block_number` up to the chain's confirmed block, and moves `block_number` in the transaction
-- that records the alerts it raised, so that an event is paged once, across restarts and several instances.
-- No row yet: the next run starts at the chain spec's `start_block`.
CREATE TABLE reconciler_log_cursors (
    chain_id     BIGINT NOT NULL,
    contract     BYTEA  NOT NULL CHECK (length(contract) = 20),
    block_number BIGINT NOT NULL CHECK (block_number >= 0),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, contract)
);
