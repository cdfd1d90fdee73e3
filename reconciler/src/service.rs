//! One reconciliation run, and the schedule around it. The I/O is here and thin: figures in
//! ([`crate::figures`]), the pure [`crate::checks`], then results, firing state and owed sink messages written in
//! one transaction, then the owed messages sent (a refused one stays owed and is retried next run).

use std::{collections::BTreeSet, future::Future, time::Duration};

use abi::chain::Family;
use alloy::{
    primitives::{Address, U256},
    providers::Provider,
};
use ledger::{monitoring, ops};
use serde::Serialize;
use sqlx::PgPool;

use crate::{
    alerts::{self, Alert, AlertSink, Severity, Transition},
    changes,
    checks::{self, CustodyResult, LedgerFigures},
    config::ReconcilerConfig,
    figures,
    preflight_watch::{self, PreflightFindings},
    watch,
};

pub use crate::target::ChainTarget;

/// One asset's custody result with the ledger figures behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AssetReport {
    /// The asset's custody and solvency result.
    pub result: CustodyResult,
    /// The ledger's figures the result was computed from.
    pub ledger: LedgerFigures,
}

/// What a run found and did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunReport {
    /// The id the run was recorded under.
    pub run_id: i64,
    /// Each asset whose custody was compared in this run.
    pub assets: Vec<AssetReport>,
    /// Every alert firing after this run.
    pub alerts: Vec<Alert>,
    /// Changes this run queued for the sinks.
    pub fired: Vec<Alert>,
    /// Alerts that stopped firing with this run (queued for the sinks as resolves).
    pub resolved: Vec<Alert>,
    /// Chains that could not be read (their earlier alerts are kept firing).
    pub errors: Vec<String>,
    /// Sink messages delivered by this run (including retries of earlier ones), and those still owed.
    pub delivered: usize,
    /// Sink messages still owed after this run (refused, or waiting behind a refusal).
    pub undelivered: usize,
}

/// Runs the checks over the configured chains, records the results and delivers alert changes to the sinks.
#[derive(Debug)]
pub struct Reconciler {
    pool: PgPool,
    chains: Vec<ChainTarget>,
    sinks: Vec<AlertSink>,
    max_lag_blocks: u64,
    /// Runs in a row without a custody comparison on a chain before `custody_uncompared` fires.
    max_uncompared_runs: u64,
    client: reqwest::Client,
    /// Where the runbooks are published (`runbook_base`): each alert sent links its check's page.
    runbook_base: Option<String>,
    /// The proof of solvency's salts' key: set, sampled users' proofs are verified at every run.
    solvency_key: Option<[u8; 32]>,
    /// Seconds an `admin_event` alert stays firing after it was first seen.
    admin_event_hold_secs: u64,
    /// The preflight's latest findings, paged each run (`preflight`); `None`: not watched.
    preflight: Option<PreflightFindings>,
}

/// What one chain's checks found.
struct ChainFindings {
    assets: Vec<AssetReport>,
    alerts: Vec<Alert>,
    /// How far each contract's admin events have been read this run.
    cursors: Vec<monitoring::LogCursor>,
    /// Whether every contract's admin powers were read; not (no confirmed block yet): the chain's `pending_change`
    /// alerts stand as they were.
    watched_all: bool,
}

/// Unix seconds now.
fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Users whose proofs every run verifies against each commitment (SOLVENCY.md: 32 random users).
pub const SAMPLED_PROOFS: i64 = 32;

impl Reconciler {
    /// A reconciler of `chains` sending to `sinks` (requests time out after 10 s), raising `listener_lag`
    /// past `max_lag_blocks` confirmed blocks; no runbook links.
    pub fn new(pool: PgPool, chains: Vec<ChainTarget>, sinks: Vec<AlertSink>, max_lag_blocks: u64) -> Self {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Self {
            pool,
            chains,
            sinks,
            max_lag_blocks,
            max_uncompared_runs: crate::config::DEFAULT_MAX_UNCOMPARED_RUNS,
            client,
            runbook_base: None,
            solvency_key: None,
            admin_event_hold_secs: crate::config::DEFAULT_ADMIN_EVENT_HOLD_SECS,
            preflight: None,
        }
    }

