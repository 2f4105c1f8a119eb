/**
 * Loading the dataset at startup, as redis-server does: the AOF when
 * appendonly is on, else dbfilename. The RDB is read in steps with the
 * event loop turning between them, so clients that connect meanwhile get
 * -LOADING (and INFO's loading fields), as Redis answers them while it
 * processes events during a load.
 */
import type { Engine } from "../server/engine.ts";
import { RdbLoader, type RdbLoadSink } from "./rdb/index.ts";
import { loadLua } from "../scripting/lua.ts";
import { functionRegistry } from "../scripting/functions.ts";
import { scripting } from "../scripting/runner.ts";
import type { Value } from "../types/value.ts";
import type { Db } from "../db/db.ts";
export type { LoadingState } from "./loading.ts";
import { STEP_BYTES, yieldToIo } from "./loading.ts";
import { str } from "../util/bytes.ts";
import { monotonicMs } from "../util/monotonic.ts";

/** A step's bytes under key-load-delay: a few keys, so the pauses between steps stay short. */
const DELAYED_STEP_BYTES = 16 * 1024;

/** An RDB that cannot be loaded: the server logs this and stops, as Redis does. */
export class FatalLoadError extends Error {}

/**
 * Reads RDB bytes into the engine's dbs in steps. Keys past their deadline
 * are dropped and counted, as a primary does, except in an AOF's RDB
 * preamble, which keeps them as Redis does (RDBFLAGS_AOF_PREAMBLE: the AOF
 * tail may still touch them); function libraries are collected and loaded
 * by loadLibraries() once the Lua VM is there.
 */
export interface LoadOptions {
  /** A key already there is replaced (DEBUG RELOAD MERGE) instead of stopping the load as a duplicate. */
  merge?: boolean;
  /** The RDB preamble of an AOF: expired keys are kept (the AOF that follows may touch them), libraries not replaced. */
  aofPreamble?: boolean;
  /** Keys past their deadline are kept: a replica's (its primary sends their DEL), as Redis's rdbLoad on a non-master. */
  keepExpired?: boolean;
  /** Where the keys go instead of the engine's dbs: a replica's async load fills dbs the clients do not see yet. */
  dbs?: Db[];
}

export class EngineLoad {
  private readonly aofPreamble: boolean;
  private readonly loader: RdbLoader;
  /** The file's aux fields (repl-id, repl-offset, repl-stream-db... for replication). */
  readonly aux = new Map<string, string>();
  private readonly libraries: Uint8Array[] = [];
  private logged = false;
  /** Keys loaded when the last step ended (see next()). */
  private pausedAt = 0;
  loaded = 0;
  expired = 0;

  constructor(private readonly engine: Engine, bytes: Uint8Array, opts: LoadOptions = {}) {
    const { merge = false, aofPreamble = false } = opts;
    const keepExpired = aofPreamble || opts.keepExpired === true || engine.config.get("replicaof") !== "";
    this.aofPreamble = aofPreamble;
    const dbs = opts.dbs ?? engine.dbs;
    let db = dbs[0];
    const now = engine.clock.now();
    const sink: RdbLoadSink = {
      aux: (name, value) => void this.aux.set(name, str(value)),
      selectDb: (id) => {
        if (id >= dbs.length) {
          throw new FatalLoadError(`FATAL: Data file was created with a Redis server configured to handle more than ${dbs.length} databases. Exiting\n`);
        }
        db = dbs[id];
      },
      resizeDb: () => {},
      entry: (key: string, value: Value, expireAt: number, idle: number, freq: number) => {
        if (expireAt !== -1 && expireAt < now && !keepExpired) {
          this.expired++;
          return;
        }
        if (merge) db.delete(key);
        if (!db.load(key, value, expireAt, idle, freq)) throw new FatalLoadError(`RDB has duplicated key '${key}' in DB ${db.id}`);
        this.loaded++;
      },
      functionLibrary: (code) => void this.libraries.push(code),
    };
    this.loader = new RdbLoader(bytes, sink, { sanitize: engine.config.get("sanitize-dump-payload") === "yes", config: engine.config });
  }

