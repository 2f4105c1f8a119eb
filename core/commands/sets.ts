/**
 * Set commands on single sets: SADD SREM SMEMBERS SISMEMBER SMISMEMBER
 * SCARD SPOP SRANDMEMBER SMOVE SSCAN. The multi-key algebra (SINTER,
 * SUNION, SDIFF and their STORE/CARD forms) is in set-algebra.ts.
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { ERR, readKey } from "./args.ts";
import { SetValue } from "../types/set.ts";
import type { Value } from "../types/value.ts";
import { fail, fromConfig, matches, parseScanCursor, parseScanOptions, replyScan, sampleIndices, signedCount } from "./collection-args.ts";

export const intsetLimit = fromConfig(["set-max-intset-entries"], (config) => config.num("set-max-intset-entries"));

export function checkSet(c: Client, v: Value | undefined): SetValue | undefined | null {
  if (v === undefined || v instanceof SetValue) return v;
  return fail(c, ERR.wrongType);
}

/** A set for a read: undefined when missing, null (WRONGTYPE sent) when another type. */
export function readSet(c: Client, key: string): SetValue | undefined | null {
  return checkSet(c, readKey(c, key));
}

/** Like readSet for writes: no hit/miss counting. */
export function writableSet(c: Client, key: string): SetValue | undefined | null {
  return checkSet(c, c.db.lookup(key, c.engine.now));
}

/** Every member of s, in the order Redis replies with (numeric for an intset). */
export function replyMembers(c: Client, members: string[]): void {
  c.out.set(members.length);
  for (const m of members) c.out.bulkStr(m);
}

/** SADD's event, also SMOVE's on its destination. */
function membersAdded(c: Client, key: string): void {
  c.engine.notify(c.db, "sadd", key, "s");
  c.engine.keyWritten(c.db, key);
}

/** After members left the set through `event`: an emptied set deletes its key, with Redis's del event after it. */
function membersRemoved(c: Client, key: string, left: number, event: string): void {
  c.engine.notify(c.db, event, key, "s");
  if (left === 0) {
    c.db.delete(key);
    c.engine.notify(c.db, "del", key, "g");
  }
  c.engine.keyWritten(c.db, key);
}

const sadd: Handler = (c, argv) => {
  const key = str(argv[1]);
  let s = writableSet(c, key);
  if (s === null) return;
  if (s === undefined) c.db.set(key, (s = new SetValue()));
  const limit = intsetLimit(c);
  let added = 0;
  for (let i = 2; i < argv.length; i++) if (s.add(str(argv[i]), limit)) added++;
  if (added > 0) membersAdded(c, key);
  c.out.int(added);
};

const srem: Handler = (c, argv) => {
  const key = str(argv[1]);
  const s = writableSet(c, key);
  if (s === null) return;
  let removed = 0;
  if (s !== undefined) {
    for (let i = 2; i < argv.length && s.size > 0; i++) if (s.remove(str(argv[i]))) removed++;
    if (removed > 0) membersRemoved(c, key, s.size, "srem");
  }
  c.out.int(removed);
};

const smembers: Handler = (c, argv) => {
  const s = readSet(c, str(argv[1]));
  if (s === null) return;
  replyMembers(c, s?.members() ?? []);
};

const sismember: Handler = (c, argv) => {
  const s = readSet(c, str(argv[1]));
  if (s === null) return;
  c.out.int(s?.has(str(argv[2])) ? 1 : 0);
};

const smismember: Handler = (c, argv) => {
  const s = readSet(c, str(argv[1]));
  if (s === null) return;
  c.out.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) c.out.int(s?.has(str(argv[i])) ? 1 : 0);
};

const scard: Handler = (c, argv) => {
  const s = readSet(c, str(argv[1]));
  if (s === null) return;
  c.out.int(s?.size ?? 0);
};

const spop: Handler = (c, argv) => {
  if (argv.length > 3) return c.error(ERR.syntax);
  let count = 1;
  if (argv.length === 3) {
    const n = parseInt64(str(argv[2]));
    if (n === null || n < 0n) return c.error("ERR value is out of range, must be positive");
    count = n > 2n ** 53n ? 2 ** 53 : Number(n);
  }
  const key = str(argv[1]);
  const s = writableSet(c, key);
  if (s === null) return;
  if (s === undefined) return argv.length === 2 ? c.out.nullBulk() : c.out.set(0);
  if (argv.length === 2) {
    const i = s.randomIndex();
    const member = s.memberAt(i);
    s.removeAt(i);
    membersRemoved(c, key, s.size, "spop");
    if (c.engine.propagation.on) c.engine.propagation.rewrite(["SREM", argv[1], member]);
    return c.out.bulkStr(member);
  }
  if (count === 0) return c.out.set(0);
  // Popping everything leaves the set untouched: the key is dropped whole.
  const all = count >= s.size;
  const popped = all ? s.members() : sampleIndices(s.size, count).map((i) => s.memberAt(i));
  if (!all) for (const m of popped) s.remove(m);
  membersRemoved(c, key, all ? 0 : s.size, "spop");
  propagateSpop(c, argv[1], all, popped);
  replyMembers(c, popped);
};

