/**
 * Streams in RDB, as Redis 7.0's rdbSaveObject / rdbLoadObject: the nodes
 * as (16-byte big-endian master ID, listpack) string pairs, written and
 * loaded as they are since our nodes keep Redis's listpack bytes; then
 * length, last ID, first ID, max-deleted-entry-id, entries-added, and the
 * consumer groups (name, last ID, entries-read, global PEL with delivery
 * time and count, consumers with seen time and their PEL IDs).
 *
 * Writes RDB_TYPE_STREAM_LISTPACKS_2 (19); loads 15 (6.x: no first ID,
 * tombstone ID or counters, which are then derived as 7.0 does), 19, and
 * 21 (7.2: consumers also have an active time).
 */
import type { ByteWriter } from "./writer.ts";
import type { RdbReader } from "./reader.ts";
import { listpackEntries } from "./listpack.ts";
import { TYPE } from "./format.ts";
import { addU64, decodeIdKey, encodeIdKey, MAX_ID, Stream, type StreamId, StreamNode, type U64, u64 } from "../../types/stream.ts";
import { deltaU64 } from "../../types/stream-node.ts";
import {
  byName,
  counter,
  estimateEntriesRead,
  PendingEntry,
  StreamConsumer,
  StreamGroup,
} from "../../types/stream-groups.ts";

/** rdb.c's line for stream damage (a best estimate: not observed on 7.0.15). */
const LINE_STREAM = 2560;

/** rdbSaveLen of an unsigned 64-bit value. */
function lenU64(w: ByteWriter, v: U64): void {
  if (typeof v === "number") return w.len(v);
  w.byte(0x81);
  for (let i = 7; i >= 0; i--) w.byte(Number((v >> BigInt(8 * i)) & 0xffn));
}

/** rdbSaveLen of a long long (negative values as their two's complement). */
function lenI64(w: ByteWriter, v: number | bigint): void {
  if (typeof v === "number" && v >= 0) return w.len(v);
  lenU64(w, BigInt.asUintN(64, BigInt(v)));
}

function writeId(w: ByteWriter, id: StreamId): void {
  lenU64(w, id.ms);
  lenU64(w, id.seq);
}

/** A stream's body after its type byte and key. */
export function writeStream(w: ByteWriter, s: Stream, compress: boolean): void {
  w.len(s.nodes.length);
  for (const node of s.nodes) {
    w.string(encodeIdKey(node), compress);
    w.string(node.listpack(), compress);
  }
  w.len(s.length);
  writeId(w, s.lastId);
  writeId(w, s.firstId);
  writeId(w, s.maxDeletedId);
  lenU64(w, s.entriesAdded);
  const groups = s.groups === null ? [] : byName(s.groups.values());
  w.len(groups.length);
  for (const g of groups) {
    w.string(g.name, compress);
    writeId(w, g.lastId);
    lenI64(w, g.entriesRead);
    w.len(g.pel.size);
    for (const e of g.pel) {
      w.bytes(encodeIdKey(e.id));
      w.intLE(e.deliveryTime, 8);
      lenI64(w, e.deliveryCount);
    }
    const consumers = g.sortedConsumers();
    w.len(consumers.length);
    for (const c of consumers) {
      w.string(c.name, compress);
      w.intLE(c.seenTime, 8);
      w.len(c.pel.size);
      for (const e of c.pel) w.bytes(encodeIdKey(e.id));
    }
  }
}

function readU64(r: RdbReader): U64 {
  return u64(r.bigLen());
}

function readId(r: RdbReader): StreamId {
  const ms = readU64(r);
  return { ms, seq: readU64(r) };
}

/**
 * With sanitize-dump-payload: a node's elements (as listpackEntries gives
 * them) form a master entry and entries as t_stream.c writes them, with
 * IDs not below the master ID, and counters that add up
 * (streamValidateListpackIntegrity).
 */
function validNode(e: string[] | null, master: StreamId): boolean {
  if (e === null || e.length < 4) return false;
  const int = (i: number) => (i < e.length && /^-?\d+$/.test(e[i]) ? Number(e[i]) : NaN);
  const live = int(0), deleted = int(1), nf = int(2);
  if (!(live >= 0 && deleted >= 0 && nf >= 0) || 3 + nf >= e.length || e[3 + nf] !== "0") return false;
  let i = 4 + nf;
  let seen = 0, tombstones = 0;
  while (i < e.length) {
    const start = i;
    const flags = int(i);
    if (!(flags >= 0 && flags <= 3) || Number.isNaN(int(i + 1)) || Number.isNaN(int(i + 2))) return false;
    const ms = addU64(master.ms, deltaU64(BigInt(e[i + 1])));
    if (ms < master.ms) return false;
    i += 3;
    let values = nf;
    if (!(flags & 2)) {
      const n = int(i++);
      if (!(n >= 0)) return false;
      values = 2 * n;
    }
    i += values;
    if (int(i) !== i - start) return false;
    i++;
    if (flags & 1) tombstones++;
    else seen++;
  }
  return i === e.length && seen === live && tombstones === deleted;
}

