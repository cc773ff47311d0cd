use anchor_lang::prelude::*;

use crate::constants::*;
use crate::controller::orders::{insert_order, validate_order};
use crate::error::ErrorCode;
use crate::events::OrderPlaced;
use crate::health::{account_health, position_risk, require_held_markets_allow, PriceCache};
use crate::instructions::gates;
use crate::math::breaker::MarketAction;
use crate::oracle::{self, OracleAction};
use crate::state::{margin_account_flags, Exchange, MarginAccount, Market};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaceOrderArgs {
    pub market_index: u16,
    /// 0 bid (buy), 1 ask (sell).
    pub side: u8,
    pub price: u64,
    pub base_amount: u64,
    pub reduce_only: bool,
    pub post_only: bool,
    /// Last slot the order may fill at; 0 = good till cancelled (a market order that goes live
    /// expires `MARKET_ORDER_MAX_SLOTS` later at the latest).
    pub expiry_slot: u64,
    pub client_order_id: u64,
    /// `order_kind`: LIMIT, MARKET (`price` = worst price; takes only) or ORACLE_PEG.
    pub kind: u8,
    /// `order_trigger`: NONE, or ABOVE/BELOW `trigger_price` (stop-loss and take-profit orders:
    /// which is which follows from the side; the SDK names them).
    pub trigger: u8,
    pub trigger_price: u64,
    /// ORACLE_PEG only: added to the oracle price at fill time; |offset| within the fill band.
    pub peg_offset: i64,
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

    // The market is only read here: the price is checked but not fed into it.
    let fallback = ctx.accounts.fallback_oracle.as_ref().map(|a| a.as_ref());
    let price = oracle::read_price(&market, &ctx.accounts.oracle, fallback, &clock, OracleAction::Trade)?;
    validate_order(&args, &market, price.price, clock.slot)?;
    let action = if args.reduce_only { MarketAction::ReduceRisk } else { MarketAction::AddRisk };
    market.mode(price.price, price.ema_price, clock.slot).require_allows(action)?;
    let own = Some((&*market, &ctx.accounts.market.key(), &price));
    let mut prices = PriceCache::new();
    prices.load(own, ctx.remaining_accounts, &clock, OracleAction::Trade)?;

    let mut account = ctx.accounts.margin_account.load_mut()?;
    require!(!account.has_flag(margin_account_flags::BANKRUPT), ErrorCode::BankruptCannotTrade);
    let position_slot = account.position_index_or_open(args.market_index).ok_or(ErrorCode::TooManyPositions)?;
    let snapshot = *prices.get(args.market_index).ok_or(ErrorCode::MissingMarketAccounts)?;
    let worst_before = position_risk(&account.positions[position_slot], &snapshot)?.worst_case_base()?;
    let (_, order_id) = insert_order(&mut account, &args, clock.slot)?;
    // Reduce-only orders can never add risk, so they need no margin. Other orders must leave
    // initial health >= 0, unless they do not raise the worst-case position (an under-margined
    // trader must still be able to quote its way out).
    let worst_after = position_risk(&account.positions[position_slot], &snapshot)?.worst_case_base()?;
    if worst_after.unsigned_abs() > worst_before.unsigned_abs() {
        require_held_markets_allow(&account, &prices, MarketAction::MarginCheck)?;
        let health = account_health(&account, &prices)?;
        require!(health.initial_health >= 0, ErrorCode::InsufficientInitialMargin);
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
