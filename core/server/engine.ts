/**
 * The engine: databases, clients, the command table and the cron. Adapters
 * hand it connections and bytes; it parses, dispatches and answers each
 * read with one write. Nothing here awaits, so every command runs to
 * completion before the next starts, as in Redis.
 */
import { type Clock, type Connection, type Dialer, type FileSystem, type HostInfo, systemClock } from "../io.ts";
import { Db, type KeyspaceObserver, ScanRegistry } from "../db/db.ts";
import { freeReplacedArenas } from "../db/shard.ts";
import { PREFETCH_MAX } from "../db/sharded-map.ts";
import { type Command, CommandTable } from "../commands/table.ts";
import { ProtocolError, QueryBufferLimitError, type RequestParser } from "../resp/parser.ts";
import { CONST } from "../resp/writer.ts";
import { Watches } from "../db/watch.ts";
import { AccessClock } from "../db/access.ts";
import { SlabWalk } from "../db/slab-walk.ts";
import { Slabs } from "../types/slabs.ts";
import { Evictor, OOM_ERROR } from "./evict.ts";
import { UsedMemory } from "./used-memory.ts";
import { endTransaction } from "../commands/transactions.ts";
import { type BlockedCall, Blocking } from "./blocking.ts";
import { PubSubHub } from "../pubsub/hub.ts";
import { SUBSCRIBED_CONTEXT_COMMANDS, subscribedContextError } from "../commands/pubsub.ts";
import { Config } from "../config/config.ts";
import { Client } from "./client.ts";
import { BIG_OUTPUT, ClientMemory, countQueued } from "./client-memory.ts";
import { refusedByProtectedMode } from "./protected-mode.ts";
import { lower, ownedArgs, str, useNativeLatin1, utf8 } from "../util/bytes.ts";
import { Stats } from "./stats.ts";
import { ALL_COMMANDS } from "../commands/index.ts";
import { activeExpireCycle } from "../db/expire.ts";
import { Slowlog } from "./slowlog.ts";
import { LatencyHistogram, LatencyMonitor } from "./latency.ts";
import { ClientPause } from "./pause.ts";
import { feedMonitors } from "../commands/monitor.ts";
import { Tracking } from "./tracking.ts";
import { SuspendedCommand } from "./suspended.ts";
import { loadLua, luaLoaded } from "../scripting/lua.ts";
import type { Scripting } from "../scripting/runner.ts";
import { MISCONF_ERROR, Persistence } from "../persist/persistence.ts";
import type { LoadingState } from "../persist/loading.ts";
import { Propagation } from "../persist/propagate.ts";
import { Aof } from "../persist/aof/aof.ts";
import { later } from "../util/later.ts";
import { ReplicationState } from "../replication/state.ts";
import { Primary } from "../replication/primary.ts";
import { Replica } from "../replication/replica.ts";
import type { ClusterState } from "../cluster/state.ts";
import type { ClusterBus } from "../cluster/bus.ts";
import { clusterAdmit, clusterBeforeSleep, clusterCron, createClusterState } from "./cluster-mode.ts";
import { MigrateSockets } from "../cluster/migrate-sockets.ts";
import { HeapRelease } from "./heap-release.ts";
import { monotonicMs } from "../util/monotonic.ts";
import { randomHex } from "../util/random-hex.ts";

export { RESPITE_VERSION, VERSION } from "../version.ts";

export type LogLevel = "debug" | "verbose" | "notice" | "warning";
const LEVELS: LogLevel[] = ["debug", "verbose", "notice", "warning"];
const LEVEL_MARK = { debug: ".", verbose: "-", notice: "*", warning: "#" };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export interface EngineOptions {
  config?: Config;
  clock?: Clock;
  fs?: FileSystem;
  host?: Partial<HostInfo>;
  /** Where log lines go (stdout or the logfile); defaults to console.log. */
  logSink?: (line: string) => void;
  /** Outbound connections (a replica to its primary); none for an embedded engine. */
  dialer?: Dialer;
}

function noFileSystem(): never {
  throw new Error("no file system");
}

/** An embedded engine's: nothing exists, and saving fails (SAVE answers an error). */
const NO_FS: FileSystem = {
  readText: noFileSystem,
  writeText: noFileSystem,
  exists: () => false,
  resolve: (_b, p) => p,
  readBytes: noFileSystem,
  open: noFileSystem,
  rename: noFileSystem,
  remove: noFileSystem,
  mkdir: noFileSystem,
  list: () => [],
  size: () => -1,
  syncDir: noFileSystem,
  renameAndSyncDir: async () => noFileSystem(),
  cwd: () => "/",
  chdir: noFileSystem,
};

/** At most this many commands end untimed before a reading times them (see called()): it bounds how stale `now` gets. */
const UNTIMED_MAX = 32;
/** ...and only commands whose arguments are this short: copying a long value is no O(1) command's time. */
const UNTIMED_ARG_BYTES = 16 * 1024;

function shortArgs(argv: Uint8Array[]): boolean {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if ((n += argv[i].length) > UNTIMED_ARG_BYTES) return false;
  return true;
}

/** Input of at least this many bytes may hold several commands: their keys are prefetched (see prefetchKeys). */
const PREFETCH_FROM = 64;
/**
 * ...once the client's db holds this many keys: a pipelined SET under Node
 * with 8,000 keys took 8% more CPU with the prefetch, 16,000 the same, and
 * 24,000-100,000 (a 3-node cluster bench's 33,000 a node) 7-25% less.
 */
const PREFETCH_KEYS = 1 << 14;

/** Commands that act at once inside MULTI instead of being queued. */
const RUN_INSIDE_MULTI = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

export interface ShutdownFlags {
  save: boolean;
  nosave: boolean;
  force: boolean;
  /** Do not wait for lagging replicas (SHUTDOWN NOW). */
  now?: boolean;
}

/** A shutdown waiting for lagging replicas until its deadline (shutdown-timeout), with the clients it keeps waiting. */
interface PendingShutdown {
  deadline: number;
  code: number;
  flags: ShutdownFlags;
  waiting: Client[];
}

export interface ConnectionHandlers {
  data(chunk: Uint8Array): void;
  closed(): void;
}

/** Values one cron tick turns back into bytes per db: ~200-400 ns each, so a few ms at most. */
const SETTLE_PER_TICK = 20_000;
/**
 * Values waiting that make a read settle them at once: a few hot values wait
 * for the cron (rebuilding one per batch of commands would cost more than
 * the commands), while a bulk load's do not pile up.
 */
const SETTLE_EAGERLY = 1024;
/** Keys the slab walk looks at per cron tick: ~30-50 ns each, a pass over a million keys in 5 s at hz 10. */
const SLAB_WALK_PER_TICK = 20_000;

