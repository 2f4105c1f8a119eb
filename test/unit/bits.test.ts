/**
 * The word-at-a-time bitmap code (core/types/bits.ts) against plain bit by
 * bit definitions, on random bytes at every alignment of the buffer, and
 * the bit field overflow rules on their edges.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import {
  bitop,
  type BitOp,
  findBit,
  fitField,
  popcount,
  popcountSwar,
  readField,
  writeField,
} from "../../core/types/bits.ts";
import { POPCOUNT_CHUNK, wasmPopcount } from "../../core/util/popcount-wasm.ts";
import { rng } from "../lib/diff.ts";

const bitAt = (b: Uint8Array, i: number) => (Math.floor(i / 8) < b.length ? (b[Math.floor(i / 8)] >> (7 - (i & 7))) & 1 : 0);

/** Random bytes as a view at offset `shift` of a larger buffer, mostly runs of 0x00 / 0xff so searches skip words. */
function sample(r: () => number, n: number, shift: number): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(n + shift + 3), shift, n);
  const fill = r() < 0.5 ? 0 : 0xff;
  for (let i = 0; i < n; i++) out[i] = r() < 0.9 ? fill : Math.floor(r() * 256);
  return out;
}

it("popcount and findBit agree with bit by bit counting and searching at every alignment", () => {
  const seed = 1234;
  const r = rng(seed);
  for (let round = 0; round < 400; round++) {
    const n = Math.floor(r() * 90);
    const b = sample(r, n, round & 3);
    const from = Math.floor(r() * (n + 1));
    const to = from + Math.floor(r() * (n - from + 1));
    let ones = 0;
    for (let i = from * 8; i < to * 8; i++) ones += bitAt(b, i);
    assert.equal(popcount(b, from, to), ones, `seed ${seed} round ${round}`);
    for (const bit of [0, 1]) {
      let want = bit ? -1 : (to - from) * 8;
      for (let i = from * 8; i < to * 8; i++) {
        if (bitAt(b, i) === bit) {
          want = i - from * 8;
          break;
        }
      }
      assert.equal(findBit(b, from, to, bit), want, `seed ${seed} round ${round} bit ${bit}`);
    }
  }
});

it("popcount counts by WebAssembly, and in JavaScript the same, across its memory's chunks and at every alignment", () => {
  assert.ok(wasmPopcount !== null, "every runtime tested has WebAssembly");
  const r = rng(99);
  for (let round = 0; round < 60; round++) {
    const n = round < 50 ? Math.floor(r() * 300) : POPCOUNT_CHUNK * 2 + Math.floor(r() * 5000);
    const b = new Uint8Array(new ArrayBuffer(n + 8), round & 7, n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
    const from = Math.floor(r() * Math.min(n + 1, 40));
    const to = n - Math.floor(r() * Math.min(n - from + 1, 40));
    let ones = 0;
    for (let i = from; i < to; i++) for (let v = b[i]; v; v &= v - 1) ones++;
    assert.equal(popcount(b, from, to), ones, `round ${round}`);
    assert.equal(popcountSwar(b, from, to), ones, `round ${round}`);
  }
});

it("bitop pads shorter sources with zeros and works on unaligned views", () => {
  const r = rng(99);
  for (let round = 0; round < 200; round++) {
    const op = (["and", "or", "xor", "not"] as BitOp[])[round & 3];
    const count = op === "not" ? 1 : 1 + Math.floor(r() * 4);
    const srcs = Array.from({ length: count }, (_, i) => sample(r, Math.floor(r() * 70), (round + i) & 3));
    const max = Math.max(...srcs.map((s) => s.length));
    const want = new Uint8Array(max);
    for (let j = 0; j < max; j++) {
      const at = (s: Uint8Array) => (j < s.length ? s[j] : 0);
      let v = at(srcs[0]);
      if (op === "not") v = ~v & 0xff;
      for (const s of srcs.slice(1)) v = op === "and" ? v & at(s) : op === "or" ? v | at(s) : v ^ at(s);
      want[j] = v;
    }
    assert.deepEqual(bitop(op, srcs), want, `round ${round} ${op}`);
  }
});

it("readField and writeField address bits from the most significant bit of the first byte", () => {
  const b = new Uint8Array(3);
  writeField(b, 7, 5, 23n);
  assert.deepEqual([...b], [0b00000001, 0b01110000, 0]);
  assert.equal(readField(b, 7, 5), 23n);
  assert.equal(readField(b, 20, 64), 0n, "past the end reads zeros");
  const wide = new Uint8Array(9);
  writeField(wide, 3, 64, -1n);
  assert.deepEqual([...wide], [0x1f, 255, 255, 255, 255, 255, 255, 255, 0xe0]);
  assert.equal(readField(wide, 3, 64), 2n ** 64n - 1n);
});

it("fitField follows Redis's overflow rules", () => {
  const i8 = { signed: true, bits: 8 };
  const u8 = { signed: false, bits: 8 };
  const i64 = { signed: true, bits: 64 };
  assert.equal(fitField(100n, 100n, i8, "wrap"), -56n);
  assert.equal(fitField(100n, 100n, i8, "sat"), 127n);
  assert.equal(fitField(-100n, -100n, i8, "sat"), -128n);
  assert.equal(fitField(100n, 100n, i8, "fail"), null);
  assert.equal(fitField(-1n, 0n, u8, "sat"), 255n, "a negative SET is a huge uint64");
  assert.equal(fitField(-1n, 0n, u8, "wrap"), 255n);
  assert.equal(fitField(5n, -10n, u8, "sat"), 0n);
  assert.equal(fitField(5n, -10n, u8, "wrap"), 251n);
  assert.equal(fitField(2n ** 63n - 1n, 1n, i64, "wrap"), -(2n ** 63n));
  assert.equal(fitField(-(2n ** 63n), -1n, i64, "sat"), -(2n ** 63n));
  assert.equal(fitField(3n, 4n, u8, "fail"), 7n);
});