/** A stream of RDB type 15, 19 or 21. */
export function readStream(r: RdbReader, type: number): Stream {
  const s = new Stream();
  const bad = (msg: string): never => r.fail(LINE_STREAM, msg);
  for (let n = r.len(); n > 0; n--) {
    const key = r.stringBytes();
    if (key.length !== 16) bad("Stream node key entry is not the size of a stream ID");
    const blob = r.stringBytes().slice();
    const size = blob.length;
    const declared = size >= 4 ? (blob[0] | (blob[1] << 8) | (blob[2] << 16)) + blob[3] * 0x1000000 : -1;
    if (size < 7 || declared !== size || blob[size - 1] !== 0xff) bad("Stream listpack integrity check failed.");
    if (r.deep && !validNode(listpackEntries(blob, true), decodeIdKey(key))) bad("Stream listpack integrity check failed.");
    if (blob[6] === 0xff) bad("Empty listpack inside stream");
    const id = decodeIdKey(key);
    const last = s.nodes[s.nodes.length - 1];
    if (last !== undefined && (last.ms > id.ms || (last.ms === id.ms && last.seq >= id.seq))) {
      bad("Listpack re-added with existing key");
    }
    const node = StreamNode.fromListpack(id.ms, id.seq, blob);
    if (node === null) bad("Stream listpack integrity check failed.");
    s.nodes.push(node!);
  }
  s.length = Number(r.bigLen());
  s.lastId = readId(r);
  if (type === TYPE.STREAM_LISTPACKS) {
    s.firstId = s.edgeId(false) ?? MAX_ID;
    s.entriesAdded = s.length;
  } else {
    s.firstId = readId(r);
    s.maxDeletedId = readId(r);
    s.entriesAdded = readU64(r);
  }
  if (s.length > 0 && s.nodes.length === 0) bad("Stream length inconsistent with rax entries");
  const ngroups = r.len();
  if (ngroups > 0) s.groups = new Map();
  for (let gi = 0; gi < ngroups; gi++) {
    const name = r.string();
    const lastId = readId(r);
    const entriesRead = type === TYPE.STREAM_LISTPACKS
      ? estimateEntriesRead(s, lastId)
      : counter(BigInt.asIntN(64, r.bigLen()));
    const g = new StreamGroup(name, lastId, entriesRead);
    if (s.groups!.has(name)) bad("Duplicated consumer group name");
    s.groups!.set(name, g);
    const unowned = new Set<PendingEntry>();
    for (let n = r.len(); n > 0; n--) {
      const id = decodeIdKey(r.bytes.subarray(r.take(16), r.pos));
      const deliveryTime = r.intLE(8);
      const deliveryCount = counter(r.bigLen());
      // Its consumer comes with the consumers below (an entry left without one fails the load).
      const e = new PendingEntry(id, deliveryTime, deliveryCount, null as unknown as StreamConsumer);
      if (!g.pel.add(e)) bad("Duplicated global PEL entry loading stream consumer group");
      unowned.add(e);
    }
    for (let n = r.len(); n > 0; n--) {
      const cname = r.string();
      const seen = r.intLE(8);
      const active = type === TYPE.STREAM_LISTPACKS_3 ? r.intLE(8) : -1;
      const consumer = new StreamConsumer(cname, seen, active);
      if (g.consumers.has(cname)) bad("Duplicate stream consumer detected.");
      g.consumers.set(cname, consumer);
      for (let k = r.len(); k > 0; k--) {
        const id = decodeIdKey(r.bytes.subarray(r.take(16), r.pos));
        const e = g.pel.get(id);
        if (e === undefined) bad("Consumer entry not found in group global PEL");
        if (!unowned.delete(e!)) bad("Duplicated consumer PEL entry loading a stream consumer group");
        e!.consumer = consumer;
        consumer.pel.insert(e!);
      }
    }
    if (unowned.size > 0) bad("Stream CG PEL entry without consumer");
  }
  return s;
}
