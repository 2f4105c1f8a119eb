/**
 * Consumer groups of a stream, as Redis's streamCG / streamConsumer /
 * streamNACK: a group has a last-delivered ID, an entries-read counter (7.0's
 * logical read position, -1 when unknown), a pending entries list (PEL)
 * ordered by ID, and consumers, each with its own PEL holding the very same
 * PendingEntry objects as the group's. The group's PEL has the only index
 * by ID; an entry leaves every PEL at once when it is no longer pending
 * (pending false), and a consumer's PEL when it changes hands. Fields are
 * plain so the RDB, AOF rewrite, DUMP and DIGEST code (core/persist) can
 * write them as they are:
 *
 *   group:    name, lastId, entriesRead, pel (ordered by id), consumers
 *   consumer: name, seenTime (ms unix), activeTime (ms unix, -1 never; 7.2's
 *             field, kept for RDB 11 but not shown as 7.0 shows nothing), pel
 *   entry:    id, deliveryTime (ms unix), deliveryCount, consumer, pending
 *
 * Also here: 7.0's lag and entries-read bookkeeping (streamEstimateDistance-
 * FromFirstEverEntry, streamRangeHasTombstones), which only need the
 * stream's counters.
 */
import { compareIds, type StreamId, type U64 } from "./stream-id.ts";
import { OrderedList } from "./ordered-list.ts";
import { HashIndex } from "./hash-index.ts";

/** Redis's SCG_INVALID_ENTRIES_READ. */
export const INVALID_ENTRIES_READ = -1;

/** A signed counter: a number while safe, a bigint beyond (normalized so === works). */
export type Counter = number | bigint;

export class PendingEntry {
  /** In the group's PEL (and its consumer's); false once acknowledged or dropped. */
  pending = true;

  constructor(
    readonly id: StreamId,
    /** Unix ms of the last delivery. */
    public deliveryTime: number,
    public deliveryCount: Counter,
    public consumer: StreamConsumer,
  ) {}
}

/** A PEL as readers see it, the group's or a consumer's: pending entries in ID order. */
export type Pel = OrderedList<PendingEntry, StreamId>;

const idOfEntry = (e: PendingEntry) => e.id;

/**
 * A stream ID as one index key: a number for IDs of real streams (ms below
 * 2^42, the year 2109, and seq below 2^11: exact as ms * 2^11 + seq), a
 * string for the rest.
 */
function pelKey(id: StreamId): number | string {
  const { ms, seq } = id;
  return typeof ms === "number" && typeof seq === "number" && ms < 2 ** 42 && seq < 2048
    ? ms * 2048 + seq
    : `${ms}-${seq}`;
}

/** A group's PEL: the entries in ID order, and the index by ID every PEL of the group answers from. */
export class GroupPel extends OrderedList<PendingEntry, StreamId> {
  private index = new HashIndex<PendingEntry>();

  constructor() {
    super(idOfEntry, compareIds, (e) => e.pending);
  }

  get(id: StreamId): PendingEntry | undefined {
    return this.index.get(pelKey(id));
  }

  /** Adds a new entry; false (nothing changed) when one with its ID is pending. */
  add(e: PendingEntry): boolean {
    if (!this.index.add(pelKey(e.id), e)) return false;
    this.insert(e);
    return true;
  }

  /** Ends the pending entry with this ID, if any, and returns it; the caller tells its consumer's PEL (removed()). */
  delete(id: StreamId): PendingEntry | undefined {
    const e = this.index.delete(pelKey(id));
    if (e === undefined) return undefined;
    e.pending = false;
    this.removed();
    return e;
  }
}

export class StreamConsumer {
  readonly pel: Pel = new OrderedList<PendingEntry, StreamId>(
    idOfEntry,
    compareIds,
    (e) => e.pending && e.consumer === this,
  );

  constructor(readonly name: string, public seenTime: number, public activeTime = -1) {}
}

