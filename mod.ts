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
import { decodeReplies, encodeCommand, type RespValue } from "./core/resp/decoder.ts";
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

/** An engine in this process, driven by call() with no sockets. */
export class EmbeddedEngine {
  readonly engine: Engine;
  private client: Client;
  private pending: Uint8Array[] = [];

  constructor(directives: Directives = {}, opts: Omit<EngineOptions, "config"> = {}) {
    this.engine = new Engine({ ...opts, config: configFrom(directives) });
    this.engine.start();
    this.client = this.engine.connect({
      write: (bytes) => void this.pending.push(bytes),
      pendingBytes: () => 0,
      close: () => {},
      remoteAddress: "embedded:0",
      localAddress: "embedded:0",
      kind: "embedded",
    })!;
  }

  /** Runs one command and returns its decoded reply (bulk strings as Uint8Array). */
  callRaw(...args: Array<string | number | Uint8Array>): RespValue {
    this.engine.onData(this.client, encodeCommand(args));
    const bytes = this.pending.length === 1 ? this.pending[0] : concat(this.pending);
    this.pending = [];
    return decodeReplies(bytes).values[0];
  }

  /** Runs one command; bulk strings come back as UTF-8 text. */
  call(...args: Array<string | number | Uint8Array>): RespValue {
    return textify(this.callRaw(...args));
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
