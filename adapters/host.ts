import { Buffer } from "node:buffer";
/**
 * Process-level services shared by all three runtimes through the Node
 * APIs that Bun and Deno implement too: files, process facts, signals.
 * Sockets stay per runtime (bun.ts, deno.ts, node.ts).
 */
import * as fs from "node:fs";
import { spawn } from "node:child_process";
import * as os from "node:os";
import process from "node:process";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import type { ChildProcessHandle, FileSystem, HostInfo } from "../core/io.ts";
import { nodeFiles } from "./files-node.ts";
import { denoFiles } from "./files-deno.ts";
import { denoAfterIo } from "./deno.ts";

declare const Bun: { version: string } | undefined;
declare const Deno: { version: { deno: string } } | undefined;

export type RuntimeName = "bun" | "deno" | "node";

export function detectRuntime(): RuntimeName {
  if (typeof Bun !== "undefined") return "bun";
  if (typeof Deno !== "undefined") return "deno";
  return "node";
}

export function runtimeVersion(): string {
  const rt = detectRuntime();
  if (rt === "bun") return `bun ${Bun!.version}`;
  if (rt === "deno") return `deno ${Deno!.version.deno}`;
  return `node ${process.versions.node}`;
}

/** Files through the running runtime's own API: Deno's, or node:fs (Node's, and Bun's native one). */
export const fileSystem: FileSystem = detectRuntime() === "deno" ? denoFiles : nodeFiles;

/** Buffer's latin1Slice on any Uint8Array: 3-4x faster than fromCharCode for a 16-byte key under Bun (JSC), past 32 bytes under V8. */
const latin1Slice =
  (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;
const nativeLatin1 = (bytes: Uint8Array): string => latin1Slice.call(bytes, 0, bytes.length);
const latin1Write =
  (Buffer.prototype as unknown as { latin1Write(this: Uint8Array, s: string, at: number, length: number): number }).latin1Write;
const nativeLatin1Write = (s: string, into: Uint8Array, at: number): void => void latin1Write.call(into, s, at, s.length);

/** ownProcess: the server is the process (the CLI), so it may run collections for it (releaseHeap). */
export function hostInfo(io: string, configFile: string, ownProcess = false): HostInfo {
  return {
    runtime: runtimeVersion(),
    io,
    pid: process.pid,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    arch: os.arch() === "x64" || os.arch() === "arm64" ? "64" : "32",
    executable: process.execPath,
    configFile,
    rss: () => process.memoryUsage.rss(),
    cpu: () => {
      const u = process.cpuUsage();
      return [u.user / 1e6, u.system / 1e6];
    },
    exit: (code) => process.exit(code),
    freeReplacedBuffers: detectRuntime() === "deno",
    latin1: nativeLatin1,
    latin1From: detectRuntime() === "bun" ? 4 : 33,
    latin1Write: detectRuntime() === "deno" ? undefined : nativeLatin1Write,
    latin1WriteFrom: detectRuntime() === "bun" ? 8 : 33,
    copyArgumentsUpTo: detectRuntime() === "bun" ? 32 : 0,
    afterIo: detectRuntime() === "deno" ? denoAfterIo() : setImmediate,
    releaseHeap: ownProcess && detectRuntime() !== "bun" ? releaseV8Heap : undefined,
    canExecute: (p) => {
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
    spawn: spawnProgram,
  };
}

/**
 * A young generation above this has grown under load: V8 starts it at 1 MB,
 * or at the size --min-semi-space-size gives it (adapters/node-flags.ts),
 * below which it never shrinks.
 */
const YOUNG_GROWN = Math.max(4 << 20, youngGeneration());
/**
 * The full collection stops the world for a time that grows with the heap
 * (~0.5 s for 400 MB under Node 20): past this much live heap the 32 MB it
 * would return are not worth the pause, and the minor collection's shrink
 * is all the release does.
 */
const FULL_COLLECTION_MAX_HEAP = 128 << 20;
type V8Collect = (options?: { type: "minor" }) => void;
/** V8's gc() once reached; undefined when it could not be, or failed (the release then does nothing); null before the first try. */
let v8Collect: V8Collect | undefined | null = null;

function youngGeneration(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
}

/** gc() without starting the process with --expose-gc: the flag set at run time exposes it in contexts made afterwards. */
function reachV8Collect(): V8Collect | undefined {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  return typeof gc === "function" ? gc : undefined;
}

/**
 * HostInfo.releaseHeap under V8 (Node, Deno): a minor collection, after
 * which V8 shrinks a grown young generation once it sees the allocation
 * rate low (server/heap-release.ts); then a full one, which returns the
 * pages the shrink left pooled. Any failure (a runtime without these
 * node:v8 / node:vm calls) turns the release off rather than reach the cron.
 */
function releaseV8Heap(): boolean {
  if (v8Collect === undefined) return true;
  try {
    if (youngGeneration() <= YOUNG_GROWN) return true;
    if (v8Collect === null) v8Collect = reachV8Collect();
    const collect = v8Collect;
    if (collect === undefined) return true;
    collect({ type: "minor" });
    if (youngGeneration() > YOUNG_GROWN) return false;
    // Full (Node 20's V8 reads { type: "major" } as minor).
    if (v8.getHeapStatistics().used_heap_size <= FULL_COLLECTION_MAX_HEAP) collect();
    return true;
  } catch {
    v8Collect = undefined;
    return true;
  }
}

function spawnProgram(file: string, args: string[]): ChildProcessHandle {
  const child = spawn(file, args, { stdio: "ignore" });
  let ended: [number, boolean] | null = null;
  let done: ((code: number, bySignal: boolean) => void) | null = null;
  const end = (code: number, bySignal: boolean) => {
    if (ended) return;
    ended = [code, bySignal];
    done?.(code, bySignal);
  };
  // A program that cannot be started ends as Redis's forked child does when execve fails: exit code 2, no retry.
  child.once("error", () => end(2, false));
  child.once("exit", (code, signal) => end(code ?? 0, signal !== null));
  return {
    pid: child.pid ?? 0,
    kill: () => child.kill("SIGKILL"),
    onExit: (fn) => {
      done = fn;
      if (ended) fn(...ended);
    },
  };
}

export function onSignals(handler: (signal: "SIGINT" | "SIGTERM") => void): void {
  process.on("SIGINT", () => handler("SIGINT"));
  process.on("SIGTERM", () => handler("SIGTERM"));
}

export function chmod(p: string, mode: number): void {
  fs.chmodSync(p, mode);
}

export function removeStaleSocket(p: string): void {
  try {
    if (fs.statSync(p).isSocket()) fs.unlinkSync(p);
  } catch {
    // nothing to remove
  }
}

export function cwd(): string {
  return process.cwd();
}
