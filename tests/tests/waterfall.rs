//! Issue 5 through the real program: liquidator -> insurance fund (capped) -> ADL -> socialised loss.
use anchor_lang::prelude::Pubkey;
use margin_engine::error::ErrorCode;
use margin_engine::math::adl::{bankruptcy_price, clamp_to_band};
use margin_engine::state::margin_account_flags::BANKRUPT;
use margin_engine::state::RiskParams;
use margin_engine_sdk::instructions as ix;
use margin_engine_sdk::pda;
// The backend under test: the native program by default; the SBF .so when the suite is compiled
// into `tests/sbf-runner` with `--cfg sbf_backend` (which defines `crate::TestBackend`).
#[cfg(sbf_backend)]
use crate::TestBackend;
#[cfg(not(sbf_backend))]
use margin_engine_tests::native::NativeBackend as TestBackend;
use margin_engine_tests::*;

const P100: u64 = 100_000_000;
const P80: u64 = 80_000_000;

fn position(env: &mut TestEnv<TestBackend>, account: Pubkey) -> i64 {
    let acc = env.margin_account(account);
    let base = acc.active_positions().find(|p| p.market_index == 0).map_or(0, |p| p.base_amount);
    base
}

fn next_slot(env: &mut TestEnv<TestBackend>, price: u64) {
    env.advance_slots(1);
    env.set_price(0, price as i64);
}

struct World {
    env: TestEnv<TestBackend>,
    filler: Trader,
    keeper: Trader,
    liquidator: Trader,
}

/// The waterfall is exercised on 20–25% moves; the price breaker (tested on its own) gets wide
/// bands here so new positions can still be opened after the crash.
fn world(risk: RiskParams) -> World {
    let risk = RiskParams { breaker_soft_band: 300_000, breaker_hard_band: 600_000, ..risk };
    let mut env = TestEnv::new(TestBackend::new());
    env.add_market("SOL-PERP", P100 as i64, risk);
    let filler = env.new_trader(0);
    let keeper = env.new_trader(0);
    let liquidator = env.new_trader(1_000_000 * USDC);
    env.deposit(&liquidator, 100_000 * USDC).unwrap();
    World { env, filler, keeper, liquidator }
}

/// A trader with `deposit` going long `size` at $100 against a fresh short with $5,000.
fn long_vs_short(w: &mut World, deposit: u64, size: u64) -> (Trader, Trader) {
    let long = w.env.new_trader(100_000 * USDC);
    let short = w.env.new_trader(100_000 * USDC);
    w.env.deposit(&long, deposit).unwrap();
    w.env.deposit(&short, 5_000 * USDC).unwrap();
    let filler = w.filler.clone();
    w.env.trade(&filler, &long, &short, 0, BID, P100, size).unwrap();
    (long, short)
}

