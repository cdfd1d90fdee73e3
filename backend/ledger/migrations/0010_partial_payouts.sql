-- Rewards paid in parts: a user owed more than the signer's per-entry cap (or a single reward larger than it) is
-- paid across successive batches. A reward's `amount` (what was earned) never changes; it is split as
--   amount = paid (settled parts) + in_flight (parts in batches not yet settled or cancelled) + rest,
-- and `status` says where the rest is (pending, held, reserved, forfeited) — or, when the rest is zero, `batched`
-- while a part is in flight and `settled` once every part is paid. Each part is a payout_batch_rewards row with
-- its amount; the parts of one reward are disjoint, so no base unit of a reward is ever paid twice.
ALTER TABLE rewards
    ADD COLUMN paid      NUMERIC(78,0) NOT NULL DEFAULT 0,
    ADD COLUMN in_flight NUMERIC(78,0) NOT NULL DEFAULT 0;
UPDATE rewards SET paid = amount WHERE status = 'settled';
UPDATE rewards SET in_flight = amount WHERE status = 'batched';
ALTER TABLE rewards ADD CONSTRAINT rewards_parts_check CHECK (
    paid >= 0 AND in_flight >= 0 AND paid + in_flight <= amount
    AND (status <> 'settled' OR paid = amount)
    AND (status <> 'batched' OR (in_flight > 0 AND paid + in_flight = amount))
    AND (status NOT IN ('pending', 'held', 'forfeited', 'reserved') OR paid + in_flight < amount));

ALTER TABLE payout_batch_rewards ADD COLUMN amount NUMERIC(78,0);
UPDATE payout_batch_rewards p SET amount = r.amount FROM rewards r
 WHERE r.asset_id = p.asset_id AND r.reward_no = p.reward_no;
ALTER TABLE payout_batch_rewards ALTER COLUMN amount SET NOT NULL;
ALTER TABLE payout_batch_rewards ADD CONSTRAINT payout_batch_rewards_amount_check CHECK (amount > 0);

-- What the user was owed (payable) when the batch was built, and which limit cut the entry below it.
ALTER TABLE payout_batch_items
    ADD COLUMN owed       NUMERIC(78,0),
    ADD COLUMN limited_by TEXT CHECK (limited_by IN ('per_entry_cap', 'batch_total', 'daily_outflow_cap'));
UPDATE payout_batch_items SET owed = amount;
ALTER TABLE payout_batch_items ALTER COLUMN owed SET NOT NULL;
ALTER TABLE payout_batch_items ADD CONSTRAINT payout_batch_items_owed_check
    CHECK (owed >= amount AND (limited_by IS NULL) = (owed = amount));

-- Users with payable rewards that a build did not take, and why: nothing is left out silently.
CREATE TABLE payout_batch_left_out (
    batch_id  BIGINT  NOT NULL REFERENCES payout_batches (id),
    asset_id  INTEGER NOT NULL,
    user_no   INTEGER NOT NULL,
    owed      NUMERIC(78,0) NOT NULL CHECK (owed > 0),
    reason    TEXT NOT NULL CHECK (reason IN ('max_entries', 'batch_total', 'daily_outflow_cap', 'recipient_not_allowed')),
    PRIMARY KEY (batch_id, user_no),
    FOREIGN KEY (asset_id, user_no) REFERENCES users (asset_id, user_no)
);

-- Payable rewards: anything with a rest, pending.
DROP INDEX IF EXISTS rewards_pending;
CREATE INDEX rewards_pending ON rewards (asset_id, beneficiary_no, reward_no) WHERE status = 'pending';
