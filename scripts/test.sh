#!/usr/bin/env bash
# The test command (README.md): set-up, contract tests, gas snapshot check, ABI drift check, Rust tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/referral-target}"
step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*"; }

step "set-up (idempotent)"
scripts/setup.sh

step "contracts: forge build + forge test"
(cd contracts && ../node_modules/.bin/forge build && ../node_modules/.bin/forge test)

step "contracts: gas snapshot check (payout benchmark)"
(cd contracts && ../node_modules/.bin/forge snapshot --match-path 'test/bench/*' --check)

step "abi: artifacts match contracts/src"
cargo run --quiet -p abi-codegen -- --check

step "rust: cargo test --workspace"
cargo test --workspace --all-targets --no-fail-fast
