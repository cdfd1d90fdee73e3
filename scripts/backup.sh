#!/usr/bin/env bash
# Backs up what the system cannot rebuild from the chain alone, online (the services keep running):
#   * the ledger (Postgres): `pg_dump --format=custom` — a consistent snapshot of one transaction: every user, reward,
#     batch, signed payload, audit row and admin action (the chain holds the payments, not who is frozen, which
#     batch was signed with which nonce, or what an admin decided);
#   * the signer's double-sign store (SQLite): `signer-store backup`, SQLite's online backup — the record of every
#     nonce the signer signed, which is what stops it from signing a second payload on a used nonce.
# Writes them, with a manifest (when, from where, sizes, sha256 sums), into a new directory OUT.
#
#   scripts/backup.sh --database-url postgres://… --signer-store /var/lib/signer/signer.sqlite --out /backups/2026-11-26T10
#
# Schedule and keep it as ops/backups.md says (e.g. hourly, the last 48 kept, one a day for 30 days, copies off the
# machine, encrypted); restore with scripts/restore.sh.
set -euo pipefail
# What is written is the ledger and the signer's record: readable by its owner only.
umask 077
# Paths given relative are the caller's, not the checkout's this script works in.
here=$PWD
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$here/$1" ;; esac; }
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/referral-target}"

db_url=
store=
out=
while [ $# -gt 0 ]; do
  case "$1" in
    --database-url) db_url=$2; shift 2 ;;
    --signer-store) store=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 --database-url URL --signer-store PATH --out DIR" >&2; exit 2 ;;
  esac
done
[ -n "$db_url" ] && [ -n "$store" ] && [ -n "$out" ] || { echo "usage: $0 --database-url URL --signer-store PATH --out DIR" >&2; exit 2; }
store=$(absolute "$store"); out=$(absolute "$out")
[ ! -e "$out" ] || { echo "backup: $out exists: back up into a new directory" >&2; exit 1; }
mkdir -p "$out"

signer_store=${SIGNER_STORE_BIN:-}
if [ -z "$signer_store" ]; then
  cargo build --quiet -p signer --bin signer-store
  signer_store=$CARGO_TARGET_DIR/debug/signer-store
fi

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# The ledger first: what the signer signed after this snapshot is then also in its (later) backup, never the reverse.
pg_dump --format=custom --no-owner --no-privileges --file "$out/ledger.dump" "$db_url"
"$signer_store" backup --store "$store" --to "$out/signer.sqlite" >/dev/null

{
  echo "started: $started"
  echo "finished: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "database: ${db_url%%\?*}" | sed -E 's#://[^@/]*@#://***@#'
  echo "signer_store: $store"
  echo "ledger_events: $(psql -Atq "$db_url" -c "SELECT count(*) FROM chain_events")"
  echo "signed_payloads: $("$signer_store" verify --store "$out/signer.sqlite" | sed -E 's/.* ([0-9]+) signed payloads.*/\1/')"
  (cd "$out" && sha256sum ledger.dump signer.sqlite)
} > "$out/manifest.txt"
echo "backup: $out"
cat "$out/manifest.txt"
