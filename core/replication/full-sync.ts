/**
 * The RDB of a full sync, made by the fork-less snapshot (core/persist/
 * snapshot.ts) while clients keep being served, where Redis forks. Two
 * forms, as Redis's: diskless, streamed to the replicas' sockets as
 * `$EOF:<40 random bytes>`, the RDB with its CRC64, then the same 40 bytes;
 * or to disk, a save into dbfilename sent whole as `$<length>` once written.
 * One sync serves every replica that joined it, at one point in time: the
 * stream offset it announces in +FULLRESYNC.
 */
import type { Engine } from "../server/engine.ts";
import { Crc64, RDB_EOF, RdbEncoder, rdbHeader } from "../persist/rdb/index.ts";
import { functionLibraryCodes, RdbFile } from "../persist/rdb-file.ts";
import { Snapshot } from "../persist/snapshot.ts";
import { BackgroundJob, SlicePacer } from "../persist/background.ts";
import { randomHex } from "../util/random-hex.ts";
import type { ReplicaLink } from "./primary.ts";

/** A diskless transfer pauses while a replica's socket holds this much unsent. */
const DISKLESS_HIGH_WATER = 8 * 1024 * 1024;
const ENC = new TextEncoder();

export type Aux = Array<[string, string | number]>;

export class FullSync {
  readonly links: ReplicaLink[] = [];
  /** The stream offset at the snapshot's point in time (what +FULLRESYNC announces). */
  offset = 0;
  private snapshot: Snapshot | null = null;
  private job: BackgroundJob<RdbFile> | null = null;
  cancelled = false;

  constructor(readonly diskless: boolean) {}

  /** The point in time is taken: writes from now on wait in the replicas' queues. */
  get started(): boolean {
    return this.snapshot !== null;
  }

  /**
   * Takes the snapshot now and produces the RDB in slices; send() writes
   * bytes to one replica (they are copied: the socket may keep them), done()
   * is told once the whole RDB was handed to the sockets, or why it failed.
   */
  start(e: Engine, aux: Aux, send: (l: ReplicaLink, bytes: Uint8Array) => void, done: (err: string | null) => void): void {
    if (this.diskless) this.startDiskless(e, aux, send, done);
    else this.startDisk(e, aux, send, done);
  }

  private startDiskless(e: Engine, aux: Aux, send: (l: ReplicaLink, bytes: Uint8Array) => void, done: (err: string | null) => void): void {
    const mark = randomHex(40);
    const crc = e.config.bool("rdbchecksum") ? new Crc64() : null;
    // RDB 12 (7.4's) only when a hash has field deadlines, as RdbFile decides.
    const version = e.dbs.some((db) => db.fieldDeadlines.size > 0) ? 12 : 10;
    const compression = e.config.bool("rdbcompression");
    const out = (bytes: Uint8Array) => {
      if (bytes.length === 0) return;
      crc?.update(bytes);
      for (const l of this.links) send(l, bytes);
    };
    for (const l of this.links) send(l, ENC.encode(`$EOF:${mark}\r\n`));
    out(rdbHeader(version, aux, functionLibraryCodes(e)));
    const snapshot = new Snapshot(e.dbs, () => new RdbEncoder({ compression, access: e.access }), out);
    this.snapshot = snapshot;
    const pacer = new SlicePacer(e, snapshot);
    const step = () => {
      if (this.cancelled) return;
      const live = this.links.filter((l) => !l.client.closed);
      if (live.length === 0) return done("no replicas left");
      // A slow replica holds the walk back rather than the whole RDB piling up in memory.
      if (live.some((l) => l.client.conn.pendingBytes() > DISKLESS_HIGH_WATER)) {
        setTimeout(step, 1);
        return;
      }
      try {
        if (!pacer.step()) return e.host.afterIo(step);
      } catch (err) {
        return done(String(err));
      }
      out(Uint8Array.of(RDB_EOF));
      const trailer = crc?.bytes() ?? new Uint8Array(8);
      for (const l of this.links) {
        send(l, trailer);
        send(l, ENC.encode(mark));
      }
      e.log("notice", `Diskless rdb transfer, done reading from pipe, ${live.length} replicas still up.`);
      done(null);
    };
    e.host.afterIo(step);
  }

  private startDisk(e: Engine, aux: Aux, send: (l: ReplicaLink, bytes: Uint8Array) => void, done: (err: string | null) => void): void {
    const dir = e.fs.cwd();
    const path = e.fs.resolve(dir, e.config.get("dbfilename"));
    const tmp = e.fs.resolve(dir, `temp-${e.host.pid}-repl.rdb`);
    let file: RdbFile;
    try {
      file = new RdbFile(e.fs, tmp, e, aux);
    } catch (err) {
      return done(String(err));
    }
    this.snapshot = file.snapshot;
    this.job = new BackgroundJob(file, e.now, () => path, (err) => {
      if (this.cancelled) return;
      if (err !== null) return done(String(err));
      e.log("notice", "Background saving terminated with success");
      let bytes: Uint8Array;
      try {
        bytes = e.fs.readBytes(path);
      } catch (err2) {
        return done(String(err2));
      }
      for (const l of this.links) {
        l.state = "send_bulk";
        send(l, ENC.encode(`$${bytes.length}\r\n`));
        send(l, bytes);
      }
      done(null);
    }, e);
  }

  /** Stops it (no replica left, SHUTDOWN): the snapshot ends, a disk sync's temporary file goes. */
  cancel(): void {
    this.cancelled = true;
    this.job?.cancel();
    this.snapshot?.abort();
  }
}
