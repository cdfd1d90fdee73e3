//! Reads of the generation plan (PLAN-GENERATION.md) for the API: each generation asset's newest parameters, a
//! user's standing (paid in, cap, earned, room, directs, open levels, legs, rank, weekly bonuses), how many users
//! are at their cap, and the weeks closed. The figures are those of §1, computed from the ledger's tables the way
//! the engine computes them (each purchase's cap under its own plan version).

use alloy::primitives::Address;
use sqlx::PgPool;

use crate::money::Money;
use crate::plan::Amount;
use crate::plan::PlanKind;
use crate::plan::generation::{GenerationParams, LEVELS};

/// A generation asset with its newest plan version.
pub type GenerationPlan = crate::assets::NewestPlan<GenerationParams>;

/// Every generation asset with its newest plan version, by asset id.
pub async fn plans(pool: &PgPool) -> Result<Vec<GenerationPlan>, sqlx::Error> {
    crate::assets::newest_plans(pool, PlanKind::Generation).await
}

/// The newest parameters of generation asset `asset_id`, if it is one.
pub async fn params(pool: &PgPool, asset_id: i32) -> Result<Option<GenerationParams>, sqlx::Error> {
    crate::assets::newest_params(pool, asset_id, PlanKind::Generation).await
}

/// Users of `asset_id` other than genesis who have earned their whole cap (room 0).
pub async fn users_at_cap(pool: &PgPool, asset_id: i32) -> Result<u64, sqlx::Error> {
    let n = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM
             (SELECT e.user_no, sum(div(e.amount * (v.params ->> 'cap_bps')::numeric, 10000)) AS cap
              FROM chain_events e JOIN plan_versions v ON v.asset_id = e.asset_id AND v.version = e.plan_version
              WHERE e.asset_id = $1 AND e.user_no <> 0 GROUP BY e.user_no) c
           JOIN (SELECT beneficiary_no, sum(amount) AS earned FROM rewards
                 WHERE asset_id = $1 AND kind IN ('GENERATION', 'RANK_BONUS') GROUP BY beneficiary_no) r
             ON r.beneficiary_no = c.user_no
           WHERE r.earned >= c.cap"#,
        asset_id
    )
    .fetch_one(pool)
    .await?;
    Ok(n as u64)
}

/// One week's rank bonus credited to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyBonus {
    /// The week.
    pub week: i64,
    /// The rank it paid (1 for the first).
    pub rank: i32,
    /// What was credited (after scaling and the cap).
    pub amount: Amount,
    /// The reward's status.
    pub status: String,
}

/// One direct referral's leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    /// The direct referral.
    pub direct: Address,
    /// Their paid_in and everyone's below them.
    pub volume: Amount,
}

/// A user's standing under the generation plan (§1), from the ledger's tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The user's number in the asset (0 is genesis).
    pub user_no: i32,
    /// Σ of the registration and purchases.
    pub paid_in: Amount,
    /// Σ over purchases of P × cap_bps / 10000, each under its version; `None` for genesis (no cap).
    pub cap: Option<Amount>,
    /// Σ of every credit under the plan, forfeited ones included.
    pub earned: Amount,
    /// Direct referrals.
    pub directs: u64,
    /// The levels open to the user under the newest version (their directs meet the level's requirement).
    pub open_levels: Vec<u32>,
    /// Every direct's leg, largest first.
    pub legs: Vec<Leg>,
    /// The largest leg.
    pub main: Amount,
    /// The other legs together.
    pub other: Amount,
    /// The rank held now under the newest version (1 for the first), if any.
    pub rank: Option<u32>,
    /// The newest weekly bonuses, newest first (at most 52).
    pub bonuses: Vec<WeeklyBonus>,
}

impl Standing {
    /// cap − earned; `None` for genesis.
    pub fn room(&self) -> Option<Amount> {
        self.cap.map(|c| c.saturating_sub(self.earned))
    }
}

