/**
 * One node of the cluster as this node knows it (Redis's clusterNode):
 * its id, address, role, flags, epochs, slots and the timers failure
 * detection reads. The bus (bus.ts) fills these from gossip; nodes.conf
 * (config-file.ts) saves and restores them.
 */
import type { Connection } from "../io.ts";
import { SLOTS } from "./slot.ts";
import { randomHex } from "../util/random-hex.ts";

/** Redis's node flags, as bits (CLUSTER_NODE_*) and their names in CLUSTER NODES / nodes.conf. */
export const NodeFlag = {
  MASTER: 1,
  SLAVE: 2,
  PFAIL: 4,
  FAIL: 8,
  MYSELF: 16,
  HANDSHAKE: 32,
  NOADDR: 64,
  MEET: 128,
  MIGRATE_TO: 256,
  NOFAILOVER: 512,
} as const;

/** Flag names in Redis's order for CLUSTER NODES ("myself,master", "slave,fail?", "noflags"). */
export const FLAG_NAMES: [number, string][] = [
  [NodeFlag.MYSELF, "myself"],
  [NodeFlag.MASTER, "master"],
  [NodeFlag.SLAVE, "slave"],
  [NodeFlag.PFAIL, "fail?"],
  [NodeFlag.FAIL, "fail"],
  [NodeFlag.HANDSHAKE, "handshake"],
  [NodeFlag.NOADDR, "noaddr"],
  [NodeFlag.NOFAILOVER, "nofailover"],
];

/** A PFAIL report on a node from another primary, with when it was last repeated. */
export interface FailReport {
  node: ClusterNode;
  time: number;
}

/** A bus connection to or from a node (Redis's clusterLink): the bus module owns its parser and buffers. */
export interface ClusterLink {
  conn: Connection;
  /** When the link was made (ms), for CLUSTER LINKS and reconnect back-off. */
  createdAt: number;
  /** The node at the other end; null for an inbound link until its first message names the sender. */
  node: ClusterNode | null;
  inbound: boolean;
  /** Bytes queued and not yet sent, for CLUSTER LINKS send-buffer-* and cluster-link-sendbuf-limit. */
  pending(): number;
  close(): void;
}

export class ClusterNode {
  /** 40 hex characters. */
  name: string;
  flags = 0;
  /** When the node was created here (ms): handshake timeouts. */
  ctime: number;
  configEpoch = 0;
  /** Bitmap of served slots (1 bit a slot). */
  readonly slots = new Uint8Array(SLOTS / 8);
  numSlots = 0;
  /** Replicas of this primary, as known from gossip. */
  replicas: ClusterNode[] = [];
  /** The primary of a replica, else null. */
  replicaOf: ClusterNode | null = null;
  ip = "";
  hostname = "";
  /** Client port (Redis's port) and the plaintext port for TLS setups (pport), and the bus port (cport). */
  port = 0;
  pport = 0;
  cport = 0;
  /** Unix ms of the PING awaiting its PONG (0 when none), the last PONG, the last bytes received. */
  pingSent = 0;
  pongReceived = 0;
  dataReceived = 0;
  /** When this node was marked FAIL, for clearing the flag and failover timing. */
  failTime = 0;
  /** When we last voted for a replica of this primary. */
  votedTime = 0;
  /** When replOffset was last updated, and the replication offset the node advertises. */
  replOffsetTime = 0;
  replOffset = 0;
  /** When a primary became orphaned (no working replica), for replica migration. */
  orphanedTime = 0;
  /** The outbound link (we opened it) and the inbound one (it opened it). */
  link: ClusterLink | null = null;
  inboundLink: ClusterLink | null = null;
  failReports: FailReport[] = [];

  constructor(name: string, flags: number, now: number) {
    this.name = name;
    this.flags = flags;
    this.ctime = now;
  }

  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }

  get isPrimary(): boolean {
    return (this.flags & NodeFlag.MASTER) !== 0;
  }

  get isReplica(): boolean {
    return (this.flags & NodeFlag.SLAVE) !== 0;
  }

  servesSlot(slot: number): boolean {
    return (this.slots[slot >> 3] & (1 << (slot & 7))) !== 0;
  }

  /** Sets the slot's bit; true when it was not set. */
  addSlot(slot: number): boolean {
    if (this.servesSlot(slot)) return false;
    this.slots[slot >> 3] |= 1 << (slot & 7);
    this.numSlots++;
    return true;
  }

  /** Clears the slot's bit; true when it was set. */
  removeSlot(slot: number): boolean {
    if (!this.servesSlot(slot)) return false;
    this.slots[slot >> 3] &= ~(1 << (slot & 7));
    this.numSlots--;
    return true;
  }

  /** "myself,master", "slave,fail?", ... or "noflags", as CLUSTER NODES and nodes.conf show them. */
  flagString(): string {
    const names = FLAG_NAMES.filter(([bit]) => (this.flags & bit) !== 0).map(([, name]) => name);
    return names.length ? names.join(",") : "noflags";
  }
}

/** A new node's random 40-hex-character name, as Redis's getRandomHexChars. */
export function randomNodeName(): string {
  return randomHex(40);
}
