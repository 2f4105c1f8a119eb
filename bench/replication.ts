/**
 * Replication: Respite primaries with Respite replicas (same runtime)
 * against redis-server with redis-server replicas, the same topology in the
 * same run, servers started one group at a time.
 *
 *   node --import tsx bench/replication.ts [--runtimes bun,deno,node] [--replicas 0,1,2]
 *        [--requests 300000] [--warmup 100000] [--keys 1000000] [--only set,sync] [--rounds 1] [--no-build]
 *
 * - set: redis-benchmark -t set -P 16 -c 50 -n --requests against the
 *   primary with 0, 1 and 2 replicas attached (each waited for until its
 *   link is up), after an untimed run of --warmup requests. While it runs,
 *   every 50 ms the primary's master_repl_offset and then each replica's
 *   own (INFO replication) are read: the lag is their difference in bytes,
 *   median and max over the samples; then the time until every replica's
 *   offset equals the primary's once the load stops.
 * - sync: the primary is filled with --keys string keys (SET key:NNNNNNN
 *   val:NNNNNN, pipelined), then a replica is started with --replicaof;
 *   the full sync time is from the replica's spawn until its INFO says
 *   master_link_status:up with DBSIZE equal to the primary's (polled every
 *   20 ms), minus the same replica's start time without a primary. Both
 *   primaries run with repl-diskless-sync-delay 0, so Redis's default wait
 *   of 5 s for more replicas is not what gets measured.
 *
 * Ratios are Respite/redis-server; issue 13's target (set at -P 16 at least
 * 0.8x redis-server's with the same replica count) gets "ok" or "MISS".
 */
import { spawn } from "node:child_process";
import {
  type BenchServer,
  buildNode,
  Client,
  environment,
  Loader,
  markdownTable,
  median,
  parseOptions,
  parseTargets,
  resp,
  sleep,
  startServer,
  type Target,
} from "./lib.ts";

const opts = parseOptions(process.argv.slice(2), {
  runtimes: "bun,deno,node",
  replicas: "0,1,2",
  requests: "300000",
  warmup: "100000",
  keys: "1000000",
  only: "set,sync",
  rounds: "1",
  "no-build": false,
});
const runtimes = parseTargets(opts.runtimes);
const targets: Target[] = ["redis", ...runtimes];
const replicaCounts = opts.replicas.split(",").map(Number);
const sections = new Set(opts.only.split(","));
const TARGET_RATIO = 0.8;

function infoFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

async function info(c: Client, section: string): Promise<Map<string, string>> {
  const reply = await c.call("INFO", section);
  return infoFields(reply.slice(reply.indexOf("\r\n") + 2));
}

/** Starts a replica of primary and waits until its link is up and the initial sync is done. */
async function startReplica(target: Target, primary: BenchServer): Promise<BenchServer> {
  const replica = await startServer(target, { extra: ["--replicaof", "127.0.0.1", String(primary.port)] });
  const c = new Client();
  await c.connect(replica.port);
  try {
    while ((await info(c, "replication")).get("master_link_status") !== "up") await sleep(20);
  } finally {
    c.close();
  }
  return replica;
}

