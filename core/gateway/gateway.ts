/**
 * The gateway: browsers' way into the engine over HTTP, SSE and
 * WebSocket. It holds the Hono app, the WebSocket sockets, the channel
 * history and a timer for pings, idle sockets and history expiry. Adapters
 * (adapters/gateway-*.ts) own the listening socket and hand requests and
 * upgrades here; nothing in this directory knows which runtime it runs on.
 */
import type { Hono } from "hono";
import type { Engine } from "../server/engine.ts";
import type { Client } from "../server/client.ts";
import { globMatch } from "../util/glob.ts";
import { NativeFanOut } from "./fanout.ts";
import { ClusterForwarder } from "./cluster-forward.ts";
import { History, parseHistoryRules } from "./history.ts";
import { buildApp, type GatewayEnv } from "./http.ts";
import { CLOSE, decideUpgrade, type LiveSocket, openSocket, type UpgradeDecision, type UpgradeRequest, type WsHandlers, type WsSocket } from "./ws.ts";

/**
 * A request's URL, or null when the runtime's request URL cannot be parsed
 * (a Host header such as "1270.1:80"): adapters answer 400 instead of
 * throwing, which would end the request with a log line, or on uWS the process.
 */
export function requestUrl(href: string): URL | null {
  try {
    return new URL(href);
  } catch {
    return null;
  }
}

/** What adapters answer a request they cannot even parse. */
export const badRequest = (): Response => new Response("Bad Request", { status: 400 });

export class Gateway {
  readonly app: Hono<GatewayEnv>;
  readonly history = new History();
  /** Engine clients whose pushes carry history ids: json, HTTP and SSE sessions, resp3 sockets that used SINCE. */
  readonly sessions = new Map<Client, { expectId(key: string, seq: number): void }>();
  readonly sockets = new Set<LiveSocket>();
  readonly fanout = new NativeFanOut(this);
  /** In cluster mode: forwards browsers' commands on other nodes' slots (cluster-forward.ts); else null. */
  readonly cluster: ClusterForwarder | null;
  /** SSE streams' heartbeats. */
  readonly heartbeats = new Set<() => void>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastPing = 0;

  constructor(readonly engine: Engine) {
    this.cluster = engine.cluster !== null && engine.dialer !== null ? new ClusterForwarder(engine) : null;
    engine.config.watch("gateway-history", (v) => {
      try {
        this.history.rules = parseHistoryRules(v);
      } catch (e) {
        engine.log("warning", `Gateway: ignoring gateway-history: ${(e as Error).message}`);
      }
    });
    engine.pubsub.onPublish = (channel, message) => this.published(channel, message);
    this.app = buildApp(this);
  }

  /** An HTTP request (not an upgrade). */
  fetch(req: Request, remoteAddress: string): Response | Promise<Response> {
    return this.app.fetch(req, { remoteAddress });
  }

  decideUpgrade(req: UpgradeRequest): UpgradeDecision {
    return decideUpgrade(this, req);
  }

  openSocket(sock: WsSocket, decision: UpgradeDecision & { ok: true }): WsHandlers {
    return openSocket(this, sock, decision);
  }

  /** Browsers' Origin must be the page's own or listed in gateway-allowed-origins; requests without one are not from a page. */
  originAllowed(origin: string | null | undefined, url: URL): boolean {
    if (!origin) return true;
    const allowed = this.engine.config.get("gateway-allowed-origins").split(" ").filter(Boolean);
    return origin === url.origin || allowed.some((a) => a === "*" || a === origin || (a.includes("*") && globMatch(a, origin)));
  }

  /** Called by PUBLISH before delivery: keeps history and tells sessions which id the coming message carries. */
  private published(channel: string, message: Uint8Array | string): void {
    if (this.history.rules.length === 0) return;
    const body = typeof message === "string" ? Uint8Array.from(message, (ch) => ch.charCodeAt(0)) : message;
    const seq = this.history.record(channel, body, this.engine.now);
    if (seq === 0 || this.sessions.size === 0) return;
    const registries = this.engine.pubsub.registries;
    for (const c of registries.channels.get(channel) ?? []) this.sessions.get(c)?.expectId("c:" + channel, seq);
    for (const [pattern, clients] of registries.patterns) {
      if (!globMatch(pattern, channel)) continue;
      for (const c of clients) this.sessions.get(c)?.expectId("p:" + pattern, seq);
    }
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), 1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const s of [...this.sockets]) s.close(CLOSE.normal, "server shutting down");
    this.cluster?.close();
  }

  private tick(): void {
    const now = this.engine.clock.now();
    this.history.expire(now);
    this.cluster?.tick();
    const idle = this.engine.config.num("gateway-idle-timeout") * 1000;
    const pingEvery = this.engine.config.num("gateway-ping-interval") * 1000;
    const ping = pingEvery > 0 && now - this.lastPing >= pingEvery;
    if (ping) this.lastPing = now;
    for (const s of [...this.sockets]) {
      if (idle > 0 && now - s.lastSeen > idle) s.close(CLOSE.idle, "idle timeout");
      // Natively published messages reach the socket's queue after the publish that checked it.
      else s.checkQueue();
      if (ping && !s.closing) s.sock.ping?.();
    }
    if (ping) for (const beat of this.heartbeats) beat();
  }
}
