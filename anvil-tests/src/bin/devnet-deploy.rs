//! Deploys the development stack (test USDT + Settlement, and on an EVM chain two more test tokens for the
//! generation-plan and binary-plan assets) to a running anvil and writes its addresses as JSON:
//! `devnet-deploy <rpc-url> <out.json> [--tron-grpc <url>]`. Uses anvil's well-known account 0 as admin
//! and account 1 as the signer key; never for a real chain. The JSON also names the RPC, and on an anvil started
//! with a TRON chain id (the devnet's TRON chain) the contracts' `T…` addresses. With `--tron-grpc`, the
//! contracts are created the TRON way: `CreateSmartContract` transactions through the TRON node's gRPC API
//! (`tron-devnode` in front of that anvil), signed with tronic. On an EVM chain it also deploys stand-in price feeds
//! (Chainlink's aggregator interface, 8 decimals) for BNB, USDT and TRX in US dollars: `price_feeds` in the JSON.

use abi::{StandInAggregator, TestUSDT};
use alloy::{
    network::EthereumWallet,
    primitives::U256,
    providers::{Provider, ProviderBuilder},
};
use anvil_tests::{
    devchain::{anvil_account, deploy_stack},
    tron_deploy::deploy_stack_tron,
};

/// Demo USDT minted to accounts 2..=9: 10,000 USDT (6 decimals).
const DEMO_USDT: u64 = 10_000_000_000;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: devnet-deploy <rpc-url> <out.json> [--tron-grpc <url>]";
    let (Some(rpc), Some(out)) = (args.next(), args.next()) else { eyre::bail!(usage) };
    let tron_grpc = match (args.next().as_deref(), args.next()) {
        (Some("--tron-grpc"), Some(url)) => Some(url),
        (None, None) => None,
        _ => eyre::bail!(usage),
    };
    let admin = anvil_account(0)?;
    let signer = anvil_account(1)?;
    let provider =
        ProviderBuilder::new().wallet(EthereumWallet::from(admin.clone())).connect_http(rpc.parse()?).erased();
    let mut deployment = match &tron_grpc {
        Some(grpc) => {
            let chain_id = provider.get_chain_id().await?;
            eyre::ensure!(
                abi::chain::Family::of(chain_id) == abi::chain::Family::Tron,
                "--tron-grpc on chain {chain_id}, not a TRON chain"
            );
            deploy_stack_tron(grpc, chain_id, &admin, signer.address()).await?
        }
        None => deploy_stack(&provider, admin.address(), signer.address()).await?,
    };
    if tron_grpc.is_none() {
        deployment.generation_token = deployment.spare_tokens.first().copied();
        deployment.binary_token = deployment.spare_tokens.get(1).copied();
    }
    for token in [Some(deployment.usdt), deployment.generation_token, deployment.binary_token].into_iter().flatten() {
        let token = TestUSDT::new(token, &provider);
        for i in 2..=9 {
            token.mint(anvil_account(i)?.address(), U256::from(DEMO_USDT)).send().await?.get_receipt().await?;
        }
    }
    let mut json = serde_json::to_value(&deployment)?;
    if tron_grpc.is_none() {
        // Example prices (8 decimals, as Chainlink's USD feeds answer): what the pages' fiat amounts are read from.
        let mut feeds = serde_json::Map::new();
        for (key, description, answer) in [
            ("bnb_usd", "BNB / USD", 61_234_000_000_i64),
            ("usdt_usd", "USDT / USD", 100_010_000),
            ("trx_usd", "TRX / USD", 25_120_000),
        ] {
            let feed =
                StandInAggregator::deploy(&provider, 8, description.into(), alloy::primitives::I256::try_from(answer)?)
                    .await?;
            feeds.insert(key.into(), feed.address().to_checksum(None).into());
        }
        json["price_feeds"] = feeds.into();
    }
    json["rpc"] = rpc.clone().into();
    if abi::chain::Family::of(deployment.chain_id) == abi::chain::Family::Tron {
        json["settlement_base58"] = abi::tron::to_base58(deployment.settlement).into();
        json["usdt_base58"] = abi::tron::to_base58(deployment.usdt).into();
    }
    std::fs::write(&out, serde_json::to_string_pretty(&json)? + "\n")?;
    println!("{}", serde_json::to_string(&json)?);
    Ok(())
}
