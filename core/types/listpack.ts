/**
 * Listpack: a run of byte-string entries packed into one Uint8Array, the
 * compact layout for small collections (Redis's listpack, in spirit). Lists
 * use it for every quicklist node; hashes, sets and sorted sets may reuse it
 * for their small encodings (a field/value or member/score pair is simply
 * two consecutive entries).
 *
 * Each entry is [header][bytes][trailer]. Header and trailer both hold the
 * entry's length (1 byte below 128, 2 bytes below 16384, else 5 bytes); the
 * trailer is the header mirrored, so the run can be walked backwards from
 * its end. Free space is kept at both ends of the buffer, so pushing or
 * popping at either end is O(1) amortized.
 *
 * Entries are addressed by "positions": byte offsets of an entry's header,
 * walked with first()/next() and last()/prev(); NONE (-1) means no entry.
 * A position, like a view from value(), is valid until the next change.
 * Values may be given as bytes or as binary strings (one char per byte).
 */
import { writeBinary } from "../util/bytes.ts";

export const NONE = -1;

export type Entry = Uint8Array | string;

/** Bytes an entry of `len` bytes takes, header and trailer included. */
export function entrySize(len: number): number {
  return len + 2 * headerSize(len);
}

function headerSize(len: number): number {
  return len < 0x80 ? 1 : len < 0x4000 ? 2 : 5;
}

export class Listpack {
  buf: Uint8Array;
  /** Entries occupy buf[start, end). */
  start: number;
  end: number;
  count = 0;

  /** An empty listpack; `capacity` pre-sizes the buffer when the caller knows what comes. */
  constructor(capacity = 0) {
    this.buf = capacity > 0 ? new Uint8Array(capacity) : EMPTY;
    this.start = this.end = 0;
  }

  /** Bytes used by the entries. */
  get bytes(): number {
    return this.end - this.start;
  }

  /** Bytes held, free space included, for MEMORY USAGE. */
  get capacity(): number {
    return this.buf.length;
  }

  clone(): Listpack {
    const lp = new Listpack(0);
    lp.buf = this.buf.slice(this.start, this.end);
    lp.end = lp.buf.length;
    lp.count = this.count;
    return lp;
  }

  // ---- walking ----

  first(): number {
    return this.count === 0 ? NONE : this.start;
  }

  last(): number {
    return this.count === 0 ? NONE : this.end - this.entryBytesBefore(this.end);
  }

  next(pos: number): number {
    const n = pos + this.entryBytesAt(pos);
    return n >= this.end ? NONE : n;
  }

  prev(pos: number): number {
    return pos <= this.start ? NONE : pos - this.entryBytesBefore(pos);
  }

  /** Position of the entry at index (negative counts from the end), walking from the nearer end. */
  at(index: number): number {
    if (index < 0) index += this.count;
    if (index < 0 || index >= this.count) return NONE;
    if (index < this.count / 2) {
      let pos = this.start;
      while (index-- > 0) pos += this.entryBytesAt(pos);
      return pos;
    }
    let pos = this.last();
    for (let i = this.count - 1; i > index; i--) pos -= this.entryBytesBefore(pos);
    return pos;
  }

  // ---- reading ----

  /** Length in bytes of the entry at pos. */
  length(pos: number): number {
    const b = this.buf[pos];
    if (b < 0x80) return b;
    if (b < 0xc0) return ((b & 0x3f) << 8) | this.buf[pos + 1];
    return this.u32(pos + 1);
  }

  /** Offset of the entry's first value byte. */
  dataOffset(pos: number): number {
    const b = this.buf[pos];
    return pos + (b < 0x80 ? 1 : b < 0xc0 ? 2 : 5);
  }

  /** The entry's bytes as a view into the buffer (copy it to keep it past a change). */
  value(pos: number): Uint8Array {
    const off = this.dataOffset(pos);
    return this.buf.subarray(off, off + this.length(pos));
  }

