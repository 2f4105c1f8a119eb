/**
 * Popping sorted sets: ZPOPMIN ZPOPMAX ZMPOP, with Redis's four reply
 * shapes (flat or nested pairs, with or without the key's name).
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { ERR } from "./args.ts";
import { isZset, type ZSet } from "../types/zset.ts";
import { afterRemoval, collect, writableZset } from "./zset-args.ts";
import { parseTimeout } from "../server/blocking.ts";

export interface PopReply {
  /** Name the key: BZPOPMIN's [key, member, score] and ZMPOP's [key, [...]]. */
  withKey: boolean;
  /** [member, score] pairs rather than a flat list. */
  nested: boolean;
}

/** Removes and replies up to count entries (-1: one, for the plain form) from the low or high end. */
export function popFrom(c: Client, key: string, z: ZSet, max: boolean, count: number, shape: PopReply): void {
  const n = Math.min(count === -1 ? 1 : count, z.size);
  const { members, scores } = collect(z, max ? z.size - 1 : 0, n, max);
  for (const m of members) z.remove(m);
  afterRemoval(c, key, z, max ? "zpopmax" : "zpopmin");
  if (shape.withKey && shape.nested) {
    c.out.array(2);
    c.out.bulkStr(key);
    c.out.array(n);
  } else if (shape.withKey) {
    c.out.array(n * 2 + 1);
    c.out.bulkStr(key);
  } else c.out.array(shape.nested ? n : n * 2);
  for (let i = 0; i < n; i++) {
    if (shape.nested) c.out.array(2);
    c.out.bulkStr(members[i]);
    c.out.double(scores[i]);
  }
}

/** The first non-empty zset among keys: [key, zset], undefined when none, null after WRONGTYPE. */
export function firstZset(c: Client, keys: Uint8Array[]): [string, ZSet] | undefined | null {
  for (const k of keys) {
    const key = str(k);
    const z = writableZset(c, key);
    if (z === null) return null;
    if (z !== undefined) return [key, z];
  }
  return undefined;
}

/** A long within [min, LONG_MAX], or null after replying `msg` (Redis's getRangeLongFromObjectOrReply). */
export function rangedLong(c: Client, arg: Uint8Array, min: number, msg: string): number | null {
  const v = parseInt64(str(arg));
  if (v === null || v < BigInt(min)) {
    c.error(msg);
    return null;
  }
  return Number(v);
}

export interface MpopArgs {
  keys: Uint8Array[];
  max: boolean;
  count: number;
}

/** ZMPOP/BZMPOP arguments from numkeys at index i: numkeys key... MIN|MAX [COUNT n]. */
export function parseMpop(c: Client, argv: Uint8Array[], i: number): MpopArgs | null {
  const numkeys = rangedLong(c, argv[i], 1, "ERR numkeys should be greater than 0");
  if (numkeys === null) return null;
  const whereIdx = i + numkeys + 1;
  if (whereIdx >= argv.length || !(is(argv[whereIdx], "min") || is(argv[whereIdx], "max"))) {
    c.error(ERR.syntax);
    return null;
  }
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    if (count === -1 && is(argv[j], "count") && j + 1 < argv.length) {
      count = rangedLong(c, argv[++j], 1, "ERR count should be greater than 0") ?? -2;
      if (count === -2) return null;
    } else {
      c.error(ERR.syntax);
      return null;
    }
  }
  return { keys: argv.slice(i + 1, whereIdx), max: is(argv[whereIdx], "max"), count: count === -1 ? 1 : count };
}

function zpop(c: Client, argv: Uint8Array[], max: boolean): void {
  if (argv.length > 3) return c.error(ERR.syntax);
  let count = -1;
  if (argv.length === 3) {
    const n = rangedLong(c, argv[2], 0, "ERR value is out of range, must be positive");
    if (n === null) return;
    count = n;
  }
  const found = firstZset(c, [argv[1]]);
  if (found === null) return;
  if (found === undefined || count === 0) return c.out.array(0);
  popFrom(c, found[0], found[1], max, count, { withKey: false, nested: c.resp === 3 && count !== -1 });
}

