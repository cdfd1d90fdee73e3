//! Creating an asset: one currency on one chain, with its genesis user and first plan version.

use alloy::primitives::Address;
use sqlx::PgPool;

use crate::error::LedgerError;
use crate::plan::{PlanKind, PlanParams, PlanRules};

/// An asset to create: one currency on one chain, with its genesis user and first plan. The parameters' type
/// names the plan the asset runs, for good: `PlanParams` for the auto-pool plan (PLAN.md), `GenerationParams`
/// for the generation plan (PLAN-GENERATION.md).
#[derive(Debug, Clone)]
pub struct AssetSpec<P = PlanParams> {
    /// Ledger id of the asset, chosen by the operator.
    pub id: i32,
    /// Chain whose Settlement contract holds this asset.
    pub chain_id: u64,
    /// Zero address for the chain's native coin.
    pub token: Address,
    /// Display symbol, e.g. `BNB`, `USDT`.
    pub symbol: String,
    /// Decimals of the base unit (18 for BNB, 6 for TRON USDT), for display only.
    pub decimals: u8,
    /// The operator's root wallet: user 0, active without paying, sponsor of the first users.
    pub genesis: Address,
    /// Plan version 1, in force from block 0.
    pub params: P,
}

/// Creates an asset running the plan of its parameters, with plan version 1 from block 0 and its active genesis
/// user (unaudited: tests and benchmarks; the console and `referral-asset` go through
/// [`crate::admin::create_asset`]).
pub async fn create_asset<P: PlanRules + serde::Serialize>(
    pool: &PgPool,
    spec: &AssetSpec<P>,
) -> Result<(), LedgerError> {
    spec.params.validate()?;
    let mut tx = pool.begin().await?;
    insert(&mut tx, spec).await?;
    tx.commit().await?;
    Ok(())
}

/// The asset's rows (asset, plan version 1 from block 0, genesis user) in the caller's transaction; the parameters
/// must have been validated.
pub(crate) async fn insert<P: PlanRules + serde::Serialize>(
    tx: &mut sqlx::PgConnection,
    spec: &AssetSpec<P>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO assets (id, chain_id, token, symbol, decimals, genesis, plan_kind) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        spec.id,
        spec.chain_id as i64,
        spec.token.as_slice(),
        &spec.symbol,
        i16::from(spec.decimals),
        spec.genesis.as_slice(),
        P::KIND.as_str()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO plan_versions (asset_id, version, effective_from_block, params) VALUES ($1, 1, 0, $2)",
        spec.id,
        sqlx::types::Json(&spec.params) as _
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("INSERT INTO users (asset_id, user_no, address) VALUES ($1, 0, $2)", spec.id, spec.genesis.as_slice())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// What the API shows of an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetInfo {
    /// Display symbol.
    pub symbol: String,
    /// Decimals of the base unit.
    pub decimals: i16,
    /// The asset's chain.
    pub chain_id: u64,
    /// Zero address for the chain's native coin.
    pub token: Address,
}

impl AssetInfo {
    /// From an `assets` row's columns.
    fn from_row(symbol: String, decimals: i16, chain_id: i64, token: &[u8]) -> Self {
        Self { symbol, decimals, chain_id: chain_id as u64, token: Address::from_slice(token) }
    }
}

/// Asset `id`, if it exists.
pub async fn asset_info(pool: &PgPool, id: i32) -> Result<Option<AssetInfo>, sqlx::Error> {
    let row = sqlx::query!("SELECT symbol, decimals, chain_id, token FROM assets WHERE id = $1", id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| AssetInfo::from_row(r.symbol, r.decimals, r.chain_id, &r.token)))
}

/// Every asset by id.
pub async fn assets(pool: &PgPool) -> Result<Vec<(i32, AssetInfo)>, sqlx::Error> {
    let rows =
        sqlx::query!("SELECT id, symbol, decimals, chain_id, token FROM assets ORDER BY id").fetch_all(pool).await?;
    Ok(rows.into_iter().map(|r| (r.id, AssetInfo::from_row(r.symbol, r.decimals, r.chain_id, &r.token))).collect())
}

