/**
 * Scripting: a sliding-window rate limiter loaded with SCRIPT LOAD, then
 * `redis-benchmark -c 50 -n N -P <depth> -r <keys> -q --csv EVALSHA <sha> 1
 * rl:__rand_int__ <window ms> <limit>` against redis-server and Respite
 * under each runtime in one run, servers started one at a time. Reports
 * requests/s and the ratio Respite/redis per depth.
 *
 *   node --import tsx bench/evalsha.ts [--runtimes bun,deno,node] [--requests 100000]
 *        [--pipelines 1,16] [--clients 50] [--keys 10000] [--no-build]
 */
import { spawnSync } from "node:child_process";
import { buildNode, markdownTable, parseOptions, parseTargets, startServer, type Target } from "./lib.ts";

const opts = parseOptions(process.argv.slice(2), {
  runtimes: "bun,deno,node",
  requests: "100000",
  pipelines: "1,16",
  clients: "50",
  keys: "10000",
  "no-build": false,
});
const runtimes = parseTargets(opts.runtimes);
const pipelines = opts.pipelines.split(",").map(Number);
const WINDOW_MS = "1000";
const LIMIT = "100";

/** Allows at most ARGV[2] calls per ARGV[1] ms per key; returns {allowed 0/1, calls in window}. */
const RATE_LIMITER = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, t[1] .. '.' .. t[2] .. '.' .. count)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, count + 1}
end
return {0, count}
`;

function cli(port: number, ...args: string[]): string {
  const r = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`redis-cli ${args[0]} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Loads the script and checks that two calls on one key count 1 then 2. */
function loadScript(port: number): string {
  const sha = cli(port, "SCRIPT", "LOAD", RATE_LIMITER);
  if (!/^[0-9a-f]{40}$/.test(sha)) throw new Error(`SCRIPT LOAD: ${sha}`);
  const calls = [1, 2].map(() => cli(port, "EVALSHA", sha, "1", "rl:check", WINDOW_MS, LIMIT).replace(/\s+/g, " "));
  if (calls[0] !== "1 1" || calls[1] !== "1 2") throw new Error(`EVALSHA replied ${JSON.stringify(calls)}`);
  return sha;
}

function runBenchmark(port: number, sha: string, pipeline: number): number {
  const args = ["-h", "127.0.0.1", "-p", String(port), "-c", opts.clients, "-n", opts.requests, "-P", String(pipeline),
    "-r", opts.keys, "-q", "--csv", "EVALSHA", sha, "1", "rl:__rand_int__", WINDOW_MS, LIMIT];
  const r = spawnSync("redis-benchmark", args, { encoding: "utf8", timeout: 600_000 });
  if (r.status !== 0) throw new Error(`redis-benchmark failed: ${r.stderr}`);
  const row = r.stdout.split("\n")[1]?.split(",");
  const rps = Number(row?.[1]?.replace(/"/g, ""));
  if (!(rps > 0)) throw new Error(`no rate in redis-benchmark output: ${r.stdout}`);
  return rps;
}

/** results[target][pipeline] = requests/s, or the error that prevented the run. */
const results = new Map<Target, Map<number, number | string>>();

async function measure(target: Target): Promise<void> {
  const server = await startServer(target);
  const byDepth = new Map<number, number | string>();
  results.set(target, byDepth);
  try {
    const sha = loadScript(server.port);
    for (const p of pipelines) {
      byDepth.set(p, runBenchmark(server.port, sha, p));
      process.stderr.write(`${target} -P ${p}: ${Math.round(byDepth.get(p) as number)}\n`);
    }
  } catch (e) {
    for (const p of pipelines) if (!byDepth.has(p)) byDepth.set(p, (e as Error).message.split("\n")[0]);
    process.stderr.write(`${target}: ${(e as Error).message}\n`);
  } finally {
    await server.stop();
  }
}

function report(): string {
  const header = ["-P", "redis rps"];
  for (const rt of runtimes) header.push(`${rt} rps`, `${rt}/redis`);
  const rows = pipelines.map((p) => {
    const base = results.get("redis")?.get(p);
    const row = [String(p), typeof base === "number" ? String(Math.round(base)) : String(base)];
    for (const rt of runtimes) {
      const v = results.get(rt)?.get(p);
      if (typeof v !== "number") row.push(String(v).slice(0, 40), "-");
      else row.push(String(Math.round(v)), typeof base === "number" ? (v / base).toFixed(2) + "x" : "-");
    }
    return row;
  });
  return markdownTable(header, rows);
}

if (runtimes.includes("node") && !opts["no-build"]) buildNode();
for (const target of ["redis", ...runtimes] as Target[]) await measure(target);
console.log(`redis-benchmark -c ${opts.clients} -n ${opts.requests} -r ${opts.keys} -P <depth> -q --csv ` +
  `EVALSHA <sha> 1 rl:__rand_int__ ${WINDOW_MS} ${LIMIT}\n`);
console.log(report());
