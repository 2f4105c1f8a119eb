/**
 * Replicas in a cluster and failover, as Redis 7.0's cluster.c does them:
 * a node following its primary (CLUSTER REPLICATE, clusterSetMaster, over
 * core/replication/replica.ts), a replica's election when its primary is
 * FAIL (clusterHandleSlaveFailover: data age against
 * cluster-replica-validity-factor, a delay of 500 ms + 0-500 ms random +
 * 1 s per rank, FAILOVER_AUTH_REQUEST, a majority of the slot-serving
 * primaries' votes, the primary's slots taken under the election's epoch and
 * a PONG to everyone), how a primary votes (clusterSendFailoverAuthIfNeeded),
 * manual failover (CLUSTER FAILOVER [FORCE|TAKEOVER]: MFSTART, the primary
 * holding writes and announcing its offset, the replica catching up first),
 * and replica migration to orphaned primaries.
 *
 * The decisions are plain functions over a FailoverHost, so they can be
 * tested without sockets; engineFailover() builds the host of an engine.
 * The bus (bus.ts) calls in here for FAILOVER_AUTH_REQUEST / ACK, MFSTART
 * and every header's offset, from its cron (failoverCron) and before
 * sleeping (failoverBeforeSleep); this module sends through FailoverBus.
 */
import type { Engine } from "../server/engine.ts";
import { type ClusterNode, NodeFlag } from "./node.ts";
import { type ClusterState, Todo } from "./state.ts";
import { SLOTS } from "./slot.ts";
import { CantFailover, type FailoverBus } from "./failover-state.ts";
import { saveClusterConfig } from "./config-file.ts";

export type { FailoverBus };

/**
 * Redis's CLUSTER_MF_TIMEOUT: a manual failover's time limit (ms). The
 * primary holds writes until it ends or times out (Redis's pause lasts
 * twice as long, but the timeout's reset lifts it first).
 */
export const MF_TIMEOUT = 5000;
/** Redis's CLUSTER_SLAVE_MIGRATION_DELAY: how long a primary stays orphaned before a replica migrates to it. */
export const REPLICA_MIGRATION_DELAY = 5000;
/** Redis's CLUSTER_CANT_FAILOVER_RELOG_PERIOD (10 s in 7.0). */
const CANT_FAILOVER_RELOG_PERIOD = 10_000;

type Level = "debug" | "verbose" | "notice" | "warning";

/** The configuration the decisions read. */
export interface FailoverSettings {
  /** cluster-node-timeout (ms). */
  nodeTimeout: number;
  /** cluster-replica-validity-factor; 0 = a replica's data is never too old. */
  validityFactor: number;
  /** repl-ping-replica-period (s). */
  replPingPeriod: number;
  /** cluster-replica-no-failover. */
  noFailover: boolean;
  /** cluster-migration-barrier. */
  migrationBarrier: number;
  /** cluster-allow-replica-migration. */
  allowReplicaMigration: boolean;
}

/** The replication link, as failover reads and drives it (core/replication/replica.ts). */
export interface ReplicationLink {
  /** A primary is configured (Redis's masterhost != NULL). */
  readonly following: boolean;
  /** The stream flows (repl_state CONNECTED). */
  readonly linkUp: boolean;
  /** Last byte from the primary (ms). */
  readonly lastIo: number;
  /** When the link went down (ms), 0 when it never was up. */
  readonly downSince: number;
  /** The primary's offset applied here (replicationGetSlaveOffset). */
  readonly appliedOffset: number;
  follow(host: string, port: number): void;
  unfollow(): void;
}

