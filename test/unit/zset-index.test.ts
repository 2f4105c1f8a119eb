/**
 * The sorted set's index against a naive sorted array: after random inserts
 * and deletions (fixed seeds, sets from a few members to thousands, so many
 * leaves split and merge), every rank, pair at a rank, prefix count, score
 * walk and forward and backward walk must agree. The sorted set's listpack
 * form is checked the same way, across its conversion to the index.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ZsetIndex } from "../../core/types/zset-index.ts";
import { ZSet } from "../../core/types/zset.ts";
import { rng } from "../lib/diff.ts";

type Entry = [score: number, member: string];

const cmp = (a: Entry, b: Entry) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

function randomEntry(r: () => number, spread = 300): Entry {
  const scores = [-Infinity, Infinity, 0, -0.5, 1, 2, 3.25, 1e9];
  const score = r() < 0.5 ? scores[Math.floor(r() * scores.length)] : Math.floor(r() * 50);
  return [score, "m" + Math.floor(r() * spread) + (r() < 0.1 ? "\0\xff" : "")];
}

/**
 * Mostly equal scores and members that differ past their first 12 bytes (the
 * part the index keeps as numbers), or have a char past 255 there, or are
 * prefixes of each other: orders the keys must agree with.
 */
function sameScoreEntry(r: () => number): Entry {
  const chars = ["0", "9", "\0", "\xff", "\u0100", "\u2603"];
  let member = ["", "0000", "000000000000", "000000000000\xff", "00000\u0100"][Math.floor(r() * 5)];
  const extra = Math.floor(r() * 5);
  for (let i = 0; i < extra; i++) member += chars[Math.floor(r() * chars.length)];
  if (r() < 0.3) member = member.split("").reverse().join("");
  return [r() < 0.8 ? 7 : Math.floor(r() * 3) + 6, member];
}

/** Where e goes in the sorted array a. */
function position(a: Entry[], e: Entry): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp(a[mid], e) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Applies random inserts (share `grow`) and deletes to an index and a sorted array. */
function build(seed: number, steps: number, entry: (r: () => number) => Entry, grow = 0.65) {
  const r = rng(seed);
  const index = new ZsetIndex();
  const naive: Entry[] = [];
  const present = new Set<string>();
  for (let i = 0; i < steps; i++) {
    if (r() < grow || naive.length === 0) {
      const e = entry(r);
      if (present.has(e[1])) continue;
      index.insert(e[0], e[1]);
      naive.splice(position(naive, e), 0, e);
      present.add(e[1]);
    } else {
      const at = Math.floor(r() * naive.length);
      const [victim] = naive.splice(at, 1);
      assert.equal(index.delete(victim[0], victim[1]), true);
      present.delete(victim[1]);
      assert.equal(index.delete(victim[0], victim[1]), false, "a deleted pair is gone");
    }
  }
  return { index, naive };
}

function walk(index: ZsetIndex, start: number, count: number, rev: boolean): Entry[] {
  const seen: Entry[] = [];
  index.visitRange(start, count, rev, (m, s) => seen.push([s, m]));
  return seen;
}

/** Everything the index answers, against the array. */
function agree(index: ZsetIndex, naive: Entry[]): void {
  assert.equal(index.length, naive.length);
  assert.deepEqual(walk(index, 0, naive.length, false), naive);
  assert.deepEqual(walk(index, naive.length - 1, naive.length, true), [...naive].reverse());
  naive.forEach(([score, member], i) => {
    assert.equal(index.rankOf(score, member), i, `rank of ${JSON.stringify(member)}`);
    if (i % 7 !== 0) return;
    assert.deepEqual(walk(index, i, 3, false), naive.slice(i, i + 3), `walk up from ${i}`);
    assert.deepEqual(walk(index, i, 3, true), naive.slice(Math.max(0, i - 2), i + 1).reverse(), `walk down from ${i}`);
  });
  assert.deepEqual(walk(index, naive.length, 5, false), []);
  assert.deepEqual(walk(index, -1, 5, false), []);
  for (const bound of [-Infinity, -1, 0, 1, 2.5, 3.25, 7, 10, 49, 1e9, Infinity]) {
    const below = naive.filter(([s]) => s < bound).length;
    const upTo = naive.filter(([s]) => s <= bound).length;
    assert.equal(index.countWhile((s) => s < bound), below, `count < ${bound}`);
    assert.equal(index.countWhile((s) => s <= bound), upTo, `count <= ${bound}`);
    const fromBound: Entry[] = [];
    index.visitFromScore(bound, (m, s) => fromBound.push([s, m]) === 20);
    assert.deepEqual(fromBound, naive.slice(below, below + 20), `walk from score ${bound}`);
  }
}

