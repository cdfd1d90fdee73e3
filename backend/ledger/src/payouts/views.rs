//! Reads of payout batches as the admin sees them: a page of batches with their counts, and one batch with its
//! entries and the users it left out.

use alloy::primitives::{Address, U256};
use sqlx::PgPool;

use crate::money::Money;

/// A payout batch with its asset's unit, its last transaction and its counts.
#[derive(Debug, Clone)]
pub struct BatchSummary {
    /// The batch.
    pub id: i64,
    /// Its asset.
    pub asset_id: i32,
    /// The asset's chain.
    pub chain_id: i64,
    /// Its status.
    pub status: String,
    /// Sum of its entries.
    pub total: Money,
    /// Its contract nonce, once signing was prepared.
    pub nonce: Option<Money>,
    /// Its signature's deadline (unix seconds).
    pub deadline: Option<i64>,
    /// Hash of its payout list, as signed.
    pub payouts_hash: Option<Vec<u8>>,
    /// The signer's signature.
    pub signature: Option<Vec<u8>>,
    /// Its transaction as last sent (once executed, the one that paid).
    pub tx_hash: Option<Vec<u8>>,
    /// Block of its confirmed execution.
    pub executed_block: Option<i64>,
    /// When it was built (RFC 3339, UTC).
    pub created_at: String,
    /// The asset's ticker.
    pub symbol: String,
    /// Decimals of the asset's smallest unit.
    pub decimals: i16,
    /// Entries in it.
    pub entry_count: i64,
    /// Entries paid only in part (capped).
    pub partial_count: i64,
    /// Users left out of it.
    pub left_out_count: i64,
    /// The contract it is signed for (fixed with its nonce); `None` before, or when fixed before contracts were
    /// recorded (the chain's oldest contract).
    pub contract: Option<Vec<u8>>,
}

/// `query_as!` of [`BatchSummary`]: the batch columns with the asset and the last transaction, then `$tail` (the
/// filter, a literal) with its arguments.
macro_rules! query_batches {
    ($tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            BatchSummary,
            r#"SELECT b.id, b.asset_id, a.chain_id, b.status, b.total AS "total: Money", b.chain_nonce AS "nonce: Money",
                b.deadline, b.payouts_hash, b.signature, t.tx_hash AS "tx_hash?", b.executed_block,
                rfc3339(b.created_at) AS "created_at!", a.symbol, a.decimals,
                (SELECT count(*) FROM payout_batch_items i WHERE i.batch_id = b.id) AS "entry_count!",
                (SELECT count(*) FROM payout_batch_items i WHERE i.batch_id = b.id AND i.limited_by IS NOT NULL)
                    AS "partial_count!",
                (SELECT count(*) FROM payout_batch_left_out l WHERE l.batch_id = b.id) AS "left_out_count!",
                b.contract
             FROM payout_batches b JOIN assets a ON a.id = b.asset_id
             LEFT JOIN transactions t ON t.id = b.transaction_id "#
                + $tail
            $(, $arg)*
        )
    };
}

/// Up to `limit` batches with an id below `before`, newest first, optionally of one asset and status.
pub async fn batches(
    db: &PgPool,
    asset_id: Option<i32>,
    status: Option<&str>,
    before: i64,
    limit: i64,
) -> Result<Vec<BatchSummary>, sqlx::Error> {
    query_batches!(
        "WHERE ($1::int4 IS NULL OR b.asset_id = $1) AND ($2::text IS NULL OR b.status = $2)
           AND b.id < $3 ORDER BY b.id DESC LIMIT $4",
        asset_id,
        status,
        before,
        limit
    )
    .fetch_all(db)
    .await
}

/// An entry of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    /// Its position in the signed payout list.
    pub position: i32,
    /// The recipient's wallet (20 bytes).
    pub address: Vec<u8>,
    /// What it pays.
    pub amount: Money,
    /// The withdrawal fee the company keeps from it (PLAN-GENERATION.md §4; 0 on a plan without one): the entry
    /// settles `amount` + `fee` of what the user was owed.
    pub fee: Money,
    /// What the user was owed when the batch was built.
    pub owed: Money,
    /// The cap that limited it, when it pays less than owed.
    pub limited_by: Option<String>,
    /// Once executed: `paid` or `claimable`.
    pub outcome: Option<String>,
}

/// Users left out of a batch for one reason: how many, and what they were owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOutSum {
    /// Why.
    pub reason: String,
    /// How many users.
    pub users: i64,
    /// What they were owed in all.
    pub owed: Money,
}

/// A user left out of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOutUser {
    /// The user's wallet (20 bytes).
    pub address: Vec<u8>,
    /// What the user was owed.
    pub owed: Money,
    /// Why it was left out.
    pub reason: String,
}

/// One batch in full.
#[derive(Debug, Clone)]
pub struct BatchDetail {
    /// The batch and its counts.
    pub summary: BatchSummary,
    /// Its entries, by position.
    pub items: Vec<BatchItem>,
    /// Users left out, per reason (every one of them).
    pub left_out_by_reason: Vec<LeftOutSum>,
    /// The first `shown` users left out, by user number.
    pub left_out: Vec<LeftOutUser>,
}

