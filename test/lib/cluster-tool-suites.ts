/**
 * redis-cli --cluster and cluster clients against a cluster of one kind of
 * node, made by `redis-cli --cluster create`: `reshard` of 1,000 slots while
 * ioredis's Cluster and node-redis's createCluster read and write (no error
 * shown to them, no acknowledged write lost), `add-node` of a primary and
 * `rebalance` onto it and off it, `del-node`, `add-node --cluster-slave`,
 * with `check` clean after each; the clients through a kill -9 of a primary
 * (every write acknowledged with WAIT 1 before it is there after); and a
 * cluster mixing the kind with redis-server nodes, resharded both ways.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Target, targets, until } from "./targets.ts";
import {
  assertCheckClean,
  clusterCheck,
  type ClusterNodeHandle,
  clusterNodes,
  command,
  createCluster,
  kill,
  logs,
  myId,
  redisCli,
  startClusterNode,
  startClusterNodes,
  stopAll,
  waitClusterOk,
  waitFlag,
} from "./cluster.ts";
import { assertAcked, type ClusterClient, ioredisCluster, nodeRedisCluster, startWorkload } from "./cluster-workload.ts";

/** `redis-cli --cluster <args>`, which must succeed. */
async function cli(nodes: ClusterNodeHandle[], ...args: string[]): Promise<string> {
  const r = await redisCli(["--cluster", ...args]);
  assert.equal(r.code, 0, `redis-cli --cluster ${args.join(" ")}\n${r.output}${logs(nodes)}`);
  return r.output;
}

/** Waits until `redis-cli --cluster check` through node is clean (after add-node, nodes learn of each other by gossip). */
async function untilCheckClean(node: ClusterNodeHandle, nodes: ClusterNodeHandle[]): Promise<void> {
  let last = "";
  await until(async () => {
    const r = await clusterCheck(node);
    last = r.output;
    return r.code === 0 && !/\[ERR\]|\[WARNING\]/.test(r.output) && /\[OK\] All 16384 slots covered/.test(r.output);
  }, () => last + logs(nodes), 60_000, 250);
}

/** Waits until every node knows every other (no handshake left): add-node's MEET spreads by gossip. */
async function untilAllKnown(nodes: ClusterNodeHandle[]): Promise<void> {
  let last = "";
  await until(async () => {
    for (const n of nodes) {
      const lines = await clusterNodes(n);
      const known = nodes.every((m) => lines.some((l) => l.addr.startsWith(m.addr + "@") && !l.flags.includes("handshake")));
      if (!known) {
        last = `${n.addr} knows ${lines.map((l) => l.addr + " " + l.flags.join(",")).join("; ")}`;
        return false;
      }
    }
    return true;
  }, () => last + logs(nodes), 60_000, 100);
}

/** Slots each node serves, by address, from one node's CLUSTER NODES. */
async function slotCounts(node: ClusterNodeHandle): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of await clusterNodes(node)) {
    let n = 0;
    for (const r of line.slots) {
      if (r.startsWith("[")) continue;
      const [a, b] = r.split("-").map(Number);
      n += (b ?? a) - a + 1;
    }
    out.set(line.addr.split("@")[0], n);
  }
  return out;
}

/**
 * The cluster suites for one kind of node (a runtime, the compiled binary, or
 * redis-server itself to check the tests). One test file per kind
 * (cluster-tools-<kind>.test.ts) calls this, so each file stays well within
 * the runner's per-file timeout and the files run in parallel.
 */
