/**
 * The gateway's HTTP routes (Hono): webdis-style command URLs, JSON
 * commands and pipelines on POST /, transactions on POST /multi, SSE
 * subscriptions, the browser client and the demo page, with the origin
 * check and CORS in front of everything.
 */
import { type Context, Hono } from "hono";
import { ReplyError, type RespValue } from "../resp/decoder.ts";
import { type Access, defaultAccess, tokenAccess } from "./access.ts";
import type { Gateway } from "./gateway.ts";
import { jsonToArgs, type Json, toJson } from "./json.ts";
import { DecodedSession, type Transport } from "./session.ts";
import { serveSse } from "./sse.ts";
import { CLIENT_JS } from "./client/serve.ts";
import { DEMO_HTML } from "./client/demo.ts";
import { concat } from "../util/bytes.ts";

export type GatewayEnv = { Bindings: { remoteAddress: string } };
type Ctx = Context<GatewayEnv>;

/** Output suffixes: .json (default) maps replies to JSON, .raw gives RESP bytes, the others the raw value with that type. */
const CONTENT_TYPES: Record<string, string> = {
  txt: "text/plain; charset=utf-8",
  html: "text/html; charset=utf-8",
  xml: "application/xml",
  css: "text/css",
  js: "application/javascript",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  svg: "image/svg+xml",
  pdf: "application/pdf",
  bin: "application/octet-stream",
};

const utf8 = new TextEncoder();

/** Decodes %XX escapes to raw bytes (so %ff stays byte 255) and other characters to their UTF-8. */
export function percentDecode(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "%" && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(...utf8.encode(s[i]));
  }
  return Uint8Array.from(out);
}

/** Errors' HTTP status: 401 for authentication, 403 for access rules, 400 for the rest. */
function errorStatus(e: ReplyError): 400 | 401 | 403 {
  if (/^(NOAUTH|WRONGPASS)/.test(e.message)) return 401;
  return e.message.startsWith("NOPERM") ? 403 : 400;
}

/** The access an HTTP request has: a bearer token's (header or ?token=), else the default; null for a bad token. */
function requestAccess(gw: Gateway, c: Ctx): Access | null {
  const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? c.req.query("token");
  return token === undefined ? defaultAccess(gw.engine) : tokenAccess(gw.engine, token);
}

export function httpTransport(c: Ctx, onClose: () => void): Transport {
  const url = new URL(c.req.url);
  return {
    pendingBytes: () => 0,
    close: onClose,
    remoteAddress: c.env?.remoteAddress ?? "?:0",
    localAddress: url.host,
    kind: "http",
  };
}

/** Runs commands in one engine client, in order, and returns every reply (fewer if the server closed the client). */
interface Replies {
  replies: RespValue[];
  /** Each reply's RESP3 bytes. */
  raws: Array<Uint8Array | null>;
}

function runCommands(gw: Gateway, c: Ctx, access: Access, commands: Uint8Array[][]): Promise<Replies | null> {
  return new Promise((resolve) => {
    const replies: RespValue[] = [];
    const raws: Array<Uint8Array | null> = [];
    let session: DecodedSession | null = null;
    const finish = () => {
      session?.close();
      resolve({ replies, raws });
    };
    session = new DecodedSession(gw, httpTransport(c, () => queueMicrotask(finish)), access, {
      reply(value, _tag, _recovery, raw) {
        replies.push(value);
        raws.push(raw && raw.slice());
        if (replies.length === commands.length) finish();
      },
      push() {},
    });
    if (session.client === null) return resolve(null);
    c.req.raw.signal?.addEventListener("abort", finish);
    for (const argv of commands) if (!session.client.closed) session.run(argv, null);
  });
}

/** The i-th reply, or an error when the server closed the client before sending it (QUIT, CLIENT KILL). */
function replyAt(replies: RespValue[], i: number): RespValue {
  return i < replies.length ? replies[i] : new ReplyError("ERR connection closed");
}

