//! TRON's JSON-RPC, as java-tron serves it, in front of an anvil started with a TRON chain id: a "full" port
//! and a "solidity" port, with the differences from Ethereum's JSON-RPC that code written for EVM nodes trips
//! on (java-tron's `TronJsonRpcImpl`, `LogFilterWrapper`, `BlockResult`):
//!
//! * **Solidified blocks.** Solidified = head − [`SOLIDIFY_DEPTH`] (≈ 19 blocks on Nile and mainnet). On the
//!   solidity port the node's "now" block is the solidified one: `eth_blockNumber`, `latest`, and every state
//!   read answer as of it; blocks above it are unknown. On the full port `latest` is the head and `finalized` the
//!   solidified block (java-tron ≥ 4.8.0, `Wallet.getByJsonBlockId`, `JsonRpcApiUtil.getByJsonBlockId`), in block
//!   reads and in `eth_getLogs`' range alike; tags are matched without regard to case, as java-tron does.
//! * **Transaction ids.** Transactions are known and shown by their TRON id (SHA-256 of the raw data), as
//!   java-tron's `TransactionResult`, `TransactionReceipt` and `LogFilterElement` show them: in logs (and filter
//!   answers), receipts and their logs, transactions, and blocks' transaction lists; a TRON transaction's object
//!   carries its TRON signature and the energy fee as gas price, as java-tron's does. The node's map
//!   ([`crate::TxIds`], shared with every node over the same anvil URL) translates; the EVM hash of a TRON
//!   transaction is unknown here (`null`), as any other unknown hash is. A transaction written to the anvil without
//!   a node has no TRON id and is shown under its EVM hash. A transaction in no block yet is unknown (`null`).
//! * **No historical state.** `eth_getBalance`, `eth_call`, `eth_getCode`, `eth_getStorageAt` accept only
//!   `latest`: a block number is refused ("QUANTITY not supported, just support TAG as latest"), so are
//!   `earliest`, `pending` and `finalized` ("TAG [earliest | pending | finalized] not supported"). An `eth_call`
//!   with `{"blockNumber": …}` checks the block exists and then reads `latest` anyway, as java-tron does.
//! * **No sending.** `eth_sendRawTransaction`, `eth_sendTransaction`, `eth_getTransactionCount`, `eth_sign`
//!   and the other methods `TronJsonRpcImpl` refuses do not exist ("the method … does not exist/is not
//!   available"; TRON transactions go through the gRPC or HTTP API); a method java-tron does not have at all is
//!   jsonrpc4j's "method not found" (`-32601`), never passed on to the anvil.
//! * **Logs.** `eth_getLogs` over more than [`MAX_BLOCK_RANGE`] blocks (`to − from > 5000`) is refused with
//!   "exceed max block range: 5000".
//! * **Blocks.** A block's hash is TRON's block id (its number in the first 8 bytes), its parent hash the
//!   parent's id, and `logsBloom` is all zeros ("no value"): a client cannot use the bloom to notice that a
//!   log answer left something out.
//! * **Limits.** java-tron's defaults: a body of at most [`MAX_MESSAGE_SIZE`] bytes, a batch of at most
//!   [`MAX_BATCH_SIZE`] calls (both refused with `-32005`), a log filter of at most [`MAX_ADDRESS_SIZE`] addresses
//!   and [`MAX_TOPICS`] topic positions of at most [`MAX_SUB_TOPICS`] alternatives. Every address, hash, quantity
//!   and call data is bounded (`abi::limits`) before it is parsed or passed on, refused with `-32602` and
//!   java-tron's message. Large bodies and answers are parsed and written off the async workers.
//!
//! Faults a real TRON provider shows can be injected: a silently empty `eth_getLogs`, a solidified head that
//! lags further behind.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use abi::limits;
use alloy::primitives::B256;
use serde_json::{Value, json};

use crate::TxIds;
use crate::loopback::{Answer, BodyLimit, LoopbackServer, Received};
use crate::work::{parse_json, write_json};

/// Blocks between the head and the solidified block (2/3 of 27 super representatives, plus one).
pub const SOLIDIFY_DEPTH: u64 = 19;
/// java-tron's default `node.jsonrpc.maxBlockRange`.
pub const MAX_BLOCK_RANGE: u64 = 5_000;
/// java-tron's default `node.jsonrpc.maxMessageSize`: the largest request body, 4 MiB.
pub const MAX_MESSAGE_SIZE: usize = 4 * 1_024 * 1_024;
/// java-tron's default `node.jsonrpc.maxBatchSize`: the most calls in one batch.
pub const MAX_BATCH_SIZE: usize = 100;
/// java-tron's default `node.jsonrpc.maxAddressSize`: the most addresses in one log filter.
pub const MAX_ADDRESS_SIZE: usize = 1_000;
/// java-tron's default `node.jsonrpc.maxSubTopics`: the most alternatives in one topic position of a log filter.
pub const MAX_SUB_TOPICS: usize = 1_000;
/// Topic positions in a log filter (java-tron's `LogFilter`: an event's signature and 3 indexed parameters).
pub const MAX_TOPICS: usize = 4;

