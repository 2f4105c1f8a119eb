/**
 * The slow log: commands that ran at least slowlog-log-slower-than
 * microseconds, newest first, at most slowlog-max-len of them, each with
 * its arguments clipped as Redis clips them (32 arguments, 128 bytes each).
 * The engine's only per-command cost is one comparison with `threshold`.
 */
import type { Client } from "./client.ts";
import type { Command } from "../commands/table.ts";
import type { Config } from "../config/config.ts";
import { str } from "../util/bytes.ts";
import { redactedArgs } from "../commands/monitor.ts";

/** Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
const MAX_ARGS = 32;
const MAX_ARG_BYTES = 128;

export interface SlowlogEntry {
  id: number;
  /** Unix seconds when the command was logged. */
  time: number;
  usec: number;
  /** Binary strings, already clipped. */
  args: string[];
  addr: string;
  name: string;
}

/** One argument as the slow log keeps it: at most 128 bytes, then how many were cut. */
function clipArg(arg: Uint8Array): string {
  if (arg.length <= MAX_ARG_BYTES) return str(arg);
  return `${str(arg.subarray(0, MAX_ARG_BYTES))}... (${arg.length - MAX_ARG_BYTES} more bytes)`;
}

export class Slowlog {
  /** Minimum duration logged, in µs; Infinity when slowlog-log-slower-than is negative (disabled). */
  threshold = 10000;
  private maxLen = 128;
  private nextId = 0;
  /** Newest first. */
  entries: SlowlogEntry[] = [];

  constructor(config: Config) {
    config.watch("slowlog-log-slower-than", (v) => (this.threshold = Number(v) < 0 ? Infinity : Number(v)));
    config.watch("slowlog-max-len", (v) => (this.maxLen = Number(v)));
  }

  /** Logs a command that took usec µs (the caller checked the threshold). */
  push(c: Client, cmd: Command, argv: Uint8Array[], usec: number): void {
    if (cmd.flags.has("skip_slowlog")) return;
    const shown = redactedArgs(cmd, argv);
    const argc = Math.min(shown.length, MAX_ARGS);
    const args: string[] = [];
    for (let i = 0; i < argc; i++) {
      const arg = shown[i];
      if (argc !== shown.length && i === argc - 1) args.push(`... (${shown.length - argc + 1} more arguments)`);
      else args.push(typeof arg === "string" ? arg : clipArg(arg));
    }
    this.entries.unshift({
      id: this.nextId++,
      time: Math.floor(c.engine.now / 1000),
      usec: Math.floor(usec),
      args,
      addr: c.conn.remoteAddress,
      name: c.name,
    });
    // Like Redis, a lowered slowlog-max-len takes effect at the next entry.
    if (this.entries.length > this.maxLen) this.entries.length = this.maxLen;
  }

  reset(): void {
    this.entries = [];
  }
}
