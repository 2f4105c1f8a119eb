/**
 * LATENCY LATEST / HISTORY / RESET / GRAPH / DOCTOR / HISTOGRAM / HELP over
 * the engine's latency monitor and per-command histograms
 * (core/server/latency.ts), with Redis's replies, ASCII graph and report.
 */
import type { Command, CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import type { LatencySeries } from "../server/latency.ts";
import { lower, str } from "../util/bytes.ts";
import { replyHelp } from "./help.ts";

const HELP = [
  "DOCTOR",
  "    Return a human readable latency analysis report.",
  "GRAPH <event>",
  "    Return an ASCII latency graph for the <event> class.",
  "HISTORY <event>",
  "    Return time-latency samples for the <event> class.",
  "LATEST",
  "    Return the latest latency samples for all events.",
  "RESET [<event> ...]",
  "    Reset latency data of one or more <event> classes.",
  "    (default: reset all data for all event classes)",
  "HISTOGRAM [COMMAND ...]",
  "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
  "    If no commands are specified then all histograms are replied.",
];

const nowSeconds = (c: Client) => Math.floor(c.engine.clock.now() / 1000);

function latest(c: Client): void {
  const events = c.engine.latency.events;
  c.out.array(events.size);
  for (const [name, series] of events) {
    const last = series.samples[series.samples.length - 1];
    c.out.array(4);
    c.out.bulkStr(name);
    c.out.int(last.time);
    c.out.int(last.latency);
    c.out.int(series.max);
  }
}

function history(c: Client, argv: Uint8Array[]): void {
  const samples = c.engine.latency.events.get(str(argv[2]))?.samples ?? [];
  c.out.array(samples.length);
  for (const s of samples) {
    c.out.array(2);
    c.out.int(s.time);
    c.out.int(s.latency);
  }
}

function reset(c: Client, argv: Uint8Array[]): void {
  const monitor = c.engine.latency;
  if (argv.length === 2) return c.out.int(monitor.reset());
  let n = 0;
  for (let i = 2; i < argv.length; i++) n += monitor.reset(str(argv[i]));
  c.out.int(n);
}

// ---- GRAPH: Redis's sparkline, 80 columns, 4 rows, filled ----

const GRAPH_COLUMNS = 80;
const GRAPH_ROWS = 4;
const FILL = "_o#";

/** How long ago, as the graph labels samples: 5s, 3m, 2h, 1d. */
function ago(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** Renders samples [value, label] as bar rows, then the labels written downwards under a blank line. */
function sparkline(values: number[], labels: string[]): string {
  const min = Math.min(...values);
  const range = Math.max(...values) - min || 1;
  const steps = FILL.length * GRAPH_ROWS;
  let out = "";
  for (let start = 0; start < values.length; start += GRAPH_COLUMNS) {
    if (start !== 0) out += "\n";
    const cols = values.slice(start, start + GRAPH_COLUMNS).map((v, j) => ({
      step: Math.min(steps - 1, Math.max(0, Math.trunc(Math.trunc((v - min) * steps) / range))),
      label: labels[start + j],
    }));
    for (let row = 0; row < GRAPH_ROWS; row++) {
      const floor = (GRAPH_ROWS - row - 1) * FILL.length;
      out += cols.map(({ step }) => (step - floor >= FILL.length ? "|" : step >= floor ? FILL[step - floor] : " ")).join("") + "\n";
    }
    out += " ".repeat(cols.length) + "\n";
    const longest = Math.max(...cols.map((col) => col.label.length));
    for (let i = 0; i < longest; i++) out += cols.map(({ label }) => label[i] ?? " ").join("") + "\n";
  }
  return out;
}

function graph(c: Client, argv: Uint8Array[]): void {
  const event = str(argv[2]);
  const series = c.engine.latency.events.get(event);
  if (series === undefined) return c.error(`ERR No samples available for event '${event}'`);
  const now = nowSeconds(c);
  const values = series.samples.map((s) => s.latency);
  const header = `${event} - high ${Math.max(...values)} ms, low ${Math.min(...values)} ms (all time high ${series.max} ms)\n`;
  c.out.verbatim(header + "-".repeat(GRAPH_COLUMNS) + "\n" + sparkline(values, series.samples.map((s) => ago(now - s.time))));
}

// ---- DOCTOR ----

const ADVICE = {
  slowlogEnabled: (t: number) =>
    `- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than ${t * 1000}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n`,
  slowlogTuning: (t: number) =>
    `- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ${t * 1000}'.\n`,
  slowlogInspect: () =>
    "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n",
  scheduler: () =>
    "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
    "  1) Lower the system load.\n" +
    "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
    '  3) Check if you have a "noisy neighbour" problem.\n' +
    "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
    "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n",
  hz: () =>
    "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n",
  largeObjects: () =>
    "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n",
  massEviction: () =>
    "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n",
};
type Advice = keyof typeof ADVICE;

/** Average, mean absolute deviation and time span of an event's samples, in whole units as Redis computes them. */
function analyze(series: LatencySeries, now: number) {
  const n = series.samples.length;
  const avg = Math.floor(series.samples.reduce((sum, s) => sum + s.latency, 0) / n);
  const mad = Math.floor(series.samples.reduce((sum, s) => sum + Math.abs(avg - s.latency), 0) / n);
  const oldest = Math.min(...series.samples.map((s) => s.time));
  return { n, avg, mad, period: now - oldest || 1 };
}

/** The advices an event calls for, with how many it counts (Redis counts some twice). */
function eventAdvice(c: Client, event: string): [Advice[], number] {
  const slower = c.engine.config.num("slowlog-log-slower-than");
  switch (event.toLowerCase()) {
    case "command": {
      const tuning: Advice[] = slower < 0
        ? ["slowlogEnabled"]
        : Math.trunc(slower / 1000) > c.engine.latency.thresholdMs
        ? ["slowlogTuning"]
        : [];
      return [[...tuning, "slowlogInspect", "largeObjects"], tuning.length + 2];
    }
    case "fast-command":
      return [["scheduler"], 1];
    case "expire-cycle":
      return [["hz", "largeObjects"], 2];
    case "eviction-del":
      return [["largeObjects"], 1];
    case "eviction-cycle":
      return [["massEviction"], 1];
  }
  return [[], 0];
}

function doctorReport(c: Client): string {
  const monitor = c.engine.latency;
  if (monitor.events.size === 0 && monitor.thresholdMs === 0) {
    return `I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n`;
  }
  const now = nowSeconds(c);
  const advised = new Set<Advice>();
  let advices = 0;
  let report = "";
  let num = 0;
  for (const [event, series] of monitor.events) {
    if (++num === 1) report += "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
    const a = analyze(series, now);
    report += `${num}. ${event}: ${a.n} latency spikes (average ${a.avg}ms, mean deviation ${a.mad}ms, period ${(a.period / a.n).toFixed(2)} sec). Worst all time event ${series.max}ms.\n`;
    const [list, count] = eventAdvice(c, event);
    for (const advice of list) advised.add(advice);
    advices += count;
  }
  if (num === 0 && advices === 0) {
    return report + "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n";
  }
  if (advices === 0) {
    return report + "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n";
  }
  report += "\nI have a few advices for you:\n\n";
  const hzLow = c.engine.config.num("hz") < 100;
  for (const advice of Object.keys(ADVICE) as Advice[]) {
    if (!advised.has(advice) || (advice === "hz" && !hzLow)) continue;
    report += ADVICE[advice](monitor.thresholdMs);
  }
  return report;
}

// ---- HISTOGRAM ----

/** A command by name, "config|get" naming a subcommand; null when unknown. */
function commandNamed(c: Client, name: string): Command | null {
  const [parent, sub] = lower(name).split("|", 2);
  const cmd = c.engine.commands.get(parent);
  if (cmd === undefined || sub === undefined) return cmd ?? null;
  return cmd.subcommands?.get(sub) ?? null;
}

function histogram(c: Client, argv: Uint8Array[]): void {
  const chosen: Command[] = [];
  const withData = (cmd: Command) => cmd.histogram !== null && chosen.push(cmd);
  if (argv.length === 2) {
    for (const cmd of c.engine.commands.all()) withData(cmd);
  } else {
    // A container names all its subcommands: LATENCY HISTOGRAM CONFIG.
    for (let i = 2; i < argv.length; i++) {
      const cmd = commandNamed(c, str(argv[i]));
      if (cmd === null) continue;
      withData(cmd);
      for (const sub of cmd.subcommands?.values() ?? []) withData(sub);
    }
  }
  c.out.map(chosen.length);
  for (const cmd of chosen) {
    const h = cmd.histogram!;
    const levels = h.cumulative();
    c.out.bulkStr(cmd.fullName);
    c.out.map(2);
    c.out.bulkStr("calls");
    c.out.int(h.total);
    c.out.bulkStr("histogram_usec");
    c.out.map(levels.length);
    for (const [usec, count] of levels) {
      c.out.int(usec);
      c.out.int(count);
    }
  }
}

const ADMIN = "admin noscript loading stale";
const SPECIAL = "nondeterministic_output request_policy:all_nodes response_policy:special";
const common = { group: "server", since: "2.8.13", complexity: "O(1)" };

export const latencyCommands: CommandDef[] = [
  {
    ...common,
    name: "latency",
    arity: -2,
    flags: "",
    summary: "A container for latency diagnostics commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      { ...common, name: "latest", arity: 2, flags: ADMIN, tips: SPECIAL, summary: "Return the latest latency samples for all events.", run: latest },
      { ...common, name: "history", arity: 3, flags: ADMIN, tips: SPECIAL, summary: "Return timestamp-latency samples for the event.", run: history },
      {
        ...common,
        name: "reset",
        arity: -2,
        flags: ADMIN,
        tips: "request_policy:all_nodes response_policy:all_succeeded",
        summary: "Reset latency data for one or more events.",
        run: reset,
      },
      { ...common, name: "graph", arity: 3, flags: ADMIN, tips: SPECIAL, summary: "Return a latency graph for the event.", run: graph },
      {
        ...common,
        name: "doctor",
        arity: 2,
        flags: ADMIN,
        tips: SPECIAL,
        summary: "Return a human readable latency analysis report.",
        run: (c) => c.out.verbatim(doctorReport(c)),
      },
      {
        ...common,
        name: "histogram",
        arity: -2,
        flags: ADMIN,
        tips: SPECIAL,
        since: "7.0.0",
        summary: "Return the cumulative distribution of latencies of a subset of commands or all.",
        complexity: "O(N) where N is the number of commands with latency information being retrieved.",
        run: histogram,
      },
      {
        ...common,
        name: "help",
        arity: 2,
        flags: "loading stale",
        summary: "Show helpful text about the different subcommands.",
        run: (c) => replyHelp(c, "latency", HELP),
      },
    ],
  },
];
