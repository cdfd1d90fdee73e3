//! The members' exit as the ledger knows it (contracts/EXIT.md): a contract's `ExitOpened`, recorded by the listener
//! in its transaction. An asset whose exit opened on any of its chain's contracts takes no payment, payout or
//! transfer any more (the contract refuses them; the API says so first), and its custody is the exit contract's to
//! pay out to members, not the ledger's to reconcile.

use alloy::primitives::{Address, B256, U256};
use sqlx::PgPool;

use crate::money::Money;
use crate::payouts::Tx;

/// Why a settlement or leave event could not be applied (it is quarantined, and an alert raised).
pub(crate) type Refusal = (&'static str, String);

/// An opened exit of an asset on one contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitOpening {
    /// The asset.
    pub asset_id: i32,
    /// Its chain.
    pub chain_id: u64,
    /// Its token (zero: the native coin).
    pub token: Address,
    /// The Settlement contract whose exit opened.
    pub contract: Address,
    /// The block of the opening.
    pub block: u64,
    /// Its transaction.
    pub tx_hash: B256,
    /// What went to the exit contract: the balance less what was claimable.
    pub custody: U256,
}

/// Records `contract`'s opening of `asset_id`'s exit (once: the event is applied once, and the row never changes).
pub(crate) async fn record_opening(
    tx: &mut Tx,
    asset_id: i32,
    contract: Address,
    block: u64,
    tx_hash: B256,
    custody: U256,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO settlement_exits (asset_id, contract, opened_block, opened_tx, custody)
         VALUES ($1, $2, $3, $4, $5::text::numeric) ON CONFLICT (asset_id, contract) DO NOTHING",
        asset_id,
        contract.as_slice(),
        block as i64,
        tx_hash.as_slice(),
        custody.to_string()
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The openings of `asset_id`'s exit (one per contract at most), oldest first; empty while none opened.
pub async fn openings(pool: &PgPool, asset_id: i32) -> Result<Vec<ExitOpening>, sqlx::Error> {
    openings_of(pool, Some(asset_id)).await
}

/// Every opening of every asset, oldest first.
pub async fn all_openings(pool: &PgPool) -> Result<Vec<ExitOpening>, sqlx::Error> {
    openings_of(pool, None).await
}

async fn openings_of(pool: &PgPool, asset_id: Option<i32>) -> Result<Vec<ExitOpening>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT e.asset_id, a.chain_id, a.token, e.contract, e.opened_block, e.opened_tx, e.custody AS "custody: Money"
           FROM settlement_exits e JOIN assets a ON a.id = e.asset_id
           WHERE $1::int IS NULL OR e.asset_id = $1 ORDER BY e.opened_block, e.asset_id"#,
        asset_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ExitOpening {
            asset_id: r.asset_id,
            chain_id: r.chain_id as u64,
            token: Address::from_slice(&r.token),
            contract: Address::from_slice(&r.contract),
            block: r.opened_block as u64,
            tx_hash: B256::from_slice(&r.opened_tx),
            custody: r.custody.0,
        })
        .collect())
}

/// What a member's leave ([`EventBody::MemberLeft`](crate::events::EventBody::MemberLeft)) did in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeaveApplied {
    /// The member, now exited.
    pub user: u32,
    /// Company credits written (the forfeits), numbered from the `credit_no` given.
    pub forfeits: u64,
}

/// What the chain said of a leave.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leave {
    /// The member.
    pub member: Address,
    /// The wallet paid.
    pub to: Address,
    /// What the contract paid.
    pub amount: U256,
    /// What it settled.
    pub due: U256,
}

