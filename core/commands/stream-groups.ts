/**
 * Consumer-group commands that manage groups and their pending entries:
 * XGROUP (CREATE CREATECONSUMER DELCONSUMER DESTROY SETID HELP), XACK,
 * XPENDING, XCLAIM, XAUTOCLAIM, with Redis 7.0's replies, errors, keyspace
 * events and propagation. XREADGROUP is in stream-readgroup.ts, XINFO in
 * stream-info.ts; this module's list includes theirs.
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { replyHelp, subcommandSyntaxError } from "./help.ts";
import { ERR } from "./args.ts";
import { compareIds, formatId, incrId, MIN_ID, type Stream, Stream as StreamType, type StreamId } from "../types/stream.ts";
import { addCounter, type Counter, counter, INVALID_ENTRIES_READ, type Pel, type PendingEntry, type StreamConsumer, StreamGroup } from "../types/stream-groups.ts";
import {
  boundId,
  consumerOf,
  createConsumer,
  cstr,
  findGroup,
  groupsChanged,
  longArg,
  looseId,
  propagateClaim,
  propagateGroupId,
  replyEntryIfAny,
  replyIds,
  stampTime,
  strictId,
} from "./stream-group-args.ts";
import { readStream, writableStream } from "./stream-args.ts";
import { xreadgroupCommands } from "./stream-readgroup.ts";
import { xinfoCommands } from "./stream-info.ts";

function noGroup(c: Client, key: string, group: string): void {
  c.error(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(group)}'`);
}

/** The command propagates through the effects it declares (Redis's preventCommandPropagation). */
function effectsOnly(c: Client): void {
  if (c.engine.propagation.on) c.engine.propagation.prevent();
}

// ---- XGROUP ----

const XGROUP_HELP = [
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
];

/** xgroupCommand: options, key and group checks in Redis's order, then the subcommand. */
function xgroup(c: Client, argv: Uint8Array[]): void {
  const sub = str(argv[1]).toLowerCase();
  const create = sub === "create";
  const subError = () => subcommandSyntaxError(c, "xgroup", str(argv[1]));
  let mkstream = false;
  let entriesRead: Counter = INVALID_ENTRIES_READ;
  for (let i = 5; i < argv.length;) {
    if (create && is(argv[i], "mkstream")) {
      mkstream = true;
      i++;
    } else if ((create || sub === "setid") && is(argv[i], "entriesread") && i + 1 < argv.length) {
      const n = parseInt64(str(argv[i + 1]));
      if (n === null) return c.error(ERR.notInt);
      if (n < -1n) return c.error("ERR value for ENTRIESREAD must be positive or -1");
      entriesRead = counter(n);
      i += 2;
    } else return subError();
  }
  const key = str(argv[2]);
  let s = writableStream(c, key);
  if (s === null) return;
  const name = str(argv[3]);
  const g = findGroup(s, name);
  if (!mkstream) {
    if (s === undefined) {
      return c.error(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
      );
    }
    if (g === undefined && sub !== "create" && sub !== "destroy") {
      return c.error(`NOGROUP No such consumer group '${cstr(name)}' for key name '${cstr(key)}'`);
    }
  }
  const argc = argv.length;
  if (create && argc >= 5 && argc <= 8) {
    let id: StreamId | null;
    if (str(argv[4]) === "$") id = s?.lastId ?? MIN_ID;
    else if ((id = strictId(c, argv[4])) === null) return;
    const created = s === undefined;
    if (s === undefined) {
      s = new StreamType();
      c.db.set(key, s);
      // A new key is a modification (WATCH, tracking), as the group alone is not.
      c.engine.keyWritten(c.db, key);
    }
    s.groups ??= new Map();
    if (s.groups.has(name)) return c.error("BUSYGROUP Consumer Group name already exists");
    s.groups.set(name, new StreamGroup(name, id, entriesRead));
    c.out.ok();
    if (created) c.db.data.resized(key);
    else groupsChanged(c, key);
    c.engine.notify(c.db, "xgroup-create", key, "t");
  } else if (sub === "setid" && (argc === 5 || argc === 7)) {
    let id: StreamId | null;
    if (str(argv[4]) === "$") id = s!.lastId;
    else if ((id = looseId(c, argv[4])) === null) return;
    g!.lastId = id;
    g!.entriesRead = entriesRead;
    c.out.ok();
    groupsChanged(c, key);
    c.engine.notify(c.db, "xgroup-setid", key, "t");
  } else if (sub === "destroy" && argc === 4) {
    if (g === undefined) return c.out.int(0);
    s!.groups!.delete(name);
    c.out.int(1);
    groupsChanged(c, key);
    c.engine.notify(c.db, "xgroup-destroy", key, "t");
    // Clients blocked in XREADGROUP on this group get -NOGROUP.
    if (c.engine.blocking.keysWithWaiters !== 0) c.engine.blocking.signal(c.db, key);
  } else if (sub === "createconsumer" && argc === 5) {
    c.out.int(createConsumer(c, key, g!, str(argv[4])) === null ? 0 : 1);
  } else if (sub === "delconsumer" && argc === 5) {
    const consumer = g!.consumers.get(str(argv[4]));
    if (consumer === undefined) return c.out.int(0);
    c.out.int(g!.deleteConsumer(consumer));
    groupsChanged(c, key);
    c.engine.notify(c.db, "xgroup-delconsumer", key, "t");
  } else subError();
}

