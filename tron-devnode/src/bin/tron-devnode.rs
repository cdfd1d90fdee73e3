//! A TRON test node over an anvil started with a TRON chain id and a zero base fee:
//! `tron-devnode <anvil-url> <grpc-port> <solidity-grpc-port> <http-port> [<jsonrpc-port> <solidity-jsonrpc-port>]`,
//! all on 127.0.0.1 (java-tron's defaults are 50051, 50061, 8090, and 8545 for both JSON-RPC ports on separate
//! nodes). See the library's documentation for what it serves and how strictly.

use std::net::SocketAddr;

use tron_devnode::{
    Params, TronDevnode,
    jsonrpc::{TronFaults, TronRpc},
};

const USAGE: &str = "usage: tron-devnode <anvil-url> <grpc-port> <solidity-grpc-port> <http-port> [<jsonrpc-port> <solidity-jsonrpc-port>]";

#[tokio::main]
async fn main() -> eyre::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = |p: &str| -> eyre::Result<SocketAddr> { Ok(SocketAddr::from(([127, 0, 0, 1], p.parse::<u16>()?))) };
    let (anvil, full, solidity, http, jsonrpc) = match args.as_slice() {
        [anvil, full, solidity, http] => (anvil, full, solidity, http, None),
        [anvil, full, solidity, http, rpc, solid_rpc] => (anvil, full, solidity, http, Some((rpc, solid_rpc))),
        _ => eyre::bail!(USAGE),
    };
    let node = TronDevnode::start_on(anvil, port(full)?, port(solidity)?, port(http)?, Params::default()).await?;
    println!(
        "tron-devnode: gRPC {} solidity {} HTTP {} over {anvil}",
        node.grpc_url, node.solidity_grpc_url, node.http_url
    );
    let _rpc = match jsonrpc {
        Some((rpc, solid_rpc)) => {
            let rpc = TronRpc::start_on(anvil, port(rpc)?, port(solid_rpc)?, TronFaults::default()).await?;
            println!("tron-devnode: JSON-RPC full {} solidity {}", rpc.full_url, rpc.solidity_url);
            Some(rpc)
        }
        None => None,
    };
    tokio::signal::ctrl_c().await?;
    Ok(())
}
