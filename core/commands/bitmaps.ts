/**
 * Bitmap commands on strings: SETBIT GETBIT BITCOUNT BITPOS BITOP (and, from
 * bitfield.ts, BITFIELD BITFIELD_RO), with Redis 7.0's argument order,
 * errors and events. A write turns the value into bytes (Redis's "raw",
 * even from "int" or "embstr") and changes them in place; growth is
 * zero-filled with spare capacity, as sdsgrowzero.
 */
import type { CommandDef, KeySpecDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, lower, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { ERR, intArg, readString } from "./args.ts";
import { bitOffsetArg, bitsForWrite } from "./bit-args.ts";
import { asBytes } from "../types/string.ts";
import { type BitOp, bitop, findBit, popcount } from "../types/bits.ts";
import { bitfieldCommands } from "./bitfield.ts";

const BIT_ERR = "ERR bit is not an integer or out of range";

const setbit = (c: Client, argv: Uint8Array[]): void => {
  const offset = bitOffsetArg(c, argv[2]);
  if (offset === null) return;
  const arg = argv[3];
  const on = arg.length === 1 && (arg[0] === 48 || arg[0] === 49) ? arg[0] - 48 : intArg(c, arg, BIT_ERR);
  if (on === null) return;
  if (on !== 0 && on !== 1) return c.error(BIT_ERR);
  const key = str(argv[1]);
  const byte = Math.floor(offset / 8);
  const target = bitsForWrite(c, key, byte);
  if (target === null) return;
  const { bytes } = target;
  const mask = 0x80 >> (offset & 7);
  const old = bytes[byte] & mask ? 1 : 0;
  if (target.grew || old !== on) {
    bytes[byte] = on ? bytes[byte] | mask : bytes[byte] & ~mask;
    c.engine.keyWritten(c.db, key);
    c.engine.notify(c.db, "setbit", key, "$");
  }
  c.out.int(old);
};

const getbit = (c: Client, argv: Uint8Array[]): void => {
  const offset = bitOffsetArg(c, argv[2]);
  if (offset === null) return;
  const v = readString(c, str(argv[1]));
  if (v === null) return;
  if (v === undefined) return c.out.int(0);
  const byte = Math.floor(offset / 8);
  const mask = 0x80 >> (offset & 7);
  if (v instanceof Uint8Array) return c.out.int(byte < v.length && v[byte] & mask ? 1 : 0);
  const s = typeof v === "string" ? v : String(v);
  c.out.int(byte < s.length && s.charCodeAt(byte) & mask ? 1 : 0);
};

/**
 * start > end with both negative. Range bounds are int64 read as numbers:
 * past ±2^53 they round, which only matters here (elsewhere they clamp to
 * the string), so two huge negative bounds are compared exactly.
 */
function negativeAndReversed(argv: Uint8Array[], i: number, start: number, end: number): boolean {
  if (!(start < 0 && end < 0)) return false;
  if (start > -(2 ** 53) && end > -(2 ** 53)) return start > end;
  return parseInt64(str(argv[i]))! > parseInt64(str(argv[i + 1]))!;
}

/** BIT or BYTE: true for BIT, null (syntax error sent) for anything else. */
function unitArg(c: Client, arg: Uint8Array): boolean | null {
  if (is(arg, "bit")) return true;
  if (is(arg, "byte")) return false;
  c.error(ERR.syntax);
  return null;
}

/**
 * A user range made absolute and clamped to a string of len bytes (bits
 * when isBit): [start, end] inclusive, possibly empty (start > end), plus
 * the masks of bits outside the range in its first and last byte (BIT).
 */
interface Span {
  start: number;
  end: number;
  firstMask: number;
  lastMask: number;
}

function clampSpan(start: number, end: number, len: number, isBit: boolean): Span {
  const total = isBit ? len * 8 : len;
  if (start < 0) start = Math.max(total + start, 0);
  if (end < 0) end = Math.max(total + end, 0);
  if (end >= total) end = total - 1;
  let firstMask = 0;
  let lastMask = 0;
  if (isBit && start <= end) {
    firstMask = ~((1 << (8 - (start & 7))) - 1) & 0xff;
    lastMask = (1 << (7 - (end & 7))) - 1;
    start = Math.floor(start / 8);
    end = Math.floor(end / 8);
  }
  return { start, end, firstMask, lastMask };
}

const bitcount = (c: Client, argv: Uint8Array[]): void => {
  const v = readString(c, str(argv[1]));
  if (v === null) return;
  if (v === undefined) return c.out.int(0);
  const p = asBytes(v);
  if (argv.length === 2) return c.out.int(popcount(p, 0, p.length));
  if (argv.length !== 4 && argv.length !== 5) return c.error(ERR.syntax);
  const start = intArg(c, argv[2]);
  if (start === null) return;
  const end = intArg(c, argv[3]);
  if (end === null) return;
  if (negativeAndReversed(argv, 2, start, end)) return c.out.int(0);
  const isBit = argv.length === 5 ? unitArg(c, argv[4]) : false;
  if (isBit === null) return;
  const span = clampSpan(start, end, p.length, isBit);
  if (span.start > span.end) return c.out.int(0);
  let n = popcount(p, span.start, span.end + 1);
  if (span.firstMask) n -= popcount(Uint8Array.of(p[span.start] & span.firstMask), 0, 1);
  if (span.lastMask) n -= popcount(Uint8Array.of(p[span.end] & span.lastMask), 0, 1);
  c.out.int(n);
};

/** redisBitpos over one byte already masked. */
function findInByte(byte: number, bit: number): number {
  return findBit(Uint8Array.of(byte), 0, 1, bit);
}

/** BITPOS over a non-empty span, as Redis: the masked first byte, the whole bytes, the masked last byte. */
function bitposIn(p: Uint8Array, span: Span, bit: number, endGiven: boolean): number {
  let { start } = span;
  const { end, firstMask, lastMask } = span;
  let bytes = end - start + 1;
  let pos: number;
  found: {
    if (firstMask) {
      let b = bit ? p[start] & ~firstMask : p[start] | firstMask;
      if (lastMask && bytes === 1) b = bit ? b & ~lastMask : b | lastMask;
      pos = findInByte(b & 0xff, bit);
      if (bytes === 1 || (pos !== -1 && pos !== 8)) break found;
      start++;
      bytes--;
    }
    const whole = bytes - (lastMask ? 1 : 0);
    if (whole > 0) {
      pos = findBit(p, start, start + whole, bit);
      if (bytes === whole || (pos !== -1 && pos !== whole * 8)) break found;
      start += whole;
      bytes -= whole;
    }
    pos = findInByte((bit ? p[end] & ~lastMask : p[end] | lastMask) & 0xff, bit);
  }
  if (endGiven && bit === 0 && pos === bytes * 8) return -1;
  return pos === -1 ? -1 : pos + start * 8;
}

const bitpos = (c: Client, argv: Uint8Array[]): void => {
  const bit = intArg(c, argv[2]);
  if (bit === null) return;
  if (bit !== 0 && bit !== 1) return c.error("ERR The bit argument must be 1 or 0.");
  const v = readString(c, str(argv[1]));
  if (v === null) return;
  if (v === undefined) return c.out.int(bit ? -1 : 0);
  const p = asBytes(v);
  const argc = argv.length;
  let span: Span;
  let endGiven = false;
  if (argc === 3) span = { start: 0, end: p.length - 1, firstMask: 0, lastMask: 0 };
  else if (argc <= 6) {
    const start = intArg(c, argv[3]);
    if (start === null) return;
    const isBit = argc === 6 ? unitArg(c, argv[5]) : false;
    if (isBit === null) return;
    let end = p.length - 1;
    if (argc >= 5) {
      const given = intArg(c, argv[4]);
      if (given === null) return;
      end = given;
      endGiven = true;
    }
    span = clampSpan(start, end, p.length, isBit);
  } else return c.error(ERR.syntax);
  if (span.start > span.end) return c.out.int(-1);
  c.out.int(bitposIn(p, span, bit, endGiven));
};

const BITOPS: Record<string, BitOp> = { and: "and", or: "or", xor: "xor", not: "not" };

const bitopRun = (c: Client, argv: Uint8Array[]): void => {
  const name = lower(str(argv[1]));
  const op = Object.hasOwn(BITOPS, name) ? BITOPS[name] : undefined;
  if (op === undefined) return c.error(ERR.syntax);
  if (op === "not" && argv.length !== 4) return c.error("ERR BITOP NOT must be called with a single source key.");
  const sources: Uint8Array[] = [];
  for (let i = 3; i < argv.length; i++) {
    const v = readString(c, str(argv[i]));
    if (v === null) return;
    sources.push(v === undefined ? new Uint8Array(0) : asBytes(v));
  }
  const res = bitop(op, sources);
  const key = str(argv[2]);
  if (res.length > 0) {
    c.db.set(key, res);
    c.engine.keyWritten(c.db, key);
    c.engine.notify(c.db, "set", key, "$");
  } else if (c.db.delete(key)) {
    c.engine.keyWritten(c.db, key);
    c.engine.notify(c.db, "del", key, "g");
  }
  c.out.int(res.length);
};

const base = { acl: "bitmap", group: "bitmap", keys: [1, 1, 1] as [number, number, number] };

export const bitmapCommands: CommandDef[] = [
  {
    ...base,
    name: "setbit",
    arity: 4,
    flags: "write denyoom",
    keySpec: "RW access update",
    since: "2.2.0",
    summary: "Sets or clears the bit at offset in the string value stored at key",
    run: setbit,
  },
  {
    ...base,
    name: "getbit",
    arity: 3,
    flags: "readonly fast",
    since: "2.2.0",
    summary: "Returns the bit value at offset in the string value stored at key",
    run: getbit,
  },
  {
    ...base,
    name: "bitcount",
    arity: -2,
    flags: "readonly",
    since: "2.6.0",
    summary: "Count set bits in a string",
    complexity: "O(N)",
    run: bitcount,
  },
  {
    ...base,
    name: "bitpos",
    arity: -3,
    flags: "readonly",
    since: "2.8.7",
    summary: "Find first bit set or clear in a string",
    complexity: "O(N)",
    run: bitpos,
  },
  {
    ...base,
    name: "bitop",
    arity: -4,
    flags: "write denyoom",
    keys: [2, -1, 1],
    keySpecs: [
      { flags: "OW update", begin: 2, find: { range: [0, 1, 0] } },
      { flags: "RO access", begin: 3, find: { range: [-1, 1, 0] } },
    ] as KeySpecDef[],
    since: "2.6.0",
    summary: "Perform bitwise operations between strings",
    complexity: "O(N)",
    run: bitopRun,
  },
  ...bitfieldCommands,
];
