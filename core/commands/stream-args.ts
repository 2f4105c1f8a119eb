/**
 * What the stream commands share (XADD ... XREAD here, the consumer-group
 * commands in stream-groups.ts): reading stream keys, Redis's ID argument
 * syntax and its errors, the node limits from the config, and the entry
 * replies.
 */
import type { Client } from "../server/client.ts";
import { ERR, readKey } from "./args.ts";
import { fromConfig } from "./collection-args.ts";
import { is, str } from "../util/bytes.ts";
import type { Value } from "../types/value.ts";
import { type NodeLimits, Stream, type StreamId, type StreamNode, type U64, U64_MAX, u64 } from "../types/stream.ts";

export const ERR_INVALID_ID = "ERR Invalid stream ID specified as stream command argument";

export const streamLimits = fromConfig(
  ["stream-node-max-bytes", "stream-node-max-entries"],
  (config): NodeLimits => ({ maxBytes: config.num("stream-node-max-bytes"), maxEntries: config.num("stream-node-max-entries") }),
);

function checkStream(c: Client, v: Value | undefined): Stream | undefined | null {
  if (v === undefined || v instanceof Stream) return v;
  c.error(ERR.wrongType);
  return null;
}

/** A stream for a read: undefined when missing, null (WRONGTYPE sent) when another type. */
export function readStream(c: Client, key: string): Stream | undefined | null {
  return checkStream(c, readKey(c, key));
}

/** Like readStream for writes: no hit/miss counting. */
export function writableStream(c: Client, key: string): Stream | undefined | null {
  return checkStream(c, c.db.lookup(key, c.engine.now));
}

const isSpace = (ch: number) => ch === 32 || (ch >= 9 && ch <= 13);

/**
 * Redis's string2ull: a canonical integer, or what strtoull accepts in full
 * (leading blanks, a sign, leading zeros; a minus wraps modulo 2^64, but
 * a canonical negative is refused); null otherwise.
 */
