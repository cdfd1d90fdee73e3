//! The preflight check of a live configuration: before money moves, every chain of the chain spec is asked what the
//! services will rely on, and each misconfiguration is reported with what to fix.
//!
//! Checked per chain ([`check_chain`]):
//!
//! * `chain_id` — the spec's `rpc_url` (and on TRON its `solidity_rpc_url`) answers the declared chain id;
//! * `code` — the code at `settlement` is this build's Settlement (immutables aside, [`abi::code`]);
//! * `signer` — the contract's `signer` is the signer service's key (when the caller knows it);
//! * `operator_role`, `operator_balance` — the payout operator holds `OPERATOR_ROLE` and the native coin for the
//!   next batches (when the caller names one);
//! * `admin` — on a mainnet ([`abi::chain::is_mainnet`]) the contract's admin is a Safe that needs at least two
//!   owners' signatures, not a key; an admin with code is a Safe on every chain but a development one (the deploy
//!   tool's rule, [`abi::safe::SafeInfo`]); on TRON mainnet an admin without code must be a multi-signature account
//!   ([`tron_single_key`], read through the full node's gRPC);
//! * `push_gas` — the contract forwards at least its family's push gas ([`abi::chain::Family::push_gas`]);
//! * `delay` — on a mainnet every change of a money power waits at least 7 days (the members' window to leave)
//!   ([`abi::deployment::MAINNET_MIN_DELAY_SECS`]), and so does the admin role's own transfer;
//! * `pending_change` — a change of the signer, a money role, a token or the push gas scheduled and not yet applied
//!   (a warning: it may be legitimate, and the reconciler pages it);
//! * `solidity_trails` — on TRON, the Solidity endpoints (JSON-RPC, and gRPC when configured) really trail the full
//!   node's head: an endpoint at the head is a full node, whose blocks are not final (with
//!   `finality = "finalized_tag"`, the full node's `finalized` block must trail its head instead);
//! * `api_key` — on TRON, the variable `api_key_env` names holds a key, and no endpoint refuses the requests for want
//!   of one;
//! * `tls` — on a mainnet every endpoint is `https`, but one on this machine's loopback (a self-hosted node next to
//!   the service), which never crosses a network;
//! * `dev_key` — anvil's well-known development keys ([`service_kit::keys`], public to everyone) hold none of the
//!   contract's powers — signer, admin (or the admin being transferred to), operator, treasurer, pauser — but on a
//!   development chain ([`ChainSpec::is_development`]) ([`keys`]);
//! * `money_roles` — on a mainnet no key holds two money roles (signer, operator, treasurer, pauser): the holders
//!   are the signer, the operator the caller names and every account granted a role at the deployment block
//!   ([`keys`]);
//! * `start_block` — the chain spec's `start_block` is at or before the contract's deployment block (the first block
//!   with its code, found by binary search on `eth_getCode`, or where no historical state is served, as TRON's
//!   JSON-RPC, the block of its first event): later, the events between would never reach the ledger
//!   ([`deployment`]);
//! * `tron_network` — on TRON every endpoint (JSON-RPC and gRPC, full and Solidity) answers the same genesis block,
//!   none of another TRON network (TRON's chain id is the last 4 bytes of the genesis block id) ([`tron_network`]);
//! * `signer_node` — the signer service's own node of the chain (its `[policy.chains.node]`, as its `GET /v1/signer`
//!   shows it) answers this chain's id, on an EVM chain counts blocks confirmed no deeper than the chain spec's
//!   `confirmations` (the API's commitments are as of the listener's confirmed block; the signer refuses one above its
//!   own), and on a
//!   mainnet is reached over TLS (or on the signer's loopback) ([`check_chain_with`]);
//! * `signer_approvals` — on a mainnet the signer service requires staff approvals for every outflow (its
//!   `GET /v1/signer` says `approvals`; issue 65) ([`check_chain_with`]).
//!
//! A check that cannot be made for want of what to compare with (no operator configured, no signer service known,
//! no node of the signer's on this chain) is listed as [`Level::Skipped`], with why: nobody should take a silent pass
//! for a checked one. Every message is shown with its URLs redacted ([`service_kit::redact`]).
//!
//! The `preflight` command (`backend/src/bin/preflight.rs`: it reads the API's configuration, so it also knows
//! the signer and the operators) runs every check and exits non-zero on anything but a pass (skipped checks are
//! listed and pass). The API runs the checks at start and refuses to start on a proven misconfiguration
//! ([`refuse_failures`]): it moves money. The listener and the reconciler start whatever the checks find and keep
//! watching ([`at_start_watching`]): a monitor that refuses to run after a compromise switches monitoring off exactly
//! when it matters; the reconciler pages each finding instead. An endpoint that cannot be reached only warns (the
//! services retry it as they always do).

#![warn(missing_docs)]

