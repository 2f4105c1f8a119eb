/**
 * Cluster: a 3-primary Respite cluster against a 3-primary redis-server
 * cluster in the same run, one cluster at a time, each made by
 * `redis-cli --cluster create` on bench ports whose bus ports (+10000) are free.
 *
 *   node --import tsx bench/cluster.ts [--runtimes bun,deno,node] [--requests 300000] [--keys 1000000]
 *        [--pipeline 10] [--only bench,reshard,failover] [--warmup 300000] [--rounds 1] [--no-build]
 *
 * - bench: `redis-benchmark --cluster -t set,get -c 50 -r 100000` at -P 1
 *   and -P 16 against the cluster's first node (redis-benchmark finds the
 *   others and spreads keys by slot): --requests at -P 1, four times that
 *   at -P 16 (300,000 pipelined took half a second, under the client's
 *   millisecond clock), after an untimed run of --warmup at -P 16, as
 *   bench/throughput.ts does (a JIT compiles the hot paths during the
 *   first few hundred thousand commands). With --rounds N each cluster is
 *   made N times, in turn with the others; the table shows the median
 *   rate and the median of the per-round ratios.
 * - reshard: the first primary's 5,461 slots are filled with --keys string
 *   keys (names whose slot it serves, pipelined SETs), then
 *   `redis-cli --cluster reshard --cluster-from <first> --cluster-to <second>
 *   --cluster-slots 5461 --cluster-yes --cluster-pipeline <--pipeline>` is
 *   timed until it exits (every key moved by MIGRATE), and the keys counted
 *   on the second primary.
 * - failover: 3 primaries with a replica each, cluster-node-timeout 2000;
 *   once every replica's link is up the first primary is killed (-9); the
 *   time is from the kill until its replica says role:master and
 *   cluster_state:ok (polled every 20 ms).
 *
 * Ratios are Respite/redis-server (for the times: redis-server's time over
 * Respite's, so above 1 is faster); issue 15's target (redis-benchmark at
 * least 0.8x) gets "ok" or "MISS".
 */
import { spawnSync } from "node:child_process";
import {
  type BenchServer,
  buildNode,
  Client,
  environment,
  freeClusterBenchPort,
  Loader,
  markdownTable,
  median,
  parseOptions,
  parseTargets,
  redisBenchmark,
  resp,
  sleep,
  startServer,
  type Target,
} from "./lib.ts";
import { keyHashSlot } from "../core/cluster/slot.ts";

const opts = parseOptions(process.argv.slice(2), {
  runtimes: "bun,deno,node",
  requests: "300000",
  keys: "1000000",
  pipeline: "10",
  only: "bench,reshard,failover",
  warmup: "300000",
  rounds: "1",
  "no-build": false,
});
const runtimes = parseTargets(opts.runtimes);
const only = new Set(opts.only.split(","));
const NODE_TIMEOUT = 2000;

/** Nodes of one cluster: started one after another so each gets its own bench port pair. */
async function startNodes(target: Target, count: number): Promise<BenchServer[]> {
  const taken = new Set<number>();
  const nodes: BenchServer[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = await freeClusterBenchPort(taken);
      taken.add(port);
      nodes.push(await startServer(target, {
        port,
        extra: ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", String(NODE_TIMEOUT)],
      }));
    }
  } catch (e) {
    await stopAll(nodes);
    throw e;
  }
  return nodes;
}

