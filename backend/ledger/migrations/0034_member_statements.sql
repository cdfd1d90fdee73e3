-- Issue 47: money in words for members.
-- A withdraw request is cancelled by its member (POST /v1/users/withdrawals/{id}/cancel, while it is open) or by the
-- operator (a cancelled payout batch reopens the requests it answered; one superseded by a newer open request of the
-- same member is cancelled instead). Who did it is kept with the request; rows cancelled before this column existed
-- could only have been cancelled the operator's way.
ALTER TABLE withdraw_requests
    ADD COLUMN cancelled_by TEXT CHECK (cancelled_by IN ('member', 'operator'));
UPDATE withdraw_requests SET cancelled_by = 'operator' WHERE status = 'cancelled';
ALTER TABLE withdraw_requests
    ADD CONSTRAINT withdraw_requests_cancelled_by CHECK ((status = 'cancelled') = (cancelled_by IS NOT NULL));

-- A member's entries across batches (what they received and the fees kept), and the statements' per-period reads.
CREATE INDEX payout_batch_items_user ON payout_batch_items (asset_id, user_no);
-- A member's payments in, for their statement.
CREATE INDEX chain_events_plan_user ON chain_events (asset_id, user_no) WHERE event_seq IS NOT NULL;
