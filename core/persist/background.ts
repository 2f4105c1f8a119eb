/**
 * A file made from a fork-less snapshot while clients keep being served:
 * the walk runs in slices between their batches, then the file is synced
 * and renamed into place off the event loop. BGSAVE and BGREWRITEAOF are
 * both one of these.
 */
import type { Snapshot } from "./snapshot.ts";
import type { Engine } from "../server/engine.ts";
import { monotonicMs } from "../util/monotonic.ts";

/** How long a slice of the walk runs before clients get their turn (ms): about one GET round trip. */
const SLICE_MS = 0.05;
/** When no command has run for this long (ms), nobody is waiting for a turn... */
const QUIET_AFTER_MS = 10;
/**
 * ...and a slice runs this long: a turn of the event loop costs Deno ~29 us,
 * so on an idle server 0.05 ms slices made BGSAVE of 100k hashes 3.7x
 * SAVE's time. A command arriving meanwhile waits at most this once; the
 * next slices are short again.
 */
const QUIET_SLICE_MS = 2;

/** When the walk's next slice ends (a monotonicMs() reading), from when the engine's last command ended. */
function sliceDeadline(e: Engine): number {
  const now = monotonicMs();
  return now + (now - e.lastCommandAt >= QUIET_AFTER_MS ? QUIET_SLICE_MS : SLICE_MS);
}

/**
 * One slice of snapshot's walk; true when it is done. The turn ends first
 * (Engine.endTurnEarly): the replies to the commands read since the last
 * slice leave before it rather than after it.
 */
export function stepSlice(e: Engine, snapshot: Snapshot): boolean {
  e.endTurnEarly();
  return snapshot.step(sliceDeadline(e));
}

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
   * job never calls ended. Slices resume through the engine's host's afterIo.
   */
  constructor(
    readonly file: F,
    readonly startedAt: number,
    target: () => string,
    private readonly ended: (err: unknown) => void,
    e: Engine,
  ) {
    const step = () => {
      if (this.cancelled) return;
      try {
        if (!stepSlice(e, file.snapshot)) return e.host.afterIo(step);
        file.commit(target()).then(() => this.end(null), (err) => this.end(err));
      } catch (err) {
        this.end(err);
      }
    };
    e.host.afterIo(step);
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
