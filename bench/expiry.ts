/**
 * Expiry stall: loads --keys keys (1,000,000 by default) whose deadlines
 * all fall within the same few milliseconds, then measures PING round
 * trips from another client while the active expire cycle deletes them,
 * against a real redis-server and Respite under each chosen runtime, all in
 * one run, servers started one at a time. A server that deletes a million
 * keys in one go shows it as a huge max latency; Redis (and Respite) spend
 * the work in time-bounded slices.
 *
 *   node --import tsx bench/expiry.ts [--runtimes bun] [--keys 1000000] [--lead 20000] [--no-build]
 *
 * --lead is how far ahead (ms) of the start of loading the deadline is set;
 * it must cover the load. Reported per server: PING samples during the
 * expiry window, p50 / p99 / max round trip, the same before the deadline
 * (baseline), and how long after the deadline DBSIZE reached 0.
 */
import { buildNode, Client, Loader, markdownTable, parseOptions, parseTargets, resp, sleep, startServer, type Target } from "./lib.ts";

const opts = parseOptions(process.argv.slice(2), {
  runtimes: "bun",
  keys: "1000000",
  lead: "20000",
  "no-build": false,
});
const runtimes = parseTargets(opts.runtimes);
const KEYS = Number(opts.keys);
const BATCH = 10_000;

/** Round trip of one PING over client, in ms. */
async function ping(client: Client): Promise<number> {
  const t0 = performance.now();
  await client.call("PING");
  return performance.now() - t0;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

interface Result {
  target: Target;
  baseline: number[];
  during: number[];
  /** ms from the deadline until DBSIZE was 0. */
  drained: number;
  loadMs: number;
}

async function load(port: number, deadline: number): Promise<void> {
  const loader = new Loader();
  await loader.connect(port);
  for (let i = 0; i < KEYS; i += BATCH) {
    let payload = "";
    const n = Math.min(BATCH, KEYS - i);
    // Deadlines spread over 10 ms: "about the same time", like a batch written with the same TTL.
    for (let j = i; j < i + n; j++) payload += resp("SET", `exp:${j}`, "v", "PXAT", String(deadline + (j % 10)));
    await loader.send(payload, n);
  }
  loader.close();
  if (loader.errors.length) throw new Error(`load errors: ${loader.errors.join(", ")}`);
}

async function measure(target: Target): Promise<Result> {
  const server = await startServer(target);
  try {
    const started = Date.now();
    const deadline = started + Number(opts.lead);
    await load(server.port, deadline);
    const loadMs = Date.now() - started;
    if (Date.now() > deadline - 1000) throw new Error(`${target}: loading took ${loadMs} ms; raise --lead`);
    const pinger = new Client();
    await pinger.connect(server.port);
    await sleep(Math.max(0, deadline - 1000 - Date.now()));
    const baseline: number[] = [];
    while (Date.now() < deadline) baseline.push(await ping(pinger));
    const during: number[] = [];
    let drained = NaN;
    // Check DBSIZE every 50 PINGs: cheap, and it bounds the window.
    for (let i = 1; ; i++) {
      during.push(await ping(pinger));
      if (i % 50 === 0 && (await pinger.call("DBSIZE")) === ":0") {
        drained = Date.now() - deadline;
        break;
      }
      if (Date.now() - deadline > 120_000) break;
    }
    pinger.close();
    return { target, baseline, during, drained, loadMs };
  } finally {
    await server.stop();
  }
}

if (runtimes.includes("node") && !opts["no-build"]) buildNode();
const results: Result[] = [];
for (const target of ["redis", ...runtimes] as Target[]) {
  console.error(`${target}: loading ${KEYS} keys...`);
  results.push(await measure(target));
}

const ms = (x: number) => (Number.isNaN(x) ? "-" : x.toFixed(2));
const rows = results.map((r) => {
  const b = [...r.baseline].sort((x, y) => x - y);
  const d = [...r.during].sort((x, y) => x - y);
  return [
    r.target,
    String(r.loadMs),
    `${ms(percentile(b, 50))} / ${ms(percentile(b, 99))} / ${ms(b[b.length - 1] ?? NaN)}`,
    String(d.length),
    ms(percentile(d, 50)),
    ms(percentile(d, 99)),
    ms(d[d.length - 1] ?? NaN),
    Number.isNaN(r.drained) ? "not drained" : String(r.drained),
  ];
});
console.log(`\nPING round trips (ms) while ${KEYS} keys expire at once\n`);
console.log(markdownTable(
  ["server", "load ms", "before: p50 / p99 / max", "PINGs during", "p50", "p99", "max", "all gone after ms"],
  rows,
));
