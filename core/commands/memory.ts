/**
 * MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP.
 *
 * The numbers are Respite's estimates of what the JS engine holds, not
 * allocator sizes (core/db/usage.ts); MEMORY USAGE with the default
 * SAMPLES is what the key adds to used_memory. MEMORY STATS keeps Redis's
 * field names; its totals are used_memory and its peak.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import type { Engine } from "../server/engine.ts";
import type { Db } from "../db/db.ts";
import { is, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { ERR } from "./args.ts";
import { replyHelp } from "./help.ts";
import type { Value } from "../types/value.ts";
import { deadlineBytes, DEFAULT_SAMPLES, keyBytes } from "../db/usage.ts";

const HELP = [
  "DOCTOR",
  "    Return memory problems reports.",
  "MALLOC-STATS",
  "    Return internal statistics report from the memory allocator.",
  "PURGE",
  "    Attempt to purge dirty pages for reclamation by the allocator.",
  "STATS",
  "    Return information about the memory usage of the server.",
  "USAGE <key> [SAMPLES <count>]",
  "    Return memory in bytes used by <key> and its value. Nested values are",
  "    sampled up to <count> times (default: 5, 0 means sample all).",
];

/** What a key, its value and its deadline cost, a large collection estimated from `samples` of its elements (0: all). */
function keyMemoryUsage(db: Db, key: string, v: Value, samples: number): number {
  return keyBytes(key, v, samples) + (db.expires.has(key) ? deadlineBytes(key) : 0);
}

function usage(c: Client, argv: Uint8Array[]): void {
  let samples = DEFAULT_SAMPLES;
  for (let i = 3; i < argv.length; i++) {
    if (!is(argv[i], "samples") || i + 1 >= argv.length) return c.error(ERR.syntax);
    const n = parseInteger(str(argv[++i]));
    if (n === null) return c.error(ERR.notInt);
    if (n < 0) return c.error(ERR.syntax);
    samples = n;
  }
  // Like Redis, a key past its deadline but not yet removed still counts, and reading it is no access.
  const key = str(argv[2]);
  const v = c.db.data.get(key);
  if (v === undefined) return c.out.nullBulk();
  c.out.int(keyMemoryUsage(c.db, key, v, samples));
}

/** The figures MEMORY STATS and MEMORY DOCTOR work from. */
function overhead(e: Engine) {
  const total = e.memory.total();
  const peak = e.memory.peak();
  const clients = e.clientsMemory;
  const dbs = e.memory.tables();
  const keys = e.dbs.reduce((n, db) => n + db.size, 0);
  const overheadTotal = e.memory.overhead();
  const net = Math.max(total, 1);
  return { total, peak, clients, dbs, keys, overheadTotal, dataset: total - overheadTotal, net };
}

function stats(c: Client): void {
  const m = overhead(c.engine);
  const out = c.out;
  const ints: Array<[string, number]> = [
    ["peak.allocated", m.peak],
    ["total.allocated", m.total],
    ["startup.allocated", 0],
    ["replication.backlog", c.engine.replication.backlog?.size ?? 0],
    ["clients.slaves", c.engine.clientMemory.replicas],
    ["clients.normal", c.engine.clientMemory.normal],
    ["cluster.links", 0],
    ["aof.buffer", 0],
    ["lua.caches", 0],
    ["functions.caches", 0],
  ];
  // Ratios and percentages are C floats in Redis: { f } marks them.
  const rest: Array<[string, number | { f: number }]> = [
    ["overhead.total", m.overheadTotal],
    ["keys.count", m.keys],
    ["keys.bytes-per-key", m.keys ? Math.floor(m.net / m.keys) : 0],
    ["dataset.bytes", m.dataset],
    ["dataset.percentage", { f: (m.dataset * 100) / m.net }],
    ["peak.percentage", { f: (m.total * 100) / Math.max(m.peak, 1) }],
    ["allocator.allocated", m.total],
    ["allocator.active", m.total],
    ["allocator.resident", m.total],
    ["allocator-fragmentation.ratio", { f: 1 }],
    ["allocator-fragmentation.bytes", 0],
    ["allocator-rss.ratio", { f: 1 }],
    ["allocator-rss.bytes", 0],
    ["rss-overhead.ratio", { f: 1 }],
    ["rss-overhead.bytes", 0],
    ["fragmentation", { f: 1 }],
    ["fragmentation.bytes", 0],
  ];
  out.map(ints.length + m.dbs.length + rest.length);
  for (const [name, n] of ints) {
    out.bulkStr(name);
    out.int(n);
  }
  for (const db of m.dbs) {
    out.bulkStr(`db.${db.id}`);
    out.map(3);
    out.bulkStr("overhead.hashtable.main");
    out.int(db.main);
    out.bulkStr("overhead.hashtable.expires");
    out.int(db.expires);
    out.bulkStr("overhead.hashtable.slot-to-keys");
    out.int(0);
  }
  for (const [name, v] of rest) {
    out.bulkStr(name);
    if (typeof v === "number") out.int(v);
    else out.double(Math.fround(v.f));
  }
}

