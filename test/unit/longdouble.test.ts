/**
 * The long double emulation against INCRBYFLOAT results recorded from
 * redis-server 7.0.15 (longdouble-vectors.json): parsing edge cases,
 * rounding ties in both directions of conversion, denormals, overflow,
 * and a chain of increments that feeds each result back in.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  addLongDouble,
  formatLongDouble,
  incrByFloat,
  longDoubleFromInteger,
  parseLongDouble,
} from "../../core/util/longdouble.ts";

const vectors = JSON.parse(readFileSync(new URL("./longdouble-vectors.json", import.meta.url), "utf8")) as {
  pairs: [string, string, string][];
  chain: [string, string][];
};

/** Long expected results are stored as "#length:sha256 prefix". */
function matches(got: string, want: string): boolean {
  if (!want.startsWith("#")) return got === want;
  const digest = createHash("sha256").update(got, "latin1").digest("hex").slice(0, 16);
  return want === `#${got.length}:${digest}`;
}

function run(current: string | null, incr: string): string {
  const r = incrByFloat(current, incr);
  return "error" in r ? r.error : r.value;
}

test("INCRBYFLOAT results match redis-server for every recorded pair", () => {
  const wrong: string[] = [];
  for (const [a, b, want] of vectors.pairs) {
    const got = run(a, b);
    if (!matches(got, want)) wrong.push(`${a} + ${b}: want ${want.slice(0, 80)} got ${got.slice(0, 80)}`);
  }
  assert.ok(vectors.pairs.length > 500);
  assert.deepEqual(wrong, []);
});

test("a chain of increments on a missing key matches redis-server", () => {
  let current: string | null = null;
  for (const [incr, want] of vectors.chain) {
    current = run(current, incr);
    assert.equal(current, want, `after + ${incr}`);
  }
});

test("parsing refuses what strtold or Redis refuse", () => {
  for (const s of ["", " 1", "1 ", "nan", "NaN(1)", "1.5\0", "\0", ".", "e5", "1e", "0x", "0xp1", "--1", "1e99999", "1e-99999"]) {
    assert.equal(parseLongDouble(s), null, JSON.stringify(s));
  }
  assert.equal(parseLongDouble("1".repeat(5120)), null, "inputs of 5120 chars are too long");
  assert.notEqual(parseLongDouble("1".repeat(5000) + "e-4000"), null);
  assert.equal(parseLongDouble("-Infinity")?.inf, true);
  assert.equal(parseLongDouble("0e99999999999")?.mant, 0n);
});

test("integers convert exactly up to 64 bits and round ties to even beyond", () => {
  const exact = longDoubleFromInteger(2n ** 64n - 1n);
  assert.equal(formatLongDouble(exact), "18446744073709551615");
  assert.equal(formatLongDouble(longDoubleFromInteger(2n ** 64n + 1n)), "18446744073709551616");
  assert.equal(formatLongDouble(longDoubleFromInteger(2n ** 64n + 3n)), "18446744073709551620");
  assert.equal(formatLongDouble(longDoubleFromInteger(-7)), "-7");
});

test("addition handles infinities, NaN and signed zero", () => {
  const inf = parseLongDouble("inf")!, minusInf = parseLongDouble("-inf")!, one = parseLongDouble("1")!;
  assert.equal(addLongDouble(inf, minusInf), null);
  assert.equal(addLongDouble(inf, one)?.inf, true);
  const minusZero = parseLongDouble("-0")!;
  assert.equal(addLongDouble(minusZero, minusZero)?.neg, true);
  assert.equal(addLongDouble(parseLongDouble("-1")!, one)?.neg, false);
  assert.equal(formatLongDouble(minusZero), "0");
});
