/**
 * Persistence: RDB snapshots, RDB loading and AOF writes of Respite under
 * each runtime against a real redis-server in the same run, servers started
 * one at a time, with the ratio Respite/redis and issue 11's targets
 * printed beside the figures.
 *
 *   node --import tsx bench/persistence.ts [--runtimes bun] [--only save,load,aof]
 *        [--keys 1000000] [--datasets strings,hashes] [--idle-ms 2000] [--write-rate 50000] [--reader python]
 *        [--requests 100000] [--warmup 100000] [--no-build]
 *
 * Datasets: `strings`, --keys small string keys (SET key:NNNNNNN val:NNNNNN),
 * and `hashes`, --keys/10 hashes of 10 small fields; each filled with
 * pipelined writes. Sections (--only picks some):
 *
 * - save: per dataset and server, SAVE's round trip and the file's size;
 *   then, after an untimed BGSAVE under the reading client (a JIT's
 *   warm-up, as in the other benches), BGSAVE twice while a client sends
 *   one GET (HGET for hashes) at a time on random keys (--reader python:
 *   a python3 process of its own, by default; node: a worker thread of this
 *   process, whose own pauses show as a heavier tail, see
 *   bench/RESULTS.md): once alone, once with a second
 *   client SETting (HSETting) random existing keys at --write-rate per second
 *   in pipelined batches every 1 ms. Reported: BGSAVE wall time (BGSAVE sent
 *   until INFO persistence says rdb_bgsave_in_progress:0, polled every
 *   10 ms; redis-server notices its child's exit in serverCron, so up to
 *   100 ms of that is redis's hz 10), RSS before (/proc VmRSS right before
 *   BGSAVE) and its peak during the save: for redis-server sampled every
 *   5 ms as the server's RSS plus its forked child's, and the same peak
 *   counting only the pages the child does not share with the parent
 *   (smaps_rollup Private_*: what the fork really costs in memory); for
 *   Respite, which does not fork, the kernel's VmHWM reset at BGSAVE; and the
 *   read's p99 round trip during the save against its p99 over the --idle-ms
 *   before it (with the writer running in the writer variant).
 * - load: a dump.rdb made by redis-server (filled, SAVE) for each dataset;
 *   each server is started with --dir pointing at a copy, timed from spawn
 *   until PING answers +PONG instead of -LOADING; beside it the same start
 *   with an empty directory, and DBSIZE afterwards.
 * - aof: redis-benchmark -t set -c 50 -n --requests at -P 1 and -P 16 with
 *   `appendonly yes` and `appendfsync everysec`, then `always`, each server
 *   started with the setting and given an untimed run of --warmup requests
 *   at -P 16 first; the AOF bytes each wrote are shown, so a server that
 *   accepts the setting but writes nothing is seen.
 *
 * Ratios are Respite/redis-server; on Respite's rows a ratio with a target
 * in its column header is followed by "ok" or "MISS". A server whose part
 * of a section fails (an error reply, no file, a timeout, a crash) gets the
 * error in its row (the whole message on stderr) and the run goes on.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import {
  type BenchServer,
  buildNode,
  childPids,
  Client,
  environment,
  Loader,
  markdownTable,
  parseOptions,
  parseTargets,
  peakRssBytes,
  privateBytes,
  redisBenchmark,
  resp,
  rssBytes,
  sleep,
  startServer,
  type Target,
} from "./lib.ts";

// ---------------------------------------------------------------- datasets

interface Dataset {
  name: string;
  keys: number;
  /** The command that creates key i. */
  fill(i: number): string;
  /** A read of key i, as the latency client sends it. */
  read(i: number): string[];
  /** A write to existing key i that keeps its size, as the writer sends it. */
  update(i: number): string[];
}

const pad = (i: number, width: number) => String(i).padStart(width, "0");
const TEN = [...Array(10).keys()];

