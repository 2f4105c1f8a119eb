/**
 * ClusterState's helpers and Redis's clusterUpdateState timing on a fake
 * clock (the writable delay after startup, the rejoin delay after being in
 * a minority), the slot table kept in step with the nodes' bitmaps, and
 * nodes.conf text read back into the same state, migrations, replicas and
 * hostnames included.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ClusterState, Todo } from "../../core/cluster/state.ts";
import { ClusterNode, NodeFlag } from "../../core/cluster/node.ts";
import { SLOTS } from "../../core/cluster/slot.ts";
import { clusterConfigText, ClusterConfigError, loadClusterConfig } from "../../core/cluster/config-file.ts";
import { slotRanges } from "../../core/cluster/nodes-text.ts";
import type { FileSystem } from "../../core/io.ts";

const name = (c: string) => c.repeat(40);
const primary = (c: string) => new ClusterNode(name(c), NodeFlag.MASTER, 0);

function twoPrimaries(): { state: ClusterState; me: ClusterNode; other: ClusterNode } {
  const me = primary("a");
  const state = new ClusterState(me);
  const other = primary("b");
  state.addNode(other);
  for (let slot = 0; slot < SLOTS; slot++) state.assignSlot(slot, slot < 8192 ? me : other);
  return { state, me, other };
}

const settings = { requireFullCoverage: true, nodeTimeout: 2000 };

describe("ClusterState.updateState", () => {
  it("waits 2 s after the first update before a primary turns ok", () => {
    const { state } = twoPrimaries();
    state.updateState(1000, settings);
    assert.equal(state.ok, false);
    state.updateState(2999, settings);
    assert.equal(state.ok, false);
    state.updateState(3000, settings);
    assert.equal(state.ok, true);
    assert.equal(state.size, 2);
  });

  it("fails with a minority reachable, and rejoins only after the rejoin delay", () => {
    const { state, other } = twoPrimaries();
    state.updateState(1, settings);
    state.updateState(5000, settings);
    assert.equal(state.ok, true);
    other.flags |= NodeFlag.PFAIL;
    state.updateState(6000, settings);
    assert.equal(state.ok, false);
    other.flags &= ~NodeFlag.PFAIL;
    state.updateState(7999, settings);
    assert.equal(state.ok, false, "within cluster-node-timeout of the minority");
    state.updateState(8000, settings);
    assert.equal(state.ok, true);
  });

  it("clamps the rejoin delay to 500..5000 ms", () => {
    for (const [nodeTimeout, delay] of [[100, 500], [60_000, 5000]]) {
      const { state, other } = twoPrimaries();
      state.updateState(1, { ...settings, nodeTimeout });
      state.updateState(5000, { ...settings, nodeTimeout });
      other.flags |= NodeFlag.FAIL;
      state.updateState(10_000, { ...settings, nodeTimeout });
      other.flags &= ~NodeFlag.FAIL;
      state.updateState(10_000 + delay - 1, { ...settings, nodeTimeout });
      assert.equal(state.ok, false);
      state.updateState(10_000 + delay, { ...settings, nodeTimeout });
      assert.equal(state.ok, true);
    }
  });

  it("needs every slot served only with cluster-require-full-coverage", () => {
    const { state } = twoPrimaries();
    state.unassignSlot(100);
    state.updateState(1, settings);
    state.updateState(5000, settings);
    assert.equal(state.ok, false);
    state.updateState(5001, { ...settings, requireFullCoverage: false });
    assert.equal(state.ok, true);
  });
});

describe("ClusterState helpers", () => {
  it("keeps the slot table and the bitmaps in step", () => {
    const { state, me, other } = twoPrimaries();
    assert.equal(me.numSlots, 8192);
    assert.equal(state.assignSlot(5, other), false, "a served slot is not taken");
    state.moveSlot(5, other);
    assert.equal(state.slots[5], other);
    assert.ok(other.servesSlot(5) && !me.servesSlot(5));
    assert.equal(me.numSlots, 8191);
    assert.equal(state.unassignAllSlots(me), 8191);
    assert.equal(me.numSlots, 0);
    assert.equal(state.slots[0], null);
  });

  it("links replicas and primaries both ways, and deleteNode undoes everything", () => {
    const { state, me, other } = twoPrimaries();
    const replica = new ClusterNode(name("c"), NodeFlag.SLAVE, 0);
    state.addNode(replica);
    state.setReplicaOf(replica, other);
    assert.equal(replica.replicaOf, other);
    assert.deepEqual(other.replicas, [replica]);
    assert.ok(other.has(NodeFlag.MIGRATE_TO));
    state.migratingTo[1] = other;
    state.importingFrom[9000] = other;
    state.deleteNode(other);
    assert.equal(state.nodeByName(name("b")), undefined);
    assert.equal(replica.replicaOf, null);
    assert.equal(state.slots[9000], null);
    assert.equal(state.migratingTo[1], null);
    assert.equal(state.importingFrom[9000], null);
    state.setReplicaOf(me, replica);
    state.setPrimary(me);
    assert.ok(me.isPrimary && !me.isReplica && me.replicaOf === null);
    assert.deepEqual(replica.replicas, []);
  });

  it("renames a node and bumps the config epoch only when not already the greatest", () => {
    const { state, me, other } = twoPrimaries();
    state.renameNode(other, name("d"));
    assert.equal(state.nodeByName(name("d")), other);
    other.configEpoch = 3;
    assert.equal(state.bumpConfigEpochWithoutConsensus(), true);
    assert.equal(me.configEpoch, 1);
    assert.equal(state.currentEpoch, 1);
    assert.ok(state.todo & Todo.SAVE_CONFIG && state.todo & Todo.FSYNC_CONFIG);
    state.currentEpoch = 3;
    assert.equal(state.bumpConfigEpochWithoutConsensus(), true);
    assert.equal(me.configEpoch, 4);
    assert.equal(state.bumpConfigEpochWithoutConsensus(), false);
  });

  it("wakes the engine once per batch of todo bits", () => {
    const { state } = twoPrimaries();
    let wakes = 0;
    state.wake = () => wakes++;
    state.requestSave();
    state.requestUpdateState();
    assert.equal(wakes, 1);
    assert.equal(state.todo, Todo.SAVE_CONFIG | Todo.UPDATE_STATE);
  });
});

/** A FileSystem holding one nodes.conf. */
function fsWith(text: string): FileSystem {
  return { exists: () => true, size: () => text.length, readText: () => text } as unknown as FileSystem;
}

