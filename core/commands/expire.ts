/**
 * Key deadlines: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (with NX XX GT LT),
 * TTL PTTL EXPIRETIME PEXPIRETIME and PERSIST. Deadlines are absolute
 * Unix times in ms in Db.expires; a deadline already past deletes the key
 * at once (an explicit DEL, as Redis replicates it, not an expiry).
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { ERR, readKey } from "./args.ts";

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

const NX = 1, XX = 2, GT = 4, LT = 8;
const FLAG_NAMES: Array<[string, number]> = [["nx", NX], ["xx", XX], ["gt", GT], ["lt", LT]];

/** The NX/XX/GT/LT flags after the time, or null after replying Redis's error. */
function parseFlags(c: Client, argv: Uint8Array[]): number | null {
  let flags = 0;
  for (let i = 3; i < argv.length; i++) {
    const hit = FLAG_NAMES.find(([name]) => is(argv[i], name));
    if (!hit) {
      c.error(`ERR Unsupported option ${str(argv[i])}`);
      return null;
    }
    flags |= hit[1];
  }
  if (flags & NX && flags & (XX | GT | LT)) {
    c.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return null;
  }
  if (flags & GT && flags & LT) {
    c.error("ERR GT and LT options at the same time are not compatible");
    return null;
  }
  return flags;
}

/**
 * The absolute deadline in ms, computed in 64 bits with Redis's overflow
 * checks; negative results are allowed (they delete the key).
 */
function parseDeadline(c: Client, arg: Uint8Array, unit: "s" | "ms", absolute: boolean, name: string): bigint | null {
  let when = parseInt64(str(arg));
  if (when === null) {
    c.error(ERR.notInt);
    return null;
  }
  const base = absolute ? 0n : BigInt(c.engine.now);
  const invalid = unit === "s" && (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n);
  if (unit === "s") when *= 1000n;
  if (invalid || when > INT64_MAX - base) {
    c.error(`ERR invalid expire time in '${name}' command`);
    return null;
  }
  return when + base;
}

/** Whether the NX/XX/GT/LT conditions allow replacing deadline `current` (undefined: none) by `when`. */
function allowed(flags: number, current: number | undefined, when: bigint): boolean {
  if (flags & NX && current !== undefined) return false;
  if (flags & XX && current === undefined) return false;
  // No deadline counts as an infinite one: GT never beats it, LT always does.
  if (flags & GT && (current === undefined || when <= BigInt(current))) return false;
  if (flags & LT && current !== undefined && when >= BigInt(current)) return false;
  return true;
}

function expireCommand(name: string, unit: "s" | "ms", absolute: boolean, since: string, summary: string): CommandDef {
  return {
    name,
    arity: -3,
    flags: "write fast",
    keys: [1, 1, 1],
    keySpec: "RW update",
    acl: "keyspace",
    group: "generic",
    since,
    summary,
    run(c, argv) {
      const flags = parseFlags(c, argv);
      if (flags === null) return;
      const when = parseDeadline(c, argv[2], unit, absolute, name);
      if (when === null) return;
      const key = str(argv[1]);
      const db = c.db;
      const now = c.engine.now;
      if (db.lookup(key, now) === undefined) return c.out.int(0);
      if (flags !== 0 && !allowed(flags, db.ttl(key), when)) return c.out.int(0);
      const past = when <= BigInt(now);
      if (past) db.delete(key);
      else db.setExpire(key, Number(when));
      c.engine.keyWritten(db, key);
      // Propagated as DEL when already past, else as PEXPIREAT with the absolute deadline, as Redis.
      const propagation = c.engine.propagation;
      if (propagation.on && past) propagation.rewrite([c.engine.config.bool("lazyfree-lazy-expire") ? "UNLINK" : "DEL", argv[1]]);
      else if (propagation.on && name !== "pexpireat") propagation.rewrite(["PEXPIREAT", argv[1], String(when), ...argv.slice(3)]);
      c.engine.notify(db, past ? "del" : "expire", key, "g");
      c.out.int(1);
    },
  };
}

/** TTL and friends: -2 for no key, -1 for no deadline, else `show(deadline, now)`. */
function ttlCommand(
  name: string,
  since: string,
  summary: string,
  tips: string,
  show: (at: number, now: number) => number,
): CommandDef {
  return {
    name,
    arity: 2,
    flags: "readonly fast",
    keys: [1, 1, 1],
    keySpec: "RO access",
    tips,
    acl: "keyspace",
    group: "generic",
    since,
    summary,
    run(c, argv) {
      const key = str(argv[1]);
      // Not an access for the key's LRU/LFU clock (Redis's LOOKUP_NOTOUCH).
      if (readKey(c, key, false) === undefined) return c.out.int(-2);
      const at = c.db.ttl(key);
      c.out.int(at === undefined ? -1 : show(at, c.engine.now));
    },
  };
}

export const expireCommands: CommandDef[] = [
  expireCommand("expire", "s", false, "1.0.0", "Set a key's time to live in seconds"),
  expireCommand("pexpire", "ms", false, "2.6.0", "Set a key's time to live in milliseconds"),
  expireCommand("expireat", "s", true, "1.2.0", "Set the expiration for a key as a UNIX timestamp"),
  expireCommand("pexpireat", "ms", true, "2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds"),
  ttlCommand("ttl", "1.0.0", "Get the time to live for a key in seconds", "nondeterministic_output", (at, now) => Math.floor((Math.max(at - now, 0) + 500) / 1000)),
  ttlCommand("pttl", "2.6.0", "Get the time to live for a key in milliseconds", "nondeterministic_output", (at, now) => Math.max(at - now, 0)),
  ttlCommand("expiretime", "7.0.0", "Get the expiration Unix timestamp for a key", "", (at) => Math.floor((at + 500) / 1000)),
  ttlCommand("pexpiretime", "7.0.0", "Get the expiration Unix timestamp for a key in milliseconds", "", (at) => at),
  {
    name: "persist",
    arity: 2,
    flags: "write fast",
    keys: [1, 1, 1],
    keySpec: "RW update",
    acl: "keyspace",
    group: "generic",
    since: "2.2.0",
    summary: "Remove the expiration from a key",
    run(c, argv) {
      const key = str(argv[1]);
      const db = c.db;
      if (db.lookup(key, c.engine.now) === undefined || !db.persist(key)) return c.out.int(0);
      c.engine.keyWritten(db, key);
      c.engine.notify(db, "persist", key, "g");
      c.out.int(1);
    },
  },
];
