/**
 * The keyspace's hash table: binary-string keys to values, split into 64
 * shards by the key's FNV-1a hash (shard.ts has the table itself).
 *
 * Why not a JS Map: JSC grows a Map's storage four times over at each step,
 * so a shard paid 40 to 160 bytes per key (105 at 100,000 keys) for the
 * table, and each key as a JS string cost another ~50 bytes over its
 * length; here a key costs its length plus 20 to 40 bytes. And an engine
 * rehashes a whole Map at once, which on a million keys stalled every
 * client for tens of milliseconds (seen when mass expiry shrank it); here a
 * rehash touches one shard.
 *
 * Values a codec can turn into bytes (small hashes and sorted sets, whose
 * listpack is a string anyway) are kept as bytes after their key in the
 * arena, which saves the object and the string around them (~60 bytes on a
 * 10-member sorted set). Reading such a value makes it an object again,
 * because commands edit values in place; settle(), run when no command is
 * in progress (by the cron, or after a read once many wait), turns the
 * objects touched since back into bytes, so a value in use stays an object
 * between ticks.
 *
 * Slots do not move except when a shard shrinks (compacts), so a walk by
 * slot (SCAN, the expire cycle) meets every entry present throughout,
 * whatever is written meanwhile; a compaction bumps the shard's epoch, and
 * a walk that finds the epoch changed starts that shard over.
 */
import { hashOf, HOLE, NONE, Shard, SHARD_BITS, type ValueCodec } from "./shard.ts";

const SHARDS = 1 << SHARD_BITS;

/** The shard and slot of a position() answer. */
export const shardOf = (position: number): number => position & (SHARDS - 1);
export const slotOf = (position: number): number => Math.floor(position / SHARDS);

/** A position in a walk over a map's slots, shard by shard (see ShardedMap.advance). */
export interface Walk {
  shard: number;
  slot: number;
  /**
   * Each shard's slots in use when the walk began: later ones hold keys
   * added since, which a walk need not visit, so it ends even while keys
   * are added faster than it reads them.
   */
  ends: Uint32Array;
  /** The current shard's epoch when the walk reached it. */
  epoch: number;
}

export class ShardedMap<V> {
  private readonly shards: Shard<V>[] = Array.from({ length: SHARDS }, () => new Shard<V>());
  private count = 0;
  /** Shards with touched slots (see Shard.touched), each once, for settle(). */
  private touchedShards: number[] = [];
  /** Touched slots across the shards (some listed twice, some since deleted): what settle() has to look at. */
  unsettled = 0;
  private isTouched = new Uint8Array(SHARDS);
  /** Snapshots walking this map (see freeze). */
  private freezes = 0;

