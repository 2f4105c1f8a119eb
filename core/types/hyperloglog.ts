/**
 * HyperLogLog over Redis's byte layouts (hll-dense.ts, hll-sparse.ts):
 * adding elements to whichever form a value is in (promoting sparse to
 * dense as Redis does, by size or by a register above 32), the cardinality
 * estimate (Ertl's improved estimator, as Redis 5+ computes it, to the same
 * double-precision steps so the counts match), and the register-wise max
 * behind PFCOUNT of several keys and PFMERGE.
 */
import {
  cachedCard, denseGet, denseHisto, denseMergeInto, denseSet, encodingOf, HLL_DENSE, HLL_P, HLL_REGISTERS,
  invalidateCache, isHll, storeCard, validCache,
} from "./hll-dense.ts";
import { emptySparse, PROMOTE, SparseHll, sparseHisto, sparseMergeInto, sparseToDense } from "./hll-sparse.ts";
import { patLen } from "./hll-hash.ts";

export { cachedCard, denseGet, emptySparse, encodingOf, HLL_DENSE, HLL_REGISTERS, invalidateCache, isHll, storeCard, validCache };
export { decodeSparse, sparseToDense } from "./hll-sparse.ts";

const HLL_Q = 64 - HLL_P;
const ALPHA_INF = 0.721347520444481703680;

/**
 * One command's changes to an HLL value: dense bytes are changed in place
 * (they are the stored value), sparse ones on a private copy (SparseHll).
 */
export class HllEdit {
  dense: Uint8Array | null = null;
  private sparse: SparseHll | null = null;

  /**
   * b: the HLL (null: a new empty one, as Redis's createHLLObject); sets:
   * how many registers the command may raise, to size a sparse copy once.
   */
  constructor(b: Uint8Array | null, sets = 0, maxBytes = 0) {
    if (b !== null && encodingOf(b) === HLL_DENSE) this.dense = b;
    else {
      // A sparse HLL grows by 3 bytes a set at most, and goes dense past maxBytes.
      const len = b === null ? 0 : b.length;
      const room = Math.max(0, Math.min(3 * sets, Math.max(len, maxBytes) + 3 - len));
      this.sparse = b === null ? SparseHll.empty(room) : new SparseHll(b, room);
    }
  }

  /** The value now: the stored bytes unless the form or length changed. */
  value(): Uint8Array {
    return this.dense ?? this.sparse!.bytes();
  }

  /** Raises a register to count (hllDenseSet / hllSparseSet): 1 changed, 0 not, -1 corrupted. */
  set(index: number, count: number, maxBytes: number): number {
    if (this.dense !== null) return denseSet(this.dense, index, count);
    const sparse = this.sparse!;
    const r = sparse.set(index, count, maxBytes);
    if (r !== PROMOTE) return r;
    const dense = sparseToDense(sparse.buf, sparse.len);
    if (dense === null) return -1;
    this.dense = dense;
    this.sparse = null;
    return denseSet(dense, index, count);
  }

  /** hllAdd: 1 when a register grew, 0 when not, -1 when corrupted. */
  add(element: Uint8Array, maxBytes: number): number {
    const packed = patLen(element);
    return this.set(packed & (HLL_REGISTERS - 1), packed >>> HLL_P, maxBytes);
  }

  /** Turns a sparse HLL dense (PFDEBUG TODENSE, PFMERGE); false when corrupted. */
  toDense(): boolean {
    if (this.dense !== null) return true;
    const sparse = this.sparse!;
    const dense = sparseToDense(sparse.buf, sparse.len);
    if (dense === null) return false;
    this.dense = dense;
    this.sparse = null;
    return true;
  }
}

/** Ertl's sigma(x) (arXiv:1702.01284), as hllSigma. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime: number;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

/** Ertl's tau(x), as hllTau. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime: number;
  let y = 1.0;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (zPrime !== z);
  return z / 3;
}

const TWO_53 = 2 ** 53;
const TWO_63 = 2 ** 63;

/**
 * The estimate from a register histogram, as an unsigned 64-bit value:
 * a number below 2^53, else a bigint. llroundl of a value past 2^63 (or
 * infinite, all registers past 50) gives 2^63 on x86-64, as in Redis.
 */
export function estimate(histo: Int32Array): number | bigint {
  const m = HLL_REGISTERS;
  let z = m * tau((m - histo[HLL_Q + 1]) / m);
  for (let j = HLL_Q; j >= 1; --j) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * sigma(histo[0] / m);
  const e = (ALPHA_INF * m * m) / z;
  if (!(e < TWO_63)) return 1n << 63n;
  const r = Math.round(e);
  return r < TWO_53 ? r : BigInt(r);
}

/** A uint64 cardinality as PFCOUNT replies it: Redis passes it to addReplyLongLong, so 2^63 and up wrap negative. */
export function replyCard(card: number | bigint): number | bigint {
  return typeof card === "bigint" && card >= 1n << 63n ? card - (1n << 64n) : card;
}

/** The cardinality of one HLL (hllCount), or null when its sparse form is corrupted. */
export function count(b: Uint8Array): number | bigint | null {
  const histo = new Int32Array(64);
  if (encodingOf(b) === HLL_DENSE) denseHisto(b, histo);
  else if (!sparseHisto(b, histo)) return null;
  return estimate(histo);
}

/** Raises max[i] to register i of b (hllMerge); false when b's sparse form is corrupted. */
export function mergeInto(b: Uint8Array, max: Uint8Array): boolean {
  if (encodingOf(b) === HLL_DENSE) {
    denseMergeInto(b, max);
    return true;
  }
  return sparseMergeInto(b, max);
}

/** The cardinality of registers held one per byte (PFCOUNT of several keys). */
export function countRaw(max: Uint8Array): number | bigint {
  const histo = new Int32Array(64);
  for (let i = 0; i < HLL_REGISTERS; i++) histo[max[i]]++;
  return estimate(histo);
}

/** Every register of an HLL in dense form (PFDEBUG GETREG). */
export function registers(dense: Uint8Array): number[] {
  const out = new Array<number>(HLL_REGISTERS);
  for (let i = 0; i < HLL_REGISTERS; i++) out[i] = denseGet(dense, i);
  return out;
}
