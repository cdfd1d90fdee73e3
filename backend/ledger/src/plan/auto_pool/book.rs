//! The auto-pool plan's rows and how the ledger drives it: its placements (the pool nodes, and their completions),
//! the pools' node counts, the users' reserves and every movement of them, written per batch in one statement; the
//! loader that rebuilds the engine from them.

use std::collections::{BTreeMap, BTreeSet};

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{PlacementCause, PlanEngine, PoolNode, ReserveChange};
use crate::error::LedgerError;
use crate::money::Money;
use crate::plan::kind::{PlanKind, RewardPlan};
use crate::plan::room::{Applied, AssetAt, At, PlanBook, PlanRoom, Tx};
use crate::plan::{Amount, PlanEvent, Rejection, RowCounters, UserNo, UserState};
use crate::stored;

/// The auto-pool plan's entry in the registry.
pub(crate) static ROOM: Room = Room;

/// See [`ROOM`].
pub(crate) struct Room;

impl PlanRoom for Room {
    fn kind(&self) -> PlanKind {
        PlanKind::AutoPool
    }

    fn digest_tables(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &[
            ("user_reserves", "*", "asset_id, user_no, level"),
            ("pools", "*", "asset_id, level"),
            ("placements", "*", "asset_id, placement_no"),
            ("reserve_movements", "*", "asset_id, movement_no"),
        ]
    }

    fn load<'a>(&'a self, tx: &'a mut Tx, at: AssetAt) -> BoxFuture<'a, Result<Box<dyn PlanBook>, LedgerError>> {
        async move {
            let engine = load_engine(tx, at.id, at.applied_events).await?;
            Ok(Box::new(PoolBook { engine, rows: PoolRows::default() }) as Box<dyn PlanBook>)
        }
        .boxed()
    }
}

/// An auto-pool asset's engine and the rows of the batch being applied.
#[derive(Debug)]
struct PoolBook {
    engine: PlanEngine,
    rows: PoolRows,
}

#[derive(Debug, Default)]
struct PlacementRows {
    no: Vec<i64>,
    owner: Vec<i32>,
    level: Vec<i32>,
    q: Vec<i64>,
    amount: Vec<Money>,
    cause: Vec<&'static str>,
    parent: Vec<Option<i64>>,
    completed_q: Vec<Option<i64>>,
    seq: Vec<i64>,
    plan_version: Vec<i32>,
    /// The node's completion (block, timestamp), if a later placement of the batch completed it.
    completed_block: Vec<Option<i64>>,
    completed_time: Vec<Option<i64>>,
}

#[derive(Debug, Default)]
struct MovementRows {
    no: Vec<i64>,
    user: Vec<i32>,
    level: Vec<i32>,
    delta: Vec<String>,
    balance_after: Vec<Money>,
    reward: Vec<Option<i64>>,
    placement: Vec<Option<i64>>,
    seq: Vec<i64>,
}

/// Nodes of one level completed by this batch but stored by an earlier one.
#[derive(Debug, Default)]
struct Completions {
    q: Vec<i64>,
    block: Vec<i64>,
    time: Vec<i64>,
}

/// The auto-pool rows of a batch, gathered as column arrays.
#[derive(Debug, Default)]
struct PoolRows {
    placements: PlacementRows,
    movements: MovementRows,
    /// (level, q) → the placement row of a node placed in this batch.
    new_nodes: BTreeMap<(u32, u64), usize>,
    /// (level, q) → (block, timestamp) for nodes stored before this batch.
    completed_old: BTreeMap<(u32, u64), (u64, u64)>,
    /// (user, level) whose reserve moved.
    reserves: BTreeSet<(UserNo, u32)>,
    /// Levels with new nodes.
    levels: BTreeSet<u32>,
}

impl PlanBook for PoolBook {
    fn plan(&self) -> &dyn RewardPlan {
        &self.engine
    }

    fn plan_mut(&mut self) -> &mut dyn RewardPlan {
        &mut self.engine
    }

