/**
 * Respite's estimate of what a key costs, in one place: MEMORY USAGE
 * answers it, and the keyspace keeps the running sum that INFO shows as
 * used_memory and maxmemory is checked against (see ShardedMap.bytes).
 * They are estimates of what the JS engine holds, not allocator sizes: a
 * key costs its table entry and its bytes in the table's arena; string
 * values a one-byte JS string (or a Uint8Array above 256 bytes: strings up
 * to 256 bytes now rest in the arena, ~16 bytes less, so the figure errs
 * high, keeping maxmemory on the safe side), numbers
 * nothing unless boxed; collections measure themselves (sampling large
 * ones as Redis does); a deadline costs an entry in the expires table.
 */
import type { Value } from "../types/value.ts";
import { ArgString } from "../types/string.ts";

/** Header of a flat one-byte JS string (map, hash, length), as in V8 and JSC. */
const STRING_HEADER = 16;
/** A Uint8Array's object, its ArrayBuffer and the backing store's header. */
const BYTES_OVERHEAD = 144;
/** A boxed number (integers beyond the small-integer range). */
export const HEAP_NUMBER = 16;
/**
 * One entry of a keyspace table at its average fill (about 0.7: tables
 * double when full): 28 bytes per slot for the value, the bucket head and
 * the slot's four words (record offset, chain link, kind and access clock,
 * size: see shard.ts).
 */
export const TABLE_ENTRY = 40;
const SMALL_INT = 2 ** 30;
/** Elements a collection measures to estimate itself by default (Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES). */
export const DEFAULT_SAMPLES = 5;

const align8 = (n: number) => (n + 7) & ~7;

/** A value's estimated bytes; samples as in Collection.memoryUsage (0: measure everything). */
export function valueBytes(v: Value | ArgString, samples = DEFAULT_SAMPLES): number {
  if (typeof v === "number") return Math.abs(v) < SMALL_INT ? 0 : HEAP_NUMBER;
  if (typeof v === "string") return align8(STRING_HEADER + v.length);
  if (v instanceof ArgString) return align8(STRING_HEADER + v.bytes.length);
  if (v instanceof Uint8Array) return BYTES_OVERHEAD + v.length;
  return v.memoryUsage(samples);
}

/** A key's table entry and arena bytes (its length as a varint of one byte, mostly). */
export function entryBytes(key: string): number {
  return TABLE_ENTRY + key.length + 1;
}

/** A key with its value, without its deadline: what the keyspace table's running sum counts per key. */
export function keyBytes(key: string, v: Value, samples = DEFAULT_SAMPLES): number {
  return entryBytes(key) + valueBytes(v, samples);
}

/** What a deadline adds: the key's entry again in the expires table, and its boxed time. */
export function deadlineBytes(key: string): number {
  return entryBytes(key) + HEAP_NUMBER;
}
