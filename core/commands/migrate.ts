/**
 * MIGRATE and RESTORE-ASKING: moving keys to another instance, which is
 * what `redis-cli --cluster reshard` does slot by slot. As Redis's
 * migrateCommand: each key's DUMP payload goes to the target as RESTORE
 * (RESTORE-ASKING in cluster mode, so the target takes it for a slot it is
 * importing), after AUTH and SELECT when needed, over a connection cached per
 * host:port (core/cluster/migrate-sockets.ts); a key the target acknowledged
 * is deleted here (unless COPY) and the deletions propagate as one DEL.
 *
 * Redis blocks its event loop for the transfer. Nothing here may await, so
 * the MIGRATE client is blocked instead (core/server/blocking.ts) and every
 * other client's commands are held until the target has answered
 * (ClientPause.holdAllForMigrate): nobody reads or writes a key between its
 * DUMP and its DEL, as in Redis, so a write acknowledged on the source is
 * never lost by a migration. Inside MULTI/EXEC or a script, where a command
 * cannot wait, MIGRATE is refused (test/DIFFERENCES.md).
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import type { Db } from "../db/db.ts";
import type { Value } from "../types/value.ts";
import { concat, is, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { encodeCommand } from "../resp/decoder.ts";
import { ERR, readKey } from "./args.ts";
import { restore, RESTORE_COMPLEXITY } from "./dump.ts";
import { dumpValue } from "../persist/rdb/index.ts";
import type { MigrateSocket, TransferEnd } from "../cluster/migrate-sockets.ts";

interface MigrateArgs {
  host: string;
  port: number;
  /** host:port as given, the connection cache's key (Redis's, from the arguments' text). */
  name: string;
  dbid: number;
  timeout: number;
  copy: boolean;
  replace: boolean;
  username: Uint8Array | null;
  password: Uint8Array | null;
  keys: Uint8Array[];
}

/** One key to send: its name (bytes and binary string) and its DUMP payload, taken when MIGRATE ran. */
interface Item {
  key: Uint8Array;
  name: string;
  payload: Uint8Array;
}

/** C's atoi: optional blanks and sign, then digits up to the first non-digit; 0 when none. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m === null ? 0 : Number(m[1]);
}

/** Parses MIGRATE's arguments as Redis 7.0 does, in its order; null after replying with the error. */
function parseArgs(c: Client, argv: Uint8Array[]): MigrateArgs | null {
  let copy = false, replace = false;
  let username: Uint8Array | null = null, password: Uint8Array | null = null;
  let keys = [argv[3]];
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (is(argv[j], "copy")) copy = true;
    else if (is(argv[j], "replace")) replace = true;
    else if (is(argv[j], "auth")) {
      if (more < 1) return syntax(c);
      password = argv[++j];
    } else if (is(argv[j], "auth2")) {
      if (more < 2) return syntax(c);
      username = argv[++j];
      password = argv[++j];
    } else if (is(argv[j], "keys")) {
      if (argv[3].length !== 0) {
        c.error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
        return null;
      }
      keys = argv.slice(j + 1);
      break;
    } else return syntax(c);
  }
  let timeout = parseInteger(str(argv[5]));
  const dbid = timeout === null ? null : parseInteger(str(argv[4]));
  if (timeout === null || dbid === null) {
    c.error(ERR.notInt);
    return null;
  }
  if (timeout <= 0) timeout = 1000;
  const host = str(argv[1]);
  const portText = str(argv[2]);
  // Redis dials atoi(port) as a 16-bit port: what is not a port number ends refused.
  const port = atoi(portText) & 0xffff;
  return { host, port, name: `${host}:${portText}`, dbid, timeout, copy, replace, username, password, keys: keys.map((k) => k.slice()) };
}

function syntax(c: Client): null {
  c.error(ERR.syntax);
  return null;
}