/// Batch `id` with its entries, its left-out users per reason and the first `shown` of them; none when it does not
/// exist.
pub async fn batch(db: &PgPool, id: i64, shown: i64) -> Result<Option<BatchDetail>, sqlx::Error> {
    let summary = query_batches!("WHERE b.id = $1", id).fetch_optional(db).await?;
    let Some(summary) = summary else { return Ok(None) };
    let items = sqlx::query_as!(
        BatchItem,
        r#"SELECT i.position, u.address, i.amount AS "amount: Money", i.fee AS "fee: Money", i.owed AS "owed: Money", i.limited_by, i.outcome
         FROM payout_batch_items i
         JOIN users u ON u.asset_id = i.asset_id AND u.user_no = i.user_no
         WHERE i.batch_id = $1 ORDER BY i.position"#,
        id
    )
    .fetch_all(db)
    .await?;
    let left_out_by_reason = sqlx::query_as!(
        LeftOutSum,
        r#"SELECT reason, count(*) AS "users!", sum(owed) AS "owed!: Money" FROM payout_batch_left_out
         WHERE batch_id = $1 GROUP BY reason ORDER BY reason"#,
        id
    )
    .fetch_all(db)
    .await?;
    let left_out = sqlx::query_as!(
        LeftOutUser,
        r#"SELECT u.address, l.owed AS "owed: Money", l.reason FROM payout_batch_left_out l
         JOIN users u ON u.asset_id = l.asset_id AND u.user_no = l.user_no
         WHERE l.batch_id = $1 ORDER BY l.user_no LIMIT $2"#,
        id,
        shown
    )
    .fetch_all(db)
    .await?;
    Ok(Some(BatchDetail { summary, items, left_out_by_reason, left_out }))
}

/// Which pending rewards [`pending`] sums.
#[derive(Debug, Clone, Copy, Default)]
pub struct PendingFilter {
    /// Only this wallet's.
    pub user: Option<Address>,
    /// Only users owed at least this much.
    pub min_amount: U256,
    /// Only users with (true) or without (false) an open withdraw request.
    pub requested: Option<bool>,
}

/// A user's pending (payable) rewards, summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUser {
    /// The user's number.
    pub user_no: i32,
    /// The user's wallet (20 bytes).
    pub address: Vec<u8>,
    /// What is payable: each reward's amount less what was paid or is in flight.
    pub amount: Money,
    /// How many rewards.
    pub rewards: i64,
    /// The user's open withdraw request.
    pub withdraw_request: Option<i64>,
}

/// Totals over every user the filter keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTotals {
    /// Users.
    pub users: i64,
    /// Rewards.
    pub rewards: i64,
    /// Payable sum.
    pub amount: Money,
}

/// `query!` over the CTE `per_user` (each user's pending rewards, as the filter `$1`–`$4` keeps them), then `$tail`
/// (a literal) with its arguments after the filter's.
macro_rules! query_pending {
    ($tail:literal, $asset:expr, $filter:expr $(, $arg:expr)* $(,)?) => {
        sqlx::query!(
            "WITH per_user AS (
            SELECT r.beneficiary_no AS user_no, sum(r.amount - r.paid - r.in_flight) AS amount, count(*) AS rewards
            FROM rewards r
            WHERE r.asset_id = $1 AND r.status = 'pending'
              AND ($2::bytea IS NULL OR r.beneficiary_no = (SELECT user_no FROM users WHERE asset_id = $1 AND address = $2))
              AND ($4::bool IS NULL OR $4 = EXISTS (SELECT 1 FROM withdraw_requests w
                    WHERE w.asset_id = $1 AND w.user_no = r.beneficiary_no AND w.status = 'open'))
            GROUP BY r.beneficiary_no HAVING sum(r.amount - r.paid - r.in_flight) >= $3::numeric) "
                + $tail,
            $asset,
            $filter.user.as_ref().map(|u| u.as_slice()),
            Money::from($filter.min_amount) as _,
            $filter.requested
            $(, $arg)*
        )
    };
}

/// Up to `limit` users with pending rewards of `asset_id` after user number `after`, by user number, and the
/// totals over all of them.
pub async fn pending(
    db: &PgPool,
    asset_id: i32,
    filter: PendingFilter,
    after: i32,
    limit: i64,
) -> Result<(Vec<PendingUser>, PendingTotals), sqlx::Error> {
    let rows = query_pending!(
        r#"SELECT p.user_no AS "user_no!", u.address, p.amount AS "amount!: Money", p.rewards AS "rewards!",
                (SELECT w.id FROM withdraw_requests w WHERE w.asset_id = $1 AND w.user_no = p.user_no
                   AND w.status = 'open') AS withdraw_request
         FROM per_user p JOIN users u ON u.asset_id = $1 AND u.user_no = p.user_no
         WHERE p.user_no > $5 ORDER BY p.user_no LIMIT $6"#,
        asset_id,
        filter,
        after,
        limit
    )
    .fetch_all(db)
    .await?;
    let totals = query_pending!(
        r#"SELECT count(*) AS "users!", COALESCE(sum(rewards), 0)::int8 AS "rewards!",
                COALESCE(sum(amount), 0) AS "amount!: Money"
         FROM per_user"#,
        asset_id,
        filter
    )
    .fetch_one(db)
    .await?;
    let rows = rows.into_iter().map(|r| PendingUser {
        user_no: r.user_no,
        address: r.address,
        amount: r.amount,
        rewards: r.rewards,
        withdraw_request: r.withdraw_request,
    });
    Ok((rows.collect(), PendingTotals { users: totals.users, rewards: totals.rewards, amount: totals.amount }))
}
