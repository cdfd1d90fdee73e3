#!/usr/bin/env bash
# The API against its OpenAPI document, with generated requests: schemathesis (pinned, from PyPI, in a venv under
# ~/.cache) sends a bounded number of generated requests — valid and invalid — to every operation of the devnet's
# API, as a signed-in user and, on the admin routes, as the admin (scripts/api-check/signin.mjs, anvil's dev keys),
# and fails on any 5xx, any status the operation's entry does not list, or any body, content type or header that
# does not match it (scripts/api-check/schemathesis.toml: no stateful chains; no payout batch is ever sent).
# Starts the devnet when it is not up (and stops it again afterwards unless KEEP_DEVNET=1). Ends with one line
# "N passed, N failed" (operations). Reports: .devnet/api-check/.
#   scripts/api-check.sh [extra schemathesis run options…]
#   API_CHECK_EXAMPLES=N   generated cases per operation and phase (default 100: about a minute, ~5 000 requests)
#   API_CHECK_SEED=N       the generation seed (default 1: the same requests every run)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SCHEMATHESIS_VERSION=4.32.5
VENV=${API_CHECK_VENV:-$HOME/.cache/referral-schemathesis-$SCHEMATHESIS_VERSION}
EXAMPLES=${API_CHECK_EXAMPLES:-100}
log() { printf '\033[1;34m[api-check]\033[0m %s\n' "$*"; }

# The venv is complete only once its marker is written; a broken or partial one is made again.
if [ ! -f "$VENV/.installed" ] || ! "$VENV/bin/schemathesis" --version >/dev/null 2>&1; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  touch "$VENV/.installed"
fi

started=0
if ! scripts/devnet.sh status >/dev/null 2>&1; then
  log "starting the devnet"
  scripts/devnet.sh
  started=1
fi
stop() { if [ "$started" = 1 ] && [ "${KEEP_DEVNET:-0}" != 1 ]; then "$ROOT/scripts/devnet.sh" stop >/dev/null || true; fi; }
trap stop EXIT

# shellcheck disable=SC1091
. .devnet/ports.env
export API_BASE=http://127.0.0.1:$API_PORT
eval "$(node scripts/api-check/signin.mjs "$API_BASE" | grep -E '^(ADMIN|USER)_TOKEN=[A-Za-z0-9._-]+$')"
export ADMIN_TOKEN USER_TOKEN

reports=$ROOT/.devnet/api-check
rm -rf "$reports" && mkdir -p "$reports"
log "schemathesis $SCHEMATHESIS_VERSION against $API_BASE: $EXAMPLES cases per operation and phase"
status=0
# From the reports' folder: schemathesis keeps its example database and cache in the working directory. One
# worker: two threads sometimes trip Python 3.11's parser inside hypothesis ("AST constructor recursion depth").
(cd "$reports" && "$VENV/bin/schemathesis" --config-file "$ROOT/scripts/api-check/schemathesis.toml" \
  run "$API_BASE/api-docs/openapi.json" --max-examples "$EXAMPLES" --workers 1 --seed "${API_CHECK_SEED:-1}" \
  --no-color --report junit --report-junit-path "$reports/junit.xml" "$@") || status=$?

# One line for scripts/test.sh's totals: each operation is a test case of the report.
python3 - "$reports/junit.xml" <<'EOF' || status=1
import sys
import xml.etree.ElementTree as ET

cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
outcomes = [next((c.tag for c in case if c.tag in ("failure", "error", "skipped")), "passed") for case in cases]
print(f"{outcomes.count('passed')} passed, {outcomes.count('failure') + outcomes.count('error')} failed")
EOF
exit "$status"