// ---- XACK ----

const xack: Handler = (c, argv) => {
  const s = readStream(c, str(argv[1]));
  if (s === null) return;
  const g = findGroup(s, str(argv[2]));
  if (g === undefined) return c.out.int(0);
  const ids: StreamId[] = [];
  for (let i = 3; i < argv.length; i++) {
    const id = strictId(c, argv[i]);
    if (id === null) return;
    ids.push(id);
  }
  let acked = 0;
  for (const id of ids) if (g.ack(id)) acked++;
  if (acked > 0) groupsChanged(c, str(argv[1]), acked);
  c.out.int(acked);
};

// ---- XPENDING ----

const xpending: Handler = (c, argv) => {
  const argc = argv.length;
  if (argc !== 3 && (argc < 6 || argc > 9)) return c.error(ERR.syntax);
  let start = MIN_ID, end = MIN_ID, count = 0, minIdle = 0;
  let consumerName: string | null = null;
  if (argc >= 6) {
    let at = 3;
    if (is(argv[3], "idle")) {
      const idle = longArg(c, argv[4]);
      if (idle === null) return;
      minIdle = idle;
      if (argc < 8) return c.error(ERR.syntax);
      at += 2;
    }
    const n = longArg(c, argv[at + 2]);
    if (n === null) return;
    count = Math.max(n, 0);
    const from = boundId(c, argv[at], false);
    if (from === null) return;
    const to = boundId(c, argv[at + 1], true);
    if (to === null) return;
    [start, end] = [from, to];
    if (at + 3 < argc) consumerName = str(argv[at + 3]);
  }
  const key = str(argv[1]);
  const s = readStream(c, key);
  if (s === null) return;
  const g = findGroup(s, str(argv[2]));
  if (g === undefined) return noGroup(c, key, str(argv[2]));
  if (argc === 3) return pendingSummary(c, g);
  let pel: Pel = g.pel;
  if (consumerName !== null) {
    const consumer = g.consumers.get(consumerName);
    if (consumer === undefined) return c.out.array(0);
    pel = consumer.pel;
  }
  const now = c.engine.now;
  const rows: PendingEntry[] = [];
  if (count > 0) {
    pel.forEachFrom(start, (e) => {
      if (compareIds(e.id, end) > 0) return false;
      if (minIdle && now - e.deliveryTime < minIdle) return true;
      rows.push(e);
      return rows.length < count;
    });
  }
  c.out.array(rows.length);
  for (const e of rows) {
    c.out.array(4);
    c.out.bulkStr(formatId(e.id));
    c.out.bulkStr(e.consumer.name);
    c.out.int(Math.max(now - e.deliveryTime, 0));
    c.out.int(e.deliveryCount);
  }
};

/** XPENDING key group: [count, smallest ID, greatest ID, [[consumer, count as a bulk string]...]]. */
function pendingSummary(c: Client, g: StreamGroup): void {
  c.out.array(4);
  c.out.int(g.pel.size);
  if (g.pel.size === 0) {
    c.out.nullBulk();
    c.out.nullBulk();
    return c.out.nullArray();
  }
  c.out.bulkStr(formatId(g.pel.first()!.id));
  c.out.bulkStr(formatId(g.pel.last()!.id));
  const owners = g.sortedConsumers().filter((consumer) => consumer.pel.size > 0);
  c.out.array(owners.length);
  for (const consumer of owners) {
    c.out.array(2);
    c.out.bulkStr(consumer.name);
    c.out.bulkStr(String(consumer.pel.size));
  }
}

// ---- XCLAIM / XAUTOCLAIM ----

/** A claim under way: the consumer is made on the first entry actually claimed, as 7.0 does. */
class Claim {
  private consumer: StreamConsumer | null = null;
  readonly now: number;

  constructor(private c: Client, readonly key: string, readonly s: Stream, readonly g: StreamGroup, private name: string) {
    this.now = stampTime(c);
  }