/** Binary strings in memcmp order, shorter first on a common prefix: the order of Redis's radix trees. */
export function byName<T extends { name: string }>(items: Iterable<T>): T[] {
  return [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export class StreamGroup {
  readonly pel = new GroupPel();
  readonly consumers = new Map<string, StreamConsumer>();

  constructor(readonly name: string, public lastId: StreamId, public entriesRead: Counter = INVALID_ENTRIES_READ) {}

  /** Consumers in name order (XINFO, XPENDING, RDB). */
  sortedConsumers(): StreamConsumer[] {
    return byName(this.consumers.values());
  }

  /** Creates a consumer; null when one by that name exists. */
  createConsumer(name: string, now: number): StreamConsumer | null {
    if (this.consumers.has(name)) return null;
    const consumer = new StreamConsumer(name, now);
    this.consumers.set(name, consumer);
    return consumer;
  }

  /** Removes a consumer and its pending entries from the group PEL; returns how many it had. */
  deleteConsumer(consumer: StreamConsumer): number {
    const pending = consumer.pel.size;
    for (const e of consumer.pel) this.pel.delete(e.id);
    this.consumers.delete(consumer.name);
    return pending;
  }

  /** XACK of one ID: true when it was pending. */
  ack(id: StreamId): boolean {
    const e = this.pel.delete(id);
    if (e === undefined) return false;
    e.consumer.pel.removed();
    return true;
  }

  /** Drops a pending entry from both PELs (its stream entry is gone). */
  forget(e: PendingEntry): void {
    this.ack(e.id);
  }

  /** Hands a pending entry to consumer (no-op when it already has it). */
  moveTo(e: PendingEntry, consumer: StreamConsumer): void {
    const from = e.consumer;
    if (from === consumer) return;
    e.consumer = consumer;
    from.pel.removed();
    consumer.pel.insert(e);
  }

  /**
   * An entry delivered to consumer (XREADGROUP, XCLAIM FORCE): a new pending
   * entry, or the existing one (after XGROUP SETID moved the group back)
   * reassigned, its time now and count 1, as streamReplyWithRange does.
   */
  deliver(id: StreamId, consumer: StreamConsumer, now: number): PendingEntry {
    const existing = this.pel.get(id);
    if (existing !== undefined) {
      this.moveTo(existing, consumer);
      existing.deliveryTime = now;
      existing.deliveryCount = 1;
      return existing;
    }
    const e = new PendingEntry(id, now, 1, consumer);
    this.pel.add(e);
    consumer.pel.insert(e);
    return e;
  }

  /** A deep copy (COPY). */
  clone(): StreamGroup {
    const g = new StreamGroup(this.name, this.lastId, this.entriesRead);
    for (const c of this.consumers.values()) {
      const copy = new StreamConsumer(c.name, c.seenTime, c.activeTime);
      g.consumers.set(c.name, copy);
    }
    for (const e of this.pel) {
      const consumer = g.consumers.get(e.consumer.name)!;
      const copy = new PendingEntry(e.id, e.deliveryTime, e.deliveryCount, consumer);
      g.pel.add(copy);
      consumer.pel.insert(copy);
    }
    return g;
  }

  /** Approximate bytes held, as Redis's objectComputeSize counts a group (rax nodes, NACKs, consumers). */
  memoryUsage(): number {
    let bytes = 64 + this.name.length + this.pel.size * 56;
    for (const c of this.consumers.values()) bytes += 64 + c.name.length + c.pel.size * 24;
    return bytes;
  }
}

/** What the lag bookkeeping reads of a stream. */
export interface StreamCounters {
  readonly length: number;
  readonly lastId: StreamId;
  readonly firstId: StreamId;
  readonly maxDeletedId: StreamId;
  readonly entriesAdded: U64;
}

const isZero = (id: StreamId) => id.ms === 0 && id.seq === 0;

/** A counter in normal form. */
export function counter(v: number | bigint): Counter {
  if (typeof v === "number") return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function sub(a: Counter | U64, b: Counter | U64): Counter {
  if (typeof a === "number" && typeof b === "number") {
    const d = a - b;
    if (Number.isSafeInteger(d)) return d;
  }
  return counter(BigInt.asIntN(64, BigInt(a) - BigInt(b)));
}

/** a + b (b small), wrapping as a long long would. */
export function addCounter(a: Counter, b: number): Counter {
  return sub(a, -b);
}

/** streamRangeHasTombstones: whether an entry deleted by XDEL may lie in [start, end] (end unbounded when null). */
export function rangeHasTombstones(s: StreamCounters, start: StreamId | null, end: StreamId | null): boolean {
  if (s.length === 0 || isZero(s.maxDeletedId)) return false;
  // 7.0: the latest tombstone lies before the first entry, so none is left.
  if (compareIds(s.firstId, s.maxDeletedId) > 0) return false;
  if (start !== null && compareIds(start, s.maxDeletedId) > 0) return false;
  return end === null || compareIds(s.maxDeletedId, end) <= 0;
}

/**
 * streamEstimateDistanceFromFirstEverEntry: the logical read counter of id
 * (how many entries were ever added up to it), or INVALID_ENTRIES_READ when
 * tombstones or its position make it unknowable.
 */
export function estimateEntriesRead(s: StreamCounters, id: StreamId): Counter {
  const added = s.entriesAdded;
  if (added === 0) return 0;
  if (s.length === 0 && compareIds(id, s.lastId) < 1) return added;
  const cmpLast = compareIds(id, s.lastId);
  if (cmpLast === 0) return added;
  if (cmpLast > 0) return INVALID_ENTRIES_READ;
  const cmpFirst = compareIds(id, s.firstId);
  if (isZero(s.maxDeletedId) || compareIds(s.maxDeletedId, s.firstId) < 0) {
    if (cmpFirst < 0) return sub(added, s.length);
    if (cmpFirst === 0) return addCounter(sub(added, s.length), 1);
  }
  return INVALID_ENTRIES_READ;
}

/** The group's entries-read after it delivered id (past its last ID), as 7.0's streamReplyWithRange keeps it. */
export function advanceEntriesRead(s: StreamCounters, g: StreamGroup, id: StreamId): void {
  if (g.entriesRead !== INVALID_ENTRIES_READ && !rangeHasTombstones(s, id, null)) {
    g.entriesRead = addCounter(g.entriesRead, 1);
  } else if (s.entriesAdded !== 0) g.entriesRead = estimateEntriesRead(s, id);
  g.lastId = id;
}

/** XINFO's lag of a group (streamReplyWithCGLag): entries not yet delivered, or null when unknown. */
export function groupLag(s: StreamCounters, g: StreamGroup): Counter | null {
  if (s.entriesAdded === 0) return 0;
  if (g.entriesRead !== INVALID_ENTRIES_READ && !rangeHasTombstones(s, g.lastId, null)) {
    return sub(s.entriesAdded, g.entriesRead);
  }
  const read = estimateEntriesRead(s, g.lastId);
  return read === INVALID_ENTRIES_READ ? null : sub(s.entriesAdded, read);
}
