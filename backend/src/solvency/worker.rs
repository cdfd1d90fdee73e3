//! The solvency worker: every `interval_secs`, for each asset on a chain with a `[[solvency.chains]]` cadence, one
//! step of its epoch (SOLVENCY.md): build the next one when it is due (from one snapshot of the ledger at the
//! listener's confirmed block), have the signer sign it (its nonce and deadline fixed first, so a retry gets the same
//! signature, and with them the system's approval of exactly that payload: a `solvency_commitment`, the
//! system-approved kind of the one authorisation lifecycle, backend/STAFF.md §3), send it with the operator key like
//! a payout batch — kept, retried with the same signed payload, executed once — and follow it up. The listener marks
//! it committed from its `LiabilitiesCommitted` event; an attempt that can never execute (its deadline passed, the
//! chain took another commitment for its epoch, the signer refused it) fails, and the same epoch number is built
//! again from fresh figures.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use ledger::authorisations::AuthorisationError;
use ledger::payouts::{BatchChain, KeptTransaction, SendState};
use ledger::solvency::{self, Cadence, Epoch, EpochStatus, Next};
use payout_chain::{Liveness, SignedCall, SubmitError};
use signer_client::client::{ClientError, SignerClient};
use signer_client::intent::{Addr, Amount, LiabilityRootIntent};
use sqlx::PgPool;

use crate::chains::ChainRegistry;
use crate::config::SolvencySettings;
use crate::payouts::sender::{self, Driver, Previous, Request, SendError, SendJob, Tx};

/// The `audit_logs` actor of the worker's sends.
pub const ACTOR: &str = "solvency-worker";

/// What the worker needs.
#[derive(Debug, Clone)]
pub struct SolvencyWorker {
    /// The ledger.
    pub db: PgPool,
    /// The configured chains, with their operator keys.
    pub chains: Arc<ChainRegistry>,
    /// The signing service; without it epochs are built but never signed.
    pub signer: Option<SignerClient>,
    /// `[solvency]`.
    pub settings: SolvencySettings,
    /// K, the salts' key.
    pub key: [u8; 32],
    /// Where failed commitments are counted (`signed_intents_failed_total{kind="liability_root"}`).
    pub metrics: Option<Arc<crate::metrics::ApiMetrics>>,
}

/// What one step did for one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing was due.
    Idle,
    /// It was signed.
    Signed,
    /// A transaction carrying it was sent (or broadcast again).
    Sent {
        /// The transaction.
        tx: B256,
    },
    /// Its transaction is in flight, or it executed and waits for the listener.
    Waiting,
    /// It can never execute.
    Failed {
        /// Why.
        why: String,
    },
    /// This round could not move it (the signer or the chain did not answer); the next round tries again.
    Retry {
        /// Why.
        why: String,
    },
}

impl Step {
    /// How much a step says about a round's rows: a failure over a retry over progress over waiting.
    fn weight(&self) -> u8 {
        match self {
            Step::Idle => 0,
            Step::Waiting => 1,
            Step::Signed => 2,
            Step::Sent { .. } => 3,
            Step::Retry { .. } => 4,
            Step::Failed { .. } => 5,
        }
    }
}

impl SolvencyWorker {
    /// Runs rounds every `interval_secs` until `stop` fires (the worker kit, [`service_kit::work`]).
    pub async fn run(self, stop: service_kit::work::Stop) {
        let interval = Duration::from_secs(self.settings.interval_secs);
        tracing::info!(chains = self.settings.chains.len(), "solvency worker started");
        // Rows built before contracts were recorded are named once, before any round builds beside them.
        let named = std::sync::atomic::AtomicBool::new(false);
        let (this, named) = (&self, &named);
        service_kit::work::run("solvency", interval, stop, move || async move {
            use std::sync::atomic::Ordering::SeqCst;
            if !named.load(SeqCst) {
                this.name_unnamed_rows().await.map_err(|e| format!("naming older rows' contract failed: {e}"))?;
                named.store(true, SeqCst);
            }
            this.round().await.map_err(|e| format!("the ledger could not be read: {e}"))?;
            Ok::<_, String>(service_kit::work::Round::Idle)
        })
        .await;
    }

