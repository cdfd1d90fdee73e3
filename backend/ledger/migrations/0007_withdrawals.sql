-- Users' requests to be paid their pending balance of one asset. The amount is the pending balance when the
-- request was made (what the user saw); payout batches pay the pending rewards themselves, so the request only
-- tells operators who asked. One open request per user and asset; 'batched' when a payout batch took the
-- user's pending rewards, 'cancelled' by an operator.
CREATE TABLE withdraw_requests (
    id          BIGSERIAL PRIMARY KEY,
    asset_id    INTEGER NOT NULL REFERENCES assets (id),
    user_no     INTEGER NOT NULL,
    amount      NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    status      TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'batched', 'cancelled')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (asset_id, user_no) REFERENCES users (asset_id, user_no)
);
CREATE UNIQUE INDEX withdraw_requests_one_open ON withdraw_requests (asset_id, user_no) WHERE status = 'open';
CREATE INDEX withdraw_requests_status ON withdraw_requests (asset_id, status, id);

-- Admin manual placements (POST /v1/admin/pool/placements, ledger::admin::manual_placement): no chain event
-- causes them, so their rows (the placement, the auto-progressions it triggers, their rewards, reserve
-- movements and company credits) have no event_seq; the placement itself has cause 'admin' and its price
-- came out of company_total.
ALTER TABLE placements DROP CONSTRAINT placements_cause_check;
ALTER TABLE placements ADD CONSTRAINT placements_cause_check CHECK (cause IN ('pool_entry', 'auto_progression', 'admin'));
ALTER TABLE placements ALTER COLUMN event_seq DROP NOT NULL;
ALTER TABLE rewards ALTER COLUMN event_seq DROP NOT NULL;
ALTER TABLE reserve_movements ALTER COLUMN event_seq DROP NOT NULL;