/** Everything the decisions need from the engine; tests give a fake one. */
export interface FailoverHost {
  readonly cluster: ClusterState;
  now(): number;
  /** A number in [0, 1). */
  random(): number;
  settings(): FailoverSettings;
  readonly replication: ReplicationLink;
  readonly bus: FailoverBus;
  /** Hold writes on this primary during a manual failover (on), or stop (off). */
  holdWrites(on: boolean): void;
  /** Keys in db 0 (CLUSTER REPLICATE refuses a primary holding some). */
  keyCount(): number;
  /** cluster_state recomputed now (clusterUpdateState). */
  updateState(): void;
  /**
   * nodes.conf written and fsynced now. Redis saves before sleeping, which
   * is before the messages queued meanwhile leave; here messages leave at
   * once, so a vote or an election epoch is made durable before it is sent.
   */
  saveConfig(): void;
  log(level: Level, msg: string): void;
}

/** A FAILOVER_AUTH_REQUEST's header fields the vote looks at. */
export interface AuthRequest {
  currentEpoch: number;
  configEpoch: number;
  /** The slots the replica claims (its primary's bitmap). */
  slots: Uint8Array;
  /** CLUSTERMSG_FLAG0_FORCEACK: a manual failover, voted for even while the primary is up. */
  forceAck: boolean;
}

const failed = (n: ClusterNode) => n.has(NodeFlag.FAIL);
const timedOut = (n: ClusterNode) => n.has(NodeFlag.PFAIL);
const slotBit = (bitmap: Uint8Array, slot: number) => (bitmap[slot >> 3] & (1 << (slot & 7))) !== 0;

// ---- following a primary ----

/**
 * Redis's clusterSetMaster: myself (without slots) becomes a replica of n,
 * and replication follows it. A primary gives up its migrating/importing
 * slots.
 */
export function setMyPrimary(h: FailoverHost, n: ClusterNode): void {
  const c = h.cluster;
  const me = c.myself;
  if (me.isPrimary) {
    me.flags = (me.flags & ~(NodeFlag.MASTER | NodeFlag.MIGRATE_TO)) | NodeFlag.SLAVE;
    c.migratingTo.fill(null);
    c.importingFrom.fill(null);
  } else if (me.replicaOf !== null) {
    c.removeReplica(me.replicaOf, me);
  }
  c.addReplica(n, me);
  h.replication.follow(n.ip, n.port);
  resetManualFailover(h);
  // An election this node held before (one it won, then lost its slots again) must not count its votes a second
  // time: Redis keeps them for auth_timeout, and a replica whose new primary failed within that won at once with
  // the old epoch's votes, a win no other node accepts (seen in a mixed cluster). The next election starts afresh.
  const f = c.failover;
  f.authTime = 0;
  f.authCount = 0;
  f.authSent = false;
}

/** CLUSTER REPLICATE <node-id>: null when done, else the error text (without "ERR "). */
export function replicate(h: FailoverHost, name: string): string | null {
  const c = h.cluster;
  const n = c.nodeByName(name);
  if (n === undefined) return `Unknown node ${name}`;
  if (n === c.myself) return "Can't replicate myself";
  if (n.isReplica) return "I can only replicate a master, not a replica.";
  if (c.myself.isPrimary && (c.myself.numSlots !== 0 || h.keyCount() !== 0)) {
    return "To set a master the node must be empty and without assigned slots.";
  }
  setMyPrimary(h, n);
  c.request(Todo.UPDATE_STATE | Todo.SAVE_CONFIG);
  return null;
}

// ---- a primary's vote ----

/**
 * Redis's clusterSendFailoverAuthIfNeeded: a primary serving slots votes
 * once per epoch, for a replica whose primary is FAIL (or any replica with
 * FORCEACK), not twice for the same primary within 2 node timeouts, and
 * only if no slot it claims is served here under a greater configEpoch.
 * Returns whether the vote (FAILOVER_AUTH_ACK) was sent.
 */
