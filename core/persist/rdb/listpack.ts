/**
 * Redis's listpack byte format, as RDB stores small hashes, sorted sets and
 * list nodes (our in-memory packed formats differ, see core/types). The
 * writer appends entries with Redis's encodings (integers for strings that
 * read as canonical int64s, 6/12/32-bit string lengths, backlen); the reader
 * turns a blob back into entries, checking it as lpValidateIntegrity does:
 * the header always, every entry when deep (sanitize-dump-payload).
 */
import { ByteWriter } from "./writer.ts";
import { copyBytes, str } from "../../util/bytes.ts";
import { cursor, readVarint } from "../../types/packed.ts";
import { canonicalInt } from "../../util/number.ts";
import { writeBacklen } from "../../types/redis-listpack.ts";

export { canonicalInt };

const HEADER = 6;
const EOF = 0xff;

/** Builds one listpack in a reusable buffer. */
export class ListpackWriter {
  readonly w = new ByteWriter(4096);
  count = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    this.w.pos = HEADER;
    this.count = 0;
  }

  /** An entry from a binary string or bytes, or their [at, at + n) (integers stored as integers, as lpAppend does). */
  entry(v: string | Uint8Array, at = 0, n = v.length): void {
    if (n > 0 && n <= 20) {
      const i = canonicalInt(v, at, n);
      if (i !== null) return this.int(i);
    }
    const w = this.w;
    w.reserve(n + 10);
    const start = w.pos;
    const buf = w.buf;
    if (n < 64) buf[w.pos++] = 0x80 | n;
    else if (n < 4096) {
      buf[w.pos++] = 0xe0 | (n >> 8);
      buf[w.pos++] = n & 0xff;
    } else {
      buf[w.pos++] = 0xf0;
      w.intLE(n, 4);
    }
    w.raw(v, at, n);
    this.backlen(w.pos - start);
  }

  /**
   * The entries of one of our packed collections (a varint count of pairs,
   * then varint-length-prefixed fields and values) in bytes[at, at + length),
   * in one pass: room reserved once, entries under 64 bytes that cannot be
   * integers copied with their one-byte header and backlen inline, the rest
   * through entry(). SAVE of 100k small hashes spent half its time in
   * entry() and its copies.
   */
  pairsFrom(bytes: Uint8Array, at: number, length: number): void {
    const pairs = readVarint(bytes, at);
    let p = cursor.at;
    const w = this.w;
    // Each entry grows by at most its header and backlen over its length prefix.
    w.reserve(length + pairs * 2 * 10);
    let buf = w.buf;
    for (let k = 2 * pairs; k > 0; k--) {
      const n = readVarint(bytes, p);
      p = cursor.at;
      const first = bytes[p];
      // Digits or a minus sign may make an integer entry; an empty or long one needs entry()'s other headers.
      if (n === 0 || n >= 64 || first === 45 || (first >= 48 && first <= 57)) {
        this.entry(bytes, p, n);
        buf = w.buf;
      } else {
        let o = w.pos;
        buf[o++] = 0x80 | n;
        copyBytes(bytes, p, p + n, buf, o);
        o += n;
        // The entry's size (header + body, at most 64) is its own one-byte backlen.
        buf[o++] = n + 1;
        w.pos = o;
        this.count++;
      }
      p += n;
    }
  }

  /** An integer entry (a number within ±2^53 or a bigint in int64). */
  int(v: number | bigint): void {
    const w = this.w;
    w.reserve(11);
    const start = w.pos;
    const buf = w.buf;
    if (typeof v === "bigint" && v >= -(2n ** 53n) && v <= 2n ** 53n) v = Number(v);
    if (typeof v === "bigint") {
      buf[w.pos++] = 0xf4;
      let u = BigInt.asUintN(64, v);
      for (let i = 0; i < 8; i++) {
        buf[w.pos++] = Number(u & 0xffn);
        u >>= 8n;
      }
    } else if (v >= 0 && v <= 127) buf[w.pos++] = v;
    else if (v >= -4096 && v <= 4095) {
      const u = v < 0 ? (1 << 13) + v : v;
      buf[w.pos++] = 0xc0 | (u >> 8);
      buf[w.pos++] = u & 0xff;
    } else if (v >= -32768 && v <= 32767) {
      buf[w.pos++] = 0xf1;
      w.intLE(v, 2);
    } else if (v >= -8388608 && v <= 8388607) {
      buf[w.pos++] = 0xf2;
      w.intLE(v, 3);
    } else if (v >= -2147483648 && v <= 2147483647) {
      buf[w.pos++] = 0xf3;
      w.intLE(v, 4);
    } else {
      buf[w.pos++] = 0xf4;
      w.intLE(v, 8);
    }
    this.backlen(w.pos - start);
  }

  private backlen(l: number): void {
    const w = this.w;
    w.reserve(5);
    w.pos = writeBacklen(w.buf, w.pos, l);
    this.count++;
  }

  /** Closes the listpack; returns its length: its bytes start w.buf (valid until the next reset). */
  close(): number {
    const w = this.w;
    w.byte(EOF);
    const total = w.pos;
    const buf = w.buf;
    buf[0] = total & 0xff;
    buf[1] = (total >>> 8) & 0xff;
    buf[2] = (total >>> 16) & 0xff;
    buf[3] = (total >>> 24) & 0xff;
    const count = this.count < 65535 ? this.count : 65535;
    buf[4] = count & 0xff;
    buf[5] = count >> 8;
    return total;
  }

  /** close(), the bytes as a view of the buffer. */
  finish(): Uint8Array {
    const total = this.close();
    return this.w.buf.subarray(0, total);
  }
}

