#!/usr/bin/env bash
# The test command (README.md; `quick` for the quick tier, below): set-up, contract tests, gas snapshot check, on-call artifacts (ops-test.sh), ABI
# drift check, generated web types check, rustfmt check, module-cycle checks (Rust, web), clippy,
# Rust tests beside the browser tests of the web front (half of them on a second devnet), then generated requests
# against the API's OpenAPI document (api-check.sh) on the first devnet while the members' exit drill (exit-drill.sh)
# ends the second's use, and a second devnet beside the first (devnet-pair-test.sh).
# Ends with one line totalling every runner's results.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/referral-target}"
# The ledger's compile-checked queries are built from their offline data (backend/ledger/.sqlx), never against
# whatever DATABASE_URL names (the tests use it for a server to create scratch databases on).
export SQLX_OFFLINE=true
log=$(mktemp -t referral-tests.XXXXXX)
# The browser tests and the API check share one devnet; stopped at the end when this run started it.
devnet_was_up=1
stop_devnet() { if [ "$devnet_was_up" = 0 ] && [ "${KEEP_DEVNET:-0}" != 1 ]; then scripts/devnet.sh stop >/dev/null || true; fi; }
# The second devnet, which takes half the browser tests: its own state directory and database, gone at the end.
SHARE_STATE=
SHARE_DB=referral_devnet_share_$$
stop_share_devnet() {
  [ -n "$SHARE_STATE" ] || return 0
  DEVNET_STATE=$SHARE_STATE scripts/devnet.sh stop >/dev/null 2>&1 || true
  psql -q postgres://postgres@127.0.0.1:5432/postgres -c "DROP DATABASE IF EXISTS $SHARE_DB WITH (FORCE)" \
    >/dev/null 2>&1 || true
  rm -rf "$SHARE_STATE"
  SHARE_STATE=
}
trap 'rm -f "$log"; stop_share_devnet; stop_devnet' EXIT
started_at=$SECONDS
since_start() { printf '[%dm%02ds] %s\n' $(((SECONDS - started_at) / 60)) $(((SECONDS - started_at) % 60)) "$*"; }
step() { printf '\n\033[1;32m==> %s\033[0m\n' "$(since_start "$*")"; }

