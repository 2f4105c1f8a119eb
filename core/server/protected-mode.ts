/**
 * Redis's protected mode, so a server started with no configuration is
 * never an open server on a network: with `protected-mode yes` (the
 * default) and no password for the default user, a connection whose peer
 * is not loopback (127.0.0.0/8, ::1) or a Unix socket gets Redis's DENIED
 * text and is closed. Redis 7.0 applies it whatever `bind` says. The
 * decision uses the peer address the adapter reports, "ip:port" or
 * "[ip]:port"; one it could not tell ("?") counts as remote, as in Redis.
 * The gateway does not come through here: it has its own access rules.
 */
import type { Connection } from "../io.ts";
import type { Engine } from "./engine.ts";

const DENIED = new TextEncoder().encode(
  "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
    "In this mode connections are only accepted from the loopback interface. " +
    "If you want to connect from external computers to Redis you may adopt one of the following solutions: " +
    "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by " +
    "connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible " +
    "from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
    "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the " +
    "protected mode option to 'no', and then restarting the server. " +
    "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
    "4) Setup a an authentication password for the default user. " +
    "NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n",
);

/** The IP part of "ip:port" or "[ip]:port", lower-cased. */
function peerIp(address: string): string {
  const ip = address.startsWith("[") ? address.slice(1, address.indexOf("]")) : address.slice(0, address.lastIndexOf(":"));
  return ip.toLowerCase();
}

/** Redis's connIsLocal: a Unix socket, 127.x.x.x or ::1 (and 127.x.x.x mapped into IPv6, which dual-stack listeners report). */
export function isLocalPeer(conn: Connection): boolean {
  if (conn.kind === "unix") return true;
  const ip = peerIp(conn.remoteAddress);
  return ip.startsWith("127.") || ip === "::1" || ip.startsWith("::ffff:127.");
}

/** Refuses conn (answering DENIED, closing it, counting it in rejected_connections) when protected mode applies; true if refused. */
export function refusedByProtectedMode(engine: Engine, conn: Connection): boolean {
  if (!engine.config.bool("protected-mode") || engine.authRequired() || isLocalPeer(conn)) return false;
  conn.write(DENIED);
  conn.close();
  engine.stats.rejectedConnections++;
  return true;
}
