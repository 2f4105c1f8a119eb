/**
 * A file written the crash-safe way Redis writes its RDB, AOF base and
 * manifest: under a temporary name in the target's directory, fsync'ed,
 * then renamed over the real name and the directory fsync'ed, so a crash
 * at any point leaves the previous file whole and the new one, once
 * committed, survives.
 */
import type { FileSystem, WritableFile } from "../io.ts";

/** The directory of path, for its fsync. */
function dirOf(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut > 0 ? path.slice(0, cut) : cut === 0 ? "/" : ".";
}

export class TempFile {
  private readonly file: WritableFile;
  /** Once renamed or given up, the temporary name may already be the next job's. */
  private state: "writing" | "committed" | "discarded" = "writing";

  constructor(private readonly fs: FileSystem, readonly tmpPath: string) {
    this.file = fs.open(tmpPath, "truncate");
  }

  write(bytes: Uint8Array): void {
    this.file.write(bytes);
  }

  /** For a write that ran to completion synchronously (SAVE, shutdown, the manifest): fsync on the spot. */
  commitNow(path: string): void {
    this.file.syncNow();
    this.file.close();
    this.rename(path);
  }

  /**
   * For a background job: the fsync, the rename and the directory's fsync
   * run off the event loop. Discarded during the fsync, it renames nothing:
   * the next job may already be writing a file of the same temporary name.
   */
  async commit(path: string): Promise<void> {
    await this.file.sync();
    if (this.state === "discarded") throw new Error(`${this.tmpPath} was discarded`);
    this.file.close();
    // Committed from here: a discard() while the rename is under way must not remove the file.
    this.state = "committed";
    try {
      await this.fs.renameAndSyncDir(this.tmpPath, path, dirOf(path));
    } catch (err) {
      // As Redis unlinks its temporary file when the rename fails (none is left when only the fsync failed).
      this.fs.remove(this.tmpPath);
      throw err;
    }
  }

  private rename(path: string): void {
    this.fs.rename(this.tmpPath, path);
    this.state = "committed";
    this.fs.syncDir(dirOf(path));
  }

  /** Gives up: the temporary file goes, the real one was never touched. Nothing once committed. */
  discard(): void {
    if (this.state !== "writing") return;
    this.state = "discarded";
    try {
      this.file.close();
    } catch {
      // a failed close leaves nothing to undo: the file is removed below
    }
    this.fs.remove(this.tmpPath);
  }
}