pub mod deployment;
mod grpc;
pub mod keys;
pub mod tron_network;

use std::time::Duration;

use abi::{
    Settlement,
    chain::{Family, is_mainnet},
};
use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
};
use service_kit::chain_spec::{ChainSpec, TronFinality};
pub use signer_client::api::{NodeInfo, SignerInfo};

/// How long one endpoint may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Proven wrong: money would be lost, or nothing would work. A service refuses to start.
    Fail,
    /// Could not be checked (an endpoint did not answer). The command fails; a service starts and retries.
    Unverified,
    /// Works, but needs a person soon (a low operator balance).
    Warn,
    /// Not checked, for want of what to check it against (the message says what, and why). Passes.
    Skipped,
}

/// One thing found wrong or left unchecked.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The chain.
    pub chain_id: u64,
    /// Which check (`chain_id`, `code`, `signer`, `operator_role`, `operator_balance`, `admin`, `push_gas`, `delay`,
    /// `pending_change`, `solidity_trails`, `api_key`, `tls`, `rpc`).
    pub check: &'static str,
    /// How bad it is.
    pub level: Level,
    /// What is wrong and what to fix (its URLs redacted).
    pub message: String,
    /// What the finding is about within its check, when a check can find several (the field, the address, the
    /// role): with the chain and the check, a stable name of the finding (the reconciler's alert key).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
}

impl Finding {
    /// A finding of `check` on `chain_id`, its message redacted ([`service_kit::redact::text`]).
    pub fn new(chain_id: u64, check: &'static str, level: Level, message: impl AsRef<str>) -> Self {
        let message = service_kit::redact::text(message.as_ref());
        Finding { chain_id, check, level, message, subject: String::new() }
    }

    /// This finding about `subject` (see [`Finding::subject`]).
    pub fn about(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }
}

/// What the caller knows that the chain must agree with.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    /// The address of the signer service's key: the contract's `signer` must be it.
    pub signer: Option<Address>,
    /// The payout operator (sends batches with OPERATOR_ROLE), and the native balance it needs for the next
    /// batches (wei; SUN on TRON).
    pub operator: Option<(Address, U256)>,
}

/// Every finding of every chain of `specs`, each chain checked with what `expect` says of it.
pub async fn check_all(specs: &[ChainSpec], expect: impl Fn(u64) -> Expectations) -> Vec<Finding> {
    check_all_with(specs, expect, None).await
}

/// [`check_all`], with what the signer service said of itself (`GET /v1/signer`; `None`: not asked): its own nodes,
/// whether it requires approvals.
pub async fn check_all_with(
    specs: &[ChainSpec],
    expect: impl Fn(u64) -> Expectations,
    signer: Option<&SignerInfo>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for spec in specs {
        findings.extend(check_chain_with(spec, &expect(spec.chain_id), signer).await);
    }
    findings
}

/// Runs [`check_all`] at a service's start: logs every finding, and refuses the start (an error naming each) when
/// one is a [`Level::Fail`].
pub async fn at_start(service: &str, specs: &[ChainSpec], expect: impl Fn(u64) -> Expectations) -> eyre::Result<()> {
    let findings = check_all(specs, expect).await;
    refuse_failures(service, specs.len(), &findings)
}

/// Runs [`check_all_with`] at the start of a service that watches (the listener, the reconciler): logs every finding
/// and returns them; never refuses the start.
pub async fn at_start_watching(
    service: &str,
    specs: &[ChainSpec],
    expect: impl Fn(u64) -> Expectations,
    signer: Option<&SignerInfo>,
) -> Vec<Finding> {
    let findings = check_all_with(specs, expect, signer).await;
    log(service, &findings);
    if findings.iter().any(|f| f.level == Level::Fail) {
        tracing::error!(service, "preflight: the chains disagree with the configuration; running on, watching");
    }
    findings
}

/// Logs each finding: a failure as an error, what could not be checked or needs a person as a warning, a skipped
/// check as information.
pub fn log(service: &str, findings: &[Finding]) {
    for f in findings {
        let (chain_id, check) = (f.chain_id, f.check);
        match f.level {
            Level::Fail => tracing::error!(service, chain_id, check, "preflight: {}", f.message),
            Level::Unverified | Level::Warn => tracing::warn!(service, chain_id, check, "preflight: {}", f.message),
            Level::Skipped => tracing::info!(service, chain_id, check, "preflight skipped: {}", f.message),
        }
    }
}

/// What the signer service at `url` says of itself (`GET /v1/signer`, unauthenticated): its key and its own node of
/// each chain.
pub async fn ask_signer(url: &str) -> Result<SignerInfo, String> {
    let client = reqwest::Client::builder().timeout(TIMEOUT).build().map_err(|e| e.to_string())?;
    let url = format!("{}{}", url.trim_end_matches('/'), signer_client::api::SIGNER_PATH);
    let answer = client.get(&url).send().await.map_err(|e| service_kit::redact::text(&e.to_string()))?;
    if !answer.status().is_success() {
        return Err(format!("GET {} answered {}", service_kit::redact::url(&url), answer.status()));
    }
    answer.json().await.map_err(|e| format!("GET {}: {e}", service_kit::redact::url(&url)))
}

