#!/usr/bin/env bash
# Two devnets side by side (issue 68, item 4): with the devnet of .devnet/ up (the test command's), a second one is
# started beside it — its own state directory, database and Redis prefix, no demo (DEVNET_DEMO=0), every port picked
# free — and both must run at once: every service of each alive, the 16 ports of each distinct from one another and
# from the other's, each API and each signer answering on its own port, each anvil a chain of its own. The second is
# stopped and its database dropped at the end, whatever happened. A port the second would pick is held first as the
# local end of a connection (a client's ephemeral port), which answers no connect yet blocks a bind: it must be passed by.
#   scripts/devnet-pair-test.sh     (the first devnet must be up: scripts/devnet.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/referral-target}"
PG=postgres://postgres@127.0.0.1:5432
FIRST=${DEVNET_STATE:-$PWD/.devnet}
SECOND=$(mktemp -d -t referral-devnet-pair.XXXXXX)
SECOND_DB=referral_devnet_pair_$$
passed=0
failed=0
ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$*" >&2; }
cleanup() {
  DEVNET_STATE=$SECOND scripts/devnet.sh stop >/dev/null 2>&1 || true
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $SECOND_DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$SECOND"
}
trap cleanup EXIT

DEVNET_STATE=$FIRST scripts/devnet.sh status >/dev/null 2>&1 || { echo "the first devnet ($FIRST) is not up" >&2; exit 1; }
port_of() { sed -n "s/^$2=//p" "$1/ports.env" 2>/dev/null; }

# A connection of the first devnet holds, as its local end, the port the second would pick for its TRON gRPC (the
# first free one after the first's, in the range clients' ephemeral ports come from): such a port answers no connect,
# yet no listener can bind it. The second devnet must pass it by, as it met one by chance in a CI run.
HELD_FILE=$(mktemp -t referral-devnet-pair-held.XXXXXX)
python3 - "$(port_of "$FIRST" TRON_GRPC_PORT)" "$(port_of "$FIRST" API_PORT)" "$HELD_FILE" <<'PY' &
import socket, sys, time
start, api, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for port in range(start + 1, start + 50):
    c = socket.socket()
    try:
        c.bind(("127.0.0.1", port))
        c.connect(("127.0.0.1", api))
    except OSError:
        c.close()
        continue
    open(out, "w").write(str(port))
    time.sleep(900)
    break
PY
HOLDER=$!
trap 'kill "$HOLDER" 2>/dev/null || true; rm -f "$HELD_FILE"; cleanup' EXIT
for _ in $(seq 1 50); do [ -s "$HELD_FILE" ] && break; sleep 0.1; done
HELD=$(cat "$HELD_FILE" 2>/dev/null || true)
echo "[devnet-pair] a second devnet in $SECOND (database $SECOND_DB), beside $FIRST"
if DEVNET_STATE=$SECOND DEVNET_DB_NAME=$SECOND_DB DEVNET_DEMO=0 DEVNET_PREBUILT=1 scripts/devnet.sh >"$SECOND.log" 2>&1; then
  ok "the second devnet started"
else
  tail -n 40 "$SECOND.log" >&2
  bad "the second devnet did not start (its log above)"
fi
rm -f "$SECOND.log"

for state in "$FIRST" "$SECOND"; do
  if DEVNET_STATE=$state scripts/devnet.sh status >/dev/null 2>&1; then
    ok "every service of $state runs"
  else
    DEVNET_STATE=$state scripts/devnet.sh status >&2 || true
    bad "a service of $state is not running"
  fi
done

# The ports each devnet picked: 16 each, 32 distinct in all.
ports() { [ -f "$1/ports.env" ] && cut -d= -f2 "$1/ports.env"; }
first_ports=$(ports "$FIRST" | sort -n)
second_ports=$(ports "$SECOND" | sort -n || true)
all=$(printf '%s\n%s\n' "$first_ports" "$second_ports" | grep -c . || true)
distinct=$(printf '%s\n%s\n' "$first_ports" "$second_ports" | grep . | sort -nu | wc -l)
if [ "$(echo "$first_ports" | grep -c .)" = 16 ] && [ "$all" = 32 ] && [ "$distinct" = 32 ]; then
  ok "32 ports, all distinct ($(echo "$second_ports" | tr '\n' ' '))"
else
  bad "ports: $all picked, $distinct distinct (first: $(echo "$first_ports" | tr '\n' ' '); second: $(echo "$second_ports" | tr '\n' ' '))"
fi

if [ -n "$HELD" ] && [ "$(port_of "$SECOND" TRON_GRPC_PORT)" != "$HELD" ] && ! grep -qx "$HELD" <(ports "$SECOND"); then
  ok "port $HELD, the local end of a connection, was passed by (TRON gRPC on $(port_of "$SECOND" TRON_GRPC_PORT))"
else
  bad "port ${HELD:-none} (held by a connection's local end) was picked, or no port could be held"
fi

# Each API and each signer answers on its own port; each anvil is a chain of its own (their first blocks differ).
first_block_hash() {
  curl -sf -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x1",false]}' "http://127.0.0.1:$1" |
    grep -o '"hash":"0x[0-9a-f]*"' | head -n 1
}
for state in "$FIRST" "$SECOND"; do
  for part in API_PORT:/health SIGNER_PORT:/health; do
    port=$(port_of "$state" "${part%%:*}")
    if [ -n "$port" ] && curl -sf "http://127.0.0.1:$port${part#*:}" >/dev/null; then
      ok "${part%%_PORT*} of $state answers on $port"
    else
      bad "${part%%_PORT*} of $state does not answer (port ${port:-none})"
    fi
  done
done
first_chain=$(first_block_hash "$(port_of "$FIRST" ANVIL_PORT)" || true)
second_chain=$(first_block_hash "$(port_of "$SECOND" ANVIL_PORT)" || true)
if [ -n "$first_chain" ] && [ -n "$second_chain" ] && [ "$first_chain" != "$second_chain" ]; then
  ok "each devnet has its own chain (block 1: $first_chain, $second_chain)"
else
  bad "the chains' first blocks: ${first_chain:-none} and ${second_chain:-none}"
fi

printf 'devnet-pair: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ]
