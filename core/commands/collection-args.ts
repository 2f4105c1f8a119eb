/**
 * Argument handling shared by the hash and set commands: HSCAN/SSCAN's
 * cursor and options, the signed count of HRANDFIELD/SRANDMEMBER, and the
 * encoding limits every write reads from the config.
 */
import type { Client } from "../server/client.ts";
import type { Config } from "../config/config.ts";
import { is, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { globMatch } from "../util/glob.ts";
import { ERR } from "./args.ts";

/**
 * A value derived from config parameters, worked out once per config and
 * again after one of them changes: the encoding limits are read by every
 * HSET/SADD/ZADD, where parsing them each time cost ~10% of the command.
 */
export function fromConfig<T>(names: string[], make: (config: Config) => T): (c: Client) => T {
  const slots = new WeakMap<Config, { value: T | null }>();
  return (c) => {
    const config = c.engine.config;
    let slot = slots.get(config);
    if (slot === undefined) {
      const fresh: { value: T | null } = { value: null };
      for (const name of names) config.watch(name, () => (fresh.value = null));
      slots.set(config, (slot = fresh));
    }
    return (slot.value ??= make(config));
  };
}

const INT64_MIN = -(2n ** 63n);
const UINT64_SPAN = 2n ** 64n;

export interface ScanCall {
  /** The cursor as Redis reads it (strtoull: wraps negatives); beyond 2^53 it only means "not 0". */
  cursor: number;
  count: number;
  pattern: string | null;
}

/** Redis reads cursors with strtoull: leading spaces and a sign are accepted, "" is 0. */
function parseCursor(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)$/.exec(s);
  if (m === null || (m[2] === "" && s !== "")) return null;
  if (m[2] === "") return 0;
  let v = BigInt(m[2]);
  if (v >= UINT64_SPAN) return null;
  if (m[1] === "-" && v !== 0n) v = UINT64_SPAN - v;
  return Number(v);
}

/** Reads `<cursor> [MATCH pattern] [COUNT count]` of HSCAN/SSCAN; null after replying an error. */
export function parseScanCursor(c: Client, arg: Uint8Array): number | null {
  const cursor = parseCursor(str(arg));
  if (cursor === null) c.error("ERR invalid cursor");
  return cursor;
}

export function parseScanOptions(c: Client, argv: Uint8Array[], cursor: number): ScanCall | null {
  const call: ScanCall = { cursor, count: 10, pattern: null };
  for (let i = 3; i < argv.length; i += 2) {
    if (i + 1 >= argv.length) return fail(c, ERR.syntax);
    if (is(argv[i], "count")) {
      const n = parseInt64(str(argv[i + 1]));
      if (n === null) return fail(c, ERR.notInt);
      if (n < 1n) return fail(c, ERR.syntax);
      call.count = n > 1_000_000_000n ? 1_000_000_000 : Number(n);
    } else if (is(argv[i], "match")) {
      const p = str(argv[i + 1]);
      // "*" alone matches everything, so Redis skips matching for it.
      call.pattern = p === "*" ? null : p;
    } else return fail(c, ERR.syntax);
  }
  return call;
}

export function matches(call: ScanCall, s: string): boolean {
  return call.pattern === null || globMatch(call.pattern, s);
}

/** The `[cursor, [elements...]]` reply of HSCAN and SSCAN. */
export function replyScan(c: Client, next: number, elements: string[]): void {
  c.out.array(2);
  c.out.bulkStr(String(next));
  c.out.array(elements.length);
  for (const e of elements) c.out.bulkStr(e);
}

/** HRANDFIELD/SRANDMEMBER's count: any int64 but the minimum, as Redis's -LONG_MAX..LONG_MAX range. */
export function signedCount(c: Client, arg: Uint8Array): bigint | null {
  const n = parseInt64(str(arg));
  if (n === null) return fail(c, ERR.notInt);
  if (n === INT64_MIN) {
    return fail(c, "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
  }
  return n;
}

export function fail(c: Client, msg: string): null {
  c.error(msg);
  return null;
}

/**
 * k distinct indexes out of n (k < n), in random order: a partial
 * Fisher-Yates when k is a large part of n, rejection sampling otherwise.
 */
export function sampleIndices(n: number, k: number): number[] {
  if (k * 3 > n) {
    const all = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(Math.random() * (n - i));
      [all[i], all[j]] = [all[j], all[i]];
    }
    all.length = k;
    return all;
  }
  const picked = new Set<number>();
  while (picked.size < k) picked.add(Math.floor(Math.random() * n));
  return [...picked];
}
