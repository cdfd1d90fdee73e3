-- Each asset runs one reward plan, chosen when it is created (PLAN-GENERATION.md): the auto-pool plan of PLAN.md
-- or the generation plan. plan_versions.params holds that plan's parameters.
ALTER TABLE assets
    ADD COLUMN plan_kind TEXT NOT NULL DEFAULT 'auto_pool' CHECK (plan_kind IN ('auto_pool', 'generation')),
    -- The generation plan's next week to close (NULL before the asset's first event, and for the auto-pool plan).
    ADD COLUMN next_period BIGINT;

-- The generation plan's credits: GENERATION at a level of a purchase, RANK_BONUS of a week (period). A rank bonus
-- is caused by a week's close, not by an event: its row has no event_seq and names its week.
ALTER TABLE rewards DROP CONSTRAINT rewards_kind_check;
ALTER TABLE rewards ADD CONSTRAINT rewards_kind_check
    CHECK (kind IN ('DIRECT', 'POOL_L1', 'POOL_L2', 'POOL_L3', 'LEVEL', 'GENERATION', 'RANK_BONUS'));
ALTER TABLE rewards ADD COLUMN period BIGINT;
ALTER TABLE rewards ADD CONSTRAINT rewards_period_check CHECK ((period IS NOT NULL) = (kind = 'RANK_BONUS'));

-- What a purchase leaves to the company under the generation plan: the missing levels, the unqualified and capped
-- parts and the dust (PLAN-GENERATION.md §2.3).
ALTER TABLE company_credits DROP CONSTRAINT company_credits_reason_check;
ALTER TABLE company_credits ADD CONSTRAINT company_credits_reason_check
    CHECK (reason IN ('registration_rest', 'pool_rest', 'level_rest', 'forfeit', 'generation_rest'));

-- One closed week of a generation asset (§3): who was ranked (user, rank, main and other legs), Σ of the ranks'
-- bonuses B, the company's balance C before the close and Σ credited (the company's debit, taken off
-- assets.company_total). closing_block is the confirmed block whose time closed it, applied_events the ledger
-- position it was closed at (every event before it counted, none after).
CREATE TABLE period_closes (
    asset_id        INTEGER NOT NULL REFERENCES assets (id),
    period          BIGINT  NOT NULL,
    plan_version    INTEGER NOT NULL,
    period_end      BIGINT  NOT NULL,
    closing_block   BIGINT  NOT NULL,
    applied_events  BIGINT  NOT NULL,
    ranked          JSONB   NOT NULL,
    bonuses         NUMERIC(78,0) NOT NULL CHECK (bonuses >= 0),
    company_before  NUMERIC(78,0) NOT NULL CHECK (company_before >= 0),
    credited        NUMERIC(78,0) NOT NULL CHECK (credited >= 0 AND credited <= company_before),
    PRIMARY KEY (asset_id, period)
);
