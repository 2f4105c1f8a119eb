/**
 * Exact emulation of the C `long double` arithmetic behind INCRBYFLOAT and
 * HINCRBYFLOAT: Redis parses with strtold into an x87 80-bit float (64-bit
 * significand, round-half-even), adds in that precision and prints with
 * "%.17Lf" before trimming zeros. Doubles cannot reproduce those digits,
 * so values are kept as BigInt significand and binary exponent.
 */

/** ±mant·2^exp with mant < 2^64, or ±infinity when `inf` is set. */
export interface LongDouble {
  readonly neg: boolean;
  readonly mant: bigint;
  readonly exp: number;
  readonly inf: boolean;
}

/** Exponent of the smallest denormal's only bit (2^-16445). */
const MIN_EXP = -16445;
/** Values at or above 2^16384 overflow to infinity. */
const OVERFLOW_BITS = 16384;
/** Redis's MAX_LONG_DOUBLE_CHARS: longer inputs are refused before parsing. */
const MAX_CHARS = 5 * 1024;

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;

const ZERO: LongDouble = { neg: false, mant: 0n, exp: 0, inf: false };

function bitLength(n: bigint): number {
  if (n === 0n) return 0;
  const hex = n.toString(16);
  return hex.length * 4 - (Math.clz32(parseInt(hex[0], 16)) - 28);
}

function infinity(neg: boolean): LongDouble {
  return { neg, mant: 0n, exp: 0, inf: true };
}

/**
 * Rounds num/den (both positive, or num zero) to the nearest long double,
 * ties to even, with gradual underflow to denormals and overflow to infinity.
 */
function fromRatio(neg: boolean, num: bigint, den: bigint): LongDouble {
  if (num === 0n) return { neg, mant: 0n, exp: 0, inf: false };
  // Aim for a 67-68 bit quotient so at least three bits decide the rounding.
  let exp = Math.max(bitLength(num) - bitLength(den) - 67, MIN_EXP - 2);
  const scaledNum = exp < 0 ? num << BigInt(-exp) : num;
  const scaledDen = exp > 0 ? den << BigInt(exp) : den;
  let q = scaledNum / scaledDen;
  const sticky = q * scaledDen !== scaledNum;
  const shift = Math.max(bitLength(q) - 64, MIN_EXP - exp);
  const dropped = q & ((1n << BigInt(shift)) - 1n);
  const half = 1n << BigInt(shift - 1);
  q >>= BigInt(shift);
  exp += shift;
  if (dropped > half || (dropped === half && (sticky || (q & 1n) === 1n))) {
    q++;
    if (q === 1n << 64n) {
      q >>= 1n;
      exp++;
    }
  }
  if (q !== 0n && bitLength(q) + exp > OVERFLOW_BITS) return infinity(neg);
  return { neg, mant: q, exp, inf: false };
}

/** value = neg·digits·base^scale with a base-2 scale (exact dyadic values). */
function fromBinary(neg: boolean, n: bigint, scale: number): LongDouble {
  return scale >= 0 ? fromRatio(neg, n << BigInt(scale), 1n) : fromRatio(neg, n, 1n << BigInt(-scale));
}

/** The long double nearest to a decimal mantissa and power of ten; null where strtold reports a range error. */
function fromDecimal(neg: boolean, digits: string, pow10: number): LongDouble | null {
  const significant = digits.replace(/^0+/, "");
  if (significant === "") return { neg, mant: 0n, exp: 0, inf: false };
  const magnitude = significant.length + pow10; // value < 10^magnitude
  if (magnitude > 4934) return null;
  if (magnitude < -4952) return null;
  const n = BigInt(significant);
  const v = pow10 >= 0 ? fromRatio(neg, n * 10n ** BigInt(pow10), 1n) : fromRatio(neg, n, 10n ** BigInt(-pow10));
  return v.inf || v.mant === 0n ? null : v;
}

function fromHex(neg: boolean, digits: string, pow2: number): LongDouble | null {
  const significant = digits.replace(/^0+/, "");
  if (significant === "") return { neg, mant: 0n, exp: 0, inf: false };
  const bits = significant.length * 4 + pow2;
  if (bits > OVERFLOW_BITS + 4 || bits < MIN_EXP - 4) return null;
  const v = fromBinary(neg, BigInt("0x" + significant), pow2);
  return v.inf || v.mant === 0n ? null : v;
}

