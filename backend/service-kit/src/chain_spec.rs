//! The chain spec: the one declaration of each chain a deployment serves — its id, the Settlement contract and
//! the block it was deployed at, its JSON-RPC endpoint and confirmation depth, and on a TRON chain its finality and
//! java-tron endpoints. One TOML file (`[[chains]]` tables) is read by the API (and its payout sender), the listener
//! and the reconciler; each service's own configuration names the file (`chain_spec = "chains.toml"`, relative to
//! that configuration file) and keeps only its tuning per chain, keyed by `chain_id`.
//!
//! A chain's family is [`Family::of`] its id: a TRON chain must carry a `[chains.tron]` table, an EVM chain must
//! not. Every address is the 20-byte 0x form (on TRON, a `T…` address without its 0x41 prefix).
//!
//! ```toml
//! [[chains]]
//! chain_id = 56
//! settlement = "0x…"
//! rpc_url = "https://…"          # JSON-RPC (on TRON: a full node's)
//! confirmations = 15             # blocks on top of a block before it is final (TRON: 0, solidified is final)
//! start_block = 41000000         # the Settlement deployment block
//! # development = true           # the devnet and tests only: anvil's well-known keys allowed (never on a mainnet)
//!
//! [[chains]]
//! chain_id = 728126428
//! settlement = "0x…"
//! rpc_url = "http://…:8545/jsonrpc"
//! confirmations = 0
//! start_block = 62000000
//! [chains.tron]
//! grpc_url = "http://…:50051"              # java-tron's Wallet (payouts)
//! solidity_grpc_url = "http://…:50061"     # WalletSolidity (solidified state; optional)
//! solidity_rpc_url = "http://…:8555/jsonrpc" # a Solidity node's JSON-RPC: its `latest` is the solidified block
//! finality = "solidity_latest"             # or "finalized_tag" (java-tron ≥ 4.8.0, read through rpc_url)
//! api_key_env = "TRON_PRO_API_KEY"         # the provider's key comes from this variable (optional)
//! ```
//!
//! After an upgrade (`ops/upgrades.md`) a chain has one live contract, `settlement`, and the contracts it replaced,
//! each a `[[chains.previous]]` table (`settlement`, `start_block`), still followed while they are wound down: the
//! listener reads the events of every one, the reconciler counts the custody of every one; payment payloads are
//! signed for the live one only.
//!
//! A TRON provider's API key (TronGrid's) is never in the file: `api_key_env` names the environment variable that
//! holds it, and every gRPC and JSON-RPC request to the chain's TRON endpoints carries it as
//! [`TRON_API_KEY_HEADER`] ([`TronSpec::api_key`], [`ChainSpec::http_client`]).

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use abi::chain::Family;
use alloy::primitives::Address;
use serde::Deserialize;

/// The header TRON providers read an API key from (TronGrid's `TRON-PRO-API-KEY`), on gRPC and HTTP alike.
pub const TRON_API_KEY_HEADER: &str = "TRON-PRO-API-KEY";

/// The longest API key accepted (providers' keys are UUIDs, 36 bytes).
const API_KEY_MAX_BYTES: usize = 256;

/// The default headers of a client whose requests carry the TRON provider's `key` ([`TRON_API_KEY_HEADER`],
/// marked sensitive so that it never shows in a log); empty without one.
pub fn api_key_headers(key: Option<&str>) -> Result<reqwest::header::HeaderMap, SpecError> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(key) = key {
        let mut value = reqwest::header::HeaderValue::from_str(key)
            .map_err(|e| SpecError::Invalid(format!("the API key is no header value: {e}")))?;
        value.set_sensitive(true);
        headers.insert(TRON_API_KEY_HEADER, value);
    }
    Ok(headers)
}

/// How a TRON chain's solidified (irreversible) head is learnt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TronFinality {
    /// A Solidity node's JSON-RPC (`solidity_rpc_url`): its `latest` is the solidified block.
    SolidityLatest,
    /// The `finalized` block tag (java-tron ≥ 4.8.0), on the full node's JSON-RPC (`rpc_url`).
    FinalizedTag,
}