  claimer(): StreamConsumer {
    if (this.consumer === null) {
      this.consumer = consumerOf(this.c, this.key, this.g, this.name);
      this.consumer.seenTime = this.now;
    }
    return this.consumer;
  }

  /** A pending entry whose stream entry is gone: dropped, and the drop propagated. */
  drop(e: PendingEntry): void {
    propagateClaim(this.c, this.key, this.g, e);
    groupsChanged(this.c, this.key);
    this.g.forget(e);
  }

  /** Hands e to the claimer with its new delivery time and count, and propagates that. */
  take(e: PendingEntry, deliveryTime: number, retryCount: Counter | null, justId: boolean): void {
    const consumer = this.claimer();
    this.g.moveTo(e, consumer);
    e.deliveryTime = deliveryTime;
    if (retryCount !== null) e.deliveryCount = retryCount;
    else if (!justId) e.deliveryCount = addCounter(e.deliveryCount, 1);
    consumer.activeTime = this.now;
    propagateClaim(this.c, this.key, this.g, e);
    groupsChanged(this.c, this.key);
  }

  /** The claimed entries: their IDs (JUSTID) or the entries themselves. */
  reply(ids: StreamId[], justId: boolean): void {
    if (justId) return replyIds(this.c, ids);
    this.c.out.array(ids.length);
    for (const id of ids) replyEntryIfAny(this.c, this.s, id);
  }
}

/** The stream and group a claim works on, or null after NOGROUP / WRONGTYPE. */
function claimTarget(c: Client, argv: Uint8Array[]): { key: string; s: Stream; g: StreamGroup } | null {
  const key = str(argv[1]);
  const s = readStream(c, key);
  if (s === null) return null;
  const g = findGroup(s, str(argv[2]));
  if (s === undefined || g === undefined) {
    noGroup(c, key, str(argv[2]));
    return null;
  }
  return { key, s, g };
}

const xclaim: Handler = (c, argv) => {
  const target = claimTarget(c, argv);
  if (target === null) return;
  const minIdle = longArg(c, argv[4], "ERR Invalid min-idle-time argument for XCLAIM");
  if (minIdle === null) return;
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const id = strictId(null, argv[j]);
    if (id === null) break;
    ids.push(id);
  }
  const now = stampTime(c);
  let retryCount: Counter | null = null;
  let deliveryTime: number | null = null;
  let force = false, justId = false;
  let lastId = MIN_ID;
  for (; j < argv.length; j++) {
    const more = j < argv.length - 1;
    const opt = argv[j];
    if (is(opt, "force")) force = true;
    else if (is(opt, "justid")) justId = true;
    else if (is(opt, "idle") && more) {
      const idle = longArg(c, argv[++j], "ERR Invalid IDLE option argument for XCLAIM");
      if (idle === null) return;
      deliveryTime = now - idle;
    } else if (is(opt, "time") && more) {
      if ((deliveryTime = longArg(c, argv[++j], "ERR Invalid TIME option argument for XCLAIM")) === null) return;
    } else if (is(opt, "retrycount") && more) {
      const n = parseInt64(str(argv[++j]));
      if (n === null) return c.error("ERR Invalid RETRYCOUNT option argument for XCLAIM");
      retryCount = n < 0n ? null : counter(n);
    } else if (is(opt, "lastid") && more) {
      const id = strictId(c, argv[++j]);
      if (id === null) return;
      lastId = id;
    } else return c.error(`ERR Unrecognized XCLAIM option '${str(opt)}'`);
  }
  const { key, s, g } = target;
  let propagateLastId = false;
  if (compareIds(lastId, g.lastId) > 0) {
    g.lastId = lastId;
    propagateLastId = true;
  }
  if (deliveryTime === null || deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
  effectsOnly(c);
  const claim = new Claim(c, key, s, g, str(argv[3]));
  const claimed: StreamId[] = [];
  for (const id of ids) {
    let e = g.pel.get(id);
    if (!s.has(id)) {
      if (e !== undefined) {
        claim.drop(e);
        propagateLastId = false;
      }
      continue;
    }
    let forced = false;
    if (force && e === undefined) {
      e = g.deliver(id, claim.claimer(), now);
      forced = true;
    }
    if (e === undefined) continue;
    if (!forced && minIdle > 0 && now - e.deliveryTime < minIdle) continue;
    claim.take(e, deliveryTime, retryCount, justId);
    claimed.push(id);
    propagateLastId = false;
  }
  if (propagateLastId) {
    propagateGroupId(c, key, g);
    groupsChanged(c, key);
  }
  claim.reply(claimed, justId);
};

