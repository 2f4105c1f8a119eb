/**
 * The append-only file as Redis 7.0 keeps it: a directory (appenddirname)
 * with a manifest, one base file and incremental files. The AOF is a
 * reader of the propagation stream: effects are encoded into a buffer
 * (SELECT when the db changes, #TS annotations with
 * aof-timestamp-enabled), written once per event-loop turn before that
 * turn's replies leave (Engine.flush holds them until beforeSleep), and
 * taken to the disk per appendfsync: always (one fdatasync there for every
 * client of the turn: group commit), everysec (fsync off the event loop once
 * a second, writes postponed up to 2 s while it runs), no. BGREWRITEAOF and the
 * automatic rewrite open a new incremental file and write a new base from
 * a fork-less snapshot (RDB preamble or commands), then a new manifest.
 */
import type { Engine } from "../../server/engine.ts";
import type { WritableFile } from "../../io.ts";
import type { PropArg, PropagationReader } from "../propagate.ts";
import { Snapshot } from "../snapshot.ts";
import { functionLibraryCodes, RdbFile, rdbAux } from "../rdb-file.ts";
import { TempFile } from "../temp-file.ts";
import { BackgroundJob, type SnapshotFile } from "../background.ts";
import { AofBuffer, timestampAnnotation } from "./resp.ts";
import { AofEncoder } from "./rewrite-encoder.ts";
import { Manifest } from "./manifest.ts";
import { AofLoader, AofLoadError } from "./loader.ts";
import { osErrorText } from "../../util/os-error.ts";

/** Redis's limit on postponing a write behind a running everysec fsync (ms). */
const MAX_POSTPONE_MS = 2000;

type State = "off" | "on" | "wait_rewrite";

/** The base being written: a snapshot into a temp file renamed in when done (RdbFile with the RDB preamble). */
interface BaseFile extends SnapshotFile {
  commitNow(path: string): void;
}

/** A non-preamble base: AOF commands from the snapshot. */
class AofBaseFile implements BaseFile {
  private readonly file: TempFile;
  readonly snapshot: Snapshot;

  constructor(engine: Engine, tmpPath: string) {
    this.file = new TempFile(engine.fs, tmpPath);
    const first = new AofEncoder();
    const ts = engine.config.bool("aof-timestamp-enabled") ? timestampAnnotation(Math.floor(engine.clock.now() / 1000)) : "";
    first.preamble(ts, functionLibraryCodes(engine));
    this.file.write(first.take());
    this.snapshot = new Snapshot(engine.dbs, () => new AofEncoder(), (chunk) => chunk.length > 0 && this.file.write(chunk));
  }

  commit(path: string): Promise<void> {
    return this.file.commit(path);
  }

  commitNow(path: string): void {
    this.file.commitNow(path);
  }

  discard(): void {
    this.snapshot.abort();
    this.file.discard();
  }
}

/** A rewrite in progress: the base file being made, and its temporary name for the log. */
interface Rewrite {
  job: BackgroundJob<BaseFile>;
  tmp: string;
}

export class Aof implements PropagationReader {
  state: State = "off";
  private manifest = new Manifest();
  private file: WritableFile | null = null;
  private readonly buf = new AofBuffer();
  private selectedDb = -1;
  private lastTimestamp = 0;
  /** aof-timestamp-enabled. */
  private timestamps = false;
  /** Effects fed since the buffer was last flushed: replies wait for beforeSleep (see PropagationReader). */
  pending = false;
  /** Bytes written since the last fsync. */
  private unsynced = false;
  /** The everysec fsync running off the event loop. */
  private syncing: Promise<void> | null = null;
  private lastFsync = 0;
  /** When writes started waiting for the running fsync (0: they do not); aof_delayed_fsync counts the waits given up. */
  private postponedSince = 0;
  private delayedFsyncs = 0;
  private rewrite: Rewrite | null = null;
  rewriteScheduled = false;
  private lastRewriteSeconds = -1;
  private rewrites = 0;
  private lastRewriteOk = true;
  private consecutiveFailures = 0;
  /** Why the last write of the buffer, or the last fsync, failed (the OS's text), or null: writes get MISCONF meanwhile. */
  private writeError: string | null = null;
  private fsyncError: string | null = null;
  /** Bytes of the AOF (base and incrementals) now, and after the last rewrite or load: auto-aof-rewrite compares them. */
  currentSize = 0;
  baseSize = 0;

