//! Typed instruction builders. Every PDA and vault is derived here, so callers pass only what is
//! genuinely theirs to choose (signers, their token accounts, amounts).
use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use anchor_spl::token::spl_token;
use margin_engine::instructions::{ExchangeConfig, PlaceAndTakeArgs, PlaceOrderArgs};
use margin_engine::state::{MarginAccount, OracleConfig, RiskParams};
use margin_engine::{accounts as acc, instruction as data, ID};

use crate::pda;

fn build(accounts: impl ToAccountMetas, data: impl InstructionData, remaining: Vec<AccountMeta>) -> Instruction {
    let mut metas = accounts.to_account_metas(None);
    metas.extend(remaining);
    Instruction { program_id: ID, accounts: metas, data: data.data() }
}

pub fn initialize_exchange(
    payer: Pubkey,
    authority: Pubkey,
    collateral_mint: Pubkey,
    config: ExchangeConfig,
) -> Instruction {
    build(
        acc::InitializeExchange {
            payer,
            program_data: pda::program_data(),
            authority,
            exchange: pda::exchange(),
            collateral_mint,
            collateral_vault: pda::collateral_vault(),
            insurance_vault: pda::insurance_vault(),
            token_program: spl_token::ID,
            system_program: system_program::ID,
        },
        data::InitializeExchange { config },
        vec![],
    )
}

pub fn create_market(
    payer: Pubkey,
    authority: Pubkey,
    market_index: u16,
    name: [u8; 16],
    oracle: OracleConfig,
    risk: RiskParams,
) -> Instruction {
    build(
        acc::CreateMarket {
            payer,
            authority,
            exchange: pda::exchange(),
            market: pda::market(market_index),
            system_program: system_program::ID,
        },
        data::CreateMarket { market_index, name, oracle, risk },
        vec![],
    )
}

pub fn create_margin_account(payer: Pubkey, owner: Pubkey, sub_account_id: u16) -> Instruction {
    build(
        acc::CreateMarginAccount {
            payer,
            owner,
            exchange: pda::exchange(),
            margin_account: pda::margin_account(&owner, sub_account_id),
            system_program: system_program::ID,
        },
        data::CreateMarginAccount { sub_account_id },
        vec![],
    )
}

pub fn set_delegate(owner: Pubkey, margin_account: Pubkey, delegate: Pubkey) -> Instruction {
    build(acc::SetDelegate { owner, margin_account }, data::SetDelegate { delegate }, vec![])
}

pub fn deposit(depositor: Pubkey, margin_account: Pubkey, source: Pubkey, amount: u64) -> Instruction {
    build(
        acc::Deposit {
            depositor,
            exchange: pda::exchange(),
            margin_account,
            collateral_vault: pda::collateral_vault(),
            source,
            token_program: spl_token::ID,
        },
        data::Deposit { amount },
        vec![],
    )
}

/// `health_accounts`: see [`health_accounts`].
pub fn withdraw(
    owner: Pubkey,
    margin_account: Pubkey,
    destination: Pubkey,
    amount: u64,
    health_accounts: Vec<AccountMeta>,
) -> Instruction {
    build(
        acc::Withdraw {
            owner,
            exchange: pda::exchange(),
            margin_account,
            collateral_vault: pda::collateral_vault(),
            destination,
            token_program: spl_token::ID,
        },
        data::Withdraw { amount },
        health_accounts,
    )
}

pub fn close_margin_account(owner: Pubkey, margin_account: Pubkey) -> Instruction {
    build(acc::CloseMarginAccount { owner, margin_account }, data::CloseMarginAccount {}, vec![])
}

/// `remaining`: market groups of every other market the account holds ([`market_groups`]).
pub fn place_order(
    authority: Pubkey,
    margin_account: Pubkey,
    oracles: MarketOracles,
    args: PlaceOrderArgs,
    remaining: Vec<AccountMeta>,
) -> Instruction {
    build(
        acc::PlaceOrder {
            authority,
            exchange: pda::exchange(),
            margin_account,
            market: pda::market(args.market_index),
            oracle: oracles.pyth,
            fallback_oracle: oracles.switchboard,
        },
        data::PlaceOrder { args },
        remaining,
    )
}

