//! Epochs of the proof of solvency as the ledger keeps them: built from one snapshot of the ledger at its confirmed
//! block, stored with every leaf and level, then signed, sent and committed like a payout batch (kept, retried with
//! the same signed payload, executed once), and read back as each user's proof.

use std::time::Duration;

use alloy::primitives::{Address, B256, U256, keccak256};
use sqlx::{PgConnection, PgPool};

use super::tree::{Balances, NODE_BYTES, Node, SolvencyTree, TreeContext, TreeError};
use crate::authorisations::{self, Authorisation, AuthorisationError, Proposal};
use crate::money::Money;
use crate::payouts::{BatchStatus, KeptTransaction, SendState};

type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

/// Why an epoch could not be built or stored.
#[derive(Debug, thiserror::Error)]
pub enum SolvencyError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// The balances cannot be a tree (a sum at 2^128): a ledger that large cannot be committed.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The tree's total is not the reconciler's liabilities in the same snapshot: a bug, nothing is stored.
    #[error("the tree's total {tree} differs from the ledger's liabilities {ledger} in the same snapshot")]
    TotalMismatch {
        /// The root's sum.
        tree: u128,
        /// Σ of the asset's user balances, as the reconciler reads them.
        ledger: U256,
    },
    /// Another instance built this asset's next epoch first.
    #[error("another epoch of this asset is in flight")]
    InFlight,
    /// Building the tree on a blocking thread failed.
    #[error("the tree build stopped: {0}")]
    Build(String),
}

/// Where an epoch stands (see the migration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpochStatus {
    /// The tree is stored.
    Built,
    /// Its payload is signed and kept.
    Signed,
    /// A transaction carries it.
    Sent,
    /// The chain recorded it (the listener applied its event).
    Committed,
    /// It can never execute; its epoch number is built again.
    Failed,
}

impl EpochStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Built => "built",
            Self::Signed => "signed",
            Self::Sent => "sent",
            Self::Committed => "committed",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self, sqlx::Error> {
        Ok(match s {
            "built" => Self::Built,
            "signed" => Self::Signed,
            "sent" => Self::Sent,
            "committed" => Self::Committed,
            "failed" => Self::Failed,
            other => return Err(sqlx::Error::Decode(format!("epoch status {other:?}").into())),
        })
    }
}

/// One epoch of one asset, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epoch {
    /// Row id.
    pub id: i64,
    /// The asset.
    pub asset_id: i32,
    /// Its chain.
    pub chain_id: u64,
    /// Its token (zero: the native coin).
    pub token: Address,
    /// The epoch number on its contract (1 for the contract's first commitment of the asset).
    pub epoch: u64,
    /// The contract it is committed on; `None` for a row built before contracts were recorded (migration 0028; the
    /// solvency worker names it, [`adopt_unnamed`]).
    pub contract: Option<Address>,
    /// The round: the ledger snapshot it was built from, committed on every contract of the chain (equal to `epoch`
    /// while the chain has one contract; contracts/UPGRADES.md §7).
    pub round: u64,
    /// The confirmed block the liabilities were read at.
    pub as_of_block: u64,
    /// The root.
    pub root: B256,
    /// The root's sum.
    pub total: u128,
    /// Users' leaves.
    pub leaf_count: u32,
    /// Levels below the root.
    pub depth: u32,
    /// keccak256 of the plan versions in force at `as_of_block` ([`plan_hash`]).
    pub plan_hash: B256,
    /// Where it stands.
    pub status: EpochStatus,
    /// The signed payload's nonce, once chosen (before it is signed).
    pub chain_nonce: Option<U256>,
    /// The signed payload's deadline (unix seconds), chosen with the nonce.
    pub deadline: Option<u64>,
    /// The signature, once signed.
    pub signature: Option<Vec<u8>>,
    /// The last transaction sent for it.
    pub tx_hash: Option<B256>,
    /// That transaction's kept bytes (TRON).
    pub kept: Option<KeptTransaction>,
    /// How long since anything moved it.
    pub idle: Duration,
    /// The block that committed it.
    pub committed_block: Option<u64>,
    /// The transaction that committed it.
    pub committed_tx: Option<B256>,
    /// The custody the contract read when committing it.
    pub custody: Option<U256>,
    /// Why it failed.
    pub failure: Option<String>,
    /// When it was built (RFC 3339).
    pub created_at: String,
}

/// The ledger's liabilities of one asset at its confirmed block, read in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The asset.
    pub asset_id: i32,
    /// Its chain.
    pub chain_id: u64,
    /// Its token.
    pub token: Address,
    /// The listener's confirmed block: every event up to it is applied, none after.
    pub as_of_block: u64,
    /// Every user of the asset (genesis included, the company never a user) with their liabilities.
    pub users: Vec<(Address, Balances)>,
    /// Σ of the asset's user balances as the reconciler reads them (PLAN.md invariant 4), in the same snapshot.
    pub liabilities: U256,
    /// keccak256 of the plan versions in force at `as_of_block`.
    pub plan_hash: B256,
    /// The approved forfeits applied as of the snapshot (`crate::forfeits`): the round built from it is the first to
    /// show those no earlier round showed.
    pub forfeits: Vec<i64>,
}

