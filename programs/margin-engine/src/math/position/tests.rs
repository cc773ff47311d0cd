use super::*;
use proptest::prelude::*;

const B: i64 = 1_000_000_000;

#[test]
fn open_then_increase() {
    let r = apply_trade(0, 0, 2 * B, -200).unwrap();
    assert_eq!(r, TradeResult { base_amount: 2 * B, quote_amount: -200, realized_pnl: 0 });
    let r = apply_trade(2 * B, -200, B, -130).unwrap();
    assert_eq!(r, TradeResult { base_amount: 3 * B, quote_amount: -330, realized_pnl: 0 });
}

#[test]
fn partial_close_realises_share_of_basis() {
    // Long 4 for 400, sell 1 for 150: basis of 1 is 100, realised +50.
    let r = apply_trade(4 * B, -400, -B, 150).unwrap();
    assert_eq!(r, TradeResult { base_amount: 3 * B, quote_amount: -300, realized_pnl: 50 });
}

#[test]
fn full_close_leaves_no_quote() {
    let r = apply_trade(-3 * B, 333, 3 * B, -360).unwrap();
    assert_eq!(r, TradeResult { base_amount: 0, quote_amount: 0, realized_pnl: -27 });
}

#[test]
fn flip_closes_then_opens() {
    // Long 1 for 100; sell 3 for 330: close 1 (gets 110, realises +10), open short 2 for 220.
    let r = apply_trade(B, -100, -3 * B, 330).unwrap();
    assert_eq!(r, TradeResult { base_amount: -2 * B, quote_amount: 220, realized_pnl: 10 });
}

#[test]
fn open_interest_and_risk_direction() {
    assert_eq!(open_interest_delta(0, 5), (5, 0));
    assert_eq!(open_interest_delta(5, -3), (-5, 3));
    assert_eq!(open_interest_delta(-3, -1), (0, -2));
    assert!(is_risk_reducing(5, 3));
    assert!(is_risk_reducing(-5, 0));
    assert!(!is_risk_reducing(5, -1));
    assert!(!is_risk_reducing(0, 1));
    assert!(!is_risk_reducing(-2, -3));
}

#[test]
fn funding_rounds_against_the_position() {
    // Index +1.5 quote units per base (scale 1e3 -> 1500): long of 1 pays 2 (rounded up), short receives 1.
    assert_eq!(funding_owed(B, 1_500, 0).unwrap(), -2);
    assert_eq!(funding_owed(-B, 1_500, 0).unwrap(), 1);
    assert_eq!(funding_owed(0, 1_500, 0).unwrap(), 0);
    assert_eq!(funding_owed(-2 * B, -3_000, 0).unwrap(), -6);
}

proptest! {
    /// Realised PnL plus the change in quote always equals the trade's quote: exact conservation.
    #[test]
    fn trade_conserves_quote(base in -1_000_000 * B..1_000_000 * B, quote in -1_000_000_000_000_000i64..1_000_000_000_000_000, delta in -1_000_000 * B..1_000_000 * B, tq in -1_000_000_000_000_000i64..1_000_000_000_000_000) {
        let r = apply_trade(base, quote, delta, tq).unwrap();
        prop_assert_eq!(r.realized_pnl as i128 + r.quote_amount as i128 - quote as i128, tq as i128);
        prop_assert_eq!(r.base_amount, base + delta);
        if r.base_amount == 0 { prop_assert_eq!(r.quote_amount, 0); }
    }

    /// Funding between a long and a short of equal size never pays out more than it collects.
    #[test]
    fn funding_is_zero_sum_or_surplus(size in 1i64..1_000_000 * B, d in -1_000_000_000_000i64..1_000_000_000_000) {
        let long = funding_owed(size, d, 0).unwrap() as i128;
        let short = funding_owed(-size, d, 0).unwrap() as i128;
        let surplus = -(long + short);
        prop_assert!((0..=1).contains(&surplus), "surplus {}", surplus);
    }
}
