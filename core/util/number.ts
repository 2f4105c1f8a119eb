/**
 * Number parsing and formatting with Redis's exact rules: string2ll for
 * integers (no '+', no leading zeros, no spaces, int64 range), strtod for
 * doubles, and printf's %.17g for double replies.
 */
import { str } from "./bytes.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Parses a canonical int64 (Redis's string2ll), or null. */
export function parseInt64(s: string): bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  let i = 0;
  if (s.charCodeAt(0) === 45) {
    if (n === 1) return null;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return n === 1 ? 0n : null; // "0" only; "-0" and "01" are not canonical
  for (let j = i; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
  }
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? null : v;
}

/** Like parseInt64 but as a number, exact within ±2^53 (enough for counts, indexes and times). */
export function parseInteger(s: string): number | null {
  const n = s.length;
  if (n > 0 && n < 16) {
    let i = s.charCodeAt(0) === 45 ? 1 : 0;
    if (i === n) return null;
    if (s.charCodeAt(i) === 48) return n === 1 ? 0 : null;
    let v = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return null;
      v = v * 10 + c;
    }
    return s.charCodeAt(0) === 45 ? -v : v;
  }
  const big = parseInt64(s);
  return big === null ? null : Number(big);
}

export function inInt64(v: bigint): boolean {
  return v >= INT64_MIN && v <= INT64_MAX;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const HEX = /^[+-]?0[xX][0-9a-fA-F]+$/;
const INF = /^[+-]?(inf|infinity)$/i;

/**
 * Parses a double as Redis does with strtod: the whole string, no leading
 * space, "inf"/"infinity" allowed, NaN and overflow refused. Returns null
 * when invalid.
 */
export function parseDouble(s: string): number | null {
  if (DECIMAL.test(s)) {
    const v = Number(s);
    return Number.isFinite(v) ? v : null;
  }
  if (INF.test(s)) return s.charCodeAt(0) === 45 ? -Infinity : Infinity;
  if (HEX.test(s)) {
    const neg = s.charCodeAt(0) === 45;
    const v = Number(s.replace(/^[+-]/, ""));
    return neg ? -v : v;
  }
  return null;
}

/**
 * printf("%.17g"), which Redis 7.0 uses for double replies: 17 significant
 * digits, rounded half to even as glibc does (JS rounds a tie away from
 * zero), in fixed notation for exponents -4 to 16, trailing zeros dropped.
 */
export function formatDouble(d: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (Number.isNaN(d)) return "nan";
  if (d === 0) return Object.is(d, -0) ? "-0" : "0";
  // Scores are mostly integers or short fractions (1.5, 0.25), whose exact digits (17 or fewer) are what
  // both print. k is at most 16 minus d's decimal exponent, whatever log10's rounding.
  const abs = Math.abs(d);
  if (abs >= 1e-4 && abs < 1e15 && Number.isInteger(d * 2 ** (15 - Math.floor(Math.log10(abs))))) return String(d);
  let s = d.toExponential(16);
  const e = s.indexOf("e");
  const exp = Number(s.slice(e + 1));
  if (isTie(d, exp) && (s.charCodeAt(e - 1) & 1) === 1) s = s.slice(0, e - 1) + String.fromCharCode(s.charCodeAt(e - 1) - 1) + s.slice(e);
  const neg = d < 0;
  const mant = s.slice(neg ? 1 : 0, e);
  if (exp < -4 || exp >= 17) {
    const magnitude = Math.abs(exp);
    return (neg ? "-" : "") + trimZeros(mant) + "e" + (exp < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + magnitude;
  }
  const digits = mant.charAt(0) + mant.slice(2);
  const fixed = exp >= 0 ? digits.slice(0, exp + 1) + "." + digits.slice(exp + 1) : "0." + "0".repeat(-exp - 1) + digits;
  return (neg ? "-" : "") + trimZeros(fixed);
}

/**
 * Whether d (of decimal exponent exp) lies exactly half way between two
 * 17-digit neighbours: its exact expansion then has 18 significant digits,
 * which for d = m / 2^k (m odd) means k = 17 - exp fraction digits (the
 * last one a 5). Scaling by a power of two is exact, so this is too.
 */
function isTie(d: number, exp: number): boolean {
  const k = 17 - exp;
  return k > 0 && Number.isInteger(d * 2 ** k) && !Number.isInteger(d * 2 ** (k - 1));
}

function trimZeros(s: string): string {
  if (s.indexOf(".") < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

/** A string of up to 20 chars that is a canonical int64 (string2ll), as a number or a bigint beyond ±2^53; else null. */
export function canonicalInt(v: string | Uint8Array, at = 0, n = v.length): number | bigint | null {
  const end = at + n;
  const neg = (typeof v === "string" ? v.charCodeAt(at) : v[at]) === 45;
  let i = neg ? at + 1 : at;
  if (i === end) return null;
  const first = typeof v === "string" ? v.charCodeAt(i) : v[i];
  if (first === 48) return n === 1 ? 0 : null;
  let x = 0;
  for (; i < end; i++) {
    const d = (typeof v === "string" ? v.charCodeAt(i) : v[i]) - 48;
    if (d < 0 || d > 9) return null;
    x = x * 10 + d;
  }
  if (n - (neg ? 1 : 0) < 16) return neg ? -x : x;
  const big = BigInt(typeof v === "string" ? v.slice(at, end) : str(v.subarray(at, end)));
  if (big < -(2n ** 63n) || big > 2n ** 63n - 1n) return null;
  return big;
}
