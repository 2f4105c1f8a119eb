/**
 * Client-side caching (CLIENT TRACKING), as Redis 7.0 does it. In the
 * default mode the keys a tracking client reads are remembered (key -> client
 * ids, whatever the db, as in Redis) and the first write, expiry or flush
 * sends one invalidation and forgets the key. In BCAST mode nothing is
 * remembered: every written key matching a client's prefixes is collected
 * and sent once the current batch of commands is done (Redis's beforeSleep).
 * Invalidations go to the client itself as a RESP3 push, or to its REDIRECT
 * client: a push in RESP3, a `__redis__:invalidate` message in RESP2 when that
 * client is in pub/sub mode.
 */
import type { Client } from "./client.ts";
import type { Engine } from "./engine.ts";
import { type Command, keyPositions } from "../commands/table.ts";
import { bytes, is, str } from "../util/bytes.ts";
import { scripting } from "../scripting/runner.ts";

/** A tracking client's mode (Client.tracking; null when tracking is off). */
export interface TrackingMode {
  /** Client id invalidations go to; 0 for the client itself. */
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** CLIENT CACHING was given: it applies to the next command or transaction. */
  caching: boolean;
  /** The redirect client is gone (flag R). */
  brokenRedirect: boolean;
  /** BCAST prefixes ("" = every key). */
  readonly prefixes: Set<string>;
}

export interface TrackingOptions {
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  prefixes: string[];
}

/** One BCAST prefix: its clients and the keys written since the last broadcast, with their writer. */
interface Broadcast {
  readonly clients: Set<Client>;
  keys: Map<string, Client | null>;
}

const PUSH_HEADER = ">2\r\n$10\r\ninvalidate\r\n";
const MESSAGE_HEADER = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n";
/** A flush invalidates everything: the value is a null in the protocol of the tracking client. */
const FLUSH = Symbol("flush");
const NULL_OF = { 2: "$-1\r\n", 3: "_\r\n" };
/** Read-only script commands: only the commands the script runs count as reads. */
const SCRIPT_READS = new Set(["eval_ro", "evalsha_ro", "fcall_ro"]);
const SCRIPTS = new Set(["eval", "evalsha", "fcall", ...SCRIPT_READS]);

function keyArray(keys: string[]): string {
  let out = `*${keys.length}\r\n`;
  for (const k of keys) out += `$${k.length}\r\n${k}\r\n`;
  return out;
}

/** What park() puts aside: the suspended command's client and its own invalidations waiting for its reply. */
export interface TrackingContext {
  current: Client | null;
  executing: boolean;
  pending: Array<string | typeof FLUSH>;
}

export class Tracking {
  /** Clients with tracking on (INFO tracking_clients). */
  clients = 0;
  /** Key -> ids of the clients that read it since its last invalidation. */
  private readonly table = new Map<string, Set<number>>();
  /** Sum of the table's id sets (INFO tracking_total_items). */
  private items = 0;
  private readonly prefixes = new Map<string, Broadcast>();
  private broadcastScheduled = false;
  /** The client whose command is being processed (Redis's current_client), for NOLOOP. */
  private current: Client | null = null;
  /** While current's command runs, its own invalidations wait until the reply is written. */
  private executing = false;
  private pending: Array<string | typeof FLUSH> = [];
  private maxKeys = 0;
  /** Rounds in a row the table stayed over tracking-table-max-keys: each round tries harder. */
  private overLimitRounds = 0;
  /** engine.stats.commandsProcessed at the last flush: FLUSHALL empties every db in one command. */
  private lastFlushAt = -1;

  constructor(private readonly engine: Engine) {
    engine.config.watch("tracking-table-max-keys", (v) => (this.maxKeys = Number(v)));
  }

  get totalKeys(): number {
    return this.table.size;
  }

  get totalItems(): number {
    return this.items;
  }

  get totalPrefixes(): number {
    return this.prefixes.size;
  }

  /** Whether writes need to be reported here at all. */
  get watching(): boolean {
    return this.table.size !== 0 || this.prefixes.size !== 0;
  }

  // ---- modes ----

