/**
 * One numbered database: the key -> value map and the key -> deadline map,
 * as Redis keeps them. Keys are binary strings. Every read goes through
 * lookup(), which deletes a key past its deadline before anyone can see it.
 */
import type { Value } from "../types/value.ts";
import { ShardedMap } from "./sharded-map.ts";

/** What the db tells the engine about, so stats, notifications and WATCH stay in one place. */
export interface KeyspaceObserver {
  /** The current time in ms, as commands see it. */
  readonly now: number;
  /** While clients are paused the dataset must not change: keys past their deadline read as gone but stay. */
  readonly clientsPaused: boolean;
  expired(db: Db, key: string): void;
  /** key did not exist and set() created it (Redis's dbAdd: the "new" keyspace event). */
  added(db: Db, key: string): void;
}

/** Scans in progress, so a cursor resumes a live Map iterator over one shard (see scan()). */
interface ScanState {
  /** The map walked: a cursor is only valid for the same map (SWAPDB exchanges maps). */
  data: ShardedMap<unknown>;
  shard: number;
  it: Iterator<string>;
  /** Visits left in this shard before every key it held when the walk began has been seen. */
  left: number;
  /** Each shard's size when the walk began: keys added later need not be visited. */
  sizes: Uint32Array;
}

const MAX_SCANS = 10_000;

export class Db {
  data = new ShardedMap<Value>();
  expires = new ShardedMap<number>();
  /** Persistent iterators so sampling walks the whole map across calls. */
  private expireWalk: Iterator<[string, number]> | null = null;
  private randomWalk: Iterator<string> | null = null;
  /** Running average of remaining TTL among sampled keys, for INFO keyspace avg_ttl. */
  avgTtl = 0;

  constructor(readonly id: number, private observer: KeyspaceObserver) {}

  get size(): number {
    return this.data.size;
  }

  /** The live value of key, expiring it first if its deadline has passed. */
  lookup(key: string, now: number): Value | undefined {
    if (this.pastDeadline(key, now)) {
      if (!this.observer.clientsPaused) this.expire(key);
      return undefined;
    }
    return this.data.get(key);
  }

  /** Whether key's deadline has passed, without expiring it (KEYS only filters such keys, as Redis does). */
  pastDeadline(key: string, now: number): boolean {
    if (this.expires.size === 0) return false;
    const at = this.expires.get(key);
    return at !== undefined && at <= now;
  }

  has(key: string, now: number): boolean {
    return this.lookup(key, now) !== undefined;
  }

  /** Stores value; keepTtl false (the default) clears any deadline, as SET does. */
  set(key: string, value: Value, keepTtl = false): void {
    if (this.expires.size !== 0) {
      const at = this.expires.get(key);
      // Overwriting a key past its deadline expires it first, as Redis's lookup before the write does: expired, then new.
      if (at !== undefined && at <= this.observer.now) this.expire(key);
      else if (at !== undefined && !keepTtl) this.expires.delete(key);
    }
    if (this.data.set(key, value)) this.observer.added(this, key);
  }

  delete(key: string): boolean {
    if (!this.data.delete(key)) return false;
    if (this.expires.size !== 0) this.expires.delete(key);
    return true;
  }

  setExpire(key: string, at: number): void {
    this.expires.set(key, at);
  }

  persist(key: string): boolean {
    return this.expires.delete(key);
  }

  ttl(key: string): number | undefined {
    return this.expires.get(key);
  }

  clear(): void {
    this.data.clear();
    this.expires.clear();
    this.expireWalk = null;
    this.randomWalk = null;
  }

  /** Exchanges contents with another db (SWAPDB). */
  swapWith(other: Db): void {
    [this.data, other.data] = [other.data, this.data];
    [this.expires, other.expires] = [other.expires, this.expires];
    this.expireWalk = other.expireWalk = null;
    this.randomWalk = other.randomWalk = null;
  }

  private expire(key: string): void {
    this.data.delete(key);
    this.expires.delete(key);
    this.observer.expired(this, key);
  }

