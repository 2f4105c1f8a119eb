/**
 * The failover decisions of core/cluster/failover.ts over a fake host (no
 * sockets): how a primary votes (Redis's clusterSendFailoverAuthIfNeeded),
 * a replica's rank, election delay, epoch and takeover
 * (clusterHandleSlaveFailover), manual failover in its three forms, and
 * replica migration to an orphaned primary.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ClusterNode, NodeFlag } from "../../core/cluster/node.ts";
import { ClusterState } from "../../core/cluster/state.ts";
import { SLOTS } from "../../core/cluster/slot.ts";
import {
  type AuthRequest,
  authAckReceived,
  type FailoverHost,
  type FailoverSettings,
  failoverCron,
  handleManualFailover,
  handleReplicaFailover,
  manualFailover,
  mfStartReceived,
  offsetAnnounced,
  pausedForManualFailover,
  replicaRank,
  replicate,
  setMyPrimary,
  REPLICA_MIGRATION_DELAY,
  voteIfNeeded,
} from "../../core/cluster/failover.ts";

const name = (c: string) => c.repeat(40);

interface Fake {
  host: FailoverHost;
  sent: string[];
  logs: string[];
  held: boolean[];
  clock: { now: number };
  repl: { following: boolean; linkUp: boolean; lastIo: number; downSince: number; appliedOffset: number; followed: string[]; unfollowed: number };
  settings: FailoverSettings;
}

/** A cluster of primaries A, B, C (slots split in three, epochs 1-3) seen from myself, a node of the given flags. */
function cluster(myFlags: number): { state: ClusterState; me: ClusterNode; a: ClusterNode; b: ClusterNode; c: ClusterNode } {
  const me = new ClusterNode(name("9"), myFlags, 0);
  const state = new ClusterState(me);
  const [a, b, c] = ["a", "b", "c"].map((n, i) => {
    const node = new ClusterNode(name(n), NodeFlag.MASTER, 0);
    node.ip = "127.0.0.1";
    node.port = 7000 + i;
    node.configEpoch = i + 1;
    state.addNode(node);
    return node;
  });
  for (let slot = 0; slot < SLOTS; slot++) state.assignSlot(slot, slot < 5461 ? a : slot < 10923 ? b : c);
  state.currentEpoch = 3;
  state.size = 3;
  state.ok = true;
  return { state, me, a, b, c };
}

function fake(state: ClusterState): Fake {
  const clock = { now: 1_000_000 };
  const sent: string[] = [];
  const logs: string[] = [];
  const held: boolean[] = [];
  const settings: FailoverSettings = {
    nodeTimeout: 2000,
    validityFactor: 10,
    replPingPeriod: 10,
    noFailover: false,
    migrationBarrier: 1,
    allowReplicaMigration: true,
  };
  const repl = {
    following: false,
    linkUp: false,
    lastIo: 0,
    downSince: clock.now,
    appliedOffset: 100,
    followed: [] as string[],
    unfollowed: 0,
    follow(host: string, port: number) {
      this.following = true;
      this.followed.push(`${host}:${port}`);
    },
    unfollow() {
      this.following = false;
      this.unfollowed++;
    },
  };
  const host: FailoverHost = {
    cluster: state,
    now: () => clock.now,
    random: () => 0.5,
    settings: () => settings,
    replication: repl,
    bus: {
      requestAuth: (force) => sent.push(`auth-req${force ? " force" : ""}`),
      sendAuthAck: (n) => sent.push(`auth-ack ${n.name[0]}`),
      sendMfStart: (n) => sent.push(`mfstart ${n.name[0]}`),
      sendPing: (n) => sent.push(`ping ${n.name[0]}`),
      broadcastPong: (local) => sent.push(local ? "pong local" : "pong all"),
    },
    holdWrites: (on) => held.push(on),
    keyCount: () => 0,
    updateState: () => {},
    saveConfig: () => sent.push("save"),
    log: (_level, msg) => logs.push(msg),
  };
  return { host, sent, logs, held, clock, repl, settings };
}

/** A replica r of primary a, known to a primary myself (holding C's slots as myself here). */
function voterSetup() {
  const { state, me, a, c } = cluster(NodeFlag.MASTER);
  // myself takes C's slots, so it may vote.
  for (let slot = 10923; slot < SLOTS; slot++) state.moveSlot(slot, me);
  me.configEpoch = 3;
  const r = new ClusterNode(name("r"), NodeFlag.SLAVE, 0);
  state.addNode(r);
  state.setReplicaOf(r, a);
  const f = fake(state);
  const req = (over: Partial<AuthRequest> = {}): AuthRequest => ({
    currentEpoch: state.currentEpoch,
    configEpoch: a.configEpoch,
    slots: a.slots.slice(),
    forceAck: false,
    ...over,
  });
  return { state, me, a, r, f, req };
}

