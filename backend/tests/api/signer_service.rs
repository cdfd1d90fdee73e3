//! The REAL signer service, started in-process for the API tests (anvil dev key #1 with the insecure flag — test
//! configuration only — and a temporary SQLite store).

use alloy::primitives::{Address, address};
use backend::config::SignerSettings;
use secrecy::SecretString;
use signer::auth::Caller;
use signer::config::Settings as SignerConfig;
use signer::policy::PolicyConfig;

use crate::common::{BNB, CHAIN};

/// anvil's account 1: the signer's development key in these tests.
pub(crate) const DEV_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
pub(crate) const DEV_ADDRESS: Address = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
const CALLER: &str = "backend";
const SECRET: &str = "test-only-caller-secret-0123456789abcdef";
/// A Settlement address for tests without a chain (signing needs only the domain).
pub(crate) const SETTLEMENT: Address = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");

/// The signer on port 0 and its store directory; stops when dropped with the runtime.
pub(crate) struct SignerService {
    pub url: String,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl SignerService {
    /// How the API reaches this signer.
    pub(crate) fn settings(&self) -> SignerSettings {
        SignerSettings {
            url: self.url.clone(),
            caller_id: CALLER.into(),
            caller_secret: SecretString::from(SECRET),
            treasury_caller: None,
        }
    }
}

/// A signer that allows the native coin of [`CHAIN`] at `contract`, with `treasury` as the allowed treasury
/// recipients.
pub(crate) async fn spawn_signer(contract: Address, treasury: Vec<Address>) -> SignerService {
    spawn_signer_with_callers(contract, treasury, vec![Caller::new(CALLER, SecretString::from(SECRET))]).await
}

/// As [`spawn_signer`], with the signer's own node of [`CHAIN`] at `rpc_url` (0 confirmations: an auto-mining anvil):
/// it reads the chain's clock, head and contract there itself, as refunds and liability roots need.
pub(crate) async fn spawn_signer_with_node(
    contract: Address,
    treasury: Vec<Address>,
    rpc_url: String,
) -> SignerService {
    let callers = vec![Caller::new(CALLER, SecretString::from(SECRET))];
    spawn_with_policy(node_policy(contract, treasury, rpc_url), callers).await
}

/// As [`spawn_signer_with_node`], with `[policy.approvals]`: outflows need the staff signatures `approvals` lists.
pub(crate) async fn spawn_signer_with_node_and_approvals(
    contract: Address,
    treasury: Vec<Address>,
    rpc_url: String,
    approvals: signer::approvals::ApprovalsConfig,
) -> SignerService {
    let callers = vec![Caller::new(CALLER, SecretString::from(SECRET))];
    let mut policy = node_policy(contract, treasury, rpc_url);
    policy.approvals = Some(approvals);
    spawn_with_policy(policy, callers).await
}

/// [`spawn_signer`]'s policy with the signer's own node of [`CHAIN`] at `rpc_url` (0 confirmations).
fn node_policy(contract: Address, treasury: Vec<Address>, rpc_url: String) -> PolicyConfig {
    let mut policy = PolicyConfig::native_only(CHAIN, contract, treasury, 1_000 * BNB, 10_000 * BNB, 100_000 * BNB);
    policy.chains[0].node = Some(signer::policy::NodeConfig { rpc_url, confirmations: 0 });
    policy
}

/// As [`spawn_signer`], allowing every one of `contracts` (an upgraded chain's live and previous contracts).
pub(crate) async fn spawn_signer_for(contracts: &[Address]) -> SignerService {
    let callers = vec![Caller::new(CALLER, SecretString::from(SECRET))];
    let mut policy = PolicyConfig::native_only(CHAIN, contracts[0], vec![], 1_000 * BNB, 10_000 * BNB, 100_000 * BNB);
    policy.chains[0].contracts = contracts.iter().copied().map(signer::intent::Addr).collect();
    spawn_with_policy(policy, callers).await
}

/// As [`spawn_signer`], with payout entries capped at `entry_cap` (payments keep the 1,000 BNB cap).
pub(crate) async fn spawn_signer_with_entry_cap(contract: Address, entry_cap: u128) -> SignerService {
    let callers = vec![Caller::new(CALLER, SecretString::from(SECRET))];
    let mut policy = PolicyConfig::native_only(CHAIN, contract, vec![], 1_000 * BNB, 10_000 * BNB, 100_000 * BNB);
    policy.chains[0].assets[0].per_entry_cap = Some(signer::intent::Amount::from(entry_cap));
    spawn_with_policy(policy, callers).await
}

/// A signer for the native coin of `chain_id` (a TRON chain, say) at `contract` and for `tokens` there, each with
/// [`spawn_signer`]'s caps.
pub(crate) async fn spawn_signer_on(chain_id: u64, contract: Address, tokens: &[Address]) -> SignerService {
    let callers = vec![Caller::new(CALLER, SecretString::from(SECRET))];
    let mut policy = PolicyConfig::native_only(chain_id, contract, vec![], 1_000 * BNB, 10_000 * BNB, 100_000 * BNB);
    let native = policy.chains[0].assets[0].clone();
    for token in tokens {
        policy.chains[0]
            .assets
            .push(signer::policy::AssetConfig { token: signer::intent::Addr(*token), ..native.clone() });
    }
    spawn_with_policy(policy, callers).await
}

/// The main caller limited to register, retopup and payout batches, and a second caller, [`TREASURY_CALLER`],
/// that may only ask for treasury transfers (the production split the signer's README recommends).
pub(crate) async fn spawn_split_signer(contract: Address, treasury: Vec<Address>) -> SignerService {
    use signer::auth::Permissions;
    use signer::intent::Kind;
    let callers = vec![
        Caller::new(CALLER, SecretString::from(SECRET)).permitted(Permissions::only([
            Kind::Register,
            Kind::Retopup,
            Kind::PayoutBatch,
        ])),
        Caller::new(TREASURY_CALLER, SecretString::from(TREASURY_SECRET))
            .permitted(Permissions::only([Kind::TreasuryTransfer])),
    ];
    spawn_signer_with_callers(contract, treasury, callers).await
}

pub(crate) const TREASURY_CALLER: &str = "treasury";
pub(crate) const TREASURY_SECRET: &str = "test-only-treasury-caller-secret";

/// As [`spawn_signer`] (`treasury` the allowed treasury recipients), with `[policy.approvals]`: outflows need the staff
/// signatures `approvals` lists.
pub(crate) async fn spawn_signer_with_approvals(
    contract: Address,
    treasury: Vec<Address>,
    approvals: signer::approvals::ApprovalsConfig,
) -> SignerService {
    let callers = vec![Caller::new(CALLER, SecretString::from(SECRET))];
    let mut policy = PolicyConfig::native_only(CHAIN, contract, treasury, 1_000 * BNB, 10_000 * BNB, 100_000 * BNB);
    policy.approvals = Some(approvals);
    spawn_with_policy(policy, callers).await
}

async fn spawn_signer_with_callers(contract: Address, treasury: Vec<Address>, callers: Vec<Caller>) -> SignerService {
    let policy = PolicyConfig::native_only(CHAIN, contract, treasury, 1_000 * BNB, 10_000 * BNB, 100_000 * BNB);
    spawn_with_policy(policy, callers).await
}

async fn spawn_with_policy(policy: PolicyConfig, callers: Vec<Caller>) -> SignerService {
    let dir = tempfile::tempdir().unwrap();
    let config =
        SignerConfig::development(dir.path().join("signer.sqlite"), SecretString::from(DEV_KEY), callers, policy);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, server) = signer::startup::run_until(config, async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    tokio::spawn(server);
    SignerService { url: format!("http://{addr}"), _dir: dir, _stop: stop }
}