export function voteIfNeeded(h: FailoverHost, node: ClusterNode, req: AuthRequest): boolean {
  const c = h.cluster;
  const me = c.myself;
  const primary = node.replicaOf;
  if (me.isReplica || me.numSlots === 0) return false;
  const deny = (why: string) => {
    h.log("warning", `Failover auth denied to ${node.name}: ${why}`);
    return false;
  };
  if (req.currentEpoch < c.currentEpoch) return deny(`reqEpoch (${req.currentEpoch}) < curEpoch(${c.currentEpoch})`);
  if (c.lastVoteEpoch === c.currentEpoch) return deny(`already voted for epoch ${c.currentEpoch}`);
  if (node.isPrimary) return deny("it is a master node");
  if (primary === null) return deny("I don't know its master");
  if (!failed(primary) && !req.forceAck) return deny("its master is up");
  const now = h.now();
  const twice = h.settings().nodeTimeout * 2;
  if (now - primary.votedTime < twice) {
    return deny(`can't vote about this master before ${twice - (now - primary.votedTime)} milliseconds`);
  }
  for (let slot = 0; slot < SLOTS; slot++) {
    if (!slotBit(req.slots, slot)) continue;
    const owner = c.slots[slot];
    if (owner === null || owner.configEpoch <= req.configEpoch) continue;
    return deny(`slot ${slot} epoch (${owner.configEpoch}) > reqEpoch (${req.configEpoch})`);
  }
  c.lastVoteEpoch = c.currentEpoch;
  primary.votedTime = now;
  h.saveConfig();
  h.bus.sendAuthAck(node);
  h.log("warning", `Failover auth granted to ${node.name} for epoch ${c.currentEpoch}`);
  return true;
}

/** A FAILOVER_AUTH_ACK: counted when from a primary serving slots, sent in this election's epoch or later. */
export function authAckReceived(h: FailoverHost, sender: ClusterNode, senderCurrentEpoch: number): void {
  const c = h.cluster;
  if (sender.isPrimary && sender.numSlots > 0 && senderCurrentEpoch >= c.failover.authEpoch) {
    c.failover.authCount++;
    // Maybe a majority now: check before sleeping rather than at the next cron.
    c.request(Todo.HANDLE_FAILOVER);
  }
}

// ---- a replica's election ----

/**
 * Redis's clusterGetSlaveRank: how many other replicas of my primary
 * (those that may fail over) announced a greater replication offset.
 */
export function replicaRank(c: ClusterState, myOffset: number): number {
  const primary = c.myself.replicaOf;
  if (primary === null) return 0;
  let rank = 0;
  for (const r of primary.replicas) {
    if (r !== c.myself && !r.has(NodeFlag.NOFAILOVER) && r.replOffset > myOffset) rank++;
  }
  return rank;
}

/** Redis's clusterLogCantFailover: why no failover yet, at most every 10 s per reason, not in the first node timeout + 5 s. */
function logCantFailover(h: FailoverHost, reason: number): void {
  const f = h.cluster.failover;
  const now = h.now();
  if (reason === f.cantReason && now - f.cantLoggedAt < CANT_FAILOVER_RELOG_PERIOD) return;
  f.cantReason = reason;
  const primary = h.cluster.myself.replicaOf;
  if (primary !== null && failed(primary) && now - primary.failTime < h.settings().nodeTimeout + 5000) return;
  const msg = {
    [CantFailover.DATA_AGE]:
      "Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.",
    [CantFailover.WAITING_DELAY]: "Waiting the delay before I can start a new failover.",
    [CantFailover.EXPIRED]: "Failover attempt expired.",
    [CantFailover.WAITING_VOTES]: "Waiting for votes, but majority still not reached.",
  }[reason] ?? "Unknown reason code.";
  f.cantLoggedAt = now;
  h.log("warning", `Currently unable to failover: ${msg}`);
}

/**
 * Redis's clusterFailoverReplaceYourMaster: the end of every failover:
 * myself a primary, replication stopped (the old history kept as replid2),
 * the old primary's slots claimed, the state saved and a PONG to everyone
 * so they learn the new configuration.
 */