describe("a primary's vote", () => {
  it("is given once per epoch for a replica of a FAIL primary, and recorded", () => {
    const { state, a, r, f, req } = voterSetup();
    a.flags |= NodeFlag.FAIL;
    state.currentEpoch = 4;
    assert.equal(voteIfNeeded(f.host, r, req()), true);
    // The vote is on disk before it leaves.
    assert.deepEqual(f.sent, ["save", "auth-ack r"]);
    assert.equal(state.lastVoteEpoch, 4);
    assert.equal(a.votedTime, f.clock.now);
    assert.equal(f.logs.at(-1), `Failover auth granted to ${r.name} for epoch 4`);
    // Same epoch again: refused.
    assert.equal(voteIfNeeded(f.host, r, req()), false);
    assert.equal(f.logs.at(-1), `Failover auth denied to ${r.name}: already voted for epoch 4`);
  });

  it("is refused while the primary is up, unless FORCEACK (a manual failover)", () => {
    const { state, r, f, req } = voterSetup();
    state.currentEpoch = 4;
    assert.equal(voteIfNeeded(f.host, r, req()), false);
    assert.equal(f.logs.at(-1), `Failover auth denied to ${r.name}: its master is up`);
    assert.equal(voteIfNeeded(f.host, r, req({ forceAck: true })), true);
  });

  it("is refused for an old epoch, a primary, within two node timeouts of the last vote, and for stale slots", () => {
    const { state, a, r, f, req } = voterSetup();
    a.flags |= NodeFlag.FAIL;
    state.currentEpoch = 5;
    assert.equal(voteIfNeeded(f.host, r, req({ currentEpoch: 4 })), false);
    assert.equal(f.logs.at(-1), `Failover auth denied to ${r.name}: reqEpoch (4) < curEpoch(5)`);
    assert.equal(voteIfNeeded(f.host, a, req()), false);
    assert.equal(f.logs.at(-1), `Failover auth denied to ${a.name}: it is a master node`);
    a.votedTime = f.clock.now - 1500;
    assert.equal(voteIfNeeded(f.host, r, req()), false);
    assert.equal(f.logs.at(-1), `Failover auth denied to ${r.name}: can't vote about this master before 2500 milliseconds`);
    a.votedTime = 0;
    // The replica claims slot 0 with epoch 1, but slot 0 is now served under epoch 3 by another primary.
    const slots = req().slots;
    slots[12000 >> 3] |= 1 << (12000 & 7);
    assert.equal(voteIfNeeded(f.host, r, req({ slots })), false);
    assert.equal(f.logs.at(-1), `Failover auth denied to ${r.name}: slot 12000 epoch (3) > reqEpoch (1)`);
    assert.deepEqual(f.sent, []);
  });

  it("is never given by a replica or a primary without slots", () => {
    const { state, me, a, r, f, req } = voterSetup();
    a.flags |= NodeFlag.FAIL;
    state.currentEpoch = 4;
    state.unassignAllSlots(me);
    assert.equal(voteIfNeeded(f.host, r, req()), false);
    assert.deepEqual(f.logs, []);
  });
});

/** myself a replica of A, next to another replica o of A. */
function replicaSetup() {
  const { state, me, a, b, c } = cluster(NodeFlag.SLAVE);
  state.setReplicaOf(me, a);
  const o = new ClusterNode(name("o"), NodeFlag.SLAVE, 0);
  state.addNode(o);
  state.setReplicaOf(o, a);
  const f = fake(state);
  f.repl.following = true;
  return { state, me, a, b, c, o, f };
}