pub fn cancel_order(authority: Pubkey, margin_account: Pubkey, order_id: u64) -> Instruction {
    build(acc::CancelOrder { authority, margin_account }, data::CancelOrder { order_id }, vec![])
}

pub fn cancel_all_orders(authority: Pubkey, margin_account: Pubkey, market_index: Option<u16>) -> Instruction {
    build(acc::CancelOrder { authority, margin_account }, data::CancelAllOrders { market_index }, vec![])
}

pub fn prune_expired_orders(keeper: Pubkey, margin_account: Pubkey) -> Instruction {
    build(acc::PruneExpiredOrders { keeper, margin_account }, data::PruneExpiredOrders {}, vec![])
}

/// Accounts and arguments of one fill.
#[derive(Clone, Copy, Debug)]
pub struct Fill {
    pub market_index: u16,
    pub taker: Pubkey,
    pub taker_order_id: u64,
    pub maker: Pubkey,
    pub maker_order_id: u64,
    pub max_base_amount: u64,
}

/// `remaining`: market groups of every other market taker or maker holds.
pub fn fill_orders(
    filler: Pubkey,
    filler_account: Pubkey,
    oracles: MarketOracles,
    fill: Fill,
    remaining: Vec<AccountMeta>,
) -> Instruction {
    build(
        acc::FillOrders {
            filler,
            filler_account,
            exchange: pda::exchange(),
            market: pda::market(fill.market_index),
            taker: fill.taker,
            maker: fill.maker,
            oracle: oracles.pyth,
            fallback_oracle: oracles.switchboard,
            collateral_vault: pda::collateral_vault(),
            insurance_vault: pda::insurance_vault(),
            token_program: spl_token::ID,
        },
        data::FillOrders {
            taker_order_id: fill.taker_order_id,
            maker_order_id: fill.maker_order_id,
            max_base_amount: fill.max_base_amount,
        },
        remaining,
    )
}

/// `makers`: the maker margin accounts, one per `args.maker_order_ids` entry, best price first;
/// `groups`: market groups of every other market the taker or any maker holds.
pub fn place_and_take(
    authority: Pubkey,
    margin_account: Pubkey,
    oracles: MarketOracles,
    args: PlaceAndTakeArgs,
    makers: &[Pubkey],
    groups: Vec<AccountMeta>,
) -> Instruction {
    let mut remaining: Vec<AccountMeta> = makers.iter().map(|m| AccountMeta::new(*m, false)).collect();
    remaining.extend(groups);
    build(
        acc::PlaceAndTake {
            authority,
            exchange: pda::exchange(),
            margin_account,
            market: pda::market(args.order.market_index),
            oracle: oracles.pyth,
            fallback_oracle: oracles.switchboard,
            collateral_vault: pda::collateral_vault(),
            insurance_vault: pda::insurance_vault(),
            token_program: spl_token::ID,
        },
        data::PlaceAndTake { args },
        remaining,
    )
}

/// Fires `order_id` of `margin_account` (a trigger order whose condition the oracle meets); the
/// keeper's fee goes to `keeper_account`.
pub fn trigger_order(
    keeper: Pubkey,
    keeper_account: Pubkey,
    margin_account: Pubkey,
    market_index: u16,
    oracles: MarketOracles,
    order_id: u64,
) -> Instruction {
    build(
        acc::TriggerOrder {
            keeper,
            keeper_account,
            exchange: pda::exchange(),
            margin_account,
            market: pda::market(market_index),
            oracle: oracles.pyth,
            fallback_oracle: oracles.switchboard,
        },
        data::TriggerOrder { order_id },
        vec![],
    )
}

/// `remaining`: market groups of every other market the target or the liquidator holds.
#[allow(clippy::too_many_arguments)]
pub fn liquidate(
    liquidator: Pubkey,
    liquidator_account: Pubkey,
    target: Pubkey,
    market_index: u16,
    oracles: MarketOracles,
    max_base_amount: u64,
    remaining: Vec<AccountMeta>,
) -> Instruction {
    build(
        acc::Liquidate {
            liquidator,
            liquidator_account,
            target,
            exchange: pda::exchange(),
            market: pda::market(market_index),
            oracle: oracles.pyth,
            fallback_oracle: oracles.switchboard,
            collateral_vault: pda::collateral_vault(),
            insurance_vault: pda::insurance_vault(),
            token_program: spl_token::ID,
        },
        data::Liquidate { max_base_amount },
        remaining,
    )
}

