//! Fails when the committed IDL no longer matches the program (an instruction, account, type,
//! event or error changed without `cargo run -p margin-engine-idl --bin generate-idl`).
#[test]
fn committed_idl_matches_the_program() {
    let built = margin_engine_idl::build_idl_json().expect("IDL builds");
    let path = margin_engine_idl::committed_idl_path();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        built == committed,
        "{} is out of date: run `cargo run -p margin-engine-idl --bin generate-idl` and commit it",
        path.display()
    );
    // The IDL is the client's contract: it must name every instruction the program has.
    let idl: serde_json::Value = serde_json::from_str(&built).unwrap();
    let instructions = idl["instructions"].as_array().unwrap();
    assert_eq!(instructions.len(), 34, "instruction count changed");
    assert_eq!(idl["address"], "MeZJ6Hft6cGFwoGzrTSfXzTNhQvLJTvTbmY8AATWPSF");
}

/// Every instruction of the IDL has exactly one entry in the program's gate table
/// (`programs/margin-engine/src/instructions/gates.rs`), and the table has nothing else.
#[test]
fn gate_table_covers_every_instruction() {
    let idl: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(margin_engine_idl::committed_idl_path()).unwrap()).unwrap();
    let gates_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../programs/margin-engine/src/instructions/gates.rs");
    let gates = std::fs::read_to_string(gates_path).unwrap();
    let instructions = idl["instructions"].as_array().unwrap();
    for ix in instructions {
        let name = ix["name"].as_str().unwrap();
        assert_eq!(gates.matches(&format!("(\"{name}\", ")).count(), 1, "{name}: one entry in the gate table");
    }
    assert_eq!(gates.matches("    (\"").count(), instructions.len(), "the gate table names an unknown instruction");
}
