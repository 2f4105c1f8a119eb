/**
 * A growing byte buffer with RDB's primitives: lengths, strings in their
 * integer / LZF / raw encodings (as Redis's rdbSaveRawString chooses),
 * binary doubles and millisecond times. Values are written straight into
 * one Uint8Array, so a million small keys cost no allocation each.
 */
import { lzfCompress, lzfOutput } from "./lzf.ts";
import { ENC_INT16, ENC_INT32, ENC_INT8, ENC_LZF } from "./format.ts";

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(capacity = 64 * 1024) {
    this.buf = new Uint8Array(capacity);
  }

  /** Makes room for n more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A binary string's bytes. */
  binary(s: string): void {
    this.raw(s, 0, s.length);
  }

  /** Everything written, as a copy. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** rdbSaveLen: 6-bit, 14-bit, 32-bit big-endian or 64-bit big-endian. */
  len(n: number): void {
    this.reserve(9);
    const buf = this.buf;
    if (n < 64) buf[this.pos++] = n;
    else if (n < 16384) {
      buf[this.pos++] = 0x40 | (n >> 8);
      buf[this.pos++] = n & 0xff;
    } else if (n <= 0xffffffff) {
      buf[this.pos++] = 0x80;
      this.u32be(n);
    } else {
      buf[this.pos++] = 0x81;
      this.u32be(Math.floor(n / 2 ** 32));
      this.u32be(n >>> 0);
    }
  }

  private u32be(n: number): void {
    const buf = this.buf;
    buf[this.pos++] = (n >>> 24) & 0xff;
    buf[this.pos++] = (n >>> 16) & 0xff;
    buf[this.pos++] = (n >>> 8) & 0xff;
    buf[this.pos++] = n & 0xff;
  }

  /** Little-endian integer of `width` bytes (two's complement for negatives; exact within ±2^53). */
  intLE(v: number, width: number): void {
    this.reserve(width);
    const buf = this.buf;
    if (width <= 4) {
      for (let i = 0; i < width; i++) buf[this.pos++] = (v >> (8 * i)) & 0xff;
      return;
    }
    let big = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < width; i++) {
      buf[this.pos++] = Number(big & 0xffn);
      big >>= 8n;
    }
  }

  /** An 8-byte little-endian IEEE double (zset_2 scores). */
  double(d: number): void {
    f64[0] = d;
    this.reserve(8);
    if (LITTLE_ENDIAN) this.buf.set(f64Bytes, this.pos);
    else for (let i = 0; i < 8; i++) this.buf[this.pos + i] = f64Bytes[7 - i];
    this.pos += 8;
  }

  /** An integer as Redis's rdbEncodeInteger does (0xC0-0xC2), or false when it is outside int32. */
  encodedInt(v: number): boolean {
    this.reserve(5);
    const buf = this.buf;
    if (v >= -128 && v <= 127) {
      buf[this.pos++] = 0xc0 | ENC_INT8;
      buf[this.pos++] = v & 0xff;
    } else if (v >= -32768 && v <= 32767) {
      buf[this.pos++] = 0xc0 | ENC_INT16;
      buf[this.pos++] = v & 0xff;
      buf[this.pos++] = (v >> 8) & 0xff;
    } else if (v >= -2147483648 && v <= 2147483647) {
      buf[this.pos++] = 0xc0 | ENC_INT32;
      for (let i = 0; i < 4; i++) buf[this.pos++] = (v >> (8 * i)) & 0xff;
    } else return false;
    return true;
  }

  /**
   * rdbSaveRawString for a binary string or bytes: up to 11 bytes that read
   * as a canonical int32 are saved as an integer; over 20 bytes with
   * compression, LZF when it saves at least 4 bytes; else length + bytes.
   */
  string(s: string | Uint8Array, compress: boolean): void {
    this.stringIn(s, 0, s.length, compress);
  }

  /** string() of s's chars or bytes [at, at + n): a key lent in place by the keyspace is written with no copy made. */
  stringIn(s: string | Uint8Array, at: number, n: number, compress: boolean): void {
    if (n <= 11 && n > 0) {
      const v = smallInt(s, at, n);
      if (v !== null && this.encodedInt(v)) return;
    }
    if (compress && n > 20) {
      const packed = typeof s === "string" ? lzfCompress(scratchBytes(s, at, n), 0, n, n - 4) : lzfCompress(s, at, n, n - 4);
      if (packed >= 0) {
        this.byte(0xc0 | ENC_LZF);
        this.len(packed);
        this.len(n);
        this.raw(lzfOutput(), 0, packed);
        return;
      }
    }
    this.len(n);
    this.raw(s, at, n);
  }

  /** s's chars or bytes [at, at + n) as they are (short runs copied by a loop: no view made). */
  raw(s: string | Uint8Array, at: number, n: number): void {
    this.reserve(n);
    const buf = this.buf;
    let p = this.pos;
    if (typeof s === "string") for (let i = at; i < at + n; i++) buf[p++] = s.charCodeAt(i);
    else if (n > 64) {
      buf.set(s.subarray(at, at + n), p);
      p += n;
    } else for (let i = at; i < at + n; i++) buf[p++] = s[i];
    this.pos = p;
  }

  /** A stored number (a canonical integer): int-encoded in int32, else its digits. */
  number(v: number): void {
    if (this.encodedInt(v)) return;
    const s = String(v);
    this.len(s.length);
    this.binary(s);
  }
}

/** Byte i of a binary string or bytes. */
function byteAt(s: string | Uint8Array, i: number): number {
  return typeof s === "string" ? s.charCodeAt(i) : s[i];
}

/** The chars or bytes [at, at + n) (n <= 11) as a canonical integer (string2ll), or null. */
function smallInt(s: string | Uint8Array, at: number, n: number): number | null {
  const end = at + n;
  let i = at;
  const neg = byteAt(s, i) === 45;
  if (neg) {
    if (n === 1) return null;
    i++;
  }
  if (byteAt(s, i) === 48) return n === 1 ? 0 : null;
  let v = 0;
  for (; i < end; i++) {
    const d = byteAt(s, i) - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

let scratch = new Uint8Array(1024);

/** Chars [at, at + n) of a binary string as bytes at the start of a reused buffer (valid until the next call). */
function scratchBytes(s: string, at: number, n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  for (let i = 0; i < n; i++) scratch[i] = s.charCodeAt(at + i);
  return scratch;
}
