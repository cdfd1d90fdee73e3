//! TRON payouts through `tronic` against the TRON test node (java-tron's gRPC API over anvil): the signed bytes
//! are kept and broadcast again until the chain proves them dead, a batch is paid exactly once, outcomes count
//! only once solidified, and the fee limit stays under the chain's cap. The transaction's bytes and id are
//! cross-checked with TronWeb (`scripts/tron/trigger-tx.mjs`), an independent implementation, which must also
//! reproduce a transaction id published by a real node.

use std::time::{Duration, Instant};

use abi::{Payout, PayoutBatch, TestUSDT};
use alloy::{
    primitives::{Address, Bytes, U256},
    providers::{Provider, ext::AnvilApi},
};
use anvil_tests::devchain::DevChain;
use payout_chain::{
    BatchOutcome, Broadcast, Prepared, SignedTransaction, SubmitError,
    tron::{TronPayoutChain, TronSettings},
};
use prost::Message;
use serde_json::{Value, json};
use tron_devnode::{Faults, Params, SOLIDIFY_DEPTH, TronDevnode, proto, recover_signer, transaction_id};

const USDT: u128 = 1_000_000;
/// 10,000 TRX in SUN: the operator's balance (one SUN is one unit of the test chain's native coin).
const OPERATOR_SUN: u64 = 10_000_000_000;

struct Setup {
    chain: DevChain,
    node: TronDevnode,
}

/// A TRON chain whose custody holds 200 USDT from two registrations, and the test node in front of it.
async fn setup() -> eyre::Result<Setup> {
    let chain = DevChain::start_tron().await?;
    for (i, nonce) in [(2usize, 1u64), (3, 2)] {
        chain.register_usdt(&chain.account(i), chain.admin.address(), U256::from(100 * USDT), nonce).await?;
    }
    chain.provider.anvil_set_balance(chain.admin.address(), U256::from(OPERATOR_SUN)).await?;
    let node = TronDevnode::start(&chain.rpc_url(), Params::default()).await?;
    Ok(Setup { chain, node })
}

fn payouts_chain(s: &Setup, cap_sun: i64, expiration: Duration) -> eyre::Result<TronPayoutChain> {
    let settings = TronSettings {
        grpc_url: s.node.grpc_url.clone(),
        solidity_grpc_url: Some(s.node.solidity_grpc_url.clone()),
        settlement: s.chain.settlement,
        fee_limit_cap_sun: cap_sun,
        expiration,
        api_key: None,
    };
    Ok(TronPayoutChain::new(settings, Some(s.chain.admin.to_bytes().as_slice()))?)
}

async fn usdt_batch(s: &Setup, nonce: u64, payouts: &[(Address, u128)]) -> eyre::Result<(PayoutBatch, Bytes)> {
    let payouts: Vec<Payout> = payouts.iter().map(|(r, a)| Payout { recipient: *r, amount: U256::from(*a) }).collect();
    let batch = PayoutBatch {
        token: s.chain.usdt,
        total: payouts.iter().map(|p| p.amount).sum(),
        payouts,
        nonce: U256::from(nonce),
        deadline: s.chain.deadline().await?,
    };
    let signature = s.chain.sign(&batch);
    Ok((batch, signature))
}

async fn usdt_of(s: &Setup, who: Address) -> eyre::Result<U256> {
    Ok(TestUSDT::new(s.chain.usdt, &s.chain.provider).balanceOf(who).call().await?)
}

async fn signed(chain: &TronPayoutChain, batch: &PayoutBatch, signature: &Bytes) -> eyre::Result<SignedTransaction> {
    match chain.prepare(&batch.clone().into(), signature).await? {
        Prepared::Signed(signed) => Ok(signed),
        other => eyre::bail!("expected a signed transaction, got {other:?}"),
    }
}

#[tokio::test]
async fn kept_bytes_broadcast_again_after_a_drop_pay_exactly_once_and_count_once_solidified() -> eyre::Result<()> {
    let s = setup().await?;
    let tron = payouts_chain(&s, 1_000_000_000, Duration::from_secs(600))?;
    let (alice, bob) = (Address::repeat_byte(0xa1), Address::repeat_byte(0xb0));
    let (batch, signature) = usdt_batch(&s, 9_001, &[(alice, 5 * USDT), (bob, 7 * USDT)]).await?;
    let sun_before = s.chain.provider.get_balance(s.chain.admin.address()).await?;

    let kept = signed(&tron, &batch, &signature).await?;
    assert!(kept.fee_limit > 0 && kept.fee_limit <= 1_000_000_000, "fee limit {} within the cap", kept.fee_limit);
    assert!(!s.node.knows(kept.id), "prepare broadcasts nothing");

    // The node answers SUCCESS and loses it: the transaction is unseen, not dead, and paid nothing.
    s.node.set_faults(Faults { drop_broadcasts: 1, ..Faults::default() });
    assert_eq!(tron.broadcast(&kept).await?, Broadcast::Accepted);
    assert_eq!(s.node.counters().dropped, 1);
    let unseen = tron.signed_status(&batch.clone().into(), &kept).await?;
    assert_eq!(unseen, BatchOutcome::Unseen { tx: kept.id, expiration_ms: kept.expiration_ms });
    assert_eq!(usdt_of(&s, alice).await?, U256::ZERO);

    // The identical bytes again: executed under the same id, pending until solidified.
    assert_eq!(tron.broadcast(&kept).await?, Broadcast::Accepted);
    assert!(s.node.knows(kept.id), "the node holds the kept id: the bytes were identical");
    assert_eq!(tron.signed_status(&batch.clone().into(), &kept).await?, BatchOutcome::Pending { tx: kept.id });
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH - 1), None).await?;
    assert_eq!(
        tron.signed_status(&batch.clone().into(), &kept).await?,
        BatchOutcome::Pending { tx: kept.id },
        "18 deep"
    );
    s.chain.provider.anvil_mine(Some(1), None).await?;
    let BatchOutcome::Executed { tx, total, deferred, .. } = tron.signed_status(&batch.clone().into(), &kept).await?
    else {
        panic!("not executed once solidified")
    };
    assert_eq!((tx, total, deferred), (kept.id, U256::from(12 * USDT), vec![]));

    // A third broadcast is a duplicate, a new transaction for the batch is refused: paid exactly once.
    assert_eq!(tron.broadcast(&kept).await?, Broadcast::AlreadyKnown);
    let again = tron.prepare(&batch.clone().into(), &signature).await;
    assert!(matches!(&again, Err(SubmitError::Refused(m)) if m.contains("spent")), "{again:?}");
    assert_eq!(usdt_of(&s, alice).await?, U256::from(5 * USDT));
    assert_eq!(usdt_of(&s, bob).await?, U256::from(7 * USDT));
    assert_eq!(usdt_of(&s, s.chain.settlement).await?, U256::from(188 * USDT));

    // The operator paid the energy in TRX: something, and never more than the fee limit.
    let fee = sun_before - s.chain.provider.get_balance(s.chain.admin.address()).await?;
    assert!(fee > U256::ZERO && fee <= U256::from(kept.fee_limit), "fee {fee} SUN, limit {}", kept.fee_limit);
    Ok(())
}

