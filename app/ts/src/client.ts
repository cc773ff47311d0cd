// `MarginEngineClient`: a typed wrapper around `Program<MarginEngine>`. Instruction builders
// mirror app/sdk/src/instructions.rs (the reference): every PDA and vault is derived here, the
// health-check remaining accounts are built like `market_groups`, and callers pass only what is
// theirs to choose (signers, token accounts, amounts). Convenience methods fetch the state they
// need, send, and return the signature; failures surface as Anchor errors (see `errors.ts`).
import { AnchorProvider, Program, utils, Wallet } from "@coral-xyz/anchor";
import {
  AccountMeta,
  Commitment,
  ConfirmOptions,
  Connection,
  GetProgramAccountsFilter,
  Keypair,
  PublicKey,
  Signer,
  SystemProgram,
  Transaction,
  TransactionInstruction,
} from "@solana/web3.js";

import {
  activePositions,
  big,
  bn,
  decodeMarginAccount,
  decodeMarket,
  Exchange,
  ExchangeConfig,
  InsuranceStake,
  MarginAccount,
  Market,
  Numeric,
  OracleConfig,
  RiskParams,
} from "./accounts";
import { MarketSnapshotInput, accountHealth } from "./health";
import { ORDER_KIND, ORDER_TRIGGER, OrderSide, PROGRAM_ID } from "./constants";
import { translate } from "./errors";
import { DecodedEvent, parseEvents, transactionLogs } from "./events";
import { IDL, IDL_JSON, MarginEngine } from "./idl/margin_engine";
import {
  collateralVaultPda,
  exchangePda,
  insuranceStakePda,
  insuranceVaultPda,
  marginAccountPda,
  marketPda,
  programDataPda,
} from "./pda";

/** SPL Token program (classic): the program's `Program<Token>` accounts. */
export const TOKEN_PROGRAM_ID = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

/** Oracle accounts of one market, as the client knows them (`MarketOracles` in the Rust SDK). */
export interface MarketOracles {
  pyth: PublicKey;
  /** The market's Switchboard feed when it configures one. */
  switchboard?: PublicKey | null;
}

export interface PlaceOrderParams {
  marketIndex: number;
  side: OrderSide;
  /** Quote native units per whole base, a multiple of the tick size. */
  price: Numeric;
  /** Base units (1e-9), a multiple of the step size. */
  baseAmount: Numeric;
  reduceOnly?: boolean;
  postOnly?: boolean;
  /** Last slot the order may fill at; 0 = good till cancelled. */
  expirySlot?: Numeric;
  clientOrderId?: Numeric;
  /** `ORDER_KIND`: LIMIT (default), MARKET (`price` = worst price; takes only), ORACLE_PEG. */
  kind?: number;
  /** `ORDER_TRIGGER`: NONE (default), ABOVE or BELOW `triggerPrice` (stop-loss / take-profit). */
  trigger?: number;
  triggerPrice?: Numeric;
  /** ORACLE_PEG: added to the oracle at fill time (`price`, if not 0, caps it). */
  pegOffset?: Numeric;
}

/** A taker order crossed at once against resting makers (`placeAndTake`). */
export interface TakeParams {
  order: PlaceOrderParams;
  /** `TIME_IN_FORCE`: GOOD_TILL_CANCEL (the rest rests), IMMEDIATE_OR_CANCEL, FILL_OR_KILL. */
  timeInForce: number;
  /** Post-only orders: reprice one tick inside the best crossing maker instead of failing. */
  postOnlySlide?: boolean;
  /** Best price first, at most `MAX_TAKE_MAKERS`. */
  makers: { marginAccount: PublicKey; orderId: Numeric }[];
}

export interface FillParams {
  marketIndex: number;
  taker: PublicKey;
  takerOrderId: Numeric;
  maker: PublicKey;
  makerOrderId: Numeric;
  maxBaseAmount: Numeric;
}

export interface SendResult {
  signature: string;
}

export interface MarginEngineClientOptions {
  programId?: PublicKey;
  /** Oracle accounts per market index; more can be added with `setMarketOracles`. */
  oracles?: Record<number, MarketOracles>;
}

const discriminatorOf = (name: string): number[] => {
  const acc = (IDL_JSON.accounts ?? []).find((a) => a.name === name);
  if (!acc) throw new Error(`no account ${name} in the IDL`);
  return acc.discriminator;
};

/** First 8 bytes of each account kind (for getProgramAccounts memcmp filters). */
export const ACCOUNT_DISCRIMINATORS = {
  exchange: Buffer.from(discriminatorOf("Exchange")),
  market: Buffer.from(discriminatorOf("Market")),
  marginAccount: Buffer.from(discriminatorOf("MarginAccount")),
  insuranceStake: Buffer.from(discriminatorOf("InsuranceStake")),
} as const;

/** The program's `PlaceOrderArgs` from `PlaceOrderParams` (defaults: a plain limit order). */
function orderArgs(o: PlaceOrderParams) {
  return {
    marketIndex: o.marketIndex,
    side: o.side,
    price: bn(o.price),
    baseAmount: bn(o.baseAmount),
    reduceOnly: o.reduceOnly ?? false,
    postOnly: o.postOnly ?? false,
    expirySlot: bn(o.expirySlot ?? 0),
    clientOrderId: bn(o.clientOrderId ?? 0),
    kind: o.kind ?? ORDER_KIND.LIMIT,
    trigger: o.trigger ?? ORDER_TRIGGER.NONE,
    triggerPrice: bn(o.triggerPrice ?? 0),
    pegOffset: bn(o.pegOffset ?? 0),
  };
}

