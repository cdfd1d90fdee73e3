-- The sales plan (PLAN-SALES.md): a fourth plan kind, sales and refunds paid through the Settlement's sales desk
-- (contracts/SALES.md), its credits and company rests, and its own rows.
ALTER TABLE assets DROP CONSTRAINT assets_plan_kind_check;
ALTER TABLE assets ADD CONSTRAINT assets_plan_kind_check
    CHECK (plan_kind IN ('auto_pool', 'generation', 'binary', 'sales'));

-- RETAIL: a seller's commission on a customer sale, caused by the sale (its event), `maturing` while the buyer may
-- take the sale back, then pending, held or forfeited; `reversed` when it was taken back. UNILEVEL: a close's
-- commission, caused by the close (no event_seq; it names its period).
ALTER TABLE rewards DROP CONSTRAINT rewards_kind_check;
ALTER TABLE rewards ADD CONSTRAINT rewards_kind_check
    CHECK (kind IN ('DIRECT', 'POOL_L1', 'POOL_L2', 'POOL_L3', 'LEVEL', 'GENERATION', 'RANK_BONUS', 'BINARY_PAIR',
                    'RETAIL', 'UNILEVEL'));
ALTER TABLE rewards DROP CONSTRAINT rewards_period_check;
ALTER TABLE rewards ADD CONSTRAINT rewards_period_check
    CHECK ((period IS NOT NULL) = (kind IN ('RANK_BONUS', 'BINARY_PAIR', 'UNILEVEL')));
ALTER TABLE rewards DROP CONSTRAINT rewards_status_check;
ALTER TABLE rewards ADD CONSTRAINT rewards_status_check
    CHECK (status IN ('reserved', 'held', 'pending', 'batched', 'settled', 'forfeited', 'maturing', 'reversed'));
-- Only a RETAIL row is ever maturing or reversed, and neither is ever paid (PLAN-SALES.md §8.4).
ALTER TABLE rewards ADD CONSTRAINT rewards_maturing_retail
    CHECK (status NOT IN ('maturing', 'reversed') OR (kind = 'RETAIL' AND paid = 0 AND in_flight = 0 AND exit_paid = 0));

-- A maturing row leaves `maturing` only by maturing (pending, held, or forfeited when its seller has left) or by its
-- sale being taken back (reversed); a reversed row never moves again; no row becomes maturing after it was created.
CREATE FUNCTION rewards_maturing_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND (
         OLD.status = 'reversed' OR NEW.status = 'maturing'
         OR (OLD.status = 'maturing' AND NEW.status NOT IN ('pending', 'held', 'forfeited', 'reversed'))) THEN
        RAISE EXCEPTION 'reward %/%: % → % is not a sale''s maturity or refund', OLD.asset_id, OLD.reward_no,
            OLD.status, NEW.status
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the ledger writes its own tables; see migration 0041_sales_plan';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER rewards_maturing_moves BEFORE UPDATE OF status ON rewards
    FOR EACH ROW EXECUTE FUNCTION rewards_maturing_moves();

-- What a sale leaves the company (a − r), and a registration's join fee under the sales plan.
ALTER TABLE company_credits DROP CONSTRAINT company_credits_reason_check;
ALTER TABLE company_credits ADD CONSTRAINT company_credits_reason_check
    CHECK (reason IN ('registration_rest', 'pool_rest', 'level_rest', 'forfeit', 'generation_rest', 'withdrawal_fee',
                      'binary_rest', 'exit_forfeit', 'exited_member', 'sale_rest', 'join_fee'));

-- A sale and a refund are plan events of the asset: numbered, with the seller as their user.
ALTER TABLE chain_events DROP CONSTRAINT chain_events_kind_check;
ALTER TABLE chain_events ADD CONSTRAINT chain_events_kind_check
    CHECK (kind IN ('registration', 'retopup', 'sale', 'refund'));

-- Σ of a member's RETAIL rows still maturing: a liability (in every total and the proof of solvency's sixth
-- component, SOLVENCY.md), never in a payout.
ALTER TABLE users ADD COLUMN maturing NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (maturing >= 0);

