//! Statements: every money movement of a member in an asset, and the staff's per-period lists of payout entries,
//! credits and the company's ledger, read as streams (the API writes them out as CSV while they are read, so a
//! long statement is never held in memory). Times are the chain's: the timestamp of the block that moved the money,
//! as the ledger keeps it with the block's confirmed events.

use futures::stream::{BoxStream, StreamExt};
use sqlx::PgPool;

use crate::money::Money;

/// One money movement of a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberMovement {
    /// The block's time (Unix seconds); none for a credit no chain event caused (an admin's manual placement).
    pub time: Option<i64>,
    /// The block that moved it.
    pub block: Option<i64>,
    /// `payment` (registration or retopup paid in), `reward` (a credit), `payout` (an executed payout entry) or
    /// `claim` (a claimable balance pulled from the contract).
    pub kind: String,
    /// What it was: the payment's kind (`registration`, `retopup`), the reward's kind and level (`GENERATION 2`),
    /// the claim's recipient.
    pub detail: String,
    /// A payment's or credit's amount; a payout entry's gross (what it settled of the member's rewards).
    pub gross: Option<Money>,
    /// A payout entry's withdrawal fee.
    pub fee: Option<Money>,
    /// What reached the member: a payout entry's payment, a claim's amount.
    pub net: Option<Money>,
    /// A reward's status; a payout entry's outcome (`paid`, `claimable`).
    pub status: Option<String>,
    /// The transaction (32 bytes).
    pub tx_hash: Option<Vec<u8>>,
    /// The payout batch of a payout entry.
    pub batch_id: Option<i64>,
}

/// Member `user_no` (wallet `wallet_hex`, lower-case 0x hex) of `asset_id`: their payments in, credits, executed
/// payout entries and claims whose block time is in [`from`, `to`) (Unix seconds; either bound may be absent), in
/// chain order. Movements without a chain time are listed only when `from` is absent.
pub fn member_movements<'a>(
    db: &'a PgPool,
    asset_id: i32,
    user_no: i32,
    wallet_hex: String,
    from: Option<i64>,
    to: Option<i64>,
) -> BoxStream<'a, Result<MemberMovement, sqlx::Error>> {
    sqlx::query!(
        r#"WITH a AS (SELECT id, chain_id, lower(concat('0x', encode(token, 'hex'))) AS token FROM assets WHERE id = $1)
        SELECT m.t AS "time?", m.block AS "block?", m.kind AS "kind!", m.detail AS "detail!",
               m.gross AS "gross?: Money", m.fee AS "fee?: Money", m.net AS "net?: Money", m.status AS "status?",
               m.tx_hash AS "tx_hash?", m.batch_id AS "batch_id?"
        FROM (
            SELECT e.block_timestamp AS t, e.block_number AS block, e.log_index AS ord, 0 AS sub, 'payment' AS kind,
                   e.kind AS detail, e.amount AS gross, NULL::numeric AS fee, NULL::numeric AS net, NULL::text AS status,
                   e.tx_hash, NULL::int8 AS batch_id
            FROM chain_events e WHERE e.asset_id = $1 AND e.user_no = $2 AND e.event_seq IS NOT NULL
              -- A sale's (and its refund's) user is its seller: only a member's own purchase is their payment; a
              -- customer's shows as the seller's RETAIL row.
              AND (e.kind IN ('registration', 'retopup')
                   OR EXISTS (SELECT 1 FROM sales s WHERE s.asset_id = e.asset_id AND NOT s.customer
                                AND e.event_seq IN (s.event_seq, s.refund_seq)))
          UNION ALL
            SELECT COALESCE(e.block_timestamp, (SELECT max(c.block_timestamp) FROM chain_events c, a
                                                WHERE c.chain_id = a.chain_id AND c.block_number = pc.closing_block)),
                   COALESCE(e.block_number, pc.closing_block), COALESCE(e.log_index, 0), 1, 'reward',
                   r.kind || ' ' || r.level, r.amount, NULL, NULL, r.status, e.tx_hash, NULL
            FROM rewards r
            LEFT JOIN chain_events e ON e.asset_id = r.asset_id AND e.event_seq = r.event_seq
            LEFT JOIN period_closes pc ON pc.asset_id = r.asset_id AND pc.period = r.period
            WHERE r.asset_id = $1 AND r.beneficiary_no = $2
          UNION ALL
            SELECT (SELECT max(c.block_timestamp) FROM chain_events c, a
                    WHERE c.chain_id = a.chain_id AND c.block_number = b.executed_block),
                   b.executed_block, 0, 2, 'payout', 'batch ' || b.id, i.amount + i.fee, i.fee, i.amount, i.outcome,
                   t.tx_hash, b.id
            FROM payout_batch_items i
            JOIN payout_batches b ON b.id = i.batch_id AND b.status = 'executed'
            LEFT JOIN transactions t ON t.id = b.transaction_id
            WHERE i.asset_id = $1 AND i.user_no = $2
          UNION ALL
            SELECT c.block_timestamp, c.block_number, c.log_index, 3, 'claim', 'to ' || (c.payload ->> 'to'), NULL,
                   NULL, uint_text_to_numeric(c.payload ->> 'amount'), NULL, c.tx_hash, NULL
            FROM chain_events c, a
            WHERE c.chain_id = a.chain_id AND c.name = 'Claimed' AND c.outcome = 'applied'
              AND lower(c.payload ->> 'account') = $3 AND lower(c.payload ->> 'token') = a.token
        ) m
        WHERE ($4::int8 IS NULL OR m.t >= $4) AND ($5::int8 IS NULL OR m.t < $5)
        ORDER BY m.t NULLS FIRST, m.block NULLS FIRST, m.sub, m.ord"#,
        asset_id,
        user_no,
        wallet_hex,
        from,
        to
    )
    .fetch(db)
    .map(|row| {
        row.map(|r| MemberMovement {
            time: r.time,
            block: r.block,
            kind: r.kind,
            detail: r.detail,
            gross: r.gross,
            fee: r.fee,
            net: r.net,
            status: r.status,
            tx_hash: r.tx_hash,
            batch_id: r.batch_id,
        })
    })
    .boxed()
}

