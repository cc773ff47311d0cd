// Off-chain previews of the program's integer math, in BigInt, mirroring
// programs/margin-engine/src/math/{fixed,trading,position,margin,stable_price,funding,liquidation}
// line for line
// (same rounding everywhere). The program is the authority: the localnet tests check these
// previews against what it actually does.
import {
  BASE_PRECISION,
  DUST_NOTIONAL,
  FUNDING_INDEX_SCALE,
  LIQUIDATION_FEE_RAMP_DELAY_SLOTS,
  LIQUIDATION_FEE_RAMP_SLOTS,
  RATIO_PRECISION,
  STABLE_PRICE_GROWTH_PER_SLOT,
  STABLE_PRICE_MAX_STEP_SLOTS,
} from "./constants";

export type Rounding = "down" | "up";

/** `fixed::div_i128`: n / d (d > 0), rounded toward -inf ("down") or +inf ("up"). */
export function divRound(n: bigint, d: bigint, rounding: Rounding): bigint {
  if (d <= 0n) throw new RangeError("divisor must be positive");
  const q = n / d; // truncates toward zero
  const r = n % d;
  if (rounding === "down" && r < 0n) return q - 1n;
  if (rounding === "up" && r > 0n) return q + 1n;
  return q;
}

export function mulDiv(a: bigint, b: bigint, d: bigint, rounding: Rounding): bigint {
  return divRound(a * b, d, rounding);
}

/** Floor of the square root. */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError("negative");
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

const abs = (v: bigint) => (v < 0n ? -v : v);
const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

// ---- trading ----

/** `trading::trade_quote`: (paid by the buyer, rounded up; received by the seller, rounded down). */
export function tradeQuote(base: bigint, price: bigint): { paid: bigint; received: bigint } {
  return {
    paid: mulDiv(base, price, BASE_PRECISION, "up"),
    received: mulDiv(base, price, BASE_PRECISION, "down"),
  };
}

/** `trading::fee`: `rate` ppm of `notional`, rounded up. */
export function tradingFee(notional: bigint, ratePpm: bigint | number): bigint {
  return mulDiv(notional, BigInt(ratePpm), RATIO_PRECISION, "up");
}

/** `trading::split_fee`: (insurance, filler reward, protocol); shares round down. */
export function splitFee(
  total: bigint,
  insuranceShare: bigint | number,
  fillerShare: bigint | number,
): { insurance: bigint; filler: bigint; protocol: bigint } {
  const insurance = mulDiv(total, BigInt(insuranceShare), RATIO_PRECISION, "down");
  const filler = mulDiv(total, BigInt(fillerShare), RATIO_PRECISION, "down");
  return { insurance, filler, protocol: total - insurance - filler };
}

/** `trading::within_band`: |price − oracle| ≤ band × oracle. */
export function withinBand(price: bigint, oracle: bigint, bandPpm: bigint | number): boolean {
  return abs(price - oracle) * RATIO_PRECISION <= BigInt(bandPpm) * oracle;
}

// ---- stable price ----

/**
 * `stable_price::follow`: the stable price at `slot` for an oracle price `oracle`, from the one
 * stored at `stableSlot`. It moves at most `STABLE_PRICE_GROWTH_PER_SLOT` ppm of itself per slot
 * toward the oracle, and by at most `STABLE_PRICE_MAX_STEP_SLOTS` slots' worth per stored
 * observation (1%): a long quiet gap allows one step, not a jump to the oracle. An unset stable
 * price (0) starts at the oracle.
 */
export function followStablePrice(stable: bigint, stableSlot: bigint, oracle: bigint, slot: bigint): bigint {
  if (stable === 0n) return oracle;
  if (oracle === stable) return stable;
  const elapsed = min(max(slot - stableSlot, 0n), STABLE_PRICE_MAX_STEP_SLOTS);
  const share = min(elapsed * STABLE_PRICE_GROWTH_PER_SLOT, RATIO_PRECISION);
  const maxMove = (stable * share) / RATIO_PRECISION;
  return min(max(oracle, stable - maxMove), stable + maxMove);
}