describe("a replica's election", () => {
  it("ranks replicas by announced offset, leaving out nofailover ones", () => {
    const { state, o } = replicaSetup();
    o.replOffset = 200;
    assert.equal(replicaRank(state, 100), 1);
    assert.equal(replicaRank(state, 200), 0);
    o.flags |= NodeFlag.NOFAILOVER;
    assert.equal(replicaRank(state, 100), 0);
  });

  it("waits 500 ms + random + 1 s per rank, asks for votes in a new epoch, and takes over with a majority", () => {
    const { state, me, a, b, c, o, f } = replicaSetup();
    o.replOffset = 500; // a better replica: rank 1
    handleReplicaFailover(f.host);
    assert.deepEqual(f.sent, [], "nothing while the primary is not FAIL");
    a.flags |= NodeFlag.FAIL;
    a.failTime = f.clock.now;
    handleReplicaFailover(f.host);
    assert.equal(state.failover.authTime, f.clock.now + 500 + 250 + 1000);
    assert.equal(f.logs.at(-1), "Start of election delayed for 1750 milliseconds (rank #1, offset 100).");
    assert.deepEqual(f.sent, ["pong local"]);
    f.clock.now += 1749;
    handleReplicaFailover(f.host);
    assert.equal(state.currentEpoch, 3, "not before its time");
    f.clock.now += 1;
    handleReplicaFailover(f.host);
    assert.equal(state.currentEpoch, 4);
    assert.equal(state.failover.authEpoch, 4);
    // The new epoch is on disk before the request leaves.
    assert.deepEqual(f.sent, ["pong local", "save", "auth-req"]);
    // Votes: a replica's or an old epoch's do not count; two primaries of three are a majority.
    authAckReceived(f.host, o, 4);
    authAckReceived(f.host, b, 3);
    authAckReceived(f.host, b, 4);
    handleReplicaFailover(f.host);
    assert.equal(me.isReplica, true, "one vote is not a majority of 3");
    authAckReceived(f.host, c, 4);
    handleReplicaFailover(f.host);
    assert.equal(me.isPrimary, true);
    assert.equal(me.replicaOf, null);
    assert.equal(me.configEpoch, 4);
    assert.equal(me.numSlots, 5461);
    assert.equal(a.numSlots, 0);
    assert.equal(state.slots[0], me);
    assert.equal(f.repl.unfollowed, 1);
    assert.deepEqual(f.sent.slice(-2), ["save", "pong all"]);
    assert.ok(f.logs.includes("Failover election won: I'm the new master."));
    // Made a replica again soon after (its primary took the slots back), its new primary failing at once:
    // the won election's votes do not elect it again; a new election is scheduled and asks for votes anew.
    setMyPrimary(f.host, b);
    assert.equal(me.isReplica, true);
    b.flags |= NodeFlag.FAIL;
    b.failTime = f.clock.now;
    handleReplicaFailover(f.host);
    assert.equal(me.isReplica, true, "not elected by the old votes");
    assert.equal(state.failover.authCount, 0);
    assert.ok(state.failover.authTime > f.clock.now, "a new election is scheduled");
  });

  it("does not start with data older than the validity factor allows, nor with cluster-replica-no-failover", () => {
    const { state, a, f } = replicaSetup();
    a.flags |= NodeFlag.FAIL;
    // Down for 10 s (ping period) + 10 x 2 s + the 2 s baseline + 1 s: too old.
    f.repl.downSince = f.clock.now - 33_000;
    handleReplicaFailover(f.host);
    assert.equal(state.failover.authTime, 0);
    f.repl.downSince = f.clock.now - 31_000;
    f.settings.noFailover = true;
    handleReplicaFailover(f.host);
    assert.equal(state.failover.authTime, 0);
    f.settings.noFailover = false;
    handleReplicaFailover(f.host);
    assert.notEqual(state.failover.authTime, 0);
  });
});

