/**
 * RESTORE fuzzing, shared by test/integration/dump.test.ts (a short run) and
 * bench/restore-fuzz.ts (100,000 per runtime): a dataset with a key of every
 * type and encoding whose DUMP payloads seed the fuzzer, and the mutator that
 * damages them. Most mutations get a fresh version and CRC trailer so they
 * reach the value decoder instead of stopping at the checksum.
 */
import { Crc64 } from "../../core/persist/rdb/crc64.ts";
import { concat } from "../../core/util/bytes.ts";

export type FuzzArg = string | Uint8Array;

const bin = (...b: number[]) => Uint8Array.from(b);

/** Commands building one key per type and encoding (keys "seed:<what>"), small and large. */
export function seedCommands(): FuzzArg[][] {
  const cmds: FuzzArg[][] = [
    ["SET", "seed:int", "12345"],
    ["SET", "seed:negint", "-9007199254740993"],
    ["SET", "seed:embstr", "hello world"],
    ["SET", "seed:raw", "x".repeat(100) + "y"],
    ["SET", "seed:lzf", "abcdefgh".repeat(200)],
    ["SET", "seed:binary", bin(0, 1, 2, 255, 13, 10, 0xc0, 0x80)],
    ["SET", "seed:empty", ""],
    ["RPUSH", "seed:list", "a", "1", "-300", "70000", "4294967296", "b".repeat(70), bin(0, 255)],
    ["SADD", "seed:intset", "1", "-2", "300", "70000", "-4294967296"],
    ["SADD", "seed:set", "a", "b", "c", "12"],
    ["HSET", "seed:hash", "f1", "v1", "n", "42", "neg", "-7", "long", "z".repeat(60)],
    ["HSET", "seed:widehash", "f", "v", "wide", "w".repeat(80)],
    ["ZADD", "seed:zset", "1", "a", "2.5", "b", "-3", "c", "1e300", "d", "inf", "e"],
  ];
  const big = (n: number, f: (i: number) => FuzzArg[]) => Array.from({ length: n }, (_, i) => f(i)).flat();
  cmds.push(["RPUSH", "seed:biglist", ...big(600, (i) => [i % 3 ? "e" + i : String(i * 1000)])]);
  cmds.push(["SADD", "seed:bigintset", ...big(500, (i) => [String(i * 7919 - 100000)])]);
  cmds.push(["SADD", "seed:bigset", ...big(200, (i) => ["m" + i])]);
  cmds.push(["HSET", "seed:bighash", ...big(600, (i) => ["f" + i, String(i)])]);
  cmds.push(["ZADD", "seed:bigzset", ...big(200, (i) => [String(i / 3), "m" + i])]);
  return cmds;
}

export const SEED_KEYS = seedCommands().map((c) => c[1] as string);

/**
 * Streams for the fuzz only (their DUMP carries delivery and seen times, so
 * they are not compared with redis-server's): two listpack nodes, fields
 * that change within a node, deleted entries, a group with two consumers'
 * pending entries, and a one-node stream.
 */
export function streamSeedCommands(): FuzzArg[][] {
  const cmds: FuzzArg[][] = [];
  for (let i = 0; i < 150; i++) {
    cmds.push(["XADD", "seed:stream", `${1000 + (i >> 2)}-${i}`, ...(i % 7 ? ["f", "v" + i] : ["g", String(i * 1000), "h", "x".repeat(i % 70)])]);
  }
  cmds.push(["XDEL", "seed:stream", "1003-13", "1020-80"]);
  cmds.push(["XGROUP", "CREATE", "seed:stream", "g1", "0"]);
  cmds.push(["XREADGROUP", "GROUP", "g1", "c1", "COUNT", "5", "STREAMS", "seed:stream", ">"]);
  cmds.push(["XREADGROUP", "GROUP", "g1", "c2", "COUNT", "3", "STREAMS", "seed:stream", ">"]);
  for (let i = 0; i < 3; i++) cmds.push(["XADD", "seed:smallstream", `5-${i}`, "a", "1", "b", String(-i)]);
  return cmds;
}

