//! What a user can see of being paid: which payout batches carry each part of a reward and the transaction
//! that paid it, the user's withdraw requests with the batch that took each, and how often an asset's batches
//! have run. Read-only; the writes are in [`crate::payouts`] and the settlement handlers.

use sqlx::PgPool;

use crate::money::Money;
use crate::plan::Amount;

/// A query whose columns `$head` are followed by `executed_at`: the RFC 3339 (UTC) time of block
/// `b.executed_block` of the batch's chain, from the confirmed events the ledger keeps (every event of a block
/// carries the block's timestamp; the batch's own `PayoutBatchExecuted` is one of them), then `$tail` (from `FROM`,
/// with `b` the payout batch).
macro_rules! query_with_executed_at {
    ($head:literal, $tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query!(
            $head
                + r#"(SELECT to_char(to_timestamp(e.block_timestamp) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                      FROM chain_events e JOIN assets a ON a.id = b.asset_id
                      WHERE e.chain_id = a.chain_id AND e.block_number = b.executed_block LIMIT 1) AS executed_at "#
                + $tail
            $(, $arg)*
        )
    };
}

/// One part of a reward in a payout batch that was not cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardPart {
    /// The reward the part belongs to.
    pub reward_no: i64,
    /// The batch carrying it.
    pub batch_id: i64,
    /// Base units of the reward this part settles (gross: its fee included).
    pub amount: Money,
    /// This part's share of its entry's withdrawal fee ([`part_fee`]); 0 without a fee.
    pub fee: Amount,
    /// What this part pays the wallet: `amount` − `fee`.
    pub net: Amount,
    /// The batch's status: building, signed, submitted, executed or failed.
    pub batch_status: String,
    /// The batch's transaction as last sent (the one that executed it, once executed).
    pub tx_hash: Option<Vec<u8>>,
    /// Block of the confirmed `PayoutBatchExecuted` event.
    pub executed_block: Option<i64>,
    /// That block's time (RFC 3339, UTC).
    pub executed_at: Option<String>,
    /// `paid` (pushed to the wallet) or `claimable` (the push failed; the contract keeps it), once executed.
    pub outcome: Option<String>,
}

/// The parts of the given rewards of `asset_id` in batches that were not cancelled, oldest batch first.
pub async fn reward_parts(db: &PgPool, asset_id: i32, reward_nos: &[i64]) -> Result<Vec<RewardPart>, sqlx::Error> {
    if reward_nos.is_empty() {
        return Ok(Vec::new());
    }
    let rows = query_with_executed_at!(
        r#"SELECT p.reward_no, p.batch_id, p.amount AS "amount: Money", b.status, t.tx_hash AS "tx_hash?",
                  b.executed_block, i.outcome AS "outcome?",
                  i.amount + i.fee AS "entry_settles?: Money", i.fee AS "entry_fee?: Money",
                  (SELECT COALESCE(sum(q.amount), 0) FROM payout_batch_rewards q
                   JOIN rewards rq ON rq.asset_id = q.asset_id AND rq.reward_no = q.reward_no
                   WHERE q.batch_id = p.batch_id AND rq.beneficiary_no = r.beneficiary_no
                     AND q.reward_no < p.reward_no) AS "settled_before!: Money", "#,
        "FROM payout_batch_rewards p
         JOIN payout_batches b ON b.id = p.batch_id
         JOIN rewards r ON r.asset_id = p.asset_id AND r.reward_no = p.reward_no
         LEFT JOIN payout_batch_items i ON i.batch_id = p.batch_id AND i.user_no = r.beneficiary_no
         LEFT JOIN transactions t ON t.id = b.transaction_id
         WHERE p.asset_id = $1 AND p.reward_no = ANY($2) AND b.status <> 'cancelled'
         ORDER BY p.reward_no, p.batch_id",
        asset_id,
        reward_nos
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let part = r.amount.to_amount()?;
            let fee = match (r.entry_settles, r.entry_fee) {
                (Some(entry), Some(fee)) => {
                    part_fee(entry.to_amount()?, fee.to_amount()?, r.settled_before.to_amount()?, part)
                }
                _ => 0,
            };
            Ok(RewardPart {
                reward_no: r.reward_no,
                batch_id: r.batch_id,
                amount: r.amount,
                fee,
                net: part - fee,
                batch_status: r.status,
                tx_hash: r.tx_hash,
                executed_block: r.executed_block,
                executed_at: r.executed_at,
                outcome: r.outcome,
            })
        })
        .collect()
}

