/**
 * PFSELFTEST: Redis's self-test of the HLL code, run against this
 * implementation. Register access on random values, then ten million
 * adds to a dense and a sparse HLL side by side, checking that the sparse
 * one stays sparse while small, that both give the same count, and that
 * the count stays within six standard errors at each power of ten.
 */
import { denseGet, denseSetRegister, encodingOf, HLL_DENSE, HLL_DENSE_SIZE, HLL_REGISTERS } from "./hll-dense.ts";
import { count, emptySparse, HllEdit } from "./hyperloglog.ts";

const TEST_CYCLES = 1000;

/** null when every check passes, else Redis's TESTFAILED error text. */
export function hllSelfTest(sparseMaxBytes: number): string | null {
  const dense = new Uint8Array(HLL_DENSE_SIZE);
  dense.set([72, 89, 76, 76, HLL_DENSE]);
  const expected = new Uint8Array(HLL_REGISTERS);
  for (let j = 0; j < TEST_CYCLES; j++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = (Math.random() * 64) | 0;
      expected[i] = r;
      denseSetRegister(dense, i, r);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(dense, i);
      if (v !== expected[i]) return `TESTFAILED Register ${i} should be ${expected[i]} but is ${v}`;
    }
  }

  dense.fill(0, 16);
  const denseEdit = new HllEdit(dense);
  let sparse = new HllEdit(emptySparse());
  const relerr = 1.04 / Math.sqrt(HLL_REGISTERS);
  let checkpoint = 1;
  const seedLo = (Math.random() * 2 ** 32) >>> 0;
  const seedHi = (Math.random() * 2 ** 32) >>> 0;
  const ele = new Uint8Array(8);
  const view = new DataView(ele.buffer);
  view.setUint32(4, seedHi, true);
  for (let j = 1; j <= 10_000_000; j++) {
    view.setUint32(0, (j ^ seedLo) >>> 0, true);
    denseEdit.add(ele, sparseMaxBytes);
    sparse.add(ele, sparseMaxBytes);
    if (j !== checkpoint) continue;
    const value = sparse.value();
    sparse = new HllEdit(value);
    if (j < sparseMaxBytes / 2 && encodingOf(value) === HLL_DENSE) return "TESTFAILED sparse encoding not used";
    const card = count(dense);
    if (card !== count(value)) return "TESTFAILED dense/sparse disagree";
    const abserr = Math.abs(checkpoint - Number(card));
    const maxerr = j === 10 ? 1 : Math.ceil(relerr * 6 * checkpoint);
    if (abserr > maxerr) return `TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`;
    checkpoint *= 10;
  }
  return null;
}
