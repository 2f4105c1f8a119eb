/**
 * A file made from a fork-less snapshot while clients keep being served:
 * the walk runs in slices between their batches, then the file is synced
 * and renamed into place off the event loop. BGSAVE and BGREWRITEAOF are
 * both one of these.
 */
import type { Snapshot } from "./snapshot.ts";

/** How long a slice of the walk runs before clients get their turn (ms): about one GET round trip. */
const SLICE_MS = 0.05;

/** The file a background job writes: the snapshot feeding it, and how it is committed or given up. */
export interface SnapshotFile {
  readonly snapshot: Snapshot;
  commit(path: string): Promise<void>;
  discard(): void;
}

export class BackgroundJob<F extends SnapshotFile> {
  private cancelled = false;

  /**
   * Starts at once. target() names the final file when the walk is done;
   * ended gets null, or the error (the file already discarded). A cancelled
   * job never calls ended. Slices resume through afterIo (HostInfo.afterIo).
   */
  constructor(
    readonly file: F,
    readonly startedAt: number,
    target: () => string,
    private readonly ended: (err: unknown) => void,
    afterIo: (fn: () => void) => void,
  ) {
    const step = () => {
      if (this.cancelled) return;
      try {
        if (!file.snapshot.step(performance.now() + SLICE_MS)) return afterIo(step);
        file.commit(target()).then(() => this.end(null), (err) => this.end(err));
      } catch (err) {
        this.end(err);
      }
    };
    afterIo(step);
  }

  private end(err: unknown): void {
    if (this.cancelled) return;
    if (err !== null) this.file.discard();
    this.ended(err);
  }

  /** Stops it (SHUTDOWN, FLUSHALL, appendonly no): the temporary file goes, the real one is untouched. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.file.discard();
  }
}
