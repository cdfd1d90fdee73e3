//! Creating an asset, one path for the console's `POST /v1/admin/assets` and the `referral-asset` command (and the
//! devnet, which runs the command): the token's decimals and symbol read from the token itself, the token checked to
//! be allowed on the chain's Settlement contract, the plan's parameters checked by the plan's own rules (a key the
//! plan does not have refused), then created and audited as `create_asset` in one transaction.

use alloy::{
    primitives::Address,
    providers::{DynProvider, Provider},
};
use ledger::plan::PlanKind;
use serde::Serialize;
use service_kit::chain_spec::ChainSpec;
use sqlx::PgPool;

use crate::config::ChainSettings;
use crate::refusal::Refusal;

alloy::sol! {
    /// What every ERC-20 / TRC-20 token with metadata answers.
    #[sol(rpc)]
    interface IERC20Metadata {
        function decimals() external view returns (uint8);
        function symbol() external view returns (string);
    }
}

/// Longest symbol an asset may have (the ledger shows it beside every amount).
pub const SYMBOL_MAX_LEN: usize = 16;
/// Most decimals an asset's unit may have (the ledger's limit; PLAN.md's amounts fit 78 digits).
pub const DECIMALS_MAX: u8 = 36;

/// What an admin asks for: everything but the decimals, which the token tells.
#[derive(Debug, Clone)]
pub struct AssetRequest {
    /// The ledger id; `None`: one above the highest.
    pub id: Option<i32>,
    /// The chain whose Settlement contract holds it.
    pub chain_id: u64,
    /// The token; the zero address for the chain's native coin.
    pub token: Address,
    /// The symbol shown; `None`: the token's own `symbol()` (the native coin's for the zero address).
    pub symbol: Option<String>,
    /// The operator's root wallet: user 0 of the asset.
    pub genesis: Address,
    /// The plan the asset runs, for good.
    pub plan: PlanKind,
    /// The plan's complete parameter set (amounts in base units, decimal strings); `None`: the plan's defaults in the
    /// coin's unit ([`default_unit`]: a whole token; a thousandth of BNB, 4 TRX on a real network).
    pub params: Option<serde_json::Value>,
}

/// An asset as it is (or would be) created, every field checked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckedAsset {
    /// The ledger id.
    pub id: i32,
    /// The chain.
    pub chain_id: u64,
    /// The token in the chain's form (0x EIP-55, `T…` on TRON); the zero address for the native coin.
    pub token: String,
    /// The symbol shown beside amounts.
    pub symbol: String,
    /// Decimals of the base unit, as the token reports them (the chain's for the native coin).
    pub decimals: u8,
    /// The genesis user (user 0), in the chain's form.
    pub genesis: String,
    /// The plan: `auto_pool` (PLAN.md) or `generation` (PLAN-GENERATION.md).
    #[schema(value_type = String)]
    pub plan: PlanKind,
    /// The plan's parameters as stored, version 1 from block 0.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    #[serde(skip)]
    token_address: Address,
    #[serde(skip)]
    genesis_address: Address,
}

/// A plan's parameters refused: 422 `invalid_plan`, saying why.
pub fn invalid_plan(e: ledger::plan::InvalidParams) -> Refusal {
    Refusal::unprocessable("invalid_plan", e.to_string())
}

/// A symbol as the ledger keeps it: 1..=16 printable ASCII letters, digits, `.`, `-` or `_`.
fn checked_symbol(symbol: &str, whose: &str) -> Result<String, Refusal> {
    let ok = (1..=SYMBOL_MAX_LEN).contains(&symbol.len())
        && symbol.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !ok {
        return Err(Refusal::unprocessable(
            "invalid_symbol",
            format!(
                "{whose} {symbol:.40?} is not 1 to {SYMBOL_MAX_LEN} letters, digits, '.', '-' or '_'; give `symbol`"
            ),
        ));
    }
    Ok(symbol.to_owned())
}

/// The decimals and, when it answers one, the symbol of `token` on `settings`' chain (the chain's own coin for the
/// zero address): 422 `not_a_contract` or `not_a_token` when it is no token.
pub async fn token_metadata(
    settings: &ChainSettings,
    provider: &DynProvider,
    token: Address,
) -> Result<(u8, Option<String>), Refusal> {
    let chain_id = settings.spec.chain_id;
    let tron = abi::chain::Family::of(chain_id) == abi::chain::Family::Tron;
    let shown = |a: Address| if tron { abi::tron::to_base58(a) } else { a.to_checksum(None) };
    Ok(if token == Address::ZERO {
        // The native coin: the chain's (wallet_addEthereumChain's `nativeCurrency` when configured).
        match &settings.tuning.native_currency {
            Some(coin) => (coin.decimals, Some(coin.symbol.clone())),
            None if tron => (6, Some("TRX".to_owned())),
            None => (18, Some("BNB".to_owned())),
        }
    } else {
        let code = provider
            .get_code_at(token)
            .await
            .map_err(|e| Refusal::unavailable("chain_unavailable", format!("chain {chain_id} did not answer: {e}")))?;
        if code.is_empty() {
            return Err(Refusal::unprocessable(
                "not_a_contract",
                format!("{} is no contract on chain {chain_id}", shown(token)),
            ));
        }
        let contract = IERC20Metadata::new(token, provider);
        let decimals = contract.decimals().call().await.map_err(|e| {
            Refusal::unprocessable(
                "not_a_token",
                format!("{} does not answer decimals() as a token does: {e}", shown(token)),
            )
        })?;
        // A token may answer symbol() as bytes32 or not at all: then the request must name it.
        let symbol = contract.symbol().call().await.ok();
        (decimals, symbol)
    })
}

