//! The operator's rehearsal (issue 44), as `ops/bsc-testnet.md` tells it, on an anvil with BSC testnet's chain id
//! (97) that is **not** declared a development chain: every key a keystore of its own (anvil's accounts only stand in
//! for the testnet faucet), a Safe v1.4.1 (from npm) as the contract's admin, and the documented commands run as
//! release binaries are: `referral-deploy` (dry run, then for real), `referral-deploy safe-batch` (the batch executed
//! by the Safe's owners, as the Safe's interface would), `referral-asset create`, `preflight`; then the signer (its key
//! made by the key ceremony in a SoftHSM2 token), the API, the notifier, the listener and the reconciler, each from a
//! copy of its shipped example file (`signer/signer.production.example.toml`, `backend/configuration.toml`,
//! `listener/listener.example.toml`, `reconciler/reconciler.example.toml`) with only its placeholders filled as the
//! guides say and its secrets in the environment or in files (issue 67); a member registers from their own wallet,
//! two staff wallets approve a payout the signer checks, the proof of solvency's commitment lands on chain and the
//! reconciler balances. What the rehearsal first let through is refused or paged:
//! a token as admin, a `start_block` after the deployment, an operator left out of the configuration (the preflight
//! lists what it skipped), anvil's key as the operator, a wrong keystore passphrase (named), the Safe's scheduled
//! change (paged), a first run with a long history before the deployment (no lag page).

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
};

use alloy::{
    network::EthereumWallet,
    node_bindings::Anvil,
    primitives::{Address, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use anvil_tests::{
    api::{ApiClient, pay, wait_for, wallet_provider},
    mail::smtp_port,
    services::{Service, WorkDir, free_port, service_binary, wait_healthy},
    webhook::WebhookInbox,
};
use serde_json::{Value, json};

use crate::{
    BNB, LIMIT,
    hsm::{Token, module},
};

const CHAIN: u64 = 97;
const PASSPHRASE: &str = "rehearsal passphrase";
/// Blocks between the proof of solvency's epochs (anvil mines one a second); the example's 1,200 is an hour of BSC's.
const EPOCH_BLOCKS: i64 = 10;

/// A shipped example or template file as an operator copies it: every table and key as shipped, the values a guide
/// says to fill in set by dotted path (a number indexes an array; a missing table, one the file has commented out, is
/// created as uncommenting it would), and written only when no placeholder (`…`, `REPLACE_ME`) is left.
struct Example {
    shipped: &'static str,
    table: toml::Table,
}

impl Example {
    fn open(shipped: &'static str) -> eyre::Result<Example> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(shipped);
        Ok(Example { shipped, table: std::fs::read_to_string(path)?.parse()? })
    }

    fn slot<'a>(table: &'a mut toml::Table, path: &str) -> &'a mut toml::Value {
        let mut keys = path.split('.');
        let first = keys.next().expect("a key");
        let mut slot = table.entry(first).or_insert_with(|| toml::Table::new().into());
        for key in keys {
            slot = match (slot, key.parse::<usize>()) {
                (toml::Value::Array(items), Ok(i)) => items.get_mut(i).unwrap_or_else(|| panic!("{path}: no item {i}")),
                (toml::Value::Table(t), _) => t.entry(key).or_insert_with(|| toml::Table::new().into()),
                (other, _) => panic!("{path}: {key} under {other}"),
            };
        }
        slot
    }

    fn set(&mut self, path: &str, value: impl Into<toml::Value>) -> &mut Self {
        *Self::slot(&mut self.table, path) = value.into();
        self
    }

    /// `value`, a TOML value written as in the file (an array of tables, say).
    fn set_toml(&mut self, path: &str, value: &str) -> &mut Self {
        let parsed: toml::Table = format!("v = {value}").parse().expect("a TOML value");
        self.set(path, parsed["v"].clone())
    }

    /// The value at `path` as shipped (a string as itself); reading creates nothing.
    fn get(&self, path: &str) -> String {
        let mut value = &toml::Value::Table(self.table.clone());
        for key in path.split('.') {
            value = match key.parse::<usize>() {
                Ok(i) if value.is_array() => &value[i],
                _ => value.get(key).unwrap_or_else(|| panic!("{}: no {path}", self.shipped)),
            };
        }
        value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string())
    }

    fn write(&self, dir: &WorkDir, name: &str) -> eyre::Result<PathBuf> {
        let text = toml::to_string(&self.table)?;
        for placeholder in ["…", "REPLACE_ME"] {
            eyre::ensure!(!text.contains(placeholder), "{}: a {placeholder} left unfilled:\n{text}", self.shipped);
        }
        dir.write(name, &text)
    }
}

