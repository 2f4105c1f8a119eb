/**
 * Receiving a full sync's RDB on a replica (Redis's readSyncBulkPayload):
 * the payload comes as `$<len>\r\n` and len bytes (the primary saved to
 * disk) or as `$EOF:<40-byte mark>\r\n`, the bytes, and the mark again (a
 * diskless primary cannot know the size). The bytes go to a temporary file
 * that is renamed over dbfilename (repl-diskless-load disabled, the
 * default) or stay in memory to be loaded from there. Bytes past the end of
 * the payload already belong to the replication stream and are handed back.
 */
import type { FileSystem } from "../io.ts";
import { TempFile } from "../persist/temp-file.ts";
import { bytes as toBytes, concat } from "../util/bytes.ts";

const MARK_LEN = 40;

export class RdbTransfer {
  /** Payload bytes received so far (without the mark). */
  received = 0;
  private readonly chunks: Uint8Array[] = [];
  private readonly mark: Uint8Array | null;
  /** With a mark: the last bytes received, held back until it is known they are not the mark. */
  private tail = new Uint8Array(0);
  private readonly file: TempFile | null;

  /**
   * size is the announced length, or -1 with mark set (EOF form); tmpPath
   * names the temporary file, or is null to keep the payload in memory.
   */
  constructor(readonly size: number, mark: string | null, private readonly fs: FileSystem, tmpPath: string | null) {
    this.mark = mark === null ? null : toBytes(mark);
    this.file = tmpPath === null ? null : new TempFile(fs, tmpPath);
  }

  get toDisk(): boolean {
    return this.file !== null;
  }

  /** Takes bytes of the payload; returns null while more are needed, else the bytes past its end (maybe empty). */
  feed(chunk: Uint8Array): Uint8Array | null {
    if (this.mark === null) {
      const take = Math.min(chunk.length, this.size - this.received);
      this.store(chunk.subarray(0, take));
      return this.received === this.size ? chunk.subarray(take) : null;
    }
    const window = this.tail.length === 0 ? chunk : concat([this.tail, chunk]);
    const at = indexOf(window, this.mark);
    if (at >= 0) {
      this.store(window.subarray(0, at));
      this.tail = new Uint8Array(0);
      return window.subarray(at + MARK_LEN);
    }
    const keep = Math.min(MARK_LEN - 1, window.length);
    this.store(window.subarray(0, window.length - keep));
    this.tail = window.slice(window.length - keep);
    return null;
  }

  private store(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.received += bytes.length;
    if (this.file !== null) this.file.write(bytes);
    else this.chunks.push(bytes);
  }

  /** The payload once complete: renamed over path and read back from it (disk), or joined in memory. */
  finish(path: string): Uint8Array {
    if (this.file === null) return this.chunks.length === 1 ? this.chunks[0] : concat(this.chunks);
    this.file.commitNow(path);
    return this.fs.readBytes(path);
  }

  /** The transfer was abandoned: the temporary file goes. */
  discard(): void {
    this.file?.discard();
  }
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  outer: for (let i = hay.indexOf(first); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