/// Applies a member's leave of `asset_id` (PLAN.md §5), in the listener's transaction, after the rows of the events
/// before it were written: every open payout batch paying the member is cancelled (the contract refuses it: EXIT.md
/// §12), what the leave paid settles their reserved, held and pending rewards oldest first, the rest is forfeited
/// to the company (company credits from `credit_no`, reason `exit_forfeit`), open withdraw requests are cancelled,
/// and the member is `exited` from the leave's block. The caller tells the plan ([`crate::plan::room::PlanBook::exit`]).
/// `Ok(Err(_))`: the leave does not match the ledger (an unknown member, one exited already, or a leave that paid
/// more than the ledger owed them): quarantined, a person must look; the contract paid it anyway.
pub(crate) async fn apply_leave(
    tx: &mut Tx,
    asset_id: i32,
    event: &crate::events::ChainEvent,
    leave: Leave,
    credit_no: u64,
) -> Result<Result<LeaveApplied, Refusal>, crate::error::LedgerError> {
    use crate::error::LedgerError;
    let Leave { member, to, amount, due } = leave;
    let paid = format!("the contract already paid {amount} to {to}, so custody and the ledger now differ");
    let row = sqlx::query!(
        r#"SELECT user_no, exited_block, reserved + held + pending + batched AS "owed!: Money",
                  reserved AS "reserved: Money"
           FROM users WHERE asset_id = $1 AND address = $2 FOR UPDATE"#,
        asset_id,
        member.as_slice()
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(Err(("unknown_member", format!("leave of {member}, who is not in the ledger: {paid}"))));
    };
    if let Some(block) = row.exited_block {
        return Ok(Err(("already_exited", format!("{member} left at block {block} already: {paid}"))));
    }
    let (user_no, owed, reserved) = (row.user_no, row.owed.0, row.reserved.0);
    if amount > owed {
        return Ok(Err((
            "leave_exceeds_owed",
            format!("leave of {amount} by {member} exceeds what the ledger owes them ({owed}): {paid}"),
        )));
    }
    let block = event.block_number;
    let proof = serde_json::json!({
        "reason": "recipient_left", "member": member.to_string(), "block": block,
        "tx_hash": event.key.tx_hash.to_string(),
    });
    // Open batches paying the member can no longer execute: the contract refuses a batch paying a member who left.
    let open = sqlx::query!(
        r#"SELECT b.id, b.status AS "status: crate::payouts::BatchStatus", b.chain_nonce AS "nonce: Money", b.deadline,
                  b.total AS "total: Money"
           FROM payout_batches b
           WHERE b.asset_id = $1 AND b.status IN ('building', 'signed', 'submitted', 'failed')
             AND EXISTS (SELECT 1 FROM payout_batch_items i WHERE i.batch_id = b.id AND i.user_no = $2)
           ORDER BY b.id FOR UPDATE OF b"#,
        asset_id,
        user_no
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut cancelled = Vec::with_capacity(open.len());
    for b in open {
        let state = crate::payouts::CancelState {
            asset_id,
            status: b.status,
            nonce: b.nonce.map(|n| n.0),
            deadline: b.deadline.map(|d| d as u64),
        };
        crate::payouts::cancel_locked(tx, b.id, &state, b.total, proof.clone(), "listener").await.map_err(
            |e| match e {
                crate::payouts::PayoutError::Db(e) => LedgerError::Db(e),
                other => LedgerError::Corrupt(other.to_string()),
            },
        )?;
        cancelled.push(b.id);
    }
    // What the member is owed, reward by reward: nothing is in flight any more. Reserved rows are owed whole only on
    // the binary plan (retained pair bonuses, released as they are); an auto-pool reserve is a balance spent on the
    // member's own nodes, whose rows stay `reserved` once spent: what is left of it has no row of its own.
    let rewards = sqlx::query!(
        r#"SELECT reward_no, amount - paid AS "rest!: Money", in_flight > 0 AS "in_flight!" FROM rewards
           WHERE asset_id = $1 AND beneficiary_no = $2
             AND (status IN ('held', 'pending', 'batched') OR (status = 'reserved' AND kind = 'BINARY_PAIR'))
           ORDER BY reward_no FOR UPDATE"#,
        asset_id,
        user_no
    )
    .fetch_all(&mut **tx)
    .await?;
    if rewards.iter().any(|r| r.in_flight) {
        return Err(LedgerError::Corrupt(format!(
            "asset {asset_id}: user {user_no} has parts in flight after a leave"
        )));
    }
    let in_rows = rewards.iter().fold(U256::ZERO, |t, r| t + r.rest.0);
    if in_rows > owed || owed - in_rows > reserved {
        return Err(LedgerError::Corrupt(format!(
            "asset {asset_id}: user {user_no} is owed {owed} by their balances (reserved {reserved}), {in_rows} by \
             their rewards"
        )));
    }
    // Oldest first, as far as the leave goes (the reserve with no row of its own first: the oldest savings); the rest
    // of each is forfeited to the company.
    let reserve = owed - in_rows;
    let mut left = amount;
    let (mut nos, mut parts, mut statuses) = (Vec::new(), Vec::new(), Vec::new());
    let (mut forfeit_nos, mut forfeit_amounts) = (Vec::new(), Vec::new());
    let reserve_paid = reserve.min(left);
    left -= reserve_paid;
    if reserve > reserve_paid {
        forfeit_nos.push(None);
        forfeit_amounts.push(Money(reserve - reserve_paid));
    }
    for r in &rewards {
        let part = r.rest.0.min(left);
        left -= part;
        let rest = r.rest.0 - part;
        nos.push(r.reward_no);
        parts.push(Money(part));
        statuses.push(if rest.is_zero() { "settled" } else { "forfeited" });
        if !rest.is_zero() {
            forfeit_nos.push(Some(r.reward_no));
            forfeit_amounts.push(Money(rest));
        }
    }
    let forfeited = owed - amount;
    sqlx::query!(
        "UPDATE rewards r SET exit_paid = x.p, status = x.s
         FROM UNNEST($2::int8[], $3::numeric[], $4::text[]) AS x(n, p, s)
         WHERE r.asset_id = $1 AND r.reward_no = x.n",
        asset_id,
        &nos,
        &parts as _,
        &statuses as _
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "INSERT INTO company_credits (asset_id, credit_no, amount, reason, reward_no)
         SELECT $1, $2 + o - 1, m, 'exit_forfeit', r
         FROM UNNEST($3::int8[], $4::numeric[]) WITH ORDINALITY AS x(r, m, o)",
        asset_id,
        credit_no as i64,
        &forfeit_nos as _,
        &forfeit_amounts as _
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "UPDATE users SET reserved = 0, held = 0, pending = 0, batched = 0, settled = settled + $3::text::numeric,
                forfeited = forfeited + $4::text::numeric, exited_block = $5
         WHERE asset_id = $1 AND user_no = $2",
        asset_id,
        user_no,
        amount.to_string(),
        forfeited.to_string(),
        block as i64
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "UPDATE assets SET company_total = company_total + $2::text::numeric WHERE id = $1",
        asset_id,
        forfeited.to_string()
    )
    .execute(&mut **tx)
    .await?;
    // A request to be paid is answered by the leave.
    sqlx::query!(
        "UPDATE withdraw_requests SET status = 'cancelled', cancelled_by = 'member', updated_at = now()
         WHERE asset_id = $1 AND user_no = $2 AND status = 'open'",
        asset_id,
        user_no
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "INSERT INTO member_exits (asset_id, user_no, contract, block_number, tx_hash, log_index, paid_to, amount, due,
                                   owed, forfeited, cancelled_batches)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::numeric, $9::text::numeric, $10::text::numeric,
                 $11::text::numeric, $12)",
        asset_id,
        user_no,
        event.contract.as_slice(),
        block as i64,
        event.key.tx_hash.as_slice(),
        event.key.log_index as i64,
        to.as_slice(),
        amount.to_string(),
        due.to_string(),
        owed.to_string(),
        forfeited.to_string(),
        &cancelled
    )
    .execute(&mut **tx)
    .await?;
    // The forfeit is audited with the leave's fraction (PLAN.md §5).
    let target = format!("user:{member}");
    let after = serde_json::json!({
        "block": block, "tx_hash": event.key.tx_hash.to_string(), "to": to.to_string(),
        "amount": amount.to_string(), "due": due.to_string(), "owed": owed.to_string(),
        "fraction": if due.is_zero() { "1".to_owned() } else { format!("{amount}/{due}") },
        "forfeited": forfeited.to_string(), "forfeited_rewards": forfeit_nos.iter().flatten().collect::<Vec<_>>(),
        "cancelled_batches": cancelled,
    });
    crate::audit::record(
        tx,
        crate::audit::AuditEntry {
            actor: "listener",
            action: "member_left",
            target: &target,
            asset_id: Some(asset_id),
            before: Some(serde_json::json!({ "owed": owed.to_string() })),
            after,
        },
    )
    .await?;
    Ok(Ok(LeaveApplied { user: user_no as u32, forfeits: forfeit_nos.len() as u64 }))
}
