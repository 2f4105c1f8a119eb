/**
 * One stream node: a listpack in Redis's exact byte format holding a master
 * entry and a run of delta-encoded entries, as t_stream.c lays them out:
 *
 *   master: count, deleted, num-fields, field-1..field-N, 0
 *   entry:  flags, ms-diff, seq-diff, [num-fields, f1, v1, ...] | v1..vN, lp-count
 *
 * (SAMEFIELDS entries store only values; DELETED entries stay as
 * tombstones until the node empties.) Keeping Redis's bytes makes memory
 * per entry Redis-like and lets RDB write and load nodes as they are.
 *
 * Elements are read and written in place with Redis's listpack element
 * encoding (redis-listpack.ts).
 */
import {
  type Bytes,
  elementEquals,
  elementInt,
  elementSize,
  elementStr,
  emitElement,
  type EntrySink,
  nextElement,
  writeElement,
} from "./redis-listpack.ts";
import { addU64, compareParts, subU64, type U64, u64 } from "./stream-id.ts";

export type { Bytes, EntrySink };
export { elementInt, nextElement };

export const FLAG_DELETED = 1;
export const FLAG_SAMEFIELDS = 2;

const HEADER = 6;
const EOF = 0xff;
/** Redis's STREAM_LISTPACK_MAX_PRE_ALLOCATE. */
const PREALLOC = 4096;

/** A delta as stored: the uint64 difference read as int64, as lpAppendInteger((int64_t)diff). */
function deltaInt(d: U64): number | bigint {
  return typeof d === "number" ? d : BigInt.asIntN(64, d);
}

/** A stored delta back to a uint64 part. */
export function deltaU64(v: number | bigint): U64 {
  if (typeof v === "number" && v >= 0) return v;
  if (v !== v) return 0; // a string element where a delta belongs: damage an unchecked RESTORE let in
  return u64(BigInt.asUintN(64, BigInt(v)));
}

export class StreamNode {
  /** The master ID, the node's key in the stream's ordered index. */
  ms: U64;
  seq: U64;
  /** A Redis listpack in lp[0, bytes); lp may have spare room after it. */
  lp: Uint8Array;
  bytes: number;
  /** Mirrors of the master entry's count and deleted (live entries and tombstones). */
  live = 0;
  deleted = 0;
  /**
   * Where the last walk stopped (an entry's flags position, -1 for none) and
   * that entry's ID: a walk for an ID at or after it starts there. Readers
   * take entries in order (XREADGROUP >, XREAD, XACK after them), so each
   * call skips the node's entries before the last one instead of walking
   * from the master entry (~50 on average). Only writeInt moves entries.
   */
  private hintPos = -1;
  private hintMs: U64 = 0;
  private hintSeq: U64 = 0;
  /** Where the master entry's num-fields element lies once found (-1 before): every XADD compares its fields. */
  private masterAt = -1;

  constructor(ms: U64, seq: U64, lp: Uint8Array, bytes: number) {
    this.ms = ms;
    this.seq = seq;
    this.lp = lp;
    this.bytes = bytes;
  }

  /** A new node whose master entry takes its fields from the first entry (fields at even offsets of fv from `from`). */
  static create(ms: U64, seq: U64, fv: Bytes[], maxBytes: number, from = 0): StreamNode {
    const cap = maxBytes > 0 && maxBytes < PREALLOC ? maxBytes : PREALLOC;
    const node = new StreamNode(ms, seq, new Uint8Array(cap), HEADER + 1);
    node.lp[HEADER] = EOF;
    const nf = (fv.length - from) >> 1;
    node.push(0); // count, set below
    node.push(0);
    node.push(nf);
    for (let i = from; i < fv.length; i += 2) node.push(fv[i]);
    node.push(0);
    return node;
  }