  /**
   * A random live key: walks a persistent iterator a random number of steps,
   * so successive calls spread over the whole map at O(1) amortized cost.
   * Each miss deletes the expired key it landed on, so the loop ends, and
   * like Redis it never answers nil while a live key remains.
   */
  randomKey(now: number): string | null {
    while (this.data.size > 0) {
      let skip = Math.floor(Math.random() * Math.min(this.data.size, 64));
      let key: string | undefined;
      while (skip-- >= 0) {
        if (!this.randomWalk) this.randomWalk = this.data.keys();
        const r = this.randomWalk.next();
        if (r.done) {
          this.randomWalk = null;
          skip++;
          continue;
        }
        key = r.value;
      }
      if (key !== undefined && this.lookup(key, now) !== undefined) return key;
    }
    return null;
  }

  /**
   * One round of the active expire cycle: looks at up to `sample` keys with a
   * deadline, continuing where the previous round stopped, and deletes the
   * expired ones. Returns [looked, expired].
   */
  expireSample(sample: number, now: number): [number, number] {
    let looked = 0;
    let expired = 0;
    let restarted = false;
    while (looked < sample && this.expires.size > 0) {
      if (!this.expireWalk) this.expireWalk = this.expires.entries();
      const r = this.expireWalk.next();
      if (r.done) {
        this.expireWalk = null;
        if (restarted) break;
        restarted = true;
        continue;
      }
      looked++;
      const [key, at] = r.value;
      if (at <= now) {
        this.expire(key);
        expired++;
      } else {
        this.avgTtl = this.avgTtl === 0 ? at - now : (this.avgTtl / 50) * 49 + (at - now) / 50;
      }
    }
    return [looked, expired];
  }

  /**
   * SCAN: a cursor names a live walk over the shards. Within a shard, a Map
   * iterator visits every entry present from its start to its end exactly
   * once even while the map changes, which is the guarantee SCAN promises.
   * Keys added to a shard come after all older ones, so the walk leaves a
   * shard after as many visits as it held when the walk began: every key
   * present throughout has been seen by then, and a walk always ends within
   * the keyspace's starting size even while keys are added faster than it
   * reads them. An unknown or
   * evicted cursor restarts the walk: more duplicates, never a missed key.
   */
  scan(scans: ScanRegistry, cursor: string, count: number, visit: (key: string) => void): string {
    const shards = this.data.shards;
    let state = cursor === "0" ? undefined : scans.take(cursor, this.data);
    if (!state) {
      const sizes = Uint32Array.from(shards, (m) => m.size);
      state = { data: this.data, shard: 0, it: shards[0].keys(), left: sizes[0], sizes };
    }
    let visited = 0;
    for (;;) {
      while (state.left > 0 && visited < count) {
        const r = state.it.next();
        if (r.done) break;
        state.left--;
        visited++;
        visit(r.value);
      }
      const shardDone = state.left === 0 || visited < count;
      if (shardDone) {
        // Skip empty shards so the call that reaches the end returns cursor 0.
        do state.shard++; while (state.shard < shards.length && state.sizes[state.shard] === 0);
        if (state.shard >= shards.length) return "0";
        state.it = shards[state.shard].keys();
        state.left = state.sizes[state.shard];
      }
      if (visited >= count) return scans.put(state);
    }
  }
}

/** Cursor id -> iterator, shared by all dbs, oldest dropped past MAX_SCANS. */
export class ScanRegistry {
  private states = new Map<string, ScanState>();
  private nextId = 1 + Math.floor(Math.random() * 1e9);

  take(cursor: string, data: ShardedMap<unknown>): ScanState | undefined {
    const s = this.states.get(cursor);
    if (!s || s.data !== data) return undefined;
    this.states.delete(cursor);
    return s;
  }

  put(state: ScanState): string {
    const id = String(this.nextId++);
    this.states.set(id, state);
    if (this.states.size > MAX_SCANS) {
      this.states.delete(this.states.keys().next().value!);
    }
    return id;
  }

  clear(): void {
    this.states.clear();
  }
}
