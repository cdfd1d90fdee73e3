-- Solvency commitments in the one authorisation lifecycle (issue 45, backend/STAFF.md §3): the system-approved kind.
--
-- A liability root is the system's own commitment (the solvency worker builds, signs and sends it; the signer checks
-- it against the chain through its own node), so no staff member proposes or approves it. The worker records its
-- authorisation when it fixes the epoch's nonce and deadline, before asking the signer: `approved` at once
-- (approved_at = now()), with no staff signatures; its subject is `solvency_epochs.id`, its payload the epoch's
-- LiabilityRoot EIP-712 digest. What follows (signed, sent, executed, failed) is the epoch's own status, read with it.
--
-- Its proposer is the zero address: the system: no staff wallet proposes or approves it. (`proposer` stays NOT NULL
-- for every kind; the zero address is never a staff wallet, and the checks below keep it for this kind alone.)
ALTER TABLE authorisations DROP CONSTRAINT authorisations_kind_check;
ALTER TABLE authorisations ADD CONSTRAINT authorisations_kind_check
    CHECK (kind IN ('payout_batch', 'treasury_transfer', 'refund', 'solvency_commitment'));
-- The system proposes the system's kind, and nothing else.
ALTER TABLE authorisations ADD CONSTRAINT authorisations_system_proposer
    CHECK ((kind = 'solvency_commitment') = (proposer = '\x0000000000000000000000000000000000000000'::bytea));
-- Approved from the start and never decided otherwise: nobody rejects it, and an epoch past its deadline fails on its
-- own row (and is built again as a new one).
ALTER TABLE authorisations ADD CONSTRAINT authorisations_system_approved
    CHECK (kind <> 'solvency_commitment' OR (status = 'approved' AND approved_at IS NOT NULL));
