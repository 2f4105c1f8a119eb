/**
 * Unit tests for the listpack layout and the quicklist built on it: every
 * operation is checked against a plain array model over randomized
 * sequences, with fill settings that force many small nodes, big entries
 * (2- and 5-byte length headers) and single-entry nodes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Listpack, NONE } from "../../core/types/listpack.ts";
import { ListValue } from "../../core/types/list.ts";
import { rng } from "../lib/diff.ts";
import { str } from "../../core/util/bytes.ts";

function contents(list: ListValue): string[] {
  const out: string[] = [];
  list.walk(0, false, (node, pos) => (out.push(node.string(pos)), true));
  return out;
}

function reversed(list: ListValue): string[] {
  const out: string[] = [];
  list.walk(-1, true, (node, pos) => (out.push(node.string(pos)), true));
  return out.reverse();
}

function randomValue(next: () => number): string {
  const r = next();
  const len = r < 0.6 ? Math.floor(next() * 8) : r < 0.9 ? 100 + Math.floor(next() * 200) : 16000 + Math.floor(next() * 1000);
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(next() < 0.5 ? 97 + Math.floor(next() * 3) : Math.floor(next() * 256));
  return len < 8 ? "abc".slice(0, len % 4) : s;
}

test("listpack: push, pop, walk both ways, insert, remove, replace", () => {
  const lp = new Listpack();
  const model: string[] = [];
  const next = rng(7);
  for (let step = 0; step < 3000; step++) {
    const op = Math.floor(next() * 7);
    const v = randomValue(next);
    if (op === 0) (lp.pushBack(v), model.push(v));
    else if (op === 1) (lp.pushFront(v), model.unshift(v));
    else if (op === 2 && model.length) assert.equal(str(lp.popFront()), model.shift());
    else if (op === 3 && model.length) assert.equal(str(lp.popBack()), model.pop());
    else if (op === 4) {
      const i = Math.floor(next() * (model.length + 1));
      lp.insert(i === model.length ? NONE : lp.at(i), v);
      model.splice(i, 0, v);
    } else if (op === 5 && model.length) {
      const i = Math.floor(next() * model.length);
      lp.remove(lp.at(i));
      model.splice(i, 1);
    } else if (op === 6 && model.length) {
      const i = Math.floor(next() * model.length);
      lp.replace(lp.at(i), v);
      model[i] = v;
    }
    assert.equal(lp.count, model.length);
    if (step % 50 === 0) {
      const fwd: string[] = [];
      for (let p = lp.first(); p !== NONE; p = lp.next(p)) fwd.push(lp.string(p));
      const back: string[] = [];
      for (let p = lp.last(); p !== NONE; p = lp.prev(p)) back.unshift(lp.string(p));
      assert.deepEqual(fwd, model);
      assert.deepEqual(back, model);
      for (let i = 0; i < model.length; i += 7) assert.ok(lp.equals(lp.at(i), model[i]));
    }
  }
});

test("listpack: entries live in one buffer, not as objects", () => {
  const lp = new Listpack();
  for (let i = 0; i < 100; i++) lp.pushBack("v" + i);
  assert.ok(lp.buf instanceof Uint8Array);
  assert.equal(lp.bytes, 100 * 2 + [...Array(100).keys()].reduce((a, i) => a + ("v" + i).length, 0));
  lp.dropFront(10);
  lp.dropBack(10);
  assert.equal(lp.count, 80);
  assert.equal(lp.string(lp.first()), "v10");
  assert.equal(lp.string(lp.last()), "v89");
  assert.deepEqual(lp.clone().string(lp.clone().at(5)), "v15");
});

for (const fill of [-2, -1, 1, 3, 0, -7]) {
  test(`quicklist fill ${fill}: randomized operations match an array model`, () => {
    const list = new ListValue(fill);
    const model: string[] = [];
    const next = rng(100 + fill);
    for (let step = 0; step < 4000; step++) {
      const op = Math.floor(next() * 10);
      const v = randomValue(next);
      if (op <= 1) (list.pushBack(v), model.push(v));
      else if (op <= 3) (list.pushFront(v), model.unshift(v));
      else if (op === 4 && model.length) assert.equal(str(list.popFront()), model.shift());
      else if (op === 5 && model.length) assert.equal(str(list.popBack()), model.pop());
      else if (op === 6 && model.length) {
        const i = Math.floor(next() * model.length) - (next() < 0.5 ? model.length : 0);
        assert.ok(list.set(i, v));
        model[i < 0 ? i + model.length : i] = v;
      } else if (op === 7 && model.length) {
        const pivot = model[Math.floor(next() * model.length)];
        const after = next() < 0.5;
        assert.ok(list.insertAtPivot(pivot, v, after));
        const at = model.indexOf(pivot);
        model.splice(after ? at + 1 : at, 0, v);
      } else if (op === 8 && model.length) {
        const target = model[Math.floor(next() * model.length)];
        const limit = Math.floor(next() * 3);
        const fromTail = next() < 0.5;
        let removed = 0;
        const order = fromTail ? [...model.keys()].reverse() : [...model.keys()];
        const drop = new Set<number>();
        for (const i of order) {
          if (model[i] === target && (limit === 0 || removed < limit)) (drop.add(i), removed++);
        }
        assert.equal(list.removeMatching(target, limit, fromTail), removed);
        const kept = model.filter((_, i) => !drop.has(i));
        model.length = 0;
        model.push(...kept);
      } else if (op === 9 && model.length > 4 && next() < 0.2) {
        const start = Math.floor(next() * 2);
        const stop = model.length - 1 - Math.floor(next() * 2);
        list.trim(start, stop);
        model.splice(stop + 1);
        model.splice(0, start);
      }
      assert.equal(list.size, model.length);
      if (step % 97 === 0) {
        assert.deepEqual(contents(list), model);
        assert.deepEqual(reversed(list), model);
        for (let i = 0; i < model.length; i += 5) assert.equal(str(list.at(i)!), model[i]);
        assert.equal(list.at(model.length), null);
        assert.deepEqual(contents(list.clone()), model);
      }
    }
  });
}

test("quicklist: node sizes follow the fill rule", () => {
  const byCount = new ListValue(4);
  for (let i = 0; i < 40; i++) byCount.pushBack("x");
  assert.equal(byCount.nodeCount, 10);
  const byBytes = new ListValue(-2);
  for (let i = 0; i < 1000; i++) byBytes.pushFront("y".repeat(100));
  assert.ok(byBytes.nodeCount >= 12 && byBytes.nodeCount <= 14, String(byBytes.nodeCount));
  const big = new ListValue(-2);
  for (let i = 0; i < 3; i++) big.pushBack("z".repeat(10000));
  assert.equal(big.nodeCount, 3);
  assert.equal(big.encoding(), "quicklist");
});

test("quicklist: a million elements, indexing in the middle", () => {
  const list = new ListValue(-2);
  for (let i = 0; i < 1_000_000; i++) list.pushBack(String(i));
  assert.equal(str(list.at(500_000)!), "500000");
  assert.equal(str(list.at(-1)!), "999999");
  for (let i = 0; i < 1_000_000; i++) list.pushFront("f");
  assert.equal(str(list.at(1_500_000)!), "500000");
  for (let i = 0; i < 1_999_999; i++) list.popFront();
  assert.equal(str(list.popBack()), "999999");
  assert.equal(list.size, 0);
  assert.equal(list.nodeCount, 0);
});
