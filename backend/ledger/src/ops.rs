//! The operations queue (`ops_requests`): what an operator asks through the API for work a service owns — a
//! listener replaying a block range of its chain, the reconciler running now. This module is the table's one
//! owner: the API enqueues ([`enqueue`], with its audit row), the services claim and finish ([`claim_replay`],
//! [`claim_reconciles`], [`finish`]), and everyone reads a request as an [`OpsRequest`] with typed kind and status.
//! Claims use `FOR UPDATE SKIP LOCKED`, so any number of instances may serve the queue.

use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};

use crate::audit::{self, AuditEntry};

type Tx = Transaction<'static, Postgres>;

/// What is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpsKind {
    /// A chain's listener re-reads a block range and reports what the ledger has of it.
    Replay,
    /// The reconciler runs now.
    Reconcile,
}

impl OpsKind {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            OpsKind::Replay => "replay",
            OpsKind::Reconcile => "reconcile",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [OpsKind::Replay, OpsKind::Reconcile].into_iter().find(|k| k.as_str() == name)
    }
}

/// Where a request stands: queued → running (a service took it) → done or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpsStatus {
    /// Waiting for its service.
    Queued,
    /// Taken by a service.
    Running,
    /// Served; `result` says what was found.
    Done,
    /// Could not be served; `error` says why.
    Failed,
}

impl OpsStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            OpsStatus::Queued => "queued",
            OpsStatus::Running => "running",
            OpsStatus::Done => "done",
            OpsStatus::Failed => "failed",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [OpsStatus::Queued, OpsStatus::Running, OpsStatus::Done, OpsStatus::Failed]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// One request as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OpsRequest {
    /// Its id.
    pub id: i64,
    /// What was asked.
    pub kind: OpsKind,
    /// The chain (a replay's; none for a reconcile).
    pub chain_id: Option<i64>,
    /// A replay's first block.
    pub from_block: Option<i64>,
    /// A replay's last block (inclusive).
    pub to_block: Option<i64>,
    /// Who asked (an admin's wallet).
    pub requested_by: String,
    /// Where it stands.
    pub status: OpsStatus,
    /// What the service found, once done.
    pub result: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// RFC 3339, UTC.
    pub requested_at: String,
    /// RFC 3339, UTC.
    pub started_at: Option<String>,
    /// RFC 3339, UTC.
    pub finished_at: Option<String>,
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Finished {
    /// Served, with what was found.
    Done(Value),
    /// Not served, with the reason.
    Failed(String),
}

/// What a request asks for: a replay of `from..=to` on `chain_id`, or a reconcile run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// A chain's listener re-reads blocks `from..=to`.
    Replay {
        /// The chain.
        chain_id: i64,
        /// First block.
        from: i64,
        /// Last block (inclusive).
        to: i64,
    },
    /// The reconciler runs now.
    Reconcile,
}

/// Queues `ask` for `requested_by` with its audit row (`replay_requested` / `reconcile_requested`), in one
/// transaction; the request as stored.
pub async fn enqueue(pool: &PgPool, ask: Ask, requested_by: &str) -> Result<OpsRequest, sqlx::Error> {
    let (kind, chain_id, range) = match ask {
        Ask::Replay { chain_id, from, to } => (OpsKind::Replay, Some(chain_id), Some((from, to))),
        Ask::Reconcile => (OpsKind::Reconcile, None, None),
    };
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO ops_requests (kind, chain_id, from_block, to_block, requested_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        kind.as_str(),
        chain_id,
        range.map(|r| r.0),
        range.map(|r| r.1),
        requested_by
    )
    .fetch_one(&mut *tx)
    .await?;
    let after = json!({ "kind": kind.as_str(), "chain_id": chain_id, "from_block": range.map(|r| r.0),
                        "to_block": range.map(|r| r.1), "status": OpsStatus::Queued.as_str() });
    let (action, target) = (format!("{}_requested", kind.as_str()), format!("ops_request:{id}"));
    let entry =
        AuditEntry { actor: requested_by, action: &action, target: &target, asset_id: None, before: None, after };
    audit::record(&mut tx, entry).await?;
    let request = load(&mut *tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(request)
}

/// Request `id`, if any.
pub async fn request(pool: &PgPool, id: i64) -> Result<Option<OpsRequest>, sqlx::Error> {
    load(pool, id).await
}

/// Whether the ledger has an asset on `chain_id` (a replay may be asked for such a chain).
pub async fn chain_has_assets(pool: &PgPool, chain_id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM assets WHERE chain_id = $1) AS "exists!""#, chain_id)
        .fetch_one(pool)
        .await
}

