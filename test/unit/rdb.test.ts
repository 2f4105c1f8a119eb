/**
 * The RDB codec in-process: CRC64 and LZF against Redis's vectors, every
 * type and encoding through encoder and loader (byte-exact where Redis's
 * own bytes are known), DUMP payloads, and the errors damaged files raise.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Crc64, crc64 } from "../../core/persist/rdb/crc64.ts";
import { lzfCompress, lzfDecompress, lzfOutput } from "../../core/persist/rdb/lzf.ts";
import { ListpackWriter, listpackEntries } from "../../core/persist/rdb/listpack.ts";
import { dumpValue, restoreValue } from "../../core/persist/rdb/dump.ts";
import { serializedLength } from "../../core/persist/rdb/encoder.ts";
import { RdbLoadError } from "../../core/persist/rdb/format.ts";
import { DEFAULT_LIMITS } from "../../core/persist/rdb/reader.ts";
import { ListValue } from "../../core/types/list.ts";
import { HashValue } from "../../core/types/hash.ts";
import { SetValue } from "../../core/types/set.ts";
import { ZSet } from "../../core/types/zset.ts";
import type { Value } from "../../core/types/value.ts";
import { describeValue, loadRdb, makeRdb, type Record } from "../lib/rdb-values.ts";

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function sampleValues(): [string, Value][] {
  const out: [string, Value][] = [];
  out.push(["int", 12345], ["bigint", 9007199254740991], ["neg", -7], ["str", "hello"], ["bin", "\x00\xff\r\n"]);
  out.push(["intlike18", "123456789012345678"], ["zeros", "007"], ["long", enc("a".repeat(300))], ["long-binary", enc("xyz\x00".repeat(100))]);
  out.push(["embstr-ish", "b".repeat(44)], ["raw-ish", "c".repeat(45)]);
  const list = new ListValue(-2);
  for (let i = 0; i < 3000; i++) list.pushBack(i % 3 === 0 ? String(i - 1500) : i % 3 === 1 ? "v" + i : "x".repeat(i % 100));
  out.push(["list", list]);
  const small = new ListValue(-2);
  small.pushBack("a");
  small.pushBack("9223372036854775807");
  small.pushBack("-9223372036854775808");
  out.push(["list-small", small]);
  const h = new HashValue();
  h.set("f1", "v1", DEFAULT_LIMITS.hash);
  h.set("n", "42", DEFAULT_LIMITS.hash);
  h.set("100000", "-5000000000", DEFAULT_LIMITS.hash);
  out.push(["hash-lp", h]);
  const ht = new HashValue();
  for (let i = 0; i < 300; i++) ht.set("field" + i, i % 2 ? String(i) : "val" + i, DEFAULT_LIMITS.hash);
  out.push(["hash-ht", ht]);
  const hbig = new HashValue();
  hbig.set("k", "v".repeat(100), DEFAULT_LIMITS.hash);
  out.push(["hash-ht-value", hbig]);
  const hx = new HashValue();
  hx.set("a", "1", DEFAULT_LIMITS.hash);
  hx.set("b", "2", DEFAULT_LIMITS.hash);
  hx.setDeadline("a", 4102444800000);
  out.push(["hash-lpex", hx]);
  const hxt = new HashValue();
  for (let i = 0; i < 200; i++) hxt.set("f" + i, "v" + i, DEFAULT_LIMITS.hash);
  hxt.setDeadline("f3", 4102444800000);
  hxt.setDeadline("f7", 4102444801234);
  out.push(["hash-meta", hxt]);
  const si = new SetValue();
  for (const m of ["1", "2", "-5", "70000"]) si.add(m, 512);
  out.push(["set-intset", si]);
  const si8 = new SetValue();
  for (const m of ["1", "5000000000", "-9223372036854775808"]) si8.add(m, 512);
  out.push(["set-intset64", si8]);
  const st = new SetValue();
  for (let i = 0; i < 100; i++) st.add(i % 2 ? "m" + i : String(i), 512);
  out.push(["set-ht", st]);
  const stInts = new SetValue();
  for (let i = 0; i < 600; i++) stInts.add(String(i * 7), 512);
  out.push(["set-ht-ints", stInts]);
  const z = new ZSet();
  z.set("a", 1, DEFAULT_LIMITS.zset);
  z.set("b", 2.5, DEFAULT_LIMITS.zset);
  z.set("c", -3, DEFAULT_LIMITS.zset);
  z.set("d", 1e20, DEFAULT_LIMITS.zset);
  z.set("e", 0.1, DEFAULT_LIMITS.zset);
  z.set("inf", Infinity, DEFAULT_LIMITS.zset);
  z.set("ninf", -Infinity, DEFAULT_LIMITS.zset);
  out.push(["zset-lp", z]);
  const zs = new ZSet();
  for (let i = 0; i < 300; i++) zs.set("m" + i, i / 7, DEFAULT_LIMITS.zset);
  out.push(["zset-sl", zs]);
  return out;
}

describe("crc64", () => {
  it("matches Redis's test vectors", () => {
    assert.equal(crc64(enc("123456789")), 0xe9c6d914c4b8d9can);
  });
  it("streams: any split gives the one-shot value", () => {
    const data = new Uint8Array(1000).map((_, i) => (i * 131 + 7) & 0xff);
    const whole = crc64(data);
    for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) {
      const c = new Crc64();
      c.update(data.subarray(0, cut));
      c.update(data.subarray(cut));
      assert.equal(c.value(), whole);
    }
  });
});

describe("lzf", () => {
  /** Bytes [at, at + n) of input compressed into at most maxOut bytes (a copy), or null. */
  const compress = (input: Uint8Array, maxOut: number, at = 0, n = input.length - at) => {
    const length = lzfCompress(input, at, n, maxOut);
    return length < 0 ? null : lzfOutput().slice(0, length);
  };
  it("compresses as redis-server does", () => {
    // 76 'a': Redis writes c3 09 40 4c + these 9 bytes.
    assert.equal(hex(compress(enc("a".repeat(76)), 72)!), "016161e03f00016161");
  });
  it("round-trips and refuses what does not fit or is damaged", () => {
    for (let n = 1; n < 3000; n += 37) {
      const data = new Uint8Array(n).map((_, i) => "abcabdxyz".charCodeAt(i % 9) ^ (i % 50 === 0 ? 1 : 0));
      const c = compress(data, n + 64)!;
      assert.deepEqual(lzfDecompress(c, n), data);
      // The same bytes in the middle of a buffer whose other bytes repeat them: the same output, no match outside.
      const framed = new Uint8Array(n + 80).fill(0x61);
      framed.set(data, 40);
      assert.deepEqual(compress(framed, n + 64, 40, n), c);
    }
    assert.equal(compress(enc("abcdefghijklmnopqrstuvwxyz"), 22), null);
    assert.equal(lzfDecompress(Uint8Array.of(0xe0, 0xff, 0xff), 10), null);
    assert.equal(lzfDecompress(Uint8Array.of(5, 1), 6), null);
  });
});

