/**
 * Sorted-set commands on single members and counts: ZADD ZINCRBY ZREM
 * ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT ZRANDMEMBER ZSCAN.
 * Ranges live in zset-ranges.ts, pops in zset-pop.ts, set algebra in
 * zset-store.ts.
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { formatDouble, parseInt64 } from "../util/number.ts";
import { globMatch } from "../util/glob.ts";
import { ERR } from "./args.ts";
import { type Member, ZSet } from "../types/zset.ts";
import {
  ERR_NAN,
  ERR_RANGE_FLOAT,
  ERR_RANGE_LEX,
  afterRemoval,
  collect,
  lexRanks,
  parseLexRange,
  parseScore,
  parseScoreRange,
  readZset,
  replyScored,
  scoreRanks,
  writableZset,
  zsetLimits,
} from "./zset-args.ts";

interface AddFlags {
  nx: boolean;
  xx: boolean;
  gt: boolean;
  lt: boolean;
  incr: boolean;
}

/** Outcomes of addMember: SAME is an existing member left at its score (processed, not updated). */
const NOP = 0, SAME = 1, UPDATED = 2, ADDED = 3, NAN = 4;

/** Redis's zsetAdd: one member under the NX/XX/GT/LT/INCR rules. `out.score` is the resulting score. */
function addMember(c: Client, z: ZSet, member: Member, score: number, f: AddFlags, out: { score: number }): number {
  const cur = z.score(member);
  if (cur === undefined) {
    if (f.xx) return NOP;
    z.set(member, score, zsetLimits(c));
    out.score = score;
    return ADDED;
  }
  if (f.nx) return NOP;
  if (f.incr) {
    score += cur;
    if (Number.isNaN(score)) return NAN;
  }
  if ((f.lt && score >= cur) || (f.gt && score <= cur)) return NOP;
  out.score = score;
  if (score === cur) return SAME;
  z.set(member, score, zsetLimits(c));
  return UPDATED;
}

/**
 * ZADD and ZINCRBY (which is ZADD with INCR preset, options loop included,
 * as in Redis). GEOADD passes the scores it computed (`given`), and argv's
 * score arguments are then not read.
 */
function zadd(c: Client, argv: Uint8Array[], incr: boolean, given: number[] | null = null): void {
  const f: AddFlags = { nx: false, xx: false, gt: false, lt: false, incr };
  let ch = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (is(a, "nx")) f.nx = true;
    else if (is(a, "xx")) f.xx = true;
    else if (is(a, "ch")) ch = true;
    else if (is(a, "incr")) f.incr = true;
    else if (is(a, "gt")) f.gt = true;
    else if (is(a, "lt")) f.lt = true;
    else break;
  }
  const elements = argv.length - i;
  if (elements === 0 || elements % 2 !== 0) return c.error(ERR.syntax);
  if (f.nx && f.xx) return c.error("ERR XX and NX options at the same time are not compatible");
  if ((f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt)) {
    return c.error("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (f.incr && elements > 2) return c.error("ERR INCR option supports a single increment-element pair");
  const scores: number[] = given ?? [];
  for (let j = i; given === null && j < argv.length; j += 2) {
    const s = parseScore(argv[j]);
    if (s === null) return c.error(ERR.notFloat);
    scores.push(s);
  }
  const key = str(argv[1]);
  let z = writableZset(c, key);
  if (z === null) return;
  let added = 0, updated = 0, processed = 0;
  const out = { score: 0 };
  if (z !== undefined || !f.xx) {
    const created = z === undefined;
    z ??= new ZSet();
    for (let j = 0; j < scores.length; j++) {
      const arg = argv[i + 2 * j + 1];
      const r = addMember(c, z, z.isListpack() ? arg : str(arg), scores[j], f, out);
      if (r === NAN) return c.error(ERR_NAN);
      if (r === ADDED) added++;
      else if (r === UPDATED) updated++;
      if (r !== NOP) processed++;
    }
    if (created && z.size > 0) c.db.set(key, z);
    if (added + updated > 0) {
      c.engine.notify(c.db, f.incr ? "zincr" : "zadd", key, "z");
      c.engine.keyWritten(c.db, key);
    }
  }
  if (!f.incr) c.out.int(ch ? added + updated : added);
  else if (processed > 0) c.out.double(out.score);
  else c.out.nullBulk();
}

/** ZADD with its scores given, not parsed (GEOADD). */
export function zaddScored(c: Client, argv: Uint8Array[], scores: number[]): void {
  zadd(c, argv, false, scores);
}

/** ZRANK and ZREVRANK, with Redis 7.2's WITHSCORE. */
function zrank(c: Client, argv: Uint8Array[], rev: boolean): void {
  if (argv.length > 4) return c.error(`ERR wrong number of arguments for '${rev ? "zrevrank" : "zrank"}' command`);
  const withScore = argv.length === 4;
  if (withScore && !is(argv[3], "withscore")) return c.error(ERR.syntax);
  const missing = () => (withScore ? c.out.nullArray() : c.out.nullBulk());
  const z = readZset(c, str(argv[1]));
  if (z === null) return;
  const member = str(argv[2]);
  const rank = z?.rank(member);
  if (z === undefined || rank === undefined) return missing();
  if (withScore) c.out.array(2);
  c.out.int(rev ? z.size - 1 - rank : rank);
  if (withScore) c.out.double(z.score(member)!);
}

const zrandmember: Handler = (c, argv) => {
  const key = str(argv[1]);
  if (argv.length === 2) {
    const z = readZset(c, key);
    if (z === null) return;
    if (z === undefined) return c.out.nullBulk();
    const { members } = collect(z, Math.floor(Math.random() * z.size), 1, false);
    return c.out.bulkStr(members[0]);
  }
  const big = parseInt64(str(argv[2]));
  if (big === null) return c.error(ERR.notInt);
  if (big < -(2n ** 63n - 1n)) {
    return c.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
  }
  if (argv.length > 4 || (argv.length === 4 && !is(argv[3], "withscores"))) return c.error(ERR.syntax);
  const withScores = argv.length === 4;
  if (withScores && (big < -(2n ** 62n) || big > 2n ** 62n - 1n)) return c.error("ERR value is out of range");
  const z = readZset(c, key);
  if (z === null) return;
  if (z === undefined || big === 0n) return c.out.array(0);
  const count = Number(big < 0n ? -big : big);
  const size = z.size;
  const all = collect(z, 0, size, false);
  const picked: number[] = [];
  if (big < 0n) {
    for (let i = 0; i < count; i++) picked.push(Math.floor(Math.random() * size));
  } else if (count >= size) {
    // The whole set, walked from the top as Redis's zset iterator does.
    for (let i = size - 1; i >= 0; i--) picked.push(i);
  } else {
    const order = Array.from({ length: size }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (size - i));
      [order[i], order[j]] = [order[j], order[i]];
      picked.push(order[i]);
    }
  }
  replyScored(c, picked.map((i) => all.members[i]), picked.map((i) => all.scores[i]), withScores);
};

