// The project's local JSON-RPC network (tests/localnet): its admin method `localnet_setAccount`
// overwrites an account, which is how mock Pyth prices are written and crashed.
import { Connection, PublicKey } from "@solana/web3.js";

import { BPF_LOADER_UPGRADEABLE_PROGRAM_ID, PROGRAM_ID, PYTH_RECEIVER_PROGRAM_ID } from "./constants";
import { programDataHeader, programDataPda } from "./pda";
import { encodePriceUpdateV2, mockPriceUpdate, MockPriceParams, readClock } from "./pyth";

export interface RawAccount {
  lamports: number | bigint;
  data: Buffer | Uint8Array;
  owner: PublicKey;
  executable?: boolean;
}

let requestId = 0;

/** Calls one JSON-RPC method; throws with the method, params and error on failure. */
export async function rpcCall<T = unknown>(rpcUrl: string, method: string, params: unknown[]): Promise<T> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: ++requestId, method, params });
  const res = await fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
  const text = await res.text();
  let json: { result?: T; error?: unknown };
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${method}: HTTP ${res.status}, not JSON: ${text.slice(0, 500)}`);
  }
  if (json.error !== undefined) {
    throw new Error(`${method} ${JSON.stringify(params).slice(0, 300)} failed: ${JSON.stringify(json.error)}`);
  }
  return json.result as T;
}

/** `localnet_setAccount [pubkey, {lamports, data: [base64, "base64"], owner, executable}]`. */
export async function setAccount(rpcUrl: string, address: PublicKey, account: RawAccount): Promise<void> {
  await rpcCall(rpcUrl, "localnet_setAccount", [
    address.toBase58(),
    {
      lamports: Number(account.lamports),
      data: [Buffer.from(account.data).toString("base64"), "base64"],
      owner: account.owner.toBase58(),
      executable: account.executable ?? false,
    },
  ]);
}

/** `localnet_warp [slot, unix_timestamp]`: jumps the clock forward (slot and unix time both). */
export async function warp(rpcUrl: string, slot: bigint, unixTimestamp: bigint): Promise<void> {
  await rpcCall(rpcUrl, "localnet_warp", [Number(slot), Number(unixTimestamp)]);
}

/**
 * Moves the clock `slots` forward, one second per slot (as the Rust harness's `advance_slots`).
 * Oracle prices published before it age accordingly: re-publish them after.
 */
export async function advanceSlots(connection: Connection, slots: bigint): Promise<void> {
  const clock = await readClock(connection);
  await warp(connection.rpcEndpoint, clock.slot + slots, clock.unixTimestamp + slots);
}

/**
 * Writes the program's ProgramData account (`programDataPda`) naming `upgradeAuthority` (the
 * Rust harness's `write_program_data`): the localnet loads the program non-upgradeably, and
 * `initialize_exchange` only runs for the program's upgrade authority.
 */
export async function writeProgramData(
  rpcUrl: string,
  upgradeAuthority: PublicKey | null,
  programId: PublicKey = PROGRAM_ID,
): Promise<PublicKey> {
  const address = programDataPda(programId);
  await setAccount(rpcUrl, address, {
    lamports: MOCK_ACCOUNT_LAMPORTS,
    data: programDataHeader(upgradeAuthority),
    owner: BPF_LOADER_UPGRADEABLE_PROGRAM_ID,
  });
  return address;
}

/** Lamports the mock oracle accounts carry (as the Rust harness's `RENT_EXEMPT_LAMPORTS`). */
export const MOCK_ACCOUNT_LAMPORTS = 10_000_000;

/**
 * Writes a fully verified mock Pyth `PriceUpdateV2` at `address`, owned by the Pyth receiver,
 * published "now" by the cluster's Clock sysvar (posted_slot = clock slot, publish_time = clock
 * unix_timestamp) unless given. Returns the update's slot and time.
 */
export async function writeMockPythPrice(
  connection: Connection,
  address: PublicKey,
  params: Omit<MockPriceParams, "postedSlot" | "publishTime"> &
    Partial<Pick<MockPriceParams, "postedSlot" | "publishTime">>,
): Promise<{ postedSlot: bigint; publishTime: bigint }> {
  let { postedSlot, publishTime } = params;
  if (postedSlot === undefined || publishTime === undefined) {
    const clock = await readClock(connection);
    postedSlot ??= clock.slot;
    publishTime ??= clock.unixTimestamp;
  }
  const data = encodePriceUpdateV2(mockPriceUpdate({ ...params, postedSlot, publishTime }));
  await setAccount(connection.rpcEndpoint, address, {
    lamports: MOCK_ACCOUNT_LAMPORTS,
    data,
    owner: PYTH_RECEIVER_PROGRAM_ID,
  });
  return { postedSlot, publishTime };
}