/// The asset's liabilities at the listener's confirmed block, from one `REPEATABLE READ` transaction; `None` while
/// the listener has confirmed no block of the asset's chain.
pub async fn snapshot(pool: &PgPool, asset_id: i32) -> Result<Option<Snapshot>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let head = sqlx::query!(
        "SELECT a.chain_id, a.token, a.plan_kind, s.listener_block FROM assets a
         LEFT JOIN blockchain_sync s ON s.chain_id = a.chain_id WHERE a.id = $1",
        asset_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(head) = head else { return Ok(None) };
    let Some(as_of_block) = head.listener_block else { return Ok(None) };
    let rows = sqlx::query!(
        r#"SELECT u.address,
                  u.reserved AS "reserved: Money", u.held AS "held: Money",
                  u.pending AS "pending: Money", u.batched AS "batched: Money",
                  u.claimable AS "claimable: Money", u.maturing AS "maturing: Money"
           FROM users u
          WHERE u.asset_id = $1 ORDER BY u.user_no"#,
        asset_id
    )
    .fetch_all(&mut *tx)
    .await?;
    // A sales-plan asset's leaves are 0x03 ones, `maturing` their sixth component (SOLVENCY.md); every other plan
    // keeps no maturing commission and has five-component leaves.
    let sales = crate::plan::PlanKind::parse(&head.plan_kind) == Some(crate::plan::PlanKind::Sales);
    let mut users = Vec::with_capacity(rows.len());
    for r in rows {
        users.push((
            Address::from_slice(&r.address),
            Balances {
                reserved: r.reserved.to_amount()?,
                held: r.held.to_amount()?,
                pending: r.pending.to_amount()?,
                batched: r.batched.to_amount()?,
                claimable: r.claimable.to_amount()?,
                maturing: if sales { Some(r.maturing.to_amount()?) } else { None },
            },
        ));
    }
    let token = Address::from_slice(&head.token);
    let liabilities = crate::figures::asset_liabilities(&mut tx, head.chain_id, token).await?;
    let versions = sqlx::query_scalar!(
        r#"SELECT coalesce(jsonb_agg(jsonb_build_object('version', version,
                      'effective_from_block', effective_from_block, 'params', params) ORDER BY version), '[]')::text
                  AS "versions!"
           FROM plan_versions WHERE asset_id = $1 AND effective_from_block <= $2"#,
        asset_id,
        as_of_block
    )
    .fetch_one(&mut *tx)
    .await?;
    let forfeits = sqlx::query_scalar!(
        "SELECT id FROM forfeits WHERE asset_id = $1 AND status = 'executed' AND first_round IS NULL",
        asset_id
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(Snapshot {
        asset_id,
        chain_id: head.chain_id as u64,
        token,
        as_of_block: as_of_block as u64,
        users,
        liabilities,
        plan_hash: plan_hash(&versions),
        forfeits,
    }))
}

/// keccak256 of the plan versions in force at an epoch's block, as Postgres writes them: the JSON array of
/// `{version, effective_from_block, params}` in version order (jsonb's own text form, keys in its fixed order).
pub fn plan_hash(versions_json: &str) -> B256 {
    keccak256(versions_json.as_bytes())
}

/// When an epoch is due (`[solvency]` of a chain): every `interval_blocks` confirmed blocks, and sooner — but not
/// before `payout_gap_blocks` — once a payout batch of the asset executed after the last epoch's block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    /// Confirmed blocks between two epochs.
    pub interval_blocks: u64,
    /// Least confirmed blocks after the last epoch before an executed payout brings the next one forward.
    pub payout_gap_blocks: u64,
}

/// What the worker should do for an asset now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Drive this epoch on (sign, send, follow up).
    Drive(Box<Epoch>),
    /// Build round `round` now: one epoch on every contract of the chain ([`build_round`]).
    Build {
        /// The round's number (with one contract, its epoch's).
        round: u64,
    },
    /// Nothing is due.
    Wait,
}

