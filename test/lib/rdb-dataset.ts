/**
 * Datasets for the persistence tests: a seeded random dataset written through
 * a real connection (every type and encoding Redis 7.0 has for them, binary
 * keys and values, millisecond TTLs, all 16 databases, 10,000-element
 * collections; streams with consumer groups, bitmaps, sparse and dense
 * HyperLogLogs and geo sets too), read back in full from any server
 * (streams with their groups, pending entries and consumers), and compared key by key
 * (TYPE, value, PEXPIRETIME exactly, PTTL within a tolerance, OBJECT ENCODING)
 * plus DEBUG DIGEST and the function libraries, so a save/load round trip
 * between redis-server and Respite can be checked in both directions.
 */
import assert from "node:assert/strict";
import { ReplyError, type RespValue } from "../../core/resp/decoder.ts";
import { type Cmd, rng } from "./diff.ts";
import { decode } from "./keyspace.ts";
import type { RawConnection } from "./raw.ts";

export interface DatasetOptions {
  seed: number;
  /** Random keys in each of the 16 databases (default 40). */
  keysPerDb?: number;
  /** The 10,000-element list, hash, set, sorted set, int set, HLL and geo set, a 3,000-entry stream and a 2 MB bitmap, in db 0 (default true). */
  big?: boolean;
  /** A function library, which RDB files carry too (default true). */
  functions?: boolean;
}

export const DATABASES = 16;
const BIG = 10_000;
export const FUNCTION_LIBRARY = "#!lua name=rdbtest\nredis.register_function('rdbtest_echo', function(keys, args) return args[1] end)";

type Random = () => number;

/** Bytes as a binary string (one char per byte), the way keys and values are compared here. */
const bin = (b: Uint8Array): string => Buffer.from(b).toString("latin1");
const arg = (s: string): Buffer => Buffer.from(s, "latin1");

function pick<T>(r: Random, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}
const int = (r: Random, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function randomBytes(r: Random, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(r() * 256));
  return s;
}

/** Awkward bytes a binary-safe codec must carry: NUL, CR/LF, invalid UTF-8, high bytes. */
const NASTY = ["\0", "\r\n", "\n", "\r", "\xff\xfe", "\xc3\x28", "\x80", "\xed\xa0\x80", " ", "\t"];

function binaryString(r: Random, n: number): string {
  return pick(r, NASTY) + randomBytes(r, n) + pick(r, NASTY);
}

/** Integers of every width the string, listpack and intset codecs tell apart. */
function randomInt(r: Random): string {
  switch (int(r, 0, 7)) {
    case 0: return String(int(r, -10, 12));
    case 1: return String(int(r, -4096, 4095));
    case 2: return String(int(r, -32768, 32767));
    case 3: return String(int(r, -8388608, 8388607));
    case 4: return String(int(r, -2147483648, 2147483647));
    case 5: return String(BigInt(int(r, -(2 ** 31), 2 ** 31)) * 4294967296n + BigInt(int(r, 0, 2 ** 32 - 1)));
    case 6: return pick(r, ["9223372036854775807", "-9223372036854775808", "0", "-1", "4294967296", "-2147483649"]);
    default: return String(int(r, 0, 1_000_000_000));
  }
}

/** Numbers that look like integers but must stay strings ("007", "1.5", 2^63). */
const NEAR_INTS = ["007", "-0", "+5", " 5", "5 ", "1.5", "1e3", "9223372036854775808", "-9223372036854775809", "0x10", ""];

function element(r: Random): string {
  switch (int(r, 0, 4)) {
    case 0: return randomInt(r);
    case 1: return binaryString(r, int(r, 0, 10));
    case 2: return pick(r, NEAR_INTS);
    default: return "e" + randomBytes(r, int(r, 0, 20));
  }
}

