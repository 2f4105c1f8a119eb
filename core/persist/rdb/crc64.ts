/**
 * Redis's crc64 (Jones polynomial, reflected, initial value 0, no final
 * xor), which checksums RDB files and DUMP payloads. Table-driven and
 * sliced by 8: in a hand-assembled WebAssembly module on 64-bit words
 * where WebAssembly is there, else in JS over two Uint32 halves (600-1,200
 * MB/s: a tenth of a BGSAVE's walk of small hashes under Node); only
 * value() builds a bigint.
 */
import { instantiateHex } from "../../util/wasm.ts";

/** The reflected Jones polynomial 0x95ac9329ac4bc9b5 as two halves. */
const POLY_HI = 0x95ac9329, POLY_LO = 0xac4bc9b5;

/** TABLE_LO/HI[k * 256 + n]: the crc of byte n followed by k zero bytes. */
const TABLE_LO = new Uint32Array(8 * 256);
const TABLE_HI = new Uint32Array(8 * 256);

for (let n = 0; n < 256; n++) {
  let lo = n, hi = 0;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | (hi << 31)) >>> 0;
    hi >>>= 1;
    if (carry) {
      lo = (lo ^ POLY_LO) >>> 0;
      hi = (hi ^ POLY_HI) >>> 0;
    }
  }
  TABLE_LO[n] = lo;
  TABLE_HI[n] = hi;
}
for (let k = 1; k < 8; k++) {
  for (let n = 0; n < 256; n++) {
    const lo = TABLE_LO[(k - 1) * 256 + n], hi = TABLE_HI[(k - 1) * 256 + n];
    const i = lo & 0xff;
    TABLE_LO[k * 256 + n] = (((lo >>> 8) | (hi << 24)) ^ TABLE_LO[i]) >>> 0;
    TABLE_HI[k * 256 + n] = ((hi >>> 8) ^ TABLE_HI[i]) >>> 0;
  }
}

/**
 * The module, hand-assembled (wabt's wat2wasm) from a function
 * crc(lo, hi, n): the crc whose state is hi:lo carried over the n bytes at
 * DATA, by 8-byte words (x = state ^ load64(p); state = the xor of
 * T[7 - j][byte j of x] over j) then byte by byte (state = state >> 8 ^
 * T[0][(state ^ byte) & 255]), stored at RESULT. T[k] are the tables
 * below as 64-bit words, at k * 2048.
 */
const MODULE = "0061736d0100000001070160037f7f7f00030201000503010002070d02036d656d02000363726300000a930201900202027e027f" +
  "2000ad2001ad4220868421034188800121054188800120024178716a210602400340200520064f0d012003200529030085210420" +
  "04a741ff0171410374290380702004420888a741ff017141037429038060852004421088a741ff01714103742903805020044218" +
  "88a741ff01714103742903804085852004422088a741ff0171410374290380302004422888a741ff017141037429038020852004" +
  "423088a741ff0171410374290380102004423888a74103742903008585852103200541086a21050c000b0b4188800120026a2106" +
  "02400340200520064f0d0120034208882003a720052d00007341ff0171410374290300852103200541016a21050c000b0b418080" +
  "0120033703000b";
const RESULT = 16384;
const DATA = RESULT + 8;
/** Bytes crc() takes at a time: what the module's two pages hold past DATA, in round 64 KB. */
const WASM_CHUNK = 64 * 1024;

const wasm = instantiateHex(MODULE);
const wasmCrc = wasm?.exports.crc as (lo: number, hi: number, n: number) => void;
const wasmWords = wasm === null ? null : new Uint32Array(wasm.memory.buffer, 0, DATA >> 2);
if (wasmWords !== null) {
  for (let i = 0; i < 8 * 256; i++) {
    wasmWords[2 * i] = TABLE_LO[i];
    wasmWords[2 * i + 1] = TABLE_HI[i];
  }
}

export class Crc64 {
  private lo = 0;
  private hi = 0;

  update(bytes: Uint8Array): void {
    if (wasmWords !== null) return this.updateWasm(bytes);
    let lo = this.lo, hi = this.hi;
    const n = bytes.length;
    let i = 0;
    const TL = TABLE_LO, TH = TABLE_HI;
    for (; i + 8 <= n; i += 8) {
      const a = lo ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
      const b = hi ^ (bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24));
      const i7 = 1792 + (a & 0xff), i6 = 1536 + ((a >>> 8) & 0xff), i5 = 1280 + ((a >>> 16) & 0xff), i4 = 1024 + (a >>> 24);
      const i3 = 768 + (b & 0xff), i2 = 512 + ((b >>> 8) & 0xff), i1 = 256 + ((b >>> 16) & 0xff), i0 = b >>> 24;
      lo = TL[i7] ^ TL[i6] ^ TL[i5] ^ TL[i4] ^ TL[i3] ^ TL[i2] ^ TL[i1] ^ TL[i0];
      hi = TH[i7] ^ TH[i6] ^ TH[i5] ^ TH[i4] ^ TH[i3] ^ TH[i2] ^ TH[i1] ^ TH[i0];
    }
    for (; i < n; i++) {
      const t = (lo ^ bytes[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ TL[t];
      hi = (hi >>> 8) ^ TH[t];
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  private updateWasm(bytes: Uint8Array): void {
    const memory = wasm!.memory;
    const words = wasmWords!;
    for (let at = 0; at < bytes.length; at += WASM_CHUNK) {
      const n = Math.min(WASM_CHUNK, bytes.length - at);
      memory.set(n === bytes.length ? bytes : bytes.subarray(at, at + n), DATA);
      wasmCrc(this.lo, this.hi, n);
      this.lo = words[RESULT >> 2];
      this.hi = words[(RESULT >> 2) + 1];
    }
  }

  value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** The crc as the 8 little-endian bytes that follow an RDB file or DUMP payload. */
  bytes(): Uint8Array {
    const out = new Uint8Array(8);
    const lo = this.lo, hi = this.hi;
    for (let i = 0; i < 4; i++) {
      out[i] = (lo >>> (8 * i)) & 0xff;
      out[4 + i] = (hi >>> (8 * i)) & 0xff;
    }
    return out;
  }
}

export function crc64(bytes: Uint8Array): bigint {
  const c = new Crc64();
  c.update(bytes);
  return c.value();
}
