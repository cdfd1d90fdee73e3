-- Upgrades (contracts/UPGRADES.md §7): after an upgrade the asset's liabilities are committed on every contract of the
-- chain. One snapshot of the ledger is a *round*; each contract gets a row of it — its own tree (leaves name the
-- contract), its own epoch number (a contract takes a token's epochs one after another from 1), the same block and
-- total. With one contract a round is an epoch: every existing row gets round = epoch. `contract` NULL: a row built
-- before this migration, when the chain had one contract — the solvency worker names it (the chain's oldest contract
-- in the chain spec) before it builds anything.
ALTER TABLE solvency_epochs
    ADD COLUMN contract BYTEA CHECK (contract IS NULL OR length(contract) = 20),
    ADD COLUMN round BIGINT;
UPDATE solvency_epochs SET round = epoch;
ALTER TABLE solvency_epochs
    ALTER COLUMN round SET NOT NULL,
    ADD CONSTRAINT solvency_epochs_round_positive CHECK (round >= 1);

-- One epoch number per asset and contract, except for attempts that failed; one attempt in flight per contract.
DROP INDEX solvency_epochs_asset_epoch;
CREATE UNIQUE INDEX solvency_epochs_asset_epoch ON solvency_epochs (asset_id, (coalesce(contract, '\x'::bytea)), epoch)
    WHERE status <> 'failed';
DROP INDEX solvency_epochs_in_flight;
CREATE UNIQUE INDEX solvency_epochs_in_flight ON solvency_epochs (asset_id, (coalesce(contract, '\x'::bytea)))
    WHERE status IN ('built', 'signed', 'sent');
CREATE INDEX solvency_epochs_round ON solvency_epochs (asset_id, round);