export function replaceMyPrimary(h: FailoverHost): void {
  const c = h.cluster;
  const me = c.myself;
  const old = me.replicaOf;
  if (me.isPrimary || old === null) return;
  c.setPrimary(me);
  h.replication.unfollow();
  for (let slot = 0; slot < SLOTS; slot++) {
    if (old.servesSlot(slot)) c.moveSlot(slot, me);
  }
  h.updateState();
  h.saveConfig();
  h.bus.broadcastPong(false);
  resetManualFailover(h);
}

/**
 * Redis's clusterHandleSlaveFailover, run from the cron and before sleeping:
 * when myself is a replica whose primary (serving slots) is FAIL, or a
 * manual failover may start, schedule an election (500 ms + 0-500 ms +
 * rank s; at once for a manual one), ask for votes in a new epoch when its
 * time comes, and take over once a majority of the primaries voted.
 */
export function handleReplicaFailover(h: FailoverHost): void {
  const c = h.cluster;
  const f = c.failover;
  const me = c.myself;
  const s = h.settings();
  const now = h.now();
  c.todo &= ~Todo.HANDLE_FAILOVER;
  const authAge = now - f.authTime;
  const quorum = Math.floor(c.size / 2) + 1;
  const manual = f.mfEnd !== 0 && f.mfCanStart;
  const authTimeout = Math.max(s.nodeTimeout * 2, 2000);
  const authRetryTime = authTimeout * 2;
  const primary = me.replicaOf;
  if (
    me.isPrimary || primary === null || (!failed(primary) && !manual) || (s.noFailover && !manual) ||
    primary.numSlots === 0
  ) {
    f.cantReason = CantFailover.NONE;
    return;
  }
  // How long the data has not moved, in whole seconds as Redis's unixtime; the node timeout it took to see FAIL is the baseline.
  const r = h.replication;
  const sec = (ms: number) => Math.floor(ms / 1000);
  let dataAge = (sec(now) - sec(r.linkUp ? r.lastIo : r.downSince)) * 1000;
  if (dataAge > s.nodeTimeout) dataAge -= s.nodeTimeout;
  if (s.validityFactor !== 0 && dataAge > s.replPingPeriod * 1000 + s.nodeTimeout * s.validityFactor && !manual) {
    return logCantFailover(h, CantFailover.DATA_AGE);
  }
  if (authAge > authRetryTime) {
    f.authTime = now + 500 + Math.floor(h.random() * 500);
    f.authCount = 0;
    f.authSent = false;
    f.authRank = replicaRank(c, r.appliedOffset);
    f.authTime += f.authRank * 1000;
    if (f.mfEnd !== 0) {
      f.authTime = now;
      f.authRank = 0;
      c.request(Todo.HANDLE_FAILOVER);
    }
    h.log("warning", `Start of election delayed for ${f.authTime - now} milliseconds (rank #${f.authRank}, offset ${r.appliedOffset}).`);
    // The other replicas learn our offset, to compute their own rank.
    h.bus.broadcastPong(true);
    return;
  }
  // Better offsets announced by the other replicas since: a later start.
  if (!f.authSent && f.mfEnd === 0) {
    const rank = replicaRank(c, r.appliedOffset);
    if (rank > f.authRank) {
      const added = (rank - f.authRank) * 1000;
      f.authTime += added;
      f.authRank = rank;
      h.log("warning", `Replica rank updated to #${rank}, added ${added} milliseconds of delay.`);
    }
  }
  if (now < f.authTime) return logCantFailover(h, CantFailover.WAITING_DELAY);
  if (authAge > authTimeout) return logCantFailover(h, CantFailover.EXPIRED);
  if (!f.authSent) {
    c.currentEpoch++;
    f.authEpoch = c.currentEpoch;
    h.log("warning", `Starting a failover election for epoch ${c.currentEpoch}.`);
    h.saveConfig();
    h.bus.requestAuth(f.mfEnd !== 0);
    f.authSent = true;
    c.request(Todo.UPDATE_STATE);
    return;
  }
  if (f.authCount >= quorum) {
    h.log("warning", "Failover election won: I'm the new master.");
    if (me.configEpoch < f.authEpoch) {
      me.configEpoch = f.authEpoch;
      h.log("warning", `configEpoch set to ${me.configEpoch} after successful failover`);
    }
    replaceMyPrimary(h);
  } else {
    logCantFailover(h, CantFailover.WAITING_VOTES);
  }
}

