/**
 * One numbered database: the key -> value map and the key -> deadline map,
 * as Redis keeps them. Keys are binary strings. Every read goes through
 * lookup(), which deletes a key past its deadline before anyone can see it.
 */
import type { Value } from "../types/value.ts";
import { HashValue } from "../types/hash.ts";
import { ZSet } from "../types/zset.ts";
import { ArgString } from "../types/string.ts";
import { str } from "../util/bytes.ts";
import { type LENT, type Lent, ShardedMap, type Tracking, type Walk } from "./sharded-map.ts";
import type { ValueCodec } from "./shard.ts";
import type { AccessClock } from "./access.ts";
import { deadlineBytes, keyBytes } from "./usage.ts";
import type { SlotKeys } from "./slot-keys.ts";

/** What the db tells the engine about, so stats, notifications and WATCH stay in one place. */
export interface KeyspaceObserver {
  /** The current time in ms, as commands see it. */
  readonly now: number;
  /** While clients are paused the dataset must not change: keys past their deadline read as gone but stay. */
  readonly clientsPaused: boolean;
  /**
   * On a replica keys expire only when the primary's DEL arrives: 1, keys
   * past their deadline read as missing but stay; 2, while the primary's
   * stream runs, they read as live (its commands were run on them). 0 on a primary.
   */
  readonly replicaExpiry: 0 | 1 | 2;
  /** The keys' access clock (OBJECT IDLETIME/FREQ, eviction). */
  readonly access: AccessClock;
  expired(db: Db, key: string): void;
  /** key did not exist and set() created it (Redis's dbAdd: the "new" keyspace event). */
  added(db: Db, key: string): void;
}

/**
 * A snapshot walking a db's maps (core/persist/snapshot.ts): the db calls
 * preserve() before it hands out, changes or drops a key, so the walk gets
 * the value as it was when the snapshot began (copy on write, per key).
 */
export interface SnapshotWalker {
  preserve(key: string): void;
}

/** A scan in progress, so a cursor resumes its walk (see scan()). */
interface ScanState {
  /** The map walked: a cursor is only valid for the same map (SWAPDB exchanges maps). */
  data: ShardedMap<unknown>;
  walk: Walk;
}

const MAX_SCANS = 10_000;

/** The keyspace's kind for a small hash kept as its packed bytes (a snapshot writes them without reviving the hash). */
export const PACKED_HASH = 1;
export const PACKED_ZSET = 2;
export const PACKED_STRING = 3;

/**
 * Small hashes and sorted sets are kept in the keyspace as their listpack
 * bytes between commands, without the object and string around them (see
 * sharded-map.ts); a command that reads one gets an object again. Strings
 * held as binary strings (up to STRING_INLINE_MAX bytes) live in the arena
 * as their bytes, after the key: a read makes a string of them and leaves
 * them there, sparing each key a string object and its pointer (1M keys of
 * 10-byte values: 90 MB less RSS under Bun, 6-20 MB under V8, whose heap
 * stays as large as the load's garbage made it).
 */
const packedValues: ValueCodec<Value> = {
  kind: (v) =>
    typeof v === "string" || v instanceof ArgString
      ? PACKED_STRING
      : v instanceof HashValue && v.packable()
      ? PACKED_HASH
      : v instanceof ZSet && v.isListpack()
      ? PACKED_ZSET
      : 0,
  bytes: (v) => (typeof v === "string" ? v : v instanceof ArgString ? v.bytes : (v as HashValue | ZSet).packedBytes()),
  revive: (kind, bytes, at, length) => {
    if (kind === PACKED_STRING) return str(bytes.subarray(at, at + length));
    // Opened straight into the pack buffer the command then edits: no string of the bytes on the way.
    return kind === PACKED_HASH ? HashValue.lentCopy(bytes, at, length) : ZSet.lentCopy(bytes, at, length);
  },
  immutable: (kind) => kind === PACKED_STRING,
};

/** What a deadline costs beyond its key's length (see usage.ts). */
const DEADLINE_BYTES = deadlineBytes("");

