/**
 * Following a primary (Redis's replica side of replication.c). REPLICAOF
 * opens an outbound connection (core/io.ts Dialer) and runs Redis's
 * handshake: PING, AUTH with masterauth/masteruser, REPLCONF listening-port
 * (and ip-address), REPLCONF capa eof capa psync2, then PSYNC with the
 * cached replid and offset+1 (or `? -1`). +FULLRESYNC brings an RDB
 * (transfer.ts) that replaces the dataset; +CONTINUE resumes the stream.
 * The stream is then run through the engine as the primary's client, whose
 * replies go nowhere, and what was applied is passed on verbatim to this
 * server's own replicas and backlog (Primary.proxy: chained replication).
 * REPLCONF ACK <offset> goes back every second and on GETACK.
 *
 * PSYNC2: when the link drops, the primary's replid and the offset applied
 * are kept (the "cached master") so the next PSYNC continues; a replica
 * that becomes a primary keeps the id as replid2; a restarted replica takes
 * them from its RDB's repl-id/repl-offset aux fields.
 */
import type { Connection } from "../io.ts";
import type { Engine } from "../server/engine.ts";
import type { Client } from "../server/client.ts";
import { concat, str } from "../util/bytes.ts";
import { EngineLoad } from "../persist/load.ts";
import { type LoadingState, yieldToIo } from "../persist/loading.ts";
import { loadLua } from "../scripting/lua.ts";
import { functionRegistry } from "../scripting/functions.ts";
import { startedScripting } from "../scripting/runner.ts";
import { RdbTransfer } from "./transfer.ts";
import { StreamApplier } from "./stream.ts";
import { asyncLoadingState, loadsAsync, swapInLoaded, tempDbs } from "./async-load.ts";

/** Redis's repl_state, as ROLE names it: none, connect, connecting, handshake, sync, connected. */
export type LinkPhase = "none" | "connect" | "connecting" | "handshake" | "psync" | "transfer" | "loading" | "connected";

/** What a PSYNC may continue from: the primary's replid, the offset applied, the db its stream had selected. */
interface CachedPrimary {
  replid: string;
  offset: number;
  db: number;
}

const ENC = new TextEncoder();
/** What clients blocked when the server turns replica are told (Redis's disconnectAllBlockedClients). */
const SYNTHESIZED =
  "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.";
const UNBLOCKED_ROLE_CHANGE = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)";

