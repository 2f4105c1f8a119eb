/**
 * The servers the persistence tests run against: Respite under each runtime,
 * the single executable `npm run compile` builds, or redis-server itself, so
 * every scenario can first be checked against the real thing
 * (RESPITE_RUNTIMES=redis). Also what those tests share: starting a server in
 * a given dir and waiting until it has loaded, INFO fields, stopping with a
 * signal and waiting for the exit.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RawConnection } from "./raw.ts";
import { respiteCommand, ROOT, type Runtime, RUNTIMES, type ServerHandle, startCompiled, startRedis, startRespite } from "./servers.ts";

export type Target = Runtime | "compiled" | "redis";

/**
 * RESPITE_RUNTIMES (bun,deno,node by default) may also name "redis" and
 * "compiled". Without it, the tests that cover the compiled binary add it.
 */
export function targets(withCompiled: boolean): Target[] {
  const named = RUNTIMES as Target[];
  if (process.env.RESPITE_RUNTIMES) return withCompiled ? named : named.filter((t) => t !== "compiled");
  return withCompiled ? [...named, "compiled"] : named;
}

let compiled: string | undefined;

/** Builds the single executable once per test process, as `npm run compile` does, into a private path. */
export function compiledBinary(): string {
  if (compiled) return compiled;
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "respite-compiled-")), "respite");
  const r = spawnSync(path.join(ROOT, "node_modules/.bin/bun"), ["build", "adapters/cli.ts", "--compile", "--outfile", out], {
    cwd: ROOT, encoding: "utf8", timeout: 180_000,
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  compiled = out;
  return out;
}

/** Persistence off unless args turn it on (later flags win, as in redis-server). */
const QUIET = ["--save", "", "--appendonly", "no"];

export function startTarget(t: Target, args: string[]): Promise<ServerHandle> {
  if (t === "redis") return startRedis(args);
  if (t === "compiled") return startCompiled(compiledBinary(), [...QUIET, ...args]);
  return startRespite(t, [...QUIET, ...args]);
}

/** The command line that starts t with args (for servers expected to exit at once). */
function targetCommand(t: Target, args: string[], port: number): [string, string[]] {
  const common = ["--port", String(port), "--bind", "127.0.0.1", ...QUIET, ...args];
  if (t === "redis") return ["redis-server", common];
  if (t === "compiled") return [compiledBinary(), ["--gateway", "no", ...common]];
  const [cmd, base] = respiteCommand(t);
  return [cmd, [...base, "--gateway", "no", ...common]];
}

/** Runs a server expected to refuse its start: exit code and everything it printed. */
export function runUntilExit(t: Target, args: string[], port: number, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const [cmd, argv] = targetCommand(t, args, port);
  return runProgram(cmd, argv, timeoutMs);
}

/** Runs a program to its end (killed after timeoutMs): exit code and everything it printed. */
export function runProgram(cmd: string, argv: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

export async function info(conn: RawConnection, section = "persistence"): Promise<Map<string, string>> {
  const raw = (await conn.call("INFO", section)).toString("latin1");
  const out = new Map<string, string>();
  for (const line of raw.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until cond() holds; fails with what() after timeoutMs. */
export async function until(cond: () => Promise<boolean> | boolean, what: () => string, timeoutMs = 15_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what()}`);
    await sleep(everyMs);
  }
}

/** Connects and waits until the server has finished loading (PING answers PONG, not -LOADING). */
export async function connectLoaded(server: ServerHandle, timeoutMs = 60_000): Promise<RawConnection> {
  const conn = await RawConnection.connect(server.port);
  let last = "";
  await until(async () => (last = (await conn.call("PING")).toString("latin1")) === "+PONG\r\n", () => `PING: ${last}\n${server.output().slice(-2000)}`, timeoutMs, 50);
  return conn;
}

/** Waits until no BGSAVE is running; returns INFO persistence then. */
export async function bgsaveDone(conn: RawConnection, timeoutMs = 60_000): Promise<Map<string, string>> {
  let fields = new Map<string, string>();
  await until(async () => (fields = await info(conn)).get("rdb_bgsave_in_progress") === "0", () => `rdb_bgsave_in_progress=${fields.get("rdb_bgsave_in_progress")}`, timeoutMs);
  return fields;
}

/** Waits for the process to exit, after sending it signal if given; returns its exit code (null when a signal ended it). */
export function exited(server: ServerHandle, signal?: NodeJS.Signals, timeoutMs = 30_000): Promise<number | null> {
  const p = server.process;
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve(p.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still running ${timeoutMs} ms later${signal ? ` (${signal})` : ""}:\n${server.output().slice(-2000)}`)), timeoutMs);
    p.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    if (signal) p.kill(signal);
  });
}

/** Runs redis-check-rdb on a file: its exit code and output. */
export function checkRdb(file: string): { status: number | null; out: string } {
  const r = spawnSync("redis-check-rdb", [file], { encoding: "latin1", timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

/**
 * kill -9 of the server and of any child it forked (redis-server's BGSAVE or
 * rewrite child), as a machine crash would: nothing of it runs on.
 */
export async function crash(server: ServerHandle): Promise<void> {
  const pid = server.process.pid!;
  const children = spawnSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).map(Number);
  for (const c of children) {
    try {
      process.kill(c, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await exited(server, "SIGKILL");
}
