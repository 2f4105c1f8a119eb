/**
 * List commands that never block: pushes, pops, LLEN LRANGE LINDEX LSET
 * LINSERT LREM LTRIM LPOS, LMOVE/RPOPLPUSH and LMPOP, with Redis 7.0.15's
 * argument checks in Redis's order. The helpers shared with the blocking
 * forms (lists-blocking.ts) live here too.
 */
import type { CommandDef, KeySpecDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInt64, parseInteger } from "../util/number.ts";
import { ERR, intArg, readKey } from "./args.ts";
import { isList, ListValue } from "../types/list.ts";
import type { Entry } from "../types/listpack.ts";
import { CONST } from "../resp/writer.ts";

const INT64_MIN = -(2n ** 63n);

/** The list at key for a write: undefined when missing, null (WRONGTYPE sent) when another type. */
export function writableList(c: Client, key: string): ListValue | undefined | null {
  const v = c.db.lookup(key, c.engine.now);
  if (v === undefined || isList(v)) return v;
  c.error(ERR.wrongType);
  return null;
}

/** Like writableList, but counted in keyspace hits/misses as reads are. */
function readList(c: Client, key: string): ListValue | undefined | null {
  const v = readKey(c, key);
  if (v === undefined || isList(v)) return v;
  c.error(ERR.wrongType);
  return null;
}

/** The list at key, created empty (with the current list-max-listpack-size) when missing. */
function listForPush(c: Client, key: string, existing: ListValue | undefined): ListValue {
  if (existing !== undefined) return existing;
  const list = new ListValue(c.engine.config.num("list-max-listpack-size"));
  c.db.set(key, list);
  return list;
}

/** After elements left a list through `event` (lpop, ltrim...): an emptied list deletes its key, with Redis's del event after it. */
export function afterRemoval(c: Client, key: string, list: ListValue, event: string): void {
  c.engine.notify(c.db, event, key, "l");
  if (list.size === 0) {
    c.db.delete(key);
    c.engine.notify(c.db, "del", key, "g");
  }
  c.engine.keyWritten(c.db, key);
}

/** After elements were pushed at one end: Redis names the event after the end, for LPUSHX and LMOVE too. */
function afterPush(c: Client, key: string, toHead: boolean): void {
  c.engine.notify(c.db, toHead ? "lpush" : "rpush", key, "l");
  c.engine.keyWritten(c.db, key);
}

export function popEvent(fromHead: boolean): string {
  return fromHead ? "lpop" : "rpop";
}

/** LEFT or RIGHT: true for the head, null after a syntax error. */
export function sideArg(c: Client, arg: Uint8Array): boolean | null {
  if (is(arg, "left")) return true;
  if (is(arg, "right")) return false;
  c.error(ERR.syntax);
  return null;
}

/** Pops up to count elements from one end and replies with them as an array. */
export function popInto(c: Client, key: string, list: ListValue, fromHead: boolean, count: number): void {
  const n = Math.min(count, list.size);
  c.out.array(n);
  for (let i = 0; i < n; i++) c.out.bulk(fromHead ? list.popFront() : list.popBack());
  afterRemoval(c, key, list, popEvent(fromHead));
}

/** The first non-empty list among keys (LMPOP, BLPOP): [key, list], undefined when none, null after WRONGTYPE. */
export function firstList(c: Client, keys: string[]): [string, ListValue] | undefined | null {
  for (const key of keys) {
    const list = writableList(c, key);
    if (list === null) return null;
    if (list !== undefined && list.size > 0) return [key, list];
  }
  return undefined;
}

/**
 * LMOVE's work: pops from src and pushes to dst. Returns false, having
 * replied nothing, when src is missing; true once it replied (the element,
 * or WRONGTYPE before anything moved).
 */
export function moveElement(c: Client, srcKey: string, dstKey: string, fromHead: boolean, toHead: boolean): boolean {
  const src = writableList(c, srcKey);
  if (src === null) return true;
  if (src === undefined) return false;
  const dst = writableList(c, dstKey);
  if (dst === null) return true;
  const v = fromHead ? src.popFront() : src.popBack();
  const target = listForPush(c, dstKey, dst);
  if (toHead) target.pushFront(v);
  else target.pushBack(v);
  afterPush(c, dstKey, toHead);
  afterRemoval(c, srcKey, src, popEvent(fromHead));
  c.out.bulk(v);
  return true;
}

export interface MpopArgs {
  keys: string[];
  fromHead: boolean;
  count: number;
}