    /// Names the contract of the rows built before contracts were recorded (migration 0028): each chain's first
    /// contract, its oldest in the chain spec.
    pub async fn name_unnamed_rows(&self) -> Result<(), sqlx::Error> {
        for settings in &self.settings.chains {
            if let Some(chain) = self.chains.get(settings.chain_id) {
                solvency::adopt_unnamed(&self.db, chain.chain_id, chain.batch_contract(None)).await?;
            }
        }
        Ok(())
    }

    /// One round: one step for every asset with a cadence.
    pub async fn round(&self) -> Result<Vec<(i32, Step)>, sqlx::Error> {
        let mut steps = Vec::new();
        for (asset_id, info) in ledger::assets(&self.db).await? {
            let Some(chain) = self.settings.chain(info.chain_id) else { continue };
            // Once the members' exit opened, the contract takes no commitment of the asset ever again.
            if !ledger::exits::openings(&self.db, asset_id).await?.is_empty() {
                continue;
            }
            let cadence =
                Cadence { interval_blocks: chain.interval_blocks, payout_gap_blocks: chain.payout_gap_blocks };
            let step = self.step(asset_id, &info.symbol, cadence).await?;
            match &step {
                Step::Idle | Step::Waiting => {}
                Step::Failed { why } => {
                    tracing::warn!(asset_id, %why, "solvency epoch failed; it is built again");
                    if let Some(metrics) = &self.metrics {
                        metrics.intent_failed(
                            ledger::authorisations::OutflowKind::SolvencyCommitment,
                            why.contains("deadline"),
                        );
                    }
                }
                Step::Retry { why } => tracing::warn!(asset_id, %why, "solvency epoch not moved this round"),
                other => tracing::info!(asset_id, step = ?other, "solvency epoch moved"),
            }
            steps.push((asset_id, step));
        }
        Ok(steps)
    }

    /// One step of `asset_id`'s epochs: a new round is built — one epoch on every contract of the chain (the live one
    /// and those an upgrade replaced, contracts/UPGRADES.md §7) — signed and sent in the same step when nothing stops
    /// it; each row in flight moves one stage.
    pub async fn step(&self, asset_id: i32, symbol: &str, cadence: Cadence) -> Result<Step, sqlx::Error> {
        let in_flight = solvency::in_flight_all(&self.db, asset_id).await?;
        if !in_flight.is_empty() {
            return self.drive_all(in_flight, symbol).await;
        }
        let round = match solvency::next(&self.db, asset_id, cadence).await? {
            Next::Wait => return Ok(Step::Idle),
            Next::Drive(epoch) => return self.drive_all(vec![*epoch], symbol).await,
            Next::Build { round } => round,
        };
        let Some(chain) = self.chains.get(self.chain_of(asset_id).await?) else {
            return Ok(Step::Retry { why: "the asset's chain is not configured here".into() });
        };
        let mut plan = Vec::new();
        for contract in chain.contracts() {
            let epoch = solvency::last_epoch_on(&self.db, asset_id, contract).await? + 1;
            // The chain holding this epoch already (a commitment the ledger never built): building it again could
            // never execute; the reconciler pages `solvency_commitment`, a person decides.
            match self.chain_epoch(chain, contract, asset_id).await {
                Ok(held) if held >= epoch => {
                    return Ok(Step::Retry {
                        why: format!(
                            "contract {contract} holds epoch {held}, which the ledger never committed: not building"
                        ),
                    });
                }
                Ok(_) => {}
                Err(why) => return Ok(Step::Retry { why }),
            }
            plan.push((contract, epoch));
        }
        let built = match solvency::build_round(&self.db, asset_id, round, &plan, self.key).await {
            Ok(Some(built)) => built,
            Ok(None) => return Ok(Step::Idle),
            Err(solvency::SolvencyError::Db(e)) => return Err(e),
            Err(e) => return Ok(Step::Retry { why: e.to_string() }),
        };
        self.drive_all(built, symbol).await
    }

    /// One stage for each of `epochs` (a round's rows, oldest first); the step that says most about them.
    async fn drive_all(&self, epochs: Vec<Epoch>, symbol: &str) -> Result<Step, sqlx::Error> {
        let mut telling = Step::Idle;
        for epoch in epochs {
            let step = self.drive(epoch, symbol).await?;
            if step.weight() > telling.weight() {
                telling = step;
            }
        }
        Ok(telling)
    }

