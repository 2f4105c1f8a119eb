/**
 * Argument readers of the geo commands, with Redis's error texts: a
 * longitude/latitude pair (strtod rules, WGS84 limits), a unit (m km ft mi,
 * any case since 7.0), a radius or a box with its unit, and the point of a
 * member (its score decoded).
 */
import type { Client } from "../server/client.ts";
import { ERR } from "./args.ts";
import { lower, str } from "../util/bytes.ts";
import { printfFixed } from "../util/fixed.ts";
import { parseScore } from "./zset-args.ts";
import { decodeScore, LAT_MAX, LAT_MIN, LON_MAX, LON_MIN } from "../types/geohash.ts";
import type { ZSet } from "../types/zset.ts";

const UNITS: Record<string, number> = { m: 1, km: 1000, ft: 0.3048, mi: 1609.34 };

/** Meters per unit, or null with Redis's error sent. */
export function unitArg(c: Client, arg: Uint8Array): number | null {
  const meters = arg.length <= 2 ? UNITS[lower(str(arg))] : undefined;
  if (meters !== undefined) return meters;
  c.error("ERR unsupported unit provided. please use M, KM, FT, MI");
  return null;
}

/** A double as getDoubleFromObjectOrReply reads it, or null with `msg` sent. */
function doubleArg(c: Client, arg: Uint8Array, msg: string): number | null {
  const v = parseScore(arg);
  if (v === null) c.error(msg);
  return v;
}

/** argv[i], argv[i+1] as longitude, latitude within the WGS84 limits, or null with the error sent. */
export function lonLatArgs(c: Client, argv: Uint8Array[], i: number): [number, number] | null {
  const lon = doubleArg(c, argv[i], ERR.notFloat);
  if (lon === null) return null;
  const lat = doubleArg(c, argv[i + 1], ERR.notFloat);
  if (lat === null) return null;
  if (lon < LON_MIN || lon > LON_MAX || lat < LAT_MIN || lat > LAT_MAX) {
    c.error(`ERR invalid longitude,latitude pair ${printfFixed(lon, 6)},${printfFixed(lat, 6)}`);
    return null;
  }
  return [lon, lat];
}

/** argv[i] argv[i+1] as `radius unit`: [radius, meters per unit], or null with the error sent. */
export function radiusArgs(c: Client, argv: Uint8Array[], i: number): [number, number] | null {
  const radius = doubleArg(c, argv[i], "ERR need numeric radius");
  if (radius === null) return null;
  if (radius < 0) {
    c.error("ERR radius cannot be negative");
    return null;
  }
  const unit = unitArg(c, argv[i + 1]);
  return unit === null ? null : [radius, unit];
}

/** argv[i..i+2] as `width height unit`: [width, height, meters per unit], or null with the error sent. */
export function boxArgs(c: Client, argv: Uint8Array[], i: number): [number, number, number] | null {
  const width = doubleArg(c, argv[i], "ERR need numeric width");
  if (width === null) return null;
  const height = doubleArg(c, argv[i + 1], "ERR need numeric height");
  if (height === null) return null;
  if (height < 0 || width < 0) {
    c.error("ERR height or width cannot be negative");
    return null;
  }
  const unit = unitArg(c, argv[i + 2]);
  return unit === null ? null : [width, height, unit];
}

/** The point stored for member, or null when it is not in the set. */
export function memberPoint(z: ZSet, member: Uint8Array): [number, number] | null {
  const score = z.score(z.isListpack() ? member : str(member));
  return score === undefined ? null : decodeScore(score);
}