export class MarginEngineClient {
  readonly program: Program<MarginEngine>;
  readonly provider: AnchorProvider;
  readonly programId: PublicKey;
  private readonly oracles = new Map<number, MarketOracles>();

  constructor(provider: AnchorProvider, options: MarginEngineClientOptions = {}) {
    this.provider = provider;
    this.programId = options.programId ?? PROGRAM_ID;
    const idl = this.programId.equals(PROGRAM_ID)
      ? IDL
      : ({ ...IDL, address: this.programId.toBase58() } as MarginEngine);
    this.program = new Program<MarginEngine>(idl, provider);
    for (const [index, o] of Object.entries(options.oracles ?? {})) this.setMarketOracles(Number(index), o);
  }

  /** A client over `connection` paying fees from `payer`. */
  static connect(
    connection: Connection,
    payer: Keypair,
    opts: ConfirmOptions = { commitment: "confirmed", preflightCommitment: "confirmed" },
    options?: MarginEngineClientOptions,
  ): MarginEngineClient {
    return new MarginEngineClient(new AnchorProvider(connection, new Wallet(payer), opts), options);
  }

  get connection(): Connection {
    return this.provider.connection;
  }

  /** Fee payer and default `payer` of account creations. */
  get payer(): PublicKey {
    return this.provider.wallet.publicKey;
  }

  // ---- addresses ----

  exchangeAddress(): PublicKey {
    return exchangePda(this.programId);
  }
  collateralVault(): PublicKey {
    return collateralVaultPda(this.programId);
  }
  insuranceVault(): PublicKey {
    return insuranceVaultPda(this.programId);
  }
  marketAddress(index: number): PublicKey {
    return marketPda(index, this.programId);
  }
  marginAccountAddress(owner: PublicKey, subAccountId = 0): PublicKey {
    return marginAccountPda(owner, subAccountId, this.programId);
  }
  insuranceStakeAddress(owner: PublicKey): PublicKey {
    return insuranceStakePda(owner, this.programId);
  }
  /** The program's ProgramData account (upgradeable loader), checked by `initialize_exchange`. */
  programDataAddress(): PublicKey {
    return programDataPda(this.programId);
  }

  // ---- oracles ----

  setMarketOracles(marketIndex: number, oracles: MarketOracles): void {
    this.oracles.set(marketIndex, { pyth: oracles.pyth, switchboard: oracles.switchboard ?? null });
  }

  oraclesOf(marketIndex: number): MarketOracles {
    const o = this.oracles.get(marketIndex);
    if (!o) throw new Error(`no oracle accounts registered for market ${marketIndex} (setMarketOracles)`);
    return o;
  }

  // ---- accounts ----

  async fetchExchange(commitment: Commitment = "confirmed"): Promise<Exchange> {
    return this.program.account.exchange.fetch(this.exchangeAddress(), commitment);
  }

  async fetchMarket(index: number, commitment: Commitment = "confirmed"): Promise<Market> {
    return this.program.account.market.fetch(this.marketAddress(index), commitment);
  }

  async fetchMarginAccount(address: PublicKey, commitment: Commitment = "confirmed"): Promise<MarginAccount> {
    return this.program.account.marginAccount.fetch(address, commitment);
  }

  async fetchMarginAccountNullable(address: PublicKey): Promise<MarginAccount | null> {
    return this.program.account.marginAccount.fetchNullable(address, "confirmed");
  }

  async fetchInsuranceStake(owner: PublicKey, commitment: Commitment = "confirmed"): Promise<InsuranceStake> {
    return this.program.account.insuranceStake.fetch(this.insuranceStakeAddress(owner), commitment);
  }

  /** Every market, by a discriminator-filtered program-account scan, sorted by index. */
  async fetchAllMarkets(): Promise<{ address: PublicKey; account: Market }[]> {
    const list = await this.scan(ACCOUNT_DISCRIMINATORS.market, decodeMarket);
    return list.sort((a, b) => a.account.marketIndex - b.account.marketIndex);
  }

  /** Every margin account, optionally only one owner's (memcmp on `owner` at byte 8). */
  async fetchAllMarginAccounts(owner?: PublicKey): Promise<{ address: PublicKey; account: MarginAccount }[]> {
    const extra: GetProgramAccountsFilter[] = owner ? [{ memcmp: { offset: 8, bytes: owner.toBase58() } }] : [];
    return this.scan(ACCOUNT_DISCRIMINATORS.marginAccount, decodeMarginAccount, extra);
  }

  private async scan<T>(
    discriminator: Buffer,
    decode: (data: Buffer) => T,
    extra: GetProgramAccountsFilter[] = [],
  ): Promise<{ address: PublicKey; account: T }[]> {
    const raw = await this.connection.getProgramAccounts(this.programId, {
      commitment: "confirmed",
      filters: [{ memcmp: { offset: 0, bytes: utils.bytes.bs58.encode(discriminator) } }, ...extra],
    });
    return raw.map((r) => ({ address: r.pubkey, account: decode(r.account.data) }));
  }

