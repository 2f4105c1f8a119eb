/**
 * A pub/sub push (message, pmessage, smessage, keyspace event) encoded at
 * most once per protocol: every subscriber of that protocol is handed the
 * same Uint8Array, so fan-out to many clients costs one encoding, not one
 * per subscriber. Parts are bytes or binary strings, and integers (the
 * count an unsubscription push ends with).
 */
import { writeBinary } from "../util/bytes.ts";

export type Part = Uint8Array | string;

function decimalLength(n: number): number {
  return n < 10 ? 1 : String(n).length;
}

/** `<prefix><n>\r\n` into out at p; returns the new position. */
function putHeader(out: Uint8Array, p: number, prefix: number, n: number): number {
  out[p++] = prefix;
  const digits = String(n);
  for (let i = 0; i < digits.length; i++) out[p++] = digits.charCodeAt(i);
  out[p++] = 13;
  out[p++] = 10;
  return p;
}

function encode(prefix: number, parts: (Part | number)[]): Uint8Array {
  let size = 1 + decimalLength(parts.length) + 2;
  for (const part of parts) size += typeof part === "number" ? 1 + String(part).length + 2 : 1 + decimalLength(part.length) + 2 + part.length + 2;
  const out = new Uint8Array(size);
  let p = putHeader(out, 0, prefix, parts.length);
  for (const part of parts) {
    if (typeof part === "number") {
      p = putHeader(out, p, 58 /* : */, part);
      continue;
    }
    p = putHeader(out, p, 36 /* $ */, part.length);
    if (typeof part === "string") p = writeBinary(part, out, p);
    else {
      out.set(part, p);
      p += part.length;
    }
    out[p++] = 13;
    out[p++] = 10;
  }
  return out;
}

export class PushFrame {
  private resp2: Uint8Array | null = null;
  private resp3: Uint8Array | null = null;

  /** parts[0] is the kind ("message", "pmessage", "smessage", "sunsubscribe"). */
  constructor(private readonly parts: (Part | number)[]) {}

  /** An array of bulks in RESP2, a push (`>`) in RESP3. */
  bytes(resp: 2 | 3): Uint8Array {
    if (resp === 2) return (this.resp2 ??= encode(42 /* * */, this.parts));
    return (this.resp3 ??= encode(62 /* > */, this.parts));
  }
}