/// Logs `findings` and refuses the start of `service` (an error naming each) when one is a [`Level::Fail`].
pub fn refuse_failures(service: &str, chains: usize, findings: &[Finding]) -> eyre::Result<()> {
    log(service, findings);
    let failed: Vec<String> = findings
        .iter()
        .filter(|f| f.level == Level::Fail)
        .map(|f| format!("chain {} {}: {}", f.chain_id, f.check, f.message))
        .collect();
    eyre::ensure!(failed.is_empty(), "{service}: the preflight check failed:\n  {}", failed.join("\n  "));
    tracing::info!(service, chains, "preflight: the chains agree with the configuration");
    Ok(())
}

/// A provider of `url`, one of `spec`'s endpoints: its requests carry the chain's API key, if it has one.
fn provider(spec: &ChainSpec, url: &str) -> Result<DynProvider, String> {
    let http = spec.http_client(TIMEOUT).map_err(|e| e.to_string())?;
    let url = url.parse().map_err(|e| format!("{e}"))?;
    Ok(ProviderBuilder::new().connect_reqwest(http, url).erased())
}

/// The findings of one chain (empty: it passes every check).
pub async fn check_chain(spec: &ChainSpec, expect: &Expectations) -> Vec<Finding> {
    check_chain_with(spec, expect, None).await
}

/// [`check_chain`], with what the signer service said of itself (`GET /v1/signer`; `None`: not asked): the
/// `signer_node` and `signer_approvals` checks.
pub async fn check_chain_with(spec: &ChainSpec, expect: &Expectations, signer: Option<&SignerInfo>) -> Vec<Finding> {
    let mut found = Findings { chain_id: spec.chain_id, list: Vec::new() };
    found.skipped(expect);
    found.signer_node(spec, signer.map(|s| s.nodes.as_slice()));
    found.signer_approvals(spec, signer);
    found.tls(spec);
    if let Some(Err(e)) = spec.tron.as_ref().map(|t| t.api_key()) {
        found.push("api_key", Level::Fail, format!("{e}: set it, or remove api_key_env from the chain spec"));
        return found.list;
    }
    let Some(url) = spec.rpc_url.as_deref() else {
        found.push("rpc", Level::Unverified, "the chain spec gives no rpc_url: nothing on the chain can be checked");
        return found.list;
    };
    if let Err(why) = Chain::check(spec, url, expect, &mut found).await {
        let refused_for_key = why.contains("401") || why.to_lowercase().contains("unauthenticated");
        if spec.tron.is_some() && refused_for_key {
            let message = format!(
                "the endpoint refuses the request without a valid API key ({why}): set [chains.tron] api_key_env to \
                 the variable holding the provider's key"
            );
            found.push("api_key", Level::Fail, message);
        } else {
            found.push("rpc", Level::Unverified, format!("{url} could not be read ({why}): the rest is unchecked"));
        }
    }
    found.list
}

struct Findings {
    chain_id: u64,
    list: Vec<Finding>,
}

impl Findings {
    fn push(&mut self, check: &'static str, level: Level, message: impl Into<String>) {
        self.list.push(Finding::new(self.chain_id, check, level, message.into()));
    }

    /// [`Self::push`] of a finding about `subject` ([`Finding::subject`]).
    fn push_about(
        &mut self,
        check: &'static str,
        subject: impl Into<String>,
        level: Level,
        message: impl Into<String>,
    ) {
        self.list.push(Finding::new(self.chain_id, check, level, message.into()).about(subject));
    }

    /// The checks the caller gave nothing to check against, each listed with why.
    fn skipped(&mut self, expect: &Expectations) {
        let id = self.chain_id;
        if expect.signer.is_none() {
            self.push(
                "signer",
                Level::Skipped,
                format!(
                    "the signer service's key is not known here: whether the contract of chain {id} accepts its \
                     payloads, and the signer's own node of the chain, are unchecked (the API's preflight checks them)"
                ),
            );
        }
        if expect.operator.is_none() {
            self.push(
                "operator",
                Level::Skipped,
                format!("no operator configured for chain {id}: its role and balance are unchecked"),
            );
        }
    }

