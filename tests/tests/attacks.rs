//! Issue 15: every finding of the adversarial review as an attack run through the real program
//! (natively, and on the SBF .so when compiled into tests/sbf-runner). Each attack is refused with
//! its own error and changes nothing (`fingerprint` compares every account of the exchange before
//! and after), or it runs and the attacker gains nothing; conservation holds after every step.
use anchor_lang::prelude::{AccountMeta, Pubkey};
use margin_engine::error::ErrorCode;
use margin_engine::instructions::gates;
use margin_engine::state::margin_account_flags::BANKRUPT;
use margin_engine::state::{paused_operations, RiskParams};
use margin_engine_sdk::instructions::{self as ix, Fill, MarketOracles};
use margin_engine_sdk::pda;
use pyth_solana_receiver_sdk::price_update::VerificationLevel;
// The backend under test: the native program by default; the SBF .so when the suite is compiled
// into `tests/sbf-runner` with `--cfg sbf_backend` (which defines `crate::TestBackend`).
#[cfg(sbf_backend)]
use crate::TestBackend;
#[cfg(not(sbf_backend))]
use margin_engine_tests::native::NativeBackend as TestBackend;
use margin_engine_tests::*;

const P100: u64 = 100_000_000;

type Env = TestEnv<TestBackend>;

/// Wide breaker bands, so crashes of 10-30% leave the market tradable unless a test wants a halt.
fn wide() -> RiskParams {
    RiskParams { breaker_soft_band: 300_000, breaker_hard_band: 600_000, ..default_risk() }
}

struct World {
    env: Env,
    filler: Trader,
    keeper: Trader,
    liquidator: Trader,
    /// Long 100 at $100 with $1,100 deposited ($1,090 after the taker fee).
    target: Trader,
    /// Short 100 against the target, $50,000.
    counterparty: Trader,
}

fn world_with(risk: RiskParams) -> World {
    let mut env = TestEnv::new(TestBackend::new());
    env.add_market("SOL-PERP", P100 as i64, risk);
    let filler = env.new_trader(0);
    let keeper = env.new_trader(0);
    let liquidator = env.new_trader(1_000_000 * USDC);
    let target = env.new_trader(100_000 * USDC);
    let counterparty = env.new_trader(100_000 * USDC);
    env.deposit(&liquidator, 100_000 * USDC).unwrap();
    env.deposit(&target, 1_100 * USDC).unwrap();
    env.deposit(&counterparty, 50_000 * USDC).unwrap();
    env.trade(&filler, &target, &counterparty, 0, BID, P100, 100 * BASE as u64).unwrap();
    env.refresh_market(0).unwrap();
    World { env, filler, keeper, liquidator, target, counterparty }
}

fn world() -> World {
    world_with(wide())
}

/// Every byte of exchange state and every token balance of the exchange's vaults.
fn fingerprint(env: &mut Env) -> Vec<Vec<u8>> {
    let mut out = vec![env.raw_data(pda::exchange())];
    for i in 0..env.markets.len() as u16 {
        out.push(env.raw_data(pda::market(i)));
    }
    for a in env.margin_accounts.clone() {
        if env.account_exists(a) {
            out.push(env.raw_data(a));
        }
    }
    for vault in [pda::collateral_vault(), pda::insurance_vault()] {
        out.push(env.token_balance(vault).to_le_bytes().to_vec());
    }
    out
}

/// Sends an attack that must be refused with `code` and leave every account as it was.
fn refused(
    env: &mut Env,
    ixs: Vec<anchor_lang::solana_program::instruction::Instruction>,
    signers: &[&RawKeypair],
    code: ErrorCode,
) {
    let before = fingerprint(env);
    assert_eq!(env.send_all(ixs, signers), Err(program_error(code)));
    assert_eq!(fingerprint(env), before, "a refused attack changed state");
    env.assert_conservation();
}

fn now(env: &mut Env) -> (u64, i64) {
    let clock = env.backend.clock();
    (clock.slot, clock.unix_timestamp)
}

/// A genuine, fully verified Pyth update for market 0's feed at an address of the attacker's own.
fn attacker_update(env: &mut Env, market: u16, price: u64, publish_time: i64) -> Pubkey {
    let feed = env.markets[market as usize].feed_id;
    let address = Pubkey::new_unique();
    let (slot, _) = now(env);
    env.write_pyth_full(address, feed, price as i64, 0, slot, publish_time, VerificationLevel::Full);
    address
}

fn liquidate_with(w: &mut World, pyth: Pubkey) -> anchor_lang::solana_program::instruction::Instruction {
    let (liquidator, target) = (w.liquidator.clone(), w.target.clone());
    w.env.liquidate_instruction(&liquidator, &target, 0, MarketOracles { pyth, switchboard: None }, u64::MAX)
}

// ---- Finding 1: old prices ----

