//! Response and request pieces every resource shares: amounts in an asset's units, the transaction a wallet
//! sends, base-unit amount parsing, an asset's metadata, the clock.

use alloy::primitives::{Address, U256};
use serde::Serialize;
use signer_client::intent::Amount as SignerAmount;

pub use crate::clock::Clock;
use crate::http::context::ApiContext;
use crate::http::error::ApiError;

/// An amount of an asset: exact base units and a human form per the asset's decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AssetAmount {
    /// Base units (wei, 10^-6 USDT…), decimal string; may be negative for net results.
    pub base: String,
    /// E.g. `20 BNB`, `20.5 BNB`, `-2 USDT`.
    pub human: String,
}

impl AssetAmount {
    /// `base` base units of an asset with `decimals` and `symbol`, with its human form.
    pub fn new(base: impl ToString, decimals: i16, symbol: &str) -> Self {
        let base = base.to_string();
        let human = crate::units::human(&base, decimals, symbol);
        Self { base, human }
    }
}

pub use crate::units::human_units;

/// Unix seconds (a chain's time) as RFC 3339 UTC, to the second: `2026-11-30T00:00:00Z`.
pub fn rfc3339_secs(unix: u64) -> String {
    chrono::DateTime::from_timestamp(unix as i64, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| unix.to_string())
}

/// What the wallet sends: `to`, `value` (native coin; "0" for a token, which needs an approval
/// of `amount` to the contract first) and the calldata.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WalletTransaction {
    /// The contract called, in the chain's form: 0x EIP-55, `T…` base58check on a TRON chain (where a wallet sends
    /// the answer's `tron` call instead). Address arguments inside `data` are ABI words on every chain.
    pub to: String,
    /// Native coin sent with the call, base units as a decimal string; `0` for a token.
    pub value: String,
    /// The calldata, 0x hex.
    pub data: String,
}

/// A base-unit amount: a decimal string of digits that fits in uint256; 422 `invalid_amount`.
pub fn parse_amount(text: &str, field: &str) -> Result<U256, ApiError> {
    text.parse::<SignerAmount>()
        .map(|a| a.0)
        .map_err(|e| ApiError::unprocessable("invalid_amount", format!("{field}: {e}")))
}

/// A stored 20-byte address as the asset's chain shows it: `T…` base58check on TRON, EIP-55 elsewhere.
pub fn show_address(chain_id: u64, bytes: &[u8]) -> String {
    abi::tron::show(chain_id, Address::from_slice(bytes))
}

/// Symbol, decimals, chain id and token of an asset.
#[derive(Debug, Clone)]
pub struct AssetMeta {
    /// The asset's display symbol (`USDT`, `BNB`).
    pub symbol: String,
    /// Decimals of its base unit.
    pub decimals: i16,
    /// The chain it lives on.
    pub chain_id: u64,
    /// Its token contract; the zero address for the chain's native coin.
    pub token: Address,
}

impl AssetMeta {
    /// The asset's metadata; 422 `unknown_asset`.
    pub async fn load(ctx: &ApiContext, asset_id: i32) -> Result<Self, ApiError> {
        let info = ledger::asset_info(&ctx.db, asset_id)
            .await?
            .ok_or_else(|| ApiError::unprocessable("unknown_asset", format!("no asset {asset_id}")))?;
        Ok(Self { symbol: info.symbol, decimals: info.decimals, chain_id: info.chain_id, token: info.token })
    }

    /// `base` in this asset's units.
    pub fn amount(&self, base: impl ToString) -> AssetAmount {
        AssetAmount::new(base, self.decimals, &self.symbol)
    }
}

/// `0x…` hex of optional stored bytes.
pub fn hex_bytes(bytes: Option<Vec<u8>>) -> Option<String> {
    bytes.map(alloy::hex::encode_prefixed)
}

#[cfg(test)]
mod tests {
    use super::human_units;

    #[test]
    fn human_units_are_exact() {
        assert_eq!(human_units("20000000000000000000", 18), "20");
        assert_eq!(human_units("20500000000000000000", 18), "20.5");
        assert_eq!(human_units("1", 18), "0.000000000000000001");
        assert_eq!(human_units("0", 18), "0");
        assert_eq!(human_units("-2000000", 6), "-2");
        assert_eq!(human_units("-1500000", 6), "-1.5");
        assert_eq!(human_units("123", 0), "123");
    }
}

/// `feeLimit` suggested (SUN) when the chain has no `[[chains]] fee_limit_sun`: 150 TRX.
pub const DEFAULT_FEE_LIMIT_SUN: u64 = 150_000_000;

/// A contract call as TronWeb's `transactionBuilder.triggerSmartContract` takes it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TronCall {
    /// The contract called, base58check (`T…`).
    pub contract: String,
    /// E.g. `register((address,address,address,uint256,uint256,uint256),bytes)`.
    pub function_selector: String,
    /// ABI-encoded arguments without the 4-byte selector, hex without 0x (TronWeb's `rawParameter`).
    pub parameter: String,
    /// SUN sent with the call: the fee on a TRX asset, 0 for a token.
    pub call_value: String,
    /// Suggested `feeLimit` in SUN (`[[chains]] fee_limit_sun`); the wallet pays only what the call burns.
    pub fee_limit: u64,
    /// For a token: `approve(Settlement, amount)` on the token, to send before the payment.
    pub approve: Option<TronApprove>,
}

/// The token approval a TRON payment in a token needs first, in TronWeb's terms.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TronApprove {
    /// The token contract, base58check.
    pub contract: String,
    /// `approve(address,uint256)`.
    pub function_selector: String,
    /// ABI-encoded (Settlement, amount), hex without 0x.
    pub parameter: String,
    /// Suggested `feeLimit` in SUN.
    pub fee_limit: u64,
}
