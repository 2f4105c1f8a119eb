/**
 * The browser client, served by the gateway at /client.js. It must stay
 * one self-contained class using only browser globals: the gateway serves
 * this class's own source text (RespiteClient.toString()), so nothing
 * outside it would exist in the browser.
 *
 *   const db = new RespiteClient({ token });
 *   await db.call("SET", "k", "v");
 *   db.subscribe("public:news", (message, meta) => ..., { since });
 *   db.on("recoveryfailed", ({ channel }) => ...);
 */

type Handler = (message: unknown, meta: { channel: string; id: string | null }) => void;
type Listener = (detail: unknown) => void;

interface Subscription {
  handler: Handler;
  /** The history id to resume from: the last message seen, or the position the subscription started at. */
  lastId: string | null;
}

interface Reply {
  id?: number;
  result?: unknown;
  error?: string;
  push?: unknown[];
  position?: string;
  recovered?: boolean;
}

export interface RespiteClientOptions {
  /** ws://host/ws by default, from the page's location. */
  url?: string;
  /** A gateway-tokens token. */
  token?: string;
  /** Reconnect delay bounds in ms (doubling from min up to max). */
  minDelay?: number;
  maxDelay?: number;
}

export class RespiteClient {
  url: string;
  ws: WebSocket | null = null;
  state: "connecting" | "open" | "closed" = "closed";
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private subs = new Map<string, Subscription>();
  private listeners = new Map<string, Listener[]>();
  private attempts = 0;
  private stopped = false;
  private minDelay: number;
  private maxDelay: number;

  constructor(options: RespiteClientOptions = {}) {
    const base = options.url ?? (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    this.url = options.token ? base + (base.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(options.token) : base;
    this.minDelay = options.minDelay ?? 250;
    this.maxDelay = options.maxDelay ?? 10000;
    this.connect();
  }

  /** Events: open, close, message (every push), recoveryfailed ({channel}), error. */
  on(event: string, fn: Listener): void {
    const list = this.listeners.get(event) ?? [];
    list.push(fn);
    this.listeners.set(event, list);
  }

  private emit(event: string, detail: unknown): void {
    for (const fn of this.listeners.get(event) ?? []) fn(detail);
  }

  /** Runs a command; resolves with its JSON result, rejects with the error text. */
  call(...args: Array<string | number>): Promise<unknown> {
    return this.send({ command: args.map(String) });
  }

  /** Subscribes (again after every reconnect, resuming after the last message seen). */
  subscribe(channel: string, handler: Handler, options: { since?: string } = {}): Promise<unknown> {
    this.subs.set(channel, { handler, lastId: options.since ?? null });
    return this.state === "open" ? this.resubscribe(channel) : Promise.resolve(null);
  }

  unsubscribe(channel: string): Promise<unknown> {
    this.subs.delete(channel);
    return this.state === "open" ? this.call("UNSUBSCRIBE", channel) : Promise.resolve(null);
  }

  close(): void {
    this.stopped = true;
    this.ws?.close();
  }

  private send(frame: { command: string[]; since?: string }): Promise<unknown> {
    if (this.state !== "open" || !this.ws) return Promise.reject(new Error("not connected"));
    const id = this.nextId++;
    const ws = this.ws;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, ...frame }));
    });
  }

  private resubscribe(channel: string): Promise<unknown> {
    const sub = this.subs.get(channel)!;
    const frame = sub.lastId === null ? { command: ["SUBSCRIBE", channel] } : { command: ["SUBSCRIBE", channel], since: sub.lastId };
    return this.send(frame).catch((e) => this.emit("error", e));
  }

  private connect(): void {
    this.state = "connecting";
    const ws = new WebSocket(this.url, "json");
    this.ws = ws;
    ws.onopen = () => {
      this.state = "open";
      this.attempts = 0;
      this.emit("open", null);
      for (const channel of this.subs.keys()) this.resubscribe(channel);
    };
    ws.onmessage = (ev) => this.received(JSON.parse(String(ev.data)) as Reply);
    ws.onclose = (ev) => {
      this.state = "closed";
      this.ws = null;
      for (const p of this.pending.values()) p.reject(new Error("connection lost"));
      this.pending.clear();
      this.emit("close", { code: ev.code, reason: ev.reason });
      if (this.stopped) return;
      const delay = Math.min(this.maxDelay, this.minDelay * 2 ** this.attempts++);
      setTimeout(() => this.connect(), delay * (0.75 + Math.random() / 2));
    };
  }

  private received(reply: Reply): void {
    if (reply.push) return this.pushed(reply.push, reply.id === undefined ? null : String(reply.id));
    const waiter = reply.id === undefined ? undefined : this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id!);
    if (reply.error !== undefined) return waiter.reject(new Error(reply.error));
    const first = Array.isArray(reply.result) && Array.isArray(reply.result[0]) ? reply.result[0] : null;
    if (first && first[0] === "subscribe") {
      const sub = this.subs.get(String(first[1]));
      if (sub && reply.recovered === false) this.emit("recoveryfailed", { channel: first[1] });
      if (sub && reply.position !== undefined && (reply.recovered !== true || sub.lastId === null)) sub.lastId = reply.position;
    }
    waiter.resolve(reply.result);
  }

  private pushed(push: unknown[], id: string | null): void {
    this.emit("message", push);
    if (push[0] !== "message") return;
    const channel = String(push[1]);
    const sub = this.subs.get(channel);
    if (!sub) return;
    if (id !== null) sub.lastId = id;
    sub.handler(push[2], { channel, id });
  }
}
