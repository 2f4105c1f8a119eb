/**
 * This node's view of the cluster (Redis's clusterState): every known
 * node, which node serves each slot, slots being migrated or imported,
 * the epochs, and whether the cluster is up. One per engine, as
 * `engine.cluster` (null when cluster-enabled is no).
 *
 * Who changes it: the CLUSTER commands (core/commands/cluster*.ts), the bus
 * (bus.ts: gossip, failure detection, UPDATE) and failover (failover.ts).
 * Every change that must outlive a restart asks for a nodes.conf save
 * through `todo` (requestSave), done once before the event loop sleeps, as
 * Redis's clusterBeforeSleep does; the engine glue is
 * core/server/cluster-mode.ts.
 *
 * The helpers below are the API the other cluster modules call; they keep
 * the slot table, the nodes' bitmaps and the primary/replica links in step.
 * Add helpers, don't rename them.
 */
import { type ClusterNode, NodeFlag } from "./node.ts";
import { SLOTS } from "./slot.ts";
import { FailoverState } from "./failover-state.ts";

/** What is left to do before sleeping (Redis's CLUSTER_TODO_*). */
export const Todo = {
  HANDLE_FAILOVER: 1,
  UPDATE_STATE: 2,
  SAVE_CONFIG: 4,
  FSYNC_CONFIG: 8,
  HANDLE_MANUALFAILOVER: 16,
} as const;

/** Redis's CLUSTER_MIN/MAX_REJOIN_DELAY and CLUSTER_WRITABLE_DELAY (ms). */
const MIN_REJOIN_DELAY = 500;
const MAX_REJOIN_DELAY = 5000;
const WRITABLE_DELAY = 2000;

