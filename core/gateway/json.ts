/**
 * RESP3 replies as JSON, the mapping the README's Gateway section
 * documents: maps become objects, sets and arrays arrays, doubles numbers
 * (inf, -inf and nan as strings), big numbers strings, errors
 * {"error": text}, bulk strings UTF-8 text or {"base64": ...} when they are
 * not valid UTF-8 (always base64 when the caller asks for it).
 */
import { ReplyError, RespBigNumber, RespMap, RespPush, type RespValue, RespVerbatim } from "../resp/decoder.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function base64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return btoa(s);
}

/** Bytes as text when they are valid UTF-8 (and base64 was not asked for), else as {"base64": ...}. */
export function bytesToJson(b: Uint8Array, forceBase64: boolean): Json {
  if (!forceBase64) {
    try {
      return strictUtf8.decode(b);
    } catch {
      // not UTF-8: fall through to base64
    }
  }
  return { base64: base64(b) };
}

/** Object keys must be strings: a map key that is not text is written as its JSON text. */
function keyOf(k: Json): string {
  return typeof k === "string" ? k : JSON.stringify(k);
}

export function toJson(v: RespValue, forceBase64 = false): Json {
  if (v === null || typeof v === "boolean" || typeof v === "string") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return bytesToJson(v, forceBase64);
  if (v instanceof ReplyError) return { error: v.message };
  if (v instanceof RespBigNumber) return v.digits;
  if (v instanceof RespVerbatim) return bytesToJson(v.text, forceBase64);
  if (v instanceof RespMap) {
    const out: { [key: string]: Json } = {};
    for (const [k, val] of v) out[keyOf(toJson(k, forceBase64))] = toJson(val, forceBase64);
    return out;
  }
  return (v as RespValue[]).map((item) => toJson(item, forceBase64));
}

/** A push's kind ("message", "subscribe"...), or null when the value is not a push. */
export function pushKind(v: RespValue): string | null {
  if (!(v instanceof RespPush) || !(v[0] instanceof Uint8Array)) return null;
  return String.fromCharCode(...v[0]);
}

/** A JSON command (["SET", "k", "v"], numbers allowed, {"base64": ...} for binary) as RESP arguments; null if malformed. */
export function jsonToArgs(cmd: unknown): Uint8Array[] | null {
  if (!Array.isArray(cmd) || cmd.length === 0) return null;
  const enc = new TextEncoder();
  const args: Uint8Array[] = [];
  for (const a of cmd) {
    if (typeof a === "string") args.push(enc.encode(a));
    else if (typeof a === "number" && Number.isFinite(a)) args.push(enc.encode(String(a)));
    else if (a !== null && typeof a === "object" && typeof (a as { base64?: unknown }).base64 === "string") {
      try {
        args.push(Uint8Array.from(atob((a as { base64: string }).base64), (ch) => ch.charCodeAt(0)));
      } catch {
        return null;
      }
    } else return null;
  }
  return args;
}

/** A push as a json-protocol text frame, with its history id when its channel keeps one. */
export function jsonPushFrame(push: RespValue, base64: boolean, id: string | null): string {
  return JSON.stringify(id === null ? { push: toJson(push, base64) } : { push: toJson(push, base64), id });
}