const TAG_NOT_SUPPORTED: &str = "TAG [earliest | pending | finalized] not supported";
const TAG_PENDING_NOT_SUPPORTED: &str = "TAG pending not supported";
const INVALID_BLOCK_RANGE: &str = "invalid block range params";
const INCORRECT_HEX: &str = "Incorrect hex syntax";
const QUANTITY_NOT_SUPPORTED: &str = "QUANTITY not supported, just support TAG as latest";
const BLOCK_NUM_ERROR: &str = "invalid block number";
const NO_BLOCK_HEADER: &str = "header not found";
const INVALID_ADDRESS: &str = "invalid address hash value";
const INVALID_HASH: &str = "invalid hash value";
const INVALID_PARAMS: i64 = -32602;
const METHOD_NOT_FOUND: i64 = -32601;
/// Every method java-tron's JSON-RPC has (`TronJsonRpc`'s `@JsonRpcMethod`s); any other is "method not found".
const JAVA_TRON_METHODS: &[&str] = &[
    "web3_clientVersion",
    "web3_sha3",
    "eth_getBlockTransactionCountByHash",
    "eth_getBlockTransactionCountByNumber",
    "eth_getBlockByHash",
    "eth_getBlockByNumber",
    "net_version",
    "eth_chainId",
    "net_listening",
    "eth_protocolVersion",
    "eth_blockNumber",
    "eth_getBalance",
    "eth_getStorageAt",
    "eth_getCode",
    "eth_coinbase",
    "eth_gasPrice",
    "eth_estimateGas",
    "eth_getTransactionByHash",
    "eth_getTransactionByBlockHashAndIndex",
    "eth_getTransactionByBlockNumberAndIndex",
    "eth_getTransactionReceipt",
    "eth_call",
    "net_peerCount",
    "eth_syncing",
    "eth_getUncleByBlockHashAndIndex",
    "eth_getUncleByBlockNumberAndIndex",
    "eth_getUncleCountByBlockHash",
    "eth_getUncleCountByBlockNumber",
    "eth_getWork",
    "eth_hashrate",
    "eth_mining",
    "eth_accounts",
    "buildTransaction",
    "eth_submitWork",
    "eth_sendRawTransaction",
    "eth_sendTransaction",
    "eth_sign",
    "eth_signTransaction",
    "parity_nextNonce",
    "eth_getTransactionCount",
    "eth_getCompilers",
    "eth_compileSolidity",
    "eth_compileLLL",
    "eth_compileSerpent",
    "eth_submitHashrate",
    "eth_newFilter",
    "eth_newBlockFilter",
    "eth_uninstallFilter",
    "eth_getFilterChanges",
    "eth_getLogs",
    "eth_getFilterLogs",
];
/// java-tron's code for a request over one of its limits (`JsonRpcServlet`).
const EXCEED_LIMIT: i64 = -32005;

/// Faults to inject; `every: Some(k)` means every k-th eligible request (k ≥ 1).
#[derive(Clone, Debug, Default)]
pub struct TronFaults {
    /// Every k-th range `eth_getLogs` (not one by block hash) that has logs is answered `[]`, as a node whose log
    /// index was not built answers.
    pub empty_logs_every: Option<u64>,
    /// Extra blocks the solidified head lags behind (a node whose solidity view is slow).
    pub solidified_lag: u64,
}

/// What the stand-in did, for tests to assert that a fault really happened.
#[derive(Debug, Default)]
pub struct TronRpcCounters {
    /// HTTP requests received on either port; a batch counts once.
    pub requests: AtomicU64,
    /// Range `eth_getLogs` calls answered `[]` by the `empty_logs_every` fault.
    pub emptied_logs: AtomicU64,
    /// Requests refused as java-tron refuses them (historical state, sending, wide log ranges).
    pub refused: AtomicU64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Port {
    Full,
    Solidity,
}

struct State {
    upstream: String,
    /// TRON id ↔ EVM hash of the transactions nodes over the same anvil executed.
    ids: Arc<TxIds>,
    client: reqwest::Client,
    faults: Mutex<TronFaults>,
    counters: Arc<TronRpcCounters>,
    log_queries: AtomicU64,
    /// When set, a request without this key in `TRON-PRO-API-KEY` is refused (401), as TronGrid does.
    api_key: Mutex<Option<String>>,
    /// When set, block 0's id (as the test node's `Params::genesis_block_id`: a real network's genesis answered).
    genesis: Mutex<Option<B256>>,
}

/// A running stand-in; dropping it stops both ports.
pub struct TronRpc {
    /// The full node's JSON-RPC (`latest` = the head).
    pub full_url: String,
    /// The solidity node's JSON-RPC (`latest` = the solidified block).
    pub solidity_url: String,
    /// What the stand-in did so far.
    pub counters: Arc<TronRpcCounters>,
    state: Arc<State>,
    _servers: [LoopbackServer; 2],
}

impl TronRpc {
    /// Starts both ports on 127.0.0.1 (ports chosen by the OS) in front of the anvil at `upstream`.
    pub async fn start(upstream: &str, faults: TronFaults) -> eyre::Result<Self> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(upstream, any, any, faults).await
    }

