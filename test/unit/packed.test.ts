/**
 * The shared listpack buffer (core/types/packed.ts): values edited in turn
 * keep their own contents, a value's string catches up with edits made in
 * the buffer whenever it is copied or measured, and members or fields given
 * as bytes are the same as their binary strings.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HashValue } from "../../core/types/hash.ts";
import { ZSet } from "../../core/types/zset.ts";
import { rng } from "../lib/diff.ts";

const HASH = { entries: 512, value: 64 };
const ZSET = { entries: 512, value: 64 };
const b = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function hashEntries(h: HashValue): [string, string][] {
  const out: [string, string][] = [];
  h.forEach((f, v) => out.push([f, String(v)]));
  return out;
}

function zsetEntries(z: ZSet): [string, number][] {
  const out: [string, number][] = [];
  z.forEach((m, s) => out.push([m, s]));
  return out;
}

describe("packed values sharing one buffer", () => {
  it("hashes and sorted sets edited in random turns match a model", () => {
    const r = rng(7);
    const hashes = [new HashValue(), new HashValue(), new HashValue()];
    const zsets = [new ZSet(), new ZSet(), new ZSet()];
    const hashModels = hashes.map(() => new Map<string, string>());
    const zsetModels = zsets.map(() => new Map<string, number>());
    for (let step = 0; step < 3000; step++) {
      const i = Math.floor(r() * 3);
      const name = `m${Math.floor(r() * 20)}\0\xff`;
      const value = "v".repeat(Math.floor(r() * 40));
      const score = r() < 0.5 ? Math.floor(r() * 200) - 100 : (r() - 0.5) * 1e6;
      const asBytes = r() < 0.5;
      switch (Math.floor(r() * 4)) {
        case 0:
          assert.equal(hashes[i].setPairs([b(name), b(value)], 0, HASH), hashModels[i].has(name) ? 0 : 1);
          hashModels[i].set(name, value);
          break;
        case 1:
          assert.equal(hashes[i].delete(name), hashModels[i].delete(name));
          break;
        case 2:
          assert.equal(zsets[i].set(asBytes ? b(name) : name, score, ZSET), !zsetModels[i].has(name));
          zsetModels[i].set(name, score);
          break;
        default:
          assert.equal(zsets[i].remove(name), zsetModels[i].delete(name));
      }
      const j = Math.floor(r() * 3);
      assert.equal(hashes[j].size, hashModels[j].size);
      assert.equal(zsets[j].size, zsetModels[j].size);
      assert.equal(zsets[j].score(asBytes ? b(name) : name), zsetModels[j].get(name));
    }
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(hashEntries(hashes[i]), [...hashModels[i]]);
      const sorted = [...zsetModels[i]].sort(([m1, s1], [m2, s2]) => s1 - s2 || (m1 < m2 ? -1 : m1 > m2 ? 1 : 0));
      assert.deepEqual(zsetEntries(zsets[i]), sorted);
      assert.equal(hashes[i].encoding(), "listpack");
      assert.equal(zsets[i].encoding(), "listpack");
    }
  });

  it("a copy or a size taken right after an edit sees the edit, and copies stay independent", () => {
    const h = new HashValue();
    h.setPairs([b("a"), b("1"), b("b"), b("2")], 0, HASH);
    const before = h.memoryUsage();
    const copy = h.clone();
    h.set("a", "100", HASH);
    assert.equal(h.memoryUsage(), before + 2);
    assert.deepEqual(hashEntries(copy), [["a", "1"], ["b", "2"]]);
    copy.delete("a");
    assert.deepEqual(hashEntries(h), [["a", "100"], ["b", "2"]]);
    const z = new ZSet();
    z.set("x", 1.5, ZSET);
    const zcopy = z.clone();
    z.set("y", 2, ZSET);
    assert.deepEqual(zsetEntries(zcopy), [["x", 1.5]]);
    assert.deepEqual(zsetEntries(z), [["x", 1.5], ["y", 2]]);
  });

  it("overwriting a field with the same bytes is no change; counts past 127 take a longer prefix", () => {
    const h = new HashValue();
    assert.equal(h.setPairs([b("f"), b("same")], 0, HASH), 1);
    assert.equal(h.setPairs([b("f"), b("same")], 0, HASH), 0);
    assert.equal(h.get("f"), "same");
    const many = new HashValue();
    const z = new ZSet();
    for (let i = 0; i < 300; i++) {
      many.set(`f${i}`, b(String(i)), HASH);
      z.set(`m${i}`, -i, ZSET);
    }
    assert.equal(many.size, 300);
    assert.equal(z.size, 300);
    assert.equal(many.clone().get("f299"), "299");
    assert.equal(z.clone().rank("m0"), 299);
    assert.equal(many.encoding(), "listpack");
  });
});
