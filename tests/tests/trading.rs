//! Issue 3 through the real program: orders, permissionless fills, fees, funding.
use margin_engine::error::ErrorCode;
use margin_engine::state::RiskParams;
use margin_engine_sdk::instructions::{self as ix, Fill};
use margin_engine_sdk::pda;
// The backend under test: the native program by default; the SBF .so when the suite is compiled
// into `tests/sbf-runner` with `--cfg sbf_backend` (which defines `crate::TestBackend`).
#[cfg(sbf_backend)]
use crate::TestBackend;
#[cfg(not(sbf_backend))]
use margin_engine_tests::native::NativeBackend as TestBackend;
use margin_engine_tests::*;

const P100: u64 = 100_000_000;

struct Setup {
    env: TestEnv<TestBackend>,
    filler: Trader,
    a: Trader,
    b: Trader,
}

fn setup_with(risk: RiskParams) -> Setup {
    let mut env = TestEnv::new(TestBackend::new());
    env.add_market("SOL-PERP", P100 as i64, risk);
    let filler = env.new_trader(0);
    let a = env.new_trader(10_000 * USDC);
    let b = env.new_trader(10_000 * USDC);
    env.deposit(&a, 1_000 * USDC).unwrap();
    env.deposit(&b, 1_000 * USDC).unwrap();
    Setup { env, filler, a, b }
}

fn setup() -> Setup {
    setup_with(default_risk())
}

fn fill(taker: &Trader, taker_order_id: u64, maker: &Trader, maker_order_id: u64, max: u64) -> Fill {
    Fill {
        market_index: 0,
        taker: taker.margin_account,
        taker_order_id,
        maker: maker.margin_account,
        maker_order_id,
        max_base_amount: max,
    }
}

fn base(env: &mut TestEnv<TestBackend>, t: &Trader) -> i64 {
    let acc = env.margin_account(t.margin_account);
    let found = acc.active_positions().find(|p| p.market_index == 0).map_or(0, |p| p.base_amount);
    found
}

#[test]
fn crossing_fill_moves_positions_fees_and_insurance_exactly() {
    let Setup { mut env, filler, a, b } = setup();
    let maker_id = env.place_order(&b, 0, ASK, P100, 2 * BASE as u64, OrderOpts::default()).unwrap();
    let taker_id = env.place_order(&a, 0, BID, P100, 2 * BASE as u64, OrderOpts::default()).unwrap();
    env.assert_conservation();
    env.fill(&filler, fill(&a, taker_id, &b, maker_id, u64::MAX)).unwrap();

    // Notional $200: taker fee 0.1% = 200_000, maker 0.02% = 40_000; 25% to insurance, 10% to filler.
    let (ta, tb, tf) = (
        env.margin_account(a.margin_account),
        env.margin_account(b.margin_account),
        env.margin_account(filler.margin_account),
    );
    assert_eq!((ta.positions[0].base_amount, ta.positions[0].quote_amount), (2 * BASE, -200 * USDC as i64));
    assert_eq!((tb.positions[0].base_amount, tb.positions[0].quote_amount), (-2 * BASE, 200 * USDC as i64));
    assert_eq!(ta.collateral, 1_000 * USDC as i64 - 200_000);
    assert_eq!(tb.collateral, 1_000 * USDC as i64 - 40_000);
    assert_eq!(tf.collateral, 24_000);
    assert_eq!(env.token_balance(pda::insurance_vault()), 60_000);
    assert_eq!(env.exchange().fee_pool, 156_000);
    let m = env.market(0);
    assert_eq!((m.open_interest_long, m.open_interest_short), (2 * BASE as u64, 2 * BASE as u64));
    assert!(ta.orders.iter().all(|o| o.is_empty()) && tb.orders.iter().all(|o| o.is_empty()));
    assert_eq!((ta.positions[0].open_bids, tb.positions[0].open_asks), (0, 0));
    env.assert_conservation();
}

