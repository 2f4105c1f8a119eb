/**
 * Bitmaps over string bytes, as Redis's bitops.c sees them: bit 0 is the
 * most significant bit of the first byte. Counting, searching and the
 * AND/OR/XOR/NOT of whole strings go a 32-bit word at a time (SWAR
 * popcount, word compares; counting by WebAssembly's popcnt where it is
 * there, see popcount-wasm.ts), so a 64 MB bitmap costs a pass over memory,
 * not a loop per bit. Bit fields (BITFIELD) are read and written as
 * bigints of up to 64 bits with Redis's overflow rules.
 */

import { POPCOUNT_CHUNK, type WasmPopcount, wasmPopcount } from "../util/popcount-wasm.ts";

/** Set bits in each byte value. */
const BYTE_BITS = (() => {
  const t = new Uint8Array(256);
  for (let i = 1; i < 256; i++) t[i] = (i & 1) + t[i >> 1];
  return t;
})();

/** Bytes before from + n reach a 4-byte boundary of b's buffer (at most n). */
function headBytes(b: Uint8Array, from: number, n: number): number {
  return Math.min((4 - ((b.byteOffset + from) & 3)) & 3, n);
}

/** Set bits in one word, by SWAR. */
function popcountWord(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * Set bits in 32-bit words by SWAR, two words at a time: their 2-bit
 * counts are added before the nibble step, and the per-byte counts of up
 * to 30 words are summed before they are folded (30 * 8 fits a byte).
 */
function popcountWords(w: Int32Array): number {
  let total = 0;
  const len = w.length;
  const even = len & ~1;
  let k = 0;
  while (k < even) {
    const stop = Math.min(even, k + 30);
    let lanes = 0;
    for (; k < stop; k += 2) {
      let x = w[k];
      let y = w[k + 1];
      x = x - ((x >>> 1) & 0x55555555);
      y = y - ((y >>> 1) & 0x55555555);
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      y = (y & 0x33333333) + ((y >>> 2) & 0x33333333);
      const nibbles = x + y;
      lanes += (nibbles & 0x0f0f0f0f) + ((nibbles >>> 4) & 0x0f0f0f0f);
    }
    const pairs = (lanes & 0x00ff00ff) + ((lanes >>> 8) & 0x00ff00ff);
    total += (pairs & 0xffff) + (pairs >>> 16);
  }
  if (k < len) total += popcountWord(w[k]);
  return total;
}

/** Below this many bytes the copy into WebAssembly's memory costs more than counting here. */
const WASM_FROM = 64;

/** Set bits in b[from, to). */
export function popcount(b: Uint8Array, from: number, to: number): number {
  return wasmPopcount !== null && to - from >= WASM_FROM
    ? popcountWasm(wasmPopcount, b, from, to)
    : popcountSwar(b, from, to);
}

/** popcount() by i64.popcnt, a chunk of the module's memory at a time. */
function popcountWasm(w: WasmPopcount, b: Uint8Array, from: number, to: number): number {
  let n = 0;
  let i = from;
  while (to - i >= 8) {
    const length = Math.min(to - i, POPCOUNT_CHUNK) & ~7;
    w.memory.set(b.subarray(i, i + length));
    n += w.count(length);
    i += length;
  }
  for (; i < to; i++) n += BYTE_BITS[b[i]];
  return n;
}

/** popcount() in JavaScript: short ranges, and every range where WebAssembly is missing. */
export function popcountSwar(b: Uint8Array, from: number, to: number): number {
  let n = 0;
  let i = from;
  const head = headBytes(b, from, to - from);
  for (const end = i + head; i < end; i++) n += BYTE_BITS[b[i]];
  const words = Math.floor((to - i) / 4);
  if (words > 0) {
    n += popcountWords(new Int32Array(b.buffer, b.byteOffset + i, words));
    i += words * 4;
  }
  for (; i < to; i++) n += BYTE_BITS[b[i]];
  return n;
}

/** Position of the first `bit` in a byte (which must hold one), 0 = its most significant bit. */
function firstInByte(byte: number, bit: number): number {
  return Math.clz32(bit ? byte : ~byte & 0xff) - 24;
}

/**
 * Redis's redisBitpos over b[from, to): the first bit equal to `bit`,
 * counted from `from`'s first bit. Bits past `to` count as zeros: with no
 * match a search for 0 answers (to - from) * 8, a search for 1 answers -1.
 */
export function findBit(b: Uint8Array, from: number, to: number, bit: number): number {
  const skip = bit ? 0 : 0xff;
  let i = from;
  const head = headBytes(b, from, to - from);
  for (const end = i + head; i < end; i++) if (b[i] !== skip) return (i - from) * 8 + firstInByte(b[i], bit);
  const words = Math.floor((to - i) / 4);
  if (words > 0) {
    const w = new Int32Array(b.buffer, b.byteOffset + i, words);
    const skipWord = bit ? 0 : -1;
    let k = 0;
    while (k < words && w[k] === skipWord) k++;
    i += k * 4;
  }
  for (; i < to; i++) if (b[i] !== skip) return (i - from) * 8 + firstInByte(b[i], bit);
  return bit ? -1 : (to - from) * 8;
}

export type BitOp = "and" | "or" | "xor" | "not";

/** s's first n bytes as 32-bit words: a view when aligned, else an aligned copy. */
function wordsOf(s: Uint8Array, n: number): Int32Array {
  const words = Math.floor(n / 4);
  if ((s.byteOffset & 3) === 0) return new Int32Array(s.buffer, s.byteOffset, words);
  return new Int32Array(s.slice(0, words * 4).buffer, 0, words);
}

/** The operation on two words or bytes. */
function apply(op: BitOp, a: number, b: number): number {
  return op === "and" ? a & b : op === "or" ? a | b : a ^ b;
}

/** res = a op b, res as long as the longer of the two and zero-filled, the shorter one zero padded. */
function first(res: Uint8Array, a: Uint8Array, b: Uint8Array, op: BitOp): void {
  const common = Math.min(a.length, b.length);
  const words = Math.floor(common / 4);
  const r = new Int32Array(res.buffer, res.byteOffset, words);
  const x = wordsOf(a, common);
  const y = wordsOf(b, common);
  if (op === "and") for (let k = 0; k < words; k++) r[k] = x[k] & y[k];
  else if (op === "or") for (let k = 0; k < words; k++) r[k] = x[k] | y[k];
  else for (let k = 0; k < words; k++) r[k] = x[k] ^ y[k];
  for (let j = words * 4; j < common; j++) res[j] = apply(op, a[j], b[j]);
  if (op !== "and") res.set((a.length > common ? a : b).subarray(common), common);
}

/** res (length >= s) op= s over s's bytes; AND also clears what lies past s, as zero padding would. */
function combine(res: Uint8Array, s: Uint8Array, op: BitOp): void {
  const n = s.length;
  const words = Math.floor(n / 4);
  const r = new Int32Array(res.buffer, res.byteOffset, words);
  const w = wordsOf(s, n);
  if (op === "and") for (let k = 0; k < words; k++) r[k] &= w[k];
  else if (op === "or") for (let k = 0; k < words; k++) r[k] |= w[k];
  else for (let k = 0; k < words; k++) r[k] ^= w[k];
  for (let j = words * 4; j < n; j++) res[j] = apply(op, res[j], s[j]);
  if (op === "and") res.fill(0, n);
}

/**
 * BITOP's result over the sources (missing keys as empty strings), as long
 * as the longest source, shorter ones zero padded. Empty when all are.
 */
export function bitop(op: BitOp, sources: Uint8Array[]): Uint8Array {
  let max = 0;
  for (const s of sources) if (s.length > max) max = s.length;
  const res = new Uint8Array(max);
  if (max === 0) return res;
  if (op === "not") {
    res.set(sources[0]);
    const r = new Int32Array(res.buffer, 0, Math.floor(max / 4));
    for (let k = 0; k < r.length; k++) r[k] = ~r[k];
    for (let j = r.length * 4; j < max; j++) res[j] = ~res[j];
    return res;
  }
  if (sources.length === 1) res.set(sources[0]);
  else first(res, sources[0], sources[1], op);
  for (let i = 2; i < sources.length; i++) combine(res, sources[i], op);
  return res;
}

// ---- bit fields ----

/** The unsigned value of the `bits`-wide field at bit `offset`; bytes past b's end read as zeros. */
export function readField(b: Uint8Array, offset: number, bits: number): bigint {
  const first = Math.floor(offset / 8);
  const last = Math.floor((offset + bits - 1) / 8);
  let span = 0n;
  for (let i = first; i <= last; i++) span = (span << 8n) | BigInt(i < b.length ? b[i] : 0);
  const shift = BigInt((last - first + 1) * 8 - (offset & 7) - bits);
  return BigInt.asUintN(bits, span >> shift);
}

/** Writes the low `bits` bits of value at bit `offset`; b must reach the field's last byte. */
export function writeField(b: Uint8Array, offset: number, bits: number, value: bigint): void {
  const first = Math.floor(offset / 8);
  const last = Math.floor((offset + bits - 1) / 8);
  let span = 0n;
  for (let i = first; i <= last; i++) span = (span << 8n) | BigInt(b[i]);
  const shift = BigInt((last - first + 1) * 8 - (offset & 7) - bits);
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  span = (span & ~mask) | ((BigInt.asUintN(bits, value) << shift) & mask);
  for (let i = last; i >= first; i--) {
    b[i] = Number(span & 0xffn);
    span >>= 8n;
  }
}

export type Overflow = "wrap" | "sat" | "fail";

/** A field's type: i1..i64 or u1..u63. */
export interface FieldType {
  signed: boolean;
  bits: number;
}

/** The stored value of a field read as its type. */
export function fieldValue(raw: bigint, type: FieldType): bigint {
  return type.signed ? BigInt.asIntN(type.bits, raw) : raw;
}

/**
 * value + incr stored in a field of this type under the overflow rule, as
 * Redis's check{Signed,Unsigned}BitfieldOverflow: null when it overflows
 * under FAIL. For SET, value is the int64 argument and incr 0; unsigned
 * fields see it as uint64 (so SAT turns a negative into the maximum).
 */
export function fitField(value: bigint, incr: bigint, type: FieldType, overflow: Overflow): bigint | null {
  const { signed, bits } = type;
  const v = signed ? value : BigInt.asUintN(64, value);
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -max - 1n : 0n;
  const sum = v + incr;
  if (sum >= min && sum <= max) return sum;
  if (overflow === "fail") return null;
  if (overflow === "sat") return v > max || sum > max ? max : min;
  return signed ? BigInt.asIntN(bits, sum) : BigInt.asUintN(bits, sum);
}
