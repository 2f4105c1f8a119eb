/**
 * The stream type, as Redis represents it: an ordered index of nodes keyed
 * by their master ID (Redis's radix tree keyed by the 16-byte big-endian
 * ID; here a sorted array searched by bisection, appended at the tail and
 * trimmed at the head, which is how streams grow and shrink), each node a
 * Redis listpack of delta-encoded entries (stream-node.ts), bounded by
 * stream-node-max-bytes and stream-node-max-entries. Alongside: length,
 * last ID, first ID, max-deleted-entry-id, entries-added, and the consumer
 * groups (stream-groups.ts, owned by the groups commands).
 *
 * Fields are handed out as flat [field, value, ...] arrays of binary
 * strings. IDs and their helpers are in stream-id.ts (re-exported here).
 *
 * Contract with stream-groups.ts: StreamGroup has clone(): StreamGroup (a
 * deep copy, for COPY) and memoryUsage(): number; persistence (RDB, DUMP,
 * AOF rewrite, digest) reads its plain fields.
 */
import { type Collection, collectionBase } from "./value.ts";
import { type Bytes, FLAG_DELETED, StreamNode } from "./stream-node.ts";
import { compareIds, compareParts, incU64, MAX_ID, MIN_ID, type StreamId, type U64 } from "./stream-id.ts";
import type { StreamGroup } from "./stream-groups.ts";

export * from "./stream-id.ts";
export type { Bytes, EntrySink } from "./stream-node.ts";

/** Visits one entry; return false to stop. */
export type EntryVisit = (id: StreamId, fields: string[]) => boolean | void;

/** Visits one entry where it lies (node.fields(pos) or node.emit(pos, out) read it); return false to stop. */
export type EntryAt = (ms: U64, seq: U64, node: StreamNode, pos: number) => boolean | void;

/** Node size limits (stream-node-max-bytes, stream-node-max-entries; 0 = unlimited). */
export interface NodeLimits {
  maxBytes: number;
  maxEntries: number;
}

/** A trim as XADD/XTRIM ask for it (streamTrim's arguments). */
export interface TrimSpec {
  /** MAXLEN's count, or MINID's ID. */
  maxlen?: number;
  minid?: StreamId;
  /** `~`: only whole nodes are dropped. */
  approx: boolean;
  /** At most this many entries removed (0: no limit). */
  limit: number;
}

/** Redis's STREAM_LISTPACK_MAX_SIZE. */
const LISTPACK_MAX = 1 << 30;

export class Stream extends collectionBase("stream") implements Collection {
  /** Nodes in master-ID order. */
  nodes: StreamNode[] = [];
  length = 0;
  lastId: StreamId = MIN_ID;
  /** First live entry's ID (0-0 when empty), as Redis keeps it for RDB. */
  firstId: StreamId = MIN_ID;
  maxDeletedId: StreamId = MIN_ID;
  entriesAdded: U64 = 0;
  /** Consumer groups by name (binary string), null until the first XGROUP CREATE. */
  groups: Map<string, StreamGroup> | null = null;

  count(): number {
    return this.length;
  }

  encoding(): string {
    return "stream";
  }

  clone(): Stream {
    const s = new Stream();
    s.nodes = this.nodes.map((n) => n.clone());
    s.length = this.length;
    s.lastId = this.lastId;
    s.firstId = this.firstId;
    s.maxDeletedId = this.maxDeletedId;
    s.entriesAdded = this.entriesAdded;
    if (this.groups !== null) {
      s.groups = new Map();
      for (const [name, g] of this.groups) s.groups.set(name, g.clone());
    }
    return s;
  }

  /** As objectComputeSize: sampled node allocations scaled to all nodes, plus the index and groups. */
  memoryUsage(samples = 0): number {
    const nodes = this.nodes;
    let bytes = 16 + 72 + nodes.length * 40;
    const n = samples > 0 && samples < nodes.length ? samples : nodes.length;
    let lp = 0;
    for (let i = 0; i < n; i++) lp += nodes[i].lp.length;
    if (n === nodes.length) bytes += lp;
    else bytes += Math.floor(lp / n) * (nodes.length - 1) + nodes[nodes.length - 1].lp.length;
    if (this.groups !== null) for (const g of this.groups.values()) bytes += g.memoryUsage();
    return bytes;
  }

  // ---- adding ----