#[test]
fn the_whole_waterfall_on_one_crash() {
    let mut w = world(RiskParams { insurance_draw_cap: 2_000 * USDC, ..default_risk() });
    let staker = w.env.new_trader(10_000 * USDC);
    let (b1, _w1) = long_vs_short(&mut w, 1_100 * USDC, 100 * BASE as u64);
    let (b2, w2) = long_vs_short(&mut w, 1_600 * USDC, 150 * BASE as u64);
    w.env.stake(&staker, 5_000 * USDC).unwrap();
    let keeper = w.keeper.clone();
    let liquidator = w.liquidator.clone();
    let env = &mut w.env;
    env.assert_conservation();

    // The crash: $100 -> $80. Both longs are under water beyond their collateral.
    env.set_price(0, P80 as i64);
    for b in [&b1, &b2] {
        assert!(env.health(b.margin_account, &[(0, P80)]).equity() < 0);
        env.liquidate(&liquidator, b, 0, u64::MAX).unwrap();
        assert_eq!(env.margin_account(b.margin_account).flags, BANKRUPT);
    }
    assert_eq!(env.market(0).last_bad_debt_slot, env.slot());

    // Rung 1, within the cap: the fund pays b1's deficit plus the fees of closing it, and a bounty.
    let fund_before = env.token_balance(pda::insurance_vault());
    let deficit = -env.health(b1.margin_account, &[(0, P80)]).equity();
    let closing_fees = 8_000 * USDC as i128 / 100; // 1% of 100 × $80
    env.resolve_bankruptcy(&keeper, &b1, 0).unwrap();
    let paid = (deficit + closing_fees) as u64 + 1_000_000;
    assert_eq!(fund_before - env.token_balance(pda::insurance_vault()), paid);
    assert_eq!(env.margin_account(keeper.margin_account).collateral, 1_000_000, "keeper bounty");
    assert_eq!(env.margin_account(b1.margin_account).flags, 0);
    assert_eq!(env.health(b1.margin_account, &[(0, P80)]).equity(), closing_fees);
    assert_eq!(env.market(0).insurance_drawn_in_period, paid);
    env.assert_conservation();
    // ...and b1 is then liquidated normally, its liquidator paid from what the fund put in.
    let mut guard = 0;
    while position(env, b1.margin_account) != 0 {
        next_slot(env, P80);
        env.liquidate(&liquidator, &b1, 0, u64::MAX).unwrap();
        env.assert_conservation();
        guard += 1;
        assert!(guard < 12);
    }
    assert!(env.margin_account(b1.margin_account).collateral >= 0, "no bad debt left behind");

    // Rung 1 again, beyond the cap: b2's need exceeds what is left of the $2,000 period cap.
    next_slot(env, P80);
    env.resolve_bankruptcy(&keeper, &b2, 0).unwrap();
    assert_eq!(env.market(0).insurance_drawn_in_period, 2_000 * USDC);
    assert_eq!(env.margin_account(b2.margin_account).flags, BANKRUPT, "partly covered: still bankrupt");
    assert_eq!(env.resolve_bankruptcy(&keeper, &b2, 0), Err(program_error(ErrorCode::InsuranceCannotCover)));
    env.assert_conservation();

    // Rung 2: ADL against the most profitable opposite position, at the bankruptcy price.
    let equity = env.health(b2.margin_account, &[(0, P80)]).equity();
    let expected_price =
        clamp_to_band(bankruptcy_price(P80, 150 * BASE, equity).unwrap(), P80, default_risk().adl_price_band);
    assert!(expected_price > P80 && expected_price < P100);
    let w2_collateral = env.margin_account(w2.margin_account).collateral;
    env.auto_deleverage(&keeper, &b2, 0, &[w2.margin_account]).unwrap();
    assert_eq!(position(env, b2.margin_account), 0);
    assert_eq!(position(env, w2.margin_account), 0, "w2's short of 150 closed entirely");
    // w2 realises its short from $100 to the ADL price: 150 × (100 − q).
    let realised = 150 * (P100 - expected_price) as i64;
    assert_eq!(env.margin_account(w2.margin_account).collateral - w2_collateral, realised);
    env.assert_conservation();

    // Rung 3: whatever rounding left below zero is socialised; otherwise the account is clear.
    let b2_acc = env.margin_account(b2.margin_account);
    // The ADL price has 1e-6 precision per whole base and rounds toward the oracle, so at most one
    // unit per whole base closed (150) plus one of quote rounding is left over.
    assert!(b2_acc.collateral <= 0 && b2_acc.collateral >= -151, "ADL residual: {}", b2_acc.collateral);
    if b2_acc.collateral < 0 {
        env.socialize_loss(&keeper, &b2, 0).unwrap();
    }
    assert_eq!(env.margin_account(b2.margin_account).collateral, 0);
    env.assert_conservation();
}

