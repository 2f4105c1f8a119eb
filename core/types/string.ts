/**
 * The string type: how a value is stored (see value.ts), read back as
 * bytes or as a binary string, measured, and reported by OBJECT ENCODING.
 */
import { bytes, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { STRING_INLINE_MAX, type StringValue } from "./value.ts";
import type { Slabs } from "./slabs.ts";

/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT. */
const EMBSTR_MAX = 44;

/** The argument as a number when it is a canonical integer of fewer than 16 characters (SET stores those as numbers), else null. */
function shortInt(arg: Uint8Array): number | null {
  const n = arg.length;
  if (n === 0 || n >= 16) return null;
  const first = arg[0];
  if (!((first >= 49 && first <= 57) || (first === 45 && n > 1 && arg[1] !== 48) || (first === 48 && n === 1))) {
    return null;
  }
  let v = 0;
  for (let i = first === 45 ? 1 : 0; i < n; i++) {
    const d = arg[i] - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return first === 45 ? -v : v;
}

/** The stored form of an argument (a hash field's value, a string read from a file). */
export function fromArg(arg: Uint8Array): StringValue {
  const i = shortInt(arg);
  if (i !== null) return i;
  return arg.length <= STRING_INLINE_MAX ? str(arg) : arg.slice();
}

/**
 * A string value given as the bytes of a command's argument, on its way
 * to the keyspace (Db.set): the keyspace keeps strings of up to
 * STRING_INLINE_MAX bytes as bytes in its arena, so making a JS string of
 * them first is skipped (under V8 a native call each way). The keyspace
 * copies the bytes at once and never stores or returns one of these: a
 * read revives the value as a binary string.
 */
export class ArgString {
  constructor(readonly bytes: Uint8Array) {}
}

/** What SET and friends store for an argument: fromArg's form, short strings passed as their bytes, long ones copied into the engine's slabs. */
export function argValue(arg: Uint8Array, slabs: Slabs): StringValue | ArgString {
  const i = shortInt(arg);
  if (i !== null) return i;
  return arg.length <= STRING_INLINE_MAX ? new ArgString(arg) : slabs.copy(arg);
}

/** The stored form of a value computed as a binary string. */
export function fromStr(s: string): StringValue {
  return s.length <= STRING_INLINE_MAX ? s : bytes(s);
}

export function asStr(v: StringValue): string {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : str(v);
}

export function asBytes(v: StringValue): Uint8Array {
  return v instanceof Uint8Array ? v : bytes(typeof v === "number" ? String(v) : v);
}

export function byteLength(v: StringValue): number {
  return typeof v === "number" ? String(v).length : v.length;
}

/**
 * OBJECT ENCODING for a string: "int" for integers in int64 range, then
 * "embstr" up to 44 bytes; values built by APPEND/SETRANGE are held as bytes
 * and are "raw", as in Redis.
 */
export function stringEncoding(v: StringValue): string {
  if (typeof v === "number") return "int";
  if (v instanceof Uint8Array) return "raw";
  // Shorter integers written by SET arrive as numbers; an integer-looking string
  // below 16 chars was computed (INCRBYFLOAT) and Redis leaves those unencoded.
  if (v.length >= 16 && v.length <= 20 && parseInt64(v) !== null) return "int";
  return v.length <= EMBSTR_MAX ? "embstr" : "raw";
}
