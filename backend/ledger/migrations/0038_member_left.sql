-- A member who took their due out through the contract (`MemberLeft`: leaving while a change of power is pending,
-- contracts/EXIT.md §12) is `exited` in that asset from the leave's block, for good (PLAN.md §5): what the leave paid
-- settles their reserved, held, pending and batched rewards oldest first, as far as it goes; what a pro-rata leave
-- did not pay, and any reward the leave's proof did not know yet, is forfeited to the company; every later credit
-- that would be theirs is the company's (`exited_member`). They stay placed everywhere.

ALTER TABLE users ADD COLUMN exited_block BIGINT CHECK (exited_block >= 0);

-- What a member's leave paid of each reward. Kept apart from `paid` (what payout batches paid, only ever by parts
-- leaving `in_flight`, migration 0025's guard) so that neither can stand for the other.
ALTER TABLE rewards ADD COLUMN exit_paid NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (exit_paid >= 0);
ALTER TABLE rewards DROP CONSTRAINT rewards_parts_check;
ALTER TABLE rewards ADD CONSTRAINT rewards_parts_check CHECK (
    paid >= 0 AND in_flight >= 0 AND paid + in_flight + exit_paid <= amount
    AND (exit_paid = 0 OR (in_flight = 0 AND status IN ('settled', 'forfeited')))
    AND (status <> 'settled' OR paid + exit_paid = amount)
    AND (status <> 'batched' OR (in_flight > 0 AND paid + in_flight = amount))
    AND (status NOT IN ('pending', 'held', 'forfeited', 'reserved') OR paid + in_flight + exit_paid < amount));

-- A leave's part of a reward is written once, by the leave.
CREATE FUNCTION rewards_exit_paid_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.exit_paid <> OLD.exit_paid AND (OLD.exit_paid <> 0 OR OLD.status NOT IN ('reserved', 'held', 'pending')) THEN
        RAISE EXCEPTION 'reward %/%: what a leave paid is written once, of a reward still owed', OLD.asset_id, OLD.reward_no
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the ledger writes its own tables; see migration 0038_member_left';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER rewards_exit_paid_once BEFORE UPDATE OF exit_paid ON rewards
    FOR EACH ROW EXECUTE FUNCTION rewards_exit_paid_once();

ALTER TABLE company_credits DROP CONSTRAINT company_credits_reason_check;
ALTER TABLE company_credits ADD CONSTRAINT company_credits_reason_check
    CHECK (reason IN ('registration_rest', 'pool_rest', 'level_rest', 'forfeit', 'generation_rest', 'withdrawal_fee',
                      'binary_rest', 'exit_forfeit', 'exited_member'));

-- An auto-pool reserve a leave paid out goes to 0 with a movement of its own (neither a reward nor a placement).
ALTER TABLE reserve_movements ADD COLUMN exited_block BIGINT;
ALTER TABLE reserve_movements DROP CONSTRAINT reserve_movements_check;
ALTER TABLE reserve_movements ADD CONSTRAINT reserve_movements_check CHECK (
    (delta > 0) = (reward_no IS NOT NULL)
    AND (delta < 0) = (placement_no IS NOT NULL OR exited_block IS NOT NULL)
    AND (placement_no IS NULL OR exited_block IS NULL));

-- One row per leave: what the chain paid, what the member was due by the proof, and how the ledger settled it.
CREATE TABLE member_exits (
    asset_id     INTEGER NOT NULL REFERENCES assets (id),
    user_no      INTEGER NOT NULL,
    contract     BYTEA   NOT NULL CHECK (length(contract) = 20),
    block_number BIGINT  NOT NULL,
    tx_hash      BYTEA   NOT NULL CHECK (length(tx_hash) = 32),
    log_index    BIGINT  NOT NULL,
    paid_to      BYTEA   NOT NULL CHECK (length(paid_to) = 20),
    -- What the contract paid, and the due it settled (the latest committed leaf less what batches since paid).
    amount       NUMERIC(78,0) NOT NULL CHECK (amount >= 0),
    due          NUMERIC(78,0) NOT NULL CHECK (due >= amount),
    -- What the member was owed in the ledger at the leave (reserved + held + pending + batched), what of it the
    -- leave settled (= amount), and what was forfeited to the company (owed − amount).
    owed         NUMERIC(78,0) NOT NULL CHECK (owed >= amount),
    forfeited    NUMERIC(78,0) NOT NULL CHECK (forfeited = owed - amount),
    -- Open payout batches that paid the member and could no longer execute (the contract refuses them), cancelled.
    cancelled_batches BIGINT[] NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (asset_id, user_no)
);
CREATE TRIGGER member_exits_written_once BEFORE UPDATE OR DELETE ON member_exits
    FOR EACH ROW EXECUTE FUNCTION ledger_row_written_once();

-- The member is told (issue 65): what the leave paid, to where, and what it settled.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
    'payment.applied', 'payment.expired', 'reward.credited', 'period.bonus', 'rank.reached', 'payout.sent', 'payout.paid',
    'payout.deferred', 'account.frozen', 'account.unfrozen', 'solvency.committed', 'exit.opened', 'member.left'));

CREATE FUNCTION notify_member_left() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications (id, kind, asset_id, user_no, address, data)
    SELECT 'member.left:' || NEW.asset_id || ':' || NEW.user_no, 'member.left', NEW.asset_id, NEW.user_no, u.address,
           jsonb_build_object('amount', NEW.amount::text, 'due', NEW.due::text, 'owed', NEW.owed::text,
                              'forfeited', NEW.forfeited::text, 'to', '0x' || encode(NEW.paid_to, 'hex'),
                              'contract', '0x' || encode(NEW.contract, 'hex'), 'chain_id', a.chain_id,
                              'block_number', NEW.block_number, 'tx_hash', '0x' || encode(NEW.tx_hash, 'hex'))
      FROM assets a JOIN users u ON u.asset_id = a.id AND u.user_no = NEW.user_no
     WHERE a.id = NEW.asset_id
    ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER member_exits_notify AFTER INSERT ON member_exits FOR EACH ROW EXECUTE FUNCTION notify_member_left();

-- The reconciler's figures name what members' leaves took out of custody (expected = inflows − payouts − claims −
-- treasury transfers − leaves).
ALTER TABLE reconciler_results ADD COLUMN leaves NUMERIC(78,0) NOT NULL DEFAULT 0;
