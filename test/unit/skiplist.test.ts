/**
 * The skiplist against a naive sorted array: after random inserts and
 * deletions (fixed seeds), every rank, node-at-rank, score-range count,
 * forward and backward walk must agree. The sorted set's listpack form is
 * checked the same way, across its conversion to a skiplist.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SkipList } from "../../core/types/skiplist.ts";
import { ZSet } from "../../core/types/zset.ts";
import { rng } from "../lib/diff.ts";

type Entry = [score: number, member: string];

const cmp = (a: Entry, b: Entry) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

function randomEntry(r: () => number): Entry {
  const scores = [-Infinity, Infinity, 0, -0.5, 1, 2, 3.25, 1e9];
  const score = r() < 0.5 ? scores[Math.floor(r() * scores.length)] : Math.floor(r() * 50);
  return [score, "m" + Math.floor(r() * 300) + (r() < 0.1 ? "\0\xff" : "")];
}

/**
 * Mostly equal scores and members that differ past their first 12 bytes (the
 * part a node keeps as keys), or have a char past 255 there, or are prefixes
 * of each other: orders the keys must agree with.
 */
function sameScoreEntry(r: () => number): Entry {
  const chars = ["0", "9", "\0", "\xff", "\u0100", "\u2603"];
  let member = ["", "0000", "000000000000", "000000000000\xff"][Math.floor(r() * 4)];
  const extra = Math.floor(r() * 5);
  for (let i = 0; i < extra; i++) member += chars[Math.floor(r() * chars.length)];
  if (r() < 0.3) member = member.split("").reverse().join("");
  return [r() < 0.8 ? 7 : Math.floor(r() * 3) + 6, member];
}

/** Applies random inserts/deletes to a skiplist and a sorted array. */
function build(seed: number, steps: number, entry = randomEntry): { list: SkipList; naive: Entry[] } {
  const r = rng(seed);
  const list = new SkipList();
  let naive: Entry[] = [];
  for (let i = 0; i < steps; i++) {
    if (r() < 0.65 || naive.length === 0) {
      const e = entry(r);
      if (naive.some((x) => x[1] === e[1])) continue;
      list.insert(e[0], e[1]);
      naive.push(e);
      naive.sort(cmp);
    } else {
      const victim = naive[Math.floor(r() * naive.length)];
      assert.equal(list.delete(victim[0], victim[1]), true);
      naive = naive.filter((x) => x !== victim);
      assert.equal(list.delete(victim[0], victim[1]), false, "a deleted pair is gone");
    }
  }
  return { list, naive };
}

describe("skiplist", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`agrees with a sorted array (seed ${seed})`, () => {
      const { list, naive } = build(seed, 3000);
      assert.equal(list.length, naive.length);
      const forward: Entry[] = [];
      for (let n = list.first; n !== null; n = n.n0) forward.push([n.score, n.member]);
      assert.deepEqual(forward, naive);
      const backward: Entry[] = [];
      for (let n = list.tail; n !== null; n = n.backward) backward.push([n.score, n.member]);
      assert.deepEqual(backward, [...naive].reverse());
      naive.forEach(([score, member], i) => {
        assert.equal(list.rankOf(score, member), i, `rank of ${member}`);
        const n = list.at(i)!;
        assert.deepEqual([n.score, n.member], [score, member], `node at ${i}`);
      });
      assert.equal(list.at(naive.length), null);
      assert.equal(list.at(-1), null);
      for (const bound of [-Infinity, -1, 0, 1, 2.5, 3.25, 10, 49, 1e9, Infinity]) {
        const below = naive.filter(([s]) => s < bound).length;
        const upTo = naive.filter(([s]) => s <= bound).length;
        assert.equal(list.countWhile((s) => s < bound), below, `count < ${bound}`);
        assert.equal(list.countWhile((s) => s <= bound), upTo, `count <= ${bound}`);
      }
    });
  }

  for (const seed of [5, 6]) {
    it(`orders equal scores by members past their keys (seed ${seed})`, () => {
      const { list, naive } = build(seed, 3000, sameScoreEntry);
      assert.ok(naive.length > 100);
      const forward: Entry[] = [];
      for (let n = list.first; n !== null; n = n.n0) forward.push([n.score, n.member]);
      assert.deepEqual(forward, naive);
      naive.forEach(([score, member], i) => assert.equal(list.rankOf(score, member), i, `rank of ${JSON.stringify(member)}`));
    });
  }

  it("deletes down to empty and refills", () => {
    const { list, naive } = build(9, 500);
    for (const [s, m] of naive) assert.equal(list.delete(s, m), true);
    assert.equal(list.length, 0);
    assert.equal(list.first, null);
    assert.equal(list.tail, null);
    list.insert(5, "x");
    list.insert(1, "y");
    assert.equal(list.rankOf(5, "x"), 1);
    assert.equal(list.at(0)!.member, "y");
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
