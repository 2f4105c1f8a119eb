/**
 * Clients blocked on keys (BLPOP, BLMOVE, BLMPOP, BZPOPMIN, BZMPOP...).
 *
 * How a blocking command uses it (see core/commands/lists.ts for examples):
 *
 *   const deadline = parseTimeout(c, argv[argc - 1]);   // null: error sent
 *   if (deadline === null) return;
 *   ...try to answer at once as the non-blocking form would...
 *   if (!c.engine.blocking.canBlock(c)) return c.out.nullArray(); // in EXEC
 *   c.engine.blocking.block(c, keys, deadline, (key) => serve(key));
 *
 * `keys` are binary strings in c.db; `deadline` is absolute ms, 0 for never.
 * The client then gets no reply and its further pipelined input waits in its
 * parser. Every write to a key goes through Engine.keyWritten, which marks
 * the key "ready" when someone waits on it; at the end of the top-level
 * command that wrote it (after EXEC for a transaction), each ready key is
 * offered to its waiters in the order they blocked: `serve(key)` re-checks
 * that key and, if it can answer now, writes the reply and returns true
 * (the client is unblocked); false keeps it waiting. A deadline passing
 * replies with a null array (`*-1`, RESP3 `_`) unless block() is given
 * another timeout reply. Disconnecting while blocked leaves no trace.
 *
 * Idle blocked clients cost nothing: one timer per client with a deadline,
 * none for those that wait forever, no polling.
 */
import type { Client } from "./client.ts";
import type { Engine } from "./engine.ts";
import type { Db } from "../db/db.ts";
import type { Command } from "../commands/table.ts";
import { parseDouble } from "../util/number.ts";
import { monotonicMs } from "../util/monotonic.ts";

/** What a blocked client waits for. */
export interface BlockState {
  db: Db;
  keys: string[];
  serve: (key: string) => boolean;
  onTimeout: (c: Client) => void;
  deadline: number;
  timer: ReturnType<typeof setTimeout> | null;
  /** The command that blocked, slow-logged when the wait ends (set by the engine once the command returns). */
  call: BlockedCall | null;
}

/** A blocked command's own arguments (copied: the input buffer moves on) and the time its first run took. */
export interface BlockedCall {
  cmd: Command;
  argv: Uint8Array[];
  usec: number;
}

/** setTimeout's longest delay; later deadlines re-arm the timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const INT64_LIMIT = 2 ** 63;

/**
 * Parses a blocking timeout in seconds (fractional allowed) as Redis 7.0
 * does: milliseconds rounded up, 0 meaning forever, values that overflow a
 * 64-bit millisecond count reported as negative. Returns the absolute
 * deadline in ms (0 = none), or null after replying with the error.
 */
export function parseTimeout(c: Client, arg: Uint8Array): number | null {
  let s = "";
  for (let i = 0; i < arg.length; i++) s += String.fromCharCode(arg[i]);
  const seconds = parseDouble(s);
  if (seconds === null) {
    c.error("ERR timeout is not a float or out of range");
    return null;
  }
  const ms = Math.ceil(seconds * 1000);
  if (!(ms < INT64_LIMIT) || ms < 0) {
    c.error("ERR timeout is negative");
    return null;
  }
  return ms === 0 ? 0 : c.engine.now + ms;
}

export class Blocking {
  /** Per db, per key: the clients blocked on it, oldest first (a Set keeps insertion order). */
  private waiting = new Map<Db, Map<string, Set<Client>>>();
  /** Keys written since the last serve that someone waits on, in the order they were written. */
  private ready: Array<[Db, string]> = [];
  private readySet = new Map<Db, Set<string>>();
  /** Clients unblocked during a command, whose pending input runs once the current work is done. */
  private resumeQueue: Client[] = [];
  /** Number of clients blocked right now (INFO blocked_clients). */
  blockedCount = 0;
  /** Number of (db, key) pairs with waiters: keyWritten skips all work while it is 0. */
  keysWithWaiters = 0;

  constructor(private engine: Engine) {}

  /** The check point for contexts where blocking commands answer as if timed out (EXEC, later scripts). */
  canBlock(c: Client): boolean {
    return !c.inExec;
  }

  /** Blocks c on keys until serve(key) answers, the deadline (absolute ms, 0 = never) passes, or it is unblocked. */
  block(c: Client, keys: string[], deadline: number, serve: (key: string) => boolean, onTimeout = replyNullArray): void {
    const state: BlockState = { db: c.db, keys: [...new Set(keys)], serve, onTimeout, deadline, timer: null, call: null };
    let byKey = this.waiting.get(c.db);
    if (!byKey && state.keys.length > 0) this.waiting.set(c.db, (byKey = new Map()));
    for (const key of state.keys) {
      let clients = byKey!.get(key);
      if (!clients) {
        byKey!.set(key, (clients = new Set()));
        this.keysWithWaiters++;
      }
      clients.add(c);
    }
    c.blocked = state;
    this.blockedCount++;
    if (deadline > 0) this.armTimer(c, state);
  }