  /** The entry as a binary string. */
  string(pos: number): string {
    const off = this.dataOffset(pos);
    const end = off + this.length(pos);
    const buf = this.buf;
    let s = "";
    if (end - off < 64) {
      for (let i = off; i < end; i++) s += String.fromCharCode(buf[i]);
      return s;
    }
    for (let i = off; i < end; i += 8192) {
      s += String.fromCharCode.apply(null, buf.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
    }
    return s;
  }

  equals(pos: number, v: Entry): boolean {
    const len = this.length(pos);
    if (len !== v.length) return false;
    const off = this.dataOffset(pos);
    const buf = this.buf;
    if (typeof v === "string") {
      for (let i = 0; i < len; i++) if (buf[off + i] !== v.charCodeAt(i)) return false;
    } else {
      for (let i = 0; i < len; i++) if (buf[off + i] !== v[i]) return false;
    }
    return true;
  }

  // ---- changing ----

  pushBack(v: Entry): void {
    const size = entrySize(v.length);
    if (this.buf.length - this.end < size) this.regrow(0, size);
    this.write(this.end, v);
    this.end += size;
    this.count++;
  }

  pushFront(v: Entry): void {
    const size = entrySize(v.length);
    if (this.start < size) this.regrow(size, 0);
    this.start -= size;
    this.write(this.start, v);
    this.count++;
  }

  /**
   * Removes the first entry and returns its bytes as a view, which stays
   * valid until the listpack is written again (a regrow leaves it on the old
   * buffer). Not copying matters: a fresh ArrayBuffer costs ~350 ns under
   * Deno, three times the rest of an LPOP.
   */
  popFront(): Uint8Array {
    const pos = this.start;
    const v = this.value(pos);
    this.start += this.entryBytesAt(pos);
    this.removed(1);
    return v;
  }

  /** Removes the last entry and returns its bytes as a view (see popFront). */
  popBack(): Uint8Array {
    const pos = this.last();
    const v = this.value(pos);
    this.end = pos;
    this.removed(1);
    return v;
  }

  /** Removes the first n entries. */
  dropFront(n: number): void {
    let pos = this.start;
    for (let i = 0; i < n; i++) pos += this.entryBytesAt(pos);
    this.start = pos;
    this.removed(n);
  }

  /** Removes the last n entries. */
  dropBack(n: number): void {
    let pos = this.end;
    for (let i = 0; i < n; i++) pos -= this.entryBytesBefore(pos);
    this.end = pos;
    this.removed(n);
  }

  /** Inserts v before the entry at pos (pos NONE appends); returns v's position. */
  insert(pos: number, v: Entry): number {
    if (pos === NONE) {
      this.pushBack(v);
      return this.last();
    }
    const size = entrySize(v.length);
    const shift = pos - this.start;
    if (this.buf.length - this.end < size) {
      this.regrow(0, size);
      pos = this.start + shift;
    }
    this.buf.copyWithin(pos + size, pos, this.end);
    this.end += size;
    this.write(pos, v);
    this.count++;
    return pos;
  }

  /** Removes the entry at pos; returns the position of the entry that followed it, or NONE. */
  remove(pos: number): number {
    const size = this.entryBytesAt(pos);
    this.buf.copyWithin(pos, pos + size, this.end);
    this.end -= size;
    const offset = pos - this.start;
    this.removed(1);
    const next = this.start + offset;
    return next >= this.end ? NONE : next;
  }

  /** Replaces the entry at pos with v; returns v's position. */
  replace(pos: number, v: Entry): number {
    const old = this.entryBytesAt(pos);
    const size = entrySize(v.length);
    if (old === size) {
      this.write(pos, v);
      return pos;
    }
    return this.insert(this.remove(pos), v);
  }

  // ---- internals ----

  private write(pos: number, v: Entry): void {
    const len = v.length;
    const buf = this.buf;
    const hs = headerSize(len);
    if (hs === 1) {
      buf[pos] = len;
      buf[pos + 1 + len] = len;
    } else if (hs === 2) {
      buf[pos] = 0x80 | (len >> 8);
      buf[pos + 1] = len & 0xff;
      buf[pos + 2 + len] = len & 0xff;
      buf[pos + 3 + len] = 0x80 | (len >> 8);
    } else {
      buf[pos] = 0xc0;
      this.setU32(pos + 1, len);
      this.setU32(pos + 5 + len, len);
      buf[pos + 9 + len] = 0xc0;
    }
    const off = pos + hs;
    if (typeof v === "string") writeBinary(v, buf, off);
    else buf.set(v, off);
  }

  private entryBytesAt(pos: number): number {
    return entrySize(this.length(pos));
  }

  /** Size of the entry that ends at offset p, read from its trailer. */
  private entryBytesBefore(p: number): number {
    const b = this.buf[p - 1];
    if (b < 0x80) return entrySize(b);
    if (b < 0xc0) return entrySize(((b & 0x3f) << 8) | this.buf[p - 2]);
    return entrySize(this.u32(p - 5));
  }

  private u32(off: number): number {
    const buf = this.buf;
    return (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16)) + buf[off + 3] * 0x1000000;
  }

  private setU32(off: number, v: number): void {
    const buf = this.buf;
    buf[off] = v & 0xff;
    buf[off + 1] = (v >>> 8) & 0xff;
    buf[off + 2] = (v >>> 16) & 0xff;
    buf[off + 3] = (v >>> 24) & 0xff;
  }

  /** Bookkeeping after entries left: an emptied or mostly idle buffer is given back. */
  private removed(n: number): void {
    this.count -= n;
    if (this.count === 0) {
      this.buf = EMPTY;
      this.start = this.end = 0;
    } else if (this.buf.length > 256 && this.bytes < this.buf.length >> 2) {
      this.regrow(0, 0);
    }
  }

  /**
   * Moves the entries into a new buffer with at least `front` free bytes
   * before them and `back` after, plus half their size again as slack on
   * the side that is growing, which keeps repeated pushes amortized O(1).
   */
  private regrow(front: number, back: number): void {
    const used = this.bytes;
    const slack = used >> 1;
    const next = new Uint8Array(used + front + back + slack);
    const at = front > 0 ? front + slack : 0;
    next.set(this.buf.subarray(this.start, this.end), at);
    this.buf = next;
    this.start = at;
    this.end = at + used;
  }
}

const EMPTY = new Uint8Array(0);
