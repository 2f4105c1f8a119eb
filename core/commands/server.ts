/** Server introspection and control: INFO TIME LASTSAVE ROLE DEBUG SHUTDOWN. */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, lower, str } from "../util/bytes.ts";
import { ERR } from "./args.ts";
import { infoText } from "../server/info.ts";
import { replyHelp, subcommandSyntaxError } from "./help.ts";

const DEBUG_HELP = [
  "SET-ACTIVE-EXPIRE <0|1>",
  "    Setting it to 0 disables expiring keys in background when they are not",
  "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
  "    default.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
];

/** C's strtod/atoi leniency, which DEBUG uses: the longest numeric prefix, 0 when there is none. */
function leadingNumber(s: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(s);
  return m ? Number(m[0]) : 0;
}

/**
 * Blocks the whole process, as DEBUG SLEEP does in Redis: Atomics.wait
 * where the host allows it on this thread, otherwise a busy loop.
 */
function blockFor(ms: number): void {
  if (!(ms > 0)) return;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  } catch {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // spin: this thread may not wait
    }
  }
}

function debug(c: Client, argv: Uint8Array[]): void {
  const sub = lower(str(argv[1]));
  if (sub === "help" && argv.length === 2) return replyHelp(c, "debug", DEBUG_HELP);
  if (sub === "sleep" && argv.length === 3) {
    blockFor(leadingNumber(str(argv[2])) * 1000);
    return c.out.ok();
  }
  if (sub === "set-active-expire" && argv.length === 3) {
    c.engine.activeExpire = Math.trunc(leadingNumber(str(argv[2]))) !== 0;
    return c.out.ok();
  }
  subcommandSyntaxError(c, "debug", str(argv[1]));
}

const SHUTDOWN_FLAGS = ["nosave", "save", "now", "force", "abort"];

function shutdown(c: Client, argv: Uint8Array[]): void {
  const flags = new Set<string>();
  for (const arg of argv.slice(1)) {
    const f = SHUTDOWN_FLAGS.find((k) => is(arg, k));
    if (!f) return c.error(ERR.syntax);
    flags.add(f);
  }
  if ((flags.has("abort") && flags.size > 1) || (flags.has("save") && flags.has("nosave"))) return c.error(ERR.syntax);
  // Shutdown completes synchronously, so there is never one in progress to abort.
  if (flags.has("abort")) return c.error("ERR No shutdown in progress.");
  c.engine.shutdown(0);
}

export const serverCommands: CommandDef[] = [
  {
    name: "info",
    arity: -1,
    flags: "loading stale",
    acl: "dangerous",
    tips: "nondeterministic_output request_policy:all_shards response_policy:special",
    group: "server",
    since: "1.0.0",
    summary: "Get information and statistics about the server",
    run(c, argv) {
      c.out.verbatim(infoText(c.engine, argv.slice(1).map((a) => lower(str(a)))));
    },
  },
  {
    name: "time",
    arity: 1,
    flags: "loading stale fast",
    tips: "nondeterministic_output",
    group: "server",
    since: "2.6.0",
    summary: "Return the current server time",
    run(c) {
      const usec = Math.floor((performance.timeOrigin + performance.now()) * 1000);
      c.out.array(2);
      c.out.bulkStr(String(Math.floor(usec / 1e6)));
      c.out.bulkStr(String(usec % 1e6));
    },
  },
  {
    name: "lastsave",
    arity: 1,
    flags: "loading stale fast",
    acl: "admin dangerous",
    tips: "nondeterministic_output",
    group: "server",
    since: "1.0.0",
    summary: "Get the UNIX time stamp of the last successful save to disk",
    run(c) {
      c.out.int(Math.floor(c.engine.lastSave / 1000));
    },
  },
  {
    name: "role",
    arity: 1,
    flags: "noscript loading stale fast",
    acl: "admin dangerous",
    group: "server",
    since: "2.8.12",
    summary: "Return the role of the instance in the context of replication",
    run(c) {
      c.out.array(3);
      c.out.bulkStr("master");
      c.out.int(0);
      c.out.array(0);
    },
  },
  {
    name: "debug",
    arity: -2,
    flags: "admin noscript loading stale protected",
    group: "server",
    since: "1.0.0",
    summary: "A container for debugging commands",
    complexity: "Depends on subcommand.",
    run: debug,
  },
  {
    name: "shutdown",
    arity: -1,
    flags: "admin noscript loading stale no_multi sentinel allow_busy",
    group: "server",
    since: "1.0.0",
    summary: "Synchronously save the dataset to disk and then shut down the server",
    complexity:
      "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
    run: shutdown,
  },
];
