/**
 * A cache workload for eviction tests and bench/eviction.ts: clients read
 * keys drawn from a Zipf distribution over a keyspace several times larger
 * than maxmemory holds, and write each missed key back (read-through). The
 * same seed gives the same key sequence on every server, so hit ratios of
 * Respite and redis-server under one policy compare like for like. INFO's
 * used_memory is sampled along the way: eviction runs before every
 * command, so each sample shows whether memory is back at the limit.
 */
import { RawConnection } from "./raw.ts";
import { rng } from "./diff.ts";

export interface CacheWorkload {
  /** Distinct keys (the key space). */
  keys: number;
  /** Zipf exponent (YCSB uses 0.99). */
  skew: number;
  /** Bytes per value. */
  valueSize: number;
  /** Reads before counting starts (the cache fills). */
  warmup: number;
  /** Reads counted. */
  reads: number;
  /** Reads per pipelined batch (the misses of a batch are written back as the next one). */
  batch: number;
  /** INFO used_memory is read after every this many batches. */
  sampleEvery: number;
  seed: number;
  /** Seconds of TTL each write-back gets (SET EX), so volatile-* policies have keys to evict; 0 for none. */
  ttl?: number;
}

export interface CacheResult {
  hits: number;
  misses: number;
  hitRatio: number;
  /** used_memory samples taken during the counted part. */
  usedSamples: number[];
  /** DBSIZE at the end: how many keys fit. */
  keysAtEnd: number;
  /** Write-backs refused with an error (OOM under noeviction) while counting. */
  errors: number;
}

/** Draws ranks 0..n-1 with P(rank k) proportional to 1 / (k + 1)^skew, by inverting the cumulative sum. */
export function zipf(n: number, skew: number, seed: number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / (k + 1) ** skew;
  const next = rng(seed);
  // Ranks are scattered over the key names, so hot keys are not neighbours in any table order.
  const names = new Uint32Array(n);
  for (let k = 0; k < n; k++) names[k] = k;
  for (let k = n - 1; k > 0; k--) {
    const j = Math.floor(next() * (k + 1));
    [names[k], names[j]] = [names[j], names[k]];
  }
  return () => {
    const u = next() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return names[lo];
  };
}

const keyName = (i: number) => `cache:${String(i).padStart(8, "0")}`;

/** INFO memory's used_memory. */
export async function usedMemory(conn: RawConnection): Promise<number> {
  const info = (await conn.call("INFO", "memory")).toString("latin1");
  return Number(/^used_memory:(\d+)/m.exec(info)![1]);
}

/** Runs the workload on one connection to a server whose maxmemory and policy are already set. */
export async function runCacheWorkload(port: number, w: CacheWorkload): Promise<CacheResult> {
  const conn = await RawConnection.connect(port);
  const draw = zipf(w.keys, w.skew, w.seed);
  const value = "v".repeat(w.valueSize);
  const ttl = w.ttl ? ["EX", String(w.ttl)] : [];
  const result: CacheResult = { hits: 0, misses: 0, hitRatio: 0, usedSamples: [], keysAtEnd: 0, errors: 0 };
  try {
    let done = 0;
    let batches = 0;
    while (done < w.warmup + w.reads) {
      const n = Math.min(w.batch, w.warmup + w.reads - done);
      const keys = Array.from({ length: n }, () => keyName(draw()));
      const replies = await conn.pipeline(keys.map((k) => ["GET", k]));
      const missed: string[] = [];
      const counting = done >= w.warmup;
      for (let i = 0; i < n; i++) {
        const hit = replies[i][0] === 36 && replies[i][1] !== 45; // "$" and not "$-1"
        if (!hit) missed.push(keys[i]);
        if (!counting) continue;
        if (hit) result.hits++;
        else result.misses++;
      }
      if (missed.length > 0) {
        const written = await conn.pipeline(missed.map((k) => ["SET", k, value, ...ttl]));
        if (counting) for (const r of written) if (r[0] === 45) result.errors++;
      }
      done += n;
      if (counting && ++batches % w.sampleEvery === 0) result.usedSamples.push(await usedMemory(conn));
    }
    result.hitRatio = result.hits / Math.max(1, result.hits + result.misses);
    result.keysAtEnd = Number((await conn.call("DBSIZE")).toString("latin1").slice(1));
  } finally {
    conn.close();
  }
  return result;
}
