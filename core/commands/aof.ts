/** BGREWRITEAOF (the work is in core/persist/aof/aof.ts). */
import type { CommandDef } from "./table.ts";

export const aofCommands: CommandDef[] = [
  {
    name: "bgrewriteaof",
    arity: 1,
    flags: "admin noscript no_async_loading",
    acl: "dangerous",
    group: "server",
    since: "1.0.0",
    summary: "Asynchronously rewrite the append-only file",
    complexity: "O(1)",
    run(c) {
      const reply = c.engine.aof.bgrewriteCommand();
      if (reply.startsWith("-")) c.error(reply.slice(1));
      else c.out.simple(reply.slice(1));
    },
  },
];
