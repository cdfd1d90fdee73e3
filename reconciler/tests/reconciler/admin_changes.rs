//! The reconciler watching the Settlement contract's powers over money (issues 42 and 44) on a real anvil with the
//! real listener, Postgres and loopback Alertmanager and PagerDuty receivers: a scheduled signer rotation pages
//! critical within one run, keyed by its id and naming the new signer, and stays quiet while it waits; cancelled, it
//! resolves and the cancellation is paged as an admin event; applied, the pending alert resolves and the applied
//! change is paged, shown for the hold and then resolved; applied without ever having been seen pending, it is
//! critical. The deployment's own events page nobody, and the admin events are read once. The same on a TRON chain
//! through TRON's JSON-RPC stand-in, where the contract is read at the solidified block.

use abi::Settlement;
use alloy::{
    primitives::{Address, B256, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi},
    rpc::types::TransactionReceipt,
};
use anvil_tests::{
    devchain::{DevChain, NILE_CHAIN_ID, change_now, native_ledger_db},
    tron_rpc::{SOLIDIFY_DEPTH, TronFaults, TronRpc},
    webhook::WebhookInbox,
};
use ledger::{ChainLedger, db::ScratchDatabase};
use listener::{ChainFollower, FollowerConfig, follower::TronFinality, service::ChainListener};
use reconciler::{
    alerts::{Alert, AlertSink, AlertmanagerWebhook, PagerDuty, Severity},
    service::{ChainTarget, Reconciler, RunReport},
};
use serde_json::Value;

const CHAIN: u64 = 31337;
const CONFIRMATIONS: u64 = 2;

/// A chain with the Settlement contract, its ledger and listener, and a loopback receiver for both sinks.
struct Setup {
    chain: DevChain,
    db: ScratchDatabase,
    listener: ChainListener<DynProvider>,
    inbox: WebhookInbox,
    /// On a TRON chain: the JSON-RPC stand-in the listener and the reconciler read.
    tron: Option<TronRpc>,
    /// Contracts replaced by an upgrade and still wound down, with their deployment blocks.
    previous: Vec<(Address, u64)>,
}

fn provider(url: &str) -> DynProvider {
    ProviderBuilder::new().connect_http(url.parse().expect("url")).erased()
}

impl Setup {
    async fn evm() -> eyre::Result<Self> {
        let chain = DevChain::start().await?;
        let db = native_ledger_db(CHAIN, chain.admin.address()).await?;
        let config = FollowerConfig::new(CHAIN, chain.settlement, CONFIRMATIONS);
        let follower = ChainFollower::new(chain.provider.clone(), config);
        let listener = ChainListener::new(follower, ChainLedger::open(db.pool.clone(), CHAIN).await?, 1);
        Self::with(chain, db, listener, None).await
    }

    async fn tron() -> eyre::Result<Self> {
        let chain = DevChain::start_tron().await?;
        let tron = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
        let db = native_ledger_db(NILE_CHAIN_ID, chain.admin.address()).await?;
        let config = FollowerConfig::new(NILE_CHAIN_ID, chain.settlement, 0).on_tron(TronFinality::SolidityLatest);
        let follower = ChainFollower::new(provider(&tron.solidity_url), config);
        let listener = ChainListener::new(follower, ChainLedger::open(db.pool.clone(), NILE_CHAIN_ID).await?, 1);
        Self::with(chain, db, listener, Some(tron)).await
    }

    async fn with(
        chain: DevChain,
        db: ScratchDatabase,
        listener: ChainListener<DynProvider>,
        tron: Option<TronRpc>,
    ) -> eyre::Result<Self> {
        let inbox = WebhookInbox::start().await?;
        inbox.set_status(202);
        let mut setup = Self { chain, db, listener, inbox, tron, previous: Vec::new() };
        setup.confirm().await?;
        Ok(setup)
    }

    fn chain_id(&self) -> u64 {
        if self.tron.is_some() { NILE_CHAIN_ID } else { CHAIN }
    }

