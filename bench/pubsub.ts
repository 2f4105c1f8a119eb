/**
 * Pub/sub over RESP: one publisher and N subscribers on one channel (raw
 * node:net sockets, RESP2) against redis-server and Respite under each
 * runtime in one run, servers started one at a time. Reports deliveries/s
 * (summed over subscribers), p50/p99 publish-to-receive latency and the
 * ratio Respite/redis.
 *
 *   node --import tsx bench/pubsub.ts [--runtimes bun,deno,node] [--subscribers 1,100,1000]
 *        [--deliveries 200000] [--inflight 10000] [--no-build]
 *
 * Each case sends about --deliveries/N messages (at most 20,000). Every
 * message carries performance.now() of this process, where the subscribers
 * also live, so latency needs no clock sync (and includes this process's
 * cost of reading the deliveries). The publisher sends batches of up to 100
 * PUBLISH sized so about --inflight deliveries are outstanding, and sends
 * the next batch once the replies and every delivery of the last one arrived.
 */
import * as net from "node:net";
import { buildNode, Loader, markdownTable, parseOptions, parseTargets, resp, startServer, type Target } from "./lib.ts";

const opts = parseOptions(process.argv.slice(2), {
  runtimes: "bun,deno,node",
  subscribers: "1,100,1000",
  deliveries: "200000",
  inflight: "10000",
  "no-build": false,
});
const runtimes = parseTargets(opts.runtimes);
const subscriberCounts = opts.subscribers.split(",").filter(Boolean).map(Number);
const CHANNEL = "bench:ch";
const CASE_TIMEOUT_MS = 120_000;

interface CaseResult {
  messages: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** Counts deliveries of all subscribers and records each one's latency in ms. */
class Deliveries {
  count = 0;
  latencies: Float64Array;
  private wake: (() => void) | null = null;
  private expected = 0;

  constructor(capacity: number) {
    this.latencies = new Float64Array(capacity);
  }

  record(sentAt: number): void {
    if (this.count < this.latencies.length) this.latencies[this.count] = performance.now() - sentAt;
    this.count++;
    if (this.wake && this.count >= this.expected) this.wake();
  }

  /** Resolves true once `total` deliveries have arrived in all, false at `deadline` (performance.now() ms). */
  until(total: number, deadline: number): Promise<boolean> {
    if (this.count >= total) return Promise.resolve(true);
    this.expected = total;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), deadline - performance.now());
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve(true);
      };
    });
  }
}

/**
 * A subscriber socket. Deliveries of a decimal payload are seven lines
 * (*3, $7, message, $len, channel, $len, payload); the SUBSCRIBE
 * confirmation is six (*3, $9, subscribe, $len, channel, :1).
 */
async function subscribe(port: number, deliveries: Deliveries): Promise<net.Socket> {
  const sock = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    sock.once("error", reject);
    sock.once("connect", resolve);
  });
  sock.setNoDelay(true);
  sock.setEncoding("latin1");
  let partial = "";
  let line = 0;
  let kind = "";
  let confirmed: () => void;
  const ready = new Promise<void>((r) => (confirmed = r));
  sock.on("data", (text: string) => {
    const lines = (partial + text).split("\r\n");
    partial = lines.pop()!;
    for (const l of lines) {
      if (line === 2) kind = l;
      if (line === 5 && kind === "subscribe") {
        confirmed();
        line = 0;
      } else if (line === 6) {
        deliveries.record(Number(l));
        line = 0;
      } else line++;
    }
  });
  sock.write(resp("SUBSCRIBE", CHANNEL), "latin1");
  await ready;
  return sock;
}

async function runCase(port: number, subscribers: number): Promise<CaseResult> {
  const messages = Math.max(50, Math.min(20_000, Math.floor(Number(opts.deliveries) / subscribers)));
  const batch = Math.max(1, Math.min(100, Math.floor(Number(opts.inflight) / subscribers)));
  const deliveries = new Deliveries(messages * subscribers);
  const socks: net.Socket[] = [];
  const publisher = new Loader();
  try {
    for (let i = 0; i < subscribers; i++) socks.push(await subscribe(port, deliveries));
    await publisher.connect(port);
    const start = performance.now();
    const deadline = start + CASE_TIMEOUT_MS;
    for (let sent = 0; sent < messages; ) {
      const n = Math.min(batch, messages - sent);
      let payload = "";
      for (let k = 0; k < n; k++) payload += resp("PUBLISH", CHANNEL, performance.now().toFixed(4));
      await publisher.send(payload, n);
      sent += n;
      if (!(await deliveries.until(sent * subscribers, deadline))) {
        throw new Error(`timed out: ${deliveries.count}/${sent * subscribers} delivered`);
      }
    }
    const seconds = (performance.now() - start) / 1000;
    if (publisher.errors.length) throw new Error(`PUBLISH failed: ${publisher.errors[0]}`);
    const sorted = deliveries.latencies.slice(0, deliveries.count).sort();
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
    return { messages, perSecond: deliveries.count / seconds, p50: pct(0.5), p99: pct(0.99) };
  } finally {
    publisher.close();
    for (const s of socks) s.destroy();
  }
}

const results = new Map<Target, Map<number, CaseResult | string>>();

async function measure(target: Target): Promise<void> {
  const server = await startServer(target);
  const byCase = new Map<number, CaseResult | string>();
  results.set(target, byCase);
  try {
    for (const n of subscriberCounts) {
      const r = await runCase(server.port, n).catch((e: Error) => e.message);
      byCase.set(n, r);
      const text = typeof r === "string" ? r : `${Math.round(r.perSecond)}/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms`;
      process.stderr.write(`${target} N=${n}: ${text}\n`);
    }
  } finally {
    await server.stop();
  }
}

function report(): string {
  const header = ["subscribers", "messages", "server", "deliveries/s", "p50 ms", "p99 ms", "rate/redis"];
  const rows: string[][] = [];
  for (const n of subscriberCounts) {
    const base = results.get("redis")?.get(n);
    for (const target of ["redis", ...runtimes] as Target[]) {
      const r = results.get(target)?.get(n);
      if (r === undefined || typeof r === "string") {
        rows.push([String(n), "-", target, (r ?? "-").slice(0, 40), "-", "-", "-"]);
        continue;
      }
      const ratio = base && typeof base !== "string" ? (r.perSecond / base.perSecond).toFixed(2) + "x" : "-";
      rows.push([String(n), String(r.messages), target, String(Math.round(r.perSecond)), r.p50.toFixed(2), r.p99.toFixed(2), ratio]);
    }
  }
  return markdownTable(header, rows);
}

if (runtimes.includes("node") && !opts["no-build"]) buildNode();
for (const target of ["redis", ...runtimes] as Target[]) await measure(target);
console.log(`1 publisher (batches of min(100, ${opts.inflight}/N) PUBLISH), N RESP2 subscribers on one channel\n`);
console.log(report());
