//! Order types through the real program: place_and_take (GTC, IOC, FOK, market orders with a
//! worst price, post-only refuse and slide), trigger orders (stop-loss and take-profit, fired by a
//! keeper), oracle-pegged orders; every rejection names its error and changes nothing.
#[cfg(sbf_backend)]
use crate::TestBackend;
use anchor_lang::prelude::{AccountMeta, Pubkey};
use margin_engine::constants::{MARKET_ORDER_MAX_SLOTS, TRIGGER_KEEPER_FEE};
use margin_engine::error::ErrorCode;
use margin_engine::instructions::{time_in_force, PlaceAndTakeArgs, PlaceOrderArgs};
use margin_engine::state::{order_kind, order_trigger};
use margin_engine_sdk::instructions::{self as ix, Fill, MarketOracles};
use margin_engine_sdk::{orders, pda};
#[cfg(not(sbf_backend))]
use margin_engine_tests::native::NativeBackend as TestBackend;
use margin_engine_tests::*;
use pyth_solana_receiver_sdk::price_update::VerificationLevel;

type Env = TestEnv<TestBackend>;
const P100: u64 = 100_000_000;
const B: u64 = BASE as u64;

struct Setup {
    env: Env,
    keeper: Trader,
    a: Trader,
    b: Trader,
    c: Trader,
}

fn setup() -> Setup {
    let mut env = TestEnv::new(TestBackend::new());
    env.add_market("SOL-PERP", P100 as i64, default_risk());
    let keeper = env.new_trader(0);
    let [a, b, c] = [0, 1, 2].map(|_| env.new_trader(10_000 * USDC));
    for t in [&a, &b, &c] {
        env.deposit(t, 2_000 * USDC).unwrap();
    }
    Setup { env, keeper, a, b, c }
}

fn fingerprint(env: &mut Env) -> Vec<Vec<u8>> {
    let mut out = vec![env.raw_data(pda::exchange()), env.raw_data(pda::market(0))];
    for a in env.margin_accounts.clone() {
        out.push(env.raw_data(a));
    }
    out.push(env.token_balance(pda::insurance_vault()).to_le_bytes().to_vec());
    out
}

/// `result` is the refusal `code`, and nothing changed.
fn refused(env: &mut Env, before: Vec<Vec<u8>>, result: Result<TxOutcome, TxError>, code: ErrorCode) {
    assert_eq!(result, Err(program_error(code)));
    assert_eq!(fingerprint(env), before, "a refused instruction changed state");
}

fn take(order: PlaceOrderArgs, tif: u8, maker_order_ids: Vec<u64>) -> PlaceAndTakeArgs {
    PlaceAndTakeArgs { order, time_in_force: tif, post_only_slide: false, maker_order_ids }
}

fn base_of(env: &mut Env, t: &Trader) -> i64 {
    let acc = env.margin_account(t.margin_account);
    let found = acc.active_positions().find(|p| p.market_index == 0).map_or(0, |p| p.base_amount);
    found
}

fn live_orders(env: &mut Env, t: &Trader) -> Vec<margin_engine::state::Order> {
    env.margin_account(t.margin_account).orders.iter().filter(|o| !o.is_empty()).copied().collect()
}

/// Two asks resting: b 1 SOL at $100, c 1 SOL at $101. Returns their ids.
fn two_asks(s: &mut Setup) -> (u64, u64) {
    let ask_b = s.env.place_order(&s.b, 0, ASK, P100, B, OrderOpts::default()).unwrap();
    let ask_c = s.env.place_order(&s.c, 0, ASK, P100 + 1_000_000, B, OrderOpts::default()).unwrap();
    (ask_b, ask_c)
}

// ---- place_and_take ----