describe("listpack", () => {
  it("writes Redis's bytes and reads them back", () => {
    const lp = new ListpackWriter();
    lp.reset();
    lp.entry("a");
    lp.entry("1");
    lp.entry("2.5");
    // Redis's listpack of zadd z 1 a 2.5 b, from a dump.rdb: a 1 b 2.5
    const w = new ListpackWriter();
    w.reset();
    for (const e of ["a", "1", "b", "2.5"]) w.entry(e);
    assert.equal(hex(w.finish()), "140000000400816102010181620283322e3504ff");
    for (const v of ["-1", "127", "128", "-4096", "4095", "4096", "-32769", "8388608", "2147483648", "-9223372036854775808", "x".repeat(70), "y".repeat(5000), "007", "-0"]) {
      w.reset();
      w.entry(v);
      w.entry("z");
      assert.deepEqual(listpackEntries(w.finish(), true), [v, "z"]);
    }
  });
  it("pairsFrom writes a packed collection's pairs as entry() does, from anywhere in a buffer", () => {
    const edge = ["", "-", "-5", "0", "007", "-0", "+1", "9", "12345678901234567890", "-9223372036854775808",
      "9223372036854775808", "a".repeat(63), "b".repeat(64), "c".repeat(300), "\x00\xff\r\n", "3.14", "field0"];
    const rand = (n: number) => Math.floor(Math.random() * n);
    for (let round = 0; round < 200; round++) {
      const items = Array.from({ length: 2 * (1 + rand(40)) }, () =>
        rand(3) === 0 ? edge[rand(edge.length)] : String.fromCharCode(...Array.from({ length: rand(80) }, () => rand(256))));
      // Our packed form (a varint count of pairs, then varint-length-prefixed items) behind a few bytes of something else.
      const body: number[] = [7, 7, 7];
      const varint = (n: number) => {
        for (; n >= 128; n = Math.floor(n / 128)) body.push((n & 127) | 128);
        body.push(n);
      };
      varint(items.length / 2);
      for (const item of items) {
        varint(item.length);
        for (let i = 0; i < item.length; i++) body.push(item.charCodeAt(i));
      }
      const bytes = Uint8Array.from([...body, 9, 9]);
      const fast = new ListpackWriter();
      fast.reset();
      fast.pairsFrom(bytes, 3, body.length - 3);
      const each = new ListpackWriter();
      each.reset();
      for (const item of items) each.entry(item);
      assert.equal(hex(fast.finish()), hex(each.finish()));
    }
  });
  it("refuses damaged blobs", () => {
    const w = new ListpackWriter();
    w.reset();
    w.entry("hello");
    const good = w.finish().slice();
    const bad = good.slice();
    bad[4] = 3; // wrong count: only a deep check sees it
    assert.notEqual(listpackEntries(bad, false), null);
    assert.equal(listpackEntries(bad, true), null);
    assert.equal(listpackEntries(good.subarray(0, good.length - 1), false), null);
  });
});