/// An asset with the plan version in force for new events (its latest).
#[derive(Debug, Clone)]
pub struct AssetPlan {
    /// The asset.
    pub asset_id: i32,
    /// Its unit and chain.
    pub info: AssetInfo,
    /// The latest version's number.
    pub version: i32,
    /// The first block it governs.
    pub effective_from_block: i64,
    /// Its parameters.
    pub params: PlanParams,
}

/// Every auto-pool asset with its latest plan version, by asset id.
pub async fn plans(pool: &PgPool) -> Result<Vec<AssetPlan>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT DISTINCT ON (a.id) a.id, a.chain_id, a.token, a.symbol, a.decimals,
                v.version, v.effective_from_block, v.params AS "params: sqlx::types::Json<PlanParams>"
         FROM assets a JOIN plan_versions v ON v.asset_id = a.id
         WHERE a.plan_kind = 'auto_pool'
         ORDER BY a.id, v.version DESC"#
    )
    .fetch_all(pool)
    .await?;
    let plans = rows.into_iter().map(|r| AssetPlan {
        asset_id: r.id,
        info: AssetInfo::from_row(r.symbol, r.decimals, r.chain_id, &r.token),
        version: r.version,
        effective_from_block: r.effective_from_block,
        params: r.params.0,
    });
    Ok(plans.collect())
}

/// The plan asset `id` runs, if the asset exists.
pub async fn plan_kind(pool: &PgPool, id: i32) -> Result<Option<PlanKind>, sqlx::Error> {
    let kind = sqlx::query_scalar!("SELECT plan_kind FROM assets WHERE id = $1", id).fetch_optional(pool).await?;
    kind.map(|k| PlanKind::parse(&k).ok_or_else(|| sqlx::Error::Decode(format!("asset {id}: plan kind {k}").into())))
        .transpose()
}

/// An asset of one plan kind with its newest plan version (the plans' public reads).
#[derive(Debug, Clone)]
pub struct NewestPlan<P> {
    /// The asset.
    pub asset_id: i32,
    /// Its unit and chain.
    pub info: AssetInfo,
    /// The newest version's number.
    pub version: i32,
    /// The first block it governs.
    pub effective_from_block: i64,
    /// Its parameters.
    pub params: P,
}

fn decode_params<P: serde::de::DeserializeOwned>(
    asset_id: i32,
    kind: PlanKind,
    params: serde_json::Value,
) -> Result<P, sqlx::Error> {
    serde_json::from_value(params)
        .map_err(|e| sqlx::Error::Decode(format!("asset {asset_id}: {} parameters: {e}", kind.as_str()).into()))
}

/// Every asset of plan `kind` with its newest plan version, by asset id.
pub(crate) async fn newest_plans<P: serde::de::DeserializeOwned>(
    pool: &PgPool,
    kind: PlanKind,
) -> Result<Vec<NewestPlan<P>>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT DISTINCT ON (a.id) a.id, a.chain_id, a.token, a.symbol, a.decimals,
                v.version, v.effective_from_block, v.params
         FROM assets a JOIN plan_versions v ON v.asset_id = a.id
         WHERE a.plan_kind = $1
         ORDER BY a.id, v.version DESC",
        kind.as_str()
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(NewestPlan {
                asset_id: r.id,
                info: AssetInfo {
                    symbol: r.symbol,
                    decimals: r.decimals,
                    chain_id: r.chain_id as u64,
                    token: Address::from_slice(&r.token),
                },
                version: r.version,
                effective_from_block: r.effective_from_block,
                params: decode_params(r.id, kind, r.params)?,
            })
        })
        .collect()
}

/// The newest parameters of asset `asset_id` if it runs plan `kind`.
pub(crate) async fn newest_params<'c, P: serde::de::DeserializeOwned>(
    pool: impl sqlx::PgExecutor<'c>,
    asset_id: i32,
    kind: PlanKind,
) -> Result<Option<P>, sqlx::Error> {
    let row = sqlx::query_scalar!(
        "SELECT v.params FROM plan_versions v JOIN assets a ON a.id = v.asset_id
         WHERE a.id = $1 AND a.plan_kind = $2 ORDER BY v.version DESC LIMIT 1",
        asset_id,
        kind.as_str()
    )
    .fetch_optional(pool)
    .await?;
    row.map(|p| decode_params(asset_id, kind, p)).transpose()
}
