/**
 * A Sentinel's outbound link to one server or Sentinel: a connection made
 * through the host's Dialer, commands written as RESP and replies matched
 * to callbacks in order (as hiredis does for redis-sentinel). A pub/sub
 * link hands every pushed message to onPush instead. Nothing here awaits
 * inside the Sentinel's timer: connect() returns at once and the link
 * reports its state through fields the timer reads.
 */
import type { Connection, Dialer } from "../io.ts";
import { decodeAt, encodeCommand, type RespValue } from "../resp/decoder.ts";

export type ReplyCallback = (reply: RespValue) => void;

export class Link {
  conn: Connection | null = null;
  /** True while no connection is up (also while one is being made). */
  disconnected = true;
  connecting = false;
  /** When the connection was made, 0 when none. */
  connTime = 0;
  /** When a connection was last attempted (Sentinel retries at most once a second). */
  lastTry = 0;
  /** Callbacks of the commands sent and not yet answered. */
  private waiting: (ReplyCallback | null)[] = [];
  private buf: Uint8Array = new Uint8Array(0);
  /** Local IP of the connection, what hello messages announce when no announce-ip is set. */
  localIp = "";
  /** Connection generation: replies of a closed connection are not delivered to a new one's callbacks. */
  private gen = 0;

  constructor(
    private readonly dialer: Dialer,
    private readonly clock: () => number,
    readonly onPush: ((msg: RespValue) => void) | null = null,
  ) {}

  get pendingCommands(): number {
    return this.waiting.length;
  }

  /** Starts connecting; onUp runs once connected, onDown when a connection fails or ends. */
  connect(host: string, port: number, onUp: () => void, onDown: (why: string) => void): void {
    if (this.connecting || !this.disconnected) return;
    this.connecting = true;
    const gen = ++this.gen;
    this.dialer.connect(host, port, {
      data: (chunk) => {
        if (gen === this.gen) this.receive(chunk);
      },
      closed: () => {
        if (gen !== this.gen) return;
        this.reset();
        onDown("connection closed");
      },
    }).then((conn) => {
      if (gen !== this.gen) {
        conn.close();
        return;
      }
      this.conn = conn;
      this.connecting = false;
      this.disconnected = false;
      this.connTime = this.clock();
      this.localIp = hostOf(conn.localAddress);
      onUp();
    }, (e) => {
      if (gen !== this.gen) return;
      this.connecting = false;
      onDown(String((e as Error)?.message ?? e));
    });
  }

  /** Sends one command; cb gets its reply (an error reply is a ReplyError), or nothing if the link drops first. */
  send(args: Array<string | number | Uint8Array>, cb: ReplyCallback | null = null): boolean {
    if (this.conn === null) return false;
    this.waiting.push(cb);
    this.conn.write(encodeCommand(args));
    return true;
  }

  close(): void {
    this.gen++;
    const c = this.conn;
    this.reset();
    c?.close();
  }

  private reset(): void {
    this.conn = null;
    this.disconnected = true;
    this.connecting = false;
    this.connTime = 0;
    this.waiting = [];
    this.buf = new Uint8Array(0);
  }

  private receive(chunk: Uint8Array): void {
    let buf: Uint8Array;
    if (this.buf.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.buf.length + chunk.length);
      buf.set(this.buf);
      buf.set(chunk, this.buf.length);
    }
    let pos = 0;
    const gen = this.gen;
    for (;;) {
      let r: [RespValue, number] | null;
      try {
        r = decodeAt(buf, pos);
      } catch {
        this.close();
        return;
      }
      if (r === null) break;
      pos = r[1];
      if (this.onPush !== null) this.onPush(r[0]);
      else {
        const cb = this.waiting.shift();
        if (cb) cb(r[0]);
      }
      if (gen !== this.gen) return;
    }
    this.buf = pos === buf.length ? new Uint8Array(0) : buf.slice(pos);
  }
}

/** "1.2.3.4:5" -> "1.2.3.4", "[::1]:5" -> "::1". */
export function hostOf(addr: string): string {
  if (addr.startsWith("[")) return addr.slice(1, addr.indexOf("]"));
  const i = addr.lastIndexOf(":");
  return i < 0 ? addr : addr.slice(0, i);
}

/** A reply as text (bulk strings are bytes), or null for anything else. */
export function text(v: RespValue): string | null {
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) {
    let s = "";
    for (let i = 0; i < v.length; i += 8192) s += String.fromCharCode(...v.subarray(i, i + 8192));
    return s;
  }
  return null;
}
