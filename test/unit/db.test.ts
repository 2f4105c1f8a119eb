/**
 * Db on its own: lazy expiry in lookup, deadlines kept or cleared by set,
 * the SCAN guarantee under concurrent changes (every key present for the
 * whole walk is returned), cursors after SWAPDB and FLUSH, RANDOMKEY and
 * the active-expiry sampler never handing out a key past its deadline.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Db, ScanRegistry } from "../../core/db/db.ts";
import { AccessClock } from "../../core/db/access.ts";
import { rng } from "../lib/diff.ts";

/** A Db whose expirations are recorded, as the engine counts them. */
function newDb(id = 0): { db: Db; expired: string[] } {
  const expired: string[] = [];
  const db = new Db(id, { now: 0, clientsPaused: false, replicaExpiry: 0, access: new AccessClock(), expired: (_db, key) => expired.push(key), added: () => {} });
  return { db, expired };
}

/** Walks a whole SCAN, calling between(step) after each call; returns every key seen and the number of calls. */
function fullScan(db: Db, scans: ScanRegistry, count: number, between: (step: number) => void = () => {}) {
  const seen: string[] = [];
  let cursor = "0";
  let step = 0;
  do {
    cursor = db.scan(scans, cursor, count, (k) => {
      if (db.data.has(k)) seen.push(k);
    });
    between(step++);
  } while (cursor !== "0");
  return { seen, calls: step };
}

describe("Db", () => {
  it("expires a key on lookup at its deadline, once", () => {
    const { db, expired } = newDb();
    db.set("k", "v");
    db.setExpire("k", 1000);
    assert.equal(db.lookup("k", 999), "v");
    assert.equal(db.lookup("k", 1000), undefined);
    assert.equal(db.lookup("k", 1001), undefined);
    assert.deepEqual(expired, ["k"]);
    assert.equal(db.size, 0);
    assert.equal(db.expires.size, 0);
  });

  it("clears a deadline on set unless keepTtl", () => {
    const { db } = newDb();
    db.set("a", 1);
    db.setExpire("a", 50);
    db.set("a", 2, true);
    assert.equal(db.ttl("a"), 50);
    db.set("a", 3);
    assert.equal(db.ttl("a"), undefined);
    assert.equal(db.lookup("a", 100), 3);
  });

  it("deletes a key and its deadline together", () => {
    const { db, expired } = newDb();
    db.set("a", 1);
    db.setExpire("a", 10);
    assert.equal(db.delete("a"), true);
    assert.equal(db.delete("a"), false);
    assert.equal(db.expires.size, 0);
    assert.deepEqual(expired, []);
  });

  it("scans every key present throughout while others come and go, in a bounded number of calls", () => {
    for (const count of [1, 3, 10, 100]) {
      const { db } = newDb();
      const scans = new ScanRegistry();
      const next = rng(count);
      const stable: string[] = [];
      for (let i = 0; i < 500; i++) {
        const key = `s${i}`;
        db.set(key, i);
        stable.push(key);
      }
      // Keys are added faster than COUNT 1 reads them: the walk must still end.
      let churn = 0;
      const { seen, calls } = fullScan(db, scans, count, () => {
        for (let j = 0; j < 5; j++) {
          db.set(`t${churn++}`, 0);
          if (j % 2 === 0) db.delete(`t${Math.floor(next() * churn)}`);
        }
      });
      const seenSet = new Set(seen);
      for (const key of stable) assert.ok(seenSet.has(key), `COUNT ${count}: ${key} missing`);
      assert.ok(calls <= Math.ceil(500 / count), `COUNT ${count}: ${calls} calls`);
    }
  });

  it("ends with cursor 0 on the call that reaches the end", () => {
    const { db } = newDb();
    const scans = new ScanRegistry();
    for (let i = 0; i < 10; i++) db.set(`k${i}`, i);
    const seen: string[] = [];
    assert.equal(db.scan(scans, "0", 10, (k) => seen.push(k)), "0");
    assert.equal(seen.length, 10);
    const first = db.scan(scans, "0", 9, () => {});
    assert.notEqual(first, "0");
    let last = 0;
    assert.equal(db.scan(scans, first, 9, () => last++), "0");
    assert.equal(last, 1);
  });

  it("restarts an unknown cursor, and a cursor from before SWAPDB", () => {
    const { db } = newDb(0);
    const { db: other } = newDb(1);
    const scans = new ScanRegistry();
    for (let i = 0; i < 20; i++) db.set(`a${i}`, i);
    for (let i = 0; i < 20; i++) other.set(`b${i}`, i);
    const seen: string[] = [];
    assert.notEqual(db.scan(scans, "12345", 5, (k) => seen.push(k)), "0");
    assert.equal(seen.length, 5);
    assert.ok(seen.every((k) => k.startsWith("a")), `restarted on this db: ${seen}`);
    const cursor = db.scan(scans, "0", 5, () => {});
    db.swapWith(other);
    const after: string[] = [];
    db.scan(scans, cursor, 5, (k) => after.push(k));
    assert.equal(after.length, 5);
    assert.ok(after.every((k) => k.startsWith("b")), `restarted on the swapped-in keys: ${after}`);
  });

  it("finishes a scan whose db was cleared", () => {
    const { db } = newDb();
    const scans = new ScanRegistry();
    for (let i = 0; i < 100; i++) db.set(`k${i}`, i);
    const cursor = db.scan(scans, "0", 10, () => {});
    db.clear();
    const live: string[] = [];
    assert.equal(db.scan(scans, cursor, 10, (k) => db.data.has(k) && live.push(k)), "0");
    assert.deepEqual(live, []);
  });

  it("never returns an expired key from randomKey, nor nil while a live key remains", () => {
    const { db, expired } = newDb();
    for (let i = 0; i < 1000; i++) {
      db.set(`dead${i}`, i);
      db.setExpire(`dead${i}`, 10);
    }
    db.set("alive", 1);
    for (let i = 0; i < 50; i++) assert.equal(db.randomKey(20), "alive");
    assert.equal(db.size, 1);
    assert.equal(expired.length, 1000);
    db.delete("alive");
    assert.equal(db.randomKey(20), null);
  });

  it("samples deadlines across calls and deletes only the expired ones", () => {
    const { db, expired } = newDb();
    for (let i = 0; i < 100; i++) {
      db.set(`k${i}`, i);
      db.setExpire(`k${i}`, i % 2 === 0 ? 10 : 1000);
    }
    let looked = 0;
    let gone = 0;
    for (let round = 0; round < 5; round++) {
      const [l, g] = db.expireSample(20, 500);
      looked += l;
      gone += g;
    }
    assert.equal(looked, 100);
    assert.equal(gone, 50);
    assert.equal(expired.length, 50);
    assert.equal(db.size, 50);
    assert.ok([...db.data.keys()].every((k) => Number(k.slice(1)) % 2 === 1));
  });
});
