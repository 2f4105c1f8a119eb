/**
 * Redis's geohash, computed with the same double operations in the same
 * order as geohash.c / geohash_helper.c so scores, decoded coordinates and
 * distances carry the same bits as redis-server's. A hash is kept as its
 * two components (latitude cell, longitude cell) at a step (bits per
 * component) rather than as the interleaved 64-bit word: moving to a
 * neighbour is then a modular ±1 of one component, which is what Redis's
 * masked add/subtract on the interleaved word amounts to, and no 64-bit
 * integer arithmetic is needed. Interleaving happens only to make a score.
 */

export const LON_MIN = -180;
export const LON_MAX = 180;
export const LAT_MIN = -85.05112878;
export const LAT_MAX = 85.05112878;
/** Bits per component of a stored score: 2 * 26 = 52 interleaved bits. */
export const STEP_MAX = 26;

const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const D_R = Math.PI / 180.0;
const TWO32 = 4294967296;

const degRad = (ang: number) => ang * D_R;
const radDeg = (ang: number) => ang / D_R;

/** A cell: components < 2^step (one more at the very top edge, as Redis's encoder allows). */
export interface GeoHash {
  lat: number;
  lon: number;
  step: number;
}

export interface Range {
  min: number;
  max: number;
}

export interface Area {
  lat: Range;
  lon: Range;
}

const WGS84_LON: Range = { min: LON_MIN, max: LON_MAX };
const WGS84_LAT: Range = { min: LAT_MIN, max: LAT_MAX };
/** The ranges of standard geohash strings (GEOHASH re-encodes with these). */
export const STANDARD_LAT: Range = { min: -90, max: 90 };

// ---- interleaving ----

/** The low 16 bits of v spread to the even bit positions of a 32-bit word. */
function spread(v: number): number {
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v;
}

/** The even bits of a 32-bit word gathered into 16 bits. */
function gather(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  v = (v | (v >>> 8)) & 0x0000ffff;
  return v;
}

/** A cell's latitude component from its interleaved word's halves (the even bits). */
function latCellOf(hi: number, lo: number): number {
  return (gather(lo) | (gather(hi) << 16)) >>> 0;
}

/** A cell's longitude component from its interleaved word's halves (the odd bits). */
function lonCellOf(hi: number, lo: number): number {
  return latCellOf(hi >>> 1, lo >>> 1);
}

/** The interleaved word of a cell (latitude in the even bits) as [high 32 bits, low 32 bits]. */
function interleave(lat: number, lon: number): [number, number] {
  const lo = (spread(lat) | (spread(lon) << 1)) >>> 0;
  const hi = (spread(lat >>> 16) | (spread(lon >>> 16) << 1)) >>> 0;
  return [hi, lo];
}

// ---- encoding and decoding ----

/** Redis's geohashEncode: null outside the WGS84 limits or the given ranges. */
export function encode(lon: number, lat: number, step: number, latRange: Range = WGS84_LAT): GeoHash | null {
  if (lon > LON_MAX || lon < LON_MIN || lat > LAT_MAX || lat < LAT_MIN) return null;
  if (lat < latRange.min || lat > latRange.max) return null;
  let latOffset = (lat - latRange.min) / (latRange.max - latRange.min);
  let lonOffset = (lon - WGS84_LON.min) / (WGS84_LON.max - WGS84_LON.min);
  latOffset *= 2 ** step;
  lonOffset *= 2 ** step;
  return { lat: latOffset >>> 0, lon: lonOffset >>> 0, step };
}

/**
 * The sorted-set score of a point (GEOADD), or null when out of range. At
 * longitude 180 the hash is past 2^53, and the double rounds it as strtod
 * rounds ZADD's decimal of it (see scoreText).
 */
export function geoScore(lon: number, lat: number): number | null {
  const h = encode(lon, lat, STEP_MAX);
  if (h === null) return null;
  const [hi, lo] = interleave(h.lat, h.lon);
  return hi * TWO32 + lo;
}

