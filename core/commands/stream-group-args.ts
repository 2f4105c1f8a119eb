/**
 * What the consumer-group commands (stream-groups.ts, stream-readgroup.ts,
 * stream-info.ts) share: finding the stream and group with Redis's errors,
 * reading IDs the ways t_stream.c does (strict, with `-`/`+`, as interval
 * bounds with `(`), writing entries, and the effects XREADGROUP, XCLAIM and
 * XAUTOCLAIM propagate instead of themselves (XCLAIM ... FORCE JUSTID
 * LASTID, XGROUP SETID ... ENTRIESREAD, XGROUP CREATECONSUMER).
 */
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { ERR } from "./args.ts";
import { decrId, formatId, incrId, type Stream, type StreamId, U64_MAX } from "../types/stream.ts";
import type { PendingEntry, StreamConsumer, StreamGroup } from "../types/stream-groups.ts";
import { idArg, replyEntry } from "./stream-args.ts";

/** Redis's %s in error messages stops at a NUL byte. */
export function cstr(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

export function findGroup(s: Stream | undefined, name: string): StreamGroup | undefined {
  return s?.groups?.get(name);
}

/** streamParseStrictIDOrReply: "ms-seq" or "ms" (seq 0), never `-` or `+`; null after replying (c null: silently). */
export function strictId(c: Client | null, arg: Uint8Array): StreamId | null {
  return idArg(c, arg, 0, true);
}

/** streamParseIDOrReply: also `-` (0-0) and `+` (the maximum). */
export function looseId(c: Client, arg: Uint8Array, missingSeq: StreamId["seq"] = 0): StreamId | null {
  return idArg(c, arg, missingSeq, false);
}

/**
 * A range bound (streamParseIntervalIDOrReply): `(id` excludes id, so the
 * bound moves one ID inward, with Redis's error when it cannot.
 */
export function boundId(c: Client, arg: Uint8Array, end: boolean): StreamId | null {
  if (arg.length > 1 && arg[0] === 40) {
    const id = strictId(c, arg.subarray(1));
    if (id === null) return null;
    const moved = end ? decrId(id) : incrId(id);
    if (moved === null) c.error(`ERR invalid ${end ? "end" : "start"} ID for the interval`);
    return moved;
  }
  return looseId(c, arg, end ? U64_MAX : 0);
}

/** getLongLongFromObjectOrReply: an int64 as a number (exact to 2^53), or null after replying msg. */
export function longArg(c: Client, arg: Uint8Array, msg = ERR.notInt): number | null {
  // parseInteger: parseInt64's answers, without a bigint for the short ones (XREADGROUP's COUNT).
  const v = parseInteger(str(arg));
  if (v === null) c.error(msg);
  return v;
}

/** The entry with this ID if it is still in the stream (streamReplyWithRange of [id, id]); false if not. */
export function replyEntryIfAny(c: Client, s: Stream, id: StreamId): boolean {
  const fields = s.get(id);
  if (fields === null) return false;
  replyEntry(c, id, fields);
  return true;
}

/** Bulk strings of IDs: the Redis reply of JUSTID, XAUTOCLAIM's deleted list. */
export function replyIds(c: Client, ids: StreamId[]): void {
  c.out.array(ids.length);
  for (const id of ids) c.out.bulkStr(formatId(id));
}

/** A pending entry's state on a replica / in the AOF (streamPropagateXCLAIM). */
export function propagateClaim(c: Client, key: string, g: StreamGroup, e: PendingEntry): void {
  const p = c.engine.propagation;
  if (!p.on) return;
  p.also(c.db.id, [
    "XCLAIM", key, g.name, e.consumer.name, "0", formatId(e.id), "TIME", String(e.deliveryTime),
    "RETRYCOUNT", String(e.deliveryCount), "FORCE", "JUSTID", "LASTID", formatId(g.lastId),
  ]);
}

/** The group's last ID and entries-read (streamPropagateGroupID). */
export function propagateGroupId(c: Client, key: string, g: StreamGroup): void {
  const p = c.engine.propagation;
  if (p.on) p.also(c.db.id, ["XGROUP", "SETID", key, g.name, formatId(g.lastId), "ENTRIESREAD", String(g.entriesRead)]);
}

/** streamPropagateConsumerCreation (XREADGROUP NOACK makes consumers no XCLAIM would). */
export function propagateConsumer(c: Client, key: string, g: StreamGroup, consumer: StreamConsumer): void {
  const p = c.engine.propagation;
  if (p.on) p.also(c.db.id, ["XGROUP", "CREATECONSUMER", key, g.name, consumer.name]);
}

/**
 * A group-state change Redis does not signal as a key modification (no
 * WATCH or tracking invalidation): counted as dirty, its size re-measured.
 */
export function groupsChanged(c: Client, key: string, changes = 1): void {
  c.engine.dirty += changes;
  c.db.data.resized(key);
}

/**
 * The time deliveries, claims and consumers' activity are stamped with. An
 * AOF load runs its commands with the engine's clock at 0 (so that nothing
 * expires midway); Redis stamps them with the time of loading, and keeps an
 * XCLAIM's TIME rather than clamping it to a clock at 0.
 */
export function stampTime(c: Client): number {
  return c.engine.loading !== null ? c.engine.clock.now() : c.engine.now;
}

/** streamCreateConsumer with its keyspace event and dirty count. */
export function createConsumer(c: Client, key: string, g: StreamGroup, name: string): StreamConsumer | null {
  const consumer = g.createConsumer(name, stampTime(c));
  if (consumer === null) return null;
  groupsChanged(c, key);
  c.engine.notify(c.db, "xgroup-createconsumer", key, "t");
  return consumer;
}

/** The named consumer, created when missing. */
export function consumerOf(c: Client, key: string, g: StreamGroup, name: string): StreamConsumer {
  return g.consumers.get(name) ?? createConsumer(c, key, g, name)!;
}