export function clusterToolSuites(kind: Target): void {
  if (!targets(true).includes(kind)) return;
  describe(`redis-cli --cluster tools and cluster clients on ${kind} nodes`, () => {
    let nodes: ClusterNodeHandle[] = [];
    const extra: ClusterNodeHandle[] = [];
    let checker: ClusterClient;
    const seeded = new Map<string, string>();
    before(async () => {
      nodes = await startClusterNodes([kind, kind, kind]);
      await createCluster(nodes);
      await waitClusterOk(nodes);
      checker = await ioredisCluster(nodes);
      for (let i = 0; i < 1000; i++) seeded.set(`seed:${i}`, `v${i}`);
      await Promise.all([...seeded].map(([k, v]) => checker.set(k, v)));
    });
    after(async () => {
      await checker?.close();
      await stopAll([...nodes, ...extra]);
    });

    test("reshard of 1,000 slots while ioredis and node-redis read and write: no error, no acknowledged write lost", async () => {
      const [a, b] = await Promise.all([myId(nodes[0]), myId(nodes[1])]);
      const clients = await Promise.all([ioredisCluster(nodes), nodeRedisCluster(nodes)]);
      const loads = clients.map((c) => startWorkload(c, `w-${c.name}`));
      try {
        const before = loads.map((w) => w.ops());
        await cli(nodes, "reshard", nodes[0].addr, "--cluster-from", a, "--cluster-to", b, "--cluster-slots", "1000", "--cluster-yes");
        // Both workloads were running during the reshard, not only before or after it.
        await until(() => loads.every((w, i) => w.ops() > before[i] + 10), () => "workloads stalled", 60_000);
      } finally {
        await Promise.all(loads.map((w) => w.stop()));
        await Promise.all(clients.map((c) => c.close()));
      }
      assert.deepEqual(loads.flatMap((w) => w.errors).slice(0, 10), []);
      assert.equal((await slotCounts(nodes[0])).get(nodes[1].addr), 5462 + 1000);
      await assertCheckClean(nodes[0], nodes);
      for (const w of loads) await assertAcked(checker, w.acked, "after the reshard");
      await assertAcked(checker, seeded, "seeded keys after the reshard");
    });

    test("add-node, rebalance onto the empty primary, rebalance it empty, del-node", async () => {
      const added = await startClusterNode(kind);
      extra.push(added);
      const all = [...nodes, added];
      await cli(all, "add-node", added.addr, nodes[0].addr);
      await untilAllKnown(all);
      // A node that just joined answers CLUSTERDOWN (to MIGRATE's RESTORE-ASKING too) until it has seen every slot served.
      await waitClusterOk(all);
      await untilCheckClean(nodes[0], all);
      const out = await cli(all, "rebalance", nodes[0].addr, "--cluster-use-empty-masters");
      await untilCheckClean(nodes[0], all);
      const counts = await slotCounts(nodes[0]);
      assert.ok((counts.get(added.addr) ?? 0) > 3000, `the new primary got its share: ${JSON.stringify([...counts])}\n${out}`);
      await assertAcked(checker, seeded, "after rebalancing onto the new node");
      const id = await myId(added);
      await cli(all, "rebalance", nodes[0].addr, "--cluster-weight", `${id}=0`);
      await untilCheckClean(nodes[0], all);
      assert.equal((await slotCounts(nodes[0])).get(added.addr) ?? 0, 0);
      await cli(all, "del-node", nodes[0].addr, id);
      await untilCheckClean(nodes[0], nodes);
      for (const n of nodes) assert.ok(!(await clusterNodes(n)).some((l) => l.id === id), `${n.addr} forgot the deleted node`);
      await assertAcked(checker, seeded, "after del-node");
    });

    test("add-node --cluster-slave, then del-node of the replica", async () => {
      const replica = await startClusterNode(kind);
      extra.push(replica);
      const all = [...nodes, replica];
      const primaryId = await myId(nodes[2]);
      await cli(all, "add-node", replica.addr, nodes[0].addr, "--cluster-slave", "--cluster-master-id", primaryId);
      await untilAllKnown(all);
      // A node that just joined answers CLUSTERDOWN (to MIGRATE's RESTORE-ASKING too) until it has seen every slot served.
      await waitClusterOk(all);
      await untilCheckClean(nodes[0], all);
      // Every node learns by gossip that the new node replicates primaryId.
      await until(async () => {
        for (const n of nodes) {
          const line = (await clusterNodes(n)).find((l) => l.addr.startsWith(replica.addr + "@"));
          if (!line?.flags.includes("slave") || line.primary !== primaryId) return false;
        }
        return true;
      }, () => "the replica is not seen as one" + logs(all), 30_000, 100);
      // The replica has its primary's keys.
      await until(async () => (await command(replica, "DBSIZE")) === (await command(nodes[2], "DBSIZE")), () => "replica not in sync", 30_000);
      const id = await myId(replica);
      await cli(all, "del-node", nodes[0].addr, id);
      await untilCheckClean(nodes[0], nodes);
      await assertAcked(checker, seeded, "after the replica's del-node");
    });
  });

  describe(`cluster clients through a kill -9 of a primary, ${kind} nodes`, () => {
    let nodes: ClusterNodeHandle[] = [];
    before(async () => {
      nodes = await startClusterNodes([kind, kind, kind, kind, kind, kind]);
      await createCluster(nodes, 1);
      await waitClusterOk(nodes);
    });
    after(async () => {
      await stopAll(nodes);
    });

    test("the workload goes on after the failover and every write acknowledged with WAIT 1 before the kill is there", async () => {
      // Wait until every replica is attached, so WAIT 1 can be satisfied on every shard.
      await until(async () => {
        for (const n of nodes) {
          const role = await command(n, "ROLE");
          if (role.includes("master") && !role.includes("*1\r\n*3")) return false;
        }
        return true;
      }, () => "replicas not attached" + logs(nodes), 60_000, 200);
      const clients = await Promise.all([ioredisCluster(nodes), nodeRedisCluster(nodes)]);
      const waited = startWorkload(clients[0], "acked", 2000, { waitAcked: true });
      const plain = startWorkload(clients[1], "plain");
      let ackedBefore: Map<string, string>;
      const victim = nodes[0];
      const survivors = nodes.slice(1);
      try {
        await until(() => waited.acked.size >= 200, () => `only ${waited.acked.size} writes acknowledged by a replica`, 60_000);
        await kill(victim);
        // What was acknowledged when the primary died: later writes may fail until a replica takes over.
        ackedBefore = new Map(waited.acked);
        const victimId = (await clusterNodes(survivors[0])).find((l) => l.addr.startsWith(victim.addr + "@"))!.id;
        await waitFlag(survivors, victimId, "fail");
        await waitClusterOk(survivors);
        const opsAfter = [waited.ops(), plain.ops()];
        await until(() => waited.ops() > opsAfter[0] + 50 && plain.ops() > opsAfter[1] + 50, () => "the workload stopped after the failover", 60_000);
      } finally {
        await Promise.all([waited.stop(), plain.stop()]);
      }
      const checker = await ioredisCluster(survivors);
      try {
        // Each write acknowledged before the kill reads back as written, or as a later write of the same key.
        const lost: string[] = [];
        const index = (v: string | null) => (v === null ? -1 : Number(v.slice(v.lastIndexOf("-") + 1)));
        for (const [key, value] of ackedBefore!) {
          const got = await checker.get(key);
          if (index(got) < index(value)) lost.push(`${key}: ${got} (acknowledged ${value})`);
        }
        assert.deepEqual(lost.slice(0, 20), [], `${lost.length} of ${ackedBefore!.size} WAIT-acknowledged writes lost`);
      } finally {
        await checker.close();
        await Promise.all(clients.map((c) => c.close()));
      }
    });
  });

  if (kind === "redis") return;
  describe(`a mixed cluster of ${kind} and redis-server nodes`, () => {
    let nodes: ClusterNodeHandle[] = [];
    before(async () => {
      nodes = await startClusterNodes([kind, "redis", kind]);
      await createCluster(nodes);
      await waitClusterOk(nodes);
    });
    after(async () => {
      await stopAll(nodes);
    });

    test("reshards from Respite to redis-server and from redis-server to Respite while ioredis and node-redis work", async () => {
      const [a, b, c] = await Promise.all(nodes.map((n) => myId(n)));
      const clients = await Promise.all([ioredisCluster(nodes), nodeRedisCluster(nodes)]);
      const loads = clients.map((cl) => startWorkload(cl, `mixed-${cl.name}`));
      try {
        await cli(nodes, "reshard", nodes[0].addr, "--cluster-from", a, "--cluster-to", b, "--cluster-slots", "1000", "--cluster-yes");
        await cli(nodes, "reshard", nodes[0].addr, "--cluster-from", b, "--cluster-to", c, "--cluster-slots", "1000", "--cluster-yes");
        const now = loads.map((w) => w.ops());
        await until(() => loads.every((w, i) => w.ops() > now[i] + 10), () => "workloads stalled", 60_000);
      } finally {
        await Promise.all(loads.map((w) => w.stop()));
        await Promise.all(clients.map((cl) => cl.close()));
      }
      assert.deepEqual(loads.flatMap((w) => w.errors).slice(0, 10), []);
      const counts = await slotCounts(nodes[1]);
      assert.deepEqual([nodes[0], nodes[1], nodes[2]].map((n) => counts.get(n.addr)), [5461 - 1000, 5462, 5461 + 1000]);
      await assertCheckClean(nodes[1], nodes);
      const checker = await ioredisCluster(nodes);
      try {
        for (const w of loads) await assertAcked(checker, w.acked, "after the reshards");
      } finally {
        await checker.close();
      }
    });
  });
}