/// What a mined TRON transaction cost, as the node's `GetTransactionInfoById` reports it (its receipt), and the part
/// of it that TRON would not charge as energy.
#[derive(Debug, Clone, Copy)]
struct Cost {
    /// `energy_usage_total`: the energy it used. On the test node that is the EVM's gas, the intrinsic part included.
    energy: u64,
    /// The EVM's intrinsic gas of its calldata (21,000 and 4 or 16 a byte): TRON charges a transaction's bytes as
    /// bandwidth, not energy.
    intrinsic: u64,
    /// `net_fee`: SUN burnt for its bytes beyond the sender's free bandwidth (600 bytes a day on the test node).
    net_fee: i64,
}

impl Cost {
    /// The energy without the intrinsic gas: what executing the call cost.
    fn execution(&self) -> u64 {
        self.energy - self.intrinsic
    }

    /// The energy with the bandwidth burnt counted at the energy price, as the fee in TRX divided by the energy price
    /// counts it (how this benchmark measured before the members' exit).
    fn with_bandwidth(&self) -> u64 {
        self.energy + (self.net_fee / Params::default().energy_fee) as u64
    }
}

/// The EVM's intrinsic gas of a call with `data`.
fn intrinsic_gas(data: &[u8]) -> u64 {
    21_000 + data.iter().map(|b| if *b == 0 { 4 } else { 16 }).sum::<u64>()
}

type TronClient = tronic::client::Client<tronic::provider::grpc::GrpcProvider, tronic::signer::LocalSigner>;

/// A TRON client of the test node signing with `wallet`'s key.
async fn tron_client(
    s: &Setup,
    wallet: &alloy::signers::local::PrivateKeySigner,
) -> eyre::Result<(TronClient, tronic::signer::LocalSigner)> {
    let signer = tronic::signer::LocalSigner::from_bytes(wallet.to_bytes().as_slice())?;
    let provider = tronic::provider::grpc::ConnectOptions::builder()
        .connect_timeout(Duration::from_secs(10))
        .connect(&s.node.grpc_url)
        .await?;
    Ok((tronic::client::Client::builder().provider(provider).signer(signer.clone()).build(), signer))
}