function datasets(keys: number): Dataset[] {
  return [
    {
      name: "strings",
      keys,
      fill: (i) => resp("SET", `key:${pad(i, 7)}`, `val:${pad(i % 1_000_000, 6)}`),
      read: (i) => ["GET", `key:${pad(i, 7)}`],
      update: (i) => ["SET", `key:${pad(i, 7)}`, `new:${pad(i % 1_000_000, 6)}`],
    },
    {
      name: "hashes",
      keys: Math.max(1, Math.floor(keys / 10)),
      fill: (i) => resp("HSET", `hash:${pad(i, 7)}`, ...TEN.flatMap((f) => [`field${f}`, `v${pad(i, 7)}`])),
      read: (i) => ["HGET", `hash:${pad(i, 7)}`, `field${i % 10}`],
      update: (i) => ["HSET", `hash:${pad(i, 7)}`, `field${i % 10}`, `w${pad(i, 7)}`],
    },
  ];
}

async function fill(port: number, ds: Dataset): Promise<void> {
  const loader = new Loader();
  await loader.connect(port);
  for (let i = 0; i < ds.keys; i += 1000) {
    const end = Math.min(i + 1000, ds.keys);
    let payload = "";
    for (let k = i; k < end; k++) payload += ds.fill(k);
    await loader.send(payload, end - i);
    if (loader.errors.length) break;
  }
  loader.close();
  if (loader.errors.length) throw new Error(`filling ${ds.name}: ${loader.errors[0]}`);
}

// ------------------------------------------- clients in worker threads

/** What a client thread is asked to do; `stop` is set to 1 by the main thread to end it. */
interface ClientJob {
  kind: "read" | "write";
  port: number;
  dataset: string;
  keys: number;
  /** Writes per second (write clients). */
  rate: number;
  stop: SharedArrayBuffer;
}

interface ReadResult {
  /** Send time of each read (performance.timeOrigin + now(), ms, comparable across threads) and its round trip. */
  times: Float64Array;
  latencies: Float64Array;
  error?: string;
}

interface WriteResult {
  /** When each batch of `batch` writes was sent (as ReadResult.times). */
  times: Float64Array;
  batch: number;
  error?: string;
}

const now = () => performance.timeOrigin + performance.now();
const WRITE_TICK_MS = 1;

async function clientThread(job: ClientJob): Promise<void> {
  const ds = datasets(job.keys).find((d) => d.name === job.dataset)!;
  const stopped = () => Atomics.load(new Int32Array(job.stop), 0) !== 0;
  const randomKey = () => Math.floor(Math.random() * ds.keys);
  if (job.kind === "read") {
    const client = new Client();
    await client.connect(job.port);
    parentPort!.postMessage("ready");
    const times: number[] = [];
    const latencies: number[] = [];
    let error: string | undefined;
    while (!stopped()) {
      const t0 = now();
      const reply = await client.call(...ds.read(randomKey()));
      latencies.push(now() - t0);
      times.push(t0);
      if (reply[0] === "-" && !error) error = reply;
    }
    client.close();
    const result: ReadResult = { times: Float64Array.from(times), latencies: Float64Array.from(latencies), error };
    parentPort!.postMessage(result);
  } else {
    const loader = new Loader();
    await loader.connect(job.port);
    parentPort!.postMessage("ready");
    const batch = Math.max(1, Math.round((job.rate * WRITE_TICK_MS) / 1000));
    const times: number[] = [];
    let next = performance.now();
    while (!stopped()) {
      let payload = "";
      for (let k = 0; k < batch; k++) payload += resp(...ds.update(randomKey()));
      times.push(now());
      await loader.send(payload, batch);
      next += WRITE_TICK_MS;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      else if (wait < -WRITE_TICK_MS) next = performance.now(); // behind: no catching up in bursts
    }
    loader.close();
    const result: WriteResult = { times: Float64Array.from(times), batch, error: loader.errors[0] };
    parentPort!.postMessage(result);
  }
}

/** The python3 reader: one GET (HGET) at a time on random keys until SIGUSR1, then its ReadResult as JSON on stdout. */
const PYTHON_READER = `
import json, random, signal, socket, sys, time
port, dataset, keys = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
stop = False
def halt(*_):
    global stop
    stop = True
signal.signal(signal.SIGUSR1, halt)
sock = socket.create_connection(("127.0.0.1", port))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
replies = sock.makefile("rb")
def command(i):
    args = [b"GET", b"key:%07d" % i] if dataset == "strings" else [b"HGET", b"hash:%07d" % i, b"field%d" % (i % 10)]
    return b"*%d\\r\\n" % len(args) + b"".join(b"$%d\\r\\n%s\\r\\n" % (len(a), a) for a in args)
times, latencies, error = [], [], None
print("ready", flush=True)
while not stop:
    request = command(random.randrange(keys))
    t0 = time.time()
    p0 = time.perf_counter()
    sock.sendall(request)
    line = replies.readline()
    if line[:1] == b"$" and int(line[1:]) >= 0:
        replies.read(int(line[1:]) + 2)
    elif line[:1] == b"-" and error is None:
        error = line.decode("latin1").strip()
    latencies.append((time.perf_counter() - p0) * 1000)
    times.append(t0 * 1000)
json.dump({"times": times, "latencies": latencies, "error": error}, sys.stdout)
`;

