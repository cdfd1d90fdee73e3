//! Building a batch from payable rewards, within the admin's caps and the signer's policy for the asset: per-user
//! sums no larger than the per-entry cap (a user owed more is paid in parts across batches), a total within the
//! per-batch cap and the rolling daily outflow room, recipients the policy accepts. Two concurrent builds never
//! take the same reward part. Who was left out or paid in part, and why, is recorded with the batch.

use std::collections::BTreeMap;

use alloy::primitives::Address;
use sqlx::PgPool;

use super::{PayoutError, Tx, audit};
use crate::money::Money;
use crate::plan::Amount;

/// What one build may take: the admin's caps and the signer's policy for the asset, all in base units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildLimits {
    /// Most entries (users) in the batch.
    pub max_entries: usize,
    /// Most the batch may pay in total (the admin's cap and the signer's per-batch cap, whichever is lower).
    pub max_total: Amount,
    /// Most one entry may pay (the signer's per-entry cap); a user owed more is paid the rest in later batches.
    pub max_entry: Amount,
    /// Room left under the signer's rolling daily outflow cap (cap minus what it signed in the window), before
    /// batches built but not yet signed are counted; `None` when the policy has no such cap.
    pub daily_room: Option<Amount>,
    /// Recipients the signer's policy refuses (the contract itself): left out, never put in a batch.
    pub refused_recipients: Vec<Address>,
}

impl BuildLimits {
    /// Only the admin's caps: no per-entry cap, no daily cap, every recipient accepted.
    pub fn new(max_entries: usize, max_total: Amount) -> Self {
        BuildLimits { max_entries, max_total, max_entry: Amount::MAX, daily_room: None, refused_recipients: vec![] }
    }
}

/// The limit that cut an entry below what its user was owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartLimit {
    /// The signer's per-entry cap.
    PerEntryCap,
    /// The batch's total cap (admin or signer per-batch cap).
    BatchTotal,
    /// The signer's rolling daily outflow cap.
    DailyOutflowCap,
}

impl PartLimit {
    /// The name stored in `payout_batch_items.limited_by` and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            PartLimit::PerEntryCap => "per_entry_cap",
            PartLimit::BatchTotal => "batch_total",
            PartLimit::DailyOutflowCap => "daily_outflow_cap",
        }
    }
}

/// Why a user with payable rewards is not in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftOutReason {
    /// The batch already had its most entries.
    MaxEntries,
    /// The batch's total cap was used up.
    BatchTotal,
    /// The rolling daily outflow room was used up.
    DailyOutflowCap,
    /// The signer's policy refuses this recipient.
    RecipientNotAllowed,
    /// Everything the user is owed would go in the withdrawal fee (PLAN-GENERATION.md §4): nothing to pay yet.
    BelowFee,
}

impl LeftOutReason {
    /// The name stored in `payout_batch_left_out.reason` and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            LeftOutReason::MaxEntries => "max_entries",
            LeftOutReason::BatchTotal => "batch_total",
            LeftOutReason::DailyOutflowCap => "daily_outflow_cap",
            LeftOutReason::RecipientNotAllowed => "recipient_not_allowed",
            LeftOutReason::BelowFee => "below_fee",
        }
    }
}

/// A user the build did not take although they had payable rewards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The user's wallet.
    pub address: Address,
    /// Everything payable to them when the batch was built.
    pub owed: Amount,
    /// Why they are not in the batch.
    pub reason: LeftOutReason,
}

/// An entry paying less than its user was owed; the rest stays pending for a later batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialEntry {
    /// The user's wallet.
    pub address: Address,
    /// Everything payable to them when the batch was built.
    pub owed: Amount,
    /// What this batch pays them.
    pub amount: Amount,
    /// The limit that cut the entry.
    pub limited_by: PartLimit,
}