/// The cost of the transaction `txid` carrying `data`, once it is in a block; an error if it failed.
async fn cost_of(client: &TronClient, txid: alloy::primitives::B256, data: &[u8]) -> eyre::Result<Cost> {
    use tronic::provider::TronProvider;
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let info = client.provider().get_transaction_info(tronic::domain::Hash32::from(txid.0)).await?;
        if info.block_number > 0 {
            eyre::ensure!(info.result == tronic::domain::transaction::TxCode::Sucess, "{txid} failed: {info:?}");
            let receipt = info.receipt.ok_or_else(|| eyre::eyre!("{txid}: no receipt"))?;
            return Ok(Cost {
                energy: u64::try_from(receipt.energy_usage_total)?,
                intrinsic: intrinsic_gas(data),
                net_fee: receipt.net_fee.to_sun(),
            });
        }
        eyre::ensure!(Instant::now() < until, "{txid} not in a block within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `data` sent to `at` by `wallet` through the TRON node, its expiration counted from the chain's head block as
/// java-tron's own builder counts it (the exit's measurement moves the chain's clock a day past this machine's); what
/// it cost.
async fn cost_of_call(
    s: &Setup,
    wallet: &alloy::signers::local::PrivateKeySigner,
    at: Address,
    data: Vec<u8>,
) -> eyre::Result<Cost> {
    use tronic::{
        client::pending::{ManualSigning, PendingTransaction},
        domain::{
            address::TronAddress,
            contract::{Contract, ContractType, TriggerSmartContract},
            transaction::Transaction,
            trx::Trx,
        },
        provider::TronProvider,
    };
    let (client, signer) = tron_client(s, wallet).await?;
    let owner = signer.address();
    let trigger = TriggerSmartContract {
        owner_address: owner,
        contract_address: TronAddress::from(at),
        data: data.clone().into(),
        ..Default::default()
    };
    let head = client.provider().get_now_block().await?;
    let contract = Contract { contract_type: ContractType::TriggerSmartContract(trigger), ..Default::default() };
    let mut transaction = Transaction::new(contract, &head, Default::default());
    transaction.raw.expiration =
        head.block_header.raw_data.timestamp.max(transaction.raw.timestamp) + time::Duration::seconds(60);
    let mut pending: PendingTransaction<'_, _, _, ManualSigning> =
        PendingTransaction::new(&client, transaction, owner, Trx::ZERO, Vec::new(), true).await?;
    pending.sign(&signer, &()).await?;
    let txid = alloy::primitives::B256::from_slice(pending.txid().as_ref());
    client.provider().broadcast_transaction(pending.transaction()).await?;
    cost_of(&client, txid, &data).await
}

/// A USDT `transfer` of `value` by `wallet` to `to` through the node: its cost.
async fn plain_transfer(
    s: &Setup,
    wallet: &alloy::signers::local::PrivateKeySigner,
    to: Address,
    value: u128,
) -> eyre::Result<Cost> {
    let call = TestUSDT::transferCall { to, value: U256::from(value) };
    cost_of_call(s, wallet, s.chain.usdt, alloy::sol_types::SolCall::abi_encode(&call)).await
}

/// `call` with `signature` sent through the TRON family (kept bytes, broadcast, solidified) and executed with nothing
/// deferred: what it cost, and its outcome.
async fn cost_of_signed(
    s: &Setup,
    tron: &TronPayoutChain,
    call: &payout_chain::SignedCall,
    signature: &Bytes,
) -> eyre::Result<(Cost, BatchOutcome)> {
    let Prepared::Signed(kept) = tron.prepare(call, signature).await? else { eyre::bail!("a transaction to keep") };
    assert_eq!(tron.broadcast(&kept).await?, Broadcast::Accepted);
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    let outcome = tron.signed_status(call, &kept).await?;
    assert!(matches!(outcome, BatchOutcome::Executed { ref deferred, .. } if deferred.is_empty()), "{outcome:?}");
    // The call data, from the kept transaction (tronic's form: 67 bytes of header, then the Transaction).
    let tx = proto::Transaction::decode(&kept.raw[67..])?;
    let raw = tx.raw_data.unwrap_or_default();
    let parameter = raw.contract.first().and_then(|c| c.parameter.clone()).unwrap_or_default();
    let data = proto::TriggerSmartContract::decode(parameter.value.as_slice())?.data;
    let (client, _) = tron_client(s, &s.chain.admin).await?;
    Ok((cost_of(&client, kept.id, &data).await?, outcome))
}

/// Commits epoch `epoch` of the test USDT through the TRON family (kept bytes, broadcast, solidified); what it cost.
async fn commit_once(s: &Setup, tron: &TronPayoutChain, epoch: u64, nonce_seq: u64) -> eyre::Result<Cost> {
    let as_of = s.chain.provider.get_block_number().await? - 1;
    let root = abi::LiabilityRoot {
        token: s.chain.usdt,
        epoch,
        asOfBlock: as_of,
        root: alloy::primitives::B256::repeat_byte(epoch as u8),
        total: 150 * USDT,
        leafCount: 3,
        planHash: alloy::primitives::B256::repeat_byte(0xcd),
        nonce: abi::nonces::liability_nonce(nonce_seq),
        deadline: s.chain.deadline().await?,
    };
    let signature = s.chain.sign(&root);
    let call = payout_chain::SignedCall::Commitment(root.clone());
    let (cost, outcome) = cost_of_signed(s, tron, &call, &signature).await?;
    let BatchOutcome::Executed { total, .. } = outcome else { panic!("not committed once solidified") };
    assert_eq!(total, U256::from(150 * USDT));
    let latest =
        abi::Settlement::new(s.chain.settlement, &s.chain.provider).latestLiabilities(s.chain.usdt).call().await?;
    assert_eq!((latest.epoch, latest.root, latest.custody), (epoch, root.root, U256::from(200 * USDT)));
    // Paid once: the same payload again is refused, its nonce spent.
    assert!(matches!(tron.prepare(&call, &signature).await, Err(SubmitError::Refused(m)) if m.contains("spent")));
    Ok(cost)
}

#[tokio::test]
async fn liability_roots_are_committed_the_tron_way_once_each_with_their_energy_measured() -> eyre::Result<()> {
    let s = setup().await?;
    let tron = payouts_chain(&s, 1_000_000_000, Duration::from_secs(600))?;
    let first = commit_once(&s, &tron, 1, 0).await?.energy;
    let following = commit_once(&s, &tron, 2, 1).await?.energy;
    println!(
        "commitLiabilities on the TRON test node (energy = the EVM's gas): a token's first commitment on a fresh \
         nonce word {first} energy, a following one {following} energy"
    );
    assert!(following > 0 && following < first, "{following} then {first}");
    Ok(())
}

/// Issue 42's benchmark on TRON, in energy (the test node charges the EVM's gas as energy): a USDT payout batch per
/// recipient, to fresh holders and to existing ones, beside plain USDT transfers from a wallet to as many recipients
/// of the same kind, measured in the same run; a treasury transfer beside one plain transfer; a commitment. Each
/// figure is the node's receipt's energy, also without the intrinsic gas (TRON charges a transaction's bytes as
/// bandwidth); the payout's also with the bandwidth burnt counted at the energy price, as measured before the members'
/// exit (contracts/EXIT.md §9). `cargo test -p payout-chain --test tron energy -- --nocapture` prints them.
#[tokio::test]
async fn energy_of_payouts_treasury_transfers_and_commitments_beside_plain_transfers() -> eyre::Result<()> {
    const N: u8 = 10;
    let s = setup().await?;
    let tron = payouts_chain(&s, 5_000_000_000, Duration::from_secs(600))?;
    // Minted by a wallet of its own: the admin's account nonce is the TRON node's to take (it sends as the admin).
    let minter = anvil_tests::api::wallet_provider(&s.chain.rpc_url(), &s.chain.account(5))?;
    let usdt = TestUSDT::new(s.chain.usdt, &minter);
    let wallet = s.chain.account(4);
    usdt.mint(wallet.address(), U256::from(1_000 * USDT)).send().await?.get_receipt().await?;
    let commit = commit_once(&s, &tron, 1, 0).await?;

    let mut figures = Vec::new();
    for (label, existing) in [("fresh", false), ("existing", true)] {
        let address = |first: u8, i: u8| {
            let mut bytes = [0u8; 20];
            (bytes[0], bytes[19]) = (first, i + 1);
            Address::from(bytes)
        };
        let ours: Vec<Address> = (0..N).map(|i| address(if existing { 0xe1 } else { 0xf1 }, i)).collect();
        let bare: Vec<Address> = (0..N).map(|i| address(if existing { 0xe2 } else { 0xf2 }, i)).collect();
        if existing {
            for who in ours.iter().chain(&bare) {
                usdt.mint(*who, U256::from(1)).send().await?.get_receipt().await?;
            }
        }
        let entries: Vec<(Address, u128)> = ours.iter().map(|r| (*r, USDT)).collect();
        let (batch, signature) = usdt_batch(&s, 9_100 + u64::from(existing), &entries).await?;
        let (batch, _) = cost_of_signed(&s, &tron, &batch.into(), &signature).await?;
        let mut plain = Vec::new();
        for who in &bare {
            plain.push(plain_transfer(&s, &wallet, *who, USDT).await?);
        }
        let n = u64::from(N);
        let per = |f: fn(&Cost) -> u64| (f(&batch) / n, plain.iter().map(f).sum::<u64>() / n);
        let ((ours, bare), (ours_x, bare_x), (ours_b, bare_b)) =
            (per(|c| c.energy), per(Cost::execution), per(Cost::with_bandwidth));
        println!(
            "TRON energy, USDT payout of {N} {label} recipients: {ours} per recipient, plain transfers {bare} per \
             recipient, ratio {:.3}; without the intrinsic gas {ours_x} vs {bare_x}, ratio {:.3}; with the bandwidth \
             burnt at the energy price (the earlier figures' measure) {ours_b} vs {bare_b}, ratio {:.3}",
            ours as f64 / bare as f64,
            ours_x as f64 / bare_x as f64,
            ours_b as f64 / bare_b as f64,
        );
        figures.push((ours, bare));
    }

    let treasury = abi::TreasuryTransfer {
        token: s.chain.usdt,
        to: Address::repeat_byte(0x7e),
        amount: U256::from(USDT),
        nonce: abi::nonces::treasury_nonce(1),
        deadline: s.chain.deadline().await?,
    };
    let call = abi::Settlement::transferTreasuryCall { t: treasury.clone(), signature: s.chain.sign(&treasury) };
    let treasury_cost =
        cost_of_call(&s, &s.chain.admin, s.chain.settlement, alloy::sol_types::SolCall::abi_encode(&call)).await?;
    let plain_one = plain_transfer(&s, &wallet, Address::repeat_byte(0x7f), USDT).await?;
    println!(
        "TRON energy: transferTreasury {} beside a plain USDT transfer {} (ratio {:.2}; without the intrinsic gas {} vs \
         {}); commitLiabilities, a token's first on a fresh nonce word, {} (without the intrinsic gas {})",
        treasury_cost.energy,
        plain_one.energy,
        treasury_cost.energy as f64 / plain_one.energy as f64,
        treasury_cost.execution(),
        plain_one.execution(),
        commit.energy,
        commit.execution(),
    );
    assert_eq!(usdt_of(&s, Address::repeat_byte(0x7e)).await?, U256::from(USDT), "the treasury transfer paid");
    for (per, per_plain) in figures {
        assert!(per > 0 && per_plain > 0, "measured");
    }
    Ok(())
}

/// A treasury transfer of `amount` test USDT to 0x7e…7e sent by the admin through the TRON node: what it cost, or
/// an error when it failed on the chain.
async fn treasury_transfer(s: &Setup, amount: u128, nonce: u64) -> eyre::Result<Cost> {
    let t = abi::TreasuryTransfer {
        token: s.chain.usdt,
        to: Address::repeat_byte(0x7e),
        amount: U256::from(amount),
        nonce: abi::nonces::treasury_nonce(nonce),
        deadline: s.chain.deadline().await?,
    };
    let call = abi::Settlement::transferTreasuryCall { t: t.clone(), signature: s.chain.sign(&t) };
    cost_of_call(s, &s.chain.admin, s.chain.settlement, alloy::sol_types::SolCall::abi_encode(&call)).await
}

/// A sale in TRON USDT through the TRON node (PLAN-SALES.md §3-4, issue 69), the same bytecode as on BSC: the buyer
/// pays it from their own wallet (the signer's payload, accepted: the Rust EIP-712 hash of `Sale` is the contract's),
/// a treasury transfer that would take its money fails on the chain while one of the company's own money goes
/// through, and the buyer takes the sale back alone; its energy beside a plain USDT transfer.
#[tokio::test]
async fn a_sale_is_paid_and_taken_back_the_tron_way_and_no_treasury_transfer_takes_its_money() -> eyre::Result<()> {
    use alloy::{
        rpc::types::Filter,
        sol_types::{SolCall, SolEvent},
    };
    let s = setup().await?;
    let tron = payouts_chain(&s, 5_000_000_000, Duration::from_secs(600))?;
    let minter = anvil_tests::api::wallet_provider(&s.chain.rpc_url(), &s.chain.account(5))?;
    let usdt = TestUSDT::new(s.chain.usdt, &minter);
    let (buyer, wallet) = (s.chain.account(6), s.chain.account(4));
    usdt.mint(buyer.address(), U256::from(300 * USDT)).send().await?.get_receipt().await?;
    usdt.mint(wallet.address(), U256::from(1_000 * USDT)).send().await?.get_receipt().await?;
    let settlement = abi::Settlement::new(s.chain.settlement, &s.chain.provider);
    let desk = settlement.salesDesk().call().await?;
    // custody 200: 150 committed to members, 50 the company's
    commit_once(&s, &tron, 1, 0).await?;

    let approve = TestUSDT::approveCall { spender: desk, value: U256::from(300 * USDT) };
    cost_of_call(&s, &buyer, s.chain.usdt, approve.abi_encode()).await?;
    let sale = abi::SettlementSales::Sale {
        buyer: buyer.address(),
        seller: s.chain.account(2).address(),
        token: s.chain.usdt,
        amount: U256::from(300 * USDT),
        retail: U256::from(60 * USDT),
        pv: U256::from(300),
        orderRef: alloy::primitives::B256::repeat_byte(0x0d),
        refundWindow: U256::from(14 * 86_400),
        nonce: U256::from(7_001),
        deadline: s.chain.deadline().await?,
    };
    let sell = abi::SettlementSales::sellCall { s: sale.clone(), signature: s.chain.sign(&sale) };
    let sold = cost_of_call(&s, &buyer, desk, sell.abi_encode()).await?;
    assert_eq!(usdt_of(&s, s.chain.settlement).await?, U256::from(500 * USDT), "custody took the sale");
    let logs = s
        .chain
        .provider
        .get_logs(&Filter::new().address(desk).event_signature(abi::SettlementSales::Sold::SIGNATURE_HASH))
        .await?;
    let event = logs.first().ok_or_else(|| eyre::eyre!("no Sold event"))?.log_decode::<abi::SettlementSales::Sold>()?;
    let until = event.inner.data.refundableUntil;
    let desk_reads = abi::SettlementSales::new(desk, &s.chain.provider);
    let open = desk_reads.openSales(s.chain.usdt).call().await?;
    assert_eq!((open.companyPart, open.amount), (U256::from(240 * USDT), U256::from(300 * USDT)));

    // the floor is 150 + 300: 51 USDT would take the sale's money, 50 is the company's
    let refused = treasury_transfer(&s, 51 * USDT, 1).await;
    assert!(matches!(&refused, Err(e) if e.to_string().contains("failed")), "refused on chain: {refused:?}");
    assert_eq!(usdt_of(&s, s.chain.settlement).await?, U256::from(500 * USDT), "custody untouched");
    treasury_transfer(&s, 50 * USDT, 2).await?;
    assert_eq!(usdt_of(&s, Address::repeat_byte(0x7e)).await?, U256::from(50 * USDT), "the company's own moved");

    let refund = abi::SettlementSales::refundCall {
        id: sale.nonce,
        token: s.chain.usdt,
        amount: sale.amount,
        retail: sale.retail,
        refundableUntil: until,
    };
    let refunded = cost_of_call(&s, &buyer, desk, refund.abi_encode()).await?;
    assert_eq!(usdt_of(&s, buyer.address()).await?, U256::from(300 * USDT), "the buyer has the whole amount back");
    assert_eq!(usdt_of(&s, s.chain.settlement).await?, U256::from(150 * USDT), "the members' 150 stays whole");
    assert_eq!(desk_reads.saleState(sale.nonce).call().await?, 1, "refunded");
    let again = cost_of_call(&s, &buyer, desk, refund.abi_encode()).await;
    assert!(again.is_err(), "a second refund fails on chain");

    let plain = plain_transfer(&s, &wallet, Address::repeat_byte(0x7d), USDT).await?;
    println!(
        "TRON energy: a sale {} and its refund {} beside a plain USDT transfer {} (ratios {:.2} and {:.2}); without \
         the intrinsic gas {} and {} vs {}",
        sold.energy,
        refunded.energy,
        plain.energy,
        sold.energy as f64 / plain.energy as f64,
        refunded.energy as f64 / plain.energy as f64,
        sold.execution(),
        refunded.execution(),
        plain.execution(),
    );
    Ok(())
}

/// The running hash a batch extends (`SettlementHashes.chainBatch`): keccak256(previous ‖ nonce ‖ payoutsHash).
fn chain_batch(previous: alloy::primitives::B256, nonce: U256, payouts: &[Payout]) -> alloy::primitives::B256 {
    let mut bytes = [0u8; 96];
    bytes[..32].copy_from_slice(previous.as_slice());
    bytes[32..64].copy_from_slice(&nonce.to_be_bytes::<32>());
    bytes[64..].copy_from_slice(abi::payouts_hash(payouts).as_slice());
    alloy::primitives::keccak256(bytes)
}

/// The members' exit on TRON, in energy on the TRON test node (contracts/EXIT.md §9), each figure beside a plain USDT
/// transfer of the same run: `commitLiabilities` of a root holding a member's leaf at depth 17 (a tree of 131,072
/// leaves), `openExit` after three payout batches since (the custody moves to the exits, a fresh holder),
/// `foldBatches` per entry (a batch of 100 fresh recipients less one of 1, each folded on its own from a running hash
/// that is not the last), and `exit` with the depth-17 proof paying a fresh holder. The energy is the node's receipt's
/// `energy_usage_total`, also without the intrinsic gas; bandwidth is apart. `cargo test -p payout-chain --test tron
/// energy -- --nocapture` prints it.
/// Commits, the TRON way, epoch 1 of the test USDT: a root with `member`'s leaf (1 + 2 + 3 + 4 USDT owed, 5
/// claimable) at index 0x15a5a of a tree of depth 17, folded by the contract's own `foldProof`. Returns the leaf, its
/// siblings and what the commitment cost.
async fn commit_depth17_leaf(
    s: &Setup,
    tron: &TronPayoutChain,
    member: Address,
) -> eyre::Result<(abi::SettlementExit::ExitLeaf, Vec<abi::SettlementExit::SumNode>, Cost)> {
    const DEPTH: usize = 17;
    const INDEX: u64 = 0x15a5a;
    let settlement = abi::Settlement::new(s.chain.settlement, &s.chain.provider);
    let exit = abi::SettlementExit::new(settlement.exits().call().await?, &s.chain.provider);
    let leaf = abi::SettlementExit::ExitLeaf {
        member,
        reserved: USDT,
        held: 2 * USDT,
        pending: 3 * USDT,
        batched: 4 * USDT,
        claimable: 5 * USDT,
        salt: alloy::primitives::B256::repeat_byte(0x5a),
    };
    let siblings: Vec<abi::SettlementExit::SumNode> = (0..DEPTH)
        .map(|k| abi::SettlementExit::SumNode {
            hash: alloy::primitives::keccak256(format!("sibling {k}")),
            sum: U256::from((k as u128 + 1) * USDT),
        })
        .collect();
    let chain_id = s.chain.deployment().chain_id & 0xffff_ffff;
    let folded = exit
        .foldProof(chain_id, s.chain.settlement, s.chain.usdt, 1, leaf.clone(), U256::from(INDEX), siblings.clone())
        .call()
        .await?;
    let root = abi::LiabilityRoot {
        token: s.chain.usdt,
        epoch: 1,
        asOfBlock: s.chain.provider.get_block_number().await? - 1,
        root: folded.root,
        total: folded.total.to(),
        leafCount: 1 << DEPTH,
        planHash: alloy::primitives::B256::repeat_byte(0xcd),
        nonce: abi::nonces::liability_nonce(0),
        deadline: s.chain.deadline().await?,
    };
    let signature = s.chain.sign(&root);
    let (commit, _) = cost_of_signed(s, tron, &payout_chain::SignedCall::Commitment(root), &signature).await?;
    Ok((leaf, siblings, commit))
}

/// A member leaving alone while a change of power is pending (contracts/EXIT.md §12): `leave` with a depth-17 proof
/// and a batch of 10 since the commitment (the member's own entry among them), sent by an outside wallet and paying
/// the member, beside a plain USDT transfer to a fresh holder in the same run.
#[tokio::test]
async fn energy_of_a_member_leaving_beside_plain_transfers() -> eyre::Result<()> {
    const INDEX: u64 = 0x15a5a;
    let s = setup().await?;
    let tron = payouts_chain(&s, 5_000_000_000, Duration::from_secs(600))?;
    let minter = anvil_tests::api::wallet_provider(&s.chain.rpc_url(), &s.chain.account(5))?;
    let usdt = TestUSDT::new(s.chain.usdt, &minter);
    let wallet = s.chain.account(4);
    usdt.mint(wallet.address(), U256::from(1_000 * USDT)).send().await?.get_receipt().await?;
    let settlement = abi::Settlement::new(s.chain.settlement, &s.chain.provider);
    let exits = settlement.exits().call().await?;

    let member = Address::repeat_byte(0x3f);
    let (leaf, siblings, _) = commit_depth17_leaf(&s, &tron, member).await?;
    // A batch of 10 since the commitment, one unit to each, the member among them.
    let entries: Vec<(Address, u128)> =
        (0..10u8).map(|i| (if i == 4 { member } else { Address::repeat_byte(0x60 + i) }, 1)).collect();
    let (batch, signature) = usdt_batch(&s, 9_300, &entries).await?;
    cost_of_signed(&s, &tron, &batch.clone().into(), &signature).await?;
    let folded = vec![abi::SettlementExit::FoldedBatch {
        previous: alloy::primitives::B256::ZERO,
        nonce: batch.nonce,
        payouts: batch
            .payouts
            .iter()
            .map(|p| abi::SettlementExit::Payout { recipient: p.recipient, amount: p.amount })
            .collect(),
    }];
    // The admin schedules a change: members may leave.
    settlement.scheduleSignerRotation(Address::repeat_byte(0x51)).send().await?.get_receipt().await?;
    assert!(settlement.leaveOpen().call().await?, "a change is pending");

    let plain_fresh = plain_transfer(&s, &wallet, Address::repeat_byte(0x7b), USDT).await?;
    let leave_call = abi::SettlementExit::leaveCall {
        token: s.chain.usdt,
        leaf,
        index: U256::from(INDEX),
        siblings,
        batches: folded,
        to: member,
    };
    let left = cost_of_call(&s, &wallet, exits, alloy::sol_types::SolCall::abi_encode(&leave_call)).await?;
    assert_eq!(usdt_of(&s, member).await?, U256::from(10 * USDT), "its leaf in all: the batch's unit and the leave");
    assert!(settlement.hasLeft(member, s.chain.usdt).call().await?, "marked as left");
    println!("TRON energy, a member leaving while a change is pending:");
    println!(
        "  leave, a depth-17 proof and a batch of 10 since, to a fresh holder {} beside a plain USDT transfer to a fresh \
         holder {} (ratio {:.2}); without the intrinsic gas {} vs {} (ratio {:.2}); bandwidth burnt (SUN) {}",
        left.energy,
        plain_fresh.energy,
        left.energy as f64 / plain_fresh.energy as f64,
        left.execution(),
        plain_fresh.execution(),
        left.execution() as f64 / plain_fresh.execution() as f64,
        left.net_fee
    );
    Ok(())
}

#[tokio::test]
async fn energy_of_the_members_exit_beside_plain_transfers() -> eyre::Result<()> {
    const INDEX: u64 = 0x15a5a;
    let s = setup().await?;
    let tron = payouts_chain(&s, 5_000_000_000, Duration::from_secs(600))?;
    let minter = anvil_tests::api::wallet_provider(&s.chain.rpc_url(), &s.chain.account(5))?;
    let usdt = TestUSDT::new(s.chain.usdt, &minter);
    // The outside wallet: sends the plain transfers, opens, folds and exits (the exit pays the member).
    let wallet = s.chain.account(4);
    let holder = Address::repeat_byte(0x7d);
    for who in [wallet.address(), holder] {
        usdt.mint(who, U256::from(1_000 * USDT)).send().await?.get_receipt().await?;
    }
    let settlement = abi::Settlement::new(s.chain.settlement, &s.chain.provider);
    let exits = settlement.exits().call().await?;
    let exit = abi::SettlementExit::new(exits, &s.chain.provider);

    // A root with the member's leaf at depth 17, folded by the contract's own `foldProof`; committed the TRON way.
    let member = Address::repeat_byte(0x3e);
    let (leaf, siblings, commit) = commit_depth17_leaf(&s, &tron, member).await?;
    let plain_existing = plain_transfer(&s, &wallet, holder, USDT).await?;

    // Three batches since the commitment, to fresh recipients: 1 entry, 100, 1.
    let fresh = |tag: u8, i: usize| {
        let mut bytes = [0u8; 20];
        (bytes[0], bytes[18], bytes[19]) = (tag, (i >> 8) as u8, i as u8 + 1);
        Address::from(bytes)
    };
    let mut batches = Vec::new();
    let mut head = alloy::primitives::B256::ZERO;
    for (n, (tag, count)) in [(0xa1u8, 1usize), (0xb1, 100), (0xa2, 1)].into_iter().enumerate() {
        let entries: Vec<(Address, u128)> = (0..count).map(|i| (fresh(tag, i), 10_000 + i as u128)).collect();
        let (batch, signature) = usdt_batch(&s, 9_200 + n as u64, &entries).await?;
        cost_of_signed(&s, &tron, &batch.clone().into(), &signature).await?;
        let previous = head;
        head = chain_batch(previous, batch.nonce, &batch.payouts);
        batches.push((previous, batch));
    }
    assert_eq!(settlement.batchesSinceCommitment(s.chain.usdt).call().await?.head, head);

    // A day (the development exitAfter) and a minute on, the outside wallet opens the exit.
    let exit_after: u64 = settlement.exitAfter().call().await?.try_into()?;
    s.chain.provider.anvil_increase_time(exit_after + 60).await?;
    s.chain.provider.anvil_mine(Some(1), None).await?;
    let plain_fresh = plain_transfer(&s, &wallet, Address::repeat_byte(0x7a), USDT).await?;
    let open_call = abi::SettlementExit::openExitCall { token: s.chain.usdt };
    let open = cost_of_call(&s, &wallet, exits, alloy::sol_types::SolCall::abi_encode(&open_call)).await?;
    let opening = exit.opening(s.chain.usdt).call().await?;
    assert!(opening.open && opening.batchesToFold == head && opening.custody >= opening.owed, "{opening:?}");

    // Folded newest first, one batch a call: the last single entry, the 100, the first single entry.
    let mut fold = Vec::new();
    for (previous, batch) in batches.iter().rev() {
        let payouts = batch
            .payouts
            .iter()
            .map(|p| abi::SettlementExit::Payout { recipient: p.recipient, amount: p.amount })
            .collect();
        let batches = vec![abi::SettlementExit::FoldedBatch { previous: *previous, nonce: batch.nonce, payouts }];
        let call = abi::SettlementExit::foldBatchesCall { token: s.chain.usdt, batches };
        fold.push(cost_of_call(&s, &wallet, exits, alloy::sol_types::SolCall::abi_encode(&call)).await?);
    }
    assert_eq!(exit.opening(s.chain.usdt).call().await?.batchesToFold, alloy::primitives::B256::ZERO);

    // The member's exit with the depth-17 proof, sent by the outside wallet, paying the member (a fresh holder).
    let exit_call =
        abi::SettlementExit::exitCall { token: s.chain.usdt, leaf, index: U256::from(INDEX), siblings, to: member };
    let claimed = cost_of_call(&s, &wallet, exits, alloy::sol_types::SolCall::abi_encode(&exit_call)).await?;
    assert_eq!(usdt_of(&s, member).await?, U256::ZERO, "a claim pays nothing yet (contracts/EXIT.md §13)");
    // Once the claim window has closed, the payout (anyone sends it): the one claim, in full.
    let window = exit.claimWindow(s.chain.usdt).call().await?;
    let now = s.chain.provider.get_block_by_number(Default::default()).await?.expect("head").header.timestamp;
    s.chain.provider.anvil_increase_time(window.end.saturating_sub(now) + 60).await?;
    s.chain.provider.evm_mine(None).await?;
    let pay_out_call = abi::SettlementExit::payOutCall { token: s.chain.usdt, member };
    let paid_out = cost_of_call(&s, &wallet, exits, alloy::sol_types::SolCall::abi_encode(&pay_out_call)).await?;
    assert_eq!(usdt_of(&s, member).await?, U256::from(10 * USDT), "reserved + held + pending + batched, in full");

    // Each figure beside its baseline: the energy, and without the intrinsic gas (TRON's bandwidth).
    let line = |what: &str, c: (u64, u64), base: &str, b: &Cost| {
        format!(
            "{what} {} beside a plain USDT transfer to {base} {} (ratio {:.2}); without the intrinsic gas {} vs {} \
             (ratio {:.2})",
            c.0,
            b.energy,
            c.0 as f64 / b.energy as f64,
            c.1,
            b.execution(),
            c.1 as f64 / b.execution() as f64
        )
    };
    let whole = |c: &Cost| (c.energy, c.execution());
    let per_entry = ((fold[1].energy - fold[0].energy) / 99, (fold[1].execution() - fold[0].execution()) / 99);
    println!("TRON energy, the members' exit:");
    println!(
        "  {}",
        line(
            "commitLiabilities, a token's first (131,072 leaves)",
            whole(&commit),
            "an existing holder",
            &plain_existing
        )
    );
    println!("  {}", line("openExit, 3 batches since", whole(&open), "a fresh holder", &plain_fresh));
    println!(
        "  {} (foldBatches of a batch of 1: {}, of 100: {})",
        line("foldBatches per entry (fresh recipients)", per_entry, "a fresh holder", &plain_fresh),
        fold[0].energy,
        fold[1].energy
    );
    println!("  {}", line("exit (the claim), a depth-17 proof", whole(&claimed), "a fresh holder", &plain_fresh));
    println!("  {}", line("payOut to a fresh holder", whole(&paid_out), "a fresh holder", &plain_fresh));
    let both = (claimed.energy + paid_out.energy, claimed.execution() + paid_out.execution());
    println!("  {}", line("claim + payOut", both, "a fresh holder", &plain_fresh));
    println!(
        "  bandwidth burnt beyond the free allowance (SUN): foldBatches of 100 {}, exit {}, payOut {}, openExit {}",
        fold[1].net_fee, claimed.net_fee, paid_out.net_fee, open.net_fee
    );
    assert!(per_entry.0 > 0 && per_entry.0 < plain_fresh.energy, "an entry folds for less than a transfer");
    Ok(())
}

#[tokio::test]
async fn a_lost_transaction_is_dead_only_once_a_solidified_block_is_past_its_expiration() -> eyre::Result<()> {
    let s = setup().await?;
    let tron = payouts_chain(&s, 1_000_000_000, Duration::from_secs(3))?;
    let alice = Address::repeat_byte(0xa1);
    let (batch, signature) = usdt_batch(&s, 9_002, &[(alice, 4 * USDT)]).await?;

    let lost = signed(&tron, &batch, &signature).await?;
    s.node.set_faults(Faults { drop_broadcasts: 1, ..Faults::default() });
    assert_eq!(tron.broadcast(&lost).await?, Broadcast::Accepted);

    // Blocks past the expiration at the head do not make it dead: only a solidified one does.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        s.chain.provider.anvil_mine(Some(1), None).await?;
        let head = s.chain.provider.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?;
        if head.is_some_and(|b| (b.header.timestamp as i64) * 1000 > lost.expiration_ms) {
            break;
        }
        assert!(Instant::now() < deadline, "the chain's clock never passed the expiration");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        matches!(tron.signed_status(&batch.clone().into(), &lost).await?, BatchOutcome::Unseen { .. }),
        "head past, not solid"
    );
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    assert_eq!(tron.signed_status(&batch.clone().into(), &lost).await?, BatchOutcome::Dropped { tx: lost.id });

    // The dead bytes are refused by the node; a new transaction with the same signed batch pays once.
    assert_eq!(tron.broadcast(&lost).await?, Broadcast::Expired, "the node refuses the dead bytes as expired");
    let fresh = signed(&tron, &batch, &signature).await?;
    assert_ne!(fresh.id, lost.id);
    assert_eq!(tron.broadcast(&fresh).await?, Broadcast::Accepted);
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    assert!(matches!(tron.signed_status(&batch.clone().into(), &fresh).await?, BatchOutcome::Executed { .. }));
    assert_eq!(
        tron.signed_status(&batch.clone().into(), &lost).await?,
        BatchOutcome::Dropped { tx: lost.id },
        "still dead"
    );
    assert_eq!(usdt_of(&s, alice).await?, U256::from(4 * USDT));
    Ok(())
}

#[tokio::test]
async fn a_full_node_lagging_behind_the_solidity_node_never_makes_a_mined_transaction_look_dead() -> eyre::Result<()> {
    let s = setup().await?;
    let tron = payouts_chain(&s, 1_000_000_000, Duration::from_secs(3))?;
    let alice = Address::repeat_byte(0xa1);
    let (batch, signature) = usdt_batch(&s, 9_003, &[(alice, 6 * USDT)]).await?;
    let kept = signed(&tron, &batch, &signature).await?;
    assert_eq!(tron.broadcast(&kept).await?, Broadcast::Accepted);
    assert_eq!(usdt_of(&s, alice).await?, U256::from(6 * USDT), "mined at once");

    // The full node falls far behind (a load balancer's lagging backend); the chain moves past the expiration and
    // a solidified block with it. The full node knows nothing of the transaction; the Solidity node holds it.
    s.node.set_faults(Faults { full_node_lag: 10_000, ..Faults::default() });
    s.chain.provider.anvil_increase_time(60).await?;
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 1), None).await?;
    let head = s.chain.provider.get_block_number().await?;
    let solid = s.chain.provider.get_block_by_number((head - SOLIDIFY_DEPTH).into()).await?.expect("solidified block");
    assert!(solid.header.timestamp as i64 * 1000 > kept.expiration_ms, "a solidified block is past the expiration");
    assert_eq!(
        tron.signed_status(&batch.clone().into(), &kept).await?,
        BatchOutcome::Pending { tx: kept.id },
        "solidified, not dead: no second transaction may be sent"
    );

    // The full node catches up: the execution, once.
    s.node.set_faults(Faults::default());
    let BatchOutcome::Executed { tx, total, .. } = tron.signed_status(&batch.clone().into(), &kept).await? else {
        panic!("not executed")
    };
    assert_eq!((tx, total), (kept.id, U256::from(6 * USDT)));
    assert_eq!(usdt_of(&s, alice).await?, U256::from(6 * USDT));
    Ok(())
}

