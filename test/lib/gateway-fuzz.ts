/**
 * The gateway fuzzer behind bench/fuzz-protocol.ts --gateway and
 * fuzz.test.ts: raw TCP connections send the gateway random HTTP requests
 * (paths with bad escapes and NULs, random methods and headers, bodies of
 * invalid JSON, invalid UTF-8, deep nesting, a few MB) and WebSocket
 * sessions written frame by frame (invalid UTF-8 and JSON, fragmented
 * messages with pings between the pieces, frames over gateway-max-frame,
 * unmasked frames, reserved bits, unknown opcodes, lying lengths, sessions
 * cut mid-frame), while a json WebSocket client and an HTTP client with
 * full access run a known workload and check every reply. Fuzzing
 * connections use a token with full access half the time, so their
 * commands run too.
 */
import * as net from "node:net";
import WebSocket from "ws";
import { FuzzInputs } from "./fuzz-inputs.ts";
import { GoodClientError } from "./protocol-fuzz.ts";

export interface GatewayFuzzOptions {
  /** The gateway's port. */
  port: number;
  inputs: number;
  seed: number;
  /** The tokens the server was started with (gateway-tokens): good clients use goodToken, fuzzers fuzzToken half the time. */
  goodToken: string;
  fuzzToken: string;
  /** The server's gateway-max-frame: some frames are sent just over it. */
  maxFrame: number;
  concurrency?: number;
  progress?(report: GatewayFuzzReport): void;
}

export interface GatewayFuzzReport {
  /** HTTP requests and WebSocket frames sent. */
  inputs: number;
  httpRequests: number;
  wsSessions: number;
  wsFrames: number;
  bytesSent: number;
  goodCommands: number;
  goodMaxMs: number;
  seconds: number;
}

