-- Which payout batch took a withdraw request (set with status 'batched' when the batch takes the user's pending
-- rewards; cleared, and the request open again, when that batch is cancelled).
ALTER TABLE withdraw_requests ADD COLUMN batch_id BIGINT REFERENCES payout_batches (id);
ALTER TABLE withdraw_requests ADD CONSTRAINT withdraw_batched_has_batch CHECK ((status = 'batched') = (batch_id IS NOT NULL));
CREATE INDEX withdraw_requests_batch ON withdraw_requests (batch_id) WHERE batch_id IS NOT NULL;
