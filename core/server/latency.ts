/**
 * Latency data: the latency monitor's per-event time series (LATENCY
 * LATEST/HISTORY/GRAPH/DOCTOR, fed when a command takes at least
 * latency-monitor-threshold ms) and the per-command latency histograms
 * behind INFO latencystats and LATENCY HISTOGRAM.
 *
 * The histograms use HdrHistogram's bucket layout with Redis's settings
 * (1 ns to 1 s, 2 significant digits): 128 sub-buckets per power of two,
 * counts only, so a command costs a few KB however often it runs, and the
 * reported values fall on the same bucket edges as Redis's (1000 ns shows
 * as 1.003 µs).
 */
import type { Config } from "../config/config.ts";

/** Redis keeps the last 160 samples per event (LATENCY_TS_LEN). */
const SERIES_LEN = 160;

export interface LatencySample {
  /** Unix seconds. */
  time: number;
  /** Milliseconds. */
  latency: number;
}

/** One event's samples, oldest first, at most one per second (the worst of that second). */
export class LatencySeries {
  samples: LatencySample[] = [];
  /** All-time high, kept when old samples roll off. */
  max = 0;

  add(time: number, latency: number): void {
    if (latency > this.max) this.max = latency;
    const last = this.samples[this.samples.length - 1];
    if (last !== undefined && last.time === time) {
      if (latency > last.latency) last.latency = latency;
      return;
    }
    this.samples.push({ time, latency });
    if (this.samples.length > SERIES_LEN) this.samples.shift();
  }
}

export class LatencyMonitor {
  /** Event name -> series, in the order events first happened. */
  readonly events = new Map<string, LatencySeries>();
  /** latency-monitor-threshold in ms; 0 disables the monitor. */
  thresholdMs = 0;
  /** The same in µs, Infinity when disabled: the engine compares each command's duration with it. */
  thresholdUsec = Infinity;
  /** latency-tracking: per-command histograms on or off. */
  tracking = true;

  constructor(config: Config) {
    config.watch("latency-monitor-threshold", (v) => {
      this.thresholdMs = Number(v);
      this.thresholdUsec = this.thresholdMs > 0 ? this.thresholdMs * 1000 : Infinity;
    });
    config.watch("latency-tracking", (v) => (this.tracking = v === "yes"));
  }

  /** Records a sample of `ms` for an event at unix time `nowMs`. */
  add(event: string, ms: number, nowMs: number): void {
    let series = this.events.get(event);
    if (series === undefined) this.events.set(event, (series = new LatencySeries()));
    series.add(Math.floor(nowMs / 1000), ms);
  }

  /** Forgets the named event (case-insensitive), or every event; returns how many went. */
  reset(event?: string): number {
    let n = 0;
    for (const name of [...this.events.keys()]) {
      if (event !== undefined && name.toLowerCase() !== event.toLowerCase()) continue;
      this.events.delete(name);
      n++;
    }
    return n;
  }
}

// ---- histograms ----

/** Sub-buckets per half bucket: 2 significant digits need 256 sub-buckets, the lower half shared with the previous bucket. */
const HALF_MAGNITUDE = 7;
const HALF = 1 << HALF_MAGNITUDE;
const MIN_NS = 1;
const MAX_NS = 1_000_000_000;

/** Bucket (power of two) that holds v: values below 256 share bucket 0. */
function bucketOf(v: number): number {
  return 31 - Math.clz32(v | 255) - HALF_MAGNITUDE;
}

function indexOf(v: number): number {
  const bucket = bucketOf(v);
  return ((bucket + 1) << HALF_MAGNITUDE) + (v >>> bucket) - HALF;
}

/** The lowest value counted at index i. */
function valueAt(i: number): number {
  let bucket = (i >> HALF_MAGNITUDE) - 1;
  let sub = (i & (HALF - 1)) + HALF;
  if (bucket < 0) {
    sub -= HALF;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

/** The highest value that shares v's bucket slot. */
function highestEquivalent(v: number): number {
  return v + 2 ** bucketOf(v) - 1;
}

export class LatencyHistogram {
  /** Counts per bucket slot, grown a bucket at a time up to the highest slot used. */
  private counts = new Float64Array(HALF * 2);
  total = 0;

  /** Records one duration in nanoseconds, clamped to 1 ns .. 1 s as Redis does. */
  record(ns: number): void {
    const v = ns < MIN_NS ? MIN_NS : ns > MAX_NS ? MAX_NS : (ns + 0.5) | 0;
    const i = indexOf(v);
    if (i >= this.counts.length) {
      const grown = new Float64Array((i + HALF) & ~(HALF - 1));
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[i]++;
    this.total++;
  }

  /** HdrHistogram's value at a percentile, in ns: the top of the slot that reaches it (the bottom for p0). */
  valueAtPercentile(p: number): number {
    const wanted = Math.max(1, Math.floor((Math.min(p, 100) / 100) * this.total + 0.5));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= wanted) return p === 0 ? valueAt(i) : highestEquivalent(valueAt(i));
    }
    return 0;
  }

  /**
   * Cumulative counts at power-of-two µs levels from 1024 ns, as LATENCY
   * HISTOGRAM reports them: [µs, count] pairs only where the count grew.
   */
  cumulative(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let seen = 0;
    let reported = 0;
    let i = 0;
    for (let level = 1024; level <= MAX_NS; level *= 2) {
      const last = indexOf(level);
      if (last >= this.counts.length && seen === this.total) break;
      for (; i <= last && i < this.counts.length; i++) seen += this.counts[i];
      if (seen > reported) out.push([Math.floor(highestEquivalent(level) / 1000), seen]);
      reported = seen;
    }
    return out;
  }
}

/** INFO latencystats' percentile label: C's "%f" without trailing zeros. */
export function percentileLabel(p: number): string {
  return "p" + p.toFixed(6).replace(/\.?0+$/, "");
}

/** The configured percentiles (latency-tracking-info-percentiles). */
export function infoPercentiles(config: Config): number[] {
  return config.get("latency-tracking-info-percentiles").split(" ").filter(Boolean).map(Number);
}
