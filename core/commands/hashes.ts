/**
 * Hash commands: HSET HSETNX HGET HMGET HMSET HDEL HLEN HSTRLEN HEXISTS
 * HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN. Every lookup
 * goes through readHash/writableHash, which first drop fields past their
 * own deadline (hash-fields.ts), so no command ever sees them.
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { ERR, lent, readLent } from "./args.ts";
import { HashValue, type HashLimits, packedEach, packedField, packedFields, packedValue } from "../types/hash.ts";
import { LENT } from "../db/sharded-map.ts";
import { PACKED_HASH } from "../db/db.ts";
import type { StringValue, Value } from "../types/value.ts";
import { purgeHash } from "../db/field-expiry.ts";
import { addLongDouble, formatLongDouble, longDoubleFromInteger, parseLongDouble } from "../util/longdouble.ts";
import {
  fail,
  fromConfig,
  matches,
  parseScanCursor,
  parseScanOptions,
  replyScan,
  sampleIndices,
  signedCount,
} from "./collection-args.ts";

export const hashLimits = fromConfig(
  ["hash-max-listpack-entries", "hash-max-listpack-value"],
  (config): HashLimits => ({ entries: config.num("hash-max-listpack-entries"), value: config.num("hash-max-listpack-value") }),
);

function checkHash(c: Client, key: string, v: Value | undefined): HashValue | undefined | null {
  if (v === undefined) return undefined;
  if (!(v instanceof HashValue)) return fail(c, ERR.wrongType);
  if (!v.hasDeadlines()) return v;
  c.db.fieldDeadlines.add(key);
  return purgeHash(c.engine, c.db, key, v);
}

/**
 * A hash for a read: undefined when missing, null (WRONGTYPE sent) when
 * another type. A hash the keyspace keeps as bytes comes as a copy read in
 * place (HashValue.lentCopy), so callers must not change what they get.
 */
export function readHash(c: Client, key: string): HashValue | undefined | null {
  const h = readHashLent(c, key);
  return h === LENT ? HashValue.lentCopy(lent.bytes, lent.at, lent.length) : h;
}

/** Like readHash for writes: no hit/miss counting. */
export function writableHash(c: Client, key: string): HashValue | undefined | null {
  return checkHash(c, key, c.db.lookup(key, c.engine.now));
}

/** The hash at key for a write that adds fields, created when missing; null after WRONGTYPE. */
function hashToFill(c: Client, key: string): HashValue | null {
  const h = writableHash(c, key);
  if (h === null) return null;
  if (h !== undefined) return h;
  const created = new HashValue();
  c.db.set(key, created);
  return created;
}

/** A write to the hash at key, announced as Redis names it (hset for HSETNX and HMSET too). */
export function hashWritten(c: Client, key: string, event: string): void {
  c.engine.notify(c.db, event, key, "h");
  c.engine.keyWritten(c.db, key);
}

/** After fields left the hash through `event`: an emptied hash deletes its key, with Redis's del event after it. */
export function fieldsRemoved(c: Client, key: string, h: HashValue, event: string): void {
  c.engine.notify(c.db, event, key, "h");
  if (h.size === 0) {
    c.db.delete(key);
    c.engine.notify(c.db, "del", key, "g");
  }
  c.engine.keyWritten(c.db, key);
}

const hset = (replyOk: boolean): Handler => (c, argv) => {
  if (argv.length % 2 === 1) return c.error(`ERR wrong number of arguments for '${replyOk ? "hmset" : "hset"}' command`);
  const key = str(argv[1]);
  const h = hashToFill(c, key);
  if (h === null) return;
  const added = h.setPairs(argv, 2, hashLimits(c));
  hashWritten(c, key, "hset");
  if (replyOk) c.out.ok();
  else c.out.int(added);
};

const hsetnx: Handler = (c, argv) => {
  const key = str(argv[1]);
  const h = hashToFill(c, key);
  if (h === null) return;
  const field = str(argv[2]);
  if (h.has(field)) return c.out.int(0);
  h.set(field, argv[3], hashLimits(c));
  hashWritten(c, key, "hset");
  c.out.int(1);
};