  get pos(): number {
    return this.loader.pos;
  }

  get hasLibraries(): boolean {
    return this.libraries.length > 0;
  }

  /** Parses about budget bytes; true at the end of the file. */
  step(budget: number): boolean {
    const done = this.loader.step(budget);
    if (!this.logged && (done || this.aux.has("redis-ver"))) {
      this.logged = true;
      logProvenance(this.engine, this.aux);
    }
    if (done) for (const line of this.loader.warnings) this.engine.log("warning", line);
    return done;
  }

  /**
   * Parses the next step and lets the event loop run after it; false at the
   * end of the file. With key-load-delay (Redis's test knob, microseconds a
   * key, which Redis sleeps inside its load) steps are small and each pause
   * lasts as long as its keys would have taken, so a load can be watched.
   */
  async next(): Promise<boolean> {
    const delay = this.engine.config.num("key-load-delay");
    if (this.step(delay > 0 ? DELAYED_STEP_BYTES : STEP_BYTES)) return false;
    const keys = this.loaded - this.pausedAt;
    this.pausedAt = this.loaded;
    await (delay > 0 && keys > 0 ? new Promise<void>((resolve) => setTimeout(resolve, (keys * delay) / 1000)) : yieldToIo());
    return true;
  }

  /** Loads the collected function libraries; the Lua VM must be loaded. */
  loadLibraries(): void {
    const registry = functionRegistry(scripting(this.engine));
    for (const code of this.libraries) {
      const r = registry.load(code, !this.aofPreamble, true, Infinity); // no time limit when loading, as Redis
      if (typeof r !== "string") throw new FatalLoadError(`Failed loading library: ${r.error}`);
    }
  }
}

function logProvenance(engine: Engine, aux: Map<string, string>): void {
  const ver = aux.get("redis-ver");
  if (ver !== undefined) engine.log("notice", `Loading RDB produced by version ${ver}`);
  const ctime = aux.get("ctime");
  if (ctime !== undefined) {
    const age = Math.floor(engine.clock.now() / 1000) - Number(ctime);
    engine.log("notice", `RDB age ${age} seconds`);
  }
  const used = aux.get("used-mem");
  if (used !== undefined) engine.log("notice", `RDB memory usage when created ${(Number(used) / 1024 / 1024).toFixed(2)} Mb`);
  if (aux.get("aof-base") === "1") engine.log("notice", "RDB is base AOF");
  if (aux.get("aof-preamble") === "1") engine.log("notice", "RDB has an AOF tail");
}

/**
 * The startup load of dbfilename, if it exists. Throws FatalLoadError (or
 * the loader's error) with the text to log before exiting.
 */
export async function loadRdbAtStartup(engine: Engine): Promise<void> {
  const path = engine.config.get("dbfilename");
  const size = engine.fs.size(path);
  if (size < 0) return;
  const started = monotonicMs();
  const state = { startedAt: engine.clock.now(), totalBytes: size, loadedBytes: 0 };
  engine.loading = state;
  try {
    const load = new EngineLoad(engine, engine.fs.readBytes(path));
    while (await load.next()) state.loadedBytes = load.pos;
    if (load.hasLibraries) {
      await loadLua();
      load.loadLibraries();
    }
    engine.persistence.lastLoadKeysLoaded = load.loaded;
    engine.persistence.loadedAux = load.aux;
    engine.persistence.lastLoadKeysExpired = load.expired;
    engine.log("notice", `Done loading RDB, keys loaded: ${load.loaded}, keys expired: ${load.expired}.`);
    engine.log("notice", `DB loaded from disk: ${((monotonicMs() - started) / 1000).toFixed(3)} seconds`);
  } finally {
    engine.loading = null;
  }
}

