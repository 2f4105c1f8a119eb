/**
 * The fork-less snapshot on its own: whatever clients do between its
 * steps (overwrite, delete, expire, rename, move, flush, swap dbs, create
 * keys, change TTLs, edit collections in place), the entries it writes
 * are the dataset as it was when it began, each key once. The encoder
 * here records entries instead of writing a file format. A fuzz then mixes
 * snapshots with random writes, and keeps writing after they end, against
 * a model of the dataset: a table the snapshot left damaged shows up as a
 * wrong reply or a lookup that never returns (it runs in a worker, so a
 * hang fails the test instead of wedging the runner).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createEngine, EmbeddedEngine, ReplyError } from "../../mod.ts";
import { Snapshot, type SnapshotEncoder } from "../../core/persist/snapshot.ts";
import type { Value } from "../../core/types/value.ts";
import { HashValue } from "../../core/types/hash.ts";
import { type KeyRef, refText } from "../../core/db/shard.ts";
import { rng } from "../lib/diff.ts";

/** Records "db key -> value, ttl" lines in a shared list, marking which encoder (main or early) wrote them. */
class RecordingEncoder implements SnapshotEncoder {
  private db = -1;
  constructor(private readonly into: Map<string, string>) {}
  selectDb(id: number): void {
    this.db = id;
  }
  entry(key: string, value: Value, expireAt: number): void {
    // Entries written ahead for a db the walk has not reached go to an encoder of their own, without a selectDb.
    const name = this.db === -1 ? key : `${this.db} ${key}`;
    assert.ok(!this.into.has(name), `${name} written twice`);
    this.into.set(name, `${show(value)} ${expireAt}`);
  }
  entryAt(key: KeyRef, value: Value, expireAt: number): void {
    this.entry(refText(key), value, expireAt);
  }
  stringAt(key: KeyRef, value: KeyRef, expireAt: number): void {
    this.entry(refText(key), refText(value), expireAt);
  }
  packedHashAt(key: KeyRef, packed: KeyRef, expireAt: number): void {
    this.entry(refText(key), HashValue.lentCopy(packed.bytes, packed.at, packed.length), expireAt);
  }
  take(): Uint8Array {
    return new Uint8Array(0);
  }
  get buffered(): number {
    return 0;
  }
}

/** A value as text: strings as they are, collections as their sorted contents. */
function show(v: Value): string {
  if (typeof v !== "object" || v instanceof Uint8Array) return typeof v === "object" ? new TextDecoder("latin1").decode(v) : String(v);
  return `${v.type}:${v.size}:${v.encoding()}`;
}

/** The whole dataset as the recording encoder would write it: "db key" -> "value ttl". */
function dataset(engine: ReturnType<typeof createEngine>["engine"]): Map<string, string> {
  const out = new Map<string, string>();
  for (const db of engine.dbs) {
    for (const key of db.data.keys()) out.set(`${db.id} ${key}`, `${show(db.data.get(key)!)} ${db.ttl(key) ?? -1}`);
  }
  return out;
}

/**
 * Checks that a snapshot wrote `before`, the dataset() as it began. Entries
 * written ahead for a db the walk had not reached carry no db: keys must be
 * unique across dbs at the start, so that such an entry is found by its key.
 */
function assertWrote(written: Map<string, string>, before: Map<string, string>): void {
  assert.equal(written.size, before.size);
  const byKey = new Map([...before].map(([name, entry]) => [name.split(" ")[1], entry]));
  for (const [name, entry] of written) {
    const expected = name.includes(" ") ? before.get(name) : byKey.get(name);
    assert.equal(entry, expected, name);
  }
}

const FUZZ_SEEDS = 6;
const FUZZ_DBS = 4;
/** Keys at the start: k<i>, with h<i> (hashes) and l<i> (lists) for some i, in db i % FUZZ_DBS. */
const FUZZ_KEYS = 800;

/** A key of the model: its value (a string, a hash or a list) and its deadline (-1 for none). */
interface Modeled {
  value: string | Map<string, string> | string[];
  at: number;
}

/**
 * One fuzz run: a dataset, a snapshot walking it `grain` steps (of 4 keys)
 * at a time with random writes between, then random writes once it is
 * done. Every reply is checked against a model, a Map per db, and at the
 * end so is the whole dataset, as is what the snapshot wrote.
 */
