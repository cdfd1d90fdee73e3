//! Admin payouts over HTTP: pending sums, building batches (also concurrently), signing through the REAL
//! signer in-process (idempotent: one nonce per batch), and submit/retry against a real anvil with the
//! deployed Settlement contract (a batch is paid exactly once, a dropped transaction is resent unchanged).

use alloy::node_bindings::Anvil;
use alloy::primitives::{Address, Signature, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use backend::chains::ChainRegistry;
use backend::config::ChainSettings;
use ledger::payouts::batch_nonce;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::common::{ASSET, BNB, CHAIN, genesis, named};
use crate::helpers::{TestApp, spawn_app_configured};
pub(crate) use crate::signer_service::{DEV_ADDRESS, DEV_KEY, SETTLEMENT, SignerService, spawn_signer};

/// Chain settings of [`CHAIN`] without RPC.
pub(crate) fn chain_settings(contract: Address) -> ChainSettings {
    let mut chain = ChainSettings::new(CHAIN, contract);
    // anvil's well-known keys sign and send here: a development chain.
    chain.spec.development = true;
    chain
}

/// The API wired to `signer` and `chain`.
pub(crate) async fn spawn_admin_app(signer: &SignerService, chain: ChainSettings) -> TestApp {
    let settings = signer.settings();
    spawn_app_configured("redis://127.0.0.1:6379", |s| {
        s.signer = Some(settings);
        s.chains = vec![chain];
    })
    .await
}

/// A sponsor chain G ← U1 ← U2 ← … ← Un: G and U1..U(n-1) each hold one 18 BNB DIRECT reward, pending.
pub(crate) async fn seed_chain(app: &TestApp, n: usize) -> Vec<Address> {
    let users: Vec<Address> = (1..=n).map(|i| named(&format!("U{i}"))).collect();
    let mut pairs = Vec::new();
    let mut sponsor = genesis();
    for u in &users {
        pairs.push((*u, sponsor));
        sponsor = *u;
    }
    app.register_in_ledger(&pairs).await;
    std::iter::once(genesis()).chain(users[..n - 1].iter().copied()).collect()
}

/// Rows in the tables the payout and treasury endpoints write, with [`TestApp::db_state`].
pub(crate) async fn payout_state(app: &TestApp) -> ((i64, i64, String), [i64; 5]) {
    let pool = &app.db.pool;
    let mut counts = [0; 5];
    for (i, table) in
        ["payout_batches", "payout_batch_items", "payout_batch_rewards", "transactions", "treasury_transfers"]
            .iter()
            .enumerate()
    {
        counts[i] = crate::common::count(pool, table).await;
    }
    (app.db_state().await, counts)
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action = $1")
        .bind(action)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

fn base(v: &Value) -> u128 {
    v["base"].as_str().unwrap_or_else(|| panic!("no base amount in {v}")).parse().unwrap()
}

/// The batch's signature is the dev key's over the EIP-712 digest of the batch as returned.
pub(crate) fn check_batch_signature(body: &Value, contract: Address) {
    let payouts: Vec<abi::Payout> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| abi::Payout {
            recipient: e["address"].as_str().unwrap().parse().unwrap(),
            amount: U256::from(base(&e["amount"])),
        })
        .collect();
    assert_eq!(body["payouts_hash"], format!("{:#x}", abi::payouts_hash(&payouts)));
    let batch = abi::PayoutBatch {
        token: Address::ZERO,
        total: U256::from(base(&body["total"])),
        payouts,
        nonce: body["nonce"].as_str().unwrap().parse().unwrap(),
        deadline: U256::from(body["deadline"].as_i64().unwrap() as u64),
    };
    let digest = abi::SettlementDomain::new(CHAIN, contract).digest(&batch);
    let bytes = alloy::hex::decode(body["signature"].as_str().unwrap()).unwrap();
    let signature = Signature::try_from(bytes.as_slice()).unwrap();
    assert_eq!(signature.recover_address_from_prehash(&digest).unwrap(), DEV_ADDRESS);
}

#[tokio::test]
async fn admin_lists_pending_builds_and_signs_a_batch_once() {
    let PayoutSetup { signer: _signer, app, payable, token } = PayoutSetup::offline(4).await; // G, U1, U2, U3: 18 BNB each
    let t = Some(token.as_str());

    // Pending: per user, keyset pages, totals over all pages, filters.
    let a = app.get("/v1/admin/payouts/pending?asset_id=1&limit=3", t).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let items = a.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["address"], genesis().to_checksum(None));
    assert_eq!(items[0]["amount"], json!({ "base": (18 * BNB).to_string(), "human": "18 BNB" }));
    assert_eq!(a.body["totals"]["users"], 4);
    assert_eq!(base(&a.body["totals"]["amount"]), 72 * BNB);
    let cursor = a.body["next_cursor"].as_i64().unwrap();
    let b = app.get(&format!("/v1/admin/payouts/pending?asset_id=1&limit=3&after={cursor}"), t).await;
    assert_eq!(b.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(b.body["items"][0]["address"], payable[3].to_checksum(None));
    assert_eq!(b.body["next_cursor"], Value::Null);
    let c = app.get(&format!("/v1/admin/payouts/pending?asset_id=1&min_amount={}", 18 * BNB + 1), t).await;
    assert_eq!((c.body["totals"]["users"].as_i64(), c.body["items"].as_array().unwrap().len()), (Some(0), 0));
    let tron = abi::tron::to_base58(payable[2]);
    let d = app.get(&format!("/v1/admin/payouts/pending?asset_id=1&user={tron}"), t).await;
    assert_eq!(d.body["items"][0]["address"], payable[2].to_checksum(None), "{}", d.body);
    assert_eq!(d.body["totals"]["users"], 1);

    // Build: whole users, lowest user number first, within max_entries.
    let before_build = app.db_state().await;
    let a = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET, "max_entries": 3 })).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["id"].as_i64().unwrap();
    assert_eq!(a.body["status"], "building");
    assert_eq!(base(&a.body["total"]), 54 * BNB);
    let entries: Vec<&str> =
        a.body["entries"].as_array().unwrap().iter().map(|e| e["address"].as_str().unwrap()).collect();
    let expected: Vec<String> = payable[..3].iter().map(|a| a.to_checksum(None)).collect();
    assert_eq!(entries, expected);
    // Nobody is left out silently: the fourth user is listed with what they are owed and why.
    assert_eq!((a.body["left_out_count"].as_i64(), a.body["partial_count"].as_i64()), (Some(1), Some(0)));
    assert_eq!(a.body["left_out"][0]["address"], payable[3].to_checksum(None));
    assert_eq!(a.body["left_out"][0]["reason"], "max_entries");
    assert_eq!(base(&a.body["left_out"][0]["owed"]), 18 * BNB);
    assert_eq!(
        a.body["left_out_by_reason"],
        json!([{ "reason": "max_entries", "users": 1,
        "owed": { "base": (18 * BNB).to_string(), "human": "18 BNB" } }])
    );
    // The limits it was built within: the request's and the signer's (anvil tests' policy: 1,000 BNB per entry).
    assert_eq!(a.body["limits"]["max_entries"], 3);
    assert_eq!(base(&a.body["limits"]["max_entry"]), 1_000 * BNB);
    assert_eq!(base(&a.body["limits"]["daily_outflow_used"]), 0);
    assert_ne!(app.db_state().await, before_build, "the build moved balances and wrote an audit row");
    let (pending, batched): (String, String) =
        sqlx::query_as("SELECT sum(pending)::text, sum(batched)::text FROM user_balances WHERE asset_id = 1")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!((pending, batched), ((18 * BNB).to_string(), (54 * BNB).to_string()));
    let left = app.get("/v1/admin/payouts/pending?asset_id=1", t).await;
    assert_eq!(base(&left.body["totals"]["amount"]), 18 * BNB);

    // Sign: through the signer, nonce fixed by the batch; again → the same nonce and signature.
    let s1 = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/sign"), &token, json!({})).await;
    assert_eq!(s1.status, 200, "{}", s1.body);
    assert_eq!(s1.body["status"], "signed");
    assert_eq!(s1.body["nonce"], batch_nonce(id, 0).to_string());
    check_batch_signature(&s1.body, SETTLEMENT);
    let s2 = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/sign"), &token, json!({})).await;
    assert_eq!(s2.status, 200, "{}", s2.body);
    assert_eq!((&s2.body["nonce"], &s2.body["signature"]), (&s1.body["nonce"], &s1.body["signature"]));
    let stored: (i64, String, String) =
        sqlx::query_as("SELECT count(*), min(kind), min(nonce::text) FROM transactions")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, (1, "payout_batch".into(), batch_nonce(id, 0).to_string()));
    assert_eq!((audit_count(&app, "payout_batch_build").await, audit_count(&app, "payout_batch_sign").await), (1, 1));

    // Lists and detail.
    let signed = app.get("/v1/admin/payouts/batches?asset_id=1&status=signed", t).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert_eq!(signed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(signed.body["items"][0]["entry_count"], 3);
    let building = app.get("/v1/admin/payouts/batches?status=building", t).await;
    assert!(building.body["items"].as_array().unwrap().is_empty());
    let detail = app.get(&format!("/v1/admin/payouts/batches/{id}"), t).await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.body["entries"].as_array().unwrap().len(), 3);
    assert_eq!(detail.body["entries"][2]["position"], 2);
    assert_eq!(detail.body["entries"][0]["outcome"], Value::Null, "not settled yet");
    assert_eq!(detail.body["signature"], s1.body["signature"]);

    // Refusals, each changing nothing.
    let before = payout_state(&app).await;
    let cases = [
        (json!({ "asset_id": ASSET, "max_entries": 0 }), 422, "invalid_cap"),
        (json!({ "asset_id": ASSET, "max_entries": 501 }), 422, "invalid_cap"),
        (json!({ "asset_id": ASSET, "max_total": "0" }), 422, "invalid_cap"),
        (
            json!({ "asset_id": ASSET, "max_total": U256::from(u128::MAX).saturating_add(U256::from(1)).to_string() }),
            422,
            "invalid_cap",
        ),
        (json!({ "asset_id": 9 }), 422, "unknown_asset"),
    ];
    for (body, status, code) in cases {
        let a = app.post_admin("/v1/admin/payouts/batches", &token, body.clone()).await;
        assert_eq!((a.status, a.code()), (status, code), "{body}: {}", a.body);
    }
    for (path, status, code) in [
        (format!("/v1/admin/payouts/batches/{id}/submit"), 503, "chain_rpc_not_configured"),
        (format!("/v1/admin/payouts/batches/{id}/retry"), 503, "chain_rpc_not_configured"),
        ("/v1/admin/payouts/batches/999/sign".to_string(), 404, "not_found"),
        ("/v1/admin/payouts/batches/999/submit".to_string(), 404, "not_found"),
    ] {
        let a = app.post_admin(&path, &token, json!({})).await;
        assert_eq!((a.status, a.code()), (status, code), "{path}: {}", a.body);
    }
    let a = app.get("/v1/admin/payouts/batches/999", t).await;
    assert_eq!((a.status, a.code()), (404, "not_found"));
    let a = app.get("/v1/admin/payouts/batches?status=paid", t).await;
    assert_eq!((a.status, a.code()), (422, "invalid_status"));
    assert_eq!(payout_state(&app).await, before);

    // A total cap below what the last user is owed pays them in part; the rest stays pending for the next batch.
    let a = app
        .post_admin(
            "/v1/admin/payouts/batches",
            &token,
            json!({ "asset_id": ASSET, "max_total": (5 * BNB).to_string() }),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["entries"][0]["address"], payable[3].to_checksum(None));
    assert_eq!(base(&a.body["entries"][0]["amount"]), 5 * BNB);
    assert_eq!(base(&a.body["entries"][0]["owed"]), 18 * BNB);
    assert_eq!(a.body["entries"][0]["limited_by"], "batch_total");
    assert_eq!(a.body["partial_count"], 1);
    let left = app.get("/v1/admin/payouts/pending?asset_id=1", t).await;
    assert_eq!(base(&left.body["totals"]["amount"]), 13 * BNB);
    let a = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(base(&a.body["entries"][0]["amount"]), 13 * BNB);
    assert_eq!(a.body["entries"][0]["limited_by"], Value::Null);
    let a = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    assert_eq!((a.status, a.code()), (409, "nothing_payable"));
}

