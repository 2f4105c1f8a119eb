/**
 * A hash index from keys to items, for consumer-group PELs: keys that are
 * non-negative safe integers (every real stream ID's index form) live in
 * open addressing over a Float64Array, with linear probing and deletion by
 * backward shift (no tombstones to lengthen probes); other keys (strings)
 * go to a Map.
 *
 * Why not a Map: XACK of a random ID in a PEL of 800k spent ~35% of Node's
 * samples on two cache misses of Map.get, its bucket and then its entry.
 * Here a lookup that misses reads one run of keys, and a hit one more line
 * for the item.
 */

const EMPTY = -1;
const MIN_CAPACITY = 16;

/** murmur3's finalizer over both 32-bit halves of an integer below 2^53. */
function slotOf(key: number, mask: number): number {
  const lo = key >>> 0;
  let h = lo ^ Math.imul((key - lo) / 4294967296, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & mask;
}

export class HashIndex<T> {
  private keys = new Float64Array(MIN_CAPACITY).fill(EMPTY);
  private items: (T | undefined)[] = new Array(MIN_CAPACITY).fill(undefined);
  private mask = MIN_CAPACITY - 1;
  /** Integer keys held. */
  private count = 0;
  private strings: Map<string, T> | null = null;

  get size(): number {
    return this.count + (this.strings?.size ?? 0);
  }

  get(key: number | string): T | undefined {
    if (typeof key === "string") return this.strings?.get(key);
    const keys = this.keys;
    const mask = this.mask;
    for (let s = slotOf(key, mask);; s = (s + 1) & mask) {
      const k = keys[s];
      if (k === key) return this.items[s];
      if (k === EMPTY) return undefined;
    }
  }

  /** Adds key -> item; false (nothing changed) when key is already there. */
  add(key: number | string, item: T): boolean {
    if (typeof key === "string") {
      const strings = this.strings ??= new Map();
      if (strings.has(key)) return false;
      strings.set(key, item);
      return true;
    }
    const keys = this.keys;
    const mask = this.mask;
    let s = slotOf(key, mask);
    for (;; s = (s + 1) & mask) {
      const k = keys[s];
      if (k === key) return false;
      if (k === EMPTY) break;
    }
    keys[s] = key;
    this.items[s] = item;
    // At most 70% full: a miss then probes ~6 slots, within a cache line or two.
    if (++this.count * 10 > (mask + 1) * 7) this.resize();
    return true;
  }

  /** Removes key; returns its item, if it was there. */
  delete(key: number | string): T | undefined {
    if (typeof key === "string") {
      const item = this.strings?.get(key);
      if (item !== undefined) this.strings!.delete(key);
      return item;
    }
    const keys = this.keys;
    const items = this.items;
    const mask = this.mask;
    let hole = slotOf(key, mask);
    for (;; hole = (hole + 1) & mask) {
      const k = keys[hole];
      if (k === key) break;
      if (k === EMPTY) return undefined;
    }
    const item = items[hole];
    // Backward shift: each later key of the run whose home is not between the hole and it moves into the hole.
    for (let s = (hole + 1) & mask;; s = (s + 1) & mask) {
      const k = keys[s];
      if (k === EMPTY) break;
      const home = slotOf(k, mask);
      if (((s - home) & mask) >= ((s - hole) & mask)) {
        keys[hole] = k;
        items[hole] = items[s];
        hole = s;
      }
    }
    keys[hole] = EMPTY;
    items[hole] = undefined;
    if (--this.count * 8 < mask + 1 && mask + 1 > MIN_CAPACITY) this.resize();
    return item;
  }

  /** Rehashes into the smallest power of two at least twice the count (half full at most). */
  private resize(): void {
    let capacity = MIN_CAPACITY;
    while (capacity < this.count * 2) capacity *= 2;
    const oldKeys = this.keys;
    const oldItems = this.items;
    const keys = new Float64Array(capacity).fill(EMPTY);
    const items: (T | undefined)[] = new Array(capacity).fill(undefined);
    const mask = capacity - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i];
      if (k === EMPTY) continue;
      let s = slotOf(k, mask);
      while (keys[s] !== EMPTY) s = (s + 1) & mask;
      keys[s] = k;
      items[s] = oldItems[i];
    }
    this.keys = keys;
    this.items = items;
    this.mask = mask;
  }
}
