/**
 * CLUSTER INFO, NODES, SLOTS and SHARDS: this node's view of the cluster
 * in the shapes Redis 7.0 replies with (clusterGenClusterInfo,
 * clusterGenNodesDescription, clusterReplyMultiBulkSlots,
 * clusterReplyShards), which cluster clients and redis-cli parse.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import type { ClusterState } from "../cluster/state.ts";
import { type ClusterNode, NodeFlag } from "../cluster/node.ts";
import { SLOTS } from "../cluster/slot.ts";
import { nodesDescription } from "../cluster/nodes-text.ts";
import { clusterSub, INFO } from "./cluster-args.ts";
import { preferredEndpoint } from "../cluster/redirect.ts";

/** Bus message types in Redis's order (CLUSTERMSG_TYPE_*), as cluster_stats_messages_<type>_* names them. */
export const MESSAGE_TYPES = ["ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack", "update", "mfstart", "module", "publishshard"];

/** CLUSTER INFO's text (Redis's clusterGenClusterInfo). */
export function clusterInfoText(state: ClusterState): string {
  let assigned = 0, ok = 0, pfail = 0, fail = 0;
  for (let slot = 0; slot < SLOTS; slot++) {
    const n = state.slots[slot];
    if (n === null) continue;
    assigned++;
    if (n.has(NodeFlag.FAIL)) fail++;
    else if (n.has(NodeFlag.PFAIL)) pfail++;
    else ok++;
  }
  const me = state.myself;
  const myEpoch = me.isReplica && me.replicaOf !== null ? me.replicaOf.configEpoch : me.configEpoch;
  const lines = [
    `cluster_state:${state.ok ? "ok" : "fail"}`,
    `cluster_slots_assigned:${assigned}`,
    `cluster_slots_ok:${ok}`,
    `cluster_slots_pfail:${pfail}`,
    `cluster_slots_fail:${fail}`,
    `cluster_known_nodes:${state.nodes.size}`,
    `cluster_size:${state.size}`,
    `cluster_current_epoch:${state.currentEpoch}`,
    `cluster_my_epoch:${myEpoch}`,
  ];
  for (const [dir, counts] of [["sent", state.sent], ["received", state.received]] as const) {
    let total = 0;
    for (const type of MESSAGE_TYPES) {
      const n = counts.get(type) ?? 0;
      if (n === 0) continue;
      total += n;
      lines.push(`cluster_stats_messages_${type}_${dir}:${n}`);
    }
    lines.push(`cluster_stats_messages_${dir}:${total}`);
  }
  lines.push(`total_cluster_links_buffer_limit_exceeded:${state.linksBufferLimitExceeded}`);
  return lines.map((l) => l + "\r\n").join("");
}

/** The replication offset a node advertises; for myself the live one (Redis reads its own, not gossip's). */
function replOffset(c: Client, state: ClusterState, node: ClusterNode): number {
  if (node !== state.myself) return node.replOffset;
  return node.isReplica ? c.engine.replica.appliedOffset : c.engine.primary.offset;
}

/** The node's endpoint as cluster-preferred-endpoint-type says. */
function endpointOf(c: Client, node: ClusterNode): string {
  return preferredEndpoint(node, c.engine.config.get("cluster-preferred-endpoint-type"));
}

/** One node in CLUSTER SLOTS: endpoint, port, id, and a map of the other known endpoints (Redis's addNodeToNodeReply). */
function slotsNode(c: Client, node: ClusterNode): void {
  const type = c.engine.config.get("cluster-preferred-endpoint-type");
  c.out.array(4);
  if (type === "unknown-endpoint") c.out.nullBulk();
  else c.out.bulkStr(endpointOf(c, node));
  c.out.int(node.port);
  c.out.bulkStr(node.name);
  const showIp = type !== "ip";
  const showHostname = type !== "hostname" && node.hostname !== "";
  c.out.map((showIp ? 1 : 0) + (showHostname ? 1 : 0));
  if (showIp) {
    c.out.bulkStr("ip");
    c.out.bulkStr(node.ip);
  }
  if (showHostname) {
    c.out.bulkStr("hostname");
    c.out.bulkStr(node.hostname);
  }
}

