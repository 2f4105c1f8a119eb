/**
 * The sorted set type, in Redis's two encodings. Small sets are a listpack:
 * one binary string (one byte per char) holding a varint count and then the
 * entries sorted by (score, member), each a varint length, the member bytes
 * and the score (a zigzag varint when it is a small integer, else 8 IEEE
 * bytes). Past zset-max-listpack-entries entries or a member longer than
 * zset-max-listpack-value the set becomes a skiplist plus a member -> score
 * Map, for good. Commands work on ranks: countWhile() finds where a score or
 * lex range starts and ends, range() walks entries from a rank.
 */
import type { Collection } from "./value.ts";
import { SkipList } from "./skiplist.ts";

export interface ZsetLimits {
  /** zset-max-listpack-entries */
  entries: number;
  /** zset-max-listpack-value */
  value: number;
}

export type Visit = (member: string, score: number) => void;

// ---- the listpack string ----

/** Integers up to this magnitude are packed as varints; others as doubles. */
const MAX_PACKED_INT = 2 ** 52;
const INT_TAG = "\x00";
const DOUBLE_TAG = "\x01";
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

function varint(n: number): string {
  let s = "";
  while (n >= 128) {
    s += String.fromCharCode((n % 128) + 128);
    n = Math.floor(n / 128);
  }
  return s + String.fromCharCode(n);
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function readVarint(lp: string, p: number): number {
  let n = 0;
  let mul = 1;
  for (;;) {
    const b = lp.charCodeAt(p++);
    n += (b & 127) * mul;
    if (b < 128) return n;
    mul *= 128;
  }
}

function packScore(score: number): string {
  // -0 packs as the integer 0, as in Redis's listpack (where only the skiplist keeps -0).
  if (Number.isInteger(score) && Math.abs(score) <= MAX_PACKED_INT) {
    return INT_TAG + varint(score >= 0 ? score * 2 : -score * 2 - 1);
  }
  f64[0] = score;
  return DOUBLE_TAG + String.fromCharCode(...f64Bytes);
}

/**
 * Forces a string built by concatenation into one flat buffer. Left as a
 * rope of slices it would keep every earlier version of the listpack alive.
 */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

function packEntry(member: string, score: number): string {
  return varint(member.length) + member + packScore(score);
}

/** The score whose tag is at q. */
function scoreAt(lp: string, q: number): number {
  if (lp.charCodeAt(q) === 0) {
    const z = readVarint(lp, q + 1);
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  for (let i = 0; i < 8; i++) f64Bytes[i] = lp.charCodeAt(q + 1 + i);
  return f64[0];
}

/** The offset just past the score whose tag is at q. */
function afterScore(lp: string, q: number): number {
  if (lp.charCodeAt(q) !== 0) return q + 9;
  q++;
  while (lp.charCodeAt(q) >= 128) q++;
  return q + 1;
}

/** Where the first entry starts: just past the count. */
function firstEntry(lp: string): number {
  let p = 0;
  while (lp.charCodeAt(p) >= 128) p++;
  return p + 1;
}

/**
 * A cursor over listpack entries. `p` is the entry's offset; after load(),
 * `ms`/`len` locate its member and `q` its score tag.
 */
class Cursor {
  p: number;
  ms = 0;
  len = 0;
  q = 0;

  constructor(readonly lp: string) {
    this.p = firstEntry(lp);
  }

  get done(): boolean {
    return this.p >= this.lp.length;
  }

  load(): void {
    this.len = readVarint(this.lp, this.p);
    this.ms = this.p + varintSize(this.len);
    this.q = this.ms + this.len;
  }

  member(): string {
    return this.lp.slice(this.ms, this.q);
  }

  score(): number {
    return scoreAt(this.lp, this.q);
  }

  is(member: string): boolean {
    return this.len === member.length && this.lp.startsWith(member, this.ms);
  }

  advance(): void {
    this.p = afterScore(this.lp, this.q);
  }
}

function unpack(lp: string): { members: string[]; scores: number[] } {
  const members: string[] = [];
  const scores: number[] = [];
  for (const cur = new Cursor(lp); !cur.done; cur.advance()) {
    cur.load();
    members.push(cur.member());
    scores.push(cur.score());
  }
  return { members, scores };
}

// ---- the skiplist form ----

class Big {
  readonly list = new SkipList();
  readonly dict = new Map<string, number>();

  add(member: string, score: number): void {
    this.list.insert(score, member);
    this.dict.set(member, score);
  }
}

// ---- the type ----

export class ZSet implements Collection {
  /** A listpack string, or the skiplist form. */
  private rep: string | Big;

  constructor() {
    this.rep = varint(0);
  }

  /** A set from entries already sorted by (score, member), in the encoding their count and lengths call for. */
  static fromSorted(members: string[], scores: number[], limits: ZsetLimits): ZSet {
    const z = new ZSet();
    const fits = members.length <= limits.entries && members.every((m) => m.length <= limits.value);
    if (fits) {
      let body = varint(members.length);
      for (let i = 0; i < members.length; i++) body += packEntry(members[i], scores[i]);
      z.rep = flat(body);
    } else {
      const big = new Big();
      for (let i = 0; i < members.length; i++) big.add(members[i], scores[i]);
      z.rep = big;
    }
    return z;
  }

  get type(): "zset" {
    return "zset";
  }

  get size(): number {
    return typeof this.rep === "string" ? readVarint(this.rep, 0) : this.rep.dict.size;
  }

  encoding(): string {
    return typeof this.rep === "string" ? "listpack" : "skiplist";
  }

  score(member: string): number | undefined {
    const rep = this.rep;
    if (typeof rep !== "string") return rep.dict.get(member);
    for (const cur = new Cursor(rep); !cur.done; cur.advance()) {
      cur.load();
      if (cur.is(member)) return cur.score();
    }
    return undefined;
  }

  /** 0-based ascending rank, or undefined when absent. */
  rank(member: string): number | undefined {
    const rep = this.rep;
    if (typeof rep !== "string") {
      const score = rep.dict.get(member);
      return score === undefined ? undefined : rep.list.rankOf(score, member);
    }
    let rank = 0;
    for (const cur = new Cursor(rep); !cur.done; cur.advance(), rank++) {
      cur.load();
      if (cur.is(member)) return rank;
    }
    return undefined;
  }

  /** Sets member's score, adding it if absent; returns true when added. Converts past the limits. */
  set(member: string, score: number, limits: ZsetLimits): boolean {
    const rep = this.rep;
    if (typeof rep !== "string") {
      const old = rep.dict.get(member);
      if (old !== undefined) {
        if (old === score) return false;
        rep.list.delete(old, member);
      }
      rep.add(member, score);
      return old === undefined;
    }
    const added = this.lpRemove(member) === false;
    this.lpInsert(member, score);
    if (this.size > limits.entries || member.length > limits.value) this.convert();
    return added;
  }

  remove(member: string): boolean {
    const rep = this.rep;
    if (typeof rep === "string") return this.lpRemove(member);
    const score = rep.dict.get(member);
    if (score === undefined) return false;
    rep.dict.delete(member);
    rep.list.delete(score, member);
    return true;
  }

  /**
   * How many leading entries (in ascending order) satisfy `inPrefix`, a test
   * that holds for a prefix of the order and then fails (e.g. score < min).
   */
  countWhile(inPrefix: (score: number, member: string) => boolean): number {
    const rep = this.rep;
    if (typeof rep !== "string") return rep.list.countWhile(inPrefix);
    let n = 0;
    for (const cur = new Cursor(rep); !cur.done; cur.advance(), n++) {
      cur.load();
      if (!inPrefix(cur.score(), cur.member())) break;
    }
    return n;
  }

  /** Visits up to `count` entries starting at ascending rank `start`, going up, or down when rev. */
  range(start: number, count: number, rev: boolean, visit: Visit): void {
    const rep = this.rep;
    if (typeof rep === "string") {
      const { members, scores } = unpack(rep);
      const step = rev ? -1 : 1;
      for (let i = start; count > 0 && i >= 0 && i < members.length; i += step, count--) visit(members[i], scores[i]);
      return;
    }
    for (let n = rep.list.at(start); n !== null && count > 0; n = rev ? n.backward : n.next[0], count--) {
      visit(n.member, n.score);
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
    const rep = this.rep;
    if (typeof rep !== "string") return;
    const big = new Big();
    for (const cur = new Cursor(rep); !cur.done; cur.advance()) {
      cur.load();
      big.add(cur.member(), cur.score());
    }
    this.rep = big;
  }

  clone(): ZSet {
    const z = new ZSet();
    const rep = this.rep;
    if (typeof rep === "string") z.rep = rep;
    else {
      const big = new Big();
      for (let n = rep.list.first; n !== null; n = n.next[0]) big.add(n.member, n.score);
      z.rep = big;
    }
    return z;
  }

  memoryUsage(): number {
    const rep = this.rep;
    if (typeof rep === "string") return 32 + rep.length;
    let bytes = 64;
    for (let n = rep.list.first; n !== null; n = n.next[0]) bytes += 96 + n.member.length + 16 * n.next.length;
    return bytes;
  }

  private setBody(count: number, body: string): void {
    this.rep = flat(varint(count) + body);
  }

  private lpRemove(member: string): boolean {
    const lp = this.rep as string;
    for (const cur = new Cursor(lp); !cur.done; cur.advance()) {
      cur.load();
      if (!cur.is(member)) continue;
      const start = firstEntry(lp);
      this.setBody(readVarint(lp, 0) - 1, lp.slice(start, cur.p) + lp.slice(afterScore(lp, cur.q)));
      return true;
    }
    return false;
  }

  private lpInsert(member: string, score: number): void {
    const lp = this.rep as string;
    const cur = new Cursor(lp);
    const start = cur.p;
    for (; !cur.done; cur.advance()) {
      cur.load();
      const s = cur.score();
      if (s > score || (s === score && cur.member() > member)) break;
    }
    this.setBody(readVarint(lp, 0) + 1, lp.slice(start, cur.p) + packEntry(member, score) + lp.slice(cur.p));
  }
}

export function isZset(v: unknown): v is ZSet {
  return v instanceof ZSet;
}
