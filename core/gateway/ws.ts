/**
 * The WebSocket side of the gateway, runtime-agnostic: deciding an
 * upgrade (origin, subprotocol, token) and running a socket once open.
 * `resp3` sockets carry the RESP3 bytes both ways in binary frames; `json`
 * sockets carry one JSON command per text frame and get JSON replies and
 * pushes. Each socket's unsent output is bounded by gateway-max-queue: a
 * browser that falls behind is closed with code 4008, never buffered for.
 */
import type { Client } from "../server/client.ts";
import { ReplyError, type RespPush, type RespValue } from "../resp/decoder.ts";
import { type Access, defaultAccess, tokenAccess } from "./access.ts";
import type { Gateway } from "./gateway.ts";
import { jsonPushFrame, jsonToArgs, type Json, toJson } from "./json.ts";
import { connectClient, DecodedSession, type Recovery, type Transport } from "./session.ts";
import { Resp3Resume } from "./resume.ts";

/** Close codes the gateway uses (also in the README). */
export const CLOSE = {
  normal: 1000,
  tooBig: 1009,
  /** The socket's unsent output passed gateway-max-queue. */
  slowConsumer: 4008,
  /** No frame arrived for gateway-idle-timeout seconds. */
  idle: 4000,
} as const;

/** What an adapter reads from the upgrade request (before any await, for uWS). */
export interface UpgradeRequest {
  url: URL;
  /** A header by lower-case name, or null. */
  header(name: string): string | null;
}

export type UpgradeDecision =
  | { ok: true; protocol: "resp3" | "json"; access: Access; base64: boolean }
  | { ok: false; status: number; message: string };

/** The runtime's open socket, as the gateway drives it. */
export interface WsSocket {
  send(data: string | Uint8Array): void;
  /** Bytes sent and not yet taken by the network. */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
  /** A ping frame, where the runtime lets us send one (Deno pings by itself). */
  ping?(): void;
  /** Native topics, where the runtime has them (Bun, uWS): the gateway fans channel messages out through them. */
  topics?: SocketTopics;
  readonly remoteAddress: string;
  readonly localAddress: string;
}

/** A socket's side of a runtime's native publish/subscribe. */
export interface SocketTopics {
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** The server the socket belongs to. */
  readonly server: TopicServer;
}

export interface TopicServer {
  /** Sends data to every socket of this server subscribed to topic, in native code, in order with their own sends. */
  publish(topic: string, data: string | Uint8Array): void;
}

export interface WsHandlers {
  message(data: string | Uint8Array): void;
  closed(): void;
}

/** Accepts or refuses an upgrade to /ws. */
export function decideUpgrade(gw: Gateway, req: UpgradeRequest): UpgradeDecision {
  if (!gw.originAllowed(req.header("origin"), req.url)) return { ok: false, status: 403, message: "origin not allowed" };
  const offered = (req.header("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  const protocol = offered.length === 0 ? "json" : offered.find((p) => p === "resp3" || p === "json");
  if (protocol === undefined) return { ok: false, status: 400, message: "subprotocol must be resp3 or json" };
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.header("authorization") ?? "")?.[1];
  const token = req.url.searchParams.get("token") ?? offered.find((p) => p.startsWith("token."))?.slice(6) ?? bearer;
  let access = defaultAccess(gw.engine);
  if (token !== undefined) {
    const granted = tokenAccess(gw.engine, token);
    if (granted === null) return { ok: false, status: 401, message: "unknown token" };
    access = granted;
  }
  return { ok: true, protocol: protocol as "resp3" | "json", access, base64: req.url.searchParams.get("encoding") === "base64" };
}

/** A socket the gateway watches for output queue, idle time and pings. */
export class LiveSocket {
  lastSeen: number;
  closing = false;
  client: Client | null = null;
  /** Set once open: drops the engine client (and session) without touching the socket. */
  detach: () => void = () => {};

  constructor(private readonly gw: Gateway, readonly sock: WsSocket) {
    this.lastSeen = gw.engine.now;
  }

  /** Sends, then closes the socket if its unsent output passed the limit. */
  send(data: string | Uint8Array): void {
    if (this.closing) return;
    this.sock.send(data);
    this.checkQueue();
  }

  /** Closes the socket if its unsent output passed gateway-max-queue. */
  checkQueue(): void {
    if (!this.closing && this.sock.bufferedAmount() > this.gw.engine.config.num("gateway-max-queue")) {
      this.gw.engine.log("verbose", `Gateway: closing slow WebSocket client ${this.sock.remoteAddress}`);
      this.close(CLOSE.slowConsumer, "slow consumer: send queue over gateway-max-queue");
    }
  }

  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.gw.sockets.delete(this);
    this.sock.close(code, reason);
    this.detach();
  }

  transport(): Transport {
    return {
      pendingBytes: () => this.sock.bufferedAmount(),
      close: () => this.close(CLOSE.normal, ""),
      remoteAddress: this.sock.remoteAddress,
      localAddress: this.sock.localAddress,
      kind: "ws",
    };
  }
}

