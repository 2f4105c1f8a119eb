/** Node backend: node:net for TCP and Unix sockets. */
import * as net from "node:net";
import type { Accept, Backend, Listener } from "./backend.ts";
import type { Connection, Dialer, StreamHandlers } from "../core/io.ts";
import { formatAddr } from "./backend.ts";

function serve(accept: Accept, kind: string, listen: (server: net.Server) => void, unixPath = ""): Promise<Listener> {
  const server = net.createServer({ noDelay: true }, (sock) => {
    // First, so a peer that resets at once cannot crash the process when the refusal (protected mode, maxclients) is written.
    sock.on("error", () => sock.destroy());
    // Writes not yet done, for CLIENT LIST oll: node:net calls back each write once the kernel has it.
    let unsent = 0;
    const done = () => void unsent--;
    const handlers = accept({
      write: (bytes) => {
        unsent++;
        sock.write(bytes, done);
      },
      pendingBytes: () => sock.writableLength,
      pendingWrites: () => (sock.writableLength === 0 ? 0 : unsent),
      close: () => sock.end(),
      abort: () => sock.destroy(),
      remoteAddress: kind === "unix" ? `${unixPath}:0` : formatAddr(sock.remoteAddress, sock.remotePort),
      localAddress: kind === "unix" ? `${unixPath}:0` : formatAddr(sock.localAddress, sock.localPort),
      kind,
    });
    if (!handlers) return;
    sock.on("data", (chunk) => handlers.data(chunk));
    sock.on("close", () => handlers.closed());
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
      const sock = net.connect({ host, port, noDelay: true });
      let up = false;
      sock.once("error", (e) => {
        if (!up) reject(e);
      });
      sock.once("connect", () => {
        up = true;
        sock.on("error", () => sock.destroy());
        sock.on("data", (chunk) => handlers.data(chunk));
        sock.on("close", () => handlers.closed());
        resolve({
          write: (bytes) => void sock.write(bytes),
          pendingBytes: () => sock.writableLength,
          close: () => sock.end(),
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
