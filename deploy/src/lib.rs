//! Deploys the Settlement contract to a real network from a profile ([`PROFILES`]: BSC mainnet and testnet, TRON
//! mainnet and Nile), and records what it deployed where the services read it.
//!
//! [`deploy`] checks before it sends: the network answers the profile's chain id; the admin is a contract — a
//! Safe multisig, never a key, on a mainnet profile; the profile's USDT is a token there; the change delay is at
//! least the profile's minimum. Then it creates the Settlement with the deployer key, its operator, treasurer and
//! pauser holding their roles from the start (`SettlementConfig`: every later change of a money role or the signer
//! waits the delay, so nothing is left for the admin to grant). A dry run ([`Options::dry_run`]) makes every check,
//! prints every step with its arguments (on EVM the contract's address, known from the deployer's nonce) and sends
//! nothing.
//!
//! **The record.** A `[[chains]]` entry appended to the chain spec (`chain_id`, `settlement`, `rpc_url`,
//! `confirmations`, `start_block` = the deployment's block, and on TRON its `[chains.tron]` endpoints): the API,
//! the listener and the reconciler read it. Beside it, a JSON record of the deployment (profile, addresses,
//! roles and how each was granted, push gas, the transactions, the code's hash) for people and audits.

#![warn(missing_docs)]

pub mod network;
pub mod safe;
pub mod tron;

use std::{fmt::Write as _, path::PathBuf};

use abi::{
    NATIVE_TOKEN, Settlement,
    chain::{Family, TRON_MAINNET, TRON_NILE},
    deployment::{Bounds, Holders, MAINNET_MIN_DELAY_SECS},
};
use alloy::{
    primitives::{Address, B256, address, keccak256},
    signers::local::PrivateKeySigner,
    sol_types::SolConstructor,
};
use network::Network;

/// A network the contract can be deployed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Its name on the command line.
    pub name: &'static str,
    /// The network's chain id.
    pub chain_id: u64,
    /// The network's USDT (TRON: the 20 bytes of its `T…` address).
    pub usdt: Address,
    /// Real money: the admin must be a multisig contract, the USDT may not be replaced.
    pub mainnet: bool,
    /// The listener's confirmation depth there (0 on TRON: a solidified block is final).
    pub confirmations: u64,
}

impl Profile {
    /// The bounds a deployment on this network gets unless told otherwise: a real network's (3 days of delay).
    pub fn bounds(&self) -> Bounds {
        Bounds::production(Family::of(self.chain_id))
    }

    /// The shortest change delay a deployment on this network may have: two days on mainnet; on a testnet any (a
    /// rehearsal may wait minutes instead of days).
    pub fn min_delay_secs(&self) -> u64 {
        if self.mainnet { MAINNET_MIN_DELAY_SECS } else { 0 }
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
    },
    Profile {
        name: "bsc-testnet",
        chain_id: 97,
        // The testnet faucet's USDT (18 decimals); replace with --usdt where another is used.
        usdt: address!("0x337610d27c682e347c9cd60bd4b3b107c9d34ddd"),
        mainnet: false,
        confirmations: 5,
    },
    Profile {
        name: "tron-mainnet",
        chain_id: TRON_MAINNET,
        // Tether USD, TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t (6 decimals).
        usdt: address!("0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"),
        mainnet: true,
        confirmations: 0,
    },
    Profile {
        name: "tron-nile",
        chain_id: TRON_NILE,
        // Nile's test USDT, TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf (6 decimals).
        usdt: address!("0xeca9bc828a3005b9a3b909f2cc5c2a54794de05f"),
        mainnet: false,
        confirmations: 0,
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
    /// Check and print every step; send nothing, write nothing.
    pub dry_run: bool,
    /// The chain spec the `[[chains]]` entry is appended to (created when missing).
    pub spec: PathBuf,
    /// Where the JSON record is written.
    pub record: PathBuf,
}

/// A role of the deployment, held from the contract's creation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RoleRecord {
    /// OPERATOR_ROLE, TREASURER_ROLE or PAUSER_ROLE.
    pub role: String,
    /// Who holds it.
    pub account: Address,
}

/// The bounds the contract was deployed with, as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BoundsRecord {
    /// Seconds a change of the signer, a money role, a token or the push gas waits.
    pub delay_secs: u64,
    /// Most blocks a liability commitment's `asOfBlock` may trail its commit.
    pub max_as_of_lag: u64,
    /// Most seconds since the latest commitment for a treasury transfer.
    pub treasury_commitment_max_age_secs: u64,
}

/// What a deployment did: written as JSON beside the chain spec.
#[derive(Clone, Debug, serde::Serialize)]
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
    /// The admin Safe's owners and threshold, when the admin is a Safe.
    pub admin_safe: Option<safe::SafeInfo>,
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

fn step(steps: &mut String, text: impl AsRef<str>) {
    let n = steps.lines().count() + 1;
    let _ = writeln!(steps, "[{n}] {}", text.as_ref());
}