#[test]
fn place_and_take_crosses_makers_best_price_first_and_rests_what_is_left() {
    let mut s = setup();
    let (ask_b, ask_c) = two_asks(&mut s);
    let makers = [s.b.margin_account, s.c.margin_account];
    let insurance_before = s.env.token_balance(pda::insurance_vault());
    let order = orders::limit(0, BID, P100 + 1_000_000, 3 * B);
    s.env.place_and_take(&s.a, take(order, time_in_force::GOOD_TILL_CANCEL, vec![ask_b, ask_c]), &makers).unwrap();

    // 1 SOL at $100 and 1 at $101: the taker paid $201 and fees of 0.1% on each.
    let a = s.env.margin_account(s.a.margin_account);
    let p = a.active_positions().next().unwrap();
    assert_eq!((p.base_amount, p.quote_amount), (2 * BASE, -201 * USDC as i64));
    assert_eq!(a.collateral, 2_000 * USDC as i64 - 100_000 - 101_000);
    assert_eq!((base_of(&mut s.env, &s.b), base_of(&mut s.env, &s.c)), (-BASE, -BASE));
    assert!(live_orders(&mut s.env, &s.b).is_empty() && live_orders(&mut s.env, &s.c).is_empty());
    // The third SOL rests as a bid at the limit and is counted in open bids.
    let rest = live_orders(&mut s.env, &s.a);
    assert_eq!(rest.len(), 1);
    assert_eq!((rest[0].price, rest[0].base_amount, rest[0].side), (P100 + 1_000_000, B, BID));
    assert_eq!(p.open_bids, B);
    // No filler: its share (10%) goes to the insurance fund with the insurance share (25%).
    let fees = 100_000 + 20_000 + 101_000 + 20_200;
    let insurance_share = (100_000 + 20_000) * 35 / 100 + (101_000 + 20_200) * 35 / 100;
    assert_eq!(s.env.token_balance(pda::insurance_vault()) - insurance_before, insurance_share);
    assert!(insurance_share < fees);
    s.env.assert_conservation();
}

#[test]
fn immediate_or_cancel_cancels_the_rest_and_fill_or_kill_fills_all_or_nothing() {
    let mut s = setup();
    let (ask_b, ask_c) = two_asks(&mut s);
    let makers = [s.b.margin_account, s.c.margin_account];
    let order = orders::limit(0, BID, P100 + 1_000_000, 3 * B);

    // FOK for 3 SOL against 2 resting: refused, nothing moves.
    let before = fingerprint(&mut s.env);
    let result = s.env.place_and_take(&s.a, take(order, time_in_force::FILL_OR_KILL, vec![ask_b, ask_c]), &makers);
    refused(&mut s.env, before, result, ErrorCode::FillOrKillNotFilled);

    // IOC: fills the 2 and cancels the third.
    s.env.place_and_take(&s.a, take(order, time_in_force::IMMEDIATE_OR_CANCEL, vec![ask_b, ask_c]), &makers).unwrap();
    assert_eq!(base_of(&mut s.env, &s.a), 2 * BASE);
    assert!(live_orders(&mut s.env, &s.a).is_empty());
    let a = s.env.margin_account(s.a.margin_account);
    assert_eq!(a.active_positions().next().unwrap().open_bids, 0);

    // FOK that can fill in full does, across a partial maker.
    let ask = s.env.place_order(&s.b, 0, ASK, P100, 2 * B, OrderOpts::default()).unwrap();
    let fok = orders::limit(0, BID, P100, B + B / 2);
    s.env.place_and_take(&s.a, take(fok, time_in_force::FILL_OR_KILL, vec![ask]), &[s.b.margin_account]).unwrap();
    assert_eq!(base_of(&mut s.env, &s.a), 3 * BASE + BASE / 2);
    assert_eq!(live_orders(&mut s.env, &s.b)[0].base_amount, B / 2);
    s.env.assert_conservation();
}

