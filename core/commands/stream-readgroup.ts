/**
 * XREADGROUP, as Redis 7.0's xreadCommand runs it with GROUP: `>` delivers
 * entries past the group's last ID (adding them to the pending lists unless
 * NOACK, advancing entries-read), any other ID replays the consumer's own
 * pending history. With BLOCK and nothing to deliver the client waits
 * through core/server/blocking.ts; XADD wakes it, XGROUP DESTROY answers
 * -NOGROUP and a deleted (or retyped) key -UNBLOCKED, as Redis does. The
 * command propagates as its effects: an XCLAIM per delivered entry (or an
 * XGROUP SETID with NOACK) and XGROUP CREATECONSUMER where needed.
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { ERR, readKey } from "./args.ts";
import { compareIds, incrId, MAX_ID, MIN_ID, Stream, type StreamId } from "../types/stream.ts";
import { addCounter, advanceEntriesRead, type StreamConsumer, type StreamGroup } from "../types/stream-groups.ts";
import { createConsumer, cstr, longArg, propagateClaim, propagateConsumer, propagateGroupId, stampTime, strictId } from "./stream-group-args.ts";
import { collectRange, readStream, replyEntry, XREAD_KEY_SPEC, xreadKeys } from "./stream-args.ts";
import { blockDeadline } from "./streams.ts";

/** Redis's XREAD_BLOCKED_DEFAULT_COUNT: a woken reader without COUNT gets at most this many. */
const BLOCKED_DEFAULT_COUNT = 1000;

/** One key's part of the reply: its entries, fields null for a pending entry no longer in the stream. */
type Served = [key: string, entries: Array<[StreamId, string[] | null]>];

interface ReadGroup {
  group: string;
  consumer: string;
  count: number;
  noack: boolean;
}

/** The entries after the group's last ID, at most count (0: all). */
function newEntries(s: Stream, g: StreamGroup, count: number): Array<[StreamId, string[]]> {
  const start = incrId(g.lastId);
  return start === null ? [] : collectRange(s, start, MAX_ID, count, false);
}

/**
 * Delivers new entries to consumer (streamReplyWithRange with a group):
 * the group's last ID and entries-read advance, each entry becomes
 * pending (unless NOACK), and each step is propagated.
 */
function deliver(c: Client, key: string, s: Stream, g: StreamGroup, consumer: StreamConsumer, entries: Served[1], rg: ReadGroup): Served {
  const now = stampTime(c);
  let movedLastId = false;
  for (const [id] of entries) {
    if (compareIds(id, g.lastId) > 0) {
      advanceEntriesRead(s, g, id);
      movedLastId = true;
    }
    if (!rg.noack) propagateClaim(c, key, g, g.deliver(id, consumer, now));
  }
  if (!rg.noack && entries.length > 0) consumer.activeTime = now;
  if (rg.noack && movedLastId) propagateGroupId(c, key, g);
  return [key, entries];
}

/** Replays the consumer's pending entries from `after` on (streamReplyWithRangeFromConsumerPEL). */
function replayHistory(c: Client, key: string, s: Stream, consumer: StreamConsumer, after: StreamId, count: number): Served {
  const entries: Served[1] = [];
  const now = stampTime(c);
  // Past the greatest ID Redis's streamIncrID wraps to 0-0: the whole history.
  consumer.pel.forEachFrom(incrId(after) ?? MIN_ID, (e) => {
    const fields = s.get(e.id);
    entries.push([e.id, fields]);
    if (fields !== null) {
      e.deliveryTime = now;
      e.deliveryCount = addCounter(e.deliveryCount, 1);
    }
    return count === 0 || entries.length < count;
  });
  return [key, entries];
}

function reply(c: Client, served: Served[]): void {
  if (c.resp === 2) c.out.array(served.length);
  else c.out.map(served.length);
  for (const [key, entries] of served) {
    if (c.resp === 2) c.out.array(2);
    c.out.bulkStr(key);
    c.out.array(entries.length);
    for (const [id, fields] of entries) replyEntry(c, id, fields);
  }
}

/** The consumer reading, created (and announced) when new; its seen time is now. */
function reader(c: Client, key: string, g: StreamGroup, rg: ReadGroup): StreamConsumer {
  let consumer = g.consumers.get(rg.consumer);
  if (consumer === undefined) {
    consumer = createConsumer(c, key, g, rg.consumer)!;
    if (rg.noack) propagateConsumer(c, key, g, consumer);
  }
  consumer.seenTime = stampTime(c);
  return consumer;
}

