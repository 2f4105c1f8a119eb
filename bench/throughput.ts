/**
 * Throughput: redis-benchmark (`-c 50 -n N -q --csv`) at each pipeline
 * depth against a real redis-server and Respite under each runtime, all in
 * one run, servers started one at a time. Prints requests/s and the ratio
 * Respite/redis per test, runtime and depth (medians over --rounds).
 *
 *   node --import tsx bench/throughput.ts [--runtimes bun,deno,node] [--requests 200000]
 *        [--tests set,get,incr,mset,ping] [--pipelines 1,16] [--clients 50] [--rounds 1]
 *        [--warmup 1000000] [--keyspace 0] [--no-build]
 *
 * --requests is the count at -P 1; a deeper pipeline runs that many times
 * its depth (up to ten times): at -P 16 a server answers 200,000 requests
 * in a quarter of a second, and runs that short swung 2x between rounds.
 *
 * Before the timed runs, each server gets an untimed run of the same tests
 * (--warmup requests at the deepest pipeline, 0 to skip): a JIT compiles
 * the hot paths during its first few hundred thousand commands, and a
 * long-running server is measured, not its first second.
 *
 * --keyspace N spreads every run over N keys (redis-benchmark -r N), each
 * server first given all N (`SET key:%012d xxx`, redis-benchmark's names and
 * 3-byte value): a real dataset's lookups miss the CPU caches, one key's
 * never do. 0, the default, is redis-benchmark's single key.
 *
 * Tests are redis-benchmark's names (lpush rpush lpop rpop sadd hset spop
 * zadd zpopmin lrange_100 lrange_600 ...); "ping" means ping_mbulk. A test
 * whose command Respite answers with an error is reported as such instead
 * of a meaningless rate.
 */
import * as net from "node:net";
import {
  buildNode,
  Loader,
  markdownTable,
  median,
  parseOptions,
  parseTargets,
  redisBenchmark,
  resp,
  startServer,
  type Target,
} from "./lib.ts";

/** One command per test, to check that a server supports what the test sends. */
const PROBES: Record<string, string[]> = {
  ping_inline: ["PING"],
  ping_mbulk: ["PING"],
  set: ["SET", "bench:probe", "x"],
  get: ["GET", "bench:probe"],
  incr: ["INCR", "bench:probe:n"],
  mset: ["MSET", "bench:probe", "x"],
  lpush: ["LPUSH", "bench:probe:l", "x"],
  rpush: ["RPUSH", "bench:probe:l", "x"],
  lpop: ["LPOP", "bench:probe:l"],
  rpop: ["RPOP", "bench:probe:l"],
  sadd: ["SADD", "bench:probe:s", "x"],
  spop: ["SPOP", "bench:probe:s"],
  hset: ["HSET", "bench:probe:h", "f", "x"],
  zadd: ["ZADD", "bench:probe:z", "1", "x"],
  zpopmin: ["ZPOPMIN", "bench:probe:z"],
  lrange_100: ["LRANGE", "bench:probe:l", "0", "99"],
  lrange_300: ["LRANGE", "bench:probe:l", "0", "299"],
  lrange_500: ["LRANGE", "bench:probe:l", "0", "499"],
  lrange_600: ["LRANGE", "bench:probe:l", "0", "599"],
};

const opts = parseOptions(process.argv.slice(2), {
  runtimes: "bun,deno,node",
  requests: "200000",
  tests: "set,get,incr,mset,ping",
  pipelines: "1,16",
  clients: "50",
  rounds: "1",
  warmup: "1000000",
  keyspace: "0",
  "no-build": false,
});
const runtimes = parseTargets(opts.runtimes);
const tests = opts.tests.toLowerCase().split(",").filter(Boolean).map((t) => (t === "ping" ? "ping_mbulk" : t));
for (const t of tests) if (!(t in PROBES)) throw new Error(`unknown test ${t}; known: ${Object.keys(PROBES).join(" ")}`);
const pipelines = opts.pipelines.split(",").map(Number);
const rounds = Number(opts.rounds);
const requestsAt = (pipeline: number) => String(Number(opts.requests) * Math.min(pipeline, 10));

const keyspace = Number(opts.keyspace);

function runBenchmark(port: number, testList: string[], pipeline: number, requests = requestsAt(pipeline)): Map<string, number> {
  const spread = keyspace > 0 ? ["-r", String(keyspace)] : [];
  return redisBenchmark(port, ["-c", opts.clients, "-n", requests, "-P", String(pipeline), ...spread, "-t", testList.join(",")]);
}

/** Every key --keyspace names, as redis-benchmark's SET writes it, in pipelined batches. */
async function fill(port: number): Promise<void> {
  const loader = new Loader();
  await loader.connect(port);
  for (let i = 0; i < keyspace; i += 1000) {
    const end = Math.min(i + 1000, keyspace);
    let payload = "";
    for (let k = i; k < end; k++) payload += resp("SET", `key:${String(k).padStart(12, "0")}`, "xxx");
    await loader.send(payload, end - i);
  }
  loader.close();
}

