/** Deno backend: Deno.listen for TCP and Unix sockets. */
import type { Accept, Backend, Listener } from "./backend.ts";
import { formatAddr } from "./backend.ts";

interface DenoConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
  setNoDelay?(on: boolean): void;
  remoteAddr: { hostname?: string; port?: number; path?: string };
  localAddr: { hostname?: string; port?: number; path?: string };
}

interface DenoListener extends AsyncIterable<DenoConn> {
  close(): void;
}

declare const Deno: {
  listen(opts: Record<string, unknown>): DenoListener;
};

const READ_SIZE = 64 * 1024;

function handle(conn: DenoConn, accept: Accept, kind: string, label: string): void {
  const queue: Uint8Array[] = [];
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
  const pump = async () => {
    writing = true;
    try {
      while (queue.length) {
        let head = queue[0];
        while (head.length) {
          const n = await conn.write(head);
          queued -= n;
          head = head.subarray(n);
        }
        queue.shift();
      }
    } catch {
      shut();
    }
    writing = false;
    if (closing) shut();
  };
  const addr = (a: DenoConn["remoteAddr"]) => (kind === "unix" ? `${label}:0` : formatAddr(a.hostname, a.port));
  conn.setNoDelay?.(true);
  const handlers = accept({
    write(bytes) {
      queue.push(bytes);
      queued += bytes.length;
      if (!writing) pump();
    },
    pendingBytes: () => queued,
    close() {
      closing = true;
      if (!writing) shut();
    },
    remoteAddress: addr(conn.remoteAddr),
    localAddress: addr(conn.localAddr),
    kind,
  });
  if (!handlers) return;
  (async () => {
    const buf = new Uint8Array(READ_SIZE);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        handlers.data(buf.slice(0, n));
      }
    } catch {
      // reset by peer or closed by us
    }
    handlers.closed();
    if (!closing) shut();
  })();
}

function serve(listener: DenoListener, accept: Accept, kind: string, label: string): Listener {
  (async () => {
    try {
      for await (const conn of listener) handle(conn, accept, kind, label);
    } catch {
      // listener closed
    }
  })();
  return { close: () => listener.close() };
}

export const denoBackend: Backend = {
  name: "deno",
  listenTcp: (host, port, accept) =>
    Promise.resolve(serve(Deno.listen({ hostname: host, port, transport: "tcp" }), accept, "tcp", formatAddr(host, port))),
  listenUnix: (path, accept) => Promise.resolve(serve(Deno.listen({ path, transport: "unix" }), accept, "unix", path)),
};