    /// As [`start`](Self::start), with the full node's port on `full` and the Solidity node's on `solidity`.
    pub async fn start_on(
        upstream: &str,
        full: SocketAddr,
        solidity: SocketAddr,
        faults: TronFaults,
    ) -> eyre::Result<Self> {
        Self::start_serving(upstream, full, solidity, faults, None).await
    }

    /// As [`start`](Self::start), both ports serving TLS only (`https://` URLs) with `identity`, as a provider does.
    pub async fn start_tls(upstream: &str, faults: TronFaults, identity: &crate::tls::Identity) -> eyre::Result<Self> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_serving(upstream, any, any, faults, Some(identity)).await
    }

    async fn start_serving(
        upstream: &str,
        full: SocketAddr,
        solidity: SocketAddr,
        faults: TronFaults,
        tls: Option<&crate::tls::Identity>,
    ) -> eyre::Result<Self> {
        let counters = Arc::new(TronRpcCounters::default());
        let state = Arc::new(State {
            upstream: upstream.to_owned(),
            ids: TxIds::for_anvil(upstream),
            client: reqwest::Client::new(),
            faults: Mutex::new(faults),
            counters: counters.clone(),
            log_queries: AtomicU64::new(0),
            api_key: Mutex::new(None),
            genesis: Mutex::new(None),
        });
        let limit = BodyLimit {
            max: MAX_MESSAGE_SIZE,
            over: Answer::json(
                200,
                &error(
                    Value::Null,
                    EXCEED_LIMIT,
                    &format!("Request body exceeds the limit of {MAX_MESSAGE_SIZE} bytes"),
                ),
            ),
        };
        let serve = |port: Port, addr: SocketAddr| {
            let state = state.clone();
            let handler = move |req| serve(state.clone(), port, req);
            let limit = limit.clone();
            async move {
                match tls {
                    Some(identity) => LoopbackServer::start_tls(addr, limit, identity, handler).await,
                    None => LoopbackServer::start_limited(addr, limit, handler).await,
                }
            }
        };
        let full = serve(Port::Full, full).await?;
        let solidity = serve(Port::Solidity, solidity).await?;
        Ok(Self { full_url: full.url(), solidity_url: solidity.url(), counters, state, _servers: [full, solidity] })
    }

    /// Answers `genesis` as block 0's hash (and block 1's parent), as the test node does with
    /// `Params::genesis_block_id`: both endpoints then say they are nodes of that network.
    pub fn answer_genesis(&self, genesis: Option<B256>) {
        *self.state.genesis.lock().expect("genesis lock") = genesis;
    }

    /// From now on, refuses every request that does not carry `key` in `TRON-PRO-API-KEY` (401), as a provider
    /// that requires an API key does; `None` lifts the requirement.
    pub fn require_api_key(&self, key: Option<&str>) {
        *self.state.api_key.lock().expect("api key lock") = key.map(str::to_owned);
    }

    /// Replaces the fault plan (e.g. to heal the node mid-test).
    pub fn set_faults(&self, faults: TronFaults) {
        *self.state.faults.lock().expect("fault plan lock") = faults;
    }
}

/// TRON's block id: the block number in the first 8 bytes (the gRPC side's, so both sides agree).
pub use crate::block_id;

/// A JSON-RPC refusal, as the method's handler answers it.
struct Refusal {
    code: i64,
    message: String,
}

impl Refusal {
    fn params(message: impl Into<String>) -> Self {
        Self { code: INVALID_PARAMS, message: message.into() }
    }
}

type Outcome = Result<Value, Refusal>;

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

async fn serve(state: Arc<State>, port: Port, req: Received) -> Answer {
    state.counters.requests.fetch_add(1, Ordering::SeqCst);
    let required = state.api_key.lock().expect("api key lock").clone();
    if let Some(key) = required {
        let given = req.headers.get(crate::API_KEY_HEADER).and_then(|v| v.to_str().ok());
        if given != Some(key.as_str()) {
            return Answer::text(401, "Unauthorized: a valid TRON-PRO-API-KEY header is required");
        }
    }
    let Ok(request) = parse_json::<Value>(req.body).await else {
        return Answer::json(200, &error(Value::Null, -32700, "JSON parse error"));
    };
    let answer = match request {
        Value::Array(batch) if batch.len() > MAX_BATCH_SIZE => {
            state.counters.refused.fetch_add(1, Ordering::SeqCst);
            let message = format!("Batch size {} exceeds the limit of {MAX_BATCH_SIZE}", batch.len());
            error(Value::Null, EXCEED_LIMIT, &message)
        }
        Value::Array(batch) => {
            let mut answers = Vec::with_capacity(batch.len());
            for one in batch {
                answers.push(answer_one(&state, port, one).await);
            }
            Value::Array(answers)
        }
        one => answer_one(&state, port, one).await,
    };
    Answer { status: 200, content_type: "application/json", body: write_json(answer).await }
}