/**
 * readHash() for reads that copy fields out (HGET, HLEN, HGETALL...): LENT
 * when the keyspace keeps the hash as bytes (in `lent`, read by hash.ts's
 * packed* functions: no hash object, and nothing to pack again afterwards).
 */
function readHashLent(c: Client, key: string): HashValue | typeof LENT | undefined | null {
  const v = readLent(c, key, PACKED_HASH);
  return v === LENT || v === null ? v : checkHash(c, key, v);
}

/** The value of field in the hash readHashLent() gave, as a bulk reply (null when absent). */
function replyField(c: Client, h: HashValue | typeof LENT | undefined, field: Uint8Array): void {
  if (h === LENT) {
    if (!packedField(lent.bytes, lent.at, lent.length, field)) return c.out.nullBulk();
    return c.out.bulkFrom(lent.bytes, packedValue.valueStart, packedValue.valueEnd - packedValue.valueStart);
  }
  const v = h?.get(str(field));
  if (v === undefined) c.out.nullBulk();
  else c.out.bulkValue(v);
}

const hget: Handler = (c, argv) => {
  const h = readHashLent(c, str(argv[1]));
  if (h !== null) replyField(c, h, argv[2]);
};

const hmget: Handler = (c, argv) => {
  const h = readHashLent(c, str(argv[1]));
  if (h === null) return;
  c.out.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) replyField(c, h, argv[i]);
};

const hdel: Handler = (c, argv) => {
  const key = str(argv[1]);
  const h = writableHash(c, key);
  if (h === null) return;
  let removed = 0;
  if (h !== undefined) {
    for (let i = 2; i < argv.length && h.size > 0; i++) if (h.delete(str(argv[i]))) removed++;
    if (removed > 0) fieldsRemoved(c, key, h, "hdel");
  }
  c.out.int(removed);
};

/** A number about one hash (0 when missing): inPlace answers for a hash kept as bytes (in `lent`), fn for the object. */
const hashInt = (
  inPlace: (argv: Uint8Array[]) => number,
  fn: (h: HashValue, argv: Uint8Array[]) => number,
): Handler =>
(c, argv) => {
  const h = readHashLent(c, str(argv[1]));
  if (h === null) return;
  c.out.int(h === undefined ? 0 : h === LENT ? inPlace(argv) : fn(h, argv));
};

const hlen = hashInt(() => packedFields(lent.bytes, lent.at), (h) => h.size);
const hstrlen = hashInt(
  (argv) => (packedField(lent.bytes, lent.at, lent.length, argv[2]) ? packedValue.valueEnd - packedValue.valueStart : 0),
  (h, argv) => h.valueLength(str(argv[2])),
);
const hexists = hashInt(
  (argv) => (packedField(lent.bytes, lent.at, lent.length, argv[2]) ? 1 : 0),
  (h, argv) => (h.has(str(argv[2])) ? 1 : 0),
);

type Part = "keys" | "values" | "all";
const hgetallLike = (part: Part): Handler => (c, argv) => {
  const h = readHashLent(c, str(argv[1]));
  if (h === null) return;
  const n = h === undefined ? 0 : h === LENT ? packedFields(lent.bytes, lent.at) : h.size;
  if (part === "all") c.out.map(n);
  else c.out.array(n);
  if (h === LENT) {
    const bytes = lent.bytes;
    packedEach(bytes, lent.at, lent.length, (fieldStart, fieldEnd, valueStart, valueEnd) => {
      if (part !== "values") c.out.bulkFrom(bytes, fieldStart, fieldEnd - fieldStart);
      if (part !== "keys") c.out.bulkFrom(bytes, valueStart, valueEnd - valueStart);
    });
  } else {
    h?.forEach((f, v) => {
      if (part !== "values") c.out.bulkStr(f);
      if (part !== "keys") c.out.bulkValue(v);
    });
  }
};

const MAX_INT64 = 2n ** 63n - 1n;
const MIN_INT64 = -(2n ** 63n);