// ---- ZSCAN ----

/** Live member iterators of skiplist-encoded sets, by cursor; the oldest go past MAX_SCANS. */
const scans = new Map<string, { z: ZSet; it: Iterator<string> }>();
const MAX_SCANS = 1000;
let nextCursor = 1 + Math.floor(Math.random() * 1e9);

const zscan: Handler = (c, argv) => {
  const cursor = str(argv[2]);
  const m = /^[+-]?(\d*)$/.exec(cursor);
  if (m === null || (m[1] === "" && cursor !== "") || (m[1] !== "" && BigInt(m[1]) >= 2n ** 64n)) {
    return c.error("ERR invalid cursor");
  }
  const z = readZset(c, str(argv[1]));
  if (z === null) return;
  if (z === undefined) return replyScan(c, "0", [], []);
  let count = 10;
  let pattern: string | null = null;
  for (let i = 3; i < argv.length; i += 2) {
    if (i + 1 >= argv.length) return c.error(ERR.syntax);
    if (is(argv[i], "count")) {
      const n = parseInt64(str(argv[i + 1]));
      if (n === null) return c.error(ERR.notInt);
      if (n < 1n) return c.error(ERR.syntax);
      count = Number(n);
    } else if (is(argv[i], "match")) {
      const p = str(argv[i + 1]);
      pattern = p === "*" ? null : p;
    } else return c.error(ERR.syntax);
  }
  const members: string[] = [];
  const scores: number[] = [];
  const visit = (member: string, score: number) => {
    if (pattern !== null && !globMatch(pattern, member)) return;
    members.push(member);
    scores.push(score);
  };
  let next = "0";
  const keys = z.memberKeys();
  if (keys === null) z.forEach(visit);
  else {
    const state = scans.get(cursor);
    scans.delete(cursor);
    const it = state !== undefined && state.z === z ? state.it : keys;
    for (let i = 0; i < count; i++) {
      const r = it.next();
      if (r.done) break;
      const score = z.score(r.value);
      if (score !== undefined) visit(r.value, score);
      if (i === count - 1) {
        next = String(nextCursor++);
        scans.set(next, { z, it });
        if (scans.size > MAX_SCANS) scans.delete(scans.keys().next().value!);
      }
    }
  }
  replyScan(c, next, members, scores);
};

function replyScan(c: Client, cursor: string, members: string[], scores: number[]): void {
  c.out.array(2);
  c.out.bulkStr(cursor);
  c.out.array(members.length * 2);
  for (let i = 0; i < members.length; i++) {
    c.out.bulkStr(members[i]);
    c.out.bulkStr(formatDouble(scores[i]));
  }
}

// ---- command table ----

