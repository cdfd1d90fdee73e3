//! `referral-deploy`: deploys the Settlement contract to a real network from a profile and records it in the
//! chain spec (see the `deploy` crate); then writes the admin's later changes for its multisig to sign.
//!
//! ```text
//! referral-deploy --profile bsc-testnet --rpc-url https://… --admin <safe> --signer <key address> \
//!   --operator <address> --treasurer <address> --pauser <address> --deployer-keystore deployer.json \
//!   --spec chains.toml --record deployments/bsc-testnet.json [--dry-run]
//! referral-deploy safe-batch --record deployments/bsc-testnet.json --schedule-signer 0x… --out batch.json
//! referral-deploy tron-multisig --profile tron-nile --rpc-url … --tron-grpc-url … --owners T…,T…,T… \
//!   --threshold 2 --account-keystore admin.json
//! referral-deploy tron-admin-call --record deployments/tron-nile.json --rpc-url … --tron-grpc-url … \
//!   --schedule-signer T… --out call.json
//! referral-deploy tron-sign --tx call.json --keystore owner1.json
//! referral-deploy tron-send --tx call.json --tron-grpc-url …
//! ```
//!
//! Keys come from encrypted keystores whose passphrases are in the environment (`DEPLOYER_KEYSTORE_PASSPHRASE`,
//! `TRON_ACCOUNT_KEYSTORE_PASSPHRASE`, `TRON_OWNER_KEYSTORE_PASSPHRASE`); a raw key (`--insecure-…-key`) is for local
//! networks and rehearsals only and refused on a mainnet profile. anvil's public development keys are refused
//! everywhere.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use alloy::{
    primitives::{Address, B256},
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use clap::{Args, Parser, Subcommand};
use deploy::{
    Keys, Options, TronEndpoints,
    admin::{Action, Role},
    batch, deploy, keys, profile,
    record::{Journal, Status},
    tron_multisig, tron_wire,
};

/// Deploys the Settlement contract from a profile (bsc-mainnet, bsc-testnet, tron-mainnet, tron-nile), or — with a
/// subcommand — writes the admin's later changes for its multisig, or makes a TRON account a multisig.
#[derive(Parser, Debug)]
#[command(name = "referral-deploy", args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    deploy: DeployArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Writes the admin's changes as a Safe Transaction Builder batch file (import it in the Safe's Transaction
    /// Builder app; the owners sign it there).
    SafeBatch(SafeBatchArgs),
    /// Makes a TRON account a multi-signature account (owner and active permission over several keys), signed by
    /// its current key: the admin a TRON mainnet deployment needs.
    TronMultisig(TronMultisigArgs),
    /// Writes one admin call of a TRON deployment as an unsigned TRON transaction of its multi-signature admin
    /// (TronWeb's JSON), for its owners to sign in turn (`tron-sign`, or TronWeb's `trx.multiSign`).
    TronAdminCall(TronAdminCallArgs),
    /// Adds an owner's signature to a TRON transaction file, after printing what it does.
    TronSign(TronSignArgs),
    /// Broadcasts a TRON transaction file once its signatures carry its permission's threshold.
    TronSend(TronSendArgs),
}