const hincrby: Handler = (c, argv) => {
  const incr = parseInt64(str(argv[3]));
  if (incr === null) return c.error(ERR.notInt);
  const key = str(argv[1]);
  const h = hashToFill(c, key);
  if (h === null) return;
  const field = str(argv[2]);
  const old = h.get(field);
  let value = 0n;
  if (old !== undefined) {
    const parsed = typeof old === "number" ? BigInt(old) : parseInt64(typeof old === "string" ? old : str(old));
    if (parsed === null) return c.error("ERR hash value is not an integer");
    value = parsed;
  }
  const sum = value + incr;
  if (sum > MAX_INT64 || sum < MIN_INT64) return c.error(ERR.overflow);
  h.set(field, String(sum), hashLimits(c));
  hashWritten(c, key, "hincrby");
  c.out.int(sum);
};

const hincrbyfloat: Handler = (c, argv) => {
  const incr = parseLongDouble(str(argv[3]));
  if (incr === null) return c.error(ERR.notFloat);
  if (incr.inf) return c.error("ERR value is NaN or Infinity");
  const key = str(argv[1]);
  const h = hashToFill(c, key);
  if (h === null) return;
  const field = str(argv[2]);
  const old = h.get(field);
  let value = longDoubleFromInteger(0);
  if (old !== undefined) {
    const parsed = typeof old === "number" ? longDoubleFromInteger(old) : parseLongDouble(typeof old === "string" ? old : str(old));
    if (parsed === null) return c.error("ERR hash value is not a float");
    value = parsed;
  }
  const sum = addLongDouble(value, incr);
  if (sum === null || sum.inf) return c.error("ERR increment would produce NaN or Infinity");
  const text = formatLongDouble(sum);
  h.set(field, text, hashLimits(c));
  hashWritten(c, key, "hincrbyfloat");
  if (c.engine.propagation.on) c.engine.propagation.rewrite(["HSET", argv[1], argv[2], text]);
  c.out.bulkStr(text);
};

/** Field/value pairs: flat in RESP2, [field, value] arrays in RESP3, as HRANDFIELD replies. */
function replyPairs(c: Client, fields: string[], values: StringValue[] | null): void {
  if (values === null) {
    c.out.array(fields.length);
    for (const f of fields) c.out.bulkStr(f);
    return;
  }
  const resp3 = c.resp === 3;
  c.out.array(resp3 ? fields.length : fields.length * 2);
  for (let i = 0; i < fields.length; i++) {
    if (resp3) c.out.array(2);
    c.out.bulkStr(fields[i]);
    c.out.bulkValue(values[i]);
  }
}

const HALF_INT64 = 4611686018427387903n;

const hrandfield: Handler = (c, argv) => {
  if (argv.length === 2) {
    const h = readHash(c, str(argv[1]));
    if (h === null) return;
    if (h === undefined) return c.out.nullBulk();
    return c.out.bulkStr(h.entryAtIndex(Math.floor(Math.random() * h.size))[0]);
  }
  const bigCount = signedCount(c, argv[2]);
  if (bigCount === null) return;
  if (argv.length > 4 || (argv.length === 4 && !is(argv[3], "withvalues"))) return c.error(ERR.syntax);
  const withValues = argv.length === 4;
  if (withValues && (bigCount < -HALF_INT64 || bigCount > HALF_INT64)) return c.error("ERR value is out of range");
  const count = Number(bigCount);
  const h = readHash(c, str(argv[1]));
  if (h === null) return;
  if (h === undefined || count === 0) return c.out.array(0);
  const [allFields, allValues] = h.columns();
  let picks: number[];
  if (count < 0) {
    picks = new Array(-count);
    for (let i = 0; i < picks.length; i++) picks[i] = Math.floor(Math.random() * allFields.length);
  } else if (count >= allFields.length) {
    picks = Array.from({ length: allFields.length }, (_, i) => i);
  } else picks = sampleIndices(allFields.length, count);
  replyPairs(c, picks.map((i) => allFields[i]), withValues ? picks.map((i) => allValues[i]) : null);
};

