// Offline checks: PDAs against the IDL's seeds, the mock Pyth layout against the offsets the
// program reads, the zero-copy layouts against Anchor's Borsh coder, and the math mirror against
// the program's own hand-checked unit tests.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";

import { BN, BorshCoder } from "@coral-xyz/anchor";
import { convertIdlToCamelCase } from "@coral-xyz/anchor/dist/cjs/idl.js";
import { Keypair, PublicKey } from "@solana/web3.js";

import {
  ACCOUNT_DISCRIMINATORS,
  applyTrade,
  BPF_LOADER_UPGRADEABLE_PROGRAM_ID,
  computeHealth,
  defaultOracleConfig,
  followStablePrice,
  initialPnl,
  INSTRUCTION_GATES,
  PausedOperations,
  programDataHeader,
  programDataPda,
  stablePriceAt,
  advanceMark,
  fundingIndexDelta,
  fundingPayment,
  markAfterFill,
  STABLE_PRICE_MAX_STEP_SLOTS,
  updateTwap,
  decodeMarginAccount,
  lockedProfitAt,
  decodePriceUpdateV2,
  defaultRiskParams,
  encodePriceUpdateV2,
  errorCode,
  exchangePda,
  feedIdFromByte,
  fundingOwed,
  IDL,
  IDL_JSON,
  liquidationBufferInForce,
  liquidatorFeeRate,
  marginAccountPda,
  MarginEngineClient,
  marginRatio,
  marketPda,
  mockPriceUpdate,
  planLiquidationStep,
  PRICE_UPDATE_V2_DISCRIMINATOR,
  PRICE_UPDATE_V2_LEN,
  PROGRAM_ID,
  scalePythConfidence,
  scalePythPrice,
  SEEDS,
  sizePremium,
  splitFee,
  structLayout,
  throttleShare,
  tradeQuote,
  tradingFee,
  withinBand,
  type LiquidationInputs,
  type MarginParams,
  type PositionRisk,
} from "../src";
import { Connection } from "@solana/web3.js";

const B = 1_000_000_000n;

