#!/usr/bin/env bash
# Builds programs/margin-engine to a real SBPF V3 shared object, target/deploy/margin_engine.so,
# without Solana's platform-tools (cargo build-sbf downloads those from a host this machine
# cannot reach). Route, as measured in shared/docs/toolchain-notes.md section 2:
#   - a pinned nightly rustc with rust-src (upstream LLVM's BPF backend),
#   - sbpf-linker, installed with cargo install (links the bitcode into SBPF V3 with the toolchain's libLLVM),
#   - a custom target, programs/sbf/sbpf-solana.json = bpfel-unknown-none with os "solana" (solana crates
#     and anchor-lang gate their syscalls on target_os = "solana"),
#   - std rebuilt (-Z build-std) from a copy of rust-src's library/ with programs/sbf/std-solana.patch,
#   - the wrapper crate programs/sbf/program-build (entrypoint on, getrandom "custom" for os solana).
# Idempotent: every step is skipped when its result is already there.
# Usage: programs/sbf/build.sh            (SBF_QUIET=1 hides cargo's progress lines)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
NIGHTLY="nightly-2026-10-30"
SBPF_LINKER_VERSION="0.2.6"
TOOLS="$ROOT/target/sbf-tools"        # cargo install --root for sbpf-linker
STD_DIR="$ROOT/target/sbf-std"        # the patched copy of library/
BUILD_DIR="$ROOT/target/sbf-build"    # cargo target dir of the SBF build (apart from target/debug)
OUT_DIR="$ROOT/target/deploy"
TARGET_JSON="$ROOT/programs/sbf/sbpf-solana.json"
STD_PATCH="$ROOT/programs/sbf/std-solana.patch"
START=$(date +%s)

log() { printf '[build-sbf] %s\n' "$*" >&2; }

# 1. The pinned nightly with rust-src (later dates were not on the dist server).
SYSROOT="$(rustc +"$NIGHTLY" --print sysroot 2>/dev/null || true)"
if [ -z "$SYSROOT" ] || [ ! -f "$SYSROOT/lib/rustlib/src/rust/library/std/Cargo.toml" ]; then
    log "installing $NIGHTLY with rust-src"
    rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src
    SYSROOT="$(rustc +"$NIGHTLY" --print sysroot)"
fi
RUST_SRC="$SYSROOT/lib/rustlib/src/rust/library"

# 2. sbpf-linker, built with that nightly into a project-local root.
if ! grep -qs "\"sbpf-linker $SBPF_LINKER_VERSION " "$TOOLS/.crates2.json" || [ ! -x "$TOOLS/bin/sbpf-linker" ]; then
    log "installing sbpf-linker $SBPF_LINKER_VERSION into $TOOLS"
    cargo +"$NIGHTLY" install sbpf-linker --version "$SBPF_LINKER_VERSION" --locked --root "$TOOLS"
fi
export PATH="$TOOLS/bin:$PATH"

# 3. A patched copy of library/ (std for arch bpf / os solana). Re-made when the patch or the
#    toolchain changes; the copy's path stays the same so cargo's fingerprints stay valid.
STAMP="$( (rustc +"$NIGHTLY" -vV; cat "$STD_PATCH") | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STD_DIR/stamp" 2>/dev/null || true)" != "$STAMP" ] || [ ! -d "$STD_DIR/library" ]; then
    log "patching a copy of rust-src's library/ in $STD_DIR"
    rm -rf "$STD_DIR/library" "$STD_DIR/stamp"
    mkdir -p "$STD_DIR"
    cp -a "$RUST_SRC" "$STD_DIR/library"
    patch -s -p1 -d "$STD_DIR/library" < "$STD_PATCH"
    echo "$STAMP" > "$STD_DIR/stamp"
fi
# -Z build-std takes the library sources from here instead of the sysroot's rust-src.
export __CARGO_TESTS_ONLY_SRC_ROOT="$STD_DIR/library"

