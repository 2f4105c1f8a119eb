/**
 * Stream entry IDs: two unsigned 64-bit parts, "ms-seq". A part is a U64,
 * a JS number while it is at most 2^53-1 and a bigint above (normalized, so
 * `===`, `<` and `>` work across both forms). Real IDs are milliseconds and
 * small sequences, so the bigint path only runs at the edges
 * (18446744073709551615-18446744073709551615 is a valid ID).
 */

export type U64 = number | bigint;

export interface StreamId {
  readonly ms: U64;
  readonly seq: U64;
}

export const U64_MAX = 18446744073709551615n;
const SAFE = Number.MAX_SAFE_INTEGER;

export const MIN_ID: StreamId = { ms: 0, seq: 0 };
export const MAX_ID: StreamId = { ms: U64_MAX, seq: U64_MAX };

/** A U64 in normal form (number when it is a safe integer). */
export function u64(v: number | bigint): U64 {
  if (typeof v === "number") return v;
  return v <= BigInt(SAFE) ? Number(v) : v;
}

export function idOf(ms: U64, seq: U64): StreamId {
  return { ms, seq };
}

/** -1, 0 or 1. */
export function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

/** compareIds on unpacked parts (no object needed). */
export function compareParts(ams: U64, aseq: U64, bms: U64, bseq: U64): number {
  if (ams !== bms) return ams < bms ? -1 : 1;
  if (aseq !== bseq) return aseq < bseq ? -1 : 1;
  return 0;
}

export function formatId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** a + 1 as a U64, or null on overflow past 2^64-1. */
export function incU64(a: U64): U64 | null {
  if (typeof a === "number") return a < SAFE ? a + 1 : BigInt(a) + 1n;
  return a >= U64_MAX ? null : a + 1n;
}

/** a - 1, or null below 0. */
export function decU64(a: U64): U64 | null {
  if (typeof a === "number") return a > 0 ? a - 1 : null;
  return u64(a - 1n);
}

/** a + b wrapping at 2^64 (delta decoding), normalized. */
export function addU64(a: U64, b: U64): U64 {
  if (typeof a === "number" && typeof b === "number") {
    const s = a + b;
    if (s <= SAFE) return s;
  }
  return u64(BigInt.asUintN(64, BigInt(a) + BigInt(b)));
}

/** a - b (a >= b), normalized. */
export function subU64(a: U64, b: U64): U64 {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return u64(BigInt(a) - BigInt(b));
}

/** The next ID (Redis's streamIncrID): seq + 1, else ms + 1 with seq 0; null past the maximum. */
export function incrId(id: StreamId): StreamId | null {
  const seq = incU64(id.seq);
  if (seq !== null) return { ms: id.ms, seq };
  const ms = incU64(id.ms);
  return ms === null ? null : { ms, seq: 0 };
}

/** The previous ID (streamDecrID); null below 0-0. */
export function decrId(id: StreamId): StreamId | null {
  const seq = decU64(id.seq);
  if (seq !== null) return { ms: id.ms, seq };
  const ms = decU64(id.ms);
  return ms === null ? null : { ms, seq: U64_MAX };
}

/** A decimal unsigned 64-bit integer as Redis's string2ull reads it (digits only, no sign, no overflow); null otherwise. */
export function parseU64(s: string): U64 | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  let x = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    x = x * 10 + d;
  }
  if (n < 16) return x;
  const b = BigInt(s);
  return b > U64_MAX ? null : u64(b);
}

/**
 * "ms-seq" or "ms" (seq then missingSeq) as streamParseID reads it; null
 * when malformed. With seqStar, "ms-*" gives seq -1 (the caller picks it).
 */
export function parseId(s: string, missingSeq: U64, seqStar = false): { ms: U64; seq: U64 | -1 } | null {
  if (s.length > 127) return null;
  const dash = s.indexOf("-");
  if (dash < 0) {
    const ms = parseU64(s);
    return ms === null ? null : { ms, seq: missingSeq };
  }
  const ms = parseU64(s.slice(0, dash));
  if (ms === null) return null;
  const rest = s.slice(dash + 1);
  if (seqStar && rest === "*") return { ms, seq: -1 };
  const seq = parseU64(rest);
  return seq === null ? null : { ms, seq };
}

/** The 16-byte big-endian key Redis's radix tree uses for an ID (RDB node keys). */
export function encodeIdKey(id: StreamId): Uint8Array {
  const out = new Uint8Array(16);
  const put = (v: U64, at: number) => {
    let b = BigInt(v);
    for (let i = 7; i >= 0; i--) {
      out[at + i] = Number(b & 0xffn);
      b >>= 8n;
    }
  };
  put(id.ms, 0);
  put(id.seq, 8);
  return out;
}

export function decodeIdKey(key: Uint8Array | string, at = 0): StreamId {
  const byte = (i: number) => (typeof key === "string" ? key.charCodeAt(at + i) : key[at + i]);
  const get = (off: number): U64 => {
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < 4; i++) hi = hi * 256 + byte(off + i);
    for (let i = 4; i < 8; i++) lo = lo * 256 + byte(off + i);
    return hi < 0x200000 ? hi * 0x100000000 + lo : u64((BigInt(hi) << 32n) | BigInt(lo));
  };
  return { ms: get(0), seq: get(8) };
}