describe("encoder + loader", () => {
  it("round-trips every type and encoding, TTLs and dbs, in small steps", () => {
    const values = sampleValues();
    const records: Record[] = values.map(([key, value], i) => ({ db: i % 3 === 0 ? 0 : 5, key, value, expireAt: i % 4 === 0 ? 4102444800000 + i : -1 }));
    for (const compression of [true, false]) {
      const file = makeRdb(records, { compression, version: 12, functions: [enc("#!lua name=lib\nreturn 1")] });
      const got = loadRdb(file, { budget: 100 });
      assert.equal(got.aux.get("redis-ver"), "7.0.15");
      assert.deepEqual(got.functions, ["#!lua name=lib\nreturn 1"]);
      assert.equal(got.records.length, records.length);
      const byKey = new Map(got.records.map((r) => [r.key, r]));
      for (const r of records) {
        const l = byKey.get(r.key)!;
        assert.ok(l, r.key);
        assert.equal(l.db, r.db, r.key);
        assert.equal(l.expireAt, r.expireAt, r.key);
        assert.deepEqual(describeValue(l.value), describeValue(r.value), r.key);
      }
    }
  });
  it("writes strings as Redis does: int encodings, LZF, raw", () => {
    const file = makeRdb([
      { db: 0, key: "i", value: 12345, expireAt: -1 },
      { db: 0, key: "big", value: enc("a".repeat(76)), expireAt: -1 },
    ]);
    assert.ok(hex(file).includes("0001" + "69" + "c13930"), "int16-encoded 12345");
    assert.ok(hex(file).includes("0003626967" + "c309404c016161e03f00016161"), "LZF string");
  });
  it("serializedLength is the body's size", () => {
    assert.equal(serializedLength("hello"), 6);
    assert.equal(serializedLength(12345), 3);
    assert.equal(serializedLength(enc("a".repeat(76))), 13);
  });
  it("skips empty collections and applies the engine's limits", () => {
    const h = new HashValue();
    for (let i = 0; i < 10; i++) h.set("f" + i, "v", DEFAULT_LIMITS.hash);
    const z = new ZSet();
    for (let i = 0; i < 10; i++) z.set("m" + i, i, DEFAULT_LIMITS.zset);
    const s = new SetValue();
    for (let i = 0; i < 10; i++) s.add(String(i), 512);
    const file = makeRdb([{ db: 0, key: "h", value: h, expireAt: -1 }, { db: 0, key: "z", value: z, expireAt: -1 }, { db: 0, key: "s", value: s, expireAt: -1 }]);
    const limits = { ...DEFAULT_LIMITS, hash: { entries: 5, value: 64 }, zset: { entries: 5, value: 64 }, intsetEntries: 5 };
    const got = loadRdb(file, { limits });
    assert.deepEqual(got.records.map((r) => (r.value as HashValue).encoding()), ["hashtable", "skiplist", "hashtable"]);
  });
  it("refuses damaged files with redis-server's messages", () => {
    const file = makeRdb([{ db: 0, key: "k", value: "v", expireAt: -1 }]);
    const message = (bytes: Uint8Array, sanitize = false) => {
      try {
        loadRdb(bytes, { sanitize });
      } catch (e) {
        assert.ok(e instanceof RdbLoadError);
        return e.lines.join("\n");
      }
      return "loaded";
    };
    assert.match(message(file.subarray(0, file.length - 3)), /rdb\.c:3249 -> Unexpected EOF reading RDB file$/);
    const badCrc = file.slice();
    badCrc[badCrc.length - 1] ^= 1;
    assert.match(message(badCrc), /^Wrong RDB checksum expected: \([0-9a-f]+\) but got \([0-9a-f]+\)\. Aborting now\.\n.*rdb\.c:3225 -> RDB CRC error$/);
    const noCrc = file.slice();
    noCrc.fill(0, noCrc.length - 8);
    assert.equal(message(noCrc), "loaded");
    assert.equal(message(Uint8Array.from([...enc("REDIS0011"), ...file.subarray(9)])), "Can't handle RDB format version 11");
    assert.equal(message(Uint8Array.from([...enc("REDIX0010"), ...file.subarray(9)])), "Wrong signature trying to load DB from file");
  });
});