function stringValue(r: Random): string {
  switch (int(r, 0, 7)) {
    case 0: return randomInt(r); // int encoding
    case 1: return pick(r, NEAR_INTS); // embstr though numeric-looking
    case 2: return binaryString(r, int(r, 0, 40)); // embstr
    case 3: return randomBytes(r, int(r, 45, 400)); // raw, incompressible
    case 4: return "abc".repeat(int(r, 10, 3000)); // LZF-compressible
    case 5: return binaryString(r, 3) + "\0".repeat(int(r, 30, 500)); // compressible with NULs
    case 6: return "x".repeat(int(r, 21, 60)); // around the 20-byte compression threshold and 44-byte embstr limit
    default: return randomBytes(r, int(r, 1, 20));
  }
}

const chunks = <T>(items: T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
};

/** Commands creating key with value of a random type and encoding (possibly a big one). */
function valueCommands(r: Random, key: string): Cmd[] {
  const k = arg(key);
  const many = (n: number, make: () => string[]) => Array.from({ length: n }, make).flat().map(arg);
  switch (int(r, 0, 14)) {
    case 0: case 1: case 2:
      return [["SET", k, arg(stringValue(r))]];
    case 12: // a stream: several nodes, deleted entries, consumer groups with pending entries
      return streamCommands(r, k);
    case 13: // strings written as bitmaps and HyperLogLogs, longer than 44 bytes: shorter ones
      // are raw when written and embstr when loaded, in Redis too
      return r() < 0.5 ? bitmapCommands(r, k) : hllCommands(r, k);
    case 14: // geo points: a sorted set of 52-bit geohash scores, at the edges of the map too
      return [["GEOADD", k, ...many(int(r, 1, 40), () => [...geoPoint(r), element(r)])]];
    case 3: // small list: one listpack node
      return [["RPUSH", k, ...many(int(r, 1, 20), () => [element(r)])]];
    case 4: // several quicklist nodes (list-max-listpack-size -2: 8 KB nodes)
      return [["RPUSH", k, ...many(int(r, 100, 600), () => [element(r) + randomBytes(r, int(r, 0, 40))])]];
    case 5: // listpack hash
      return [["HSET", k, ...many(int(r, 1, 30), () => [element(r), element(r)])]];
    case 6: // hashtable hash: too many fields, or one value longer than 64 bytes
      return r() < 0.5
        ? [["HSET", k, ...many(int(r, 129, 300), () => [element(r) + "f", element(r)])]]
        : [["HSET", k, ...many(int(r, 1, 10), () => [element(r), element(r)]), arg("long"), arg(randomBytes(r, int(r, 65, 300)))]];
    case 7: // intset, including 64-bit members
      return [["SADD", k, ...many(int(r, 1, 100), () => [randomInt(r)])]];
    case 8: // hashtable set
      return [["SADD", k, ...many(int(r, 1, 40), () => [element(r) + "s"])]];
    case 9: // listpack zset
      return [["ZADD", k, ...many(int(r, 1, 30), () => [score(r), element(r)])]];
    case 10: // skiplist zset: too many members, or a member longer than 64 bytes
      return r() < 0.5
        ? [["ZADD", k, ...many(int(r, 129, 300), () => [score(r), element(r) + "z"])]]
        : [["ZADD", k, ...many(int(r, 1, 10), () => [score(r), element(r)]), arg("1.5"), arg(randomBytes(r, int(r, 65, 200)))]];
    default: // a set crossing the intset limit (512) into a hashtable of integers
      return [["SADD", k, ...many(int(r, 513, 700), () => [randomInt(r)])]];
  }
}

/** A longitude and latitude: anywhere, or on the antimeridian, the equator or the poles' limits. */
function geoPoint(r: Random): [string, string] {
  const lon = r() < 0.8 ? (r() * 360 - 180).toFixed(6) : pick(r, ["180", "-180", "0", "179.999999", "-0.000001"]);
  const lat = r() < 0.8 ? (r() * 170 - 85).toFixed(6) : pick(r, ["85.05112878", "-85.05112878", "0", "85.05112877", "-0.000001"]);
  return [lon, lat];
}