#[tokio::test]
async fn a_node_that_requires_an_api_key_is_reached_with_it_on_both_nodes_and_refuses_without() -> eyre::Result<()> {
    let chain = DevChain::start_tron().await?;
    for (i, nonce) in [(2usize, 1u64), (3, 2)] {
        chain.register_usdt(&chain.account(i), chain.admin.address(), U256::from(100 * USDT), nonce).await?;
    }
    chain.provider.anvil_set_balance(chain.admin.address(), U256::from(OPERATOR_SUN)).await?;
    let params = Params { api_key: Some("test-key-0123".into()), ..Params::default() };
    let s = Setup { node: TronDevnode::start(&chain.rpc_url(), params).await?, chain };
    let alice = Address::repeat_byte(0xa1);
    let (batch, signature) = usdt_batch(&s, 9_004, &[(alice, 3 * USDT)]).await?;

    // Without the key the provider refuses every call: nothing can be signed, nothing is sent.
    let keyless = payouts_chain(&s, 1_000_000_000, Duration::from_secs(3))?;
    let refused = keyless.prepare(&batch.clone().into(), &signature).await;
    assert!(matches!(&refused, Err(SubmitError::Provider(m)) if m.to_lowercase().contains("api-key")), "{refused:?}");

    // With it: signed, broadcast, executed. Then the full node falls behind: the dead rule's question to the
    // Solidity node carries the key too, and the transaction is found solidified, not dead.
    let settings = TronSettings {
        grpc_url: s.node.grpc_url.clone(),
        solidity_grpc_url: Some(s.node.solidity_grpc_url.clone()),
        settlement: s.chain.settlement,
        fee_limit_cap_sun: 1_000_000_000,
        expiration: Duration::from_secs(3),
        api_key: Some("test-key-0123".to_owned().into()),
    };
    let tron = TronPayoutChain::new(settings, Some(s.chain.admin.to_bytes().as_slice()))?;
    let kept = signed(&tron, &batch, &signature).await?;
    assert_eq!(tron.broadcast(&kept).await?, Broadcast::Accepted);
    assert_eq!(usdt_of(&s, alice).await?, U256::from(3 * USDT));
    s.node.set_faults(Faults { full_node_lag: 10_000, ..Faults::default() });
    s.chain.provider.anvil_increase_time(60).await?;
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 1), None).await?;
    assert_eq!(tron.signed_status(&batch.clone().into(), &kept).await?, BatchOutcome::Pending { tx: kept.id });
    Ok(())
}