async fn answer_one(state: &State, port: Port, request: Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    // jsonrpc4j's own refusals (`ErrorResolver.JsonError`), without data: a request without a method, and a method
    // java-tron does not serve.
    let Some(method) = request.get("method").and_then(Value::as_str).map(str::to_owned) else {
        state.counters.refused.fetch_add(1, Ordering::SeqCst);
        return error(id, -32600, "invalid request");
    };
    if !JAVA_TRON_METHODS.contains(&method.as_str()) {
        state.counters.refused.fetch_add(1, Ordering::SeqCst);
        return error(id, METHOD_NOT_FOUND, "method not found");
    }
    let params = request.get("params").cloned().unwrap_or(json!([]));
    match handle(state, port, &method, params).await {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(refusal) => {
            state.counters.refused.fetch_add(1, Ordering::SeqCst);
            json!({ "jsonrpc": "2.0", "id": id, "error": { "code": refusal.code, "message": refusal.message, "data": "{}" } })
        }
    }
}

async fn handle(state: &State, port: Port, method: &str, params: Value) -> Outcome {
    match method {
        "eth_sendRawTransaction"
        | "eth_sendTransaction"
        | "eth_getTransactionCount"
        | "eth_sign"
        | "eth_signTransaction"
        | "eth_submitWork"
        | "eth_submitHashrate"
        | "parity_nextNonce"
        | "eth_getCompilers"
        | "eth_compileSolidity"
        | "eth_compileLLL"
        | "eth_compileSerpent" => Err(Refusal {
            code: METHOD_NOT_FOUND,
            message: format!("the method {method} does not exist/is not available"),
        }),
        "eth_blockNumber" => Ok(hex(now(state, port).await?)),
        // java-tron answers the chain's energy price (`getEnergyFee`, SUN per energy), not an EVM gas price.
        "eth_gasPrice" => Ok(hex(crate::Params::default().energy_fee.max(0) as u64)),
        "eth_getBlockByNumber" => {
            let Some(number) = block_number(state, port, &params[0]).await? else { return Ok(Value::Null) };
            block(state, number, params[1].as_bool().unwrap_or(false)).await
        }
        "eth_getBlockByHash" => {
            let Some(number) = number_of_id(state, port, &params[0]).await? else { return Ok(Value::Null) };
            block(state, number, params[1].as_bool().unwrap_or(false)).await
        }
        "eth_getLogs" => {
            check_filter(&params[0])?;
            logs(state, port, &params[0]).await
        }
        "eth_newFilter" => {
            check_filter(&params[0])?;
            // `TronJsonRpcImpl.newFilter`: "not supports finalized as block parameter".
            let finalized =
                |field: &str| params[0][field].as_str().is_some_and(|t| t.eq_ignore_ascii_case("finalized"));
            if finalized("fromBlock") || finalized("toBlock") {
                return Err(Refusal::params(INVALID_BLOCK_RANGE));
            }
            upstream(state, method, params).await
        }
        "eth_getFilterChanges" | "eth_getFilterLogs" => {
            let found = upstream(state, method, params).await?;
            filter_answer(state, found).await
        }
        "eth_getBlockTransactionCountByHash" => {
            let Some(number) = number_of_id(state, port, &params[0]).await? else { return Ok(Value::Null) };
            upstream(state, "eth_getBlockTransactionCountByNumber", json!([hex(number)])).await
        }
        "eth_getBlockTransactionCountByNumber" => {
            let Some(number) = block_number(state, port, &params[0]).await? else { return Ok(Value::Null) };
            upstream(state, method, json!([hex(number)])).await
        }
        "eth_getTransactionByBlockHashAndIndex" => {
            let Some(number) = number_of_id(state, port, &params[0]).await? else { return Ok(Value::Null) };
            transaction_at(state, number, &params[1]).await
        }
        "eth_getTransactionByBlockNumberAndIndex" => {
            let Some(number) = block_number(state, port, &params[0]).await? else { return Ok(Value::Null) };
            transaction_at(state, number, &params[1]).await
        }
        "eth_getBalance" | "eth_getCode" => {
            bounded(&params[0], limits::ADDRESS_MAX_LEN, INVALID_ADDRESS)?;
            let at = state_block(state, port, &params[1]).await?;
            upstream(state, method, json!([params[0], hex(at)])).await
        }
        "eth_getStorageAt" => {
            bounded(&params[0], limits::ADDRESS_MAX_LEN, INVALID_ADDRESS)?;
            bounded(&params[1], limits::QUANTITY_MAX_LEN, "invalid storage position")?;
            let at = state_block(state, port, &params[2]).await?;
            upstream(state, method, json!([params[0], params[1], hex(at)])).await
        }
        "eth_call" | "eth_estimateGas" => {
            check_call(&params[0])?;
            let at = match &params[1] {
                // java-tron checks that the named block exists, then reads `latest` anyway.
                Value::Object(by) if by.contains_key("blockNumber") => {
                    let number = parse_quantity(&by["blockNumber"]).ok_or_else(|| Refusal::params(BLOCK_NUM_ERROR))?;
                    let latest = now(state, port).await?;
                    if number > latest {
                        return Err(Refusal { code: -32000, message: NO_BLOCK_HEADER.into() });
                    }
                    latest
                }
                // `eth_estimateGas` takes no block; `eth_call` without one is refused ("invalid json request").
                Value::Null if method == "eth_estimateGas" => now(state, port).await?,
                Value::Null => return Err(Refusal { code: -32600, message: "invalid json request".into() }),
                tag => state_block(state, port, tag).await?,
            };
            upstream(state, method, json!([params[0], hex(at)])).await
        }
        "eth_getTransactionReceipt" | "eth_getTransactionByHash" => {
            let asked = parse_hash(&params[0])?;
            // Known by its TRON id only (`TronJsonRpcImpl.getTransactionReceipt` / `getTransactionByHash` look the
            // id up; an unknown one is `null`): the EVM hash behind a TRON transaction is no TRON id.
            if state.ids.tron_id(asked).is_some() {
                return Ok(Value::Null);
            }
            let evm_hash = state.ids.evm_hash(asked).unwrap_or(asked);
            let mut found = upstream(state, method, json!([evm_hash])).await?;
            // Unknown until in a block (java-tron reads the transaction's info, or the block's transactions), and on
            // the Solidity port until that block is solidified.
            let visible = match found.get("blockNumber").and_then(parse_quantity) {
                Some(number) => number <= now(state, port).await?,
                None => false,
            };
            if !visible {
                return Ok(Value::Null);
            }
            rewrite_hashes(&mut found, &state.ids);
            if method == "eth_getTransactionReceipt" {
                found["logsBloom"] = json!(EMPTY_BLOOM);
            }
            Ok(found)
        }
        _ => upstream(state, method, params).await,
    }
}

