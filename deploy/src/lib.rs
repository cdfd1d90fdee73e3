//! Deploys the Settlement contract to a real network from a profile ([`PROFILES`]: BSC mainnet and testnet, TRON
//! mainnet and Nile), and records what it deployed where the services read it.
//!
//! [`deploy`] checks before it sends: no key of anvil's public development accounts anywhere ([`keys`]); on mainnet
//! one key in one money role only (operator, treasurer, pauser, signer); the network answers the profile's chain id
//! — and on TRON the profile's genesis block, so that a node of another TRON network is never sent to; the admin is
//! a Safe ([`safe::info`]: `VERSION()`, its owners and threshold, at least 2 of 2 on mainnet) or, on TRON, a
//! multi-signature account ([`tron_multisig`]) — never a key, nor a contract that is not a Safe, on mainnet; the
//! profile's USDT is a token there; the change delay is at least the profile's minimum. Then it creates the
//! Settlement with the deployer key, its operator, treasurer and pauser holding their roles from the start
//! (`SettlementConfig`: every later change of a money role or the signer waits the delay, so nothing is left for
//! the admin to grant). A dry run ([`Options::dry_run`]) makes every check, prints every step with its arguments (on
//! EVM the contract's address, known from the deployer's nonce) and sends nothing.
//!
//! **The record** ([`record`]) is written before the first transaction and after every step, and a rerun with it
//! resumes: a deployment that stopped anywhere — a crash, a lost transaction, a chain spec that could not be written
//! — is finished, never lost and never made twice. Once complete it holds the deployment (profile, addresses, the
//! admin's Safe or TRON permissions, roles, push gas, the transactions, the code's hash, the proof of solvency's
//! maximum age) for people and audits, and for the dApp's build: committed under `deployments/`, it gives the
//! members' verifier each network's Settlement and chain id (`deployments/README.md`). A `[[chains]]` entry
//! (`chain_id`, `settlement`, `rpc_url`, `confirmations`, `start_block` = the deployment's block, and on TRON its
//! `[chains.tron]` endpoints) is appended to the chain spec the API, the listener and the reconciler read.
//!
//! **The admin's later changes**: [`batch`] writes them as a Safe Transaction Builder file the owners import;
//! [`tron_multisig`] builds them as TRON transactions the owners of a multi-signature account sign in turn.

#![warn(missing_docs)]

pub mod admin;
pub mod batch;
pub mod keys;
pub mod network;
pub mod record;
pub mod safe;
pub mod tron;
pub mod tron_multisig;
pub mod tron_wire;

use std::{fmt::Write as _, path::PathBuf, time::Duration};

use abi::{
    NATIVE_TOKEN, Settlement,
    chain::{Family, TRON_MAINNET, TRON_NILE},
    deployment::{Bounds, Holders, MAINNET_MIN_DELAY_SECS, MAINNET_MIN_EXIT_AFTER_SECS},
};
use alloy::{
    primitives::{Address, B256, address, keccak256},
    signers::local::PrivateKeySigner,
    sol_types::SolConstructor,
};
use network::{Network, Sent};
use record::{AbandonedRecord, ConstructorRecord, CreationRecord, Journal, Status};

/// A network the contract can be deployed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Its name on the command line.
    pub name: &'static str,
    /// The network's chain id.
    pub chain_id: u64,
    /// The network's USDT (TRON: the 20 bytes of its `T…` address).
    pub usdt: Address,
    /// Real money: the admin must be a multisig, the USDT may not be replaced.
    pub mainnet: bool,
    /// The listener's confirmation depth there (0 on TRON: a solidified block is final).
    pub confirmations: u64,
    /// On TRON, the id of the network's genesis block (block 0): a node answering another is of another network.
    pub genesis_block_id: Option<B256>,
}

impl Profile {
    /// The bounds a deployment on this network gets unless told otherwise: a real network's (7 days of delay).
    pub fn bounds(&self) -> Bounds {
        Bounds::production(Family::of(self.chain_id))
    }

    /// The shortest change delay a deployment on this network may have: 7 days on mainnet; on a testnet any (a
    /// rehearsal may wait minutes instead of days).
    pub fn min_delay_secs(&self) -> u64 {
        if self.mainnet { MAINNET_MIN_DELAY_SECS } else { 0 }
    }

    /// The shortest `exitAfter` a deployment on this network may have: 7 days on mainnet (an operator's outage of a
    /// few days must not open the members' exit); on a testnet any.
    pub fn min_exit_after_secs(&self) -> u64 {
        if self.mainnet { MAINNET_MIN_EXIT_AFTER_SECS } else { 0 }
    }

    /// The most blocks a proof of solvency's liabilities (its commitment's `asOfBlock`) may trail the chain's head
    /// before the members' verifier calls them stale: about a day of the network's blocks (BSC one every 0.75 s,
    /// TRON every 3 s). Recorded with the deployment ([`Record::proof_max_age_blocks`]) and built into the dApp.
    pub fn proof_max_age_blocks(&self) -> u64 {
        proof_max_age_blocks(Family::of(self.chain_id))
    }
}

/// About a day of blocks on `family`'s networks (BSC 115,200 at 0.75 s, TRON 28,800 at 3 s): the maximum age of a
/// proof of solvency's liabilities a real deployment records.
pub fn proof_max_age_blocks(family: Family) -> u64 {
    match family {
        Family::Evm => 24 * 60 * 60 * 4 / 3,
        Family::Tron => 24 * 60 * 60 / 3,
    }
}