/// Takes the oldest queued replay of `chain_id` nobody holds, marking it running: (id, from, to).
pub async fn claim_replay(pool: &PgPool, chain_id: u64) -> Result<Option<(i64, u64, u64)>, sqlx::Error> {
    // A replay is queued with both bounds (the table's check): the overrides say so.
    let request = sqlx::query!(
        r#"UPDATE ops_requests SET status = 'running', started_at = now()
         WHERE id = (SELECT id FROM ops_requests WHERE kind = 'replay' AND chain_id = $1 AND status = 'queued'
                     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id, from_block AS "from_block!", to_block AS "to_block!""#,
        chain_id as i64
    )
    .fetch_optional(pool)
    .await?;
    Ok(request.map(|r| (r.id, r.from_block.max(0) as u64, r.to_block.max(0) as u64)))
}

/// Puts `chain_id`'s replays left running by an instance that stopped mid-way back in the queue (the caller must
/// be the only one serving the chain); how many.
pub async fn requeue_running_replays(pool: &PgPool, chain_id: u64) -> Result<u64, sqlx::Error> {
    let requeued = sqlx::query!(
        "UPDATE ops_requests SET status = 'queued', started_at = NULL
         WHERE kind = 'replay' AND chain_id = $1 AND status = 'running'",
        chain_id as i64
    )
    .execute(pool)
    .await?;
    Ok(requeued.rows_affected())
}

/// Takes every queued reconcile request nobody holds, inside `tx`: they stay locked (and queued, so a
/// reconciler that dies mid-run leaves them for the next) until `tx` ends; marked started.
pub async fn claim_reconciles(tx: &mut Tx) -> Result<Vec<i64>, sqlx::Error> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM ops_requests WHERE kind = 'reconcile' AND status = 'queued' ORDER BY id FOR UPDATE SKIP LOCKED"
    )
    .fetch_all(&mut **tx)
    .await?;
    if !ids.is_empty() {
        sqlx::query!("UPDATE ops_requests SET started_at = now() WHERE id = ANY($1)", &ids).execute(&mut **tx).await?;
    }
    Ok(ids)
}

/// Finishes requests `ids` as `done` with a result or `failed` with a reason.
pub async fn finish<'e>(db: impl sqlx::PgExecutor<'e>, ids: &[i64], finished: &Finished) -> Result<(), sqlx::Error> {
    let (status, result, error) = match finished {
        Finished::Done(result) => (OpsStatus::Done, Some(result), None),
        Finished::Failed(error) => (OpsStatus::Failed, None, Some(error.as_str())),
    };
    sqlx::query!(
        "UPDATE ops_requests SET status = $2, result = $3, error = $4, finished_at = now() WHERE id = ANY($1)",
        ids,
        status.as_str(),
        result,
        error
    )
    .execute(db)
    .await?;
    Ok(())
}

async fn load<'e>(db: impl sqlx::PgExecutor<'e>, id: i64) -> Result<Option<OpsRequest>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id, kind, chain_id, from_block, to_block, requested_by, status, result, error,
                rfc3339(requested_at) AS "requested_at!", rfc3339(started_at) AS started_at,
                rfc3339(finished_at) AS finished_at
         FROM ops_requests WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        let corrupt =
            |what: &str, name: &str| sqlx::Error::Decode(format!("ops_requests {}: {what} {name:?}", r.id).into());
        Ok(OpsRequest {
            id: r.id,
            kind: OpsKind::parse(&r.kind).ok_or_else(|| corrupt("kind", &r.kind))?,
            chain_id: r.chain_id,
            from_block: r.from_block,
            to_block: r.to_block,
            requested_by: r.requested_by.clone(),
            status: OpsStatus::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            result: r.result.clone(),
            error: r.error.clone(),
            requested_at: r.requested_at.clone(),
            started_at: r.started_at.clone(),
            finished_at: r.finished_at.clone(),
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in [OpsKind::Replay, OpsKind::Reconcile] {
            assert_eq!(OpsKind::parse(k.as_str()), Some(k));
        }
        for s in [OpsStatus::Queued, OpsStatus::Running, OpsStatus::Done, OpsStatus::Failed] {
            assert_eq!(OpsStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OpsStatus::parse("finished"), None);
        assert_eq!(OpsKind::parse("Replay"), None);
    }
}
