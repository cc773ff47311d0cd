use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::*;
use crate::controller::market::accept_price;
use crate::controller::matching::{check_match, execute_match, require_margin_after_trade};
use crate::controller::orders::{insert_order, reduce_order, validate_order};
use crate::controller::vault::transfer_from_vault;
use crate::error::ErrorCode;
use crate::events::{OrderFilled, OrderPlaced};
use crate::health::{position_risk, PriceCache};
use crate::instructions::{gates, PlaceOrderArgs};
use crate::math::breaker::MarketAction;
use crate::math::position::is_risk_reducing;
use crate::math::trading::crosses;
use crate::oracle::OracleAction;
use crate::safe_math::SafeMath;
use crate::state::{margin_account_flags, order_kind, order_side, order_trigger, Exchange, MarginAccount, Market};

pub mod time_in_force {
    /// What does not fill at once rests as a limit order (a market order's rest is cancelled).
    pub const GOOD_TILL_CANCEL: u8 = 0;
    /// What does not fill at once is cancelled.
    pub const IMMEDIATE_OR_CANCEL: u8 = 1;
    /// Fills in full at once or the instruction fails.
    pub const FILL_OR_KILL: u8 = 2;
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct PlaceAndTakeArgs {
    /// A limit, market or pegged order (no trigger).
    pub order: PlaceOrderArgs,
    /// `time_in_force`.
    pub time_in_force: u8,
    /// Post-only orders only: reprice to one tick inside the best crossing maker and rest, instead
    /// of failing with `PostOnlyWouldCross`.
    pub post_only_slide: bool,
    /// The maker orders to cross, best price first, one per maker account at the head of the
    /// remaining accounts. A maker order that is gone or expired since the caller looked is skipped.
    pub maker_order_ids: Vec<u64>,
}

/// The taker (owner or delegate) places an order and crosses it at once against up to
/// `MAX_TAKE_MAKERS` resting orders, so it does not wait for a filler. Remaining accounts: the
/// maker margin accounts (writable, in `maker_order_ids` order), then market groups of every
/// other market the taker or any maker holds. The filler's share of the fees goes to the
/// insurance fund: there is no filler to pay.
#[derive(Accounts)]
#[instruction(args: PlaceAndTakeArgs)]
pub struct PlaceAndTake<'info> {
    pub authority: Signer<'info>,
    #[account(mut, address = EXCHANGE_ADDRESS)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, constraint = margin_account.load()?.can_trade(&authority.key()) @ ErrorCode::NotOwnerOrDelegate)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    #[account(mut, constraint = market.load()?.market_index == args.order.market_index @ ErrorCode::WrongMarket)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: checked by `oracle::read_price`.
    pub oracle: UncheckedAccount<'info>,
    /// CHECK: checked by `oracle::read_price`; read only when Pyth is unusable.
    pub fallback_oracle: Option<UncheckedAccount<'info>>,
    /// CHECK: the exchange's own vault PDA, by address (the token program checks it in the transfer).
    #[account(mut, address = exchange.load()?.collateral_vault @ ErrorCode::WrongVault)]
    pub collateral_vault: UncheckedAccount<'info>,
    /// CHECK: as `collateral_vault`.
    #[account(mut, address = exchange.load()?.insurance_vault @ ErrorCode::WrongVault)]
    pub insurance_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_place_and_take<'info>(ctx: Context<'info, PlaceAndTake<'info>>, args: PlaceAndTakeArgs) -> Result<()> {
    let clock = Clock::get()?;
    let accounts = &ctx.accounts;
    let order_args = args.order;
    let mut exchange = accounts.exchange.load_mut()?;
    exchange.require_open(gates::PLACE_AND_TAKE)?;
    let makers = args.maker_order_ids.len();
    require!(makers <= MAX_TAKE_MAKERS && ctx.remaining_accounts.len() >= makers, ErrorCode::TooManyMakers);
    require!(
        matches!(
            args.time_in_force,
            time_in_force::GOOD_TILL_CANCEL | time_in_force::IMMEDIATE_OR_CANCEL | time_in_force::FILL_OR_KILL
        ),
        ErrorCode::InvalidTimeInForce
    );
    // A post-only order never takes, so it can only rest; sliding is a post-only reprice.
    require!(
        !order_args.post_only || args.time_in_force == time_in_force::GOOD_TILL_CANCEL,
        ErrorCode::InvalidTimeInForce
    );
    require!(
        !args.post_only_slide || (order_args.post_only && order_args.kind == order_kind::LIMIT),
        ErrorCode::InvalidOrderKind
    );
    // Trigger orders wait for their condition: they are placed, never taken.
    require!(order_args.trigger == order_trigger::NONE, ErrorCode::InvalidOrderKind);