export const STREAM_SEED_KEYS = ["seed:stream", "seed:smallstream"];

/** The 10-byte trailer every payload ends with: RDB version 10 (LE) and the CRC64 of everything before it. */
export function withTrailer(body: Uint8Array, version = 10): Uint8Array {
  const out = new Uint8Array(body.length + 10);
  out.set(body);
  out[body.length] = version & 0xff;
  out[body.length + 1] = version >> 8;
  const crc = new Crc64();
  crc.update(out.subarray(0, body.length + 2));
  out.set(crc.bytes(), body.length + 2);
  return out;
}

const INTERESTING = [0, 1, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xfe, 0xff];

/**
 * One damaged copy of payloads[i]: bit flips, interesting bytes, truncation,
 * extension, a splice from another payload, a duplicated or dropped range,
 * or a length-like field set to a huge value. Nine in ten get a valid
 * trailer again.
 */
export function mutate(payloads: Uint8Array[], rnd: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rnd() * n);
  const src = payloads[pick(payloads.length)];
  let body: Uint8Array = src.slice(0, src.length - 10);
  const rounds = 1 + pick(3);
  for (let r = 0; r < rounds; r++) {
    const at = pick(Math.max(1, body.length));
    switch (pick(8)) {
      case 0:
        if (body.length) body[at] ^= 1 << pick(8);
        break;
      case 1:
        if (body.length) body[at] = INTERESTING[pick(INTERESTING.length)];
        break;
      case 2:
        body = body.slice(0, at);
        break;
      case 3: {
        const extra = Uint8Array.from({ length: 1 + pick(16) }, () => pick(256));
        body = concat([body.subarray(0, at), extra, body.subarray(at)]);
        break;
      }
      case 4: {
        const other = payloads[pick(payloads.length)];
        const from = pick(Math.max(1, other.length - 10));
        body = concat([body.subarray(0, at), other.subarray(from, from + 1 + pick(64))]);
        break;
      }
      case 5: {
        const len = 1 + pick(32);
        body = rnd() < 0.5
          ? concat([body.subarray(0, at + len), body.subarray(at)])
          : concat([body.subarray(0, at), body.subarray(at + len)]);
        break;
      }
      case 6: {
        const big = [0x3f, 0x7f, 0x80, 0xff][pick(4)];
        for (let k = 0; k < 4 && at + k < body.length; k++) body[at + k] = k === 0 ? big : pick(2) ? 0xff : 0;
        break;
      }
      default:
        if (body.length) body[at] = pick(256);
    }
  }
  if (body.length === 0) body = bin(pick(256));
  if (rnd() < 0.9) return withTrailer(body);
  return concat([body, src.subarray(src.length - 10)]);
}


/** The replies a damaged payload may get; anything else (an internal error, no answer) is a failure. */
export const RESTORE_ERRORS = ["ERR DUMP payload version or checksum are wrong", "ERR Bad data format"];

/** Commands that read every element of a restored value of the given type, so a half-valid value shows. */
export function readBack(type: string, key: string): FuzzArg[][] {
  const reads: Record<string, FuzzArg[]> = {
    string: ["GET", key],
    list: ["LRANGE", key, "0", "-1"],
    set: ["SMEMBERS", key],
    hash: ["HGETALL", key],
    zset: ["ZRANGE", key, "0", "-1", "WITHSCORES"],
    stream: ["XINFO", "STREAM", key, "FULL"],
  };
  const more: FuzzArg[][] = type === "stream" ? [["XREVRANGE", key, "+", "-"]] : [];
  return [reads[type] ?? ["TYPE", key], ...more, ["OBJECT", "ENCODING", key], ["DEBUG", "DIGEST-VALUE", key], ["DUMP", key]];
}