    /// Pages the preflight's findings `findings` holds at every run (`preflight`, [`crate::preflight_watch`]).
    pub fn with_preflight(mut self, findings: PreflightFindings) -> Self {
        self.preflight = Some(findings);
        self
    }

    /// Keeps each `admin_event` alert firing for `secs` after it was first seen, then resolves it.
    pub fn with_admin_event_hold(mut self, secs: u64) -> Self {
        self.admin_event_hold_secs = secs;
        self
    }

    /// Verifies sampled users' proofs of solvency with the salts' key `key` at every run.
    pub fn with_solvency_key(mut self, key: Option<[u8; 32]>) -> Self {
        self.solvency_key = key;
        self
    }

    /// Raises `custody_uncompared` once a chain's custody has gone `runs` runs in a row without a comparison.
    pub fn with_max_uncompared_runs(mut self, runs: u64) -> Self {
        self.max_uncompared_runs = runs;
        self
    }

    /// Links every alert sent to its runbook under `base` (`ops/runbooks/` as published).
    pub fn with_runbook_base(mut self, base: Option<String>) -> Self {
        self.runbook_base = base;
        self
    }

    /// A reconciler over `pool` as `config` describes it: chains, sinks, lag limit and runbook links.
    pub fn from_config(pool: PgPool, config: &ReconcilerConfig) -> eyre::Result<Self> {
        let chains = config.chains.iter().map(ChainTarget::from_config).collect::<eyre::Result<_>>()?;
        let sinks = config.sinks.iter().map(|s| s.sink()).collect();
        Ok(Self::new(pool, chains, sinks, config.max_lag_blocks)
            .with_runbook_base(config.runbook_base.clone())
            .with_max_uncompared_runs(config.max_uncompared_runs)
            .with_solvency_key(config.solvency_salt_key)
            .with_admin_event_hold(config.admin_event_hold_secs))
    }

