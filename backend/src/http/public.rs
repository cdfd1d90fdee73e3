//! `/v1/public`: what anyone may see before paying (PLAN.md §9): each asset's plan parameters
//! in force and the aggregate outcomes of its participants. No login.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::types::{AssetAmount, rfc3339_secs, show_address};
use crate::http::context::ApiContext;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Json, Query, parse_address};

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(plan))
        .routes(routes!(disclosure))
        .routes(routes!(chains))
        .routes(routes!(sponsor))
}

/// A would-be sponsor: whose referral link a visitor opened.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SponsorQuery {
    /// The asset the link registers in; 404 when unknown.
    pub asset_id: i32,
    /// The sponsor, 0x or (on TRON) `T…`; 422 `invalid_address` otherwise.
    pub address: String,
}

/// What anyone may read of a sponsor in one asset before naming them: all of it is public on chain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicSponsor {
    /// The asset.
    pub asset_id: i32,
    /// The sponsor in the asset chain's form.
    pub address: String,
    /// Whether the sponsor is registered in the asset: a registration naming a wallet that is not is refused.
    pub registered: bool,
    /// Their user number in the asset (0: the genesis user); absent when not registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub user_no: Option<i32>,
    /// When they registered (RFC 3339, their registration block's time); absent for the genesis user and when not
    /// registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub registered_at: Option<String>,
    /// Wallets registered naming them; absent when not registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub direct_referrals: Option<i64>,
    /// Frozen by the operator: a registration naming them is refused while they are.
    pub frozen: bool,
}

/// Who a referral link names, before anyone pays: registered in the asset or not, since when, how many direct
/// referrals.
#[utoipa::path(get, path = "/v1/public/sponsor", tag = "public", params(SponsorQuery),
    responses((status = 200, body = PublicSponsor), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn sponsor(
    State(ctx): State<ApiContext>,
    Query(q): Query<SponsorQuery>,
) -> Result<Json<PublicSponsor>, ApiError> {
    let wallet = parse_address(&q.address, "address")?;
    let card = ledger::members::sponsor_card(&ctx.db, q.asset_id, wallet).await?.ok_or(ApiError::NotFound)?;
    let member = card.member.as_ref();
    Ok(Json(PublicSponsor {
        asset_id: q.asset_id,
        address: show_address(card.chain_id, wallet.as_slice()),
        registered: member.is_some(),
        user_no: member.map(|m| m.user_no),
        registered_at: member.and_then(|m| m.registered_at).map(|t| rfc3339_secs(t as u64)),
        direct_referrals: member.map(|m| m.direct_referrals),
        frozen: member.is_some_and(|m| m.frozen),
    }))
}

/// What the pages need of the site and of each configured chain: where sign-in works, the chains' names, a public
/// RPC and native coin for wallets that do not know a chain, and their explorers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicChains {
    /// The site sign-in messages name (`[auth] uri`): a page opened elsewhere cannot sign in and says so.
    pub signin_uri: String,
    /// The EIP-4361 `domain` of sign-in messages (`[auth] domain`).
    pub signin_domain: String,
    /// Every configured chain, in configuration order.
    pub chains: Vec<PublicChain>,
    /// WalletConnect, when a project id is configured: the page then offers it (EVM chains only), loading its
    /// client from this origin, talking to this relay and reading chains through their `public_rpc_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub walletconnect: Option<PublicWalletConnect>,
}

/// WalletConnect's public settings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicWalletConnect {
    /// The WalletConnect project id.
    pub project_id: String,
    /// `wss://…`; the pages' security policy allows it.
    pub relay_url: String,
}

/// One configured chain as the pages show it; every field but the id is absent unless configured.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicChain {
    /// The chain's id.
    pub chain_id: u64,
    /// What the pages call the chain (`BNB Smart Chain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// An RPC URL a wallet may add the chain with (`wallet_addEthereumChain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub public_rpc_url: Option<String>,
    /// The block explorer's base URL (no trailing slash).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub explorer_url: Option<String>,
    /// The chain's native coin as wallets show it (`wallet_addEthereumChain`'s `nativeCurrency`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub native_currency: Option<crate::config::NativeCurrency>,
}

/// The sign-in site and the configured chains' names, public RPCs and explorers.
#[utoipa::path(get, path = "/v1/public/chains", tag = "public", responses((status = 200, body = PublicChains)))]
pub async fn chains(State(ctx): State<ApiContext>) -> Json<PublicChains> {
    let s = &ctx.settings;
    let chains = s
        .chains
        .iter()
        .map(|c| PublicChain {
            chain_id: c.spec.chain_id,
            name: c.tuning.name.clone(),
            public_rpc_url: c.tuning.public_rpc_url.clone(),
            explorer_url: c.tuning.explorer_url.as_ref().map(|u| u.trim_end_matches('/').to_owned()),
            native_currency: c.tuning.native_currency.clone(),
        })
        .collect();
    let walletconnect = s
        .walletconnect
        .as_ref()
        .map(|w| PublicWalletConnect { project_id: w.project_id.clone(), relay_url: w.relay_url.clone() });
    Json(PublicChains { signin_uri: s.auth.uri.clone(), signin_domain: s.auth.domain.clone(), chains, walletconnect })
}

