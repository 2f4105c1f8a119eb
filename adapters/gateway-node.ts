/**
 * The gateway on Node: uWebSockets.js (a native add-on, loaded with
 * require at run time, so the bundle keeps it external) for HTTP and /ws.
 * uWS's HttpRequest is only valid during the handler's synchronous part:
 * everything needed is read from it before anything awaits.
 */
import { createRequire } from "node:module";
import type { Listener } from "./backend.ts";
import { formatAddr } from "./backend.ts";
import { badRequest, type Gateway, requestUrl } from "../core/gateway/gateway.ts";
import type { TopicServer, UpgradeDecision, WsHandlers } from "../core/gateway/ws.ts";

interface UwsRequest {
  getHeader(name: string): string;
  getUrl(): string;
  getQuery(): string;
  getMethod(): string;
  forEach(cb: (key: string, value: string) => void): void;
}

interface UwsResponse {
  writeStatus(s: string): UwsResponse;
  writeHeader(k: string, v: string): UwsResponse;
  write(chunk: Uint8Array | string): boolean;
  end(body?: Uint8Array | string): UwsResponse;
  cork(cb: () => void): UwsResponse;
  onAborted(cb: () => void): UwsResponse;
  onData(cb: (chunk: ArrayBuffer, isLast: boolean) => void): UwsResponse;
  onWritable(cb: (offset: number) => boolean): UwsResponse;
  upgrade(data: unknown, key: string, protocol: string, extensions: string, context: unknown): void;
  getRemoteAddressAsText(): ArrayBuffer;
}

interface UserData {
  decision: UpgradeDecision & { ok: true };
  remote: string;
  handlers: WsHandlers | null;
  /** Marks the socket gone, so late sends from the engine are dropped. */
  close?: () => void;
}

interface UwsSocket {
  send(data: Uint8Array | string, isBinary: boolean): number;
  getBufferedAmount(): number;
  end(code: number, reason: string): void;
  ping(): number;
  getUserData(): UserData;
  subscribe(topic: string): boolean;
  unsubscribe(topic: string): boolean;
}

interface Uws {
  App(): {
    ws(pattern: string, behavior: Record<string, unknown>): ReturnType<Uws["App"]>;
    any(pattern: string, handler: (res: UwsResponse, req: UwsRequest) => void): ReturnType<Uws["App"]>;
    listen(host: string, port: number, cb: (socket: unknown) => void): void;
    publish(topic: string, message: Uint8Array | string, isBinary: boolean): boolean;
  };
  us_listen_socket_close(socket: unknown): void;
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
  426: "Upgrade Required", 500: "Internal Server Error", 503: "Service Unavailable",
};

const text = new TextDecoder();

function remoteOf(res: UwsResponse): string {
  const ip = text.decode(res.getRemoteAddressAsText());
  return formatAddr(ip.startsWith("0000:0000:0000:0000:0000:ffff:") ? ip.slice(30) : ip, 0);
}

/**
 * Copies what the request says into a web Request; the body arrives later
 * through onData. A request the fetch API refuses (a Host header that makes
 * no URL, a method or header it will not take) rejects the promise rather
 * than throw from a uWS callback, which would end the process.
 */
function readRequest(res: UwsResponse, req: UwsRequest, host: string, aborted: AbortSignal): Promise<Request> {
  const method = req.getMethod().toUpperCase();
  const query = req.getQuery();
  const path = req.getUrl();
  const pairs: Array<[string, string]> = [];
  req.forEach((k, v) => void pairs.push([k, v]));
  const build = (body?: ReadableStream<Uint8Array>) => {
    const headers = new Headers(pairs);
    const url = `http://${headers.get("host") ?? host}${path}${query ? "?" + query : ""}`;
    // A streamed body needs duplex "half" in Node's fetch; the core reads it up to its own limit.
    return new Request(url, { method, headers, body, signal: aborted, duplex: "half" } as RequestInit);
  };
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return new Promise((resolve) => resolve(build()));
  return new Promise((resolve, reject) => {
    // The body streams through as it arrives; once the reader gives up (a body too large), the rest is dropped.
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => void (controller = c),
      cancel: () => void (cancelled = true),
    });
    res.onData((chunk, isLast) => {
      if (cancelled) return;
      controller.enqueue(new Uint8Array(chunk.slice(0)));
      if (isLast) controller.close();
    });
    try {
      resolve(build(body));
    } catch (e) {
      reject(e);
    }
  });
}

/** Writes a web Response to uWS, streaming its body with backpressure (SSE streams never end on their own). */
interface RequestState {
  aborted: boolean;
  /** Stops reading a streamed body when the browser goes away. */
  cancel?: () => void;
}

