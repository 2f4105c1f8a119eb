/**
 * RESTORE fuzzing: damaged DUMP payloads (bit flips, truncation, splices,
 * length fields; see test/lib/dump-fuzz.ts) fed to an engine in this
 * process, which must answer OK or one of Redis's two errors, never an
 * internal error or an exception, never leave a half-made key, and keep
 * serving. A restored value is read back in full (elements, encoding,
 * digest, DUMP again). Runs under whichever runtime starts it:
 *
 *   npx bun bench/restore-fuzz.ts [--count 100000] [--seed 1] [--sanitize no|yes]
 *   npx deno run -A bench/restore-fuzz.ts [--count 100000]
 *   node --import tsx bench/restore-fuzz.ts [--count 100000]
 *
 * Seeds are the DUMP payloads of a key of every type and encoding (streams
 * with consumer groups among them), made by
 * Respite and, when redis-server is installed, by redis-server too
 * (--redis no skips it).
 */
import { spawnSync } from "node:child_process";
import { createEngine } from "../mod.ts";
import { type FuzzArg, mutate, readBack, RESTORE_ERRORS, SEED_KEYS, seedCommands, STREAM_SEED_KEYS, streamSeedCommands } from "../test/lib/dump-fuzz.ts";

/** Every seed: a key of each type and encoding, and the streams (which only the fuzz uses). */
const SEEDS = [...seedCommands(), ...streamSeedCommands()];
const KEYS = [...SEED_KEYS, ...STREAM_SEED_KEYS];
import { rng } from "../test/lib/diff.ts";
import { ReplyError } from "../core/resp/decoder.ts";

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** redis-server's DUMP of every seed key, through redis-cli (-x reads the payload from stdin); none when absent. */
function redisPayloads(): Uint8Array[] {
  const port = String(7190 + Math.floor(Math.random() * 9));
  const run = (args: string[], input?: Uint8Array) =>
    spawnSync("redis-cli", ["-p", port, ...args], { input, maxBuffer: 1 << 26 });
  const server = spawnSync("redis-server", ["--port", port, "--save", "", "--appendonly", "no", "--daemonize", "yes"]);
  if (server.status !== 0) return [];
  try {
    for (let i = 0; i < 50 && run(["PING"]).stdout?.toString().trim() !== "PONG"; i++) spawnSync("sleep", ["0.1"]);
    for (const c of SEEDS) {
      const args = c.map((a) => (typeof a === "string" ? a : Buffer.from(a).toString("latin1")));
      if (args.some((a) => /[^\x20-\x7e]/.test(a))) continue; // binary arguments do not survive argv
      run(args);
    }
    return KEYS.map((k) => run(["--no-raw", "DUMP", k]).stdout)
      .filter((out) => out && out.length > 3)
      .map((out) => unquote(out.toString("latin1").trim()));
  } finally {
    run(["SHUTDOWN", "NOSAVE"]);
  }
}

/** redis-cli's quoted form ("...\xNN...") back to bytes. */
function unquote(s: string): Uint8Array {
  const body = s.slice(1, -1);
  const out: number[] = [];
  const esc: Record<string, number> = { n: 10, r: 13, t: 9, a: 7, b: 8, '"': 34, "\\": 92 };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== "\\") out.push(ch.charCodeAt(0));
    else if (body[i + 1] === "x") {
      out.push(parseInt(body.slice(i + 2, i + 4), 16));
      i += 3;
    } else out.push(esc[body[++i]] ?? body.charCodeAt(i));
  }
  return Uint8Array.from(out);
}

const count = Number(option("count", "100000"));
const seed = Number(option("seed", "1"));
const sanitize = option("sanitize", "no");
const db = createEngine({ "enable-debug-command": "yes", save: "", "sanitize-dump-payload": sanitize });
for (const c of SEEDS) db.callRaw(...c);
const payloads = KEYS.map((k) => db.callRaw("DUMP", k) as Uint8Array);
if (option("redis", "yes") === "yes") payloads.push(...redisPayloads());
db.callRaw("FLUSHALL");

const rnd = rng(seed);
const outcomes = new Map<string, number>();
const failures: string[] = [];
const started = performance.now();
db.callRaw("SET", "victim", "before");
for (let i = 0; i < count && failures.length < 10; i++) {
  const damaged = mutate(payloads, rnd);
  const replace = i % 2 === 1;
  const key = replace ? "victim" : "fuzz";
  const fail = (why: string) => failures.push(`#${i} ${why} payload=${Buffer.from(damaged).toString("hex")}`);
  let r;
  try {
    r = db.callRaw("RESTORE", key, "0", damaged, ...(replace ? ["REPLACE"] : []));
  } catch (e) {
    fail(`threw ${(e as Error).stack}`);
    continue;
  }
  if (r instanceof ReplyError) {
    const known = RESTORE_ERRORS.includes(r.message);
    outcomes.set(known ? r.message : "other", (outcomes.get(known ? r.message : "other") ?? 0) + 1);
    if (!known) fail(r.message);
    else if (replace ? String(db.call("GET", "victim")) !== "before" : db.call("EXISTS", "fuzz") !== 0) {
      fail("half-made key");
    }
    continue;
  }
  outcomes.set(String(r), (outcomes.get(String(r)) ?? 0) + 1);
  const type = String(db.call("TYPE", key));
  for (const read of readBack(type, key)) {
    const reply = db.callRaw(...(read as FuzzArg[]));
    if (reply instanceof ReplyError) fail(`${read.join(" ")}: ${reply.message}`);
  }
  db.callRaw("DEL", "fuzz");
  db.callRaw("SET", "victim", "before");
}
const alive = db.call("PING") === "PONG";
const secs = (performance.now() - started) / 1000;
const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const summary = { runtime, count, seed, sanitize, seeds: payloads.length, secs: +secs.toFixed(1), alive };
console.log(JSON.stringify({ ...summary, outcomes: Object.fromEntries(outcomes) }));
for (const f of failures) console.log("FAIL", f.slice(0, 2000));
db.close();
if (failures.length || !alive) process.exit(1);
