/**
 * Serving replicas (Redis's master side of replication.c). A replica is a
 * client that sent SYNC or PSYNC: it gets +CONTINUE and the backlog from its
 * offset, or +FULLRESYNC and an RDB made by the fork-less snapshot (to a
 * file then sent as `$len`, or diskless as `$EOF:<mark>` ... `<mark>`),
 * then the replication stream. The stream is a reader of the propagation
 * module: effects are encoded as RESP (SELECT when the db changes), kept in
 * the backlog and written to every online replica once per event-loop turn.
 * Writes made while a replica's RDB is produced wait in its queue, weighed
 * with its unsent output against `client-output-buffer-limit replica`.
 *
 * Nothing attaches to the propagation stream before the first replica
 * syncs, so a primary without replicas pays nothing; the backlog is freed
 * repl-backlog-ttl seconds after the last replica left.
 */
import type { Client } from "../server/client.ts";
import type { Engine } from "../server/engine.ts";
import type { PropArg, PropagationReader } from "../persist/propagate.ts";
import { AofBuffer } from "../persist/aof/resp.ts";
import { rdbAux } from "../persist/rdb-file.ts";
import { type BufferLimit, overLimit, parseBufferLimits } from "../server/output-limit.ts";
import { clientInfoLine } from "../commands/client.ts";
import { later } from "../util/later.ts";
import { FullSync } from "./full-sync.ts";
import type { ReplicationState } from "./state.ts";

export type LinkState = "wait_bgsave" | "send_bulk" | "online";

const ENC = new TextEncoder();

/** One replica attached to this primary. */
export class ReplicaLink {
  state: LinkState = "wait_bgsave";
  /** REPLCONF listening-port / ip-address. */
  port = 0;
  ip: string;
  capaEof = false;
  capaPsync2 = false;
  /** Attached with the old SYNC: no ACKs, no +FULLRESYNC line. */
  oldSync = false;
  /** Last REPLCONF ACK offset, and when (unix ms). */
  ackOffset = 0;
  ackTime: number;
  /**
   * The stream flows to it. After a diskless RDB it waits for the replica's
   * first REPLCONF ACK, as Redis does: the EOF form ends with the mark, and
   * bytes glued after it in the same read would hide it from the replica.
   */
  streaming = false;
  /** Stream bytes written to its socket so far: what of its unsent output is stream rather than RDB. */
  streamWritten = 0;
  /** Stream bytes produced while its RDB is being made or sent, or before its first ACK. */
  queue: Uint8Array[] = [];
  queued = 0;
  /** The full sync it waits for or takes part in. */
  sync: FullSync | null = null;
  /** Since when it waits for a diskless sync to start (unix ms). */
  waitingSince: number;

  constructor(readonly client: Client, now: number) {
    this.ip = hostOf(client.conn.remoteAddress);
    this.ackTime = now;
    this.waitingSince = now;
  }
}

/** remoteAddress "ip:port" (or "[v6]:port") -> ip. */
function hostOf(addr: string): string {
  const colon = addr.lastIndexOf(":");
  let host = colon > 0 ? addr.slice(0, colon) : addr;
  if (host.startsWith("[")) host = host.slice(1, -1);
  if (host.startsWith("::ffff:")) host = host.slice(7);
  return host;
}

export class Primary implements PropagationReader {
  readonly links: ReplicaLink[] = [];
  /** Never true: replies do not wait for replicas (Redis writes to them in beforeSleep along with replies). */
  readonly pending = false;
  private readonly buf = new AofBuffer();
  private selectedDb = -1;
  private flushScheduled = false;
  private attached = false;
  private current: FullSync | null = null;
  private delayTimer: ReturnType<typeof setTimeout> | null = null;
  private limit: BufferLimit | null = null;
  /** Clients in WAIT, with the offset each waits for. */
  private readonly waiting = new Map<Client, { offset: number; want: number }>();
  /** REPLCONF GETACK is sent at the end of the turn when a WAIT started. */
  private getAckPending = false;
  private lastPing = 0;
  private lastCron = 0;
  /** min_slaves_good_slaves: replicas online whose last ACK is within min-replicas-max-lag. */
  goodReplicas = 0;
  /** min-replicas-to-write and min-replicas-max-lag, kept here for the write path's check. */
  minToWrite = 0;
  minMaxLag = 0;
  /** Full syncs served and partial resyncs accepted / refused (INFO stats sync_full, sync_partial_ok, sync_partial_err). */
  syncFull = 0;
  syncPartialOk = 0;
  syncPartialErr = 0;
  /** Bytes written to replicas (INFO total_net_repl_output_bytes). */
  netOutput = 0;

