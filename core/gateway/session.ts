/**
 * A gateway client of the engine: one core Client per WebSocket or HTTP
 * request, created through engine.connect like any socket, so pub/sub,
 * MULTI, AUTH and CLIENT LIST behave as over RESP. Browsers that speak
 * JSON (and HTTP and SSE) get a DecodedSession, which runs one command at a
 * time, decodes the RESP3 bytes the engine writes and pairs each reply with
 * the command it answers; pushes (messages, invalidations) go out apart,
 * with a history id when their channel keeps history.
 */
import type { Connection } from "../io.ts";
import type { Client } from "../server/client.ts";
import { decodeAt, encodeCommand, ReplyError, RespPush, type RespValue } from "../resp/decoder.ts";
import { lower, str } from "../util/bytes.ts";
import { type Access, credentials, refusal } from "./access.ts";
import type { Gateway } from "./gateway.ts";
import { type HistoryEntry, missedPush, PendingIds, subscriptionMatcher } from "./history.ts";
import { pushKind } from "./json.ts";

/** The transport side of a session: the engine's output and closes go here. */
export interface Transport {
  /** Bytes handed over and not yet sent (the runtime's bufferedAmount). */
  pendingBytes(): number;
  /** Server-side close (QUIT, CLIENT KILL, output limits). */
  close(): void;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly kind: "ws" | "http";
}

/**
 * Creates the engine client for a gateway connection, in RESP3 (as if it had
 * sent HELLO 3), with the access check installed; null when the engine
 * refuses it (maxclients).
 */
export function connectClient(gw: Gateway, t: Transport, write: (bytes: Uint8Array) => void, access: Access): Client | null {
  // In a cluster, replies of forwarded commands keep their place in the output (cluster-order.ts).
  const order = gw.cluster?.order(write) ?? null;
  const conn: Connection = {
    write: order === null ? write : (bytes) => order.write(bytes),
    // Bytes held behind a forwarded command's reply count as unsent (output buffer limits see them).
    pendingBytes: order === null ? () => t.pendingBytes() : () => t.pendingBytes() + order.held,
    close: () => t.close(),
    remoteAddress: t.remoteAddress,
    localAddress: t.localAddress,
    kind: t.kind,
  };
  const c = gw.engine.connect(conn);
  if (c === null) return null;
  c.resp = 3;
  if (order !== null) gw.cluster!.attach(c, order);
  const state = { access };
  // A browser with any access is past requirepass; with none it must AUTH as over RESP.
  if (access !== "none") c.setAuthenticated("default");
  c.gate = (cmd, argv) => {
    const creds = credentials(cmd, argv);
    if (creds !== null && gw.engine.authRequired() && gw.engine.checkPassword(creds[0], creds[1])) state.access = "all";
    return refusal(gw.engine, state.access, cmd, argv);
  };
  return c;
}

export interface DecodedOutput {
  /** The reply to a command run with run(), with the tag it was given and the reply's RESP3 bytes. */
  reply(value: RespValue, tag: unknown, recovery: Recovery | null, raw: Uint8Array | null): void;
  /** A push: a message (with its history id when its channel keeps one), an invalidation... */
  push(value: RespPush, id: string | null): void;
}

/** What a subscription's reply adds when the gateway keeps history. */
export interface Recovery {
  /** Whether every message since the id asked for was replayed; null when no id was given. */
  recovered: boolean | null;
  /** The history id to resume from when the subscriber has seen no newer message. */
  position: string;
}

interface Pending {
  tag: unknown;
  /** How many subscribe-style confirmations form the reply (RESP3 sends them as pushes); 0 for one plain reply. */
  pushes: number;
  confirmations: RespValue[];
  /** For SUBSCRIBE/PSUBSCRIBE while history is on: where the subscription starts, and what to replay. */
  replay: { since: string | null; upto: number; matches: (channel: string) => boolean; patterns: string[] | null } | null;
}

const SUBSCRIBERS: Record<string, "channels" | "patterns" | "shard"> = {
  subscribe: "channels", psubscribe: "patterns", ssubscribe: "shard",
  unsubscribe: "channels", punsubscribe: "patterns", sunsubscribe: "shard",
};
const NO_CLIENT_REPLY = "ERR CLIENT REPLY is not available over the gateway's json and HTTP protocols";
const MESSAGE_KINDS = new Set(["message", "pmessage", "smessage", "invalidate"]);

export class DecodedSession {
  readonly client: Client | null;
  private input = new Uint8Array(0);
  private readonly pending: Pending[] = [];
  private readonly ids = new PendingIds();