fn hex(n: u64) -> Value {
    Value::String(format!("{n:#x}"))
}

/// A quantity (`0x…`) as a number; `None` for anything else, and for text longer than any quantity before it is
/// parsed.
fn parse_quantity(v: &Value) -> Option<u64> {
    let text = v.as_str().filter(|text| limits::within(text, limits::QUANTITY_MAX_LEN))?;
    let digits = text.strip_prefix("0x")?;
    u64::from_str_radix(digits, 16).ok()
}

/// Refuses a text parameter longer than `max` with `message` (java-tron's for a value that does not parse), before
/// it is parsed or passed on; anything that is not text is left to the parameter's own check.
fn bounded<'a>(v: &'a Value, max: usize, message: &str) -> Result<&'a Value, Refusal> {
    match v.as_str() {
        Some(text) if !limits::within(text, max) => Err(Refusal::params(message)),
        _ => Ok(v),
    }
}

/// The shape of a call object (`eth_call`, `eth_estimateGas`): its addresses, data and quantities bounded.
fn check_call(call: &Value) -> Result<(), Refusal> {
    for field in ["from", "to"] {
        bounded(&call[field], limits::ADDRESS_MAX_LEN, INVALID_ADDRESS)?;
    }
    for field in ["data", "input"] {
        // `0x` and the hex of the largest call data a transaction can carry.
        bounded(&call[field], 2 + limits::TX_HEX_MAX_LEN, &format!("invalid {field}: too long"))?;
    }
    for field in ["value", "gas", "gasPrice"] {
        bounded(&call[field], limits::QUANTITY_MAX_LEN, &format!("invalid {field}"))?;
    }
    Ok(())
}

/// The shape of a log filter (`eth_getLogs`, `eth_newFilter`), as java-tron's `LogFilter` checks it: at most
/// [`MAX_ADDRESS_SIZE`] addresses and [`MAX_TOPICS`] topic positions of at most [`MAX_SUB_TOPICS`] alternatives, each
/// address and topic bounded; block numbers and the block hash are bounded where they are parsed.
fn check_filter(filter: &Value) -> Result<(), Refusal> {
    match &filter["address"] {
        Value::Array(all) if all.len() > MAX_ADDRESS_SIZE => {
            return Err(Refusal::params(format!("exceed max addresses: {MAX_ADDRESS_SIZE}")));
        }
        Value::Array(all) => {
            for (i, address) in all.iter().enumerate() {
                bounded(
                    address,
                    limits::ADDRESS_MAX_LEN,
                    &format!("invalid address at index {i}: [{INVALID_ADDRESS}]"),
                )?;
            }
        }
        address => {
            bounded(address, limits::ADDRESS_MAX_LEN, &format!("invalid address: {INVALID_ADDRESS}"))?;
        }
    }
    let topic_message = format!("invalid topic(s): {INVALID_HASH}");
    match &filter["topics"] {
        Value::Array(positions) if positions.len() > MAX_TOPICS => {
            return Err(Refusal::params(format!("topics size should be <= {MAX_TOPICS}")));
        }
        Value::Array(positions) => {
            for position in positions {
                match position {
                    Value::Array(any) if any.len() > MAX_SUB_TOPICS => {
                        return Err(Refusal::params(format!("exceed max topics: {MAX_SUB_TOPICS}")));
                    }
                    Value::Array(any) => {
                        for topic in any {
                            bounded(topic, limits::HASH_MAX_LEN, &topic_message)?;
                        }
                    }
                    topic => {
                        bounded(topic, limits::HASH_MAX_LEN, &topic_message)?;
                    }
                }
            }
        }
        _ => {}
    }
    bounded(&filter["blockHash"], limits::HASH_MAX_LEN, INVALID_HASH)?;
    Ok(())
}

