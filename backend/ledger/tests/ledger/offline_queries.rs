//! The offline data of the ledger's compile-checked queries (`backend/ledger/.sqlx`, written by
//! `scripts/sqlx-prepare.sh`) is current: every stored query, described again against a database with every
//! migration applied, has the columns, types, nullability and parameters the build checked it with. A migration
//! that changes what a checked query reads fails here until the data is prepared again; a checked query whose data
//! is missing fails the offline build itself.

use std::path::Path;

use ledger::db::ScratchDatabase;
use serde_json::Value;
use sqlx::{AssertSqlSafe, Executor, SqlSafeStr};

#[tokio::test]
async fn every_stored_query_describes_as_the_build_checked_it() -> eyre::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".sqlx");
    let mut files: Vec<_> = std::fs::read_dir(&dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    assert!(!files.is_empty(), "no offline query data in {}: run scripts/sqlx-prepare.sh", dir.display());
    let db = ScratchDatabase::create("ledger_offline").await?;
    let mut stale = Vec::new();
    for file in &files {
        let stored: Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
        assert_eq!(stored["db_name"], "PostgreSQL", "{}", file.display());
        let sql = stored["query"].as_str().ok_or_else(|| eyre::eyre!("{}: no query", file.display()))?;
        let now = match (&db.pool).describe(AssertSqlSafe(sql.to_owned()).into_sql_str()).await {
            Ok(described) => serde_json::to_value(&described)?,
            Err(e) => Value::String(format!("no longer valid: {e}")),
        };
        if without_overridden_nullability(&now) != without_overridden_nullability(&stored["describe"]) {
            stale.push(format!("{}:\n  stored {}\n  now    {}", file.display(), stored["describe"], now));
        }
    }
    assert!(stale.is_empty(), "stale offline query data (run scripts/sqlx-prepare.sh):\n{}", stale.join("\n"));
    Ok(())
}

/// `describe` with the nullability of every column whose name overrides it (`x!`, `x?`, `x!: Type`) left out: the
/// build takes those from the name, and Postgres's inference for such columns (outer joins, expressions) may differ
/// from one description to the next.
fn without_overridden_nullability(describe: &Value) -> Value {
    let mut describe = describe.clone();
    let names: Vec<bool> = describe["columns"]
        .as_array()
        .map(|columns| {
            columns
                .iter()
                .map(|c| c["name"].as_str().unwrap_or("").split(':').next().unwrap_or("").trim_end())
                .map(|name| name.ends_with('!') || name.ends_with('?'))
                .collect()
        })
        .unwrap_or_default();
    if let Some(nullable) = describe["nullable"].as_array_mut() {
        for (slot, overridden) in nullable.iter_mut().zip(names) {
            if overridden {
                *slot = Value::Null;
            }
        }
    }
    describe
}