const host = (text: string) => ({ fs: fsWith(text), config: { get: () => "nodes.conf" }, now: 1 });

describe("nodes.conf text", () => {
  it("reads back to the same text: slots, migrations, replicas, flags, hostname", () => {
    const { state, me, other } = twoPrimaries();
    me.ip = other.ip = "127.0.0.1";
    me.port = 7000;
    me.cport = 17000;
    other.port = 7001;
    other.cport = 17001;
    other.hostname = "host-b";
    other.configEpoch = 2;
    other.flags |= NodeFlag.PFAIL;
    const replica = new ClusterNode(name("c"), NodeFlag.SLAVE | NodeFlag.NOFAILOVER, 0);
    replica.ip = "::1";
    replica.port = 7002;
    replica.cport = 17002;
    state.addNode(replica);
    state.setReplicaOf(replica, me);
    state.unassignSlot(3);
    state.migratingTo[7] = other;
    state.importingFrom[9000] = other;
    state.currentEpoch = 5;
    state.lastVoteEpoch = 4;
    const text = clusterConfigText(state);
    assert.match(text, /^a{40} 127\.0\.0\.1:7000@17000 myself,master - 0 0 0 connected 0-2 4-8191 \[7->-b{40}\] \[9000-<-b{40}\]\n/);
    assert.match(text, /\nc{40} ::1:7002@17002 slave,nofailover a{40} 0 0 0 disconnected\n/);
    assert.match(text, /\nb{40} 127\.0\.0\.1:7001@17001,host-b master,fail\? - 0 0 2 disconnected 8192-16383\n/);
    assert.match(text, /\nvars currentEpoch 5 lastVoteEpoch 4\n$/);
    const loaded = loadClusterConfig(host(text))!;
    assert.equal(loaded.myself.name, name("a"));
    assert.equal(clusterConfigText(loaded), text);
  });

  it("refuses a file without myself or with a bad line, as Redis", () => {
    for (const text of ["x\n", `${name("a")} :0@0 master - 0 0 0 connected\n`, `${name("a")} :0@0 myself,master - 0 0 0 connected 16384\n`]) {
      assert.throws(() => loadClusterConfig(host(text)), (e: unknown) => e instanceof ClusterConfigError && /corrupted cluster config file/.test(e.message));
    }
    assert.equal(loadClusterConfig({ ...host(""), fs: { exists: () => false } as unknown as FileSystem }), null);
  });

  it("slotRanges lists a node's runs of slots as a bit-by-bit scan would", () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 200; round++) {
      const node = primary("r");
      // Runs of random lengths, long ones (whole bytes) and single slots, ending at slot 16383 or not.
      for (let slot = 0, on = rand() < 0.5; slot < SLOTS; on = !on) {
        const run = rand() < 0.3 ? 1 + Math.floor(rand() * 3) : Math.floor(rand() * (round % 2 ? 40 : 3000));
        for (let k = 0; k < run && slot < SLOTS; k++, slot++) if (on) node.addSlot(slot);
      }
      let want = "";
      for (let slot = 0, start = -1; slot <= SLOTS; slot++) {
        const served = slot < SLOTS && node.servesSlot(slot);
        if (served && start === -1) start = slot;
        else if (!served && start !== -1) {
          want += start === slot - 1 ? ` ${start}` : ` ${start}-${slot - 1}`;
          start = -1;
        }
      }
      assert.equal(slotRanges(node), want);
    }
  });
});