/// TRON mainnet's genesis block id (its last four bytes are the chain id, 728126428).
pub const TRON_MAINNET_GENESIS: B256 = abi::tron::MAINNET_GENESIS;
/// Nile's genesis block id (its last four bytes are the chain id, 3448148188).
pub const TRON_NILE_GENESIS: B256 = abi::tron::NILE_GENESIS;
/// Shasta's genesis block id (chain id 2494104990): no profile, named in refusals.
pub const TRON_SHASTA_GENESIS: B256 = abi::tron::SHASTA_GENESIS;

/// The TRON network whose genesis block is `id`, if it is a public one.
pub fn tron_network_of(id: B256) -> Option<&'static str> {
    match id {
        TRON_MAINNET_GENESIS => Some("TRON mainnet"),
        TRON_NILE_GENESIS => Some("Nile"),
        TRON_SHASTA_GENESIS => Some("Shasta"),
        _ => None,
    }
}

/// The profiles: BSC mainnet and testnet, TRON mainnet and Nile.
pub const PROFILES: [Profile; 4] = [
    Profile {
        name: "bsc-mainnet",
        chain_id: 56,
        // Binance-Peg BSC-USD (18 decimals).
        usdt: address!("0x55d398326f99059ff775485246999027b3197955"),
        mainnet: true,
        confirmations: 15,
        genesis_block_id: None,
    },
    Profile {
        name: "bsc-testnet",
        chain_id: 97,
        // The testnet faucet's USDT (18 decimals); replace with --usdt where another is used.
        usdt: address!("0x337610d27c682e347c9cd60bd4b3b107c9d34ddd"),
        mainnet: false,
        confirmations: 5,
        genesis_block_id: None,
    },
    Profile {
        name: "tron-mainnet",
        chain_id: TRON_MAINNET,
        // Tether USD, TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t (6 decimals).
        usdt: address!("0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"),
        mainnet: true,
        confirmations: 0,
        genesis_block_id: Some(TRON_MAINNET_GENESIS),
    },
    Profile {
        name: "tron-nile",
        chain_id: TRON_NILE,
        usdt: abi::tron::NILE_USDT,
        mainnet: false,
        confirmations: 0,
        genesis_block_id: Some(TRON_NILE_GENESIS),
    },
];

/// The profile called `name`.
pub fn profile(name: &str) -> eyre::Result<Profile> {
    PROFILES.iter().find(|p| p.name == name).copied().ok_or_else(|| {
        let names: Vec<_> = PROFILES.iter().map(|p| p.name).collect();
        eyre::eyre!("no profile {name:?}: one of {}", names.join(", "))
    })
}

/// A TRON network's endpoints, as the chain spec records them.
#[derive(Clone, Debug, Default)]
pub struct TronEndpoints {
    /// The full node's gRPC (`Wallet`): the deployment sends through it.
    pub grpc_url: String,
    /// The Solidity node's gRPC (`WalletSolidity`).
    pub solidity_grpc_url: Option<String>,
    /// The Solidity node's JSON-RPC.
    pub solidity_rpc_url: String,
    /// The environment variable holding the provider's API key (TronGrid's), recorded as the chain spec's
    /// `api_key_env` and sent on every request of the deployment.
    pub api_key_env: Option<String>,
}

/// What to deploy, and where to record it.
#[derive(Clone, Debug)]
pub struct Options {
    /// The network.
    pub profile: Profile,
    /// Its JSON-RPC (TRON: the full node's); recorded as the chain spec's `rpc_url`.
    pub rpc_url: String,
    /// TRON's other endpoints (required on a TRON profile).
    pub tron: Option<TronEndpoints>,
    /// The contract's admin (DEFAULT_ADMIN_ROLE): a Safe on a mainnet profile.
    pub admin: Address,
    /// The key that authorises payloads (the signer service's).
    pub signer: Address,
    /// Sends payout batches (OPERATOR_ROLE).
    pub operator: Address,
    /// Moves the company's share (TREASURER_ROLE).
    pub treasurer: Address,
    /// May pause (PAUSER_ROLE).
    pub pauser: Address,
    /// Another USDT than the profile's (testnet profiles only).
    pub usdt: Option<Address>,
    /// Another change delay than the profile's (seconds; at least [`Profile::min_delay_secs`]).
    pub delay_secs: Option<u64>,
    /// Another wait before the members' exit may open than the profile's 14 days (seconds; at least
    /// [`Profile::min_exit_after_secs`], at most 365 days).
    pub exit_after_secs: Option<u64>,
    /// Check and print every step; send nothing, write nothing.
    pub dry_run: bool,
    /// The chain spec the `[[chains]]` entry is appended to (created when missing).
    pub spec: PathBuf,
    /// Where the JSON record is written (its folder is created), and resumed from when it exists.
    pub record: PathBuf,
    /// Development and tests only (never the command line): let anvil's public development keys in.
    pub development: bool,
    /// The contracts this deployment replaces on the chain (an upgrade, contracts/UPGRADES.md), oldest first: written
    /// into the record so that the dApp built with it reads them too (their custody counts until they are drained).
    pub previous: Vec<PreviousContract>,
}

/// A Settlement contract a deployment replaced on the same chain, as its record names it (`previous`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PreviousContract {
    /// The replaced contract.
    pub settlement: Address,
    /// On TRON, its `T…` address.
    pub settlement_base58: Option<String>,
}

/// At most this many replaced contracts are followed on a chain at once (the chain spec's limit).
pub const MAX_PREVIOUS: usize = 4;