#[tokio::test]
async fn concurrent_sign_calls_agree_on_one_nonce_and_one_signature() {
    let PayoutSetup { signer: _signer, app, token, .. } = PayoutSetup::offline(3).await;
    let a = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    let id = a.body["id"].as_i64().unwrap();
    let path = format!("/v1/admin/payouts/batches/{id}/sign");
    let calls = (0..4).map(|_| app.post_admin(&path, &token, json!({})));
    let answers = futures::future::join_all(calls).await;
    for a in &answers {
        assert!(a.status == 200 || (a.status, a.code()) == (409, "sign_in_progress"), "{}", a.body);
    }
    let signed: Vec<&Value> = answers.iter().filter(|a| a.status == 200).map(|a| &a.body).collect();
    assert!(!signed.is_empty());
    for body in &signed {
        assert_eq!((&body["nonce"], &body["signature"]), (&signed[0]["nonce"], &signed[0]["signature"]));
    }
    assert_eq!(signed[0]["nonce"], batch_nonce(id, 0).to_string());
    check_batch_signature(signed[0], SETTLEMENT);
    let again = app.post_admin(&path, &token, json!({})).await;
    assert_eq!((&again.body["nonce"], &again.body["signature"]), (&signed[0]["nonce"], &signed[0]["signature"]));
    assert_eq!(crate::common::count(&app.db.pool, "transactions").await, 1);
    assert_eq!(audit_count(&app, "payout_batch_sign").await, 1);
}

#[tokio::test]
async fn a_raw_operator_key_needs_the_insecure_flag() {
    let mut chain = chain_settings(SETTLEMENT);
    chain.spec.rpc_url = Some("http://127.0.0.1:1".into());
    chain.tuning.operator_key = Some(SecretString::from(DEV_KEY));
    let refused = ChainRegistry::from_settings(std::slice::from_ref(&chain)).unwrap_err();
    assert!(refused.to_string().contains("insecure_operator_key"), "{refused}");
    chain.tuning.insecure_operator_key = true;
    let registry = ChainRegistry::from_settings(std::slice::from_ref(&chain)).unwrap();
    let access = registry.get(chain.spec.chain_id).unwrap().access.as_ref().unwrap();
    assert_eq!(access.operator, Some(DEV_ADDRESS));
    // anvil's key on a chain the spec does not declare a development one: refused, raw or from a keystore.
    let mut testnet = chain.clone();
    testnet.spec.development = false;
    let refused = ChainRegistry::from_settings(std::slice::from_ref(&testnet)).unwrap_err();
    assert!(refused.to_string().contains("anvil's well-known development account #1"), "{refused}");
    let dir = tempfile::tempdir().unwrap();
    let dev: PrivateKeySigner = DEV_KEY.parse().unwrap();
    let mut rng = rand::thread_rng();
    let (_, name) = PrivateKeySigner::encrypt_keystore(dir.path(), &mut rng, dev.to_bytes(), "pass", None).unwrap();
    testnet.tuning.operator_key = None;
    testnet.tuning.operator_keystore = Some(dir.path().join(name).display().to_string());
    testnet.tuning.operator_keystore_passphrase = Some(SecretString::from("pass"));
    let refused = ChainRegistry::from_settings(std::slice::from_ref(&testnet)).unwrap_err();
    assert!(refused.to_string().contains("anvil's well-known development account #1"), "{refused}");
    // A raw key on a mainnet: refused whatever the flag says (and whatever the key), even declared development.
    let mut mainnet = chain.clone();
    mainnet.spec.chain_id = 56;
    mainnet.tuning.chain_id = 56;
    mainnet.tuning.operator_key =
        Some(SecretString::from(alloy::hex::encode_prefixed(PrivateKeySigner::random().to_bytes())));
    let refused = ChainRegistry::from_settings(std::slice::from_ref(&mainnet)).unwrap_err();
    assert!(refused.to_string().contains("refused on a mainnet"), "{refused}");
    let file = r#"
[application]
host = "127.0.0.1"
port = 0
[database]
url = "postgres://unused"
[auth]
domain = "x"
uri = "http://x"
statement = "s"
evm_chain_id = 56
tron_chain_id = 1
nonce_ttl_secs = 1
access_ttl_secs = 1
refresh_ttl_secs = 1
[[chains]]
chain_id = 56
operator_key = "0x01"
"#;
    let err = backend::config::Settings::from_sources(file, std::iter::empty()).unwrap_err();
    assert!(err.to_string().contains("operator_key"), "{err}");
}