    /// Runs every check once, stores the results, queues and sends the alert changes.
    pub async fn run_once(&self) -> Result<RunReport, sqlx::Error> {
        let mut report = RunReport::default();
        let mut found = Vec::new();
        let mut unread_chains = Vec::new();
        let mut unwatched_chains = BTreeSet::new();
        let mut cursors = Vec::new();
        for chain in &self.chains {
            match self.check_chain(chain).await {
                Ok(findings) => {
                    report.assets.extend(findings.assets);
                    found.extend(findings.alerts);
                    cursors.extend(findings.cursors);
                    if !findings.watched_all {
                        unwatched_chains.insert(chain.chain_id.to_string());
                    }
                }
                Err(e) => {
                    tracing::error!(chain_id = chain.chain_id, error = %e, "could not read chain figures");
                    report.errors.push(format!("chain {}: {e}", chain.chain_id));
                    unread_chains.push(chain.chain_id);
                    found.push(
                        Alert::new(
                            "reconciler_blind",
                            &[&chain.chain_id.to_string()],
                            Severity::Warning,
                            format!("reconciler cannot read chain {}", chain.chain_id),
                        )
                        // The error text varies; it is in the run's errors, not in the alert (which would re-page).
                        .detail("chain_id", chain.chain_id),
                    );
                }
            }
        }

        // The preflight's findings; before its first run, and on a chain it could not read, what was firing stands.
        let mut preflight_known = true;
        let mut preflight_unread = BTreeSet::new();
        if let Some(shared) = &self.preflight {
            match shared.get() {
                Some(findings) => {
                    let (alerts, unread) = preflight_watch::alerts(&findings);
                    found.extend(alerts);
                    preflight_unread = unread;
                }
                None => preflight_known = false,
            }
        }

        let mut tx = self.pool.begin().await?;
        // One run at a time decides what is firing.
        let firing = monitoring::lock_firing(&mut tx).await?;
        let firing: Vec<Alert> =
            firing.into_iter().map(serde_json::from_value).collect::<Result<_, _>>().map_err(json_error)?;
        // What a chain we could not read had firing stays firing: no resolve without evidence.
        let blind: BTreeSet<String> = unread_chains.iter().map(u64::to_string).collect();
        let known: BTreeSet<String> = found.iter().map(|a| a.dedup_key.clone()).collect();
        let now = unix_now();
        for alert in &firing {
            let chain = alert.details.get("chain_id");
            let in_chains = |chains: &BTreeSet<String>| chain.is_some_and(|c| chains.contains(c));
            let kept = in_chains(&blind)
                // Pending changes not read this run: still pending as far as anyone knows.
                || (alert.check == changes::PENDING_CHANGE && in_chains(&unwatched_chains))
                // Admin events are news: shown for the hold, then resolved.
                || (alert.check == changes::ADMIN_EVENT
                    && changes::still_shown(alert, now, self.admin_event_hold_secs))
                // Preflight findings not checked again yet (or of a chain the checks could not read).
                || (alert.check == preflight_watch::PREFLIGHT && (!preflight_known || in_chains(&preflight_unread)));
            if kept && !known.contains(&alert.dedup_key) {
                found.push(alert.clone());
            }
        }
        found.sort_by(|a, b| a.dedup_key.cmp(&b.dedup_key));
        let changes = alerts::diff(&firing, &found);

        let mut results = Vec::with_capacity(report.assets.len());
        for asset in &report.assets {
            let r = &asset.result;
            let asset_alerts: Vec<&Alert> = found
                .iter()
                .filter(|a| {
                    a.details.get("chain_id") == Some(&r.chain_id.to_string())
                        && a.details.get("asset") == Some(&r.token.to_string())
                })
                .collect();
            results.push(monitoring::ResultRecord {
                chain_id: r.chain_id,
                token: r.token,
                block: r.block,
                onchain_balance: r.onchain_balance,
                ledger: &asset.ledger,
                expected_balance: r.expected_balance,
                variance: r.variance,
                solvency_margin: r.solvency_margin,
                alerts: json(&asset_alerts)?,
            });
        }
        let owed = changes.fire.iter().map(|a| (a, "fire")).chain(changes.resolve.iter().map(|a| (a, "resolve")));
        let mut outbox = Vec::new();
        for (alert, transition) in owed {
            for sink in &self.sinks {
                outbox.push(monitoring::OutboxMessage {
                    sink: sink.id(),
                    dedup_key: alert.dedup_key.clone(),
                    transition: transition.to_owned(),
                    alert: json(alert)?,
                });
            }
        }
        let record = monitoring::RunRecord {
            alerts: json(&found)?,
            errors: json(&report.errors)?,
            results,
            resolve: changes.resolve.iter().map(|a| a.dedup_key.clone()).collect(),
            fire: changes
                .fire
                .iter()
                .map(|a| Ok((a.dedup_key.clone(), json(a)?)))
                .collect::<Result<_, sqlx::Error>>()?,
            outbox,
            cursors,
        };
        let run_id = monitoring::record_run(&mut tx, &record).await?;
        tx.commit().await?;

        for alert in &changes.fire {
            tracing::warn!(dedup_key = %alert.dedup_key, summary = %alert.summary, "alert fires");
        }
        for alert in &changes.resolve {
            tracing::info!(dedup_key = %alert.dedup_key, "alert resolved");
        }
        let (delivered, undelivered) = self.deliver().await?;
        report.run_id = run_id;
        report.alerts = found;
        report.fired = changes.fire;
        report.resolved = changes.resolve;
        report.delivered = delivered;
        report.undelivered = undelivered;
        Ok(report)
    }