    /// Mines past the confirmation depth (on TRON: until solidified) and lets the listener apply everything.
    async fn confirm(&mut self) -> eyre::Result<()> {
        let depth = if self.tron.is_some() { SOLIDIFY_DEPTH } else { CONFIRMATIONS };
        self.chain.provider.anvil_mine(Some(depth + 1), None).await?;
        while self.listener.step().await?.blocks > 0 {}
        Ok(())
    }

    /// A reconciler as the binary builds one (state lives in Postgres), showing admin events for `hold_secs`.
    fn reconciler(&self, hold_secs: u64) -> Reconciler {
        self.reconciler_from(self.chain.deploy_block, hold_secs, 2_000)
    }

    /// As [`reconciler`](Self::reconciler), with the chain spec's `start_block` at `start_block` and admin events
    /// read `max_log_range` blocks at a time.
    fn reconciler_from(&self, start_block: u64, hold_secs: u64, max_log_range: u64) -> Reconciler {
        let (url, confirmations) = match &self.tron {
            Some(tron) => (tron.solidity_url.clone(), 0),
            None => (self.chain.rpc_url(), CONFIRMATIONS),
        };
        let target = ChainTarget {
            chain_id: self.chain_id(),
            provider: provider(&url),
            finalized_tag: false,
            contract: self.chain.settlement,
            previous: self.previous.clone(),
            confirmations,
            assets: vec![Address::ZERO],
            solvency_interval_blocks: None,
            start_block,
            max_log_range,
        };
        let sinks = vec![
            AlertSink::Alertmanager(AlertmanagerWebhook {
                url: format!("{}/am", self.inbox.url),
                receiver: "oncall".into(),
            }),
            AlertSink::PagerDuty(PagerDuty {
                url: format!("{}/pd", self.inbox.url),
                routing_key: "R0UT1NG".into(),
                source: "reconciler-test".into(),
            }),
        ];
        Reconciler::new(self.db.pool.clone(), vec![target], sinks, 10).with_admin_event_hold(hold_secs)
    }

    async fn run_holding(&self, hold_secs: u64) -> eyre::Result<RunReport> {
        let report = self.reconciler(hold_secs).run_once().await?;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        Ok(report)
    }

    async fn run(&self) -> eyre::Result<RunReport> {
        self.run_holding(3_600).await
    }

    fn settlement(&self) -> Settlement::SettlementInstance<&DynProvider> {
        Settlement::new(self.chain.settlement, &self.chain.provider)
    }

    /// Schedules a signer rotation to `to`; returns the change's id.
    async fn schedule_rotation(&self, to: Address) -> eyre::Result<B256> {
        let receipt = self.settlement().scheduleSignerRotation(to).send().await?.get_receipt().await?;
        scheduled_id(&receipt)
    }

    /// Moves the chain's clock past the change delay and applies change `id`.
    async fn apply(&self, id: B256) -> eyre::Result<()> {
        let delay: u64 = self.settlement().changeDelay().call().await?.try_into()?;
        self.chain.provider.anvil_increase_time(delay).await?;
        self.chain.provider.evm_mine(None).await?;
        let receipt = self.settlement().applyChange(id).send().await?.get_receipt().await?;
        assert!(receipt.status(), "applyChange reverted");
        Ok(())
    }

    /// The metrics endpoint's figures as the binary builds them, from a configuration naming this (EVM) chain.
    fn metrics(&self) -> eyre::Result<reconciler::metrics::ReconcilerMetrics> {
        let spec = format!(
            "[[chains]]\nchain_id = {CHAIN}\nsettlement = \"{}\"\nrpc_url = \"{}\"\nconfirmations = {CONFIRMATIONS}\n\
             start_block = {}\n",
            self.chain.settlement,
            self.chain.rpc_url(),
            self.chain.deploy_block
        );
        let config = reconciler::config::ReconcilerConfig::parse(
            "database_url = \"unused\"\nchain_spec = \"chains.toml\"\n",
            &service_kit::chain_spec::ChainSpecs::parse(&spec)?,
        )?;
        reconciler::metrics::ReconcilerMetrics::from_config(self.db.pool.clone(), &config)
    }

    /// How the chain shows `address` (T… on TRON).
    fn show(&self, address: Address) -> String {
        abi::tron::show(self.chain_id(), address)
    }
}

