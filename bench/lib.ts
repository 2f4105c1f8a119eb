/**
 * Shared bench plumbing: starting redis-server and Respite under each
 * runtime on a free port of the bench range, reading a process's RSS (and
 * its forked children's), parsing `--name value` options, a pipelined
 * command sender, a one-command-at-a-time client, running redis-benchmark
 * and markdown tables. Servers are started one at a time by the scripts so
 * that they never compete for the machine's cores; every server starts with
 * persistence off (`--save '' --appendonly no`) unless the flags given say
 * otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { portFree } from "../test/lib/servers.ts";
import { NODE_V8_FLAGS } from "../adapters/node-flags.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "node_modules/.bin");

export type Runtime = "bun" | "deno" | "node";
/** "compiled" is the single executable `npm run compile` leaves in dist/respite. */
export type Target = "redis" | Runtime | "compiled";
export const ALL_RUNTIMES: Runtime[] = ["bun", "deno", "node"];

/** Ports the bench may use (the range reserved for it on shared machines). */
const PORT_FIRST = 7180;
const PORT_LAST = 7199;

export interface BenchServer {
  target: Target;
  port: number;
  pid: number;
  /** The server's working directory (and redis-server's `dir`), removed by stop(). */
  dir: string;
  /** performance.now() just before the process was spawned. */
  spawnedAt: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The RESP port; a free bench port when not given. */
  port?: number;
  /** Flags for every server, after the defaults (so `--appendonly yes` or `--dir` override them). */
  extra?: string[];
  /** Flags for Respite only; `--gateway no` unless given. */
  respiteExtra?: string[];
  /** The port that answers once the server is ready, when not the RESP port (the gateway's). */
  readyPort?: number;
}

function commandFor(target: Target, port: number, dir: string, opts: StartOptions): [string, string[]] {
  const common = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
    ...(opts.extra ?? [])];
  const respite = [...common, ...(opts.respiteExtra ?? ["--gateway", "no"])];
  switch (target) {
    case "redis":
      return ["redis-server", common];
    case "bun":
      return [path.join(BIN, "bun"), [path.join(ROOT, "adapters/cli.ts"), ...respite]];
    case "deno":
      return [path.join(BIN, "deno"), ["run", "-A", "--quiet", path.join(ROOT, "adapters/cli.ts"), ...respite]];
    case "node":
      return [process.execPath, [...NODE_V8_FLAGS, path.join(ROOT, "dist/respite.mjs"), ...respite]];
    case "compiled":
      return [path.join(ROOT, "dist/respite"), respite];
  }
}

/** Whether something accepts connections on the port (a server's readiness, without sending it a request). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export async function freeBenchPort(): Promise<number> {
  for (let p = PORT_FIRST; p <= PORT_LAST; p++) if (await portFree(p)) return p;
  throw new Error(`no free port in ${PORT_FIRST}-${PORT_LAST}`);
}

/** A free bench port whose cluster bus port (+10000) is free too, not one of `taken` (nodes started but not yet listening). */
export async function freeClusterBenchPort(taken: Set<number>): Promise<number> {
  for (let p = PORT_FIRST; p <= PORT_LAST; p++) {
    if (!taken.has(p) && (await portFree(p)) && (await portFree(p + 10000))) return p;
  }
  throw new Error(`no free port pair in ${PORT_FIRST}-${PORT_LAST} (+10000)`);
}

/** Builds dist/respite.mjs, which is what the node target runs. */
export function buildNode(): void {
  const r = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error("npm run build failed");
}