#[test]
fn a_market_order_stops_at_its_worst_price_and_refuses_when_nothing_is_within_it() {
    let mut s = setup();
    let (ask_b, ask_c) = two_asks(&mut s);
    let makers = [s.b.margin_account, s.c.margin_account];
    // Worst price $100.50: the $100 ask fills, the $101 ask is beyond it; the rest is cancelled
    // even though the time in force says good-till-cancel (a market order never rests).
    let market = orders::market(0, BID, P100 + 500_000, 2 * B);
    s.env.place_and_take(&s.a, take(market, time_in_force::GOOD_TILL_CANCEL, vec![ask_b, ask_c]), &makers).unwrap();
    assert_eq!(base_of(&mut s.env, &s.a), BASE);
    assert!(live_orders(&mut s.env, &s.a).is_empty());
    assert_eq!(live_orders(&mut s.env, &s.c).len(), 1);

    let before = fingerprint(&mut s.env);
    let tight = orders::market(0, BID, P100 + 500_000, B);
    let result = s.env.place_and_take(&s.a, take(tight, time_in_force::IMMEDIATE_OR_CANCEL, vec![ask_c]), &makers[1..]);
    refused(&mut s.env, before, result, ErrorCode::SlippageLimitExceeded);
    s.env.assert_conservation();
}

#[test]
fn place_and_take_refuses_bad_maker_lists_and_skips_makers_that_went_away() {
    let mut s = setup();
    let (ask_b, ask_c) = two_asks(&mut s);
    let order = orders::limit(0, BID, P100 + 1_000_000, 2 * B);
    let (bm, cm) = (s.b.margin_account, s.c.margin_account);

    let cases: Vec<(Vec<u64>, Vec<Pubkey>, ErrorCode)> = vec![
        (vec![ask_c, ask_b], vec![cm, bm], ErrorCode::MakersOutOfPriceOrder),
        (vec![ask_b, ask_b], vec![bm, bm], ErrorCode::DuplicateMaker),
        (vec![ask_b; 5], vec![bm; 5], ErrorCode::TooManyMakers),
        (vec![ask_b, ask_c], vec![bm], ErrorCode::TooManyMakers),
    ];
    for (ids, makers, code) in cases {
        let before = fingerprint(&mut s.env);
        let result = s.env.place_and_take(&s.a, take(order, time_in_force::IMMEDIATE_OR_CANCEL, ids), &makers);
        refused(&mut s.env, before, result, code);
    }
    // A read-only maker account.
    let mut call = s.env.place_and_take_instruction(&s.a, take(order, 1, vec![ask_b]), &[bm]);
    let at = call.accounts.iter().rposition(|m| m.pubkey == bm).unwrap();
    call.accounts[at] = AccountMeta::new_readonly(bm, false);
    let before = fingerprint(&mut s.env);
    let result = s.env.send(call, &[&s.a.keypair]);
    refused(&mut s.env, before, result, ErrorCode::MakerNotWritable);
    // The taker itself as maker: a wash trade.
    let own = s.env.place_order(&s.a, 0, ASK, P100, B, OrderOpts::default()).unwrap();
    let before = fingerprint(&mut s.env);
    let am = s.a.margin_account;
    let result = s.env.place_and_take(&s.a, take(order, 1, vec![own]), &[am]);
    refused(&mut s.env, before, result, ErrorCode::SelfTrade);
    s.env.send(ix::cancel_order(s.a.owner, am, own), &[&s.a.keypair]).unwrap();

    // b's ask is cancelled after the caller looked: it is skipped and c's still fills.
    s.env.send(ix::cancel_order(s.b.owner, bm, ask_b), &[&s.b.keypair]).unwrap();
    s.env.place_and_take(&s.a, take(order, 1, vec![ask_b, ask_c]), &[bm, cm]).unwrap();
    assert_eq!(base_of(&mut s.env, &s.a), BASE);
    s.env.assert_conservation();
}