/// What a deployment replacing `old` (a complete record of the same chain) records as `previous`: the contracts `old`
/// replaced, then `old` itself.
pub fn replacing(old: &Record, chain_id: u64) -> eyre::Result<Vec<PreviousContract>> {
    eyre::ensure!(
        old.chain_id == chain_id,
        "the replaced deployment is on chain {}, this one on chain {chain_id}: an upgrade stays on its chain",
        old.chain_id
    );
    let mut previous = old.previous.clone();
    previous.push(PreviousContract { settlement: old.settlement, settlement_base58: old.settlement_base58.clone() });
    eyre::ensure!(
        previous.len() <= MAX_PREVIOUS,
        "{} replaced contracts: at most {MAX_PREVIOUS} are followed at once; drop one whose custody is paid out first",
        previous.len()
    );
    Ok(previous)
}

/// A role of the deployment, held from the contract's creation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoleRecord {
    /// OPERATOR_ROLE, TREASURER_ROLE or PAUSER_ROLE.
    pub role: String,
    /// Who holds it.
    pub account: Address,
}

/// The bounds the contract was deployed with, as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BoundsRecord {
    /// Seconds a change of the signer, a money role, a token or the push gas waits.
    pub delay_secs: u64,
    /// Most blocks a liability commitment's `asOfBlock` may trail its commit.
    pub max_as_of_lag: u64,
    /// Most seconds since the latest commitment for a treasury transfer.
    pub treasury_commitment_max_age_secs: u64,
    /// Seconds without a commitment (or of pause) after which anyone may open the members' exit (0 in a record from
    /// before the exit).
    #[serde(default)]
    pub exit_after_secs: u64,
}

/// What a deployment did, once complete (the JSON record is [`record::Journal`], these fields and its history).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// The profile.
    pub profile: String,
    /// The chain id.
    pub chain_id: u64,
    /// The Settlement contract.
    pub settlement: Address,
    /// On TRON, its `T…` address.
    pub settlement_base58: Option<String>,
    /// The block of its creation: where the listener starts.
    pub deploy_block: u64,
    /// Its creating transaction.
    pub deploy_tx: B256,
    /// keccak256 of its runtime code as deployed.
    pub code_hash: B256,
    /// The admin (a Safe on mainnet) and, when it is one, its owners and threshold.
    pub admin: Address,
    /// The admin Safe's version, owners and threshold, when the admin is a Safe.
    pub admin_safe: Option<safe::SafeInfo>,
    /// On TRON, the admin account's permissions (a multi-signature account on mainnet).
    pub admin_tron: Option<tron_multisig::AccountRecord>,
    /// The signer key.
    pub signer: Address,
    /// The allowed USDT.
    pub usdt: Address,
    /// Push gas per native and per token payment.
    pub push_gas: (u64, u64),
    /// The roles.
    pub roles: Vec<RoleRecord>,
    /// The bounds fixed for the contract's life.
    pub bounds: BoundsRecord,
    /// The account that sent the deployment.
    pub deployer: Address,
    /// The most blocks a proof of solvency's liabilities (the commitment's `asOfBlock`) may trail the chain's head
    /// before the members' verifier (the dApp, built with this record) calls the commitment stale
    /// ([`Profile::proof_max_age_blocks`]).
    pub proof_max_age_blocks: u64,
    /// The contracts this one replaced on the chain, oldest first (an upgrade; absent otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous: Vec<PreviousContract>,
}

/// The keys the deployment signs with.
pub struct Keys {
    /// Sends the creation (pays its fee).
    pub deployer: PrivateKeySigner,
}

/// What [`deploy`] did: the steps as printed, and the record (`None` in a dry run).
pub struct Outcome {
    /// Every step, one line each, as printed.
    pub steps: String,
    /// What was deployed.
    pub record: Option<Record>,
}

/// Adds a numbered step, every URL in it redacted ([`service_kit::redact::text`]): a provider's key in the RPC URL
/// never reaches the printed steps.
fn step(steps: &mut String, text: impl AsRef<str>) {
    let n = steps.lines().count() + 1;
    let _ = writeln!(steps, "[{n}] {}", service_kit::redact::text(text.as_ref()));
}

/// How long a broadcast creation is waited for before the run stops (the record keeps it: a rerun waits again).
const MINED_WITHIN: Duration = Duration::from_secs(120);

/// The refusals that need no network: anvil's public keys anywhere (unless `options.development`), and on mainnet
/// one key in two money roles.
fn refuse_keys(options: &Options, deployer: Address) -> eyre::Result<()> {
    let p = options.profile;
    let roles = [
        ("signer", options.signer),
        ("operator", options.operator),
        ("treasurer", options.treasurer),
        ("pauser", options.pauser),
    ];
    for (role, who) in roles.iter().chain([("admin", options.admin)].iter()) {
        eyre::ensure!(
            !who.is_zero(),
            "{}: the {role} is the zero address, which nobody holds the key of: give the {role}'s address; nothing was \
             sent",
            p.name
        );
    }
    if !options.development {
        keys::refuse_development_key("deployer", deployer)?;
        keys::refuse_development_key("admin", options.admin)?;
        for (role, who) in roles {
            keys::refuse_development_key(role, who)?;
        }
    }
    if p.mainnet {
        for (i, (a, who)) in roles.iter().enumerate() {
            for (b, other) in &roles[i + 1..] {
                eyre::ensure!(
                    who != other,
                    "{}: the {a} and the {b} are one key, {who}: on mainnet each money role has a key of its own (one \
                     stolen key would hold both powers); nothing was sent",
                    p.name
                );
            }
            eyre::ensure!(
                *who != options.admin,
                "{}: the {a} is the admin {who}: on mainnet the admin is a multisig of its own; nothing was sent",
                p.name
            );
        }
    }
    Ok(())
}