/**
 * The decimal GEOADD propagates as ZADD's score for the point (lon, lat)
 * whose geoScore() is score: Redis writes the hash's exact integer, which
 * past 2^53 (longitude 180) the score has rounded, so only there is the
 * point encoded again.
 */
export function scoreText(score: number, lon: number, lat: number): string {
  if (score <= Number.MAX_SAFE_INTEGER) return String(score);
  const h = encode(lon, lat, STEP_MAX)!;
  const [hi, lo] = interleave(h.lat, h.lon);
  return String((BigInt(hi) << 32n) | BigInt(lo));
}

/** Redis's geohashDecode: the cell's bounds. */
export function decodeArea(h: GeoHash, latRange: Range = WGS84_LAT): Area {
  const latScale = latRange.max - latRange.min;
  const lonScale = WGS84_LON.max - WGS84_LON.min;
  const cells = 2 ** h.step;
  return {
    lat: {
      min: latRange.min + (h.lat * 1.0 / cells) * latScale,
      max: latRange.min + (((h.lat + 1) >>> 0) * 1.0 / cells) * latScale,
    },
    lon: {
      min: WGS84_LON.min + (h.lon * 1.0 / cells) * lonScale,
      max: WGS84_LON.min + (((h.lon + 1) >>> 0) * 1.0 / cells) * lonScale,
    },
  };
}

/** The 64-bit word C's (uint64_t) cast makes of a score, as x86-64 code does it, in two halves. */
function scoreWord(score: number): [number, number] {
  if (score >= 0 && score < 2 ** 64) {
    const t = Math.trunc(score);
    const hi = Math.floor(t / TWO32);
    return [hi, t - hi * TWO32];
  }
  if (score >= 2 ** 64) return [0, 0];
  if (score > -(2 ** 63)) {
    const w = BigInt.asUintN(64, BigInt(Math.trunc(score)));
    return [Number(w >> 32n), Number(w & 0xffffffffn)];
  }
  return [0x80000000, 0];
}

const CELLS = 2 ** STEP_MAX;
const LAT_SCALE = LAT_MAX - LAT_MIN;
const LON_SCALE = LON_MAX - LON_MIN;

/**
 * The center of a stored score's cell (Redis's decodeGeohash) into
 * out[0] (longitude) and out[1] (latitude), without allocating: searches
 * decode every candidate. Cells at the top edge have centers past the
 * limits, which Redis 7.0 clamps.
 */
export function decodeInto(score: number, out: number[]): void {
  let hi: number, lo: number;
  if (score >= 0 && score <= Number.MAX_SAFE_INTEGER) {
    const t = Math.floor(score);
    hi = Math.floor(t / TWO32);
    lo = t - hi * TWO32;
  } else [hi, lo] = scoreWord(score);
  const ilat = latCellOf(hi, lo);
  const ilon = lonCellOf(hi, lo);
  const latMin = LAT_MIN + (ilat * 1.0 / CELLS) * LAT_SCALE;
  const latMax = LAT_MIN + (((ilat + 1) >>> 0) * 1.0 / CELLS) * LAT_SCALE;
  const lonMin = LON_MIN + (ilon * 1.0 / CELLS) * LON_SCALE;
  const lonMax = LON_MIN + (((ilon + 1) >>> 0) * 1.0 / CELLS) * LON_SCALE;
  const lon = (lonMin + lonMax) / 2;
  const lat = (latMin + latMax) / 2;
  out[0] = lon > LON_MAX ? LON_MAX : lon < LON_MIN ? LON_MIN : lon;
  out[1] = lat > LAT_MAX ? LAT_MAX : lat < LAT_MIN ? LAT_MIN : lat;
}

/** Longitude and latitude of a stored score: decodeInto for a caller that wants a pair. */
export function decodeScore(score: number): [number, number] {
  const out = [0, 0];
  decodeInto(score, out);
  return out as [number, number];
}