#[test]
fn post_only_refuses_to_cross_or_slides_one_tick_inside() {
    let mut s = setup();
    let (ask_b, _) = two_asks(&mut s);
    let bm = s.b.margin_account;
    let post = PlaceOrderArgs { post_only: true, ..orders::limit(0, BID, P100 + 500_000, B) };
    let before = fingerprint(&mut s.env);
    let result = s.env.place_and_take(&s.a, take(post, 0, vec![ask_b]), &[bm]);
    refused(&mut s.env, before, result, ErrorCode::PostOnlyWouldCross);
    let before = fingerprint(&mut s.env);
    let result = s.env.place_and_take(&s.a, take(post, time_in_force::IMMEDIATE_OR_CANCEL, vec![ask_b]), &[bm]);
    refused(&mut s.env, before, result, ErrorCode::InvalidTimeInForce);

    let slide = PlaceAndTakeArgs { post_only_slide: true, ..take(post, 0, vec![ask_b]) };
    s.env.place_and_take(&s.a, slide, &[bm]).unwrap();
    let rest = live_orders(&mut s.env, &s.a);
    let tick = default_risk().tick_size;
    assert_eq!((rest.len(), rest[0].price, rest[0].is_post_only()), (1, P100 - tick, true));
    assert_eq!(base_of(&mut s.env, &s.a), 0, "a post-only order never takes");
    assert_eq!(live_orders(&mut s.env, &s.b).len(), 1);
}

// ---- trigger orders ----

/// a long 1 SOL from b at $100.
fn long_a(s: &mut Setup) {
    let keeper = s.keeper.clone();
    let (a, b) = (s.a.clone(), s.b.clone());
    s.env.trade(&keeper, &a, &b, 0, BID, P100, B).unwrap();
}

#[test]
fn a_stop_market_fires_on_the_oracle_pays_its_keeper_and_closes_the_position() {
    let mut s = setup();
    long_a(&mut s);
    // A sell stop must lie below the price: at $105 it would fire at once.
    let before = fingerprint(&mut s.env);
    let result = s.env.place(&s.a, orders::stop_market(0, ASK, 105_000_000, 90_000_000, B));
    assert_eq!(result, Err(program_error(ErrorCode::TriggerWrongSide)));
    assert_eq!(fingerprint(&mut s.env), before);
    let stop = s.env.place(&s.a, orders::stop_market(0, ASK, 95_000_000, 90_000_000, B)).unwrap();
    let o = live_orders(&mut s.env, &s.a)[0];
    assert_eq!(
        (o.kind, o.trigger, o.is_reduce_only(), o.expiry_slot),
        (order_kind::MARKET, order_trigger::BELOW, true, 0)
    );

    // Untriggered it cannot fill, and the oracle at $100 does not fire it.
    let bid = s.env.place_order(&s.c, 0, BID, 94_000_000, B, OrderOpts::default()).unwrap();
    let fill = Fill {
        market_index: 0,
        taker: s.a.margin_account,
        taker_order_id: stop,
        maker: s.c.margin_account,
        maker_order_id: bid,
        max_base_amount: u64::MAX,
    };
    let keeper = s.keeper.clone();
    let before = fingerprint(&mut s.env);
    let result = s.env.fill(&keeper, fill);
    refused(&mut s.env, before, result, ErrorCode::OrderNotTriggered);
    let before = fingerprint(&mut s.env);
    let result = s.env.trigger_order(&keeper, &s.a, stop);
    refused(&mut s.env, before, result, ErrorCode::TriggerConditionNotMet);

    // $94: the keeper fires it and is paid; the order is a live market order with a short expiry.
    s.env.advance_slots(1);
    s.env.set_price(0, 94_000_000);
    let (collateral_a, collateral_k) =
        (s.env.margin_account(s.a.margin_account).collateral, s.env.margin_account(keeper.margin_account).collateral);
    s.env.trigger_order(&keeper, &s.a, stop).unwrap();
    assert_eq!(s.env.margin_account(s.a.margin_account).collateral, collateral_a - TRIGGER_KEEPER_FEE as i64);
    assert_eq!(s.env.margin_account(keeper.margin_account).collateral, collateral_k + TRIGGER_KEEPER_FEE as i64);
    let o = live_orders(&mut s.env, &s.a)[0];
    let slot = s.env.slot();
    assert_eq!(
        (o.trigger, o.trigger_price, o.expiry_slot),
        (order_trigger::NONE, 95_000_000, slot + MARKET_ORDER_MAX_SLOTS)
    );
    let before = fingerprint(&mut s.env);
    let result = s.env.trigger_order(&keeper, &s.a, stop);
    refused(&mut s.env, before, result, ErrorCode::NotATriggerOrder);
    // A market order only takes: it cannot be the maker of a fill.
    let ask_fill = Fill {
        taker: s.c.margin_account,
        taker_order_id: bid,
        maker: s.a.margin_account,
        maker_order_id: stop,
        ..fill
    };
    let before = fingerprint(&mut s.env);
    let result = s.env.fill(&keeper, ask_fill);
    refused(&mut s.env, before, result, ErrorCode::MarketOrderCannotMake);
    // A keeper who picks the maker cannot fill the stop further from the oracle than liquidation's
    // fees (1.5% here): a bid at $92 (2.1% under $94) is refused.
    let low = s.env.place_order(&s.b, 0, BID, 92_000_000, B, OrderOpts::default()).unwrap();
    let before = fingerprint(&mut s.env);
    let result = s.env.fill(&keeper, Fill { maker: s.b.margin_account, maker_order_id: low, ..fill });
    refused(&mut s.env, before, result, ErrorCode::MarketFillTooFarFromOracle);
    s.env.fill(&keeper, fill).unwrap();
    assert_eq!(base_of(&mut s.env, &s.a), 0);
    assert!(live_orders(&mut s.env, &s.a).is_empty());
    s.env.assert_conservation();
}