    fn apply(&mut self, at: At, event: &PlanEvent) -> Result<Result<Applied, Rejection>, LedgerError> {
        let out = match self.engine.apply(at.block, event) {
            Ok(out) => out,
            Err(rejection) => return Ok(Err(rejection)),
        };
        out.check_conservation()?;
        let seq = out.seq as i64;
        let r = &mut self.rows;
        for p in &out.placements {
            let pl = &mut r.placements;
            pl.no.push(p.placement_no as i64);
            pl.owner.push(p.owner as i32);
            pl.level.push(p.level as i32);
            pl.q.push(p.position as i64);
            pl.amount.push(Money::from(p.amount));
            match p.cause {
                PlacementCause::PoolEntry => {
                    pl.cause.push("pool_entry");
                    pl.parent.push(None);
                }
                PlacementCause::AutoProgression { parent } => {
                    pl.cause.push("auto_progression");
                    pl.parent.push(Some(out.placements[parent].placement_no as i64));
                }
            }
            pl.completed_q.push(p.completed.map(|q| q as i64));
            pl.seq.push(seq);
            pl.plan_version.push(out.plan_version as i32);
            pl.completed_block.push(None);
            pl.completed_time.push(None);
            r.new_nodes.insert((p.level, p.position), pl.no.len() - 1);
            if let Some(a) = p.completed {
                let when = (at.block, at.timestamp);
                match r.new_nodes.get(&(p.level, a)) {
                    Some(&i) => {
                        pl.completed_block[i] = Some(when.0 as i64);
                        pl.completed_time[i] = Some(when.1 as i64);
                    }
                    None => {
                        r.completed_old.insert((p.level, a), when);
                    }
                }
            }
            r.levels.insert(p.level);
        }
        for m in &out.reserve_movements {
            let mv = &mut r.movements;
            mv.no.push(m.movement_no as i64);
            mv.user.push(m.user as i32);
            mv.level.push(m.level as i32);
            match m.change {
                ReserveChange::Credit { credit, amount } => {
                    mv.delta.push(amount.to_string());
                    mv.reward.push(Some(out.credits[credit].reward_no as i64));
                    mv.placement.push(None);
                }
                ReserveChange::Take { placement, amount } => {
                    mv.delta.push(format!("-{amount}"));
                    mv.reward.push(None);
                    mv.placement.push(Some(out.placements[placement].placement_no as i64));
                }
            }
            mv.balance_after.push(Money::from(m.balance_after));
            mv.seq.push(seq);
            r.reserves.insert((m.user, m.level));
        }
        let placement_nos = out.placements.iter().map(|p| p.placement_no).collect();
        let users = out.reserve_movements.iter().map(|m| m.user).collect();
        Ok(Ok(Applied::payment(out.event, placement_nos, users)))
    }

    fn reserved(&self, user: UserNo) -> Amount {
        self.engine.user(user).reserves().map(|(_, x)| x).sum()
    }

    fn exit<'a>(
        &'a mut self,
        tx: &'a mut Tx,
        asset_id: i32,
        user: UserNo,
        block: u64,
    ) -> BoxFuture<'a, Result<(), LedgerError>> {
        // The leave paid the reserve out (the ledger settled its reserved rewards): each level's goes to 0 by a
        // movement of the leave's block.
        let taken = self.engine.exit(user);
        async move {
            if taken.is_empty() {
                return Ok(());
            }
            sqlx::query!(
                "WITH moved AS (
                   INSERT INTO reserve_movements (asset_id, movement_no, user_no, level, delta, balance_after,
                                                  exited_block)
                   SELECT $1, n, $2, l, -m, 0, $3 FROM UNNEST($4::int8[], $5::int4[], $6::numeric[]) AS x(n, l, m))
                 UPDATE user_reserves SET amount = 0 WHERE asset_id = $1 AND user_no = $2",
                asset_id,
                user as i32,
                block as i64,
                &taken.iter().map(|t| t.2 as i64).collect::<Vec<_>>(),
                &taken.iter().map(|t| t.0 as i32).collect::<Vec<_>>(),
                &taken.iter().map(|t| Money::from(t.1)).collect::<Vec<_>>() as _
            )
            .execute(&mut **tx)
            .await?;
            Ok(())
        }
        .boxed()
    }

    fn flush<'a>(&'a mut self, tx: &'a mut Tx, asset_id: i32) -> BoxFuture<'a, Result<(), LedgerError>> {
        async move {
            let rows = std::mem::take(&mut self.rows);
            rows.write(tx, asset_id, &self.engine).await
        }
        .boxed()
    }

    fn refresh<'a>(&'a mut self, tx: &'a mut Tx, asset_id: i32) -> BoxFuture<'a, Result<(), LedgerError>> {
        async move {
            *self.engine.schedule_mut() = stored::schedule(tx, asset_id).await?;
            Ok(())
        }
        .boxed()
    }

    fn engine_any(&self) -> &dyn std::any::Any {
        &self.engine
    }
}

