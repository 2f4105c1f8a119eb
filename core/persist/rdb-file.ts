/**
 * Writing an RDB file the crash-safe way Redis does: into a temporary file
 * in the same directory, with a running CRC64, then EOF and the checksum,
 * fsync, and a rename over the real name, so a crash mid-save leaves the
 * previous file whole.
 */
import type { FileSystem, WritableFile } from "../io.ts";
import type { Engine } from "../server/engine.ts";
import { Crc64, RdbEncoder, rdbHeader, RDB_EOF } from "./rdb/index.ts";
import { functionRegistry } from "../scripting/functions.ts";
import { startedScripting } from "../scripting/runner.ts";
import { hasFieldDeadlines } from "../types/hash-expiry.ts";
import { Snapshot } from "./snapshot.ts";

/** RDB 10 is Redis 7.0's; 12 (7.4's) only when a hash has field deadlines, which 7.0 cannot read. */
const RDB_VERSION = 10;
const RDB_VERSION_FIELD_DEADLINES = 12;

export class RdbFile {
  private readonly file: WritableFile;
  private readonly crc: Crc64 | null;
  readonly snapshot: Snapshot;
  bytes = 0;

  /**
   * Opens tmpPath and takes the snapshot's point in time (the header,
   * with function libraries, is written at once: it is small).
   */
  constructor(private readonly fs: FileSystem, readonly tmpPath: string, engine: Engine, aux: Array<[string, string | number]>) {
    this.file = fs.open(tmpPath, "truncate");
    this.crc = engine.config.bool("rdbchecksum") ? new Crc64() : null;
    const compression = engine.config.bool("rdbcompression");
    const lua = startedScripting(engine);
    const libraries = lua ? [...functionRegistry(lua).libraries.values()].map((l) => l.code) : [];
    // The registry of hashes with deadlines may hold a few that lost theirs: the file is then 7.4's for nothing.
    const version = engine.dbs.some(hasFieldDeadlines) ? RDB_VERSION_FIELD_DEADLINES : RDB_VERSION;
    this.write(rdbHeader(version, aux, libraries));
    this.snapshot = new Snapshot(engine.dbs, () => new RdbEncoder({ compression }), (chunk) => this.write(chunk));
  }

  private write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.crc?.update(bytes);
    this.file.write(bytes);
    this.bytes += bytes.length;
  }

  /** EOF and checksum, after the snapshot is done. */
  private trailer(): void {
    this.write(Uint8Array.of(RDB_EOF));
    const sum = this.crc?.value() ?? 0n;
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setBigUint64(0, sum, true);
    this.file.write(tail);
    this.bytes += 8;
  }

  /** Finishes a save that ran to completion synchronously (SAVE, shutdown): fsync on the spot, then rename. */
  commitNow(path: string): void {
    this.trailer();
    this.file.syncNow();
    this.file.close();
    this.rename(path);
  }

  /** Finishes a background save: the fsync runs off the event loop. */
  async commit(path: string): Promise<void> {
    this.trailer();
    await this.file.sync();
    this.file.close();
    this.rename(path);
  }

  private rename(path: string): void {
    this.fs.rename(this.tmpPath, path);
    const cut = path.lastIndexOf("/");
    this.fs.syncDir(cut > 0 ? path.slice(0, cut) : cut === 0 ? "/" : ".");
  }

  /** Gives up: the temporary file goes, the real one was never touched. */
  discard(): void {
    this.snapshot.abort();
    try {
      this.file.close();
    } catch {
      // already closed
    }
    this.fs.remove(this.tmpPath);
  }
}
