/**
 * The geo commands: GEOADD GEOPOS GEODIST GEOHASH here, the searches in
 * geo-search.ts. A geo set is a sorted set whose scores are 52-bit
 * interleaved geohashes (core/types/geohash.ts). GEOADD is ZADD with those
 * scores, as in Redis: it runs ZADD's own code on a rewritten argument
 * vector and propagates that vector, so AOF and replicas see ZADD.
 */
import type { CommandDef, Handler, KeySpecDef } from "./table.ts";
import { ERR } from "./args.ts";
import { bytes, is, str } from "../util/bytes.ts";
import { fixedPoint, humanDouble } from "../util/fixed.ts";
import { readZset } from "./zset-args.ts";
import { zaddScored } from "./zsets.ts";
import { decodeScore, distance, geoScore, scoreText, standardGeohash } from "../types/geohash.ts";
import { lonLatArgs, memberPoint, unitArg } from "./geo-args.ts";
import { COORDS, georadius, MEMBER, NOSTORE, SEARCH, SEARCHSTORE } from "./geo-search.ts";
import type { ZSet } from "../types/zset.ts";

const ZADD = bytes("zadd");

const geoadd: Handler = (c, argv) => {
  let nx = false, xx = false;
  let first = 2;
  for (; first < argv.length; first++) {
    const a = argv[first];
    if (is(a, "nx")) nx = true;
    else if (is(a, "xx")) xx = true;
    else if (!is(a, "ch")) break;
  }
  if ((argv.length - first) % 3 !== 0 || (xx && nx)) return c.error(ERR.syntax);
  // The scores go to ZADD as numbers; their text is made only for propagation.
  const zargv: Uint8Array[] = [ZADD];
  const points: [number, number][] = [];
  const scores: number[] = [];
  for (let i = 1; i < first; i++) zargv.push(argv[i]);
  for (let i = first; i < argv.length; i += 3) {
    const point = lonLatArgs(c, argv, i);
    if (point === null) return;
    points.push(point);
    scores.push(geoScore(point[0], point[1])!);
    zargv.push(argv[i], argv[i + 2]);
  }
  zaddScored(c, zargv, scores);
  const propagation = c.engine.propagation;
  if (!propagation.on) return;
  points.forEach(([lon, lat], k) => (zargv[first + 2 * k] = bytes(scoreText(scores[k], lon, lat))));
  propagation.rewrite(zargv.map((a) => a.slice()));
};

/** The score of a member given as argument bytes, or undefined. */
function scoreOf(z: ZSet | undefined, member: Uint8Array): number | undefined {
  return z?.score(z.isListpack() ? member : str(member));
}

const geopos: Handler = (c, argv) => {
  const z = readZset(c, str(argv[1]));
  if (z === null) return;
  c.out.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const point = z === undefined ? null : memberPoint(z, argv[i]);
    if (point === null) {
      c.out.nullArray();
      continue;
    }
    c.out.array(2);
    c.out.doubleText(humanDouble(point[0]));
    c.out.doubleText(humanDouble(point[1]));
  }
};

const geodist: Handler = (c, argv) => {
  let toMeter = 1;
  if (argv.length === 5) {
    const unit = unitArg(c, argv[4]);
    if (unit === null) return;
    toMeter = unit;
  } else if (argv.length > 5) return c.error(ERR.syntax);
  const z = readZset(c, str(argv[1]));
  if (z === null) return;
  if (z === undefined) return c.out.nullBulk();
  const s1 = scoreOf(z, argv[2]);
  const s2 = scoreOf(z, argv[3]);
  if (s1 === undefined || s2 === undefined) return c.out.nullBulk();
  const [lon1, lat1] = decodeScore(s1);
  const [lon2, lat2] = decodeScore(s2);
  c.out.bulkStr(fixedPoint(distance(lon1, lat1, lon2, lat2) / toMeter, 4));
};

const geohash: Handler = (c, argv) => {
  const z = readZset(c, str(argv[1]));
  if (z === null) return;
  c.out.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const score = scoreOf(z, argv[i]);
    const hash = score === undefined ? null : standardGeohash(score);
    if (hash === null) c.out.nullBulk();
    else c.out.bulkStr(hash);
  }
};

// ---- command table ----

const geo = { acl: "geo", group: "geo" };
const key1 = { keys: [1, 1, 1] as [number, number, number], ...geo };
const RADIUS_COMPLEXITY =
  "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const SEARCH_COMPLEXITY =
  "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";

/**
 * GEORADIUS and GEORADIUSBYMEMBER (`about`: what the center is) and their
 * _RO forms (`about`: the command they are the read-only variant of), which
 * cannot store: no STORE / STOREDIST key specs, readonly flags.
 */
function radiusCommand(name: string, arity: number, mode: number, about: string): CommandDef {
  const readonly = (mode & NOSTORE) !== 0;
  const store = (keyword: string): KeySpecDef => ({ flags: "OW update", begin: { keyword, startfrom: -arity }, find: { range: [0, 1, 0] } });
  return {
    name, arity, flags: readonly ? "readonly" : "write denyoom", ...key1,
    ...(readonly ? {} : { keySpecs: [{ flags: "RO access", begin: 1, find: { range: [0, 1, 0] } }, store("STORE"), store("STOREDIST")] }),
    since: readonly ? "3.2.10" : "3.2.0",
    complexity: RADIUS_COMPLEXITY,
    summary: readonly
      ? `A read-only variant for ${about}`
      : `Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from ${about}`,
    run: (c, argv) => georadius(c, argv, 1, mode),
  };
}

export const geoCommands: CommandDef[] = [
  {
    name: "geoadd", arity: -5, flags: "write denyoom", ...key1, since: "3.2.0",
    summary: "Add one or more geospatial items in the geospatial index represented using a sorted set",
    complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    run: geoadd,
  },
  {
    name: "geodist", arity: -4, flags: "readonly", ...key1, since: "3.2.0",
    summary: "Returns the distance between two members of a geospatial index",
    complexity: "O(log(N))",
    run: geodist,
  },
  {
    name: "geohash", arity: -2, flags: "readonly", ...key1, since: "3.2.0",
    summary: "Returns members of a geospatial index as standard geohash strings",
    complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
    run: geohash,
  },
  {
    name: "geopos", arity: -2, flags: "readonly", ...key1, since: "3.2.0",
    summary: "Returns longitude and latitude of members of a geospatial index",
    complexity: "O(N) where N is the number of members requested.",
    run: geopos,
  },
  radiusCommand("georadius", -6, COORDS, "a point"),
  radiusCommand("georadius_ro", -6, COORDS | NOSTORE, "GEORADIUS"),
  radiusCommand("georadiusbymember", -5, MEMBER, "a member"),
  radiusCommand("georadiusbymember_ro", -5, MEMBER | NOSTORE, "GEORADIUSBYMEMBER"),
  {
    name: "geosearch", arity: -7, flags: "readonly", ...key1, since: "6.2.0", complexity: SEARCH_COMPLEXITY,
    summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
    run: (c, argv) => georadius(c, argv, 1, SEARCH),
  },
  {
    name: "geosearchstore", arity: -8, flags: "write denyoom", keys: [1, 2, 1], ...geo,
    keySpecs: [
      { flags: "OW update", begin: 1, find: { range: [0, 1, 0] } },
      { flags: "RO access", begin: 2, find: { range: [0, 1, 0] } },
    ],
    since: "6.2.0", complexity: SEARCH_COMPLEXITY,
    summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
    run: (c, argv) => georadius(c, argv, 2, SEARCH | SEARCHSTORE),
  },
];
