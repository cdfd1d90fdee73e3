#!/usr/bin/env bash
# Checks the on-call artifacts under ops/ (ops/README.md):
#   promtool check rules, promtool check config (on a rendered copy of prometheus.yml), promtool test rules,
#   ops/check.py (metrics catalogue, runbooks, tests, dashboard), and a self-test proving those checks catch
#   deliberate mistakes. Installs Debian's `prometheus` package when promtool is missing, and leaves no
#   Prometheus daemon running or enabled. Last line: "ops: N passed, M failed"; exit status 1 on any failure.
#   OPS_DIR=/path/to/a/copy/of/ops checks another copy; --install-only only installs Prometheus.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OPS=$(cd "${OPS_DIR:-$ROOT/ops}" && pwd)
CHECK=$ROOT/ops/check.py

log() { printf '\033[1;36m[ops-test]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[ops-test]\033[0m %s\n' "$*" >&2; exit 1; }

TMP=$(mktemp -d)
POLICY_RC_CREATED=
cleanup() {
  rm -rf "$TMP"
  if [ -n "$POLICY_RC_CREATED" ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

# Debian's prometheus package brings promtool. Its maintainer scripts enable and may start the daemon: a
# policy-rc.d that denies starts (unless one is there already) keeps it from starting, and afterwards the
# service is disabled and any prometheus process the installation started is stopped, by its pid.
install_promtool() {
  log "promtool is missing: installing Debian's prometheus package"
  local before after pid
  before=$(pgrep -x prometheus || true)
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# written by scripts/ops-test.sh while installing prometheus; removed afterwards\nexit 101\n' |
      as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if [ -n "$POLICY_RC_CREATED" ]; then as_root rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=; fi
  if [ -d /run/systemd/system ]; then
    as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
  elif command -v systemctl >/dev/null; then
    as_root systemctl disable prometheus >/dev/null 2>&1 || true # also removes the SysV rc links
  elif command -v update-rc.d >/dev/null; then
    as_root update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
  after=$(pgrep -x prometheus || true)
  for pid in $after; do
    if ! grep -qx "$pid" <<<"$before"; then
      log "stopping the prometheus daemon the package started (pid $pid)"
      as_root kill "$pid" || true
    fi
  done
  command -v promtool >/dev/null || die "promtool still missing after installing prometheus"
}

command -v promtool >/dev/null || install_promtool
# `--install-only`: only make sure Prometheus is installed (the devnet runs it).
if [ "${1:-}" = --install-only ]; then exit 0; fi
command -v python3 >/dev/null || die "python3 is needed"
log "$(promtool --version 2>&1 | head -n 1)"
log "checking $OPS"

passed=0
failed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; }
# step NAME COMMAND…: one check, passed when COMMAND succeeds; its output is shown when it fails.
step() {
  local name=$1 output
  shift
  if output=$("$@" 2>&1); then ok "$name"; else fail "$name"; printf '%s\n' "$output" | sed 's/^/    /'; fi
}

# The placeholders of prometheus.yml and test values for them.
render_config() { # OPS_DIR OUT_DIR
  mkdir -p "$2"
  cp -r "$1/prometheus/rules" "$2/rules"
  sed -e 's/__API_METRICS_PORT__/9101/g' -e 's/__SIGNER_PORT__/8700/g' -e 's/__LISTENER_METRICS_PORT__/9102/g' \
    -e 's/__RECONCILER_METRICS_PORT__/9103/g' -e 's/__NOTIFIER_METRICS_PORT__/9104/g' \
    -e 's#__RUNBOOK_BASE__#https://runbooks.example/referral#g' \
    "$1/prometheus/prometheus.yml" >"$2/prometheus.yml"
  if grep -nE '__[A-Z_]+__' "$2/prometheus.yml"; then
    echo "placeholders left in prometheus.yml (add them to scripts/ops-test.sh and ops/README.md)"
    return 1
  fi
}
check_config() { render_config "$1" "$2" && promtool check config "$2/prometheus.yml"; }

# --- promtool ---------------------------------------------------------------------------------------------
step "promtool check rules" promtool check rules "$OPS"/prometheus/rules/*.yml
step "promtool check config (rendered prometheus.yml)" check_config "$OPS" "$TMP/config"
step "promtool test rules" promtool test rules "$OPS"/prometheus/tests/*.yml

# --- ops/check.py -----------------------------------------------------------------------------------------
set +e
py_output=$(python3 "$CHECK" "$OPS" 2>&1)
py_status=$?
set -e
printf '%s\n' "$py_output" | grep -v '^checks: ' || true
py_summary=$(printf '%s\n' "$py_output" | tail -n 1)
if [[ $py_summary =~ ^checks:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  passed=$((passed + BASH_REMATCH[1]))
  failed=$((failed + BASH_REMATCH[2]))
  if [ "$py_status" != 0 ] && [ "${BASH_REMATCH[2]}" = 0 ]; then fail "ops/check.py exited $py_status"; fi
  log "ops/check.py: ${BASH_REMATCH[1]} passed, ${BASH_REMATCH[2]} failed"
else
  fail "ops/check.py ran to its summary (exit $py_status)"
fi

# --- self-test: the checks catch deliberate mistakes --------------------------------------------------------
# caught NAME PATTERN MUTATION…: in a fresh copy of ops/ at $COPY, apply MUTATION (its arguments name files under
# $COPY); ops/check.py must then fail with a line matching PATTERN.
COPY=$TMP/mutant
caught() {
  local name=$1 pattern=$2 output
  shift 2
  rm -rf "$COPY"
  cp -r "$OPS" "$COPY"
  if ! "$@"; then
    fail "self-test: $name (the mutation did not apply)"
    return
  fi
  if output=$(python3 "$CHECK" "$COPY" 2>&1); then
    fail "self-test: $name is caught (the checks passed)"
  elif grep -qE "^FAIL .*$pattern" <<<"$output"; then
    ok "self-test: $name is caught"
  else
    fail "self-test: $name is caught (no failure matching '$pattern')"
    printf '%s\n' "$output" | grep '^FAIL' | sed 's/^/    /'
  fi
}
edit() { # FILE PYTHON-EXPRESSION over s (the file's text)
  python3 - "$1" "$2" <<'PY'
import sys
path, expr = sys.argv[1], sys.argv[2]
s = open(path).read()
t = eval(expr, {"s": s})
assert t != s, f"mutation of {path} changed nothing"
open(path, "w").write(t)
PY
}
drop_panel_queries() {
  python3 - "$COPY/grafana/dashboards/referral-platform.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
next(p for p in d["panels"] if p["type"] != "row")["targets"] = []
json.dump(d, open(sys.argv[1], "w"), indent=2)
PY
}
caught "a rule reading a metric not in metrics.md" "listener_lag_block is in metrics.md" \
  edit "$COPY/prometheus/rules/listener.yml" 's.replace("(listener_lag_blocks)", "(listener_lag_block)", 1)'
caught "a matcher on a label not in metrics.md" "matchers use catalogued labels" \
  edit "$COPY/prometheus/rules/api.yml" 's.replace("status=~", "status_code=~", 1)'
caught "a dashboard query reading a metric not in metrics.md" "reconciler_varianc is in metrics.md" \
  edit "$COPY/grafana/dashboards/referral-platform.json" 's.replace("(reconciler_variance{", "(reconciler_varianc{", 1)'
caught "a dashboard panel without a query" "has a query" drop_panel_queries
caught "an alert without its runbook" "runbook for ServiceDown" rm "$COPY/runbooks/ServiceDown.md"
caught "a runbook_url not built from runbook_base" "ServiceDown: runbook_url" \
  edit "$COPY/prometheus/rules/services.yml" 's.replace("{{ $externalLabels.runbook_base }}/ServiceDown.md", "https://wiki/ServiceDown")'
caught "an alert without a quiet test case" "ServiceDown has a test case where it does not fire" \
  edit "$COPY/prometheus/tests/services_test.yml" 's.replace("      - eval_time: 3m\n        alertname: ServiceDown\n        exp_alerts: []\n", "")'
# promtool must notice a changed threshold through the unit tests.
mutated_threshold() {
  rm -rf "$COPY" && cp -r "$OPS" "$COPY"
  edit "$COPY/prometheus/rules/listener.yml" 's.replace("(listener_lag_blocks) > 20", "(listener_lag_blocks) > 30", 1)'
  ! promtool test rules "$COPY"/prometheus/tests/listener_test.yml >/dev/null 2>&1
}
step "self-test: a changed alert threshold is caught by promtool test rules" mutated_threshold

echo "ops: $passed passed, $failed failed"
[ "$failed" = 0 ]