const hscan: Handler = (c, argv) => {
  const cursor = parseScanCursor(c, argv[2]);
  if (cursor === null) return;
  const h = readHash(c, str(argv[1]));
  if (h === null) return;
  if (h === undefined) return replyScan(c, 0, []);
  const call = parseScanOptions(c, argv, cursor);
  if (call === null) return;
  const out: string[] = [];
  const visit = (field: string, value: StringValue) => {
    if (!matches(call, field)) return;
    out.push(field, typeof value === "string" ? value : typeof value === "number" ? String(value) : str(value));
  };
  let next = 0;
  const table = h.dense();
  // Compact encodings are returned whole in one call, as Redis does.
  if (table) next = table.scanDown(cursor, call.count, (i) => visit(table.keys[i], table.values![i]));
  else h.forEach(visit);
  replyScan(c, next, out);
};

const key1: Pick<CommandDef, "keys" | "acl" | "group"> = { keys: [1, 1, 1], acl: "hash", group: "hash" };

export const hashCommands: CommandDef[] = [
  { name: "hset", arity: -4, flags: "write denyoom fast", ...key1, since: "2.0.0", run: hset(false),
    summary: "Creates or modifies the value of a field in a hash.", complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs." },
  { name: "hmset", arity: -4, flags: "write denyoom fast", ...key1, since: "2.0.0", run: hset(true),
    summary: "Sets the values of multiple fields.", complexity: "O(N) where N is the number of fields being set." },
  { name: "hsetnx", arity: 4, flags: "write denyoom fast", ...key1, keySpec: "RW insert", since: "2.0.0", run: hsetnx,
    summary: "Sets the value of a field in a hash only when the field doesn't exist." },
  { name: "hget", arity: 3, flags: "readonly fast", ...key1, since: "2.0.0", run: hget,
    summary: "Returns the value of a field in a hash." },
  { name: "hmget", arity: -3, flags: "readonly fast", ...key1, since: "2.0.0", run: hmget,
    summary: "Returns the values of all fields in a hash.", complexity: "O(N) where N is the number of fields being requested." },
  { name: "hdel", arity: -3, flags: "write fast", ...key1, keySpec: "RW delete", since: "2.0.0", run: hdel,
    summary: "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", complexity: "O(N) where N is the number of fields to be removed." },
  { name: "hlen", arity: 2, flags: "readonly fast", ...key1, keySpec: "RO", since: "2.0.0", run: hlen,
    summary: "Returns the number of fields in a hash." },
  { name: "hstrlen", arity: 3, flags: "readonly fast", ...key1, keySpec: "RO", since: "3.2.0",
    run: hstrlen, summary: "Returns the length of the value of a field." },
  { name: "hexists", arity: 3, flags: "readonly fast", ...key1, keySpec: "RO", since: "2.0.0",
    run: hexists, summary: "Determines whether a field exists in a hash." },
  { name: "hkeys", arity: 2, flags: "readonly", ...key1, tips: "nondeterministic_output_order", since: "2.0.0", run: hgetallLike("keys"),
    summary: "Returns all fields in a hash.", complexity: "O(N) where N is the size of the hash." },
  { name: "hvals", arity: 2, flags: "readonly", ...key1, tips: "nondeterministic_output_order", since: "2.0.0", run: hgetallLike("values"),
    summary: "Returns all values in a hash.", complexity: "O(N) where N is the size of the hash." },
  { name: "hgetall", arity: 2, flags: "readonly", ...key1, tips: "nondeterministic_output_order", since: "2.0.0", run: hgetallLike("all"),
    summary: "Returns all fields and values in a hash.", complexity: "O(N) where N is the size of the hash." },
  { name: "hincrby", arity: 4, flags: "write denyoom fast", ...key1, keySpec: "RW access update", since: "2.0.0", run: hincrby,
    summary: "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist." },
  { name: "hincrbyfloat", arity: 4, flags: "write denyoom fast", ...key1, keySpec: "RW access update", since: "2.6.0", run: hincrbyfloat,
    summary: "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist." },
  { name: "hrandfield", arity: -2, flags: "readonly", ...key1, tips: "nondeterministic_output", since: "6.2.0", run: hrandfield,
    summary: "Returns one or more random fields from a hash.", complexity: "O(N) where N is the number of fields returned" },
  { name: "hscan", arity: -3, flags: "readonly", ...key1, tips: "nondeterministic_output", since: "2.8.0", run: hscan,
    summary: "Iterates over fields and values of a hash.", complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the size of the collection inside." },
];
