#!/usr/bin/env bash
# The test suite: unit and property tests of the pure math, integration tests through the real
# program natively on solana-program-test 3.1.12 (plus SDK, keeper, bootstrap and stress-harness
# tests), then the same integration suite again on the real SBPF .so (solana-program-test 4.2.2,
# built without platform-tools by programs/sbf/build.sh; first run installs the pinned nightly and
# sbpf-linker into target/), then the end-to-end suites over JSON-RPC against the local network
# (tests/e2e/run.sh: the keeper binary unwinding a crash, and the TypeScript client's node tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash app/setup.sh
# program-test logs every instruction at debug level otherwise.
export RUST_LOG="${RUST_LOG:-error}"
cargo test --locked --workspace
bash tests/sbf-runner/test.sh
bash tests/e2e/run.sh
