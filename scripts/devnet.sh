#!/usr/bin/env bash
# The whole system on this machine, with demo data (docs/devnet.md):
#   scripts/devnet.sh          start: set-up, build, anvil (BSC-like and TRON stand-in), deploy, signer, backend,
#                              listener, reconciler, demo users
#   scripts/devnet.sh stop     stop every devnet process (by its pid file)
#   scripts/devnet.sh status   what runs, and where
#   scripts/devnet.sh build    only build its binaries (a start with DEVNET_PREBUILT=1 then skips the build)
# Idempotent: while the devnet runs, `start` only reports it; after a stop (or a crash of any part) it starts a
# fresh one (new chain, new database `referral_devnet`, new signer store). State, configs and logs: .devnet/
# (DEVNET_STATE names another directory: with DEVNET_DB_NAME and free ports, a second devnet beside a running one;
# DEVNET_DEMO=0 starts it without the demo).
# Development only: the signer's key is anvil's well-known key #1, held in a SoftHSM2 token of the devnet's own and
# signed with over PKCS#11, as a production signer signs in its HSM.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE=${DEVNET_STATE:-$ROOT/.devnet}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/referral-target}"
BIN=$CARGO_TARGET_DIR/debug
PG=postgres://postgres@127.0.0.1:5432
# DEVNET_DB_NAME runs a second devnet beside one that is up (its own database and Redis key prefix).
DB_NAME=${DEVNET_DB_NAME:-referral_devnet}
SERVICES=(anvil anvil-tron tron-devnode wc-relay signer backend notifier webhook-sink listener reconciler prometheus)
# anvil's well-known accounts (public knowledge, never for a real chain): #0 is the contract admin, payout
# operator, API admin and genesis user; #1 is the signer's key.
ANVIL_KEY_0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
ANVIL_KEY_1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
# The TRON chain: an anvil with Nile's chain id (and a zero base fee: energy is charged by the TRON node), so the
# backend treats its asset as TRON's (T… addresses, TronLink calls, TRON sign-in). No java-tron runs here:
# tron-devnode serves TRON's gRPC API over it (strict broadcast; the contracts are created through it, and the
# backend sends TRON payouts through it with tronic), its HTTP API for TronWeb, and TRON's JSON-RPC (a full and a
# Solidity port: solidified = head - 19, no historical state, java-tron's refusals), where the listener and the
# reconciler read the TRON chain in their TRON modes.
TRON_CHAIN_ID=3448148188

log() { printf '\033[1;35m[devnet]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[devnet]\033[0m %s\n' "$*" >&2; exit 1; }