    let mut market = accounts.market.load_mut()?;
    let fallback = accounts.fallback_oracle.as_ref().map(|a| a.as_ref());
    let accepted = accept_price(&mut market, &accounts.oracle, fallback, &clock, OracleAction::Trade)?;
    let oracle_price = accepted.price;
    validate_order(&order_args, &market, oracle_price, clock.slot)?;
    let mode = market.mode(oracle_price, accepted.ema_price, clock.slot);
    mode.require_allows(MarketAction::ReduceRisk)?;
    let (maker_infos, groups) = ctx.remaining_accounts.split_at(makers);
    let own = Some((&*market, &accounts.market.key(), &accepted));
    let mut prices = PriceCache::new();
    prices.load(own, groups, &clock, OracleAction::Trade)?;
    let snapshot = *prices.get(order_args.market_index).ok_or(ErrorCode::MissingMarketAccounts)?;
    let tick = market.risk.tick_size;

    let taker_key = accounts.margin_account.key();
    let mut taker = accounts.margin_account.load_mut()?;
    require!(!taker.has_flag(margin_account_flags::BANKRUPT), ErrorCode::BankruptCannotTrade);
    let position_slot = taker.position_index_or_open(order_args.market_index).ok_or(ErrorCode::TooManyPositions)?;
    let base_before = taker.positions[position_slot].base_amount;
    let worst_before = position_risk(&taker.positions[position_slot], &snapshot)?.worst_case_base()?;
    let (taker_slot, taker_order_id) = insert_order(&mut taker, &order_args, clock.slot)?;
    emit!(OrderPlaced {
        margin_account: taker_key,
        order_id: taker_order_id,
        client_order_id: order_args.client_order_id,
        market_index: order_args.market_index,
        side: order_args.side,
        price: order_args.price,
        base_amount: order_args.base_amount,
    });
    let taker_buys = order_args.side == order_side::BID;
    let taker_limit = taker.orders[taker_slot].limit_price(oracle_price, tick).ok_or(ErrorCode::InvalidOrderPrice)?;
    let fee_rate = market.risk.liquidation_allowance() as u64;

