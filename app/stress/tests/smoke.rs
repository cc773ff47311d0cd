//! A short crash through the real program with the whole market model: every preset runs,
//! conservation holds at every step, forced flow moves prices, the full preset liquidates
//! partially where naive closes whole, every attacker ends without profit, and bad CSVs name
//! their line.
use margin_engine_stress::agents::attackers::AttackKind;
use margin_engine_stress::{load_scenario, run, Preset, RunConfig};

#[test]
fn a_short_crash_under_every_preset() {
    let dir = std::env::temp_dir().join("stress-smoke");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("crash.csv");
    std::fs::write(&path, "# smoke\nseconds,price\n0,100\n3600,100\n5400,70\n9000,72\n10800,75\n").unwrap();
    let scenario = load_scenario(path.to_str().unwrap(), 60, 7, None).unwrap();
    let cfg = RunConfig { accounts: 30, seed: 7, step_seconds: 60, sample_every_steps: 5, ..RunConfig::default() };
    let mut by_preset = vec![];
    for preset in Preset::ALL {
        let r = run(&scenario, preset, &cfg, |_, _| {});
        assert_eq!(r.summary.conservation_checks, scenario.path.len() - 1);
        assert_eq!(r.attackers.len(), AttackKind::ALL.len());
        for a in &r.attackers {
            assert!(a.profit <= 0.0, "{} / {:?}: attacker made {}", preset.name(), a.kind, a.profit);
        }
        assert!(r.summary.trader_trades > 0, "live traders trade: {:?}", r.summary);
        by_preset.push(r);
    }
    let naive = &by_preset[0].summary;
    let drift = &by_preset[1].summary;
    let full = &by_preset[2].summary;
    assert!(
        naive.liquidations_full > 0 && naive.liquidations_full == naive.liquidations,
        "naive closes whole: {naive:?}"
    );
    assert!(drift.liquidations > drift.liquidations_full, "drift-like liquidates partially: {drift:?}");
    assert!(full.liquidations > full.liquidations_full, "full liquidates partially: {full:?}");
    assert_eq!(naive.insurance_covered, 0.0, "naive has no insurance fund to draw on");
    assert!(full.peak_multiplier > 1.0 && drift.peak_multiplier == 1.0, "only full scales margin with volatility");
    // Forced flow went through the depth and moved the published price off the scenario's.
    assert!(naive.forced_volume > 0.0 && naive.peak_impact_percent > 0.0);
    let moved = by_preset[0].samples.iter().any(|s| (s.oracle[2] / s.exogenous[2] - 1.0).abs() > 1e-4);
    assert!(moved, "impact shows in the oracle");
}

#[test]
fn any_csv_works_and_bad_files_name_the_line() {
    let dir = std::env::temp_dir().join("stress-smoke-bad");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "seconds,price\n0,100\n10,oops\n").unwrap();
    let err = load_scenario(bad.to_str().unwrap(), 10, 1, None).unwrap_err();
    assert!(err.contains("line 3"), "{err}");
    assert!(load_scenario("/nonexistent.csv", 10, 1, None).is_err());
    let g = load_scenario("garch", 60, 1, Some(2.0)).unwrap();
    assert_eq!(g.path.len(), 121);
}
