//! A TRON test node over an anvil started with a TRON chain id and a zero base fee:
//! `tron-devnode [--network mainnet|nile|shasta] <anvil-url> <grpc-port> <solidity-grpc-port> <http-port>
//! [<jsonrpc-port> <solidity-jsonrpc-port>]`, all on 127.0.0.1 (java-tron's defaults are 50051, 50061, 8090, and 8545
//! for both JSON-RPC ports on separate nodes). With `--network` it answers that network's genesis block as block 0
//! (gRPC, HTTP and JSON-RPC alike), as a node of it does — what the deploy tool and the preflight check before they
//! send anything — so that ops/tron-nile.md can be rehearsed end to end on this machine; the anvil must then run with
//! that network's chain id (the genesis block's last 4 bytes), which is checked. As Nile it also serves Nile's USDT
//! (`TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf`, 6 decimals) as the test token `TestUSDT` at that address, which anyone may
//! `mint` (Nile's own is given out by its faucet). See the library's documentation for what it serves and how
//! strictly.

use std::net::SocketAddr;

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256},
    providers::{Provider, ProviderBuilder, ext::AnvilApi},
    rpc::types::TransactionRequest,
};

use tron_devnode::{
    Params, TronDevnode,
    jsonrpc::{TronFaults, TronRpc},
};

const USAGE: &str = "usage: tron-devnode [--network mainnet|nile|shasta] <anvil-url> <grpc-port> <solidity-grpc-port> \
                     <http-port> [<jsonrpc-port> <solidity-jsonrpc-port>]";

#[tokio::main]
async fn main() -> eyre::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let genesis = match args.iter().position(|a| a == "--network") {
        Some(at) => {
            eyre::ensure!(at + 1 < args.len(), USAGE);
            let name = args.remove(at + 1);
            args.remove(at);
            let (_, id) = abi::tron::NETWORKS
                .iter()
                .find(|(known, _)| *known == name)
                .ok_or_else(|| eyre::eyre!("--network {name:?}: one of mainnet, nile, shasta\n{USAGE}"))?;
            Some(*id)
        }
        None => None,
    };
    let port = |p: &str| -> eyre::Result<SocketAddr> { Ok(SocketAddr::from(([127, 0, 0, 1], p.parse::<u16>()?))) };
    let (anvil, full, solidity, http, jsonrpc) = match args.as_slice() {
        [anvil, full, solidity, http] => (anvil, full, solidity, http, None),
        [anvil, full, solidity, http, rpc, solid_rpc] => (anvil, full, solidity, http, Some((rpc, solid_rpc))),
        _ => eyre::bail!(USAGE),
    };
    if let Some(genesis) = genesis {
        let chain = ProviderBuilder::new().connect_http(anvil.parse()?);
        let wanted = abi::tron::chain_id_of_genesis(genesis);
        let answered = chain.get_chain_id().await?;
        eyre::ensure!(
            answered == wanted,
            "the anvil at {anvil} answers chain id {answered}; the network's genesis block {genesis} carries chain id \
             {wanted}: start anvil with --chain-id {wanted}"
        );
        if genesis == abi::tron::NILE_GENESIS && chain.get_code_at(abi::tron::NILE_USDT).await?.is_empty() {
            serve_test_usdt(&chain, abi::tron::NILE_USDT).await?;
            println!(
                "tron-devnode: Nile's USDT {} is the test token TestUSDT (mint is open)",
                abi::tron::to_base58(abi::tron::NILE_USDT)
            );
        }
    }
    let params = Params { genesis_block_id: genesis, ..Params::default() };
    let node = TronDevnode::start_on(anvil, port(full)?, port(solidity)?, port(http)?, params).await?;
    println!(
        "tron-devnode: gRPC {} solidity {} HTTP {} over {anvil}{}",
        node.grpc_url,
        node.solidity_grpc_url,
        node.http_url,
        genesis.map_or(String::new(), |g| format!(", answering genesis block {g}"))
    );
    let _rpc = match jsonrpc {
        Some((rpc, solid_rpc)) => {
            let rpc = TronRpc::start_on(anvil, port(rpc)?, port(solid_rpc)?, TronFaults::default()).await?;
            rpc.answer_genesis(genesis);
            println!("tron-devnode: JSON-RPC full {} solidity {}", rpc.full_url, rpc.solidity_url);
            Some(rpc)
        }
        None => None,
    };
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Puts the test token at `at`: created by anvil's first unlocked account, then its code and storage (its name, symbol
/// and owner) copied to `at`, as if it had been created there.
async fn serve_test_usdt(chain: &impl Provider, at: Address) -> eyre::Result<()> {
    let from = *chain.get_accounts().await?.first().ok_or_else(|| eyre::eyre!("the anvil has no unlocked account"))?;
    let create = TransactionRequest::default().with_from(from).with_deploy_code(abi::TestUSDT::BYTECODE.clone());
    let receipt = chain.send_transaction(create).await?.get_receipt().await?;
    let made = receipt.contract_address.ok_or_else(|| eyre::eyre!("the test token was not created"))?;
    chain.anvil_set_code(at, chain.get_code_at(made).await?).await?;
    // OpenZeppelin's ERC20, Ownable and Pausable keep their state in the first few slots.
    for slot in 0..16u64 {
        let value = chain.get_storage_at(made, U256::from(slot)).await?;
        chain.anvil_set_storage_at(at, U256::from(slot), value.into()).await?;
    }
    Ok(())
}
