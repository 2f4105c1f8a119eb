/**
 * Reading RDB values: lengths, strings in every encoding, and each object
 * type Redis 7.0 loads (plus 7.4's hashes with field deadlines), built with
 * our constructors and the engine's encoding limits so OBJECT ENCODING
 * answers what redis-server answers after loading the same bytes. Damage
 * raises RdbLoadError with redis-server's message; the loader and RESTORE
 * share this reader.
 */
import type { Value } from "../../types/value.ts";
import { fromArg } from "../../types/string.ts";
import { ListValue } from "../../types/list.ts";
import { HashValue, type HashLimits } from "../../types/hash.ts";
import { SetValue } from "../../types/set.ts";
import { ZSet, type ZsetLimits } from "../../types/zset.ts";
import { bytes, str } from "../../util/bytes.ts";
import { parseDouble } from "../../util/number.ts";
import type { Config } from "../../config/config.ts";
import { lzfDecompress } from "./lzf.ts";
import { readStream } from "./stream.ts";
import { listpackEntries } from "./listpack.ts";
import { intsetMembers, ziplistEntries, zipmapEntries } from "./legacy.ts";
import {
  CONTAINER_PACKED,
  CONTAINER_PLAIN,
  ENC_INT16,
  ENC_INT32,
  ENC_INT8,
  ENC_LZF,
  internalError,
  LINE,
  moduleTypeName,
  RdbLoadError,
  TYPE,
} from "./format.ts";

/** The encoding thresholds loaded values are built with (the engine's config). */
export interface RdbLimits {
  hash: HashLimits;
  zset: ZsetLimits;
  /** set-max-intset-entries */
  intsetEntries: number;
  /** list-max-listpack-size */
  listFill: number;
  /** databases */
  databases: number;
}

export function rdbLimits(config: Config): RdbLimits {
  return {
    hash: { entries: config.num("hash-max-listpack-entries"), value: config.num("hash-max-listpack-value") },
    zset: { entries: config.num("zset-max-listpack-entries"), value: config.num("zset-max-listpack-value") },
    intsetEntries: config.num("set-max-intset-entries"),
    listFill: config.num("list-max-listpack-size"),
    databases: config.num("databases"),
  };
}

/** Redis's defaults, for callers without an engine at hand. */
export const DEFAULT_LIMITS: RdbLimits = {
  hash: { entries: 128, value: 64 },
  zset: { entries: 128, value: 64 },
  intsetEntries: 512,
  listFill: -2,
  databases: 16,
};

/** Loading progress is reported to the log every 2 MB, and errors name the last such offset. */
const PROGRESS_INTERVAL = 2 * 1024 * 1024;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

export class RdbReader {
  pos = 0;
  /** The offset redis-server would name in an error (where it last reported progress). */
  reported = 0;

  constructor(readonly bytes: Uint8Array, readonly limits: RdbLimits, readonly deep: boolean) {}

  fail(line: number, reason: string): never {
    throw new RdbLoadError([internalError(this.reported, line, reason)]);
  }

  eof(): never {
    throw new RdbLoadError([
      "Short read or OOM loading DB. Unrecoverable error, aborting now.",
      internalError(this.reported, LINE.eof, "Unexpected EOF reading RDB file"),
    ]);
  }

  /** Claims n bytes; returns where they start. */
  take(n: number): number {
    const at = this.pos;
    if (at + n > this.bytes.length) this.eof();
    if (Math.floor((at + n) / PROGRESS_INTERVAL) > Math.floor(at / PROGRESS_INTERVAL)) this.reported = at;
    this.pos = at + n;
    return at;
  }

  byte(): number {
    return this.bytes[this.take(1)];
  }

