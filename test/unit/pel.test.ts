/**
 * Consumer-group PELs against plain models: a group's PEL (GroupPel: an
 * OrderedList with the HashIndex by ID) against a sorted array under random
 * inserts (appends, duplicates, inserts in the middle), deletes, lookups,
 * seeks and walks that delete as they go (lists of a few dozen items); PELs
 * of thousands over many chunks, which split and empty; consumers' PELs,
 * which share the group's index, as entries are delivered, acknowledged,
 * claimed back and forth and dropped; HashIndex alone against a Map as it
 * grows and shrinks; and a PEL keyed by stream IDs whose parts pass 2^53
 * and reach 2^64 - 1. Seeds are fixed and printed on failure.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HashIndex } from "../../core/types/hash-index.ts";
import { GroupPel, PendingEntry, StreamConsumer, StreamGroup } from "../../core/types/stream-groups.ts";
import { compareIds, type StreamId, U64_MAX } from "../../core/types/stream-id.ts";
import { rng } from "../lib/diff.ts";

const nobody = new StreamConsumer("nobody", 0);

/** Entries keyed by a number (the ID's ms part); tag tells apart entries of one key. */
type Item = PendingEntry & { key: number; tag: number };

function makeItem(key: number, tag: number): Item {
  return Object.assign(new PendingEntry({ ms: key, seq: 0 }, 0, 1, nobody), { key, tag });
}

/** A GroupPel under the old OrderedList-with-index calls the model tests make. */
function list() {
  const pel = new GroupPel();
  const id = (key: number): StreamId => ({ ms: key, seq: 0 });
  return {
    insert: (i: Item) => pel.add(i),
    delete: (key: number) => pel.delete(id(key)) as Item | undefined,
    get: (key: number) => pel.get(id(key)) as Item | undefined,
    ceiling: (key: number) => pel.ceiling(id(key)) as Item | undefined,
    first: () => pel.first() as Item | undefined,
    last: () => pel.last() as Item | undefined,
    forEachFrom: (from: number | undefined, fn: (i: Item) => boolean | void) =>
      pel.forEachFrom(from === undefined ? undefined : id(from), (e) => fn(e as Item)),
    get size() {
      return pel.size;
    },
    [Symbol.iterator]: () => (pel[Symbol.iterator]() as Iterator<Item>),
  };
}

