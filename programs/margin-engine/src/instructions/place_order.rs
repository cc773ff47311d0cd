use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::OrderPlaced;
use crate::health::{account_health, position_risk, require_held_markets_allow, PriceCache};
use crate::instructions::gates;
use crate::math::breaker::MarketAction;
use crate::oracle::{self, OracleAction};
use crate::safe_math::SafeMath;
use crate::state::{margin_account_flags, order_flags, order_side, Exchange, MarginAccount, Market, Order};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaceOrderArgs {
    pub market_index: u16,
    /// 0 bid (buy), 1 ask (sell).
    pub side: u8,
    pub price: u64,
    pub base_amount: u64,
    pub reduce_only: bool,
    pub post_only: bool,
    /// Last slot the order may fill at; 0 = good till cancelled.
    pub expiry_slot: u64,
    pub client_order_id: u64,
}

/// Owner or delegate. Remaining accounts: market groups of every *other* market the account holds.
#[derive(Accounts)]
#[instruction(args: PlaceOrderArgs)]
pub struct PlaceOrder<'info> {
    pub authority: Signer<'info>,
    #[account(address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, constraint = margin_account.load()?.can_trade(&authority.key()) @ ErrorCode::NotOwnerOrDelegate)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    #[account(constraint = market.load()?.market_index == args.market_index @ ErrorCode::WrongMarket)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: checked by `oracle::read_price` (owner, feed id, verification, freshness).
    pub oracle: UncheckedAccount<'info>,
    /// CHECK: the market's Switchboard feed, checked by `oracle::read_price`; only read when
    /// Pyth is unusable.
    pub fallback_oracle: Option<UncheckedAccount<'info>>,
}

pub fn handle_place_order<'info>(ctx: Context<'info, PlaceOrder<'info>>, args: PlaceOrderArgs) -> Result<()> {
    ctx.accounts.exchange.load()?.require_open(gates::PLACE_ORDER)?;
    let clock = Clock::get()?;
    let market = ctx.accounts.market.load()?;
    validate_order(&args, &market, clock.slot)?;

    // The market is only read here: the price is checked but not fed into it.
    let fallback = ctx.accounts.fallback_oracle.as_ref().map(|a| a.as_ref());
    let price = oracle::read_price(&market, &ctx.accounts.oracle, fallback, &clock, OracleAction::Trade)?;
    let action = if args.reduce_only { MarketAction::ReduceRisk } else { MarketAction::AddRisk };
    market.mode(price.price, price.ema_price, clock.slot).require_allows(action)?;
    let own = Some((&*market, &ctx.accounts.market.key(), &price));
    let mut prices = PriceCache::new();
    prices.load(own, ctx.remaining_accounts, &clock, OracleAction::Trade)?;

    let mut account = ctx.accounts.margin_account.load_mut()?;
    require!(!account.has_flag(margin_account_flags::BANKRUPT), ErrorCode::BankruptCannotTrade);
    let order_slot = account.orders.iter().position(|o| o.is_empty()).ok_or(ErrorCode::TooManyOrders)?;
    let position_slot = account.position_index_or_open(args.market_index).ok_or(ErrorCode::TooManyPositions)?;
    let order_id = account.next_order_id;
    account.next_order_id = order_id.safe_add(1)?;
    let mut flags = 0u8;
    if args.reduce_only {
        flags |= order_flags::REDUCE_ONLY;
    }
    if args.post_only {
        flags |= order_flags::POST_ONLY;
    }
    account.orders[order_slot] = Order {
        order_id,
        client_order_id: args.client_order_id,
        price: args.price,
        base_amount: args.base_amount,
        expiry_slot: args.expiry_slot,
        market_index: args.market_index,
        side: args.side,
        flags,
        _padding: [0; 4],
    };
    // Reduce-only orders can never add risk, so they need no margin. Other orders must leave
    // initial health >= 0, unless they do not raise the worst-case position (an under-margined
    // trader must still be able to quote its way out).
    if !args.reduce_only {
        let snapshot = *prices.get(args.market_index).ok_or(ErrorCode::MissingMarketAccounts)?;
        let worst_before = position_risk(&account.positions[position_slot], &snapshot)?.worst_case_base()?;
        let p = &mut account.positions[position_slot];
        let open = if args.side == order_side::BID { &mut p.open_bids } else { &mut p.open_asks };
        *open = open.safe_add(args.base_amount)?;
        let worst_after = position_risk(&account.positions[position_slot], &snapshot)?.worst_case_base()?;
        if worst_after.unsigned_abs() > worst_before.unsigned_abs() {
            require_held_markets_allow(&account, &prices, MarketAction::MarginCheck)?;
            let health = account_health(&account, &prices)?;
            require!(health.initial_health >= 0, ErrorCode::InsufficientInitialMargin);
        }
    }
    account.last_active_slot = clock.slot;
    emit!(OrderPlaced {
        margin_account: ctx.accounts.margin_account.key(),
        order_id,
        client_order_id: args.client_order_id,
        market_index: args.market_index,
        side: args.side,
        price: args.price,
        base_amount: args.base_amount,
    });
    Ok(())
}

fn validate_order(args: &PlaceOrderArgs, market: &Market, slot: u64) -> Result<()> {
    require!(args.side == order_side::BID || args.side == order_side::ASK, ErrorCode::InvalidOrderSide);
    require!(args.price > 0 && args.price % market.risk.tick_size == 0, ErrorCode::InvalidOrderPrice);
    require!(
        args.base_amount >= market.risk.min_order_size && args.base_amount % market.risk.step_size == 0,
        ErrorCode::InvalidOrderSize
    );
    // Base amounts are i64 in positions; orders must stay inside that range.
    require!(args.base_amount <= i64::MAX as u64, ErrorCode::InvalidOrderSize);
    require!(args.expiry_slot == 0 || args.expiry_slot >= slot, ErrorCode::OrderExpiryInPast);
    Ok(())
}