async fn head(state: &State) -> Result<u64, Refusal> {
    let value = upstream(state, "eth_blockNumber", json!([])).await?;
    parse_quantity(&value).ok_or_else(|| Refusal { code: -32000, message: "upstream block number".into() })
}

async fn solidified(state: &State) -> Result<u64, Refusal> {
    let lag = state.faults.lock().expect("fault plan lock").solidified_lag;
    Ok(head(state).await?.saturating_sub(SOLIDIFY_DEPTH + lag))
}

/// The node's "now" block: the head on the full port, the solidified block on the solidity port.
async fn now(state: &State, port: Port) -> Result<u64, Refusal> {
    match port {
        Port::Full => head(state).await,
        Port::Solidity => solidified(state).await,
    }
}

/// A block-identifying parameter (`eth_getBlockByNumber`): a number, `latest`, `earliest` or `finalized`;
/// `None` for a block this port does not know.
async fn block_number(state: &State, port: Port, tag: &Value) -> Result<Option<u64>, Refusal> {
    // `Wallet.getByJsonBlockId`: tags without regard to case; `finalized` is the solidified block on either port.
    let number = match tag.as_str().map(str::to_ascii_lowercase).as_deref() {
        Some("latest") => now(state, port).await?,
        Some("earliest") => 0,
        Some("finalized") => solidified(state).await?,
        Some("pending") => return Err(Refusal::params(TAG_PENDING_NOT_SUPPORTED)),
        _ => parse_quantity(tag).ok_or_else(|| Refusal::params(BLOCK_NUM_ERROR))?,
    };
    Ok((number <= now(state, port).await?).then_some(number))
}

/// The block a state read may name: only `latest`, which is the port's "now" block.
async fn state_block(state: &State, port: Port, tag: &Value) -> Result<u64, Refusal> {
    match tag.as_str() {
        Some(t) if t.eq_ignore_ascii_case("latest") => now(state, port).await,
        Some(t) if ["earliest", "pending", "finalized"].iter().any(|tag| t.eq_ignore_ascii_case(tag)) => {
            Err(Refusal::params(TAG_NOT_SUPPORTED))
        }
        _ if parse_quantity(tag).is_some() => Err(Refusal::params(QUANTITY_NOT_SUPPORTED)),
        _ => Err(Refusal::params(BLOCK_NUM_ERROR)),
    }
}

/// The number of the block whose TRON id is `id`, if this port knows it.
async fn number_of_id(state: &State, port: Port, id: &Value) -> Result<Option<u64>, Refusal> {
    let id = bounded(id, limits::HASH_MAX_LEN, INVALID_HASH)?;
    let id: B256 = id.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| Refusal::params(INVALID_HASH))?;
    let number = u64::from_be_bytes(id[..8].try_into().expect("8 bytes"));
    if number > now(state, port).await? {
        return Ok(None);
    }
    let block = upstream(state, "eth_getBlockByNumber", json!([hex(number), false])).await?;
    let hash: Option<B256> = block.get("hash").and_then(Value::as_str).and_then(|s| s.parse().ok());
    Ok(hash.filter(|h| block_id(number, *h) == id).map(|_| number))
}

async fn block(state: &State, number: u64, full: bool) -> Outcome {
    let mut block = upstream(state, "eth_getBlockByNumber", json!([hex(number), full])).await?;
    if block.is_null() {
        return Ok(block);
    }
    let hash: B256 = block["hash"].as_str().and_then(|s| s.parse().ok()).unwrap_or_default();
    let parent: B256 = block["parentHash"].as_str().and_then(|s| s.parse().ok()).unwrap_or_default();
    let genesis = *state.genesis.lock().expect("genesis lock");
    block["hash"] = json!(match genesis {
        Some(id) if number == 0 => id,
        _ => block_id(number, hash),
    });
    block["parentHash"] = json!(match genesis {
        _ if number == 0 => parent,
        Some(id) if number == 1 => id,
        _ => block_id(number - 1, parent),
    });
    block["logsBloom"] = json!(EMPTY_BLOOM);
    if let Some(Value::Array(txs)) = block.get_mut("transactions") {
        *txs = rewrite_all(std::mem::take(txs), &state.ids).await;
    }
    Ok(block)
}

