/**
 * What the gateway's forwarding costs in a cluster: three Respite nodes
 * made a cluster by redis-cli, one WebSocket (`json`) client on node A's
 * gateway, GET of a key A serves against GET of a key another node serves
 * (one extra hop: A's link to that node). Sequential requests give the
 * latency per request (p50, p99); requests kept --inflight deep on one
 * socket give the throughput one browser can get (a browser's commands
 * run in order, so each forwarded one waits for the one before), and the
 * same spread over --sockets sockets what many browsers get together
 * (their forwarded commands share A's pipelined link to B).
 *
 *   node --import tsx bench/cluster-gateway.ts [--runtimes node] [--requests 5000] [--inflight 64] [--sockets 16]
 */
import WebSocket from "ws";
import { environment, markdownTable, parseOptions, parseTargets } from "./lib.ts";
import { freePort } from "../test/lib/servers.ts";
import { clusterNodes, createCluster, startClusterNode, stopAll, waitClusterOk } from "../test/lib/cluster.ts";
import { keyHashSlot } from "../core/cluster/slot.ts";

const opts = parseOptions(process.argv.slice(2), { runtimes: "node", requests: "5000", inflight: "64", sockets: "16" });
const REQUESTS = Number(opts.requests);
const INFLIGHT = Number(opts.inflight);
const SOCKETS = Number(opts.sockets);

function keyInSlot(slot: number): string {
  for (let i = 0;; i++) if (keyHashSlot(`{k${i}}`) === slot) return `{k${i}}`;
}

/** A json WebSocket with a promise per request. */
async function open(url: string): Promise<(cmd: string[]) => Promise<unknown>> {
  const ws = new WebSocket(url, "json");
  await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
  const waiting = new Map<number, (v: unknown) => void>();
  let next = 1;
  ws.on("message", (d: Buffer) => {
    const m = JSON.parse(d.toString());
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  return (command) => new Promise((r) => {
    const id = next++;
    waiting.set(id, r);
    ws.send(JSON.stringify({ id, command }));
  });
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

type Run = (cmd: string[]) => Promise<unknown>;

/** GET/s with INFLIGHT requests outstanding, spread over the sockets given. */
async function rate(runs: Run[], key: string): Promise<string> {
  const t0 = performance.now();
  let sent = 0;
  await Promise.all(Array.from({ length: INFLIGHT }, async (_, i) => {
    while (sent < REQUESTS * 4) {
      sent++;
      await runs[i % runs.length](["GET", key]);
    }
  }));
  return Math.round((REQUESTS * 4) / ((performance.now() - t0) / 1000)).toLocaleString("en-US");
}

async function measure(run: Run, many: Run[], key: string): Promise<string[]> {
  for (let i = 0; i < 500; i++) await run(["GET", key]); // warm-up
  const lat: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    await run(["GET", key]);
    lat.push((performance.now() - t) * 1000);
  }
  return [pct(lat, 0.5).toFixed(0), pct(lat, 0.99).toFixed(0), await rate([run], key), await rate(many, key)];
}

const rows: string[][] = [];
for (const rt of parseTargets(opts.runtimes)) {
  const gw = await freePort();
  const nodes = [await startClusterNode(rt, ["--gateway-port", String(gw), "--gateway-default-access", "all"]),
    await startClusterNode(rt), await startClusterNode(rt)];
  try {
    await createCluster(nodes);
    await waitClusterOk(nodes);
    const first = new Map((await clusterNodes(nodes[0])).map((l) => [l.addr.split("@")[0], Number(l.slots[0]?.split("-")[0])]));
    const local = keyInSlot(first.get(nodes[0].addr)!);
    const remote = keyInSlot(first.get(nodes[1].addr)!);
    const run = await open(`ws://127.0.0.1:${gw}/ws`);
    const many = await Promise.all(Array.from({ length: SOCKETS }, () => open(`ws://127.0.0.1:${gw}/ws`)));
    await run(["SET", local, "x".repeat(64)]);
    await run(["SET", remote, "x".repeat(64)]);
    rows.push([rt, "served by A", ...(await measure(run, many, local))]);
    rows.push([rt, "forwarded to B", ...(await measure(run, many, remote))]);
  } finally {
    await stopAll(nodes);
  }
}
console.log(environment().join("\n") + "\n");
console.log(`GET of a 64-byte value through node A's gateway (json WebSocket), ${REQUESTS} sequential, then ${REQUESTS * 4} ${INFLIGHT} in flight\n`);
console.log(markdownTable(["runtime", "key", "p50 us", "p99 us", `GET/s, ${INFLIGHT} in flight on 1 socket`, `on ${SOCKETS} sockets`], rows));
process.exit(0);
