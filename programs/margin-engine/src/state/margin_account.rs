use anchor_lang::prelude::*;

use crate::constants::{MAX_ORDERS, MAX_POSITIONS};

/// One perp position slot. Empty when it holds no base, no quote and no open orders.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PerpPosition {
    /// Signed base amount, 1e-9 units; positive = long.
    pub base_amount: i64,
    /// Signed quote flow of the open position (negative = paid). Realised PnL leaves it for
    /// collateral when the position is reduced.
    pub quote_amount: i64,
    /// Market's cumulative funding index (of this position's side) when funding was last settled.
    pub last_cumulative_funding: i64,
    /// Σ base of open, non-reduce-only bids / asks in this market (worst-case margin).
    pub open_bids: u64,
    pub open_asks: u64,
    pub market_index: u16,
    pub _padding: [u8; 6],
}

impl PerpPosition {
    pub fn is_empty(&self) -> bool {
        self.base_amount == 0 && self.quote_amount == 0 && self.open_bids == 0 && self.open_asks == 0
    }
}

pub mod order_side {
    pub const BID: u8 = 0;
    pub const ASK: u8 = 1;
}

pub mod order_flags {
    pub const REDUCE_ONLY: u8 = 1 << 0;
    pub const POST_ONLY: u8 = 1 << 1;
}

/// How an order's price is set and whether it may rest as a maker.
pub mod order_kind {
    /// Fills at its limit price or better; may rest and make.
    pub const LIMIT: u8 = 0;
    /// Takes only, never makes: `price` is its worst acceptable price (slippage limit).
    pub const MARKET: u8 = 1;
    /// Limit price = oracle (rounded to a tick away from crossing) + `peg_offset`, evaluated at
    /// fill time; `price`, if not 0, caps it (a bid never above it, an ask never below it).
    pub const ORACLE_PEG: u8 = 2;
}

/// The oracle condition that arms a trigger order (stop-loss / take-profit). Until it fires the
/// order cannot fill; `trigger_order` fires it permissionlessly.
pub mod order_trigger {
    /// Not a trigger order, or one that has fired.
    pub const NONE: u8 = 0;
    /// Fires when the oracle is at or above `trigger_price`.
    pub const ABOVE: u8 = 1;
    /// Fires when the oracle is at or below `trigger_price`.
    pub const BELOW: u8 = 2;
}

/// A resting order. Empty when `base_amount == 0`.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Order {
    /// Account-unique id, assigned at placement.
    pub order_id: u64,
    pub client_order_id: u64,
    /// Limit price, quote native per whole base.
    pub price: u64,
    /// Remaining (unfilled) base amount.
    pub base_amount: u64,
    /// Last slot at which it may fill; 0 = good till cancelled.
    pub expiry_slot: u64,
    /// Oracle price of the trigger condition (kept after it fires, for the record).
    pub trigger_price: u64,
    /// `ORACLE_PEG` only: quote native per whole base added to the oracle price.
    pub peg_offset: i64,
    pub market_index: u16,
    pub side: u8,
    pub flags: u8,
    /// `order_kind`.
    pub kind: u8,
    /// `order_trigger`: NONE once fired.
    pub trigger: u8,
    pub _padding: [u8; 2],
}

impl Order {
    pub fn is_empty(&self) -> bool {
        self.base_amount == 0
    }
    pub fn is_reduce_only(&self) -> bool {
        self.flags & order_flags::REDUCE_ONLY != 0
    }
    pub fn is_post_only(&self) -> bool {
        self.flags & order_flags::POST_ONLY != 0
    }
    pub fn is_expired(&self, slot: u64) -> bool {
        self.expiry_slot != 0 && slot > self.expiry_slot
    }
    /// A trigger order whose condition has not fired yet: it cannot fill.
    pub fn is_untriggered(&self) -> bool {
        self.trigger != order_trigger::NONE
    }
    /// A reduce-only order that has nothing left to reduce in a position of `position_base`: it
    /// can never fill.
    pub fn has_nothing_to_reduce(&self, position_base: i64) -> bool {
        self.is_reduce_only() && crate::math::position::reducible(self.side, position_base) == 0
    }
    /// Market orders take only: resting as a maker would fill them at their worst price.
    pub fn can_make(&self) -> bool {
        self.kind != order_kind::MARKET
    }
    /// The limit price at `oracle_price` (pegged orders move with the oracle); `None` when a peg
    /// would put it at or below zero.
    pub fn limit_price(&self, oracle_price: u64, tick_size: u64) -> Option<u64> {
        if self.kind != order_kind::ORACLE_PEG {
            return Some(self.price);
        }
        crate::math::trading::pegged_price(
            oracle_price,
            self.peg_offset,
            tick_size,
            self.side == order_side::BID,
            self.price,
        )
    }
}