/// One entry of a payout batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutEntry {
    /// The batch.
    pub batch_id: i64,
    /// The batch's status: building, signed, submitted, executed, failed or cancelled.
    pub batch_status: String,
    /// When the batch was built (RFC 3339, UTC; the ledger's record).
    pub built_at: String,
    /// The recipient's user number and wallet (20 bytes).
    pub user_no: i32,
    /// The recipient's wallet (20 bytes).
    pub address: Vec<u8>,
    /// What the entry settles of the recipient's rewards.
    pub gross: Money,
    /// Its withdrawal fee.
    pub fee: Money,
    /// What the contract pays: gross − fee.
    pub net: Money,
    /// Once executed: `paid` or `claimable`.
    pub outcome: Option<String>,
    /// The batch's transaction as last sent (the one that executed it, once executed).
    pub tx_hash: Option<Vec<u8>>,
    /// Block of the execution.
    pub executed_block: Option<i64>,
    /// That block's time (Unix seconds).
    pub executed_time: Option<i64>,
}

/// Every entry of `asset_id`'s payout batches built in [`from`, `to`) (Unix seconds, the ledger's build time), by
/// batch and position.
pub fn payout_entries<'a>(
    db: &'a PgPool,
    asset_id: i32,
    from: i64,
    to: i64,
) -> BoxStream<'a, Result<PayoutEntry, sqlx::Error>> {
    sqlx::query!(
        r#"SELECT b.id AS batch_id, b.status AS batch_status, rfc3339(b.created_at) AS "built_at!", i.user_no, u.address,
                i.amount + i.fee AS "gross!: Money", i.fee AS "fee: Money", i.amount AS "net: Money",
                i.outcome, t.tx_hash AS "tx_hash?", b.executed_block,
                (SELECT max(c.block_timestamp) FROM chain_events c JOIN assets a ON a.chain_id = c.chain_id
                 WHERE a.id = b.asset_id AND c.block_number = b.executed_block) AS executed_time
         FROM payout_batches b
         JOIN payout_batch_items i ON i.batch_id = b.id
         JOIN users u ON u.asset_id = i.asset_id AND u.user_no = i.user_no
         LEFT JOIN transactions t ON t.id = b.transaction_id
         WHERE b.asset_id = $1 AND b.created_at >= to_timestamp($2) AND b.created_at < to_timestamp($3)
         ORDER BY b.id, i.position"#,
        asset_id,
        from as f64,
        to as f64
    )
    .fetch(db)
    .map(|row| {
        row.map(|r| PayoutEntry {
            batch_id: r.batch_id,
            batch_status: r.batch_status,
            built_at: r.built_at,
            user_no: r.user_no,
            address: r.address,
            gross: r.gross,
            fee: r.fee,
            net: r.net,
            outcome: r.outcome,
            tx_hash: r.tx_hash,
            executed_block: r.executed_block,
            executed_time: r.executed_time,
        })
    })
    .boxed()
}

