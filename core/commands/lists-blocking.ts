/**
 * Blocking list commands: BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP. Each first
 * tries to answer as its non-blocking form; otherwise it waits on its keys
 * through core/server/blocking.ts, and when one becomes ready it is served
 * from that key, as Redis 7.0 does (a key holding another type keeps the
 * client waiting).
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";
import { parseTimeout } from "../server/blocking.ts";
import { isList, type ListValue } from "../types/list.ts";
import { afterRemoval, firstList, MOVE_KEY_SPECS, moveElement, mpopInto, mpopKeys, parseMpop, popEvent, sideArg } from "./lists.ts";

/** The list at key when it has elements, the condition for serving a client blocked on it; else null. */
function readyList(c: Client, key: string): ListValue | null {
  const v = c.db.lookup(key, c.engine.now);
  return v !== undefined && isList(v) && v.size > 0 ? v : null;
}

/** BLPOP/BRPOP's reply: the flat pair [key, element]. */
function popPair(c: Client, key: string, list: ListValue, fromHead: boolean): void {
  c.out.array(2);
  c.out.bulkStr(key);
  const v = fromHead ? list.popFront() : list.popBack();
  afterRemoval(c, key, list, popEvent(fromHead));
  if (c.engine.propagation.on) c.engine.propagation.effect(c.db.id, [fromHead ? "LPOP" : "RPOP", key]);
  c.out.bulk(v);
}

/** BLPOP/BRPOP: pops from the first non-empty list, or waits for one. */
function blockingPop(c: Client, argv: Uint8Array[], fromHead: boolean): void {
  const deadline = parseTimeout(c, argv[argv.length - 1]);
  if (deadline === null) return;
  const keys = argv.slice(1, -1).map(str);
  const found = firstList(c, keys);
  if (found === null) return;
  if (found !== undefined) return popPair(c, found[0], found[1], fromHead);
  if (!c.engine.blocking.canBlock(c)) return c.out.nullArray();
  c.engine.blocking.block(c, keys, deadline, (key) => {
    const list = readyList(c, key);
    if (list) popPair(c, key, list, fromHead);
    return list !== null;
  });
}

/** BLMOVE/BRPOPLPUSH: moves one element, waiting on src while it is empty. */
function blockingMove(c: Client, argv: Uint8Array[], fromHead: boolean, toHead: boolean, timeoutArg: Uint8Array): void {
  const deadline = parseTimeout(c, timeoutArg);
  if (deadline === null) return;
  const src = str(argv[1]);
  const dst = str(argv[2]);
  const propagation = c.engine.propagation;
  // Propagated as RPOPLPUSH / LMOVE (with the sides as given at once, in lower case when served), as Redis 7.0.
  const side = (head: boolean) => (head ? "left" : "right");
  const effect = (served: boolean) =>
    argv.length === 4 ? ["RPOPLPUSH", src, dst] : ["LMOVE", src, dst, served ? side(fromHead) : argv[3], served ? side(toHead) : argv[4]];
  if (moveElement(c, src, dst, fromHead, toHead)) {
    if (propagation.on) propagation.rewrite(effect(false));
    return;
  }
  // Inside EXEC Redis answers an empty source with a plain null, not the null array of a timeout.
  if (!c.engine.blocking.canBlock(c)) return c.out.nullBulk();
  c.engine.blocking.block(c, [src], deadline, (key) => {
    if (readyList(c, key) === null || !moveElement(c, src, dst, fromHead, toHead)) return false;
    if (propagation.on) propagation.effect(c.db.id, effect(true));
    return true;
  });
}

const common = { acl: "list", group: "list" };

export const listBlockingCommands: CommandDef[] = [
  ...(["blpop", "brpop"]).map((name): CommandDef => ({
    ...common,
    name,
    arity: -3,
    flags: "write noscript blocking",
    keys: [1, -2, 1],
    keySpec: "RW access delete",
    since: "2.0.0",
    summary: `Remove and get the ${name === "blpop" ? "first" : "last"} element in a list, or block until one is available`,
    complexity: "O(N) where N is the number of provided keys.",
    run: (c, argv) => blockingPop(c, argv, name === "blpop"),
  })),
  {
    ...common,
    name: "brpoplpush",
    arity: 4,
    flags: "write denyoom noscript blocking",
    keys: [1, 2, 1],
    keySpecs: MOVE_KEY_SPECS,
    since: "2.2.0",
    summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
    run: (c, argv) => blockingMove(c, argv, false, true, argv[3]),
  },
  {
    ...common,
    name: "blmove",
    arity: 6,
    flags: "write denyoom noscript blocking",
    keys: [1, 2, 1],
    keySpecs: MOVE_KEY_SPECS,
    since: "6.2.0",
    summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
    run(c, argv) {
      const fromHead = sideArg(c, argv[3]);
      if (fromHead === null) return;
      const toHead = sideArg(c, argv[4]);
      if (toHead === null) return;
      blockingMove(c, argv, fromHead, toHead, argv[5]);
    },
  },
  {
    ...common,
    name: "blmpop",
    arity: -5,
    flags: "write blocking",
    getKeys: mpopKeys(2),
    keySpecs: [{ flags: "RW access delete", begin: 2, find: { keynum: [0, 1, 1] } }],
    since: "7.0.0",
    summary: "Pop elements from a list, or block until one is available",
    complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
    run(c, argv) {
      const args = parseMpop(c, argv, 2);
      if (args === null) return;
      const deadline = parseTimeout(c, argv[1]);
      if (deadline === null) return;
      const found = firstList(c, args.keys);
      if (found === null) return;
      if (found !== undefined) return mpopInto(c, found[0], found[1], args);
      if (!c.engine.blocking.canBlock(c)) return c.out.nullArray();
      c.engine.blocking.block(c, args.keys, deadline, (key) => {
        const list = readyList(c, key);
        if (list) mpopInto(c, key, list, args);
        return list !== null;
      });
    },
  },
];
