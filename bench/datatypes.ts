/**
 * Streams, bitmaps, HyperLogLog and geo: redis-benchmark with each type's
 * commands against redis-server and Respite under each runtime, servers
 * started one at a time, each given the same data first.
 *
 *   node --import tsx bench/datatypes.ts [--runtimes bun,deno,node] [--tests xadd,xrange10,...]
 *        [--pipelines 1,16] [--requests 100000] [--clients 50] [--warmup 100000] [--rounds 1] [--no-build]
 *
 * A run at depth P sends --requests times min(P, 4) commands (a test whose
 * command walks a hundred entries or more, xrange100 and geosearch, a tenth
 * of --requests at every depth): at -P 16 the light commands' 100,000 took
 * a quarter of a second, and runs that short swung 2x between rounds (as
 * bench/throughput.ts found). With --rounds N each server is started N
 * times, in turn with the others; the table shows the median rate and the
 * median of the per-round ratios.
 *
 * Data loaded before the runs (pipelined): a stream `s` of --requests * 5
 * entries with explicit IDs 1-1, 2-1, ... and three small fields, a group
 * `g` on it; a bitmap `bits` of 1 MB; a HyperLogLog `hll` of 100,000
 * elements; a geo set `geo` of 10,000 random points within 2 degrees of
 * (15, 37). The tests (redis-benchmark -c --clients -n --requests, -r for
 * __rand_int__):
 *
 * - xadd: XADD bench * f1 v1 f2 v2 f3 v3 (a growing stream)
 * - xrange10 / xrange100: XRANGE s - + COUNT 10 / 100
 * - xreadgroup: XREADGROUP GROUP g c COUNT 1 STREAMS s > (each call takes the next entry; the group is set
 *   back to 0 before each run so there are always new entries)
 * - xack: XACK s g <random id>-1 (random entries the xreadgroup runs left pending)
 * - setbit: SETBIT bits 4194303 1; bitcount: BITCOUNT bits 0 1023 (the first 1 KB)
 * - pfadd: PFADD hll <random element>; pfcount: PFCOUNT hll
 * - geoadd: GEOADD geo:add <lon> <lat> <random member>; geosearch: GEOSEARCH geo FROMLONLAT 15 37 BYRADIUS 50 km
 *   ASC COUNT 10
 *
 * Before the timed runs each server gets an untimed run of every test at
 * the deepest pipeline (--warmup requests, a tenth for xrange100 and
 * geosearch, 0 to skip), as bench/throughput.ts
 * does: a JIT compiles the hot paths during the first few hundred thousand
 * commands, and a long-running server is what gets measured. The warm-up
 * leaves the same state on every server (a longer `bench` stream, fewer
 * pending entries for XACK, more HLL and geo members).
 *
 * Ratios are Respite/redis-server with issue 14's targets (0.85x at -P 1, 0.6x at -P 16) marked ok or MISS.
 */
