/**
 * Failover across kinds and replica migration: a mixed cluster where manual
 * failovers go both ways between a redis-server primary and a Respite
 * replica, a Respite replica takes over a redis-server primary and a
 * redis-server replica a Respite primary; and replica migration to an
 * orphaned primary, on redis-server and on Respite.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES } from "../lib/servers.ts";
import type { Target } from "../lib/targets.ts";
import { targets } from "../lib/targets.ts";
import { assertCheckClean, type ClusterNodeHandle, clusterNodes, command, createCluster, kill, logs, redisCli, stopAll, waitClusterOk, waitFlag } from "../lib/cluster.ts";
import { start, slotSet, keysIn, handleOf, pair, waitLinkUp, writeAcked, assertKeys, waitPrimary, waitReplicaOf, cluster33, manualFailover } from "../lib/cluster-failover.ts";

// The Respite replica is the compiled binary when the run covers it.
const mixedReplica: Target = targets(true).includes("compiled") ? "compiled" : RUNTIMES[0];

describe(`cluster failover: a mixed cluster (redis-server, Respite on ${RUNTIMES[0]} and ${mixedReplica})`, () => {
  it("CLUSTER FAILOVER both ways; a Respite replica takes over a redis-server primary, a redis-server replica a Respite primary", { timeout: 240_000 }, async () => {
    // Primaries: redis A, Respite B, redis C; then Respite A' under A and redis B' under B, added as replicas by redis-cli.
    const [a, b, c, a2, b2] = await start(["redis", RUNTIMES[0], "redis", mixedReplica, "redis"]);
    const nodes = [a, b, c, a2, b2];
    await createCluster([a, b, c], 0);
    const idOf = async (n: ClusterNodeHandle) => (await command(n, "CLUSTER", "MYID")).split("\r\n")[1];
    for (const [replica, primary] of [[a2, a], [b2, b]] as const) {
      const r = await redisCli(["--cluster", "add-node", replica.addr, primary.addr, "--cluster-slave", "--cluster-master-id", await idOf(primary)]);
      assert.equal(r.code, 0, r.output + logs(nodes));
      await waitReplicaOf(await idOf(replica), await idOf(primary), [a, b, c]);
      await waitLinkUp(replica, nodes);
    }
    await waitClusterOk(nodes);
    await assertCheckClean(b, nodes);
    // Manual failovers across kinds, under writes: the Respite replica takes over from redis-server, which takes back.
    await manualFailover(nodes, await idOf(a));
    await manualFailover(nodes, await idOf(a2));
    for (const [primary, replica] of [[a, a2], [b, b2]] as const) {
      const pid = await idOf(primary);
      const rid = await idOf(replica);
      const line = (await clusterNodes(replica)).find((l) => l.id === pid)!;
      const slots = slotSet(line);
      const keys = keysIn(slots, `mixed-${pid.slice(0, 6)}`, 100);
      await writeAcked(primary, keys);
      await kill(primary);
      const alive = nodes.filter((n) => n !== a && (primary === a || n !== b));
      await waitFlag(alive, pid, "fail");
      await waitPrimary(replica, rid, slots, alive);
      await waitClusterOk(alive);
      await assertKeys(replica, keys);
    }
    await stopAll(nodes);
  });
});

/**
 * Replica migration: a primary with two replicas, another whose only replica
 * dies: after it has been orphaned a while, one of the two (the one with the
 * smaller name) moves to it, as cluster-migration-barrier 1 allows.
 */
async function replicaMigration(kind: Target): Promise<void> {
  const nodes = await cluster33(kind);
  const [extra] = await start([kind]);
  nodes.push(extra);
  const { primary: rich, replicaLine } = await pair(nodes, nodes[0]);
  const richId = (await command(rich, "CLUSTER", "MYID")).split("\r\n")[1];
  const r = await redisCli(["--cluster", "add-node", extra.addr, rich.addr, "--cluster-slave", "--cluster-master-id", richId]);
  assert.equal(r.code, 0, r.output + logs(nodes));
  const extraId = (await command(extra, "CLUSTER", "MYID")).split("\r\n")[1];
  await waitReplicaOf(extraId, richId, nodes);
  await waitLinkUp(extra, nodes);
  const lines = await clusterNodes(nodes[0]);
  const poor = lines.find((l) => l.flags.includes("master") && l.id !== richId)!;
  const lonely = lines.find((l) => l.primary === poor.id)!;
  await kill(handleOf(nodes, lonely));
  const alive = nodes.filter((n) => n.port !== handleOf(nodes, lonely).port);
  await waitFlag(alive, lonely.id, "fail");
  const mover = [replicaLine.id, extraId].sort()[0];
  await waitReplicaOf(mover, poor.id, alive);
  await waitLinkUp(handleOf(nodes, (await clusterNodes(nodes[0])).find((l) => l.id === mover)!), alive);
  await stopAll(nodes);
}

describe("cluster failover: replica migration to an orphaned primary", () => {
  it("redis-server 7.0.15", { timeout: 240_000 }, () => replicaMigration("redis"));
  it(`Respite on ${RUNTIMES[0]}`, { timeout: 240_000 }, () => replicaMigration(RUNTIMES[0]));
});
