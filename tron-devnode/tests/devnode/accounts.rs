//! Accounts and bandwidth as java-tron keeps them: a wallet that has only received USDT does not exist and can
//! send nothing; a TRX transfer (`CreateTransaction2`, `/wallet/createtransaction`) creates it and pays
//! `getCreateAccountFee` + `getCreateNewAccountFeeInSystemContract`; its transactions then use its free daily
//! bandwidth, then burn TRX per byte; one that can pay neither is refused with `BANDWITH_ERROR`, changing nothing;
//! the free allowance recovers over 24 hours. TronWeb (npm, pinned), not ours, activates an account through the
//! HTTP API and reads it back.

use abi::TestUSDT;
use alloy::{
    primitives::{Address, B256, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use anvil_tests::devchain::DevChain;
use serde_json::json;
use tron_devnode::{
    Params, TronDevnode,
    proto::{
        self, Account, Transaction, TransferContract, TriggerSmartContract, r#return::ResponseCode,
        wallet_client::WalletClient,
    },
    tron_address,
};

type Wallet = WalletClient<tonic::transport::Channel>;

const TRX: i64 = 1_000_000;

fn sign(tx: &mut Transaction, key: &PrivateKeySigner) -> B256 {
    tron_devnode::sign_transaction(tx, key.to_bytes().as_slice()).expect("signs")
}

async fn send(
    wallet: &mut Wallet,
    mut tx: Transaction,
    key: &PrivateKeySigner,
) -> eyre::Result<(ResponseCode, String, B256)> {
    let txid = sign(&mut tx, key);
    let ret = wallet.broadcast_transaction(tx).await?.into_inner();
    Ok((ret.code(), String::from_utf8_lossy(&ret.message).into_owned(), txid))
}

/// `owner`'s `approve(settlement, amount)`, built by the node.
async fn approve(wallet: &mut Wallet, chain: &DevChain, owner: Address, amount: u64) -> eyre::Result<Transaction> {
    let call = TestUSDT::approveCall { spender: chain.settlement, value: U256::from(amount) };
    let trigger = TriggerSmartContract {
        owner_address: tron_address(owner),
        contract_address: tron_address(chain.usdt),
        data: call.abi_encode(),
        ..Default::default()
    };
    let ext = wallet.trigger_contract(trigger).await?.into_inner();
    let mut tx = ext.transaction.expect("a transaction");
    tx.raw_data.as_mut().expect("raw").fee_limit = 100 * TRX;
    Ok(tx)
}

/// A TRX transfer built by the node: the transaction, or the node's refusal text.
async fn transfer(
    wallet: &mut Wallet,
    from: Address,
    to: Address,
    amount: i64,
) -> eyre::Result<Result<Transaction, String>> {
    let c = TransferContract { owner_address: tron_address(from), to_address: tron_address(to), amount };
    let ext = wallet.create_transaction2(c).await?.into_inner();
    let ret = ext.result.unwrap_or_default();
    Ok(match ext.transaction {
        Some(tx) if ret.result => Ok(tx),
        _ => Err(String::from_utf8_lossy(&ret.message).into_owned()),
    })
}

async fn info(wallet: &mut Wallet, txid: B256) -> eyre::Result<proto::TransactionInfo> {
    Ok(wallet.get_transaction_info_by_id(proto::BytesMessage { value: txid.to_vec() }).await?.into_inner())
}

async fn exists(wallet: &mut Wallet, who: Address) -> eyre::Result<bool> {
    let account = wallet.get_account(Account { address: tron_address(who), ..Default::default() }).await?;
    Ok(!account.into_inner().address.is_empty())
}

async fn free_used(wallet: &mut Wallet, who: Address) -> eyre::Result<(i64, i64)> {
    let r = wallet.get_account_resource(Account { address: tron_address(who), ..Default::default() }).await?;
    let r = r.into_inner();
    Ok((r.free_net_used, r.free_net_limit))
}

async fn balance(chain: &DevChain, who: Address) -> eyre::Result<i64> {
    Ok(i64::try_from(chain.provider.get_balance(who).await?)?)
}

#[tokio::test]
async fn a_usdt_only_wallet_exists_once_trx_reaches_it_then_spends_free_bandwidth_before_trx() -> eyre::Result<()> {
    let chain = DevChain::start_tron().await?;
    let node = TronDevnode::start(&chain.rpc_url(), Params::default()).await?;
    let mut wallet = WalletClient::connect(node.grpc_url.clone()).await?;
    let p = Params::default();
    let funder = chain.account(3);
    chain.provider.anvil_set_balance(funder.address(), U256::from(1_000 * TRX)).await?;
    // A TronLink wallet that has only received USDT: no TRX, never sent anything.
    let user = PrivateKeySigner::random();
    let usdt = TestUSDT::new(chain.usdt, DevChain::provider_for(&chain.anvil, &chain.admin));
    usdt.mint(user.address(), U256::from(50_000_000u64)).send().await?.get_receipt().await?;
    assert!(!exists(&mut wallet, user.address()).await?, "receiving a TRC-20 token creates no account");
    assert_eq!(free_used(&mut wallet, user.address()).await?, (0, 0), "GetAccountResource: nothing for no account");

    let tx = approve(&mut wallet, &chain, user.address(), 20_000_000).await?;
    let (code, message, _) = send(&mut wallet, tx.clone(), &user).await?;
    let base58 = abi::tron::to_base58(user.address());
    assert_eq!(
        (code, message.as_str()),
        (
            ResponseCode::ContractValidateError,
            format!("Contract validate error : account [{base58}] does not exist").as_str()
        )
    );
    let token = TestUSDT::new(chain.usdt, &chain.provider);
    let allowance = || token.allowance(user.address(), chain.settlement);
    assert_eq!(allowance().call().await?, U256::ZERO, "nothing executed");

    // What java-tron refuses when it builds a transfer.
    let refusal = |r: Result<Transaction, String>| r.err().unwrap_or_else(|| "built".into());
    let none = PrivateKeySigner::random().address();
    let cases = [
        (funder.address(), user.address(), 0, "Amount must be greater than 0."),
        (funder.address(), funder.address(), TRX, "Cannot transfer TRX to yourself."),
        (funder.address(), chain.settlement, TRX, "Cannot transfer TRX to a smartContract."),
        (none, user.address(), TRX, "Validate TransferContract error, no OwnerAccount."),
        (funder.address(), user.address(), 1_000 * TRX, "Validate TransferContract error, balance is not sufficient."),
    ];
    for (from, to, amount, expected) in cases {
        let got = refusal(transfer(&mut wallet, from, to, amount).await?);
        assert_eq!(got, format!("Contract validate error : {expected}"), "{from} → {to}: {amount}");
    }

    // 10 TRX to it: the recipient is created; the sender pays 1 TRX to create it and 0.1 TRX for the bandwidth.
    let tx = transfer(&mut wallet, funder.address(), user.address(), 10 * TRX).await?.expect("a transfer");
    let (code, message, txid) = send(&mut wallet, tx, &funder).await?;
    assert_eq!(code, ResponseCode::Success, "{message}");
    let activation = info(&mut wallet, txid).await?;
    let receipt = activation.receipt.expect("a receipt");
    assert_eq!((receipt.net_fee, receipt.net_usage, receipt.energy_usage_total), (p.create_account_fee, 0, 0));
    assert_eq!(activation.fee, p.create_account_fee + p.create_new_account_fee_in_system_contract);
    assert_eq!(balance(&chain, funder.address()).await?, 1_000 * TRX - 10 * TRX - activation.fee, "amount + 1.1 TRX");
    assert_eq!(balance(&chain, user.address()).await?, 10 * TRX);
    assert!(exists(&mut wallet, user.address()).await?);
    assert_eq!(free_used(&mut wallet, user.address()).await?, (0, p.free_net_limit));

    // Its first transaction fits in the free 600 bytes: only energy is paid.
    let tx = approve(&mut wallet, &chain, user.address(), 20_000_000).await?;
    let (code, message, txid) = send(&mut wallet, tx, &user).await?;
    assert_eq!(code, ResponseCode::Success, "{message}");
    assert_eq!(allowance().call().await?, U256::from(20_000_000u64));
    let first = info(&mut wallet, txid).await?;
    let r = first.receipt.expect("a receipt");
    assert!(r.net_usage > 200 && r.net_usage < p.free_net_limit, "bytes: {}", r.net_usage);
    assert_eq!((r.net_fee, first.fee), (0, r.energy_usage_total * p.energy_fee), "energy only");
    assert_eq!(free_used(&mut wallet, user.address()).await?.0, r.net_usage, "the bytes came off the free allowance");
    let bytes = r.net_usage;

    // The second does not fit in what is left: all its bytes are paid in TRX, none from the allowance.
    let before = balance(&chain, user.address()).await?;
    let tx = approve(&mut wallet, &chain, user.address(), 10_000_000).await?;
    let (code, message, txid) = send(&mut wallet, tx, &user).await?;
    assert_eq!(code, ResponseCode::Success, "{message}");
    let second = info(&mut wallet, txid).await?;
    let r = second.receipt.expect("a receipt");
    assert_eq!((r.net_usage, r.net_fee), (0, bytes * p.transaction_fee), "the same size, burnt at 1,000 SUN a byte");
    assert_eq!(second.fee, r.energy_usage_total * p.energy_fee + r.net_fee);
    assert_eq!(before - balance(&chain, user.address()).await?, second.fee, "paid exactly its fee");
    assert_eq!(free_used(&mut wallet, user.address()).await?.0, bytes, "the allowance untouched");

    // The allowance recovers linearly over 24 hours: about half after 12, all of it after 24.
    chain.provider.anvil_increase_time(12 * 3_600).await?;
    chain.provider.anvil_mine(Some(1), None).await?;
    let half = free_used(&mut wallet, user.address()).await?.0;
    assert!((half * 2 - bytes).abs() <= 2, "{half} of {bytes} after 12 h");
    chain.provider.anvil_increase_time(12 * 3_600).await?;
    chain.provider.anvil_mine(Some(1), None).await?;
    assert_eq!(free_used(&mut wallet, user.address()).await?.0, 0, "all of it after 24 h");
    Ok(())
}

#[tokio::test]
async fn bandwidth_the_owner_cannot_pay_is_refused_with_bandwith_error_and_changes_nothing() -> eyre::Result<()> {
    let chain = DevChain::start_tron().await?;
    // A network without a free allowance: every byte is paid in TRX.
    let params = Params { free_net_limit: 0, ..Params::default() };
    let node = TronDevnode::start(&chain.rpc_url(), params.clone()).await?;
    let mut wallet = WalletClient::connect(node.grpc_url.clone()).await?;
    let user = chain.account(4);
    chain.provider.anvil_set_balance(user.address(), U256::from(100_000u64)).await?;
    let tx = approve(&mut wallet, &chain, user.address(), 1).await?;
    let (code, message, txid) = send(&mut wallet, tx.clone(), &user).await?;
    assert_eq!((code, message.as_str()), (ResponseCode::BandwithError, "Account resource insufficient error."));
    assert!(!node.knows(txid));
    assert_eq!(balance(&chain, user.address()).await?, 100_000, "nothing burnt");
    assert_eq!(node.counters().refused, 1);

    // Topped up, the same signed bytes go through and burn their bytes in TRX.
    chain.provider.anvil_set_balance(user.address(), U256::from(10 * TRX)).await?;
    let ret = wallet.broadcast_transaction(signed(tx, &user)).await?.into_inner();
    assert_eq!(ret.code(), ResponseCode::Success);
    let r = info(&mut wallet, txid).await?.receipt.expect("a receipt");
    assert!(r.net_fee > 200 * params.transaction_fee && r.net_usage == 0, "{r:?}");

    // A transfer to a new account burns the account-creation fee for its bandwidth instead: it needs 0.1 TRX.
    let poor = chain.account(5);
    chain.provider.anvil_set_balance(poor.address(), U256::from(1_099_999u64)).await?;
    let fresh = PrivateKeySigner::random().address();
    // 1 SUN + 1 TRX to create the account passes the transfer's own check, but not with 0.1 TRX of bandwidth first.
    let tx = transfer(&mut wallet, poor.address(), fresh, 1).await?.expect("a transfer");
    let (code, message, _) = send(&mut wallet, tx, &poor).await?;
    assert_eq!(
        (code, message.as_str()),
        (
            ResponseCode::ContractValidateError,
            "Contract validate error : Validate TransferContract error, balance is not sufficient."
        )
    );
    assert!(!exists(&mut wallet, fresh).await?);
    Ok(())
}

fn signed(mut tx: Transaction, key: &PrivateKeySigner) -> Transaction {
    sign(&mut tx, key);
    tx
}

#[tokio::test]
async fn tronweb_activates_an_account_through_the_http_api_and_reads_its_bandwidth() -> eyre::Result<()> {
    let chain = DevChain::start_tron().await?;
    let node = TronDevnode::start(&chain.rpc_url(), Params::default()).await?;
    let funder = chain.account(3);
    chain.provider.anvil_set_balance(funder.address(), U256::from(100 * TRX)).await?;
    let user = PrivateKeySigner::random();
    let input = json!({
        "full_host": node.http_url,
        "key": alloy::hex::encode(funder.to_bytes()),
        "to": abi::tron::to_base58(user.address()),
        "amount": 2 * TRX,
    });
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = anvil_tests::api::node_script(&root, "scripts/tron/tronweb-activate.mjs", &input).await?;
    assert_eq!(out["before"], json!({}), "TronWeb reads no account before: {out}");
    assert_eq!(out["sent"]["result"], true, "{out}");
    let txid: B256 = out["sent"]["txid"].as_str().expect("txid").parse()?;
    assert!(node.knows(txid), "the node executed TronWeb's transfer under TronWeb's id");
    assert_eq!(out["after"]["balance"], 2 * TRX, "{out}");
    assert_eq!(out["resources"]["freeNetLimit"], Params::default().free_net_limit, "{out}");
    let fee = Params::default().create_account_fee + Params::default().create_new_account_fee_in_system_contract;
    assert_eq!(out["info"]["fee"], fee, "{out}");
    assert_eq!(balance(&chain, funder.address()).await?, 100 * TRX - 2 * TRX - fee);
    Ok(())
}