#[tokio::test]
async fn sign_without_signer_or_chain_is_503_and_fixes_no_nonce() {
    let app = crate::helpers::spawn_app().await;
    seed_chain(&app, 2).await;
    let token = app.admin_token().await;
    // A build needs the signer's policy: without a signer (or chain) nothing is built.
    let before = payout_state(&app).await;
    let a = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    assert_eq!((a.status, a.code()), (503, "chain_not_configured"), "{}", a.body);
    assert_eq!(payout_state(&app).await, before);
    // A batch built while they were configured cannot be signed now, and gets no nonce.
    let limits = ledger::payouts::BuildLimits::new(10, u128::MAX);
    let id = ledger::payouts::build_batch(&app.db.pool, ASSET, &limits).await.unwrap().unwrap().id;
    let before = payout_state(&app).await;
    let a = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/sign"), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (503, "chain_not_configured"), "{}", a.body);
    assert_eq!(payout_state(&app).await, before);
    let nonce: Option<String> = sqlx::query_scalar("SELECT chain_nonce::text FROM payout_batches WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(nonce, None);
}

#[tokio::test]
async fn concurrent_builds_over_http_take_disjoint_rewards_and_conserve_the_sum() {
    let PayoutSetup { signer: _signer, app, payable, token } = PayoutSetup::offline(13).await; // 13 users with 18 BNB each
    let requests = (0..6)
        .map(|_| app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET, "max_entries": 2 })));
    let mut answers = futures::future::join_all(requests).await;
    assert!(answers.iter().any(|a| a.status == 201));
    for a in &answers {
        assert!(a.status == 201 || (a.status, a.code()) == (409, "nothing_payable"), "{} {}", a.status, a.body);
    }
    // Drain what concurrent builds left.
    loop {
        let a =
            app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET, "max_entries": 2 })).await;
        if a.status == 409 {
            assert_eq!(a.code(), "nothing_payable");
            break;
        }
        assert_eq!(a.status, 201, "{}", a.body);
        answers.push(a);
    }
    let mut paid: Vec<String> = Vec::new();
    let mut sum = 0u128;
    for a in answers.iter().filter(|a| a.status == 201) {
        let entries = a.body["entries"].as_array().unwrap();
        assert!(!entries.is_empty() && entries.len() <= 2);
        let batch_sum: u128 = entries.iter().map(|e| base(&e["amount"])).sum();
        assert_eq!(batch_sum, base(&a.body["total"]));
        sum += batch_sum;
        paid.extend(entries.iter().map(|e| e["address"].as_str().unwrap().to_owned()));
    }
    let mut unique = paid.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), paid.len(), "a user is in two batches: {paid:?}");
    assert_eq!(paid.len(), payable.len());
    assert_eq!(sum, 18 * BNB * payable.len() as u128, "the batches pay exactly what was pending");
    let (pending, batched, rewards_batched): (String, String, i64) = sqlx::query_as(
        "SELECT sum(pending)::text, sum(batched)::text,
                (SELECT count(*) FROM rewards WHERE asset_id = 1 AND status = 'batched')
         FROM user_balances WHERE asset_id = 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!((pending.as_str(), batched), ("0", sum.to_string()));
    assert_eq!(rewards_batched, payable.len() as i64);
    let batches = crate::common::count(&app.db.pool, "payout_batches").await;
    assert_eq!(audit_count(&app, "payout_batch_build").await, batches);
}

/// Anvil with chain id [`CHAIN`] (BSC mainnet's), Settlement deployed as a mainnet deployment must be, by the
/// deployment command's code (`deploy::deploy`, profile `bsc-mainnet`): a Safe of accounts 0 and 1 (2 of 2) as admin,
/// account 0 holding the roles (the operator) from the start, the dev key as signer — so that the API's preflight at
/// start passes — and custody funded with `funds`.
pub(crate) async fn anvil_settlement(funds: u128) -> (alloy::node_bindings::AnvilInstance, Address, String) {
    let anvil = Anvil::new().path(abi::toolchain::foundry_binary("anvil")).chain_id(CHAIN).try_spawn().unwrap();
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url()).erased();
    let profile = deploy::profile("bsc-testnet").unwrap();
    provider.anvil_set_code(profile.usdt, abi::TestUSDT::DEPLOYED_BYTECODE.clone()).await.unwrap();
    let settlement = deploy_settlement(&anvil, funds).await;
    let key = alloy::hex::encode_prefixed(anvil.keys()[0].to_bytes());
    (anvil, settlement, key)
}

/// One more Settlement contract on `anvil` as [`anvil_settlement`] deploys it (its own Safe), custody funded with
/// `funds`: what an upgrade deploys beside the contract it replaces.
pub(crate) async fn deploy_settlement(anvil: &alloy::node_bindings::AnvilInstance, funds: u128) -> Address {
    let keys: Vec<PrivateKeySigner> = anvil.keys()[..2].iter().map(|k| k.clone().into()).collect();
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url()).erased();
    let profile = deploy::profile("bsc-testnet").unwrap();
    let net = deploy::network::Network::evm(&anvil.endpoint()).unwrap();
    let owners = [keys[0].address(), keys[1].address()];
    let safe = anvil_tests::safe::deploy_safe(&net, &keys[0], &owners, 2).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let operator = keys[0].address();
    let options = deploy::Options {
        profile,
        rpc_url: anvil.endpoint(),
        tron: None,
        admin: safe,
        signer: DEV_ADDRESS,
        operator,
        // On mainnet each money role has a key of its own (the deploy tool refuses one key in two).
        treasurer: PrivateKeySigner::from(anvil.keys()[3].clone()).address(),
        pauser: PrivateKeySigner::from(anvil.keys()[2].clone()).address(),
        usdt: None,
        delay_secs: None,
        exit_after_secs: None,
        dry_run: false,
        spec: dir.path().join("chains.toml"),
        record: dir.path().join("deployment.json"),
        development: true,
        previous: Vec::new(),
    };
    let signers = deploy::Keys { deployer: keys[0].clone() };
    let settlement = deploy::deploy(&options, &signers).await.unwrap().record.unwrap().settlement;
    provider.anvil_set_balance(settlement, U256::from(funds)).await.unwrap();
    settlement
}

/// What a payout test starts from: the real signer, the API wired to it and to one chain, the sponsor chain of
/// [`seed_chain`] and the admin's token. Hold `signer` (and, on anvil, `anvil`) for the whole test: dropping them
/// stops them.
pub(crate) struct PayoutSetup {
    pub signer: SignerService,
    pub app: TestApp,
    /// G and U1..U(n-1): one 18 BNB reward each, pending.
    pub payable: Vec<Address>,
    pub token: String,
}

