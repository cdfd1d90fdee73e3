//! TRC20 USDT on a TRON chain, with every service a real process: the contracts are created the TRON way
//! (`CreateSmartContract` through the TRON test node, signed with tronic); registrations in USDT are applied once
//! solidified by the listener in TRON mode (TRON's JSON-RPC stand-in); the admin builds and signs a batch
//! through the API and submits it; the backend sends it through TRON's gRPC API with `tronic` (the TRON test
//! node over the same anvil): the signed transaction is kept before its broadcast, a broadcast the node drops is
//! broadcast again byte for byte on retry, the batch is paid exactly once, the listener settles it, and the
//! reconciler in TRON mode finds custody equal to the ledger at the solidified block.

use alloy::{
    primitives::{Address, B256, U256},
    providers::{Provider, ext::AnvilApi},
};
use anvil_tests::{
    api::{ApiClient, tron_calldata, wait_for},
    devchain::{DevChain, USDT_ASSET},
    services::{
        BackendChain, Service, TronEndpoints, WorkDir, chain_spec, ledger_database, listener_config, start_backend_for,
        start_signer, wait_listener_through,
    },
    tron_deploy::{deployed_code, send_call},
    tron_rpc::{TronFaults, TronRpc},
};
use serde_json::{Value, json};
use tron_devnode::{Faults, Params, SOLIDIFY_DEPTH};

use crate::{LIMIT, USDT};

fn base(v: &Value) -> u128 {
    v["base"].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not an amount: {v}"))
}

async fn usdt_of(chain: &DevChain, who: Address) -> eyre::Result<U256> {
    Ok(abi::TestUSDT::new(chain.usdt, &chain.provider).balanceOf(who).call().await?)
}

/// Mines enough blocks for everything so far to be solidified.
async fn solidify(chain: &DevChain) -> eyre::Result<u64> {
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 1), None).await?;
    Ok(chain.provider.get_block_number().await? - SOLIDIFY_DEPTH)
}

/// A TRON chain deployed the TRON way, the test node, TRON's JSON-RPC stand-in, and the signer, backend (with
/// `chain_fields` added to its TRON chain) and TRON-mode listener as processes, after three registrations in USDT
/// (A under genesis, B and C under A) the listener has applied.
struct TronStack {
    chain: DevChain,
    node: tron_devnode::TronDevnode,
    rpc: TronRpc,
    dir: WorkDir,
    db: ledger::db::ScratchDatabase,
    url: String,
    chain_id: u64,
    /// The chain spec every service of the stack reads.
    spec: std::path::PathBuf,
    listener: Service,
    api: ApiClient,
    /// The API's `/metrics`.
    metrics: String,
    admin: String,
    a: alloy::signers::local::PrivateKeySigner,
    /// The environment every service process of the stack gets (the CA to trust, the API key's variable).
    envs: Vec<(String, String)>,
    _services: Vec<Service>,
    /// The plaintext node the contracts were created through, when the services use another (TLS) one.
    _deployer: Option<tron_devnode::TronDevnode>,
}

/// TLS and an API key between the services and the TRON node, as a provider (TronGrid) serves it: a test CA the
/// services trust through `SSL_CERT_FILE`, and the key they read from [`API_KEY_ENV`].
struct TlsProvider {
    certificate: tron_devnode::tls::TestCertificate,
    key: String,
}