/// Deploys per `options` with `keys` (see the module's documentation); a refusal before anything is sent names
/// what to fix.
pub async fn deploy(options: &Options, keys: &Keys) -> eyre::Result<Outcome> {
    let p = options.profile;
    let family = Family::of(p.chain_id);
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
    if let Ok(text) = std::fs::read_to_string(&options.spec) {
        let specs = service_kit::chain_spec::ChainSpecs::parse(&text)
            .map_err(|e| eyre::eyre!("{}: {e}; nothing was sent", options.spec.display()))?;
        eyre::ensure!(
            specs.get(p.chain_id).is_none(),
            "{} declares chain {} already: remove that entry (or write to another spec); nothing was sent",
            options.spec.display(),
            p.chain_id
        );
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

    let admin_code = net.code(options.admin).await?;
    let admin_safe = if admin_code.is_empty() { None } else { safe::info(&net, options.admin).await? };
    match (&admin_safe, admin_code.is_empty()) {
        (Some(s), _) => step(
            &mut steps,
            format!("admin: {} is a Safe, {} of {} owners", options.admin, s.threshold, s.owners.len()),
        ),
        (None, false) => step(&mut steps, format!("admin: {} is a contract (not a Safe)", options.admin)),
        (None, true) => {
            eyre::ensure!(
                !p.mainnet,
                "{}: the admin {} is a key; on mainnet it must be a multisig contract (a Safe); nothing was sent",
                p.name,
                options.admin
            );
            step(&mut steps, format!("admin: {} is a key (allowed on {} only)", options.admin, p.name));
        }
    }
    if let Some(s) = &admin_safe {
        eyre::ensure!(
            !p.mainnet || s.threshold >= 2,
            "{}: the admin Safe {} needs a single signature; on mainnet at least 2; nothing was sent",
            p.name,
            options.admin
        );
    }

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
    let holders = Holders {
        admin: options.admin,
        signer: options.signer,
        operators: vec![options.operator],
        treasurers: vec![options.treasurer],
        pausers: vec![options.pauser],
    };
    let args = Settlement::constructorCall {
        config: abi::deployment::config(&holders, &[NATIVE_TOKEN, usdt], family, bounds),
    };
    let deployer = keys.deployer.address();
    let predicted = net.next_nonce(deployer).await?.map(|n| deployer.create(n));
    let roles =
        [("OPERATOR_ROLE", options.operator), ("TREASURER_ROLE", options.treasurer), ("PAUSER_ROLE", options.pauser)];
    step(
        &mut steps,
        format!(
            "create Settlement(admin {}, signer {}, operator {}, treasurer {}, pauser {}, tokens [native, {usdt}], push \
             gas {} native / {} token, change delay {} s, commitments at most {} blocks old, treasury transfers within \
             {} s of a commitment) from {deployer}{}",
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
            predicted.map_or(" (TRON: the address is known once it is mined)".into(), |a| format!(" at {a}"))
        ),
    );
    step(
        &mut steps,
        format!(
            "record: [[chains]] {} appended to {}, JSON to {}",
            p.chain_id,
            options.spec.display(),
            options.record.display()
        ),
    );
    if options.dry_run {
        step(&mut steps, "dry run: nothing was sent, nothing written");
        return Ok(Outcome { steps, record: None });
    }

    let code = [Settlement::BYTECODE.to_vec(), args.abi_encode()].concat();
    let (settlement, created) = net.create(&keys.deployer, "Settlement", code).await?;
    let deployed = net.code(settlement).await?;
    abi::code::check_settlement_code(&deployed).map_err(|e| eyre::eyre!("the contract at {settlement}: {e}"))?;
    step(&mut steps, format!("created Settlement at {settlement} in block {} ({})", created.block, created.tx));

    let records =
        roles.iter().map(|(name, account)| RoleRecord { role: (*name).to_owned(), account: *account }).collect();

    let record = Record {
        profile: p.name.to_owned(),
        chain_id: p.chain_id,
        settlement,
        settlement_base58: (family == Family::Tron).then(|| abi::tron::to_base58(settlement)),
        deploy_block: created.block,
        deploy_tx: created.tx,
        code_hash: keccak256(&deployed),
        admin: options.admin,
        admin_safe,
        signer: options.signer,
        usdt,
        push_gas: (push.native, push.token),
        roles: records,
        bounds: BoundsRecord {
            delay_secs: bounds.delay_secs,
            max_as_of_lag: bounds.max_as_of_lag,
            treasury_commitment_max_age_secs: bounds.treasury_commitment_max_age_secs,
        },
        deployer,
    };
    append_to_spec(options, &record)?;
    std::fs::write(&options.record, serde_json::to_string_pretty(&record)? + "\n")?;
    step(&mut steps, format!("recorded in {} and {}", options.spec.display(), options.record.display()));
    Ok(Outcome { steps, record: Some(record) })
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

/// Appends the entry to the chain spec, refusing a chain the spec declares already, and checks the result reads.
fn append_to_spec(options: &Options, record: &Record) -> eyre::Result<()> {
    let current = match std::fs::read_to_string(&options.spec) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e.into()),
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
    std::fs::write(&options.spec, text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