async function writeResponse(res: UwsResponse, response: Response, state: RequestState): Promise<void> {
  if (state.aborted) return;
  const head = () => {
    res.writeStatus(`${response.status} ${STATUS_TEXT[response.status] ?? ""}`);
    response.headers.forEach((v, k) => {
      if (k !== "content-length") res.writeHeader(k, v);
    });
  };
  if (response.body === null || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
    const body = new Uint8Array(await response.arrayBuffer());
    if (!state.aborted) res.cork(() => (head(), res.end(body)));
    return;
  }
  const reader = response.body.getReader();
  state.cancel = () => void reader.cancel();
  res.cork(head);
  for (;;) {
    const { done, value } = await reader.read();
    if (state.aborted) return;
    if (done) return void res.cork(() => res.end());
    let ok = true;
    res.cork(() => (ok = res.write(value)));
    if (!ok) await new Promise<void>((resume) => res.onWritable(() => (resume(), true)));
  }
}

export function serveGateway(gw: Gateway, host: string, port: number): Promise<Listener> {
  const uws = createRequire(import.meta.url)("@trufflesuite/uws-js-unofficial") as Uws;
  const local = formatAddr(host, port);
  const maxFrame = gw.engine.config.num("gateway-max-frame");
  const maxQueue = gw.engine.config.num("gateway-max-queue");
  const topicServer: TopicServer = { publish: (topic, data) => void app.publish(topic, data, typeof data !== "string") };
  const app = uws.App()
    .ws("/ws", {
      // uWS drops an oversized frame's connection without a close code: leave the gateway room to answer 1009 first.
      maxPayloadLength: maxFrame * 2 + 1,
      // The gateway enforces its own queue bound (closing with 4008); uWS must not drop frames before that,
      // and topic messages reach a socket's queue only after the publish that checked it.
      maxBackpressure: maxQueue + maxFrame + 16 * 1024 * 1024,
      closeOnBackpressureLimit: false,
      idleTimeout: 0,
      sendPingsAutomatically: false,
      upgrade(res: UwsResponse, req: UwsRequest, context: unknown) {
        const query = req.getQuery();
        const headers = new Map<string, string>();
        req.forEach((k, v) => headers.set(k, v));
        const url = requestUrl(`http://${headers.get("host") ?? host}/ws${query ? "?" + query : ""}`);
        if (url === null) return void res.writeStatus("400 Bad Request").end("Bad Request");
        const decision = gw.decideUpgrade({ url, header: (name) => headers.get(name) ?? null });
        if (!decision.ok) {
          res.writeStatus(`${decision.status} ${STATUS_TEXT[decision.status]}`).end(decision.message);
          return;
        }
        const protocol = headers.has("sec-websocket-protocol") ? decision.protocol : "";
        const data: UserData = { decision, remote: remoteOf(res), handlers: null };
        res.upgrade(data, headers.get("sec-websocket-key")!, protocol, headers.get("sec-websocket-extensions") ?? "", context);
      },
      open(ws: UwsSocket) {
        const data = ws.getUserData();
        let open = true;
        data.handlers = gw.openSocket({
          send: (d) => open && void ws.send(d, typeof d !== "string"),
          bufferedAmount: () => (open ? ws.getBufferedAmount() : 0),
          close: (code, reason) => {
            if (!open) return;
            open = false;
            ws.end(code, reason);
          },
          ping: () => open && void ws.ping(),
          topics: {
            subscribe: (t) => open && void ws.subscribe(t),
            unsubscribe: (t) => open && void ws.unsubscribe(t),
            server: topicServer,
          },
          remoteAddress: data.remote,
          localAddress: local,
        }, data.decision);
        data.close = () => (open = false);
      },
      message(ws: UwsSocket, message: ArrayBuffer, isBinary: boolean) {
        // The ArrayBuffer is only valid during this call.
        const bytes = new Uint8Array(message.slice(0));
        ws.getUserData().handlers?.message(isBinary ? bytes : text.decode(bytes));
      },
      close(ws: UwsSocket) {
        const data = ws.getUserData();
        data.close?.();
        data.handlers?.closed();
      },
    })
    .any("/*", (res, req) => {
      const state: RequestState = { aborted: false };
      const abort = new AbortController();
      res.onAborted(() => {
        state.aborted = true;
        state.cancel?.();
        abort.abort();
      });
      const remote = remoteOf(res);
      readRequest(res, req, local, abort.signal)
        .then((request) => gw.fetch(request, remote), (e) => {
          gw.engine.log("verbose", `Gateway: bad request from ${remote}: ${(e as Error).message}`);
          return badRequest();
        })
        .then((response) => writeResponse(res, response, state))
        .catch((e) => {
          gw.engine.log("warning", `Gateway: ${(e as Error).message}`);
          if (!state.aborted) res.cork(() => res.writeStatus("500 Internal Server Error").end());
        });
    });
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (!socket) return reject(new Error(`could not listen on ${local}`));
      resolve({ close: () => uws.us_listen_socket_close(socket) });
    });
  });
}