fn scheduled_id(receipt: &TransactionReceipt) -> eyre::Result<B256> {
    assert!(receipt.status(), "the schedule call reverted");
    Ok(receipt.decoded_log::<Settlement::ChangeScheduled>().ok_or_else(|| eyre::eyre!("no ChangeScheduled"))?.data.id)
}

fn only<'a>(alerts: &'a [Alert], check: &str) -> Vec<&'a Alert> {
    alerts.iter().filter(|a| a.check == check).collect()
}

/// The body `sink` (`am` or `pd`) received about `key`.
fn sent<'a>(got: &'a [(String, Value)], sink: &str, key: &str) -> &'a Value {
    &got.iter()
        .find(|(s, body)| s == sink && body.to_string().contains(key))
        .unwrap_or_else(|| panic!("{sink} got nothing about {key}: {got:?}"))
        .1
}

/// Scheduled: critical, keyed by the id, naming the new signer, within one run; quiet while it waits; cancelled:
/// resolved, and the cancellation paged as an admin event.
async fn a_scheduled_rotation_pages_until_cancelled(mut setup: Setup) -> eyre::Result<()> {
    let chain_id = setup.chain_id();
    // The deployment's own events (first signer, roles, tokens, push gas) are not news.
    let report = setup.run().await?;
    assert!(report.alerts.is_empty(), "{:?}", report.alerts);
    assert!(setup.inbox.take().is_empty());

    let new_signer = setup.chain.account(7).address();
    let id = setup.schedule_rotation(new_signer).await?;
    let key = format!("pending_change:{chain_id}:{id}");
    setup.confirm().await?;
    let report = setup.run().await?;
    let fired = only(&report.fired, "pending_change");
    assert_eq!(fired.len(), 1, "{:?}", report.fired);
    let alert = fired[0];
    assert_eq!(alert.dedup_key, key);
    assert_eq!(alert.severity, Severity::Critical);
    assert!(
        alert.summary.starts_with(&format!(
            "signer rotation to {} pending on chain {chain_id}: can apply from ",
            setup.show(new_signer)
        )),
        "{}",
        alert.summary
    );
    assert_eq!(alert.details["kind"], "signer_rotation");
    assert_eq!(alert.details["cancel"], format!("cancelChange({id})"));
    let ready_at: u64 = alert.details["ready_at"].parse()?;
    let pending = setup.settlement().pendingChanges().call().await?;
    assert_eq!((pending.len(), pending[0].readyAt), (1, ready_at));
    assert!(only(&report.fired, "admin_event").is_empty(), "scheduling is the pending alert's: {:?}", report.fired);

    let got = setup.inbox.take();
    assert_eq!(got.len(), 2, "{got:?}");
    let pd = sent(&got, "pd", &key);
    assert_eq!(pd["event_action"], "trigger");
    assert_eq!(pd["dedup_key"], key.as_str());
    assert_eq!(pd["payload"]["severity"], "critical");
    assert_eq!(pd["payload"]["class"], "pending_change");
    let summary = pd["payload"]["summary"].as_str().unwrap();
    assert!(summary.contains(&setup.show(new_signer)) && summary.contains("(in "), "says in how long: {summary}");
    assert!(pd["payload"]["custom_details"]["applies_in"].is_string());
    let am = sent(&got, "am", &key);
    assert_eq!(am["alerts"][0]["labels"]["alertname"], "referral_pending_change");
    assert_eq!(am["alerts"][0]["labels"]["severity"], "critical");

    // The metrics show it by chain and kind, with the seconds until it can apply.
    if setup.tron.is_none() {
        let metrics = setup.metrics()?.render().await.expect("the ledger is readable");
        assert!(
            metrics.contains("reconciler_pending_changes{chain_id=\"31337\",kind=\"signer_rotation\"} 1"),
            "{metrics}"
        );
        assert!(metrics.contains("reconciler_pending_changes{chain_id=\"31337\",kind=\"push_gas\"} 0"), "{metrics}");
        assert!(metrics.contains("reconciler_pending_change_ready_seconds{chain_id=\"31337\"} "), "{metrics}");
        assert!(metrics.contains("reconciler_alerts_firing{check=\"pending_change\"} 1"), "{metrics}");
    }

    // Still pending at later blocks: nothing sent again.
    setup.confirm().await?;
    let report = setup.run().await?;
    assert!(report.fired.is_empty() && report.resolved.is_empty(), "{:?} {:?}", report.fired, report.resolved);
    assert_eq!(only(&report.alerts, "pending_change").len(), 1);
    assert!(setup.inbox.take().is_empty());

    // Cancelled through the admin: resolved, and the cancellation is news.
    let receipt = setup.settlement().cancelChange(id).send().await?.get_receipt().await?;
    assert!(receipt.status());
    setup.confirm().await?;
    let report = setup.run().await?;
    let resolved: Vec<&str> = report.resolved.iter().map(|a| a.dedup_key.as_str()).collect();
    assert_eq!(resolved, [key.as_str()]);
    let events = only(&report.fired, "admin_event");
    assert_eq!(events.len(), 1, "{:?}", report.fired);
    assert_eq!(events[0].severity, Severity::Warning);
    assert_eq!(events[0].details["events"], "ChangeCancelled");
    assert!(
        events[0]
            .summary
            .starts_with(&format!("change {id} cancelled (signer rotation to {})", setup.show(new_signer)))
    );
    let got = setup.inbox.take();
    assert_eq!(got.len(), 4, "a resolve and a fire to each sink: {got:?}");
    assert_eq!(sent(&got, "pd", &key)["event_action"], "resolve");
    assert_eq!(sent(&got, "am", &key)["status"], "resolved");
    Ok(())
}