async function stopAll(nodes: BenchServer[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
}

function cli(args: string[]): string {
  // A reshard of a million keys prints a dot a key: more than spawnSync's default 1 MB of output.
  const r = spawnSync("redis-cli", args, { encoding: "utf8", timeout: 3_600_000, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(" ")} failed (${r.error ?? r.status}):\n${r.stdout.slice(-4000)}${r.stderr}`);
  return r.stdout;
}

async function call(port: number, ...args: string[]): Promise<string> {
  const c = new Client();
  await c.connect(port);
  try {
    return await c.call(...args);
  } finally {
    c.close();
  }
}

async function field(port: number, section: string, name: string): Promise<string | undefined> {
  const text = await call(port, section === "cluster" ? "CLUSTER" : "INFO", section === "cluster" ? "INFO" : section);
  return new RegExp(`(?:^|\\n)${name}:([^\\r\\n]*)`).exec(text)?.[1];
}

async function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** `redis-cli --cluster create`, then every node says cluster_state:ok. */
async function makeCluster(nodes: BenchServer[], replicas: number): Promise<void> {
  cli(["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-replicas", String(replicas), "--cluster-yes"]);
  for (const n of nodes) await waitFor(async () => (await field(n.port, "cluster", "cluster_state")) === "ok", `cluster_state:ok on ${n.port}`);
}

async function nodeId(port: number): Promise<string> {
  return (await call(port, "CLUSTER", "MYID")).split("\r\n")[1];
}

/** redis-benchmark --cluster SET and GET at -P 1 and -P 16: requests/s by "set P1"... */
async function benchRates(target: Target): Promise<Map<string, number>> {
  const nodes = await startNodes(target, 3);
  const out = new Map<string, number>();
  try {
    await makeCluster(nodes, 0);
    const run = (p: number, n: number) =>
      redisBenchmark(nodes[0].port, ["--cluster", "-t", "set,get", "-P", String(p), "-c", "50", "-r", "100000", "-n", String(n)]);
    if (Number(opts.warmup) > 0) run(16, Number(opts.warmup));
    for (const p of [1, 16]) {
      const rates = run(p, Number(opts.requests) * (p === 1 ? 1 : 4));
      for (const t of ["set", "get"]) out.set(`${t} P${p}`, rates.get(t) ?? NaN);
    }
  } finally {
    await stopAll(nodes);
  }
  return out;
}

/** Names of `count` keys in slots 0-5460 (the first primary's after create). */
function keysOfFirstPrimary(count: number): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `key:${i}`;
    if (keyHashSlot(key) <= 5460) keys.push(key);
  }
  return keys;
}

/** Seconds to reshard the first primary's 5,461 slots (and --keys keys) to the second. */
async function reshardTime(target: Target, keys: string[]): Promise<number> {
  const nodes = await startNodes(target, 3);
  try {
    await makeCluster(nodes, 0);
    const loader = new Loader();
    await loader.connect(nodes[0].port);
    for (let i = 0; i < keys.length; i += 10_000) {
      const batch = keys.slice(i, i + 10_000);
      await loader.send(batch.map((k) => resp("SET", k, "value:" + k)).join(""), batch.length);
    }
    loader.close();
    if (loader.errors.length > 0) throw new Error(`loading: ${loader.errors.join(", ")}`);
    const [from, to] = [await nodeId(nodes[0].port), await nodeId(nodes[1].port)];
    const t0 = performance.now();
    cli(["--cluster", "reshard", `127.0.0.1:${nodes[0].port}`, "--cluster-from", from, "--cluster-to", to,
      "--cluster-slots", "5461", "--cluster-yes", "--cluster-pipeline", opts.pipeline]);
    const seconds = (performance.now() - t0) / 1000;
    const moved = Number((await call(nodes[1].port, "DBSIZE")).slice(1));
    if (moved < keys.length) throw new Error(`${target}: ${moved} of ${keys.length} keys on the target after the reshard`);
    return seconds;
  } finally {
    await stopAll(nodes);
  }
}

/** Seconds from kill -9 of a primary until its replica serves as primary with the cluster ok. */
async function failoverTime(target: Target): Promise<number> {
  const nodes = await startNodes(target, 6);
  try {
    await makeCluster(nodes, 1);
    for (const n of nodes) {
      await waitFor(async () => {
        const role = await field(n.port, "replication", "role");
        return role === "master" || (await field(n.port, "replication", "master_link_status")) === "up";
      }, `replica link up on ${n.port}`);
    }
    const victimId = await nodeId(nodes[0].port);
    const listing = await call(nodes[1].port, "CLUSTER", "NODES");
    const replicaLine = listing.split("\n").find((l) => l.split(" ")[3] === victimId);
    if (replicaLine === undefined) throw new Error(`no replica of ${victimId}:\n${listing}`);
    const replicaPort = Number(replicaLine.split(" ")[1].split("@")[0].split(":")[1]);
    const t0 = performance.now();
    await nodes[0].stop();
    await waitFor(async () =>
      (await field(replicaPort, "replication", "role")) === "master" &&
      (await field(replicaPort, "cluster", "cluster_state")) === "ok", "the replica's takeover");
    return (performance.now() - t0) / 1000;
  } finally {
    await stopAll(nodes);
  }
}

async function main(): Promise<void> {
  if (runtimes.includes("node") && !opts["no-build"]) buildNode();
  const targets: Target[] = ["redis", ...runtimes];
  console.log(environment().join("\n"));
  /** Each round's rates by target, then by test ("set P1"...). */
  const rounds: Map<Target, Map<string, number>>[] = [];
  const reshards = new Map<Target, number>();
  const failovers = new Map<Target, number>();
  const keys = only.has("reshard") ? keysOfFirstPrimary(Number(opts.keys)) : [];
  if (only.has("bench")) {
    for (let round = 0; round < Number(opts.rounds); round++) {
      const rates = new Map<Target, Map<string, number>>();
      for (const t of targets) rates.set(t, await benchRates(t));
      rounds.push(rates);
    }
  }
  for (const t of targets) {
    if (only.has("reshard")) reshards.set(t, await reshardTime(t, keys));
    if (only.has("failover")) failovers.set(t, await failoverTime(t));
  }
  const fmt = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "-" : n >= 100 ? Math.round(n).toString() : n.toFixed(2));
  if (only.has("bench")) {
    const rows: string[][] = [];
    const rate = (rates: Map<Target, Map<string, number>>, t: Target, test: string) => rates.get(t)!.get(test)!;
    for (const test of ["set P1", "get P1", "set P16", "get P16"]) {
      const base = median(rounds.map((r) => rate(r, "redis", test)));
      for (const rt of runtimes) {
        const ratio = median(rounds.map((r) => rate(r, rt, test) / rate(r, "redis", test)));
        const r = median(rounds.map((rates) => rate(rates, rt, test)));
        rows.push([test, rt, fmt(base), fmt(r), ratio.toFixed(2) + "x", ratio >= 0.8 ? "ok" : "MISS"]);
      }
    }
    console.log(
      `\nredis-benchmark --cluster, 3 primaries, -c 50, -n ${opts.requests} at -P 1 and ${4 * Number(opts.requests)} at -P 16 ` +
        `after ${opts.warmup} untimed (requests/s; median of ${rounds.length} round(s), ratio: median of the per-round ratios)\n`,
    );
    console.log(markdownTable(["test", "runtime", "redis-server", "Respite", "ratio", "target 0.8x"], rows));
  }
  const timeRows = (label: string, times: Map<Target, number>) =>
    runtimes.map((rt) => [label, rt, fmt(times.get("redis")), fmt(times.get(rt)), (times.get("redis")! / times.get(rt)!).toFixed(2) + "x"]);
  const rows = [
    ...(only.has("reshard") ? timeRows(`reshard 5461 slots, ${opts.keys} keys`, reshards) : []),
    ...(only.has("failover") ? timeRows("failover after kill -9", failovers) : []),
  ];
  if (rows.length > 0) {
    console.log(`\nTimes in seconds (reshard: --cluster-pipeline ${opts.pipeline}; failover: cluster-node-timeout ${NODE_TIMEOUT})\n`);
    console.log(markdownTable(["measure", "runtime", "redis-server", "Respite", "redis/Respite"], rows));
  }
}

await main();
