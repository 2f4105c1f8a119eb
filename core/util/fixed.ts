/**
 * Fixed-point number text exactly as Redis's C code makes it. printfFixed
 * is glibc's printf("%.Nf"): the exact binary value rounded half to even.
 * Number.prototype.toFixed also works from the exact value but breaks ties
 * upward and switches to exponent form at 1e21, so those cases (rare: a
 * tie needs x·2^(N+1) to be an integer) take an exact BigInt path. Geo
 * replies use it for "%.6f" in errors and, trimmed, for Redis's human long
 * double form ("%.17Lf") of coordinates, which for a double's value prints
 * the same digits; distances use fixedPoint, Redis's own formatter.
 */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** The exact decimal expansion of a finite a >= 0 rounded half to even at `digits` places. */
function exactFixed(a: number, digits: number): string {
  f64[0] = a;
  const hi = u32[1], lo = u32[0];
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp = -1074;
  if (biased !== 0) {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  const scaled = mant * 10n ** BigInt(digits);
  let q: bigint;
  if (exp >= 0) q = scaled << BigInt(exp);
  else {
    const shift = BigInt(-exp);
    q = scaled >> shift;
    const rest = scaled - (q << shift);
    const half = 1n << (shift - 1n);
    if (rest > half || (rest === half && (q & 1n) === 1n)) q++;
  }
  const s = q.toString().padStart(digits + 1, "0");
  return digits === 0 ? s : s.slice(0, s.length - digits) + "." + s.slice(s.length - digits);
}

/** printf("%.<digits>f", d) as glibc prints it. */
export function printfFixed(d: number, digits: number): string {
  if (d !== d) return "nan";
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  const neg = d < 0 || Object.is(d, -0);
  const a = neg ? -d : d;
  const s = a < 1e21 && !Number.isInteger(a * 2 ** (digits + 1)) ? a.toFixed(digits) : exactFixed(a, digits);
  return neg ? "-" + s : s;
}

/** Redis's LD_STR_HUMAN text of a double: "%.17Lf", trailing zeros and a bare '.' dropped, "-0" as "0". */
export function humanDouble(d: number): string {
  const s = printfFixed(d, 17);
  if (s.indexOf(".") < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return end === 2 && s.charCodeAt(0) === 45 && s.charCodeAt(1) === 48 ? "0" : s.slice(0, end);
}

/** C's llrint: nearest integer, ties to even; x86's "integer indefinite" (-2^63) past the int64 range or for NaN. */
function llrint(x: number): number | bigint {
  if (!(x > -(2 ** 63) && x < 2 ** 63)) return -(2n ** 63n);
  let r = Math.round(x);
  if (r - x === 0.5 && r % 2 !== 0) r -= 1;
  return Number.isSafeInteger(r) ? r : BigInt(r);
}

/**
 * Redis's fixedpoint_d2string, which GEODIST and WITHDIST print with
 * (4 digits): the value times 10^digits rounded by llrint, then written
 * with a '.' before the last `digits` digits. It differs from "%.Nf" when
 * the multiplication itself rounds across a half.
 */
export function fixedPoint(d: number, digits: number): string {
  if (d === 0) return "0." + "0".repeat(digits);
  const v = llrint(d * 10 ** digits);
  const negative = v < 0;
  const s = String(negative ? -v : v).padStart(digits + 1, "0");
  return (negative ? "-" : "") + s.slice(0, s.length - digits) + "." + s.slice(s.length - digits);
}
