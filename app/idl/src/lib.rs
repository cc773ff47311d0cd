//! The Anchor IDL of `margin_engine`, built the way `anchor idl build` does it (compiling the
//! program's `idl-build` test functions and collecting what they print), without the Anchor CLI.
use std::path::{Path, PathBuf};

/// The repository root (this crate lives in `app/idl`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// Where the committed IDL lives; the TypeScript client reads it from here.
pub fn committed_idl_path() -> PathBuf {
    repo_root().join("app/idl/margin_engine.json")
}

/// Builds the IDL and returns it as pretty JSON with a trailing newline.
pub fn build_idl_json() -> Result<String, String> {
    let root = repo_root();
    // anchor-lang-idl re-runs cargo with `+{RUSTUP_TOOLCHAIN}` when that is set (as it is inside
    // `cargo test`), and writes the toolchain name literally; rust-toolchain.toml pins it anyway.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let idl = anchor_lang_idl::build::IdlBuilder::new()
        .program_path(root.join("programs/margin-engine"))
        // A target dir of its own: the idl-build feature and `-A warnings` rebuild everything, and
        // the outer `cargo test` holds the lock on the workspace's.
        .cargo_args(vec!["--locked".into(), "--target-dir".into(), root.join("target/idl-build").display().to_string()])
        .build()
        .map_err(|e| e.to_string())?;
    let mut json = serde_json::to_string_pretty(&idl).map_err(|e| e.to_string())?;
    json.push('\n');
    Ok(json)
}
