//! The public proof of solvency (SOLVENCY.md): per asset the latest committed epoch and its history, for anyone; and
//! each signed-in user's own proof — their leaf's balances and salt, its index and the siblings on its path — to
//! verify against the root the chain holds, read through their own wallet, never from here.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ledger::solvency::{self, Epoch};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ErrorBody;
use super::extract::Query;
use super::page::{Page, page_limit};
use super::types::{AssetAmount, hex_bytes, show_address};
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::extract::{AuthUser, Json, Path, parse_address};
use alloy::primitives::{Address, U256};

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(overview)).routes(routes!(epochs)).routes(routes!(proof))
}

/// One epoch of an asset as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EpochView {
    /// The epoch number (the contract takes them in order, from 1).
    pub epoch: u64,
    /// The round: the ledger snapshot it commits, committed on every contract of the chain after an upgrade (equal to
    /// `epoch` while the chain has one contract).
    pub round: u64,
    /// The contract it is committed on, 0x hex (its 20 bytes on TRON).
    pub contract: Option<String>,
    /// The confirmed block the liabilities were read at.
    pub as_of_block: u64,
    /// The Merkle-sum root, 0x hex.
    pub root: String,
    /// The root's sum: every user's liabilities.
    pub total: AssetAmount,
    /// Users' leaves (every user of the asset, zero balances included).
    pub leaf_count: u32,
    /// Levels below the root.
    pub depth: u32,
    /// keccak256 of the plan versions in force at `as_of_block`, 0x hex.
    pub plan_hash: String,
    /// `built`, `signed`, `sent`, `committed` or `failed`.
    pub status: String,
    /// The block whose transaction committed it (committed epochs).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub committed_block: Option<u64>,
    /// That transaction, 0x hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub committed_tx: Option<String>,
    /// The contract's own balance of the asset when it committed (what the chain says it holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub custody: Option<AssetAmount>,
    /// Why an attempt failed (its epoch number is built again).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub failure: Option<String>,
    /// When it was built (RFC 3339).
    pub built_at: String,
}

fn epoch_view(e: &Epoch, decimals: i16, symbol: &str) -> EpochView {
    let amount = |v: String| AssetAmount::new(v, decimals, symbol);
    EpochView {
        epoch: e.epoch,
        round: e.round,
        contract: e.contract.map(|c| format!("{c:#x}")),
        as_of_block: e.as_of_block,
        root: e.root.to_string(),
        total: amount(e.total.to_string()),
        leaf_count: e.leaf_count,
        depth: e.depth,
        plan_hash: e.plan_hash.to_string(),
        status: e.status.as_str().to_owned(),
        committed_block: e.committed_block,
        committed_tx: e.committed_tx.map(|t| t.to_string()),
        custody: e.custody.map(|c| amount(c.to_string())),
        failure: e.failure.clone(),
        built_at: e.created_at.clone(),
    }
}

/// One asset's proof of solvency.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetSolvency {
    /// The asset.
    pub asset_id: i32,
    /// Its symbol.
    pub symbol: String,
    /// Its decimals.
    pub decimals: i16,
    /// Its chain.
    pub chain_id: u64,
    /// The Settlement contract holding custody and the commitments (T… on TRON).
    pub contract: String,
    /// The same, as the 20-byte 0x form the tree's leaves and a wallet's call use.
    pub contract_hex: String,
    /// The asset's token (T… on TRON); the zero address for the native coin.
    pub token: String,
    /// The same, 0x form.
    pub token_hex: String,
    /// Confirmed blocks between two epochs; absent when the asset gets none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub interval_blocks: Option<u64>,
    /// A commitment older than this many blocks is stale (twice the interval).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub max_age_blocks: Option<u64>,
    /// The ledger's confirmed block of the chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub confirmed_block: Option<u64>,
    /// The latest committed epoch, as the ledger recorded it from the chain's event; verify it on the chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub latest: Option<EpochView>,
    /// Blocks since the latest commitment (at the ledger's confirmed block).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub age_blocks: Option<u64>,
    /// The epoch being built, signed or sent, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub in_flight: Option<EpochView>,
    /// Every Settlement contract of the chain with its latest commitment: the live one first, then those an upgrade
    /// replaced (still wound down, holding money members are owed), oldest first. One entry without an upgrade.
    pub contracts: Vec<ContractSolvency>,
    /// The latest round committed on every contract of `contracts`: what solvency is judged on (the custody of every
    /// contract against the one total). Absent while none is (after an upgrade, until the first round commits on
    /// every contract).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub round: Option<RoundView>,
    /// The members' exit, once it opened on a contract of the chain (contracts/EXIT.md): nothing is paid in or out of
    /// the asset any more but claims and members' exits with their proofs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub exit: Option<ExitView>,
}