#[derive(Args, Debug)]
struct DeployArgs {
    /// bsc-mainnet, bsc-testnet, tron-mainnet or tron-nile.
    #[arg(long, required = true)]
    profile: Option<String>,
    /// The network's JSON-RPC (TRON: the full node's); recorded in the chain spec.
    #[arg(long, required = true)]
    rpc_url: Option<String>,
    #[command(flatten)]
    tron: TronArgs,
    /// TRON: the Solidity node's gRPC (WalletSolidity).
    #[arg(long)]
    tron_solidity_grpc_url: Option<String>,
    /// TRON: the Solidity node's JSON-RPC.
    #[arg(long)]
    tron_solidity_rpc_url: Option<String>,
    /// The contract's admin: a Safe on mainnet (0x…), on TRON mainnet a multi-signature account (T…).
    #[arg(long, required = true)]
    admin: Option<String>,
    /// The signer service's key address.
    #[arg(long, required = true)]
    signer: Option<String>,
    /// The payout operator (OPERATOR_ROLE).
    #[arg(long, required = true)]
    operator: Option<String>,
    /// The treasurer (TREASURER_ROLE).
    #[arg(long, required = true)]
    treasurer: Option<String>,
    /// The pauser (PAUSER_ROLE).
    #[arg(long, required = true)]
    pauser: Option<String>,
    /// Another USDT than the profile's (testnets only).
    #[arg(long)]
    usdt: Option<String>,
    /// The deployer's encrypted JSON keystore (passphrase in DEPLOYER_KEYSTORE_PASSPHRASE).
    #[arg(long)]
    deployer_keystore: Option<PathBuf>,
    /// A raw hex deployer key: local networks only (refused on a mainnet profile).
    #[arg(long, env = "DEPLOYER_KEY", hide_env_values = true)]
    insecure_deployer_key: Option<String>,
    /// Seconds every change of the signer, a money role, an allowed token or the push gas waits (default: the
    /// profile's, 7 days; at least 7 days on mainnet: the members' window to leave, contracts/EXIT.md §12).
    #[arg(long)]
    delay_secs: Option<u64>,
    /// Seconds without a liability commitment (or of pause) after which anyone may open the members' exit (default:
    /// 14 days; at least 7 days on mainnet, at most 365).
    #[arg(long)]
    exit_after_secs: Option<u64>,
    /// The chain spec the deployment is appended to (created with its folder when missing).
    #[arg(long, required = true)]
    spec: Option<PathBuf>,
    /// The JSON record: written (with its folder) before the first transaction and after each step; a rerun with
    /// it finishes the deployment it describes.
    #[arg(long, required = true)]
    record: Option<PathBuf>,
    /// An upgrade: the complete record of the deployment this one replaces on the same chain. The new record names
    /// it (and those it replaced) as `previous`, so that the dApp built with it checks every contract's custody.
    #[arg(long, value_name = "RECORD")]
    replaces: Option<PathBuf>,
    /// Check and print every step; send nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args, Debug)]
struct TronArgs {
    /// TRON: the full node's gRPC (java-tron's Wallet), which the deployment sends through.
    #[arg(long)]
    tron_grpc_url: Option<String>,
    /// TRON: the environment variable holding the provider's API key (sent as TRON-PRO-API-KEY, recorded as the
    /// chain spec's api_key_env).
    #[arg(long)]
    tron_api_key_env: Option<String>,
}

impl TronArgs {
    async fn wallet(&self) -> eyre::Result<tron_wire::Wallet> {
        let url = self.tron_grpc_url.as_deref().ok_or_else(|| eyre::eyre!("--tron-grpc-url is required"))?;
        let key = match &self.tron_api_key_env {
            None => None,
            Some(name) => Some(std::env::var(name).map_err(|_| eyre::eyre!("{name} (the API key) is not set"))?),
        };
        tron_wire::wallet(url, key.as_deref()).await
    }
}

/// The admin's actions, in the order: cancellations, applications, scheduled changes (signer, roles, tokens, push
/// gas, unpause), disallowed tokens.
#[derive(Args, Debug, Default)]
struct ActionArgs {
    /// Cancel the pending change with this id (0x…, 32 bytes).
    #[arg(long, value_name = "ID")]
    cancel: Vec<String>,
    /// Apply the pending change with this id once its delay has passed.
    #[arg(long, value_name = "ID")]
    apply: Vec<String>,
    /// Schedule rotating the contract's signer to this address.
    #[arg(long, value_name = "ADDRESS")]
    schedule_signer: Option<String>,
    /// Schedule granting or revoking a money role: ROLE (OPERATOR, TREASURER or PAUSER), ACCOUNT, grant|revoke.
    #[arg(long, num_args = 3, value_names = ["ROLE", "ACCOUNT", "GRANT_OR_REVOKE"])]
    schedule_role: Vec<String>,
    /// Schedule allowing this token for registrations and retopups.
    #[arg(long, value_name = "TOKEN")]
    schedule_token: Vec<String>,
    /// Schedule new push gas caps: NATIVE TOKEN.
    #[arg(long, num_args = 2, value_names = ["NATIVE", "TOKEN"])]
    schedule_push_gas: Vec<u64>,
    /// Disallow this token at once.
    #[arg(long, value_name = "TOKEN")]
    disallow_token: Vec<String>,
    /// Schedule ending the pause after the delay (a pauser ends its own pause at once, from its own wallet).
    #[arg(long)]
    schedule_unpause: bool,
}

impl ActionArgs {
    fn actions(&self) -> eyre::Result<Vec<Action>> {
        let id = |text: &String| text.parse::<B256>().map_err(|_| eyre::eyre!("not a change id (0x + 64 hex): {text}"));
        let mut out = Vec::new();
        for c in &self.cancel {
            out.push(Action::Cancel(id(c)?));
        }
        for a in &self.apply {
            out.push(Action::Apply(id(a)?));
        }
        if let Some(signer) = &self.schedule_signer {
            out.push(Action::ScheduleSigner(address("schedule-signer", signer)?));
        }
        for triple in self.schedule_role.chunks(3) {
            let [role, account, grant] = triple else { eyre::bail!("--schedule-role ROLE ACCOUNT grant|revoke") };
            let grant = match grant.as_str() {
                "grant" => true,
                "revoke" => false,
                other => eyre::bail!("--schedule-role …: {other:?} is neither grant nor revoke"),
            };
            out.push(Action::ScheduleRole {
                role: role.parse::<Role>()?,
                account: address("schedule-role", account)?,
                grant,
            });
        }
        for token in &self.schedule_token {
            out.push(Action::ScheduleToken(address("schedule-token", token)?));
        }
        for pair in self.schedule_push_gas.chunks(2) {
            let [native, token] = pair else { eyre::bail!("--schedule-push-gas NATIVE TOKEN") };
            out.push(Action::SchedulePushGas { native: *native, token: *token });
        }
        if self.schedule_unpause {
            out.push(Action::ScheduleUnpause);
        }
        for token in &self.disallow_token {
            out.push(Action::DisallowToken(address("disallow-token", token)?));
        }
        eyre::ensure!(!out.is_empty(), "name at least one action (--schedule-signer, --apply, --cancel, …)");
        Ok(out)
    }
}

#[derive(Args, Debug)]
struct SafeBatchArgs {
    /// The deployment's record (referral-deploy's --record): its chain, contract and admin Safe.
    #[arg(long)]
    record: PathBuf,
    #[command(flatten)]
    actions: ActionArgs,
    /// The network's JSON-RPC: when given, checks that the Safe is still the contract's admin and that every change
    /// to apply or cancel is pending (and says when one to apply is not due yet).
    #[arg(long)]
    rpc_url: Option<String>,
    /// Where the batch file is written.
    #[arg(long)]
    out: PathBuf,
    /// The batch's name in the Transaction Builder.
    #[arg(long, default_value = "Settlement admin changes")]
    name: String,
}

#[derive(Args, Debug)]
struct TronMultisigArgs {
    /// tron-mainnet or tron-nile.
    #[arg(long)]
    profile: String,
    #[command(flatten)]
    tron: TronArgs,
    /// The owners' addresses (T…), comma-separated: 2 to 5.
    #[arg(long, value_delimiter = ',')]
    owners: Vec<String>,
    /// How many owners must sign (at least 2).
    #[arg(long)]
    threshold: i64,
    /// The account's current key, as an encrypted keystore (passphrase in TRON_ACCOUNT_KEYSTORE_PASSPHRASE).
    #[arg(long)]
    account_keystore: Option<PathBuf>,
    /// The account's current key in hex: rehearsals only (refused on a mainnet profile).
    #[arg(long, env = "TRON_ACCOUNT_KEY", hide_env_values = true)]
    insecure_account_key: Option<String>,
    /// Check and print; send nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args, Debug)]
struct TronAdminCallArgs {
    /// The deployment's record: its profile, contract and admin account.
    #[arg(long)]
    record: PathBuf,
    #[command(flatten)]
    tron: TronArgs,
    #[command(flatten)]
    actions: ActionArgs,
    /// Most SUN the call may burn for energy (java-tron's fee_limit).
    #[arg(long, default_value_t = 100_000_000)]
    fee_limit_sun: i64,
    /// Seconds the owners have to sign and send it (at most 24 hours, java-tron's limit).
    #[arg(long, default_value_t = 3_600)]
    expires_in_secs: u64,
    /// Where the unsigned transaction is written.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct TronSignArgs {
    /// The transaction file (signed in place).
    #[arg(long)]
    tx: PathBuf,
    /// The owner's encrypted keystore (passphrase in TRON_OWNER_KEYSTORE_PASSPHRASE).
    #[arg(long)]
    keystore: Option<PathBuf>,
    /// The owner's key in hex: rehearsals only.
    #[arg(long, env = "TRON_OWNER_KEY", hide_env_values = true)]
    insecure_key: Option<String>,
}

#[derive(Args, Debug)]
struct TronSendArgs {
    /// The signed transaction file.
    #[arg(long)]
    tx: PathBuf,
    #[command(flatten)]
    tron: TronArgs,
}

fn address(field: &str, text: &str) -> eyre::Result<Address> {
    text.parse::<Address>()
        .ok()
        .or_else(|| abi::tron::from_base58(text).ok())
        .ok_or_else(|| eyre::eyre!("--{field}: not an address: {text}"))
}

fn required<T: Clone>(field: &str, value: &Option<T>) -> eyre::Result<T> {
    value.clone().ok_or_else(|| eyre::eyre!("--{field} is required"))
}

/// A key from a keystore (passphrase in `passphrase_var`) or, where `insecure_allowed`, a raw hex key.
fn key(
    keystore: &Option<PathBuf>,
    raw: &Option<String>,
    passphrase_var: &str,
    insecure_allowed: Result<(), String>,
) -> eyre::Result<PrivateKeySigner> {
    match (keystore, raw) {
        (Some(path), None) => keys::from_keystore(path, passphrase_var),
        (None, Some(text)) => {
            insecure_allowed.map_err(|why| eyre::eyre!(why))?;
            keys::raw(text)
        }
        _ => eyre::bail!("give exactly one key: a keystore, or (rehearsals only) a raw key"),
    }
}

fn read_json(path: &Path) -> eyre::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| eyre::eyre!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| eyre::eyre!("{}: not JSON ({e})", path.display()))
}

