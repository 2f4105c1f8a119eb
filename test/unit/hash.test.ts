/**
 * The hash type on its own: the listpack layout round-trips any bytes and
 * lengths (including multi-byte length prefixes), keeps insertion order,
 * converts one way at either limit, and field deadlines purge as documented.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HashValue } from "../../core/types/hash.ts";

const LIMITS = { entries: 512, value: 64 };
const b = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function entries(h: HashValue): [string, unknown][] {
  const out: [string, unknown][] = [];
  h.forEach((f, v) => out.push([f, String(v)]));
  return out;
}

describe("HashValue", () => {
  it("keeps insertion order, replaces in place and deletes in the listpack", () => {
    const h = new HashValue();
    assert.equal(h.set("b", b("1"), LIMITS), true);
    assert.equal(h.set("a", b("2"), LIMITS), true);
    assert.equal(h.set("c", b("3"), LIMITS), true);
    assert.equal(h.set("a", b("22"), LIMITS), false);
    assert.deepEqual(entries(h), [["b", "1"], ["a", "22"], ["c", "3"]]);
    assert.equal(h.delete("b"), true);
    assert.equal(h.delete("b"), false);
    assert.deepEqual(entries(h), [["a", "22"], ["c", "3"]]);
    assert.equal(h.size, 2);
    assert.equal(h.encoding(), "listpack");
  });

  it("round-trips binary fields and values of every length byte, across the 128-byte prefix boundary", () => {
    const h = new HashValue();
    const big = { entries: 512, value: 100_000 };
    const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    for (const n of [0, 1, 127, 128, 129, 255, 256, 16383, 16384, 70000]) {
      const value = all.repeat(Math.ceil(n / 256) + 1).slice(0, n);
      h.set(`f${n}\0\r\n\xff`, value, big);
    }
    assert.equal(h.encoding(), "listpack");
    for (const n of [0, 1, 127, 128, 129, 255, 256, 16383, 16384, 70000]) {
      const v = h.get(`f${n}\0\r\n\xff`) as string;
      assert.equal(v.length, n);
      assert.equal(v, all.repeat(Math.ceil(n / 256) + 1).slice(0, n));
    }
    assert.equal(h.get("f1"), undefined);
  });

  it("does not confuse a field with a value or a prefix of another field", () => {
    const h = new HashValue();
    h.set("key", b("field"), LIMITS);
    h.set("field2", b("x"), LIMITS);
    assert.equal(h.has("field"), false);
    assert.equal(h.has("field2"), true);
    assert.equal(h.get("key"), "field");
  });

  it("converts to a hashtable past either limit, and never back", () => {
    const h = new HashValue();
    const small = { entries: 3, value: 4 };
    h.setPairs([b("a"), b("1"), b("b"), b("2"), b("c"), b("3")], 0, small);
    assert.equal(h.encoding(), "listpack");
    h.set("d", b("4"), small);
    assert.equal(h.encoding(), "hashtable");
    h.delete("d");
    h.delete("c");
    assert.equal(h.encoding(), "hashtable");
    assert.deepEqual(entries(h).sort(), [["a", "1"], ["b", "2"]]);
    const long = new HashValue();
    long.set("f", b("12345"), small);
    assert.equal(long.encoding(), "hashtable");
    assert.equal(long.get("f"), 12345);
  });

  it("setPairs counts new fields once, with repeats and updates in one call", () => {
    const h = new HashValue();
    h.set("x", b("0"), LIMITS);
    const added = h.setPairs([b("a"), b("1"), b("x"), b("9"), b("a"), b("2"), b("b"), b("3")], 0, LIMITS);
    assert.equal(added, 2);
    assert.deepEqual(entries(h), [["x", "9"], ["a", "2"], ["b", "3"]]);
    const capped = new HashValue();
    assert.equal(capped.setPairs([b("a"), b("1"), b("b"), b("2"), b("c"), b("3")], 0, { entries: 2, value: 64 }), 3);
    assert.equal(capped.encoding(), "hashtable");
  });

  it("field deadlines: purge removes due fields only, HSET clears a deadline, clone is independent", () => {
    const h = new HashValue();
    h.setPairs([b("a"), b("1"), b("b"), b("2"), b("c"), b("3")], 0, LIMITS);
    h.setDeadline("a", 100);
    h.setDeadline("b", 200);
    h.setDeadline("c", 300);
    assert.equal(h.encoding(), "listpackex");
    h.set("c", b("33"), LIMITS);
    assert.equal(h.deadline("c"), undefined);
    const copy = h.clone();
    assert.equal(h.purgeExpired(99), 0);
    assert.equal(h.purgeExpired(150), 1);
    assert.deepEqual(entries(h), [["b", "2"], ["c", "33"]]);
    assert.equal(h.purgeExpired(1000), 1);
    assert.equal(h.hasDeadlines(), false);
    assert.equal(copy.size, 3);
    assert.equal(copy.deadline("a"), 100);
  });
});