/// A members' exit that opened.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExitView {
    /// The contract whose exit opened (T… on TRON).
    pub contract: String,
    /// The block of the opening.
    pub opened_block: u64,
    /// Its transaction, 0x hex.
    pub opened_tx: String,
    /// What went to the exit contract for members: the balance less what was claimable.
    pub custody: AssetAmount,
}

/// One Settlement contract of an asset's chain, and its latest commitment of the asset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContractSolvency {
    /// The contract (T… on TRON).
    pub contract: String,
    /// The same, 0x (what the leaves of its tree name).
    pub contract_hex: String,
    /// `true` for the live contract (payments go to it); `false` for one an upgrade replaced.
    pub live: bool,
    /// Its latest committed epoch of the asset, as the ledger recorded it from the chain's event.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub latest: Option<EpochView>,
}

/// A round: one ledger snapshot (one block, one total) committed on every contract of the chain, each in its own tree.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoundView {
    /// The round's number.
    pub round: u64,
    /// The confirmed block the liabilities were read at.
    pub as_of_block: u64,
    /// Every user's liabilities (the same on every contract).
    pub total: AssetAmount,
    /// What the contracts held together, each read by its own commit transaction.
    pub custody: AssetAmount,
    /// Whether `custody` covers `total`.
    pub covered: bool,
    /// Its commitment on each contract, in the order of `contracts`.
    pub epochs: Vec<EpochView>,
}

/// Every asset's proof of solvency.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SolvencyOverview {
    /// One entry per asset, by id.
    pub assets: Vec<AssetSolvency>,
}

/// Per asset, the latest committed epoch of the proof of solvency (root, total, users, custody at commit, age) and
/// the one in flight. What the chain holds is the truth: the dApp reads it through the user's wallet.
#[utoipa::path(get, path = "/v1/public/solvency", tag = "public",
    responses((status = 200, body = SolvencyOverview)))]
pub async fn overview(State(ctx): State<ApiContext>) -> Result<Json<SolvencyOverview>, ApiError> {
    let mut assets = Vec::new();
    let heads = ledger::listener_statuses(&ctx.db).await?;
    for (asset_id, info) in ledger::assets(&ctx.db).await? {
        let Some(chain) = ctx.chains.get(info.chain_id) else { continue };
        let cadence = ctx.settings.solvency.as_ref().and_then(|s| s.chain(info.chain_id));
        let view = |e: &Epoch| epoch_view(e, info.decimals, &info.symbol);
        // The live contract first, then the replaced ones oldest first.
        let order: Vec<Address> = std::iter::once(chain.settlement).chain(chain.previous.iter().copied()).collect();
        let mut contracts = Vec::with_capacity(order.len());
        for (i, contract) in order.iter().enumerate() {
            let latest = solvency::committed(&ctx.db, asset_id, *contract, None).await?;
            contracts.push(ContractSolvency {
                contract: show_address(info.chain_id, contract.as_slice()),
                contract_hex: format!("{contract:#x}"),
                live: i == 0,
                latest: latest.as_ref().map(view),
            });
        }
        let oldest = chain.previous.first().copied().unwrap_or(chain.settlement);
        let round = solvency::complete_round(&ctx.db, asset_id, &order, oldest).await?.map(|rows| {
            let custody = rows.iter().fold(U256::ZERO, |sum, e| sum.saturating_add(e.custody.unwrap_or_default()));
            let first = &rows[0];
            RoundView {
                round: first.round,
                as_of_block: first.as_of_block,
                total: AssetAmount::new(first.total, info.decimals, &info.symbol),
                custody: AssetAmount::new(custody, info.decimals, &info.symbol),
                covered: custody >= U256::from(first.total),
                epochs: rows.iter().map(view).collect(),
            }
        });
        let latest = solvency::committed(&ctx.db, asset_id, chain.settlement, None).await?;
        let in_flight = solvency::in_flight(&ctx.db, asset_id).await?;
        let confirmed_block = heads.iter().find(|h| h.chain_id == info.chain_id).and_then(|h| h.confirmed_block);
        let age_blocks = latest
            .as_ref()
            .and_then(|e| e.committed_block)
            .zip(confirmed_block)
            .map(|(committed, head)| head.saturating_sub(committed));
        assets.push(AssetSolvency {
            asset_id,
            symbol: info.symbol.clone(),
            decimals: info.decimals,
            chain_id: info.chain_id,
            contract: show_address(info.chain_id, chain.settlement.as_slice()),
            contract_hex: format!("{:#x}", chain.settlement),
            token: show_address(info.chain_id, info.token.as_slice()),
            token_hex: format!("{:#x}", info.token),
            interval_blocks: cadence.map(|c| c.interval_blocks),
            max_age_blocks: cadence.map(|c| 2 * c.interval_blocks),
            confirmed_block,
            latest: latest.as_ref().map(|e| epoch_view(e, info.decimals, &info.symbol)),
            age_blocks,
            in_flight: in_flight.as_ref().map(|e| epoch_view(e, info.decimals, &info.symbol)),
            contracts,
            round,
            exit: ledger::exits::openings(&ctx.db, asset_id).await?.first().map(|o| ExitView {
                contract: show_address(info.chain_id, o.contract.as_slice()),
                opened_block: o.block,
                opened_tx: o.tx_hash.to_string(),
                custody: AssetAmount::new(o.custody, info.decimals, &info.symbol),
            }),
        });
    }
    Ok(Json(SolvencyOverview { assets }))
}

