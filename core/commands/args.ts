/**
 * Argument readers shared by command families. Each reports Redis's own
 * error text to the client and returns null, so a handler can simply
 * `if (n === null) return;`.
 */
import type { Client } from "../server/client.ts";
import { parseDouble, parseInteger } from "../util/number.ts";
import { str } from "../util/bytes.ts";
import { isString, type StringValue, type Value } from "../types/value.ts";
import { LENT, type Lent } from "../db/sharded-map.ts";
import { PACKED_STRING } from "../db/db.ts";

export const ERR = {
  syntax: "ERR syntax error",
  notInt: "ERR value is not an integer or out of range",
  notFloat: "ERR value is not a valid float",
  wrongType: "WRONGTYPE Operation against a key holding the wrong kind of value",
  noKey: "ERR no such key",
  overflow: "ERR increment or decrement would overflow",
  outOfRange: "ERR index out of range",
  dbIndex: "ERR DB index is out of range",
};

export function intArg(c: Client, arg: Uint8Array, msg = ERR.notInt): number | null {
  const n = parseInteger(str(arg));
  if (n === null) c.error(msg);
  return n;
}

export function floatArg(c: Client, arg: Uint8Array, msg = ERR.notFloat): number | null {
  const n = parseDouble(str(arg));
  if (n === null) c.error(msg);
  return n;
}

/**
 * Reads a key as a read command does: lazily expired, counted in keyspace
 * hits/misses, an access for the key's LRU/LFU clock unless touch is false
 * (Redis's LOOKUP_NOTOUCH: EXISTS, TYPE, the TTL family, OBJECT).
 */
export function readKey(c: Client, key: string, touch = true): Value | undefined {
  return counted(c, key, touch ? c.db.lookup(key, c.engine.now) : c.db.peek(key, c.engine.now));
}

/** A read's lookup counted as a keyspace hit or miss (a miss is also a keymiss event). */
function counted<T>(c: Client, key: string, v: T | undefined): T | undefined {
  if (v === undefined) {
    c.engine.stats.keyspaceMisses++;
    c.engine.notify(c.db, "keymiss", key, "m");
  } else c.engine.stats.keyspaceHits++;
  return v;
}

/** A string value for a read: undefined when missing, null (WRONGTYPE sent) when another type. */
export function readString(c: Client, key: string): StringValue | undefined | null {
  return stringOrWrongType(c, readKey(c, key));
}

/** Where readLent() lends a value's bytes (commands read them at once, before the keyspace next changes). */
export const lent: Lent = { bytes: new Uint8Array(0), at: 0, length: 0, kind: 0 };

/**
 * readKey() for a reader of the value's bytes (GET, HGET): LENT, the bytes
 * in `lent`, when the keyspace keeps the value as bytes of `kind`; null
 * after WRONGTYPE when it keeps bytes of another kind (see Db.lookupLent).
 */
export function readLent(c: Client, key: string, kind: number): Value | typeof LENT | undefined | null {
  const v = counted(c, key, c.db.lookupLent(key, c.engine.now, lent));
  if (v !== LENT || lent.kind === kind) return v;
  c.error(ERR.wrongType);
  return null;
}

/** readString() for a reply that only copies the value out (GET): LENT for a string kept as bytes. */
export function readStringLent(c: Client, key: string): StringValue | typeof LENT | undefined | null {
  const v = readLent(c, key, PACKED_STRING);
  return v === LENT || v === null ? v : stringOrWrongType(c, v);
}

function stringOrWrongType(c: Client, v: Value | undefined): StringValue | undefined | null {
  if (v === undefined || isString(v)) return v;
  c.error(ERR.wrongType);
  return null;
}

/** Like readString but for writes: no hit/miss counting. */
export function writableString(c: Client, key: string): StringValue | undefined | null {
  const v = c.db.lookup(key, c.engine.now);
  if (v === undefined || isString(v)) return v;
  c.error(ERR.wrongType);
  return null;
}