#[tokio::test]
async fn a_batch_whose_fee_limit_is_above_the_cap_is_refused_before_signing() -> eyre::Result<()> {
    let s = setup().await?;
    let tron = payouts_chain(&s, 1_000, Duration::from_secs(600))?;
    let (batch, signature) = usdt_batch(&s, 9_003, &[(Address::repeat_byte(0xa1), USDT)]).await?;
    let refused = tron.prepare(&batch.clone().into(), &signature).await;
    assert!(matches!(&refused, Err(SubmitError::Refused(m)) if m.contains("fee_limit")), "{refused:?}");
    assert_eq!(s.node.counters().broadcasts, 0);

    // The contract's own refusal (a signature by the wrong key) is reported without a broadcast either.
    let tron = payouts_chain(&s, 1_000_000_000, Duration::from_secs(600))?;
    let refused = tron.prepare(&batch.clone().into(), &Bytes::from(vec![7u8; 65])).await;
    assert!(matches!(refused, Err(SubmitError::Refused(_))), "{refused:?}");
    assert_eq!(s.node.counters().broadcasts, 0);
    Ok(())
}

#[tokio::test]
async fn a_busy_node_is_a_provider_error_and_the_same_bytes_go_through_afterwards() -> eyre::Result<()> {
    let s = setup().await?;
    let tron = payouts_chain(&s, 1_000_000_000, Duration::from_secs(600))?;
    let (batch, signature) = usdt_batch(&s, 9_004, &[(Address::repeat_byte(0xa1), 2 * USDT)]).await?;
    let kept = signed(&tron, &batch, &signature).await?;
    s.node.set_faults(Faults { server_busy: 1, ..Faults::default() });
    let busy = tron.broadcast(&kept).await;
    assert!(matches!(&busy, Err(SubmitError::Provider(m)) if m.contains("ServerBusy")), "{busy:?}");
    assert!(!s.node.knows(kept.id));
    assert_eq!(tron.broadcast(&kept).await?, Broadcast::Accepted);
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    assert!(matches!(tron.signed_status(&batch.clone().into(), &kept).await?, BatchOutcome::Executed { .. }));
    Ok(())
}