/// Applied after its delay: the pending alert resolves and the applied change is paged (a warning: it was
/// announced), read once, shown for the hold, then resolved.
async fn an_applied_rotation_resolves_and_pages_the_change(mut setup: Setup) -> eyre::Result<()> {
    let chain_id = setup.chain_id();
    let new_signer = setup.chain.account(8).address();
    let id = setup.schedule_rotation(new_signer).await?;
    setup.confirm().await?;
    let report = setup.run().await?;
    assert_eq!(only(&report.fired, "pending_change").len(), 1, "{:?}", report.fired);
    setup.inbox.take();

    setup.apply(id).await?;
    assert_eq!(setup.settlement().signer().call().await?, new_signer);
    setup.confirm().await?;
    let report = setup.run().await?;
    let resolved: Vec<&str> = report.resolved.iter().map(|a| a.dedup_key.as_str()).collect();
    assert_eq!(resolved, [format!("pending_change:{chain_id}:{id}")]);
    let events = only(&report.fired, "admin_event");
    assert_eq!(events.len(), 1, "{:?}", report.fired);
    let applied = events[0].clone();
    assert_eq!(applied.severity, Severity::Warning, "it was paged while pending: {}", applied.summary);
    assert_eq!(applied.details["events"], "SignerRotated,ChangeApplied");
    assert_eq!(applied.details["change_ids"], id.to_string());
    assert!(
        applied.summary.starts_with(&format!(
            "signer rotated from {} to {}; change {id} applied on chain {chain_id}",
            setup.show(setup.chain.backend_signer.address()),
            setup.show(new_signer)
        )),
        "{}",
        applied.summary
    );
    assert!(applied.dedup_key.starts_with(&format!("admin_event:{chain_id}:0x")));
    let got = setup.inbox.take();
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(sent(&got, "pd", &applied.dedup_key)["payload"]["severity"], "warning");

    // Read once: the next run (a new process) does not page it again, and keeps it shown for the hold.
    setup.confirm().await?;
    let report = setup.run().await?;
    assert!(report.fired.is_empty() && report.resolved.is_empty(), "{:?} {:?}", report.fired, report.resolved);
    assert_eq!(only(&report.alerts, "admin_event").len(), 1);
    // The hold over: resolved.
    let report = setup.run_holding(0).await?;
    let resolved: Vec<&str> = report.resolved.iter().map(|a| a.dedup_key.as_str()).collect();
    assert_eq!(resolved, [applied.dedup_key.as_str()]);
    assert!(report.alerts.is_empty(), "{:?}", report.alerts);
    let got = setup.inbox.take();
    assert_eq!(sent(&got, "pd", &applied.dedup_key)["event_action"], "resolve");
    Ok(())
}

