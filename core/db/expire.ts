/**
 * The active expire cycle, run from the engine's cron: Redis's adaptive
 * sampling. Each db gives up to 20 keys with a deadline per round; rounds
 * repeat while more than 10% of a sample was stale, within a time budget.
 * The budget is spent in short slices between which I/O is served, so a
 * million keys expiring at once never stall clients for long.
 */
import type { Engine } from "../server/engine.ts";
import { reclaimExpiredFields } from "./field-expiry.ts";
import { monotonicMs } from "../util/monotonic.ts";

const KEYS_PER_LOOP = 20;
const ACCEPTABLE_STALE_PERCENT = 10;
/** Redis gives the slow cycle 25% of each cron period. */
const CYCLE_CPU_PERCENT = 25;
/** Longest run between two chances for clients to be served. */
const SLICE_MS = 2;

export function activeExpireCycle(engine: Engine, budgetMs?: number): void {
  // Hash fields with their own deadlines (HEXPIRE): once per cron tick, not per slice.
  if (budgetMs === undefined) reclaimExpiredFields(engine);
  const effort = engine.config.num("active-expire-effort");
  const perLoop = KEYS_PER_LOOP + (KEYS_PER_LOOP / 4) * (effort - 1);
  const acceptable = ACCEPTABLE_STALE_PERCENT - effort + 1;
  let budget = budgetMs ?? (CYCLE_CPU_PERCENT + 2 * (effort - 1)) * 10 / engine.config.num("hz");
  const start = monotonicMs();
  const deadline = start + Math.min(budget, SLICE_MS);
  let sampled = 0;
  let expired = 0;
  let capped = false;
  const dbs = engine.dbs;
  for (let n = 0; n < dbs.length && !capped; n++) {
    const db = dbs[engine.expireDbCursor % dbs.length];
    engine.expireDbCursor = (engine.expireDbCursor + 1) % dbs.length;
    for (;;) {
      if (db.expires.size === 0) break;
      engine.now = engine.clock.now();
      const [looked, gone] = db.expireSample(perLoop, engine.now);
      sampled += looked;
      expired += gone;
      if (monotonicMs() > deadline) {
        capped = true;
        break;
      }
      if (looked === 0 || (gone * 100) / looked <= acceptable) break;
    }
  }
  if (sampled > 0) {
    const perc = expired / sampled;
    engine.stats.expiredStalePerc = perc * 0.05 + engine.stats.expiredStalePerc * 0.95;
  }
  budget -= monotonicMs() - start;
  if (capped) {
    engine.stats.expiredTimeCapReached++;
    // More stale keys remain: continue after pending I/O, within this period's budget.
    if (budget > 0) setTimeout(() => engine.activeExpire && activeExpireCycle(engine, budget), 0);
  }
}