/// Entries above this many are rewritten off the async workers (a block's transactions, a log answer).
const INLINE_ENTRIES: usize = 64;

/// java-tron's `logsBloom` everywhere: 256 zero bytes ("no value").
const EMPTY_BLOOM: &str = concat!(
    "0x",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
);

/// [`rewrite_hashes`] over every entry (a block's transaction hash, a transaction, a log); off the async workers
/// when there are many.
async fn rewrite_all(mut entries: Vec<Value>, ids: &Arc<TxIds>) -> Vec<Value> {
    let rewrite = |entries: &mut Vec<Value>, ids: &TxIds| entries.iter_mut().for_each(|e| rewrite_hashes(e, ids));
    if entries.len() <= INLINE_ENTRIES {
        rewrite(&mut entries, ids);
        entries
    } else {
        let ids = ids.clone();
        crate::work::blocking(move || {
            rewrite(&mut entries, &ids);
            entries
        })
        .await
    }
}

/// A hash as java-tron shows it: a transaction hash (text) as its TRON id; in a log, a receipt or a transaction,
/// `blockHash` as TRON's block id and the transaction's own hash (`transactionHash`, or a transaction's `hash`) as
/// its TRON id, and so in a receipt's logs. A transaction written to the anvil without a node keeps its EVM hash.
/// A TRON transaction's object also shows java-tron's `nonce` (none), `gasPrice` (the energy fee) and its TRON
/// signature as `v`, `r`, `s` (`TransactionResult`); its receipt the energy fee as `effectiveGasPrice` and type 0
/// (`TransactionReceipt`).
fn rewrite_hashes(item: &mut Value, ids: &TxIds) {
    let evm_hash = |field: &str| item.get(field).and_then(Value::as_str).and_then(|s| s.parse::<B256>().ok());
    let receipt = item.get("logs").is_some() && item.get("cumulativeGasUsed").is_some();
    let transaction = item.get("input").is_some() && item.get("hash").is_some();
    let executed = (receipt || transaction)
        .then(|| evm_hash(if receipt { "transactionHash" } else { "hash" }))
        .flatten()
        .and_then(|h| ids.executed(h));
    if let Some(executed) = executed {
        if receipt {
            item["effectiveGasPrice"] = hex(executed.energy_fee.max(0) as u64);
            item["type"] = json!("0x0");
        } else {
            item["nonce"] = json!("0x0000000000000000");
            item["gasPrice"] = hex(executed.energy_fee.max(0) as u64);
            if let [r @ .., v] = executed.signature.as_slice()
                && r.len() == 64
            {
                let v = if *v < 27 { *v + 27 } else { *v };
                item["v"] = json!(format!("{v:#04x}"));
                item["r"] = json!(format!("0x{}", alloy::hex::encode(&r[..32])));
                item["s"] = json!(format!("0x{}", alloy::hex::encode(&r[32..])));
            }
        }
    }
    let tron_id = |v: &Value| v.as_str().and_then(|s| s.parse::<B256>().ok()).map(|h| json!(ids.shown(h)));
    if item.is_string() {
        if let Some(id) = tron_id(item) {
            *item = id;
        }
        return;
    }
    if let (Some(number), Some(hash)) = (
        item.get("blockNumber").and_then(parse_quantity),
        item.get("blockHash").and_then(Value::as_str).and_then(|s| s.parse::<B256>().ok()),
    ) {
        item["blockHash"] = json!(block_id(number, hash));
    }
    for field in ["transactionHash", "hash"] {
        if let Some(id) = item.get(field).and_then(tron_id) {
            item[field] = id;
        }
    }
    if let Some(logs) = item.get_mut("logs").and_then(Value::as_array_mut) {
        logs.iter_mut().for_each(|log| rewrite_hashes(log, ids));
    }
}

/// A transaction hash parameter: java-tron's `hashToByteArray` (64 hex digits, `0x` optional), else "invalid hash
/// value".
fn parse_hash(v: &Value) -> Result<B256, Refusal> {
    let text = bounded(v, limits::HASH_MAX_LEN, INVALID_HASH)?.as_str().ok_or_else(|| Refusal::params(INVALID_HASH))?;
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() != 64 {
        return Err(Refusal::params(INVALID_HASH));
    }
    digits.parse::<B256>().map_err(|_| Refusal::params(INVALID_HASH))
}

/// The transaction at `index` of block `number`, as java-tron shows it.
async fn transaction_at(state: &State, number: u64, index: &Value) -> Outcome {
    bounded(index, limits::QUANTITY_MAX_LEN, "invalid index value")?;
    let mut found = upstream(state, "eth_getTransactionByBlockNumberAndIndex", json!([hex(number), index])).await?;
    rewrite_hashes(&mut found, &state.ids);
    Ok(found)
}