/** A bitmap from SETBITs (offsets up to 2^20 at times) and BITFIELD writes. */
function bitmapCommands(r: Random, k: Buffer): Cmd[] {
  const top = r() < 0.3 ? 1 << 20 : 5000;
  const cmds: Cmd[] = Array.from({ length: int(r, 1, 30) }, (): Cmd => ["SETBIT", k, int(r, 360, top), "1"]);
  if (r() < 0.3) cmds.push(["BITFIELD", k, "SET", "i16", `#${int(r, 0, 200)}`, int(r, -32768, 32767), "INCRBY", "u8", int(r, 0, 4000), 7]);
  if (r() < 0.2) cmds.push(["SETBIT", k, int(r, 360, top), "0"]);
  return cmds;
}

/**
 * A HyperLogLog: sparse, or dense past hll-sparse-max-bytes (or merged into
 * one); sometimes counted, which stores the cardinality in the header.
 */
function hllCommands(r: Random, k: Buffer): Cmd[] {
  const add = (key: Buffer | string, n: number): Cmd => ["PFADD", key, ...Array.from({ length: n }, () => arg(element(r)))];
  const cmds: Cmd[] = [add(k, r() < 0.6 ? int(r, 40, 100) : int(r, 2000, 4000))];
  if (r() < 0.3) cmds.push(add(k, int(r, 1, 20)));
  if (r() < 0.2) {
    const other = arg("hll-src-" + bin(k));
    cmds.push(add(other, int(r, 1, 50)), ["PFMERGE", k, other], ["DEL", other]);
  }
  if (r() < 0.5) cmds.push(["PFCOUNT", k]);
  return cmds;
}

/**
 * A stream with explicit IDs (the same on every server): up to 400 entries,
 * so several listpack nodes (stream-node-max-entries 100), fields that
 * change or repeat the node's master fields, deleted entries (sometimes a
 * whole node's worth, which drops the node), a trim now and then, and
 * consumer groups whose consumers read, acknowledge and claim part of it
 * (pending entries, some of them deleted since). Or an empty stream that
 * only has a group and a set ID.
 */
function streamCommands(r: Random, k: Buffer): Cmd[] {
  let ms = int(r, 1, 1e12);
  if (r() < 0.08) {
    return [["XGROUP", "CREATE", k, arg("g\0" + randomBytes(r, 2)), "$", "MKSTREAM"], ["XSETID", k, `${ms}-9`, "ENTRIESADDED", 12, "MAXDELETEDID", `${ms}-3`]];
  }
  const cmds: Cmd[] = [];
  const ids: string[] = [];
  const entries = r() < 0.4 ? int(r, 101, 400) : int(r, 1, 100);
  let names = ["f0", "f1"];
  for (let i = 0; i < entries; i++) {
    ms += int(r, 0, 3);
    if (r() < 0.1) names = Array.from({ length: int(r, 1, 4) }, (_, f) => (r() < 0.8 ? `f${f}` : element(r)));
    ids.push(`${ms}-${i}`);
    cmds.push(["XADD", k, ids[i], ...names.flatMap((f) => [f, element(r)]).map(arg)]);
  }
  const some = (n: number) => Array.from({ length: n }, () => pick(r, ids));
  if (entries > 3 && r() < 0.6) cmds.push(["XDEL", k, ...some(int(r, 1, Math.ceil(entries / 10)))]);
  if (entries > 150 && r() < 0.3) cmds.push(["XDEL", k, ...ids.slice(0, 100)]);
  if (entries > 20 && r() < 0.15) cmds.push(["XTRIM", k, "MAXLEN", int(r, 10, entries)]);
  for (let g = 0, groups = pick(r, [0, 0, 1, 1, 2, 3]); g < groups; g++) {
    const group = arg(`group\0${g}` + randomBytes(r, 2));
    cmds.push(["XGROUP", "CREATE", k, group, r() < 0.8 ? "0" : pick(r, ids), ...(r() < 0.2 ? ["ENTRIESREAD", String(int(r, 0, entries))] : [])]);
    const consumers = Array.from({ length: int(r, 1, 3) }, (_, c) => arg(`consumer-${c}` + (r() < 0.3 ? binaryString(r, 2) : "")));
    for (const c of consumers) {
      cmds.push(["XREADGROUP", "GROUP", group, c, "COUNT", int(r, 1, Math.max(1, entries >> 1)), ...(r() < 0.1 ? ["NOACK"] : []), "STREAMS", k, ">"]);
    }
    if (r() < 0.5) cmds.push(["XACK", k, group, ...some(int(r, 1, 10))]);
    if (r() < 0.4) cmds.push(["XCLAIM", k, group, pick(r, consumers), 0, ...some(int(r, 1, 5)), "RETRYCOUNT", int(r, 0, 9)]);
    if (r() < 0.2) cmds.push(["XGROUP", "CREATECONSUMER", k, group, "idle-consumer"]);
  }
  if (r() < 0.2) cmds.push(["XDEL", k, ...some(int(r, 1, 5))]); // deleted while pending
  return cmds;
}