impl PayoutSetup {
    /// `users` seeded on [`CHAIN`] without RPC: batches can be built and signed, never sent.
    pub(crate) async fn offline(users: usize) -> Self {
        Self::with(spawn_signer(SETTLEMENT, vec![]).await, chain_settings(SETTLEMENT), users).await
    }

    /// `users` seeded with `signer` and `chain`.
    pub(crate) async fn with(signer: SignerService, chain: ChainSettings, users: usize) -> Self {
        let app = spawn_admin_app(&signer, chain).await;
        let payable = seed_chain(&app, users).await;
        let token = app.admin_token().await;
        Self { signer, app, payable, token }
    }
}

/// A payout test on a real anvil ([`anvil_settlement`], custody funded with 1,000 BNB): the API sends with the
/// operator key (anvil's account 0), and an outcome is final `confirmations` blocks deep (the default when `None`).
struct AnvilPayouts {
    anvil: alloy::node_bindings::AnvilInstance,
    provider: alloy::providers::DynProvider,
    settlement: Address,
    setup: PayoutSetup,
}

async fn on_anvil(users: usize, confirmations: Option<u64>) -> AnvilPayouts {
    let (anvil, settlement, operator_key) = anvil_settlement(1_000 * BNB).await;
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url()).erased();
    let signer = spawn_signer(settlement, vec![]).await;
    let mut chain = chain_settings(settlement);
    chain.spec.rpc_url = Some(anvil.endpoint());
    chain.tuning.operator_key = Some(SecretString::from(operator_key));
    chain.tuning.insecure_operator_key = true;
    if let Some(confirmations) = confirmations {
        chain.spec.confirmations = confirmations;
    }
    let setup = PayoutSetup::with(signer, chain, users).await;
    AnvilPayouts { anvil, provider, settlement, setup }
}

#[tokio::test]
async fn submit_and_retry_pay_a_batch_on_anvil_exactly_once() {
    let AnvilPayouts { anvil: _anvil, provider, settlement, setup } = on_anvil(3, None).await; // G, U1, U2: 18 BNB each
    let PayoutSetup { signer: _signer, app, payable, token } = setup;
    let t = Some(token.as_str());

    let a = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["id"].as_i64().unwrap();
    let path = |action: &str| format!("/v1/admin/payouts/batches/{id}/{action}");
    let a = app.post_admin(&path("submit"), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "not_signed"), "{}", a.body);
    let signed = app.post_admin(&path("sign"), &token, json!({})).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    check_batch_signature(&signed.body, settlement);
    let a = app.post_admin(&path("retry"), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "not_submitted"), "{}", a.body);

    // Sent but not mined, then dropped by the node: retry resends the same signed batch.
    provider.anvil_set_auto_mine(false).await.unwrap();
    let first = app.post_admin(&path("submit"), &token, json!({})).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!((first.body["outcome"].as_str(), first.body["sent"].as_bool()), (Some("sent"), Some(true)));
    let first_tx = first.body["tx_hash"].as_str().unwrap().to_owned();
    let a = app.post_admin(&path("submit"), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "already_submitted"));
    let still = app.post_admin(&path("retry"), &token, json!({})).await;
    assert_eq!(
        (still.body["outcome"].as_str(), still.body["sent"].as_bool()),
        (Some("pending"), Some(false)),
        "{}",
        still.body
    );
    provider.anvil_drop_transaction(first_tx.parse().unwrap()).await.unwrap();
    let resent = app.post_admin(&path("retry"), &token, json!({})).await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    assert_eq!(
        (resent.body["outcome"].as_str(), resent.body["sent"].as_bool(), resent.body["previous"].as_str()),
        (Some("sent"), Some(true), Some("dropped"))
    );
    // The same account nonce and calldata: usually the very same transaction hash, sent again.
    let second_tx = resent.body["tx_hash"].as_str().unwrap().to_owned();
    for who in &payable {
        assert_eq!(provider.get_balance(*who).await.unwrap(), U256::ZERO, "nothing paid before mining");
    }

    // Mined, then confirmed (one block on top): retry says executed and sends nothing.
    provider.anvil_mine(Some(2), None).await.unwrap();
    provider.anvil_set_auto_mine(true).await.unwrap();
    for _ in 0..2 {
        let done = app.post_admin(&path("retry"), &token, json!({})).await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert_eq!((done.body["outcome"].as_str(), done.body["sent"].as_bool()), (Some("executed"), Some(false)));
        assert_eq!(done.body["tx_hash"].as_str(), Some(second_tx.as_str()));
    }
    for who in &payable {
        assert_eq!(provider.get_balance(*who).await.unwrap(), U256::from(18 * BNB), "paid exactly once");
    }
    assert_eq!(provider.get_balance(settlement).await.unwrap(), U256::from(1_000 * BNB - 54 * BNB));
    let nonce: U256 = signed.body["nonce"].as_str().unwrap().parse().unwrap();
    assert!(abi::Settlement::new(settlement, &provider).isNonceUsed(nonce).call().await.unwrap());
    let detail = app.get(&format!("/v1/admin/payouts/batches/{id}"), t).await;
    assert_eq!(
        (detail.body["status"].as_str(), detail.body["tx_hash"].as_str()),
        (Some("submitted"), Some(second_tx.as_str()))
    );
    assert_eq!((audit_count(&app, "payout_batch_submit").await, audit_count(&app, "payout_batch_retry").await), (1, 1));

    // The treasury reads the contract's balance from the chain.
    let treasury = app.get("/v1/admin/treasury?asset_id=1", t).await;
    assert_eq!(treasury.status, 200, "{}", treasury.body);
    assert_eq!(base(&treasury.body["contract_balance"]), 946 * BNB);
    assert_eq!(base(&treasury.body["contract_available"]), 946 * BNB);
    assert_eq!(treasury.body["chain_note"], Value::Null);
}

/// The operator's transaction `hash` as the node holds it: (account nonce, max fee, tip, mined).
async fn operator_tx(provider: &alloy::providers::DynProvider, hash: &str) -> Option<(u64, u128, u128, bool)> {
    use alloy::consensus::Transaction as _;
    let tx = provider.get_transaction_by_hash(hash.parse().unwrap()).await.unwrap()?;
    Some((tx.nonce(), tx.max_fee_per_gas(), tx.max_priority_fee_per_gas().unwrap(), tx.block_number.is_some()))
}