#[test]
fn a_stop_cannot_fire_on_a_price_older_than_a_few_seconds_and_an_expired_one_is_cancelled_unpaid() {
    let mut s = setup();
    long_a(&mut s);
    let stop = s.env.place(&s.a, orders::stop_market(0, ASK, 95_000_000, 90_000_000, B)).unwrap();
    // A genuine $94 update newer than any the market accepted, but 10 seconds old: within the
    // trading staleness limit, beyond the trigger's.
    s.env.advance_slots(100);
    let slot = s.env.slot();
    let feed = s.env.markets[0].feed_id;
    let pyth = s.env.markets[0].pyth;
    let published = s.env.backend.clock().unix_timestamp - 10;
    s.env.write_pyth_full(pyth, feed, 94_000_000, 0, slot, published, VerificationLevel::Full);
    let keeper = s.keeper.clone();
    let before = fingerprint(&mut s.env);
    let result = s.env.trigger_order(&keeper, &s.a, stop);
    refused(&mut s.env, before, result, ErrorCode::OrderPriceTooOld);

    // An expired stop is cancelled when fired, and its keeper is not paid.
    let expiring =
        PlaceOrderArgs { expiry_slot: s.env.slot() + 2, ..orders::stop_market(0, ASK, 93_000_000, 90_000_000, B) };
    s.env.set_price(0, P100 as i64);
    let expiring = s.env.place(&s.a, expiring).unwrap();
    s.env.advance_slots(5);
    s.env.set_price(0, 92_000_000);
    let k = s.env.margin_account(keeper.margin_account).collateral;
    s.env.trigger_order(&keeper, &s.a, expiring).unwrap();
    assert_eq!(s.env.margin_account(keeper.margin_account).collateral, k);
    assert!(live_orders(&mut s.env, &s.a).iter().all(|o| o.order_id != expiring));
    s.env.assert_conservation();
}

#[test]
fn an_order_that_can_never_fill_does_not_block_a_cross() {
    let mut s = setup();
    let (ask_b, ask_c) = two_asks(&mut s);
    // The keeper holds nothing: its reduce-only ask a tick better than the book needs no margin
    // and can never fill. Passed first, it is skipped and b's and c's asks still fill.
    let keeper = s.keeper.clone();
    let tick = default_risk().tick_size;
    let ro = OrderOpts { reduce_only: true, ..OrderOpts::default() };
    let blocker = s.env.place_order(&keeper, 0, ASK, P100 - tick, B, ro).unwrap();
    let order = orders::limit(0, BID, P100 + 1_000_000, 2 * B);
    let makers = [keeper.margin_account, s.b.margin_account, s.c.margin_account];
    s.env.place_and_take(&s.a, take(order, 1, vec![blocker, ask_b, ask_c]), &makers).unwrap();
    assert_eq!(base_of(&mut s.env, &s.a), 2 * BASE);
    assert_eq!(live_orders(&mut s.env, &keeper).len(), 1);
    s.env.assert_conservation();
}

