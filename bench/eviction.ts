/**
 * Eviction, against redis-server in the same run, servers started one at a
 * time with the same maxmemory and policy:
 *
 * - cache: the Zipf read-through workload of test/lib/cache-workload.ts
 *   (a key space --data-factor times what maxmemory holds) under each
 *   policy (write-backs get a TTL under volatile-*): hit ratio, the largest
 *   and mean used_memory seen over maxmemory, keys held at the end.
 * - set: redis-benchmark SET of random keys from a space far larger than
 *   what fits, after a fill to the limit, so every write evicts (allkeys-lru
 *   and allkeys-lfu), at each pipeline depth.
 *
 *   node --import tsx bench/eviction.ts [--runtimes bun,deno,node] [--sections cache,set]
 *        [--policies allkeys-lru,...] [--maxmemory 16777216] [--value-size 500] [--data-factor 10]
 *        [--reads 1000000] [--requests 200000] [--pipelines 1,16] [--rounds 1] [--no-build]
 *
 * The 1,000,000-key RSS comparison is bench/memory.ts; GET/SET without
 * maxmemory is bench/throughput.ts.
 */
import { buildNode, markdownTable, median, parseOptions, parseTargets, redisBenchmark, startServer, type Target } from "./lib.ts";
import { type CacheResult, runCacheWorkload, usedMemory } from "../test/lib/cache-workload.ts";
import { RawConnection } from "../test/lib/raw.ts";

const ALL_POLICIES =
  "allkeys-lru,allkeys-lfu,volatile-lru,volatile-lfu,allkeys-random,volatile-random,volatile-ttl,noeviction";

const opts = parseOptions(process.argv.slice(2), {
  runtimes: "bun,deno,node",
  sections: "cache,set",
  policies: ALL_POLICIES,
  maxmemory: String(16 * 1024 * 1024),
  "value-size": "500",
  "data-factor": "10",
  reads: "1000000",
  requests: "200000",
  pipelines: "1,16",
  rounds: "1",
  "no-build": false,
});
const runtimes = parseTargets(opts.runtimes);
const sections = opts.sections.split(",");
const maxmemory = Number(opts.maxmemory);
const valueSize = Number(opts["value-size"]);
const targets: Target[] = ["redis", ...runtimes];

if (runtimes.includes("node") && !opts["no-build"]) buildNode();

/** Keys redis-server holds at this maxmemory, measured: the key space is --data-factor times that. */
async function capacity(): Promise<number> {
  const server = await startServer("redis", { extra: ["--maxmemory", String(maxmemory), "--maxmemory-policy", "allkeys-random"] });
  try {
    const conn = await RawConnection.connect(server.port);
    const value = "v".repeat(valueSize);
    for (let i = 0; ; i += 1000) {
      await conn.pipeline(Array.from({ length: 1000 }, (_, j) => ["SET", `fill:${i + j}`, value]));
      const info = (await conn.call("INFO", "stats")).toString("latin1");
      if (Number(/^evicted_keys:(\d+)/m.exec(info)![1]) > 0) {
        const n = Number((await conn.call("DBSIZE")).toString("latin1").slice(1));
        conn.close();
        return n;
      }
    }
  } finally {
    await server.stop();
  }
}