/** The 11-character standard geohash of a stored score (GEOHASH). */
export function standardGeohash(score: number): string | null {
  const [lon, lat] = decodeScore(score);
  const h = encode(lon, lat, STEP_MAX, STANDARD_LAT);
  if (h === null) return null;
  const [hi, lo] = interleave(h.lat, h.lon);
  const bits = hi * TWO32 + lo;
  let s = "";
  for (let i = 0; i < 10; i++) s += ALPHABET[Math.floor(bits / 2 ** (52 - (i + 1) * 5)) % 32];
  return s + "0";
}

const ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz";

/** The cell a stored score's 52 bits name at full precision (for the score ranges of a box). */
export function scoreRange(h: GeoHash): [number, number] {
  const [hi, lo] = interleave(h.lat, h.lon);
  const shift = 2 ** (52 - h.step * 2);
  const bits = hi * TWO32 + lo;
  if (bits < Number.MAX_SAFE_INTEGER) return [bits * shift, (bits + 1) * shift];
  const big = (BigInt(hi) << 32n) | BigInt(lo);
  const s = BigInt(52 - h.step * 2);
  return [Number(BigInt.asUintN(64, big << s)), Number(BigInt.asUintN(64, (big + 1n) << s))];
}

// ---- neighbours ----

function moved(h: GeoHash, dLon: number, dLat: number): GeoHash {
  const cells = 2 ** h.step;
  return {
    lat: dLat === 0 ? h.lat : (h.lat + dLat + cells) % cells,
    lon: dLon === 0 ? h.lon : (h.lon + dLon + cells) % cells,
    step: h.step,
  };
}

/** The nine cells Redis searches, in its order: self, N, S, E, W, NE, NW, SE, SW; null for an excluded one. */
export type Boxes = Array<GeoHash | null>;

// ---- distances ----

/** Distance along a meridian, as Redis computes it when the longitudes are the same. */
function latDistance(lat1d: number, lat2d: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degRad(lat2d) - degRad(lat1d));
}

/** Haversine great-circle distance in meters, as Redis 7.0's geohashGetDistance (meridian shortcut included). */
export function distance(lon1d: number, lat1d: number, lon2d: number, lat2d: number): number {
  return haversine(lon1d, lat1d, Math.cos(degRad(lat1d)), lon2d, lat2d);
}

/**
 * distance() with the first point's latitude cosine given: a search passes
 * its center's, computed once (the same value, so the same bits), and saves
 * a cosine per candidate.
 */
