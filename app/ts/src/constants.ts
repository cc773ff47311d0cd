// Program constants, mirroring programs/margin-engine/src/constants.rs and state/*.rs.
import { PublicKey } from "@solana/web3.js";

import { IDL_JSON } from "./idl/margin_engine";

/** The margin engine's program id (declare_id!, also the IDL's `address`). */
export const PROGRAM_ID = new PublicKey(IDL_JSON.address);

/** Owner of Pyth `PriceUpdateV2` accounts the program accepts (`pyth_solana_receiver_sdk::ID`). */
export const PYTH_RECEIVER_PROGRAM_ID = new PublicKey("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");
/** The upgradeable BPF loader: owner of the program's ProgramData account (`bpf_loader_upgradeable::ID`). */
export const BPF_LOADER_UPGRADEABLE_PROGRAM_ID = new PublicKey("BPFLoaderUpgradeab1e11111111111111111111111");
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
/**
 * Paid from the insurance fund to whoever resolves a bankruptcy: `RESOLVE_BANKRUPTCY_BOUNTY_SHARE`
 * (ppm) of the deficit, at most `RESOLVE_BANKRUPTCY_BOUNTY` ($1).
 */
export const RESOLVE_BANKRUPTCY_BOUNTY = 1_000_000n;
export const RESOLVE_BANKRUPTCY_BOUNTY_SHARE = 100_000n;
/** A matured unstake request can be executed for this many slots after its cooldown, then it expires. */
export const INSURANCE_UNSTAKE_WINDOW_SLOTS = 216_000n;
/** No price older than this (by publish time) is accepted for anything, liquidation included. */
export const MAX_LIQUIDATION_PRICE_AGE_SECONDS = 3_600;
/** The stable price follows the oracle by at most this share of itself per slot (ppm)... */
export const STABLE_PRICE_GROWTH_PER_SLOT = 50n;
/** ...and by at most this many slots' worth per stored observation (1%). */
export const STABLE_PRICE_MAX_STEP_SLOTS = 200n;
export const LIQUIDATION_FEE_RAMP_DELAY_SLOTS = 150n;
export const LIQUIDATION_FEE_RAMP_SLOTS = 1_500n;
/**
 * Withdrawals leaning on a market's positive PnL wait this long after bad debt there; realised
 * profit stays locked (`MarginAccount.locked_profit`) for as long.
 */
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
  /**
   * What the guardian may close (`GUARDIAN_PAUSABLE`): only groups that add risk or move money
   * out. Anything else is governance's to pause (`GuardianCannotPause` for the guardian).
   */
  GuardianPausable: (1 << 1) | (1 << 2) | (1 << 6),
} as const;

/**
 * Every instruction's pause gate (`instructions::gates::TABLE`): the `PausedOperations` bit that
 * closes it, 0 = never paused.
 */
export const INSTRUCTION_GATES: Readonly<Record<string, number>> = Object.freeze({
  initialize_exchange: 0,
  create_market: 0,
  create_margin_account: PausedOperations.AccountLifecycle,
  set_delegate: 0,
  deposit: PausedOperations.Deposit,
  withdraw: PausedOperations.Withdraw,
  close_margin_account: 0,
  place_order: PausedOperations.Trading,
  cancel_order: 0,
  cancel_all_orders: 0,
  prune_expired_orders: 0,
  fill_orders: PausedOperations.Trading,
  place_and_take: PausedOperations.Trading,
  trigger_order: PausedOperations.Trading,
  update_funding: PausedOperations.Funding,
  liquidate: PausedOperations.Liquidation,
  resolve_bankruptcy: PausedOperations.Liquidation,
  auto_deleverage: PausedOperations.Liquidation,
  socialize_loss: PausedOperations.Liquidation,
  open_insurance_stake: 0,
  stake_insurance: PausedOperations.Insurance,
  request_unstake: PausedOperations.Insurance,
  unstake_insurance: PausedOperations.Insurance,
  withdraw_protocol_revenue: PausedOperations.Insurance,
  refresh_market: 0,
  pause_operations: 0,
  resume_operations: 0,
  set_market_reduce_only: 0,
  propose_authority: 0,
  accept_authority: 0,
  set_guardian: 0,
  update_risk_params: 0,
  execute_risk_update: 0,
  cancel_risk_update: 0,
});

/** `math::volatility` regimes, stored in `Market.regime`. */
export const Regime = { Calm: 0, Stressed: 1 } as const;

/** `state::order_kind`. */
export const ORDER_KIND = { LIMIT: 0, MARKET: 1, ORACLE_PEG: 2 } as const;
/** `state::order_trigger`. */
export const ORDER_TRIGGER = { NONE: 0, ABOVE: 1, BELOW: 2 } as const;
/** `instructions::place_and_take::time_in_force`. */
export const TIME_IN_FORCE = { GOOD_TILL_CANCEL: 0, IMMEDIATE_OR_CANCEL: 1, FILL_OR_KILL: 2 } as const;
export const MAX_TAKE_MAKERS = 4;
export const MARKET_ORDER_MAX_SLOTS = 150n;
export const TRIGGER_KEEPER_FEE = 10_000n;
export const ORDER_PRICE_MAX_AGE_SECONDS = 5n;
