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
    pub chain_id: u64,
    pub settlement: Address,
    pub usdt: Address,
    /// Block of the Settlement deployment: where a listener starts.
    pub deploy_block: u64,
    pub admin: Address,
    pub signer: Address,
}
