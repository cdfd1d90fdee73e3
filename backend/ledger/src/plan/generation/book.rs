//! The generation plan's rows and how the ledger drives it: each closed week's record (`period_closes`), and the
//! loader that rebuilds the engine from the shared tables (what each user paid in, each purchase's cap under its
//! version, what each earned, the company's balance).

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{GenerationEngine, GenerationParams, PeriodClose, StoredMember};
use crate::error::LedgerError;
use crate::money::Money;
use crate::plan::kind::{PlanKind, RewardPlan};
use crate::plan::room::{Applied, AssetAt, At, Closed, Due, PlanBook, PlanRoom, Tx};
use crate::plan::{Amount, PlanEvent, Rejection, RowCounters};
use crate::stored;

/// The generation plan's entry in the registry.
pub(crate) static ROOM: Room = Room;

/// See [`ROOM`].
pub(crate) struct Room;

impl PlanRoom for Room {
    fn kind(&self) -> PlanKind {
        PlanKind::Generation
    }

    fn digest_tables(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &[
            // closing_block is left out: a week closed by the listener's confirmed head is closed by the next
            // event's block in a replay from the raw events, with the same figures.
            (
                "period_closes",
                "asset_id, period, plan_version, period_end, applied_events, ranked, bonuses, company_before, credited",
                "asset_id, period",
            ),
        ]
    }

    fn load<'a>(&'a self, tx: &'a mut Tx, at: AssetAt) -> BoxFuture<'a, Result<Box<dyn PlanBook>, LedgerError>> {
        async move {
            let engine = load_engine(tx, at).await?;
            Ok(Box::new(GenerationBook { engine, closes: Vec::new() }) as Box<dyn PlanBook>)
        }
        .boxed()
    }
}

/// A week closed in the batch being applied, with the block that closed it and the events applied by then.
#[derive(Debug)]
struct ClosedWeek {
    close: PeriodClose,
    closing_block: u64,
    applied_events: u64,
}

/// A generation asset's engine and the weeks closed in the batch being applied.
#[derive(Debug)]
struct GenerationBook {
    engine: GenerationEngine,
    closes: Vec<ClosedWeek>,
}

impl PlanBook for GenerationBook {
    fn plan(&self) -> &dyn RewardPlan {
        &self.engine
    }

    fn plan_mut(&mut self) -> &mut dyn RewardPlan {
        &mut self.engine
    }

    fn apply(&mut self, at: At, event: &PlanEvent) -> Result<Result<Applied, Rejection>, LedgerError> {
        match self.engine.apply(at.block, at.timestamp, event) {
            Ok(outcome) => {
                outcome.check_conservation()?;
                Ok(Ok(Applied::payment(outcome, Vec::new(), Vec::new())))
            }
            Err(rejection) => Ok(Err(rejection)),
        }
    }

    fn close_through(&mut self, at: At) -> Vec<Due> {
        let closes = self.engine.close_through(at.block, at.timestamp);
        let applied_events = self.engine.counters().applied_events;
        closes
            .into_iter()
            .map(|close| {
                let closed =
                    Closed { period: close.period, plan_version: close.plan_version, credits: close.credits.clone() };
                self.closes.push(ClosedWeek { close, closing_block: at.block, applied_events });
                Due::Closed(closed)
            })
            .collect()
    }

    fn flush<'a>(&'a mut self, tx: &'a mut Tx, asset_id: i32) -> BoxFuture<'a, Result<(), LedgerError>> {
        async move {
            // Rare: one row a week.
            for c in std::mem::take(&mut self.closes) {
                let close = &c.close;
                sqlx::query!(
                    "INSERT INTO period_closes (asset_id, period, plan_version, period_end, closing_block,
                                                applied_events, ranked, bonuses, company_before, credited)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::numeric, $9::text::numeric, $10::text::numeric)",
                    asset_id,
                    close.period as i64,
                    close.plan_version as i32,
                    close.period_end as i64,
                    c.closing_block as i64,
                    c.applied_events as i64,
                    serde_json::to_value(&close.ranked).expect("ranked users serialize"),
                    close.bonuses.to_string(),
                    close.company_before.to_string(),
                    close.credited().to_string()
                )
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }
        .boxed()
    }

    fn refresh<'a>(&'a mut self, tx: &'a mut Tx, asset_id: i32) -> BoxFuture<'a, Result<(), LedgerError>> {
        async move {
            let (schedule, company) = stored::versions_and_company(tx, asset_id).await?;
            *self.engine.schedule_mut() = schedule;
            self.engine.set_company_balance(company);
            Ok(())
        }
        .boxed()
    }

    fn engine_any(&self) -> &dyn std::any::Any {
        &self.engine
    }
}

/// A generation asset's plan: users, what each paid in, the cap of every purchase under its version, what each
/// earned, and the company's balance (its credits less treasury transfers executed).
async fn load_engine(tx: &mut Tx, at: AssetAt) -> Result<GenerationEngine, LedgerError> {
    let asset_id = at.id;
    let schedule = stored::schedule::<GenerationParams>(tx, asset_id).await?;
    let users = stored::users(tx, asset_id).await?;
    let mut stored = vec![StoredMember::default(); users.len()];
    let count = users.len();
    let member = |u: i32| {
        usize::try_from(u)
            .ok()
            .filter(|u| *u < count)
            .ok_or_else(|| LedgerError::Corrupt(format!("asset {asset_id}: figures for unknown user {u}")))
    };
    let paid = sqlx::query!(
        r#"SELECT user_no, paid_in AS "paid_in: Money" FROM users WHERE asset_id = $1 AND paid_in > 0"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    for r in paid {
        stored[member(r.user_no)?].paid_in = r.paid_in.to_amount()?;
    }
    // The cap of each purchase under the version of its block, rounded down per purchase.
    let purchases = sqlx::query!(
        r#"SELECT user_no AS "user_no!", plan_version AS "plan_version!", amount AS "amount!: Money", count(*) AS "count!"
         FROM chain_events WHERE asset_id = $1 GROUP BY user_no, plan_version, amount"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    for r in purchases {
        let u = member(r.user_no)?;
        let version = schedule.versions().iter().find(|v| v.version as i32 == r.plan_version).ok_or_else(|| {
            LedgerError::Corrupt(format!("asset {asset_id}: an event of unknown plan version {}", r.plan_version))
        })?;
        let cap = r.amount.to_amount()? * u128::from(version.params.cap_bps) / 10_000;
        stored[u].cap += cap * r.count as Amount;
    }
    let earned = sqlx::query!(
        r#"SELECT beneficiary_no, sum(amount) AS "earned!: Money" FROM rewards
         WHERE asset_id = $1 AND kind IN ('GENERATION', 'RANK_BONUS') GROUP BY beneficiary_no"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    for r in earned {
        stored[member(r.beneficiary_no)?].earned = r.earned.to_amount()?;
    }
    let company = stored::company_balance(tx, asset_id).await?;
    let counters = RowCounters { applied_events: at.applied_events, ..stored::next_numbers(tx, asset_id).await? };
    Ok(GenerationEngine::restore(schedule, users, &stored, company, at.next_period, at.last_block, counters))
}
