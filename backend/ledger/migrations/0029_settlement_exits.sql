-- The members' exit (contracts/EXIT.md): a Settlement's `ExitOpened(token, custody)`, applied by the listener in its
-- transaction like every event. Once a contract's exit of an asset is open, nothing moves that asset on it any more
-- but claims and members' exits (the contract refuses the rest): the API refuses payments, payouts and transfers of
-- the asset, the workers leave it, and the reconciler pages it instead of judging its custody against the ledger.
-- Written once per (asset, contract), like the event itself.
CREATE TABLE settlement_exits (
    asset_id      INT         NOT NULL REFERENCES assets (id),
    contract      BYTEA       NOT NULL CHECK (length(contract) = 20),
    opened_block  BIGINT      NOT NULL,
    opened_tx     BYTEA       NOT NULL CHECK (length(opened_tx) = 32),
    -- What the Settlement handed its exit contract: its balance of the asset less what was claimable.
    custody       NUMERIC(78, 0) NOT NULL CHECK (custody >= 0),
    PRIMARY KEY (asset_id, contract)
);

CREATE FUNCTION settlement_exits_written_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'settlement_exits is written once: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege', HINT = 'an opened exit never closes (contracts/EXIT.md)';
END $$;
CREATE TRIGGER settlement_exits_written_once BEFORE UPDATE OR DELETE ON settlement_exits
    FOR EACH ROW EXECUTE FUNCTION settlement_exits_written_once();
