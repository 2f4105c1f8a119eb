/**
 * Redis's listpack element encoding, byte for byte (listpack.c): integers
 * in 7/13/16/24/32/64 bits (a string that reads as a canonical int64 is
 * stored as an integer, as lpAppend does), strings with 6/12/32-bit
 * lengths, each element followed by its backlen (its size, 7 bits per byte,
 * read from the end). Stream nodes are built from these elements in place;
 * the RDB listpack writer shares the backlen.
 */
import { copyBytes, str, writeBinary } from "../util/bytes.ts";
import { canonicalInt } from "../util/number.ts";

export type Bytes = string | Uint8Array;

const byteAt = (v: Bytes, i: number) => (typeof v === "string" ? v.charCodeAt(i) : v[i]);

/** Bytes of an integer element's encoding (without backlen). */
function intEncLen(v: number | bigint): number {
  if (typeof v === "bigint") return 9;
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

function backlenLen(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** Bytes an element takes, backlen included. */
export function elementSize(v: Bytes | number | bigint): number {
  let l: number;
  if (typeof v === "number" || typeof v === "bigint") l = intEncLen(v);
  else {
    const i = v.length <= 20 ? canonicalInt(v) : null;
    if (i !== null) l = intEncLen(i);
    else {
      const n = v.length;
      l = n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n;
    }
  }
  return l + backlenLen(l);
}

function writeInt(buf: Uint8Array, p: number, v: number | bigint): number {
  if (typeof v === "bigint" && v >= -(2n ** 53n) && v <= 2n ** 53n) v = Number(v);
  if (typeof v === "bigint") {
    buf[p++] = 0xf4;
    let u = BigInt.asUintN(64, v);
    for (let i = 0; i < 8; i++) {
      buf[p++] = Number(u & 0xffn);
      u >>= 8n;
    }
    return p;
  }
  if (v >= 0 && v <= 127) {
    buf[p++] = v;
    return p;
  }
  if (v >= -4096 && v <= 4095) {
    const u = v < 0 ? 8192 + v : v;
    buf[p++] = 0xc0 | (u >> 8);
    buf[p++] = u & 0xff;
    return p;
  }
  let width: number;
  if (v >= -32768 && v <= 32767) (buf[p++] = 0xf1), (width = 2);
  else if (v >= -8388608 && v <= 8388607) (buf[p++] = 0xf2), (width = 3);
  else if (v >= -2147483648 && v <= 2147483647) (buf[p++] = 0xf3), (width = 4);
  else (buf[p++] = 0xf4), (width = 8);
  if (width === 8) {
    let u = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 8; i++) {
      buf[p++] = Number(u & 0xffn);
      u >>= 8n;
    }
    return p;
  }
  let u = v < 0 ? 2 ** (8 * width) + v : v;
  for (let i = 0; i < width; i++) {
    buf[p++] = u & 0xff;
    u = Math.floor(u / 256);
  }
  return p;
}

export function writeBacklen(buf: Uint8Array, p: number, l: number): number {
  if (l <= 127) buf[p++] = l;
  else if (l < 16383) {
    buf[p++] = l >> 7;
    buf[p++] = (l & 127) | 128;
  } else if (l < 2097151) {
    buf[p++] = l >> 14;
    buf[p++] = ((l >> 7) & 127) | 128;
    buf[p++] = (l & 127) | 128;
  } else if (l < 268435455) {
    buf[p++] = l >> 21;
    buf[p++] = ((l >> 14) & 127) | 128;
    buf[p++] = ((l >> 7) & 127) | 128;
    buf[p++] = (l & 127) | 128;
  } else {
    buf[p++] = Math.floor(l / 2 ** 28);
    buf[p++] = ((l >> 21) & 127) | 128;
    buf[p++] = ((l >> 14) & 127) | 128;
    buf[p++] = ((l >> 7) & 127) | 128;
    buf[p++] = (l & 127) | 128;
  }
  return p;
}

/** Writes an element (integer, or string stored as an integer when canonical) at p; returns the end. */
export function writeElement(buf: Uint8Array, p: number, v: Bytes | number | bigint): number {
  const start = p;
  if (typeof v !== "number" && typeof v !== "bigint") {
    const i = v.length <= 20 ? canonicalInt(v) : null;
    if (i !== null) v = i;
  }
  if (typeof v === "number" || typeof v === "bigint") p = writeInt(buf, p, v);
  else {
    const n = v.length;
    if (n < 64) buf[p++] = 0x80 | n;
    else if (n < 4096) {
      buf[p++] = 0xe0 | (n >> 8);
      buf[p++] = n & 0xff;
    } else {
      buf[p++] = 0xf0;
      buf[p++] = n & 0xff;
      buf[p++] = (n >>> 8) & 0xff;
      buf[p++] = (n >>> 16) & 0xff;
      buf[p++] = (n >>> 24) & 0xff;
    }
    if (typeof v === "string") p = writeBinary(v, buf, p);
    else {
      copyBytes(v, 0, n, buf, p);
      p += n;
    }
  }
  return writeBacklen(buf, p, p - start);
}

/** Encoded bytes of the element at p (without backlen). */
export function encLen(buf: Uint8Array, p: number): number {
  const b = buf[p];
  if (b < 0x80) return 1;
  if (b < 0xc0) return 1 + (b & 0x3f);
  if (b < 0xe0) return 2;
  if (b < 0xf0) return 2 + (((b & 0x0f) << 8) | buf[p + 1]);
  if (b === 0xf0) return 5 + (buf[p + 1] | (buf[p + 2] << 8) | (buf[p + 3] << 16)) + buf[p + 4] * 0x1000000;
  return b === 0xf1 ? 3 : b === 0xf2 ? 4 : b === 0xf3 ? 5 : 9;
}

/** The position after the element at p. */
export function nextElement(buf: Uint8Array, p: number): number {
  const l = encLen(buf, p);
  return p + l + backlenLen(l);
}

/** The element at p as an integer (number, or bigint beyond ±2^53); NaN for a string element. */
export function elementInt(buf: Uint8Array, p: number): number | bigint {
  const b = buf[p];
  if (b < 0x80) return b;
  if (b < 0xc0) return NaN;
  if (b < 0xe0) {
    const v = ((b & 0x1f) << 8) | buf[p + 1];
    return v >= 4096 ? v - 8192 : v;
  }
  if (b <= 0xf0) return NaN;
  const width = b === 0xf1 ? 2 : b === 0xf2 ? 3 : b === 0xf3 ? 4 : 8;
  if (width < 8) {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + buf[p + 1 + i];
    const half = 2 ** (8 * width - 1);
    return v >= half ? v - 2 * half : v;
  }
  let lo = 0;
  for (let i = 3; i >= 0; i--) lo = lo * 256 + buf[p + 1 + i];
  let hi = 0;
  for (let i = 7; i >= 4; i--) hi = hi * 256 + buf[p + 1 + i];
  if (hi < 0x200000) return hi * 0x100000000 + lo;
  if (hi >= 0xffe00000) return (hi - 0x100000000) * 0x100000000 + lo;
  if (hi !== hi || lo !== lo) return NaN; // bytes past the end of a damaged listpack
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

/** The element at p as a binary string (integers in decimal). */
export function elementStr(buf: Uint8Array, p: number): string {
  const b = buf[p];
  if (b >= 0x80 && b < 0xc0) return str(buf.subarray(p + 1, p + 1 + (b & 0x3f)));
  if (b >= 0xe0 && b < 0xf0) return str(buf.subarray(p + 2, p + 2 + (((b & 0x0f) << 8) | buf[p + 1])));
  if (b === 0xf0) {
    const n = encLen(buf, p) - 5;
    return str(buf.subarray(p + 5, p + 5 + n));
  }
  return String(elementInt(buf, p));
}

/** Where replies go (a ReplyWriter): elements are written straight from the listpack bytes. */
export interface EntrySink {
  array(n: number): void;
  raw(bytes: Uint8Array): void;
  bulkFrom(src: Uint8Array, offset: number, len: number): void;
  bulkStr(s: string): void;
}

/** Writes the element at p as a bulk string (integers in decimal). */
export function emitElement(buf: Uint8Array, p: number, out: EntrySink): void {
  const b = buf[p];
  if (b >= 0x80 && b < 0xc0) out.bulkFrom(buf, p + 1, b & 0x3f);
  else if (b >= 0xe0 && b < 0xf0) out.bulkFrom(buf, p + 2, ((b & 0x0f) << 8) | buf[p + 1]);
  else if (b === 0xf0) out.bulkFrom(buf, p + 5, encLen(buf, p) - 5);
  else out.bulkStr(String(elementInt(buf, p)));
}

/** Whether the element at p equals v byte for byte (as lpCompare). */
export function elementEquals(buf: Uint8Array, p: number, v: Bytes): boolean {
  const b = buf[p];
  let at: number;
  let n: number;
  if (b >= 0x80 && b < 0xc0) (at = p + 1), (n = b & 0x3f);
  else if (b >= 0xe0 && b < 0xf0) (at = p + 2), (n = ((b & 0x0f) << 8) | buf[p + 1]);
  else if (b === 0xf0) (at = p + 5), (n = encLen(buf, p) - 5);
  else return elementStr(buf, p) === (typeof v === "string" ? v : str(v));
  if (n !== v.length) return false;
  for (let i = 0; i < n; i++) if (buf[at + i] !== byteAt(v, i)) return false;
  return true;
}