/// A TRON chain's finality and java-tron endpoints (`[chains.tron]`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TronSpec {
    /// java-tron's gRPC `Wallet` (full node): the API builds, signs and broadcasts payouts through it; unset, the
    /// API sends no payout on this chain (503 `tron_grpc_not_configured`), and the listener and reconciler, which
    /// never use it, run as usual.
    #[serde(default)]
    pub grpc_url: Option<String>,
    /// java-tron's gRPC `WalletSolidity`; unset, the solidified block number comes from the full node's
    /// `GetNodeInfo`.
    #[serde(default)]
    pub solidity_grpc_url: Option<String>,
    /// A Solidity node's JSON-RPC: its `latest` is the solidified block, where the reconciler compares custody and
    /// (with `solidity_latest`) the listener applies blocks.
    pub solidity_rpc_url: String,
    /// How the listener learns the solidified head (default `solidity_latest`).
    #[serde(default = "default_finality")]
    pub finality: TronFinality,
    /// The environment variable holding the provider's API key, sent as [`TRON_API_KEY_HEADER`] on every request
    /// to this chain's TRON endpoints; unset, none is sent.
    #[serde(default)]
    pub api_key_env: Option<String>,
}

impl TronSpec {
    /// The API key from the variable `api_key_env` names (`None` when none is configured); an error when that
    /// variable is unset or empty, or the key is not a valid header value.
    pub fn api_key(&self) -> Result<Option<String>, SpecError> {
        let Some(name) = &self.api_key_env else { return Ok(None) };
        match std::env::var(name) {
            Ok(key) if (1..=API_KEY_MAX_BYTES).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
                Ok(Some(key))
            }
            Ok(_) => Err(SpecError::Invalid(format!("api_key_env names {name}, which holds no valid API key"))),
            Err(_) => Err(SpecError::Invalid(format!("api_key_env names {name}, which is not set"))),
        }
    }
}

fn default_finality() -> TronFinality {
    TronFinality::SolidityLatest
}

/// One chain: where its Settlement contract is and how it is read.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    /// The chain's id; its family is [`Family::of`] it.
    pub chain_id: u64,
    /// The Settlement contract (0x hex; on TRON its 20 bytes).
    pub settlement: Address,
    /// The chain's JSON-RPC endpoint (on TRON, a full node's). The listener and reconciler need it; the API without
    /// it answers 503 `chain_rpc_not_configured` where a call needs the chain. May carry a provider key (in its path,
    /// query or user part): the file is then a secret, and every service shows the URL redacted
    /// ([`crate::redact`]).
    #[serde(default)]
    pub rpc_url: Option<String>,
    /// Blocks on top of a block before it (and a payout transaction in it) counts as final: BSC ≈ 15–24, anvil
    /// small; 0 on TRON, where a solidified block is final.
    pub confirmations: u64,
    /// The Settlement deployment block: where an empty ledger starts reading (required: a listener that read from
    /// block 0 of a real network would spend days on blocks before the contract existed).
    pub start_block: u64,
    /// A development chain (the devnet, tests): anvil's well-known keys ([`crate::keys::WELL_KNOWN_DEV_ADDRESSES`])
    /// may hold the contract's roles and be the API's operator key. Refused on a mainnet's id
    /// ([`abi::chain::is_mainnet`]). Chain [`DEVNET_CHAIN_ID`] is one without saying so ([`Self::is_development`]).
    #[serde(default)]
    pub development: bool,
    /// A TRON chain's finality and endpoints: required on TRON's chain ids, refused on any other.
    #[serde(default)]
    pub tron: Option<TronSpec>,
    /// The contracts `settlement` replaced on this chain (`[[chains.previous]]`), oldest first: wound down (no
    /// payment is signed for them) but followed until their custody is paid out.
    #[serde(default)]
    pub previous: Vec<PreviousContract>,
}

/// A Settlement contract an upgrade replaced, still followed while it is wound down (`[[chains.previous]]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviousContract {
    /// The old contract (0x hex; on TRON its 20 bytes).
    pub settlement: Address,
    /// Its deployment block.
    pub start_block: u64,
}

/// The most contracts a chain may have wound down at once: an upgrade waits for the one before it to be paid out.
pub const MAX_PREVIOUS_CONTRACTS: usize = 4;

/// anvil's (and hardhat's) default chain id, which no public network uses: always a development chain.
pub const DEVNET_CHAIN_ID: u64 = 31_337;

