-- Treasury transfers and refunds in the one authorisation lifecycle (issue 45, backend/STAFF.md §3).
--
-- A transfer or refund proposed for approval is stored at once as `proposed`: its nonce (from its row id), recipient,
-- amount and deadline are fixed, and it reserves its amount as a signed one does (two proposals cannot take the same
-- company funds); it has no signature until its approvals are in and the signer signed it (`signed`). Rejected by an
-- approver it is `rejected`; past its deadline unsigned, `expired` (the listener, by the chain's clock): either way
-- it reserves nothing more. The authorisation (`authorisations.subject`) is this row's id.
ALTER TABLE treasury_transfers DROP CONSTRAINT treasury_transfers_status_check;
ALTER TABLE treasury_transfers ADD CONSTRAINT treasury_transfers_status_check
    CHECK (status IN ('proposed', 'signed', 'executed', 'expired', 'rejected'));
-- A transfer of this API has its deadline and requester from the start; its signature once signed. (An execution the
-- chain reports is always recorded, whatever the row's status was.)
ALTER TABLE treasury_transfers DROP CONSTRAINT treasury_transfers_check;
ALTER TABLE treasury_transfers ADD CONSTRAINT treasury_transfers_api_fields
    CHECK (origin = 'chain' OR (deadline IS NOT NULL AND requested_by IS NOT NULL));
ALTER TABLE treasury_transfers ADD CONSTRAINT treasury_transfers_signed_has_signature
    CHECK (status <> 'signed' OR signature IS NOT NULL);
ALTER TABLE treasury_transfers ADD CONSTRAINT treasury_transfers_unsigned_is_ours
    CHECK (status NOT IN ('proposed', 'rejected') OR origin = 'api');

DROP INDEX treasury_transfers_open;
CREATE INDEX treasury_transfers_open ON treasury_transfers (asset_id) WHERE status IN ('proposed', 'signed');

-- At most one refund of an event that may still be signed or execute.
DROP INDEX treasury_transfers_one_signed_refund;
CREATE UNIQUE INDEX treasury_transfers_one_signed_refund
    ON treasury_transfers (refund_chain_id, refund_tx_hash, refund_log_index)
    WHERE status IN ('proposed', 'signed') AND refund_tx_hash IS NOT NULL;
