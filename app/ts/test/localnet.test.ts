// End to end through the real program (target/deploy/margin_engine.so) on the project's localnet:
// exchange and two markets with mock Pyth prices, three traders, fills, withdrawals, rejections
// with their exact program errors, and a liquidation after an oracle crash. Every expected number
// comes from the program's rules (via the math mirror in src/math.ts, itself checked against the
// program's hand-checked unit tests) and is compared to decoded on-chain state and events.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import type * as SplToken from "@solana/spl-token" with { "resolution-mode": "import" };
import { Keypair, LAMPORTS_PER_SOL, PublicKey } from "@solana/web3.js";

import { BN } from "@coral-xyz/anchor";

import {
  accountHealth,
  activePositions,
  advanceSlots,
  BAD_DEBT_WITHDRAW_GATE_SLOTS,
  BPF_LOADER_UPGRADEABLE_PROGRAM_ID,
  followStablePrice,
  lockedProfitAt,
  PausedOperations,
  programDataPda,
  stablePriceAt,
  markAfterFill,
  advanceMark,
  fundingIndexDelta,
  fundingPayment,
  writeProgramData,
  applyTrade,
  big,
  BreakerMode,
  defaultRiskParams,
  errorCode,
  eventsNamed,
  feedIdFromByte,
  liquidatorFeeRate,
  MarginAccount,
  MarginAccountFlags,
  MarginEngineClient,
  marginParams,
  marginRatio,
  marketName,
  OracleConfig,
  OrderSide,
  ORDER_KIND,
  ORDER_TRIGGER,
  TIME_IN_FORCE,
  TRIGGER_KEEPER_FEE,
  planLiquidationStep,
  positionIn,
  programFailure,
  readClock,
  Regime,
  splitFee,
  structLayout,
  throttleShare,
  tradeQuote,
  tradingFee,
  USDC,
  writeMockPythPrice,
  IDL_JSON,
  decodeExchange,
  decodeMarginAccount,
  decodeMarketName,
  decodePriceUpdateV2,
  defaultOracleConfig,
  exchangeConfig,
  marketPda,
  openOrders,
  OrderFlags,
  PROGRAM_ID,
  PYTH_RECEIVER_PROGRAM_ID,
  SEEDS,
} from "../src";
import { Localnet, startLocalnet } from "../harness/localnet";

// @solana/spl-token 0.4's "types" export points at declarations TypeScript reads as ESM; its
// "require" export is CommonJS, which is what this compiled test loads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createAccount, createMint, getAccount, mintTo } = require("@solana/spl-token") as typeof SplToken;

const BASE = 1_000_000_000n;
const SOL = 0; // market indexes
const ETH = 1;
const SOL_PRICE = 100_000_000n; // $100
const ETH_PRICE = 2_000_000_000n; // $2,000
const SOL_CRASH_PRICE = 92_000_000n; // -8%: below maintenance for the levered long, inside the soft band

interface Trader {
  name: string;
  kp: Keypair;
  wallet: PublicKey; // collateral token account
  account: PublicKey; // margin account
}

async function expectProgramError(promise: Promise<unknown>, name: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    const failure = programFailure(err);
    const logs = (err as { logs?: string[] })?.logs;
    assert.ok(
      failure,
      `expected program error ${name}, got: ${err instanceof Error ? err.message : String(err)}${logs ? `\nlogs:\n${logs.join("\n")}` : ""}`,
    );
    assert.equal(failure.name, name, `logs:\n${failure.logs.join("\n")}`);
    assert.equal(failure.number, errorCode(name));
    return true;
  });
}

