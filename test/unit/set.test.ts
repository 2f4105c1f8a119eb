/**
 * The set building blocks on their own: the intset keeps members sorted and
 * widens 16 -> 32 -> 64 bits as Redis's does; SetValue converts one way;
 * DenseTable's downward SCAN cursor never misses a member that stays.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { IntSet } from "../../core/types/intset.ts";
import { SetValue } from "../../core/types/set.ts";
import { DenseTable } from "../../core/types/dense.ts";
import { rng } from "../lib/diff.ts";

describe("IntSet", () => {
  it("stays sorted and widens to 32 and 64 bits, negative and positive", () => {
    const s = new IntSet();
    for (const v of [5n, -3n, 100n, 0n]) assert.equal(s.add(v), true);
    assert.equal(s.add(5n), false);
    assert.equal(s.width, 2);
    s.add(-40000n);
    assert.equal(s.width, 4);
    s.add(2n ** 40n);
    assert.equal(s.width, 8);
    s.add(-(2n ** 63n));
    s.add(2n ** 63n - 1n);
    const all = Array.from({ length: s.length }, (_, i) => s.textAt(i));
    assert.deepEqual(all, ["-9223372036854775808", "-40000", "-3", "0", "5", "100", "1099511627776", "9223372036854775807"]);
    assert.equal(s.has(-40000n), true);
    assert.equal(s.has(7n), false);
    assert.equal(s.remove(0n), true);
    assert.equal(s.remove(0n), false);
    assert.equal(s.length, 7);
  });

  it("agrees with a sorted reference under random adds and removes", () => {
    const random = rng(7);
    const s = new IntSet();
    const ref = new Set<bigint>();
    for (let i = 0; i < 5000; i++) {
      const scale = [100, 70000, 2 ** 40][Math.floor(random() * 3)];
      const v = BigInt(Math.floor(random() * scale * 2 - scale));
      if (random() < 0.7) {
        assert.equal(s.add(v), !ref.has(v));
        ref.add(v);
      } else assert.equal(s.remove(v), ref.delete(v));
    }
    const expected = [...ref].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String);
    assert.deepEqual(Array.from({ length: s.length }, (_, i) => s.textAt(i)), expected);
  });
});

describe("SetValue", () => {
  it("is an intset until a non-integer or too many members, then a hashtable for good", () => {
    const s = new SetValue();
    for (const m of ["3", "1", "2"]) s.add(m, 4);
    assert.equal(s.encoding(), "intset");
    assert.deepEqual(s.members(), ["1", "2", "3"]);
    for (const m of ["01", "-0", "+1", " 1", "9223372036854775808"]) {
      const t = new SetValue();
      t.add(m, 512);
      assert.equal(t.encoding(), "hashtable", m);
    }
    s.add("4", 4);
    assert.equal(s.encoding(), "intset");
    s.add("5", 4);
    assert.equal(s.encoding(), "hashtable");
    s.remove("5");
    s.remove("4");
    assert.equal(s.encoding(), "hashtable");
    assert.equal(s.has("1"), true);
    const copy = s.clone();
    s.remove("1");
    assert.equal(copy.has("1"), true);
  });
});

describe("DenseTable", () => {
  it("a SCAN with deletions and additions between steps returns every member present throughout", () => {
    const random = rng(3);
    for (let round = 0; round < 20; round++) {
      const t = new DenseTable(false);
      for (let i = 0; i < 500; i++) t.set(`m${i}`);
      const stay = new Set<string>(t.keys.filter(() => random() < 0.5));
      const seen = new Set<string>();
      let cursor = 0, next = 0;
      do {
        next = t.scanDown(cursor, 1 + Math.floor(random() * 20), (i) => seen.add(t.keys[i]));
        for (let k = 0; k < 10; k++) {
          const victim = t.keys[Math.floor(random() * t.size)];
          if (victim !== undefined && !stay.has(victim)) t.delete(victim);
        }
        t.set(`new${round}:${next}:${random()}`);
        cursor = next;
      } while (next !== 0);
      for (const m of stay) assert.ok(seen.has(m), m);
    }
  });
});
