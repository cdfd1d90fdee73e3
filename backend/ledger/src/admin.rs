//! Admin ledger actions (PLAN.md §5–§6). Each runs in one transaction under the asset's row
//! lock, bumps `assets.admin_seq` (so running ledgers re-read frozen flags and plan versions
//! before their next event) and appends an `audit_logs` row with before/after values and the
//! ledger position, so a replay can interleave the action at the same place.

use alloy::primitives::Address;
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};

use crate::money::Money;
use crate::plan::{Amount, InvalidVersion, PlanKind, PlanRules};
use crate::stored;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) type Tx = Transaction<'static, Postgres>;

/// Why an admin action was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The database failed; the transaction rolled back.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// No asset with this id.
    #[error("unknown asset {0}")]
    UnknownAsset(i32),
    /// The wallet is not a user of this asset.
    #[error("user {0} is not registered in this asset")]
    UnknownUser(Address),
    /// The action would change nothing (already frozen, no held rewards…); nothing is audited.
    #[error("nothing to do: {0}")]
    NoChange(&'static str),
    /// The new plan version is invalid or would not start after the last applied block.
    #[error(transparent)]
    InvalidVersion(#[from] InvalidVersion),
    /// The stored ledger could not be loaded or the placement broke conservation.
    #[error(transparent)]
    Ledger(#[from] crate::error::LedgerError),
    /// The action does not apply in the ledger's current state (stable code for clients).
    #[error("{message}")]
    Refused {
        /// Stable reason clients match on: `invalid_level`, `level_full`, `insufficient_company_share` or
        /// `parts_in_flight`.
        code: &'static str,
        /// Human-readable explanation with the figures involved, sent to the admin with the 422.
        message: String,
    },
    /// What the action would create exists already (stable code for clients: `asset_exists`, `token_has_asset`).
    #[error("{message}")]
    Exists {
        /// Stable reason clients match on.
        code: &'static str,
        /// Human-readable explanation naming what exists.
        message: String,
    },
}

/// Locks the asset row; returns (applied_events, last block the chain's ledger has passed,
/// counting quarantined events too).
pub(crate) async fn lock_asset(tx: &mut Tx, asset_id: i32) -> Result<(i64, Option<i64>), AdminError> {
    let row = sqlx::query!(
        "SELECT applied_events,
                GREATEST(last_block, (SELECT s.last_block FROM blockchain_sync s WHERE s.chain_id = a.chain_id))
                  AS last_block
         FROM assets a WHERE id = $1 FOR UPDATE",
        asset_id
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AdminError::UnknownAsset(asset_id))?;
    Ok((row.applied_events, row.last_block))
}

pub(crate) async fn user_no(tx: &mut Tx, asset_id: i32, user: Address) -> Result<i32, AdminError> {
    sqlx::query_scalar!(
        "SELECT user_no FROM users WHERE asset_id = $1 AND address = $2 FOR UPDATE",
        asset_id,
        user.as_slice()
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AdminError::UnknownUser(user))
}

pub(crate) async fn user_snapshot(tx: &mut Tx, asset_id: i32, user_no: i32) -> Result<Value, AdminError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT jsonb_build_object('frozen', u.frozen, 'pending', u.pending::text,
                'held', u.held::text, 'forfeited', u.forfeited::text) AS "snapshot!"
         FROM users u
         WHERE u.asset_id = $1 AND u.user_no = $2"#,
        asset_id,
        user_no
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// Bumps the asset's admin sequence (the ledger re-reads what admin actions change), audits, and commits.
pub(crate) async fn finish(
    mut tx: Tx,
    asset_id: i32,
    actor: &str,
    action: &str,
    target: &str,
    before: Value,
    after: Value,
) -> Result<(), AdminError> {
    sqlx::query!("UPDATE assets SET admin_seq = admin_seq + 1 WHERE id = $1", asset_id).execute(&mut *tx).await?;
    crate::audit::record(
        &mut tx,
        crate::audit::AuditEntry { actor, action, target, asset_id: Some(asset_id), before: Some(before), after },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Creates an asset (`create_asset` in the audit log, with everything it was created with): the plan's own rules
/// checked first; refused with [`AdminError::Exists`] when the id is taken (`asset_exists`) or the chain's token
/// already has an asset (`token_has_asset`), so a request sent twice creates one asset. `spec.decimals` is the
/// caller's to read from the token.
pub async fn create_asset<P: PlanRules + Serialize>(
    pool: &PgPool,
    spec: &crate::AssetSpec<P>,
    actor: &str,
) -> Result<(), AdminError> {
    spec.params.validate().map_err(|e| AdminError::Refused { code: "invalid_plan", message: e.to_string() })?;
    if P::KIND == crate::plan::PlanKind::Sales {
        // The ledger stores the plan (its room, its sales and closes) and the proof of solvency counts maturing
        // commissions (0x03 leaves); the members' exit cannot pay them yet, nor does the signer's root-fall rule
        // explain a refund's reversed commission (contracts/EXIT.md §14), so no asset may run it in service.
        return Err(AdminError::Refused {
            code: "plan_not_offered",
            message: "the sales plan is not offered yet: the members' exit cannot pay maturing retail commissions \
                      yet (contracts/EXIT.md §14)"
                .into(),
        });
    }
    let mut tx = pool.begin().await?;
    // Serialises creations, so that two at once cannot both pass the checks below (the unique keys would refuse
    // the second anyway, as a database error instead of a 409).
    sqlx::query("LOCK TABLE assets IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
    refuse_existing(&mut tx, spec.id, spec.chain_id, spec.token).await?;
    crate::assets::insert(&mut tx, spec).await?;
    let after = json!({
        "chain_id": spec.chain_id,
        "token": spec.token.to_checksum(None),
        "symbol": spec.symbol,
        "decimals": spec.decimals,
        "genesis": spec.genesis.to_checksum(None),
        "plan_kind": P::KIND.as_str(),
        "params": spec.params,
    });
    crate::audit::record(
        &mut tx,
        crate::audit::AuditEntry {
            actor,
            action: "create_asset",
            target: &format!("asset {}", spec.id),
            asset_id: Some(spec.id),
            before: None,
            after,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// [`AdminError::Exists`] when asset `id` exists (`asset_exists`) or the chain's `token` has an asset
/// (`token_has_asset`).
pub async fn refuse_existing(
    conn: &mut sqlx::PgConnection,
    id: i32,
    chain_id: u64,
    token: Address,
) -> Result<(), AdminError> {
    if sqlx::query_scalar!("SELECT id FROM assets WHERE id = $1", id).fetch_optional(&mut *conn).await?.is_some() {
        return Err(AdminError::Exists { code: "asset_exists", message: format!("asset {id} exists already") });
    }
    let same_token = sqlx::query_scalar!(
        "SELECT id FROM assets WHERE chain_id = $1 AND token = $2",
        chain_id as i64,
        token.as_slice()
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(existing) = same_token {
        return Err(AdminError::Exists {
            code: "token_has_asset",
            message: format!("token {token} of chain {chain_id} is asset {existing} already"),
        });
    }
    Ok(())
}

/// The id a new asset gets when none is chosen: one above the highest.
pub async fn next_asset_id(pool: &PgPool) -> Result<i32, AdminError> {
    Ok(sqlx::query_scalar!(r#"SELECT COALESCE(MAX(id), 0) + 1 AS "id!" FROM assets"#).fetch_one(pool).await?)
}

/// Freezes a user: their pending rewards become held, and later credits arrive held.
pub async fn freeze(pool: &PgPool, asset_id: i32, user: Address, actor: &str, reason: &str) -> Result<(), AdminError> {
    set_frozen(pool, asset_id, user, actor, reason, true).await
}

/// Unfreezes a user: their held rewards become pending (payable).
pub async fn unfreeze(
    pool: &PgPool,
    asset_id: i32,
    user: Address,
    actor: &str,
    reason: &str,
) -> Result<(), AdminError> {
    set_frozen(pool, asset_id, user, actor, reason, false).await
}

async fn set_frozen(
    pool: &PgPool,
    asset_id: i32,
    user: Address,
    actor: &str,
    reason: &str,
    frozen: bool,
) -> Result<(), AdminError> {
    let mut tx = pool.begin().await?;
    lock_asset(&mut tx, asset_id).await?;
    let no = user_no(&mut tx, asset_id, user).await?;
    let before = user_snapshot(&mut tx, asset_id, no).await?;
    if before["frozen"] == json!(frozen) {
        return Err(AdminError::NoChange(if frozen { "already frozen" } else { "not frozen" }));
    }
    let (from, to) = if frozen { ("pending", "held") } else { ("held", "pending") };
    sqlx::query!(
        "UPDATE rewards SET status = $4 WHERE asset_id = $1 AND beneficiary_no = $2 AND status = $3",
        asset_id,
        no,
        from,
        to
    )
    .execute(&mut *tx)
    .await?;
    if frozen {
        sqlx::query!(
            "UPDATE users SET held = held + pending, pending = 0 WHERE asset_id = $1 AND user_no = $2",
            asset_id,
            no
        )
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query!(
            "UPDATE users SET pending = pending + held, held = 0 WHERE asset_id = $1 AND user_no = $2",
            asset_id,
            no
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!("UPDATE users SET frozen = $3 WHERE asset_id = $1 AND user_no = $2", asset_id, no, frozen)
        .execute(&mut *tx)
        .await?;
    let mut after = user_snapshot(&mut tx, asset_id, no).await?;
    after["reason"] = json!(reason);
    let action = if frozen { "freeze" } else { "unfreeze" };
    finish(tx, asset_id, actor, action, &user.to_string(), before, after).await
}

/// Moves every held reward of a user to the company (status forfeited) on one person's word; returns the total. No
/// route calls it: staff forfeit through the two-person lifecycle ([`crate::forfeits`]), which the signer sees.
pub async fn forfeit_held(pool: &PgPool, asset_id: i32, user: Address, actor: &str) -> Result<Amount, AdminError> {
    let mut tx = pool.begin().await?;
    lock_asset(&mut tx, asset_id).await?;
    let no = user_no(&mut tx, asset_id, user).await?;
    let held = held_rests(&mut tx, asset_id, no).await?;
    let (total, before, after) = forfeit_rewards(&mut tx, asset_id, no, &held).await?;
    finish(tx, asset_id, actor, "forfeit_held", &user.to_string(), before, after).await?;
    Ok(total)
}

/// Each held reward of user `no` with its rest (what is neither paid nor in flight), locked; refused while a part of
/// one is in a payout batch not settled or cancelled yet, and when there is none.
pub(crate) async fn held_rests(tx: &mut Tx, asset_id: i32, no: i32) -> Result<Vec<(i64, Money)>, AdminError> {
    // What is forfeited is each held reward's rest: parts already paid stay paid.
    let held: Vec<(i64, Money, bool)> = sqlx::query!(
        r#"SELECT reward_no, amount - paid - in_flight AS "rest!: Money", in_flight > 0 AS "in_flight!" FROM rewards
         WHERE asset_id = $1 AND beneficiary_no = $2 AND status = 'held' ORDER BY reward_no FOR UPDATE"#,
        asset_id,
        no
    )
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|r| (r.reward_no, r.rest, r.in_flight))
    .collect();
    if held.is_empty() {
        return Err(AdminError::NoChange("no held rewards"));
    }
    if held.iter().any(|(_, _, in_flight)| *in_flight) {
        return Err(AdminError::Refused {
            code: "parts_in_flight",
            message: "some held rewards have parts in a payout batch that is not settled or cancelled yet; \
                      forfeit after it settles or is cancelled"
                .into(),
        });
    }
    Ok(held.into_iter().map(|(n, a, _)| (n, a)).collect())
}

/// Moves the rests `held` of user `no` to the company (status forfeited) in `tx`; answers their total and the
/// user's and company's figures before and after, for the audit log.
pub(crate) async fn forfeit_rewards(
    tx: &mut Tx,
    asset_id: i32,
    no: i32,
    held: &[(i64, Money)],
) -> Result<(Amount, Value, Value), AdminError> {
    let mut total: Amount = 0;
    for (_, a) in held {
        total += a.to_amount()?;
    }
    let company_before =
        sqlx::query_scalar!(r#"SELECT company_total::text AS "total!" FROM assets WHERE id = $1"#, asset_id)
            .fetch_one(&mut **tx)
            .await?;
    let mut before = user_snapshot(tx, asset_id, no).await?;
    before["company_total"] = json!(company_before);
    let next = sqlx::query_scalar!(
        r#"SELECT COALESCE(MAX(credit_no) + 1, 0) AS "next!" FROM company_credits WHERE asset_id = $1"#,
        asset_id
    )
    .fetch_one(&mut **tx)
    .await?;
    let rewards: Vec<i64> = held.iter().map(|(n, _)| *n).collect();
    let amounts: Vec<Money> = held.iter().map(|(_, a)| *a).collect();
    sqlx::query!(
        "INSERT INTO company_credits (asset_id, credit_no, amount, reason, reward_no)
         SELECT $1, $2 + o - 1, m, 'forfeit', r
         FROM UNNEST($3::int8[], $4::numeric[]) WITH ORDINALITY AS x(r, m, o)",
        asset_id,
        next,
        &rewards,
        &amounts as _
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "UPDATE rewards SET status = 'forfeited' WHERE asset_id = $1 AND reward_no = ANY($2)",
        asset_id,
        &rewards
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "UPDATE users SET forfeited = forfeited + $3::text::numeric, held = held - $3::text::numeric
         WHERE asset_id = $1 AND user_no = $2",
        asset_id,
        no,
        total.to_string()
    )
    .execute(&mut **tx)
    .await?;
    let company_after = sqlx::query_scalar!(
        r#"UPDATE assets SET company_total = company_total + $2::text::numeric WHERE id = $1
         RETURNING company_total::text AS "total!""#,
        asset_id,
        total.to_string()
    )
    .fetch_one(&mut **tx)
    .await?;
    let mut after = user_snapshot(tx, asset_id, no).await?;
    after["company_total"] = json!(company_after);
    after["forfeited_rewards"] = json!(rewards);
    Ok((total, before, after))
}

/// The last block the ledger of `asset_id`'s chain has passed: the listener's confirmed head (the last block it
/// applied in full, also when it held no event), the chain's last applied event and the asset's (quarantined events
/// count too), whichever is latest; `None` before the first. A plan version must start after it: every event at or
/// below it was applied under the versions already stored, and a replay from the raw events must apply them alike.
async fn applied_through(tx: &mut Tx, asset_id: i32) -> Result<Option<u64>, AdminError> {
    let row = sqlx::query!(
        r#"SELECT GREATEST(a.last_block, s.last_block, s.listener_block) AS "through"
         FROM assets a LEFT JOIN blockchain_sync s ON s.chain_id = a.chain_id WHERE a.id = $1"#,
        asset_id
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AdminError::UnknownAsset(asset_id))?;
    Ok(row.through.map(|b| b as u64))
}

/// The first block a new plan version of `asset_id` may take effect from: after the listener's confirmed head, every
/// applied event and the latest version's start (what [`new_plan_version`] requires; it moves on as the listener
/// confirms blocks).
pub async fn first_allowed_block(pool: &PgPool, asset_id: i32) -> Result<u64, AdminError> {
    let mut tx = pool.begin().await?;
    let through = applied_through(&mut tx, asset_id).await?;
    let latest =
        sqlx::query_scalar!("SELECT max(effective_from_block) FROM plan_versions WHERE asset_id = $1", asset_id)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    let after = through.unwrap_or(0).max(latest.map_or(0, |b| b as u64));
    Ok(after + 1)
}

/// Adds a plan version effective from `from_block` (after the listener's confirmed head and every applied event,
/// [`first_allowed_block`]); returns its version number. The parameters must be of the asset's plan kind
/// (`PlanParams` for the auto-pool plan, `GenerationParams` for the generation plan).
pub async fn new_plan_version<P>(
    pool: &PgPool,
    asset_id: i32,
    from_block: u64,
    params: P,
    actor: &str,
) -> Result<u32, AdminError>
where
    P: PlanRules + Serialize + DeserializeOwned,
{
    let mut tx = pool.begin().await?;
    // The chain's cursor row first, as the ledger takes it (then the asset rows): while this transaction holds it,
    // the listener confirms no block, so the head read below is the one the version starts after.
    sqlx::query!(
        "SELECT s.chain_id FROM blockchain_sync s JOIN assets a ON a.chain_id = s.chain_id WHERE a.id = $1
         FOR SHARE OF s",
        asset_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    lock_asset(&mut tx, asset_id).await?;
    let last_block = applied_through(&mut tx, asset_id).await?;
    let kind = sqlx::query_scalar!("SELECT plan_kind FROM assets WHERE id = $1", asset_id).fetch_one(&mut *tx).await?;
    if kind != P::KIND.as_str() {
        return Err(AdminError::Refused {
            code: "wrong_plan_kind",
            message: format!(
                "asset {asset_id} runs the {kind} plan; these parameters are for the {} plan",
                P::KIND.as_str()
            ),
        });
    }
    let mut schedule = stored::schedule::<P>(&mut tx, asset_id).await?;
    let before = serde_json::to_value(schedule.latest().params.clone()).expect("params serialize");
    let before = json!({ "version": schedule.latest().version, "effective_from_block": schedule.latest().effective_from_block, "params": before });
    let v = schedule.push(from_block, last_block, params)?.clone();
    sqlx::query!(
        "INSERT INTO plan_versions (asset_id, version, effective_from_block, params) VALUES ($1, $2, $3, $4)",
        asset_id,
        v.version as i32,
        v.effective_from_block as i64,
        sqlx::types::Json(&v.params) as _
    )
    .execute(&mut *tx)
    .await?;
    let after = json!({ "version": v.version, "effective_from_block": v.effective_from_block, "params": v.params });
    finish(tx, asset_id, actor, "new_plan_version", &format!("asset {asset_id}"), before, after).await?;
    Ok(v.version)
}

/// What a manual placement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementDone {
    /// Number of the admin placement (its `placements` row).
    pub placement_no: u64,
    /// Heap index of the new node.
    pub q: u64,
    /// `level_price` of the level, taken from the company's share.
    pub price: Amount,
    /// Ledger position it took effect at.
    pub applied_events: i64,
    /// The asset's admin sequence after this action.
    pub admin_seq: i64,
    /// Placements made (this one and the auto-progressions it triggered) and credits to users.
    pub placements: usize,
    /// Credits to users it caused, reserved ones included.
    pub credits: usize,
}

/// Places a node for `user` at `level`, paid from the company's share: PLACE(user, level, level_price[level])
/// through the plan engine (PLAN.md does not define this action; this reading keeps §7.1: the placement's
/// credits and company part sum to the price, which leaves `company_total`; refused when the company's available
/// share — `company_total` less treasury transfers executed or signed — is smaller). It runs at the current ledger
/// position under the plan version of the last applied block; its rows carry no `event_seq` (no chain event
/// caused them) and the placement row has cause `admin`, so `company_total` = Σ company credits − Σ admin
/// placements' prices. Audited with before/after and the ledger position, and bumps `admin_seq`.
pub async fn manual_placement(
    pool: &PgPool,
    asset_id: i32,
    user: Address,
    level: u32,
    actor: &str,
) -> Result<PlacementDone, AdminError> {
    let refused = |code, message: String| AdminError::Refused { code, message };
    let mut tx = pool.begin().await?;
    let (applied, last_block) = lock_asset(&mut tx, asset_id).await?;
    let asset =
        sqlx::query!("SELECT chain_id, plan_kind FROM assets WHERE id = $1", asset_id).fetch_one(&mut *tx).await?;
    let chain_id = asset.chain_id;
    if asset.plan_kind != PlanKind::AutoPool.as_str() {
        return Err(refused(
            "not_auto_pool",
            "manual placement exists only in the auto-pool plan; this asset runs another".into(),
        ));
    }
    // The auto-pool room's own loader: the plan is known, no other asset is read.
    let mut engine = crate::plan::auto_pool::load_engine(&mut tx, asset_id, applied as u64).await?;
    let engine = &mut engine;
    let owner = engine.user_no(&user).ok_or(AdminError::UnknownUser(user))?;
    let block = last_block.unwrap_or(0).max(0) as u64;
    let params = engine.schedule().at(block).params.clone();
    let price = params.price(level).ok_or_else(|| {
        refused("invalid_level", format!("level must be in 1..={} for this asset", params.top_level()))
    })?;
    if engine.user(owner).nodes_in(level) >= params.max_nodes_per_level {
        return Err(refused(
            "level_full",
            format!("the user already holds {} nodes in level {level}", params.max_nodes_per_level),
        ));
    }
    // What the company may still spend: its share less treasury transfers executed or signed (as a treasury
    // transfer computes it, under the same asset lock; refunds of quarantined inflows are not the company's).
    let share = sqlx::query!(
        r#"SELECT company_total AS "company_total: Money",
                GREATEST(company_total - (SELECT COALESCE(sum(amount), 0) FROM treasury_transfers t
                                          WHERE t.asset_id = a.id AND t.status IN ('executed', 'signed')
                                            AND t.refund_tx_hash IS NULL), 0) AS "available!: Money"
         FROM assets a WHERE id = $1"#,
        asset_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let (company_before, available) = (share.company_total, share.available);
    if available.to_amount()? < price {
        return Err(refused(
            "insufficient_company_share",
            format!("the company's available share ({available}) is smaller than the price ({price})"),
        ));
    }
    let before = json!({
        "company_total": company_before.to_string(),
        "level": level,
        "level_nodes": engine.tree(level).len(),
        "user_nodes_in_level": engine.user(owner).nodes_in(level),
    });
    let out = engine.place_for_company(block, owner, level).ok_or_else(|| refused("level_full", "refused".into()))?;
    out.check_conservation().map_err(crate::error::LedgerError::from)?;
    // A matrix completed here gets the time of the last applied block, so replays write the same row.
    let completed_at = sqlx::query_scalar!(
        "SELECT max(block_timestamp) FROM chain_events WHERE chain_id = $1 AND block_number = $2",
        chain_id,
        block as i64
    )
    .fetch_one(&mut *tx)
    .await?;
    let plan_version = out.plan_version as i32;
    for (i, p) in out.placements.iter().enumerate() {
        let parent = match p.cause {
            crate::plan::PlacementCause::AutoProgression { parent } => Some(out.placements[parent].placement_no as i64),
            crate::plan::PlacementCause::PoolEntry => None,
        };
        sqlx::query!(
            "INSERT INTO placements (asset_id, placement_no, owner_no, level, q, amount, cause, parent_placement_no,
                                     completed_q, event_seq, plan_version, status)
             VALUES ($1, $2, $3, $4, $5, $6::text::numeric, $7, $8, $9, NULL, $10, 'active')",
            asset_id,
            p.placement_no as i64,
            p.owner as i32,
            p.level as i32,
            p.position as i64,
            p.amount.to_string(),
            if i == 0 { "admin" } else { "auto_progression" },
            parent,
            p.completed.map(|q| q as i64),
            plan_version
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO pools (asset_id, level, node_count) VALUES ($1, $2, $3 + 1)
             ON CONFLICT (asset_id, level) DO UPDATE SET node_count = $3 + 1",
            asset_id,
            p.level as i32,
            p.position as i64
        )
        .execute(&mut *tx)
        .await?;
        if let Some(a) = p.completed {
            sqlx::query!(
                "UPDATE placements SET status = 'completed', completed_block = $4, completed_at = to_timestamp($5)
                 WHERE asset_id = $1 AND level = $2 AND q = $3",
                asset_id,
                p.level as i32,
                a as i64,
                block as i64,
                completed_at.map(|t| t as f64)
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    let placement_no = |i: Option<usize>| i.map(|i| out.placements[i].placement_no as i64);
    for c in &out.credits {
        sqlx::query!(
            "INSERT INTO rewards (asset_id, reward_no, beneficiary_no, kind, level, amount, status, placement_no,
                                  event_seq, plan_version)
             VALUES ($1, $2, $3, $4, $5, $6::text::numeric, $7, $8, NULL, $9)",
            asset_id,
            c.reward_no as i64,
            c.beneficiary as i32,
            c.kind.as_str(),
            c.level as i32,
            c.amount.to_string(),
            c.status.as_str(),
            placement_no(c.placement),
            plan_version
        )
        .execute(&mut *tx)
        .await?;
        let (pending, held) = match c.status {
            crate::plan::RewardStatus::Pending => (c.amount, 0),
            crate::plan::RewardStatus::Held => (0, c.amount),
            _ => (0, 0),
        };
        sqlx::query!(
            "UPDATE users SET pending = pending + $3::text::numeric, held = held + $4::text::numeric
             WHERE asset_id = $1 AND user_no = $2",
            asset_id,
            c.beneficiary as i32,
            pending.to_string(),
            held.to_string()
        )
        .execute(&mut *tx)
        .await?;
    }
    for m in &out.reserve_movements {
        let (delta, reward, placement) = match m.change {
            crate::plan::ReserveChange::Credit { credit, amount } => {
                (amount.to_string(), Some(out.credits[credit].reward_no as i64), None)
            }
            crate::plan::ReserveChange::Take { placement, amount } => {
                (format!("-{amount}"), None, Some(out.placements[placement].placement_no as i64))
            }
        };
        sqlx::query!(
            "INSERT INTO reserve_movements (asset_id, movement_no, user_no, level, delta, balance_after, reward_no,
                                            placement_no, event_seq)
             VALUES ($1, $2, $3, $4, $5::text::numeric, $6::text::numeric, $7, $8, NULL)",
            asset_id,
            m.movement_no as i64,
            m.user as i32,
            m.level as i32,
            delta,
            m.balance_after.to_string(),
            reward,
            placement
        )
        .execute(&mut *tx)
        .await?;
    }
    // Reserves as the engine now holds them (absolute), for every (user, level) that moved.
    let mut moved: Vec<(u32, u32)> = out.reserve_movements.iter().map(|m| (m.user, m.level)).collect();
    moved.sort_unstable();
    moved.dedup();
    for &(u, l) in &moved {
        sqlx::query!(
            "INSERT INTO user_reserves (asset_id, user_no, level, amount) VALUES ($1, $2, $3, $4::text::numeric)
             ON CONFLICT (asset_id, user_no, level) DO UPDATE SET amount = EXCLUDED.amount",
            asset_id,
            u as i32,
            l as i32,
            engine.user(u).reserve_towards(l).to_string()
        )
        .execute(&mut *tx)
        .await?;
    }
    let mut users: Vec<u32> = moved.iter().map(|&(u, _)| u).collect();
    users.dedup();
    for u in users {
        let total: Amount = engine.user(u).reserves().map(|(_, a)| a).sum();
        sqlx::query!(
            "UPDATE users SET reserved = $3::text::numeric WHERE asset_id = $1 AND user_no = $2",
            asset_id,
            u as i32,
            total.to_string()
        )
        .execute(&mut *tx)
        .await?;
    }
    let mut company_part: Amount = 0;
    for c in &out.company {
        company_part += c.amount;
        sqlx::query!(
            "INSERT INTO company_credits (asset_id, credit_no, amount, reason, placement_no, event_seq)
             VALUES ($1, $2, $3::text::numeric, $4, $5, NULL)",
            asset_id,
            c.credit_no as i64,
            c.amount.to_string(),
            c.reason.as_str(),
            placement_no(c.placement)
        )
        .execute(&mut *tx)
        .await?;
    }
    // The price leaves the company's share; the placement's own company part comes back to it.
    let company_after = sqlx::query_scalar!(
        r#"UPDATE assets SET company_total = company_total - $2::text::numeric + $3::text::numeric WHERE id = $1
         RETURNING company_total::text AS "total!""#,
        asset_id,
        price.to_string(),
        company_part.to_string()
    )
    .fetch_one(&mut *tx)
    .await?;
    let first = &out.placements[0];
    let credits: Vec<Value> = out
        .credits
        .iter()
        .map(|c| {
            json!({ "reward_no": c.reward_no, "beneficiary_no": c.beneficiary, "kind": c.kind.as_str(),
                    "amount": c.amount.to_string(), "status": c.status.as_str() })
        })
        .collect();
    let after = json!({
        "company_total": company_after,
        "level": level,
        "level_nodes": engine.tree(level).len(),
        "user_nodes_in_level": engine.user(owner).nodes_in(level),
        "placement_no": first.placement_no,
        "q": first.position,
        "price": price.to_string(),
        "company_part": company_part.to_string(),
        "placements": out.placements.len(),
        "credits": credits,
    });
    let admin_seq = sqlx::query_scalar!(r#"SELECT admin_seq + 1 AS "next!" FROM assets WHERE id = $1"#, asset_id)
        .fetch_one(&mut *tx)
        .await?;
    let done = PlacementDone {
        placement_no: first.placement_no,
        q: first.position,
        price,
        applied_events: applied,
        admin_seq,
        placements: out.placements.len(),
        credits: out.credits.len(),
    };
    finish(tx, asset_id, actor, "manual_placement", &user.to_string(), before, after).await?;
    Ok(done)
}
