/**
 * DEBUG: the subcommands tests and tools rely on. DIGEST and DIGEST-VALUE
 * give redis-server's digests (core/persist/digest.ts); OBJECT prints
 * Redis's line for a key (the address is made up: Respite's values have
 * none). Like Redis, DIGEST-VALUE and OBJECT see keys past their deadline.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { lower, str } from "../util/bytes.ts";
import { ERR } from "./args.ts";
import { replyHelp, subcommandSyntaxError } from "./help.ts";
import { datasetDigest, valueDigest } from "../persist/digest.ts";
import { isShared, SHARED_REFCOUNT } from "./object.ts";
import { isString, type Value } from "../types/value.ts";
import { stringEncoding } from "../types/string.ts";
import { isList, type ListValue } from "../types/list.ts";
import type { Listpack } from "../types/listpack.ts";
import { ListpackWriter } from "../persist/rdb/listpack.ts";
import { serializedLength } from "../persist/rdb/index.ts";
import type { Engine } from "../server/engine.ts";
import { monotonicMs } from "../util/monotonic.ts";

const DEBUG_HELP = [
  "DIGEST",
  "    Output a hex signature representing the current DB content.",
  "DIGEST-VALUE <key> [<key> ...]",
  "    Output a hex signature of the values of all the specified keys.",
  "OBJECT <key>",
  "    Show low level info about `key` and associated value.",
  "RELOAD [option ...]",
  "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
  "    * MERGE: conflicting keys will be loaded from RDB.",
  "    * NOFLUSH: the existing database will not be removed before load, but",
  "      conflicting keys will generate an exception and kill the server.",
  "    * NOSAVE: the database will be loaded from an existing RDB file.",
  "    Examples:",
  "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
  "      the database.",
  "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
  "      existing RDB file.",
  "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
  "      file to the database.",
  "SET-ACTIVE-EXPIRE <0|1>",
  "    Setting it to 0 disables expiring keys in background when they are not",
  "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
  "    default.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
];

/** C's strtod/atoi leniency, which DEBUG uses: the longest numeric prefix, 0 when there is none. */
function leadingNumber(s: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(s);
  return m ? Number(m[0]) : 0;
}

/**
 * Blocks the whole process, as DEBUG SLEEP does in Redis: Atomics.wait
 * where the host allows it on this thread, otherwise a busy loop.
 */
function blockFor(ms: number): void {
  if (!(ms > 0)) return;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  } catch {
    const until = monotonicMs() + ms;
    while (monotonicMs() < until) {
      // spin: this thread may not wait
    }
  }
}

/** DEBUG OBJECT's quicklist details, as Redis appends them for a list. */
function quicklistDetails(engine: Engine, list: ListValue): string {
  const nodes = list.nodeCount;
  // Each node's size as the listpack Redis would hold: rebuilt node by node.
  const lp = new ListpackWriter();
  let bytes = 0;
  let current: Listpack | null = null;
  list.walk(0, false, (node, pos) => {
    if (node !== current) {
      if (current) bytes += lp.close();
      current = node;
      lp.reset();
    }
    lp.entry(node.value(pos));
    return true;
  });
  if (current) bytes += lp.close();
  const compressed = engine.config.num("list-compress-depth") !== 0 ? 1 : 0;
  return ` ql_nodes:${nodes} ql_avg_node:${(list.size / nodes).toFixed(2)} ql_listpack_max:${list.fill}` +
    ` ql_compressed:${compressed} ql_uncompressed_size:${bytes}`;
}

/** A made-up address, stable per key, for "Value at:". */
function fakeAddress(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return "0x7f" + ((h >>> 0) * 16).toString(16).padStart(10, "0");
}

function objectLine(c: Client, key: string, v: Value): string {
  const encoding = isString(v) ? stringEncoding(v) : v.encoding();
  const refcount = isShared(c, v) ? SHARED_REFCOUNT : 1;
  const extra = isList(v) ? quicklistDetails(c.engine, v) : "";
  const length = serializedLength(v, { compression: c.engine.config.get("rdbcompression") === "yes" });
  // Redis's lru field as it is (the LFU word under an LFU policy), and the idle time read from it whatever the policy.
  const lru = c.db.data.accessOf(key);
  const idle = Math.floor(c.engine.access.idleMs(lru) / 1000);
  return `Value at:${fakeAddress(key)} refcount:${refcount} encoding:${encoding} serializedlength:${length}` +
    ` lru:${lru} lru_seconds_idle:${idle}${extra}`;
}

function debug(c: Client, argv: Uint8Array[]): void {
  const sub = lower(str(argv[1]));
  const n = argv.length;
  if (sub === "help" && n === 2) return replyHelp(c, "debug", DEBUG_HELP);
  if (sub === "sleep" && n === 3) {
    blockFor(leadingNumber(str(argv[2])) * 1000);
    return c.out.ok();
  }
  if (sub === "set-active-expire" && n === 3) {
    c.engine.activeExpire = Math.trunc(leadingNumber(str(argv[2]))) !== 0;
    return c.out.ok();
  }
  if (sub === "digest" && n === 2) return c.out.simple(datasetDigest(c.engine.dbs));
  if (sub === "digest-value") {
    c.out.array(n - 2);
    for (let i = 2; i < n; i++) c.out.simple(valueDigest(c.db, str(argv[i])));
    return;
  }
  if (sub === "reload") {
    const opts = { merge: false, noflush: false, nosave: false };
    for (const arg of argv.slice(2)) {
      const opt = lower(str(arg));
      if (opt !== "merge" && opt !== "noflush" && opt !== "nosave") {
        return c.error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
      }
      opts[opt] = true;
    }
    const err = c.engine.persistence.reload(opts);
    return err === null ? c.out.ok() : c.error(err);
  }
  if (sub === "object" && n === 3) {
    const key = str(argv[2]);
    const v = c.db.data.get(key);
    if (v === undefined) return c.error(ERR.noKey);
    return c.out.simple(objectLine(c, key, v));
  }
  subcommandSyntaxError(c, "debug", str(argv[1]));
}

export const debugCommands: CommandDef[] = [
  {
    name: "debug",
    arity: -2,
    flags: "admin noscript loading stale protected",
    group: "server",
    since: "1.0.0",
    summary: "A container for debugging commands",
    complexity: "Depends on subcommand.",
    run: debug,
  },
];
