//! The reconciler against a real anvil, the real listener and Postgres ledger, and loopback Alertmanager and
//! PagerDuty receivers: a ledger that follows the chain reconciles to zero; money sent to the contract outside
//! the protocol and a tampered ledger row are reported with their exact variance; a halted listener pages.

use alloy::{
    primitives::{Address, I256, U256},
    providers::{DynProvider, Provider, ext::AnvilApi},
};
use anvil_tests::devchain::{DevChain, native_ledger_db};
use anvil_tests::webhook::WebhookInbox;
use ledger::{ChainLedger, db::ScratchDatabase};
use listener::{ChainFollower, FollowerConfig, service::ChainListener};
use reconciler::{
    alerts::{AlertSink, AlertmanagerWebhook, PagerDuty},
    service::{ChainTarget, Reconciler, RunReport},
};
use serde_json::Value;
use sqlx::PgPool;

const BNB: u128 = 1_000_000_000_000_000_000;
const CHAIN: u64 = 31337;
const CONFIRMATIONS: u64 = 2;

struct Setup {
    chain: DevChain,
    db: ScratchDatabase,
    listener: ChainListener<DynProvider>,
    base: String,
    inbox: WebhookInbox,
    assets: Vec<Address>,
}

impl Setup {
    /// anvil with A, B, C registered under the admin (genesis) and A retopped up, all listened into the ledger.
    async fn start() -> eyre::Result<Self> {
        let chain = DevChain::start().await?;
        let g = chain.admin.address();
        let fee = U256::from(20 * BNB);
        for (nonce, n) in [2usize, 3, 4].into_iter().enumerate() {
            chain.register_native(&chain.account(n), g, fee, nonce as u64 + 1).await?;
        }
        chain.retopup_native(&chain.account(2), U256::from(40 * BNB), 100).await?;
        let db = native_ledger_db(CHAIN, g).await?;
        let config = FollowerConfig::new(CHAIN, chain.settlement, CONFIRMATIONS);
        let follower = ChainFollower::new(chain.provider.clone(), config);
        let listener = ChainListener::new(follower, ChainLedger::open(db.pool.clone(), CHAIN).await?, 1);
        let inbox = WebhookInbox::start().await?;
        inbox.set_status(202);
        let base = inbox.url.clone();
        let mut setup = Self { chain, db, listener, base, inbox, assets: vec![Address::ZERO] };
        setup.confirm_and_listen().await?;
        Ok(setup)
    }

    /// Mines past the confirmation depth and lets the listener apply everything confirmed.
    async fn confirm_and_listen(&mut self) -> eyre::Result<()> {
        self.chain.provider.anvil_mine(Some(CONFIRMATIONS + 1), None).await?;
        while self.listener.step().await?.blocks > 0 {}
        Ok(())
    }

    fn pool(&self) -> &PgPool {
        &self.db.pool
    }

    /// A reconciler as the binary builds it (a new one each call: state lives in Postgres, not in the value).
    fn reconciler(&self) -> Reconciler {
        self.reconciler_via(self.chain.provider.clone())
    }

    fn reconciler_via(&self, provider: DynProvider) -> Reconciler {
        let mut chain = target(provider, self.chain.settlement, self.chain.deploy_block);
        chain.assets = self.assets.clone();
        let sinks = vec![
            AlertSink::Alertmanager(AlertmanagerWebhook {
                url: format!("{}/am", self.base),
                receiver: "oncall".into(),
            }),
            AlertSink::PagerDuty(PagerDuty {
                url: format!("{}/pd", self.base),
                routing_key: "R0UT1NG".into(),
                source: "reconciler-test".into(),
            }),
        ];
        Reconciler::new(self.pool().clone(), vec![chain], sinks, 10)
    }

    async fn run(&self) -> eyre::Result<RunReport> {
        let report = self.reconciler().run_once().await?;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        Ok(report)
    }

    fn take_inbox(&self) -> Vec<(String, Value)> {
        self.inbox.take()
    }

    async fn contract_balance(&self) -> eyre::Result<U256> {
        Ok(self.chain.provider.get_balance(self.chain.settlement).await?)
    }
}

