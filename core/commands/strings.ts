/**
 * String commands that store and fetch whole values: GET SET SETNX SETEX
 * PSETEX GETSET GETDEL GETEX MGET MSET MSETNX. The counter, range and LCS
 * commands live beside this file; stringCommands gathers them all.
 */
import type { CommandDef } from "./table.ts";
import type { PropArg } from "../persist/propagate.ts";
import type { Client } from "../server/client.ts";
import { is, lower, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { ERR, lent, readKey, readString, readStringLent } from "./args.ts";
import { LENT } from "../db/sharded-map.ts";
import { argValue } from "../types/string.ts";
import { isString, type StringValue } from "../types/value.ts";
import { counterCommands } from "./strings-counters.ts";
import { rangeCommands } from "./strings-ranges.ts";
import { lcsCommands } from "./strings-lcs.ts";

const MAX_MS = 2n ** 63n - 1n;

/**
 * Parses an expire argument (EX/PX/EXAT/PXAT) into an absolute ms deadline,
 * with Redis's "invalid expire time in '<cmd>' command" on bad values.
 */
export function parseExpire(c: Client, arg: Uint8Array, unit: "s" | "ms", absolute: boolean, cmd: string): number | null {
  const v = parseInt64(str(arg));
  if (v === null) {
    c.error(ERR.notInt);
    return null;
  }
  const invalid = () => {
    c.error(`ERR invalid expire time in '${cmd}' command`);
    return null;
  };
  if (v <= 0n) return invalid();
  if (unit === "s" && v > MAX_MS / 1000n) return invalid();
  let ms = unit === "s" ? v * 1000n : v;
  if (!absolute) {
    if (ms > MAX_MS - BigInt(c.engine.now)) return invalid();
    ms += BigInt(c.engine.now);
  }
  return Number(ms);
}

/** The name Redis puts in error texts: the command's own name in lower case. */
const commandName = (argv: Uint8Array[]) => lower(str(argv[0]));

type ExpireKind = "ex" | "px" | "exat" | "pxat";
const EXPIRE_KINDS: ExpireKind[] = ["ex", "px", "exat", "pxat"];

/** The options SET and GETEX share, as Redis's parseExtendedStringArguments reads them. */
interface StringOptions {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  expireKind: ExpireKind | null;
  expireArg: Uint8Array | null;
}

const NO_OPTIONS: StringOptions = {
  nx: false,
  xx: false,
  get: false,
  keepTtl: false,
  persist: false,
  expireKind: null,
  expireArg: null,
};

/**
 * Reads SET's (forSet) or GETEX's options from argv[start..]. Conflicting
 * options are a syntax error, but repeating the same expire option is
 * allowed and the last value wins, as in Redis. Values are checked later.
 */
function parseStringOptions(c: Client, argv: Uint8Array[], start: number, forSet: boolean): StringOptions | null {
  const o: StringOptions = { ...NO_OPTIONS };
  for (let i = start; i < argv.length; i++) {
    const a = argv[i];
    const hasNext = i + 1 < argv.length;
    const kind = a.length <= 4 ? EXPIRE_KINDS.find((k) => is(a, k)) : undefined;
    if (forSet && is(a, "nx") && !o.xx) o.nx = true;
    else if (forSet && is(a, "xx") && !o.nx) o.xx = true;
    else if (forSet && is(a, "get")) o.get = true;
    else if (forSet && is(a, "keepttl") && !o.persist && o.expireKind === null) o.keepTtl = true;
    else if (!forSet && is(a, "persist") && o.expireKind === null && !o.keepTtl) o.persist = true;
    else if (
      kind !== undefined && hasNext && !o.keepTtl && !o.persist && (o.expireKind === null || o.expireKind === kind)
    ) {
      o.expireKind = kind;
      o.expireArg = argv[++i];
    } else {
      c.error(ERR.syntax);
      return null;
    }
  }
  return o;
}

/** The absolute deadline the options ask for: -1 for none, null when invalid (error sent). */
function optionDeadline(c: Client, o: StringOptions, argv: Uint8Array[]): number | null {
  if (o.expireKind === null) return -1;
  const unit = o.expireKind === "ex" || o.expireKind === "exat" ? "s" : "ms";
  return parseExpire(c, o.expireArg!, unit, o.expireKind.endsWith("at"), commandName(argv));
}

function replyValue(c: Client, v: StringValue | undefined): void {
  if (v === undefined) c.out.nullBulk();
  else c.out.bulkValue(v);
}

/**
 * The SET family's common path (Redis's setGenericCommand): deadline check,
 * optional GET of the old value, NX/XX condition, store, then the reply.
 */
function setGeneric(
  c: Client,
  argv: Uint8Array[],
  value: Uint8Array,
  o: StringOptions,
  onSet: (c: Client) => void,
  onAbort: (c: Client) => void,
): void {
  const expireAt = optionDeadline(c, o, argv);
  if (expireAt === null) return;
  const key = str(argv[1]);
  let old: StringValue | undefined;
  if (o.get) {
    const v = readString(c, key);
    if (v === null) return;
    old = v;
  }
  if (o.nx || o.xx) {
    const exists = c.db.has(key, c.engine.now);
    if (o.nx === exists) return o.get ? replyValue(c, old) : onAbort(c);
  }
  c.db.set(key, argValue(value, c.engine.slabs), o.keepTtl);
  if (expireAt >= 0) c.db.setExpire(key, expireAt);
  c.engine.keyWritten(c.db, key);
  const propagation = c.engine.propagation;
  // Propagated as SET key value PXAT <ms> when it has a deadline, else without GET, as Redis.
  if (propagation.on && expireAt >= 0) propagation.rewrite(["SET", argv[1], value, "PXAT", String(expireAt)]);
  else if (propagation.on && o.get) propagation.rewrite(argv.filter((a, i) => i < 3 || !is(a, "get")));
  c.engine.notify(c.db, "set", key, "$");
  if (expireAt >= 0) c.engine.notify(c.db, "expire", key, "g");
  if (o.get) replyValue(c, old);
  else onSet(c);
}

const SETNX_OPTIONS: StringOptions = { ...NO_OPTIONS, nx: true };
const SETEX_OPTIONS: StringOptions = { ...NO_OPTIONS, expireKind: "ex" };
const PSETEX_OPTIONS: StringOptions = { ...NO_OPTIONS, expireKind: "px" };

const replyOk = (c: Client) => c.out.ok();
const replyNull = (c: Client) => c.out.nullBulk();
const replyOne = (c: Client) => c.out.int(1);
const replyZero = (c: Client) => c.out.int(0);

/** SETEX/PSETEX: key, ttl, value. */
function setWithTtl(options: StringOptions): (c: Client, argv: Uint8Array[]) => void {
  return (c, argv) => setGeneric(c, argv, argv[3], { ...options, expireArg: argv[2] }, replyOk, replyNull);
}

/** MSET's and MSETNX's argument count check: key value pairs after the name. */
function pairsOk(c: Client, argv: Uint8Array[]): boolean {
  if (argv.length % 2 === 1) return true;
  c.error(`ERR wrong number of arguments for '${commandName(argv)}' command`);
  return false;
}

function setPairs(c: Client, argv: Uint8Array[]): void {
  for (let i = 1; i < argv.length; i += 2) {
    const key = str(argv[i]);
    c.db.set(key, argValue(argv[i + 1], c.engine.slabs));
    c.engine.keyWritten(c.db, key);
    c.engine.notify(c.db, "set", key, "$");
  }
}

const base = { acl: "string", group: "string" };

const wholeValueCommands: CommandDef[] = [
  {
    ...base,
    name: "get",
    arity: 2,
    flags: "readonly fast",
    keys: [1, 1, 1],
    since: "1.0.0",
    summary: "Returns the string value of a key.",
    run(c, argv) {
      const v = readStringLent(c, str(argv[1]));
      if (v === null) return;
      if (v === undefined) c.out.nullBulk();
      else if (v === LENT) c.out.bulkFrom(lent.bytes, lent.at, lent.length);
      else c.out.bulkValue(v);
    },
  },
  {
    ...base,
    name: "set",
    arity: -3,
    flags: "write denyoom",
    keys: [1, 1, 1],
    keySpecs: [{
      flags: "RW access update variable_flags",
      notes: "RW and ACCESS due to the optional `GET` argument",
      begin: 1,
      find: { range: [0, 1, 0] },
    }],
    keyFlags: (argv) => [argv.slice(3).some((a) => is(a, "get")) ? "RW access update" : "OW update"],
    since: "1.0.0",
    summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
    complexity: "O(1)",
    run(c, argv) {
      if (argv.length === 3) {
        // The hot path: a plain SET needs no option parsing.
        const key = str(argv[1]);
        c.db.set(key, argValue(argv[2], c.engine.slabs));
        c.engine.keyWritten(c.db, key);
        c.engine.notify(c.db, "set", key, "$");
        return c.out.ok();
      }
      const o = parseStringOptions(c, argv, 3, true);
      if (o !== null) setGeneric(c, argv, argv[2], o, replyOk, replyNull);
    },
  },
  {
    ...base,
    name: "setnx",
    arity: 3,
    flags: "write denyoom fast",
    keys: [1, 1, 1],
    keySpec: "OW insert",
    since: "1.0.0",
    summary: "Set the string value of a key only when the key doesn't exist.",
    run: (c, argv) => setGeneric(c, argv, argv[2], SETNX_OPTIONS, replyOne, replyZero),
  },
  {
    ...base,
    name: "setex",
    arity: 4,
    flags: "write denyoom",
    keys: [1, 1, 1],
    keySpec: "OW update",
    since: "2.0.0",
    summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
    run: setWithTtl(SETEX_OPTIONS),
  },
  {
    ...base,
    name: "psetex",
    arity: 4,
    flags: "write denyoom",
    keys: [1, 1, 1],
    keySpec: "OW update",
    since: "2.6.0",
    summary: "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
    run: setWithTtl(PSETEX_OPTIONS),
  },
  {
    ...base,
    name: "getset",
    arity: 3,
    flags: "write denyoom fast",
    keys: [1, 1, 1],
    keySpec: "RW access update",
    since: "1.0.0",
    summary: "Returns the previous string value of a key after setting it to a new value.",
    run(c, argv) {
      const key = str(argv[1]);
      const old = readString(c, key);
      if (old === null) return;
      c.db.set(key, argValue(argv[2], c.engine.slabs));
      c.engine.keyWritten(c.db, key);
      c.engine.notify(c.db, "set", key, "$");
      replyValue(c, old);
    },
  },
  {
    ...base,
    name: "getdel",
    arity: 2,
    flags: "write fast",
    keys: [1, 1, 1],
    keySpec: "RW access delete",
    since: "6.2.0",
    summary: "Returns the string value of a key after deleting the key.",
    run(c, argv) {
      const key = str(argv[1]);
      const v = readString(c, key);
      if (v === null) return;
      replyValue(c, v);
      if (v !== undefined) {
        c.db.delete(key);
        c.engine.keyWritten(c.db, key);
        if (c.engine.propagation.on) c.engine.propagation.rewrite(["DEL", argv[1]]);
        c.engine.notify(c.db, "del", key, "g");
      }
    },
  },
  {
    ...base,
    name: "getex",
    arity: -2,
    flags: "write fast",
    keys: [1, 1, 1],
    keySpecs: [{
      flags: "RW access update",
      notes: "RW and UPDATE because it changes the TTL",
      begin: 1,
      find: { range: [0, 1, 0] },
    }],
    since: "6.2.0",
    summary: "Returns the string value of a key after setting its expiration time.",
    run(c, argv) {
      const o = parseStringOptions(c, argv, 2, false);
      if (o === null) return;
      const key = str(argv[1]);
      const v = readString(c, key);
      if (v === null) return;
      if (v === undefined) return c.out.nullBulk();
      const expireAt = optionDeadline(c, o, argv);
      if (expireAt === null) return;
      c.out.bulkValue(v);
      const absolute = o.expireKind === "exat" || o.expireKind === "pxat";
      let event: string;
      let effect: PropArg[];
      if (absolute && expireAt <= c.engine.now) {
        c.db.delete(key);
        event = "del";
        effect = [c.engine.config.bool("lazyfree-lazy-expire") ? "UNLINK" : "DEL", argv[1]];
      } else if (expireAt >= 0) {
        c.db.setExpire(key, expireAt);
        event = "expire";
        effect = ["PEXPIREAT", argv[1], String(expireAt)];
      } else if (o.persist && c.db.persist(key)) {
        event = "persist";
        effect = ["PERSIST", argv[1]];
      } else return;
      c.engine.keyWritten(c.db, key);
      if (c.engine.propagation.on) c.engine.propagation.rewrite(effect);
      c.engine.notify(c.db, event, key, "g");
    },
  },
  {
    ...base,
    name: "mget",
    arity: -2,
    flags: "readonly fast",
    keys: [1, -1, 1],
    tips: "request_policy:multi_shard",
    since: "1.0.0",
    summary: "Atomically returns the string values of one or more keys.",
    complexity: "O(N) where N is the number of keys to retrieve.",
    run(c, argv) {
      c.out.array(argv.length - 1);
      for (let i = 1; i < argv.length; i++) {
        const v = readKey(c, str(argv[i]));
        if (v !== undefined && isString(v)) c.out.bulkValue(v);
        else c.out.nullBulk();
      }
    },
  },
  {
    ...base,
    name: "mset",
    arity: -3,
    flags: "write denyoom",
    keys: [1, -1, 2],
    keySpec: "OW update",
    tips: "request_policy:multi_shard response_policy:all_succeeded",
    since: "1.0.1",
    summary: "Atomically creates or modifies the string values of one or more keys.",
    complexity: "O(N) where N is the number of keys to set.",
    run(c, argv) {
      if (!pairsOk(c, argv)) return;
      setPairs(c, argv);
      c.out.ok();
    },
  },
  {
    ...base,
    name: "msetnx",
    arity: -3,
    flags: "write denyoom",
    keys: [1, -1, 2],
    keySpec: "OW insert",
    tips: "request_policy:multi_shard response_policy:agg_min",
    since: "1.0.1",
    summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.",
    complexity: "O(N) where N is the number of keys to set.",
    run(c, argv) {
      if (!pairsOk(c, argv)) return;
      for (let i = 1; i < argv.length; i += 2) {
        if (c.db.has(str(argv[i]), c.engine.now)) return c.out.int(0);
      }
      setPairs(c, argv);
      c.out.int(1);
    },
  },
];

export const stringCommands: CommandDef[] = [
  ...wholeValueCommands,
  ...counterCommands,
  ...rangeCommands,
  ...lcsCommands,
];