export class Db {
  /** The keys' access clocks and sizes (see ShardedMap): one per db, since its maps are replaced on a flush. */
  private readonly tracking: Tracking<Value>;
  data: ShardedMap<Value>;
  expires = new ShardedMap<number>();
  /** Where the active expire cycle stopped, so successive rounds cover every deadline. */
  private expireWalk: Walk | null = null;
  /** Running average of remaining TTL among sampled keys, for INFO keyspace avg_ttl. */
  avgTtl = 0;
  /**
   * Keys that may hold a hash with field deadlines: what the active cycle
   * visits (see field-expiry.ts), and whether a file of this db needs Redis
   * 7.4's RDB version. Every hash stored with deadlines is listed, whatever
   * stored it (HEXPIRE, RENAME, MOVE, RESTORE, a load).
   */
  fieldDeadlines = new Set<string>();
  /** The snapshot walking data and expires, if one is: told before every key is read or changed. */
  cow: SnapshotWalker | null = null;
  /** In cluster mode, the keys by slot (see slot-keys.ts; kept by the map itself, see ShardedMap.keepSlots); null otherwise. */
  get slotKeys(): SlotKeys | null {
    return this.data.slots;
  }

  constructor(readonly id: number, private observer: KeyspaceObserver) {
    this.tracking = { clock: observer.access, size: (key, v) => keyBytes(key, v) };
    this.data = new ShardedMap<Value>(packedValues, this.tracking);
  }

  get size(): number {
    return this.data.size;
  }

  /** Estimated bytes of the keys, values and deadlines: this db's part of used_memory (see usage.ts). */
  get bytes(): number {
    return this.data.bytes + this.expires.size * DEADLINE_BYTES + this.expires.keyBytes;
  }

  /** The live value of key, expiring it first if its deadline has passed; an access for its access clock. */
  lookup(key: string, now: number): Value | undefined {
    return this.live(key, now) ? this.data.access(key) : undefined;
  }

  /** lookup() for a reader of the value's bytes: a value kept as bytes comes lent (ShardedMap.accessLent). */
  lookupLent(key: string, now: number, ref: Lent): Value | undefined | typeof LENT {
    return this.live(key, now) ? this.data.accessLent(key, ref) : undefined;
  }

  /** lookup() that is no access for the clock (Redis's LOOKUP_NOTOUCH: EXISTS, TYPE, the TTL family, OBJECT, SCAN). */
  peek(key: string, now: number): Value | undefined {
    return this.live(key, now) ? this.data.get(key) : undefined;
  }