async function cacheSection(): Promise<void> {
  const fits = await capacity();
  const keys = fits * Number(opts["data-factor"]);
  const reads = Number(opts.reads);
  console.log(`redis-server holds ${fits} keys of ${valueSize} bytes at maxmemory ${maxmemory}; key space ${keys}`);
  const rows: string[][] = [];
  for (const policy of opts.policies.split(",")) {
    const results = new Map<Target, CacheResult>();
    for (const target of targets) {
      const server = await startServer(target, { extra: ["--maxmemory", String(maxmemory), "--maxmemory-policy", policy] });
      try {
        results.set(target, await runCacheWorkload(server.port, {
          keys,
          skew: 0.99,
          valueSize,
          warmup: Math.max(fits * 4, reads / 4),
          reads,
          batch: 100,
          sampleEvery: 20,
          seed: 12345,
          // volatile-* policies evict only keys with a deadline: every write-back gets one (far away).
          ttl: policy.startsWith("volatile-") ? 100_000 : 0,
        }));
      } finally {
        await server.stop();
      }
      const r = results.get(target)!;
      const over = Math.max(...r.usedSamples) / maxmemory;
      console.log(`${policy} ${target}: hit ${(r.hitRatio * 100).toFixed(2)}% max used/maxmemory ${over.toFixed(3)} keys ${r.keysAtEnd} OOM ${r.errors}`);
    }
    const redis = results.get("redis")!;
    for (const [target, r] of results) {
      rows.push([
        policy,
        target,
        (r.hitRatio * 100).toFixed(2),
        target === "redis" ? "" : ((r.hitRatio - redis.hitRatio) * 100).toFixed(2),
        (Math.max(...r.usedSamples) / maxmemory).toFixed(3),
        (r.usedSamples.reduce((a, b) => a + b, 0) / r.usedSamples.length / maxmemory).toFixed(3),
        String(r.keysAtEnd),
        String(r.errors),
      ]);
    }
  }
  console.log(
    `\nZipf 0.99 read-through over ${keys} keys of ${valueSize} bytes, maxmemory ${maxmemory}, ${reads} reads counted\n`,
  );
  console.log(markdownTable(
    ["policy", "server", "hit %", "points vs redis", "max used/limit", "mean used/limit", "keys at end", "OOM write-backs"],
    rows,
  ));
}

/** Fills a server to its limit with random keys, so the benchmark's writes all evict. */
async function fill(port: number): Promise<void> {
  const conn = await RawConnection.connect(port);
  const value = "v".repeat(valueSize);
  for (let i = 0; (await usedMemory(conn)) < maxmemory * 0.99; i += 1000) {
    await conn.pipeline(Array.from({ length: 1000 }, (_, j) => ["SET", `fill:${i + j}`, value]));
  }
  conn.close();
}

async function setSection(): Promise<void> {
  const pipelines = opts.pipelines.split(",").map(Number);
  const rounds = Number(opts.rounds);
  const rows: string[][] = [];
  for (const policy of ["allkeys-lru", "allkeys-lfu"]) {
    for (const depth of pipelines) {
      const rates = new Map<Target, number[]>();
      const ratios = new Map<Target, number[]>();
      const evicted = new Map<Target, number>();
      for (let round = 0; round < rounds; round++) {
        for (const target of targets) {
          const server = await startServer(target, { extra: ["--maxmemory", String(maxmemory), "--maxmemory-policy", policy] });
          try {
            await fill(server.port);
            // An untimed run first, so a JIT has compiled the eviction path.
            redisBenchmark(server.port, ["-t", "set", "-n", opts.requests, "-r", "100000000", "-d", String(valueSize), "-P", String(depth)]);
            const rate = redisBenchmark(server.port, [
              "-t", "set", "-n", opts.requests, "-r", "100000000", "-d", String(valueSize), "-P", String(depth),
            ]).get("set")!;
            const conn = await RawConnection.connect(server.port);
            const info = (await conn.call("INFO", "stats")).toString("latin1");
            evicted.set(target, Number(/^evicted_keys:(\d+)/m.exec(info)![1]));
            conn.close();
            (rates.get(target) ?? rates.set(target, []).get(target)!).push(rate);
          } finally {
            await server.stop();
          }
        }
        const redisRate = rates.get("redis")![round];
        for (const t of runtimes) (ratios.get(t) ?? ratios.set(t, []).get(t)!).push(rates.get(t)![round] / redisRate);
      }
      for (const t of targets) {
        rows.push([
          policy,
          String(depth),
          t,
          String(Math.round(median(rates.get(t)!))),
          t === "redis" ? "1.00x" : `${median(ratios.get(t)!).toFixed(2)}x`,
          String(evicted.get(t)),
        ]);
      }
    }
  }
  console.log(
    `\nSET with every write evicting: redis-benchmark -t set -n ${opts.requests} -r 100000000 -d ${valueSize} -c 50, after a fill to maxmemory ${maxmemory}; median of ${rounds} round(s)\n`,
  );
  console.log(markdownTable(["policy", "-P", "server", "SET rps", "vs redis", "evicted keys (both runs)"], rows));
}

if (sections.includes("cache")) await cacheSection();
if (sections.includes("set")) await setSection();
