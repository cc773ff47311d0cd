#!/usr/bin/env bash
# Installs what the project needs on a fresh machine of this kind (Rust via rustup is preinstalled).
# Idempotent: re-running changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo not found: this project needs the machine's rustup toolchain" >&2; exit 1; }
# The stable toolchain the native build is pinned to (see rust-toolchain.toml).
rustup show active-toolchain >/dev/null
cargo fetch --locked
