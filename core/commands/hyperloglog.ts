/**
 * The HyperLogLog commands: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST. An
 * HLL is a string value holding Redis's sparse or dense bytes (see
 * core/types/hyperloglog.ts), so GET/SET, DUMP/RESTORE, RDB and AOF move
 * it to and from redis-server unchanged. As in Redis, a command that
 * touches an HLL first makes its value a byte string of its own ("raw"),
 * PFCOUNT writes the cardinality it computes back into the header (and so
 * counts as a write to propagate), and PFMERGE fires a `pfadd` event.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { bytes, lower, str } from "../util/bytes.ts";
import { ERR, readKey } from "./args.ts";
import { isString, type Value } from "../types/value.ts";
import {
  cachedCard, count, countRaw, decodeSparse, encodingOf, HLL_DENSE, HLL_REGISTERS, HllEdit,
  invalidateCache, isHll, mergeInto, registers, replyCard, sparseToDense, storeCard, validCache,
} from "../types/hyperloglog.ts";
import { hllSelfTest } from "../types/hll-selftest.ts";

const NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPTED = "INVALIDOBJ Corrupted HLL object detected";

/** The HLL bytes of a value, or null with the error sent (isHLLObjectOrReply). Integers are never HLLs. */
function hllBytes(c: Client, v: Value): Uint8Array | null {
  if (!isString(v)) {
    c.error(ERR.wrongType);
    return null;
  }
  const b = typeof v === "string" ? bytes(v) : typeof v === "number" ? null : v;
  if (b === null || !isHll(b)) {
    c.error(NOT_HLL);
    return null;
  }
  return b;
}

/**
 * The HLL at key for a command that may change it in place: its bytes,
 * stored back as a byte string when held in another form (Redis's
 * dbUnshareStringValue); null with the error sent.
 */
function ownHll(c: Client, key: string, v: Value): Uint8Array | null {
  const b = hllBytes(c, v);
  if (b !== null && b !== v) c.db.set(key, b, true);
  return b;
}

function sparseMax(c: Client): number {
  return c.engine.config.num("hll-sparse-max-bytes");
}

function pfadd(c: Client, argv: Uint8Array[]): void {
  const key = str(argv[1]);
  const v = c.db.lookup(key, c.engine.now);
  let b: Uint8Array | null = null;
  let updated = 0;
  if (v === undefined) updated++;
  else if ((b = ownHll(c, key, v)) === null) return;
  const max = sparseMax(c);
  const edit = new HllEdit(b, argv.length - 2, max);
  for (let j = 2; j < argv.length; j++) {
    const r = edit.add(argv[j], max);
    if (r === 1) updated++;
    else if (r === -1) {
      // What was changed before the corrupted part stays changed, as in Redis.
      const partial = edit.value();
      if (partial !== b) c.db.set(key, partial, true);
      return c.error(CORRUPTED);
    }
  }
  const out = edit.value();
  if (out !== b || v === undefined) c.db.set(key, out, true);
  if (updated) {
    invalidateCache(out);
    c.engine.keyWritten(c.db, key);
    c.engine.notify(c.db, "pfadd", key, "$");
  }
  c.out.int(updated ? 1 : 0);
}

/** PFCOUNT of one key: the cached cardinality, or a fresh one written back into the header. */
function countOne(c: Client, key: string): void {
  const v = readKey(c, key);
  if (v === undefined) return c.out.int(0);
  const b = ownHll(c, key, v);
  if (b === null) return;
  if (validCache(b)) return c.out.int(cachedCard(b));
  const card = count(b);
  if (card === null) return c.error(CORRUPTED);
  storeCard(b, card);
  // A read that changed the value: watchers and replicas hear of it, as in Redis.
  c.engine.keyWritten(c.db, key);
  c.out.int(replyCard(card));
}

/** Registers of every existing HLL among argv[from..], maxed one per byte; null with the error sent. */
function unionOf(c: Client, argv: Uint8Array[], from: number): { max: Uint8Array; dense: boolean } | null {
  const max = new Uint8Array(HLL_REGISTERS);
  let dense = false;
  for (let j = from; j < argv.length; j++) {
    const v = readKey(c, str(argv[j]));
    if (v === undefined) continue;
    const b = hllBytes(c, v);
    if (b === null) return null;
    if (encodingOf(b) === HLL_DENSE) dense = true;
    if (!mergeInto(b, max)) {
      c.error(CORRUPTED);
      return null;
    }
  }
  return { max, dense };
}