/** Exponents past any representable range only need to stay past it. */
function clampExponent(s: string | undefined): number {
  if (s === undefined) return 0;
  const e = Number(s);
  return Math.max(-1e6, Math.min(1e6, e));
}

/**
 * Parses a value as Redis's string2ld does: the whole string must be a
 * strtold number (decimal, hex, inf/infinity), no leading space, no NaN,
 * no overflow and no underflow to zero. Returns null when invalid.
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= MAX_CHARS) return null;
  let m = DECIMAL.exec(s);
  if (m !== null) {
    const int = m[2], frac = m[3] ?? "";
    if (int === "" && frac === "") return null;
    return fromDecimal(m[1] === "-", int + frac, clampExponent(m[4]) - frac.length);
  }
  m = HEX.exec(s);
  if (m !== null) {
    const int = m[2], frac = m[3] ?? "";
    if (int === "" && frac === "") return null;
    return fromHex(m[1] === "-", int + frac, clampExponent(m[4]) - 4 * frac.length);
  }
  m = INFINITY.exec(s);
  if (m !== null) return infinity(m[1] === "-");
  return null;
}

/** An exact integer as a long double (rounded if beyond 64 bits). */
export function longDoubleFromInteger(n: number | bigint): LongDouble {
  const big = BigInt(n);
  return big < 0n ? fromRatio(true, -big, 1n) : fromRatio(false, big, 1n);
}

/** a + b in x87 extended precision; null when the sum is NaN (inf + -inf). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg !== b.neg) return null;
    return infinity(a.inf ? a.neg : b.neg);
  }
  const low = Math.min(a.exp, b.exp);
  const sa = (a.neg ? -a.mant : a.mant) << BigInt(a.exp - low);
  const sb = (b.neg ? -b.mant : b.mant) << BigInt(b.exp - low);
  const sum = sa + sb;
  // Round-to-nearest gives +0 for x + (-x); only -0 + -0 stays negative.
  if (sum === 0n) return a.neg && b.neg ? { ...ZERO, neg: true } : ZERO;
  return fromBinary(sum < 0n, sum < 0n ? -sum : sum, low);
}

/**
 * printf("%.17Lf") of a finite value, then Redis's LD_STR_HUMAN trimming:
 * trailing zeros and a bare '.' removed, and "-0" printed as "0".
 */
export function formatLongDouble(x: LongDouble): string {
  if (x.inf) return x.neg ? "-inf" : "inf";
  const scaled = x.mant * 10n ** 17n;
  let q: bigint;
  if (x.exp >= 0) q = scaled << BigInt(x.exp);
  else {
    const shift = BigInt(-x.exp);
    q = scaled >> shift;
    const rest = scaled - (q << shift);
    const half = 1n << (shift - 1n);
    if (rest > half || (rest === half && (q & 1n) === 1n)) q++;
  }
  const digits = q.toString().padStart(18, "0");
  let s = digits.slice(0, -17) + "." + digits.slice(-17);
  s = s.replace(/0+$/, "").replace(/\.$/, "");
  if (x.neg && s !== "0") s = "-" + s;
  return s;
}

export const LONG_DOUBLE_ERR = {
  notFloat: "ERR value is not a valid float",
  nanOrInf: "ERR increment would produce NaN or Infinity",
};

/**
 * INCRBYFLOAT's arithmetic on stored text: current (null when the key is
 * missing) plus incr, printed as Redis stores it, or the error Redis sends.
 */
export function incrByFloat(current: string | number | null, incr: string): { value: string } | { error: string } {
  const a = current === null
    ? ZERO
    : typeof current === "number"
    ? longDoubleFromInteger(current)
    : parseLongDouble(current);
  const b = parseLongDouble(incr);
  if (a === null || b === null) return { error: LONG_DOUBLE_ERR.notFloat };
  const sum = addLongDouble(a, b);
  if (sum === null || sum.inf) return { error: LONG_DOUBLE_ERR.nanOrInf };
  return { value: formatLongDouble(sum) };
}
