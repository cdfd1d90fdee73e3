-- Refunds of quarantined inflows: a treasury transfer that gives the money of one quarantined `Registered` or
-- `Retopped` event back to the wallet that paid it (ledger::treasury::refund). That money was never the
-- company's, so the company's available share ignores refunds, signed or executed; the reconciler counts the
-- refund's `TreasuryTransferred` as money out, against the quarantined inflow it counts as money in.
--
-- The refunded event's key; NULL on every other transfer.
ALTER TABLE treasury_transfers
    ADD COLUMN refund_chain_id  BIGINT,
    ADD COLUMN refund_tx_hash   BYTEA,
    ADD COLUMN refund_log_index BIGINT,
    ADD CONSTRAINT treasury_transfers_refund_key CHECK (
        (refund_chain_id IS NULL) = (refund_tx_hash IS NULL) AND (refund_tx_hash IS NULL) = (refund_log_index IS NULL)),
    -- Only a transfer signed here is a refund: one found on the chain is matched to nothing.
    ADD CONSTRAINT treasury_transfers_refund_signed_here CHECK (refund_tx_hash IS NULL OR origin = 'api'),
    ADD CONSTRAINT treasury_transfers_refund_event FOREIGN KEY (refund_chain_id, refund_tx_hash, refund_log_index)
        REFERENCES quarantine (chain_id, tx_hash, log_index);

-- At most one refund of an event that may still execute. (One executed and one signed are refused by the check
-- made under the asset's row lock; the index does not cover `executed`, so that the listener can always record
-- an execution the chain reports, even one it had marked expired.)
CREATE UNIQUE INDEX treasury_transfers_one_signed_refund
    ON treasury_transfers (refund_chain_id, refund_tx_hash, refund_log_index)
    WHERE status = 'signed' AND refund_tx_hash IS NOT NULL;

-- The refund whose execution resolved a quarantined event (set with `resolved_at`, by the listener).
ALTER TABLE quarantine
    ADD COLUMN refunded_by BIGINT REFERENCES treasury_transfers (id),
    ADD CONSTRAINT quarantine_refund_resolves CHECK (refunded_by IS NULL OR resolved_at IS NOT NULL);
