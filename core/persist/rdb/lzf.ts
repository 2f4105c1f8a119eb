/**
 * LZF, the compression RDB files use for strings over 20 bytes when
 * rdbcompression is on. The compressor follows liblzf's algorithm as Redis
 * builds it (16-bit hash table, VERY_FAST), so it makes the same bytes and
 * gives up at the same point as redis-server; the decompressor accepts any
 * valid LZF stream and reports damage instead of reading out of bounds.
 */

const HLOG = 16;
const HSIZE = 1 << HLOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

/**
 * The hash table holds positions as `base + offset`, base growing with each
 * call, so a slot written by an earlier call reads as "before this input"
 * and is ignored: no clearing of 256 KB per small string. 32-bit slots (as
 * liblzf's) keep the table in 256 KB, half what doubles took: a 180-byte
 * string compresses 15-30% faster. base starts over, the table cleared,
 * when it would pass 2^31.
 */
const htab = new Int32Array(HSIZE);
let base = 1;

function idx(h: number): number {
  return ((h >>> (3 * 8 - HLOG)) - Math.imul(h, 5)) & (HSIZE - 1);
}

/** Where compression writes: one buffer reused, since a snapshot compresses a string per key. */
let scratch = new Uint8Array(1024);

/** The buffer lzfCompress writes to (reused: valid until the next call). */
export function lzfOutput(): Uint8Array {
  return scratch;
}

/**
 * Compresses bytes [at, at + inLen) of input into at most maxOut bytes at the
 * start of lzfOutput(); returns how many, or -1 when they do not fit (Redis
 * asks for len - 4, keeping a compressed string only when that saves at
 * least four bytes). Offsets rather than a view: a snapshot compresses a
 * string per key, and a view per key is garbage the clients' pauses pay for.
 */
export function lzfCompress(input: Uint8Array, at: number, inLen: number, maxOut: number): number {
  if (inLen === 0 || maxOut <= 0) return -1;
  if (base + inLen + 1 > 2 ** 31 - 1) {
    htab.fill(0);
    base = 1;
  }
  // A slot holds base plus the offset from at, i.e. b plus the position in input.
  const b = base - at;
  base += inLen + 1;
  const end = at + inLen;
  if (scratch.length < maxOut + 1) scratch = new Uint8Array(Math.max(maxOut + 1, scratch.length * 2));
  const out = scratch;
  const outEnd = maxOut;
  let ip = at;
  let op = 1;
  let lit = 0;
  let hval = (input[at] << 8) | input[at + 1];
  while (ip < end - 2) {
    hval = ((hval << 8) | input[ip + 2]) >>> 0;
    const slot = idx(hval);
    const stored = htab[slot];
    htab[slot] = b + ip;
    const ref = stored - b;
    let off: number;
    if (
      ref > at && (off = ip - ref - 1) >= 0 && off < MAX_OFF &&
      input[ref + 2] === input[ip + 2] && input[ref] === input[ip] && input[ref + 1] === input[ip + 1]
    ) {
      let len = 2;
      let maxlen = end - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;
      if (op + 3 + 1 >= outEnd && op - (lit === 0 ? 1 : 0) + 3 + 1 >= outEnd) return -1;
      out[op - lit - 1] = lit - 1;
      if (lit === 0) op--;
      // liblzf unrolls its first 16 steps without looking at maxlen, so a match
      // found 19-20 bytes before the end runs to the end; Redis's bytes show it.
      let mismatch = false;
      if (maxlen > 16) {
        for (let k = 0; k < 16 && !mismatch; k++) mismatch = input[ref + ++len] !== input[ip + len];
      }
      if (!mismatch) {
        do len++;
        while (len < maxlen && input[ref + len] === input[ip + len]);
      }
      len -= 2;
      ip++;
      if (len < 7) out[op++] = (off >> 8) + (len << 5);
      else {
        out[op++] = (off >> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++;
      ip += len + 1;
      if (ip >= end - 2) break;
      ip -= 2;
      hval = (input[ip] << 8) | input[ip + 1];
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      htab[idx(hval)] = b + ip;
      ip++;
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      htab[idx(hval)] = b + ip;
      ip++;
    } else {
      if (op >= outEnd) return -1;
      lit++;
      out[op++] = input[ip++];
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1;
        lit = 0;
        op++;
      }
    }
  }
  if (op + 3 > outEnd) return -1;
  while (ip < end) {
    lit++;
    out[op++] = input[ip++];
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = lit - 1;
  if (lit === 0) op--;
  return op;
}

/** Decompresses input, which must expand to exactly `length` bytes; null when it is not valid LZF. */
export function lzfDecompress(input: Uint8Array, length: number): Uint8Array | null {
  const out = new Uint8Array(length);
  const n = input.length;
  let ip = 0;
  let op = 0;
  while (ip < n) {
    let ctrl = input[ip++];
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > length || ip + ctrl > n) return null;
      out.set(input.subarray(ip, ip + ctrl), op);
      op += ctrl;
      ip += ctrl;
      continue;
    }
    let len = ctrl >> 5;
    if (len === 7) {
      if (ip >= n) return null;
      len += input[ip++];
    }
    if (ip >= n) return null;
    let ref = op - ((ctrl & 0x1f) << 8) - 1 - input[ip++];
    len += 2;
    if (ref < 0 || op + len > length) return null;
    for (; len > 0; len--) out[op++] = out[ref++];
  }
  return op === length ? out : null;
}