#[tokio::test]
async fn a_stuck_payout_is_replaced_with_higher_fees_within_the_ceiling_and_pays_once() {
    let (_anvil, settlement, operator_key) = anvil_settlement(1_000 * BNB).await;
    let provider = ProviderBuilder::new().connect_http(_anvil.endpoint_url()).erased();
    // Anvil holds every transaction unmined; with no new block the node's fee suggestion stays the same.
    provider.anvil_set_auto_mine(false).await.unwrap();
    let node = provider.estimate_eip1559_fees().await.unwrap();
    let mut chain = chain_settings(settlement);
    chain.spec.rpc_url = Some(_anvil.endpoint());
    chain.tuning.operator_key = Some(SecretString::from(operator_key));
    chain.tuning.insecure_operator_key = true;
    // Due for a replacement at once; room for one raise of 12 % above the node's suggestion, not for two.
    chain.tuning.payout_replace_after_secs = 0;
    chain.tuning.payout_fee_bump_percent = 12;
    let ceiling = node.max_fee_per_gas * 120 / 100;
    chain.tuning.payout_max_fee_per_gas_wei = u64::try_from(ceiling).unwrap();
    let setup = PayoutSetup::with(spawn_signer(settlement, vec![]).await, chain, 3).await; // G, U1, U2: 18 BNB each
    let PayoutSetup { signer: _signer, app, payable, token } = setup;

    let built = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    assert_eq!(built.status, 201, "{}", built.body);
    let id = built.body["id"].as_i64().unwrap();
    let path = |action: &str| format!("/v1/admin/payouts/batches/{id}/{action}");
    let signed = app.post_admin(&path("sign"), &token, json!({})).await;
    assert_eq!(signed.status, 200, "{}", signed.body);

    // The first send offers the node's EIP-1559 fees.
    let first = app.post_admin(&path("submit"), &token, json!({})).await;
    assert_eq!((first.status, first.body["outcome"].as_str()), (200, Some("sent")), "{}", first.body);
    let first_tx = first.body["tx_hash"].as_str().unwrap().to_owned();
    let (nonce, max1, tip1, mined) = operator_tx(&provider, &first_tx).await.expect("the first transaction is pending");
    assert_eq!((max1, tip1, mined), (node.max_fee_per_gas, node.max_priority_fee_per_gas, false));

    // Unmined past payout_replace_after_secs: replaced, same account nonce, both fees raised by at least 12 %.
    let replaced = app.post_admin(&path("retry"), &token, json!({})).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(
        (replaced.body["outcome"].as_str(), replaced.body["sent"].as_bool(), replaced.body["previous"].as_str()),
        (Some("replaced"), Some(true), Some("stuck")),
        "{}",
        replaced.body
    );
    let second_tx = replaced.body["tx_hash"].as_str().unwrap().to_owned();
    assert_ne!(second_tx, first_tx);
    let (nonce2, max2, tip2, _) = operator_tx(&provider, &second_tx).await.expect("the replacement is pending");
    assert_eq!(nonce2, nonce, "a replacement takes the account nonce of the transaction it replaces");
    assert_eq!((max2, tip2), ((max1 * 112).div_ceil(100), (tip1 * 112).div_ceil(100)));
    assert!(max2 <= ceiling);

    // Due again, but a raise of 12 % would pass the ceiling: nothing is sent, the admin is told why.
    let waiting = app.post_admin(&path("retry"), &token, json!({})).await;
    assert_eq!(waiting.status, 200, "{}", waiting.body);
    assert_eq!(
        (waiting.body["outcome"].as_str(), waiting.body["sent"].as_bool(), waiting.body["previous"].as_str()),
        (Some("pending"), Some(false), Some("at_fee_ceiling")),
        "{}",
        waiting.body
    );
    assert_eq!(waiting.body["tx_hash"].as_str(), Some(second_tx.as_str()));
    let operator = _anvil.addresses()[0];
    assert_eq!(provider.get_transaction_count(operator).pending().await.unwrap(), nonce + 1, "one transaction waits");
    let metrics = app.metrics().await;
    for outcome in ["replaced", "at_fee_ceiling"] {
        assert!(
            metrics.lines().any(|l| l.starts_with("payout_transactions_total{")
                && l.contains(&format!("outcome=\"{outcome}\""))
                && l.ends_with(" 1")),
            "payout_transactions_total {outcome} 1:\n{metrics}"
        );
    }

    // Mined: the replacement executed the batch, the first never will; every user is paid exactly once.
    provider.anvil_mine(Some(2), None).await.unwrap();
    provider.anvil_set_auto_mine(true).await.unwrap();
    let done = app.post_admin(&path("retry"), &token, json!({})).await;
    assert_eq!(
        (done.body["outcome"].as_str(), done.body["tx_hash"].as_str()),
        (Some("executed"), Some(second_tx.as_str())),
        "{}",
        done.body
    );
    assert!(provider.get_transaction_receipt(first_tx.parse().unwrap()).await.unwrap().is_none());
    for who in &payable {
        assert_eq!(provider.get_balance(*who).await.unwrap(), U256::from(18 * BNB), "paid exactly once");
    }
    assert_eq!(provider.get_balance(settlement).await.unwrap(), U256::from(1_000 * BNB - 54 * BNB));
    assert_eq!(provider.get_transaction_count(operator).await.unwrap(), nonce + 1);
    assert_eq!(
        (audit_count(&app, "payout_batch_submit").await, audit_count(&app, "payout_batch_replace").await),
        (1, 1)
    );
}

#[tokio::test]
async fn a_reverted_payout_is_resent_unchanged_once_custody_can_cover_it() {
    let AnvilPayouts { anvil: _anvil, provider, settlement, setup } = on_anvil(2, Some(0)).await; // G, U1: 18 BNB each
    let PayoutSetup { signer: _signer, app, payable, token } = setup;
    let a = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    let id = a.body["id"].as_i64().unwrap();
    let path = |action: &str| format!("/v1/admin/payouts/batches/{id}/{action}");
    assert_eq!(app.post_admin(&path("sign"), &token, json!({})).await.status, 200);

    // Sent while custody could pay; custody drained before it is mined: the transaction reverts.
    provider.anvil_set_auto_mine(false).await.unwrap();
    let sent = app.post_admin(&path("submit"), &token, json!({})).await;
    assert_eq!(sent.body["outcome"], "sent", "{}", sent.body);
    provider.anvil_set_balance(settlement, U256::from(BNB)).await.unwrap();
    provider.anvil_mine(Some(1), None).await.unwrap();
    provider.anvil_set_auto_mine(true).await.unwrap();
    // Retry sees the revert; the contract would refuse again, so nothing is sent and nothing changes.
    let before = payout_state(&app).await;
    let refused = app.post_admin(&path("retry"), &token, json!({})).await;
    assert_eq!((refused.status, refused.code()), (422, "chain_refused"), "{}", refused.body);
    // In words, never the raw decoded error.
    let said = refused.body["error"]["message"].as_str().unwrap();
    assert!(said.contains("cannot cover its total") && !said.contains("InsufficientFunds("), "{}", refused.body);
    assert_eq!(payout_state(&app).await, before);
    // Custody funded again: the same signed batch is resent and pays once.
    provider.anvil_set_balance(settlement, U256::from(100 * BNB)).await.unwrap();
    let resent = app.post_admin(&path("retry"), &token, json!({})).await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    assert_eq!((resent.body["outcome"].as_str(), resent.body["previous"].as_str()), (Some("sent"), Some("reverted")));
    assert_ne!(resent.body["tx_hash"], sent.body["tx_hash"], "a new transaction (next account nonce)");
    let done = app.post_admin(&path("retry"), &token, json!({})).await;
    assert_eq!(
        (done.body["outcome"].as_str(), done.body["sent"].as_bool()),
        (Some("executed"), Some(false)),
        "{}",
        done.body
    );
    for who in &payable {
        assert_eq!(provider.get_balance(*who).await.unwrap(), U256::from(18 * BNB));
    }
    assert_eq!(provider.get_balance(settlement).await.unwrap(), U256::from(64 * BNB));
}

// ───────────────────────────── cancel ─────────────────────────────

