/**
 * The protocol fuzzer behind bench/fuzz-protocol.ts and fuzz.test.ts:
 * fuzzing connections stream FuzzInputs at a server (many requests per
 * write, frames split across writes, sessions that end by FIN, by reset or
 * mid-frame, some that never read their replies) while two good clients,
 * one RESP2 and one RESP3, run a known workload and check every reply byte
 * for byte against a model of their own keys. Whatever the fuzzers do, the
 * good clients must keep getting exactly the right answers.
 */
import * as net from "node:net";
import { FuzzInputs } from "./fuzz-inputs.ts";
import { rng } from "./diff.ts";
import { RawConnection } from "./raw.ts";
import { decodeAt } from "../../core/resp/decoder.ts";

export interface FuzzOptions {
  port: number;
  host?: string;
  /** Requests to send in all. */
  inputs: number;
  seed: number;
  /** Fuzzing connections open at once. */
  concurrency?: number;
  /** Called about every 100,000 inputs. */
  progress?(report: FuzzReport): void;
}

export interface FuzzReport {
  inputs: number;
  bytesSent: number;
  bytesReceived: number;
  sessions: number;
  /** Sessions the server ended (protocol errors, QUIT). */
  serverClosed: number;
  /** Good clients' commands answered, all checked. */
  goodCommands: number;
  /** Slowest good-client batch, ms. */
  goodMaxBatchMs: number;
  seconds: number;
}

/** A good client's reply was wrong, or never came (the server hung or died). */
export class GoodClientError extends Error {}

const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;
const int = (n: number) => `:${n}\r\n`;

/**
 * A client with a known workload over its own keys: every command's reply
 * is predicted from a model, and the bytes received must be exactly those.
 */
export class GoodClient {
  commands = 0;
  maxBatchMs = 0;
  private sock!: net.Socket;
  private received = "";
  private waiter: (() => void) | null = null;
  private closed = false;
  private readonly random: () => number;
  private readonly prefix: string;
  private readonly strings = new Map<string, string>();
  private counter = 0;
  private list: string[] = [];
  private readonly hash = new Map<string, string>();
  private readonly set = new Set<string>();
  private readonly zset = new Map<string, number>();
  private i = 0;

  constructor(private readonly port: number, private readonly host: string, private readonly resp: 2 | 3, seed: number) {
    this.random = rng(seed);
    // Its own keys each run, so a server that served an earlier run still starts this one empty.
    this.prefix = `good:${seed.toString(36)}:${resp}:${Math.random().toString(36).slice(2, 8)}:`;
  }

