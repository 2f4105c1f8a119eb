/**
 * WATCH bookkeeping: which clients watch which keys in which db, so any
 * write, expiry or flush of a watched key makes those clients' EXEC fail.
 */
import type { Db } from "./db.ts";
import type { Client } from "../server/client.ts";

interface Watched {
  db: Db;
  key: string;
  /** Already past its deadline when watched: its later deletion does not count. */
  expiredAtWatch: boolean;
}

export class Watches {
  private byKey = new Map<Db, Map<string, Set<Client>>>();
  private byClient = new Map<Client, Watched[]>();

  get size(): number {
    return this.byClient.size;
  }

  /** Keys c watches (CLIENT LIST tot-mem counts them). */
  count(c: Client): number {
    return this.byClient.get(c)?.length ?? 0;
  }

  watch(c: Client, db: Db, key: string, now: number): void {
    const list = this.byClient.get(c) ?? [];
    if (list.some((w) => w.db === db && w.key === key)) return;
    const at = db.ttl(key);
    list.push({ db, key, expiredAtWatch: at !== undefined && at <= now });
    this.byClient.set(c, list);
    let keys = this.byKey.get(db);
    if (!keys) this.byKey.set(db, (keys = new Map()));
    let clients = keys.get(key);
    if (!clients) keys.set(key, (clients = new Set()));
    clients.add(c);
  }

  unwatchAll(c: Client): void {
    const list = this.byClient.get(c);
    if (!list) return;
    this.byClient.delete(c);
    for (const w of list) {
      const keys = this.byKey.get(w.db)!;
      const clients = keys.get(w.key)!;
      clients.delete(c);
      if (clients.size === 0) keys.delete(w.key);
      if (keys.size === 0) this.byKey.delete(w.db);
    }
  }

  touch(db: Db, key: string): void {
    const clients = this.byKey.get(db)?.get(key);
    if (clients) for (const c of clients) c.watchDirty = true;
  }

  /** Before a flush or swap: watched keys that exist in db (or in other, for SWAPDB) are modified. */
  touchDb(db: Db, other?: Db): void {
    const keys = this.byKey.get(db);
    if (!keys) return;
    for (const [key, clients] of keys) {
      if (db.data.has(key) || other?.data.has(key)) for (const c of clients) c.watchDirty = true;
    }
  }

  /** At EXEC: a watched key that reached its deadline since WATCH counts as modified. */
  expiredSinceWatch(c: Client, now: number): boolean {
    return (this.byClient.get(c) ?? []).some((w) => {
      const at = w.db.ttl(w.key);
      return !w.expiredAtWatch && at !== undefined && at <= now;
    });
  }
}
