//! Fixed-point scales, PDA seeds and the hard bounds governance can never cross.

/// Prices are quote native units (6 decimals) per one whole base unit.
pub const PRICE_PRECISION: u64 = 1_000_000;
/// Base amounts are in 1e-9 of a whole base unit.
pub const BASE_PRECISION: u64 = 1_000_000_000;
/// Ratios (margin, fees, haircuts) are parts per million.
pub const RATIO_PRECISION: u64 = 1_000_000;

pub const MAX_POSITIONS: usize = 8;
pub const MAX_ORDERS: usize = 16;

pub const EXCHANGE_SEED: &[u8] = b"exchange";
/// The exchange PDA, `find_program_address([EXCHANGE_SEED], ID)`, as a constant: instructions
/// check the exchange account by address (a 32-byte compare) instead of re-deriving the PDA
/// (`create_program_address`, 1,500 CU) on every call. A unit test pins it to the derivation.
pub const EXCHANGE_ADDRESS: anchor_lang::prelude::Pubkey =
    anchor_lang::prelude::pubkey!("9Q9APPTEsvZ9zLQ8FmXBNBX7QEcyJ7gsWcxC6yZ3qHtV");
pub const MARKET_SEED: &[u8] = b"market";
pub const MARGIN_ACCOUNT_SEED: &[u8] = b"margin_account";
pub const COLLATERAL_VAULT_SEED: &[u8] = b"collateral_vault";
pub const INSURANCE_VAULT_SEED: &[u8] = b"insurance_vault";

// Hard bounds on market parameters (ppm unless stated). Governance moves inside these only.
/// Maintenance margin may not go below 0.5% (200x): thinner buffers cannot survive one slot of
/// a fast market.
pub const MIN_MAINTENANCE_MARGIN_RATIO: u32 = 5_000;
/// Initial margin of 100% means no leverage at all: the ceiling.
pub const MAX_INITIAL_MARGIN_RATIO: u32 = 1_000_000;
/// Size premium: ppm of margin added per sqrt(whole base unit); 0 disables it.
pub const MAX_SIZE_PREMIUM_FACTOR: u32 = 100_000;
pub const MAX_INSURANCE_FEE: u32 = 50_000;
/// A buffer of 100% means binary liquidation: the whole position goes at once.
pub const MAX_LIQUIDATION_BUFFER: u32 = 1_000_000;
pub const MAX_TRADING_FEE: u32 = 10_000;
pub const MAX_FILL_PRICE_BAND: u32 = 200_000;
pub const MIN_FUNDING_PERIOD_SLOTS: u32 = 10;
pub const MAX_FUNDING_PERIOD_SLOTS: u32 = 1_000_000;
/// Funding per period is capped at 10% of the oracle price.
pub const MAX_FUNDING_RATE: u32 = 100_000;
/// The liquidator fee starts rising once a liquidation has been idle this many slots...
pub const LIQUIDATION_FEE_RAMP_DELAY_SLOTS: u64 = 150;
/// ...and reaches its cap this many slots later.
pub const LIQUIDATION_FEE_RAMP_SLOTS: u64 = 1_500;
/// Positions (or shortfalls) below this notional are liquidated whole, without throttle: $50.
pub const DUST_NOTIONAL: u64 = 50_000_000;

pub const MAX_ADL_PRICE_BAND: u32 = 500_000;
/// Withdrawals that lean on a market's positive PnL wait this long after bad debt there (dYdX: 50).
pub const BAD_DEBT_WITHDRAW_GATE_SLOTS: u64 = 50;
/// Paid from the insurance fund to whoever resolves a bankruptcy: a tenth of the deficit
/// (ppm), at most $1 — a flat bounty would pay for farming dust bankruptcies.
pub const RESOLVE_BANKRUPTCY_BOUNTY: u64 = 1_000_000;
pub const RESOLVE_BANKRUPTCY_BOUNTY_SHARE: u64 = 100_000;
pub const INSURANCE_STAKE_SEED: &[u8] = b"insurance_stake";
/// A matured unstake request can be executed for this many slots after its cooldown (about a
/// day), then it expires: nobody keeps a standing instant exit to use ahead of a loss.
pub const INSURANCE_UNSTAKE_WINDOW_SLOTS: u64 = 216_000;

