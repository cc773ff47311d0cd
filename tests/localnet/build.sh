#!/usr/bin/env bash
# Builds what the local network needs: the program's SBPF .so (programs/sbf/build.sh, idempotent)
# and the `localnet` binary (target/sbf-runner/debug/localnet, sharing the SBF runner's
# program-test 4.2.2 build). Prints the binary's path.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$ROOT/programs/sbf/build.sh" >&2
cd "$ROOT/tests/sbf-runner"
CARGO_TARGET_DIR="$ROOT/target/sbf-runner" cargo build --locked -p margin-engine-localnet >&2
echo "$ROOT/target/sbf-runner/debug/localnet"