/// One credit to a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// The reward's number in the asset.
    pub reward_no: i64,
    /// The member's user number.
    pub user_no: i32,
    /// The member's wallet (20 bytes).
    pub address: Vec<u8>,
    /// The reward's kind (GENERATION, RANK_BONUS, DIRECT, POOL_L1…, LEVEL).
    pub kind: String,
    /// Its level (sponsor level, pool level).
    pub level: i32,
    /// What it credited.
    pub amount: Money,
    /// Where its unpaid rest is now (reserved, held, pending, batched, settled, forfeited).
    pub status: String,
    /// The block of the event that made it (for a rank bonus, the block that closed its week).
    pub block: Option<i64>,
    /// That block's time (Unix seconds).
    pub time: Option<i64>,
    /// The event's transaction (none for rank bonuses).
    pub tx_hash: Option<Vec<u8>>,
}

/// Every credit of `asset_id` whose block time is in [`from`, `to`) (Unix seconds), by reward number. Credits
/// without a chain time (an admin's manual placement) are in no period.
pub fn credits<'a>(db: &'a PgPool, asset_id: i32, from: i64, to: i64) -> BoxStream<'a, Result<Credit, sqlx::Error>> {
    sqlx::query!(
        r#"SELECT reward_no AS "reward_no!", user_no AS "user_no!", address AS "address!", kind AS "kind!",
                level AS "level!", amount AS "amount!: Money", status AS "status!", block, time, tx_hash AS "tx_hash?"
         FROM (
            SELECT r.reward_no, r.beneficiary_no AS user_no, u.address, r.kind, r.level, r.amount, r.status,
                   COALESCE(e.block_number, pc.closing_block) AS block,
                   COALESCE(e.block_timestamp, (SELECT max(c.block_timestamp) FROM chain_events c
                     JOIN assets a ON a.chain_id = c.chain_id
                     WHERE a.id = r.asset_id AND c.block_number = pc.closing_block)) AS time,
                   e.tx_hash
            FROM rewards r
            JOIN users u ON u.asset_id = r.asset_id AND u.user_no = r.beneficiary_no
            LEFT JOIN chain_events e ON e.asset_id = r.asset_id AND e.event_seq = r.event_seq
            LEFT JOIN period_closes pc ON pc.asset_id = r.asset_id AND pc.period = r.period
            WHERE r.asset_id = $1) x
         WHERE time >= $2 AND time < $3
         ORDER BY reward_no"#,
        asset_id,
        from,
        to
    )
    .fetch(db)
    .map(|row| {
        row.map(|r| Credit {
            reward_no: r.reward_no,
            user_no: r.user_no,
            address: r.address,
            kind: r.kind,
            level: r.level,
            amount: r.amount,
            status: r.status,
            block: r.block,
            time: r.time,
            tx_hash: r.tx_hash,
        })
    })
    .boxed()
}