/// The epochs list's query: keyset pages, newest first.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EpochsQuery {
    /// Page size, 1..=100 (default 20).
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<i64>,
}

/// Every epoch of an asset, newest first, failed attempts too (a failed attempt's number is built again).
#[utoipa::path(get, path = "/v1/public/solvency/{asset_id}/epochs", tag = "public",
    params(("asset_id" = i32, Path, description = "The asset"), EpochsQuery),
    responses((status = 200, body = Page<EpochView>), (status = 404, body = ErrorBody),
        (status = 400, body = ErrorBody)))]
pub async fn epochs(
    State(ctx): State<ApiContext>,
    Path(asset_id): Path<i32>,
    Query(q): Query<EpochsQuery>,
) -> Result<Json<Page<EpochView>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let info = ledger::asset_info(&ctx.db, asset_id).await?.ok_or(ApiError::NotFound)?;
    let rows = solvency::history(&ctx.db, asset_id, q.cursor, limit + 1).await?;
    let ids: Vec<i64> = rows.iter().map(|e| e.id).collect();
    let views: Vec<(i64, EpochView)> =
        rows.iter().zip(ids).map(|(e, id)| (id, epoch_view(e, info.decimals, &info.symbol))).collect();
    let page = Page::keyset(views, limit, |(id, _)| *id);
    Ok(Json(Page { items: page.items.into_iter().map(|(_, v)| v).collect(), next_cursor: page.next_cursor }))
}

/// The proof query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProofQuery {
    /// The asset.
    pub asset_id: i32,
    /// The Settlement contract whose tree the proof is in (0x or T…): after an upgrade each contract of the chain
    /// commits the round in its own tree (`contracts` of `GET /v1/public/solvency`); the live one when absent.
    pub contract: Option<String>,
    /// The epoch (of that contract); the latest committed when absent.
    pub epoch: Option<u64>,
    /// `true`: answered as a file to save (`Content-Disposition: attachment`), for the command-line verifier.
    pub download: Option<bool>,
}

/// A user's liabilities in their leaf, by status, in base units (decimal strings).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeafBalances {
    /// Reserved for pool upgrades.
    pub reserved: String,
    /// Credited while frozen.
    pub held: String,
    /// Owed, not yet in a batch.
    pub pending: String,
    /// In a payout batch not yet settled.
    pub batched: String,
    /// Claimable from the contract.
    pub claimable: String,
    /// Retail commissions whose sale the buyer can still take back: present exactly in a sales-plan asset's leaves,
    /// which are 0x03 leaves of six components (SOLVENCY.md); absent in five-component 0x00 leaves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maturing: Option<String>,
}

/// One sibling on the path from a leaf to the root.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProofNode {
    /// Its hash, 0x hex.
    pub hash: String,
    /// The sum below it, decimal base units.
    pub sum: String,
}

/// A user's proof that their balance is a leaf of an epoch's root (SOLVENCY.md, `solvency/v1`). Every address is
/// the 20-byte 0x form the leaves hash (also on TRON). Verify it against `latestLiabilities(token)` read from the
/// chain yourself: `root` and `total` here are only what the API says.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SolvencyProof {
    /// `solvency/v1`.
    pub version: String,
    /// The chain id the leaves commit to.
    pub chain_id: u64,
    /// The Settlement contract, 0x.
    pub contract: String,
    /// The token, 0x (zero: the native coin).
    pub token: String,
    /// The asset.
    pub asset_id: i32,
    /// Its symbol.
    pub symbol: String,
    /// Its decimals.
    pub decimals: i16,
    /// The epoch.
    pub epoch: u64,
    /// The confirmed block the liabilities were read at.
    pub as_of_block: u64,
    /// The user, 0x.
    pub user: String,
    /// The user's liabilities in the leaf.
    pub balances: LeafBalances,
    /// Their value: the sum of the five.
    pub value: AssetAmount,
    /// The user's salt (HMAC of the backend's key): given only to its owner, it keeps the leaf's balances secret
    /// from whoever sees it as a sibling.
    pub salt: String,
    /// The leaf's position (leaves are ordered by hash).
    pub index: u64,
    /// Levels below the root.
    pub depth: u32,
    /// Users' leaves.
    pub leaf_count: u32,
    /// The siblings from the leaf up.
    pub siblings: Vec<ProofNode>,
    /// The root, as the API says it (compare with the chain's).
    pub root: String,
    /// The total, as the API says it (compare with the chain's).
    pub total: String,
    /// The transaction that committed the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub committed_tx: Option<String>,
}

