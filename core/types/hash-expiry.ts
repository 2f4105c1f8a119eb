/**
 * Which keys hold hashes with field deadlines (HEXPIRE), per db, so the
 * active expire cycle can reclaim expired fields of hashes nobody reads.
 * A key is registered when one of its fields gets a deadline, and dropped
 * once it no longer holds such a hash (deleted, overwritten, renamed: a
 * renamed hash is registered again by the next hash command touching it).
 */
import type { Db } from "../db/db.ts";
import type { Engine } from "../server/engine.ts";
import { HashValue } from "./hash.ts";

const registry = new WeakMap<Db, Set<string>>();

/** Keys looked at per db per cron tick: bounded work, like Redis's per-loop sample. */
const KEYS_PER_CYCLE = 64;

export function watchFieldDeadlines(db: Db, key: string): void {
  let keys = registry.get(db);
  if (!keys) registry.set(db, (keys = new Set()));
  keys.add(key);
}

/** Whether db may hold a hash with field deadlines (such a hash needs Redis 7.4's RDB version). */
export function hasFieldDeadlines(db: Db): boolean {
  return (registry.get(db)?.size ?? 0) !== 0;
}

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
    const keys = registry.get(db);
    if (!keys || keys.size === 0) continue;
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
