/**
 * Redis's HyperLogLog byte layout, shared by both representations: the
 * 16-byte header ("HYLL", encoding, 3 unused bytes, cached cardinality
 * little endian with its top bit marking it stale) and the dense form,
 * 16384 six-bit registers packed LSB first, 12288 bytes after the header.
 * An HLL is an ordinary string value; these functions read and write its
 * bytes in place, so GET, DUMP and RDB carry exactly redis-server's bytes.
 */

export const HLL_P = 14;
export const HLL_REGISTERS = 1 << HLL_P;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + (HLL_REGISTERS * 6) / 8;
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;

/** Encoding byte offset and the cached cardinality's top byte. */
const ENC = 4;
const CARD = 8;

/** Whether bytes hold a string Redis accepts as an HLL (isHLLObjectOrReply's checks). */
export function isHll(b: Uint8Array): boolean {
  if (b.length < HLL_HDR_SIZE) return false;
  if (b[0] !== 72 || b[1] !== 89 || b[2] !== 76 || b[3] !== 76) return false; // "HYLL"
  const enc = b[ENC];
  if (enc > HLL_SPARSE) return false;
  return enc !== HLL_DENSE || b.length === HLL_DENSE_SIZE;
}

export function encodingOf(b: Uint8Array): number {
  return b[ENC];
}

export function invalidateCache(b: Uint8Array): void {
  b[CARD + 7] |= 0x80;
}

export function validCache(b: Uint8Array): boolean {
  return (b[CARD + 7] & 0x80) === 0;
}

/** The cached cardinality (valid: below 2^63), a bigint when past 2^53. */
export function cachedCard(b: Uint8Array): number | bigint {
  const lo = (b[CARD] | (b[CARD + 1] << 8) | (b[CARD + 2] << 16) | (b[CARD + 3] << 24)) >>> 0;
  const hi = (b[CARD + 4] | (b[CARD + 5] << 8) | (b[CARD + 6] << 16) | (b[CARD + 7] << 24)) >>> 0;
  if (hi < 0x200000) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Stores card (a uint64: number below 2^53 or bigint) as the cached cardinality. */
export function storeCard(b: Uint8Array, card: number | bigint): void {
  let lo: number;
  let hi: number;
  if (typeof card === "number") {
    lo = card >>> 0;
    hi = Math.floor(card / 4294967296);
  } else {
    lo = Number(card & 0xffffffffn);
    hi = Number((card >> 32n) & 0xffffffffn);
  }
  for (let i = 0; i < 4; i++) {
    b[CARD + i] = lo >>> (8 * i);
    b[CARD + 4 + i] = hi >>> (8 * i);
  }
}

/** A new dense HLL with header copied from hdr (magic, unused bytes, cached cardinality) and zero registers. */
export function emptyDense(hdr: Uint8Array): Uint8Array {
  const out = new Uint8Array(HLL_DENSE_SIZE);
  out.set(hdr.subarray(0, HLL_HDR_SIZE));
  out[ENC] = HLL_DENSE;
  return out;
}

/** Register i of a dense HLL (bytes include the header). */
export function denseGet(b: Uint8Array, i: number): number {
  const bit = i * 6;
  const at = HLL_HDR_SIZE + (bit >> 3);
  const fb = bit & 7;
  // With fb <= 2 the register fits in its first byte (and the last register is such a one).
  if (fb <= 2) return (b[at] >> fb) & 63;
  return ((b[at] >> fb) | (b[at + 1] << (8 - fb))) & 63;
}

/** Sets register i of a dense HLL to v (0..63). */
export function denseSetRegister(b: Uint8Array, i: number, v: number): void {
  const bit = i * 6;
  const at = HLL_HDR_SIZE + (bit >> 3);
  const fb = bit & 7;
  b[at] = (b[at] & ~(63 << fb)) | (v << fb);
  if (fb > 2) b[at + 1] = (b[at + 1] & ~(63 >> (8 - fb))) | (v >> (8 - fb));
}

/** Raises register i to count if below it (hllDenseSet): 1 when it changed, else 0. */
export function denseSet(b: Uint8Array, i: number, count: number): number {
  if (count <= denseGet(b, i)) return 0;
  denseSetRegister(b, i, count);
  return 1;
}

/** Adds each register value of a dense HLL to histo (64 slots), four registers per three bytes. */
export function denseHisto(b: Uint8Array, histo: Int32Array): void {
  for (let p = HLL_HDR_SIZE; p < HLL_DENSE_SIZE; p += 3) {
    const b0 = b[p];
    const b1 = b[p + 1];
    const b2 = b[p + 2];
    histo[b0 & 63]++;
    histo[((b0 >> 6) | (b1 << 2)) & 63]++;
    histo[((b1 >> 4) | (b2 << 4)) & 63]++;
    histo[b2 >> 2]++;
  }
}

/** Raises max[i] to each register of a dense HLL (hllMerge's dense branch). */
export function denseMergeInto(b: Uint8Array, max: Uint8Array): void {
  let i = 0;
  for (let p = HLL_HDR_SIZE; p < HLL_DENSE_SIZE; p += 3, i += 4) {
    const b0 = b[p];
    const b1 = b[p + 1];
    const b2 = b[p + 2];
    const r0 = b0 & 63;
    const r1 = ((b0 >> 6) | (b1 << 2)) & 63;
    const r2 = ((b1 >> 4) | (b2 << 4)) & 63;
    const r3 = b2 >> 2;
    if (r0 > max[i]) max[i] = r0;
    if (r1 > max[i + 1]) max[i + 1] = r1;
    if (r2 > max[i + 2]) max[i + 2] = r2;
    if (r3 > max[i + 3]) max[i + 3] = r3;
  }
}