impl ChainSpec {
    /// An EVM-read chain with no RPC, zero confirmations and start block (filled in by the caller).
    pub fn new(chain_id: u64, settlement: Address) -> Self {
        Self {
            chain_id,
            settlement,
            rpc_url: None,
            confirmations: 0,
            start_block: 0,
            development: false,
            tron: None,
            previous: Vec::new(),
        }
    }

    /// Every contract of the chain with its deployment block: the live one first, then the previous ones, oldest
    /// first.
    pub fn contracts(&self) -> Vec<(Address, u64)> {
        std::iter::once((self.settlement, self.start_block))
            .chain(self.previous.iter().map(|p| (p.settlement, p.start_block)))
            .collect()
    }

    /// The contracts' addresses, the live one first.
    pub fn contract_addresses(&self) -> Vec<Address> {
        self.contracts().into_iter().map(|(address, _)| address).collect()
    }

    /// The first block any of the chain's contracts exists at: where an empty ledger starts reading.
    pub fn first_block(&self) -> u64 {
        self.previous.iter().map(|p| p.start_block).fold(self.start_block, u64::min)
    }

    /// Whether anvil's well-known keys may be used on this chain: chain [`DEVNET_CHAIN_ID`], or a chain declared
    /// `development = true` that is no mainnet (the devnet's TRON stand-in, which has Nile's id; tests). Never on a
    /// mainnet, whatever the spec says.
    pub fn is_development(&self) -> bool {
        self.chain_id == DEVNET_CHAIN_ID || (self.development && !abi::chain::is_mainnet(self.chain_id))
    }

    /// `rpc_url` as it may be shown: its credentials and key hidden ([`crate::redact::url`]).
    pub fn shown_rpc_url(&self) -> Option<String> {
        self.rpc_url.as_deref().map(crate::redact::url)
    }

    /// The chain's family ([`Family::of`] its id).
    pub fn family(&self) -> Family {
        Family::of(self.chain_id)
    }

    /// `rpc_url`, or an error naming the chain and `service`, which cannot run without it.
    pub fn require_rpc_url(&self, service: &str) -> Result<&str, SpecError> {
        self.rpc_url.as_deref().ok_or(SpecError::Invalid(format!(
            "chain {}: the {service} needs its rpc_url in the chain spec",
            self.chain_id
        )))
    }

    /// An HTTP client for this chain's JSON-RPC endpoints, abandoning a request after `timeout`; on a TRON chain with
    /// an API key ([`TronSpec::api_key`]) every request carries it.
    pub fn http_client(&self, timeout: Duration) -> Result<reqwest::Client, SpecError> {
        let key = self.tron.as_ref().map(TronSpec::api_key).transpose()?.flatten();
        let headers = api_key_headers(key.as_deref())?;
        reqwest::Client::builder()
            .timeout(timeout)
            .default_headers(headers)
            .build()
            .map_err(|e| SpecError::Invalid(format!("chain {}: HTTP client: {e}", self.chain_id)))
    }

    /// The JSON-RPC endpoint whose `latest` block is final, with the TRON finality it is read under (`None` on an
    /// EVM chain, where `confirmations` below `latest` are final): on TRON the Solidity node's, or with
    /// `finalized_tag` the full node's.
    pub fn final_rpc_url(&self, service: &str) -> Result<(&str, Option<TronFinality>), SpecError> {
        match &self.tron {
            Some(tron) if tron.finality == TronFinality::SolidityLatest => {
                Ok((tron.solidity_rpc_url.as_str(), Some(TronFinality::SolidityLatest)))
            }
            Some(tron) => Ok((self.require_rpc_url(service)?, Some(tron.finality))),
            None => Ok((self.require_rpc_url(service)?, None)),
        }
    }

