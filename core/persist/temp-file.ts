/**
 * A file written the crash-safe way Redis writes its RDB, AOF base and
 * manifest: under a temporary name in the target's directory, fsync'ed,
 * then renamed over the real name and the directory fsync'ed, so a crash
 * at any point leaves the previous file whole and the new one, once
 * committed, survives.
 */
import type { FileSystem, WritableFile } from "../io.ts";

export class TempFile {
  private readonly file: WritableFile;

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

  /** For a background job: the fsync runs off the event loop. */
  async commit(path: string): Promise<void> {
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
    try {
      this.file.close();
    } catch {
      // already closed
    }
    this.fs.remove(this.tmpPath);
  }
}