// ---- funding ----

/**
 * `funding::update_twap`: time-weighted average over `window` slots; the new price weighs in by
 * the slots elapsed (capped at the window). An uninitialised average (0) starts at the price.
 */
export function updateTwap(twap: bigint, lastSlot: bigint, price: bigint, now: bigint, window: bigint): bigint {
  if (twap === 0n || window === 0n) return price;
  const elapsed = min(max(now - lastSlot, 0n), window);
  return (twap * (window - elapsed) + price * elapsed) / window;
}

/** A mark level and the mark TWAP (`Market.mark_price`, `Market.mark_twap`). */
export interface Mark {
  level: bigint;
  twap: bigint;
}

/**
 * `funding::advance_mark`: the mark level and the mark TWAP carried forward to `now`. Over the
 * `dt` slots since `lastSlot` (capped at the window) the level decays linearly toward the oracle
 * TWAP (no trades, no premium), and the TWAP takes in the level's average over those slots
 * (both rounded down). Unset values (0) start at the oracle TWAP.
 */
export function advanceMark(
  level: bigint,
  twap: bigint,
  lastSlot: bigint,
  oracleTwap: bigint,
  now: bigint,
  window: bigint,
): Mark {
  const lvl = level === 0n ? oracleTwap : level;
  const tw = twap === 0n ? oracleTwap : twap;
  if (window === 0n) return { level: lvl, twap: tw };
  const dt = min(max(now - lastSlot, 0n), window);
  const gapEnd = (abs(lvl - oracleTwap) * (window - dt)) / window;
  const levelEnd = lvl >= oracleTwap ? oracleTwap + gapEnd : oracleTwap - gapEnd;
  const average = (lvl + levelEnd) / 2n;
  return { level: levelEnd, twap: updateTwap(tw, lastSlot, average, now, window) };
}

/**
 * `funding::mark_after_fill`: the mark after a fill of `fillBase` at `fillPrice`. Both are first
 * carried to `now` (`advanceMark`), then the fill pulls the level toward its price by
 * `fillBase / referenceBase` of the way (at most all of it), rounded toward the old level; the
 * reference is the larger of the market's long open interest before and after the fill. The fill
 * itself adds nothing to the TWAP: only the slots the new level then lasts do.
 */
export function markAfterFill(
  level: bigint,
  twap: bigint,
  lastSlot: bigint,
  oracleTwap: bigint,
  fillPrice: bigint,
  fillBase: bigint,
  referenceBase: bigint,
  now: bigint,
  window: bigint,
): Mark {
  const carried = advanceMark(level, twap, lastSlot, oracleTwap, now, window);
  if (carried.level === 0n) return { level: fillPrice, twap: fillPrice };
  const reference = max(max(referenceBase, fillBase), 1n);
  const pull = (abs(fillPrice - carried.level) * fillBase) / reference;
  return {
    level: fillPrice >= carried.level ? carried.level + pull : carried.level - pull,
    twap: carried.twap,
  };
}

/**
 * `funding::funding_payment`: one period's payment per whole base, quote native: mark TWAP minus
 * oracle TWAP, clamped to ±`maxRate` ppm of the oracle TWAP (rounded down). Positive: longs pay
 * shorts. No fills yet (either TWAP 0): zero.
 */
export function fundingPayment(markTwap: bigint, oracleTwap: bigint, maxRatePpm: bigint | number): bigint {
  if (markTwap === 0n || oracleTwap === 0n) return 0n;
  const cap = mulDiv(oracleTwap, BigInt(maxRatePpm), RATIO_PRECISION, "down");
  return min(max(markTwap - oracleTwap, -cap), cap);
}

/** `funding::index_delta`: the cumulative funding index increment for a payment. */
export function fundingIndexDelta(payment: bigint): bigint {
  return payment * FUNDING_INDEX_SCALE;
}

// ---- position ----

export interface TradeResult {
  baseAmount: bigint;
  quoteAmount: bigint;
  /** Moves into collateral. */
  realizedPnl: bigint;
}

