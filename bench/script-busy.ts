/**
 * How promptly other clients hear BUSY while a script loops: a client
 * starts `while true do end` with busy-reply-threshold at --threshold ms;
 * another sends PING one at a time and records when the first BUSY came
 * (from the script's start), then the round trip of --pings more PINGs; a
 * new connection's first PING is timed --connects times; then SCRIPT KILL.
 * Against redis-server and Respite under each runtime, one at a time
 * (the integration tests cannot assert times; this measures them).
 *
 *   node --import tsx bench/script-busy.ts [--runtimes bun,deno,node] [--threshold 100] [--pings 200] [--connects 20] [--no-build]
 */
import { buildNode, Client, markdownTable, parseOptions, parseTargets, startServer, type Target } from "./lib.ts";

const opts = parseOptions(process.argv.slice(2), {
  runtimes: "bun,deno,node",
  threshold: "100",
  pings: "200",
  connects: "20",
  "no-build": false,
});
const targets: Target[] = ["redis", ...parseTargets(opts.runtimes)];
if (!opts["no-build"] && targets.includes("node")) buildNode();

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];
const ms = (x: number) => x.toFixed(1);

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

const rows: string[][] = [];
for (const target of targets) {
  const server = await startServer(target, { extra: ["--busy-reply-threshold", opts.threshold] });
  const runner = new Client();
  const other = new Client();
  await runner.connect(server.port);
  await other.connect(server.port);
  await runner.call("EVAL", "return 1", "0"); // Respite loads its Lua VM on first use
  const started = performance.now();
  const script = runner.call("EVAL", "while true do end", "0");
  while (!(await other.call("PING")).startsWith("-BUSY"));
  const firstBusy = performance.now() - started;
  const pings: number[] = [];
  for (let i = 0; i < Number(opts.pings); i++) pings.push(await timed(() => other.call("PING")));
  const connects: number[] = [];
  for (let i = 0; i < Number(opts.connects); i++) {
    const fresh = new Client();
    connects.push(await timed(async () => {
      await fresh.connect(server.port);
      await fresh.call("PING");
    }));
    fresh.close();
  }
  await other.call("SCRIPT", "KILL");
  await script;
  rows.push([target, ms(firstBusy), ms(quantile(pings, 0.5)), ms(quantile(pings, 0.99)), ms(Math.max(...pings)), ms(quantile(connects, 0.5)),
    ms(Math.max(...connects))]);
  runner.close();
  other.close();
  await server.stop();
}
console.log(`busy-reply-threshold ${opts.threshold} ms; times in ms\n`);
console.log(markdownTable(["server", "first BUSY after", "PING p50", "PING p99", "PING max", "new conn p50", "new conn max"], rows));
