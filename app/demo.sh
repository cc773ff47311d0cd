#!/usr/bin/env bash
# Set-up, then the main job: the stress harness replays the four shipped crash paths under every
# preset through the real program and writes target/stress-report/ (report.md, results.json, PNGs).
# Sized to finish in minutes on 2 cores; the 1,000-account, 10-second-step benchmark is
#   cargo run --release -p margin-engine-stress --bin stress -- --accounts 1000 --hours 24 \
#     --scenario app/stress/scenarios/yen-carry-2024.csv
set -euo pipefail
cd "$(dirname "$0")/.."
bash app/setup.sh
# The program logs every refused instruction natively; keep the report readable.
export RUST_LOG="${RUST_LOG:-error}"
cargo run --locked --release -p margin-engine-stress --bin stress -- --accounts 200 --step-seconds 120 "$@" | grep -v '^AnchorError'
echo "report: target/stress-report/report.md"