/// Who the admin is: a Safe (its version, owners and threshold), on TRON a multi-signature account (its
/// permissions), or — on testnets only — a key. A contract that is not a Safe is refused everywhere.
async fn check_admin(
    net: &Network,
    options: &Options,
    steps: &mut String,
) -> eyre::Result<(Option<safe::SafeInfo>, Option<tron_multisig::AccountRecord>)> {
    let p = options.profile;
    let admin = options.admin;
    let tron = Family::of(p.chain_id) == Family::Tron;
    let shown = if tron { abi::tron::to_base58(admin) } else { admin.to_string() };
    if !net.code(admin).await?.is_empty() {
        // On every network, testnets included: a contract that is not a Safe may never be able to call the admin's
        // functions at all (a token, a mistyped address), and the deployment would have no admin for good.
        let Some(s) = safe::info(net, admin).await? else {
            eyre::bail!(
                "{}: the admin {shown} is a contract but not a Safe (it does not answer VERSION(), getOwners() and \
                 getThreshold() as one): nobody could be sure to administer the contract through it; give a Safe{}; \
                 nothing was sent",
                p.name,
                if tron { " or a TRON multi-signature account" } else { "" }
            );
        };
        if let Some(why) = s.mainnet_refusal().filter(|_| p.mainnet) {
            eyre::bail!("{}: the admin Safe {shown}: {why}; nothing was sent", p.name);
        }
        if !options.development {
            for owner in &s.owners {
                keys::refuse_development_key("owner of the admin Safe", *owner)?;
            }
        }
        step(steps, format!("admin: {shown} is a Safe {}, {} of {} owners", s.version, s.threshold, s.owners.len()));
        return Ok((Some(s), None));
    }
    if !tron {
        eyre::ensure!(
            !p.mainnet,
            "{}: the admin {shown} is a key; on mainnet it must be a multisig contract (a Safe); nothing was sent",
            p.name
        );
        step(steps, format!("admin: {shown} is a key (allowed on {} only)", p.name));
        return Ok((None, None));
    }
    let mut wallet = net.tron_wallet().await?;
    let Some(account) = tron_wire::account(&mut wallet, admin).await? else {
        eyre::ensure!(
            !p.mainnet,
            "{}: the admin {shown} is no account on this network (a key nobody activated); on mainnet it must be a \
             multi-signature account: send it TRX, then `referral-deploy tron-multisig --owners … --threshold 2` with \
             its key; nothing was sent",
            p.name
        );
        step(steps, format!("admin: {shown} is a key, not yet an account (allowed on {} only)", p.name));
        return Ok((None, None));
    };
    if !options.development {
        for key in tron_multisig::keys(&account) {
            if key != admin {
                keys::refuse_development_key("key of the admin account", key)?;
            }
        }
    }
    let recorded = tron_multisig::record(&account);
    match tron_multisig::multisig_problem(&account) {
        None => step(
            steps,
            format!(
                "admin: {shown} is a multi-signature account, owner permission {} of {} keys{}",
                recorded.owner.threshold,
                recorded.owner.keys.len(),
                recorded
                    .actives
                    .iter()
                    .filter(|a| a.calls_contracts)
                    .map(|a| format!(", active {:?} {} of {} keys", a.name, a.threshold, a.keys.len()))
                    .collect::<String>()
            ),
        ),
        Some(why) => {
            eyre::ensure!(
                !p.mainnet,
                "{}: the admin {shown} is not a multi-signature account: {why}; on mainnet one key alone must not \
                 administer the contract: make it one first (`referral-deploy tron-multisig --owners T…,T…,T… \
                 --threshold 2` with its key); nothing was sent",
                p.name
            );
            step(steps, format!("admin: {shown} is a single-key account (allowed on {} only): {why}", p.name));
        }
    }
    Ok((None, Some(recorded)))
}

/// The settlement the chain spec at `options.spec` declares for the profile's chain, if it declares one.
fn declared_in_spec(options: &Options) -> eyre::Result<Option<Address>> {
    let text = match std::fs::read_to_string(&options.spec) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => eyre::bail!("{}: {e}", options.spec.display()),
    };
    let specs = service_kit::chain_spec::ChainSpecs::parse(&text)
        .map_err(|e| eyre::eyre!("{}: {e}; nothing was sent", options.spec.display()))?;
    Ok(specs.get(options.profile.chain_id).map(|s| s.settlement))
}

