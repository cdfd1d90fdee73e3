//! One request must never stop the node (issue 25). On each of its three surfaces — java-tron's HTTP API, gRPC and
//! JSON-RPC — a field longer than it may be (a 2 MB address, 2 MB of hex, an over-long array) and a body or message
//! over java-tron's limits are refused with the protocol's own error at once, while another request keeps being
//! answered; and the largest value each limit allows still works.
//!
//! Each test runs the node on a runtime of one worker thread, and each oversized request from a thread of its own:
//! anything the node did inline on its worker at length (decoding a huge message, parsing a huge body, sending a
//! huge batch on) would hold up the probe request sent meanwhile, or the refusal itself.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use abi::{TestUSDT, limits};
use alloy::{
    primitives::{Address, U256},
    providers::ext::AnvilApi,
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use anvil_tests::devchain::DevChain;
use prost::Message;
use serde_json::{Value, json};
use tron_devnode::{
    GRPC_MESSAGE_MAX_BYTES, HTTP_BODY_MAX_BYTES, MAX_RESULT_SIZE_IN_TX, Params, TRANSACTION_MAX_BYTES, TronDevnode,
    jsonrpc::{MAX_ADDRESS_SIZE, MAX_BATCH_SIZE, MAX_MESSAGE_SIZE, MAX_SUB_TOPICS, MAX_TOPICS, TronFaults, TronRpc},
    proto::{
        EmptyMessage, Return, Transaction, TriggerSmartContract, r#return::ResponseCode, wallet_client::WalletClient,
    },
    transaction_id, tron_address,
};

/// How soon an oversized request must be refused (and one at a limit answered).
const ANSWERED_WITHIN: Duration = Duration::from_millis(500);
/// How slow any other request may be answered meanwhile.
const PROBE_WITHIN: Duration = Duration::from_millis(250);
/// A TRON account's balance in these tests: 10,000 TRX.
const SUN: u64 = 10_000_000_000;
/// A fee limit that pays for half a megabyte of call data: 1,000 TRX.
const FEE_LIMIT: i64 = 1_000_000_000;

/// Sends `attack` from a thread (and runtime) of its own while this runtime, which serves the node, sends `probe`
/// over and over; returns the attack's outcome, how long it took, and the slowest probe.
async fn while_probing<T, A, AFut, P, PFut>(attack: A, probe: P) -> (T, Duration, Duration)
where
    T: Send + 'static,
    A: FnOnce() -> AFut + Send + 'static,
    AFut: Future<Output = T>,
    P: Fn() -> PFut,
    PFut: Future<Output = ()>,
{
    let (done, mut outcome) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let started = Instant::now();
        let out = runtime.block_on(attack());
        let _ = done.send((out, started.elapsed()));
    });
    let deadline = Instant::now() + 10 * ANSWERED_WITHIN;
    let mut slowest = Duration::ZERO;
    loop {
        let started = Instant::now();
        tokio::time::timeout(10 * PROBE_WITHIN, probe()).await.expect("the probe is answered");
        slowest = slowest.max(started.elapsed());
        match outcome.try_recv() {
            Ok((out, took)) => return (out, took, slowest),
            Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {
                assert!(
                    Instant::now() < deadline,
                    "the oversized request is not answered after {:?}",
                    10 * ANSWERED_WITHIN
                );
            }
            Err(e) => panic!("the oversized request failed: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn assert_quick(what: &str, took: Duration, slowest_probe: Duration) {
    eprintln!("{what}: answered in {took:?}; the slowest other request meanwhile took {slowest_probe:?}");
    assert!(took < ANSWERED_WITHIN, "{what}: answered after {took:?}");
    assert!(slowest_probe < PROBE_WITHIN, "{what}: another request waited {slowest_probe:?} meanwhile");
}

/// Sends `message` — bytes encoded before the clock starts, of any shape — to `Wallet.BroadcastTransaction` at
/// `url`, `times` at once over one connection; java-tron's answers, or the statuses.
async fn broadcast_bytes(url: String, message: Vec<u8>, times: usize) -> Vec<Result<Return, tonic::Status>> {
    let channel = tonic::transport::Channel::from_shared(url).expect("a URL").connect().await.expect("connected");
    let calls: Vec<_> = (0..times)
        .map(|_| {
            let mut grpc = tonic::client::Grpc::new(channel.clone());
            let message = message.clone();
            tokio::spawn(async move {
                grpc.ready().await.expect("ready");
                let path =
                    tonic::codegen::http::uri::PathAndQuery::from_static("/protocol.Wallet/BroadcastTransaction");
                grpc.unary(tonic::Request::new(message), path, RawCodec).await.map(tonic::Response::into_inner)
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(times);
    for call in calls {
        answers.push(call.await.expect("the call ran"));
    }
    answers
}

/// A codec that sends bytes as they are and reads java-tron's `Return`.
struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Return;
    type Encoder = RawEncoder;
    type Decoder = tonic_prost::ProstDecoder<Return>;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::default()
    }
}

struct RawEncoder;

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, buf: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), tonic::Status> {
        prost::bytes::BufMut::put_slice(buf, &item);
        Ok(())
    }
}

/// POSTs `body` as it is, from the attacking thread.
async fn post_text(url: String, body: String) -> Value {
    let answer = reqwest::Client::new().post(url).header("content-type", "application/json").body(body).send().await;
    answer.expect("an answer").json().await.expect("a JSON answer")
}

async fn post(url: &str, body: &Value) -> eyre::Result<Value> {
    Ok(reqwest::Client::new().post(url).json(body).send().await?.json().await?)
}

struct Node {
    chain: DevChain,
    node: TronDevnode,
    user: PrivateKeySigner,
}

async fn node() -> eyre::Result<Node> {
    let chain = DevChain::start_tron().await?;
    let user = chain.account(2);
    chain.provider.anvil_set_balance(user.address(), U256::from(SUN)).await?;
    let node = TronDevnode::start(&chain.rpc_url(), Params::default()).await?;
    Ok(Node { chain, node, user })
}

impl Node {
    /// A probe of the HTTP API: the chain parameters.
    async fn http_probe(&self) {
        let answer = post(&format!("{}/wallet/getchainparameters", self.node.http_url), &json!({})).await;
        assert!(answer.expect("an answer")["chainParameter"].is_array());
    }

    async fn wallet(&self) -> eyre::Result<WalletClient<tonic::transport::Channel>> {
        Ok(WalletClient::connect(self.node.grpc_url.clone()).await?)
    }

    /// The user's `approve(settlement, 1)` followed by `padding` zero bytes (ignored by the ABI decoder), built by
    /// the node with the fee limit set, signed.
    async fn padded_approve(&self, padding: usize) -> eyre::Result<Transaction> {
        let mut data = TestUSDT::approveCall { spender: self.chain.settlement, value: U256::from(1) }.abi_encode();
        data.resize(data.len() + padding, 0);
        let trigger = TriggerSmartContract {
            owner_address: tron_address(self.user.address()),
            contract_address: tron_address(self.chain.usdt),
            data,
            ..Default::default()
        };
        let ext = self.wallet().await?.trigger_contract(trigger).await?.into_inner();
        let mut tx = ext.transaction.ok_or_else(|| eyre::eyre!("no transaction: {:?}", ext.result))?;
        tx.raw_data.as_mut().expect("raw").fee_limit = FEE_LIMIT;
        sign(&mut tx, &self.user);
        Ok(tx)
    }

    /// A signed approve whose size, as `size` measures it, is exactly `target`.
    async fn approve_of_size(&self, target: usize, size: fn(&Transaction) -> usize) -> eyre::Result<Transaction> {
        let mut padding = 0;
        for _ in 0..4 {
            let tx = self.padded_approve(padding).await?;
            match size(&tx) {
                s if s == target => return Ok(tx),
                s => padding = (padding + target).checked_sub(s).ok_or_else(|| eyre::eyre!("{s} > {target}"))?,
            }
        }
        eyre::bail!("no approve of exactly {target} bytes")
    }

    async fn allowance(&self) -> eyre::Result<U256> {
        let usdt = TestUSDT::new(self.chain.usdt, &self.chain.provider);
        Ok(usdt.allowance(self.user.address(), self.chain.settlement).call().await?)
    }
}

/// Signs as a TRON wallet does: secp256k1 over the transaction id, `r ‖ s ‖ v` with v = 27 + id.
fn sign(tx: &mut Transaction, key: &PrivateKeySigner) {
    tron_devnode::sign_transaction(tx, key.to_bytes().as_slice()).expect("signs");
}

/// java-tron's size of a transaction (`Manager.validateCommon`): without its results, with room for two.
fn java_tron_size(tx: &Transaction) -> usize {
    Transaction { ret: Vec::new(), ..tx.clone() }.encoded_len() + 2 * MAX_RESULT_SIZE_IN_TX
}

fn raw_len(tx: &Transaction) -> usize {
    tx.raw_data.as_ref().expect("raw").encoded_len()
}

/// The start of an answer, for a failure's message (an echoed 2 MB field would drown it).
fn head(answer: &Value) -> String {
    answer.to_string().chars().take(300).collect()
}

fn error_of(answer: &Value) -> &str {
    answer["Error"].as_str().unwrap_or_else(|| panic!("not a refusal: {}", head(answer)))
}

// HTTP (java-tron's `/wallet/*`): refusals are `{"Error": "..."}`.

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn http_an_address_of_2_mb_is_refused_by_its_length_at_once_and_one_of_34_is_read() -> eyre::Result<()> {
    let n = node().await?;
    let url = format!("{}/wallet/getaccount", n.node.http_url);
    for (visible, address, max) in [
        (true, "T".repeat(2_000_000), limits::TRON_ADDRESS_LEN),
        (false, format!("41{}", "ab".repeat(1_000_000)), limits::TRON_HEX_ADDRESS_MAX_LEN),
    ] {
        let body = json!({ "address": address, "visible": visible }).to_string();
        let to = url.clone();
        let (answer, took, slowest) = while_probing(move || post_text(to, body), || n.http_probe()).await;
        assert_eq!(
            error_of(&answer),
            format!("address: {} characters, longer than the {max} it may have", address.len()),
            "refused by the node's own bound, before any decoding"
        );
        assert_quick("a 2 MB address", took, slowest);
    }
    // The longest address of each form is read.
    let base58 = abi::tron::to_base58(n.user.address());
    assert_eq!(base58.len(), limits::TRON_ADDRESS_LEN);
    let hex = format!("0x{}", alloy::hex::encode(tron_address(n.user.address())));
    assert_eq!(hex.len(), limits::TRON_HEX_ADDRESS_MAX_LEN);
    for (visible, address) in [(true, base58), (false, hex)] {
        let account = post(&url, &json!({ "address": address, "visible": visible })).await?;
        assert_eq!(account["balance"].as_u64(), Some(SUN), "{account}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn http_hex_arrays_and_bodies_over_their_limits_are_refused_at_once() -> eyre::Result<()> {
    let n = node().await?;
    let owner = alloy::hex::encode(tron_address(n.user.address()));
    let usdt = alloy::hex::encode(tron_address(n.chain.usdt));
    let digits = limits::TX_HEX_MAX_LEN + 2;
    let cases = [
        (
            "triggerconstantcontract",
            json!({ "owner_address": owner, "contract_address": usdt, "data": "00".repeat(digits / 2) }).to_string(),
            format!("data: {digits} characters, longer than the {} it may have", limits::TX_HEX_MAX_LEN),
        ),
        (
            "broadcasttransaction",
            json!({ "raw_data_hex": "0a".repeat(digits / 2), "signature": [] }).to_string(),
            format!("raw_data_hex: {digits} characters, longer than the {} it may have", limits::TX_HEX_MAX_LEN),
        ),
        (
            "broadcasttransaction",
            json!({ "raw_data_hex": "", "signature": vec!["00"; 200_000] }).to_string(),
            format!("signature: 200000 signatures, more than the {} allowed", tron_devnode::SIGNATURES_MAX),
        ),
        (
            "broadcasttransaction",
            json!({ "raw_data_hex": "", "signature": ["ab".repeat(1_000_000)] }).to_string(),
            format!("signature: 2000000 characters, longer than the {} it may have", limits::SIGNATURE_MAX_LEN),
        ),
        (
            "triggersmartcontract",
            json!({ "owner_address": owner, "contract_address": usdt, "function_selector": "f".repeat(2_000_000) })
                .to_string(),
            format!(
                "function_selector: 2000000 characters, longer than the {} it may have",
                limits::FUNCTION_SIGNATURE_MAX_LEN
            ),
        ),
        (
            "gettransactioninfobyid",
            json!({ "value": "ab".repeat(1_000_000) }).to_string(),
            format!("value: 2000000 characters, longer than the {} it may have", limits::HASH_MAX_LEN),
        ),
        (
            "getaccount",
            format!("{{\"address\": \"{}\"}}", "a".repeat(HTTP_BODY_MAX_BYTES)),
            format!("body size is too big, the limit is {HTTP_BODY_MAX_BYTES}"),
        ),
    ];
    for (path, body, refusal) in cases {
        let url = format!("{}/wallet/{path}", n.node.http_url);
        let (answer, took, slowest) = while_probing(move || post_text(url, body), || n.http_probe()).await;
        assert_eq!(error_of(&answer), refusal, "{path}");
        assert_quick(path, took, slowest);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn http_the_longest_raw_data_hex_allowed_is_broadcast_and_executed() -> eyre::Result<()> {
    let n = node().await?;
    let tx = n.approve_of_size(limits::TX_HEX_MAX_LEN / 2, raw_len).await?;
    let raw_data_hex = alloy::hex::encode(tx.raw_data.as_ref().expect("raw").encode_to_vec());
    assert_eq!(raw_data_hex.len(), limits::TX_HEX_MAX_LEN);
    let body = json!({ "raw_data_hex": raw_data_hex, "signature": [alloy::hex::encode(&tx.signature[0])] });
    let url = format!("{}/wallet/broadcasttransaction", n.node.http_url);
    let (answer, _, slowest) = while_probing(move || post_text(url, body.to_string()), || n.http_probe()).await;
    assert_eq!(answer["result"], true, "{}", head(&answer));
    assert!(slowest < PROBE_WITHIN, "another request waited {slowest:?} during the broadcast");
    assert_eq!(n.allowance().await?, U256::from(1), "executed");
    // The same call data, read through a constant call: the longest `data` allowed.
    let data = alloy::hex::encode(
        &TriggerSmartContract::decode(
            tx.raw_data.expect("raw").contract[0].parameter.as_ref().expect("parameter").value.as_slice(),
        )?
        .data,
    );
    let constant = post(
        &format!("{}/wallet/triggerconstantcontract", n.node.http_url),
        &json!({
            "owner_address": alloy::hex::encode(tron_address(n.user.address())),
            "contract_address": alloy::hex::encode(tron_address(n.chain.usdt)),
            "data": format!("{data}{}", "00".repeat((limits::TX_HEX_MAX_LEN - data.len()) / 2)),
        }),
    )
    .await?;
    assert_eq!(constant["result"]["result"], true, "{}", head(&constant));
    Ok(())
}

// gRPC (java-tron's `Wallet`): refusals are statuses, or java-tron's `Return` codes.

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn grpc_a_message_over_the_limit_is_refused_by_its_length_before_it_is_read() -> eyre::Result<()> {
    let n = node().await?;
    let probe = n.wallet().await?;
    // 4 MB of empty signatures: under tonic's default limit, two million entries to decode.
    let huge = Transaction { signature: vec![Vec::new(); 2_000_000], ..Default::default() }.encode_to_vec();
    let url = n.node.grpc_url.clone();
    let (answers, took, slowest) =
        while_probing(move || broadcast_bytes(url, huge, 1), || chain_parameters(probe.clone())).await;
    let status = answers.into_iter().next().expect("an answer").expect_err("refused by a status");
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    assert!(status.message().contains(&format!("the limit is: {GRPC_MESSAGE_MAX_BYTES} bytes")), "{status:?}");
    assert_quick("a 4 MB message", took, slowest);
    Ok(())
}

async fn chain_parameters(mut wallet: WalletClient<tonic::transport::Channel>) {
    wallet.get_chain_parameters(EmptyMessage {}).await.expect("the chain parameters");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn grpc_messages_at_the_limit_are_decoded_off_the_workers_and_answered_as_java_tron_does() -> eyre::Result<()> {
    let n = node().await?;
    let probe = n.wallet().await?;
    // A transaction with a good reference block, filled up to the limit with empty signatures (two bytes each):
    // half a million entries to decode.
    let mut tx = n.padded_approve(0).await?;
    tx.signature.clear();
    let room = GRPC_MESSAGE_MAX_BYTES - tx.encoded_len();
    tx.signature = vec![Vec::new(); room / 2];
    if room % 2 == 1 {
        // One entry of one byte (three bytes) for one empty one (two).
        tx.signature.pop();
        tx.signature.push(vec![0]);
    }
    let at_limit = tx.encode_to_vec();
    assert_eq!(at_limit.len(), GRPC_MESSAGE_MAX_BYTES);
    // Two at once.
    let url = n.node.grpc_url.clone();
    let (answers, took, slowest) =
        while_probing(move || broadcast_bytes(url, at_limit, 2), || chain_parameters(probe.clone())).await;
    for answer in answers {
        let ret = answer.expect("read and answered");
        // `Manager.pushTransaction` validates the signatures first: too many of them.
        assert_eq!(ret.code(), ResponseCode::Sigerror);
        assert_eq!(String::from_utf8_lossy(&ret.message), "Validate signature error: too many signatures");
    }
    assert_quick("two messages at the limit", took, slowest);
    // One entry more is over the limit.
    tx.signature.push(Vec::new());
    let over = tx.encode_to_vec();
    let url = n.node.grpc_url.clone();
    let (answers, took, slowest) =
        while_probing(move || broadcast_bytes(url, over, 1), || chain_parameters(probe.clone())).await;
    let status = answers.into_iter().next().expect("an answer").expect_err("refused by a status");
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    assert_quick("a message over the limit", took, slowest);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn grpc_the_largest_transaction_java_tron_accepts_executes_and_one_byte_more_is_too_big() -> eyre::Result<()> {
    let n = node().await?;
    let mut wallet = n.wallet().await?;
    let over = n.approve_of_size(TRANSACTION_MAX_BYTES + 1, java_tron_size).await?;
    let txid = transaction_id(over.raw_data.as_ref().expect("raw"));
    let ret = wallet.broadcast_transaction(over).await?.into_inner();
    assert_eq!(ret.code(), ResponseCode::TooBigTransactionError, "{:?}", String::from_utf8_lossy(&ret.message));
    // `Manager.validateCommon`'s message: the size without results, plus room for two.
    let expected = format!(
        "Too big transaction with result, TxId {}, the size is {} bytes, maxTxSize {TRANSACTION_MAX_BYTES}",
        alloy::hex::encode(txid),
        TRANSACTION_MAX_BYTES + 1
    );
    assert_eq!(String::from_utf8_lossy(&ret.message), expected);
    assert_eq!(n.allowance().await?, U256::ZERO, "nothing executed");
    let largest = n.approve_of_size(TRANSACTION_MAX_BYTES, java_tron_size).await?;
    let ret = wallet.broadcast_transaction(largest).await?.into_inner();
    assert_eq!(ret.code(), ResponseCode::Success, "{:?}", String::from_utf8_lossy(&ret.message));
    assert_eq!(n.allowance().await?, U256::from(1), "executed");
    Ok(())
}

// JSON-RPC (java-tron's, on the full port): refusals are `{"error": {"code", "message"}}`.

struct Rpc {
    _chain: DevChain,
    rpc: TronRpc,
    client: reqwest::Client,
}

async fn rpc() -> eyre::Result<Rpc> {
    let chain = DevChain::start_tron().await?;
    let rpc = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
    Ok(Rpc { _chain: chain, rpc, client: reqwest::Client::new() })
}

impl Rpc {
    async fn call(&self, method: &str, params: Value) -> eyre::Result<Value> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        Ok(self.client.post(&self.rpc.full_url).json(&body).send().await?.json().await?)
    }

    async fn probe(&self) {
        let answer = self.call("eth_blockNumber", json!([])).await.expect("an answer");
        assert!(answer["result"].is_string(), "{answer}");
    }

    /// Sends `body` from another thread while probing; asserts a quick refusal with `code` and `message`.
    async fn refuses(&self, what: &str, body: String, code: i64, message: &str) {
        let url = self.rpc.full_url.clone();
        let (answer, took, slowest) = while_probing(move || post_text(url, body), || self.probe()).await;
        assert_eq!(answer["error"]["code"], code, "{what}: {}", head(&answer));
        assert_eq!(answer["error"]["message"], message, "{what}");
        assert_quick(what, took, slowest);
    }
}

fn request(method: &str, params: Value) -> String {
    json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn json_rpc_batches_and_bodies_over_java_trons_limits_are_refused_at_once() -> eyre::Result<()> {
    let r = rpc().await?;
    // 60,000 calls (3 MB, under the body limit): sent on one by one, they would keep the node busy for many seconds.
    let batch: Vec<Value> =
        (0..60_000).map(|i| json!({ "jsonrpc": "2.0", "id": i, "method": "eth_blockNumber" })).collect();
    let message = format!("Batch size 60000 exceeds the limit of {MAX_BATCH_SIZE}");
    r.refuses("a batch of 60,000", Value::Array(batch).to_string(), -32005, &message).await;
    let huge = request("eth_getBalance", json!(["a".repeat(MAX_MESSAGE_SIZE), "latest"]));
    let message = format!("Request body exceeds the limit of {MAX_MESSAGE_SIZE} bytes");
    r.refuses("a body over 4 MiB", huge, -32005, &message).await;
    // The largest batch is answered whole.
    let batch: Vec<Value> =
        (0..MAX_BATCH_SIZE).map(|i| json!({ "jsonrpc": "2.0", "id": i, "method": "eth_blockNumber" })).collect();
    let answers: Value = r.client.post(&r.rpc.full_url).json(&batch).send().await?.json().await?;
    let answers = answers.as_array().expect("a batch answer");
    assert_eq!(answers.len(), MAX_BATCH_SIZE);
    assert!(answers.iter().all(|a| a["result"].is_string()), "{answers:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn json_rpc_fields_over_their_limits_are_refused_at_once_and_the_longest_allowed_are_read() -> eyre::Result<()> {
    let r = rpc().await?;
    let mb = |prefix: &str| format!("{prefix}{}", "ab".repeat(1_000_000));
    let cases = [
        ("a 2 MB address", request("eth_getBalance", json!([mb("0x"), "latest"])), "invalid address hash value"),
        ("a 2 MB block number", request("eth_getBlockByNumber", json!([mb("0x"), false])), "invalid block number"),
        ("a 2 MB transaction hash", request("eth_getTransactionReceipt", json!([mb("0x")])), "invalid hash value"),
        ("a 2 MB block hash", request("eth_getBlockByHash", json!([mb("0x"), false])), "invalid hash value"),
        (
            "2 MB of call data",
            request("eth_call", json!([{ "to": Address::ZERO, "data": mb("0x") }, "latest"])),
            "invalid data: too long",
        ),
        (
            "a 2 MB log address",
            request("eth_getLogs", json!([{ "address": mb("0x") }])),
            "invalid address: invalid address hash value",
        ),
    ];
    for (what, body, message) in cases {
        r.refuses(what, body, -32602, message).await;
    }
    let address = format!("{:#x}", Address::repeat_byte(7));
    let topic = format!("0x{}", "11".repeat(32));
    let over_addresses = request("eth_getLogs", json!([{ "address": vec![&address; MAX_ADDRESS_SIZE + 1] }]));
    let message = format!("exceed max addresses: {MAX_ADDRESS_SIZE}");
    r.refuses("a log filter of too many addresses", over_addresses, -32602, &message).await;
    let over_topics = request("eth_getLogs", json!([{ "topics": vec![Value::Null; MAX_TOPICS + 1] }]));
    let message = format!("topics size should be <= {MAX_TOPICS}");
    r.refuses("a log filter of too many topics", over_topics, -32602, &message).await;
    let over_alternatives = request("eth_getLogs", json!([{ "topics": [vec![&topic; MAX_SUB_TOPICS + 1]] }]));
    let message = format!("exceed max topics: {MAX_SUB_TOPICS}");
    r.refuses("a topic of too many alternatives", over_alternatives, -32602, &message).await;

    // The longest of each is read.
    assert_eq!(address.len(), limits::EVM_ADDRESS_LEN);
    let balance = r.call("eth_getBalance", json!([address, "latest"])).await?;
    assert_eq!(balance["result"], "0x0", "{balance}");
    let one = format!("0x{:0>64}", "1");
    assert_eq!(one.len(), limits::QUANTITY_MAX_LEN);
    let block = r.call("eth_getBlockByNumber", json!([one, false])).await?;
    assert_eq!(block["result"]["number"], "0x1", "{block}");
    let logs = r
        .call(
            "eth_getLogs",
            json!([{
                "fromBlock": "0x0",
                "address": vec![&address; MAX_ADDRESS_SIZE],
                "topics": vec![vec![&topic; MAX_SUB_TOPICS]; MAX_TOPICS],
            }]),
        )
        .await?;
    assert_eq!(logs["result"], json!([]), "{logs}");
    Ok(())
}
