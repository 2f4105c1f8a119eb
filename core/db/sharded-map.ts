/**
 * The keyspace's hash table: binary-string keys to values, split into 64
 * shards by the key's FNV-1a hash, each shard a chained hash table over
 * parallel arrays (key offset, value, chain link) plus an array of bucket
 * heads, with the keys' bytes in one byte arena per shard.
 *
 * Why not a JS Map: JSC grows a Map's storage four times over at each step,
 * so a shard paid 40 to 160 bytes per key (105 at 100,000 keys) for the
 * table, and each key as a JS string cost another ~50 bytes over its
 * length; here a key costs its length plus 20 to 40 bytes. And an engine
 * rehashes a whole Map at once, which on a million keys stalled every
 * client for tens of milliseconds (seen when mass expiry shrank it); here a
 * rehash touches one shard.
 *
 * An entry keeps its slot for as long as it lives: deleting leaves a hole
 * that a later insert into the shard reuses, and growing rebuilds only the
 * chains. So a walk by slot (SCAN, the expire cycle) meets every entry
 * present throughout, whatever is written meanwhile. Only shrinking moves
 * entries; it bumps the shard's epoch, and a walk that finds the epoch
 * changed starts that shard over.
 */
import { cursor, readVarint, varintSize, writeVarint } from "../types/packed.ts";
import { str } from "../util/bytes.ts";

const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
const MIN_CAPACITY = 8;
const NONE = -1;
/** keyAt of a free slot. */
const HOLE = -1;
/** Arenas smaller than this are not worth compacting. */
const MIN_ARENA = 1024;
/** What every empty shard shares: 16 dbs of 2 maps of 64 shards would otherwise cost an idle server a few MB. */
const NO_CHAINS = Int32Array.of(NONE);
const NO_SLOTS = new Int32Array(0);
const NO_BYTES = new Uint8Array(0);

/** FNV-1a over the key's chars: a few ns for typical keys, even spread whatever the naming scheme. */
function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 16)) >>> 0;
}

/** hashOf() of the key whose bytes are bytes[at, at + length). */
function hashOfBytes(bytes: Uint8Array, at: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = at; i < at + length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h ^ (h >>> 16)) >>> 0;
}

/** An array of n undefined, built by push: JSC makes `new Array(n)` past 100,000 a slower sparse kind. */
function emptyArray<T>(n: number): (T | undefined)[] {
  const a: (T | undefined)[] = [];
  for (let i = 0; i < n; i++) a.push(undefined);
  return a;
}

class Shard<V> {
  values: (V | undefined)[] = [];
  /** Where each slot's key starts in `arena` (its length as a varint, then its bytes), or HOLE. Its length is the capacity. */
  keyAt = NO_SLOTS;
  /** A live entry's next in its chain; a hole's next hole. */
  next = NO_SLOTS;
  /** First entry of each chain, by hash bits above the shard's; as many chains as slots (one while there are none). */
  heads = NO_CHAINS;
  arena = NO_BYTES;
  /** End of the arena's used bytes. */
  top = 0;
  /** Arena bytes of deleted keys, reclaimed when they are half of it. */
  garbage = 0;
  /** Slots ever filled since the last reset: entries and holes lie below. */
  used = 0;
  live = 0;
  freeHole = NONE;
  epoch = 0;

  reset(capacity: number): void {
    this.values = emptyArray(capacity);
    this.keyAt = capacity === 0 ? NO_SLOTS : new Int32Array(capacity).fill(HOLE);
    this.next = capacity === 0 ? NO_SLOTS : new Int32Array(capacity);
    this.heads = capacity === 0 ? NO_CHAINS : new Int32Array(capacity).fill(NONE);
    this.arena = NO_BYTES;
    this.top = 0;
    this.garbage = 0;
    this.used = 0;
    this.live = 0;
    this.freeHole = NONE;
    this.epoch++;
  }

  /** True when slot i holds key. */
  private holds(i: number, key: string): boolean {
    const arena = this.arena;
    let at = this.keyAt[i];
    let length = arena[at++];
    if (length >= 128) {
      length = readVarint(arena, at - 1);
      at = cursor.at;
    }
    if (length !== key.length) return false;
    for (let j = 0; j < length; j++) if (arena[at + j] !== key.charCodeAt(j)) return false;
    return true;
  }

  key(i: number): string {
    const length = readVarint(this.arena, this.keyAt[i]);
    return str(this.arena.subarray(cursor.at, cursor.at + length));
  }

  find(key: string, h: number): number {
    let i = this.heads[h & (this.heads.length - 1)];
    while (i !== NONE && !this.holds(i, key)) i = this.next[i];
    return i;
  }

  insert(key: string, h: number, value: V): void {
    let i = this.freeHole;
    if (i !== NONE) {
      this.freeHole = this.next[i];
    } else {
      if (this.used === this.keyAt.length) this.grow();
      i = this.used++;
    }
    this.keyAt[i] = this.store(key);
    this.values[i] = value;
    this.link(i, h);
    this.live++;
  }

