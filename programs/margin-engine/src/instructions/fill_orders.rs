use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::*;
use crate::controller::market::accept_price;
use crate::controller::orders::reduce_order;
use crate::controller::position::{adjust_collateral, transfer_base, FillResult};
use crate::controller::vault::transfer_from_vault;
use crate::error::ErrorCode;
use crate::events::OrderFilled;
use crate::health::{account_health, require_held_markets_allow, PriceCache};
use crate::instructions::gates;
use crate::math::breaker::MarketAction;
use crate::math::fixed::{mul_div_u128, Rounding};
use crate::math::funding::mark_after_fill;
use crate::math::margin::{notional_up, HealthReport};
use crate::math::position::is_risk_reducing;
use crate::math::trading::{crosses, fee, split_fee, within_band};
use crate::oracle::OracleAction;
use crate::safe_math::{SafeCast, SafeMath};
use crate::state::{margin_account_flags, order_side, Exchange, MarginAccount, Market, Order};

/// Permissionless: a keeper matches a taker order against a crossing maker order at the maker's
/// price and earns a share of the fees in its own margin account. Remaining accounts: market
/// groups of every other market either account holds.
#[derive(Accounts)]
pub struct FillOrders<'info> {
    pub filler: Signer<'info>,
    #[account(mut, constraint = filler_account.load()?.owner == filler.key() @ ErrorCode::WrongFillerAccount)]
    pub filler_account: AccountLoader<'info, MarginAccount>,
    #[account(mut, address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    #[account(mut)]
    pub taker: AccountLoader<'info, MarginAccount>,
    #[account(mut)]
    pub maker: AccountLoader<'info, MarginAccount>,
    /// CHECK: checked by `oracle::read_price`.
    pub oracle: UncheckedAccount<'info>,
    /// CHECK: checked by `oracle::read_price`; read only when Pyth is unusable.
    pub fallback_oracle: Option<UncheckedAccount<'info>>,
    /// CHECK: the exchange's own vault PDA, by address; only a transfer endpoint here, so it is
    /// not unpacked (the token program checks it in the transfer).
    #[account(mut, address = exchange.load()?.collateral_vault @ ErrorCode::WrongVault)]
    pub collateral_vault: UncheckedAccount<'info>,
    /// CHECK: as `collateral_vault`.
    #[account(mut, address = exchange.load()?.insurance_vault @ ErrorCode::WrongVault)]
    pub insurance_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_fill_orders<'info>(
    ctx: Context<'info, FillOrders<'info>>,
    taker_order_id: u64,
    maker_order_id: u64,
    max_base_amount: u64,
) -> Result<()> {
    let clock = Clock::get()?;
    let accounts = &ctx.accounts;
    require_keys_neq!(accounts.taker.key(), accounts.maker.key(), ErrorCode::SelfTrade);
    let mut exchange = accounts.exchange.load_mut()?;
    exchange.require_open(gates::FILL_ORDERS)?;
    let mut market = accounts.market.load_mut()?;
    let mut taker = accounts.taker.load_mut()?;
    let mut maker = accounts.maker.load_mut()?;
    require_keys_neq!(taker.owner, maker.owner, ErrorCode::SelfTrade);
    // A bankrupt account belongs to the waterfall: any trade of its own could only move its
    // deficit to a counterparty of its choosing.
    require!(
        !taker.has_flag(margin_account_flags::BANKRUPT) && !maker.has_flag(margin_account_flags::BANKRUPT),
        ErrorCode::BankruptCannotTrade
    );

    // Oracle: valid for trading; it also feeds the oracle TWAP used by funding.
    let fallback = accounts.fallback_oracle.as_ref().map(|a| a.as_ref());
    let accepted = accept_price(&mut market, &accounts.oracle, fallback, &clock, OracleAction::Trade)?;
    let oracle_price = accepted.price;
    let mode = market.mode(accepted.price, accepted.ema_price, clock.slot);
    mode.require_allows(MarketAction::ReduceRisk)?;
    let window = market.risk.funding_period_slots as u64;

    let taker_slot = taker.order_index(taker_order_id).ok_or(ErrorCode::OrderNotFound)?;
    let maker_slot = maker.order_index(maker_order_id).ok_or(ErrorCode::OrderNotFound)?;
    let taker_order = taker.orders[taker_slot];
    let maker_order = maker.orders[maker_slot];
    check_match(&taker_order, &maker_order, market.market_index, clock.slot)?;
    let price = maker_order.price;
    require!(within_band(price, oracle_price, market.risk.fill_price_band), ErrorCode::FillPriceOutOfBand);

    let taker_buys = taker_order.side == order_side::BID;
    let taker_pos = taker.position_index_or_open(market.market_index).ok_or(ErrorCode::TooManyPositions)?;
    let maker_pos = maker.position_index_or_open(market.market_index).ok_or(ErrorCode::TooManyPositions)?;
    let step = market.risk.step_size;
    let mut base = taker_order.base_amount.min(maker_order.base_amount).min(max_base_amount);
    base = reduce_only_cap(&taker_order, taker.positions[taker_pos].base_amount, base);
    base = reduce_only_cap(&maker_order, maker.positions[maker_pos].base_amount, base);
    base -= base % step;
    require!(base > 0, ErrorCode::NothingToFill);

    let open_interest_before = market.open_interest_long;
    let transfer = transfer_base(
        &mut taker,
        taker_pos,
        &mut maker,
        maker_pos,
        taker_buys,
        &mut market,
        &mut exchange,
        base,
        price,
        clock.slot,
    )?;
    let (taker_fill, maker_fill) = (transfer.a, transfer.b);
    let taker_reduces = is_risk_reducing(taker_fill.old_base, taker_fill.new_base);
    let maker_reduces = is_risk_reducing(maker_fill.old_base, maker_fill.new_base);
    reduce_order(&mut taker, taker_slot, base)?;
    reduce_order(&mut maker, maker_slot, base)?;
    // Reduce-only market: a fill may only shrink both positions.
    if !(taker_reduces && maker_reduces) {
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
    adjust_collateral(&mut taker, &mut exchange, -taker_fee.safe_i64()?)?;
    adjust_collateral(&mut maker, &mut exchange, -maker_fee.safe_i64()?)?;
    let total_fee = taker_fee.safe_add(maker_fee)?;
    let (insurance, filler_reward, protocol) =
        split_fee(total_fee, market.risk.fee_insurance_share, market.risk.filler_reward_share)?;
    exchange.fee_pool = exchange.fee_pool.safe_add(protocol)?;

    (market.mark_price, market.mark_twap) = mark_after_fill(
        market.mark_price,
        market.mark_twap,
        market.mark_twap_slot,
        market.oracle_twap,
        price,
        base,
        market.open_interest_long.max(open_interest_before),
        clock.slot,
        window,
    )?;
    market.mark_twap_slot = clock.slot;
    taker.last_active_slot = clock.slot;
    maker.last_active_slot = clock.slot;

    // Each side must meet initial margin afterwards unless its risk only went down; a side whose
    // risk went down must still not end worse off than liquidation at the oracle would leave it.
    let own = Some((&*market, &accounts.market.key(), &accepted));
    let mut prices = PriceCache::new();
    prices.load(own, ctx.remaining_accounts, &clock, OracleAction::Trade)?;
    let fee_rate = market.risk.liquidation_fee as u64 + market.risk.insurance_fee as u64;
    for (account, reduces, fill, fee_paid, margin_error) in [
        (&*taker, taker_reduces, taker_fill, taker_fee, ErrorCode::InsufficientInitialMargin),
        (&*maker, maker_reduces, maker_fill, maker_fee, ErrorCode::MakerInsufficientMargin),
    ] {
        let health = account_health(account, &prices)?;
        if reduces {
            let closed = fill.old_base.unsigned_abs().min(base);
            require_no_worse_than_liquidation(&health, fill, closed, price, oracle_price, fee_paid, fee_rate)?;
        } else {
            require_held_markets_allow(account, &prices, MarketAction::MarginCheck)?;
            if health.initial_health < 0 {
                return Err(margin_error.into());
            }
        }
    }

    let bump = exchange.bump;
    let market_index = market.market_index;
    drop(taker);
    drop(maker);
    drop(market);
    if filler_reward > 0 {
        let mut filler = accounts.filler_account.load_mut()?;
        adjust_collateral(&mut filler, &mut exchange, filler_reward.safe_i64()?)?;
    }
    drop(exchange);
    transfer_from_vault(
        &accounts.token_program.to_account_info(),
        accounts.collateral_vault.to_account_info(),
        accounts.insurance_vault.to_account_info(),
        accounts.exchange.to_account_info(),
        bump,
        insurance,
    )?;
    emit!(OrderFilled {
        market_index,
        taker: accounts.taker.key(),
        maker: accounts.maker.key(),
        taker_order_id,
        maker_order_id,
        taker_side: taker_order.side,
        price,
        base_amount: base,
        taker_fee,
        maker_fee,
        insurance_share: insurance,
        filler_reward,
        protocol_share: protocol,
    });
    Ok(())
}

/// A risk-reducing fill of an account that ends below maintenance must not leave it worse off
/// than liquidation at the oracle would: what it gave up against the oracle price, plus its
/// trading fee, may not exceed the liquidation and insurance fees on the base it closed, and it
/// must end with equity of at least zero (an account below zero belongs to liquidation and the
/// waterfall: no fill moves its deficit to a counterparty, or leaves it flat and unresolved).
fn require_no_worse_than_liquidation(
    health: &HealthReport,
    fill: FillResult,
    closed_base: u64,
    price: u64,
    oracle_price: u64,
    fee_paid: u64,
    liquidation_fee_rate: u64,
) -> Result<()> {
    if health.maintenance_health >= 0 {
        return Ok(());
    }
    let sold = fill.new_base < fill.old_base;
    let adverse = if sold { oracle_price.saturating_sub(price) } else { price.saturating_sub(oracle_price) };
    let traded = fill.old_base.abs_diff(fill.new_base);
    let given_up = mul_div_u128(traded as u128, adverse as u128, BASE_PRECISION as u128, Rounding::Up)?
        .safe_add(fee_paid as u128)?;
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

fn check_match(taker: &Order, maker: &Order, market_index: u16, slot: u64) -> Result<()> {
    require!(taker.market_index == market_index && maker.market_index == market_index, ErrorCode::WrongMarket);
    require!(!taker.is_expired(slot) && !maker.is_expired(slot), ErrorCode::OrderExpired);
    require!(taker.side != maker.side, ErrorCode::SameSide);
    require!(!taker.is_post_only(), ErrorCode::PostOnlyCannotTake);
    let crossed = if taker.side == order_side::BID {
        crosses(taker.price, maker.price)
    } else {
        crosses(maker.price, taker.price)
    };
    require!(crossed, ErrorCode::OrdersDoNotCross);
    Ok(())
}

/// A reduce-only order fills at most the opposite position it reduces.
fn reduce_only_cap(order: &Order, position_base: i64, base: u64) -> u64 {
    if !order.is_reduce_only() {
        return base;
    }
    let reducible = match order.side {
        order_side::BID if position_base < 0 => position_base.unsigned_abs(),
        order_side::ASK if position_base > 0 => position_base.unsigned_abs(),
        _ => 0,
    };
    base.min(reducible)
}
