/**
 * The geo commands, differential against one redis-server and byte for
 * byte: COMMAND INFO, hand-written edge cases (errors and their order,
 * units, the WGS84 limits, the poles' latitude limit ±85.05112878, the
 * antimeridian, RESP3 coordinates, STORE/STOREDIST and GEOSEARCHSTORE,
 * COUNT with ANY, ties in distance, scores that are not geohashes),
 * binary members, keyspace events, the AOF (GEOADD propagates as ZADD,
 * also from scripts and MULTI) against redis-server's file, and randomized
 * sets and queries with fixed seeds (printed on failure) over sets in both
 * sorted-set encodings. Each runtime's keys carry its own prefix. Under
 * Node and Deno the randomized replies may differ in a distance's last bit
 * (see GLIBC_TRIG); everything else is byte for byte on every runtime.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, sharedRedis, startRedis, startRespite } from "../lib/servers.ts";
import { incrAofAfter } from "../lib/aof-incr.ts";
import { type Cmd, DiffPair, diffSuite, pushesUntil, rng, show } from "../lib/diff.ts";
import { RawConnection } from "../lib/raw.ts";
import { type Arg, type Command, commands } from "../lib/collections.ts";
import { decodeReplies, type RespValue } from "../../core/resp/decoder.ts";

const GEO_COMMANDS = [
  "geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember", "georadiusbymember_ro",
  "geosearch", "geosearchstore",
];

const redis = sharedRedis();
const BARRIER = "geo:barrier";

/** Writes that GEO commands propagate (GEOADD as ZADD), and commands that must propagate nothing. */
const AOF_SEQUENCE: Cmd[] = [
  ["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
  ["GEOADD", "g", "CH", "XX", "13.361389", "38.115556", "Palermo", "1", "1", "nope"],
  ["GEOADD", "g", "NX", "13.361389", "38.115556", "Palermo"], ["GEOADD", "g", "180", "85.05112878", "edge"],
  // A hash past 2^53, which the score rounds: the AOF carries the exact integer, as Redis writes it.
  ["GEOADD", "g", "180", "10.0000001", "east"],
  ["GEOADD", "g", "200", "1", "bad"], ["GEORADIUS", "g", "15", "37", "200", "km"],
  ["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "s1"], ["GEORADIUSBYMEMBER", "g", "Palermo", "300", "km", "STOREDIST", "s2"],
  ["GEOSEARCHSTORE", "s3", "g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "STOREDIST"],
  ["GEOSEARCHSTORE", "s3", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"],
  ["GEOSEARCHSTORE", "s3", "none", "FROMMEMBER", "x", "BYRADIUS", "1", "m"],
  ["GEOSEARCHSTORE", "s1", "none", "FROMMEMBER", "x", "BYRADIUS", "1", "m"], ["GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"],
  ["EVAL", "redis.call('geoadd', KEYS[1], 1, 2, 'a'); return redis.call('geoadd', KEYS[1], 'CH', 3, 4, 'a')", "1", "g"],
  ["MULTI"], ["GEOADD", "g", "5", "6", "b"], ["GEOSEARCHSTORE", "s4", "g", "FROMMEMBER", "b", "BYRADIUS", "1", "km"], ["EXEC"],
];

let redisAof = "";

describe("geo propagation oracle", () => {
  it("redis-server's AOF for the geo writes", async () => {
    redisAof = await incrAofAfter((extra) => startRedis(extra), AOF_SEQUENCE);
    assert.match(redisAof, /\$4\r\nzadd\r\n/);
  });
});

/** A random double in [lo, hi] printed with up to 9 decimals, sometimes exactly an end. */
function coord(r: () => number, lo: number, hi: number): string {
  const x = r();
  if (x < 0.03) return String(lo);
  if (x < 0.06) return String(hi);
  return (lo + r() * (hi - lo)).toFixed(Math.floor(r() * 10));
}

const UNITS = ["m", "km", "mi", "ft", "M", "KM", "Mi", "fT"];

/**
 * Bun's Math.sin/cos/asin are glibc's, so distances carry redis-server's
 * bits. Node's V8 (fdlibm) and Deno's differ from glibc in the last bit for
 * some arguments (test/DIFFERENCES.md): there, numbers in replies to the
 * randomized searches may differ by that much, text for text, and nothing
 * else may differ.
 */
const GLIBC_TRIG = new Set(["bun"]);

function nearlySame(a: RespValue, b: RespValue): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const x = Buffer.from(a).toString("latin1"), y = Buffer.from(b).toString("latin1");
    if (x === y) return true;
    if (!/^-?\d+\.\d+$/.test(x) || !/^-?\d+\.\d+$/.test(y)) return false;
    const [u, v] = [Number(x), Number(y)];
    // A fixed 4-decimal distance may round the other way; a %.17g score differs in its last bits.
    return Math.abs(u - v) <= (x.split(".")[1].length === 4 ? 1e-4 : Math.abs(u) * 1e-13);
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => nearlySame(x, b[i]));
  return a === b;
}

for (const rt of RUNTIMES) {
  describe(`geo on ${rt}`, () => {
    const suite = diffSuite(redis, rt);
    let section = 0;
    const prefix = () => `${rt}:geo${section}:`;
    const compare = async (cmds: Command[], context = "", trigTolerant = false) => {
      const [a, b] = await Promise.all([suite.pair.redis.pipeline(cmds), suite.pair.respite.pipeline(cmds)]);
      for (let i = 0; i < cmds.length; i++) {
        const cmd = cmds[i].map((x) => x.toString("latin1")).join(" ");
        if (cmd.startsWith("HELLO")) continue; // its reply holds the client id
        if (trigTolerant && !GLIBC_TRIG.has(rt) && !a[i].equals(b[i])) {
          const [x, y] = [decodeReplies(a[i]).values[0], decodeReplies(b[i]).values[0]];
          assert.ok(nearlySame(x, y), `${context}reply ${i} to ${cmd}: ${show(b[i])} is not ${show(a[i])} give or take the last bit`);
          continue;
        }
        assert.equal(show(b[i]), show(a[i]), `${context}reply ${i} to ${cmd}`);
      }
    };
    const same = (lines: Array<string | Arg[]>) => compare(commands(prefix(), lines));

    it("COMMAND INFO and COMMAND GETKEYS match redis-server", async () => {
      for (const name of GEO_COMMANDS) await suite.pair.same("COMMAND", "INFO", name);
      await same([
        "COMMAND GETKEYS GEORADIUS k 0 0 1 m STORE a STOREDIST b", "COMMAND GETKEYS GEORADIUS k 0 0 1 m",
        "COMMAND GETKEYS GEORADIUSBYMEMBER k m 1 m STORE a", "COMMAND GETKEYS GEOSEARCHSTORE d s FROMMEMBER m BYRADIUS 1 m",
        "COMMAND GETKEYS GEOADD k 1 2 m",
      ]);
    });

    it("GEOADD: options, argument counts, limits and number syntax", async () => {
      section++;
      await same([
        "GEOADD {g} 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "GEOADD {g} 13.361389 38.115556 Palermo",
        "GEOADD {g} CH 13.361389 38.115556 Palermo 1 1 Palermo", "GEOADD {g} NX 2 2 Palermo 3 3 x", "GEOADD {g} XX 4 4 y 5 5 x",
        "GEOADD {g} XX CH 6 6 x", "GEOADD {g} NX XX 1 1 a", "GEOADD {g} nx ch xx 1 1 a", "GEOADD {g} GT 1 1 a",
        "GEOADD {g} INCR 1 1 a", "GEOADD {g} 1 2", "GEOADD {g} CH 1 2", "GEOADD {g} CH CH CH", "GEOADD {g} 1 2 a 3",
        "GEOADD {g} x 1 a", "GEOADD {g} 1 x a", "GEOADD {g} x y a", "GEOADD {g} 200 1 a", "GEOADD {g} 1 86 a",
        "GEOADD {g} -180.0000001 0 a", "GEOADD {g} 0 -85.051128781 a", "GEOADD {g} 1e300 1 a", "GEOADD {g} inf 1 a",
        "GEOADD {g} 1 -inf a", "GEOADD {g} nan 1 a", "GEOADD {g} 1e-400 1 a", "GEOADD {g} ' 1' 1 a", "GEOADD {g} 1 2 a 500 0 b",
        "EXISTS {g2}", "GEOADD {g} -0 -0 z0 0x10 0x8 hex 1e-310 1e-320 denorm 1.5e1 -2.5e1 exp", "GEOPOS {g} z0 hex denorm exp",
        "ZRANGE {g} 0 -1 WITHSCORES", "GEOADD {new} XX 1 1 a", "EXISTS {new}", "OBJECT ENCODING {g}",
        "GEOADD {lim} 180 85.05112878 ne -180 -85.05112878 sw 180 -85.05112878 se -180 85.05112878 nw 0 0 o",
        "ZRANGE {lim} 0 -1 WITHSCORES", "GEOPOS {lim} ne sw se nw o", "GEOHASH {lim} ne sw se nw o",
        "DUMP {lim}", "DEBUG DIGEST-VALUE {lim}",
        "GEOADD", "GEOADD {g}", "GEOADD {g} 1 2 3 4",
      ]);
    });

    it("GEOPOS GEODIST GEOHASH: units, missing keys and members, RESP3", async () => {
      section++;
      await same([
        "GEOADD {g} 13.361389 38.115556 Palermo 15.087269 37.502669 Catania -122.27652 37.805186 oakland",
        "GEOADD {g} 2.2944813 48.8583701 eiffel 151.2152967 -33.8567844 opera 179.9999 0.5 east -179.9999 0.5 west",
        "GEOPOS {g} Palermo Catania nope", "GEOPOS {none} a b", "GEOPOS {g}", "GEODIST {g} Palermo Catania",
        "GEODIST {g} Palermo Catania km", "GEODIST {g} Palermo Catania MI", "GEODIST {g} Palermo Catania ft",
        "GEODIST {g} Palermo Catania Km", "GEODIST {g} Palermo Catania yd", "GEODIST {g} Palermo Catania m x",
        "GEODIST {g} Palermo nope", "GEODIST {g} nope Palermo km", "GEODIST {none} a b", "GEODIST {none} a b yd",
        "GEODIST {g} Palermo Palermo", "GEODIST {g} oakland opera km", "GEODIST {g} east west", "GEODIST {g} eiffel opera mi",
        "GEOHASH {g} Palermo Catania oakland eiffel opera east west nope",
        // Same longitude: Redis takes the arc along the meridian, whose last digit differs from the haversine's here.
        "GEOADD {m} 10 49.29110943574875 a 10 -58.36662947808196 b 10 33.65266934242925 c 10 -14.452025136983039 d",
        "GEODIST {m} a b", "GEODIST {m} c d", "GEOSEARCH {m} FROMMEMBER a BYRADIUS 20000 km WITHDIST ASC",
        // Distances print as Redis's fixedpoint_d2string: 8708017.64454999... times 10^4 rounds up to a half first.
        "GEOADD {f} -122.35831171274185 34.608179081520738 a 2.1961203217506409 55.441909025879426 b", "GEODIST {f} a b",
        "GEOADD {f} 0 0 o 180 0 anti -90 10 c 90 -10 d 12.345 67.89 g -167.655 -67.89 h", "GEODIST {f} o anti",
        "GEODIST {f} c d km", "GEODIST {f} g h", "GEODIST {f} o o", "GEOSEARCH {f} FROMLONLAT 0 0 BYRADIUS 30000 km WITHDIST ASC", "GEOHASH {none} a", "GEOHASH {g}",
        "HELLO 3", "GEOPOS {g} Palermo nope east", "GEODIST {g} Palermo Catania", "GEODIST {g} a b", "GEOHASH {g} opera x",
        "GEOSEARCH {g} FROMMEMBER Palermo BYRADIUS 300 km WITHCOORD WITHDIST WITHHASH ASC",
        "GEORADIUS {g} 15 37 200 km WITHCOORD", "HELLO 2",
      ]);
    });

    it("GEORADIUS and GEORADIUSBYMEMBER: options, errors in Redis's order, STORE and STOREDIST", async () => {
      section++;
      await same([
        "GEOADD {g} 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.5 41.9 Rome 9.19 45.46 Milan",
        "GEORADIUS {g} 15 37 200 km", "GEORADIUS {g} 15 37 200 km ASC", "GEORADIUS {g} 15 37 200 km DESC",
        "GEORADIUS {g} 15 37 2000 km WITHDIST WITHHASH WITHCOORD", "GEORADIUS {g} 15 37 2000 km COUNT 2",
        "GEORADIUS {g} 15 37 2000 km COUNT 2 DESC", "GEORADIUS {g} 15 37 2000 km COUNT 2 ANY",
        "GEORADIUS {g} 15 37 2000 km ANY", "GEORADIUS {g} 15 37 2000 km COUNT 0", "GEORADIUS {g} 15 37 2000 km COUNT -1",
        "GEORADIUS {g} 15 37 2000 km COUNT x", "GEORADIUS {g} 15 37 2000 km COUNT", "GEORADIUS {g} 15 37 2000 km bogus",
        "GEORADIUS {g} 15 37 -1 km", "GEORADIUS {g} 15 37 x km", "GEORADIUS {g} 15 37 1 yd", "GEORADIUS {g} 200 37 1 km",
        "GEORADIUS {g} x 37 1 km", "GEORADIUS {g} 15 37 0 km", "GEORADIUS {g} 15 37 1e-400 km",
        "GEORADIUS {g} 15 37 2000 km STORE {d} WITHDIST", "GEORADIUS {g} 15 37 2000 km STORE {d} COUNT 3",
        "ZRANGE {d} 0 -1 WITHSCORES", "OBJECT ENCODING {d}", "GEORADIUS {g} 15 37 2000 km STOREDIST {d} DESC",
        "ZRANGE {d} 0 -1 WITHSCORES", "GEORADIUS {g} 15 37 2000 mi STORE {d} STOREDIST {e}", "ZRANGE {e} 0 -1 WITHSCORES",
        "EXISTS {d}", "GEORADIUS {g} 15 37 1 m STORE {e}", "EXISTS {e}", "GEORADIUS {none} 15 37 1 m STORE {d}", "EXISTS {d}",
        "GEORADIUS {none} 15 37 1 m", "GEORADIUS {none} 15 37 x m", "GEORADIUS_RO {g} 15 37 2000 km STORE {d}",
        "GEORADIUS_RO {g} 15 37 2000 km WITHDIST ASC", "GEORADIUS {g} 15 37 2000 km STORE",
        "GEORADIUSBYMEMBER {g} Rome 600 km WITHDIST ASC", "GEORADIUSBYMEMBER {g} nope 600 km",
        "GEORADIUSBYMEMBER {g} Rome x km", "GEORADIUSBYMEMBER {none} Rome x km", "GEORADIUSBYMEMBER {none} Rome 1 km STORE {d}",
        "GEORADIUSBYMEMBER {g} Rome 600 km STOREDIST {d}", "ZRANGE {d} 0 -1 WITHSCORES",
        "GEORADIUSBYMEMBER_RO {g} Milan 1000 mi COUNT 2 WITHCOORD", "GEORADIUSBYMEMBER_RO {g} Milan 1000 mi STOREDIST {d}",
        "SET {s} x", "GEORADIUS {s} 1 1 1 m", "GEORADIUS {s} 1 1 x m", "GEORADIUSBYMEMBER {s} a 1 m", "GEOADD {s} 1 1 a",
        "GEOPOS {s} a", "GEODIST {s} a b", "GEOHASH {s} a", "GEOSEARCH {s} FROMLONLAT 1 1 BYRADIUS 1 m",
        "GEOSEARCHSTORE {d} {s} FROMLONLAT 1 1 BYRADIUS 1 m", "GEORADIUS {g} 15 37 2000 km STORE {s}", "TYPE {s}",
      ]);
    });

    it("GEOSEARCH and GEOSEARCHSTORE: FROMMEMBER FROMLONLAT BYRADIUS BYBOX and their errors", async () => {
      section++;
      await same([
        "GEOADD {g} 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1 17.241510 38.788135 edge2",
        "GEOSEARCH {g} FROMLONLAT 15 37 BYRADIUS 200 km ASC", "GEOSEARCH {g} FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHDIST",
        "GEOSEARCH {g} FROMMEMBER Palermo BYBOX 200 200 km WITHCOORD WITHHASH DESC",
        "GEOSEARCH {g} FROMLONLAT 15 37 BYBOX 1000 1 km", "GEOSEARCH {g} FROMLONLAT 15 37 BYBOX 1 1000 km",
        "GEOSEARCH {g} frommember Catania byradius 100 mi count 1 any", "GEOSEARCH {g} FROMMEMBER x BYRADIUS 1 m",
        "GEOSEARCH {g} BYBOX 1 1 m", "GEOSEARCH {g} FROMLONLAT 1 1", "GEOSEARCH {g} FROMLONLAT 1 1 BYRADIUS 1 m ANY",
        "GEOSEARCH {g} FROMLONLAT 1 1 BYRADIUS 1 m COUNT 0", "GEOSEARCH {g} FROMLONLAT 1 1 BYRADIUS 1 m BYBOX 1 1 m",
        "GEOSEARCH {g} FROMLONLAT 1 1 FROMMEMBER Palermo BYRADIUS 1 m", "GEOSEARCH {g} FROMMEMBER Palermo FROMLONLAT 1 1 BYRADIUS 1 m",
        "GEOSEARCH {g} FROMLONLAT 1 1 BYBOX -1 1 m", "GEOSEARCH {g} FROMLONLAT 1 1 BYBOX x 1 m",
        "GEOSEARCH {g} FROMLONLAT 1 1 BYBOX 1 x m", "GEOSEARCH {g} FROMLONLAT 1 1 BYBOX 1 1 yd",
        "GEOSEARCH {g} FROMLONLAT 1 1 BYBOX 1 1", "GEOSEARCH {g} FROMLONLAT 1 BYRADIUS 1 m x",
        "GEOSEARCH {g} FROMLONLAT 1 1 BYRADIUS 1 m STORE {d}", "GEOSEARCH {g} FROMLONLAT 1 1 BYRADIUS 1 m STOREDIST",
        "geosearch {g} fromlonlat 1 1 count 1", "GeoSearch {g} bybox 1 1 m count 1", "GEOSEARCH {none} FROMMEMBER x BYRADIUS 1 m",
        "GEOSEARCH {none} FROMLONLAT 1 1 BYRADIUS 1 m", "GEOSEARCH {none} FROMLONLAT 1 1", "GEOSEARCH {none} FROMMEMBER x BYRADIUS x m",
        "GEOSEARCHSTORE {d} {g} FROMLONLAT 15 37 BYRADIUS 200 km", "ZRANGE {d} 0 -1 WITHSCORES",
        "GEOSEARCHSTORE {d} {g} FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST COUNT 2 DESC", "ZRANGE {d} 0 -1 WITHSCORES",
        "GEOSEARCHSTORE {d} {g} FROMLONLAT 15 37 BYBOX 400 400 km WITHDIST", "GEOSEARCHSTORE {d} {g} FROMLONLAT 15 37 BYRADIUS 1 m",
        "EXISTS {d}", "GEOSEARCHSTORE {d} {g} FROMLONLAT 15 37 BYRADIUS 200 km STORE {e}", "GEOSEARCHSTORE {d} {none} FROMMEMBER x BYRADIUS 1 m",
        "GEOSEARCHSTORE {g} {g} FROMMEMBER Palermo BYRADIUS 100 km STOREDIST", "ZRANGE {g} 0 -1 WITHSCORES",
      ]);
    });

    it("ties in distance: COUNT's partial quicksort and the full sort place equal points as Redis", async () => {
      section++;
      const letters = "abcdefghijklmnopqrstuvwxyz".split("");
      const add = ["GEOADD {t}", ...letters.map((l, i) => (i % 7 === 3 ? `1 1 ${l}` : i % 5 === 1 ? `0.5 0.5 ${l}` : `0 0 ${l}`))].join(" ");
      const lines = [add];
      for (const order of ["ASC", "DESC", ""]) {
        for (const n of [1, 2, 3, 5, 7, 8, 13, 25, 26, 40]) lines.push(`GEOSEARCH {t} FROMLONLAT 0 0 BYRADIUS 500 km ${order} COUNT ${n}`);
        lines.push(`GEOSEARCH {t} FROMLONLAT 0 0 BYRADIUS 500 km ${order}`);
      }
      // Past 40 elements the quicksort takes medians of three of three; past 128 the set is a skiplist.
      const many = ["GEOADD {u}"];
      for (let i = 0; i < 150; i++) many.push(`${(i % 4) * 0.01} ${(i % 3) * 0.01} p${i}`);
      lines.push(many.join(" "), "OBJECT ENCODING {u}");
      for (const n of [1, 10, 41, 60, 100, 149]) {
        lines.push(`GEORADIUS {u} 0 0 100 km DESC COUNT ${n}`, `GEORADIUS {u} 0 0 100 km COUNT ${n} WITHDIST`);
        lines.push(`GEORADIUS {u} 0 0 100 km COUNT ${n} ANY`, `GEORADIUS {u} 0 0 100 km COUNT ${n} ANY DESC`);
      }
      await same(lines);
    });

    it("the poles' latitude limit, the antimeridian and huge areas", async () => {
      section++;
      await same([
        "GEOADD {p} 0 85.05112878 n0 90 85.05112878 n90 180 85.05112878 n180 -180 85.05112878 nm180 0 85 n85 45 84.9 n849",
        "GEOADD {p} 0 -85.05112878 s0 90 -85.05112878 s90 -90 -85 s85 179.99999 0 am1 -179.99999 0 am2 180 0 am3 -180 0 am4",
        "GEOADD {p} 179.5 10 e1 -179.5 10 w1 0 0 zero 0.0000001 -0.0000001 nearzero",
        "GEOPOS {p} n0 n90 n180 nm180 s0 s90 am3 am4 nearzero", "GEOHASH {p} n0 n90 n180 nm180 s0 s90 am1 am2 am3 am4",
        "GEODIST {p} am1 am2", "GEODIST {p} am3 am4", "GEODIST {p} n0 s0 km", "GEODIST {p} n0 n180", "GEODIST {p} e1 w1 mi",
        "GEOSEARCH {p} FROMLONLAT 180 0 BYRADIUS 100 km ASC WITHDIST", "GEOSEARCH {p} FROMLONLAT -180 0 BYRADIUS 100 km WITHDIST",
        "GEOSEARCH {p} FROMMEMBER e1 BYRADIUS 200 km WITHDIST", "GEOSEARCH {p} FROMMEMBER w1 BYBOX 400 400 km ASC WITHDIST",
        "GEOSEARCH {p} FROMLONLAT 0 85.05112878 BYRADIUS 1000 km ASC WITHDIST WITHCOORD",
        "GEOSEARCH {p} FROMLONLAT 0 -85.05112878 BYRADIUS 1000 km DESC WITHDIST",
        "GEOSEARCH {p} FROMLONLAT 0 85 BYBOX 20000 500 km ASC WITHDIST", "GEOSEARCH {p} FROMLONLAT 0 0 BYRADIUS 20000 km ASC WITHDIST",
        "GEOSEARCH {p} FROMLONLAT 0 0 BYRADIUS 5000 km ASC", "GEOSEARCH {p} FROMLONLAT 100 -80 BYRADIUS 3000 km DESC WITHHASH",
        "GEOSEARCH {p} FROMLONLAT 0 0 BYBOX 40000 40000 km ASC", "GEOSEARCH {p} FROMLONLAT 0 0 BYRADIUS 0 m WITHDIST",
        "GEOSEARCH {p} FROMMEMBER zero BYRADIUS 0 m WITHDIST", "GEOSEARCH {p} FROMMEMBER zero BYBOX 0 0 m WITHDIST",
        "GEORADIUS {p} 180 85.05112878 10 m WITHDIST", "GEORADIUS {p} -180 -85.05112878 100 km WITHDIST",
        "GEOSEARCH {p} FROMLONLAT 0 0 BYRADIUS inf m WITHDIST", "GEOSEARCH {p} FROMLONLAT 0 0 BYRADIUS 1e308 km WITHDIST",
        "GEOSEARCH {p} FROMLONLAT 0 0 BYBOX inf 1 m WITHDIST", "GEOSEARCH {p} FROMLONLAT 0 0 BYBOX 1e300 1e300 mi",
        "GEORADIUS {p} 0 0 1e-300 m WITHDIST", "GEORADIUS {p} 0 0 1 m COUNT 9223372036854775807",
        "GEORADIUS {p} 0 0 1 m COUNT 9223372036854775808",
      ]);
    });

    it("scores that are not geohashes decode as Redis decodes them", async () => {
      section++;
      await same([
        "ZADD {z} 0 zero 1 one 4503599627370495 max52 4503599627370496 p52 9007199254740992 p53 1.5 half 3e15 big",
        "ZADD {z} 123456789.75 frac 18014398509481984 p54", "GEOPOS {z} zero one max52 p52 p53 half big frac p54",
        "GEOHASH {z} zero one max52 half big frac", "GEODIST {z} zero max52", "GEODIST {z} one big km",
        "GEOSEARCH {z} FROMMEMBER one BYRADIUS 1000 km WITHHASH WITHCOORD",
      ]);
    });

    it("binary and long members", async () => {
      section++;
      const bin = Buffer.from([0, 255, 13, 10, 32, 128]);
      const long = Buffer.alloc(200, 0x61);
      await compare(commands(prefix(), [
        ["GEOADD", "{b}", "1", "1", bin, "1.001", "1.001", long, "1.002", "1", ""],
        ["GEOPOS", "{b}", bin, long, ""], ["GEODIST", "{b}", bin, long], ["GEOHASH", "{b}", bin, ""],
        "GEOSEARCH {b} FROMLONLAT 1 1 BYRADIUS 10 km ASC WITHDIST", ["GEOSEARCH", "{b}", "FROMMEMBER", bin, "BYRADIUS", "1", "km"],
        "GEOSEARCHSTORE {d} {b} FROMLONLAT 1 1 BYRADIUS 10 km", "OBJECT ENCODING {d}", "ZRANGE {d} 0 -1 WITHSCORES",
        "OBJECT ENCODING {b}",
      ]));
    });

    it("keyspace events: GEOADD is zadd, stores are georadiusstore / geosearchstore, emptied stores del", async () => {
      section++;
      const sub = await DiffPair.open(redis().port, suite.respite.port);
      for (const conn of [sub.redis, sub.respite]) {
        await conn.pipeline([["PSUBSCRIBE", `__key*__:${prefix()}*`], ["SUBSCRIBE", BARRIER]]);
      }
      await suite.pair.same("CONFIG", "SET", "notify-keyspace-events", "KEA");
      try {
        await same([
          "GEOADD {g} 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "GEOADD {g} 13.361389 38.115556 Palermo",
          "GEOADD {g} XX 1 1 nope", "GEORADIUS {g} 15 37 200 km STORE {d}", "GEORADIUSBYMEMBER {g} Palermo 1 km STOREDIST {e}",
          "GEOSEARCHSTORE {e} {g} FROMLONLAT 15 37 BYRADIUS 200 km", "GEOSEARCHSTORE {e} {g} FROMLONLAT 15 37 BYRADIUS 1 m",
          "GEOSEARCHSTORE {d} {none} FROMLONLAT 15 37 BYRADIUS 1 m", "GEOSEARCH {g} FROMLONLAT 15 37 BYRADIUS 200 km",
          `PUBLISH ${BARRIER} done`,
        ]);
        const [theirs, ours] = await Promise.all([pushesUntil(sub.redis, BARRIER), pushesUntil(sub.respite, BARRIER)]);
        assert.deepEqual(ours, theirs);
        assert.ok(theirs.some((p) => p.includes("geosearchstore")) && theirs.some((p) => p.includes("georadiusstore")));
      } finally {
        await suite.pair.same("CONFIG", "SET", "notify-keyspace-events", "");
        sub.close();
      }
    });

    it("propagates GEOADD as ZADD and the stores as themselves: the AOF of redis-server, byte for byte", async () => {
      assert.equal(await incrAofAfter((extra) => startRespite(rt, extra), AOF_SEQUENCE), redisAof);
    });

    it("randomized sets and searches in both encodings", async () => {
      section++;
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        const r = rng(seed * 7919 + rt.length);
        const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
        const p = `${prefix()}${seed}:`;
        const size = seed % 2 === 0 ? 40 + Math.floor(r() * 80) : 200 + Math.floor(r() * 300);
        // Points gather around a few centers so searches find some, plus some anywhere at all.
        const centers = Array.from({ length: 4 }, () => [coord(r, -180, 180), coord(r, -85.05112878, 85.05112878)].map(Number));
        const lines: string[] = [];
        const members: string[] = [];
        for (let i = 0; i < size; i++) {
          const [clon, clat] = pick(centers);
          const spread = pick([0.001, 0.1, 2, 20]);
          const lon = r() < 0.2 ? coord(r, -180, 180) : Math.max(-180, Math.min(180, clon + (r() - 0.5) * spread)).toFixed(7);
          const lat = r() < 0.2
            ? coord(r, -85.05112878, 85.05112878)
            : Math.max(-85.05112878, Math.min(85.05112878, clat + (r() - 0.5) * spread)).toFixed(7);
          members.push(`m${i}`);
          lines.push(`GEOADD ${p}g ${lon} ${lat} m${i}`);
        }
        lines.push(`OBJECT ENCODING ${p}g`);
        for (let q = 0; q < 150; q++) {
          const unit = pick(UNITS);
          const dist = (10 ** (r() * 7 - (unit.toLowerCase() === "km" || unit.toLowerCase() === "mi" ? 3 : 0))).toFixed(3);
          const [clon, clat] = pick(centers);
          const from = r() < 0.3
            ? `FROMMEMBER ${pick(members)}`
            : `FROMLONLAT ${(clon + (r() - 0.5)).toFixed(5)} ${Math.max(-85, Math.min(85, clat + (r() - 0.5))).toFixed(5)}`;
          const by = r() < 0.5 ? `BYRADIUS ${dist} ${unit}` : `BYBOX ${dist} ${(Number(dist) * (0.2 + r() * 2)).toFixed(3)} ${unit}`;
          const opts: string[] = [];
          if (r() < 0.5) opts.push("WITHDIST");
          if (r() < 0.3) opts.push("WITHCOORD");
          if (r() < 0.3) opts.push("WITHHASH");
          if (r() < 0.6) opts.push(pick(["ASC", "DESC"]));
          if (r() < 0.4) opts.push(`COUNT ${1 + Math.floor(r() * 30)}`, ...(r() < 0.3 ? ["ANY"] : []));
          const kind = r();
          if (kind < 0.5) lines.push(`GEOSEARCH ${p}g ${from} ${by} ${opts.join(" ")}`);
          else if (kind < 0.65) {
            const plain = opts.filter((o) => !o.startsWith("WITH"));
            lines.push(`GEOSEARCHSTORE ${p}d ${p}g ${from} ${by} ${plain.join(" ")} ${r() < 0.5 ? "STOREDIST" : ""}`);
            lines.push(`ZRANGE ${p}d 0 -1 WITHSCORES`, `OBJECT ENCODING ${p}d`);
          } else if (kind < 0.85) {
            lines.push(`GEORADIUS ${p}g ${from.startsWith("FROMLONLAT") ? from.slice(11) : `${clon} ${Math.max(-85, clat)}`} ${dist} ${unit} ${opts.join(" ")}`);
          } else lines.push(`GEORADIUSBYMEMBER ${p}g ${pick(members)} ${dist} ${unit} ${opts.join(" ")}`);
          if (r() < 0.3) lines.push(`GEODIST ${p}g ${pick(members)} ${pick(members)} ${pick(UNITS)}`);
          if (r() < 0.2) lines.push(`GEOPOS ${p}g ${pick(members)} ${pick(members)}`, `GEOHASH ${p}g ${pick(members)}`);
        }
        await compare(commands("", lines), `seed ${seed}: `, true);
      }
    });
  });
}
