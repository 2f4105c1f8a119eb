/**
 * OrderedList (consumer-group PELs) against a plain sorted array: random
 * inserts (appends, duplicates, inserts in the middle), deletes, lookups,
 * seeks and walks that delete as they go (lists of a few dozen items); lists
 * of thousands over many chunks, which split and empty; and a PEL keyed by
 * stream IDs whose parts pass 2^53 and reach 2^64 - 1. Seeds are fixed and
 * printed on failure.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OrderedList } from "../../core/types/ordered-list.ts";
import { newPel, type PendingEntry, StreamConsumer } from "../../core/types/stream-groups.ts";
import { compareIds, type StreamId, U64_MAX } from "../../core/types/stream-id.ts";
import { rng } from "../lib/diff.ts";

interface Item {
  key: number;
  tag: number;
}

const list = () => new OrderedList<Item, number>((i) => i.key, (a, b) => a - b, (k) => k);

describe("OrderedList", () => {
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
          const item = { key, tag: step };
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
        const item = { key, tag: step };
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
        const item = { key, tag: key };
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
          const item = { key, tag: 10000 * round + key };
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
      2 ** 53 - 2,
      2 ** 53 - 1,
      2n ** 53n,
      2n ** 53n + 1n,
      2n ** 60n,
      U64_MAX - 1n,
      U64_MAX,
    ];
    const pick = () => parts[Math.floor(rand() * parts.length)];
    const pel = newPel();
    const consumer = new StreamConsumer("c", 0);
    let model: PendingEntry[] = [];
    for (let step = 0; step < 3000; step++) {
      const id: StreamId = { ms: pick(), seq: pick() };
      const had = model.find((e) => compareIds(e.id, id) === 0);
      if (rand() < 0.6) {
        const e: PendingEntry = { id, deliveryTime: 0, deliveryCount: 1, consumer };
        assert.equal(pel.insert(e), had === undefined);
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
});