  constructor(private readonly engine: Engine) {
    engine.persistence.otherJobRunning = () => this.rewrite !== null;
    engine.config.watch("aof-timestamp-enabled", (v) => (this.timestamps = v === "yes"));
    engine.config.onApply("appendonly", (get) => {
      const want = get("appendonly") === "yes";
      if (want && this.state === "off") return this.start() ? null : "Unable to turn on AOF. Check server logs.";
      if (!want && this.state !== "off") this.stop();
      return null;
    });
  }

  private get dir(): string {
    return this.engine.config.get("appenddirname");
  }

  private get filename(): string {
    return this.engine.config.get("appendfilename");
  }

  /** Effects buffered for the next write (INFO mem_aof_buffer; in used_memory, not weighed against maxmemory). */
  get bufferedBytes(): number {
    return this.buf.pos;
  }

  get rewriteInProgress(): boolean {
    return this.rewrite !== null;
  }

  // ---- the propagation reader ----

  feed(db: number, argv: readonly PropArg[]): void {
    if (this.timestamps) {
      const now = Math.floor(this.engine.clock.now() / 1000);
      if (now > this.lastTimestamp) {
        this.lastTimestamp = now;
        this.buf.binary(timestampAnnotation(now));
      }
    }
    if (db !== this.selectedDb) {
      this.buf.command(["SELECT", String(db)]);
      this.selectedDb = db;
    }
    this.buf.command(argv);
    this.pending = true;
  }

  beforeSleep(): void {
    this.flush(false);
  }

  /**
   * Redis's flushAppendOnlyFile: the buffer written, then with appendfsync
   * always fdatasync'ed here, with everysec fsync'ed off the event loop at
   * most once a second. While that fsync runs a write would wait behind it,
   * so with everysec the buffer stays (replies still leave) for up to 2 s,
   * unless forced. Either way the replies held for it may leave after.
   */
  private flush(force: boolean): void {
    this.pending = false;
    if (this.file === null) return;
    const e = this.engine;
    const policy = e.config.get("appendfsync");
    const now = e.clock.now();
    if (this.buf.pos === 0) {
      // What earlier writes left in the page cache still gets its fsync when writes stop.
      if (policy === "everysec") this.backgroundFsync(now);
      return;
    }
    if (policy === "everysec" && this.syncing !== null && !force) {
      if (this.postponedSince === 0) this.postponedSince = now;
      if (now - this.postponedSince < MAX_POSTPONE_MS) return;
      this.delayedFsyncs++;
      e.log("notice", "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.");
    }
    this.postponedSince = 0;
    const file = this.file;
    const size = this.buf.pos;
    try {
      this.buf.drain((bytes) => file.write(bytes));
    } catch (err) {
      return this.writeFailed(file, err);
    }
    this.currentSize += size;
    this.unsynced = true;
    if (this.writeError !== null) e.log("warning", "AOF write error looks solved, Redis can write again.");
    this.writeError = null;
    // Redis skips the fsync while a child writes to the disk; here, a rewrite or BGSAVE in progress.
    if (e.config.bool("no-appendfsync-on-rewrite") && (this.rewrite !== null || e.persistence.bgsaveInProgress)) return;
    if (policy === "everysec") return this.backgroundFsync(now);
    if (policy !== "always") return;
    try {
      this.file.syncNow();
    } catch (err) {
      return e.onFatal(`Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${osErrorText(err)}. Exiting...`);
    }
    this.unsynced = false;
    this.lastFsync = now;
  }

  /**
   * A write failed (disk full, I/O error). With appendfsync always the
   * replies held for it would acknowledge what is not on disk, so the
   * server stops, as Redis exits. Otherwise, as Redis: what the failed write
   * may have put in the file is cut off, the buffer is kept and written
   * again by the cron, and until that works writes get MISCONF.
   */
  private writeFailed(file: WritableFile, err: unknown): void {
    const e = this.engine;
    const text = osErrorText(err);
    if (e.config.get("appendfsync") === "always") {
      return e.onFatal(`Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...`);
    }
    if ((err as { written?: number }).written) {
      try {
        file.truncate(this.currentSize);
      } catch (cut) {
        e.log("warning", `Could not remove short write from the append-only file. Redis may refuse to load the AOF the next time it starts. ftruncate: ${osErrorText(cut)}`);
      }
    }
    if (this.writeError === null) e.log("warning", `Error writing to the AOF file: ${text}`);
    this.writeError = text;
  }