/** startClient() for a read job in a python3 process (see PYTHON_READER). */
async function startPythonReader(job: Omit<ClientJob, "stop" | "kind">): Promise<() => Promise<ReadResult>> {
  const child = spawn("python3", ["-c", PYTHON_READER, String(job.port), job.dataset, String(job.keys)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const ready = deferred<void>();
  const exited = deferred<void>();
  child.stdout.setEncoding("latin1");
  child.stdout.on("data", (d: string) => {
    out += d;
    if (out.startsWith("ready\n")) ready.resolve();
  });
  child.on("error", (e) => ready.reject(e));
  child.on("exit", (code) => {
    ready.reject(new Error(`python3 reader exited with ${code}`));
    exited.resolve();
  });
  await ready.promise;
  return async () => {
    child.kill("SIGUSR1");
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await exited.promise;
    clearTimeout(timer);
    const r = JSON.parse(out.slice("ready\n".length)) as { times: number[]; latencies: number[]; error: string | null };
    return { times: Float64Array.from(r.times), latencies: Float64Array.from(r.latencies), error: r.error ?? undefined };
  };
}

/**
 * This file, run in a worker thread: a worker does not inherit the main
 * thread's `--import tsx`, so it registers tsx first, then imports this file.
 */
const WORKER_URL = new URL("data:text/javascript," + encodeURIComponent(
  `import { register } from ${JSON.stringify(import.meta.resolve("tsx/esm/api"))}; register();
   await import(${JSON.stringify(import.meta.url)});`,
));

/** Promise.withResolvers(), which Node 20 lacks. */
function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: Error): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Starts a client thread; resolves once it is connected, with a function that stops it and returns its result. */
async function startClient<R>(job: Omit<ClientJob, "stop">): Promise<() => Promise<R>> {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(WORKER_URL, { workerData: { ...job, stop } });
  const ready = deferred<void>();
  const result = deferred<R>();
  result.promise.catch(() => {}); // a failure before stop() is reported by stop()
  const fail = (e: Error) => {
    ready.reject(e);
    result.reject(e);
  };
  worker.on("message", (m) => (m === "ready" ? ready.resolve() : result.resolve(m as R)));
  worker.on("error", fail);
  worker.on("exit", (code) => fail(new Error(`${job.kind} client exited with ${code}`)));
  await ready.promise;
  return async () => {
    Atomics.store(new Int32Array(stop), 0, 1);
    const timer = setTimeout(() => worker.terminate(), 30_000);
    try {
      return await result.promise;
    } finally {
      clearTimeout(timer);
      await worker.terminate();
    }
  };
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), {
    runtimes: "bun",
    only: "save,load,aof",
    keys: "1000000",
    datasets: "strings,hashes",
    "idle-ms": "2000",
    "write-rate": "50000",
    reader: "python",
    requests: "100000",
    warmup: "100000",
    "no-build": false,
  });
  const runtimes = parseTargets(opts.runtimes);
  const targets: Target[] = ["redis", ...runtimes];
  const chosen = opts.datasets.split(",");
  const sets = datasets(Number(opts.keys)).filter((d) => chosen.includes(d.name));
  const idleMs = Number(opts["idle-ms"]);
  const writeRate = Number(opts["write-rate"]);

  if (runtimes.includes("node") && !opts["no-build"]) buildNode();
  console.log([`# bench/persistence.ts ${process.argv.slice(2).join(" ")}`, new Date().toISOString(), ...environment()]
    .join("\n") + "\n");

  const sections: Record<string, () => Promise<void>> = {
    save: () => saveSection(sets, targets, idleMs, writeRate, opts.reader),
    load: () => loadSection(sets, targets),
    aof: () => aofSection(targets, opts.requests, opts.warmup),
  };
  for (const name of opts.only.split(",")) {
    if (!sections[name]) throw new Error(`unknown section ${name}; known: ${Object.keys(sections).join(", ")}`);
    await sections[name]();
  }
}

