/**
 * maxmemory: Redis's performEvictions, run before each command while a
 * limit is set, against used_memory as Respite counts it (used-memory.ts),
 * not the process RSS. Over the limit, keys go by maxmemory-policy until
 * it is met again:
 *
 * - *-lru / *-lfu / volatile-ttl: Redis's approximated algorithm. Each
 *   round samples maxmemory-samples keys per db (all keys, or only those
 *   with a deadline) into a pool of the 16 best candidates seen so far,
 *   ranked by idle time, 255 minus the decayed LFU counter, or nearness of
 *   the deadline; the best candidate still present is evicted. The pool
 *   holds table positions, not key strings (sampling allocates nothing): a
 *   candidate whose slot no longer ranks as high (deleted, reused by
 *   another key, accessed since) is passed over.
 * - *-random: a random key of the next db in turn.
 * - noeviction, or nothing left to evict (volatile-* without deadlines):
 *   the command is refused with OOM if it is flagged deny-oom.
 *
 * One call evicts for at most maxmemory-eviction-tenacity's time budget;
 * the rest continues from a timer between client batches, as Redis's
 * eviction time proc does. Each eviction is a `del`-like effect: an
 * `evicted` keyspace event, DEL (UNLINK with lazyfree-lazy-eviction)
 * propagated, WATCH and tracking invalidated, INFO evicted_keys.
 */
import type { Engine } from "./engine.ts";
import type { Client } from "./client.ts";
import type { Command } from "../commands/table.ts";
import type { Db } from "../db/db.ts";
import type { ShardedMap } from "../db/sharded-map.ts";
import type { AccessClock } from "../db/access.ts";
import { scriptDeniesOom } from "../commands/script-flags.ts";
import { monotonicMs } from "../util/monotonic.ts";

export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

const POOL_SIZE = 16;
/** Keys evicted between two looks at the clock. */
const CHECK_EVERY = 16;

const EVICT_OK = 0;
const EVICT_RUNNING = 1;
const EVICT_FAIL = 2;

/** Commands a client inside MULTI may still send when memory is over the limit. */
const MULTI_ALLOWED = new Set(["exec", "discard", "quit", "reset"]);

/** How a policy ranks the key at a position of map (db's keys, or its deadlines): higher is evicted first; -1 to skip it. */
type Rank = (clock: AccessClock, db: Db, map: ShardedMap<unknown>, position: number) => number;

/** Redis's evictionTimeLimitUs, in ms: linear to 0.5 ms at tenacity 10, then 15% more per step, unlimited at 100. */
function timeLimitMs(tenacity: number): number {
  if (tenacity <= 10) return 0.05 * tenacity;
  if (tenacity < 100) return 0.5 * 1.15 ** (tenacity - 10);
  return Infinity;
}

export class Evictor {
  /** maxmemory in bytes; 0 for no limit. */
  limit = 0;
  private policy = "noeviction";
  private samples = 5;
  private budgetMs = 0.5;
  private lazy = false;
  /**
   * Whether evictions failed to bring memory under the limit before the
   * running command (Redis's pre_command_oom_state): a script refuses
   * deny-oom commands until its first write while it is set.
   */
  oomAtStart = false;
  /** The eviction timer proc, while evictions continue between client batches. */
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** monotonicMs() when memory first stayed over the limit after an eviction round, 0 while it is not. */
  private exceededSince = 0;
  /** Time over the limit in earlier periods (INFO total_eviction_exceeded_time). */
  private exceededTotal = 0;
  /** The random policies' next db. */
  private nextDb = 0;
  /** The best candidates so far, ascending by rank (Redis's EvictionPoolLRU): table positions (-1: empty), dbs, ranks. */
  private readonly poolPositions = new Int32Array(POOL_SIZE).fill(-1);
  private readonly poolDbs = new Int32Array(POOL_SIZE);
  private readonly poolRanks = new Float64Array(POOL_SIZE);
  private rank: Rank = () => 0;
  /** The positions one populate() samples. */
  private picks = new Int32Array(POOL_SIZE);
  private allKeys = true;
  /** A *-random policy. */
  private random = false;

  constructor(private readonly engine: Engine) {
    const config = engine.config;
    config.watch("maxmemory-policy", (v) => {
      this.policy = v;
      engine.access.setPolicy(v);
      this.allKeys = v.startsWith("allkeys-");
      this.random = v.endsWith("-random");
      this.rank = v.endsWith("-lru") ? rankIdle : v.endsWith("-lfu") ? rankRarity : rankDeadline;
      // A new policy starts from a fresh pool.
      this.poolPositions.fill(-1);
    });
    config.watch("maxmemory-samples", (v) => (this.samples = Number(v)));
    config.watch("maxmemory-eviction-tenacity", (v) => (this.budgetMs = timeLimitMs(Number(v))));
    config.watch("lazyfree-lazy-eviction", (v) => (this.lazy = v === "yes"));
    config.watch("lfu-log-factor", (v) => (engine.access.logFactor = Number(v)));
    config.watch("lfu-decay-time", (v) => (engine.access.decayTime = Number(v)));
    config.watch("maxmemory", (v) => {
      const was = this.limit;
      this.limit = Number(v);
      const used = engine.memory.total();
      if (this.limit !== 0 && this.limit !== was && used > this.limit && engine.dbs.length !== 0) {
        engine.log(
          "warning",
          `WARNING: the new maxmemory value set via CONFIG SET (${this.limit}) is smaller than the current memory usage (${used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.`,
        );
        this.startTimer();
      }
    });
  }