    async fn check_chain(&self, chain: &ChainTarget) -> Result<ChainFindings, figures::FiguresError> {
        let tokens = if chain.assets.is_empty() {
            figures::ledger_assets(&self.pool, chain.chain_id).await?
        } else {
            chain.assets.clone()
        };
        let holders = chain.custody_holders();
        let (pool, provider, id, confirmations) = (&self.pool, &chain.provider, chain.chain_id, chain.confirmations);
        let figures = if Family::of(id) == Family::Tron && chain.finalized_tag {
            figures::read_tron_chain_finalized(pool, provider, id, &holders, confirmations, &tokens).await?
        } else if Family::of(id) == Family::Tron {
            figures::read_tron_chain(pool, provider, id, &holders, confirmations, &tokens).await?
        } else {
            figures::read_chain(pool, provider, id, &holders, confirmations, &tokens).await?
        };
        // The lag is counted from the chain spec's start_block at the earliest: the blocks before the contract
        // existed (a first run before the listener applied anything) are nothing to apply.
        let mut position = figures.listener.clone();
        let first_block = chain.previous.iter().map(|(_, b)| *b).fold(chain.start_block, u64::min);
        position.last_applied_block = position.last_applied_block.max(first_block.saturating_sub(1));
        let mut alerts = checks::listener(&position, self.max_lag_blocks);
        alerts.extend(checks::quarantine(chain.chain_id, figures.ledger.quarantined));
        let now = unix_now();
        alerts.extend(checks::stuck_batches(&figures.ledger.open_batches, now));
        let mut assets = Vec::new();
        if figures.custody_block.is_none() && !tokens.is_empty() {
            // This run is not recorded yet: it is one more without a comparison.
            let before = ledger::monitoring::runs_since_compared(pool, id).await?;
            let runs = u64::try_from(before).unwrap_or(0) + 1;
            tracing::warn!(chain_id = id, runs, "custody not compared in this run");
            alerts.extend(checks::custody_uncompared(id, runs, self.max_uncompared_runs));
        }
        // An asset whose members' exit opened is the exit contract's to pay out: paged once, never judged against the
        // ledger again (its custody left the Settlement, and members' exits are no ledger events).
        let exited: Vec<ledger::exits::ExitOpening> =
            ledger::exits::all_openings(pool).await?.into_iter().filter(|o| o.chain_id == id).collect();
        for o in &exited {
            let contract = abi::tron::show(id, o.contract);
            alerts.push(checks::exit_open(id, o.token, &contract, o.block, o.custody));
        }
        let is_exited = |token: &Address| exited.iter().any(|o| o.token == *token);
        if let Some(block) = figures.custody_block {
            for ((token, ledger), onchain) in figures.ledger.assets.iter().zip(&figures.onchain) {
                if is_exited(token) {
                    continue;
                }
                let (result, found) = checks::custody(chain.chain_id, *token, block, *onchain, ledger);
                alerts.extend(found);
                assets.push(AssetReport { result, ledger: ledger.clone() });
            }
        }
        // Commitments are compared once the ledger has reached the chain's readable state (custody compared):
        // before, the contract may not even exist at the block a TRON Solidity node answers for.
        if let (Some(interval), Some(_)) = (chain.solvency_interval_blocks, figures.custody_block) {
            for token in tokens.iter().filter(|t| !is_exited(t)) {
                let found = self.commitment(chain, *token, figures.listener.last_applied_block, interval).await?;
                alerts.extend(checks::commitment(&found));
            }
        }
        // Each contract's admin powers: every pending change, and the admin events since the last run. A contract
        // an upgrade replaced keeps its powers over the money it still holds: watched the same way, its alerts keyed
        // and worded apart (a change id is the same on every contract).
        let mut cursors = Vec::new();
        let mut watched_all = true;
        for watched in chain.watched() {
            let Some(read) = watch::read(pool, chain, watched, &figures).await? else {
                watched_all = false;
                continue;
            };
            let replaced = (watched.contract != chain.contract).then_some(watched.contract);
            let scoped = |key: String| match replaced {
                Some(contract) => format!("{key}@{contract}"),
                None => key,
            };
            let mut found = changes::pending_changes(&read.pending);
            let txs = changes::transactions(&read.logs);
            let keys: Vec<String> = txs.iter().flat_map(|tx| tx.announcements(id)).collect();
            let announced: BTreeSet<String> = if keys.is_empty() {
                BTreeSet::new()
            } else {
                let scoped_keys: Vec<String> = keys.iter().cloned().map(scoped).collect();
                let fired = monitoring::ever_fired(pool, &scoped_keys).await?;
                keys.into_iter().filter(|k| fired.contains(&scoped(k.clone()))).collect()
            };
            found.extend(changes::admin_events(id, &txs, &announced, now));
            if let Some(contract) = replaced {
                let shown = abi::tron::show(id, contract);
                for alert in &mut found {
                    alert.dedup_key = scoped(std::mem::take(&mut alert.dedup_key));
                    alert.summary = format!("{} (contract {shown}, replaced and wound down)", alert.summary);
                    alert.details.insert("contract".into(), shown.clone());
                }
            }
            alerts.extend(found);
            cursors.push(read.cursor);
        }
        Ok(ChainFindings { assets, alerts, cursors, watched_all })
    }

