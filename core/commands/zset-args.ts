/**
 * What the sorted-set commands share: reading zset keys, the listpack
 * limits from the config, Redis's score and lex range syntax, the
 * strtod-style number reading behind it, and the scored-array reply.
 */
import type { Client } from "../server/client.ts";
import { ERR, lent, readLent } from "./args.ts";
import { str } from "../util/bytes.ts";
import { parseDouble } from "../util/number.ts";
import { isZset, ZSet, type ZsetLimits } from "../types/zset.ts";
import { LENT } from "../db/sharded-map.ts";
import { PACKED_ZSET } from "../db/db.ts";
import type { Value } from "../types/value.ts";
import { fromConfig } from "./collection-args.ts";

export const ERR_RANGE_FLOAT = "ERR min or max is not a float";
export const ERR_RANGE_LEX = "ERR min or max not valid string range item";
export const ERR_NAN = "ERR resulting score is not a number (NaN)";

/** Replies an error and returns null, for parsers that return null on failure. */
export function fail(c: Client, msg: string): null {
  c.error(msg);
  return null;
}

export const zsetLimits = fromConfig(
  ["zset-max-listpack-entries", "zset-max-listpack-value"],
  (config): ZsetLimits => ({ entries: config.num("zset-max-listpack-entries"), value: config.num("zset-max-listpack-value") }),
);

function checkZset(c: Client, v: Value | undefined): ZSet | undefined | null {
  if (v === undefined || isZset(v)) return v;
  return fail(c, ERR.wrongType);
}

/**
 * A zset for a read: undefined when missing, null (WRONGTYPE sent) when
 * another type. A set the keyspace keeps as bytes comes as a copy read in
 * place (ZSet.lentCopy), so callers must not change what they get.
 */
export function readZset(c: Client, key: string): ZSet | undefined | null {
  const v = readLent(c, key, PACKED_ZSET);
  if (v === LENT) return ZSet.lentCopy(lent.bytes, lent.at, lent.length);
  return v === null ? null : checkZset(c, v);
}

/** Like readZset for writes: no hit/miss counting. */
export function writableZset(c: Client, key: string): ZSet | undefined | null {
  return checkZset(c, c.db.lookup(key, c.engine.now));
}

/** After a command removed entries, announced as `event` (zrem, zpopmin...): deletes the key if it emptied, with Redis's del event after it. */
export function afterRemoval(c: Client, key: string, z: ZSet, event: string): void {
  c.engine.notify(c.db, event, key, "z");
  if (z.size === 0) {
    c.db.delete(key);
    c.engine.notify(c.db, "del", key, "g");
  }
  c.engine.keyWritten(c.db, key);
}

/** Stores a computed zset at key (dropping its TTL) announced as `event`, or deletes key (a del event) when the result is empty. */
export function storeResult(c: Client, key: string, z: ZSet, event: string): void {
  if (z.size > 0) {
    c.db.set(key, z);
    c.engine.notify(c.db, event, key, "z");
  } else if (c.db.delete(key)) c.engine.notify(c.db, "del", key, "g");
  else return;
  c.engine.keyWritten(c.db, key);
}

// ---- numbers ----

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const HEX = /^[+-]?0[xX][0-9a-fA-F]+$/;
const INFINITY = /^[+-]?(inf|infinity)$/i;
const LEADING_SPACE = /^[ \t\n\v\f\r]+/;

/**
 * C's strtod over a whole string, as Redis calls it for ranges and SORT:
 * leading whitespace skipped, "" reads as 0, overflow gives ±inf with
 * `erange` set. Null when the string is not entirely a number (or is NaN).
 */
export function strtod(s: string): { value: number; erange: boolean } | null {
  if (s === "") return { value: 0, erange: false };
  const t = s.replace(LEADING_SPACE, "");
  if (INFINITY.test(t)) return { value: t.charCodeAt(0) === 45 ? -Infinity : Infinity, erange: false };
  let value: number;
  if (DECIMAL.test(t)) value = Number(t);
  else if (HEX.test(t)) value = t.charCodeAt(0) === 45 ? -Number(t.slice(1)) : Number(t.replace(/^\+/, ""));
  else return null;
  const erange = !Number.isFinite(value) || (value === 0 && /[1-9a-fA-F]/.test(mantissa(t)));
  return { value, erange };
}

function mantissa(t: string): string {
  return HEX.test(t) ? t.replace(/^[+-]?0[xX]/, "") : t.replace(/[eE].*$/, "");
}

/** A score argument (ZADD, ZINCRBY, WEIGHTS): like floatArg, but underflow to zero is refused as Redis does. */
export function parseScore(arg: Uint8Array): number | null {
  const plain = plainNumber(arg);
  if (plain !== null) return plain;
  const s = str(arg);
  const v = parseDouble(s);
  if (v === 0 && /[1-9a-fA-F]/.test(mantissa(s))) return null;
  return v;
}