    /// One stage of one row: signed when built (and sent at once), sent or followed up when signed or sent.
    async fn drive(&self, mut epoch: Epoch, symbol: &str) -> Result<Step, sqlx::Error> {
        // A contract dropped from the chain spec (its wind-down complete) gets no more commitments: a row of it left
        // in flight would hold up every round after it.
        if let (Some(chain), Some(contract)) = (self.chains.get(epoch.chain_id), epoch.contract)
            && !chain.contracts().any(|c| c == contract)
        {
            let why = "its contract is no longer in the chain spec";
            solvency::mark_failed(&self.db, epoch.id, why).await?;
            return Ok(Step::Failed { why: why.into() });
        }
        if epoch.status == EpochStatus::Built {
            let signed = self.sign(&epoch).await?;
            if signed != Step::Signed {
                return Ok(signed);
            }
            match solvency::by_id(&self.db, epoch.asset_id, epoch.id).await? {
                Some(e) if e.status == EpochStatus::Signed => epoch = e,
                _ => return Ok(Step::Signed),
            }
        }
        match epoch.status {
            EpochStatus::Signed | EpochStatus::Sent => self.send(epoch, symbol).await,
            EpochStatus::Built | EpochStatus::Committed | EpochStatus::Failed => Ok(Step::Idle),
        }
    }

    /// The asset's latest epoch on `contract` (`latestLiabilities`), read through the chain's RPC.
    async fn chain_epoch(
        &self,
        chain: &crate::chains::Chain,
        contract: alloy::primitives::Address,
        asset_id: i32,
    ) -> Result<u64, String> {
        let access = chain.access().map_err(|e| format!("{e:?}"))?;
        let token = ledger::asset_info(&self.db, asset_id).await.map_err(|e| e.to_string())?.map(|a| a.token);
        let token = token.ok_or("no such asset")?;
        let contract = abi::Settlement::new(contract, &access.provider);
        let call = contract.latestLiabilities(token);
        match tokio::time::timeout(sender::CHAIN_TIMEOUT, call.call()).await {
            Ok(Ok(latest)) => Ok(latest.epoch),
            Ok(Err(e)) => Err(format!("latestLiabilities: {e}")),
            Err(_) => Err("latestLiabilities: the chain did not answer in time".into()),
        }
    }

    /// The approved forfeits `epoch`'s root carries to the signer: those applied since the latest committed round,
    /// as of this round's snapshot, with their staff signatures (backend/SOLVENCY.md §1). The signer counts each
    /// once, against the commitment the root is measured from.
    async fn forfeits(&self, epoch: &Epoch) -> Result<Vec<signer_client::intent::ApprovedForfeit>, sqlx::Error> {
        let carried = match ledger::forfeits::carried(&self.db, epoch.asset_id, epoch.round).await {
            Ok(carried) => carried,
            Err(AuthorisationError::Db(e)) => return Err(e),
            Err(e) => return Err(sqlx::Error::Protocol(e.to_string())),
        };
        Ok(carried
            .into_iter()
            .map(|f| signer_client::intent::ApprovedForfeit {
                id: f.id as u64,
                contract: Addr(f.authorisation.contract),
                member: Addr(f.member),
                amount: Amount(f.authorisation.total),
                deadline: f.authorisation.deadline,
                approvals: crate::outflows::signer::staff_signatures(&f.authorisation),
            })
            .collect())
    }

    async fn chain_of(&self, asset_id: i32) -> Result<u64, sqlx::Error> {
        Ok(ledger::asset_info(&self.db, asset_id).await?.map_or(0, |a| a.chain_id))
    }

