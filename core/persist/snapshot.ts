/**
 * Fork-less point-in-time snapshots (BGSAVE, AOF rewrite, a replica's full
 * sync). Redis forks and lets the kernel copy pages on write; a JS runtime
 * cannot fork, and copying the dataset up front would double memory. So
 * the snapshot walks each db's table by slot in slices between client
 * batches, and a db tells the walk before it hands out, changes or drops a
 * key (Db.cow): a key the walk has not reached yet is written at once, as
 * it is, and skipped when the walk gets there (copy on write per key, as
 * Dragonfly does per bucket). While walked, a table neither reuses holes
 * nor compacts, so slots keep their keys and keys added after the start
 * land past the slots the walk covers: they are not written.
 *
 * What it costs: one branch per keyspace access while no snapshot runs;
 * during one, a hash lookup per access to find the key's slot, and the
 * early-written entries of dbs the walk has not reached yet wait in memory
 * (for the db being walked they go straight to the output).
 */
import { type Db, PACKED_HASH, PACKED_STRING, type SnapshotWalker } from "../db/db.ts";
import type { ShardedMap, Walk } from "../db/sharded-map.ts";
import { positionAt, shardOf, slotOf } from "../db/sharded-map.ts";
import type { KeyRef } from "../db/shard.ts";
import type { Value } from "../types/value.ts";
import { monotonicMs } from "../util/monotonic.ts";

/** Turns keys into a file format (RDB, or AOF commands) as the walk meets them. */
export interface SnapshotEncoder {
  /** Starts a db: RDB's SELECTDB and RESIZEDB, AOF's SELECT. */
  selectDb(id: number, keys: number, expires: number): void;
  /** One key; expireAt in unix ms, -1 for none; access is the key's access clock field (core/db/access.ts). */
  entry(key: string, value: Value, expireAt: number, access: number): void;
  /** entry() for a key lent in place: the walk makes no string per key, whose garbage would pause clients. */
  entryAt(key: KeyRef, value: Value, expireAt: number, access: number): void;
  /** entryAt() for a string kept in the keyspace as its bytes (see Db's PACKED_STRING), lent in place too. */
  stringAt(key: KeyRef, value: KeyRef, expireAt: number, access: number): void;
  /** entryAt() for a small hash kept in the keyspace as its packed bytes (see Db's PACKED_HASH), lent in place too. */
  packedHashAt(key: KeyRef, packed: KeyRef, expireAt: number, access: number): void;
  /** The bytes appended since the last take(): possibly a view of the encoder's buffer, valid until its next call. */
  take(): Uint8Array;
  /** Bytes appended and not taken yet. */
  readonly buffered: number;
}

/** Output is handed on in pieces of about this size. */
const CHUNK = 64 * 1024;

/** Where the walk lends each key and packed value (one walk steps at a time). */
const keyRef: KeyRef = { bytes: new Uint8Array(0), at: 0, length: 0 };
const packedRef: KeyRef = { bytes: new Uint8Array(0), at: 0, length: 0 };

/** The walk over one db's maps as they were at the start. */
class DbWalk implements SnapshotWalker {
  readonly walk: Walk;
  readonly keys: number;
  readonly expiresCount: number;
  /** Positions (see ShardedMap.position) of keys written ahead of the walk, which it skips when it meets them. */
  private readonly early = new Set<number>();
  /** Entries written ahead while the walk has not reached this db: they follow its SELECTDB. */
  pending: SnapshotEncoder | null = null;
  started = false;
  finished = false;

  constructor(
    private readonly snapshot: Snapshot,
    readonly id: number,
    readonly data: ShardedMap<Value>,
    readonly expires: ShardedMap<number>,
    /** A snapshot already walking the same db (SAVE during an AOF rewrite): it is told first. */
    private readonly previous: DbWalk | null,
  ) {
    this.walk = data.walk();
    this.keys = data.size;
    this.expiresCount = expires.size;
    data.freeze(true);
    expires.freeze(true);
  }

