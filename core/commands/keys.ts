/**
 * Generic key commands that work on any type: DEL UNLINK EXISTS TOUCH TYPE
 * KEYS SCAN RANDOMKEY RENAME RENAMENX COPY. They see values only through
 * typeName() and the Collection interface, so every type gets them for free.
 */
import type { CommandDef, Handler, KeySpecDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import type { Db } from "../db/db.ts";
import { is, lower, str } from "../util/bytes.ts";
import { globMatch } from "../util/glob.ts";
import { parseInteger } from "../util/number.ts";
import { ERR, readKey } from "./args.ts";
import { isString, typeName, type Value } from "../types/value.ts";

export const SAME_OBJECT = "ERR source and destination objects are the same";

/** A copy that shares nothing mutable with the original (COPY). */
export function cloneValue(v: Value): Value {
  if (!isString(v)) return v.clone();
  return v instanceof Uint8Array ? v.slice() : v;
}

/**
 * Stores value under key in db, replacing anything there, with the given
 * deadline (undefined: none), and signals the write.
 */
export function putKey(c: Client, db: Db, key: string, value: Value, expireAt: number | undefined, access = -1): void {
  db.set(key, value);
  if (expireAt !== undefined) db.setExpire(key, expireAt);
  // A moved value keeps its access clock, as the same object does in Redis (RENAME, MOVE).
  if (access >= 0) db.data.setAccess(key, access);
  c.engine.keyWritten(db, key);
}

/** Replies an error and returns null, for parsers that return null on failure. */
function fail(c: Client, msg: string): null {
  c.error(msg);
  return null;
}

/**
 * An int argument as Redis's getIntFromObjectOrReply reads it (db indexes):
 * with a custom message, that message for any failure; without, Redis's
 * two texts for "not an integer" and "outside int32".
 */
export function int32Arg(c: Client, arg: Uint8Array, msg?: string): number | null {
  const n = parseInteger(str(arg));
  if (n === null) return fail(c, msg ?? ERR.notInt);
  if (n < -(2 ** 31) || n >= 2 ** 31) {
    return fail(c, msg ?? "ERR value is out of range, value must between -2147483648 and 2147483647");
  }
  return n;
}

function deleteKeys(c: Client, argv: Uint8Array[]): void {
  const db = c.db;
  const now = c.engine.now;
  let deleted = 0;
  for (let i = 1; i < argv.length; i++) {
    const key = str(argv[i]);
    // An expired key is expired first, so it is not counted as deleted.
    if (db.lookup(key, now) !== undefined && db.delete(key)) {
      c.engine.keyWritten(db, key);
      c.engine.notify(db, "del", key, "g");
      deleted++;
    }
  }
  c.out.int(deleted);
}

/** EXISTS (touch false: no access for the keys' LRU/LFU clock) and TOUCH (an access, nothing else). */
const countExisting = (touch: boolean): Handler => (c, argv) => {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (readKey(c, str(argv[i]), touch) !== undefined) n++;
  c.out.int(n);
};

/**
 * SCAN's cursor as Redis reads it (strtoul): optional sign, decimal digits,
 * nothing else, within 64 bits; "-1" wraps around and "" reads as 0.
 * Returns the canonical decimal string, or null after replying the error.
 */
function parseCursor(c: Client, arg: Uint8Array): string | null {
  const m = /^([+-]?)(\d*)$/.exec(str(arg));
  if (m && (m[2] !== "" || m[1] === "")) {
    const v = BigInt(m[2] || "0");
    if (v < 2n ** 64n) return String(m[1] === "-" ? BigInt.asUintN(64, -v) : v);
  }
  return fail(c, "ERR invalid cursor");
}

interface ScanOptions {
  count: number;
  pattern: string | null;
  type: string | null;
}

function parseScanOptions(c: Client, argv: Uint8Array[]): ScanOptions | null {
  const opts: ScanOptions = { count: 10, pattern: null, type: null };
  for (let i = 2; i < argv.length; i += 2) {
    const a = argv[i];
    if (i + 1 >= argv.length) return fail(c, ERR.syntax);
    if (is(a, "count")) {
      const n = parseInteger(str(argv[i + 1]));
      if (n === null) return fail(c, ERR.notInt);
      if (n < 1) return fail(c, ERR.syntax);
      opts.count = n;
    } else if (is(a, "match")) {
      const p = str(argv[i + 1]);
      // "*" alone selects everything, the empty key included, as Redis skips matching for it.
      opts.pattern = p === "*" ? null : p;
    } else if (is(a, "type")) {
      opts.type = lower(str(argv[i + 1]));
    } else return fail(c, ERR.syntax);
  }
  return opts;
}

const scan: Handler = (c, argv) => {
  const cursor = parseCursor(c, argv[1]);
  if (cursor === null) return;
  const opts = parseScanOptions(c, argv);
  if (opts === null) return;
  const db = c.db;
  const now = c.engine.now;
  const found: string[] = [];
  const next = db.scan(c.engine.scans, cursor, opts.count, (key) => {
    if (opts.pattern !== null && !globMatch(opts.pattern, key)) return;
    const v = db.peek(key, now);
    if (v === undefined) return;
    if (opts.type !== null && typeName(v) !== opts.type) return;
    found.push(key);
  });
  c.out.array(2);
  c.out.bulkStr(next);
  c.out.array(found.length);
  for (const key of found) c.out.bulkStr(key);
};

const keys: Handler = (c, argv) => {
  const pattern = str(argv[1]);
  const all = pattern === "*";
  const db = c.db;
  const now = c.engine.now;
  const found: string[] = [];
  for (const key of db.data.keys()) {
    // Redis expires nothing while loading: during a replica's async load KEYS lists keys past their deadline too.
    if ((all || globMatch(pattern, key)) && (!db.pastDeadline(key, now) || c.engine.loading !== null)) found.push(key);
  }
  c.out.array(found.length);
  for (const key of found) c.out.bulkStr(key);
};

/** RENAME and RENAMENX; nx replies 1/0 instead of OK. */
function rename(c: Client, argv: Uint8Array[], nx: boolean): void {
  const from = str(argv[1]);
  const to = str(argv[2]);
  const db = c.db;
  const now = c.engine.now;
  const value = db.lookup(from, now);
  if (value === undefined) return c.error(ERR.noKey);
  const reply = (done: boolean) => (nx ? c.out.int(done ? 1 : 0) : c.out.ok());
  // Renaming a key to itself changes nothing, and RENAMENX sees the target as taken.
  if (from === to) return reply(false);
  if (db.lookup(to, now) !== undefined) {
    if (nx) return reply(false);
    db.delete(to);
  }
  const expireAt = db.ttl(from);
  const access = db.data.accessOf(from);
  db.delete(from);
  c.engine.keyWritten(db, from);
  putKey(c, db, to, value, expireAt, access);
  c.engine.notify(db, "rename_from", from, "g");
  c.engine.notify(db, "rename_to", to, "g");
  reply(true);
}

const copy: Handler = (c, argv) => {
  const engine = c.engine;
  let dst = c.db;
  let replace = false;
  for (let i = 3; i < argv.length; i++) {
    if (is(argv[i], "replace")) replace = true;
    else if (is(argv[i], "db") && i + 1 < argv.length) {
      const id = int32Arg(c, argv[++i]);
      if (id === null) return;
      if (id < 0 || id >= engine.dbs.length) return c.error(ERR.dbIndex);
      dst = engine.dbs[id];
    } else return c.error(ERR.syntax);
  }
  if (engine.cluster !== null && (c.db.id !== 0 || dst.id !== 0)) return c.error("ERR Copying to another database is not allowed in cluster mode");
  const from = str(argv[1]);
  const to = str(argv[2]);
  if (dst === c.db && from === to) return c.error(SAME_OBJECT);
  const value = readKey(c, from);
  if (value === undefined) return c.out.int(0);
  if (dst.lookup(to, engine.now) !== undefined) {
    if (!replace) return c.out.int(0);
    dst.delete(to);
  }
  putKey(c, dst, to, cloneValue(value), c.db.ttl(from));
  c.engine.notify(dst, "copy_to", to, "g");
  c.out.int(1);
};

const KEYSPACE = "keyspace";

/** Key specs of a source key at 1 and a destination key at 2 (RENAME, COPY). */
function twoKeySpecs(source: string, destination: string): KeySpecDef[] {
  return [
    { flags: source, begin: 1, find: { range: [0, 1, 0] } },
    { flags: destination, begin: 2, find: { range: [0, 1, 0] } },
  ];
}

export const keyCommands: CommandDef[] = [
  {
    name: "del",
    arity: -2,
    flags: "write",
    keys: [1, -1, 1],
    keySpec: "RM delete",
    tips: "request_policy:multi_shard response_policy:agg_sum",
    acl: KEYSPACE,
    group: "generic",
    since: "1.0.0",
    summary: "Delete a key",
    complexity:
      "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
    run: deleteKeys,
  },
  {
    name: "unlink",
    arity: -2,
    flags: "write fast",
    keys: [1, -1, 1],
    keySpec: "RM delete",
    tips: "request_policy:multi_shard response_policy:agg_sum",
    acl: KEYSPACE,
    group: "generic",
    since: "4.0.0",
    summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
    complexity:
      "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
    run: deleteKeys,
  },
  {
    name: "exists",
    arity: -2,
    flags: "readonly fast",
    keys: [1, -1, 1],
    keySpec: "RO",
    tips: "request_policy:multi_shard response_policy:agg_sum",
    acl: KEYSPACE,
    group: "generic",
    since: "1.0.0",
    summary: "Determine if a key exists",
    complexity: "O(N) where N is the number of keys to check.",
    run: countExisting(false),
  },
  {
    name: "touch",
    arity: -2,
    flags: "readonly fast",
    keys: [1, -1, 1],
    keySpec: "RO",
    tips: "request_policy:multi_shard response_policy:agg_sum",
    acl: KEYSPACE,
    group: "generic",
    since: "3.2.1",
    summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.",
    complexity: "O(N) where N is the number of keys that will be touched.",
    run: countExisting(true),
  },
  {
    name: "type",
    arity: 2,
    flags: "readonly fast",
    keys: [1, 1, 1],
    keySpec: "RO",
    acl: KEYSPACE,
    group: "generic",
    since: "1.0.0",
    summary: "Determine the type stored at key",
    run(c, argv) {
      const v = readKey(c, str(argv[1]), false);
      c.out.simple(v === undefined ? "none" : typeName(v));
    },
  },
  {
    name: "keys",
    arity: 2,
    flags: "readonly",
    tips: "request_policy:all_shards nondeterministic_output_order",
    acl: `${KEYSPACE} dangerous`,
    group: "generic",
    since: "1.0.0",
    summary: "Find all keys matching the given pattern",
    complexity:
      "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
    run: keys,
  },
  {
    name: "scan",
    arity: -2,
    flags: "readonly",
    tips: "nondeterministic_output request_policy:special",
    acl: KEYSPACE,
    group: "generic",
    since: "2.8.0",
    summary: "Incrementally iterate the keys space",
    complexity:
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    run: scan,
  },
  {
    name: "randomkey",
    arity: 1,
    flags: "readonly",
    tips: "request_policy:all_shards nondeterministic_output",
    acl: KEYSPACE,
    group: "generic",
    since: "1.0.0",
    summary: "Return a random key from the keyspace",
    run(c) {
      const key = c.db.randomKey(c.engine.now);
      if (key === null) c.out.nullBulk();
      else c.out.bulkStr(key);
    },
  },
  {
    name: "rename",
    arity: 3,
    flags: "write",
    keys: [1, 2, 1],
    keySpecs: twoKeySpecs("RW access delete", "OW update"),
    acl: KEYSPACE,
    group: "generic",
    since: "1.0.0",
    summary: "Rename a key",
    run: (c, argv) => rename(c, argv, false),
  },
  {
    name: "renamenx",
    arity: 3,
    flags: "write fast",
    keys: [1, 2, 1],
    keySpecs: twoKeySpecs("RW access delete", "OW insert"),
    acl: KEYSPACE,
    group: "generic",
    since: "1.0.0",
    summary: "Rename a key, only if the new key does not exist",
    run: (c, argv) => rename(c, argv, true),
  },
  {
    name: "copy",
    arity: -3,
    flags: "write denyoom",
    keys: [1, 2, 1],
    keySpecs: twoKeySpecs("RO access", "OW update"),
    acl: KEYSPACE,
    group: "generic",
    since: "6.2.0",
    summary: "Copy a key",
    complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
    run: copy,
  },
];