fn write_json(path: &Path, value: &serde_json::Value) -> eyre::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
        .map_err(|e| eyre::eyre!("{}: {e}", path.display()))
}

fn complete_record(path: &Path) -> eyre::Result<Journal> {
    let journal = Journal::read(path)?.ok_or_else(|| eyre::eyre!("{}: no deployment record there", path.display()))?;
    eyre::ensure!(
        journal.status == Status::Complete && journal.settlement.is_some(),
        "{}: the deployment is not complete ({:?}): finish it first (rerun referral-deploy with this --record)",
        path.display(),
        journal.status
    );
    Ok(journal)
}

async fn run_deploy(cli: DeployArgs) -> eyre::Result<()> {
    let profile = profile(&required("profile", &cli.profile)?)?;
    let insecure = if profile.mainnet {
        Err(format!("{}: a raw deployer key is refused on mainnet: use --deployer-keystore", profile.name))
    } else {
        Ok(())
    };
    let deployer = key(&cli.deployer_keystore, &cli.insecure_deployer_key, "DEPLOYER_KEYSTORE_PASSPHRASE", insecure)?;
    let tron = match (cli.tron.tron_grpc_url, cli.tron_solidity_rpc_url) {
        (Some(grpc_url), Some(solidity_rpc_url)) => Some(TronEndpoints {
            grpc_url,
            solidity_grpc_url: cli.tron_solidity_grpc_url,
            solidity_rpc_url,
            api_key_env: cli.tron.tron_api_key_env,
        }),
        (None, None) => None,
        _ => eyre::bail!("a TRON deployment needs both --tron-grpc-url and --tron-solidity-rpc-url"),
    };
    let previous = match &cli.replaces {
        None => Vec::new(),
        Some(path) => {
            let old = complete_record(path)?.record().ok_or_else(|| eyre::eyre!("{}: not complete", path.display()))?;
            deploy::replacing(&old, profile.chain_id)?
        }
    };
    let options = Options {
        profile,
        rpc_url: required("rpc-url", &cli.rpc_url)?,
        tron,
        admin: address("admin", &required("admin", &cli.admin)?)?,
        signer: address("signer", &required("signer", &cli.signer)?)?,
        operator: address("operator", &required("operator", &cli.operator)?)?,
        treasurer: address("treasurer", &required("treasurer", &cli.treasurer)?)?,
        pauser: address("pauser", &required("pauser", &cli.pauser)?)?,
        usdt: cli.usdt.as_deref().map(|u| address("usdt", u)).transpose()?,
        delay_secs: cli.delay_secs,
        exit_after_secs: cli.exit_after_secs,
        dry_run: cli.dry_run,
        spec: required("spec", &cli.spec)?,
        record: required("record", &cli.record)?,
        development: false,
        previous,
    };
    let outcome = deploy(&options, &Keys { deployer }).await?;
    print!("{}", outcome.steps);
    if let Some(record) = outcome.record {
        println!("{}", serde_json::to_string_pretty(&record)?);
    }
    Ok(())
}