  // ---- remaining accounts ----

  /**
   * Health-check remaining accounts (`instructions::market_groups`): one group (market, Pyth
   * update, Switchboard feed when configured) per market any of `accounts` holds, except
   * `exclude` (the instruction's own market, passed as a named account).
   */
  marketGroups(accounts: MarginAccount[], exclude?: number): AccountMeta[] {
    const seen = new Set<number>();
    const metas: AccountMeta[] = [];
    for (const account of accounts) {
      for (const position of activePositions(account)) {
        const index = position.marketIndex;
        if (index === exclude || seen.has(index)) continue;
        seen.add(index);
        const o = this.oraclesOf(index);
        metas.push({ pubkey: this.marketAddress(index), isSigner: false, isWritable: false });
        metas.push({ pubkey: o.pyth, isSigner: false, isWritable: false });
        if (o.switchboard) metas.push({ pubkey: o.switchboard, isSigner: false, isWritable: false });
      }
    }
    return metas;
  }

  /** Remaining accounts for one account's own health check (withdraw). */
  healthAccounts(account: MarginAccount): AccountMeta[] {
    return this.marketGroups([account]);
  }

  // ---- instruction builders (no network) ----

  /**
   * `payer` must be the program's upgrade authority (its ProgramData account, derived here, names
   * it); otherwise the program refuses with `NotUpgradeAuthority`.
   */
  initializeExchangeIx(p: {
    payer?: PublicKey;
    authority: PublicKey;
    collateralMint: PublicKey;
    config: ExchangeConfig;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .initializeExchange(p.config)
      .accountsStrict({
        payer: p.payer ?? this.payer,
        programData: this.programDataAddress(),
        authority: p.authority,
        exchange: this.exchangeAddress(),
        collateralMint: p.collateralMint,
        collateralVault: this.collateralVault(),
        insuranceVault: this.insuranceVault(),
        tokenProgram: TOKEN_PROGRAM_ID,
        systemProgram: SystemProgram.programId,
      })
      .instruction();
  }

  /** `marketIndex` must be the exchange's current `market_count` (markets are dense from 0). */
  createMarketIx(p: {
    payer?: PublicKey;
    authority: PublicKey;
    marketIndex: number;
    name: number[];
    oracle: OracleConfig;
    risk: RiskParams;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .createMarket(p.marketIndex, p.name, p.oracle, p.risk)
      .accountsStrict({
        payer: p.payer ?? this.payer,
        authority: p.authority,
        exchange: this.exchangeAddress(),
        market: this.marketAddress(p.marketIndex),
        systemProgram: SystemProgram.programId,
      })
      .instruction();
  }

  createMarginAccountIx(p: {
    payer?: PublicKey;
    owner: PublicKey;
    subAccountId?: number;
  }): Promise<TransactionInstruction> {
    const sub = p.subAccountId ?? 0;
    return this.program.methods
      .createMarginAccount(sub)
      .accountsStrict({
        payer: p.payer ?? this.payer,
        owner: p.owner,
        exchange: this.exchangeAddress(),
        marginAccount: this.marginAccountAddress(p.owner, sub),
        systemProgram: SystemProgram.programId,
      })
      .instruction();
  }

  setDelegateIx(p: {
    owner: PublicKey;
    marginAccount: PublicKey;
    delegate: PublicKey;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .setDelegate(p.delegate)
      .accountsStrict({ owner: p.owner, marginAccount: p.marginAccount })
      .instruction();
  }

  depositIx(p: {
    depositor: PublicKey;
    marginAccount: PublicKey;
    source: PublicKey;
    amount: Numeric;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .deposit(bn(p.amount))
      .accountsStrict({
        depositor: p.depositor,
        exchange: this.exchangeAddress(),
        marginAccount: p.marginAccount,
        collateralVault: this.collateralVault(),
        source: p.source,
        tokenProgram: TOKEN_PROGRAM_ID,
      })
      .instruction();
  }

  /** `healthAccounts`: see `healthAccounts()`. */
  withdrawIx(p: {
    owner: PublicKey;
    marginAccount: PublicKey;
    destination: PublicKey;
    amount: Numeric;
    healthAccounts: AccountMeta[];
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .withdraw(bn(p.amount))
      .accountsStrict({
        owner: p.owner,
        exchange: this.exchangeAddress(),
        marginAccount: p.marginAccount,
        collateralVault: this.collateralVault(),
        destination: p.destination,
        tokenProgram: TOKEN_PROGRAM_ID,
      })
      .remainingAccounts(p.healthAccounts)
      .instruction();
  }

  closeMarginAccountIx(p: { owner: PublicKey; marginAccount: PublicKey }): Promise<TransactionInstruction> {
    return this.program.methods.closeMarginAccount().accountsStrict(p).instruction();
  }

  /** `remaining`: market groups of every other market the account holds. */
  placeOrderIx(p: {
    authority: PublicKey;
    marginAccount: PublicKey;
    order: PlaceOrderParams;
    remaining: AccountMeta[];
  }): Promise<TransactionInstruction> {
    const o = this.oraclesOf(p.order.marketIndex);
    return this.program.methods
      .placeOrder(orderArgs(p.order))
      .accountsStrict({
        authority: p.authority,
        exchange: this.exchangeAddress(),
        marginAccount: p.marginAccount,
        market: this.marketAddress(p.order.marketIndex),
        oracle: o.pyth,
        fallbackOracle: o.switchboard ?? null,
      })
      .remainingAccounts(p.remaining)
      .instruction();
  }

  /** `groups`: market groups of every other market the taker or any maker holds. */
  placeAndTakeIx(p: {
    authority: PublicKey;
    marginAccount: PublicKey;
    take: TakeParams;
    groups: AccountMeta[];
  }): Promise<TransactionInstruction> {
    const o = this.oraclesOf(p.take.order.marketIndex);
    const makers: AccountMeta[] = p.take.makers.map((m) => ({
      pubkey: m.marginAccount,
      isSigner: false,
      isWritable: true,
    }));
    return this.program.methods
      .placeAndTake({
        order: orderArgs(p.take.order),
        timeInForce: p.take.timeInForce,
        postOnlySlide: p.take.postOnlySlide ?? false,
        makerOrderIds: p.take.makers.map((m) => bn(m.orderId)),
      })
      .accountsStrict({
        authority: p.authority,
        exchange: this.exchangeAddress(),
        marginAccount: p.marginAccount,
        market: this.marketAddress(p.take.order.marketIndex),
        oracle: o.pyth,
        fallbackOracle: o.switchboard ?? null,
        collateralVault: this.collateralVault(),
        insuranceVault: this.insuranceVault(),
        tokenProgram: TOKEN_PROGRAM_ID,
      })
      .remainingAccounts([...makers, ...p.groups])
      .instruction();
  }

  /** Fires a trigger order whose condition the oracle meets; the fee goes to `keeperAccount`. */
  triggerOrderIx(p: {
    keeper: PublicKey;
    keeperAccount: PublicKey;
    marginAccount: PublicKey;
    marketIndex: number;
    orderId: Numeric;
  }): Promise<TransactionInstruction> {
    const o = this.oraclesOf(p.marketIndex);
    return this.program.methods
      .triggerOrder(bn(p.orderId))
      .accountsStrict({
        keeper: p.keeper,
        keeperAccount: p.keeperAccount,
        exchange: this.exchangeAddress(),
        marginAccount: p.marginAccount,
        market: this.marketAddress(p.marketIndex),
        oracle: o.pyth,
        fallbackOracle: o.switchboard ?? null,
      })
      .instruction();
  }

  cancelOrderIx(p: {
    authority: PublicKey;
    marginAccount: PublicKey;
    orderId: Numeric;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .cancelOrder(bn(p.orderId))
      .accountsStrict({ authority: p.authority, marginAccount: p.marginAccount })
      .instruction();
  }

  cancelAllOrdersIx(p: {
    authority: PublicKey;
    marginAccount: PublicKey;
    marketIndex?: number | null;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .cancelAllOrders(p.marketIndex ?? null)
      .accountsStrict({ authority: p.authority, marginAccount: p.marginAccount })
      .instruction();
  }

  pruneExpiredOrdersIx(p: { keeper: PublicKey; marginAccount: PublicKey }): Promise<TransactionInstruction> {
    return this.program.methods.pruneExpiredOrders().accountsStrict(p).instruction();
  }

  /** `remaining`: market groups of every other market taker or maker holds. */
  fillOrdersIx(p: {
    filler: PublicKey;
    fillerAccount: PublicKey;
    fill: FillParams;
    remaining: AccountMeta[];
  }): Promise<TransactionInstruction> {
    const o = this.oraclesOf(p.fill.marketIndex);
    return this.program.methods
      .fillOrders(bn(p.fill.takerOrderId), bn(p.fill.makerOrderId), bn(p.fill.maxBaseAmount))
      .accountsStrict({
        filler: p.filler,
        fillerAccount: p.fillerAccount,
        exchange: this.exchangeAddress(),
        market: this.marketAddress(p.fill.marketIndex),
        taker: p.fill.taker,
        maker: p.fill.maker,
        oracle: o.pyth,
        fallbackOracle: o.switchboard ?? null,
        collateralVault: this.collateralVault(),
        insuranceVault: this.insuranceVault(),
        tokenProgram: TOKEN_PROGRAM_ID,
      })
      .remainingAccounts(p.remaining)
      .instruction();
  }

  /** `remaining`: market groups of every other market the target or the liquidator holds. */
  liquidateIx(p: {
    liquidator: PublicKey;
    liquidatorAccount: PublicKey;
    target: PublicKey;
    marketIndex: number;
    maxBaseAmount: Numeric;
    remaining: AccountMeta[];
  }): Promise<TransactionInstruction> {
    const o = this.oraclesOf(p.marketIndex);
    return this.program.methods
      .liquidate(bn(p.maxBaseAmount))
      .accountsStrict({
        liquidator: p.liquidator,
        liquidatorAccount: p.liquidatorAccount,
        target: p.target,
        exchange: this.exchangeAddress(),
        market: this.marketAddress(p.marketIndex),
        oracle: o.pyth,
        fallbackOracle: o.switchboard ?? null,
        collateralVault: this.collateralVault(),
        insuranceVault: this.insuranceVault(),
        tokenProgram: TOKEN_PROGRAM_ID,
      })
      .remainingAccounts(p.remaining)
      .instruction();
  }

  /** `remaining`: market groups of every other market the target holds. */
  resolveBankruptcyIx(p: {
    keeper: PublicKey;
    keeperAccount: PublicKey;
    target: PublicKey;
    marketIndex: number;
    remaining: AccountMeta[];
  }): Promise<TransactionInstruction> {
    const o = this.oraclesOf(p.marketIndex);
    return this.program.methods
      .resolveBankruptcy()
      .accountsStrict({
        keeper: p.keeper,
        keeperAccount: p.keeperAccount,
        target: p.target,
        exchange: this.exchangeAddress(),
        market: this.marketAddress(p.marketIndex),
        oracle: o.pyth,
        fallbackOracle: o.switchboard ?? null,
        collateralVault: this.collateralVault(),
        insuranceVault: this.insuranceVault(),
        tokenProgram: TOKEN_PROGRAM_ID,
      })
      .remainingAccounts(p.remaining)
      .instruction();
  }

  /** Candidates in non-increasing ADL score order (writable), then the target's other market groups. */
  autoDeleverageIx(p: {
    keeper: PublicKey;
    target: PublicKey;
    marketIndex: number;
    candidates: PublicKey[];
    groups: AccountMeta[];
  }): Promise<TransactionInstruction> {
    const o = this.oraclesOf(p.marketIndex);
    const candidates: AccountMeta[] = p.candidates.map((c) => ({ pubkey: c, isSigner: false, isWritable: true }));
    return this.program.methods
      .autoDeleverage(p.candidates.length)
      .accountsStrict({
        keeper: p.keeper,
        target: p.target,
        exchange: this.exchangeAddress(),
        market: this.marketAddress(p.marketIndex),
        oracle: o.pyth,
        fallbackOracle: o.switchboard ?? null,
        insuranceVault: this.insuranceVault(),
      })
      .remainingAccounts([...candidates, ...p.groups])
      .instruction();
  }

  socializeLossIx(p: { keeper: PublicKey; target: PublicKey; marketIndex: number }): Promise<TransactionInstruction> {
    return this.program.methods
      .socializeLoss()
      .accountsStrict({
        keeper: p.keeper,
        target: p.target,
        exchange: this.exchangeAddress(),
        market: this.marketAddress(p.marketIndex),
        insuranceVault: this.insuranceVault(),
      })
      .instruction();
  }

  openInsuranceStakeIx(p: { payer?: PublicKey; owner: PublicKey }): Promise<TransactionInstruction> {
    return this.program.methods
      .openInsuranceStake()
      .accountsStrict({
        payer: p.payer ?? this.payer,
        owner: p.owner,
        stake: this.insuranceStakeAddress(p.owner),
        systemProgram: SystemProgram.programId,
      })
      .instruction();
  }

  stakeInsuranceIx(p: { owner: PublicKey; source: PublicKey; amount: Numeric }): Promise<TransactionInstruction> {
    return this.program.methods
      .stakeInsurance(bn(p.amount))
      .accountsStrict({
        owner: p.owner,
        stake: this.insuranceStakeAddress(p.owner),
        exchange: this.exchangeAddress(),
        insuranceVault: this.insuranceVault(),
        source: p.source,
        tokenProgram: TOKEN_PROGRAM_ID,
      })
      .instruction();
  }

  requestUnstakeIx(p: { owner: PublicKey; shares: Numeric }): Promise<TransactionInstruction> {
    return this.program.methods
      .requestUnstake(bn(p.shares))
      .accountsStrict({
        owner: p.owner,
        stake: this.insuranceStakeAddress(p.owner),
        exchange: this.exchangeAddress(),
        insuranceVault: this.insuranceVault(),
      })
      .instruction();
  }

  unstakeInsuranceIx(p: { owner: PublicKey; destination: PublicKey }): Promise<TransactionInstruction> {
    return this.program.methods
      .unstakeInsurance()
      .accountsStrict({
        owner: p.owner,
        stake: this.insuranceStakeAddress(p.owner),
        exchange: this.exchangeAddress(),
        insuranceVault: this.insuranceVault(),
        destination: p.destination,
        tokenProgram: TOKEN_PROGRAM_ID,
      })
      .instruction();
  }

  withdrawProtocolRevenueIx(p: {
    authority: PublicKey;
    destination: PublicKey;
    amount: Numeric;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .withdrawProtocolRevenue(bn(p.amount))
      .accountsStrict({
        authority: p.authority,
        exchange: this.exchangeAddress(),
        insuranceVault: this.insuranceVault(),
        destination: p.destination,
        tokenProgram: TOKEN_PROGRAM_ID,
      })
      .instruction();
  }

  refreshMarketIx(p: { marketIndex: number }): Promise<TransactionInstruction> {
    const o = this.oraclesOf(p.marketIndex);
    return this.program.methods
      .refreshMarket()
      .accountsStrict({
        market: this.marketAddress(p.marketIndex),
        oracle: o.pyth,
        fallbackOracle: o.switchboard ?? null,
      })
      .instruction();
  }

  updateFundingIx(p: { marketIndex: number }): Promise<TransactionInstruction> {
    const o = this.oraclesOf(p.marketIndex);
    return this.program.methods
      .updateFunding()
      .accountsStrict({
        exchange: this.exchangeAddress(),
        market: this.marketAddress(p.marketIndex),
        oracle: o.pyth,
        fallbackOracle: o.switchboard ?? null,
      })
      .instruction();
  }

  /** Guardian or governance closes instruction groups (`PausedOperations` bits). */
  pauseOperationsIx(p: { signer: PublicKey; operations: number }): Promise<TransactionInstruction> {
    return this.program.methods
      .pauseOperations(p.operations)
      .accountsStrict({ signer: p.signer, exchange: this.exchangeAddress() })
      .instruction();
  }

  resumeOperationsIx(p: { authority: PublicKey; operations: number }): Promise<TransactionInstruction> {
    return this.program.methods
      .resumeOperations(p.operations)
      .accountsStrict({ authority: p.authority, exchange: this.exchangeAddress() })
      .instruction();
  }

  setMarketReduceOnlyIx(p: {
    signer: PublicKey;
    marketIndex: number;
    reduceOnly: boolean;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .setMarketReduceOnly(p.reduceOnly)
      .accountsStrict({ signer: p.signer, exchange: this.exchangeAddress(), market: this.marketAddress(p.marketIndex) })
      .instruction();
  }

  proposeAuthorityIx(p: { authority: PublicKey; newAuthority: PublicKey }): Promise<TransactionInstruction> {
    return this.program.methods
      .proposeAuthority(p.newAuthority)
      .accountsStrict({ authority: p.authority, exchange: this.exchangeAddress() })
      .instruction();
  }

  acceptAuthorityIx(p: { newAuthority: PublicKey }): Promise<TransactionInstruction> {
    return this.program.methods
      .acceptAuthority()
      .accountsStrict({ newAuthority: p.newAuthority, exchange: this.exchangeAddress() })
      .instruction();
  }

  setGuardianIx(p: { authority: PublicKey; guardian: PublicKey }): Promise<TransactionInstruction> {
    return this.program.methods
      .setGuardian(p.guardian)
      .accountsStrict({ authority: p.authority, exchange: this.exchangeAddress() })
      .instruction();
  }

  updateRiskParamsIx(p: {
    authority: PublicKey;
    marketIndex: number;
    params: RiskParams;
  }): Promise<TransactionInstruction> {
    return this.program.methods
      .updateRiskParams(p.params)
      .accountsStrict({
        authority: p.authority,
        exchange: this.exchangeAddress(),
        market: this.marketAddress(p.marketIndex),
      })
      .instruction();
  }

  executeRiskUpdateIx(p: { marketIndex: number }): Promise<TransactionInstruction> {
    return this.program.methods
      .executeRiskUpdate()
      .accountsStrict({ market: this.marketAddress(p.marketIndex) })
      .instruction();
  }

  cancelRiskUpdateIx(p: { signer: PublicKey; marketIndex: number }): Promise<TransactionInstruction> {
    return this.program.methods
      .cancelRiskUpdate()
      .accountsStrict({ signer: p.signer, exchange: this.exchangeAddress(), market: this.marketAddress(p.marketIndex) })
      .instruction();
  }

  // ---- sending ----

  /**
   * Sends the instructions in one transaction (fee payer: the provider's wallet) and waits for
   * confirmation. A failure is translated with the IDL's errors: program errors become
   * `AnchorError`s (`errors.programFailure` reads the name and number).
   */
  async send(ixs: TransactionInstruction[], signers: Signer[] = [], opts?: ConfirmOptions): Promise<SendResult> {
    const tx = new Transaction().add(...ixs);
    const payer = this.payer;
    const extra = dedupeSigners(signers.filter((s) => !s.publicKey.equals(payer)));
    try {
      const signature = await this.provider.sendAndConfirm(tx, extra, opts);
      return { signature };
    } catch (err) {
      throw translate(err);
    }
  }

  /** Sends and returns the program's events from the confirmed transaction's logs. */
  async sendWithEvents(
    ixs: TransactionInstruction[],
    signers: Signer[] = [],
  ): Promise<SendResult & { logs: string[]; events: DecodedEvent[] }> {
    const { signature } = await this.send(ixs, signers);
    const logs = await transactionLogs(this.connection, signature);
    return { signature, logs, events: parseEvents(logs, this.programId) };
  }

  /** The program's events in a confirmed transaction. */
  async eventsOf(signature: string): Promise<DecodedEvent[]> {
    return parseEvents(await transactionLogs(this.connection, signature), this.programId);
  }

  // ---- flows: fetch what is needed, build, send ----

  async initializeExchange(p: {
    authority: Signer;
    collateralMint: PublicKey;
    config: ExchangeConfig;
  }): Promise<SendResult> {
    const ix = await this.initializeExchangeIx({
      authority: p.authority.publicKey,
      collateralMint: p.collateralMint,
      config: p.config,
    });
    return this.send([ix], [p.authority]);
  }

  /** Creates the next market (index = the exchange's `market_count`) and registers its oracles. */
  async createMarket(p: {
    authority: Signer;
    name: number[];
    oracle: OracleConfig;
    risk: RiskParams;
    pyth: PublicKey;
  }): Promise<SendResult & { marketIndex: number; market: PublicKey }> {
    const marketIndex = (await this.fetchExchange()).marketCount;
    const switchboard = p.oracle.switchboardFeed.equals(PublicKey.default) ? null : p.oracle.switchboardFeed;
    const ix = await this.createMarketIx({
      authority: p.authority.publicKey,
      marketIndex,
      name: p.name,
      oracle: p.oracle,
      risk: p.risk,
    });
    const res = await this.send([ix], [p.authority]);
    this.setMarketOracles(marketIndex, { pyth: p.pyth, switchboard });
    return { ...res, marketIndex, market: this.marketAddress(marketIndex) };
  }

  async createMarginAccount(owner: Signer, subAccountId = 0): Promise<SendResult & { marginAccount: PublicKey }> {
    const ix = await this.createMarginAccountIx({ owner: owner.publicKey, subAccountId });
    const res = await this.send([ix], [owner]);
    return { ...res, marginAccount: this.marginAccountAddress(owner.publicKey, subAccountId) };
  }

  async deposit(p: {
    depositor: Signer;
    marginAccount: PublicKey;
    source: PublicKey;
    amount: Numeric;
  }): Promise<SendResult> {
    const ix = await this.depositIx({ ...p, depositor: p.depositor.publicKey });
    return this.send([ix], [p.depositor]);
  }

  /** Withdraws to `destination`, passing a market group for every market the account holds. */
  async withdraw(p: {
    owner: Signer;
    marginAccount: PublicKey;
    destination: PublicKey;
    amount: Numeric;
  }): Promise<SendResult> {
    const account = await this.fetchMarginAccount(p.marginAccount);
    const ix = await this.withdrawIx({
      owner: p.owner.publicKey,
      marginAccount: p.marginAccount,
      destination: p.destination,
      amount: p.amount,
      healthAccounts: this.healthAccounts(account),
    });
    return this.send([ix], [p.owner]);
  }

  /**
   * Places an order signed by `authority` (owner or delegate). Returns the order id the program
   * assigned (`next_order_id` before the call).
   */
  async placeOrder(p: {
    authority: Signer;
    marginAccount: PublicKey;
    order: PlaceOrderParams;
  }): Promise<SendResult & { orderId: bigint }> {
    const account = await this.fetchMarginAccount(p.marginAccount);
    const ix = await this.placeOrderIx({
      authority: p.authority.publicKey,
      marginAccount: p.marginAccount,
      order: p.order,
      remaining: this.marketGroups([account], p.order.marketIndex),
    });
    const res = await this.send([ix], [p.authority]);
    return { ...res, orderId: big(account.nextOrderId) };
  }

  /** Places `take.order` and crosses it against `take.makers` in one transaction. */
  async placeAndTake(p: {
    authority: Signer;
    marginAccount: PublicKey;
    take: TakeParams;
  }): Promise<SendResult & { orderId: bigint; events: DecodedEvent[] }> {
    const accounts = await Promise.all(
      [p.marginAccount, ...p.take.makers.map((m) => m.marginAccount)].map((k) => this.fetchMarginAccount(k)),
    );
    const ix = await this.placeAndTakeIx({
      authority: p.authority.publicKey,
      marginAccount: p.marginAccount,
      take: p.take,
      groups: this.marketGroups(accounts, p.take.order.marketIndex),
    });
    const res = await this.sendWithEvents([ix], [p.authority]);
    return { ...res, orderId: big(accounts[0].nextOrderId) };
  }

  async triggerOrder(p: {
    keeper: Signer;
    keeperAccount: PublicKey;
    marginAccount: PublicKey;
    marketIndex: number;
    orderId: Numeric;
  }): Promise<SendResult & { events: DecodedEvent[] }> {
    const ix = await this.triggerOrderIx({ ...p, keeper: p.keeper.publicKey });
    return this.sendWithEvents([ix], [p.keeper]);
  }

  async cancelOrder(p: { authority: Signer; marginAccount: PublicKey; orderId: Numeric }): Promise<SendResult> {
    const ix = await this.cancelOrderIx({ ...p, authority: p.authority.publicKey });
    return this.send([ix], [p.authority]);
  }

  async cancelAllOrders(p: {
    authority: Signer;
    marginAccount: PublicKey;
    marketIndex?: number | null;
  }): Promise<SendResult> {
    const ix = await this.cancelAllOrdersIx({ ...p, authority: p.authority.publicKey });
    return this.send([ix], [p.authority]);
  }

  /** Matches two resting orders; the filler's reward goes to `fillerAccount` (owned by `filler`). */
  async fillOrders(p: {
    filler: Signer;
    fillerAccount: PublicKey;
    fill: FillParams;
  }): Promise<SendResult & { events: DecodedEvent[] }> {
    const [taker, maker] = await Promise.all([
      this.fetchMarginAccount(p.fill.taker),
      this.fetchMarginAccount(p.fill.maker),
    ]);
    const ix = await this.fillOrdersIx({
      filler: p.filler.publicKey,
      fillerAccount: p.fillerAccount,
      fill: p.fill,
      remaining: this.marketGroups([taker, maker], p.fill.marketIndex),
    });
    return this.sendWithEvents([ix], [p.filler]);
  }

  async liquidate(p: {
    liquidator: Signer;
    liquidatorAccount: PublicKey;
    target: PublicKey;
    marketIndex: number;
    maxBaseAmount?: Numeric;
  }): Promise<SendResult & { events: DecodedEvent[]; logs: string[] }> {
    const [target, liquidator] = await Promise.all([
      this.fetchMarginAccount(p.target),
      this.fetchMarginAccount(p.liquidatorAccount),
    ]);
    const ix = await this.liquidateIx({
      liquidator: p.liquidator.publicKey,
      liquidatorAccount: p.liquidatorAccount,
      target: p.target,
      marketIndex: p.marketIndex,
      maxBaseAmount: p.maxBaseAmount ?? 18_446_744_073_709_551_615n,
      remaining: this.marketGroups([target, liquidator], p.marketIndex),
    });
    return this.sendWithEvents([ix], [p.liquidator]);
  }

  async resolveBankruptcy(p: {
    keeper: Signer;
    keeperAccount: PublicKey;
    target: PublicKey;
    marketIndex: number;
  }): Promise<SendResult & { events: DecodedEvent[] }> {
    const target = await this.fetchMarginAccount(p.target);
    const ix = await this.resolveBankruptcyIx({
      keeper: p.keeper.publicKey,
      keeperAccount: p.keeperAccount,
      target: p.target,
      marketIndex: p.marketIndex,
      remaining: this.marketGroups([target], p.marketIndex),
    });
    return this.sendWithEvents([ix], [p.keeper]);
  }

  /** Opens `owner`'s insurance stake account if it does not exist yet, then stakes `amount`. */
  async stakeInsurance(p: {
    owner: Signer;
    source: PublicKey;
    amount: Numeric;
  }): Promise<SendResult & { events: DecodedEvent[] }> {
    const ixs: TransactionInstruction[] = [];
    const stake = this.insuranceStakeAddress(p.owner.publicKey);
    if (!(await this.connection.getAccountInfo(stake, "confirmed"))) {
      ixs.push(await this.openInsuranceStakeIx({ owner: p.owner.publicKey }));
    }
    ixs.push(await this.stakeInsuranceIx({ owner: p.owner.publicKey, source: p.source, amount: p.amount }));
    return this.sendWithEvents(ixs, [p.owner]);
  }

  async requestUnstake(p: { owner: Signer; shares: Numeric }): Promise<SendResult & { events: DecodedEvent[] }> {
    return this.sendWithEvents(
      [await this.requestUnstakeIx({ owner: p.owner.publicKey, shares: p.shares })],
      [p.owner],
    );
  }

  async unstakeInsurance(p: {
    owner: Signer;
    destination: PublicKey;
  }): Promise<SendResult & { events: DecodedEvent[] }> {
    const ix = await this.unstakeInsuranceIx({ owner: p.owner.publicKey, destination: p.destination });
    return this.sendWithEvents([ix], [p.owner]);
  }

  async setDelegate(p: { owner: Signer; marginAccount: PublicKey; delegate: PublicKey }): Promise<SendResult> {
    return this.send([await this.setDelegateIx({ ...p, owner: p.owner.publicKey })], [p.owner]);
  }

  /** Closes instruction groups; the guardian may only close `PausedOperations.GuardianPausable`. */
  async pauseOperations(p: { signer: Signer; operations: number }): Promise<SendResult & { events: DecodedEvent[] }> {
    return this.sendWithEvents([await this.pauseOperationsIx({ signer: p.signer.publicKey, operations: p.operations })], [
      p.signer,
    ]);
  }

  /** Governance reopens instruction groups. */
  async resumeOperations(p: {
    authority: Signer;
    operations: number;
  }): Promise<SendResult & { events: DecodedEvent[] }> {
    const ix = await this.resumeOperationsIx({ authority: p.authority.publicKey, operations: p.operations });
    return this.sendWithEvents([ix], [p.authority]);
  }

  async refreshMarket(marketIndex: number): Promise<SendResult & { events: DecodedEvent[] }> {
    return this.sendWithEvents([await this.refreshMarketIx({ marketIndex })]);
  }

  async updateFunding(marketIndex: number): Promise<SendResult & { events: DecodedEvent[] }> {
    return this.sendWithEvents([await this.updateFundingIx({ marketIndex })]);
  }

  // ---- previews ----

  /**
   * The program's health of an account at the given oracle prices (1e6 per market index), from
   * fetched market state: the off-chain mirror of `health::account_health`. With `slot`, each
   * market's stable price follows its (valid) price up to that slot, as an instruction running
   * then would see it; without, the stored stable prices are used.
   */
  async previewHealth(account: MarginAccount, prices: Record<number, bigint>, slot?: bigint) {
    const snapshots: Record<number, MarketSnapshotInput> = {};
    for (const p of activePositions(account)) {
      const price = prices[p.marketIndex];
      if (price === undefined) throw new Error(`no price for market ${p.marketIndex}`);
      snapshots[p.marketIndex] = { market: await this.fetchMarket(p.marketIndex), price, slot };
    }
    return accountHealth(account, snapshots);
  }
}

function dedupeSigners(signers: Signer[]): Signer[] {
  const seen = new Set<string>();
  return signers.filter((s) => {
    const k = s.publicKey.toBase58();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
