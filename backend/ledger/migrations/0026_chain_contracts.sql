-- Upgrades (issue 44, ops/upgrades.md): a chain may have more than one Settlement contract — the live one and those it
-- replaced, followed while they are wound down. Each raw event keeps the contract that emitted it; rows written before
-- this migration have none (NULL): they are the events of the chain's first contract, the only one followed then.
ALTER TABLE chain_events ADD COLUMN contract BYTEA CHECK (contract IS NULL OR length(contract) = 20);

-- The contracts each chain's listener follows, and the first block whose events it has read of each: a contract's
-- deployment block when the listener knew of it before reaching that block, or the block after the listener's cursor
-- when it was added to the chain spec later (and the blocks before showed no event of it the ledger applies; see
-- listener::contracts). Written by the listener alone, once per contract.
CREATE TABLE chain_contracts (
    chain_id      BIGINT NOT NULL,
    contract      BYTEA  NOT NULL CHECK (length(contract) = 20),
    start_block   BIGINT NOT NULL CHECK (start_block >= 0),
    followed_from BIGINT NOT NULL CHECK (followed_from >= start_block),
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, contract)
);
CREATE TRIGGER chain_contracts_written_once BEFORE UPDATE OR DELETE ON chain_contracts
    FOR EACH ROW EXECUTE FUNCTION ledger_row_written_once();