#[test]
fn adl_candidates_are_checked() {
    let risk = RiskParams { insurance_draw_cap: 0, adl_min_score: 150_000, fee_insurance_share: 0, ..default_risk() };
    let mut w = world(risk);
    let (bankrupt, short_a) = long_vs_short(&mut w, 1_600 * USDC, 150 * BASE as u64);
    let (other_long, short_b) = long_vs_short(&mut w, 5_000 * USDC, 100 * BASE as u64);
    // A short opened at $75 loses at any ADL price above $75.
    let late_short = w.env.new_trader(100_000 * USDC);
    w.env.deposit(&late_short, 5_000 * USDC).unwrap();
    let keeper = w.keeper.clone();
    let liquidator = w.liquidator.clone();
    let filler = w.filler.clone();
    let env = &mut w.env;
    env.set_price(0, 75_000_000);
    env.trade(&filler, &late_short, &other_long, 0, ASK, 75_000_000, BASE as u64).unwrap();
    env.set_price(0, P80 as i64);
    env.liquidate(&liquidator, &bankrupt, 0, u64::MAX).unwrap();
    assert_eq!(env.margin_account(bankrupt.margin_account).flags, BANKRUPT);
    // The fund's cap is zero for this market: ADL is allowed straight away.
    assert_eq!(env.resolve_bankruptcy(&keeper, &bankrupt, 0), Err(program_error(ErrorCode::InsuranceCannotCover)));

    // Scores at $80: short_a +20% × 12,000/8,000 = 0.30; short_b +20% × 8,000/7,000 ≈ 0.229.
    let before = env.margin_account(bankrupt.margin_account);
    let cases: Vec<(Vec<Pubkey>, ErrorCode)> = vec![
        (vec![other_long.margin_account], ErrorCode::CandidateSameSide),
        (vec![late_short.margin_account], ErrorCode::CandidateNotProfitable),
        (vec![short_b.margin_account, short_a.margin_account], ErrorCode::CandidatesOutOfOrder),
        (vec![keeper.margin_account], ErrorCode::CandidateNoPosition),
        // The bankrupt account itself (its own position is the one being closed).
        (vec![bankrupt.margin_account], ErrorCode::CandidateSameSide),
    ];
    for (candidates, expected) in cases {
        assert_eq!(
            env.auto_deleverage(&keeper, &bankrupt, 0, &candidates),
            Err(program_error(expected)),
            "{expected:?}"
        );
    }
    // A read-only candidate account is refused.
    let mut bad = ix::auto_deleverage(
        keeper.owner,
        bankrupt.margin_account,
        0,
        env.oracles_of(0),
        &[short_a.margin_account],
        vec![],
    );
    bad.accounts.last_mut().unwrap().is_writable = false;
    assert_eq!(env.send(bad, &[&keeper.keypair]), Err(program_error(ErrorCode::CandidateNotWritable)));
    // Not bankrupt -> nothing to deleverage.
    assert_eq!(
        env.auto_deleverage(&keeper, &other_long, 0, &[short_a.margin_account]),
        Err(program_error(ErrorCode::NotBankrupt))
    );
    let after = env.margin_account(bankrupt.margin_account);
    assert_eq!(
        (after.collateral, after.positions[0].base_amount),
        (before.collateral, before.positions[0].base_amount)
    );

    // A correctly ordered batch above the 0.15 threshold closes the bankrupt position: short_a
    // (150 base) is used whole, short_b is not needed.
    env.auto_deleverage(&keeper, &bankrupt, 0, &[short_a.margin_account, short_b.margin_account]).unwrap();
    assert_eq!(position(env, bankrupt.margin_account), 0);
    assert_eq!(position(env, short_a.margin_account), 0);
    assert_eq!(position(env, short_b.margin_account), -100 * BASE);
    env.assert_conservation();
}

#[test]
fn adl_threshold_is_enforced() {
    let risk = RiskParams { insurance_draw_cap: 0, adl_min_score: 250_000, fee_insurance_share: 0, ..default_risk() };
    let mut w = world(risk);
    let (bankrupt, short_a) = long_vs_short(&mut w, 1_600 * USDC, 150 * BASE as u64);
    let (_other, short_b) = long_vs_short(&mut w, 5_000 * USDC, 100 * BASE as u64);
    let keeper = w.keeper.clone();
    let liquidator = w.liquidator.clone();
    let env = &mut w.env;
    env.set_price(0, P80 as i64);
    env.liquidate(&liquidator, &bankrupt, 0, u64::MAX).unwrap();
    // short_b scores ~0.229 < 0.25: refused; short_a (0.30) is eligible.
    assert_eq!(
        env.auto_deleverage(&keeper, &bankrupt, 0, &[short_b.margin_account]),
        Err(program_error(ErrorCode::CandidateBelowThreshold))
    );
    env.auto_deleverage(&keeper, &bankrupt, 0, &[short_a.margin_account]).unwrap();
    env.assert_conservation();
}

