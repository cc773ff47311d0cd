//! One match of a taker order against a maker order, and the margin rule each side must meet
//! afterwards: `fill_orders` (a keeper's match) and `place_and_take` (the taker's own, against up
//! to `MAX_TAKE_MAKERS`) run exactly this.
use anchor_lang::prelude::*;

use crate::constants::*;
use crate::controller::orders::reduce_order;
use crate::controller::position::{adjust_collateral, transfer_base, FillResult};
use crate::error::ErrorCode;
use crate::health::{account_health, require_held_markets_allow, PriceCache};
use crate::math::breaker::{MarketAction, MarketMode};
use crate::math::fixed::{mul_div_u128, Rounding};
use crate::math::funding::mark_after_fill;
use crate::math::margin::notional_up;
use crate::math::position::{is_risk_reducing, reducible};
use crate::math::trading::{crosses, fee, split_fee, within_band};
use crate::safe_math::{SafeCast, SafeMath};
use crate::state::{margin_account_flags, order_kind, order_side, Exchange, MarginAccount, Market, Order};

/// What one match did.
#[derive(Clone, Copy, Debug)]
pub struct Match {
    pub base: u64,
    pub price: u64,
    pub taker_fill: FillResult,
    pub maker_fill: FillResult,
    pub taker_fee: u64,
    pub maker_fee: u64,
    /// Fee shares: (insurance, filler, protocol). The protocol share is already in the fee pool;
    /// the caller pays the filler share and moves the insurance share to the insurance vault.
    pub insurance: u64,
    pub filler_reward: u64,
    pub protocol: u64,
}

impl Match {
    /// What the taker gave up against the oracle price on this match, plus its fee (quote native,
    /// rounded up): the measure of `require_no_worse_than_liquidation`.
    pub fn taker_given_up(&self, oracle_price: u64) -> Result<u128> {
        given_up(self.taker_fill, self.price, oracle_price, self.taker_fee)
    }
    pub fn maker_given_up(&self, oracle_price: u64) -> Result<u128> {
        given_up(self.maker_fill, self.price, oracle_price, self.maker_fee)
    }
}

/// Why `taker` and `maker` cannot match at `oracle_price`, if they cannot; else the fill price
/// (the maker's limit price, which moves with the oracle for a pegged maker).
pub fn check_match(taker: &Order, maker: &Order, market: &Market, oracle_price: u64, slot: u64) -> Result<u64> {
    let index = market.market_index;
    require!(taker.market_index == index && maker.market_index == index, ErrorCode::WrongMarket);
    require!(!taker.is_expired(slot) && !maker.is_expired(slot), ErrorCode::OrderExpired);
    require!(!taker.is_untriggered() && !maker.is_untriggered(), ErrorCode::OrderNotTriggered);
    require!(taker.side != maker.side, ErrorCode::SameSide);
    require!(!taker.is_post_only(), ErrorCode::PostOnlyCannotTake);
    require!(maker.can_make(), ErrorCode::MarketOrderCannotMake);
    let tick = market.risk.tick_size;
    let taker_price = taker.limit_price(oracle_price, tick).ok_or(ErrorCode::InvalidOrderPrice)?;
    let maker_price = maker.limit_price(oracle_price, tick).ok_or(ErrorCode::InvalidOrderPrice)?;
    let crossed = if taker.side == order_side::BID {
        crosses(taker_price, maker_price)
    } else {
        crosses(maker_price, taker_price)
    };
    require!(crossed, ErrorCode::OrdersDoNotCross);
    require!(within_band(maker_price, oracle_price, market.risk.fill_price_band), ErrorCode::FillPriceOutOfBand);
    Ok(maker_price)
}

