/**
 * RESP connections from this node's gateway to the other nodes of the
 * cluster, for the commands a browser sends on keys another node serves
 * (cluster-forward.ts). A link is pipelined: requests leave in order on one
 * connection and their replies come back in that order, so one link per
 * node and protocol carries every browser's forwarded commands; a blocking
 * command or a browser's WATCH gets a link of its own, and shard-channel
 * subscriptions a subscriber's link (cluster-shard.ts). Links say HELLO
 * (with the local requirepass, which cluster nodes share) before anything
 * else, so replies come back in the protocol the browser speaks and can be
 * handed over byte for byte.
 */
import type { Connection, Dialer } from "../io.ts";
import { decodeAt, encodeCommand, RespPush, type RespValue } from "../resp/decoder.ts";
import { concat } from "../util/bytes.ts";
import { later } from "../util/later.ts";

/** What a request is told: the reply's value and its bytes (valid only during the call). */
export type ReplyHandler = (value: RespValue, raw: Uint8Array) => void;
/** The link failed before the reply came: why, and whether the request had been written (it may have run). */
export type FailHandler = (reason: string, written: boolean) => void;

interface Request {
  /** Replies to drop before the one that answers (ASKING's +OK, a forwarded MULTI's +OK and +QUEUED). */
  skip: number;
  /** The dropped replies (a redirect among them redirects the whole request). */
  skipped: RespValue[];
  reply: ReplyHandler;
  fail: FailHandler;
  /** When it was made (Date.now()), to give up on a node that stopped answering. */
  at: number;
}

export interface LinkOptions {
  dialer: Dialer;
  /** "host:port" of the node. */
  address: string;
  resp: 2 | 3;
  /** The password to AUTH with (the local requirepass), or "" for none. */
  password: string;
  /** Called once the link is closed or failed (the pool forgets it). */
  onClose: (link: NodeLink) => void;
  /** For a subscriber's link: RESP3 pushes (messages, subscription changes) go here, apart from replies. */
  onPush?: (push: RespPush) => void;
  /** For a subscriber's link: a reply no request waits for (an SSUBSCRIBE refused). Without it, such a reply ends the link. */
  onStray?: (value: RespValue) => void;
}

/** What a subscriber's link reports (see ShardRelay). */
export interface SubscriberHandlers {
  push(p: RespPush): void;
  stray(value: RespValue): void;
  closed(link: NodeLink): void;
}

/** A redirect as the engine or another node words it: "MOVED 3999 127.0.0.1:6381". */
export interface Redirect {
  ask: boolean;
  slot: number;
  address: string;
}

export function parseRedirect(text: string): Redirect | null {
  const m = /^(MOVED|ASK) (\d+) (\S+)$/.exec(text);
  return m === null ? null : { ask: m[1] === "ASK", slot: Number(m[2]), address: m[3] };
}

/** "host:port" (the port after the last colon, so IPv6 hosts work) as [host, port], or null. */
export function splitAddress(address: string): [string, number] | null {
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) return null;
  return [address.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port];
}

/** One pipelined RESP connection to a node. */
export class NodeLink {
  private conn: Connection | null = null;
  private closed = false;
  /** Requests written (or waiting in `unsent` for the connection or the end of this turn) and not yet answered, oldest first. */
  private readonly requests: Request[] = [];
  private unsent: Uint8Array[] = [];
  private input: Uint8Array = new Uint8Array(0);
  /** A write went out this event-loop turn: later requests wait for its end (see queue). */
  private batching = false;
  /** Whether the connection was ever made (requests failing after that may have run). */
  private wasConnected = false;

  constructor(private readonly opts: LinkOptions) {
    const at = splitAddress(opts.address);
    if (at === null) {
      queueMicrotask(() => this.fail(`bad node address ${opts.address}`));
      return;
    }
    const hello = opts.password !== "" ? ["HELLO", opts.resp, "AUTH", "default", opts.password] : ["HELLO", opts.resp];
    // Its reply is nobody's: a request that skips it and answers nothing.
    this.requests.push({ skip: 0, skipped: [], reply: () => {}, fail: () => {}, at: Date.now() });
    this.unsent.push(encodeCommand(hello));
    opts.dialer.connect(at[0], at[1], { data: (chunk) => this.received(chunk), closed: () => this.fail("connection closed") }).then(
      (conn) => {
        if (this.closed) return conn.close();
        this.conn = conn;
        this.wasConnected = true;
        this.flush();
      },
      (e) => this.fail(String((e as Error)?.message ?? e)),
    );
  }

  get usable(): boolean {
    return !this.closed;
  }

  /** Sends a command whose answers are pushes (SSUBSCRIBE on a subscriber's link): no reply is waited for. */
  post(argv: Array<string | Uint8Array>): void {
    if (this.closed) return;
    this.queue(encodeCommand(argv));
  }

