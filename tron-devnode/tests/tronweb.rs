//! The independence check: TronWeb (npm, pinned), an implementation of TRON's client side that is not ours, reads
//! a balance, approves USDT and calls `register` through the test node's HTTP API, signing its own transactions;
//! the node accepts them and they execute on the chain underneath.

use abi::{Registration, Settlement, TestUSDT};
use alloy::{
    primitives::U256,
    providers::{Provider, ext::AnvilApi},
    sol_types::SolCall,
};
use anvil_tests::devchain::DevChain;
use serde_json::{Value, json};
use tron_devnode::{Params, TronDevnode};

const USDT: u64 = 1_000_000;

/// Runs the TronWeb flow as a child process, without blocking the runtime that serves the node.
async fn tronweb_flow(input: &Value) -> eyre::Result<Value> {
    use tokio::io::AsyncWriteExt;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut node = tokio::process::Command::new("node")
        .arg(root.join("scripts/tron/tronweb-flow.mjs"))
        .current_dir(&root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let mut stdin = node.stdin.take().expect("stdin");
    stdin.write_all(input.to_string().as_bytes()).await?;
    drop(stdin);
    let out = node.wait_with_output().await?;
    eyre::ensure!(out.status.success(), "tronweb-flow.mjs: {}", String::from_utf8_lossy(&out.stderr));
    Ok(serde_json::from_slice(&out.stdout)?)
}

#[tokio::test]
async fn tronweb_reads_approves_and_registers_through_the_test_node() -> eyre::Result<()> {
    let chain = DevChain::start_tron().await?;
    let node = TronDevnode::start(&chain.rpc_url(), Params::default()).await?;
    let user = chain.account(2);
    let sun = 5_000_000_000u64;
    chain.provider.anvil_set_balance(user.address(), U256::from(sun)).await?;
    let usdt = TestUSDT::new(chain.usdt, DevChain::provider_for(&chain.anvil, &chain.admin));
    usdt.mint(user.address(), U256::from(100 * USDT)).send().await?.get_receipt().await?;
    // TronWeb reads balances from the solidity node: solidified state, 19 blocks deep.
    chain.provider.anvil_mine(Some(tron_devnode::SOLIDIFY_DEPTH), None).await?;

    let payload = Registration {
        user: user.address(),
        sponsor: chain.admin.address(),
        token: chain.usdt,
        amount: U256::from(20 * USDT),
        nonce: U256::from(77),
        deadline: chain.deadline().await?,
    };
    let signature = chain.sign(&payload);
    let call = Settlement::registerCall { r: payload, signature }.abi_encode();
    let input = json!({
        "full_host": node.http_url,
        "key": alloy::hex::encode(user.to_bytes()),
        "usdt": abi::tron::to_base58(chain.usdt),
        "settlement": abi::tron::to_base58(chain.settlement),
        "amount": (20 * USDT).to_string(),
        "register": {
            "function_selector": Settlement::registerCall::SIGNATURE,
            "parameter": alloy::hex::encode(&call[4..]),
            "fee_limit": 150_000_000,
        },
    });
    let out = tronweb_flow(&input).await?;
    assert_eq!(out["trx"].as_u64(), Some(sun), "TronWeb read the balance in SUN: {out}");
    for step in ["approve", "register"] {
        assert_eq!(out[step]["result"], true, "{step} accepted: {out}");
        let txid: alloy::primitives::B256 = out[step]["txid"].as_str().expect("txid").parse()?;
        assert!(node.knows(txid), "{step}: the node executed TronWeb's transaction under TronWeb's id");
    }
    assert_eq!(out["usdt_after"], (80 * USDT).to_string(), "TronWeb's constant call sees the payment: {out}");
    let settlement = Settlement::new(chain.settlement, &chain.provider);
    assert!(settlement.isNonceUsed(U256::from(77)).call().await?, "the registration executed");
    assert_eq!(
        TestUSDT::new(chain.usdt, &chain.provider).balanceOf(chain.settlement).call().await?,
        U256::from(20 * USDT)
    );
    assert!(chain.provider.get_balance(user.address()).await? < U256::from(sun), "the user paid its energy in TRX");
    Ok(())
}
