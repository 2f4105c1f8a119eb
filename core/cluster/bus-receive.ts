/**
 * What a node does with each bus message, as Redis 7.0's
 * clusterProcessPacket: epochs and offsets from every header of a known
 * node; for PING/MEET a PONG back (and a node in handshake for a MEET from
 * a stranger); the handshake completed (the random name replaced by the
 * real one) on the first PONG; addresses, roles and slot claims from
 * headers; gossip; FAIL, PUBLISH/PUBLISHSHARD, UPDATE; failover messages
 * handed to failover.ts.
 */
import { ClusterNode, NodeFlag, randomNodeName } from "./node.ts";
import { type BusHeader, type BusMessage, type Gossip, MsgFlag0, MsgType, TYPE_NAMES } from "./bus-message.ts";
import { type BusLink, linkOf } from "./bus-link.ts";
import type { ClusterBus } from "./bus.ts";
import { clearFailureIfNeeded, processGossip } from "./gossip.ts";
import { handleConfigEpochCollision, updateSlotsConfigWith } from "./slot-update.ts";
import { authAckReceived, mfStartReceived, offsetAnnounced, voteIfNeeded } from "./failover.ts";
import { str } from "../util/bytes.ts";

/** The ip part of "ip:port" / "[ip6]:port", IPv4-mapped IPv6 shown as IPv4 (as Redis's IPv4 socket would). */
export function addressIp(address: string): string {
  const ip = address.startsWith("[") ? address.slice(1, address.indexOf("]")) : address.slice(0, address.lastIndexOf(":"));
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

function sameBits(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One decoded message from link. */
export function receive(bus: ClusterBus, link: BusLink, msg: BusMessage): void {
  const { header: h, body } = msg;
  const state = bus.state;
  const now = bus.now();
  const type = h.type;
  state.countReceived(TYPE_NAMES[type]);
  const sender = state.nodeByName(h.sender) ?? null;
  if (sender !== null && link.inbound && link.node === null) {
    if (sender.inboundLink !== null && sender.inboundLink !== link) {
      bus.log("verbose", `Replacing an existing non-null inbound link for node ${sender.name}`);
      sender.inboundLink.close();
    }
    sender.inboundLink = link;
    link.node = sender;
  }
  if (sender !== null) sender.dataReceived = now;
  if (sender !== null && !sender.has(NodeFlag.HANDSHAKE)) {
    if (h.currentEpoch > state.currentEpoch) {
      state.currentEpoch = h.currentEpoch;
      state.requestSave();
    }
    if (h.configEpoch > sender.configEpoch) {
      sender.configEpoch = h.configEpoch;
      state.requestSave(true);
    }
    sender.replOffset = h.offset;
    sender.replOffsetTime = now;
    offsetAnnounced(bus.failover, sender, (h.mflags[0] & MsgFlag0.PAUSED) !== 0);
  }
  switch (type) {
    case MsgType.PING:
    case MsgType.PONG:
    case MsgType.MEET:
      if (body.kind === "gossip") pingReceived(bus, link, h, body.gossip, body.hostname, sender);
      return;
    case MsgType.FAIL:
      if (body.kind === "fail") failReceived(bus, h, body.name, sender);
      return;
    case MsgType.PUBLISH:
    case MsgType.PUBLISHSHARD:
      if (sender === null || body.kind !== "publish") return;
      if (type === MsgType.PUBLISH) bus.engine.pubsub.publish(str(body.channel), body.message);
      else bus.engine.pubsub.spublish(body.channel, body.message);
      return;
    case MsgType.FAILOVER_AUTH_REQUEST:
      if (sender === null) return;
      voteIfNeeded(bus.failover, sender, {
        currentEpoch: h.currentEpoch,
        configEpoch: h.configEpoch,
        slots: h.myslots,
        forceAck: (h.mflags[0] & MsgFlag0.FORCEACK) !== 0,
      });
      return;
    case MsgType.FAILOVER_AUTH_ACK:
      if (sender !== null) authAckReceived(bus.failover, sender, h.currentEpoch);
      return;
    case MsgType.MFSTART:
      if (sender !== null) mfStartReceived(bus.failover, sender);
      return;
    case MsgType.UPDATE:
      if (sender !== null && body.kind === "update") updateReceived(bus, body.configEpoch, body.name, body.slots);
      return;
  }
}

function pingReceived(bus: ClusterBus, link: BusLink, h: BusHeader, gossip: Gossip[], hostname: string, sender: ClusterNode | null): void {
  const state = bus.state;
  const me = state.myself;
  const type = h.type;
  const now = bus.now();
  if (type === MsgType.PING || type === MsgType.MEET) {
    // My own address, as the node that met me reached me, unless announced.
    if ((type === MsgType.MEET || me.ip === "") && bus.engine.config.get("cluster-announce-ip") === "") {
      const ip = addressIp(link.conn.localAddress);
      if (ip !== "" && ip !== me.ip) {
        me.ip = ip;
        state.requestSave();
      }
    }
    if (sender === null && type === MsgType.MEET) {
      const node = new ClusterNode(randomNodeName(), NodeFlag.HANDSHAKE, now);
      node.ip = h.myip !== "" ? h.myip : addressIp(link.conn.remoteAddress);
      node.port = h.port;
      node.pport = h.pport;
      node.cport = h.cport;
      state.addNode(node);
      state.requestSave();
      processGossip(bus, null, gossip);
    }
    bus.ping(link, MsgType.PONG);
  }
  if (!link.inbound && link.node !== null) {
    const known = link.node;
    if (known.has(NodeFlag.HANDSHAKE)) {
      if (sender !== null) {
        // A handshake with a node we know under its real name: only its address may be new.
        if (updateAddressIfNeeded(bus, sender, link, h)) {
          state.requestSave();
          state.requestUpdateState();
        }
        state.deleteNode(known);
        return;
      }
      state.renameNode(known, h.sender);
      bus.log("debug", `Handshake with node ${known.name} completed.`);
      known.flags = (known.flags & ~NodeFlag.HANDSHAKE) | (h.flags & (NodeFlag.MASTER | NodeFlag.SLAVE));
      state.requestSave();
    } else if (known.name !== h.sender) {
      bus.log("debug", `PONG contains mismatching sender ID. About node ${known.name} added ${now - known.ctime} ms ago, having flags ${known.flags}`);
      known.flags |= NodeFlag.NOADDR;
      known.ip = "";
      known.port = known.pport = known.cport = 0;
      link.close();
      state.requestSave();
      return;
    }
  }
  if (sender !== null) sender.flags = (sender.flags & ~NodeFlag.NOFAILOVER) | (h.flags & NodeFlag.NOFAILOVER);
  if (sender !== null && type === MsgType.PING && !sender.has(NodeFlag.HANDSHAKE) && updateAddressIfNeeded(bus, sender, link, h)) {
    state.requestSave();
    state.requestUpdateState();
  }
  if (!link.inbound && link.node !== null && type === MsgType.PONG) {
    const node = link.node;
    node.pongReceived = now;
    node.pingSent = 0;
    if (node.has(NodeFlag.PFAIL)) {
      node.flags &= ~NodeFlag.PFAIL;
      state.requestSave();
      state.requestUpdateState();
    } else if (node.has(NodeFlag.FAIL)) {
      clearFailureIfNeeded(bus, node);
    }
  }
  if (sender === null) return;
  roleFromHeader(bus, sender, h);
  const senderPrimary = sender.isPrimary ? sender : sender.replicaOf;
  const dirty = senderPrimary !== null && !sameBits(senderPrimary.slots, h.myslots);
  if (sender.isPrimary && dirty) updateSlotsConfigWith(bus, sender, h.configEpoch, h.myslots);
  // The sender claims slots we know served under a greater epoch: tell it (UPDATE).
  if (dirty) {
    for (let slot = 0; slot < state.slots.length; slot++) {
      if ((h.myslots[slot >> 3] & (1 << (slot & 7))) === 0) continue;
      const owner = state.slots[slot];
      if (owner === null || owner === sender) continue;
      if (owner.configEpoch > h.configEpoch) {
        bus.log("verbose", `Node ${sender.name} has old slots configuration, sending an UPDATE message about ${owner.name}`);
        bus.sendUpdate(linkOf(sender), owner);
        break;
      }
    }
  }
  if (me.isPrimary && sender.isPrimary && h.configEpoch === me.configEpoch) handleConfigEpochCollision(bus, sender);
  processGossip(bus, sender, gossip);
  if (sender.hostname !== hostname) {
    sender.hostname = hostname;
    state.requestSave();
  }
}

/** Role switches seen in a header: a replica now primary, a primary now replica, a replica of another primary. */
function roleFromHeader(bus: ClusterBus, sender: ClusterNode, h: BusHeader): void {
  const state = bus.state;
  if (h.replicaOf === null) {
    if (!sender.isPrimary || sender.replicaOf !== null) {
      state.setPrimary(sender);
      state.requestSave();
      state.requestUpdateState();
    }
    return;
  }
  const primary = state.nodeByName(h.replicaOf) ?? null;
  if (sender.isPrimary) {
    state.unassignAllSlots(sender);
    sender.flags = (sender.flags & ~(NodeFlag.MASTER | NodeFlag.MIGRATE_TO)) | NodeFlag.SLAVE;
    state.requestSave();
    state.requestUpdateState();
  }
  if (primary !== null && sender.replicaOf !== primary) {
    state.setReplicaOf(sender, primary);
    state.requestSave();
  }
}

/** Redis's nodeUpdateAddressIfNeeded: a node heard from at a new address (not on its own outbound link). */
function updateAddressIfNeeded(bus: ClusterBus, node: ClusterNode, link: BusLink, h: BusHeader): boolean {
  if (link === node.link) return false;
  const ip = h.myip !== "" ? h.myip : addressIp(link.conn.remoteAddress);
  if (node.port === h.port && node.cport === h.cport && node.pport === h.pport && node.ip === ip) return false;
  node.ip = ip;
  node.port = h.port;
  node.pport = h.pport;
  node.cport = h.cport;
  node.link?.close();
  node.flags &= ~NodeFlag.NOADDR;
  bus.log("notice", `Address updated for node ${node.name}, now ${ip}:${h.port}`);
  const me = bus.state.myself;
  if (me.isReplica && me.replicaOf === node) bus.engine.replica.follow(node.ip, node.port);
  return true;
}

function failReceived(bus: ClusterBus, h: BusHeader, name: string, sender: ClusterNode | null): void {
  if (sender === null) {
    bus.log("notice", `Ignoring FAIL message from unknown node ${h.sender} about ${name}`);
    return;
  }
  const failing = bus.state.nodeByName(name);
  if (failing === undefined || (failing.flags & (NodeFlag.FAIL | NodeFlag.MYSELF)) !== 0) return;
  bus.log("notice", `FAIL message received from ${h.sender} about ${name}`);
  failing.flags = (failing.flags | NodeFlag.FAIL) & ~NodeFlag.PFAIL;
  failing.failTime = bus.now();
  bus.state.requestSave();
  bus.state.requestUpdateState();
}

function updateReceived(bus: ClusterBus, configEpoch: number, name: string, slots: Uint8Array): void {
  const node = bus.state.nodeByName(name);
  if (node === undefined || node.configEpoch >= configEpoch) return;
  if (node.isReplica) bus.state.setPrimary(node);
  node.configEpoch = configEpoch;
  bus.state.requestSave(true);
  updateSlotsConfigWith(bus, node, configEpoch, slots);
}