  constructor(private readonly codec: ValueCodec<V> | null = null) {}

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    const h = hashOf(key);
    const shard = this.shards[h & (SHARDS - 1)];
    const i = shard.find(key, h >>> SHARD_BITS);
    return i === NONE ? undefined : this.valueIn(h & (SHARDS - 1), i);
  }

  /** Shard s's value at slot i; one kept as bytes becomes an object, touched for settle(). */
  private valueIn(s: number, i: number): V {
    const shard = this.shards[s];
    if (shard.kinds[i] !== 0) this.touchedValue(s);
    return shard.value(i, this.codec);
  }

  /** Where key is, as slot * SHARDS + shard, or -1; see shardOf() and slotOf(). */
  position(key: string): number {
    const h = hashOf(key);
    const i = this.shards[h & (SHARDS - 1)].find(key, h >>> SHARD_BITS);
    return i === NONE ? -1 : i * SHARDS + (h & (SHARDS - 1));
  }

  /**
   * Stops (or, once every freeze(true) has its freeze(false), resumes) hole
   * reuse and compaction in every shard, so slots keep their keys while
   * snapshots walk them (a SAVE may run beside an AOF rewrite's walk).
   */
  freeze(on: boolean): void {
    this.freezes += on ? 1 : -1;
    for (const shard of this.shards) shard.frozen = this.freezes > 0;
  }

  /** The value at a walk's entry without reviving it in place (a snapshot reads, it does not touch). */
  peekAt(w: Walk): V {
    return this.shards[w.shard].peek(w.slot, this.codec);
  }

  has(key: string): boolean {
    const h = hashOf(key);
    return this.shards[h & (SHARDS - 1)].find(key, h >>> SHARD_BITS) !== NONE;
  }

  /** Stores value; true when key was not there before (Redis's dbAdd rather than an overwrite). */
  set(key: string, value: V): boolean {
    const h = hashOf(key);
    const shard = this.shards[h & (SHARDS - 1)];
    let i = shard.find(key, h >>> SHARD_BITS);
    const added = i === NONE;
    if (added) {
      i = shard.insert(key, h >>> SHARD_BITS, value);
      this.count++;
    } else {
      shard.setValue(i, value);
    }
    if (this.codec !== null && this.codec.kind(value) !== 0) {
      shard.touched.push(i);
      this.touchedValue(h & (SHARDS - 1));
    }
    return added;
  }

  /** A value of shard s became an object that settle() may turn into bytes. */
  private touchedValue(s: number): void {
    this.touch(s);
    this.unsettled++;
  }

  private touch(shard: number): void {
    if (this.isTouched[shard] !== 0) return;
    this.isTouched[shard] = 1;
    this.touchedShards.push(shard);
  }

  /**
   * Keeps as bytes the values read or stored since the last call that the
   * codec can take, up to `budget` of them (the rest wait for the next
   * call). Only safe when no command is in progress: a command may hold a
   * value object, which after this is no longer the stored value.
   */
  settle(budget: number): void {
    const codec = this.codec;
    if (codec === null) return;
    while (this.touchedShards.length > 0) {
      const s = this.touchedShards[this.touchedShards.length - 1];
      const shard = this.shards[s];
      const touched = shard.touched;
      while (touched.length > 0) {
        if (budget-- === 0) return;
        const i = touched.pop()!;
        this.unsettled = Math.max(0, this.unsettled - 1);
        if (i >= shard.used || shard.keyAt[i] === HOLE || shard.kinds[i] !== 0) continue;
        const v = shard.values[i]!;
        const kind = codec.kind(v);
        if (kind !== 0) shard.keepAsBytes(i, kind, codec.bytes(v));
      }
      this.touchedShards.pop();
      this.isTouched[s] = 0;
    }
  }

  delete(key: string): boolean {
    const h = hashOf(key);
    const shard = this.shards[h & (SHARDS - 1)];
    if (!shard.remove(key, h >>> SHARD_BITS)) return false;
    this.count--;
    // A compaction lists the objects it moved as touched (unsettled only approximates them).
    if (shard.touched.length !== 0) this.touch(h & (SHARDS - 1));
    return true;
  }

  clear(): void {
    for (const shard of this.shards) shard.reset(0);
    this.count = 0;
    this.touchedShards = [];
    this.isTouched.fill(0);
    this.unsettled = 0;
  }

  *keys(): IterableIterator<string> {
    for (const shard of this.shards) {
      for (let i = 0; i < shard.used; i++) if (shard.keyAt[i] !== HOLE) yield shard.key(i);
    }
  }

  /** A key picked at random (not quite uniformly: by shard, then by slot), or undefined when empty. */
  randomKey(): string | undefined {
    while (this.count > 0) {
      const shard = this.shards[Math.floor(Math.random() * SHARDS)];
      // A shard at least an eighth full (compact() sees to it) takes a few tries at most.
      const slot = Math.floor(Math.random() * shard.used);
      if (shard.used > 0 && shard.keyAt[slot] !== HOLE) return shard.key(slot);
    }
    return undefined;
  }

  /** A walk at the start of the first shard. */
  walk(): Walk {
    const ends = Uint32Array.from(this.shards, (s) => s.used);
    return { shard: 0, slot: 0, ends, epoch: this.shards[0].epoch };
  }

  /**
   * Moves w to the next entry at or after its slot, going on to later
   * shards; false when none is left. An entry present since the walk began
   * is never skipped: slots do not move except in a compaction, which
   * changes the epoch and so starts the shard over (repeats are allowed).
   * Take the entry with keyAt/valueAt, then step past it with `w.slot++`.
   */
  advance(w: Walk): boolean {
    for (;;) {
      const shard = this.shards[w.shard];
      if (w.epoch !== shard.epoch) {
        w.epoch = shard.epoch;
        w.slot = 0;
        w.ends[w.shard] = shard.used;
      }
      const keyAt = shard.keyAt;
      // A shard emptied since the walk began has fewer slots in use than it had then.
      const end = Math.min(w.ends[w.shard], shard.used);
      while (w.slot < end && keyAt[w.slot] === HOLE) w.slot++;
      if (w.slot < end) return true;
      if (w.shard === SHARDS - 1) return false;
      w.shard++;
      w.slot = 0;
      w.epoch = this.shards[w.shard].epoch;
    }
  }

  keyAt(w: Walk): string {
    return this.shards[w.shard].key(w.slot);
  }

  valueAt(w: Walk): V {
    return this.valueIn(w.shard, w.slot);
  }
}