/// A secret in a file readable by its owner alone, as the examples' `{ file = … }` secrets are kept.
fn secret_file(dir: &WorkDir, name: &str, secret: &str) -> eyre::Result<PathBuf> {
    let path = dir.write(name, secret)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(path)
}

/// Environment pairs as `Command::envs` takes them.
fn app_env_ref(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn path_text(path: &Path) -> String {
    path.to_str().expect("a UTF-8 path").to_owned()
}

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

    // 1. Keys and a Safe; the signer's key made by the key ceremony in the HSM the signer's example names (a SoftHSM2
    // token of the test's own), under the example's label.
    let [deployer, operator, treasurer, pauser] =
        ["deployer", "operator", "treasurer", "pauser"].map(|n| keystore(&dir, n).expect("keystore"));
    let mut signer_toml = Example::open("signer/signer.production.example.toml")?;
    let token = Token::new(&dir)?;
    let signer_address = token.keygen(&signer_toml.get("key.pkcs11.key_label"))?;
    let owners: Vec<PrivateKeySigner> = (0..3).map(|_| PrivateKeySigner::random()).collect();
    let (staff, root, member) = (PrivateKeySigner::random(), PrivateKeySigner::random(), PrivateKeySigner::random());
    // The second person of every outflow: two approver wallets, as the signer's [policy.approvals] lists them.
    let approvers = [PrivateKeySigner::random(), PrivateKeySigner::random()];
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
            &addr(signer_address),
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

    // 4. The services' configuration files: each a copy of its shipped example with the placeholders filled as the
    // guides say; every secret in the environment or in a file of mode 0600.
    let db = ledger::db::ScratchDatabase::create("rehearsal").await?;
    let db_name = db.name().to_owned();
    let database_url = anvil_tests::services::database_url(&db_name)?;
    let caller_secret = format!("rehearsal-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let treasury_secret = format!("rehearsal-treasury-secret-of-at-least-32-bytes-{}", std::process::id());
    let signer_port = free_port()?;
    let signer_db = dir.path.join("signer.sqlite");
    signer_toml
        .set("server.bind", format!("127.0.0.1:{signer_port}"))
        .set("store.path", path_text(&signer_db))
        .set("key.pkcs11.module", path_text(&module()))
        .set("key.pkcs11.address", addr(signer_address))
        .set("key.pkcs11.pin.file", path_text(&secret_file(&dir, "signer-hsm-pin", &token.pin)?))
        .set("auth.callers.1.secret.file", path_text(&secret_file(&dir, "signer-caller-treasury", &treasury_secret)?))
        .set("policy.chains.0.chain_id", CHAIN as i64)
        .set("policy.chains.0.contracts", vec![addr(settlement)])
        .set("policy.chains.0.treasury_recipients", vec![addr(safe)])
        .set("policy.chains.0.node.rpc_url", rpc.clone())
        .set("policy.chains.0.assets.1.token", addr(usdt))
        .set("policy.approvals.proposers", vec![addr(staff.address())])
        .set("policy.approvals.approvers", approvers.iter().map(|a| addr(a.address())).collect::<Vec<_>>());
    // The test USDT has 6 decimals where BSC's has 18: the example's USDT caps, in base units, scaled to it.
    for cap in ["per_payload_cap", "per_batch_cap", "daily_outflow_cap", "daily_root_fall_cap"] {
        let path = format!("policy.chains.0.assets.1.{cap}");
        let cap: U256 = signer_toml.get(&path).parse()?;
        signer_toml.set(&path, (cap / U256::from(10u64.pow(12))).to_string());
    }
    let signer_config = signer_toml.write(&dir, "signer.toml")?;
    let api_port = free_port()?;
    let api_url = format!("http://127.0.0.1:{api_port}");
    let mut backend_toml = Example::open("backend/configuration.toml")?;
    backend_toml
        .set("chain_spec", "chains.toml")
        .set("application.port", api_port as i64)
        .set("redis.key_prefix", db_name.clone())
        .set("auth.domain", format!("localhost:{api_port}"))
        .set("auth.uri", format!("http://localhost:{api_port}"))
        .set("auth.evm_chain_id", CHAIN as i64)
        .set("auth.admins", vec![addr(staff.address())])
        .set("signer.url", format!("http://127.0.0.1:{signer_port}"))
        .set("signer.caller_id", "backend")
        .set("signer.treasury_caller.caller_id", "treasury")
        .set("solvency.interval_secs", 1)
        .set("solvency.idle_secs", 5)
        .set_toml(
            "solvency.chains",
            &format!("[{{ chain_id = {CHAIN}, interval_blocks = {EPOCH_BLOCKS}, payout_gap_blocks = 2 }}]"),
        )
        .set("notifications.public_url", api_url.clone())
        .set_toml(
            "notifications.smtp",
            &format!(
                r#"{{ host = "127.0.0.1", port = {}, tls = "none", from = "Rehearsal <notices@rehearsal.test>" }}"#,
                smtp_port()
            ),
        );
    let backend_toml = path_text(&backend_toml.write(&dir, "backend.toml")?);
    let operator_chains = |keystore: &Path, passphrase: &str| {
        format!(
            r#"[{{ chain_id = {CHAIN}, operator_keystore = "{}", operator_keystore_passphrase = "{passphrase}" }}]"#,
            keystore.display()
        )
    };
    let chains = operator_chains(&operator.keystore, PASSPHRASE);
    let salt_key = alloy::hex::encode(rand::random::<[u8; 32]>());
    let notifications_key = alloy::hex::encode(rand::random::<[u8; 32]>());
    let jwt_secret = format!("rehearsal-jwt-secret-{db_name}-0123456789");
    // The API's secrets, as the configuration template names their variables; every tool reading the file gets them.
    let app_env = |chains: &str| -> Vec<(String, String)> {
        [
            ("APP_CONFIG", backend_toml.as_str()),
            ("APP_DATABASE__URL", &database_url),
            ("APP_AUTH__JWT_SECRET", &jwt_secret),
            ("APP_SIGNER__CALLER_SECRET", &caller_secret),
            ("APP_SIGNER__TREASURY_CALLER__CALLER_SECRET", &treasury_secret),
            ("APP_SOLVENCY__SALT_KEY", &salt_key),
            ("APP_NOTIFICATIONS__KEY", &notifications_key),
            ("APP_CHAINS", chains),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec()
    };
    let api_env = app_env(&chains);

    // 5. The assets, with the API's configuration: decimals read from the tokens; BNB on the plan's defaults in the
    // coin's unit (a thousandth of a BNB: 0.02 a registration, never 20), USDT from a parameter file in USDT, as
    // backend/PLAN-PARAMS.md has the operator write it (`referral-asset params`, edited).
    let asset = |token: &str, extra: &[&str]| {
        let root = addr(root.address());
        let mut args = vec!["create", "--chain-id", "97", "--token", token, "--genesis", &root, "--plan", "auto_pool"];
        args.extend_from_slice(extra);
        run(&dir.path, "referral-asset", &args, &app_env_ref(&api_env))
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
    let signer_envs =
        [("SOFTHSM2_CONF", path_text(&token.conf)), ("SIGNER_CALLER_BACKEND_SECRET", caller_secret.clone())];
    let signer_envs = signer_envs.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>();
    let mut signer_service =
        Service::start(&dir, "signer", "signer", &["--config", &path_text(&signer_config)], &signer_envs)?;
    wait_healthy(&format!("http://127.0.0.1:{signer_port}/health"), &mut signer_service, LIMIT).await?;
    let preflight = |chains: &str| run(&dir.path, "preflight", &[], &app_env_ref(&app_env(chains)));
    // The example's node counts mainnet's 15 confirmations; the testnet's spec (the deploy tool's) 5: the API would
    // build every commitment as of a block this signer refuses. The preflight names it; the guide's value passes.
    let spec_confirmations = 5;
    assert!(spec_text.contains(&format!("confirmations = {spec_confirmations}")), "{spec_text}");
    let (code, out) = preflight(&chains)?;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains(&format!("confirmations to at most {spec_confirmations}")), "{out}");
    signer_toml.set("policy.chains.0.node.confirmations", spec_confirmations).write(&dir, "signer.toml")?;
    signer_service.restart()?;
    wait_healthy(&format!("http://127.0.0.1:{signer_port}/health"), &mut signer_service, LIMIT).await?;
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
    let mut late_env = app_env(&chains);
    late_env[0].1 = path_text(&late_toml);
    let (code, out) = run(&dir.path, "preflight", &[], &app_env_ref(&late_env))?;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("start_block"), "{out}");

    // 7. The API, the notifier, the listener and the reconciler; the last two from their examples, their database and
    // metrics addresses in the environment, their pages to the operator's Alertmanager and PagerDuty (an inbox here).
    let mut backend = Service::start(&dir, "backend", "backend", &[], &app_env_ref(&api_env))?;
    wait_healthy(&format!("{api_url}/health"), &mut backend, LIMIT).await?;
    let notifier_metrics = format!("127.0.0.1:{}", free_port()?);
    let mut notifier_env = app_env_ref(&api_env);
    notifier_env.push(("NOTIFIER_METRICS_ADDRESS", &notifier_metrics));
    let mut notifier = Service::start(&dir, "notifier", "referral-notifier", &[], &notifier_env)?;
    wait_healthy(&format!("http://{notifier_metrics}/health"), &mut notifier, LIMIT).await?;
    let spec_path = path_text(&dir.path.join("chains.toml"));
    let mut listener_toml = Example::open("listener/listener.example.toml")?;
    listener_toml
        .set("chain_spec", spec_path.clone())
        .set("chains.0.chain_id", CHAIN as i64)
        .set("chains.0.poll_interval_ms", 200);
    let listener_toml = path_text(&listener_toml.write(&dir, "listener.toml")?);
    let listener_metrics = format!("127.0.0.1:{}", free_port()?);
    let listener_env =
        [("LISTENER_DATABASE_URL", database_url.as_str()), ("LISTENER_METRICS_ADDRESS", &listener_metrics)];
    let mut listener = Service::start(&dir, "listener", "listener", &[&listener_toml], &listener_env)?;
    wait_healthy(&format!("http://{listener_metrics}/health"), &mut listener, LIMIT).await?;
    let inbox = WebhookInbox::start().await?;
    let mut reconciler_toml = Example::open("reconciler/reconciler.example.toml")?;
    reconciler_toml
        .set("interval_secs", 1)
        .set("chain_spec", spec_path)
        .set("chains.0.chain_id", CHAIN as i64)
        .set("chains.0.operator", addr(operator.key.address()))
        .set("chains.0.solvency_interval_blocks", EPOCH_BLOCKS)
        .set("sinks.0.url", format!("{}/alertmanager", inbox.url))
        .set("sinks.1.url", format!("{}/pagerduty", inbox.url))
        .set("sinks.1.routing_key", "rehearsal-routing-key")
        .set("sinks.1.source", "rehearsal");
    let reconciler_toml = path_text(&reconciler_toml.write(&dir, "reconciler.toml")?);
    let reconciler_metrics = format!("127.0.0.1:{}", free_port()?);
    let reconciler_env = [
        ("RECONCILER_DATABASE_URL", database_url.as_str()),
        ("RECONCILER_METRICS_ADDRESS", &reconciler_metrics),
        ("RECONCILER_SOLVENCY_SALT_KEY", &salt_key),
    ];
    let mut reconciler = Service::start(&dir, "reconciler", "reconciler", &[&reconciler_toml], &reconciler_env)?;
    wait_healthy(&format!("http://{reconciler_metrics}/health"), &mut reconciler, LIMIT).await?;
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
    // The admin wallet grants the approver role to the first approver (the first approver is granted by the admin
    // alone), proposes the batch; the approver approves it; the signer checks both wallets' signatures itself.
    let staff_token = api.sign_in(&staff).await?;
    let grant = json!({
        "action": "grant", "wallet": addr(approvers[0].address()), "role": "approver", "reason": "rehearsal: the second person"
    });
    let change = api.post("/v1/admin/staff/changes", Some(&staff_token), grant).await?.ok("grant approver")?;
    assert_eq!(change["status"], "applied", "{change}");
    let approver_token = api.sign_in(&approvers[0]).await?;
    let built = api.post("/v1/admin/payouts/batches", Some(&staff_token), json!({ "asset_id": 1 })).await?;
    let built = built.ok("build")?;
    let id = built["id"].as_i64().expect("batch id");
    let root_before = chain.get_balance(root.address()).await?;
    let total: U256 = built["total"]["base"].as_str().expect("total").parse()?;
    // Unapproved, the signer refuses the batch: the example's [policy.approvals] holds.
    let refused = api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(&staff_token), json!({})).await?;
    assert!(refused.status >= 400, "an unapproved batch signed: {}", refused.body);
    let body = json!({ "kind": "payout_batch", "subject": id });
    let proposal = api.post("/v1/admin/authorisations", Some(&staff_token), body).await?.ok("propose")?;
    let signatures = format!("/v1/admin/authorisations/{}/signatures", proposal["id"]);
    for (key, token, action) in [(&staff, &staff_token, "propose"), (&approvers[0], &approver_token, "approve")] {
        let signature = anvil_tests::api::sign_staff_approval(key, &proposal["typed_data"][action])?;
        api.post(&signatures, Some(token), json!({ "action": action, "signature": signature })).await?.ok(action)?;
    }
    api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(&staff_token), json!({})).await?.ok("sign")?;
    let sent = api.post(&format!("/v1/admin/payouts/batches/{id}/submit"), Some(&staff_token), json!({})).await?;
    let sent = sent.ok("submit")?;
    assert_eq!(sent["outcome"], "sent", "{sent}");
    let executed = wait_for("the batch executed and settled", LIMIT, || async {
        let view = api.get(&format!("/v1/admin/payouts/batches/{id}"), Some(&staff_token)).await?.ok("batch")?;
        Ok((view["status"] == "executed").then_some(view))
    })
    .await?;
    let executed_block = executed["executed_block"].as_u64().expect("executed block");
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
    assert!(
        !firing.iter().any(|k| k.starts_with("solvency") || k.starts_with("preflight")),
        "the commitments and their sampled proofs hold, the preflight finds nothing: {firing:?}"
    );
    // The example's sinks carry the pages: both the Alertmanager and the PagerDuty entry got them.
    let pages = wait_for("the scheduled changes paged to both sinks", LIMIT, || async {
        let got = inbox.received();
        let to = |sink: &str| {
            got.iter().filter(|(p, b)| p.ends_with(sink) && b.to_string().contains("pending_change")).count()
        };
        Ok((to("alertmanager") > 0 && to("pagerduty") > 0).then_some(got.len()))
    })
    .await?;
    assert!(pages >= 2);

    // 10. The proof of solvency: with the example's kinds the signer signs the API's commitment, and an epoch after the
    // payout lands on chain: the root and total the API publishes are the contract's.
    let latest = wait_for("an epoch of the BNB asset committed after the payout", LIMIT, || async {
        let all = api.get("/v1/public/solvency", None).await?.ok("GET /v1/public/solvency")?;
        let asset = all["assets"].as_array().and_then(|a| a.iter().find(|x| x["asset_id"] == 1).cloned());
        Ok(asset
            .map(|a| a["latest"].clone())
            .filter(|l| l["as_of_block"].as_u64().is_some_and(|b| b >= executed_block)))
    })
    .await?;
    let onchain = abi::Settlement::new(settlement, &chain).latestLiabilities(Address::ZERO).call().await?;
    assert!(onchain.epoch >= latest["epoch"].as_u64().expect("epoch"), "{latest}");
    if onchain.epoch == latest["epoch"].as_u64().expect("epoch") {
        assert_eq!(onchain.root.to_string(), latest["root"].as_str().expect("root"), "{latest}");
        assert_eq!(onchain.total.to_string(), latest["total"]["base"].as_str().expect("total"), "{latest}");
    }
    assert!(onchain.custody >= U256::from(onchain.total), "custody covers what members are owed");
    for service in [&mut signer_service, &mut backend, &mut notifier, &mut listener, &mut reconciler] {
        assert!(service.running(), "{} stopped: {}", service.name, service.log_tail(20));
    }
    Ok(())
}