/// The plan in force for each asset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicPlans {
    /// One entry per asset of the auto-pool plan (PLAN.md), by asset id.
    pub assets: Vec<AssetPlan>,
    /// One entry per asset of the generation plan (PLAN-GENERATION.md), by asset id.
    pub generation: Vec<GenerationAssetPlan>,
    /// One entry per asset of the binary plan (PLAN-BINARY.md), by asset id, with the odds its members have had.
    pub binary: Vec<super::plans::binary::BinaryAssetPlan>,
}

/// One level of the generation plan: its share of a purchase and who it is open to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GenerationLevel {
    /// 1 for the buyer's sponsor, 2 for theirs, … 20.
    pub level: u32,
    /// The level's share of each purchase, basis points.
    pub bps: u32,
    /// Direct referrals a sponsor needs for this level to pay them.
    pub directs_required: u32,
}

/// One rank of the generation plan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GenerationRank {
    /// 1 for the first (lowest) rank.
    pub rank: u32,
    /// Its name.
    pub name: String,
    /// Least volume of the largest leg (the largest direct referral's team, themselves included).
    pub main_leg: AssetAmount,
    /// Least volume of all the other legs together.
    pub other_legs: AssetAmount,
    /// What the rank pays each week, scaled down when the company's balance cannot pay every bonus, and never
    /// above the user's room under their cap.
    pub weekly_bonus: AssetAmount,
}

/// The generation plan of one asset (its newest version): what a purchase pays up the chain, the cap, the ranks
/// and the withdrawal fee, exactly as the ledger applies them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GenerationAssetPlan {
    /// The asset's id.
    pub asset_id: i32,
    /// The chain the asset lives on.
    pub chain_id: i64,
    /// Token contract in the chain's form.
    pub token: String,
    /// The asset's symbol.
    pub symbol: String,
    /// Decimals of the asset's base unit.
    pub decimals: i16,
    /// The plan version's number.
    pub version: i32,
    /// First block whose events this version governs.
    pub effective_from_block: i64,
    /// The only amounts a registration or purchase may pay; any other amount is held in suspense until refunded.
    pub packages: Vec<AssetAmount>,
    /// The 20 levels of generation income.
    pub levels: Vec<GenerationLevel>,
    /// A user earns at most `cap_bps` / 10000 of what they paid in (30000: three times).
    pub cap_bps: u32,
    /// The weekly ranks, lowest first.
    pub ranks: Vec<GenerationRank>,
    /// Unix time of week 0's start; weeks are `week_seconds` long and close on block time.
    pub week_origin: u64,
    /// Seconds in a week.
    pub week_seconds: u64,
    /// The company keeps ⌈entry × `withdrawal_fee_bps` / 10000⌉ of each payout entry.
    pub withdrawal_fee_bps: u32,
}

/// The plan version of one asset with the highest number (the one new events apply under
/// once their block reaches `effective_from_block`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetPlan {
    /// The asset's id.
    pub asset_id: i32,
    /// The chain the asset lives on.
    pub chain_id: i64,
    /// Token contract (0x hex); the zero address for the chain's native coin.
    pub token: String,
    /// The asset's symbol (`USDT`, `BNB`).
    pub symbol: String,
    /// Decimals of the asset's base unit.
    pub decimals: i16,
    /// The plan version's number: 1 for the asset's first plan, then one more per change.
    pub version: i32,
    /// First block whose events this version governs; earlier events keep their version.
    pub effective_from_block: i64,
    /// Exact amount a registration must pay; also the level-1 node price.
    pub registration_fee: AssetAmount,
    /// DIRECT reward to the sponsor of a registration that is not a pool entry; the rest goes to the company.
    pub direct_amount: AssetAmount,
    /// Every n-th direct referral's fee is the sponsor's level-1 pool entry instead of a DIRECT reward.
    pub pool_entry_every: u32,
    /// Most nodes one user may hold in one level.
    pub max_nodes_per_level: u32,
    /// Price of a node per level, level 1 first.
    pub level_price: Vec<AssetAmount>,
    /// Parent, grandparent, great-grandparent shares of a pool placement, basis points.
    pub layer_bps: [u32; 3],
    /// How many of the last matrix slots reserve the POOL_L3 credit towards the next level.
    pub reserve_slots: u32,
    /// Exact amount a retopup must pay; shared out as LEVEL rewards up the sponsor chain.
    pub retopup_fee: AssetAmount,
    /// Shares of a retopup for the sponsors 1..n up the chain, basis points.
    pub level_bps: Vec<u32>,
}

