use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::ErrorCode;
use crate::events::MarketCreated;
use crate::math::volatility::VolState;
use crate::safe_math::SafeMath;
use crate::state::{market_status, validate_market_name, Exchange, Market, OracleConfig, RiskParams};

#[derive(Accounts)]
#[instruction(market_index: u16)]
pub struct CreateMarket<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub authority: Signer<'info>,
    #[account(mut, address = EXCHANGE_ADDRESS, has_one = authority @ ErrorCode::NotGovernance)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Markets are numbered densely from 0: `market_index` must be the exchange's `market_count`
    /// (checked in the handler). An argument, not the count itself, in the seeds so that the IDL
    /// states the PDA and clients can derive it.
    #[account(
        init, payer = payer, space = Market::SPACE,
        seeds = [MARKET_SEED, &market_index.to_le_bytes()], bump,
    )]
    pub market: AccountLoader<'info, Market>,
    pub system_program: Program<'info, System>,
}

pub fn handle_create_market(
    ctx: Context<CreateMarket>,
    market_index: u16,
    name: [u8; 16],
    oracle: OracleConfig,
    risk: RiskParams,
) -> Result<()> {
    validate_market_name(&name)?;
    oracle.validate()?;
    risk.validate()?;
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    require!(market_index == exchange.market_count, ErrorCode::MarketIndexNotNext);
    let mut market = ctx.accounts.market.load_init()?;
    market.oracle = oracle;
    market.risk = risk;
    market.name = name;
    market.market_index = exchange.market_count;
    market.status = market_status::ACTIVE;
    market.bump = ctx.bumps.market;
    let vol = VolState::new(&market.risk.vol_params());
    market.set_vol_state(&vol);
    exchange.market_count = exchange.market_count.safe_add(1)?;
    emit!(MarketCreated {
        market_index: market.market_index,
        name,
        initial_margin_ratio: risk.initial_margin_ratio,
        maintenance_margin_ratio: risk.maintenance_margin_ratio,
    });
    Ok(())
}
