/**
 * Sorted-set ranges: ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES) and its
 * older spellings ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX
 * ZREVRANGEBYLEX, ZRANGESTORE, and ZREMRANGEBYRANK/SCORE/LEX. Every range
 * becomes a run of ranks, then a walk from one end of it.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { ERR } from "./args.ts";
import { ZSet } from "../types/zset.ts";
import {
  ERR_RANGE_FLOAT,
  ERR_RANGE_LEX,
  afterRemoval,
  collect,
  type LexRange,
  lexRanks,
  parseLexRange,
  parseScoreRange,
  readZset,
  replyScored,
  type ScoreRange,
  scoreRanks,
  storeResult,
  writableZset,
  zsetLimits,
} from "./zset-args.ts";

type By = "rank" | "score" | "lex";

/** A rank range as Redis sanitizes it: [start, end] inclusive, or null when empty. */
function rankSpan(size: number, start: number, end: number): [number, number] | null {
  if (start < 0) start += size;
  if (end < 0) end += size;
  if (start < 0) start = 0;
  if (start > end || start >= size) return null;
  return [start, Math.min(end, size - 1)];
}

/** The entries a ZRANGE-style query selects, in reply order. */
function select(
  z: ZSet, by: By, rev: boolean, bounds: [number, number] | ScoreRange | LexRange, offset: number, limit: number,
): { members: string[]; scores: number[] } {
  const size = z.size;
  if (by === "rank") {
    const span = rankSpan(size, ...(bounds as [number, number]));
    if (span === null) return { members: [], scores: [] };
    const [start, end] = span;
    return collect(z, rev ? size - 1 - start : start, end - start + 1, rev);
  }
  const [first, end] = by === "score" ? scoreRanks(z, bounds as ScoreRange) : lexRanks(z, bounds as LexRange);
  // A negative offset skips everything, a negative limit means no limit, as Redis's counting loops do.
  if (offset < 0) return { members: [], scores: [] };
  let count = end - first - offset;
  if (limit >= 0) count = Math.min(count, limit);
  if (count <= 0) return { members: [], scores: [] };
  return collect(z, rev ? end - 1 - offset : first + offset, count, rev);
}

function int(c: Client, arg: Uint8Array): number | null {
  const n = parseInteger(str(arg));
  if (n === null) c.error(ERR.notInt);
  return n;
}

/**
 * Redis's zrangeGenericCommand: src at argv[at], its bounds after it, then
 * options. `by`/`dir` are fixed by the old spellings, open ("auto") for
 * ZRANGE and ZRANGESTORE. dst is ZRANGESTORE's destination.
 */
function zrange(c: Client, argv: Uint8Array[], at: number, dst: string | null, fixedBy: By | null, fixedRev: boolean | null): void {
  let by = fixedBy;
  let rev = fixedRev;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = at + 3; j < argv.length; j++) {
    const a = argv[j];
    if (dst === null && is(a, "withscores")) withScores = true;
    else if (is(a, "limit") && argv.length - j - 1 >= 2) {
      const o = int(c, argv[j + 1]);
      if (o === null) return;
      const l = int(c, argv[j + 2]);
      if (l === null) return;
      [offset, limit] = [o, l];
      j += 2;
    } else if (rev === null && is(a, "rev")) rev = true;
    else if (by === null && is(a, "bylex")) by = "lex";
    else if (by === null && is(a, "byscore")) by = "score";
    else return c.error(ERR.syntax);
  }
  by ??= "rank";
  rev ??= false;
  if (limit !== -1 && by === "rank") {
    return c.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  }
  if (withScores && by === "lex") return c.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  // BYSCORE/BYLEX in reverse take their bounds as max, min.
  const [lo, hi] = rev && by !== "rank" ? [argv[at + 2], argv[at + 1]] : [argv[at + 1], argv[at + 2]];
  let bounds: [number, number] | ScoreRange | LexRange;
  if (by === "rank") {
    const start = int(c, lo);
    if (start === null) return;
    const end = int(c, hi);
    if (end === null) return;
    bounds = [start, end];
  } else if (by === "score") {
    const r = parseScoreRange(lo, hi);
    if (r === null) return c.error(ERR_RANGE_FLOAT);
    bounds = r;
  } else {
    const r = parseLexRange(lo, hi);
    if (r === null) return c.error(ERR_RANGE_LEX);
    bounds = r;
  }
  const z = readZset(c, str(argv[at]));
  if (z === null) return;
  const found = z === undefined ? { members: [], scores: [] } : select(z, by, rev, bounds, offset, limit);
  if (dst === null) return replyScored(c, found.members, found.scores, withScores);
  if (rev) {
    found.members.reverse();
    found.scores.reverse();
  }
  storeResult(c, dst, ZSet.fromSorted(found.members, found.scores, zsetLimits(c)), "zrangestore");
  c.out.int(found.members.length);
}

