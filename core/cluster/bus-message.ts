/**
 * The cluster bus's binary messages, byte for byte as redis-server 7.0
 * sends them (its clusterMsg), so Respite and redis-server nodes can live
 * in one cluster: a 2,256-byte header ("RCmb", version 1, lengths, type,
 * epochs, offset, sender, slot bitmap, primary, ip, ports, flags, state,
 * message flags; integers big-endian) and a body by type: gossip entries
 * and ping extensions (the hostname) for PING/PONG/MEET, a node name for
 * FAIL, channel and message for PUBLISH/PUBLISHSHARD, a node's epoch and
 * slots for UPDATE, nothing for FAILOVER_AUTH_* and MFSTART.
 */
import { SLOTS } from "./slot.ts";

export const MsgType = {
  PING: 0,
  PONG: 1,
  MEET: 2,
  FAIL: 3,
  PUBLISH: 4,
  FAILOVER_AUTH_REQUEST: 5,
  FAILOVER_AUTH_ACK: 6,
  UPDATE: 7,
  MFSTART: 8,
  MODULE: 9,
  PUBLISHSHARD: 10,
} as const;

/** Names of the types in CLUSTER INFO's cluster_stats_messages_<name>_sent/received, by type number. */
export const TYPE_NAMES = ["ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack", "update", "mfstart", "module", "publishshard"];

/** mflags[0] bits (CLUSTERMSG_FLAG0_*). */
export const MsgFlag0 = { PAUSED: 1, FORCEACK: 2, EXT_DATA: 4 } as const;

export const NAME_LEN = 40;
const IP_LEN = 46;
const SLOT_BYTES = SLOTS / 8;
/** sizeof(clusterMsg) without its data union. */
export const HEADER_SIZE = 2256;
export const GOSSIP_SIZE = 104;
/** Redis's all-zero name: "no primary". */
const NULL_NAME = "\0".repeat(NAME_LEN);
const EXT_HOSTNAME = 0;
const SIG = [0x52, 0x43, 0x6d, 0x62]; // "RCmb"

/** One node as gossiped (clusterMsgDataGossip): times in seconds, as Redis sends them. */
export interface Gossip {
  name: string;
  pingSent: number;
  pongReceived: number;
  ip: string;
  port: number;
  cport: number;
  flags: number;
  pport: number;
}

export interface BusHeader {
  type: number;
  currentEpoch: number;
  /** The sender's configEpoch, or its primary's when a replica. */
  configEpoch: number;
  /** Replication offset (a primary's, or what a replica has processed). */
  offset: number;
  sender: string;
  /** Slots the sender (or its primary) serves: 2,048 bytes, bit = slot. */
  myslots: Uint8Array;
  /** The sender's primary, or null. */
  replicaOf: string | null;
  /** The sender's announced ip, "" when not announced (the receiver takes the socket's peer address). */
  myip: string;
  port: number;
  pport: number;
  cport: number;
  flags: number;
  /** 0 ok, 1 fail (the sender's cluster_state). */
  state: number;
  mflags: [number, number, number];
}

export type BusBody =
  | { kind: "gossip"; gossip: Gossip[]; hostname: string }
  | { kind: "fail"; name: string }
  | { kind: "publish"; channel: Uint8Array; message: Uint8Array }
  | { kind: "update"; configEpoch: number; name: string; slots: Uint8Array }
  | { kind: "module"; bytes: Uint8Array }
  | { kind: "empty" };

export interface BusMessage {
  header: BusHeader;
  body: BusBody;
}

function putString(buf: Uint8Array, at: number, s: string, max: number): void {
  for (let i = 0; i < s.length && i < max; i++) buf[at + i] = s.charCodeAt(i) & 0xff;
}

/** A NUL-terminated string in a fixed field. */
function getString(buf: Uint8Array, at: number, max: number): string {
  let s = "";
  for (let i = 0; i < max && buf[at + i] !== 0; i++) s += String.fromCharCode(buf[at + i]);
  return s;
}

function getName(buf: Uint8Array, at: number): string {
  let s = "";
  for (let i = 0; i < NAME_LEN; i++) s += String.fromCharCode(buf[at + i]);
  return s;
}

/**
 * Bytes of the hostname ping extension, 0 without a hostname: its header
 * (u32 length of the whole extension, u16 type, u16 padding) and the
 * NUL-terminated name padded to 8 bytes.
 */
function hostnameExtSize(hostname: string): number {
  return hostname === "" ? 0 : 8 + ((hostname.length + 1 + 7) & ~7);
}

