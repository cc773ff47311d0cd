use anchor_lang::prelude::*;

use crate::constants::*;
use crate::controller::market::accept_price;
use crate::controller::orders::{market_order_expiry, reduce_order};
use crate::controller::position::adjust_collateral;
use crate::error::ErrorCode;
use crate::events::OrderTriggered;
use crate::instructions::gates;
use crate::math::breaker::MarketAction;
use crate::math::trading::trigger_fired;
use crate::oracle::OracleAction;
use crate::safe_math::SafeCast;
use crate::state::{margin_account_flags, order_kind, order_trigger, Exchange, MarginAccount, Market};

/// Permissionless: a keeper fires a stop-loss / take-profit order whose oracle condition is met.
/// The order becomes a live limit or market order (filled like any other, by `fill_orders`, in the
/// same transaction if the keeper likes); the keeper earns `TRIGGER_KEEPER_FEE` from the order's
/// account (none while it is being liquidated). An expired trigger, or a reduce-only one with
/// nothing left to reduce, is cancelled instead, unpaid.
#[derive(Accounts)]
#[instruction(order_id: u64)]
pub struct TriggerOrder<'info> {
    pub keeper: Signer<'info>,
    #[account(
        mut,
        constraint = keeper_account.load()?.owner == keeper.key() @ ErrorCode::WrongKeeperAccount,
        constraint = keeper_account.key() != margin_account.key() @ ErrorCode::WrongKeeperAccount
    )]
    pub keeper_account: AccountLoader<'info, MarginAccount>,
    #[account(mut, address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    /// Written: the trigger's price is accepted into the market (replay watermark, TWAP, breaker),
    /// so no trigger can fire on an update older than one the market has already seen.
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: checked by `oracle::read_price`.
    pub oracle: UncheckedAccount<'info>,
    /// CHECK: checked by `oracle::read_price`; read only when Pyth is unusable.
    pub fallback_oracle: Option<UncheckedAccount<'info>>,
}

pub fn handle_trigger_order(ctx: Context<TriggerOrder>, order_id: u64) -> Result<()> {
    let clock = Clock::get()?;
    let accounts = &ctx.accounts;
    let mut exchange = accounts.exchange.load_mut()?;
    exchange.require_open(gates::TRIGGER_ORDER)?;
    let mut account = accounts.margin_account.load_mut()?;
    require!(!account.has_flag(margin_account_flags::BANKRUPT), ErrorCode::BankruptCannotTrade);
    let slot = account.order_index(order_id).ok_or(ErrorCode::OrderNotFound)?;
    let order = account.orders[slot];
    require!(order.is_untriggered(), ErrorCode::NotATriggerOrder);
    let mut market = accounts.market.load_mut()?;
    require!(market.market_index == order.market_index, ErrorCode::WrongMarket);

    let fallback = accounts.fallback_oracle.as_ref().map(|a| a.as_ref());
    let accepted = accept_price(&mut market, &accounts.oracle, fallback, &clock, OracleAction::Trade)?;
    // Within the trading staleness limit the keeper could pick the genuine update that fires it.
    require!(
        clock.unix_timestamp.saturating_sub(accepted.publish_time) <= ORDER_PRICE_MAX_AGE_SECONDS,
        ErrorCode::OrderPriceTooOld
    );
    require!(trigger_fired(order.trigger, order.trigger_price, accepted.price), ErrorCode::TriggerConditionNotMet);
    // A stop that only reduces fires in every mode that allows de-risking; one that may add risk
    // fires only where adding risk is allowed.
    let action = if order.is_reduce_only() { MarketAction::ReduceRisk } else { MarketAction::AddRisk };
    market.mode(accepted.price, accepted.ema_price, clock.slot).require_allows(action)?;

    let position_base = account.position_index(order.market_index).map_or(0, |p| account.positions[p].base_amount);
    // An expired order can never fill, a reduce-only one with nothing left can never reduce:
    // either is cancelled, unpaid.
    let cancelled = order.is_expired(clock.slot) || order.has_nothing_to_reduce(position_base);
    let mut keeper_fee = 0u64;
    if cancelled {
        reduce_order(&mut account, slot, order.base_amount)?;
    } else {
        let o = &mut account.orders[slot];
        o.trigger = order_trigger::NONE;
        if o.kind == order_kind::MARKET {
            o.expiry_slot = market_order_expiry(o.expiry_slot, clock.slot);
        }
        // An account in liquidation pays nothing: the fee would only deepen a possible deficit.
        if !account.has_flag(margin_account_flags::BEING_LIQUIDATED) {
            keeper_fee = TRIGGER_KEEPER_FEE.min(account.collateral.max(0) as u64);
        }
        adjust_collateral(&mut account, &mut exchange, -keeper_fee.safe_i64()?)?;
        drop(account);
        let mut keeper = accounts.keeper_account.load_mut()?;
        adjust_collateral(&mut keeper, &mut exchange, keeper_fee.safe_i64()?)?;
    }
    emit!(OrderTriggered {
        margin_account: accounts.margin_account.key(),
        order_id,
        market_index: order.market_index,
        oracle_price: accepted.price,
        keeper_fee,
        cancelled,
    });
    Ok(())
}