/// Deploys per `options` with `keys` (see the module's documentation), or finishes the deployment the record at
/// `options.record` describes; a refusal before anything is sent names what to fix.
pub async fn deploy(options: &Options, keys: &Keys) -> eyre::Result<Outcome> {
    let p = options.profile;
    let family = Family::of(p.chain_id);
    let deployer = keys.deployer.address();
    refuse_keys(options, deployer)?;
    let net = match (family, &options.tron) {
        (Family::Evm, None) => Network::evm(&options.rpc_url)?,
        (Family::Tron, Some(tron)) => {
            let api_key = match &tron.api_key_env {
                None => None,
                Some(name) => Some(std::env::var(name).map_err(|_| eyre::eyre!("{name} (the API key) is not set"))?),
            };
            Network::tron(&options.rpc_url, &tron.grpc_url, api_key)?
        }
        (Family::Tron, None) => eyre::bail!("{}: a TRON profile needs its gRPC and Solidity endpoints", p.name),
        (Family::Evm, Some(_)) => eyre::bail!("{}: TRON endpoints given for an EVM profile", p.name),
    };
    let mut steps = String::new();
    let journal = Journal::read(&options.record)?;
    let declared = declared_in_spec(options)?;
    match (&journal, declared) {
        (None, Some(_)) => eyre::bail!(
            "{} declares chain {} already: remove that entry (or write to another spec); nothing was sent",
            options.spec.display(),
            p.chain_id
        ),
        (Some(j), Some(at)) if j.settlement != Some(at) => eyre::bail!(
            "{} declares chain {} with the contract {at}, which is not the deployment recorded in {}: remove that \
             entry (or write to another spec); nothing was sent",
            options.spec.display(),
            p.chain_id,
            options.record.display()
        ),
        _ => {}
    }

    let answered = net.chain_id().await?;
    eyre::ensure!(
        answered == p.chain_id,
        "{} is chain {}: {} is chain {answered}; nothing was sent",
        p.name,
        p.chain_id,
        options.rpc_url
    );
    step(&mut steps, format!("network: {} answers chain id {answered} ({})", options.rpc_url, p.name));
    if let (Some(expected), Some(tron)) = (p.genesis_block_id, &options.tron) {
        let genesis = net.genesis_block_id().await?.unwrap_or_default();
        eyre::ensure!(
            genesis == expected,
            "{} is {}: its genesis block is {expected}; the node at {} answers {genesis} ({}); nothing was sent",
            p.name,
            tron_network_of(expected).unwrap_or("?"),
            tron.grpc_url,
            tron_network_of(genesis).map_or("another network".to_owned(), |n| format!("{n}, another network"))
        );
        step(&mut steps, format!("network: {} has {}'s genesis block {genesis}", tron.grpc_url, p.name));
    }

    let (admin_safe, admin_tron) = check_admin(&net, options, &mut steps).await?;

    let usdt = match options.usdt {
        Some(other) if p.mainnet && other != p.usdt => {
            eyre::bail!("{}: the USDT is the network's own {}; --usdt is for testnets", p.name, p.usdt)
        }
        Some(other) => other,
        None => p.usdt,
    };
    eyre::ensure!(
        !net.code(usdt).await?.is_empty(),
        "{}: no token at the USDT address {usdt}; nothing was sent",
        p.name
    );
    step(&mut steps, format!("usdt: {usdt} is a contract"));

    let push = family.push_gas();
    let mut bounds = p.bounds();
    if let Some(exit_after) = options.exit_after_secs {
        bounds.exit_after_secs = exit_after;
    }
    if let Some(delay) = options.delay_secs {
        bounds.delay_secs = delay;
    }
    eyre::ensure!(
        bounds.delay_secs >= p.min_delay_secs(),
        "{}: a change delay of {} s is shorter than the network's minimum of {} s; nothing was sent",
        p.name,
        bounds.delay_secs,
        p.min_delay_secs()
    );
    eyre::ensure!(
        bounds.exit_after_secs >= p.min_exit_after_secs(),
        "{}: a members' exit after {} s without a commitment is shorter than the network's minimum of {} s; nothing \
         was sent",
        p.name,
        bounds.exit_after_secs,
        p.min_exit_after_secs()
    );
    let holders = Holders {
        admin: options.admin,
        signer: options.signer,
        operators: vec![options.operator],
        treasurers: vec![options.treasurer],
        pausers: vec![options.pauser],
    };
    let tokens = [NATIVE_TOKEN, usdt];
    let args = Settlement::constructorCall { config: abi::deployment::config(&holders, &tokens, family, bounds) };
    let constructor = ConstructorRecord {
        admin: options.admin,
        signer: options.signer,
        operators: holders.operators.clone(),
        treasurers: holders.treasurers.clone(),
        pausers: holders.pausers.clone(),
        tokens: tokens.to_vec(),
        native_push_gas: push.native,
        token_push_gas: push.token,
        delay_secs: bounds.delay_secs,
        max_as_of_lag: bounds.max_as_of_lag,
        treasury_commitment_max_age_secs: bounds.treasury_commitment_max_age_secs,
        exit_after_secs: bounds.exit_after_secs,
        encoded: args.abi_encode().into(),
    };
    if let Some(j) = &journal {
        j.check_same(p.name, p.chain_id, deployer, &constructor)?;
    }
    let predicted = match journal.as_ref().and_then(|j| j.creation.as_ref()).and_then(|c| c.nonce) {
        Some(nonce) => Some(deployer.create(nonce)),
        None => net.next_nonce(deployer).await?.map(|n| deployer.create(n)),
    };
    let roles =
        [("OPERATOR_ROLE", options.operator), ("TREASURER_ROLE", options.treasurer), ("PAUSER_ROLE", options.pauser)];
    step(
        &mut steps,
        format!(
            "create Settlement(admin {}, signer {}, operator {}, treasurer {}, pauser {}, tokens [native, {usdt}], push \
             gas {} native / {} token, change delay {} s, commitments at most {} blocks old, treasury transfers within \
             {} s of a commitment, members' exit after {} s without one) from {deployer}{}",
            options.admin,
            options.signer,
            options.operator,
            options.treasurer,
            options.pauser,
            push.native,
            push.token,
            bounds.delay_secs,
            bounds.max_as_of_lag,
            bounds.treasury_commitment_max_age_secs,
            bounds.exit_after_secs,
            predicted.map_or(" (TRON: the address is known once it is mined)".into(), |a| format!(" at {a}"))
        ),
    );
    step(
        &mut steps,
        format!(
            "record: JSON to {} before the first transaction and after each step, then [[chains]] {} appended to {}",
            options.record.display(),
            p.chain_id,
            options.spec.display(),
        ),
    );
    if let Some(j) = &journal {
        step(
            &mut steps,
            format!(
                "resume: {} records this deployment as {:?}{}",
                options.record.display(),
                j.status,
                j.creation.as_ref().map(|c| format!(", its creation {}", c.tx)).unwrap_or_default()
            ),
        );
    }
    if options.dry_run {
        step(&mut steps, "dry run: nothing was sent, nothing written");
        return Ok(Outcome { steps, record: None });
    }

    let mut j = match journal {
        Some(j) => j,
        None => Journal {
            status: Status::Creating,
            profile: p.name.to_owned(),
            chain_id: p.chain_id,
            settlement: None,
            settlement_base58: None,
            deploy_block: None,
            deploy_tx: None,
            code_hash: None,
            predicted_settlement: predicted,
            admin: options.admin,
            admin_safe: admin_safe.clone(),
            admin_tron: admin_tron.clone(),
            signer: options.signer,
            usdt,
            push_gas: (push.native, push.token),
            roles: roles
                .iter()
                .map(|(name, account)| RoleRecord { role: (*name).to_owned(), account: *account })
                .collect(),
            bounds: BoundsRecord {
                delay_secs: bounds.delay_secs,
                max_as_of_lag: bounds.max_as_of_lag,
                treasury_commitment_max_age_secs: bounds.treasury_commitment_max_age_secs,
                exit_after_secs: bounds.exit_after_secs,
            },
            deployer,
            proof_max_age_blocks: p.proof_max_age_blocks(),
            constructor,
            creation: None,
            abandoned: Vec::new(),
            previous: options.previous.clone(),
        },
    };
    // What the admin is now (a Safe's owners may have changed since the record was begun).
    (j.admin_safe, j.admin_tron) = (admin_safe, admin_tron);
    if j.status == Status::Complete && declared == j.settlement {
        let at = j.settlement.expect("a complete record names its contract");
        step(&mut steps, format!("already deployed: Settlement {at}, recorded in both; nothing was sent"));
        return Ok(Outcome { steps, record: j.record() });
    }
    j.write(&options.record)?;

    if j.settlement.is_none() || j.deploy_block.is_none() {
        let code = [Settlement::BYTECODE.to_vec(), j.constructor.encoded.to_vec()].concat();
        let (settlement, created) = create(&net, &keys.deployer, &mut j, options, code, &mut steps).await?;
        j.settlement = Some(settlement);
        j.settlement_base58 = (family == Family::Tron).then(|| abi::tron::to_base58(settlement));
        j.deploy_block = Some(created.block);
        j.deploy_tx = Some(created.tx);
        j.write(&options.record)?;
    }
    let settlement = j.settlement.expect("set above");
    let deployed = net.code(settlement).await?;
    abi::code::check_settlement_code(&deployed).map_err(|e| eyre::eyre!("the contract at {settlement}: {e}"))?;
    j.code_hash = Some(keccak256(&deployed));
    if j.status != Status::Complete {
        j.status = Status::Created;
    }
    j.write(&options.record)?;
    step(
        &mut steps,
        format!(
            "created Settlement at {settlement} in block {} ({}), its code this build's",
            j.deploy_block.unwrap_or_default(),
            j.deploy_tx.unwrap_or_default()
        ),
    );

    let record = j.fields().expect("a created deployment has every field");
    if declared != Some(settlement) {
        append_to_spec(options, &record)?;
    }
    j.status = Status::Complete;
    j.write(&options.record)?;
    step(&mut steps, format!("recorded in {} and {}", options.spec.display(), options.record.display()));
    Ok(Outcome { steps, record: j.record() })
}