/** Redis's isReplicaAvailable: a replica not FAIL that has received something from its primary. */
function replicaAvailable(c: Client, state: ClusterState, node: ClusterNode): boolean {
  return !node.has(NodeFlag.FAIL) && replOffset(c, state, node) !== 0;
}

/** Ranges of consecutive slots with one owner, in slot order: [start, end, owner]. */
export function slotRuns(state: ClusterState): [number, number, ClusterNode][] {
  const runs: [number, number, ClusterNode][] = [];
  let start = 0;
  for (let slot = 1; slot <= SLOTS; slot++) {
    const owner = state.slots[start];
    if (slot < SLOTS && state.slots[slot] === owner) continue;
    if (owner !== null) runs.push([start, slot - 1, owner]);
    start = slot;
  }
  return runs;
}

function clusterSlots(c: Client, state: ClusterState): void {
  const runs = slotRuns(state);
  c.out.array(runs.length);
  for (const [start, end, owner] of runs) {
    const replicas = owner.replicas.filter((r) => replicaAvailable(c, state, r));
    c.out.array(3 + replicas.length);
    c.out.int(start);
    c.out.int(end);
    slotsNode(c, owner);
    for (const r of replicas) slotsNode(c, r);
  }
}

/** One node of a CLUSTER SHARDS entry (Redis's addNodeDetailsToShardReply). */
function shardNode(c: Client, state: ClusterState, node: ClusterNode): void {
  const tls = c.engine.config.bool("tls-cluster");
  const plainPort = tls ? node.pport : node.port;
  const tlsPort = tls ? node.port : 0;
  const offset = replOffset(c, state, node);
  const pairs: [string, string | number][] = [["id", node.name]];
  if (plainPort) pairs.push(["port", plainPort]);
  if (tlsPort) pairs.push(["tls-port", tlsPort]);
  pairs.push(["ip", node.ip], ["endpoint", endpointOf(c, node)]);
  if (node.hostname !== "") pairs.push(["hostname", node.hostname]);
  const health = node.has(NodeFlag.FAIL) ? "fail" : node.isReplica && offset === 0 ? "loading" : "online";
  pairs.push(["role", node.isReplica ? "replica" : "master"], ["replication-offset", offset], ["health", health]);
  c.out.map(pairs.length);
  for (const [k, v] of pairs) {
    c.out.bulkStr(k);
    if (typeof v === "number") c.out.int(v);
    else c.out.bulkStr(v);
  }
}

function clusterShards(c: Client, state: ClusterState): void {
  const primaries = [...state.primaries()];
  const runs = slotRuns(state);
  c.out.array(primaries.length);
  for (const primary of primaries) {
    const mine = runs.filter(([, , owner]) => owner === primary);
    c.out.map(2);
    c.out.bulkStr("slots");
    c.out.array(mine.length * 2);
    for (const [start, end] of mine) {
      c.out.int(start);
      c.out.int(end);
    }
    c.out.bulkStr("nodes");
    const nodes = [primary, ...primary.replicas];
    c.out.array(nodes.length);
    for (const n of nodes) shardNode(c, state, n);
  }
}

export const clusterViewSubcommands: CommandDef[] = [
  clusterSub("info", 2, INFO, "Provides info about Redis Cluster node state", (c, _argv, state) => c.out.verbatim(clusterInfoText(state)), {
    tips: "nondeterministic_output",
  }),
  clusterSub("nodes", 2, INFO, "Get Cluster config for the node", (c, _argv, state) => c.out.verbatim(nodesDescription(state)), {
    complexity: "O(N) where N is the total number of Cluster nodes",
    tips: "nondeterministic_output",
  }),
  clusterSub("slots", 2, INFO, "Get array of Cluster slot to node mappings", (c, _argv, state) => clusterSlots(c, state), {
    complexity: "O(N) where N is the total number of Cluster nodes",
    tips: "nondeterministic_output",
  }),
  clusterSub("shards", 2, INFO, "Get array of cluster slots to node mappings", (c, _argv, state) => clusterShards(c, state), {
    since: "7.0.0",
    complexity: "O(N) where N is the total number of cluster nodes",
    tips: "nondeterministic_output",
  }),
];