/// The share of an entry's withdrawal fee that one of its parts bears. An entry settles `entry` (E) of its user's
/// rewards, taken oldest reward first, and keeps `fee` (⌈E × withdrawal_fee_bps / 10000⌉, PLAN-GENERATION.md §4);
/// a part settling `part` after the entry's earlier parts settled `before` bears
/// ⌊(before + part) × fee / E⌋ − ⌊before × fee / E⌋. The shares telescope: over an entry's parts they sum to its
/// fee exactly, and none exceeds its part (fee < E), so each part's net (`part` − share) is never negative.
pub fn part_fee(entry: Amount, fee: Amount, before: Amount, part: Amount) -> Amount {
    if entry == 0 {
        return 0;
    }
    let share_through = |settled: Amount| {
        let scaled = alloy::primitives::U256::from(settled) * alloy::primitives::U256::from(fee)
            / alloy::primitives::U256::from(entry);
        u128::try_from(scaled).unwrap_or(Amount::MAX)
    };
    share_through(before + part).saturating_sub(share_through(before))
}

/// A withdraw request and the batch that took it, if one did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawRequestRow {
    /// The request's id.
    pub id: i64,
    /// The pending balance when it was made.
    pub amount: Money,
    /// `open`, `batched` or `cancelled`.
    pub status: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Who cancelled it (`member` or `operator`), with `cancelled`.
    pub cancelled_by: Option<String>,
    /// When it was cancelled (RFC 3339, UTC), with `cancelled`.
    pub cancelled_at: Option<String>,
    /// The batch that took the user's pending rewards for it.
    pub batch_id: Option<i64>,
    /// That batch's status.
    pub batch_status: Option<String>,
    /// That batch's transaction as last sent.
    pub tx_hash: Option<Vec<u8>>,
    /// Block of that batch's confirmed execution.
    pub executed_block: Option<i64>,
    /// That block's time (RFC 3339, UTC).
    pub executed_at: Option<String>,
}

/// User `user_no`'s withdraw requests in `asset_id`, newest first, with ids below `before`; at most `limit`.
pub async fn withdraw_requests(
    db: &PgPool,
    asset_id: i32,
    user_no: i32,
    before: i64,
    limit: i64,
) -> Result<Vec<WithdrawRequestRow>, sqlx::Error> {
    let rows = query_with_executed_at!(
        r#"SELECT w.id, w.amount AS "amount: Money", w.status, rfc3339(w.created_at) AS "created_at!",
                  w.cancelled_by, CASE WHEN w.status = 'cancelled' THEN rfc3339(w.updated_at) END AS cancelled_at,
                  w.batch_id, b.status AS "batch_status?", t.tx_hash AS "tx_hash?",
                  b.executed_block AS "executed_block?", "#,
        "FROM withdraw_requests w
         LEFT JOIN payout_batches b ON b.id = w.batch_id
         LEFT JOIN transactions t ON t.id = b.transaction_id
         WHERE w.asset_id = $1 AND w.user_no = $2 AND w.id < $3
         ORDER BY w.id DESC LIMIT $4",
        asset_id,
        user_no,
        before,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| WithdrawRequestRow {
            id: r.id,
            amount: r.amount,
            status: r.status,
            created_at: r.created_at,
            cancelled_by: r.cancelled_by,
            cancelled_at: r.cancelled_at,
            batch_id: r.batch_id,
            batch_status: r.batch_status,
            tx_hash: r.tx_hash,
            executed_block: r.executed_block,
            executed_at: r.executed_at,
        })
        .collect())
}

