-- A plan event's ledger record (registration or retopup: its asset, number, payer, amount and plan version) is
-- kept in its raw event's row (issue 31: rows written per event). `ledger_events` held one row per applied plan
-- event beside the raw `chain_events` row of the same event, keyed by the same (chain, tx hash, log index); the
-- ledger now writes one row per event, once it has applied it.
-- `ledger_events` stays as a view of the same columns for operators' queries; the services read `chain_events`.
ALTER TABLE chain_events
    ADD COLUMN asset_id     INTEGER,
    ADD COLUMN event_seq    BIGINT,
    ADD COLUMN kind         TEXT CHECK (kind IN ('registration', 'retopup')),
    ADD COLUMN user_no      INTEGER,
    ADD COLUMN amount       NUMERIC(78,0) CHECK (amount > 0),
    ADD COLUMN plan_version INTEGER,
    -- All or none: an applied plan event has its whole record; any other event (a settlement, a claim, a
    -- quarantined one) none.
    ADD CONSTRAINT chain_events_plan_event CHECK (
        (asset_id IS NULL AND event_seq IS NULL AND kind IS NULL AND user_no IS NULL AND amount IS NULL
         AND plan_version IS NULL)
        OR (asset_id IS NOT NULL AND event_seq IS NOT NULL AND kind IS NOT NULL AND user_no IS NOT NULL
            AND amount IS NOT NULL AND plan_version IS NOT NULL AND outcome = 'applied'));

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_events e WHERE NOT EXISTS (
                 SELECT 1 FROM chain_events c
                  WHERE (c.chain_id, c.tx_hash, c.log_index) = (e.chain_id, e.tx_hash, e.log_index)
                    AND c.block_number = e.block_number AND c.outcome = 'applied')) THEN
        RAISE EXCEPTION 'ledger_events holds a row without its applied raw event';
    END IF;
END $$;

UPDATE chain_events c
SET asset_id = e.asset_id, event_seq = e.event_seq, kind = e.kind, user_no = e.user_no, amount = e.amount,
    plan_version = e.plan_version
FROM ledger_events e
WHERE (c.chain_id, c.tx_hash, c.log_index) = (e.chain_id, e.tx_hash, e.log_index);

DROP TABLE ledger_events;

-- The old primary key of ledger_events; NULLs (the other events) are distinct, so they never collide.
CREATE UNIQUE INDEX chain_events_plan_event_seq ON chain_events (asset_id, event_seq);

CREATE VIEW ledger_events AS
SELECT asset_id, event_seq, chain_id, tx_hash, log_index, block_number, kind, user_no, amount, plan_version
FROM chain_events WHERE event_seq IS NOT NULL;
