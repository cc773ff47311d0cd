// Account and argument types of the program (from the IDL, camelCase as Anchor decodes them),
// decoding helpers, and the default parameter sets the Rust test harness uses.
import { BN, BorshAccountsCoder, IdlAccounts, IdlEvents, IdlTypes } from "@coral-xyz/anchor";
import { convertIdlToCamelCase } from "@coral-xyz/anchor/dist/cjs/idl.js";
import { PublicKey } from "@solana/web3.js";

import { BAD_DEBT_WITHDRAW_GATE_SLOTS, BASE_PRECISION } from "./constants";
import { IDL_JSON, MarginEngine } from "./idl/margin_engine";

export type Exchange = IdlAccounts<MarginEngine>["exchange"];
export type Market = IdlAccounts<MarginEngine>["market"];
export type MarginAccount = IdlAccounts<MarginEngine>["marginAccount"];
export type InsuranceStake = IdlAccounts<MarginEngine>["insuranceStake"];
export type PerpPosition = IdlTypes<MarginEngine>["perpPosition"];
export type Order = IdlTypes<MarginEngine>["order"];
export type RiskParams = IdlTypes<MarginEngine>["riskParams"];
export type OracleConfig = IdlTypes<MarginEngine>["oracleConfig"];
export type ExchangeConfig = IdlTypes<MarginEngine>["exchangeConfig"];
export type PlaceOrderArgs = IdlTypes<MarginEngine>["placeOrderArgs"];
export type MarginEngineEvents = IdlEvents<MarginEngine>;
export type MarginEngineEventName = keyof MarginEngineEvents & string;

export type AccountName = "exchange" | "market" | "marginAccount" | "insuranceStake";

/**
 * Anchor's Borsh account coder over the camelCased IDL. The program's accounts are zero-copy
 * (`serialization: "bytemuck"`, `repr(C)`); Anchor 0.32.1's coder ignores that flag and reads them
 * as Borsh, which gives the same bytes because every field is explicitly padded
 * (`layout.ts` checks this from the IDL; the tests check decoded values against the chain).
 */
export const accountsCoder = new BorshAccountsCoder(convertIdlToCamelCase(IDL_JSON));

export function decodeAccount<N extends AccountName>(name: N, data: Buffer): IdlAccounts<MarginEngine>[N] {
  return accountsCoder.decode(name, data);
}

export const decodeExchange = (data: Buffer): Exchange => decodeAccount("exchange", data);
export const decodeMarket = (data: Buffer): Market => decodeAccount("market", data);
export const decodeMarginAccount = (data: Buffer): MarginAccount => decodeAccount("marginAccount", data);
export const decodeInsuranceStake = (data: Buffer): InsuranceStake => decodeAccount("insuranceStake", data);

/** A u64/i64 field (BN) as a bigint. */
export function big(value: BN | bigint | number): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") return BigInt(value);
  return BigInt(value.toString());
}

export type Numeric = BN | bigint | number;

/** Any integer as the BN Anchor encodes u64/i64 arguments from. */
export function bn(value: Numeric): BN {
  if (BN.isBN(value)) return value as BN;
  return new BN(value.toString());
}

/** `PerpPosition::is_empty`: no base, no quote, no open orders. */
export function isPositionEmpty(p: PerpPosition): boolean {
  return p.baseAmount.isZero() && p.quoteAmount.isZero() && p.openBids.isZero() && p.openAsks.isZero();
}

/** `MarginAccount::active_positions`. */
export function activePositions(account: MarginAccount): PerpPosition[] {
  return account.positions.filter((p) => !isPositionEmpty(p));
}

/** The account's position in a market, if it has a non-empty one. */
export function positionIn(account: MarginAccount, marketIndex: number): PerpPosition | undefined {
  return activePositions(account).find((p) => p.marketIndex === marketIndex);
}

/**
 * `MarginAccount::locked_profit_at`: realised profit still inside its lock at `slot` (it cannot
 * be withdrawn for `BAD_DEBT_WITHDRAW_GATE_SLOTS` after it was last added to; `ProfitLocked`).
 */
export function lockedProfitAt(account: MarginAccount, slot: bigint): bigint {
  return slot < big(account.lockedProfitSlot) + BAD_DEBT_WITHDRAW_GATE_SLOTS ? big(account.lockedProfit) : 0n;
}

