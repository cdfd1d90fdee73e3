//! The Safe multisig as the contract's admin: the calls of a Safe (v1.4.1) the deployment uses, and an admin
//! action executed through one with its owners' signatures.
//!
//! On a real network the owners sign in the Safe's own interface; the deployment then records the calls the Safe
//! must make (the role grants) instead. Given owner keys (development and tests only), [`exec`] signs the Safe
//! transaction hash with each of them — ordered by address, as the Safe requires — and sends `execTransaction`.

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    signers::{SignerSync, local::PrivateKeySigner},
    sol_types::SolCall,
};

use crate::network::{Network, Sent};

alloy::sol! {
    /// The Safe (v1.4.1) calls the deployment uses.
    interface ISafe {
        function setup(address[] calldata _owners, uint256 _threshold, address to, bytes calldata data, address fallbackHandler, address paymentToken, uint256 payment, address paymentReceiver) external;
        function execTransaction(address to, uint256 value, bytes calldata data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes memory signatures) external payable returns (bool success);
        function getTransactionHash(address to, uint256 value, bytes calldata data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, uint256 _nonce) external view returns (bytes32);
        function nonce() external view returns (uint256);
        function getOwners() external view returns (address[] memory);
        function getThreshold() external view returns (uint256);
    }

    /// The Safe (v1.4.1) proxy factory.
    interface ISafeProxyFactory {
        function createProxyWithNonce(address _singleton, bytes memory initializer, uint256 saltNonce) external returns (address proxy);
    }
}

/// What a Safe is: its owners and how many of them must sign.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SafeInfo {
    /// Its owners.
    pub owners: Vec<Address>,
    /// Signatures an action needs.
    pub threshold: u64,
}

/// The Safe at `at`, or `None` when the contract there does not answer as one.
pub async fn info(net: &Network, at: Address) -> eyre::Result<Option<SafeInfo>> {
    let Ok(owners) = net.read(at, ISafe::getOwnersCall {}.abi_encode()).await else { return Ok(None) };
    let Ok(owners) = ISafe::getOwnersCall::abi_decode_returns(&owners) else { return Ok(None) };
    let threshold =
        ISafe::getThresholdCall::abi_decode_returns(&net.read(at, ISafe::getThresholdCall {}.abi_encode()).await?)?;
    Ok(Some(SafeInfo { owners, threshold: threshold.saturating_to() }))
}

/// Executes `data` on `to` as the Safe `safe`, signed by the first `threshold` of `owners` (ordered by address) and
/// sent by the first of them; an error when too few owner keys are given or the Safe refuses.
pub async fn exec(
    net: &Network,
    safe: Address,
    owners: &[PrivateKeySigner],
    to: Address,
    data: Bytes,
) -> eyre::Result<Sent> {
    let info = info(net, safe).await?.ok_or_else(|| eyre::eyre!("{safe} is not a Safe"))?;
    let mut signers: Vec<&PrivateKeySigner> = owners.iter().filter(|k| info.owners.contains(&k.address())).collect();
    signers.sort_by_key(|k| k.address());
    signers.dedup_by_key(|k| k.address());
    eyre::ensure!(
        signers.len() as u64 >= info.threshold,
        "the Safe {safe} needs {} owner signatures, {} owner keys given",
        info.threshold,
        signers.len()
    );
    signers.truncate(info.threshold as usize);
    let nonce = ISafe::nonceCall::abi_decode_returns(&net.read(safe, ISafe::nonceCall {}.abi_encode()).await?)?;
    let hash_call = ISafe::getTransactionHashCall {
        to,
        value: U256::ZERO,
        data: data.clone(),
        operation: 0,
        safeTxGas: U256::ZERO,
        baseGas: U256::ZERO,
        gasPrice: U256::ZERO,
        gasToken: Address::ZERO,
        refundReceiver: Address::ZERO,
        _nonce: nonce,
    };
    let hash: B256 = ISafe::getTransactionHashCall::abi_decode_returns(&net.read(safe, hash_call.abi_encode()).await?)?;
    let mut signatures = Vec::with_capacity(65 * signers.len());
    for signer in &signers {
        signatures.extend_from_slice(&signer.sign_hash_sync(&hash)?.as_bytes());
    }
    let exec = ISafe::execTransactionCall {
        to,
        value: U256::ZERO,
        data,
        operation: 0,
        safeTxGas: U256::ZERO,
        baseGas: U256::ZERO,
        gasPrice: U256::ZERO,
        gasToken: Address::ZERO,
        refundReceiver: Address::ZERO,
        signatures: signatures.into(),
    };
    net.send(signers[0], safe, exec.abi_encode()).await
}
