/**
 * Writing RDB: each value in the type and encoding Redis 7.0 gives it
 * (strings int/LZF/raw, lists as quicklist-2 of listpack nodes, hashes and
 * sorted sets as listpacks or tables, sets as intsets or tables; hashes
 * with field deadlines in Redis 7.4's types), the key/value records of a
 * snapshot, and the file header (magic, aux fields, function libraries).
 */
import type { SnapshotEncoder } from "../snapshot.ts";
import type { Value } from "../../types/value.ts";
import { isString } from "../../types/value.ts";
import { ListValue } from "../../types/list.ts";
import { HashValue } from "../../types/hash.ts";
import { SetValue } from "../../types/set.ts";
import { ZSet } from "../../types/zset.ts";
import { Stream } from "../../types/stream.ts";
import { writeStream } from "./stream.ts";
import { formatDouble } from "../../util/number.ts";
import { ByteWriter } from "./writer.ts";
import { ListpackWriter } from "./listpack.ts";
import { CONTAINER_PACKED, OP, TYPE } from "./format.ts";
import type { Listpack } from "../../types/listpack.ts";
import type { KeyRef } from "../../db/shard.ts";
import type { AccessClock } from "../../db/access.ts";

const lp = new ListpackWriter();

/** Closes lp and writes it as a string blob (compressed as any string), from its buffer: no view made per key. */
function writeListpack(w: ByteWriter, compress: boolean): void {
  const n = lp.close();
  w.stringIn(lp.w.buf, 0, n, compress);
}

/** The RDB object type byte for a value. */
export function objectType(v: Value): number {
  if (isString(v)) return TYPE.STRING;
  if (v instanceof ListValue) return TYPE.LIST_QUICKLIST_2;
  if (v instanceof HashValue) {
    const table = v.encoding() === "hashtable";
    if (v.hasDeadlines()) return table ? TYPE.HASH_METADATA : TYPE.HASH_LISTPACK_EX;
    return table ? TYPE.HASH : TYPE.HASH_LISTPACK;
  }
  if (v instanceof SetValue) return v.encoding() === "intset" ? TYPE.SET_INTSET : TYPE.SET;
  if (v instanceof ZSet) return v.isListpack() ? TYPE.ZSET_LISTPACK : TYPE.ZSET_2;
  if (v instanceof Stream) return TYPE.STREAM_LISTPACKS_2;
  throw new Error(`RDB: cannot encode a ${v.type}`);
}

/** Writes the value's body (after its type byte and key) as rdbSaveObject does. */
export function writeObject(w: ByteWriter, v: Value, compress: boolean): void {
  if (typeof v === "number") return w.number(v);
  if (typeof v === "string" || v instanceof Uint8Array) return w.string(v, compress);
  if (v instanceof ListValue) return writeList(w, v, compress);
  if (v instanceof HashValue) return writeHash(w, v, compress);
  if (v instanceof SetValue) return writeSet(w, v, compress);
  if (v instanceof ZSet) return writeZset(w, v, compress);
  if (v instanceof Stream) return writeStream(w, v, compress);
  throw new Error(`RDB: cannot encode a ${v.type}`);
}

function writeList(w: ByteWriter, v: ListValue, compress: boolean): void {
  const nodes: Listpack[] = [];
  v.walk(0, false, (node) => {
    if (nodes[nodes.length - 1] !== node) nodes.push(node);
    return true;
  });
  w.len(nodes.length);
  for (const node of nodes) {
    w.len(CONTAINER_PACKED);
    lp.reset();
    for (let pos = node.first(); pos !== -1; pos = node.next(pos)) lp.entry(node.value(pos));
    writeListpack(w, compress);
  }
}

function writeHash(w: ByteWriter, h: HashValue, compress: boolean): void {
  const deadlines = h.hasDeadlines();
  let min = 0;
  if (deadlines) {
    min = Infinity;
    h.forEach((f) => {
      const at = h.deadline(f);
      if (at !== undefined && at < min) min = at;
    });
    w.intLE(min, 8);
  }
  if (h.encoding() !== "hashtable") {
    lp.reset();
    if (!deadlines && h.packable()) packedPairs(h.packedBytes());
    else {
      h.forEach((f, val) => {
        lp.entry(f);
        if (typeof val === "number") lp.int(val);
        else lp.entry(val);
        if (deadlines) lp.int(h.deadline(f) ?? 0);
      });
    }
    return writeListpack(w, compress);
  }
  w.len(h.size);
  h.forEach((f, val) => {
    if (deadlines) {
      const at = h.deadline(f);
      w.len(at === undefined ? 0 : at - min + 1);
    }
    w.string(f, compress);
    if (typeof val === "number") w.number(val);
    else w.string(val, compress);
  });
}

/**
 * Copies a hash object's packed form (a binary string: varint count, then
 * varint-length-prefixed fields and values) into the listpack writer; the
 * keyspace's packed bytes take ListpackWriter.pairsFrom.
 */
function packedPairs(s: string): void {
  packedAt = 0;
  const n = packedVarint(s) * 2;
  for (let i = 0; i < n; i++) {
    const len = packedVarint(s);
    lp.entry(s, packedAt, len);
    packedAt += len;
  }
}

/** Where packedVarint() reads next. */
let packedAt = 0;

function packedVarint(s: string): number {
  let n = 0;
  for (let mul = 1;; mul *= 128) {
    const b = s.charCodeAt(packedAt++);
    n += (b & 127) * mul;
    if (b < 128) return n;
  }
}

