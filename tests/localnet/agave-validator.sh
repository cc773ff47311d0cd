#!/usr/bin/env bash
# Builds the real solana-test-validator (crates.io `agave-validator`, 4.2.2: the first line whose
# runtime loads SBPF V3 and that still builds on stable 1.95) for a cross-check of the local
# network. Not part of CI: it takes most of an hour on 2 cores. Cached in AGAVE_ROOT (default
# ~/.cache/margin-engine/agave-4.2.2); re-running with the binary present does nothing.
# Usage: bash tests/localnet/agave-validator.sh [-j N]   -> prints the solana-test-validator path
set -euo pipefail
VERSION=4.2.2
AGAVE_ROOT="${AGAVE_ROOT:-$HOME/.cache/margin-engine/agave-$VERSION}"
BIN="$AGAVE_ROOT/bin/solana-test-validator"
if [ ! -x "$BIN" ]; then
    # bindgen (RocksDB) needs libclang; nothing else comes from Debian.
    if ! ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1; then
        apt-get install -y -q libclang-dev >&2
    fi
    start=$(date +%s)
    CARGO_TARGET_DIR="$AGAVE_ROOT/build" cargo install agave-validator --version "$VERSION" --locked \
        --root "$AGAVE_ROOT" --bin solana-test-validator "$@" >&2
    echo "agave-validator $VERSION built in $(( $(date +%s) - start )) s" >&2
    rm -rf "$AGAVE_ROOT/build"
fi
echo "$BIN"
