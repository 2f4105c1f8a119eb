/**
 * The sorted set type, in Redis's two encodings. Small sets are a listpack:
 * one binary string (see packed.ts) holding a varint count and then the
 * entries sorted by (score, member), each a varint length, the member bytes
 * and the score (a varint when it is a small integer, else a tag and 8 IEEE
 * bytes: see MAX_PACKED_INT). Past zset-max-listpack-entries entries or a
 * member longer than zset-max-listpack-value the set takes the "skiplist"
 * encoding for good: an ordered index (zset-index.ts: sorted leaves where
 * Redis has a skiplist) plus a member -> score Map. Commands work on ranks:
 * countWhile() finds where a score or lex range starts and ends, range()
 * walks entries from a rank.
 */
import { type Collection, collectionBase } from "./value.ts";
import { ZsetIndex } from "./zset-index.ts";
import {
  BODY,
  cursor,
  EMPTY_PACKED,
  pack,
  packedCount,
  type PackedOwner,
  readVarint,
  varintSize,
  writeVarint,
} from "./packed.ts";
import { str } from "../util/bytes.ts";

export interface ZsetLimits {
  /** zset-max-listpack-entries */
  entries: number;
  /** zset-max-listpack-value */
  value: number;
}

export type Visit = (member: string, score: number) => void;

/** A member as a binary string, or as an argument's bytes (the listpack compares and copies those as they are). */
export type Member = string | Uint8Array;

function asKey(member: Member): string {
  return typeof member === "string" ? member : str(member);
}

// ---- the listpack entries ----

/**
 * A score is an integer's zigzag code times two as a varint (so its first
 * byte is even), or DOUBLE_TAG (odd) and 8 IEEE bytes. Integers up to this
 * magnitude are packed as varints, which keeps the doubled code exact.
 */
const MAX_PACKED_INT = 2 ** 50;
const DOUBLE_TAG = 1;
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** The entry at pos in the open listpack, decoded by locate(). */
const ent = { memberStart: 0, memberEnd: 0, end: 0, score: 0 };

function locate(buf: Uint8Array, pos: number): void {
  const len = readVarint(buf, pos);
  ent.memberStart = cursor.at;
  const q = (ent.memberEnd = cursor.at + len);
  if (buf[q] !== DOUBLE_TAG) {
    const z = readVarint(buf, q) / 2;
    ent.score = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    ent.end = cursor.at;
  } else {
    for (let i = 0; i < 8; i++) f64Bytes[i] = buf[q + 1 + i];
    ent.score = f64[0];
    ent.end = q + 9;
  }
}

/** -0 packs as the integer 0, as in Redis's listpack (where only the skiplist keeps -0). */
function packsAsInt(score: number): boolean {
  return Number.isInteger(score) && Math.abs(score) <= MAX_PACKED_INT;
}

/** An integer score's code: its zigzag encoding, doubled. */
function intCode(score: number): number {
  return (score >= 0 ? score * 2 : -score * 2 - 1) * 2;
}

/** Bytes the entry (member, score) takes. */
function entrySize(member: Member, score: number): number {
  return varintSize(member.length) + member.length + (packsAsInt(score) ? varintSize(intCode(score)) : 9);
}

/** Writes the entry (member, score) at pos. */
function writeEntry(buf: Uint8Array, pos: number, member: Member, score: number): void {
  const q = writeVarint(buf, pos, member.length);
  pack.write(q, member);
  const t = q + member.length;
  if (packsAsInt(score)) {
    writeVarint(buf, t, intCode(score));
    return;
  }
  buf[t] = DOUBLE_TAG;
  f64[0] = score;
  buf.set(f64Bytes, t + 1);
}

/** Compares the member of the located entry with member, bytewise like memcmp, shorter first on a tie. */
function compareMember(buf: Uint8Array, member: Member): number {
  const { memberStart, memberEnd } = ent;
  const n = Math.min(memberEnd - memberStart, member.length);
  for (let i = 0; i < n; i++) {
    const d = buf[memberStart + i] - (typeof member === "string" ? member.charCodeAt(i) : member[i]);
    if (d !== 0) return d;
  }
  return memberEnd - memberStart - member.length;
}

// ---- the skiplist form (an index and a dict, as Redis's skiplist encoding) ----

/**
 * What a member costs in the skiplist form besides its bytes: its string's
 * header (16), its dict entry (~40) and its index entry (three doubles and
 * a pointer, in leaves ~3/4 full: ~43).
 */
const MEMBER_OVERHEAD = 99;

class Big {
  readonly list = new ZsetIndex();
  readonly dict = new Map<string, number>();

  add(member: string, score: number): void {
    this.list.insert(score, member);
    this.dict.set(member, score);
  }