  /**
   * Node from a listpack loaded as is (RDB); count and deleted read from its
   * master entry. Null when the master entry (count, deleted, num-fields, the
   * fields, 0) does not lie whole inside lp with counts that are integers:
   * checked on every load, since without sanitize-dump-payload nothing else
   * is, and every use of a node starts from its master entry.
   */
  static fromListpack(ms: U64, seq: U64, lp: Uint8Array): StreamNode | null {
    const end = lp.length - 1;
    let p = HEADER;
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const next = p < end ? nextElement(lp, p) : NaN;
      const n = next <= end ? Number(elementInt(lp, p)) : NaN;
      if (!(Number.isSafeInteger(n) && n >= 0)) return null;
      counts.push(n);
      p = next;
    }
    for (let i = 0; i < counts[2] && p < end; i++) p = nextElement(lp, p);
    if (!(p < end && nextElement(lp, p) <= end && elementInt(lp, p) === 0)) return null;
    const node = new StreamNode(ms, seq, lp, lp.length);
    node.live = counts[0];
    node.deleted = counts[1];
    return node;
  }

  /** The listpack's exact bytes (a view). */
  listpack(): Uint8Array {
    return this.lp.subarray(0, this.bytes);
  }

  clone(): StreamNode {
    const n = new StreamNode(this.ms, this.seq, this.lp.slice(0, this.bytes), this.bytes);
    n.live = this.live;
    n.deleted = this.deleted;
    return n;
  }

  /** Drops spare capacity (lpShrinkToFit when a node fills up). */
  shrink(): void {
    if (this.lp.length > this.bytes) this.lp = this.lp.slice(0, this.bytes);
  }

  private reserve(extra: number): void {
    const need = this.bytes + extra;
    if (need <= this.lp.length) return;
    const grown = new Uint8Array(Math.max(need, Math.min(this.lp.length * 2, need + 4096)));
    grown.set(this.lp.subarray(0, this.bytes));
    this.lp = grown;
  }

  private setHeader(addElements: number): void {
    const lp = this.lp;
    const total = this.bytes;
    lp[0] = total & 0xff;
    lp[1] = (total >>> 8) & 0xff;
    lp[2] = (total >>> 16) & 0xff;
    lp[3] = (total >>> 24) & 0xff;
    const num = lp[4] | (lp[5] << 8);
    if (addElements !== 0 && num !== 65535) {
      const n = num + addElements < 65535 ? num + addElements : 65535;
      lp[4] = n & 0xff;
      lp[5] = n >> 8;
    }
  }

  /** Appends one element at the end (the master entry; append() writes a whole entry at once). */
  private push(v: Bytes | number | bigint): void {
    // Room for the largest encoding of v: a 5-byte length or 9-byte integer, and a 5-byte backlen.
    this.reserve((typeof v === "number" || typeof v === "bigint" ? 0 : v.length) + 16);
    const end = writeElement(this.lp, this.bytes - 1, v);
    this.lp[end] = EOF;
    this.bytes = end + 1;
    this.setHeader(1);
  }

  /** Replaces the integer element at p (lpReplaceInteger), shifting the tail when its size changes. */
  replaceInt(p: number, v: number): void {
    this.writeInt(p, v);
    this.setHeader(0);
  }

  /** replaceInt() without the header update. */
  private writeInt(p: number, v: number): void {
    const old = nextElement(this.lp, p) - p;
    const size = elementSize(v);
    if (size !== old) {
      this.hintPos = -1;
      this.masterAt = -1;
      this.reserve(size - old);
      this.lp.copyWithin(p + size, p + old, this.bytes);
      this.bytes += size - old;
    }
    writeElement(this.lp, p, v);
  }

  /**
   * A count element read at p (num-fields, a field count) as a loop bound:
   * never more than the elements that fit between p and the end (each takes
   * at least 2 bytes), 0 when it is not a count at all. A node restored
   * unchecked (sanitize-dump-payload no) may hold any bytes, and a walk must
   * end however damaged they are.
   */
  private count(v: number | bigint, p: number): number {
    const n = Number(v);
    const room = (this.bytes - 1 - p) >> 1;
    return n >= 0 ? (n < room ? n : room) : 0;
  }

  /** Position of the master entry's num-fields element. */
  masterFieldsPos(): number {
    if (this.masterAt < 0) this.masterAt = nextElement(this.lp, nextElement(this.lp, HEADER));
    return this.masterAt;
  }

  /** Position of the first entry (after the master entry's zero terminator). */
  firstEntryPos(): number {
    const lp = this.lp;
    let p = this.masterFieldsPos();
    const nf = this.count(elementInt(lp, p), p);
    p = nextElement(lp, p);
    for (let i = 0; i < nf; i++) p = nextElement(lp, p);
    return nextElement(lp, p);
  }

  /** True when the entry's fields (fv from `from`) equal the master fields (so it can be SAMEFIELDS). */
  private sameFields(fv: Bytes[], from: number): boolean {
    const lp = this.lp;
    let p = this.masterFieldsPos();
    const nf = Number(elementInt(lp, p));
    if (nf * 2 !== fv.length - from) return false;
    p = nextElement(lp, p);
    for (let i = from; i < fv.length; i += 2) {
      if (!elementEquals(lp, p, fv[i])) return false;
      p = nextElement(lp, p);
    }
    return true;
  }

  /** Bytes a new entry would add, for the node-size check (Redis uses the raw field and value lengths). */
  static rawSize(fv: Bytes[], from = 0): number {
    let n = 0;
    for (let i = from; i < fv.length; i++) n += fv[i].length;
    return n;
  }

  /**
   * Appends an entry, its fields and values alternating in fv from `from`
   * (XADD passes its argv), and counts it live. Room for the whole entry is
   * made once and the header written once: an XADD is one append. raw is
   * rawSize(fv, from), passed by a caller that has already summed it.
   */
  append(ms: U64, seq: U64, fv: Bytes[], from = 0, raw = StreamNode.rawSize(fv, from)): void {
    const same = this.live + this.deleted > 0 ? this.sameFields(fv, from) : true;
    const n = fv.length - from;
    const nf = n >> 1;
    // Each element's largest overhead: a 5-byte length or a 9-byte integer, and a 5-byte backlen.
    this.reserve(raw + 14 * (n + 5));
    const lp = this.lp;
    let p = this.bytes - 1;
    p = writeElement(lp, p, same ? FLAG_SAMEFIELDS : 0);
    p = writeElement(lp, p, deltaInt(subU64(ms, this.ms)));
    p = writeElement(lp, p, deltaInt(subU64(seq, this.seq)));
    if (same) {
      for (let i = from + 1; i < fv.length; i += 2) p = writeElement(lp, p, fv[i]);
      p = writeElement(lp, p, nf + 3);
    } else {
      p = writeElement(lp, p, nf);
      for (let i = from; i < fv.length; i++) p = writeElement(lp, p, fv[i]);
      p = writeElement(lp, p, nf * 2 + 4);
    }
    lp[p] = EOF;
    this.bytes = p + 1;
    this.live++;
    this.writeInt(HEADER, this.live);
    this.setHeader(same ? nf + 4 : 2 * nf + 5);
  }

  setLive(n: number): void {
    this.live = n;
    this.replaceInt(HEADER, n);
  }

  setDeleted(n: number): void {
    this.deleted = n;
    this.replaceInt(nextElement(this.lp, HEADER), n);
  }

  /**
   * Walks the entries in order. fn gets the entry's flags position, flags,
   * ID parts and the position of its first field element; it returns false
   * to stop. Tombstones are included (check flags). Given an ID, the walk
   * may skip entries before it.
   */
  walk(fn: (pos: number, flags: number, ms: U64, seq: U64) => boolean | void, fromMs?: U64, fromSeq?: U64): void {
    const lp = this.lp;
    const mpos = this.masterFieldsPos();
    const mf = this.count(elementInt(lp, mpos), mpos);
    const hinted = this.hintPos >= 0 && fromMs !== undefined &&
      compareParts(this.hintMs, this.hintSeq, fromMs, fromSeq!) <= 0;
    let p = hinted ? this.hintPos : this.firstEntryPos();
    const end = this.bytes - 1;
    while (p < end) {
      const flags = Number(elementInt(lp, p));
      const msAt = nextElement(lp, p);
      const seqAt = nextElement(lp, msAt);
      let q = nextElement(lp, seqAt);
      let skip = mf;
      if (!(flags & FLAG_SAMEFIELDS)) {
        if (!(q < end)) return;
        skip = this.count(elementInt(lp, q), q) * 2;
        q = nextElement(lp, q);
      }
      for (let i = 0; i < skip; i++) q = nextElement(lp, q);
      const next = q < end ? nextElement(lp, q) : NaN; // after the lp-count
      // An entry running past the end (damage an unchecked RESTORE let in) ends the walk before fn reads it.
      if (!(next <= end)) return;
      const ms = addU64(this.ms, deltaU64(elementInt(lp, msAt)));
      const seq = addU64(this.seq, deltaU64(elementInt(lp, seqAt)));
      if (fn(p, flags, ms, seq) === false) {
        this.hintPos = p;
        this.hintMs = ms;
        this.hintSeq = seq;
        return;
      }
      p = next;
    }
  }

  /** The flat field/value list of the entry whose flags are at pos. */
  fields(pos: number): string[] {
    const lp = this.lp;
    const flags = Number(elementInt(lp, pos));
    let q = nextElement(lp, nextElement(lp, nextElement(lp, pos)));
    const out: string[] = [];
    if (flags & FLAG_SAMEFIELDS) {
      let m = this.masterFieldsPos();
      const nf = this.count(elementInt(lp, m), m);
      m = nextElement(lp, m);
      for (let i = 0; i < nf; i++) {
        out.push(elementStr(lp, m), elementStr(lp, q));
        m = nextElement(lp, m);
        q = nextElement(lp, q);
      }
    } else {
      const nf = this.count(elementInt(lp, q), q) * 2;
      q = nextElement(lp, q);
      for (let i = 0; i < nf; i++) {
        out.push(elementStr(lp, q));
        q = nextElement(lp, q);
      }
    }
    return out;
  }

  /** Sets the DELETED flag of the entry at pos (a same-size rewrite; counters untouched). */
  markFlag(pos: number): void {
    writeElement(this.lp, pos, (elementInt(this.lp, pos) as number) | FLAG_DELETED);
  }

  /** Writes the field/value array of the entry whose flags are at pos (what fields() returns, without the strings). */
  emit(pos: number, out: EntrySink, names: Uint8Array[] | null = null): void {
    const lp = this.lp;
    const flags = Number(elementInt(lp, pos));
    let q = nextElement(lp, nextElement(lp, nextElement(lp, pos)));
    if (flags & FLAG_SAMEFIELDS) {
      if (names !== null) {
        out.array(names.length * 2);
        for (let i = 0; i < names.length; i++) {
          out.raw(names[i]);
          emitElement(lp, q, out);
          q = nextElement(lp, q);
        }
        return;
      }
      let m = this.masterFieldsPos();
      const nf = this.count(elementInt(lp, m), m);
      m = nextElement(lp, m);
      out.array(nf * 2);
      for (let i = 0; i < nf; i++) {
        emitElement(lp, m, out);
        emitElement(lp, q, out);
        m = nextElement(lp, m);
        q = nextElement(lp, q);
      }
      return;
    }
    const n = this.count(elementInt(lp, q), q) * 2;
    q = nextElement(lp, q);
    out.array(n);
    for (let i = 0; i < n; i++) {
      emitElement(lp, q, out);
      q = nextElement(lp, q);
    }
  }

  /**
   * The master field names as encoded bulk strings (`$1\r\na\r\n`), for a
   * reply that repeats them in every SAMEFIELDS entry of this node: emit()
   * then copies them instead of encoding each again.
   */
  masterBulks(): Uint8Array[] {
    const lp = this.lp;
    let m = this.masterFieldsPos();
    const nf = this.count(elementInt(lp, m), m);
    m = nextElement(lp, m);
    const out: Uint8Array[] = [];
    for (let i = 0; i < nf; i++) {
      const name = elementStr(lp, m);
      const head = `$${name.length}\r\n`;
      const b = new Uint8Array(head.length + name.length + 2);
      for (let k = 0; k < head.length; k++) b[k] = head.charCodeAt(k);
      for (let k = 0; k < name.length; k++) b[head.length + k] = name.charCodeAt(k);
      b[b.length - 2] = 13;
      b[b.length - 1] = 10;
      out.push(b);
      m = nextElement(lp, m);
    }
    return out;
  }

  /** Marks the entry at pos deleted (same-size flag rewrite) and updates the master counters. */
  markDeleted(pos: number): void {
    this.markFlag(pos);
    this.setLive(this.live - 1);
    this.setDeleted(this.deleted + 1);
  }
}
