/**
 * The HLL codecs on their own: MurmurHash64A (in WebAssembly, and in JS
 * on 32-bit halves) against a BigInt transcription of the algorithm for
 * every tail length, the dense register packing, and the sparse form
 * checked against the dense one
 * (same registers after the same adds, same estimate, promotion by size
 * and by value) with random inputs from a fixed seed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { patLen, patLenJs } from "../../core/types/hll-hash.ts";
import { denseGet, denseSetRegister, HLL_DENSE_SIZE } from "../../core/types/hll-dense.ts";
import {
  count,
  decodeSparse,
  emptySparse,
  encodingOf,
  HLL_DENSE,
  HllEdit,
  registers,
  sparseToDense,
} from "../../core/types/hyperloglog.ts";
import { rng } from "../lib/diff.ts";

const SEED = 1206;
const MASK = (1n << 64n) - 1n;
const M = 0xc6a4a7935bd1e995n;

/** MurmurHash64A as hyperloglog.c writes it, in BigInt. */
function murmurRef(b: Uint8Array): bigint {
  let h = (0xadc83b19n ^ (BigInt(b.length) * M)) & MASK;
  const end = b.length - (b.length & 7);
  for (let p = 0; p < end; p += 8) {
    let k = 0n;
    for (let i = 7; i >= 0; i--) k = (k << 8n) | BigInt(b[p + i]);
    k = (k * M) & MASK;
    k ^= k >> 47n;
    k = (k * M) & MASK;
    h ^= k;
    h = (h * M) & MASK;
  }
  if (b.length & 7) {
    for (let i = (b.length & 7) - 1; i >= 0; i--) h ^= BigInt(b[end + i]) << BigInt(8 * i);
    h = (h * M) & MASK;
  }
  h ^= h >> 47n;
  h = (h * M) & MASK;
  h ^= h >> 47n;
  return h;
}

/** hllPatLen from the reference hash: [index, count]. */
function patLenRef(b: Uint8Array): [number, number] {
  const hash = murmurRef(b);
  let rest = (hash >> 14n) | (1n << 50n);
  let count = 1;
  while ((rest & 1n) === 0n) {
    count++;
    rest >>= 1n;
  }
  return [Number(hash & 16383n), count];
}

function randomBytes(next: () => number, max: number): Uint8Array {
  return Uint8Array.from({ length: Math.floor(next() * (max + 1)) }, () => Math.floor(next() * 256));
}

function emptyDenseHll(): Uint8Array {
  const b = new Uint8Array(HLL_DENSE_SIZE);
  b.set([72, 89, 76, 76, HLL_DENSE]);
  return b;
}

describe("HLL hash", () => {
  for (const [name, hash] of [["WebAssembly", patLen], ["JS", patLenJs]] as const) {
    it(`matches a BigInt MurmurHash64A for lengths 0..40 and long inputs (${name})`, () => {
      const next = rng(SEED);
      for (let i = 0; i < 3000; i++) {
        const b = randomBytes(next, i < 2900 ? 40 : 1000);
        // A view into the middle of a buffer, as argument views are.
        const view = new Uint8Array(b.length + 9).subarray(5, 5 + b.length);
        view.set(b);
        const packed = hash(view);
        assert.deepEqual([packed & 16383, packed >>> 14], patLenRef(b), `input ${Buffer.from(b).toString("hex")}`);
      }
    });
  }

  it("hashes an element past the WebAssembly page in JS, with the same result", () => {
    const next = rng(SEED + 1);
    const b = Uint8Array.from({ length: 70_000 }, () => Math.floor(next() * 256));
    assert.deepEqual(patLen(b), patLenJs(b));
    assert.deepEqual([patLen(b) & 16383, patLen(b) >>> 14], patLenRef(b));
  });

  it("counts up to 51 when every bit above the index is zero", () => {
    // Hashes are not invertible by hand here, so check the helper's limits through patLen's range instead.
    const next = rng(SEED + 1);
    for (let i = 0; i < 20000; i++) {
      const count = patLen(randomBytes(next, 12)) >>> 14;
      assert.ok(count >= 1 && count <= 51);
    }
  });
});

