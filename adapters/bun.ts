/** Bun backend: Bun.listen for TCP and Unix sockets. */
import type { Accept, Backend, Listener } from "./backend.ts";
import { formatAddr } from "./backend.ts";
import type { ConnectionHandlers } from "../core/server/engine.ts";

interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
  remoteAddress: string;
  data: SocketState;
  setNoDelay?(on: boolean): void;
  localPort?: number;
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

function listen(accept: Accept, kind: string, where: Record<string, unknown>, label: string): Promise<Listener> {
  const server = Bun.listen({
    ...where,
    socket: {
      open(s: BunSocket) {
        s.data = { handlers: null, queue: [], queued: 0, closing: false };
        const st = s.data;
        s.setNoDelay?.(true);
        st.handlers = accept({
          write(bytes) {
            if (st.queue.length === 0) {
              const n = s.write(bytes);
              if (n === bytes.length) return;
              bytes = bytes.subarray(Math.max(n, 0));
            }
            st.queue.push(bytes);
            st.queued += bytes.length;
          },
          pendingBytes: () => st.queued,
          close() {
            st.closing = true;
            if (st.queue.length === 0) s.end();
          },
          remoteAddress: kind === "unix" ? `${label}:0` : formatAddr(s.remoteAddress, (s as unknown as { remotePort?: number }).remotePort),
          localAddress: kind === "unix" ? `${label}:0` : label,
          kind,
        });
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

export const bunBackend: Backend = {
  name: "bun",
  listenTcp: (host, port, accept) => listen(accept, "tcp", { hostname: host, port }, formatAddr(host, port)),
  listenUnix: (path, accept) => listen(accept, "unix", { unix: path }, path),
};
