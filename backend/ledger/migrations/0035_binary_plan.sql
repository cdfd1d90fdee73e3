-- The binary plan (PLAN-BINARY.md): a third plan kind, its credits and company rests, and its own rows.
ALTER TABLE assets DROP CONSTRAINT assets_plan_kind_check;
ALTER TABLE assets ADD CONSTRAINT assets_plan_kind_check CHECK (plan_kind IN ('auto_pool', 'generation', 'binary'));

-- BINARY_PAIR: a period's pair bonus, caused by the period's close (no event_seq; it names its period), credited
-- `reserved` (retention, §3.5) or pending/held. DIRECT is shared with the other plans.
ALTER TABLE rewards DROP CONSTRAINT rewards_kind_check;
ALTER TABLE rewards ADD CONSTRAINT rewards_kind_check
    CHECK (kind IN ('DIRECT', 'POOL_L1', 'POOL_L2', 'POOL_L3', 'LEVEL', 'GENERATION', 'RANK_BONUS', 'BINARY_PAIR'));
ALTER TABLE rewards DROP CONSTRAINT rewards_period_check;
ALTER TABLE rewards ADD CONSTRAINT rewards_period_check
    CHECK ((period IS NOT NULL) = (kind IN ('RANK_BONUS', 'BINARY_PAIR')));

-- What a binary purchase leaves to the company after the sponsor's DIRECT (§2.4).
ALTER TABLE company_credits DROP CONSTRAINT company_credits_reason_check;
ALTER TABLE company_credits ADD CONSTRAINT company_credits_reason_check
    CHECK (reason IN ('registration_rest', 'pool_rest', 'level_rest', 'forfeit', 'generation_rest', 'withdrawal_fee',
                      'binary_rest'));