/// The anvil chain as the reconciler reads it: the native coin, contract deployed at `start_block`.
fn target(provider: DynProvider, contract: Address, start_block: u64) -> ChainTarget {
    ChainTarget {
        chain_id: CHAIN,
        provider,
        finalized_tag: false,
        contract,
        previous: Vec::new(),
        confirmations: CONFIRMATIONS,
        assets: vec![Address::ZERO],
        solvency_interval_blocks: None,
        start_block,
        max_log_range: 2_000,
    }
}

fn variance(report: &RunReport) -> I256 {
    assert_eq!(report.assets.len(), 1);
    report.assets[0].result.variance
}

const CUSTODY_KEY: &str = "custody:31337:0x0000000000000000000000000000000000000000";

#[tokio::test]
async fn a_ledger_that_follows_the_chain_reconciles_to_zero_and_pages_nobody() -> eyre::Result<()> {
    let setup = Setup::start().await?;
    let report = setup.run().await?;
    let asset = &report.assets[0];
    assert_eq!(asset.ledger.inflows, U256::from(100 * BNB), "3 × 20 registrations + 40 retopup");
    assert_eq!(asset.result.onchain_balance, U256::from(100 * BNB));
    assert_eq!(asset.result.variance, I256::ZERO);
    assert!(asset.result.solvency_margin >= I256::ZERO);
    assert!(!asset.ledger.liabilities.is_zero(), "rewards are owed to users");
    assert!(report.alerts.is_empty(), "{:?}", report.alerts);
    assert!(setup.take_inbox().is_empty());

    // The run is stored for the API, with the block it was taken at.
    let (block, variance, onchain): (i64, String, String) = sqlx::query_as(
        "SELECT block_number, variance::text, onchain_balance::text FROM reconciler_results WHERE run_id = $1",
    )
    .bind(report.run_id)
    .fetch_one(setup.pool())
    .await?;
    let head = setup.chain.provider.get_block_number().await?;
    assert_eq!(block as u64, head - CONFIRMATIONS);
    assert_eq!((variance.as_str(), onchain), ("0", (100 * BNB).to_string()));
    Ok(())
}

#[tokio::test]
async fn one_wei_sent_outside_the_protocol_pages_both_sinks_once_and_resolves_when_fixed() -> eyre::Result<()> {
    let mut setup = Setup::start().await?;
    let before = setup.contract_balance().await?;
    // The contract has no receive function: only a balance change outside any transaction of it can do this.
    setup.chain.provider.anvil_set_balance(setup.chain.settlement, before + U256::from(1)).await?;

    // Not yet confirmed: the reconciler reads custody at the listener's block, where it still balances.
    assert_eq!(variance(&setup.run().await?), I256::ZERO);
    assert!(setup.take_inbox().is_empty());

    setup.confirm_and_listen().await?;
    let report = setup.run().await?;
    assert_eq!(variance(&report), I256::ONE);
    assert_eq!(report.fired.len(), 1);
    assert_eq!(report.fired[0].dedup_key, CUSTODY_KEY);
    assert_eq!(report.fired[0].details["variance"], "1");
    let got = setup.take_inbox();
    assert_eq!(got.len(), 2, "{got:?}");
    let am = &got.iter().find(|(s, _)| s == "am").expect("alertmanager paged").1;
    let pd = &got.iter().find(|(s, _)| s == "pd").expect("pagerduty paged").1;
    assert_eq!(am["status"], "firing");
    assert_eq!(am["alerts"][0]["labels"]["alertname"], "referral_custody");
    let description = am["alerts"][0]["annotations"]["description"].as_str().unwrap();
    assert!(description.split_whitespace().any(|kv| kv == "variance=1"), "{description}");
    assert_eq!(pd["event_action"], "trigger");
    assert_eq!(pd["dedup_key"], CUSTODY_KEY);
    assert_eq!(pd["payload"]["custom_details"]["variance"], "1");
    assert_eq!(pd["payload"]["severity"], "critical");

    // Still wrong on the next run (a fresh process, a later confirmed block): nothing is sent again.
    setup.confirm_and_listen().await?;
    let report = setup.run().await?;
    assert!(report.assets[0].result.block > 0);
    assert_eq!(variance(&report), I256::ONE);
    assert!(report.fired.is_empty() && report.resolved.is_empty());
    assert!(setup.take_inbox().is_empty());

    // Fixed: both sinks get the resolve under the same key.
    setup.chain.provider.anvil_set_balance(setup.chain.settlement, before).await?;
    setup.confirm_and_listen().await?;
    let report = setup.run().await?;
    assert_eq!(variance(&report), I256::ZERO);
    assert_eq!(report.resolved.len(), 1);
    let got = setup.take_inbox();
    assert_eq!(got.len(), 2, "{got:?}");
    let am = &got.iter().find(|(s, _)| s == "am").unwrap().1;
    let pd = &got.iter().find(|(s, _)| s == "pd").unwrap().1;
    assert_eq!(am["status"], "resolved");
    assert_eq!(am["groupLabels"]["dedup_key"], CUSTODY_KEY);
    assert_eq!(pd["event_action"], "resolve");
    assert_eq!(pd["dedup_key"], CUSTODY_KEY);
    assert!(setup.run().await?.alerts.is_empty());
    assert!(setup.take_inbox().is_empty());
    Ok(())
}