    fn validate(&self) -> Result<(), SpecError> {
        let id = self.chain_id;
        let invalid = |why: String| Err(SpecError::Invalid(format!("chain {id}: {why}")));
        match (self.family(), &self.tron) {
            (Family::Tron, None) => {
                return invalid(
                    "a TRON chain needs its [chains.tron] table (solidity_rpc_url, finality, grpc_url)".into(),
                );
            }
            (Family::Evm, Some(_)) => {
                return invalid(format!(
                    "[chains.tron] is set, but {id} is not a TRON chain id (TRON's are {:?})",
                    Family::tron_chain_ids()
                ));
            }
            (Family::Tron, Some(_)) if self.confirmations != 0 => {
                return invalid("confirmations must be 0 on TRON: a solidified block is final".into());
            }
            _ => {}
        }
        if self.development && abi::chain::is_mainnet(id) {
            return invalid(
                "development = true is refused on a mainnet: anvil's well-known keys must never hold anything there; \
                 remove it"
                    .into(),
            );
        }
        if self.previous.len() > MAX_PREVIOUS_CONTRACTS {
            return invalid(format!(
                "{} previous contracts: at most {MAX_PREVIOUS_CONTRACTS} are followed at once; drop one whose custody \
                 is paid out",
                self.previous.len()
            ));
        }
        let contracts = self.contracts();
        for (i, (address, start)) in contracts.iter().enumerate() {
            if contracts[..i].iter().any(|(a, _)| a == address) {
                return invalid(format!("contract {address} is named twice (settlement and [[chains.previous]])"));
            }
            if i > 0 && *start > self.start_block {
                return invalid(format!(
                    "previous contract {address} starts at block {start}, after the live contract's start_block {}: \
                     the live contract is the newest",
                    self.start_block
                ));
            }
        }
        let mut urls: Vec<(&str, &str)> = self.rpc_url.iter().map(|u| ("rpc_url", u.as_str())).collect();
        if let Some(tron) = &self.tron {
            urls.extend(tron.grpc_url.iter().map(|u| ("tron.grpc_url", u.as_str())));
            urls.push(("tron.solidity_rpc_url", &tron.solidity_rpc_url));
            urls.extend(tron.solidity_grpc_url.iter().map(|u| ("tron.solidity_grpc_url", u.as_str())));
        }
        for (field, url) in urls {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return invalid(format!("{field} must be an http(s) URL"));
            }
        }
        Ok(())
    }
}

/// Why a chain spec was refused.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("chain spec {0}: {1}")]
    Read(String, std::io::Error),
    /// The file is not TOML of the spec's shape.
    #[error("chain spec: {0}")]
    Parse(#[from] toml::de::Error),
    /// A chain is declared wrongly (the message names it and says what to fix).
    #[error("chain spec: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    chains: Vec<ChainSpec>,
}

/// Every chain of a deployment, each id once, in the file's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainSpecs(Vec<ChainSpec>);

impl ChainSpecs {
    /// Reads and checks the spec at `path`.
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError::Read(path.display().to_string(), e))?;
        Self::parse(&text)
    }

    /// Checks the spec's text: at least one chain, each id once, each chain's family and URLs.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let file: File = toml::from_str(text)?;
        Self::new(file.chains)
    }

    /// Checks chains declared in code as a file's would be.
    pub fn new(chains: Vec<ChainSpec>) -> Result<Self, SpecError> {
        if chains.is_empty() {
            return Err(SpecError::Invalid("no [[chains]] declared".into()));
        }
        for (i, chain) in chains.iter().enumerate() {
            chain.validate()?;
            if chains[..i].iter().any(|c| c.chain_id == chain.chain_id) {
                return Err(SpecError::Invalid(format!("chain {} is declared twice", chain.chain_id)));
            }
        }
        Ok(Self(chains))
    }

    /// The chains, in the file's order.
    pub fn chains(&self) -> &[ChainSpec] {
        &self.0
    }

    /// The chain with this id.
    pub fn get(&self, chain_id: u64) -> Option<&ChainSpec> {
        self.0.iter().find(|c| c.chain_id == chain_id)
    }

    /// Each service's `[[chains]]` tuning entry joined to its chain: an entry naming a chain the spec does not
    /// declare, or one named twice, is refused; a chain without an entry gets `default(chain_id)`.
    pub fn join<T>(
        &self,
        tuning: Vec<T>,
        chain_id: impl Fn(&T) -> u64,
        default: impl Fn(u64) -> T,
    ) -> Result<Vec<(ChainSpec, T)>, SpecError> {
        let mut tuning: Vec<Option<T>> = tuning.into_iter().map(Some).collect();
        for (i, entry) in tuning.iter().enumerate() {
            let id = chain_id(entry.as_ref().expect("all present"));
            if self.get(id).is_none() {
                return Err(SpecError::Invalid(format!(
                    "[[chains]] names chain {id}, which the chain spec does not declare"
                )));
            }
            if tuning[..i].iter().any(|t| t.as_ref().map(&chain_id) == Some(id)) {
                return Err(SpecError::Invalid(format!("[[chains]] names chain {id} twice")));
            }
        }
        Ok(self
            .0
            .iter()
            .map(|spec| {
                let entry = tuning
                    .iter_mut()
                    .find(|t| t.as_ref().map(&chain_id) == Some(spec.chain_id))
                    .and_then(Option::take)
                    .unwrap_or_else(|| default(spec.chain_id));
                (spec.clone(), entry)
            })
            .collect())
    }
}