/** `position::apply_trade`. */
export function applyTrade(base: bigint, quote: bigint, deltaBase: bigint, tradeQuoteSigned: bigint): TradeResult {
  const newBase = base + deltaBase;
  if (base === 0n || deltaBase === 0n || base > 0n === deltaBase > 0n) {
    return { baseAmount: newBase, quoteAmount: quote + tradeQuoteSigned, realizedPnl: 0n };
  }
  const baseAbs = abs(base);
  const deltaAbs = abs(deltaBase);
  if (deltaAbs <= baseAbs) {
    const closedQuote = mulDiv(quote, deltaAbs, baseAbs, "down");
    return { baseAmount: newBase, quoteAmount: quote - closedQuote, realizedPnl: closedQuote + tradeQuoteSigned };
  }
  const closingTradeQuote = mulDiv(tradeQuoteSigned, baseAbs, deltaAbs, "down");
  return {
    baseAmount: newBase,
    quoteAmount: tradeQuoteSigned - closingTradeQuote,
    realizedPnl: quote + closingTradeQuote,
  };
}

/** `position::funding_owed`: funding owed to a position since `lastIndex` (negative = it pays). */
export function fundingOwed(base: bigint, currentIndex: bigint, lastIndex: bigint): bigint {
  if (base === 0n) return 0n;
  return mulDiv(-base, currentIndex - lastIndex, BASE_PRECISION * FUNDING_INDEX_SCALE, "down");
}

/** `position::is_risk_reducing`. */
export function isRiskReducing(oldBase: bigint, newBase: bigint): boolean {
  return newBase === 0n || (oldBase > 0n === newBase > 0n && abs(newBase) <= abs(oldBase));
}

// ---- margin ----

export type HealthKind = "initial" | "maintenance" | "liquidation";

/** `margin::MarginParams` (ppm). A multiplier of 0 reads as 1x. */
export interface MarginParams {
  initialMarginRatio: bigint;
  maintenanceMarginRatio: bigint;
  sizePremiumFactor: bigint;
  pnlInitialHaircut: bigint;
  liquidationBuffer: bigint;
  initialMultiplier: bigint;
  maintenanceMultiplier: bigint;
  initialAddon: bigint;
}

/** `margin::PositionRisk`: one position, priced. */
export interface PositionRisk {
  baseAmount: bigint;
  quoteAmount: bigint;
  unsettledFunding: bigint;
  openBids: bigint;
  openAsks: bigint;
  /** Oracle price, quote native units per whole base unit. */
  price: bigint;
  /**
   * Growth-limited price (`followStablePrice`; 0 = the oracle price): initial health takes the
   * PnL at whichever of the two prices is worse for the account.
   */
  stablePrice: bigint;
  params: MarginParams;
}

export interface HealthReport {
  collateral: bigint;
  unrealizedPnl: bigint;
  initialRequirement: bigint;
  maintenanceRequirement: bigint;
  liquidationRequirement: bigint;
  initialHealth: bigint;
  maintenanceHealth: bigint;
  liquidationHealth: bigint;
  /** Collateral + unrealised PnL. */
  equity: bigint;
}

function scaled(ratio: bigint, multiplier: bigint): bigint {
  const m = multiplier === 0n ? RATIO_PRECISION : multiplier;
  return (ratio * m + RATIO_PRECISION - 1n) / RATIO_PRECISION;
}

/** `margin::size_premium`: `factor × sqrt(|base| in whole units)` ppm, rounded up. */
export function sizePremium(baseAbs: bigint, factor: bigint): bigint {
  if (factor === 0n || baseAbs === 0n) return 0n;
  const rootScaled = isqrt(baseAbs * BASE_PRECISION);
  return mulDiv(rootScaled + 1n, factor, BASE_PRECISION, "up");
}