// ---- manual failover ----

/** Redis's resetManualFailover: no manual failover in progress; a primary that held writes for one lets them go. */
export function resetManualFailover(h: FailoverHost): void {
  const f = h.cluster.failover;
  if (f.mfReplica !== null) h.holdWrites(false);
  f.mfEnd = 0;
  f.mfCanStart = false;
  f.mfReplica = null;
  f.mfPrimaryOffset = -1;
}

/**
 * CLUSTER FAILOVER [FORCE|TAKEOVER] on a replica: null when started, else
 * the error text. Plain: MFSTART to the primary, which holds writes and
 * announces its offset; the election starts once it is reached. FORCE: the
 * election starts at once. TAKEOVER: no election, a new configEpoch and
 * the slots taken now.
 */
export function manualFailover(h: FailoverHost, force: boolean, takeover: boolean): string | null {
  const c = h.cluster;
  const f = c.failover;
  const me = c.myself;
  const primary = me.replicaOf;
  if (me.isPrimary) return "You should send CLUSTER FAILOVER to a replica";
  if (primary === null) return "I'm a replica but my master is unknown to me";
  if (!force && (failed(primary) || primary.link === null)) {
    return "Master is down or failed, please use CLUSTER FAILOVER FORCE";
  }
  resetManualFailover(h);
  f.mfEnd = h.now() + MF_TIMEOUT;
  if (takeover) {
    h.log("warning", "Taking over the master (user request).");
    c.bumpConfigEpochWithoutConsensus();
    replaceMyPrimary(h);
  } else if (force) {
    h.log("warning", "Forced failover user request accepted.");
    f.mfCanStart = true;
  } else {
    h.log("warning", "Manual failover user request accepted.");
    h.bus.sendMfStart(primary);
  }
  return null;
}

/**
 * An MFSTART from sender: accepted only from one of my replicas. This
 * primary holds writes until the manual failover ends (5 s at most), flags
 * its messages PAUSED and pings the replica, so it learns the offset to
 * reach.
 */
export function mfStartReceived(h: FailoverHost, sender: ClusterNode): void {
  const c = h.cluster;
  if (sender.replicaOf !== c.myself) return;
  resetManualFailover(h);
  c.failover.mfEnd = h.now() + MF_TIMEOUT;
  c.failover.mfReplica = sender;
  h.holdWrites(true);
  h.log("warning", `Manual failover requested by replica ${sender.name}.`);
  h.bus.sendPing(sender);
}

/**
 * Every message header from a known node, after its offset was recorded
 * in sender.replOffset: a replica in a manual failover takes its primary's
 * offset from the first message flagged PAUSED.
 */
export function offsetAnnounced(h: FailoverHost, sender: ClusterNode, paused: boolean): void {
  const c = h.cluster;
  const f = c.failover;
  if (f.mfEnd === 0 || !paused || !c.myself.isReplica || c.myself.replicaOf !== sender || f.mfPrimaryOffset !== -1) return;
  f.mfPrimaryOffset = sender.replOffset;
  c.request(Todo.HANDLE_MANUALFAILOVER);
  h.log("warning", `Received replication offset for paused master manual failover: ${f.mfPrimaryOffset}`);
}

/** Whether this node's messages carry the PAUSED flag (CLUSTERMSG_FLAG0_PAUSED): a primary in a manual failover. */
export function pausedForManualFailover(c: ClusterState): boolean {
  return c.myself.isPrimary && c.failover.mfEnd !== 0;
}

