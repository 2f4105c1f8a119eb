/**
 * SORT and SORT_RO over lists, sets and sorted sets: BY patterns (with
 * `->field` for hashes; a pattern without `*` means no sorting), GET
 * patterns (`#` is the element itself), LIMIT, ASC/DESC, ALPHA and STORE,
 * following Redis's sortCommandGeneric step by step, including its quirks:
 * a sorted set is converted to a skiplist for good, and numeric ties are
 * broken by comparing the elements' bytes.
 */
import type { CommandDef, KeySpecDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { ERR, readKey } from "./args.ts";
import { isString, type Collection, type StringValue, type Value } from "../types/value.ts";
import { asStr } from "../types/string.ts";
import { isZset } from "../types/zset.ts";
import { isList, ListValue } from "../types/list.ts";
import { strtod } from "./zset-args.ts";

/** What SORT needs of a set and of a hash (core/types/set.ts, hash.ts). */
interface SetLike extends Collection {
  members(): string[];
}
interface HashLike extends Collection {
  get(field: string): StringValue | undefined;
}

interface SortOptions {
  desc: boolean;
  alpha: boolean;
  limitStart: number;
  limitCount: number;
  by: string | null;
  /** BY without `*`: keep the native order. */
  dontSort: boolean;
  gets: string[];
  store: string | null;
}

function parseOptions(c: Client, argv: Uint8Array[], readonly: boolean): SortOptions | null {
  const o: SortOptions = { desc: false, alpha: false, limitStart: 0, limitCount: -1, by: null, dontSort: false, gets: [], store: null };
  for (let j = 2; j < argv.length; j++) {
    const a = argv[j];
    const left = argv.length - j - 1;
    if (is(a, "asc")) o.desc = false;
    else if (is(a, "desc")) o.desc = true;
    else if (is(a, "alpha")) o.alpha = true;
    else if (is(a, "limit") && left >= 2) {
      const start = parseInteger(str(argv[j + 1]));
      const count = start === null ? null : parseInteger(str(argv[j + 2]));
      if (count === null) {
        c.error(ERR.notInt);
        return null;
      }
      [o.limitStart, o.limitCount] = [start!, count];
      j += 2;
    } else if (!readonly && is(a, "store") && left >= 1) o.store = str(argv[++j]);
    else if (is(a, "by") && left >= 1) {
      o.by = str(argv[++j]);
      o.dontSort = !cString(o.by).includes("*");
    } else if (is(a, "get") && left >= 1) o.gets.push(str(argv[++j]));
    else {
      c.error(ERR.syntax);
      return null;
    }
  }
  return o;
}

/** A pattern as C string functions see it: up to the first NUL. */
function cString(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

/**
 * Redis's lookupKeyByPattern: `#` is the element; otherwise the first `*`
 * becomes the element, and `->field` after it reads a hash field.
 */
function lookupByPattern(c: Client, pattern: string, element: string): string | null {
  const head = cString(pattern);
  if (head === "#") return element;
  const star = head.indexOf("*");
  if (star < 0) return null;
  const arrow = head.indexOf("->", star + 1);
  const hasField = arrow >= 0 && arrow + 2 < head.length;
  const key = pattern.slice(0, star) + element + pattern.slice(star + 1, hasField ? arrow : pattern.length);
  const v = readKey(c, key);
  if (v === undefined) return null;
  if (hasField) {
    if (isString(v) || v.type !== "hash") return null;
    const field = (v as HashLike).get(pattern.slice(arrow + 2));
    return field === undefined ? null : asStr(field);
  }
  return isString(v) ? asStr(v) : null;
}

/** The elements to sort, in the value's native order (a zset converted first, as Redis does). */
function elementsOf(v: Value | undefined): string[] {
  if (v === undefined || isString(v)) return [];
  if (isZset(v)) {
    v.convert();
    const out: string[] = [];
    v.forEach((m) => out.push(m));
    return out;
  }
  if (isList(v)) {
    const out: string[] = [];
    v.walk(0, false, (node, pos) => {
      out.push(node.string(pos));
      return true;
    });
    return out;
  }
  return (v as SetLike).members();
}

interface Item {
  element: string;
  score: number;
  /** ALPHA BY: the looked-up value, null when missing. */
  by: string | null;
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sort(c: Client, argv: Uint8Array[], readonly: boolean): void {
  const o = parseOptions(c, argv, readonly);
  if (o === null) return;
  const v = readKey(c, str(argv[1]));
  if (v !== undefined && (isString(v) || !["list", "set", "zset"].includes(v.type))) return c.error(ERR.wrongType);
  const isSet = v !== undefined && !isString(v) && v.type === "set";
  if (o.dontSort && isSet && o.store !== null) {
    // Sets have no order of their own: a stored result is sorted so it is the same everywhere.
    o.dontSort = false;
    o.alpha = true;
    o.by = null;
  }
  let elements = elementsOf(v);
  const length = elements.length;
  let start = o.limitStart < 0 ? 0 : o.limitStart;
  let end = o.limitCount < 0 ? length - 1 : start + o.limitCount - 1;
  if (start >= length) {
    start = length - 1;
    end = length - 2;
  }
  if (end >= length) end = length - 1;
  if (o.dontSort && !isSet) {
    // Lists and sorted sets keep their order, read from the far end for DESC.
    if (o.desc) elements.reverse();
    elements = end >= start ? elements.slice(start, end + 1) : [];
    end -= start;
    start = 0;
  }
  const items: Item[] = elements.map((element) => ({ element, score: 0, by: null }));
  let badScore = false;
  if (!o.dontSort) {
    for (const item of items) {
      const byVal = o.by === null ? item.element : lookupByPattern(c, o.by, item.element);
      if (byVal === null) continue;
      if (o.alpha) {
        if (o.by !== null) item.by = byVal;
        continue;
      }
      const r = strtod(cString(byVal));
      if (r === null || r.erange) badScore = true;
      else item.score = r.value;
    }
    const sign = o.desc ? -1 : 1;
    items.sort((x, y) => sign * compareItems(x, y, o));
  }
  if (badScore) return c.error("ERR One or more scores can't be converted into double");
  const picked = items.slice(start, end + 1);
  const output: Array<string | null> = [];
  for (const item of picked) {
    if (o.gets.length === 0) output.push(item.element);
    for (const pattern of o.gets) output.push(lookupByPattern(c, pattern, item.element));
  }
  if (o.store === null) {
    c.out.array(output.length);
    for (const s of output) s === null ? c.out.nullBulk() : c.out.bulkStr(s);
    return;
  }
  storeList(c, o.store, output);
  c.out.int(output.length);
}

function compareItems(x: Item, y: Item, o: SortOptions): number {
  if (!o.alpha) return x.score > y.score ? 1 : x.score < y.score ? -1 : byteOrder(x.element, y.element);
  if (o.by === null) return byteOrder(x.element, y.element);
  if (x.by === null || y.by === null) return x.by === y.by ? 0 : x.by === null ? -1 : 1;
  return byteOrder(x.by, y.by);
}

/** STORE: the result as a list (missing GETs as empty strings), or the destination deleted when empty. */
function storeList(c: Client, key: string, output: Array<string | null>): void {
  if (output.length === 0) {
    if (!c.db.delete(key)) return;
    c.engine.notify(c.db, "del", key, "g");
  } else {
    const list = new ListValue(c.engine.config.num("list-max-listpack-size"));
    for (const s of output) list.pushBack(s ?? "");
    c.db.set(key, list);
    c.engine.notify(c.db, "sortstore", key, "l");
  }
  c.engine.keyWritten(c.db, key);
}

/** Redis's sortGetKeys: the sorted key, and the last STORE's destination. */
function sortKeys(argv: Uint8Array[]): number[] {
  const keys = [1];
  let store = -1;
  for (let i = 2; i < argv.length; i++) {
    if (is(argv[i], "limit")) i += 2;
    else if (is(argv[i], "get") || is(argv[i], "by")) i += 1;
    else if (is(argv[i], "store") && i + 1 < argv.length) store = i + 1;
  }
  if (store > 0) keys.push(store);
  return keys;
}

const SORTED_KEY: KeySpecDef = { flags: "RO access", begin: 1, find: { range: [0, 1, 0] } };
const PATTERN_KEYS: KeySpecDef = {
  flags: "RO access",
  notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
  begin: "unknown",
  find: "unknown",
};
const STORE_KEY: KeySpecDef = {
  flags: "OW update",
  notes: "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
  begin: "unknown",
  find: "unknown",
};
const COST = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

export const sortCommands: CommandDef[] = [
  {
    name: "sort", arity: -2, flags: "write denyoom", keys: [1, 1, 1], getKeys: sortKeys, keyFlags: () => [SORTED_KEY.flags, STORE_KEY.flags],
    keySpecs: [SORTED_KEY, PATTERN_KEYS, STORE_KEY], acl: "set sortedset list dangerous", group: "generic",
    since: "1.0.0", complexity: COST,
    summary: "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
    run: (c, argv) => sort(c, argv, false),
  },
  {
    name: "sort_ro", arity: -2, flags: "readonly", keys: [1, 1, 1], keySpecs: [SORTED_KEY, PATTERN_KEYS],
    acl: "set sortedset list dangerous", group: "generic", since: "7.0.0", complexity: COST,
    summary: "Returns the sorted elements of a list, a set, or a sorted set.",
    run: (c, argv) => sort(c, argv, true),
  },
];
