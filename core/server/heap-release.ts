/**
 * Gives the runtime's spare heap back to the system once a busy server goes
 * quiet. Under load V8 grows its young generation to two 16 MB semispaces
 * (64 MB under Node's --max-semi-space-size=64, adapters/node-flags.ts)
 * and keeps them while nothing collects: it shrinks them in a collection
 * made once its estimate of the allocation rate has fallen, which an idle
 * server never makes. So IDLE_MS after the last burst of commands (or the
 * end of loading a dataset) the engine asks the host for a collection every
 * RETRY_MS until the host has nothing more to give back
 * (HostInfo.releaseHeap), as Redis's allocator returns freed pages in the
 * background. Measured in bench/RESULTS.md ("The young generation given
 * back").
 */

/** Quiet time before the first try. */
const IDLE_MS = 2000;
const RETRY_MS = 500;
/** Tries after one burst: V8 agreed within 5-10 s of quiet in every run measured. */
const MAX_TRIES = 60;
/**
 * More commands than this since the last mark make a burst: quiet is under
 * ~50 commands a second (a health check's PINGs), so a collection's pause
 * does not fall on a server that is still serving.
 */
const BURST = 100;

export class HeapRelease {
  private commandsAtMark = 0;
  private markedAt = 0;
  private triedAt = 0;
  private triesLeft = 0;

  constructor(private readonly release: (() => boolean) | undefined) {}

  /** Work without commands (loading a dataset) counts as a burst. */
  busy(now: number): void {
    this.markedAt = now;
    this.triesLeft = MAX_TRIES;
  }

  /** Each cron tick, with the count of commands processed so far. */
  tick(now: number, commands: number): void {
    if (this.release === undefined) return;
    if (commands - this.commandsAtMark > BURST) {
      this.commandsAtMark = commands;
      this.busy(now);
    } else if (this.triesLeft > 0 && now - this.markedAt >= IDLE_MS && now - this.triedAt >= RETRY_MS) {
      this.triedAt = now;
      this.triesLeft = this.release() ? 0 : this.triesLeft - 1;
      this.commandsAtMark = commands;
    }
  }
}