function fuzzSnapshot(seed: number, grain: number): void {
  const rand = rng(seed);
  const pick = (n: number) => Math.floor(rand() * n);
  // The clock moves 2 ms an op from an even start and deadlines are odd: a key is live or expired, never at its deadline.
  let time = 1_700_000_000_000;
  const e = new EmbeddedEngine({ databases: FUZZ_DBS }, { clock: { now: () => time } });
  let selected = 0;
  const call = (db: number, ...args: string[]) => {
    if (db !== selected) e.call("SELECT", String(selected = db));
    return e.call(...args);
  };
  const model = Array.from({ length: FUZZ_DBS }, () => new Map<string, Modeled>());
  const live = (db: number, key: string): Modeled | undefined => {
    const m = model[db].get(key);
    if (m === undefined || m.at === -1 || m.at > time) return m;
    model[db].delete(key);
    return undefined;
  };
  const contents = (v: Modeled["value"]): unknown => v instanceof Map ? [...v].sort().flat() : v;
  /** A db's keys and values as the engine has them. */
  const seen = (db: number): Map<string, string> => {
    const out = new Map<string, string>();
    for (const key of (call(db, "KEYS", "*") as string[]).sort()) {
      let value: unknown;
      if (key[0] === "k") value = call(db, "GET", key);
      else if (key[0] === "l") value = call(db, "LRANGE", key, "0", "-1");
      else {
        const flat = call(db, "HGETALL", key) as string[];
        const hash = new Map<string, string>();
        for (let j = 0; j < flat.length; j += 2) hash.set(flat[j], flat[j + 1]);
        value = contents(hash);
      }
      out.set(key, JSON.stringify([value, call(db, "PEXPIRETIME", key)]));
    }
    return out;
  };
  const modeled = (db: number): Map<string, string> => {
    const out = new Map<string, string>();
    for (const key of [...model[db].keys()].sort()) {
      const m = live(db, key);
      if (m !== undefined) out.set(key, JSON.stringify([contents(m.value), m.at]));
    }
    return out;
  };

  /** One random write or read of a key, its reply checked. */
  const op = () => {
    time += 2;
    // Half of them a key of the start, where it may still be (deletes make holes, which a frozen table keeps); the rest mostly new.
    const old = rand() < 0.5;
    const i = pick(old ? FUZZ_KEYS : 2 * FUZZ_KEYS);
    const db = old ? i % FUZZ_DBS : pick(FUZZ_DBS);
    const prefix = "kkhl"[pick(4)];
    const key = prefix + i;
    const m = live(db, key);
    const r = pick(100);
    let reply: unknown;
    let expected: unknown;
    if (r < 22) {
      const v = `v${pick(1000)}`;
      if (prefix === "k") {
        reply = call(db, "SET", key, v), expected = "OK";
        model[db].set(key, { value: v, at: -1 });
      } else if (prefix === "h") {
        const field = `f${pick(4)}`;
        const hash = m?.value as Map<string, string> | undefined;
        reply = call(db, "HSET", key, field, v), expected = hash?.has(field) ? 0 : 1;
        if (hash === undefined) model[db].set(key, { value: new Map([[field, v]]), at: -1 });
        else hash.set(field, v);
      } else {
        const list = m?.value as string[] | undefined;
        reply = call(db, "RPUSH", key, v), expected = (list?.length ?? 0) + 1;
        if (list === undefined) model[db].set(key, { value: [v], at: -1 });
        else list.push(v);
      }
    } else if (r < 40) {
      reply = call(db, "DEL", key), expected = m === undefined ? 0 : 1;
      model[db].delete(key);
    } else if (r < 58) {
      reply = call(db, "EXISTS", key), expected = m === undefined ? 0 : 1;
      if (prefix === "k" && m !== undefined) reply = call(db, "GET", key), expected = m.value;
    } else if (r < 64) {
      // Within its kind, so no RENAME makes a WRONGTYPE later.
      const to = prefix + pick(2 * FUZZ_KEYS);
      reply = call(db, "RENAME", key, to);
      if (m === undefined) reply = reply instanceof ReplyError, expected = true;
      else {
        expected = "OK";
        model[db].delete(key);
        model[db].set(to, m);
      }
    } else if (r < 70) {
      const to = (db + 1 + pick(FUZZ_DBS - 1)) % FUZZ_DBS;
      const moves = m !== undefined && live(to, key) === undefined;
      reply = call(db, "MOVE", key, String(to)), expected = moves ? 1 : 0;
      if (moves) model[to].set(key, m), model[db].delete(key);
    } else if (r < 84) {
      // 1 ms: gone by the next op; else gone some ops later, or long after the run.
      const ms = [1, 2 * pick(300) + 1, 1_000_000_001][pick(3)];
      reply = call(db, "PEXPIRE", key, String(ms)), expected = m === undefined ? 0 : 1;
      if (m !== undefined) m.at = time + ms;
    } else if (r < 88) {
      reply = call(db, "PERSIST", key), expected = m !== undefined && m.at !== -1 ? 1 : 0;
      if (m !== undefined) m.at = -1;
    } else if (r < 94 && prefix !== "k") {
      if (prefix === "h") {
        const field = `f${pick(4)}`;
        const hash = m?.value as Map<string, string> | undefined;
        reply = call(db, "HDEL", key, field), expected = hash?.delete(field) ? 1 : 0;
        if (hash?.size === 0) model[db].delete(key);
      } else {
        const list = m?.value as string[] | undefined;
        reply = call(db, "LPOP", key), expected = list?.shift() ?? null;
        if (list?.length === 0) model[db].delete(key);
      }
    } else {
      reply = call(db, "GET", `k${i}`), expected = live(db, `k${i}`)?.value ?? null;
    }
    assert.deepEqual(reply, expected, `db ${db}: ${key} (op ${r})`);
  };

  for (let i = 0; i < FUZZ_KEYS; i++) {
    const db = i % FUZZ_DBS;
    call(db, "SET", `k${i}`, `v${i}`);
    model[db].set(`k${i}`, { value: `v${i}`, at: -1 });
    if (i % 5 === 0) {
      call(db, "PEXPIRE", `k${i}`, "1000000001");
      model[db].get(`k${i}`)!.at = time + 1_000_000_001;
    }
    if (i % 7 === 0) {
      call(db, "HSET", `h${i}`, "f0", "a", "f1", "b");
      model[db].set(`h${i}`, { value: new Map([["f0", "a"], ["f1", "b"]]), at: -1 });
    }
    if (i % 11 === 0) {
      call(db, "RPUSH", `l${i}`, "x", "y");
      model[db].set(`l${i}`, { value: ["x", "y"], at: -1 });
    }
  }
  const before = dataset(e.engine);
  const written = new Map<string, string>();
  const snap = new Snapshot(e.engine.dbs, () => new RecordingEncoder(written), () => {});
  // A deadline already past: each step() walks 4 keys or so, whatever the machine's speed.
  for (let done = false, flushed = false; !done;) {
    for (let s = 0; s < grain && !done; s++) done = snap.step(0);
    // About 8 ops a key walked: enough new keys that tables grow while frozen, past the holes deletes left in them.
    for (let n = pick(64 * grain); n > 0; n--) op();
    // A few times a run: the walk stays on the tables it began with, wherever they go.
    if (pick(64) < grain) {
      const [a, b] = [pick(FUZZ_DBS), pick(FUZZ_DBS)];
      call(a, "SWAPDB", String(a), String(b));
      [model[a], model[b]] = [model[b], model[a]];
    }
    // Once only: a flushed db starts on new tables, which no snapshot walks, so each flush leaves less for the run to catch.
    if (!flushed && snap.keysDone * 2 >= snap.keysTotal) {
      flushed = true;
      const db = pick(FUZZ_DBS);
      call(db, "FLUSHDB");
      model[db].clear();
    }
  }
  assertWrote(written, before);
  // What a damaged table would do wrong, it does when holes are reused: after the snapshot.
  for (let n = 0; n < 3 * FUZZ_KEYS; n++) op();
  for (let db = 0; db < FUZZ_DBS; db++) assert.deepEqual(seen(db), modeled(db), `db ${db}`);
  e.close();
}