/** Integer, fractional, tiny, huge, infinite and negative-zero scores. */
function score(r: Random): string {
  switch (int(r, 0, 6)) {
    case 0: return String(int(r, -1000, 1000));
    case 1: return String(r() * 2000 - 1000);
    case 2: return pick(r, ["inf", "-inf", "+inf", "0", "-0", "1e300", "-1e-300", "0.1", "3.141592653589793"]);
    case 3: return String(int(r, -(2 ** 52), 2 ** 52));
    case 4: return (r() * 10).toFixed(2);
    default: return String(int(r, 0, 100));
  }
}

/** A unique key: plain, binary (NUL, CR/LF, invalid UTF-8) or long. */
function keyName(r: Random, db: number, i: number): string {
  const id = `:${db}:${i}`;
  switch (int(r, 0, 4)) {
    case 0: return binaryString(r, int(r, 0, 12)) + id;
    case 1: return "k" + "\xe9\xff\x00".repeat(int(r, 1, 3)) + id;
    case 2: return "long-" + "n".repeat(int(r, 50, 300)) + id;
    default: return `key${id}`;
  }
}

/** The 10,000-element collections the issue names, one per type, plus edge keys, in db 0. */
function bigCommands(r: Random): Cmd[] {
  const cmds: Cmd[] = [];
  const seq = (n: number, f: (i: number) => string[]) => Array.from({ length: n }, (_, i) => f(i)).flat();
  const add = (cmd: string, key: string, items: string[], per: number) => {
    for (const part of chunks(items, per)) cmds.push([cmd, arg(key), ...part.map(arg)]);
  };
  add("RPUSH", "big:list", seq(BIG, (i) => [i % 3 === 0 ? String(i * 7919) : `item-${i}-${randomBytes(r, i % 7)}`]), 1000);
  add("HSET", "big:hash", seq(BIG, (i) => [`field\0${i}`, i % 2 ? String(i) : `v\r\n${randomBytes(r, 5)}`]), 2000);
  add("SADD", "big:set", seq(BIG, (i) => [`member-${i}-\xff`]), 1000);
  add("SADD", "big:intset-grown", seq(BIG, (i) => [String(i * 104729 - 5e8)]), 1000);
  add("ZADD", "big:zset", seq(BIG, (i) => [i % 5 === 0 ? String(i) : String(i / 7), `m${i}\n`]), 2000);
  cmds.push(["SET", arg(""), arg("the empty key")]);
  cmds.push(["SET", "empty-value", arg("")]);
  cmds.push(["SET", "big:string", arg(randomBytes(r, 100_000))]);
  cmds.push(["SET", "big:compressible", arg("0123456789".repeat(50_000))]);
  cmds.push(["ZADD", "zset:special", "inf", "a", "-inf", "b", "-0", "c", "0.1", "d", "1e-300", "e", "-1.7976931348623157e308", "f"]);
  // A 3,000-entry stream (30 nodes; XINFO STREAM FULL of more is slow to read here) with groups and
  // pending entries, a 2 MB bitmap, a dense HLL, a geo set.
  for (let i = 0; i < 3000; i++) cmds.push(["XADD", "big:stream", `${1_700_000_000_000 + (i >> 3)}-${i}`, "field", String(i), ...(i % 10 ? [] : ["x", randomBytes(r, 8)]).map(arg)]);
  cmds.push(["XDEL", "big:stream", ...Array.from({ length: 60 }, (_, i) => `${1_700_000_000_000 + ((i * 37) >> 3)}-${i * 37}`)]);
  for (const group of ["g1", "g2"]) {
    cmds.push(["XGROUP", "CREATE", "big:stream", group, "0"]);
    for (const c of ["alice", "bob", "carol"]) cmds.push(["XREADGROUP", "GROUP", group, c, "COUNT", 400, "STREAMS", "big:stream", ">"]);
  }
  cmds.push(["XACK", "big:stream", "g1", ...Array.from({ length: 300 }, (_, i) => `${1_700_000_000_000 + ((i * 3) >> 3)}-${i * 3}`)]);
  cmds.push(["SETBIT", "big:bitmap", 0, 1], ["SETBIT", "big:bitmap", 2 ** 24 - 1, 1], ["SETBIT", "big:bitmap", 4_000_003, 1]);
  add("PFADD", "big:hll", seq(BIG, (i) => [`hll-${i}`]), 2000);
  add("GEOADD", "big:geo", seq(BIG, (i) => [String(((i * 7.3) % 360) - 180), String(((i * 3.1) % 170) - 85), `place-${i}`]), 3000);
  return cmds;
}

