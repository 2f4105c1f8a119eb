/**
 * Server-sent events: GET /subscribe/<channel> and /psubscribe/<pattern>
 * stream the messages as `message` events whose data is JSON
 * ({"channel", "message"} plus "pattern" for pattern subscriptions).
 * On channels with history each event carries its id, and the first event
 * (`subscribe`) carries the current position, so EventSource's automatic
 * reconnect (Last-Event-ID) or ?since= resumes without a gap; an explicit
 * `recovered: false` says when that was impossible.
 */
import type { Context } from "hono";
import { ReplyError, type RespValue } from "../resp/decoder.ts";
import type { Access } from "./access.ts";
import type { Gateway } from "./gateway.ts";
import type { GatewayEnv } from "./http.ts";
import { httpTransport, jsonBody, percentDecode } from "./http.ts";
import { bytesToJson, type Json, toJson } from "./json.ts";
import { DecodedSession, type Recovery } from "./session.ts";

const enc = new TextEncoder();

function event(name: string, data: Json, id: string | null): Uint8Array {
  return enc.encode(`${id === null ? "" : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

const SSE_HEADERS = { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no" };

export function serveSse(gw: Gateway, c: Context<GatewayEnv>, verb: "SUBSCRIBE" | "PSUBSCRIBE", access: Access | null): Response {
  if (access === null) return jsonBody(c, { error: "unknown token" }, 401);
  // HEAD gets the headers alone: its body is never read, so a subscription opened for it would never be cancelled.
  if (c.req.method === "HEAD") return c.body(null, 200, SSE_HEADERS);
  const raw = new URL(c.req.url).pathname.split("/")[2];
  const name = percentDecode(raw);
  const since = c.req.header("last-event-id") ?? c.req.query("since") ?? null;
  const base64 = c.req.query("encoding") === "base64";
  const maxQueue = gw.engine.config.num("gateway-max-queue");
  let session: DecodedSession | null = null;
  let beat: (() => void) | null = null;
  const end = () => {
    if (beat) gw.heartbeats.delete(beat);
    session?.close();
    session = null;
  };
  // Replies leave at the end of the event-loop turn, so one may come after the reader has cancelled.
  let open = true;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const close = () => {
        if (!open) return;
        open = false;
        end();
        controller.close();
      };
      const send = (bytes: Uint8Array) => {
        if (!open) return;
        controller.enqueue(bytes);
        // A reader that stopped reading is dropped rather than buffered for.
        if ((controller.desiredSize ?? 0) < 0) close();
      };
      session = new DecodedSession(gw, httpTransport(c, close), access, {
        reply(value: RespValue, _tag, recovery: Recovery | null) {
          if (value instanceof ReplyError) {
            send(event("error", { error: value.message }, null));
            return close();
          }
          const data: Record<string, Json> = { result: toJson(value, base64) };
          if (recovery?.recovered != null) data.recovered = recovery.recovered;
          send(event("subscribe", data, recovery?.position ?? null));
        },
        push(p, id) {
          const part = (i: number) => bytesToJson(p[i] as Uint8Array, base64);
          const data: Json = p.length === 4
            ? { pattern: part(1), channel: part(2), message: part(3) }
            : { channel: part(1), message: part(2) };
          send(event("message", data, id));
        },
      });
      if (session.client === null) {
        send(event("error", { error: "ERR max number of clients reached" }, null));
        return close();
      }
      beat = () => send(enc.encode(": ping\n\n"));
      gw.heartbeats.add(beat);
      session.run([enc.encode(verb), name], null, since);
    },
    cancel() {
      open = false;
      end();
    },
  }, { highWaterMark: maxQueue, size: (chunk) => chunk.byteLength });
  return c.body(stream, 200, SSE_HEADERS);
}
