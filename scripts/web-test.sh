#!/usr/bin/env bash
# Browser tests of the web front (backend/web/tests): Chromium (Debian's package) driven by playwright-core
# against the real system of scripts/devnet.sh, with a test wallet injected into the page as an EIP-1193
# provider that signs with anvil's development keys. Builds the web front (scripts/setup.sh), starts the
# devnet when it is not up (and stops it again afterwards unless KEEP_DEVNET=1), and ends with one line
# "N passed, N failed". Screenshots go to backend/web/test-results/. First checks that backend/web/openapi.json is
# the document the devnet's backend serves (the web front's API types are generated from it).
#   scripts/web-test.sh [test files…]    (default: every backend/web/tests/*.test.mjs)
# DEVNET_STATE names the devnet to test (scripts/devnet.sh's own variable: another devnet's state directory; it must be
# up). WEB_TEST_SHARD=K/N runs the K-th of N shares of the files, shared out by the seconds each took in a measured run
# (backend/web/scripts/shard.mjs, backend/web/tests/durations.json), and keeps the other shares' results: the test
# command runs two shares at once, each on a devnet of its own.
set -euo pipefail
files=()
for f in "$@"; do files+=("$(realpath "$f")"); done
cd "$(dirname "$0")/.."
ROOT=$(pwd)
log() { printf '\033[1;36m[web-test]\033[0m %s\n' "$*"; }

if [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium (Playwright cannot download its own browser here)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

started=0
if ! scripts/devnet.sh status >/dev/null 2>&1; then
  [ -z "${DEVNET_STATE:-}" ] || { echo "the devnet of $DEVNET_STATE is not up" >&2; echo "0 passed, 1 failed"; exit 1; }
  log "starting the devnet"
  scripts/devnet.sh
  started=1
else
  # The devnet runs: only make sure the web build is current (the backend serves it from disk).
  scripts/setup.sh >/dev/null
fi
stop() { if [ "$started" = 1 ] && [ "${KEEP_DEVNET:-0}" != 1 ]; then "$ROOT/scripts/devnet.sh" stop >/dev/null || true; fi; }
trap stop EXIT

# The API's document as the front was typed from (backend/web/openapi.json → src/generated/api.ts) must be the one
# this backend serves.
STATE=${DEVNET_STATE:-$ROOT/.devnet}
API_PORT=$(sed -n 's/^API_PORT=//p' "$STATE/ports.env")
log "backend/web/openapi.json against http://127.0.0.1:$API_PORT/api-docs/openapi.json"
if ! node backend/web/scripts/gen-types.mjs --check-api "http://127.0.0.1:$API_PORT"; then
  echo "0 passed, 1 failed"
  exit 1
fi

cd backend/web
if [ -n "${WEB_TEST_SHARD:-}" ]; then
  [[ "$WEB_TEST_SHARD" =~ ^[1-9][0-9]*/[1-9][0-9]*$ ]] || { echo "WEB_TEST_SHARD=$WEB_TEST_SHARD: K/N" >&2; exit 2; }
  if [ "${#files[@]}" = 0 ]; then
    mapfile -t files < <(node scripts/shard.mjs "${WEB_TEST_SHARD%/*}" "${WEB_TEST_SHARD#*/}")
    [ "${#files[@]}" -gt 0 ] || { log "share $WEB_TEST_SHARD holds no file"; echo "0 passed, 0 failed"; exit 0; }
  fi
  mkdir -p test-results
  tap=test-results/results-${WEB_TEST_SHARD%/*}.tap
else
  rm -rf test-results && mkdir -p test-results
  tap=test-results/results.tap
fi
[ "${#files[@]}" -gt 0 ] || files=(tests/*.test.mjs)
log "running ${#files[@]} test file(s)${WEB_TEST_SHARD:+ (share $WEB_TEST_SHARD of them)} in Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}') on $STATE"
status=0
node --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "${files[@]}" || status=$?
passed=$(awk '/^# pass /{print $3}' "$tap" 2>/dev/null | tail -n1)
failed=$(awk '/^# fail /{print $3}' "$tap" 2>/dev/null | tail -n1)
log "screenshots: $ROOT/backend/web/test-results/"
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
