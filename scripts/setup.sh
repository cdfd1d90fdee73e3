#!/usr/bin/env bash
# One idempotent set-up for a fresh machine: pinned Foundry + solc + OpenZeppelin from the npm registry into
# ./node_modules (package-lock.json), the solc wrapper, the web front (backend/web, its own package-lock.json),
# running Postgres and Redis, the local SMTP server (Postfix, scripts/mail.sh) and SoftHSM2 (Debian packages).
# Needs only the package registries; safe to run again at any time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
need_apt=()
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
maybe_sudo() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# ── Node.js (runs the emscripten solc) ──────────────────────────────────────
command -v node >/dev/null && command -v npm >/dev/null || need_apt+=(nodejs npm)
command -v psql >/dev/null || need_apt+=(postgresql-client)
command -v pg_ctlcluster >/dev/null || need_apt+=(postgresql)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v redis-cli >/dev/null || need_apt+=(redis-tools)
command -v curl >/dev/null || need_apt+=(curl)
# SoftHSM2: a real PKCS#11 token the signer's key lives in on the devnet and in the signer's tests.
command -v softhsm2-util >/dev/null || need_apt+=(softhsm2)
command -v openssl >/dev/null || need_apt+=(openssl)
# Postfix: the local SMTP server of the devnet and the tests (scripts/mail.sh runs an instance of its own, every
# recipient into a Maildir). "No configuration" keeps the package from setting up a system MTA on port 25.
if ! command -v postfix >/dev/null; then
  echo "postfix postfix/main_mailer_type select No configuration" | maybe_sudo debconf-set-selections
  need_apt+=(postfix)
fi
[ -e /usr/lib/postfix/postfix-sqlite.so ] || need_apt+=(postfix-sqlite)
if [ "${#need_apt[@]}" -gt 0 ]; then apt_install "${need_apt[@]}"; fi

# ── Pinned toolchain from package-lock.json ─────────────────────────────────
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.setup-lock-sha256
if [ ! -x node_modules/.bin/forge ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
  log "npm ci (Foundry 1.7.1, solc, OpenZeppelin)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi
chmod +x scripts/solc

# ── Web front: backend/web → backend/web/dist (served by the backend) ────────
web=backend/web
web_lock=$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)
if [ ! -d "$web/node_modules" ] || [ "$(cat "$web/node_modules/.setup-lock-sha256" 2>/dev/null)" != "$web_lock" ]; then
  log "npm ci in $web (Vite, Preact, viem, playwright-core)"
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$web_lock" > "$web/node_modules/.setup-lock-sha256"
fi
# Built again only when a source is newer than the last build (the dApp's and the members' exit page's).
if [ ! -f "$web/dist/index.html" ] || [ ! -f "$web/dist/exit.html" ] || [ -n "$(find "$web/src" "$web"/*.html \
  "$web"/vite.*.ts "$web/package.json" "$web/package-lock.json" "$ROOT/deployments" -newer "$web/dist/index.html" \
  -print -quit)" ]; then
  log "building the web front ($web/dist)"
  (cd "$web" && npm run --silent build)
fi

# ── Postgres ────────────────────────────────────────────────────────────────
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
if ! pg_up; then
  cluster_version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  if [ -z "$cluster_version" ]; then
    log "creating a Postgres cluster"
    maybe_sudo pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -n1)" main
    cluster_version=$(ls /etc/postgresql | sort -V | tail -n1)
  fi
  log "starting Postgres $cluster_version"
  maybe_sudo pg_ctlcluster --skip-systemctl-redirect "$cluster_version" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "Postgres did not start" >&2; exit 1; }
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  # A fresh Debian cluster asks for passwords on loopback; development machines use trust on loopback only.
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -n1)
  log "allowing trust auth for user postgres on loopback in $hba (development machine)"
  maybe_sudo sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
  maybe_sudo pg_ctlcluster --skip-systemctl-redirect "$(basename "$(dirname "$(dirname "$hba")")")" main reload
  sleep 1
  psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null
fi

# ── Redis ───────────────────────────────────────────────────────────────────
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/referral.log
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
  redis-cli -h 127.0.0.1 ping >/dev/null
fi

# ── SMTP: our own Postfix instance (scripts/mail.sh) ────────────────────────
scripts/mail.sh start

# ── Report ──────────────────────────────────────────────────────────────────
log "versions:"
echo "  forge : $(node_modules/.bin/forge --version | head -n1)"
echo "  anvil : $(node_modules/.bin/anvil --version | head -n1)"
echo "  cast  : $(node_modules/.bin/cast --version | head -n1)"
echo "  solc  : $(scripts/solc --version | tail -n1)"
echo "  OZ    : $(node -p "require('$ROOT/node_modules/@openzeppelin/contracts/package.json').version")"
echo "  postgres: $(psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'show server_version')"
echo "  redis : $(redis-cli -h 127.0.0.1 info server | tr -d '\r' | grep '^redis_version' | cut -d: -f2)"
echo "  softhsm2: $(softhsm2-util --version)"
echo "  postfix: $(postconf -d -h mail_version); $(scripts/mail.sh status || true)"
echo "  cargo : $(cargo --version 2>/dev/null || echo 'not found: install the Rust toolchain')"
