/**
 * The keyspace's own hash table against a JS Map as the model: random
 * writes that grow shards, empty them and compact them, binary keys, values
 * kept as bytes by a codec and revived, and walks that must meet every
 * entry present throughout while shards grow, reuse holes and compact.
 * A tracked table (the keyspace's) keeps each key's access clock and size:
 * its running byte sum must equal the sizes of the keys it holds whatever
 * the mix of writes, deletes by key and by position, growth and compaction.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ShardedMap } from "../../core/db/sharded-map.ts";
import type { Shard, ValueCodec } from "../../core/db/shard.ts";
import { AccessClock } from "../../core/db/access.ts";
import { rng } from "../lib/diff.ts";
import { str } from "../../core/util/bytes.ts";

function assertSame(map: ShardedMap<number>, model: Map<string, number>): void {
  assert.equal(map.size, model.size);
  assert.deepEqual(new Set(map.keys()), new Set(model.keys()));
  for (const [k, v] of model) assert.equal(map.get(k), v);
}

/** Every key a whole walk meets, stepping with between() called after each. */
/** A walk standing on key's entry. */
function walkTo<V>(map: ShardedMap<V>, key: string) {
  const walk = map.walk();
  while (map.advance(walk) && map.keyAt(walk) !== key) walk.slot++;
  return walk;
}

function walkAll(map: ShardedMap<number>, between: () => void): string[] {
  const seen: string[] = [];
  const walk = map.walk();
  while (map.advance(walk)) {
    seen.push(map.keyAt(walk));
    assert.equal(typeof map.valueAt(walk), "number");
    walk.slot++;
    between();
  }
  return seen;
}

