//! The bootstrap against the in-process chain: first run builds everything, a second run changes
//! nothing, a changed parameter goes through the governance path.
use margin_engine::state::RiskParams;
use margin_engine_migrations::{bootstrap, parse};
use margin_engine_sdk::pda;
use margin_engine_tests::native::NativeBackend;
use margin_engine_tests::*;
use solana_sdk::signature::Keypair;

fn config_for(env: &TestEnv<NativeBackend>) -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/exchange.example.toml")).unwrap();
    text.replace("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", &env.collateral_mint.to_string())
        .replace("GuardDkzX7cMgHJy1tYZh6PHXtrumNUDmQcMsLZjZ4oV", &key(&env.guardian).to_string())
}

#[test]
fn bootstrap_is_idempotent_and_uses_the_governance_path() {
    let mut env = TestEnv::without_exchange(NativeBackend::new());
    let governance = Keypair::try_from(&env.governance.0[..]).unwrap();
    let text = config_for(&env);
    let config = parse(&text).unwrap();

    let first = bootstrap(&mut env, &config, &governance).unwrap();
    assert_eq!(first.len(), 3, "{first:?}");
    assert!(first[0].starts_with("initialized exchange"));
    assert_eq!(env.exchange().market_count, 2);
    assert_eq!(env.exchange().risk_timelock_slots, 432_000);
    assert_eq!(env.market(1).risk, config.markets[1].risk);

    let second = bootstrap(&mut env, &config, &governance).unwrap();
    assert!(second.is_empty(), "re-running changes nothing: {second:?}");

    // Tightening applies at once; loosening is queued, then executed by a later run once ready.
    let mut tighter = config.clone();
    tighter.markets[0].risk = RiskParams { initial_margin_ratio: 120_000, ..config.markets[0].risk };
    let third = bootstrap(&mut env, &tighter, &governance).unwrap();
    assert_eq!(third, vec!["market 0 SOL-PERP: risk parameters updated, applied (tightening)".to_string()]);
    assert_eq!(env.market(0).risk.initial_margin_ratio, 120_000);
    let fourth = bootstrap(&mut env, &config, &governance).unwrap();
    assert_eq!(
        fourth,
        vec!["market 0 SOL-PERP: risk parameters updated, queued behind the timelock (loosening)".to_string()]
    );
    assert_eq!(env.market(0).risk.initial_margin_ratio, 120_000);
    let waiting = bootstrap(&mut env, &config, &governance).unwrap();
    assert!(waiting[0].contains("queued until slot"), "{waiting:?}");
    env.advance_slots(432_000);
    let fifth = bootstrap(&mut env, &config, &governance).unwrap();
    assert_eq!(fifth, vec!["market 0 SOL-PERP: executed the queued risk change".to_string()]);
    assert_eq!(env.market(0).risk, config.markets[0].risk);
    assert!(bootstrap(&mut env, &config, &governance).unwrap().is_empty());
    assert!(env.account_exists(pda::market(1)));
}

#[test]
fn bad_files_are_refused_with_a_reason() {
    assert!(parse("[exchange]\ncollateral_mint = 1").is_err());
    let env = TestEnv::without_exchange(NativeBackend::new());
    let text =
        config_for(&env).replace("initial_margin_ratio = 100000", "initial_margin_ratio = 100000\nbogus_field = 1");
    let err = parse(&text).unwrap_err().to_string();
    assert!(err.contains("bogus_field"), "{err}");
}
