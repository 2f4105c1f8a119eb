/**
 * DEBUG DIGEST and DEBUG DIGEST-VALUE: Redis's dataset fingerprint, computed
 * the same way so a digest from Respite equals redis-server's for the same
 * data (tests and tools compare primaries, replicas and reloads with it).
 *
 * Two 20-byte operations build it. xor(d, s) XORs SHA1(s) into d: order does
 * not matter, so it sums unordered things (set members, hash and zset
 * entries, the keys of a db). mix(d, s) does xor then d = SHA1(d): order
 * matters, so it chains ordered things (a key then its value, list
 * elements). Every element is hashed as its string form: integers in
 * decimal, sorted-set scores as printf("%.17g"). A key with a deadline adds
 * "!!expire!!"; the deadline itself is not part of the digest.
 */
import type { Db } from "../db/db.ts";
import { isString, type Value } from "../types/value.ts";
import type { ListValue } from "../types/list.ts";
import type { HashValue } from "../types/hash.ts";
import type { SetValue } from "../types/set.ts";
import type { ZSet } from "../types/zset.ts";
import type { Stream } from "../types/stream.ts";
import { formatDouble } from "../util/number.ts";
import { hex, sha1 } from "../scripting/sha1.ts";

type Digest = Uint8Array;
type Data = Uint8Array | string;

/** Redis's OBJ_* type codes, hashed big-endian in front of each value. */
const TYPE_CODE: Record<string, number> = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 6 };

const scratch = new Uint8Array(20);

function xor(d: Digest, s: Data): void {
  const h = sha1(s, scratch);
  for (let i = 0; i < 20; i++) d[i] ^= h[i];
}

function mix(d: Digest, s: Data): void {
  xor(d, s);
  sha1(d, d);
}

/** A string value's bytes as Redis hashes them (integers in decimal). */
function text(v: string | number | Uint8Array): Data {
  return typeof v === "number" ? String(v) : v;
}

/** A pair (hash field and value, zset member and score) digested on its own, then summed into d. */
function xorPair(d: Digest, a: Data, b: Data): void {
  const pair = new Uint8Array(20);
  mix(pair, a);
  mix(pair, b);
  xor(d, pair);
}

function int32be(n: number): string {
  return String.fromCharCode((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** Redis's xorObjectDigest: mixes the value's type, its content and the presence of a deadline into d. */
function valueInto(d: Digest, v: Value, expires: boolean): void {
  mix(d, int32be(TYPE_CODE[isString(v) ? "string" : v.type]));
  if (isString(v)) mix(d, text(v));
  else if (v.type === "list") (v as ListValue).walk(0, false, (node, pos) => (mix(d, node.value(pos)), true));
  else if (v.type === "set") for (const m of (v as SetValue).members()) xor(d, m);
  else if (v.type === "zset") (v as ZSet).forEach((m, score) => xorPair(d, m, formatDouble(score)));
  else if (v.type === "hash") (v as HashValue).forEach((f, val) => xorPair(d, f, text(val)));
  else if (v.type === "stream") {
    (v as Stream).forEach((id, fields) => {
      mix(d, `${id.ms}.${id.seq}`);
      for (const x of fields) mix(d, x);
    });
  }
  if (expires) xor(d, "!!expire!!");
}

/** DEBUG DIGEST-VALUE for one key: forty zeros when missing. */
export function valueDigest(db: Db, key: string): string {
  const d = new Uint8Array(20);
  const v = db.data.get(key);
  if (v !== undefined) valueInto(d, v, db.ttl(key) !== undefined);
  return hex(d);
}

/** DEBUG DIGEST: every key of every db, keys past their deadline included, as Redis walks its dicts. */
export function datasetDigest(dbs: Db[]): string {
  const final = new Uint8Array(20);
  const d = new Uint8Array(20);
  for (const db of dbs) {
    if (db.size === 0) continue;
    mix(final, int32be(db.id));
    const data = db.data;
    const walk = data.walk();
    while (data.advance(walk)) {
      const key = data.keyAt(walk);
      d.fill(0);
      mix(d, key);
      valueInto(d, data.valueAt(walk), db.ttl(key) !== undefined);
      xor(final, d);
      walk.slot++;
    }
  }
  return hex(final);
}