/** The body's size after the header, as Redis computes totlen. */
function bodySize(body: BusBody): number {
  switch (body.kind) {
    case "gossip": return body.gossip.length * GOSSIP_SIZE + hostnameExtSize(body.hostname);
    case "fail": return NAME_LEN;
    case "publish": return 8 + body.channel.length + body.message.length;
    case "update": return 8 + NAME_LEN + SLOT_BYTES;
    case "module": return body.bytes.length;
    case "empty": return 0;
  }
}

/** Encodes a message (totlen, count and the EXT_DATA flag computed here). */
export function encodeMessage(header: BusHeader, body: BusBody): Uint8Array {
  const totlen = HEADER_SIZE + bodySize(body);
  const buf = new Uint8Array(totlen);
  const v = new DataView(buf.buffer);
  buf.set(SIG, 0);
  v.setUint32(4, totlen);
  v.setUint16(8, 1);
  v.setUint16(10, header.port);
  v.setUint16(12, header.type);
  v.setUint16(14, body.kind === "gossip" ? body.gossip.length : 0);
  v.setBigUint64(16, BigInt(header.currentEpoch));
  v.setBigUint64(24, BigInt(header.configEpoch));
  v.setBigUint64(32, BigInt(header.offset));
  putString(buf, 40, header.sender, NAME_LEN);
  buf.set(header.myslots, 80);
  if (header.replicaOf !== null) putString(buf, 80 + SLOT_BYTES, header.replicaOf, NAME_LEN);
  putString(buf, 2168, header.myip, IP_LEN - 1);
  const ext = body.kind === "gossip" && body.hostname !== "";
  v.setUint16(2214, ext ? 1 : 0);
  v.setUint16(2246, header.pport);
  v.setUint16(2248, header.cport);
  v.setUint16(2250, header.flags);
  buf[2252] = header.state;
  buf[2253] = ext ? header.mflags[0] | MsgFlag0.EXT_DATA : header.mflags[0];
  buf[2254] = header.mflags[1];
  buf[2255] = header.mflags[2];
  let at = HEADER_SIZE;
  switch (body.kind) {
    case "gossip":
      for (const g of body.gossip) {
        putString(buf, at, g.name, NAME_LEN);
        v.setUint32(at + 40, g.pingSent);
        v.setUint32(at + 44, g.pongReceived);
        putString(buf, at + 48, g.ip, IP_LEN - 1);
        v.setUint16(at + 94, g.port);
        v.setUint16(at + 96, g.cport);
        v.setUint16(at + 98, g.flags);
        v.setUint16(at + 100, g.pport);
        at += GOSSIP_SIZE;
      }
      if (ext) {
        v.setUint32(at, hostnameExtSize(body.hostname));
        v.setUint16(at + 4, EXT_HOSTNAME);
        putString(buf, at + 8, body.hostname, body.hostname.length);
      }
      break;
    case "fail":
      putString(buf, at, body.name, NAME_LEN);
      break;
    case "publish":
      v.setUint32(at, body.channel.length);
      v.setUint32(at + 4, body.message.length);
      buf.set(body.channel, at + 8);
      buf.set(body.message, at + 8 + body.channel.length);
      break;
    case "update":
      v.setBigUint64(at, BigInt(body.configEpoch));
      putString(buf, at + 8, body.name, NAME_LEN);
      buf.set(body.slots, at + 8 + NAME_LEN);
      break;
    case "module":
      buf.set(body.bytes, at);
      break;
  }
  return buf;
}

/**
 * The length a message announces, from its first 8 bytes; -1 when they are
 * not a bus message's (bad signature, or shorter than a header): the link
 * is then closed, as Redis does.
 */
export function frameLength(buf: Uint8Array, at: number): number {
  for (let i = 0; i < 4; i++) if (buf[at + i] !== SIG[i]) return -1;
  const len = ((buf[at + 4] << 24) >>> 0) + (buf[at + 5] << 16) + (buf[at + 6] << 8) + buf[at + 7];
  return len < HEADER_SIZE ? -1 : len;
}

/** The bytes a type's body must have, from what the message says (Redis's clusterIsValidPacket); -1 when malformed. */
function expectedLength(buf: Uint8Array, v: DataView, type: number, count: number, totlen: number): number {
  switch (type) {
    case MsgType.PING:
    case MsgType.PONG:
    case MsgType.MEET: {
      let len = HEADER_SIZE + count * GOSSIP_SIZE;
      if (buf[2253] & MsgFlag0.EXT_DATA) {
        for (let n = v.getUint16(2214); n > 0; n--) {
          if (len + 8 > totlen) return -1;
          const extLen = v.getUint32(len);
          if (extLen < 8) return -1;
          len += extLen;
        }
      }
      return len;
    }
    case MsgType.FAIL: return HEADER_SIZE + NAME_LEN;
    case MsgType.PUBLISH:
    case MsgType.PUBLISHSHARD:
      if (totlen < HEADER_SIZE + 8) return -1;
      return HEADER_SIZE + 8 + v.getUint32(HEADER_SIZE) + v.getUint32(HEADER_SIZE + 4);
    case MsgType.UPDATE: return HEADER_SIZE + 8 + NAME_LEN + SLOT_BYTES;
    case MsgType.MODULE:
      if (totlen < HEADER_SIZE + 13) return -1;
      return HEADER_SIZE + 13 + v.getUint32(HEADER_SIZE + 8);
    default: return HEADER_SIZE;
  }
}

