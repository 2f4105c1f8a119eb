/**
 * Respite's public API.
 *
 *   import { startServer } from "./mod.ts";
 *   const server = await startServer({ port: 6379 });
 *
 *   import { createEngine } from "./mod.ts";
 *   const db = createEngine();
 *   db.call("SET", "k", "v"); // "OK", no sockets involved
 */
import { Engine, type EngineOptions } from "./core/server/engine.ts";
import { Config } from "./core/config/config.ts";
import { decodeAt, decodeReplies, encodeCommand, type RespValue } from "./core/resp/decoder.ts";
import type { Client } from "./core/server/client.ts";
import { startServer as start, type RunningServer } from "./adapters/server.ts";
import { loadLua } from "./core/scripting/lua.ts";
import { concat } from "./core/util/bytes.ts";

export { Config, Engine };
export type { RespValue, RunningServer };
export { ReplyError, RespBigNumber, RespMap, RespPush, RespSet, RespVerbatim } from "./core/resp/decoder.ts";

/** Directives as an object: { port: 6380, "maxmemory-policy": "allkeys-lru" }. */
export type Directives = Record<string, string | number | boolean>;

function configFrom(directives: Directives): Config {
  const config = new Config();
  const pairs = Object.entries(directives).map(
    ([k, v]): [string, string] => [k, typeof v === "boolean" ? (v ? "yes" : "no") : String(v)],
  );
  const err = config.setMany(pairs, false);
  if (err) throw new Error(err);
  return config;
}

/** Starts a server listening like redis-server would with these directives. */
export function startServer(directives: Directives = {}): Promise<RunningServer> {
  return start({ config: configFrom(directives) });
}

type Arg = string | number | Uint8Array;

/** One connection to an embedded engine: its reply bytes, and the replies still owed to callAsync() or a call() given up on. */
class Session {
  readonly client: Client;
  private pending: Uint8Array[] = [];
  /** A resolver per reply to come, in order; null for a reply nobody waits for any more. */
  private owed: Array<((v: RespValue) => void) | null> = [];

  constructor(engine: Engine) {
    this.client = engine.connect({
      write: (bytes) => this.received(bytes),
      pendingBytes: () => 0,
      close: () => {},
      remoteAddress: "embedded:0",
      localAddress: "embedded:0",
      kind: "embedded",
      immediate: true,
    })!;
  }

  /** Waiting for a script past busy-reply-threshold: what this session sends waits behind it. */
  get busy(): boolean {
    return this.owed.length !== 0;
  }

  /**
   * Runs a command, or queues it behind the suspended script. True when its
   * reply is ready for take(); false when it is owed to `then` (null: dropped).
   */
  send(args: Arg[], then: ((v: RespValue) => void) | null): boolean {
    const queued = this.busy;
    if (queued) this.owed.push(then);
    this.client.engine.onData(this.client, encodeCommand(args));
    if (queued) return false;
    if (!this.client.inBusyScript) return true;
    this.owed.push(then);
    return false;
  }

  /** The reply of a command that ran to its end. */
  take(): RespValue {
    const bytes = this.pending.length === 1 ? this.pending[0] : concat(this.pending);
    this.pending = [];
    return decodeReplies(bytes).values[0];
  }

  private received(bytes: Uint8Array): void {
    this.pending.push(bytes);
    while (this.owed.length !== 0) {
      const all = concat(this.pending);
      const decoded = decodeAt(all, 0);
      // Part of a reply (an EXEC array up to its suspended script) waits for the rest.
      if (decoded === null) return void (this.pending = [all]);
      this.pending = decoded[1] < all.length ? [all.subarray(decoded[1])] : [];
      this.owed.shift()?.(decoded[0]);
    }
  }
}

/**
 * An engine in this process, driven by call() with no sockets.
 *
 * A script (or an EXEC holding one) still running after busy-reply-threshold
 * is suspended as for a socket client, so the engine keeps serving: call()
 * then throws, the script goes on from timers, and its reply is dropped.
 * Until it ends, call() answers as a second client of the server would:
 * BUSY, except for SCRIPT KILL, FUNCTION KILL and SHUTDOWN NOSAVE. callAsync()
 * runs commands in order behind the script, as pipelined on one connection,
 * and waits for their replies: the way to run scripts that may take long.
 */
export class EmbeddedEngine {
  readonly engine: Engine;
  private main: Session;
  /** The connection call() uses while main waits for a suspended script. */
  private aside: Session | null = null;

  constructor(directives: Directives = {}, opts: Omit<EngineOptions, "config"> = {}) {
    this.engine = new Engine({ ...opts, config: configFrom(directives) });
    this.engine.start();
    this.main = new Session(this.engine);
  }

  /** Runs one command and returns its decoded reply (bulk strings as Uint8Array). */
  callRaw(...args: Arg[]): RespValue {
    const session = this.main.busy ? (this.aside ??= new Session(this.engine)) : this.main;
    if (!session.send(args, null)) {
      throw new Error(
        "The script is still running after busy-reply-threshold: its reply will be dropped. Until it ends, call() gets BUSY; " +
          "SCRIPT KILL or FUNCTION KILL ends a script that did not write. callAsync() waits for scripts that may run long.",
      );
    }
    return session.take();
  }

  /** Runs one command; bulk strings come back as UTF-8 text. */
  call(...args: Arg[]): RespValue {
    return textify(this.callRaw(...args));
  }

  /** Runs one command after those sent before it, and resolves to its reply when there is one (bulk strings as Uint8Array). */
  callRawAsync(...args: Arg[]): Promise<RespValue> {
    return new Promise((resolve) => {
      if (this.main.send(args, resolve)) resolve(this.main.take());
    });
  }

  /** callRawAsync() with bulk strings as UTF-8 text. */
  async callAsync(...args: Arg[]): Promise<RespValue> {
    return textify(await this.callRawAsync(...args));
  }

  close(): void {
    this.engine.stop();
  }
}

// An embedded engine answers synchronously, so it cannot wait for the Lua VM on the first script: load it now.
await loadLua();

export function createEngine(directives: Directives = {}): EmbeddedEngine {
  return new EmbeddedEngine(directives);
}

const decoder = new TextDecoder();
function textify(v: RespValue): RespValue {
  if (v instanceof Uint8Array) return decoder.decode(v);
  if (Array.isArray(v)) {
    const out = v.map(textify);
    Object.setPrototypeOf(out, Object.getPrototypeOf(v));
    return out;
  }
  return v;
}
