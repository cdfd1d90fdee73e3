-- A user's balances live in the user's row (issue 31: rows written per event). The plan engine wrote two rows for
-- most users an event touched, the counters in `users` and the sums in `user_balances`, both keyed
-- (asset_id, user_no) and one-to-one; one upsert per user now writes both.
-- `user_balances` stays as a view of the same columns for operators' queries and the runbooks; the services read
-- and write `users`.
ALTER TABLE users
    ADD COLUMN paid_in   NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (paid_in >= 0),
    ADD COLUMN pending   NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (pending >= 0),
    ADD COLUMN held      NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (held >= 0),
    ADD COLUMN batched   NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (batched >= 0),
    ADD COLUMN settled   NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (settled >= 0),
    ADD COLUMN forfeited NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (forfeited >= 0),
    -- Current reserve (all levels); the per-level split is in user_reserves.
    ADD COLUMN reserved  NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    ADD COLUMN claimable NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (claimable >= 0);

-- Every balance row has its user (the engine credits registered users only); a row without one would be lost
-- here, so the migration stops instead.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM user_balances b WHERE NOT EXISTS (
                 SELECT 1 FROM users u WHERE u.asset_id = b.asset_id AND u.user_no = b.user_no)) THEN
        RAISE EXCEPTION 'user_balances holds a row without its user';
    END IF;
END $$;

UPDATE users u
SET paid_in = b.paid_in, pending = b.pending, held = b.held, batched = b.batched, settled = b.settled,
    forfeited = b.forfeited, reserved = b.reserved, claimable = b.claimable
FROM user_balances b
WHERE b.asset_id = u.asset_id AND b.user_no = u.user_no;

DROP TABLE user_balances;

-- Updated on most events: room for HOT updates (none of the balance columns is indexed).
ALTER TABLE users SET (fillfactor = 70);

CREATE VIEW user_balances AS
SELECT asset_id, user_no, paid_in, pending, held, batched, settled, forfeited, reserved, claimable FROM users;
