/**
 * Helpers for the gateway tests: a Respite server with its gateway on a
 * free port, and a WebSocket client (the `ws` package) for the json and
 * resp3 protocols that collects frames and waits for them.
 */
import assert from "node:assert/strict";
import WebSocket from "ws";
import { decodeAt, type RespValue } from "../../core/resp/decoder.ts";
import { freePort, type Runtime, type ServerHandle, startRespite } from "./servers.ts";
import type { RawConnection } from "./raw.ts";

export interface GatewayServer {
  server: ServerHandle;
  /** http://127.0.0.1:<gateway-port> */
  base: string;
  wsUrl: string;
  stop(): Promise<void>;
}

export async function startGateway(rt: Runtime, extra: string[] = []): Promise<GatewayServer> {
  const port = await freePort();
  const server = await startRespite(rt, ["--gateway-port", String(port), ...extra]);
  const base = `http://127.0.0.1:${port}`;
  // The gateway listens right after the RESP port: wait until it answers.
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(base + "/PING");
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { server, base, wsUrl: `ws://127.0.0.1:${port}/ws`, stop: () => server.stop() };
}

/** A WebSocket that queues what it receives and lets a test wait for the next frames. */
export class WsClient {
  readonly frames: Array<string | Buffer> = [];
  private pendingBytes = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closeCode: number | null = null;
  closeReason = "";

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.frames.push(isBinary ? data : data.toString("utf8"));
      this.wake();
    });
    ws.on("close", (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.wake();
    });
    ws.on("error", () => {});
  }

  static open(url: string, protocols?: string | string[], headers: Record<string, string> = {}): Promise<WsClient> {
    const ws = new WebSocket(url, protocols, { headers });
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new WsClient(ws)));
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once("error", reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until(ready: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}; have ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Takes the next n frames. */
  async take(n = 1): Promise<Array<string | Buffer>> {
    await this.until(() => this.frames.length >= n, `${n} frames`);
    return this.frames.splice(0, n);
  }

  /** Takes the next n frames as JSON. */
  async json(n = 1): Promise<any[]> {
    return (await this.take(n)).map((f) => JSON.parse(String(f)));
  }

  /** Sends a json-protocol command and returns the reply frame (pushes before it are kept). */
  async call(command: unknown[], extra: Record<string, unknown> = {}): Promise<any> {
    const id = Math.floor(Math.random() * 1e9);
    this.ws.send(JSON.stringify({ id, command, ...extra }));
    let found: any;
    await this.until(() => {
      const i = this.frames.findIndex((f) => typeof f === "string" && JSON.parse(f).id === id && !JSON.parse(f).push);
      if (i >= 0) found = JSON.parse(String(this.frames.splice(i, 1)[0]));
      return i >= 0;
    }, `reply ${id}`);
    return found;
  }

  /** Resp3: sends bytes and waits until the concatenated binary frames equal expected's length. */
  async resp(send: string, expectedLength: number): Promise<string> {
    this.ws.send(Buffer.from(send, "latin1"));
    let got = "";
    await this.until(() => {
      while (this.frames.length && got.length < expectedLength) got += Buffer.from(this.frames.shift() as Buffer).toString("latin1");
      return got.length >= expectedLength;
    }, `${expectedLength} bytes`);
    return got;
  }

  /**
   * Resp3: the next n values of the binary stream, bulk strings as text and
   * pushes as arrays; a value preceded by an attribute comes with it (attrs).
   */
  async values(n: number): Promise<Resp3Item[]> {
    const items: Resp3Item[] = [];
    await this.until(() => {
      items.push(...this.buffered(n - items.length));
      return items.length >= n;
    }, `${n} RESP3 values`);
    return items;
  }

  /** Resp3: up to max complete values already received, without waiting. */
  buffered(max = Infinity): Resp3Item[] {
    while (this.frames.length && typeof this.frames[0] !== "string") {
      this.pendingBytes = Buffer.concat([this.pendingBytes, this.frames.shift() as Buffer]);
    }
    const items: Resp3Item[] = [];
    for (let r = readItem(this.pendingBytes); r !== null && items.length < max; r = readItem(this.pendingBytes)) {
      items.push(r[0]);
      this.pendingBytes = this.pendingBytes.subarray(r[1]);
    }
    return items;
  }

  async noMoreValues(): Promise<void> {
    this.ws.send(Buffer.from("*1\r\n$4\r\nPING\r\n"));
    assert.deepEqual(await this.values(1), [{ attrs: null, value: "PONG" }]);
  }

  async closed(timeoutMs = 10_000): Promise<number> {
    await this.until(() => this.closeCode !== null, "close", timeoutMs);
    return this.closeCode!;
  }

  close(): void {
    this.ws.terminate();
  }
}

export interface Resp3Item {
  attrs: Record<string, unknown> | null;
  value: unknown;
}

/** RESP values with bulk strings as text, so tests can deepEqual them. */
function plain(v: RespValue): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("latin1");
  if (Array.isArray(v)) return Array.from(v, plain);
  return v;
}

/** One top-level value (with its attribute, if any) from buf, and where it ends; null when incomplete. */
function readItem(buf: Buffer): [Resp3Item, number] | null {
  let attrs: Record<string, unknown> | null = null;
  let pos = 0;
  if (buf[0] === 0x7c) { // |
    const eol = buf.indexOf("\r\n");
    if (eol < 0) return null;
    attrs = {};
    pos = eol + 2;
    for (let i = Number(buf.subarray(1, eol).toString()); i > 0; i--) {
      const k = decodeAt(buf, pos);
      const v = k && decodeAt(buf, k[1]);
      if (!v) return null;
      attrs[plain(k[0]) as string] = plain(v[0]);
      pos = v[1];
    }
  }
  const r = decodeAt(buf, pos);
  return r === null ? null : [{ attrs, value: plain(r[0]) }, r[1]];
}

/** Waits until PUBSUB NUMSUB reports n subscribers of channel. */
export async function waitSubscribers(resp: RawConnection, channel: string, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const r = (await resp.call("PUBSUB", "NUMSUB", channel)).toString();
    if (r.endsWith(`:${n}\r\n`)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${channel} never had ${n} subscribers`);
}

/**
 * The recovery scenario both WebSocket protocols must pass: 300 messages
 * are published on kill:1 over resp while the subscribed browser socket is
 * killed four times at staggered moments; each killed socket is drained
 * before the next one connects (and resumes). Returns a fresh connection
 * once everything was published. The server's history must keep all 300
 * (`kill:* 1000 600`): this tests for gaps and repeats, not the history's
 * cap, and on a loaded machine a reconnect may span many messages.
 */
export async function publishThroughKills(
  resp: RawConnection,
  admin: RawConnection,
  connect: () => Promise<{ ws: WsClient; id: number }>,
  drain: (ws: WsClient) => void,
): Promise<WsClient> {
  let first: { ws: WsClient; id: number } | null = await connect();
  let sent = 0;
  const publisher = (async () => {
    while (sent < 300) {
      await resp.call("PUBLISH", "kill:1", String(++sent));
      if (sent % 7 === 0) await new Promise((r) => setTimeout(r, 1));
    }
  })();
  for (let round = 0; round < 4; round++) {
    const { ws, id } = first ?? await connect();
    first = null;
    await new Promise((r) => setTimeout(r, 20 + round * 15));
    await admin.call("CLIENT", "KILL", "ID", String(id));
    await ws.closed();
    drain(ws);
  }
  await publisher;
  return (await connect()).ws;
}

