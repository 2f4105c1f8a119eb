/**
 * The stream type's pure parts: 64-bit ID arithmetic at its edges, the
 * node codec checked against the RDB listpack reader (the layout Redis's
 * t_stream.c writes: master entry, delta IDs, SAMEFIELDS, lp-count, integer
 * encodings at each width), tombstones and counters, range walks in both
 * directions against a plain model, and trims by MAXLEN and MINID.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  compareIds, decrId, formatId, incrId, MAX_ID, MIN_ID, parseId, Stream, type StreamId, StreamNode, U64_MAX,
} from "../../core/types/stream.ts";
import { decodeIdKey, encodeIdKey } from "../../core/types/stream-id.ts";
import { listpackEntries } from "../../core/persist/rdb/listpack.ts";
import { rng } from "../lib/diff.ts";

const LIMITS = { maxBytes: 4096, maxEntries: 100 };
const id = (ms: number | bigint, seq: number | bigint): StreamId => ({ ms, seq });

describe("stream IDs", () => {
  it("compare, increment and decrement across 2^53 and 2^64", () => {
    assert.deepEqual(incrId(id(5, 2 ** 53 - 1)), id(5, 2n ** 53n));
    assert.deepEqual(incrId(id(5, U64_MAX)), id(6, 0));
    assert.equal(incrId(MAX_ID), null);
    assert.deepEqual(decrId(id(6, 0)), id(5, U64_MAX));
    assert.equal(decrId(MIN_ID), null);
    assert.equal(compareIds(id(2n ** 60n, 0), id(2 ** 52, U64_MAX)), 1);
    assert.equal(compareIds(id(1, 2), id(1, 2)), 0);
    assert.equal(formatId(MAX_ID), "18446744073709551615-18446744073709551615");
    assert.deepEqual(parseId("18446744073709551615-*", 0, true), { ms: U64_MAX, seq: -1 });
    assert.equal(parseId("18446744073709551616", 0), null);
    assert.deepEqual(decodeIdKey(encodeIdKey(id(2n ** 63n + 5n, 9007199254740993n))), id(2n ** 63n + 5n, 9007199254740993n));
  });
});

describe("stream nodes", () => {
  it("lay entries out as Redis does: master entry, delta IDs, SAMEFIELDS, lp-count, integers at every width", () => {
    const values = ["0", "127", "128", "-4096", "4095", "-4097", "32767", "32768", "8388607", "8388608", "2147483648", "-9223372036854775808", "01", "x"];
    const node = StreamNode.create(10, 5, ["a", "1", "b", "2"], 4096);
    node.append(10, 5, ["a", "1", "b", "2"]);
    node.append(12, 0, ["a", values[1], "b", values[2]]);
    node.append(12, 7, ["c", "x"]);
    for (let i = 0; i < values.length; i++) node.append(13 + i, 0, ["v", values[i]]);
    const e = listpackEntries(node.listpack(), true)!;
    assert.deepEqual(e.slice(0, 6), [String(3 + values.length), "0", "2", "a", "b", "0"]);
    assert.deepEqual(e.slice(6, 12), ["2", "0", "0", "1", "2", "5"]); // SAMEFIELDS, delta 0-0, values, lp-count 2+3
    assert.deepEqual(e.slice(12, 18), ["2", "2", "-5", "127", "128", "5"]);
    assert.deepEqual(e.slice(18, 25), ["0", "2", "2", "1", "c", "x", "6"]); // fields of its own: num-fields then pairs, lp-count 2*1+4
    for (let i = 0; i < values.length; i++) assert.deepEqual(e.slice(25 + 7 * i, 32 + 7 * i), ["0", String(3 + i), "-5", "1", "v", values[i], "6"]);
    node.markDeleted(node.firstEntryPos());
    assert.deepEqual(listpackEntries(node.listpack(), true)!.slice(0, 7), [String(2 + values.length), "1", "2", "a", "b", "0", "3"]);
  });

  it("a count that outgrows its 7-bit encoding moves the rest of the node", () => {
    const node = StreamNode.create(1, 0, ["f", "v"], 0);
    for (let i = 0; i < 200; i++) node.append(1, i, ["f", String(i)]);
    assert.equal(listpackEntries(node.listpack(), true)![0], "200");
    const walked: string[] = [];
    node.walk((p, _f, ms, seq) => void walked.push(`${ms}-${seq}:${node.fields(p)[1]}`));
    assert.deepEqual(walked, Array.from({ length: 200 }, (_, i) => `1-${i}:${i}`));
  });
});

describe("Stream", () => {
  it("ranges, deletions and trims match a plain model (random, fixed seed)", () => {
    for (const seed of [1, 2, 3]) {
      const r = rng(seed);
      const s = new Stream();
      const model: Array<[string, string[]]> = [];
      let ms = 1;
      for (let step = 0; step < 3000; step++) {
        const roll = r();
        if (roll < 0.7) {
          ms += Math.floor(r() * 2);
          const next = incrId(s.lastId)!;
          const nid = ms > Number(next.ms) ? id(ms, 0) : next;
          const fv = r() < 0.5 ? ["a", String(step)] : ["k" + (step % 3), String(step), "z", ""];
          s.add(nid, fv, { maxBytes: 300, maxEntries: 7 });
          model.push([formatId(nid), fv]);
        } else if (roll < 0.85 && model.length) {
          const victim = model[Math.floor(r() * model.length)][0];
          const [a, b] = victim.split("-").map(Number);
          assert.equal(s.deleteIds([id(a, b)]), 1, `seed ${seed}`);
          model.splice(model.findIndex(([k]) => k === victim), 1);
        } else if (roll < 0.9) {
          const keep = Math.floor(r() * 50);
          const n = s.trim({ maxlen: keep, approx: false, limit: 0 });
          assert.equal(n, Math.max(0, model.length - keep));
          model.splice(0, n);
        }
        assert.equal(s.length, model.length);
      }
      const fwd: Array<[string, string[]]> = [];
      s.forEach((i, f) => void fwd.push([formatId(i), f]));
      assert.deepEqual(fwd, model, `seed ${seed}`);
      const back: string[] = [];
      s.range(MIN_ID, MAX_ID, true, (i) => void back.push(formatId(i)));
      assert.deepEqual(back, model.map(([k]) => k).reverse());
      if (model.length) assert.equal(formatId(s.firstId), model[0][0]);
    }
  });

  it("reads that stop part way (a reader taking the next entry, lookups) match a model between writes", () => {
    // Nodes of up to 300 entries: their live and deleted counts outgrow the 7-bit encoding, moving entries.
    const limits = { maxBytes: 0, maxEntries: 300 };
    const key = (i: StreamId) => formatId(i);
    for (const seed of [4, 5, 6]) {
      const r = rng(seed);
      const s = new Stream();
      const model: Array<{ ms: number; seq: number; v: string }> = [];
      const after = (ms: number, seq: number) => model.find((e) => e.ms > ms || (e.ms === ms && e.seq > seq));
      let ms = 1;
      let cursor = { ms: 0, seq: 0 };
      for (let step = 0; step < 6000; step++) {
        const roll = r();
        if (roll < 0.55) {
          ms += r() < 0.1 ? 1 : 0;
          const next = incrId(s.lastId)!;
          const nid = ms > Number(next.ms) ? id(ms, 0) : next;
          s.add(nid, ["f", String(step)], limits);
          model.push({ ms: Number(nid.ms), seq: Number(nid.seq), v: String(step) });
        } else if (roll < 0.65 && model.length) {
          const [victim] = model.splice(Math.floor(r() * model.length), 1);
          assert.equal(s.deleteIds([id(victim.ms, victim.seq)]), 1);
        } else if (roll < 0.66) {
          const n = s.trim({ maxlen: model.length - Math.floor(r() * 20), approx: false, limit: 0 });
          model.splice(0, n);
        } else if (roll < 0.9) {
          const got: string[] = [];
          s.range(incrId(id(cursor.ms, cursor.seq))!, MAX_ID, false, (i, f) => {
            got.push(`${key(i)} ${f[1]}`);
            return false;
          });
          const want = after(cursor.ms, cursor.seq);
          assert.deepEqual(got, want ? [`${want.ms}-${want.seq} ${want.v}`] : [], `seed ${seed} step ${step}`);
          cursor = want ?? { ms: 0, seq: 0 };
        } else if (model.length) {
          const e = model[Math.floor(r() * model.length)];
          assert.deepEqual(s.get(id(e.ms, e.seq)), ["f", e.v], `seed ${seed} step ${step}`);
          assert.equal(s.has(id(e.ms, e.seq + 1)), model.some((o) => o.ms === e.ms && o.seq === e.seq + 1));
        }
      }
    }
  });
});
