#!/usr/bin/env bash
# The members' exit drill (issue 46, contracts/EXIT.md §7) on the devnet, on both chains, in Chromium:
# backend/web/tests/exit/exit-drill.test.mjs through scripts/web-test.sh. The devnet's members keep their proofs in the
# dApp, the operator's services are stopped (the API unreachable), the chains' clocks move past the exit period, an
# outside wallet opens the exits through the static exit page (dist/exit.html, from its file:// URL), the demo members
# claim through it during the claim window (EXIT.md §13), the clocks move past the window's end, the claims are paid
# out through it (the same share for every member) and the surplus goes back to the Settlement's admin.
#
# DESTRUCTIVE for the devnet: it stops the signer, backend, listener and reconciler and opens the exits of BNB and test
# USDT on anvil and of test USDT on the TRON stand-in for good. So it runs last (scripts/test.sh's final step), not
# among scripts/web-test.sh's default files, and afterwards starts a fresh devnet (scripts/devnet.sh stop &&
# scripts/devnet.sh) so that the next user finds one running — unless EXIT_DRILL_RESTART=0 (scripts/test.sh sets it
# when it will stop the devnet anyway). A devnet whose exits a previous drill opened is started afresh first. Ends
# with web-test.sh's line "N passed, N failed". Then the operator's listener starts again and the devnet's webhook
# endpoint must receive exit.opened, verified by the Standard Webhooks reference library (scripts/devnet-notify.mjs).
# DEVNET_STATE names the devnet to drill (scripts/devnet.sh's own variable: another devnet's state directory; it must be
# up): the test command drills the second devnet it starts for half the browser tests, which it throws away after.
#   scripts/exit-drill.sh
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${DEVNET_STATE:-$(pwd)/.devnet}
log() { printf '\033[1;33m[exit-drill]\033[0m %s\n' "$*"; }

fresh_devnet() {
  local out
  # Another devnet is started afresh only on its own database: without one it would take the first devnet's.
  if [ -n "${DEVNET_STATE:-}" ] && [ -z "${DEVNET_DB_NAME:-}" ]; then
    log "a fresh devnet in $DEVNET_STATE needs its DEVNET_DB_NAME too"
    return 1
  fi
  out=$(mktemp -t referral-exit-drill.XXXXXX)
  if ! { scripts/devnet.sh stop && scripts/devnet.sh; } >"$out" 2>&1; then
    tail -n 40 "$out" >&2
    rm -f "$out"
    log "the devnet did not start again"
    return 1
  fi
  rm -f "$out"
}

# Whether the devnet's BNB exit is open already (a drill ran on it): SettlementExit.opening(address(0)).open.
exit_already_open() {
  node - "$(sed -n 's/^ANVIL_PORT=//p' "$STATE/ports.env")" "$(node -p "require('$STATE/chain.json').settlement")" <<'JS'
const [port, settlement] = process.argv.slice(2);
const call = async (to, data) => {
  const r = await fetch(`http://127.0.0.1:${port}`, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [{ to, data }, "latest"] }) });
  return (await r.json()).result ?? "0x";
};
(async () => {
  const exits = await call(settlement, "0x1fb2a512"); // exits()
  if (exits.length < 66) process.exit(1); // a contract without the exit: the test says so
  const opening = await call(`0x${exits.slice(26)}`, `0xeeccf159${"0".repeat(64)}`); // opening(address(0))
  process.exit(BigInt(opening.slice(0, 66)) === 1n ? 0 : 1);
})();
JS
}

if ! scripts/devnet.sh status >/dev/null 2>&1; then
  [ -z "${DEVNET_STATE:-}" ] || { echo "the devnet of $DEVNET_STATE is not up" >&2; echo "0 passed, 1 failed"; exit 1; }
  log "starting the devnet"
  scripts/devnet.sh
elif exit_already_open; then
  log "the devnet's exits were opened by an earlier drill: starting a fresh devnet first"
  fresh_devnet
fi

sink_port=$(sed -n 's/^WEBHOOK_SINK_PORT=//p' "$STATE/ports.env")
api_port=$(sed -n 's/^API_PORT=//p' "$STATE/ports.env")
node scripts/devnet-notify.mjs rearm "http://127.0.0.1:$api_port" "http://127.0.0.1:$sink_port/hook" "$STATE"

status=0
KEEP_DEVNET=1 scripts/web-test.sh backend/web/tests/exit/exit-drill.test.mjs || status=$?

# The operator's listener comes back after the exits opened: it reads them, and the notifier (never stopped) tells
# the devnet's webhook endpoint — exit.opened, the one event type the devnet's start does not cause.
if [ "$status" = 0 ]; then
  log "the operator's listener back: the exits opened reach the devnet's webhook endpoint (exit.opened)"
  scripts/devnet.sh listener
  node scripts/devnet-notify.mjs check-exit "http://127.0.0.1:$sink_port/hook" || status=1
fi

if [ "${EXIT_DRILL_RESTART:-1}" = 1 ]; then
  log "the drill stopped the operator's services and opened the exits for good: starting a fresh devnet"
  fresh_devnet || status=1
fi
exit "$status"