    /// `signer_approvals`: on a mainnet the signer service requires staff approvals for every outflow (two people:
    /// a signer that signs on its caller's word alone lets whoever holds the backend's host pay anyone).
    fn signer_approvals(&mut self, spec: &ChainSpec, signer: Option<&SignerInfo>) {
        let Some(signer) = signer else { return };
        if abi::chain::is_mainnet(spec.chain_id) && !signer.approvals {
            self.push(
                "signer_approvals",
                Level::Fail,
                format!(
                    "the signer service signs payout batches, treasury transfers and refunds on chain {} without staff \
                     approvals: give it [policy.approvals] (proposers and approvers, backend/STAFF.md §3)",
                    spec.chain_id
                ),
            );
        }
    }

    /// `signer_node`: the signer service's own node of the chain answers its id, over TLS on a mainnet.
    fn signer_node(&mut self, spec: &ChainSpec, nodes: Option<&[NodeInfo]>) {
        let Some(nodes) = nodes else { return };
        let id = spec.chain_id;
        let Some(node) = nodes.iter().find(|n| n.chain_id == id) else {
            self.push(
                "signer_node",
                Level::Skipped,
                format!(
                    "the signer service has no node of its own for chain {id} ([policy.chains.node]): its head source \
                     is unchecked; it refuses liability roots and refunds there, and its deadlines follow its host's \
                     clock"
                ),
            );
            return;
        };
        match node.answers_chain_id {
            None => self.push(
                "signer_node",
                Level::Unverified,
                format!(
                    "the signer service's node of chain {id} did not answer it ({}): its chain is unchecked",
                    node.error.as_deref().unwrap_or("no answer")
                ),
            ),
            Some(answered) if answered != id => self.push(
                "signer_node",
                Level::Fail,
                format!(
                    "the signer service's own node of chain {id} ([policy.chains.node] rpc_url in the signer's \
                     configuration) answers chain id {answered}: the signer would read the head, the clock and the \
                     contract's state of another chain; point it at a node of chain {id}"
                ),
            ),
            Some(_) => {}
        }
        // On an EVM chain the spec's confirmations and the signer's count down from the same head. On TRON the API's
        // epochs are as of the solidified block, and the signer's node may be a Solidity node (whose head that is) or
        // a full node: the numbers do not compare, and the check is not made.
        let evm = spec.tron.is_none();
        if let Some(deeper) = node.confirmations.filter(|c| evm && *c > spec.confirmations) {
            self.push(
                "signer_node",
                Level::Fail,
                format!(
                    "the signer service counts a block of chain {id} confirmed {deeper} blocks below its head, the \
                     chain spec {} (confirmations = {}): every commitment of the proof of solvency, built as of the \
                     listener's confirmed block, is refused (policy.as_of_block_not_confirmed), and without \
                     commitments the floor stops payouts and the members' exit opens; set the signer's \
                     [policy.chains.node] confirmations to at most {} (or raise the spec's)",
                    spec.confirmations, spec.confirmations, spec.confirmations
                ),
            );
        }
        if is_mainnet(id) && !node.tls && !node.loopback {
            self.push(
                "signer_node",
                Level::Fail,
                format!(
                    "the signer service reaches its node of mainnet chain {id} without TLS: whoever is on the path \
                     could feed it another head; give [policy.chains.node] an https:// rpc_url (or a node on the \
                     signer's own machine)"
                ),
            );
        }
    }

    /// `tls`: every endpoint of a mainnet chain is `https`, or on the loopback.
    fn tls(&mut self, spec: &ChainSpec) {
        if !is_mainnet(spec.chain_id) {
            return;
        }
        let mut urls: Vec<(&str, &str)> = spec.rpc_url.iter().map(|u| ("rpc_url", u.as_str())).collect();
        if let Some(tron) = &spec.tron {
            urls.push(("tron.solidity_rpc_url", &tron.solidity_rpc_url));
            urls.extend(tron.grpc_url.iter().map(|u| ("tron.grpc_url", u.as_str())));
            urls.extend(tron.solidity_grpc_url.iter().map(|u| ("tron.solidity_grpc_url", u.as_str())));
        }
        for (field, url) in urls {
            if !url.starts_with("https://") && !on_loopback(url) {
                self.push(
                    "tls",
                    Level::Fail,
                    format!("{field} is not https on mainnet chain {}: use the provider's TLS endpoint", spec.chain_id),
                );
            }
        }
    }
}

/// Whether `url`'s host is this machine (`localhost`, 127.0.0.0/8, `::1`).
fn on_loopback(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else { return false };
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

struct Chain<'a> {
    spec: &'a ChainSpec,
    provider: DynProvider,
}