  /** Engine.keyWritten calls this when keysWithWaiters > 0. */
  signal(db: Db, key: string): void {
    if (!this.waiting.get(db)?.has(key)) return;
    let keys = this.readySet.get(db);
    if (!keys) this.readySet.set(db, (keys = new Set()));
    if (keys.has(key)) return;
    keys.add(key);
    this.ready.push([db, key]);
  }

  /** FLUSHDB/FLUSHALL/SWAPDB replace db's contents: every key waited on there is ready (Redis's scanDatabaseForReadyKeys/DeletedStreams). */
  signalDb(db: Db): void {
    const byKey = this.waiting.get(db);
    if (byKey) for (const key of byKey.keys()) this.signal(db, key);
  }

  /**
   * Offers every ready key to its waiters, oldest first; serving may make
   * more keys ready (BLMOVE). Not while a script is suspended: its command
   * has not finished, and nobody may see its writes before it has.
   */
  /** Whether keys wait to be served (serveReady() then runs blocked clients' commands). */
  get anyReady(): boolean {
    return this.ready.length > 0;
  }

  serveReady(): void {
    if (this.engine.busyError !== null) return;
    while (this.ready.length > 0) {
      const batch = this.ready;
      this.ready = [];
      this.readySet.clear();
      for (const [db, key] of batch) {
        const clients = this.waiting.get(db)?.get(key);
        if (!clients) continue;
        for (const c of [...clients]) {
          const state = c.blocked;
          if (state === null) continue;
          const errorsBefore = this.engine.stats.errorReplies;
          const t0 = monotonicMs();
          if (!state.serve(key)) continue;
          this.unblock(c);
          this.ended(c, state, (monotonicMs() - t0) * 1000, this.engine.stats.errorReplies !== errorsBefore);
          this.resumeLater(c);
        }
      }
    }
  }

  /**
   * CLIENT UNBLOCK: ends target's wait with its timeout reply, or with an
   * UNBLOCKED error when `error`. False when target is not blocked.
   */
  unblockByRequest(target: Client, error: boolean, message = "UNBLOCKED client unblocked via CLIENT UNBLOCK"): boolean {
    const state = target.blocked;
    if (state === null) return false;
    if (error) target.error(message);
    else state.onTimeout(target);
    this.unblock(target);
    this.ended(target, state, 0, true);
    this.resumeLater(target);
    return true;
  }

  /**
   * The owner of a wait on no key (MIGRATE, once its target answered) ends
   * it: reply writes the answer, and the call counts as failed only when
   * that is an error. False when c is not blocked.
   */
  release(c: Client, reply: (c: Client) => void): boolean {
    const state = c.blocked;
    if (state === null) return false;
    const errorsBefore = this.engine.stats.errorReplies;
    reply(c);
    this.unblock(c);
    this.ended(c, state, 0, this.engine.stats.errorReplies !== errorsBefore);
    this.resumeLater(c);
    return true;
  }

  /** A blocked client went away: forget it without replying. */
  disconnected(c: Client): void {
    if (c.blocked !== null) this.unblock(c);
  }

  private unblock(c: Client): void {
    const state = c.blocked!;
    if (state.timer !== null) clearTimeout(state.timer);
    // Clients blocked on no key (WAIT, SHUTDOWN) are in no table.
    const byKey = this.waiting.get(state.db);
    if (byKey !== undefined) {
      for (const key of state.keys) {
        const clients = byKey.get(key)!;
        clients.delete(c);
        if (clients.size === 0) {
          byKey.delete(key);
          this.keysWithWaiters--;
        }
      }
      if (byKey.size === 0) this.waiting.delete(state.db);
    }
    c.blocked = null;
    this.blockedCount--;
  }

  /** Served (after serveUsec) or ended by CLIENT UNBLOCK: the engine slow-logs the call (see blockedCallEnded). */
  private ended(c: Client, state: BlockState, serveUsec: number, failed: boolean): void {
    if (state.call !== null) this.engine.blockedCallEnded(c, state.call, serveUsec, failed);
  }

  private armTimer(c: Client, state: BlockState): void {
    const delay = Math.min(Math.max(state.deadline - this.engine.clock.now(), 0), MAX_TIMER_MS);
    state.timer = setTimeout(() => {
      if (c.blocked !== state) return;
      this.engine.now = this.engine.clock.now();
      if (this.engine.now < state.deadline) return this.armTimer(c, state);
      state.onTimeout(c);
      this.unblock(c);
      this.engine.processInput(c);
    }, delay);
  }

  /**
   * A client unblocked while another command runs answers, and goes on with
   * its pipelined input, once that work is done (Redis does it before
   * sleeping), so commands never nest.
   */
  private resumeLater(c: Client): void {
    this.resumeQueue.push(c);
    if (this.resumeQueue.length === 1) queueMicrotask(() => this.resumeAll());
  }

  private resumeAll(): void {
    const queue = this.resumeQueue;
    this.resumeQueue = [];
    for (const c of queue) if (!c.closed && c.blocked === null) this.engine.processInput(c);
  }
}

function replyNullArray(c: Client): void {
  c.out.nullArray();
}
