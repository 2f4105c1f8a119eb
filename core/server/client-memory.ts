/**
 * Clients' memory as Redis 7.0 counts it, and what Redis does with it: the
 * per-client figures of CLIENT LIST / CLIENT INFO (qbuf, qbuf-free,
 * argv-mem, multi-mem, rbs, rbp, obl, oll, omem, tot-mem), the running
 * total behind INFO mem_clients_normal and used_memory (Engine.clientsMemory),
 * client eviction (`maxmemory-clients`, CLIENT NO-EVICT, biggest first),
 * `client-output-buffer-limit` for each class, and the cron's care of
 * buffers that idle clients no longer need.
 *
 * A client's total is recounted after each batch of its input, when a
 * pub/sub delivery queues output for it, and by the cron, so the running
 * total follows buffers as they fill and drain without walking every
 * client on the command path.
 *
 * The buffers are the bytes Respite holds for a client: its parser's input
 * buffer, its reply chunk and what its socket has not taken. Argument,
 * queued-command, watched-key and subscription overheads use Redis's own
 * constants, so argv-mem and multi-mem read as Redis's do.
 */
import type { Client } from "./client.ts";
import type { Engine } from "./engine.ts";
import type { Watches } from "../db/watch.ts";
import { type BufferLimit, outputUsed, overLimit, parseBufferLimits } from "./output-limit.ts";
import { clientInfoLine } from "../commands/client.ts";

/** An argument pointer (Redis counts one per argument of a command being run or queued). */
const POINTER = 8;
/** One slot of a transaction's queued-command array (Redis's multiCmd). */
const MULTI_SLOT = 24;
/** A watched key's list node and record. */
const WATCHED_KEY = 56;
/** A subscribed channel's dict entry; a pattern's list node. */
const SUBSCRIPTION = 24;
/** A BCAST tracking prefix, as Redis estimates a rax node. */
const PREFIX = 32;
/** A Client with its parser and reply writer objects (V8 heap bytes per idle client, measured). */
const CLIENT_OBJECT = 1400;
/** Redis's floor for maxmemory-clients, so a bad setting cannot cut off every client. */
const MIN_EVICTION_LIMIT = 128 * 1024;
/** The reply buffer an idle client is shrunk to, after how long idle, and how often rbp is forgotten (Redis's values). */
const MIN_REPLY_BUFFER = 1024;
const IDLE_MS = 2000;
const PEAK_RESET_MS = 5000;
/** Seconds of history behind INFO client_recent_max_input_buffer / client_recent_max_output_buffer. */
const RECENT_SLOTS = 8;
/** Redis's static reply buffer, whose bytes its output limits do not count. */
const REPLY_CHUNK = 16 * 1024;
/** Replies built in one batch past this size are checked against the limits before the batch goes on. */
export const BIG_OUTPUT = 64 * 1024;

export interface ClientFigures {
  qbuf: number;
  qbufFree: number;
  argvMem: number;
  multiMem: number;
  rbs: number;
  rbp: number;
  obl: number;
  oll: number;
  omem: number;
  totMem: number;
}

/** The arguments a client holds between batches: its blocked command's, or the one CLIENT PAUSE or the Lua load postponed. */
function heldArgs(c: Client): Uint8Array[] | null {
  return c.blocked?.call?.argv ?? c.postponed;
}

function bytesOf(argv: Uint8Array[] | null): number {
  let n = 0;
  if (argv !== null) { for (let i = 0; i < argv.length; i++) n += argv[i].length; }
  return n;
}

/** Counts a command MULTI queues into c's multi-mem as Redis does: its arguments' bytes and a pointer each. */
export function countQueued(c: Client, argv: Uint8Array[]): void {
  if (c.multi!.length === 0) c.multiMem = 0;
  c.multiMem += bytesOf(argv) + POINTER * argv.length;
}

/** Slots a dict or array sized by doubling holds for n entries (at least min). */
function slots(n: number, min: number): number {
  let s = min;
  while (s < n) s *= 2;
  return s;
}

/** What MULTI, WATCH, subscriptions and tracking prefixes add (Redis's multiStateMemOverhead and the rest). */
function extras(c: Client, watches: Watches): number {
  let n = 0;
  if (c.multi !== null && c.multi.length !== 0) n += c.multiMem + MULTI_SLOT * slots(c.multi.length, 2);
  if (watches.size !== 0) n += WATCHED_KEY * watches.count(c);
  const subs = c.pubsub;
  if (subs !== null) {
    const channels = subs.channels.size + subs.shard.size;
    n += SUBSCRIPTION * (channels + subs.patterns.size) + (channels === 0 ? 0 : POINTER * slots(channels, 4));
  }
  if (c.tracking !== null) n += PREFIX * c.tracking.prefixes.size;
  return n;
}