    let mut filled = 0u64;
    let mut taker_given_up = 0u128;
    let mut insurance = 0u64;
    let mut previous_price: Option<u64> = None;
    let mut beyond_limit = false;
    for (i, info) in maker_infos.iter().enumerate() {
        require!(info.is_writable, ErrorCode::MakerNotWritable);
        require_keys_neq!(info.key(), taker_key, ErrorCode::SelfTrade);
        require!(maker_infos[..i].iter().all(|m| m.key() != info.key()), ErrorCode::DuplicateMaker);
        let loader = AccountLoader::<MarginAccount>::try_from(info)?;
        let mut maker = loader.load_mut()?;
        let Some(maker_slot) = maker.order_index(args.maker_order_ids[i]) else { continue };
        let maker_order = maker.orders[maker_slot];
        // Skipped, not refused: what changed since the caller looked (expired, bankrupt).
        if maker_order.is_expired(clock.slot) || maker.has_flag(margin_account_flags::BANKRUPT) {
            continue;
        }
        let Some(maker_price) = maker_order.limit_price(oracle_price, tick) else { continue };
        if let Some(previous) = previous_price {
            let sorted = if taker_buys { maker_price >= previous } else { maker_price <= previous };
            require!(sorted, ErrorCode::MakersOutOfPriceOrder);
        }
        previous_price = Some(maker_price);
        let crossed = if taker_buys { crosses(taker_limit, maker_price) } else { crosses(maker_price, taker_limit) };
        if order_args.post_only {
            // Post-only: nothing is taken; a crossing maker refuses the order or slides it.
            if crossed && maker_order.side != order_args.side {
                require!(args.post_only_slide, ErrorCode::PostOnlyWouldCross);
                let slid = if taker_buys { maker_price.safe_sub(tick)? } else { maker_price.safe_add(tick)? };
                require!(slid > 0, ErrorCode::InvalidOrderPrice);
                taker.orders[taker_slot].price = slid;
            }
            break;
        }
        if !crossed {
            // Best price first: no later maker crosses either.
            beyond_limit = true;
            break;
        }
        let taker_order = taker.orders[taker_slot];
        if taker_order.is_empty() || taker_order.has_nothing_to_reduce(taker.positions[position_slot].base_amount) {
            break;
        }
        // A maker order that cannot match is skipped, not fatal: a resting order that can never
        // fill (a reduce-only order with nothing to reduce, a same-side or unfired order) must not
        // let anyone block the taker's cross.
        let maker_base = maker.position_index(order_args.market_index).map_or(0, |p| maker.positions[p].base_amount);
        if maker_order.has_nothing_to_reduce(maker_base)
            || check_match(&taker_order, &maker_order, &market, oracle_price, clock.slot).is_err()
        {
            continue;
        }
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
            true,
            u64::MAX,
            clock.slot,
        )?;
        let maker_reduces = is_risk_reducing(m.maker_fill.old_base, m.maker_fill.new_base);
        let maker_closed = m.maker_fill.old_base.unsigned_abs().min(m.base);
        require_margin_after_trade(
            &maker,
            &prices,
            maker_reduces,
            m.maker_given_up(oracle_price)?,
            maker_closed,
            oracle_price,
            fee_rate,
            ErrorCode::MakerInsufficientMargin,
        )?;
        filled = filled.safe_add(m.base)?;
        taker_given_up = taker_given_up.safe_add(m.taker_given_up(oracle_price)?)?;
        insurance = insurance.safe_add(m.insurance)?.safe_add(m.filler_reward)?;
        emit!(OrderFilled {
            market_index: order_args.market_index,
            taker: taker_key,
            maker: info.key(),
            taker_order_id,
            maker_order_id: args.maker_order_ids[i],
            taker_side: order_args.side,
            price: m.price,
            base_amount: m.base,
            taker_fee: m.taker_fee,
            maker_fee: m.maker_fee,
            insurance_share: m.insurance.safe_add(m.filler_reward)?,
            filler_reward: 0,
            protocol_share: m.protocol,
        });
    }

    if args.time_in_force == time_in_force::FILL_OR_KILL {
        require!(filled == order_args.base_amount, ErrorCode::FillOrKillNotFilled);
    }
    if order_args.kind == order_kind::MARKET && filled == 0 {
        return Err(if beyond_limit { ErrorCode::SlippageLimitExceeded } else { ErrorCode::NothingToFill }.into());
    }
    // What is left rests (good till cancel) unless it may not: market orders and IOC.
    let rests = args.time_in_force == time_in_force::GOOD_TILL_CANCEL && order_args.kind != order_kind::MARKET;
    let left = taker.orders[taker_slot].base_amount;
    if left > 0 && !rests {
        reduce_order(&mut taker, taker_slot, left)?;
    }
    if left > 0 && rests && !order_args.reduce_only {
        mode.require_allows(MarketAction::AddRisk)?;
    }

    // The taker's margin rule over the whole instruction: a risk-reducing outcome (the position
    // shrank and no resting order raised its worst case) is judged like one reducing fill.
    let (base_after, worst_after) = match taker.position_index(order_args.market_index) {
        Some(p) => (taker.positions[p].base_amount, position_risk(&taker.positions[p], &snapshot)?.worst_case_base()?),
        None => (0, 0),
    };
    let reduces =
        is_risk_reducing(base_before, base_after) && worst_after.unsigned_abs() <= worst_before.unsigned_abs();
    let closed = base_before.unsigned_abs().min(filled);
    require_margin_after_trade(
        &taker,
        &prices,
        reduces,
        taker_given_up,
        closed,
        oracle_price,
        fee_rate,
        ErrorCode::InsufficientInitialMargin,
    )?;
    taker.last_active_slot = clock.slot;

    let bump = exchange.bump;
    drop(taker);
    drop(market);
    drop(exchange);
    transfer_from_vault(
        &accounts.token_program.to_account_info(),
        accounts.collateral_vault.to_account_info(),
        accounts.insurance_vault.to_account_info(),
        accounts.exchange.to_account_info(),
        bump,
        insurance,
    )?;
    Ok(())
}
