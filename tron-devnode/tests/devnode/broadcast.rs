//! The test node's broadcast is as strict as java-tron's: transactions built from the protocol messages here,
//! independently of `tronic`, and signed with k256, are refused with java-tron's codes and messages when their
//! signature, reference block, expiration, fee limit or id is wrong; a good one executes as its owner, pays
//! its energy in SUN, and one over its energy limit fails with OUT_OF_ENERGY and burns the limit.

use abi::TestUSDT;
use alloy::{
    primitives::{Address, B256, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use anvil_tests::devchain::DevChain;
use tron_devnode::{
    Params, SOLIDIFY_DEPTH, TronDevnode,
    proto::{
        self, EmptyMessage, Transaction, TriggerSmartContract, r#return::ResponseCode,
        transaction::result::ContractResult, transaction_info::Code, wallet_client::WalletClient,
        wallet_solidity_client::WalletSolidityClient,
    },
    tron_address,
};

const SUN: u64 = 10_000_000_000;
const FEE_LIMIT: i64 = 100_000_000;

type Wallet = WalletClient<tonic::transport::Channel>;

struct Setup {
    chain: DevChain,
    node: TronDevnode,
    wallet: Wallet,
    user: PrivateKeySigner,
}

async fn setup() -> eyre::Result<Setup> {
    let chain = DevChain::start_tron().await?;
    let user = chain.account(2);
    chain.provider.anvil_set_balance(user.address(), U256::from(SUN)).await?;
    let node = TronDevnode::start(&chain.rpc_url(), Params::default()).await?;
    let wallet = WalletClient::connect(node.grpc_url.clone()).await?;
    Ok(Setup { chain, node, wallet, user })
}

/// The user's `approve(settlement, amount)` on the test USDT, built by the node (`TriggerContract`), unsigned.
async fn approve(s: &mut Setup, amount: u64) -> eyre::Result<Transaction> {
    let call = TestUSDT::approveCall { spender: s.chain.settlement, value: U256::from(amount) };
    let trigger = TriggerSmartContract {
        owner_address: tron_address(s.user.address()),
        contract_address: tron_address(s.chain.usdt),
        data: call.abi_encode(),
        ..Default::default()
    };
    let ext = s.wallet.trigger_contract(trigger).await?.into_inner();
    assert!(ext.result.as_ref().is_some_and(|r| r.result), "{:?}", ext.result);
    let mut tx = ext.transaction.expect("a transaction");
    tx.raw_data.as_mut().expect("raw").fee_limit = FEE_LIMIT;
    Ok(tx)
}

/// Signs `tx` as a TRON wallet does: secp256k1 over SHA-256 of the raw data, `r ‖ s ‖ v` with v = 27 + id.
fn sign(tx: &mut Transaction, key: &PrivateKeySigner) -> B256 {
    tron_devnode::sign_transaction(tx, key.to_bytes().as_slice()).expect("signs")
}

async fn broadcast(s: &mut Setup, tx: Transaction) -> eyre::Result<(ResponseCode, String)> {
    let ret = s.wallet.broadcast_transaction(tx).await?.into_inner();
    Ok((ret.code(), String::from_utf8_lossy(&ret.message).into_owned()))
}

async fn allowance(s: &Setup) -> eyre::Result<U256> {
    let usdt = TestUSDT::new(s.chain.usdt, &s.chain.provider);
    Ok(usdt.allowance(s.user.address(), s.chain.settlement).call().await?)
}

#[tokio::test]
async fn broadcast_refuses_what_java_tron_refuses_with_its_codes_and_changes_nothing() -> eyre::Result<()> {
    let mut s = setup().await?;

    // `TransactionCapsule.checkWeight`: the signature, in hex, and the signer's address as java-tron shows them.
    let mut wrong_key = approve(&mut s, 1).await?;
    let other = s.chain.account(3);
    sign(&mut wrong_key, &other);
    let signature = alloy::hex::encode(&wrong_key.signature[0]);
    let expected = format!(
        "Validate signature error: {signature} is signed by {} but it is not contained of permission.",
        abi::tron::to_base58(other.address())
    );
    assert_eq!(broadcast(&mut s, wrong_key.clone()).await?, (ResponseCode::Sigerror, expected.clone()));
    // Checked before the reference block (`Manager.pushTransaction`, then `processTransaction`).
    let mut both = wrong_key;
    both.raw_data.as_mut().expect("raw").ref_block_hash[0] ^= 1;
    sign(&mut both, &other);
    assert_eq!(broadcast(&mut s, both).await?.0, ResponseCode::Sigerror);

    let mut unsigned = approve(&mut s, 1).await?;
    unsigned.signature.clear();
    let miss = (ResponseCode::Sigerror, "Validate signature error: miss sig or contract".to_owned());
    assert_eq!(broadcast(&mut s, unsigned.clone()).await?, miss);
    let mut twice = unsigned.clone();
    sign(&mut twice, &s.user);
    twice.signature.push(twice.signature[0].clone());
    let count = "Validate signature error: Signature count is 2 more than key counts of permission : 1";
    assert_eq!(broadcast(&mut s, twice).await?, (ResponseCode::Sigerror, count.to_owned()));
    let mut short = unsigned;
    short.signature = vec![vec![1; 64]];
    let size = (ResponseCode::Sigerror, "Validate signature error: Signature size is 64".to_owned());
    assert_eq!(broadcast(&mut s, short).await?, size);

    let mut bad_tapos = approve(&mut s, 1).await?;
    bad_tapos.raw_data.as_mut().expect("raw").ref_block_hash[0] ^= 1;
    sign(&mut bad_tapos, &s.user);
    assert_eq!(broadcast(&mut s, bad_tapos).await?, (ResponseCode::TaposError, "Tapos check error.".into()));

    let head = s.wallet.get_now_block2(EmptyMessage {}).await?.into_inner();
    let head_ms = head.block_header.and_then(|h| h.raw_data).expect("header").timestamp;
    for expiration in [head_ms, head_ms + 24 * 3_600_000 + 1] {
        let mut expired = approve(&mut s, 1).await?;
        expired.raw_data.as_mut().expect("raw").expiration = expiration;
        sign(&mut expired, &s.user);
        let answer = broadcast(&mut s, expired).await?;
        assert_eq!(answer, (ResponseCode::TransactionExpirationError, "Transaction expired".into()));
    }

    // `Wallet.broadcastTransaction`: no contract at all (`ActuatorConstant.CONTRACT_NOT_EXIST`).
    let mut empty = approve(&mut s, 1).await?;
    empty.raw_data.as_mut().expect("raw").contract.clear();
    sign(&mut empty, &s.user);
    let no_contract = (ResponseCode::ContractValidateError, "Contract validate error : No contract!".to_owned());
    assert_eq!(broadcast(&mut s, empty).await?, no_contract);
    assert_eq!(broadcast(&mut s, Transaction::default()).await?, no_contract, "no raw data");
    // `Manager.processTransaction`: exactly one contract.
    let mut two = approve(&mut s, 1).await?;
    let raw = two.raw_data.as_mut().expect("raw");
    raw.contract.push(raw.contract[0].clone());
    let txid = sign(&mut two, &s.user);
    let message = format!(
        "Contract validate error : tx {} contract size should be exactly 1, this is extend feature ,actual :2",
        alloy::hex::encode(txid)
    );
    assert_eq!(broadcast(&mut s, two).await?, (ResponseCode::ContractValidateError, message));
    // A busy node (`Manager.isTooManyPending`).
    s.node.set_faults(tron_devnode::Faults { server_busy: 1, ..Default::default() });
    let busy = approve(&mut s, 1).await?;
    assert_eq!(broadcast(&mut s, busy).await?, (ResponseCode::ServerBusy, "Server busy.".to_owned()));

    let mut over_limit = approve(&mut s, 1).await?;
    over_limit.raw_data.as_mut().expect("raw").fee_limit = 15_000_000_001;
    sign(&mut over_limit, &s.user);
    let (code, message) = broadcast(&mut s, over_limit).await?;
    assert_eq!(code, ResponseCode::ContractValidateError);
    assert_eq!(message, "Contract validate error : feeLimit must be >= 0 and <= 15000000000");

    let no_code = TriggerSmartContract {
        owner_address: tron_address(s.user.address()),
        contract_address: tron_address(Address::repeat_byte(0x77)),
        data: vec![1, 2, 3, 4],
        ..Default::default()
    };
    let ext = s.wallet.trigger_contract(no_code).await?.into_inner();
    let ret = ext.result.expect("a result");
    assert_eq!(ret.code(), ResponseCode::ContractValidateError);
    assert!(String::from_utf8_lossy(&ret.message).contains("No contract or not a valid smart contract"));

    assert_eq!(allowance(&s).await?, U256::ZERO, "nothing refused was executed");
    assert_eq!(s.node.counters().accepted, 0);
    assert_eq!(s.chain.provider.get_balance(s.user.address()).await?, U256::from(SUN), "no fee taken");
    Ok(())
}

#[tokio::test]
async fn a_good_transaction_executes_as_its_owner_pays_energy_and_is_a_duplicate_afterwards() -> eyre::Result<()> {
    let mut s = setup().await?;
    let mut tx = approve(&mut s, 5_000_000).await?;
    let txid = sign(&mut tx, &s.user);
    assert_eq!(broadcast(&mut s, tx.clone()).await?.0, ResponseCode::Success);
    assert_eq!(allowance(&s).await?, U256::from(5_000_000u64));

    let info = s.wallet.get_transaction_info_by_id(proto::BytesMessage { value: txid.to_vec() }).await?.into_inner();
    assert_eq!(info.id, txid.to_vec());
    assert_eq!(info.result(), Code::Sucess);
    let receipt = info.receipt.expect("a receipt");
    assert_eq!(receipt.result(), ContractResult::Success);
    assert_eq!(info.fee, receipt.energy_usage_total * Params::default().energy_fee, "fee = energy × energy fee");
    let paid = U256::from(SUN) - s.chain.provider.get_balance(s.user.address()).await?;
    assert_eq!(paid, U256::from(info.fee as u64), "the owner paid exactly the fee in SUN");
    assert_eq!(info.log.len(), 1, "the Approval event");
    assert_eq!(info.log[0].address, s.chain.usdt.to_vec(), "log addresses are 20 bytes, as java-tron's");

    assert_eq!(broadcast(&mut s, tx).await?, (ResponseCode::DupTransactionError, "Dup transaction.".into()));

    // The block carries it; the solidity node sees it once 19 blocks are on top.
    let block = s.wallet.get_block_by_num2(proto::NumberMessage { num: info.block_number }).await?.into_inner();
    assert_eq!(block.transactions.iter().map(|t| t.txid.clone()).collect::<Vec<_>>(), vec![txid.to_vec()]);
    assert_eq!(block.blockid[..8], (info.block_number as u64).to_be_bytes(), "block ids lead with the number");
    let mut solidity = WalletSolidityClient::connect(s.node.solidity_grpc_url.clone()).await?;
    let by_id = proto::BytesMessage { value: txid.to_vec() };
    assert_eq!(solidity.get_transaction_info_by_id(by_id.clone()).await?.into_inner().block_number, 0);
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    assert_eq!(solidity.get_transaction_info_by_id(by_id).await?.into_inner().block_number, info.block_number);
    let solid = solidity.get_now_block2(EmptyMessage {}).await?.into_inner();
    let head = s.chain.provider.get_block_number().await?;
    assert_eq!(solid.block_header.and_then(|h| h.raw_data).expect("header").number as u64, head - SOLIDIFY_DEPTH);
    Ok(())
}

#[tokio::test]
async fn a_transaction_over_its_energy_limit_fails_out_of_energy_and_burns_the_limit() -> eyre::Result<()> {
    let mut s = setup().await?;
    let mut tx = approve(&mut s, 5_000_000).await?;
    let limit = 25_000 * Params::default().energy_fee;
    tx.raw_data.as_mut().expect("raw").fee_limit = limit;
    let txid = sign(&mut tx, &s.user);
    assert_eq!(broadcast(&mut s, tx).await?.0, ResponseCode::Success, "accepted, then fails in execution");
    let info = s.wallet.get_transaction_info_by_id(proto::BytesMessage { value: txid.to_vec() }).await?.into_inner();
    assert_eq!(info.result(), Code::Failed);
    assert_eq!(info.receipt.expect("a receipt").result(), ContractResult::OutOfEnergy);
    assert_eq!(info.fee, limit, "the whole fee limit is burnt");
    assert_eq!(U256::from(SUN) - s.chain.provider.get_balance(s.user.address()).await?, U256::from(limit as u64));
    assert_eq!(allowance(&s).await?, U256::ZERO, "nothing executed");
    Ok(())
}

#[tokio::test]
async fn a_slow_node_runs_into_the_clients_deadline_and_answers_again_once_healed() -> eyre::Result<()> {
    let mut s = setup().await?;
    s.node.set_faults(tron_devnode::Faults { delay: std::time::Duration::from_secs(2), ..Default::default() });
    let mut request = tonic::Request::new(EmptyMessage {});
    request.set_timeout(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let slow = s.wallet.get_now_block2(request).await.map(|_| ()).map_err(|e| e.code());
    // The deadline travels as grpc-timeout: the server gives up at it (Cancelled), or the client does first.
    assert!(matches!(slow, Err(tonic::Code::DeadlineExceeded | tonic::Code::Cancelled)), "{slow:?}");
    assert!(started.elapsed() < std::time::Duration::from_millis(1_500), "the deadline fired, not the delay");
    s.node.set_faults(tron_devnode::Faults::default());
    let mut request = tonic::Request::new(EmptyMessage {});
    request.set_timeout(std::time::Duration::from_millis(2_000));
    let head = s.wallet.get_now_block2(request).await?.into_inner();
    assert!(head.block_header.is_some(), "healed, it answers");
    Ok(())
}

/// The head block's time in ms, as the node sees it.
async fn head_ms(s: &mut Setup) -> eyre::Result<i64> {
    let head = s.wallet.get_now_block2(EmptyMessage {}).await?.into_inner();
    Ok(head.block_header.and_then(|h| h.raw_data).expect("header").timestamp)
}

/// An approve expiring `after_head` ms after the head block, signed.
async fn expiring(s: &mut Setup, after_head: i64) -> eyre::Result<Transaction> {
    let head = head_ms(s).await?;
    let mut tx = approve(s, 1).await?;
    tx.raw_data.as_mut().expect("raw").expiration = head + after_head;
    sign(&mut tx, &s.user);
    Ok(tx)
}

#[tokio::test]
async fn expiration_must_reach_the_next_block_slot_and_stay_within_a_day_of_the_head() -> eyre::Result<()> {
    let mut s = setup().await?;
    let expired = (ResponseCode::TransactionExpirationError, "Transaction expired".to_owned());
    // `Wallet.broadcastTransaction`: not before the next slot, the head's time plus the 3-second block interval.
    let interval = tron_devnode::BLOCK_PRODUCED_INTERVAL_MS;
    assert_eq!(interval, 3_000);
    for too_soon in [0, 1, interval - 1] {
        let tx = expiring(&mut s, too_soon).await?;
        assert_eq!(broadcast(&mut s, tx).await?, expired, "{too_soon} ms after the head");
    }
    // Checked before the reference block: an expired transaction with a bad one is refused as expired.
    let mut both = expiring(&mut s, interval - 1).await?;
    both.raw_data.as_mut().expect("raw").ref_block_hash[0] ^= 1;
    sign(&mut both, &s.user);
    assert_eq!(broadcast(&mut s, both).await?, expired);
    // `Manager.validateCommon`: at most `MAXIMUM_TIME_UNTIL_EXPIRATION` (24 h) past the head.
    let day = tron_devnode::MAX_EXPIRATION_MS;
    let tx = expiring(&mut s, day + 1).await?;
    assert_eq!(broadcast(&mut s, tx).await?, expired, "a day and a millisecond");
    assert_eq!(s.node.counters().accepted, 0, "nothing refused was executed");

    // Both bounds are accepted (each acceptance mines a block: the head is read again for the next).
    for at_bound in [interval, day] {
        let tx = expiring(&mut s, at_bound).await?;
        assert_eq!(broadcast(&mut s, tx).await?.0, ResponseCode::Success, "{at_bound} ms after the head");
    }
    assert_eq!(s.node.counters().accepted, 2);
    Ok(())
}