#[test]
fn rounding_goes_to_the_fee_pool_to_the_last_unit() {
    // Fine steps and ticks so that base × price is not a whole number of quote units.
    let risk = RiskParams { step_size: 1_000, min_order_size: 1_000, tick_size: 1, ..default_risk() };
    let Setup { mut env, filler, a, b } = setup_with(risk);
    env.set_price(0, 33_333_333);
    // 0.001001 base at $33.333333 = 33,366.666333 units: the buyer pays 33,367, the seller gets 33,366.
    let m = env.place_order(&b, 0, ASK, 33_333_333, 1_001_000, OrderOpts::default()).unwrap();
    let t = env.place_order(&a, 0, BID, 33_333_333, 1_001_000, OrderOpts::default()).unwrap();
    env.fill(&filler, fill(&a, t, &b, m, u64::MAX)).unwrap();
    assert_eq!(env.margin_account(a.margin_account).positions[0].quote_amount, -33_367);
    assert_eq!(env.margin_account(b.margin_account).positions[0].quote_amount, 33_366);
    // Fees round up: taker ceil(33.367) = 34, maker ceil(6.6734) = 7; total 41.
    // Shares round down: insurance floor(10.25) = 10, filler floor(4.1) = 4; protocol 27.
    assert_eq!(env.margin_account(a.margin_account).collateral, 1_000 * USDC as i64 - 34);
    assert_eq!(env.margin_account(b.margin_account).collateral, 1_000 * USDC as i64 - 7);
    assert_eq!(env.margin_account(filler.margin_account).collateral, 4);
    assert_eq!(env.token_balance(pda::insurance_vault()), 10);
    assert_eq!(env.exchange().fee_pool, 27 + 1, "protocol share plus the rounding unit");
    env.assert_conservation();
}

#[test]
fn partial_fill_leaves_the_rest_resting() {
    let Setup { mut env, filler, a, b } = setup();
    let m = env.place_order(&b, 0, ASK, P100, 5 * BASE as u64, OrderOpts::default()).unwrap();
    let t = env.place_order(&a, 0, BID, P100 + 1_000_000, 2 * BASE as u64, OrderOpts::default()).unwrap();
    env.fill(&filler, fill(&a, t, &b, m, u64::MAX)).unwrap();
    let maker = env.margin_account(b.margin_account);
    let order = maker.orders[maker.order_index(m).unwrap()];
    assert_eq!(order.base_amount, 3 * BASE as u64);
    assert_eq!(maker.positions[0].open_asks, 3 * BASE as u64);
    // Filled at the maker's price, not the taker's limit.
    assert_eq!(env.margin_account(a.margin_account).positions[0].quote_amount, -200 * USDC as i64);
    // max_base_amount caps a fill too.
    let t2 = env.place_order(&a, 0, BID, P100, 3 * BASE as u64, OrderOpts::default()).unwrap();
    env.fill(&filler, fill(&a, t2, &b, m, BASE as u64)).unwrap();
    assert_eq!(base(&mut env, &a), 3 * BASE);
    assert_eq!(base(&mut env, &b), -3 * BASE);
    env.assert_conservation();
}

#[test]
fn close_realises_pnl_into_collateral() {
    let Setup { mut env, filler, a, b } = setup();
    env.trade(&filler, &a, &b, 0, BID, P100, 2 * BASE as u64).unwrap();
    env.set_price(0, 104_000_000);
    let before_a = env.margin_account(a.margin_account).collateral;
    let before_b = env.margin_account(b.margin_account).collateral;
    // A sells 2 at 104 to B: A realises +8, B (short 2 from 100, buys 2 at 104) realises -8.
    env.trade(&filler, &b, &a, 0, BID, 104_000_000, 2 * BASE as u64).unwrap();
    let fee_taker = 208_000; // 0.1% of 208
    let fee_maker = 41_600; // 0.02% of 208
    assert_eq!(env.margin_account(a.margin_account).collateral - before_a, 8 * USDC as i64 - fee_maker);
    assert_eq!(env.margin_account(b.margin_account).collateral - before_b, -8 * (USDC as i64) - fee_taker);
    assert!(env.margin_account(a.margin_account).is_flat());
    assert!(env.margin_account(b.margin_account).is_flat());
    assert_eq!(env.market(0).open_interest_long, 0);
    env.assert_conservation();
}

