/** The gateway on Bun: Bun.serve for HTTP, with its WebSocket handlers for /ws. */
import type { Listener } from "./backend.ts";
import { formatAddr } from "./backend.ts";
import { badRequest, type Gateway, requestUrl } from "../core/gateway/gateway.ts";
import type { TopicServer, UpgradeDecision, WsHandlers } from "../core/gateway/ws.ts";

interface BunWs {
  data: { decision: UpgradeDecision & { ok: true }; handlers: WsHandlers | null; remote: string };
  send(data: string | Uint8Array): number;
  getBufferedAmount(): number;
  close(code?: number, reason?: string): void;
  ping(): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

interface BunServer {
  upgrade(req: Request, opts: { data: unknown; headers?: Record<string, string> }): boolean;
  requestIP(req: Request): { address: string; port: number } | null;
  stop(closeActive?: boolean): void;
  publish(topic: string, data: string | Uint8Array): number;
}

declare const Bun: { serve(opts: Record<string, unknown>): BunServer };

export function serveGateway(gw: Gateway, host: string, port: number): Promise<Listener> {
  const local = formatAddr(host, port);
  const maxFrame = gw.engine.config.num("gateway-max-frame");
  const maxQueue = gw.engine.config.num("gateway-max-queue");
  const topicServer: TopicServer = { publish: (topic, data) => void server.publish(topic, data) };
  const server = Bun.serve({
    hostname: host,
    port,
    fetch(req: Request, server: BunServer) {
      const ip = server.requestIP(req);
      const remote = formatAddr(ip?.address, ip?.port);
      const url = requestUrl(req.url);
      if (url === null) return badRequest();
      if (url.pathname !== "/ws" || req.headers.get("upgrade")?.toLowerCase() !== "websocket") return gw.fetch(req, remote);
      const decision = gw.decideUpgrade({ url, header: (name) => req.headers.get(name) });
      if (!decision.ok) return new Response(decision.message, { status: decision.status });
      const headers = req.headers.has("sec-websocket-protocol") ? { "Sec-WebSocket-Protocol": decision.protocol } : undefined;
      if (server.upgrade(req, { data: { decision, handlers: null, remote }, headers })) return undefined;
      return new Response("upgrade failed", { status: 400 });
    },
    // What the handler throws on is answered 400 (logged at verbose), not with Bun's error page and log line.
    error(e: Error) {
      gw.engine.log("verbose", `Gateway: bad request: ${e.message}`);
      return badRequest();
    },
    websocket: {
      // The gateway enforces its own queue bound (closing with 4008); Bun must not drop frames before that,
      // and topic messages reach a socket's queue only after the publish that checked it.
      backpressureLimit: maxQueue + maxFrame + 16 * 1024 * 1024,
      closeOnBackpressureLimit: false,
      maxPayloadLength: maxFrame + 1,
      idleTimeout: 0,
      sendPings: false,
      perMessageDeflate: false,
      open(ws: BunWs) {
        ws.data.handlers = gw.openSocket({
          send: (data) => void ws.send(data),
          bufferedAmount: () => ws.getBufferedAmount(),
          close: (code, reason) => ws.close(code, reason),
          ping: () => ws.ping(),
          topics: { subscribe: (t) => ws.subscribe(t), unsubscribe: (t) => ws.unsubscribe(t), server: topicServer },
          remoteAddress: ws.data.remote,
          localAddress: local,
        }, ws.data.decision);
      },
      message(ws: BunWs, data: string | Uint8Array) {
        ws.data.handlers?.message(typeof data === "string" ? data : new Uint8Array(data));
      },
      close(ws: BunWs) {
        ws.data.handlers?.closed();
      },
    },
  });
  return Promise.resolve({ close: () => server.stop(true) });
}