#[tokio::test]
async fn a_scheduled_signer_rotation_pages_critical_until_it_is_cancelled() -> eyre::Result<()> {
    a_scheduled_rotation_pages_until_cancelled(Setup::evm().await?).await
}

#[tokio::test]
async fn an_applied_signer_rotation_resolves_its_page_and_pages_the_applied_change() -> eyre::Result<()> {
    an_applied_rotation_resolves_and_pages_the_change(Setup::evm().await?).await
}

#[tokio::test]
async fn on_tron_a_scheduled_rotation_pages_until_it_is_cancelled() -> eyre::Result<()> {
    a_scheduled_rotation_pages_until_cancelled(Setup::tron().await?).await
}

#[tokio::test]
async fn on_tron_an_applied_rotation_resolves_its_page_and_pages_the_applied_change() -> eyre::Result<()> {
    an_applied_rotation_resolves_and_pages_the_change(Setup::tron().await?).await
}

#[tokio::test]
async fn a_grant_applied_without_ever_being_paged_pending_is_critical_and_other_kinds_are_warnings() -> eyre::Result<()>
{
    let mut setup = Setup::evm().await?;
    assert!(setup.run().await?.alerts.is_empty());
    // Scheduled and applied between two runs (the reconciler saw no block where it was pending).
    let treasurer = setup.chain.account(9).address();
    let role = keccak256("TREASURER_ROLE");
    let grant = Settlement::scheduleRoleChangeCall { role, account: treasurer, grant: true };
    let id = change_now(&setup.chain.provider, setup.chain.settlement, grant).await?;
    // New push gas, still waiting: a warning.
    let gas = setup.settlement().schedulePushGas(U256::from(10_000), U256::from(50_000)).send().await?;
    let gas_id = scheduled_id(&gas.get_receipt().await?)?;
    // A pause is an admin event of its own.
    setup.settlement().pause().send().await?.get_receipt().await?;
    setup.confirm().await?;
    let report = setup.run().await?;

    let pending = only(&report.fired, "pending_change");
    assert_eq!(pending.len(), 1, "{:?}", report.fired);
    assert_eq!(pending[0].dedup_key, format!("pending_change:{CHAIN}:{gas_id}"));
    assert_eq!(pending[0].severity, Severity::Warning);
    assert!(pending[0].summary.starts_with("push gas to 10000/50000 (native/token) pending on chain 31337"));

    let events = only(&report.fired, "admin_event");
    assert_eq!(events.len(), 2, "{:?}", report.fired);
    let granted = events.iter().find(|a| a.details["events"] == "RoleGranted,ChangeApplied").expect("the grant");
    assert_eq!(granted.severity, Severity::Critical);
    assert_eq!(granted.details["change_ids"], id.to_string());
    assert!(
        granted.summary.starts_with(&format!("never paged while pending: TREASURER_ROLE granted to {treasurer}")),
        "{}",
        granted.summary
    );
    let paused = events.iter().find(|a| a.details["events"] == "Paused").expect("the pause");
    assert_eq!(paused.severity, Severity::Warning);
    assert_eq!(paused.summary, format!("contract paused by {} on chain 31337", setup.chain.admin.address()));
    let got = setup.inbox.take();
    assert_eq!(sent(&got, "pd", &granted.dedup_key)["payload"]["severity"], "critical");
    Ok(())
}

#[tokio::test]
async fn admin_events_are_read_once_in_small_ranges_and_the_deployment_is_not_news() -> eyre::Result<()> {
    let mut setup = Setup::evm().await?;
    // A chain spec whose start_block is before the deployment (allowed): the deployment's own events are read and
    // are the deployment's, not a change: they page nobody. Ranges of 2 blocks: several requests, one cursor.
    let report = setup.reconciler_from(0, 3_600, 2).run_once().await?;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.alerts.is_empty(), "{:?}", report.alerts);
    let head = setup.chain.provider.get_block_number().await?;
    let cursor = ledger::monitoring::log_cursor(&setup.db.pool, CHAIN, setup.chain.settlement).await?;
    assert_eq!(cursor, Some(head - CONFIRMATIONS), "read up to the listener's confirmed block");

    // A pause after it is read once, whichever instance runs next.
    setup.settlement().pause().send().await?.get_receipt().await?;
    setup.confirm().await?;
    let report = setup.reconciler_from(0, 3_600, 2).run_once().await?;
    assert_eq!(only(&report.fired, "admin_event").len(), 1, "{:?}", report.fired);
    let report = setup.reconciler_from(0, 3_600, 2).run_once().await?;
    assert!(report.fired.is_empty(), "{:?}", report.fired);
    assert_eq!(only(&report.alerts, "admin_event").len(), 1);
    Ok(())
}