    /// The chain's latest proof-of-solvency commitment of `token`, the ledger's epoch of that number, and the
    /// sampled users' proofs verified against the chain's root with the independent verifier.
    async fn commitment(
        &self,
        chain: &ChainTarget,
        token: Address,
        ledger_block: u64,
        interval_blocks: u64,
    ) -> Result<checks::CommitmentFigures, figures::FiguresError> {
        let rpc = |what: &str, e: String| figures::FiguresError::Rpc {
            chain_id: chain.chain_id,
            reason: format!("{what}: {e}"),
        };
        let latest = abi::Settlement::new(chain.contract, &chain.provider)
            .latestLiabilities(token)
            .call()
            .await
            .map_err(|e| rpc("latestLiabilities", e.to_string()))?;
        let head = chain.provider.get_block_number().await.map_err(|e| rpc("eth_blockNumber", e.to_string()))?;
        let onchain = solvency_verify::Commitment {
            root: latest.root,
            total: latest.total,
            epoch: latest.epoch,
            as_of_block: latest.asOfBlock,
            commit_block: latest.commitBlock,
            custody: latest.custody,
        };
        // After an upgrade every contract commits the same round (contracts/UPGRADES.md §7): custody is theirs
        // together, counted only once every previous contract holds the live one's round.
        let mut previous_custody = Some(U256::ZERO);
        for &(contract, _) in &chain.previous {
            let theirs = abi::Settlement::new(contract, &chain.provider)
                .latestLiabilities(token)
                .call()
                .await
                .map_err(|e| rpc("latestLiabilities", e.to_string()))?;
            let same_round = theirs.asOfBlock == latest.asOfBlock && theirs.total == latest.total;
            previous_custody = previous_custody.filter(|_| same_round).map(|sum| sum.saturating_add(theirs.custody));
        }
        let mut found = checks::CommitmentFigures {
            chain_id: chain.chain_id,
            token,
            onchain,
            head,
            ledger_block,
            ledger: None,
            previous_custody,
            interval_blocks,
            failed_proofs: Vec::new(),
            verified_proofs: 0,
        };
        let asset = ledger::assets(&self.pool)
            .await?
            .into_iter()
            .find(|(_, a)| a.chain_id == chain.chain_id && a.token == token);
        let Some((asset_id, _)) = asset else { return Ok(found) };
        if onchain.epoch == 0 {
            return Ok(found);
        }
        let committed = ledger::solvency::committed(&self.pool, asset_id, chain.contract, Some(onchain.epoch));
        let Some(epoch) = committed.await? else {
            return Ok(found);
        };
        found.ledger = Some((epoch.root, epoch.total, epoch.as_of_block));
        let Some(key) = self.solvency_key else { return Ok(found) };
        for user in ledger::solvency::sample_users(&self.pool, epoch.id, SAMPLED_PROOFS).await? {
            let Some(stored) = ledger::solvency::proof_in(&self.pool, epoch.clone(), user).await? else { continue };
            let b = stored.balances;
            let proof = solvency_verify::Proof {
                chain_id: chain.chain_id,
                contract: chain.contract,
                token,
                epoch: epoch.epoch,
                as_of_block: epoch.as_of_block,
                user,
                balances: solvency_verify::LeafBalances {
                    reserved: b.reserved,
                    held: b.held,
                    pending: b.pending,
                    batched: b.batched,
                    claimable: b.claimable,
                    maturing: b.maturing,
                },
                salt: solvency_verify::salt(&key, chain.chain_id, token, epoch.epoch, user),
                index: stored.index,
                depth: epoch.depth,
                leaf_count: epoch.leaf_count,
                siblings: stored.siblings.iter().map(|n| (n.hash, n.sum)).collect(),
                root: None,
                total: None,
            };
            let verdict = solvency_verify::verify(&proof, &onchain, head, None);
            if verdict.verified() {
                found.verified_proofs += 1;
            } else {
                found.failed_proofs.push((user, verdict.failures()));
            }
        }
        Ok(found)
    }

