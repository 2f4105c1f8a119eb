/**
 * Redis's sparse HyperLogLog: after the 16-byte header, run-length opcodes
 * ZERO (00xxxxxx: 1-64 zero registers), XZERO (01xxxxxx yyyyyyyy: 1-16384
 * zero registers) and VAL (1vvvvvxx: 1-4 registers of value 1-32). Updates
 * split and merge opcodes exactly as hyperloglog.c's hllSparseSet does, in
 * the same order, so the bytes after any sequence of adds are redis-server's;
 * corrupted input takes the same paths (and gives the same results) too.
 */
import { denseSetRegister, emptyDense, HLL_HDR_SIZE, HLL_REGISTERS, invalidateCache } from "./hll-dense.ts";

const VAL_MAX_VALUE = 32;
const VAL_MAX_LEN = 4;
const ZERO_MAX_LEN = 64;

/** Opcodes between two marks of SparseHll's index. */
const MARK_EVERY = 16;
/** Below this length a walk from the start is short enough and no index is kept. */
const MARKS_FROM = 128;
/**
 * How far past the changed opcode's end a set() may rewrite bytes: its merges scan 5 opcodes from the one
 * before, and can swallow one starting up to 7 bytes past that end; 12 leaves room.
 */
const REWRITE_REACH = 12;

/** hllSparseSet's answers besides 0 (unchanged), 1 (updated) and -1 (corrupted). */
export const PROMOTE = 2;

const isZero = (op: number) => (op & 0xc0) === 0;
const isXzero = (op: number) => (op & 0xc0) === 0x40;
const isVal = (op: number) => (op & 0x80) !== 0;
const zeroLen = (op: number) => (op & 0x3f) + 1;
const valValue = (op: number) => ((op >> 2) & 0x1f) + 1;
const valLen = (op: number) => (op & 3) + 1;
const valOp = (value: number, len: number) => (((value - 1) << 2) | (len - 1) | 0x80) & 0xff;

/**
 * The byte just past a value's end: Redis's sds terminator slot, which a
 * split of a truncated XZERO at the end overwrites (hllSparseSet writes its
 * sequence past the new length). Values keep that byte in their buffer
 * (SparseHll.bytes()); every other byte string has none there, or a 0.
 */
function pastEnd(b: Uint8Array): number {
  const at = b.byteOffset + b.length;
  return at < b.buffer.byteLength ? new Uint8Array(b.buffer, at, 1)[0] : 0;
}

/** XZERO's length; its second byte may lie past the end (a corrupted tail), read as Redis reads it. */
function xzeroLen(b: Uint8Array, p: number, end: number): number {
  return (((b[p] & 0x3f) << 8) | (p + 1 < end || p + 1 < b.length ? b[p + 1] : pastEnd(b))) + 1;
}

/** Writes a ZERO or XZERO (by length) at n of b; returns the next position. */
function putZeros(b: Uint8Array, n: number, len: number): number {
  if (len > ZERO_MAX_LEN) {
    b[n] = ((len - 1) >> 8) | 0x40;
    b[n + 1] = (len - 1) & 0xff;
    return n + 2;
  }
  b[n] = len - 1;
  return n + 1;
}

/** The sparse form of an empty HLL: header "HYLL", sparse, stale cache 0, then XZERO:16384. */
const EMPTY = Uint8Array.of(72, 89, 76, 76, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff);

export function emptySparse(): Uint8Array {
  return EMPTY.slice();
}

/**
 * A sparse HLL being changed by one command: a private copy with room to
 * grow (Redis grows the sds in place), handed back by bytes() at the end.
 */
