/**
 * This node's view of the cluster (Redis's clusterState): every known
 * node, which node serves each slot, slots being migrated or imported,
 * the epochs, and whether the cluster is up. One per engine, as
 * `engine.cluster` (null when cluster-enabled is no).
 *
 * Who changes it: the CLUSTER commands (core/commands/cluster*.ts), the bus
 * (bus.ts: gossip, failure detection, UPDATE) and failover (failover.ts).
 * Every change that must outlive a restart asks for a nodes.conf save
 * through `todo`, done once before the event loop sleeps, as Redis's
 * clusterBeforeSleep does.
 */
import { ClusterNode, NodeFlag } from "./node.ts";
import { SLOTS } from "./slot.ts";

/** What is left to do before sleeping (Redis's CLUSTER_TODO_*). */
export const Todo = {
  HANDLE_FAILOVER: 1,
  UPDATE_STATE: 2,
  SAVE_CONFIG: 4,
  FSYNC_CONFIG: 8,
  HANDLE_MANUALFAILOVER: 16,
} as const;

export class ClusterState {
  myself: ClusterNode;
  currentEpoch = 0;
  lastVoteEpoch = 0;
  /** cluster_state: ok or fail. */
  ok = false;
  /** Primaries serving at least one slot (cluster_size). */
  size = 0;
  readonly nodes = new Map<string, ClusterNode>();
  /** Nodes forgotten with CLUSTER FORGET, by name, until when (ms) gossip may not re-add them. */
  readonly forgotten = new Map<string, number>();
  /** The node serving each slot, or null when unassigned. */
  readonly slots: (ClusterNode | null)[] = new Array(SLOTS).fill(null);
  /** CLUSTER SETSLOT MIGRATING / IMPORTING: the node each slot moves to / from, else null. */
  readonly migratingTo: (ClusterNode | null)[] = new Array(SLOTS).fill(null);
  readonly importingFrom: (ClusterNode | null)[] = new Array(SLOTS).fill(null);
  /** Bits of Todo. */
  todo = 0;
  /** Bus messages sent and received by type (cluster_stats_messages_*). */
  readonly sent = new Map<string, number>();
  readonly received = new Map<string, number>();

  constructor(myself: ClusterNode) {
    this.myself = myself;
    myself.flags |= NodeFlag.MYSELF;
    this.nodes.set(myself.name, myself);
  }
}
