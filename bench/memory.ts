/**
 * Memory: RSS (/proc/<pid>/status VmRSS) of redis-server and of Respite
 * under each runtime after loading a data set with pipelined writes,
 * servers started one at a time. Prints MB, MB over the empty server, and
 * the ratio Respite/redis for both; and INFO used_memory, with how much
 * the RSS grew per byte of it (how closely used_memory, which maxmemory
 * is checked against, tracks what the process really holds).
 *
 *   node --import tsx bench/memory.ts [--runtimes bun,deno,node] [--keys 1000000]
 *        [--collections] [--collection-keys 100000] [--datatypes] [--stream-entries 1000000]
 *        [--hlls 10000] [--only hashes,zsets] [--no-build]
 *
 * Workloads: `strings` SET key:NNNNNNN -> a 10-byte value; with
 * --collections also `hashes` (HSET of 10 small fields per key) and
 * `zsets` (ZADD of 10 members per key) and `leaderboard` (one sorted set
 * of 10 x --collection-keys members, scores in no order); with --datatypes `stream` (one
 * stream of --stream-entries XADD * entries of three small fields) and
 * `hlls` (--hlls HyperLogLogs of 1,000 elements each, one PFADD each);
 * --only picks some of them.
 */
import {
  buildNode,
  Client,
  Loader,
  markdownTable,
  parseOptions,
  parseTargets,
  resp,
  rssBytes,
  sleep,
  startServer,
  type Target,
} from "./lib.ts";

const opts = parseOptions(process.argv.slice(2), {
  runtimes: "bun,deno,node",
  keys: "1000000",
  collections: false,
  "collection-keys": "100000",
  datatypes: false,
  "stream-entries": "1000000",
  hlls: "10000",
  only: "",
  "no-build": false,
});
const runtimes = parseTargets(opts.runtimes);
const BATCH = 1000;
/**
 * Time every server is left idle after loading before its RSS is read: pending garbage collection settles, and
 * Respite gives back the young generation V8 grew under the load (within 5-10 s of quiet, server/heap-release.ts).
 */
const SETTLE_MS = 10000;

const pad7 = (i: number) => String(i).padStart(7, "0");

interface Workload {
  name: string;
  keys: number;
  /** One command writing key i. */
  command(i: number): string;
}

const WORKLOADS: Workload[] = [
  {
    name: "strings",
    keys: Number(opts.keys),
    command: (i) => resp("SET", `key:${pad7(i)}`, `val:${String(i).padStart(6, "0")}`),
  },
];
if (opts.collections) {
  const n = Number(opts["collection-keys"]);
  const ten = [...Array(10).keys()];
  WORKLOADS.push(
    {
      name: "hashes",
      keys: n,
      command: (i) => resp("HSET", `hash:${pad7(i)}`, ...ten.flatMap((f) => [`field${f}`, `v${pad7(i)}`])),
    },
    {
      name: "zsets",
      keys: n,
      command: (i) => resp("ZADD", `zset:${pad7(i)}`, ...ten.flatMap((m) => [String(m + i), `member${m}`])),
    },
    {
      name: "leaderboard",
      keys: 10 * n,
      command: (i) => resp("ZADD", "leaderboard", String((i * 7919) % 1000003), `player:${pad7(i)}`),
    },
  );
}

if (opts.datatypes) {
  const thousand = [...Array(1000).keys()].map((e) => `element:${e}`);
  WORKLOADS.push(
    {
      name: "stream",
      keys: Number(opts["stream-entries"]),
      command: (i) => resp("XADD", "stream", "*", "f1", String(i), "f2", "value-2", "f3", "value-3"),
    },
    {
      name: "hlls",
      keys: Number(opts.hlls),
      command: (i) => resp("PFADD", `hll:${pad7(i)}`, ...thousand.map((e) => `${e}:${i}`)),
    },
  );
}

interface Sample {
  baseline: number;
  loaded: number;
  /** INFO used_memory, empty and loaded. */
  usedBaseline: number;
  used: number;
  error?: string;
}

async function usedMemory(port: number): Promise<number> {
  const c = new Client();
  await c.connect(port);
  const info = await c.call("INFO", "memory");
  c.close();
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

async function measure(target: Target, w: Workload): Promise<Sample> {
  const server = await startServer(target);
  try {
    await sleep(500);
    const baseline = rssBytes(server.pid);
    const usedBaseline = await usedMemory(server.port);
    const loader = new Loader();
    await loader.connect(server.port);
    for (let i = 0; i < w.keys; i += BATCH) {
      let payload = "";
      const end = Math.min(i + BATCH, w.keys);
      for (let k = i; k < end; k++) payload += w.command(k);
      await loader.send(payload, end - i);
      if (loader.errors.length) break;
    }
    loader.close();
    await sleep(SETTLE_MS);
    const sample: Sample = {
      baseline,
      loaded: rssBytes(server.pid),
      usedBaseline,
      used: await usedMemory(server.port),
    };
    if (loader.errors.length) sample.error = loader.errors[0];
    process.stderr.write(
      `${target} ${w.name}: ${mb(sample.loaded)} MB (empty ${mb(baseline)} MB)${
        sample.error ? " " + sample.error : ""
      }\n`,
    );
    return sample;
  } finally {
    await server.stop();
  }
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

if (runtimes.includes("node") && !opts["no-build"]) buildNode();
const rows: string[][] = [];
const only = opts.only ? opts.only.split(",") : null;
for (const w of WORKLOADS.filter((w) => only === null || only.includes(w.name))) {
  const redis = await measure("redis", w);
  const redisData = redis.loaded - redis.baseline;
  const tracking = (s: Sample) => [mb(s.used), ((s.loaded - s.baseline) / (s.used - s.usedBaseline)).toFixed(2)];
  rows.push([w.name, String(w.keys), "redis", mb(redis.loaded), mb(redisData), "1.00x", "1.00x", ...tracking(redis)]);
  for (const rt of runtimes) {
    const s = await measure(rt, w);
    if (s.error) {
      rows.push([
        w.name,
        String(w.keys),
        rt,
        s.error.startsWith("-ERR unknown command") ? "unsupported" : s.error,
        "-",
        "-",
        "-",
        "-",
        "-",
      ]);
      continue;
    }
    const data = s.loaded - s.baseline;
    rows.push([
      w.name,
      String(w.keys),
      rt,
      mb(s.loaded),
      mb(data),
      (s.loaded / redis.loaded).toFixed(2) + "x",
      (data / redisData).toFixed(2) + "x",
      ...tracking(s),
    ]);
  }
}
console.log(`RSS ${SETTLE_MS / 1000}s after loading with pipelined writes (${BATCH} commands per batch)\n`);
console.log(markdownTable(
  [
    "workload",
    "keys",
    "server",
    "RSS MB",
    "over empty MB",
    "RSS/redis",
    "over-empty/redis",
    "used_memory MB",
    "RSS growth/used_memory growth",
  ],
  rows,
));
