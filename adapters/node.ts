/** Node backend: node:net for TCP and Unix sockets. */
import * as net from "node:net";
import type { Accept, Backend, Listener } from "./backend.ts";
import type { Connection, Dialer, StreamHandlers } from "../core/io.ts";
import { formatAddr } from "./backend.ts";
import { socketWriter } from "./node-write.ts";

/** Each read lands in the unused rest of a buffer this big, replaced once less than MIN_READ is left. */
const READ_SIZE = 64 * 1024;
const MIN_READ = 4 * 1024;

/** net.connect's onread option: where the next read goes, and what is told of each (false would pause). */
interface OnRead {
  buffer: () => Uint8Array;
  callback: (bytesRead: number) => boolean;
}

/**
 * An onread option that reads each time into the part of one 64 KB buffer
 * the previous reads left and hands data() a view of it (the core may keep
 * views: a region is never read into twice). Each read then skips what a
 * 'data' event costs Node: a 64 KB allocation shrunk to size, a Buffer,
 * the stream's push and emit (~10% of a pipelined GET's CPU).
 */
function readsInto(data: (chunk: Uint8Array) => void): OnRead {
  let buf = new Uint8Array(READ_SIZE);
  let at = 0;
  return {
    buffer: () => {
      if (buf.length - at < MIN_READ) {
        buf = new Uint8Array(READ_SIZE);
        at = 0;
      }
      return buf.subarray(at);
    },
    callback: (n) => {
      const chunk = buf.subarray(at, at + n);
      at += n;
      data(chunk);
      return true;
    },
  };
}

/** node:net's slots for a socket's onread option (its buffer, generator and callback), by their symbols' names. */
const onreadSlots = (() => {
  const probe = new net.Socket();
  const named = (d: string) => Object.getOwnPropertySymbols(probe).find((s) => s.description === d);
  const slots = { buffer: named("kBuffer"), gen: named("kBufferGen"), callback: named("kBufferCb") };
  probe.destroy();
  return slots.buffer && slots.gen && slots.callback ? slots as Record<keyof typeof slots, symbol> : null;
})();

/**
 * Gives an accepted socket, still paused, the onread option that node:net
 * takes only from net.connect: its slots set as the option sets them, and
 * the first buffer handed to the handle. False (nothing changed) where this
 * Node lacks them; its 'data' events then serve.
 */
function acceptedReadsInto(sock: net.Socket, data: (chunk: Uint8Array) => void): boolean {
  const handle = (sock as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } })._handle;
  if (onreadSlots === null || typeof handle?.useUserBuffer !== "function") return false;
  const onread = readsInto(data);
  const first = onread.buffer();
  const slots = sock as unknown as Record<symbol, unknown>;
  slots[onreadSlots.gen] = onread.buffer;
  slots[onreadSlots.callback] = onread.callback;
  slots[onreadSlots.buffer] = first;
  handle.useUserBuffer(first);
  return true;
}

function serve(accept: Accept, kind: string, listen: (server: net.Server) => void, unixPath = ""): Promise<Listener> {
  const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (sock) => {
    // First, so a peer that resets at once cannot crash the process when the refusal (protected mode, maxclients) is written.
    sock.on("error", () => sock.destroy());
    const writer = socketWriter(sock);
    const handlers = accept({
      write: (bytes) => writer.write(bytes),
      pendingBytes: () => writer.pendingBytes(),
      pendingWrites: () => writer.pendingWrites(),
      close: () => writer.end(),
      abort: () => sock.destroy(),
      remoteAddress: kind === "unix" ? `${unixPath}:0` : formatAddr(sock.remoteAddress, sock.remotePort),
      localAddress: kind === "unix" ? `${unixPath}:0` : formatAddr(sock.localAddress, sock.localPort),
      kind,
    });
    if (!handlers) return;
    if (!acceptedReadsInto(sock, (chunk) => handlers.data(chunk))) sock.on("data", (chunk) => handlers.data(chunk));
    sock.on("close", () => handlers.closed());
    sock.resume();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => resolve({ close: () => server.close() }));
    listen(server);
  });
}

/** Outbound TCP through node:net; resolves on connect, rejects with the error that prevented it. */
const nodeDialer: Dialer = {
  connect(host: string, port: number, handlers: StreamHandlers): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port, noDelay: true, onread: readsInto((chunk) => handlers.data(chunk)) });
      let up = false;
      sock.once("error", (e) => {
        if (!up) reject(e);
      });
      sock.once("connect", () => {
        up = true;
        sock.on("error", () => sock.destroy());
        sock.on("close", () => handlers.closed());
        const writer = socketWriter(sock);
        resolve({
          write: (bytes) => writer.write(bytes),
          pendingBytes: () => writer.pendingBytes(),
          close: () => writer.end(),
          abort: () => sock.destroy(),
          remoteAddress: formatAddr(sock.remoteAddress, sock.remotePort),
          localAddress: formatAddr(sock.localAddress, sock.localPort),
          kind: "tcp",
        });
      });
    });
  },
};

export const nodeBackend: Backend = {
  name: "node",
  listenTcp: (host, port, accept) =>
    serve(accept, "tcp", (s) => s.listen({ host, port, ipv6Only: host.includes(":"), backlog: 511 })),
  listenUnix: (path, accept) => serve(accept, "unix", (s) => s.listen(path), path),
  dialer: nodeDialer,
};