/** A blocked reader offered a key: answers (true) when the key went away, its group did, or there is news. */
function serveBlocked(c: Client, key: string, rg: ReadGroup): boolean {
  const v = c.db.lookup(key, c.engine.now);
  if (!(v instanceof Stream)) {
    c.error("UNBLOCKED the stream key no longer exists");
    return true;
  }
  const g = v.groups?.get(rg.group);
  if (g === undefined) {
    c.error("NOGROUP the consumer group this client was blocked on no longer exists");
    return true;
  }
  if (compareIds(v.lastId, g.lastId) <= 0) return false;
  const consumer = reader(c, key, g, rg);
  reply(c, [deliver(c, key, v, g, consumer, newEntries(v, g, rg.count || BLOCKED_DEFAULT_COUNT), rg)]);
  c.engine.dirty++;
  return true;
}

const xreadgroup: Handler = (c, argv) => {
  const argc = argv.length;
  let deadline = -1;
  let streamsAt = 0;
  let nstreams = 0;
  const rg: ReadGroup = { group: "", consumer: "", count: 0, noack: false };
  let grouped = false;
  for (let i = 1; i < argc; i++) {
    const more = argc - i - 1;
    const a = argv[i];
    if (is(a, "block") && more) {
      if (c.conn.kind === "script") return c.error(`ERR ${str(argv[0])} command is not allowed with BLOCK option from scripts`);
      const d = blockDeadline(c, argv[++i]);
      if (d === null) return;
      deadline = d;
    } else if (is(a, "count") && more) {
      const n = longArg(c, argv[++i]);
      if (n === null) return;
      rg.count = Math.max(n, 0);
    } else if (is(a, "streams") && more) {
      streamsAt = i + 1;
      nstreams = argc - streamsAt;
      if (nstreams % 2 !== 0) {
        return c.error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
      }
      nstreams /= 2;
      break;
    } else if (is(a, "group") && more >= 2) {
      rg.group = str(argv[i + 1]);
      rg.consumer = str(argv[i + 2]);
      grouped = true;
      i += 2;
    } else if (is(a, "noack")) rg.noack = true;
    else return c.error(ERR.syntax);
  }
  if (streamsAt === 0) return c.error(ERR.syntax);
  if (!grouped) return c.error("ERR Missing GROUP option for XREADGROUP");
  const keys: string[] = [];
  const streams: Stream[] = [];
  const groups: StreamGroup[] = [];
  /** Per stream: the ID to read after, or null for `>`. */
  const after: Array<StreamId | null> = [];
  for (let i = 0; i < nstreams; i++) {
    const key = str(argv[streamsAt + i]);
    const s = readStream(c, key);
    if (s === null) return;
    const g = s?.groups?.get(rg.group);
    if (s === undefined || g === undefined) {
      return c.error(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(rg.group)}' in XREADGROUP with GROUP option`);
    }
    const idArg = str(argv[streamsAt + nstreams + i]);
    if (idArg === "$") {
      return c.error(
        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
      );
    }
    let id: StreamId | null = null;
    if (idArg !== ">" && (id = strictId(c, argv[streamsAt + nstreams + i])) === null) return;
    // Redis marks `>` with the greatest ID, so that ID given explicitly reads as `>`.
    if (id !== null && compareIds(id, MAX_ID) === 0) id = null;
    keys.push(key);
    streams.push(s);
    groups.push(g);
    after.push(id);
  }
  if (c.engine.propagation.on) c.engine.propagation.prevent();
  const served: Served[] = [];
  for (let i = 0; i < nstreams; i++) {
    const [key, s, g] = [keys[i], streams[i], groups[i]];
    // Redis looks each key up again here: a second keyspace hit, and access, per stream.
    readKey(c, key);
    const from = after[i];
    // Served when it has news for `>` (an entry past the group's last ID), or history.
    const fresh = from === null ? newEntries(s, g, rg.count) : null;
    if (fresh !== null && fresh.length === 0) continue;
    // 7.0 makes the consumer only when it serves it something.
    const consumer = reader(c, key, g, rg);
    if (fresh === null) served.push(replayHistory(c, key, s, consumer, from!, rg.count));
    else served.push(deliver(c, key, s, g, consumer, fresh, rg));
    c.engine.dirty++;
  }
  if (served.length > 0) return reply(c, served);
  if (deadline === -1 || !c.engine.blocking.canBlock(c)) return c.out.nullArray();
  c.engine.blocking.block(c, keys, deadline, (key) => serveBlocked(c, key, rg));
};

export const xreadgroupCommands: CommandDef[] = [
  {
    name: "xreadgroup",
    arity: -7,
    flags: "write blocking",
    acl: "stream",
    group: "stream",
    getKeys: xreadKeys,
    keySpecs: [{ flags: "RO access", ...XREAD_KEY_SPEC, begin: { keyword: "STREAMS", startfrom: 4 } }],
    since: "5.0.0",
    summary: "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
    complexity: "For each stream mentioned: O(M) with M the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
    run: xreadgroup,
  },
];
