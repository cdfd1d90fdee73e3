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
    pub assets: Vec<super::plans::auto_pool::AssetPlan>,
    /// One entry per asset of the generation plan (PLAN-GENERATION.md), by asset id.
    pub generation: Vec<super::plans::generation::GenerationAssetPlan>,
    /// One entry per asset of the binary plan (PLAN-BINARY.md), by asset id, with the odds its members have had.
    pub binary: Vec<super::plans::binary::BinaryAssetPlan>,
    /// One entry per asset of the sales plan (PLAN-SALES.md), by asset id: its rules in words and its odds.
    pub sales: Vec<super::plans::sales::SalesAssetPlan>,
}

/// Plan parameters per asset (latest version).
#[utoipa::path(get, path = "/v1/public/plan", tag = "public", responses((status = 200, body = PublicPlans)))]
pub async fn plan(State(ctx): State<ApiContext>) -> Result<Json<PublicPlans>, ApiError> {
    let assets = super::plans::auto_pool::public_plans(&ctx).await?;
    let generation = super::plans::generation::public_plans(&ctx).await?;
    let binary = super::plans::binary::public_plans(&ctx).await?;
    let sales = super::plans::sales::public_plans(&ctx).await?;
    Ok(Json(PublicPlans { assets, generation, binary, sales }))
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
