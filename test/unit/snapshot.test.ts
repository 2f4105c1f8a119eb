/**
 * The fork-less snapshot on its own: whatever clients do between its
 * steps (overwrite, delete, expire, rename, move, flush, swap dbs, create
 * keys, change TTLs, edit collections in place), the entries it writes
 * are the dataset as it was when it began, each key once. The encoder
 * here records entries instead of writing a file format.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createEngine } from "../../mod.ts";
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
  packedHashAt(key: KeyRef, packed: KeyRef, expireAt: number): void {
    this.entry(refText(key), HashValue.fromPacked(refText(packed)), expireAt);
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
    assert.equal(written.size, before.size);
    // Keys are unique across dbs at the start (k<i> lives in db i % 3), so an early entry is found by its key.
    const byKey = new Map([...before].map(([name, entry]) => [name.split(" ")[1], entry]));
    for (const [name, entry] of written) {
      const expected = name.includes(" ") ? before.get(name) : byKey.get(name);
      assert.equal(entry, expected, name);
    }
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
});
