// Program events (`emit!` -> "Program data:" log lines) decoded with the IDL.
import { BorshCoder, EventParser } from "@coral-xyz/anchor";
import { convertIdlToCamelCase } from "@coral-xyz/anchor/dist/cjs/idl.js";
import { Connection, PublicKey } from "@solana/web3.js";

import type { MarginEngineEventName, MarginEngineEvents } from "./accounts";
import { PROGRAM_ID } from "./constants";
import { IDL_JSON } from "./idl/margin_engine";

export type DecodedEvent = {
  [N in MarginEngineEventName]: { name: N; data: MarginEngineEvents[N] };
}[MarginEngineEventName];

const coder = new BorshCoder(convertIdlToCamelCase(IDL_JSON));

/** Every event of this program in a transaction's logs, in order. */
export function parseEvents(logs: string[], programId: PublicKey = PROGRAM_ID): DecodedEvent[] {
  const parser = new EventParser(programId, coder);
  return Array.from(parser.parseLogs(logs)) as DecodedEvent[];
}

/** Only the events with this name. */
export function eventsNamed<N extends MarginEngineEventName>(events: DecodedEvent[], name: N): MarginEngineEvents[N][] {
  return events.filter((e) => e.name === name).map((e) => e.data as MarginEngineEvents[N]);
}

/** Logs of a confirmed transaction (getTransaction, meta.logMessages). */
export async function transactionLogs(connection: Connection, signature: string): Promise<string[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const tx = await connection.getTransaction(signature, {
      commitment: "confirmed",
      maxSupportedTransactionVersion: 0,
    });
    if (tx?.meta?.logMessages) return tx.meta.logMessages;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no logs for transaction ${signature}`);
}