/// What is due for `asset_id` under `cadence`.
pub async fn next(pool: &PgPool, asset_id: i32, cadence: Cadence) -> Result<Next, sqlx::Error> {
    if let Some(e) = in_flight(pool, asset_id).await? {
        return Ok(Next::Drive(Box::new(e)));
    }
    // A round is complete when every contract it was built for has a committed row of it; the cadence counts from
    // the last complete one, so a round one contract failed is built again at once (as a failed epoch always was).
    let state = sqlx::query!(
        r#"SELECT s.listener_block,
                  (SELECT max(as_of_block) FROM solvency_epochs WHERE asset_id = a.id AND status = 'committed')
                      AS last_as_of,
                  (SELECT max(r.as_of) FROM (
                       SELECT max(as_of_block) FILTER (WHERE status = 'committed') AS as_of,
                              count(DISTINCT coalesce(contract, '\x'::bytea)) FILTER (WHERE status = 'committed')
                                  = count(DISTINCT coalesce(contract, '\x'::bytea)) AS complete
                         FROM solvency_epochs WHERE asset_id = a.id GROUP BY round) r WHERE r.complete)
                      AS last_complete_as_of,
                  (SELECT max(round) FROM solvency_epochs WHERE asset_id = a.id AND status <> 'failed')
                      AS last_round,
                  EXISTS (SELECT 1 FROM payout_batches b WHERE b.asset_id = a.id AND b.status = 'executed'
                          AND b.executed_block > coalesce((SELECT max(as_of_block) FROM solvency_epochs
                                                           WHERE asset_id = a.id AND status = 'committed'), -1))
                      AS "paid_since!"
           FROM assets a LEFT JOIN blockchain_sync s ON s.chain_id = a.chain_id WHERE a.id = $1"#,
        asset_id
    )
    .fetch_optional(pool)
    .await?;
    let Some(state) = state else { return Ok(Next::Wait) };
    let Some(confirmed) = state.listener_block.map(|b| b as u64) else { return Ok(Next::Wait) };
    let round = state.last_round.map_or(1, |r| r as u64 + 1);
    // While a payout is on its way custody is about to move: the epoch waits for its settlement.
    let paying = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM payout_batches WHERE asset_id = $1 AND status = 'submitted') AS "paying!""#,
        asset_id
    )
    .fetch_one(pool)
    .await?;
    if paying {
        return Ok(Next::Wait);
    }
    let due = match (state.last_as_of.map(|b| b as u64), state.last_complete_as_of.map(|b| b as u64)) {
        // The contract takes only a later block than the last commitment's.
        (Some(last), _) if confirmed <= last => false,
        (_, Some(last)) => {
            let since = confirmed - last;
            since >= cadence.interval_blocks || (state.paid_since && since >= cadence.payout_gap_blocks)
        }
        (_, None) => true,
    };
    Ok(if due { Next::Build { round } } else { Next::Wait })
}

/// Builds epoch `epoch` of `asset_id` on `contract` from a fresh snapshot and stores it (`built`), as round `epoch`:
/// [`build_round`] for a chain with one contract.
pub async fn build(
    pool: &PgPool,
    asset_id: i32,
    epoch: u64,
    contract: Address,
    salt_key: [u8; 32],
) -> Result<Option<Epoch>, SolvencyError> {
    Ok(build_round(pool, asset_id, epoch, &[(contract, epoch)], salt_key).await?.and_then(|mut built| built.pop()))
}

/// Builds round `round` of `asset_id` from one fresh snapshot: for each `(contract, epoch)` its own tree (the leaves
/// name the contract) as that contract's epoch `epoch`, all with the snapshot's block, balances and total, stored
/// together (`built`) in one transaction; `None` while the listener has confirmed nothing. The trees are built off the
/// async workers.
pub async fn build_round(
    pool: &PgPool,
    asset_id: i32,
    round: u64,
    contracts: &[(Address, u64)],
    salt_key: [u8; 32],
) -> Result<Option<Vec<Epoch>>, SolvencyError> {
    let Some(snap) = snapshot(pool, asset_id).await? else { return Ok(None) };
    let mut trees = Vec::with_capacity(contracts.len());
    for &(contract, epoch) in contracts {
        let ctx = TreeContext { chain_id: snap.chain_id, contract, token: snap.token, epoch };
        let users = snap.users.clone();
        let tree = tokio::task::spawn_blocking(move || SolvencyTree::build(ctx, &salt_key, &users))
            .await
            .map_err(|e| SolvencyError::Build(e.to_string()))??;
        let total = tree.root().sum;
        if U256::from(total) != snap.liabilities {
            return Err(SolvencyError::TotalMismatch { tree: total, ledger: snap.liabilities });
        }
        trees.push(tree);
    }
    let mut tx = pool.begin().await?;
    for tree in &trees {
        store_in(&mut tx, &snap, tree, round).await?;
    }
    crate::forfeits::mark_round(&mut tx, asset_id, &snap.forfeits, round).await?;
    tx.commit().await?;
    Ok(Some(in_flight_all(pool, asset_id).await?))
}