/**
 * Runs fuzzSnapshot() for each [seed, grain] in a worker thread loading
 * this file: a lookup going round a chain that is a circle can only be
 * stopped by terminating its thread. Fails when a run fails, or when one
 * has not finished within boundMs.
 */
function fuzzInWorker(runs: Array<[number, number]>, boundMs: number): Promise<void> {
  // A worker does not get the module hooks --import tsx registered here (Node 20): it registers tsx's itself to load .ts.
  const url = JSON.stringify(import.meta.url);
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const load = `import(${tsx}).then((api) => api.tsImport(${url}, ${url}))`;
  const worker = new Worker(load, { eval: true, workerData: { snapshotFuzz: runs } });
  let at = "loading";
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new Promise<void>((resolve, reject) => {
    const wait = () => {
      clearTimeout(timer);
      timer = setTimeout(() => reject(new Error(`${at}: not done within ${boundMs} ms`)), boundMs);
    };
    wait();
    worker.on("message", (m: string) => {
      at = m;
      wait();
    });
    worker.on("error", (err) => reject(new Error(`${at}: ${err.stack ?? err}`)));
    worker.on("exit", (code) => at === "done" ? resolve() : reject(new Error(`${at}: the worker exited (${code})`)));
  }).finally(() => {
    clearTimeout(timer);
    return worker.terminate();
  });
}