#[tokio::test]
async fn a_refused_page_is_retried_by_the_next_run_not_lost() -> eyre::Result<()> {
    let mut setup = Setup::start().await?;
    let before = setup.contract_balance().await?;
    setup.chain.provider.anvil_set_balance(setup.chain.settlement, before + U256::from(5)).await?;
    setup.confirm_and_listen().await?;
    setup.inbox.set_status(503);
    let report = setup.run().await?;
    assert_eq!(report.fired.len(), 1);
    assert_eq!((report.delivered, report.undelivered), (0, 2));
    assert!(setup.take_inbox().is_empty());

    setup.inbox.set_status(202);
    let report = setup.run().await?;
    assert!(report.fired.is_empty(), "already firing: no new change");
    assert_eq!((report.delivered, report.undelivered), (2, 0));
    let got = setup.take_inbox();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|(_, body)| body.to_string().contains(CUSTODY_KEY)));
    Ok(())
}

/// Runs `query` as someone past the ledger's write guards (its triggers refuse any update or delete of
/// `chain_events`; a superuser's `session_replication_role = replica` skips them): rows affected.
async fn tamper(
    pool: &PgPool,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> eyre::Result<u64> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await?;
    let affected = query.execute(&mut *tx).await?.rows_affected();
    tx.commit().await?;
    Ok(affected)
}

#[tokio::test]
async fn a_tampered_or_deleted_ledger_row_is_reported_with_its_exact_variance() -> eyre::Result<()> {
    let setup = Setup::start().await?;
    assert_eq!(variance(&setup.run().await?), I256::ZERO);

    // The retopup's recorded amount lowered by 7 wei: custody holds 7 more than the ledger knows.
    // (The listener writes hex; a decimal string reads the same.)
    let lowered = (40 * BNB - 7).to_string();
    let updated = tamper(
        setup.pool(),
        sqlx::query(
            "UPDATE chain_events SET payload = jsonb_set(payload, '{amount}', to_jsonb($1::text)) WHERE name = 'Retopped'",
        )
        .bind(&lowered),
    )
    .await?;
    assert_eq!(updated, 1);
    let report = setup.run().await?;
    assert_eq!(variance(&report), I256::try_from(7).unwrap());
    assert_eq!(report.fired.len(), 1);
    assert_eq!(report.fired[0].details["variance"], "7");
    assert_eq!(setup.take_inbox().len(), 2);

    // An inflow row deleted: its 20 BNB are now unaccounted for too; the alert is re-sent with the new figure.
    let deleted = tamper(
        setup.pool(),
        sqlx::query(
            "DELETE FROM chain_events WHERE ctid = (SELECT ctid FROM chain_events WHERE name = 'Registered' LIMIT 1)",
        ),
    )
    .await?;
    assert_eq!(deleted, 1);
    let report = setup.run().await?;
    let expected = (20 * BNB + 7).to_string();
    assert_eq!(variance(&report).to_string(), expected);
    assert_eq!(report.fired.len(), 1, "same key, new figures");
    assert_eq!(report.fired[0].dedup_key, CUSTODY_KEY);
    let got = setup.take_inbox();
    assert_eq!(got.len(), 2);
    let pd = &got.iter().find(|(s, _)| s == "pd").unwrap().1;
    assert_eq!(pd["payload"]["custom_details"]["variance"], expected.as_str());
    let stored: String = sqlx::query_scalar("SELECT variance::text FROM reconciler_results WHERE run_id = $1")
        .bind(report.run_id)
        .fetch_one(setup.pool())
        .await?;
    assert_eq!(stored, expected);
    Ok(())
}