/** Redis's clusterHandleManualFailover: once the replica applied the paused primary's offset, the election may start. */
export function handleManualFailover(h: FailoverHost): void {
  const c = h.cluster;
  const f = c.failover;
  if (f.mfEnd === 0 || f.mfCanStart || f.mfPrimaryOffset === -1) return;
  // Not reached yet: the cron looks again (Redis also re-arms its before-sleep step, which here would spin).
  if (f.mfPrimaryOffset !== h.replication.appliedOffset) return;
  f.mfCanStart = true;
  h.log("warning", "All master replication stream processed, manual failover can start.");
  c.request(Todo.HANDLE_FAILOVER);
}

/** Redis's manualFailoverCheckTimeout. */
export function manualFailoverCheckTimeout(h: FailoverHost): void {
  const f = h.cluster.failover;
  if (f.mfEnd !== 0 && f.mfEnd < h.now()) {
    h.log("warning", "Manual failover timed out.");
    resetManualFailover(h);
  }
}

// ---- replica migration ----

/** Replicas of primary not flagged FAIL (clusterCountNonFailingSlaves). */
export function workingReplicas(primary: ClusterNode): number {
  let n = 0;
  for (const r of primary.replicas) if (!failed(r)) n++;
  return n;
}

/**
 * Redis's clusterHandleSlaveMigration, for a replica of one of the primaries
 * with the most working replicas (maxReplicas): when the cluster is ok, my
 * primary keeps more than cluster-migration-barrier working replicas, a
 * primary has been orphaned for 5 s and I have the smallest name among the
 * candidates, I move to it.
 */
export function handleReplicaMigration(h: FailoverHost, maxReplicas: number): void {
  const c = h.cluster;
  const me = c.myself;
  const mine = me.replicaOf;
  if (!c.ok || mine === null) return;
  let ok = 0;
  for (const r of mine.replicas) if (!failed(r) && !timedOut(r)) ok++;
  if (ok <= h.settings().migrationBarrier) return;
  const now = h.now();
  let target: ClusterNode | null = null;
  let candidate = me;
  for (const node of c.nodes.values()) {
    let working = 0;
    let orphaned = !node.isReplica && !failed(node) && node.has(NodeFlag.MIGRATE_TO);
    if (node.isPrimary) working = workingReplicas(node);
    if (working > 0) orphaned = false;
    if (orphaned) {
      if (target === null && node.numSlots > 0) target = node;
      if (node.orphanedTime === 0) node.orphanedTime = now;
    } else {
      node.orphanedTime = 0;
    }
    if (working === maxReplicas) {
      for (const r of node.replicas) if (r.name < candidate.name) candidate = r;
    }
  }
  if (target !== null && candidate === me && now - target.orphanedTime > REPLICA_MIGRATION_DELAY) {
    h.log("warning", `Migrating to orphaned master ${target.name}`);
    setMyPrimary(h, target);
  }
}

// ---- the cron and before sleeping ----

/**
 * The failover part of Redis's clusterCron (every 100 ms), run by the bus
 * after its own: myself's nofailover flag from the config, a primary in a
 * manual failover pinging its replica, a replica starting replication when
 * it has none (after a restart), manual failover timeouts, the election and
 * replica migration.
 */