const ATTEMPTS_FACTOR = 10;
/** LONG_MAX / max(sizeof(streamID), attempts factor): COUNT times that stays a valid allocation size. */
const AUTOCLAIM_MAX_COUNT = (2n ** 63n - 1n) / 16n;

const xautoclaim: Handler = (c, argv) => {
  const minIdleArg = longArg(c, argv[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM");
  if (minIdleArg === null) return;
  const minIdle = Math.max(minIdleArg, 0);
  const start = boundId(c, argv[5], false);
  if (start === null) return;
  let count = 100;
  let justId = false;
  for (let j = 6; j < argv.length; j++) {
    if (is(argv[j], "count") && j < argv.length - 1) {
      const n = parseInt64(str(argv[++j]));
      if (n === null || n < 1n || n > AUTOCLAIM_MAX_COUNT) return c.error("ERR COUNT must be > 0");
      count = Number(n);
    } else if (is(argv[j], "justid")) justId = true;
    else return c.error(ERR.syntax);
  }
  const target = claimTarget(c, argv);
  if (target === null) return;
  const { key, s, g } = target;
  effectsOnly(c);
  const claim = new Claim(c, key, s, g, str(argv[3]));
  const now = claim.now;
  let attempts = count * ATTEMPTS_FACTOR;
  const deleted: StreamId[] = [];
  const claimed: StreamId[] = [];
  let last: StreamId | null = null;
  g.pel.forEachFrom(start, (e) => {
    if (attempts-- === 0 || count === 0) return false;
    last = e.id;
    if (!s.has(e.id)) {
      claim.drop(e);
      deleted.push(e.id);
      count--;
    } else if (!(minIdle && now - e.deliveryTime < minIdle)) {
      claim.take(e, now, null, justId);
      claimed.push(e.id);
      count--;
    }
    return count > 0 && attempts > 0;
  });
  const after = last === null ? start : incrId(last);
  const next = after === null ? undefined : g.pel.ceiling(after);
  c.out.array(3);
  c.out.bulkStr(formatId(next?.id ?? MIN_ID));
  claim.reply(claimed, justId);
  replyIds(c, deleted);
};

const common = { acl: "stream", group: "stream" };

const xgroupSub = (name: string, arity: number, flags: string, keySpec: string, summary: string, since: string): CommandDef => ({
  ...common,
  name,
  arity,
  flags,
  keys: [2, 2, 1],
  keySpec,
  since,
  summary,
  complexity: "O(1)",
  run: xgroup,
});

export const streamGroupCommands: CommandDef[] = [
  {
    name: "xgroup",
    arity: -2,
    flags: "",
    group: "stream",
    since: "5.0.0",
    summary: "A container for consumer groups commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      xgroupSub("destroy", 4, "write", "RW delete", "Destroy a consumer group.", "5.0.0"),
      xgroupSub("delconsumer", 5, "write", "RW delete", "Delete a consumer from a consumer group.", "5.0.0"),
      xgroupSub("createconsumer", 5, "write denyoom", "RW insert", "Create a consumer in a consumer group.", "6.2.0"),
      xgroupSub("create", -5, "write denyoom", "RW insert", "Create a consumer group.", "5.0.0"),
      xgroupSub("setid", -5, "write", "RW update", "Set a consumer group to an arbitrary last delivered ID value.", "5.0.0"),
      {
        ...common,
        name: "help",
        arity: 2,
        flags: "loading stale",
        since: "5.0.0",
        summary: "Show helpful text about the different subcommands",
        run: (c) => replyHelp(c, "xgroup", XGROUP_HELP),
      },
    ],
  },
  ...xreadgroupCommands,
  {
    ...common,
    name: "xack",
    arity: -4,
    flags: "write fast",
    keys: [1, 1, 1],
    since: "5.0.0",
    summary: "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
    complexity: "O(1) for each message ID processed.",
    run: xack,
  },
  {
    ...common,
    name: "xpending",
    arity: -3,
    flags: "readonly",
    keys: [1, 1, 1],
    tips: "nondeterministic_output",
    since: "5.0.0",
    summary: "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
    complexity: "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
    run: xpending,
  },
  {
    ...common,
    name: "xclaim",
    arity: -6,
    flags: "write fast",
    keys: [1, 1, 1],
    tips: "nondeterministic_output",
    since: "5.0.0",
    summary: "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
    complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
    run: xclaim,
  },
  {
    ...common,
    name: "xautoclaim",
    arity: -6,
    flags: "write fast",
    keys: [1, 1, 1],
    keySpec: "RW delete",
    tips: "nondeterministic_output",
    since: "6.2.0",
    summary: "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
    complexity: "O(1) if COUNT is small.",
    run: xautoclaim,
  },
  ...xinfoCommands,
];