export class Engine implements KeyspaceObserver {
  readonly config: Config;
  readonly clock: Clock;
  readonly fs: FileSystem;
  readonly host: HostInfo;
  readonly commands = new CommandTable();
  readonly clients = new Map<number, Client>();
  readonly stats = new Stats();
  readonly scans = new ScanRegistry();
  readonly watches = new Watches();
  readonly blocking: Blocking = new Blocking(this);
  readonly pause: ClientPause = new ClientPause(this);
  /** Clients in MONITOR mode; call() feeds them only when there are some. */
  readonly monitors = new Set<Client>();
  readonly slowlog: Slowlog;
  readonly latency: LatencyMonitor;
  readonly pubsub: PubSubHub;
  readonly tracking: Tracking;
  /** Clients' buffers: CLIENT LIST memory fields, output limits, client eviction (core/server/client-memory.ts). */
  readonly clientMemory: ClientMemory;
  dbs: Db[] = [];
  /** The keys' access clock: LRU/LFU semantics, set at each command (see core/db/access.ts). */
  readonly access = new AccessClock();
  /** Where SET keeps long string values, and the cron's walk that keeps their slabs well used (types/slabs.ts). */
  readonly slabs = new Slabs();
  private readonly slabWalk = new SlabWalk(this.slabs);
  /** used_memory from running estimates (see used-memory.ts). */
  readonly memory = new UsedMemory(this);
  /** maxmemory and eviction (see evict.ts). */
  readonly evictor: Evictor;
  readonly parserLimits = {
    maxBulkLen: 512 * 1024 * 1024,
    queryBufferLimit: 1024 * 1024 * 1024,
    authRequired: false,
    copyArgumentsUpTo: 0,
  };
  /** Time of the command being run: one reading per command, as Redis caches mstime. */
  now: number;
  readonly startedAt: number;
  readonly runId: string;
  /** INFO redis_build_id: random per process here, as no build stamps one. */
  readonly buildId = randomHex(16);
  /** RDB saving and its schedule (core/persist/persistence.ts). */
  readonly persistence: Persistence;
  /** The stream of effects (core/persist/propagate.ts), read by the AOF. */
  readonly propagation = new Propagation();
  /** The append-only file (core/persist/aof/). */
  readonly aof: Aof;
  /** Replication ids, offset and backlog (core/replication/state.ts). */
  readonly replication = new ReplicationState();
  /** Serving replicas (core/replication/primary.ts). */
  readonly primary: Primary;
  /** Following a primary (core/replication/replica.ts). */
  readonly replica: Replica;
  /** Outbound connections, from the adapter; null when the host has none. */
  readonly dialer: Dialer | null;
  /** MIGRATE's cached connections to target instances (core/cluster/migrate-sockets.ts). */
  readonly migrateSockets = new MigrateSockets(() => this.dialer, () => this.clock.now());
  /**
   * The cluster as this node sees it (core/cluster/state.ts); null when
   * cluster-enabled is no. Replaced once at startup by the state read from
   * nodes.conf (core/server/cluster-mode.ts startClusterMode): read it
   * through the engine, don't keep it.
   */
  cluster: ClusterState | null = null;
  /** The cluster bus (core/cluster/bus.ts), started by the host once listening; null when cluster mode is off. */
  clusterBus: ClusterBus | null = null;
  /** While the dataset loads at startup: commands without the loading flag get -LOADING. */
  loading: LoadingState | null = null;
  private nextClientId = 1;
  private nextFd = 8;
  private cronTimer: ReturnType<typeof setInterval> | null = null;
  private logLevel = 2;
  private logSink: (line: string) => void;
  private requirePass = "";
  /** While a long script is suspended (see core/scripting/runner.ts): the BUSY error other clients get. */
  busyError: string | null = null;
  /** What the command of a suspended script's caller still has to do when the script ends (see suspended.ts). */
  readonly suspended: SuspendedCommand = new SuspendedCommand(this);
  /** In Sentinel mode, the Sentinel (core/sentinel/sentinel.ts) its SENTINEL commands act on; null otherwise. */
  sentinel: unknown = null;
  /** The Lua VM, script cache and function libraries, made on first use (core/scripting/runner.ts scripting()). */
  scripting: Scripting | null = null;
  /** A startup load failed: the host logs msg and exits, as redis-server does on a damaged file. */
  onFatal: (msg: string) => void = (msg) => {
    throw new Error(msg);
  };
  /** Called by SHUTDOWN and signals once the engine has stopped. */
  onShutdown: (code: number) => void = () => {};
  /** Which db the next active expire cycle starts with. */
  expireDbCursor = 0;
  /** DEBUG SET-ACTIVE-EXPIRE 0 turns the background expire cycle off. */
  activeExpire = true;
  /** monotonicMs() when the last call() ended: the next pipelined command starts there. */
  private callEnd = 0;
  /** Where a pipeline's keys are in its client's input (see prefetchKeys), and the sum their prefetch read. */
  private readonly keyStarts = new Int32Array(PREFETCH_MAX);
  private readonly keyLengths = new Int32Array(PREFETCH_MAX);
  private prefetched = 0;
  /** Readings of monotonicMs() and the wall clock taken together by startBatch(). */
  private batchStart = 0;
  private batchWall = 0;
  /** The client whose batch is running (startBatch): its top-level commands timed in runs may share a reading. */
  private batchClient: Client | null = null;
  /** Commands of the batch that ended untimed since runFrom, timed together by settleUntimed(). */
  private untimed = 0;
  private runFrom = 0;
  /** execute() found the command it is about to call eligible to end untimed (see called()). */
  private nextUntimed = false;
  private readonly untimedClients: (Client | null)[] = new Array(UNTIMED_MAX).fill(null);
  private readonly untimedCommands: (Command | null)[] = new Array(UNTIMED_MAX).fill(null);
  private readonly untimedArgs: (Uint8Array[] | null)[] = new Array(UNTIMED_MAX).fill(null);

  /** monotonicMs() when the last command ended (0 before the first): a background walk runs long slices once it is a while ago. */
  get lastCommandAt(): number {
    return this.callEnd;
  }
  /** Clients whose replies wait for the end of the event-loop turn (see flush). */
  private held = new Set<Client>();
  private sleepScheduled = false;
  private readonly heapRelease: HeapRelease;
  /** Some reply of this turn waited for the AOF (see flush). */
  private aofHolds = false;