const migrate: Handler = (c, argv) => {
  const args = parseArgs(c, argv);
  if (args === null) return;
  const e = c.engine;
  const compression = e.config.get("rdbcompression") === "yes";
  const items: Item[] = [];
  for (const key of args.keys) {
    const name = str(key);
    const v: Value | undefined = readKey(c, name);
    if (v !== undefined) items.push({ key, name, payload: dumpValue(v, { compression }) });
  }
  if (items.length === 0) return c.out.simple("NOKEY");
  if (!e.blocking.canBlock(c)) return c.error("ERR MIGRATE is not supported inside MULTI/EXEC or scripts by Respite");
  new Migration(c, c.db, args, items).start();
};

/** One MIGRATE in flight: the client blocked, everyone else held, until the target's replies are in. */
class Migration {
  constructor(private readonly c: Client, private readonly db: Db, private readonly args: MigrateArgs, private readonly items: Item[]) {}

  start(): void {
    const e = this.c.engine;
    e.pause.holdAllForMigrate(true);
    // No deadline: the transfer's own timeout ends the wait.
    e.blocking.block(this.c, [], 0, () => false);
    this.attempt(true);
  }

  /** Redis's try_again: get the connection, send, read; a broken cached connection is retried once on a new one. */
  private attempt(mayRetry: boolean): void {
    const a = this.args;
    this.c.engine.migrateSockets.get(a.host, a.port, a.timeout, a.name, (sock, why) => {
      if (sock !== null) return this.send(sock, mayRetry);
      if (why === "refused" && mayRetry) return this.attempt(false);
      this.finish(ioError(why === "refused" ? "IOERR error or timeout writing to target instance"
        : "IOERR error or timeout connecting to the client"));
    });
  }

  private send(sock: MigrateSocket, mayRetry: boolean): void {
    const a = this.args;
    const e = this.c.engine;
    const parts: Uint8Array[] = [];
    if (a.password !== null) parts.push(encodeCommand(a.username !== null ? ["AUTH", a.username, a.password] : ["AUTH", a.password]));
    const select = sock.lastDbid !== a.dbid;
    if (select) parts.push(encodeCommand(["SELECT", a.dbid]));
    const restoreName = e.cluster !== null ? "RESTORE-ASKING" : "RESTORE";
    const now = e.clock.now();
    // Keys whose deadline has passed are skipped, neither sent nor deleted here.
    const sent: Item[] = [];
    for (const item of this.items) {
      let ttl = 0;
      const at = this.db.ttl(item.name);
      if (at !== undefined) {
        ttl = at - now;
        if (ttl < 0) continue;
        if (ttl < 1) ttl = 1;
      }
      sent.push(item);
      const cmd: Array<Uint8Array | string | number> = [restoreName, item.key, ttl, item.payload];
      if (a.replace) cmd.push("REPLACE");
      parts.push(encodeCommand(cmd));
    }
    const preamble = (a.password !== null ? 1 : 0) + (select ? 1 : 0);
    sock.transfer(concat(parts), preamble + sent.length, a.timeout, (lines, end) =>
      this.received(sock, select, sent, lines, end, mayRetry));
  }

  /** The target's lines, read as Redis's migrateCommand reads them. */
  private received(sock: MigrateSocket, select: boolean, sent: Item[], lines: string[], end: TransferEnd, mayRetry: boolean): void {
    const a = this.args;
    const sockets = this.c.engine.migrateSockets;
    let at = 0;
    const authLine = a.password !== null ? lines[at++] : undefined;
    const selectLine = select ? lines[at++] : undefined;
    if (at > lines.length) {
      // No AUTH or SELECT reply: the transfer failed before any key.
      sockets.close(a.name);
      if (end !== "timeout" && mayRetry) return this.attempt(false);
      return this.finish(ioError("IOERR error or timeout reading to target instance"));
    }
    let targetError: string | null = null;
    const acked: Item[] = [];
    let j = 0;
    for (; j < sent.length && at < lines.length; j++, at++) {
      const line = lines[at];
      const failed = authLine?.[0] === "-" ? authLine : selectLine?.[0] === "-" ? selectLine : line[0] === "-" ? line : null;
      if (failed !== null) {
        if (targetError === null) {
          sock.lastDbid = -1;
          targetError = failed.slice(1);
        }
      } else if (!a.copy) acked.push(sent[j]);
    }
    const socketError = j < sent.length;
    if (targetError === null && socketError && j === 0 && mayRetry && end !== "timeout") {
      sockets.close(a.name);
      return this.attempt(false);
    }
    if (socketError) sockets.close(a.name);
    this.deleteAcked(acked);
    if (targetError !== null) return this.finish((c) => c.error("ERR Target instance replied with error: " + targetError));
    if (socketError) return this.finish(ioError("IOERR error or timeout reading to target instance"));
    sock.lastDbid = a.dbid;
    this.finish((c) => c.out.ok());
  }

