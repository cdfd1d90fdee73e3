//! The binary plan's rows and how the ledger drives it: every member's node and figures (`binary_nodes`), where the
//! open period stands (`binary_periods`), each close's record and lines (`binary_closes`, `binary_pair_lines`),
//! each release of reserved pair bonuses (`binary_releases`, with the rewards it moved); and the loader that
//! rebuilds the engine from them and from the shared tables.

use std::collections::BTreeSet;

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{BinaryClose, BinaryEngine, BinaryParams, Member, Placed, Release, Side, StoredBinary};
use crate::error::LedgerError;
use crate::money::Money;
use crate::plan::kind::{PlanKind, RewardPlan};
use crate::plan::room::{Applied, AssetAt, At, Closed, Due, PlanBook, PlanRoom, Tx};
use crate::plan::{Amount, PlanEvent, Rejection, RowCounters, UserNo, UserState};
use crate::stored;

/// The binary plan's entry in the registry.
pub(crate) static ROOM: Room = Room;

/// See [`ROOM`].
pub(crate) struct Room;

impl PlanRoom for Room {
    fn kind(&self) -> PlanKind {
        PlanKind::Binary
    }

    fn digest_tables(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &[
            ("binary_nodes", "*", "asset_id, user_no"),
            // The last block seen depends on the heads the listener saw; the volume does not.
            ("binary_periods", "asset_id, volume", "asset_id"),
            // closing_block is left out, as for the generation plan's weeks.
            (
                "binary_closes",
                "asset_id, period, period_start, period_end, plan_version, applied_events, volume, company_before, \
                 budget, bonuses, credited, reserved",
                "asset_id, period",
            ),
            ("binary_pair_lines", "*", "asset_id, period, user_no"),
            ("binary_releases", "*", "asset_id, user_no"),
        ]
    }

    fn load<'a>(&'a self, tx: &'a mut Tx, at: AssetAt) -> BoxFuture<'a, Result<Box<dyn PlanBook>, LedgerError>> {
        async move {
            let engine = load_engine(tx, at).await?;
            Ok(Box::new(BinaryBook { engine, rows: BinaryRows::default() }) as Box<dyn PlanBook>)
        }
        .boxed()
    }
}

/// A binary asset's engine and the rows of the batch being applied.
#[derive(Debug)]
struct BinaryBook {
    engine: BinaryEngine,
    rows: BinaryRows,
}

/// A period closed in the batch, with the block that closed it and the events applied by then.
#[derive(Debug)]
struct ClosedPeriod {
    close: BinaryClose,
    closing_block: u64,
    applied_events: u64,
}

/// A release of the batch, with the event that caused it.
#[derive(Debug)]
struct Released {
    release: Release,
    seq: u64,
    block: u64,
}

#[derive(Debug, Default)]
struct BinaryRows {
    /// Members whose node or figures changed (written as the engine holds them at the batch's end).
    members: BTreeSet<UserNo>,
    closes: Vec<ClosedPeriod>,
    releases: Vec<Released>,
    /// Whether the open period's volume or last block seen moved.
    period_moved: bool,
}

impl PlanBook for BinaryBook {
    fn plan(&self) -> &dyn RewardPlan {
        &self.engine
    }

    fn plan_mut(&mut self) -> &mut dyn RewardPlan {
        &mut self.engine
    }

    fn apply(&mut self, at: At, event: &PlanEvent) -> Result<Result<Applied, Rejection>, LedgerError> {
        let out = match self.engine.apply(at.block, at.timestamp, event) {
            Ok(out) => out,
            Err(rejection) => return Ok(Err(rejection)),
        };
        out.event.check_conservation()?;
        let r = &mut self.rows;
        r.members.insert(out.event.user);
        r.period_moved = true;
        let mut users = Vec::new();
        if let Some(release) = out.release {
            users.push(release.user);
            r.releases.push(Released { release, seq: out.event.seq, block: at.block });
        }
        Ok(Ok(Applied::payment(out.event, Vec::new(), users)))
    }

