/**
 * What the server loads when it starts: the AOF when appendonly is on (it
 * has the latest writes), else the RDB file, as redis-server's
 * loadDataFromDisk. A file that cannot be loaded stops the server.
 */
import type { Engine } from "../server/engine.ts";
import { loadRdbAtStartup } from "./load.ts";
import { loadAofAtStartup } from "./aof/aof.ts";
import { RdbLoadError } from "./rdb/index.ts";

export async function loadDataAtStartup(engine: Engine): Promise<void> {
  try {
    if (!(await loadAofAtStartup(engine))) await loadRdbAtStartup(engine);
  } catch (e) {
    // redis-server logs the loader's lines (the damage and where), then exits 1.
    engine.onFatal(e instanceof RdbLoadError ? e.lines.join("\n") : `Fatal error loading the DB: ${(e as Error).message}. Exiting.`);
  }
}