describe("sorted set index", () => {
  for (const [seed, spread] of [[1, 300], [2, 300], [3, 5000], [4, 20000]]) {
    it(`agrees with a sorted array (seed ${seed}, ${spread} members)`, () => {
      const { index, naive } = build(seed, spread < 1000 ? 3000 : 12000, (r) => randomEntry(r, spread));
      agree(index, naive);
    });
  }

  for (const seed of [5, 6]) {
    it(`orders equal scores by members past their keys (seed ${seed})`, () => {
      const { index, naive } = build(seed, 3000, sameScoreEntry);
      assert.ok(naive.length > 100);
      agree(index, naive);
    });
  }

  it("sorted input in either direction, then deletes from the front, the back and scattered, down to empty", () => {
    const index = new ZsetIndex();
    const naive: Entry[] = [];
    for (let i = 0; i < 2000; i++) naive.push([i, `a${i}`]);
    for (const e of naive) index.insert(e[0], e[1]);
    for (let i = 1; i <= 2000; i++) {
      const e: Entry = [-i, `b${i}`];
      index.insert(e[0], e[1]);
      naive.unshift(e);
    }
    agree(index, naive);
    const r = rng(11);
    while (naive.length > 0) {
      const pick = r();
      const at = pick < 0.3 ? 0 : pick < 0.6 ? naive.length - 1 : Math.floor(r() * naive.length);
      const [victim] = naive.splice(at, 1);
      assert.equal(index.delete(victim[0], victim[1]), true);
      if (naive.length % 500 === 0) agree(index, naive);
    }
    assert.equal(index.length, 0);
    index.insert(5, "x");
    index.insert(1, "y");
    assert.equal(index.rankOf(5, "x"), 1);
    assert.deepEqual(walk(index, 0, 2, false), [[1, "y"], [5, "x"]]);
  });
});

describe("sorted set encodings", () => {
  it("listpack and skiplist forms agree through conversion", () => {
    const r = rng(42);
    const limits = { entries: 40, value: 20 };
    const z = new ZSet();
    const naive = new Map<string, number>();
    let converted = false;
    for (let i = 0; i < 400; i++) {
      const [score, member] = randomEntry(r);
      if (r() < 0.7) {
        assert.equal(z.set(member, score, limits), !naive.has(member));
        naive.set(member, score);
      } else assert.equal(z.remove(member), naive.delete(member));
      const sorted = [...naive].map(([m, s]) => [s, m] as Entry).sort(cmp);
      assert.equal(z.size, sorted.length);
      converted ||= naive.size > limits.entries;
      assert.equal(z.encoding(), converted ? "skiplist" : "listpack");
      const seen: Entry[] = [];
      z.forEach((m, s) => seen.push([s, m]));
      assert.deepEqual(seen, sorted);
      const probe = sorted[Math.floor(r() * sorted.length)];
      if (probe) {
        assert.equal(z.rank(probe[1]), sorted.indexOf(probe));
        assert.equal(z.score(probe[1]), probe[0]);
      }
    }
    assert.equal(z.encoding(), "skiplist", "the set grew past the limit and stayed a skiplist");
  });

  it("a long member converts at once; -0 packs as 0 in a listpack only", () => {
    const limits = { entries: 128, value: 8 };
    const z = new ZSet();
    z.set("a", -0, limits);
    assert.ok(Object.is(z.score("a"), 0));
    z.set("123456789", 1, limits);
    assert.equal(z.encoding(), "skiplist");
    z.set("b", -0, limits);
    assert.ok(Object.is(z.score("b"), -0));
  });
});
