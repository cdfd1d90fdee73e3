-- A liability root records how far it fell below what the chain explained when it was signed (backend/SOLVENCY.md §1): the
-- latest committed total less what the chain paid members since and the withdrawal fees kept of it, less the root's
-- total. The asset's rolling 24-hour sum of these is capped by the policy's daily_root_fall_cap. NULL: it did not fall.
ALTER TABLE signed_payloads ADD COLUMN root_fall TEXT
    CHECK (root_fall IS NULL OR kind = 'liability_root');
CREATE INDEX signed_payloads_root_falls ON signed_payloads (chain_id, asset, signed_at) WHERE root_fall IS NOT NULL;