/** SPOP with a count propagates as DEL (or UNLINK) when it took everything, else one SREM per member, as Redis 7.0. */
function propagateSpop(c: Client, key: Uint8Array, all: boolean, popped: string[]): void {
  const propagation = c.engine.propagation;
  if (!propagation.on) return;
  if (all) return propagation.rewrite([c.engine.config.bool("lazyfree-lazy-server-del") ? "UNLINK" : "DEL", key]);
  propagation.prevent();
  for (const m of popped) propagation.also(c.db.id, ["SREM", key, m]);
}

const srandmember: Handler = (c, argv) => {
  if (argv.length > 3) return c.error(ERR.syntax);
  if (argv.length === 2) {
    const s = readSet(c, str(argv[1]));
    if (s === null) return;
    if (s === undefined) return c.out.nullBulk();
    return c.out.bulkStr(s.memberAt(s.randomIndex()));
  }
  const bigCount = signedCount(c, argv[2]);
  if (bigCount === null) return;
  const count = Number(bigCount);
  const s = readSet(c, str(argv[1]));
  if (s === null) return;
  if (s === undefined || count === 0) return c.out.array(0);
  let picks: string[];
  if (count < 0) {
    picks = new Array(-count);
    for (let i = 0; i < picks.length; i++) picks[i] = s.memberAt(s.randomIndex());
  } else if (count >= s.size) picks = s.members();
  else picks = sampleIndices(s.size, count).map((i) => s.memberAt(i));
  c.out.array(picks.length);
  for (const m of picks) c.out.bulkStr(m);
};

const smove: Handler = (c, argv) => {
  const srcKey = str(argv[1]), dstKey = str(argv[2]);
  const src = c.db.lookup(srcKey, c.engine.now);
  const dst = c.db.lookup(dstKey, c.engine.now);
  const from = checkSet(c, src);
  if (from === undefined) return c.out.int(0);
  if (from === null) return;
  const to = checkSet(c, dst);
  if (to === null) return;
  const member = str(argv[3]);
  if (from === to) return c.out.int(from.has(member) ? 1 : 0);
  if (!from.remove(member)) return c.out.int(0);
  membersRemoved(c, srcKey, from.size, "srem");
  let target = to;
  if (target === undefined) c.db.set(dstKey, (target = new SetValue()));
  if (target.add(member, intsetLimit(c))) membersAdded(c, dstKey);
  c.out.int(1);
};

const sscan: Handler = (c, argv) => {
  const cursor = parseScanCursor(c, argv[2]);
  if (cursor === null) return;
  const s = readSet(c, str(argv[1]));
  if (s === null) return;
  if (s === undefined) return replyScan(c, 0, []);
  const call = parseScanOptions(c, argv, cursor);
  if (call === null) return;
  const out: string[] = [];
  const visit = (m: string) => matches(call, m) && out.push(m);
  const table = s.dense();
  let next = 0;
  // An intset is returned whole in one call, as Redis does.
  if (table) next = table.scanDown(cursor, call.count, (i) => visit(table.keys[i]));
  else for (const m of s.members()) visit(m);
  replyScan(c, next, out);
};

const key1: Pick<CommandDef, "keys" | "acl" | "group"> = { keys: [1, 1, 1], acl: "set", group: "set" };

export const setCommands: CommandDef[] = [
  { name: "sadd", arity: -3, flags: "write denyoom fast", ...key1, keySpec: "RW insert", since: "1.0.0", run: sadd,
    summary: "Adds one or more members to a set. Creates the key if it doesn't exist.", complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments." },
  { name: "srem", arity: -3, flags: "write fast", ...key1, keySpec: "RW delete", since: "1.0.0", run: srem,
    summary: "Removes one or more members from a set. Deletes the set if the last member was removed.", complexity: "O(N) where N is the number of members to be removed." },
  { name: "smembers", arity: 2, flags: "readonly", ...key1, tips: "nondeterministic_output_order", since: "1.0.0", run: smembers,
    summary: "Returns all members of a set.", complexity: "O(N) where N is the set cardinality." },
  { name: "sismember", arity: 3, flags: "readonly fast", ...key1, keySpec: "RO", since: "1.0.0", run: sismember,
    summary: "Determines whether a member belongs to a set." },
  { name: "smismember", arity: -3, flags: "readonly fast", ...key1, since: "6.2.0", run: smismember,
    summary: "Determines whether multiple members belong to a set.", complexity: "O(N) where N is the number of elements being checked for membership" },
  { name: "scard", arity: 2, flags: "readonly fast", ...key1, keySpec: "RO", since: "1.0.0", run: scard,
    summary: "Returns the number of members in a set." },
  { name: "spop", arity: -2, flags: "write fast", ...key1, keySpec: "RW access delete", tips: "nondeterministic_output", since: "1.0.0", run: spop,
    summary: "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count." },
  { name: "srandmember", arity: -2, flags: "readonly", ...key1, tips: "nondeterministic_output", since: "1.0.0", run: srandmember,
    summary: "Get one or multiple random members from a set", complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count." },
  { name: "smove", arity: 4, flags: "write fast", keys: [1, 2, 1], acl: "set", group: "set", since: "1.0.0", run: smove,
    keySpecs: [
      { flags: "RW access delete", begin: 1, find: { range: [0, 1, 0] } },
      { flags: "RW insert", begin: 2, find: { range: [0, 1, 0] } },
    ],
    summary: "Moves a member from one set to another." },
  { name: "sscan", arity: -3, flags: "readonly", ...key1, tips: "nondeterministic_output", since: "2.8.0", run: sscan,
    summary: "Iterates over members of a set.", complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the size of the collection inside." },
];
