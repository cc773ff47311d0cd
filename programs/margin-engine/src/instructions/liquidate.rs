use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::*;
use crate::controller::bankruptcy::{loss_market, mark_bankrupt};
use crate::controller::liquidation::{plan, LiquidationOutcome};
use crate::controller::market::accept_price;
use crate::controller::orders::cancel_orders;
use crate::controller::position::{adjust_collateral, transfer_base};
use crate::controller::vault::transfer_from_vault;
use crate::error::ErrorCode;
use crate::events::{AccountWentBankrupt, LiquidationEnded, LiquidationStepped};
use crate::health::{account_health, MarketSnapshot, PriceCache};
use crate::instructions::gates;
use crate::math::fixed::i128_to_i64;
use crate::math::position::is_risk_reducing;
use crate::oracle::OracleAction;
use crate::safe_math::{SafeCast, SafeMath};
use crate::state::{margin_account_flags, Exchange, MarginAccount, Market};

/// Permissionless: a liquidator takes over part of an under-maintenance account's position in
/// `market` at the oracle price (stale-but-sane prices accepted), earning the liquidator fee in
/// its own margin account; the insurance fee goes to the insurance vault. Remaining accounts:
/// market groups of every other market the target or the liquidator holds.
#[derive(Accounts)]
pub struct Liquidate<'info> {
    pub liquidator: Signer<'info>,
    #[account(mut, constraint = liquidator_account.load()?.owner == liquidator.key() @ ErrorCode::NotAccountOwner)]
    pub liquidator_account: AccountLoader<'info, MarginAccount>,
    #[account(mut)]
    pub target: AccountLoader<'info, MarginAccount>,
    #[account(mut, address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: checked by `oracle::read_price`.
    pub oracle: UncheckedAccount<'info>,
    /// CHECK: checked by `oracle::read_price`; read only when Pyth is unusable.
    pub fallback_oracle: Option<UncheckedAccount<'info>>,
    /// CHECK: the exchange's own vault PDA, by address; a transfer endpoint only, so not
    /// unpacked (1,500 CU): the token program checks it in the transfer.
    #[account(mut, address = exchange.load()?.collateral_vault @ ErrorCode::WrongVault)]
    pub collateral_vault: UncheckedAccount<'info>,
    /// CHECK: the exchange's own vault PDA, by address; a transfer endpoint only, so not
    /// unpacked (1,500 CU): the token program checks it in the transfer.
    #[account(mut, address = exchange.load()?.insurance_vault @ ErrorCode::WrongVault)]
    pub insurance_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_liquidate<'info>(ctx: Context<'info, Liquidate<'info>>, max_base_amount: u64) -> Result<()> {
    let clock = Clock::get()?;
    let accounts = &ctx.accounts;
    require_keys_neq!(accounts.target.key(), accounts.liquidator_account.key(), ErrorCode::CannotLiquidateSelf);
    let mut exchange = accounts.exchange.load_mut()?;
    exchange.require_open(gates::LIQUIDATE)?;
    let mut market = accounts.market.load_mut()?;
    let fallback = accounts.fallback_oracle.as_ref().map(|a| a.as_ref());
    let accepted = accept_price(&mut market, &accounts.oracle, fallback, &clock, OracleAction::Liquidate)?;
    let price = accepted.price;
    // No breaker state stops this: liquidation is de-risking, and positions in a halted market
    // are valued at the same accepted (never replayed, never too old) price.
    let own = Some((&*market, &accounts.market.key(), &accepted));
    let mut prices = PriceCache::new();
    prices.load(own, ctx.remaining_accounts, &clock, OracleAction::Liquidate)?;

    let mut target = accounts.target.load_mut()?;
    let mut liquidator = accounts.liquidator_account.load_mut()?;
    // The target's resting orders go first: they only add risk to an account being unwound.
    cancel_orders(&mut target, |_| true)?;
    let plan = plan(&target, &market, &prices, clock.slot, max_base_amount)?;
    let health_before = i128_to_i64(plan.health.maintenance_health)?;
    let (step, fee_rate, position_base) = match plan.outcome {
        LiquidationOutcome::End => {
            target.flags &= !margin_account_flags::BEING_LIQUIDATED;
            emit!(LiquidationEnded {
                target: accounts.target.key(),
                liquidation_health: i128_to_i64(plan.health.liquidation_health)?,
                slot: clock.slot,
            });
            return Ok(());
        }
        LiquidationOutcome::Bankrupt => {
            let loss_market_index = loss_market(&target, &prices)?;
            mark_bankrupt(&mut target, &mut exchange, loss_market_index)?;
            if loss_market_index == market.market_index {
                market.last_bad_debt_slot = clock.slot;
            }
            emit!(AccountWentBankrupt {
                target: accounts.target.key(),
                equity: i128_to_i64(plan.health.equity())?,
                slot: clock.slot
            });
            return Ok(());
        }
        LiquidationOutcome::Step { step, fee_rate, position_base } => (step, fee_rate, position_base),
    };
    if !target.has_flag(margin_account_flags::BEING_LIQUIDATED) {
        target.flags |= margin_account_flags::BEING_LIQUIDATED;
        target.liquidation_start_slot = clock.slot;
    }
    target.last_liquidation_slot = clock.slot;

    // Move the base at the oracle price.
    let target_slot = target.position_index(market.market_index).ok_or(ErrorCode::NoPositionInMarket)?;
    let liq_slot = liquidator.position_index_or_open(market.market_index).ok_or(ErrorCode::TooManyPositions)?;
    // The liquidator buys a long's base and sells a short's.
    let liquidator_fill = transfer_base(
        &mut liquidator,
        liq_slot,
        &mut target,
        target_slot,
        position_base > 0,
        &mut market,
        &mut exchange,
        step.base,
        price,
        clock.slot,
    )?
    .a;
    let fees = step.liquidator_fee.safe_add(step.insurance_fee)?;
    adjust_collateral(&mut target, &mut exchange, -fees.safe_i64()?)?;
    adjust_collateral(&mut liquidator, &mut exchange, step.liquidator_fee.safe_i64()?)?;

    prices.insert(MarketSnapshot::at_accepted_price(&market, &accepted, clock.slot))?;
    let after = account_health(&target, &prices)?;
    let still_liquidating = after.liquidation_health < 0;
    if !still_liquidating {
        target.flags &= !margin_account_flags::BEING_LIQUIDATED;
    }
    if !is_risk_reducing(liquidator_fill.old_base, liquidator_fill.new_base) {
        // `prices` is not used after this: switch it to the liquidator's view in place.
        prices.make_liquidator_view();
        require!(account_health(&liquidator, &prices)?.initial_health >= 0, ErrorCode::LiquidatorInsufficientMargin);
    }
    let target_delta = if position_base > 0 { -(step.base as i128) } else { step.base as i128 };
    let bump = exchange.bump;
    let market_index = market.market_index;
    drop((target, liquidator, market, exchange));
    transfer_from_vault(
        &accounts.token_program.to_account_info(),
        accounts.collateral_vault.to_account_info(),
        accounts.insurance_vault.to_account_info(),
        accounts.exchange.to_account_info(),
        bump,
        step.insurance_fee,
    )?;
    emit!(LiquidationStepped {
        target: accounts.target.key(),
        liquidator: accounts.liquidator_account.key(),
        market_index,
        base_amount: (-target_delta).safe_i64()?,
        price,
        liquidator_fee: step.liquidator_fee,
        insurance_fee: step.insurance_fee,
        liquidator_fee_rate: fee_rate,
        maintenance_health_before: health_before,
        maintenance_health_after: i128_to_i64(after.maintenance_health)?,
        still_liquidating,
        slot: clock.slot,
    });
    Ok(())
}
