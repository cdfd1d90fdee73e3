-- A retopup's number among its asset's retopups is kept in its raw event's row, beside the rest of the event's
-- ledger record (0021), instead of a row of its own in `retopups` with the same payer, amount and event number
-- (issue 31: rows written per event). `retopups` stays as a view of the same columns.
ALTER TABLE chain_events
    ADD COLUMN retopup_no BIGINT,
    ADD CONSTRAINT chain_events_retopup CHECK (retopup_no IS NULL OR kind = 'retopup');

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM retopups r WHERE NOT EXISTS (
                 SELECT 1 FROM chain_events c
                  WHERE c.asset_id = r.asset_id AND c.event_seq = r.event_seq AND c.kind = 'retopup'
                    AND c.user_no = r.user_no AND c.amount = r.amount)) THEN
        RAISE EXCEPTION 'retopups holds a row without its applied retopup event';
    END IF;
END $$;

UPDATE chain_events c SET retopup_no = r.retopup_no
FROM retopups r
WHERE c.asset_id = r.asset_id AND c.event_seq = r.event_seq;

DROP TABLE retopups;

-- The old primary key of retopups (and the ledger's look-up of an asset's next retopup number).
CREATE UNIQUE INDEX chain_events_retopup_no ON chain_events (asset_id, retopup_no) WHERE retopup_no IS NOT NULL;

CREATE VIEW retopups AS
SELECT asset_id, retopup_no, user_no, amount, event_seq FROM chain_events WHERE retopup_no IS NOT NULL;
