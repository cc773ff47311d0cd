// Program error codes (from the IDL) and extraction of the code a failed transaction reports.
import { AnchorError, ProgramError, translateError } from "@coral-xyz/anchor";

import { IDL_JSON } from "./idl/margin_engine";

/** Error name (as in error.rs) -> number (6000 + index). */
export const ERROR_CODES: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries((IDL_JSON.errors ?? []).map((e) => [e.name, e.code])),
);

/** Number -> message, the map Anchor's `translateError` takes. */
export const IDL_ERRORS: Map<number, string> = new Map((IDL_JSON.errors ?? []).map((e) => [e.code, e.msg ?? e.name]));

export function errorCode(name: string): number {
  const code = ERROR_CODES[name];
  if (code === undefined) throw new Error(`no error named ${name} in the IDL`);
  return code;
}

export interface ProgramFailure {
  /** Error name, e.g. "InsufficientCollateral" (Anchor's own errors too, e.g. "ConstraintSeeds"). */
  name: string;
  number: number;
  message: string;
  logs: string[];
}

/** Turns a send/simulate error into an Anchor error where the logs or the code allow it. */
export function translate(err: unknown): unknown {
  return translateError(err, IDL_ERRORS);
}

/** The program error a failed transaction carries, or undefined when it is not one. */
export function programFailure(err: unknown): ProgramFailure | undefined {
  const e = err instanceof AnchorError || err instanceof ProgramError ? err : translate(err);
  if (e instanceof AnchorError) {
    return {
      name: e.error.errorCode.code,
      number: e.error.errorCode.number,
      message: e.error.errorMessage,
      logs: e.logs,
    };
  }
  if (e instanceof ProgramError) {
    const name = Object.entries(ERROR_CODES).find(([, n]) => n === e.code)?.[0] ?? String(e.code);
    return { name, number: e.code, message: e.msg, logs: e.logs ?? [] };
  }
  return undefined;
}
