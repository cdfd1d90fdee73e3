-- The tables the listener writes on every event keep no foreign key to `assets`. Each inserted row's check took a
-- key-share lock on the asset row: ~2,800 lookups per 1,000 events, a sixth of a block's write time (measured
-- with `BENCH_EXPLAIN=1 cargo bench -p ledger --bench apply`). Their only writer is the plan engine, which takes
-- the asset ids from the asset rows it locked for the transaction; the property tests check the references, as
-- they do for the other per-event tables (0001).
ALTER TABLE users DROP CONSTRAINT users_asset_id_fkey;
ALTER TABLE ledger_events DROP CONSTRAINT ledger_events_asset_id_fkey;
ALTER TABLE company_credits DROP CONSTRAINT company_credits_asset_id_fkey;
