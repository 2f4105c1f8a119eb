/**
 * What nodes tell each other about third nodes, as Redis 7.0's cluster.c:
 * which nodes go into a PING's gossip section (a tenth of the known nodes,
 * at least 3, plus every PFAIL node), what a received section changes (new
 * nodes added under their real names, failure reports from primaries, pong
 * times, addresses of nodes we cannot reach), and the failure reports
 * themselves: a PFAIL node becomes FAIL once a majority of the primaries
 * serving slots reported it within 2 node timeouts.
 */
import { ClusterNode, NodeFlag } from "./node.ts";
import type { ClusterState } from "./state.ts";
import type { Gossip } from "./bus-message.ts";

/** Redis's CLUSTER_FAIL_REPORT_VALIDITY_MULT and CLUSTER_FAIL_UNDO_TIME_MULT. */
const FAIL_REPORT_VALIDITY_MULT = 2;
const FAIL_UNDO_TIME_MULT = 2;

/** Records (or refreshes) sender's report that node is failing; true when it is a new one. */
export function addFailureReport(node: ClusterNode, sender: ClusterNode, now: number): boolean {
  const report = node.failReports.find((r) => r.node === sender);
  if (report) {
    report.time = now;
    return false;
  }
  node.failReports.push({ node: sender, time: now });
  return true;
}

/** Drops sender's report about node; true when there was one. */
export function delFailureReport(node: ClusterNode, sender: ClusterNode): boolean {
  const i = node.failReports.findIndex((r) => r.node === sender);
  if (i === -1) return false;
  node.failReports.splice(i, 1);
  return true;
}

/** Reports still valid (younger than 2 node timeouts; older ones are dropped), as clusterNodeFailureReportsCount. */
export function failureReportCount(node: ClusterNode, now: number, nodeTimeout: number): number {
  const maxAge = nodeTimeout * FAIL_REPORT_VALIDITY_MULT;
  node.failReports = node.failReports.filter((r) => now - r.time <= maxAge);
  return node.failReports.length;
}

/** What the gossip and failure logic needs from its caller (the bus). */
export interface GossipHost {
  readonly state: ClusterState;
  now(): number;
  nodeTimeout(): number;
  /** Send FAIL about node to every node (clusterSendFail). */
  broadcastFail(node: ClusterNode): void;
  /** Close node's outbound link (the next cron reconnects, to its new address). */
  dropLink(node: ClusterNode): void;
  log(level: "debug" | "verbose" | "notice" | "warning", msg: string): void;
}

/**
 * Redis's markNodeAsFailingIfNeeded: a PFAIL node is marked FAIL when the
 * reports about it (with my own vote when I am a primary) reach a majority
 * of cluster_size; everyone is told with a FAIL message.
 */
export function markFailingIfNeeded(h: GossipHost, node: ClusterNode): void {
  const state = h.state;
  const quorum = Math.floor(state.size / 2) + 1;
  if (!node.has(NodeFlag.PFAIL) || node.has(NodeFlag.FAIL)) return;
  let failures = failureReportCount(node, h.now(), h.nodeTimeout());
  if (state.myself.isPrimary) failures++;
  if (failures < quorum) return;
  h.log("notice", `Marking node ${node.name} as failing (quorum reached).`);
  node.flags = (node.flags & ~NodeFlag.PFAIL) | NodeFlag.FAIL;
  node.failTime = h.now();
  h.broadcastFail(node);
  state.requestUpdateState();
  state.requestSave();
}

/**
 * Redis's clearNodeFailureIfNeeded: a FAIL replica (or primary without
 * slots) reachable again is cleared at once; a primary with slots only
 * after 2 node timeouts in FAIL (nobody took its slots meanwhile).
 */
export function clearFailureIfNeeded(h: GossipHost, node: ClusterNode): void {
  const now = h.now();
  if (node.isReplica || node.numSlots === 0) {
    h.log("notice", `Clear FAIL state for node ${node.name}: ${node.isReplica ? "replica" : "master without slots"} is reachable again.`);
    node.flags &= ~NodeFlag.FAIL;
    h.state.requestUpdateState();
    h.state.requestSave();
  }
  if (node.isPrimary && node.numSlots > 0 && now - node.failTime > h.nodeTimeout() * FAIL_UNDO_TIME_MULT) {
    h.log("notice", `Clear FAIL state for node ${node.name}: is reachable again and nobody is serving its slots after some time.`);
    node.flags &= ~NodeFlag.FAIL;
    h.state.requestUpdateState();
    h.state.requestSave();
  }
}