#[test]
fn a_take_profit_limit_rests_once_fired_and_a_reduce_only_trigger_with_nothing_to_reduce_is_cancelled() {
    let mut s = setup();
    long_a(&mut s);
    let tp = s.env.place(&s.a, orders::take_profit_limit(0, ASK, 104_000_000, 104_000_000, B)).unwrap();
    let stop = s.env.place(&s.a, orders::stop_limit(0, ASK, 96_000_000, 95_000_000, B)).unwrap();
    let keeper = s.keeper.clone();
    s.env.advance_slots(1);
    s.env.set_price(0, 104_000_000);
    s.env.trigger_order(&keeper, &s.a, tp).unwrap();
    // Fired, it is a resting limit ask that can make.
    let bid = s.env.place_order(&s.c, 0, BID, 104_000_000, B, OrderOpts::default()).unwrap();
    let fill = Fill {
        market_index: 0,
        taker: s.c.margin_account,
        taker_order_id: bid,
        maker: s.a.margin_account,
        maker_order_id: tp,
        max_base_amount: u64::MAX,
    };
    s.env.fill(&keeper, fill).unwrap();
    assert_eq!(base_of(&mut s.env, &s.a), 0);
    // The stop now has nothing to reduce: firing it cancels it and pays no fee.
    s.env.advance_slots(1);
    s.env.set_price(0, 95_000_000);
    let k = s.env.margin_account(keeper.margin_account).collateral;
    s.env.trigger_order(&keeper, &s.a, stop).unwrap();
    assert!(live_orders(&mut s.env, &s.a).is_empty());
    assert_eq!(s.env.margin_account(keeper.margin_account).collateral, k);
    s.env.assert_conservation();
}

#[test]
fn a_reduce_only_stop_fires_in_a_reduce_only_market_and_an_entry_trigger_does_not() {
    let mut s = setup();
    long_a(&mut s);
    let stop = s.env.place(&s.a, orders::stop_market(0, ASK, 95_000_000, 90_000_000, B)).unwrap();
    // A buy entry that fires when the price falls to $90 (not reduce-only).
    let entry = PlaceOrderArgs {
        trigger: order_trigger::BELOW,
        trigger_price: 90_000_000,
        ..orders::market(0, BID, 99_000_000, B)
    };
    let entry_id = s.env.place(&s.c, entry).unwrap();
    let guardian = s.env.guardian.clone();
    s.env.send(ix::set_market_reduce_only(key(&guardian), 0, true), &[&guardian]).unwrap();
    s.env.advance_slots(1);
    s.env.set_price(0, 89_000_000);
    let keeper = s.keeper.clone();
    let before = fingerprint(&mut s.env);
    let result = s.env.trigger_order(&keeper, &s.c, entry_id);
    refused(&mut s.env, before, result, ErrorCode::MarketReduceOnly);
    s.env.trigger_order(&keeper, &s.a, stop).unwrap();
    assert_eq!(live_orders(&mut s.env, &s.a)[0].trigger, order_trigger::NONE);
}

#[test]
fn trigger_orders_that_can_add_risk_need_margin_and_reduce_only_ones_do_not() {
    let mut s = setup();
    long_a(&mut s);
    // 500 SOL of entry stop at $100 needs $5,000 of initial margin; a holds about $2,000.
    let big_entry =
        PlaceOrderArgs { reduce_only: false, ..orders::stop_market(0, BID, 101_000_000, 102_000_000, 500 * B) };
    let before = fingerprint(&mut s.env);
    let result = s.env.place(&s.a, big_entry);
    assert_eq!(result, Err(program_error(ErrorCode::InsufficientInitialMargin)));
    assert_eq!(fingerprint(&mut s.env), before);
    // The same size reduce-only (it can only close the 1 SOL) needs none.
    s.env.place(&s.a, orders::stop_market(0, ASK, 95_000_000, 90_000_000, 500 * B)).unwrap();
}