/// Σ pending, Σ batched of the asset, and each user's (pending + batched).
async fn balances(app: &TestApp) -> (u128, u128, Vec<(i32, u128)>) {
    let rows: Vec<(i32, String, String)> = sqlx::query_as(
        "SELECT user_no, pending::text, batched::text FROM user_balances WHERE asset_id = 1 ORDER BY user_no",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let parse = |s: &str| s.parse::<u128>().unwrap();
    let pending = rows.iter().map(|r| parse(&r.1)).sum();
    let batched = rows.iter().map(|r| parse(&r.2)).sum();
    (pending, batched, rows.iter().map(|r| (r.0, parse(&r.1) + parse(&r.2))).collect())
}

/// Every user's balances are their rewards' parts: pending and held the unpaid rest of rewards in that status,
/// batched the parts in flight, settled the parts paid.
async fn assert_balances_match_rewards(app: &TestApp) {
    let off: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_balances b WHERE b.asset_id = 1 AND (
            b.pending <> (SELECT COALESCE(sum(amount - paid - in_flight), 0) FROM rewards r
                          WHERE r.asset_id = 1 AND r.beneficiary_no = b.user_no AND r.status = 'pending')
         OR b.held <> (SELECT COALESCE(sum(amount - paid - in_flight), 0) FROM rewards r
                          WHERE r.asset_id = 1 AND r.beneficiary_no = b.user_no AND r.status = 'held')
         OR b.batched <> (SELECT COALESCE(sum(in_flight), 0) FROM rewards r
                          WHERE r.asset_id = 1 AND r.beneficiary_no = b.user_no)
         OR b.settled <> (SELECT COALESCE(sum(paid), 0) FROM rewards r
                          WHERE r.asset_id = 1 AND r.beneficiary_no = b.user_no))",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(off, 0, "balances disagree with the rewards");
}

#[tokio::test]
async fn cancelling_a_batch_never_sent_to_the_signer_releases_its_rewards() {
    // No RPC: a batch no signature can exist for needs no proof from the chain.
    let PayoutSetup { signer: _signer, app, payable, token } = PayoutSetup::offline(3).await; // G, U1, U2: 18 BNB each
    let built =
        app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET, "max_entries": 2 })).await;
    assert_eq!(built.status, 201, "{}", built.body);
    let id = built.body["id"].as_i64().unwrap();
    assert_eq!(balances(&app).await.0, 18 * BNB);

    // Role checks, unknown batch: nothing changes.
    let path = format!("/v1/admin/payouts/batches/{id}/cancel");
    let user = PrivateKeySigner::random();
    let user_token = app.signin(crate::helpers::Chain::Evm, &user).await["access_token"].as_str().unwrap().to_owned();
    let before = payout_state(&app).await;
    let a = app.post_admin(&path, &user_token, json!({})).await;
    assert_eq!((a.status, a.code()), (403, "forbidden"), "{}", a.body);
    let a = app.post_as(&path, None, json!({})).await;
    assert_eq!(a.status, 401, "{}", a.body);
    let a = app.post_admin("/v1/admin/payouts/batches/999/cancel", &token, json!({})).await;
    assert_eq!((a.status, a.code()), (404, "not_found"), "{}", a.body);
    let a = app.post_admin("/v1/admin/payouts/batches/x/cancel", &token, json!({})).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(payout_state(&app).await, before);

    let cancelled = app.post_admin(&path, &token, json!({})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["entries"].as_array().unwrap().len(), 2, "items kept for history");
    let (pending, batched, _) = balances(&app).await;
    assert_eq!((pending, batched), (54 * BNB, 0));
    assert_balances_match_rewards(&app).await;
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM payout_batch_rewards WHERE batch_id = $1")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(kept, 2);
    let audit: (serde_json::Value, serde_json::Value) =
        sqlx::query_as("SELECT before, after FROM audit_logs WHERE action = 'payout_batch_cancel'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!((audit.0["status"].as_str(), audit.1["status"].as_str()), (Some("building"), Some("cancelled")));
    assert_eq!(audit.1["proof"]["reason"], "never_signed");
    assert_eq!(audit.1["pending_total"], (54 * BNB).to_string());

    // Cancelled stays cancelled: not cancelled twice, not signed, not sent.
    let before = payout_state(&app).await;
    for (action, code) in [("cancel", "already_cancelled"), ("sign", "batch_not_signable")] {
        let a = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/{action}"), &token, json!({})).await;
        assert_eq!((a.status, a.code()), (409, code), "{action}: {}", a.body);
    }
    assert_eq!(payout_state(&app).await, before);

    // A new batch takes the released rewards.
    let again = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(base(&again.body["total"]), 54 * BNB);
    let entries: Vec<&str> =
        again.body["entries"].as_array().unwrap().iter().map(|e| e["address"].as_str().unwrap()).collect();
    let expected: Vec<String> = payable.iter().map(|a| a.to_checksum(None)).collect();
    assert_eq!(entries, expected);
    assert_balances_match_rewards(&app).await;
}

/// Σ pending, Σ held, Σ batched of one user.
async fn user_balance(app: &TestApp, who: Address) -> (u128, u128, u128) {
    let (p, h, b): (String, String, String) = sqlx::query_as(
        "SELECT b.pending::text, b.held::text, b.batched::text FROM user_balances b
         JOIN users u USING (asset_id, user_no) WHERE b.asset_id = 1 AND u.address = $1",
    )
    .bind(who.as_slice())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    (p.parse().unwrap(), h.parse().unwrap(), b.parse().unwrap())
}

#[tokio::test]
async fn parts_of_rewards_go_back_to_their_rest_when_a_batch_is_cancelled_held_for_a_frozen_user() {
    let signer = crate::signer_service::spawn_signer_with_entry_cap(SETTLEMENT, 5 * BNB).await;
    let app = spawn_admin_app(&signer, chain_settings(SETTLEMENT)).await;
    let payable = seed_chain(&app, 2).await; // G and U1: one reward of 18 BNB each
    let (g, u1) = (payable[0], payable[1]);
    let token = app.admin_token().await;
    let build = || app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET }));
    let first = build().await;
    assert_eq!(first.status, 201, "{}", first.body);
    for e in first.body["entries"].as_array().unwrap() {
        assert_eq!(
            (base(&e["amount"]), base(&e["owed"]), e["limited_by"].as_str()),
            (5 * BNB, 18 * BNB, Some("per_entry_cap"))
        );
    }
    let second = build().await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(base(&second.body["entries"][1]["owed"]), 13 * BNB, "the next batch takes the next part");
    assert_eq!(
        (user_balance(&app, g).await, user_balance(&app, u1).await),
        ((8 * BNB, 0, 10 * BNB), (8 * BNB, 0, 10 * BNB))
    );
    assert_balances_match_rewards(&app).await;
    // The reward is still one reward of 18 BNB, with 10 in flight; the user's history says so.
    let parts: (String, String, String, String) = sqlx::query_as(
        "SELECT r.amount::text, r.in_flight::text, r.paid::text, r.status FROM rewards r
         JOIN users u ON u.asset_id = r.asset_id AND u.user_no = r.beneficiary_no WHERE u.address = $1",
    )
    .bind(u1.as_slice())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(parts, ((18 * BNB).to_string(), (10 * BNB).to_string(), "0".into(), "pending".into()));

    // U1 is frozen: the rest becomes held; a forfeit must wait for the parts in flight.
    let a = app
        .post_admin(
            &format!("/v1/admin/users/{u1:#x}/freeze"),
            &token,
            json!({ "asset_id": ASSET, "reason": "fraud review" }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(user_balance(&app, u1).await, (0, 8 * BNB, 10 * BNB));
    let before = payout_state(&app).await;
    let refused = ::ledger::admin::forfeit_held(&app.db.pool, ASSET, u1, "admin").await.unwrap_err();
    assert!(matches!(refused, ::ledger::admin::AdminError::Refused { code: "parts_in_flight", .. }), "{refused}");
    assert_eq!(payout_state(&app).await, before);

    // Cancelling the first batch gives each part back to its reward: pending for G, held for frozen U1.
    let id = first.body["id"].as_i64().unwrap();
    let a = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/cancel"), &token, json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(user_balance(&app, g).await, (13 * BNB, 0, 5 * BNB));
    assert_eq!(user_balance(&app, u1).await, (0, 13 * BNB, 5 * BNB));
    assert_balances_match_rewards(&app).await;
    let audit: serde_json::Value =
        sqlx::query_scalar("SELECT after FROM audit_logs WHERE action = 'payout_batch_cancel'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        (audit["pending_total"].as_str(), audit["held_total"].as_str()),
        (Some("13000000000000000000"), Some("13000000000000000000"))
    );
    // A frozen user is never built into a batch: the next build pays G's next part only.
    let third = build().await;
    assert_eq!(third.status, 201, "{}", third.body);
    let entries = third.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0]["address"].as_str(), base(&entries[0]["amount"])),
        (Some(g.to_checksum(None).as_str()), 5 * BNB)
    );
    assert_balances_match_rewards(&app).await;
}

