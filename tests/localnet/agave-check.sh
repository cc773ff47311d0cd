#!/usr/bin/env bash
# Cross-check on the real solana-test-validator 4.2.2 (not in CI: building it takes most of an
# hour on 2 cores). Builds it once (agave-validator.sh, cached outside the repo) and the .so, then
# runs migrations/tests/agave_validator.rs inside a fresh network namespace that has only
# loopback: the validator binds some sockets on 0.0.0.0 whatever --bind-address says, and this
# also shows it needs no network.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VALIDATOR="$(bash "$ROOT/tests/localnet/agave-validator.sh")"
bash "$ROOT/programs/sbf/build.sh" >&2
cd "$ROOT"
cargo test --locked -p margin-engine-migrations --test agave_validator --no-run
export AGAVE_TEST_VALIDATOR="$VALIDATOR" RUST_LOG="${RUST_LOG:-error}"
unshare -n bash -c 'ip link set lo up && cargo test --locked --offline -p margin-engine-migrations --test agave_validator -- --ignored --nocapture'