  /** The keys the target acknowledged leave this instance, as one DEL for the AOF and replicas. */
  private deleteAcked(acked: Item[]): void {
    if (acked.length === 0) return;
    const e = this.c.engine;
    e.now = e.clock.now();
    const db = this.db;
    const deleted: Uint8Array[] = [];
    for (const item of acked) {
      if (!db.delete(item.name)) continue;
      e.keyWritten(db, item.name);
      e.notify(db, "del", item.name, "g");
      deleted.push(item.key);
    }
    if (deleted.length === 0) return;
    if (e.propagation.on) {
      e.propagation.also(db.id, ["DEL", ...deleted]);
      this.c.woff = e.primary.offset;
    }
  }

  /** The wait ends: the client gets its reply (if still connected), then everyone runs again. */
  private finish(reply: (c: Client) => void): void {
    const e = this.c.engine;
    e.now = e.clock.now();
    e.blocking.release(this.c, reply);
    e.pause.holdAllForMigrate(false);
    e.blocking.serveReady();
  }
}

/** An I/O error reply in Redis's words. */
function ioError(text: string): (c: Client) => void {
  return (c) => c.error(text);
}

/**
 * MIGRATE's keys as Redis 7.0's migrateGetKeys finds them: argv[3], or with
 * an empty argv[3] those after a KEYS keyword (COPY, REPLACE, AUTH's and
 * AUTH2's arguments skipped on the way); none when KEYS follows a non-empty key.
 */
export function migrateKeys(argv: Uint8Array[]): number[] {
  let first = 3, num = 1;
  for (let i = 6; i < argv.length; i++) {
    // A KEYS that ends the arguments is not taken for the option (7.0.15 then reports argv[3]).
    if (is(argv[i], "keys") && i + 1 < argv.length) {
      if (argv[3].length > 0) num = 0;
      else {
        first = i + 1;
        num = argv.length - first;
      }
      break;
    }
    if (is(argv[i], "auth")) i += 1;
    else if (is(argv[i], "auth2")) i += 2;
  }
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(first + i);
  return out;
}

export const migrateCommands: CommandDef[] = [
  {
    name: "migrate",
    arity: -6,
    flags: "write",
    keys: [3, 3, 1],
    getKeys: migrateKeys,
    keySpecs: [
      { flags: "RW access delete", begin: 3, find: { range: [0, 1, 0] } },
      { flags: "RW access delete incomplete", begin: { keyword: "KEYS", startfrom: -2 }, find: { range: [-1, 1, 0] } },
    ],
    tips: "nondeterministic_output",
    acl: "keyspace dangerous",
    group: "generic",
    since: "2.6.0",
    summary: "Atomically transfer a key from a Redis instance to another one.",
    complexity:
      "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
    run: migrate,
  },
  {
    name: "restore-asking",
    arity: -4,
    flags: "write denyoom asking",
    keys: [1, 1, 1],
    keySpec: "OW update",
    acl: "keyspace dangerous",
    group: "server",
    since: "3.0.0",
    summary: "An internal command for migrating keys in a cluster",
    complexity: RESTORE_COMPLEXITY,
    run: restore,
  },
];