  /** MISCONF's text while the AOF cannot be written or synced, else null (Redis's writeCommandsDeniedByDiskError). */
  writesRefused(): string | null {
    const error = this.writeError ?? this.fsyncError;
    return error === null || this.state === "off" ? null : `MISCONF Errors writing to the AOF file: ${error}`;
  }

  /** The everysec fsync, on the runtime's thread pool: when bytes wait for it, none runs, and a second has passed. */
  private backgroundFsync(now: number): void {
    if (!this.unsynced || this.syncing !== null || this.file === null || now - this.lastFsync < 1000) return;
    this.unsynced = false;
    this.lastFsync = now;
    const e = this.engine;
    this.syncing = this.file.sync().then(() => {
      this.fsyncError = null;
    }, (err) => {
      this.fsyncError = osErrorText(err);
      e.log("warning", `Error syncing the AOF file: ${this.fsyncError}`);
      this.unsynced = true;
    }).finally(() => (this.syncing = null));
  }

  // ---- startup ----

  /** Loads the AOF named by the manifest, then opens it for appending (creating base and incr when missing). */
  async loadAtStartup(): Promise<void> {
    const e = this.engine;
    const dir = this.dir;
    const manifestPath = `${dir}/${this.filename}.manifest`;
    if (!e.fs.exists(manifestPath) && e.fs.size(this.filename) >= 0) this.upgrade();
    if (e.fs.exists(manifestPath)) {
      this.manifest = Manifest.parse(e.fs.readText(manifestPath));
      const progress = { startedAt: e.clock.now(), totalBytes: 0, loadedBytes: 0 };
      e.loading = progress;
      try {
        await new AofLoader(e, progress).loadAll(dir, this.manifest, this.filename);
      } finally {
        e.loading = null;
        e.now = e.clock.now();
      }
    }
    this.openOnStart();
  }

  /** Redis's aofUpgradePrepare: an old single appendfilename in dir moves into the directory as the base. */
  private upgrade(): void {
    const e = this.engine;
    e.fs.mkdir(this.dir);
    e.fs.rename(this.filename, `${this.dir}/${this.filename}`);
    this.manifest = new Manifest();
    this.manifest.base = { name: this.filename, seq: 1, type: "b" };
    this.manifest.baseSeq = 1;
    this.persistManifest();
    e.log("notice", `Successfully migrated an old-style AOF file (${this.filename}) into the AOF directory (${this.dir}).`);
  }

  /** Redis's aofOpenIfNeededOnServerStart: a base written at once if there is none, and the last incr opened (or a new one). */
  private openOnStart(): void {
    const e = this.engine;
    const dir = this.dir;
    e.fs.mkdir(dir);
    if (this.manifest.base === null) {
      const preamble = e.config.bool("aof-use-rdb-preamble");
      const name = this.manifest.newBase(this.filename, preamble);
      const tmp = `temp-rewriteaof-${e.host.pid}.aof`;
      const base = this.newBaseFile(tmp, preamble);
      base.snapshot.step(Infinity);
      base.commitNow(`${dir}/${name}`);
      e.log("notice", `Creating AOF base file ${name} on server start`);
    }
    const last = this.manifest.incrs[this.manifest.incrs.length - 1];
    let name: string;
    if (last === undefined) {
      name = this.manifest.newIncr(this.filename);
      this.file = e.fs.open(`${dir}/${name}`, "truncate");
      e.log("notice", `Creating AOF incr file ${name} on server start`);
    } else {
      name = last.name;
      this.file = e.fs.open(`${dir}/${name}`, "append");
      e.log("notice", `Opening AOF incr file ${name} on server start`);
    }
    this.persistManifest();
    this.state = "on";
    this.selectedDb = -1;
    this.currentSize = this.baseSize = this.totalSize();
    this.lastFsync = e.clock.now();
    e.propagation.attach(this);
  }

  private totalSize(): number {
    const m = this.manifest;
    let n = 0;
    for (const f of [...(m.base ? [m.base] : []), ...m.incrs]) n += Math.max(0, this.engine.fs.size(`${this.dir}/${f.name}`));
    return n;
  }

  private persistManifest(): void {
    const f = new TempFile(this.engine.fs, `${this.dir}/temp-${this.filename}.manifest`);
    f.write(new TextEncoder().encode(this.manifest.toString()));
    f.commitNow(`${this.dir}/${this.filename}.manifest`);
  }

