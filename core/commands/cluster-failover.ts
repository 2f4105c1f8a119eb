/**
 * CLUSTER subcommands for replicas and failover (REPLICATE, FAILOVER,
 * REPLICAS, SLAVES): FAILOVER's, spread into the CLUSTER container of
 * cluster.ts. Replies and errors as redis-server 7.0; the work is in
 * core/cluster/failover.ts.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import type { ClusterState } from "../cluster/state.ts";
import { ADMIN, clusterSub, nodeArg } from "./cluster-args.ts";
import { nodeDescription } from "../cluster/nodes-text.ts";
import { clusterFailoverHost, manualFailover, replicate } from "../cluster/failover.ts";

import { is, str } from "../util/bytes.ts";
import { subcommandSyntaxError } from "./help.ts";

function replicateCommand(c: Client, argv: Uint8Array[]): void {
  const error = replicate(clusterFailoverHost(c.engine), str(argv[2]));
  if (error !== null) return c.error(`ERR ${error}`);
  c.out.ok();
}

/** CLUSTER REPLICAS / SLAVES <node-id>: the replicas' CLUSTER NODES lines. */
function replicasCommand(c: Client, argv: Uint8Array[], state: ClusterState): void {
  const node = nodeArg(c, state, argv[2]);
  if (node === null) return;
  if (node.isReplica) return c.error("ERR The specified node is not a master");
  c.out.array(node.replicas.length);
  for (const r of node.replicas) c.out.bulkStr(nodeDescription(state, r));
}

function failoverCommand(c: Client, argv: Uint8Array[]): void {
  if (argv.length > 3) {
    return subcommandSyntaxError(c, "cluster", str(argv[1]));
  }
  let force = false;
  let takeover = false;
  if (argv.length === 3) {
    if (is(argv[2], "force")) force = true;
    else if (is(argv[2], "takeover")) force = takeover = true;
    else return c.error("ERR syntax error");
  }
  const error = manualFailover(clusterFailoverHost(c.engine), force, takeover);
  if (error !== null) return c.error(`ERR ${error}`);
  c.out.ok();
}

const REPLICAS_SUMMARY = "List replica nodes of the specified master node";

export const clusterFailoverSubcommands: CommandDef[] = [
  clusterSub("replicate", 3, ADMIN, "Reconfigure a node as a replica of the specified master node", replicateCommand),
  clusterSub("failover", -2, ADMIN, "Forces a replica to perform a manual failover of its master.", failoverCommand),
  clusterSub("replicas", 3, "admin stale", REPLICAS_SUMMARY, replicasCommand, {
    since: "5.0.0",
    tips: "nondeterministic_output",
  }),
  clusterSub("slaves", 3, "admin stale", REPLICAS_SUMMARY, replicasCommand, { tips: "nondeterministic_output" }),
];