const key1 = { keys: [1, 1, 1] as [number, number, number], acl: "sortedset", group: "sorted-set" };

export const zsetCommands: CommandDef[] = [
  {
    name: "zadd", arity: -4, flags: "write denyoom fast", ...key1, since: "1.2.0",
    summary: "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
    complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    run: (c, argv) => zadd(c, argv, false),
  },
  {
    name: "zincrby", arity: 4, flags: "write denyoom fast", ...key1, keySpec: "RW access update", since: "1.2.0",
    summary: "Increments the score of a member in a sorted set.",
    complexity: "O(log(N)) where N is the number of elements in the sorted set.",
    run: (c, argv) => zadd(c, argv, true),
  },
  {
    name: "zrem", arity: -3, flags: "write fast", ...key1, keySpec: "RW delete", since: "1.2.0",
    summary: "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
    complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
    run(c, argv) {
      const key = str(argv[1]);
      const z = writableZset(c, key);
      if (z === null) return;
      let removed = 0;
      if (z !== undefined) {
        for (let i = 2; i < argv.length; i++) if (z.remove(str(argv[i]))) removed++;
        if (removed > 0) afterRemoval(c, key, z, "zrem");
      }
      c.out.int(removed);
    },
  },
  {
    name: "zcard", arity: 2, flags: "readonly fast", ...key1, keySpec: "RO", since: "1.2.0",
    summary: "Returns the number of members in a sorted set.",
    run(c, argv) {
      const z = readZset(c, str(argv[1]));
      if (z !== null) c.out.int(z?.size ?? 0);
    },
  },
  {
    name: "zscore", arity: 3, flags: "readonly fast", ...key1, since: "1.2.0",
    summary: "Returns the score of a member in a sorted set.",
    run(c, argv) {
      const z = readZset(c, str(argv[1]));
      if (z === null) return;
      const s = z?.score(str(argv[2]));
      if (s === undefined) c.out.nullBulk();
      else c.out.double(s);
    },
  },
  {
    name: "zmscore", arity: -3, flags: "readonly fast", ...key1, since: "6.2.0",
    summary: "Returns the score of one or more members in a sorted set.",
    complexity: "O(N) where N is the number of members being requested.",
    run(c, argv) {
      const z = readZset(c, str(argv[1]));
      if (z === null) return;
      c.out.array(argv.length - 2);
      for (let i = 2; i < argv.length; i++) {
        const s = z?.score(str(argv[i]));
        if (s === undefined) c.out.nullBulk();
        else c.out.double(s);
      }
    },
  },
  {
    name: "zrank", arity: -3, flags: "readonly fast", ...key1, since: "2.0.0",
    summary: "Returns the index of a member in a sorted set ordered by ascending scores.",
    complexity: "O(log(N))",
    run: (c, argv) => zrank(c, argv, false),
  },
  {
    name: "zrevrank", arity: -3, flags: "readonly fast", ...key1, since: "2.0.0",
    summary: "Returns the index of a member in a sorted set ordered by descending scores.",
    complexity: "O(log(N))",
    run: (c, argv) => zrank(c, argv, true),
  },
  {
    name: "zcount", arity: 4, flags: "readonly fast", ...key1, since: "2.0.0",
    summary: "Returns the count of members in a sorted set that have scores within a range.",
    complexity: "O(log(N)) with N being the number of elements in the sorted set.",
    run(c, argv) {
      const range = parseScoreRange(argv[2], argv[3]);
      if (range === null) return c.error(ERR_RANGE_FLOAT);
      const z = readZset(c, str(argv[1]));
      if (z === null) return;
      if (z === undefined) return c.out.int(0);
      const [first, end] = scoreRanks(z, range);
      c.out.int(end - first);
    },
  },
  {
    name: "zlexcount", arity: 4, flags: "readonly fast", ...key1, since: "2.8.9",
    summary: "Returns the number of members in a sorted set within a lexicographical range.",
    complexity: "O(log(N)) with N being the number of elements in the sorted set.",
    run(c, argv) {
      const range = parseLexRange(argv[2], argv[3]);
      if (range === null) return c.error(ERR_RANGE_LEX);
      const z = readZset(c, str(argv[1]));
      if (z === null) return;
      if (z === undefined) return c.out.int(0);
      const [first, end] = lexRanks(z, range);
      c.out.int(end - first);
    },
  },
  {
    name: "zrandmember", arity: -2, flags: "readonly", ...key1, tips: "nondeterministic_output", since: "6.2.0",
    summary: "Returns one or more random members from a sorted set.",
    complexity: "O(N) where N is the number of members returned",
    run: zrandmember,
  },
  {
    name: "zscan", arity: -3, flags: "readonly", ...key1, tips: "nondeterministic_output", since: "2.8.0",
    summary: "Iterates over members and scores of a sorted set.",
    complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    run: zscan,
  },
];