function haversine(lon1d: number, lat1d: number, cosLat1: number, lon2d: number, lat2d: number): number {
  const lon1r = degRad(lon1d);
  const lon2r = degRad(lon2d);
  const v = Math.sin((lon2r - lon1r) / 2);
  if (v === 0) return latDistance(lat1d, lat2d);
  const lat1r = degRad(lat1d);
  const lat2r = degRad(lat2d);
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + cosLat1 * Math.cos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

// ---- search areas ----

/** A search: center, a radius or a box (in units), and the unit's size in meters. */
export interface Shape {
  lon: number;
  lat: number;
  /** Radius for a circle, or -1 for a box. */
  radius: number;
  width: number;
  height: number;
  /** Meters per unit. */
  conversion: number;
}

/**
 * Distance from the center to the point at (lon, lat) when the point is
 * inside the shape, else -1 (Redis's geoWithinShape).
 */
export function withinShape(s: Shape, lon: number, lat: number): number {
  if (s.radius >= 0) {
    const d = distance(s.lon, s.lat, lon, lat);
    return d > s.radius * s.conversion ? -1 : d;
  }
  if (latDistance(lat, s.lat) > (s.height * s.conversion) / 2) return -1;
  if (distance(lon, lat, s.lon, lat) > (s.width * s.conversion) / 2) return -1;
  return distance(s.lon, s.lat, lon, lat);
}

/** Relative slack on the quick rejections of shapeTest: a point this near the edge gets the exact test. */
const SLACK = 1e-9;

/**
 * withinShape for one search's many candidates, the same answer with less
 * trigonometry (Math.sin and friends cost 7-27 ns each, most on Deno). For a
 * circle of angular radius rho (r / R), haversine's a = u² + cos φ1 cos φ2
 * v² is at least u² and at least cos φ1 cos φ2 v², so a point with |Δφ| >
 * rho, or with cos φ1 · (least cos φ2 of the latitude band) · sin²(Δλ/2)
 * above sin²(rho/2), is outside in exact arithmetic; those tests, given
 * SLACK, reject only points far beyond rounding error from the edge, and
 * every other point gets Redis's computation. Points more than 90° of
 * longitude away always get it too: near the antipode Redis's a can round
 * past 1 and its NaN distance passes the radius test (see pointsInShape).
 */
export function shapeTest(s: Shape): (lon: number, lat: number) => number {
  const cosLat1 = Math.cos(degRad(s.lat));
  const exact = (lon: number, lat: number): number => {
    if (s.radius < 0) return withinShape(s, lon, lat);
    const d = haversine(s.lon, s.lat, cosLat1, lon, lat);
    return d > s.radius * s.conversion ? -1 : d;
  };
  const bounds = quickBounds(s);
  if (bounds === null) return exact;
  const { maxDLat, maxDLon } = bounds;
  const lat1r = degRad(s.lat);
  const lon1r = degRad(s.lon);
  return (lon, lat) => {
    let dLon = Math.abs(degRad(lon) - lon1r);
    if (dLon > Math.PI) dLon = 2 * Math.PI - dLon;
    if (dLon <= Math.PI / 2 && (dLon > maxDLon || Math.abs(degRad(lat) - lat1r) > maxDLat)) return -1;
    return exact(lon, lat);
  };
}

/** shapeTest's quick rejections: a point farther than either in radians is outside; null for a box or a huge circle. */
function quickBounds(s: Shape): { maxDLat: number; maxDLon: number } | null {
  const rho = (s.radius * s.conversion) / EARTH_RADIUS_IN_METERS;
  if (s.radius < 0 || !(rho < 1)) return null;
  const maxDLat = rho * (1 + SLACK) + 1e-12;
  const band = Math.abs(degRad(s.lat)) + maxDLat;
  let maxDLon = Math.PI / 2;
  if (band < Math.PI / 2) {
    const x = Math.sin(rho / 2) / Math.sqrt(Math.cos(degRad(s.lat)) * Math.cos(band));
    if (x < 1) maxDLon = Math.min(maxDLon, 2 * Math.asin(x) * (1 + SLACK) + 1e-12);
  }
  return { maxDLat, maxDLon };
}

/**
 * shapeTest's quick rejections made on a stored score's cell numbers,
 * before any decoding: most points of the nine cells a search walks are
 * outside its circle, and for them the float decode and test are skipped.
 * True only for a point shapeTest rejects: its cell lies over two cells
 * beyond the bounds (cells are 5e-6 degrees, far above rounding), and
 * within 90 degrees of longitude, where shapeTest rejects at all; null
 * where that band would wrap (centers beyond 89 degrees of longitude) or
 * shapeTest has no quick rejections.
 */
export function cellRejecter(s: Shape): ((score: number) => boolean) | null {
  const bounds = quickBounds(s);
  if (bounds === null || Math.abs(s.lon) > 89) return null;
  const lonCell = (lon: number) => ((lon - LON_MIN) / LON_SCALE) * CELLS;
  const latCell = (lat: number) => ((lat - LAT_MIN) / LAT_SCALE) * CELLS;
  const dLon = radDeg(bounds.maxDLon);
  const dLat = radDeg(bounds.maxDLat);
  const nearLo = Math.ceil(lonCell(s.lon - 90)) + 2;
  const nearHi = Math.floor(lonCell(s.lon + 90)) - 2;
  const lonLo = Math.floor(lonCell(s.lon - dLon)) - 2;
  const lonHi = Math.ceil(lonCell(s.lon + dLon)) + 2;
  const latLo = Math.floor(latCell(s.lat - dLat)) - 2;
  const latHi = Math.ceil(latCell(s.lat + dLat)) + 2;
  return (score) => {
    if (!(score >= 0 && score <= Number.MAX_SAFE_INTEGER)) return false;
    const t = Math.floor(score);
    const hi = Math.floor(t / TWO32);
    const lo = t - hi * TWO32;
    const ilon = lonCellOf(hi, lo);
    if (ilon < nearLo || ilon > nearHi) return false;
    if (ilon < lonLo || ilon > lonHi) return true;
    const ilat = latCellOf(hi, lo);
    return ilat < latLo || ilat > latHi;
  };
}

/** Redis's geohashEstimateStepsByRadius. */
function estimateSteps(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  return Math.min(26, Math.max(1, step));
}

/** Redis's geohashBoundingBox: [min lon, min lat, max lon, max lat]. */
function boundingBox(s: Shape): [number, number, number, number] {
  const circle = s.radius >= 0;
  const height = s.conversion * (circle ? s.radius : s.height / 2);
  const width = s.conversion * (circle ? s.radius : s.width / 2);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const lonDeltaTop = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(s.lat + latDelta)));
  const lonDeltaBottom = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(s.lat - latDelta)));
  const south = s.lat < 0;
  return [
    south ? s.lon - lonDeltaBottom : s.lon - lonDeltaTop,
    s.lat - latDelta,
    south ? s.lon + lonDeltaBottom : s.lon + lonDeltaTop,
    s.lat + latDelta,
  ];
}