/// Creates the contract (or finds the creation the record names), keeping the record up to date: every creation
/// is signed and recorded before it is broadcast, and a recorded one is found again — by its transaction, or on EVM
/// by its address — broadcast again (the same bytes) while it can still be in a block, and given up only when it
/// never can be: on EVM when another transaction took its nonce, on TRON when its expiration has passed.
async fn create(
    net: &Network,
    key: &PrivateKeySigner,
    j: &mut Journal,
    options: &Options,
    code: Vec<u8>,
    steps: &mut String,
) -> eyre::Result<(Address, Sent)> {
    let deployer = key.address();
    let path = &options.record;
    let evm = matches!(net, Network::Evm { .. });
    // Whether this run broadcast the recorded creation itself (else it comes from an earlier run's record).
    let mut fresh = false;
    loop {
        let Some(creation) = j.creation.clone() else {
            let creation = if evm {
                let nonce = net.next_nonce(deployer).await?.expect("EVM has nonces");
                let signed = net.sign_create(key, code.clone(), nonce).await?;
                j.predicted_settlement = Some(deployer.create(nonce));
                CreationRecord { tx: signed.tx, nonce: Some(nonce), raw: Some(signed.raw), expiration_ms: None }
            } else {
                let (tx, raw, expiration) = net.tron_sign_create(key, code.clone()).await?;
                CreationRecord { tx, nonce: None, raw: Some(raw), expiration_ms: Some(expiration) }
            };
            j.creation = Some(creation.clone());
            j.status = Status::Sent;
            j.write(path)?;
            step(steps, format!("signed the creation {}, recorded before it is broadcast", creation.tx));
            broadcast(net, &creation).await?;
            fresh = true;
            continue;
        };
        if let Some(outcome) = net.wait(creation.tx, Duration::from_secs(2)).await? {
            if !outcome.success {
                j.abandoned.push(AbandonedRecord {
                    tx: creation.tx,
                    why: format!("it failed in block {}", outcome.sent.block),
                });
                j.creation = None;
                j.status = Status::Creating;
                j.write(path)?;
                eyre::bail!(
                    "the creation {} failed in block {}: nothing was created; rerun with the same --record to try again",
                    creation.tx,
                    outcome.sent.block
                );
            }
            let at = outcome
                .created
                .or(j.predicted_settlement)
                .ok_or_else(|| eyre::eyre!("the creation {} names no contract", creation.tx))?;
            return Ok((at, outcome.sent));
        }
        // Not in a block (yet): can it still be?
        let alive = match (creation.nonce, creation.expiration_ms) {
            // EVM: while the deployer's nonce has not passed the creation's, it can be mined, and only it.
            (Some(nonce), _) => net.mined_nonce(deployer).await? <= nonce,
            // TRON: until its expiration passes the head block's time.
            (None, expiration) => net.tron_head_time_ms().await? <= expiration.unwrap_or_default(),
        };
        if alive {
            if !fresh {
                step(steps, format!("the recorded creation {} is in no block yet: broadcast again", creation.tx));
                broadcast(net, &creation).await?;
                fresh = true;
            }
            let deadline = tokio::time::Instant::now() + MINED_WITHIN;
            loop {
                if net.outcome(creation.tx).await?.is_some() {
                    break;
                }
                let still = match (creation.nonce, creation.expiration_ms) {
                    (Some(nonce), _) => net.mined_nonce(deployer).await? <= nonce,
                    (None, expiration) => net.tron_head_time_ms().await? <= expiration.unwrap_or_default(),
                };
                if !still {
                    break;
                }
                eyre::ensure!(
                    tokio::time::Instant::now() < deadline,
                    "the creation {} is in no block after {} s; it stays recorded in {}: rerun to wait for it again \
                     (never a second creation while it can still be mined)",
                    creation.tx,
                    MINED_WITHIN.as_secs(),
                    path.display()
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            continue;
        }
        if let Some(nonce) = creation.nonce {
            let predicted = deployer.create(nonce);
            if !net.code(predicted).await?.is_empty() {
                // Created by the recorded transaction, whose receipt the node does not serve (no index).
                let block = creation_block(net, predicted).await?;
                step(steps, format!("found the creation by its address {predicted}, block {block}"));
                return Ok((predicted, Sent { tx: creation.tx, block }));
            }
        }
        let why = match creation.nonce {
            Some(nonce) => format!("the deployer's nonce {nonce} was used by another transaction"),
            None => format!("it expired at {} without being in a block", creation.expiration_ms.unwrap_or_default()),
        };
        step(steps, format!("the creation {} can never be in a block ({why}): creating anew", creation.tx));
        j.abandoned.push(AbandonedRecord { tx: creation.tx, why });
        j.creation = None;
        j.status = Status::Creating;
        j.write(path)?;
    }
}

/// Broadcasts a recorded creation (its signed bytes); an error names the node's refusal (the record keeps the
/// creation: a rerun broadcasts the same bytes again).
async fn broadcast(net: &Network, creation: &CreationRecord) -> eyre::Result<()> {
    let raw = creation
        .raw
        .as_ref()
        .ok_or_else(|| eyre::eyre!("the creation {} was recorded without its bytes", creation.tx))?;
    let refused = if creation.nonce.is_some() {
        net.broadcast(raw).await.err().map(|e| e.to_string())
    } else {
        net.tron_broadcast(raw).await?.err()
    };
    match refused {
        None => Ok(()),
        Some(why) => eyre::bail!(
            "the node refused the creation {} ({why}); it stays recorded: fix the cause (the deployer's funds?) and \
             rerun with the same --record, which broadcasts the same transaction again",
            creation.tx
        ),
    }
}

/// The block in which the contract at `at` was created (EVM): the first whose state has code there (the node must
/// keep the state of those blocks).
async fn creation_block(net: &Network, at: Address) -> eyre::Result<u64> {
    let (mut low, mut high) = (0u64, net.head().await?);
    while low < high {
        let middle = low + (high - low) / 2;
        let code = net.code_at(at, middle).await.map_err(|e| {
            eyre::eyre!("the Settlement is at {at}, but its creation's block cannot be found ({e}): use a node that keeps old state or serves its receipt")
        })?;
        if code.is_empty() { low = middle + 1 } else { high = middle }
    }
    Ok(low)
}

/// The `[[chains]]` entry of `record`, as the services read it.
pub fn spec_entry(options: &Options, record: &Record) -> String {
    let mut text = format!(
        "\n# Deployed by referral-deploy ({}) in block {}, transaction {}.\n[[chains]]\nchain_id = {}\nsettlement = \"{}\"\n\
         rpc_url = \"{}\"\nconfirmations = {}\nstart_block = {}\n",
        record.profile,
        record.deploy_block,
        record.deploy_tx,
        record.chain_id,
        record.settlement,
        options.rpc_url,
        options.profile.confirmations,
        record.deploy_block
    );
    if let Some(tron) = &options.tron {
        let _ = write!(text, "[chains.tron]\ngrpc_url = \"{}\"\n", tron.grpc_url);
        if let Some(solid) = &tron.solidity_grpc_url {
            let _ = writeln!(text, "solidity_grpc_url = \"{solid}\"");
        }
        let _ = writeln!(text, "solidity_rpc_url = \"{}\"", tron.solidity_rpc_url);
        if let Some(name) = &tron.api_key_env {
            let _ = writeln!(text, "api_key_env = \"{name}\"");
        }
    }
    text
}

/// Appends the entry to the chain spec (its folder created), refusing a chain the spec declares already, and checks
/// the result reads.
fn append_to_spec(options: &Options, record: &Record) -> eyre::Result<()> {
    let current = match std::fs::read_to_string(&options.spec) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => eyre::bail!(
            "{}: {e}; the contract is at {}, recorded in {}: rerun with the same --record once the spec can be written",
            options.spec.display(),
            record.settlement,
            options.record.display()
        ),
    };
    let text = current.clone() + &spec_entry(options, record);
    let specs = service_kit::chain_spec::ChainSpecs::parse(&text).map_err(|e| {
        eyre::eyre!(
            "{}: the recorded chain spec does not read ({e}); the contract is at {}",
            options.spec.display(),
            record.settlement
        )
    })?;
    eyre::ensure!(
        specs.get(record.chain_id).is_some(),
        "the recorded entry is missing from {}",
        options.spec.display()
    );
    let written = options
        .spec
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&options.spec, text));
    written.map_err(|e| {
        eyre::eyre!(
            "{}: {e}; the contract is at {}, recorded in {}: rerun with the same --record once the spec can be written",
            options.spec.display(),
            record.settlement,
            options.record.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proofs_maximum_age_is_about_a_day_of_the_networks_blocks() {
        assert_eq!(profile("bsc-mainnet").unwrap().proof_max_age_blocks(), 115_200);
        assert_eq!(profile("bsc-testnet").unwrap().proof_max_age_blocks(), 115_200);
        assert_eq!(profile("tron-mainnet").unwrap().proof_max_age_blocks(), 28_800);
        assert_eq!(profile("tron-nile").unwrap().proof_max_age_blocks(), 28_800);
    }

    fn record_of(chain_id: u64, settlement: Address, previous: Vec<PreviousContract>) -> Record {
        Record {
            profile: "bsc-testnet".into(),
            chain_id,
            settlement,
            settlement_base58: None,
            deploy_block: 1,
            deploy_tx: B256::ZERO,
            code_hash: B256::ZERO,
            admin: Address::ZERO,
            admin_safe: None,
            admin_tron: None,
            signer: Address::ZERO,
            usdt: Address::ZERO,
            push_gas: (10_000, 100_000),
            roles: Vec::new(),
            bounds: BoundsRecord {
                delay_secs: 1,
                max_as_of_lag: 1,
                treasury_commitment_max_age_secs: 1,
                exit_after_secs: 1,
            },
            deployer: Address::ZERO,
            proof_max_age_blocks: 1,
            previous,
        }
    }

    #[test]
    fn an_upgrade_records_every_contract_it_replaces_on_its_own_chain() {
        let (a, b) = (Address::repeat_byte(0xa), Address::repeat_byte(0xb));
        let first = record_of(97, a, Vec::new());
        let previous = replacing(&first, 97).unwrap();
        assert_eq!(previous, vec![PreviousContract { settlement: a, settlement_base58: None }]);
        // The next upgrade carries both, oldest first.
        let second = record_of(97, b, previous);
        let both = replacing(&second, 97).unwrap();
        assert_eq!(both.iter().map(|p| p.settlement).collect::<Vec<_>>(), vec![a, b]);
        assert!(replacing(&first, 56).unwrap_err().to_string().contains("stays on its chain"));
        let full = record_of(
            97,
            b,
            (1..=4u8)
                .map(|i| PreviousContract { settlement: Address::repeat_byte(i), settlement_base58: None })
                .collect(),
        );
        assert!(replacing(&full, 97).unwrap_err().to_string().contains("at most 4"));
        // A record without `previous` (every record before upgrades) still reads.
        let mut json = serde_json::to_value(&first).unwrap();
        assert!(json.get("previous").is_none(), "{json}");
        json.as_object_mut().unwrap().remove("previous");
        assert_eq!(serde_json::from_value::<Record>(json).unwrap(), first);
    }

    #[test]
    fn the_profiles_name_each_network_and_its_usdt() {
        let tron = profile("tron-mainnet").unwrap();
        assert_eq!(abi::tron::to_base58(tron.usdt), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
        assert_eq!(abi::tron::to_base58(profile("tron-nile").unwrap().usdt), "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf");
        assert_eq!(
            profile("bsc-mainnet").unwrap().usdt.to_checksum(None),
            "0x55d398326f99059fF775485246999027B3197955"
        );
        assert!(profile("bsc-mainnet").unwrap().mainnet && tron.mainnet);
        assert!(!profile("bsc-testnet").unwrap().mainnet && !profile("tron-nile").unwrap().mainnet);
        assert!(
            profile("eth-mainnet")
                .unwrap_err()
                .to_string()
                .contains("bsc-mainnet, bsc-testnet, tron-mainnet, tron-nile")
        );
    }
}
