#!/usr/bin/env bash
# Restores a backup made by scripts/backup.sh (ops/backups.md): the ledger into a NEW, empty database (never over a
# live one) and the signer's double-sign store (the signer stopped), after checking the manifest's sums.
#
#   scripts/restore.sh --from /backups/2026-11-26T10 --database-url postgres://…/referral_restored \
#     --signer-store /var/lib/signer/signer.sqlite [--force]
#
# Then start the signer, the API, the listener and the reconciler on them: the listener reads the chain on from the
# ledger's cursor, so every event after the backup is applied again exactly once (unique chain event keys); the
# signer still refuses every nonce the backup holds, and its register nonces move 65,536 on (a payload handed out
# after the backup is never handed out twice). --force replaces an existing signer store.
set -euo pipefail
# Paths given relative are the caller's, not the checkout's this script works in.
here=$PWD
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$here/$1" ;; esac; }
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/referral-target}"

from=
db_url=
store=
force=
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from=$2; shift 2 ;;
    --database-url) db_url=$2; shift 2 ;;
    --signer-store) store=$2; shift 2 ;;
    --force) force=--force; shift ;;
    *) echo "usage: $0 --from DIR --database-url URL --signer-store PATH [--force]" >&2; exit 2 ;;
  esac
done
[ -n "$from" ] && [ -n "$db_url" ] && [ -n "$store" ] || { echo "usage: $0 --from DIR --database-url URL --signer-store PATH [--force]" >&2; exit 2; }
from=$(absolute "$from"); store=$(absolute "$store")
(cd "$from" && grep -E '^[0-9a-f]{64}  ' manifest.txt | sha256sum --check --quiet) || { echo "restore: $from does not match its manifest" >&2; exit 1; }

signer_store=${SIGNER_STORE_BIN:-}
if [ -z "$signer_store" ]; then
  cargo build --quiet -p signer --bin signer-store
  signer_store=$CARGO_TARGET_DIR/debug/signer-store
fi

tables=$(psql -Atq "$db_url" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
[ "$tables" = 0 ] || { echo "restore: the database already has $tables tables: restore into a new, empty one" >&2; exit 1; }
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname "$db_url" "$from/ledger.dump"
"$signer_store" restore --from "$from/signer.sqlite" --store "$store" $force
echo "restore: the ledger has $(psql -Atq "$db_url" -c "SELECT count(*) FROM chain_events") chain events"
