#!/usr/bin/env bash
# Regenerates backend/ledger/.sqlx: the offline data of the ledger's compile-checked queries (sqlx::query!,
# query_as!, query_scalar!), so that the workspace builds without a database. Run it after changing a checked query
# or a migration; `scripts/test.sh` fails while the data is stale (the offline build refuses a query it has no data
# for, and ledger/tests/ledger/offline_queries.rs describes every stored query against a freshly migrated database).
#
# It describes the queries against a throwaway database with every migration applied, on the server of
# DATABASE_SERVER (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/referral-target}"
server="${DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}"
db="referral_sqlx_prepare_$$"
trap 'psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
psql -q -v ON_ERROR_STOP=1 "$server/postgres" -c "CREATE DATABASE $db"
for migration in backend/ledger/migrations/*.sql; do
  psql -q -v ON_ERROR_STOP=1 "$server/$db" -f "$migration" >/dev/null
done
out="$PWD/backend/ledger/.sqlx"
rm -rf "$out"
mkdir -p "$out"
# The macros describe each query online and write its data to SQLX_OFFLINE_DIR; touching the crate makes them run.
touch backend/ledger/src/lib.rs
SQLX_OFFLINE=false DATABASE_URL="$server/$db" SQLX_OFFLINE_DIR="$out" cargo check --workspace --all-targets --quiet
echo "backend/ledger/.sqlx: $(find "$out" -name 'query-*.json' | wc -l) queries"
