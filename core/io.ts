/**
 * The interfaces through which the runtime-agnostic core touches the world.
 * Adapters implement them with Bun, Deno or Node APIs; core never imports a
 * runtime module, so it could run anywhere Uint8Array and timers exist.
 */

/** One accepted byte-stream connection (TCP, Unix socket, later TLS/WebSocket). */
export interface Connection {
  /**
   * Queue bytes for sending; the adapter owns backpressure. True only when
   * the kernel took them whole before returning, and everything written
   * before them: their memory may then be written over.
   */
  write(bytes: Uint8Array): void | boolean;
  /** Bytes handed to write() that the kernel has not accepted yet. */
  pendingBytes(): number;
  /** Close after flushing what is queued. */
  close(): void;
  /** Close now, dropping what is queued (a client over its output limit, or evicted); close() where absent. */
  abort?(): void;
  /** Writes handed to write() and not yet taken by the kernel (CLIENT LIST oll); 0 or 1 by pendingBytes where absent. */
  pendingWrites?(): number;
  readonly remoteAddress: string;
  readonly localAddress: string;
  /** "tcp" | "unix" | later "ws"... shown in CLIENT LIST flags and INFO. */
  readonly kind: string;
  /** Replies are written as soon as a read has run, not at the end of the event-loop turn: the caller (an embedded session) reads them on return. */
  readonly immediate?: boolean;
}

/** What a connection's owner is told: bytes as they arrive, and the end (by either side, once). */
export interface StreamHandlers {
  data(chunk: Uint8Array): void;
  closed(): void;
}

/**
 * Opens outbound TCP connections (a replica to its primary, a Sentinel to
 * the servers it monitors). connect() resolves once the connection is up
 * (its handlers then get its bytes and its end) and rejects with the
 * system's error text when it cannot be made. The caller bounds the wait
 * (repl-timeout) by closing what resolves too late.
 */
export interface Dialer {
  connect(host: string, port: number, handlers: StreamHandlers): Promise<Connection>;
}

/** Monotonic-enough wall clock in milliseconds; tests may inject their own. */
export interface Clock {
  now(): number;
}

/**
 * A file open for writing. write() is synchronous (it reaches the page
 * cache, not the disk); durability needs one of the syncs.
 */
export interface WritableFile {
  /** Writes all of bytes at the end of the file; a failure throws with `written`, the bytes that made it before. */
  write(bytes: Uint8Array): void;
  /** Cuts the file to size bytes (what an AOF write that failed halfway leaves is taken back). */
  truncate(size: number): void;
  /** fdatasync, blocking the caller: appendfsync always, where the reply must wait for the disk. */
  syncNow(): void;
  /** fsync off the event loop (a worker or the runtime's thread pool), so clients keep being served. */
  sync(): Promise<void>;
  /** Closes it once (later calls do nothing), even with a sync() in flight; any other call after it throws. */
  close(): void;
}

export type OpenMode = "truncate" | "append" | "overwrite";

/** File access the engine needs: redis.conf, CONFIG REWRITE, RDB and AOF files. Paths may be relative to the working dir. */
export interface FileSystem {
  readText(path: string): string;
  writeText(path: string, text: string): void;
  exists(path: string): boolean;
  resolve(base: string, path: string): string;
  /** The whole file; throws when it cannot be read. */
  readBytes(path: string): Uint8Array;
  /**
   * Opens (creating it, mode 0644) for writing: "truncate" starts empty,
   * "append" writes after what is there, "overwrite" writes from the start
   * over what is there (nodes.conf, saved in place as Redis 7.0 does).
   */
  open(path: string, mode: OpenMode): WritableFile;
  /** Atomic replace of to by from (rename(2)). */
  rename(from: string, to: string): void;
  /** Deletes a file; no error when it is not there. */
  remove(path: string): void;
  /** Creates a directory (and its parents); no error when it exists. */
  mkdir(path: string): void;
  /** Names in a directory (not paths); [] when it does not exist. */
  list(dir: string): string[];
  /** Size in bytes, or -1 when the file does not exist. */
  size(path: string): number;
  /** fsync of a directory, so a rename in it survives a crash. */
  syncDir(path: string): void;
  /**
   * rename() then syncDir() of dir, off the event loop: replacing a large
   * file frees its blocks in the rename (a 23 MB dump.rdb: ~6 ms on ext4),
   * which Redis leaves to its forked child.
   */
  renameAndSyncDir(from: string, to: string, dir: string): Promise<void>;
  /** The working directory, where relative paths point; chdir throws Error(strerror text) on failure. */
  cwd(): string;
  chdir(path: string): void;
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
  /**
   * Request arguments up to this many bytes are copied out of the read
   * buffer rather than viewed: JSC (Bun) allocates a small typed array in
   * ~12 ns and a view in ~35 ns; V8 the reverse (~65 ns and ~19 ns).
   */
  copyArgumentsUpTo?: number;
  /**
   * A native decoder of bytes to a binary string (one char per byte), used
   * from latin1From bytes on: fromCharCode with the bytes as arguments wins
   * below (V8: up to 32 bytes; JSC: 3), fromCharCode.apply loses to it past
   * that (V8, 150 bytes: ~480 ns against ~80 ns; 500 bytes: 1.8 us / 90 ns).
   */
  latin1?: (bytes: Uint8Array) => string;
  latin1From?: number;
  /**
   * The reverse: a binary string's chars written as bytes into `into` at
   * `at`, used from latin1WriteFrom chars on (Node's Buffer latin1Write, 65
   * ns whatever the length, against a loop's ~2 ns a char; Deno's is slower
   * than the loop).
   */
  latin1Write?: (s: string, into: Uint8Array, at: number) => void;
  latin1WriteFrom?: number;
  /**
   * Runs fn once the sockets have had their turn: a long job (a snapshot)
   * resumes through it between slices. setImmediate on Node and Bun; Deno
   * runs a chain of setImmediate without polling its sockets (clients
   * waited milliseconds), so its adapter resumes through an async op.
   */
  afterIo(fn: () => void): void;
  /**
   * One try at giving back a heap grown under load (server/heap-release.ts):
   * a collection, when the host can run one; true once there is nothing
   * (more) to give back. Absent where the host cannot.
   */
  releaseHeap?: () => boolean;
  /** Whether this process may execute path (access(2) with X_OK): Sentinel checks its scripts with it. */
  canExecute(path: string): boolean;
  /** Runs a program with arguments, its output discarded (Sentinel's notification and reconfig scripts). */
  spawn(path: string, args: string[]): ChildProcessHandle;
}

/** A program started by HostInfo.spawn. */
export interface ChildProcessHandle {
  readonly pid: number;
  /** SIGKILL. */
  kill(): void;
  /** Called once when it ends: its exit code, or the signal that ended it. */
  onExit(done: (code: number, bySignal: boolean) => void): void;
}

export const systemClock: Clock = { now: () => Date.now() };
