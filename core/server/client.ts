/**
 * A client session: everything Redis keeps per connection (protocol
 * version, selected db, auth, name, reply mode, flags) plus its request
 * parser and reply buffer. Every transport ends up as one of these.
 */
import type { Connection } from "../io.ts";
import { RequestParser } from "../resp/parser.ts";
import { ReplyWriter } from "../resp/writer.ts";
import type { Db } from "../db/db.ts";
import type { Engine } from "./engine.ts";
import type { Command } from "../commands/table.ts";
import type { BlockState } from "./blocking.ts";
import type { Subscriptions } from "../pubsub/hub.ts";
import type { TrackingMode } from "./tracking.ts";

export type ReplyMode = "on" | "off" | "skip";

/** The connection of a client no socket stands behind (a script's, the AOF loader's): replies go nowhere. */
export function noConnection(kind: string): Connection {
  return { write() {}, pendingBytes: () => 0, close() {}, remoteAddress: "", localAddress: "", kind };
}

export class Client {
  readonly parser: RequestParser;
  readonly out = new ReplyWriter();
  name = "";
  libName = "";
  libVer = "";
  db: Db;
  authenticated: boolean;
  user = "default";
  replyMode: ReplyMode = "on";
  /** Set by CLIENT REPLY SKIP: the next command's reply is dropped. */
  skipNext = false;
  noEvict = false;
  noTouch = false;
  /** Reply then close (QUIT, protocol errors, CLIENT KILL of self). */
  closeAfterReply = false;
  closed = false;
  readonly createdAt: number;
  lastInteraction: number;
  lastCommand = "NULL";
  /** The command being run, for slowlog and error stats. */
  current: Command | null = null;
  /** Commands queued by MULTI, or null outside a transaction. */
  multi: Array<{ cmd: Command; argv: Uint8Array[] }> | null = null;
  /** Bytes of the queued commands as Redis counts them (multi-mem): their arguments and a pointer per argument. */
  multiMem = 0;
  /** A command was refused while queueing: EXEC will abort. */
  multiError = false;
  /** A watched key changed: EXEC will return null. */
  watchDirty = false;
  /** True while EXEC runs the queue: blocking commands must not block. */
  inExec = false;
  /** A script this client started is suspended past busy-reply-threshold: its further input waits. */
  inBusyScript = false;
  /** What the client waits for while a blocking command holds it (see blocking.ts), else null. */
  blocked: BlockState | null = null;
  /**
   * A command held by CLIENT PAUSE (see pause.ts), run when the pause ends, or
   * by the gateway in a cluster (see forward); input after it waits in the
   * parser.
   */
  postponed: Uint8Array[] | null = null;
  /** In MONITOR mode: gets a line for every command run. */
  monitor = false;
  /** The primary's client on a replica (core/replication/replica.ts): flag M, type master. */
  isMaster = false;
  /** master_repl_offset right after this client's last write: what WAIT waits for. */
  woff = 0;
  /** A replica attached to this server with SYNC/PSYNC (core/replication/primary.ts): flag S, type slave. */
  isReplica = false;
  /** Cluster mode: ASKING was sent (Redis's CLIENT_ASKING), its value for the command running (a script's calls read it), and READONLY. */
  asking = false;
  askingNow = false;
  clusterReadonly = false;
  /** Channels, patterns and shard channels subscribed to; null when in no pub/sub mode (Redis's CLIENT_PUBSUB). */
  pubsub: Subscriptions | null = null;
  /** CLIENT TRACKING mode, or null while tracking is off (see tracking.ts). */
  tracking: TrackingMode | null = null;
  /** An access check run where Redis checks ACL (the gateway's rules for browsers): a NOPERM error text, or null to run. */
  gate: ((cmd: Command, argv: Uint8Array[]) => string | null) | null = null;
  /**
   * A gateway client in cluster mode (core/gateway/cluster-forward.ts): offered
   * each redirect (MOVED, ASK, TRYAGAIN, CLUSTERDOWN..., its error text) before
   * it is sent, and each keyless command (redirect null: DBSIZE or SCAN may
   * be answered for the whole cluster). "handled": the gateway answers (it forwarded the command, whose
   * reply takes its place in the output, or it holds the client in postponed:
   * a blocking command, or one to run again once the cluster is up); "local":
   * the command runs or is queued here all the same (MULTI queues, shard
   * subscriptions the gateway relays); null: the error is sent.
   */
  forward: ((cmd: Command, argv: Uint8Array[], redirect: string | null) => "handled" | "local" | null) | null = null;
  /** Told of each command once it ran, before anything else is written (the gateway's replay after SUBSCRIBE ... SINCE). */
  afterCall: ((cmd: Command, argv: Uint8Array[]) => void) | null = null;
  /** Bytes in and out, for CLIENT LIST tot-net-in/out. */
  netIn = 0;
  netOut = 0;
  commandsProcessed = 0;
  /** This client's tot-mem when last counted into the engine's total (see client-memory.ts). */
  memCounted = 0;
  /** Second at which output first reached the soft output buffer limit, 0 when below it. */
  outputSoftSince = 0;
  /** When the cron last reset this client's reply-buffer peak (rbp). */
  replyPeakReset = 0;

  constructor(
    readonly id: number,
    readonly fd: number,
    readonly conn: Connection,
    readonly engine: Engine,
  ) {
    this.db = engine.dbs[0];
    this.authenticated = !engine.authRequired();
    this.parser = new RequestParser(engine.parserLimits);
    this.parser.authenticated = this.authenticated;
    this.createdAt = this.lastInteraction = engine.now;
  }

  get resp(): 2 | 3 {
    return this.out.resp;
  }

  set resp(v: 2 | 3) {
    this.out.resp = v;
  }

  setAuthenticated(user: string): void {
    this.authenticated = true;
    this.user = user;
    this.parser.authenticated = true;
  }

  /** Replies with an error (text starting with its code) and counts it in errorstats. */
  error(msg: string): void {
    this.engine.replyError(this, msg);
  }

  /** Redis's one-letter client flags for CLIENT LIST. */
  flagString(): string {
    let f = this.monitor ? "O" : this.isReplica ? "S" : "";
    if (this.isMaster) f += "M";
    if (this.pubsub !== null) f += "P";
    if (this.blocked !== null || this.postponed !== null) f += "b";
    if (this.tracking !== null) {
      f += "t";
      if (this.tracking.brokenRedirect) f += "R";
      if (this.tracking.bcast) f += "B";
    }
    if (this.closeAfterReply) f += "c";
    if (this.conn.kind === "unix") f += "U";
    if (this.noEvict) f += "e";
    if (this.noTouch) f += "T";
    return f || "N";
  }
}