/// A signed USDT `transfer` on Nile as a real node published it: raw data, id and signature.
const GOLDEN_RAW: &str = "0a028ad92208eaef69105495eb1540f09fc0cfcd335aae01081f12a9010a31747970652e676f6f676c65617069732e636f6d2f70726f746f636f6c2e54726967676572536d617274436f6e747261637412740a1541495511a493d8c362be4267224e6d81013a6862ee121541eca9bc828a3005b9a3b909f2cc5c2a54794de05f2244a9059cbb00000000000000000000004150125bea243a640bf85348873b6c4f3c517aee7a00000000000000000000000000000000000000000000000000000000000000017090cbbccfcd33900180c2d72f";
const GOLDEN_TXID: &str = "c70b20da8cb8d96a99c1aceb283412acb9dea313a9e467178431a3c6ae8b9f08";
const GOLDEN_SIGNATURE: &str = "1788bf0281f67c42f5a09322523edee9969e808a863776f21ab6543de9dd42ca0e4955577879df8074086c620eb96709ba9a95d60a166de190a081e8d69801da00";
const GOLDEN_OWNER: &str = "495511a493d8c362be4267224e6d81013a6862ee";

/// The transaction as java-tron's HTTP API shows it (`visible = false`), for TronWeb.
fn http_json(raw: &proto::transaction::Raw) -> eyre::Result<Value> {
    let [contract] = raw.contract.as_slice() else { eyre::bail!("one contract expected") };
    let parameter = contract.parameter.clone().unwrap_or_default();
    let call = proto::TriggerSmartContract::decode(parameter.value.as_slice())?;
    let mut value = json!({
        "owner_address": alloy::hex::encode(&call.owner_address),
        "contract_address": alloy::hex::encode(&call.contract_address),
        "data": alloy::hex::encode(&call.data),
    });
    if call.call_value != 0 {
        value["call_value"] = json!(call.call_value);
    }
    let mut raw_json = json!({
        "contract": [{ "parameter": { "value": value, "type_url": parameter.type_url }, "type": "TriggerSmartContract" }],
        "ref_block_bytes": alloy::hex::encode(&raw.ref_block_bytes),
        "ref_block_hash": alloy::hex::encode(&raw.ref_block_hash),
        "expiration": raw.expiration,
        "timestamp": raw.timestamp,
    });
    if raw.fee_limit != 0 {
        raw_json["fee_limit"] = json!(raw.fee_limit);
    }
    if raw.ref_block_num != 0 {
        raw_json["ref_block_num"] = json!(raw.ref_block_num);
    }
    Ok(json!({ "visible": false, "raw_data": raw_json }))
}