# `scripts/test.sh quick`: the quick tier, minutes with a warm cache and no devnet — formatting, module cycles, the
# web's catalogues and generated types, clippy, every crate's unit tests and the API's tests (Postgres and Redis,
# no chain). Every step runs and reports even when an earlier one failed; the exit status is the first failure's.
if [ "${1:-}" = quick ]; then
  failed=()
  check() { local name=$1; shift; step "$name"; "$@" 2>&1 | tee -a "$log" || failed+=("$name"); }
  step "set-up (idempotent)"
  scripts/setup.sh
  check "rust: formatting (cargo fmt --check)" cargo fmt --all --check
  check "rust: no module imports another in a circle" python3 scripts/module-cycles.py
  check "web: no module imports another in a circle" node backend/web/scripts/import-cycles.mjs
  check "web: generated TypeScript is current" node backend/web/scripts/gen-types.mjs --check
  check "web: every language catalogue is complete" node backend/web/scripts/check-catalogues.mjs
  check "rust: clippy (warnings are errors)" cargo clippy --workspace --all-targets --quiet -- -D warnings
  check "rust: unit tests of every crate and the API's tests" \
    cargo test --workspace --lib --bins --test api --no-fail-fast
  awk '
    match($0, /test result: [A-Za-z]+\. [0-9]+ passed; [0-9]+ failed/) { split(substr($0, RSTART, RLENGTH), f, " "); p += f[4]; x += f[6] }
    /^module-cycles: [0-9]+ passed, [0-9]+ failed$/ { p += $2; x += $4 }
    /^import-cycles: [0-9]+ passed, [0-9]+ failed$/ { p += $2; x += $4 }
    END { printf "\nquick: %d passed, %d failed\n", p, x }
  ' "$log"
  if [ ${#failed[@]} -gt 0 ]; then
    printf 'failed steps:\n' >&2
    printf '  %s\n' "${failed[@]}" >&2
    exit 1
  fi
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: scripts/test.sh [quick]" >&2; exit 2; }

# The full run. Every step runs and reports even when an earlier one failed (a step that needs what failed says it
# did not run, and why); the run fails at the end, naming each failed step.
failed=()
check() { local name=$1; shift; step "$name"; "$@" 2>&1 | tee -a "$log" || failed+=("$name"); }
skipped() { step "$1"; echo "not run: $2" | tee -a "$log"; failed+=("$1 (not run: $2)"); }

step "set-up (idempotent)"
scripts/setup.sh

check "contracts: forge build + forge test" bash -c 'cd contracts && ../node_modules/.bin/forge build && ../node_modules/.bin/forge test'
check "contracts: gas snapshot check (payout benchmark)" \
  bash -c "cd contracts && ../node_modules/.bin/forge snapshot --match-path 'test/bench/*' --check"
check "ops: alert rules (promtool check + unit tests), dashboard and runbooks against ops/metrics.md" scripts/ops-test.sh
check "abi: artifacts match contracts/src" cargo run --quiet -p abi-codegen -- --check
check "web: TypeScript generated from the ABI artifacts and openapi.json is current" \
  node backend/web/scripts/gen-types.mjs --check
check "web: every language catalogue has every key English has, and English every key the pages use" \
  node backend/web/scripts/check-catalogues.mjs
if cargo fmt --version >/dev/null 2>&1; then
  check "rust: formatting (cargo fmt --check)" cargo fmt --all --check
else
  echo "warning: rustfmt is not installed for this toolchain; formatting not checked" >&2
fi
check "rust: no module imports another in a circle (scripts/module-cycles.py)" python3 scripts/module-cycles.py
check "web: no module imports another in a circle (backend/web/scripts/import-cycles.mjs)" \
  node backend/web/scripts/import-cycles.mjs
check "web: the browser tests' halves are balanced by time (backend/web/scripts/shard.mjs --self-test)" \
  node backend/web/scripts/shard.mjs --self-test
check "rust: clippy (warnings are errors)" cargo clippy --workspace --all-targets --quiet -- -D warnings

# Both wait on blocks more than they compute (each alone leaves about half of two cores idle), and they share
# nothing but the machine: the Rust tests start their own anvil nodes and scratch databases on ports of their own,
# the browser tests use the devnet. So they run side by side; the Rust tests' output is shown when they end.
# Except the tests that bound how fast an answer comes while a hostile request is being refused (the TRON test
# node's limits, the API's hostile inputs: half a second): those bounds hold on a quiet machine, so they run
# alone after the browser tests.
failures_before_build=${#failed[@]}
check "rust: build every test and the devnet's binaries" bash -c \
  'cargo test --workspace --all-targets --no-run --quiet && scripts/devnet.sh build'
devnet_up=0
drill_done=0
if [ ${#failed[@]} = "$failures_before_build" ]; then
  step "rust: cargo test --workspace beside the browser tests (Chromium, on the devnet)"
  # The devnet's binaries are the ones just built (same feature set); its start (web build, deployments, the demo's
  # payments: minutes, mostly waiting on blocks) overlaps the Rust tests.
  devnet_pid=
  if scripts/devnet.sh status >/dev/null 2>&1; then
    devnet_up=1
  else
    devnet_was_up=0
    devnet_log=$(mktemp -t referral-devnet.XXXXXX)
    DEVNET_PREBUILT=1 scripts/devnet.sh >"$devnet_log" 2>&1 &
    devnet_pid=$!
  fi
  cargo_log=$(mktemp -t referral-cargo.XXXXXX)
  cargo_status_file=$(mktemp -t referral-cargo-status.XXXXXX)
  # Test names holding one of these: every test of tron-devnode's limits tests, and the API's hostile inputs
  # (module hostile_time). Selected by name within the workspace's build (a `-p` build would resolve features
  # differently and rebuild).
  timed=(over_the_limit at_the_limit over_their_limits trons_limits _2_mb_ longest_raw_data largest_transaction_java
    hostile_time)
  ( cargo_status=0
    cargo test --workspace --all-targets --no-fail-fast -- "${timed[@]/#/--skip=}" >"$cargo_log" 2>&1 || cargo_status=$?
    echo "$cargo_status" >"$cargo_status_file" ) &
  cargo_pid=$!
  if [ -n "$devnet_pid" ]; then
    if wait "$devnet_pid"; then
      devnet_up=1
    else
      tail -n 60 "$devnet_log" | tee -a "$log" >&2
      echo "the devnet did not start (its log above)" | tee -a "$log" >&2
      failed+=("devnet: start")
    fi
  fi
  if [ "$devnet_up" = 1 ]; then
    # Half the files by time (backend/web/scripts/shard.mjs) on this devnet, shown as they run, then the API check
    # on it; the other half on a second devnet started beside it once this one is up (scripts/devnet.sh with a state
    # directory and database of its own, its ports picked free, as scripts/devnet-pair-test.sh checks), then the
    # members' exit drill on that second devnet, which is thrown away after (the drill opens its exits for good);
    # both shown when they end. The drill and the API check mostly wait on blocks and epochs, so they overlap the
    # other devnet's tests instead of following them. The second devnet's half has less to do by the minutes its
    # devnet takes to start and the drill takes beyond the API check (WEB_TEST_SHARE_LATE). Should the second devnet
    # not start, its half and the drill run on this devnet at the end: every test runs, and the failed start is a
    # failed step.
    export WEB_TEST_SHARE_LATE=${WEB_TEST_SHARE_LATE:-420}
    SHARE_STATE=$(mktemp -d -t referral-devnet-share.XXXXXX)
    share_log=$(mktemp -t referral-web-share.XXXXXX)
    drill_log=$(mktemp -t referral-exit-drill.XXXXXX)
    # What the second devnet's part ended with: "nostart", or the browser tests' status then the drill's.
    share_status_file=$(mktemp -t referral-share-status.XXXXXX)
    ( if ! DEVNET_STATE=$SHARE_STATE DEVNET_DB_NAME=$SHARE_DB DEVNET_PREBUILT=1 scripts/devnet.sh >"$SHARE_STATE.log" 2>&1
      then
        echo "the second devnet did not start:"; tail -n 60 "$SHARE_STATE.log"; echo nostart >"$share_status_file"; exit 0
      fi
      web_status=0
      DEVNET_STATE=$SHARE_STATE WEB_TEST_SHARD=2/2 KEEP_DEVNET=1 scripts/web-test.sh || web_status=$?
      # When each part ended, for balancing the halves (WEB_TEST_SHARE_LATE): these lines are shown only later.
      since_start "the second half ended"
      drill_status=0
      DEVNET_STATE=$SHARE_STATE EXIT_DRILL_RESTART=0 scripts/exit-drill.sh >"$drill_log" 2>&1 || drill_status=$?
      since_start "the exit drill ended" >>"$drill_log"
      echo "$web_status $drill_status" >"$share_status_file" ) >"$share_log" 2>&1 &
    share_pid=$!
    WEB_TEST_SHARD=1/2 KEEP_DEVNET=1 scripts/web-test.sh 2>&1 | tee -a "$log" ||
      failed+=("web: browser tests, first half (scripts/web-test.sh)")
    check "api: generated requests against the OpenAPI document (schemathesis, on the same devnet)" \
      env KEEP_DEVNET=1 scripts/api-check.sh
    wait "$share_pid" || true
    read -r web_status drill_status <"$share_status_file" || web_status=nostart
    step "web: the browser tests' second half, on the second devnet (its output follows)"
    tee -a "$log" <"$share_log"
    if [ "$web_status" = nostart ]; then
      failed+=("devnet: a second devnet for half the browser tests and the exit drill")
      step "web: the browser tests' second half, on this devnet (the second did not start)"
      WEB_TEST_SHARD=2/2 KEEP_DEVNET=1 scripts/web-test.sh 2>&1 | tee -a "$log" ||
        failed+=("web: browser tests, second half (scripts/web-test.sh)")
    else
      [ "$web_status" = 0 ] || failed+=("web: browser tests, second half (scripts/web-test.sh, on a second devnet)")
      step "exit: the members' exit drill in Chromium (destructive, on the second devnet; scripts/exit-drill.sh; its output follows)"
      tee -a "$log" <"$drill_log"
      [ "$drill_status" = 0 ] || failed+=("exit: the members' exit drill (scripts/exit-drill.sh, on the second devnet)")
      drill_done=1
    fi
    rm -f "$share_log" "$drill_log" "$share_status_file" "$SHARE_STATE.log"
    stop_share_devnet
  else
    skipped "web: browser tests (scripts/web-test.sh)" "the devnet did not start"
  fi
  step "rust: cargo test --workspace (waiting for it to end; its output follows)"
  wait "$cargo_pid" || true
  cat "$cargo_log"
  cat "$cargo_log" >>"$log"
  [ "$(cat "$cargo_status_file")" = 0 ] || failed+=("rust: cargo test --workspace")
  rm -f "$cargo_log" "$cargo_status_file"
  check "rust: the tests with time bounds, alone (the TRON test node's, the API's hostile inputs)" \
    cargo test --workspace --all-targets --no-fail-fast -- "${timed[@]}"
else
  skipped "rust: cargo test --workspace, and the browser tests" "the build failed"
fi

if [ "$devnet_up" = 1 ]; then
  check "devnet: a second devnet starts and runs beside this one (scripts/devnet-pair-test.sh)" \
    scripts/devnet-pair-test.sh
  # The drill ran on the second devnet unless that did not start: then here, last, as it ends the devnet's use (and
  # starts a fresh one only when this run did not start the devnet: it is stopped at the end anyway).
  if [ "$drill_done" = 0 ]; then
    check "exit: the members' exit drill in Chromium (destructive, on the same devnet; scripts/exit-drill.sh)" \
      env EXIT_DRILL_RESTART=$devnet_was_up scripts/exit-drill.sh
  fi
else
  skipped "api: generated requests against the OpenAPI document" "no devnet"
  skipped "devnet: a second devnet beside this one" "no devnet"
  skipped "exit: the members' exit drill" "no devnet"
fi

# Totals over every runner. forge: "…: 121 tests passed, 0 failed, 0 skipped"; cargo: "test result: ok. 5 passed; 0 failed;"
awk '
  match($0, /[0-9]+ tests passed, [0-9]+ failed/) { split(substr($0, RSTART, RLENGTH), f, " "); p += f[1]; x += f[4] }
  match($0, /test result: [A-Za-z]+\. [0-9]+ passed; [0-9]+ failed/) { split(substr($0, RSTART, RLENGTH), f, " "); p += f[4]; x += f[6] }
  /^[0-9]+ passed, [0-9]+ failed$/ { p += $1; x += $3 }
  /^ops: [0-9]+ passed, [0-9]+ failed$/ { p += $2; x += $4 }
  /^module-cycles: [0-9]+ passed, [0-9]+ failed$/ { p += $2; x += $4 }
  /^import-cycles: [0-9]+ passed, [0-9]+ failed$/ { p += $2; x += $4 }
  /^shard: [0-9]+ passed, [0-9]+ failed$/ { p += $2; x += $4 }
  /^devnet-pair: [0-9]+ passed, [0-9]+ failed$/ { p += $2; x += $4 }
  END { printf "\ntotal: %d passed, %d failed\n", p, x }
' "$log"
if [ ${#failed[@]} -gt 0 ]; then
  # CI shows only the end of what this printed: the failing tests are named again last, then the failed steps.
  printf '\n==> what failed (recap of the output above)\n' >&2
  # A test binary that a signal ended after its tests ran says so in cargo's "process didn't exit successfully".
  grep -E "^test .* FAILED$|^(error|warning): [0-9]+ targets? failed|^    \`-p |^not ok |panicked at|process didn't exit successfully" \
    "$log" | head -n 40 >&2 || true
  # The browser tests' runner lists its failures, each with its error, under "✖ failing tests:".
  sed -n '/^✖ failing tests:/,/^\[web-test\]\|screenshots:/p' "$log" | head -n 80 >&2 || true
  printf 'failed steps:\n' >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
