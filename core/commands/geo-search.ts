/**
 * GEORADIUS, GEORADIUSBYMEMBER (and _RO), GEOSEARCH and GEOSEARCHSTORE:
 * one generic command as Redis's georadiusGeneric, with its argument order
 * and errors. The points are found by walking the score ranges of up to
 * nine geohash cells around the center (see geohash.ts searchBoxes) in
 * Redis's order, so unsorted replies, COUNT ANY and ties in distance come
 * out as redis-server's; sorting uses the same C sorts (csort.ts).
 */
import type { Client } from "../server/client.ts";
import { ERR } from "./args.ts";
import { is, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { fixedPoint, humanDouble } from "../util/fixed.ts";
import { mergeSort, partialSort } from "../util/csort.ts";
import { readZset, storeResult, zsetLimits } from "./zset-args.ts";
import { ZSet } from "../types/zset.ts";
import {
  cellRejecter,
  decodeInto,
  sameBox,
  scoreRange,
  searchBoxes,
  type Shape,
  shapeTest,
} from "../types/geohash.ts";
import { boxArgs, lonLatArgs, memberPoint, radiusArgs } from "./geo-args.ts";

/** Which command: where the center comes from and what may be stored. */
export const COORDS = 1, MEMBER = 2, NOSTORE = 4, SEARCH = 8, SEARCHSTORE = 16;

const SORT_NONE = 0, SORT_ASC = 1, SORT_DESC = 2;

interface Point {
  member: string;
  score: number;
  lon: number;
  lat: number;
  dist: number;
}

/**
 * Redis's membersOfAllNeighbors: the points of the nine cells in order (a
 * cell equal to the last one searched is skipped) that lie in the shape,
 * each cell's scores walked as geoGetPointsInRange does; stops at limit (0:
 * none).
 */
function pointsInShape(z: ZSet, shape: Shape, limit: number): Point[] {
  const boxes = searchBoxes(shape);
  const out: Point[] = [];
  const xy = [0, 0];
  const within = shapeTest(shape);
  const outside = cellRejecter(shape);
  const visit = (member: string, score: number): boolean => {
    if (outside !== null && outside(score)) return false;
    decodeInto(score, xy);
    const dist = within(xy[0], xy[1]);
    if (dist >= 0 || dist !== dist) out.push({ member, score, lon: xy[0], lat: xy[1], dist });
    return limit !== 0 && out.length >= limit;
  };
  let last = 0;
  for (let i = 0; i < boxes.length; i++) {
    const box = boxes[i];
    if (box === null) continue;
    const prev = boxes[last];
    if (last !== 0 && prev !== null && sameBox(box, prev)) continue;
    if (limit !== 0 && out.length >= limit) break;
    const [min, max] = scoreRange(box);
    z.scoreRange(min, max, visit);
    last = i;
  }
  return out;
}

const ascending = (a: Point, b: Point) => (a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1);
const descending = (a: Point, b: Point) => -ascending(a, b);

interface Options {
  withDist: boolean;
  withHash: boolean;
  withCoord: boolean;
  sort: number;
  any: boolean;
  count: number;
  storeKey: string | null;
  storeDist: boolean;
  fromMember: boolean;
  fromLonLat: boolean;
  byRadius: boolean;
  byBox: boolean;
}

/** The generic command; srcIndex is the source key's position, flags a mix of COORDS MEMBER NOSTORE SEARCH SEARCHSTORE. */
export function georadius(c: Client, argv: Uint8Array[], srcIndex: number, flags: number): void {
  const z = readZset(c, str(argv[srcIndex]));
  if (z === null) return;
  const shape: Shape = { lon: 0, lat: 0, radius: -1, width: 0, height: 0, conversion: 1 };
  const o: Options = {
    withDist: false, withHash: false, withCoord: false, sort: SORT_NONE, any: false, count: 0,
    storeKey: null, storeDist: false, fromMember: false, fromLonLat: false, byRadius: false, byBox: false,
  };
  let base: number;
  if (flags & COORDS) {
    base = 6;
    const center = lonLatArgs(c, argv, 2);
    if (center === null) return;
    [shape.lon, shape.lat] = center;
    const r = radiusArgs(c, argv, 4);
    if (r === null) return;
    [shape.radius, shape.conversion] = r;
  } else if (flags & MEMBER) {
    base = 5;
    if (z !== undefined) {
      const center = memberPoint(z, argv[2]);
      if (center === null) return c.error("ERR could not decode requested zset member");
      [shape.lon, shape.lat] = center;
      const r = radiusArgs(c, argv, 3);
      if (r === null) return;
      [shape.radius, shape.conversion] = r;
    }
  } else {
    base = 2;
    if (flags & SEARCHSTORE) {
      base = 3;
      o.storeKey = str(argv[1]);
    }
  }
  if (!parseOptions(c, argv, base, flags, z, shape, o)) return;

  if (o.storeKey !== null && (o.withDist || o.withHash || o.withCoord)) {
    const what = flags & SEARCHSTORE ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS";
    return c.error(`ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
  }
  if (flags & SEARCH && !(o.fromMember || o.fromLonLat)) {
    return c.error(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${str(argv[0])}`);
  }
  if (flags & SEARCH && !(o.byRadius || o.byBox)) {
    return c.error(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${str(argv[0])}`);
  }
  if (o.any && o.count === 0) return c.error("ERR the ANY argument requires COUNT argument");

  if (z === undefined) {
    if (o.storeKey === null) return c.out.array(0);
    if (c.db.delete(o.storeKey)) {
      c.engine.notify(c.db, "del", o.storeKey, "g");
      c.engine.keyWritten(c.db, o.storeKey);
    }
    return c.out.int(0);
  }
  if (o.count !== 0 && o.sort === SORT_NONE && !o.any) o.sort = SORT_ASC;

  const points = pointsInShape(z, shape, o.any ? o.count : 0);
  if (points.length === 0 && o.storeKey === null) return c.out.array(0);
  const returned = o.count === 0 || points.length < o.count ? points.length : o.count;
  if (o.sort !== SORT_NONE) {
    const cmp = o.sort === SORT_ASC ? ascending : descending;
    if (returned === points.length) mergeSort(points, cmp);
    else partialSort(points, cmp, 0, returned - 1);
  }
  if (o.storeKey === null) replyPoints(c, points, returned, shape.conversion, o);
  else storePoints(c, points, returned, shape.conversion, o, flags & SEARCH ? "geosearchstore" : "georadiusstore");
}

/** The options loop of georadiusGeneric, with its conditions in its order; false when an error was sent. */
function parseOptions(c: Client, argv: Uint8Array[], base: number, flags: number, z: ZSet | undefined, shape: Shape, o: Options): boolean {
  const remaining = argv.length - base;
  const search = (flags & SEARCH) !== 0;
  const storable = !(flags & NOSTORE) && !search;
  for (let i = 0; i < remaining; i++) {
    const at = base + i;
    const arg = argv[at];
    if (is(arg, "withdist")) o.withDist = true;
    else if (is(arg, "withhash")) o.withHash = true;
    else if (is(arg, "withcoord")) o.withCoord = true;
    else if (is(arg, "any")) o.any = true;
    else if (is(arg, "asc")) o.sort = SORT_ASC;
    else if (is(arg, "desc")) o.sort = SORT_DESC;
    else if (is(arg, "count") && i + 1 < remaining) {
      const n = parseInteger(str(argv[at + 1]));
      if (n === null) return fail(c, ERR.notInt);
      if (n <= 0) return fail(c, "ERR COUNT must be > 0");
      o.count = n;
      i++;
    } else if ((is(arg, "store") || is(arg, "storedist")) && i + 1 < remaining && storable) {
      o.storeKey = str(argv[at + 1]);
      o.storeDist = arg.length === 9;
      i++;
    } else if (is(arg, "storedist") && search && (flags & SEARCHSTORE)) {
      o.storeDist = true;
    } else if (is(arg, "frommember") && i + 1 < remaining && search && !o.fromLonLat) {
      if (z !== undefined) {
        const center = memberPoint(z, argv[at + 1]);
        if (center === null) return fail(c, "ERR could not decode requested zset member");
        [shape.lon, shape.lat] = center;
      }
      o.fromMember = true;
      i++;
    } else if (is(arg, "fromlonlat") && i + 2 < remaining && search && !o.fromMember) {
      const center = lonLatArgs(c, argv, at + 1);
      if (center === null) return false;
      [shape.lon, shape.lat] = center;
      o.fromLonLat = true;
      i += 2;
    } else if (is(arg, "byradius") && i + 2 < remaining && search && !o.byBox) {
      const r = radiusArgs(c, argv, at + 1);
      if (r === null) return false;
      [shape.radius, shape.conversion] = r;
      o.byRadius = true;
      i += 2;
    } else if (is(arg, "bybox") && i + 3 < remaining && search && !o.byRadius) {
      const b = boxArgs(c, argv, at + 1);
      if (b === null) return false;
      [shape.width, shape.height, shape.conversion] = b;
      shape.radius = -1;
      o.byBox = true;
      i += 3;
    } else return fail(c, ERR.syntax);
  }
  return true;
}

function fail(c: Client, msg: string): false {
  c.error(msg);
  return false;
}

function replyPoints(c: Client, points: Point[], returned: number, conversion: number, o: Options): void {
  const extra = (o.withDist ? 1 : 0) + (o.withCoord ? 1 : 0) + (o.withHash ? 1 : 0);
  c.out.array(returned);
  for (let i = 0; i < returned; i++) {
    const p = points[i];
    if (extra !== 0) c.out.array(extra + 1);
    c.out.bulkStr(p.member);
    if (o.withDist) c.out.bulkStr(fixedPoint(p.dist / conversion, 4));
    if (o.withHash) c.out.int(Number.isSafeInteger(p.score) ? p.score : BigInt(Math.trunc(p.score)));
    if (o.withCoord) {
      c.out.array(2);
      c.out.doubleText(humanDouble(p.lon));
      c.out.doubleText(humanDouble(p.lat));
    }
  }
}

/** Stores the first `returned` points as a sorted set (scores: geohashes, or distances with STOREDIST). */
function storePoints(c: Client, points: Point[], returned: number, conversion: number, o: Options, event: string): void {
  const entries = points.slice(0, returned).map((p) => ({ m: p.member, s: o.storeDist ? p.dist / conversion : p.score }));
  entries.sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : a.m < b.m ? -1 : a.m > b.m ? 1 : 0));
  const z = ZSet.fromSorted(entries.map((e) => e.m), entries.map((e) => e.s), zsetLimits(c));
  storeResult(c, o.storeKey!, z, event);
  c.out.int(returned);
}
