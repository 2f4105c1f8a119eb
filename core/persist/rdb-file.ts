/**
 * Writing an RDB file as Redis does: a snapshot streamed with a running
 * CRC64 into a temporary file (temp-file.ts), then EOF and the checksum,
 * and the rename over the real name, so a crash mid-save leaves the
 * previous file whole.
 */
import type { FileSystem } from "../io.ts";
import type { Engine } from "../server/engine.ts";
import { Crc64, RdbEncoder, rdbHeader, RDB_EOF } from "./rdb/index.ts";
import { functionRegistry } from "../scripting/functions.ts";
import { startedScripting } from "../scripting/runner.ts";
import { Snapshot } from "./snapshot.ts";
import { TempFile } from "./temp-file.ts";
import { VERSION } from "../version.ts";

/** RDB 10 is Redis 7.0's; 12 (7.4's) only when a hash has field deadlines, which 7.0 cannot read. */
const RDB_VERSION = 10;
const RDB_VERSION_FIELD_DEADLINES = 12;

/** The code of each function library, which a snapshot (RDB, or an AOF base) carries ahead of the keys. */
export function functionLibraryCodes(engine: Engine): Uint8Array[] {
  const lua = startedScripting(engine);
  return lua ? [...functionRegistry(lua).libraries.values()].map((l) => l.code) : [];
}

/** The aux fields redis-server writes in an RDB file (with the replication id and offset when it has some), and in an AOF base with aof-base 1. */
export function rdbAux(engine: Engine, aofBase: 0 | 1): Array<[string, string | number]> {
  const aux: Array<[string, string | number]> = [
    ["redis-ver", VERSION],
    ["redis-bits", 64],
    ["ctime", Math.floor(engine.clock.now() / 1000)],
    ["used-mem", engine.host.rss()],
  ];
  // Where this server is in a replication history (Redis's rdbPopulateSaveInfo): a replica restarted from the file continues from there.
  const repl = aofBase === 0 ? engine.replica.saveInfo() : null;
  if (repl !== null) aux.push(["repl-stream-db", repl.db], ["repl-id", repl.replid], ["repl-offset", repl.offset]);
  aux.push(["aof-base", aofBase]);
  return aux;
}

export class RdbFile {
  private readonly file: TempFile;
  private readonly crc: Crc64 | null;
  readonly snapshot: Snapshot;

  /**
   * Opens tmpPath and takes the snapshot's point in time (the header,
   * with function libraries, is written at once: it is small).
   */
  constructor(fs: FileSystem, tmpPath: string, engine: Engine, aux: Array<[string, string | number]>) {
    this.file = new TempFile(fs, tmpPath);
    this.crc = engine.config.bool("rdbchecksum") ? new Crc64() : null;
    const compression = engine.config.bool("rdbcompression");
    // The registry of hashes with deadlines may hold a few that lost theirs: the file is then 7.4's for nothing.
    const version = engine.dbs.some((db) => db.fieldDeadlines.size > 0) ? RDB_VERSION_FIELD_DEADLINES : RDB_VERSION;
    this.write(rdbHeader(version, aux, functionLibraryCodes(engine)));
    this.snapshot = new Snapshot(engine.dbs, () => new RdbEncoder({ compression, access: engine.access }), (chunk) => this.write(chunk));
  }

  private write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.crc?.update(bytes);
    this.file.write(bytes);
  }

  /** EOF and checksum, after the snapshot is done. */
  private trailer(): void {
    this.write(Uint8Array.of(RDB_EOF));
    // Without rdbchecksum the checksum is 0, which loaders take as "not checked".
    this.file.write(this.crc?.bytes() ?? new Uint8Array(8));
  }

  /** Finishes a save that ran to completion synchronously (SAVE, shutdown). */
  commitNow(path: string): void {
    this.trailer();
    this.file.commitNow(path);
  }

  /** Finishes a background save (async throughout: a failed trailer write rejects, as the fsync does). */
  async commit(path: string): Promise<void> {
    this.trailer();
    await this.file.commit(path);
  }

  /** Gives up: the snapshot stops, the temporary file goes. */
  discard(): void {
    this.snapshot.abort();
    this.file.discard();
  }
}
