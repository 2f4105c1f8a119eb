/** Server introspection and control: INFO TIME LASTSAVE ROLE SHUTDOWN (DEBUG is in debug.ts). */
import { primaryRole } from "./replication.ts";
import { replicaRole } from "./replicaof.ts";
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, lower, str } from "../util/bytes.ts";
import { ERR } from "./args.ts";
import { infoText } from "../server/info.ts";
import { monotonicMs } from "../util/monotonic.ts";

const SHUTDOWN_FLAGS = ["nosave", "save", "now", "force", "abort"];

function shutdown(c: Client, argv: Uint8Array[]): void {
  const flags = new Set<string>();
  for (const arg of argv.slice(1)) {
    const f = SHUTDOWN_FLAGS.find((k) => is(arg, k));
    if (!f) return c.error(ERR.syntax);
    flags.add(f);
  }
  if ((flags.has("abort") && flags.size > 1) || (flags.has("save") && flags.has("nosave"))) return c.error(ERR.syntax);
  if (flags.has("abort")) return c.engine.abortShutdown() ? c.out.ok() : c.error("ERR No shutdown in progress.");
  if (!flags.has("now") && !c.engine.blocking.canBlock(c)) {
    return c.error("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client");
  }
  // While a script runs past busy-reply-threshold only SHUTDOWN NOSAVE stops the server, as in Redis.
  if (c.engine.busyError !== null && !flags.has("nosave")) return c.error(c.engine.busyError);
  const shutdownFlags = { save: flags.has("save"), nosave: flags.has("nosave"), force: flags.has("force"), now: flags.has("now") };
  if (c.engine.shutdown(0, shutdownFlags, c) === "failed") c.error("ERR Errors trying to SHUTDOWN. Check logs.");
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
      const usec = Math.floor((performance.timeOrigin + monotonicMs()) * 1000);
      c.out.array(2);
      c.out.bulkStr(String(Math.floor(usec / 1e6)));
      c.out.bulkStr(String(usec % 1e6));
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
    run: (c) => (c.engine.replica.following ? replicaRole(c) : primaryRole(c)),
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
