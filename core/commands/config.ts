/** CONFIG GET / SET / RESETSTAT / REWRITE / HELP. */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";
import { ERR } from "./args.ts";
import { replyHelp } from "./help.ts";

const CONFIG_HELP = [
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
];

function configGet(c: Client, argv: Uint8Array[]): void {
  const pairs = c.engine.config.matching(argv.slice(2).map(str));
  c.out.map(pairs.length);
  for (const [name, value] of pairs) {
    c.out.bulkStr(name);
    c.out.bulkStr(value);
  }
}

/** What CONFIG SET refuses while a dataset loads (Redis's DENY_LOADING_CONFIG). */
const DENY_LOADING = new Set(["appendonly", "dir"]);

function configSet(c: Client, argv: Uint8Array[]): void {
  if (argv.length % 2 !== 0) return c.error(ERR.syntax);
  const pairs: [string, string][] = [];
  for (let i = 2; i < argv.length; i += 2) pairs.push([str(argv[i]), str(argv[i + 1])]);
  // Redis's DENY_LOADING_CONFIG parameters wait for a load to end, async or not; its error comes first.
  const config = c.engine.config;
  if (c.engine.loading !== null && pairs.every(([name]) => config.has(name)) && pairs.some(([name]) => DENY_LOADING.has(name.toLowerCase()))) {
    return c.error("LOADING Redis is loading the dataset in memory");
  }
  const err = config.setMany(pairs, true);
  if (err) return c.error(err);
  c.out.ok();
}

/** CONFIG RESETSTAT: server counters, per-command and per-error statistics, latency histograms. */
function resetStats(c: Client): void {
  c.engine.stats.reset();
  for (const cmd of c.engine.commands.all()) {
    cmd.calls = cmd.usec = cmd.rejectedCalls = cmd.failedCalls = 0;
    cmd.histogram = null;
  }
  c.out.ok();
}

function rewrite(c: Client): void {
  const { config, fs } = c.engine;
  const path = config.configFile;
  if (!path) return c.error("ERR The server is running without a config file");
  try {
    const original = fs.exists(path) ? fs.readText(path) : "";
    fs.writeText(path, config.rewrite(original));
  } catch (e) {
    c.engine.log("warning", `CONFIG REWRITE failed: ${(e as Error).message}`);
    return c.error(`ERR Rewriting config file: ${(e as Error).message}`);
  }
  c.engine.log("notice", "CONFIG REWRITE executed with success.");
  c.out.ok();
}

const ADMIN = "admin noscript loading stale";

export const configCommands: CommandDef[] = [
  {
    name: "config",
    arity: -2,
    flags: "",
    group: "server",
    since: "2.0.0",
    summary: "A container for server configuration commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "get",
        arity: -3,
        flags: ADMIN,
        group: "server",
        since: "2.0.0",
        summary: "Get the values of configuration parameters",
        complexity: "O(N) when N is the number of configuration parameters provided",
        run: configGet,
      },
      {
        name: "set",
        arity: -4,
        flags: ADMIN,
        tips: "request_policy:all_nodes response_policy:all_succeeded",
        group: "server",
        since: "2.0.0",
        summary: "Set configuration parameters to the given values",
        complexity: "O(N) when N is the number of configuration parameters provided",
        run: configSet,
      },
      {
        name: "resetstat",
        arity: 2,
        flags: ADMIN,
        group: "server",
        since: "2.0.0",
        summary: "Reset the stats returned by INFO",
        run: resetStats,
      },
      {
        name: "rewrite",
        arity: 2,
        flags: ADMIN,
        group: "server",
        since: "2.8.0",
        summary: "Rewrite the configuration file with the in memory configuration",
        run: rewrite,
      },
      {
        name: "help",
        arity: 2,
        flags: "loading stale",
        group: "server",
        since: "5.0.0",
        summary: "Show helpful text about the different subcommands",
        run: (c) => replyHelp(c, "config", CONFIG_HELP),
      },
    ],
  },
];