#[tokio::test]
async fn a_halted_listener_is_a_critical_page() -> eyre::Result<()> {
    let setup = Setup::start().await?;
    sqlx::query(
        "UPDATE blockchain_sync SET halted_reason = 'reorg deeper than 2 confirmations at block 5' WHERE chain_id = $1",
    )
    .bind(CHAIN as i64)
    .execute(setup.pool())
    .await?;
    let report = setup.run().await?;
    assert_eq!(variance(&report), I256::ZERO);
    let checks: Vec<&str> = report.fired.iter().map(|a| a.check.as_str()).collect();
    assert_eq!(checks, ["listener_halted"]);
    assert_eq!(report.fired[0].dedup_key, "listener_halted:31337");
    let got = setup.take_inbox();
    assert_eq!(got.len(), 2);
    let pd = &got.iter().find(|(s, _)| s == "pd").unwrap().1;
    let am = &got.iter().find(|(s, _)| s == "am").unwrap().1;
    assert_eq!(pd["payload"]["severity"], "critical");
    assert_eq!(pd["payload"]["class"], "listener_halted");
    assert_eq!(am["alerts"][0]["labels"]["severity"], "critical");
    assert!(pd["payload"]["summary"].as_str().unwrap().contains("reorg deeper"));
    Ok(())
}

#[tokio::test]
async fn money_of_a_quarantined_event_is_in_custody_and_the_quarantine_is_reported() -> eyre::Result<()> {
    let mut setup = Setup::start().await?;
    // Sponsor account 9 never registered: the ledger quarantines the event, but the contract has the 20 BNB.
    let stray = setup.chain.account(9).address();
    setup.chain.register_native(&setup.chain.account(5), stray, U256::from(20 * BNB), 50).await?;
    setup.confirm_and_listen().await?;
    let report = setup.run().await?;
    assert_eq!(report.assets[0].ledger.inflows, U256::from(120 * BNB));
    assert_eq!(variance(&report), I256::ZERO);
    let checks: Vec<&str> = report.fired.iter().map(|a| a.check.as_str()).collect();
    assert_eq!(checks, ["quarantine"]);
    assert_eq!(report.fired[0].details["quarantined_events"], "1");
    Ok(())
}

#[tokio::test]
async fn token_custody_is_read_with_balance_of_at_the_confirmed_block() -> eyre::Result<()> {
    let mut setup = Setup::start().await?;
    let usdt = setup.chain.usdt;
    setup.assets = vec![Address::ZERO, usdt];
    // 3.5 USDT (6 decimals) minted straight to the contract: no Registered/Retopped event explains it.
    let minted = U256::from(3_500_000u64);
    abi::TestUSDT::new(usdt, &setup.chain.provider)
        .mint(setup.chain.settlement, minted)
        .send()
        .await?
        .get_receipt()
        .await?;
    // Before confirmation the token balance at the listener's block is still zero.
    let report = setup.run().await?;
    assert!(report.assets.iter().all(|a| a.result.variance.is_zero()), "{:?}", report.assets);
    setup.confirm_and_listen().await?;
    let report = setup.run().await?;
    let token = report.assets.iter().find(|a| a.result.token == usdt).expect("usdt reconciled");
    assert_eq!(token.result.onchain_balance, minted);
    assert_eq!(token.result.variance, I256::try_from(3_500_000).unwrap());
    assert_eq!(report.fired.len(), 1);
    assert_eq!(report.fired[0].dedup_key, format!("custody:31337:{usdt}"));
    Ok(())
}

