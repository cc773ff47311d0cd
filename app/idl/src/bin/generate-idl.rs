//! Regenerates app/idl/margin_engine.json: `cargo run -p margin-engine-idl --bin generate-idl`.
fn main() {
    let json = margin_engine_idl::build_idl_json().unwrap_or_else(|e| panic!("IDL build failed: {e}"));
    let path = margin_engine_idl::committed_idl_path();
    std::fs::write(&path, json).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!("wrote {}", path.display());
}
