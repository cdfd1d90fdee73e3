//! Deploys the Settlement contract to a real network from a profile ([`PROFILES`]: BSC mainnet and testnet, TRON
//! mainnet and Nile), and records what it deployed where the services read it.
//!
//! [`deploy`] checks before it sends: the network answers the profile's chain id; the admin is a contract — a
//! Safe multisig, never a key, on a mainnet profile; the profile's USDT is a token there. Then it creates
//! `Settlement(admin, signer, [native coin, USDT], push gas of the family)` with the deployer key, and grants the
//! operator, treasurer and pauser roles through the admin: the deployer when it is the admin (testnets), else the
//! Safe — executed when owner keys are given (development and tests only), otherwise recorded as the Safe
//! transactions the owners must sign. A dry run ([`Options::dry_run`]) makes every check, prints every step with
//! its arguments (on EVM the contract's address, known from the deployer's nonce) and sends nothing.
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
};
use alloy::{
    primitives::{Address, B256, Bytes, U256, address, keccak256},
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolConstructor},
};
use network::{Network, Sent};

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
    /// Check and print every step; send nothing, write nothing.
    pub dry_run: bool,
    /// The chain spec the `[[chains]]` entry is appended to (created when missing).
    pub spec: PathBuf,
    /// Where the JSON record is written.
    pub record: PathBuf,
}

/// How a role was given.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum Grant {
    /// By the deployer, the admin itself.
    Admin {
        /// The transaction.
        tx: B256,
    },
    /// Executed through the Safe with the owner keys given.
    Safe {
        /// The transaction.
        tx: B256,
    },
    /// Still to do: this Safe transaction, for the owners to sign.
    Pending {
        /// The Safe.
        safe: Address,
        /// The call's target (the Settlement contract).
        to: Address,
        /// The call (`grantRole(role, account)`).
        data: Bytes,
    },
}

/// A role of the deployment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RoleRecord {
    /// OPERATOR_ROLE, TREASURER_ROLE or PAUSER_ROLE.
    pub role: String,
    /// Who holds it.
    pub account: Address,
    /// How it was given.
    pub grant: Grant,
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
    /// The account that sent the deployment.
    pub deployer: Address,
}

/// The keys the deployment signs with.
pub struct Keys {
    /// Sends the creation (pays its fee).
    pub deployer: PrivateKeySigner,
    /// Owners of the admin Safe (development and tests only): with enough of them the role grants are executed.
    pub safe_owners: Vec<PrivateKeySigner>,
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
    let args = Settlement::constructorCall {
        admin: options.admin,
        signer_: options.signer,
        allowedTokens: vec![NATIVE_TOKEN, usdt],
        nativePushGas_: U256::from(push.native),
        tokenPushGas_: U256::from(push.token),
    };
    let deployer = keys.deployer.address();
    let predicted = net.next_nonce(deployer).await?.map(|n| deployer.create(n));
    step(
        &mut steps,
        format!(
            "create Settlement(admin {}, signer {}, tokens [native, {usdt}], push gas {} native / {} token) from {deployer}{}",
            options.admin,
            options.signer,
            push.native,
            push.token,
            predicted.map_or(" (TRON: the address is known once it is mined)".into(), |a| format!(" at {a}"))
        ),
    );
    let roles =
        [("OPERATOR_ROLE", options.operator), ("TREASURER_ROLE", options.treasurer), ("PAUSER_ROLE", options.pauser)];
    let granter = if options.admin == deployer {
        "the deployer (the admin)".to_owned()
    } else if admin_safe.is_some() {
        format!("the Safe {}", options.admin)
    } else {
        format!("the admin {} (recorded: it must send them)", options.admin)
    };
    for (role, account) in roles {
        step(&mut steps, format!("grantRole({role}, {account}) by {granter}"));
    }
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

    let mut records = Vec::new();
    for (name, account) in roles {
        let role = role_of(&net, settlement, name).await?;
        let data: Bytes = Settlement::grantRoleCall { role, account }.abi_encode().into();
        let grant = if options.admin == deployer {
            Grant::Admin { tx: net.send(&keys.deployer, settlement, data.to_vec()).await?.tx }
        } else if admin_safe.as_ref().is_some_and(|s| enough_owners(s, &keys.safe_owners)) {
            let Sent { tx, .. } = safe::exec(&net, options.admin, &keys.safe_owners, settlement, data).await?;
            Grant::Safe { tx }
        } else {
            Grant::Pending { safe: options.admin, to: settlement, data }
        };
        step(&mut steps, format!("{name} → {account}: {}", serde_json::to_string(&grant)?));
        records.push(RoleRecord { role: name.to_owned(), account, grant });
    }

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
        deployer,
    };
    append_to_spec(options, &record)?;
    std::fs::write(&options.record, serde_json::to_string_pretty(&record)? + "\n")?;
    step(&mut steps, format!("recorded in {} and {}", options.spec.display(), options.record.display()));
    Ok(Outcome { steps, record: Some(record) })
}

fn enough_owners(safe: &safe::SafeInfo, keys: &[PrivateKeySigner]) -> bool {
    let mut held: Vec<Address> = keys.iter().map(|k| k.address()).filter(|a| safe.owners.contains(a)).collect();
    held.sort();
    held.dedup();
    held.len() as u64 >= safe.threshold
}

async fn role_of(net: &Network, settlement: Address, name: &str) -> eyre::Result<B256> {
    let call = match name {
        "OPERATOR_ROLE" => Settlement::OPERATOR_ROLECall {}.abi_encode(),
        "TREASURER_ROLE" => Settlement::TREASURER_ROLECall {}.abi_encode(),
        _ => Settlement::PAUSER_ROLECall {}.abi_encode(),
    };
    Ok(B256::from_slice(&net.read(settlement, call).await?))
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