/** `margin::liquidation_buffer_in_force`: the buffer, or what restores `initialShare` of initial margin. */
export function liquidationBufferInForce(params: MarginParams, initialShare: bigint): bigint {
  const initial = scaled(params.initialMarginRatio, params.initialMultiplier) + params.initialAddon;
  const target = (initial * initialShare + RATIO_PRECISION - 1n) / RATIO_PRECISION;
  const maintenance = scaled(params.maintenanceMarginRatio, params.maintenanceMultiplier);
  const above = target > maintenance ? target - maintenance : 0n;
  return min(max(above, params.liquidationBuffer), RATIO_PRECISION);
}

/** `margin::margin_ratio`: ppm for a position of this size, capped at 100%. */
export function marginRatio(params: MarginParams, baseAbs: bigint, kind: HealthKind): bigint {
  const maintenance = scaled(params.maintenanceMarginRatio, params.maintenanceMultiplier);
  const baseRatio =
    kind === "initial"
      ? scaled(params.initialMarginRatio, params.initialMultiplier) + params.initialAddon
      : kind === "maintenance"
        ? maintenance
        : maintenance + params.liquidationBuffer;
  return min(baseRatio + sizePremium(baseAbs, params.sizePremiumFactor), RATIO_PRECISION);
}

/** |base| × price, rounded up. */
export function notionalUp(base: bigint, price: bigint): bigint {
  return mulDiv(abs(base), price, BASE_PRECISION, "up");
}

/** Unrealised PnL including unsettled funding, rounded down. */
export function unrealizedPnl(pos: PositionRisk): bigint {
  return mulDiv(pos.baseAmount, pos.price, BASE_PRECISION, "down") + pos.quoteAmount + pos.unsettledFunding;
}

/**
 * `margin::initial_pnl`: the PnL initial health counts, the lesser of the PnL at the oracle
 * (`pnl`) and at the stable price: a gain counts only as fast as the stable price follows, a loss
 * at once.
 */
export function initialPnl(pos: PositionRisk, pnl: bigint = unrealizedPnl(pos)): bigint {
  if (pos.stablePrice === 0n || pos.stablePrice === pos.price) return pnl;
  return min(pnl, unrealizedPnl({ ...pos, price: pos.stablePrice }));
}

/** The base amount if every open order on the worse side filled. */
export function worstCaseBase(pos: Pick<PositionRisk, "baseAmount" | "openBids" | "openAsks">): bigint {
  const withBids = pos.baseAmount + pos.openBids;
  const withAsks = pos.baseAmount - pos.openAsks;
  return abs(withBids) >= abs(withAsks) ? withBids : withAsks;
}

/** `margin::margin_requirement`. */
export function marginRequirement(pos: PositionRisk, kind: HealthKind): bigint {
  const base = kind === "initial" ? worstCaseBase(pos) : pos.baseAmount;
  if (base === 0n) return 0n;
  return mulDiv(notionalUp(base, pos.price), marginRatio(pos.params, abs(base), kind), RATIO_PRECISION, "up");
}

/** `margin::compute_health`. */
export function computeHealth(collateral: bigint, positions: PositionRisk[]): HealthReport {
  const r: HealthReport = {
    collateral,
    unrealizedPnl: 0n,
    initialRequirement: 0n,
    maintenanceRequirement: 0n,
    liquidationRequirement: 0n,
    initialHealth: collateral,
    maintenanceHealth: collateral,
    liquidationHealth: collateral,
    equity: collateral,
  };
  for (const pos of positions) {
    const pnl = unrealizedPnl(pos);
    const initialReq = marginRequirement(pos, "initial");
    const maintReq = marginRequirement(pos, "maintenance");
    const liqReq = marginRequirement(pos, "liquidation");
    let initialContribution = initialPnl(pos, pnl) - initialReq;
    if (initialContribution > 0n) {
      const kept = RATIO_PRECISION - min(pos.params.pnlInitialHaircut, RATIO_PRECISION);
      initialContribution = divRound(initialContribution * kept, RATIO_PRECISION, "down");
    }
    r.unrealizedPnl += pnl;
    r.initialRequirement += initialReq;
    r.maintenanceRequirement += maintReq;
    r.liquidationRequirement += liqReq;
    r.initialHealth += initialContribution;
    r.maintenanceHealth += pnl - maintReq;
    r.liquidationHealth += pnl - liqReq;
  }
  r.equity = r.collateral + r.unrealizedPnl;
  return r;
}

