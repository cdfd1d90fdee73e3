//! The operator's rehearsal (issue 44), as `ops/bsc-testnet.md` tells it, on an anvil with BSC testnet's chain id
//! (97) that is **not** declared a development chain: every key a keystore of its own (anvil's accounts only stand in
//! for the testnet faucet), a Safe v1.4.1 (from npm) as the contract's admin, and the documented commands run as
//! release binaries are: `referral-deploy` (dry run, then for real), `referral-deploy safe-batch` (the batch executed
//! by the Safe's owners, as the Safe's interface would), `referral-asset create`, `preflight`; then the signer, the
//! API, the listener and the reconciler from their configuration files; a member registers from their own wallet, the
//! admin pays out through the API, the reconciler balances. What the rehearsal first let through is refused or paged:
//! a token as admin, a `start_block` after the deployment, an operator left out of the configuration (the preflight
//! lists what it skipped), anvil's key as the operator, a wrong keystore passphrase (named), the Safe's scheduled
//! change (paged), a first run with a long history before the deployment (no lag page).

use std::{path::Path, process::Command};

use alloy::{
    network::EthereumWallet,
    node_bindings::Anvil,
    primitives::{Address, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use anvil_tests::{
    api::{ApiClient, pay, wait_for, wallet_provider},
    services::{Service, WorkDir, free_port, listener_config, service_binary, wait_healthy},
};
use serde_json::{Value, json};

use crate::{BNB, LIMIT};

const CHAIN: u64 = 97;
const PASSPHRASE: &str = "rehearsal passphrase";

/// One role's key, in a keystore of its own (`cast wallet new`).
struct RoleKey {
    key: PrivateKeySigner,
    keystore: std::path::PathBuf,
}

fn keystore(dir: &WorkDir, name: &str) -> eyre::Result<RoleKey> {
    let key = PrivateKeySigner::random();
    PrivateKeySigner::encrypt_keystore(
        &dir.path,
        &mut rand::thread_rng(),
        key.to_bytes(),
        PASSPHRASE,
        Some(&format!("{name}.json")),
    )?;
    Ok(RoleKey { key, keystore: dir.path.join(format!("{name}.json")) })
}

/// Runs release binary `name` (as the tests built it) to its end: (exit code, stdout and stderr).
fn run(dir: &Path, name: &str, args: &[&str], envs: &[(&str, &str)]) -> eyre::Result<(i32, String)> {
    let out = Command::new(service_binary(name)?).current_dir(dir).args(args).envs(envs.iter().copied()).output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Ok(anvil_tests::process::code_and_text(out.status, text))
}

fn addr(a: Address) -> String {
    a.to_checksum(None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_goes_live_on_chain_97_from_the_documented_commands() -> eyre::Result<()> {
    let dir = WorkDir::new("rehearsal")?;
    let anvil = Anvil::new().path(abi::toolchain::foundry_binary("anvil")).chain_id(CHAIN).block_time(1).try_spawn()?;
    let rpc = anvil.endpoint();
    // The testnet faucet: anvil's account 9 funds the keys, deploys the test USDT and creates the Safe (as the Safe's
    // interface would); it holds no role.
    let faucet: PrivateKeySigner = anvil.keys()[9].clone().into();
    let chain: DynProvider =
        ProviderBuilder::new().wallet(EthereumWallet::from(faucet.clone())).connect_http(anvil.endpoint_url()).erased();
    // A long history before the deployment: the reconciler's first run must not count it as listener lag.
    chain.anvil_mine(Some(300), None).await?;

    // 1. Keys and a Safe.
    let [deployer, operator, treasurer, pauser, signer] =
        ["deployer", "operator", "treasurer", "pauser", "signer"].map(|n| keystore(&dir, n).expect("keystore"));
    let owners: Vec<PrivateKeySigner> = (0..3).map(|_| PrivateKeySigner::random()).collect();
    let (staff, root, member) = (PrivateKeySigner::random(), PrivateKeySigner::random(), PrivateKeySigner::random());
    // Every owner may be the one who sends the Safe's transaction (the lowest address of those who sign).
    let funded = [deployer.key.address(), operator.key.address(), member.address()];
    for who in funded.into_iter().chain(owners.iter().map(|o| o.address())) {
        chain.anvil_set_balance(who, U256::from(100 * BNB)).await?;
    }
    let usdt = *abi::TestUSDT::deploy(&chain).await?.address();
    let second_token = *abi::TestUSDT::deploy(&chain).await?.address();
    let net = deploy::network::Network::evm(&rpc)?;
    let owner_addresses: Vec<Address> = owners.iter().map(|o| o.address()).collect();
    let safe = anvil_tests::safe::deploy_safe(&net, &faucet, &owner_addresses, 2).await?;
    let multi_send = anvil_tests::safe::deploy_multi_send(&net, &faucet).await?;

    // 2. Deploy: a token as the admin is refused and sends nothing; the dry run sends nothing; the real run deploys.
    let deploy_args = |admin: Address, dry: bool| {
        let mut args: Vec<String> = [
            "--profile",
            "bsc-testnet",
            "--rpc-url",
            &rpc,
            "--admin",
            &addr(admin),
            "--signer",
            &addr(signer.key.address()),
            "--operator",
            &addr(operator.key.address()),
            "--treasurer",
            &addr(treasurer.key.address()),
            "--pauser",
            &addr(pauser.key.address()),
            "--usdt",
            &addr(usdt),
            "--deployer-keystore",
            deployer.keystore.to_str().expect("utf-8"),
            "--spec",
            "chains.toml",
            "--record",
            "deployments/bsc-testnet.json",
        ]
        .map(String::from)
        .to_vec();
        if dry {
            args.push("--dry-run".into());
        }
        args
    };
    let envs = [("DEPLOYER_KEYSTORE_PASSPHRASE", PASSPHRASE)];
    let nonce = chain.get_transaction_count(deployer.key.address()).await?;
    let args = deploy_args(usdt, false);
    let (code, out) = run(&dir.path, "referral-deploy", &args.iter().map(String::as_str).collect::<Vec<_>>(), &envs)?;
    assert_ne!(code, 0, "a token as the admin: {out}");
    assert!(out.contains("Safe"), "says the admin must be a Safe: {out}");
    assert_eq!(chain.get_transaction_count(deployer.key.address()).await?, nonce, "nothing sent");
    let args = deploy_args(safe, true);
    let (code, out) = run(&dir.path, "referral-deploy", &args.iter().map(String::as_str).collect::<Vec<_>>(), &envs)?;
    assert_eq!(code, 0, "dry run: {out}");
    assert_eq!(chain.get_transaction_count(deployer.key.address()).await?, nonce, "a dry run sends nothing");
    let args = deploy_args(safe, false);
    let (code, out) = run(&dir.path, "referral-deploy", &args.iter().map(String::as_str).collect::<Vec<_>>(), &envs)?;
    assert_eq!(code, 0, "deploy: {out}");
    let record: Value = serde_json::from_str(&std::fs::read_to_string(dir.path.join("deployments/bsc-testnet.json"))?)?;
    assert_eq!(record["status"], "complete", "{record}");
    let settlement: Address = record["settlement"].as_str().expect("settlement").parse()?;
    let deploy_block = record["deploy_block"].as_u64().expect("deploy block");
    let spec_text = std::fs::read_to_string(dir.path.join("chains.toml"))?;
    assert!(spec_text.contains(&format!("start_block = {deploy_block}")), "{spec_text}");

    // 3. The Safe's changes through the exported Transaction Builder file: the owners execute it (2 of 3).
    let (code, out) = run(
        &dir.path,
        "referral-deploy",
        &[
            "safe-batch",
            "--record",
            "deployments/bsc-testnet.json",
            "--rpc-url",
            &rpc,
            "--schedule-token",
            &addr(second_token),
            "--schedule-push-gas",
            "10000",
            "100000",
            "--out",
            "batch.json",
        ],
        &[],
    )?;
    assert_eq!(code, 0, "safe-batch: {out}");
    let batch: Value = serde_json::from_str(&std::fs::read_to_string(dir.path.join("batch.json"))?)?;
    let calls: Vec<(Address, Bytes)> = batch["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .map(|t| (t["to"].as_str().unwrap().parse().unwrap(), t["data"].as_str().unwrap().parse().unwrap()))
        .collect();
    assert_eq!(calls.len(), 2, "{batch}");
    deploy::safe::exec_batch(&net, safe, &owners[..2], multi_send, &calls).await?;
    let pending = abi::Settlement::new(settlement, &chain).pendingChanges().call().await?;
    assert_eq!(pending.len(), 2, "both changes scheduled, waiting the delay");

    // 4. The services' configuration files, secrets from the environment or files.
    let db = ledger::db::ScratchDatabase::create("rehearsal").await?;
    let db_name = db.name().to_owned();
    let database_url = anvil_tests::services::database_url(&db_name)?;
    let caller_secret = format!("rehearsal-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let signer_port = free_port()?;
    let secret_file = dir.write("caller-secret", &caller_secret)?;
    dir.write(
        "signer.toml",
        &format!(
            r#"[server]
bind = "127.0.0.1:{signer_port}"
[store]
path = "{store}"
[key]
keystore = "{keystore}"
passphrase = {{ env = "SIGNER_KEYSTORE_PASSPHRASE" }}
[auth]
callers = [{{ id = "backend", secret = {{ file = "{secret_file}" }} }}]
[policy]
default_ttl_secs = 900
max_deadline_horizon_secs = 3600
max_batch_entries = 500
[[policy.chains]]
chain_id = {CHAIN}
contracts = ["{settlement}"]
treasury_recipients = ["{safe}"]
node = {{ rpc_url = "{rpc}", confirmations = 5 }}
[[policy.chains.assets]]
token = "0x0000000000000000000000000000000000000000"
per_payload_cap = "1000000000000000000000"
per_batch_cap = "50000000000000000000000"
daily_outflow_cap = "100000000000000000000000"
[[policy.chains.assets]]
token = "{usdt}"
per_payload_cap = "1000000000"
per_batch_cap = "50000000000"
daily_outflow_cap = "100000000000"
"#,
            store = dir.path.join("signer.sqlite").display(),
            keystore = signer.keystore.display(),
            secret_file = secret_file.display(),
        ),
    )?;
    let api_port = free_port()?;
    let backend_toml = dir.write(
        "backend.toml",
        &format!(
            r#"chain_spec = "chains.toml"
[application]
host = "127.0.0.1"
port = {api_port}
[database]
url = "{database_url}"
max_connections = 5
[redis]
url = "redis://127.0.0.1:6379"
key_prefix = "{db_name}"
[auth]
jwt_secret = "rehearsal-jwt-secret-{db_name}-0123456789"
domain = "localhost:{api_port}"
uri = "http://localhost:{api_port}"
statement = "Sign in to the referral platform."
evm_chain_id = {CHAIN}
tron_chain_id = 3448148188
nonce_ttl_secs = 300
access_ttl_secs = 900
refresh_ttl_secs = 3600
admins = ["{staff}"]
[signer]
url = "http://127.0.0.1:{signer_port}"
caller_id = "backend"
caller_secret = "{caller_secret}"
"#,
            staff = addr(staff.address()),
        ),
    )?;
    let backend_toml = backend_toml.to_str().expect("utf-8").to_owned();
    let operator_chains = |keystore: &Path, passphrase: &str| {
        format!(
            r#"[{{ chain_id = {CHAIN}, operator_keystore = "{}", operator_keystore_passphrase = "{passphrase}" }}]"#,
            keystore.display()
        )
    };
    let chains = operator_chains(&operator.keystore, PASSPHRASE);

    // 5. The assets, with the API's configuration: decimals read from the tokens; BNB on the plan's defaults in the
    // coin's unit (a thousandth of a BNB: 0.02 a registration, never 20), USDT from a parameter file in USDT, as
    // backend/PLAN-PARAMS.md has the operator write it (`referral-asset params`, edited).
    let asset = |token: &str, extra: &[&str]| {
        let root = addr(root.address());
        let mut args = vec!["create", "--chain-id", "97", "--token", token, "--genesis", &root, "--plan", "auto_pool"];
        args.extend_from_slice(extra);
        run(&dir.path, "referral-asset", &args, &[("APP_CONFIG", &backend_toml)])
    };
    let (code, out) = asset("native", &[])?;
    assert_eq!(code, 0, "referral-asset create native: {out}");
    let created: Value = serde_json::from_str(out.lines().last().unwrap_or_default())?;
    assert_eq!((created["asset"]["symbol"].as_str(), created["asset"]["decimals"].as_u64()), (Some("BNB"), Some(18)));
    assert_eq!(created["asset"]["params"]["registration_fee"], (20 * BNB / 1000).to_string(), "{created}");
    assert_eq!(created["params_file"]["registration_fee"], "0.02", "{created}");
    let (code, template) =
        run(&dir.path, "referral-asset", &["params", "--plan", "auto_pool", "--decimals", "6"], &[])?;
    assert_eq!(code, 0, "{template}");
    let mut file: Value = serde_json::from_str(&template)?;
    assert_eq!((file["amounts_in"].as_str(), file["registration_fee"].as_str()), (Some("token"), Some("20")));
    file["direct_amount"] = "17.5".into();
    let params = dir.path.join("usdt-plan.json");
    file.as_object_mut().expect("an object").remove("amounts_in");
    std::fs::write(&params, file.to_string())?;
    let (code, out) = asset(&addr(usdt), &["--params", params.to_str().unwrap(), "--dry-run"])?;
    assert_eq!(code, 1, "a file that does not say its units is refused: {out}");
    assert!(out.contains("the parameter file must say what its amounts count in"), "{out}");
    file["amounts_in"] = "token".into();
    std::fs::write(&params, file.to_string())?;
    let (code, out) = asset(&addr(usdt), &["--params", params.to_str().unwrap()])?;
    assert_eq!(code, 0, "referral-asset create usdt: {out}");
    let created: Value = serde_json::from_str(out.lines().last().unwrap_or_default())?;
    assert_eq!((created["asset"]["symbol"].as_str(), created["asset"]["decimals"].as_u64()), (Some("USDT"), Some(6)));
    let params = &created["asset"]["params"];
    assert_eq!(
        (params["registration_fee"].as_str(), params["direct_amount"].as_str()),
        (Some("20000000"), Some("17500000"))
    );

    // 6. The signer, then the preflight: a pass, and each mistake caught.
    let signer_envs = [("SIGNER_KEYSTORE_PASSPHRASE", PASSPHRASE)];
    let config = dir.path.join("signer.toml");
    let mut signer_service =
        Service::start(&dir, "signer", "signer", &["--config", config.to_str().unwrap()], &signer_envs)?;
    wait_healthy(&format!("http://127.0.0.1:{signer_port}/health"), &mut signer_service, LIMIT).await?;
    let preflight = |chains: &str| {
        run(&dir.path, "preflight", &[], &[("APP_CONFIG", backend_toml.as_str()), ("APP_CHAINS", chains)])
    };
    let (code, out) = preflight(&chains)?;
    assert_eq!(code, 0, "preflight: {out}");
    assert!(out.contains("preflight: pass"), "{out}");
    // No operator configured: the operator's checks are listed as skipped, with why.
    let (_, out) = preflight("[]")?;
    assert!(out.contains(&format!("SKIPPED chain {CHAIN} operator")), "{out}");
    // anvil's account 0 as the operator of a chain not declared a development one: refused.
    let anvil_key = alloy::hex::encode_prefixed(anvil.keys()[0].to_bytes());
    let (code, out) = preflight(&format!(
        r#"[{{ chain_id = {CHAIN}, operator_key = "{anvil_key}", insecure_operator_key = true }}]"#
    ))?;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("well-known development account #0"), "{out}");
    // A wrong passphrase names the keystore.
    let (code, out) = preflight(&operator_chains(&operator.keystore, "wrong"))?;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains(&operator.keystore.display().to_string()), "{out}");
    // A start_block after the deployment block.
    let late_spec =
        spec_text.replace(&format!("start_block = {deploy_block}"), &format!("start_block = {}", deploy_block + 1));
    std::fs::write(dir.path.join("chains-late.toml"), &late_spec)?;
    let late_toml = dir.write(
        "backend-late.toml",
        &std::fs::read_to_string(&backend_toml)?
            .replace("chain_spec = \"chains.toml\"", "chain_spec = \"chains-late.toml\""),
    )?;
    let (code, out) =
        run(&dir.path, "preflight", &[], &[("APP_CONFIG", late_toml.to_str().unwrap()), ("APP_CHAINS", &chains)])?;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("start_block"), "{out}");

    // 7. The API, the listener and the reconciler.
    let mut backend =
        Service::start(&dir, "backend", "backend", &[], &[("APP_CONFIG", &backend_toml), ("APP_CHAINS", &chains)])?;
    let api_url = format!("http://127.0.0.1:{api_port}");
    wait_healthy(&format!("{api_url}/health"), &mut backend, LIMIT).await?;
    let spec_path = dir.path.join("chains.toml");
    let listener_toml =
        dir.write("listener.toml", &listener_config(&database_url, &spec_path, CHAIN, "poll_interval_ms = 200"))?;
    let _listener = Service::start(&dir, "listener", "listener", &[listener_toml.to_str().unwrap()], &[])?;
    let reconciler_toml = dir.write(
        "reconciler.toml",
        &format!(
            "database_url = \"{database_url}\"\ninterval_secs = 1\nchain_spec = \"{}\"\n\n[[chains]]\nchain_id = {CHAIN}\n\
             operator = \"{}\"\n",
            spec_path.display(),
            addr(operator.key.address())
        ),
    )?;
    let _reconciler = Service::start(&dir, "reconciler", "reconciler", &[reconciler_toml.to_str().unwrap()], &[])?;
    let pool = db.pool.clone();

    // 8. A member registers in BNB from their own wallet, under the root wallet; the staff pays out.
    let api = ApiClient::new(&api_url);
    let member_token = api.sign_in(&member).await?;
    let payment = api.register_payload(&member_token, 1, root.address()).await?;
    pay(&wallet_provider(&rpc, &member)?, &payment).await?;
    wait_for("the member active in the ledger", LIMIT, || async {
        Ok(api.standing(&member_token, 1).await?.filter(|s| s["status"] == "active"))
    })
    .await?;
    let staff_token = api.sign_in(&staff).await?;
    let built = api.post("/v1/admin/payouts/batches", Some(&staff_token), json!({ "asset_id": 1 })).await?;
    let built = built.ok("build")?;
    let id = built["id"].as_i64().expect("batch id");
    let root_before = chain.get_balance(root.address()).await?;
    let total: U256 = built["total"]["base"].as_str().expect("total").parse()?;
    api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(&staff_token), json!({})).await?.ok("sign")?;
    let sent = api.post(&format!("/v1/admin/payouts/batches/{id}/submit"), Some(&staff_token), json!({})).await?;
    let sent = sent.ok("submit")?;
    assert_eq!(sent["outcome"], "sent", "{sent}");
    wait_for("the batch executed and settled", LIMIT, || async {
        let view = api.get(&format!("/v1/admin/payouts/batches/{id}"), Some(&staff_token)).await?.ok("batch")?;
        Ok((view["status"] == "executed").then_some(view))
    })
    .await?;
    // The root wallet (genesis) is the only one owed: its direct reward and what its pool node earned.
    assert!(total >= U256::from(18 * BNB / 1000), "{built}");
    assert_eq!(chain.get_balance(root.address()).await? - root_before, total, "the root received the batch");

    // 9. The reconciler balances custody and the ledger, pages the Safe's scheduled changes, and no lag.
    let head = chain.get_block_number().await?;
    let variance: String = wait_for("a reconciliation after the payout", LIMIT, || async {
        Ok(sqlx::query_as::<_, (i64, String)>(
            "SELECT block_number, variance::text FROM reconciler_results WHERE token = $1 ORDER BY run_id DESC LIMIT 1",
        )
        .bind(Address::ZERO.as_slice())
        .fetch_optional(&pool)
        .await?
        .filter(|(b, _)| *b as u64 + 10 >= head)
        .map(|(_, v)| v))
    })
    .await?;
    assert_eq!(variance, "0");
    let firing: Vec<String> =
        sqlx::query_scalar("SELECT dedup_key FROM reconciler_firing ORDER BY dedup_key").fetch_all(&pool).await?;
    assert_eq!(
        firing.iter().filter(|k| k.starts_with("pending_change")).count(),
        2,
        "each scheduled change pages: {firing:?}"
    );
    assert!(
        !firing.iter().any(|k| k.starts_with("listener_lag")),
        "no lag counted from before the deployment: {firing:?}"
    );
    Ok(())
}
