//! A JSON-RPC proxy on loopback that sits in front of anvil and injects the faults real providers show:
//! timeouts, rate limits (HTTP 429), "block range too large" refusals for wide `eth_getLogs`, and empty
//! `eth_getLogs` answers from a lagging node. Faults are counter-based, so a test run is reproducible.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};

use crate::loopback::{Answer, LoopbackServer, Received};

/// Which faults to inject; `every: Some(k)` means every k-th eligible request (k ≥ 1).
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// `eth_getLogs` spanning more blocks than this is refused with a provider-style error.
    pub max_log_range: Option<u64>,
    /// Every k-th request is answered HTTP 429.
    pub rate_limit_every: Option<u64>,
    /// Every k-th request is held for `stall` before it is forwarded (the client should time out first).
    pub stall_every: Option<u64>,
    /// How long a stalled request is held.
    pub stall: Duration,
    /// Every k-th `eth_getLogs` is answered `[]`, as a node that has not caught up would.
    pub empty_logs_every: Option<u64>,
}

/// What the proxy did, for tests to assert that faults really happened.
#[derive(Debug, Default)]
pub struct FaultCounters {
    /// Requests received.
    pub requests: AtomicU64,
    /// Requests answered HTTP 429.
    pub rate_limited: AtomicU64,
    /// Requests held for `stall` before being forwarded.
    pub stalled: AtomicU64,
    /// `eth_getLogs` requests refused as spanning more than `max_log_range` blocks.
    pub range_refused: AtomicU64,
    /// Non-empty `eth_getLogs` answers replaced by `[]`.
    pub emptied_logs: AtomicU64,
}

struct ProxyState {
    upstream: String,
    client: reqwest::Client,
    faults: Mutex<Faults>,
    counters: Arc<FaultCounters>,
    log_queries: AtomicU64,
}

/// A running proxy; dropping it stops the server.
pub struct FaultProxy {
    /// The proxy's URL (`http://127.0.0.1:<port>`), to use in place of the upstream's.
    pub url: String,
    /// What the proxy has done so far.
    pub counters: Arc<FaultCounters>,
    state: Arc<ProxyState>,
    _server: LoopbackServer,
}

impl FaultProxy {
    /// Starts the proxy on 127.0.0.1 (port chosen by the OS) in front of `upstream`.
    pub async fn start(upstream: &str, faults: Faults) -> eyre::Result<Self> {
        let counters = Arc::new(FaultCounters::default());
        let state = Arc::new(ProxyState {
            upstream: upstream.to_owned(),
            client: reqwest::Client::new(),
            faults: Mutex::new(faults),
            counters: counters.clone(),
            log_queries: AtomicU64::new(0),
        });
        let shared = state.clone();
        let server = LoopbackServer::start(move |req| forward(shared.clone(), req)).await?;
        Ok(Self { url: server.url(), counters, state, _server: server })
    }

    /// Replaces the fault plan (e.g. to heal the provider mid-test).
    pub fn set_faults(&self, faults: Faults) {
        *self.state.faults.lock().expect("fault plan lock") = faults;
    }
}

fn hits(every: Option<u64>, n: u64) -> bool {
    every.is_some_and(|k| k > 0 && n.is_multiple_of(k))
}

fn rpc_error(id: &Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

fn hex_u64(v: &Value) -> Option<u64> {
    v.as_str().and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
}

async fn forward(state: Arc<ProxyState>, req: Received) -> Answer {
    let body = req.body;
    let n = state.counters.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let faults = state.faults.lock().expect("fault plan lock").clone();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);

    if hits(faults.rate_limit_every, n) {
        state.counters.rate_limited.fetch_add(1, Ordering::SeqCst);
        return Answer::text(429, "rate limit exceeded");
    }
    if hits(faults.stall_every, n) {
        state.counters.stalled.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(faults.stall).await;
    }

    let is_get_logs = request.get("method").and_then(Value::as_str) == Some("eth_getLogs");
    let mut empty_this_one = false;
    if is_get_logs {
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let filter = &request["params"][0];
        if let (Some(max), Some(from), Some(to)) =
            (faults.max_log_range, hex_u64(&filter["fromBlock"]), hex_u64(&filter["toBlock"]))
            && to.saturating_sub(from) + 1 > max
        {
            state.counters.range_refused.fetch_add(1, Ordering::SeqCst);
            let msg = format!("block range is too large: {} > {max}", to - from + 1);
            return Answer::json(200, &rpc_error(&id, -32005, &msg));
        }
        let k = state.log_queries.fetch_add(1, Ordering::SeqCst) + 1;
        empty_this_one = hits(faults.empty_logs_every, k) && filter.get("blockHash").is_none();
    }

    let upstream = state.client.post(&state.upstream).header("content-type", "application/json").body(body);
    let response = match upstream.send().await {
        Ok(r) => r,
        Err(e) => return Answer::text(502, e.to_string()),
    };
    let status = response.status();
    let bytes = response.bytes().await.unwrap_or_default();
    if empty_this_one && status.is_success() {
        let mut answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if answer.get("result").is_some_and(|r| r.as_array().is_some_and(|a| !a.is_empty())) {
            state.counters.emptied_logs.fetch_add(1, Ordering::SeqCst);
            answer["result"] = json!([]);
            return Answer::json(200, &answer);
        }
    }
    Answer { status: status.as_u16(), content_type: "application/json", body: bytes.to_vec() }
}