pub fn open_insurance_stake(payer: Pubkey, owner: Pubkey) -> Instruction {
    build(
        acc::OpenInsuranceStake {
            payer,
            owner,
            stake: pda::insurance_stake(&owner),
            system_program: system_program::ID,
        },
        data::OpenInsuranceStake {},
        vec![],
    )
}

pub fn stake_insurance(owner: Pubkey, source: Pubkey, amount: u64) -> Instruction {
    build(
        acc::StakeInsurance {
            owner,
            stake: pda::insurance_stake(&owner),
            exchange: pda::exchange(),
            insurance_vault: pda::insurance_vault(),
            source,
            token_program: spl_token::ID,
        },
        data::StakeInsurance { amount },
        vec![],
    )
}

pub fn request_unstake(owner: Pubkey, shares: u64) -> Instruction {
    build(
        acc::RequestUnstake {
            owner,
            stake: pda::insurance_stake(&owner),
            exchange: pda::exchange(),
            insurance_vault: pda::insurance_vault(),
        },
        data::RequestUnstake { shares },
        vec![],
    )
}

pub fn unstake_insurance(owner: Pubkey, destination: Pubkey) -> Instruction {
    build(
        acc::UnstakeInsurance {
            owner,
            stake: pda::insurance_stake(&owner),
            exchange: pda::exchange(),
            insurance_vault: pda::insurance_vault(),
            destination,
            token_program: spl_token::ID,
        },
        data::UnstakeInsurance {},
        vec![],
    )
}

pub fn withdraw_protocol_revenue(authority: Pubkey, destination: Pubkey, amount: u64) -> Instruction {
    build(
        acc::WithdrawProtocolRevenue {
            authority,
            exchange: pda::exchange(),
            insurance_vault: pda::insurance_vault(),
            destination,
            token_program: spl_token::ID,
        },
        data::WithdrawProtocolRevenue { amount },
        vec![],
    )
}

/// `remaining`: market groups of every other market the target holds.
pub fn resolve_bankruptcy(
    keeper: Pubkey,
    keeper_account: Pubkey,
    target: Pubkey,
    market_index: u16,
    oracles: MarketOracles,
    remaining: Vec<AccountMeta>,
) -> Instruction {
    build(
        acc::ResolveBankruptcy {
            keeper,
            keeper_account,
            target,
            exchange: pda::exchange(),
            market: pda::market(market_index),
            oracle: oracles.pyth,
            fallback_oracle: oracles.switchboard,
            collateral_vault: pda::collateral_vault(),
            insurance_vault: pda::insurance_vault(),
            token_program: spl_token::ID,
        },
        data::ResolveBankruptcy {},
        remaining,
    )
}

/// Candidates in non-increasing ADL score order, then the target's other market groups.
pub fn auto_deleverage(
    keeper: Pubkey,
    target: Pubkey,
    market_index: u16,
    oracles: MarketOracles,
    candidates: &[Pubkey],
    groups: Vec<AccountMeta>,
) -> Instruction {
    let mut remaining: Vec<AccountMeta> = candidates.iter().map(|c| AccountMeta::new(*c, false)).collect();
    remaining.extend(groups);
    build(
        acc::AutoDeleverage {
            keeper,
            target,
            exchange: pda::exchange(),
            market: pda::market(market_index),
            oracle: oracles.pyth,
            fallback_oracle: oracles.switchboard,
            insurance_vault: pda::insurance_vault(),
        },
        data::AutoDeleverage { candidate_count: candidates.len() as u8 },
        remaining,
    )
}

pub fn socialize_loss(keeper: Pubkey, target: Pubkey, market_index: u16) -> Instruction {
    build(
        acc::SocializeLoss {
            keeper,
            target,
            exchange: pda::exchange(),
            market: pda::market(market_index),
            insurance_vault: pda::insurance_vault(),
        },
        data::SocializeLoss {},
        vec![],
    )
}

