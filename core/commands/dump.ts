/**
 * DUMP and RESTORE: a key's value as Redis's DUMP payload (the RDB encoding
 * of the value, the RDB version, a CRC64) and back. The payload codec is
 * core/persist/rdb/dump.ts; this module is the commands' argument handling,
 * errors and keyspace effects, in Redis 7.0's order.
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { ERR, readKey } from "./args.ts";
import { putKey } from "./keys.ts";
import { dumpValue, restoreValue } from "../persist/rdb/index.ts";
import type { Value } from "../types/value.ts";

export const RESTORE_COMPLEXITY =
  "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).";

const BUSYKEY = "BUSYKEY Target key name already exists.";

/** sanitize-dump-payload: "yes" always checks every entry, "clients" for all but a primary's stream, as Redis. */
function deepSanitize(c: Client): boolean {
  const mode = c.engine.config.get("sanitize-dump-payload");
  return mode === "yes" || mode === "clients";
}

const dump: Handler = (c, argv) => {
  const v = readKey(c, str(argv[1]));
  if (v === undefined) return c.out.nullBulk();
  c.out.bulk(dumpValue(v, { compression: c.engine.config.get("rdbcompression") === "yes" }));
};

/** RESTORE, also RESTORE-ASKING's (core/commands/migrate.ts). */
export const restore: Handler = (c, argv) => {
  let replace = false, absttl = false, idle = -1, freq = -1;
  for (let j = 4; j < argv.length; j++) {
    const more = j + 1 < argv.length;
    if (is(argv[j], "replace")) replace = true;
    else if (is(argv[j], "absttl")) absttl = true;
    else if (is(argv[j], "idletime") && more && freq === -1) {
      const n = parseInteger(str(argv[++j]));
      if (n === null) return c.error(ERR.notInt);
      if (n < 0) return c.error("ERR Invalid IDLETIME value, must be >= 0");
      idle = n;
    } else if (is(argv[j], "freq") && more && idle === -1) {
      const n = parseInteger(str(argv[++j]));
      if (n === null) return c.error(ERR.notInt);
      if (n < 0 || n > 255) return c.error("ERR Invalid FREQ value, must be >= 0 and <= 255");
      freq = n;
    } else return c.error(ERR.syntax);
  }
  const db = c.db;
  const now = c.engine.now;
  const key = str(argv[1]);
  if (!replace && db.lookup(key, now) !== undefined) return c.error(BUSYKEY);
  let ttl = parseInteger(str(argv[2]));
  if (ttl === null) return c.error(ERR.notInt);
  if (ttl < 0) return c.error("ERR Invalid TTL value, must be >= 0");
  let value: Value;
  try {
    value = restoreValue(argv[3], { config: c.engine.config, sanitize: deepSanitize(c) });
  } catch (e) {
    return c.error("ERR " + (e as Error).message);
  }
  const deleted = replace && db.delete(key);
  if (ttl !== 0 && !absttl) ttl += now;
  if (ttl !== 0 && ttl <= now) {
    // Already past its deadline: the key ends deleted, as if it had been restored then expired.
    if (deleted) {
      const propagation = c.engine.propagation;
      const del = c.engine.config.get("lazyfree-lazy-server-del") === "yes" ? "UNLINK" : "DEL";
      if (propagation.on) propagation.rewrite([del, argv[1]]);
      c.engine.keyWritten(db, key);
      c.engine.notify(db, "del", key, "g");
    }
    return c.out.ok();
  }
  putKey(c, db, key, value, ttl !== 0 ? ttl : undefined);
  // IDLETIME under a non-LFU policy, FREQ under an LFU one, set the key's access clock (Redis's objectSetLRUOrLFU).
  db.setAccess(key, idle, freq);
  // A relative TTL propagates as the deadline it gave, as Redis rewrites it.
  if (ttl !== 0 && !absttl && c.engine.propagation.on) {
    c.engine.propagation.rewrite([argv[0], argv[1], String(ttl), ...argv.slice(3), "ABSTTL"]);
  }
  c.engine.notify(db, "restore", key, "g");
  c.out.ok();
};

export const dumpCommands: CommandDef[] = [
  {
    name: "dump",
    arity: 2,
    flags: "readonly",
    keys: [1, 1, 1],
    keySpec: "RO access",
    tips: "nondeterministic_output",
    acl: "keyspace",
    group: "generic",
    since: "2.6.0",
    summary: "Return a serialized version of the value stored at the specified key.",
    complexity:
      "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
    run: dump,
  },
  {
    name: "restore",
    arity: -4,
    flags: "write denyoom",
    keys: [1, 1, 1],
    keySpec: "OW update",
    acl: "keyspace dangerous",
    group: "generic",
    since: "2.6.0",
    summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
    complexity: RESTORE_COMPLEXITY,
    run: restore,
  },
];