function pfmerge(c: Client, argv: Uint8Array[]): void {
  const union = unionOf(c, argv, 1);
  if (union === null) return;
  const key = str(argv[1]);
  const v = c.db.lookup(key, c.engine.now);
  const { max } = union;
  const limit = sparseMax(c);
  let sets = 0;
  for (let j = 0; j < HLL_REGISTERS; j++) if (max[j] !== 0) sets++;
  // An existing destination was checked as the first source already.
  const edit = new HllEdit(v === undefined ? null : hllBytes(c, v)!, sets, limit);
  // The destination goes dense at once when any input is; a valid one always converts.
  if (union.dense) edit.toDense();
  for (let j = 0; j < HLL_REGISTERS; j++) if (max[j] !== 0) edit.set(j, max[j], limit);
  const out = edit.value();
  invalidateCache(out);
  if (out !== v) c.db.set(key, out, true);
  c.engine.keyWritten(c.db, key);
  c.engine.notify(c.db, "pfadd", key, "$");
  c.out.ok();
}

/** Turns the sparse HLL at key dense for PFDEBUG; false with the error sent when corrupted. */
function debugToDense(c: Client, key: string, b: Uint8Array): Uint8Array | null {
  const dense = sparseToDense(b);
  if (dense === null) {
    c.error(CORRUPTED);
    return null;
  }
  c.db.set(key, dense, true);
  c.engine.dirty++; // an encoding change to propagate, as Redis forces
  return dense;
}

function pfdebug(c: Client, argv: Uint8Array[]): void {
  const key = str(argv[2]);
  const v = c.db.lookup(key, c.engine.now);
  if (v === undefined) return c.error("ERR The specified key does not exist");
  let b = ownHll(c, key, v);
  if (b === null) return;
  const sub = lower(str(argv[1]));
  const sparse = encodingOf(b) !== HLL_DENSE;
  if (sub === "getreg") {
    if (sparse && (b = debugToDense(c, key, b)) === null) return;
    const regs = registers(b);
    c.out.array(regs.length);
    for (const r of regs) c.out.int(r);
  } else if (sub === "decode") {
    if (!sparse) return c.error("ERR HLL encoding is not sparse");
    c.out.bulkStr(decodeSparse(b));
  } else if (sub === "encoding") {
    c.out.simple(sparse ? "sparse" : "dense");
  } else if (sub === "todense") {
    if (sparse && debugToDense(c, key, b) === null) return;
    c.out.int(sparse ? 1 : 0);
  } else {
    c.error(`ERR Unknown PFDEBUG subcommand '${str(argv[1])}'`);
  }
}

const base = { acl: "hyperloglog", group: "hyperloglog", since: "2.8.9" };

export const hyperloglogCommands: CommandDef[] = [
  {
    ...base,
    name: "pfadd",
    arity: -2,
    flags: "write denyoom fast",
    keys: [1, 1, 1],
    keySpec: "RW insert",
    summary: "Adds the specified elements to the specified HyperLogLog.",
    complexity: "O(1) to add every element.",
    run: pfadd,
  },
  {
    ...base,
    name: "pfcount",
    arity: -2,
    flags: "readonly",
    keys: [1, -1, 1],
    keySpecs: [{
      flags: "RW access",
      notes: "RW because it may change the internal representation of the key, and propagate to replicas",
      begin: 1,
      find: { range: [-1, 1, 0] },
    }],
    summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
    complexity:
      "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
    run(c, argv) {
      if (argv.length === 2) return countOne(c, str(argv[1]));
      const union = unionOf(c, argv, 1);
      if (union !== null) c.out.int(replyCard(countRaw(union.max)));
    },
  },
  {
    ...base,
    name: "pfmerge",
    arity: -2,
    flags: "write denyoom",
    keys: [1, -1, 1],
    keySpecs: [
      { flags: "RW access insert", begin: 1, find: { range: [0, 1, 0] } },
      { flags: "RO access", begin: 2, find: { range: [-1, 1, 0] } },
    ],
    summary: "Merge N different HyperLogLogs into a single one.",
    complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
    run: pfmerge,
  },
  {
    ...base,
    name: "pfdebug",
    arity: 3,
    flags: "write denyoom admin",
    keys: [2, 2, 1],
    keySpec: "RW access",
    summary: "Internal commands for debugging HyperLogLog values",
    complexity: "N/A",
    run: pfdebug,
  },
  {
    ...base,
    name: "pfselftest",
    arity: 1,
    flags: "admin",
    summary: "An internal command for testing HyperLogLog values",
    complexity: "N/A",
    run(c) {
      const failed = hllSelfTest(sparseMax(c));
      if (failed === null) c.out.ok();
      else c.error(failed);
    },
  },
];