/**
 * Writes the dataset for opts.seed through conn (the same commands for the same
 * seed, whatever the server) and returns how many keys it made. Any error reply
 * fails. Leaves the connection in db 0.
 */
export async function writeDataset(conn: RawConnection, opts: DatasetOptions): Promise<number> {
  const r = rng(opts.seed);
  const perDb = opts.keysPerDb ?? 40;
  let keys = 0;
  const now = Date.now();
  for (let db = 0; db < DATABASES; db++) {
    const cmds: Cmd[] = [["SELECT", db]];
    if (db === 0 && (opts.big ?? true)) {
      cmds.push(...bigCommands(r));
      keys += 14;
    }
    for (let i = 0; i < perDb; i++) {
      const key = keyName(r, db, i);
      cmds.push(...valueCommands(r, key));
      keys++;
      const t = r();
      // Millisecond TTLs that end neither on a second nor during the test.
      if (t < 0.2) cmds.push(["PEXPIRE", arg(key), int(r, 600_000, 100_000_000)]);
      else if (t < 0.25) cmds.push(["PEXPIREAT", arg(key), now + int(r, 3_600_000, 10 * 86_400_000)]);
    }
    for (const part of chunks(cmds, 500)) await expectNoErrors(conn, part);
  }
  await conn.call("SELECT", 0);
  if (opts.functions ?? true) await expectNoErrors(conn, [["FUNCTION", "LOAD", "REPLACE", FUNCTION_LIBRARY]]);
  return keys;
}

export async function expectNoErrors(conn: RawConnection, cmds: Cmd[]): Promise<RespValue[]> {
  const replies = (await conn.pipeline(cmds)).map(decode);
  replies.forEach((v, i) => {
    if (v instanceof ReplyError) assert.fail(`${cmds[i].slice(0, 2).map(String).join(" ")}: ${v.message}`);
  });
  return replies;
}

/** What one key holds, as read from a server. */
export interface KeyState {
  type: string;
  /** The value in a comparable form: the bytes, or JSON of the elements (hash fields and set members sorted). */
  value: string;
  encoding: string;
  /** PEXPIRETIME: the absolute deadline in unix ms, -1 when none. */
  expireAt: number;
  pttl: number;
}

export interface Dataset {
  dbs: Array<Map<string, KeyState>>;
  /** DEBUG DIGEST, or null when the server does not have it. */
  digest: string | null;
  /** FUNCTION LIST WITHCODE, as JSON. */
  functions: string;
}

/** A reply with its bulk strings as binary strings, for JSON. */
const plain = (v: RespValue): unknown => (Array.isArray(v) ? v.map(plain) : v instanceof Uint8Array ? bin(v) : v);
const text = (v: RespValue): string => (v instanceof Uint8Array ? bin(v) : v instanceof ReplyError ? `ERR(${v.message})` : String(v));
const list = (v: RespValue): string[] => (Array.isArray(v) ? v.map(text) : [`not an array: ${text(v)}`]);

function pairs(items: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < items.length; i += 2) out.push([items[i], items[i + 1]]);
  return out;
}