  async connect(): Promise<void> {
    this.sock = net.connect(this.port, this.host);
    this.sock.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      this.sock.once("connect", resolve);
      this.sock.once("error", reject);
    });
    this.sock.setEncoding("latin1");
    this.sock.on("data", (d: string) => {
      this.received += d;
      this.waiter?.();
    });
    this.sock.on("error", () => {});
    this.sock.on("close", () => {
      this.closed = true;
      this.waiter?.();
    });
    if (this.resp === 3) {
      this.sock.write("HELLO 3\r\nPING\r\n", "latin1");
      await this.until(() => /^%\d+\r\n/.test(this.received) && this.received.endsWith("+PONG\r\n"), "HELLO 3");
      this.received = "";
    }
    await this.batch([[["DEL", this.key("n"), this.key("l"), this.key("h"), this.key("s"), this.key("z")], int(0)]]);
  }

  private key(name: string): string {
    return this.prefix + name;
  }

  private nil(): string {
    return this.resp === 3 ? "_\r\n" : "$-1\r\n";
  }

  private array(items: string[], head = "*"): string {
    return `${head}${items.length}\r\n${items.join("")}`;
  }

  /** A value with bytes that must come back intact: CR, LF, NUL, high bytes. */
  private value(): string {
    let s = `v${this.i}:`;
    for (let n = Math.floor(this.random() * 12); n > 0; n--) s += String.fromCharCode(Math.floor(this.random() * 256));
    return s;
  }

  /** One command of the workload and the exact reply it must get, updating the model. */
  private step(): [string[], string] {
    const i = ++this.i;
    const pickKey = () => this.key("s" + Math.floor(this.random() * 50));
    switch (i % 14) {
      case 0: {
        const k = pickKey();
        const v = this.value();
        this.strings.set(k, v);
        return [["SET", k, v], "+OK\r\n"];
      }
      case 1: {
        const k = pickKey();
        const v = this.strings.get(k);
        return [["GET", k], v === undefined ? this.nil() : bulk(v)];
      }
      case 2:
        return [["INCR", this.key("n")], int(++this.counter)];
      case 3: {
        this.list.push(this.value());
        return [["RPUSH", this.key("l"), this.list[this.list.length - 1]], int(this.list.length)];
      }
      case 4: {
        if (this.list.length > 40) {
          this.list = this.list.slice(-20);
          return [["LTRIM", this.key("l"), "-20", "-1"], "+OK\r\n"];
        }
        return [["LRANGE", this.key("l"), "0", "2"], this.array(this.list.slice(0, 3).map(bulk))];
      }
      case 5: {
        const f = "f" + (i % 17);
        const had = this.hash.has(f);
        this.hash.set(f, this.value());
        return [["HSET", this.key("h"), f, this.hash.get(f)!], int(had ? 0 : 1)];
      }
      case 6: {
        const f = "f" + Math.floor(this.random() * 20);
        const v = this.hash.get(f);
        return [["HGET", this.key("h"), f], v === undefined ? this.nil() : bulk(v)];
      }
      case 7: {
        const m = "m" + (i % 23);
        const had = this.set.has(m);
        this.set.add(m);
        return [["SADD", this.key("s"), m], int(had ? 0 : 1)];
      }
      case 8:
        return [["SCARD", this.key("s")], int(this.set.size)];
      case 9: {
        const m = "z" + (i % 19);
        const had = this.zset.has(m);
        this.zset.set(m, i);
        return [["ZADD", this.key("z"), String(i), m], int(had ? 0 : 1)];
      }
      case 10: {
        const m = "z" + Math.floor(this.random() * 21);
        const s = this.zset.get(m);
        if (s === undefined) return [["ZSCORE", this.key("z"), m], this.nil()];
        return [["ZSCORE", this.key("z"), m], this.resp === 3 ? `,${s}\r\n` : bulk(String(s))];
      }
      case 11: {
        const k = pickKey();
        const had = this.strings.delete(k);
        return [["DEL", k], int(had ? 1 : 0)];
      }
      case 12: {
        const v = this.value();
        return [["ECHO", v], bulk(v)];
      }
      default: {
        const fields = [...this.hash].flatMap(([f, v]) => [bulk(f), bulk(v)]);
        return [["HGETALL", this.key("h")], this.resp === 3 ? `%${this.hash.size}\r\n${fields.join("")}` : this.array(fields)];
      }
    }
  }

  private until(ready: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new GoodClientError(`${this.resp === 3 ? "RESP3" : "RESP2"} good client: no reply within ${timeoutMs} ms to ${what}; have ${JSON.stringify(this.received.slice(0, 300))}`));
      }, timeoutMs);
      const check = () => {
        if (ready()) {
          clearTimeout(timer);
          this.waiter = null;
          resolve();
        } else if (this.closed) {
          clearTimeout(timer);
          this.waiter = null;
          reject(new GoodClientError(`${this.resp === 3 ? "RESP3" : "RESP2"} good client: connection closed by the server during ${what}`));
        }
      };
      this.waiter = check;
      check();
    });
  }

  private async batch(cmds: Array<[string[], string]>): Promise<void> {
    const started = performance.now();
    const expected = cmds.map((c) => c[1]).join("");
    this.sock.write(cmds.map((c) => {
      let s = `*${c[0].length}\r\n`;
      for (const a of c[0]) s += bulk(a);
      return s;
    }).join(""), "latin1");
    await this.until(() => this.received.length >= expected.length, `${cmds.length} commands from ${cmds[0][0][0]}`);
    const got = this.received.slice(0, expected.length);
    this.received = this.received.slice(expected.length);
    if (got !== expected || this.received.length !== 0) {
      const at = [...expected].findIndex((ch, k) => got[k] !== ch);
      throw new GoodClientError(
        `${this.resp === 3 ? "RESP3" : "RESP2"} good client: wrong reply at byte ${at}: expected ${JSON.stringify(expected.slice(Math.max(0, at - 40), at + 60))}, ` +
          `got ${JSON.stringify((got + this.received).slice(Math.max(0, at - 40), at + 60))}`,
      );
    }
    this.commands += cmds.length;
    this.maxBatchMs = Math.max(this.maxBatchMs, performance.now() - started);
  }

  /** Runs batches of 1 to 32 commands (a MULTI/EXEC now and then) until stop() says so. */
  async run(stop: () => boolean): Promise<void> {
    while (!stop()) {
      const cmds: Array<[string[], string]> = [];
      const n = this.random() < 0.3 ? 1 : 1 + Math.floor(this.random() * 32);
      for (let k = 0; k < n; k++) cmds.push(this.step());
      if (this.random() < 0.05) {
        cmds.push([["MULTI"], "+OK\r\n"], [["INCR", this.key("n")], "+QUEUED\r\n"], [["EXEC"], `*1\r\n${int(++this.counter)}`]);
      }
      await this.batch(cmds);
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

/**
 * One fuzzing connection: sends up to budget inputs, a few per write,
 * sometimes split mid-request across writes, then ends with a FIN, a reset
 * or a plain close, unless the server closed it first.
 */
async function session(opts: FuzzOptions, gen: FuzzInputs, budget: number, report: FuzzReport): Promise<void> {
  const sock = net.connect(opts.port, opts.host ?? "127.0.0.1");
  let closed = false;
  let wake: (() => void) | null = null;
  sock.on("error", () => {});
  sock.on("close", () => {
    closed = true;
    wake?.();
  });
  // A session that never reads leaves its replies to pile up in the server until it goes away.
  const reads = !gen.chance(0.03);
  sock.on("data", (d: Buffer) => {
    report.bytesReceived += d.length;
    if (!reads) sock.pause();
  });
  await new Promise<void>((resolve) => {
    sock.once("connect", resolve);
    sock.once("close", resolve);
  });
  report.sessions++;
  let left = budget;
  while (left > 0 && !closed) {
    const n = Math.min(left, 1 + gen.int(gen.chance(0.5) ? 4 : 24));
    let payload = "";
    for (let k = 0; k < n; k++) payload += gen.next();
    left -= n;
    report.inputs += n;
    report.bytesSent += payload.length;
    const pieces = gen.chance(0.15) ? 2 + gen.int(6) : 1;
    for (let p = 0; p < pieces && !closed; p++) {
      const from = Math.floor((payload.length * p) / pieces);
      const to = Math.floor((payload.length * (p + 1)) / pieces);
      const flushed = sock.write(Buffer.from(payload.slice(from, to), "latin1"));
      if (!flushed || pieces > 1) {
        // Wait for the kernel to take it (or, for a split frame, one turn of the loop) so pieces arrive apart.
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, flushed ? 1 : 2000);
          wake = () => (clearTimeout(t), resolve());
          if (!flushed) sock.once("drain", wake);
        });
        wake = null;
        if (!flushed && sock.writableLength > 0 && !closed) return void sock.destroy(); // the server stopped reading: give up on it
      }
    }
  }
  if (closed) {
    report.serverClosed++;
    return;
  }
  const ending = gen.pick(["fin", "reset", "destroy"]);
  if (ending === "fin") sock.end();
  else if (ending === "reset" && typeof sock.resetAndDestroy === "function") sock.resetAndDestroy();
  else sock.destroy();
}