    /// Has the signer sign a built epoch, on a nonce and deadline fixed before asking, with the system's
    /// authorisation of exactly that payload recorded in the same transaction (`solvency_commitment`, approved by the
    /// system: backend/STAFF.md §3). The signer's answer is kept only if it is for that payload.
    async fn sign(&self, epoch: &Epoch) -> Result<Step, sqlx::Error> {
        let Some(signer) = &self.signer else { return Ok(Step::Retry { why: "no [signer] configured".into() }) };
        let Some(chain) = self.chains.get(epoch.chain_id) else {
            return Ok(Step::Retry { why: "the asset's chain is not configured here".into() });
        };
        // The chain's clock, never the host's: the contract compares the deadline with its block's timestamp.
        let now = chain.now(&crate::clock::Clock::default()).await;
        let contract = chain.batch_contract(epoch.contract);
        let deadline = now + self.settings.signature_ttl_secs;
        let authorised = match solvency::authorise(&self.db, epoch, contract, deadline, ACTOR).await {
            Ok(authorised) => authorised,
            Err(AuthorisationError::Db(e)) => return Err(e),
            // Approved with another payload (its contract named since): never signed as recorded; built again.
            Err(e @ AuthorisationError::PayloadDiffers(..)) => {
                let why = e.to_string();
                solvency::mark_failed(&self.db, epoch.id, &why).await?;
                return Ok(Step::Failed { why });
            }
            Err(e) => return Ok(Step::Retry { why: e.to_string() }),
        };
        let (payload, digest) = (&authorised.payload, authorised.digest);
        let deadline = authorised.authorisation.deadline;
        if deadline <= now {
            solvency::mark_failed(&self.db, epoch.id, "its deadline passed before it was signed").await?;
            return Ok(Step::Failed { why: "its deadline passed before it was signed".into() });
        }
        let intent = LiabilityRootIntent {
            chain_id: epoch.chain_id,
            contract: Addr(contract),
            token: Addr(payload.token),
            epoch: payload.epoch,
            as_of_block: payload.asOfBlock,
            root: payload.root,
            total: Amount::from(payload.total),
            leaf_count: payload.leafCount,
            plan_hash: payload.planHash,
            nonce: Some(Amount(payload.nonce)),
            deadline: Some(deadline),
            forfeits: self.forfeits(epoch).await?,
        };
        match signer.sign_liability_root(&intent).await {
            Ok(signed) if signed.is_for(epoch.chain_id, contract, digest, payload.nonce, deadline) => {
                solvency::mark_signed(&self.db, epoch.id, &signed.signature).await?;
                Ok(Step::Signed)
            }
            Ok(signed) => Ok(Step::Retry {
                why: format!(
                    "the signer's answer is not for the payload authorised (digest {} vs {digest}): not kept",
                    signed.digest
                ),
            }),
            // A refusal is final for this payload (policy, a nonce taken, malformed): this attempt fails.
            Err(ClientError::Refused { status, body }) if (400..500).contains(&status) => {
                let why = format!("the signer refused it: {} ({})", body.code, body.message);
                solvency::mark_failed(&self.db, epoch.id, &why).await?;
                Ok(Step::Failed { why })
            }
            Err(e) => Ok(Step::Retry { why: format!("the signer: {e}") }),
        }
    }

