/**
 * Whole-database commands: DBSIZE FLUSHDB FLUSHALL SWAPDB MOVE. (SELECT is
 * a connection command.) Flushing goes through Db.clear(), which also ends
 * every SCAN walking that db.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import type { Db } from "../db/db.ts";
import { is, str } from "../util/bytes.ts";
import { ERR } from "./args.ts";
import { int32Arg, putKey, SAME_OBJECT } from "./keys.ts";

function validDb(c: Client, id: number): boolean {
  return id >= 0 && id < c.engine.dbs.length;
}

/** FLUSHDB/FLUSHALL accept nothing or ASYNC or SYNC; both run synchronously here. */
function flushArgsOk(c: Client, argv: Uint8Array[]): boolean {
  if (argv.length === 1 || (argv.length === 2 && (is(argv[1], "async") || is(argv[1], "sync")))) return true;
  c.error(ERR.syntax);
  return false;
}

/** Empties a db; WATCHers of keys it held see the change. */
function flush(c: Client, db: Db): void {
  c.engine.dirty += db.size;
  c.engine.dbReplaced(db);
  db.clear();
}

export const databaseCommands: CommandDef[] = [
  {
    name: "dbsize",
    arity: 1,
    flags: "readonly fast",
    tips: "request_policy:all_shards response_policy:agg_sum",
    acl: "keyspace",
    group: "server",
    since: "1.0.0",
    summary: "Return the number of keys in the selected database",
    run(c) {
      c.out.int(c.db.size);
    },
  },
  {
    name: "flushdb",
    arity: -1,
    flags: "write",
    tips: "request_policy:all_shards response_policy:all_succeeded",
    acl: "keyspace dangerous",
    group: "server",
    since: "1.0.0",
    summary: "Remove all keys from the current database",
    complexity: "O(N) where N is the number of keys in the selected database",
    run(c, argv) {
      if (!flushArgsOk(c, argv)) return;
      flush(c, c.db);
      c.out.ok();
    },
  },
  {
    name: "flushall",
    arity: -1,
    flags: "write",
    tips: "request_policy:all_shards response_policy:all_succeeded",
    acl: "keyspace dangerous",
    group: "server",
    since: "1.0.0",
    summary: "Remove all keys from all databases",
    complexity: "O(N) where N is the total number of keys in all databases",
    run(c, argv) {
      if (!flushArgsOk(c, argv)) return;
      for (const db of c.engine.dbs) flush(c, db);
      c.engine.persistence.flushedAll();
      c.engine.dirty++;
      c.out.ok();
    },
  },
  {
    name: "swapdb",
    arity: 3,
    flags: "write fast",
    acl: "keyspace dangerous",
    group: "server",
    since: "4.0.0",
    summary: "Swaps two Redis databases",
    complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
    run(c, argv) {
      if (c.engine.cluster !== null) return c.error("ERR SWAPDB is not allowed in cluster mode");
      const a = int32Arg(c, argv[1], "ERR invalid first DB index");
      if (a === null) return;
      const b = int32Arg(c, argv[2], "ERR invalid second DB index");
      if (b === null) return;
      if (!validDb(c, a) || !validDb(c, b)) return c.error(ERR.dbIndex);
      if (a !== b) {
        const [da, db] = [c.engine.dbs[a], c.engine.dbs[b]];
        c.engine.dbReplaced(da, db);
        c.engine.dbReplaced(db, da);
        da.swapWith(db);
      }
      c.engine.dirty++;
      c.out.ok();
    },
  },
  {
    name: "move",
    arity: 3,
    flags: "write fast",
    keys: [1, 1, 1],
    keySpec: "RW access update",
    acl: "keyspace",
    group: "generic",
    since: "1.0.0",
    summary: "Move a key to another database",
    run(c, argv) {
      if (c.engine.cluster !== null) return c.error("ERR MOVE is not allowed in cluster mode");
      const id = int32Arg(c, argv[2]);
      if (id === null) return;
      if (!validDb(c, id)) return c.error(ERR.dbIndex);
      const src = c.db;
      const dst = c.engine.dbs[id];
      if (src === dst) return c.error(SAME_OBJECT);
      const key = str(argv[1]);
      const now = c.engine.now;
      const value = src.lookup(key, now);
      if (value === undefined || dst.lookup(key, now) !== undefined) return c.out.int(0);
      const expireAt = src.ttl(key);
      const access = src.data.accessOf(key);
      src.delete(key);
      c.engine.keyWritten(src, key);
      putKey(c, dst, key, value, expireAt, access);
      c.engine.notify(src, "move_from", key, "g");
      c.engine.notify(dst, "move_to", key, "g");
      c.out.int(1);
    },
  },
];
