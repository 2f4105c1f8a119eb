/**
 * MIGRATE's connections to target instances (Redis's migrate_cached_sockets):
 * one per host:port, kept for the next MIGRATE to the same place (resharding
 * sends thousands in a row) and closed once idle for 10 s; at most 64, a
 * random one dropped to make room. Each remembers the db it last SELECTed, so
 * a MIGRATE to the same db sends no SELECT. Replies are read as lines, as
 * Redis's syncReadLine reads them: AUTH, SELECT and RESTORE answer with one
 * line each. Nothing here blocks: a transfer calls back with the lines it got,
 * or with why it stopped (the connection closed, or `timeout` ms passed
 * without a line arriving). One engine owns one of these (engine.migrateSockets).
 */
import type { Connection, Dialer } from "../io.ts";

const CACHE_ITEMS = 64;
const CACHE_TTL_MS = 10_000;
/** setTimeout's longest delay: a longer MIGRATE timeout waits that long (setTimeout would fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Why a transfer stopped before its last line: the link closed, or `timeout` ms passed with nothing read. */
export type TransferEnd = "closed" | "timeout" | null;

/** Why a connection could not be had: the name does not resolve or the dial timed out ("connect"), or the peer refused ("refused"). */
export type DialFailure = "connect" | "refused";

export class MigrateSocket {
  conn: Connection | null = null;
  /** The db the target has selected for us, -1 when unknown (a fresh connection, or after an error). */
  lastDbid = -1;
  lastUse = 0;
  closed = false;
  private partial = "";
  private lines: string[] = [];
  /** The transfer waiting for lines, told of each arrival and of the end. */
  private waiter: (() => void) | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(readonly name: string) {}

  /** Bytes from the target: split into lines (without CRLF), binary-safe as one char a byte. */
  received(chunk: Uint8Array): void {
    let s = this.partial;
    for (let i = 0; i < chunk.length; i++) s += String.fromCharCode(chunk[i]);
    let at = 0;
    for (let nl = s.indexOf("\n"); nl !== -1; nl = s.indexOf("\n", at)) {
      this.lines.push(s.slice(at, nl > at && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl));
      at = nl + 1;
    }
    this.partial = s.slice(at);
    this.waiter?.();
  }

  ended(): void {
    this.closed = true;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.waiter?.();
  }

  /**
   * Writes bytes and collects `count` reply lines; done gets them with null,
   * or those read so far with why it stopped. Lines left from an earlier
   * transfer that gave up are dropped first (the caller closes the socket
   * then anyway, as Redis does).
   */
  transfer(bytes: Uint8Array, count: number, timeoutMs: number, done: (lines: string[], end: TransferEnd) => void): void {
    this.lines = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const finish = (end: TransferEnd) => {
      if (timer !== null) clearTimeout(timer);
      this.waiter = null;
      const got = this.lines.splice(0, count);
      done(got, end);
    };
    const arm = () => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => finish("timeout"), Math.min(timeoutMs, MAX_TIMER_MS));
    };
    let seen = 0;
    this.waiter = () => {
      if (this.lines.length >= count) return finish(null);
      if (this.closed) return finish("closed");
      // Each line read restarts the clock: the timeout bounds every wait, not the whole transfer (as Redis's).
      if (this.lines.length !== seen) {
        seen = this.lines.length;
        arm();
      }
    };
    if (this.closed || this.conn === null) return finish("closed");
    if (count === 0) {
      this.conn.write(bytes);
      return finish(null);
    }
    arm();
    this.conn.write(bytes);
  }

  /** Closes the connection once idle for the cache's TTL, unless used again before. */
  touch(now: number, onIdle: () => void): void {
    this.lastUse = now;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(onIdle, CACHE_TTL_MS + 1000);
  }

  close(): void {
    if (this.closed) return;
    this.conn?.close();
    this.ended();
  }
}

export class MigrateSockets {
  private readonly cache = new Map<string, MigrateSocket>();

  constructor(private readonly dialer: () => Dialer | null, private readonly now: () => number) {}

  /** Connections in the cache (for tests and INFO-like reporting). */
  get size(): number {
    return this.cache.size;
  }

  /**
   * The cached connection named name (host:port as MIGRATE was given them), at once, or a new one to host:port through done
   * (or why none could be had) within timeoutMs. A connection is cached as
   * soon as it is up.
   */
  get(host: string, port: number, timeoutMs: number, name: string, done: (sock: MigrateSocket | null, why: DialFailure | null) => void): void {
    const cached = this.cache.get(name);
    if (cached !== undefined && !cached.closed) {
      this.touch(cached);
      return done(cached, null);
    }
    this.cache.delete(name);
    const dialer = this.dialer();
    // Port 0 (a port argument atoi reads as 0) is refused by the kernel, as Redis finds when it writes.
    if (dialer === null) return queueMicrotask(() => done(null, "connect"));
    if (port === 0) return queueMicrotask(() => done(null, "refused"));
    if (this.cache.size >= CACHE_ITEMS) {
      const names = [...this.cache.keys()];
      this.close(names[Math.floor(Math.random() * names.length)]);
    }
    const sock = new MigrateSocket(name);
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      done(null, "connect");
    }, Math.min(timeoutMs, MAX_TIMER_MS));
    dialer.connect(host, port, { data: (chunk) => sock.received(chunk), closed: () => this.ended(sock) }).then(
      (conn) => {
        if (settled) return conn.close();
        settled = true;
        clearTimeout(timer);
        sock.conn = conn;
        if (this.cache.has(name)) this.close(name);
        this.cache.set(name, sock);
        this.touch(sock);
        done(sock, null);
      },
      (e) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        done(null, refused(e) ? "refused" : "connect");
      },
    );
  }

  /** Closes and forgets the connection to host:port, if any (Redis's migrateCloseSocket). */
  close(name: string): void {
    const sock = this.cache.get(name);
    if (sock === undefined) return;
    this.cache.delete(name);
    sock.close();
  }

  /** Every cached connection closed (shutdown). */
  closeAll(): void {
    for (const name of [...this.cache.keys()]) this.close(name);
  }

  private touch(sock: MigrateSocket): void {
    sock.touch(this.now(), () => {
      if (this.cache.get(sock.name) === sock && this.now() - sock.lastUse > CACHE_TTL_MS) this.close(sock.name);
      else if (this.cache.get(sock.name) === sock) this.touch(sock);
    });
  }

  private ended(sock: MigrateSocket): void {
    if (this.cache.get(sock.name) === sock) this.cache.delete(sock.name);
    sock.ended();
  }
}

/** A dial the peer refused or reset: Redis's non-blocking connect succeeds there, and the write fails. */
function refused(e: unknown): boolean {
  const text = `${(e as { code?: string })?.code ?? ""} ${(e as Error)?.message ?? e} ${(e as { name?: string })?.name ?? ""}`;
  return /refused|ECONNREFUSED|ECONNRESET|reset/i.test(text);
}
