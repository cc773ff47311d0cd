#!/usr/bin/env bash
# The test suite: unit and property tests of the pure math, integration tests through the real
# program on solana-program-test, and a demo smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# program-test logs every instruction at debug level otherwise.
export RUST_LOG="${RUST_LOG:-error}"
cargo test --locked --workspace
