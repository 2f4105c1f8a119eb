/**
 * The cluster bus, as Redis 7.0's cluster.c runs it: a listener on the bus
 * port (cluster-port, or port + 10000) whose links carry bus-message.ts
 * messages, an outbound link to every known node, the MEET handshake,
 * nodes learned from gossip, PING/PONG on Redis's schedule (clusterCron
 * every 100 ms: a random node's PING every second, every node at least
 * every node-timeout/2, links reconnected), PFAIL after node-timeout
 * without a PONG and FAIL by a majority of primaries (gossip.ts), FAIL
 * broadcast, epochs and slot ownership from headers and UPDATE messages
 * (slot-update.ts), PUBLISH to every node and PUBLISHSHARD to the shard.
 * What each message received does is bus-receive.ts's.
 *
 * Hooks for failover (failover.ts, FAILOVER's): this class implements
 * FailoverBus (requestAuth, sendAuthAck, sendMfStart, sendPing,
 * broadcastPong); bus-receive.ts hands FAILOVER_AUTH_REQUEST to voteIfNeeded,
 * FAILOVER_AUTH_ACK to authAckReceived, MFSTART to mfStartReceived, every
 * header of a known node to offsetAnnounced; the bus cron ends with
 * failoverCron, and clusterBeforeSleep may call failoverBeforeSleep with
 * `bus.failover` (the engine's FailoverHost). A node losing its slots to a
 * greater epoch becomes a replica through setMyPrimary.
 */
import type { Engine } from "../server/engine.ts";
import type { Connection } from "../io.ts";
import { ClusterNode, NodeFlag, randomNodeName } from "./node.ts";
import type { ClusterState } from "./state.ts";
import { type BusBody, type BusHeader, decodeMessage, encodeMessage, invalidReason, MsgFlag0, MsgType, TYPE_NAMES } from "./bus-message.ts";
import { BusLink, type LinkOwner, linkOf } from "./bus-link.ts";
import { type GossipHost, pickGossip } from "./gossip.ts";
import type { SlotUpdateHost } from "./slot-update.ts";
import { announcedOffset, engineFailover, failoverCron, type FailoverBus, type FailoverHost, pausedForManualFailover, setMyPrimary } from "./failover.ts";
import { receive } from "./bus-receive.ts";

/** How often the bus cron runs (Redis's clusterCron: every 100 ms). */
const CRON_MS = 100;
/** How long a FORGET keeps a node from being re-added by gossip (Redis's CLUSTER_BLACKLIST_TTL, s). */
export const BLACKLIST_TTL = 60;

type Level = "debug" | "verbose" | "notice" | "warning";

export class ClusterBus implements LinkOwner, FailoverBus, GossipHost, SlotUpdateHost {
  readonly links = new Set<BusLink>();
  /** Outbound connections being made, by node, with when each started. */
  private readonly dialing = new Map<ClusterNode, number>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private iteration = 0;
  /** The engine's FailoverHost, over this bus. */
  readonly failover: FailoverHost;

  constructor(readonly engine: Engine) {
    this.failover = engineFailover(engine, this);
  }

  /** engine.cluster: read each time, since startup replaces it with the one from nodes.conf. */
  get state(): ClusterState {
    return this.engine.cluster!;
  }

  now(): number {
    return this.engine.clock.now();
  }

  nodeTimeout(): number {
    return this.engine.config.num("cluster-node-timeout");
  }

  log(level: Level, msg: string): void {
    this.engine.log(level, msg);
  }

