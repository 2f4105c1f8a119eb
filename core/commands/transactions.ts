/** Transactions: MULTI EXEC DISCARD WATCH UNWATCH. */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";

/** Leaves MULTI: the queue, its error flag and the watched keys go (EXEC, DISCARD, and an EXEC refused before it runs). */
export function endTransaction(c: Client): void {
  c.multi = null;
  c.multiError = false;
  c.watchDirty = false;
  c.engine.watches.unwatchAll(c);
}

/**
 * EXEC's queued commands from the one at `from`. A script among them may be
 * suspended (core/scripting/runner.ts): the rest then runs when it ends
 * (core/server/suspended.ts), the client still in EXEC meanwhile.
 */
function runQueue(c: Client, queue: NonNullable<Client["multi"]>, from: number): void {
  c.inExec = true;
  for (let i = from; i < queue.length; i++) {
    c.engine.call(c, queue[i].cmd, queue[i].argv);
    if (c.inBusyScript) return c.engine.suspended.defer(() => runQueue(c, queue, i + 1));
  }
  c.inExec = false;
}

const common = { acl: "transaction", group: "transactions" };

export const transactionCommands: CommandDef[] = [
  {
    ...common,
    name: "multi",
    arity: 1,
    flags: "noscript loading stale fast allow_busy",
    since: "1.2.0",
    summary: "Starts a transaction.",
    run(c) {
      if (c.multi !== null) return c.error("ERR MULTI calls can not be nested");
      c.multi = [];
      c.out.ok();
    },
  },
  {
    ...common,
    name: "exec",
    arity: 1,
    flags: "noscript loading stale skip_slowlog",
    since: "1.2.0",
    summary: "Executes all commands in a transaction.",
    complexity: "Depends on commands in the transaction",
    run(c) {
      if (c.multi === null) return c.error("ERR EXEC without MULTI");
      const queue = c.multi;
      if (c.multiError) {
        endTransaction(c);
        return c.error("EXECABORT Transaction discarded because of previous errors.");
      }
      if (c.watchDirty || c.engine.watches.expiredSinceWatch(c, c.engine.now)) {
        endTransaction(c);
        return c.out.nullArray();
      }
      endTransaction(c);
      c.out.array(queue.length);
      runQueue(c, queue, 0);
    },
  },
  {
    ...common,
    name: "discard",
    arity: 1,
    flags: "noscript loading stale fast allow_busy",
    since: "2.0.0",
    summary: "Discards a transaction.",
    run(c) {
      if (c.multi === null) return c.error("ERR DISCARD without MULTI");
      endTransaction(c);
      c.out.ok();
    },
  },
  {
    ...common,
    name: "watch",
    arity: -2,
    flags: "noscript loading stale fast allow_busy",
    keys: [1, -1, 1],
    keySpec: "RO",
    since: "2.2.0",
    summary: "Monitors changes to keys to determine the execution of a transaction.",
    complexity: "O(1) for every key.",
    run(c, argv) {
      if (c.multi !== null) return c.error("ERR WATCH inside MULTI is not allowed");
      for (let i = 1; i < argv.length; i++) c.engine.watches.watch(c, c.db, str(argv[i]), c.engine.now);
      c.out.ok();
    },
  },
  {
    ...common,
    name: "unwatch",
    arity: 1,
    flags: "noscript loading stale fast allow_busy",
    since: "2.2.0",
    summary: "Forgets about watched keys of a transaction.",
    run(c) {
      c.engine.watches.unwatchAll(c);
      c.watchDirty = false;
      c.out.ok();
    },
  },
];