const METHODS = ["GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "PATCH", "G\0T", "get", "CONNECT", "X".repeat(300)];
const PATH_WORDS = ["PING", "GET", "SET", "INCR", "ECHO", "HGETALL", "LRANGE", "SUBSCRIBE", "ws", "multi", "client.js", "subscribe", "psubscribe", "0", "15", "99", ""];
const SUFFIXES = ["", ".json", ".raw", ".txt", ".png", ".bin", ".", ".json.raw"];

/** Random HTTP: a request line, headers and a body, sometimes malformed at any of the three. */
class HttpInputs {
  constructor(private readonly g: FuzzInputs, private readonly port: number, private readonly token: string) {}

  private segment(): string {
    const g = this.g;
    const r = g.random();
    if (r < 0.5) return g.pick(PATH_WORDS) + (g.chance(0.2) ? g.pick(SUFFIXES) : "");
    if (r < 0.8) return "fz:" + g.int(10);
    if (r < 0.9) return Array.from(g.bytes(1 + g.int(12)), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
    return g.pick(["%", "%g0", "%0", "%00", "..", ".", "%2F", "%FF%FE", "\u00e9", "a b", "?", "#", "x".repeat(5000)]);
  }

  private body(): string {
    const g = this.g;
    const cmd = () => JSON.stringify(g.command().map((a) => (g.chance(0.1) ? { base64: Buffer.from(a, "latin1").toString("base64") } : a)));
    const r = g.random();
    if (r < 0.3) return cmd();
    if (r < 0.45) return `[${Array.from({ length: 1 + g.int(5) }, cmd).join(",")}]`;
    if (r < 0.55) return JSON.stringify({ command: g.command(), id: g.int(100) });
    if (r < 0.7) return g.mutate(cmd());
    if (r < 0.8) return g.bytes(1 + g.int(200));
    if (r < 0.85) return "[".repeat(1 + g.int(100_000));
    if (r < 0.9) return g.pick(["", "null", "[]", "[[]]", "{}", "1", "\"x\"", "[1e400]", "[{\"base64\": \"!!\"}]", "[null]", "[true]", "\"\\ud800\""]);
    if (r < 0.999) return JSON.stringify(["SET", "fz:" + g.int(10), g.bytes(10)]).replace(/\\u00([0-9a-f]{2})/g, (_m, h) => String.fromCharCode(parseInt(h, 16)));
    return "x".repeat(1_000_000 + g.int(3_000_000));
  }

  /** One request's bytes; the body's stated length sometimes lies, or comes chunked, or broken. */
  request(): string {
    const g = this.g;
    const method = g.chance(0.9) ? g.pick(["GET", "POST", "PUT", "GET", "POST"]) : g.pick(METHODS);
    let path = "/" + Array.from({ length: g.int(4) }, () => this.segment()).join("/");
    if (g.chance(0.2)) path += "?" + g.pick(["encoding=base64", `token=${this.token}`, "token=nope", "since=0-0", "a=%zz", "&&=="]);
    const headers = [`Host: 127.0.0.1:${this.port}`];
    if (g.chance(0.5)) headers.push(`Authorization: Bearer ${this.token}`);
    if (g.chance(0.1)) headers.push(`Origin: ${g.pick(["http://evil.example", `http://127.0.0.1:${this.port}`, "null", ""])}`);
    if (g.chance(0.05)) headers.push(g.pick(["X-Bad\0Header: 1", "Content-Type: application/json; charset=latin1", "Expect: 100-continue", "Last-Event-ID: 99-99", ": empty"]));
    const body = method === "GET" || method === "HEAD" ? (g.chance(0.05) ? this.body() : "") : this.body();
    const framing = g.random();
    if (framing < 0.1 && body) {
      headers.push("Transfer-Encoding: chunked");
      const chunks = body.match(/[\s\S]{1,1000}/g) ?? [];
      const chunked = chunks.map((c) => `${(g.chance(0.05) ? c.length + 3 : c.length).toString(16)}\r\n${c}\r\n`).join("") + (g.chance(0.9) ? "0\r\n\r\n" : "");
      return `${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n${chunked}`;
    }
    const length = framing < 0.15 ? body.length + g.int(20) - 10 : body.length;
    if (body || method !== "GET") headers.push(`Content-Length: ${Math.max(0, length)}`);
    if (g.chance(0.02)) return g.mutate(`${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`) + body;
    return `${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n${body}`;
  }
}

/** A WebSocket frame as a client sends it (masked unless told otherwise). */
function frame(opcode: number, payload: Buffer, o: { fin?: boolean; rsv?: number; masked?: boolean; lieLength?: bigint } = {}): Buffer {
  const fin = o.fin ?? true;
  const masked = o.masked ?? true;
  const len = o.lieLength ?? BigInt(payload.length);
  const head: number[] = [(fin ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode];
  const m = masked ? 0x80 : 0;
  if (len < 126n) head.push(m | Number(len));
  else if (len < 65536n) head.push(m | 126, Number(len >> 8n), Number(len & 255n));
  else {
    head.push(m | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((len >> shift) & 255n));
  }
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), key, body]);
}

/** Random frames for an open socket of either subprotocol. */
class WsInputs {
  constructor(private readonly g: FuzzInputs, private readonly maxFrame: number) {}

  private payload(json: boolean): Buffer {
    const g = this.g;
    if (!json) return Buffer.from(g.next(), "latin1");
    const r = g.random();
    if (r < 0.4) return Buffer.from(JSON.stringify({ id: g.int(1000), command: g.command() }), "latin1");
    if (r < 0.55) return Buffer.from(JSON.stringify(g.command()), "latin1");
    if (r < 0.75) return Buffer.from(g.mutate(JSON.stringify({ id: 1, command: g.command() })), "latin1");
    if (r < 0.85) return Buffer.from(g.bytes(1 + g.int(100)), "latin1");
    return Buffer.from(g.pick(["", "null", "[]", "{}", "{\"command\": null}", "[[]]", "\"x\"", "{\"id\": {}, \"command\": [\"PING\"], \"since\": 5}", "[".repeat(50_000)]));
  }

  /** One to a few frames: a whole message, a fragmented one (pings between), or a broken one. */
  frames(json: boolean): Buffer[] {
    const g = this.g;
    const opcode = json ? (g.chance(0.9) ? 1 : 2) : (g.chance(0.9) ? 2 : 1);
    const r = g.random();
    if (r < 0.6) return [frame(opcode, this.payload(json))];
    if (r < 0.75) {
      const p = this.payload(json);
      const cuts = [0, ...Array.from({ length: 1 + g.int(4) }, () => g.int(p.length + 1)).sort((a, b) => a - b), p.length];
      const out: Buffer[] = [];
      for (let i = 0; i + 1 < cuts.length; i++) {
        out.push(frame(i === 0 ? opcode : 0, p.subarray(cuts[i], cuts[i + 1]), { fin: i + 2 === cuts.length }));
        if (g.chance(0.3)) out.push(frame(9, Buffer.from("ping")));
      }
      return out;
    }
    if (r < 0.752) return [frame(opcode, Buffer.alloc(this.maxFrame + 1 + g.int(1000), 0x61))];
    if (r < 0.85) return [frame(9, Buffer.from(g.bytes(g.int(126))))];
    if (r < 0.88) return [frame(opcode, this.payload(json), { masked: false })];
    if (r < 0.91) return [frame(opcode, this.payload(json), { rsv: 1 + g.int(7) })];
    if (r < 0.94) return [frame(g.pick([3, 4, 5, 6, 7, 11, 12, 15]), this.payload(json))];
    if (r < 0.96) return [frame(0, this.payload(json))];
    if (r < 0.98) return [frame(opcode, Buffer.from("abc"), { lieLength: g.pick([2n ** 63n - 1n, 2n ** 32n, 70_000n, 126n]) })];
    return [frame(8, Buffer.from(g.bytes(g.int(10)), "latin1"))];
  }
}

/** Writes bytes to a fresh connection, reads and drops whatever comes back, and ends it one way or another. */
async function rawSession(port: number, g: FuzzInputs, write: (sock: net.Socket, closed: () => boolean) => Promise<void>): Promise<void> {
  const sock = net.connect(port, "127.0.0.1");
  let closed = false;
  sock.on("error", () => {});
  sock.on("close", () => (closed = true));
  sock.on("data", () => {});
  await new Promise<void>((resolve) => {
    sock.once("connect", resolve);
    sock.once("close", resolve);
  });
  if (!closed) await write(sock, () => closed);
  if (g.chance(0.5)) sock.end();
  else sock.destroy();
  // Let the server see the end before the next session starts, so sessions do not pile up unboundedly.
  await new Promise((r) => setTimeout(r, 0));
}

function writeAll(sock: net.Socket, bytes: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 2000);
    sock.write(bytes, () => (clearTimeout(t), resolve()));
  });
}

