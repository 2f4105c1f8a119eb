/**
 * A node as one line of CLUSTER NODES and of nodes.conf (Redis's
 * clusterGenNodeDescription): `<id> <ip:port@cport[,hostname]> <flags>
 * <primary|-> <ping_sent> <pong_recv> <config_epoch> <link-state>
 * <slots...>`, and for myself the slots being migrated (`[slot->-id]`) or
 * imported (`[slot-<-id]`).
 */
import type { ClusterNode } from "./node.ts";
import { NodeFlag } from "./node.ts";
import type { ClusterState } from "./state.ts";
import { SLOTS } from "./slot.ts";

/**
 * The slot ranges a node serves, as " 0-5460 5462" (with the leading space),
 * from its bitmap a byte at a time: nodes.conf is written on every SETSLOT
 * of a reshard, and a byte wholly inside or outside the current run needs
 * no look at its bits.
 */
export function slotRanges(node: ClusterNode): string {
  if (node.numSlots === 0) return "";
  const bits = node.slots;
  let out = "";
  let start = -1;
  for (let byte = 0; byte < SLOTS >> 3; byte++) {
    const b = bits[byte];
    if (b === (start === -1 ? 0 : 0xff)) continue;
    for (let bit = 0; bit < 8; bit++) {
      const slot = (byte << 3) | bit;
      const served = (b & (1 << bit)) !== 0;
      if (served && start === -1) start = slot;
      else if (!served && start !== -1) {
        out += range(start, slot - 1);
        start = -1;
      }
    }
  }
  return start === -1 ? out : out + range(start, SLOTS - 1);
}

const range = (first: number, last: number): string => (first === last ? ` ${first}` : ` ${first}-${last}`);

/** "ip:port@cport" plus ",hostname" when the node has one. */
export function nodeAddress(node: ClusterNode): string {
  const hostname = node.hostname !== "" ? `,${node.hostname}` : "";
  return `${node.ip}:${node.port}@${node.cport}${hostname}`;
}

/** One node's line, without the newline. */
export function nodeDescription(state: ClusterState, node: ClusterNode): string {
  // A replica shows its primary's configEpoch, as Redis does.
  const epoch = node.isReplica && node.replicaOf !== null ? node.replicaOf.configEpoch : node.configEpoch;
  const linked = node.link !== null || node.has(NodeFlag.MYSELF) ? "connected" : "disconnected";
  let line = `${node.name} ${nodeAddress(node)} ${node.flagString()} ${node.replicaOf?.name ?? "-"} ${node.pingSent} ${node.pongReceived} ${epoch} ${linked}${slotRanges(node)}`;
  if (node === state.myself) {
    for (let slot = 0; slot < SLOTS; slot++) {
      const to = state.migratingTo[slot];
      const from = state.importingFrom[slot];
      if (to !== null) line += ` [${slot}->-${to.name}]`;
      else if (from !== null) line += ` [${slot}-<-${from.name}]`;
    }
  }
  return line;
}

/** Every node's line, each ending in "\n" (Redis's clusterGenNodesDescription); nodes with a flag in skip are left out. */
export function nodesDescription(state: ClusterState, skip = 0): string {
  let out = "";
  for (const node of state.nodes.values()) if ((node.flags & skip) === 0) out += nodeDescription(state, node) + "\n";
  return out;
}