function writeSet(w: ByteWriter, s: SetValue, compress: boolean): void {
  const members = s.members();
  if (s.encoding() === "intset") {
    let width = 2;
    for (const m of members) {
      const v = Number(m);
      if (v < -2147483648 || v > 2147483647) width = 8;
      else if ((v < -32768 || v > 32767) && width < 4) width = 4;
    }
    const b = new ByteWriter(8 + members.length * width);
    b.intLE(width, 4);
    b.intLE(members.length, 4);
    for (const m of members) {
      if (width === 8) {
        let u = BigInt.asUintN(64, BigInt(m));
        for (let i = 0; i < 8; i++) {
          b.byte(Number(u & 0xffn));
          u >>= 8n;
        }
      } else b.intLE(Number(m), width);
    }
    return w.string(b.toBytes(), compress);
  }
  w.len(members.length);
  for (const m of members) w.string(m, compress);
}

function writeZset(w: ByteWriter, z: ZSet, compress: boolean): void {
  if (z.isListpack()) {
    lp.reset();
    z.forEach((m, score) => {
      lp.entry(m);
      lp.entry(formatDouble(score));
    });
    return writeListpack(w, compress);
  }
  // Redis writes the skiplist from its tail, so loading inserts at the head.
  w.len(z.size);
  z.range(z.size - 1, z.size, true, (m, score) => {
    w.string(m, compress);
    w.double(score);
  });
}

/**
 * A record up to its value: EXPIRETIME_MS when it has one, IDLE (seconds)
 * and FREQ (the LFU counter) when given (-1: none), type, key (a string,
 * or lent in place).
 */
function writeHead(
  w: ByteWriter,
  key: string | KeyRef,
  type: number,
  expireAt: number,
  compress: boolean,
  idle: number,
  freq: number,
): void {
  if (expireAt !== -1) {
    w.byte(OP.EXPIRETIME_MS);
    w.intLE(expireAt, 8);
  }
  if (idle !== -1) {
    w.byte(OP.IDLE);
    w.len(idle);
  }
  if (freq !== -1) {
    w.byte(OP.FREQ);
    w.byte(freq);
  }
  w.byte(type);
  if (typeof key === "string") w.string(key, compress);
  else w.stringIn(key.bytes, key.at, key.length, compress);
}

export class RdbEncoder implements SnapshotEncoder {
  private w = new ByteWriter(1 << 20);
  private readonly compress: boolean;
  /** The keys' access clock: under an LRU policy each key gets an IDLE record, under an LFU one a FREQ record, as Redis writes. */
  private readonly clock: AccessClock | null;

  constructor(opts: { compression: boolean; access?: AccessClock }) {
    this.compress = opts.compression;
    this.clock = opts.access ?? null;
  }

  get buffered(): number {
    return this.w.pos;
  }

  selectDb(id: number, keys: number, expires: number): void {
    const w = this.w;
    w.byte(OP.SELECTDB);
    w.len(id);
    w.byte(OP.RESIZEDB);
    w.len(keys);
    w.len(expires);
  }

  entry(key: string | KeyRef, value: Value, expireAt: number, access: number): void {
    this.head(key, objectType(value), expireAt, access);
    writeObject(this.w, value, this.compress);
  }

  entryAt(key: KeyRef, value: Value, expireAt: number, access: number): void {
    this.entry(key, value, expireAt, access);
  }

  /** A string from its bytes in place. */
  stringAt(key: KeyRef, value: KeyRef, expireAt: number, access: number): void {
    this.head(key, TYPE.STRING, expireAt, access);
    this.w.stringIn(value.bytes, value.at, value.length, this.compress);
  }

  /** A listpack hash from its packed bytes in place: no hash object, no string per field. */
  packedHashAt(key: KeyRef, packed: KeyRef, expireAt: number, access: number): void {
    this.head(key, TYPE.HASH_LISTPACK, expireAt, access);
    lp.reset();
    lp.pairsFrom(packed.bytes, packed.at, packed.length);
    writeListpack(this.w, this.compress);
  }

  private head(key: string | KeyRef, type: number, expireAt: number, access: number): void {
    const clock = this.clock;
    const idle = clock !== null && clock.lru ? Math.floor(clock.idleMs(access) / 1000) : -1;
    const freq = clock !== null && clock.lfu ? clock.freq(access) : -1;
    writeHead(this.w, key, type, expireAt, this.compress, idle, freq);
  }

  /** A view of the buffer (no copy per chunk): valid until the next call, so write it out at once. */
  take(): Uint8Array {
    const out = this.w.buf.subarray(0, this.w.pos);
    this.w.pos = 0;
    return out;
  }
}

/** "REDIS00NN" + aux fields + function libraries (RDB_OPCODE_FUNCTION2 each). */
export function rdbHeader(
  version: number,
  aux: Array<[string, string | number]>,
  functionLibraries: Uint8Array[],
): Uint8Array {
  const w = new ByteWriter(256);
  w.binary("REDIS" + String(version).padStart(4, "0"));
  for (const [name, value] of aux) {
    w.byte(OP.AUX);
    w.string(name, true);
    w.string(String(value), true);
  }
  for (const code of functionLibraries) {
    w.byte(OP.FUNCTION2);
    w.string(code, true);
  }
  return w.toBytes();
}

const scratch = new ByteWriter(1024);

/** DEBUG OBJECT's serializedlength: the bytes rdbSaveObject writes for the value (with compression, Redis's default). */
export function serializedLength(value: Value, opts: { compression?: boolean } = {}): number {
  scratch.pos = 0;
  writeObject(scratch, value, opts.compression ?? true);
  const n = scratch.pos;
  if (scratch.buf.length > 1 << 20) scratch.buf = new Uint8Array(1024);
  return n;
}