/// How an asset's payout batches have run: what a user waiting to be paid can go by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutCadence {
    /// Batches executed whose build was in the last 30 days.
    pub executed_last_30_days: i64,
    /// The newest executed batch.
    pub last_executed: Option<ExecutedBatch>,
    /// Batches built but not executed or cancelled yet (building, signed, submitted or failed).
    pub in_progress: i64,
}

/// An executed payout batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutedBatch {
    /// The batch's id.
    pub id: i64,
    /// When it was built (RFC 3339, UTC).
    pub built_at: String,
    /// Block of the confirmed `PayoutBatchExecuted` event.
    pub executed_block: Option<i64>,
    /// That block's time (RFC 3339, UTC).
    pub executed_at: Option<String>,
    /// Its transaction as last sent: the one that executed it.
    pub tx_hash: Option<Vec<u8>>,
}

/// How `asset_id`'s payout batches have run.
pub async fn payout_cadence(db: &PgPool, asset_id: i32) -> Result<PayoutCadence, sqlx::Error> {
    let counts = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE status = 'executed' AND created_at > now() - interval '30 days')
                    AS "executed!",
                count(*) FILTER (WHERE status IN ('building', 'signed', 'submitted', 'failed')) AS "in_progress!"
         FROM payout_batches WHERE asset_id = $1"#,
        asset_id
    )
    .fetch_one(db)
    .await?;
    let last = query_with_executed_at!(
        r#"SELECT b.id, rfc3339(b.created_at) AS "built_at!", b.executed_block, t.tx_hash AS "tx_hash?", "#,
        "FROM payout_batches b LEFT JOIN transactions t ON t.id = b.transaction_id
         WHERE b.asset_id = $1 AND b.status = 'executed' ORDER BY b.executed_block DESC, b.id DESC LIMIT 1",
        asset_id
    )
    .fetch_optional(db)
    .await?;
    Ok(PayoutCadence {
        executed_last_30_days: counts.executed,
        in_progress: counts.in_progress,
        last_executed: last.map(|r| ExecutedBatch {
            id: r.id,
            built_at: r.built_at,
            executed_block: r.executed_block,
            tx_hash: r.tx_hash,
            executed_at: r.executed_at,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::part_fee;

    #[test]
    fn the_parts_of_an_entry_bear_its_fee_exactly_and_none_more_than_itself() {
        // 350 settled in two parts of 200 and 150 at 5 %: fee 17.5 → 10 + 7.5 (6 decimals).
        let (e, f) = (350_000_000u128, 17_500_000u128);
        assert_eq!(part_fee(e, f, 0, 200_000_000), 10_000_000);
        assert_eq!(part_fee(e, f, 200_000_000, 150_000_000), 7_500_000);
        // 21 settled as 7 + 7 + 7 with fee ⌈1.05⌉ = 2: shares 0, 1, 1 (⌊7·2/21⌋ = 0, ⌊14·2/21⌋ = 1, ⌊21·2/21⌋ = 2).
        let shares: Vec<u128> = [0, 7, 14].iter().map(|&b| part_fee(21, 2, b, 7)).collect();
        assert_eq!(shares, [0, 1, 1]);
        assert_eq!(shares.iter().sum::<u128>(), 2);
        // Uneven parts: every split of 1000 with fee 51 sums back to 51, no share above its part.
        for cut in 1..1000u128 {
            let (a, b) = (part_fee(1000, 51, 0, cut), part_fee(1000, 51, cut, 1000 - cut));
            assert_eq!(a + b, 51);
            assert!(a <= cut && b <= 1000 - cut);
        }
        assert_eq!(part_fee(0, 0, 0, 0), 0);
    }
}