/** What updateState reads from the configuration. */
export interface StateSettings {
  requireFullCoverage: boolean;
  nodeTimeout: number;
}

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
  /** Elections and manual failovers in progress (failover.ts). */
  readonly failover = new FailoverState();
  /** Bus messages sent and received by type (cluster_stats_messages_*): keys are Redis's names ("ping", "pong", "meet", "fail", "publish", "publishshard", "auth-req", "auth-ack", "update", "mfstart", "module"). */
  readonly sent = new Map<string, number>();
  readonly received = new Map<string, number>();
  /** Links closed for passing cluster-link-sendbuf-limit (total_cluster_links_buffer_limit_exceeded). */
  linksBufferLimitExceeded = 0;
  /** When updateState first ran, and when this node last found itself among a minority (Redis's statics). */
  private firstUpdateTime = 0;
  private amongMinorityTime = 0;
  /** Called when a todo bit is set, so the engine runs beforeSleep soon (set by core/server/cluster-mode.ts). */
  wake: () => void = () => {};
  /** Called as a slot this node's shard serves is freed (set by the engine: its shard channels' subscribers are dropped). */
  slotLeaving: (slot: number) => void = () => {};
  /** Log lines (set by the engine): level as the engine's. */
  log: (level: "debug" | "verbose" | "notice" | "warning", msg: string) => void = () => {};

  constructor(myself: ClusterNode) {
    this.myself = myself;
    myself.flags |= NodeFlag.MYSELF;
    this.nodes.set(myself.name, myself);
  }

  // ---- nodes ----

  /** A node by its 40-character name (Redis's clusterLookupNode), or undefined. */
  nodeByName(name: string): ClusterNode | undefined {
    return this.nodes.get(name);
  }

  /** Adds a node to the table (Redis's clusterAddNode); a node of that name already there is replaced in the map. */
  addNode(node: ClusterNode): void {
    this.nodes.set(node.name, node);
  }

  /**
   * Removes a node (Redis's clusterDelNode + freeClusterNode): its slots
   * unassigned, migrations to/from it cleared, the fail reports it made
   * dropped, unlinked from its primary and replicas, its links closed.
   * Asks for nothing to be saved: callers do (requestSave).
   */
  deleteNode(node: ClusterNode): void {
    for (let slot = 0; slot < SLOTS; slot++) {
      if (this.importingFrom[slot] === node) this.importingFrom[slot] = null;
      if (this.migratingTo[slot] === node) this.migratingTo[slot] = null;
      if (this.slots[slot] === node) this.unassignSlot(slot);
    }
    for (const other of this.nodes.values()) {
      if (other !== node) other.failReports = other.failReports.filter((r) => r.node !== node);
    }
    if (node.replicaOf !== null) this.removeReplica(node.replicaOf, node);
    for (const r of node.replicas) r.replicaOf = null;
    node.replicas = [];
    if (node.link !== null) node.link.close();
    if (node.inboundLink !== null) node.inboundLink.close();
    node.link = node.inboundLink = null;
    if (this.nodes.get(node.name) === node) this.nodes.delete(node.name);
  }

  /** Gives a node (a handshake node, named at random until its first reply) its real name (Redis's clusterRenameNode). */
  renameNode(node: ClusterNode, name: string): void {
    if (this.nodes.get(node.name) === node) this.nodes.delete(node.name);
    node.name = name;
    this.nodes.set(name, node);
  }

  /** Every primary known (flag MASTER), myself included when a primary. */
  *primaries(): Iterable<ClusterNode> {
    for (const n of this.nodes.values()) if (n.isPrimary) yield n;
  }

  // ---- replicas ----

  /** Records replica under primary (Redis's clusterNodeAddSlave): false when already there. Sets replica.replicaOf. */
  addReplica(primary: ClusterNode, replica: ClusterNode): boolean {
    replica.replicaOf = primary;
    if (primary.replicas.includes(replica)) return false;
    primary.replicas.push(replica);
    primary.flags |= NodeFlag.MIGRATE_TO;
    return true;
  }

  /** Drops replica from primary's list (Redis's clusterNodeRemoveSlave): false when not there. Leaves replica.replicaOf. */
  removeReplica(primary: ClusterNode, replica: ClusterNode): boolean {
    const i = primary.replicas.indexOf(replica);
    if (i === -1) return false;
    primary.replicas.splice(i, 1);
    if (primary.replicas.length === 0) primary.flags &= ~NodeFlag.MIGRATE_TO;
    return true;
  }

  /** Makes node a replica of primary: flags, lists and links both ways (what gossip and CLUSTER REPLICATE do). */
  setReplicaOf(node: ClusterNode, primary: ClusterNode): void {
    if (node.replicaOf !== null && node.replicaOf !== primary) this.removeReplica(node.replicaOf, node);
    node.flags = (node.flags & ~(NodeFlag.MASTER | NodeFlag.MIGRATE_TO)) | NodeFlag.SLAVE;
    this.addReplica(primary, node);
  }

  /** Makes node a primary (Redis's clusterSetNodeAsMaster): out of its primary's replica list, flag MASTER. */
  setPrimary(node: ClusterNode): void {
    if (node.isPrimary && node.replicaOf === null) return;
    if (node.replicaOf !== null) {
      this.removeReplica(node.replicaOf, node);
      if (node !== this.myself) node.flags |= NodeFlag.MIGRATE_TO;
    }
    node.flags = (node.flags & ~NodeFlag.SLAVE) | NodeFlag.MASTER;
    node.replicaOf = null;
  }

  // ---- slots ----

  /**
   * Assigns a free slot to node (Redis's clusterAddSlot): false when the
   * slot already has an owner. A primary getting its first slot is flagged
   * MIGRATE_TO when some primary has replicas, as Redis's clusterNodeSetSlotBit.
   */
  assignSlot(slot: number, node: ClusterNode): boolean {
    if (this.slots[slot] !== null) return false;
    if (node.addSlot(slot) && node.numSlots === 1 && this.primariesHaveReplicas()) node.flags |= NodeFlag.MIGRATE_TO;
    this.slots[slot] = node;
    return true;
  }

  /**
   * Frees a slot (Redis's clusterDelSlot): false when it had no owner. When
   * myself is its owner's primary or one of that primary's replicas, the
   * engine hears of it first (slotLeaving), as Redis's removeChannelsInSlot.
   */
  unassignSlot(slot: number): boolean {
    const owner = this.slots[slot];
    if (owner === null) return false;
    const primary = owner.isPrimary ? owner : owner.replicaOf;
    if (primary === this.myself || (primary !== null && primary.replicas.includes(this.myself))) this.slotLeaving(slot);
    owner.removeSlot(slot);
    this.slots[slot] = null;
    return true;
  }

  /** Frees every slot node serves (Redis's clusterDelNodeSlots): how many. */
  unassignAllSlots(node: ClusterNode): number {
    let freed = 0;
    for (let slot = 0; slot < SLOTS; slot++) if (this.slots[slot] === node && this.unassignSlot(slot)) freed++;
    return freed;
  }

  /** Moves a slot to node whoever served it (unassign then assign). */
  moveSlot(slot: number, node: ClusterNode): void {
    this.unassignSlot(slot);
    this.assignSlot(slot, node);
  }

  /** Whether any primary has at least one replica (Redis's clusterMastersHaveSlaves). */
  primariesHaveReplicas(): boolean {
    for (const n of this.nodes.values()) if (n.isPrimary && n.replicas.length > 0) return true;
    return false;
  }

  /** The primary whose slots this node serves: myself, or the primary myself replicates (null when unknown). */
  get myPrimary(): ClusterNode | null {
    return this.myself.isPrimary ? this.myself : this.myself.replicaOf;
  }

  // ---- epochs ----

  /** The greatest configEpoch known, or currentEpoch when greater (Redis's clusterGetMaxEpoch). */
  maxEpoch(): number {
    let max = 0;
    for (const n of this.nodes.values()) if (n.configEpoch > max) max = n.configEpoch;
    return Math.max(max, this.currentEpoch);
  }

  /**
   * Redis's clusterBumpConfigEpochWithoutConsensus: unless myself already
   * has the greatest configEpoch (and it is not 0), a new epoch is taken
   * for myself. True when bumped (then the config is saved, with fsync).
   */
  bumpConfigEpochWithoutConsensus(): boolean {
    const max = this.maxEpoch();
    if (this.myself.configEpoch === 0 || this.myself.configEpoch !== max) {
      this.currentEpoch++;
      this.myself.configEpoch = this.currentEpoch;
      this.requestSave(true);
      this.log("warning", `New configEpoch set to ${this.myself.configEpoch}`);
      return true;
    }
    return false;
  }

  // ---- deferred work ----

  /** Asks for nodes.conf to be written before sleeping (and fsynced when fsync), as clusterDoBeforeSleep(SAVE_CONFIG|FSYNC_CONFIG). */
  requestSave(fsync = false): void {
    this.request(Todo.SAVE_CONFIG | (fsync ? Todo.FSYNC_CONFIG : 0));
  }

  /** Asks for updateState before sleeping. */
  requestUpdateState(): void {
    this.request(Todo.UPDATE_STATE);
  }

  /** Sets todo bits (Redis's clusterDoBeforeSleep) and wakes the engine's before-sleep step. */
  request(bits: number): void {
    const before = this.todo;
    this.todo |= bits;
    if (before === 0) this.wake();
  }

  /**
   * Redis's clusterUpdateState: cluster_state ok when every slot is served
   * by a node not FAIL (with cluster-require-full-coverage) and a majority
   * of the slot-serving primaries is reachable; cluster_size counted. A
   * primary waits 2 s after startup before turning ok, and rejoins a
   * majority only after the rejoin delay (node timeout, 500..5000 ms).
   */
  updateState(now: number, settings: StateSettings): void {
    this.todo &= ~Todo.UPDATE_STATE;
    if (this.firstUpdateTime === 0) this.firstUpdateTime = now;
    if (this.myself.isPrimary && !this.ok && now - this.firstUpdateTime < WRITABLE_DELAY) return;
    let ok = true;
    if (settings.requireFullCoverage) {
      for (let slot = 0; slot < SLOTS; slot++) {
        const owner = this.slots[slot];
        if (owner === null || owner.has(NodeFlag.FAIL)) {
          ok = false;
          break;
        }
      }
    }
    let size = 0;
    let reachable = 0;
    for (const n of this.nodes.values()) {
      if (!n.isPrimary || n.numSlots === 0) continue;
      size++;
      if ((n.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) === 0) reachable++;
    }
    this.size = size;
    if (reachable < Math.floor(size / 2) + 1) {
      ok = false;
      this.amongMinorityTime = now;
    }
    if (ok === this.ok) return;
    const rejoinDelay = Math.min(MAX_REJOIN_DELAY, Math.max(MIN_REJOIN_DELAY, settings.nodeTimeout));
    if (ok && this.myself.isPrimary && now - this.amongMinorityTime < rejoinDelay) return;
    this.log("warning", `Cluster state changed: ${ok ? "ok" : "fail"}`);
    this.ok = ok;
  }

  // ---- bus statistics ----

  /** Counts a bus message sent (type as in `sent`). */
  countSent(type: string): void {
    this.sent.set(type, (this.sent.get(type) ?? 0) + 1);
  }

  /** Counts a bus message received (type as in `received`). */
  countReceived(type: string): void {
    this.received.set(type, (this.received.get(type) ?? 0) + 1);
  }
}
