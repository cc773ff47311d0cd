#!/usr/bin/env bash
# Set-up, then the main job: the demo on an in-process chain running the real program.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export RUST_LOG="${RUST_LOG:-error}"
cargo run --locked --release -p margin-engine-demo
