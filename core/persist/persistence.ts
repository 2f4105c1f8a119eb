/**
 * RDB persistence as redis-server does it: SAVE, BGSAVE (fork-less, see
 * snapshot.ts) and its schedule, save points checked by the cron, the
 * MISCONF guard after a failed background save, the final save on
 * shutdown, and the INFO persistence fields. One per engine.
 */
import type { Engine } from "../server/engine.ts";
import { RdbFile, rdbAux } from "./rdb-file.ts";
import { EngineLoad } from "./load.ts";
import { functionRegistry } from "../scripting/functions.ts";
import { startedScripting } from "../scripting/runner.ts";
import { later } from "../util/later.ts";
import { BackgroundJob } from "./background.ts";

/** Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE, save points wait this long (s). */
const BGSAVE_RETRY_DELAY = 5;

export const MISCONF_ERROR =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

export class Persistence {
  /** Unix ms of the last successful save (LASTSAVE). */
  lastSave: number;
  lastBgsaveOk = true;
  private lastBgsaveTry = 0;
  lastBgsaveSeconds = -1;
  saves = 0;
  bgsaveScheduled = false;
  private bgsave: BackgroundJob<RdbFile> | null = null;
  /** Keys the last startup load read and dropped as expired (INFO rdb_last_load_keys_*). */
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  /** The aux fields of the RDB loaded at startup: a configured replica continues from its repl-id/repl-offset. */
  loadedAux: Map<string, string> | null = null;
  /** While another background job (AOF rewrite) runs: BGSAVE waits or refuses. */
  otherJobRunning: () => boolean = () => false;

