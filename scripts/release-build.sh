#!/usr/bin/env bash
# One release build of every binary the operator's guides use, with the workspace's features (one feature
# resolution for all of them: building a few packages apart resolves their dependencies' features differently and
# rebuilds most of them), the lock file as committed.
#
#   export PATH="$(scripts/release-build.sh):$PATH"
#
# Prints the directory of the binaries on stdout (cargo's progress goes to stderr), after checking that each binary
# the guides name was built: referral-deploy, preflight, referral-asset, backend, signer, signer-store, listener,
# reconciler, referral-notifier, solvency-verify, and tron-devnode (the TRON test node the Nile guide rehearses on
# first). Builds into $CARGO_TARGET_DIR (default: target/ of the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."

BINARIES=(referral-deploy preflight referral-asset backend signer signer-store listener reconciler referral-notifier
  solvency-verify tron-devnode)

case "${1:-}" in
  "") ;;
  --list) printf '%s\n' "${BINARIES[@]}"; exit 0 ;;
  *) echo "usage: scripts/release-build.sh [--list]" >&2; exit 2 ;;
esac

# Each named binary is a target of the workspace: a renamed one fails here, before a long build.
declared=$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json, sys
for p in json.load(sys.stdin)["packages"]:
    for t in p["targets"]:
        if "bin" in t["kind"]: print(t["name"])')
for bin in "${BINARIES[@]}"; do
  grep -qx "$bin" <<<"$declared" || { echo "release-build: no binary $bin in the workspace" >&2; exit 1; }
done

cargo build --release --locked --workspace --bins >&2

dir="${CARGO_TARGET_DIR:-$PWD/target}/release"
for bin in "${BINARIES[@]}"; do
  [ -x "$dir/$bin" ] || { echo "release-build: $dir/$bin was not built" >&2; exit 1; }
done
echo "release-build: ${#BINARIES[@]} binaries in $dir" >&2
echo "$dir"