  /** [total_eviction_exceeded_time, current_eviction_exceeded_time] in ms. */
  exceededMs(): [number, number] {
    const current = this.exceededSince === 0 ? 0 : Math.floor(monotonicMs() - this.exceededSince);
    return [Math.floor(this.exceededTotal) + current, current];
  }

  /**
   * Before a command (only called while a limit is set): evicts what the
   * policy allows, then answers whether the command must be refused with
   * OOM, as Redis's processCommand decides: a deny-oom command (EXEC of a
   * transaction holding one, a script whose shebang lacks allow-oom and
   * no-writes), or any command queued inside MULTI but EXEC, DISCARD,
   * QUIT and RESET.
   */
  refuses(c: Client, cmd: Command, argv: Uint8Array[]): boolean {
    if (!this.safe()) return false;
    const oom = this.perform() === EVICT_FAIL;
    this.oomAtStart = oom;
    // The primary's stream is never refused on a replica: a refusal nobody reads would diverge the dataset.
    if (!oom || c.isMaster) return false;
    if (c.multi !== null && !MULTI_ALLOWED.has(cmd.name)) return true;
    return this.deniesOom(c, cmd, argv);
  }

  private deniesOom(c: Client, cmd: Command, argv: Uint8Array[]): boolean {
    if (cmd.flags.has("denyoom")) return true;
    if (cmd.name === "exec") return c.multi !== null && c.multi.some((q) => this.deniesOom(c, q.cmd, q.argv));
    return cmd.group === "scripting" && scriptDeniesOom(this.engine, cmd, argv);
  }

  /**
   * Redis's isSafeToPerformEvictions: not while loading, while a script holds the server, while clients are
   * paused, or on a replica with replica-ignore-maxmemory (its primary's DELs keep it in step).
   */
  private safe(): boolean {
    const e = this.engine;
    if (e.replica.host !== null && e.config.bool("replica-ignore-maxmemory")) return false;
    return e.loading === null && e.busyError === null && e.pause.mode === null;
  }

  /** Redis's performEvictions: EVICT_OK, EVICT_RUNNING (the timer goes on) or EVICT_FAIL (still over, nothing to evict). */
  private perform(): number {
    const used = this.engine.memory.counted();
    if (used <= this.limit) return this.metrics(EVICT_OK);
    if (this.policy === "noeviction") return this.metrics(EVICT_FAIL);
    const toFree = used - this.limit;
    // The clock is read only when the latency monitor times the cycle, or once CHECK_EVERY keys went: the time
    // budget counts from there (a clock reading before each command would cost more than evicting a key).
    const latency = this.engine.latency;
    const timed = latency.thresholdUsec !== Infinity;
    let start = timed ? monotonicMs() : 0;
    let freed = 0;
    let evicted = 0;
    while (freed < toFree) {
      const bytes = this.evictOne();
      if (bytes < 0) return this.metrics(EVICT_FAIL);
      freed += bytes;
      if (++evicted % CHECK_EVERY !== 0) continue;
      if (start === 0) start = monotonicMs();
      else if (monotonicMs() - start > this.budgetMs) {
        // Over the time budget: the timer proc goes on between client batches.
        this.startTimer();
        break;
      }
    }
    if (timed) {
      const ms = monotonicMs() - start;
      if (ms * 1000 >= latency.thresholdUsec) latency.add("eviction-cycle", Math.floor(ms), this.engine.clock.now());
    }
    return this.metrics(this.timer !== null ? EVICT_RUNNING : EVICT_OK);
  }

  /** INFO's eviction-exceeded times follow each round's outcome. */
  private metrics(result: number): number {
    if (result !== EVICT_OK) {
      if (this.exceededSince === 0) this.exceededSince = monotonicMs();
    } else if (this.exceededSince !== 0) {
      this.exceededTotal += monotonicMs() - this.exceededSince;
      this.exceededSince = 0;
    }
    return result;
  }

  private startTimer(): void {
    if (this.timer !== null) return;
    const proc = () => {
      this.timer = null;
      if (this.limit === 0 || !this.safe()) return;
      this.timer = setTimeout(proc, 0);
      if (this.perform() !== EVICT_RUNNING) this.stop();
    };
    this.timer = setTimeout(proc, 0);
  }

