// `health::account_health` off-chain: a decoded MarginAccount priced from decoded Markets.
import { activePositions, big, MarginAccount, Market, PerpPosition } from "./accounts";
import { Regime } from "./constants";
import {
  computeHealth,
  followStablePrice,
  fundingOwed,
  HealthReport,
  liquidationBufferInForce,
  MarginParams,
  PositionRisk,
} from "./math";

export interface MarketSnapshotInput {
  market: Market;
  /** Accepted oracle price, 1e6 quote per whole base. */
  price: bigint;
  /**
   * The slot the program reads the price at (`MarketSnapshot::at`): a fully valid price moves the
   * market's stable price toward it for the slots since `market.stablePriceSlot` (at most
   * `STABLE_PRICE_MAX_STEP_SLOTS` of them: 1% per stored observation). Omitted: the
   * stored stable price (`MarketSnapshot::at_hypothetical_price`, what a preview at a hypothetical price uses).
   */
  slot?: bigint;
  /**
   * Whether the price is fully valid (fresh for trading), default true. A stale price the program
   * accepts (liquidation) does not move the stable price (`controller::market::stable_price_at`).
   */
  valid?: boolean;
  /** Overrides the stable price the snapshot computes. */
  stablePrice?: bigint;
}

/**
 * `Market::margin_params`: risk ratios with the volatility multipliers and STRESSED add-on, and
 * the liquidation buffer that restores the regime's share of initial margin.
 */
export function marginParams(market: Market): MarginParams {
  const r = market.risk;
  const stressed = market.regime === Regime.Stressed;
  const params: MarginParams = {
    initialMarginRatio: BigInt(r.initialMarginRatio),
    maintenanceMarginRatio: BigInt(r.maintenanceMarginRatio),
    sizePremiumFactor: BigInt(r.sizePremiumFactor),
    pnlInitialHaircut: BigInt(r.pnlInitialHaircut),
    liquidationBuffer: BigInt(r.liquidationBuffer),
    initialMultiplier: BigInt(market.initialMultiplier),
    maintenanceMultiplier: BigInt(market.maintenanceMultiplier),
    initialAddon: stressed ? BigInt(r.stressedInitialAddon) : 0n,
  };
  const share = stressed ? r.stressedLiquidationInitialShare : r.liquidationInitialShare;
  return { ...params, liquidationBuffer: liquidationBufferInForce(params, BigInt(share)) };
}

/**
 * `controller::market::stable_price_at` (with a slot) or the stored stable price
 * (`MarketSnapshot::at_hypothetical_price`, without one): the price positive PnL counts at in initial health. An
 * unset stable price (0) starts at `price`.
 */
export function stablePriceAt(market: Market, price: bigint, slot?: bigint, valid = true): bigint {
  const stable = big(market.stablePrice);
  const stableSlot = big(market.stablePriceSlot);
  return followStablePrice(stable, stableSlot, price, slot !== undefined && valid ? slot : stableSlot);
}

/** The stable price of a snapshot (its override, else `stablePriceAt`). */
export function snapshotStablePrice(snap: MarketSnapshotInput): bigint {
  return snap.stablePrice ?? stablePriceAt(snap.market, snap.price, snap.slot, snap.valid ?? true);
}

/** `health::position_risk`: a position priced at its market snapshot, unsettled funding included. */
export function positionRisk(position: PerpPosition, snap: MarketSnapshotInput): PositionRisk {
  const base = big(position.baseAmount);
  const index = base >= 0n ? big(snap.market.cumulativeFundingLong) : big(snap.market.cumulativeFundingShort);
  return {
    baseAmount: base,
    quoteAmount: big(position.quoteAmount),
    unsettledFunding: fundingOwed(base, index, big(position.lastCumulativeFunding)),
    openBids: big(position.openBids),
    openAsks: big(position.openAsks),
    price: snap.price,
    stablePrice: snapshotStablePrice(snap),
    params: marginParams(snap.market),
  };
}

/** `health::account_health`: every held market must have a snapshot. */
export function accountHealth(account: MarginAccount, snapshots: Record<number, MarketSnapshotInput>): HealthReport {
  const priced = activePositions(account).map((p) => {
    const snap = snapshots[p.marketIndex];
    if (!snap) throw new Error(`missing market ${p.marketIndex}`);
    return positionRisk(p, snap);
  });
  return computeHealth(big(account.collateral), priced);
}