/// Stores a built tree as epoch `tree.ctx.epoch` of the snapshot's asset on `tree.ctx.contract`, status `built`, in
/// one transaction (round = its epoch: a chain with one contract).
pub async fn store(pool: &PgPool, snap: &Snapshot, tree: &SolvencyTree) -> Result<i64, SolvencyError> {
    let mut tx = pool.begin().await?;
    let id = store_in(&mut tx, snap, tree, tree.ctx.epoch).await?;
    crate::forfeits::mark_round(&mut tx, snap.asset_id, &snap.forfeits, tree.ctx.epoch).await?;
    tx.commit().await?;
    Ok(id)
}

/// Stores a built tree as round `round`'s row for `tree.ctx.contract`, in `tx`.
async fn store_in(tx: &mut Tx, snap: &Snapshot, tree: &SolvencyTree, round: u64) -> Result<i64, SolvencyError> {
    let root = tree.root();
    let inserted = sqlx::query_scalar!(
        "INSERT INTO solvency_epochs (asset_id, epoch, as_of_block, root, total, leaf_count, depth, plan_hash, contract,
                                      round)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING id",
        snap.asset_id,
        tree.ctx.epoch as i64,
        snap.as_of_block as i64,
        root.hash.as_slice(),
        Money::from(root.sum) as Money,
        tree.leaf_count() as i32,
        tree.depth() as i16,
        snap.plan_hash.as_slice(),
        tree.ctx.contract.as_slice(),
        round as i64
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(id) = inserted else { return Err(SolvencyError::InFlight) };
    let n = tree.leaves.len();
    let (mut addresses, mut idx) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut columns: [Vec<Money>; 5] = std::array::from_fn(|_| Vec::with_capacity(n));
    let mut maturing: Vec<Option<Money>> = Vec::with_capacity(n);
    for (i, leaf) in tree.leaves.iter().enumerate() {
        addresses.push(leaf.user.to_vec());
        idx.push(i as i32);
        let b = leaf.balances;
        for (column, v) in columns.iter_mut().zip([b.reserved, b.held, b.pending, b.batched, b.claimable]) {
            column.push(Money::from(v));
        }
        maturing.push(b.maturing.map(Money::from));
    }
    let [reserved, held, pending, batched, claimable] = columns;
    sqlx::query!(
        "INSERT INTO solvency_leaves (epoch_id, address, idx, reserved, held, pending, batched, claimable, maturing)
         SELECT $1, * FROM UNNEST($2::bytea[], $3::int4[], $4::numeric[], $5::numeric[], $6::numeric[],
                                  $7::numeric[], $8::numeric[], $9::numeric[])",
        id,
        &addresses,
        &idx,
        &reserved as &[Money],
        &held as &[Money],
        &pending as &[Money],
        &batched as &[Money],
        &claimable as &[Money],
        &maturing as &[Option<Money>]
    )
    .execute(&mut **tx)
    .await?;
    for k in 0..tree.levels.len() {
        sqlx::query!(
            "INSERT INTO solvency_levels (epoch_id, level, nodes) VALUES ($1, $2, $3)",
            id,
            k as i16,
            tree.level_bytes(k)
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

/// The epoch of `asset_id` being built, signed or sent, if any.
pub async fn in_flight(pool: &PgPool, asset_id: i32) -> Result<Option<Epoch>, sqlx::Error> {
    let rows = epochs_where(pool, asset_id, None, true, 1, None).await?;
    Ok(rows.into_iter().next())
}

/// Every row of `asset_id` being built, signed or sent (one per contract at most), oldest first.
pub async fn in_flight_all(pool: &PgPool, asset_id: i32) -> Result<Vec<Epoch>, sqlx::Error> {
    let mut rows = epochs_where(pool, asset_id, None, true, 64, None).await?;
    rows.reverse();
    Ok(rows)
}

/// The row `id` as it stands now.
pub async fn by_id(pool: &PgPool, asset_id: i32, id: i64) -> Result<Option<Epoch>, sqlx::Error> {
    Ok(epochs_where(pool, asset_id, Some(id), false, 1, None).await?.into_iter().next())
}

/// Epoch `epoch` of `asset_id` as committed on `contract` (or, with `None`, the latest committed there).
pub async fn committed(
    pool: &PgPool,
    asset_id: i32,
    contract: Address,
    epoch: Option<u64>,
) -> Result<Option<Epoch>, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "SELECT id FROM solvency_epochs
          WHERE asset_id = $1 AND status = 'committed' AND (contract = $2 OR contract IS NULL)
            AND ($3::bigint IS NULL OR epoch = $3)
          ORDER BY epoch DESC LIMIT 1",
        asset_id,
        contract.as_slice(),
        epoch.map(|e| e as i64)
    )
    .fetch_optional(pool)
    .await?;
    match id {
        Some(id) => by_id(pool, asset_id, id).await,
        None => Ok(None),
    }
}

/// The latest round of `asset_id` committed on every one of `contracts` (the chain's, live first), one row per contract
/// in that order; `None` while no round is (after an upgrade, until the first round on every contract commits). A row
/// built before contracts were recorded counts as `oldest`'s, the chain's oldest contract (as [`adopt_unnamed`]
/// names it).
pub async fn complete_round(
    pool: &PgPool,
    asset_id: i32,
    contracts: &[Address],
    oldest: Address,
) -> Result<Option<Vec<Epoch>>, sqlx::Error> {
    let named: Vec<Vec<u8>> = contracts.iter().map(|c| c.to_vec()).collect();
    let rows = sqlx::query!(
        r#"SELECT id, coalesce(contract, $2) AS "contract!" FROM solvency_epochs
            WHERE asset_id = $1 AND status = 'committed' AND coalesce(contract, $2) = ANY($3)
              AND round = (SELECT round FROM solvency_epochs
                            WHERE asset_id = $1 AND status = 'committed' AND coalesce(contract, $2) = ANY($3)
                            GROUP BY round HAVING count(DISTINCT coalesce(contract, $2)) = cardinality($3)
                            ORDER BY round DESC LIMIT 1)"#,
        asset_id,
        oldest.as_slice(),
        &named
    )
    .fetch_all(pool)
    .await?;
    let mut round = Vec::with_capacity(contracts.len());
    for contract in contracts {
        // A round holds one committed row per contract (its epoch is taken once on chain).
        let Some(row) = rows.iter().find(|r| r.contract == contract.as_slice()) else { return Ok(None) };
        match by_id(pool, asset_id, row.id).await? {
            Some(e) => round.push(e),
            None => return Ok(None),
        }
    }
    Ok(Some(round))
}

/// The last epoch of `asset_id` committed on `contract` (0: none), from the ledger; a row built before contracts were
/// recorded counts as the contract's ([`adopt_unnamed`] names it first).
pub async fn last_epoch_on(pool: &PgPool, asset_id: i32, contract: Address) -> Result<u64, sqlx::Error> {
    let last = sqlx::query_scalar!(
        "SELECT max(epoch) FROM solvency_epochs
          WHERE asset_id = $1 AND status = 'committed' AND (contract = $2 OR contract IS NULL)",
        asset_id,
        contract.as_slice()
    )
    .fetch_one(pool)
    .await?;
    Ok(last.map_or(0, |e| e as u64))
}

/// Names `contract` — the chain's oldest contract in the chain spec — on the rows of `chain_id`'s assets built before
/// contracts were recorded (migration 0028: the chain had one contract then). Idempotent; the number of rows named.
pub async fn adopt_unnamed(pool: &PgPool, chain_id: u64, contract: Address) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE solvency_epochs e SET contract = $2 FROM assets a
          WHERE a.id = e.asset_id AND a.chain_id = $1 AND e.contract IS NULL",
        chain_id as i64,
        contract.as_slice()
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// The epochs of `asset_id`, newest first (every attempt, failed ones too): `limit` rows with an id below `before`.
pub async fn history(pool: &PgPool, asset_id: i32, before: Option<i64>, limit: i64) -> Result<Vec<Epoch>, sqlx::Error> {
    epochs_where(pool, asset_id, None, false, limit, before).await
}

/// How many epoch rows `asset_id` has.
pub async fn history_count(pool: &PgPool, asset_id: i32) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM solvency_epochs WHERE asset_id = $1"#, asset_id)
        .fetch_one(pool)
        .await
}