describe("HLL dense registers", () => {
  it("reads back what was written without touching neighbours", () => {
    const next = rng(SEED + 2);
    const b = emptyDenseHll();
    const want = new Uint8Array(16384);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 16384; i++) {
        want[i] = Math.floor(next() * 64);
        denseSetRegister(b, i, want[i]);
      }
      for (let i = 0; i < 16384; i++) assert.equal(denseGet(b, i), want[i], `register ${i}`);
    }
  });
});

describe("HLL sparse form", () => {
  it("holds the same registers as a dense HLL after the same adds, promoting past the size limit", () => {
    const next = rng(SEED + 3);
    for (const limit of [3000, 300]) {
      const d = new HllEdit(emptyDenseHll());
      let s = new HllEdit(emptySparse());
      for (let n = 0; n < 4000; n++) {
        const e = randomBytes(next, 20);
        assert.equal(s.add(e, limit), d.add(e, limit), `add ${n} changes both or neither`);
        if (n % 97 === 0) {
          const sv = s.value();
          assert.deepEqual(registers(sparseToDense(sv) ?? sv), registers(d.value()), `registers after ${n} adds`);
          assert.equal(count(sv), count(d.value()));
          if (encodingOf(sv) !== HLL_DENSE) assert.ok(sv.length <= Math.max(limit, 18), `${sv.length} bytes`);
          s = new HllEdit(sv);
        }
      }
      assert.equal(encodingOf(s.value()), HLL_DENSE);
    }
  });

  it("one edit of many sets (walks from its index of marks) writes the bytes of one edit per set (walks from the start)", () => {
    const next = rng(SEED + 4);
    for (let round = 0; round < 6; round++) {
      const limit = round < 3 ? 3000 : 1 << 20;
      let many = new HllEdit(emptySparse());
      let single = emptySparse();
      for (let n = 0; n < 1500 * (round + 1); n++) {
        // Clustered registers make long VAL runs, and so merges; low counts keep most of them sparse.
        const index = next() < 0.5 ? Math.floor(next() * 16384) : 8000 + Math.floor(next() * 600);
        const value = 1 + Math.floor(next() * next() * 6);
        const r = many.set(index, value, limit);
        const one = new HllEdit(single);
        assert.equal(r, one.set(index, value, limit), `set ${n} changes both or neither`);
        single = one.value();
        if (n % 500 === 499) {
          assert.deepEqual(many.value(), single, `bytes after ${n + 1} sets`);
          if (round % 2 === 1) many = new HllEdit(many.value());
        }
      }
      assert.deepEqual(many.value(), single);
    }
  });

  it("goes dense for a register above 32 whatever the size", () => {
    const s = new HllEdit(emptySparse());
    assert.equal(s.set(5, 33, 1 << 30), 1);
    assert.equal(encodingOf(s.value()), HLL_DENSE);
    assert.equal(denseGet(s.value(), 5), 33);
  });

  it("splits and merges opcodes as Redis: XZERO VAL XZERO, then adjacent equal VALs join", () => {
    const s = new HllEdit(emptySparse());
    s.set(1000, 2, 3000);
    assert.equal(decodeSparse(s.value()), "Z:1000 v:2,1 Z:15383");
    s.set(1001, 2, 3000);
    assert.equal(decodeSparse(s.value()), "Z:1000 v:2,2 Z:15382");
    s.set(1003, 2, 3000);
    assert.equal(decodeSparse(s.value()), "Z:1000 v:2,2 z:1 v:2,1 Z:15380");
    s.set(1002, 2, 3000);
    assert.equal(decodeSparse(s.value()), "Z:1000 v:2,4 Z:15380");
    assert.equal(s.set(1002, 1, 3000), 0);
  });

  it("reports corrupted runs: too few registers, too many; a VAL past the end is dropped as Redis does", () => {
    const head = emptySparse().subarray(0, 16);
    const short = Uint8Array.from([...head, 0x40, 0x10]);
    const long = Uint8Array.from([...head, 0x7f, 0xff, 0x00]);
    const valPast = Uint8Array.from([...head, 0x7f, 0xff, 0x80]);
    assert.equal(count(short), null);
    assert.equal(count(long), null);
    assert.equal(sparseToDense(short), null);
    assert.equal(sparseToDense(long), null);
    assert.deepEqual(registers(sparseToDense(valPast)!), registers(sparseToDense(emptySparse())!));
    assert.equal(new HllEdit(Uint8Array.from(head)).set(0, 3, 3000), -1);
  });
});
