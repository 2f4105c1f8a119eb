/**
 * Set algebra: SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
 * SDIFFSTORE. Results are built as a new set with SADD's rules, so they
 * come out as an intset (numeric order) exactly when Redis's would.
 */
import type { CommandDef, KeySpecDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { ERR, readKey } from "./args.ts";
import { SetValue } from "../types/set.ts";
import { checkSet, intsetLimit, replyMembers } from "./sets.ts";

type Op = "inter" | "union" | "diff";

/**
 * Looks every key up (for a write when storing, so no hit/miss counting)
 * and checks all types first, as Redis does; null after WRONGTYPE.
 */
function lookupAll(c: Client, keys: Uint8Array[], storing: boolean): Array<SetValue | undefined> | null {
  const sets: Array<SetValue | undefined> = [];
  for (const k of keys) {
    const key = str(k);
    const s = checkSet(c, storing ? c.db.lookup(key, c.engine.now) : readKey(c, key));
    if (s === null) return null;
    sets.push(s);
  }
  return sets;
}

/**
 * Members of the intersection, walking the smallest set (stable for equal
 * sizes) and stopping at limit (0 = no limit).
 */
function intersect(sets: Array<SetValue | undefined>, limit = 0): string[] {
  if (sets.some((s) => s === undefined)) return [];
  const sorted = (sets as SetValue[]).slice().sort((a, b) => a.size - b.size);
  const [smallest, ...rest] = sorted;
  const out: string[] = [];
  for (let i = 0; i < smallest.size; i++) {
    const m = smallest.memberAt(i);
    if (rest.every((s) => s.has(m))) {
      out.push(m);
      if (out.length === limit) break;
    }
  }
  return out;
}

function combine(op: Op, sets: Array<SetValue | undefined>, maxIntset: number): SetValue {
  const result = new SetValue();
  if (op === "inter") {
    for (const m of intersect(sets)) result.add(m, maxIntset);
  } else if (op === "union") {
    for (const s of sets) if (s) for (let i = 0; i < s.size; i++) result.add(s.memberAt(i), maxIntset);
  } else {
    const [first, ...rest] = sets;
    if (first) {
      for (let i = 0; i < first.size; i++) {
        const m = first.memberAt(i);
        if (rest.every((s) => s === undefined || !s.has(m))) result.add(m, maxIntset);
      }
    }
  }
  return result;
}

/** SINTER SUNION SDIFF. */
const compute = (op: Op) => (c: Client, argv: Uint8Array[]) => {
  const sets = lookupAll(c, argv.slice(1), false);
  if (sets === null) return;
  const result = op === "inter" ? intersect(sets) : combine(op, sets, intsetLimit(c)).members();
  // An intersection walks its smallest input, whose order Redis keeps; the others reply from the built set.
  replyMembers(c, result);
};

/** SINTERSTORE SUNIONSTORE SDIFFSTORE: stores the result (dropping any TTL), or deletes dst when it is empty. */
const store = (op: Op) => (c: Client, argv: Uint8Array[]) => {
  const sets = lookupAll(c, argv.slice(2), true);
  if (sets === null) return;
  const dst = str(argv[1]);
  const result = combine(op, sets, intsetLimit(c));
  if (result.size > 0) {
    c.db.set(dst, result);
    c.engine.notify(c.db, `s${op}store`, dst, "s");
    c.engine.keyWritten(c.db, dst);
  } else if (c.db.delete(dst)) {
    c.engine.notify(c.db, "del", dst, "g");
    c.engine.keyWritten(c.db, dst);
  }
  c.out.int(result.size);
};

const sintercard = (c: Client, argv: Uint8Array[]) => {
  const numkeys = parseInt64(str(argv[1]));
  if (numkeys === null || numkeys < 1n) return c.error("ERR numkeys should be greater than 0");
  if (numkeys > BigInt(argv.length - 2)) return c.error("ERR Number of keys can't be greater than number of args");
  const end = 2 + Number(numkeys);
  let limit = 0;
  for (let i = end; i < argv.length; i++) {
    if (is(argv[i], "limit") && i + 1 < argv.length) {
      const n = parseInt64(str(argv[++i]));
      if (n === null || n < 0n) return c.error("ERR LIMIT can't be negative");
      limit = n > 2n ** 53n ? 0 : Number(n);
    } else return c.error(ERR.syntax);
  }
  const sets = lookupAll(c, argv.slice(2, end), false);
  if (sets === null) return;
  c.out.int(intersect(sets, limit).length);
};

const base = { acl: "set", group: "set", since: "1.0.0" };
const reader = { ...base, arity: -2, flags: "readonly", keys: [1, -1, 1] as [number, number, number], tips: "nondeterministic_output_order" };
const storer = (dstFlags: string) => ({
  ...base,
  arity: -3,
  flags: "write denyoom",
  keys: [1, -1, 1] as [number, number, number],
  keySpecs: [
    { flags: dstFlags, begin: 1, find: { range: [0, 1, 0] } },
    { flags: "RO access", begin: 2, find: { range: [-1, 1, 0] } },
  ] as KeySpecDef[],
});

export const setAlgebraCommands: CommandDef[] = [
  { name: "sinter", ...reader, run: compute("inter"), summary: "Returns the intersect of multiple sets.",
    complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets." },
  { name: "sunion", ...reader, run: compute("union"), summary: "Returns the union of multiple sets.",
    complexity: "O(N) where N is the total number of elements in all given sets." },
  { name: "sdiff", ...reader, run: compute("diff"), summary: "Returns the difference of multiple sets.",
    complexity: "O(N) where N is the total number of elements in all given sets." },
  { name: "sinterstore", ...storer("RW update"), run: store("inter"), summary: "Stores the intersect of multiple sets in a key.",
    complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets." },
  { name: "sunionstore", ...storer("OW update"), run: store("union"), summary: "Stores the union of multiple sets in a key.",
    complexity: "O(N) where N is the total number of elements in all given sets." },
  { name: "sdiffstore", ...storer("OW update"), run: store("diff"), summary: "Stores the difference of multiple sets in a key.",
    complexity: "O(N) where N is the total number of elements in all given sets." },
  { name: "sintercard", ...base, arity: -3, flags: "readonly", since: "7.0.0", run: sintercard,
    keySpecs: [{ flags: "RO access", begin: 1, find: { keynum: [0, 1, 1] } }],
    summary: "Returns the number of members of the intersect of multiple sets.",
    complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets." },
];
