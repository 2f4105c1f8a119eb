/**
 * FUNCTION DUMP / RESTORE payloads in Redis's DUMP layout: one
 * RDB_OPCODE_FUNCTION2 (0xf5) and library code string per library, then
 * the RDB version (10, little-endian) and a CRC64 (Jones) of everything
 * before it. Codes are written uncompressed; LZF-compressed strings in a
 * payload from Redis are read.
 */
import { crc64 } from "../persist/rdb/crc64.ts";
import { lzfDecompress } from "../persist/rdb/lzf.ts";

const FUNCTION2 = 0xf5;
const RDB_VERSION = 10;

function lengthBytes(n: number): number[] {
  if (n < 64) return [n];
  if (n < 16384) return [0x40 | (n >> 8), n & 0xff];
  return [0x80, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

export function dumpLibraries(codes: Uint8Array[]): Uint8Array {
  const out: number[] = [];
  for (const code of codes) {
    out.push(FUNCTION2, ...lengthBytes(code.length));
    for (const b of code) out.push(b);
  }
  out.push(RDB_VERSION, 0);
  const crc = crc64(Uint8Array.from(out));
  for (let i = 0n; i < 8n; i++) out.push(Number((crc >> (i * 8n)) & 0xffn));
  return Uint8Array.from(out);
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new Error("truncated");
    return this.buf[this.pos++];
  }

  /** An RDB length; `encoded` marks the special string encodings (0xc0..). */
  length(): { n: number; encoded: boolean } {
    const b = this.byte();
    const type = b >> 6;
    if (type === 0) return { n: b & 0x3f, encoded: false };
    if (type === 1) return { n: ((b & 0x3f) << 8) | this.byte(), encoded: false };
    if (type === 3) return { n: b & 0x3f, encoded: true };
    let n = 0;
    const size = b === 0x80 ? 4 : b === 0x81 ? 8 : -1;
    if (size < 0) throw new Error("bad length");
    for (let i = 0; i < size; i++) n = n * 256 + this.byte();
    return { n, encoded: false };
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new Error("truncated");
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): Uint8Array {
    const { n, encoded } = this.length();
    if (!encoded) return this.take(n);
    if (n !== 3) throw new Error("unsupported string encoding");
    const compressedLength = this.length().n;
    const length = this.length().n;
    const out = lzfDecompress(this.take(compressedLength), length);
    if (out === null) throw new Error("bad lzf");
    return out;
  }
}

/** The library codes in a payload, or null when its version or checksum is wrong or it cannot be read. */
export function parseLibraries(payload: Uint8Array): Uint8Array[] | null {
  if (payload.length < 10) return null;
  const body = payload.subarray(0, payload.length - 8);
  const version = body[body.length - 2] | (body[body.length - 1] << 8);
  let crc = 0n;
  for (let i = 7; i >= 0; i--) crc = (crc << 8n) | BigInt(payload[payload.length - 8 + i]);
  if (version > RDB_VERSION || crc64(body) !== crc) return null;
  const r = new Reader(body.subarray(0, body.length - 2));
  const codes: Uint8Array[] = [];
  try {
    while (r.pos < r.buf.length) {
      if (r.byte() !== FUNCTION2) return null;
      codes.push(r.string());
    }
  } catch {
    return null;
  }
  return codes;
}