// ------------------------------------------------------------- helpers

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 0) : "-");
const x2 = (r: number) => (Number.isFinite(r) ? r.toFixed(2) + "x" : "-");

/** A failure's first line for a table cell; the whole message goes to stderr. */
function errorText(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`  failed: ${message}\n`);
  return message.split("\n")[0].slice(0, 60);
}

/** A ratio with issue 11's target beside it, for Respite's rows ("1.12x ok", "2.40x MISS"). */
function versus(ratio: number, goal: number, atMost: boolean, server: Target): string {
  if (server === "redis" || !Number.isFinite(ratio)) return x2(ratio);
  return `${x2(ratio)} ${(atMost ? ratio <= goal : ratio >= goal) ? "ok" : "MISS"}`;
}

function percentile(sorted: Float64Array | number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
}

/** A field of an INFO reply, or undefined. */
function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*?)\\r?$`, "m").exec(info)?.[1];
}

/** Runs `body` on a fresh server, stopping it whatever happens. */
async function withServer<T>(target: Target, extra: string[], body: (s: BenchServer) => Promise<T>): Promise<T> {
  const server = await startServer(target, { extra });
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

async function withClient<T>(port: number, body: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client();
  await client.connect(port);
  try {
    return await body(client);
  } finally {
    client.close();
  }
}

function check(reply: string, what: string): string {
  if (reply[0] === "-") throw new Error(`${what}: ${reply}`);
  return reply;
}

/**
 * Peak memory of a server while running. A server that forks (redis-server)
 * is sampled every 5 ms with its children; one that does not (Respite) has
 * its high-water mark reset at the start (/proc/<pid>/clear_refs) and read
 * at the end: the exact peak, and no process of ours waking every 5 ms on
 * the two cores where the server and the reading client run (those
 * wake-ups gave Respite's p99 during/idle 4.5-5.1x against 2.1-3.2x when
 * sampling once a second, in back-to-back runs).
 */
class MemorySampler {
  readonly before: number;
  peak: number;
  /** Peak of the server's RSS plus only its children's private pages. */
  peakPhysical: number;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private pid: number, forks: boolean) {
    this.before = this.peak = this.peakPhysical = rssBytes(pid);
    if (forks) this.timer = setInterval(() => this.sample(), 5);
    else fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
  }

  private sample(): void {
    let own: number;
    try {
      own = rssBytes(this.pid);
    } catch {
      return; // the server is gone; the caller sees its connection close
    }
    let rss = own;
    let physical = own;
    for (const child of childPids(this.pid)) {
      try {
        rss += rssBytes(child);
        physical += privateBytes(child);
      } catch {
        // the child exited between listing and reading
      }
    }
    this.peak = Math.max(this.peak, rss);
    this.peakPhysical = Math.max(this.peakPhysical, physical);
  }

  stop(): void {
    if (this.timer === null) {
      this.peak = this.peakPhysical = Math.max(this.before, peakRssBytes(this.pid));
      return;
    }
    this.sample();
    clearInterval(this.timer);
  }
}

// ---------------------------------------------------------- save section

interface Bgsave {
  ms: number;
  fileBytes: number;
  before: number;
  peak: number;
  peakPhysical: number;
  idleP99: number;
  duringP99: number;
  duringMax: number;
  reads: number;
  /** Writes per second the writer sent during the idle window and during the save, or NaN without one. */
  idleWriteRate: number;
  writeRate: number;
}

interface SaveRow {
  saveMs?: number;
  saveBytes?: number;
  saveError?: string;
  bgsave: Array<Bgsave | string>;
}

/** Removes the server's dump.rdb; returns its size first, or throws when there is none. */
function takeDump(server: BenchServer, what: string): number {
  const file = path.join(server.dir, "dump.rdb");
  if (!fs.existsSync(file)) throw new Error(`${what} wrote no ${file}`);
  const size = fs.statSync(file).size;
  fs.rmSync(file);
  return size;
}

/** Sends BGSAVE and polls INFO persistence every 10 ms until it is over; returns when (now()) it was seen over. */
async function runBgsave(ctl: Client): Promise<number> {
  const t0 = now();
  check(await ctl.call("BGSAVE"), "BGSAVE");
  for (;;) {
    const info = check(await ctl.call("INFO", "persistence"), "INFO persistence");
    const inProgress = infoField(info, "rdb_bgsave_in_progress");
    if (inProgress === undefined) throw new Error("INFO persistence has no rdb_bgsave_in_progress");
    if (inProgress === "0") {
      const done = now();
      const status = infoField(info, "rdb_last_bgsave_status");
      if (status !== "ok") throw new Error(`rdb_last_bgsave_status:${status}`);
      return done;
    }
    if (now() - t0 > 300_000) throw new Error("BGSAVE still in progress after 300 s");
    await sleep(10);
  }
}

async function bgsave(server: BenchServer, ds: Dataset, idleMs: number, writeRate: number, reader: string): Promise<Bgsave> {
  const job = { port: server.port, dataset: ds.name, keys: ds.keys, rate: writeRate };
  const stopReader = reader === "python" ? await startPythonReader(job) : await startClient<ReadResult>({ ...job, kind: "read" });
  const stopWriter = writeRate > 0 ? await startClient<WriteResult>({ ...job, kind: "write" }) : null;
  let reads: ReadResult | undefined;
  let writes: WriteResult | undefined;
  try {
    await sleep(500 + idleMs);
    return await withClient(server.port, async (ctl) => {
      const sampler = new MemorySampler(server.pid, server.target === "redis");
      const t0 = now();
      let done: number;
      try {
        done = await runBgsave(ctl);
      } finally {
        sampler.stop();
      }
      reads = await stopReader();
      writes = await stopWriter?.();
      if (reads.error) throw new Error(`reads: ${reads.error}`);
      if (writes?.error) throw new Error(`writes: ${writes.error}`);
      const isIdle = (t: number) => t >= t0 - idleMs && t < t0;
      const isDuring = (t: number) => t >= t0 && t <= done;
      const idle: number[] = [];
      const during: number[] = [];
      reads.times.forEach((t, i) => {
        if (isIdle(t)) idle.push(reads!.latencies[i]);
        else if (isDuring(t)) during.push(reads!.latencies[i]);
      });
      idle.sort((a, b) => a - b);
      during.sort((a, b) => a - b);
      const writeRate = (inWindow: (t: number) => boolean, windowMs: number) =>
        writes ? (writes.times.filter(inWindow).length * writes.batch * 1000) / windowMs : NaN;
      return {
        ms: done - t0,
        fileBytes: takeDump(server, "BGSAVE"),
        before: sampler.before,
        peak: sampler.peak,
        peakPhysical: sampler.peakPhysical,
        idleP99: percentile(idle, 0.99),
        duringP99: percentile(during, 0.99),
        duringMax: during[during.length - 1] ?? NaN,
        reads: during.length,
        idleWriteRate: writeRate(isIdle, idleMs),
        writeRate: writeRate(isDuring, done - t0),
      };
    });
  } finally {
    if (!reads) await stopReader().catch(() => {});
    if (stopWriter && !writes) await stopWriter().catch(() => {});
  }
}

async function saveSection(sets: Dataset[], targets: Target[], idleMs: number, writeRate: number, reader: string): Promise<void> {
  const rows = new Map<string, SaveRow>();
  for (const ds of sets) {
    for (const target of targets) {
      const row: SaveRow = { bgsave: [] };
      rows.set(`${ds.name}/${target}`, row);
      try {
        await withServer(target, [], async (server) => {
          process.stderr.write(`save: ${target} ${ds.name}: filling ${ds.keys} keys\n`);
          await fill(server.port, ds);
          await sleep(1000);
          try {
            await withClient(server.port, async (ctl) => {
              const t0 = now();
              check(await ctl.call("SAVE"), "SAVE");
              row.saveMs = now() - t0;
            });
            row.saveBytes = takeDump(server, "SAVE");
          } catch (e) {
            row.saveError = errorText(e);
          }
          // An untimed BGSAVE first, under the same reading client, as the other benches warm up: a runtime's JIT
          // compiles the walk's slices, and the reads' paths while a snapshot runs, in the first one, whose
          // stalls would otherwise fall in the first timed save.
          try {
            await bgsave(server, ds, 0, 0, reader);
          } catch (e) {
            row.saveError ??= errorText(e);
          }
          for (const rate of [0, writeRate]) {
            process.stderr.write(`save: ${target} ${ds.name}: BGSAVE${rate ? ` with ${rate} writes/s` : ""}\n`);
            try {
              row.bgsave.push(await bgsave(server, ds, idleMs, rate, reader));
            } catch (e) {
              row.bgsave.push(errorText(e));
            }
            await sleep(1000);
          }
        });
      } catch (e) {
        row.saveError = errorText(e);
      }
    }
  }

  const table1: string[][] = [];
  const table2: string[][] = [];
  for (const ds of sets) {
    const redis = rows.get(`${ds.name}/redis`)!;
    for (const target of targets) {
      const row = rows.get(`${ds.name}/${target}`)!;
      const plain = row.bgsave[0];
      const redisPlain = redis.bgsave[0];
      table1.push([
        ds.name, target,
        row.saveError ?? ms(row.saveMs!),
        row.saveBytes === undefined ? "-" : mb(row.saveBytes),
        row.saveMs !== undefined && redis.saveMs !== undefined ? x2(row.saveMs / redis.saveMs) : "-",
        typeof plain === "string" ? plain : ms(plain?.ms ?? NaN),
        typeof plain === "object" ? mb(plain.fileBytes) : "-",
        typeof plain === "object" && typeof redisPlain === "object" ? versus(plain.ms / redisPlain.ms, 2, true, target) : "-",
      ]);
      row.bgsave.forEach((b, i) => {
        if (typeof b === "string") return table2.push([ds.name, target, i === 0 ? "-" : "writer", b, "-", "-", "-", "-", "-", "-", "-", "-", "-"]);
        table2.push([
          ds.name, target, i === 0 ? "-" : `${Math.round(b.idleWriteRate / 1000)}k/s, ${Math.round(b.writeRate / 1000)}k/s`,
          ms(b.ms), mb(b.before), mb(b.peak),
          versus(b.peak / b.before, 1.3, true, target), x2(b.peakPhysical / b.before),
          ms(b.idleP99), ms(b.duringP99), versus(b.duringP99 / b.idleP99, 2, true, target), ms(b.duringMax), String(b.reads),
        ]);
      });
    }
  }
  console.log("## SAVE and BGSAVE (SAVE with no other client; BGSAVE: the run with the reading client alone, below)\n");
  console.log(markdownTable(
    ["dataset", "server", "SAVE ms", "RDB MB", "SAVE/redis", "BGSAVE ms", "BGSAVE RDB MB", "BGSAVE/redis (target <=2x)"],
    table1,
  ));
  console.log(`\n## BGSAVE under a client reading one key at a time (${reader === "python" ? "a python3 process" : "a worker thread of the bench"}; p99 idle: the ${idleMs} ms before BGSAVE)\n`);
  console.log(markdownTable(
    ["dataset", "server", "writes idle, during", "BGSAVE ms", "RSS before MB", "peak MB", "peak/before (target <=1.3x)",
      "private peak/before", "p99 idle ms", "p99 during ms", "during/idle (target <=2x)", "max during ms", "reads during"],
    table2,
  ));
  console.log("\npeak: redis-server's VmRSS plus its forked child's, sampled every 5 ms (private peak: the child's pages counted");
  console.log("only when not shared with the parent, smaps_rollup Private_Clean + Private_Dirty); Respite's VmHWM, reset at BGSAVE.\n");
}

