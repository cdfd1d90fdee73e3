//! What a development deployment is, whichever way it was made (anvil's JSON-RPC in [`crate::devchain`], TRON's
//! gRPC API in [`crate::tron_deploy`]): its addresses and the push gas it forwards. Both deployers read this
//! module; neither imports the other's.

use alloy::primitives::Address;

/// Gas forwarded per pushed native payment in test deployments.
pub const NATIVE_PUSH_GAS: u64 = 10_000;
/// Gas forwarded per pushed token payment in test deployments.
pub const TOKEN_PUSH_GAS: u64 = 100_000;

/// Addresses of a development deployment, as written to `.devnet/chain.json`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Deployment {
    /// The chain's id.
    pub chain_id: u64,
    /// The Settlement contract.
    pub settlement: Address,
    /// The test USDT token, allowed by the contract.
    pub usdt: Address,
    /// Block of the Settlement deployment: where a listener starts.
    pub deploy_block: u64,
    /// The contract admin (in development also operator, treasurer and pauser).
    pub admin: Address,
    /// The authorising signer key's address.
    pub signer: Address,
}