pub mod margin_account_flags {
    pub const BEING_LIQUIDATED: u8 = 1 << 0;
    pub const BANKRUPT: u8 = 1 << 1;
}

/// A trader's cross-margined account: PDA `["margin_account", owner, sub_account_id LE]`, so one
/// owner can hold several isolated sub-accounts.
#[account(zero_copy)]
pub struct MarginAccount {
    pub owner: Pubkey,
    /// May trade, never withdraw. Default key = none.
    pub delegate: Pubkey,
    /// Settled collateral, native units. Signed: a loss beyond collateral is bad debt until the
    /// waterfall resolves it.
    pub collateral: i64,
    pub last_active_slot: u64,
    /// Slot the current liquidation episode began (valid while BEING_LIQUIDATED).
    pub liquidation_start_slot: u64,
    /// Slot of the latest liquidation step: at most one step per slot.
    pub last_liquidation_slot: u64,
    pub positions: [PerpPosition; MAX_POSITIONS],
    pub orders: [Order; MAX_ORDERS],
    pub next_order_id: u64,
    /// Positive PnL realised within the bad-debt window, and when it was last added to: it
    /// cannot be withdrawn until `BAD_DEBT_WITHDRAW_GATE_SLOTS` have passed (ADL and socialised
    /// losses could not reach it any more once the position is closed).
    pub locked_profit: u64,
    pub locked_profit_slot: u64,
    pub sub_account_id: u16,
    pub flags: u8,
    pub bump: u8,
    /// The market of the latest realised loss; while BANKRUPT, the market the loss is attributed
    /// to (the held market with the largest unrealised loss, else this): the waterfall draws and
    /// socialises only there.
    pub loss_market_index: u16,
    pub _padding: [u8; 2],
}

impl MarginAccount {
    pub const SPACE: usize = 8 + core::mem::size_of::<MarginAccount>();

    pub fn active_positions(&self) -> impl Iterator<Item = &PerpPosition> {
        self.positions.iter().filter(|p| !p.is_empty())
    }

    pub fn is_flat(&self) -> bool {
        self.active_positions().next().is_none() && self.orders.iter().all(|o| o.is_empty())
    }

    pub fn position_index(&self, market_index: u16) -> Option<usize> {
        self.positions.iter().position(|p| !p.is_empty() && p.market_index == market_index)
    }

    /// The slot of `market_index`, claiming an empty one if needed. Funding is settled before any
    /// base change, so a fresh slot's funding index is set then.
    pub fn position_index_or_open(&mut self, market_index: u16) -> Option<usize> {
        if let Some(i) = self.position_index(market_index) {
            return Some(i);
        }
        let i = self.positions.iter().position(|p| p.is_empty())?;
        self.positions[i] = PerpPosition { market_index, ..PerpPosition::default() };
        Some(i)
    }

    pub fn order_index(&self, order_id: u64) -> Option<usize> {
        self.orders.iter().position(|o| !o.is_empty() && o.order_id == order_id)
    }

    pub fn has_flag(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Realised profit still inside its lock at `slot`.
    pub fn locked_profit_at(&self, slot: u64) -> u64 {
        if slot < self.locked_profit_slot.saturating_add(crate::constants::BAD_DEBT_WITHDRAW_GATE_SLOTS) {
            self.locked_profit
        } else {
            0
        }
    }

    /// Locks newly realised profit; a lock still running is extended to cover it too.
    pub fn lock_profit(&mut self, realized_pnl: i64, slot: u64) {
        if realized_pnl <= 0 {
            return;
        }
        self.locked_profit = self.locked_profit_at(slot).saturating_add(realized_pnl.unsigned_abs());
        self.locked_profit_slot = slot;
    }

    pub fn can_trade(&self, signer: &Pubkey) -> bool {
        self.owner == *signer || (self.delegate != Pubkey::default() && self.delegate == *signer)
    }
}
