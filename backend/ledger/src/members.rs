//! Reads of one wallet's place in the plans (the API's `/v1/users`): its standing in every asset, its direct
//! referrals, the sponsor tree below it, its rewards and what it can claim from the contract itself.

use alloy::primitives::Address;
use sqlx::PgPool;

use crate::money::Money;

/// A wallet's standing in one asset: who it is in the plan and its sums by reward status.
#[derive(Debug, Clone)]
pub struct Standing {
    /// The asset.
    pub asset_id: i32,
    /// The asset's chain.
    pub chain_id: i64,
    /// The asset's ticker.
    pub symbol: String,
    /// Decimals of the asset's smallest unit.
    pub decimals: i16,
    /// Number of the user in the asset's plan (0 = genesis).
    pub user_no: i32,
    /// Frozen by an admin.
    pub frozen: bool,
    /// The block of the member's leave (PLAN.md §5: exited for good); none while they have not left.
    pub exited_block: Option<i64>,
    /// The sponsor's wallet (20 bytes); none for the genesis user.
    pub sponsor: Option<Vec<u8>>,
    /// Block of the registration.
    pub registered_block: Option<i64>,
    /// Direct referrals.
    pub direct_count: i64,
    /// Retopups made.
    pub retopup_count: i64,
    /// Paid in (registration and retopups).
    pub paid_in: Money,
    /// Rewards waiting for a withdraw request.
    pub pending: Money,
    /// Rewards held back under the plan's rules.
    pub held: Money,
    /// In payout batches not settled yet.
    pub batched: Money,
    /// Paid on-chain.
    pub settled: Money,
    /// Forfeited under the plan's rules.
    pub forfeited: Money,
    /// Reserved towards the next level.
    pub reserved: Money,
    /// Left claimable in the contract by a failed push.
    pub claimable: Money,
    /// What reached the wallet, net of withdrawal fees: its executed entries' payments (pushed, or left claimable and
    /// since claimed) — Σ of those entries' amounts less `claimable` — and what its leave paid.
    pub received: Money,
    /// Withdrawal fees the company kept from the wallet's executed entries. `settled` = `received` + `fees` +
    /// `claimable`.
    pub fees: Money,
    /// Still to reach the wallet, before the fees its payouts will keep: pending + held + batched + claimable (not
    /// `reserved`, which is spent on the next level and never paid out).
    pub owed: Money,
}

/// Nodes a wallet owns on one level of one asset's trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelNodes {
    /// The asset.
    pub asset_id: i32,
    /// The level.
    pub level: i32,
    /// Nodes whose matrix is still open.
    pub active: i64,
    /// Nodes whose matrix is full.
    pub completed: i64,
}

/// A wallet's standing in every asset it is registered in (by asset id), and its nodes per asset and level.
pub async fn standings(db: &PgPool, wallet: Address) -> Result<(Vec<Standing>, Vec<LevelNodes>), sqlx::Error> {
    let standings = sqlx::query_as!(
        Standing,
        r#"SELECT a.id AS asset_id, a.chain_id, a.symbol, a.decimals, u.user_no, u.frozen, u.exited_block,
                s.address AS "sponsor?",
                u.registered_block, u.direct_count, u.retopup_count,
                u.paid_in AS "paid_in: Money", u.pending AS "pending: Money",
                u.held AS "held: Money", u.batched AS "batched: Money",
                u.settled AS "settled: Money", u.forfeited AS "forfeited: Money",
                u.reserved AS "reserved: Money", u.claimable AS "claimable: Money",
                x.net - u.claimable + COALESCE(m.amount, 0) AS "received!: Money", x.fees AS "fees!: Money",
                u.pending + u.held + u.batched + u.claimable AS "owed!: Money"
         FROM users u
         JOIN assets a ON a.id = u.asset_id
         LEFT JOIN users s ON s.asset_id = u.asset_id AND s.user_no = u.sponsor_no
         LEFT JOIN member_exits m ON m.asset_id = u.asset_id AND m.user_no = u.user_no
         CROSS JOIN LATERAL (
             SELECT COALESCE(sum(i.amount), 0) AS net, COALESCE(sum(i.fee), 0) AS fees
             FROM payout_batch_items i JOIN payout_batches b ON b.id = i.batch_id AND b.status = 'executed'
             WHERE i.asset_id = u.asset_id AND i.user_no = u.user_no) x
         WHERE u.address = $1
         ORDER BY a.id"#,
        wallet.as_slice()
    )
    .fetch_all(db)
    .await?;
    let nodes = sqlx::query_as!(
        LevelNodes,
        r#"SELECT n.asset_id, n.level, count(*) FILTER (WHERE n.status = 'active') AS "active!",
                count(*) FILTER (WHERE n.status = 'completed') AS "completed!"
         FROM users u JOIN placements n ON n.asset_id = u.asset_id AND n.owner_no = u.user_no
         WHERE u.address = $1
         GROUP BY n.asset_id, n.level ORDER BY n.asset_id, n.level"#,
        wallet.as_slice()
    )
    .fetch_all(db)
    .await?;
    Ok((standings, nodes))
}

