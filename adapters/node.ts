/** Node backend: node:net for TCP and Unix sockets. */
import * as net from "node:net";
import type { Accept, Backend, Listener } from "./backend.ts";
import { formatAddr } from "./backend.ts";

function serve(accept: Accept, kind: string, listen: (server: net.Server) => void, unixPath = ""): Promise<Listener> {
  const server = net.createServer({ noDelay: true }, (sock) => {
    const handlers = accept({
      write: (bytes) => void sock.write(bytes),
      pendingBytes: () => sock.writableLength,
      close: () => sock.end(),
      remoteAddress: kind === "unix" ? `${unixPath}:0` : formatAddr(sock.remoteAddress, sock.remotePort),
      localAddress: kind === "unix" ? `${unixPath}:0` : formatAddr(sock.localAddress, sock.localPort),
      kind,
    });
    if (!handlers) return;
    sock.on("data", (chunk) => handlers.data(chunk));
    sock.on("close", () => handlers.closed());
    sock.on("error", () => sock.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => resolve({ close: () => server.close() }));
    listen(server);
  });
}

export const nodeBackend: Backend = {
  name: "node",
  listenTcp: (host, port, accept) =>
    serve(accept, "tcp", (s) => s.listen({ host, port, ipv6Only: host.includes(":"), backlog: 511 })),
  listenUnix: (path, accept) => serve(accept, "unix", (s) => s.listen(path), path),
};