/** A node as a gossip entry (clusterSetGossipEntry): times in seconds. */
export function gossipEntry(n: ClusterNode): Gossip {
  return {
    name: n.name,
    pingSent: Math.floor(n.pingSent / 1000) >>> 0,
    pongReceived: Math.floor(n.pongReceived / 1000) >>> 0,
    ip: n.ip,
    port: n.port,
    cport: n.cport,
    flags: n.flags & 0xffff,
    pport: n.pport,
  };
}

/**
 * The gossip section of a PING/PONG/MEET (clusterSendPing): up to a tenth
 * of the nodes (at least 3) picked at random among those worth telling
 * about, then every PFAIL node, so failure reports spread fast.
 */
export function pickGossip(state: ClusterState, random: () => number = Math.random): Gossip[] {
  const nodes = [...state.nodes.values()];
  let fresh = nodes.length - 2;
  let wanted = Math.max(3, Math.floor(nodes.length / 10));
  if (wanted > fresh) wanted = fresh;
  const picked = new Set<ClusterNode>();
  let iterations = wanted * 3;
  while (fresh > 0 && picked.size < wanted && iterations-- > 0) {
    const n = nodes[Math.floor(random() * nodes.length)];
    if (n === state.myself || n.has(NodeFlag.PFAIL)) continue;
    if (n.has(NodeFlag.HANDSHAKE) || n.has(NodeFlag.NOADDR) || (n.link === null && n.numSlots === 0)) {
      fresh--;
      continue;
    }
    if (picked.has(n)) continue;
    picked.add(n);
    fresh--;
  }
  const out = [...picked].map(gossipEntry);
  for (const n of nodes) {
    if (n.has(NodeFlag.HANDSHAKE) || n.has(NodeFlag.NOADDR) || !n.has(NodeFlag.PFAIL)) continue;
    out.push(gossipEntry(n));
  }
  return out;
}

/**
 * Redis's clusterProcessGossipSection: sender (null for a MEET from a node
 * not known yet) tells about other nodes.
 */
export function processGossip(h: GossipHost, sender: ClusterNode | null, gossip: Gossip[]): void {
  const state = h.state;
  const now = h.now();
  for (const g of gossip) {
    const node = state.nodeByName(g.name);
    if (node !== undefined) {
      if (sender !== null && sender.isPrimary && node !== state.myself) {
        if (g.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) {
          if (addFailureReport(node, sender, now)) h.log("verbose", `Node ${sender.name} reported node ${node.name} as not reachable.`);
          markFailingIfNeeded(h, node);
        } else if (delFailureReport(node, sender)) {
          h.log("verbose", `Node ${sender.name} reported node ${node.name} is back online.`);
        }
      }
      // A node up as we see it, with no ping of ours pending and no reports: take the fresher pong time others saw.
      if (!(g.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) && node.pingSent === 0 && failureReportCount(node, now, h.nodeTimeout()) === 0) {
        const pongTime = g.pongReceived * 1000;
        if (pongTime <= now + 500 && pongTime > node.pongReceived) node.pongReceived = pongTime;
      }
      // A node we cannot reach, seen elsewhere at another address: reconnect there.
      if ((node.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) !== 0 && !(g.flags & NodeFlag.NOADDR) && !(g.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) &&
        (node.ip.toLowerCase() !== g.ip.toLowerCase() || node.port !== g.port || node.cport !== g.cport)) {
        h.dropLink(node);
        node.ip = g.ip;
        node.port = g.port;
        node.pport = g.pport;
        node.cport = g.cport;
        node.flags &= ~NodeFlag.NOADDR;
      }
    } else if (sender !== null && !(g.flags & NodeFlag.NOADDR) && !isForgotten(state, g.name, now)) {
      // A node we do not know, vouched for by a known node: added under its real name (not by handshake,
      // which could join another cluster reusing the address); the cron connects to it.
      const added = new ClusterNode(g.name, g.flags & ~NodeFlag.MYSELF, now);
      added.ip = g.ip;
      added.port = g.port;
      added.pport = g.pport;
      added.cport = g.cport;
      state.addNode(added);
    }
  }
}

/** Whether a name is on the FORGET blacklist (expired entries dropped). */
export function isForgotten(state: ClusterState, name: string, now: number): boolean {
  const until = state.forgotten.get(name);
  if (until === undefined) return false;
  if (until > now) return true;
  state.forgotten.delete(name);
  return false;
}
