/**
 * What a node remembers between cron ticks about its elections and manual
 * failovers (Redis's clusterState failover_auth_* and mf_* fields). Apart
 * from the logic (failover.ts) so that ClusterState can hold it without
 * importing that logic.
 */
import type { ClusterNode } from "./node.ts";

/** Why a replica is not failing over now (Redis's CLUSTER_CANT_FAILOVER_*), for its rate-limited log line. */
export const CantFailover = {
  NONE: 0,
  DATA_AGE: 1,
  WAITING_DELAY: 2,
  EXPIRED: 3,
  WAITING_VOTES: 4,
} as const;

/** What failover sends on the bus (bus.ts builds the messages and registers itself in FailoverState.bus). */
export interface FailoverBus {
  /** FAILOVER_AUTH_REQUEST to every node with a link (clusterRequestFailoverAuth); with the FORCEACK flag when forceAck. */
  requestAuth(forceAck: boolean): void;
  /** FAILOVER_AUTH_ACK to node (clusterSendFailoverAuth). */
  sendAuthAck(node: ClusterNode): void;
  /** MFSTART to node (clusterSendMFStart). */
  sendMfStart(node: ClusterNode): void;
  /** A PING to node. */
  sendPing(node: ClusterNode): void;
  /** A PONG to every node, or (localReplicas) only to the replicas of this node's primary (clusterBroadcastPong). */
  broadcastPong(localReplicas: boolean): void;
}

export class FailoverState {
  /** How failover sends: set by the bus when it starts (bus.ts); null before. */
  bus: FailoverBus | null = null;
  /** When this replica's election may start, or started (ms); 0 when there never was one. */
  authTime = 0;
  /** Votes received for the current election. */
  authCount = 0;
  /** Whether FAILOVER_AUTH_REQUEST went out for the current election. */
  authSent = false;
  /** This replica's rank among its primary's replicas when the election was scheduled. */
  authRank = 0;
  /** The epoch the current election asks votes for. */
  authEpoch = 0;
  /** The last reason logged for not failing over (CantFailover), and when (ms). */
  cantReason: number = CantFailover.NONE;
  cantLoggedAt = 0;
  /** A manual failover in progress ends (is aborted) at this time (ms); 0 when none. */
  mfEnd = 0;
  /** Replica side: the primary's offset was reached (or FORCE): the election may run. */
  mfCanStart = false;
  /** Primary side: the replica that asked for the manual failover (MFSTART). */
  mfReplica: ClusterNode | null = null;
  /** Replica side: the offset the paused primary announced, -1 until it did. */
  mfPrimaryOffset = -1;
}