/** The 3x3 cells around the center at a step. */
function around(s: Shape, step: number): { self: GeoHash; area: Area; boxes: Boxes } {
  const self = encode(s.lon, s.lat, step)!;
  const boxes: Boxes = [
    self,
    moved(self, 0, 1),
    moved(self, 0, -1),
    moved(self, 1, 0),
    moved(self, -1, 0),
    moved(self, 1, 1),
    moved(self, -1, 1),
    moved(self, 1, -1),
    moved(self, -1, -1),
  ];
  return { self, area: decodeArea(self), boxes };
}

const N = 1, S = 2, E = 3, W = 4, NE = 5, NW = 6, SE = 7, SW = 8;

/** Redis's geohashCalculateAreasByShapeWGS84: the cells to search, useless ones nulled. */
export function searchBoxes(s: Shape): Boxes {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(s);
  const radiusMeters = (s.radius >= 0
    ? s.radius
    : Math.sqrt((s.width / 2) * (s.width / 2) + (s.height / 2) * (s.height / 2))) * s.conversion;
  let steps = estimateSteps(radiusMeters, s.lat);
  let cur = around(s, steps);
  const b = cur.boxes;
  const decrease = decodeArea(b[N]!).lat.max < maxLat || decodeArea(b[S]!).lat.min > minLat ||
    decodeArea(b[E]!).lon.max < maxLon || decodeArea(b[W]!).lon.min > minLon;
  if (steps > 1 && decrease) {
    steps--;
    cur = around(s, steps);
  }
  const { area, boxes } = cur;
  if (steps >= 2) {
    const drop = (...which: number[]) => which.forEach((i) => (boxes[i] = null));
    if (area.lat.min < minLat) drop(S, SW, SE);
    if (area.lat.max > maxLat) drop(N, NE, NW);
    if (area.lon.min < minLon) drop(W, SW, NW);
    if (area.lon.max > maxLon) drop(E, SE, NE);
  }
  return boxes;
}

/** Whether two cells are the same (Redis compares bits and step). */
export function sameBox(a: GeoHash, b: GeoHash): boolean {
  return a.lat === b.lat && a.lon === b.lon && a.step === b.step;
}