  start(): void {
    this.state.failover.bus = this;
    if (this.timer === null) this.timer = setInterval(() => this.cron(), CRON_MS);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const link of [...this.links]) link.close();
  }

  // ---- links ----

  /** A connection accepted on the bus port: an inbound link, its node known from its first message. */
  accept(conn: Connection): { data(chunk: Uint8Array): void; closed(): void } {
    const link = new BusLink(conn, null, true, this.now(), this);
    this.links.add(link);
    this.log("verbose", `Accepting cluster node connection from ${conn.remoteAddress}`);
    return { data: (chunk) => link.data(chunk), closed: () => link.close() };
  }

  closed(link: BusLink): void {
    this.links.delete(link);
    const node = link.node;
    if (node === null) return;
    if (node.link === link) node.link = null;
    if (node.inboundLink === link) node.inboundLink = null;
  }

  /** Opens node's outbound link; on success it starts with a PING (a MEET for a node met with CLUSTER MEET). */
  private connect(node: ClusterNode): void {
    const dialer = this.engine.dialer;
    const started = this.dialing.get(node);
    if (dialer === null || (started !== undefined && this.now() - started <= this.nodeTimeout())) return;
    const token = this.now();
    this.dialing.set(node, token);
    let link: BusLink | null = null;
    dialer.connect(node.ip, node.cport, { data: (chunk) => link?.data(chunk), closed: () => link?.close() }).then((conn) => {
      if (this.dialing.get(node) === token) this.dialing.delete(node);
      if (this.timer === null || this.state.nodes.get(node.name) !== node || node.link !== null) {
        conn.close();
        return;
      }
      link = new BusLink(conn, node, false, this.now(), this);
      this.links.add(link);
      node.link = link;
      // A reconnection keeps the pending ping's time, so a node that keeps dropping links still times out.
      const pingSent = node.pingSent;
      this.ping(link, node.has(NodeFlag.MEET) ? MsgType.MEET : MsgType.PING);
      if (pingSent !== 0) node.pingSent = pingSent;
      node.flags &= ~NodeFlag.MEET;
      this.log("debug", `Connecting with Node ${node.name} at ${node.ip}:${node.cport}`);
    }, (e: Error) => {
      if (this.dialing.get(node) === token) this.dialing.delete(node);
      if (node.pingSent === 0) node.pingSent = this.now();
      this.log("verbose", `Connection with Node ${node.name} at ${node.ip}:${node.cport} failed: ${e.message}`);
    });
  }

  /** Closes node's outbound link: the cron opens a new one. */
  dropLink(node: ClusterNode): void {
    node.link?.close();
  }

  // ---- sending ----

  /** Redis's clusterBuildMessageHdr. */
  header(type: number): BusHeader {
    const state = this.state;
    const me = state.myself;
    const primary = me.isReplica && me.replicaOf !== null ? me.replicaOf : me;
    return {
      type,
      currentEpoch: state.currentEpoch,
      configEpoch: primary.configEpoch,
      offset: announcedOffset(this.engine),
      sender: me.name,
      myslots: primary.slots,
      replicaOf: me.replicaOf?.name ?? null,
      myip: this.engine.config.get("cluster-announce-ip"),
      port: me.port,
      pport: me.pport,
      cport: me.cport,
      flags: me.flags & 0xffff,
      state: state.ok ? 0 : 1,
      mflags: [pausedForManualFailover(state) ? MsgFlag0.PAUSED : 0, 0, 0],
    };
  }

  private sendBytes(link: BusLink, type: number, bytes: Uint8Array): void {
    if (link.closed) return;
    link.send(bytes);
    this.state.countSent(TYPE_NAMES[type]);
    const limit = this.engine.config.num("cluster-link-sendbuf-limit");
    if (limit > 0 && link.pending() > limit) {
      this.log("warning", `Freeing cluster link(${link.inbound ? "from" : "to"} node ${link.node?.name ?? "?"}), used memory: ${link.pending()}`);
      this.state.linksBufferLimitExceeded++;
      link.close();
    }
  }

  private send(link: BusLink, header: BusHeader, body: BusBody): void {
    this.sendBytes(link, header.type, encodeMessage(header, body));
  }

  /** A PING to node over its outbound link (FailoverBus). */
  sendPing(node: ClusterNode): void {
    const link = linkOf(node);
    if (link !== null) this.ping(link, MsgType.PING);
  }

  /** Redis's clusterSendPing: a PING, PONG or MEET with a gossip section. */
  ping(link: BusLink, type: number): void {
    if (link.node !== null && type === MsgType.PING) link.node.pingSent = this.now();
    this.send(link, this.header(type), { kind: "gossip", gossip: pickGossip(this.state), hostname: this.state.myself.hostname });
  }

  /** Every node we have a link to but ourselves and nodes in handshake (Redis's clusterBroadcastMessage). */
  private broadcast(type: number, body: BusBody, to: (n: ClusterNode) => boolean = () => true): void {
    const bytes = encodeMessage(this.header(type), body);
    for (const node of this.state.nodes.values()) {
      const link = linkOf(node);
      if (link === null || (node.flags & (NodeFlag.MYSELF | NodeFlag.HANDSHAKE)) !== 0 || !to(node)) continue;
      this.sendBytes(link, type, bytes);
    }
  }

  broadcastFail(node: ClusterNode): void {
    this.broadcast(MsgType.FAIL, { kind: "fail", name: node.name });
  }

  /** PUBLISH reaching every node (Redis's clusterPropagatePublish). */
  publish(channel: Uint8Array, message: Uint8Array): void {
    this.broadcast(MsgType.PUBLISH, { kind: "publish", channel, message });
  }

  /** SPUBLISH reaching the nodes of this shard (my primary and its replicas). */
  publishShard(channel: Uint8Array, message: Uint8Array): void {
    const primary = this.state.myPrimary;
    if (primary === null) return;
    this.broadcast(MsgType.PUBLISHSHARD, { kind: "publish", channel, message }, (n) => n === primary || n.replicaOf === primary);
  }

  // FailoverBus

  requestAuth(forceAck: boolean): void {
    const header = this.header(MsgType.FAILOVER_AUTH_REQUEST);
    if (forceAck) header.mflags[0] |= MsgFlag0.FORCEACK;
    const bytes = encodeMessage(header, { kind: "empty" });
    for (const node of this.state.nodes.values()) {
      const link = linkOf(node);
      if (link === null || (node.flags & (NodeFlag.MYSELF | NodeFlag.HANDSHAKE)) !== 0) continue;
      this.sendBytes(link, MsgType.FAILOVER_AUTH_REQUEST, bytes);
    }
  }

  sendAuthAck(node: ClusterNode): void {
    const link = linkOf(node);
    if (link !== null) this.send(link, this.header(MsgType.FAILOVER_AUTH_ACK), { kind: "empty" });
  }

  sendMfStart(node: ClusterNode): void {
    const link = linkOf(node);
    if (link !== null) this.send(link, this.header(MsgType.MFSTART), { kind: "empty" });
  }

  broadcastPong(localReplicas: boolean): void {
    const primary = this.state.myPrimary;
    for (const node of this.state.nodes.values()) {
      const link = linkOf(node);
      if (link === null || (node.flags & (NodeFlag.MYSELF | NodeFlag.HANDSHAKE)) !== 0) continue;
      if (localReplicas && !(node.isReplica && node.replicaOf !== null && node.replicaOf === primary)) continue;
      this.ping(link, MsgType.PONG);
    }
  }

  /** UPDATE to a node that claims slots owned here under a greater epoch (Redis's clusterSendUpdate). */
  sendUpdate(link: BusLink | null, about: ClusterNode): void {
    if (link === null) return;
    this.send(link, this.header(MsgType.UPDATE), { kind: "update", configEpoch: about.configEpoch, name: about.name, slots: about.slots });
  }

  // ---- CLUSTER MEET / FORGET ----

  /**
   * Redis's clusterStartHandshake: a node in handshake (random name) the cron
   * connects to and MEETs. False for an invalid address; true, doing
   * nothing, when a handshake with that address is under way.
   */
  meet(ip: string, port: number, cport: number): boolean {
    const norm = normalizeIp(ip);
    if (norm === null || port <= 0 || port > 65535 || cport <= 0 || cport > 65535) return false;
    for (const n of this.state.nodes.values()) {
      if (n.has(NodeFlag.HANDSHAKE) && n.ip.toLowerCase() === norm && n.port === port && n.cport === cport) return true;
    }
    const node = new ClusterNode(randomNodeName(), NodeFlag.HANDSHAKE | NodeFlag.MEET, this.now());
    node.ip = norm;
    node.port = port;
    node.cport = cport;
    this.state.addNode(node);
    return true;
  }

  /** CLUSTER FORGET: the node dropped and kept out of gossip for a minute. */
  forget(node: ClusterNode): void {
    this.state.forgotten.set(node.name, this.now() + BLACKLIST_TTL * 1000);
    this.state.deleteNode(node);
    this.state.requestUpdateState();
    this.state.requestSave();
  }

  // ---- SlotUpdateHost ----

  keysInSlot(slot: number): number {
    return this.engine.dbs[0].slotKeys?.count(slot) ?? 0;
  }

  /**
   * As 7.0.15's delKeysInSlot: the keys go from this node's db only, with
   * no DEL propagated (its replicas keep theirs) and no keyspace event.
   */
  deleteKeysInSlot(slot: number): void {
    const db = this.engine.dbs[0];
    for (const key of db.slotKeys?.keys(slot, Infinity) ?? []) db.delete(key);
  }

  allowReplicaMigration(): boolean {
    return this.engine.config.bool("cluster-allow-replica-migration");
  }

  becomeReplicaOf(node: ClusterNode): void {
    setMyPrimary(this.failover, node);
  }

  // ---- the cron ----

  /** Redis's clusterCron, every 100 ms. */
  cron(): void {
    const state = this.state;
    const now = this.now();
    const timeout = this.nodeTimeout();
    this.iteration++;
    const handshakeTimeout = Math.max(timeout, 1000);
    for (const node of [...state.nodes.values()]) {
      if (node === state.myself || node.has(NodeFlag.NOADDR)) continue;
      if (node.has(NodeFlag.HANDSHAKE) && now - node.ctime > handshakeTimeout) {
        state.deleteNode(node);
        continue;
      }
      if (node.link === null) this.connect(node);
    }
    // Once a second, a PING to the node (of 5 random ones) whose PONG is oldest.
    if (this.iteration % 10 === 0) {
      const nodes = [...state.nodes.values()];
      let oldest: ClusterNode | null = null;
      for (let j = 0; j < 5; j++) {
        const n = nodes[Math.floor(Math.random() * nodes.length)];
        if (n.link === null || n.pingSent !== 0 || (n.flags & (NodeFlag.MYSELF | NodeFlag.HANDSHAKE)) !== 0) continue;
        if (oldest === null || n.pongReceived < oldest.pongReceived) oldest = n;
      }
      if (oldest !== null) this.sendPing(oldest);
    }
    let update = false;
    for (const node of state.nodes.values()) {
      if ((node.flags & (NodeFlag.MYSELF | NodeFlag.NOADDR | NodeFlag.HANDSHAKE)) !== 0) continue;
      const pingDelay = now - node.pingSent;
      const dataDelay = now - node.dataReceived;
      // Nothing heard for half the timeout though pinged: maybe the connection, not the node: reconnect.
      if (node.link !== null && now - node.link.createdAt > timeout && node.pingSent !== 0 && pingDelay > timeout / 2 && dataDelay > timeout / 2) {
        node.link.close();
      }
      if (node.link !== null && node.pingSent === 0 && now - node.pongReceived > timeout / 2) {
        this.sendPing(node);
        continue;
      }
      if (node.pingSent === 0) continue;
      if (Math.min(pingDelay, dataDelay) > timeout && (node.flags & (NodeFlag.PFAIL | NodeFlag.FAIL)) === 0) {
        this.log("debug", `*** NODE ${node.name} possibly failing`);
        node.flags |= NodeFlag.PFAIL;
        update = true;
      }
    }
    failoverCron(this.failover);
    if (update || !state.ok) state.requestUpdateState();
  }

  // ---- receiving ----

  /** One whole message from a link (bus-receive.ts acts on it); a malformed one is dropped, the link kept, as Redis does. */
  message(link: BusLink, bytes: Uint8Array): void {
    const msg = decodeMessage(bytes);
    if (msg === null) return this.log("warning", invalidReason(bytes));
    if (msg === "ignore") return;
    try {
      receive(this, link, msg);
    } catch (e) {
      // Where Redis would assert and crash, one peer's message costs its link, not the node.
      this.log("warning", `Internal error handling a cluster bus message: ${(e as Error).stack ?? e}`);
      link.close();
    }
  }

  /** A stream that is not bus messages: the link is closed. */
  badFrame(link: BusLink): void {
    this.log("warning", "Bad message length or signature received from Cluster bus.");
    link.close();
  }

  // ---- views ----

  /** Redis's getClusterConnectionsCount: two links per known node but myself (INFO cluster_connections). */
  connectionsCount(): number {
    return (this.state.nodes.size - 1) * 2;
  }
}

/** An IPv4 or IPv6 address as inet_ntop prints it (lowercase IPv6), or null when it is neither (MEET takes no hostnames). */
export function normalizeIp(ip: string): string | null {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    const parts = ip.split(".").map(Number);
    return parts.every((p) => p <= 255) ? parts.join(".") : null;
  }
  if (ip.includes(":") && /^[0-9a-fA-F:.]+$/.test(ip)) {
    try {
      return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
    } catch {
      return null;
    }
  }
  return null;
}