  /** A little-endian integer of 1-8 bytes, signed (exact within ±2^53). */
  intLE(width: number): number {
    const at = this.take(width);
    const b = this.bytes;
    if (width === 8) {
      let v = 0n;
      for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]);
      return Number(BigInt.asIntN(64, v));
    }
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + b[at + i];
    const half = 2 ** (8 * width - 1);
    return v >= half ? v - 2 * half : v;
  }

  /** rdbLoadLen; an encoded-string marker (0xC0 | enc) comes back as -1 - enc. */
  lenOrEnc(): number {
    const b = this.byte();
    const kind = b >> 6;
    if (kind === 0) return b & 0x3f;
    if (kind === 1) return ((b & 0x3f) << 8) | this.byte();
    if (kind === 3) return -1 - (b & 0x3f);
    if (b === 0x80) {
      const at = this.take(4);
      const x = this.bytes;
      return x[at] * 0x1000000 + ((x[at + 1] << 16) | (x[at + 2] << 8) | x[at + 3]);
    }
    if (b === 0x81) {
      const at = this.take(8);
      let v = 0;
      for (let i = 0; i < 8; i++) v = v * 256 + this.bytes[at + i];
      return v;
    }
    return this.fail(LINE.lengthEncoding, `Unknown length encoding ${kind} in rdbLoadLen()`);
  }

  /** rdbLoadLen without an isencoded flag: an encoded-string marker reads as its low 6 bits, as in Redis. */
  len(): number {
    const n = this.lenOrEnc();
    return n < 0 ? -1 - n : n;
  }

  /** A 64-bit length as a bigint (module ids). */
  bigLen(): bigint {
    if (this.bytes[this.pos] === 0x81) {
      this.pos++;
      const at = this.take(8);
      let v = 0n;
      for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(this.bytes[at + i]);
      return v;
    }
    return BigInt(this.len());
  }

  /** A string's bytes: a view into the file for raw strings, a new array for integers and LZF. */
  stringBytes(): Uint8Array {
    const n = this.lenOrEnc();
    if (n >= 0) {
      const at = this.take(n);
      return this.bytes.subarray(at, at + n);
    }
    const enc = -1 - n;
    if (enc === ENC_INT8 || enc === ENC_INT16 || enc === ENC_INT32) {
      return bytes(String(this.intLE(enc === ENC_INT8 ? 1 : enc === ENC_INT16 ? 2 : 4)));
    }
    if (enc === ENC_LZF) {
      const clen = this.len();
      const len = this.len();
      const at = this.take(clen);
      const out = lzfDecompress(this.bytes.subarray(at, at + clen), len);
      return out ?? this.fail(LINE.lzf, "Invalid LZF compressed string");
    }
    return this.fail(LINE.unknownStringEncoding, `Unknown RDB string encoding type ${enc}`);
  }

  /** A string as a binary string (keys, fields, members). */
  string(): string {
    return str(this.stringBytes());
  }

  /** A zset score of the old ZSET type: a length byte (253 nan, 254 inf, 255 -inf) and decimal text. */
  textDouble(): number {
    const n = this.byte();
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    const at = this.take(n);
    const v = Number(str(this.bytes.subarray(at, at + n)));
    return v;
  }

  binaryDouble(): number {
    const at = this.take(8);
    for (let i = 0; i < 8; i++) f64Bytes[i] = this.bytes[at + i];
    return f64[0];
  }

  /** The value of an object of `type`; null for an empty collection (Redis skips those keys). */
  object(type: number): Value | null {
    switch (type) {
      case TYPE.STRING:
        return fromArg(this.stringBytes());
      case TYPE.LIST: {
        const list = new ListValue(this.limits.listFill);
        for (let n = this.len(); n > 0; n--) list.pushBack(this.stringBytes());
        return list.size === 0 ? null : list;
      }
      case TYPE.SET: {
        const n = this.len();
        const members: string[] = [];
        for (let i = 0; i < n; i++) members.push(this.string());
        return this.set(members, LINE.setDup, "Duplicate set members detected");
      }
      case TYPE.ZSET:
      case TYPE.ZSET_2: {
        const n = this.len();
        const members: string[] = [], scores: number[] = [];
        for (let i = 0; i < n; i++) {
          members.push(this.string());
          const score = type === TYPE.ZSET ? this.textDouble() : this.binaryDouble();
          if (Number.isNaN(score)) this.fail(LINE.zsetScore, "Zset with NAN score detected");
          scores.push(score);
        }
        return this.zset(members, scores, true, LINE.zsetDup, "Duplicate zset fields detected");
      }
      case TYPE.HASH: {
        const n = this.len();
        const entries: string[] = [];
        for (let i = 0; i < 2 * n; i++) entries.push(this.string());
        return this.hash(entries, null, this.limits.hash, LINE.hashDup, "Duplicate hash fields detected");
      }
      case TYPE.HASH_ZIPMAP: {
        const e = zipmapEntries(this.stringBytes(), this.deep) ?? this.fail(LINE.zipmap, "Zipmap integrity check failed.");
        return this.hash(e, null, this.limits.hash, LINE.zipmap, "Zipmap integrity check failed.");
      }
      case TYPE.LIST_ZIPLIST: {
        const e = ziplistEntries(this.stringBytes(), this.deep) ?? this.fail(LINE.listZiplist, "List ziplist integrity check failed.");
        return this.list(e);
      }
      case TYPE.SET_INTSET: {
        const e = intsetMembers(this.stringBytes(), this.deep) ?? this.fail(LINE.intset, "Intset integrity check failed.");
        return this.set(e, LINE.intset, "Intset integrity check failed.");
      }
      case TYPE.ZSET_ZIPLIST:
      case TYPE.ZSET_LISTPACK: {
        const zip = type === TYPE.ZSET_ZIPLIST;
        const line = zip ? LINE.zsetZiplist : LINE.zsetListpack;
        const { e, msg } = this.packedEntries(zip, "Zset", line);
        if (e.length % 2 !== 0) this.fail(line, msg);
        const members: string[] = [], scores: number[] = [];
        for (let i = 0; i < e.length; i += 2) {
          members.push(e[i]);
          const s = parseDouble(e[i + 1]);
          if (s === null || Number.isNaN(s)) this.fail(line, msg);
          scores.push(s);
        }
        return this.zset(members, scores, false, line, msg);
      }
      case TYPE.HASH_ZIPLIST:
      case TYPE.HASH_LISTPACK: {
        const zip = type === TYPE.HASH_ZIPLIST;
        const line = zip ? LINE.hashZiplist : LINE.hashListpack;
        const { e, msg } = this.packedEntries(zip, "Hash", line);
        const limits = zip ? this.limits.hash : { entries: this.limits.hash.entries, value: Infinity };
        return this.hash(e, null, limits, line, msg);
      }
      case TYPE.LIST_QUICKLIST:
      case TYPE.LIST_QUICKLIST_2: {
        const list = new ListValue(this.limits.listFill);
        for (let n = this.len(); n > 0; n--) {
          let container = CONTAINER_PACKED;
          if (type === TYPE.LIST_QUICKLIST_2) {
            container = this.len();
            if (container !== CONTAINER_PACKED && container !== CONTAINER_PLAIN) {
              this.fail(LINE.quicklist, "Quicklist integrity check failed.");
            }
          }
          const blob = this.stringBytes();
          if (container === CONTAINER_PLAIN) {
            list.pushBack(blob.slice());
            continue;
          }
          const e = type === TYPE.LIST_QUICKLIST
            ? ziplistEntries(blob, this.deep) ?? this.fail(LINE.quicklistZiplist, "Ziplist integrity check failed.")
            : listpackEntries(blob, this.deep) ?? this.fail(LINE.quicklistListpack, "Listpack integrity check failed.");
          list.appendNode(e);
        }
        return list.size === 0 ? null : list;
      }
      case TYPE.MODULE_PRE_GA:
      case TYPE.MODULE_2: {
        const id = this.bigLen();
        return this.fail(LINE.moduleType, `The RDB file contains module data I can't load: no matching module type '${moduleTypeName(id)}'`);
      }
      case TYPE.HASH_METADATA_PRE_GA:
      case TYPE.HASH_METADATA: {
        const min = type === TYPE.HASH_METADATA ? this.intLE(8) : 0;
        const n = this.len();
        const entries: string[] = [];
        const deadlines: number[] = [];
        for (let i = 0; i < n; i++) {
          const ttl = this.len();
          deadlines.push(ttl === 0 ? 0 : type === TYPE.HASH_METADATA ? ttl + min - 1 : ttl);
          entries.push(this.string(), this.string());
        }
        return this.hash(entries, deadlines, this.limits.hash, LINE.hashDup, "Duplicate hash fields detected");
      }
      case TYPE.HASH_LISTPACK_EX_PRE_GA:
      case TYPE.HASH_LISTPACK_EX: {
        if (type === TYPE.HASH_LISTPACK_EX) this.intLE(8);
        const msg = "Hash listpack integrity check failed.";
        const e = listpackEntries(this.stringBytes(), this.deep) ?? this.fail(LINE.hashListpackEx, msg);
        if (e.length % 3 !== 0) this.fail(LINE.hashListpackEx, msg);
        const entries: string[] = [], deadlines: number[] = [];
        for (let i = 0; i < e.length; i += 3) {
          entries.push(e[i], e[i + 1]);
          deadlines.push(Number(e[i + 2]));
        }
        const limits = { entries: this.limits.hash.entries, value: Infinity };
        return this.hash(entries, deadlines, limits, LINE.hashListpackEx, msg);
      }
      default:
        if (type === TYPE.STREAM_LISTPACKS || type === TYPE.STREAM_LISTPACKS_2 || type === TYPE.STREAM_LISTPACKS_3) {
          return readStream(this, type);
        }
        return this.fail(LINE.unknownType, `Unknown RDB encoding type ${type}`);
    }
  }

  private list(entries: string[]): ListValue | null {
    if (entries.length === 0) return null;
    const list = new ListValue(this.limits.listFill);
    for (const v of entries) list.pushBack(v);
    return list;
  }

  private set(members: string[], line: number, msg: string): SetValue | null {
    if (members.length === 0) return null;
    const s = new SetValue();
    for (const m of members) if (!s.add(m, this.limits.intsetEntries)) this.fail(line, msg);
    return s;
  }

  /** A sorted set; `sort` for the table types, whose order in the file is not (score, member). */
  /** The entries of a hash's or zset's ziplist (zip) or listpack blob, and the message its integrity failure gives. */
  private packedEntries(zip: boolean, kind: "Hash" | "Zset", line: number): { e: string[]; msg: string } {
    const msg = `${kind} ${zip ? "ziplist" : "listpack"} integrity check failed.`;
    const blob = this.stringBytes();
    const e = (zip ? ziplistEntries(blob, this.deep) : listpackEntries(blob, this.deep)) ?? this.fail(line, msg);
    return { e, msg };
  }

  private zset(members: string[], scores: number[], sort: boolean, line: number, msg: string): ZSet | null {
    const n = members.length;
    if (n === 0) return null;
    const seen = new Set<string>();
    for (const m of members) {
      if (seen.has(m)) this.fail(line, msg);
      seen.add(m);
    }
    if (!sort) return ZSet.fromSorted(members, scores, { entries: this.limits.zset.entries, value: Infinity });
    const order = members.map((_, i) => i);
    order.sort((a, b) => scores[a] - scores[b] || (members[a] < members[b] ? -1 : members[a] > members[b] ? 1 : 0));
    return ZSet.fromSorted(order.map((i) => members[i]), order.map((i) => scores[i]), this.limits.zset);
  }

  /** A hash from alternating fields and values, with per-field deadlines (0 = none) when given. */
  private hash(entries: string[], deadlines: number[] | null, limits: HashLimits, line: number, msg: string): HashValue | null {
    if (entries.length % 2 !== 0) this.fail(line, msg);
    if (entries.length === 0) return null;
    const h = new HashValue();
    for (let i = 0; i < entries.length; i += 2) {
      if (!h.set(entries[i], entries[i + 1], limits)) this.fail(line, msg);
      const at = deadlines?.[i / 2];
      if (at) h.setDeadline(entries[i], at);
    }
    return h;
  }
}
