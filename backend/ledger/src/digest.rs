//! The ledger's digest: one hash over every ledger row, equal for two ledgers built from the same events and
//! admin actions (the replay tests compare them).

use sqlx::{AssertSqlSafe, PgPool};

use crate::plan::registry;

/// SHA-256 over every ledger row (surrogate ids and wall-clock times left out), in key
/// order: two ledgers built from the same events and admin actions have the same digest.
pub async fn digest(pool: &PgPool) -> Result<String, sqlx::Error> {
    const TABLES: &[(&str, &str, &str)] = &[
        (
            "assets",
            "id, chain_id, token, symbol, decimals, genesis, applied_events, last_block, admin_seq, company_total, \
             plan_kind, next_period",
            "id",
        ),
        ("plan_versions", "asset_id, version, effective_from_block, params", "asset_id, version"),
        ("users", "*", "asset_id, user_no"),
        ("rewards", "*", "asset_id, reward_no"),
        ("company_credits", "*", "asset_id, credit_no"),
        ("chain_events", "*", "chain_id, block_number, log_index"),
        ("blockchain_sync", "chain_id, last_block, last_log_index", "chain_id"),
        (
            "quarantine",
            "chain_id, tx_hash, log_index, asset_id, reason_code, reason, payload",
            "chain_id, tx_hash, log_index",
        ),
        ("alerts", "kind, message, details", "id"),
        ("audit_logs", "actor, action, asset_id, target, before, after, applied_events", "id"),
        (
            "member_exits",
            "asset_id, user_no, contract, block_number, tx_hash, log_index, paid_to, amount, due, owed, forfeited, \
             cancelled_batches",
            "asset_id, user_no",
        ),
    ];
    // Then every plan's own tables, as its room lists them.
    let tables = TABLES.iter().chain(registry::rooms().flat_map(|r| r.digest_tables()));
    let mut parts = Vec::with_capacity(TABLES.len());
    for (table, columns, order) in tables {
        let row = if *columns == "*" { format!("{table}::text") } else { format!("ROW({columns})::text") };
        let sql = format!(
            "SELECT encode(sha256(convert_to(coalesce(string_agg(x, E'\\n' ORDER BY {order}), ''), 'UTF8')), 'hex')
             FROM (SELECT {row} AS x, {order} FROM {table}) s"
        );
        // Not a checked query: one statement per table of the constant list above, each naming its table.
        let h: String = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(pool).await?;
        parts.push(format!("{table}:{h}"));
    }
    Ok(parts.join("\n"))
}