#[test]
fn a_socialised_loss_is_spread_over_open_interest_exactly() {
    // ADL band of 1%: the bankruptcy price lies far outside it, so ADL closes at the band edge and
    // leaves a real loss to socialise. No insurance money at all.
    let risk = RiskParams { insurance_draw_cap: 0, adl_price_band: 10_000, fee_insurance_share: 0, ..default_risk() };
    let mut w = world(risk);
    let (bankrupt, short_a) = long_vs_short(&mut w, 1_600 * USDC, 150 * BASE as u64);
    let (x, y) = long_vs_short(&mut w, 5_000 * USDC, 50 * BASE as u64);
    let keeper = w.keeper.clone();
    let liquidator = w.liquidator.clone();
    let env = &mut w.env;
    env.set_price(0, P80 as i64);
    env.liquidate(&liquidator, &bankrupt, 0, u64::MAX).unwrap();
    assert_eq!(env.socialize_loss(&keeper, &bankrupt, 0), Err(program_error(ErrorCode::AccountStillHasPositions)));
    env.auto_deleverage(&keeper, &bankrupt, 0, &[short_a.margin_account]).unwrap();
    assert_eq!(position(env, bankrupt.margin_account), 0);
    let loss = -env.margin_account(bankrupt.margin_account).collateral;
    assert!(loss > 0, "the band left a loss");
    assert_eq!(env.margin_account(bankrupt.margin_account).flags, BANKRUPT);

    // Everyone still holding a position shares it; equity before, by the program's own math:
    let holders = [x.margin_account, y.margin_account, liquidator.margin_account, short_a.margin_account];
    let equity_before: Vec<i128> = holders.iter().map(|a| env.health(*a, &[(0, P80)]).equity()).collect();
    let oi = env.market(0).open_interest_long + env.market(0).open_interest_short;
    env.socialize_loss(&keeper, &bankrupt, 0).unwrap();
    assert_eq!(env.margin_account(bankrupt.margin_account).collateral, 0);
    assert_eq!(env.margin_account(bankrupt.margin_account).flags, 0);
    let m = env.market(0);
    assert_eq!(m.socialized_loss_total, loss as u64);
    assert_eq!(m.funding_pool, -loss);
    env.assert_conservation();
    let equity_after: Vec<i128> = holders.iter().map(|a| env.health(*a, &[(0, P80)]).equity()).collect();
    let absorbed: i128 = equity_before.iter().zip(&equity_after).map(|(b, a)| b - a).sum();
    // Every unit of the loss is absorbed; per-position rounding up adds at most a unit each.
    assert!(
        absorbed >= loss as i128 && absorbed <= loss as i128 + holders.len() as i128 + (oi / BASE as u64) as i128,
        "absorbed {absorbed} of {loss}"
    );
    // Settling positions refills the pool: close x and y against each other.
    let filler = w.filler.clone();
    let env = &mut w.env;
    env.trade(&filler, &y, &x, 0, BID, P80, 50 * BASE as u64).unwrap();
    env.assert_conservation();
    // A trader with no position absorbed nothing.
    let bystander = env.new_trader(0);
    assert_eq!(env.health(bystander.margin_account, &[(0, P80)]).equity(), 0);
}

#[test]
fn withdrawals_leaning_on_a_market_with_fresh_bad_debt_wait() {
    let mut w = world(RiskParams { insurance_draw_cap: 0, ..default_risk() });
    let (bankrupt, winner) = long_vs_short(&mut w, 1_100 * USDC, 100 * BASE as u64);
    let liquidator = w.liquidator.clone();
    let env = &mut w.env;
    env.set_price(0, P80 as i64);
    env.liquidate(&liquidator, &bankrupt, 0, u64::MAX).unwrap();
    // The winner's +$2,000 paper gain cannot back a withdrawal right now...
    let h = env.health(winner.margin_account, &[(0, P80)]);
    assert!(h.initial_health > 2_000 * USDC as i128);
    // Initial health 4,998 − 800 (the gain counts at the stable price, still about $100): taking
    // 3,000 would leave 1,198, less than the gated 2,000 of PnL.
    assert_eq!(env.withdraw(&winner, 3_000 * USDC), Err(program_error(ErrorCode::WithdrawalGatedByBadDebt)));
    // ...but collateral not relying on it can leave.
    env.withdraw(&winner, 1_000 * USDC).unwrap();
    // After the gate (50 slots) the gain counts again.
    env.advance_slots(51);
    env.set_price(0, P80 as i64);
    env.withdraw(&winner, 3_000 * USDC).unwrap();
    env.assert_conservation();
}

