/**
 * Gateway fan-out: one publisher over RESP, many WebSocket subscribers
 * (`json` subprotocol, the `ws` package) on the Respite gateway under each
 * runtime, and the same load delivered by redis-server to RESP2 subscribers
 * on raw sockets, in one run. Cases: S subscribers on one channel (S from
 * --subscribers) and 1,000 channels x 10 subscribers. Reports deliveries/s,
 * p50/p99 publish-to-receive latency and RSS per connection.
 *
 *   node --import tsx bench/fanout.ts [--runtimes bun,deno,node] [--subscribers 1000,10000]
 *        [--deliveries 500000] [--inflight 10000] [--no-grid] [--no-build]
 *
 * Each message carries performance.now() from this process, where the
 * subscribers also live, so latency needs no clock sync; the subscribers
 * share this process's one core, so the figures include its cost of
 * receiving (parsing a WebSocket frame and JSON versus a RESP line). The
 * publisher sends batches of PUBLISH sized so that about --inflight
 * deliveries are outstanding, and sends the next batch once the one before
 * was delivered everywhere: latency is under load, not queue growth.
 */
import * as net from "node:net";
import WebSocket from "ws";
import {
  type BenchServer,
  buildNode,
  environment,
  freeBenchPort,
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
  subscribers: "1000,10000",
  deliveries: "300000",
  inflight: "10000",
  "no-grid": false,
  "no-build": false,
});
const runtimes = parseTargets(opts.runtimes);
const MAX_CLIENTS = "15000";

interface Case {
  name: string;
  channels: number;
  perChannel: number;
}

const cases: Case[] = opts.subscribers.split(",").filter(Boolean).map((s) => ({
  name: `1 ch x ${s}`,
  channels: 1,
  perChannel: Number(s),
}));
if (!opts["no-grid"]) cases.push({ name: "1000 ch x 10", channels: 1000, perChannel: 10 });

interface Server extends BenchServer {
  respPort: number;
  gatewayPort: number;
}

/** A port of the bench range other than `taken` (which must not be listening yet). */
async function secondPort(taken: number): Promise<number> {
  const hold = net.createServer();
  await new Promise<void>((r) => hold.listen(taken, "127.0.0.1", r));
  try {
    return await freeBenchPort();
  } finally {
    await new Promise((r) => hold.close(r));
  }
}

/** A bench server with room for 10,000+ clients, plus (for Respite) the gateway on its own bench port. */
async function start(target: Target): Promise<Server> {
  const respPort = await freeBenchPort();
  const gatewayPort = await secondPort(respPort);
  const server = await startServer(target, {
    port: respPort,
    extra: ["--maxclients", MAX_CLIENTS],
    respiteExtra: ["--gateway-port", String(gatewayPort), "--gateway-default-access", "all"],
    readyPort: target === "redis" ? respPort : gatewayPort,
  });
  return { ...server, respPort, gatewayPort };
}

/** What every subscriber reports to: subscription acks and message latencies. */
class Tally {
  subscribed = 0;
  delivered = 0;
  latencies: Float64Array;
  closedEarly = 0;
  constructor(expected: number) {
    this.latencies = new Float64Array(expected);
  }
  message(stamp: string): void {
    if (this.delivered < this.latencies.length) this.latencies[this.delivered] = performance.now() - Number(stamp);
    this.delivered++;
  }
}

type Closer = () => void;

function wsSubscriber(port: number, channel: string, tally: Tally): Promise<Closer> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, "json");
  ws.on("message", (data: Buffer) => {
    // The SUBSCRIBE confirmation is the command's reply (a list of pushes); messages are pushes.
    const frame = JSON.parse(data.toString("utf8"));
    if (frame.push?.[0] === "message") tally.message(frame.push[2]);
    else if (frame.result?.[0]?.[0] === "subscribe") tally.subscribed++;
  });
  return new Promise((resolve, reject) => {
    ws.once("open", () => {
      ws.on("close", () => tally.closedEarly++);
      ws.send(JSON.stringify({ command: ["SUBSCRIBE", channel] }));
      resolve(() => (ws.removeAllListeners("close"), ws.terminate()));
    });
    ws.once("error", reject);
  });
}