/** Runs the fuzzers and the good clients until opts.inputs were sent; throws GoodClientError on any wrong or missing reply. */
export async function fuzzProtocol(opts: FuzzOptions): Promise<FuzzReport> {
  const host = opts.host ?? "127.0.0.1";
  const report: FuzzReport = { inputs: 0, bytesSent: 0, bytesReceived: 0, sessions: 0, serverClosed: 0, goodCommands: 0, goodMaxBatchMs: 0, seconds: 0 };
  const started = performance.now();
  const good = [new GoodClient(opts.port, host, 2, opts.seed), new GoodClient(opts.port, host, 3, opts.seed + 1)];
  await Promise.all(good.map((g) => g.connect()));
  let done = false;
  const goodRuns = Promise.all(good.map((g) => g.run(() => done)));
  // A good client's failure ends the fuzzing at once.
  let failure: unknown = null;
  goodRuns.catch((e) => {
    failure = e;
    done = true;
  });
  const gen = new FuzzInputs(opts.seed);
  let nextProgress = 100_000;
  const worker = async () => {
    while (!done && report.inputs < opts.inputs) {
      // Mostly short sessions (a bad request usually ends one), now and then a long one.
      const budget = gen.chance(0.9) ? 1 + gen.int(50) : 1 + gen.int(2000);
      await session(opts, gen, Math.min(budget, opts.inputs - report.inputs), report);
      if (report.inputs >= nextProgress) {
        nextProgress += 100_000;
        opts.progress?.(summary());
      }
    }
  };
  const summary = (): FuzzReport => ({
    ...report,
    goodCommands: good.reduce((n, g) => n + g.commands, 0),
    goodMaxBatchMs: Math.round(Math.max(...good.map((g) => g.maxBatchMs))),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  });
  try {
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  } finally {
    done = true;
    await goodRuns.catch(() => {});
    for (const g of good) g.close();
  }
  if (failure) throw failure;
  return summary();
}

