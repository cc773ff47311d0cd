#!/usr/bin/env bash
# Builds what the local network needs: the program's SBPF .so (programs/sbf/build.sh, idempotent)
# and the `localnet` binary (target/sbf-suite/debug/localnet). It is built in the SBF suite's target
# dir with the suite's RUSTFLAGS (the cfg does not touch localnet) so the agave 4.2.2 crates the
# suite compiled are reused, not built a second time. Prints the binary's path.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$ROOT/programs/sbf/build.sh" >&2
cd "$ROOT/tests/sbf-runner"
RUSTFLAGS="--cfg sbf_backend" CARGO_TARGET_DIR="$ROOT/target/sbf-suite" cargo build --locked -p margin-engine-localnet >&2
echo "$ROOT/target/sbf-suite/debug/localnet"
