-- A refund (a treasury transfer that returns a payment the plan refused to its payer) names the nonce of the
-- register or retopup payload it refunds, in the same 64-digit hex form as `nonce`; NULL on every other record.
ALTER TABLE signed_payloads ADD COLUMN refund_of TEXT;

CREATE INDEX IF NOT EXISTS signed_payloads_refund_of ON signed_payloads (chain_id, contract, refund_of)
    WHERE refund_of IS NOT NULL;