  constructor(private readonly engine: Engine) {
    this.lastSave = engine.now;
    // dir is the working directory, as in Redis: CONFIG SET dir moves it at once.
    engine.config.onApply("dir", (get) => {
      try {
        engine.fs.chdir(get("dir"));
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    });
  }

  get bgsaveInProgress(): boolean {
    return this.bgsave !== null;
  }

  /** The file SAVE writes: dbfilename in dir, which is the working directory as in Redis. */
  private path(): string {
    return this.engine.config.get("dbfilename");
  }

  /** SAVE: the whole dataset, now, blocking; null or the error reply. */
  save(): string | null {
    if (this.bgsave !== null) return "ERR Background save already in progress";
    return this.saveNow() ? null : "ERR";
  }

  /** Saves synchronously (SAVE, shutdown, DEBUG RELOAD); logs and returns false on failure. */
  saveNow(): boolean {
    const e = this.engine;
    const tmp = `temp-${e.host.pid}.rdb`;
    let file: RdbFile | null = null;
    try {
      file = new RdbFile(e.fs, tmp, e, rdbAux(e, 0));
      file.snapshot.step(Infinity);
      file.commitNow(this.path());
    } catch (err) {
      file?.discard();
      this.logFailure(tmp, err);
      return false;
    }
    e.log("notice", "DB saved on disk");
    e.dirty = 0;
    this.lastSave = e.clock.now();
    this.lastBgsaveOk = true;
    this.saves++;
    return true;
  }

  private logFailure(tmp: string, err: unknown): void {
    const why = (err as Error).message;
    this.engine.log("warning", `Failed opening the temp RDB file ${tmp} (in server root dir ${this.engine.config.get("dir")}) for saving: ${why}`);
  }

  /**
   * BGSAVE: starts a background save; returns the reply. With schedule,
   * a save that cannot start now (another job running) waits for the cron.
   */
  bgsaveCommand(schedule: boolean, inExec: boolean): string {
    if (this.bgsave !== null) return "-ERR Background save already in progress";
    // Inside EXEC a save waits for the cron, as Redis's does (its fork would copy a half-run transaction's data).
    if (this.otherJobRunning() || inExec) {
      if (!schedule && !inExec) {
        return "-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.";
      }
      this.bgsaveScheduled = true;
      return "+Background saving scheduled";
    }
    this.startBgsave();
    return "+Background saving started";
  }

  /** Starts a background save; one whose file cannot be opened fails a moment later, logged and in INFO. */
  startBgsave(): void {
    const e = this.engine;
    this.lastBgsaveTry = e.clock.now();
    // Not SAVE's name: DEBUG RELOAD may save while a BGSAVE runs (Redis's child has a pid of its own).
    const tmp = `temp-bg-${e.host.pid}.rdb`;
    let file: RdbFile;
    try {
      file = new RdbFile(e.fs, tmp, e, rdbAux(e, 0));
    } catch (err) {
      // Redis's child fails after BGSAVE has answered: the failure shows in the log and INFO, not the reply.
      later(() => {
        this.logFailure(tmp, err);
        e.log("warning", "Background saving error");
        this.lastBgsaveOk = false;
      });
      return;
    }
    const dirtyAtStart = e.dirty;
    const job = new BackgroundJob(file, e.clock.now(), () => this.path(), (err) => this.bgsaveEnded(job, dirtyAtStart, err), e);
    this.bgsave = job;
    this.bgsaveScheduled = false;
    e.log("notice", `Background saving started by pid ${e.host.pid}`);
  }

  private bgsaveEnded(job: BackgroundJob<RdbFile>, dirtyAtStart: number, err: unknown): void {
    const e = this.engine;
    this.bgsave = null;
    this.lastBgsaveSeconds = Math.round((e.clock.now() - job.startedAt) / 1000);
    if (err === null) {
      e.log("notice", "DB saved on disk");
      e.log("notice", "Background saving terminated with success");
      e.dirty -= dirtyAtStart;
      this.lastSave = e.clock.now();
      this.lastBgsaveOk = true;
      this.saves++;
    } else {
      e.log("warning", `Write error saving DB on disk: ${(err as Error).message}`);
      e.log("warning", "Background saving error");
      this.lastBgsaveOk = false;
    }
  }

  /** Ends a background save without a file (SHUTDOWN, FLUSHALL), as Redis kills its child. */
  killBgsave(): void {
    this.bgsave?.cancel();
    this.bgsave = null;
  }

  /**
   * After FLUSHALL, as Redis: a background save in progress is dropped
   * (its file would hold the data just flushed) and, with save points, the
   * empty dataset is saved at once.
   */
  flushedAll(): void {
    this.killBgsave();
    if (this.savePoints().length > 0) this.saveNow();
  }

  /**
   * DEBUG RELOAD: save (unless nosave), empty the dataset and functions
   * (unless noflush), load the file back (merge: its keys replace ours).
   * Returns the error reply, or null.
   */
  reload(opts: { merge: boolean; noflush: boolean; nosave: boolean }): string | null {
    const e = this.engine;
    if (!opts.nosave && !this.saveNow()) return "ERR";
    let bytes: Uint8Array;
    try {
      bytes = e.fs.readBytes(this.path());
    } catch (err) {
      e.log("warning", `Fatal error loading the DB: ${(err as Error).message}. Exiting.`);
      return "ERR Error trying to load the RDB dump";
    }
    if (!opts.noflush) {
      for (const db of e.dbs) db.clear();
      const lua = startedScripting(e);
      if (lua) functionRegistry(lua).flush();
    }
    const load = new EngineLoad(e, bytes, { merge: opts.merge });
    load.step(Infinity);
    if (load.hasLibraries) load.loadLibraries();
    e.log("warning", "DB reloaded by DEBUG RELOAD");
    return null;
  }

  /** The cron's part: a scheduled BGSAVE, or one due by a save point. */
  cron(): void {
    if (this.bgsave !== null || this.otherJobRunning()) return;
    const e = this.engine;
    const now = e.clock.now();
    if (this.bgsaveScheduled) {
      this.startBgsave();
      return;
    }
    const points = this.savePoints();
    const canRetry = this.lastBgsaveOk || now - this.lastBgsaveTry > BGSAVE_RETRY_DELAY * 1000;
    for (const [seconds, changes] of points) {
      if (e.dirty >= changes && now - this.lastSave > seconds * 1000 && canRetry) {
        e.log("notice", `${changes} changes in ${seconds} seconds. Saving...`);
        this.startBgsave();
        return;
      }
    }
  }

  savePoints(): Array<[number, number]> {
    const words = this.engine.config.get("save").split(" ").filter(Boolean).map(Number);
    const points: Array<[number, number]> = [];
    for (let i = 0; i + 1 < words.length; i += 2) points.push([words[i], words[i + 1]]);
    return points;
  }

  /** Redis's MISCONF guard: writes are refused while the last background save failed. */
  writesRefused(): boolean {
    return !this.lastBgsaveOk && this.engine.config.bool("stop-writes-on-bgsave-error") && this.savePoints().length > 0;
  }

  /**
   * The save SHUTDOWN and SIGTERM do: when save points exist (or SAVE is
   * asked) and NOSAVE is not. False when it failed, so shutdown must stop.
   */
  finalSave(flags: { save: boolean; nosave: boolean }): boolean {
    this.killBgsaveForShutdown();
    if (flags.nosave || (!flags.save && this.savePoints().length === 0)) return true;
    this.engine.log("notice", "Saving the final RDB snapshot before exiting.");
    if (this.saveNow()) return true;
    this.engine.log("warning", "Error trying to save the DB, can't exit.");
    return false;
  }

  private killBgsaveForShutdown(): void {
    if (this.bgsave === null) return;
    this.engine.log("warning", "There is a child saving an .rdb. Killing it!");
    this.killBgsave();
  }

  info(): Array<[string, string | number]> {
    const job = this.bgsave;
    const now = this.engine.clock.now();
    const snapshot = job?.file.snapshot;
    return [
      ["current_cow_peak", 0],
      ["current_cow_size", 0],
      ["current_cow_size_age", 0],
      ["current_fork_perc", snapshot ? ((snapshot.keysDone / Math.max(1, snapshot.keysTotal)) * 100).toFixed(2) : "0.00"],
      ["current_save_keys_processed", snapshot?.keysDone ?? 0],
      ["current_save_keys_total", snapshot?.keysTotal ?? 0],
      ["rdb_changes_since_last_save", this.engine.dirty],
      ["rdb_bgsave_in_progress", job ? 1 : 0],
      ["rdb_last_save_time", Math.floor(this.lastSave / 1000)],
      ["rdb_last_bgsave_status", this.lastBgsaveOk ? "ok" : "err"],
      ["rdb_last_bgsave_time_sec", this.lastBgsaveSeconds],
      ["rdb_current_bgsave_time_sec", job ? Math.round((now - job.startedAt) / 1000) : -1],
      ["rdb_saves", this.saves],
      ["rdb_last_cow_size", 0],
      ["rdb_last_load_keys_expired", this.lastLoadKeysExpired],
      ["rdb_last_load_keys_loaded", this.lastLoadKeysLoaded],
    ];
  }
}
