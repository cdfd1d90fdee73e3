//! The deployment's JSON record, written before the first transaction and after every step, so that no deployment
//! is ever lost or made twice ([`Journal`]):
//!
//! 1. `creating` — what is about to be sent: the profile, the deployer, the constructor's arguments (readable, and
//!    as encoded after the bytecode), on EVM the address the creation will have (from the deployer's nonce);
//! 2. `sent` — the creating transaction, signed: its id (and on EVM its nonce and signed bytes, on TRON its
//!    expiration) is written before it is broadcast;
//! 3. `created` — the contract's address, block and code hash, once it is mined and its code checked;
//! 4. `complete` — the chain spec's `[[chains]]` entry is appended.
//!
//! A rerun with the same record resumes from its status: it finds the creation by its transaction (or its
//! predicted address), broadcasts the recorded bytes again when the node lost them (never a second creation: on EVM
//! only one transaction of a nonce is ever mined, on TRON nothing is mined after its expiration), and finishes the
//! record and the spec. The file is replaced whole (written beside it, then renamed), never left half written.

use std::path::Path;

use alloy::primitives::{Address, B256, Bytes};

use crate::{BoundsRecord, Record, RoleRecord, safe::SafeInfo, tron_multisig::AccountRecord};

/// How far a deployment got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nothing sent yet: the record says what will be.
    Creating,
    /// The creation is signed and (perhaps) broadcast: [`Journal::creation`] names it.
    Sent,
    /// The contract exists and its code is checked; the chain spec is not written yet.
    Created,
    /// Done: the contract and the chain spec's entry.
    Complete,
}

/// The constructor's argument (`SettlementConfig`), readable and as encoded.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConstructorRecord {
    /// The default admin.
    pub admin: Address,
    /// The signer.
    pub signer: Address,
    /// OPERATOR_ROLE's first holders.
    pub operators: Vec<Address>,
    /// TREASURER_ROLE's first holders.
    pub treasurers: Vec<Address>,
    /// PAUSER_ROLE's first holders.
    pub pausers: Vec<Address>,
    /// The tokens allowed from the start (the zero address: the native coin).
    pub tokens: Vec<Address>,
    /// Gas per pushed native payment.
    pub native_push_gas: u64,
    /// Gas per pushed token payment.
    pub token_push_gas: u64,
    /// Seconds a change of a money power waits.
    pub delay_secs: u64,
    /// Most blocks a liability commitment's as-of block may trail.
    pub max_as_of_lag: u64,
    /// Most seconds since a commitment for a treasury transfer.
    pub treasury_commitment_max_age_secs: u64,
    /// Seconds without a commitment after which the members' exit may open (a record from before the exit: 0).
    #[serde(default)]
    pub exit_after_secs: u64,
    /// The ABI-encoded argument, as it follows the creation bytecode.
    pub encoded: Bytes,
}

/// The creating transaction, recorded before it is broadcast.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CreationRecord {
    /// Its hash (TRON: its id).
    pub tx: B256,
    /// EVM: the deployer's account nonce it uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u64>,
    /// EVM: the signed transaction, broadcast again when a node lost it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<Bytes>,
    /// TRON: its expiration (Unix ms, against the head block's time): not in a block by then, it never will be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_ms: Option<i64>,
}

/// A creation that can never be mined (its nonce taken by another transaction, expired, or reverted).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AbandonedRecord {
    /// Its hash.
    pub tx: B256,
    /// Why it is given up.
    pub why: String,
}

/// The record as written at every step (see the module's documentation). Once `complete`, its fields are those of
/// [`Record`] plus the creation's history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Journal {
    /// How far the deployment got.
    pub status: Status,
    /// The profile.
    pub profile: String,
    /// The chain id.
    pub chain_id: u64,
    /// The Settlement contract, once created.
    pub settlement: Option<Address>,
    /// On TRON, its `T…` address.
    pub settlement_base58: Option<String>,
    /// The block of its creation.
    pub deploy_block: Option<u64>,
    /// Its creating transaction.
    pub deploy_tx: Option<B256>,
    /// keccak256 of its runtime code as deployed.
    pub code_hash: Option<B256>,
    /// EVM: the address the creation gets (from the deployer's nonce), known before it is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_settlement: Option<Address>,
    /// The admin.
    pub admin: Address,
    /// The admin Safe's version, owners and threshold, when the admin is a Safe.
    pub admin_safe: Option<SafeInfo>,
    /// On TRON, the admin account's permissions (a multi-signature account on mainnet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_tron: Option<AccountRecord>,
    /// The signer key.
    pub signer: Address,
    /// The allowed USDT.
    pub usdt: Address,
    /// Push gas per native and per token payment.
    pub push_gas: (u64, u64),
    /// The roles, held from the creation.
    pub roles: Vec<RoleRecord>,
    /// The bounds fixed for the contract's life.
    pub bounds: BoundsRecord,
    /// The account that sends the creation.
    pub deployer: Address,
    /// The proof of solvency's maximum age in blocks (the dApp's).
    pub proof_max_age_blocks: u64,
    /// The constructor's argument.
    pub constructor: ConstructorRecord,
    /// The creating transaction, once signed.
    pub creation: Option<CreationRecord>,
    /// Creations given up (they can never be mined).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub abandoned: Vec<AbandonedRecord>,
    /// The contracts this deployment replaces on the chain, oldest first (an upgrade; `--replaces`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous: Vec<crate::PreviousContract>,
}