#[tokio::test]
async fn a_signed_batch_needs_the_chain_to_prove_it_expired_before_it_is_cancelled() {
    // Signed, no RPC configured: the chain cannot prove anything, so nothing is cancelled.
    let PayoutSetup { signer, app, token, .. } = PayoutSetup::offline(2).await;
    let built = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    let id = built.body["id"].as_i64().unwrap();
    assert_eq!(app.post_admin(&format!("/v1/admin/payouts/batches/{id}/sign"), &token, json!({})).await.status, 200);
    let before = payout_state(&app).await;
    let a = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/cancel"), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (503, "chain_rpc_not_configured"), "{}", a.body);
    assert_eq!(payout_state(&app).await, before);

    // A batch whose sign call fixed a nonce (the signer may have signed it) counts as signed too.
    let mut chain = chain_settings(SETTLEMENT);
    chain.spec.rpc_url = Some("http://127.0.0.1:1".into());
    let app = spawn_admin_app(&signer, chain).await;
    seed_chain(&app, 2).await;
    let token = app.admin_token().await;
    let built = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    let id = built.body["id"].as_i64().unwrap();
    ledger::payouts::prepare_signing(&app.db.pool, id, 1_700_000_000, 600).await.unwrap();
    let before = payout_state(&app).await;
    let a = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/cancel"), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (503, "chain_unavailable"), "{}", a.body);
    assert_eq!(payout_state(&app).await, before);
}

#[tokio::test]
async fn an_expired_batch_is_cancelled_and_its_rewards_paid_exactly_once_by_a_new_batch() {
    let AnvilPayouts { anvil, provider, settlement, setup } = on_anvil(3, Some(1)).await; // G, U1, U2: 18 BNB each
    let PayoutSetup { signer: _signer, app, payable, token } = setup;
    let t = Some(token.as_str());

    // Batch 1: signed, sent, and the transaction dropped by the node: 'submitted', never executed.
    let built = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    let old = built.body["id"].as_i64().unwrap();
    let old_path = |action: &str| format!("/v1/admin/payouts/batches/{old}/{action}");
    let signed = app.post_admin(&old_path("sign"), &token, json!({})).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    let deadline = signed.body["deadline"].as_i64().unwrap() as u64;
    provider.anvil_set_auto_mine(false).await.unwrap();
    let sent = app.post_admin(&old_path("submit"), &token, json!({})).await;
    assert_eq!(sent.body["outcome"], "sent", "{}", sent.body);
    provider.anvil_drop_transaction(sent.body["tx_hash"].as_str().unwrap().parse().unwrap()).await.unwrap();
    provider.anvil_set_auto_mine(true).await.unwrap();

    // Before the deadline: refused, nothing changes.
    let before = payout_state(&app).await;
    let a = app.post_admin(&old_path("cancel"), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "batch_may_still_execute"), "{}", a.body);
    assert_eq!(payout_state(&app).await, before);

    // The new batch's deadline (signed later) must stay ahead of the chain's clock once it is moved past this
    // one's: the API's clock moves on a few seconds.
    app.clock.advance(4);
    // Past the deadline only in the newest block: not yet `confirmations` deep.
    provider.anvil_set_next_block_timestamp(deadline + 1).await.unwrap();
    provider.anvil_mine(Some(1), None).await.unwrap();
    let a = app.post_admin(&old_path("cancel"), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "batch_may_still_execute"), "{}", a.body);
    assert_eq!(payout_state(&app).await, before);
    // One block on top: the expiry is confirmed, the nonce unused: cancelled.
    provider.anvil_set_next_block_timestamp(deadline + 2).await.unwrap();
    provider.anvil_mine(Some(1), None).await.unwrap();
    let cancelled = app.post_admin(&old_path("cancel"), &token, json!({})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(balances(&app).await.0, 54 * BNB, "rewards pending again");
    assert_balances_match_rewards(&app).await;
    let proof: serde_json::Value =
        sqlx::query_scalar("SELECT after->'proof' FROM audit_logs WHERE action = 'payout_batch_cancel'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(proof["reason"], "expired");
    assert!(proof["chain"]["block_timestamp"].as_u64().unwrap() > deadline, "{proof}");
    let a = app.post_admin(&old_path("submit"), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "batch_not_sendable"), "{}", a.body);

    // The old signature, sent to the contract anyway: refused as expired.
    let old_batch = abi::PayoutBatch {
        token: Address::ZERO,
        total: U256::from(base(&signed.body["total"])),
        payouts: signed.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| abi::Payout {
                recipient: e["address"].as_str().unwrap().parse().unwrap(),
                amount: U256::from(base(&e["amount"])),
            })
            .collect(),
        nonce: signed.body["nonce"].as_str().unwrap().parse().unwrap(),
        deadline: U256::from(deadline),
    };
    let old_signature: alloy::primitives::Bytes =
        alloy::hex::decode(signed.body["signature"].as_str().unwrap()).unwrap().into();
    let contract = abi::Settlement::new(settlement, &provider);
    let Err(refused) =
        contract.executePayoutBatch(old_batch.clone(), old_signature).from(anvil.addresses()[0]).call().await
    else {
        panic!("the contract accepted an expired batch")
    };
    let reason = refused.as_decoded_interface_error::<abi::Settlement::SettlementErrors>();
    assert!(matches!(reason, Some(abi::Settlement::SettlementErrors::Expired(_))), "{refused:?}");

    // A new batch takes the rewards with a new nonce and pays them once.
    let built = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    assert_eq!(built.status, 201, "{}", built.body);
    assert_eq!(base(&built.body["total"]), 54 * BNB);
    let new = built.body["id"].as_i64().unwrap();
    let new_path = |action: &str| format!("/v1/admin/payouts/batches/{new}/{action}");
    let signed_new = app.post_admin(&new_path("sign"), &token, json!({})).await;
    assert_eq!(signed_new.status, 200, "{}", signed_new.body);
    assert_eq!(signed_new.body["nonce"], batch_nonce(new, 0).to_string());
    assert_ne!(signed_new.body["nonce"], signed.body["nonce"]);
    assert!(signed_new.body["deadline"].as_i64().unwrap() as u64 > deadline + 3);
    provider.anvil_set_next_block_timestamp(deadline + 3).await.unwrap();
    let sent = app.post_admin(&new_path("submit"), &token, json!({})).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    provider.anvil_mine(Some(1), None).await.unwrap();
    let done = app.post_admin(&new_path("retry"), &token, json!({})).await;
    assert_eq!(
        (done.body["outcome"].as_str(), done.body["sent"].as_bool()),
        (Some("executed"), Some(false)),
        "{}",
        done.body
    );
    for who in &payable {
        assert_eq!(provider.get_balance(*who).await.unwrap(), U256::from(18 * BNB), "paid exactly once");
    }
    assert_eq!(provider.get_balance(settlement).await.unwrap(), U256::from(1_000 * BNB - 54 * BNB));
    assert!(!contract.isNonceUsed(old_batch.nonce).call().await.unwrap(), "the old nonce never executed");
    let detail = app.get(&format!("/v1/admin/payouts/batches/{old}"), t).await;
    assert_eq!(detail.body["status"], "cancelled");
    // The new batch was executed: cancelling it is refused on-chain evidence (its nonce is spent).
    provider.anvil_set_next_block_timestamp(signed_new.body["deadline"].as_i64().unwrap() as u64 + 1).await.unwrap();
    provider.anvil_mine(Some(2), None).await.unwrap();
    let before = payout_state(&app).await;
    let a = app.post_admin(&new_path("cancel"), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "batch_nonce_used"), "{}", a.body);
    assert_eq!(payout_state(&app).await, before);
}

fn settlement_event(block: u64, body: ledger::events::EventBody) -> ledger::events::ChainEvent {
    ledger::events::ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: ledger::events::EventKey {
            chain_id: CHAIN,
            tx_hash: alloy::primitives::keccak256([b"cancel".as_slice(), &block.to_be_bytes()].concat()),
            log_index: 0,
        },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body,
    }
}