function jsonBody(c: Ctx, body: Json, status = 200): Response {
  return c.body(JSON.stringify(body), status as 200, { "Content-Type": "application/json; charset=utf-8" });
}

/** One reply in the response's format; errors get their status. */
function replyResponse(c: Ctx, value: RespValue, name: string, suffix: string, base64: boolean, raw: Uint8Array | null): Response {
  const status = value instanceof ReplyError ? errorStatus(value) : 200;
  if (suffix === "raw") return c.body((raw ?? new Uint8Array(0)) as unknown as ArrayBuffer, status, { "Content-Type": "application/octet-stream" });
  if (suffix === "json") return jsonBody(c, value instanceof ReplyError ? { error: value.message } : { [name]: toJson(value, base64) }, status);
  const type = CONTENT_TYPES[suffix];
  if (value instanceof ReplyError) return c.body(value.message, status, { "Content-Type": "text/plain; charset=utf-8" });
  if (value === null) return c.body(null, 404);
  if (value instanceof Uint8Array) return c.body(value as unknown as ArrayBuffer, 200, { "Content-Type": type });
  const json = toJson(value, base64);
  return c.body(typeof json === "string" ? json : JSON.stringify(json), 200, { "Content-Type": type });
}

/** GET /CMD/arg/... and PUT (body = last argument): webdis's URL commands, with an optional leading db number. */
async function urlCommand(gw: Gateway, c: Ctx, body: Uint8Array | null): Promise<Response> {
  const access = requestAccess(gw, c);
  if (access === null) return jsonBody(c, { error: "unknown token" }, 401);
  const path = new URL(c.req.url).pathname.slice(1);
  const segments = path.split("/");
  let suffix = "json";
  const last = segments[segments.length - 1];
  const dot = last.lastIndexOf(".");
  if (dot > 0 && (last.slice(dot + 1) in CONTENT_TYPES || last.slice(dot + 1) === "raw" || last.slice(dot + 1) === "json")) {
    suffix = last.slice(dot + 1);
    segments[segments.length - 1] = last.slice(0, dot);
  }
  if (segments.length && segments[segments.length - 1] === "") segments.pop();
  const db = /^\d+$/.test(segments[0] ?? "") ? segments.shift()! : null;
  if (!segments.length || !segments[0]) return jsonBody(c, { error: "ERR no command" }, 400);
  const argv = segments.map(percentDecode);
  if (body !== null) argv.push(body);
  if (c.req.method === "HEAD") return c.body(null, 200, { "Content-Type": suffix === "json" ? "application/json" : CONTENT_TYPES[suffix] ?? "application/octet-stream" });
  const commands = db === null ? [argv] : [[utf8.encode("SELECT"), utf8.encode(db)], argv];
  const done = await runCommands(gw, c, access, commands);
  if (done === null) return jsonBody(c, { error: "ERR max number of clients reached" }, 503);
  const { replies, raws } = done;
  if (db !== null && replies[0] instanceof ReplyError) return replyResponse(c, replies[0], "SELECT", suffix, false, raws[0]);
  const value = replyAt(replies, commands.length - 1);
  return replyResponse(c, value, decodeText(argv[0]), suffix, c.req.query("encoding") === "base64", raws[commands.length - 1] ?? null);
}

function decodeText(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/** A request body past gateway-max-frame, which bounds WebSocket frames too. */
class BodyTooLarge extends Error {}

/** The request body, refused past gateway-max-frame: at once from Content-Length, else as it streams in. */
async function readBody(gw: Gateway, c: Ctx): Promise<Uint8Array> {
  const max = gw.engine.config.num("gateway-max-frame");
  if (Number(c.req.header("content-length") ?? 0) > max) throw new BodyTooLarge();
  const stream = c.req.raw.body;
  if (stream === null) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concat(parts);
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw new BodyTooLarge();
    }
    parts.push(value);
  }
}