pub fn refresh_market(market_index: u16, oracles: MarketOracles) -> Instruction {
    build(
        acc::RefreshMarket {
            market: pda::market(market_index),
            oracle: oracles.pyth,
            fallback_oracle: oracles.switchboard,
        },
        data::RefreshMarket {},
        vec![],
    )
}

/// Guardian or governance closes instruction groups (`state::paused_operations` bits).
pub fn pause_operations(signer: Pubkey, operations: u16) -> Instruction {
    build(acc::PauseOperations { signer, exchange: pda::exchange() }, data::PauseOperations { operations }, vec![])
}

pub fn resume_operations(authority: Pubkey, operations: u16) -> Instruction {
    build(acc::ResumeOperations { authority, exchange: pda::exchange() }, data::ResumeOperations { operations }, vec![])
}

pub fn set_market_reduce_only(signer: Pubkey, market_index: u16, reduce_only: bool) -> Instruction {
    build(
        acc::SetMarketReduceOnly { signer, exchange: pda::exchange(), market: pda::market(market_index) },
        data::SetMarketReduceOnly { reduce_only },
        vec![],
    )
}

pub fn propose_authority(authority: Pubkey, new_authority: Pubkey) -> Instruction {
    build(
        acc::ProposeAuthority { authority, exchange: pda::exchange() },
        data::ProposeAuthority { new_authority },
        vec![],
    )
}

pub fn accept_authority(new_authority: Pubkey) -> Instruction {
    build(acc::AcceptAuthority { new_authority, exchange: pda::exchange() }, data::AcceptAuthority {}, vec![])
}

pub fn set_guardian(authority: Pubkey, guardian: Pubkey) -> Instruction {
    build(acc::SetGuardian { authority, exchange: pda::exchange() }, data::SetGuardian { guardian }, vec![])
}

pub fn update_risk_params(authority: Pubkey, market_index: u16, params: RiskParams) -> Instruction {
    build(
        acc::UpdateRiskParams { authority, exchange: pda::exchange(), market: pda::market(market_index) },
        data::UpdateRiskParams { params },
        vec![],
    )
}

pub fn execute_risk_update(market_index: u16) -> Instruction {
    build(acc::ExecuteRiskUpdate { market: pda::market(market_index) }, data::ExecuteRiskUpdate {}, vec![])
}

pub fn cancel_risk_update(signer: Pubkey, market_index: u16) -> Instruction {
    build(
        acc::CancelRiskUpdate { signer, exchange: pda::exchange(), market: pda::market(market_index) },
        data::CancelRiskUpdate {},
        vec![],
    )
}

pub fn update_funding(market_index: u16, oracles: MarketOracles) -> Instruction {
    build(
        acc::UpdateFunding {
            exchange: pda::exchange(),
            market: pda::market(market_index),
            oracle: oracles.pyth,
            fallback_oracle: oracles.switchboard,
        },
        data::UpdateFunding {},
        vec![],
    )
}

/// Oracle accounts of one market, as the client knows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketOracles {
    pub pyth: Pubkey,
    pub switchboard: Option<Pubkey>,
}

/// Remaining accounts for health checks: one group (market, Pyth update, Switchboard feed when the
/// market has one) per market any of `accounts` holds, except `exclude` (the instruction's own
/// market, passed as a named account).
pub fn market_groups(
    accounts: &[&MarginAccount],
    exclude: Option<u16>,
    oracles: impl Fn(u16) -> MarketOracles,
) -> Vec<AccountMeta> {
    let mut seen: Vec<u16> = Vec::new();
    let mut metas = Vec::new();
    for position in accounts.iter().flat_map(|a| a.active_positions()) {
        let index = position.market_index;
        if Some(index) == exclude || seen.contains(&index) {
            continue;
        }
        seen.push(index);
        let o = oracles(index);
        metas.push(AccountMeta::new_readonly(pda::market(index), false));
        metas.push(AccountMeta::new_readonly(o.pyth, false));
        if let Some(sb) = o.switchboard {
            metas.push(AccountMeta::new_readonly(sb, false));
        }
    }
    metas
}

/// Remaining accounts for one account's health check (withdraw).
pub fn health_accounts(account: &MarginAccount, oracles: impl Fn(u16) -> MarketOracles) -> Vec<AccountMeta> {
    market_groups(&[account], None, oracles)
}