  remove(member: string): boolean {
    const score = this.dict.get(member);
    if (score === undefined) return false;
    this.dict.delete(member);
    this.list.delete(score, member);
    return true;
  }
}

// ---- the type ----

export class ZSet extends collectionBase("zset") implements Collection, PackedOwner {
  /** A listpack string (see packed.ts), or the skiplist form. */
  private rep: string | Big = EMPTY_PACKED;

  /** A set from entries already sorted by (score, member), in the encoding their count and lengths call for. */
  static fromSorted(members: string[], scores: number[], limits: ZsetLimits): ZSet {
    const z = new ZSet();
    const fits = members.length <= limits.entries && members.every((m) => m.length <= limits.value);
    if (fits) {
      pack.openEmpty(z);
      for (let i = 0; i < members.length; i++) z.append(members[i], scores[i]);
    } else {
      const big = new Big();
      for (let i = 0; i < members.length; i++) big.add(members[i], scores[i]);
      z.rep = big;
    }
    return z;
  }

  /**
   * A set made from its listpack bytes where they lie (the keyspace's arena:
   * see ShardedMap.accessLent), opened straight into the pack buffer with no
   * string on the way. The keyspace revives its values so; readZset hands
   * such a copy to reads without storing it, so changes to that one would
   * be lost.
   */
  static lentCopy(bytes: Uint8Array, at: number, length: number): ZSet {
    const z = new ZSet();
    pack.openBytes(z, bytes, at, length);
    return z;
  }

  /** The listpack's bytes, for a set in that encoding (which the keyspace keeps as bytes: see db.ts). */
  packedBytes(): string {
    return this.packed();
  }

  count(): number {
    const rep = this.rep;
    if (typeof rep !== "string") return rep.dict.size;
    return pack.owner === this ? pack.count : packedCount(rep);
  }

  encoding(): string {
    return typeof this.rep === "string" ? "listpack" : "skiplist";
  }

  /** True in the listpack encoding, which takes members as bytes without a string (see Member). */
  isListpack(): boolean {
    return typeof this.rep === "string";
  }

  packedFlushed(s: string): void {
    this.rep = s;
  }

  score(member: Member): number | undefined {
    const rep = this.rep;
    if (typeof rep !== "string") return rep.dict.get(asKey(member));
    return this.find(member) < 0 ? undefined : ent.score;
  }

  /** 0-based ascending rank, or undefined when absent. */
  rank(member: string): number | undefined {
    const rep = this.rep;
    if (typeof rep !== "string") {
      const score = rep.dict.get(member);
      return score === undefined ? undefined : rep.list.rankOf(score, member);
    }
    const buf = this.open();
    let rank = 0;
    for (let pos = BODY; pos < pack.end; pos = ent.end, rank++) {
      locate(buf, pos);
      if (this.isMember(member)) return rank;
    }
    return undefined;
  }

  /** Sets member's score, adding it if absent; returns true when added. Converts past the limits. */
  set(member: Member, score: number, limits: ZsetLimits): boolean {
    const rep = this.rep;
    if (typeof rep !== "string") {
      const key = asKey(member);
      const old = rep.dict.get(key);
      if (old !== undefined) {
        if (old === score) return false;
        rep.list.delete(old, key);
      }
      rep.add(key, score);
      return old === undefined;
    }
    const added = !this.packedRemove(member);
    this.insert(member, score);
    if (pack.count > limits.entries || member.length > limits.value) this.convert();
    return added;
  }

  remove(member: string): boolean {
    const rep = this.rep;
    return typeof rep === "string" ? this.packedRemove(member) : rep.remove(member);
  }

  /**
   * How many leading entries (in ascending order) satisfy `inPrefix`, a test
   * that holds for a prefix of the order and then fails (e.g. score < min).
   * inPrefix only compares: it must not touch other collections.
   */
  countWhile(inPrefix: (score: number, member: string) => boolean): number {
    const rep = this.rep;
    if (typeof rep !== "string") return rep.list.countWhile(inPrefix);
    const buf = this.open();
    let n = 0;
    for (let pos = BODY; pos < pack.end; pos = ent.end, n++) {
      locate(buf, pos);
      if (!inPrefix(ent.score, pack.string(ent.memberStart, ent.memberEnd))) break;
    }
    return n;
  }

  /** Visits up to `count` entries starting at ascending rank `start`, going up, or down when rev. */
  range(start: number, count: number, rev: boolean, visit: Visit): void {
    const rep = this.rep;
    if (typeof rep === "string") {
      const { members, scores } = this.unpack();
      const step = rev ? -1 : 1;
      for (let i = start; count > 0 && i >= 0 && i < members.length; i += step, count--) visit(members[i], scores[i]);
      return;
    }
    rep.list.visitRange(start, count, rev, visit);
  }