  constructor(private readonly engine: Engine, readonly state: ReplicationState) {
    engine.config.watch("client-output-buffer-limit", (v) => {
      const l = parseBufferLimits(v).slave;
      this.limit = l && (l.hard > 0 || l.soft > 0) ? l : null;
    });
    engine.config.watch("min-replicas-to-write", (v) => (this.minToWrite = Number(v)));
    engine.config.watch("min-replicas-max-lag", (v) => (this.minMaxLag = Number(v)));
    engine.config.watch("repl-backlog-size", (v) => state.backlog?.resize(Number(v)));
  }

  /** master_repl_offset including effects fed this turn and not yet flushed. */
  get offset(): number {
    return this.state.offset + this.buf.pos;
  }

  get hasReplicas(): boolean {
    return this.links.length > 0;
  }

  // ---- the stream ----

  feed(db: number, argv: readonly PropArg[]): void {
    if (db !== this.selectedDb) {
      this.buf.command(["SELECT", String(db)]);
      this.selectedDb = db;
    }
    this.buf.command(argv);
    this.scheduleFlush();
  }

  beforeSleep(): void {
    this.flush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    later(this.flushLater);
  }

  private readonly flushLater = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Effects fed so far go to the backlog and to the replicas. */
  flush(): void {
    if (this.getAckPending) {
      this.getAckPending = false;
      this.buf.command(["REPLCONF", "GETACK", "*"]);
    }
    if (this.buf.pos === 0) return;
    const bytes = this.buf.take();
    this.write(bytes);
  }

  /**
   * Bytes of a primary's stream this server (a replica) received, passed on
   * verbatim to its own replicas and backlog (chained replication): call
   * with what was applied, in order. Nothing this server propagates of its
   * own may be mixed in.
   */
  proxy(bytes: Uint8Array): void {
    this.flush();
    this.write(bytes);
  }

  private write(bytes: Uint8Array): void {
    this.state.append(bytes);
    for (const link of [...this.links]) {
      if (link.streaming) this.send(link, bytes);
      else if (link.state === "online" || (link.sync !== null && link.sync.started)) {
        link.queue.push(bytes);
        link.queued += bytes.length;
        this.checkLimit(link);
      }
    }
  }

  private send(link: ReplicaLink, bytes: Uint8Array): void {
    const c = link.client;
    if (c.closed) return;
    c.conn.write(bytes);
    this.engine.stats.writesProcessed++;
    link.streamWritten += bytes.length;
    c.netOut += bytes.length;
    this.netOutput += bytes.length;
    this.checkLimit(link);
  }

  /**
   * Stream bytes a replica has not taken yet: unsent ones (the RDB, sent
   * first, does not count, as Redis sends it apart from the output buffer)
   * and those waiting behind the RDB.
   */
  outputOf(link: ReplicaLink): number {
    return Math.min(link.client.conn.pendingBytes(), link.streamWritten) + link.queued;
  }

  /** client-output-buffer-limit replica. */
  private checkLimit(link: ReplicaLink): boolean {
    if (this.limit === null) return false;
    const c = link.client;
    if (!overLimit(this.limit, this.outputOf(link), this.engine.now, c)) return false;
    const info = clientInfoLine(c).trimEnd();
    this.engine.log("warning", `Client ${info} closed for overcoming of output buffer limits.`);
    this.engine.kill(c, true);
    return true;
  }