/// One query for every read of epoch rows: `id` one row; `in_flight` only built, signed or sent ones.
async fn epochs_where<'e>(
    db: impl sqlx::PgExecutor<'e>,
    asset_id: i32,
    id: Option<i64>,
    in_flight: bool,
    limit: i64,
    before: Option<i64>,
) -> Result<Vec<Epoch>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT e.id, e.asset_id, a.chain_id, a.token, e.epoch, e.as_of_block, e.root, e.total AS "total: Money",
                  e.leaf_count, e.depth, e.plan_hash, e.status, e.chain_nonce AS "chain_nonce: Money", e.deadline,
                  e.signature, e.tx_hash, e.chain_tx_raw, e.chain_tx_expiration_ms, e.chain_tx_fee_limit,
                  extract(epoch FROM now() - e.moved_at)::float8 AS "idle_secs!", e.committed_block, e.committed_tx,
                  e.custody AS "custody: Money", e.failure, rfc3339(e.created_at) AS "created_at!", e.contract,
                  e.round
           FROM solvency_epochs e JOIN assets a ON a.id = e.asset_id
          WHERE e.asset_id = $1 AND ($5::bigint IS NULL OR e.id = $5)
            AND (NOT $2 OR e.status IN ('built', 'signed', 'sent')) AND ($4::bigint IS NULL OR e.id < $4)
          ORDER BY e.id DESC LIMIT $3"#,
        asset_id,
        in_flight,
        limit,
        before,
        id
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let kept = match (&r.tx_hash, r.chain_tx_raw, r.chain_tx_expiration_ms, r.chain_tx_fee_limit) {
                (Some(id), Some(raw), Some(expiration_ms), Some(fee_limit)) => {
                    Some(KeptTransaction { id: B256::from_slice(id), raw, expiration_ms, fee_limit })
                }
                _ => None,
            };
            Ok(Epoch {
                id: r.id,
                asset_id: r.asset_id,
                chain_id: r.chain_id as u64,
                token: Address::from_slice(&r.token),
                epoch: r.epoch as u64,
                contract: r.contract.as_deref().map(Address::from_slice),
                round: r.round as u64,
                as_of_block: r.as_of_block as u64,
                root: B256::from_slice(&r.root),
                total: r.total.to_amount()?,
                leaf_count: r.leaf_count as u32,
                depth: r.depth as u32,
                plan_hash: B256::from_slice(&r.plan_hash),
                status: EpochStatus::parse(&r.status)?,
                chain_nonce: r.chain_nonce.map(|n| n.0),
                deadline: r.deadline.map(|d| d as u64),
                signature: r.signature,
                tx_hash: r.tx_hash.as_deref().map(B256::from_slice),
                kept,
                idle: Duration::from_secs_f64(r.idle_secs.max(0.0)),
                committed_block: r.committed_block.map(|b| b as u64),
                committed_tx: r.committed_tx.as_deref().map(B256::from_slice),
                custody: r.custody.map(|c| c.0),
                failure: r.failure,
                created_at: r.created_at,
            })
        })
        .collect()
}

