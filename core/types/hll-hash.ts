/**
 * The hash HyperLogLog feeds on: MurmurHash64A (64-bit MurmurHash2, seed
 * 0xadc83b19, little-endian words) as Redis's hyperloglog.c uses it, so an
 * element lands in the same register with the same run length as in
 * redis-server. JS has no 64-bit integer multiply short of BigInt, which
 * costs an allocation per step: the hash runs in a hand-assembled
 * WebAssembly module (i64.mul, i64.ctz), and where WebAssembly is missing
 * in JS, each 64-bit value a pair of uint32 halves and the multiply by the
 * constant done in 16-bit limbs (patLenJs: 67-71 ns for a 12-byte element
 * under Node against 22-29 ns, copy into the module's memory included).
 */
import { instantiateHex } from "../util/wasm.ts";

/** The multiplier m = 0xc6a4a7935bd1e995, as halves and 16-bit limbs of the low half. */
const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
const M_LO0 = M_LO & 0xffff;
const M_LO1 = M_LO >>> 16;
const SEED = 0xadc83b19;

/** High 32 bits of the 64-bit product of uint32 a and M_LO. */
function mulHiMlo(a: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const p00 = a0 * M_LO0;
  const p01 = a0 * M_LO1;
  const p10 = a1 * M_LO0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * M_LO1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** High half of (hi:lo) * m mod 2^64 (halves as uint32 or int32). */
function mulHi(hi: number, lo: number): number {
  return (mulHiMlo(lo >>> 0) + Math.imul(hi, M_LO) + Math.imul(lo, M_HI)) >>> 0;
}

/** Low half of (hi:lo) * m mod 2^64. */
function mulLo(lo: number): number {
  return Math.imul(lo, M_LO) >>> 0;
}

/** Little-endian uint32 at p of b. */
function word(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

/**
 * patLen in JS. The state h is the pair hHi:hLo; each 64-bit step is
 * spelled on halves (a helper object per step measured 2-3x slower).
 */
export function patLenJs(b: Uint8Array): number {
  const len = b.length;
  // h = seed ^ (len * m)
  let hHi = mulHi(0, len);
  let hLo = (mulLo(len) ^ SEED) >>> 0;
  const end = len - (len & 7);
  for (let p = 0; p < end; p += 8) {
    const lo = word(b, p);
    // k *= m; k ^= k >> 47; k *= m;
    let kHi = mulHi(word(b, p + 4), lo);
    let kLo = (mulLo(lo) ^ (kHi >>> 15)) >>> 0;
    kHi = mulHi(kHi, kLo);
    kLo = mulLo(kLo);
    // h ^= k; h *= m;
    hHi = mulHi(hHi ^ kHi, hLo ^ kLo);
    hLo = mulLo(hLo ^ kLo);
  }
  const rest = len & 7;
  if (rest !== 0) {
    let tailLo = 0;
    let tailHi = 0;
    switch (rest) {
      case 7: tailHi |= b[end + 6] << 16; // falls through
      case 6: tailHi |= b[end + 5] << 8; // falls through
      case 5: tailHi |= b[end + 4]; // falls through
      case 4: tailLo |= b[end + 3] << 24; // falls through
      case 3: tailLo |= b[end + 2] << 16; // falls through
      case 2: tailLo |= b[end + 1] << 8; // falls through
      case 1: tailLo |= b[end];
    }
    hHi = mulHi(hHi ^ tailHi, hLo ^ tailLo);
    hLo = mulLo(hLo ^ tailLo);
  }
  // h ^= h >> 47; h *= m; h ^= h >> 47;
  hLo = (hLo ^ (hHi >>> 15)) >>> 0;
  hHi = mulHi(hHi, hLo);
  hLo = (mulLo(hLo) ^ (hHi >>> 15)) >>> 0;
  return (runLength(hHi, hLo) << 14) | (hLo & 0x3fff);
}

/** 1 + the number of zero bits from bit 14 up, at most 51 (Redis sets bit 64 to stop the count at Q+1). */
function runLength(hi: number, lo: number): number {
  const low = lo >>> 14;
  if (low !== 0) return 32 - Math.clz32(low & -low);
  if (hi !== 0) return 50 - Math.clz32(hi & -hi);
  return 51;
}

/**
 * The module, hand-assembled from:
 *
 *   (module
 *     (memory (export "mem") 1)
 *     (func (export "patlen") (param $len i32) (result i32)
 *       (local $h i64) (local $k i64) (local $p i32) (local $end i32)
 *       h = 0xadc83b19 ^ (len * m); end = len & ~7
 *       for p in 0, 8 .. end: k = load64(p) * m; k = (k ^ k >> 47) * m; h = (h ^ k) * m
 *       if len & 7: h = (h ^ (load64(end) & ((1 << 8 * (len & 7)) - 1))) * m
 *       h ^= h >> 47; h *= m; h ^= h >> 47
 *       return (h & 16383) | (ctz(h >> 14 | 1 << 50) + 1) << 14))
 *
 * with m = 0xc6a4a7935bd1e995, each line spelled in i64 instructions
 * (wabt's wat2wasm made the bytes). patlen(n) hashes the memory's first n
 * bytes; the tail's load reads up to 7 bytes past them, masked off.
 */
const MODULE = "0061736d0100000001060160017f017f030201000503010001071002036d656d0200067061746c656e00000ae60101e30102" +
  "027e027f4299f6a0ee0a2000ad4295d3c7deb5f2a9d2467e8521012000417871210402400340200320044f0d01200329030042" +
  "95d3c7deb5f2a9d2467e210220022002422f88854295d3c7deb5f2a9d2467e210220012002854295d3c7deb5f2a9d2467e2101" +
  "200341086a21030c000b0b200041077104402001200429030042012000410771410374ad8642017d83854295d3c7deb5f2a9d2" +
  "467e21010b20012001422f8885210120014295d3c7deb5f2a9d2467e210120012001422f888521012001a741ffff0071200142" +
  "0e88428080808080808002847aa741016a410e74720b";

/** Longest element the module hashes: its page, less the 8 bytes the tail's load may read. */
const WASM_MAX = 64 * 1024 - 8;

const wasm = instantiateHex(MODULE);
const wasmPatLen = wasm?.exports.patlen as (n: number) => number;

/**
 * The register index (0..16383) and the "000..1" pattern length (1..51)
 * of an element, as Redis's hllPatLen, packed as count * 16384 + index.
 */
export function patLen(b: Uint8Array): number {
  if (wasm === null || b.length > WASM_MAX) return patLenJs(b);
  wasm.memory.set(b);
  return wasmPatLen(b.length);
}