export function parseUll(s: string): U64 | null {
  const n = s.length;
  if (n === 0) return null;
  const c0 = s.charCodeAt(0);
  // Up to 15 digits, leading zeros included (strtoull takes them; redis-benchmark's __rand_int__ has them): exact.
  if (c0 >= 48 && c0 <= 57 && n < 16) {
    let x = 0;
    for (let i = 0; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return null;
      x = x * 10 + d;
    }
    return x;
  }
  if (/^-[1-9][0-9]*$/.test(s) && BigInt(s) >= -(2n ** 63n)) return null;
  let i = 0;
  while (i < n && isSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (s[i] === "+" || s[i] === "-") neg = s[i++] === "-";
  if (i === n) return null;
  for (let j = i; j < n; j++) {
    const d = s.charCodeAt(j) - 48;
    if (d < 0 || d > 9) return null;
  }
  let v = BigInt(s.slice(i));
  if (v > U64_MAX) return null;
  if (neg) v = BigInt.asUintN(64, -v);
  return u64(v);
}

/**
 * streamGenericParseIDOrReply: "ms-seq", "ms" (seq = missingSeq), and
 * unless strict "-" and "+". With seqStar, "ms-*" parses with seq -1.
 * Replies the error and returns null when invalid.
 */
export function parseIdArg(
  c: Client | null,
  arg: Uint8Array | string,
  missingSeq: U64,
  strict: boolean,
  seqStar = false,
): { ms: U64; seq: U64 | -1 } | null {
  if (typeof arg !== "string") {
    const plain = plainId(arg, missingSeq);
    if (plain !== null) return plain;
  }
  const s = typeof arg === "string" ? arg : str(arg);
  const fail = () => {
    c?.error(ERR_INVALID_ID);
    return null;
  };
  if (s.length > 127) return fail();
  if (s === "-" || s === "+") {
    if (strict) return fail();
    return s === "-" ? { ms: 0, seq: 0 } : { ms: U64_MAX, seq: U64_MAX };
  }
  const dash = s.indexOf("-");
  const ms = parseUll(dash < 0 ? s : s.slice(0, dash));
  if (ms === null) return fail();
  if (dash < 0) return { ms, seq: missingSeq };
  const rest = s.slice(dash + 1);
  if (seqStar && rest === "*") return { ms, seq: -1 };
  const seq = parseUll(rest);
  return seq === null ? fail() : { ms, seq };
}

/** The decimal digits of b from at: their value and where they stop; null past 15 digits (not exact) or none. */
function digitsAt(b: Uint8Array, at: number): { value: number; end: number } | null {
  let value = 0;
  let i = at;
  for (; i < b.length; i++) {
    const d = b[i] - 48;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
  }
  return i === at || i - at > 15 ? null : { value, end: i };
}

/**
 * The common ID argument, "ms-seq" or "ms" in plain decimals of up to 15
 * digits each, read from its bytes (XACK of one ID spent ~4% of its CPU
 * making and slicing strings); null for anything else, which parseIdArg's
 * string path takes (signs, blanks, 64-bit values, `*`, errors).
 */
function plainId(b: Uint8Array, missingSeq: U64): StreamId | null {
  const ms = digitsAt(b, 0);
  if (ms === null) return null;
  if (ms.end === b.length) return { ms: ms.value, seq: missingSeq };
  if (b[ms.end] !== 45 /* '-' */) return null;
  const seq = digitsAt(b, ms.end + 1);
  return seq !== null && seq.end === b.length ? { ms: ms.value, seq: seq.value } : null;
}

/** An ID argument without the `ms-*` form. */
export function idArg(c: Client | null, arg: Uint8Array | string, missingSeq: U64, strict: boolean): StreamId | null {
  return parseIdArg(c, arg, missingSeq, strict) as StreamId | null;
}

/** Writes one entry: [id, [field, value, ...]]. */
export function replyEntry(c: Client, id: StreamId, fields: string[] | null): void {
  const out = c.out;
  out.array(2);
  out.bulkStr(`${id.ms}-${id.seq}`);
  if (fields === null) return out.nullArray();
  out.array(fields.length);
  for (let i = 0; i < fields.length; i++) out.bulkStr(fields[i]);
}

/** Entries of s within [start, end] (count 0: all), forward or reverse. */
export function collectRange(s: Stream, start: StreamId, end: StreamId, count: number, rev: boolean): Array<[StreamId, string[]]> {
  const out: Array<[StreamId, string[]]> = [];
  s.range(start, end, rev, (id, fields) => {
    out.push([id, fields]);
    return count === 0 || out.length < count;
  });
  return out;
}

/**
 * Writes the array of entries of s within [start, end] (streamReplyWithRange
 * without a group), straight from the nodes' bytes; returns how many.
 */
export function replyRange(c: Client, s: Stream, start: StreamId, end: StreamId, count: number, rev: boolean): number {
  const nodes: StreamNode[] = [];
  const at: number[] = [];
  const ids: string[] = [];
  s.rangeAt(start, end, rev, (ms, seq, node, pos) => {
    nodes.push(node);
    at.push(pos);
    ids.push(`${ms}-${seq}`);
    return count === 0 || ids.length < count;
  });
  const out = c.out;
  out.array(ids.length);
  // The entries of one node mostly share its master fields: their names are encoded once per node.
  let named: StreamNode | null = null;
  let names: Uint8Array[] | null = null;
  for (let i = 0; i < ids.length; i++) {
    const node = nodes[i];
    if (node !== named) {
      named = node;
      names = node.masterBulks();
    }
    out.array(2);
    out.bulkStr(ids[i]);
    node.emit(at[i], out, names);
  }
  return ids.length;
}

/**
 * Key positions of XREAD / XREADGROUP (xreadGetKeys): the first half of
 * the arguments after STREAMS; none when the call is malformed.
 */
export function xreadKeys(argv: Uint8Array[]): number[] {
  let pos = -1;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (is(a, "block") || is(a, "count")) i++;
    else if (is(a, "group")) i += 2;
    else if (is(a, "noack")) continue;
    else {
      if (is(a, "streams")) pos = i;
      break;
    }
  }
  const n = argv.length - pos - 1;
  if (pos < 0 || n === 0 || n % 2 !== 0) return [];
  const keys: number[] = [];
  for (let i = 0; i < n / 2; i++) keys.push(pos + 1 + i);
  return keys;
}

/** The XREAD / XREADGROUP key spec: keys after STREAMS, half of what follows. */
export const XREAD_KEY_SPEC = { begin: { keyword: "STREAMS", startfrom: 1 }, find: { range: [-1, 1, 2] as [number, number, number] } };

/** Whether the caller is the primary or the AOF loader (trims from them obey no LIMIT, as in Redis). */
export function fromPrimaryOrAof(c: Client): boolean {
  return c.isMaster || c.conn.kind === "aof";
}