#[tokio::test]
async fn a_chain_it_cannot_read_keeps_its_alerts_firing_and_says_so() -> eyre::Result<()> {
    let mut setup = Setup::start().await?;
    let before = setup.contract_balance().await?;
    setup.chain.provider.anvil_set_balance(setup.chain.settlement, before + U256::from(1)).await?;
    setup.confirm_and_listen().await?;
    assert_eq!(setup.run().await?.fired.len(), 1);
    setup.take_inbox();

    // An RPC endpoint nobody listens on: no evidence the custody mismatch is gone, so it is not resolved.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
    let dead = alloy::providers::ProviderBuilder::new().connect_http(format!("http://{closed}").parse()?).erased();
    let report = setup.reconciler_via(dead).run_once().await?;
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(report.resolved.is_empty(), "{:?}", report.resolved);
    let keys: Vec<&str> = report.alerts.iter().map(|a| a.dedup_key.as_str()).collect();
    assert_eq!(keys, [CUSTODY_KEY, "reconciler_blind:31337"]);
    let got = setup.take_inbox();
    assert_eq!(got.len(), 2, "only the new blind alert, to both sinks: {got:?}");
    assert!(got.iter().all(|(_, body)| body.to_string().contains("reconciler_blind:31337")));
    Ok(())
}

/// A first run before the listener applied anything (issue 44): the blocks before the contract's deployment
/// (`start_block`) are nothing to apply, so a chain whose history before the deployment is long is no lag; counted
/// from block 0 it would be.
#[tokio::test]
async fn no_lag_is_counted_from_before_the_start_block() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    // History after the deployment too: 40 blocks, four times the lag the reconciler pages at (10), none applied.
    chain.provider.anvil_mine(Some(40), None).await?;
    let db = native_ledger_db(CHAIN, chain.admin.address()).await?;
    let head = chain.provider.get_block_number().await?;
    let run = |start_block: u64| {
        let target = target(chain.provider.clone(), chain.settlement, start_block);
        let reconciler = Reconciler::new(db.pool.clone(), vec![target], vec![], 10);
        async move { reconciler.run_once().await }
    };
    let lag_pages = |report: &RunReport| report.fired.iter().filter(|a| a.check == "listener_lag").count();
    // The chain spec says the contract was deployed 5 blocks below the head: 3 confirmed blocks to apply, no page.
    let report = run(head - 5).await?;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(lag_pages(&report), 0, "{:?}", report.fired);
    // From the real deployment block, 40 and more confirmed blocks are the listener's to apply: a page.
    let report = run(chain.deploy_block).await?;
    assert_eq!(lag_pages(&report), 1, "{:?}", report.fired);
    Ok(())
}

#[tokio::test]
async fn after_an_upgrade_custody_is_what_the_old_and_the_new_contract_hold_together() -> eyre::Result<()> {
    let mut setup = Setup::start().await?;
    let old = setup.chain.settlement;
    let (new, new_block) = setup.chain.deploy_successor().await?;
    setup.chain.use_contract(new);
    let g = setup.chain.admin.address();
    setup.chain.register_native(&setup.chain.account(5), g, U256::from(20 * BNB), 7).await?;
    // The listener follows both contracts now (the new one named before its deployment block was passed).
    let config = FollowerConfig::new(CHAIN, new, CONFIRMATIONS).with_previous(vec![old]);
    let follower = ChainFollower::new(setup.chain.provider.clone(), config);
    setup.listener = ChainListener::new(follower, ChainLedger::open(setup.pool().clone(), CHAIN).await?, 1)
        .with_contracts(vec![(new, new_block), (old, setup.chain.deploy_block)]);
    setup.confirm_and_listen().await?;
    assert_eq!(setup.chain.provider.get_balance(new).await?, U256::from(20 * BNB));

    // Counting the live contract alone, the 100 BNB the old one holds look missing: the check would page.
    let alone = target(setup.chain.provider.clone(), new, new_block);
    let report = Reconciler::new(setup.pool().clone(), vec![alone], Vec::new(), 10).run_once().await?;
    assert_eq!(variance(&report), I256::try_from(-100 * BNB as i128).unwrap());

    // Both counted, custody is the ledger's to the wei.
    let mut both = target(setup.chain.provider.clone(), new, new_block);
    both.previous = vec![(old, setup.chain.deploy_block)];
    let report = Reconciler::new(setup.pool().clone(), vec![both], Vec::new(), 10).run_once().await?;
    assert_eq!(report.assets[0].ledger.inflows, U256::from(120 * BNB));
    assert_eq!(report.assets[0].result.onchain_balance, U256::from(120 * BNB));
    assert_eq!(variance(&report), I256::ZERO);
    assert!(!report.alerts.iter().any(|a| a.dedup_key.starts_with("custody:")), "{:?}", report.alerts);
    Ok(())
}