  remove(key: string, h: number): boolean {
    const bucket = h & (this.heads.length - 1);
    let prev = NONE;
    let i = this.heads[bucket];
    while (i !== NONE && !this.holds(i, key)) {
      prev = i;
      i = this.next[i];
    }
    if (i === NONE) return false;
    if (prev === NONE) this.heads[bucket] = this.next[i];
    else this.next[prev] = this.next[i];
    this.keyAt[i] = HOLE;
    this.values[i] = undefined;
    this.next[i] = this.freeHole;
    this.freeHole = i;
    this.live--;
    this.garbage += varintSize(key.length) + key.length;
    if (this.live < this.keyAt.length >>> 3 && this.keyAt.length > MIN_CAPACITY) this.compact();
    else if (this.garbage > this.top >>> 1 && this.top > MIN_ARENA) this.compactArena();
    return true;
  }

  /** Appends key's bytes to the arena; returns where they start. */
  private store(key: string): number {
    const need = varintSize(key.length) + key.length;
    if (this.top + need > this.arena.length) {
      const grown = new Uint8Array(Math.max(this.arena.length * 2, this.top + need, 64));
      grown.set(this.arena.subarray(0, this.top));
      this.arena = grown;
    }
    const at = this.top;
    const arena = this.arena;
    let p = writeVarint(arena, at, key.length);
    for (let j = 0; j < key.length; j++) arena[p++] = key.charCodeAt(j);
    this.top = p;
    return at;
  }

  private link(i: number, h: number): void {
    const bucket = h & (this.heads.length - 1);
    this.next[i] = this.heads[bucket];
    this.heads[bucket] = i;
  }

  /** Doubles the slots; only called when every slot holds an entry, so no hole chain is lost. */
  private grow(): void {
    const capacity = this.keyAt.length;
    const grown = Math.max(MIN_CAPACITY, capacity * 2);
    for (let i = capacity; i < grown; i++) this.values.push(undefined);
    const keyAt = new Int32Array(grown).fill(HOLE);
    keyAt.set(this.keyAt);
    this.keyAt = keyAt;
    const next = new Int32Array(grown);
    next.set(this.next);
    this.next = next;
    this.heads = new Int32Array(grown).fill(NONE);
    const arena = this.arena;
    for (let i = 0; i < capacity; i++) {
      const length = readVarint(arena, keyAt[i]);
      this.link(i, hashOfBytes(arena, cursor.at, length) >>> SHARD_BITS);
    }
  }

  /** Copies the live keys into a fresh arena of twice their size; slots stay where they are. */
  private compactArena(): void {
    const old = this.arena;
    const arena = new Uint8Array(Math.max(64, (this.top - this.garbage) * 2));
    let top = 0;
    for (let i = 0; i < this.used; i++) {
      const at = this.keyAt[i];
      if (at === HOLE) continue;
      const length = readVarint(old, at);
      const end = cursor.at + length;
      arena.set(old.subarray(at, end), top);
      this.keyAt[i] = top;
      top += end - at;
    }
    this.arena = arena;
    this.top = top;
    this.garbage = 0;
  }

  /** Moves the entries, in slot order, into the smallest table holding them at most half full. */
  private compact(): void {
    const { values, used } = this;
    const keys: string[] = [];
    const kept: V[] = [];
    for (let i = 0; i < used; i++) {
      if (this.keyAt[i] === HOLE) continue;
      keys.push(this.key(i));
      kept.push(values[i]!);
    }
    let capacity = keys.length === 0 ? 0 : MIN_CAPACITY;
    while (capacity < keys.length * 2) capacity *= 2;
    this.reset(capacity);
    for (let i = 0; i < keys.length; i++) this.insert(keys[i], hashOf(keys[i]) >>> SHARD_BITS, kept[i]);
  }
}

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

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    const h = hashOf(key);
    const shard = this.shards[h & (SHARDS - 1)];
    const i = shard.find(key, h >>> SHARD_BITS);
    return i === NONE ? undefined : shard.values[i];
  }

  has(key: string): boolean {
    const h = hashOf(key);
    return this.shards[h & (SHARDS - 1)].find(key, h >>> SHARD_BITS) !== NONE;
  }

  /** Stores value; true when key was not there before (Redis's dbAdd rather than an overwrite). */
  set(key: string, value: V): boolean {
    const h = hashOf(key);
    const shard = this.shards[h & (SHARDS - 1)];
    const i = shard.find(key, h >>> SHARD_BITS);
    if (i !== NONE) {
      shard.values[i] = value;
      return false;
    }
    shard.insert(key, h >>> SHARD_BITS, value);
    this.count++;
    return true;
  }

  delete(key: string): boolean {
    const h = hashOf(key);
    if (!this.shards[h & (SHARDS - 1)].remove(key, h >>> SHARD_BITS)) return false;
    this.count--;
    return true;
  }

  clear(): void {
    for (const shard of this.shards) shard.reset(0);
    this.count = 0;
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
    return this.shards[w.shard].values[w.slot]!;
  }
}
