-- The payout worker (backend::payouts::worker) drives every signed or submitted batch to an outcome on its own,
-- but only once nobody has moved it for a while: an admin who is submitting or retrying by hand is never raced.
-- `last_step_at` is when the batch was last signed, sent or re-sent (NULL on rows older than this column: their
-- `created_at` stands in).
ALTER TABLE payout_batches ADD COLUMN last_step_at TIMESTAMPTZ;

-- The worker's scan: only the batches it may have to move.
CREATE INDEX payout_batches_open ON payout_batches (id) WHERE status IN ('signed', 'submitted');
