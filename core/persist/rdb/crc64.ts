/**
 * Redis's crc64 (Jones polynomial, reflected, initial value 0, no final
 * xor), which checksums RDB files and DUMP payloads. Table-driven and
 * sliced by 8 over two Uint32 halves, so a multi-gigabyte snapshot is
 * checksummed at memory speed without a BigInt per byte; only value()
 * builds a bigint.
 */

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

export class Crc64 {
  private lo = 0;
  private hi = 0;

  update(bytes: Uint8Array): void {
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