const EMPTY_REPORT =
  "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
const HEALTHY_REPORT = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
const PEAK_ISSUE =
  " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n";
const CLIENT_BUFFERS_ISSUE =
  " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n";

/** Redis's MEMORY DOCTOR checks that apply to Respite's figures (no allocator, replicas or scripts). */
function doctor(c: Client): void {
  const m = overhead(c.engine);
  if (m.total < 5 * 1024 * 1024) return c.out.verbatim(EMPTY_REPORT);
  const issues: string[] = [];
  if (m.peak / m.total > 1.5) issues.push(PEAK_ISSUE);
  if (m.clients / Math.max(c.engine.clients.size, 1) > 200 * 1024) issues.push(CLIENT_BUFFERS_ISSUE);
  if (issues.length === 0) return c.out.verbatim(HEALTHY_REPORT);
  c.out.verbatim(
    "Sam, I detected a few issues in this Redis instance memory implants:\n\n" + issues.join("") +
      "I'm here to keep you safe, Sam. I want to help you.\n",
  );
}

const common = { group: "server", since: "4.0.0" };
const SHARDS = "request_policy:all_shards response_policy:special";

export const memoryCommands: CommandDef[] = [
  {
    ...common,
    name: "memory",
    arity: -2,
    flags: "",
    summary: "A container for memory diagnostics commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      {
        ...common,
        name: "usage",
        arity: -3,
        flags: "readonly",
        keys: [2, 2, 1],
        keySpec: "RO",
        summary: "Estimate the memory usage of a key",
        complexity: "O(N) where N is the number of samples.",
        run: usage,
      },
      {
        ...common,
        name: "stats",
        arity: 2,
        flags: "",
        tips: `nondeterministic_output ${SHARDS}`,
        summary: "Show memory usage details",
        run: stats,
      },
      {
        ...common,
        name: "doctor",
        arity: 2,
        flags: "",
        tips: `nondeterministic_output ${SHARDS}`,
        summary: "Outputs memory problems report",
        run: doctor,
      },
      {
        ...common,
        name: "malloc-stats",
        arity: 2,
        flags: "",
        tips: `nondeterministic_output ${SHARDS}`,
        summary: "Show allocator internal stats",
        complexity: "Depends on how much memory is allocated, could be slow",
        run: (c) => c.out.verbatim("Stats not supported for the current allocator"),
      },
      {
        ...common,
        name: "purge",
        arity: 2,
        flags: "",
        tips: "request_policy:all_shards response_policy:all_succeeded",
        summary: "Ask the allocator to release memory",
        complexity: "Depends on how much memory is allocated, could be slow",
        run: (c) => c.out.ok(),
      },
      {
        ...common,
        name: "help",
        arity: 2,
        flags: "loading stale",
        summary: "Show helpful text about the different subcommands",
        run: (c) => replyHelp(c, "memory", HELP),
      },
    ],
  },
];