/// Plan parameters per asset (latest version).
#[utoipa::path(get, path = "/v1/public/plan", tag = "public", responses((status = 200, body = PublicPlans)))]
pub async fn plan(State(ctx): State<ApiContext>) -> Result<Json<PublicPlans>, ApiError> {
    let rows = ledger::plans(&ctx.db).await?;
    let assets = rows
        .into_iter()
        .map(|r| {
            let (d, sym) = (r.info.decimals, r.info.symbol.as_str());
            let p = r.params;
            AssetPlan {
                asset_id: r.asset_id,
                chain_id: r.info.chain_id as i64,
                token: abi::tron::show(r.info.chain_id, r.info.token),
                decimals: d,
                version: r.version,
                effective_from_block: r.effective_from_block,
                registration_fee: AssetAmount::new(p.registration_fee, d, sym),
                direct_amount: AssetAmount::new(p.direct_amount, d, sym),
                pool_entry_every: p.pool_entry_every,
                max_nodes_per_level: p.max_nodes_per_level,
                level_price: p.level_price.iter().map(|x| AssetAmount::new(x, d, sym)).collect(),
                layer_bps: p.layer_bps,
                reserve_slots: p.reserve_slots,
                retopup_fee: AssetAmount::new(p.retopup_fee, d, sym),
                level_bps: p.level_bps,
                symbol: r.info.symbol,
            }
        })
        .collect();
    let generation = ledger::generation::plans(&ctx.db).await?.into_iter().map(generation_plan).collect();
    let binary = super::plans::binary::public_plans(&ctx).await?;
    Ok(Json(PublicPlans { assets, generation, binary }))
}

fn generation_plan(r: ledger::generation::GenerationPlan) -> GenerationAssetPlan {
    let (d, sym) = (r.info.decimals, r.info.symbol.as_str());
    let p = r.params;
    let amount = |a: u128| AssetAmount::new(a, d, sym);
    GenerationAssetPlan {
        asset_id: r.asset_id,
        chain_id: r.info.chain_id as i64,
        token: abi::tron::show(r.info.chain_id, r.info.token),
        decimals: d,
        version: r.version,
        effective_from_block: r.effective_from_block,
        packages: p.packages.iter().map(|a| amount(*a)).collect(),
        levels: (0..p.gen_bps.len())
            .map(|i| GenerationLevel { level: i as u32 + 1, bps: p.gen_bps[i], directs_required: p.direct_req[i] })
            .collect(),
        cap_bps: p.cap_bps,
        ranks: p
            .ranks
            .iter()
            .enumerate()
            .map(|(i, k)| GenerationRank {
                rank: i as u32 + 1,
                name: k.name.clone(),
                main_leg: amount(k.main),
                other_legs: amount(k.other),
                weekly_bonus: amount(k.bonus),
            })
            .collect(),
        week_origin: p.week_origin,
        week_seconds: ledger::plan::generation::WEEK_SECS,
        withdrawal_fee_bps: p.withdrawal_fee_bps,
        symbol: r.info.symbol,
    }
}

/// Participants' aggregate outcomes for each asset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicDisclosures {
    /// One entry per asset, by asset id.
    pub assets: Vec<AssetDisclosure>,
}

/// Aggregate outcomes of one asset's participants (every user but genesis). A participant's
/// net result is what they received (rewards pending, batched or settled) minus what they paid in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetDisclosure {
    /// The asset's id.
    pub asset_id: i32,
    /// The asset's symbol.
    pub symbol: String,
    /// Users of the asset other than genesis.
    pub participants: u64,
    /// Participants who have received at least what they paid in.
    pub received_at_least_paid_in: u64,
    /// Lower median of the net results; none without participants.
    pub median_net: Option<AssetAmount>,
    /// Everything the company has been credited.
    pub company_total: AssetAmount,
    /// For an asset of the generation plan: participants who have earned their whole cap (they earn again only
    /// after another purchase). Absent for the auto-pool plan, which has no cap.
    pub users_at_cap: Option<u64>,
}

/// Participants' outcomes per asset: the odds before paying.
#[utoipa::path(get, path = "/v1/public/disclosure", tag = "public",
    responses((status = 200, body = PublicDisclosures)))]
pub async fn disclosure(State(ctx): State<ApiContext>) -> Result<Json<PublicDisclosures>, ApiError> {
    let assets = ledger::assets(&ctx.db).await?;
    let mut out = Vec::with_capacity(assets.len());
    let generation: Vec<i32> = ledger::generation::plans(&ctx.db).await?.iter().map(|p| p.asset_id).collect();
    for (asset_id, ledger::AssetInfo { symbol, decimals, .. }) in assets {
        let d = ledger::disclosure::disclosure(&ctx.db, asset_id).await.map_err(eyre::Report::new)?;
        let users_at_cap = match generation.contains(&asset_id) {
            true => Some(ledger::generation::users_at_cap(&ctx.db, asset_id).await?),
            false => None,
        };
        out.push(AssetDisclosure {
            asset_id,
            participants: d.participants,
            received_at_least_paid_in: d.received_at_least_paid_in,
            median_net: d.median_net.map(|m| AssetAmount::new(m, decimals, &symbol)),
            company_total: AssetAmount::new(d.company_total, decimals, &symbol),
            users_at_cap,
            symbol,
        });
    }
    Ok(Json(PublicDisclosures { assets: out }))
}