  /**
   * Sends commands as one write; the reply to the last one goes to reply,
   * the others' are dropped (their errors kept in skipped for the caller).
   */
  send(commands: Uint8Array[][], reply: (value: RespValue, raw: Uint8Array, skipped: RespValue[]) => void, fail: FailHandler): void {
    if (this.closed) return fail("connection closed", false);
    const req: Request = { skip: commands.length - 1, skipped: [], reply: (v, raw) => reply(v, raw, req.skipped), fail, at: Date.now() };
    this.requests.push(req);
    const bytes = commands.length === 1 ? encodeCommand(commands[0]) : concat(commands.map((c) => encodeCommand(c)));
    this.queue(bytes);
  }

  /**
   * The first request of an event-loop turn leaves at once (no wait for a
   * lone command); the ones after it in that turn leave together at its end
   * (many browsers' commands, one write).
   */
  private queue(bytes: Uint8Array): void {
    if (this.conn === null || this.batching) {
      this.unsent.push(bytes);
      return;
    }
    this.conn.write(bytes);
    this.batching = true;
    later(() => {
      this.batching = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.conn === null || this.unsent.length === 0) return;
    this.conn.write(this.unsent.length === 1 ? this.unsent[0] : concat(this.unsent));
    this.unsent = [];
  }

  /** When the oldest request still waiting for its reply was made, or 0. */
  get waitingSince(): number {
    return this.requests[0]?.at ?? 0;
  }

  close(reason = "link closed"): void {
    this.fail(reason);
  }

  private received(chunk: Uint8Array): void {
    const buf = this.input.length === 0 ? chunk : concat([this.input, chunk]);
    let pos = 0;
    for (;;) {
      let r: [RespValue, number] | null;
      try {
        r = decodeAt(buf, pos);
      } catch (e) {
        return this.fail(`protocol error from ${this.opts.address}: ${(e as Error).message}`);
      }
      if (r === null) break;
      const raw = buf.subarray(pos, r[1]);
      pos = r[1];
      if (this.opts.onPush !== undefined && r[0] instanceof RespPush) {
        this.opts.onPush(r[0]);
        if (this.closed) return;
        continue;
      }
      const head = this.requests[0];
      if (head === undefined && this.opts.onStray !== undefined) {
        this.opts.onStray(r[0]);
        continue;
      }
      if (head === undefined) return this.fail(`unexpected reply from ${this.opts.address}`);
      if (head.skip > 0) {
        head.skip--;
        head.skipped.push(r[0]);
        continue;
      }
      this.requests.shift();
      head.reply(r[0], raw);
      if (this.closed) return;
    }
    // The adapter may reuse its read buffer: what is kept is copied.
    this.input = pos === buf.length ? new Uint8Array(0) : buf.slice(pos);
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.conn?.close();
    this.conn = null;
    const pending = this.requests.splice(0);
    const written = this.wasConnected;
    this.opts.onClose(this);
    for (const r of pending) r.fail(reason, written);
  }
}

/** The gateway's links: one shared per node and protocol, plus links of their own (blocking commands, WATCH, subscribers). */
export class LinkPool {
  private readonly shared = new Map<string, NodeLink>();
  private readonly exclusive = new Set<NodeLink>();

  constructor(private readonly dialer: Dialer, private readonly password: () => string) {}

  /** The shared link to address for protocol resp, made on first use and remade after a failure. */
  link(address: string, resp: 2 | 3): NodeLink {
    const key = `${resp} ${address}`;
    let l = this.shared.get(key);
    if (l === undefined || !l.usable) {
      l = new NodeLink({
        dialer: this.dialer,
        address,
        resp,
        password: this.password(),
        onClose: (dead) => this.shared.get(key) === dead && this.shared.delete(key),
      });
      this.shared.set(key, l);
    }
    return l;
  }

  /**
   * Closes the shared links whose oldest request has waited more than
   * maxWaitMs (a node that hangs without closing its sockets): their
   * requests fail, and are sent again where the slot map points by then.
   */
  expire(maxWaitMs: number): void {
    const now = Date.now();
    for (const l of this.shared.values()) {
      const since = l.waitingSince;
      if (since !== 0 && now - since > maxWaitMs) l.close(`no reply within ${maxWaitMs} ms`);
    }
  }

  /** A link of its own (a blocking command's, a browser's WATCH): the caller closes it when done. */
  own(address: string, resp: 2 | 3): NodeLink {
    const l = new NodeLink({
      dialer: this.dialer,
      address,
      resp,
      password: this.password(),
      onClose: (dead) => this.exclusive.delete(dead),
    });
    this.exclusive.add(l);
    return l;
  }

  /** A RESP3 link for shard-channel subscriptions to address: pushes and stray replies go to handlers. */
  subscriber(address: string, handlers: SubscriberHandlers): NodeLink {
    const l: NodeLink = new NodeLink({
      dialer: this.dialer,
      address,
      resp: 3,
      password: this.password(),
      onClose: (dead) => {
        this.exclusive.delete(dead);
        handlers.closed(dead);
      },
      onPush: handlers.push,
      onStray: handlers.stray,
    });
    this.exclusive.add(l);
    return l;
  }

  closeAll(): void {
    for (const l of [...this.shared.values(), ...this.exclusive]) l.close();
    this.shared.clear();
    this.exclusive.clear();
  }
}
