// Pyth pull-oracle `PriceUpdateV2` account bytes: the layout the program reads at fixed offsets
// (programs/margin-engine/src/oracle/pyth.rs) and the mock updates the Rust test harness writes
// (`write_pyth_full` in tests/src/env.rs): Borsh after an 8-byte Anchor discriminator, owned by
// the Pyth receiver program, padded to `PriceUpdateV2::LEN`.
import { createHash } from "node:crypto";

import { Connection, PublicKey, SYSVAR_CLOCK_PUBKEY } from "@solana/web3.js";

/** `PriceUpdateV2::LEN`: 8 + 32 + 2 + 32 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 8. */
export const PRICE_UPDATE_V2_LEN = 134;
/** Exponent the mock updates use, as most Pyth crypto feeds do (`PYTH_EXPONENT` in env.rs). */
export const MOCK_PYTH_EXPONENT = -8;

const VERIFICATION_TAG_OFFSET = 8 + 32;
const TAG_PARTIAL = 0;
const TAG_FULL = 1;

/** Anchor account discriminator: sha256("account:PriceUpdateV2")[..8]. */
export const PRICE_UPDATE_V2_DISCRIMINATOR: Buffer = createHash("sha256")
  .update("account:PriceUpdateV2")
  .digest()
  .subarray(0, 8);

export type VerificationLevel = { kind: "full" } | { kind: "partial"; numSignatures: number };

export interface PriceUpdateV2 {
  writeAuthority: PublicKey;
  verificationLevel: VerificationLevel;
  /** 32 bytes. */
  feedId: Uint8Array;
  price: bigint;
  conf: bigint;
  exponent: number;
  publishTime: bigint;
  prevPublishTime: bigint;
  emaPrice: bigint;
  emaConf: bigint;
  postedSlot: bigint;
}

/** Borsh-serialises an update exactly as the receiver program stores it. */
export function encodePriceUpdateV2(update: PriceUpdateV2): Buffer {
  if (update.feedId.length !== 32) throw new RangeError("feedId must be 32 bytes");
  const data = Buffer.alloc(PRICE_UPDATE_V2_LEN);
  PRICE_UPDATE_V2_DISCRIMINATOR.copy(data, 0);
  update.writeAuthority.toBuffer().copy(data, 8);
  let at = VERIFICATION_TAG_OFFSET;
  if (update.verificationLevel.kind === "full") {
    data.writeUInt8(TAG_FULL, at);
    at += 1;
  } else {
    data.writeUInt8(TAG_PARTIAL, at);
    data.writeUInt8(update.verificationLevel.numSignatures, at + 1);
    at += 2;
  }
  Buffer.from(update.feedId).copy(data, at);
  at += 32;
  data.writeBigInt64LE(update.price, at);
  data.writeBigUInt64LE(update.conf, at + 8);
  data.writeInt32LE(update.exponent, at + 16);
  data.writeBigInt64LE(update.publishTime, at + 20);
  data.writeBigInt64LE(update.prevPublishTime, at + 28);
  data.writeBigInt64LE(update.emaPrice, at + 36);
  data.writeBigUInt64LE(update.emaConf, at + 44);
  data.writeBigUInt64LE(update.postedSlot, at + 52);
  return data;
}

export function decodePriceUpdateV2(data: Buffer | Uint8Array): PriceUpdateV2 {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length <= VERIFICATION_TAG_OFFSET || !buf.subarray(0, 8).equals(PRICE_UPDATE_V2_DISCRIMINATOR)) {
    throw new Error("not a PriceUpdateV2 account");
  }
  const tag = buf.readUInt8(VERIFICATION_TAG_OFFSET);
  let verificationLevel: VerificationLevel;
  let at: number;
  if (tag === TAG_FULL) {
    verificationLevel = { kind: "full" };
    at = VERIFICATION_TAG_OFFSET + 1;
  } else if (tag === TAG_PARTIAL) {
    verificationLevel = { kind: "partial", numSignatures: buf.readUInt8(VERIFICATION_TAG_OFFSET + 1) };
    at = VERIFICATION_TAG_OFFSET + 2;
  } else {
    throw new Error(`unknown verification level tag ${tag}`);
  }
  if (buf.length < at + 92) throw new Error("PriceUpdateV2 account too short");
  return {
    writeAuthority: new PublicKey(buf.subarray(8, 40)),
    verificationLevel,
    feedId: Uint8Array.from(buf.subarray(at, at + 32)),
    price: buf.readBigInt64LE(at + 32),
    conf: buf.readBigUInt64LE(at + 40),
    exponent: buf.readInt32LE(at + 48),
    publishTime: buf.readBigInt64LE(at + 52),
    prevPublishTime: buf.readBigInt64LE(at + 60),
    emaPrice: buf.readBigInt64LE(at + 68),
    emaConf: buf.readBigUInt64LE(at + 76),
    postedSlot: buf.readBigUInt64LE(at + 84),
  };
}