/// `path` as a configuration file at `config` names it: a relative path is taken from that file's directory.
pub fn beside(config: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    config.parent().map_or_else(|| path.to_path_buf(), |dir| dir.join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVM: &str = r#"
[[chains]]
chain_id = 56
settlement = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
rpc_url = "https://bsc.example"
confirmations = 15
start_block = 7
"#;

    const TRON: &str = r#"
[[chains]]
chain_id = 3448148188
settlement = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
rpc_url = "http://127.0.0.1:8555"
confirmations = 0
start_block = 3
[chains.tron]
grpc_url = "http://127.0.0.1:50051"
solidity_rpc_url = "http://127.0.0.1:8556"
"#;

    fn refusal(text: &str) -> String {
        ChainSpecs::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn the_tron_api_key_comes_from_the_variable_api_key_env_names() {
        let tron = |variable: &str| {
            let text = format!("{TRON}api_key_env = \"{variable}\"\n");
            ChainSpecs::parse(&text).unwrap().chains()[0].tron.clone().unwrap()
        };
        // cargo sets CARGO_PKG_NAME for the tests it runs.
        assert_eq!(tron("CARGO_PKG_NAME").api_key().unwrap().as_deref(), Some("service-kit"));
        let unset = tron("REFERRAL_TEST_UNSET_API_KEY").api_key().unwrap_err().to_string();
        assert!(unset.contains("api_key_env names REFERRAL_TEST_UNSET_API_KEY, which is not set"), "{unset}");
        let none = ChainSpecs::parse(TRON).unwrap().chains()[0].tron.clone().unwrap();
        assert_eq!(none.api_key().unwrap(), None);
    }

    #[test]
    fn an_evm_and_a_tron_chain_are_read_with_their_final_endpoints() {
        let specs = ChainSpecs::parse(&format!("{EVM}{TRON}")).unwrap();
        let bsc = specs.get(56).unwrap();
        assert_eq!((bsc.confirmations, bsc.start_block, bsc.family()), (15, 7, Family::Evm));
        assert_eq!(bsc.final_rpc_url("listener").unwrap(), ("https://bsc.example", None));
        let nile = specs.get(3_448_148_188).unwrap();
        assert_eq!(nile.family(), Family::Tron);
        assert_eq!(
            nile.final_rpc_url("listener").unwrap(),
            ("http://127.0.0.1:8556", Some(TronFinality::SolidityLatest))
        );
        let tagged = ChainSpecs::parse(&format!("{TRON}finality = \"finalized_tag\"\n")).unwrap();
        assert_eq!(
            tagged.chains()[0].final_rpc_url("listener").unwrap(),
            ("http://127.0.0.1:8555", Some(TronFinality::FinalizedTag))
        );
    }

    #[test]
    fn a_family_mismatch_a_twice_declared_chain_and_bad_urls_are_refused_with_what_to_fix() {
        assert!(refusal(&TRON.replace("[chains.tron]", "[unused]")).contains("unknown field"));
        let no_tron = TRON.split("[chains.tron]").next().unwrap();
        assert!(refusal(no_tron).contains("needs its [chains.tron] table"), "{}", refusal(no_tron));
        let evm_with_tron = TRON.replace("3448148188", "97");
        assert!(refusal(&evm_with_tron).contains("not a TRON chain id"), "{}", refusal(&evm_with_tron));
        let confirmed = TRON.replace("confirmations = 0", "confirmations = 19");
        assert!(refusal(&confirmed).contains("confirmations must be 0 on TRON"));
        assert!(refusal(&format!("{EVM}{EVM}")).contains("declared twice"));
        assert!(
            refusal(&EVM.replace("https://bsc.example", "javascript:x")).contains("rpc_url must be an http(s) URL")
        );
        assert!(refusal("chains = []").contains("no [[chains]]"));
        assert!(refusal(&EVM.replace("0x5FbDB", "0xZZ")).contains("chain spec"));
        let unknown = EVM.replace("start_block", "stat_block");
        assert!(refusal(&unknown).contains("unknown field"), "{}", refusal(&unknown));
    }

    #[test]
    fn development_is_declared_off_mainnet_only_and_31337_is_one() {
        let nile = ChainSpecs::parse(TRON).unwrap().chains()[0].clone();
        assert!(!nile.is_development(), "Nile is a public testnet unless declared otherwise");
        let declared = TRON.replace("start_block = 3\n", "start_block = 3\ndevelopment = true\n");
        assert!(ChainSpecs::parse(&declared).unwrap().chains()[0].is_development());
        let mainnet = EVM.replace("start_block = 7\n", "start_block = 7\ndevelopment = true\n");
        let refused = refusal(&mainnet);
        assert!(refused.contains("chain 56: development = true is refused on a mainnet"), "{refused}");
        // Built in code past the parser, a mainnet is still no development chain.
        let forced = ChainSpec { development: true, ..ChainSpec::new(56, Address::ZERO) };
        assert!(!forced.is_development());
        assert!(ChainSpec::new(DEVNET_CHAIN_ID, Address::ZERO).is_development());
    }

    #[test]
    fn tuning_joins_its_chain_and_names_only_declared_chains_once() {
        let specs = ChainSpecs::parse(&format!("{EVM}{TRON}")).unwrap();
        let joined = specs.join(vec![(3_448_148_188u64, "tron")], |t| t.0, |id| (id, "default")).unwrap();
        assert_eq!(
            joined.iter().map(|(s, t)| (s.chain_id, t.1)).collect::<Vec<_>>(),
            [(56, "default"), (3_448_148_188, "tron")]
        );
        let stray = specs.join(vec![(1u64, "x")], |t| t.0, |id| (id, "")).unwrap_err();
        assert!(stray.to_string().contains("does not declare"), "{stray}");
        let twice = specs.join(vec![(56u64, "a"), (56, "b")], |t| t.0, |id| (id, "")).unwrap_err();
        assert!(twice.to_string().contains("twice"), "{twice}");
    }

    #[test]
    fn previous_contracts_are_followed_beside_the_live_one_and_checked() {
        let upgraded = format!(
            "{EVM}[[chains.previous]]\nsettlement = \"0x0000000000000000000000000000000000000abc\"\nstart_block = 3\n"
        );
        let specs = ChainSpecs::parse(&upgraded).unwrap();
        let bsc = specs.get(56).unwrap();
        let old: Address = "0x0000000000000000000000000000000000000abc".parse().unwrap();
        assert_eq!(bsc.contracts(), [(bsc.settlement, 7), (old, 3)]);
        assert_eq!(bsc.first_block(), 3);
        assert_eq!(ChainSpecs::parse(EVM).unwrap().get(56).unwrap().first_block(), 7);
        let twice = upgraded
            .replace("0x0000000000000000000000000000000000000abc", "0x5FbDB2315678afecb367f032d93F642f64180aa3");
        assert!(refusal(&twice).contains("named twice"), "{}", refusal(&twice));
        let newer = upgraded.replace("start_block = 3", "start_block = 9");
        assert!(refusal(&newer).contains("after the live contract's start_block 7"), "{}", refusal(&newer));
        let many: String =
            (1..=5).map(|i| format!("[[chains.previous]]\nsettlement = \"0x{i:040x}\"\nstart_block = 1\n")).collect();
        assert!(refusal(&format!("{EVM}{many}")).contains("at most 4"), "{}", refusal(&format!("{EVM}{many}")));
        assert!(refusal(&format!("{EVM}[[chains.previous]]\nsettlement = \"0x{:040x}\"\n", 1)).contains("start_block"));
    }

    #[test]
    fn a_relative_spec_path_is_read_beside_the_configuration() {
        assert_eq!(
            beside(Path::new("/etc/app/listener.toml"), Path::new("chains.toml")),
            Path::new("/etc/app/chains.toml")
        );
        assert_eq!(beside(Path::new("/etc/app/listener.toml"), Path::new("/srv/c.toml")), Path::new("/srv/c.toml"));
        assert_eq!(beside(Path::new("listener.toml"), Path::new("chains.toml")), Path::new("chains.toml"));
    }
}
