-- The confirmation depth the listener applies blocks at, written with the head it saw, so that the API, the
-- listener's metrics and the reconciler compute one listener lag: confirmed blocks not yet applied.
ALTER TABLE blockchain_sync ADD COLUMN confirmations BIGINT;