/// The nonce and deadline the epoch's payload is signed with, chosen and stored before the signer is asked (a
/// retry after a crash asks for the same payload and gets the same signature): the stored ones if chosen already.
pub async fn choose_nonce(pool: &PgPool, id: i64, deadline: u64) -> Result<(U256, u64), sqlx::Error> {
    choose_nonce_in(&mut *pool.acquire().await?, id, deadline).await
}

async fn choose_nonce_in(conn: &mut PgConnection, id: i64, deadline: u64) -> Result<(U256, u64), sqlx::Error> {
    let row = sqlx::query!(
        r#"UPDATE solvency_epochs SET
               chain_nonce = coalesce(chain_nonce, $2::numeric + nextval('solvency_nonce_seq')),
               deadline = coalesce(deadline, $3), moved_at = now()
           WHERE id = $1 AND status = 'built'
           RETURNING chain_nonce AS "chain_nonce!: Money", deadline AS "deadline!""#,
        id,
        Money(abi::nonces::LIABILITY_NONCE_BASE) as Money,
        deadline as i64
    )
    .fetch_one(conn)
    .await?;
    Ok((row.chain_nonce.0, row.deadline as u64))
}

/// What the signer is asked to sign for a built epoch, and the system's authorisation of exactly that.
#[derive(Debug, Clone)]
pub struct Authorised {
    /// The LiabilityRoot at the nonce and deadline fixed.
    pub payload: abi::LiabilityRoot,
    /// Its EIP-712 digest under `contract`'s domain: the authorisation's payload.
    pub digest: B256,
    /// The authorisation (`solvency_commitment`, approved by the system).
    pub authorisation: Authorisation,
}

/// Fixes the nonce and deadline of built epoch `epoch` (as [`choose_nonce`]: the stored ones if chosen already) and
/// records, in the same transaction, the system's approval of its LiabilityRoot for `contract`
/// ([`authorisations::record_system`], audited as `actor`'s): a crash before the commit leaves neither, a retry after
/// it finds both and records nothing twice.
pub async fn authorise(
    pool: &PgPool,
    epoch: &Epoch,
    contract: Address,
    deadline: u64,
    actor: &str,
) -> Result<Authorised, AuthorisationError> {
    let mut tx = pool.begin().await?;
    let (nonce, deadline) = choose_nonce_in(&mut tx, epoch.id, deadline).await?;
    let fixed = Epoch { chain_nonce: Some(nonce), deadline: Some(deadline), ..epoch.clone() };
    let payload = fixed.payload().expect("its nonce and deadline are fixed");
    let digest = abi::SettlementDomain::new(epoch.chain_id, contract).digest(&payload);
    let proposal = Proposal {
        kind: authorisations::OutflowKind::SolvencyCommitment,
        subject: epoch.id,
        asset_id: epoch.asset_id,
        chain_id: epoch.chain_id,
        contract,
        token: epoch.token,
        payload: digest,
        total: U256::from(epoch.total),
        nonce,
        deadline,
    };
    let authorisation = authorisations::record_system(&mut tx, &proposal, actor).await?;
    tx.commit().await?;
    Ok(Authorised { payload, digest, authorisation })
}