/**
 * BZPOPMIN/BZPOPMAX/BZMPOP: pops at once when one of the keys holds a zset,
 * else blocks until a write makes one appear (or the timeout replies null).
 */
function blockingPop(c: Client, keys: Uint8Array[], timeoutArg: Uint8Array, max: boolean, count: number, shape: PopReply): void {
  const deadline = parseTimeout(c, timeoutArg);
  if (deadline === null) return;
  const found = firstZset(c, keys);
  if (found === null) return;
  if (found !== undefined) return popPropagated(c, found[0], found[1], max, count, shape);
  if (!c.engine.blocking.canBlock(c)) return c.out.nullArray();
  c.engine.blocking.block(c, keys.map(str), deadline, (key) => {
    const z = c.db.lookup(key, c.engine.now);
    if (!isZset(z)) return false;
    popPropagated(c, key, z, max, count, shape);
    return true;
  });
}

/** BZPOPMIN/BZMPOP/ZMPOP's pop, propagated as ZPOPMIN/ZPOPMAX key [<count popped>], as Redis 7.0. */
function popPropagated(c: Client, key: string, z: ZSet, max: boolean, count: number, shape: PopReply): void {
  const propagation = c.engine.propagation;
  if (propagation.on) {
    const name = max ? "ZPOPMAX" : "ZPOPMIN";
    propagation.effect(c.db.id, count === -1 ? [name, key] : [name, key, String(Math.min(count, z.size))]);
  }
  popFrom(c, key, z, max, count, shape);
}

const pop = { arity: -2, flags: "write fast", keys: [1, 1, 1] as [number, number, number], keySpec: "RW access delete" };

const bpop = {
  arity: -3,
  flags: "write noscript blocking fast",
  keys: [1, -2, 1] as [number, number, number],
  keySpec: "RW access delete",
  acl: "sortedset",
  group: "sorted-set",
  complexity: "O(log(N)) with N being the number of elements in the sorted set.",
};

export const zsetPopCommands: CommandDef[] = [
  {
    name: "zpopmin", ...pop, acl: "sortedset", group: "sorted-set", since: "5.0.0",
    summary: "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
    complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
    run: (c, argv) => zpop(c, argv, false),
  },
  {
    name: "zpopmax", ...pop, acl: "sortedset", group: "sorted-set", since: "5.0.0",
    summary: "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
    complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
    run: (c, argv) => zpop(c, argv, true),
  },
  {
    name: "bzpopmin", ...bpop, since: "5.0.0",
    summary: "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
    run: (c, argv) => blockingPop(c, argv.slice(1, -1), argv[argv.length - 1], false, -1, { withKey: true, nested: false }),
  },
  {
    name: "bzpopmax", ...bpop, since: "5.0.0",
    summary: "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.",
    run: (c, argv) => blockingPop(c, argv.slice(1, -1), argv[argv.length - 1], true, -1, { withKey: true, nested: false }),
  },
  {
    name: "bzmpop", arity: -5, flags: "write blocking", acl: "sortedset", group: "sorted-set", since: "7.0.0",
    keySpecs: [{ flags: "RW access delete", begin: 2, find: { keynum: [0, 1, 1] } }],
    summary: "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
    complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
    run(c, argv) {
      const args = parseMpop(c, argv, 2);
      if (args !== null) blockingPop(c, args.keys, argv[1], args.max, args.count, { withKey: true, nested: true });
    },
  },
  {
    name: "zmpop", arity: -4, flags: "write", acl: "sortedset", group: "sorted-set", since: "7.0.0",
    keySpecs: [{ flags: "RW access delete", begin: 1, find: { keynum: [0, 1, 1] } }],
    summary: "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.",
    complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
    run(c, argv) {
      const args = parseMpop(c, argv, 1);
      if (args === null) return;
      const found = firstZset(c, args.keys);
      if (found === null) return;
      if (found === undefined) return c.out.nullArray();
      popPropagated(c, found[0], found[1], args.max, args.count, { withKey: true, nested: true });
    },
  },
];