/** Starts the protocol on a socket the adapter has just opened; null handlers means it was refused and closed. */
export function openSocket(gw: Gateway, sock: WsSocket, d: UpgradeDecision & { ok: true }): WsHandlers {
  const live = new LiveSocket(gw, sock);
  gw.sockets.add(live);
  const maxFrame = () => gw.engine.config.num("gateway-max-frame");
  const tooBig = (data: string | Uint8Array) => data.length > maxFrame() && (live.close(CLOSE.tooBig, "frame too large"), true);
  const closed = () => {
    live.closing = true;
    gw.sockets.delete(live);
    live.detach();
  };
  if (d.protocol === "resp3") {
    let resume: Resp3Resume | null = null;
    const c = connectClient(gw, live.transport(), (bytes) => resume!.write(bytes), d.access);
    if (c === null) {
      live.close(CLOSE.normal, "max number of clients reached");
      return { message: () => {}, closed };
    }
    resume = new Resp3Resume(gw, c, (bytes) => live.send(bytes));
    const access = c.gate!;
    c.gate = (cmd, argv) => resume.option(cmd, argv) ?? access(cmd, argv);
    c.afterCall = (cmd, argv) => resume.afterCall(cmd, argv);
    if (sock.topics) gw.fanout.add(c, { live, topics: sock.topics, encoding: "resp3", session: null, resume });
    live.detach = () => {
      gw.fanout.remove(c);
      resume.detach();
      gw.engine.disconnect(c);
    };
    const enc = new TextEncoder();
    return {
      message(data) {
        live.lastSeen = gw.engine.clock.now();
        if (tooBig(data)) return;
        gw.engine.onData(c, typeof data === "string" ? enc.encode(data) : data);
      },
      closed,
    };
  }
  const send = (obj: Record<string, Json | undefined>) => live.send(JSON.stringify(obj));
  const session = new DecodedSession(gw, live.transport(), d.access, {
    reply(value: RespValue, id: unknown, recovery: Recovery | null) {
      const out: Record<string, Json | undefined> = { id: id as Json | undefined };
      if (value instanceof ReplyError) out.error = value.message;
      else out.result = toJson(value, d.base64);
      if (recovery) {
        out.position = recovery.position;
        if (recovery.recovered !== null) out.recovered = recovery.recovered;
      }
      send(out);
    },
    push(value: RespPush, id: string | null) {
      live.send(jsonPushFrame(value, d.base64, id));
    },
  });
  if (session.client === null) {
    live.close(CLOSE.normal, "max number of clients reached");
    return { message: () => {}, closed };
  }
  const client = session.client;
  if (sock.topics && !d.base64) gw.fanout.add(client, { live, topics: sock.topics, encoding: "json", session, resume: null });
  live.detach = () => {
    gw.fanout.remove(client);
    session.close();
  };
  return {
    message(data) {
      live.lastSeen = gw.engine.clock.now();
      if (tooBig(data)) return;
      const parsed = parseFrame(data);
      if (typeof parsed === "string") return send({ error: parsed });
      if (parsed.argv === null) return send({ id: parsed.id as Json | undefined, error: "ERR a command is a non-empty array of strings" });
      session.run(parsed.argv, parsed.id, parsed.since);
    },
    closed,
  };
}

interface Frame {
  id: unknown;
  argv: Uint8Array[] | null;
  since: string | null;
}

/** A json frame: ["CMD", ...] or {"id": ..., "command": [...], "since": "..."}; a string is the error to send. */
function parseFrame(data: string | Uint8Array): Frame | string {
  let text: string;
  try {
    text = typeof data === "string" ? data : new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    return "ERR invalid UTF-8 in frame";
  }
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return "ERR invalid JSON";
  }
  if (Array.isArray(msg)) return { id: undefined, argv: jsonToArgs(msg), since: null };
  if (msg === null || typeof msg !== "object") return "ERR a frame is a JSON array or object";
  const o = msg as { id?: unknown; command?: unknown; since?: unknown };
  return { id: o.id, argv: jsonToArgs(o.command), since: typeof o.since === "string" ? o.since : null };
}
