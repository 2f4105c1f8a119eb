/** The gateway on Deno: Deno.serve for HTTP, Deno.upgradeWebSocket for /ws. */
import type { Listener } from "./backend.ts";
import { formatAddr } from "./backend.ts";
import { badRequest, type Gateway, requestUrl } from "../core/gateway/gateway.ts";
import type { WsHandlers } from "../core/gateway/ws.ts";

interface DenoServeInfo {
  remoteAddr: { hostname: string; port: number };
}

declare const Deno: {
  serve(
    opts: { hostname: string; port: number; onListen?: () => void; onError?: (e: unknown) => Response },
    handler: (req: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): { shutdown(): Promise<void>; finished: Promise<void> };
  upgradeWebSocket(req: Request, opts: { protocol?: string; idleTimeout?: number }): { socket: WebSocket; response: Response };
};

export function serveGateway(gw: Gateway, host: string, port: number): Promise<Listener> {
  const local = formatAddr(host, port);
  return new Promise((resolve, reject) => {
    let server: ReturnType<typeof Deno.serve> | undefined;
    try {
      // A request the handler throws on (Deno.upgradeWebSocket refusing a broken handshake) is answered 400, without Deno's log line.
      const onError = (e: unknown) => {
        gw.engine.log("verbose", `Gateway: bad request: ${(e as Error).message}`);
        return badRequest();
      };
      server = Deno.serve({ hostname: host, port, onListen: () => resolve({ close: () => void server?.shutdown() }), onError }, (req, info) => {
        const remote = formatAddr(info.remoteAddr.hostname, info.remoteAddr.port);
        const url = requestUrl(req.url);
        if (url === null) return badRequest();
        if (url.pathname !== "/ws" || req.headers.get("upgrade")?.toLowerCase() !== "websocket") return gw.fetch(req, remote);
        const decision = gw.decideUpgrade({ url, header: (name) => req.headers.get(name) });
        if (!decision.ok) return new Response(decision.message, { status: decision.status });
        const offered = req.headers.has("sec-websocket-protocol");
        // Deno pings after idleTimeout seconds of silence and closes the socket when no pong comes back.
        const ping = gw.engine.config.num("gateway-ping-interval");
        const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: ping });
        // Set here rather than through upgradeWebSocket, which only finds offers separated by ", " (ws sends ",").
        if (offered) response.headers.set("Sec-WebSocket-Protocol", decision.protocol);
        socket.binaryType = "arraybuffer";
        let handlers: WsHandlers | null = null;
        socket.onopen = () => {
          handlers = gw.openSocket({
            send: (data) => socket.readyState === WebSocket.OPEN && socket.send(data as string | Uint8Array<ArrayBuffer>),
            bufferedAmount: () => socket.bufferedAmount,
            close: (code, reason) => socket.close(code, reason),
            remoteAddress: remote,
            localAddress: local,
          }, decision);
        };
        socket.onmessage = (ev) => handlers?.message(typeof ev.data === "string" ? ev.data : new Uint8Array(ev.data));
        socket.onclose = () => handlers?.closed();
        socket.onerror = () => {};
        return response;
      });
    } catch (e) {
      reject(e);
    }
  });
}