/// A batch just built: entries in the order they must be signed and paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltBatch {
    /// Ledger row id of the new batch; also the high bits of its contract nonce.
    pub id: i64,
    /// Asset whose pending rewards were taken.
    pub asset_id: i32,
    /// Chain of the asset's Settlement contract.
    pub chain_id: u64,
    /// The asset's token (zero address for the native coin).
    pub token: Address,
    /// One (recipient, amount) per user, lowest user number first: what the contract pays, the rewards the entry
    /// settles less its withdrawal fee; no amount above the per-entry cap.
    pub entries: Vec<(Address, Amount)>,
    /// Sum of the entries; within the build's caps.
    pub total: Amount,
    /// Σ of the entries' withdrawal fees (0 without a fee): credited to the company when the batch settles.
    pub fees: Amount,
    /// Entries paying less than their user was owed, and why.
    pub partial: Vec<PartialEntry>,
    /// Users with payable rewards not in the batch, and why.
    pub left_out: Vec<LeftOut>,
}

/// Why a build made no batch; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotBuilt {
    /// No reward is payable (or concurrent builds hold every payable one just now).
    NothingPayable {
        /// Users with payable rewards that no batch may take (refused recipients).
        left_out: Vec<LeftOut>,
    },
    /// The rolling daily outflow cap leaves no room: signed outflows and built, unsigned batches use it all.
    DailyOutflowCap {
        /// Total of this asset's batches built but not signed yet, counted against the room.
        unsigned_batches: Amount,
    },
}

/// Takes payable rewards of `asset_id` into a new batch, lowest user number first, within `limits` (see
/// [`BuildLimits`]). Concurrent builds never share a reward part, and building again after they commit takes
/// what they left.
pub async fn build_batch(
    pool: &PgPool,
    asset_id: i32,
    limits: &BuildLimits,
) -> Result<Result<BuiltBatch, NotBuilt>, PayoutError> {
    let mut tx = pool.begin().await?;
    let built = build_in(&mut tx, asset_id, limits).await?;
    tx.commit().await?;
    Ok(built)
}

