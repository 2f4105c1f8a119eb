/**
 * What every runtime backend provides: listening on TCP and Unix sockets
 * and turning each accepted socket into a core Connection. Adding a runtime
 * means adding one file that implements this.
 */
import type { Connection, Dialer } from "../core/io.ts";
import type { ConnectionHandlers } from "../core/server/engine.ts";

export type Accept = (conn: Connection) => ConnectionHandlers | null;

export interface Listener {
  close(): void;
}

export interface Backend {
  name: string;
  listenTcp(host: string, port: number, accept: Accept): Promise<Listener>;
  listenUnix(path: string, accept: Accept): Promise<Listener>;
  /** Outbound connections (replication), with the runtime's own client sockets. */
  dialer: Dialer;
}

/** Redis prints IPv6 peers in brackets: [::1]:6379. */
export function formatAddr(ip: string | undefined, port: number | undefined): string {
  const host = ip ?? "?";
  return host.includes(":") ? `[${host}]:${port ?? 0}` : `${host}:${port ?? 0}`;
}