async fn run_safe_batch(args: SafeBatchArgs) -> eyre::Result<()> {
    let journal = complete_record(&args.record)?;
    let settlement = journal.settlement.expect("complete");
    eyre::ensure!(
        abi::chain::Family::of(journal.chain_id) == abi::chain::Family::Evm,
        "{}: a TRON deployment has no Safe: use tron-admin-call",
        args.record.display()
    );
    let safe = journal.admin_safe.as_ref().ok_or_else(|| {
        eyre::eyre!("{}: the admin {} is no Safe: send its calls yourself", args.record.display(), journal.admin)
    })?;
    let actions = args.actions.actions()?;
    if let Some(url) = &args.rpc_url {
        check_live(url, journal.chain_id, settlement, journal.admin, &actions).await?;
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as u64;
    let description = format!(
        "{} on {} (chain {}), Settlement {settlement}: {}",
        actions.len(),
        journal.profile,
        journal.chain_id,
        actions.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    );
    let file = batch::batch(journal.chain_id, journal.admin, settlement, &actions, &args.name, &description, now);
    write_json(&args.out, &file)?;
    println!(
        "wrote {} ({} transaction(s) for the Safe {}, {} of {} owners must sign):",
        args.out.display(),
        actions.len(),
        journal.admin,
        safe.threshold,
        safe.owners.len()
    );
    for action in &actions {
        println!("  {action}");
    }
    println!(
        "import it in the Safe's Transaction Builder (Safe{{Wallet}} → Apps → Transaction Builder → drag the file in), \
         check each call against the lines above, create the batch, collect the owners' signatures and execute it"
    );
    Ok(())
}

/// With the network at hand: the admin is still the recorded one, and every change to apply or cancel is pending.
async fn check_live(
    url: &str,
    chain_id: u64,
    settlement: Address,
    admin: Address,
    actions: &[Action],
) -> eyre::Result<()> {
    use alloy::providers::{Provider, ProviderBuilder};
    let provider = ProviderBuilder::new().connect_http(url.parse()?);
    let answered = provider.get_chain_id().await?;
    eyre::ensure!(answered == chain_id, "{url} is chain {answered}, the record's is {chain_id}");
    let contract = abi::Settlement::new(settlement, &provider);
    let current = contract.defaultAdmin().call().await?;
    eyre::ensure!(current == admin, "the contract's admin is {current} now, not the recorded {admin}");
    let pending = contract.pendingChanges().call().await?;
    let now = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await?
        .map(|b| b.header.timestamp)
        .unwrap_or_default();
    for action in actions {
        match action {
            Action::Apply(id) | Action::Cancel(id) => {
                let change = pending.iter().find(|c| c.id == *id).ok_or_else(|| {
                    eyre::eyre!(
                        "{action}: no pending change {id} (pending: {:?})",
                        pending.iter().map(|c| c.id).collect::<Vec<_>>()
                    )
                })?;
                if matches!(action, Action::Apply(_)) && change.readyAt > now {
                    println!(
                        "note: change {id} may be applied from {} (unix s), {} s from now",
                        change.readyAt,
                        change.readyAt - now
                    );
                }
            }
            _ => {
                if let Some(id) = action.change_id() {
                    eyre::ensure!(!pending.iter().any(|c| c.id == id), "{action}: it is pending already");
                }
            }
        }
    }
    Ok(())
}

async fn run_tron_multisig(args: TronMultisigArgs) -> eyre::Result<()> {
    let profile = profile(&args.profile)?;
    eyre::ensure!(profile.genesis_block_id.is_some(), "{}: not a TRON profile", profile.name);
    let insecure = if profile.mainnet {
        Err(format!("{}: a raw key is refused on mainnet: use --account-keystore", profile.name))
    } else {
        Ok(())
    };
    let key = key(&args.account_keystore, &args.insecure_account_key, "TRON_ACCOUNT_KEYSTORE_PASSPHRASE", insecure)?;
    let owners: Vec<Address> = args.owners.iter().map(|o| address("owners", o)).collect::<eyre::Result<_>>()?;
    for owner in &owners {
        keys::refuse_development_key("owner", *owner)?;
    }
    let mut wallet = args.tron.wallet().await?;
    check_genesis(&mut wallet, profile).await?;
    let created = tron_multisig::create(&mut wallet, &key, &owners, args.threshold, args.dry_run).await?;
    if args.dry_run {
        println!(
            "dry run: {} would become a multi-signature account, {} of [{}] (owner, and active for contract calls \
             only); nothing was sent. Now: {}",
            abi::tron::to_base58(key.address()),
            args.threshold,
            owners.iter().map(|o| abi::tron::to_base58(*o)).collect::<Vec<_>>().join(", "),
            serde_json::to_string(&created.account)?
        );
    } else {
        println!("{}", serde_json::to_string_pretty(&created)?);
    }
    Ok(())
}

async fn check_genesis(wallet: &mut tron_wire::Wallet, profile: deploy::Profile) -> eyre::Result<()> {
    let expected = profile.genesis_block_id.ok_or_else(|| eyre::eyre!("{}: not a TRON profile", profile.name))?;
    let genesis = tron_wire::genesis_block_id(wallet).await?;
    eyre::ensure!(
        genesis == expected,
        "{}'s genesis block is {expected}; the node answers {genesis} ({}); nothing was sent",
        profile.name,
        deploy::tron_network_of(genesis).unwrap_or("another network")
    );
    Ok(())
}

async fn run_tron_admin_call(args: TronAdminCallArgs) -> eyre::Result<()> {
    let journal = complete_record(&args.record)?;
    let profile = profile(&journal.profile)?;
    let actions = args.actions.actions()?;
    let [action] = actions.as_slice() else {
        eyre::bail!("one action per TRON transaction (a TRON transaction carries one call): write one file each")
    };
    let mut wallet = args.tron.wallet().await?;
    check_genesis(&mut wallet, profile).await?;
    let settlement = journal.settlement.expect("complete");
    let (file, permission) = tron_multisig::build_call(
        &mut wallet,
        settlement,
        journal.admin,
        action,
        args.fee_limit_sun,
        Duration::from_secs(args.expires_in_secs),
    )
    .await?;
    write_json(&args.out, &file)?;
    let (tx, txid) = tron_multisig::from_json(&file)?;
    println!("wrote {}: {}", args.out.display(), tron_multisig::describe(&tx, txid)?);
    println!(
        "it needs a weight of {} from [{}]: each owner signs it in turn (referral-deploy tron-sign --tx {} --keystore …, \
         or TronWeb's trx.multiSign(tx, key, {})), then referral-deploy tron-send --tx {}",
        permission.threshold,
        permission
            .keys
            .iter()
            .map(|k| format!(
                "{} ({})",
                tron_wire::evm_address(&k.address).map(abi::tron::to_base58).unwrap_or_default(),
                k.weight
            ))
            .collect::<Vec<_>>()
            .join(", "),
        args.out.display(),
        permission.id,
        args.out.display()
    );
    Ok(())
}

fn run_tron_sign(args: TronSignArgs) -> eyre::Result<()> {
    let key = key(&args.keystore, &args.insecure_key, "TRON_OWNER_KEYSTORE_PASSPHRASE", Ok(()))?;
    keys::refuse_development_key("owner", key.address())?;
    let file = read_json(&args.tx)?;
    let (tx, txid) = tron_multisig::from_json(&file)?;
    println!("signing {}", tron_multisig::describe(&tx, txid)?);
    let signed = tron_multisig::sign(&file, &key)?;
    write_json(&args.tx, &signed)?;
    let (tx, txid) = tron_multisig::from_json(&signed)?;
    println!("signed: {}", tron_multisig::describe(&tx, txid)?);
    Ok(())
}

async fn run_tron_send(args: TronSendArgs) -> eyre::Result<()> {
    let file = read_json(&args.tx)?;
    let mut wallet = args.tron.wallet().await?;
    let included = tron_multisig::send(&mut wallet, &file).await?;
    let (_, txid) = tron_multisig::from_json(&file)?;
    println!("transaction {txid} succeeded in block {} (fee {} SUN)", included.block, included.info.fee);
    for log in &included.info.log {
        let topic = |i: usize| log.topics.get(i).filter(|t| t.len() == 32).map(|t| B256::from_slice(t));
        if topic(0) == Some(abi::Settlement::ChangeScheduled::SIGNATURE_HASH)
            && let Some(id) = topic(1)
        {
            println!("change {id} scheduled: apply it once its delay has passed (tron-admin-call --apply {id})");
        }
    }
    Ok(())
}

async fn run(cli: Cli) -> eyre::Result<()> {
    match cli.command {
        None => run_deploy(cli.deploy).await,
        Some(Command::SafeBatch(args)) => run_safe_batch(args).await,
        Some(Command::TronMultisig(args)) => run_tron_multisig(args).await,
        Some(Command::TronAdminCall(args)) => run_tron_admin_call(args).await,
        Some(Command::TronSign(args)) => run_tron_sign(args),
        Some(Command::TronSend(args)) => run_tron_send(args).await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("referral-deploy: {}", service_kit::redact::text(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