/** Resting orders (`Order::is_empty` is `base_amount == 0`). */
export function openOrders(account: MarginAccount): Order[] {
  return account.orders.filter((o) => !o.baseAmount.isZero());
}

/** A 16-byte, zero-padded market name. */
export function marketName(name: string): number[] {
  const bytes = Buffer.from(name, "ascii");
  if (bytes.length === 0 || bytes.length > 16) throw new RangeError("market name must be 1..16 ASCII bytes");
  const out = new Array<number>(16).fill(0);
  bytes.forEach((b, i) => (out[i] = b));
  return out;
}

export function decodeMarketName(name: number[]): string {
  const end = name.indexOf(0);
  return Buffer.from(end === -1 ? name : name.slice(0, end)).toString("ascii");
}

export const USDC = 1_000_000n;
export const BASE = BASE_PRECISION;

/**
 * The Rust harness's `default_risk()` (tests/src/env.rs): 10% initial, 5% maintenance, taker 0.10%,
 * maker 0.02%, a quarter of fees to insurance, a tenth to the filler; volatility adjustment off.
 */
export function defaultRiskParams(): RiskParams {
  return {
    maxOpenInterest: bn(1_000_000n * BASE),
    minOrderSize: bn(BASE / 100n),
    tickSize: bn(1_000),
    stepSize: bn(BASE / 100n),
    insuranceDrawCap: bn(10_000n * USDC),
    insuranceDrawPeriodSlots: bn(10_000),
    volReferenceVariance: bn(22_500),
    initialMarginRatio: 100_000,
    maintenanceMarginRatio: 50_000,
    sizePremiumFactor: 0,
    liquidationFee: 10_000,
    insuranceFee: 5_000,
    pnlInitialHaircut: 0,
    liquidationBuffer: 20_000,
    takerFee: 1_000,
    makerFee: 200,
    feeInsuranceShare: 250_000,
    fillerRewardShare: 100_000,
    fillPriceBand: 50_000,
    fundingPeriodSlots: 3_600,
    maxFundingRate: 10_000,
    liquidationThrottleInitial: 250_000,
    liquidationThrottlePerSlot: 25_000,
    adlMinScore: 0,
    adlPriceBand: 100_000,
    breakerSoftBand: 150_000,
    breakerHardBand: 400_000,
    breakerWindowSlots: 150,
    breakerCooldownSlots: 60,
    oracleDivergenceLimit: 200_000,
    insuranceDrawdownLimit: 1_000_000,
    volShortHalfLifeSlots: 1_500,
    volLongHalfLifeSlots: 216_000,
    volMaxMultiplier: 1_000_000,
    volDecayPerSlot: 50,
    volMaintenanceRisePerSlot: 20,
    regimeEnterRatio: 2_000_000,
    regimeExitRatio: 1_500_000,
    regimeJump: 50_000,
    regimeMinSlots: 1_500,
    stressedInitialAddon: 0,
    liquidationInitialShare: 0,
    stressedLiquidationInitialShare: 0,
  };
}

/**
 * The harness's `default_oracle_config`: Pyth only, 120/25 slots, 120 s, 2% confidence; no price
 * older than 600 s for anything (liquidation included); a fallback price at most 20% from the
 * last valid one.
 */
export function defaultOracleConfig(feedId: Uint8Array, switchboardFeed: PublicKey = PublicKey.default): OracleConfig {
  return {
    pythFeedId: Array.from(feedId),
    switchboardFeed,
    maxStalenessSlotsMargin: 120,
    maxStalenessSlotsTrading: 25,
    maxStalenessSeconds: 120,
    maxConfidenceRatio: 20_000,
    maxAgeSecondsLiquidation: 600,
    fallbackMaxDivergence: 200_000,
  };
}

/** An `ExchangeConfig` from plain numbers. */
export function exchangeConfig(p: {
  guardian: PublicKey;
  insuranceUnstakeCooldownSlots: Numeric;
  insuranceRevenueFloor: Numeric;
  riskTimelockSlots: Numeric;
}): ExchangeConfig {
  return {
    guardian: p.guardian,
    insuranceUnstakeCooldownSlots: bn(p.insuranceUnstakeCooldownSlots),
    insuranceRevenueFloor: bn(p.insuranceRevenueFloor),
    riskTimelockSlots: bn(p.riskTimelockSlots),
  };
}