// ---- liquidation ----

/** `liquidation::liquidator_fee_rate`: ppm after `idleSlots` without progress. */
export function liquidatorFeeRate(
  baseFee: bigint,
  maintenanceRatio: bigint,
  insuranceFee: bigint,
  idleSlots: bigint,
): bigint {
  const ceiling = max(maintenanceRatio - insuranceFee, 0n);
  const cap = baseFee + max(ceiling - baseFee, 0n) / 2n;
  const ramp = min(max(idleSlots - LIQUIDATION_FEE_RAMP_DELAY_SLOTS, 0n), LIQUIDATION_FEE_RAMP_SLOTS);
  return baseFee + ((cap - baseFee) * ramp) / LIQUIDATION_FEE_RAMP_SLOTS;
}

/** `liquidation::throttle_share`: ppm of a position one step may take. */
export function throttleShare(initial: bigint, perSlot: bigint, slots: bigint): bigint {
  return min(initial + perSlot * slots, RATIO_PRECISION);
}

export interface LiquidationInputs {
  positionBaseAbs: bigint;
  price: bigint;
  /** Maintenance ratio of the position at its current size (ppm). */
  maintenanceRatio: bigint;
  liquidationBuffer: bigint;
  liquidatorFee: bigint;
  insuranceFee: bigint;
  /** −(buffered maintenance health), > 0 when liquidatable. */
  deficit: bigint;
  equity: bigint;
  throttleShare: bigint;
  maxBase: bigint;
  stepSize: bigint;
}

export interface LiquidationStep {
  base: bigint;
  notional: bigint;
  liquidatorFee: bigint;
  insuranceFee: bigint;
}

const ROUNDING_PAD = 4n;

/** `liquidation::base_to_restore`. */
export function baseToRestore(i: LiquidationInputs): bigint {
  const gain = max(i.maintenanceRatio + i.liquidationBuffer - (i.liquidatorFee + i.insuranceFee), 0n);
  if (i.deficit === 0n) return 0n;
  if (gain === 0n || i.price === 0n) return i.positionBaseAbs;
  const base = mulDiv((i.deficit + ROUNDING_PAD) * BASE_PRECISION, RATIO_PRECISION, i.price * gain, "up");
  return min(base, i.positionBaseAbs);
}

/** `liquidation::plan_step`. */
export function planLiquidationStep(i: LiquidationInputs): LiquidationStep {
  const needed = baseToRestore(i);
  const positionNotional = mulDiv(i.positionBaseAbs, i.price, BASE_PRECISION, "down");
  const dust = positionNotional <= DUST_NOTIONAL || i.liquidationBuffer >= RATIO_PRECISION;
  const roundUp = (b: bigint, step: bigint) => (step <= 1n || b % step === 0n ? b : b + (step - (b % step)));
  let base = dust ? i.positionBaseAbs : roundUp(needed, i.stepSize);
  base = min(base, i.positionBaseAbs);
  if (!dust && i.deficit > DUST_NOTIONAL) {
    const allowed = mulDiv(i.positionBaseAbs, i.throttleShare, RATIO_PRECISION, "down");
    base = min(base, max(allowed, min(i.stepSize, i.positionBaseAbs)));
  }
  base = min(base, i.maxBase);
  if (base < i.positionBaseAbs) base -= base % max(i.stepSize, 1n);
  const notional = mulDiv(base, i.price, BASE_PRECISION, "down");
  const available = max(i.equity, 0n);
  const liquidatorFee = min(mulDiv(notional, i.liquidatorFee, RATIO_PRECISION, "down"), available);
  const insuranceFee = min(mulDiv(notional, i.insuranceFee, RATIO_PRECISION, "up"), available - liquidatorFee);
  return { base, notional, liquidatorFee, insuranceFee };
}
