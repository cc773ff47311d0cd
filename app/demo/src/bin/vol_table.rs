//! Prints the volatility multiplier and regime along a scenario path, one oracle update every
//! 10 s (25 slots of 400 ms), using the program's own `math::volatility` with the parameters the
//! tests use for a volatility-adjusted market (`margin_engine_tests::volatility_risk`), on the
//! interpolated path with seeded noise.
//! Usage: vol-table <scenario.csv> [rows]
use margin_engine::math::volatility::{sigma_ratio, step, VolState, STRESSED};
use margin_engine_sdk::scenario::{interpolate, parse, to_price_1e6, with_noise};

const SECONDS_PER_UPDATE: u64 = 10;
const SLOTS_PER_UPDATE: u64 = 25;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "../shared/scenarios/yen-carry-2024.csv".into());
    let rows: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(16);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let points = parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    // Waypoints are shapes; seeded noise (0.05% per update, more where the path moves fast) stands
    // in for the intraday volatility the shapes leave out.
    let series = with_noise(&interpolate(&points, SECONDS_PER_UPDATE), 1, 0.0005, 3.0);
    let params = margin_engine_tests::volatility_risk().vol_params();
    let mut state = VolState::new(&params);
    let every = (series.len() / rows).max(1);
    println!("{path}: {} updates, reference σ² = {} ppm²/slot", series.len(), params.reference_variance);
    println!("| hour | price | σ_short/σ_ref | σ_short/σ_long | initial × | maintenance × | regime |");
    println!("|---:|---:|---:|---:|---:|---:|---|");
    let mut peak = 0u32;
    for (i, (seconds, price)) in series.iter().enumerate() {
        state = step(&state, &params, to_price_1e6(*price), 1 + i as u64 * SLOTS_PER_UPDATE).0;
        peak = peak.max(state.initial_multiplier);
        if i % every == 0 || i + 1 == series.len() {
            println!(
                "| {:.1} | {:.2} | {:.2} | {:.2} | {:.3} | {:.3} | {} |",
                *seconds as f64 / 3600.0,
                price,
                sigma_ratio(state.var_short, params.reference_variance) as f64 / 1e6,
                sigma_ratio(state.var_short, state.var_long) as f64 / 1e6,
                state.initial_multiplier as f64 / 1e6,
                state.maintenance_multiplier as f64 / 1e6,
                if state.regime == STRESSED { "STRESSED" } else { "calm" },
            );
        }
    }
    println!("peak initial multiplier: {:.3}", peak as f64 / 1e6);
}