#[tokio::test]
async fn cancelling_conserves_balances_and_a_late_execution_of_the_cancelled_batch_is_quarantined() {
    use ::ledger::payouts::{self as ledger, BatchStatus};
    let app = crate::helpers::spawn_app().await;
    seed_chain(&app, 5).await; // 5 users with 18 BNB pending
    let first =
        ledger::build_batch(&app.db.pool, ASSET, &ledger::BuildLimits::new(2, u128::MAX)).await.unwrap().unwrap();
    let second =
        ledger::build_batch(&app.db.pool, ASSET, &ledger::BuildLimits::new(2, u128::MAX)).await.unwrap().unwrap();
    let nonce = batch_nonce(first.id, 0);
    let payouts: Vec<abi::Payout> =
        first.entries.iter().map(|(r, a)| abi::Payout { recipient: *r, amount: U256::from(*a) }).collect();
    let hash = abi::payouts_hash(&payouts);
    ledger::record_signed(&app.db.pool, first.id, nonce, hash, 1_700_000_100, &[7; 65]).await.unwrap();
    let (pending, batched, per_user) = balances(&app).await;
    assert_eq!((pending, batched), (18 * BNB, 72 * BNB));

    // The state the caller checked must still hold under the lock.
    let state = ledger::cancel_state(&app.db.pool, first.id).await.unwrap().unwrap();
    assert_eq!(
        (state.status.as_str(), state.nonce, state.attempt_nonces(first.id)),
        ("signed", Some(nonce), vec![nonce])
    );
    let stale = ledger::CancelState { status: BatchStatus::Building, ..state.clone() };
    let digest = app.db_state().await;
    assert_eq!(ledger::cancel_batch(&app.db.pool, first.id, &stale, json!({}), "test").await.unwrap(), None);
    assert_eq!(app.db_state().await, digest);

    let done = ledger::cancel_batch(&app.db.pool, first.id, &state, json!({ "reason": "test" }), "test")
        .await
        .unwrap()
        .expect("cancelled");
    assert_eq!(done, ledger::Cancelled { rewards: 2, users: 2, total: 36 * BNB });
    let (pending_after, batched_after, per_user_after) = balances(&app).await;
    assert_eq!((pending_after, batched_after), (54 * BNB, 36 * BNB));
    assert_eq!(per_user_after, per_user, "each user's pending + batched is unchanged");
    assert_eq!(pending_after + batched_after, pending + batched);
    assert_balances_match_rewards(&app).await;
    let open: i64 = sqlx::query_scalar("SELECT count(*) FROM rewards WHERE batch_id = $1")
        .bind(first.id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(open, 0, "released rewards belong to no batch");
    let second_rewards: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rewards WHERE batch_id = $1 AND status = 'batched'")
            .bind(second.id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(second_rewards, 2, "the other batch is untouched");
    // Not twice.
    assert_eq!(ledger::cancel_batch(&app.db.pool, first.id, &state, json!({}), "test").await.unwrap(), None);

    // The cancelled batch executes anyway (late event): quarantined with an alert, balances untouched.
    let mut chain_ledger = ::ledger::ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    let executed = settlement_event(
        100,
        ::ledger::events::EventBody::PayoutBatchExecuted {
            nonce,
            token: Address::ZERO,
            payouts_hash: hash,
            total: U256::from(first.total),
            count: U256::from(first.entries.len()),
            deferred_count: U256::ZERO,
            deferred_total: U256::ZERO,
        },
    );
    let summary = chain_ledger.apply_block(&[executed]).await.unwrap();
    assert_eq!((summary.applied, summary.quarantined), (0, 1));
    let code: String = sqlx::query_scalar("SELECT reason_code FROM quarantine").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(code, "batch_not_open");
    let alerts: i64 = sqlx::query_scalar("SELECT count(*) FROM alerts WHERE kind = 'event_quarantined'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(alerts, 1);
    assert_eq!(balances(&app).await, (pending_after, batched_after, per_user_after));
    let status: String = sqlx::query_scalar("SELECT status FROM payout_batches WHERE id = $1")
        .bind(first.id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(status, "cancelled");
}

#[tokio::test]
async fn pending_can_be_filtered_by_open_withdraw_requests() {
    let app = crate::helpers::spawn_app().await;
    let w = PrivateKeySigner::random();
    // W under G, R1 under W, R2 under R1: G, W and R1 have 18 BNB pending.
    app.register_in_ledger(&[(w.address(), genesis()), (named("R1"), w.address()), (named("R2"), named("R1"))]).await;
    let user_token = app.signin(crate::helpers::Chain::Evm, &w).await["access_token"].as_str().unwrap().to_owned();
    let asked = app.post_as("/v1/users/withdraw", Some(&user_token), json!({ "asset_id": ASSET })).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let request_id = asked.body["request"]["id"].as_i64().unwrap();
    let token = app.admin_token().await;
    let t = Some(token.as_str());

    let yes = app.get("/v1/admin/payouts/pending?asset_id=1&requested=true", t).await;
    assert_eq!(yes.status, 200, "{}", yes.body);
    let items = yes.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["address"], w.address().to_checksum(None));
    assert_eq!(items[0]["withdraw_request"], request_id);
    assert_eq!((yes.body["totals"]["users"].as_i64(), base(&yes.body["totals"]["amount"])), (Some(1), 18 * BNB));
    let no = app.get("/v1/admin/payouts/pending?asset_id=1&requested=false", t).await;
    let addresses: Vec<&str> =
        no.body["items"].as_array().unwrap().iter().map(|i| i["address"].as_str().unwrap()).collect();
    assert_eq!(addresses, vec![genesis().to_checksum(None), named("R1").to_checksum(None)]);
    assert!(no.body["items"].as_array().unwrap().iter().all(|i| i["withdraw_request"].is_null()));
    let all = app.get("/v1/admin/payouts/pending?asset_id=1", t).await;
    assert_eq!(all.body["totals"]["users"], 3);
    let bad = app.get("/v1/admin/payouts/pending?asset_id=1&requested=maybe", t).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[tokio::test]
async fn a_prepared_nonce_is_never_replaced_even_after_its_deadline() {
    // The signer may have signed a prepared payload even though no signature was recorded (a crash between its
    // answer and the commit): a second nonce for the same rewards could then execute beside it.
    let PayoutSetup { signer: _signer, app, token, .. } = PayoutSetup::offline(3).await;
    let built = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    let id = built.body["id"].as_i64().unwrap();
    let prepare = |now| ledger::payouts::prepare_signing(&app.db.pool, id, now, 600);
    let first = match prepare(1_700_000_000).await.unwrap() {
        ledger::payouts::SignStep::Sign(p) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!((first.nonce, first.deadline), (batch_nonce(id, 0), 1_700_000_600));
    // Later, still before the deadline: the same payload, even with one second left.
    match prepare(1_700_000_599).await.unwrap() {
        ledger::payouts::SignStep::Sign(p) => assert_eq!(p, first),
        other => panic!("{other:?}"),
    }
    // At and after the deadline: refused, nonce and deadline unchanged.
    for now in [1_700_000_600, 1_800_000_000] {
        let e = prepare(now).await.unwrap_err();
        assert!(matches!(e, ledger::payouts::SignStepError::Expired(b, 1_700_000_600) if b == id), "{e}");
    }
    let before = payout_state(&app).await;
    let a = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/sign"), &token, json!({})).await;
    assert_eq!((a.status, a.code()), (409, "signature_expired"), "{}", a.body);
    assert_eq!(payout_state(&app).await, before, "nothing signed, nothing stored");
    let stored: (String, i64) = sqlx::query_as("SELECT chain_nonce::text, deadline FROM payout_batches WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, (batch_nonce(id, 0).to_string(), 1_700_000_600));
}
