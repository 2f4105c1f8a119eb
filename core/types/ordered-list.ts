/**
 * An ordered collection of items kept sorted by a key, for consumer-group
 * pending entries lists (Redis keeps them in radix trees ordered by ID).
 *
 * The order lives in chunks of at most CHUNK_MAX items, so an insert moves
 * at most a chunk's worth of slots and appending the newest ID stays cheap
 * at a million items. The list holds no index: whether an item still
 * belongs is the owner's to say (isLive), and the owner tells the list when
 * one stops belonging (removed()). Such an item stays in its chunk, stale,
 * skipped by every walk, until stale items outnumber live ones and the
 * chunks are rebuilt, or it reaches either end. So a group's PEL and each
 * consumer's share one index (the group's, see stream-groups.ts): XACK
 * deletes from one index, not from one per PEL (each delete a cache miss or
 * two), and a walk asks each item's owner instead of an index whether it is
 * live. Each chunk's keys are kept beside it, so the searches an insert
 * does read keys without loading every item they pass.
 */

const CHUNK_MAX = 256;
/** Stale items tolerated before a rebuild, however few live ones there are. */
const STALE_MIN = 64;

export class OrderedList<T, K> {
  private chunks: T[][] = [];
  /** keys[c][i] is keyOf(chunks[c][i]). */
  private keys: K[][] = [];
  /** Live items. */
  private count = 0;
  /** Items in chunks that are no longer live. */
  private stale = 0;
  /** Bumped whenever items move in the chunks, so a walk knows to seek again. */
  private version = 0;

  constructor(
    private keyOf: (item: T) => K,
    private compare: (a: K, b: K) => number,
    /** Whether an item in the chunks still belongs: false from before the owner calls removed() for it. */
    private isLive: (item: T) => boolean,
  ) {}

  get size(): number {
    return this.count;
  }

  first(): T | undefined {
    while (this.chunks.length > 0) {
      const chunk = this.chunks[0];
      let i = 0;
      while (i < chunk.length && !this.isLive(chunk[i])) i++;
      if (i === 0) return chunk[0];
      this.keepOnly(0, i, chunk.length);
    }
    return undefined;
  }

  last(): T | undefined {
    for (let ci = this.chunks.length - 1; ci >= 0; ci = this.chunks.length - 1) {
      const chunk = this.chunks[ci];
      let i = chunk.length;
      while (i > 0 && !this.isLive(chunk[i - 1])) i--;
      if (i === chunk.length) return chunk[i - 1];
      this.keepOnly(ci, 0, i);
    }
    return undefined;
  }

  /** Adds a live item; no other live item may have its key (a stale one with it is replaced). */
  insert(item: T): void {
    const key = this.keyOf(item);
    this.count++;
    const n = this.chunks.length;
    if (n === 0) {
      this.chunks.push([item]);
      this.keys.push([key]);
      return;
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
      return;
    }
    const ci = Math.max(this.chunkFor(key), 0);
    const chunk = this.chunks[ci];
    const keys = this.keys[ci];
    const i = this.lowerBound(keys, key);
    if (i < keys.length && this.compare(keys[i], key) === 0) {
      // The stale item of a key removed earlier (or this very item, back): the new one takes its place.
      chunk[i] = item;
      this.stale--;
      return;
    }
    this.version++;
    chunk.splice(i, 0, item);
    keys.splice(i, 0, key);
    if (chunk.length > CHUNK_MAX) {
      this.chunks.splice(ci + 1, 0, chunk.splice(CHUNK_MAX >> 1));
      this.keys.splice(ci + 1, 0, keys.splice(CHUNK_MAX >> 1));
    }
  }

  /** One item stopped being live (isLive already says so); it goes when the chunks are next rebuilt or trimmed. */
  removed(): void {
    this.count--;
    this.stale++;
    if (this.stale > STALE_MIN && this.stale > this.count) this.rebuild();
  }

  /**
   * Calls fn for items with key >= from (all when from is undefined), in
   * order, until fn returns false. fn may remove items (its own included):
   * after items move the walk seeks again past the last key it visited.
   */
  forEachFrom(from: K | undefined, fn: (item: T) => boolean | void): void {
    let ci = 0, i = 0;
    if (from !== undefined) [ci, i] = this.seek(from, false);
    while (ci < this.chunks.length) {
      const chunk = this.chunks[ci];
      if (i >= chunk.length) {
        ci++;
        i = 0;
        continue;
      }
      const item = chunk[i];
      if (!this.isLive(item)) {
        i++;
        continue;
      }
      const version = this.version;
      if (fn(item) === false) return;
      if (version !== this.version) [ci, i] = this.seek(this.keyOf(item), true);
      else i++;
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
    // A rebuild or an end's trim replaces arrays rather than emptying them: an iteration that removes items sees every item once.
    for (const chunk of this.chunks) {
      for (const item of chunk) if (this.isLive(item)) yield item;
    }
  }

  /** Keeps only [from, to) of chunk ci, the rest being stale (an empty range drops the chunk): trimming an end. */
  private keepOnly(ci: number, from: number, to: number): void {
    this.version++;
    this.stale -= this.chunks[ci].length - (to - from);
    if (from === to) {
      this.chunks = this.chunks.filter((_, k) => k !== ci);
      this.keys = this.keys.filter((_, k) => k !== ci);
      return;
    }
    this.chunks[ci] = this.chunks[ci].slice(from, to);
    this.keys[ci] = this.keys[ci].slice(from, to);
  }

  /** New chunks of the live items only, half full so that inserts have room. */
  private rebuild(): void {
    this.version++;
    const chunks: T[][] = [];
    const keys: K[][] = [];
    let chunk: T[] = [];
    let chunkKeys: K[] = [];
    for (const old of this.chunks) {
      for (const item of old) {
        if (!this.isLive(item)) continue;
        if (chunk.length === CHUNK_MAX >> 1) {
          chunks.push(chunk);
          keys.push(chunkKeys);
          chunk = [];
          chunkKeys = [];
        }
        chunk.push(item);
        chunkKeys.push(this.keyOf(item));
      }
    }
    if (chunk.length > 0) {
      chunks.push(chunk);
      keys.push(chunkKeys);
    }
    this.chunks = chunks;
    this.keys = keys;
    this.stale = 0;
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
