//! What a development deployment is, whichever way it was made (anvil's JSON-RPC in [`crate::devchain`], TRON's
//! gRPC API in [`crate::tron_deploy`]): its addresses. Both forward the push gas of the chain's family
//! (`abi::chain::Family::push_gas`), as a real deployment does. Both deployers read this
//! module; neither imports the other's.

use alloy::primitives::Address;

/// Addresses of a development deployment, as written to `.devnet/chain.json`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Deployment {
    /// The chain's id.
    pub chain_id: u64,
    /// The Settlement contract.
    pub settlement: Address,
    /// The test USDT token, allowed by the contract.
    pub usdt: Address,
    /// A second test token, allowed by the contract, that the devnet's generation-plan asset runs on (an asset is
    /// one token of one chain, and each asset runs one plan); absent where none was deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_token: Option<Address>,
    /// A third test token, allowed by the contract, that the devnet's binary-plan asset runs on; absent where none
    /// was deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_token: Option<Address>,
    /// Further test tokens deployed and allowed with the contract, for assets a test or the devnet adds later (an
    /// allowance after deployment waits the contract's change delay): the generation-plan asset takes the first, the
    /// binary-plan asset the second.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spare_tokens: Vec<Address>,
    /// Block of the Settlement deployment: where a listener starts.
    pub deploy_block: u64,
    /// The contract admin (in development also operator, treasurer and pauser).
    pub admin: Address,
    /// The authorising signer key's address.
    pub signer: Address,
}