-- A quarantined sale its buyer took back inside its window (the desk's `Refunded` event): its suspense went back to
-- the buyer, with no signature from anyone.
ALTER TABLE quarantine
    ADD COLUMN taken_back_tx  BYTEA CHECK (taken_back_tx IS NULL OR length(taken_back_tx) = 32),
    ADD COLUMN taken_back_log BIGINT,
    ADD CONSTRAINT quarantine_taken_back CHECK (
        (taken_back_tx IS NULL) = (taken_back_log IS NULL) AND (taken_back_tx IS NULL OR resolved_at IS NOT NULL));

-- Every applied sale of a sales asset (§3 step 3's record), and where it stands: open until its window passes
-- (matured_block: the confirmed block whose time matured it), refunded by the event `refund_seq`. q is its share of
-- its period's commission reserve; retail_reward its RETAIL row (none when r = 0).
CREATE TABLE sales (
    asset_id          INTEGER NOT NULL REFERENCES assets (id),
    sale_id           NUMERIC(20,0) NOT NULL CHECK (sale_id >= 0),
    event_seq         BIGINT  NOT NULL,
    block             BIGINT  NOT NULL,
    sale_time         BIGINT  NOT NULL,
    period            BIGINT  NOT NULL,
    buyer             BYTEA   NOT NULL CHECK (length(buyer) = 20),
    seller_no         INTEGER NOT NULL,
    customer          BOOLEAN NOT NULL,
    amount            NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    pv                NUMERIC(20,0) NOT NULL CHECK (pv >= 0),
    retail            NUMERIC(78,0) NOT NULL CHECK (retail >= 0 AND retail <= amount),
    reserve           NUMERIC(78,0) NOT NULL CHECK (reserve >= 0),
    refundable_until  NUMERIC(20,0) NOT NULL CHECK (refundable_until > sale_time),
    state             TEXT    NOT NULL CHECK (state IN ('open', 'final', 'refunded')),
    retail_reward     BIGINT,
    matured_block     BIGINT,
    refund_seq        BIGINT,
    PRIMARY KEY (asset_id, sale_id),
    FOREIGN KEY (asset_id, seller_no) REFERENCES users (asset_id, user_no) DEFERRABLE INITIALLY DEFERRED,
    CHECK ((retail = 0) = (retail_reward IS NULL)),
    CHECK ((state = 'refunded') = (refund_seq IS NOT NULL)),
    CHECK ((state = 'final') = (matured_block IS NOT NULL))
);
CREATE INDEX sales_period ON sales (asset_id, period);
CREATE INDEX sales_seller ON sales (asset_id, seller_no, period);
CREATE INDEX sales_buyer ON sales (asset_id, buyer);

-- A customer's attributed member (§1): set by its first applied customer sale, removed when it registers.
CREATE TABLE sales_customers (
    asset_id   INTEGER NOT NULL REFERENCES assets (id),
    address    BYTEA   NOT NULL CHECK (length(address) = 20),
    member_no  INTEGER NOT NULL,
    PRIMARY KEY (asset_id, address)
);
CREATE INDEX sales_customers_member ON sales_customers (asset_id, member_no);

-- Where a sales asset stands between events: the latest block time the ledger saw, and the last block seen in each
-- period not closed yet (its version closes the period, §5). Both depend on the heads the listener saw.
CREATE TABLE sales_state (
    asset_id   INTEGER PRIMARY KEY REFERENCES assets (id),
    last_time  BIGINT  NOT NULL CHECK (last_time >= 0)
);
CREATE TABLE sales_periods (
    asset_id    INTEGER NOT NULL REFERENCES assets (id),
    period      BIGINT  NOT NULL,
    last_block  BIGINT  NOT NULL,
    PRIMARY KEY (asset_id, period)
);

-- One closed period (§5's record): its bounds, E_p (due) and version, S_p, Q_p (budget), C before the close, U
-- (earned, before scaling) and Σ credited (the company's debit); closing_block is the confirmed block whose time
-- closed it, applied_events the ledger position it closed at.
CREATE TABLE sales_closes (
    asset_id        INTEGER NOT NULL REFERENCES assets (id),
    period          BIGINT  NOT NULL,
    period_start    BIGINT  NOT NULL,
    period_end      BIGINT  NOT NULL CHECK (period_end > period_start),
    due             BIGINT  NOT NULL CHECK (due >= period_end),
    plan_version    INTEGER NOT NULL,
    closing_block   BIGINT  NOT NULL,
    applied_events  BIGINT  NOT NULL,
    sales           NUMERIC(78,0) NOT NULL CHECK (sales >= 0),
    budget          NUMERIC(78,0) NOT NULL CHECK (budget >= 0),
    company_before  NUMERIC(78,0) NOT NULL CHECK (company_before >= 0),
    earned          NUMERIC(78,0) NOT NULL CHECK (earned >= 0),
    credited        NUMERIC(78,0) NOT NULL CHECK (credited >= 0 AND credited <= budget),
    PRIMARY KEY (asset_id, period)
);
-- A member's line of a close: PV, CV, GV, the rank held (its index in the version's ranks), u before and after
-- scaling (credited: 0 for a member who has left).
CREATE TABLE sales_close_lines (
    asset_id   INTEGER NOT NULL,
    period     BIGINT  NOT NULL,
    user_no    INTEGER NOT NULL,
    pv         NUMERIC(40,0) NOT NULL CHECK (pv >= 0),
    cv         NUMERIC(40,0) NOT NULL CHECK (cv >= 0 AND cv <= pv),
    gv         NUMERIC(40,0) NOT NULL CHECK (gv >= pv),
    rank       INTEGER CHECK (rank >= 0),
    earned     NUMERIC(78,0) NOT NULL CHECK (earned >= 0),
    credited   NUMERIC(78,0) NOT NULL CHECK (credited >= 0 AND credited <= earned),
    PRIMARY KEY (asset_id, period, user_no),
    FOREIGN KEY (asset_id, period) REFERENCES sales_closes (asset_id, period)
);

-- Written once, like the other records of what happened.
CREATE TRIGGER sales_closes_written_once BEFORE UPDATE OR DELETE ON sales_closes
    FOR EACH ROW EXECUTE FUNCTION ledger_row_written_once();
CREATE TRIGGER sales_close_lines_written_once BEFORE UPDATE OR DELETE ON sales_close_lines
    FOR EACH ROW EXECUTE FUNCTION ledger_row_written_once();

-- The sales plan's join fee is 0 by default (§0): a registration may pay nothing.
ALTER TABLE chain_events DROP CONSTRAINT chain_events_amount_check;
ALTER TABLE chain_events ADD CONSTRAINT chain_events_amount_check CHECK (amount >= 0);

-- A RETAIL row credited `maturing` is no reward a member may count on yet: it is told when its sale is final (the
-- sales plan's own notifications), not as a reward credited.
CREATE OR REPLACE FUNCTION notify_rewards() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications (id, kind, asset_id, user_no, data)
    SELECT 'reward.credited:' || r.asset_id || ':' || r.beneficiary_no || ':' || min(r.reward_no),
           'reward.credited', r.asset_id, r.beneficiary_no,
           jsonb_build_object('amount', sum(r.amount)::text, 'rewards', count(*),
                              'reserved', coalesce(sum(r.amount) FILTER (WHERE r.status = 'reserved'), 0)::text,
                              'held', coalesce(sum(r.amount) FILTER (WHERE r.status = 'held'), 0)::text,
                              'kinds', to_jsonb(array_agg(DISTINCT r.kind ORDER BY r.kind)),
                              'first_reward_no', min(r.reward_no), 'last_reward_no', max(r.reward_no),
                              'first_event_seq', min(r.event_seq), 'last_event_seq', max(r.event_seq))
      FROM new_rewards r
     WHERE r.period IS NULL AND r.status <> 'maturing'
     GROUP BY r.asset_id, r.beneficiary_no
    ON CONFLICT (id) DO NOTHING;

    INSERT INTO notifications (id, kind, asset_id, user_no, data)
    SELECT 'period.bonus:' || r.asset_id || ':' || r.period || ':' || r.kind || ':' || r.beneficiary_no,
           'period.bonus', r.asset_id, r.beneficiary_no,
           jsonb_build_object('period', r.period, 'bonus', r.kind, 'amount', sum(r.amount)::text,
                              'reserved', coalesce(sum(r.amount) FILTER (WHERE r.status = 'reserved'), 0)::text,
                              'held', coalesce(sum(r.amount) FILTER (WHERE r.status = 'held'), 0)::text)
      FROM new_rewards r
     WHERE r.period IS NOT NULL
     GROUP BY r.asset_id, r.period, r.kind, r.beneficiary_no
    ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END $$;

