/**
 * Binary strings: the keyspace holds keys and short values as JS strings
 * with one char per byte (0..255), which V8 and JSC store one byte per char.
 * These helpers convert between them and bytes without any text encoding.
 */

const chr = String.fromCharCode;

/** Runs up to this long are copied byte by byte: a loop costs less than the view set() needs. */
const LOOP_COPY_MAX = 64;

/** Copies from[start, end) to `to` at `at`. */
export function copyBytes(from: Uint8Array, start: number, end: number, to: Uint8Array, at: number): void {
  if (end - start <= LOOP_COPY_MAX) {
    for (let j = start; j < end; j++) to[at++] = from[j];
  } else to.set(start === 0 && end === from.length ? from : from.subarray(start, end), at);
}

/**
 * A host's native bytes-to-binary-string decoder (HostInfo.latin1), used
 * from nativeFrom bytes on: JSC's many-argument fromCharCode is slow (16
 * bytes: ~125 ns, Bun's Buffer latin1Slice ~35 ns), and apply() past 32
 * arguments is slow everywhere. Process-wide, like the runtime it
 * describes; set by the engine from its host.
 */
let nativeLatin1: ((b: Uint8Array) => string) | null = null;
let nativeFrom = Infinity;
/** The reverse (HostInfo.latin1Write), from nativeWriteFrom chars on. */
let nativeLatin1Write: ((s: string, into: Uint8Array, at: number) => void) | null = null;
let nativeWriteFrom = Infinity;

export function useNativeLatin1(
  decode: ((b: Uint8Array) => string) | null,
  from = 4,
  encode: ((s: string, into: Uint8Array, at: number) => void) | null = null,
  encodeFrom = Infinity,
): void {
  nativeLatin1 = decode;
  nativeFrom = decode === null ? Infinity : from;
  nativeLatin1Write = encode;
  nativeWriteFrom = encode === null ? Infinity : encodeFrom;
}

/** Writes binary string s's chars as bytes into `into` at `at` (room there assumed); returns where they end. */
export function writeBinary(s: string, into: Uint8Array, at: number): number {
  const n = s.length;
  if (n >= nativeWriteFrom) nativeLatin1Write!(s, into, at);
  else for (let i = 0; i < n; i++) into[at + i] = s.charCodeAt(i);
  return at + n;
}

/**
 * Bytes to a binary string. Keys, members and command names are short, and
 * for them fromCharCode with the bytes as arguments is 3-5x faster than
 * apply() in V8 and 1.7x in JSC (20 bytes: 36 vs 124 ns, 104 vs 176 ns);
 * concatenating one char at a time would build a rope per key in JSC (Bun),
 * several times the memory of the flat string.
 */
export function str(b: Uint8Array): string {
  const n = b.length;
  if (n >= nativeFrom) return nativeLatin1!(b);
  switch (n) {
    case 0: return "";
    case 1: return chr(b[0]);
    case 2: return chr(b[0], b[1]);
    case 3: return chr(b[0], b[1], b[2]);
    case 4: return chr(b[0], b[1], b[2], b[3]);
    case 5: return chr(b[0], b[1], b[2], b[3], b[4]);
    case 6: return chr(b[0], b[1], b[2], b[3], b[4], b[5]);
    case 7: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6]);
    case 8: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
    case 9: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8]);
    case 10: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]);
    case 11: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10]);
    case 12: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11]);
    case 13: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12]);
    case 14: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13]);
    case 15: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14]);
    case 16: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    case 17: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16]);
    case 18: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17]);
    case 19: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18]);
    case 20: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19]);
    case 21: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20]);
    case 22: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20], b[21]);
    case 23: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20], b[21], b[22]);
    case 24: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23]);
    case 25: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23], b[24]);
    case 26: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23], b[24], b[25]);
    case 27: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23], b[24], b[25], b[26]);
    case 28: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23], b[24], b[25], b[26], b[27]);
    case 29: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23], b[24], b[25], b[26], b[27], b[28]);
    case 30: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23], b[24], b[25], b[26], b[27], b[28], b[29]);
    case 31: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23], b[24], b[25], b[26], b[27], b[28], b[29], b[30]);
    case 32: return chr(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23], b[24], b[25], b[26], b[27], b[28], b[29], b[30], b[31]);
  }
  if (n <= 8192) return chr.apply(null, b as unknown as number[]);
  const parts: string[] = [];
  for (let i = 0; i < n; i += 8192) parts.push(chr.apply(null, b.subarray(i, i + 8192) as unknown as number[]));
  return parts.join("");
}

/** A binary string back to bytes. */
export function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  writeBinary(s, out, 0);
  return out;
}

/** Copies of a command's arguments, which are views of the input buffer, for a command kept past its read (queued, held, blocked, suspended). */
export function ownedArgs(argv: Uint8Array[]): Uint8Array[] {
  return argv.map((a) => a.slice());
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

/** The parts one after another, in a new array. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
