/**
 * CLIENT PAUSE: while a pause lasts, the commands it covers (all of them,
 * or for WRITE those that write or may replicate, EXEC of such a queue
 * included) are held unanswered. The held command waits in the client
 * (Client.postponed) and its later pipelined input stays in its parser,
 * as a blocked client's does; when the pause ends, by its deadline or
 * CLIENT UNPAUSE, clients run again in the order they were held.
 * Monitoring clients, like Redis's replicas, are never held. A shutdown
 * waiting for replicas holds writes too, and so does a cluster primary
 * during a manual failover (core/cluster/failover.ts), apart from any
 * CLIENT PAUSE (Redis's pause purposes): the strictest is in force.
 */
import type { Client } from "./client.ts";
import type { Engine } from "./engine.ts";
import type { Command } from "../commands/table.ts";
import { ownedArgs } from "../util/bytes.ts";

export type PauseMode = "write" | "all";

/** setTimeout's longest delay; later deadlines re-arm the timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function writes(cmd: Command): boolean {
  return cmd.flags.has("write") || cmd.flags.has("may_replicate");
}

export class ClientPause {
  /** The pause in force, or null: the engine checks only this on each command. */
  mode: PauseMode | null = null;
  /** CLIENT PAUSE's mode, until its deadline. */
  private clientMode: PauseMode | null = null;
  /** A shutdown waits for replicas: writes are held until it ends. */
  private shutdown = false;
  /** A cluster primary's manual failover: writes are held until it ends (Redis's PAUSE_DURING_FAILOVER). */
  private failover = false;
  /** MIGRATEs waiting for their target: every command is held, as Redis's event loop is blocked then. */
  private migrating = 0;
  /** When CLIENT PAUSE ends (ms). */
  private end = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Held clients, in the order they were held. */
  private held: Client[] = [];

  constructor(private engine: Engine) {}

  /** Clients waiting for the pause to end (counted in INFO blocked_clients, as Redis does). */
  get heldCount(): number {
    return this.held.length;
  }

  /** CLIENT PAUSE: the mode given replaces the current one; the deadline only moves later. */
  pause(ms: number, mode: PauseMode): void {
    this.clientMode = mode;
    this.end = Math.max(this.end, this.engine.now + ms);
    this.update();
    this.arm();
  }

  /** CLIENT UNPAUSE, or the deadline passed: held clients run once the current command is done. */
  unpause(): void {
    this.clientMode = null;
    this.end = 0;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.update();
  }

  /** A shutdown started waiting for its replicas (on), or was cancelled (off). */
  holdWritesForShutdown(on: boolean): void {
    this.shutdown = on;
    this.update();
  }

  /** A cluster manual failover started (on) on this primary, or ended (off). */
  holdWritesForFailover(on: boolean): void {
    this.failover = on;
    this.update();
  }

  /**
   * A MIGRATE started (on) or finished (off) talking to its target: until
   * then nothing may read or write the keys it sent (see core/commands/migrate.ts).
   */
  holdAllForMigrate(on: boolean): void {
    this.migrating += on ? 1 : -1;
    this.update();
  }

  /** The mode in force from all sources; held clients are let go to be held again if still covered. */
  private update(): void {
    const before = this.mode;
    this.mode = this.clientMode === "all" || this.migrating > 0 ? "all" : this.clientMode !== null || this.shutdown || this.failover ? "write" : null;
    if (this.held.length > 0 && (this.mode === null || (before === "all" && this.mode === "write"))) {
      queueMicrotask(() => this.release());
    }
  }

  /** Whether a command from c must wait; a CLIENT PAUSE past its deadline ends here. */
  holds(c: Client, cmd: Command): boolean {
    if (this.clientMode !== null && this.engine.now >= this.end) {
      this.unpause();
      if (this.mode === null) return false;
    }
    if (c.monitor) return false;
    if (this.mode === "all") return true;
    if (writes(cmd)) return true;
    return cmd.name === "exec" && c.multi !== null && c.multi.some((queued) => writes(queued.cmd));
  }

  /** Holds a command: no reply now, and c reads no further input until it is released. */
  hold(c: Client, cmd: Command, argv: Uint8Array[]): void {
    c.postponed = ownedArgs(argv);
    c.lastCommand = cmd.fullName;
    this.held.push(c);
  }

  /** A held client went away. */
  forget(c: Client): void {
    c.postponed = null;
    this.held = this.held.filter((x) => x !== c);
  }

  private arm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    const delay = Math.min(Math.max(this.end - this.engine.clock.now(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.engine.now = this.engine.clock.now();
      if (this.engine.now < this.end) this.arm();
      else if (this.clientMode !== null) this.unpause();
    }, delay);
  }

  /** Runs each held client's command, then the rest of its input; a new pause may hold some again. */
  private release(): void {
    const held = this.held;
    this.held = [];
    for (const c of held) this.engine.resumePostponed(c);
  }
}
