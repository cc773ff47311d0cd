use super::*;

fn params() -> VolParams {
    VolParams {
        reference_variance: 100, // σ = 10 ppm per sqrt(slot)
        short_half_life_slots: 50,
        long_half_life_slots: 2_000,
        max_multiplier: 3_000_000,
        decay_per_slot: 1_000,
        maintenance_rise_per_slot: 2_000,
        regime_enter_ratio: 2_000_000,
        regime_exit_ratio: 1_500_000,
        regime_jump: 50_000,
        regime_min_slots: 100,
    }
}

/// The same recursion in f64, as the reference.
fn reference(prices: &[(u64, f64)], half_life: f64, prior: f64) -> f64 {
    let mut var = prior;
    for w in prices.windows(2) {
        let dt = (w[1].0 - w[0].0) as f64;
        let r = (w[1].1 - w[0].1) / w[0].1 * 1e6;
        let alpha = (dt * std::f64::consts::LN_2 / half_life).min(1.0);
        var += alpha * (r * r / dt - var);
    }
    var
}

#[test]
fn ewma_matches_an_f64_reference() {
    // An irregular path: gaps of 1..9 slots, moves of up to ±0.3%.
    let mut prices = vec![(100u64, 100_000_000f64)];
    let mut seed = 7u64;
    for _ in 0..400 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let gap = 1 + (seed >> 60) % 9;
        let mv = ((seed >> 20) % 6_001) as f64 / 1e6 - 0.003;
        let (slot, p) = *prices.last().unwrap();
        prices.push((slot + gap, (p * (1.0 + mv)).round()));
    }
    let mut s = VolState::new(&params());
    for &(slot, p) in &prices {
        s = step(&s, &params(), p as u64, slot).0;
    }
    for (got, hl) in [(s.var_short, 50.0), (s.var_long, 2_000.0)] {
        let want = reference(&prices, hl, 100.0);
        let err = (got as f64 - want).abs() / want;
        assert!(err < 0.01, "half-life {hl}: got {got}, f64 {want:.1}, rel err {err:.4}");
    }
}

#[test]
fn multiplier_rises_at_once_and_decays_at_a_bounded_rate() {
    let p = params();
    let mut s = VolState::new(&p);
    s = step(&s, &p, 100_000_000, 1).0;
    assert_eq!(s.initial_multiplier, 1_000_000);
    // A 2% move in one slot: sample 4e8 ppm² vs reference 100 -> target capped at 3x, at once.
    s = step(&s, &p, 102_000_000, 2).0;
    assert_eq!(s.initial_multiplier, 3_000_000);
    // Maintenance follows at 2,000 ppm per slot only.
    assert_eq!(s.maintenance_multiplier, 1_002_000);
    // Calm slots afterwards: the initial multiplier falls by at most 1,000 ppm per slot.
    let before = s.initial_multiplier;
    s = step(&s, &p, 102_000_000, 12).0;
    assert!(s.initial_multiplier >= before - 10 * 1_000);
    // Projection: a day later with nothing new, both are back toward the target.
    let later = project(&s, &p, 1_000_000);
    assert_eq!(later.initial_multiplier, target_multiplier(&s, &p));
}

#[test]
fn regime_enters_on_a_vol_burst_and_exits_after_calm() {
    let p = params();
    let mut s = VolState::new(&p);
    let mut price = 100_000_000u64;
    let mut slot = 1;
    s = step(&s, &p, price, slot).0;
    // Calm drift: 10 ppm per slot moves, like the reference.
    for _ in 0..200 {
        slot += 1;
        price += 1_000;
        s = step(&s, &p, price, slot).0;
    }
    assert_eq!(s.regime, CALM);
    // A burst of 0.1% moves (not one of them a 5% jump): σ_short outruns σ_long -> STRESSED.
    let mut entered_at = None;
    for i in 0..50 {
        slot += 1;
        price = if i % 2 == 0 { price * 1_001 / 1_000 } else { price * 999 / 1_000 };
        let (next, changed) = step(&s, &p, price, slot);
        s = next;
        if changed && entered_at.is_none() {
            entered_at = Some(i);
        }
    }
    assert_eq!(s.regime, STRESSED);
    assert!(entered_at.unwrap() < 10, "the signal fires early in the burst, not at its end");
    // Calm again: back to CALM once the short horizon settles and min_slots passed.
    for _ in 0..600 {
        slot += 1;
        price += 1_000;
        s = step(&s, &p, price, slot).0;
    }
    assert_eq!(s.regime, CALM);
}

#[test]
fn a_single_jump_is_stressed_at_once() {
    let p = params();
    let mut s = VolState::new(&p);
    s = step(&s, &p, 100_000_000, 1).0;
    let (s, changed) = step(&s, &p, 94_000_000, 50);
    assert!(changed);
    assert_eq!(s.regime, STRESSED);
}

#[test]
fn off_means_off() {
    let p = VolParams { max_multiplier: 1_000_000, ..params() };
    let mut s = VolState::new(&p);
    s = step(&s, &p, 100_000_000, 1).0;
    s = step(&s, &p, 150_000_000, 2).0;
    assert_eq!((s.initial_multiplier, s.maintenance_multiplier), (1_000_000, 1_000_000));
}