/** redis-benchmark SET -P 16 without blocking the event loop, so the lag sampler keeps running; returns requests/s. */
function setBenchmark(port: number, requests: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = ["-h", "127.0.0.1", "-p", String(port), "-q", "--csv", "-c", "50", "-n", requests, "-P", "16", "-t",
      "set"];
    const child = spawn("redis-benchmark", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.once("exit", (code) => {
      const row = out.split("\n").find((l) => l.startsWith('"SET"'));
      if (code !== 0 || !row) return reject(new Error(`redis-benchmark failed: ${out}`));
      resolve(Number(row.split(",")[1].replace(/"/g, "")));
    });
  });
}

/** Each replica's lag in bytes: the primary's master_repl_offset minus the replica's, read right after it. */
async function lags(primary: Client, replicas: Client[]): Promise<number[]> {
  const offset = async (c: Client) => Number((await info(c, "replication")).get("master_repl_offset"));
  const master = await offset(primary);
  return Promise.all(replicas.map(async (r) => Math.max(0, master - await offset(r))));
}

interface SetRow {
  rps: number;
  lagMax: number;
  lagMedian: number;
  catchUpMs: number;
}

async function measureSet(target: Target, replicas: number): Promise<SetRow> {
  const primary = await startServer(target);
  const attached: BenchServer[] = [];
  const control = new Client();
  const replicaControls: Client[] = [];
  try {
    for (let i = 0; i < replicas; i++) attached.push(await startReplica(target, primary));
    await control.connect(primary.port);
    for (const r of attached) {
      replicaControls.push(new Client());
      await replicaControls.at(-1)!.connect(r.port);
    }
    if (Number(opts.warmup) > 0) await setBenchmark(primary.port, opts.warmup);
    const samples: number[] = [];
    let running = true;
    const sampler = (async () => {
      while (running) {
        samples.push(...await lags(control, replicaControls));
        await sleep(50);
      }
    })();
    const rps = await setBenchmark(primary.port, opts.requests);
    running = false;
    await sampler;
    const stoppedAt = performance.now();
    while ((await lags(control, replicaControls)).some((l) => l > 0)) await sleep(5);
    const catchUpMs = replicas ? performance.now() - stoppedAt : 0;
    return { rps, lagMax: samples.length ? Math.max(...samples) : 0, lagMedian: samples.length ? median(samples) : 0, catchUpMs };
  } finally {
    for (const c of [control, ...replicaControls]) c.close();
    for (const s of [...attached, primary]) await s.stop();
  }
}

async function fill(port: number, keys: number): Promise<void> {
  const loader = new Loader();
  await loader.connect(port);
  const batch = 1000;
  for (let i = 0; i < keys; i += batch) {
    let payload = "";
    const n = Math.min(batch, keys - i);
    for (let k = i; k < i + n; k++) payload += resp("SET", `key:${String(k).padStart(7, "0")}`, `val:${String(k).padStart(6, "0")}`);
    await loader.send(payload, n);
  }
  loader.close();
  if (loader.errors.length) throw new Error(loader.errors.join("\n"));
}

/** Milliseconds from spawning a replica until it is in sync with the filled primary. */
async function measureSync(target: Target): Promise<number> {
  const primary = await startServer(target, { extra: ["--repl-diskless-sync-delay", "0"] });
  try {
    await fill(primary.port, Number(opts.keys));
    const idle = await startServer(target);
    const startMs = performance.now() - idle.spawnedAt;
    await idle.stop();
    const replica = await startReplica(target, primary);
    const c = new Client();
    await c.connect(replica.port);
    try {
      while ((await c.call("DBSIZE")) !== `:${opts.keys}`) await sleep(20);
      return performance.now() - replica.spawnedAt - startMs;
    } finally {
      c.close();
      await replica.stop();
    }
  } finally {
    await primary.stop();
  }
}

if (!opts["no-build"] && runtimes.includes("node")) buildNode();
console.log(environment().join("\n"));
console.log(`date: ${new Date().toISOString()}\n`);

const ratio = (mine: number, theirs: number) => (mine / theirs).toFixed(2);

if (sections.has("set")) {
  const rows: string[][] = [];
  for (const replicas of replicaCounts) {
    const byTarget = new Map<Target, SetRow[]>();
    for (let round = 0; round < Number(opts.rounds); round++) {
      for (const t of targets) {
        const list = byTarget.get(t) ?? [];
        list.push(await measureSet(t, replicas));
        byTarget.set(t, list);
      }
    }
    const mid = (t: Target, f: (r: SetRow) => number) => median(byTarget.get(t)!.map(f));
    const redisRps = mid("redis", (r) => r.rps);
    for (const t of targets) {
      const rps = mid(t, (r) => r.rps);
      const r = t === "redis" ? "" : `${ratio(rps, redisRps)} ${rps / redisRps >= TARGET_RATIO ? "ok" : "MISS"}`;
      rows.push([t, String(replicas), Math.round(rps).toLocaleString("en"), r,
        replicas ? `${Math.round(mid(t, (x) => x.lagMedian))} / ${Math.round(mid(t, (x) => x.lagMax))}` : "",
        replicas ? mid(t, (x) => x.catchUpMs).toFixed(0) : ""]);
    }
  }
  console.log(`SET -P 16 -c 50 -n ${opts.requests}, median of ${opts.rounds} round(s)\n`);
  console.log(markdownTable(["server", "replicas", "SET rps", `ratio (>= ${TARGET_RATIO})`, "lag bytes median / max",
    "catch-up ms"], rows));
  console.log();
}

if (sections.has("sync")) {
  const rows: string[][] = [];
  const times = new Map<Target, number>();
  for (const t of targets) times.set(t, await measureSync(t));
  for (const t of targets) {
    rows.push([t, times.get(t)!.toFixed(0), t === "redis" ? "" : ratio(times.get(t)!, times.get("redis")!)]);
  }
  console.log(`Full sync of ${Number(opts.keys).toLocaleString("en")} string keys (replica spawn to in sync, minus its bare start)\n`);
  console.log(markdownTable(["server", "full sync ms", "ratio"], rows));
}
