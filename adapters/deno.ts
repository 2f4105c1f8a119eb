/** Deno backend: Deno.listen for TCP and Unix sockets. */
import type { Accept, Backend, Listener } from "./backend.ts";
import { formatAddr } from "./backend.ts";
import type { Connection, Dialer } from "../core/io.ts";

interface DenoConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
  setNoDelay?(on: boolean): void;
  remoteAddr: { hostname?: string; port?: number; path?: string };
  localAddr: { hostname?: string; port?: number; path?: string };
}

interface DenoListener {
  readonly addr: { port: number };
  accept(): Promise<DenoConn>;
  close(): void;
}

declare const Deno: {
  listen(opts: Record<string, unknown>): DenoListener;
  connect(opts: Record<string, unknown>): Promise<DenoConn>;
};

const READ_SIZE = 64 * 1024;
/** Below this much room left in the read buffer, the next read starts a fresh one. */
const MIN_READ = 4 * 1024;

function handle(conn: DenoConn, accept: Accept, kind: string, label: string): void {
  let queue: Uint8Array[] = [];
  let queued = 0;
  let writing = false;
  let closing = false;
  let closed = false;
  const shut = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // already closed by the peer
    }
  };
  // A chain of callbacks rather than an async loop: the loop began anew for each burst of replies, an async
  // function's frame and promise every event-loop turn (GET -P 16: ~3% more requests/s without them).
  const failed = () => {
    writing = false;
    shut();
  };
  const send = () => {
    try {
      conn.write(queue[0]).then(written, failed);
    } catch {
      failed();
    }
  };
  const written = (n: number) => {
    // abort() emptied the queue meanwhile.
    if (queue.length === 0) return failed();
    queued -= n;
    const head = queue[0];
    if (n < head.length) queue[0] = head.subarray(n);
    else queue.shift();
    if (queue.length !== 0) return send();
    writing = false;
    if (closing) shut();
  };
  const addr = (a: DenoConn["remoteAddr"]) => (kind === "unix" ? `${label}:0` : formatAddr(a.hostname, a.port));
  try {
    conn.setNoDelay?.(true);
  } catch {
    // the peer is already gone: the read below ends the connection
  }
  const handlers = accept({
    write(bytes) {
      queue.push(bytes);
      queued += bytes.length;
      if (!writing) {
        writing = true;
        send();
      }
    },
    pendingBytes: () => queued,
    pendingWrites: () => queue.length,
    close() {
      closing = true;
      if (!writing) shut();
    },
    abort() {
      queue = [];
      queued = 0;
      closing = true;
      shut();
    },
    remoteAddress: addr(conn.remoteAddr),
    localAddress: addr(conn.localAddr),
    kind,
  });
  if (!handlers) return;
  (async () => {
    // Reads fill successive parts of one buffer, each handed out as a view the core may keep
    // (it never writes them), and a full buffer is replaced rather than reused: a copy per read
    // costs Deno an ArrayBuffer allocation (~0.4 us), a view ~20 ns.
    let buf = new Uint8Array(READ_SIZE);
    let at = 0;
    try {
      for (;;) {
        if (buf.length - at < MIN_READ) {
          buf = new Uint8Array(READ_SIZE);
          at = 0;
        }
        const n = await conn.read(buf.subarray(at));
        if (n === null) break;
        handlers.data(buf.subarray(at, at + n));
        at += n;
      }
    } catch {
      // reset by peer or closed by us
    }
    handlers.closed();
    if (!closing) shut();
  })();
}

/** accept() errors that end only the connection being accepted: the peer reset or left before Deno asked its address. */
const PEER_GONE = new Set(["ENOTCONN", "ECONNABORTED", "ECONNRESET", "EPIPE"]);

function serve(listener: DenoListener, accept: Accept, kind: string, label: string): Listener {
  let closed = false;
  (async () => {
    // Not `for await`: its iterator ends for good on the first accept() error, and a client that
    // resets right after connecting would leave the server accepting no one ever again.
    while (!closed) {
      let conn: DenoConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (closed || (e as Error).name === "BadResource") return;
        // Anything else (EMFILE...) is retried a moment later, as Redis's accept handler does on its next event.
        if (!PEER_GONE.has((e as { code?: string }).code ?? "")) await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      handle(conn, accept, kind, label);
    }
  })();
  return {
    close: () => {
      closed = true;
      listener.close();
    },
  };
}

/** Outbound TCP through Deno.connect, then the same read loop and write queue as an accepted connection. */
const denoDialer: Dialer = {
  async connect(host, port, handlers): Promise<Connection> {
    const conn = await Deno.connect({ hostname: host, port, transport: "tcp" });
    let made: Connection | null = null;
    handle(
      conn,
      (c) => {
        made = c;
        return handlers;
      },
      "tcp",
      formatAddr(host, port),
    );
    return made!;
  },
};

/**
 * HostInfo.afterIo for Deno: a byte sent to itself over a loopback TCP pair
 * (its listener closed once the pair is made), whose read completes in the
 * same poll as the clients' sockets, so each slice of a snapshot lets
 * waiting clients in: ~29 us a turn. A chain of setImmediate or MessageChannel
 * messages never polls the sockets (GETs waited 3-300 ms); a one-byte read of
 * /dev/zero did, but as a blocking-pool thread's round trip of ~80 us, which
 * left 50 us slices a third of the loop (BGSAVE of 100k hashes took 6.5x
 * SAVE's time; 1.8x with the pair). Made on first use; without one
 * (no net permission), a zero timer, about 1 ms a turn.
 */
export function denoAfterIo(): (fn: () => void) => void {
  const byte = new Uint8Array(1);
  const sink = new Uint8Array(1);
  const waiting: Array<() => void> = [];
  let pair: Promise<[DenoConn, DenoConn] | null> | null = null;
  // A turn is asked for and not yet run: one byte in flight at a time, its arrival running every callback then waiting.
  let asked = false;
  const runWaiting = () => {
    asked = false;
    for (const fn of waiting.splice(0)) fn();
  };
  return (fn) => {
    waiting.push(fn);
    if (asked) return;
    asked = true;
    pair ??= loopbackPair().catch(() => null);
    pair.then((ends) => {
      if (ends === null) return void setTimeout(runWaiting, 0);
      // The read first, so it waits in the poll: a byte already there would be read at once, sockets unpolled.
      ends[1].read(sink).then(runWaiting, () => {
        pair = Promise.resolve(null);
        runWaiting();
      });
      ends[0].write(byte).catch(() => {});
    });
  };
}

async function loopbackPair(): Promise<[DenoConn, DenoConn]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0, transport: "tcp" });
  try {
    const port = listener.addr.port;
    const [a, b] = await Promise.all([
      Deno.connect({ hostname: "127.0.0.1", port, transport: "tcp" }),
      listener.accept(),
    ]);
    a.setNoDelay?.(true);
    return [a, b];
  } finally {
    listener.close();
  }
}

export const denoBackend: Backend = {
  name: "deno",
  listenTcp: (host, port, accept) =>
    Promise.resolve(
      serve(Deno.listen({ hostname: host, port, transport: "tcp" }), accept, "tcp", formatAddr(host, port)),
    ),
  listenUnix: (path, accept) => Promise.resolve(serve(Deno.listen({ path, transport: "unix" }), accept, "unix", path)),
  dialer: denoDialer,
};
