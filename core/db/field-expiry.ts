/**
 * Hashes with field deadlines (HEXPIRE): the active expire cycle reclaims
 * expired fields of hashes nobody reads, going through the keys each db
 * lists in Db.fieldDeadlines (a key is listed when one of its fields gets a
 * deadline or such a hash is stored under it, and dropped here once it no
 * longer holds one).
 */
import type { Db } from "./db.ts";
import type { Engine } from "../server/engine.ts";
import { HashValue } from "../types/hash.ts";

/** Keys looked at per db per cron tick: bounded work, like Redis's per-loop sample. */
const KEYS_PER_CYCLE = 64;


/**
 * Deletes a hash's expired fields, and the key itself when that empties it.
 * Returns the hash, or undefined when the key went away.
 */
export function purgeHash(engine: Engine, db: Db, key: string, h: HashValue): HashValue | undefined {
  if (h.purgeExpired(engine.now) === 0) return h;
  // Redis 7.4 announces expired fields with one hexpired event per purge, then del for an emptied hash.
  engine.notify(db, "hexpired", key, "h");
  if (h.size === 0) {
    db.delete(key);
    engine.notify(db, "del", key, "g");
  }
  engine.keyWritten(db, key);
  return h.size === 0 ? undefined : h;
}

/** One step of the active cycle: visits up to KEYS_PER_CYCLE registered keys in each db, oldest first. */
export function reclaimExpiredFields(engine: Engine): void {
  for (const db of engine.dbs) {
    const keys = db.fieldDeadlines;
    if (keys.size === 0) continue;
    let n = Math.min(KEYS_PER_CYCLE, keys.size);
    for (const key of keys) {
      if (n-- === 0) break;
      keys.delete(key);
      const v = db.lookup(key, engine.now);
      if (!(v instanceof HashValue) || !v.hasDeadlines()) continue;
      const h = purgeHash(engine, db, key, v);
      // Still has deadlines: back to the end of the queue.
      if (h !== undefined && h.hasDeadlines()) keys.add(key);
    }
  }
}