/** A RESP2 subscriber that reads lines: after "message" come channel length, channel, payload length, payload. */
function respSubscriber(port: number, channel: string, tally: Tally): Promise<Closer> {
  const sock = net.connect(port, "127.0.0.1");
  sock.setEncoding("latin1");
  let partial = "";
  let linesToPayload = 0;
  sock.on("data", (text: string) => {
    const lines = (partial + text).split("\r\n");
    partial = lines.pop()!;
    for (const line of lines) {
      if (linesToPayload > 0) {
        if (--linesToPayload === 0) tally.message(line);
      } else if (line === "message") linesToPayload = 4;
      else if (line === "subscribe") tally.subscribed++;
    }
  });
  return new Promise((resolve, reject) => {
    sock.once("connect", () => {
      sock.on("close", () => tally.closedEarly++);
      sock.write(resp("SUBSCRIBE", channel));
      resolve(() => (sock.removeAllListeners("close"), sock.destroy()));
    });
    sock.once("error", reject);
  });
}

async function until(ready: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await sleep(1);
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

interface Result {
  perSec: number;
  p50: number;
  p99: number;
  bytesPerConn: number;
  note: string;
}

async function runCase(target: Target, c: Case): Promise<Result> {
  const server = await start(target);
  const closers: Closer[] = [];
  const publisher = Object.assign(new Loader(), { connected: false });
  try {
    const connections = c.channels * c.perChannel;
    const messages = Math.max(1, Math.ceil(Number(opts.deliveries) / connections)) * c.channels;
    const expected = messages * c.perChannel;
    const tally = new Tally(expected);
    const subscribe = target === "redis" ? respSubscriber : wsSubscriber;
    const port = target === "redis" ? server.respPort : server.gatewayPort;
    await sleep(300);
    const rssBefore = rssBytes(server.pid);
    for (let i = 0; i < connections; i += 250) {
      const chunk = [];
      for (let j = i; j < Math.min(connections, i + 250); j++) chunk.push(subscribe(port, `bench:${j % c.channels}`, tally));
      closers.push(...(await Promise.all(chunk)));
    }
    await until(() => tally.subscribed === connections, `${connections} subscriptions`);
    await sleep(300);
    const bytesPerConn = (rssBytes(server.pid) - rssBefore) / connections;

    await publisher.connect(server.respPort);
    publisher.connected = true;
    const batch = Math.max(1, Math.min(messages, Math.round(Number(opts.inflight) / c.perChannel)));
    const began = performance.now();
    for (let sent = 0; sent < messages; ) {
      const n = Math.min(batch, messages - sent);
      let payload = "";
      for (let k = 0; k < n; k++) payload += resp("PUBLISH", `bench:${(sent + k) % c.channels}`, performance.now().toFixed(3));
      const deliveredBefore = sent * c.perChannel;
      await until(() => tally.delivered >= deliveredBefore || tally.closedEarly > 0, "previous batch");
      await publisher.send(payload, n);
      sent += n;
    }
    await until(() => tally.delivered >= expected || tally.closedEarly > 0, "last deliveries");
    const seconds = (performance.now() - began) / 1000;
    const sorted = tally.latencies.slice(0, Math.min(tally.delivered, expected)).sort();
    const note = [
      tally.closedEarly ? `${tally.closedEarly} subscribers closed by the server` : "",
      publisher.errors.length ? publisher.errors[0] : "",
    ].filter(Boolean).join("; ");
    return { perSec: tally.delivered / seconds, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), bytesPerConn, note };
  } finally {
    if (publisher.connected) publisher.close();
    for (const close of closers) close();
    await server.stop();
  }
}

if (!opts["no-build"] && runtimes.includes("node")) buildNode();
const targets: Target[] = ["redis", ...runtimes];
const rows: string[][] = [];
for (const c of cases) {
  for (const target of targets) {
    const label = target === "redis" ? "redis-server (RESP2 sockets)" : `respite ${target} (WebSocket json)`;
    process.stderr.write(`${c.name}: ${label}...\n`);
    try {
      const r = await runCase(target, c);
      rows.push([c.name, label, Math.round(r.perSec).toLocaleString("en-US"), r.p50.toFixed(2), r.p99.toFixed(2),
        (r.bytesPerConn / 1024).toFixed(1), r.note]);
    } catch (e) {
      rows.push([c.name, label, "-", "-", "-", "-", `failed: ${(e as Error).message.split("\n")[0]}`]);
    }
  }
}
console.log(environment().join("\n"));
console.log(`deliveries per case ~${opts.deliveries}, ~${opts.inflight} deliveries in flight\n`);
console.log(markdownTable(["case", "server", "deliveries/s", "p50 ms", "p99 ms", "RSS KiB/conn", "note"], rows));
