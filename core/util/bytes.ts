/**
 * Binary strings: the keyspace holds keys and short values as JS strings
 * with one char per byte (0..255), which V8 and JSC store one byte per char.
 * These helpers convert between them and bytes without any text encoding.
 */

/** Bytes to a binary string. */
export function str(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n < 16) {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[i]);
    return s;
  }
  let s = "";
  for (let i = 0; i < n; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  }
  return s;
}

/** A binary string back to bytes. */
export function bytes(s: string): Uint8Array {
  const n = s.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** UTF-8 text (error messages, INFO) to a binary string of its bytes. */
const encoder = new TextEncoder();
export function utf8(text: string): string {
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(text) ? text : str(encoder.encode(text));
}

/** A binary string holding UTF-8 back to text. */
const decoder = new TextDecoder();
export function text(s: string): string {
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s : decoder.decode(bytes(s));
}

/** Lower-cases ASCII letters only, as strcasecmp does. */
export function lower(s: string): string {
  return s.toLowerCase() === s ? s : s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** Case-insensitive ASCII comparison of an argument with a lower-case keyword. */
export function is(arg: Uint8Array, keyword: string): boolean {
  const n = keyword.length;
  if (arg.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const c = arg[i];
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== keyword.charCodeAt(i)) return false;
  }
  return true;
}
