/**
 * The keys by cluster slot that cluster mode keeps (slot-keys.ts, lists
 * threaded through the keyspace table) against a model of a Set per slot:
 * random writes and deletes, by key and by position, that grow shards, empty
 * them and compact them (the one time entries move and the lists must be
 * relinked), keys in few slots (hash tags) and many, the lists kept from a
 * table that already held keys, and a clear.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ShardedMap } from "../../core/db/sharded-map.ts";
import { keyHashSlot } from "../../core/cluster/slot.ts";
import { rng } from "../lib/diff.ts";

function assertSlots(map: ShardedMap<number>, model: Map<string, number>): void {
  const bySlot = new Map<number, Set<string>>();
  for (const key of model.keys()) {
    const slot = keyHashSlot(key);
    if (!bySlot.has(slot)) bySlot.set(slot, new Set());
    bySlot.get(slot)!.add(key);
  }
  const slots = map.slots!;
  assert.deepEqual([...slots.slotsWithKeys()], [...bySlot.keys()].sort((a, b) => a - b));
  for (const [slot, keys] of bySlot) {
    assert.equal(slots.count(slot), keys.size, `count of slot ${slot}`);
    const listed = slots.keys(slot, Infinity);
    assert.equal(listed.length, keys.size, `keys of slot ${slot}`);
    assert.deepEqual(new Set(listed), keys);
    assert.equal(slots.keys(slot, 3).length, Math.min(3, keys.size));
  }
}

/** A key in one of `tags` hash tags (few slots, long lists), or an untagged one (slots all over). */
function keyOf(next: () => number, tags: number): string {
  const n = Math.floor(next() * 5000);
  return next() < 0.7 ? `{t${n % tags}}k${n}` : `k${n}`;
}

describe("SlotKeys", () => {
  it("matches a Set per slot through growth, deletes by key and position, compaction and clear", () => {
    const next = rng(15);
    const map = new ShardedMap<number>();
    const model = new Map<string, number>();
    // Keys before the lists are kept: keepSlots threads them.
    for (let i = 0; i < 300; i++) {
      const k = keyOf(next, 4);
      map.set(k, i);
      model.set(k, i);
    }
    map.keepSlots();
    assertSlots(map, model);
    for (let round = 0; round < 6; round++) {
      // Grow...
      for (let i = 0; i < 4000; i++) {
        const k = keyOf(next, 4);
        map.set(k, i);
        model.set(k, i);
      }
      assertSlots(map, model);
      // ...then shrink to a few keys, so shards compact: by key, and by position as eviction deletes.
      const keep = round % 2 === 0 ? 20 : 0;
      while (model.size > keep) {
        if (next() < 0.5) {
          const p = map.randomPosition();
          const k = map.keyAtPosition(p);
          map.deleteAt(p);
          model.delete(k);
        } else {
          const k = [...model.keys()][Math.floor(next() * model.size)];
          assert.equal(map.delete(k), true);
          model.delete(k);
        }
        if (model.size % 500 === 0) assertSlots(map, model);
      }
      assert.equal(map.delete("absent"), false);
      assertSlots(map, model);
    }
    map.clear();
    model.clear();
    assertSlots(map, model);
    map.set("{t1}again", 1);
    model.set("{t1}again", 1);
    assertSlots(map, model);
  });
});