/** LMPOP/BLMPOP arguments from argv[numkeysAt]: numkeys key... LEFT|RIGHT [COUNT n]; null after an error. */
export function parseMpop(c: Client, argv: Uint8Array[], numkeysAt: number): MpopArgs | null {
  const numkeys = parseInteger(str(argv[numkeysAt]));
  if (numkeys === null || numkeys < 1) return c.error("ERR numkeys should be greater than 0"), null;
  const sideAt = numkeysAt + numkeys + 1;
  if (sideAt >= argv.length) return c.error(ERR.syntax), null;
  const fromHead = sideArg(c, argv[sideAt]);
  if (fromHead === null) return null;
  let count = -1;
  for (let i = sideAt + 1; i < argv.length; i++) {
    if (count !== -1 || !is(argv[i], "count") || i + 1 >= argv.length) return c.error(ERR.syntax), null;
    count = parseInteger(str(argv[++i])) ?? 0;
    if (count < 1) return c.error("ERR count should be greater than 0"), null;
  }
  const keys = argv.slice(numkeysAt + 1, sideAt).map(str);
  return { keys, fromHead, count: count === -1 ? 1 : count };
}

/** The [key, [elements...]] reply of LMPOP and BLMPOP. */
export function mpopInto(c: Client, key: string, list: ListValue, args: MpopArgs): void {
  // LMPOP/BLMPOP propagate as LPOP/RPOP key <count popped>, as Redis 7.0.
  const propagation = c.engine.propagation;
  if (propagation.on) propagation.effect(c.db.id, [args.fromHead ? "LPOP" : "RPOP", key, String(Math.min(args.count, list.size))]);
  c.out.array(2);
  c.out.bulkStr(key);
  popInto(c, key, list, args.fromHead, args.count);
}

/** Key positions of LMPOP/BLMPOP: numkeys keys after the numkeys argument. */
export function mpopKeys(numkeysAt: number) {
  return (argv: Uint8Array[]): number[] => {
    const n = parseInteger(str(argv[numkeysAt])) ?? 0;
    const out: number[] = [];
    for (let i = numkeysAt + 1; i <= numkeysAt + n && i < argv.length; i++) out.push(i);
    return out;
  };
}

/** The two key specs of LMOVE-like commands: pop from argv[1], push to argv[2]. */
export const MOVE_KEY_SPECS: KeySpecDef[] = [
  { flags: "RW access delete", begin: 1, find: { range: [0, 1, 0] } },
  { flags: "RW insert", begin: 2, find: { range: [0, 1, 0] } },
];

function push(c: Client, argv: Uint8Array[], toHead: boolean, onlyExisting: boolean): void {
  const key = str(argv[1]);
  const existing = writableList(c, key);
  if (existing === null) return;
  if (existing === undefined && onlyExisting) return c.out.int(0);
  const list = listForPush(c, key, existing);
  for (let i = 2; i < argv.length; i++) {
    if (toHead) list.pushFront(argv[i]);
    else list.pushBack(argv[i]);
  }
  afterPush(c, key, toHead);
  c.out.int(list.size);
}

function pop(c: Client, argv: Uint8Array[], fromHead: boolean): void {
  if (argv.length > 3) return c.error(`ERR wrong number of arguments for '${fromHead ? "lpop" : "rpop"}' command`);
  let count = -1;
  if (argv.length === 3) {
    count = parseInteger(str(argv[2])) ?? -1;
    if (count < 0) return c.error("ERR value is out of range, must be positive");
  }
  const key = str(argv[1]);
  const list = writableList(c, key);
  if (list === null) return;
  if (list === undefined) return count === -1 ? c.out.nullBulk() : c.out.nullArray();
  if (count === -1) {
    c.out.bulk(fromHead ? list.popFront() : list.popBack());
    afterRemoval(c, key, list, popEvent(fromHead));
  } else if (count === 0) c.out.raw(CONST.emptyArray);
  else popInto(c, key, list, fromHead, count);
}

/** Redis's clamping of a start/stop pair to [0, size); null when the range is empty. */
function clampRange(start: number, stop: number, size: number): [number, number] | null {
  if (start < 0) start += size;
  if (stop < 0) stop += size;
  if (start < 0) start = 0;
  if (start > stop || start >= size) return null;
  return [start, Math.min(stop, size - 1)];
}

function lrange(c: Client, argv: Uint8Array[]): void {
  const start = intArg(c, argv[2]);
  if (start === null) return;
  const stop = intArg(c, argv[3]);
  if (stop === null) return;
  const list = readList(c, str(argv[1]));
  if (list === null) return;
  const range = list && clampRange(start, stop, list.size);
  if (!list || !range) return c.out.raw(CONST.emptyArray);
  let left = range[1] - range[0] + 1;
  c.out.array(left);
  list.walk(range[0], false, (node, pos) => {
    c.out.bulkFrom(node.buf, node.dataOffset(pos), node.length(pos));
    return --left > 0;
  });
}

