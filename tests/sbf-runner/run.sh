#!/usr/bin/env bash
# Builds the SBPF .so (programs/sbf/build.sh) and the runner (solana-program-test 4.2.2 on the
# stable toolchain of rust-toolchain.toml), then runs the metered scenario.
# Usage: sbf/run.sh [RUNS]     (SBF_RUNNER_LOGS=1 also prints each transaction's program logs)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$ROOT/programs/sbf/build.sh"
(cd "$ROOT/tests/sbf-runner" && CARGO_TARGET_DIR="$ROOT/target/sbf-runner" cargo build --bin margin-engine-sbf-runner)
# program-test logs every instruction at debug level otherwise.
RUST_LOG="${RUST_LOG:-error}" "$ROOT/target/sbf-runner/debug/margin-engine-sbf-runner" "$ROOT/target/deploy" "${1:-5}"