const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * Up to 15 decimal digits after an optional '-', with at most one '.' (a
 * GEOADD coordinate), read without making a string: the digits and 10^k are
 * exact doubles, so their quotient is the correctly rounded value strtod
 * gives.
 */
function plainNumber(arg: Uint8Array): number | null {
  const n = arg.length;
  const negative = arg[0] === 45;
  let i = negative ? 1 : 0;
  if (n === i || n > 17) return null;
  let v = 0;
  let digits = 0;
  let point = -1;
  for (; i < n; i++) {
    const c = arg[i];
    if (c === 46 && point < 0) {
      point = i;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
    digits++;
  }
  if (digits === 0 || digits > 15) return null;
  const value = point < 0 ? v : v / POW10[n - 1 - point];
  return negative ? -value : value;
}

// ---- ranges ----

export interface ScoreRange {
  min: number;
  max: number;
  minEx: boolean;
  maxEx: boolean;
}

function scoreBound(s: string): { v: number; ex: boolean } | null {
  const ex = s.charCodeAt(0) === 40; // '('
  const r = strtod(ex ? s.slice(1) : s);
  return r === null ? null : { v: r.value, ex };
}

/** ZRANGEBYSCORE-style bounds: numbers, inf, `(` for exclusive. */
export function parseScoreRange(min: Uint8Array, max: Uint8Array): ScoreRange | null {
  const lo = scoreBound(str(min));
  const hi = scoreBound(str(max));
  if (lo === null || hi === null) return null;
  return { min: lo.v, max: hi.v, minEx: lo.ex, maxEx: hi.ex };
}

/** A lex bound: `-`/`+` are the ends of the order (inf -1/+1), else `[x` or `(x`. */
export interface LexBound {
  inf: -1 | 0 | 1;
  value: string;
  ex: boolean;
}

export interface LexRange {
  min: LexBound;
  max: LexBound;
}

function lexBound(s: string): LexBound | null {
  const first = s.charAt(0);
  if (first === "+" || first === "-") return s.length === 1 ? { inf: first === "+" ? 1 : -1, value: "", ex: true } : null;
  if (first === "(" || first === "[") return { inf: 0, value: s.slice(1), ex: first === "(" };
  return null;
}

export function parseLexRange(min: Uint8Array, max: Uint8Array): LexRange | null {
  const lo = lexBound(str(min));
  const hi = lexBound(str(max));
  return lo === null || hi === null ? null : { min: lo, max: hi };
}

/** [first, end) ascending ranks of the entries within a score range. */
export function scoreRanks(z: ZSet, r: ScoreRange): [number, number] {
  const first = z.countWhile((s) => (r.minEx ? s <= r.min : s < r.min));
  const end = z.countWhile((s) => (r.maxEx ? s < r.max : s <= r.max));
  return [first, Math.max(first, end)];
}

/** [first, end) ascending ranks of the entries within a lex range. */
export function lexRanks(z: ZSet, r: LexRange): [number, number] {
  const { min, max } = r;
  const belowMin = (m: string) => min.inf === 1 || (min.inf === 0 && (min.ex ? m <= min.value : m < min.value));
  const upToMax = (m: string) => max.inf === 1 || (max.inf === 0 && (max.ex ? m < max.value : m <= max.value));
  // Redis's up-front checks (zslIsInLexRange), which matter when members are not in order (mixed scores).
  const last = collect(z, z.size - 1, 1, false).members[0];
  const first = collect(z, 0, 1, false).members[0];
  if (lexEmpty(min, max) || last === undefined || belowMin(last) || !upToMax(first)) return [0, 0];
  const start = z.countWhile((_, m) => belowMin(m));
  const end = z.countWhile((_, m) => upToMax(m));
  return [start, Math.max(start, end)];
}

/** True when min > max (or equal with an exclusive end), comparing `-`/`+` as the ends of the order. */
function lexEmpty(min: LexBound, max: LexBound): boolean {
  if (min.inf === 1 || max.inf === -1) return true;
  if (min.inf === -1 || max.inf === 1) return false;
  return min.value > max.value || (min.value === max.value && (min.ex || max.ex));
}

// ---- replies ----

/** Members with optional scores: flat in RESP2, [member, score] pairs in RESP3. */
export function replyScored(c: Client, members: string[], scores: number[], withScores: boolean): void {
  const pairs = withScores && c.resp === 3;
  c.out.array(withScores && !pairs ? members.length * 2 : members.length);
  for (let i = 0; i < members.length; i++) {
    if (pairs) c.out.array(2);
    c.out.bulkStr(members[i]);
    if (withScores) c.out.double(scores[i]);
  }
}

/** Collects up to `count` entries from ascending rank `start` (descending when rev). */
export function collect(z: ZSet, start: number, count: number, rev: boolean): { members: string[]; scores: number[] } {
  const members: string[] = [];
  const scores: number[] = [];
  z.range(start, count, rev, (m, s) => {
    members.push(m);
    scores.push(s);
  });
  return { members, scores };
}