  private newBaseFile(tmp: string, preamble: boolean): BaseFile {
    const e = this.engine;
    return preamble ? new RdbFile(e.fs, tmp, e, rdbAux(e, 1)) : new AofBaseFile(e, tmp);
  }

  // ---- CONFIG SET appendonly ----

  /** appendonly yes at runtime: the AOF starts with a rewrite, as Redis's startAppendOnly. */
  private start(): boolean {
    const e = this.engine;
    this.state = "wait_rewrite";
    if (e.persistence.bgsaveInProgress) {
      this.rewriteScheduled = true;
      e.log("warning", "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
      return true;
    }
    if (!this.startRewrite()) {
      this.state = "off";
      e.log("warning", "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
      return false;
    }
    return true;
  }

  /** appendonly no: the file is flushed, synced and closed; a rewrite in progress is dropped. */
  private stop(): void {
    const e = this.engine;
    this.flush(true);
    this.closeFile(true);
    if (this.rewrite !== null) {
      e.log("notice", "Killing running AOF rewrite child");
      this.cancelRewrite();
    }
    this.rewriteScheduled = false;
    this.state = "off";
    e.propagation.detach(this);
  }

  private closeFile(sync: boolean): void {
    if (this.file === null) return;
    try {
      if (sync) this.file.syncNow();
      this.file.close();
    } catch (err) {
      this.engine.log("warning", `Error closing the AOF file: ${(err as Error).message}`);
    }
    this.file = null;
  }

  // ---- rewrite ----

  /** BGREWRITEAOF's reply (a status, or an error starting with -). */
  bgrewriteCommand(): string {
    if (this.rewrite !== null) return "-ERR Background append only file rewriting already in progress";
    if (this.engine.persistence.bgsaveInProgress) {
      this.rewriteScheduled = true;
      return "+Background append only file rewriting scheduled";
    }
    if (!this.startRewrite()) return "-ERR Can't execute an AOF background rewriting. Please check the server logs for more information.";
    return "+Background append only file rewriting started";
  }

  /**
   * Redis's rewriteAppendOnlyFileBackground: writes go on to a new incr
   * file from now, and the snapshot of this moment becomes the new base.
   */
  private startRewrite(): boolean {
    const e = this.engine;
    const tmp = `temp-rewriteaof-bg-${e.host.pid}.aof`;
    let base: BaseFile;
    try {
      this.flush(true);
      e.fs.mkdir(this.dir);
      // The incr opened now (in the manifest at once when the AOF is on) receives everything after the snapshot's moment.
      const name = this.manifest.newIncr(this.filename);
      const file = e.fs.open(`${this.dir}/${name}`, "truncate");
      this.closeFile(false);
      this.file = file;
      if (this.state === "on") this.persistManifest();
      this.selectedDb = -1;
      base = this.newBaseFile(tmp, e.config.bool("aof-use-rdb-preamble"));
    } catch (err) {
      e.log("warning", `Can't rewrite append only file in background: ${(err as Error).message}`);
      this.lastRewriteOk = false;
      this.consecutiveFailures++;
      return false;
    }
    if (this.state === "wait_rewrite") e.propagation.attach(this);
    const target = () => {
      e.log("notice", "AOF rewrite child asks to stop sending diffs.");
      return `${this.dir}/${this.manifest.clone().newBase(this.filename, e.config.bool("aof-use-rdb-preamble"))}`;
    };
    const rewrite: Rewrite = { job: new BackgroundJob(base, e.clock.now(), target, (err) => this.rewriteEnded(rewrite, err), e), tmp };
    this.rewrite = rewrite;
    this.rewriteScheduled = false;
    e.log("notice", `Background append only file rewriting started by pid ${e.host.pid}`);
    return true;
  }

  /** Redis's backgroundRewriteDoneHandler: the new base and manifest in, the history files out. */
  private rewriteEnded(rewrite: Rewrite, err: unknown): void {
    const e = this.engine;
    this.rewrite = null;
    this.lastRewriteSeconds = Math.round((e.clock.now() - rewrite.job.startedAt) / 1000);
    if (err !== null) {
      e.log("warning", `Background AOF rewrite failed: ${(err as Error).message}`);
      this.lastRewriteOk = false;
      this.consecutiveFailures++;
      return;
    }
    const preamble = e.config.bool("aof-use-rdb-preamble");
    const name = this.manifest.newBase(this.filename, preamble);
    this.manifest.retireIncrsBeforeLast();
    this.persistManifest();
    e.log("notice", "Background AOF rewrite terminated with success");
    e.log("notice", `Successfully renamed the temporary AOF base file ${rewrite.tmp} into ${name}`);
    for (const f of this.manifest.history) {
      e.fs.remove(`${this.dir}/${f.name}`);
      e.log("notice", `Removing the history file ${f.name} in the background`);
    }
    this.manifest.history = [];
    this.persistManifest();
    if (this.state === "wait_rewrite") this.state = "on";
    e.log("notice", "Background AOF rewrite finished successfully");
    this.currentSize = this.baseSize = this.totalSize();
    this.lastRewriteOk = true;
    this.consecutiveFailures = 0;
    this.rewrites++;
  }

  private cancelRewrite(): void {
    this.rewrite?.job.cancel();
    this.rewrite = null;
  }

  // ---- cron and shutdown ----

  /** From the engine's cron: a postponed write, the everysec fsync when writes stopped, a scheduled or automatic rewrite. */
  cron(): void {
    const e = this.engine;
    if (this.state === "off") return;
    this.flush(false);
    if (this.rewrite !== null || e.persistence.bgsaveInProgress) return;
    if (this.rewriteScheduled) {
      this.startRewrite();
      return;
    }
    const perc = e.config.num("auto-aof-rewrite-percentage");
    const min = e.config.num("auto-aof-rewrite-min-size");
    if (this.state === "on" && perc > 0 && this.currentSize > min) {
      const base = this.baseSize > 0 ? this.baseSize : 1;
      const growth = Math.floor((this.currentSize * 100) / base) - 100;
      if (growth >= perc) {
        e.log("notice", `Starting automatic rewriting of AOF on ${growth}% growth`);
        this.startRewrite();
      }
    }
  }

  /** SHUTDOWN: a rewrite in progress is dropped, the buffer written and synced (Redis's "Calling fsync() on the AOF file."). */
  shutdown(): void {
    if (this.rewrite !== null) {
      this.engine.log("warning", "There is a child rewriting the AOF. Killing it!");
      this.cancelRewrite();
    }
    if (this.state === "off") return;
    this.flush(true);
    this.engine.log("notice", "Calling fsync() on the AOF file.");
    this.closeFile(true);
  }

  /** INFO persistence's aof_* fields (and module_fork_*), in Redis's order. */
  info(): Array<[string, string | number]> {
    const now = this.engine.clock.now();
    const fields: Array<[string, string | number]> = [
      ["aof_enabled", this.state !== "off" ? 1 : 0],
      ["aof_rewrite_in_progress", this.rewrite !== null ? 1 : 0],
      ["aof_rewrite_scheduled", this.rewriteScheduled ? 1 : 0],
      ["aof_last_rewrite_time_sec", this.lastRewriteSeconds],
      ["aof_current_rewrite_time_sec", this.rewrite !== null ? Math.round((now - this.rewrite.job.startedAt) / 1000) : -1],
      ["aof_last_bgrewrite_status", this.lastRewriteOk ? "ok" : "err"],
      ["aof_rewrites", this.rewrites],
      ["aof_rewrites_consecutive_failures", this.consecutiveFailures],
      ["aof_last_write_status", this.writeError === null ? "ok" : "err"],
      ["aof_last_cow_size", 0],
      ["module_fork_in_progress", 0],
      ["module_fork_last_cow_size", 0],
    ];
    if (this.state !== "off") {
      fields.push(
        ["aof_current_size", this.currentSize + this.buf.pos],
        ["aof_base_size", this.baseSize],
        ["aof_pending_rewrite", this.rewriteScheduled ? 1 : 0],
        ["aof_buffer_length", this.buf.pos],
        ["aof_pending_bio_fsync", this.syncing !== null ? 1 : 0],
        ["aof_delayed_fsync", this.delayedFsyncs],
      );
    }
    return fields;
  }
}

/**
 * The startup load when appendonly is yes: the AOF (it takes precedence
 * over the RDB even when there is none yet, as in Redis), then the AOF
 * opened for appending. False when appendonly is no. A file that cannot
 * be loaded calls engine.onFatal with Redis's message.
 */
export async function loadAofAtStartup(engine: Engine): Promise<boolean> {
  if (!engine.config.bool("appendonly")) return false;
  try {
    await engine.aof.loadAtStartup();
  } catch (e) {
    const msg = e instanceof AofLoadError ? e.message : `AOF loading failed: ${(e as Error).message}`;
    engine.onFatal(msg);
  }
  return true;
}