-- One member of a binary asset's tree: where they were placed (fixed), and their figures as of the ledger's last
-- batch: their own volume (Σ pv of their purchases; their legs are sums of their subtree's), whether they are an
-- active buyer, the volume their pairs consumed on each side (carry = leg − consumed), the pairs
-- paid to them (k of §3.5) and Σ of their BINARY_PAIR credits still reserved. Genesis is the root: no parent.
CREATE TABLE binary_nodes (
    asset_id      INTEGER NOT NULL REFERENCES assets (id),
    user_no       INTEGER NOT NULL,
    parent_no     INTEGER,
    side          TEXT    CHECK (side IN ('left', 'right')),
    own_volume    NUMERIC(78,0) NOT NULL CHECK (own_volume >= 0),
    active        BOOLEAN NOT NULL,
    consumed      NUMERIC(78,0) NOT NULL CHECK (consumed >= 0),
    pairs_paid    BIGINT  NOT NULL CHECK (pairs_paid >= 0),
    reserved      NUMERIC(78,0) NOT NULL CHECK (reserved >= 0),
    PRIMARY KEY (asset_id, user_no),
    FOREIGN KEY (asset_id, user_no) REFERENCES users (asset_id, user_no) DEFERRABLE INITIALLY DEFERRED,
    CHECK ((parent_no IS NULL) = (side IS NULL) AND (parent_no IS NULL) = (user_no = 0))
);
-- Each slot holds one child.
CREATE UNIQUE INDEX binary_nodes_slot ON binary_nodes (asset_id, parent_no, side) WHERE parent_no IS NOT NULL;

-- Where a binary asset stands within its open period: its volume V so far and the last block the ledger saw before
-- the period's end (an event's or a confirmed head's: its version closes the period, §3).
CREATE TABLE binary_periods (
    asset_id    INTEGER PRIMARY KEY REFERENCES assets (id),
    volume      NUMERIC(78,0) NOT NULL CHECK (volume >= 0),
    last_block  BIGINT  NOT NULL
);

-- One closed period of a binary asset (§3's record): its bounds and version, V, C, the budget, B, Σ credited (the
-- company's debit) and Σ of it reserved; closing_block is the confirmed block whose time closed it,
-- applied_events the ledger position it closed at.
CREATE TABLE binary_closes (
    asset_id        INTEGER NOT NULL REFERENCES assets (id),
    period          BIGINT  NOT NULL,
    period_start    BIGINT  NOT NULL,
    period_end      BIGINT  NOT NULL CHECK (period_end > period_start),
    plan_version    INTEGER NOT NULL,
    closing_block   BIGINT  NOT NULL,
    applied_events  BIGINT  NOT NULL,
    volume          NUMERIC(78,0) NOT NULL CHECK (volume >= 0),
    company_before  NUMERIC(78,0) NOT NULL CHECK (company_before >= 0),
    budget          NUMERIC(78,0) NOT NULL CHECK (budget >= 0 AND budget <= company_before),
    bonuses         NUMERIC(78,0) NOT NULL CHECK (bonuses >= 0),
    credited        NUMERIC(78,0) NOT NULL CHECK (credited >= 0 AND credited <= budget),
    reserved        NUMERIC(78,0) NOT NULL CHECK (reserved >= 0 AND reserved <= credited),
    PRIMARY KEY (asset_id, period)
);

-- A close's line per member with a non-zero carry before it (genesis excluded), in registration order: carries
-- before and after, pairs formed (n), paid, flushed, pairs paid before (k), the exempt ones (full), the bonus before
-- and after scaling (bonus, b), r credited reserved and b − r credited with its status.
CREATE TABLE binary_pair_lines (
    asset_id            INTEGER NOT NULL,
    period              BIGINT  NOT NULL,
    user_no             INTEGER NOT NULL,
    carry_left_before   NUMERIC(78,0) NOT NULL CHECK (carry_left_before >= 0),
    carry_right_before  NUMERIC(78,0) NOT NULL CHECK (carry_right_before >= 0),
    carry_left_after    NUMERIC(78,0) NOT NULL CHECK (carry_left_after >= 0),
    carry_right_after   NUMERIC(78,0) NOT NULL CHECK (carry_right_after >= 0),
    pairs               NUMERIC(78,0) NOT NULL CHECK (pairs >= 0),
    paid                BIGINT  NOT NULL CHECK (paid >= 0),
    flushed             NUMERIC(78,0) NOT NULL CHECK (flushed >= 0 AND flushed + paid = pairs),
    pairs_before        BIGINT  NOT NULL CHECK (pairs_before >= 0),
    full_pairs          BIGINT  NOT NULL CHECK (full_pairs >= 0 AND full_pairs <= paid),
    bonus               NUMERIC(78,0) NOT NULL CHECK (bonus >= 0),
    scaled              NUMERIC(78,0) NOT NULL CHECK (scaled >= 0 AND scaled <= bonus),
    reserved            NUMERIC(78,0) NOT NULL CHECK (reserved >= 0),
    rest                NUMERIC(78,0) NOT NULL CHECK (rest >= 0 AND reserved + rest = scaled),
    rest_status         TEXT    NOT NULL CHECK (rest_status IN ('pending', 'held')),
    PRIMARY KEY (asset_id, period, user_no),
    FOREIGN KEY (asset_id, period) REFERENCES binary_closes (asset_id, period) DEFERRABLE INITIALLY DEFERRED
);

-- A release (§2.1): when a member became an active buyer, every reserved BINARY_PAIR row of theirs moved to
-- pending (held if frozen) in this one movement, recording their total, the purchase that caused it and its block.
CREATE TABLE binary_releases (
    asset_id    INTEGER NOT NULL REFERENCES assets (id),
    user_no     INTEGER NOT NULL,
    amount      NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'held')),
    event_seq   BIGINT  NOT NULL,
    block       BIGINT  NOT NULL,
    rewards     BIGINT[] NOT NULL,
    PRIMARY KEY (asset_id, user_no)
);

-- The binary plan's records are written once by the ledger (as 0025 does for the shared ones); a member's figures
-- change with every batch, so binary_nodes is guarded by its checks, not frozen.
CREATE TRIGGER binary_closes_written_once BEFORE UPDATE OR DELETE ON binary_closes
    FOR EACH ROW EXECUTE FUNCTION ledger_row_written_once();
CREATE TRIGGER binary_pair_lines_written_once BEFORE UPDATE OR DELETE ON binary_pair_lines
    FOR EACH ROW EXECUTE FUNCTION ledger_row_written_once();
CREATE TRIGGER binary_releases_written_once BEFORE UPDATE OR DELETE ON binary_releases
    FOR EACH ROW EXECUTE FUNCTION ledger_row_written_once();