describe("ShardedMap", () => {
  it("matches a Map through growth, overwrites, deletes down to empty and compaction", () => {
    const next = rng(7);
    const map = new ShardedMap<number>();
    const model = new Map<string, number>();
    for (const [writes, keySpace, deleteShare] of [[20_000, 5_000, 0.2], [30_000, 5_000, 0.95], [5_000, 300, 0.5]]) {
      for (let i = 0; i < writes; i++) {
        const key = `k\x00${Math.floor(next() * keySpace)}\r\n\xff`;
        if (next() < deleteShare) {
          assert.equal(map.delete(key), model.delete(key));
        } else {
          assert.equal(map.set(key, i), !model.has(key));
          model.set(key, i);
        }
        assert.equal(map.has(key), model.has(key));
      }
      assertSame(map, model);
    }
    for (const key of [...model.keys()]) map.delete(key);
    assert.equal(map.size, 0);
    assert.deepEqual([...map.keys()], []);
    assert.equal(map.randomKey(), undefined);
    map.set("again", 1);
    assert.equal(map.get("again"), 1);
    map.clear();
    assert.equal(map.size, 0);
    assert.equal(map.get("again"), undefined);
  });

  it("grows while frozen (a snapshot walking it) without linking its holes into the chains", () => {
    const map = new ShardedMap<number>();
    const model = new Map<string, number>();
    for (let i = 0; i < 4000; i++) map.set(`k${i}`, i), model.set(`k${i}`, i);
    map.freeze(true);
    // Holes that frozen shards keep, then enough new keys that every shard grows past them.
    for (let i = 0; i < 4000; i += 2) map.delete(`k${i}`), model.delete(`k${i}`);
    for (let i = 0; i < 12000; i++) map.set(`n${i}`, i), model.set(`n${i}`, i);
    map.freeze(false);
    const shards = (map as unknown as { shards: Shard<number>[] }).shards;
    for (const shard of shards) {
      let linked = 0;
      for (const head of shard.heads) {
        for (let i = head; i !== -1; i = shard.chainNext(i)) {
          assert.ok(shard.occupied(i), "a hole in a chain");
          assert.ok(++linked <= shard.used, "a chain runs in a circle");
        }
      }
    }
    // Unfrozen inserts reuse the holes.
    for (let i = 0; i < 3000; i++) map.set(`m${i}`, i), model.set(`m${i}`, i);
    assertSame(map, model);
  });

  it("walks past every entry present throughout while others are added, deleted and shards compact", () => {
    const next = rng(11);
    // A few stable keys per shard among many others: when the others go, each shard compacts down
    // to its stable keys in its first slots, behind a walk that is midway through the shard.
    for (let trial = 0; trial < 10; trial++) {
      const map = new ShardedMap<number>();
      const churn: string[] = [];
      const stable: string[] = [];
      for (let i = 0; i < 5_000; i++) churn.push(`c${trial}:${i}`);
      for (let i = 0; i < 64; i++) stable.push(`s${trial}:${i}`);
      for (const key of [...churn, ...stable]) map.set(key, 0);
      let steps = 0;
      let added = 0;
      const seen = walkAll(map, () => {
        if (++steps === 10) { for (const key of churn) map.delete(key); }
        if (next() < 0.3) map.set(`n${added++}`, 0);
      });
      const met = new Set(seen);
      for (const key of stable) assert.ok(met.has(key), `${key} missed`);
    }
  });

  it("draws random keys only from those present, reaching all of them", () => {
    const map = new ShardedMap<number>();
    for (let i = 0; i < 50; i++) map.set(`r${i}`, i);
    for (let i = 0; i < 50; i += 2) map.delete(`r${i}`);
    const drawn = new Set<string>();
    for (let i = 0; i < 5_000; i++) drawn.add(map.randomKey()!);
    assert.deepEqual([...drawn].sort(), [...map.keys()].sort());
  });

  it("keeps codec values as bytes after settle(), revives them on read, and survives every rewrite of the arena", () => {
    interface Box {
      text: string;
    }
    const revived: string[] = [];
    // Boxes whose text starts with "p" may be kept as bytes; their kind is the text's length % 3 + 1.
    const codec: ValueCodec<Box> = {
      kind: (b) => (b.text.startsWith("p") ? (b.text.length % 3) + 1 : 0),
      bytes: (b) => b.text,
      revive: (kind, bytes, at, length) => {
        const text = str(bytes.subarray(at, at + length));
        assert.equal(kind, (text.length % 3) + 1);
        revived.push(text);
        return { text };
      },
      immutable: () => false,
    };
    const next = rng(5);
    const map = new ShardedMap<Box>(codec);
    const model = new Map<string, string>();
    for (let i = 0; i < 60_000; i++) {
      const key = `key:${Math.floor(next() * 3_000)}\x00`;
      const r = next();
      if (r < 0.25) {
        assert.equal(map.delete(key), model.delete(key));
      } else if (r < 0.7) {
        const text = (next() < 0.7 ? "p" : "o") + "\xff\r\n".repeat(Math.floor(next() * 60)) + i;
        map.set(key, { text });
        model.set(key, text);
      } else {
        assert.equal(map.get(key)?.text, model.get(key));
      }
      if (i % 97 === 0) map.settle(Infinity);
      if (i === 40_000) { for (const k of [...model.keys()].slice(0, 2_800)) map.delete(k), model.delete(k); }
    }
    map.settle(Infinity);
    revived.length = 0;
    for (const [k, text] of model) assert.equal(map.get(k)!.text, text);
    assert.ok(revived.length > model.size / 2, `most values were kept as bytes (${revived.length} of ${model.size})`);
    // settle() stops at its budget and goes on from there at the next call.
    for (const k of model.keys()) map.get(k);
    map.settle(100);
    revived.length = 0;
    for (const k of model.keys()) map.get(k);
    assert.equal(revived.length, 100);
    map.settle(Infinity);
    // A revived object is the stored value until the next settle(): edits to it are kept.
    const [first] = model.keys();
    const box = map.get(first)!;
    box.text = "p-edited";
    map.settle(Infinity);
    assert.equal(map.get(first)!.text, "p-edited");
  });

  it("keeps strings of an immutable kind as bytes from the moment they are set, and reads leave them there", () => {
    // Strings (the keyspace's short string values) are packed at once; objects go through settle() as before.
    const codec: ValueCodec<string | { text: string }> = {
      kind: (v) => (typeof v === "string" ? 3 : v.text.startsWith("p") ? 1 : 0),
      bytes: (v) => (typeof v === "string" ? v : v.text),
      revive: (kind, bytes, at, length) => {
        const text = str(bytes.subarray(at, at + length));
        return kind === 3 ? text : { text };
      },
      immutable: (kind) => kind === 3,
    };
    const next = rng(6);
    const map = new ShardedMap<string | { text: string }>(codec);
    const model = new Map<string, string | { text: string }>();
    const text = (
      v: string | { text: string } | undefined,
    ) => (v === undefined ? undefined : typeof v === "string" ? v : v.text);
    for (let i = 0; i < 80_000; i++) {
      const key = `k\x00${Math.floor(next() * 2_000)}`;
      const r = next();
      if (r < 0.2) {
        assert.equal(map.delete(key), model.delete(key));
      } else if (r < 0.65) {
        // Same-length overwrites (in place), other lengths, binary bytes, and now and then an object.
        const len = next() < 0.5 ? 8 : Math.floor(next() * 300);
        const v = next() < 0.9
          ? String.fromCharCode(...Array.from({ length: len }, () => Math.floor(next() * 256)))
          : { text: `p${i}` };
        map.set(key, v);
        model.set(key, v);
      } else {
        const got = map.get(key);
        assert.equal(text(got), text(model.get(key)), `${JSON.stringify(key)} at step ${i}`);
        // A read of a string leaves it as bytes: nothing waits to be settled.
        if (typeof got === "string" && i % 100 === 0) assert.equal(map.objectAt(walkTo(map, key)), undefined);
      }
      if (i % 500 === 0) map.settle(Infinity);
      if (i === 50_000) { for (const k of [...model.keys()].slice(0, 1_900)) map.delete(k), model.delete(k); }
    }
    assert.equal(map.size, model.size);
    for (const [k, v] of model) assert.equal(text(map.get(k)), text(v));
  });

  it("a tracked table's byte sum and access clocks follow sets, in-place changes, deletes by key and by position", () => {
    const next = rng(11);
    const clock = new AccessClock();
    clock.tick(1_000_000);
    const box = new Map<string, { n: number }>();
    const map = new ShardedMap<{ n: number }>(null, { clock, size: (key, v) => key.length * 10 + v.n });
    const model = new Map<string, number>();
    const expected = () => [...model].reduce((sum, [k, n]) => sum + k.length * 10 + n, 0);
    for (let i = 0; i < 60_000; i++) {
      const key = `key:${Math.floor(next() * (i < 30_000 ? 8_000 : 600))}`;
      const r = next();
      if (r < 0.4) {
        const v = { n: Math.floor(next() * 1000) };
        map.set(key, v);
        box.set(key, v);
        model.set(key, v.n);
      } else if (r < 0.55 && model.has(key)) {
        // The value changed in place, then the table is told.
        box.get(key)!.n += 7;
        model.set(key, model.get(key)! + 7);
        map.resized(key);
      } else if (r < 0.75) {
        assert.equal(map.delete(key), model.delete(key));
      } else if (r < 0.9 && map.size > 0) {
        const p = map.randomPosition();
        assert.ok(map.liveAt(p));
        const victim = map.keyAtPosition(p);
        map.deleteAt(p);
        assert.equal(map.has(victim), false);
        model.delete(victim);
      } else if (model.has(key)) {
        clock.tick(1_000_000 + i * 1000);
        map.access(key);
        assert.equal(map.accessOf(key), clock.lruClock);
      }
      if (i % 5000 === 0) assert.equal(map.bytes, expected());
    }
    assert.equal(map.bytes, expected());
    assert.equal(map.size, model.size);
    for (const [k, n] of model) assert.equal(map.get(k)!.n, n);
    map.setAccess([...model.keys()][0], 12345);
    assert.equal(map.accessOf([...model.keys()][0]), 12345);
    assert.equal(map.accessOf("missing"), -1);
    for (const k of [...model.keys()]) map.delete(k);
    assert.equal(map.bytes, 0);
  });
});