describe("consumer-group PELs", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`matches a sorted array under random operations, seed ${seed}`, () => {
      const rand = rng(seed);
      const l = list();
      let model: Item[] = [];
      const find = (k: number) => model.find((i) => i.key === k);
      const check = (step: number) => {
        assert.deepEqual([...l], model, `seed ${seed} step ${step}`);
        assert.equal(l.size, model.length);
        assert.equal(l.first(), model[0]);
        assert.equal(l.last(), model[model.length - 1]);
      };
      for (let step = 0; step < 4000; step++) {
        const r = rand();
        const span = step < 2000 ? 3000 : 600;
        if (r < 0.45) {
          // Mostly keys past the end, as XREADGROUP adds them.
          const key = rand() < 0.5 && model.length > 0
            ? model[model.length - 1].key + 1 + Math.floor(rand() * 3)
            : Math.floor(rand() * span);
          const item = makeItem(key, step);
          const had = find(key) !== undefined;
          assert.equal(l.insert(item), !had);
          if (!had) model = [...model, item].sort((a, b) => a.key - b.key);
        } else if (r < 0.75) {
          const key = rand() < 0.3 && model.length > 0 ? model[0].key : Math.floor(rand() * span);
          const want = find(key);
          assert.equal(l.delete(key), want);
          model = model.filter((i) => i !== want);
        } else if (r < 0.85) {
          const key = Math.floor(rand() * span);
          assert.equal(l.get(key), find(key));
          assert.equal(l.ceiling(key), model.find((i) => i.key >= key));
        } else {
          // A walk from a random key that deletes some of what it visits (XAUTOCLAIM on deleted entries).
          const from = rand() < 0.2 ? undefined : Math.floor(rand() * span);
          const limit = 1 + Math.floor(rand() * 600);
          const seen: Item[] = [];
          l.forEachFrom(from, (item) => {
            seen.push(item);
            if (rand() < 0.4) l.delete(item.key);
            return seen.length < limit;
          });
          const expected = model.filter((i) => from === undefined || i.key >= from).slice(0, limit);
          assert.deepEqual(seen, expected, `walk at seed ${seed} step ${step}`);
          model = model.filter((i) => l.get(i.key) === i);
        }
        check(step);
      }
    });
  }

  for (const seed of [9, 10]) {
    it(`holds thousands of items over many chunks, seed ${seed}`, () => {
      const rand = rng(seed);
      const l = list();
      const model = new Map<number, Item>();
      for (let step = 0; step < 6000; step++) {
        const key = Math.floor(rand() * 20000);
        const item = makeItem(key, step);
        assert.equal(l.insert(item), !model.has(key));
        if (!model.has(key)) model.set(key, item);
      }
      const sorted = () => [...model.values()].sort((a, b) => a.key - b.key);
      assert.deepEqual([...l], sorted());
      for (let step = 0; step < 8000; step++) {
        const key = Math.floor(rand() * 20000);
        if (step % 2 === 0) {
          assert.equal(l.delete(key), model.get(key), `delete ${key}`);
          model.delete(key);
        } else assert.equal(l.get(key), model.get(key), `get ${key}`);
        if (step % 1000 === 0) assert.equal(l.ceiling(key)?.key, sorted().find((i) => i.key >= key)?.key);
      }
      assert.deepEqual([...l], sorted());
      assert.equal(l.size, model.size);
    });
  }

  for (const seed of [11, 12, 13]) {
    it(`stays whole as deleted items go stale, are replaced and are swept, seed ${seed}`, () => {
      const rand = rng(seed);
      const l = list();
      const model = new Map<number, Item>();
      const sorted = () => [...model.values()].sort((a, b) => a.key - b.key);
      for (let key = 0; key < 3000; key++) {
        const item = makeItem(key, key);
        l.insert(item);
        model.set(key, item);
      }
      for (let round = 0; round < 12; round++) {
        // Acknowledged in order from the front (consumers keeping up), at random (the bench's XACK), or
        // mostly from the back; then some of those keys delivered again (XGROUP SETID, XCLAIM back).
        const mode = round % 3;
        const deleted: number[] = [];
        for (let k = 0; k < 700; k++) {
          const keys = [...model.keys()];
          if (keys.length === 0) break;
          keys.sort((a, b) => a - b);
          const key = mode === 0
            ? keys[0]
            : mode === 1
            ? keys[Math.floor(rand() * keys.length)]
            : keys[Math.max(0, keys.length - 1 - Math.floor(rand() * 3))];
          assert.equal(l.delete(key), model.get(key));
          model.delete(key);
          deleted.push(key);
          if (k % 97 === 0) {
            assert.equal(l.first(), sorted()[0], `first, seed ${seed} round ${round}`);
            assert.equal(l.last(), sorted().at(-1), `last, seed ${seed} round ${round}`);
          }
        }
        for (const key of deleted) {
          if (rand() < 0.5) continue;
          const item = makeItem(key, 10000 * round + key);
          assert.equal(l.insert(item), true);
          model.set(key, item);
        }
        assert.equal(l.size, model.size);
        assert.deepEqual([...l], sorted(), `seed ${seed} round ${round}`);
        // A walk that deletes every other item it visits, from a random key.
        const from = Math.floor(rand() * 3000);
        const seen: Item[] = [];
        let n = 0;
        l.forEachFrom(from, (item) => {
          seen.push(item);
          if (n++ % 2 === 0) {
            l.delete(item.key);
            model.delete(item.key);
          }
          return seen.length < 400;
        });
        assert.deepEqual(seen.map((i) => i.key), [...seen].sort((a, b) => a.key - b.key).map((i) => i.key));
        assert.ok(seen.every((i) => i.key >= from));
        assert.deepEqual([...l], sorted(), `after the walk, seed ${seed} round ${round}`);
        for (const item of l) {
          if (rand() < 0.3) {
            l.delete(item.key);
            model.delete(item.key);
          }
        }
        assert.deepEqual([...l], sorted(), `after deleting while iterating, seed ${seed} round ${round}`);
        assert.equal(l.ceiling(from), sorted().find((i) => i.key >= from));
      }
    });
  }

  it("orders a PEL's stream IDs across 2^53 and up to 2^64 - 1", () => {
    const rand = rng(7);
    const parts: Array<number | bigint> = [
      0,
      1,
      2047,
      2048,
      2 ** 42 - 1,
      2 ** 42,
      2 ** 53 - 2,
      2 ** 53 - 1,
      2n ** 53n,
      2n ** 53n + 1n,
      2n ** 60n,
      U64_MAX - 1n,
      U64_MAX,
    ];
    const pick = () => parts[Math.floor(rand() * parts.length)];
    const pel = new GroupPel();
    const consumer = new StreamConsumer("c", 0);
    let model: PendingEntry[] = [];
    for (let step = 0; step < 3000; step++) {
      const id: StreamId = { ms: pick(), seq: pick() };
      const had = model.find((e) => compareIds(e.id, id) === 0);
      if (rand() < 0.6) {
        const e = new PendingEntry(id, 0, 1, consumer);
        assert.equal(pel.add(e), had === undefined);
        if (had === undefined) model = [...model, e].sort((a, b) => compareIds(a.id, b.id));
      } else {
        assert.equal(pel.delete(id), had);
        model = model.filter((e) => e !== had);
      }
      assert.equal(pel.get(id), model.find((e) => compareIds(e.id, id) === 0));
    }
    assert.ok(model.length > 40);
    assert.deepEqual([...pel], model);
  });

  for (const seed of [21, 22, 23]) {
    it(`keeps each consumer's PEL as the group hands entries around, seed ${seed}`, () => {
      const rand = rng(seed);
      const g = new StreamGroup("g", { ms: 0, seq: 0 });
      const consumers = ["a", "b", "c"].map((name) => g.createConsumer(name, 0)!);
      /** The model: pending ID -> its entry; the entry's consumer says whose it is. */
      const pending = new Map<number, PendingEntry>();
      const id = (key: number): StreamId => ({ ms: 1_700_000_000_000 + key, seq: key % 3 });
      const check = (step: number) => {
        const sorted = [...pending.values()].sort((x, y) => compareIds(x.id, y.id));
        assert.deepEqual([...g.pel], sorted, `group, seed ${seed} step ${step}`);
        for (const consumer of consumers) {
          const own = sorted.filter((e) => e.consumer === consumer);
          assert.deepEqual([...consumer.pel], own, `consumer ${consumer.name}, seed ${seed} step ${step}`);
          assert.equal(consumer.pel.size, own.length);
          assert.equal(consumer.pel.first(), own[0]);
          assert.equal(consumer.pel.last(), own.at(-1));
        }
      };
      for (let step = 0; step < 6000; step++) {
        const key = Math.floor(rand() * 1500);
        const consumer = consumers[Math.floor(rand() * consumers.length)];
        const had = pending.get(key);
        const r = rand();
        if (r < 0.4) {
          // XREADGROUP (or XCLAIM FORCE): a new entry, or the pending one handed to consumer.
          const e = g.deliver(id(key), consumer, step);
          if (had !== undefined) assert.equal(e, had);
          assert.equal(e.consumer, consumer);
          pending.set(key, e);
        } else if (r < 0.7) {
          assert.equal(g.ack(id(key)), had !== undefined);
          pending.delete(key);
        } else if (r < 0.9) {
          // XCLAIM: back and forth between consumers, so stale copies come back to life.
          if (had !== undefined) g.moveTo(had, consumer);
        } else if (had !== undefined) {
          g.forget(had);
          pending.delete(key);
        }
        if (step % 250 === 0) check(step);
      }
      check(6000);
      // A walk over one consumer's PEL that acknowledges as it goes (XAUTOCLAIM dropping deleted entries).
      const walked = consumers[0];
      const seen: PendingEntry[] = [];
      walked.pel.forEachFrom(undefined, (e) => {
        seen.push(e);
        if (seen.length % 2 === 0) {
          g.ack(e.id);
          pending.delete(Number(e.id.ms) - 1_700_000_000_000);
        }
      });
      assert.ok(seen.length > 50);
      check(6001);
      const before = g.pel.size;
      const gone = g.deleteConsumer(consumers[1]);
      for (const [key, e] of pending) if (e.consumer === consumers[1]) pending.delete(key);
      assert.equal(g.pel.size, before - gone);
      consumers.splice(1, 1);
      check(6002);
    });
  }
});

