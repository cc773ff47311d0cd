use anchor_lang::prelude::*;

use crate::constants::*;
use crate::state::InsuranceStake;

#[derive(Accounts)]
pub struct OpenInsuranceStake<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub owner: Signer<'info>,
    #[account(init, payer = payer, space = InsuranceStake::SPACE, seeds = [INSURANCE_STAKE_SEED, owner.key().as_ref()], bump)]
    pub stake: AccountLoader<'info, InsuranceStake>,
    pub system_program: Program<'info, System>,
}

pub fn handle_open_insurance_stake(ctx: Context<OpenInsuranceStake>) -> Result<()> {
    let mut stake = ctx.accounts.stake.load_init()?;
    stake.owner = ctx.accounts.owner.key();
    stake.bump = ctx.bumps.stake;
    Ok(())
}