#[test]
fn insurance_staking_cooldown_and_protocol_revenue() {
    let mut w = world(default_risk());
    let (_a, _b) = long_vs_short(&mut w, 5_000 * USDC, 100 * BASE as u64);
    let staker = w.env.new_trader(10_000 * USDC);
    let env = &mut w.env;
    // Fee revenue already in the fund (25% of $12 of fees) belongs to the protocol.
    let revenue = env.token_balance(pda::insurance_vault());
    assert_eq!(revenue, 3 * USDC);
    env.stake(&staker, 1_000 * USDC).unwrap();
    let ex = env.exchange();
    assert_eq!((ex.insurance_protocol_shares, ex.insurance_total_shares), (revenue, revenue + 1_000 * USDC));
    let stake = margin_engine_sdk::accounts::decode::<margin_engine::state::InsuranceStake>(
        &env.raw_data(pda::insurance_stake(&staker.owner)),
    )
    .unwrap();
    assert_eq!(stake.shares, 1_000 * USDC);

    // Unstake: request, cooldown, withdraw.
    assert_eq!(
        env.send(ix::unstake_insurance(staker.owner, staker.token_account), &[&staker.keypair]),
        Err(program_error(ErrorCode::NoUnstakeRequest))
    );
    assert_eq!(
        env.send(ix::request_unstake(staker.owner, 1_000 * USDC + 1), &[&staker.keypair]),
        Err(program_error(ErrorCode::InsufficientShares))
    );
    // Fresh shares warm up for one cooldown before they can be requested.
    assert_eq!(
        env.send(ix::request_unstake(staker.owner, 400 * USDC), &[&staker.keypair]),
        Err(program_error(ErrorCode::StakeStillWarmingUp))
    );
    env.advance_slots(INSURANCE_COOLDOWN_SLOTS);
    env.send(ix::request_unstake(staker.owner, 400 * USDC), &[&staker.keypair]).unwrap();
    assert_eq!(
        env.send(ix::request_unstake(staker.owner, 100 * USDC), &[&staker.keypair]),
        Err(program_error(ErrorCode::UnstakeAlreadyRequested))
    );
    assert_eq!(
        env.send(ix::unstake_insurance(staker.owner, staker.token_account), &[&staker.keypair]),
        Err(program_error(ErrorCode::UnstakeCooldown))
    );
    // Someone else cannot touch the stake.
    let thief = env.new_trader(0);
    let mut steal = ix::unstake_insurance(thief.owner, thief.token_account);
    steal.accounts[1].pubkey = pda::insurance_stake(&staker.owner);
    assert_eq!(env.send(steal, &[&thief.keypair]), Err(program_error(ErrorCode::NotAccountOwner)));
    env.advance_slots(INSURANCE_COOLDOWN_SLOTS);
    let wallet = env.token_balance(staker.token_account);
    env.send(ix::unstake_insurance(staker.owner, staker.token_account), &[&staker.keypair]).unwrap();
    // Value frozen at request (shares rounded for the fund): at most 400, at least 400 − 1 unit.
    let got = env.token_balance(staker.token_account) - wallet;
    assert!(got <= 400 * USDC && got >= 400 * USDC - 1, "got {got}");

    // Governance takes protocol revenue, never stakers' money, never below the floor.
    let gov = env.governance.clone();
    let dest = Pubkey::new_unique();
    env.write_token_account(dest, env.collateral_mint, key(&gov), 0);
    assert_eq!(
        env.send(ix::withdraw_protocol_revenue(thief.owner, dest, USDC), &[&thief.keypair]),
        Err(program_error(ErrorCode::NotGovernance))
    );
    assert_eq!(
        env.send(ix::withdraw_protocol_revenue(key(&gov), dest, 4 * USDC), &[&gov]),
        Err(program_error(ErrorCode::InsuranceRevenueFloor))
    );
    env.send(ix::withdraw_protocol_revenue(key(&gov), dest, 2 * USDC), &[&gov]).unwrap();
    assert_eq!(env.token_balance(dest), 2 * USDC);
    env.assert_conservation();
}

#[test]
fn a_loss_between_request_and_withdrawal_is_shared_by_the_leaver() {
    let mut w = world(RiskParams { insurance_draw_cap: 100_000 * USDC, ..default_risk() });
    let staker = w.env.new_trader(10_000 * USDC);
    let (bankrupt, _short) = long_vs_short(&mut w, 1_100 * USDC, 100 * BASE as u64);
    let keeper = w.keeper.clone();
    let liquidator = w.liquidator.clone();
    let env = &mut w.env;
    env.stake(&staker, 2_000 * USDC).unwrap();
    env.advance_slots(INSURANCE_COOLDOWN_SLOTS);
    env.send(ix::request_unstake(staker.owner, 2_000 * USDC), &[&staker.keypair]).unwrap();
    // The fund pays a bankruptcy during the cooldown.
    env.set_price(0, P80 as i64);
    env.liquidate(&liquidator, &bankrupt, 0, u64::MAX).unwrap();
    env.resolve_bankruptcy(&keeper, &bankrupt, 0).unwrap();
    env.advance_slots(INSURANCE_COOLDOWN_SLOTS);
    let ex = env.exchange();
    let fund = env.token_balance(pda::insurance_vault());
    let value_now =
        margin_engine::math::insurance::value_of_shares(2_000 * USDC, ex.insurance_total_shares, fund).unwrap();
    assert!(value_now < 2_000 * USDC);
    let wallet = env.token_balance(staker.token_account);
    env.send(ix::unstake_insurance(staker.owner, staker.token_account), &[&staker.keypair]).unwrap();
    assert_eq!(
        env.token_balance(staker.token_account) - wallet,
        value_now,
        "the lesser of requested and current value"
    );
    env.assert_conservation();
}