/// After an upgrade the replaced contract still holds money: its powers are watched as the live one's are. The same
/// change scheduled on both is two alerts (a change id is the same on every contract), the old one's keyed and worded
/// apart; applied there after being paged, it is news, not an unannounced grant.
#[tokio::test]
async fn a_replaced_contract_s_changes_are_paged_apart_from_the_live_one_s() -> eyre::Result<()> {
    let mut setup = Setup::evm().await?;
    let old = (setup.chain.settlement, setup.chain.deploy_block);
    let new = setup.chain.deploy_successor().await?;
    setup.chain.use_contract(new.0);
    setup.chain.deploy_block = new.1;
    setup.previous = vec![old];
    let config = FollowerConfig::new(CHAIN, new.0, CONFIRMATIONS).with_previous(vec![old.0]);
    let follower = ChainFollower::new(setup.chain.provider.clone(), config);
    setup.listener = ChainListener::new(follower, ChainLedger::open(setup.db.pool.clone(), CHAIN).await?, 1)
        .with_contracts(vec![new, old]);
    setup.confirm().await?;
    let report = setup.run().await?;
    assert!(report.alerts.is_empty(), "both deployments are no news: {:?}", report.alerts);

    let signer = setup.chain.account(7).address();
    let on_new = setup.schedule_rotation(signer).await?;
    let provider = setup.chain.provider.clone();
    let old_contract = Settlement::new(old.0, &provider);
    let on_old = scheduled_id(&old_contract.scheduleSignerRotation(signer).send().await?.get_receipt().await?)?;
    assert_eq!(on_new, on_old, "the id names the change, not the contract");
    setup.confirm().await?;
    let report = setup.run().await?;
    let mut keys: Vec<&str> = only(&report.fired, "pending_change").iter().map(|a| a.dedup_key.as_str()).collect();
    keys.sort();
    let live_key = format!("pending_change:{CHAIN}:{on_new}");
    let old_key = format!("{live_key}@{}", old.0);
    assert_eq!(keys, [live_key.as_str(), old_key.as_str()]);
    let old_alert = report.fired.iter().find(|a| a.dedup_key == old_key).unwrap();
    assert_eq!(old_alert.severity, Severity::Critical);
    assert!(old_alert.summary.contains("replaced and wound down"), "{}", old_alert.summary);
    assert_eq!(old_alert.details["contract"], old.0.to_string());
    setup.inbox.take();

    // Applied on the old contract: its pending alert resolves, and the applied change is paged as news (warning),
    // since its own alert announced it.
    let delay: u64 = old_contract.changeDelay().call().await?.try_into()?;
    provider.anvil_increase_time(delay).await?;
    provider.evm_mine(None).await?;
    assert!(old_contract.applyChange(on_old).send().await?.get_receipt().await?.status());
    setup.confirm().await?;
    let report = setup.run().await?;
    assert_eq!(report.resolved.iter().map(|a| a.dedup_key.as_str()).collect::<Vec<_>>(), [old_key.as_str()]);
    let applied = only(&report.fired, "admin_event");
    assert_eq!(applied.len(), 1, "{:?}", report.fired);
    assert_eq!(applied[0].severity, Severity::Warning, "{}", applied[0].summary);
    assert!(applied[0].dedup_key.ends_with(&format!("@{}", old.0)), "{}", applied[0].dedup_key);
    assert!(report.alerts.iter().any(|a| a.dedup_key == live_key), "the live contract's change still pending");
    Ok(())
}
