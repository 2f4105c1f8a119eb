/**
 * Failure detection and gossip as Redis 7.0's cluster.c decides them, on a
 * ClusterState without sockets: reports expire after 2 node timeouts, a
 * PFAIL node turns FAIL at a majority of slot-serving primaries (myself
 * counted when a primary), FAIL is cleared at once for replicas and only
 * after 2 node timeouts for a primary with slots; gossip sections carry
 * every PFAIL node and never myself or nodes in handshake; gossip adds
 * unknown nodes only when a known node vouches, and never a forgotten one.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { ClusterNode, NodeFlag } from "../../core/cluster/node.ts";
import { ClusterState } from "../../core/cluster/state.ts";
import {
  addFailureReport, clearFailureIfNeeded, failureReportCount, type GossipHost, gossipEntry, markFailingIfNeeded, pickGossip, processGossip,
} from "../../core/cluster/gossip.ts";

const TIMEOUT = 1000;

function primary(name: string, slot: number | null): ClusterNode {
  const n = new ClusterNode(name.padEnd(40, "0"), NodeFlag.MASTER, 0);
  n.ip = "127.0.0.1";
  n.port = 7000;
  n.cport = 17000;
  if (slot !== null) n.addSlot(slot);
  return n;
}

/** A cluster of myself and four other primaries, each serving one slot (cluster_size 5). */
function cluster() {
  const me = primary("me", 0);
  const state = new ClusterState(me);
  const others = ["a", "b", "c", "d"].map((x, i) => primary(x, i + 1));
  for (const n of others) state.addNode(n);
  state.size = 5;
  let now = 10_000;
  const fails: string[] = [];
  const host: GossipHost = {
    state,
    now: () => now,
    nodeTimeout: () => TIMEOUT,
    broadcastFail: (n) => fails.push(n.name),
    dropLink: () => {},
    log: () => {},
  };
  return { state, me, others, host, fails, advance: (ms: number) => (now += ms) };
}

it("a PFAIL node turns FAIL once reports and myself make a majority, and everyone is told", () => {
  const { others: [a, b, c], host, fails } = cluster();
  a.flags |= NodeFlag.PFAIL;
  addFailureReport(a, b, 10_000);
  markFailingIfNeeded(host, a);
  assert.ok(!a.has(NodeFlag.FAIL), "2 of 5 (b and myself) is not a majority");
  addFailureReport(a, c, 10_000);
  markFailingIfNeeded(host, a);
  assert.ok(a.has(NodeFlag.FAIL) && !a.has(NodeFlag.PFAIL));
  assert.deepEqual(fails, [a.name]);
});

it("a replica does not count itself; reports older than 2 node timeouts are dropped", () => {
  const { me, others: [a, b, c, d], host, advance } = cluster();
  me.flags = (me.flags & ~NodeFlag.MASTER) | NodeFlag.SLAVE;
  a.flags |= NodeFlag.PFAIL;
  addFailureReport(a, b, 10_000);
  addFailureReport(a, c, 10_000);
  markFailingIfNeeded(host, a);
  assert.ok(!a.has(NodeFlag.FAIL));
  advance(2 * TIMEOUT + 1);
  assert.equal(failureReportCount(a, 10_000 + 2 * TIMEOUT + 1, TIMEOUT), 0);
  addFailureReport(a, d, 12_001);
  assert.equal(failureReportCount(a, 12_001, TIMEOUT), 1);
});

it("FAIL clears at once for a replica, after 2 node timeouts for a primary with slots", () => {
  const { others: [a, b], host, advance } = cluster();
  b.flags = (b.flags & ~NodeFlag.MASTER) | NodeFlag.SLAVE | NodeFlag.FAIL;
  clearFailureIfNeeded(host, b);
  assert.ok(!b.has(NodeFlag.FAIL));
  a.flags |= NodeFlag.FAIL;
  a.failTime = 10_000;
  clearFailureIfNeeded(host, a);
  assert.ok(a.has(NodeFlag.FAIL));
  advance(2 * TIMEOUT + 1);
  clearFailureIfNeeded(host, a);
  assert.ok(!a.has(NodeFlag.FAIL));
});

it("gossip carries every PFAIL node, never myself or a node in handshake", () => {
  const { state, me, others: [a, b, c, d] } = cluster();
  const fakeLink = { pending: () => 0 } as unknown as ClusterNode["link"];
  for (const n of [a, b, c, d]) n.link = fakeLink;
  c.flags |= NodeFlag.PFAIL;
  d.flags |= NodeFlag.HANDSHAKE;
  for (let i = 0; i < 50; i++) {
    const names = pickGossip(state).map((g) => g.name);
    assert.ok(names.includes(c.name));
    assert.ok(!names.includes(me.name) && !names.includes(d.name));
    assert.equal(new Set(names).size, names.length);
  }
  assert.deepEqual(gossipEntry(a), { name: a.name, pingSent: 0, pongReceived: 0, ip: "127.0.0.1", port: 7000, cport: 17000, flags: NodeFlag.MASTER, pport: 0 });
});

it("unknown gossiped nodes are added only when a known node vouches, and not when forgotten", () => {
  const { state, others: [a], host } = cluster();
  const entry = { ...gossipEntry(primary("new", null)), ip: "10.0.0.9" };
  processGossip(host, null, [entry]);
  assert.equal(state.nodeByName(entry.name), undefined);
  state.forgotten.set(entry.name, 10_000 + 60_000);
  processGossip(host, a, [entry]);
  assert.equal(state.nodeByName(entry.name), undefined);
  state.forgotten.clear();
  processGossip(host, a, [entry]);
  const added = state.nodeByName(entry.name);
  assert.ok(added);
  assert.equal(added.ip, "10.0.0.9");
  assert.ok(added.isPrimary && !added.has(NodeFlag.HANDSHAKE));
});

it("a primary's gossip about a failing node is a failure report; about a healthy one it withdraws it", () => {
  const { others: [a, b], host } = cluster();
  processGossip(host, a, [{ ...gossipEntry(b), flags: NodeFlag.MASTER | NodeFlag.PFAIL }]);
  assert.equal(failureReportCount(b, 10_000, TIMEOUT), 1);
  processGossip(host, a, [gossipEntry(b)]);
  assert.equal(failureReportCount(b, 10_000, TIMEOUT), 0);
});