  constructor(opts: EngineOptions = {}) {
    this.config = opts.config ?? new Config();
    this.clock = opts.clock ?? systemClock;
    this.fs = opts.fs ?? NO_FS;
    this.host = {
      runtime: "unknown",
      io: "none",
      pid: 0,
      os: "unknown",
      arch: "unknown",
      executable: "",
      configFile: "",
      rss: () => 0,
      cpu: () => [0, 0],
      exit: () => {},
      freeReplacedBuffers: false,
      afterIo: later,
      canExecute: () => false,
      spawn: () => {
        throw new Error("this host cannot run programs");
      },
      ...opts.host,
    };
    freeReplacedArenas(this.host.freeReplacedBuffers);
    const host = this.host;
    useNativeLatin1(host.latin1 ?? null, host.latin1From, host.latin1Write ?? null, host.latin1WriteFrom);
    this.parserLimits.copyArgumentsUpTo = this.host.copyArgumentsUpTo ?? 0;
    this.heapRelease = new HeapRelease(this.host.releaseHeap);
    this.logSink = opts.logSink ?? ((line) => console.log(line));
    this.now = this.startedAt = this.clock.now();
    // Keys loaded at startup get their access clock from the time of loading (RDB IDLE/FREQ records).
    this.access.tick(this.now);
    this.persistence = new Persistence(this);
    this.aof = new Aof(this);
    this.primary = new Primary(this, this.replication);
    this.replica = new Replica(this);
    this.dialer = opts.dialer ?? null;
    if (this.config.bool("cluster-enabled")) this.cluster = createClusterState(this);
    this.runId = randomHex(40);
    this.commands.add(ALL_COMMANDS);
    this.slowlog = new Slowlog(this.config);
    this.latency = new LatencyMonitor(this.config);
    this.pubsub = new PubSubHub(this);
    this.tracking = new Tracking(this);
    this.clientMemory = new ClientMemory(this);
    const databases = this.config.num("databases");
    for (let i = 0; i < databases; i++) this.dbs.push(new Db(i, this));
    if (this.cluster !== null) { for (const db of this.dbs) db.data.keepSlots(); }
    this.evictor = new Evictor(this);
    this.config.watch("proto-max-bulk-len", (v) => (this.parserLimits.maxBulkLen = Number(v)));
    this.config.watch("client-query-buffer-limit", (v) => (this.parserLimits.queryBufferLimit = Number(v)));
    this.config.watch("loglevel", (v) => (this.logLevel = LEVELS.indexOf(v as LogLevel)));
    this.config.watch("requirepass", (v) => {
      this.requirePass = v;
      this.parserLimits.authRequired = v !== "";
    });
  }

  authRequired(): boolean {
    return this.requirePass !== "";
  }

  checkPassword(user: string, pass: string): boolean {
    if (user !== "default") return false;
    return this.requirePass === "" || pass === this.requirePass;
  }

  /** Text for the log as it is, without the pid and time (the startup banner). */
  logRaw(text: string): void {
    this.logSink(text);
  }