// In the fuzz's worker (see fuzzInWorker) this file runs the fuzz and ends, declaring no tests.
if (!isMainThread && workerData?.snapshotFuzz) {
  for (const [seed, grain] of workerData.snapshotFuzz as Array<[number, number]>) {
    parentPort!.postMessage(`seed ${seed}, ${grain} steps a batch`);
    fuzzSnapshot(seed, grain);
  }
  parentPort!.postMessage("done");
  process.exit(0);
}

describe("fork-less snapshot", () => {
  it("writes the dataset as of its start, whatever changes between steps", () => {
    const e = createEngine({ databases: 4 });
    const rand = rng(7);
    for (let i = 0; i < 3000; i++) {
      e.call("SELECT", String(i % 3));
      e.call("SET", `k${i}`, `v${i}`);
      if (i % 5 === 0) e.call("PEXPIRE", `k${i}`, "100000");
      if (i % 7 === 0) e.call("HSET", `h${i}`, "a", "1", "b", "2");
      if (i % 11 === 0) e.call("RPUSH", `l${i}`, "x", "y");
    }
    const before = dataset(e.engine);
    const written = new Map<string, string>();
    const snap = new Snapshot(e.engine.dbs, () => new RecordingEncoder(written), () => {});
    let steps = 0;
    while (!snap.step(performance.now() + 0.05)) {
      steps++;
      for (let j = 0; j < 40; j++) {
        const db = Math.floor(rand() * 3);
        const i = Math.floor(rand() * 3000);
        e.call("SELECT", String(db));
        switch (Math.floor(rand() * 9)) {
          case 0: e.call("SET", `k${i}`, `changed${i}`); break;
          case 1: e.call("DEL", `k${i}`); break;
          case 2: e.call("SET", `new${i}`, "fresh"); break;
          case 3: e.call("PERSIST", `k${i}`); break;
          case 4: e.call("PEXPIRE", `k${i}`, "5"); break;
          case 5: e.call("HSET", `h${i}`, "c", "3"); break;
          case 6: e.call("RENAME", `k${i}`, `renamed${i}`); break;
          case 7: e.call("MOVE", `k${i}`, "3"); break;
          case 8: e.call("RPUSH", `l${i}`, "z"); break;
        }
      }
      if (steps === 5) e.call("SWAPDB", "1", "2");
      if (steps === 9) {
        e.call("SELECT", "2");
        e.call("FLUSHDB");
      }
    }
    assert.ok(steps > 10, `the snapshot took ${steps} steps: too few to interleave`);
    // k<i> lives in db i % 3 at the start.
    assertWrote(written, before);
  });

  it("two snapshots at once (SAVE during an AOF rewrite) each write their own start", () => {
    const e = createEngine();
    for (let i = 0; i < 3000; i++) e.call("SET", `k${i}`, `v${i}`);
    const atFirst = dataset(e.engine);
    const first = new Map<string, string>();
    const a = new Snapshot(e.engine.dbs, () => new RecordingEncoder(first), () => {});
    a.step(performance.now() + 0.05);
    for (let i = 0; i < 3000; i += 3) e.call("SET", `k${i}`, "between");
    const atSecond = dataset(e.engine);
    const second = new Map<string, string>();
    const b = new Snapshot(e.engine.dbs, () => new RecordingEncoder(second), () => {});
    for (let round = 0; !(a.done && b.done); round++) {
      assert.ok(round < 100_000, "both snapshots finish");
      if (!a.done) a.step(performance.now() + 0.02);
      if (!b.done) b.step(performance.now() + 0.02);
      for (let i = round % 5; i < 3000; i += 97) e.call(round % 2 ? "DEL" : "SET", `k${i}`, "later");
    }
    assert.deepEqual(first, atFirst);
    assert.deepEqual(second, atSecond);
    assert.equal(e.engine.dbs[0].cow, null);
  });

  it("lets tables compact again once it is done", () => {
    const e = createEngine();
    for (let i = 0; i < 2000; i++) e.call("SET", `k${i}`, "v");
    const snap = new Snapshot(e.engine.dbs, () => new RecordingEncoder(new Map()), () => {});
    for (let i = 0; i < 2000; i++) e.call("DEL", `k${i}`);
    assert.equal(e.engine.dbs[0].cow !== null, true);
    snap.step(Infinity);
    assert.equal(e.engine.dbs[0].cow, null);
    e.call("SET", "again", "1");
    assert.equal(e.call("GET", "again"), "1");
  });

  it("fuzz: writes between steps and after; replies, dataset and snapshot match a model", async () => {
    const runs: Array<[number, number]> = [];
    for (let seed = 1; seed <= FUZZ_SEEDS; seed++) for (const grain of [1, 4, 16]) runs.push([seed, grain]);
    await fuzzInWorker(runs, 20_000);
  });
});
