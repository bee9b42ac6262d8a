#!/usr/bin/env bash
# The whole test suite, as CI runs it: set up what is missing, then formatting, lints and tests.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked --doc
# Each fuzz target for a fixed number of inputs, its seeds and regression inputs first.
./scripts/fuzz.sh --runs 5000
# Unit and integration tests last, so the final summary line counts them all.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --lib --bins --tests --no-fail-fast
fi