/** INFO fields of one section, through conn. */
async function infoFields(conn: RawConnection, section: string): Promise<Map<string, string>> {
  const text = (await conn.call("INFO", section)).toString("latin1");
  return new Map(text.split("\r\n").filter((l) => l.includes(":") && !l.startsWith("#")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1)]));
}

export interface Aftermath {
  /** Clients still connected besides the one asking, once the fuzzers had left (0 when all were released). */
  lingering: number;
  /** Their CLIENT LIST lines. */
  lingeringClients: string[];
  /** Keys the fuzzers left, deleted before measuring. */
  fuzzKeys: number;
  rssBytes: number;
  usedMemory: number;
}

/** What the server reports about its memory now: RSS and used_memory. */
export async function memoryNow(port: number, host = "127.0.0.1"): Promise<{ rssBytes: number; usedMemory: number }> {
  const conn = await RawConnection.connect(port, host);
  try {
    const m = await infoFields(conn, "memory");
    return { rssBytes: Number(m.get("used_memory_rss")), usedMemory: Number(m.get("used_memory")) };
  } finally {
    conn.close();
  }
}

/**
 * After the fuzzers: waits (up to waitMs) until every fuzzing connection is
 * gone, deletes the keys they made in every db (all but the good clients'),
 * then waits until RSS is back under rssLimit, or waitMs passes; reports
 * what it found.
 */
export async function aftermath(port: number, rssLimit: number, waitMs = 30_000, host = "127.0.0.1"): Promise<Aftermath> {
  const conn = await RawConnection.connect(port, host);
  try {
    const deadline = Date.now() + waitMs;
    let lingering = 0;
    do {
      lingering = Number((await infoFields(conn, "clients")).get("connected_clients")) - 1;
      if (lingering > 0) await new Promise((r) => setTimeout(r, 100));
    } while (lingering > 0 && Date.now() < deadline);
    const lingeringClients = lingering <= 0 ? [] : (await conn.call("CLIENT", "LIST")).toString("latin1").split("\n").filter((l) => l.includes("addr=") && !l.includes("cmd=client|list"));
    let fuzzKeys = 0;
    for (let db = 0; db < 16; db++) {
      await conn.call("SELECT", db);
      let cursor = "0";
      do {
        const [next, keys] = decodeAt(await conn.call("SCAN", cursor, "COUNT", 1000), 0)![0] as [Uint8Array, Uint8Array[]];
        cursor = Buffer.from(next).toString("latin1");
        const doomed = keys.filter((k) => !Buffer.from(k).toString("latin1").startsWith("good:"));
        if (doomed.length) fuzzKeys += Number((await conn.call("DEL", ...doomed.map((k) => Buffer.from(k)))).toString("latin1").slice(1));
      } while (cursor !== "0");
    }
    let mem = await memoryNow(port, host);
    while (mem.rssBytes > rssLimit && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      mem = await memoryNow(port, host);
    }
    return { lingering, lingeringClients, fuzzKeys, ...mem };
  } finally {
    conn.close();
  }
}
