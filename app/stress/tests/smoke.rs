//! A short replay through the real program: every preset runs, conservation holds at every step,
//! the full preset liquidates partially where naive closes whole, and bad CSVs name their line.
use margin_engine_stress::{load_scenario, run, Preset, RunConfig};

#[test]
fn a_short_crash_under_every_preset() {
    let dir = std::env::temp_dir().join("stress-smoke");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("crash.csv");
    std::fs::write(&path, "# smoke\nseconds,price\n0,100\n600,100\n1800,70\n3600,72\n").unwrap();
    let scenario = load_scenario(path.to_str().unwrap(), 10, 7, None).unwrap();
    let cfg = RunConfig { accounts: 24, seed: 7, ..RunConfig::default() };
    let mut by_preset = vec![];
    for preset in Preset::ALL {
        let r = run(&scenario, preset, &cfg, |_, _| {});
        assert_eq!(r.summary.conservation_checks, scenario.path.len() - 1);
        by_preset.push(r);
    }
    let naive = &by_preset[0].summary;
    let drift = &by_preset[1].summary;
    let full = &by_preset[2].summary;
    assert!(naive.liquidations_full > 0 && naive.liquidations_partial == 0, "naive closes whole positions: {naive:?}");
    assert!(drift.liquidations_partial > 0 && full.liquidations_partial > 0, "the other presets liquidate partially");
    assert_eq!(naive.insurance_fund_start, 0.0, "naive has no insurance fund");
    assert!(
        full.peak_multiplier > 1.0 && drift.peak_multiplier == 1.0,
        "only the full preset scales margin with volatility"
    );
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