describe("DUMP payloads", () => {
  it("round-trip every value; Redis's bytes for a string", () => {
    assert.equal(hex(dumpValue("hello")), "000568656c6c6f0a00" + hex(new Crc64Bytes("000568656c6c6f0a00").bytes));
    for (const [key, v] of sampleValues()) {
      assert.deepEqual(describeValue(restoreValue(dumpValue(v))), describeValue(v), key);
    }
  });
  it("refuses wrong versions, checksums and bodies", () => {
    const p = dumpValue("hello");
    const newer = p.slice();
    newer[p.length - 10] = 11;
    assert.throws(() => restoreValue(newer), /DUMP payload version or checksum are wrong/);
    const flipped = p.slice();
    flipped[2] ^= 1;
    assert.throws(() => restoreValue(flipped), /DUMP payload version or checksum are wrong/);
    const body = Uint8Array.of(0x10, 0x05, 1, 2, 3, 4, 5, 10, 0);
    const c = new Crc64();
    c.update(body);
    assert.throws(() => restoreValue(Uint8Array.from([...body, ...c.bytes()])), /Bad data format/);
  });
});

class Crc64Bytes {
  bytes: Uint8Array;
  constructor(hexBody: string) {
    const c = new Crc64();
    c.update(Uint8Array.from(Buffer.from(hexBody, "hex")));
    this.bytes = c.bytes();
  }
}
