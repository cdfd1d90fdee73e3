//! The development stack deployed the TRON way: `CreateSmartContract` transactions through TRON's gRPC API
//! (`deploy::tron::create`), signed by the admin key, the admin holding the money roles from the start — as a deploy on Nile or
//! mainnet goes, against the TRON test node (`tron-devnode`) here.
//!
//! What the test node cannot show: on TRON the new contract's address derives from the creating transaction's
//! id, on the test node it is the EVM's (`CREATE` from the owner's nonce); both are read back from the
//! transaction's info, never predicted. The EVM underneath forwards at most 63/64 of the remaining energy to
//! every call (EIP-150), as TRON's TVM does since its EVM-compatibility proposal: the Settlement contract's
//! per-payment push caps rely on it.

use abi::{NATIVE_TOKEN, Settlement, TestUSDT};
use alloy::{
    primitives::{Address, Bytes},
    signers::local::PrivateKeySigner,
    sol_types::SolConstructor,
};
use deploy::tron;

use crate::deployment::Deployment;

/// Sends `data` to the contract `at` with `call_value` SUN as `wallet` would from a TRON wallet: a
/// TriggerSmartContract built, estimated and signed with tronic, broadcast to the node at `grpc_url`; the block
/// it was mined in, or an error if it failed.
pub async fn send_call(
    grpc_url: &str,
    wallet: &PrivateKeySigner,
    at: Address,
    data: Vec<u8>,
    call_value: i64,
) -> eyre::Result<u64> {
    let (client, key) = tron::client(grpc_url, wallet.to_bytes().as_slice()).await?;
    Ok(tron::trigger(&client, &key, at, data, call_value).await?.block)
}

/// Deploys the test USDT and Settlement (native coin and USDT allowed) through the TRON node at `grpc_url`
/// with `admin`'s key, `signer` authorising payloads, and `admin` holding the operator, treasurer and pauser roles
/// from the start, with the development bounds (development only). `chain_id` is the TRON network's (it is not on
/// the wire of TRON's gRPC API).
pub async fn deploy_stack_tron(
    grpc_url: &str,
    chain_id: u64,
    admin: &PrivateKeySigner,
    signer: Address,
) -> eyre::Result<Deployment> {
    let usdt = tron::create(grpc_url, None, admin, "TestUSDT", TestUSDT::BYTECODE.to_vec()).await?.contract;
    // TRON's figures (a TRC-20 transfer to a fresh holder costs about 130,000 energy), as a real deployment has.
    let config = abi::deployment::config(
        &abi::deployment::Holders::single(admin.address(), signer),
        &[NATIVE_TOKEN, usdt],
        abi::chain::Family::Tron,
        abi::deployment::Bounds::development(),
    );
    let code = [Settlement::BYTECODE.to_vec(), Settlement::constructorCall { config }.abi_encode()].concat();
    let created = tron::create(grpc_url, None, admin, "Settlement", code).await?;
    let settlement = created.contract;
    Ok(Deployment {
        chain_id,
        settlement,
        usdt,
        generation_token: None,
        binary_token: None,
        spare_tokens: Vec::new(),
        deploy_block: created.block,
        admin: admin.address(),
        signer,
    })
}

/// The code at `at` through the node's `GetContract`: empty when nothing is deployed there.
pub async fn deployed_code(grpc_url: &str, at: Address) -> eyre::Result<Bytes> {
    // Any key reads: a constant lookup signs nothing.
    let (client, _) = tron::client(grpc_url, &[1; 32]).await?;
    Ok(Bytes::from(tron::code(&client, at).await?))
}