  /**
   * Visits the entries with min <= score < max in ascending order until
   * visit returns true (the geo commands' walk over a geohash cell). Like
   * countWhile's test, visit must not touch other collections.
   */
  scoreRange(min: number, max: number, visit: (member: string, score: number) => boolean): void {
    const rep = this.rep;
    if (typeof rep !== "string") {
      return rep.list.visitFromScore(min, (member, score) => score >= max || visit(member, score));
    }
    const buf = this.open();
    for (let pos = BODY; pos < pack.end; pos = ent.end) {
      locate(buf, pos);
      if (ent.score < min) continue;
      if (ent.score >= max) return;
      const end = ent.end;
      if (visit(pack.string(ent.memberStart, ent.memberEnd), ent.score)) return;
      ent.end = end;
    }
  }

  /** Every entry in ascending order. */
  forEach(visit: Visit): void {
    this.range(0, this.size, false, visit);
  }

  /** The members, for iteration over a live set (ZSCAN of the skiplist form); null for a listpack. */
  memberKeys(): IterableIterator<string> | null {
    return typeof this.rep === "string" ? null : this.rep.dict.keys();
  }

  /** Switches to the skiplist form for good (SORT does this to the set it sorts, as Redis does). */
  convert(): void {
    if (typeof this.rep !== "string") return;
    const { members, scores } = this.unpack();
    const big = new Big();
    for (let i = 0; i < members.length; i++) big.add(members[i], scores[i]);
    pack.release(this);
    this.rep = big;
  }

  clone(): ZSet {
    const z = new ZSet();
    const rep = this.rep;
    if (typeof rep === "string") z.rep = this.packed();
    else {
      const big = new Big();
      rep.list.visitRange(0, rep.list.length, false, (member, score) => big.add(member, score));
      z.rep = big;
    }
    return z;
  }

  /** See Collection.memoryUsage: a skiplist's first `samples` members (0: all) stand for the rest, as Redis samples. */
  memoryUsage(samples = 0): number {
    const rep = this.rep;
    // The buffer's length, not packed(): measuring must not turn a value being edited back into a string.
    if (typeof rep === "string") return 32 + pack.lengthOf(this, rep);
    const size = rep.dict.size;
    const n = samples > 0 && samples < size ? samples : size;
    let members = 0;
    rep.list.visitRange(0, n, false, (member) => void (members += MEMBER_OVERHEAD + member.length));
    return 64 + (n === size ? members : Math.floor((members / n) * size));
  }

  // ---- the listpack, open in the shared buffer ----

  private open(): Uint8Array {
    return pack.open(this, this.rep as string);
  }

  /** The listpack as a string, with any edits in the buffer. */
  private packed(): string {
    if (pack.owner === this) pack.flush();
    return this.rep as string;
  }

  /** True when the located entry's member is member. */
  private isMember(member: Member): boolean {
    return ent.memberEnd - ent.memberStart === member.length && pack.equals(ent.memberStart, member);
  }

  /** Offset of member's entry (located in `ent`), or -1. */
  private find(member: Member): number {
    const buf = this.open();
    for (let pos = BODY; pos < pack.end; pos = ent.end) {
      locate(buf, pos);
      if (this.isMember(member)) return pos;
    }
    return -1;
  }

  private unpack(): { members: string[]; scores: number[] } {
    const members: string[] = [];
    const scores: number[] = [];
    const buf = this.open();
    for (let pos = BODY; pos < pack.end; pos = ent.end) {
      locate(buf, pos);
      members.push(pack.string(ent.memberStart, ent.memberEnd));
      scores.push(ent.score);
    }
    return { members, scores };
  }

  private packedRemove(member: Member): boolean {
    const pos = this.find(member);
    if (pos < 0) return false;
    pack.splice(pos, ent.end - pos, 0);
    pack.count--;
    pack.changed();
    return true;
  }

  /** Inserts an absent member at its place in (score, member) order. */
  private insert(member: Member, score: number): void {
    const buf = this.open();
    let pos = BODY;
    for (; pos < pack.end; pos = ent.end) {
      locate(buf, pos);
      if (ent.score > score || (ent.score === score && compareMember(buf, member) > 0)) break;
    }
    this.put(pos, member, score);
  }

  /** Appends an entry that sorts after every other one. */
  private append(member: string, score: number): void {
    this.put(pack.end, member, score);
  }

  private put(pos: number, member: Member, score: number): void {
    pack.splice(pos, 0, entrySize(member, score));
    writeEntry(pack.buf, pos, member, score);
    pack.count++;
    pack.changed();
  }
}

export function isZset(v: unknown): v is ZSet {
  return v instanceof ZSet;
}