pid_of() { cat "$STATE/run/$1.pid" 2>/dev/null || true; }
# Running, not a zombie, and still our binary (a pid file must never make us signal a reused pid).
alive() {
  local pid
  pid=$(pid_of "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  case "$(ps -o stat= -p "$pid" 2>/dev/null)" in Z* | "") return 1 ;; esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(cmdline_mark "$1")"
}
# What a service's command line contains: its name, or for the TRON stand-in's anvil its chain id.
cmdline_mark() { if [ "$1" = anvil-tron ]; then echo "--chain-id $TRON_CHAIN_ID"; else echo "$1"; fi; }
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# port_bound PORT: some socket of this machine has PORT as its own (local) port, in any state — a listener, or the
# local end of a connection: a client's ephemeral port (32768–60999) is as much in the way of a listener's bind as
# another listener, yet answers no connect. A second devnet took 50052, free to port_taken, while a connection of the
# first held it as its local port; its tron-devnode died with EADDRINUSE.
port_bound() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v hex="$hex" 'FNR > 1 { split($2, a, ":"); if (a[2] == hex) { found = 1; exit } } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

stop_all() {
  local i name pid
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    name=${SERVICES[$i]}
    pid=$(pid_of "$name")
    if alive "$name"; then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do alive "$name" || break; sleep 0.2; done
      alive "$name" && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/run/$name.pid"
  done
}

# pick_port VAR PORT: sets VAR to PORT, or the next port after it that is free and not picked for another part of this
# devnet already (a second devnet beside a first one finds, say, 8592 free for both its WalletConnect relay and its
# webhook sink: the second to start would die with EADDRINUSE).
PICKED_PORTS=" "
pick_port() {
  local var=$1 port=$2
  for _ in $(seq 1 100); do
    if [[ "$PICKED_PORTS" != *" $port "* ]] && ! port_taken "$port" && ! port_bound "$port"; then
      PICKED_PORTS+="$port "
      printf -v "$var" '%s' "$port"
      return
    fi
    port=$((port + 1))
  done
  die "no free port in $2..$port"
}

# start NAME COMMAND…: in the background, stdout+stderr to .devnet/logs/NAME.log, pid to .devnet/run/NAME.pid.
start() {
  local name=$1 pid
  shift
  nohup "$@" >"$STATE/logs/$name.log" 2>&1 &
  pid=$!
  echo "$pid" >"$STATE/run/$name.pid"
  # alive() knows a service by its command line, which is the forking shell's until the child has exec'd: wait for
  # it (bounded), or a first health check that comes too soon takes a starting service for a dead one.
  for _ in $(seq 1 50); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(cmdline_mark "$name")" && return 0
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
}

# wait_until NAME SECONDS COMMAND…: until COMMAND succeeds; fails clearly (with the log's tail) otherwise.
wait_until() {
  local name=$1 limit=$2
  shift 2
  for _ in $(seq 1 $((limit * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    alive "$name" || { tail -n 20 "$STATE/logs/$name.log" >&2 || true; die "$name exited; log: $STATE/logs/$name.log"; }
    sleep 0.2
  done
  tail -n 20 "$STATE/logs/$name.log" >&2 || true
  die "$name did not come up within ${limit}s; log: $STATE/logs/$name.log"
}

rpc_answers() { curl -sf -X POST -H 'content-type: application/json' \
  --data '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' "$1"; }
json_field() { node -p "require('$1').$2"; }

# check_record RECORD DEPLOYED RPC: the deployment record the dApp is built with (deployments/*.json, embedded by
# backend/web/vite.config.ts: the members' verifier reads the proof of solvency and the pending changes at its
# contract) names what this start deployed: the same deployer and order give the same addresses on a fresh chain.
# Fails loudly otherwise (the dApp would read another contract than the devnet's), naming what differs.
check_record() {
  node - "$1" "$2" "$3" <<'JS' || die "$1 does not name what the devnet deployed (above): the dApp's build would read another contract. Update the record (deployments/README.md) or restore the deployment's order"
const [recordFile, deployedFile, rpc] = process.argv.slice(2);
const fs = require("fs");
const record = JSON.parse(fs.readFileSync(recordFile, "utf8"));
const deployed = JSON.parse(fs.readFileSync(deployedFile, "utf8"));
const same = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();
const diff = [];
for (const key of ["chain_id", "settlement", "usdt", "admin", "signer"])
  if (!same(record[key], deployed[key])) diff.push(`${key}: the record says ${record[key]}, the devnet deployed ${deployed[key]}`);
// The further assets a record names (the exit page's buttons) are tokens this start deployed: GUSDT, BUSDT.
const deployedTokens = [deployed.generation_token, deployed.binary_token, ...(deployed.spare_tokens ?? [])].filter(Boolean);
for (const [i, a] of (record.assets ?? []).entries())
  if (!deployedTokens.some((t) => same(t, a.token))) diff.push(`assets[${i}] (${a.symbol}): the record says ${a.token}, which this devnet did not deploy`);
for (const [key, symbol] of [["generation_token", "GUSDT"], ["binary_token", "BUSDT"]])
  if (deployed[key] && !(record.assets ?? []).some((a) => same(a.token, deployed[key]) && a.symbol === symbol))
    diff.push(`assets: the record does not name ${symbol} at ${deployed[key]}, which this devnet deployed (the exit page offers the record's assets)`);
if ((record.settlement_base58 ?? null) !== (deployed.settlement_base58 ?? null))
  diff.push(`settlement_base58: the record says ${record.settlement_base58}, the devnet deployed ${deployed.settlement_base58}`);
const call = async (data) => {
  const r = await fetch(rpc, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [{ to: deployed.settlement, data }, "latest"] }) });
  return BigInt((await r.json()).result ?? "0x0");
};
(async () => {
  // The bounds fixed at deployment, as the contract reports them: changeDelay(), maxAsOfLag().
  for (const [key, selector, name] of [["delay_secs", "0xc55e4af8", "changeDelay"], ["max_as_of_lag", "0x67a6ee42", "maxAsOfLag"]]) {
    const value = await call(selector);
    if (value !== BigInt(record.bounds[key])) diff.push(`bounds.${key}: the record says ${record.bounds[key]}, the contract's ${name}() is ${value}`);
  }
  if (diff.length) {
    for (const d of diff) console.error(`  ${d}`);
    process.exit(1);
  }
})();
JS
}

summary() {
  # shellcheck disable=SC1091
  . "$STATE/ports.env"
  local api="http://127.0.0.1:$API_PORT"
  cat <<EOF

  dApp       http://localhost:$API_PORT/       (admin console: http://localhost:$API_PORT/admin; use localhost, the sign-in domain)
  API        $api            (health: $api/health)
  docs       $api/docs       (OpenAPI: $api/api-docs/openapi.json)
  anvil RPC  http://127.0.0.1:$ANVIL_PORT  (chain 31337)
  TRON chain http://127.0.0.1:$TRON_ANVIL_PORT  (anvil with Nile's chain id $TRON_CHAIN_ID; asset 3 = USDT there)
             the TRON test node (tron-devnode), over it:
             TRON gRPC: full node http://127.0.0.1:$TRON_GRPC_PORT, Solidity node http://127.0.0.1:$TRON_SOLIDITY_GRPC_PORT
             (contracts created and TRON payouts sent through it, with tronic)
             HTTP API for TronWeb: http://127.0.0.1:$TRON_HTTP_PORT (fullHost)
             TRON JSON-RPC: full node http://127.0.0.1:$TRON_FULL_PORT, Solidity node http://127.0.0.1:$TRON_SOLIDITY_PORT
             (solidified = head - 19; the listener and reconciler read it there)
             Settlement $(json_field "$STATE/tron-chain.json" settlement_base58), test USDT $(json_field "$STATE/tron-chain.json" usdt_base58)
  signer     http://127.0.0.1:$SIGNER_PORT  (key in SoftHSM2, $STATE/softhsm: anvil account #1, $(json_field "$STATE/chain.json" signer))
  contracts  Settlement $(json_field "$STATE/chain.json" settlement), test USDT $(json_field "$STATE/chain.json" usdt),
             GUSDT (generation plan, asset 4) $(json_field "$STATE/chain.json" generation_token),
             BUSDT (binary plan, asset 5) $(json_field "$STATE/chain.json" binary_token)
  admin      $(json_field "$STATE/chain.json" admin)  (anvil account #0: contract admin/operator, API admin, genesis)
             sign in with its key: $ANVIL_KEY_0
  database   $PG/$DB_NAME
  WalletConnect relay stand-in ws://127.0.0.1:$WC_RELAY_PORT  (project id "devnet"; the dApp offers WalletConnect)
  metrics    API http://127.0.0.1:$API_METRICS_PORT/metrics, signer http://127.0.0.1:$SIGNER_PORT/metrics,
             listener http://127.0.0.1:$LISTENER_METRICS_PORT/metrics, reconciler http://127.0.0.1:$RECONCILER_METRICS_PORT/metrics,
             notifier http://127.0.0.1:${NOTIFIER_METRICS_PORT:-9104}/metrics
  mail       smtp://127.0.0.1:${REFERRAL_SMTP_PORT:-2525} (scripts/mail.sh: Postfix on loopback), every message in
             /var/lib/referral-mail/boxes/<address>/new (members' e-mails: confirm, notifications)
  webhooks   the devnet's own endpoint http://127.0.0.1:${WEBHOOK_SINK_PORT:-8591}/hook (counts: /summary; log: $STATE/webhooks.jsonl;
             secret: $STATE/secrets/webhook-secret); account 2's e-mail is account2@devnet.example
  prometheus http://127.0.0.1:$PROMETHEUS_PORT  (alerts: /alerts; rules ops/prometheus/rules, runbooks ops/runbooks;
             Grafana is in no package registry here: run one with ops/grafana/provisioning, see ops/README.md)
  logs       $STATE/logs/{anvil,anvil-tron,tron-devnode,wc-relay,signer,backend,notifier,listener,reconciler,prometheus}.log
  configs    $STATE/{chains,signer,backend,listener,reconciler}.toml  (chains.toml: the chain spec all three read)
  stop       scripts/devnet.sh stop

EOF
}

status() {
  local name down=0
  for name in "${SERVICES[@]}"; do
    if alive "$name"; then log "$name: running (pid $(pid_of "$name"))"; else log "$name: not running"; down=1; fi
  done
  [ "$down" = 0 ] && [ -f "$STATE/ports.env" ] && summary
  return "$down"
}

all_up() {
  local name
  for name in "${SERVICES[@]}"; do alive "$name" || return 1; done
  [ -f "$STATE/ready" ]
}

# Every demo user's proof of solvency, downloaded from the API and verified by the auditors' command line against the
# chain's own commitment (anvil's RPC; on the TRON stand-in its Solidity node's JSON-RPC), at the contract and with the
# maximum age of the deployment's record (deployments/devnet-*.json), as an auditor is given them.
verify_proofs() {
  all_up || die "the devnet is not running"
  # shellcheck disable=SC1091
  . "$STATE/ports.env"
  local api="http://127.0.0.1:$API_PORT" dir="$STATE/proofs" failed=0 file rpc record
  rm -rf "$dir" && mkdir -p "$dir"
  "$BIN/devnet-demo" solvency-proofs "$api" "$STATE/chain.json" "$STATE/tron-chain.json" "$dir"
  for file in "$dir"/*.json; do
    case "$file" in
      *-tron-*) rpc="http://127.0.0.1:$TRON_SOLIDITY_PORT" record=deployments/devnet-tron.json ;;
      *) rpc="http://127.0.0.1:$ANVIL_PORT" record=deployments/devnet-anvil.json ;;
    esac
    if "$BIN/solvency-verify" "$file" --rpc "$rpc" --contract "$(json_field "$ROOT/$record" settlement)" \
      --max-age-blocks "$(json_field "$ROOT/$record" proof_max_age_blocks)" >"${file%.json}.verdict"; then
      log "$(basename "$file"): $(tail -n1 "${file%.json}.verdict")"
    else
      log "$(basename "$file"): $(tail -n1 "${file%.json}.verdict")"; failed=1
    fi
  done
  return "$failed"
}

build_all() {
  log "building signer, backend, listener, reconciler, devnet tools (debug)"
  # Whole-workspace feature set, as the end-to-end tests build these binaries: the two share compiled artifacts.
  cargo build --quiet --bin signer --bin backend --bin listener --bin reconciler --bin devnet-deploy --bin devnet-demo \
    --bin tron-devnode --bin solvency-verify --bin referral-asset --bin referral-notifier
}

# The listener started again as the devnet starts it (after the exit drill stopped it: the operator comes back).
start_listener_again() {
  [ -f "$STATE/listener.toml" ] || die "no devnet here (start one first)"
  alive listener && { log "the listener is running"; return 0; }
  start listener env RUST_LOG="${RUST_LOG:-info}" "$BIN/listener" "$STATE/listener.toml"
  sleep 1
  alive listener || die "listener exited; log: $STATE/logs/listener.log"
  log "listener started again"
}

case "${1:-start}" in
  build) build_all; exit 0 ;;
  listener) start_listener_again; exit 0 ;;
  stop) stop_all; rm -f "$STATE/ready"; log "stopped"; exit 0 ;;
  status) status; exit $? ;;
  verify-proofs) verify_proofs; exit $? ;;
  start) ;;
  *) die "usage: scripts/devnet.sh [start|stop|status|verify-proofs|build|listener]" ;;
esac

if all_up; then
  log "already running (scripts/devnet.sh stop, then start again for a fresh one)"
  summary
  exit 0
fi
# A partial devnet (a part crashed, or a start was interrupted): begin again from nothing.
stop_all
rm -rf "$STATE/run" "$STATE/logs" "$STATE/prometheus" "$STATE/webhooks.jsonl" "$STATE/signer.sqlite" "$STATE/signer.sqlite-wal" "$STATE/signer.sqlite-shm" \
  "$STATE/softhsm" "$STATE/secrets/dev-key" "$STATE/ready"
mkdir -p "$STATE/run" "$STATE/logs" "$STATE/secrets"
chmod 700 "$STATE/secrets"

log "set-up (idempotent)"
scripts/setup.sh
command -v prometheus >/dev/null || scripts/ops-test.sh --install-only

# DEVNET_PREBUILT=1: the caller has just run `scripts/devnet.sh build` (scripts/test.sh, whose Rust tests hold cargo's
# build lock while this starts).
[ "${DEVNET_PREBUILT:-0}" = 1 ] || build_all

pick_port ANVIL_PORT "${DEVNET_ANVIL_PORT:-8545}"
pick_port TRON_ANVIL_PORT "${DEVNET_TRON_ANVIL_PORT:-$((ANVIL_PORT + 1))}"
pick_port TRON_FULL_PORT "${DEVNET_TRON_FULL_PORT:-8555}"
pick_port TRON_SOLIDITY_PORT "${DEVNET_TRON_SOLIDITY_PORT:-$((TRON_FULL_PORT + 1))}"
pick_port TRON_GRPC_PORT "${DEVNET_TRON_GRPC_PORT:-50051}"
pick_port TRON_SOLIDITY_GRPC_PORT "${DEVNET_TRON_SOLIDITY_GRPC_PORT:-$((TRON_GRPC_PORT + 10))}"
pick_port TRON_HTTP_PORT "${DEVNET_TRON_HTTP_PORT:-8090}"
pick_port SIGNER_PORT "${DEVNET_SIGNER_PORT:-8700}"
pick_port API_PORT "${DEVNET_API_PORT:-8000}"
pick_port API_METRICS_PORT "${DEVNET_API_METRICS_PORT:-9101}"
pick_port LISTENER_METRICS_PORT "${DEVNET_LISTENER_METRICS_PORT:-$((API_METRICS_PORT + 1))}"
pick_port RECONCILER_METRICS_PORT "${DEVNET_RECONCILER_METRICS_PORT:-$((LISTENER_METRICS_PORT + 1))}"
pick_port PROMETHEUS_PORT "${DEVNET_PROMETHEUS_PORT:-9090}"
pick_port WC_RELAY_PORT "${DEVNET_WC_RELAY_PORT:-8590}"
pick_port NOTIFIER_METRICS_PORT "${DEVNET_NOTIFIER_METRICS_PORT:-$((RECONCILER_METRICS_PORT + 1))}"
pick_port WEBHOOK_SINK_PORT "${DEVNET_WEBHOOK_SINK_PORT:-8591}"
printf 'ANVIL_PORT=%s\nTRON_ANVIL_PORT=%s\nTRON_FULL_PORT=%s\nTRON_SOLIDITY_PORT=%s\nTRON_GRPC_PORT=%s\nTRON_SOLIDITY_GRPC_PORT=%s\nTRON_HTTP_PORT=%s\nSIGNER_PORT=%s\nAPI_PORT=%s\nAPI_METRICS_PORT=%s\nLISTENER_METRICS_PORT=%s\nRECONCILER_METRICS_PORT=%s\nPROMETHEUS_PORT=%s\nWC_RELAY_PORT=%s\nNOTIFIER_METRICS_PORT=%s\nWEBHOOK_SINK_PORT=%s\n' \
  "$ANVIL_PORT" "$TRON_ANVIL_PORT" "$TRON_FULL_PORT" "$TRON_SOLIDITY_PORT" "$TRON_GRPC_PORT" "$TRON_SOLIDITY_GRPC_PORT" "$TRON_HTTP_PORT" "$SIGNER_PORT" "$API_PORT" "$API_METRICS_PORT" "$LISTENER_METRICS_PORT" "$RECONCILER_METRICS_PORT" \
  "$PROMETHEUS_PORT" "$WC_RELAY_PORT" "$NOTIFIER_METRICS_PORT" "$WEBHOOK_SINK_PORT" >"$STATE/ports.env"
RPC=http://127.0.0.1:$ANVIL_PORT
TRON_RPC=http://127.0.0.1:$TRON_ANVIL_PORT
TRON_SOLIDITY_RPC=http://127.0.0.1:$TRON_SOLIDITY_PORT
API=http://127.0.0.1:$API_PORT

log "anvil on $RPC (transactions mined at once, and a block every second)"
start anvil node_modules/.bin/anvil --host 127.0.0.1 --port "$ANVIL_PORT" --chain-id 31337 --block-time 1 --mixed-mining
wait_until anvil 30 rpc_answers "$RPC"
log "TRON stand-in: anvil on $TRON_RPC with Nile's chain id $TRON_CHAIN_ID"
start anvil-tron node_modules/.bin/anvil --host 127.0.0.1 --port "$TRON_ANVIL_PORT" --chain-id "$TRON_CHAIN_ID" \
  --block-time 1 --mixed-mining --base-fee 0
wait_until anvil-tron 30 rpc_answers "$TRON_RPC"
TRON_GRPC=http://127.0.0.1:$TRON_GRPC_PORT
TRON_SOLIDITY_GRPC=http://127.0.0.1:$TRON_SOLIDITY_GRPC_PORT
log "TRON node (tron-devnode): gRPC $TRON_GRPC, Solidity gRPC $TRON_SOLIDITY_GRPC, HTTP http://127.0.0.1:$TRON_HTTP_PORT,"
log "  JSON-RPC full node http://127.0.0.1:$TRON_FULL_PORT, Solidity node $TRON_SOLIDITY_RPC"
start tron-devnode "$BIN/tron-devnode" "$TRON_RPC" "$TRON_GRPC_PORT" "$TRON_SOLIDITY_GRPC_PORT" "$TRON_HTTP_PORT" \
  "$TRON_FULL_PORT" "$TRON_SOLIDITY_PORT"
wait_until tron-devnode 30 port_taken "$TRON_SOLIDITY_GRPC_PORT"
# WalletConnect's relay cannot be reached from here: a stand-in speaking its relay protocol on loopback, so the dApp
# offers WalletConnect on the devnet and a wallet (the browser tests' Node wallet) can pair through it.
start wc-relay node backend/web/scripts/wc-relay.mjs --port "$WC_RELAY_PORT"
wait_until wc-relay 30 port_taken "$WC_RELAY_PORT"
wait_until tron-devnode 30 rpc_answers "$TRON_SOLIDITY_RPC"

log "database $DB_NAME (fresh)"
psql -q -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
DB_URL=$PG/$DB_NAME

log "deploying test USDT + Settlement"
"$BIN/devnet-deploy" "$RPC" "$STATE/chain.json" >/dev/null
check_record deployments/devnet-anvil.json "$STATE/chain.json" "$RPC"
SETTLEMENT=$(json_field "$STATE/chain.json" settlement)
USDT=$(json_field "$STATE/chain.json" usdt)
GUSDT=$(json_field "$STATE/chain.json" generation_token)
BUSDT=$(json_field "$STATE/chain.json" binary_token)
ADMIN=$(json_field "$STATE/chain.json" admin)
# The devnet's staff wallets: anvil mnemonic accounts 10 (finance), 11 and 12 (approvers), well-known test wallets.
STAFF_FINANCE=0xBcd4042DE499D14e55001CcbB24a551F3b954096
STAFF_APPROVER=0x71bE63f3384f5fb98995898A86B02Fb2426c5788
STAFF_APPROVER_2=0xFABB0ac9d68B0B445fB7357272Ff202C5651694a
START_BLOCK=$(json_field "$STATE/chain.json" deploy_block)
log "deploying test USDT + Settlement on the TRON chain the TRON way (CreateSmartContract through tron-devnode)"
"$BIN/devnet-deploy" "$TRON_RPC" "$STATE/tron-chain.json" --tron-grpc "$TRON_GRPC" >/dev/null
check_record deployments/devnet-tron.json "$STATE/tron-chain.json" "$TRON_RPC"
TRON_SETTLEMENT=$(json_field "$STATE/tron-chain.json" settlement)
TRON_USDT=$(json_field "$STATE/tron-chain.json" usdt)
TRON_START_BLOCK=$(json_field "$STATE/tron-chain.json" deploy_block)
TRON_ADMIN=$(json_field "$STATE/tron-chain.json" admin)

# Secrets live in files the configs name (never in the configs themselves).
secret() { [ -s "$STATE/secrets/$1" ] || od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$STATE/secrets/$1"; }
secret caller-backend
secret jwt
secret solvency-key
secret notify-key
secret hsm-pin
secret hsm-so-pin
# The signer's key in a SoftHSM2 token of this devnet's own (Debian's softhsm2, installed by scripts/setup.sh; its
# tokens in $STATE/softhsm, never the system's token directory), signed with over PKCS#11 as in production. The key is
# anvil's key #1 — the devnet's deployment records (deployments/devnet-*.json) and the browser tests name it as both
# contracts' signer — imported into the token sensitive and not extractable; a production key is made in the HSM by
# the key ceremony instead (`signer hsm-keygen`, docs/going-live.md).
SOFTHSM_MODULE=
for module in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
  [ -f "$module" ] && SOFTHSM_MODULE=$module && break
done
[ -n "$SOFTHSM_MODULE" ] || die "SoftHSM2's PKCS#11 library is missing (scripts/setup.sh installs Debian's softhsm2)"
SOFTHSM_CONF=$STATE/softhsm/softhsm2.conf
mkdir -p "$STATE/softhsm/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
  "$STATE/softhsm/tokens" >"$SOFTHSM_CONF"
SOFTHSM2_CONF=$SOFTHSM_CONF softhsm2-util --init-token --free --label devnet-signer \
  --pin "$(cat "$STATE/secrets/hsm-pin")" --so-pin "$(cat "$STATE/secrets/hsm-so-pin")" >/dev/null
# anvil's key #1 as PKCS#8 (SEC1 ECPrivateKey on secp256k1, converted by openssl), only as long as the import takes.
key_pem=$(mktemp)
node -e "process.stdout.write(Buffer.from('302e0201010420' + process.argv[1].slice(2) + 'a00706052b8104000a', 'hex'))" \
  "$ANVIL_KEY_1" | openssl ec -inform DER -outform PEM 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$key_pem"
SOFTHSM2_CONF=$SOFTHSM_CONF softhsm2-util --import "$key_pem" --token devnet-signer --label devnet-signer --id 01 \
  --pin "$(cat "$STATE/secrets/hsm-pin")" >/dev/null
rm -f "$key_pem"
# The chain spec: the one declaration of both chains, read by the backend, the listener and the reconciler. The
# TRON chain is read as TRON's: blocks final once solidified (19 deep), custody and the listener's head through the
# Solidity node's JSON-RPC, payouts through the node's gRPC API.
cat >"$STATE/chains.toml" <<EOF
# Written by scripts/devnet.sh: the chain spec (see chains.example.toml).
[[chains]]
chain_id = 31337
settlement = "$SETTLEMENT"
rpc_url = "$RPC"
confirmations = 2
start_block = $START_BLOCK

[[chains]]
chain_id = $TRON_CHAIN_ID
settlement = "$TRON_SETTLEMENT"
rpc_url = "http://127.0.0.1:$TRON_FULL_PORT"
confirmations = 0
start_block = $TRON_START_BLOCK
development = true   # the TRON stand-in has Nile's id: anvil's well-known keys allowed here (never on a mainnet)
[chains.tron]
grpc_url = "$TRON_GRPC"
solidity_grpc_url = "$TRON_SOLIDITY_GRPC"
solidity_rpc_url = "$TRON_SOLIDITY_RPC"
finality = "solidity_latest"
EOF
# The backend's chain tuning carries the operator key (anvil account #0, which holds OPERATOR_ROLE here), so it
# comes through the environment (APP_CHAINS), never the config file. The anvil chain's public RPC is what the
# pages hand a wallet that does not know chain 31337 (wallet_addEthereumChain); no explorer on the devnet.
cat >"$STATE/secrets/backend-chains" <<EOF
[{ chain_id = 31337, operator_key = "$ANVIL_KEY_0", insecure_operator_key = true,
   public_rpc_url = "$RPC", native_currency = { name = "BNB", symbol = "BNB", decimals = 18 } },
 { chain_id = $TRON_CHAIN_ID, operator_key = "$ANVIL_KEY_0", insecure_operator_key = true }]
EOF
chmod 600 "$STATE/secrets/"*

cat >"$STATE/signer.toml" <<EOF
# Written by scripts/devnet.sh. Development only: anvil's key #1, held in the devnet's SoftHSM2 token (SOFTHSM2_CONF
# = $SOFTHSM_CONF in the signer's environment).
[server]
bind = "127.0.0.1:$SIGNER_PORT"

[store]
path = "$STATE/signer.sqlite"

[key.pkcs11]
module = "$SOFTHSM_MODULE"
token_label = "devnet-signer"
key_label = "devnet-signer"
address = "$(json_field "$STATE/chain.json" signer)"
pin = { file = "$STATE/secrets/hsm-pin" }

[auth]
window_secs = 30
callers = [{ id = "backend", secret = { file = "$STATE/secrets/caller-backend" } }]

[policy]
default_ttl_secs = 900
max_deadline_horizon_secs = 3600
max_batch_entries = 500

# Two people for every outflow (backend/STAFF.md §3): a payout batch, treasury transfer or refund is signed only with
# its proposer's wallet signature and enough approvers' (never the proposer's own), recovered here from the outflow's
# exact digest. The devnet's staff wallets are anvil mnemonic accounts (public test keys, \`devnet-demo staff\`
# grants their roles in the API): proposers the admin (account 0, who also acts as finance here) and finance
# (account 10); approvers accounts 11 and 12. A batch needs one approval, a treasury transfer two, a refund one, a
# forfeit (which a liability root may then fall by, backend/SOLVENCY.md §1) one.
[policy.approvals]
proposers = ["$ADMIN", "$STAFF_FINANCE"]
approvers = ["$STAFF_APPROVER", "$STAFF_APPROVER_2"]
payout_batch = 1
treasury_transfer = 2
refund = 1
forfeit = 1

[[policy.chains]]
chain_id = 31337
contracts = ["$SETTLEMENT"]
treasury_recipients = ["$ADMIN"]
# The signer's own node: it reads the head (roots as of 2-deep blocks at the latest), the chain's clock (deadlines)
# and the contract's state (refunds of payments made on chain only) itself.
node = { rpc_url = "$RPC", confirmations = 2 }

[[policy.chains.assets]] # native coin (18 decimals)
token = "0x0000000000000000000000000000000000000000"
per_payload_cap = "1000000000000000000000"      # 1 000
per_batch_cap = "50000000000000000000000"       # 50 000
daily_outflow_cap = "100000000000000000000000"  # 100 000
# A liability root falls below the latest committed one by what the chain paid members since (and the fees kept of
# it), and beyond that by at most this in 24 hours: auto-progression's company parts and forfeits (backend/SOLVENCY.md §1)
daily_root_fall_cap = "100000000000000000000"   # 100

[[policy.chains.assets]] # test USDT (6 decimals): small payout caps on purpose, so that the devnet shows rewards
token = "$USDT"                                  # paid in parts and the rolling daily cap reached
per_payload_cap = "1000000000"                   # 1 000 (payments, treasury transfers)
per_entry_cap = "10000000"                       # 10 per payout entry
per_batch_cap = "50000000000"                    # 50 000
daily_outflow_cap = "30000000"                   # 30 a day
daily_root_fall_cap = "10000000000"              # 10 000

[[policy.chains.assets]] # GUSDT (6 decimals), the generation plan's asset: packages up to 5 000
token = "$GUSDT"
per_payload_cap = "5000000000"                   # 5 000
per_batch_cap = "50000000000"                    # 50 000
daily_outflow_cap = "100000000000"               # 100 000 a day
withdrawal_fee_bps = 2000                        # the most a version of the plan may keep of an entry
daily_root_fall_cap = "10000000000"              # 10 000

[[policy.chains.assets]] # BUSDT (6 decimals), the binary plan's asset: packages up to 5 000
token = "$BUSDT"
per_payload_cap = "5000000000"                   # 5 000
per_batch_cap = "50000000000"                    # 50 000
daily_outflow_cap = "100000000000"               # 100 000 a day
withdrawal_fee_bps = 2000                        # the most a version of the plan may keep of an entry
daily_root_fall_cap = "10000000000"              # 10 000

[[policy.chains]] # the TRON stand-in (Nile's chain id)
chain_id = $TRON_CHAIN_ID
contracts = ["$TRON_SETTLEMENT"]
treasury_recipients = ["$ADMIN"]
# The signer's own node: the Solidity node's JSON-RPC, whose head is the solidified block.
node = { rpc_url = "$TRON_SOLIDITY_RPC", confirmations = 0 }

[[policy.chains.assets]] # test USDT (6 decimals)
token = "$TRON_USDT"
per_payload_cap = "1000000000"                   # 1 000
per_batch_cap = "50000000000"                    # 50 000
daily_outflow_cap = "100000000000"               # 100 000 a day
daily_root_fall_cap = "10000000000"              # 10 000
EOF

cat >"$STATE/backend.toml" <<EOF
# Written by scripts/devnet.sh; APP_SECTION__KEY variables override it (APP_CONFIG points here).
chain_spec = "chains.toml"

[application]
host = "127.0.0.1"
port = $API_PORT
metrics_address = "127.0.0.1:$API_METRICS_PORT"

[database]
url = "$DB_URL"
max_connections = 10

[redis]
url = "redis://127.0.0.1:6379"
key_prefix = "$DB_NAME"

[auth]
jwt_secret = "$(cat "$STATE/secrets/jwt")"
domain = "localhost:$API_PORT"
uri = "http://localhost:$API_PORT"
statement = "Sign in to the referral platform (devnet)."
evm_chain_id = 31337
tron_chain_id = $TRON_CHAIN_ID
nonce_ttl_secs = 300
access_ttl_secs = 900
refresh_ttl_secs = 2592000
admins = ["$ADMIN"]

[rate_limits]
window_secs = 60
signin_per_ip = 600
signin_per_wallet = 60
signing_per_wallet = 60

[signer]
url = "http://127.0.0.1:$SIGNER_PORT"
caller_id = "backend"
caller_secret = "$(cat "$STATE/secrets/caller-backend")"

# The payout cadence members are shown (their withdraw requests' expected batch): every Monday 00:00 UTC by the
# chain's clock. Staff still build the batches.
[payouts.schedule]
every_secs = 604800

# Who runs the service and on what terms, one click from every pay button: examples only; a real operator states its
# own (docs/going-live.md).
[operator]
name = "Referral Devnet (example operator)"
legal_name = "Example Rewards Ltd"
registration = "Example Companies Registry, no. 00000000 (an example)"
address = "1 Example Street, Example City, EX1 2MP (an example)"
contact_email = "support@example.com"
jurisdiction = "England and Wales (an example)"
terms_url = "/terms.html"

# Amounts in US dollars beside the assets, from the stand-in price feeds devnet-deploy put on chain 31337 (Chainlink's
# aggregator interface, 8 decimals): BNB for asset 1 and the anvil chain's network fees, USDT for the four USDT-like
# assets, TRX for the TRON chain's network fees. A real deployment names Chainlink's feeds on BSC.
[prices]
currency = "USD"
cache_secs = 5   # short, so that a test's stale feed shows within seconds (a real deployment keeps the default 30)

[[prices.feeds]]
chain_id = 31337
feed = "$(json_field "$STATE/chain.json" price_feeds.bnb_usd)"
assets = [1]
native_of = [31337]

[[prices.feeds]]
chain_id = 31337
feed = "$(json_field "$STATE/chain.json" price_feeds.usdt_usd)"
assets = [2, 3, 4, 5]

[[prices.feeds]]
chain_id = 31337
feed = "$(json_field "$STATE/chain.json" price_feeds.trx_usd)"
native_of = [$TRON_CHAIN_ID]

# The public proof of solvency (SOLVENCY.md): an epoch of every asset a minute (a block a second), sooner after a
# payout; the salts' key is a random secret of this devnet (secrets/solvency-key).
[solvency]
salt_key = "$(cat "$STATE/secrets/solvency-key")"
interval_secs = 5
idle_secs = 20

[[solvency.chains]]
chain_id = 31337
interval_blocks = 60
payout_gap_blocks = 5

[[solvency.chains]]
chain_id = $TRON_CHAIN_ID
interval_blocks = 60
payout_gap_blocks = 5

# WalletConnect through the devnet's relay stand-in (a real deployment names its project id; the relay defaults to
# WalletConnect's own).
[walletconnect]
project_id = "devnet"
relay_url = "ws://127.0.0.1:$WC_RELAY_PORT"

# Members' notifications (issue 49): e-mail through the local SMTP server (scripts/mail.sh: Postfix on loopback,
# every message into /var/lib/referral-mail/boxes/<address>/), webhooks to endpoints on loopback allowed (the
# devnet's own); the key sealing addresses and secrets is a random secret of this devnet (secrets/notify-key).
[notifications]
key = "$(cat "$STATE/secrets/notify-key")"
public_url = "http://localhost:$API_PORT"
interval_ms = 200

[notifications.smtp]
host = "127.0.0.1"
port = ${REFERRAL_SMTP_PORT:-2525}
tls = "none"
from = "Referral Devnet <notices@devnet.example>"

[notifications.webhooks]
allow_local = true

# The chains come from chains.toml; their tuning (the operator key) from APP_CHAINS: see secrets/backend-chains.
EOF
chmod 600 "$STATE/backend.toml"

# The assets, created as an operator creates them (docs/going-live.md): referral-asset reads each token's decimals
# and symbol, checks it is allowed on the chain's contract and the plan's parameters by the plan's rules, and audits
# the creation; the console's POST /v1/admin/assets takes the same path.
log "assets through referral-asset: 1 BNB, 2 USDT, 3 USDT on the TRON chain, 4 GUSDT (the generation plan), 5 BUSDT (the"
log "binary plan)"
asset() { APP_CONFIG="$STATE/backend.toml" "$BIN/referral-asset" create "$@" >>"$STATE/logs/assets.log"; }
asset --id 1 --chain-id 31337 --token native --genesis "$ADMIN" --plan auto_pool
asset --id 2 --chain-id 31337 --token "$USDT" --genesis "$ADMIN" --plan auto_pool
asset --id 3 --chain-id "$TRON_CHAIN_ID" --token "$TRON_USDT" --genesis "$TRON_ADMIN" --plan auto_pool
"$BIN/devnet-demo" generation-params "$STATE/chain.json" "$STATE/generation-params.json"
asset --id 4 --chain-id 31337 --token "$GUSDT" --symbol GUSDT --genesis "$ADMIN" --plan generation \
  --params "$STATE/generation-params.json"
"$BIN/devnet-demo" binary-params "$STATE/chain.json" "$STATE/binary-params.json"
asset --id 5 --chain-id 31337 --token "$BUSDT" --symbol BUSDT --genesis "$ADMIN" --plan binary \
  --params "$STATE/binary-params.json"

cat >"$STATE/listener.toml" <<EOF
# Written by scripts/devnet.sh.
database_url = "$DB_URL"
metrics_address = "127.0.0.1:$LISTENER_METRICS_PORT"
chain_spec = "chains.toml"   # both chains; the TRON one applied once solidified

[[chains]]
chain_id = 31337
poll_interval_ms = 500

[[chains]]
chain_id = $TRON_CHAIN_ID
poll_interval_ms = 500
EOF

cat >"$STATE/reconciler.toml" <<EOF
# Written by scripts/devnet.sh. No alert sinks on the devnet: results are stored (reconciler_results) and
# firing alerts are in reconciler_firing; add [[sinks]] (see reconciler/reconciler.example.toml) to page.
database_url = "$DB_URL"
interval_secs = 10
max_lag_blocks = 20
metrics_address = "127.0.0.1:$RECONCILER_METRICS_PORT"
runbook_base = "file://$ROOT/ops/runbooks"
chain_spec = "chains.toml"   # the TRON chain's custody is read at its Solidity node's latest (the solidified block)

# The proof of solvency: the chains' commitments checked at every run, 32 sampled users' proofs verified with the
# salts' key (the API's [solvency] salt_key).
solvency_salt_key = "$(cat "$STATE/secrets/solvency-key")"

[[chains]]
chain_id = 31337
operator = "$ADMIN"
solvency_interval_blocks = 60

[[chains]]
chain_id = $TRON_CHAIN_ID
operator = "$ADMIN"
native_decimals = 18 # the stand-in's native coin is anvil's (a real TRON chain: 6, TRX in SUN)
solvency_interval_blocks = 60
EOF
chmod 600 "$STATE/reconciler.toml"

log "signer on 127.0.0.1:$SIGNER_PORT (its key in the devnet's SoftHSM2 token, over PKCS#11)"
start signer env SOFTHSM2_CONF="$SOFTHSM_CONF" "$BIN/signer" --config "$STATE/signer.toml"
wait_until signer 30 curl -sf "http://127.0.0.1:$SIGNER_PORT/health"

log "backend API on $API"
start backend env APP_CONFIG="$STATE/backend.toml" APP_CHAINS="$(cat "$STATE/secrets/backend-chains")" "$BIN/backend"
wait_until backend 60 curl -sf "$API/health"

log "notifier: the outbox's e-mails (local SMTP, scripts/mail.sh) and webhooks"
scripts/mail.sh start >/dev/null
start notifier env APP_CONFIG="$STATE/backend.toml" NOTIFIER_METRICS_ADDRESS="127.0.0.1:$NOTIFIER_METRICS_PORT" \
  "$BIN/referral-notifier"

log "listener and reconciler"
start listener env RUST_LOG="${RUST_LOG:-info}" "$BIN/listener" "$STATE/listener.toml"
start reconciler env RUST_LOG="${RUST_LOG:-info}" "$BIN/reconciler" "$STATE/reconciler.toml"
sleep 1
alive listener || die "listener exited; log: $STATE/logs/listener.log"
alive reconciler || die "reconciler exited; log: $STATE/logs/reconciler.log"
alive notifier || die "notifier exited; log: $STATE/logs/notifier.log"

# DEVNET_DEMO=0: the system without its demo (no staff grants, users, payments or payouts): what a second devnet
# beside a first one needs to prove that both run (scripts/devnet-pair-test.sh).
if [ "${DEVNET_DEMO:-1}" = 1 ]; then
  log "staff: the admin (anvil 0, every role from the configuration) grants finance to anvil 10 and approver to anvils 11 and 12"
  "$BIN/devnet-demo" staff "$API" | tee "$STATE/demo.txt"
  log "notifications: the devnet's own webhook endpoint on 127.0.0.1:$WEBHOOK_SINK_PORT (every delivery checked with the"
  log "Standard Webhooks reference library) and account 2's e-mail, confirmed from its link, before it pays"
  start webhook-sink node scripts/devnet-notify.mjs webhook-sink "$WEBHOOK_SINK_PORT" "$STATE"
  wait_until webhook-sink 20 curl -sf "http://127.0.0.1:$WEBHOOK_SINK_PORT/summary"
  node scripts/devnet-notify.mjs setup "$API" "http://127.0.0.1:$WEBHOOK_SINK_PORT/hook" "$STATE" | tee -a "$STATE/demo.txt"
  log "demo users: sign in, ask for payloads, pay from their own wallets (BNB and test USDT), wait for the listener"
  "$BIN/devnet-demo" users "$API" "$RPC" "$STATE/chain.json" | tee -a "$STATE/demo.txt"
  log "demo TRON users: TRON sign-in, register (and retopup) payloads in USDT on the TRON chain, paid as TronLink users"
  log "do it: TronWeb builds approve + call through tron-devnode's HTTP API, signs and broadcasts them"
  "$BIN/devnet-demo" tron-users "$API" "http://127.0.0.1:$TRON_HTTP_PORT" "$STATE/tron-chain.json" | tee -a "$STATE/demo.txt"
  log "demo generation plan (asset 4, GUSDT): packages bought in rounds, one user at the cap, a week closed by moving"
  log "anvil's clock on to the week's end (minutes: the asset's weeks are set up so), and a rank bonus"
  "$BIN/devnet-demo" generation "$API" "$RPC" "$STATE/chain.json" | tee -a "$STATE/demo.txt"
  log "demo binary plan (asset 5, BUSDT): both legs of account 2 filled, the week closed by moving anvil's clock on"
  log "to its end (minutes: after the generation asset's), 10 pairs paid to account 2, the last 5 with 20 % reserved"
  "$BIN/devnet-demo" binary "$API" "$RPC" "$STATE/chain.json" | tee -a "$STATE/demo.txt"
  log "demo payouts through the API: the BNB rewards (alloy), the TRON USDT rewards (tronic, through tron-devnode) and"
  log "the GUSDT and BUSDT rewards less their 5 % withdrawal fee; the test USDT ones on chain 31337 stay pending to try"
  log "it yourself"
  "$BIN/devnet-demo" payout "$API" 1 | tee -a "$STATE/demo.txt"
  log "the TRON payout is made while the TRON chain's test USDT is paused (as Tether can pause USDT): every share is"
  log "deferred to a claim the members make from the dApp once it runs again"
  node scripts/devnet-notify.mjs tron-usdt "$TRON_RPC" "$STATE" pause | tee -a "$STATE/demo.txt"
  "$BIN/devnet-demo" payout "$API" 3 | tee -a "$STATE/demo.txt"
  node scripts/devnet-notify.mjs tron-usdt "$TRON_RPC" "$STATE" unpause | tee -a "$STATE/demo.txt"
  "$BIN/devnet-demo" payout "$API" 4 | tee -a "$STATE/demo.txt"
  "$BIN/devnet-demo" payout "$API" 5 | tee -a "$STATE/demo.txt"
  log "the binary asset reconciled: the reconciler, asked to run now, finds its custody and ledger agree"
  "$BIN/devnet-demo" reconciled "$API" "$STATE/chain.json" 5 | tee -a "$STATE/demo.txt"
  log "the remaining event types: account 3 frozen and unfrozen, a payload left unpaid past its deadline"
  node scripts/devnet-notify.mjs events "$API" "$RPC" | tee -a "$STATE/demo.txt"
  log "notifications delivered: account 2's registration and payout e-mails in its mailbox, every event type at the"
  log "devnet's endpoint, each verified by the reference library"
  node scripts/devnet-notify.mjs check "$API" "http://127.0.0.1:$WEBHOOK_SINK_PORT/hook" | tee -a "$STATE/demo.txt"

else
  log "no demo (DEVNET_DEMO=0)"
  start webhook-sink node scripts/devnet-notify.mjs webhook-sink "$WEBHOOK_SINK_PORT" "$STATE"
  wait_until webhook-sink 20 curl -sf "http://127.0.0.1:$WEBHOOK_SINK_PORT/summary"
fi

log "prometheus on 127.0.0.1:$PROMETHEUS_PORT: scrapes every service, evaluates ops/prometheus/rules"
mkdir -p "$STATE/prometheus"
ln -sfn "$ROOT/ops/prometheus/rules" "$STATE/prometheus/rules"
sed -e "s/__API_METRICS_PORT__/$API_METRICS_PORT/" -e "s/__SIGNER_PORT__/$SIGNER_PORT/" \
  -e "s/__LISTENER_METRICS_PORT__/$LISTENER_METRICS_PORT/" -e "s/__RECONCILER_METRICS_PORT__/$RECONCILER_METRICS_PORT/" \
  -e "s/__NOTIFIER_METRICS_PORT__/$NOTIFIER_METRICS_PORT/" \
  -e "s#__RUNBOOK_BASE__#file://$ROOT/ops/runbooks#" ops/prometheus/prometheus.yml >"$STATE/prometheus/prometheus.yml"
start prometheus prometheus --config.file="$STATE/prometheus/prometheus.yml" \
  --storage.tsdb.path="$STATE/prometheus/data" --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
wait_until prometheus 30 curl -sf "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"

touch "$STATE/ready"
log "devnet is up"
summary