  /** Stops the eviction timer proc (engine stop). */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Evicts the key the policy picks next; returns the bytes that freed, or -1 when there is nothing to evict. */
  private evictOne(): number {
    const dbs = this.engine.dbs;
    if (this.random) {
      for (let i = 0; i < dbs.length; i++) {
        const db = dbs[++this.nextDb % dbs.length];
        const map: ShardedMap<unknown> = this.allKeys ? db.data : db.expires;
        if (map.size !== 0) return this.evict(db, map, map.randomPosition());
      }
      return -1;
    }
    for (;;) {
      let keys = 0;
      for (const db of dbs) {
        const map: ShardedMap<unknown> = this.allKeys ? db.data : db.expires;
        if (map.size === 0) continue;
        keys += map.size;
        this.populate(db, map);
      }
      if (keys === 0) return -1;
      // From the best candidate down: the first that still ranks as it did when sampled goes.
      const clock = this.engine.access;
      for (let k = POOL_SIZE - 1; k >= 0; k--) {
        const p = this.poolPositions[k];
        if (p < 0) continue;
        this.poolPositions[k] = -1;
        const db = dbs[this.poolDbs[k]];
        const map: ShardedMap<unknown> = this.allKeys ? db.data : db.expires;
        if (map.liveAt(p) && this.rank(clock, db, map, p) >= this.poolRanks[k]) return this.evict(db, map, p);
      }
    }
  }

  /** Redis's evictionPoolPopulate: samples keys of one db's map into the pool, keeping the best 16 in rank order. */
  private populate(db: Db, map: ShardedMap<unknown>): void {
    const positions = this.poolPositions;
    const ranks = this.poolRanks;
    const dbs = this.poolDbs;
    const clock = this.engine.access;
    // Every sample's slot first, then their ranks: the slots' cache misses overlap instead of one waiting for the
    // pool insertion after another (each rank then reads a line already loaded).
    const samples = this.samples;
    if (this.picks.length < samples) this.picks = new Int32Array(samples);
    const picks = this.picks;
    for (let n = 0; n < samples; n++) picks[n] = map.randomPosition();
    for (let n = 0; n < samples; n++) {
      const p = picks[n];
      const rank = this.rank(clock, db, map, p);
      if (rank < 0) continue;
      let k = 0;
      while (k < POOL_SIZE && positions[k] >= 0 && ranks[k] < rank) k++;
      // Worse than every candidate of a full pool.
      if (k === 0 && positions[POOL_SIZE - 1] >= 0) continue;
      if (k === POOL_SIZE || positions[k] >= 0) {
        if (positions[POOL_SIZE - 1] < 0) {
          // Room on the right: the better candidates move up one (the candidates are a prefix of the pool).
          let j = k + 1;
          while (positions[j] >= 0) j++;
          for (; j > k; j--) {
            positions[j] = positions[j - 1];
            ranks[j] = ranks[j - 1];
            dbs[j] = dbs[j - 1];
          }
        } else {
          // Full: the worst (leftmost) candidate goes to make room below k.
          k--;
          for (let j = 0; j < k; j++) {
            positions[j] = positions[j + 1];
            ranks[j] = ranks[j + 1];
            dbs[j] = dbs[j + 1];
          }
        }
      }
      positions[k] = p;
      ranks[k] = rank;
      dbs[k] = db.id;
    }
  }

  /**
   * Evicts the key at a position of db's keys or deadlines, with what
   * Redis's performEvictions does around it; returns the bytes freed. When
   * nothing needs the key's name (see Db.deleteAt, Engine.evictionWatched)
   * it goes without becoming a string.
   */
  private evict(db: Db, map: ShardedMap<unknown>, p: number): number {
    const before = db.bytes;
    const engine = this.engine;
    let key: string | null;
    if (map === db.data) key = db.deleteAt(p, engine.evictionWatched);
    else {
      key = map.keyAtPosition(p);
      db.delete(key);
    }
    engine.evicted(db, key, this.lazy);
    return before - db.bytes;
  }
}

/** The access clock field of the key at a position of db's keys or deadlines; -1 when the key is gone. */
function fieldAt(db: Db, map: ShardedMap<unknown>, p: number): number {
  return map === db.data ? db.data.accessAtPosition(p) : db.data.accessOf(map.keyAtPosition(p));
}

/** LRU: idle time in ms. */
const rankIdle: Rank = (clock, db, map, p) => {
  const field = fieldAt(db, map, p);
  return field < 0 ? -1 : clock.idleMs(field);
};

/** LFU: 255 minus the decayed counter. */
const rankRarity: Rank = (clock, db, map, p) => {
  const field = fieldAt(db, map, p);
  return field < 0 ? -1 : 255 - clock.freq(field);
};

/** volatile-ttl: the sooner the deadline, the higher. */
const rankDeadline: Rank = (_clock, _db, map, p) => Number.MAX_SAFE_INTEGER - (map.peekAtPosition(p) as number);
