/**
 * CLUSTER subcommands that act through the cluster bus (MEET, FORGET,
 * LINKS, COUNT-FAILURE-REPORTS): BUS's, spread into the CLUSTER container
 * of cluster.ts. Replies and errors as redis-server 7.0; the work is in
 * core/cluster/bus.ts and gossip.ts.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import type { ClusterState } from "../cluster/state.ts";
import type { ClusterBus } from "../cluster/bus.ts";
import type { ClusterLink, ClusterNode } from "../cluster/node.ts";
import { ADMIN, clusterSub, INFO, nodeArg } from "./cluster-args.ts";
import { failureReportCount } from "../cluster/gossip.ts";
import { str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";

/** Redis's CLUSTER_PORT_INCR: the bus port when MEET names none. */
const PORT_INCR = 10000;

function bus(c: Client): ClusterBus | null {
  const b = c.engine.clusterBus;
  if (b === null) c.error("ERR The cluster bus is not running");
  return b;
}

function portArg(arg: Uint8Array): number | null {
  const n = parseInt64(str(arg));
  return n === null ? null : Number(n);
}

/** CLUSTER MEET <ip> <port> [<bus-port>]: a handshake the bus cron carries out (Redis's clusterStartHandshake). */
function meetCommand(c: Client, argv: Uint8Array[]): void {
  if (argv.length > 5) return c.error("ERR Invalid number of arguments");
  const port = portArg(argv[3]);
  if (port === null) return c.error(`ERR Invalid TCP base port specified: ${str(argv[3])}`);
  let cport = port + PORT_INCR;
  if (argv.length === 5) {
    const given = portArg(argv[4]);
    if (given === null) return c.error(`ERR Invalid TCP bus port specified: ${str(argv[4])}`);
    cport = given;
  }
  const b = bus(c);
  if (b === null) return;
  if (!b.meet(str(argv[2]), port, cport)) return c.error(`ERR Invalid node address specified: ${str(argv[2])}:${str(argv[3])}`);
  c.out.ok();
}

function forgetCommand(c: Client, argv: Uint8Array[], state: ClusterState): void {
  const node = nodeArg(c, state, argv[2]);
  if (node === null) return;
  if (node === state.myself) return c.error("ERR I tried hard but I can't forget myself...");
  if (state.myself.isReplica && state.myself.replicaOf === node) return c.error("ERR Can't forget my master!");
  const b = bus(c);
  if (b === null) return;
  b.forget(node);
  c.out.ok();
}

function countFailureReportsCommand(c: Client, argv: Uint8Array[], state: ClusterState): void {
  const node = nodeArg(c, state, argv[2]);
  if (node === null) return;
  c.out.int(failureReportCount(node, c.engine.clock.now(), c.engine.config.num("cluster-node-timeout")));
}

function replyLink(c: Client, node: ClusterNode, link: ClusterLink, direction: "to" | "from"): void {
  const pending = link.pending();
  c.out.map(6);
  c.out.bulkStr("direction");
  c.out.bulkStr(direction);
  c.out.bulkStr("node");
  c.out.bulkStr(node.name);
  c.out.bulkStr("create-time");
  c.out.int(link.createdAt);
  c.out.bulkStr("events");
  c.out.bulkStr(pending > 0 ? "rw" : "r");
  c.out.bulkStr("send-buffer-allocated");
  c.out.int(pending);
  c.out.bulkStr("send-buffer-used");
  c.out.int(pending);
}

/** CLUSTER LINKS: every bus link, outbound ("to") and inbound ("from"), as maps. */
function linksCommand(c: Client, _argv: Uint8Array[], state: ClusterState): void {
  const links: [ClusterNode, ClusterLink, "to" | "from"][] = [];
  for (const node of state.nodes.values()) {
    if (node === state.myself) continue;
    if (node.link !== null) links.push([node, node.link, "to"]);
    if (node.inboundLink !== null) links.push([node, node.inboundLink, "from"]);
  }
  c.out.array(links.length);
  for (const [node, link, direction] of links) replyLink(c, node, link, direction);
}

export const clusterBusSubcommands: CommandDef[] = [
  clusterSub("meet", -4, ADMIN, "Force a node cluster to handshake with another node", meetCommand),
  clusterSub("forget", 3, ADMIN, "Remove a node from the nodes table", forgetCommand),
  clusterSub("links", 2, INFO, "Returns a list of all TCP links to and from peer nodes in cluster", linksCommand, {
    since: "7.0.0",
    complexity: "O(N) where N is the total number of Cluster nodes",
    tips: "nondeterministic_output",
  }),
  clusterSub("count-failure-reports", 3, "admin stale", "Return the number of failure reports active for a given node", countFailureReportsCommand, {
    complexity: "O(N) where N is the number of failure reports",
    tips: "nondeterministic_output",
  }),
];