    fn close_through(&mut self, at: At) -> Vec<Due> {
        let last_block = self.engine.last_block();
        let closes = self.engine.close_through(at.block, at.timestamp);
        let r = &mut self.rows;
        r.period_moved |= !closes.is_empty() || self.engine.last_block() != last_block;
        let applied_events = self.engine.counters().applied_events;
        closes
            .into_iter()
            .map(|close| {
                r.members.extend(close.lines.iter().map(|l| l.user));
                let closed =
                    Closed { period: close.period, plan_version: close.plan_version, credits: close.credits.clone() };
                r.closes.push(ClosedPeriod { close, closing_block: at.block, applied_events });
                Due::Closed(closed)
            })
            .collect()
    }

    fn reserved(&self, user: UserNo) -> Amount {
        self.engine.member(user).map_or(0, |m| m.reserved)
    }

    fn exit<'a>(
        &'a mut self,
        tx: &'a mut Tx,
        asset_id: i32,
        user: UserNo,
        block: u64,
    ) -> BoxFuture<'a, Result<(), LedgerError>> {
        let _ = block;
        // What was retained for them was in their leaf: the leave paid it out (the ledger settled its rewards).
        self.engine.exit(user);
        async move {
            sqlx::query!(
                "UPDATE binary_nodes SET reserved = 0 WHERE asset_id = $1 AND user_no = $2",
                asset_id,
                user as i32
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

impl BinaryRows {
    async fn write(self, tx: &mut Tx, asset_id: i32, engine: &BinaryEngine) -> Result<(), LedgerError> {
        if !self.members.is_empty() {
            let members: Vec<(UserNo, Option<Placed>, Member, Amount)> = self
                .members
                .iter()
                .filter_map(|&u| {
                    let m = engine.member(u)?;
                    Some((u, engine.placed(u), *m, engine.tree().own_volume(u)))
                })
                .collect();
            // Placement is fixed: an existing node keeps its parent and side (the unique slot index refuses a
            // second child in a slot); the figures are absolute, as of the batch's end.
            sqlx::query!(
                "INSERT INTO binary_nodes (asset_id, user_no, parent_no, side, own_volume, active, consumed, pairs_paid,
                                           reserved)
                 SELECT $1, u, p, s, v, a, c, k, r
                 FROM UNNEST($2::int4[], $3::int4[], $4::text[], $5::numeric[], $6::bool[], $7::numeric[], $8::int8[],
                             $9::numeric[]) AS x(u, p, s, v, a, c, k, r)
                 ON CONFLICT (asset_id, user_no) DO UPDATE
                 SET own_volume = EXCLUDED.own_volume, active = EXCLUDED.active, consumed = EXCLUDED.consumed,
                     pairs_paid = EXCLUDED.pairs_paid, reserved = EXCLUDED.reserved",
                asset_id,
                &members.iter().map(|m| m.0 as i32).collect::<Vec<_>>(),
                &members.iter().map(|m| m.1.map(|p| p.parent as i32)).collect::<Vec<_>>() as _,
                &members.iter().map(|m| m.1.map(|p| p.side.as_str())).collect::<Vec<_>>() as _,
                &members.iter().map(|m| Money::from(m.3)).collect::<Vec<_>>() as _,
                &members.iter().map(|m| m.2.active).collect::<Vec<_>>(),
                &members.iter().map(|m| Money::from(m.2.consumed)).collect::<Vec<_>>() as _,
                &members.iter().map(|m| m.2.pairs_paid as i64).collect::<Vec<_>>(),
                &members.iter().map(|m| Money::from(m.2.reserved)).collect::<Vec<_>>() as _
            )
            .execute(&mut **tx)
            .await?;
        }
        if self.period_moved {
            sqlx::query!(
                "INSERT INTO binary_periods (asset_id, volume, last_block) VALUES ($1, $2::text::numeric, $3)
                 ON CONFLICT (asset_id) DO UPDATE SET volume = EXCLUDED.volume, last_block = EXCLUDED.last_block",
                asset_id,
                engine.period_volume().to_string(),
                engine.last_block() as i64
            )
            .execute(&mut **tx)
            .await?;
        }
        for c in &self.closes {
            write_close(tx, asset_id, c).await?;
        }
        for r in &self.releases {
            write_release(tx, asset_id, r).await?;
        }
        Ok(())
    }
}

/// A close's record and its lines (rare: one a period).
async fn write_close(tx: &mut Tx, asset_id: i32, c: &ClosedPeriod) -> Result<(), LedgerError> {
    let close = &c.close;
    sqlx::query!(
        "INSERT INTO binary_closes (asset_id, period, period_start, period_end, plan_version, closing_block,
                                    applied_events, volume, company_before, budget, bonuses, credited, reserved)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::numeric, $9::text::numeric, $10::text::numeric,
                 $11::text::numeric, $12::text::numeric, $13::text::numeric)",
        asset_id,
        close.period as i64,
        close.start as i64,
        close.end as i64,
        close.plan_version as i32,
        c.closing_block as i64,
        c.applied_events as i64,
        close.volume.to_string(),
        close.company_before.to_string(),
        close.budget.to_string(),
        close.bonuses.to_string(),
        close.credited().to_string(),
        close.reserved().to_string()
    )
    .execute(&mut **tx)
    .await?;
    let l = &close.lines;
    let money = |f: fn(&super::PairLine) -> Amount| l.iter().map(|x| Money::from(f(x))).collect::<Vec<_>>();
    sqlx::query!(
        "INSERT INTO binary_pair_lines (asset_id, period, user_no, carry_left_before, carry_right_before,
                                        carry_left_after, carry_right_after, pairs, paid, flushed, pairs_before,
                                        full_pairs, bonus, scaled, reserved, rest, rest_status)
         SELECT $1, $2, u, lb, rb, la, ra, n, p, f, k, fu, b, s, r, t, st
         FROM UNNEST($3::int4[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[], $9::int8[],
                     $10::numeric[], $11::int8[], $12::int8[], $13::numeric[], $14::numeric[], $15::numeric[],
                     $16::numeric[], $17::text[])
           AS x(u, lb, rb, la, ra, n, p, f, k, fu, b, s, r, t, st)",
        asset_id,
        close.period as i64,
        &l.iter().map(|x| x.user as i32).collect::<Vec<_>>(),
        &money(|x| x.carry_before[Side::Left.index()]) as _,
        &money(|x| x.carry_before[Side::Right.index()]) as _,
        &money(|x| x.carry_after[Side::Left.index()]) as _,
        &money(|x| x.carry_after[Side::Right.index()]) as _,
        &money(|x| x.pairs) as _,
        &l.iter().map(|x| x.paid as i64).collect::<Vec<_>>(),
        &money(|x| x.flushed) as _,
        &l.iter().map(|x| x.pairs_before as i64).collect::<Vec<_>>(),
        &l.iter().map(|x| x.full as i64).collect::<Vec<_>>(),
        &money(|x| x.bonus) as _,
        &money(|x| x.scaled) as _,
        &money(|x| x.reserved) as _,
        &money(|x| x.rest) as _,
        &l.iter().map(|x| x.status.as_str()).collect::<Vec<_>>() as _
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A release (§2.1): every reserved BINARY_PAIR row of the member moves to the release's status, amounts unchanged,
/// their total joins the member's pending or held balance, and the movement is recorded with the rows it moved.
/// The rows are the batch's too (written before this), so a release counts a close of the same batch.
async fn write_release(tx: &mut Tx, asset_id: i32, r: &Released) -> Result<(), LedgerError> {
    let Release { user, amount, status } = r.release;
    let moved = sqlx::query!(
        r#"WITH moved AS (
             UPDATE rewards SET status = $3
             WHERE asset_id = $1 AND beneficiary_no = $2 AND kind = 'BINARY_PAIR' AND status = 'reserved'
             RETURNING reward_no, amount)
           SELECT COALESCE(array_agg(reward_no ORDER BY reward_no), '{}') AS "rewards!",
                  COALESCE(sum(amount), 0)::text AS "total!"
           FROM moved"#,
        asset_id,
        user as i32,
        status.as_str()
    )
    .fetch_one(&mut **tx)
    .await?;
    if moved.total != amount.to_string() {
        return Err(LedgerError::Corrupt(format!(
            "asset {asset_id}: user {user} had {} reserved in BINARY_PAIR rows, the plan {amount}",
            moved.total
        )));
    }
    let (pending, held) = match status {
        crate::plan::RewardStatus::Held => (0, amount),
        _ => (amount, 0),
    };
    sqlx::query!(
        "WITH u AS (
           UPDATE users SET pending = pending + $3::text::numeric, held = held + $4::text::numeric
           WHERE asset_id = $1 AND user_no = $2)
         INSERT INTO binary_releases (asset_id, user_no, amount, status, event_seq, block, rewards)
         VALUES ($1, $2, $5::text::numeric, $6, $7, $8, $9)",
        asset_id,
        user as i32,
        pending.to_string(),
        held.to_string(),
        amount.to_string(),
        status.as_str(),
        r.seq as i64,
        r.block as i64,
        &moved.rewards
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl RewardPlan for BinaryEngine {
    fn kind(&self) -> PlanKind {
        PlanKind::Binary
    }

    fn users(&self) -> &[UserState] {
        BinaryEngine::users(self)
    }

    fn user_no(&self, address: &alloy::primitives::Address) -> Option<UserNo> {
        BinaryEngine::user_no(self, address)
    }

    fn counters(&self) -> RowCounters {
        BinaryEngine::counters(self)
    }

    fn set_frozen(&mut self, user: UserNo, frozen: bool) {
        BinaryEngine::set_frozen(self, user, frozen)
    }

    fn set_company_credit_counter(&mut self, next: u64) {
        BinaryEngine::set_company_credit_counter(self, next)
    }

    fn set_exited(&mut self, user: UserNo) {
        BinaryEngine::exit(self, user)
    }

    fn next_period(&self) -> Option<u64> {
        BinaryEngine::next_period(self)
    }

    fn follows_company_balance(&self) -> bool {
        true
    }

    fn set_company_balance(&mut self, balance: Amount) {
        BinaryEngine::set_company_balance(self, balance)
    }
}

/// A binary asset's engine from its rows: the users, every member's node and figures, what each paid in, the
/// company's balance, where the open period stands and the row counters.
async fn load_engine(tx: &mut Tx, at: AssetAt) -> Result<BinaryEngine, LedgerError> {
    let asset_id = at.id;
    let corrupt = |what: String| LedgerError::Corrupt(format!("asset {asset_id}: {what}"));
    let schedule = stored::schedule::<BinaryParams>(tx, asset_id).await?;
    let users = stored::users(tx, asset_id).await?;
    let count = users.len();
    let mut members = vec![Member::default(); count];
    let mut own_volume = vec![0; count];
    let mut placements = vec![None; count];
    let nodes = sqlx::query!(
        r#"SELECT n.user_no, n.parent_no, n.side, n.own_volume AS "own_volume: Money", n.active,
                  n.consumed AS "consumed: Money", n.pairs_paid, n.reserved AS "reserved: Money",
                  u.paid_in AS "paid_in: Money"
           FROM binary_nodes n JOIN users u USING (asset_id, user_no)
           WHERE n.asset_id = $1 ORDER BY n.user_no"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    for n in nodes {
        let u = usize::try_from(n.user_no).ok().filter(|u| *u < count);
        let u = u.ok_or_else(|| corrupt(format!("a binary node for unknown user {}", n.user_no)))?;
        members[u] = Member {
            paid_in: n.paid_in.to_amount()?,
            active: n.active,
            consumed: n.consumed.to_amount()?,
            pairs_paid: n.pairs_paid as u64,
            reserved: n.reserved.to_amount()?,
        };
        own_volume[u] = n.own_volume.to_amount()?;
        placements[u] = match (n.parent_no, n.side.as_deref().and_then(Side::parse)) {
            (Some(parent), Some(side)) => Some(Placed { parent: parent as UserNo, side }),
            _ => None,
        };
    }
    let placements = placements
        .into_iter()
        .enumerate()
        .skip(1)
        .map(|(u, p)| p.ok_or_else(|| corrupt(format!("user {u} has no place in the binary tree"))))
        .collect::<Result<Vec<_>, _>>()?;
    let period = sqlx::query!(
        r#"SELECT volume AS "volume: Money", last_block FROM binary_periods WHERE asset_id = $1"#,
        asset_id
    )
    .fetch_optional(&mut **tx)
    .await?;
    let (volume, last_block) = match period {
        Some(p) => (p.volume.to_amount()?, p.last_block as u64),
        None => (0, 0),
    };
    let next = stored::next_numbers(tx, asset_id).await?;
    let counters = RowCounters { applied_events: at.applied_events, ..next };
    let company = stored::company_balance(tx, asset_id).await?;
    let record = StoredBinary {
        placements,
        members,
        own_volume,
        company,
        volume,
        next_period: at.next_period,
        last_block,
        counters,
    };
    BinaryEngine::restore(schedule, users, record).map_err(corrupt)
}