/** Sends each test's probe command; returns the error reply per unsupported test. */
function probe(port: number): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const names = tests;
    let text = "";
    sock.setEncoding("latin1");
    sock.on("error", reject);
    sock.on("data", (d: string) => {
      text += d;
      const replies = splitReplies(text);
      if (replies === null || replies.length < names.length) return;
      sock.destroy();
      const errors = new Map<string, string>();
      names.forEach((n, i) => replies[i].startsWith("-") && errors.set(n, replies[i].trim()));
      resolve(errors);
    });
    sock.write(names.map((n) => resp(...PROBES[n])).join(""), "latin1");
  });
}

/** Splits RESP replies just enough to count them and see their first line. */
function splitReplies(text: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const skipValue = (): boolean => {
    const nl = text.indexOf("\r\n", i);
    if (nl < 0) return false;
    const type = text[i];
    const n = Number(text.slice(i + 1, nl));
    i = nl + 2;
    if (type === "$" && n >= 0) i += n + 2;
    if (type === "*") for (let k = 0; k < n; k++) if (!skipValue()) return false;
    return i <= text.length;
  };
  while (i < text.length) {
    const start = i;
    if (!skipValue()) return null;
    out.push(text.slice(start, i));
  }
  return out;
}

type Result = number | string;
/** results[target][pipeline][test] = one rate per round, or the error that made the test impossible. */
const results = new Map<Target, Map<number, Map<string, Result[]>>>();

async function measure(target: Target): Promise<void> {
  const server = await startServer(target);
  try {
    const unsupported = await probe(server.port);
    const runnable = tests.filter((t) => !unsupported.has(t));
    if (keyspace > 0) await fill(server.port);
    if (runnable.length && Number(opts.warmup) > 0) runBenchmark(server.port, runnable, Math.max(...pipelines), opts.warmup);
    const byDepth = results.get(target) ?? new Map();
    results.set(target, byDepth);
    for (const p of pipelines) {
      const byTest = byDepth.get(p) ?? new Map<string, Result[]>();
      byDepth.set(p, byTest);
      const rates = runnable.length ? runBenchmark(server.port, runnable, p) : new Map();
      for (const t of tests) {
        const list = byTest.get(t) ?? [];
        list.push(unsupported.get(t) ?? rates.get(t) ?? "no result");
        byTest.set(t, list);
      }
      process.stderr.write(`${target} -P ${p}: ${[...rates].map(([t, r]) => `${t}=${Math.round(r)}`).join(" ")}\n`);
    }
  } finally {
    await server.stop();
  }
}

function roundsOf(target: Target, p: number, test: string): Result[] {
  return results.get(target)?.get(p)?.get(test) ?? [];
}

function summary(target: Target, p: number, test: string): Result {
  const list = roundsOf(target, p, test);
  const numbers = list.filter((x): x is number => typeof x === "number");
  return numbers.length ? median(numbers) : (list[0] ?? "-");
}

/** Median over rounds of Respite/redis within the same round, so a noisy round skews both sides alike. */
function ratio(target: Target, p: number, test: string): string {
  const mine = roundsOf(target, p, test);
  const base = roundsOf("redis", p, test);
  const ratios = mine.flatMap((v, i) => (typeof v === "number" && typeof base[i] === "number" ? [v / (base[i] as number)] : []));
  return ratios.length ? median(ratios).toFixed(2) + "x" : "-";
}

function report(): string {
  const header = ["test", "-P", "redis rps"];
  for (const rt of runtimes) header.push(`${rt} rps`, `${rt}/redis`);
  const rows: string[][] = [];
  for (const t of tests) {
    for (const p of pipelines) {
      const base = summary("redis", p, t);
      const row = [t.toUpperCase(), String(p), typeof base === "number" ? Math.round(base).toString() : base];
      for (const rt of runtimes) {
        const v = summary(rt, p, t);
        if (typeof v !== "number") row.push(v.startsWith("-ERR unknown command") ? "unsupported" : v.slice(0, 30), "-");
        else row.push(Math.round(v).toString(), ratio(rt, p, t));
      }
      rows.push(row);
    }
  }
  return markdownTable(header, rows);
}

if (runtimes.includes("node") && !opts["no-build"]) buildNode();
for (let round = 0; round < rounds; round++) {
  const order: Target[] = ["redis", ...runtimes];
  for (const target of order) await measure(target);
}
const warmup = Number(opts.warmup) > 0 ? `, after an untimed run of ${opts.warmup} requests per test` : ", no warm-up run";
const spread = keyspace > 0 ? ` -r ${keyspace} (each server first given all ${keyspace} keys)` : "";
console.log(`redis-benchmark -c ${opts.clients} -n ${opts.requests} x min(depth, 10) -q --csv -P <depth>${spread} -t <tests>${warmup}; rps: median of ${rounds} round(s); ratio: median of per-round ratios\n`);
console.log(report());
