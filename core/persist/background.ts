/**
 * A file made from a fork-less snapshot while clients keep being served:
 * the walk runs in slices between their batches, then the file is synced
 * and renamed into place off the event loop. BGSAVE and BGREWRITEAOF are
 * both one of these.
 */
import type { Snapshot } from "./snapshot.ts";
import type { Engine } from "../server/engine.ts";
import { monotonicMs } from "../util/monotonic.ts";

/**
 * The shortest slice of the walk (ms) while clients are being served. A
 * request that arrives during a slice waits for its end: a client sending
 * one GET at a time got about twice as many answers during a save with
 * 0.02 ms slices as with 0.05 (bench/RESULTS.md, twenty-third session).
 */
const SLICE_MS = 0.02;
/**
 * A slice lasts at least this many times what a turn of the event loop
 * costs when it serves no client, so the walk keeps over half of an
 * otherwise idle loop whatever the runtime: ~25 us a turn under Deno (see
 * adapters/deno.ts denoAfterIo) against a few under Node and Bun.
 */
const TURN_SHARE = 1.2;
/** When no command has run for this long (ms), nobody is waiting for a turn... */
const QUIET_AFTER_MS = 10;
/**
 * ...and a slice runs this long: on an idle server 0.05 ms slices made
 * Deno's BGSAVE of 100k hashes 3.7x SAVE's time. A command arriving
 * meanwhile waits at most this once; the next slices are short again.
 */
const QUIET_SLICE_MS = 2;

/** Runs a snapshot's walk in slices between the clients' turns (a BGSAVE's, an AOF rewrite's, a full sync's). */
export class SlicePacer {
  /** monotonicMs() when the last slice ended (0 before the first), and the commands run until then. */
  private lastEnd = 0;
  private commandsAtEnd = 0;
  /** What a turn that ran no command cost (ms), a moving average. */
  private turnMs = 0;

  constructor(private readonly e: Engine, private readonly snapshot: Snapshot) {}

  /**
   * One slice; true when the walk is done. The turn ends first
   * (Engine.endTurnEarly): the replies to the commands read since the last
   * slice leave before it rather than after it.
   */
  step(): boolean {
    const e = this.e;
    e.endTurnEarly();
    const now = monotonicMs();
    const gap = now - this.lastEnd;
    // A gap of a millisecond or more is a stall of the host's or a full sync's wait for a slow replica, not a turn.
    if (gap < 1 && e.stats.commandsProcessed === this.commandsAtEnd) this.turnMs += (gap - this.turnMs) / 8;
    const quiet = now - e.lastCommandAt >= QUIET_AFTER_MS;
    const done = this.snapshot.step(now + (quiet ? QUIET_SLICE_MS : Math.max(SLICE_MS, TURN_SHARE * this.turnMs)));
    this.lastEnd = monotonicMs();
    this.commandsAtEnd = e.stats.commandsProcessed;
    return done;
  }
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
    const pacer = new SlicePacer(e, file.snapshot);
    const step = () => {
      if (this.cancelled) return;
      try {
        if (!pacer.step()) return e.host.afterIo(step);
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
