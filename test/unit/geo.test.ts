/**
 * The pure parts behind the geo commands: C's "%.Nf" and Redis's number
 * texts (expected strings printed by glibc), the two C sorts against a
 * plain sort (ties included, fixed seeds), and geohash scores and decoding
 * against values redis-server 7.0.15 gives.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fixedPoint, humanDouble, printfFixed } from "../../core/util/fixed.ts";
import { mergeSort, partialSort } from "../../core/util/csort.ts";
import {
  cellRejecter,
  decodeInto,
  decodeScore,
  distance,
  geoScore,
  scoreText,
  shapeTest,
  standardGeohash,
  withinShape,
} from "../../core/types/geohash.ts";
import { ZSet } from "../../core/types/zset.ts";
import { rng } from "../lib/diff.ts";

describe("fixed-point text", () => {
  it("printfFixed prints as glibc: ties to even, -0, huge and tiny values", () => {
    const cases: Array<[number, number, string]> = [
      [0.125, 2, "0.12"], [0.03125, 4, "0.0312"], [2.5, 0, "2"], [3.5, 0, "4"], [0.5, 0, "0"], [1.5, 0, "2"],
      [1e21, 2, "1000000000000000000000.00"], [-0, 4, "-0.0000"], [5e-324, 6, "0.000000"], [-4.9e-7, 6, "-0.000000"],
      [123456.789, 2, "123456.79"], [85.05112878, 6, "85.051129"], [179.99999731779098511, 6, "179.999997"],
      [Infinity, 6, "inf"], [-Infinity, 6, "-inf"],
      [1e300, 6, "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160.000000"],
    ];
    for (const [d, n, text] of cases) assert.equal(printfFixed(d, n), text, `${d} %.${n}f`);
  });

  it("humanDouble is %.17Lf with zeros trimmed and -0 as 0", () => {
    assert.equal(humanDouble(180), "180");
    assert.equal(humanDouble(85.05112878), "85.0511287799999991");
    assert.equal(humanDouble(123456.789), "123456.78900000000430737");
    assert.equal(humanDouble(-4.9e-7), "-0.00000049");
    assert.equal(humanDouble(-1e-20), "0");
    assert.equal(humanDouble(-0), "0");
  });

  it("fixedPoint rounds the scaled value as llrint does", () => {
    assert.equal(fixedPoint(8708017.6445499994, 4), "8708017.6446"); // "%.4f" says .6445
    assert.equal(fixedPoint(0, 4), "0.0000");
    assert.equal(fixedPoint(4e-5, 4), "0.0000");
    assert.equal(fixedPoint(0.03125, 4), "0.0312");
    assert.equal(fixedPoint(0.00015, 4), "0.0001");
    assert.equal(fixedPoint(0.00025, 4), "0.0002");
    assert.equal(fixedPoint(0.00035, 4), "0.0004");
    assert.equal(fixedPoint(123456.789, 4), "123456.7890");
    assert.equal(fixedPoint(-0.00006, 4), "-0.0001");
    assert.equal(fixedPoint(1e21, 4), "-922337203685477.5808");
    assert.equal(fixedPoint(NaN, 4), "-922337203685477.5808");
  });
});

describe("C sorts", () => {
  type Item = { key: number; id: number };
  const byKey = (a: Item, b: Item) => (a.key > b.key ? 1 : a.key === b.key ? 0 : -1);

  it("mergeSort is stable; partialSort puts the asked positions where a full sort would", () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const r = rng(seed);
      const n = 1 + Math.floor(r() * 300);
      const items = Array.from({ length: n }, (_, id) => ({ key: Math.floor(r() * (seed % 2 ? 5 : 1000)), id }));
      const full = items.slice();
      mergeSort(full, byKey);
      const expected = items.slice().sort((a, b) => a.key - b.key || a.id - b.id);
      assert.deepEqual(full, expected, `seed ${seed}`);
      const lo = Math.floor(r() * n);
      const hi = lo + Math.floor(r() * (n - lo));
      const part = items.slice();
      partialSort(part, byKey, lo, hi);
      for (let i = lo; i <= hi; i++) assert.equal(part[i].key, expected[i].key, `seed ${seed} position ${i}`);
      assert.deepEqual(part.map((x) => x.id).sort((a, b) => a - b), items.map((x) => x.id));
    }
  });
});

describe("ZSet.scoreRange", () => {
  it("visits [min, max) in order in both encodings and stops when asked", () => {
    for (const size of [20, 500]) {
      const r = rng(size);
      const z = new ZSet();
      for (let i = 0; i < size; i++) z.set(`m${i}`, Math.floor(r() * 100), { entries: 128, value: 64 });
      assert.equal(z.encoding(), size > 128 ? "skiplist" : "listpack");
      const all: Array<[string, number]> = [];
      z.forEach((m, s) => all.push([m, s]));
      for (const [min, max] of [[0, 100], [10, 20], [50, 50], [-5, 3], [99, 1000], [30.5, 31]]) {
        const seen: Array<[string, number]> = [];
        z.scoreRange(min, max, (m, s) => (seen.push([m, s]), false));
        assert.deepEqual(seen, all.filter(([, s]) => s >= min && s < max), `${size}: [${min}, ${max})`);
        const firstTwo: string[] = [];
        z.scoreRange(min, max, (m) => firstTwo.push(m) >= 2);
        assert.deepEqual(firstTwo, seen.slice(0, 2).map(([m]) => m));
      }
    }
  });
});

describe("geohash", () => {
  it("scores, decoded coordinates and geohash strings as redis-server 7.0.15", () => {
    assert.equal(geoScore(13.361389, 38.115556), 3479099956230698);
    assert.equal(geoScore(15.087269, 37.502669), 3479447370796909);
    assert.equal(geoScore(180.1, 0), null);
    assert.equal(geoScore(0, 85.06), null);
    const [lon, lat] = decodeScore(3479099956230698);
    assert.equal(humanDouble(lon), "13.36138933897018433");
    assert.equal(humanDouble(lat), "38.11555639549629859");
    assert.equal(standardGeohash(3479099956230698), "sqc8b49rny0");
    assert.equal(standardGeohash(3479447370796909), "sqdtr74hyu0");
    // The top edge cells' centers lie past the limits; Redis clamps them.
    assert.deepEqual(decodeScore(geoScore(180, 85.05112878)!).map(humanDouble), ["180", "85.0511287799999991"]);
    const [lon2, lat2] = decodeScore(3479447370796909);
    assert.equal(fixedPoint(distance(lon, lat, lon2, lat2) / 1000, 4), "166.2742");
  });

  it("scoreText is the decimal redis-server 7.0.15 propagates, which ZADD reads back as geoScore", () => {
    // Read from its AOF after GEOADD: past 2^53 (lon 180) Redis writes the hash's exact integer, not the score's.
    const propagated: Array<[number, number, string]> = [
      [13.361389, 38.115556, "3479099956230698"], [0, 0, "3377699720527872"], [-180, -85.05112878, "0"],
      [180, 10.0000001, "10138940401276181"], [180, -33.123457, "9294447762292820"],
      [45.1, 85.05112878, "6896137474712066"], [180, 85.05112878, "13510798882111488"],
    ];
    for (const [lon, lat, text] of propagated) assert.equal(scoreText(geoScore(lon, lat)!, lon, lat), text, `${lon},${lat}`);
    const r = rng(11);
    const points: Array<[number, number]> = [];
    for (let i = 0; i < 2000; i++) points.push([-180 + 360 * r(), -85.05112878 + 170.10225756 * r()]);
    for (let i = 0; i < 200; i++) points.push([180, -85.05112878 + 170.10225756 * r()], [-180 + 360 * r(), 85.05112878]);
    for (const [lon, lat] of points) {
      const score = geoScore(lon, lat)!;
      const text = scoreText(score, lon, lat);
      assert.equal(Number(text), score, `${lon},${lat}`);
      if (score <= Number.MAX_SAFE_INTEGER) assert.equal(text, String(score));
      else assert.ok(BigInt(text) - BigInt(score) <= 1n && BigInt(score) - BigInt(text) <= 1n, `${lon},${lat}: ${text}`);
    }
  });

  it("shapeTest answers as withinShape, and cellRejecter rejects only what it rejects: random circles, points near their edges, antipodes, poles, boxes", () => {
    const r = rng(12);
    const R = 6372797.560856;
    const xy = [0, 0];
    let inside = 0, edge = 0, rejected = 0;
    for (let k = 0; k < 400; k++) {
      const lon = r() < 0.1 ? 180 * Math.sign(r() - 0.5) : -180 + 360 * r();
      const lat = r() < 0.1 ? 85.05112878 * Math.sign(r() - 0.5) : -85 + 170 * r();
      const meters = r() < 0.05 ? 0 : Math.exp(Math.log(2e7) * r());
      const conversion = [1, 1000, 0.3048, 1609.34][Math.floor(r() * 4)];
      const box = r() < 0.1;
      const shape = { lon, lat, radius: box ? -1 : meters / conversion, width: meters / conversion, height: (2 * meters) / conversion, conversion };
      const test = shapeTest(shape);
      const outside = cellRejecter(shape);
      for (let j = 0; j < 100; j++) {
        let plon = -180 + 360 * r(), plat = -85 + 170 * r();
        if (j % 4 === 1) [plon, plat] = [lon > 0 ? lon - 180 : lon + 180, -lat];
        else if (j % 4 >= 2) {
          // Along a random bearing, at the radius give or take a hair (or a lot).
          const b = 2 * Math.PI * r();
          const d = (meters * (1 + (r() - 0.5) * (j % 4 === 2 ? 1e-9 : 1e-2))) / R;
          const p1 = (lat * Math.PI) / 180;
          const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
          const l2 = (lon * Math.PI) / 180 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
          plat = Math.max(-85.05, Math.min(85.05, (p2 * 180) / Math.PI));
          plon = ((((l2 * 180) / Math.PI + 540) % 360) + 360) % 360 - 180;
        }
        // A stored point: the center of its cell, as a search decodes it.
        const score = geoScore(plon, plat)!;
        decodeInto(score, xy);
        const want = withinShape(shape, xy[0], xy[1]);
        assert.ok(Object.is(test(xy[0], xy[1]), want), `${JSON.stringify(shape)} at ${xy}`);
        if (outside !== null && outside(score)) {
          assert.equal(want, -1, `cellRejecter: ${JSON.stringify(shape)} at ${xy}`);
          rejected++;
        }
        if (want >= 0) inside++;
        if (Math.abs(distance(lon, lat, xy[0], xy[1]) - meters) <= meters * 1e-6) edge++;
      }
    }
    assert.ok(inside > 1000 && edge > 100 && rejected > 1000, `inside ${inside}, near the edge ${edge}, rejected ${rejected}`);
  });
});