  /** Starts keeping the stream (the first replica): a backlog, a new replication id, the propagation reader. */
  private ensureBacklog(): void {
    const s = this.state;
    if (s.backlog === null) {
      // Redis: a new history when the backlog is created with no replicas around.
      s.changeReplid();
      s.clearReplid2();
      s.createBacklog(this.engine.config.num("repl-backlog-size"));
      this.engine.log("notice", `Replication backlog created, my new replication IDs are '${s.replid}' and '${s.replid2}'`);
    }
    // A replica's stream is its primary's, proxied (replica.ts): its own effects are not fed.
    if (!this.attached && !this.engine.replica.following) {
      this.attached = true;
      this.selectedDb = -1;
      this.engine.propagation.attach(this);
    }
  }

  /** The db the stream has selected, for an RDB's repl-stream-db (0 before any SELECT: the next write sends one). */
  get streamDb(): number {
    return this.selectedDb === -1 ? 0 : this.selectedDb;
  }

  /** This server became a replica (REPLICAOF): the stream is its primary's from now on, passed on through proxy(). */
  demoted(): void {
    this.flush();
    if (this.attached) this.engine.propagation.detach(this);
    this.attached = false;
  }

  /** This server became a primary (REPLICAOF NO ONE): its own effects feed the stream again, starting with a SELECT. */
  promoted(): void {
    this.selectedDb = -1;
    if (this.state.backlog !== null && !this.attached) {
      this.attached = true;
      this.engine.propagation.attach(this);
    }
  }

  private releaseBacklog(): void {
    this.flush();
    if (this.attached) this.engine.propagation.detach(this);
    this.attached = false;
    this.state.freeBacklog();
  }

  // ---- SYNC / PSYNC ----

  private linkOf(c: Client): ReplicaLink | undefined {
    return this.links.find((l) => l.client === c);
  }

  /** Settings given by REPLCONF before PSYNC, kept until the link exists. */
  private readonly pendingConf = new Map<Client, { port: number; ip: string | null; eof: boolean; psync2: boolean }>();

  replconfPending(c: Client) {
    let conf = this.pendingConf.get(c);
    if (!conf) this.pendingConf.set(c, (conf = { port: 0, ip: null, eof: false, psync2: false }));
    return conf;
  }

  /** SYNC (replid null) or PSYNC replid offset. The client becomes a replica; its replies are written here. */
  sync(c: Client, replid: string | null, offset: number): void {
    const e = this.engine;
    if (this.linkOf(c)) return; // Redis ignores SYNC from a replica
    // A replica serves replicas of its own only while its link is up: it has nothing to continue from otherwise.
    if (e.replica.following && !e.replica.linkUp) return c.error("NOMASTERLINK Can't SYNC while not connected with my master");
    // Redis refuses a PSYNC pipelined behind commands whose replies have not left yet.
    if (c.out.pos > 0) return c.error("ERR SYNC and PSYNC are invalid with pending output");
    this.flush();
    const link = new ReplicaLink(c, e.now);
    e.clientMemory.becameReplica(c);
    c.isReplica = true;
    const conf = this.pendingConf.get(c);
    if (conf) {
      link.port = conf.port;
      if (conf.ip !== null) link.ip = conf.ip;
      link.capaEof = conf.eof;
      link.capaPsync2 = conf.psync2;
      this.pendingConf.delete(c);
    }
    link.oldSync = replid === null;
    const name = `${link.ip}:${link.port}`;
    if (replid !== null) {
      const why = this.state.canContinue(replid, offset);
      if (why === null) {
        this.links.push(link);
        this.ensureBacklog();
        link.state = "online";
        link.streaming = true;
        const s = this.state;
        const head = link.capaPsync2 ? `+CONTINUE ${s.replid}\r\n` : "+CONTINUE\r\n";
        c.conn.write(ENC.encode(head));
        const data = s.backlog!.from(offset);
        this.send(link, data);
        this.syncPartialOk++;
        this.replicasChanged();
        e.log("notice", `Partial resynchronization request from ${name} accepted. Sending ${data.length} bytes of backlog starting from offset ${offset}.`);
        return;
      }
      if (replid !== "?") {
        this.syncPartialErr++;
        e.log("notice", `Partial resynchronization not accepted: ${why}`);
      } else {
        e.log("notice", `Full resync requested by replica ${name}`);
      }
    } else {
      e.log("notice", `Replica ${name} asks for synchronization`);
    }
    this.links.push(link);
    this.syncFull++;
    this.ensureBacklog();
    this.replicasChanged();
    this.startOrJoin(link);
  }