/**
 * Decodes one whole message (frameLength bytes). null when its length does
 * not match what its type and counts say, "ignore" for a version other than
 * 1 or an unknown type: Redis drops such a message and keeps the link.
 */
export function decodeMessage(buf: Uint8Array): BusMessage | null | "ignore" {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const totlen = v.getUint32(4);
  if (totlen !== buf.length || totlen < HEADER_SIZE) return null;
  if (v.getUint16(8) !== 1) return "ignore";
  const type = v.getUint16(12);
  const count = v.getUint16(14);
  if (type > MsgType.PUBLISHSHARD) return "ignore";
  if (expectedLength(buf, v, type, count, totlen) !== totlen) return null;
  const slaveof = getName(buf, 80 + SLOT_BYTES);
  const header: BusHeader = {
    type,
    currentEpoch: Number(v.getBigUint64(16)),
    configEpoch: Number(v.getBigUint64(24)),
    offset: Number(v.getBigUint64(32)),
    sender: getName(buf, 40),
    myslots: buf.slice(80, 80 + SLOT_BYTES),
    replicaOf: slaveof === NULL_NAME ? null : slaveof,
    myip: getString(buf, 2168, IP_LEN),
    port: v.getUint16(10),
    pport: v.getUint16(2246),
    cport: v.getUint16(2248),
    flags: v.getUint16(2250),
    state: buf[2252],
    mflags: [buf[2253], buf[2254], buf[2255]],
  };
  return { header, body: decodeBody(buf, v, type, count) };
}

function decodeBody(buf: Uint8Array, v: DataView, type: number, count: number): BusBody {
  const at = HEADER_SIZE;
  switch (type) {
    case MsgType.PING:
    case MsgType.PONG:
    case MsgType.MEET: {
      const gossip: Gossip[] = [];
      for (let i = 0, g = at; i < count; i++, g += GOSSIP_SIZE) {
        gossip.push({
          name: getName(buf, g),
          pingSent: v.getUint32(g + 40),
          pongReceived: v.getUint32(g + 44),
          ip: getString(buf, g + 48, IP_LEN),
          port: v.getUint16(g + 94),
          cport: v.getUint16(g + 96),
          flags: v.getUint16(g + 98),
          pport: v.getUint16(g + 100),
        });
      }
      let hostname = "";
      if (buf[2253] & MsgFlag0.EXT_DATA) {
        let e = at + count * GOSSIP_SIZE;
        for (let n = v.getUint16(2214); n > 0; n--) {
          const extLen = v.getUint32(e);
          if (v.getUint16(e + 4) === EXT_HOSTNAME) hostname = getString(buf, e + 8, extLen - 8);
          e += extLen;
        }
      }
      return { kind: "gossip", gossip, hostname };
    }
    case MsgType.FAIL:
      return { kind: "fail", name: getName(buf, at) };
    case MsgType.PUBLISH:
    case MsgType.PUBLISHSHARD: {
      const chLen = v.getUint32(at);
      const msgLen = v.getUint32(at + 4);
      return { kind: "publish", channel: buf.slice(at + 8, at + 8 + chLen), message: buf.slice(at + 8 + chLen, at + 8 + chLen + msgLen) };
    }
    case MsgType.UPDATE:
      return { kind: "update", configEpoch: Number(v.getBigUint64(at)), name: getName(buf, at + 8), slots: buf.slice(at + 8 + NAME_LEN, at + 8 + NAME_LEN + SLOT_BYTES) };
    case MsgType.MODULE:
      return { kind: "module", bytes: buf.slice(at) };
    default:
      return { kind: "empty" };
  }
}

/** Redis's warning for a message decodeMessage refused (clusterIsValidPacket's). */
export function invalidReason(buf: Uint8Array): string {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const type = v.getUint16(12);
  const expected = expectedLength(buf, v, type, v.getUint16(14), buf.length);
  return `Received invalid ${TYPE_NAMES[type] ?? "unknown"} packet of length ${buf.length} but expected length ${expected}`;
}
