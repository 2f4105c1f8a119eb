/**
 * A command whose script is suspended (past busy-reply-threshold, see
 * core/scripting/runner.ts) has not finished, and nothing around it may
 * finish either: Engine.call's bookkeeping for the script command, EXEC's
 * remaining queue, EXEC's own bookkeeping and the end of Engine.execute.
 * Each of these levels, on finding its client busy, leaves what it still
 * has to do here, innermost first; when the script ends they run in that
 * order. So the EXEC reply array, the effects (still gathering in the
 * propagation stream, which leaves them in one MULTI/EXEC), commandstats,
 * the slow log, tracking invalidations and blocked-client wakeups come out
 * as if the command had run without a pause, while other clients, in
 * between, got BUSY. A level may suspend again (EXEC reaching another long
 * script): the levels not yet run then wait behind the new ones.
 */
import type { Client } from "./client.ts";
import type { Engine } from "./engine.ts";
import type { TrackingContext } from "./tracking.ts";

export class SuspendedCommand {
  /** What the suspended command's levels still have to do, innermost first. */
  private levels: Array<() => void> = [];
  /**
   * Errors other clients got while the script was suspended (BUSY...): the
   * suspended commands must not count them as their own failed calls.
   */
  othersErrors = 0;
  private errorsAtPause = 0;
  private tracking: TrackingContext | null = null;

  constructor(private readonly engine: Engine) {}

  /** A level of the suspended command finishes with fn once the script has ended. */
  defer(fn: () => void): void {
    this.levels.push(fn);
  }

  /** The script yields the engine to other clients until resume(): its caller's context is put aside. */
  pause(): void {
    this.errorsAtPause = this.engine.stats.errorReplies;
    this.tracking = this.engine.tracking.park();
  }

  /** The script runs again: the caller's context comes back. */
  resume(): void {
    this.othersErrors += this.engine.stats.errorReplies - this.errorsAtPause;
    if (this.tracking !== null) this.engine.tracking.unpark(this.tracking);
    this.tracking = null;
  }

  /**
   * The script ended and c is no longer busy: the levels finish, then c's
   * pipelined commands run, unless a level suspends c again.
   */
  finish(c: Client): void {
    const levels = this.levels;
    this.levels = [];
    for (let i = 0; i < levels.length; i++) {
      levels[i]();
      if (c.inBusyScript) {
        for (let j = i + 1; j < levels.length; j++) this.levels.push(levels[j]);
        return;
      }
    }
    if (!c.closed) this.engine.processInput(c);
  }
}