/// TronWeb's raw data (hex) and transaction id for `tx`.
fn tronweb(tx: &Value) -> eyre::Result<(String, String)> {
    use std::io::Write;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/tron/trigger-tx.mjs");
    let mut node = std::process::Command::new("node")
        .arg(&script)
        .current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    node.stdin.take().expect("stdin").write_all(tx.to_string().as_bytes())?;
    let out = node.wait_with_output()?;
    eyre::ensure!(
        out.status.success(),
        "trigger-tx.mjs ended with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout)?;
    Ok((answer["raw_data_hex"].as_str().unwrap_or_default().into(), answer["txID"].as_str().unwrap_or_default().into()))
}

#[test]
fn a_transaction_published_by_a_real_node_is_reproduced_by_tronweb_and_by_our_encoding() -> eyre::Result<()> {
    let bytes = alloy::hex::decode(GOLDEN_RAW)?;
    let raw = proto::transaction::Raw::decode(bytes.as_slice())?;
    assert_eq!(raw.encode_to_vec(), bytes, "our protobuf encoding gives back the published bytes");
    assert_eq!(alloy::hex::encode(transaction_id(&raw)), GOLDEN_TXID, "id = SHA-256 of the raw data");
    let (tronweb_raw, tronweb_id) = tronweb(&http_json(&raw)?)?;
    assert_eq!((tronweb_raw.as_str(), tronweb_id.as_str()), (GOLDEN_RAW, GOLDEN_TXID), "TronWeb agrees");
    let signer =
        recover_signer(&GOLDEN_TXID.parse()?, &alloy::hex::decode(GOLDEN_SIGNATURE)?).map_err(|e| eyre::eyre!(e))?;
    assert_eq!(alloy::hex::encode(signer), GOLDEN_OWNER, "the published signature is the owner's (v = 0)");
    Ok(())
}

#[tokio::test]
async fn the_payout_transaction_we_sign_has_the_bytes_and_id_tronweb_computes() -> eyre::Result<()> {
    let s = setup().await?;
    let tron = payouts_chain(&s, 1_000_000_000, Duration::from_secs(600))?;
    let (batch, signature) = usdt_batch(&s, 9_005, &[(Address::repeat_byte(0xa1), USDT)]).await?;
    let kept = signed(&tron, &batch, &signature).await?;

    // tronic's kept form: "PTX1", id, owner, base TRX, flag, activation checks (none), then the Transaction.
    assert_eq!(&kept.raw[..4], b"PTX1");
    assert_eq!(kept.raw[66], 0, "no activation checks");
    let tx = proto::Transaction::decode(&kept.raw[67..])?;
    let raw = tx.raw_data.clone().expect("raw data");
    assert_eq!(transaction_id(&raw), kept.id);
    assert_eq!(raw.fee_limit, kept.fee_limit);
    assert_eq!(raw.expiration, kept.expiration_ms);
    let (tronweb_raw, tronweb_id) = tronweb(&http_json(&raw)?)?;
    assert_eq!(tronweb_raw, alloy::hex::encode(raw.encode_to_vec()), "TronWeb encodes the same raw data");
    assert_eq!(tronweb_id, alloy::hex::encode(kept.id), "and computes the same id");

    // The call is executePayoutBatch(batch, signature) on the Settlement contract, signed by the operator.
    let call =
        proto::TriggerSmartContract::decode(raw.contract[0].parameter.as_ref().expect("parameter").value.as_slice())?;
    assert_eq!(call.contract_address[1..], s.chain.settlement[..]);
    let expected = abi::Settlement::executePayoutBatchCall { batch, signature };
    assert_eq!(call.data, alloy::sol_types::SolCall::abi_encode(&expected));
    let [sig] = tx.signature.as_slice() else { panic!("one signature") };
    assert_eq!(recover_signer(&kept.id, sig).map_err(|e| eyre::eyre!(e))?, s.chain.admin.address());
    Ok(())
}

#[tokio::test]
async fn a_transaction_that_fails_on_chain_is_reported_reverted_and_a_new_one_pays_once() -> eyre::Result<()> {
    let s = setup().await?;
    let tron = payouts_chain(&s, 1_000_000_000, Duration::from_secs(600))?;
    let alice = Address::repeat_byte(0xa1);
    let (batch, signature) = usdt_batch(&s, 9_006, &[(alice, 3 * USDT)]).await?;
    let first = signed(&tron, &batch, &signature).await?;

    // Between the estimate and the broadcast the contract is paused: the transaction is mined and fails. (The
    // admin pays the pause in the EVM's own fees: give it room for that.)
    s.chain.provider.anvil_set_balance(s.chain.admin.address(), U256::from(10u128.pow(20))).await?;
    // A provider of its own each time: the node's transactions from the admin move its account nonce.
    let settlement =
        || abi::Settlement::new(s.chain.settlement, DevChain::provider_for(&s.chain.anvil, &s.chain.admin));
    settlement().pause().send().await?.get_receipt().await?;
    assert_eq!(tron.broadcast(&first).await?, Broadcast::Accepted);
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    assert_eq!(tron.signed_status(&batch.clone().into(), &first).await?, BatchOutcome::Reverted { tx: first.id });
    assert_eq!(usdt_of(&s, alice).await?, U256::ZERO, "a failed transaction paid nothing");

    // A failed transaction's bytes are spent: a new transaction carries the same signed batch, and pays once.
    settlement().unpause().send().await?.get_receipt().await?;
    let second = signed(&tron, &batch, &signature).await?;
    assert_ne!(second.id, first.id);
    assert_eq!(tron.broadcast(&second).await?, Broadcast::Accepted);
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    assert!(matches!(tron.signed_status(&batch.clone().into(), &second).await?, BatchOutcome::Executed { .. }));
    assert_eq!(tron.broadcast(&first).await?, Broadcast::AlreadyKnown, "the failed one is in a block: a duplicate");
    assert_eq!(usdt_of(&s, alice).await?, U256::from(3 * USDT));
    Ok(())
}
