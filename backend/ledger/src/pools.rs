//! Reads of an asset's level trees (the API's `/v1/pool`): the plan in force and the ledger position, each
//! level's counts, what the queue of a level is computed from, and pages of nodes. Each read that returns more
//! than one figure takes them from one snapshot (`REPEATABLE READ`), so a position always matches the content.

use alloy::primitives::Address;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::plan::PlanParams;

/// An asset's ledger position: events applied and admin actions so far (what a cached view is keyed by).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Confirmed events applied to the asset.
    pub applied_events: i64,
    /// Admin actions taken on the asset.
    pub admin_seq: i64,
}

/// An asset as the pool views show it: its unit, its chain, the plan version in force for new events (the latest)
/// and its ledger position.
#[derive(Debug, Clone)]
pub struct PoolAsset {
    /// Ticker shown beside amounts.
    pub symbol: String,
    /// Decimals of the asset's smallest unit.
    pub decimals: i16,
    /// Chain of the asset (how its addresses are shown).
    pub chain_id: u64,
    /// Parameters of the latest plan version.
    pub params: PlanParams,
    /// Where the asset's ledger stands.
    pub position: Position,
}

/// One level's counts: nodes placed and nodes whose matrix is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelCounts {
    /// Level, 1 first.
    pub level: u32,
    /// Nodes placed (the next placement's heap index).
    pub nodes: i64,
    /// Nodes whose 14-slot matrix is full.
    pub completed: i64,
}

/// A node and its owner's wallet, by heap index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnedNode {
    /// Heap index in the level's tree.
    pub q: i64,
    /// The owner's wallet.
    pub owner: Address,
}

/// What a level's queue is computed from, read in one snapshot.
#[derive(Debug, Clone)]
pub struct QueueRead {
    /// The asset and its position at the snapshot.
    pub asset: PoolAsset,
    /// Nodes placed in the level (the next placement's heap index).
    pub nodes: i64,
    /// The oldest node whose matrix is still open; none for an empty tree.
    pub next_open: Option<OwnedNode>,
    /// Every node from heap index `first_ancestor` on (the ancestors of the next placements), in heap order.
    pub ancestors: Vec<OwnedNode>,
}

/// One node of a page of a level's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    /// Heap index.
    pub q: i64,
    /// The owner's wallet.
    pub owner: Address,
    /// The placement's number in the asset (one counter over every level and owner).
    pub placement_no: i64,
    /// `active` or `completed`.
    pub status: String,
    /// Block in which the node's matrix completed.
    pub completed_block: Option<i64>,
}

/// A page of nodes with the level's node count, read in one snapshot.
#[derive(Debug, Clone)]
pub struct NodesRead {
    /// The asset at the snapshot.
    pub asset: PoolAsset,
    /// Nodes placed in the level.
    pub nodes: i64,
    /// Up to the asked number of nodes after the asked heap index, in heap order.
    pub rows: Vec<NodeRow>,
}

/// A read-only snapshot: every read in it sees the same committed state.
async fn snapshot(db: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *tx).await?;
    Ok(tx)
}

async fn read_asset(conn: &mut PgConnection, asset_id: i32) -> Result<Option<PoolAsset>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT a.symbol, a.decimals, v.params AS "params: sqlx::types::Json<PlanParams>", a.applied_events,
                a.admin_seq, a.chain_id
         FROM assets a JOIN plan_versions v ON v.asset_id = a.id
         WHERE a.id = $1 AND a.plan_kind = 'auto_pool' ORDER BY v.version DESC LIMIT 1"#,
        asset_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| PoolAsset {
        symbol: r.symbol,
        decimals: r.decimals,
        chain_id: r.chain_id as u64,
        params: r.params.0,
        position: Position { applied_events: r.applied_events, admin_seq: r.admin_seq },
    }))
}

async fn node_count(conn: &mut PgConnection, asset_id: i32, level: u32) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT COALESCE((SELECT node_count FROM pools WHERE asset_id = $1 AND level = $2), 0) AS "n!""#,
        asset_id,
        level as i32
    )
    .fetch_one(conn)
    .await
}

fn owned(q: i64, owner: &[u8]) -> OwnedNode {
    OwnedNode { q, owner: Address::from_slice(owner) }
}