impl Journal {
    /// The record at `path`, if there is one.
    pub fn read(path: &Path) -> eyre::Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(eyre::eyre!("{}: {e}", path.display())),
        };
        let journal = serde_json::from_str(&text).map_err(|e| {
            eyre::eyre!(
                "{}: not a deployment record of this tool ({e}): give another --record, or move this file away",
                path.display()
            )
        })?;
        Ok(Some(journal))
    }

    /// Writes the record to `path` whole: beside it first, then renamed over it (its folder is created).
    pub fn write(&self, path: &Path) -> eyre::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| eyre::eyre!("{}: {e}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(self)? + "\n";
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".writing");
        let temporary = std::path::PathBuf::from(temporary);
        {
            use std::io::Write;
            let mut file =
                std::fs::File::create(&temporary).map_err(|e| eyre::eyre!("{}: {e}", temporary.display()))?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
        }
        std::fs::rename(&temporary, path).map_err(|e| eyre::eyre!("{}: {e}", path.display()))?;
        Ok(())
    }

    /// Refuses to resume this record with another deployment's arguments, naming what differs.
    pub fn check_same(
        &self,
        profile: &str,
        chain_id: u64,
        deployer: Address,
        constructor: &ConstructorRecord,
    ) -> eyre::Result<()> {
        let mut differ = Vec::new();
        if self.profile != profile {
            differ.push(format!("profile {} (now {profile})", self.profile));
        }
        if self.chain_id != chain_id {
            differ.push(format!("chain {} (now {chain_id})", self.chain_id));
        }
        if self.deployer != deployer {
            differ.push(format!("deployer {} (now {deployer})", self.deployer));
        }
        let (was, now) = (&self.constructor, constructor);
        let fields: [(&str, String, String); 12] = [
            ("admin", was.admin.to_string(), now.admin.to_string()),
            ("signer", was.signer.to_string(), now.signer.to_string()),
            ("operators", format!("{:?}", was.operators), format!("{:?}", now.operators)),
            ("treasurers", format!("{:?}", was.treasurers), format!("{:?}", now.treasurers)),
            ("pausers", format!("{:?}", was.pausers), format!("{:?}", now.pausers)),
            ("tokens", format!("{:?}", was.tokens), format!("{:?}", now.tokens)),
            ("native push gas", was.native_push_gas.to_string(), now.native_push_gas.to_string()),
            ("token push gas", was.token_push_gas.to_string(), now.token_push_gas.to_string()),
            ("change delay", was.delay_secs.to_string(), now.delay_secs.to_string()),
            ("maximum as-of lag", was.max_as_of_lag.to_string(), now.max_as_of_lag.to_string()),
            (
                "treasury commitment age",
                was.treasury_commitment_max_age_secs.to_string(),
                now.treasury_commitment_max_age_secs.to_string(),
            ),
            ("exit after", was.exit_after_secs.to_string(), now.exit_after_secs.to_string()),
        ];
        for (name, a, b) in fields {
            if a != b {
                differ.push(format!("{name} {a} (now {b})"));
            }
        }
        if differ.is_empty() && was.encoded != now.encoded {
            differ.push("the encoded constructor argument".into());
        }
        eyre::ensure!(
            differ.is_empty(),
            "the record is of another deployment — {}: rerun with its arguments to finish it, or give another \
             --record for a new deployment; nothing was sent",
            differ.join(", ")
        );
        Ok(())
    }

    /// The finished deployment, once complete.
    pub fn record(&self) -> Option<Record> {
        if self.status != Status::Complete {
            return None;
        }
        self.fields()
    }

    /// The deployment's fields, once the contract is created (whether or not the chain spec is written yet).
    pub fn fields(&self) -> Option<Record> {
        Some(Record {
            profile: self.profile.clone(),
            chain_id: self.chain_id,
            settlement: self.settlement?,
            settlement_base58: self.settlement_base58.clone(),
            deploy_block: self.deploy_block?,
            deploy_tx: self.deploy_tx?,
            code_hash: self.code_hash?,
            admin: self.admin,
            admin_safe: self.admin_safe.clone(),
            admin_tron: self.admin_tron.clone(),
            signer: self.signer,
            usdt: self.usdt,
            push_gas: self.push_gas,
            roles: self.roles.clone(),
            bounds: self.bounds,
            deployer: self.deployer,
            proof_max_age_blocks: self.proof_max_age_blocks,
            previous: self.previous.clone(),
        })
    }
}
