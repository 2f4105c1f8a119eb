/**
 * OBJECT: ENCODING REFCOUNT IDLETIME FREQ HELP. IDLETIME and FREQ read the
 * key's access clock (core/db/access.ts): seconds since the last access
 * under a non-LFU policy, the decayed LFU counter under an LFU one, each
 * refused under the other kind of policy as Redis does. OBJECT's lookups
 * are no access themselves.
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";
import { readKey } from "./args.ts";
import { isString, type Value } from "../types/value.ts";
import { stringEncoding } from "../types/string.ts";
import { replyHelp } from "./help.ts";

/** Redis's refcount for its shared integer objects (OBJ_SHARED_REFCOUNT). */
export const SHARED_REFCOUNT = 2147483647;
/** Redis shares integer values 0..9999 (OBJ_SHARED_INTEGERS). */
const SHARED_INTEGERS = 10000;
const POLICY_NOTE = "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";


/**
 * Redis stops sharing integers once maxmemory is set with an LRU/LFU
 * policy, since shared objects cannot carry per-key access data.
 */
export function isShared(c: Client, v: Value): boolean {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= SHARED_INTEGERS) return false;
  const policy = c.engine.config.get("maxmemory-policy");
  return c.engine.config.num("maxmemory") === 0 || !/lru|lfu/.test(policy);
}

/** A subcommand taking one key: replies null for a missing key, else `answer(value)`. */
function keySubcommand(
  name: string,
  since: string,
  summary: string,
  answer: (c: Client, v: Value, key: string) => void,
): CommandDef {
  const run: Handler = (c, argv) => {
    const key = str(argv[2]);
    const v = readKey(c, key, false);
    if (v === undefined) c.out.nullBulk();
    else answer(c, v, key);
  };
  return {
    name,
    arity: 3,
    flags: "readonly",
    keys: [2, 2, 1],
    keySpec: "RO",
    tips: "nondeterministic_output",
    acl: "keyspace",
    group: "generic",
    since,
    summary,
    run,
  };
}

const HELP_LINES = [
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
];

export const objectCommands: CommandDef[] = [
  {
    name: "object",
    arity: -2,
    flags: "",
    group: "generic",
    since: "2.2.3",
    summary: "A container for object introspection commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      keySubcommand("encoding", "2.2.3", "Inspect the internal encoding of a Redis object", (c, v) => {
        c.out.bulkStr(isString(v) ? stringEncoding(v) : v.encoding());
      }),
      keySubcommand("refcount", "2.2.3", "Get the number of references to the value of the key", (c, v) => {
        c.out.int(isShared(c, v) ? SHARED_REFCOUNT : 1);
      }),
      keySubcommand("idletime", "2.2.3", "Get the time since a Redis object was last accessed", (c, _v, key) => {
        const clock = c.engine.access;
        if (clock.lfu) return c.error(`ERR An LFU maxmemory policy is selected, idle time not tracked. ${POLICY_NOTE}`);
        c.out.int(Math.floor(clock.idleMs(c.db.data.accessOf(key)) / 1000));
      }),
      keySubcommand("freq", "4.0.0", "Get the logarithmic access frequency counter of a Redis object", (c, _v, key) => {
        const clock = c.engine.access;
        if (!clock.lfu) {
          return c.error(`ERR An LFU maxmemory policy is not selected, access frequency not tracked. ${POLICY_NOTE}`);
        }
        c.out.int(clock.freq(c.db.data.accessOf(key)));
      }),
      {
        name: "help",
        arity: 2,
        flags: "loading stale",
        acl: "keyspace",
        group: "generic",
        since: "6.2.0",
        summary: "Show helpful text about the different subcommands",
        run: (c) => replyHelp(c, "object", HELP_LINES),
      },
    ],
  },
];
