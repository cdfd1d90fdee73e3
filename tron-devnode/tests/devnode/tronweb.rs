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
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    anvil_tests::api::node_script(&root, "scripts/tron/tronweb-flow.mjs", input).await
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
    // The fee is taken when the transaction is mined, before anything asks the node about it: the balance is read
    // first, then each transaction's fee.
    let after = chain.provider.get_balance(user.address()).await?;
    let mut fees = 0;
    for step in ["approve", "register"] {
        let txid = out[step]["txid"].as_str().expect("txid").trim_start_matches("0x").to_owned();
        let info = transaction_info(&node.http_url, false, &txid).await?;
        fees += info["fee"].as_u64().filter(|fee| *fee > 0).unwrap_or_else(|| panic!("{step}: no fee: {info}"));
    }
    assert_eq!(after, U256::from(sun - fees), "the user paid exactly its energy in TRX, when mined");
    Ok(())
}

/// The solidity node's `gettransactioninfobyid` (TronWeb's `trx.getTransactionInfo`) and the full node's.
async fn transaction_info(http_url: &str, solidity: bool, txid: &str) -> eyre::Result<Value> {
    let path = if solidity { "walletsolidity" } else { "wallet" };
    let url = format!("{http_url}/{path}/gettransactioninfobyid");
    Ok(reqwest::Client::new().post(url).json(&json!({ "value": txid })).send().await?.json().await?)
}

/// An API answer's `tron` call paid as a TronLink user's browser pays it (`scripts/tron/tronlink-pay.mjs`, the
/// devnet's TRON demo users): TronWeb sends the approve, then the retopup; the full node knows each in its block,
/// the solidity node only 19 blocks later.
#[tokio::test]
async fn an_api_call_paid_through_tronweb_approves_then_retopups_and_is_solidified_19_blocks_deep() -> eyre::Result<()>
{
    let chain = DevChain::start_tron().await?;
    let node = TronDevnode::start(&chain.rpc_url(), Params::default()).await?;
    let user = chain.account(3);
    chain.register_usdt(&user, chain.admin.address(), U256::from(20 * USDT), 300).await?;
    let minter = TestUSDT::new(chain.usdt, DevChain::provider_for(&chain.anvil, &user));
    minter.mint(user.address(), U256::from(20 * USDT)).send().await?.get_receipt().await?;
    let payload = abi::Retopup {
        user: user.address(),
        token: chain.usdt,
        amount: U256::from(20 * USDT),
        nonce: U256::from(301),
        deadline: chain.deadline().await?,
    };
    let signature = chain.sign(&payload);
    let call = Settlement::retopupCall { r: payload, signature }.abi_encode();
    let approve = TestUSDT::approveCall { spender: chain.settlement, value: U256::from(20 * USDT) }.abi_encode();
    // The shape of the API's `tron` answer (backend/src/http/types.rs `TronCall`).
    let answer = json!({
        "contract": abi::tron::to_base58(chain.settlement),
        "function_selector": Settlement::retopupCall::SIGNATURE,
        "parameter": alloy::hex::encode(&call[4..]),
        "call_value": "0",
        "fee_limit": 150_000_000,
        "approve": {
            "contract": abi::tron::to_base58(chain.usdt),
            "function_selector": "approve(address,uint256)",
            "parameter": alloy::hex::encode(&approve[4..]),
            "fee_limit": 150_000_000,
        },
    });
    let usdt = TestUSDT::new(chain.usdt, &chain.provider);
    let before = usdt.balanceOf(user.address()).call().await?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let paid = anvil_tests::api::tronlink_pay(&root, &node.http_url, &user, &answer).await?;
    let sent = paid["sent"].as_array().expect("sent");
    assert_eq!(paid["address"], abi::tron::to_base58(user.address()), "{paid}");
    assert_eq!(sent.iter().map(|t| t["what"].clone()).collect::<Vec<_>>(), [json!("approve"), json!("retopup")]);
    assert!(Settlement::new(chain.settlement, &chain.provider).isNonceUsed(U256::from(301)).call().await?);
    assert_eq!(before - usdt.balanceOf(user.address()).call().await?, U256::from(20 * USDT), "paid exactly once");

    let retopup = &sent[1];
    let txid = retopup["txid"].as_str().expect("txid");
    let full = transaction_info(&node.http_url, false, txid).await?;
    assert_eq!(full["blockNumber"], retopup["block"], "the full node has it in its block: {full}");
    assert_eq!(full["receipt"]["result"], "SUCCESS", "{full}");
    assert!(full["fee"].as_i64().is_some_and(|fee| fee > 0), "the energy was paid in TRX: {full}");
    assert_eq!(transaction_info(&node.http_url, true, txid).await?, json!({}), "not yet solidified");
    chain.provider.anvil_mine(Some(tron_devnode::SOLIDIFY_DEPTH), None).await?;
    let solid = transaction_info(&node.http_url, true, txid).await?;
    assert_eq!(solid["blockNumber"], retopup["block"], "solidified 19 blocks deep: {solid}");
    assert_eq!(solid["id"], txid.trim_start_matches("0x"));
    Ok(())
}