function ltrim(c: Client, argv: Uint8Array[]): void {
  const start = intArg(c, argv[2]);
  if (start === null) return;
  const stop = intArg(c, argv[3]);
  if (stop === null) return;
  const key = str(argv[1]);
  const list = writableList(c, key);
  if (list === null) return;
  if (list !== undefined) {
    const range = clampRange(start, stop, list.size);
    if (range) list.trim(range[0], range[1]);
    else list.trim(list.size, list.size - 1);
    afterRemoval(c, key, list, "ltrim");
  }
  c.out.ok();
}

function lpos(c: Client, argv: Uint8Array[]): void {
  let rank = 1;
  let fromTail = false;
  let count = -1;
  let maxlen = 0;
  for (let i = 3; i < argv.length; i++) {
    const hasValue = i + 1 < argv.length;
    if (is(argv[i], "rank") && hasValue) {
      const r = parseInt64(str(argv[++i]));
      if (r === null) return c.error(ERR.notInt);
      if (r === 0n) {
        return c.error(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
      }
      fromTail = r < 0n;
      // Redis negates the rank in 64 bits: the most negative one stays negative and so matches the first hit.
      rank = r === INT64_MIN ? 1 : Number(r < 0n ? -r : r);
    } else if (is(argv[i], "count") && hasValue) {
      count = parseInteger(str(argv[++i])) ?? -1;
      if (count < 0) return c.error("ERR COUNT can't be negative");
    } else if (is(argv[i], "maxlen") && hasValue) {
      maxlen = parseInteger(str(argv[++i])) ?? -1;
      if (maxlen < 0) return c.error("ERR MAXLEN can't be negative");
    } else return c.error(ERR.syntax);
  }
  const list = readList(c, str(argv[1]));
  if (list === null) return;
  if (list === undefined) return count === -1 ? c.out.nullBulk() : c.out.raw(CONST.emptyArray);
  const element: Entry = argv[2];
  const found: number[] = [];
  const wanted = count === -1 ? 1 : count;
  let index = 0;
  let matches = 0;
  list.walk(fromTail ? -1 : 0, fromTail, (node, pos) => {
    if (maxlen !== 0 && index >= maxlen) return false;
    if (node.equals(pos, element) && ++matches >= rank) {
      found.push(fromTail ? list.size - 1 - index : index);
      if (wanted !== 0 && found.length === wanted) return false;
    }
    index++;
    return true;
  });
  if (count !== -1) {
    c.out.array(found.length);
    for (const i of found) c.out.int(i);
  } else if (found.length) c.out.int(found[0]);
  else c.out.nullBulk();
}

const write = { acl: "list", group: "list", keys: [1, 1, 1] as [number, number, number] };

export const listCommands: CommandDef[] = [
  ...([
    ["lpush", "1.0.0", "Prepend one or multiple elements to a list"],
    ["rpush", "1.0.0", "Append one or multiple elements to a list"],
    ["lpushx", "2.2.0", "Prepend an element to a list, only if the list exists"],
    ["rpushx", "2.2.0", "Append an element to a list, only if the list exists"],
  ]).map(([name, since, summary]): CommandDef => ({
    ...write,
    name,
    arity: -3,
    flags: "write denyoom fast",
    keySpec: "RW insert",
    since,
    summary,
    complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    run: (c, argv) => push(c, argv, name[0] === "l", name.endsWith("x")),
  })),
  ...(["lpop", "rpop"]).map((name): CommandDef => ({
    ...write,
    name,
    arity: -2,
    flags: "write fast",
    keySpec: "RW access delete",
    since: "1.0.0",
    summary: `Remove and get the ${name === "lpop" ? "first" : "last"} elements in a list`,
    complexity: "O(N) where N is the number of elements returned",
    run: (c, argv) => pop(c, argv, name === "lpop"),
  })),
  {
    ...write,
    name: "llen",
    arity: 2,
    flags: "readonly fast",
    keySpec: "RO",
    since: "1.0.0",
    summary: "Get the length of a list",
    run(c, argv) {
      const list = readList(c, str(argv[1]));
      if (list !== null) c.out.int(list?.size ?? 0);
    },
  },
  {
    ...write,
    name: "lrange",
    arity: 4,
    flags: "readonly",
    since: "1.0.0",
    summary: "Get a range of elements from a list",
    complexity:
      "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
    run: lrange,
  },
  {
    ...write,
    name: "lindex",
    arity: 3,
    flags: "readonly",
    since: "1.0.0",
    summary: "Get an element from a list by its index",
    complexity:
      "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
    run(c, argv) {
      const list = readList(c, str(argv[1]));
      if (list === null) return;
      if (list === undefined) return c.out.nullBulk();
      const index = intArg(c, argv[2]);
      if (index === null) return;
      const v = list.at(index);
      if (v === null) c.out.nullBulk();
      else c.out.bulk(v);
    },
  },
  {
    ...write,
    name: "lset",
    arity: 4,
    flags: "write denyoom",
    keySpec: "RW update",
    since: "1.0.0",
    summary: "Set the value of an element in a list by its index",
    complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
    run(c, argv) {
      const key = str(argv[1]);
      const list = writableList(c, key);
      if (list === null) return;
      if (list === undefined) return c.error(ERR.noKey);
      const index = intArg(c, argv[2]);
      if (index === null) return;
      if (!list.set(index, argv[3])) return c.error(ERR.outOfRange);
      c.engine.notify(c.db, "lset", key, "l");
      c.engine.keyWritten(c.db, key);
      c.out.ok();
    },
  },
  {
    ...write,
    name: "linsert",
    arity: 5,
    flags: "write denyoom",
    keySpec: "RW insert",
    since: "2.2.0",
    summary: "Insert an element before or after another element in a list",
    complexity:
      "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
    run(c, argv) {
      const after = is(argv[2], "after");
      if (!after && !is(argv[2], "before")) return c.error(ERR.syntax);
      const key = str(argv[1]);
      const list = writableList(c, key);
      if (list === null) return;
      if (list === undefined) return c.out.int(0);
      if (!list.insertAtPivot(argv[3], argv[4], after)) return c.out.int(-1);
      c.engine.notify(c.db, "linsert", key, "l");
      c.engine.keyWritten(c.db, key);
      c.out.int(list.size);
    },
  },
  {
    ...write,
    name: "lrem",
    arity: 4,
    flags: "write",
    keySpec: "RW delete",
    since: "1.0.0",
    summary: "Remove elements from a list",
    complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
    run(c, argv) {
      const count = intArg(c, argv[2]);
      if (count === null) return;
      const key = str(argv[1]);
      const list = writableList(c, key);
      if (list === null) return;
      if (list === undefined) return c.out.int(0);
      const removed = list.removeMatching(argv[3], Math.abs(count), count < 0);
      if (removed > 0) afterRemoval(c, key, list, "lrem");
      c.out.int(removed);
    },
  },
  {
    ...write,
    name: "ltrim",
    arity: 4,
    flags: "write",
    keySpec: "RW delete",
    since: "1.0.0",
    summary: "Trim a list to the specified range",
    complexity: "O(N) where N is the number of elements to be removed by the operation.",
    run: ltrim,
  },
  {
    ...write,
    name: "lpos",
    arity: -3,
    flags: "readonly",
    since: "6.0.6",
    summary: "Return the index of matching elements on a list",
    complexity:
      "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
    run: lpos,
  },
  {
    ...write,
    name: "rpoplpush",
    arity: 3,
    flags: "write denyoom",
    keys: [1, 2, 1],
    keySpecs: MOVE_KEY_SPECS,
    since: "1.2.0",
    summary: "Remove the last element in a list, prepend it to another list and return it",
    run(c, argv) {
      if (!moveElement(c, str(argv[1]), str(argv[2]), false, true)) c.out.nullBulk();
    },
  },
  {
    ...write,
    name: "lmove",
    arity: 5,
    flags: "write denyoom",
    keys: [1, 2, 1],
    keySpecs: MOVE_KEY_SPECS,
    since: "6.2.0",
    summary: "Pop an element from a list, push it to another list and return it",
    run(c, argv) {
      const fromHead = sideArg(c, argv[3]);
      if (fromHead === null) return;
      const toHead = sideArg(c, argv[4]);
      if (toHead === null) return;
      if (!moveElement(c, str(argv[1]), str(argv[2]), fromHead, toHead)) c.out.nullBulk();
    },
  },
  {
    name: "lmpop",
    arity: -4,
    flags: "write",
    acl: "list",
    group: "list",
    getKeys: mpopKeys(1),
    keySpecs: [{ flags: "RW access delete", begin: 1, find: { keynum: [0, 1, 1] } }],
    since: "7.0.0",
    summary: "Pop elements from a list",
    complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
    run(c, argv) {
      const args = parseMpop(c, argv, 1);
      if (args === null) return;
      const found = firstList(c, args.keys);
      if (found === null) return;
      if (found === undefined) return c.out.nullArray();
      mpopInto(c, found[0], found[1], args);
    },
  },
];