export class ClientMemory {
  /** Sum of the tot-mem of normal and pub/sub clients as last counted (INFO mem_clients_normal). */
  normal = 0;
  /** The same for replicas attached to this server (INFO mem_clients_slaves), never evicted. */
  replicas = 0;
  /**
   * The normal and pubsub classes' limits, null when a class has none. As
   * in Redis, MONITOR clients are of the normal class; replicas' limit is
   * applied by the replication stream (core/replication/primary.ts).
   */
  private normalLimit: BufferLimit | null = null;
  private pubsubLimit: BufferLimit | null = null;
  /** maxmemory-clients in bytes (a percentage resolved against maxmemory), 0 when off. */
  private evictionLimit = 0;
  /**
   * The last eviction left the total over the limit with nothing evictable
   * (NO-EVICT clients): batches stop trying until the cron tries again, so
   * a stuck total costs a walk over the clients per tick, not per batch.
   */
  private stuck = false;
  private recentInput = new Array<number>(RECENT_SLOTS).fill(0);
  private recentOutput = new Array<number>(RECENT_SLOTS).fill(0);
  private recentSecond = 0;
  /** Where the cron's walk over the clients stands: it visits each about once a second, as Redis's clientsCron. */
  private walk: Iterator<Client> | null = null;
  private readonly watches: Watches;

  constructor(private readonly engine: Engine) {
    this.watches = engine.watches;
    const config = engine.config;
    config.watch("client-output-buffer-limit", (v) => {
      const limits = parseBufferLimits(v);
      const some = (l: BufferLimit) => (l.hard === 0 && l.soft === 0 ? null : l);
      this.normalLimit = some(limits.normal);
      this.pubsubLimit = some(limits.pubsub);
    });
    const resolve =
      () => (this.evictionLimit = evictionLimit(config.get("maxmemory-clients"), config.num("maxmemory")));
    config.watch("maxmemory-clients", resolve);
    config.watch("maxmemory", resolve);
  }

  /** A new client starts counted. */
  added(c: Client): void {
    this.recount(c);
  }

  /** A client left: its bytes leave the total. */
  removed(c: Client): void {
    if (c.isReplica) this.replicas -= c.memCounted;
    else this.normal -= c.memCounted;
    c.memCounted = 0;
  }

  private recount(c: Client): void {
    const m = this.totalOf(c);
    if (c.isReplica) this.replicas += m - c.memCounted;
    else this.normal += m - c.memCounted;
    c.memCounted = m;
  }

  /** c became a replica (SYNC/PSYNC): its bytes move to the replicas' total, for good. */
  becameReplica(c: Client): void {
    this.normal -= c.memCounted;
    this.replicas += c.memCounted;
  }

  /** c's tot-mem between batches (nothing running); the common case (nothing held, queued or subscribed) reads a few fields. */
  private totalOf(c: Client): number {
    const p = c.parser;
    let n = c.conn.pendingBytes() + p.allocated + CLIENT_OBJECT + c.out.size + p.partialArgBytes +
      POINTER * p.partialArgs;
    if (c.blocked !== null || c.postponed !== null) {
      const held = heldArgs(c);
      if (held !== null) n += bytesOf(held) + POINTER * held.length;
    }
    if (c.multi !== null || c.pubsub !== null || c.tracking !== null || this.watches.size !== 0) {
      n += extras(c, this.watches);
    }
    return n;
  }

  /** After a batch of c's input: recount it, apply its output limit, evict clients while over maxmemory-clients. */
  afterInput(c: Client): void {
    if (c.closed) return;
    this.recount(c);
    if (this.closeOverLimit(c, true)) return;
    if (this.evictionLimit !== 0 && this.normal >= this.evictionLimit && !this.stuck) this.evict();
  }

  /**
   * Inside a batch whose replies grew past BIG_OUTPUT: the limits are
   * applied before the next command, as Redis checks them while replies are
   * queued. True when c was closed.
   */
  midBatch(c: Client): boolean {
    this.afterInput(c);
    return c.closed;
  }

  /**
   * Output was queued for c outside its own batch (a pub/sub delivery):
   * recount it and apply its limit, unless its socket keeps up and the
   * output fits a reply chunk (Redis's static buffer, which its limits do
   * not count either), the common case on a fan-out's hot path.
   */
  afterOutput(c: Client): void {
    if (c.out.pos <= REPLY_CHUNK && c.conn.pendingBytes() === 0) return;
    this.recount(c);
    this.closeOverLimit(c, true);
  }

  /** Redis's closeClientOnOutputBufferLimitReached: logs and closes c, dropping its output, when over its class's limit. */
  private closeOverLimit(c: Client, queued: boolean): boolean {
    // A replica's limit (the replica class) is applied by core/replication/primary.ts, on its stream bytes.
    if (c.isReplica) return false;
    const limit = c.pubsub === null ? this.normalLimit : this.pubsubLimit;
    if (limit === null) return false;
    if (!overLimit(limit, outputUsed(c), this.engine.now, c)) return false;
    const info = clientInfoLine(c).trimEnd();
    const how = queued ? "scheduled to be closed ASAP" : "closed";
    this.engine.log("warning", `Client ${info} ${how} for overcoming of output buffer limits.`);
    this.engine.kill(c, true);
    return true;
  }