export interface MockPriceParams {
  feedId: Uint8Array;
  /** Price in quote native units per whole base (1e6), e.g. 100_000_000n for $100. */
  price: bigint;
  /** Confidence half-width, same scale. Default 0. */
  conf?: bigint;
  /** EMA price, same scale. Default: `price` (a consistent oracle). */
  emaPrice?: bigint;
  postedSlot: bigint;
  publishTime: bigint;
  verificationLevel?: VerificationLevel;
  writeAuthority?: PublicKey;
}

/**
 * A mock update as `write_pyth_full` writes it: exponent -8 (so the stored values are the 1e6
 * prices × 100), previous publish time one second earlier, fully verified by default.
 */
export function mockPriceUpdate(params: MockPriceParams): PriceUpdateV2 {
  const scale = 100n; // 1e6 -> 1e8
  const conf = params.conf ?? 0n;
  return {
    writeAuthority: params.writeAuthority ?? PublicKey.default,
    verificationLevel: params.verificationLevel ?? { kind: "full" },
    feedId: params.feedId,
    price: params.price * scale,
    conf: conf * scale,
    exponent: MOCK_PYTH_EXPONENT,
    publishTime: params.publishTime,
    prevPublishTime: params.publishTime - 1n,
    emaPrice: (params.emaPrice ?? params.price) * scale,
    emaConf: conf * scale,
    postedSlot: params.postedSlot,
  };
}

/** `oracle::pyth::scale_price`: a Pyth value `v × 10^exponent` to 1e6 quote per base, truncated. */
export function scalePythPrice(value: bigint, exponent: number): bigint {
  const shift = exponent + 6;
  if (shift < -18 || shift > 12) throw new RangeError("oracle exponent out of range");
  const factor = 10n ** BigInt(Math.abs(shift));
  return shift >= 0 ? value * factor : value / factor; // BigInt division truncates toward zero
}

/** `oracle::pyth::scale_confidence`: rounded up. */
export function scalePythConfidence(conf: bigint, exponent: number): bigint {
  const shift = exponent + 6;
  if (shift < -18 || shift > 12) throw new RangeError("oracle exponent out of range");
  const factor = 10n ** BigInt(Math.abs(shift));
  return shift >= 0 ? conf * factor : (conf + factor - 1n) / factor;
}

/** A feed id for tests and mocks: 32 copies of one byte (as the Rust harness uses). */
export function feedIdFromByte(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}

export interface ClockSysvar {
  slot: bigint;
  epochStartTimestamp: bigint;
  epoch: bigint;
  leaderScheduleEpoch: bigint;
  unixTimestamp: bigint;
}

/** Reads the Clock sysvar (slot u64 at 0, epoch_start_timestamp i64 at 8, epoch u64 at 16,
 * leader_schedule_epoch u64 at 24, unix_timestamp i64 at 32). */
export async function readClock(connection: Connection): Promise<ClockSysvar> {
  const info = await connection.getAccountInfo(SYSVAR_CLOCK_PUBKEY, "processed");
  if (!info || info.data.length < 40) throw new Error("Clock sysvar not readable");
  const d = info.data;
  return {
    slot: d.readBigUInt64LE(0),
    epochStartTimestamp: d.readBigInt64LE(8),
    epoch: d.readBigUInt64LE(16),
    leaderScheduleEpoch: d.readBigUInt64LE(24),
    unixTimestamp: d.readBigInt64LE(32),
  };
}