  constructor(private readonly gw: Gateway, t: Transport, access: Access, private readonly out: DecodedOutput) {
    this.client = connectClient(gw, t, (bytes) => this.received(bytes), access);
    if (!this.client) return;
    gw.sessions.set(this.client, this);
    // Replies are paired with commands in order: a command that silences its own replies would break the pairing.
    const gate = this.client.gate!;
    this.client.gate = (cmd, argv) => (cmd.fullName === "client|reply" ? NO_CLIENT_REPLY : gate(cmd, argv));
  }

  /**
   * Runs one command; its reply comes back through out.reply with tag.
   * With since (SUBSCRIBE/PSUBSCRIBE only), the messages missed since that
   * history id are replayed right after the reply, before any live one.
   */
  run(argv: Uint8Array[], tag: unknown, since: string | null = null): void {
    const c = this.client!;
    const name = lower(str(argv[0]));
    const kind = SUBSCRIBERS[name];
    let pushes = 0;
    if (kind !== undefined && c.multi === null && argv.length >= 2) pushes = argv.length - 1;
    else if (kind !== undefined && c.multi === null) pushes = Math.max(1, c.pubsub?.[kind].size ?? 0);
    if (since !== null && this.pending.length !== 0) {
      return this.out.reply(new ReplyError("ERR since needs the previous commands answered first"), tag, null, null);
    }
    const names = argv.slice(1).map(str);
    const keepsHistory = this.gw.history.rules.length !== 0 && (name === "subscribe" || name === "psubscribe");
    const replay = !keepsHistory ? null : {
      since,
      // Nothing else runs before this command when the session is idle: messages up to here are history, later ones live.
      upto: this.gw.history.seq,
      matches: subscriptionMatcher(names, name === "psubscribe"),
      patterns: name === "psubscribe" ? names : null,
    };
    this.pending.push({ tag, pushes, confirmations: [], replay });
    this.gw.engine.onData(c, encodeCommand(argv));
    if (!c.closed && c.resp !== 3) c.resp = 3; // HELLO 2 or RESET would break the decoding
  }

  /** The gateway saw a message published for this client: its id rides along with the push when it arrives. */
  expectId(key: string, seq: number): void {
    this.ids.expect(key, seq);
  }

  /** No partial reply is buffered: a push sent around the engine now keeps its place. */
  idle(): boolean {
    return this.input.length === 0;
  }

  /** The history id of a message on channel sent around the engine's output (native fan-out), taken from the ids on their way. */
  takeId(channel: string): string | null {
    const seq = this.ids.take("message", channel);
    return seq === 0 ? null : this.gw.history.idOf(seq);
  }

  close(): void {
    if (!this.client) return;
    this.gw.sessions.delete(this.client);
    this.gw.engine.disconnect(this.client);
  }

  private received(bytes: Uint8Array): void {
    let buf = bytes;
    if (this.input.length) {
      buf = new Uint8Array(this.input.length + bytes.length);
      buf.set(this.input);
      buf.set(bytes, this.input.length);
    }
    let pos = 0;
    for (let r = decodeAt(buf, 0); r !== null; r = decodeAt(buf, pos)) {
      this.dispatch(r[0], buf.subarray(pos, r[1]));
      pos = r[1];
    }
    this.input = pos === buf.length ? new Uint8Array(0) : buf.slice(pos);
  }

  private dispatch(v: RespValue, raw: Uint8Array): void {
    const kind = pushKind(v);
    const head = this.pending[0];
    if (kind !== null && (MESSAGE_KINDS.has(kind) || !head || head.pushes === 0)) return this.out.push(v as RespPush, this.idFor(kind, v as RespPush));
    if (!head) return;
    if (kind !== null) {
      head.confirmations.push(v);
      if (head.confirmations.length < head.pushes) return;
      v = head.confirmations;
    }
    this.pending.shift();
    if (head.replay === null || kind === null) return this.out.reply(v, head.tag, null, raw);
    const r = head.replay;
    const missed = r.since === null ? null : this.gw.history.since(r.since, r.matches, r.upto, this.gw.engine.now);
    this.out.reply(v, head.tag, { recovered: missed?.recovered ?? null, position: this.gw.history.idOf(r.upto) }, null);
    if (missed !== null) this.replay(missed.entries, r.patterns);
  }

  private idFor(kind: string, p: RespPush): string | null {
    const seq = this.ids.take(kind, str(p[1] as Uint8Array));
    return seq === 0 ? null : this.gw.history.idOf(seq);
  }

  /** Sends what a subscriber missed, as the pushes it would have received. */
  private replay(entries: HistoryEntry[], patterns: string[] | null): void {
    for (const e of entries) this.out.push(RespPush.from(missedPush(e, patterns)), this.gw.history.idOf(e.seq));
  }
}
