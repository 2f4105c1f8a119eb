/** Binary strings: str() and bytes() round-trip every length, across str()'s fast paths and its chunked path. */
import { it } from "node:test";
import assert from "node:assert/strict";
import { bytes, str } from "../../core/util/bytes.ts";

it("str() keeps every byte and bytes() gives them back, whatever the length", () => {
  for (const n of [...Array(80).keys(), 255, 256, 8192, 8193, 20_000]) {
    const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
    const s = str(b);
    assert.equal(s.length, n);
    for (let i = 0; i < n; i++) assert.equal(s.charCodeAt(i), b[i], `length ${n}, byte ${i}`);
    assert.deepEqual(bytes(s), b);
  }
});