// ---------------------------------------------------------- load section

/** ms from spawning the server until PING answers +PONG, and DBSIZE then. */
async function startupTime(target: Target, dir?: string): Promise<{ ms: number; keys: number }> {
  return withServer(target, dir ? ["--dir", dir] : [], (server) =>
    withClient(server.port, async (c) => {
      for (;;) {
        const reply = await c.call("PING");
        if (reply === "+PONG") break;
        if (!reply.startsWith("-LOADING")) throw new Error(`PING: ${reply}`);
        if (performance.now() - server.spawnedAt > 300_000) throw new Error("still loading after 300 s");
        await sleep(2);
      }
      const ms = performance.now() - server.spawnedAt;
      return { ms, keys: Number(check(await c.call("DBSIZE"), "DBSIZE").slice(1)) };
    }));
}

async function loadSection(sets: Dataset[], targets: Target[]): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "respite-bench-load-"));
  const rows: string[][] = [];
  try {
    for (const ds of sets) {
      const dir = path.join(work, ds.name);
      fs.mkdirSync(dir);
      process.stderr.write(`load: making redis-server's dump.rdb of ${ds.name}\n`);
      await withServer("redis", [], async (server) => {
        await fill(server.port, ds);
        await withClient(server.port, async (c) => check(await c.call("SAVE"), "SAVE"));
        fs.copyFileSync(path.join(server.dir, "dump.rdb"), path.join(dir, "dump.rdb"));
      });
      const size = fs.statSync(path.join(dir, "dump.rdb")).size;
      let redisMs = NaN;
      for (const target of targets) {
        process.stderr.write(`load: ${target} ${ds.name}\n`);
        try {
          const empty = await startupTime(target);
          const loaded = await startupTime(target, dir);
          if (target === "redis") redisMs = loaded.ms;
          const complete = loaded.keys === ds.keys;
          rows.push([ds.name, mb(size), target, ms(empty.ms), ms(loaded.ms), complete ? x2(loaded.ms / redisMs) : "-",
            complete ? "" : `DBSIZE ${loaded.keys}, expected ${ds.keys}`]);
        } catch (e) {
          rows.push([ds.name, mb(size), target, "-", "-", "-", errorText(e)]);
        }
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log("## Loading redis-server's dump.rdb at startup (spawn until PING answers +PONG)\n");
  console.log(markdownTable(["dataset", "RDB MB", "server", "empty start ms", "start with RDB ms", "vs redis", "note"], rows));
  console.log();
}

// ----------------------------------------------------------- aof section

/** Bytes of every *.aof file under a directory. */
function aofBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".aof")) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