  /**
   * Appends an entry with an ID greater than lastId (the caller checks) and
   * the flat field/value pairs of fv from `from` on (XADD passes its argv,
   * and raw, their summed lengths, which it has checked);
   * updates length, lastId, entriesAdded, firstId.
   */
  add(id: StreamId, fv: Bytes[], limits: NodeLimits, from = 0, raw = StreamNode.rawSize(fv, from)): void {
    const nodes = this.nodes;
    let tail: StreamNode | undefined = nodes[nodes.length - 1];
    if (tail !== undefined) {
      const max = limits.maxBytes === 0 || limits.maxBytes > LISTPACK_MAX ? LISTPACK_MAX : limits.maxBytes;
      if (
        tail.bytes + raw >= max ||
        (limits.maxEntries > 0 && tail.live + tail.deleted >= limits.maxEntries)
      ) {
        tail.shrink();
        tail = undefined;
      }
    }
    if (tail === undefined) {
      tail = StreamNode.create(id.ms, id.seq, fv, limits.maxBytes, from);
      nodes.push(tail);
    }
    tail.append(id.ms, id.seq, fv, from, raw);
    this.length++;
    this.entriesAdded = incU64(this.entriesAdded) ?? 0;
    this.lastId = id;
    if (this.length === 1) this.firstId = id;
  }

  // ---- reading ----

