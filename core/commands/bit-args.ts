/**
 * What the bit commands share: reading a bit offset argument (Redis's
 * getBitOffsetFromArgument) and getting a string's bytes ready for a
 * write reaching a given byte (lookupStringForBitCommand).
 */
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";
import { parseInt64, parseInteger } from "../util/number.ts";
import { writableString } from "./args.ts";
import { extend } from "./strings-ranges.ts";
import { asBytes, byteLength } from "../types/string.ts";

/**
 * Bitmaps up to this many bytes are held in exact-size arrays, copied when
 * they grow (cheap at this size, and no growth bookkeeping per key for the
 * many small bitmaps of a SETBIT-per-user workload); larger ones grow with
 * sds-like spare room, so setting bits in increasing order stays linear.
 */
const EXACT_MAX = 64;

const OFFSET_ERR = "ERR bit offset is not an integer or out of range";

/** The value of 1 to 15 decimal digits without a leading zero (the common offset), else null: no string built. */
function plainDigits(arg: Uint8Array): number | null {
  const len = arg.length;
  if (len === 0 || len > 15 || (arg[0] === 48 && len > 1)) return null;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const d = arg[i] - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Redis's getBitOffsetFromArgument: a bit offset within proto-max-bulk-len
 * bytes (the primary's stream is obeyed beyond it). With hashBits > 0,
 * "#n" means n fields of that width (BITFIELD), multiplied as int64.
 */
export function bitOffsetArg(c: Client, arg: Uint8Array, hashBits = 0): number | null {
  let n: number | null = plainDigits(arg);
  if (n !== null && n < 8 * c.engine.parserLimits.maxBulkLen) return n;
  if (hashBits > 0 && arg.length > 0 && arg[0] === 35) {
    const v = parseInt64(str(arg.subarray(1)));
    n = v === null ? null : Number(BigInt.asIntN(64, v * BigInt(hashBits)));
  } else n = parseInteger(str(arg));
  if (n === null || n < 0 || (!c.isMaster && Math.floor(n / 8) >= c.engine.parserLimits.maxBulkLen)) {
    c.error(OFFSET_ERR);
    return null;
  }
  return n;
}

/**
 * Redis's lookupStringForBitCommand: the key's value as bytes reaching
 * byte `last`, stored back when it changed form or grew (a missing key is
 * created). grew tells whether a write there counts even if no bit changes.
 * Null when the key holds another type (WRONGTYPE sent).
 */
export function bitsForWrite(c: Client, key: string, last: number): { bytes: Uint8Array; grew: boolean } | null {
  const v = writableString(c, key);
  if (v === null) return null;
  if (v instanceof Uint8Array && last < v.length) return { bytes: v, grew: false };
  const len = v === undefined ? 0 : byteLength(v);
  const need = Math.max(len, last + 1);
  let bytes: Uint8Array;
  if (need > EXACT_MAX) bytes = extend(v ?? "", need);
  else {
    bytes = new Uint8Array(need);
    if (v !== undefined) bytes.set(asBytes(v));
  }
  c.db.set(key, bytes, true);
  return { bytes, grew: v === undefined || bytes.length > len };
}