export class SparseHll {
  buf: Uint8Array;
  len: number;
  /** buf is this object's own copy (else it is the stored value, not to be written). */
  private owned = false;
  /**
   * Every MARK_EVERY-th opcode's position and first register, built
   * on a command's second set(): hllSparseSet walks the opcodes from the
   * start for each register, which for a PFADD of many elements into a
   * large sparse HLL was most of the command; a walk from the mark before
   * the one at or below the register finds the same opcode, and its
   * predecessor, which the merge step starts from. Rebuilt as the HLL
   * grows by half, so marks stay about MARK_EVERY opcodes apart.
   */
  private markAt: Int32Array | null = null;
  private markFirst = new Int32Array(0);
  private markCount = 0;
  private markedLen = 0;
  private calls = 0;

  /** room: the growth the caller expects (3 bytes at most per register set), so one copy usually serves the whole command. */
  constructor(src: Uint8Array, private readonly room = 0) {
    this.buf = src;
    this.len = src.length;
  }

  /** An empty HLL, for a key being created. */
  static empty(room = 0): SparseHll {
    return new SparseHll(EMPTY, room);
  }

  /** Makes buf a private copy with room for n more bytes past len. */
  private reserve(n: number): void {
    if (this.owned && this.len + n <= this.buf.length) return;
    const want = this.len + Math.max(n, this.owned ? this.buf.length - this.len : this.room + 8);
    const grown = new Uint8Array(Math.max(want, this.owned ? this.buf.length * 2 : 0));
    // The byte past the end goes too: it is the sds terminator hllSparseSet may read.
    grown.set(this.buf);
    if (!this.owned) grown[this.len] = pastEnd(this.buf);
    this.buf = grown;
    this.owned = true;
  }

  /**
   * The value to store: the original when nothing changed, a view when the
   * spare room is small, else an exact copy (keeping a non-zero byte past
   * the end in its buffer, see pastEnd()).
   */
  bytes(): Uint8Array {
    if (!this.owned) return this.buf === EMPTY ? EMPTY.slice() : this.buf;
    const b = this.buf;
    const len = this.len;
    if (b.length - len <= 16) return new Uint8Array(b.buffer, b.byteOffset, len);
    return b[len] === 0 ? b.slice(0, len) : new Uint8Array(b.slice(0, len + 1).buffer, 0, len);
  }

