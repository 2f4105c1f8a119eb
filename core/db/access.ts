/**
 * The per-key access clock, with the semantics of Redis's 24-bit `lru`
 * object field, kept by the keyspace table in a Uint32Array beside its
 * slots (4 bytes per key; see sharded-map.ts). Under an LRU policy (and any
 * policy that is not LFU) the field is the LRU clock at the last access:
 * seconds, modulo 2^24. Under an LFU policy it is the minutes clock at the
 * last decrement (16 bits) above a logarithmic 8-bit counter: an access
 * first lets the counter decay by one per lfu-decay-time minutes elapsed,
 * then increments it with probability 1 / ((counter - 5) * lfu-log-factor
 * + 1), so it reaches 255 only after about a million accesses at the
 * default factor. A new key starts at 5, so it is not evicted at once.
 */
export const LRU_CLOCK_MAX = (1 << 24) - 1;
/** Milliseconds per LRU clock tick. */
const LRU_RESOLUTION = 1000;
/** A new key's LFU counter (Redis's LFU_INIT_VAL). */
export const LFU_INIT = 5;

export class AccessClock {
  /** An LFU maxmemory-policy: fields hold minutes << 8 | counter. */
  lfu = false;
  /** An LRU maxmemory-policy (volatile-lru, allkeys-lru): RDB files get IDLE records. */
  lru = false;
  /** The LRU clock now (seconds, 24 bits), set from the engine's time at each command. */
  lruClock = 0;
  /** The LFU minutes clock now (16 bits). */
  minutes = 0;
  /** lfu-log-factor and lfu-decay-time (minutes per decrement; 0: never). */
  logFactor = 10;
  decayTime = 1;
  /**
   * Whether lookups count as accesses: off while a command of a CLIENT
   * NO-TOUCH client runs (TOUCH excepted), and for the lookups Redis makes
   * with LOOKUP_NOTOUCH (EXISTS, TYPE, the TTL family, OBJECT).
   */
  touching = true;
  /** Counts commands run (set by the engine), so a write can tell that its own lookup already counted as the access. */
  command = 0;

  /** Follows maxmemory-policy. */
  setPolicy(policy: string): void {
    this.lfu = policy.endsWith("-lfu");
    this.lru = policy.endsWith("-lru");
  }

  /** The time of the last tick(), so the many ticks of one millisecond cost a comparison. */
  private lastTick = 0;

  /** Moves the clocks to now (unix ms). */
  tick(now: number): void {
    if (now === this.lastTick) return;
    this.lastTick = now;
    this.lruClock = Math.floor(now / LRU_RESOLUTION) & LRU_CLOCK_MAX;
    this.minutes = Math.floor(now / 60000) & 0xffff;
  }

  /** A new key's field (Redis's createObject). */
  fresh(): number {
    return this.lfu ? (this.minutes << 8) | LFU_INIT : this.lruClock;
  }

  /** The field after an access to a key whose field was `field` (Redis's lookupKey: updateLFU, or the LRU clock). */
  accessed(field: number): number {
    if (!this.lfu) return this.lruClock;
    let counter = this.freq(field);
    if (counter < 255) {
      const base = Math.max(0, counter - LFU_INIT);
      if (Math.random() < 1 / (base * this.logFactor + 1)) counter++;
    }
    return (this.minutes << 8) | counter;
  }

  /** Milliseconds since the access a LRU field records (Redis's estimateObjectIdleTime, clock wrap included). */
  idleMs(field: number): number {
    const clock = this.lruClock;
    return (clock >= field ? clock - field : clock + (LRU_CLOCK_MAX - field)) * LRU_RESOLUTION;
  }

  /** A LFU field's counter after the decay due since its last access (Redis's LFUDecrAndReturn; nothing is stored). */
  freq(field: number): number {
    const counter = field & 255;
    if (this.decayTime === 0) return counter;
    const then = field >>> 8;
    const elapsed = this.minutes >= then ? this.minutes - then : 65535 - then + this.minutes;
    const periods = Math.floor(elapsed / this.decayTime);
    return periods > counter ? 0 : counter - periods;
  }

  /**
   * The field for a key loaded or restored with an idle time (seconds) or an
   * LFU counter, -1 when absent (Redis's objectSetLRUOrLFU); null when
   * neither applies to the policy, so the key keeps a fresh field.
   */
  restored(idleSeconds: number, freq: number): number | null {
    if (this.lfu) return freq >= 0 ? (this.minutes << 8) | freq : null;
    if (idleSeconds < 0) return null;
    const at = this.lruClock - Math.floor((idleSeconds * 1000) / LRU_RESOLUTION);
    // Past the wrap: half-way round the clock, so the key stays idle for long.
    return at >= 0 ? at : (this.lruClock + Math.floor(LRU_CLOCK_MAX / 2)) % LRU_CLOCK_MAX;
  }
}