async function aofSection(targets: Target[], requests: string, warmup: string): Promise<void> {
  const pipelines = [1, 16];
  const rows: string[][] = [];
  for (const fsync of ["everysec", "always"]) {
    const rates = new Map<Target, Map<number, number | string>>();
    const written = new Map<Target, number>();
    for (const target of targets) {
      const byDepth = new Map<number, number | string>();
      rates.set(target, byDepth);
      process.stderr.write(`aof: ${target} appendfsync ${fsync}\n`);
      try {
        await withServer(target, ["--appendonly", "yes", "--appendfsync", fsync], async (server) => {
          const bench = (p: number, n: string) => redisBenchmark(server.port, ["-t", "set", "-c", "50", "-n", n, "-P", String(p)]);
          if (Number(warmup) > 0) bench(16, warmup);
          for (const p of pipelines) byDepth.set(p, bench(p, requests).get("set") ?? "no result");
          written.set(target, aofBytes(server.dir));
        });
      } catch (e) {
        for (const p of pipelines) if (!byDepth.has(p)) byDepth.set(p, errorText(e));
      }
    }
    for (const p of pipelines) {
      const base = rates.get("redis")!.get(p)!;
      const row = [fsync, String(p)];
      for (const target of targets) {
        const v = rates.get(target)!.get(p)!;
        row.push(typeof v === "number" ? String(Math.round(v)) : v);
        if (target !== "redis") {
          const ratio = typeof v === "number" && typeof base === "number" ? versus(v / base, 0.8, false, target) : "-";
          row.push((written.get(target) ?? 0) < Number(requests) ? `no AOF written (${ratio})` : ratio);
        }
        row.push(written.has(target) ? mb(written.get(target)!) : "-");
      }
      rows.push(row);
    }
  }
  const header = ["appendfsync", "-P"];
  for (const t of targets) header.push(`${t} SET/s`, ...(t === "redis" ? [] : [`${t}/redis (target >=0.8x)`]), `${t} AOF MB`);
  const warm = Number(warmup) > 0 ? `, after an untimed run of ${warmup} at -P 16` : "";
  console.log(`## SET throughput with appendonly yes (redis-benchmark -t set -c 50 -n ${requests} -P <depth>${warm})\n`);
  console.log(markdownTable(header, rows));
  console.log("\nAOF MB: all *.aof files in the server's directory after its warm-up and both depths.\n");
}

if (isMainThread) await main();
else await clientThread(workerData as ClientJob);