    /// Sends what the sinks are owed, oldest first per (sink, dedup key); after a refusal the later messages for
    /// the same sink and key wait, so a sink never sees a resolve before its fire. Each message is taken with
    /// `FOR UPDATE SKIP LOCKED`, and only while no older message for its key is unsent, so several reconciler
    /// instances share the work and never send a message twice or out of order. Returns (delivered by this
    /// call, still owed after a refusal).
    pub async fn deliver(&self) -> Result<(usize, usize), sqlx::Error> {
        let (mut delivered, mut owed) = (0, 0);
        for sink in &self.sinks {
            let mut blocked: Vec<String> = Vec::new();
            loop {
                let mut tx = self.pool.begin().await?;
                let Some(owed) = monitoring::next_owed(&mut tx, &sink.id(), &blocked).await? else {
                    tx.commit().await?;
                    break;
                };
                let monitoring::Owed { id, message, at } = owed;
                let key = message.dedup_key;
                let transition = if message.transition == "resolve" { Transition::Resolve } else { Transition::Fire };
                let alert: Alert = serde_json::from_value(message.alert).map_err(json_error)?;
                let alert = alert.with_runbook(self.runbook_base.as_deref()).with_countdown(unix_now());
                match sink.send(&self.client, &alert, transition, &at).await {
                    Ok(()) => {
                        monitoring::sent(&mut tx, id).await?;
                        delivered += 1;
                    }
                    Err(e) => {
                        tracing::error!(sink = %sink.id(), dedup_key = %key, error = %e, "alert not delivered; retried next run");
                        monitoring::refused(&mut tx, id, &e.to_string()).await?;
                        blocked.push(key);
                    }
                }
                tx.commit().await?;
            }
            // Owed: what this call could not deliver (refused, or waiting behind a refusal), not what another
            // instance is sending right now.
            let unsent = monitoring::unsent(&self.pool, &sink.id(), &blocked).await?;
            owed += unsent as usize;
        }
        Ok((delivered, owed))
    }

    /// Answers the queued `reconcile` requests (`ops_requests`): takes every one not held by another instance
    /// (`FOR UPDATE SKIP LOCKED`), runs once for all of them, and finishes each as `done` with the run id in
    /// `result` (or `failed`). The rows stay locked in one transaction until then, so a reconciler that dies
    /// mid-run leaves them queued for the next. Returns the run, if there were requests.
    pub async fn serve_requests(&self) -> Result<Option<RunReport>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let ids = ops::claim_reconciles(&mut tx).await?;
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(None);
        }
        let run = self.run_once().await;
        let finished = match &run {
            Ok(report) => ops::Finished::Done(serde_json::json!({
                "run_id": report.run_id,
                "assets": report.assets.len(),
                "alerts_firing": report.alerts.len(),
                "errors": report.errors,
            })),
            Err(e) => ops::Finished::Failed(e.to_string()),
        };
        ops::finish(&mut *tx, &ids, &finished).await?;
        tx.commit().await?;
        let status = if matches!(finished, ops::Finished::Done(_)) { "done" } else { "failed" };
        tracing::info!(requests = ids.len(), status, "reconcile requests answered");
        run.map(Some)
    }

    /// Runs every `every` until `shutdown` resolves, and answers reconcile requests between runs (looked for
    /// every `requests_every`); a failed run is logged and the next one tries again.
    pub async fn run(&self, every: Duration, requests_every: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut requests = tokio::time::interval(requests_every);
        requests.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The preflight's first findings, run beside the first run: a run as soon as they have come pages them.
        let preflight = self.preflight.clone();
        let first_findings = async move {
            match preflight {
                Some(findings) if findings.get().is_none() => findings.first().await,
                _ => std::future::pending().await,
            }
        };
        tokio::pin!(first_findings);
        let mut first_paged = false;
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = &mut first_findings, if !first_paged => {
                    first_paged = true;
                    ticks.reset_immediately();
                }
                _ = requests.tick() => match self.serve_requests().await {
                    Ok(Some(report)) => tracing::info!(run_id = report.run_id, "reconciled on request"),
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "reconcile request failed"),
                },
                _ = ticks.tick() => match self.run_once().await {
                    Ok(report) => tracing::info!(
                        run_id = report.run_id,
                        assets = report.assets.len(),
                        firing = report.alerts.len(),
                        fired = report.fired.len(),
                        resolved = report.resolved.len(),
                        undelivered = report.undelivered,
                        "reconciled"
                    ),
                    Err(e) => tracing::error!(error = %e, "reconciliation run failed"),
                },
            }
        }
    }
}

/// `value` as stored JSON; an alert that cannot be written as JSON fails the run, as a database error would.
fn json(value: &impl Serialize) -> Result<serde_json::Value, sqlx::Error> {
    serde_json::to_value(value).map_err(json_error)
}

fn json_error(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}