/// A wallet in one asset: its user number (none when not registered) and the asset's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    /// The wallet's user number in the asset; none when it is not registered there.
    pub user_no: Option<i32>,
    /// The asset's chain (how its addresses are shown).
    pub chain_id: u64,
}

/// `wallet` in `asset_id`; none for an unknown asset.
pub async fn membership(db: &PgPool, asset_id: i32, wallet: Address) -> Result<Option<Membership>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT (SELECT user_no FROM users WHERE asset_id = a.id AND address = $2) AS user_no, a.chain_id
         FROM assets a WHERE a.id = $1"#,
        asset_id,
        wallet.as_slice()
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Membership { user_no: r.user_no, chain_id: r.chain_id as u64 }))
}

/// What anyone may read of a would-be sponsor in one asset before naming them (all of it public on chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SponsorCard {
    /// The asset's chain (how the address is shown).
    pub chain_id: u64,
    /// The sponsor as a member; none when the wallet is not registered in the asset.
    pub member: Option<SponsorMember>,
}

/// A registered sponsor's public standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SponsorMember {
    /// Their user number in the asset (0 for the genesis user).
    pub user_no: i32,
    /// Their registration block's time, Unix seconds; none for the genesis user.
    pub registered_at: Option<i64>,
    /// Wallets that registered naming them.
    pub direct_referrals: i64,
    /// Frozen by the operator: a registration naming them is refused while they are.
    pub frozen: bool,
}

/// `wallet` as a sponsor in `asset_id`, in one query; `None` for an unknown asset.
pub async fn sponsor_card(db: &PgPool, asset_id: i32, wallet: Address) -> Result<Option<SponsorCard>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT a.chain_id, u.user_no AS "user_no?", u.direct_count AS "direct_referrals?",
                u.frozen AS "frozen?",
                (SELECT e.block_timestamp FROM chain_events e
                 WHERE e.chain_id = a.chain_id AND e.block_number = u.registered_block LIMIT 1) AS registered_at
         FROM assets a LEFT JOIN users u ON u.asset_id = a.id AND u.address = $2
         WHERE a.id = $1"#,
        asset_id,
        wallet.as_slice()
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| SponsorCard {
        chain_id: r.chain_id as u64,
        member: r.user_no.map(|user_no| SponsorMember {
            user_no,
            registered_at: r.registered_at,
            direct_referrals: r.direct_referrals.unwrap_or_default(),
            frozen: r.frozen.unwrap_or_default(),
        }),
    }))
}

/// A direct referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// Its user number.
    pub user_no: i32,
    /// Its wallet (20 bytes).
    pub address: Vec<u8>,
    /// Block of its registration.
    pub registered_block: Option<i64>,
    /// Its own direct referrals.
    pub direct_count: i64,
    /// Whether it made a retopup.
    pub has_retopup: bool,
}

/// Up to `limit` direct referrals of user `sponsor_no` after user number `after`, in registration order.
pub async fn referrals(
    db: &PgPool,
    asset_id: i32,
    sponsor_no: i32,
    after: i32,
    limit: i64,
) -> Result<Vec<Referral>, sqlx::Error> {
    sqlx::query_as!(
        Referral,
        "SELECT user_no, address, registered_block, direct_count, has_retopup
         FROM users WHERE asset_id = $1 AND sponsor_no = $2 AND user_no > $3
         ORDER BY user_no LIMIT $4",
        asset_id,
        sponsor_no,
        after,
        limit
    )
    .fetch_all(db)
    .await
}

/// A user in a sponsor tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeMember {
    /// Its user number.
    pub user_no: i32,
    /// Its wallet (20 bytes).
    pub address: Vec<u8>,
    /// Its sponsor's user number; none for genesis.
    pub sponsor_no: Option<i32>,
    /// Levels below the root (0 for the root).
    pub depth: i32,
    /// Its direct referrals.
    pub direct_count: i64,
}

/// User `root` and the users below it up to `depth` levels, breadth-first (depth, then user number), at most
/// `limit` rows.
pub async fn tree(
    db: &PgPool,
    asset_id: i32,
    root: i32,
    depth: u32,
    limit: i64,
) -> Result<Vec<TreeMember>, sqlx::Error> {
    // A recursive CTE's columns carry no nullability: the overrides state it (only `sponsor_no` is null, at genesis).
    sqlx::query_as!(
        TreeMember,
        r#"WITH RECURSIVE t AS (
           SELECT user_no, address, sponsor_no, 0 AS depth, direct_count FROM users WHERE asset_id = $1 AND user_no = $2
           UNION ALL
           SELECT u.user_no, u.address, u.sponsor_no, t.depth + 1, u.direct_count
           FROM users u JOIN t ON u.asset_id = $1 AND u.sponsor_no = t.user_no
           WHERE t.depth < $3
         )
         SELECT user_no AS "user_no!", address AS "address!", sponsor_no, depth AS "depth!",
                direct_count AS "direct_count!"
         FROM t ORDER BY depth, user_no LIMIT $4"#,
        asset_id,
        root,
        depth as i32,
        limit
    )
    .fetch_all(db)
    .await
}