  /** False when key has reached its deadline (it is expired now, unless clients are paused). */
  private live(key: string, now: number): boolean {
    // A command may change the value it looked up in place, so a snapshot takes it first.
    if (this.cow !== null) this.cow.preserve(key);
    if (!this.pastDeadline(key, now)) return true;
    const replica = this.observer.replicaExpiry;
    if (replica !== 0) return replica === 2;
    if (!this.observer.clientsPaused) this.expire(key);
    return false;
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

  /**
   * Stores value; keepTtl false (the default) clears any deadline, as SET
   * does. An ArgString is stored as the string it stands for (types/string.ts).
   */
  set(key: string, value: Value | ArgString, keepTtl = false): void {
    if (this.cow !== null) this.cow.preserve(key);
    if (this.expires.size !== 0) {
      const at = this.expires.get(key);
      // Overwriting a key past its deadline expires it first, as Redis's lookup before the write does: expired, then new.
      if (at !== undefined && at <= this.observer.now && this.observer.replicaExpiry === 0) this.expire(key);
      else if (at !== undefined && !keepTtl) this.expires.delete(key);
    }
    // The map takes an ArgString as a string: its codec packs it at once, and usage.ts measures it as one.
    if (this.data.set(key, value as Value)) this.observer.added(this, key);
    if (value instanceof HashValue && value.hasDeadlines()) this.fieldDeadlines.add(key);
  }

  /** Adds a key read from a file (RDB load, RESTORE's caller checks first): no event, no dirty; false if it was there. */
  load(key: string, value: Value, expireAt: number, idleSeconds = -1, freq = -1): boolean {
    if (this.data.has(key)) return false;
    this.data.set(key, value);
    if (value instanceof HashValue && value.hasDeadlines()) this.fieldDeadlines.add(key);
    if (expireAt >= 0) this.expires.set(key, expireAt);
    this.setAccess(key, idleSeconds, freq);
    return true;
  }

  /** Gives key the access clock an RDB IDLE/FREQ record or RESTORE's IDLETIME/FREQ describes (-1: absent). */
  setAccess(key: string, idleSeconds: number, freq: number): void {
    const field = this.observer.access.restored(idleSeconds, freq);
    if (field !== null) this.data.setAccess(key, field);
  }

  delete(key: string): boolean {
    if (this.cow !== null) this.cow.preserve(key);
    if (!this.data.delete(key)) return false;
    if (this.expires.size !== 0) this.expires.delete(key);
    return true;
  }

  /**
   * Deletes the key at a live position of `data` (eviction). Its name is
   * made a string only when asked for (wantKey) or needed here (a snapshot
   * walking, deadlines to drop); it is returned then, else null.
   */
  deleteAt(p: number, wantKey: boolean): string | null {
    if (!wantKey && this.cow === null && this.expires.size === 0) {
      this.data.deleteAt(p);
      return null;
    }
    const key = this.data.keyAtPosition(p);
    this.delete(key);
    return key;
  }

  setExpire(key: string, at: number): void {
    if (this.cow !== null) this.cow.preserve(key);
    this.expires.set(key, at);
  }

  persist(key: string): boolean {
    if (this.cow !== null) this.cow.preserve(key);
    return this.expires.delete(key);
  }

  ttl(key: string): number | undefined {
    return this.expires.get(key);
  }

  clear(): void {
    this.expireWalk = null;
    this.fieldDeadlines.clear();
    if (this.cow === null) {
      this.data.clear();
      this.expires.clear();
      return;
    }
    // A snapshot still walks these maps: it keeps them as they are, the db starts on new ones.
    this.cow = null;
    const slotted = this.data.slots !== null;
    this.data = new ShardedMap<Value>(packedValues, this.tracking);
    if (slotted) this.data.keepSlots();
    this.expires = new ShardedMap<number>();
  }

  /** Exchanges contents with another db (SWAPDB). */
  swapWith(other: Db): void {
    [this.data, other.data] = [other.data, this.data];
    [this.expires, other.expires] = [other.expires, this.expires];
    [this.cow, other.cow] = [other.cow, this.cow];
    [this.fieldDeadlines, other.fieldDeadlines] = [other.fieldDeadlines, this.fieldDeadlines];
    this.expireWalk = other.expireWalk = null;
  }

  private expire(key: string): void {
    if (this.cow !== null) this.cow.preserve(key);
    this.data.delete(key);
    this.expires.delete(key);
    this.observer.expired(this, key);
  }

  /** A random live key; like Redis it never answers nil while one remains (each miss expires the key it drew). */
  randomKey(now: number): string | null {
    let tries = 100;
    for (;;) {
      const key = this.data.randomKey();
      if (key === undefined) return null;
      if (this.peek(key, now) !== undefined) return key;
      // Where expired keys stay (a replica, paused clients) all may be past their deadline: after 100 draws one is taken, as Redis does.
      const keeps = this.observer.replicaExpiry !== 0 || this.observer.clientsPaused;
      if (keeps && this.expires.size === this.data.size && --tries === 0) return key;
    }
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
      const walk = (this.expireWalk ??= this.expires.walk());
      if (!this.expires.advance(walk)) {
        this.expireWalk = null;
        if (restarted) break;
        restarted = true;
        continue;
      }
      looked++;
      const key = this.expires.keyAt(walk);
      const at = this.expires.valueAt(walk);
      walk.slot++;
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
   * SCAN: a cursor names a walk over the map's slots (see ShardedMap), which
   * meets every key present from its start to its end, and stops in each
   * shard at the slots in use when it began, so it ends within the
   * keyspace's size even while keys are added faster than it reads them.
   * An unknown or evicted cursor starts over: more repeats, never a missed key.
   */
  scan(scans: ScanRegistry, cursor: string, count: number, visit: (key: string) => void): string {
    const data = this.data;
    const state = (cursor === "0" ? undefined : scans.take(cursor, data)) ?? { data, walk: data.walk() };
    const walk = state.walk;
    for (let visited = 0; visited < count; visited++) {
      if (!data.advance(walk)) return "0";
      visit(data.keyAt(walk));
      walk.slot++;
    }
    // The call that reaches the end answers 0 rather than a cursor with nothing left.
    return data.advance(walk) ? scans.put(state) : "0";
  }
}

/** Cursor id -> scan in progress, shared by all dbs, oldest dropped past MAX_SCANS. */
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