/// Fills up to `max_base` of the taker's order in `taker_slot` against the maker's in `maker_slot`
/// at the maker's price (`check_match` first). Moves base and quote, fees (the protocol share to
/// the fee pool) and the mark price; enforces the market mode and the open-interest cap.
/// `price_age_seconds`: how old the oracle price is; `taker_chose_maker`: the taker's own
/// `place_and_take` (else a keeper chose the pair).
#[allow(clippy::too_many_arguments)]
pub fn execute_match(
    taker: &mut MarginAccount,
    taker_slot: usize,
    maker: &mut MarginAccount,
    maker_slot: usize,
    market: &mut Market,
    exchange: &mut Exchange,
    mode: MarketMode,
    oracle_price: u64,
    price_age_seconds: i64,
    taker_chose_maker: bool,
    max_base: u64,
    slot: u64,
) -> Result<Match> {
    require_keys_neq!(taker.owner, maker.owner, ErrorCode::SelfTrade);
    // A bankrupt account belongs to the waterfall: any trade of its own could only move its
    // deficit to a counterparty of its choosing.
    require!(
        !taker.has_flag(margin_account_flags::BANKRUPT) && !maker.has_flag(margin_account_flags::BANKRUPT),
        ErrorCode::BankruptCannotTrade
    );
    let taker_order = taker.orders[taker_slot];
    let maker_order = maker.orders[maker_slot];
    // A keeper who picks the maker of a market order could fill it at the order's worst price
    // against an order of its own: such a fill is bounded like liquidation (at most its fees away
    // from the oracle, against the taker). Prices that follow the oracle, and that bound, need a
    // price the caller cannot pick from the last minute.
    let bounded = !taker_chose_maker && taker_order.kind == order_kind::MARKET;
    let pegged = taker_order.kind == order_kind::ORACLE_PEG || maker_order.kind == order_kind::ORACLE_PEG;
    if bounded || pegged {
        require!(price_age_seconds <= ORDER_PRICE_MAX_AGE_SECONDS, ErrorCode::OrderPriceTooOld);
    }
    let price = check_match(&taker_order, &maker_order, market, oracle_price, slot)?;
    if bounded {
        let allowance = market.risk.liquidation_allowance();
        let adverse = if taker_order.side == order_side::BID { price > oracle_price } else { price < oracle_price };
        require!(!adverse || within_band(price, oracle_price, allowance), ErrorCode::MarketFillTooFarFromOracle);
    }

    let taker_buys = taker_order.side == order_side::BID;
    let taker_pos = taker.position_index_or_open(market.market_index).ok_or(ErrorCode::TooManyPositions)?;
    let maker_pos = maker.position_index_or_open(market.market_index).ok_or(ErrorCode::TooManyPositions)?;
    let mut base = taker_order.base_amount.min(maker_order.base_amount).min(max_base);
    base = reduce_only_cap(&taker_order, taker.positions[taker_pos].base_amount, base);
    base = reduce_only_cap(&maker_order, maker.positions[maker_pos].base_amount, base);
    base -= base % market.risk.step_size;
    require!(base > 0, ErrorCode::NothingToFill);

    let open_interest_before = market.open_interest_long;
    let transfer = transfer_base(taker, taker_pos, maker, maker_pos, taker_buys, market, exchange, base, price, slot)?;
    let (taker_fill, maker_fill) = (transfer.a, transfer.b);
    reduce_order(taker, taker_slot, base)?;
    reduce_order(maker, maker_slot, base)?;
    // Reduce-only market: a fill may only shrink both positions.
    if !(is_risk_reducing(taker_fill.old_base, taker_fill.new_base)
        && is_risk_reducing(maker_fill.old_base, maker_fill.new_base))
    {
        mode.require_allows(MarketAction::AddRisk)?;
    }
    // The cap binds only fills that raise open interest; closing is always allowed.
    require!(
        market.open_interest_long <= open_interest_before || market.open_interest_long <= market.risk.max_open_interest,
        ErrorCode::MaxOpenInterestExceeded
    );

    // Fees on the notional the buyer paid.
    let paid = transfer.paid;
    let taker_fee = fee(paid, market.risk.taker_fee)?;
    let maker_fee = fee(paid, market.risk.maker_fee)?;
    adjust_collateral(taker, exchange, -taker_fee.safe_i64()?)?;
    adjust_collateral(maker, exchange, -maker_fee.safe_i64()?)?;
    let (insurance, filler_reward, protocol) =
        split_fee(taker_fee.safe_add(maker_fee)?, market.risk.fee_insurance_share, market.risk.filler_reward_share)?;
    exchange.fee_pool = exchange.fee_pool.safe_add(protocol)?;

    let window = market.risk.funding_period_slots as u64;
    (market.mark_price, market.mark_twap) = mark_after_fill(
        market.mark_price,
        market.mark_twap,
        market.mark_twap_slot,
        market.oracle_twap,
        price,
        base,
        market.open_interest_long.max(open_interest_before),
        slot,
        window,
    )?;
    market.mark_twap_slot = slot;
    taker.last_active_slot = slot;
    maker.last_active_slot = slot;
    Ok(Match { base, price, taker_fill, maker_fill, taker_fee, maker_fee, insurance, filler_reward, protocol })
}

/// The margin rule after trading. A side whose risk went up (`reduces` false) must meet initial
/// margin (`margin_error` otherwise). A side whose risk only went down must still not end worse
/// off than liquidation at the oracle would leave it: while below maintenance, what it gave up
/// against the oracle plus its fees (`given_up`) may not exceed the liquidation and insurance fees
/// on the base it closed, and it must end with equity of at least zero (an account below zero
/// belongs to liquidation and the waterfall: no fill moves its deficit to a counterparty, or
/// leaves it flat and unresolved).
#[allow(clippy::too_many_arguments)]
pub fn require_margin_after_trade(
    account: &MarginAccount,
    prices: &PriceCache,
    reduces: bool,
    given_up: u128,
    closed_base: u64,
    oracle_price: u64,
    liquidation_fee_rate: u64,
    margin_error: ErrorCode,
) -> Result<()> {
    let health = account_health(account, prices)?;
    if !reduces {
        require_held_markets_allow(account, prices, MarketAction::MarginCheck)?;
        if health.initial_health < 0 {
            return Err(margin_error.into());
        }
        return Ok(());
    }
    if health.maintenance_health >= 0 {
        return Ok(());
    }
    require!(health.equity() >= 0, ErrorCode::FillWorseThanLiquidation);
    let allowance = mul_div_u128(
        notional_up(closed_base.safe_i64()?, oracle_price)?,
        liquidation_fee_rate as u128,
        RATIO_PRECISION as u128,
        Rounding::Down,
    )?;
    require!(given_up <= allowance, ErrorCode::FillWorseThanLiquidation);
    Ok(())
}

fn given_up(fill: FillResult, price: u64, oracle_price: u64, fee_paid: u64) -> Result<u128> {
    let sold = fill.new_base < fill.old_base;
    let adverse = if sold { oracle_price.saturating_sub(price) } else { price.saturating_sub(oracle_price) };
    let traded = fill.old_base.abs_diff(fill.new_base);
    mul_div_u128(traded as u128, adverse as u128, BASE_PRECISION as u128, Rounding::Up)?.safe_add(fee_paid as u128)
}

/// A reduce-only order fills at most the opposite position it reduces.
pub fn reduce_only_cap(order: &Order, position_base: i64, base: u64) -> u64 {
    if !order.is_reduce_only() {
        return base;
    }
    base.min(reducible(order.side, position_base))
}
