/**
 * The keyspace's hash table: binary-string keys to values, split into 64
 * shards by the key's FNV-1a hash, each shard a chained hash table over
 * parallel arrays (key, value, chain link) plus an array of bucket heads.
 *
 * Why not a JS Map: JSC grows a Map's storage four times over at each step,
 * so a shard paid 40 to 160 bytes per key (105 at 100,000 keys); here a key
 * costs 24 to 48. And an engine rehashes a whole Map at once, which on a
 * million keys stalled every client for tens of milliseconds (seen when mass
 * expiry shrank it); here a rehash touches one shard.
 *
 * An entry keeps its slot for as long as it lives: deleting leaves a hole
 * that a later insert into the shard reuses, and growing rebuilds only the
 * chains. So a walk by slot (SCAN, the expire cycle) meets every entry
 * present throughout, whatever is written meanwhile. Only shrinking moves
 * entries; it bumps the shard's epoch, and a walk that finds the epoch
 * changed starts that shard over.
 */

const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
const MIN_CAPACITY = 8;
const NONE = -1;
/** The one chain of every empty shard: 16 dbs of 2 maps of 64 shards would otherwise cost an idle server a few MB. */
const NO_CHAINS = Int32Array.of(NONE);

/** FNV-1a over the key's chars: a few ns for typical keys, even spread whatever the naming scheme. */
function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 16)) >>> 0;
}

/** An array of n undefined, built by push: JSC makes `new Array(n)` past 100,000 a slower sparse kind. */
function emptyArray<T>(n: number): (T | undefined)[] {
  const a: (T | undefined)[] = [];
  for (let i = 0; i < n; i++) a.push(undefined);
  return a;
}

class Shard<V> {
  keys: (string | undefined)[] = [];
  values: (V | undefined)[] = [];
  /** A live entry's next in its chain; a hole's next hole. Its length is the shard's capacity in slots. */
  next = new Int32Array(0);
  /** First entry of each chain, by hash bits above the shard's; as many chains as slots (one while there are none). */
  heads = NO_CHAINS;
  /** Slots ever filled since the last reset: entries and holes lie below. */
  used = 0;
  live = 0;
  freeHole = NONE;
  epoch = 0;

  reset(capacity: number): void {
    this.keys = emptyArray(capacity);
    this.values = emptyArray(capacity);
    this.next = new Int32Array(capacity);
    this.heads = capacity === 0 ? NO_CHAINS : new Int32Array(capacity).fill(NONE);
    this.used = 0;
    this.live = 0;
    this.freeHole = NONE;
    this.epoch++;
  }

  find(key: string, h: number): number {
    let i = this.heads[h & (this.heads.length - 1)];
    while (i !== NONE && this.keys[i] !== key) i = this.next[i];
    return i;
  }

  insert(key: string, h: number, value: V): void {
    let i = this.freeHole;
    if (i !== NONE) {
      this.freeHole = this.next[i];
    } else {
      if (this.used === this.next.length) this.grow();
      i = this.used++;
    }
    this.keys[i] = key;
    this.values[i] = value;
    this.link(i, h);
    this.live++;
  }

  remove(key: string, h: number): boolean {
    const bucket = h & (this.heads.length - 1);
    let prev = NONE;
    let i = this.heads[bucket];
    while (i !== NONE && this.keys[i] !== key) {
      prev = i;
      i = this.next[i];
    }
    if (i === NONE) return false;
    if (prev === NONE) this.heads[bucket] = this.next[i];
    else this.next[prev] = this.next[i];
    this.keys[i] = undefined;
    this.values[i] = undefined;
    this.next[i] = this.freeHole;
    this.freeHole = i;
    this.live--;
    if (this.live < this.next.length >>> 3 && this.next.length > MIN_CAPACITY) this.compact();
    return true;
  }

  private link(i: number, h: number): void {
    const bucket = h & (this.heads.length - 1);
    this.next[i] = this.heads[bucket];
    this.heads[bucket] = i;
  }

  /** Doubles the slots; only called when every slot holds an entry, so no hole chain is lost. */
  private grow(): void {
    const capacity = this.next.length;
    const grown = Math.max(MIN_CAPACITY, capacity * 2);
    for (let i = capacity; i < grown; i++) {
      this.keys.push(undefined);
      this.values.push(undefined);
    }
    const next = new Int32Array(grown);
    next.set(this.next);
    this.next = next;
    this.heads = new Int32Array(grown).fill(NONE);
    for (let i = 0; i < capacity; i++) this.link(i, hashOf(this.keys[i]!) >>> SHARD_BITS);
  }

  /** Moves the entries, in slot order, into the smallest table holding them at most half full. */
  private compact(): void {
    const { keys, values, used } = this;
    let capacity = this.live === 0 ? 0 : MIN_CAPACITY;
    while (capacity < this.live * 2) capacity *= 2;
    this.reset(capacity);
    for (let i = 0; i < used; i++) {
      const key = keys[i];
      if (key !== undefined) this.insert(key, hashOf(key) >>> SHARD_BITS, values[i]!);
    }
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
      for (let i = 0; i < shard.used; i++) {
        const key = shard.keys[i];
        if (key !== undefined) yield key;
      }
    }
  }

  /** A key picked at random (not quite uniformly: by shard, then by slot), or undefined when empty. */
  randomKey(): string | undefined {
    while (this.count > 0) {
      const shard = this.shards[Math.floor(Math.random() * SHARDS)];
      // A shard at least an eighth full (compact() sees to it) takes a few tries at most.
      const key = shard.keys[Math.floor(Math.random() * shard.used)];
      if (key !== undefined) return key;
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
      const keys = shard.keys;
      const end = w.ends[w.shard];
      while (w.slot < end && keys[w.slot] === undefined) w.slot++;
      if (w.slot < end) return true;
      if (w.shard === SHARDS - 1) return false;
      w.shard++;
      w.slot = 0;
      w.epoch = this.shards[w.shard].epoch;
    }
  }

  keyAt(w: Walk): string {
    return this.shards[w.shard].keys[w.slot]!;
  }

  valueAt(w: Walk): V {
    return this.shards[w.shard].values[w.slot]!;
  }
}