  preserve(key: string): void {
    if (this.previous !== null) this.previous.preserve(key);
    if (this.finished) return;
    const position = this.data.position(key);
    if (position < 0) return;
    const shard = shardOf(position);
    const slot = slotOf(position);
    const w = this.walk;
    // Added since the start, or already walked.
    if (slot >= w.ends[shard] || shard < w.shard || (shard === w.shard && slot < w.slot)) return;
    if (this.early.has(position)) return;
    this.early.add(position);
    const encoder = this.started ? this.snapshot.encoder : (this.pending ??= this.snapshot.newEncoder());
    const value = this.data.peekAt({ shard, slot, ends: w.ends, epoch: 0 });
    encoder.entry(key, value, this.expireOf(key), this.data.accessAtPosition(position));
  }

  expireOf(key: string): number {
    return this.expires.size === 0 ? -1 : this.expires.get(key) ?? -1;
  }

  /** Writes entries until the deadline (a monotonicMs() reading); true when the db is done. */
  step(encoder: SnapshotEncoder, deadline: number, flush: () => void): boolean {
    const { data, expires, walk, early } = this;
    let n = 0;
    while (data.advance(walk)) {
      if (early.size === 0 || !early.delete(positionAt(walk))) {
        data.keyRefAt(walk, keyRef);
        const expireAt = expires.size === 0 ? -1 : expires.peekRef(keyRef) ?? -1;
        // Values kept as bytes are written from them: a string or object made per key is garbage whose
        // collection pauses the clients served between slices.
        const kind = data.bytesAt(walk, packedRef);
        if (kind === PACKED_STRING) encoder.stringAt(keyRef, packedRef, expireAt, data.accessAt(walk));
        else if (kind === PACKED_HASH) encoder.packedHashAt(keyRef, packedRef, expireAt, data.accessAt(walk));
        else encoder.entryAt(keyRef, data.peekAt(walk), expireAt, data.accessAt(walk));
        if (encoder.buffered >= CHUNK) flush();
      }
      walk.slot++;
      this.snapshot.keysDone++;
      if ((++n & 3) === 0 && monotonicMs() >= deadline) return false;
    }
    return true;
  }

  finish(dbs: Db[]): void {
    this.finished = true;
    this.early.clear();
    this.data.freeze(false);
    this.expires.freeze(false);
    let previous = this.previous;
    while (previous !== null && previous.finished) previous = previous.previous;
    for (const db of dbs) if (db.cow === this) db.cow = previous;
  }
}

export class Snapshot {
  readonly encoder: SnapshotEncoder;
  private readonly walks: DbWalk[] = [];
  private current = 0;
  /** Keys written so far, and in all (INFO current_save_keys_processed / _total). */
  keysDone = 0;
  readonly keysTotal: number;

  /**
   * Takes the snapshot's point in time: from here on every db reports to it.
   * out receives the file's bytes in order; nothing is written before the
   * first step().
   */
  constructor(
    private readonly dbs: Db[],
    readonly newEncoder: () => SnapshotEncoder,
    private readonly out: (bytes: Uint8Array) => void,
  ) {
    this.encoder = newEncoder();
    let total = 0;
    for (const db of dbs) {
      if (db.size === 0) continue;
      const walk = new DbWalk(this, db.id, db.data, db.expires, db.cow as DbWalk | null);
      db.cow = walk;
      this.walks.push(walk);
      total += walk.keys;
    }
    this.keysTotal = total;
  }

  get done(): boolean {
    return this.current === this.walks.length;
  }

  /**
   * Walks until the deadline (monotonicMs() ms; Infinity for all of it),
   * handing output on in CHUNK pieces (a write per slice cost each slice a
   * syscall); true when everything is walked and handed on.
   */
  step(deadline: number): boolean {
    const flush = () => this.out(this.encoder.take());
    while (this.current < this.walks.length) {
      const w = this.walks[this.current];
      if (!w.started) {
        w.started = true;
        this.encoder.selectDb(w.id, w.keys, w.expiresCount);
        if (w.pending !== null) {
          flush();
          this.out(w.pending.take());
          w.pending = null;
        }
      }
      if (!w.step(this.encoder, deadline, flush)) return false;
      w.finish(this.dbs);
      this.current++;
    }
    flush();
    return true;
  }

  /** Stops early (a failed save, SHUTDOWN): the dbs stop reporting and their tables may compact again. */
  abort(): void {
    for (const w of this.walks) if (!w.finished) w.finish(this.dbs);
    this.current = this.walks.length;
  }
}
