-- The generation plan's withdrawal fee (PLAN-GENERATION.md §4). A payout entry settles E of the user's rewards;
-- the contract pays amount = E − fee to the user (or leaves it claimable), fee = ⌈E × withdrawal_fee_bps / 10000⌉
-- under the plan version in force when the batch was built. The fee is credited to the company when the batch
-- settles (a company_credits row naming the batch). Assets of the auto-pool plan have no fee: 0.
ALTER TABLE payout_batch_items ADD COLUMN fee NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (fee >= 0);

ALTER TABLE company_credits DROP CONSTRAINT company_credits_reason_check;
ALTER TABLE company_credits ADD CONSTRAINT company_credits_reason_check
    CHECK (reason IN ('registration_rest', 'pool_rest', 'level_rest', 'forfeit', 'generation_rest', 'withdrawal_fee'));
ALTER TABLE company_credits ADD COLUMN batch_id BIGINT;

-- A user whose payable rewards are all fee (E − fee = 0) is left out of the batch until they are owed more.
ALTER TABLE payout_batch_left_out DROP CONSTRAINT payout_batch_left_out_reason_check;
ALTER TABLE payout_batch_left_out ADD CONSTRAINT payout_batch_left_out_reason_check
    CHECK (reason IN ('max_entries', 'batch_total', 'daily_outflow_cap', 'recipient_not_allowed', 'below_fee'));

-- An entry settles amount + fee of what its user was owed: it is partial only when that is below the owed sum.
ALTER TABLE payout_batch_items DROP CONSTRAINT payout_batch_items_owed_check;
ALTER TABLE payout_batch_items ADD CONSTRAINT payout_batch_items_owed_check
    CHECK (owed >= amount + fee AND (limited_by IS NULL) = (owed = amount + fee));