/// Keeps the signature of a built epoch: `signed`.
pub async fn mark_signed(pool: &PgPool, id: i64, signature: &[u8]) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE solvency_epochs SET status = 'signed', signature = $2, moved_at = now()
         WHERE id = $1 AND status = 'built' AND chain_nonce IS NOT NULL",
        id,
        signature
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Notes that a follow-up looked at the epoch (its idle time starts again).
pub async fn touch(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE solvency_epochs SET moved_at = now() WHERE id = $1", id).execute(pool).await?;
    Ok(())
}

/// Marks an epoch that can never execute `failed`, saying why, and drops its tree (the row stays as history); its
/// epoch number is built again.
pub async fn mark_failed(pool: &PgPool, id: i64, why: &str) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let failed = sqlx::query!(
        "UPDATE solvency_epochs SET status = 'failed', failure = $2, moved_at = now()
         WHERE id = $1 AND status IN ('built', 'signed', 'sent')",
        id,
        why
    )
    .execute(&mut *tx)
    .await?;
    if failed.rows_affected() == 1 {
        sqlx::query!("DELETE FROM solvency_leaves WHERE epoch_id = $1", id).execute(&mut *tx).await?;
        sqlx::query!("DELETE FROM solvency_levels WHERE epoch_id = $1", id).execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Whether custody of the asset moved by a payout after `block`: a batch executed after it, or one sent and not
/// settled. A commitment reads custody when it executes: after such a payout its total (as of `block`) would still
/// count the rewards the payout took out of custody, and show a shortfall that is none.
pub async fn payout_since(pool: &PgPool, asset_id: i32, block: u64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM payout_batches WHERE asset_id = $1
                          AND (status = 'submitted' OR (status = 'executed' AND executed_block > $2))) AS "moved!""#,
        asset_id,
        block as i64
    )
    .fetch_one(pool)
    .await
}

/// A `LiabilitiesCommitted` event, as the listener applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    /// The committed epoch.
    pub epoch: u64,
    /// The committed root.
    pub root: B256,
    /// The committed total.
    pub total: U256,
    /// The custody the contract read.
    pub custody: U256,
    /// The block holding the event.
    pub block: u64,
    /// The transaction that committed it.
    pub tx_hash: B256,
}

/// Marks the asset's epoch that the event commits (same number, root and total, signed or sent) `committed`, in
/// the listener's transaction; a commitment that is no epoch of ours changes nothing here (the reconciler pages it).
pub(crate) async fn record_commitment(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    asset_id: i32,
    contract: Address,
    c: &Commitment,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE solvency_epochs SET status = 'committed', committed_block = $5, committed_tx = $6, custody = $7,
                moved_at = now()
         WHERE asset_id = $1 AND epoch = $2 AND root = $3 AND total = $4 AND status IN ('signed', 'sent')
           AND (contract = $8 OR contract IS NULL)",
        asset_id,
        c.epoch as i64,
        c.root.as_slice(),
        Money(c.total) as Money,
        c.block as i64,
        c.tx_hash.as_slice(),
        Money(c.custody) as Money,
        contract.as_slice()
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One user's leaf of an epoch and the siblings on its path, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProof {
    /// The epoch.
    pub epoch: Epoch,
    /// The user.
    pub user: Address,
    /// Their liabilities in the leaf.
    pub balances: Balances,
    /// The leaf's index.
    pub index: u64,
    /// Siblings bottom-up.
    pub siblings: Vec<Node>,
}

/// `user`'s proof in epoch `epoch` of `asset_id` (`None`: the latest committed), read from the stored levels: one
/// query for the leaf and one for every sibling; `None` when the epoch has no leaf of theirs.
pub async fn proof(
    pool: &PgPool,
    asset_id: i32,
    contract: Address,
    epoch: Option<u64>,
    user: Address,
) -> Result<Option<StoredProof>, sqlx::Error> {
    let Some(epoch) = committed(pool, asset_id, contract, epoch).await? else { return Ok(None) };
    proof_in(pool, epoch, user).await
}