    /// Sends a signed epoch, or follows up a sent one once it has waited `idle_secs`.
    async fn send(&self, epoch: Epoch, symbol: &str) -> Result<Step, sqlx::Error> {
        let Some(chain) = self.chains.get(epoch.chain_id) else {
            return Ok(Step::Retry { why: "the asset's chain is not configured here".into() });
        };
        let contract = chain.batch_contract(epoch.contract);
        let submitter = match chain.submitter_for(contract) {
            Ok(s) => s,
            Err(e) => return Ok(Step::Retry { why: format!("cannot send on chain {}: {e:?}", epoch.chain_id) }),
        };
        let (Some(nonce), Some(deadline)) = (epoch.chain_nonce, epoch.deadline) else {
            return Ok(Step::Retry { why: "signed without a nonce".into() });
        };
        if deadline < chain.now(&crate::clock::Clock::default()).await {
            // Past its deadline by the chain's clock: it fails once a final block proves it can no longer execute.
            match bounded(submitter.liveness(&[nonce], deadline)).await {
                Ok(Liveness::Dead(_)) => {
                    let why = "its deadline passed unexecuted";
                    solvency::mark_failed(&self.db, epoch.id, why).await?;
                    return Ok(Step::Failed { why: why.into() });
                }
                Ok(Liveness::NonceUsed(_)) | Ok(Liveness::MayStillExecute) => return Ok(Step::Waiting),
                Err(e) => return Ok(Step::Retry { why: e.to_string() }),
            }
        }
        if epoch.status == EpochStatus::Sent && epoch.idle < Duration::from_secs(self.settings.idle_secs) {
            return Ok(Step::Waiting);
        }
        // Custody read at commit after a payout that its total (as of its block) still counts would show a shortfall
        // that is none: not sent; built again from the settled figures.
        if epoch.status == EpochStatus::Signed
            && solvency::payout_since(&self.db, epoch.asset_id, epoch.as_of_block).await?
        {
            let why = "a payout moved custody after its block";
            solvency::mark_failed(&self.db, epoch.id, why).await?;
            return Ok(Step::Failed { why: why.into() });
        }
        let Some((tx, locked)) = solvency::lock_for_send(&self.db, epoch.id).await? else { return Ok(Step::Idle) };
        if !matches!(locked.status, EpochStatus::Signed | EpochStatus::Sent) {
            return Ok(Step::Idle);
        }
        let state = locked.send_state();
        let job = CommitJob {
            chain: BatchChain {
                chain_id: locked.chain_id,
                asset_id: locked.asset_id,
                symbol: symbol.to_owned(),
                contract: Some(contract),
            },
            epoch: locked,
        };
        let found = |_: &BatchChain, previous: Previous| {
            tracing::info!(epoch_id = job.epoch.id, previous = previous.as_str(), "solvency commitment sent again");
        };
        let driver = Driver { actor: ACTOR, found: &found };
        match sender::decide(&job, &*submitter, &driver, tx, state, Request::Advance).await {
            Ok(sent) if sent.sent() => Ok(Step::Sent { tx: sent.tx }),
            Ok(_) => Ok(Step::Waiting),
            Err(SendError::Chain(SubmitError::Refused(reason))) if can_never_execute(&reason) => {
                let why = format!("the contract refuses it: {reason}");
                solvency::mark_failed(&self.db, job.epoch.id, &why).await?;
                Ok(Step::Failed { why })
            }
            Err(SendError::Db(e)) => Err(e),
            Err(e) => Ok(Step::Retry { why: e.to_string() }),
        }
    }
}

/// The contract's refusals after which this signed commitment can never execute: another commitment took its
/// epoch (or a later block), its liabilities are older than the contract's `maxAsOfLag`, its token was never allowed,
/// or the signer's key is no longer the contract's; a payout batch executed after its block (its leaves would not
/// count it: built again from a later block); the token's members' exit is open (no commitment ever again). (Past its
/// deadline it is failed once the chain proves it can no longer execute: `Expired` alone does not say it never
/// executed.)
fn can_never_execute(reason: &str) -> bool {
    [
        "EpochOutOfOrder",
        "AsOfBlockOutOfRange",
        "AsOfBlockTooOld",
        "InvalidSignature",
        "TokenNeverAllowed",
        "BatchAfterAsOfBlock",
        "ExitOpen",
    ]
    .iter()
    .any(|r| reason.contains(r))
}

async fn bounded<T>(call: impl Future<Output = Result<T, SubmitError>>) -> Result<T, SendError> {
    match tokio::time::timeout(sender::CHAIN_TIMEOUT, call).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(SendError::ChainTimeout),
    }
}

/// An epoch's commitment as the payout sender drives it.
struct CommitJob {
    epoch: Epoch,
    chain: BatchChain,
}

impl SendJob for CommitJob {
    fn id(&self) -> i64 {
        self.epoch.id
    }

    fn chain(&self) -> &BatchChain {
        &self.chain
    }

    fn actions(&self) -> [&'static str; 3] {
        ["solvency_commit_send", "solvency_commit_retry", "solvency_commit_replace"]
    }

    async fn payload(&self, _tx: &mut Tx) -> Result<SignedCall, sqlx::Error> {
        let payload =
            self.epoch.payload().ok_or_else(|| sqlx::Error::Decode("a signed epoch without a nonce".into()))?;
        Ok(SignedCall::Commitment(payload))
    }

    async fn record_sent(&self, tx: Tx, _: &SendState, hash: B256, _: &str, _: &str) -> Result<(), sqlx::Error> {
        solvency::record_sent(tx, self.epoch.id, hash).await
    }

    async fn record_kept(
        &self,
        tx: Tx,
        _: &SendState,
        kept: &KeptTransaction,
        _: &str,
        _: &str,
    ) -> Result<(), sqlx::Error> {
        solvency::record_kept(tx, self.epoch.id, kept).await
    }
}