  log(level: LogLevel, msg: string): void {
    if (LEVELS.indexOf(level) < this.logLevel) return;
    const d = new Date(this.clock.now());
    const pad = (n: number, w = 2) => String(n).padStart(w, "0");
    const stamp = `${pad(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${pad(d.getHours())}:${
      pad(d.getMinutes())
    }:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
    this.logSink(`${this.host.pid}:M ${stamp} ${LEVEL_MARK[level]} ${msg}`);
  }

  // ---- connections ----

  /** A new client; internal ones (a replica's primary) are not refused for maxclients. */
  connect(conn: Connection, internal = false): Client | null {
    this.now = this.clock.now();
    if (!internal && this.clients.size >= this.config.num("maxclients")) {
      conn.write(new TextEncoder().encode("-ERR max number of clients reached\r\n"));
      conn.close();
      this.stats.rejectedConnections++;
      return null;
    }
    const c = new Client(this.nextClientId++, this.nextFd++, conn, this);
    this.clients.set(c.id, c);
    this.clientMemory.added(c);
    this.stats.connectionsReceived++;
    return c;
  }

  /** What an adapter calls for a new connection: the handlers for its bytes and its end, or null if refused. */
  attach(conn: Connection): ConnectionHandlers | null {
    if (refusedByProtectedMode(this, conn)) return null;
    const c = this.connect(conn);
    if (!c) return null;
    return { data: (chunk) => this.onData(c, chunk), closed: () => this.peerClosed(c) };
  }

  /** The peer ended the connection: a half-closed one still reads, so replies held for the turn's end (not the AOF) go first. */
  private peerClosed(c: Client): void {
    // Redis counts the read that met the end among total_reads_processed.
    if (!c.closed) this.stats.readsProcessed++;
    if (this.held.has(c) && !this.repliesWait) this.sendNow(c);
    this.disconnect(c);
  }

  disconnect(c: Client): void {
    if (c.closed) return;
    c.closed = true;
    this.watches.unwatchAll(c);
    this.blocking.disconnected(c);
    if (c.postponed !== null) this.pause.forget(c);
    this.monitors.delete(c);
    this.pubsub.unsubscribeAll(c);
    this.tracking.disable(c);
    this.clients.delete(c.id);
    this.clientMemory.removed(c);
    this.primary.disconnected(c);
  }

  /**
   * Bytes all clients hold as Redis counts them (query and output buffers,
   * arguments, queued commands), replicas included: part of used_memory.
   * Kept as running sums, so reading it costs nothing.
   */
  get clientsMemory(): number {
    return this.clientMemory.normal + this.clientMemory.replicas;
  }

  /** Closes a client from the server side (CLIENT KILL, limits); abort drops its unsent output, as Redis frees a client. */
  kill(c: Client, abort = false): void {
    if (abort && c.conn.abort) c.conn.abort();
    else c.conn.close();
    this.disconnect(c);
  }

  /** Bytes arrived on a connection: parse, run and answer everything complete. */
  onData(c: Client, chunk: Uint8Array): void {
    if (c.closed) return;
    this.stats.netInput += chunk.length;
    this.stats.readsProcessed++;
    c.netIn += chunk.length;
    try {
      c.parser.feed(chunk);
    } catch (e) {
      if (!(e instanceof QueryBufferLimitError)) throw e;
      this.log(
        "warning",
        `Closing client that reached max query buffer length: id=${c.id} addr=${c.conn.remoteAddress}`,
      );
      this.stats.clientQueryBufferLimitDisconnections++;
      return this.kill(c);
    }
    this.processInput(c);
    this.settleEagerly();
  }

  /** A bulk load's new values go back to bytes as it goes (after each read, and each chunk of a primary's stream), rather than piling up as objects until the cron. */
  settleEagerly(): void {
    for (const db of this.dbs) if (db.data.unsettled >= SETTLE_EAGERLY) db.data.settle(SETTLE_EAGERLY);
  }

  /**
   * Starts timing a batch of commands (one read's, or one chunk of a
   * primary's stream) with one reading of each clock; returns the first
   * command's start. Each command's wall time is then derived from the
   * reading that also times it: clock reads were ~6% of a pipelined SET.
   * Until endBatch(), c's commands that are timed in runs may end without
   * a reading of their own (see called()).
   */
  startBatch(c: Client): number {
    this.batchClient = c;
    this.batchWall = this.clock.now();
    return (this.batchStart = monotonicMs());
  }

  /** Ends the batch startBatch() began: its untimed commands are timed; `outer`'s batch, if this one ran inside it, goes on. */
  endBatch(outer: Client | null): void {
    if (this.untimed !== 0) this.settleUntimed();
    this.batchClient = outer;
  }

  /**
   * One reading for the commands that ended untimed since runFrom: each is
   * given an equal share of the time since, for INFO commandstats, latency
   * tracking and the slow log. Returns the reading.
   */
  private settleUntimed(): number {
    const now = monotonicMs();
    const n = this.untimed;
    const usec = ((now - this.runFrom) * 1000) / n;
    this.untimed = 0;
    for (let k = 0; k < n; k++) {
      this.timed(this.untimedClients[k]!, this.untimedCommands[k]!, this.untimedArgs[k]!, usec);
      this.untimedClients[k] = null;
      this.untimedCommands[k] = null;
      this.untimedArgs[k] = null;
    }
    return (this.callEnd = now);
  }

  /** execute() for a command of the batch begun by startBatch(), starting where the previous one ended; returns where this one did. */
  executeInBatch(c: Client, argv: Uint8Array[], start: number): number {
    const end = this.execute(c, argv, start, this.batchWall + Math.floor(start - this.batchStart));
    return end >= 0 ? end : monotonicMs();
  }

  /** Runs every complete command buffered for a client, until it blocks, and sends the replies. */
  processInput(c: Client): void {
    // A client unblocked by a command of another's batch runs its input inside that batch.
    const outer = this.batchClient;
    let start = this.startBatch(c);
    c.parser.markBatch();
    // How many of the commands after this one prefetchKeys covered.
    let ahead = 0;
    while (c.blocked === null && c.postponed === null && !c.inBusyScript && !c.closeAfterReply) {
      ahead = ahead > 0 ? ahead - 1 : this.prefetchKeys(c.parser, c.db) - 1;
      let argv: Uint8Array[] | null;
      try {
        argv = c.parser.next();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        this.log("verbose", `Protocol error (${e.message}) from client: id=${c.id} addr=${c.conn.remoteAddress}`);
        c.out.error("ERR " + e.message);
        this.stats.errorReply("ERR");
        c.closeAfterReply = true;
        break;
      }
      if (argv === null) break;
      start = this.executeInBatch(c, argv, start);
      if (c.closeAfterReply || c.closed || (c.out.pos >= BIG_OUTPUT && this.clientMemory.midBatch(c))) break;
    }
    this.endBatch(outer);
    this.flush(c);
    this.clientMemory.afterInput(c);
  }

  /**
   * A pipeline's keys: what the lookups of the commands waiting in parser
   * will read is read for all of them first (ShardedMap.prefetch), once
   * db is too big for the caches to hold its tables (below that the extra
   * hashing costs ~2%). Returns how many of the commands it covered (0 when
   * it did not look): the caller looks again once they have run.
   */
  prefetchKeys(parser: RequestParser, db: Db): number {
    if (parser.pending < PREFETCH_FROM || db.data.size < PREFETCH_KEYS) return 0;
    const n = parser.peekKeys(this.keyStarts, this.keyLengths);
    if (n > 1) this.prefetched = db.data.prefetch(parser.buffered, this.keyStarts, this.keyLengths, n);
    return n;
  }

  /**
   * Sends c's replies at the end of this event-loop turn, as Redis writes
   * every client's in beforeSleep: all the turn's input is read and run
   * first, then the replies leave in one burst. A peer woken by the first
   * write finds the rest waiting instead of being woken once per write: at
   * -P 16 that brought the kernel time per command under Deno and Node down
   * to redis-server's (bench/RESULTS.md, tenth session). The AOF is written
   * first (and with appendfsync always fsynced), so one write and one
   * fdatasync cover every client that wrote in the turn and no reply tells
   * of a write a crash would lose. An embedded caller, which reads its
   * reply on return, is answered at once unless a reply already waits for
   * the AOF.
   */
  flush(c: Client): void {
    // Redis saves nodes.conf in beforeSleep, before the turn's replies leave: no reply tells of a cluster change a crash would undo.
    if (this.cluster !== null && this.cluster.todo !== 0) clusterBeforeSleep(this);
    // Once one reply waits for the AOF every later one of the turn does too: nothing that saw a write leaves before it.
    if (this.propagation.on && this.propagation.holdsReplies) this.aofHolds = true;
    if (c.conn.immediate === true && !this.aofHolds) return this.sendNow(c);
    this.held.add(c);
    if (!this.sleepScheduled) {
      this.sleepScheduled = true;
      later(this.beforeSleep);
    }
  }

  /** Replies wait for the AOF this turn, not just for the turn's end: none may be sent early by sendNow(). */
  get repliesWait(): boolean {
    return this.aofHolds || (this.propagation.on && this.propagation.holdsReplies);
  }

  /**
   * Ends the turn now if its end is due: a snapshot's slice, about to take
   * the loop, lets the replies held this turn leave first instead of after
   * it (a GET's round trip during BGSAVE was one slice longer, ~0.1 ms more).
   */
  endTurnEarly(): void {
    if (this.sleepScheduled) this.beforeSleep();
  }

  /** The end of the turn: the AOF written (and fsynced), then every held client's replies sent, in the order they were held. */
  private readonly beforeSleep = (): void => {
    this.sleepScheduled = false;
    if (this.propagation.on) this.propagation.beforeSleep();
    this.aofHolds = false;
    this.releaseHeld();
  };

  private releaseHeld(): void {
    const held = this.held;
    if (held.size === 0) return;
    this.held = new Set();
    for (const c of held) this.sendNow(c);
  }

  /** Sends c's replies now: flush() at the turn's end, or a caller whose next output must follow them (only while !repliesWait). */
  sendNow(c: Client): void {
    if (c.out.pos > 0 && !c.closed) {
      const bytes = c.out.take();
      this.stats.netOutput += bytes.length;
      this.stats.writesProcessed++;
      c.netOut += bytes.length;
      if (c.conn.write(bytes) === true) c.out.reuse(bytes);
    }
    if (c.closeAfterReply && !c.closed) this.kill(c);
  }

  /**
   * Runs one command for a client, with Redis's checks in Redis's order.
   * start is a monotonicMs() reading taken just before, now the wall
   * time then. Returns the reading the command ended with, or -1 when it did
   * not run.
   */
  execute(c: Client, argv: Uint8Array[], start = monotonicMs(), now = this.clock.now()): number {
    this.now = now;
    this.access.tick(now);
    c.lastInteraction = this.now;
    const replyStart = c.out.pos;
    const cmd = this.admit(c, argv);
    if (cmd === null) {
      if (c.tracking !== null) this.tracking.settleCaching(c, argv[0]);
      this.applyReplyMode(c, replyStart);
      return -1;
    }
    if (this.tracking.clients !== 0) this.tracking.limitTable(c);
    if (this.pause.mode !== null && this.pause.holds(c, cmd)) {
      this.pause.hold(c, cmd, argv);
      return -1;
    }
    if (c.multi !== null && !RUN_INSIDE_MULTI.has(cmd.name)) {
      countQueued(c, argv);
      c.multi.push({ cmd, argv: ownedArgs(argv) });
      c.out.raw(CONST.queued);
      this.applyReplyMode(c, replyStart);
      return -1;
    }
    if (!luaLoaded() && needsLua(c, cmd)) {
      this.waitForLua(c, cmd, argv);
      return -1;
    }
    this.tracking.enter(c);
    this.nextUntimed = cmd.timedInRuns && c === this.batchClient && this.latency.thresholdUsec === Infinity &&
      shortArgs(argv);
    // Commands that ended untimed are timed before one that takes a reading of its own starts.
    if (this.untimed !== 0 && !this.nextUntimed) start = this.settleUntimed();
    this.call(c, cmd, argv, start);
    if (c.inBusyScript) {
      // What went out meanwhile (a partial EXEC array) is gone from the buffer: replyStart counts from all c was sent.
      const name = argv[0].slice();
      const replyAt = c.netOut + replyStart;
      this.suspended.defer(() => this.executed(c, name, Math.max(0, replyAt - c.netOut)));
      return -1;
    }
    this.executed(c, argv[0], replyStart);
    return this.callEnd;
  }

  /** The end of execute(), once the command has finished. */
  private executed(c: Client, name: Uint8Array, replyStart: number): void {
    this.tracking.leave(c, name);
    c.lastInteraction = this.now;
    // Blocked clients served here run calls of their own: callEnd stays the latest reading. The command that
    // served them is timed (and slow-logged) first, as in Redis.
    if (this.untimed !== 0 && this.blocking.anyReady) this.settleUntimed();
    this.blocking.serveReady();
    this.applyReplyMode(c, replyStart);
  }

  /** Holds c's command (and further input) until the Lua VM has loaded, then runs it. */
  private waitForLua(c: Client, cmd: Command, argv: Uint8Array[]): void {
    c.postponed = ownedArgs(argv);
    c.lastCommand = cmd.fullName;
    loadLua().then(() => {
      if (!c.closed) this.resumePostponed(c);
    }, (e) => {
      this.log("warning", `Could not load the Lua VM: ${(e as Error).stack ?? e}`);
      c.postponed = null;
      this.replyError(c, "ERR the Lua VM could not be loaded");
      this.processInput(c);
    });
  }

  /** Runs a client's postponed command, then the rest of its input (after CLIENT PAUSE, or once Lua has loaded). */
  resumePostponed(c: Client): void {
    const argv = c.postponed!;
    c.postponed = null;
    this.execute(c, argv);
    if (c.closeAfterReply || c.closed) this.flush(c);
    else this.processInput(c);
  }

  /**
   * Redis's checks before a command may run or be queued, in Redis's order.
   * Returns the command, or null after replying with the refusal.
   */
  private admit(c: Client, argv: Uint8Array[]): Command | null {
    let cmd = this.commands.find(argv[0]);
    if (cmd === undefined) return this.reject(c, unknownCommandError(str(argv[0]), argv));
    if (cmd.subcommands && argv.length >= 2) {
      const sub = cmd.subcommands.get(lower(str(argv[1])));
      if (sub === undefined) {
        return this.reject(c, `ERR unknown subcommand '${clip(str(argv[1]))}'. Try ${cmd.name.toUpperCase()} HELP.`);
      }
      cmd = sub;
    }
    const argc = argv.length;
    if ((cmd.arity > 0 && argc !== cmd.arity) || argc < -cmd.arity) {
      cmd.rejectedCalls++;
      return this.reject(c, `ERR wrong number of arguments for '${cmd.fullName}' command`);
    }
    if (cmd.isProtected && !this.allowsProtected(c, "enable-debug-command")) {
      cmd.rejectedCalls++;
      return this.reject(
        c,
        `ERR ${cmd.name.toUpperCase()} command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`,
      );
    }
    // Like Redis, dropping requirepass frees clients that never authenticated.
    if (!c.authenticated && this.authRequired() && !cmd.flags.has("no_auth")) {
      cmd.rejectedCalls++;
      return this.reject(c, "NOAUTH Authentication required.");
    }
    if (c.gate !== null) {
      const refused = c.gate(cmd, argv);
      if (refused !== null) {
        cmd.rejectedCalls++;
        return this.reject(c, refused);
      }
    }
    if (this.cluster !== null) {
      const refused = clusterAdmit(this, c, cmd, argv);
      if (refused === false) return null;
      if (refused !== null) {
        cmd.rejectedCalls++;
        // A refused EXEC discards the transaction; a refused queued command dooms it (reject).
        if (cmd.name === "exec") endTransaction(c);
        return this.reject(c, refused);
      }
    }
    if (this.evictor.limit !== 0 && this.evictor.refuses(c, cmd, argv)) {
      cmd.rejectedCalls++;
      if (cmd.name !== "exec") return this.reject(c, OOM_ERROR);
      // EXEC refused ends the transaction (Redis's execCommandAbort).
      endTransaction(c);
      return this.reject(c, `EXECABORT Transaction discarded because of: ${OOM_ERROR}`);
    }
    const diskError = this.persistence.writesRefused() ? MISCONF_ERROR : this.aof.writesRefused();
    // The primary's stream is applied even then (Redis logs it; replica-ignore-disk-write-errors decides on a panic).
    if (diskError !== null && (isWrite(c, cmd) || cmd.name === "ping") && c !== this.replica.master) {
      cmd.rejectedCalls++;
      return this.reject(c, diskError);
    }
    if (
      this.primary.minToWrite !== 0 && this.replica.host === null && this.primary.refusesWrites() && isWrite(c, cmd)
    ) {
      cmd.rejectedCalls++;
      return this.reject(c, "NOREPLICAS Not enough good replicas to write.");
    }
    // A replica (Redis's masterhost set): writes only from its primary (READONLY), see below for MASTERDOWN.
    const following = this.replica.host !== null;
    if (following && c !== this.replica.master && this.config.bool("replica-read-only") && isWrite(c, cmd)) {
      cmd.rejectedCalls++;
      return this.reject(c, "READONLY You can't write against a read only replica.");
    }
    if (c.pubsub !== null && c.resp === 2 && !SUBSCRIBED_CONTEXT_COMMANDS.has(cmd.name)) {
      cmd.rejectedCalls++;
      const msg = subscribedContextError(cmd.fullName);
      return this.reject(c, cmd.name === "exec" ? `EXECABORT Transaction discarded because of: ${msg.slice(4)}` : msg);
    }
    if (c.monitor && (cmd.flags.has("write") || cmd.flags.has("readonly") || cmd.flags.has("may_replicate"))) {
      cmd.rejectedCalls++;
      return this.reject(c, "ERR Replica can't interact with the keyspace");
    }
    if (
      following && !this.replica.linkUp && c !== this.replica.master && !this.config.bool("replica-serve-stale-data") &&
      deniesStale(c, cmd)
    ) {
      cmd.rejectedCalls++;
      return this.reject(c, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
    }
    if (this.loading !== null && (this.loading.async ? deniesAsyncLoading(c, cmd) : !cmd.flags.has("loading"))) {
      cmd.rejectedCalls++;
      return this.reject(c, "LOADING Redis is loading the dataset in memory");
    }
    if (this.busyError !== null && !cmd.flags.has("allow_busy")) {
      cmd.rejectedCalls++;
      return this.reject(c, this.busyError);
    }
    return cmd;
  }

  /** Runs a command that passed every check: the inner path EXEC uses for queued commands. */
  call(c: Client, cmd: Command, argv: Uint8Array[], t0 = monotonicMs()): void {
    c.current = cmd;
    // CLIENT NO-TOUCH: the client's lookups leave the access clock alone, except TOUCH's.
    this.access.touching = !c.noTouch || cmd.name === "touch";
    this.access.command++;
    const errorsBefore = this.stats.errorReplies;
    const dirty = this.dirty;
    this.propagation.depth++;
    try {
      cmd.run!(c, argv);
    } catch (e) {
      this.log("warning", `Internal error running ${cmd.fullName}: ${(e as Error).stack ?? e}`);
      c.out.error("ERR internal error: " + utf8(String((e as Error).message)));
      this.stats.errorReply("ERR");
    }
    if (c.inBusyScript) {
      // Its script was suspended: the command ends with the script (see suspended.ts).
      const others = this.suspended.othersErrors;
      const owned = ownedArgs(argv);
      this.suspended.defer(() =>
        this.called(c, cmd, owned, t0, errorsBefore + this.suspended.othersErrors - others, dirty)
      );
      return;
    }
    this.called(c, cmd, argv, t0, errorsBefore, dirty);
  }

  /** The end of call(), once the command has finished. */
  private called(c: Client, cmd: Command, argv: Uint8Array[], t0: number, errorsBefore: number, dirty: number): void {
    const propagation = this.propagation;
    propagation.depth--;
    if (propagation.on) {
      const wrote = dirty !== this.dirty;
      propagation.called(c.db.id, cmd.name, argv, wrote);
      // WAIT waits for the stream up to this client's last write (Redis's c->woff), not everyone's.
      if (wrote) c.woff = this.primary.offset;
    }
    if (c.afterCall !== null) c.afterCall(cmd, argv);
    cmd.calls++;
    if (this.stats.errorReplies !== errorsBefore) cmd.failedCalls++;
    if (this.tracking.clients !== 0 && cmd.flags.has("readonly")) this.tracking.read(c, cmd, argv);
    const untimed = propagation.depth === 0 && this.nextUntimed && c.blocked === null;
    if (propagation.depth === 0) this.nextUntimed = false;
    if (untimed) {
      // A clock reading costs 40-100 ns (Deno's performance.now() ~100): a run of such commands shares one, taken
      // before the next command that is not, at the batch's end, or after UNTIMED_MAX of them.
      if (this.untimed === 0) this.runFrom = t0;
      // Until then the command ends when it started: the next one of the batch starts from the same reading.
      this.callEnd = t0;
      this.untimedClients[this.untimed] = c;
      this.untimedCommands[this.untimed] = cmd;
      this.untimedArgs[this.untimed] = argv;
      if (++this.untimed === UNTIMED_MAX) this.settleUntimed();
    } else {
      if (this.untimed !== 0) t0 = this.settleUntimed();
      this.callEnd = monotonicMs();
      const usec = (this.callEnd - t0) * 1000;
      // A command that blocked reaches the slow log when its wait ends, as in Redis.
      if (c.blocked !== null) {
        this.timed(c, cmd, null, usec);
        c.blocked.call = { cmd, argv: ownedArgs(argv), usec };
      } else this.timed(c, cmd, argv, usec);
    }
    if (this.monitors.size !== 0) feedMonitors(c, cmd, argv);
    c.current = null;
    c.lastCommand = cmd.fullName;
    c.commandsProcessed++;
    this.stats.commandsProcessed++;
  }

  /** A command's time in INFO commandstats, latency tracking and monitoring, and (argv given) the slow log. */
  private timed(c: Client, cmd: Command, argv: Uint8Array[] | null, usec: number): void {
    cmd.usec += usec;
    if (this.latency.tracking) (cmd.histogram ??= new LatencyHistogram()).record(usec * 1000);
    if (usec >= this.latency.thresholdUsec) {
      this.latency.add(cmd.flags.has("fast") ? "fast-command" : "command", Math.floor(usec / 1000), this.clock.now());
    }
    if (argv !== null && usec >= this.slowlog.threshold) this.slowlog.push(c, cmd, argv, usec);
  }

  /**
   * A blocked command was served (serving took serveUsec) or ended by CLIENT
   * UNBLOCK (serveUsec 0); it was counted in INFO commandstats when it ran.
   * As in Redis it goes to the slow log only now, timed over its first run
   * plus the serving, and counts as failed when serving replied an error or
   * CLIENT UNBLOCK ended it, in either mode. A timed-out one is not logged:
   * the blocking module does not call this.
   */
  blockedCallEnded(c: Client, call: BlockedCall, serveUsec: number, failed: boolean): void {
    if (failed) call.cmd.failedCalls++;
    const usec = call.usec + serveUsec;
    if (usec >= this.slowlog.threshold) this.slowlog.push(c, call.cmd, call.argv, usec);
    if (serveUsec >= this.latency.thresholdUsec) {
      this.latency.add("command-unblocking", Math.floor(serveUsec / 1000), this.clock.now());
    }
  }

  private reject(c: Client, msg: string): null {
    // A command refused while queueing dooms the transaction (EXECABORT).
    if (c.multi !== null) c.multiError = true;
    // Any command ends ASKING outside a transaction, a refused one too (Redis's resetClient).
    else c.asking = false;
    this.stats.rejectedCalls++;
    this.replyError(c, msg);
    return null;
  }

  /** Writes an error reply and counts it in errorstats. */
  replyError(c: Client, msg: string): void {
    c.out.error(msg);
    this.stats.errorReply(msg.slice(0, msg.indexOf(" ") >>> 0));
  }

  private applyReplyMode(c: Client, replyStart: number): void {
    if (c.replyMode === "on" && !c.skipNext) return;
    if (c.skipNext || c.replyMode === "off") {
      c.out.pos = replyStart;
      this.pubsub.releaseHeldPushes(c);
    }
    if (c.replyMode === "skip") {
      c.replyMode = "on";
      c.skipNext = true;
    } else c.skipNext = false;
  }

  private allowsProtected(c: Client, param: string): boolean {
    const v = this.config.get(param);
    if (v === "yes") return true;
    if (v === "local") return c.conn.kind === "unix" || /^(127\.|::1|\[::1\]|::ffff:127\.)/.test(c.conn.remoteAddress);
    return false;
  }

  // ---- keyspace events ----

  /** Changes since the last save, for INFO persistence. */
  dirty = 0;

  /** Every write to a key comes through here (Redis's signalModifiedKey). */
  keyWritten(db: Db, key: string): void {
    // The value may have changed size in place: used_memory follows.
    db.data.resized(key);
    this.dirty++;
    if (this.watches.size !== 0) this.watches.touch(db, key);
    if (this.blocking.keysWithWaiters !== 0) this.blocking.signal(db, key);
    if (this.tracking.watching) this.tracking.keyWritten(key);
  }

  expired(db: Db, key: string): void {
    this.stats.expiredKeys++;
    if (this.propagation.on) {
      this.propagation.also(db.id, [this.config.bool("lazyfree-lazy-expire") ? "UNLINK" : "DEL", key]);
    }
    this.notify(db, "expired", key, "x");
    if (this.watches.size !== 0) this.watches.touch(db, key);
    // An XREADGROUP waiting on the key answers -UNBLOCKED (Redis's signalDeletedKeyAsReady).
    if (this.blocking.keysWithWaiters !== 0) this.blocking.signal(db, key);
    if (this.tracking.watching) this.tracking.expired(key);
  }

  /**
   * A key evicted for maxmemory (see evict.ts): Redis's signalModifiedKey,
   * `evicted` event and DEL/UNLINK effect. key may be null while
   * evictionWatched is false: then nothing needs its name.
   */
  evicted(db: Db, key: string | null, lazy: boolean): void {
    this.stats.evictedKeys++;
    if (key === null) return;
    if (this.watches.size !== 0) this.watches.touch(db, key);
    if (this.blocking.keysWithWaiters !== 0) this.blocking.signal(db, key);
    if (this.tracking.watching) this.tracking.keyWritten(key);
    this.notify(db, "evicted", key, "e");
    if (this.propagation.on) this.propagation.also(db.id, [lazy ? "UNLINK" : "DEL", key]);
  }

  /** Whether evicted() needs the key's name: WATCH, tracking, keyspace events, propagation or blocked clients are on. */
  get evictionWatched(): boolean {
    return this.watches.size !== 0 || this.tracking.watching || this.pubsub.events.enabled || this.propagation.on ||
      this.blocking.keysWithWaiters !== 0;
  }

  get clientsPaused(): boolean {
    return this.pause.mode !== null;
  }

  /** 0 on a primary; on a replica 1 (keys past their deadline read as missing but stay), 2 while its primary's stream runs (they read as live). */
  get replicaExpiry(): 0 | 1 | 2 {
    return this.replica.expiryMode;
  }

  added(db: Db, key: string): void {
    if (this.pubsub.events.enabled) this.pubsub.notify(db.id, "new", key, "n");
  }

  /** Call before FLUSHDB/FLUSHALL/SWAPDB change db: watched keys that existed count as modified. */
  dbReplaced(db: Db, other?: Db): void {
    if (this.watches.size !== 0) this.watches.touchDb(db, other);
    if (this.blocking.keysWithWaiters !== 0) this.blocking.signalDb(db);
    // A flush (no other db) sends tracking clients a null invalidation; SWAPDB does not, as in Redis.
    if (other === undefined) this.tracking.flushed();
  }

  /** A keyspace event (Redis's notifyKeyspaceEvent); cls is its notify-keyspace-events letter: "$" strings, "g" generic... */
  notify(db: Db, event: string, key: string, cls: string): void {
    if (this.pubsub.events.enabled) this.pubsub.notify(db.id, event, key, cls);
  }

  // ---- cron ----

  start(): void {
    if (this.cronTimer) return;
    this.config.watch("hz", (v) => {
      if (this.cronTimer) clearInterval(this.cronTimer);
      this.cronTimer = setInterval(() => this.cron(), 1000 / Number(v));
    });
  }

  stop(): void {
    if (this.cronTimer) clearInterval(this.cronTimer);
    this.cronTimer = null;
    this.replica.stop();
    this.evictor.stop();
    this.migrateSockets.closeAll();
  }

  private cron(): void {
    this.now = this.clock.now();
    this.access.tick(this.now);
    // Keys do not expire in the background while clients are paused, as in Redis.
    // A suspended script still owns the keyspace: nothing may expire under it.
    // A replica's async load still times out a primary that stops sending (Redis's repl-timeout on the socket).
    if (this.loading !== null) {
      if (this.loading.async) this.replica.cron();
      this.heapRelease.busy(this.now);
      return;
    }
    // A replica's keys expire when its primary's DEL arrives, never here (Redis 7).
    if (this.activeExpire && this.pause.mode === null && this.busyError === null && this.replica.host === null) {
      activeExpireCycle(this);
      this.blocking.serveReady();
    }
    this.persistence.cron();
    this.aof.cron();
    this.replica.cron();
    this.primary.cron();
    if (this.cluster !== null) clusterCron(this);
    if (this.pendingShutdown !== null) this.shutdownCron();
    this.stats.sample(this.now);
    this.tracking.limitTable(null);
    this.closeIdleClients();
    this.clientMemory.cron(this.config.num("hz"));
    // Small collections read or written since the last tick go back to bytes (see sharded-map.ts). Per
    // tick, not per command: a value in use would otherwise be rebuilt for every batch of commands.
    for (const db of this.dbs) db.data.settle(SETTLE_PER_TICK);
    this.slabWalk.step(this.dbs, SLAB_WALK_PER_TICK);
    this.heapRelease.tick(this.now, this.stats.commandsProcessed);
  }

  private closeIdleClients(): void {
    const timeout = this.config.num("timeout");
    if (timeout <= 0) return;
    for (const c of this.clients.values()) {
      if (c.blocked === null && !c.isMaster && !c.isReplica && this.now - c.lastInteraction > timeout * 1000) {
        this.log("verbose", "Closing idle client");
        this.kill(c);
      }
    }
  }

  /** Set while a shutdown waits for its replicas (see shutdown()). */
  private pendingShutdown: PendingShutdown | null = null;

  /**
   * SHUTDOWN and signals. Unless NOW is given or shutdown-timeout is 0,
   * while a replica has not acknowledged the whole stream, writes are held
   * and the shutdown waits for them up to shutdown-timeout seconds (the
   * cron finishes it), with c, if given, blocked on it: "waiting". Else
   * the final save (when save points exist, or asked for), then every
   * client closed and the cron stopped: "done", or "failed", with the
   * process kept running, when the save failed and force was not given.
   */
  shutdown(code = 0, flags: ShutdownFlags = { save: false, nosave: false, force: false }, c: Client | null = null) {
    if (this.pendingShutdown !== null) {
      if (c !== null) this.waitForShutdown(c);
      return "waiting";
    }
    this.log("warning", "User requested shutdown...");
    if (!flags.now && this.config.num("shutdown-timeout") !== 0 && !this.primary.replicasInSync()) {
      if (this.pause.mode === null) this.primary.requestAcks();
      this.pause.holdWritesForShutdown(true);
      this.pendingShutdown = {
        deadline: this.now + this.config.num("shutdown-timeout") * 1000,
        code,
        flags,
        waiting: [],
      };
      if (c !== null) this.waitForShutdown(c);
      this.log("notice", "Waiting for replicas before shutting down.");
      return "waiting";
    }
    return this.finishShutdown(code, flags) ? "done" : "failed";
  }

  /** SIGINT / SIGTERM: a shutdown with shutdown-on-sigint's / shutdown-on-sigterm's flags; a second SIGINT insists. */
  shutdownOnSignal(signal: "SIGINT" | "SIGTERM"): void {
    if (this.pendingShutdown !== null && signal === "SIGINT") {
      this.log("warning", "You insist... exiting now.");
      return this.host.exit(1);
    }
    this.log("warning", `Received ${signal} scheduling shutdown...`);
    const words = this.config.get(signal === "SIGINT" ? "shutdown-on-sigint" : "shutdown-on-sigterm").split(" ");
    const has = (w: string) => words.includes(w);
    this.shutdown(0, { save: has("save"), nosave: has("nosave"), force: has("force"), now: has("now") });
  }

  /** SHUTDOWN ABORT: false when no shutdown is in progress. */
  abortShutdown(): boolean {
    if (this.pendingShutdown === null) return false;
    this.cancelShutdown();
    this.log("notice", "Shutdown manually aborted.");
    return true;
  }

  private waitForShutdown(c: Client): void {
    this.pendingShutdown!.waiting.push(c);
    this.blocking.block(c, [], 0, () => false, (cl) => cl.error("ERR Errors trying to SHUTDOWN. Check logs."));
  }

  /** Each cron tick of a waiting shutdown: finish it once the replicas caught up or the deadline passed. */
  private shutdownCron(): void {
    const p = this.pendingShutdown!;
    if (this.now < p.deadline && !this.primary.replicasInSync()) return;
    this.finishShutdown(p.code, p.flags);
  }

  private cancelShutdown(): void {
    const p = this.pendingShutdown!;
    this.pendingShutdown = null;
    for (const c of p.waiting) if (c.blocked !== null) this.blocking.unblockByRequest(c, false);
    this.pause.holdWritesForShutdown(false);
  }

  private finishShutdown(code: number, flags: ShutdownFlags): boolean {
    this.primary.logLagging();
    if (!this.persistence.finalSave(flags) && !flags.force) {
      this.log("warning", "Errors trying to shut down the server. Check the logs for more information.");
      if (this.pendingShutdown !== null) this.cancelShutdown();
      return false;
    }
    this.aof.shutdown();
    this.primary.shutdown();
    // The AOF is on disk: replies held for it may leave before the connections close.
    this.releaseHeld();
    for (const c of [...this.clients.values()]) this.kill(c);
    this.stop();
    // Listeners close (and the unix socket goes) before the last line, as in Redis.
    this.onShutdown(code);
    this.log("warning", "Respite is now ready to exit, bye bye...");
    return true;
  }
}

function clip(s: string): string {
  const cut = s.indexOf("\0");
  return (cut >= 0 ? s.slice(0, cut) : s).slice(0, 128);
}

/** Redis's is_write_command: a write, or EXEC of a transaction holding one. */
function isWrite(c: Client, cmd: Command): boolean {
  if (cmd.flags.has("write")) return true;
  return cmd.name === "exec" && c.multi !== null && c.multi.some((queued) => queued.cmd.flags.has("write"));
}

/** Redis's is_denystale_command: a command without the stale flag, or EXEC of a transaction holding one. */
function deniesStale(c: Client, cmd: Command): boolean {
  if (!cmd.flags.has("stale")) return true;
  return cmd.name === "exec" && c.multi !== null && c.multi.some((queued) => !queued.cmd.flags.has("stale"));
}

/** Refused during a replica's async load (Redis's CMD_NO_ASYNC_LOADING), also inside EXEC. */
function deniesAsyncLoading(c: Client, cmd: Command): boolean {
  if (cmd.flags.has("no_async_loading")) return true;
  return cmd.name === "exec" && c.multi !== null && c.multi.some((queued) => queued.cmd.flags.has("no_async_loading"));
}

/** Whether running cmd needs the Lua VM: a scripting command, or EXEC of a transaction holding one. */
function needsLua(c: Client, cmd: Command): boolean {
  if (cmd.group === "scripting") return true;
  return cmd.name === "exec" && c.multi !== null && c.multi.some((queued) => queued.cmd.group === "scripting");
}

/** Redis's "unknown command" text, quoting up to 128 bytes of arguments. */
function unknownCommandError(name: string, argv: Uint8Array[]): string {
  let args = "";
  for (let i = 1; i < argv.length && args.length < 128; i++) {
    args += `'${clip(str(argv[i])).slice(0, 128 - args.length)}' `;
  }
  return `ERR unknown command '${clip(name)}', with args beginning with: ${args}`;
}
