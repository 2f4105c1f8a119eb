/**
 * REPLICAOF / SLAVEOF host port | NO ONE, and ROLE's answer on a replica:
 * Redis's replies, errors and log lines; the work is in
 * core/replication/replica.ts.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { clientInfoLine } from "./client.ts";

function replicaof(c: Client, argv: Uint8Array[]): void {
  const e = c.engine;
  const r = e.replica;
  // A cluster node follows the primary CLUSTER REPLICATE names (core/cluster/failover.ts).
  if (e.cluster !== null) return c.error("ERR REPLICAOF not allowed in cluster mode.");
  if (is(argv[1], "no") && is(argv[2], "one")) {
    if (r.host !== null) {
      r.unfollow();
      e.log("notice", `MASTER MODE enabled (user request from '${clientInfoLine(c).trimEnd()}')`);
    }
    return c.out.ok();
  }
  if (e.primary.isReplica(c)) return c.error("ERR Command is not valid when client is a replica.");
  const portText = str(argv[2]);
  const port = /^-?\d+$/.test(portText) ? Number(portText) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) return c.error("ERR Invalid master port");
  const host = str(argv[1]);
  if (r.host !== null && r.host.toLowerCase() === host.toLowerCase() && r.port === port) {
    e.log("notice", "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
    return c.out.simple("OK Already connected to specified master");
  }
  r.follow(host, port);
  e.log("notice", `REPLICAOF ${host}:${port} enabled (user request from '${clientInfoLine(c).trimEnd()}')`);
  c.out.ok();
}

/** ROLE of a replica: ["slave", host, port, state, offset applied or -1]. */
export function replicaRole(c: Client): void {
  const r = c.engine.replica;
  c.out.array(5);
  c.out.bulkStr("slave");
  c.out.bulkStr(r.host ?? "");
  c.out.int(r.port);
  c.out.bulkStr(r.roleState);
  c.out.int(r.roleOffset);
}

const def = (name: string, since: string): CommandDef => ({
  name,
  arity: 3,
  flags: "admin noscript stale no_async_loading",
  group: "server",
  since,
  summary: "Make the server a replica of another instance, or promote it as master.",
  complexity: "O(1)",
  run: replicaof,
});

export const replicaofCommands: CommandDef[] = [def("replicaof", "5.0.0"), def("slaveof", "1.0.0")];
