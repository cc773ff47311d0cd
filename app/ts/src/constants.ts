// Program constants, mirroring programs/margin-engine/src/constants.rs and state/*.rs.
import { PublicKey } from "@solana/web3.js";

import { IDL_JSON } from "./idl/margin_engine";

/** The margin engine's program id (declare_id!, also the IDL's `address`). */
export const PROGRAM_ID = new PublicKey(IDL_JSON.address);

/** Owner of Pyth `PriceUpdateV2` accounts the program accepts (`pyth_solana_receiver_sdk::ID`). */
export const PYTH_RECEIVER_PROGRAM_ID = new PublicKey("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");
/** Owner of Switchboard On-Demand pull feeds (`switchboard_on_demand::ON_DEMAND_MAINNET_PID`). */
export const SWITCHBOARD_ON_DEMAND_PROGRAM_ID = new PublicKey("SBondMDrcV3K4kxZR1HNVT7osZxAHVHgYXL5Ze1oMUv");

/** Prices: quote native units (6 decimals) per one whole base unit. */
export const PRICE_PRECISION = 1_000_000n;
/** Base amounts: 1e-9 of a whole base unit. */
export const BASE_PRECISION = 1_000_000_000n;
/** Ratios (margin, fees, haircuts): parts per million. */
export const RATIO_PRECISION = 1_000_000n;
/** Extra precision of the cumulative funding index over quote native units. */
export const FUNDING_INDEX_SCALE = 1_000n;

export const MAX_POSITIONS = 8;
export const MAX_ORDERS = 16;

export const SEEDS = {
  exchange: Buffer.from("exchange"),
  market: Buffer.from("market"),
  marginAccount: Buffer.from("margin_account"),
  collateralVault: Buffer.from("collateral_vault"),
  insuranceVault: Buffer.from("insurance_vault"),
  insuranceStake: Buffer.from("insurance_stake"),
} as const;

/** Positions (or shortfalls) below this notional are liquidated whole: $50. */
export const DUST_NOTIONAL = 50_000_000n;
/** Paid from the insurance fund to whoever resolves a bankruptcy: $1. */
export const RESOLVE_BANKRUPTCY_BOUNTY = 1_000_000n;
export const LIQUIDATION_FEE_RAMP_DELAY_SLOTS = 150n;
export const LIQUIDATION_FEE_RAMP_SLOTS = 1_500n;
export const BAD_DEBT_WITHDRAW_GATE_SLOTS = 50n;

/** `state::order_side`. */
export const OrderSide = { Bid: 0, Ask: 1 } as const;
export type OrderSide = (typeof OrderSide)[keyof typeof OrderSide];

/** `state::order_flags`. */
export const OrderFlags = { ReduceOnly: 1 << 0, PostOnly: 1 << 1 } as const;

/** `state::margin_account_flags`. */
export const MarginAccountFlags = { BeingLiquidated: 1 << 0, Bankrupt: 1 << 1 } as const;

/** `state::market_status` (guardian reduce-only flag, insurance drawdown flag). */
export const MarketStatus = { Active: 0, ReduceOnly: 1 << 0, InsuranceDrawdown: 1 << 1 } as const;

/** `math::breaker` modes, stored in `Market.breaker_status`. */
export const BreakerMode = { Normal: 0, ReduceOnly: 1, Halted: 2 } as const;

/** `state::paused_operations` bits for `pause_operations` / `resume_operations`. */
export const PausedOperations = {
  Deposit: 1 << 0,
  Withdraw: 1 << 1,
  Trading: 1 << 2,
  Liquidation: 1 << 3,
  Funding: 1 << 4,
  AccountLifecycle: 1 << 5,
  Insurance: 1 << 6,
  All: (1 << 7) - 1,
} as const;

/** `math::volatility` regimes, stored in `Market.regime`. */
export const Regime = { Calm: 0, Stressed: 1 } as const;