/// The caller's proof of solvency in an asset: their leaf (balances, salt), its index and its siblings, to fold to
/// the root the chain holds. 404 `no_epoch` while no epoch is committed (or the one asked for is not), 404
/// `not_in_epoch` when the wallet has no leaf in it (it was not a user at its block), 404 `unknown_contract` for a
/// contract that is not one of the chain's, 422 `invalid_address` for one that is no address.
#[utoipa::path(get, path = "/v1/users/solvency-proof", tag = "users", security(("bearer" = [])), params(ProofQuery),
    responses((status = 200, body = SolvencyProof), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn proof(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(q): Query<ProofQuery>,
) -> Result<Response, ApiError> {
    let info = ledger::asset_info(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    let settings = ctx.settings.solvency.as_ref().ok_or_else(no_epoch)?;
    let key = settings.salt_key().map_err(ApiError::Internal)?;
    let chain = ctx.chains.chain(info.chain_id)?;
    let contract = match q.contract.as_deref() {
        None => chain.settlement,
        Some(text) => {
            let contract = parse_address(text, "contract")?;
            if !chain.contracts().any(|c| c == contract) {
                return Err(ApiError::Missing {
                    code: "unknown_contract",
                    message: format!("{text} is not a Settlement contract of the asset's chain"),
                });
            }
            contract
        }
    };
    // Epochs are stored as BIGINT: a number beyond it is no epoch (and must not wrap to another meaning).
    if q.epoch.is_some_and(|e| e == 0 || e > i64::MAX as u64) {
        return Err(no_epoch());
    }
    let epoch = solvency::committed(&ctx.db, q.asset_id, contract, q.epoch).await?.ok_or_else(no_epoch)?;
    let found = solvency::proof_in(&ctx.db, epoch, user.wallet).await?.ok_or_else(|| ApiError::Missing {
        code: "not_in_epoch",
        message: "this wallet has no leaf in this epoch: it was not a user of the asset at its block".into(),
    })?;
    let e = &found.epoch;
    let ctx_tree =
        ledger::solvency::tree::TreeContext { chain_id: e.chain_id, contract, token: e.token, epoch: e.epoch };
    let b = found.balances;
    let value = b.value().unwrap_or(u128::MAX);
    let body = SolvencyProof {
        version: "solvency/v1".into(),
        chain_id: e.chain_id,
        contract: format!("{contract:#x}"),
        token: format!("{:#x}", e.token),
        asset_id: q.asset_id,
        symbol: info.symbol.clone(),
        decimals: info.decimals,
        epoch: e.epoch,
        as_of_block: e.as_of_block,
        user: format!("{:#x}", user.wallet),
        balances: LeafBalances {
            reserved: b.reserved.to_string(),
            held: b.held.to_string(),
            pending: b.pending.to_string(),
            batched: b.batched.to_string(),
            claimable: b.claimable.to_string(),
            maturing: b.maturing.map(|m| m.to_string()),
        },
        value: AssetAmount::new(value, info.decimals, &info.symbol),
        salt: ledger::solvency::tree::salt(&key, &ctx_tree, user.wallet).to_string(),
        index: found.index,
        depth: e.depth,
        leaf_count: e.leaf_count,
        siblings: found
            .siblings
            .iter()
            .map(|n| ProofNode { hash: n.hash.to_string(), sum: n.sum.to_string() })
            .collect(),
        root: e.root.to_string(),
        total: e.total.to_string(),
        committed_tx: hex_bytes(e.committed_tx.map(|t| t.to_vec())),
    };
    let mut response = Json(&body).into_response();
    if q.download == Some(true) {
        // The contract in the name only after an upgrade: each contract's proof is a file of its own.
        let on = if chain.previous.is_empty() { String::new() } else { format!("-{contract:#x}") };
        let name = format!("solvency-proof-{}-epoch{}{on}-{:#x}.json", info.symbol, e.epoch, user.wallet);
        let disposition = format!(
            "attachment; filename=\"{}\"",
            name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '.', "_")
        );
        if let Ok(v) = HeaderValue::from_str(&disposition) {
            response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(response)
}

fn no_epoch() -> ApiError {
    ApiError::Missing {
        code: "no_epoch",
        message: "no committed epoch of the proof of solvency for this asset (yet)".into(),
    }
}