/** ZREMRANGEBYRANK/SCORE/LEX: bounds first, then the key; the emptied key is deleted. */
function zremrange(c: Client, argv: Uint8Array[], by: By): void {
  let ranks: (z: ZSet) => [number, number] | null;
  if (by === "rank") {
    const start = int(c, argv[2]);
    if (start === null) return;
    const end = int(c, argv[3]);
    if (end === null) return;
    ranks = (z) => {
      const span = rankSpan(z.size, start, end);
      return span && [span[0], span[1] + 1];
    };
  } else if (by === "score") {
    const r = parseScoreRange(argv[2], argv[3]);
    if (r === null) return c.error(ERR_RANGE_FLOAT);
    ranks = (z) => scoreRanks(z, r);
  } else {
    const r = parseLexRange(argv[2], argv[3]);
    if (r === null) return c.error(ERR_RANGE_LEX);
    ranks = (z) => lexRanks(z, r);
  }
  const key = str(argv[1]);
  const z = writableZset(c, key);
  if (z === null) return;
  const span = z === undefined ? null : ranks(z);
  if (z === undefined || span === null || span[1] <= span[0]) return c.out.int(0);
  const { members } = collect(z, span[0], span[1] - span[0], false);
  for (const m of members) z.remove(m);
  afterRemoval(c, key, z, `zremrangeby${by}`);
  c.out.int(members.length);
}

const reader = {
  arity: -4,
  flags: "readonly",
  keys: [1, 1, 1] as [number, number, number],
  acl: "sortedset",
  group: "sorted-set",
  complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
};
const remover = {
  arity: 4,
  flags: "write",
  keys: [1, 1, 1] as [number, number, number],
  keySpec: "RW delete",
  acl: "sortedset",
  group: "sorted-set",
  complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
};

export const zsetRangeCommands: CommandDef[] = [
  {
    name: "zrange", ...reader, since: "1.2.0",
    summary: "Returns members in a sorted set within a range of indexes.",
    run: (c, argv) => zrange(c, argv, 1, null, null, null),
  },
  {
    name: "zrevrange", ...reader, since: "1.2.0",
    summary: "Returns members in a sorted set within a range of indexes in reverse order.",
    run: (c, argv) => zrange(c, argv, 1, null, "rank", true),
  },
  {
    name: "zrangebyscore", ...reader, since: "1.0.5",
    summary: "Returns members in a sorted set within a range of scores.",
    run: (c, argv) => zrange(c, argv, 1, null, "score", false),
  },
  {
    name: "zrevrangebyscore", ...reader, since: "2.2.0",
    summary: "Returns members in a sorted set within a range of scores in reverse order.",
    run: (c, argv) => zrange(c, argv, 1, null, "score", true),
  },
  {
    name: "zrangebylex", ...reader, since: "2.8.9",
    summary: "Returns members in a sorted set within a lexicographical range.",
    run: (c, argv) => zrange(c, argv, 1, null, "lex", false),
  },
  {
    name: "zrevrangebylex", ...reader, since: "2.8.9",
    summary: "Returns members in a sorted set within a lexicographical range in reverse order.",
    run: (c, argv) => zrange(c, argv, 1, null, "lex", true),
  },
  {
    name: "zrangestore", arity: -5, flags: "write denyoom", keys: [1, 2, 1], acl: "sortedset", group: "sorted-set",
    keySpecs: [
      { flags: "OW update", begin: 1, find: { range: [0, 1, 0] } },
      { flags: "RO access", begin: 2, find: { range: [0, 1, 0] } },
    ],
    since: "6.2.0",
    summary: "Stores a range of members from sorted set in a key.",
    complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
    run: (c, argv) => zrange(c, argv, 2, str(argv[1]), null, null),
  },
  {
    name: "zremrangebyrank", ...remover, since: "2.0.0",
    summary: "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
    run: (c, argv) => zremrange(c, argv, "rank"),
  },
  {
    name: "zremrangebyscore", ...remover, since: "1.2.0",
    summary: "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
    run: (c, argv) => zremrange(c, argv, "score"),
  },
  {
    name: "zremrangebylex", ...remover, since: "2.8.9",
    summary: "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
    run: (c, argv) => zremrange(c, argv, "lex"),
  },
];