/// As [`build_batch`], with an `audit_logs` row by `actor` in the same transaction (the admin API).
pub async fn build_batch_audited(
    pool: &PgPool,
    asset_id: i32,
    limits: &BuildLimits,
    actor: &str,
) -> Result<Result<BuiltBatch, NotBuilt>, PayoutError> {
    let mut tx = pool.begin().await?;
    let built = match build_in(&mut tx, asset_id, limits).await? {
        Ok(built) => built,
        not_built => return Ok(not_built),
    };
    let pending_after = sqlx::query_scalar!(
        r#"SELECT COALESCE(sum(pending), 0) AS "pending!: Money" FROM users WHERE asset_id = $1"#,
        asset_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let pending_before = pending_after.to_amount()? + built.total + built.fees;
    let before = serde_json::json!({ "pending_total": pending_before.to_string() });
    let after = serde_json::json!({
        "batch_id": built.id, "status": "building", "total": built.total.to_string(), "fees": built.fees.to_string(),
        "entries": built.entries.len(), "pending_total": pending_after.to_string(),
        "partial": built.partial.len(), "left_out": built.left_out.len(),
        "limits": {
            "max_entries": limits.max_entries, "max_total": limits.max_total.to_string(),
            "max_entry": limits.max_entry.to_string(), "daily_room": limits.daily_room.map(|r| r.to_string()),
        },
    });
    audit(&mut tx, actor, "payout_batch_build", asset_id, &format!("batch:{}", built.id), before, after).await?;
    tx.commit().await?;
    Ok(Ok(built))
}

/// One user's payable rewards, oldest first: (reward_no, rest).
struct Owed {
    address: Address,
    rewards: Vec<(i64, Amount)>,
    total: Amount,
}

/// The plan of one batch: entries, parts and who was left out, before anything is written.
#[derive(Default)]
struct Plan {
    users: Vec<i32>,
    /// What each entry settles (E): the parts taken from its rewards.
    amounts: Vec<Amount>,
    /// Each entry's withdrawal fee; the contract pays E − fee.
    fees: Vec<Amount>,
    owed: Vec<Amount>,
    limited_by: Vec<Option<PartLimit>>,
    parts: Vec<(i64, Amount)>,
    left_out: Vec<(i32, LeftOut)>,
    /// Σ settled (E); the caps are held against it, which bounds what the contract pays too.
    total: Amount,
}

/// ⌈amount × fee_bps / 10000⌉: the company's share of a payout entry (PLAN-GENERATION.md §4).
fn fee_of(amount: Amount, fee_bps: u32) -> Amount {
    (amount * Amount::from(fee_bps)).div_ceil(10_000)
}

/// Takes users in order: each gets min(owed, per-entry cap, room left), their rewards consumed oldest first, and
/// pays that less its fee of `fee_bps` (a user whose whole entry would be fee is left out).
fn plan(owed: BTreeMap<i32, Owed>, limits: &BuildLimits, daily_room: Option<Amount>, fee_bps: u32) -> Plan {
    let (total_cap, total_limit) = match daily_room {
        Some(room) if room < limits.max_total => (room, PartLimit::DailyOutflowCap),
        _ => (limits.max_total, PartLimit::BatchTotal),
    };
    let mut p = Plan::default();
    for (user_no, user) in owed {
        let left_out = |reason| (user_no, LeftOut { address: user.address, owed: user.total, reason });
        if limits.refused_recipients.contains(&user.address) {
            p.left_out.push(left_out(LeftOutReason::RecipientNotAllowed));
            continue;
        }
        if p.users.len() >= limits.max_entries {
            p.left_out.push(left_out(LeftOutReason::MaxEntries));
            continue;
        }
        let room = total_cap - p.total;
        if room == 0 {
            p.left_out.push(left_out(match total_limit {
                PartLimit::DailyOutflowCap => LeftOutReason::DailyOutflowCap,
                _ => LeftOutReason::BatchTotal,
            }));
            continue;
        }
        let (take, limited_by) = if user.total <= limits.max_entry.min(room) {
            (user.total, None)
        } else if limits.max_entry <= room {
            (limits.max_entry, Some(PartLimit::PerEntryCap))
        } else {
            (room, Some(total_limit))
        };
        let fee = fee_of(take, fee_bps);
        if fee >= take {
            p.left_out.push(left_out(LeftOutReason::BelowFee));
            continue;
        }
        let mut left = take;
        for (reward_no, rest) in &user.rewards {
            if left == 0 {
                break;
            }
            let part = left.min(*rest);
            p.parts.push((*reward_no, part));
            left -= part;
        }
        p.users.push(user_no);
        p.amounts.push(take);
        p.fees.push(fee);
        p.owed.push(user.total);
        p.limited_by.push(limited_by);
        p.total += take;
    }
    p
}

async fn build_in(
    tx: &mut Tx,
    asset_id: i32,
    limits: &BuildLimits,
) -> Result<Result<BuiltBatch, NotBuilt>, PayoutError> {
    // The asset row first, as the listener's transaction and a cancel take it: a build and an event applied at
    // the same time then queue instead of deadlocking on balance rows (concurrent builds queue too).
    let asset = sqlx::query!("SELECT chain_id, token FROM assets WHERE id = $1 FOR UPDATE", asset_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(PayoutError::UnknownAsset(asset_id))?;
    let (chain_id, token) = (asset.chain_id, asset.token);
    // The withdrawal fee of the plan version in force at the asset's last applied block: the generation and binary
    // plans publish one (PLAN-GENERATION.md §4, PLAN-BINARY.md §0); the auto-pool plan's versions have none (0).
    let fee_bps = sqlx::query_scalar!(
        r#"SELECT COALESCE((v.params ->> 'withdrawal_fee_bps')::int4, 0) AS "bps!" FROM plan_versions v
         JOIN assets a ON a.id = v.asset_id
         WHERE v.asset_id = $1 AND v.effective_from_block <= COALESCE(a.last_block, 0)
         ORDER BY v.version DESC LIMIT 1"#,
        asset_id
    )
    .fetch_optional(&mut **tx)
    .await?
    .unwrap_or(0);
    let fee_bps = u32::try_from(fee_bps).map_err(|_| PayoutError::Inconsistent(0, format!("fee {fee_bps} bps")))?;

    // The signer counts a batch against its daily cap only when it signs it: batches built and not signed yet
    // are counted here, under the asset lock, so that two builds cannot both spend the same room.
    let daily_room = match limits.daily_room {
        None => None,
        Some(room) => {
            let unsigned = sqlx::query_scalar!(
                r#"SELECT COALESCE(sum(total), 0) AS "unsigned!: Money" FROM payout_batches
                   WHERE asset_id = $1 AND status = 'building'"#,
                asset_id
            )
            .fetch_one(&mut **tx)
            .await?;
            let unsigned = unsigned.to_amount()?;
            if room <= unsigned {
                return Ok(Err(NotBuilt::DailyOutflowCap { unsigned_batches: unsigned }));
            }
            Some(room - unsigned)
        }
    };

    // SKIP LOCKED: a concurrent build takes other rewards, never these.
    let rows = sqlx::query!(
        r#"SELECT r.reward_no, r.beneficiary_no, r.amount - r.paid - r.in_flight AS "rest!: Money", u.address
         FROM rewards r JOIN users u ON u.asset_id = r.asset_id AND u.user_no = r.beneficiary_no
         WHERE r.asset_id = $1 AND r.status = 'pending'
         ORDER BY r.beneficiary_no, r.reward_no FOR UPDATE OF r SKIP LOCKED"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut owed: BTreeMap<i32, Owed> = BTreeMap::new();
    for row in &rows {
        let rest = row.rest.to_amount()?;
        let user = owed.entry(row.beneficiary_no).or_insert_with(|| Owed {
            address: Address::from_slice(&row.address),
            rewards: Vec::new(),
            total: 0,
        });
        user.rewards.push((row.reward_no, rest));
        user.total += rest;
    }
    let addresses: BTreeMap<i32, Address> = owed.iter().map(|(n, o)| (*n, o.address)).collect();
    let plan = plan(owed, limits, daily_room, fee_bps);
    let paid: Vec<Amount> = plan.amounts.iter().zip(&plan.fees).map(|(a, f)| a - f).collect();
    let paid_total: Amount = paid.iter().sum();
    let fees_total: Amount = plan.fees.iter().sum();
    if plan.users.is_empty() {
        return Ok(Err(NotBuilt::NothingPayable { left_out: plan.left_out.into_iter().map(|(_, l)| l).collect() }));
    }

    let id = sqlx::query_scalar!(
        "INSERT INTO payout_batches (asset_id, status, total) VALUES ($1, 'building', $2) RETURNING id",
        asset_id,
        Money::from(paid_total) as _
    )
    .fetch_one(&mut **tx)
    .await?;
    let positions: Vec<i32> = (0..plan.users.len() as i32).collect();
    let amounts: Vec<Money> = plan.amounts.iter().map(|a| Money::from(*a)).collect();
    let paid_money: Vec<Money> = paid.iter().map(|a| Money::from(*a)).collect();
    let fee_money: Vec<Money> = plan.fees.iter().map(|a| Money::from(*a)).collect();
    let owed_money: Vec<Money> = plan.owed.iter().map(|a| Money::from(*a)).collect();
    let limited: Vec<Option<&str>> = plan.limited_by.iter().map(|l| l.map(PartLimit::as_str)).collect();
    // The item's amount is what the contract pays; amount + fee is what it settles.
    sqlx::query!(
        "INSERT INTO payout_batch_items (batch_id, asset_id, user_no, amount, fee, position, owed, limited_by)
         SELECT $1, $2, u, a, f, p, o, l
         FROM unnest($3::int4[], $4::numeric[], $5::numeric[], $6::int4[], $7::numeric[], $8::text[])
           AS t(u, a, f, p, o, l)",
        id,
        asset_id,
        &plan.users,
        &paid_money as _,
        &fee_money as _,
        &positions,
        &owed_money as _,
        &limited as _
    )
    .execute(&mut **tx)
    .await?;
    let reward_nos: Vec<i64> = plan.parts.iter().map(|(n, _)| *n).collect();
    let parts: Vec<Money> = plan.parts.iter().map(|(_, a)| Money::from(*a)).collect();
    sqlx::query!(
        "INSERT INTO payout_batch_rewards (batch_id, asset_id, reward_no, amount)
         SELECT $1, $2, r, a FROM unnest($3::int8[], $4::numeric[]) AS t(r, a)",
        id,
        asset_id,
        &reward_nos,
        &parts as _
    )
    .execute(&mut **tx)
    .await?;
    // A reward whose rest is taken whole is batched; one taken in part stays pending with its smaller rest.
    sqlx::query!(
        "UPDATE rewards r SET in_flight = r.in_flight + t.a, batch_id = $1,
                status = CASE WHEN r.amount - r.paid - r.in_flight = t.a THEN 'batched' ELSE 'pending' END
         FROM unnest($3::int8[], $4::numeric[]) AS t(n, a) WHERE r.asset_id = $2 AND r.reward_no = t.n",
        id,
        asset_id,
        &reward_nos,
        &parts as _
    )
    .execute(&mut **tx)
    .await?;
    // The open withdraw requests of users paid in full are answered by this batch; users paid in part keep theirs.
    let paid_in_full: Vec<i32> =
        plan.users.iter().zip(&plan.limited_by).filter(|(_, l)| l.is_none()).map(|(u, _)| *u).collect();
    sqlx::query!(
        "UPDATE withdraw_requests SET status = 'batched', batch_id = $1, updated_at = now()
         WHERE asset_id = $2 AND user_no = ANY($3) AND status = 'open'",
        id,
        asset_id,
        &paid_in_full
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "SELECT 1 AS locked FROM users WHERE asset_id = $1 AND user_no = ANY($2) ORDER BY user_no FOR UPDATE",
        asset_id,
        &plan.users
    )
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query!(
        "UPDATE users b SET pending = b.pending - t.a, batched = b.batched + t.a
         FROM unnest($2::int4[], $3::numeric[]) AS t(u, a) WHERE b.asset_id = $1 AND b.user_no = t.u",
        asset_id,
        &plan.users,
        &amounts as _
    )
    .execute(&mut **tx)
    .await?;
    let left_users: Vec<i32> = plan.left_out.iter().map(|(n, _)| *n).collect();
    let left_owed: Vec<Money> = plan.left_out.iter().map(|(_, l)| Money::from(l.owed)).collect();
    let left_reasons: Vec<&str> = plan.left_out.iter().map(|(_, l)| l.reason.as_str()).collect();
    sqlx::query!(
        "INSERT INTO payout_batch_left_out (batch_id, asset_id, user_no, owed, reason)
         SELECT $1, $2, u, o, r FROM unnest($3::int4[], $4::numeric[], $5::text[]) AS t(u, o, r)",
        id,
        asset_id,
        &left_users,
        &left_owed as _,
        &left_reasons as _
    )
    .execute(&mut **tx)
    .await?;

    let entries: Vec<(Address, Amount)> = plan.users.iter().zip(&paid).map(|(u, a)| (addresses[u], *a)).collect();
    let partial = plan
        .users
        .iter()
        .zip(&plan.amounts)
        .zip(&plan.owed)
        .zip(&plan.limited_by)
        .filter_map(|(((u, a), o), l)| {
            l.map(|limited_by| PartialEntry { address: addresses[u], owed: *o, amount: *a, limited_by })
        })
        .collect();
    Ok(Ok(BuiltBatch {
        id,
        asset_id,
        chain_id: chain_id as u64,
        token: Address::from_slice(&token),
        entries,
        total: paid_total,
        fees: fees_total,
        partial,
        left_out: plan.left_out.into_iter().map(|(_, l)| l).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owed(users: &[(i32, &[Amount])]) -> BTreeMap<i32, Owed> {
        users
            .iter()
            .map(|(n, rewards)| {
                let rewards: Vec<(i64, Amount)> =
                    rewards.iter().enumerate().map(|(i, a)| (*n as i64 * 100 + i as i64, *a)).collect();
                let total = rewards.iter().map(|(_, a)| a).sum();
                (*n, Owed { address: Address::repeat_byte(*n as u8), rewards, total })
            })
            .collect()
    }

    #[test]
    fn a_user_owed_more_than_the_entry_cap_is_paid_the_cap_from_the_oldest_rewards() {
        let limits = BuildLimits { max_entry: 100, ..BuildLimits::new(10, Amount::MAX) };
        let p = plan(owed(&[(1, &[60, 90, 200]), (2, &[40])]), &limits, None, 0);
        assert_eq!(p.users, [1, 2]);
        assert_eq!(p.amounts, [100, 40]);
        assert_eq!(p.owed, [350, 40]);
        assert_eq!(p.limited_by, [Some(PartLimit::PerEntryCap), None]);
        assert_eq!(p.parts, [(100, 60), (101, 40), (200, 40)]);
        assert!(p.left_out.is_empty());
        // A single reward above the cap is cut the same way.
        let p = plan(owed(&[(3, &[350])]), &limits, None, 0);
        assert_eq!((p.amounts, p.parts), (vec![100], vec![(300, 100)]));
    }

    #[test]
    fn the_batch_total_and_the_daily_room_cut_the_last_entry_and_leave_the_rest_out_with_the_reason() {
        let limits = BuildLimits { max_entry: 100, ..BuildLimits::new(10, 150) };
        let p = plan(owed(&[(1, &[100]), (2, &[80]), (3, &[5])]), &limits, None, 0);
        assert_eq!(p.amounts, [100, 50]);
        assert_eq!(p.limited_by, [None, Some(PartLimit::BatchTotal)]);
        assert_eq!(p.left_out.len(), 1);
        assert_eq!((p.left_out[0].0, p.left_out[0].1.reason), (3, LeftOutReason::BatchTotal));
        let p = plan(owed(&[(1, &[100]), (2, &[80]), (3, &[5])]), &limits, Some(120), 0);
        assert_eq!(p.amounts, [100, 20]);
        assert_eq!(p.limited_by, [None, Some(PartLimit::DailyOutflowCap)]);
        assert_eq!(p.left_out[0].1.reason, LeftOutReason::DailyOutflowCap);
    }

    #[test]
    fn refused_recipients_and_users_past_the_entry_limit_are_left_out_with_what_they_are_owed() {
        let limits = BuildLimits { refused_recipients: vec![Address::repeat_byte(1)], ..BuildLimits::new(1, 1_000) };
        let p = plan(owed(&[(1, &[7]), (2, &[8]), (3, &[9, 1])]), &limits, None, 0);
        assert_eq!(p.users, [2]);
        let left: Vec<(i32, Amount, LeftOutReason)> = p.left_out.iter().map(|(n, l)| (*n, l.owed, l.reason)).collect();
        assert_eq!(left, [(1, 7, LeftOutReason::RecipientNotAllowed), (3, 10, LeftOutReason::MaxEntries)]);
    }

    #[test]
    fn each_entry_pays_what_it_settles_less_the_fee_rounded_up_and_an_entry_all_fee_waits() {
        let limits = BuildLimits::new(10, Amount::MAX);
        // 5 %: 100 settles 100 and pays 95; 21 → fee ⌈1.05⌉ = 2, pays 19; 1 → fee 1 = everything: left out.
        let p = plan(owed(&[(1, &[60, 40]), (2, &[21]), (3, &[1])]), &limits, None, 500);
        assert_eq!((p.users, p.amounts, p.fees), (vec![1, 2], vec![100, 21], vec![5, 2]));
        assert_eq!(p.parts, [(100, 60), (101, 40), (200, 21)], "the parts settle the whole entry, fee included");
        assert_eq!((p.left_out[0].0, p.left_out[0].1.reason), (3, LeftOutReason::BelowFee));
        assert_eq!(fee_of(0, 500), 0);
        assert_eq!(fee_of(19_999, 500), 1_000, "999.95 rounds up");
    }
}