#[test]
fn an_old_genuine_price_cannot_fire_a_stop() {
    let mut s = setup();
    long_a(&mut s);
    let stop = s.env.place(&s.a, orders::stop_market(0, ASK, 95_000_000, 90_000_000, B)).unwrap();
    s.env.advance_slots(10);
    s.env.set_price(0, P100 as i64);
    s.env.refresh_market(0).unwrap();
    let t = s.env.market(0).last_pyth_publish_time;
    // A genuinely signed $90 print from before the market's newest: a replay.
    let old = Pubkey::new_unique();
    let feed = s.env.markets[0].feed_id;
    let slot = s.env.slot();
    s.env.write_pyth_full(old, feed, 90_000_000, 0, slot, t - 5, VerificationLevel::Full);
    let keeper = s.keeper.clone();
    let call = ix::trigger_order(
        keeper.owner,
        keeper.margin_account,
        s.a.margin_account,
        0,
        MarketOracles { pyth: old, switchboard: None },
        stop,
    );
    let before = fingerprint(&mut s.env);
    let result = s.env.send(call, &[&keeper.keypair]);
    refused(&mut s.env, before, result, ErrorCode::OracleReplayed);
    // The keeper's own account as the order's: refused (it must be the signer's and another's).
    let call = ix::trigger_order(s.a.owner, s.a.margin_account, s.a.margin_account, 0, s.env.oracles_of(0), stop);
    let before = fingerprint(&mut s.env);
    let result = s.env.send(call, &[&s.a.keypair]);
    refused(&mut s.env, before, result, ErrorCode::WrongKeeperAccount);
}

// ---- oracle-pegged orders ----

#[test]
fn a_pegged_order_follows_the_oracle_to_its_fill_and_its_offset_is_bounded() {
    let mut s = setup();
    let peg = |offset| orders::oracle_peg(0, ASK, offset, B, 0);
    // 5% band: an offset of $6 on $100 is beyond it; an offset off the tick grid is refused too.
    for (offset, code) in [(6_000_000, ErrorCode::PegOffsetOutOfBounds), (500_500, ErrorCode::PegOffsetOutOfBounds)] {
        let before = fingerprint(&mut s.env);
        let result = s.env.place(&s.b, peg(offset));
        assert_eq!(result, Err(program_error(code)));
        assert_eq!(fingerprint(&mut s.env), before);
    }
    let limit_with_offset = PlaceOrderArgs { peg_offset: 1_000, ..orders::limit(0, ASK, P100, B) };
    assert_eq!(s.env.place(&s.b, limit_with_offset), Err(program_error(ErrorCode::PegOffsetOutOfBounds)));
    let ask = s.env.place(&s.b, peg(500_000)).unwrap();
    // At $102 the ask is at $102.50: a bid at $102.40 does not cross it, one at $102.50 does.
    s.env.advance_slots(1);
    s.env.set_price(0, 102_000_000);
    let keeper = s.keeper.clone();
    let low = s.env.place_order(&s.a, 0, BID, 102_400_000, B, OrderOpts::default()).unwrap();
    let fill = |taker_order_id| Fill {
        market_index: 0,
        taker: s.a.margin_account,
        taker_order_id,
        maker: s.b.margin_account,
        maker_order_id: ask,
        max_base_amount: u64::MAX,
    };
    let before = fingerprint(&mut s.env);
    let result = s.env.fill(&keeper, fill(low));
    refused(&mut s.env, before, result, ErrorCode::OrdersDoNotCross);
    let bid = s.env.place_order(&s.a, 0, BID, 102_500_000, B, OrderOpts::default()).unwrap();
    s.env.fill(&keeper, fill(bid)).unwrap();
    let a = s.env.margin_account(s.a.margin_account);
    assert_eq!(a.active_positions().next().unwrap().quote_amount, -102_500_000);
    s.env.assert_conservation();
}