  /** CLIENT TRACKING ON, options already checked: flags are replaced, prefixes added, CACHING kept. */
  enable(c: Client, opts: TrackingOptions): void {
    const previous = c.tracking;
    if (previous === null) this.clients++;
    const mode: TrackingMode = {
      redirect: opts.redirect,
      bcast: opts.bcast,
      optin: opts.optin,
      optout: opts.optout,
      noloop: opts.noloop,
      caching: previous?.caching ?? false,
      brokenRedirect: false,
      prefixes: previous?.prefixes ?? new Set(),
    };
    c.tracking = mode;
    if (!opts.bcast) return;
    for (const prefix of opts.prefixes.length === 0 ? [""] : opts.prefixes) {
      let b = this.prefixes.get(prefix);
      if (b === undefined) this.prefixes.set(prefix, (b = { clients: new Set(), keys: new Map() }));
      b.clients.add(c);
      mode.prefixes.add(prefix);
    }
  }

  /** CLIENT TRACKING OFF, RESET, disconnection. Keys it read stay in the table until invalidated, as in Redis. */
  disable(c: Client): void {
    const mode = c.tracking;
    if (mode === null) return;
    for (const prefix of mode.prefixes) {
      const b = this.prefixes.get(prefix)!;
      b.clients.delete(c);
      if (b.clients.size === 0) this.prefixes.delete(prefix);
    }
    c.tracking = null;
    this.clients--;
  }

  // ---- the command cycle (Engine.execute) ----

  /** A command starts for c: from now on c's own invalidations wait for its reply. */
  enter(c: Client): void {
    this.current = c;
    this.executing = true;
  }

  /** A script suspends (core/server/suspended.ts): other clients run meanwhile, its caller's context waits aside. */
  park(): TrackingContext {
    const ctx = { current: this.current, executing: this.executing, pending: this.pending };
    this.current = null;
    this.executing = false;
    this.pending = [];
    return ctx;
  }

  unpark(ctx: TrackingContext): void {
    this.current = ctx.current;
    this.executing = ctx.executing;
    this.pending = ctx.pending;
  }

  /** The command is done: c's waiting invalidations follow its reply; a CLIENT CACHING is used up. */
  leave(c: Client, name: Uint8Array): void {
    this.executing = false;
    const pending = this.pending;
    if (pending.length !== 0) {
      this.pending = [];
      for (const key of pending) this.send(c, key === FLUSH ? NULL_OF[c.resp] : keyArray([key]));
    }
    this.current = null;
    this.settleCaching(c, name);
  }

  /** CLIENT CACHING lasts for one command, or for a whole MULTI ... EXEC; CLIENT subcommands leave it alone. */
  settleCaching(c: Client, name: Uint8Array): void {
    const mode = c.tracking;
    if (mode !== null && mode.caching && c.multi === null && !is(name, "client")) mode.caching = false;
  }

  /** Engine.call, after a read-only command ran as c: remember what it read for the client that asked. */
  read(c: Client, cmd: Command, argv: Uint8Array[]): void {
    if (cmd.flags.has("pubsub")) return;
    let caller = c;
    let keys: Uint8Array[];
    if (c.fd === -1) {
      // Inside a script Redis tracks the keys the script declared, for the client that ran it.
      const run = scripting(this.engine).run;
      if (run === null) return;
      caller = run.caller;
      keys = run.keys;
    } else {
      if (SCRIPT_READS.has(cmd.name)) return;
      keys = keyPositions(cmd, argv).map((i) => argv[i]);
    }
    const mode = caller.tracking;
    if (mode === null || mode.bcast) return;
    if ((mode.optin && !mode.caching) || (mode.optout && mode.caching)) return;
    for (const arg of keys) {
      const key = str(arg);
      let ids = this.table.get(key);
      if (ids === undefined) this.table.set(key, (ids = new Set()));
      if (!ids.has(caller.id)) {
        ids.add(caller.id);
        this.items++;
      }
    }
  }

  // ---- invalidation ----

  /**
   * A key was written (Redis's signalModifiedKey). The writer is the client
   * whose command runs, except in a script: there it is the script client,
   * so a BCAST NOLOOP client hears of its scripts' writes, as in Redis.
   */
  keyWritten(key: string): void {
    const running = this.current?.current;
    this.invalidate(key, running != null && SCRIPTS.has(running.name) ? null : this.current, true);
  }

  /** A key expired: nobody wrote it, so BCAST NOLOOP clients are told too. */
  expired(key: string): void {
    this.invalidate(key, null, true);
  }

