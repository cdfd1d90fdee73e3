//! A TRON test node over an anvil started with a TRON chain id and a zero base fee:
//! `tron-devnode <anvil-url> <grpc-port> <solidity-grpc-port> <http-port>`, all on 127.0.0.1 (java-tron's defaults
//! are 50051, 50061 and 8090). See the library's documentation for what it serves and how strictly.

use std::net::SocketAddr;

use tron_devnode::{Params, TronDevnode};

#[tokio::main]
async fn main() -> eyre::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [anvil, full, solidity, http] = args.as_slice() else {
        eyre::bail!("usage: tron-devnode <anvil-url> <grpc-port> <solidity-grpc-port> <http-port>");
    };
    let port = |p: &str| -> eyre::Result<SocketAddr> { Ok(SocketAddr::from(([127, 0, 0, 1], p.parse::<u16>()?))) };
    let node = TronDevnode::start_on(anvil, port(full)?, port(solidity)?, port(http)?, Params::default()).await?;
    println!(
        "tron-devnode: gRPC {} solidity {} HTTP {} over {anvil}",
        node.grpc_url, node.solidity_grpc_url, node.http_url
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