/// The asset, its plan in force and its position; none for an unknown asset.
pub async fn asset(db: &PgPool, asset_id: i32) -> Result<Option<PoolAsset>, sqlx::Error> {
    read_asset(&mut *db.acquire().await?, asset_id).await
}

/// The asset and the counts of every level that has nodes; none for an unknown asset.
pub async fn summary(db: &PgPool, asset_id: i32) -> Result<Option<(PoolAsset, Vec<LevelCounts>)>, sqlx::Error> {
    let mut tx = snapshot(db).await?;
    let Some(asset) = read_asset(&mut tx, asset_id).await? else { return Ok(None) };
    let levels = sqlx::query!(
        r#"SELECT p.level, p.node_count,
                (SELECT count(*) FROM placements n WHERE n.asset_id = p.asset_id AND n.level = p.level
                   AND n.status = 'completed') AS "completed!"
         FROM pools p WHERE p.asset_id = $1"#,
        asset_id
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let levels =
        levels.into_iter().map(|r| LevelCounts { level: r.level as u32, nodes: r.node_count, completed: r.completed });
    Ok(Some((asset, levels.collect())))
}

/// What the queue of `level` is computed from: the node count, the oldest open matrix and every node from heap
/// index ⌊(n − 7)/8⌋ on (the depth-3 ancestors of the next placements); none for an unknown asset.
pub async fn queue(db: &PgPool, asset_id: i32, level: u32) -> Result<Option<QueueRead>, sqlx::Error> {
    let mut tx = snapshot(db).await?;
    let Some(asset) = read_asset(&mut tx, asset_id).await? else { return Ok(None) };
    let nodes = node_count(&mut tx, asset_id, level).await?;
    let next_open = sqlx::query!(
        "SELECT n.q, u.address FROM placements n JOIN users u ON u.asset_id = n.asset_id AND u.user_no = n.owner_no
         WHERE n.asset_id = $1 AND n.level = $2 AND n.status = 'active' ORDER BY n.q LIMIT 1",
        asset_id,
        level as i32
    )
    .fetch_optional(&mut *tx)
    .await?;
    let first_ancestor = (nodes - 7).max(0) / 8;
    let ancestors = sqlx::query!(
        "SELECT n.q, u.address FROM placements n JOIN users u ON u.asset_id = n.asset_id AND u.user_no = n.owner_no
         WHERE n.asset_id = $1 AND n.level = $2 AND n.q >= $3 ORDER BY n.q",
        asset_id,
        level as i32,
        first_ancestor
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(QueueRead {
        asset,
        nodes,
        next_open: next_open.map(|r| owned(r.q, &r.address)),
        ancestors: ancestors.iter().map(|r| owned(r.q, &r.address)).collect(),
    }))
}

/// Up to `limit` nodes of `level` after heap index `after` (−1: from the first), optionally only `owner`'s, with
/// the level's node count; none for an unknown asset.
pub async fn nodes(
    db: &PgPool,
    asset_id: i32,
    level: u32,
    owner: Option<Address>,
    after: i64,
    limit: i64,
) -> Result<Option<NodesRead>, sqlx::Error> {
    let mut tx = snapshot(db).await?;
    let Some(asset) = read_asset(&mut tx, asset_id).await? else { return Ok(None) };
    let nodes = node_count(&mut tx, asset_id, level).await?;
    let rows = sqlx::query!(
        "SELECT n.q, u.address, n.placement_no, n.status, n.completed_block
         FROM placements n JOIN users u ON u.asset_id = n.asset_id AND u.user_no = n.owner_no
         WHERE n.asset_id = $1 AND n.level = $2 AND n.q > $3 AND ($4::bytea IS NULL OR u.address = $4)
         ORDER BY n.q LIMIT $5",
        asset_id,
        level as i32,
        after,
        owner.as_ref().map(|a| a.as_slice()),
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let rows = rows
        .into_iter()
        .map(|r| NodeRow {
            q: r.q,
            owner: Address::from_slice(&r.address),
            placement_no: r.placement_no,
            status: r.status,
            completed_block: r.completed_block,
        })
        .collect();
    Ok(Some(NodesRead { asset, nodes, rows }))
}