  /** FLUSHDB/FLUSHALL: every tracking client gets a null invalidation, and the table is emptied. */
  flushed(): void {
    const seq = this.engine.stats.commandsProcessed;
    if (seq === this.lastFlushAt) return;
    this.lastFlushAt = seq;
    if (this.clients !== 0) {
      for (const c of this.engine.clients.values()) {
        if (c.tracking === null) continue;
        if (c === this.current) this.pending.push(FLUSH);
        else this.send(c, NULL_OF[c.resp]);
      }
    }
    this.table.clear();
    this.items = 0;
  }

  /**
   * Before each command and in the cron: while the table holds more keys than
   * tracking-table-max-keys, invalidate some (the oldest, where Redis picks at
   * random), with more effort each time the limit is still exceeded.
   */
  limitTable(current: Client | null): void {
    if (this.maxKeys === 0 || this.table.size <= this.maxKeys) {
      this.overLimitRounds = 0;
      return;
    }
    let effort = 100 * (this.overLimitRounds + 1);
    // Like Redis, a NOLOOP client whose command is about to run misses these.
    this.current = current;
    for (const key of this.table.keys()) {
      this.invalidate(key, null, false);
      if (this.table.size <= this.maxKeys) {
        this.overLimitRounds = 0;
        this.current = null;
        return;
      }
      if (--effort === 0) break;
    }
    this.current = null;
    this.overLimitRounds++;
  }

  private invalidate(key: string, writer: Client | null, bcast: boolean): void {
    if (bcast && this.prefixes.size !== 0) this.collect(key, writer);
    const ids = this.table.get(key);
    if (ids === undefined) return;
    for (const id of ids) {
      const target = this.engine.clients.get(id);
      if (target === undefined || target.tracking === null || target.tracking.bcast) continue;
      if (target.tracking.noloop && target === this.current) continue;
      if (target === this.current && this.executing) this.pending.push(key);
      else this.send(target, keyArray([key]));
    }
    this.items -= ids.size;
    this.table.delete(key);
  }

  // ---- broadcasting ----

  private collect(key: string, writer: Client | null): void {
    for (const [prefix, b] of this.prefixes) {
      if (key.startsWith(prefix)) b.keys.set(key, writer);
    }
    if (!this.broadcastScheduled) {
      this.broadcastScheduled = true;
      queueMicrotask(() => this.broadcast());
    }
  }

  /** One message per prefix (in byte order) with its keys in byte order; NOLOOP clients miss their own writes. */
  private broadcast(): void {
    this.broadcastScheduled = false;
    for (const prefix of [...this.prefixes.keys()].sort()) {
      const b = this.prefixes.get(prefix)!;
      if (b.keys.size === 0) continue;
      const written = b.keys;
      b.keys = new Map();
      const keys = [...written.keys()].sort();
      const all = keyArray(keys);
      for (const c of b.clients) {
        if (!c.tracking!.noloop) {
          this.send(c, all);
          continue;
        }
        const others = keys.filter((k) => written.get(k) !== c);
        if (others.length !== 0) this.send(c, keyArray(others));
      }
    }
  }

  // ---- delivery ----

  /** An invalidation for c, whose value part (keys array or null) is given as RESP bytes. */
  private send(c: Client, value: string): void {
    const redirect = c.tracking?.redirect ?? 0;
    const target = redirect === 0 ? c : this.engine.clients.get(redirect);
    if (target === undefined) {
      if (c.tracking !== null) c.tracking.brokenRedirect = true;
      if (c.resp === 3) this.push(c, `>2\r\n$21\r\ntracking-redir-broken\r\n:${redirect}\r\n`);
      return;
    }
    // A RESP2 connection cannot take pushes: only a redirect client in pub/sub mode gets a message.
    if (target.resp === 3) this.push(target, PUSH_HEADER + value);
    else if (redirect !== 0 && target.pubsub !== null) this.push(target, MESSAGE_HEADER + value);
  }

  /** Appends to a client's replies (after its reply when its command runs), else writes at once. */
  private push(c: Client, frame: string): void {
    if (c.closed) return;
    const start = c.out.pos;
    c.out.raw(bytes(frame));
    if (c === this.current || c.current !== null) this.engine.pubsub.holdIfSilenced(c, start);
    else if (start === 0) this.engine.flush(c);
  }
}
