/**
 * The interfaces through which the runtime-agnostic core touches the world.
 * Adapters implement them with Bun, Deno or Node APIs; core never imports a
 * runtime module, so it could run anywhere Uint8Array and timers exist.
 */

/** One accepted byte-stream connection (TCP, Unix socket, later TLS/WebSocket). */
export interface Connection {
  /** Queue bytes for sending; the adapter owns backpressure. */
  write(bytes: Uint8Array): void;
  /** Bytes handed to write() that the kernel has not accepted yet. */
  pendingBytes(): number;
  /** Close after flushing what is queued. */
  close(): void;
  readonly remoteAddress: string;
  readonly localAddress: string;
  /** "tcp" | "unix" | later "ws"... shown in CLIENT LIST flags and INFO. */
  readonly kind: string;
}

/** Monotonic-enough wall clock in milliseconds; tests may inject their own. */
export interface Clock {
  now(): number;
}

/** File access the engine needs for redis.conf, CONFIG REWRITE and later persistence. */
export interface FileSystem {
  readText(path: string): string;
  writeText(path: string, text: string): void;
  exists(path: string): boolean;
  resolve(base: string, path: string): string;
}

/** Facts about the hosting process that INFO and logs report. */
export interface HostInfo {
  runtime: string; // "bun 1.1", "deno 2.0", "node 20"
  io: string; // the adapter's name
  pid: number;
  os: string;
  arch: string;
  executable: string;
  configFile: string;
  /** Resident set size in bytes, when the host can tell. */
  rss(): number;
  /** [user, system] CPU seconds used by the process. */
  cpu(): [number, number];
  /** Stop the process after the engine has shut down. */
  exit(code: number): void;
  /**
   * Free a replaced buffer at once (ArrayBuffer.prototype.transfer) rather
   * than leave it to the GC: worth it under Deno's allocator, a loss under
   * Bun's (bench/RESULTS.md, fourth run).
   */
  freeReplacedBuffers: boolean;
}

export const systemClock: Clock = { now: () => Date.now() };