describe("margin engine on localnet", () => {
  let ln: Localnet;
  let client: MarginEngineClient;
  const payer = Keypair.generate();
  const governance = Keypair.generate();
  const guardian = Keypair.generate();
  let mint: PublicKey;
  let alice: Trader; // taker, goes long, gets liquidated
  let bob: Trader; // maker, goes short
  let keeper: Trader; // filler and liquidator
  let carol: Trader; // taker of placeAndTake, owner of a stop
  let dave: Trader; // its maker
  const pyth = [Keypair.generate().publicKey, Keypair.generate().publicKey];
  const feeds = [feedIdFromByte(1), feedIdFromByte(2)];
  const prices: Record<number, bigint> = { [SOL]: SOL_PRICE, [ETH]: ETH_PRICE };
  /** Publish time of the last price written per market. */
  const published: Record<number, bigint> = {};

  const setPrice = async (market: number, price: bigint) => {
    prices[market] = price;
    const update = await writeMockPythPrice(ln.connection, pyth[market], { feedId: feeds[market], price });
    published[market] = update.publishTime;
    return update;
  };
  /** Re-publishes both prices "now", so no step runs into the trading staleness limit. */
  const freshPrices = async () => {
    await setPrice(SOL, prices[SOL]);
    await setPrice(ETH, prices[ETH]);
  };
  const waitForSlot = async (slot: bigint) => {
    for (let i = 0; i < 100 && (await readClock(ln.connection)).slot < slot; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok((await readClock(ln.connection)).slot >= slot, `clock reached slot ${slot}`);
  };
  const tokenBalance = async (address: PublicKey) => (await getAccount(ln.connection, address, "confirmed")).amount;
  const margin = (t: Trader) => client.fetchMarginAccount(t.account);
  /**
   * Market snapshots at the current prices. With `slot`: as an instruction at that slot sees them
   * (each stable price followed to it); without: the stored stable prices.
   */
  const snapshots = async (slot?: bigint) => ({
    [SOL]: { market: await client.fetchMarket(SOL), price: prices[SOL], slot },
    [ETH]: { market: await client.fetchMarket(ETH), price: prices[ETH], slot },
  });
  /** The slot a confirmed transaction executed in (its Clock slot). */
  const txSlot = async (signature: string) => {
    const tx = await ln.connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
    assert.ok(tx, `transaction ${signature} found`);
    return BigInt(tx.slot);
  };

  /** vault == Σ collateral + Σ position quote + Σ funding pools + fee pool, and the aggregates agree. */
  const assertConservation = async () => {
    const exchange = await client.fetchExchange();
    const vault = await tokenBalance(client.collateralVault());
    // Every margin account the suite opened (carol and dave open theirs in the last test).
    const opened = await Promise.all(
      [alice, bob, keeper, carol, dave].map(async (t) => ((await client.fetchMarginAccount(t.account).catch(() => null)) ? t : null)),
    );
    const accounts = await Promise.all(opened.filter((t): t is Trader => t !== null).map(margin));
    const markets = await Promise.all([SOL, ETH].map((i) => client.fetchMarket(i)));
    const collateral = accounts.reduce((s, a) => s + big(a.collateral), 0n);
    let quote = 0n;
    const baseByMarket = [0n, 0n];
    for (const a of accounts) {
      for (const p of activePositions(a)) {
        quote += big(p.quoteAmount);
        baseByMarket[p.marketIndex] += big(p.baseAmount);
      }
    }
    assert.equal(big(exchange.totalCollateral), collateral, "exchange.total_collateral == Σ collateral");
    assert.deepEqual(baseByMarket, [0n, 0n], "Σ base == 0 in every market");
    for (const m of markets) assert.equal(big(m.openInterestLong), big(m.openInterestShort), "OI long == short");
    const funding = markets.reduce((s, m) => s + big(m.fundingPool), 0n);
    assert.equal(
      markets.reduce((s, m) => s + big(m.totalPositionQuote), 0n),
      quote,
      "Σ market quote == Σ position quote",
    );
    assert.equal(BigInt(vault), collateral + quote + funding + big(exchange.feePool), "vault conservation");
  };

  /**
   * Runs a step; when it fails and the localnet process panicked, says so first (its requests then
   * fail as "fetch failed", which is the network process's failure, not the client's).
   */
  const diagnosed = (fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      await new Promise((r) => setTimeout(r, 200)); // let its stderr arrive
      const panics = ln?.panics() ?? [];
      const died = ln?.exitStatus();
      if (panics.length > 0 || died) {
        const message = err instanceof Error ? err.message : String(err);
        throw new Error(
          `the localnet process ${died ?? "panicked"} (log: ${ln.logPath}):\n${panics.join("\n")}\n` +
            `--- so this step failed with: ${message}`,
        );
      }
      throw err;
    }
  };

  before(
    diagnosed(async () => {
      ln = await startLocalnet();
      const connection = ln.connection;
      const airdrop = await connection.requestAirdrop(payer.publicKey, 100 * LAMPORTS_PER_SOL);
      await connection.confirmTransaction(
        { signature: airdrop, ...(await connection.getLatestBlockhash()) },
        "confirmed",
      );
      client = MarginEngineClient.connect(connection, payer);
      mint = await createMint(connection, payer, payer.publicKey, null, 6, Keypair.generate(), {
        commitment: "confirmed",
      });
      const newTrader = async (name: string, usdc: bigint): Promise<Trader> => {
        const kp = Keypair.generate();
        const wallet = await createAccount(connection, payer, mint, kp.publicKey, Keypair.generate(), {
          commitment: "confirmed",
        });
        await mintTo(connection, payer, mint, wallet, payer, usdc, [], { commitment: "confirmed" });
        return { name, kp, wallet, account: client.marginAccountAddress(kp.publicKey, 0) };
      };
      alice = await newTrader("alice", 1_000n * USDC);
      bob = await newTrader("bob", 5_000n * USDC);
      keeper = await newTrader("keeper", 1_000n * USDC);
      carol = await newTrader("carol", 2_000n * USDC);
      dave = await newTrader("dave", 2_000n * USDC);
    }),
  );

  after(async () => {
    if (!ln) return;
    const died = ln.exitStatus();
    await ln.stop();
    // A failure above that reads "fetch failed" is the network process, not the client: say so.
    const panics = ln.panics();
    assert.equal(died, undefined, `the localnet process ${died} during the run (log: ${ln.logPath})`);
    assert.deepEqual(
      panics,
      [],
      `the localnet process panicked during the run (log: ${ln.logPath}):\n${panics.join("\n")}`,
    );
  });

  it(
    "initializeExchange: only the program's upgrade authority; exchange and vaults, decoded field by field",
    diagnosed(async () => {
      const init = () =>
        client.initializeExchange({
          authority: governance,
          collateralMint: mint,
          config: exchangeConfig({
            guardian: guardian.publicKey,
            insuranceUnstakeCooldownSlots: 1_000,
            insuranceRevenueFloor: 100n * USDC,
            riskTimelockSlots: 500,
          }),
        });
      // The localnet loads the program non-upgradeably: write its ProgramData header (as the
      // upgradeable loader would). Naming someone other than the payer as upgrade authority, the
      // program refuses: nobody but the deployer can install governance.
      const programData = await writeProgramData(ln.rpcUrl, governance.publicKey);
      assert.ok(programData.equals(programDataPda()) && programData.equals(client.programDataAddress()));
      const stored = await ln.connection.getAccountInfo(programData, "confirmed");
      assert.ok(stored && stored.owner.equals(BPF_LOADER_UPGRADEABLE_PROGRAM_ID));
      await expectProgramError(init(), "NotUpgradeAuthority");
      assert.equal(await ln.connection.getAccountInfo(client.exchangeAddress(), "confirmed"), null);
      await writeProgramData(ln.rpcUrl, payer.publicKey);
      const { signature } = await init();
      const exchangeAddress = client.exchangeAddress();
      const ex = await client.fetchExchange();
      assert.ok(ex.authority.equals(governance.publicKey));
      assert.ok(ex.pendingAuthority.equals(PublicKey.default));
      assert.ok(ex.guardian.equals(guardian.publicKey));
      assert.ok(ex.collateralMint.equals(mint));
      assert.ok(ex.collateralVault.equals(client.collateralVault()));
      assert.ok(ex.insuranceVault.equals(client.insuranceVault()));
      assert.equal(big(ex.totalCollateral), 0n);
      assert.equal(big(ex.feePool), 0n);
      assert.equal(big(ex.insuranceUnstakeCooldownSlots), 1_000n);
      assert.equal(big(ex.insuranceRevenueFloor), 100n * USDC);
      assert.equal(big(ex.riskTimelockSlots), 500n);
      assert.equal(big(ex.bankruptAccounts), 0n);
      assert.equal(ex.marketCount, 0);
      assert.equal(ex.pausedOperations, 0);
      assert.equal(ex.collateralDecimals, 6);
      assert.equal(ex.bump, PublicKey.findProgramAddressSync([SEEDS.exchange], PROGRAM_ID)[1]);
      assert.equal(ex.collateralVaultBump, PublicKey.findProgramAddressSync([SEEDS.collateralVault], PROGRAM_ID)[1]);
      assert.equal(ex.insuranceVaultBump, PublicKey.findProgramAddressSync([SEEDS.insuranceVault], PROGRAM_ID)[1]);
      // The zero-copy account is exactly discriminator + repr(C) size, owned by the program.
      const info = await ln.connection.getAccountInfo(exchangeAddress, "confirmed");
      assert.ok(info && info.owner.equals(PROGRAM_ID));
      assert.equal(info.data.length, 8 + structLayout(IDL_JSON, "Exchange").size);
      assert.deepEqual(decodeExchange(info.data), ex);
      for (const vault of [client.collateralVault(), client.insuranceVault()]) {
        const t = await getAccount(ln.connection, vault, "confirmed");
        assert.ok(t.mint.equals(mint) && t.owner.equals(exchangeAddress));
        assert.equal(t.amount, 0n);
      }
      const [event] = eventsNamed(await client.eventsOf(signature), "exchangeInitialized");
      assert.ok(event.authority.equals(governance.publicKey) && event.collateralMint.equals(mint));
    }),
  );

  it(
    "createMarket: two markets on mock Pyth PriceUpdateV2 accounts",
    diagnosed(async () => {
      await freshPrices();
      const stored = await ln.connection.getAccountInfo(pyth[SOL], "confirmed");
      assert.ok(stored && stored.owner.equals(PYTH_RECEIVER_PROGRAM_ID));
      const update = decodePriceUpdateV2(stored.data);
      assert.equal(update.price, SOL_PRICE * 100n);
      assert.equal(update.exponent, -8);
      assert.ok(update.postedSlot <= (await readClock(ln.connection)).slot);

      const oracle = (i: number): OracleConfig => ({
        ...defaultOracleConfig(feeds[i]),
        maxStalenessSlotsTrading: 150,
        maxStalenessSlotsMargin: 1_500,
        maxStalenessSeconds: 600,
      });
      // SOL: tick of one native unit, so quotes round (the unit between buyer and seller goes to the fee pool).
      const solRisk = { ...defaultRiskParams(), tickSize: new BN(1) };
      const sol = await client.createMarket({
        authority: governance,
        name: marketName("SOL-PERP"),
        oracle: oracle(SOL),
        risk: solRisk,
        pyth: pyth[SOL],
      });
      const eth = await client.createMarket({
        authority: governance,
        name: marketName("ETH-PERP"),
        oracle: oracle(ETH),
        risk: defaultRiskParams(),
        pyth: pyth[ETH],
      });
      assert.equal(sol.marketIndex, SOL);
      assert.equal(eth.marketIndex, ETH);
      assert.ok(sol.market.equals(marketPda(SOL)) && eth.market.equals(marketPda(ETH)));

      const m = await client.fetchMarket(SOL);
      assert.equal(decodeMarketName(m.name), "SOL-PERP");
      assert.equal(m.marketIndex, SOL);
      assert.equal(m.status, 0);
      assert.equal(m.bump, PublicKey.findProgramAddressSync([SEEDS.market, Buffer.from([0, 0])], PROGRAM_ID)[1]);
      for (const [key, value] of Object.entries(solRisk)) {
        assert.equal(String(m.risk[key as keyof typeof m.risk]), String(value), `risk.${key}`);
      }
      assert.deepEqual(m.oracle.pythFeedId, Array.from(feeds[SOL]));
      assert.ok(m.oracle.switchboardFeed.equals(PublicKey.default));
      assert.deepEqual(
        [
          m.oracle.maxStalenessSlotsMargin,
          m.oracle.maxStalenessSlotsTrading,
          m.oracle.maxStalenessSeconds,
          m.oracle.maxConfidenceRatio,
          m.oracle.maxAgeSecondsLiquidation,
          m.oracle.fallbackMaxDivergence,
        ],
        [1_500, 150, 600, 20_000, 600, 200_000],
      );
      // No price accepted yet: no publish time remembered, stable price unset (0 = the oracle).
      assert.equal(big(m.lastPythPublishTime), 0n);
      assert.equal(big(m.lastSwitchboardPublishTime), 0n);
      assert.equal(big(m.stablePrice), 0n);
      assert.equal(big(m.stablePriceSlot), 0n);
      assert.equal(m.initialMultiplier, 1_000_000);
      assert.equal(m.maintenanceMultiplier, 1_000_000);
      assert.equal(m.breakerStatus, BreakerMode.Normal);
      assert.equal(big(m.openInterestLong), 0n);
      assert.equal(m.hasPendingRisk, 0);
      const info = await ln.connection.getAccountInfo(sol.market, "confirmed");
      assert.equal(info!.data.length, 8 + structLayout(IDL_JSON, "Market").size);

      assert.equal((await client.fetchExchange()).marketCount, 2);
      const all = await client.fetchAllMarkets();
      assert.deepEqual(
        all.map((x) => decodeMarketName(x.account.name)),
        ["SOL-PERP", "ETH-PERP"],
      );
      const [created] = eventsNamed(await client.eventsOf(eth.signature), "marketCreated");
      assert.equal(created.marketIndex, ETH);
      assert.equal(created.initialMarginRatio, 100_000);
      assert.equal(created.maintenanceMarginRatio, 50_000);
    }),
  );

  it(
    "createMarginAccount + deposit for three traders",
    diagnosed(async () => {
      const deposits: [Trader, bigint][] = [
        [alice, 150n * USDC],
        [bob, 2_000n * USDC],
        [keeper, 500n * USDC],
      ];
      for (const [t, amount] of deposits) {
        const { marginAccount } = await client.createMarginAccount(t.kp);
        assert.ok(marginAccount.equals(t.account));
        const { signature } = await client.deposit({
          depositor: t.kp,
          marginAccount: t.account,
          source: t.wallet,
          amount,
        });
        const [event] = eventsNamed(await client.eventsOf(signature), "collateralDeposited");
        assert.ok(event.marginAccount.equals(t.account) && event.depositor.equals(t.kp.publicKey));
        assert.equal(big(event.amount), amount);
        assert.equal(big(event.collateralAfter), amount);
      }
      const a = await margin(alice);
      assert.ok(a.owner.equals(alice.kp.publicKey));
      assert.ok(a.delegate.equals(PublicKey.default));
      assert.equal(big(a.collateral), 150n * USDC);
      assert.equal(a.subAccountId, 0);
      assert.equal(
        a.bump,
        PublicKey.findProgramAddressSync(
          [SEEDS.marginAccount, alice.kp.publicKey.toBuffer(), Buffer.from([0, 0])],
          PROGRAM_ID,
        )[1],
      );
      assert.equal(a.flags, 0);
      assert.equal(big(a.nextOrderId), 0n);
      assert.equal(big(a.lockedProfit), 0n);
      assert.equal(big(a.lockedProfitSlot), 0n);
      assert.equal(a.lossMarketIndex, 0);
      assert.equal(a.positions.length, 8);
      assert.equal(a.orders.length, 16);
      assert.equal(activePositions(a).length, 0);
      assert.equal(openOrders(a).length, 0);
      assert.ok(big(a.lastActiveSlot) > 0n);
      const raw = await ln.connection.getAccountInfo(alice.account, "confirmed");
      assert.equal(raw!.data.length, 8 + structLayout(IDL_JSON, "MarginAccount").size);
      assert.deepEqual(decodeMarginAccount(raw!.data), a);

      assert.equal(await tokenBalance(alice.wallet), 850n * USDC);
      assert.equal(await tokenBalance(client.collateralVault()), 2_650n * USDC);
      assert.equal(big((await client.fetchExchange()).totalCollateral), 2_650n * USDC);
      assert.equal((await client.fetchAllMarginAccounts()).length, 3);
      const mine = await client.fetchAllMarginAccounts(alice.kp.publicKey);
      assert.equal(mine.length, 1);
      assert.ok(mine[0].address.equals(alice.account));

      await expectProgramError(
        client.deposit({ depositor: alice.kp, marginAccount: alice.account, source: alice.wallet, amount: 0 }),
        "ZeroAmount",
      );
      await expectProgramError(
        client.deposit({ depositor: alice.kp, marginAccount: alice.account, source: bob.wallet, amount: 1 }),
        "SourceNotOwnedBySigner",
      );
      await assertConservation();
    }),
  );

  it(
    "placeOrder / cancelOrder: resting order decoded, wrong signer refused, margin enforced",
    diagnosed(async () => {
      await freshPrices();
      const { orderId, signature } = await client.placeOrder({
        authority: alice.kp,
        marginAccount: alice.account,
        order: {
          marketIndex: SOL,
          side: OrderSide.Bid,
          price: 90_000_000n,
          baseAmount: BASE,
          postOnly: true,
          clientOrderId: 77n,
        },
      });
      assert.equal(orderId, 0n);
      let a = await margin(alice);
      const [order] = openOrders(a);
      assert.equal(openOrders(a).length, 1);
      assert.equal(big(order.orderId), 0n);
      assert.equal(big(order.clientOrderId), 77n);
      assert.equal(big(order.price), 90_000_000n);
      assert.equal(big(order.baseAmount), BASE);
      assert.equal(order.side, OrderSide.Bid);
      assert.equal(order.flags, OrderFlags.PostOnly);
      assert.equal(order.marketIndex, SOL);
      assert.equal(big(positionIn(a, SOL)!.openBids), BASE);
      assert.equal(big(a.nextOrderId), 1n);
      const [placed] = eventsNamed(await client.eventsOf(signature), "orderPlaced");
      assert.equal(big(placed.orderId), 0n);
      assert.equal(big(placed.clientOrderId), 77n);

      await expectProgramError(
        client.cancelOrder({ authority: bob.kp, marginAccount: alice.account, orderId }),
        "NotOwnerOrDelegate",
      );
      await expectProgramError(
        client.cancelOrder({ authority: alice.kp, marginAccount: alice.account, orderId: 99 }),
        "OrderNotFound",
      );
      await client.cancelOrder({ authority: alice.kp, marginAccount: alice.account, orderId });
      a = await margin(alice);
      assert.equal(openOrders(a).length, 0);
      assert.equal(positionIn(a, SOL), undefined, "the position slot is empty again");

      // 100 SOL ($10,000, 10% initial = $1,000) against $150 of collateral.
      await expectProgramError(
        client.placeOrder({
          authority: alice.kp,
          marginAccount: alice.account,
          order: { marketIndex: SOL, side: OrderSide.Bid, price: SOL_PRICE, baseAmount: 100n * BASE },
        }),
        "InsufficientInitialMargin",
      );
      await expectProgramError(
        client.placeOrder({
          authority: alice.kp,
          marginAccount: alice.account,
          order: { marketIndex: SOL, side: OrderSide.Bid, price: SOL_PRICE, baseAmount: BASE + 1n },
        }),
        "InvalidOrderSize",
      );
    }),
  );

  /** Places a maker and a crossing taker order and lets the keeper fill them; returns deltas to check. */
  const trade = async (marketIndex: number, makerPrice: bigint, takerPrice: bigint, base: bigint) => {
    await freshPrices();
    const maker = await client.placeOrder({
      authority: bob.kp,
      marginAccount: bob.account,
      order: { marketIndex, side: OrderSide.Ask, price: makerPrice, baseAmount: base },
    });
    const taker = await client.placeOrder({
      authority: alice.kp,
      marginAccount: alice.account,
      order: { marketIndex, side: OrderSide.Bid, price: takerPrice, baseAmount: base },
    });
    return {
      fill: {
        marketIndex,
        taker: alice.account,
        takerOrderId: taker.orderId,
        maker: bob.account,
        makerOrderId: maker.orderId,
        maxBaseAmount: base,
      },
    };
  };

  const state = async () => ({
    alice: await margin(alice),
    bob: await margin(bob),
    keeper: await margin(keeper),
    exchange: await client.fetchExchange(),
    insurance: await tokenBalance(client.insuranceVault()),
    vault: await tokenBalance(client.collateralVault()),
    markets: [await client.fetchMarket(SOL), await client.fetchMarket(ETH)],
  });

  /**
   * What a fill does to its market besides positions: the oracle price (valid) moves the stable
   * price and is remembered by publish time (no older one is accepted again), and the mark
   * (`mark_after_fill`): level and TWAP are carried from the last fill to this slot (the level
   * decaying toward the oracle TWAP), then the fill pulls the level toward its price by its share
   * of the larger of open interest before and after it; the fill adds nothing to the TWAP itself.
   */
  const assertFillMarketState = (
    before: Awaited<ReturnType<typeof state>>["markets"][number],
    m: Awaited<ReturnType<typeof state>>["markets"][number],
    price: bigint,
    base: bigint,
  ) => {
    const slot = big(m.markTwapSlot);
    assert.equal(big(m.oracleTwapSlot), slot, "oracle TWAP and mark TWAP updated in the fill's slot");
    assert.equal(big(m.lastPythPublishTime), published[m.marketIndex], "the accepted update's publish time");
    assert.equal(big(m.stablePriceSlot), slot);
    assert.equal(
      big(m.stablePrice),
      followStablePrice(big(before.stablePrice), big(before.stablePriceSlot), big(m.lastOraclePrice), slot),
    );
    const oiBefore = big(before.openInterestLong);
    const oiAfter = big(m.openInterestLong);
    const expected = markAfterFill(
      big(before.markPrice),
      big(before.markTwap),
      big(before.markTwapSlot),
      big(m.oracleTwap),
      price,
      base,
      oiAfter > oiBefore ? oiAfter : oiBefore,
      slot,
      BigInt(m.risk.fundingPeriodSlots),
    );
    assert.equal(big(m.markPrice), expected.level, "mark level pulled by the fill's share of open interest");
    assert.equal(big(m.markTwap), expected.twap, "mark TWAP: the carried level's time average, not the fill");
    return expected;
  };

  /** Checks one fill against the program's rules: maker's price, rounded quotes, fees and their split. */
  const checkFill = async (
    before: Awaited<ReturnType<typeof state>>,
    events: Awaited<ReturnType<MarginEngineClient["fillOrders"]>>["events"],
    marketIndex: number,
    price: bigint,
    base: bigint,
  ) => {
    const market = await client.fetchMarket(marketIndex);
    const { paid, received } = tradeQuote(base, price);
    const takerFee = tradingFee(paid, market.risk.takerFee);
    const makerFee = tradingFee(paid, market.risk.makerFee);
    const split = splitFee(takerFee + makerFee, market.risk.feeInsuranceShare, market.risk.fillerRewardShare);
    const [filled] = eventsNamed(events, "orderFilled");
    assert.equal(filled.marketIndex, marketIndex);
    assert.ok(filled.taker.equals(alice.account) && filled.maker.equals(bob.account));
    assert.equal(filled.takerSide, OrderSide.Bid);
    assert.equal(big(filled.price), price, "fills at the maker's price");
    assert.equal(big(filled.baseAmount), base);
    assert.equal(big(filled.takerFee), takerFee);
    assert.equal(big(filled.makerFee), makerFee);
    assert.equal(big(filled.insuranceShare), split.insurance);
    assert.equal(big(filled.fillerReward), split.filler);
    assert.equal(big(filled.protocolShare), split.protocol);

    const after = await state();
    const pos = (a: MarginAccount) => positionIn(a, marketIndex)!;
    const beforeBase = (a: MarginAccount) =>
      positionIn(a, marketIndex) ? big(positionIn(a, marketIndex)!.baseAmount) : 0n;
    const beforeQuote = (a: MarginAccount) =>
      positionIn(a, marketIndex) ? big(positionIn(a, marketIndex)!.quoteAmount) : 0n;
    assert.equal(big(pos(after.alice).baseAmount), beforeBase(before.alice) + base);
    assert.equal(
      big(pos(after.alice).quoteAmount),
      beforeQuote(before.alice) - paid,
      "buyer pays the rounded-up quote",
    );
    assert.equal(big(pos(after.bob).baseAmount), beforeBase(before.bob) - base);
    assert.equal(
      big(pos(after.bob).quoteAmount),
      beforeQuote(before.bob) + received,
      "seller gets the rounded-down quote",
    );
    assert.equal(big(pos(after.alice).openBids), 0n);
    assert.equal(big(pos(after.bob).openAsks), 0n);
    assert.equal(openOrders(after.alice).length, 0);
    assert.equal(openOrders(after.bob).length, 0);
    assert.equal(big(after.alice.collateral), big(before.alice.collateral) - takerFee);
    assert.equal(big(after.bob.collateral), big(before.bob.collateral) - makerFee);
    assert.equal(big(after.keeper.collateral), big(before.keeper.collateral) + split.filler, "filler reward");
    assert.equal(big(after.exchange.feePool), big(before.exchange.feePool) + split.protocol + (paid - received));
    assert.equal(after.insurance, before.insurance + split.insurance, "insurance share moved to the insurance vault");
    assert.equal(after.vault, before.vault - split.insurance);
    const m = await client.fetchMarket(marketIndex);
    assert.equal(big(m.openInterestLong), big(pos(after.alice).baseAmount));
    assertFillMarketState(before.markets[marketIndex], m, price, base);
    await assertConservation();
  };

  it(
    "fillOrders on ETH: positions, fees, filler reward and insurance share",
    diagnosed(async () => {
      const { fill } = await trade(ETH, ETH_PRICE, ETH_PRICE, BASE / 20n);
      const before = await state();
      const { events } = await client.fillOrders({ filler: keeper.kp, fillerAccount: keeper.account, fill });
      await checkFill(before, events, ETH, ETH_PRICE, BASE / 20n);
    }),
  );

  it(
    "fillOrders on SOL: taker's limit above the maker's, odd price rounds, other market passed as remaining accounts",
    diagnosed(async () => {
      const base = 333n * (BASE / 100n); // 3.33 SOL
      const makerPrice = 100_000_007n;
      const { fill } = await trade(SOL, makerPrice, 101_000_000n, base);
      // Both accounts hold ETH: without its market group the health check cannot run.
      const noGroups = await client.fillOrdersIx({
        filler: keeper.kp.publicKey,
        fillerAccount: keeper.account,
        fill,
        remaining: [],
      });
      await expectProgramError(client.send([noGroups], [keeper.kp]), "MissingMarketAccounts");
      const groups = client.marketGroups([await margin(alice), await margin(bob)], SOL);
      assert.deepEqual(
        groups.map((g) => g.pubkey.toBase58()),
        [marketPda(ETH).toBase58(), pyth[ETH].toBase58()],
      );

      const before = await state();
      const { events } = await client.fillOrders({ filler: keeper.kp, fillerAccount: keeper.account, fill });
      const { paid, received } = tradeQuote(base, makerPrice);
      assert.equal(paid - received, 1n, "this fill rounds");
      await checkFill(before, events, SOL, makerPrice, base);
    }),
  );

  it(
    "withdraw: owner only, settled collateral only, exactly down to initial health 0",
    diagnosed(async () => {
      await freshPrices();
      const a = await margin(alice);
      const health = accountHealth(a, await snapshots());
      assert.ok(health.initialHealth > 0n && health.initialHealth < big(a.collateral));
      const to = { marginAccount: alice.account, destination: alice.wallet };

      await expectProgramError(
        client.withdraw({ owner: keeper.kp, ...to, destination: keeper.wallet, amount: 1 }),
        "NotAccountOwner",
      );
      await expectProgramError(
        client.withdraw({ owner: alice.kp, ...to, amount: big(a.collateral) + 1n }),
        "InsufficientCollateral",
      );
      await expectProgramError(
        client.withdraw({ owner: alice.kp, ...to, amount: health.initialHealth + 1n }),
        "InsufficientInitialMargin",
      );
      const noGroups = await client.withdrawIx({ owner: alice.kp.publicKey, ...to, amount: 1, healthAccounts: [] });
      await expectProgramError(client.send([noGroups], [alice.kp]), "MissingMarketAccounts");

      const walletBefore = await tokenBalance(alice.wallet);
      const vaultBefore = await tokenBalance(client.collateralVault());
      const { signature } = await client.withdraw({ owner: alice.kp, ...to, amount: health.initialHealth });
      const [event] = eventsNamed(await client.eventsOf(signature), "collateralWithdrawn");
      assert.equal(big(event.amount), health.initialHealth);
      assert.equal(big(event.initialHealthAfter), 0n, "the program's own health agrees with the client's preview");
      const after = await margin(alice);
      assert.equal(big(after.collateral), big(a.collateral) - health.initialHealth);
      assert.equal(big(event.collateralAfter), big(after.collateral));
      assert.equal(await tokenBalance(alice.wallet), walletBefore + health.initialHealth);
      assert.equal(await tokenBalance(client.collateralVault()), vaultBefore - health.initialHealth);
      await assertConservation();
    }),
  );

  it(
    "insurance fund: stake, warm-up, unstake request, InsuranceStake decoded",
    diagnosed(async () => {
      const vaultBefore = await tokenBalance(client.insuranceVault());
      assert.ok(vaultBefore > 0n, "fee shares already went to the insurance vault");
      const exBefore = await client.fetchExchange();
      assert.equal(big(exBefore.insuranceTotalShares), 0n);
      const amount = 100n * USDC;
      const staking = await client.stakeInsurance({ owner: bob.kp, source: bob.wallet, amount });
      const { events } = staking;
      // Revenue that arrived before anyone staked becomes the protocol's shares, one per unit.
      const ex = await client.fetchExchange();
      assert.equal(big(ex.insuranceProtocolShares), vaultBefore);
      assert.equal(big(ex.insuranceTotalShares), vaultBefore + amount);
      const [staked] = eventsNamed(events, "insuranceStaked");
      assert.equal(big(staked.shares), amount);
      assert.equal(await tokenBalance(client.insuranceVault()), vaultBefore + amount);

      let stake = await client.fetchInsuranceStake(bob.kp.publicKey);
      assert.ok(stake.owner.equals(bob.kp.publicKey));
      assert.equal(big(stake.shares), amount);
      assert.equal(big(stake.unstakeShares), 0n);
      assert.equal(
        stake.bump,
        PublicKey.findProgramAddressSync([SEEDS.insuranceStake, bob.kp.publicKey.toBuffer()], PROGRAM_ID)[1],
      );
      const raw = await ln.connection.getAccountInfo(client.insuranceStakeAddress(bob.kp.publicKey), "confirmed");
      assert.equal(raw!.data.length, 8 + structLayout(IDL_JSON, "InsuranceStake").size);
      assert.equal(big(stake.lastStakeSlot), await txSlot(staking.signature), "last_stake_slot: the staking slot");

      // Fresh shares warm up for one cooldown (1,000 slots here) before they can be requested:
      // staking just ahead of a fee inflow means underwriting the fund for two cooldowns.
      await expectProgramError(client.requestUnstake({ owner: bob.kp, shares: amount / 2n }), "StakeStillWarmingUp");
      const cooldown = big(ex.insuranceUnstakeCooldownSlots);
      await advanceSlots(ln.connection, cooldown);
      assert.ok((await readClock(ln.connection)).slot >= big(stake.lastStakeSlot) + cooldown);

      const requested = await client.requestUnstake({ owner: bob.kp, shares: amount / 2n });
      const [req] = eventsNamed(requested.events, "unstakeRequested");
      stake = await client.fetchInsuranceStake(bob.kp.publicKey);
      assert.equal(big(stake.unstakeShares), amount / 2n);
      assert.equal(big(stake.unstakeValue), amount / 2n, "shares were priced 1:1");
      assert.equal(big(stake.unstakeRequestSlot), big(req.slot));
      await expectProgramError(client.requestUnstake({ owner: bob.kp, shares: 1 }), "UnstakeAlreadyRequested");
      await expectProgramError(client.unstakeInsurance({ owner: bob.kp, destination: bob.wallet }), "UnstakeCooldown");
    }),
  );

  it(
    "refreshMarket: only a fully valid price, never one older than the market already accepted",
    diagnosed(async () => {
      await freshPrices();
      const before = await client.fetchMarket(SOL);
      const { signature } = await client.refreshMarket(SOL);
      const slot = await txSlot(signature);
      let m = await client.fetchMarket(SOL);
      assert.equal(big(m.lastPythPublishTime), published[SOL]);
      assert.equal(big(m.lastOracleSlot), slot);
      assert.equal(big(m.stablePriceSlot), slot);
      assert.equal(big(m.stablePrice), followStablePrice(big(before.stablePrice), big(before.stablePriceSlot), SOL_PRICE, slot));

      // Posted 200 slots ago (trading limit 150, margin limit 1,500), published now: liquidation
      // would still take it, but refresh_market persists TWAP, volatility and breaker state and
      // takes only a valid price.
      const clock = await readClock(ln.connection);
      await writeMockPythPrice(ln.connection, pyth[SOL], {
        feedId: feeds[SOL],
        price: SOL_PRICE,
        postedSlot: clock.slot - 200n,
        publishTime: clock.unixTimestamp,
      });
      await expectProgramError(client.refreshMarket(SOL), "OracleStaleForTrading");
      // A genuine update published before the one the market accepted is a replay, however fresh
      // its posted slot.
      await writeMockPythPrice(ln.connection, pyth[SOL], {
        feedId: feeds[SOL],
        price: SOL_PRICE,
        postedSlot: clock.slot,
        publishTime: big(m.lastPythPublishTime) - 1n,
      });
      await expectProgramError(client.refreshMarket(SOL), "OracleReplayed");
      m = await client.fetchMarket(SOL);
      assert.equal(big(m.lastOracleSlot), slot, "refused prices changed nothing");
      await freshPrices();
    }),
  );

  it(
    "pauseOperations: the guardian may close only what adds risk or moves money out",
    diagnosed(async () => {
      for (const bits of [PausedOperations.Liquidation, PausedOperations.Deposit, PausedOperations.Funding]) {
        await expectProgramError(
          client.pauseOperations({ signer: guardian, operations: PausedOperations.Trading | bits }),
          "GuardianCannotPause",
        );
      }
      assert.equal((await client.fetchExchange()).pausedOperations, 0);
      const { events } = await client.pauseOperations({ signer: guardian, operations: PausedOperations.Withdraw });
      const [changed] = eventsNamed(events, "operationsChanged");
      assert.ok(changed.by.equals(guardian.publicKey));
      assert.deepEqual([changed.pausedBefore, changed.pausedAfter], [0, PausedOperations.Withdraw]);
      await freshPrices();
      await expectProgramError(
        client.withdraw({ owner: bob.kp, marginAccount: bob.account, destination: bob.wallet, amount: 1 }),
        "OperationPaused",
      );
      // Governance may close anything (here liquidation, which the guardian could not), and reopen.
      await client.pauseOperations({ signer: governance, operations: PausedOperations.Liquidation });
      assert.equal(
        (await client.fetchExchange()).pausedOperations,
        PausedOperations.Withdraw | PausedOperations.Liquidation,
      );
      await client.resumeOperations({
        authority: governance,
        operations: PausedOperations.Withdraw | PausedOperations.Liquidation,
      });
      assert.equal((await client.fetchExchange()).pausedOperations, 0);
    }),
  );

  it(
    "oracle crash: refreshMarket sees it, a third account liquidates the levered long",
    diagnosed(async () => {
      await freshPrices();
      await expectProgramError(
        client.liquidate({
          liquidator: keeper.kp,
          liquidatorAccount: keeper.account,
          target: alice.account,
          marketIndex: SOL,
        }),
        "AccountNotLiquidatable",
      );

      // Crash SOL by 8% through the admin RPC (inside the 15% soft band: the breaker stays NORMAL).
      await setPrice(SOL, SOL_CRASH_PRICE);
      const marketBefore = await client.fetchMarket(SOL);
      const regimeBefore = marketBefore.regime;
      // The volatility state ignores a second price within one slot (the slot's first price is the
      // return base): let the clock move past the last price the market saw.
      await waitForSlot(big(marketBefore.volLastSlot) + 1n);
      const refreshed = await client.refreshMarket(SOL);
      const m = await client.fetchMarket(SOL);
      assert.equal(big(m.lastOraclePrice), SOL_CRASH_PRICE);
      // The stable price follows by at most 0.005% of itself a slot: it still sits near $100.
      const refreshSlot = await txSlot(refreshed.signature);
      assert.equal(
        big(m.stablePrice),
        followStablePrice(big(marketBefore.stablePrice), big(marketBefore.stablePriceSlot), SOL_CRASH_PRICE, refreshSlot),
      );
      assert.ok(big(m.stablePrice) > SOL_CRASH_PRICE + 7_000_000n, "the stable price lags the crash");
      assert.equal(m.breakerStatus, BreakerMode.Normal);
      assert.equal(m.regime, Regime.Stressed, "an 8% one-step return is a jump (regime_jump 5%)");
      if (regimeBefore === Regime.Calm) {
        const [changed] = eventsNamed(refreshed.events, "regimeChanged");
        assert.equal(changed.regime, Regime.Stressed);
      }

      const before = await state();
      const snaps = await snapshots();
      const health = accountHealth(before.alice, snaps);
      assert.ok(health.maintenanceHealth < 0n, "below maintenance");
      assert.ok(health.equity > 0n, "not bankrupt");
      const position = positionIn(before.alice, SOL)!;
      const baseAbs = big(position.baseAmount);
      const risk = snaps[SOL].market.risk;
      const feeRate = liquidatorFeeRate(
        BigInt(risk.liquidationFee),
        BigInt(risk.maintenanceMarginRatio),
        BigInt(risk.insuranceFee),
        0n,
      );
      const step = planLiquidationStep({
        positionBaseAbs: baseAbs,
        price: SOL_CRASH_PRICE,
        maintenanceRatio: marginRatio(marginParams(snaps[SOL].market), baseAbs, "maintenance"),
        liquidationBuffer: BigInt(risk.liquidationBuffer),
        liquidatorFee: feeRate,
        insuranceFee: BigInt(risk.insuranceFee),
        deficit: health.liquidationHealth < 0n ? -health.liquidationHealth : 0n,
        equity: health.equity,
        throttleShare: throttleShare(
          BigInt(risk.liquidationThrottleInitial),
          BigInt(risk.liquidationThrottlePerSlot),
          0n,
        ),
        maxBase: 2n ** 64n - 1n,
        stepSize: big(risk.stepSize),
      });
      assert.ok(step.base > 0n && step.base < baseAbs, "a partial step");

      const { events } = await client.liquidate({
        liquidator: keeper.kp,
        liquidatorAccount: keeper.account,
        target: alice.account,
        marketIndex: SOL,
      });
      const [stepped] = eventsNamed(events, "liquidationStepped");
      assert.ok(stepped, "LiquidationStepped emitted");
      assert.ok(stepped.target.equals(alice.account) && stepped.liquidator.equals(keeper.account));
      assert.equal(stepped.marketIndex, SOL);
      assert.equal(big(stepped.baseAmount), step.base);
      assert.equal(big(stepped.price), SOL_CRASH_PRICE);
      assert.equal(big(stepped.liquidatorFee), step.liquidatorFee);
      assert.equal(big(stepped.insuranceFee), step.insuranceFee);
      assert.equal(BigInt(stepped.liquidatorFeeRate), feeRate);
      assert.equal(big(stepped.maintenanceHealthBefore), health.maintenanceHealth);

      // The target sold `step.base` at the oracle price (seller gets the rounded-down quote).
      const { paid, received } = tradeQuote(step.base, SOL_CRASH_PRICE);
      const expected = applyTrade(baseAbs, big(position.quoteAmount), -step.base, received);
      const after = await state();
      const alicePos = positionIn(after.alice, SOL)!;
      assert.equal(big(alicePos.baseAmount), baseAbs - step.base, "the liquidated position shrank");
      assert.equal(big(alicePos.quoteAmount), expected.quoteAmount);
      assert.equal(
        big(after.alice.collateral),
        big(before.alice.collateral) + expected.realizedPnl - step.liquidatorFee - step.insuranceFee,
      );
      const keeperPos = positionIn(after.keeper, SOL)!;
      assert.equal(big(keeperPos.baseAmount), step.base, "the liquidator took it over");
      assert.equal(big(keeperPos.quoteAmount), -paid);
      assert.equal(big(after.keeper.collateral), big(before.keeper.collateral) + step.liquidatorFee);
      assert.equal(after.insurance, before.insurance + step.insuranceFee);
      assert.equal(big(after.exchange.feePool), big(before.exchange.feePool) + (paid - received));

      const healthAfter = accountHealth(after.alice, await snapshots());
      assert.equal(big(stepped.maintenanceHealthAfter), healthAfter.maintenanceHealth);
      assert.equal(stepped.stillLiquidating, healthAfter.liquidationHealth < 0n);
      assert.equal(stepped.stillLiquidating, false, "one step restores the buffered health");
      assert.ok(healthAfter.maintenanceHealth >= 0n);
      assert.equal(after.alice.flags & MarginAccountFlags.BeingLiquidated, 0);
      assert.equal(big(after.alice.lastLiquidationSlot), big(stepped.slot));
      assert.equal(big(after.alice.liquidationStartSlot), big(stepped.slot));
      await assertConservation();

      // Healthy again: a second call is refused. (A different cap than the landed call: the same
      // instructions under the same blockhash would be the same transaction, "already processed".)
      await expectProgramError(
        client.liquidate({
          liquidator: keeper.kp,
          liquidatorAccount: keeper.account,
          target: alice.account,
          marketIndex: SOL,
          maxBaseAmount: BASE,
        }),
        "AccountNotLiquidatable",
      );
    }),
  );

  it(
    "stable price: a short's gain from the crash backs a withdrawal only at the lagging stable price",
    diagnosed(async () => {
      // 100 slots after the liquidation last stored it, the stable price an instruction sees has
      // followed the $92 oracle by up to 0.5% of itself (100 × 50 ppm): the preview must follow it
      // to the instruction's slot, not take the stored value.
      await advanceSlots(ln.connection, 100n);
      await freshPrices();
      const b = await margin(bob);
      assert.ok(big(positionIn(b, SOL)!.baseAmount) < 0n, "bob is short SOL: the crash is his gain");
      const now = (await readClock(ln.connection)).slot;
      const snaps = await snapshots(now);
      const health = accountHealth(b, snaps);
      // The same account valued as if the gain counted at the oracle price at once.
      const atOracle = accountHealth(b, {
        [SOL]: { ...snaps[SOL], stablePrice: prices[SOL] },
        [ETH]: { ...snaps[ETH], stablePrice: prices[ETH] },
      });
      const stored = big(snaps[SOL].market.stablePrice);
      const stable = stablePriceAt(snaps[SOL].market, SOL_CRASH_PRICE, now);
      assert.ok(stable < stored && stable > SOL_CRASH_PRICE, "the stable price is on its way to the crash price");
      assert.ok(
        accountHealth(b, await snapshots()).initialHealth < health.initialHealth,
        "the stored stable price would undervalue the gain",
      );
      assert.ok(health.initialHealth > 0n);
      assert.ok(atOracle.initialHealth > health.initialHealth + 10n * USDC, "most of the gain is not credited yet");
      assert.equal(atOracle.maintenanceHealth, health.maintenanceHealth, "maintenance takes the oracle either way");
      const to = { owner: bob.kp, marginAccount: bob.account, destination: bob.wallet };
      await expectProgramError(client.withdraw({ ...to, amount: atOracle.initialHealth }), "InsufficientInitialMargin");

      // The stable price only moves toward $92 in later slots (bob's health only grows): what the
      // preview allows now is allowed when the withdrawal lands.
      const { signature } = await client.withdraw({ ...to, amount: health.initialHealth });
      const [event] = eventsNamed(await client.eventsOf(signature), "collateralWithdrawn");
      assert.equal(big(event.amount), health.initialHealth);
      const landed = accountHealth(await margin(bob), await snapshots(await txSlot(signature)));
      assert.equal(big(event.initialHealthAfter), landed.initialHealth, "the program's health is the preview's");
      assert.ok(landed.initialHealth >= 0n);
      await assertConservation();
    }),
  );

  it(
    "realised profit is locked for the bad-debt window: ProfitLocked, then withdrawable",
    diagnosed(async () => {
      // Bob buys back his whole SOL short at $92 from the two longs (keeper, then alice), realising
      // the crash's gain; each fill also moves the mark TWAP by its share of open interest.
      const buyFrom = async (seller: Trader, filler: Trader, base: bigint) => {
        await freshPrices();
        const maker = await client.placeOrder({
          authority: seller.kp,
          marginAccount: seller.account,
          order: { marketIndex: SOL, side: OrderSide.Ask, price: SOL_CRASH_PRICE, baseAmount: base },
        });
        const taker = await client.placeOrder({
          authority: bob.kp,
          marginAccount: bob.account,
          order: { marketIndex: SOL, side: OrderSide.Bid, price: SOL_CRASH_PRICE, baseAmount: base },
        });
        const before = await state();
        const sellerBefore = positionIn(await margin(seller), SOL)!;
        const bobBefore = positionIn(before.bob, SOL)!;
        await client.fillOrders({
          filler: filler.kp,
          fillerAccount: filler.account,
          fill: {
            marketIndex: SOL,
            taker: bob.account,
            takerOrderId: taker.orderId,
            maker: seller.account,
            makerOrderId: maker.orderId,
            maxBaseAmount: base,
          },
        });
        const m = await client.fetchMarket(SOL);
        const mark = assertFillMarketState(before.markets[SOL], m, SOL_CRASH_PRICE, base);
        const { paid, received } = tradeQuote(base, SOL_CRASH_PRICE);
        const bobTrade = applyTrade(big(bobBefore.baseAmount), big(bobBefore.quoteAmount), base, -paid);
        const sellerTrade = applyTrade(big(sellerBefore.baseAmount), big(sellerBefore.quoteAmount), -base, received);
        // Closing at the oracle: the sellers realise nothing positive (rounding goes against them).
        assert.ok(sellerTrade.realizedPnl <= 0n);
        assert.equal(big((await margin(seller)).lockedProfit), 0n, "a loss locks nothing");
        await assertConservation();
        return { realized: bobTrade.realizedPnl, slot: big(m.markTwapSlot), markLevel: mark.level };
      };
      const keeperBase = big(positionIn(await margin(keeper), SOL)!.baseAmount);
      const aliceBase = big(positionIn(await margin(alice), SOL)!.baseAmount);
      const total = keeperBase + aliceBase;
      assert.equal(total, -big(positionIn(await margin(bob), SOL)!.baseAmount));
      // The smaller long first: that fill is less than the open interest before it, so it pulls
      // the mark level only part of the way to its price (`mark_after_fill`'s size weighting).
      const [small, large] = keeperBase <= aliceBase ? [keeper, alice] : [alice, keeper];
      const smallBase = keeperBase <= aliceBase ? keeperBase : aliceBase;
      assert.ok(smallBase > 0n && smallBase < total - smallBase, "a partial pull");
      const first = await buyFrom(small, large, smallBase);
      assert.ok(first.markLevel > SOL_CRASH_PRICE, "the smaller fill pulls the mark level only part of the way");
      const second = await buyFrom(large, small, total - smallBase);
      assert.ok(first.realized > 0n && second.realized > 0n, "bob's short closes at a gain");
      const b = await margin(bob);
      assert.equal(positionIn(b, SOL), undefined, "bob's SOL position is closed");
      // The second lock extends the first (still running) and restarts the window.
      assert.ok(second.slot < first.slot + BAD_DEBT_WITHDRAW_GATE_SLOTS, "both fills inside one window");
      assert.equal(big(b.lockedProfit), first.realized + second.realized);
      assert.equal(big(b.lockedProfitSlot), second.slot);

      // Withdrawing into the locked profit is refused, though initial health would allow it.
      await freshPrices();
      const now = (await readClock(ln.connection)).slot;
      const locked = lockedProfitAt(b, now);
      assert.equal(locked, big(b.lockedProfit));
      const amount = big(b.collateral) - locked + 1n;
      const health = accountHealth(b, await snapshots(now));
      assert.ok(amount > 0n && amount <= health.initialHealth, "only the lock stands in the way");
      const to = { owner: bob.kp, marginAccount: bob.account, destination: bob.wallet };
      await expectProgramError(client.withdraw({ ...to, amount }), "ProfitLocked");

      // 50 slots after the last realisation the profit is free.
      await advanceSlots(ln.connection, BAD_DEBT_WITHDRAW_GATE_SLOTS);
      await freshPrices();
      assert.equal(lockedProfitAt(b, (await readClock(ln.connection)).slot), 0n);
      const walletBefore = await tokenBalance(bob.wallet);
      const { signature } = await client.withdraw({ ...to, amount });
      const [event] = eventsNamed(await client.eventsOf(signature), "collateralWithdrawn");
      assert.equal(big(event.amount), amount);
      const landed = accountHealth(await margin(bob), await snapshots(await txSlot(signature)));
      assert.equal(big(event.initialHealthAfter), landed.initialHealth);
      assert.equal(await tokenBalance(bob.wallet), walletBefore + amount);
      await assertConservation();
    }),
  );
  it(
    "updateFunding: the mark level a fill set decays toward the oracle TWAP, and the mark TWAP sets the payment",
    diagnosed(async () => {
      const period = BigInt((await client.fetchMarket(SOL)).risk.fundingPeriodSlots);
      const due = big((await client.fetchMarket(SOL)).lastFundingSlot) + period;
      const clock = await readClock(ln.connection);
      if (clock.slot < due) await advanceSlots(ln.connection, due - clock.slot);

      // A fill 1% above the oracle sets the mark level there (the whole open interest: a full pull).
      const premiumPrice = (SOL_CRASH_PRICE * 101n) / 100n; // 1% over the oracle price
      const base = BASE / 10n;
      const { fill } = await trade(SOL, premiumPrice, premiumPrice, base);
      const beforeFill = await state();
      const filled = await client.fillOrders({ filler: keeper.kp, fillerAccount: keeper.account, fill });
      await checkFill(beforeFill, filled.events, SOL, premiumPrice, base);
      const afterFill = await client.fetchMarket(SOL);
      assert.equal(big(afterFill.markPrice), premiumPrice, "a fill of all open interest sets the level");

      // A sixth of a period later the level has decayed part of the way toward the oracle TWAP and
      // the mark TWAP has taken in its average over those slots; the payment is the clamped premium
      // of that TWAP over the oracle TWAP.
      await advanceSlots(ln.connection, period / 6n);
      await freshPrices();
      const before = await client.fetchMarket(SOL);
      const { signature, events } = await client.updateFunding(SOL);
      const slot = await txSlot(signature);
      const m = await client.fetchMarket(SOL);
      assert.equal(big(m.oracleTwapSlot), slot);
      assert.equal(big(m.markTwapSlot), slot, "the mark is carried to the funding slot");
      const oracleTwap = big(m.oracleTwap);
      const mark = advanceMark(
        big(before.markPrice),
        big(before.markTwap),
        big(before.markTwapSlot),
        oracleTwap,
        slot,
        period,
      );
      assert.equal(big(m.markPrice), mark.level, "level decayed linearly toward the oracle TWAP");
      assert.equal(big(m.markTwap), mark.twap, "mark TWAP: the level's time average");
      // Part of the way, from the side it started on: |level - oracle TWAP| shrank by dt / period.
      const levelBefore = big(before.markPrice);
      const side = (v: bigint) => (v > oracleTwap ? 1 : v < oracleTwap ? -1 : 0);
      const dist = (v: bigint) => (v > oracleTwap ? v - oracleTwap : oracleTwap - v);
      assert.ok(side(levelBefore) !== 0 && side(mark.level) === side(levelBefore), "still on the fill's side");
      assert.ok(dist(mark.level) < dist(levelBefore), "decayed toward the oracle TWAP");
      const dt = slot - big(before.markTwapSlot);
      assert.ok(dt > 0n && dt < period, "less than a period");
      assert.equal(dist(mark.level), (dist(levelBefore) * (period - dt)) / period, "linearly in the slots elapsed");
      const payment = fundingPayment(mark.twap, oracleTwap, m.risk.maxFundingRate);
      const [updated] = eventsNamed(events, "fundingUpdated");
      assert.equal(updated.marketIndex, SOL);
      assert.equal(big(updated.markTwap), mark.twap);
      assert.equal(big(updated.oracleTwap), oracleTwap);
      assert.equal(big(updated.paymentPerBase), payment);
      assert.equal(big(m.lastFundingPayment), payment);
      assert.equal(big(m.lastFundingSlot), slot);
      const delta = fundingIndexDelta(payment);
      assert.equal(big(m.cumulativeFundingLong), big(before.cumulativeFundingLong) + delta);
      assert.equal(big(m.cumulativeFundingShort), big(before.cumulativeFundingShort) + delta);
      assert.equal(big(updated.cumulativeFundingLong), big(m.cumulativeFundingLong));
      assert.equal(big(updated.cumulativeFundingShort), big(m.cumulativeFundingShort));
      // The next payment is a period away.
      await advanceSlots(ln.connection, 1n);
      await freshPrices();
      await expectProgramError(client.updateFunding(SOL), "FundingNotDue");
      await assertConservation();
    }),
  );
  it(
    "placeAndTake and triggerOrder: FOK refused, IOC crosses a resting ask, a stop fires at the oracle and pays its keeper",
    diagnosed(async () => {
      for (const t of [carol, dave]) {
        await client.createMarginAccount(t.kp);
        await client.deposit({ depositor: t.kp, marginAccount: t.account, source: t.wallet, amount: 1_000n * USDC });
      }
      await freshPrices();
      const price = prices[SOL];
      const base = BASE / 10n;
      const ask = await client.placeOrder({
        authority: dave.kp,
        marginAccount: dave.account,
        order: { marketIndex: SOL, side: OrderSide.Ask, price, baseAmount: base },
      });
      const order = { marketIndex: SOL, side: OrderSide.Bid, price, baseAmount: 2n * base };
      const makers = [{ marginAccount: dave.account, orderId: ask.orderId }];
      const take = (timeInForce: number) =>
        client.placeAndTake({ authority: carol.kp, marginAccount: carol.account, take: { order, timeInForce, makers } });
      await expectProgramError(take(TIME_IN_FORCE.FILL_OR_KILL), "FillOrKillNotFilled");
      const { events } = await take(TIME_IN_FORCE.IMMEDIATE_OR_CANCEL);
      const [filled] = eventsNamed(events, "orderFilled");
      assert.ok(filled.taker.equals(carol.account) && filled.maker.equals(dave.account));
      assert.equal(big(filled.baseAmount), base);
      assert.equal(big(filled.price), price);
      assert.equal(big(filled.fillerReward), 0n, "no filler: its share goes to the insurance fund");
      const c = await margin(carol);
      assert.equal(big(positionIn(c, SOL)!.baseAmount), base);
      assert.equal(openOrders(c).length, 0, "IOC: the rest is cancelled");

      // A reduce-only stop-market sell 5% below the price (worst price 10% below).
      const tick = big((await client.fetchMarket(SOL)).risk.tickSize);
      const stop = await client.placeOrder({
        authority: carol.kp,
        marginAccount: carol.account,
        order: {
          marketIndex: SOL,
          side: OrderSide.Ask,
          price: ((price * 90n) / 100n / tick) * tick,
          baseAmount: base,
          reduceOnly: true,
          kind: ORDER_KIND.MARKET,
          trigger: ORDER_TRIGGER.BELOW,
          triggerPrice: (price * 95n) / 100n,
        },
      });
      const fire = () =>
        client.triggerOrder({
          keeper: keeper.kp,
          keeperAccount: keeper.account,
          marginAccount: carol.account,
          marketIndex: SOL,
          orderId: stop.orderId,
        });
      await expectProgramError(fire(), "TriggerConditionNotMet");
      await setPrice(SOL, (price * 94n) / 100n);
      const keeperBefore = big((await margin(keeper)).collateral);
      const [triggered] = eventsNamed((await fire()).events, "orderTriggered");
      assert.equal(big(triggered.keeperFee), TRIGGER_KEEPER_FEE);
      assert.equal(triggered.cancelled, false);
      assert.equal(big((await margin(keeper)).collateral), keeperBefore + TRIGGER_KEEPER_FEE);
      const live = openOrders(await margin(carol));
      assert.equal(live.length, 1);
      assert.equal(live[0].trigger, ORDER_TRIGGER.NONE, "fired: a live market order");
      await expectProgramError(fire(), "NotATriggerOrder");
      await client.cancelOrder({ authority: carol.kp, marginAccount: carol.account, orderId: stop.orderId });
      await setPrice(SOL, price);
      await assertConservation();
    }),
  );
});