export function failoverCron(h: FailoverHost): void {
  const c = h.cluster;
  // The bus running this cron is the one failover sends through between ticks (commands, before sleeping).
  if (h.bus !== NO_BUS) c.failover.bus = h.bus;
  const me = c.myself;
  const f = c.failover;
  const s = h.settings();
  // Redis's clusterUpdateMyselfFlags.
  const flags = s.noFailover ? me.flags | NodeFlag.NOFAILOVER : me.flags & ~NodeFlag.NOFAILOVER;
  if (flags !== me.flags) {
    me.flags = flags;
    c.request(Todo.SAVE_CONFIG | Todo.UPDATE_STATE);
  }
  let orphaned = 0;
  let maxReplicas = 0;
  let mine = 0;
  for (const node of c.nodes.values()) {
    if (node.flags & (NodeFlag.MYSELF | NodeFlag.NOADDR | NodeFlag.HANDSHAKE)) continue;
    if (me.isReplica && node.isPrimary && !failed(node)) {
      const working = workingReplicas(node);
      if (working === 0 && node.numSlots > 0 && node.has(NodeFlag.MIGRATE_TO)) orphaned++;
      if (working > maxReplicas) maxReplicas = working;
      if (me.replicaOf === node) mine = working;
    }
  }
  if (f.mfEnd !== 0 && me.isPrimary && f.mfReplica !== null && f.mfReplica.link !== null) h.bus.sendPing(f.mfReplica);
  const primary = me.replicaOf;
  if (me.isReplica && !h.replication.following && primary !== null && !primary.has(NodeFlag.NOADDR) && primary.ip !== "") {
    h.replication.follow(primary.ip, primary.port);
  }
  manualFailoverCheckTimeout(h);
  if (!me.isReplica) return;
  handleManualFailover(h);
  handleReplicaFailover(h);
  if (orphaned > 0 && maxReplicas >= 2 && mine === maxReplicas && s.allowReplicaMigration) {
    handleReplicaMigration(h, maxReplicas);
  }
}

/** The failover part of Redis's clusterBeforeSleep, given the todo bits it took. */
export function failoverBeforeSleep(h: FailoverHost, todo: number): void {
  if (todo & Todo.HANDLE_MANUALFAILOVER) {
    if (h.cluster.myself.isReplica) {
      handleManualFailover(h);
      handleReplicaFailover(h);
    }
  } else if (todo & Todo.HANDLE_FAILOVER) {
    handleReplicaFailover(h);
  }
}

// ---- the engine's host ----

/** The replication offset a node announces in its messages: applied from its primary, or its own stream's. */
export function announcedOffset(e: Engine): number {
  return e.cluster !== null && e.cluster.myself.isReplica ? e.replica.appliedOffset : e.primary.offset;
}

/** Sends nothing: the bus is not up yet. */
const NO_BUS: FailoverBus = {
  requestAuth() {},
  sendAuthAck() {},
  sendMfStart() {},
  sendPing() {},
  broadcastPong() {},
};

/**
 * The engine's FailoverHost over bus (the bus makes its own with itself).
 * The cluster state is read from the engine each time: startup replaces it
 * with the one loaded from nodes.conf.
 */
export function engineFailover(e: Engine, bus: FailoverBus): FailoverHost {
  const conf = e.config;
  return {
    get cluster() {
      return e.cluster!;
    },
    bus,
    replication: e.replica,
    now: () => e.clock.now(),
    random: Math.random,
    settings: () => ({
      nodeTimeout: conf.num("cluster-node-timeout"),
      validityFactor: conf.num("cluster-replica-validity-factor"),
      replPingPeriod: conf.num("repl-ping-replica-period"),
      noFailover: conf.bool("cluster-replica-no-failover"),
      migrationBarrier: conf.num("cluster-migration-barrier"),
      allowReplicaMigration: conf.bool("cluster-allow-replica-migration"),
    }),
    holdWrites: (on) => e.pause.holdWritesForFailover(on),
    keyCount: () => e.dbs[0].size,
    updateState: () =>
      e.cluster!.updateState(e.clock.now(), {
        requireFullCoverage: conf.bool("cluster-require-full-coverage"),
        nodeTimeout: conf.num("cluster-node-timeout"),
      }),
    saveConfig: () => {
      const c = e.cluster!;
      c.todo &= ~(Todo.SAVE_CONFIG | Todo.FSYNC_CONFIG);
      const error = saveClusterConfig(e, c, true);
      if (error !== null) e.log("warning", `Could not save the cluster configuration: ${error}`);
    },
    log: (level, msg) => e.log(level, msg),
  };
}

/** The engine's FailoverHost (in cluster mode) for commands and before sleeping: over the engine's bus once it runs. */
export function clusterFailoverHost(e: Engine): FailoverHost {
  return engineFailover(e, e.clusterBus ?? e.cluster!.failover.bus ?? NO_BUS);
}