import {
  buildNode,
  environment,
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

const opts = parseOptions(process.argv.slice(2), {
  runtimes: "bun,deno,node",
  tests: "xadd,xrange10,xrange100,xreadgroup,xack,setbit,bitcount,pfadd,pfcount,geoadd,geosearch",
  pipelines: "1,16",
  requests: "100000",
  clients: "50",
  warmup: "100000",
  rounds: "1",
  "no-build": false,
});
const runtimes = parseTargets(opts.runtimes);
const pipelines = opts.pipelines.split(",").map(Number);
const requests = Number(opts.requests);
const warmup = Number(opts.warmup);
const rounds = Number(opts.rounds);
/** Enough for the longest XREADGROUP run to read a new entry each time (the group starts at 0 before each run). */
const streamEntries = requests * 5;
const TARGETS: Record<number, number> = { 1: 0.85, 16: 0.6 };

/** Each test: the command line (with __rand_int__), the -r range if any, and whether one command walks 100+ entries. */
const TESTS: Record<string, { args: string[]; range?: number; heavy?: boolean }> = {
  xadd: { args: ["XADD", "bench", "*", "f1", "v1", "f2", "v2", "f3", "v3"] },
  xrange10: { args: ["XRANGE", "s", "-", "+", "COUNT", "10"] },
  xrange100: { args: ["XRANGE", "s", "-", "+", "COUNT", "100"], heavy: true },
  xreadgroup: { args: ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"] },
  xack: { args: ["XACK", "s", "g", "__rand_int__-1"], range: requests },
  // Bit offsets must be canonical integers, and __rand_int__ is zero-padded: one offset, in the middle of the bitmap.
  setbit: { args: ["SETBIT", "bits", "4194303", "1"] },
  bitcount: { args: ["BITCOUNT", "bits", "0", "1023"] },
  pfadd: { args: ["PFADD", "hll", "__rand_int__"], range: 1_000_000 },
  pfcount: { args: ["PFCOUNT", "hll"] },
  // Its own key: members piling up at one point inside GEOSEARCH's radius would turn that test into a sort of them.
  geoadd: { args: ["GEOADD", "geo:add", "15.087269", "37.502669", "__rand_int__"], range: 1_000_000 },
  geosearch: {
    args: ["GEOSEARCH", "geo", "FROMLONLAT", "15", "37", "BYRADIUS", "50", "km", "ASC", "COUNT", "10"],
    heavy: true,
  },
};
const tests = opts.tests.split(",").filter(Boolean);
/** Requests in a timed run of test at depth p (see the top of this file). */
const runLength = (test: string, p: number) => Math.round(requests * (TESTS[test].heavy ? 0.1 : Math.min(p, 4)));
/** Requests in test's untimed run: --warmup, a tenth of it for a heavy test. */
const warmupLength = (test: string) => Math.round(warmup * (TESTS[test].heavy ? 0.1 : 1));
for (const t of tests) if (!(t in TESTS)) throw new Error(`unknown test ${t}; known: ${Object.keys(TESTS).join(" ")}`);

/** Sends count commands made by make(i), in batches; returns the first error reply, if any. */
async function load(port: number, count: number, make: (i: number) => string): Promise<string | null> {
  const loader = new Loader();
  await loader.connect(port);
  for (let i = 0; i < count; i += 1000) {
    let payload = "";
    const end = Math.min(i + 1000, count);
    for (let k = i; k < end; k++) payload += make(k);
    await loader.send(payload, end - i);
  }
  loader.close();
  return loader.errors[0] ?? null;
}

/** A fixed pseudo-random sequence, so every server gets the same points. */
function points(n: number): [number, number][] {
  let x = 12345;
  const next = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, () => [13 + next() * 4, 35 + next() * 4]);
}

async function fill(port: number): Promise<string | null> {
  const geo = points(10_000);
  return (await load(port, streamEntries, (i) => resp("XADD", "s", `${i + 1}-1`, "f1", String(i), "f2", "v2", "f3", "v3"))) ??
    (await load(port, 1, () => resp("XGROUP", "CREATE", "s", "g", "0"))) ??
    (await load(port, 1, () => resp("SETBIT", "bits", String(8 * 1024 * 1024 - 1), "1"))) ??
    (await load(port, 100, (i) => resp("PFADD", "hll", ...Array.from({ length: 1000 }, (_, k) => `e${i * 1000 + k}`)))) ??
    (await load(port, geo.length, (i) => resp("GEOADD", "geo", String(geo[i][0]), String(geo[i][1]), `p${i}`)));
}

/** A timed run's requests/s, or the error that stopped it. */
type Rate = number | string;
/** results[target][test][pipeline] = each round's rate. */
const results = new Map<Target, Map<string, Map<number, Rate[]>>>();

async function measure(target: Target): Promise<void> {
  const server = await startServer(target);
  const rates = results.get(target) ?? new Map(tests.map((t) => [t, new Map(pipelines.map((p) => [p, []]))]));
  results.set(target, rates);
  try {
    const error = await fill(server.port);
    if (error) process.stderr.write(`${target}: loading: ${error}\n`);
    const run = async (t: string, p: number, n: number): Promise<Rate> => {
      const { args, range } = TESTS[t];
      if (t === "xreadgroup") await load(server.port, 1, () => resp("XGROUP", "SETID", "s", "g", "0"));
      const flags = ["-c", opts.clients, "-n", String(n), "-P", String(p), ...(range ? ["-r", String(range)] : [])];
      try {
        return redisBenchmark(server.port, [...flags, ...args]).get(args[0].toLowerCase()) ?? "no result";
      } catch (e) {
        return (e as Error).message.split("\n")[0];
      }
    };
    if (warmup > 0) for (const t of tests) await run(t, Math.max(...pipelines), warmupLength(t));
    for (const p of pipelines) {
      for (const t of tests) {
        const started = performance.now();
        const rate = await run(t, p, runLength(t, p));
        rates.get(t)!.get(p)!.push(rate);
        const secs = ((performance.now() - started) / 1000).toFixed(1);
        process.stderr.write(`${target} ${t} -P ${p}: ${rate} (${secs} s)\n`);
      }
    }
  } finally {
    await server.stop();
  }
}

if (!opts["no-build"] && runtimes.includes("node")) buildNode();
console.log(environment().join("\n"));
console.log(`date: ${new Date().toISOString()}\n`);
for (let round = 0; round < rounds; round++) for (const t of ["redis", ...runtimes] as Target[]) await measure(t);

const roundsOf = (target: Target, test: string, p: number): Rate[] => results.get(target)!.get(test)!.get(p)!;
/** The median rate over the rounds, or the first error when no round gave one. */
function summary(list: Rate[]): Rate {
  const numbers = list.filter((x): x is number => typeof x === "number");
  return numbers.length ? median(numbers) : list[0];
}

const rows: string[][] = [];
for (const test of tests) {
  for (const p of pipelines) {
    const base = roundsOf("redis", test, p);
    const theirs = summary(base);
    const row = [test, String(p), typeof theirs === "number" ? Math.round(theirs).toLocaleString("en") : theirs];
    for (const rt of runtimes) {
      const list = roundsOf(rt, test, p);
      const mine = summary(list);
      // Within a round, so a noisy round skews both sides alike.
      const ratios = list.flatMap((v, i) => (typeof v === "number" && typeof base[i] === "number" ? [v / base[i]] : []));
      if (typeof mine !== "number" || ratios.length === 0) {
        row.push(String(mine));
        continue;
      }
      const ratio = median(ratios);
      row.push(`${Math.round(mine).toLocaleString("en")} (${ratio.toFixed(2)} ${ratio >= TARGETS[p] ? "ok" : "MISS"})`);
    }
    rows.push(row);
  }
}
console.log(
  `redis-benchmark -c ${opts.clients} -n ${requests} x min(depth, 4) (xrange100, geosearch: ${requests / 10}) after ${warmup} untimed; ` +
    `requests/s: median of ${rounds} round(s); (median of per-round ratios to redis-server, target 0.85 at -P 1, 0.6 at -P 16)\n`,
);
console.log(markdownTable(["test", "-P", "redis", ...runtimes], rows));
