// `health::account_health` off-chain: a decoded MarginAccount priced from decoded Markets.
import { activePositions, big, MarginAccount, Market, PerpPosition } from "./accounts";
import { Regime } from "./constants";
import { computeHealth, fundingOwed, HealthReport, MarginParams, PositionRisk } from "./math";

export interface MarketSnapshotInput {
  market: Market;
  /** Accepted oracle price, 1e6 quote per whole base. */
  price: bigint;
}

/** `Market::margin_params`: risk ratios with the volatility multipliers and STRESSED add-on. */
export function marginParams(market: Market): MarginParams {
  const r = market.risk;
  return {
    initialMarginRatio: BigInt(r.initialMarginRatio),
    maintenanceMarginRatio: BigInt(r.maintenanceMarginRatio),
    sizePremiumFactor: BigInt(r.sizePremiumFactor),
    pnlInitialHaircut: BigInt(r.pnlInitialHaircut),
    liquidationBuffer: BigInt(r.liquidationBuffer),
    initialMultiplier: BigInt(market.initialMultiplier),
    maintenanceMultiplier: BigInt(market.maintenanceMultiplier),
    initialAddon: market.regime === Regime.Stressed ? BigInt(r.stressedInitialAddon) : 0n,
  };
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
