/**
 * Protocol fuzzing, as a bench: for each target, a server is started and
 * fuzzing connections send `--inputs` random and mutated RESP2/RESP3 and
 * inline requests (huge and negative lengths, partial frames, random
 * closes; test/lib/fuzz-inputs.ts) while a RESP2 and a RESP3 good client
 * run a known workload and check every reply (test/lib/protocol-fuzz.ts).
 * With --gateway the gateway is fuzzed instead (random HTTP, invalid JSON
 * and UTF-8, fragmented and oversized WebSocket frames;
 * test/lib/gateway-fuzz.ts) while a WebSocket and HTTP client checks its
 * replies. A crash, a hang or one wrong reply fails the run. Afterwards
 * every fuzzing connection must be gone and, with the fuzzers' keys
 * deleted, RSS back near where it was after a warm-up run:
 *
 *   node --import tsx bench/fuzz-protocol.ts [--targets redis,bun,deno,node,compiled] [--inputs 1000000] [--seed 1]
 *     [--concurrency 8] [--gateway] [--build]
 *
 * `compiled` runs dist/respite (`npm run compile`); --build rebuilds dist/respite.mjs and dist/respite first.
 */
import { spawnSync } from "node:child_process";
import { buildNode, freeBenchPort, markdownTable, parseOptions, ROOT, sleep, startServer, type Target } from "./lib.ts";
import { aftermath, fuzzProtocol, memoryNow } from "../test/lib/protocol-fuzz.ts";
import { fuzzGateway } from "../test/lib/gateway-fuzz.ts";

const opts = parseOptions(process.argv.slice(2), {
  targets: "bun,deno,node,compiled",
  inputs: "1000000",
  seed: "1",
  concurrency: "8",
  gateway: false,
  build: false,
});
const targets = opts.targets.split(",").filter(Boolean) as Target[];
if (opts.build) {
  buildNode();
  const r = spawnSync("npm", ["run", "compile"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error("npm run compile failed");
}

const MB = 1024 * 1024;
/** RSS counts as back when within this much of the warmed-up figure. */
const allowance = (rss: number) => Math.max(48 * MB, rss * 0.5);
const TOKENS = { goodToken: "good-token", fuzzToken: "fuzz-token" };
const MAX_FRAME = 1024 * 1024;

/** One fuzzing run of either kind, reduced to what the table shows. */
interface Run {
  inputs: number;
  sessions: number;
  goodCommands: number;
  goodMaxMs: number;
  seconds: number;
}

async function fuzz(port: number, gatewayPort: number, inputs: number, seed: number, label: string): Promise<Run> {
  const concurrency = Number(opts.concurrency);
  if (opts.gateway) {
    const r = await fuzzGateway({
      port: gatewayPort, inputs, seed, concurrency, maxFrame: MAX_FRAME, ...TOKENS,
      progress: (p) => p.inputs % 100_000 < 10_000 && console.error(`${label}: ${p.inputs} inputs, ${p.goodCommands} good commands, ${p.seconds} s`),
    });
    return { inputs: r.inputs, sessions: r.httpRequests + r.wsSessions, goodCommands: r.goodCommands, goodMaxMs: r.goodMaxMs, seconds: r.seconds };
  }
  const r = await fuzzProtocol({
    port, inputs, seed, concurrency,
    progress: (p) => console.error(`${label}: ${p.inputs} inputs, ${p.sessions} sessions, ${p.goodCommands} good commands, ${p.seconds} s`),
  });
  return { inputs: r.inputs, sessions: r.sessions, goodCommands: r.goodCommands, goodMaxMs: r.goodMaxBatchMs, seconds: r.seconds };
}

/** Waits until the gateway answers HTTP. */
async function gatewayUp(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await fetch(`http://127.0.0.1:${port}/PING`).then(() => true, () => false)) return;
    await sleep(50);
  }
  throw new Error(`gateway not answering on ${port}`);
}

const rows: string[][] = [];
let failed = false;

for (const target of targets) {
  const port = await freeBenchPort();
  // The bench range's lowest free port is the RESP one; ten above it is as good as free for the gateway.
  const gatewayPort = opts.gateway ? port + 10 : 0;
  const gatewayFlags = ["--gateway-port", String(gatewayPort), "--gateway-tokens", `${TOKENS.goodToken} all ${TOKENS.fuzzToken} all`,
    "--gateway-max-frame", String(MAX_FRAME)];
  const server = await startServer(target, opts.gateway ? { port, respiteExtra: gatewayFlags } : { port });
  const seed = Number(opts.seed);
  try {
    if (opts.gateway) await gatewayUp(gatewayPort);
    // A warm-up run first, so the baseline includes JIT-compiled code and the good clients' keys.
    await fuzz(server.port, gatewayPort, 20_000, seed + 1000, `${target} warm-up`);
    const warm = await aftermath(server.port, Infinity, 30_000);
    const base = await memoryNow(server.port);
    let peak = base.rssBytes;
    const watch = setInterval(() => memoryNow(server.port).then((m) => (peak = Math.max(peak, m.rssBytes)), () => {}), 1000);
    let run: Run;
    try {
      run = await fuzz(server.port, gatewayPort, Number(opts.inputs), seed, target);
    } finally {
      clearInterval(watch);
    }
    const limit = base.rssBytes + allowance(base.rssBytes);
    const after = await aftermath(server.port, limit, 60_000);
    const ok = after.rssBytes <= limit && after.lingering === 0 && warm.lingering === 0;
    failed ||= !ok;
    for (const line of [...warm.lingeringClients, ...after.lingeringClients]) console.error(`${target}: left connected: ${line}`);
    rows.push([
      target, String(run.inputs), String(run.sessions), String(run.goodCommands), String(run.goodMaxMs), String(run.seconds),
      String(Math.round(run.inputs / run.seconds)), (base.rssBytes / MB).toFixed(1), (peak / MB).toFixed(1), (after.rssBytes / MB).toFixed(1),
      String(after.lingering), ok ? "ok" : "FAIL",
    ]);
  } catch (e) {
    failed = true;
    rows.push([target, `FAILED: ${(e as Error).message}`, ...Array(9).fill(""), "FAIL"]);
  } finally {
    await server.stop();
  }
  console.error(rows[rows.length - 1].join(" | "));
}

console.log(markdownTable(
  ["target", "inputs", "sessions", "good cmds (all correct)", "slowest good ms", "s", "inputs/s", "RSS before MB", "RSS peak MB",
    "RSS after MB", "conns left", "result"],
  rows,
));
if (failed) process.exitCode = 1;