  /** Index of the last node whose master ID is <= id (-1 if none). */
  private nodeAtOrBefore(id: StreamId): number {
    const nodes = this.nodes;
    let lo = 0;
    let hi = nodes.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const n = nodes[mid];
      if (compareParts(n.ms, n.seq, id.ms, id.seq) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Finds a live entry: its node index and flags position, or null. */
  private locate(id: StreamId): { node: number; pos: number } | null {
    const i = this.nodeAtOrBefore(id);
    if (i < 0) return null;
    let pos = -1;
    this.nodes[i].walk((p, flags, ms, seq) => {
      const c = compareParts(ms, seq, id.ms, id.seq);
      if (c < 0) return true;
      if (c === 0 && !(flags & FLAG_DELETED)) pos = p;
      return false;
    }, id.ms, id.seq);
    return pos < 0 ? null : { node: i, pos };
  }

  /** The fields of the live entry with this ID, or null. */
  get(id: StreamId): string[] | null {
    const at = this.locate(id);
    return at === null ? null : this.nodes[at.node].fields(at.pos);
  }

  has(id: StreamId): boolean {
    return this.locate(id) !== null;
  }

  /**
   * Visits live entries with start <= ID <= end in ID order (reverse: from
   * end down to start) until fn returns false, handing out where each one
   * is (node, flags position) rather than its fields. Returns how many it visited.
   */
  rangeAt(start: StreamId, end: StreamId, reverse: boolean, fn: EntryAt): number {
    if (this.length === 0 || compareIds(start, end) > 0) return 0;
    const nodes = this.nodes;
    let visited = 0;
    if (!reverse) {
      let stop = false;
      // Nothing lies past the maximum ID (XREADGROUP's end), whose bigint parts are slow to compare with numbers.
      const toMax = compareIds(end, MAX_ID) === 0;
      for (let i = Math.max(0, this.nodeAtOrBefore(start)); i < nodes.length && !stop; i++) {
        const node = nodes[i];
        if (!toMax && compareParts(node.ms, node.seq, end.ms, end.seq) > 0) break;
        node.walk((p, flags, ms, seq) => {
          // An entry before start (most of those a node's walk meets) is also before end: one comparison.
          if (compareParts(ms, seq, start.ms, start.seq) < 0) return true;
          if (!toMax && compareParts(ms, seq, end.ms, end.seq) > 0) return !(stop = true);
          if (flags & FLAG_DELETED) return true;
          visited++;
          if (fn(ms, seq, node, p) === false) return !(stop = true);
          return true;
        }, start.ms, start.seq);
      }
      return visited;
    }
    const hits: number[] = [];
    const ids: U64[] = [];
    for (let i = this.nodeAtOrBefore(end); i >= 0; i--) {
      const node = nodes[i];
      hits.length = ids.length = 0;
      node.walk((p, flags, ms, seq) => {
        if (compareParts(ms, seq, end.ms, end.seq) > 0) return false;
        if (!(flags & FLAG_DELETED) && compareParts(ms, seq, start.ms, start.seq) >= 0) {
          hits.push(p);
          ids.push(ms, seq);
        }
        return true;
      });
      for (let k = hits.length - 1; k >= 0; k--) {
        visited++;
        if (fn(ids[2 * k], ids[2 * k + 1], node, hits[k]) === false) return visited;
      }
      if (compareParts(node.ms, node.seq, start.ms, start.seq) <= 0) break;
    }
    return visited;
  }

  /** rangeAt with each entry's ID and fields (flat [field, value, ...] binary strings). */
  range(start: StreamId, end: StreamId, reverse: boolean, fn: EntryVisit): number {
    return this.rangeAt(start, end, reverse, (ms, seq, node, pos) => fn({ ms, seq }, node.fields(pos)));
  }

  /** Visits every live entry in order (fn returns false to stop). */
  forEach(fn: EntryVisit): void {
    this.range(MIN_ID, MAX_ID, false, fn);
  }

  /** The first (or last) live entry's ID, or null when empty (streamGetEdgeID on a non-empty stream). */
  edgeId(last: boolean): StreamId | null {
    let out: StreamId | null = null;
    this.range(MIN_ID, MAX_ID, last, (id) => {
      out = id;
      return false;
    });
    return out;
  }

  /** Whether a deleted entry may lie in [start, end] (streamRangeHasTombstones). */
  hasTombstones(start: StreamId = MIN_ID, end: StreamId = MAX_ID): boolean {
    const md = this.maxDeletedId;
    if (this.length === 0 || (md.ms === 0 && md.seq === 0)) return false;
    return compareIds(start, md) <= 0 && compareIds(md, end) <= 0;
  }

  // ---- removing ----

  /** Deletes one live entry (streamDeleteItem; XDEL does the first/max-deleted bookkeeping via deleteIds). */
  deleteEntry(id: StreamId): boolean {
    const at = this.locate(id);
    if (at === null) return false;
    const node = this.nodes[at.node];
    if (node.live === 1) this.nodes.splice(at.node, 1);
    else node.markDeleted(at.pos);
    this.length--;
    return true;
  }

  /** XDEL: deletes the IDs, updating max-deleted-entry-id and first ID as Redis does; returns how many. */
  deleteIds(ids: StreamId[]): number {
    let deleted = 0;
    let first = false;
    for (const id of ids) {
      if (!this.deleteEntry(id)) continue;
      if (compareIds(id, this.firstId) === 0) first = true;
      if (compareIds(id, this.maxDeletedId) > 0) this.maxDeletedId = id;
      deleted++;
    }
    if (deleted > 0) {
      if (this.length === 0) this.firstId = MIN_ID;
      else if (first) this.firstId = this.edgeId(false) ?? MAX_ID;
    }
    return deleted;
  }

  /** streamTrim: drops the oldest entries per MAXLEN or MINID; returns how many. */
  trim(spec: TrimSpec): number {
    const nodes = this.nodes;
    const byLen = spec.maxlen !== undefined;
    const maxlen = spec.maxlen ?? 0;
    const minid = spec.minid ?? MIN_ID;
    let deleted = 0;
    let drop = 0;
    while (drop < nodes.length) {
      if (byLen && this.length <= maxlen) break;
      const node = nodes[drop];
      const entries = node.live;
      if (spec.limit && deleted + entries > spec.limit) break;
      let remove: boolean;
      if (byLen) remove = this.length - entries >= maxlen;
      else {
        let last: StreamId = { ms: node.ms, seq: node.seq };
        node.walk((_p, _f, ms, seq) => {
          last = { ms, seq };
        });
        remove = compareIds(last, minid) < 0;
      }
      if (remove) {
        drop++;
        this.length -= entries;
        deleted += entries;
        continue;
      }
      if (spec.approx) break;
      const marks: number[] = [];
      let live = this.length;
      node.walk((p, flags, ms, seq) => {
        const stop = byLen ? live <= maxlen : compareParts(ms, seq, minid.ms, minid.seq) >= 0;
        if (stop) return false;
        if (!(flags & FLAG_DELETED)) {
          marks.push(p);
          live--;
        }
        return true;
      });
      for (const p of marks) node.markFlag(p);
      if (marks.length > 0) {
        this.length -= marks.length;
        deleted += marks.length;
      }
      node.setLive(entries - marks.length);
      node.setDeleted(node.deleted + marks.length);
      break;
    }
    if (drop > 0) nodes.splice(0, drop);
    if (deleted > 0) this.firstId = this.edgeId(false) ?? MIN_ID;
    return deleted;
  }
}

export type { StreamGroup } from "./stream-groups.ts";
export { StreamNode } from "./stream-node.ts";