/** Waits for the HTTP response head; true when it says 101 Switching Protocols. */
function upgraded(sock: net.Socket, closed: () => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    let head = "";
    const t = setTimeout(() => done(false), 5000);
    const onData = (d: Buffer) => {
      head += d.toString("latin1");
      if (head.includes("\r\n\r\n")) done(head.startsWith("HTTP/1.1 101"));
    };
    const done = (ok: boolean) => {
      clearTimeout(t);
      sock.off("data", onData);
      sock.off("close", onClose);
      resolve(ok);
    };
    const onClose = () => done(false);
    sock.on("data", onData);
    sock.once("close", onClose);
    if (closed()) done(false);
  });
}

/** The good gateway clients: a json WebSocket and plain HTTP, with full access, each checking every reply. */
class GoodGatewayClient {
  commands = 0;
  maxMs = 0;
  private ws!: WebSocket;
  private readonly replies = new Map<number, (reply: unknown) => void>();
  private nextId = 1;
  private counter = 0;
  private readonly prefix = `good:gw:${Math.random().toString(36).slice(2, 8)}:`;

  constructor(private readonly port: number, private readonly token: string) {}

  async connect(): Promise<void> {
    this.ws = new WebSocket(`ws://127.0.0.1:${this.port}/ws?token=${this.token}`, "json");
    await new Promise<void>((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
    this.ws.on("message", (data: Buffer) => {
      const msg = JSON.parse(data.toString("utf8"));
      this.replies.get(msg.id)?.(msg);
      this.replies.delete(msg.id);
    });
    this.ws.on("error", () => {});
    this.ws.on("close", () => this.closed?.());
  }

  /** Fails the call waiting, when the server closes the socket. */
  private closed: (() => void) | null = null;

  private call(command: string[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new GoodClientError(`gateway WebSocket good client: no reply within 60 s to ${command[0]}`)), 60_000);
      this.closed = () => reject(new GoodClientError("gateway WebSocket good client: closed by the server"));
      if (this.ws.readyState !== WebSocket.OPEN) this.closed();
      this.replies.set(id, (reply) => (clearTimeout(t), resolve(reply)));
      this.ws.send(JSON.stringify({ id, command }));
    });
  }

  private static check(what: string, got: unknown, expected: unknown): void {
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      throw new GoodClientError(`gateway good client: ${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
    }
  }

  private async step(): Promise<void> {
    const started = performance.now();
    const n = this.counter;
    const k = this.prefix + (n % 10);
    const v = `value ${n} \u00e9\u4e2d`;
    GoodGatewayClient.check("SET over WebSocket", await this.call(["SET", k, v]), { id: this.nextId - 1, result: "OK" });
    GoodGatewayClient.check("GET over WebSocket", await this.call(["GET", k]), { id: this.nextId - 1, result: v });
    const res = await fetch(`http://127.0.0.1:${this.port}/INCR/${encodeURIComponent(this.prefix + "n")}`, { headers: { Authorization: `Bearer ${this.token}` } });
    GoodGatewayClient.check("INCR over HTTP", [res.status, await res.json()], [200, { INCR: ++this.counter }]);
    const post = await fetch(`http://127.0.0.1:${this.port}/`, { method: "POST", body: JSON.stringify(["GET", k]), headers: { Authorization: `Bearer ${this.token}` } });
    GoodGatewayClient.check("GET over HTTP POST", [post.status, await post.json()], [200, { result: v }]);
    this.commands += 4;
    this.maxMs = Math.max(this.maxMs, performance.now() - started);
  }

  async run(stop: () => boolean): Promise<void> {
    while (!stop()) await this.step();
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Runs the gateway fuzzers and the good gateway client until opts.inputs were sent; throws GoodClientError on a wrong or missing reply. */
export async function fuzzGateway(opts: GatewayFuzzOptions): Promise<GatewayFuzzReport> {
  const report: GatewayFuzzReport = { inputs: 0, httpRequests: 0, wsSessions: 0, wsFrames: 0, bytesSent: 0, goodCommands: 0, goodMaxMs: 0, seconds: 0 };
  const started = performance.now();
  const good = new GoodGatewayClient(opts.port, opts.goodToken);
  await good.connect();
  let done = false;
  let failure: unknown = null;
  const goodRun = good.run(() => done).catch((e) => {
    failure = e;
    done = true;
  });
  const g = new FuzzInputs(opts.seed);
  const token = () => (g.chance(0.5) ? opts.fuzzToken : g.pick(["", "nope", opts.goodToken + "x"]));
  const http = () =>
    rawSession(opts.port, g, async (sock, closed) => {
      const inputs = new HttpInputs(g, opts.port, token());
      // Several requests pipelined on one keep-alive connection, sometimes split mid-request.
      for (let n = 1 + g.int(4); n > 0 && !closed(); n--) {
        const req = inputs.request();
        report.inputs++;
        report.httpRequests++;
        report.bytesSent += req.length;
        const cut = g.chance(0.1) ? g.int(req.length) : req.length;
        await writeAll(sock, Buffer.from(req.slice(0, cut), "latin1"));
        if (cut < req.length) {
          await new Promise((r) => setTimeout(r, 1));
          await writeAll(sock, Buffer.from(req.slice(cut), "latin1"));
        }
      }
    });
  const ws = () =>
    rawSession(opts.port, g, async (sock, closed) => {
      const protocol = g.pick(["json", "resp3", "json", "resp3", "", "bogus", "json, resp3", `token.${token()}`]);
      const query = g.chance(0.5) ? `?token=${token()}` : g.chance(0.1) ? "?encoding=base64" : "";
      const head = `GET /ws${query} HTTP/1.1\r\nHost: 127.0.0.1:${opts.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${Buffer.from(g.bytes(16), "latin1").toString("base64")}\r\nSec-WebSocket-Version: 13\r\n` +
        (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : "") + (g.chance(0.1) ? "Origin: http://evil.example\r\n" : "") + "\r\n";
      report.wsSessions++;
      await writeAll(sock, head);
      if (!(await upgraded(sock, closed))) return;
      const frames = new WsInputs(g, opts.maxFrame);
      const json = !protocol.startsWith("resp3");
      for (let n = 1 + g.int(40); n > 0 && !closed(); n--) {
        const out = frames.frames(json);
        report.inputs++;
        report.wsFrames += out.length;
        for (const f of out) {
          report.bytesSent += f.length;
          // A frame cut short now and then: the session ends mid-frame.
          if (g.chance(0.01)) return void (await writeAll(sock, f.subarray(0, g.int(f.length))));
          await writeAll(sock, f);
        }
      }
    });
  let nextProgress = 10_000;
  const worker = async () => {
    while (!done && report.inputs < opts.inputs) {
      await (g.chance(0.5) ? http() : ws());
      if (report.inputs >= nextProgress) {
        nextProgress += 10_000;
        opts.progress?.(summary());
      }
    }
  };
  const summary = (): GatewayFuzzReport => ({
    ...report,
    goodCommands: good.commands,
    goodMaxMs: Math.round(good.maxMs),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  });
  try {
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  } finally {
    done = true;
    await goodRun;
    good.close();
  }
  if (failure) throw failure;
  return summary();
}
