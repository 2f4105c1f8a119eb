/**
 * Byte-range commands on strings: APPEND STRLEN GETRANGE SUBSTR SETRANGE.
 * Values they build are kept as bytes (Redis's "raw" encoding). APPEND
 * grows into spare capacity like an sds string, so building a value by
 * many appends costs amortized O(appended bytes), not O(n^2).
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";
import { intArg, readString, writableString } from "./args.ts";
import { argValue, asBytes, byteLength } from "../types/string.ts";
import type { StringValue } from "../types/value.ts";

/**
 * Byte strings built here with room after their end. Only the newest view
 * of a buffer is listed, so growing never touches bytes that any other
 * view (a key that shares the value, say) can see.
 */
const growable = new WeakSet<Uint8Array>();

/** sds's greedy growth: double up to 1 MB, then 1 MB at a time. */
const GREEDY_LIMIT = 1024 * 1024;

/** A new byte string of len bytes, zero-filled, with spare capacity for appends. */
function allocate(len: number): Uint8Array {
  const capacity = len < GREEDY_LIMIT ? len * 2 : len + GREEDY_LIMIT;
  const out = new Uint8Array(new ArrayBuffer(capacity), 0, len);
  growable.add(out);
  return out;
}

/**
 * v as bytes extended to len (at least its length) with zeros, as sds's
 * sdsgrowzero: in place into spare capacity when v is the newest view of a
 * buffer built here (bytes past it were never written), else a copy with
 * room to grow. SETBIT and BITFIELD grow bitmaps through this too.
 */
export function extend(v: StringValue, len: number): Uint8Array {
  if (v instanceof Uint8Array && growable.has(v) && v.byteOffset + len <= v.buffer.byteLength) {
    const out = new Uint8Array(v.buffer, v.byteOffset, len);
    growable.delete(v);
    growable.add(out);
    return out;
  }
  const head = asBytes(v);
  const out = allocate(Math.max(len, head.length));
  out.set(head);
  return out;
}

function append(v: StringValue, tail: Uint8Array): Uint8Array {
  const out = extend(v, byteLength(v) + tail.length);
  out.set(tail, out.length - tail.length);
  return out;
}

/** Redis's checkStringLength: a result over proto-max-bulk-len is refused. */
function fitsMaxSize(c: Client, total: number): boolean {
  if (total <= c.engine.parserLimits.maxBulkLen) return true;
  c.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  return false;
}

/** GETRANGE/SUBSTR: inclusive byte range with negative indexes from the end, clamped as Redis does. */
const getRange: Handler = (c, argv) => {
  const start = intArg(c, argv[2]);
  if (start === null) return;
  const end = intArg(c, argv[3]);
  if (end === null) return;
  const v = readString(c, str(argv[1]));
  if (v === null) return;
  if (v === undefined) return c.out.bulkStr("");
  const len = byteLength(v);
  if (start < 0 && end < 0 && start > end) return c.out.bulkStr("");
  const from = Math.max(start < 0 ? len + start : start, 0);
  const to = Math.min(Math.max(end < 0 ? len + end : end, 0), len - 1);
  if (from > to || len === 0) return c.out.bulkStr("");
  if (v instanceof Uint8Array) c.out.bulk(v.subarray(from, to + 1));
  else c.out.bulkStr(String(v).slice(from, to + 1));
};

const base = { keys: [1, 1, 1] as [number, number, number], acl: "string", group: "string" };

export const rangeCommands: CommandDef[] = [
  {
    ...base,
    name: "append",
    arity: 3,
    flags: "write denyoom fast",
    keySpec: "RW insert",
    since: "2.0.0",
    summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.",
    run(c, argv) {
      const key = str(argv[1]);
      const v = writableString(c, key);
      if (v === null) return;
      let len: number;
      if (v === undefined) {
        c.db.set(key, argValue(argv[2], c.engine.slabs));
        len = argv[2].length;
      } else {
        len = byteLength(v) + argv[2].length;
        if (!fitsMaxSize(c, len)) return;
        c.db.set(key, append(v, argv[2]), true);
      }
      c.engine.keyWritten(c.db, key);
      c.engine.notify(c.db, "append", key, "$");
      c.out.int(len);
    },
  },
  {
    ...base,
    name: "strlen",
    arity: 2,
    flags: "readonly fast",
    keySpec: "RO",
    since: "2.2.0",
    summary: "Returns the length of a string value.",
    run(c, argv) {
      const v = readString(c, str(argv[1]));
      if (v === null) return;
      c.out.int(v === undefined ? 0 : byteLength(v));
    },
  },
  {
    ...base,
    name: "getrange",
    arity: 4,
    flags: "readonly",
    since: "2.4.0",
    summary: "Returns a substring of the string stored at a key.",
    complexity:
      "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
    run: getRange,
  },
  {
    ...base,
    name: "substr",
    arity: 4,
    flags: "readonly",
    since: "1.0.0",
    summary: "Returns a substring from a string value.",
    complexity:
      "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
    run: getRange,
  },
  {
    ...base,
    name: "setrange",
    arity: 4,
    flags: "write denyoom",
    keySpec: "RW update",
    since: "2.2.0",
    summary:
      "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
    complexity:
      "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
    run(c, argv) {
      const offset = intArg(c, argv[2]);
      if (offset === null) return;
      if (offset < 0) return c.error("ERR offset is out of range");
      const key = str(argv[1]);
      const v = writableString(c, key);
      if (v === null) return;
      const patch = argv[3];
      const oldLen = v === undefined ? 0 : byteLength(v);
      if (patch.length === 0) return c.out.int(oldLen);
      if (!fitsMaxSize(c, offset + patch.length)) return;
      // A fresh copy even when the size stays: a stored value may be shared.
      const out = allocate(Math.max(oldLen, offset + patch.length));
      if (v !== undefined) out.set(asBytes(v));
      out.set(patch, offset);
      c.db.set(key, out, true);
      c.engine.keyWritten(c.db, key);
      c.engine.notify(c.db, "setrange", key, "$");
      c.out.int(out.length);
    },
  },
];