#[test]
fn non_crossing_same_side_and_out_of_band_are_rejected() {
    let Setup { mut env, filler, a, b } = setup();
    let ask = env.place_order(&b, 0, ASK, 101_000_000, BASE as u64, OrderOpts::default()).unwrap();
    let bid = env.place_order(&a, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();
    let before = (env.margin_account(a.margin_account), env.margin_account(b.margin_account));
    assert_eq!(env.fill(&filler, fill(&a, bid, &b, ask, u64::MAX)), Err(program_error(ErrorCode::OrdersDoNotCross)));
    let bid_b = env.place_order(&b, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();
    assert_eq!(env.fill(&filler, fill(&a, bid, &b, bid_b, u64::MAX)), Err(program_error(ErrorCode::SameSide)));
    assert_eq!(env.fill(&filler, fill(&a, 999, &b, ask, u64::MAX)), Err(program_error(ErrorCode::OrderNotFound)));
    // Both willing at 106, but the oracle says 100 and the band is 5%.
    let far_ask = env.place_order(&b, 0, ASK, 106_000_000, BASE as u64, OrderOpts::default()).unwrap();
    let far_bid = env.place_order(&a, 0, BID, 106_000_000, BASE as u64, OrderOpts::default()).unwrap();
    assert_eq!(
        env.fill(&filler, fill(&a, far_bid, &b, far_ask, u64::MAX)),
        Err(program_error(ErrorCode::FillPriceOutOfBand))
    );
    assert_eq!(env.margin_account(a.margin_account).positions[0].base_amount, before.0.positions[0].base_amount);
    assert_eq!(env.margin_account(a.margin_account).collateral, before.0.collateral);
    assert_eq!(env.margin_account(b.margin_account).collateral, before.1.collateral);
    env.assert_conservation();
}

#[test]
fn reduce_only_and_post_only() {
    let Setup { mut env, filler, a, b } = setup();
    env.trade(&filler, &a, &b, 0, BID, P100, 2 * BASE as u64).unwrap();
    // A reduce-only ask of 5 fills only the 2 A holds.
    let ro = OrderOpts { reduce_only: true, ..OrderOpts::default() };
    let ask = env.place_order(&a, 0, ASK, P100, 5 * BASE as u64, ro).unwrap();
    let bid = env.place_order(&b, 0, BID, P100, 5 * BASE as u64, OrderOpts::default()).unwrap();
    env.fill(&filler, fill(&b, bid, &a, ask, u64::MAX)).unwrap();
    assert_eq!(base(&mut env, &a), 0);
    // Now A holds nothing: its reduce-only remainder cannot fill.
    assert_eq!(env.fill(&filler, fill(&b, bid, &a, ask, u64::MAX)), Err(program_error(ErrorCode::NothingToFill)));
    // A post-only order can rest but never take.
    let po = OrderOpts { post_only: true, ..OrderOpts::default() };
    let po_ask = env.place_order(&a, 0, ASK, P100, BASE as u64, po).unwrap();
    let maker_bid = env.place_order(&b, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();
    assert_eq!(
        env.fill(&filler, fill(&a, po_ask, &b, maker_bid, u64::MAX)),
        Err(program_error(ErrorCode::PostOnlyCannotTake))
    );
    env.fill(&filler, fill(&b, maker_bid, &a, po_ask, u64::MAX)).unwrap();
    assert_eq!(base(&mut env, &a), -BASE);
    env.assert_conservation();
}

#[test]
fn expired_orders_cannot_fill_and_anyone_can_prune_them() {
    let Setup { mut env, filler, a, b } = setup();
    env.advance_slots(5);
    env.set_price(0, P100 as i64);
    let slot = env.slot();
    let exp = OrderOpts { expiry_slot: slot + 5, ..OrderOpts::default() };
    let ask = env.place_order(&b, 0, ASK, P100, BASE as u64, exp).unwrap();
    let bid = env.place_order(&a, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();
    assert_eq!(
        env.place_order(&a, 0, BID, P100, BASE as u64, OrderOpts { expiry_slot: slot - 1, ..OrderOpts::default() }),
        Err(program_error(ErrorCode::OrderExpiryInPast))
    );
    env.advance_slots(10);
    env.set_price(0, P100 as i64);
    assert_eq!(env.fill(&filler, fill(&a, bid, &b, ask, u64::MAX)), Err(program_error(ErrorCode::OrderExpired)));
    assert_eq!(env.margin_account(b.margin_account).positions[0].open_asks, BASE as u64);
    let prune = ix::prune_expired_orders(filler.owner, b.margin_account);
    env.send(prune, &[&filler.keypair]).unwrap();
    let acc = env.margin_account(b.margin_account);
    assert!(acc.order_index(ask).is_none());
    assert!(acc.is_flat(), "the slot is free again");
    // A's good-till-cancelled order is untouched by pruning.
    let prune = ix::prune_expired_orders(filler.owner, a.margin_account);
    env.send(prune, &[&filler.keypair]).unwrap();
    assert!(env.margin_account(a.margin_account).order_index(bid).is_some());
}

#[test]
fn self_trade_is_prevented() {
    let Setup { mut env, filler, a, .. } = setup();
    let sub = pda::margin_account(&a.owner, 1);
    env.send(ix::create_margin_account(key(&env.payer), a.owner, 1), &[&a.keypair]).unwrap();
    env.margin_accounts.push(sub);
    env.send(ix::deposit(a.owner, sub, a.token_account, 500 * USDC), &[&a.keypair]).unwrap();
    let a_sub = Trader { margin_account: sub, ..a.clone() };
    let ask = env.place_order(&a_sub, 0, ASK, P100, BASE as u64, OrderOpts::default()).unwrap();
    let bid = env.place_order(&a, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();
    assert_eq!(env.fill(&filler, fill(&a, bid, &a_sub, ask, u64::MAX)), Err(program_error(ErrorCode::SelfTrade)));
    let ask2 = env.place_order(&a, 0, ASK, P100, BASE as u64, OrderOpts::default()).unwrap();
    assert_eq!(env.fill(&filler, fill(&a, bid, &a, ask2, u64::MAX)), Err(program_error(ErrorCode::SelfTrade)));
    env.assert_conservation();
}

#[test]
fn order_validation_and_margin_at_placement() {
    let Setup { mut env, a, .. } = setup();
    let o = OrderOpts::default();
    assert_eq!(env.place_order(&a, 0, BID, P100 + 1, BASE as u64, o), Err(program_error(ErrorCode::InvalidOrderPrice)));
    assert_eq!(env.place_order(&a, 0, BID, 0, BASE as u64, o), Err(program_error(ErrorCode::InvalidOrderPrice)));
    assert_eq!(
        env.place_order(&a, 0, BID, P100, BASE as u64 / 1000, o),
        Err(program_error(ErrorCode::InvalidOrderSize))
    );
    assert_eq!(env.place_order(&a, 0, BID, P100, BASE as u64 + 1, o), Err(program_error(ErrorCode::InvalidOrderSize)));
    assert_eq!(env.place_order(&a, 0, 7, P100, BASE as u64, o), Err(program_error(ErrorCode::InvalidOrderSide)));
    // $1,000 collateral carries at most $10,000 of bids at 10% initial margin.
    assert_eq!(
        env.place_order(&a, 0, BID, P100, 101 * BASE as u64, o),
        Err(program_error(ErrorCode::InsufficientInitialMargin))
    );
    env.place_order(&a, 0, BID, P100, 60 * BASE as u64, o).unwrap();
    assert_eq!(
        env.place_order(&a, 0, BID, P100, 41 * BASE as u64, o),
        Err(program_error(ErrorCode::InsufficientInitialMargin))
    );
    // Asks of 60 net against bids of 60 only in the worse-side sense: 60 each side is fine.
    env.place_order(&a, 0, ASK, P100, 60 * BASE as u64, o).unwrap();
    // Reduce-only orders need no margin.
    env.place_order(&a, 0, ASK, P100, 500 * BASE as u64, OrderOpts { reduce_only: true, ..o }).unwrap();
    // Open orders block a withdrawal that would uncover them.
    assert_eq!(env.withdraw(&a, 500 * USDC), Err(program_error(ErrorCode::InsufficientInitialMargin)));
    for _ in 0..13 {
        env.place_order(&a, 0, BID, 50_000_000, BASE as u64, o).unwrap();
    }
    assert_eq!(env.place_order(&a, 0, BID, 50_000_000, BASE as u64, o), Err(program_error(ErrorCode::TooManyOrders)));
}

#[test]
fn delegate_trades_and_cancels_stranger_cannot() {
    let Setup { mut env, a, b, .. } = setup();
    let delegate = new_keypair();
    env.send(ix::set_delegate(a.owner, a.margin_account, key(&delegate)), &[&a.keypair]).unwrap();
    let id = env.place_order_as(&a, &delegate, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();
    assert_eq!(
        env.place_order_as(&a, &b.keypair, 0, BID, P100, BASE as u64, OrderOpts::default()),
        Err(program_error(ErrorCode::NotOwnerOrDelegate))
    );
    assert_eq!(
        env.send(ix::cancel_order(b.owner, a.margin_account, id), &[&b.keypair]),
        Err(program_error(ErrorCode::NotOwnerOrDelegate))
    );
    assert_eq!(
        env.send(ix::cancel_order(key(&delegate), a.margin_account, id + 1), &[&delegate]),
        Err(program_error(ErrorCode::OrderNotFound))
    );
    env.send(ix::cancel_order(key(&delegate), a.margin_account, id), &[&delegate]).unwrap();
    assert!(env.margin_account(a.margin_account).is_flat());
    // Cancel-all, by market.
    env.place_order(&a, 0, BID, P100, BASE as u64, OrderOpts::default()).unwrap();
    env.place_order(&a, 0, ASK, P100, BASE as u64, OrderOpts::default()).unwrap();
    env.send(ix::cancel_all_orders(a.owner, a.margin_account, Some(1)), &[&a.keypair]).unwrap();
    assert_eq!(env.margin_account(a.margin_account).orders.iter().filter(|o| !o.is_empty()).count(), 2);
    env.send(ix::cancel_all_orders(a.owner, a.margin_account, None), &[&a.keypair]).unwrap();
    assert!(env.margin_account(a.margin_account).is_flat());
}

#[test]
fn maker_margin_rechecked_at_fill_and_open_interest_capped() {
    let Setup { mut env, filler, a, b } =
        setup_with(RiskParams { max_open_interest: 50 * BASE as u64, ..default_risk() });
    // B bids 60 at $100 (initial margin $600 of its $1,000), then the price drops 4%.
    let bid = env.place_order(&b, 0, BID, P100, 60 * BASE as u64, OrderOpts::default()).unwrap();
    let ask = env.place_order(&a, 0, ASK, P100, 45 * BASE as u64, OrderOpts::default()).unwrap();
    env.set_price(0, 96_000_000);
    // Buying 45 at 100 when worth 96: B loses $180 at once; the worst case (60 long) needs $576.
    env.fill(&filler, fill(&a, ask, &b, bid, u64::MAX)).unwrap();
    // OI is 45; another 10 would exceed the cap of 50.
    let ask2 = env.place_order(&a, 0, ASK, P100, 10 * BASE as u64, OrderOpts::default()).unwrap();
    assert_eq!(
        env.fill(&filler, fill(&a, ask2, &b, bid, u64::MAX)),
        Err(program_error(ErrorCode::MaxOpenInterestExceeded))
    );
    // Filling up to the cap exactly is allowed.
    env.set_price(0, 95_500_000);
    let ask3 = env.place_order(&a, 0, ASK, P100, 5 * BASE as u64, OrderOpts::default()).unwrap();
    env.fill(&filler, fill(&a, ask3, &b, bid, u64::MAX)).unwrap();
    assert_eq!(env.market(0).open_interest_long, 50 * BASE as u64);
    env.assert_conservation();
}

#[test]
fn maker_below_initial_margin_after_fill_is_rejected() {
    let Setup { mut env, filler, a, b } = setup();
    // B uses nearly all its margin on a bid at $100; the oracle then falls to 95.3 (inside the band).
    let bid = env.place_order(&b, 0, BID, P100, 95 * BASE as u64, OrderOpts::default()).unwrap();
    let ask = env.place_order(&a, 0, ASK, P100, 95 * BASE as u64, OrderOpts::default()).unwrap();
    env.set_price(0, 95_300_000);
    let before = env.margin_account(b.margin_account).collateral;
    assert_eq!(
        env.fill(&filler, fill(&a, ask, &b, bid, u64::MAX)),
        Err(program_error(ErrorCode::MakerInsufficientMargin))
    );
    assert_eq!(env.margin_account(b.margin_account).collateral, before);
    // As taker the same check reports the taker's error.
    assert_eq!(
        env.fill(&filler, fill(&b, bid, &a, ask, u64::MAX)),
        Err(program_error(ErrorCode::InsufficientInitialMargin))
    );
    env.assert_conservation();
}

#[test]
fn funding_over_periods_with_both_signs_settles_exactly() {
    let Setup { mut env, filler, a, b } = setup();
    let period = default_risk().funding_period_slots as u64;
    // Period 1: fills at 100.5 while the oracle says 100. A fill moves the mark level by its size
    // against open interest; the level decays toward the oracle between fills, and the mark TWAP
    // is its time average (`math::funding::{mark_after_fill, advance_mark}`). Fill 1 (2 base, OI
    // 2) sets the level to 100.5; over 1,800 slots it decays to 100.25 (average 100.375: TWAP
    // 100.1875); fill 2 (2 base, OI 4) pulls it half of the 0.25 back: 100.375; over 1,800 more
    // slots it decays to 100.1875 (average 100.28125): TWAP 100.234375. Longs pay 0.234375.
    env.trade(&filler, &a, &b, 0, BID, 100_500_000, 2 * BASE as u64).unwrap();
    assert_eq!(env.update_funding(0), Err(program_error(ErrorCode::FundingNotDue)));
    env.advance_slots(period / 2);
    env.set_price(0, P100 as i64);
    env.trade(&filler, &a, &b, 0, BID, 100_500_000, 2 * BASE as u64).unwrap();
    env.advance_slots(period / 2);
    env.set_price(0, P100 as i64);
    env.update_funding(0).unwrap();
    let m = env.market(0);
    assert_eq!(m.mark_twap, 100_234_375);
    assert_eq!(m.last_funding_payment, 234_375);
    assert_eq!(m.cumulative_funding_long, 234_375 * 1_000);
    assert_eq!(env.update_funding(0), Err(program_error(ErrorCode::FundingNotDue)));
    env.assert_conservation();

    // Period 2: a fill at 99.6.
    env.advance_slots(period / 2);
    env.set_price(0, P100 as i64);
    let a_before = env.margin_account(a.margin_account).collateral;
    let b_before = env.margin_account(b.margin_account).collateral;
    // This fill settles period 1 for both: A (long 4) pays 0.9375, B receives 0.9375.
    let (t, mk) = env.trade(&filler, &a, &b, 0, BID, 99_600_000, 2 * BASE as u64).unwrap();
    let _ = (t, mk);
    let notional = 199_200_000u64; // 2 × 99.6
    let taker_fee = notional / 1_000;
    let maker_fee = notional / 5_000;
    assert_eq!(env.margin_account(a.margin_account).collateral - a_before, -937_500 - taker_fee as i64);
    assert_eq!(env.margin_account(b.margin_account).collateral - b_before, 937_500 - maker_fee as i64);
    assert_eq!(env.market(0).funding_pool, 0, "every unit paid was received");
    env.advance_slots(period / 2);
    env.set_price(0, P100 as i64);
    env.update_funding(0).unwrap();
    let m = env.market(0);
    // The level 100.1875 decays to 100.09375 over 1,800 slots (TWAP 100.1875); the fill (2 base,
    // OI 6) pulls it a third of the way to 99.6: 99.929167; it decays to 99.964584 over 1,800
    // slots (average 99.946875): TWAP 100.067187. The period-1 premium still weighs in the
    // average, so longs pay 0.067187: a premium counts for as long as it lasted, no longer.
    assert_eq!(m.mark_twap, 100_067_187);
    assert_eq!(m.last_funding_payment, 67_187);
    assert_eq!(m.cumulative_funding_long, (234_375 + 67_187) * 1_000);

    // Period 3: fills at 99.0 all period -> negative funding, clamped at 1% = 1.0 per base.
    env.advance_slots(1);
    env.set_price(0, P100 as i64);
    env.trade(&filler, &b, &a, 0, BID, 99_000_000, BASE as u64).unwrap();
    env.advance_slots(period);
    env.set_price(0, P100 as i64);
    env.trade(&filler, &b, &a, 0, BID, 99_000_000, BASE as u64).unwrap();
    env.update_funding(0).unwrap();
    assert!(env.market(0).last_funding_payment < 0, "shorts pay longs when fills trade below the oracle");
    env.assert_conservation();

    // Close everything: all funding settles, the pool keeps only rounding surplus (>= 0).
    let long = base(&mut env, &a);
    env.trade(&filler, &b, &a, 0, BID, P100, long as u64).unwrap();
    assert_eq!(base(&mut env, &a), 0);
    let pool = env.market(0).funding_pool;
    assert!((0..=2).contains(&pool), "funding pool after full settlement: {pool}");
    env.assert_conservation();
}

#[test]
fn an_under_margined_trader_can_still_quote_its_way_out() {
    let Setup { mut env, filler, a, b } = setup();
    env.trade(&filler, &a, &b, 0, BID, P100, 90 * BASE as u64).unwrap();
    env.set_price(0, 96_000_000);
    // A: collateral ~991, PnL -360, initial requirement ~864: initial health < 0.
    assert_eq!(
        env.place_order(&a, 0, BID, 96_000_000, BASE as u64, OrderOpts::default()),
        Err(program_error(ErrorCode::InsufficientInitialMargin))
    );
    // An ask that does not enlarge the worst case is accepted, and fills.
    let ask = env.place_order(&a, 0, ASK, 96_000_000, 30 * BASE as u64, OrderOpts::default()).unwrap();
    // ...but an ask so large it would flip A short beyond its current size is not.
    assert_eq!(
        env.place_order(&a, 0, ASK, 96_000_000, 200 * BASE as u64, OrderOpts::default()),
        Err(program_error(ErrorCode::InsufficientInitialMargin))
    );
    let bid = env.place_order(&b, 0, BID, 96_000_000, 30 * BASE as u64, OrderOpts::default()).unwrap();
    env.fill(&filler, fill(&b, bid, &a, ask, u64::MAX)).unwrap();
    assert_eq!(base(&mut env, &a), 60 * BASE);
    env.assert_conservation();
}
