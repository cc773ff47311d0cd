use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::*;
use crate::controller::vault::{is_token_account_of, transfer_from_vault};
use crate::error::ErrorCode;
use crate::events::CollateralWithdrawn;
use crate::health::{account_health, position_risk, require_held_markets_allow, PriceCache};
use crate::instructions::gates;
use crate::math::breaker::MarketAction;
use crate::math::fixed::i128_to_i64;
use crate::math::margin::unrealized_pnl;
use crate::oracle::OracleAction;
use crate::safe_math::{SafeCast, SafeMath};
use crate::state::{Exchange, MarginAccount};

/// Owner only (a delegate can never withdraw). Remaining accounts: for each market the account
/// holds, the market, its Pyth price update and, if configured, its Switchboard feed.
#[derive(Accounts)]
pub struct Withdraw<'info> {
    pub owner: Signer<'info>,
    #[account(mut, address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, has_one = owner @ ErrorCode::NotAccountOwner)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    /// CHECK: the exchange's own vault PDA, by address; a transfer endpoint only, so not
    /// unpacked (1,500 CU): the token program checks it in the transfer.
    #[account(mut, address = exchange.load()?.collateral_vault @ ErrorCode::WrongVault)]
    pub collateral_vault: UncheckedAccount<'info>,
    /// Any token account of the collateral mint (the owner chooses where the money goes), read
    /// from its bytes by `controller::vault::is_token_account_of` (owner program, layout, mint).
    /// Not the vault itself: the collateral would leave the account and stay in the vault,
    /// unaccounted (found by the instruction fuzzer; Anchor refuses a duplicated mutable
    /// `Account`, and this one is unchecked, so the refusal is written out).
    /// CHECK: as above.
    #[account(
        mut,
        constraint = is_token_account_of(&destination, &exchange.load()?.collateral_mint, None)? @ ErrorCode::WrongCollateralMint,
        constraint = destination.key() != collateral_vault.key() @ anchor_lang::error::ErrorCode::ConstraintDuplicateMutableAccount,
    )]
    pub destination: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_withdraw<'info>(ctx: Context<'info, Withdraw<'info>>, amount: u64) -> Result<()> {
    require!(amount > 0, ErrorCode::ZeroAmount);
    let delta = amount.safe_i64()?;
    let clock = Clock::get()?;
    let exchange_bump = {
        let mut exchange = ctx.accounts.exchange.load_mut()?;
        exchange.require_open(gates::WITHDRAW)?;
        exchange.total_collateral = exchange.total_collateral.safe_sub(delta)?;
        exchange.bump
    };
    let (collateral_after, health_after) = {
        let mut account = ctx.accounts.margin_account.load_mut()?;
        // Only settled collateral leaves the vault: unrealised PnL is other traders' money until
        // it is realised.
        require!(account.collateral >= delta, ErrorCode::InsufficientCollateral);
        // Profit realised in the bad-debt window stays until the window has passed.
        let locked = (account.locked_profit_at(clock.slot)).safe_i64()?;
        require!(account.collateral - delta >= locked, ErrorCode::ProfitLocked);
        account.collateral -= delta;
        account.last_active_slot = clock.slot;
        let mut prices = PriceCache::new();
        prices.load(None, ctx.remaining_accounts, &clock, OracleAction::Withdraw)?;
        require_held_markets_allow(&account, &prices, MarketAction::MarginCheck)?;
        let health = account_health(&account, &prices)?;
        require!(health.initial_health >= 0, ErrorCode::InsufficientInitialMargin);
        // Shortly after bad debt in a market, that market's paper gains cannot back a withdrawal:
        // they may yet be clawed back by ADL or socialisation (dYdX gates 50 blocks).
        let gated = gated_positive_pnl(&account, &prices, clock.slot)?;
        require!(health.initial_health >= gated, ErrorCode::WithdrawalGatedByBadDebt);
        (account.collateral, i128_to_i64(health.initial_health)?)
    };
    transfer_from_vault(
        &ctx.accounts.token_program.to_account_info(),
        ctx.accounts.collateral_vault.to_account_info(),
        ctx.accounts.destination.to_account_info(),
        ctx.accounts.exchange.to_account_info(),
        exchange_bump,
        amount,
    )?;
    emit!(CollateralWithdrawn {
        margin_account: ctx.accounts.margin_account.key(),
        amount,
        collateral_after,
        initial_health_after: health_after,
    });
    Ok(())
}

/// Σ positive unrealised PnL in markets that saw bad debt within the gate window.
fn gated_positive_pnl(account: &MarginAccount, prices: &PriceCache, slot: u64) -> Result<i128> {
    let mut gated = 0i128;
    for position in account.active_positions() {
        let snapshot = prices.get(position.market_index).ok_or(ErrorCode::MissingMarketAccounts)?;
        if snapshot.last_bad_debt_slot != 0
            && slot < snapshot.last_bad_debt_slot.saturating_add(BAD_DEBT_WITHDRAW_GATE_SLOTS)
        {
            gated += unrealized_pnl(&position_risk(position, snapshot)?)?.max(0);
        }
    }
    Ok(gated)
}