/// A filter's answer as java-tron's: logs with TRON ids, block hashes (a block filter's) as block ids.
async fn filter_answer(state: &State, found: Value) -> Outcome {
    let Value::Array(entries) = found else { return Ok(found) };
    let mut shown = Vec::with_capacity(entries.len());
    for entry in entries {
        match entry.as_str().and_then(|s| s.parse::<B256>().ok()) {
            Some(block_hash) => {
                let block = upstream(state, "eth_getBlockByHash", json!([block_hash, false])).await?;
                match block.get("number").and_then(parse_quantity) {
                    Some(number) => shown.push(json!(block_id(number, block_hash))),
                    None => shown.push(entry),
                }
            }
            None => shown.push(entry),
        }
    }
    Ok(Value::Array(rewrite_all(shown, &state.ids).await))
}

async fn logs(state: &State, port: Port, filter: &Value) -> Outcome {
    let mut upstream_filter = filter.clone();
    let by_hash = filter.get("blockHash").is_some_and(|h| !h.is_null());
    if by_hash {
        let given = |field: &str| filter.get(field).is_some_and(|v| !v.is_null());
        if given("fromBlock") || given("toBlock") {
            return Err(Refusal::params(
                "cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other",
            ));
        }
        let number = number_of_id(state, port, &filter["blockHash"])
            .await?
            .ok_or_else(|| Refusal::params("invalid blockHash"))?;
        let block = upstream(state, "eth_getBlockByNumber", json!([hex(number), false])).await?;
        upstream_filter["blockHash"] = block["hash"].clone();
    } else {
        let now = now(state, port).await?;
        let solid = solidified(state).await?;
        // `JsonRpcApiUtil.getByJsonBlockId`: `None` for `latest` or no block (-1 in java-tron).
        let resolve = |tag: &Value| -> Result<Option<u64>, Refusal> {
            let Some(text) = tag.as_str().filter(|t| !t.is_empty()) else { return Ok(None) };
            match text.to_ascii_lowercase().as_str() {
                "pending" => Err(Refusal::params(TAG_PENDING_NOT_SUPPORTED)),
                "latest" => Ok(None),
                "earliest" => Ok(Some(0)),
                "finalized" => Ok(Some(solid)),
                _ if !text.starts_with("0x") => Err(Refusal::params(INCORRECT_HEX)),
                _ => parse_quantity(tag).map(Some).ok_or_else(|| Refusal::params(BLOCK_NUM_ERROR)),
            }
        };
        // `LogFilterWrapper`: a missing or `latest` bound is "now" for the first block and unbounded for the last.
        let (from, to) = match (resolve(&filter["fromBlock"])?, resolve(&filter["toBlock"])?) {
            (None, Some(to)) if filter["fromBlock"].as_str().is_none_or(str::is_empty) => (to.min(now), to),
            (from, to) => (from.unwrap_or(now), to.unwrap_or(u64::MAX)),
        };
        if from > to {
            return Err(Refusal::params("please verify: fromBlock <= toBlock"));
        }
        if to.min(now).saturating_sub(from) > MAX_BLOCK_RANGE {
            return Err(Refusal::params(format!("exceed max block range: {MAX_BLOCK_RANGE}")));
        }
        if from > now {
            return Ok(json!([]));
        }
        upstream_filter["fromBlock"] = hex(from);
        upstream_filter["toBlock"] = hex(to.min(now));
    }
    let mut found = upstream(state, "eth_getLogs", json!([upstream_filter])).await?;
    let entries = found.as_array_mut().map(std::mem::take).unwrap_or_default();
    if !by_hash && !entries.is_empty() {
        let every = state.faults.lock().expect("fault plan lock").empty_logs_every;
        let k = state.log_queries.fetch_add(1, Ordering::SeqCst) + 1;
        if every.is_some_and(|e| e > 0 && k.is_multiple_of(e)) {
            state.counters.emptied_logs.fetch_add(1, Ordering::SeqCst);
            return Ok(json!([]));
        }
    }
    Ok(Value::Array(rewrite_all(entries, &state.ids).await))
}

/// Forwards one call to anvil; its error comes back as this node's.
async fn upstream(state: &State, method: &str, params: Value) -> Outcome {
    let body = write_json(json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params })).await;
    let failed = |e: reqwest::Error| Refusal { code: -32000, message: e.to_string() };
    let response = state
        .client
        .post(&state.upstream)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(failed)?;
    let answer = response.bytes().await.map_err(failed)?;
    let mut answer: Value =
        parse_json(answer).await.map_err(|e| Refusal { code: -32000, message: format!("upstream answer: {e}") })?;
    if let Some(error) = answer.get("error") {
        return Err(Refusal {
            code: error["code"].as_i64().unwrap_or(-32000),
            message: error["message"].as_str().unwrap_or("upstream error").to_owned(),
        });
    }
    Ok(answer["result"].take())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_id_carries_the_number_in_its_first_eight_bytes() {
        let hash = B256::repeat_byte(0xab);
        let id = block_id(0x0102_0304, hash);
        assert_eq!(&id[..8], &[0, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(&id[8..], &hash[8..]);
    }
}
