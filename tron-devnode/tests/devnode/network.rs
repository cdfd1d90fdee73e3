//! `tron-devnode --network nile`: the test node answers Nile's genesis block as block 0 on gRPC and JSON-RPC alike —
//! what the deploy tool checks before it sends anything — and serves Nile's USDT address as the test token, so that
//! ops/tron-nile.md can be rehearsed on this machine; over an anvil of another chain id it refuses to start.

use std::{process::Stdio, time::Duration};

use alloy::{
    node_bindings::Anvil,
    providers::{Provider, ProviderBuilder},
};
use anvil_tests::services::free_port;

fn node(args: &[String]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tron-devnode"));
    command.args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    command
}

#[tokio::test]
async fn as_nile_it_answers_niles_genesis_and_serves_niles_usdt() -> eyre::Result<()> {
    let anvil = Anvil::new()
        .path(abi::toolchain::foundry_binary("anvil"))
        .chain_id(3_448_148_188)
        .args(["--base-fee", "0"])
        .try_spawn()?;
    let ports: Vec<String> = (0..5).map(|_| free_port().map(|p| p.to_string())).collect::<eyre::Result<_>>()?;
    let mut args = vec!["--network".to_owned(), "nile".to_owned(), anvil.endpoint()];
    args.extend(ports.iter().cloned());
    let _node = node(&args).spawn()?;
    let (grpc, rpc) = (format!("http://127.0.0.1:{}", ports[0]), format!("http://127.0.0.1:{}", ports[3]));
    let provider = ProviderBuilder::new().connect_http(rpc.parse()?);
    let started = tokio::time::Instant::now();
    let genesis = loop {
        match provider.get_block_by_number(0.into()).await {
            Ok(Some(block)) => break block.header.hash,
            _ if started.elapsed() < Duration::from_secs(30) => tokio::time::sleep(Duration::from_millis(100)).await,
            other => eyre::bail!("the node's JSON-RPC did not answer block 0: {other:?}"),
        }
    };
    assert_eq!(genesis, abi::tron::NILE_GENESIS, "JSON-RPC's block 0");
    let net = deploy::network::Network::tron(&rpc, &grpc, None)?;
    assert_eq!(net.genesis_block_id().await?, Some(abi::tron::NILE_GENESIS), "gRPC's block 0");
    assert_eq!(deploy::tron_network_of(abi::tron::NILE_GENESIS), Some("Nile"));
    let usdt = abi::TestUSDT::new(abi::tron::NILE_USDT, &provider);
    assert_eq!((usdt.symbol().call().await?, usdt.decimals().call().await?), ("USDT".to_owned(), 6));
    Ok(())
}

#[tokio::test]
async fn over_an_anvil_of_another_chain_id_it_refuses_to_start() -> eyre::Result<()> {
    let anvil = Anvil::new().path(abi::toolchain::foundry_binary("anvil")).chain_id(31_337).try_spawn()?;
    let ports: Vec<String> = (0..3).map(|_| free_port().map(|p| p.to_string())).collect::<eyre::Result<_>>()?;
    let mut args = vec!["--network".to_owned(), "nile".to_owned(), anvil.endpoint()];
    args.extend(ports);
    let out = tokio::time::timeout(Duration::from_secs(30), node(&args).output()).await??;
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("answers chain id 31337") && said.contains("start anvil with --chain-id 3448148188"),
        "{said}"
    );
    let out = node(&["--network".into(), "moon".into()]).output().await?;
    assert!(String::from_utf8_lossy(&out.stderr).contains("one of mainnet, nile, shasta"));
    Ok(())
}