/// One movement of the company's account in an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyMovement {
    /// The block's time (Unix seconds).
    pub time: i64,
    /// The block.
    pub block: Option<i64>,
    /// `credit` or `debit`.
    pub direction: String,
    /// A credit's reason (registration_rest, pool_rest, level_rest, generation_rest, withdrawal_fee, forfeit) or a
    /// debit's kind (treasury_transfer, rank_bonus).
    pub kind: String,
    /// Base units, never negative (the direction says which way).
    pub amount: Money,
    /// The transaction (none for a week's rank bonuses).
    pub tx_hash: Option<Vec<u8>>,
    /// What it refers to: `credit:N`, `batch:N`, `transfer:N`, `week:N`.
    pub reference: String,
}

/// The company's credits and debits in `asset_id` whose block time is in [`from`, `to`) (Unix seconds), from the
/// sources the treasury's figures sum: `company_credits` (what `assets.company_total` adds), executed treasury
/// transfers (refunds of quarantined payments are not the company's and are left out) and the weeks' rank bonuses
/// (taken off `company_total` at each close). Admin actions the ledger keeps no chain time for (forfeits, manual
/// placements) are in no period.
pub fn company_movements<'a>(
    db: &'a PgPool,
    asset_id: i32,
    from: i64,
    to: i64,
) -> BoxStream<'a, Result<CompanyMovement, sqlx::Error>> {
    sqlx::query!(
        r#"WITH a AS (SELECT id, chain_id FROM assets WHERE id = $1)
        SELECT m.t AS "time!", m.block, m.direction AS "direction!", m.kind AS "kind!", m.amount AS "amount!: Money",
               m.tx_hash, m.reference AS "reference!"
        FROM (
            SELECT COALESCE(e.block_timestamp, (SELECT max(c.block_timestamp) FROM chain_events c, a
                     WHERE c.chain_id = a.chain_id AND c.block_number = b.executed_block)) AS t,
                   COALESCE(e.block_number, b.executed_block) AS block, COALESCE(e.log_index, 0) AS ord,
                   'credit' AS direction, cc.reason AS kind, cc.amount, COALESCE(e.tx_hash, bt.tx_hash) AS tx_hash,
                   CASE WHEN cc.batch_id IS NOT NULL THEN 'batch:' || cc.batch_id ELSE 'credit:' || cc.credit_no END
                     AS reference
            FROM company_credits cc
            LEFT JOIN chain_events e ON e.asset_id = cc.asset_id AND e.event_seq = cc.event_seq
            LEFT JOIN payout_batches b ON b.id = cc.batch_id
            LEFT JOIN transactions bt ON bt.id = b.transaction_id
            WHERE cc.asset_id = $1
          UNION ALL
            SELECT (SELECT max(c.block_timestamp) FROM chain_events c, a
                    WHERE c.chain_id = a.chain_id AND c.block_number = t.executed_block),
                   t.executed_block, 0, 'debit', 'treasury_transfer', t.amount, t.tx_hash, 'transfer:' || t.id
            FROM treasury_transfers t
            WHERE t.asset_id = $1 AND t.status = 'executed' AND t.refund_tx_hash IS NULL
          UNION ALL
            SELECT (SELECT max(c.block_timestamp) FROM chain_events c, a
                    WHERE c.chain_id = a.chain_id AND c.block_number = pc.closing_block),
                   pc.closing_block, 0, 'debit', 'rank_bonus', pc.credited, NULL, 'week:' || pc.period
            FROM period_closes pc WHERE pc.asset_id = $1 AND pc.credited > 0
        ) m
        WHERE m.t >= $2 AND m.t < $3
        ORDER BY m.t, m.block, m.ord, m.reference"#,
        asset_id,
        from,
        to
    )
    .fetch(db)
    .map(|row| {
        row.map(|r| CompanyMovement {
            time: r.time,
            block: r.block,
            direction: r.direction,
            kind: r.kind,
            amount: r.amount,
            tx_hash: r.tx_hash,
            reference: r.reference,
        })
    })
    .boxed()
}