/// `user`'s proof in the stored epoch `epoch` (committed or not).
pub async fn proof_in(pool: &PgPool, epoch: Epoch, user: Address) -> Result<Option<StoredProof>, sqlx::Error> {
    let leaf = sqlx::query!(
        r#"SELECT idx, reserved AS "reserved: Money", held AS "held: Money", pending AS "pending: Money",
                  batched AS "batched: Money", claimable AS "claimable: Money", maturing AS "maturing: Money"
           FROM solvency_leaves WHERE epoch_id = $1 AND address = $2"#,
        epoch.id,
        user.as_slice()
    )
    .fetch_optional(pool)
    .await?;
    let Some(leaf) = leaf else { return Ok(None) };
    let index = leaf.idx as i64;
    let rows = sqlx::query!(
        r#"SELECT level, substring(nodes FROM ((($2::bigint >> level) # 1) * $3::int + 1)::int FOR $3::int)
                  AS "node!"
           FROM solvency_levels WHERE epoch_id = $1 AND level < $4 ORDER BY level"#,
        epoch.id,
        index,
        NODE_BYTES as i32,
        epoch.depth as i16
    )
    .fetch_all(pool)
    .await?;
    let siblings = rows
        .iter()
        .map(|r| Node::from_bytes(&r.node).ok_or_else(|| sqlx::Error::Decode("a stored node of 48 bytes".into())))
        .collect::<Result<Vec<_>, _>>()?;
    if siblings.len() != epoch.depth as usize {
        return Err(sqlx::Error::Decode(
            format!("epoch {} has {} of {} levels", epoch.id, siblings.len(), epoch.depth).into(),
        ));
    }
    Ok(Some(StoredProof {
        user,
        balances: Balances {
            reserved: leaf.reserved.to_amount()?,
            held: leaf.held.to_amount()?,
            pending: leaf.pending.to_amount()?,
            batched: leaf.batched.to_amount()?,
            claimable: leaf.claimable.to_amount()?,
            maturing: leaf.maturing.map(|m| m.to_amount()).transpose()?,
        },
        index: index as u64,
        siblings,
        epoch,
    }))
}

/// Up to `n` users of epoch row `epoch_id`, drawn at random (the reconciler verifies their proofs).
pub async fn sample_users(pool: &PgPool, epoch_id: i64, n: i64) -> Result<Vec<Address>, sqlx::Error> {
    let rows = sqlx::query_scalar!(
        "SELECT address FROM solvency_leaves WHERE epoch_id = $1 ORDER BY random() LIMIT $2",
        epoch_id,
        n
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(|a| Address::from_slice(a)).collect())
}

impl Epoch {
    /// The payload as signed (once a nonce and deadline are chosen): what the operator sends.
    pub fn payload(&self) -> Option<abi::LiabilityRoot> {
        Some(abi::LiabilityRoot {
            token: self.token,
            epoch: self.epoch,
            asOfBlock: self.as_of_block,
            root: self.root,
            total: self.total,
            leafCount: self.leaf_count,
            planHash: self.plan_hash,
            nonce: self.chain_nonce?,
            deadline: U256::from(self.deadline?),
        })
    }

    /// The epoch's sending state as the payout sender sees a batch's: `signed` → Signed, `sent` → Submitted,
    /// `committed` → Executed, `built` → Building, `failed` → Failed.
    pub fn send_state(&self) -> SendState {
        let status = match self.status {
            EpochStatus::Built => BatchStatus::Building,
            EpochStatus::Signed => BatchStatus::Signed,
            EpochStatus::Sent => BatchStatus::Submitted,
            EpochStatus::Committed => BatchStatus::Executed,
            EpochStatus::Failed => BatchStatus::Failed,
        };
        SendState {
            status,
            tx_hash: self.tx_hash,
            signature: self.signature.clone(),
            kept: self.kept.clone(),
            idle: self.idle,
        }
    }
}

/// Locks epoch row `id` for a send decision (held until the returned transaction ends), waiting for anyone else
/// deciding on it; the epoch as locked.
pub async fn lock_for_send(pool: &PgPool, id: i64) -> Result<Option<(Tx, Epoch)>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let locked = sqlx::query_scalar!("SELECT asset_id FROM solvency_epochs WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(asset_id) = locked else { return Ok(None) };
    let rows = epochs_where(&mut *tx, asset_id, Some(id), false, 1, None).await?;
    Ok(rows.into_iter().next().map(|e| (tx, e)))
}

/// Records that `tx_hash` was sent for the epoch (status `sent`), and commits.
pub async fn record_sent(mut tx: Tx, id: i64, tx_hash: B256) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE solvency_epochs SET status = 'sent', tx_hash = $2, chain_tx_raw = NULL, chain_tx_expiration_ms = NULL,
                chain_tx_fee_limit = NULL, moved_at = now()
         WHERE id = $1 AND status IN ('signed', 'sent')",
        id,
        tx_hash.as_slice()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Records a signed transaction for the epoch **before** it is broadcast (status `sent`, its id as the transaction
/// hash, its bytes kept), and commits: a retry broadcasts the same bytes (TRON).
pub async fn record_kept(mut tx: Tx, id: i64, kept: &KeptTransaction) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE solvency_epochs SET status = 'sent', tx_hash = $2, chain_tx_raw = $3, chain_tx_expiration_ms = $4,
                chain_tx_fee_limit = $5, moved_at = now()
         WHERE id = $1 AND status IN ('signed', 'sent')",
        id,
        kept.id.as_slice(),
        &kept.raw,
        kept.expiration_ms,
        kept.fee_limit
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
