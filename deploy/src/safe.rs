//! The Safe multisig as the contract's admin: what makes a contract a Safe to the deployment ([`info`]: it answers
//! `VERSION()`, `getOwners()` and `getThreshold()`), and — for development and tests — an admin action executed
//! through one with its owners' keys ([`exec`], [`exec_batch`]).
//!
//! On a real network the owners sign in the Safe's own interface: the deployment writes the admin's calls as a
//! Transaction Builder batch ([`crate::batch`]). Given owner keys (development and tests only), [`exec`] signs the
//! Safe transaction hash with each of them — ordered by address, as the Safe requires — and sends `execTransaction`;
//! [`exec_batch`] does the same for several calls through `MultiSendCallOnly`, as the Transaction Builder does.

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
        function VERSION() external view returns (string memory);
    }

    /// The Safe (v1.4.1) proxy factory.
    interface ISafeProxyFactory {
        function createProxyWithNonce(address _singleton, bytes memory initializer, uint256 saltNonce) external returns (address proxy);
    }

    /// The Safe's batch library (v1.4.1), called by delegatecall.
    interface IMultiSendCallOnly {
        function multiSend(bytes memory transactions) external payable;
    }
}

pub use abi::safe::SafeInfo;

/// The Safe at `at`: `None` when the contract there does not answer `VERSION()`, `getOwners()` and `getThreshold()`
/// as a Safe does (a token, any other contract, or no contract at all) ([`SafeInfo::read`]).
pub async fn info(net: &Network, at: Address) -> eyre::Result<Option<SafeInfo>> {
    Ok(SafeInfo::read(at, |at, data| async move { net.read(at, data).await.ok().map(|b| b.to_vec()) }).await)
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
    exec_operation(net, safe, owners, to, data, 0).await
}

/// Executes several calls (`(to, data)`, no value) as the Safe `safe` in one Safe transaction: a delegatecall of
/// `multi_send` (the Safe's `MultiSendCallOnly`) with the calls packed as it reads them — what the Transaction
/// Builder proposes for a batch of more than one transaction.
pub async fn exec_batch(
    net: &Network,
    safe: Address,
    owners: &[PrivateKeySigner],
    multi_send: Address,
    calls: &[(Address, Bytes)],
) -> eyre::Result<Sent> {
    let mut packed = Vec::new();
    for (to, data) in calls {
        packed.push(0u8); // operation: call
        packed.extend_from_slice(to.as_slice());
        packed.extend_from_slice(&U256::ZERO.to_be_bytes::<32>());
        packed.extend_from_slice(&U256::from(data.len()).to_be_bytes::<32>());
        packed.extend_from_slice(data);
    }
    let call = IMultiSendCallOnly::multiSendCall { transactions: packed.into() }.abi_encode();
    exec_operation(net, safe, owners, multi_send, call.into(), 1).await
}

async fn exec_operation(
    net: &Network,
    safe: Address,
    owners: &[PrivateKeySigner],
    to: Address,
    data: Bytes,
    operation: u8,
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
        operation,
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
        operation,
        safeTxGas: U256::ZERO,
        baseGas: U256::ZERO,
        gasPrice: U256::ZERO,
        gasToken: Address::ZERO,
        refundReceiver: Address::ZERO,
        signatures: signatures.into(),
    };
    net.send(signers[0], safe, exec.abi_encode()).await
}
