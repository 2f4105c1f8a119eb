/**
 * The runtimes' own socket cost: how fast could any server written on them
 * answer redis-benchmark? Each runtime runs a server that does nothing but
 * reply +OK to every request (it counts the requests' leading '*' bytes,
 * which redis-benchmark's SET, GET and PING_MBULK payloads contain once),
 * through the same socket API Respite's adapter uses (Bun.listen,
 * Deno.listen, node:net). Measured beside redis-server and Respite in the
 * same run, it bounds the ratio any command path on that runtime can reach.
 *
 *   node --import tsx bench/io-ceiling.ts [--runtimes bun,deno,node] [--tests set]
 *        [--pipelines 1,16] [--requests 2000000] [--clients 50] [--no-build]
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  buildNode,
  canConnect,
  freeBenchPort,
  markdownTable,
  parseOptions,
  parseTargets,
  redisBenchmark,
  ROOT,
  type Runtime,
  sleep,
  startServer,
  type Target,
} from "./lib.ts";

/** Replies for one read: as many +OK as requests began in it. */
const COUNTING = `
const OK = new TextEncoder().encode("+OK\\r\\n".repeat(1024));
function replies(chunk) {
  let n = 0;
  for (let i = 0; i < chunk.length; i++) if (chunk[i] === 42) n++;
  return OK.subarray(0, 5 * n);
}
const port = Number(process.argv[2] ?? Deno.args[0]);
`;

const ECHO_SERVERS: Record<Runtime, string> = {
  bun: `${COUNTING}
Bun.listen({ hostname: "127.0.0.1", port, socket: {
  open(s) { s.setNoDelay(true); },
  data(s, chunk) { s.write(replies(chunk)); },
} });`,
  deno: `${COUNTING}
for await (const conn of Deno.listen({ hostname: "127.0.0.1", port })) {
  conn.setNoDelay(true);
  (async () => {
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return conn.close();
      const out = replies(buf.subarray(0, n));
      for (let at = 0; at < out.length;) at += await conn.write(out.subarray(at));
    }
  })().catch(() => {});
}`,
  node: `${COUNTING}
import("node:net").then((net) => net.createServer((s) => {
  s.setNoDelay(true);
  s.on("data", (chunk) => s.write(replies(chunk)));
  s.on("error", () => {});
}).listen(port, "127.0.0.1"));`,
};

const COMMANDS: Record<Runtime, (file: string, port: number) => string[]> = {
  bun: (file, port) => [path.join(ROOT, "node_modules/.bin/bun"), file, String(port)],
  deno: (file, port) => [path.join(ROOT, "node_modules/.bin/deno"), "run", "-A", file, String(port)],
  node: (file, port) => [process.execPath, file, String(port)],
};

const opts = parseOptions(process.argv.slice(2), {
  runtimes: "bun,deno,node",
  tests: "set",
  pipelines: "1,16",
  requests: "2000000",
  clients: "50",
  "no-build": false,
});
const runtimes = parseTargets(opts.runtimes);
const pipelines = opts.pipelines.split(",").map(Number);
const tests = opts.tests.split(",");

function bench(port: number, p: number, requests = opts.requests): Map<string, number> {
  return redisBenchmark(port, ["-c", opts.clients, "-n", requests, "-P", String(p), "-t", tests.join(",")]);
}

/** rps[target label][pipeline][test] */
const rps = new Map<string, Map<number, Map<string, number>>>();

function measure(label: string, port: number): void {
  bench(port, Math.max(...pipelines), "300000");
  const byDepth = new Map<number, Map<string, number>>();
  for (const p of pipelines) byDepth.set(p, bench(port, p));
  rps.set(label, byDepth);
  process.stderr.write(`${label}: ${[...byDepth].map(([p, m]) => `-P${p} ${[...m].map(([t, r]) => `${t}=${Math.round(r)}`)}`).join(" ")}\n`);
}

async function measureTarget(target: Target): Promise<void> {
  const server = await startServer(target);
  try {
    measure(target === "redis" ? "redis" : `respite ${target}`, server.port);
  } finally {
    await server.stop();
  }
}

async function measureEcho(rt: Runtime, dir: string): Promise<void> {
  const file = path.join(dir, `echo-${rt}.${rt === "node" ? "mjs" : "js"}`);
  fs.writeFileSync(file, ECHO_SERVERS[rt]);
  const port = await freeBenchPort();
  const [cmd, ...args] = COMMANDS[rt](file, port);
  const child = spawn(cmd, args, { stdio: "ignore" });
  try {
    // Not a redis-benchmark probe: started before the server listens, it can spin at full CPU for good.
    for (let i = 0; i < 200 && !(await canConnect(port)); i++) await sleep(50);
    measure(`+OK-only ${rt}`, port);
  } finally {
    child.kill("SIGKILL");
  }
}

if (runtimes.includes("node") && !opts["no-build"]) buildNode();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "respite-io-ceiling-"));
await measureTarget("redis");
for (const rt of runtimes) {
  await measureEcho(rt, dir);
  await measureTarget(rt);
}
fs.rmSync(dir, { recursive: true, force: true });

const base = rps.get("redis")!;
const rows: string[][] = [];
for (const [label, byDepth] of rps) {
  for (const p of pipelines) {
    for (const t of tests) {
      const r = byDepth.get(p)?.get(t) ?? 0;
      const b = base.get(p)?.get(t) ?? 0;
      rows.push([label, t.toUpperCase(), String(p), Math.round(r).toLocaleString("en-US"), b ? (r / b).toFixed(2) + "x" : "-"]);
    }
  }
}
console.log(`redis-benchmark -c ${opts.clients} -n ${opts.requests} -P <depth> -t ${opts.tests} (after 300,000 untimed)\n`);
console.log(markdownTable(["server", "test", "-P", "rps", "/redis"], rows));
