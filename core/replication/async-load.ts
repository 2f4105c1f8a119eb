/**
 * Redis 7.0's async loading on a replica: a diskless full sync with
 * `repl-diskless-load swapdb` of the history the replica already holds (the
 * primary's replid equals ours) is loaded into dbs no client sees, while the
 * old dataset keeps being served (INFO async_loading:1, only commands flagged
 * no_async_loading refused with -LOADING); at the end the loaded dbs take the
 * old ones' place, as Redis's swapMainDbWithTempDb. If the load fails, the old
 * dataset simply stays.
 */
import type { Engine } from "../server/engine.ts";
import { Db } from "../db/db.ts";
import type { LoadingState } from "../persist/loading.ts";

/** Whether a full sync announced with replid, loaded diskless in mode, loads asynchronously. */
export function loadsAsync(e: Engine, mode: string, toDisk: boolean, replid: string): boolean {
  return !toDisk && mode === "swapdb" && replid === e.replication.replid;
}

/** INFO's loading state for an async load starting now: size is the bulk's length, or -1 with an EOF mark. */
export function asyncLoadingState(e: Engine, size: number): LoadingState {
  return { startedAt: e.clock.now(), totalBytes: Math.max(0, size), loadedBytes: 0, async: true };
}

/** Empty dbs shaped like the engine's (cluster mode's per-slot key sets included), to load into. */
export function tempDbs(e: Engine): Db[] {
  return e.dbs.map((live) => {
    const db = new Db(live.id, e);
    if (live.slotKeys !== null) db.data.keepSlots();
    return db;
  });
}

/**
 * The loaded dbs replace the live ones: their clients stay where they are,
 * watched keys count as touched and blocked clients are looked at again, as
 * after SWAPDB; tracking clients get the flush's null invalidation.
 */
export function swapInLoaded(e: Engine, loaded: Db[]): void {
  for (let i = 0; i < e.dbs.length; i++) {
    e.dbReplaced(e.dbs[i], loaded[i]);
    e.dbs[i].swapWith(loaded[i]);
    // A snapshot walking the old maps keeps them; nothing else refers to them now.
    loaded[i].clear();
  }
  e.tracking.flushed();
}