const u32 = (b: Uint8Array, p: number) => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000;

/**
 * The entries of a listpack blob as binary strings (integers in decimal),
 * or null when it is damaged. The header is always checked; with deep,
 * every entry's encoding, bounds, backlen and the count are too. Without
 * deep a damaged entry may still be detected (never read out of bounds).
 */
export function listpackEntries(lp: Uint8Array, deep: boolean): string[] | null {
  const size = lp.length;
  if (size < HEADER + 1 || u32(lp, 0) !== size || lp[size - 1] !== EOF) return null;
  const declared = lp[4] | (lp[5] << 8);
  const out: string[] = [];
  let p = HEADER;
  while (p < size - 1) {
    const start = p;
    const b = lp[p];
    let len: number;
    if (b < 0x80) {
      out.push(String(b));
      p += 1;
    } else if (b < 0xc0) {
      len = b & 0x3f;
      if (p + 1 + len > size - 1) return null;
      out.push(str(lp.subarray(p + 1, p + 1 + len)));
      p += 1 + len;
    } else if (b < 0xe0) {
      if (p + 2 > size - 1) return null;
      let v = ((b & 0x1f) << 8) | lp[p + 1];
      if (v >= 4096) v -= 8192;
      out.push(String(v));
      p += 2;
    } else if (b < 0xf0) {
      if (p + 2 > size - 1) return null;
      len = ((b & 0x0f) << 8) | lp[p + 1];
      if (p + 2 + len > size - 1) return null;
      out.push(str(lp.subarray(p + 2, p + 2 + len)));
      p += 2 + len;
    } else if (b === 0xf0) {
      if (p + 5 > size - 1) return null;
      len = u32(lp, p + 1);
      if (p + 5 + len > size - 1) return null;
      out.push(str(lp.subarray(p + 5, p + 5 + len)));
      p += 5 + len;
    } else if (b >= 0xf1 && b <= 0xf4) {
      const width = b === 0xf1 ? 2 : b === 0xf2 ? 3 : b === 0xf3 ? 4 : 8;
      if (p + 1 + width > size - 1) return null;
      out.push(readIntLE(lp, p + 1, width));
      p += 1 + width;
    } else return null;
    // The backlen: the entry's size, 7 bits per byte, read from its end.
    const l = p - start;
    const bl = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    if (p + bl > size - 1) return null;
    if (deep) {
      let v = 0;
      for (let i = 0; i < bl; i++) {
        const c = lp[p + bl - 1 - i];
        v += (c & 127) * 2 ** (7 * i);
        if ((i < bl - 1) !== (c >= 128)) return null;
      }
      if (v !== l) return null;
    }
    p += bl;
  }
  if (p !== size - 1) return null;
  if (deep && declared !== 65535 && declared !== out.length) return null;
  return out;
}

/** A little-endian two's complement integer of `width` bytes, in decimal. */
export function readIntLE(b: Uint8Array, p: number, width: number): string {
  if (width <= 4) {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + b[p + i];
    const half = 2 ** (8 * width - 1);
    return String(v >= half ? v - 2 * half : v);
  }
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[p + i]);
  return String(BigInt.asIntN(64, v));
}