/// Owned environment pairs as `Service::start` takes them.
fn as_pairs(envs: &[(String, String)]) -> Vec<(&str, &str)> {
    envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The variable the chain spec names for the TRON API key (`[chains.tron] api_key_env`).
const API_KEY_ENV: &str = "E2E_TRON_API_KEY";

async fn tron_stack(label: &str, chain_fields: &str) -> eyre::Result<TronStack> {
    tron_stack_on(label, chain_fields, Params::default(), None).await
}

/// As [`tron_stack`], with the test node's chain parameters `params`; with a `provider`, every service reaches a
/// second node over the same chain (and TRON's JSON-RPC) over TLS only, with the API key required.
async fn tron_stack_on(
    label: &str,
    chain_fields: &str,
    params: Params,
    provider: Option<TlsProvider>,
) -> eyre::Result<TronStack> {
    let (chain, deployer) = DevChain::start_tron_through_node(params.clone()).await?;
    let chain_id = chain.deployment().chain_id;
    let dir = WorkDir::new(label)?;
    let (node, rpc, deployer, envs) = match &provider {
        None => (deployer, TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?, None, Vec::new()),
        Some(TlsProvider { certificate, key }) => {
            let secure =
                Params { api_key: Some(key.clone()), tls: Some(certificate.identity.clone()), ..params.clone() };
            let node = tron_devnode::TronDevnode::start(&chain.rpc_url(), secure).await?;
            let rpc = TronRpc::start_tls(&chain.rpc_url(), TronFaults::default(), &certificate.identity).await?;
            rpc.require_api_key(Some(key));
            let ca = dir.write("test-ca.pem", &certificate.ca_pem)?;
            let envs = vec![
                ("SSL_CERT_FILE".to_owned(), ca.to_str().expect("utf-8 path").to_owned()),
                (API_KEY_ENV.to_owned(), key.clone()),
            ];
            (node, rpc, Some(deployer), envs)
        }
    };
    let env = as_pairs(&envs);
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    // One chain spec for the backend, the listener and the reconciler: the API reads balances through the anvil
    // itself, the listener and reconciler the Solidity node's JSON-RPC, payouts go through the node's gRPC.
    let tron = TronEndpoints {
        grpc_url: Some(&node.grpc_url),
        solidity_grpc_url: Some(&node.solidity_grpc_url),
        solidity_rpc_url: &rpc.solidity_url,
    };
    let mut spec = chain_spec(chain_id, chain.settlement, &chain.rpc_url(), 0, chain.deploy_block, Some(tron));
    if provider.is_some() {
        spec.push_str(&format!("api_key_env = \"{API_KEY_ENV}\"\n"));
    }
    let spec = dir.write("chains.toml", &spec)?;
    let backend_chain = BackendChain { spec: Some(spec.clone()), tuning: chain_fields, env: &env };
    let (backend, api_url, metrics) =
        start_backend_for(&dir, &chain, &url, &signer_url, &secret, backend_chain).await?;
    let config = listener_config(&url, &spec, chain_id, "poll_interval_ms = 100");
    let path = dir.write("listener.toml", &config)?;
    let mut listener = Service::start(&dir, "listener", "listener", &[path.to_str().expect("utf-8")], &env)?;

    let genesis = chain.admin.address();
    let (a, b, c) = (chain.account(2), chain.account(3), chain.account(4));
    for (i, (user, sponsor)) in [(&a, genesis), (&b, a.address()), (&c, a.address())].into_iter().enumerate() {
        chain.register_usdt(user, sponsor, U256::from(20 * USDT), 100 + i as u64).await?;
    }
    let solid = solidify(&chain).await?;
    wait_listener_through(&db.pool, chain_id, solid, LIMIT, &mut listener).await?;
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&chain.admin).await?;
    Ok(TronStack {
        chain,
        node,
        rpc,
        dir,
        db,
        url,
        chain_id,
        spec,
        listener,
        api,
        metrics,
        admin,
        a,
        envs,
        _services: vec![signer, backend],
        _deployer: deployer,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tron_usdt_paid_out_through_tronic_once_with_a_dropped_broadcast_and_a_balanced_reconciliation()
-> eyre::Result<()> {
    let TronStack {
        chain, node, rpc: _rpc, dir, db, url, chain_id, spec, mut listener, api, admin, a, _services, ..
    } = tron_stack("tron-flow", "").await?;
    let code = deployed_code(&node.grpc_url, chain.settlement).await?;
    assert_eq!(code, chain.provider.get_code_at(chain.settlement).await?, "GetContract shows the created code");
    assert!(!code.is_empty());
    let built = api.post("/v1/admin/payouts/batches", Some(&admin), json!({ "asset_id": USDT_ASSET })).await?;
    let built = built.ok("build")?;
    let id = built["id"].as_i64().expect("batch id");
    let total = base(&built["total"]);
    let owed: Vec<(Address, u128)> = built["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["address"].as_str().and_then(|s| abi::tron::from_base58(s).ok()).expect("T… address"),
                base(&e["amount"]),
            )
        })
        .collect();
    assert_eq!(owed.iter().map(|(_, v)| v).sum::<u128>(), total);
    assert!(owed.iter().any(|(w, v)| *w == a.address() && *v == 18 * USDT), "A's direct rewards: {built}");
    api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(&admin), json!({})).await?.ok("sign")?;
    let mut before = Vec::new();
    for (who, _) in &owed {
        before.push(usdt_of(&chain, *who).await?);
    }
    let custody_before = usdt_of(&chain, chain.settlement).await?;

    // The node drops the first broadcast: the kept transaction is in the ledger, unknown to the node.
    let accepted_before = node.counters().accepted;
    node.set_faults(Faults { drop_broadcasts: 1, ..Faults::default() });
    let sent = api.post(&format!("/v1/admin/payouts/batches/{id}/submit"), Some(&admin), json!({})).await?;
    let sent = sent.ok("submit")?;
    assert_eq!(sent["outcome"], "sent", "{sent}");
    let txid: B256 = sent["tx_hash"].as_str().expect("txid").parse()?;
    assert_eq!(node.counters().dropped, 1);
    assert!(!node.knows(txid));
    let (raw, expiration): (Option<Vec<u8>>, Option<i64>) = sqlx::query_as(
        "SELECT t.chain_tx_raw, t.chain_tx_expiration_ms FROM payout_batches b
         JOIN transactions t ON t.id = b.transaction_id WHERE b.id = $1",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    assert!(raw.is_some_and(|r| !r.is_empty()) && expiration.is_some(), "the signed bytes are kept");

    // Retry: unseen and not dead, so the same bytes again, under the same id.
    let retried = api.post(&format!("/v1/admin/payouts/batches/{id}/retry"), Some(&admin), json!({})).await?;
    let retried = retried.ok("retry")?;
    assert_eq!((retried["outcome"].as_str(), retried["previous"].as_str()), (Some("rebroadcast"), Some("unseen")));
    assert_eq!(retried["tx_hash"].as_str(), Some(txid.to_string().as_str()));
    assert!(node.knows(txid), "the node executed the kept bytes");
    let pending = api.post(&format!("/v1/admin/payouts/batches/{id}/retry"), Some(&admin), json!({})).await?;
    assert_eq!(pending.ok("retry")?["outcome"], "pending", "in a block, not solidified: nothing sent");

    let solid = solidify(&chain).await?;
    wait_listener_through(&db.pool, chain_id, solid, LIMIT, &mut listener).await?;
    let executed = wait_for("the batch settled by the listener", LIMIT, || async {
        let view = api.get(&format!("/v1/admin/payouts/batches/{id}"), Some(&admin)).await?.ok("batch")?;
        Ok((view["status"] == "executed").then_some(view))
    })
    .await?;
    assert!(executed["entries"].as_array().is_some_and(|e| e.iter().all(|e| e["outcome"] == "paid")), "{executed}");
    let again = api.post(&format!("/v1/admin/payouts/batches/{id}/retry"), Some(&admin), json!({})).await?;
    let again = again.ok("retry")?;
    assert_eq!((again["outcome"].as_str(), again["sent"].as_bool()), (Some("executed"), Some(false)), "{again}");
    for ((who, amount), before) in owed.iter().zip(before) {
        assert_eq!(usdt_of(&chain, *who).await?, before + U256::from(*amount), "{who} paid exactly once");
    }
    assert_eq!(usdt_of(&chain, chain.settlement).await? + U256::from(total), custody_before);
    assert_eq!(node.counters().accepted, accepted_before + 1, "one TRON transaction executed the batch");
    // The ledger keeps the transaction id TRONSCAN shows (the TRON id the sender got), not the stand-in's anvil hash.
    let (kept,): (Vec<u8>,) = sqlx::query_as(
        "SELECT tx_hash FROM chain_events WHERE chain_id = $1 AND name = 'PayoutBatchExecuted'
          ORDER BY block_number DESC LIMIT 1",
    )
    .bind(chain_id as i64)
    .fetch_one(&db.pool)
    .await?;
    assert_eq!(B256::from_slice(&kept), txid, "the ledger keeps the TRON id");

    // The reconciler in TRON mode: custody equals the ledger at the solidified block.
    let _reconciler = start_tron_reconciler(&dir, &url, &spec)?;
    assert_eq!(tron_variance(&db.pool, chain.usdt, solid).await?, "0", "USDT: custody equals the ledger");
    Ok(())
}

/// Mines a block every 200 ms until the head's timestamp (unix ms) is past `ms`.
async fn mine_past(chain: &DevChain, ms: i64) -> eyre::Result<()> {
    wait_for("the chain's clock to pass a deadline", LIMIT, || async {
        chain.provider.anvil_mine(Some(1), None).await?;
        let head = chain.provider.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?;
        Ok(head.filter(|b| b.header.timestamp as i64 * 1000 > ms).map(|_| ()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_tron_transaction_is_replaced_only_once_dead_and_an_expired_batch_is_cancelled_rebuilt_and_paid_once()
-> eyre::Result<()> {
    let st = tron_stack("tron-expiry", ", payout_tx_expiration_secs = 3, signature_ttl_secs = 30").await?;
    let (api, admin, chain) = (&st.api, st.admin.as_str(), &st.chain);
    let path = |id: i64, what: &str| format!("/v1/admin/payouts/batches/{id}{what}");
    let built = api.post("/v1/admin/payouts/batches", Some(admin), json!({ "asset_id": USDT_ASSET })).await?;
    let built = built.ok("build")?;
    let id = built["id"].as_i64().expect("batch id");
    let total = base(&built["total"]);
    let signed = api.post(&path(id, "/sign"), Some(admin), json!({})).await?.ok("sign")?;
    let deadline =
        signed["deadline"].as_i64().or(api.get(&path(id, ""), Some(admin)).await?.ok("batch")?["deadline"].as_i64());
    let deadline = deadline.expect("a signed batch has a deadline");
    let custody_before = usdt_of(chain, chain.settlement).await?;
    let a_before = usdt_of(chain, st.a.address()).await?;

    // Every broadcast is lost for now.
    st.node.set_faults(Faults { drop_broadcasts: 1_000, ..Faults::default() });
    let sent = api.post(&path(id, "/submit"), Some(admin), json!({})).await?.ok("submit")?;
    let first: B256 = sent["tx_hash"].as_str().expect("txid").parse()?;
    let expiration: i64 = sqlx::query_scalar(
        "SELECT t.chain_tx_expiration_ms FROM payout_batches b JOIN transactions t ON t.id = b.transaction_id
         WHERE b.id = $1",
    )
    .bind(id)
    .fetch_one(&st.db.pool)
    .await?;

    // Past its expiration at the head but not at a solidified block: not provably dead, nothing new is signed.
    mine_past(chain, expiration).await?;
    let early = api.post(&path(id, "/retry"), Some(admin), json!({})).await?;
    assert_eq!((early.status, early.code()), (409, "transaction_not_yet_dead"), "{:?}", early.body);
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    let replaced = api.post(&path(id, "/retry"), Some(admin), json!({})).await?.ok("retry")?;
    assert_eq!((replaced["outcome"].as_str(), replaced["previous"].as_str()), (Some("sent"), Some("expired")));
    let second: B256 = replaced["tx_hash"].as_str().expect("txid").parse()?;
    assert_ne!(second, first, "a new transaction, with the same signed batch");
    assert!(!st.node.knows(first) && !st.node.knows(second));

    // The batch's own deadline: cancel refuses until a solidified block is past it, then proves it dead.
    let refused = api.post(&path(id, "/cancel"), Some(admin), json!({})).await?;
    assert_eq!((refused.status, refused.code()), (409, "batch_may_still_execute"), "{:?}", refused.body);
    mine_past(chain, deadline * 1000).await?;
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    let cancelled = api.post(&path(id, "/cancel"), Some(admin), json!({})).await?.ok("cancel")?;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");

    // Rebuilt: the same rewards in a new batch with a new nonce, paid exactly once.
    st.node.set_faults(Faults::default());
    let accepted_before = st.node.counters().accepted;
    let rebuilt = api.post("/v1/admin/payouts/batches", Some(admin), json!({ "asset_id": USDT_ASSET })).await?;
    let rebuilt = rebuilt.ok("rebuild")?;
    let id2 = rebuilt["id"].as_i64().expect("batch id");
    assert_ne!(id2, id);
    assert_eq!(base(&rebuilt["total"]), total, "the cancelled batch's rewards, all of them");
    api.post(&path(id2, "/sign"), Some(admin), json!({})).await?.ok("sign")?;
    api.post(&path(id2, "/submit"), Some(admin), json!({})).await?.ok("submit")?;
    let mut listener = st.listener;
    let solid = solidify(chain).await?;
    wait_listener_through(&st.db.pool, st.chain_id, solid, LIMIT, &mut listener).await?;
    let executed = wait_for("the rebuilt batch settled", LIMIT, || async {
        let view = api.get(&path(id2, ""), Some(admin)).await?.ok("batch")?;
        Ok((view["status"] == "executed").then_some(view))
    })
    .await?;
    assert_eq!(base(&executed["total"]), total);
    assert_eq!(st.node.counters().accepted, accepted_before + 1, "one transaction executed");
    assert_eq!(usdt_of(chain, chain.settlement).await? + U256::from(total), custody_before, "paid exactly once");
    assert_eq!(usdt_of(chain, st.a.address()).await? - a_before, U256::from(18 * USDT), "A's rewards, once");
    let old = api.get(&path(id, ""), Some(admin)).await?.ok("batch")?;
    assert_eq!(old["status"], "cancelled", "the first batch stays cancelled");
    let _ = (&st.rpc, &st.dir, &st.url);
    Ok(())
}

/// The reconciler binary over the chain spec at `spec` (a TRON chain: custody at the Solidity node's `latest`),
/// every second.
fn start_tron_reconciler(dir: &WorkDir, url: &str, spec: &std::path::Path) -> eyre::Result<Service> {
    start_tron_reconciler_with(dir, url, spec, &[])
}

/// As [`start_tron_reconciler`], with `envs` in its environment.
fn start_tron_reconciler_with(
    dir: &WorkDir,
    url: &str,
    spec: &std::path::Path,
    envs: &[(String, String)],
) -> eyre::Result<Service> {
    let config = format!("database_url = \"{url}\"\ninterval_secs = 1\nchain_spec = \"{}\"\n", spec.display());
    let path = dir.write("reconciler.toml", &config)?;
    Service::start(dir, "reconciler", "reconciler", &[path.to_str().expect("utf-8")], &as_pairs(envs))
}

/// The TRON-mode reconciler's latest USDT variance at or after `block`.
async fn tron_variance(pool: &sqlx::PgPool, usdt: Address, block: u64) -> eyre::Result<String> {
    let (_, variance): (i64, String) = wait_for("a TRON reconciliation", LIMIT, || async {
        Ok(sqlx::query_as(
            "SELECT block_number, variance::text FROM reconciler_results WHERE token = $1 AND block_number >= $2
             ORDER BY run_id DESC LIMIT 1",
        )
        .bind(usdt.as_slice())
        .bind(block as i64)
        .fetch_optional(pool)
        .await?)
    })
    .await?;
    Ok(variance)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_then_blacklisting_tron_usdt_leaves_payouts_claimable_and_ledger_chain_and_reconciler_agree()
-> eyre::Result<()> {
    let st = tron_stack("tron-usdt-hostile", "").await?;
    let (api, admin, chain) = (&st.api, st.admin.as_str(), &st.chain);
    let usdt = || abi::TestUSDT::new(chain.usdt, DevChain::provider_for(&chain.anvil, &chain.admin));
    let _reconciler = start_tron_reconciler(&st.dir, &st.url, &st.spec)?;

    // Tether pauses USDT: the batch executes, every push fails, every amount becomes claimable.
    usdt().pause().send().await?.get_receipt().await?;
    let built = api.post("/v1/admin/payouts/batches", Some(admin), json!({ "asset_id": USDT_ASSET })).await?;
    let id = built.ok("build")?["id"].as_i64().expect("batch id");
    let batch = |what: &str| format!("/v1/admin/payouts/batches/{id}{what}");
    api.post(&batch("/sign"), Some(admin), json!({})).await?.ok("sign")?;
    api.post(&batch("/submit"), Some(admin), json!({})).await?.ok("submit")?;
    let mut listener = st.listener;
    let solid = solidify(chain).await?;
    wait_listener_through(&st.db.pool, st.chain_id, solid, LIMIT, &mut listener).await?;
    let executed = wait_for("the batch settled", LIMIT, || async {
        let view = api.get(&batch(""), Some(admin)).await?.ok("batch")?;
        Ok((view["status"] == "executed").then_some(view))
    })
    .await?;
    let entries = executed["entries"].as_array().cloned().unwrap_or_default();
    assert!(!entries.is_empty() && entries.iter().all(|e| e["outcome"] != "paid"), "nothing pushed: {executed}");
    let a = st.a.address();
    let contract = abi::Settlement::new(chain.settlement, &chain.provider);
    assert_eq!(contract.claimable(chain.usdt, a).call().await?, U256::from(18 * USDT), "A's rewards claimable");
    assert_eq!(tron_variance(&st.db.pool, chain.usdt, solid).await?, "0", "custody still holds what the ledger owes");

    // Unpaused, but the Settlement contract blacklisted: A's claim fails on-chain and stays claimable.
    usdt().unpause().send().await?.get_receipt().await?;
    usdt().addBlackList(chain.settlement).send().await?.get_receipt().await?;
    let token = api.sign_in_tron(&st.a).await?;
    let claim = api.get(&format!("/v1/users/claim?asset_id={USDT_ASSET}"), Some(&token)).await?.ok("claim")?;
    assert_eq!(base(&claim["claimable"]), 18 * USDT);
    let (to, data) = tron_calldata(&claim["tron"])?;
    assert_eq!(to, chain.settlement);
    let failed = send_call(&st.node.grpc_url, &st.a, to, data.clone(), 0).await;
    assert!(failed.is_err(), "a claim from a blacklisted contract fails: {failed:?}");
    assert_eq!(contract.claimable(chain.usdt, a).call().await?, U256::from(18 * USDT), "still claimable");

    // Tether lifts it: the same claim, sent through the TRON node, pays A once; ledger and reconciler agree.
    usdt().removeBlackList(chain.settlement).send().await?.get_receipt().await?;
    let before = usdt_of(chain, a).await?;
    send_call(&st.node.grpc_url, &st.a, to, data, 0).await?;
    assert_eq!(usdt_of(chain, a).await? - before, U256::from(18 * USDT));
    assert_eq!(contract.claimable(chain.usdt, a).call().await?, U256::ZERO);
    let solid = solidify(chain).await?;
    wait_listener_through(&st.db.pool, st.chain_id, solid, LIMIT, &mut listener).await?;
    let after = api.get(&format!("/v1/users/claim?asset_id={USDT_ASSET}"), Some(&token)).await?;
    assert_eq!((after.status, after.code()), (422, "nothing_claimable"), "{:?}", after.body);
    assert_eq!(tron_variance(&st.db.pool, chain.usdt, solid).await?, "0");
    Ok(())
}

/// A chain spec reading `chain` through `rpc`'s TRON JSON-RPC (no gRPC: only a listener reads it).
fn listener_spec(chain: &DevChain, rpc: &TronRpc) -> String {
    let tron = TronEndpoints { grpc_url: None, solidity_grpc_url: None, solidity_rpc_url: &rpc.solidity_url };
    chain_spec(chain.deployment().chain_id, chain.settlement, &rpc.full_url, 0, chain.deploy_block, Some(tron))
}

/// Pauses between kills (ms): irregular, so kills land at different points of a poll.
const KILL_EVERY_MS: [u64; 6] = [700, 350, 900, 250, 550, 400];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tron_listener_killed_9_behind_emptied_logs_and_a_lagging_solid_head_ends_equal_to_a_fresh_replay()
-> eyre::Result<()> {
    let chain = std::sync::Arc::new(DevChain::start_tron().await?);
    let chain_id = chain.deployment().chain_id;
    // Every third log answer with logs is emptied, and the solidified head lags 5 blocks more than TRON's 19.
    let faults = TronFaults { empty_logs_every: Some(3), solidified_lag: 5 };
    let faulty = TronRpc::start(&chain.rpc_url(), faults).await?;
    let dir = WorkDir::new("tron-listener-kill9")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let spec = dir.write("chains.toml", &listener_spec(&chain, &faulty))?;
    let config = listener_config(&url, &spec, chain_id, "poll_interval_ms = 50\nmax_log_range = 3");
    let path = dir.write("listener.toml", &config)?;
    let mut listener = Service::start(&dir, "listener", "listener", &[path.to_str().expect("utf-8")], &[])?;

    // TRON makes a block every 3 s; here one every 150 ms, beside the registrations' own.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let miner = tokio::spawn({
        let (chain, stop) = (chain.clone(), stop.clone());
        async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                chain.provider.anvil_mine(Some(1), None).await?;
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            }
            eyre::Ok(())
        }
    });
    let stream = tokio::spawn({
        let chain = chain.clone();
        async move { crate::registration_stream(&chain, 16, std::time::Duration::from_millis(150), 1).await }
    });
    let mut kills = 0;
    for pause in KILL_EVERY_MS.iter().cycle() {
        if stream.is_finished() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(*pause)).await;
        listener.kill9()?;
        kills += 1;
        listener.restart()?;
    }
    let sent = stream.await??;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    miner.await??;
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 6), None).await?;
    wait_listener_through(&db.pool, chain_id, sent.last_block, LIMIT, &mut listener).await?;
    listener.kill9()?;
    assert!(kills >= 3, "killed {kills} times");
    assert!(faulty.counters.emptied_logs.load(std::sync::atomic::Ordering::Relaxed) > 0, "log answers were emptied");

    // A fresh replay through a healthy node.
    let healthy = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
    let (replay, replay_url) = ledger_database(&chain.deployment()).await?;
    let spec = dir.write("replay-chains.toml", &listener_spec(&chain, &healthy))?;
    let config = listener_config(&replay_url, &spec, chain_id, "");
    let path = dir.write("replay.toml", &config)?;
    let mut replayer = Service::start(&dir, "replay", "listener", &[path.to_str().expect("utf-8")], &[])?;
    wait_listener_through(&replay.pool, chain_id, sent.last_block, LIMIT, &mut replayer).await?;
    replayer.kill9()?;
    assert_eq!(
        crate::ledger_counts(&db.pool).await,
        (sent.native as i64, sent.usdt as i64, 0),
        "every registration applied once"
    );
    assert_eq!(ledger::digest(&db.pool).await?, ledger::digest(&replay.pool).await?, "= a fresh replay");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_trx_recipients_reverting_or_burning_energy_become_claimable_while_the_others_are_paid_on_tron()
-> eyre::Result<()> {
    let st = tron_stack("tron-hostile-trx", "").await?;
    let (api, admin, chain) = (&st.api, st.admin.as_str(), &st.chain);
    let _reconciler = start_tron_reconciler(&st.dir, &st.url, &st.spec)?;
    // In the chain's native coin (TRX on TRON): D under genesis, E and F under D, H under E (E's direct reward).
    let (d, e, f, h) = (chain.account(5), chain.account(6), chain.account(7), chain.account(8));
    let genesis = chain.admin.address();
    let tree = [(&d, genesis), (&e, d.address()), (&f, d.address()), (&h, e.address())];
    for (i, (user, sponsor)) in tree.into_iter().enumerate() {
        chain.register_native(user, sponsor, U256::from(20u128 * 10u128.pow(18)), 200 + i as u64).await?;
    }
    let mut listener = st.listener;
    let solid = solidify(chain).await?;
    wait_listener_through(&st.db.pool, st.chain_id, solid, LIMIT, &mut listener).await?;

    // D's address now rejects the coin (its code reverts) and E's burns every unit of energy it is given (its code
    // loops forever): both pushes fail, everyone else is paid, and E costs the operator no more than the push gas.
    chain.provider.anvil_set_code(d.address(), alloy::primitives::bytes!("60006000fd")).await?;
    chain.provider.anvil_set_code(e.address(), alloy::primitives::bytes!("5b600056")).await?;
    let built = api
        .post("/v1/admin/payouts/batches", Some(admin), json!({ "asset_id": anvil_tests::devchain::NATIVE_ASSET }))
        .await?;
    let built = built.ok("build")?;
    let id = built["id"].as_i64().expect("batch id");
    let owed: Vec<(Address, u128)> = built["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (e["address"].as_str().and_then(|s| abi::tron::from_base58(s).ok()).expect("T…"), base(&e["amount"])))
        .collect();
    let owed_to = |who: Address| owed.iter().find(|(w, _)| *w == who).map(|(_, v)| *v);
    let (d_owed, e_owed) = (owed_to(d.address()).expect("D is owed"), owed_to(e.address()).expect("E is owed"));
    let mut before = Vec::new();
    for (who, _) in &owed {
        before.push(chain.provider.get_balance(*who).await?);
    }
    let batch = |what: &str| format!("/v1/admin/payouts/batches/{id}{what}");
    api.post(&batch("/sign"), Some(admin), json!({})).await?.ok("sign")?;
    let sent = api.post(&batch("/submit"), Some(admin), json!({})).await?.ok("submit")?;
    let solid = solidify(chain).await?;
    wait_listener_through(&st.db.pool, st.chain_id, solid, LIMIT, &mut listener).await?;
    let executed = wait_for("the batch settled", LIMIT, || async {
        let view = api.get(&batch(""), Some(admin)).await?.ok("batch")?;
        Ok((view["status"] == "executed").then_some(view))
    })
    .await?;
    let contract = abi::Settlement::new(chain.settlement, &chain.provider);
    assert_eq!(contract.claimable(abi::NATIVE_TOKEN, d.address()).call().await?, U256::from(d_owed), "D: claimable");
    assert_eq!(contract.claimable(abi::NATIVE_TOKEN, e.address()).call().await?, U256::from(e_owed), "E: claimable");
    for ((who, amount), before) in owed.iter().zip(before) {
        let after = chain.provider.get_balance(*who).await?;
        if *who == d.address() || *who == e.address() {
            assert_eq!(after, before, "a hostile recipient received nothing");
        } else if *who != genesis {
            assert_eq!(after - before, U256::from(*amount), "{who} paid exactly its entry");
        }
    }
    let entries = executed["entries"].as_array().cloned().unwrap_or_default();
    let outcome =
        |w: Address| entries.iter().find(|e| e["address"] == abi::tron::to_base58(w)).map(|e| e["outcome"].clone());
    assert_ne!(outcome(d.address()), Some(json!("paid")), "{executed}");
    assert_ne!(outcome(e.address()), Some(json!("paid")), "{executed}");

    // What E's loop cost, as the node charged it: the energy of its push (at least the push gas) is in the fee,
    // and the fee stayed within the limit the backend signed and kept.
    let txid = sent["tx_hash"].as_str().expect("the TRON transaction id").trim_start_matches("0x").to_owned();
    let url = format!("{}/wallet/gettransactioninfobyid", st.node.http_url);
    let info: Value = reqwest::Client::new().post(url).json(&json!({ "value": txid })).send().await?.json().await?;
    let fee = info["fee"].as_i64().unwrap_or_else(|| panic!("no fee: {info}"));
    let push_gas = i64::try_from(contract.nativePushGas().call().await?)?;
    let energy_fee = Params::default().energy_fee;
    assert!(fee >= push_gas * energy_fee, "E burned its push gas, {push_gas} energy, paid in TRX: {info}");
    let (fee_limit,): (i64,) = sqlx::query_as("SELECT chain_tx_fee_limit FROM transactions WHERE tx_hash = $1")
        .bind(alloy::hex::decode(&txid)?)
        .fetch_one(&st.db.pool)
        .await?;
    assert!(fee <= fee_limit, "the fee {fee} SUN stayed within the kept fee limit {fee_limit}");
    assert_eq!(info["receipt"]["result"], "SUCCESS", "the batch itself succeeded: {info}");
    assert_eq!(
        tron_variance(&st.db.pool, abi::NATIVE_TOKEN, solid).await?,
        "0",
        "custody keeps D's claimable coin, as the ledger owes it"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_short_of_trx_for_energy_or_bandwidth_pages_and_the_same_batch_goes_out_once_after_a_top_up()
-> eyre::Result<()> {
    // A network without free bandwidth: every transaction's bytes are paid in TRX (1,000 SUN each).
    let params = Params { free_net_limit: 0, ..Params::default() };
    let st = tron_stack_on("tron-underfunded", "", params, None).await?;
    let (api, admin, chain, node) = (&st.api, st.admin.as_str(), &st.chain, &st.node);
    let path = |id: i64, what: &str| format!("/v1/admin/payouts/batches/{id}{what}");
    let operator = chain.admin.address();
    let (id, total) = signed_batch(api, admin).await?;
    let custody_before = usdt_of(chain, chain.settlement).await?;
    let (accepted_before, broadcasts_before) = (node.counters().accepted, node.counters().broadcasts);
    let underfunded = r#"payout_transactions_total{asset_id="2",symbol="USDT",outcome="underfunded"}"#;

    // 1 TRX: not the energy's fee limit, nor the bandwidth. Refused before anything is signed or kept.
    chain.provider.anvil_set_balance(operator, U256::from(1_000_000u64)).await?;
    let refused = api.post(&path(id, "/submit"), Some(admin), json!({})).await?;
    assert_eq!((refused.status, refused.code()), (503, "operator_underfunded"), "{:?}", refused.body);
    let message = refused.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("holds 1 TRX") && message.contains("bytes of bandwidth"), "{message}");
    assert_eq!(api.get(&path(id, ""), Some(admin)).await?.ok("batch")?["status"], "signed", "nothing changed");
    assert_eq!(node.counters().broadcasts, broadcasts_before, "nothing was broadcast");
    assert_eq!(crate::sample(&crate::scrape(&st.metrics).await?, underfunded), Some(1.0), "it pages");

    // Enough for the fee limit and the bandwidth: sent, but the node drops the broadcast; the bytes are kept.
    chain.provider.anvil_set_balance(operator, U256::from(5_000_000_000u64)).await?;
    node.set_faults(Faults { drop_broadcasts: 1, ..Faults::default() });
    let sent = api.post(&path(id, "/submit"), Some(admin), json!({})).await?.ok("submit")?;
    let txid: B256 = sent["tx_hash"].as_str().expect("txid").parse()?;
    assert!(!node.knows(txid));

    // The operator is drained before the kept bytes go out again: not broadcast (TRON would burn the little it
    // holds on OUT_OF_ENERGY), the kept transaction stays, and it pages again.
    chain.provider.anvil_set_balance(operator, U256::from(2_000_000u64)).await?;
    let broadcasts = node.counters().broadcasts;
    let retry = api.post(&path(id, "/retry"), Some(admin), json!({})).await?;
    assert_eq!((retry.status, retry.code()), (503, "operator_underfunded"), "{:?}", retry.body);
    assert_eq!(node.counters().broadcasts, broadcasts, "the kept bytes were not broadcast");
    assert_eq!(crate::sample(&crate::scrape(&st.metrics).await?, underfunded), Some(2.0));
    let view = api.get(&path(id, ""), Some(admin)).await?.ok("batch")?;
    assert_eq!(view["status"], "submitted", "{view}");

    // Topped up: the same bytes, under the same id, executed once.
    chain.provider.anvil_set_balance(operator, U256::from(5_000_000_000u64)).await?;
    let retried = api.post(&path(id, "/retry"), Some(admin), json!({})).await?.ok("retry")?;
    assert_eq!(
        (retried["outcome"].as_str(), retried["tx_hash"].as_str()),
        (Some("rebroadcast"), Some(&*txid.to_string()))
    );
    assert!(node.knows(txid));
    let info = tron_devnode_info(&node.http_url, txid).await?;
    assert!(info["receipt"]["net_fee"].as_i64().is_some_and(|fee| fee > 0), "the bandwidth was paid in TRX: {info}");
    let mut listener = st.listener;
    settled(api, admin, chain, &st.db.pool, &mut listener, id).await?;
    assert_eq!(node.counters().accepted, accepted_before + 1, "one transaction executed the batch");
    assert_eq!(usdt_of(chain, chain.settlement).await? + U256::from(total), custody_before, "paid exactly once");
    let _ = (&st.rpc, &st.dir, &st.url, &st.spec);
    Ok(())
}

/// A USDT payout batch of everything owed, built and signed through the admin API: its id and total.
async fn signed_batch(api: &ApiClient, admin: &str) -> eyre::Result<(i64, u128)> {
    let built = api.post("/v1/admin/payouts/batches", Some(admin), json!({ "asset_id": USDT_ASSET })).await?;
    let built = built.ok("build")?;
    let id = built["id"].as_i64().expect("batch id");
    api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(admin), json!({})).await?.ok("sign")?;
    Ok((id, base(&built["total"])))
}

/// Solidifies what was sent, waits for the listener to apply it and for batch `id` to be executed; the block
/// solidified.
async fn settled(
    api: &ApiClient,
    admin: &str,
    chain: &DevChain,
    pool: &sqlx::PgPool,
    listener: &mut Service,
    id: i64,
) -> eyre::Result<u64> {
    let solid = solidify(chain).await?;
    wait_listener_through(pool, chain.deployment().chain_id, solid, LIMIT, listener).await?;
    wait_for("the batch settled", LIMIT, || async {
        let view = api.get(&format!("/v1/admin/payouts/batches/{id}"), Some(admin)).await?.ok("batch")?;
        Ok((view["status"] == "executed").then_some(()))
    })
    .await?;
    Ok(solid)
}

/// The test node's `/wallet/gettransactioninfobyid` answer for `txid`.
async fn tron_devnode_info(http_url: &str, txid: B256) -> eyre::Result<Value> {
    let body = json!({ "value": alloy::hex::encode(txid) });
    Ok(reqwest::Client::new()
        .post(format!("{http_url}/wallet/gettransactioninfobyid"))
        .json(&body)
        .send()
        .await?
        .json()
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_with_an_api_key_the_listener_the_payout_sender_and_the_reconciler_reach_tron_and_pay_once()
-> eyre::Result<()> {
    let certificate = tron_devnode::tls::TestCertificate::generate()?;
    let ca = reqwest::Certificate::from_pem(certificate.ca_pem.as_bytes())?;
    let key = format!("e2e-tron-key-{}", std::process::id());
    let provider = TlsProvider { certificate, key: key.clone() };
    // The stack's services started through the TLS endpoints: the listener applied the registrations it read from
    // TRON's JSON-RPC over TLS with the key, and each service's preflight at start passed `tls` and `api_key`.
    let st = tron_stack_on("tron-tls", "", Params::default(), Some(provider)).await?;
    let (api, admin, chain, node) = (&st.api, st.admin.as_str(), &st.chain, &st.node);
    assert!(node.grpc_url.starts_with("https://") && node.solidity_grpc_url.starts_with("https://"));
    assert!(st.rpc.solidity_url.starts_with("https://"));

    // Plaintext to a TLS port, or TLS without the key, is refused: the services could only have come in with both.
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": [] });
    let plain = st.rpc.solidity_url.replacen("https://", "http://", 1);
    assert!(reqwest::Client::new().post(&plain).json(&body).send().await.is_err(), "no plaintext on a TLS port");
    let trusting = reqwest::Client::builder().add_root_certificate(ca).build()?;
    let keyless = trusting.post(&st.rpc.solidity_url).json(&body).send().await?;
    assert_eq!(keyless.status(), 401, "the key is required");
    let keyed = trusting.post(&st.rpc.solidity_url).header("TRON-PRO-API-KEY", &key).json(&body).send().await?;
    assert_eq!(keyed.status(), 200);

    // A payout through tronic over TLS with the key, settled by the listener and reconciled.
    let path = |id: i64, what: &str| format!("/v1/admin/payouts/batches/{id}{what}");
    let (id, total) = signed_batch(api, admin).await?;
    let custody_before = usdt_of(chain, chain.settlement).await?;
    let sent = api.post(&path(id, "/submit"), Some(admin), json!({})).await?.ok("submit")?;
    let txid: B256 = sent["tx_hash"].as_str().expect("txid").parse()?;
    assert!(node.knows(txid), "the TLS node executed the batch's transaction");
    let mut listener = st.listener;
    let solid = settled(api, admin, chain, &st.db.pool, &mut listener, id).await?;
    assert_eq!(usdt_of(chain, chain.settlement).await? + U256::from(total), custody_before, "paid exactly once");
    let _reconciler = start_tron_reconciler_with(&st.dir, &st.url, &st.spec, &st.envs)?;
    assert_eq!(tron_variance(&st.db.pool, chain.usdt, solid).await?, "0", "custody equals the ledger, read over TLS");
    Ok(())
}
