/**
 * SHA-1, synchronous (WebCrypto's digest is async): script names, redis.sha1hex,
 * and DEBUG DIGEST, which hashes every element of the dataset, so the input
 * may be bytes or a binary string and no padded copy of it is made.
 */

/** Scratch for one call: the 80-word schedule and the five chaining words. */
const w = new Uint32Array(80);
const h = new Int32Array(5);

function compress(): void {
  for (let t = 16; t < 80; t++) {
    const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
    w[t] = (x << 1) | (x >>> 31);
  }
  let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (let t = 0; t < 80; t++) {
    const f = t < 20 ? (b & c) | (~b & d) : t < 40 ? b ^ c ^ d : t < 60 ? (b & c) | (b & d) | (c & d) : b ^ c ^ d;
    const k = t < 20 ? 0x5a827999 : t < 40 ? 0x6ed9eba1 : t < 60 ? 0x8f1bbcdc : 0xca62c1d6;
    const tmp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = tmp;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + b) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
}

/** The 20-byte SHA-1 of data (a binary string counts one byte per char), written into out. */
export function sha1(data: Uint8Array | string, out: Uint8Array = new Uint8Array(20)): Uint8Array {
  h[0] = 0x67452301;
  h[1] = 0xefcdab89 | 0;
  h[2] = 0x98badcfe | 0;
  h[3] = 0x10325476;
  h[4] = 0xc3d2e1f0 | 0;
  const len = data.length;
  const bin = typeof data !== "string";
  // Padded length: data, 0x80, zeros, 8-byte bit length, a multiple of 64.
  const total = (((len + 8) >> 6) + 1) * 64;
  for (let block = 0; block < total; block += 64) {
    for (let t = 0; t < 16; t++) {
      let word = 0;
      for (let j = 0; j < 4; j++) {
        const i = block + t * 4 + j;
        const byte = i > len ? 0 : i === len ? 0x80 : bin ? (data as Uint8Array)[i] : (data as string).charCodeAt(i) & 0xff;
        word = (word << 8) | byte;
      }
      w[t] = word;
    }
    if (block + 64 === total) {
      w[14] = Math.floor(len / 0x20000000);
      w[15] = len * 8;
    }
    compress();
  }
  for (let i = 0; i < 5; i++) {
    const v = h[i];
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = v >>> 16;
    out[i * 4 + 2] = v >>> 8;
    out[i * 4 + 3] = v;
  }
  return out;
}

/** Bytes as lowercase hex. */
export function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
  return s;
}

export function sha1hex(data: Uint8Array): string {
  return hex(sha1(data));
}
