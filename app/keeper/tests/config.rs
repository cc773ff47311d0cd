use margin_engine_keeper::KeeperConfig;

#[test]
fn the_example_config_parses_and_unknown_keys_are_refused() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/keeper.example.toml")).unwrap();
    let config = KeeperConfig::from_toml(&text).unwrap();
    assert_eq!(config.markets.len(), 2);
    assert_eq!(config.priority_fee_micro_lamports, 1_000);
    assert!(config.modes.liquidator && config.modes.filler);
    assert!(KeeperConfig::from_toml("rpc_url = \"x\"\nbogus = 1").is_err());
    assert_eq!(KeeperConfig::default().compute_unit_limit, 400_000);
}