describe("manual failover", () => {
  it("plain: MFSTART, the paused primary's offset, then an election at once with FORCEACK", () => {
    const { state, me, a, b, f } = replicaSetup();
    assert.equal(manualFailover(f.host, false, false), "Master is down or failed, please use CLUSTER FAILOVER FORCE");
    a.link = { conn: null!, createdAt: 0, node: a, inbound: false, pending: () => 0, close() {} };
    assert.equal(manualFailover(f.host, false, false), null);
    assert.deepEqual(f.sent, ["mfstart a"]);
    // A message from A not flagged PAUSED is not the offset to reach.
    a.replOffset = 150;
    offsetAnnounced(f.host, a, false);
    assert.equal(state.failover.mfPrimaryOffset, -1);
    offsetAnnounced(f.host, b, true);
    assert.equal(state.failover.mfPrimaryOffset, -1);
    offsetAnnounced(f.host, a, true);
    assert.equal(state.failover.mfPrimaryOffset, 150);
    handleManualFailover(f.host);
    assert.equal(state.failover.mfCanStart, false, "offset 100 applied, 150 to reach");
    f.repl.appliedOffset = 150;
    handleManualFailover(f.host);
    assert.equal(state.failover.mfCanStart, true);
    handleReplicaFailover(f.host);
    assert.equal(state.failover.authTime, f.clock.now, "no delay");
    handleReplicaFailover(f.host);
    assert.deepEqual(f.sent.slice(1), ["pong local", "save", "auth-req force"]);
    assert.equal(me.isReplica, true);
  });

  it("TAKEOVER: a new epoch without votes and the slots taken at once", () => {
    const { state, me, a, f } = replicaSetup();
    a.flags |= NodeFlag.FAIL;
    assert.equal(manualFailover(f.host, true, true), null);
    assert.equal(me.isPrimary, true);
    assert.equal(me.configEpoch, 4);
    assert.equal(state.currentEpoch, 4);
    assert.equal(state.slots[100], me);
    assert.deepEqual(f.sent, ["save", "pong all"]);
    assert.equal(manualFailover(f.host, false, false), "You should send CLUSTER FAILOVER to a replica");
  });

  it("the primary holds writes, flags its messages PAUSED and pings the replica, until the timeout", () => {
    const { state, me, a, b } = cluster(NodeFlag.MASTER);
    for (let slot = 0; slot < 100; slot++) state.moveSlot(slot, me);
    const r = new ClusterNode(name("r"), NodeFlag.SLAVE, 0);
    state.addNode(r);
    state.setReplicaOf(r, me);
    const f = fake(state);
    mfStartReceived(f.host, new ClusterNode(name("x"), NodeFlag.SLAVE, 0));
    assert.deepEqual(f.held, [], "only from my own replica");
    state.setReplicaOf(b, a);
    mfStartReceived(f.host, b);
    assert.deepEqual(f.held, []);
    mfStartReceived(f.host, r);
    assert.deepEqual(f.held, [true]);
    assert.deepEqual(f.sent, ["ping r"]);
    assert.equal(pausedForManualFailover(state), true);
    r.link = { conn: null!, createdAt: 0, node: r, inbound: false, pending: () => 0, close() {} };
    failoverCron(f.host);
    assert.deepEqual(f.sent, ["ping r", "ping r"]);
    f.clock.now += 5001;
    failoverCron(f.host);
    assert.deepEqual(f.held, [true, false]);
    assert.equal(pausedForManualFailover(state), false);
    assert.equal(f.logs.at(-1), "Manual failover timed out.");
  });
});

describe("CLUSTER REPLICATE and replica migration", () => {
  it("refuses what Redis refuses, and follows a primary", () => {
    const { state, me, a, b } = cluster(NodeFlag.MASTER);
    const f = fake(state);
    assert.equal(replicate(f.host, "nope"), "Unknown node nope");
    assert.equal(replicate(f.host, me.name), "Can't replicate myself");
    state.setReplicaOf(b, a);
    assert.equal(replicate(f.host, b.name), "I can only replicate a master, not a replica.");
    state.moveSlot(0, me);
    assert.equal(replicate(f.host, a.name), "To set a master the node must be empty and without assigned slots.");
    state.unassignSlot(0);
    assert.equal(replicate(f.host, a.name), null);
    assert.equal(me.isReplica, true);
    assert.equal(me.replicaOf, a);
    assert.ok(a.replicas.includes(me));
    assert.deepEqual(f.repl.followed, ["127.0.0.1:7000"]);
  });

  it("moves the replica with the smallest name to a primary orphaned for 5 s, keeping the barrier", () => {
    const { state, me, a, b, o, f } = replicaSetup();
    // B used to have a replica (MIGRATE_TO) and has none now: orphaned.
    b.flags |= NodeFlag.MIGRATE_TO;
    failoverCron(f.host);
    assert.ok(b.orphanedTime > 0);
    f.clock.now += REPLICA_MIGRATION_DELAY + 1;
    // Of A's two replicas myself has the smaller name ("99..." < "oo..."): it is the one to move.
    failoverCron(f.host);
    assert.equal(me.replicaOf, b);
    assert.deepEqual(f.repl.followed, ["127.0.0.1:7001"]);
    assert.ok(!a.replicas.includes(me));
    assert.equal(o.replicaOf, a);
  });

  it("does not migrate when the primary would be left at the barrier", () => {
    const { b, me, a, f } = replicaSetup();
    b.flags |= NodeFlag.MIGRATE_TO;
    f.settings.migrationBarrier = 2;
    failoverCron(f.host);
    f.clock.now += REPLICA_MIGRATION_DELAY + 1;
    failoverCron(f.host);
    assert.equal(me.replicaOf, a);
  });
});
