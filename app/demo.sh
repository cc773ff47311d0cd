#!/usr/bin/env bash
# Set-up, then the main job: the stress harness runs the four shipped crashes and the three generators
# under every preset over 3 seeds, through the real program with the market model around it
# (impact, live traders, competing liquidators, attackers), prints the summary table and writes
# target/stress-report/ (report.md, results.json, PNGs). Sized to finish in minutes on 2 cores
# (100 traders, 2-minute steps). The benchmark (1,000 traders, 10-second steps, one core) is
#   cargo run --release -p margin-engine-stress --bin stress -- --scenario garch --preset full \
#     --seeds 1 --accounts 1000 --step-seconds 10 --jobs 1
set -euo pipefail
cd "$(dirname "$0")/.."
bash app/setup.sh
# The program logs every refused instruction to stdout when it runs natively; the harness reports
# on stderr, so only the report is kept.
export RUST_LOG="${RUST_LOG:-error}"
cargo run --locked --release -p margin-engine-stress --bin stress -- --accounts 100 --step-seconds 120 --seeds 3 "$@" \
  2>&1 >/dev/null
echo "report: target/stress-report/report.md"
