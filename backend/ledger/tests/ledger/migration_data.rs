//! The data migrations of issue 31 (0020–0023: balances into `users`, plan-event records and retopup numbers into
//! `chain_events`, pool nodes into `placements`) lose nothing: a ledger built by the current code is copied, table
//! by table, into a database of the schema before them (0019), whose old tables are filled from the views of the
//! same names; migrating that database the rest of the way gives the same digest as the original.

use crate::common::*;
use ledger::db::{ScratchDatabase, migrate};
use ledger::digest;
use ledger::plan::PlanParams;
use sqlx::{AssertSqlSafe, Connection};

/// The last migration before the ones under test.
const BEFORE: i64 = 19;

#[tokio::test]
async fn a_ledger_migrated_from_the_old_tables_has_the_same_digest() {
    let params = PlanParams::defaults(18);
    let (now, mut ledger) = ledger(params.clone()).await;
    // Registrations, retopups, refused events (quarantined), freezes and manual placements, in blocks.
    let mut s = stream(7, &params, 4);
    let ops: Vec<_> = (0..600).map(|_| s.next_op()).collect();
    replay(&mut ledger, &ops, true).await;
    let expected = digest(&now.pool).await.unwrap();
    let rows = |sql: &'static str| text(&now.pool, sql);
    assert_ne!(count(&now.pool, "retopups").await, 0);
    assert_ne!(rows("SELECT count(*)::text FROM pool_nodes WHERE status = 'completed'").await, "0");
    assert_ne!(rows("SELECT count(*)::text FROM chain_events WHERE outcome = 'quarantined'").await, "0");
    assert_ne!(rows("SELECT count(*)::text FROM user_balances WHERE held > 0 OR reserved > 0").await, "0");

    let old = ScratchDatabase::create_through("ledger_migration", BEFORE).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'
         ORDER BY 1",
    )
    .fetch_all(&old.pool)
    .await
    .unwrap();
    for gone in ["user_balances", "ledger_events", "retopups", "pool_nodes"] {
        assert!(tables.iter().any(|t| t == gone), "{gone} is a table before migration {}", BEFORE + 1);
    }
    let mut conn = old.pool.acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    // Rows go in in any order: foreign keys are checked by the migrations' own checks and the digest.
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.unwrap();
    for table in &tables {
        // Not checked queries: every table of the old schema, by its name (a view of that name in the new one).
        let rows: serde_json::Value =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT coalesce(jsonb_agg(to_jsonb(t)), '[]') FROM {table} t")))
                .fetch_one(&now.pool)
                .await
                .unwrap();
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} SELECT * FROM jsonb_populate_recordset(NULL::{table}, $1)"
        )))
        .bind(&rows)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    drop(conn);
    migrate(&old.pool).await.unwrap();
    // The emitting contract (migration 0026, after the ones under test) cannot be carried by the old schema: rows from
    // before it have none. Given back as the original has it, the rest must be equal.
    let original: Vec<Option<Vec<u8>>> =
        sqlx::query_scalar("SELECT DISTINCT contract FROM chain_events").fetch_all(&now.pool).await.unwrap();
    assert_eq!(original, [Some(vec![0u8; 20])], "the synthetic stream's events name the zero contract");
    sqlx::raw_sql(
        "ALTER TABLE chain_events DISABLE TRIGGER chain_events_written_once;
         UPDATE chain_events SET contract = '\\x0000000000000000000000000000000000000000' WHERE contract IS NULL;
         ALTER TABLE chain_events ENABLE TRIGGER chain_events_written_once;",
    )
    .execute(&old.pool)
    .await
    .unwrap();
    assert_eq!(digest(&old.pool).await.unwrap(), expected);
    // The old names read the same rows as before.
    for view in ["user_balances", "ledger_events", "retopups", "pool_nodes"] {
        assert_eq!((view, count(&now.pool, view).await), (view, count(&old.pool, view).await));
    }
}