function command(...args: string[]): Uint8Array {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${ENC.encode(a).length}\r\n${a}\r\n`;
  return ENC.encode(out);
}

/** A runtime's connect error ("connect ECONNREFUSED 127.0.0.1:6379" on Node) as strerror words, as redis-server logs it. */
function errorText(e: unknown): string {
  const code = (e as { code?: string }).code ?? "";
  const known: Record<string, string> = {
    ECONNREFUSED: "Connection refused",
    ECONNRESET: "Connection reset by peer",
    ETIMEDOUT: "Connection timed out",
    EHOSTUNREACH: "No route to host",
    ENETUNREACH: "Network is unreachable",
    ENOTFOUND: "Name or service not known",
  };
  if (known[code]) return known[code];
  const m = /(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND)/.exec(String((e as Error).message ?? e));
  if (m) return known[m[1]];
  // Deno: "Connection refused (os error 111)".
  return String((e as Error).message ?? e).replace(/ \(os error \d+\)$/, "");
}

export class Replica {
  /** The primary followed, or null on a primary (Redis's masterhost). */
  host: string | null = null;
  port = 0;
  phase: LinkPhase = "none";
  /** The primary's client once the stream flows (Redis's server.master). */
  master: Client | null = null;
  private conn: Connection | null = null;
  /** Bumped whenever the link is dropped, so late events of an old connection are ignored. */
  private generation = 0;
  private cached: CachedPrimary | null = null;
  /** Handshake replies still expected, each with what to do with it. */
  private expect: Array<(line: string) => boolean> = [];
  /** Bytes read before the stream starts (handshake replies, the bulk header). */
  private input: Uint8Array = new Uint8Array(0);
  private transfer: RdbTransfer | null = null;
  /** +FULLRESYNC's replid and offset. */
  private fullReplid = "";
  private fullOffset = -1;
  /** Set from the bulk header to the swap while a full sync loads asynchronously (async-load.ts). */
  private asyncLoad: LoadingState | null = null;
  /** Stream bytes that arrive while the RDB loads. */
  private waiting: Uint8Array[] = [];
  /** The stream being applied while the link is up (stream.ts). */
  private stream: StreamApplier | null = null;
  /** Unix ms of the last byte from the primary, of the last connect attempt, of the link going down. */
  lastIo = 0;
  private lastConnect = 0;
  downSince = 0;
  private lastAck = 0;

  constructor(private readonly engine: Engine) {}

  get following(): boolean {
    return this.host !== null;
  }

  /** master_link_status: up once the stream flows. */
  get linkUp(): boolean {
    return this.phase === "connected";
  }

  /** Redis's replicationGetSlaveOffset: the primary's offset applied here (the link's or the cached one), 0 when none. */
  get appliedOffset(): number {
    if (this.host === null) return 0;
    return Math.max(0, this.stream?.offset ?? this.cached?.offset ?? 0);
  }

  /** 0 not a replica; 1 a replica (expired keys read as missing, never deleted here); 2 applying the primary's stream or loading async. */
  get expiryMode(): 0 | 1 | 2 {
    // Redis expires nothing while it loads: during an async load, keys past their deadline read as live too.
    return this.host === null ? 0 : this.stream?.applying || this.asyncLoad !== null ? 2 : 1;
  }

  // ---- REPLICAOF ----

  /** REPLICAOF host port (Redis's replicationSetMaster). */
  follow(host: string, port: number): void {
    const e = this.engine;
    const wasPrimary = this.host === null;
    // Losing the current primary caches its state, so the new one may be asked to continue it (PSYNC2).
    if (this.master !== null) this.dropLink(true);
    this.host = host;
    this.port = port;
    e.config.setMany([["replicaof", `${host} ${port}`]], false);
    this.cancelHandshake();
    if (wasPrimary) {
      // Our own history is what the new primary may continue (Redis's replicationCacheMasterUsingMyself).
      e.primary.flush();
      this.cached = { replid: e.replication.replid, offset: e.replication.offset, db: 0 };
      e.log("notice", SYNTHESIZED);
      e.primary.demoted();
    }
    for (const c of [...e.clients.values()]) {
      if (c.blocked !== null) e.blocking.unblockByRequest(c, true, UNBLOCKED_ROLE_CHANGE);
    }
    this.phase = "connect";
    this.connect();
  }

  /** REPLICAOF NO ONE (Redis's replicationUnsetMaster): a primary now, the old id kept as replid2. */
  unfollow(): void {
    const e = this.engine;
    if (this.host === null) return;
    this.host = null;
    this.port = 0;
    e.config.setMany([["replicaof", ""]], false);
    if (this.master !== null) this.dropLink(false);
    this.cancelHandshake();
    this.cached = null;
    this.phase = "none";
    this.downSince = 0;
    const s = e.replication;
    s.shiftReplid();
    // Our replicas learn the new id by reconnecting; they continue from the old one (replid2).
    this.dropSubReplicas();
    e.primary.promoted();
    e.log("notice", `Setting secondary replication ID to ${s.replid2}, valid up to offset: ${s.secondOffset}. New replication ID is ${s.replid}`);
  }

  /**
   * At startup, after the dataset was loaded: a configured `replicaof`
   * starts following, continuing from the RDB's repl-id/repl-offset when
   * it had them (a restarted replica partial-syncs).
   */
  startFromConfig(aux: Map<string, string> | null): void {
    const conf = this.engine.config.get("replicaof").trim();
    if (conf === "") return;
    const [host, portText] = conf.split(/\s+/);
    const port = Number(portText);
    if (!host || !Number.isInteger(port)) return;
    this.host = host;
    this.port = port;
    const replid = aux?.get("repl-id");
    const offset = Number(aux?.get("repl-offset"));
    if (replid !== undefined && replid.length === 40 && Number.isFinite(offset)) {
      const s = this.engine.replication;
      s.replid = replid;
      s.offset = offset;
      this.cached = { replid, offset, db: Number(aux?.get("repl-stream-db") ?? 0) || 0 };
      this.engine.log("notice", SYNTHESIZED);
    }
    this.phase = "connect";
    this.connect();
  }

  // ---- the connection and handshake ----

  private connect(): void {
    const e = this.engine;
    if (this.host === null) return;
    const gen = ++this.generation;
    this.phase = "connecting";
    this.lastConnect = this.lastIo = e.clock.now();
    e.log("notice", `Connecting to MASTER ${this.host}:${this.port}`);
    e.log("notice", "MASTER <-> REPLICA sync started");
    if (e.dialer === null) {
      e.log("warning", "Unable to connect to MASTER: no outbound connections in this host");
      this.phase = "connect";
      return;
    }
    e.dialer.connect(this.host, this.port, {
      data: (chunk) => {
        if (gen === this.generation) this.onData(chunk);
      },
      closed: () => {
        if (gen === this.generation) this.onClosed();
      },
    }).then((conn) => {
      if (gen !== this.generation) return conn.close();
      this.conn = conn;
      this.lastIo = e.clock.now();
      e.log("notice", "Non blocking connect for SYNC fired the event.");
      this.phase = "handshake";
      this.input = new Uint8Array(0);
      this.expect = [(line) => this.pingReply(line)];
      conn.write(command("PING"));
    }, (err) => {
      if (gen !== this.generation) return;
      e.log("warning", `Error condition on socket for SYNC: ${errorText(err)}`);
      this.phase = "connect";
    });
  }

  private pingReply(line: string): boolean {
    const e = this.engine;
    if (line.startsWith("-") && !/^-(NOAUTH|NOPERM|ERR operation not permitted)/.test(line)) {
      e.log("warning", `Error reply to PING from master: '${line}'`);
      return false;
    }
    e.log("notice", "Master replied to PING, replication can continue...");
    const conf = e.config;
    const parts: Uint8Array[] = [];
    const auth = conf.get("masterauth");
    if (auth !== "") {
      const user = conf.get("masteruser");
      parts.push(user !== "" ? command("AUTH", user, auth) : command("AUTH", auth));
      this.expect.push((l) => {
        if (!l.startsWith("-")) return true;
        e.log("warning", `Unable to AUTH to MASTER: ${l}`);
        return false;
      });
    }
    const announcedPort = conf.num("replica-announce-port") || conf.num("port");
    parts.push(command("REPLCONF", "listening-port", String(announcedPort)));
    this.expect.push((l) => {
      if (l.startsWith("-")) e.log("notice", `(Non critical) Master does not understand REPLCONF listening-port: ${l}`);
      return true;
    });
    const ip = conf.get("replica-announce-ip");
    if (ip !== "") {
      parts.push(command("REPLCONF", "ip-address", ip));
      this.expect.push((l) => {
        if (l.startsWith("-")) e.log("notice", `(Non critical) Master does not understand REPLCONF ip-address: ${l}`);
        return true;
      });
    }
    parts.push(command("REPLCONF", "capa", "eof", "capa", "psync2"));
    this.expect.push((l) => {
      if (l.startsWith("-")) e.log("notice", `(Non critical) Master does not understand REPLCONF capa: ${l}`);
      this.sendPsync();
      return true;
    });
    this.conn!.write(concat(parts));
    return true;
  }

  private sendPsync(): void {
    const e = this.engine;
    let replid = "?";
    let offset = "-1";
    if (this.cached !== null) {
      replid = this.cached.replid;
      offset = String(this.cached.offset + 1);
      e.log("notice", `Trying a partial resynchronization (request ${replid}:${offset}).`);
    } else {
      e.log("notice", "Partial resynchronization not possible (no cached master)");
    }
    this.phase = "psync";
    this.expect.push((l) => this.psyncReply(l));
    this.conn!.write(command("PSYNC", replid, offset));
  }

  private psyncReply(line: string): boolean {
    const e = this.engine;
    if (line.startsWith("+FULLRESYNC")) {
      const [, replid, offset] = line.split(" ");
      this.fullReplid = replid ?? "";
      this.fullOffset = Number(offset);
      e.log("notice", `Full resync from master: ${this.fullReplid}:${this.fullOffset}`);
      if (this.cached !== null) {
        e.log("notice", "Discarding previously cached master state.");
        this.cached = null;
      }
      this.startTransfer();
      return true;
    }
    if (line.startsWith("+CONTINUE")) {
      this.continueStream(line.slice("+CONTINUE".length).trim());
      return true;
    }
    if (line.startsWith("-NOMASTERLINK") || line.startsWith("-LOADING")) {
      e.log("notice", `Master is currently unable to PSYNC but should be in the future: ${line}`);
      return false;
    }
    if (line.startsWith("-")) {
      // A primary without PSYNC: the old SYNC, a full sync without an id to continue later.
      e.log("warning", `Unexpected reply to PSYNC from master: ${line}`);
      e.log("notice", "Retrying with SYNC...");
      this.fullReplid = "";
      this.fullOffset = -1;
      this.cached = null;
      this.conn!.write(command("SYNC"));
      this.startTransfer();
      return true;
    }
    e.log("warning", `Unexpected reply to PSYNC from master: ${line}`);
    return false;
  }

  // ---- reading ----

  private onData(chunk: Uint8Array): void {
    const e = this.engine;
    this.lastIo = e.clock.now();
    e.stats.netInput += chunk.length;
    e.stats.readsProcessed++;
    switch (this.phase) {
      case "connected":
        return this.stream!.apply(chunk);
      case "loading":
        this.waiting.push(chunk);
        return;
      case "transfer":
        if (this.transfer !== null) return this.payload(chunk);
        break;
    }
    this.input = this.input.length === 0 ? chunk : concat([this.input, chunk]);
    this.readInput();
  }

  /** Handshake replies and the bulk header, line by line; then the payload. */
  private readInput(): void {
    while (this.conn !== null) {
      if (this.phase === "transfer" && this.transfer !== null) {
        const rest = this.input;
        this.input = new Uint8Array(0);
        if (rest.length > 0) this.payload(rest);
        return;
      }
      const nl = this.input.indexOf(10);
      if (nl < 0) return;
      const line = str(this.input.subarray(0, nl > 0 && this.input[nl - 1] === 13 ? nl - 1 : nl));
      this.input = this.input.subarray(nl + 1);
      if (this.phase === "transfer") {
        if (!this.bulkHeader(line)) return this.abortSync();
        continue;
      }
      // A primary preparing the RDB keeps the link alive with newlines.
      if (line === "" && this.phase === "psync") continue;
      const handler = this.expect.shift();
      if (handler === undefined) continue;
      if (!handler(line)) return this.abortSync();
      if (this.phase === "connected") {
        const rest = this.input;
        this.input = new Uint8Array(0);
        if (rest.length > 0) this.stream!.apply(rest);
        return;
      }
    }
  }

  private startTransfer(): void {
    this.phase = "transfer";
    this.transfer = null;
  }

  /** `$<len>` or `$EOF:<mark>`; newlines before it keep the link alive. False on a bad header. */
  private bulkHeader(line: string): boolean {
    const e = this.engine;
    if (line === "") return true;
    if (line.startsWith("-")) {
      e.log("warning", `MASTER aborted replication with an error: ${line.slice(1)}`);
      return false;
    }
    if (line[0] !== "$") {
      e.log("warning", `Bad protocol from MASTER, the first byte is not '$' (we received '${line}'), are you sure the host and port are right?`);
      return false;
    }
    // Redis's useDisklessLoad: swapdb always, on-empty-db while there is nothing to lose. The payload is
    // loaded only once complete, so with either the old data stays in place if the transfer fails.
    const mode = e.config.get("repl-diskless-load");
    const toDisk = mode === "disabled" || (mode === "on-empty-db" && e.dbs.some((db) => db.size > 0));
    const tmp = toDisk ? e.fs.resolve(e.fs.cwd(), `temp-${Math.floor(e.clock.now() / 1000)}.${e.host.pid}.rdb`) : null;
    const where = toDisk ? "disk" : "parser";
    const mark = line.startsWith("$EOF:") ? line.slice(5) : null;
    const size = mark === null ? Number(line.slice(1)) : -1;
    if (mark === null && (!Number.isInteger(size) || size < 0)) {
      e.log("warning", `Bad protocol from MASTER, the first byte is not '$' (we received '${line}'), are you sure the host and port are right?`);
      return false;
    }
    try {
      this.transfer = new RdbTransfer(size, mark, e.fs, tmp);
    } catch (err) {
      e.log("warning", `Opening the temp file needed for MASTER <-> REPLICA synchronization: ${(err as Error).message}`);
      return false;
    }
    if (mark !== null) e.log("notice", `MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to ${where}`);
    else e.log("notice", `MASTER <-> REPLICA sync: receiving ${size} bytes from master to ${where}`);
    // Redis loads a diskless payload as it arrives, so an async load starts here: the old data is served meanwhile.
    if (loadsAsync(e, mode, toDisk, this.fullReplid)) e.loading = this.asyncLoad = asyncLoadingState(e, size);
    return true;
  }

  private payload(chunk: Uint8Array): void {
    const t = this.transfer!;
    let rest: Uint8Array | null;
    try {
      rest = t.feed(chunk);
    } catch (err) {
      this.engine.log("warning", `Failed trying to write the temp DB to disk: ${(err as Error).message}`);
      return this.abortSync();
    }
    if (this.asyncLoad !== null) this.asyncLoad.loadedBytes = t.received;
    if (rest === null) return;
    this.waiting = rest.length > 0 ? [rest] : [];
    this.load(t);
  }

  // ---- the full sync's load ----

  private async load(t: RdbTransfer): Promise<void> {
    const e = this.engine;
    const gen = this.generation;
    this.transfer = null;
    this.phase = "loading";
    let bytes: Uint8Array;
    try {
      bytes = t.finish(e.config.get("dbfilename"));
    } catch (err) {
      e.log("warning", `Failed trying to rename the temp DB into ${e.config.get("dbfilename")} in MASTER <-> REPLICA synchronization: ${(err as Error).message}`);
      t.discard();
      return this.abortSync();
    }
    const swap = this.asyncLoad;
    if (swap === null) {
      this.attachToNewHistory();
      e.log("notice", "MASTER <-> REPLICA sync: Flushing old data");
      for (const db of e.dbs) {
        e.dbReplaced(db);
        db.clear();
      }
      const lua = startedScripting(e);
      if (lua) functionRegistry(lua).flush();
    }
    e.log("notice", `MASTER <-> REPLICA sync: Loading DB in memory`);
    const state = swap ?? { startedAt: e.clock.now(), totalBytes: bytes.length, loadedBytes: 0 };
    state.totalBytes = bytes.length;
    e.loading = state;
    // An async load fills dbs of its own; the live ones keep serving until the swap.
    const target = swap === null ? e.dbs : tempDbs(e);
    let load: EngineLoad;
    try {
      load = new EngineLoad(e, bytes, { keepExpired: true, dbs: target });
      while (await load.next()) {
        if (gen !== this.generation) return;
        state.loadedBytes = load.pos;
      }
      if (load.hasLibraries) {
        await loadLua();
        if (gen !== this.generation) return;
      }
      if (swap !== null) {
        // A script suspended mid-run owns the keyspace until it ends (in Redis the load waits inside its hook).
        while (e.busyError !== null) {
          await yieldToIo();
          if (gen !== this.generation) return;
        }
        this.attachToNewHistory();
        e.log("notice", "MASTER <-> REPLICA sync: Swapping active DB with loaded DB");
        // Functions and dbs change together, with nothing in between: clients see the old set or the new one.
        const lua = startedScripting(e);
        if (lua) functionRegistry(lua).flush();
        if (load.hasLibraries) load.loadLibraries();
        swapInLoaded(e, target);
        e.log("notice", "MASTER <-> REPLICA sync: Discarding old DB in background");
      } else if (load.hasLibraries) load.loadLibraries();
    } catch (err) {
      e.log("warning", `Failed trying to load the MASTER synchronization DB from ${t.toDisk ? "disk" : "socket"}: ${(err as Error).message}`);
      if (swap === null) for (const db of e.dbs) db.clear();
      else e.log("notice", "MASTER <-> REPLICA sync: Discarding temporary DB in background");
      return this.abortSync();
    } finally {
      if (e.loading === state) e.loading = null;
      if (this.asyncLoad === swap) this.asyncLoad = null;
    }
    e.log("notice", `Done loading RDB, keys loaded: ${load.loaded}, keys expired: ${load.expired}.`);
    const s = e.replication;
    s.replid = this.fullReplid !== "" ? this.fullReplid : s.replid;
    s.offset = Math.max(0, this.fullOffset);
    s.clearReplid2();
    s.createBacklog(e.config.num("repl-backlog-size"));
    const streamDb = Number(load.aux.get("repl-stream-db") ?? 0) || 0;
    e.log("notice", "MASTER <-> REPLICA sync: Finished with success");
    // The dataset changed under the AOF: it starts again from a rewrite (Redis's restartAOFAfterSYNC).
    if (e.config.bool("appendonly")) e.aof.bgrewriteCommand();
    if (this.conn === null) {
      // The primary went away while we loaded: what we hold is its history up to the announced offset, to continue.
      this.waiting = [];
      e.log("notice", "Caching the disconnected master state.");
      this.cached = { replid: s.replid, offset: s.offset, db: streamDb };
      this.phase = "connect";
      this.downSince = e.clock.now();
      this.connect();
      return;
    }
    this.startStream(s.offset, streamDb);
    // The first ACK puts this replica online on a diskless primary (repl_start_cmd_stream_on_ack).
    this.sendAck();
    const waiting = this.waiting;
    this.waiting = [];
    for (const chunk of waiting) {
      if ((this.phase as LinkPhase) !== "connected") break;
      this.stream!.apply(chunk);
    }
  }

  /** A new history: our replicas must sync again, from what we load now (Redis's replicationAttachToNewMaster). */
  private attachToNewHistory(): void {
    this.dropSubReplicas();
    this.engine.replication.freeBacklog();
  }

  /** +CONTINUE [replid]: the stream resumes from the cached primary's offset. */
  private continueStream(newReplid: string): void {
    const e = this.engine;
    const cached = this.cached!;
    this.cached = null;
    e.log("notice", "Successful partial resynchronization with master.");
    const s = e.replication;
    if (newReplid !== "" && newReplid !== cached.replid) {
      // The primary has a new history that continues ours: our id becomes replid2, our replicas reconnect.
      s.replid2 = cached.replid;
      s.secondOffset = cached.offset + 1;
      s.replid = newReplid;
      e.log("notice", `Master replication ID changed to ${newReplid}`);
      this.dropSubReplicas();
    }
    s.offset = cached.offset;
    if (s.backlog === null) s.createBacklog(e.config.num("repl-backlog-size"));
    this.startStream(cached.offset, cached.db);
    e.log("notice", "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
  }

  /** The link is up: the primary's client exists and the stream flows. */
  private startStream(offset: number, db: number): void {
    const e = this.engine;
    const real = this.conn!;
    this.phase = "connected";
    this.downSince = 0;
    // Replies to the primary go nowhere; closing its client (CLIENT KILL) drops the link.
    const conn: Connection = {
      write() {},
      pendingBytes: () => 0,
      close: () => this.dropLink(true),
      abort: () => this.dropLink(true),
      remoteAddress: real.remoteAddress,
      localAddress: real.localAddress,
      kind: "tcp",
    };
    const c = e.connect(conn, true)!;
    c.isMaster = true;
    c.setAuthenticated("default");
    c.replyMode = "off";
    c.db = e.dbs[db] ?? e.dbs[0];
    this.master = c;
    this.stream = new StreamApplier(e, c, offset, () => this.sendAck(), () => this.dropLink(true));
  }

  /** REPLCONF ACK <offset applied>. */
  sendAck(): void {
    if (this.conn === null || this.stream === null) return;
    this.lastAck = this.engine.clock.now();
    this.conn.write(command("REPLCONF", "ACK", String(this.stream!.offset)));
  }

  // ---- losing the link ----

  /** The primary closed the connection, or it broke. */
  private onClosed(): void {
    const e = this.engine;
    if (this.phase === "connected") return this.dropLink(true);
    if (this.phase === "loading") {
      // The payload is whole: the load goes on, and its end reconnects to continue from it.
      e.log("warning", "Connection with master lost.");
      this.conn = null;
      return;
    }
    if (this.phase === "transfer") e.log("warning", "I/O error trying to sync with MASTER: connection lost");
    else e.log("warning", "Master closed the connection during the handshake");
    this.abortSync();
  }

  /**
   * The link goes (Redis's freeClient of the master): with cache, its replid
   * and offset stay for the next PSYNC; we reconnect at once.
   */
  dropLink(cache: boolean): void {
    const e = this.engine;
    const c = this.master;
    if (c === null) return;
    const offset = this.stream!.offset;
    this.master = null;
    this.stream = null;
    e.log("warning", "Connection with master lost.");
    if (cache) {
      e.log("notice", "Caching the disconnected master state.");
      this.cached = { replid: e.replication.replid, offset, db: c.db.id };
    }
    e.disconnect(c);
    this.closeConn();
    this.phase = "connect";
    this.downSince = e.clock.now();
    if (this.host !== null && cache) {
      e.log("notice", `Reconnecting to MASTER ${this.host}:${this.port}`);
      this.connect();
    }
  }

  /** Gives up a handshake or transfer in progress; the cron retries (Redis's cancelReplicationHandshake). */
  private abortSync(): void {
    this.cancelHandshake();
    if (this.host !== null) this.phase = "connect";
  }

  private cancelHandshake(): void {
    if (this.phase === "connected") return;
    this.transfer?.discard();
    this.transfer = null;
    this.waiting = [];
    this.expect = [];
    this.input = new Uint8Array(0);
    if (this.phase === "loading" && this.engine.loading !== null) this.engine.loading = null;
    // An async load given up keeps the old dataset, which is all clients ever saw.
    if (this.asyncLoad !== null && this.engine.loading === this.asyncLoad) this.engine.loading = null;
    this.asyncLoad = null;
    this.closeConn();
    if (this.phase !== "none") this.phase = "connect";
  }

  private closeConn(): void {
    this.generation++;
    const conn = this.conn;
    this.conn = null;
    conn?.close();
  }

  /** Our own replicas: dropped so they sync again with the new history. */
  private dropSubReplicas(): void {
    for (const link of [...this.engine.primary.links]) this.engine.kill(link.client, true);
  }

  /** The server stops: the link closes, nothing reconnects. */
  stop(): void {
    this.cancelHandshake();
    if (this.master !== null) this.dropLink(false);
    this.closeConn();
  }

  // ---- cron ----

  /** Once a second (Redis's replicationCron): timeouts, reconnection, ACKs. */
  cron(): void {
    if (this.host === null) return;
    const e = this.engine;
    const now = e.clock.now();
    const timeout = e.config.num("repl-timeout") * 1000;
    switch (this.phase) {
      case "connect":
        if (now - this.lastConnect >= 1000) this.connect();
        return;
      case "connecting":
      case "handshake":
      case "psync":
        if (now - this.lastIo > timeout) {
          e.log("warning", "Timeout connecting to the MASTER...");
          this.abortSync();
        }
        return;
      case "transfer":
        if (now - this.lastIo > timeout) {
          e.log("warning", "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
          this.abortSync();
        }
        return;
      case "connected":
        if (this.stream?.resumable) this.stream.apply(new Uint8Array(0));
        if (this.master === null) return;
        if (now - this.lastIo > timeout) {
          e.log("warning", "MASTER timeout: no data nor PING received...");
          this.dropLink(true);
          return;
        }
        if (now - this.lastAck >= 1000) this.sendAck();
        return;
    }
  }

  /**
   * What an RDB saved now records of replication (Redis's
   * rdbPopulateSaveInfo): a primary with a backlog, the stream's db; a
   * replica, its primary's db (connected or cached). Null when neither.
   */
  saveInfo(): { db: number; replid: string; offset: number } | null {
    const e = this.engine;
    const s = e.replication;
    let db: number;
    if (this.host === null) {
      if (s.backlog === null) return null;
      db = e.primary.streamDb;
    } else if (this.master !== null) db = this.master.db.id;
    else if (this.cached !== null) db = this.cached.db;
    else return null;
    return { db, replid: s.replid, offset: this.host === null ? e.primary.offset : s.offset };
  }

  // ---- what ROLE and INFO show ----

  /** ROLE's state word, as Redis's. */
  get roleState(): string {
    switch (this.phase) {
      case "none":
      case "connect":
      case "connecting":
        return this.phase;
      case "handshake":
      case "psync":
        return "handshake";
      case "transfer":
      case "loading":
        return "sync";
      case "connected":
        return "connected";
    }
  }

  /** ROLE's offset: -1 until the stream flows. */
  get roleOffset(): number {
    return this.stream?.offset ?? -1;
  }

  /** INFO replication's replica fields, between role and connected_slaves. */
  info(): Array<[string, string | number]> {
    const e = this.engine;
    const now = e.clock.now();
    const syncing = this.phase === "transfer" || this.phase === "loading";
    const out: Array<[string, string | number]> = [
      ["master_host", this.host ?? ""],
      ["master_port", this.port],
      ["master_link_status", this.linkUp ? "up" : "down"],
      ["master_last_io_seconds_ago", this.master !== null ? Math.floor((now - this.lastIo) / 1000) : -1],
      ["master_sync_in_progress", syncing ? 1 : 0],
      ["slave_read_repl_offset", this.stream?.readOffset ?? this.cached?.offset ?? 0],
      ["slave_repl_offset", this.stream?.offset ?? this.cached?.offset ?? 0],
    ];
    if (syncing) {
      const t = this.transfer;
      const total = t?.size ?? -1;
      const read = t?.received ?? 0;
      out.push(
        ["master_sync_total_bytes", total],
        ["master_sync_read_bytes", read],
        ["master_sync_left_bytes", total < 0 ? -1 : total - read],
        ["master_sync_perc", total <= 0 ? "0.00" : ((read / total) * 100).toFixed(2)],
        ["master_sync_last_io_seconds_ago", Math.floor((now - this.lastIo) / 1000)],
      );
    }
    if (!this.linkUp) {
      out.push(["master_link_down_since_seconds", this.downSince ? Math.floor((now - this.downSince) / 1000) : -1]);
    }
    out.push(
      ["slave_priority", e.config.num("replica-priority")],
      ["slave_read_only", e.config.bool("replica-read-only") ? 1 : 0],
      ["replica_announced", e.config.bool("replica-announced") ? 1 : 0],
    );
    return out;
  }

}