const byFirst = (a: string[], b: string[]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

const READERS: Record<string, (key: Buffer) => Cmd> = {
  string: (k) => ["GET", k],
  list: (k) => ["LRANGE", k, 0, -1],
  hash: (k) => ["HGETALL", k],
  set: (k) => ["SMEMBERS", k],
  zset: (k) => ["ZRANGE", k, 0, -1, "WITHSCORES"],
  // Every entry, group, pending entry and consumer.
  stream: (k) => ["XINFO", "STREAM", k, "FULL", "COUNT", "0"],
};

/**
 * XINFO STREAM FULL without the consumers' seen (and 7.2's active) times:
 * an AOF replays claims as they come, which moves them, while delivery times
 * travel with every format (XCLAIM's TIME in an AOF).
 */
function withoutSeenTimes(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((x, i) => (i > 0 && (v[i - 1] === "seen-time" || v[i - 1] === "active-time") ? "(a time)" : withoutSeenTimes(x)));
}

function normalize(type: string, v: RespValue): string {
  switch (type) {
    case "string": return text(v);
    case "list": return JSON.stringify(list(v));
    case "hash": return JSON.stringify(pairs(list(v)).sort(byFirst));
    case "set": return JSON.stringify(list(v).sort());
    case "zset": return JSON.stringify(pairs(list(v)));
    case "stream": return JSON.stringify(withoutSeenTimes(plain(v)));
    default: return `unreadable type ${type}: ${text(v)}`;
  }
}

/** Every key of one database (KEYS * is binary-safe and fine at these sizes). */
async function keysOf(conn: RawConnection, db: number): Promise<Buffer[]> {
  await expectNoErrors(conn, [["SELECT", db]]);
  const v = decode(await conn.call("KEYS", "*"));
  assert.ok(Array.isArray(v), `KEYS * in db ${db}: ${text(v)}`);
  return (v as Uint8Array[]).map((k) => Buffer.from(k));
}

/** Reads every key of every database in full, plus the digest and functions. Leaves the connection in db 0. */
export async function readDataset(conn: RawConnection): Promise<Dataset> {
  const dbs: Array<Map<string, KeyState>> = [];
  for (let db = 0; db < DATABASES; db++) {
    const keys = await keysOf(conn, db);
    const states = new Map<string, KeyState>();
    for (const part of chunks(keys, 200)) {
      const meta = (await conn.pipeline(part.flatMap((k) => [["TYPE", k], ["OBJECT", "ENCODING", k], ["PEXPIRETIME", k], ["PTTL", k]] as Cmd[]))).map(decode);
      const types = part.map((_, i) => text(meta[4 * i]));
      const values = (await conn.pipeline(part.map((k, i) => (READERS[types[i]] ?? ((key: Buffer) => ["TYPE", key]))(k)))).map(decode);
      part.forEach((k, i) => {
        states.set(bin(k), {
          type: types[i],
          encoding: text(meta[4 * i + 1]),
          expireAt: Number(meta[4 * i + 2]),
          pttl: Number(meta[4 * i + 3]),
          value: normalize(types[i], values[i]),
        });
      });
    }
    dbs.push(states);
  }
  await conn.call("SELECT", 0);
  const d = decode(await conn.call("DEBUG", "DIGEST"));
  const digest = d instanceof ReplyError ? null : text(d);
  const functions = JSON.stringify(plain(decode(await conn.call("FUNCTION", "LIST", "WITHCODE"))));
  return { dbs, digest, functions };
}

export interface CompareOptions {
  /** How far PTTLs may differ, in ms (the time between the two reads plus slack). */
  pttlToleranceMs: number;
  /** Compare OBJECT ENCODING (default true). */
  encodings?: boolean;
  /** Compare DEBUG DIGEST when both servers have it (default true). */
  digest?: boolean;
  functions?: boolean;
  /**
   * Streams as an AOF rewrite carries them (default false): it adds the live
   * entries again, so the nodes are laid out anew, and its XCLAIMs of pending
   * entries deleted since are dropped (7.0's XCLAIM drops them), just as
   * when redis-server loads its own rewrite.
   */
  streamsAsAof?: boolean;
}

/** An XINFO STREAM FULL value (see withoutSeenTimes) without the node layout, nor pending entries of deleted entries. */
function asAofCarries(value: string): string {
  const top = JSON.parse(value) as unknown[];
  const get = (fields: unknown[], name: string) => fields[fields.indexOf(name) + 1] as unknown[][];
  const set = (fields: unknown[], name: string, v: unknown) => void (fields[fields.indexOf(name) + 1] = v);
  set(top, "radix-tree-keys", "(layout)");
  set(top, "radix-tree-nodes", "(layout)");
  const live = new Set(get(top, "entries").map((e) => e[0]));
  const livePending = (fields: unknown[]) => {
    const pending = get(fields, "pending").filter((e) => live.has(e[0]));
    set(fields, "pending", pending);
    set(fields, "pel-count", pending.length);
  };
  for (const group of get(top, "groups")) {
    livePending(group);
    for (const consumer of get(group, "consumers")) livePending(consumer as unknown[]);
  }
  return JSON.stringify(top);
}

const clip = (s: string) => (s.length > 160 ? `${s.slice(0, 160)}... (${s.length} chars)` : s);

/**
 * Asserts actual holds the same keys with the same types, values, TTLs and
 * encodings as expected; the message lists up to 20 differences.
 */
export function assertSameDataset(actual: Dataset, expected: Dataset, opts: CompareOptions): void {
  const problems: string[] = [];
  let compared = 0;
  for (let db = 0; db < DATABASES; db++) {
    const a = actual.dbs[db];
    const e = expected.dbs[db];
    const missing = [...e.keys()].filter((k) => !a.has(k));
    const extra = [...a.keys()].filter((k) => !e.has(k));
    if (missing.length) problems.push(`db ${db}: ${missing.length} keys missing, e.g. ${missing.slice(0, 3).map((k) => JSON.stringify(k)).join(", ")}`);
    if (extra.length) problems.push(`db ${db}: ${extra.length} unexpected keys, e.g. ${extra.slice(0, 3).map((k) => JSON.stringify(k)).join(", ")}`);
    for (const [key, want] of e) {
      const got = a.get(key);
      if (!got) continue;
      compared++;
      const where = `db ${db} key ${JSON.stringify(clip(key))}`;
      const value = (s: KeyState) => (opts.streamsAsAof && s.type === "stream" ? asAofCarries(s.value) : s.value);
      if (got.type !== want.type) problems.push(`${where}: TYPE ${got.type}, expected ${want.type}`);
      else if (value(got) !== value(want)) problems.push(`${where} (${want.type}): value ${JSON.stringify(clip(value(got)))}, expected ${JSON.stringify(clip(value(want)))}`);
      if ((opts.encodings ?? true) && got.encoding !== want.encoding) problems.push(`${where}: OBJECT ENCODING ${got.encoding}, expected ${want.encoding}`);
      if (got.expireAt !== want.expireAt) problems.push(`${where}: PEXPIRETIME ${got.expireAt}, expected ${want.expireAt}`);
      if ((got.pttl < 0 || want.pttl < 0) ? got.pttl !== want.pttl : Math.abs(got.pttl - want.pttl) > opts.pttlToleranceMs) {
        problems.push(`${where}: PTTL ${got.pttl}, expected ${want.pttl} ± ${opts.pttlToleranceMs}`);
      }
    }
  }
  if ((opts.digest ?? true) && actual.digest !== null && expected.digest !== null && actual.digest !== expected.digest) {
    problems.push(`DEBUG DIGEST ${actual.digest}, expected ${expected.digest}`);
  }
  if ((opts.functions ?? true) && actual.functions !== expected.functions) {
    problems.push(`FUNCTION LIST WITHCODE ${clip(actual.functions)}, expected ${clip(expected.functions)}`);
  }
  assert.ok(problems.length === 0, `${problems.length} differences over ${compared} keys compared:\n${problems.slice(0, 20).join("\n")}`);
}

/** Keys per database, for a quick sanity check that a dataset is what was written. */
export const keyCount = (d: Dataset): number => d.dbs.reduce((n, m) => n + m.size, 0);