/// The standing of `wallet` in generation asset `asset_id` under `params` (its newest version); `None` when the
/// wallet is not a user of it.
pub async fn standing(
    pool: &PgPool,
    asset_id: i32,
    params: &GenerationParams,
    wallet: Address,
) -> Result<Option<Standing>, sqlx::Error> {
    let Some(user) = sqlx::query!(
        r#"SELECT u.user_no, u.direct_count, u.paid_in AS "paid_in: Money"
         FROM users u
         WHERE u.asset_id = $1 AND u.address = $2"#,
        asset_id,
        wallet.as_slice()
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let figures = sqlx::query!(
        r#"SELECT
             (SELECT COALESCE(sum(div(e.amount * (v.params ->> 'cap_bps')::numeric, 10000)), 0)
              FROM chain_events e JOIN plan_versions v ON v.asset_id = e.asset_id AND v.version = e.plan_version
              WHERE e.asset_id = $1 AND e.user_no = $2) AS "cap!: Money",
             (SELECT COALESCE(sum(amount), 0) FROM rewards
              WHERE asset_id = $1 AND beneficiary_no = $2 AND kind IN ('GENERATION', 'RANK_BONUS')) AS "earned!: Money""#,
        asset_id,
        user.user_no
    )
    .fetch_one(pool)
    .await?;
    // Each direct's subtree, summed: the legs.
    let legs = sqlx::query!(
        r#"WITH RECURSIVE below (root, user_no) AS (
             SELECT user_no, user_no FROM users WHERE asset_id = $1 AND sponsor_no = $2
             UNION ALL
             SELECT b.root, c.user_no FROM below b JOIN users c ON c.asset_id = $1 AND c.sponsor_no = b.user_no)
           SELECT u.address, COALESCE(sum(bal.paid_in), 0) AS "volume!: Money"
           FROM below JOIN users u ON u.asset_id = $1 AND u.user_no = below.root
           JOIN users bal ON bal.asset_id = $1 AND bal.user_no = below.user_no
           GROUP BY below.root, u.address ORDER BY 2 DESC, below.root"#,
        asset_id,
        user.user_no
    )
    .fetch_all(pool)
    .await?;
    let bonuses = sqlx::query!(
        r#"SELECT period AS "period!", level, amount AS "amount: Money", status FROM rewards
         WHERE asset_id = $1 AND beneficiary_no = $2 AND kind = 'RANK_BONUS'
         ORDER BY period DESC LIMIT 52"#,
        asset_id,
        user.user_no
    )
    .fetch_all(pool)
    .await?;
    let mut leg_list = Vec::with_capacity(legs.len());
    for l in legs {
        leg_list.push(Leg { direct: Address::from_slice(&l.address), volume: l.volume.to_amount()? });
    }
    let main = leg_list.first().map_or(0, |l| l.volume);
    let other = leg_list.iter().map(|l| l.volume).sum::<Amount>() - main;
    let rank = if leg_list.is_empty() {
        None
    } else {
        params.ranks.iter().rposition(|r| main >= r.main && other >= r.other).map(|i| i as u32 + 1)
    };
    let directs = user.direct_count as u64;
    let open_levels =
        (1..=LEVELS as u32).filter(|l| directs >= u64::from(params.direct_req[*l as usize - 1])).collect();
    let mut weekly = Vec::with_capacity(bonuses.len());
    for b in bonuses {
        weekly.push(WeeklyBonus { week: b.period, rank: b.level, amount: b.amount.to_amount()?, status: b.status });
    }
    Ok(Some(Standing {
        user_no: user.user_no,
        paid_in: user.paid_in.to_amount()?,
        cap: (user.user_no != 0).then(|| figures.cap.to_amount()).transpose()?,
        earned: figures.earned.to_amount()?,
        directs,
        open_levels,
        legs: leg_list,
        main,
        other,
        rank,
        bonuses: weekly,
    }))
}

/// One closed week (a `period_closes` row).
#[derive(Debug, Clone, PartialEq)]
pub struct WeekClose {
    /// The week.
    pub week: i64,
    /// The plan version it closed under.
    pub plan_version: i32,
    /// The week's end, unix seconds.
    pub week_end: i64,
    /// The confirmed block whose time closed it.
    pub closing_block: i64,
    /// The ledger position it was closed at.
    pub applied_events: i64,
    /// The users ranked: `[{user, rank, main, other}]`, amounts as decimal strings.
    pub ranked: serde_json::Value,
    /// Σ of the ranks' bonuses before scaling (B).
    pub bonuses: Amount,
    /// The company's balance before the close (C).
    pub company_before: Amount,
    /// Σ credited: the company's debit.
    pub credited: Amount,
}

/// The weeks of `asset_id` closed before week `before` (all when `None`), newest first, at most `limit`.
pub async fn week_closes(
    pool: &PgPool,
    asset_id: i32,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<WeekClose>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT period, plan_version, period_end, closing_block, applied_events, ranked,
                  bonuses AS "bonuses: Money", company_before AS "company_before: Money", credited AS "credited: Money"
         FROM period_closes WHERE asset_id = $1 AND ($2::int8 IS NULL OR period < $2)
         ORDER BY period DESC LIMIT $3"#,
        asset_id,
        before,
        limit
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(WeekClose {
                week: r.period,
                plan_version: r.plan_version,
                week_end: r.period_end,
                closing_block: r.closing_block,
                applied_events: r.applied_events,
                ranked: r.ranked,
                bonuses: r.bonuses.to_amount()?,
                company_before: r.company_before.to_amount()?,
                credited: r.credited.to_amount()?,
            })
        })
        .collect()
}
