//! The one Rust definition of the Settlement contract.
//!
//! `artifacts/*.json` are generated from `contracts/src` by `cargo run -p abi-codegen` (CI fails when they
//! drift), and `sol!` turns them into the call, event and EIP-712 struct types that the signer, backend,
//! listener and tests share. Nothing here restates a Solidity type by hand.

#![warn(missing_docs)]

pub mod approval;
pub mod catalogue;
pub mod chain;
pub mod code;
pub mod deployment;
pub mod eip712;
pub mod limits;
pub mod nonces;
pub mod safe;
pub mod toolchain;
pub mod tron;

/// The generated bindings; sol! documents every item but an enum's newtype (`ChangeKind`), hence the allow.
#[allow(missing_docs)]
mod bindings {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        #[derive(serde::Serialize, serde::Deserialize)]
        // LiabilitiesCommitted carries eight fields, and its generated constructor takes them all.
        #[allow(clippy::too_many_arguments)]
        Settlement,
        "artifacts/Settlement.json"
    );
}
pub use bindings::Settlement;

/// The members' exit Settlement deploys in its constructor (`Settlement::exits()`, contracts/EXIT.md).
#[allow(missing_docs)]
mod exit_bindings {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        #[derive(serde::Serialize, serde::Deserialize)]
        // `opening` answers eight values, and its generated return's constructor takes them all.
        #[allow(clippy::too_many_arguments)]
        SettlementExit,
        "artifacts/SettlementExit.json"
    );
}
pub use exit_bindings::SettlementExit;

/// The sales and refunds of the sales plan, which Settlement deploys in its constructor (`Settlement::sales()`,
/// contracts/SALES.md).
#[allow(missing_docs)]
mod sales_bindings {
    alloy::sol!(
        #[sol(rpc, all_derives)]
        #[derive(serde::Serialize, serde::Deserialize)]
        // `Sold` carries nine fields, and its generated constructor takes them all.
        #[allow(clippy::too_many_arguments)]
        SettlementSales,
        "artifacts/SettlementSales.json"
    );
}
pub use sales_bindings::SettlementSales;

alloy::sol!(
    /// Development/test token: 6 decimals, returns false from successful transfers like TRON's USDT.
    #[sol(rpc, all_derives)]
    TestUSDT,
    "artifacts/TestUSDT.json"
);

alloy::sol!(
    /// Development/test price feed with Chainlink's AggregatorV3Interface; its owner sets the answers.
    #[sol(rpc, all_derives)]
    StandInAggregator,
    "artifacts/StandInAggregator.json"
);

pub use Settlement::{LiabilityRoot, Payout, PayoutBatch, Registration, Retopup, TreasuryTransfer};
pub use eip712::{DOMAIN_NAME, DOMAIN_VERSION, SettlementDomain, payouts_hash, signing_chain_id};

/// The native coin is `token == address(0)` in every payload and event.
pub const NATIVE_TOKEN: alloy::primitives::Address = alloy::primitives::Address::ZERO;
