/** RDB persistence commands: SAVE, BGSAVE, LASTSAVE (the work is in core/persist/persistence.ts). */
import type { CommandDef } from "./table.ts";
import { ERR } from "./args.ts";
import { is } from "../util/bytes.ts";

const server = { group: "server", since: "1.0.0", acl: "dangerous" };

export const persistenceCommands: CommandDef[] = [
  {
    ...server,
    name: "save",
    arity: 1,
    flags: "admin noscript no_async_loading no_multi",
    summary: "Synchronously save the dataset to disk",
    complexity: "O(N) where N is the total number of keys in all databases",
    run(c) {
      const err = c.engine.persistence.save();
      if (err === null) c.out.ok();
      else c.error(err);
    },
  },
  {
    ...server,
    name: "bgsave",
    arity: -1,
    flags: "admin noscript no_async_loading",
    summary: "Asynchronously save the dataset to disk",
    complexity: "O(1)",
    run(c, argv) {
      if (argv.length > 2 || (argv.length === 2 && !is(argv[1], "schedule"))) return c.error(ERR.syntax);
      const reply = c.engine.persistence.bgsaveCommand(argv.length === 2, c.inExec);
      if (reply.startsWith("-")) c.error(reply.slice(1));
      else c.out.simple(reply.slice(1));
    },
  },
  {
    ...server,
    name: "lastsave",
    arity: 1,
    flags: "loading stale fast",
    acl: "admin dangerous",
    tips: "nondeterministic_output",
    summary: "Get the UNIX time stamp of the last successful save to disk",
    run(c) {
      c.out.int(Math.floor(c.engine.persistence.lastSave / 1000));
    },
  },
];