describe("HashIndex", () => {
  for (const seed of [31, 32]) {
    it(`matches a Map as it grows and shrinks, seed ${seed}`, () => {
      const rand = rng(seed);
      const index = new HashIndex<number>();
      const model = new Map<number | string, number>();
      // Small integers, stream IDs' index form (ms * 2048 + seq, past 2^32 and near 2^53), and strings.
      const keyOf = (): number | string => {
        const r = rand();
        const n = Math.floor(rand() * 4000);
        if (r < 0.4) return n;
        if (r < 0.8) return (1_700_000_000_000 + n) * 2048 + (n % 5);
        if (r < 0.9) return 2 ** 53 - 1 - n;
        return `${n}-x`;
      };
      for (let step = 0; step < 60000; step++) {
        // Mostly adds for the first third, then mostly deletes, then mixed: the table grows and shrinks.
        const phase = step < 20000 ? 0.75 : step < 40000 ? 0.2 : 0.5;
        const key = keyOf();
        if (rand() < phase) {
          assert.equal(index.add(key, step), !model.has(key), `add ${key}`);
          if (!model.has(key)) model.set(key, step);
        } else {
          assert.equal(index.delete(key), model.get(key), `delete ${key}`);
          model.delete(key);
        }
        assert.equal(index.get(key), model.get(key));
        if (step % 5000 === 0) {
          assert.equal(index.size, model.size);
          for (const [k, v] of model) assert.equal(index.get(k), v, `get ${k} at step ${step}`);
        }
      }
      for (const k of [...model.keys()]) assert.equal(index.delete(k), model.get(k));
      assert.equal(index.size, 0);
      assert.equal(index.get(0), undefined);
    });
  }
});
