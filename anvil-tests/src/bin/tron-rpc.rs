//! TRON's JSON-RPC in front of an anvil started with a TRON chain id (the devnet's TRON stand-in), as
//! `anvil_tests::tron_rpc` serves it: `tron-rpc <anvil-url> <full-port> <solidity-port>`, both on 127.0.0.1.
//! The listener and the reconciler read the devnet's TRON chain through it in their TRON modes.

use std::net::SocketAddr;

use anvil_tests::tron_rpc::{TronFaults, TronRpc};

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [upstream, full, solidity] = args.as_slice() else {
        eyre::bail!("usage: tron-rpc <anvil-url> <full-port> <solidity-port>");
    };
    let port = |p: &str| -> eyre::Result<SocketAddr> { Ok(SocketAddr::from(([127, 0, 0, 1], p.parse::<u16>()?))) };
    let rpc = TronRpc::start_on(upstream, port(full)?, port(solidity)?, TronFaults::default()).await?;
    println!("tron-rpc: full {} solidity {} in front of {upstream}", rpc.full_url, rpc.solidity_url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