/// Checks `req` against the chain (`settings`, read through `provider`) and the plan's rules; creates nothing.
/// 422 with a stable code for each refusal: `invalid_genesis`, `not_a_contract`, `not_a_token`,
/// `unsupported_decimals`, `invalid_symbol`, `token_not_allowed`, `invalid_plan`, `invalid_asset_id`; 409
/// `asset_exists` / `token_has_asset` when the id or the token has an asset already.
pub async fn check(
    db: &PgPool,
    settings: &ChainSettings,
    provider: &DynProvider,
    req: &AssetRequest,
) -> Result<CheckedAsset, Refusal> {
    let chain_id = settings.spec.chain_id;
    let tron = abi::chain::Family::of(chain_id) == abi::chain::Family::Tron;
    if req.genesis == Address::ZERO {
        return Err(Refusal::unprocessable("invalid_genesis", "genesis must be the operator's root wallet, not zero"));
    }
    let shown = |a: Address| if tron { abi::tron::to_base58(a) } else { a.to_checksum(None) };
    let on_chain = |e: alloy::contract::Error| {
        Refusal::unavailable("chain_unavailable", format!("chain {chain_id} did not answer: {e}"))
    };
    let (decimals, token_symbol) = token_metadata(settings, provider, req.token).await?;
    if decimals > DECIMALS_MAX {
        return Err(Refusal::unprocessable(
            "unsupported_decimals",
            format!("{} has {decimals} decimals; the ledger takes at most {DECIMALS_MAX}", shown(req.token)),
        ));
    }
    let settlement = abi::Settlement::new(settings.spec.settlement, provider);
    if !settlement.isAllowedToken(req.token).call().await.map_err(on_chain)? {
        return Err(Refusal::unprocessable(
            "token_not_allowed",
            format!(
                "{} is not allowed on chain {chain_id}'s Settlement contract, so no member could pay in it: the admin \
                 schedules its allowance (scheduleTokenAllowance), applies it after the delay, then creates the asset",
                shown(req.token)
            ),
        ));
    }
    let symbol = match (&req.symbol, token_symbol) {
        (Some(given), _) => checked_symbol(given, "symbol")?,
        (None, Some(read)) => checked_symbol(&read, "the token's symbol()")?,
        (None, None) => {
            return Err(Refusal::unprocessable(
                "invalid_symbol",
                format!("{} does not answer symbol(); give `symbol`", shown(req.token)),
            ));
        }
    };
    // The plan's parameters: the given set, or the plan's defaults in this coin's unit; checked by its rules.
    let room = ledger::plan::params_of(req.plan);
    let unit = default_unit(&settings.spec, req.token, decimals);
    let params = room.checked(&req.params.clone().unwrap_or_else(|| room.defaults_in(unit))).map_err(invalid_plan)?;
    let id = match req.id {
        Some(id) if id > 0 => id,
        Some(id) => return Err(Refusal::unprocessable("invalid_asset_id", format!("asset id {id} is not above 0"))),
        None => ledger::admin::next_asset_id(db).await?,
    };
    let mut conn = db.acquire().await?;
    ledger::admin::refuse_existing(&mut conn, id, chain_id, req.token).await?;
    Ok(CheckedAsset {
        id,
        chain_id,
        token: shown(req.token),
        symbol,
        decimals,
        genesis: shown(req.genesis),
        plan: req.plan,
        params,
        token_address: req.token,
        genesis_address: req.genesis,
    })
}

/// What a plan's defaults count in for the coin `token` of `spec`'s chain (a registration is 20 of them under the
/// auto-pool plan, packages 100 to 5000 under the others), in base units: a whole token for a token (USDT); for a
/// chain's own coin on a real network (mainnet or testnet), a part worth about as much as a dollar of USDT, so that
/// the defaults never ask 20 BNB for a registration: a thousandth of a BNB (0.02 BNB a registration), 4 TRX. On a
/// development chain a whole coin, as the devnet and the tests have always had it.
pub fn default_unit(spec: &ChainSpec, token: Address, decimals: u8) -> u128 {
    let whole = 10u128.pow(u32::from(decimals));
    if !token.is_zero() || spec.is_development() {
        return whole;
    }
    match abi::chain::Family::of(spec.chain_id) {
        abi::chain::Family::Evm => whole / 1_000,
        abi::chain::Family::Tron => whole * 4,
    }
}

/// Creates a checked asset, audited with `actor` as `create_asset`: 409 `asset_exists` or `token_has_asset` when its
/// id or its chain's token is taken (a request sent twice creates one asset).
pub async fn create(db: &PgPool, asset: &CheckedAsset, actor: &str) -> Result<(), Refusal> {
    let spec = ledger::AssetSpec {
        id: asset.id,
        chain_id: asset.chain_id,
        token: asset.token_address,
        symbol: asset.symbol.clone(),
        decimals: asset.decimals,
        genesis: asset.genesis_address,
        params: asset.params.clone(),
    };
    ledger::plan::params_of(asset.plan).create_asset(db, spec, actor).await?;
    Ok(())
}