  /** Redis's evictClients: the biggest evictable clients go first until the total is under maxmemory-clients. */
  private evict(): void {
    const candidates: Client[] = [];
    for (const c of this.engine.clients.values()) {
      this.recount(c);
      // Like Redis, only normal and pub/sub clients are evicted, never a replica or the primary's link.
      if (!c.noEvict && !c.isReplica && !c.isMaster) candidates.push(c);
    }
    candidates.sort((a, b) => b.memCounted - a.memCounted);
    for (const c of candidates) {
      if (this.normal < this.evictionLimit) break;
      if (c.closed) continue;
      this.engine.log("notice", `Evicting client: ${clientInfoLine(c).trimEnd()}`);
      this.engine.stats.evictedClients++;
      this.engine.kill(c, true);
    }
    this.stuck = this.normal >= this.evictionLimit;
    if (this.stuck) this.engine.log("warning", "Over client maxmemory after evicting all evictable clients");
  }

  /** The cron's share: about 1/hz of the clients per tick (each about once a second), then eviction. */
  cron(hz: number): void {
    const clients = this.engine.clients;
    const now = this.engine.now;
    const second = Math.floor(now / 1000);
    if (second !== this.recentSecond) {
      this.recentSecond = second;
      this.recentInput[(second + 1) % RECENT_SLOTS] = this.recentOutput[(second + 1) % RECENT_SLOTS] = 0;
    }
    let visits = Math.min(clients.size, Math.max(5, Math.ceil(clients.size / hz)));
    while (visits-- > 0) {
      this.walk ??= clients.values();
      const step = this.walk.next();
      if (step.done) {
        this.walk = null;
        continue;
      }
      const c = step.value;
      if (c.closed) continue;
      this.tidy(c, now);
      this.recount(c);
      this.closeOverLimit(c, false);
    }
    if (this.evictionLimit !== 0 && this.normal >= this.evictionLimit) this.evict();
  }

  /**
   * Redis's clientsCronResizeOutputBuffer and clientsCronTrackExpansiveClients.
   * Only an idle client's reply chunk shrinks: a busy one would take a full
   * chunk again with its next reply.
   */
  private tidy(c: Client, now: number): void {
    const out = c.out;
    if (out.pos === 0 && out.size > MIN_REPLY_BUFFER && now - c.lastInteraction >= IDLE_MS) {
      out.shrink(MIN_REPLY_BUFFER);
      this.engine.stats.replyBufferShrinks++;
    }
    if (now - c.replyPeakReset >= PEAK_RESET_MS) {
      out.peak = out.pos;
      c.replyPeakReset = now;
    }
    const slot = Math.floor(now / 1000) % RECENT_SLOTS;
    const p = c.parser;
    const input = p.allocated + p.partialArgBytes + bytesOf(heldArgs(c));
    if (input > this.recentInput[slot]) this.recentInput[slot] = input;
    const output = c.conn.pendingBytes();
    if (output > this.recentOutput[slot]) this.recentOutput[slot] = output;
  }

  /** INFO client_recent_max_input_buffer / client_recent_max_output_buffer: the biggest seen in the last seconds. */
  get recentMaxInput(): number {
    return Math.max(...this.recentInput);
  }

  get recentMaxOutput(): number {
    return Math.max(...this.recentOutput);
  }

  /** CLIENT LIST's memory fields; running is the argv of the command c is running (CLIENT LIST itself), else null. */
  figures(c: Client, running: Uint8Array[] | null): ClientFigures {
    const p = c.parser;
    const held = running ?? heldArgs(c);
    const argvMem = p.partialArgBytes + bytesOf(held);
    const argc = p.partialArgs + (held === null ? 0 : held.length);
    const omem = c.conn.pendingBytes();
    const rbs = c.out.size;
    const multiMem = c.multi === null ? 0 : c.multiMem;
    return {
      qbuf: p.queryBytes(running !== null),
      qbufFree: p.free,
      argvMem,
      multiMem,
      rbs,
      rbp: c.out.peak,
      obl: c.out.pos,
      oll: c.conn.pendingWrites?.() ?? (omem > 0 ? 1 : 0),
      omem,
      totMem: omem + p.allocated + CLIENT_OBJECT + rbs + argvMem + POINTER * argc + extras(c, this.watches),
    };
  }
}

/** maxmemory-clients in bytes: a percentage of maxmemory (none without one), at least Redis's 128 KB floor; 0 = off. */
function evictionLimit(setting: string, maxmemory: number): number {
  let limit: number;
  if (setting.endsWith("%")) limit = Math.floor((maxmemory * Number(setting.slice(0, -1))) / 100);
  else limit = Number(setting);
  if (limit === 0) return 0;
  return Math.max(limit, MIN_EVICTION_LIMIT);
}