# 4. The build. Flags as measured (toolchain-notes.md section 2):
#    immediate-abort: no writable panic statics; static relocations; no jump tables;
#    atomics lowered (single-threaded VM); BPF v4 codegen, emitted by the linker as SBPF V3
#    (V0 output breaks calls with 6+ arguments) without the v4 sign-extension/bswap forms,
#    with the 4 KiB SBF stack frame.
RUSTFLAGS_LIST=(
    -Zunstable-options
    -Cpanic=immediate-abort
    -Crelocation-model=static
    -Cjump-tables=no
    -Cpasses=lower-atomic
    -Ctarget-cpu=v4
    # sbpf-linker 0.2.6: --arch is its own option (v3 is also its default); the stack size
    # and the disable-* switches are LLVM options it forwards (and reads the stack size back).
    -Clink-arg=--arch=v3
    # The linker's own optimisation level (the last -O wins over rustc's -O3): -O2 inlines less,
    # 11% less code for about 0.3% more CU (tests/sbf-runner/README.md, "Program size").
    -Clink-arg=-O2
    -Clink-arg=--llvm-args=--bpf-stack-size=4096
    -Clink-arg=--llvm-args=--disable-movsx
    -Clink-arg=--llvm-args=--disable-ldsx
    -Clink-arg=--llvm-args=--disable-bswap
    # Otherwise the linker also writes a copy to ./target/deploy of whatever cwd rustc has.
    -Clink-arg=--deploy=false
)
CARGO_ENCODED_RUSTFLAGS="$(IFS=$'\x1f'; echo "${RUSTFLAGS_LIST[*]}")"
export CARGO_ENCODED_RUSTFLAGS
unset RUSTFLAGS
CARGO_ARGS=(
    build --release
    --manifest-path "$ROOT/programs/sbf/program-build/Cargo.toml"
    --target "$TARGET_JSON"
    --target-dir "$BUILD_DIR"
    -Z build-std=std
    -Z build-std-features=compiler-builtins-mem
    -Z json-target-spec
)
[ "${SBF_QUIET:-0}" = 1 ] && CARGO_ARGS+=(--quiet)
log "cargo +$NIGHTLY ${CARGO_ARGS[*]}"
# Run from programs/sbf/program-build so that no rust-toolchain.toml of the main workspace interferes
# with the explicit +toolchain, and the wrapper's own [workspace] is used.
mkdir -p "$BUILD_DIR"
LOG="$BUILD_DIR/last-build.log"
if ! (cd "$ROOT/programs/sbf/program-build" && cargo +"$NIGHTLY" "${CARGO_ARGS[@]}") 2>&1 | tee "$LOG" >&2; then
    if grep -q "BPF stack limit is exceeded" "$LOG"; then
        grep -o "in function [^ ]*" "$LOG" | sort -u | sed 's/^/[build-sbf]   /' >&2
        log "a function needs more than the 4 KiB SBF stack frame (above): move large by-value"
        log "locals (copies of caches, big account structs) behind a reference, a Box or in place."
    fi
    # No stale .so for the runner to pick up as if it were this source's.
    rm -f "$OUT_DIR/margin_engine.so"
    log "build failed (log: $LOG); $OUT_DIR/margin_engine.so removed"
    exit 1
fi

# 5. Collect and check the artifact.
TARGET_NAME="$(basename "$TARGET_JSON" .json)"
ARTIFACT=""
for candidate in "$BUILD_DIR/$TARGET_NAME/release/margin_engine_sbf.so" "$BUILD_DIR/$TARGET_NAME/release/libmargin_engine_sbf.so"; do
    if [ -f "$candidate" ]; then ARTIFACT="$candidate"; break; fi
done
[ -n "$ARTIFACT" ] || { log "no .so found under $BUILD_DIR/$TARGET_NAME/release"; exit 1; }
mkdir -p "$OUT_DIR"
cp "$ARTIFACT" "$OUT_DIR/margin_engine.so"
SO="$OUT_DIR/margin_engine.so"
# ELF64 little-endian, machine EM_SBF (263) or EM_BPF (247); e_flags holds the SBPF version.
read -r MAGIC MACHINE FLAGS < <(python3 - "$SO" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read(64)
print(data[:4].hex(), struct.unpack_from("<H", data, 18)[0], struct.unpack_from("<I", data, 48)[0])
EOF
)
[ "$MAGIC" = "7f454c46" ] || { log "$SO is not an ELF file"; exit 1; }
[ "$FLAGS" = "3" ] || { log "$SO: e_flags $FLAGS, expected SBPF V3 (3)"; exit 1; }
END=$(date +%s)
SIZE=$(stat -c %s "$SO")
echo "built $SO: $SIZE bytes ($((SIZE / 1024)) KiB), ELF machine $MACHINE, SBPF V$FLAGS, in $((END - START)) s"