impl PoolRows {
    /// The batch's auto-pool rows in one statement (a CTE per table, each inserting from arrays, so an empty array
    /// inserts nothing), then the completions of nodes stored before it.
    async fn write(self, tx: &mut Tx, asset_id: i32, engine: &PlanEngine) -> Result<(), LedgerError> {
        if self.placements.no.is_empty() && self.movements.no.is_empty() {
            return Ok(());
        }
        let (pl, mv) = (&self.placements, &self.movements);
        sqlx::query!(
            "WITH
             -- A placement is its pool node: active, or completed by a later placement of the batch.
             placements_w AS (
               INSERT INTO placements (asset_id, placement_no, owner_no, level, q, amount, cause, parent_placement_no, completed_q, event_seq, plan_version,
                                       status, completed_block, completed_at)
               SELECT $1, n, o, l, q, m, c, pp, cq, e, v, CASE WHEN b IS NULL THEN 'active' ELSE 'completed' END, b, to_timestamp(t)
               FROM UNNEST($2::int8[], $3::int4[], $4::int4[], $5::int8[], $6::numeric[], $7::text[], $8::int8[], $9::int8[], $10::int8[], $11::int4[],
                           $12::int8[], $13::int8[])
                 AS x(n, o, l, q, m, c, pp, cq, e, v, b, t)),
             pools_w AS (
               INSERT INTO pools (asset_id, level, node_count)
               SELECT $1, l, c FROM UNNEST($14::int4[], $15::int8[]) AS x(l, c)
               ON CONFLICT (asset_id, level) DO UPDATE SET node_count = EXCLUDED.node_count),
             -- Reserves are absolute (from the engine, as of the batch's end).
             reserves_w AS (
               INSERT INTO user_reserves (asset_id, user_no, level, amount)
               SELECT $1, u, l, m FROM UNNEST($16::int4[], $17::int4[], $18::numeric[]) AS x(u, l, m)
               ON CONFLICT (asset_id, user_no, level) DO UPDATE SET amount = EXCLUDED.amount)
             INSERT INTO reserve_movements (asset_id, movement_no, user_no, level, delta, balance_after, reward_no, placement_no, event_seq)
             SELECT $1, n, u, l, d::numeric, b, r, p, e
             FROM UNNEST($19::int8[], $20::int4[], $21::int4[], $22::text[], $23::numeric[], $24::int8[], $25::int8[], $26::int8[])
               AS x(n, u, l, d, b, r, p, e)",
            asset_id,
            &pl.no as _,
            &pl.owner as _,
            &pl.level as _,
            &pl.q as _,
            &pl.amount as _,
            &pl.cause as _,
            &pl.parent as _,
            &pl.completed_q as _,
            &pl.seq as _,
            &pl.plan_version as _,
            &pl.completed_block as _,
            &pl.completed_time as _,
            self.levels.iter().map(|&l| l as i32).collect::<Vec<_>>() as _,
            self.levels.iter().map(|&l| engine.tree(l).len() as i64).collect::<Vec<_>>() as _,
            self.reserves.iter().map(|&(u, _)| u as i32).collect::<Vec<_>>() as _,
            self.reserves.iter().map(|&(_, l)| l as i32).collect::<Vec<_>>() as _,
            self.reserves.iter().map(|&(u, l)| Money::from(engine.user(u).reserve_towards(l))).collect::<Vec<_>>() as _,
            &mv.no as _,
            &mv.user as _,
            &mv.level as _,
            &mv.delta as _,
            &mv.balance_after as _,
            &mv.reward as _,
            &mv.placement as _,
            &mv.seq as _
        )
        .execute(&mut **tx)
        .await?;
        self.write_completions(tx, asset_id).await
    }

    /// Marks nodes stored by earlier batches as completed: one update per level, selecting nodes by their unique
    /// key (`q = ANY`), which plans well at any table size.
    async fn write_completions(&self, tx: &mut Tx, asset_id: i32) -> Result<(), LedgerError> {
        let mut completed: BTreeMap<u32, Completions> = BTreeMap::new();
        for (&(level, q), &(b, t)) in &self.completed_old {
            let g = completed.entry(level).or_default();
            g.q.push(q as i64);
            g.block.push(b as i64);
            g.time.push(t as i64);
        }
        for (level, c) in &completed {
            sqlx::query!(
                "UPDATE placements n
                 SET status = 'completed', completed_block = x.b, completed_at = to_timestamp(x.t)
                 FROM UNNEST($3::int8[], $4::int8[], $5::int8[]) AS x(q, b, t)
                 WHERE n.asset_id = $1 AND n.level = $2 AND n.q = ANY($3) AND n.q = x.q",
                asset_id,
                *level as i32,
                &c.q,
                &c.block,
                &c.time
            )
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

impl RewardPlan for PlanEngine {
    fn kind(&self) -> PlanKind {
        PlanKind::AutoPool
    }

    fn users(&self) -> &[UserState] {
        PlanEngine::users(self)
    }

    fn user_no(&self, address: &alloy::primitives::Address) -> Option<UserNo> {
        PlanEngine::user_no(self, address)
    }

    fn counters(&self) -> RowCounters {
        PlanEngine::counters(self)
    }

    fn set_frozen(&mut self, user: UserNo, frozen: bool) {
        PlanEngine::set_frozen(self, user, frozen)
    }

    fn set_company_credit_counter(&mut self, next: u64) {
        PlanEngine::set_company_credit_counter(self, next)
    }

    fn set_exited(&mut self, user: UserNo) {
        PlanEngine::set_exited(self, user)
    }
}

/// An auto-pool asset's engine from its rows: users, the trees of every level, reserves, the row counters.
pub(crate) async fn load_engine(tx: &mut Tx, asset_id: i32, applied_events: u64) -> Result<PlanEngine, LedgerError> {
    let schedule = stored::schedule(tx, asset_id).await?;
    let users = stored::users(tx, asset_id).await?;
    let node_rows = sqlx::query!(
        r#"SELECT level, q, owner_no, status = 'completed' AS "completed!" FROM placements
         WHERE asset_id = $1 ORDER BY level, q"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut levels: Vec<Vec<PoolNode>> = Vec::new();
    for r in node_rows {
        let level = r.level as usize;
        if levels.len() < level {
            levels.resize_with(level, Vec::new);
        }
        let tree = &mut levels[level - 1];
        if r.q as usize != tree.len() {
            return Err(LedgerError::Corrupt(format!("asset {asset_id}: level {level} has a gap")));
        }
        tree.push(PoolNode { owner: r.owner_no as u32, completed: r.completed });
    }
    let reserve_rows = sqlx::query!(
        r#"SELECT user_no, level, amount AS "amount: Money" FROM user_reserves WHERE asset_id = $1 AND amount > 0"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut reserves = Vec::with_capacity(reserve_rows.len());
    for r in reserve_rows {
        reserves.push((r.user_no as u32, r.level as u32, r.amount.to_amount()?));
    }
    // The next number of each numbered table, in one statement.
    let next = sqlx::query!(
        r#"SELECT (SELECT COALESCE(MAX(reward_no) + 1, 0) FROM rewards WHERE asset_id = $1) AS "reward!",
                  (SELECT COALESCE(MAX(placement_no) + 1, 0) FROM placements WHERE asset_id = $1) AS "placement!",
                  (SELECT COALESCE(MAX(credit_no) + 1, 0) FROM company_credits WHERE asset_id = $1) AS "credit!",
                  (SELECT COALESCE(MAX(movement_no) + 1, 0) FROM reserve_movements WHERE asset_id = $1) AS "movement!",
                  (SELECT COALESCE(MAX(retopup_no) + 1, 0) FROM chain_events WHERE asset_id = $1 AND retopup_no IS NOT NULL)
                    AS "retopup!""#,
        asset_id
    )
    .fetch_one(&mut **tx)
    .await?;
    let counters = RowCounters {
        applied_events,
        reward: next.reward as u64,
        placement: next.placement as u64,
        company_credit: next.credit as u64,
        reserve_movement: next.movement as u64,
        retopup: next.retopup as u64,
    };
    Ok(PlanEngine::restore(schedule, users, levels, reserves, counters))
}