#[test]
fn replayed_older_update_in_a_second_account_is_refused_by_every_instruction_that_reads_a_price() {
    let mut w = world_with(RiskParams { insurance_draw_cap: 0, ..wide() });
    let period = wide().funding_period_slots as u64;
    w.env.advance_slots(period);
    w.env.set_price(0, P100 as i64);
    w.env.refresh_market(0).unwrap();
    let (_, t) = now(&mut w.env);
    assert_eq!(w.env.market(0).last_pyth_publish_time, t);
    // A genuine $70 print from 5 seconds before the market's last accepted one: at $70 the target
    // would be bankrupt and the fund would pay.
    let old = attacker_update(&mut w.env, 0, 70_000_000, t - 5);
    let stale = MarketOracles { pyth: old, switchboard: None };
    let liquidator = w.liquidator.keypair.clone();
    let attack = liquidate_with(&mut w, old);
    refused(&mut w.env, vec![attack], &[&liquidator], ErrorCode::OracleReplayed);
    refused(&mut w.env, vec![ix::refresh_market(0, stale)], &[], ErrorCode::OracleReplayed);
    refused(&mut w.env, vec![ix::update_funding(0, stale)], &[], ErrorCode::OracleReplayed);
    // Withdrawals read markets without writing them, and check the same stored publish time.
    let (c, target, filler) = (w.counterparty.clone(), w.target.clone(), w.filler.clone());
    let remaining = vec![AccountMeta::new_readonly(pda::market(0), false), AccountMeta::new_readonly(old, false)];
    let withdraw = ix::withdraw(c.owner, c.margin_account, c.token_account, USDC, remaining.clone());
    refused(&mut w.env, vec![withdraw], &[&c.keypair], ErrorCode::OracleReplayed);
    // Orders and fills.
    let args = margin_engine_sdk::orders::limit(0, ASK, 70_000_000, BASE as u64);
    let place = ix::place_order(c.owner, c.margin_account, stale, args, vec![]);
    refused(&mut w.env, vec![place], &[&c.keypair], ErrorCode::OracleReplayed);
    let ask = w.env.place_order(&c, 0, ASK, P100, BASE as u64, OrderOpts::default()).unwrap();
    let bid = w.env.place_order(&target, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();
    let fill = Fill {
        market_index: 0,
        taker: target.margin_account,
        taker_order_id: bid,
        maker: c.margin_account,
        maker_order_id: ask,
        max_base_amount: u64::MAX,
    };
    let attack = ix::fill_orders(filler.owner, filler.margin_account, stale, fill, vec![]);
    refused(&mut w.env, vec![attack], &[&filler.keypair], ErrorCode::OracleReplayed);
    // The taker's own cross, and a stop fired on the old low.
    let take = margin_engine::instructions::PlaceAndTakeArgs {
        order: margin_engine_sdk::orders::limit(0, BID, P100, BASE as u64),
        time_in_force: margin_engine::instructions::time_in_force::IMMEDIATE_OR_CANCEL,
        post_only_slide: false,
        maker_order_ids: vec![ask],
    };
    let cross = ix::place_and_take(target.owner, target.margin_account, stale, take, &[c.margin_account], vec![]);
    refused(&mut w.env, vec![cross], &[&target.keypair], ErrorCode::OracleReplayed);
    let stop = margin_engine_sdk::orders::stop_market(0, ASK, 75_000_000, 70_000_000, BASE as u64);
    let stop_id = w.env.place(&c, stop).unwrap();
    let fire = ix::trigger_order(filler.owner, filler.margin_account, c.margin_account, 0, stale, stop_id);
    refused(&mut w.env, vec![fire], &[&filler.keypair], ErrorCode::OracleReplayed);
    // The waterfall: a genuine crash makes the target bankrupt; an older print cannot price it.
    w.env.send(ix::cancel_all_orders(target.owner, target.margin_account, None), &[&target.keypair]).unwrap();
    w.env.advance_slots(1);
    w.env.set_price(0, 88_000_000);
    let (liq, keeper) = (w.liquidator.clone(), w.keeper.clone());
    w.env.liquidate(&liq, &target, 0, u64::MAX).unwrap();
    assert_eq!(w.env.margin_account(target.margin_account).flags, BANKRUPT);
    let resolve = ix::resolve_bankruptcy(keeper.owner, keeper.margin_account, target.margin_account, 0, stale, vec![]);
    refused(&mut w.env, vec![resolve], &[&keeper.keypair], ErrorCode::OracleReplayed);
    let adl = ix::auto_deleverage(keeper.owner, target.margin_account, 0, stale, &[c.margin_account], vec![]);
    refused(&mut w.env, vec![adl], &[&keeper.keypair], ErrorCode::OracleReplayed);
    // Resolving one's own bankruptcy for the bounty: refused.
    let own = ix::resolve_bankruptcy(
        target.owner,
        target.margin_account,
        target.margin_account,
        0,
        w.env.oracles_of(0),
        vec![],
    );
    refused(&mut w.env, vec![own], &[&target.keypair], ErrorCode::CannotLiquidateSelf);
}

#[test]
fn the_markets_own_account_rewritten_old_is_refused() {
    let mut w = world();
    w.env.advance_slots(10);
    w.env.set_price(0, P100 as i64);
    w.env.refresh_market(0).unwrap();
    let (slot, t) = now(&mut w.env);
    let m = w.env.markets[0];
    w.env.write_pyth_full(m.pyth, m.feed_id, 70_000_000, 0, slot, t - 1, VerificationLevel::Full);
    let refresh = ix::refresh_market(0, w.env.oracles_of(0));
    refused(&mut w.env, vec![refresh], &[], ErrorCode::OracleReplayed);
    let liquidator = w.liquidator.keypair.clone();
    let attack = liquidate_with(&mut w, m.pyth);
    refused(&mut w.env, vec![attack], &[&liquidator], ErrorCode::OracleReplayed);
}

#[test]
fn an_old_unseen_update_moves_no_derived_state_and_past_the_hard_age_nothing_at_all() {
    let mut w = world();
    let (_, t0) = now(&mut w.env);
    w.env.advance_slots(400);
    let before = w.env.market(0);
    // Published 300 s ago (newer than anything the market saw, stale for margin): a -45% print
    // would trip the breaker and poison the TWAP and volatility if it were persisted.
    let stale = attacker_update(&mut w.env, 0, 55_000_000, t0 + 100);
    refused(
        &mut w.env,
        vec![ix::refresh_market(0, MarketOracles { pyth: stale, switchboard: None })],
        &[],
        ErrorCode::OracleStaleForMargin,
    );
    // Liquidation accepts a stale-but-sane price (it must keep defending solvency), but a stale
    // price feeds nothing derived: breaker, TWAP, volatility and stable price stay as they were.
    let liquidator = w.liquidator.keypair.clone();
    let step = liquidate_with(&mut w, stale);
    w.env.send(step, &[&liquidator]).unwrap();
    let after = w.env.market(0);
    assert_eq!(
        (after.breaker_status, after.breaker_reference_price, after.oracle_twap, after.last_oracle_price),
        (before.breaker_status, before.breaker_reference_price, before.oracle_twap, before.last_oracle_price)
    );
    assert_eq!(
        (after.var_short, after.var_long, after.stable_price),
        (before.var_short, before.var_long, before.stable_price)
    );
    assert_eq!(after.last_pyth_publish_time, t0 + 100, "the publish time is remembered");
    w.env.assert_conservation();
    // Older than the hard maximum age (600 s in these markets): refused for liquidation too.
    w.env.advance_slots(600);
    let (_, t) = now(&mut w.env);
    let too_old = attacker_update(&mut w.env, 0, 50_000_000, t - 601);
    let attack = liquidate_with(&mut w, too_old);
    refused(&mut w.env, vec![attack], &[&liquidator], ErrorCode::OracleTooOld);
}

#[test]
fn a_stale_pyth_account_cannot_switch_the_bad_oracle_guard_off() {
    let mut env = TestEnv::new(TestBackend::new());
    let m = env.add_market_with_oracle("SOL-PERP", P100 as i64, wide(), true);
    env.refresh_market(0).unwrap();
    assert_eq!(env.market(0).last_oracle_price, P100);
    // Pyth goes quiet past the hard age, so every read falls back to Switchboard.
    env.advance_slots(700);
    let sb = m.switchboard.unwrap();
    // A fallback 40% away from the last valid price is refused (the guard is 20%)...
    env.write_switchboard(sb, 60_000_000, 0);
    let refresh = ix::refresh_market(0, env.oracles_of(0));
    refused(&mut env, vec![refresh], &[], ErrorCode::OracleTooOld);
    // ...one within it is used.
    env.write_switchboard(sb, 90_000_000, 0);
    env.refresh_market(0).unwrap();
    assert_eq!(env.market(0).last_oracle_price, 90_000_000);
}

// ---- Finding 2: dumping to a colluder ----

#[test]
fn an_under_maintenance_account_cannot_sell_to_a_colluder_below_what_liquidation_leaves() {
    let mut w = world();
    let env = &mut w.env;
    env.set_price(0, 93_000_000);
    // Equity 1,090 − 700 = 390 against a 465 maintenance requirement.
    let colluder = env.new_trader(100_000 * USDC);
    env.deposit(&colluder, 20_000 * USDC).unwrap();
    let (target, filler) = (w.target.clone(), w.filler.clone());
    // The target offers its whole long 5% under the oracle (the band edge) to its colluder.
    let ask = env.place_order(&target, 0, ASK, 88_350_000, 100 * BASE as u64, OrderOpts::default()).unwrap();
    let bid = env.place_order(&colluder, 0, BID, 88_350_000, 100 * BASE as u64, OrderOpts::default()).unwrap();
    let colluder_before = env.margin_account(colluder.margin_account).collateral;
    let dump = Fill {
        market_index: 0,
        taker: colluder.margin_account,
        taker_order_id: bid,
        maker: target.margin_account,
        maker_order_id: ask,
        max_base_amount: u64::MAX,
    };
    let attack = env.fill_instruction(&filler, dump);
    refused(env, vec![attack], &[&filler.keypair], ErrorCode::FillWorseThanLiquidation);
    // Half of it, the same way: still refused.
    let half = Fill { max_base_amount: 50 * BASE as u64, ..dump };
    let attack = env.fill_instruction(&filler, half);
    refused(env, vec![attack], &[&filler.keypair], ErrorCode::FillWorseThanLiquidation);
    assert_eq!(env.margin_account(colluder.margin_account).collateral, colluder_before);
    // Selling 1% under the oracle gives up less than liquidation would charge (1.5%): allowed,
    // the owner may always deleverage itself at a fair price.
    env.send(ix::cancel_all_orders(target.owner, target.margin_account, None), &[&target.keypair]).unwrap();
    env.send(ix::cancel_all_orders(colluder.owner, colluder.margin_account, None), &[&colluder.keypair]).unwrap();
    env.trade(&filler, &colluder, &target, 0, BID, 92_070_000, 100 * BASE as u64).unwrap();
    assert!(env.health(target.margin_account, &[(0, 93_000_000)]).equity() > 0);
    env.assert_conservation();
}

#[test]
fn a_bankrupt_account_does_not_trade() {
    let mut w = world();
    let env = &mut w.env;
    env.set_price(0, 88_000_000); // equity 1,090 − 1,200 < 0
    let (liquidator, target) = (w.liquidator.clone(), w.target.clone());
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    assert_eq!(env.margin_account(target.margin_account).flags, BANKRUPT);
    assert_eq!(env.exchange().bankrupt_accounts, 1);
    let before = fingerprint(env);
    assert_eq!(
        env.place_order(&target, 0, ASK, 83_600_000, 100 * BASE as u64, OrderOpts::default()),
        Err(program_error(ErrorCode::BankruptCannotTrade))
    );
    assert_eq!(
        env.place_order(
            &target,
            0,
            ASK,
            88_000_000,
            BASE as u64,
            OrderOpts { reduce_only: true, ..OrderOpts::default() }
        ),
        Err(program_error(ErrorCode::BankruptCannotTrade))
    );
    assert_eq!(fingerprint(env), before);
    // It cannot close its account to leave the waterfall either.
    refused(
        env,
        vec![ix::close_margin_account(target.owner, target.margin_account)],
        &[&target.keypair],
        ErrorCode::AccountNotEmpty,
    );
}

// ---- Finding 3: one dust fill setting funding ----

/// One funding period passes and is settled; then two accounts of one attacker (two owners)
/// deposit `deposit` each.
fn attacker_pair_after_funding(env: &mut Env, deposit: u64) -> (Trader, Trader) {
    env.advance_slots(wide().funding_period_slots as u64);
    env.set_price(0, P100 as i64);
    env.update_funding(0).unwrap();
    let x = env.new_trader(100_000 * USDC);
    let y = env.new_trader(100_000 * USDC);
    env.deposit(&x, deposit).unwrap();
    env.deposit(&y, deposit).unwrap();
    (x, y)
}

#[test]
fn one_dust_wash_fill_after_a_quiet_hour_cannot_set_funding() {
    let mut w = world();
    let env = &mut w.env;
    let period = wide().funding_period_slots as u64;
    // Two accounts of the attacker (two owners), then a quiet hour.
    let (x, y) = attacker_pair_after_funding(env, 1_000 * USDC);
    env.advance_slots(period);
    env.set_price(0, P100 as i64);
    // One minimum-size fill at the band edge, 5% under the oracle.
    let min = wide().min_order_size;
    let filler = w.filler.clone();
    env.trade(&filler, &x, &y, 0, BID, 95_000_000, min).unwrap();
    // Funding in the same slot: the new level has lasted no slot yet.
    env.update_funding(0).unwrap();
    assert_eq!(env.market(0).last_funding_payment, 0);
    // And over the whole next period: weighted by 0.01 base against 100.01 of open interest the
    // fill moves the level by $0.000499, which then decays to the oracle (average $0.00025).
    env.advance_slots(period);
    env.set_price(0, P100 as i64);
    env.update_funding(0).unwrap();
    let m = env.market(0);
    // The old mark TWAP took the fill price whole: −5%, clamped to the −1% cap (1,000,000/base).
    let cap = 1_000_000i64;
    assert!(m.last_funding_payment.abs() * 1_000 <= cap, "payment {} per base", m.last_funding_payment);
    assert_eq!(m.last_funding_payment, -250);
    env.assert_conservation();
}

// ---- Finding 4: a halted market shielding an account ----

#[test]
fn a_dust_position_in_a_halted_market_does_not_shield_the_rest_from_liquidation() {
    let mut w = world();
    let env = &mut w.env;
    env.add_market("ALT-PERP", P100 as i64, default_risk()); // 15% / 40% bands
    let (filler, target, counterparty, liquidator) =
        (w.filler.clone(), w.target.clone(), w.counterparty.clone(), w.liquidator.clone());
    env.trade(&filler, &target, &counterparty, 1, BID, P100, BASE as u64 / 100).unwrap();
    // ALT halts on a genuine −50% print, and SOL falls to where the target is liquidatable.
    env.advance_slots(1);
    env.set_price(1, 50_000_000);
    env.refresh_market(1).unwrap();
    assert_eq!(env.market(1).breaker_mode(), margin_engine::math::breaker::MarketMode::Halted);
    env.set_price(0, 93_000_000);
    let before = env.margin_account(target.margin_account).positions[0].base_amount;
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    assert!(env.margin_account(target.margin_account).positions[0].base_amount < before, "SOL was liquidated");
    // The halted market's own position can be taken over too: a breaker never slows de-risking.
    env.advance_slots(1);
    env.set_price(0, 93_000_000);
    env.set_price(1, 50_000_000);
    let r = env.liquidate(&liquidator, &target, 1, u64::MAX);
    assert_ne!(r, Err(program_error(ErrorCode::MarketHalted)));
    // Money out still waits for the halt to clear.
    let c = counterparty.clone();
    assert_eq!(env.withdraw(&c, USDC), Err(program_error(ErrorCode::MarketHalted)));
    env.assert_conservation();
}

// ---- Finding 5: the waterfall tied to where the loss came from ----

#[test]
fn the_waterfall_draws_and_socialises_only_on_the_loss_market() {
    let mut w = world_with(RiskParams { insurance_draw_cap: 0, ..wide() });
    let env = &mut w.env;
    env.add_market("ALT-PERP", P100 as i64, RiskParams { insurance_draw_cap: 1_000_000 * USDC, ..wide() });
    let staker = env.new_trader(100_000 * USDC);
    env.stake(&staker, 10_000 * USDC).unwrap();
    let (keeper, target, liquidator) = (w.keeper.clone(), w.target.clone(), w.liquidator.clone());
    env.set_price(0, 88_000_000);
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    let account = env.margin_account(target.margin_account);
    assert_eq!((account.flags, account.loss_market_index), (BANKRUPT, 0));
    // Market 1 has a large cap and nothing to do with the loss: refused, nothing drawn.
    let t = env.margin_account(target.margin_account);
    let groups = ix::market_groups(&[&t], Some(1), env.oracles());
    let draw_elsewhere = ix::resolve_bankruptcy(
        keeper.owner,
        keeper.margin_account,
        target.margin_account,
        1,
        env.oracles_of(1),
        groups,
    );
    refused(env, vec![draw_elsewhere], &[&keeper.keypair], ErrorCode::NotLossMarket);
    refused(
        env,
        vec![ix::socialize_loss(keeper.owner, target.margin_account, 1)],
        &[&keeper.keypair],
        ErrorCode::NotLossMarket,
    );
    // On the loss market the cap is 0: the fund cannot pay, ADL is next.
    assert_eq!(env.resolve_bankruptcy(&keeper, &target, 0), Err(program_error(ErrorCode::InsuranceCannotCover)));
}

// ---- Finding 6: gates ----

#[test]
fn every_gated_instruction_is_refused_while_its_gate_is_closed() {
    let mut w = world();
    let env = &mut w.env;
    let gov = env.governance.clone();
    let guardian = env.guardian.clone();
    let staker = env.new_trader(10_000 * USDC);
    env.stake(&staker, 1_000 * USDC).unwrap();
    let (filler, keeper, target, counterparty, liquidator) =
        (w.filler.clone(), w.keeper.clone(), w.target.clone(), w.counterparty.clone(), w.liquidator.clone());
    let bid = env.place_order(&target, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();
    let ask = env.place_order(&counterparty, 0, ASK, P100, BASE as u64, OrderOpts::default()).unwrap();
    let t = env.margin_account(target.margin_account);
    let groups = ix::market_groups(&[&t], Some(0), env.oracles());
    let fill = Fill {
        market_index: 0,
        taker: target.margin_account,
        taker_order_id: bid,
        maker: counterparty.margin_account,
        maker_order_id: ask,
        max_base_amount: u64::MAX,
    };
    let stranger = new_keypair();
    let args = margin_engine_sdk::orders::limit(0, BID, P100, BASE as u64);
    let dest = staker.token_account;
    let mut walked = vec![];
    for &(name, gate) in gates::TABLE.iter().filter(|(_, g)| *g != 0) {
        let (call, signer): (_, Option<RawKeypair>) = match name {
            "create_margin_account" => {
                (ix::create_margin_account(key(&env.payer), key(&stranger), 0), Some(stranger.clone()))
            }
            "deposit" => (
                ix::deposit(target.owner, target.margin_account, target.token_account, USDC),
                Some(target.keypair.clone()),
            ),
            "withdraw" => (
                ix::withdraw(
                    target.owner,
                    target.margin_account,
                    target.token_account,
                    USDC,
                    env.health_accounts(target.margin_account),
                ),
                Some(target.keypair.clone()),
            ),
            "place_order" => (
                ix::place_order(target.owner, target.margin_account, env.oracles_of(0), args, vec![]),
                Some(target.keypair.clone()),
            ),
            "fill_orders" => (
                ix::fill_orders(filler.owner, filler.margin_account, env.oracles_of(0), fill, vec![]),
                Some(filler.keypair.clone()),
            ),
            "place_and_take" => {
                let take = margin_engine::instructions::PlaceAndTakeArgs {
                    order: args,
                    time_in_force: 1,
                    post_only_slide: false,
                    maker_order_ids: vec![ask],
                };
                (
                    env.place_and_take_instruction(&target, take, &[counterparty.margin_account]),
                    Some(target.keypair.clone()),
                )
            }
            "trigger_order" => (
                ix::trigger_order(
                    keeper.owner,
                    keeper.margin_account,
                    target.margin_account,
                    0,
                    env.oracles_of(0),
                    bid,
                ),
                Some(keeper.keypair.clone()),
            ),
            "update_funding" => (ix::update_funding(0, env.oracles_of(0)), None),
            "liquidate" => (
                ix::liquidate(
                    liquidator.owner,
                    liquidator.margin_account,
                    target.margin_account,
                    0,
                    env.oracles_of(0),
                    u64::MAX,
                    vec![],
                ),
                Some(liquidator.keypair.clone()),
            ),
            "resolve_bankruptcy" => (
                ix::resolve_bankruptcy(
                    keeper.owner,
                    keeper.margin_account,
                    target.margin_account,
                    0,
                    env.oracles_of(0),
                    groups.clone(),
                ),
                Some(keeper.keypair.clone()),
            ),
            "auto_deleverage" => (
                ix::auto_deleverage(keeper.owner, target.margin_account, 0, env.oracles_of(0), &[], groups.clone()),
                Some(keeper.keypair.clone()),
            ),
            "socialize_loss" => {
                (ix::socialize_loss(keeper.owner, target.margin_account, 0), Some(keeper.keypair.clone()))
            }
            "stake_insurance" => {
                (ix::stake_insurance(staker.owner, staker.token_account, USDC), Some(staker.keypair.clone()))
            }
            "request_unstake" => (ix::request_unstake(staker.owner, USDC), Some(staker.keypair.clone())),
            "unstake_insurance" => (ix::unstake_insurance(staker.owner, dest), Some(staker.keypair.clone())),
            "withdraw_protocol_revenue" => (ix::withdraw_protocol_revenue(key(&gov), dest, 1), Some(gov.clone())),
            other => panic!("gated instruction {other} has no attack here: add it"),
        };
        env.send(ix::pause_operations(key(&gov), gate), &[&gov]).unwrap();
        let signers: Vec<&RawKeypair> = signer.iter().collect();
        refused(env, vec![call], &signers, ErrorCode::OperationPaused);
        env.send(ix::resume_operations(key(&gov), gate), &[&gov]).unwrap();
        // The guardian can close a gate only when it stops new risk or money going out.
        let by_guardian = env.send(ix::pause_operations(key(&guardian), gate), &[&guardian]);
        if gate & paused_operations::GUARDIAN_PAUSABLE == gate {
            by_guardian.unwrap();
            env.send(ix::resume_operations(key(&gov), gate), &[&gov]).unwrap();
        } else {
            assert_eq!(by_guardian, Err(program_error(ErrorCode::GuardianCannotPause)), "{name}");
        }
        walked.push(name);
    }
    assert!(walked.contains(&"liquidate") && walked.contains(&"auto_deleverage") && walked.len() >= 14, "{walked:?}");
}

// ---- Finding 7: insurance run-ahead ----

#[test]
fn unstake_requests_expire_fresh_stakes_warm_up_and_nobody_leaves_ahead_of_a_pending_loss() {
    let mut w = world();
    let env = &mut w.env;
    let staker = env.new_trader(100_000 * USDC);
    env.stake(&staker, 5_000 * USDC).unwrap();
    // The stake account exists once per owner: opening it again is refused.
    let payer = key(&env.payer);
    assert!(env.send(ix::open_insurance_stake(payer, staker.owner), &[&staker.keypair]).is_err());
    // Staking right before a fee inflow and leaving: the new shares cannot even be requested.
    refused(env, vec![ix::request_unstake(staker.owner, USDC)], &[&staker.keypair], ErrorCode::StakeStillWarmingUp);
    env.advance_slots(INSURANCE_COOLDOWN_SLOTS);
    env.send(ix::request_unstake(staker.owner, 1_000 * USDC), &[&staker.keypair]).unwrap();
    // A matured request is no standing instant exit: after its window it lapses.
    env.advance_slots(INSURANCE_COOLDOWN_SLOTS + margin_engine::constants::INSURANCE_UNSTAKE_WINDOW_SLOTS);
    refused(
        env,
        vec![ix::unstake_insurance(staker.owner, staker.token_account)],
        &[&staker.keypair],
        ErrorCode::UnstakeRequestExpired,
    );
    env.send(ix::request_unstake(staker.owner, 1_000 * USDC), &[&staker.keypair]).unwrap();
    env.advance_slots(INSURANCE_COOLDOWN_SLOTS);
    // A visible bankruptcy the fund is about to pay: nobody's stake leaves ahead of it.
    env.set_price(0, 88_000_000);
    let (liquidator, target, keeper) = (w.liquidator.clone(), w.target.clone(), w.keeper.clone());
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    refused(
        env,
        vec![ix::unstake_insurance(staker.owner, staker.token_account)],
        &[&staker.keypair],
        ErrorCode::InsuranceLossPending,
    );
    let gov = env.governance.clone();
    let dest = Pubkey::new_unique();
    env.write_token_account(dest, env.collateral_mint, key(&gov), 0);
    refused(env, vec![ix::withdraw_protocol_revenue(key(&gov), dest, 1)], &[&gov], ErrorCode::InsuranceLossPending);
    // Once it is resolved (the fund pays) the staker leaves with the lesser value: it shared the loss.
    env.resolve_bankruptcy(&keeper, &target, 0).unwrap();
    assert_eq!(env.exchange().bankrupt_accounts, 0);
    // The fund's own vault as the destination is refused, as a duplicated mutable account, and
    // so is the collateral vault (the tokens would sit there unaccounted).
    let (vault, collateral) = (pda::insurance_vault(), pda::collateral_vault());
    let calls = [
        (ix::unstake_insurance(staker.owner, vault), &staker.keypair),
        (ix::withdraw_protocol_revenue(key(&gov), vault, 1), &gov),
        (ix::unstake_insurance(staker.owner, collateral), &staker.keypair),
        (ix::withdraw_protocol_revenue(key(&gov), collateral, 1), &gov),
    ];
    for (call, signer) in calls {
        let before = fingerprint(env);
        let duplicate = anchor_error(anchor_lang::error::ErrorCode::ConstraintDuplicateMutableAccount);
        assert_eq!(env.send_all(vec![call], &[signer]), Err(duplicate));
        assert_eq!(fingerprint(env), before, "a refused call changed state");
    }
    let wallet = env.token_balance(staker.token_account);
    env.send(ix::unstake_insurance(staker.owner, staker.token_account), &[&staker.keypair]).unwrap();
    let got = env.token_balance(staker.token_account) - wallet;
    assert!(got < 1_000 * USDC, "the leaver shares the loss it could see coming: got {got}");
    env.assert_conservation();
}

/// Found by the instruction fuzzer: a withdrawal whose destination is the collateral vault itself
/// took the collateral off the account while the tokens stayed in the vault, unaccounted (the
/// vault then held more than everyone's equity, and the owner's money was gone). Refused now,
/// as a duplicated mutable account, with nothing changed.
#[test]
fn a_withdrawal_into_the_collateral_vault_itself_is_refused() {
    let mut w = world();
    let target = w.target.clone();
    let remaining = w.env.health_accounts(target.margin_account);
    let call = ix::withdraw(target.owner, target.margin_account, pda::collateral_vault(), 10 * USDC, remaining);
    let before = fingerprint(&mut w.env);
    let duplicate = anchor_error(anchor_lang::error::ErrorCode::ConstraintDuplicateMutableAccount);
    assert_eq!(w.env.send(call, &[&target.keypair]), Err(duplicate));
    assert_eq!(fingerprint(&mut w.env), before, "a refused withdrawal changed state");
    w.env.assert_conservation();
}

// ---- Finding 8: Mango-style profit extraction ----

/// An attacker long 10 at $100 with $300 (collateral $299 after the fee) against a seller.
fn thin_market_long(w: &mut World) -> (Trader, Trader) {
    let attacker = w.env.new_trader(10_000 * USDC);
    let seller = w.env.new_trader(100_000 * USDC);
    w.env.deposit(&attacker, 300 * USDC).unwrap();
    w.env.deposit(&seller, 20_000 * USDC).unwrap();
    let filler = w.filler.clone();
    w.env.trade(&filler, &attacker, &seller, 0, BID, P100, 10 * BASE as u64).unwrap();
    (attacker, seller)
}

#[test]
fn a_pumped_price_cannot_be_withdrawn_or_levered_at_full_value() {
    let mut w = world();
    let (attacker, seller) = thin_market_long(&mut w);
    let (env, filler) = (&mut w.env, w.filler.clone());
    // The thin market is pumped 30% through its own oracle.
    env.advance_slots(1);
    env.set_price(0, 130_000_000);
    // At full value the $300 paper gain would free all $299 of collateral (initial health
    // 299 + 300 − 130); counted at the stable price (still ~$100) it frees 299 − 130 = 169 only.
    let before = fingerprint(env);
    assert_eq!(env.withdraw(&attacker, 299 * USDC), Err(program_error(ErrorCode::InsufficientInitialMargin)));
    assert_eq!(env.withdraw(&attacker, 170 * USDC), Err(program_error(ErrorCode::InsufficientInitialMargin)));
    assert_eq!(fingerprint(env), before);
    // Nor can it open new risk against the gain: 20 more base needs 260 of initial margin.
    assert_eq!(
        env.place_order(&attacker, 0, BID, 130_000_000, 20 * BASE as u64, OrderOpts::default()),
        Err(program_error(ErrorCode::InsufficientInitialMargin))
    );
    // Realising it at the pumped price: the profit is locked for the bad-debt window.
    env.trade(&filler, &seller, &attacker, 0, BID, 130_000_000, 10 * BASE as u64).unwrap();
    let collateral = env.margin_account(attacker.margin_account).collateral as u64;
    assert!(collateral > 500 * USDC);
    let before = fingerprint(env);
    assert_eq!(env.withdraw(&attacker, collateral - 100 * USDC), Err(program_error(ErrorCode::ProfitLocked)));
    assert_eq!(fingerprint(env), before);
    env.advance_slots(margin_engine::constants::BAD_DEBT_WITHDRAW_GATE_SLOTS);
    env.withdraw(&attacker, collateral - 100 * USDC).unwrap();
    env.assert_conservation();
}

// ---- Finding 9: low ----

#[test]
fn the_resolve_bounty_is_a_tenth_of_the_deficit() {
    let mut w = world_with(RiskParams { insurance_draw_cap: 100_000 * USDC, ..wide() });
    let env = &mut w.env;
    let staker = env.new_trader(100_000 * USDC);
    env.stake(&staker, 10_000 * USDC).unwrap();
    // Equity 1,090 + 100 × (89.08 − 100) = −2: a $2 deficit earns a $0.20 bounty, not $1.
    env.set_price(0, 89_080_000);
    let (liquidator, target, keeper) = (w.liquidator.clone(), w.target.clone(), w.keeper.clone());
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    let before = env.margin_account(keeper.margin_account).collateral;
    env.resolve_bankruptcy(&keeper, &target, 0).unwrap();
    assert_eq!(env.margin_account(keeper.margin_account).collateral - before, 200_000);
    env.assert_conservation();
}

#[test]
fn only_the_upgrade_authority_initialises_the_exchange() {
    let mut env = TestEnv::without_exchange(TestBackend::new());
    let config = margin_engine::instructions::ExchangeConfig {
        guardian: Pubkey::new_unique(),
        insurance_unstake_cooldown_slots: 10,
        insurance_revenue_floor: 0,
        risk_timelock_slots: 10,
    };
    let attacker = new_keypair();
    let init = |env: &mut TestEnv<TestBackend>| {
        ix::initialize_exchange(key(&env.payer), key(&attacker), env.collateral_mint, config)
    };
    // The deployed program's upgrade authority is someone else: the front-runner is refused.
    let loader = anchor_lang::solana_program::bpf_loader_upgradeable::ID;
    env.set_raw(pda::program_data(), pda::program_data_header(Some(Pubkey::new_unique())), loader);
    let call = init(&mut env);
    assert_eq!(env.send(call, &[&attacker]), Err(program_error(ErrorCode::NotUpgradeAuthority)));
    // A look-alike ProgramData not owned by the loader, or another address, is refused too.
    let payer = Pubkey::new_from_array(env.payer.pubkey());
    env.set_raw(pda::program_data(), pda::program_data_header(Some(payer)), Pubkey::new_unique());
    let call = init(&mut env);
    assert_eq!(
        env.send(call, &[&attacker]),
        Err(anchor_error(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram))
    );
    let elsewhere = Pubkey::new_unique();
    env.set_raw(elsewhere, pda::program_data_header(Some(payer)), loader);
    let mut call = init(&mut env);
    call.accounts[1].pubkey = elsewhere;
    assert_eq!(env.send(call, &[&attacker]), Err(anchor_error(anchor_lang::error::ErrorCode::ConstraintSeeds)));
    assert!(!env.account_exists(pda::exchange()));
    // Governance must sign for itself: a key named without its signature is refused.
    env.write_program_data();
    // Another program where the token program goes: refused (no arbitrary CPI).
    let mut call = init(&mut env);
    let token_index = call.accounts.len() - 2;
    call.accounts[token_index].pubkey = anchor_lang::solana_program::system_program::ID;
    assert_eq!(env.send(call, &[&attacker]), Err(anchor_error(anchor_lang::error::ErrorCode::InvalidProgramId)));
    let mut unsigned = init(&mut env);
    unsigned.accounts[2].is_signer = false;
    assert_eq!(env.send(unsigned, &[]), Err(anchor_error(anchor_lang::error::ErrorCode::AccountNotSigner)));
    // The upgrade authority itself can.
    let call = init(&mut env);
    env.send(call, &[&attacker]).unwrap();
    assert_eq!(env.exchange().authority, key(&attacker));
}

// ---- Remaining-accounts substitution ----

#[test]
fn remaining_accounts_cannot_repeat_the_instructions_own_market() {
    let mut w = world();
    w.env.set_price(0, 93_000_000);
    let m = w.env.markets[0];
    let liquidator = w.liquidator.keypair.clone();
    // The own market again as a "group": a second borrow of the account being written.
    let mut attack = liquidate_with(&mut w, m.pyth);
    attack.accounts.push(AccountMeta::new_readonly(m.address, false));
    attack.accounts.push(AccountMeta::new_readonly(m.pyth, false));
    refused(&mut w.env, vec![attack], &[&liquidator], ErrorCode::DuplicateMarketAccount);
}

// ---- Regressions from the review of the hardening (each was an exploit of its first version) ----

/// The stable price moves at most 1% per stored observation: a market nobody wrote for 6,000
/// slots (which the per-slot rate alone would allow 30%) still cannot credit a pump at once.
#[test]
fn the_stable_price_does_not_catch_up_at_once_after_a_quiet_market() {
    let mut w = world();
    let (attacker, _seller) = thin_market_long(&mut w);
    let env = &mut w.env;
    env.advance_slots(6_000);
    env.set_price(0, 130_000_000);
    // Initial health 299 + 10 (PnL at a stable price of at most $101) − 130 = 179.
    let before = fingerprint(env);
    assert_eq!(env.withdraw(&attacker, 299 * USDC), Err(program_error(ErrorCode::InsufficientInitialMargin)));
    assert_eq!(env.withdraw(&attacker, 180 * USDC), Err(program_error(ErrorCode::InsufficientInitialMargin)));
    assert_eq!(fingerprint(env), before);
    env.withdraw(&attacker, 170 * USDC).unwrap();
    env.assert_conservation();
}

/// A closing wash fill in the last slot of a period, the size of the open interest that remains,
/// moves the mark level but adds nothing to the period's mark TWAP: it lasted zero slots.
#[test]
fn a_last_slot_closing_wash_fill_does_not_set_the_periods_funding() {
    let mut w = world();
    let env = &mut w.env;
    let period = wide().funding_period_slots as u64;
    let (x, y) = attacker_pair_after_funding(env, 20_000 * USDC);
    let filler = w.filler.clone();
    env.trade(&filler, &x, &y, 0, BID, P100, 100 * BASE as u64).unwrap();
    env.advance_slots(period);
    env.set_price(0, P100 as i64);
    env.trade(&filler, &y, &x, 0, BID, 101_000_000, 100 * BASE as u64).unwrap();
    env.update_funding(0).unwrap();
    assert_eq!(env.market(0).last_funding_payment, 0, "a premium that lasted no slot charges nothing");
    env.assert_conservation();
}

/// An unflagged account below zero equity cannot close out at the oracle (even with no fee to
/// give up) and leave a flat, unresolved deficit: the fill is refused and liquidation flags it.
#[test]
fn an_account_below_zero_equity_cannot_close_out_past_the_waterfall() {
    let mut w = world_with(RiskParams { maker_fee: 0, ..wide() });
    let env = &mut w.env;
    env.set_price(0, 88_000_000); // equity 1,090 + 100 × (88 − 100) = −110
    let (filler, target, counterparty, liquidator) =
        (w.filler.clone(), w.target.clone(), w.counterparty.clone(), w.liquidator.clone());
    let ask = env.place_order(&target, 0, ASK, 88_000_000, 100 * BASE as u64, OrderOpts::default()).unwrap();
    let bid = env.place_order(&counterparty, 0, BID, 88_000_000, 100 * BASE as u64, OrderOpts::default()).unwrap();
    let close = Fill {
        market_index: 0,
        taker: counterparty.margin_account,
        taker_order_id: bid,
        maker: target.margin_account,
        maker_order_id: ask,
        max_base_amount: u64::MAX,
    };
    let attack = env.fill_instruction(&filler, close);
    refused(env, vec![attack], &[&filler.keypair], ErrorCode::FillWorseThanLiquidation);
    env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
    assert_eq!(env.margin_account(target.margin_account).flags, BANKRUPT);
}

/// Liquidation runs in every breaker state, so it refuses a print its own EMA disowns by itself:
/// $93 against an EMA of $120 (22.5% apart, limit 20%), only 7% from the breaker reference.
#[test]
fn liquidation_refuses_a_print_its_own_ema_disowns() {
    let mut w = world();
    let (target, liquidator) = (w.target.clone(), w.liquidator.clone());
    w.env.advance_slots(1);
    w.env.write_pyth_with_ema(0, 93_000_000, 120_000_000);
    let liq = liquidator.keypair.clone();
    let m = w.env.markets[0];
    let attack = liquidate_with(&mut w, m.pyth);
    refused(&mut w.env, vec![attack], &[&liq], ErrorCode::OracleDiverged);
    // The same print with a consistent EMA liquidates.
    w.env.set_price(0, 93_000_000);
    w.env.liquidate(&liquidator, &target, 0, u64::MAX).unwrap();
}