/** POST / and /multi: a JSON command or an array of them. */
async function jsonCommands(gw: Gateway, c: Ctx, transaction: boolean): Promise<Response> {
  const access = requestAccess(gw, c);
  if (access === null) return jsonBody(c, { error: "unknown token" }, 401);
  const text = decodeText(await readBody(gw, c));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return jsonBody(c, { error: "ERR invalid JSON" }, 400);
  }
  const pipeline = Array.isArray(body) && body.length > 0 && body.every(Array.isArray);
  const list = pipeline ? (body as unknown[]) : [body];
  const commands = list.map(jsonToArgs);
  if (commands.some((a) => a === null)) return jsonBody(c, { error: "ERR a command is a non-empty array of strings" }, 400);
  const word = (s: string) => utf8.encode(s);
  const toRun = transaction ? [[word("MULTI")], ...(commands as Uint8Array[][]), [word("EXEC")]] : (commands as Uint8Array[][]);
  const done = await runCommands(gw, c, access, toRun);
  if (done === null) return jsonBody(c, { error: "ERR max number of clients reached" }, 503);
  const replies = done.replies;
  const base64 = c.req.query("encoding") === "base64";
  const one = (v: RespValue): Json => (v instanceof ReplyError ? { error: v.message } : { result: toJson(v, base64) });
  if (transaction) {
    const exec = replyAt(replies, toRun.length - 1);
    const queued = replies.slice(1, -1).find((r) => r instanceof ReplyError) as ReplyError | undefined;
    const failed = exec instanceof ReplyError ? exec : null;
    return jsonBody(c, failed ? { error: failed.message, ...(queued ? { cause: queued.message } : {}) } : one(exec), failed ? errorStatus(queued ?? failed) : 200);
  }
  if (pipeline) return jsonBody(c, replies.map(one));
  const value = replyAt(replies, 0);
  return jsonBody(c, one(value), value instanceof ReplyError ? errorStatus(value) : 200);
}

export function buildApp(gw: Gateway): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  // A body that stops arriving (the browser left) or cannot be read fails its request alone: a 400, logged at
  // verbose like Redis's protocol errors, not a stack trace per request from Hono's default handler.
  app.onError((e, c) => {
    if (e instanceof BodyTooLarge) return jsonBody(c, { error: "ERR request body larger than gateway-max-frame" }, 413);
    gw.engine.log("verbose", `Gateway: bad request from ${c.env?.remoteAddress ?? "?"}: ${e.message}`);
    return jsonBody(c, { error: "ERR bad request" }, 400);
  });
  app.use("*", async (c, next) => {
    const origin = c.req.header("origin");
    if (!gw.originAllowed(origin, new URL(c.req.url))) return jsonBody(c, { error: "origin not allowed" }, 403);
    if (c.req.method === "OPTIONS") {
      return c.body(null, 204, {
        "Access-Control-Allow-Origin": origin ?? "*",
        "Access-Control-Allow-Methods": "GET, HEAD, PUT, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, Last-Event-ID",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
      });
    }
    await next();
    if (origin) {
      c.res.headers.set("Access-Control-Allow-Origin", origin);
      c.res.headers.append("Vary", "Origin");
    }
  });
  app.get("/", (c) => c.html(DEMO_HTML));
  app.get("/client.js", (c) => c.body(CLIENT_JS, 200, { "Content-Type": "application/javascript; charset=utf-8" }));
  app.get("/ws", (c) => jsonBody(c, { error: "WebSocket upgrade expected" }, 426));
  app.get("/subscribe/:name", (c) => serveSse(gw, c, "SUBSCRIBE", requestAccess(gw, c)));
  app.get("/psubscribe/:name", (c) => serveSse(gw, c, "PSUBSCRIBE", requestAccess(gw, c)));
  app.post("/", (c) => jsonCommands(gw, c, false));
  app.post("/multi", (c) => jsonCommands(gw, c, true));
  app.get("/*", (c) => urlCommand(gw, c, null));
  app.put("/*", async (c) => urlCommand(gw, c, await readBody(gw, c)));
  return app;
}

export { jsonBody };