impl Chain<'_> {
    /// Every on-chain check; `Err` when the chain could not be read at some point.
    async fn check(spec: &ChainSpec, url: &str, expect: &Expectations, found: &mut Findings) -> Result<(), String> {
        let chain = Chain { spec, provider: provider(spec, url)? };
        if !chain.chain_id(url, found).await? {
            return Ok(()); // Another chain: what it holds at that address says nothing.
        }
        if !chain.code(found).await? {
            return Ok(()); // Not our contract: its views would mislead.
        }
        chain.roles_and_settings(expect, found).await?;
        let deployed = chain.deployment(found).await?;
        chain.keys(expect, deployed, found).await?;
        if spec.tron.is_some() {
            chain.tron_network(found).await?;
        }
        if let Some(tron) = &spec.tron {
            if tron.finality == TronFinality::FinalizedTag {
                chain.finalized_trails(found).await?;
            } else {
                chain.solidity_trails(&tron.solidity_rpc_url, found).await?;
            }
            if let (Some(full), Some(solid)) = (&tron.grpc_url, &tron.solidity_grpc_url) {
                chain.grpc_solidity_trails(full, solid, found).await?;
            }
        }
        Ok(())
    }

    async fn chain_id(&self, url: &str, found: &mut Findings) -> Result<bool, String> {
        let mut urls = vec![("rpc_url", url.to_owned())];
        if let Some(tron) = &self.spec.tron {
            urls.push(("tron.solidity_rpc_url", tron.solidity_rpc_url.clone()));
        }
        let mut agree = true;
        for (field, url) in urls {
            let answered =
                provider(self.spec, &url)?.get_chain_id().await.map_err(|e| format!("eth_chainId of {field}: {e}"))?;
            if answered != self.spec.chain_id {
                found.push(
                    "chain_id",
                    Level::Fail,
                    format!(
                        "{field} answers chain id {answered}, the chain spec declares {}: point {field} at chain {} \
                         (or correct chain_id)",
                        self.spec.chain_id, self.spec.chain_id
                    ),
                );
                agree = false;
            }
        }
        Ok(agree)
    }

    async fn code(&self, found: &mut Findings) -> Result<bool, String> {
        let at = self.spec.settlement;
        let code = self.provider.get_code_at(at).await.map_err(|e| format!("eth_getCode: {e}"))?;
        match abi::code::check_settlement_code(&code) {
            Ok(()) => Ok(true),
            Err(why) => {
                found.push(
                    "code",
                    Level::Fail,
                    format!(
                        "settlement {at} is not this build's Settlement ({why}): correct settlement in the chain spec, \
                         or deploy this build and record it"
                    ),
                );
                Ok(false)
            }
        }
    }

    async fn roles_and_settings(&self, expect: &Expectations, found: &mut Findings) -> Result<(), String> {
        let contract = Settlement::new(self.spec.settlement, &self.provider);
        let read = |what: &str, e: alloy::contract::Error| format!("{what}: {e}");
        if let Some(expected) = expect.signer {
            let signer = contract.signer().call().await.map_err(|e| read("signer()", e))?;
            if signer != expected {
                found.push(
                    "signer",
                    Level::Fail,
                    format!(
                        "the contract accepts payloads signed by {signer}, the signer service signs with {expected}: \
                         every payload would be refused; give the signer service the key of {signer}, or rotate the \
                         contract's signer to {expected} (scheduleSignerRotation, then applyChange once its delay has passed, through the admin)"
                    ),
                );
            }
        }
        if let Some((operator, needed)) = expect.operator {
            let role = contract.OPERATOR_ROLE().call().await.map_err(|e| read("OPERATOR_ROLE()", e))?;
            if !contract.hasRole(role, operator).call().await.map_err(|e| read("hasRole()", e))? {
                found.push(
                    "operator_role",
                    Level::Fail,
                    format!(
                        "the payout operator {operator} lacks OPERATOR_ROLE: every batch it sends would revert; grant \
                         it (scheduleRoleChange, then applyChange once its delay has passed, through the admin) or configure the operator key that holds it"
                    ),
                );
            }
            let balance = self.provider.get_balance(operator).await.map_err(|e| format!("eth_getBalance: {e}"))?;
            if balance < needed {
                found.push(
                    "operator_balance",
                    Level::Warn,
                    format!(
                        "the payout operator {operator} holds {balance} of the native coin's base units, below the \
                         {needed} the next batches need at the fee cap: top it up"
                    ),
                );
            }
        }
        let admin = contract.defaultAdmin().call().await.map_err(|e| read("defaultAdmin()", e))?;
        let admin_code = self.provider.get_code_at(admin).await.map_err(|e| format!("eth_getCode: {e}"))?;
        if !admin_code.is_empty() {
            self.safe_admin(admin, found).await;
        }
        if is_mainnet(self.spec.chain_id) {
            let code = admin_code;
            if code.is_empty() && self.spec.tron.is_some() {
                // TRON has no Safe: its multisig is an account whose permissions need several keys.
                self.tron_admin(admin, found).await?;
            } else if code.is_empty() {
                found.push(
                    "admin",
                    Level::Fail,
                    format!(
                        "the contract's admin {admin} is a key, not a contract, on mainnet chain {}: one stolen key \
                         could rotate the signer and drain custody; hand the admin role to a multisig \
                         (beginDefaultAdminTransfer to a Safe, which then accepts)",
                        self.spec.chain_id
                    ),
                );
            }
        }
        if is_mainnet(self.spec.chain_id) {
            let least = abi::deployment::MAINNET_MIN_DELAY_SECS;
            let changes = contract.changeDelay().call().await.map_err(|e| read("changeDelay()", e))?;
            let admin_delay = contract.defaultAdminDelay().call().await.map_err(|e| read("defaultAdminDelay()", e))?;
            let delays = [
                ("a change of the signer or a money role", changes),
                ("the admin's transfer", U256::from(admin_delay)),
            ];
            let exit_after = contract.exitAfter().call().await.map_err(|e| read("exitAfter()", e))?;
            let least_exit = abi::deployment::MAINNET_MIN_EXIT_AFTER_SECS;
            if exit_after < U256::from(least_exit) {
                found.push(
                    "delay",
                    Level::Fail,
                    format!(
                        "the members' exit opens after only {exit_after} s without a commitment on mainnet chain {}, \
                         below {least_exit} s: an outage of a few days would hand custody to the exit; deploy with a \
                         longer exit_after",
                        self.spec.chain_id
                    ),
                );
            }
            for (what, delay) in delays {
                if delay < U256::from(least) {
                    found.push(
                        "delay",
                        Level::Fail,
                        format!(
                            "{what} waits only {delay} s on mainnet chain {}, below {least} s: members would have no \
                             time to see a stolen admin key at work; deploy with a longer delay",
                            self.spec.chain_id
                        ),
                    );
                }
            }
        }
        let pending = contract.pendingChanges().call().await.map_err(|e| read("pendingChanges()", e))?;
        for change in pending {
            found.push(
                "pending_change",
                Level::Warn,
                format!(
                    "change {} (kind {}) is scheduled and may be applied from {} (unix seconds): make sure the admin \
                     meant it, else cancel it (cancelChange, through the admin)",
                    change.id, change.kind, change.readyAt
                ),
            );
        }
        let family = Family::of(self.spec.chain_id);
        let wanted = family.push_gas();
        let native = contract.nativePushGas().call().await.map_err(|e| read("nativePushGas()", e))?;
        let token = contract.tokenPushGas().call().await.map_err(|e| read("tokenPushGas()", e))?;
        for (what, set, least) in [("native", native, wanted.native), ("token", token, wanted.token)] {
            if set < U256::from(least) {
                found.push(
                    "push_gas",
                    Level::Fail,
                    format!(
                        "the contract forwards {set} gas to each pushed {what} payment, below the {least} a {} chain \
                         needs: payouts to ordinary holders would become claims; schedulePushGas (through the admin)",
                        family.as_str()
                    ),
                );
            }
        }
        Ok(())
    }

    /// The `admin` check of an admin with code, as the deploy tool makes it: a Safe (it answers `VERSION()`,
    /// `getOwners()` and `getThreshold()` as one) on every chain but a development one, and on a mainnet one that
    /// needs at least two owners' signatures ([`abi::safe::SafeInfo`]).
    async fn safe_admin(&self, admin: Address, found: &mut Findings) {
        let id = self.spec.chain_id;
        let shown = if self.spec.tron.is_some() { abi::tron::to_base58(admin) } else { admin.to_string() };
        let call = |at: Address, data: Vec<u8>| async move {
            let request = alloy::rpc::types::TransactionRequest::default().to(at).input(data.into());
            // A block named: TRON's JSON-RPC refuses an eth_call without one.
            let answer = self.provider.call(request).block(alloy::eips::BlockId::latest()).await;
            answer.ok().map(|answer| answer.to_vec())
        };
        match abi::safe::SafeInfo::read(admin, call).await {
            None if !self.spec.is_development() => found.push(
                "admin",
                Level::Fail,
                format!(
                    "the contract's admin {shown} is a contract but not a Safe on chain {id} (it does not answer \
                     VERSION(), getOwners() and getThreshold() as one): nobody can be sure to administer the contract \
                     through it, and the deploy tool refuses it; hand the admin role to a Safe \
                     (beginDefaultAdminTransfer, which the Safe then accepts)"
                ),
            ),
            Some(safe) if is_mainnet(id) => {
                if let Some(why) = safe.mainnet_refusal() {
                    found.push(
                        "admin",
                        Level::Fail,
                        format!(
                            "the contract's admin Safe {shown} on mainnet chain {id}: {why}; one stolen key could \
                             rotate the signer and drain custody; raise the Safe's threshold (changeThreshold, \
                             after adding owners), as the deploy tool requires"
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    /// TRON: the Solidity node's JSON-RPC `latest` must be behind the full node's head.
    async fn solidity_trails(&self, solidity_url: &str, found: &mut Findings) -> Result<(), String> {
        // The solidified block first: a chain that moves between the two reads only raises the head.
        let solid = provider(self.spec, solidity_url)?
            .get_block_number()
            .await
            .map_err(|e| format!("eth_blockNumber of tron.solidity_rpc_url: {e}"))?;
        let head = self.provider.get_block_number().await.map_err(|e| format!("eth_blockNumber: {e}"))?;
        // At the genesis block a Solidity node and a full node look alike.
        if solid >= head && head > 0 {
            found.push(
                "solidity_trails",
                Level::Fail,
                format!(
                    "tron.solidity_rpc_url is at block {solid}, not behind the full node's head {head}: it is a full \
                     node, whose blocks are not final; give a Solidity node's JSON-RPC (java-tron's \
                     node.jsonrpc.httpSolidityPort), or set finality = \"finalized_tag\""
                ),
            );
        }
        Ok(())
    }

    /// TRON with `finality = "finalized_tag"`: the full node's `finalized` block must be behind its head.
    async fn finalized_trails(&self, found: &mut Findings) -> Result<(), String> {
        let finalized = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Finalized)
            .await
            .map_err(|e| format!("the finalized block: {e}"))?;
        let head = self.provider.get_block_number().await.map_err(|e| format!("eth_blockNumber: {e}"))?;
        match finalized {
            None => found.push(
                "solidity_trails",
                Level::Fail,
                "rpc_url has no `finalized` block: finality = \"finalized_tag\" needs a node that serves it; use \
                 \"solidity_latest\" with a Solidity node's JSON-RPC",
            ),
            Some(block) if block.header.number >= head && head > 0 => found.push(
                "solidity_trails",
                Level::Fail,
                format!(
                    "rpc_url's finalized block {} is not behind its head {head}: it is not TRON's solidified block",
                    block.header.number
                ),
            ),
            Some(_) => {}
        }
        Ok(())
    }

    /// TRON mainnet's `admin` check of an admin without code: a multi-signature account ([`tron_single_key`]),
    /// read through the full node's gRPC (`GetAccount`: its permissions).
    async fn tron_admin(&self, admin: alloy::primitives::Address, found: &mut Findings) -> Result<(), String> {
        use tronic::provider::TronProvider;
        let shown = abi::tron::to_base58(admin);
        let Some(full) = self.spec.tron.as_ref().and_then(|t| t.grpc_url.as_deref()) else {
            found.push(
                "admin",
                Level::Unverified,
                format!(
                    "the contract's admin {shown} has no code: whether it is a multi-signature account is read through \
                     java-tron's gRPC (GetAccount), and the chain spec gives no [chains.tron] grpc_url"
                ),
            );
            return Ok(());
        };
        let key = self.spec.tron.as_ref().map(|t| t.api_key()).transpose().map_err(|e| e.to_string())?.flatten();
        let auth = key.map(|secret| tronic::client::Auth::Bearer {
            name: service_kit::chain_spec::TRON_API_KEY_HEADER.to_ascii_lowercase(),
            secret: secret.into(),
        });
        let connect =
            tronic::provider::grpc::ConnectOptions::builder().maybe_auth(auth).connect_timeout(TIMEOUT).connect(full);
        let node = tokio::time::timeout(TIMEOUT, connect)
            .await
            .map_err(|_| "tron.grpc_url did not answer in time".to_owned())?
            .map_err(|e| format!("tron.grpc_url: {e}"))?;
        let account = node
            .get_account(tronic::domain::address::TronAddress::from(admin))
            .await
            .map_err(|e| format!("GetAccount of the admin: {e}"))?;
        if let Some(why) = tron_single_key(&account) {
            found.push(
                "admin",
                Level::Fail,
                format!(
                    "the contract's admin {shown} is not a multi-signature account on TRON mainnet chain {}: {why}; one \
                     stolen key could rotate the signer and drain custody; make it one (owner and active permissions \
                     of a threshold of at least 2 over several keys: `referral-deploy tron-multisig`)",
                    self.spec.chain_id
                ),
            );
        }
        Ok(())
    }

    /// TRON: the Solidity node's gRPC (`WalletSolidity.GetNowBlock2`) must be behind the full node's.
    async fn grpc_solidity_trails(&self, full: &str, solid: &str, found: &mut Findings) -> Result<(), String> {
        use tronic::provider::TronProvider;
        let key = self.spec.tron.as_ref().map(|t| t.api_key()).transpose().map_err(|e| e.to_string())?.flatten();
        let auth = key.map(|secret| tronic::client::Auth::Bearer {
            name: service_kit::chain_spec::TRON_API_KEY_HEADER.to_ascii_lowercase(),
            secret: secret.into(),
        });
        let connect = tronic::provider::grpc::ConnectOptions::builder()
            .maybe_auth(auth)
            .solidity_uri(solid.to_owned())
            .connect_timeout(TIMEOUT)
            .connect(full);
        let node = tokio::time::timeout(TIMEOUT, connect)
            .await
            .map_err(|_| "tron.grpc_url did not answer in time".to_owned())?
            .map_err(|e| format!("tron.grpc_url: {e}"))?;
        // The solidified block first, as above.
        let solidified = match node.get_solid_block_number().await {
            Ok(number) => number,
            // A full node's `Wallet` port does not serve `WalletSolidity` at all (gRPC's UNIMPLEMENTED).
            Err(e) if e.to_string().contains("not implemented") => {
                found.push(
                    "solidity_trails",
                    Level::Fail,
                    "tron.solidity_grpc_url does not serve WalletSolidity (UNIMPLEMENTED): it is a full node's \
                     Wallet port; give the Solidity node's gRPC (java-tron's rpc.solidityPort)",
                );
                return Ok(());
            }
            Err(e) => return Err(format!("GetNowBlock2 of tron.solidity_grpc_url: {e}")),
        };
        let head = node.get_now_block().await.map_err(|e| format!("GetNowBlock of tron.grpc_url: {e}"))?;
        let head = head.block_header.raw_data.number;
        if solidified >= head && head > 0 {
            found.push(
                "solidity_trails",
                Level::Fail,
                format!(
                    "tron.solidity_grpc_url is at block {solidified}, not behind the full node's head {head}: it is a \
                     full node; give the Solidity node's gRPC (java-tron's rpc.solidityPort)"
                ),
            );
        }
        Ok(())
    }
}

/// Why a TRON account is no multi-signature account, or `None` when it is one: its owner permission, and every
/// active permission that may call contracts (`TriggerSmartContract`), need a weight of at least 2 that no single key
/// reaches (an account that does not exist has no permission at all: a key).
pub fn tron_single_key(account: &tronic::domain::account::Account) -> Option<String> {
    use tronic::domain::permission::{Ops, Permission};
    let alone = |what: String, p: &Permission| {
        let strongest = p.keys().iter().map(|k| k.weight).max().unwrap_or(0);
        (p.threshold() < 2 || strongest >= p.threshold()).then(|| {
            format!(
                "its {what} permission lets one key act alone (threshold {}, strongest key {strongest})",
                p.threshold()
            )
        })
    };
    if account.address == tronic::domain::address::TronAddress::ZERO {
        return Some("it is no account on this network (a key nobody activated)".into());
    }
    alone("owner".into(), &account.owner_permission).or_else(|| {
        (account.active_permission.iter())
            .filter(|p| p.operations().contains(&Ops::TriggerSmartContract))
            .find_map(|p| alone(format!("active (id {})", p.id()), p))
    })
}

/// The findings as the command prints them, one per line, and whether they pass: no failure, nothing unchecked.
pub fn render(findings: &[Finding]) -> (String, bool) {
    let mut out = String::new();
    for f in findings {
        let level = match f.level {
            Level::Fail => "FAIL",
            Level::Unverified => "UNVERIFIED",
            Level::Warn => "WARN",
            Level::Skipped => "SKIPPED",
        };
        out.push_str(&format!("{level} chain {} {}: {}\n", f.chain_id, f.check, f.message));
    }
    let pass = findings.iter().all(|f| matches!(f.level, Level::Warn | Level::Skipped));
    out.push_str(if pass { "preflight: pass\n" } else { "preflight: FAILED\n" });
    (out, pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(chain_id: u64, rpc_url: &str) -> ChainSpec {
        let text = format!(
            "[[chains]]\nchain_id = {chain_id}\nsettlement = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\n\
             rpc_url = \"{rpc_url}\"\nconfirmations = 0\nstart_block = 1\n"
        );
        service_kit::chain_spec::ChainSpecs::parse(&text).unwrap().chains()[0].clone()
    }

    fn tls(spec: &ChainSpec) -> Vec<Finding> {
        let mut found = Findings { chain_id: spec.chain_id, list: Vec::new() };
        found.tls(spec);
        found.list
    }

    #[test]
    fn plaintext_endpoints_are_refused_on_mainnet_unless_on_this_machine() {
        let refused = tls(&spec(56, "http://bsc-node.internal:8545"));
        assert_eq!(refused.len(), 1);
        assert_eq!((refused[0].check, refused[0].level), ("tls", Level::Fail));
        assert!(refused[0].message.contains("rpc_url is not https on mainnet chain 56"));
        assert!(tls(&spec(56, "https://bsc.example")).is_empty());
        for local in ["http://127.0.0.1:8545", "http://localhost:8545", "http://[::1]:8545"] {
            assert!(tls(&spec(56, local)).is_empty(), "{local}: a node on this machine");
        }
        assert!(tls(&spec(97, "http://bsc-testnet.internal:8545")).is_empty(), "testnets may be plaintext");
    }
}
