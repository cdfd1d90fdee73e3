//! A real Safe multisig (v1.4.1, its compiled contracts from the npm package `@safe-global/safe-contracts`)
//! deployed on a local network, EVM or the TRON test node: the singleton, the proxy factory, and a proxy set up
//! with the given owners and threshold — the admin a mainnet deployment must have — and the batch library the
//! Transaction Builder executes batches through.

use abi::toolchain::workspace_root;
use alloy::{
    primitives::{Address, Bytes, U256},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use deploy::{
    network::Network,
    safe::{ISafe, ISafeProxyFactory},
};

/// The creation bytecode of the Safe package's contract at `path` (under `build/artifacts/contracts`).
fn bytecode(path: &str) -> eyre::Result<Vec<u8>> {
    let file = workspace_root().join("node_modules/@safe-global/safe-contracts/build/artifacts/contracts").join(path);
    let text = std::fs::read_to_string(&file)
        .map_err(|e| eyre::eyre!("{}: {e} (run scripts/setup.sh: the Safe contracts come from npm)", file.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)?;
    let hex = json["bytecode"].as_str().ok_or_else(|| eyre::eyre!("{}: no bytecode", file.display()))?;
    Ok(alloy::hex::decode(hex)?)
}

/// Deploys the Safe's `MultiSendCallOnly` (v1.4.1), through which the Transaction Builder executes a batch of several
/// transactions (`deploy::safe::exec_batch`), with `deployer` paying: its address.
pub async fn deploy_multi_send(net: &Network, deployer: &PrivateKeySigner) -> eyre::Result<Address> {
    let code = bytecode("libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json")?;
    Ok(net.create(deployer, "MultiSendCallOnly", code).await?.0)
}

/// Deploys a Safe owned by `owners`, `threshold` of whom must sign, with `deployer` paying: its address.
pub async fn deploy_safe(
    net: &Network,
    deployer: &PrivateKeySigner,
    owners: &[Address],
    threshold: u64,
) -> eyre::Result<Address> {
    let (singleton, _) = net.create(deployer, "Safe", bytecode("Safe.sol/Safe.json")?).await?;
    let (factory, _) = net
        .create(deployer, "SafeProxyFactory", bytecode("proxies/SafeProxyFactory.sol/SafeProxyFactory.json")?)
        .await?;
    let setup = ISafe::setupCall {
        _owners: owners.to_vec(),
        _threshold: U256::from(threshold),
        to: Address::ZERO,
        data: Bytes::new(),
        fallbackHandler: Address::ZERO,
        paymentToken: Address::ZERO,
        payment: U256::ZERO,
        paymentReceiver: Address::ZERO,
    };
    let create = ISafeProxyFactory::createProxyWithNonceCall {
        _singleton: singleton,
        initializer: setup.abi_encode().into(),
        saltNonce: U256::ZERO,
    }
    .abi_encode();
    // CREATE2: the address a constant call answers is the one the transaction gets.
    let proxy =
        ISafeProxyFactory::createProxyWithNonceCall::abi_decode_returns(&net.read(factory, create.clone()).await?)?;
    net.send(deployer, factory, create).await?;
    eyre::ensure!(!net.code(proxy).await?.is_empty(), "no Safe proxy at {proxy}");
    Ok(proxy)
}