  private startOrJoin(link: ReplicaLink): void {
    const e = this.engine;
    const diskless = e.config.bool("repl-diskless-sync") && link.capaEof;
    const cur = this.current;
    if (cur !== null && !cur.diskless && !diskless && cur.started && cur.links.every((l) => l.state === "wait_bgsave")) {
      // Join the disk sync in progress: same point in time, same stream after it (Redis copies another replica's buffer).
      const other = cur.links[0];
      link.sync = cur;
      link.queue = other ? [...other.queue] : [];
      link.queued = other ? other.queued : 0;
      cur.links.push(link);
      this.announce(link, cur.offset);
      e.log("notice", "Waiting for end of BGSAVE for SYNC");
      return;
    }
    if (cur !== null) {
      link.waitingSince = e.now;
      e.log("notice", "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
      return;
    }
    const delay = diskless ? e.config.num("repl-diskless-sync-delay") : 0;
    link.waitingSince = e.now;
    if (delay <= 0) return this.startSync(diskless);
    if (this.delayTimer === null) {
      e.log("notice", `Delay next BGSAVE for diskless SYNC`);
      this.delayTimer = setTimeout(() => {
        this.delayTimer = null;
        if (this.current === null && this.waitingLinks().length > 0) this.startSync(true);
      }, delay * 1000);
    }
    const max = e.config.num("repl-diskless-sync-max-replicas");
    if (max > 0 && this.waitingLinks().length >= max) {
      clearTimeout(this.delayTimer!);
      this.delayTimer = null;
      this.startSync(true);
    }
  }

  /** Replicas waiting for a full sync that has not started. */
  private waitingLinks(): ReplicaLink[] {
    return this.links.filter((l) => l.state === "wait_bgsave" && l.sync === null);
  }

  private announce(link: ReplicaLink, offset: number): void {
    if (link.oldSync) return;
    link.client.conn.write(ENC.encode(`+FULLRESYNC ${this.state.replid} ${offset}\r\n`));
  }

  /** Starts a full sync for every replica waiting for one (Redis's startBgsaveForReplication). */
  private startSync(diskless: boolean): void {
    const e = this.engine;
    const links = this.waitingLinks().filter((l) => !diskless || l.capaEof);
    if (links.length === 0) return;
    this.flush();
    const sync = new FullSync(diskless);
    sync.offset = this.state.offset;
    // The stream after the snapshot starts with a SELECT, whatever db the replica's RDB ended in.
    this.selectedDb = -1;
    for (const l of links) {
      l.sync = sync;
      l.queue = [];
      l.queued = 0;
      sync.links.push(l);
      this.announce(l, sync.offset);
    }
    this.current = sync;
    // The sync's own point in the stream, in place of what rdbAux says of saves (replica.ts saveInfo()). A primary's
    // stream goes on with a SELECT; a replica's is its primary's, passed on verbatim, so its db goes in the RDB.
    const streamDb = e.replica.following ? (e.replica.saveInfo()?.db ?? 0) : 0;
    const aux = rdbAux(e, 0).filter(([name]) => !name.startsWith("repl-"));
    aux.splice(4, 0, ["repl-stream-db", streamDb], ["repl-id", this.state.replid], ["repl-offset", sync.offset]);
    const target = diskless ? "replicas sockets" : "disk";
    e.log("notice", `Starting BGSAVE for SYNC with target: ${target}`);
    sync.start(e, aux, (l, bytes) => this.sendBulk(l, bytes), (err) => this.endSync(sync, err));
  }

  private sendBulk(link: ReplicaLink, bytes: Uint8Array): void {
    const c = link.client;
    if (c.closed || bytes.length === 0) return;
    // The snapshot's chunks are views of its encoder's buffer: the socket may keep them.
    const copy = bytes.slice();
    c.conn.write(copy);
    c.netOut += copy.length;
    this.netOutput += copy.length;
  }

  /** The RDB went out (err null) or could not be made: replicas go online with their queues, or are dropped. */
  private endSync(sync: FullSync, err: string | null): void {
    if (this.current === sync) this.current = null;
    for (const l of sync.links) {
      l.sync = null;
      if (l.client.closed) continue;
      if (err !== null) {
        this.engine.log("warning", `SYNC failed. BGSAVE child returned an error: ${err}`);
        this.engine.kill(l.client, true);
        continue;
      }
      l.state = "online";
      l.ackTime = this.engine.now;
      if (!sync.diskless) this.startStream(l);
      this.engine.log("notice", `Synchronization with replica ${l.ip}:${l.port} succeeded`);
    }
    this.replicasChanged();
    // Replicas that arrived meanwhile get the next one.
    const waiting = this.waitingLinks();
    if (waiting.length > 0) {
      const diskless = this.engine.config.bool("repl-diskless-sync") && waiting.some((l) => l.capaEof);
      const delay = diskless ? this.engine.config.num("repl-diskless-sync-delay") : 0;
      if (delay <= 0) this.startSync(diskless);
      else if (this.delayTimer === null) {
        this.delayTimer = setTimeout(() => {
          this.delayTimer = null;
          if (this.current === null) this.startSync(diskless);
        }, delay * 1000);
      }
    }
  }

  /** A client closed (Engine.disconnect): a replica link goes. */
  disconnected(c: Client): void {
    this.pendingConf.delete(c);
    this.waiting.delete(c);
    const i = this.links.findIndex((l) => l.client === c);
    if (i < 0) return;
    const link = this.links[i];
    this.links.splice(i, 1);
    const sync = link.sync;
    if (sync !== null) {
      const j = sync.links.indexOf(link);
      if (j >= 0) sync.links.splice(j, 1);
      if (sync.links.length === 0 && this.current === sync) {
        sync.cancel();
        this.current = null;
      }
    }
    this.engine.log("notice", `Connection with replica ${link.ip}:${link.port} lost.`);
    this.replicasChanged();
  }

  isReplica(c: Client): boolean {
    return this.links.length > 0 && this.linkOf(c) !== undefined;
  }

  /** The stream starts flowing to an online replica, with what waited for it. */
  private startStream(l: ReplicaLink): void {
    l.streaming = true;
    const queue = l.queue;
    l.queue = [];
    l.queued = 0;
    for (const bytes of queue) this.send(l, bytes);
  }

  /** REPLCONF ACK offset from a replica. */
  ack(c: Client, offset: number): void {
    const link = this.linkOf(c);
    if (!link) return;
    if (link.state === "online" && !link.streaming) this.startStream(link);
    if (offset > link.ackOffset) link.ackOffset = offset;
    link.ackTime = this.engine.now;
    if (this.waiting.size > 0) this.serveWaiting();
  }

  private replicasChanged(): void {
    this.state.noReplicasSince = this.links.length === 0 ? this.engine.now : 0;
    this.refreshGoodReplicas();
  }

  /** Redis's refreshGoodSlavesCount. */
  refreshGoodReplicas(): void {
    const maxLag = this.minMaxLag;
    const now = this.engine.now;
    let good = 0;
    for (const l of this.links) if (l.state === "online" && Math.floor((now - l.ackTime) / 1000) <= maxLag) good++;
    this.goodReplicas = good;
  }

  /** The NOREPLICAS check of a write (Redis's processCommand): true when refused. */
  refusesWrites(): boolean {
    return this.minToWrite > 0 && this.minMaxLag > 0 && this.goodReplicas < this.minToWrite;
  }

  // ---- shutdown ----

  /** Every replica acknowledged the whole stream (Redis's isReadyToShutdown); true without replicas. */
  replicasInSync(): boolean {
    const offset = this.offset;
    return this.links.every((l) => l.ackOffset === offset);
  }

  /** REPLCONF GETACK * to every replica at the end of this turn. */
  requestAcks(): void {
    this.getAckPending = true;
    this.scheduleFlush();
  }

  /** At the end of a shutdown: a line per replica that lags, and how many are in sync. */
  logLagging(): void {
    if (this.links.length === 0) return;
    const e = this.engine;
    const offset = this.offset;
    let lagging = 0;
    for (const l of this.links) {
      if (l.ackOffset === offset) continue;
      lagging++;
      const lag = l.state === "online" ? Math.floor((e.now - l.ackTime) / 1000) : 0;
      e.log(
        "warning",
        `Lagging replica ${l.ip}:${l.port} reported offset ${offset - l.ackOffset} behind master, lag=${lag}, state=${l.state}.`,
      );
    }
    e.log("notice", `${this.links.length - lagging} of ${this.links.length} replicas are in sync when shutting down.`);
  }

  // ---- WAIT ----

  /** Replicas that acknowledged at least offset. */
  acked(offset: number): number {
    let n = 0;
    for (const l of this.links) if (l.state === "online" && l.ackOffset >= offset) n++;
    return n;
  }

  /** WAIT numreplicas timeout: replies now, or blocks c until enough replicas ACK or the deadline. */
  wait(c: Client, want: number, deadline: number): void {
    const offset = c.woff;
    const have = this.acked(offset);
    const e = this.engine;
    if (have >= want || c.inExec || c.multi !== null || !e.blocking.canBlock(c)) return c.out.int(have);
    this.waiting.set(c, { offset, want });
    e.blocking.block(c, [], deadline, () => false, (cl) => {
      const w = this.waiting.get(cl);
      this.waiting.delete(cl);
      cl.out.int(this.acked(w ? w.offset : offset));
    });
    // Ask for ACKs now rather than waiting for the next second's.
    this.requestAcks();
  }

  private serveWaiting(): void {
    for (const [c, w] of [...this.waiting]) {
      if (this.acked(w.offset) >= w.want) this.engine.blocking.unblockByRequest(c, false);
    }
  }

  // ---- cron ----

  /** Once a second or so (Redis's replicationCron): pings, timeouts, good replicas, the backlog's ttl. */
  cron(): void {
    const e = this.engine;
    const s = this.state;
    if (s.backlog === null && this.links.length === 0) return;
    const now = e.now;
    if (now - this.lastCron < 1000) {
      if (this.waiting.size > 0) this.serveWaiting();
      return;
    }
    this.lastCron = now;
    // Redis 7 pings every repl-ping-replica-period seconds through the stream.
    const period = e.config.num("repl-ping-replica-period") * 1000;
    // A replica's replicas get its primary's PINGs, proxied.
    if (this.links.length > 0 && now - this.lastPing >= period && !e.clientsPaused && !e.replica.following) {
      this.lastPing = now;
      this.buf.command(["ping"]);
      this.flush();
    }
    // Replicas waiting for a diskless RDB get a newline each second so they do not time out.
    for (const l of this.links) {
      if (l.state === "wait_bgsave" && l.sync === null) l.client.conn.write(ENC.encode("\n"));
    }
    const timeout = e.config.num("repl-timeout") * 1000;
    for (const l of [...this.links]) {
      if (l.state !== "online" || l.oldSync) continue;
      if (now - l.ackTime > timeout) {
        e.log("warning", `Disconnecting timedout replica (streaming sync): ${l.ip}:${l.port}`);
        e.kill(l.client, true);
      }
    }
    this.refreshGoodReplicas();
    const ttl = e.config.num("repl-backlog-ttl");
    // A replica keeps its backlog (Redis frees it only on a primary): its history may be continued after a promotion.
    if (this.links.length === 0 && s.backlog !== null && ttl > 0 && !e.replica.following && s.noReplicasSince > 0 && now - s.noReplicasSince > ttl * 1000) {
      // Redis changes the id too, since the freed history cannot be continued.
      this.releaseBacklog();
      s.changeReplid();
      s.clearReplid2();
      e.log("notice", `Replication backlog freed after ${ttl} seconds without connected replicas.`);
    }
    if (this.waiting.size > 0) this.serveWaiting();
  }

  /** SHUTDOWN / FLUSH before exit: what is buffered goes out. */
  shutdown(): void {
    this.flush();
    if (this.delayTimer !== null) clearTimeout(this.delayTimer);
    this.delayTimer = null;
    const sync = this.current;
    if (sync !== null) {
      // A disk sync's temporary file goes; the replicas are closed with the other clients.
      sync.cancel();
      this.current = null;
    }
  }
}