/// A reward as its beneficiary sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reward {
    /// The reward's number in the asset.
    pub reward_no: i64,
    /// DIRECT, POOL_L1, POOL_L2, POOL_L3 or LEVEL.
    pub kind: String,
    /// Pool level or sponsor level.
    pub level: i32,
    /// What the credit earned.
    pub amount: Money,
    /// Where the unpaid rest is (reserved, held, pending, forfeited), or batched / settled.
    pub status: String,
    /// Block of the event that made the credit; for a period's bonus (rank, pair), the block whose time closed it.
    pub block: Option<i64>,
    /// The period a period's bonus (RANK_BONUS, BINARY_PAIR) closed in; none for other credits.
    pub period: Option<i64>,
    /// That block's time (RFC 3339, UTC) as the chain stamped it, from the confirmed events the ledger keeps; for a
    /// period closed by a block without events here, the period's end (the first second after it, by the chain's
    /// clock); none for a credit no event caused (an admin's manual placement).
    pub credited_at: Option<String>,
    /// The transaction of the event that made the credit (32 bytes); none for rank bonuses and admin placements.
    pub tx_hash: Option<Vec<u8>>,
    /// Plan version the credit was computed under.
    pub plan_version: i32,
    /// Parts paid on-chain: by payout batches, and by the member's leave (PLAN.md §5).
    pub paid: Money,
    /// Parts in payout batches not settled or cancelled yet.
    pub in_flight: Money,
}

/// Up to `limit` rewards of user `beneficiary_no` below reward number `before`, newest first.
pub async fn rewards(
    db: &PgPool,
    asset_id: i32,
    beneficiary_no: i32,
    before: i64,
    limit: i64,
) -> Result<Vec<Reward>, sqlx::Error> {
    sqlx::query_as!(
        Reward,
        r#"SELECT r.reward_no, r.kind, r.level, r.amount AS "amount: Money", r.status,
                COALESCE(e.block_number, pc.closing_block, bc.closing_block) AS "block?", r.period AS "period?",
                rfc3339(to_timestamp(COALESCE(e.block_timestamp,
                    (SELECT max(c.block_timestamp) FROM chain_events c JOIN assets a ON a.chain_id = c.chain_id
                     WHERE a.id = r.asset_id AND c.block_number = COALESCE(pc.closing_block, bc.closing_block)),
                    COALESCE(pc.period_end, bc.period_end)))) AS "credited_at?",
                e.tx_hash AS "tx_hash?",
                r.plan_version, r.paid + r.exit_paid AS "paid!: Money", r.in_flight AS "in_flight: Money"
         FROM rewards r
         LEFT JOIN chain_events e ON e.asset_id = r.asset_id AND e.event_seq = r.event_seq
         LEFT JOIN period_closes pc ON pc.asset_id = r.asset_id AND pc.period = r.period
         LEFT JOIN binary_closes bc ON bc.asset_id = r.asset_id AND bc.period = r.period
         WHERE r.asset_id = $1 AND r.beneficiary_no = $2 AND r.reward_no < $3
         ORDER BY r.reward_no DESC LIMIT $4"#,
        asset_id,
        beneficiary_no,
        before,
        limit
    )
    .fetch_all(db)
    .await
}

/// What a wallet can claim from the contract in one asset, with the asset's facts.
#[derive(Debug, Clone)]
pub struct Claimable {
    /// The claimable sum; none when the wallet is not registered in the asset.
    pub amount: Option<Money>,
    /// The asset's chain.
    pub chain_id: u64,
    /// The asset's token (the zero address for the native coin).
    pub token: Address,
    /// The asset's ticker.
    pub symbol: String,
    /// Decimals of the asset's smallest unit.
    pub decimals: i16,
}

/// What `wallet` can claim in `asset_id`; none for an unknown asset.
pub async fn claimable(db: &PgPool, asset_id: i32, wallet: Address) -> Result<Option<Claimable>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT (SELECT u.claimable FROM users u
                 WHERE u.asset_id = a.id AND u.address = $2) AS "amount: Money", a.chain_id, a.token, a.symbol,
                a.decimals
         FROM assets a WHERE a.id = $1"#,
        asset_id,
        wallet.as_slice()
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Claimable {
        amount: r.amount,
        chain_id: r.chain_id as u64,
        token: Address::from_slice(&r.token),
        symbol: r.symbol,
        decimals: r.decimals,
    }))
}
