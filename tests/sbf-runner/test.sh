#!/usr/bin/env bash
# The integration suite on the real SBPF .so: builds it (programs/sbf/build.sh), then compiles
# tests/tests/*.rs into tests/sbf-runner with `--cfg sbf_backend` and runs them on solana-program-test
# 4.2.2 loading target/deploy/margin_engine.so, then checks the compute-unit budgets (cu_table --check).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$ROOT/programs/sbf/build.sh"
cd "$ROOT/tests/sbf-runner"
export RUST_LOG="${RUST_LOG:-error}"
RUSTFLAGS="--cfg sbf_backend" CARGO_TARGET_DIR="$ROOT/target/sbf-suite" cargo test --locked --test suite
# Compute-unit budgets (deterministic on the .so): fails when an asserted target regresses.
RUSTFLAGS="--cfg sbf_backend" CARGO_TARGET_DIR="$ROOT/target/sbf-suite" cargo run --locked --quiet --bin cu_table -- --check "$ROOT/target/deploy" > /dev/null
