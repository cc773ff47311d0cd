// Test harness, kept outside test/ so `node --test dist/test/` does not run it as a test file:
// spawns the project's localnet binary on a free port (HTTP on PORT, websocket on PORT+1) with the
// margin engine loaded, waits until it answers getHealth, and stops it.
//   LOCALNET_BIN      default <repo>/target/sbf-suite/debug/localnet
//   MARGIN_ENGINE_SO  default <repo>/target/deploy/margin_engine.so
//   KEEP_LOCALNET_LOG set: keep $TMPDIR/margin-engine-localnet-<port>.log after a clean run too
import { ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

import { Connection } from "@solana/web3.js";

import { PROGRAM_ID } from "../src/constants";
import { rpcCall } from "../src/localnet";

/** The repository root: the first ancestor of this file holding app/ts/package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, "app", "ts", "package.json"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no repository root above ${__dirname}`);
    dir = parent;
  }
}

export function localnetBinary(): string {
  return process.env.LOCALNET_BIN ?? path.join(repoRoot(), "target", "sbf-suite", "debug", "localnet");
}

export function programSo(): string {
  return process.env.MARGIN_ENGINE_SO ?? path.join(repoRoot(), "target", "deploy", "margin_engine.so");
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A port P with P and P+1 both free on 127.0.0.1. */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await ephemeralPort();
    if (port > 0 && port < 65535 && (await portFree(port + 1))) return port;
  }
  throw new Error("no free pair of adjacent ports");
}

export interface Localnet {
  rpcUrl: string;
  port: number;
  connection: Connection;
  /** Everything the process printed, for failure messages. */
  output(): string;
  /** File holding everything the process printed. */
  logPath: string;
  /** Set when the process ended by itself (before stop()). */
  exitStatus(): string | undefined;
  /** Panic messages the process printed (it may keep running with a poisoned lock after one). */
  panics(): string[];
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Milliseconds to wait for getHealth == "ok". */
  timeoutMs?: number;
}

/** Starts the localnet with the margin engine program loaded. */
export async function startLocalnet(options: StartOptions = {}): Promise<Localnet> {
  const bin = localnetBinary();
  const so = programSo();
  if (!existsSync(bin)) throw new Error(`localnet binary not found at ${bin} (set LOCALNET_BIN)`);
  if (!existsSync(so)) throw new Error(`program not found at ${so} (set MARGIN_ENGINE_SO)`);
  const port = await freePortPair();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(bin, ["--rpc-port", String(port), "--bpf-program", PROGRAM_ID.toBase58(), so], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Everything it prints also goes to a log file, named in failure messages.
  const logPath = path.join(os.tmpdir(), `margin-engine-localnet-${port}.log`);
  const log = createWriteStream(logPath);
  let output = "";
  let ready = false;
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    log.write(chunk);
    if (output.includes(`localnet ready ${rpcUrl}`)) ready = true;
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    log.write(chunk);
  });
  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = `exited with code ${code} signal ${signal}`;
      log.end();
      resolve();
    });
  });
  const connection = new Connection(rpcUrl, { commitment: "confirmed" });
  const stop = async () => {
    if (exited !== undefined) return;
    // web3.js closes its signature websocket 500 ms after the last subscription ends; killing the
    // server before that makes it reconnect forever (and keeps this process alive). Let it close,
    // then close it explicitly in case it is still open.
    await new Promise((r) => setTimeout(r, 600));
    try {
      (connection as unknown as { _rpcWebSocket?: { close(): void } })._rpcWebSocket?.close();
    } catch {
      // not open
    }
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exitPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (exited !== undefined) throw new Error(`localnet ${exited} before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`localnet did not answer getHealth within the timeout:\n${output}`);
    }
    try {
      if ((await rpcCall<string>(rpcUrl, "getHealth", [])) === "ok") break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, ready ? 50 : 200));
  }
  const panics = () => {
    const lines = output.split("\n");
    const found: string[] = [];
    lines.forEach((line, i) => {
      if (line.includes("panicked at")) found.push(`${line.trim()} ${lines[i + 1]?.trim() ?? ""}`);
    });
    return found;
  };
  let stopping = false;
  const stopOnce = async () => {
    const clean = exited === undefined && panics().length === 0;
    stopping = true;
    await stop();
    // Keep the log only when something went wrong (failure messages name it).
    if (clean && !process.env.KEEP_LOCALNET_LOG) rmSync(logPath, { force: true });
  };
  const exitStatus = () => (stopping ? undefined : exited);
  return { rpcUrl, port, connection, logPath, output: () => output, exitStatus, panics, stop: stopOnce };
}
