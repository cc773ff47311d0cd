#!/usr/bin/env bash
# End-to-end suites over JSON-RPC against the local network (tests/localnet), each starting its
# own network process on a free loopback port:
#   1. Rust: app/keeper/tests/e2e_localnet.rs — traders deposit and trade over RPC, the oracle
#      crashes, the `keeper` binary liquidates and resolves the waterfall, balances are checked.
#   2. TypeScript: app/ts (npm test) — the @coral-xyz/anchor client against the same network.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
export LOCALNET_BIN="$(bash "$ROOT/tests/localnet/build.sh")"
export SBF_OUT_DIR="$ROOT/target/deploy"
cd "$ROOT"
RUST_LOG="${RUST_LOG:-error}" cargo test --locked -p margin-engine-keeper --test e2e_localnet -- --ignored --nocapture
cd "$ROOT/app/ts"
npm ci --no-audit --no-fund
MARGIN_ENGINE_SO="$SBF_OUT_DIR/margin_engine.so" npm test
