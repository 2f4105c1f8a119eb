/** Bun backend: Bun.listen for TCP and Unix sockets. */
import type { Accept, Backend, Listener } from "./backend.ts";
import { formatAddr } from "./backend.ts";
import type { ConnectionHandlers } from "../core/server/engine.ts";
import type { Connection, Dialer, StreamHandlers } from "../core/io.ts";

interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
  remoteAddress: string;
  data: SocketState;
  setNoDelay?(on: boolean): void;
  localPort?: number;
  localAddress?: string;
}

interface SocketState {
  handlers: ConnectionHandlers | null;
  /** Bytes the kernel did not take yet, sent again on drain. */
  queue: Uint8Array[];
  queued: number;
  closing: boolean;
}

declare const Bun: {
  listen(opts: Record<string, unknown>): { stop(closeActive?: boolean): void };
  connect(opts: Record<string, unknown>): Promise<BunSocket>;
};

function flushQueue(s: BunSocket): void {
  const st = s.data;
  while (st.queue.length) {
    const head = st.queue[0];
    const n = s.write(head);
    if (n < 0) return; // closed: the close handler cleans up
    st.queued -= n;
    if (n < head.length) {
      st.queue[0] = head.subarray(n);
      return;
    }
    st.queue.shift();
  }
  if (st.closing) s.end();
}

/** The core's view of a Bun socket: writes the kernel does not take at once wait in its queue for drain. */
function socketConnection(s: BunSocket, kind: string, remoteAddress: string, localAddress: string): Connection {
  const st = s.data;
  return {
    write(bytes) {
      if (st.queue.length === 0) {
        const n = s.write(bytes);
        if (n === bytes.length) return true;
        bytes = bytes.subarray(Math.max(n, 0));
      }
      st.queue.push(bytes);
      st.queued += bytes.length;
      return false;
    },
    pendingBytes: () => st.queued,
    pendingWrites: () => st.queue.length,
    close() {
      st.closing = true;
      if (st.queue.length === 0) s.end();
    },
    abort() {
      st.queue = [];
      st.queued = 0;
      st.closing = true;
      s.end();
    },
    remoteAddress,
    localAddress,
    kind,
  };
}

function listen(accept: Accept, kind: string, where: Record<string, unknown>, label: string): Promise<Listener> {
  const server = Bun.listen({
    ...where,
    socket: {
      open(s: BunSocket) {
        s.data = { handlers: null, queue: [], queued: 0, closing: false };
        const st = s.data;
        s.setNoDelay?.(true);
        const remote = kind === "unix" ? `${label}:0` : formatAddr(s.remoteAddress, (s as unknown as { remotePort?: number }).remotePort);
        st.handlers = accept(socketConnection(s, kind, remote, kind === "unix" ? `${label}:0` : label));
        if (!st.handlers) s.end();
      },
      data(s: BunSocket, chunk: Uint8Array) {
        // The parser and blocked or queued commands keep views into the chunk past
        // this call. Bun hands each read a fresh buffer of its own, so it is kept
        // without a copy (protocol.test.ts's 10,000-command pipeline, whose commands
        // straddle reads, would fail if Bun reused one).
        s.data.handlers?.data(chunk);
      },
      drain(s: BunSocket) {
        flushQueue(s);
      },
      close(s: BunSocket) {
        s.data?.handlers?.closed();
      },
      error(s: BunSocket) {
        s.data?.handlers?.closed();
      },
    },
  });
  // stop(false): connected clients stay (CONFIG SET port moves only the listener); shutdown closes them itself.
  return Promise.resolve({ close: () => server.stop(false) });
}

/** Outbound TCP through Bun.connect; the socket's events reach handlers once connect() has resolved. */
const bunDialer: Dialer = {
  async connect(host: string, port: number, handlers: StreamHandlers): Promise<Connection> {
    let conn: Connection | null = null;
    const s = await Bun.connect({
      hostname: host,
      port,
      socket: {
        open(s: BunSocket) {
          s.data = { handlers: null, queue: [], queued: 0, closing: false };
          s.setNoDelay?.(true);
        },
        data(_s: BunSocket, chunk: Uint8Array) {
          handlers.data(chunk);
        },
        drain(s: BunSocket) {
          flushQueue(s);
        },
        close() {
          if (conn !== null) handlers.closed();
        },
        error() {
          if (conn !== null) handlers.closed();
        },
      },
    });
    // Bun has no per-socket local address; the peer's is what was asked for.
    conn = socketConnection(s, "tcp", formatAddr(host, port), formatAddr(s.localAddress ?? "127.0.0.1", s.localPort));
    return conn;
  },
};

export const bunBackend: Backend = {
  name: "bun",
  listenTcp: (host, port, accept) => listen(accept, "tcp", { hostname: host, port }, formatAddr(host, port)),
  listenUnix: (path, accept) => listen(accept, "unix", { unix: path }, path),
  dialer: bunDialer,
};
