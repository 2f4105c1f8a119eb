/** SLOWLOG GET / LEN / RESET / HELP over the engine's slow log (core/server/slowlog.ts). */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { replyHelp, subcommandSyntaxError } from "./help.ts";

const HELP = [
  "GET [<count>]",
  "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
  "    Entries are made of:",
  "    id, timestamp, time in microseconds, arguments array, client IP and port,",
  "    client name",
  "LEN",
  "    Return the length of the slowlog.",
  "RESET",
  "    Reset the slowlog.",
];

const DEFAULT_COUNT = 10;

function get(c: Client, argv: Uint8Array[]): void {
  if (argv.length > 3) return subcommandSyntaxError(c, "slowlog", str(argv[1]));
  let count = DEFAULT_COUNT;
  if (argv.length === 3) {
    const n = parseInteger(str(argv[2]));
    if (n === null || n < -1) return c.error("ERR count should be greater than or equal to -1");
    count = n === -1 ? Infinity : n;
  }
  const entries = c.engine.slowlog.entries.slice(0, count);
  c.out.array(entries.length);
  for (const e of entries) {
    c.out.array(6);
    c.out.int(e.id);
    c.out.int(e.time);
    c.out.int(e.usec);
    c.out.array(e.args.length);
    for (const arg of e.args) c.out.bulkStr(arg);
    c.out.bulkStr(e.addr);
    c.out.bulkStr(e.name);
  }
}

const ADMIN = "admin loading stale";
const common = { group: "server", since: "2.2.12" };

export const slowlogCommands: CommandDef[] = [
  {
    ...common,
    name: "slowlog",
    arity: -2,
    flags: "",
    summary: "A container for slow log commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      {
        ...common,
        name: "get",
        arity: -2,
        flags: ADMIN,
        tips: "request_policy:all_nodes nondeterministic_output",
        summary: "Get the slow log's entries",
        complexity: "O(N) where N is the number of entries returned",
        run: get,
      },
      {
        ...common,
        name: "len",
        arity: 2,
        flags: ADMIN,
        tips: "request_policy:all_nodes response_policy:agg_sum nondeterministic_output",
        summary: "Get the slow log's length",
        run: (c) => c.out.int(c.engine.slowlog.entries.length),
      },
      {
        ...common,
        name: "reset",
        arity: 2,
        flags: ADMIN,
        tips: "request_policy:all_nodes response_policy:all_succeeded",
        summary: "Clear all entries from the slow log",
        complexity: "O(N) where N is the number of entries in the slowlog",
        run(c) {
          c.engine.slowlog.reset();
          c.out.ok();
        },
      },
      {
        ...common,
        name: "help",
        arity: 2,
        flags: "loading stale",
        since: "6.2.0",
        summary: "Show helpful text about the different subcommands",
        run: (c) => replyHelp(c, "slowlog", HELP),
      },
    ],
  },
];
