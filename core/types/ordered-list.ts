/**
 * An ordered collection of items kept sorted by a key, for consumer-group
 * pending entries lists (Redis keeps them in radix trees ordered by ID).
 * Items live in chunks of at most CHUNK_MAX, so an insert or delete moves
 * at most a chunk's worth of slots, a lookup is two binary searches, and
 * the common shapes (appending the newest ID, removing the oldest) stay
 * cheap at a million items where one flat array would move them all.
 * Each chunk's keys are kept beside it in an array of their own, so the
 * binary searches read keys without loading every item they pass (XACK
 * deletes from two PELs: most of its cost was those loads).
 */

const CHUNK_MAX = 256;

export class OrderedList<T, K> {
  private chunks: T[][] = [];
  /** keys[c][i] is keyOf(chunks[c][i]). */
  private keys: K[][] = [];
  private count = 0;
  /** Bumped by every insert and delete, so a walk knows to seek again. */
  private version = 0;

  constructor(private keyOf: (item: T) => K, private compare: (a: K, b: K) => number) {}

  get size(): number {
    return this.count;
  }

  first(): T | undefined {
    return this.chunks.length === 0 ? undefined : this.chunks[0][0];
  }

  last(): T | undefined {
    const c = this.chunks[this.chunks.length - 1];
    return c === undefined ? undefined : c[c.length - 1];
  }

  /** The item with this key, if any. */
  get(key: K): T | undefined {
    // A key past the last one (XREADGROUP checking a new entry before delivering it) needs no search.
    const lastKeys = this.keys[this.keys.length - 1];
    if (lastKeys === undefined || this.compare(lastKeys[lastKeys.length - 1], key) < 0) return undefined;
    const ci = this.chunkFor(key);
    if (ci < 0) return undefined;
    const chunk = this.chunks[ci];
    const keys = this.keys[ci];
    const i = this.lowerBound(keys, key);
    return i < keys.length && this.compare(keys[i], key) === 0 ? chunk[i] : undefined;
  }

  /** Adds item; false (nothing changed) when an item with its key is already there. */
  insert(item: T): boolean {
    const key = this.keyOf(item);
    const n = this.chunks.length;
    this.version++;
    if (n === 0) {
      this.chunks.push([item]);
      this.keys.push([key]);
      this.count++;
      return true;
    }
    const lastChunk = this.chunks[n - 1];
    const lastKeys = this.keys[n - 1];
    // Fast path: a key after every other one (XREADGROUP delivering new entries).
    if (this.compare(lastKeys[lastKeys.length - 1], key) < 0) {
      if (lastChunk.length < CHUNK_MAX) {
        lastChunk.push(item);
        lastKeys.push(key);
      } else {
        this.chunks.push([item]);
        this.keys.push([key]);
      }
      this.count++;
      return true;
    }
    const ci = Math.max(this.chunkFor(key), 0);
    const chunk = this.chunks[ci];
    const keys = this.keys[ci];
    const i = this.lowerBound(keys, key);
    if (i < keys.length && this.compare(keys[i], key) === 0) return false;
    chunk.splice(i, 0, item);
    keys.splice(i, 0, key);
    if (chunk.length > CHUNK_MAX) {
      this.chunks.splice(ci + 1, 0, chunk.splice(CHUNK_MAX >> 1));
      this.keys.splice(ci + 1, 0, keys.splice(CHUNK_MAX >> 1));
    }
    this.count++;
    return true;
  }

  /** Removes and returns the item with this key, if any. */
  delete(key: K): T | undefined {
    const ci = this.chunkFor(key);
    if (ci < 0) return undefined;
    const chunk = this.chunks[ci];
    const keys = this.keys[ci];
    const i = this.lowerBound(keys, key);
    if (i >= keys.length || this.compare(keys[i], key) !== 0) return undefined;
    this.version++;
    const item = chunk[i];
    removeAt(chunk, i);
    removeAt(keys, i);
    if (chunk.length === 0) {
      this.chunks.splice(ci, 1);
      this.keys.splice(ci, 1);
    }
    this.count--;
    return item;
  }

  /**
   * Calls fn for items with key >= from (all when from is undefined), in
   * order, until fn returns false. fn may delete items (its own included):
   * after a change the walk seeks again past the last key it visited.
   */
  forEachFrom(from: K | undefined, fn: (item: T) => boolean | void): void {
    let ci = 0, i = 0;
    if (from !== undefined) [ci, i] = this.seek(from, false);
    while (ci < this.chunks.length) {
      const item = this.chunks[ci][i];
      const version = this.version;
      if (fn(item) === false) return;
      if (version !== this.version) [ci, i] = this.seek(this.keyOf(item), true);
      else if (++i === this.chunks[ci].length) {
        ci++;
        i = 0;
      }
    }
  }

  /** The first item with key >= from. */
  ceiling(from: K): T | undefined {
    let found: T | undefined;
    this.forEachFrom(from, (item) => {
      found = item;
      return false;
    });
    return found;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (const chunk of this.chunks) yield* chunk;
  }

  /** The position of the first item with key >= key (> key when strict); [chunks.length, 0] past the end. */
  private seek(key: K, strict: boolean): [number, number] {
    let ci = Math.max(this.chunkFor(key), 0);
    while (ci < this.chunks.length) {
      const keys = this.keys[ci];
      let i = this.lowerBound(keys, key);
      if (strict && i < keys.length && this.compare(keys[i], key) === 0) i++;
      if (i < keys.length) return [ci, i];
      ci++;
    }
    return [ci, 0];
  }

  /** Index of the last chunk whose first key is <= key (-1 when key precedes them all). */
  private chunkFor(key: K): number {
    let lo = 0, hi = this.keys.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(this.keys[mid][0], key) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** First index in a chunk's keys whose key is >= key. */
  private lowerBound(keys: K[], key: K): number {
    let lo = 0, hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(keys[mid], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Removes a[i] by moving the rest down: no array made for the removed item, as splice makes. */
function removeAt<X>(a: X[], i: number): void {
  for (let k = i + 1; k < a.length; k++) a[k - 1] = a[k];
  a.pop();
}