describe("PDAs", () => {
  const constSeed = (ix: string, account: string): Buffer[] => {
    const acc = IDL_JSON.instructions.find((i) => i.name === ix)!.accounts.find((a) => a.name === account) as {
      pda?: { seeds: { kind: string; value?: number[] }[] };
    };
    assert.ok(acc.pda, `${ix}.${account} has a pda entry`);
    return acc.pda.seeds.filter((s) => s.kind === "const").map((s) => Buffer.from(s.value!));
  };

  test("constant seeds match the IDL", () => {
    assert.deepEqual(constSeed("initialize_exchange", "exchange"), [SEEDS.exchange]);
    assert.deepEqual(constSeed("initialize_exchange", "collateral_vault"), [SEEDS.collateralVault]);
    assert.deepEqual(constSeed("initialize_exchange", "insurance_vault"), [SEEDS.insuranceVault]);
    assert.deepEqual(constSeed("create_margin_account", "margin_account"), [SEEDS.marginAccount]);
    assert.deepEqual(constSeed("open_insurance_stake", "stake"), [SEEDS.insuranceStake]);
    assert.deepEqual(constSeed("create_market", "market"), [SEEDS.market]);
    assert.ok(PROGRAM_ID.equals(new PublicKey("MeZJ6Hft6cGFwoGzrTSfXzTNhQvLJTvTbmY8AATWPSF")));
  });

  test("accounts the IDL pins to a constant address are the PDAs the client derives", () => {
    const pinned = IDL_JSON.instructions.flatMap((ix) =>
      ix.accounts.filter((a) => "address" in a && a.name === "exchange").map((a) => (a as { address: string }).address),
    );
    for (const address of pinned) assert.equal(address, exchangePda().toBase58());
  });

  test("ProgramData: the IDL's initialize_exchange PDA under the upgradeable loader, header as pda.rs writes it", () => {
    const acc = IDL_JSON.instructions
      .find((i) => i.name === "initialize_exchange")!
      .accounts.find((a) => a.name === "program_data") as {
      pda: { seeds: { kind: string; value: number[] }[]; program: { kind: string; value: number[] } };
    };
    // Second account, after the payer (whose upgrade authority it must name).
    assert.equal(IDL_JSON.instructions.find((i) => i.name === "initialize_exchange")!.accounts[1].name, "program_data");
    assert.deepEqual(acc.pda.seeds.map((s) => Buffer.from(s.value)), [PROGRAM_ID.toBuffer()]);
    assert.ok(new PublicKey(acc.pda.program.value).equals(BPF_LOADER_UPGRADEABLE_PROGRAM_ID));
    const expected = PublicKey.findProgramAddressSync([PROGRAM_ID.toBuffer()], BPF_LOADER_UPGRADEABLE_PROGRAM_ID)[0];
    assert.ok(programDataPda().equals(expected));
    const authority = Keypair.generate().publicKey;
    const header = programDataHeader(authority);
    assert.equal(header.length, 45);
    assert.equal(header.readUInt32LE(0), 3, "UpgradeableLoaderState::ProgramData");
    assert.equal(header.readBigUInt64LE(4), 0n, "slot");
    assert.equal(header[12], 1, "Some(upgrade authority)");
    assert.ok(new PublicKey(header.subarray(13)).equals(authority));
    assert.deepEqual([...programDataHeader(null)], [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test("margin account seeds: owner then sub_account_id as u16 LE (IDL arg seed)", () => {
    const owner = Keypair.generate().publicKey;
    const expected = PublicKey.findProgramAddressSync(
      [Buffer.from("margin_account"), owner.toBuffer(), Buffer.from([1, 2])],
      PROGRAM_ID,
    )[0];
    assert.ok(marginAccountPda(owner, 0x0201).equals(expected));
    assert.ok(!marginAccountPda(owner, 0).equals(marginAccountPda(owner, 1)));
  });

  test("market PDA is [market, index u16 LE], as the IDL states it (create_market's market_index arg)", () => {
    const expected = PublicKey.findProgramAddressSync([Buffer.from("market"), Buffer.from([3, 0])], PROGRAM_ID)[0];
    assert.ok(marketPda(3).equals(expected));
    const seeds = (
      IDL_JSON.instructions.find((i) => i.name === "create_market")!.accounts.find((a) => a.name === "market") as {
        pda: { seeds: { kind: string; path?: string }[] };
      }
    ).pda.seeds;
    assert.deepEqual(seeds[1], { kind: "arg", path: "market_index" });
  });
});

describe("mock Pyth PriceUpdateV2", () => {
  test("discriminator is sha256('account:PriceUpdateV2')[..8]", () => {
    assert.deepEqual([...PRICE_UPDATE_V2_DISCRIMINATOR], [34, 241, 35, 99, 157, 126, 244, 205]);
  });

  test("bytes sit where oracle/pyth.rs reads them", () => {
    const feed = feedIdFromByte(7);
    const u = mockPriceUpdate({
      feedId: feed,
      price: 150_123_456n,
      conf: 12n,
      postedSlot: 987_654n,
      publishTime: 1_700_000_123n,
    });
    const data = encodePriceUpdateV2(u);
    assert.equal(data.length, PRICE_UPDATE_V2_LEN);
    assert.equal(data[40], 1, "VerificationLevel::Full tag at 8 + 32");
    const m = 41; // message start for Full
    assert.deepEqual([...data.subarray(m, m + 32)], [...feed]);
    assert.equal(data.readBigInt64LE(m + 32), 15_012_345_600n);
    assert.equal(data.readBigUInt64LE(m + 40), 1_200n);
    assert.equal(data.readInt32LE(m + 48), -8);
    assert.equal(data.readBigInt64LE(m + 52), 1_700_000_123n);
    assert.equal(data.readBigInt64LE(m + 60), 1_700_000_122n);
    assert.equal(data.readBigInt64LE(m + 68), 15_012_345_600n);
    assert.equal(data.readBigUInt64LE(m + 84), 987_654n, "posted_slot at message + 84");
    assert.deepEqual(decodePriceUpdateV2(data), u);
    // Partial carries one more byte (num_signatures) before the message.
    const partial = encodePriceUpdateV2({ ...u, verificationLevel: { kind: "partial", numSignatures: 3 } });
    assert.equal(partial[40], 0);
    assert.equal(partial[41], 3);
    assert.equal(decodePriceUpdateV2(partial).postedSlot, 987_654n);
  });

  test("scaling matches oracle::pyth::scale_price / scale_confidence", () => {
    assert.equal(scalePythPrice(15_012_345_678n, -8), 150_123_456n);
    assert.equal(scalePythPrice(-15_012_345_678n, -8), -150_123_456n);
    assert.equal(scalePythPrice(3n, 0), 3_000_000n);
    assert.equal(scalePythConfidence(1n, -8), 1n);
    assert.equal(scalePythConfidence(200n, -8), 2n);
    assert.throws(() => scalePythPrice(1n, -30));
  });
});

describe("zero-copy accounts through Anchor's Borsh coder", () => {
  for (const name of ["Exchange", "Market", "MarginAccount", "InsuranceStake"]) {
    test(`${name}: repr(C) layout has no implicit padding, so Borsh and bytemuck agree`, () => {
      const layout = structLayout(IDL_JSON, name);
      assert.deepEqual(layout.implicitPadding, []);
      assert.equal(layout.size, layout.borshSize);
      assert.equal(layout.size % 8, 0);
      const def = IDL_JSON.types!.find((t) => t.name === name)! as { serialization?: string; repr?: { kind: string } };
      assert.equal(def.serialization, "bytemuck");
      assert.equal(def.repr?.kind, "c");
    });
  }

  test("the hardened fields sit where state/*.rs declares them", () => {
    const fields = (name: string) =>
      (IDL_JSON.types!.find((t) => t.name === name)!.type as { fields: { name: string }[] }).fields.map((f) => f.name);
    const after = (name: string, field: string, n: number) => {
      const all = fields(name);
      const i = all.indexOf(field);
      assert.ok(i >= 0, `${name}.${field}`);
      return all.slice(i + 1, i + 1 + n);
    };
    assert.deepEqual(fields("OracleConfig").slice(-2), ["max_age_seconds_liquidation", "fallback_max_divergence"]);
    assert.deepEqual(after("Market", "last_oracle_slot", 4), [
      "last_pyth_publish_time",
      "last_switchboard_publish_time",
      "stable_price",
      "stable_price_slot",
    ]);
    // The mark level (math::funding::advance_mark) right after the mark TWAP's slot.
    assert.deepEqual(after("Market", "mark_twap", 3), ["mark_twap_slot", "mark_price", "cumulative_funding_long"]);
    const market = structLayout(IDL_JSON, "Market");
    assert.equal(market.offsets["mark_price"], market.offsets["mark_twap_slot"] + 8);
    assert.equal(market.offsets["cumulative_funding_long"], market.offsets["mark_price"] + 8);
    assert.deepEqual(after("MarginAccount", "next_order_id", 3), ["locked_profit", "locked_profit_slot", "sub_account_id"]);
    assert.deepEqual(fields("MarginAccount").slice(-3), ["bump", "loss_market_index", "_padding"]);
    assert.deepEqual(after("Exchange", "risk_timelock_slots", 1), ["bankrupt_accounts"]);
    assert.deepEqual(after("InsuranceStake", "unstake_request_slot", 1), ["last_stake_slot"]);
    // OracleConfig: 32-byte feed id, Switchboard pubkey, six u32 (two of them new): 88 bytes.
    assert.equal(structLayout(IDL_JSON, "OracleConfig").size, 32 + 32 + 6 * 4);
    const ma = structLayout(IDL_JSON, "MarginAccount");
    assert.equal(ma.offsets["locked_profit_slot"], ma.offsets["locked_profit"] + 8);
    assert.equal(ma.offsets["sub_account_id"], ma.offsets["locked_profit_slot"] + 8);
    assert.equal(ma.offsets["loss_market_index"], ma.offsets["bump"] + 1);
    assert.equal(ma.size, ma.offsets["_padding"] + 2);
    // create_market's OracleConfig argument carries the new fields in Borsh (= Pod) order.
    const coder = new BorshCoder(convertIdlToCamelCase(IDL_JSON));
    const oracle = defaultOracleConfig(feedIdFromByte(9));
    assert.equal(oracle.maxAgeSecondsLiquidation, 600);
    assert.equal(oracle.fallbackMaxDivergence, 200_000);
    const data = coder.instruction.encode("createMarket", {
      marketIndex: 0,
      name: new Array(16).fill(0),
      oracle,
      risk: defaultRiskParams(),
    });
    const o = 8 + 2 + 16; // discriminator, market_index, name
    assert.equal(data.readUInt32LE(o + 64 + 16), 600);
    assert.equal(data.readUInt32LE(o + 64 + 20), 200_000);
  });

  test("a MarginAccount laid out by repr(C) offsets decodes field by field", () => {
    const layout = structLayout(IDL_JSON, "MarginAccount");
    const position = structLayout(IDL_JSON, "PerpPosition");
    const order = structLayout(IDL_JSON, "Order");
    const data = Buffer.alloc(8 + layout.size);
    ACCOUNT_DISCRIMINATORS.marginAccount.copy(data, 0);
    const at = (field: string) => 8 + layout.offsets[field];
    const owner = Keypair.generate().publicKey;
    owner.toBuffer().copy(data, at("owner"));
    data.writeBigInt64LE(-123_456_789n, at("collateral"));
    data.writeBigUInt64LE(42n, at("last_active_slot"));
    const p3 = at("positions") + 3 * position.size;
    data.writeBigInt64LE(-5n * B, p3 + position.offsets["base_amount"]);
    data.writeBigInt64LE(500_000_001n, p3 + position.offsets["quote_amount"]);
    data.writeBigUInt64LE(7n, p3 + position.offsets["open_asks"]);
    data.writeUInt16LE(2, p3 + position.offsets["market_index"]);
    const o15 = at("orders") + 15 * order.size;
    data.writeBigUInt64LE(99n, o15 + order.offsets["order_id"]);
    data.writeUInt16LE(2, o15 + order.offsets["market_index"]);
    data.writeUInt8(1, o15 + order.offsets["side"]);
    data.writeUInt8(3, o15 + order.offsets["flags"]);
    data.writeBigUInt64LE(100n, at("next_order_id"));
    data.writeBigUInt64LE(12_345n, at("locked_profit"));
    data.writeBigUInt64LE(777n, at("locked_profit_slot"));
    data.writeUInt16LE(513, at("sub_account_id"));
    data.writeUInt8(2, at("flags"));
    data.writeUInt8(254, at("bump"));
    data.writeUInt16LE(6, at("loss_market_index"));

    const a = decodeMarginAccount(data);
    assert.ok(a.owner.equals(owner));
    assert.equal(a.collateral.toString(), "-123456789");
    assert.equal(a.lastActiveSlot.toString(), "42");
    assert.equal(a.positions.length, 8);
    assert.equal(a.positions[3].baseAmount.toString(), (-5n * B).toString());
    assert.equal(a.positions[3].quoteAmount.toString(), "500000001");
    assert.equal(a.positions[3].openAsks.toString(), "7");
    assert.equal(a.positions[3].marketIndex, 2);
    assert.equal(a.orders.length, 16);
    assert.equal(a.orders[15].orderId.toString(), "99");
    assert.equal(a.orders[15].side, 1);
    assert.equal(a.orders[15].flags, 3);
    assert.equal(a.nextOrderId.toString(), "100");
    assert.equal(a.lockedProfit.toString(), "12345");
    assert.equal(a.lockedProfitSlot.toString(), "777");
    assert.equal(a.subAccountId, 513);
    assert.equal(a.flags, 2);
    assert.equal(a.bump, 254);
    assert.equal(a.lossMarketIndex, 6);
    // `locked_profit_at`: locked for BAD_DEBT_WITHDRAW_GATE_SLOTS (50) after it was realised.
    assert.equal(lockedProfitAt(a, 777n), 12_345n);
    assert.equal(lockedProfitAt(a, 826n), 12_345n);
    assert.equal(lockedProfitAt(a, 827n), 0n);
  });

  test("Program<MarginEngine> builds from IDL and encodes instruction data with the IDL discriminators", async () => {
    const client = MarginEngineClient.connect(new Connection("http://127.0.0.1:1"), Keypair.generate());
    assert.ok(client.program.programId.equals(PROGRAM_ID));
    assert.equal(client.program.idl.instructions[0].name, "acceptAuthority"); // Program camelCases the snake_case JSON
    assert.equal(IDL.instructions[0].name as string, "accept_authority");
    const owner = Keypair.generate().publicKey;
    const ix = await client.depositIx({
      depositor: owner,
      marginAccount: marginAccountPda(owner),
      source: owner,
      amount: 5n,
    });
    const disc = IDL_JSON.instructions.find((i) => i.name === "deposit")!.discriminator;
    assert.deepEqual([...ix.data.subarray(0, 8)], disc);
    assert.equal(ix.data.readBigUInt64LE(8), 5n);
    assert.equal(ix.keys.length, 6);
    // initialize_exchange: ProgramData second, read-only, derived by the client.
    const init = await client.initializeExchangeIx({
      authority: owner,
      collateralMint: Keypair.generate().publicKey,
      config: {
        guardian: owner,
        insuranceUnstakeCooldownSlots: new BN(1),
        insuranceRevenueFloor: new BN(0),
        riskTimelockSlots: new BN(0),
      },
    });
    assert.ok(init.keys[0].pubkey.equals(client.payer) && init.keys[0].isSigner);
    assert.ok(init.keys[1].pubkey.equals(programDataPda()));
    assert.ok(!init.keys[1].isWritable && !init.keys[1].isSigner);
    // create_market args: name, OracleConfig (Borsh = Pod layout), RiskParams.
    const coder = new BorshCoder(convertIdlToCamelCase(IDL_JSON));
    const risk = defaultRiskParams();
    const data = coder.instruction.encode("updateRiskParams", { params: risk });
    const riskLayout = structLayout(IDL_JSON, "RiskParams");
    assert.equal(data.length, 8 + riskLayout.size);
    assert.ok(new BN(data.subarray(8, 16), "le").eq(risk.maxOpenInterest));
  });

  test("error codes come from the IDL", () => {
    assert.equal(errorCode("MathOverflow"), 6000);
    assert.equal(errorCode("NotAccountOwner"), 6002);
    assert.equal(errorCode("InsufficientCollateral"), 6008);
    assert.equal(errorCode("InsufficientInitialMargin"), 6009);
    // The hardening's errors were appended after MarketIndexNotNext, in error.rs order.
    const appended = [
      "OracleReplayed",
      "OracleTooOld",
      "OracleDiverged",
      "BankruptCannotTrade",
      "FillWorseThanLiquidation",
      "NotLossMarket",
      "UnstakeRequestExpired",
      "InsuranceLossPending",
      "StakeStillWarmingUp",
      "ProfitLocked",
      "NotUpgradeAuthority",
      "WrongProgramData",
      "GuardianCannotPause",
      "OrderNotTriggered",
      "MarketOrderCannotMake",
      "InvalidOrderKind",
      "TriggerWrongSide",
      "TriggerConditionNotMet",
      "NotATriggerOrder",
      "PegOffsetOutOfBounds",
      "InvalidTimeInForce",
      "FillOrKillNotFilled",
      "SlippageLimitExceeded",
      "PostOnlyWouldCross",
      "TooManyMakers",
      "MakerNotWritable",
      "DuplicateMaker",
      "WrongKeeperAccount",
      "MakersOutOfPriceOrder",
      "OrderPriceTooOld",
      "MarketFillTooFarFromOracle",
    ];
    const base = errorCode("MarketIndexNotNext");
    appended.forEach((name, i) => assert.equal(errorCode(name), base + 1 + i, name));
    assert.equal(IDL_JSON.errors!.at(-1)!.name, "MarketFillTooFarFromOracle");
  });

  test("gate table: every IDL instruction has its pause bit; the guardian cannot stop de-risking", () => {
    assert.deepEqual(Object.keys(INSTRUCTION_GATES).sort(), IDL_JSON.instructions.map((i) => i.name).sort());
    assert.equal(
      PausedOperations.GuardianPausable,
      PausedOperations.Withdraw | PausedOperations.Trading | PausedOperations.Insurance,
    );
    for (const ix of ["liquidate", "resolve_bankruptcy", "auto_deleverage", "socialize_loss", "deposit"]) {
      assert.notEqual(INSTRUCTION_GATES[ix], 0, ix);
      assert.equal(INSTRUCTION_GATES[ix] & PausedOperations.GuardianPausable, 0, ix);
    }
  });

  test("gate table: the TS copy equals the program's table (instructions/gates.rs), entry by entry", () => {
    const rust = readFileSync(join(__dirname, "../../../../programs/margin-engine/src/instructions/gates.rs"), "utf8");
    const bits: Record<string, number> = {
      "0": 0,
      ACCOUNT_LIFECYCLE: PausedOperations.AccountLifecycle,
      DEPOSIT_BIT: PausedOperations.Deposit,
      WITHDRAW_BIT: PausedOperations.Withdraw,
      TRADING: PausedOperations.Trading,
      FUNDING: PausedOperations.Funding,
      LIQUIDATION: PausedOperations.Liquidation,
      INSURANCE: PausedOperations.Insurance,
    };
    const consts: Record<string, number> = {};
    for (const m of rust.matchAll(/pub const ([A-Z_]+): u16 = ([A-Z_0-9]+);/g)) {
      assert.ok(m[2] in bits, `unknown gate value ${m[2]}`);
      consts[m[1]] = bits[m[2]];
    }
    const table: Record<string, number> = {};
    for (const m of rust.matchAll(/\("([a-z_]+)", ([A-Z_]+)\)/g)) table[m[1]] = consts[m[2]];
    assert.equal(Object.keys(table).length, IDL_JSON.instructions.length);
    assert.deepEqual(table, { ...INSTRUCTION_GATES });
  });
});

describe("math mirror (hand-checked values of the program's unit tests)", () => {
  const params: MarginParams = {
    initialMarginRatio: 100_000n,
    maintenanceMarginRatio: 50_000n,
    sizePremiumFactor: 0n,
    pnlInitialHaircut: 0n,
    liquidationBuffer: 20_000n,
    initialMultiplier: 0n,
    maintenanceMultiplier: 0n,
    initialAddon: 0n,
  };
  const long = (base: bigint, entry: bigint, price: bigint): PositionRisk => ({
    baseAmount: base,
    quoteAmount: -((base * entry) / B),
    unsettledFunding: 0n,
    openBids: 0n,
    openAsks: 0n,
    price,
    stablePrice: 0n,
    params,
  });

  test("trading", () => {
    assert.deepEqual(tradeQuote(1_500_000_000n, 100_000_001n), { paid: 150_000_002n, received: 150_000_001n });
    assert.equal(tradingFee(1_000_000n, 500), 500n);
    assert.equal(tradingFee(1_001n, 500), 1n);
    assert.deepEqual(splitFee(1_000n, 250_000, 100_000), { insurance: 250n, filler: 100n, protocol: 650n });
    assert.ok(withinBand(105_000_000n, 100_000_000n, 50_000));
    assert.ok(!withinBand(105_000_001n, 100_000_000n, 50_000));
  });

  test("health", () => {
    const r = computeHealth(200_000_000n, [long(10n * B, 100_000_000n, 90_000_000n)]);
    assert.equal(r.unrealizedPnl, -100_000_000n);
    assert.equal(r.initialRequirement, 90_000_000n);
    assert.equal(r.maintenanceRequirement, 45_000_000n);
    assert.equal(r.initialHealth, 10_000_000n);
    assert.equal(r.maintenanceHealth, 55_000_000n);
    const short = computeHealth(0n, [
      {
        ...long(0n, 0n, 0n),
        baseAmount: -2n * B,
        quoteAmount: 200_000_000n,
        unsettledFunding: -1_000_000n,
        price: 80_000_000n,
      },
    ]);
    assert.equal(short.unrealizedPnl, 39_000_000n);
    assert.equal(short.maintenanceHealth, 31_000_000n);
    assert.equal(short.initialHealth, 23_000_000n);
    const haircut = computeHealth(0n, [
      { ...long(B, 100_000_000n, 150_000_000n), params: { ...params, pnlInitialHaircut: 500_000n } },
    ]);
    assert.equal(haircut.initialHealth, 17_500_000n);
    assert.equal(sizePremium(100n * B, 1_000n), 10_001n);
    assert.equal(sizePremium(10_000n * B, 1_000n), 100_001n);
    assert.equal(marginRatio({ ...params, sizePremiumFactor: 1_000n }, 100n * B, "initial"), 110_001n);
    const orders = computeHealth(0n, [{ ...long(B, 100_000_000n, 100_000_000n), openBids: 3n * B, openAsks: B }]);
    assert.equal(orders.initialRequirement, 40_000_000n);
    assert.equal(orders.maintenanceRequirement, 5_000_000n);
    const dust = computeHealth(10n, [{ ...long(0n, 0n, 1n), baseAmount: 1n, quoteAmount: -1n }]);
    assert.equal(dust.unrealizedPnl, -1n);
    assert.equal(dust.maintenanceRequirement, 1n);
  });

  test("liquidation buffer in force (math::margin::tests, same values)", () => {
    assert.equal(liquidationBufferInForce(params, 0n), 20_000n);
    assert.equal(liquidationBufferInForce(params, 600_000n), 20_000n);
    assert.equal(liquidationBufferInForce(params, 1_000_000n), 50_000n);
    const stressed = { ...params, initialMultiplier: 2_500_000n, maintenanceMultiplier: 1_200_000n, initialAddon: 50_000n };
    assert.equal(liquidationBufferInForce(stressed, 1_000_000n), 240_000n);
    assert.equal(liquidationBufferInForce(stressed, 500_000n), 90_000n);
    const extreme = { ...params, initialMarginRatio: 1_000_000n, initialMultiplier: 3_000_000n };
    assert.equal(liquidationBufferInForce(extreme, 1_000_000n), 1_000_000n);
  });

  test("position", () => {
    assert.deepEqual(applyTrade(4n * B, -400n, -B, 150n), { baseAmount: 3n * B, quoteAmount: -300n, realizedPnl: 50n });
    assert.deepEqual(applyTrade(-3n * B, 333n, 3n * B, -360n), { baseAmount: 0n, quoteAmount: 0n, realizedPnl: -27n });
    assert.deepEqual(applyTrade(B, -100n, -3n * B, 330n), { baseAmount: -2n * B, quoteAmount: 220n, realizedPnl: 10n });
    assert.equal(fundingOwed(B, 1_500n, 0n), -2n);
    assert.equal(fundingOwed(-B, 1_500n, 0n), 1n);
    assert.equal(fundingOwed(-2n * B, -3_000n, 0n), -6n);
  });

  test("stable price (stable_price::tests::hand_checked)", () => {
    assert.equal(followStablePrice(0n, 0n, 123n, 9n), 123n);
    // $100, 0.005% a slot: 200 slots allow 1%.
    assert.equal(followStablePrice(100_000_000n, 0n, 150_000_000n, 200n), 101_000_000n);
    assert.equal(followStablePrice(100_000_000n, 0n, 50_000_000n, 200n), 99_000_000n);
    assert.equal(followStablePrice(100_000_000n, 0n, 100_500_000n, 200n), 100_500_000n);
    assert.equal(followStablePrice(100_000_000n, 10n, 150_000_000n, 10n), 100_000_000n);
    // A long quiet gap allows one step of 1%, not a jump to the oracle.
    assert.equal(STABLE_PRICE_MAX_STEP_SLOTS, 200n);
    assert.equal(followStablePrice(100_000_000n, 0n, 1n, 10_000_000n), 99_000_000n);
    assert.equal(followStablePrice(100_000_000n, 0n, 150_000_000n, 201n), 101_000_000n);
    // The snapshot: a valid price follows up to the slot; without a slot (or for a stale price)
    // the stored stable price; unset (0) starts at the price.
    const market = { stablePrice: new BN(100_000_000), stablePriceSlot: new BN(1_000) } as Parameters<
      typeof stablePriceAt
    >[0];
    assert.equal(stablePriceAt(market, 150_000_000n, 1_200n), 101_000_000n);
    assert.equal(stablePriceAt(market, 150_000_000n, 50_000n), 101_000_000n, "one observation: one 1% step");
    assert.equal(stablePriceAt(market, 150_000_000n, 1_200n, false), 100_000_000n);
    assert.equal(stablePriceAt(market, 150_000_000n), 100_000_000n);
    const unset = { stablePrice: new BN(0), stablePriceSlot: new BN(0) } as Parameters<typeof stablePriceAt>[0];
    assert.equal(stablePriceAt(unset, 150_000_000n, 1_200n, false), 150_000_000n);
  });

  test("initial health counts PnL at the worse of the oracle and the stable price", () => {
    // 1 long bought at $100, oracle $150, stable $101: maintenance sees +$50, initial only +$1.
    const pos = { ...long(B, 100_000_000n, 150_000_000n), stablePrice: 101_000_000n };
    assert.equal(initialPnl(pos), 1_000_000n);
    const r = computeHealth(0n, [pos]);
    assert.equal(r.unrealizedPnl, 50_000_000n);
    assert.equal(r.maintenanceHealth, 50_000_000n - 7_500_000n);
    // Initial: 1 − 10% × $150 (requirements stay at the oracle price) = −14.
    assert.equal(r.initialHealth, 1_000_000n - 15_000_000n);
    // A loss counts at once: oracle $90 under a stable $99 -> the oracle's −$10.
    const loss = { ...long(B, 100_000_000n, 90_000_000n), stablePrice: 99_000_000n };
    assert.equal(initialPnl(loss), -10_000_000n);
    assert.equal(computeHealth(0n, [loss]).initialHealth, -10_000_000n - 9_000_000n);
    // A short gains when the price falls: its initial PnL is at the higher (stable) price.
    const short = { ...long(0n, 0n, 0n), baseAmount: -B, quoteAmount: 100_000_000n, price: 90_000_000n, stablePrice: 98_000_000n };
    assert.equal(initialPnl(short), 2_000_000n);
    // 0 or equal to the oracle: the oracle PnL (the program's unit tests all use 0).
    assert.equal(initialPnl({ ...pos, stablePrice: 0n }), 50_000_000n);
    assert.equal(initialPnl({ ...pos, stablePrice: 150_000_000n }), 50_000_000n);
  });

  test("funding TWAPs (funding::tests)", () => {
    assert.equal(updateTwap(0n, 0n, 100n, 5n, 10n), 100n);
    assert.equal(updateTwap(100n, 0n, 200n, 5n, 10n), 150n);
    assert.equal(updateTwap(100n, 0n, 200n, 50n, 10n), 200n);
    assert.equal(updateTwap(100n, 7n, 200n, 7n, 10n), 100n);
    // A fill the size of open interest sets the level; a hundredth of it moves it 1% of the
    // way; neither touches the TWAP in the slot it happens.
    assert.deepEqual(markAfterFill(100n, 100n, 10n, 100n, 200n, 50n, 50n, 10n, 100n), { level: 200n, twap: 100n });
    assert.deepEqual(markAfterFill(100n, 100n, 10n, 100n, 200n, 1n, 100n, 10n, 100n), { level: 101n, twap: 100n });
    // The level then counts for the slots it lasts, decaying toward the oracle: 50 slots of a
    // level falling from 200 to 150 average 175, half a window at 175 next to 100.
    assert.deepEqual(advanceMark(200n, 100n, 0n, 100n, 50n, 100n), { level: 150n, twap: 137n });
    // After a full quiet window both are back at the oracle TWAP.
    assert.deepEqual(advanceMark(150n, 150n, 0n, 100n, 500n, 100n), { level: 100n, twap: 125n });
    assert.deepEqual(advanceMark(100n, 125n, 0n, 100n, 500n, 100n), { level: 100n, twap: 100n });
    // Unset: start at the oracle TWAP.
    assert.deepEqual(markAfterFill(0n, 0n, 0n, 100n, 300n, 10n, 100n, 5n, 100n), { level: 120n, twap: 100n });
    // payment_is_clamped_premium
    assert.equal(fundingPayment(101_000_000n, 100_000_000n, 100_000), 1_000_000n);
    assert.equal(fundingPayment(99_000_000n, 100_000_000n, 100_000), -1_000_000n);
    assert.equal(fundingPayment(105_000_000n, 100_000_000n, 10_000), 1_000_000n);
    assert.equal(fundingPayment(0n, 100_000_000n, 10_000), 0n);
    assert.equal(fundingIndexDelta(-7n), -7_000n);
  });

  test("liquidation", () => {
    assert.equal(liquidatorFeeRate(10_000n, 50_000n, 5_000n, 150n + 750n), 18_750n);
    assert.equal(liquidatorFeeRate(10_000n, 50_000n, 5_000n, 1_000_000n), 27_500n);
    assert.equal(throttleShare(250_000n, 25_000n, 10n), 500_000n);
    const inputs: LiquidationInputs = {
      positionBaseAbs: 100n * B,
      price: 100_000_000n,
      maintenanceRatio: 50_000n,
      liquidationBuffer: 20_000n,
      liquidatorFee: 10_000n,
      insuranceFee: 5_000n,
      deficit: 110_000_000n - 4n,
      equity: 400_000_000n,
      throttleShare: 1_000_000n,
      maxBase: 2n ** 64n - 1n,
      stepSize: B / 100n,
    };
    assert.deepEqual(planLiquidationStep(inputs), {
      base: 20n * B,
      notional: 2_000_000_000n,
      liquidatorFee: 20_000_000n,
      insuranceFee: 10_000_000n,
    });
    assert.equal(planLiquidationStep({ ...inputs, throttleShare: 100_000n }).base, 10n * B);
    assert.equal(planLiquidationStep({ ...inputs, maxBase: 3n * B + 5n }).base, 3n * B);
    assert.equal(
      planLiquidationStep({ ...inputs, positionBaseAbs: (4n * B) / 10n, throttleShare: 1n }).base,
      (4n * B) / 10n,
    );
    assert.equal(planLiquidationStep({ ...inputs, deficit: 11_000_000n - 4n, throttleShare: 1n }).base, 2n * B);
    const capped = planLiquidationStep({ ...inputs, equity: 25_000_000n });
    assert.deepEqual([capped.liquidatorFee, capped.insuranceFee], [20_000_000n, 5_000_000n]);
  });
});