export async function startServer(target: Target, opts: StartOptions = {}): Promise<BenchServer> {
  const port = opts.port ?? await freeBenchPort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "respite-bench-"));
  const [cmd, args] = commandFor(target, port, dir, opts);
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(cmd, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const deadline = Date.now() + 20_000;
  while (!(await canConnect(opts.readyPort ?? port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${target} did not start on port ${port}:\n${output}`);
    }
    await sleep(10);
  }
  return {
    target,
    port,
    pid: child.pid!,
    dir,
    spawnedAt,
    stop: () =>
      new Promise<void>((resolve) => {
        fs.rmSync(dir, { recursive: true, force: true });
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A "<field>: <n> kB" line of /proc/<pid>/status, in bytes. */
function statusBytes(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Resident set size of a process in bytes, from /proc/<pid>/status VmRSS. */
export const rssBytes = (pid: number) => statusBytes(pid, "VmRSS");

/** The kernel's high-water mark of a process's RSS in bytes (VmHWM; writing 5 to /proc/<pid>/clear_refs resets it). */
export const peakRssBytes = (pid: number) => statusBytes(pid, "VmHWM");

/** Pids of a process's children (a forked redis-server's BGSAVE child), from /proc/<pid>/task/<tid>/children. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const list = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      if (list) out.push(...list.split(" ").map(Number));
    }
  } catch {
    // the process or one of its threads ended meanwhile
  }
  return out;
}

/**
 * Bytes of a process's pages that no other process maps (Private_Clean +
 * Private_Dirty of /proc/<pid>/smaps_rollup): for a forked child, the pages
 * copied on write plus its own allocations, i.e. what the fork really adds
 * to the parent's RSS. 0 once the process is gone.
 */
export function privateBytes(pid: number): number {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  } catch {
    return 0;
  }
  let kb = 0;
  for (const m of text.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB/gm)) kb += Number(m[1]);
  return kb * 1024;
}

/** Parses `--name value` and bare `--flag` options over the given defaults. */
export function parseOptions<T extends Record<string, string | boolean>>(argv: string[], defaults: T): T {
  const out: Record<string, string | boolean> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, "");
    if (!(name in defaults)) throw new Error(`unknown option ${argv[i]}; known: ${Object.keys(defaults).join(", ")}`);
    if (typeof defaults[name] === "boolean") out[name] = true;
    else out[name] = argv[++i] ?? "";
  }
  return out as T;
}

export function parseTargets(list: string): Runtime[] {
  const names = list.split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!ALL_RUNTIMES.includes(n as Runtime)) throw new Error(`unknown runtime ${n}`);
  return names as Runtime[];
}

/** RESP encoding of one command. */
export function resp(...args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a, "latin1")}\r\n${a}\r\n`;
  return s;
}

/**
 * A connection for loading data: sends batches of commands whose replies
 * are one line each (+OK, :n, -ERR) and waits for all of them, so the
 * server sees deep pipelines without unbounded buffering on either side.
 */
export class Loader {
  private sock!: net.Socket;
  private waiting = 0;
  private partial = "";
  private wake: (() => void) | null = null;
  errors: string[] = [];

  async connect(port: number): Promise<void> {
    this.sock = net.connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      this.sock.once("connect", resolve);
      this.sock.once("error", reject);
    });
    this.sock.setEncoding("latin1");
    this.sock.on("data", (text: string) => this.onReplies(text));
  }

  private onReplies(text: string): void {
    const lines = (this.partial + text).split("\r\n");
    this.partial = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith("-") && this.errors.length < 5) this.errors.push(line);
      this.waiting--;
    }
    if (this.waiting <= 0 && this.wake) this.wake();
  }

  /** Sends `count` commands encoded in `payload` and resolves once every reply arrived. */
  send(payload: string, count: number): Promise<void> {
    this.waiting += count;
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sock.write(payload, "latin1");
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Length of the first complete RESP reply in `text` (bulk strings, arrays of them, lines), or -1. */
function replyLength(text: string, from = 0): number {
  const nl = text.indexOf("\r\n", from);
  if (nl < 0) return -1;
  const n = Number(text.slice(from + 1, nl));
  let end = nl + 2;
  if (text[from] === "$" && n >= 0) end += n + 2;
  if (text[from] === "*") {
    for (let k = 0; k < n; k++) {
      const len = replyLength(text, end);
      if (len < 0) return -1;
      end += len;
    }
  }
  return end <= text.length ? end - from : -1;
}

/**
 * A client sending one command at a time and resolving with its whole
 * reply as RESP text ("+OK", "$3\r\nabc", "-ERR ..."; the final CRLF
 * dropped), for control commands and for timing single round trips.
 */
export class Client {
  private sock!: net.Socket;
  private buffered = "";
  private waiting: { resolve(reply: string): void; reject(e: Error): void } | null = null;

  async connect(port: number): Promise<void> {
    this.sock = net.connect(port, "127.0.0.1");
    this.sock.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      this.sock.once("connect", resolve);
      this.sock.once("error", reject);
    });
    this.sock.setEncoding("latin1");
    this.sock.on("error", () => {});
    this.sock.on("close", () => this.waiting?.reject(new Error("connection closed")));
    this.sock.on("data", (d: string) => {
      this.buffered += d;
      const len = replyLength(this.buffered);
      if (len < 0 || !this.waiting) return;
      const reply = this.buffered.slice(0, len - 2);
      this.buffered = this.buffered.slice(len);
      const w = this.waiting;
      this.waiting = null;
      w.resolve(reply);
    });
  }

  call(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.sock.destroyed) return reject(new Error("connection closed"));
      this.waiting = { resolve, reject };
      this.sock.write(resp(...args), "latin1");
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

/**
 * Runs `redis-benchmark -h 127.0.0.1 -p <port> -q --csv <args>` and returns
 * requests/s per test, by redis-benchmark's lower-case test name ("MSET (10
 * keys)" -> "mset").
 */
export function redisBenchmark(port: number, args: string[]): Map<string, number> {
  const all = ["-h", "127.0.0.1", "-p", String(port), "-q", "--csv", ...args];
  const r = spawnSync("redis-benchmark", all, { encoding: "utf8", timeout: 600_000 });
  if (r.status !== 0) throw new Error(`redis-benchmark failed: ${r.stderr || r.error}`);
  const rates = new Map<string, number>();
  for (const line of r.stdout.split("\n").slice(1)) {
    const cells = line.split(",").map((c) => c.replace(/"/g, ""));
    if (cells.length < 2 || cells[0].includes("needed to")) continue;
    rates.set(cells[0].split(" ")[0].toLowerCase(), Number(cells[1]));
  }
  return rates;
}

/** A markdown table, columns padded for reading in a terminal too. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  return [line(header), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.map(line)].join("\n");
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runtime versions and machine facts for RESULTS.md. */
export function environment(): string[] {
  const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown";
  const version = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8" }).stdout.split("\n")[0].trim();
  return [
    `CPU: ${cpu}, ${os.cpus().length} cores, RAM ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `redis-server: ${version("redis-server", ["--version"])}`,
    `bun ${version(path.join(BIN, "bun"), ["--version"])}, ${version(path.join(BIN, "deno"), ["--version"])}, node ${process.versions.node}`,
  ];
}
