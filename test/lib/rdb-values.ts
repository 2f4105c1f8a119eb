/**
 * Helpers for the RDB codec tests: a canonical, comparable description of
 * any value (type, encoding, contents in a stable order), and a complete
 * RDB file made from records with our encoder.
 */
import { concat } from "../../core/util/bytes.ts";
import type { Value } from "../../core/types/value.ts";
import { isString } from "../../core/types/value.ts";
import { asStr, stringEncoding } from "../../core/types/string.ts";
import { ListValue } from "../../core/types/list.ts";
import { HashValue } from "../../core/types/hash.ts";
import { SetValue } from "../../core/types/set.ts";
import { ZSet } from "../../core/types/zset.ts";
import { Crc64 } from "../../core/persist/rdb/crc64.ts";
import { RdbEncoder, rdbHeader } from "../../core/persist/rdb/encoder.ts";
import { RDB_EOF } from "../../core/persist/rdb/format.ts";
import { RdbLoader, type RdbLoadSink } from "../../core/persist/rdb/loader.ts";
import type { RdbLimits } from "../../core/persist/rdb/reader.ts";

export function describeValue(v: Value): unknown {
  if (isString(v)) return { type: "string", encoding: stringEncoding(v), value: asStr(v) };
  if (v instanceof ListValue) {
    const items: string[] = [];
    for (let i = 0; i < v.size; i++) items.push(String.fromCharCode(...v.at(i)!));
    return { type: "list", encoding: v.encoding(), items };
  }
  if (v instanceof HashValue) {
    const pairs: string[][] = [];
    v.forEach((f, x) => pairs.push([f, asStr(x), String(v.deadline(f) ?? "")]));
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return { type: "hash", encoding: v.encoding(), pairs };
  }
  if (v instanceof SetValue) return { type: "set", encoding: v.encoding(), members: v.members().sort() };
  if (v instanceof ZSet) {
    const pairs: [string, number][] = [];
    v.forEach((m, s) => pairs.push([m, s]));
    return { type: "zset", encoding: v.encoding(), pairs };
  }
  throw new Error("unknown value");
}

export interface Record {
  db: number;
  key: string;
  value: Value;
  expireAt: number;
}

/** A whole RDB file (header, the records by db, EOF, CRC64) written with our encoder. */
export function makeRdb(records: Record[], opts: { compression?: boolean; version?: number; functions?: Uint8Array[] } = {}): Uint8Array {
  const enc = new RdbEncoder({ compression: opts.compression ?? true });
  const parts: Uint8Array[] = [rdbHeader(opts.version ?? 10, [["redis-ver", "7.0.15"], ["redis-bits", 64], ["ctime", Math.floor(Date.now() / 1000)], ["used-mem", 1000000], ["aof-base", 0]], opts.functions ?? [])];
  const dbs = [...new Set(records.map((r) => r.db))].sort((a, b) => a - b);
  for (const db of dbs) {
    const rs = records.filter((r) => r.db === db);
    enc.selectDb(db, rs.length, rs.filter((r) => r.expireAt !== -1).length);
    // No access clock given to the encoder: the access field is not written.
    for (const r of rs) enc.entry(r.key, r.value, r.expireAt, 0);
    parts.push(enc.take().slice()); // take() lends a view of the encoder's buffer
  }
  parts.push(Uint8Array.of(RDB_EOF));
  const crc = new Crc64();
  for (const p of parts) crc.update(p);
  parts.push(crc.bytes());
  return concat(parts);
}

export interface Loaded {
  records: Record[];
  aux: Map<string, string>;
  functions: string[];
  loader: RdbLoader;
}

/** Loads a file with our loader, in steps of `budget` bytes. */
export function loadRdb(bytes: Uint8Array, opts: { sanitize?: boolean; limits?: RdbLimits; budget?: number } = {}): Loaded {
  const records: Record[] = [];
  const aux = new Map<string, string>();
  const functions: string[] = [];
  let db = 0;
  const sink: RdbLoadSink = {
    aux: (n, v) => void aux.set(n, String.fromCharCode(...v)),
    selectDb: (id) => void (db = id),
    resizeDb: () => {},
    entry: (key, value, expireAt) => void records.push({ db, key, value, expireAt }),
    functionLibrary: (code) => void functions.push(new TextDecoder().decode(code)),
  };
  const loader = new RdbLoader(bytes, sink, { sanitize: opts.sanitize ?? false, limits: opts.limits });
  while (!loader.step(opts.budget ?? 1 << 20));
  return { records, aux, functions, loader };
}
