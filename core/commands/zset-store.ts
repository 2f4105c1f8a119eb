/**
 * Sorted-set algebra: ZUNION ZINTER ZDIFF, their STORE forms, and
 * ZINTERCARD. Inputs may be sorted sets or plain sets (every member scoring
 * 1); WEIGHTS scale each input and AGGREGATE SUM|MIN|MAX combines scores,
 * in Redis's order (inputs by ascending size) so float sums round alike.
 */
import type { CommandDef, KeySpecDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { ERR, readKey } from "./args.ts";
import { isZset, ZSet } from "../types/zset.ts";
import type { Collection } from "../types/value.ts";
import { parseScore, replyScored, storeResult, zsetLimits } from "./zset-args.ts";

/** What this module needs of a plain set (core/types/set.ts). */
interface SetLike extends Collection {
  has(member: string): boolean;
  members(): string[];
}

/** One input: a zset, a set, or a missing key (empty), with its weight. */
class Source {
  weight = 1;
  constructor(readonly value: ZSet | SetLike | null) {}

  get size(): number {
    return this.value?.size ?? 0;
  }

  forEach(visit: (member: string, score: number) => void): void {
    const v = this.value;
    if (v === null) return;
    if (isZset(v)) v.forEach(visit);
    else for (const m of v.members()) visit(m, 1);
  }

  score(member: string): number | undefined {
    const v = this.value;
    if (v === null) return undefined;
    if (isZset(v)) return v.score(member);
    return v.has(member) ? 1 : undefined;
  }
}

type Op = "union" | "inter" | "diff";
type Aggregate = (acc: number, v: number) => number;

const AGGREGATES: Record<string, Aggregate> = {
  // inf + -inf is NaN, which Redis turns into 0.
  sum: (acc, v) => {
    const s = acc + v;
    return Number.isNaN(s) ? 0 : s;
  },
  min: (acc, v) => (v < acc ? v : acc),
  max: (acc, v) => (v > acc ? v : acc),
};

/** A weighted score: NaN (0 * inf) becomes 0, as Redis does. */
function weighted(weight: number, score: number): number {
  const s = weight * score;
  return Number.isNaN(s) ? 0 : s;
}

interface Mode {
  op: Op;
  name: string;
  /** ZUNIONSTORE & co: the destination key. */
  dst: string | null;
  /** ZINTERCARD: count only. */
  cardOnly: boolean;
}

/** Redis's zunionInterDiffGenericCommand; numkeys is at argv[at]. */
function algebra(c: Client, argv: Uint8Array[], at: number, mode: Mode): void {
  const { op, dst, cardOnly } = mode;
  const numkeys = parseInteger(str(argv[at]));
  if (numkeys === null) return c.error(ERR.notInt);
  if (numkeys < 1) return c.error(`ERR at least 1 input key is needed for '${mode.name}' command`);
  if (numkeys > argv.length - (at + 1)) return c.error(ERR.syntax);
  const sources: Source[] = [];
  let j = at + 1;
  for (; j < at + 1 + numkeys; j++) {
    const v = readKey(c, str(argv[j]));
    if (v !== undefined && !isZset(v) && !(typeof v === "object" && "type" in v && v.type === "set")) {
      return c.error(ERR.wrongType);
    }
    sources.push(new Source((v ?? null) as ZSet | SetLike | null));
  }
  let aggregate = AGGREGATES.sum;
  let withScores = false;
  let limit = 0;
  while (j < argv.length) {
    const remaining = argv.length - j;
    const a = argv[j];
    if (op !== "diff" && !cardOnly && remaining >= numkeys + 1 && is(a, "weights")) {
      j++;
      for (const src of sources) {
        const w = parseScore(argv[j++]);
        if (w === null) return c.error("ERR weight value is not a float");
        src.weight = w;
      }
    } else if (op !== "diff" && !cardOnly && remaining >= 2 && is(a, "aggregate")) {
      const name = str(argv[j + 1]).toLowerCase();
      if (!Object.hasOwn(AGGREGATES, name)) return c.error(ERR.syntax);
      aggregate = AGGREGATES[name];
      j += 2;
    } else if (dst === null && !cardOnly && is(a, "withscores")) {
      withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && is(a, "limit")) {
      const n = parseInteger(str(argv[j + 1]));
      if (n === null || n < 0) return c.error("ERR LIMIT can't be negative");
      limit = n;
      j += 2;
    } else return c.error(ERR.syntax);
  }
  // Smallest first, as Redis orders them (a stable sort, like glibc's qsort in practice).
  if (op !== "diff") sources.sort((x, y) => x.size - y.size);
  const result = op === "union"
    ? union(sources, aggregate)
    : op === "inter"
    ? inter(sources, aggregate, cardOnly ? limit : -1)
    : diff(sources);
  if (cardOnly) return c.out.int(result.size);
  const entries = [...result].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const members = entries.map((e) => e[0]);
  const scores = entries.map((e) => e[1]);
  if (dst === null) return replyScored(c, members, scores, withScores);
  storeResult(c, dst, ZSet.fromSorted(members, scores, zsetLimits(c)), mode.name);
  c.out.int(members.length);
}

function union(sources: Source[], aggregate: Aggregate): Map<string, number> {
  const acc = new Map<string, number>();
  for (const src of sources) {
    src.forEach((m, s) => {
      const score = weighted(src.weight, s);
      const cur = acc.get(m);
      acc.set(m, cur === undefined ? score : aggregate(cur, score));
    });
  }
  return acc;
}

/** Members of every input, walking the smallest; stops at `limit` results when positive (ZINTERCARD). */
function inter(sources: Source[], aggregate: Aggregate, limit: number): Map<string, number> {
  const out = new Map<string, number>();
  const [first, ...rest] = sources;
  first.forEach((m, s) => {
    if (limit > 0 && out.size >= limit) return;
    let score = weighted(first.weight, s);
    for (const src of rest) {
      const v = src.score(m);
      if (v === undefined) return;
      score = aggregate(score, v * src.weight);
    }
    out.set(m, score);
  });
  return out;
}

function diff(sources: Source[]): Map<string, number> {
  const out = new Map<string, number>();
  const [first, ...rest] = sources;
  first.forEach((m, s) => {
    if (rest.every((src) => src.score(m) === undefined)) out.set(m, s);
  });
  return out;
}

const numkeysSpec = (begin: number, flags: string): KeySpecDef => ({ flags, begin, find: { keynum: [0, 1, 1] } });
const base = { acl: "sortedset", group: "sorted-set" };
const reader = { ...base, arity: -3, flags: "readonly", keySpecs: [numkeysSpec(1, "RO access")] };
const storer = {
  ...base,
  arity: -4,
  flags: "write denyoom",
  keys: [1, 1, 1] as [number, number, number],
  keySpecs: [{ flags: "OW update", begin: 1, find: { range: [0, 1, 0] } } as KeySpecDef, numkeysSpec(2, "RO access")],
};

function reading(name: string, op: Op, since: string, summary: string, complexity: string): CommandDef {
  return { name, ...reader, since, summary, complexity, run: (c, argv) => algebra(c, argv, 1, { op, name, dst: null, cardOnly: false }) };
}

function storing(name: string, op: Op, since: string, summary: string, complexity: string): CommandDef {
  return {
    name, ...storer, since, summary, complexity,
    run: (c, argv) => algebra(c, argv, 2, { op, name, dst: str(argv[1]), cardOnly: false }),
  };
}

const UNION_COST = "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.";
const INTER_COST = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.";
const DIFF_COST = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.";

export const zsetStoreCommands: CommandDef[] = [
  reading("zunion", "union", "6.2.0", "Returns the union of multiple sorted sets.", UNION_COST),
  reading("zinter", "inter", "6.2.0", "Returns the intersect of multiple sorted sets.", INTER_COST),
  reading("zdiff", "diff", "6.2.0", "Returns the difference between multiple sorted sets.", DIFF_COST),
  storing("zunionstore", "union", "2.0.0", "Stores the union of multiple sorted sets in a key.", UNION_COST),
  storing("zinterstore", "inter", "2.0.0", "Stores the intersect of multiple sorted sets in a key.", INTER_COST),
  storing("zdiffstore", "diff", "6.2.0", "Stores the difference of multiple sorted sets in a key.", DIFF_COST),
  {
    name: "zintercard", ...reader, since: "7.0.0",
    summary: "Returns the number of members of the intersect of multiple sorted sets.",
    complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
    run: (c, argv) => algebra(c, argv, 1, { op: "inter", name: "zintercard", dst: null, cardOnly: true }),
  },
];