pub const MAX_BREAKER_BAND: u32 = 900_000;
pub const MAX_VOL_MULTIPLIER: u32 = 10_000_000;
pub const MAX_STRESSED_ADDON: u32 = 500_000;
/// Most a partial liquidation may restore: 4x the initial ratio in force (the buffer in force is
/// capped at 100% anyway, where a liquidation takes the whole position).
pub const MAX_LIQUIDATION_INITIAL_SHARE: u32 = 4_000_000;
pub const MAX_RISK_TIMELOCK_SLOTS: u64 = 10_000_000;

/// Extra precision of the cumulative funding index over quote native units.
pub const FUNDING_INDEX_SCALE: i128 = 1_000;

/// Haircut on positive unrealised PnL for initial health; 100% would ignore it entirely.
pub const MAX_PNL_INITIAL_HAIRCUT: u32 = 1_000_000;
pub const MIN_STALENESS_SLOTS: u32 = 1;
pub const MAX_STALENESS_SLOTS: u32 = 1_500;
pub const MAX_STALENESS_SECONDS: u32 = 600;
/// No price older than an hour (by publish time) is accepted for anything, liquidation included.
pub const MAX_LIQUIDATION_PRICE_AGE_SECONDS: u32 = 3_600;
/// The stable price follows the oracle by at most this share of itself per slot (ppm): 0.005% a
/// slot, 1% in 200 slots (~80 s), so a 30% pump reaches initial health over ~40 minutes...
pub const STABLE_PRICE_GROWTH_PER_SLOT: u64 = 50;
/// ...and by at most this many slots' worth per stored observation (1%): a market nobody wrote
/// for hours cannot catch up in one read, so catching up takes time and many valid prices.
pub const STABLE_PRICE_MAX_STEP_SLOTS: u64 = 200;
/// Confidence interval limit: at most 10% of price.
pub const MAX_CONFIDENCE_RATIO: u32 = 100_000;

/// Program that owns Pyth `PriceUpdateV2` accounts.
pub const PYTH_RECEIVER_PROGRAM_ID: anchor_lang::prelude::Pubkey = pyth_solana_receiver_sdk::ID;
/// Program that owns Switchboard On-Demand pull feeds.
pub const SWITCHBOARD_ON_DEMAND_PROGRAM_ID: anchor_lang::prelude::Pubkey = switchboard_on_demand::ON_DEMAND_MAINNET_PID;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_address_is_the_exchange_pda() {
        let (pda, _) = anchor_lang::prelude::Pubkey::find_program_address(&[EXCHANGE_SEED], &crate::ID);
        assert_eq!(EXCHANGE_ADDRESS, pda);
    }
}

// ---- order types ----
/// Most makers one `place_and_take` crosses (each is a loaded, writable account).
pub const MAX_TAKE_MAKERS: usize = 4;
/// A market order that rests (placed with `place_order`, or a stop-market once fired) expires this
/// many slots later (about a minute): a taker-only order at its worst price must not linger.
pub const MARKET_ORDER_MAX_SLOTS: u64 = 150;
/// What `trigger_order` pays its keeper from the order's account (0.01 of the 6-decimal quote),
/// never more than the account's positive collateral.
pub const TRIGGER_KEEPER_FEE: u64 = 10_000;
/// Oldest price (seconds since its signed publish time) a trigger may fire on, or a fill may price
/// an oracle-pegged order or bound a keeper-matched market order at: the trading staleness limit
/// (a minute) would let the caller pick, among recent genuine updates, the one that suits it.
pub const ORDER_PRICE_MAX_AGE_SECONDS: i64 = 5;