  /**
   * Raises register index to count (hllSparseSet): 1 when changed, 0 when
   * not, -1 for a corrupted representation, PROMOTE when the value does not
   * fit the sparse form or the result would pass maxBytes (the caller turns
   * the HLL dense and sets the register there).
   */
  set(index: number, count: number, maxBytes: number): number {
    if (count > VAL_MAX_VALUE) return PROMOTE;
    let b = this.buf;
    const sparse = HLL_HDR_SIZE;
    const lenBefore = this.len;
    let end = lenBefore;
    if (++this.calls > 1 && end >= MARKS_FROM && end >= this.markedLen * 1.5) this.buildMarks();
    let p = sparse;
    let first = 0;
    const markAt = this.markAt;
    const from = markAt === null ? -1 : this.markBefore(index);
    if (from >= 0) {
      p = markAt![from];
      first = this.markFirst[from];
    }
    let prev = -1;
    let prevFirst = 0;
    let span = 0;
    // Step 1: the opcode covering index.
    while (p < end) {
      span = opSpan(b, p, end);
      if (index <= first + span - 1) break;
      prev = p;
      prevFirst = first;
      p += isXzero(b[p]) ? 2 : 1;
      first += span;
    }
    if (span === 0 || p >= end) return -1;
    const op = b[p];
    let next = isXzero(op) ? p + 2 : p + 1;
    const rewriteEnd = next + REWRITE_REACH;
    if (next >= end) next = -1;
    const zero = isZero(op);
    const xzero = isXzero(op);
    const runlen = zero ? zeroLen(op) : xzero ? xzeroLen(b, p, end) : valLen(op);
    if (!zero && !xzero && valValue(op) >= count) return 0;
    // A change: onto a private copy with room for XZERO -> XZERO VAL XZERO (and a corrupted tail's 4 bytes past the end).
    this.reserve(5);
    b = this.buf;

    // Step 2: the trivial in-place updates, then the general split.
    // A VAL or ZERO of one register becomes a VAL in place.
    if (!xzero && runlen === 1) b[p] = valOp(count, 1);
    else {
      // The opcode splits into [before] VAL [after]: ZERO/XZERO runs for a zero run, VALs of its value for a VAL.
      const last = first + span - 1;
      const before = index - first;
      const after = last - index;
      const zeros = zero || xzero;
      const n = 1 + (before === 0 ? 0 : zeros && before > ZERO_MAX_LEN ? 2 : 1) +
        (after === 0 ? 0 : zeros && after > ZERO_MAX_LEN ? 2 : 1);
      // Step 3: the new sequence replaces the opcode.
      const delta = n - (xzero ? 2 : 1);
      if (delta > 0 && this.len + delta > maxBytes) return PROMOTE;
      if (delta !== 0 && next >= 0) b.copyWithin(next + delta, next, end);
      this.len += delta;
      b[this.len] = 0; // sdsIncrLen's terminator, which a corrupted tail's sequence may then overwrite
      let w = p;
      if (zeros) {
        if (before !== 0) w = putZeros(b, w, before);
        b[w++] = valOp(count, 1);
        if (after !== 0) putZeros(b, w, after);
      } else {
        const curval = valValue(op);
        if (before !== 0) b[w++] = valOp(curval, before);
        b[w++] = valOp(count, 1);
        if (after !== 0) b[w] = valOp(curval, after);
      }
      end += delta;
    }

    // Step 4: merge adjacent VALs of the same value, scanning up to 5 opcodes from prev.
    p = prev >= 0 ? prev : sparse;
    let scan = 5;
    while (p < end && scan-- > 0) {
      const o = b[p];
      if (isXzero(o)) {
        p += 2;
        continue;
      }
      if (isZero(o)) {
        p++;
        continue;
      }
      if (p + 1 < end && isVal(b[p + 1])) {
        const v1 = valValue(o);
        if (v1 === valValue(b[p + 1])) {
          const len = valLen(o) + valLen(b[p + 1]);
          if (len <= VAL_MAX_LEN) {
            b[p + 1] = valOp(v1, len);
            // memmove(p, p+1, end-p) also pulls in the byte past the end; it falls outside again.
            b.copyWithin(p, p + 1, end + 1);
            this.len--;
            end--;
            b[end] = 0;
            continue;
          }
        }
      }
      p++;
    }
    invalidateCache(b);
    if (markAt !== null) this.moveMarks(Math.max(from, 0), prev, prevFirst, rewriteEnd, this.len - lenBefore);
    return 1;
  }

  private buildMarks(): void {
    const b = this.buf;
    const end = this.len;
    // An opcode takes one or two bytes, so there are at most end / MARK_EVERY marks.
    const markAt = new Int32Array(Math.ceil(end / MARK_EVERY));
    const markFirst = new Int32Array(markAt.length);
    let count = 0;
    let first = 0;
    let n = 0;
    for (let p = HLL_HDR_SIZE; p < end; p += isXzero(b[p]) ? 2 : 1) {
      if (++n % MARK_EVERY === 0) {
        markAt[count] = p;
        markFirst[count++] = first;
      }
      first += opSpan(b, p, end);
    }
    this.markAt = markAt;
    this.markFirst = markFirst;
    this.markCount = count;
    this.markedLen = end;
  }

