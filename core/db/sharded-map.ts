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
 * between ticks. A value of a kind the codec calls immutable (the
 * keyspace's string values) goes to the arena as it is stored, and a read
 * revives a copy and leaves the bytes where they are.
 *
 * The keyspace's own table is tracked (see Tracking): each key also has
 * an access clock for OBJECT IDLETIME/FREQ and eviction, and an estimated
 * size whose running sum (`bytes`) is the dataset's part of used_memory,
 * kept right by every set, in-place change (resized()) and delete.
 *
 * In cluster mode (keepSlots) the keyspace's table also threads each
 * cluster slot's keys into a list (slot-keys.ts), told of every key added
 * and removed here and of every compaction.
 *
 * Slots do not move except when a shard shrinks (compacts), so a walk by
 * slot (SCAN, the expire cycle) meets every entry present throughout,
 * whatever is written meanwhile; a compaction bumps the shard's epoch, and
 * a walk that finds the epoch changed starts that shard over.
 */
import { hashOf, hashOfBytes, type KeyRef, NONE, Shard, SHARD_BITS, type ValueCodec } from "./shard.ts";
import type { AccessClock } from "./access.ts";
import { SlotKeys } from "./slot-keys.ts";

const SHARDS = 1 << SHARD_BITS;
/** accessLent()'s answer when it lent the value's bytes rather than returning a value. */
export const LENT: unique symbol = Symbol("lent");
/** A value's bytes lent by accessLent(), and the codec's kind of them. */
export interface Lent extends KeyRef {
  kind: number;
}
/** The most keys one prefetch() reads ahead for. */
export const PREFETCH_MAX = 32;

/** The shard and slot of a position() answer. */
export const shardOf = (position: number): number => position & (SHARDS - 1);
export const slotOf = (position: number): number => Math.floor(position / SHARDS);
/** The position() of a walk's entry. */
export const positionAt = (w: Walk): number => w.slot * SHARDS + w.shard;

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

/** What the keyspace's table keeps per key besides its value (see Shard's slots). */
export interface Tracking<V> {
  clock: AccessClock;
  /** A key's estimated bytes with its value (see usage.ts). */
  size(key: string, value: V): number;
}

const MAX_SIZE = 0xffffffff;

export class ShardedMap<V> {
  private readonly shards: Shard<V>[];
  private count = 0;
  /** Sum of the keys' recorded sizes (tracked maps only). */
  bytes = 0;
  /** Sum of the keys' lengths. */
  keyBytes = 0;
  /**
   * Where the key last stored or accessed is: a command that changes a
   * value in place reports it right after (resized()), and finds it here
   * without hashing again. Cleared by every delete (a compaction moves slots).
   */
  private lastKey: string | null = null;
  private lastShard = 0;
  private lastSlot = 0;
  /** The clock's command count when lastKey was last accessed (see set()). */
  private accessedIn = -1;
  /** Shards with touched slots (see Shard.touched), each once, for settle(). */
  private touchedShards: number[] = [];
  /** Touched slots across the shards (some listed twice, some since deleted): what settle() has to look at. */
  unsettled = 0;
  private isTouched = new Uint8Array(SHARDS);
  /** prefetch()'s shard and chain record per key. */
  private readonly prefetchShards = new Int32Array(PREFETCH_MAX);
  private readonly prefetchRecords = new Int32Array(PREFETCH_MAX);
  /** Snapshots walking this map (see freeze). */
  private freezes = 0;
  /** In cluster mode, the keys by cluster slot (see keepSlots); null otherwise. */
  slots: SlotKeys | null = null;

  constructor(
    private readonly codec: ValueCodec<V> | null = null,
    private readonly tracking: Tracking<V> | null = null,
  ) {
    this.shards = Array.from({ length: SHARDS }, () => new Shard<V>());
  }

  get size(): number {
    return this.count;
  }

  /** Keeps the keys by cluster slot from now on (cluster mode; see slot-keys.ts), the keys already here included. */
  keepSlots(): void {
    if (this.slots !== null) return;
    const slots = new SlotKeys(this.shards);
    for (let s = 0; s < SHARDS; s++) {
      const shard = this.shards[s];
      shard.makeLinked();
      for (let i = 0; i < shard.used; i++) if (shard.occupied(i)) slots.added(shard.key(i), i * SHARDS + s);
    }
    this.slots = slots;
  }

  /**
   * Reads what looking up each of n keys (bytes[starts[k], + lengths[k]),
   * none where the length is -1) will read: its chain's head, first slot
   * and key record, each step for all keys before the next, so that their
   * cache misses overlap instead of each lookup waiting for its own in turn.
   * At a million keys a pipelined GET or SET spent a third of its time in
   * those misses. Returns a sum of what it read, which the caller keeps so
   * that no read is optimised away.
   */
  prefetch(bytes: Uint8Array, starts: Int32Array, lengths: Int32Array, n: number): number {
    const shards = this.prefetchShards;
    const records = this.prefetchRecords;
    for (let k = 0; k < n; k++) {
      if (lengths[k] < 0) {
        records[k] = -1;
        continue;
      }
      const h = hashOfBytes(bytes, starts[k], lengths[k]);
      shards[k] = h & (SHARDS - 1);
      records[k] = h >>> SHARD_BITS;
    }
    for (let k = 0; k < n; k++) if (records[k] >= 0) records[k] = this.shards[shards[k]].chainRecord(records[k]);
    let sum = 0;
    for (let k = 0; k < n; k++) if (records[k] >= 0) sum += this.shards[shards[k]].arena[records[k]];
    return sum;
  }

  get(key: string): V | undefined {
    const h = hashOf(key);
    const shard = this.shards[h & (SHARDS - 1)];
    const i = shard.find(key, h >>> SHARD_BITS);
    return i === NONE ? undefined : this.valueIn(h & (SHARDS - 1), i);
  }

  /** get() that counts as an access to the key, for its access clock (Redis's lookupKey), unless the clock says not to. */
  access(key: string): V | undefined {
    return this.accessed(key) ? this.valueIn(this.lastShard, this.lastSlot) : undefined;
  }

  /**
   * access() for a reader that only reads the value's bytes (GET, HGET): a
   * value kept as bytes is lent through ref with its codec kind, valid until
   * the map next changes, and LENT returned instead of the object it would
   * have to become (a string made of its bytes; a hash, which would also
   * have to be packed again later).
   */
  accessLent(key: string, ref: Lent): V | undefined | typeof LENT {
    if (!this.accessed(key)) return undefined;
    const kind = this.shards[this.lastShard].bytesRef(this.lastSlot, ref);
    if (kind === 0) return this.valueIn(this.lastShard, this.lastSlot);
    ref.kind = kind;
    return LENT;
  }

  /** Finds key for an access (see access()) into lastShard and lastSlot; false when it is absent. */
  private accessed(key: string): boolean {
    const h = hashOf(key);
    const s = h & (SHARDS - 1);
    const shard = this.shards[s];
    const i = shard.find(key, h >>> SHARD_BITS);
    if (i === NONE) return false;
    this.remember(key, s, i);
    const tracking = this.tracking;
    if (tracking !== null) {
      if (tracking.clock.touching) shard.setClock(i, tracking.clock.accessed(shard.clock(i)));
      this.accessedIn = tracking.clock.command;
    }
    return true;
  }

  private remember(key: string, s: number, i: number): void {
    this.lastKey = key;
    this.lastShard = s;
    this.lastSlot = i;
  }

  /** Finds key's slot into lastShard/lastSlot; false when absent. */
  private locate(key: string): boolean {
    if (key === this.lastKey) return true;
    const h = hashOf(key);
    const i = this.shards[h & (SHARDS - 1)].find(key, h >>> SHARD_BITS);
    if (i === NONE) return false;
    this.remember(key, h & (SHARDS - 1), i);
    return true;
  }

  /**
   * Records key's size again after its value changed in place (Redis's
   * signalModifiedKey is where the engine calls this). A value kept as
   * bytes has not changed since it was measured.
   */
  resized(key: string): void {
    const tracking = this.tracking;
    if (tracking === null || !this.locate(key)) return;
    const shard = this.shards[this.lastShard];
    const i = this.lastSlot;
    // A value kept as bytes is unchanged since measured (the kind first: a SET leaves values[i], a cache miss,
    // unread); strings and numbers are replaced whole (set() measured them).
    if (shard.kind(i) !== 0) return;
    const v = shard.values[i];
    if (typeof v !== "object") return;
    this.record(shard, i, tracking.size(key, v));
  }

  private record(shard: Shard<V>, i: number, size: number): void {
    if (size > MAX_SIZE) size = MAX_SIZE;
    this.bytes += size - shard.sizeOf(i);
    shard.setSize(i, size);
  }

  /** Key's access clock field, or -1 when absent (tracked maps only). */
  accessOf(key: string): number {
    return this.locate(key) ? this.shards[this.lastShard].clock(this.lastSlot) : -1;
  }

  /** Sets key's access clock field (a loaded or restored key's IDLE/FREQ). */
  setAccess(key: string, field: number): void {
    if (this.tracking !== null && this.locate(key)) this.shards[this.lastShard].setClock(this.lastSlot, field);
  }

  /** A live entry's position (see position()) picked at random, as randomKey() picks; -1 when empty. */
  randomPosition(): number {
    while (this.count > 0) {
      // One draw gives both: the shard from its integer part, the slot from the rest (53 bits are plenty).
      const r = Math.random() * SHARDS;
      const s = r | 0;
      const shard = this.shards[s];
      const slot = ((r - s) * shard.used) | 0;
      if (shard.used === 0) continue;
      // The record word shares its cache line with the access clock that ranks the pick.
      if (shard.occupied(slot)) return slot * SHARDS + s;
    }
    return -1;
  }

  /** Whether a position (see position()) holds an entry; it may be another key's than when it was taken. */
  liveAt(p: number): boolean {
    const shard = this.shards[shardOf(p)];
    const slot = slotOf(p);
    return slot < shard.used && shard.occupied(slot);
  }

  /** The key at a live position. */
  keyAtPosition(p: number): string {
    return this.shards[shardOf(p)].key(slotOf(p));
  }

  /** The access clock field at a live position (tracked maps). */
  accessAtPosition(p: number): number {
    return this.shards[shardOf(p)].clock(slotOf(p));
  }

  /** The value at a live position, not revived in place. */
  peekAtPosition(p: number): V {
    return this.shards[shardOf(p)].peek(slotOf(p), this.codec);
  }

  /** The access clock field at a walk's entry (tracked maps). */
  accessAt(w: Walk): number {
    return this.shards[w.shard].clock(w.slot);
  }

  /** Shard s's value at slot i; one kept as bytes becomes an object, touched for settle(), unless its kind is immutable. */
  private valueIn(s: number, i: number): V {
    const shard = this.shards[s];
    const kind = shard.kind(i);
    if (kind !== 0 && !this.codec!.immutable(kind)) this.touchedValue(s);
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

  /** get() for a key lent by ref (no key string made), without reviving a value kept as bytes. */
  peekRef(ref: KeyRef): V | undefined {
    const h = hashOfBytes(ref.bytes, ref.at, ref.length);
    const shard = this.shards[h & (SHARDS - 1)];
    const i = shard.findRef(ref, h >>> SHARD_BITS);
    return i === NONE ? undefined : shard.peek(i, this.codec);
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
    // A write after its own lookup (INCR, APPEND, GETSET...) finds the key where the lookup left it.
    const known = key === this.lastKey;
    const h = known ? 0 : hashOf(key);
    const s = known ? this.lastShard : h & (SHARDS - 1);
    const shard = this.shards[s];
    let i = known ? this.lastSlot : shard.find(key, h >>> SHARD_BITS);
    const added = i === NONE;
    // A value of an immutable kind (strings) goes straight to the arena: nothing changes it in place. Other kinds
    // (small hashes, sorted sets) stay objects until settle(), since commands edit them in place.
    const kind = this.codec === null || typeof value === "number" ? 0 : this.codec.kind(value);
    const immutable = kind !== 0 && this.codec!.immutable(kind);
    if (added) {
      i = shard.insert(key, h >>> SHARD_BITS, value);
      this.count++;
      this.keyBytes += key.length;
      if (this.slots !== null) this.slots.added(key, i * SHARDS + s);
    }
    if (immutable) shard.putBytes(i, kind, this.codec!.bytes(value));
    else if (!added) shard.setValue(i, value);
    const tracking = this.tracking;
    if (tracking !== null) {
      // A new key's clock starts. An overwrite renews the LRU time; under LFU the counter carries over, the write's
      // lookup counting as an access (Redis's lookupKeyWrite, then dbOverwrite keeping the old lru field) unless
      // the command looked the key up already.
      const clock = tracking.clock;
      if (added) shard.setClock(i, clock.fresh());
      else if (!clock.lfu) shard.setClock(i, clock.lruClock);
      else if (clock.touching && !(key === this.lastKey && this.accessedIn === clock.command)) {
        shard.setClock(i, clock.accessed(shard.clock(i)));
      }
      this.record(shard, i, tracking.size(key, value));
      this.remember(key, s, i);
    }
    if (kind !== 0 && !immutable) {
      shard.touched.push(i);
      this.touchedValue(s);
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
        if (i >= shard.used || !shard.occupied(i) || shard.kind(i) !== 0) continue;
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
    const s = h & (SHARDS - 1);
    const shard = this.shards[s];
    const i = shard.seek(key, h >>> SHARD_BITS);
    if (i === NONE) return false;
    // Out of its slot's list while its position still holds.
    if (this.slots !== null) this.slots.removed(key, i * SHARDS + s);
    this.removed(s, key.length, shard.removeFound(i, h >>> SHARD_BITS));
    return true;
  }

  /** Deletes the entry at a live position without making its key a string (eviction, when nothing needs the name). */
  deleteAt(p: number): void {
    const s = shardOf(p);
    const shard = this.shards[s];
    const slot = slotOf(p);
    const length = shard.keyLength(slot);
    if (this.slots !== null) this.slots.removed(shard.key(slot), p);
    this.removed(s, length, shard.removeAt(slot));
  }

  /** Bookkeeping after a key of `length` bytes whose slot recorded `size` left shard s. */
  private removed(s: number, length: number, size: number): void {
    const shard = this.shards[s];
    this.count--;
    this.keyBytes -= length;
    this.bytes -= size;
    this.lastKey = null;
    // A compaction lists the objects it moved as touched (unsettled only approximates them).
    if (shard.touched.length !== 0) this.touch(s);
    if (shard.moved !== null) this.slots!.relink(s);
  }

  clear(): void {
    for (const shard of this.shards) shard.reset(0);
    this.slots?.clear();
    this.count = 0;
    this.bytes = 0;
    this.keyBytes = 0;
    this.lastKey = null;
    this.touchedShards = [];
    this.isTouched.fill(0);
    this.unsettled = 0;
  }

  *keys(): IterableIterator<string> {
    for (const shard of this.shards) {
      for (let i = 0; i < shard.used; i++) if (shard.occupied(i)) yield shard.key(i);
    }
  }

  /** A key picked at random (not quite uniformly: by shard, then by slot), or undefined when empty. */
  randomKey(): string | undefined {
    while (this.count > 0) {
      const shard = this.shards[Math.floor(Math.random() * SHARDS)];
      // A shard at least an eighth full (compact() sees to it) takes a few tries at most.
      const slot = Math.floor(Math.random() * shard.used);
      if (shard.used > 0 && shard.occupied(slot)) return shard.key(slot);
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
      // A shard emptied since the walk began has fewer slots in use than it had then.
      const end = Math.min(w.ends[w.shard], shard.used);
      while (w.slot < end && !shard.occupied(w.slot)) w.slot++;
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

  /** Lends the walk's key bytes through ref (no string made: a snapshot walks every key). */
  keyRefAt(w: Walk, ref: KeyRef): void {
    this.shards[w.shard].keyRef(w.slot, ref);
  }

  /** The codec's kind of the walk's value, lending its bytes through ref when it is kept as bytes (kind > 0). */
  bytesAt(w: Walk, ref: KeyRef): number {
    return this.shards[w.shard].bytesRef(w.slot, ref);
  }

  valueAt(w: Walk): V {
    return this.valueIn(w.shard, w.slot);
  }

  /** The walk's value if it is held as an object, without reviving one kept as bytes. */
  objectAt(w: Walk): V | undefined {
    const shard = this.shards[w.shard];
    return shard.kind(w.slot) === 0 ? shard.values[w.slot] : undefined;
  }

  /** Puts v, equal to it byte for byte, in place of the walk's object: no clock, size or event. */
  replaceAt(w: Walk, v: V): void {
    this.shards[w.shard].values[w.slot] = v;
  }
}
