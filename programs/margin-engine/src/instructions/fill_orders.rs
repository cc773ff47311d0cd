use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::*;
use crate::controller::market::accept_price;
use crate::controller::matching::{execute_match, require_margin_after_trade};
use crate::controller::position::adjust_collateral;
use crate::controller::vault::transfer_from_vault;
use crate::error::ErrorCode;
use crate::events::OrderFilled;
use crate::health::PriceCache;
use crate::instructions::gates;
use crate::math::breaker::MarketAction;
use crate::math::position::is_risk_reducing;
use crate::oracle::OracleAction;
use crate::safe_math::SafeCast;
use crate::state::{Exchange, MarginAccount, Market};

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

    // Oracle: valid for trading; it also feeds the oracle TWAP used by funding.
    let fallback = accounts.fallback_oracle.as_ref().map(|a| a.as_ref());
    let accepted = accept_price(&mut market, &accounts.oracle, fallback, &clock, OracleAction::Trade)?;
    let oracle_price = accepted.price;
    let mode = market.mode(accepted.price, accepted.ema_price, clock.slot);
    mode.require_allows(MarketAction::ReduceRisk)?;

    let taker_slot = taker.order_index(taker_order_id).ok_or(ErrorCode::OrderNotFound)?;
    let maker_slot = maker.order_index(maker_order_id).ok_or(ErrorCode::OrderNotFound)?;
    let taker_side = taker.orders[taker_slot].side;
    let m = execute_match(
        &mut taker,
        taker_slot,
        &mut maker,
        maker_slot,
        &mut market,
        &mut exchange,
        mode,
        oracle_price,
        clock.unix_timestamp.saturating_sub(accepted.publish_time),
        false,
        max_base_amount,
        clock.slot,
    )?;

    let own = Some((&*market, &accounts.market.key(), &accepted));
    let mut prices = PriceCache::new();
    prices.load(own, ctx.remaining_accounts, &clock, OracleAction::Trade)?;
    let fee_rate = market.risk.liquidation_allowance() as u64;
    for (account, fill, given_up, margin_error) in [
        (&*taker, m.taker_fill, m.taker_given_up(oracle_price)?, ErrorCode::InsufficientInitialMargin),
        (&*maker, m.maker_fill, m.maker_given_up(oracle_price)?, ErrorCode::MakerInsufficientMargin),
    ] {
        let reduces = is_risk_reducing(fill.old_base, fill.new_base);
        let closed = fill.old_base.unsigned_abs().min(m.base);
        require_margin_after_trade(account, &prices, reduces, given_up, closed, oracle_price, fee_rate, margin_error)?;
    }

    let bump = exchange.bump;
    let market_index = market.market_index;
    drop(taker);
    drop(maker);
    drop(market);
    if m.filler_reward > 0 {
        let mut filler = accounts.filler_account.load_mut()?;
        adjust_collateral(&mut filler, &mut exchange, m.filler_reward.safe_i64()?)?;
    }
    drop(exchange);
    transfer_from_vault(
        &accounts.token_program.to_account_info(),
        accounts.collateral_vault.to_account_info(),
        accounts.insurance_vault.to_account_info(),
        accounts.exchange.to_account_info(),
        bump,
        m.insurance,
    )?;
    emit!(OrderFilled {
        market_index,
        taker: accounts.taker.key(),
        maker: accounts.maker.key(),
        taker_order_id,
        maker_order_id,
        taker_side,
        price: m.price,
        base_amount: m.base,
        taker_fee: m.taker_fee,
        maker_fee: m.maker_fee,
        insurance_share: m.insurance,
        filler_reward: m.filler_reward,
        protocol_share: m.protocol,
    });
    Ok(())
}