  /** The mark before the last one at or below index (so a walk from it passes index's predecessor); negative: none. */
  private markBefore(index: number): number {
    const markFirst = this.markFirst;
    let lo = 0;
    let hi = this.markCount; // marks [0, lo) start at or below index, [hi, ..) above it
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (markFirst[mid] <= index) lo = mid + 1;
      else hi = mid;
    }
    return lo - 2;
  }

  /**
   * After a set(): marks in the rewritten bytes [prev, rewriteEnd) give way
   * to one at prev (which stays where it was, starting the same register),
   * and the marks after them move by the change in length.
   */
  private moveMarks(from: number, prev: number, prevFirst: number, rewriteEnd: number, delta: number): void {
    const markAt = this.markAt!;
    const markFirst = this.markFirst;
    let count = this.markCount;
    let i = from;
    while (i < count && markAt[i] < prev) i++;
    let j = i;
    while (j < count && markAt[j] < rewriteEnd) j++;
    if (j > i) {
      if (prev >= 0) {
        markAt[i] = prev;
        markFirst[i++] = prevFirst;
      }
      markAt.copyWithin(i, j, count);
      markFirst.copyWithin(i, j, count);
      count -= j - i;
      this.markCount = count;
      j = i;
    }
    if (delta !== 0) { for (; j < count; j++) markAt[j] += delta; }
  }
}

/** How many registers the opcode at p covers. */
function opSpan(b: Uint8Array, p: number, end: number): number {
  const op = b[p];
  return isZero(op) ? zeroLen(op) : isVal(op) ? valLen(op) : xzeroLen(b, p, end);
}

/** Opcode kinds as walk() reports them. */
const ZERO = 0;
const XZERO = 1;
const VAL = 2;

/**
 * Walks the opcodes after the header up to end, calling visit(kind, value,
 * first register, run length) for each until it returns false; returns
 * how many registers the visited runs covered (valid HLLs: 16384).
 */
function walk(
  b: Uint8Array,
  end: number,
  visit: (kind: number, value: number, first: number, run: number) => boolean,
): number {
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < end) {
    const op = b[p];
    const kind = isZero(op) ? ZERO : isXzero(op) ? XZERO : VAL;
    const run = kind === ZERO ? zeroLen(op) : kind === XZERO ? xzeroLen(b, p, end) : valLen(op);
    if (!visit(kind, kind === VAL ? valValue(op) : 0, idx, run)) break;
    idx += run;
    p += kind === XZERO ? 2 : 1;
  }
  return idx;
}

/**
 * Calls set(register, value) for every register a VAL covers, stopping at
 * a VAL that would run past the last register (as hllSparseToDense and
 * hllMerge do); true when the runs cover exactly 16384 registers.
 */
function eachValue(b: Uint8Array, end: number, set: (i: number, v: number) => void): boolean {
  return walk(b, end, (kind, v, first, run) => {
    if (kind !== VAL) return true;
    if (first + run > HLL_REGISTERS) return false;
    for (let i = first; i < first + run; i++) set(i, v);
    return true;
  }) === HLL_REGISTERS;
}

/**
 * The dense form of sparse bytes (hllSparseToDense), header copied with
 * the encoding switched; null when the opcodes do not cover exactly 16384
 * registers.
 */
export function sparseToDense(b: Uint8Array, len: number = b.length): Uint8Array | null {
  const dense = emptyDense(b);
  return eachValue(b, len, (i, v) => denseSetRegister(dense, i, v)) ? dense : null;
}

/** Raises max[i] to each register (hllMerge's sparse branch); false when corrupted. */
export function sparseMergeInto(b: Uint8Array, max: Uint8Array): boolean {
  return eachValue(b, b.length, (i, v) => {
    if (v > max[i]) max[i] = v;
  });
}

/** Adds each register value to histo (hllSparseRegHisto); false when the opcodes do not cover 16384 registers. */
export function sparseHisto(b: Uint8Array, histo: Int32Array): boolean {
  return walk(b, b.length, (_kind, v, _first, run) => {
    histo[v] += run;
    return true;
  }) === HLL_REGISTERS;
}

/** PFDEBUG DECODE's text: "z:<n>", "Z:<n>" and "v:<value>,<n>" separated by spaces. */
export function decodeSparse(b: Uint8Array): string {
  const parts: string[] = [];
  walk(b, b.length, (kind, v, _first, run) => {
    parts.push(kind === ZERO ? `z:${run}` : kind === XZERO ? `Z:${run}` : `v:${v},${run}`);
    return true;
  });
  return parts.join(" ");
}
