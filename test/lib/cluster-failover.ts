/**
 * What the cluster failover tests share (cluster-failover*.test.ts): 3+3
 * clusters made by redis-cli, the scenarios (kill -9 of a primary, CLUSTER
 * FAILOVER under writes, TAKEOVER, FORCE), and waits on what every node sees.
 * Nodes started here are killed when the test file ends.
 */
import { after } from "node:test";
import * as fs from "node:fs";
import * as path from "node:path";
import assert from "node:assert/strict";
import { RawConnection } from "./raw.ts";
import type { Target } from "./targets.ts";
import { targets, until } from "./targets.ts";
import {
  assertCheckClean,
  type ClusterNodeHandle,
  clusterInfo,
  clusterNodes,
  command,
  createCluster,
  kill,
  logs,
  type NodeLine,
  redisCli,
  restart,
  startClusterNodes,
  stopAll,
  waitClusterOk,
  waitFlag,
} from "./cluster.ts";
import { keyHashSlot } from "../../core/cluster/slot.ts";
import { commandDocs } from "./command-docs.ts";

const started: ClusterNodeHandle[] = [];
after(() => stopAll(started));

export async function start(kinds: Target[]): Promise<ClusterNodeHandle[]> {
  const nodes = await startClusterNodes(kinds);
  started.push(...nodes);
  return nodes;
}

/** The slots a CLUSTER NODES line lists, as a set. */
export function slotSet(line: NodeLine): Set<number> {
  const out = new Set<number>();
  for (const s of line.slots) {
    if (s.startsWith("[")) continue;
    const [a, b] = s.split("-").map(Number);
    for (let i = a; i <= (b ?? a); i++) out.add(i);
  }
  return out;
}

/** count keys whose slots are in slots, named after prefix. */
export function keysIn(slots: Set<number>, prefix: string, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count && i < 1_000_000; i++) {
    const k = `${prefix}:${i}`;
    if (slots.has(keyHashSlot(k))) out.push(k);
  }
  return out;
}

/** The node whose CLUSTER NODES line is line. */
export function handleOf(nodes: ClusterNodeHandle[], line: NodeLine): ClusterNodeHandle {
  const port = Number(line.addr.split("@")[0].split(":")[1]);
  const n = nodes.find((x) => x.port === port);
  assert.ok(n, `no node for ${line.addr}`);
  return n;
}

/** A primary and its replica, as the cluster sees them (the first primary with a replica, or the primary given). */
export async function pair(nodes: ClusterNodeHandle[], via: ClusterNodeHandle, primaryId?: string) {
  const lines = await clusterNodes(via);
  const p = lines.find((l) => l.flags.includes("master") && (primaryId === undefined || l.id === primaryId) &&
    lines.some((r) => r.primary === l.id));
  assert.ok(p, `no primary with a replica:\n${lines.map((l) => `${l.id} ${l.flags} ${l.primary}`).join("\n")}`);
  const r = lines.find((l) => l.primary === p.id)!;
  return { primary: handleOf(nodes, p), replica: handleOf(nodes, r), primaryLine: p, replicaLine: r };
}

export async function replicationInfo(node: ClusterNodeHandle): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const line of (await command(node, "INFO", "replication")).split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

export async function waitLinkUp(replica: ClusterNodeHandle, nodes: ClusterNodeHandle[]): Promise<void> {
  await until(async () => (await replicationInfo(replica)).get("master_link_status") === "up", () => logs(nodes), 60_000, 100);
}

/** SETs every key (value = key + "=v") on node, then WAIT 1: every write acknowledged by a replica. */
export async function writeAcked(node: ClusterNodeHandle, keys: string[]): Promise<void> {
  const conn = await RawConnection.connect(node.port);
  try {
    const replies = await conn.pipeline(keys.map((k) => ["SET", k, `${k}=v`]));
    for (const r of replies) assert.equal(r.toString(), "+OK\r\n");
    assert.equal((await conn.call("WAIT", 1, 10_000)).toString(), ":1\r\n");
  } finally {
    conn.close();
  }
}

/** Fails unless node serves every key with its value (READONLY not needed: node is a primary). */
export async function assertKeys(node: ClusterNodeHandle, keys: string[]): Promise<void> {
  const conn = await RawConnection.connect(node.port);
  try {
    const replies = await conn.pipeline(keys.map((k) => ["GET", k]));
    replies.forEach((r, i) => assert.equal(r.toString(), `$${keys[i].length + 2}\r\n${keys[i]}=v\r\n`, `${keys[i]} on ${node.addr}`));
  } finally {
    conn.close();
  }
}

/** Waits until node says it is a primary serving slots, and every observer sees it so. */
export async function waitPrimary(node: ClusterNodeHandle, id: string, slots: Set<number>, observers: ClusterNodeHandle[]): Promise<void> {
  let last = "";
  await until(async () => {
    for (const o of observers) {
      const line = (await clusterNodes(o)).find((l) => l.id === id);
      if (!line || !line.flags.includes("master") || slotSet(line).size !== slots.size) {
        last = `${o.addr} sees ${id}: ${line ? `${line.flags} ${line.slots.join(" ")}` : "nothing"}`;
        return false;
      }
    }
    return (await command(node, "ROLE")).startsWith("*3\r\n$6\r\nmaster");
  }, () => last + logs(observers), 60_000, 100);
}

/** Waits until every observer sees node id as a replica of primaryId. */
export async function waitReplicaOf(id: string, primaryId: string, observers: ClusterNodeHandle[]): Promise<void> {
  let last = "";
  await until(async () => {
    for (const o of observers) {
      const line = (await clusterNodes(o)).find((l) => l.id === id);
      if (!line || !line.flags.includes("slave") || line.primary !== primaryId) {
        last = `${o.addr} sees ${id}: ${line ? `${line.flags} ${line.primary}` : "nothing"}`;
        return false;
      }
    }
    return true;
  }, () => last + logs(observers), 60_000, 100);
}

/** A new 3+3 cluster of the given kind, once every node knows every replica's primary. */
export async function cluster33(kind: Target): Promise<ClusterNodeHandle[]> {
  const nodes = await start(Array(6).fill(kind));
  await createCluster(nodes, 1);
  await waitClusterOk(nodes);
  await until(async () => {
    for (const n of nodes) {
      if ((await clusterNodes(n)).filter((l) => l.flags.includes("slave") && l.primary !== "-").length !== 3) return false;
    }
    return true;
  }, () => logs(nodes), 60_000, 100);
  return nodes;
}

export async function epochs(node: ClusterNodeHandle): Promise<{ current: number; mine: number }> {
  const info = await clusterInfo(node);
  return { current: Number(info.get("cluster_current_epoch")), mine: Number(info.get("cluster_my_epoch")) };
}

/**
 * kill -9 of a primary: its replica wins the election, serves the acknowledged
 * writes, everyone agrees; the killed node restarts as the winner's replica.
 */
export async function killPrimary(nodes: ClusterNodeHandle[]): Promise<void> {
  const { primary, replica, primaryLine, replicaLine } = await pair(nodes, nodes[0]);
  await waitLinkUp(replica, nodes);
  const slots = slotSet(primaryLine);
  const keys = keysIn(slots, "acked", 200);
  await writeAcked(primary, keys);
  const before = await epochs(replica);
  await kill(primary);
  const others = nodes.filter((n) => n !== primary);
  await waitFlag(others, primaryLine.id, "fail");
  await waitPrimary(replica, replicaLine.id, slots, others);
  await waitClusterOk(others);
  await assertKeys(replica, keys);
  // The election took a new epoch, greater than any before.
  const after = await epochs(replica);
  assert.ok(after.mine > before.current, `my epoch ${after.mine} after, current ${before.current} before`);
  // Back from the dead, the old primary learns it lost its slots and follows the winner.
  const back = await restart(primary);
  started.push(back);
  nodes[nodes.indexOf(primary)] = back;
  await waitReplicaOf(primaryLine.id, replicaLine.id, nodes);
  await waitLinkUp(back, nodes);
  await waitClusterOk(nodes);
  await assertCheckClean(back, nodes);
}

/**
 * CLUSTER FAILOVER on a replica while a client keeps writing to its primary
 * without WAIT: the primary holds writes, the replica catches up with the
 * offset it announces, then takes over; every write answered OK is on the new
 * primary, and the first one after the switch is answered -MOVED.
 */
export async function manualFailover(nodes: ClusterNodeHandle[], primaryId?: string): Promise<void> {
  const { primary, replica, primaryLine, replicaLine } = await pair(nodes, nodes[0], primaryId);
  await waitLinkUp(replica, nodes);
  const slots = slotSet(primaryLine);
  const conn = await RawConnection.connect(primary.port);
  let started = false;
  const writes = (async () => {
    const ok: string[] = [];
    const deadline = Date.now() + 60_000;
    for (let i = 0; Date.now() < deadline; i++) {
      const k = `manual:${i}`;
      if (!slots.has(keyHashSlot(k))) continue;
      const r = (await conn.call("SET", k, `${k}=v`)).toString();
      if (r !== "+OK\r\n") {
        assert.match(r, /^-MOVED \d+ 127\.0\.0\.1:\d+\r\n$/);
        return ok;
      }
      ok.push(k);
      started = true;
    }
    assert.fail("writes never moved");
  })();
  await until(() => started, () => "no write", 10_000);
  assert.equal(await command(replica, "CLUSTER", "FAILOVER"), "+OK\r\n");
  await waitPrimary(replica, replicaLine.id, slots, nodes);
  await waitReplicaOf(primaryLine.id, replicaLine.id, nodes);
  const written = await writes;
  conn.close();
  assert.ok(written.length > 0);
  await assertKeys(replica, written);
  await waitLinkUp(primary, nodes);
  await waitClusterOk(nodes);
  await assertCheckClean(replica, nodes);
}

/** CLUSTER FAILOVER TAKEOVER: no election, a new epoch of its own, the slots taken; the old primary, restarted, follows it. */
export async function takeover(nodes: ClusterNodeHandle[]): Promise<void> {
  const { primary, replica, primaryLine, replicaLine } = await pair(nodes, nodes[nodes.length - 1]);
  await waitLinkUp(replica, nodes);
  const slots = slotSet(primaryLine);
  const keys = keysIn(slots, "takeover", 50);
  await writeAcked(primary, keys);
  assert.equal(await command(replica, "CLUSTER", "FAILOVER", "TAKEOVER"), "+OK\r\n");
  await waitPrimary(replica, replicaLine.id, slots, nodes);
  await waitReplicaOf(primaryLine.id, replicaLine.id, nodes);
  const e = await epochs(replica);
  assert.equal(e.mine, e.current, "the takeover's epoch is the greatest");
  await assertKeys(replica, keys);
  // The demoted node saves its new role: restarted, it follows its primary from nodes.conf alone.
  const conf = path.join(primary.dir, "nodes.conf");
  await until(() => new RegExp(`^${primaryLine.id} \\S+ myself,slave ${replicaLine.id} `, "m").test(fs.readFileSync(conf, "latin1")),
    () => fs.readFileSync(conf, "latin1"), 10_000, 20);
  await kill(primary);
  const back = await restart(primary);
  started.push(back);
  nodes[nodes.indexOf(primary)] = back;
  await waitLinkUp(back, nodes);
  await waitReplicaOf(primaryLine.id, replicaLine.id, nodes);
  await waitClusterOk(nodes);
  await assertCheckClean(replica, nodes);
}

/**
 * A replica with cluster-replica-no-failover: the others see its nofailover
 * flag; when its primary dies, plain CLUSTER FAILOVER is refused and FORCE
 * takes over (with the votes of the primaries left). Returns the refusal.
 */
export async function forceWithNoFailover(nodes: ClusterNodeHandle[]): Promise<string> {
  const { primary, replica, primaryLine, replicaLine } = await pair(nodes, nodes[1]);
  await waitLinkUp(replica, nodes);
  assert.equal(await command(replica, "CONFIG", "SET", "cluster-replica-no-failover", "yes"), "+OK\r\n");
  const others = nodes.filter((n) => n !== primary);
  await waitFlag(others, replicaLine.id, "nofailover");
  const slots = slotSet(primaryLine);
  const keys = keysIn(slots, "force", 50);
  await writeAcked(primary, keys);
  await kill(primary);
  await waitFlag(others, primaryLine.id, "fail");
  const refused = await command(replica, "CLUSTER", "FAILOVER");
  assert.equal(await command(replica, "CLUSTER", "FAILOVER", "FORCE"), "+OK\r\n");
  await waitPrimary(replica, replicaLine.id, slots, others);
  await assertKeys(replica, keys);
  await waitClusterOk(others);
  return refused;
}

/** COMMAND DOCS of names (the fields Respite's table carries). */
export async function docs(node: ClusterNodeHandle, names: string[]): Promise<Record<string, Record<string, string>>> {
  const conn = await RawConnection.connect(node.port);
  try {
    return await commandDocs(conn, names);
  } finally {
    conn.close();
  }
}

/** Replies redis-server 7.0.15 gives, for the same calls on each kind of node. */
export async function errors(nodes: ClusterNodeHandle[]): Promise<string[]> {
  // The primary of slot 0: the same epoch (1) under redis-cli's create whichever kind the nodes are.
  const first = (await clusterNodes(nodes[0])).find((l) => l.flags.includes("master") && slotSet(l).has(0))!;
  const { primary, replica, primaryLine, replicaLine } = await pair(nodes, nodes[0], first.id);
  const other = (await clusterNodes(nodes[0])).find((l) => l.flags.includes("master") && l.id !== primaryLine.id)!;
  return [
    await command(primary, "CLUSTER", "FAILOVER"),
    await command(primary, "CLUSTER", "FAILOVER", "TAKEOVER"),
    await command(replica, "CLUSTER", "FAILOVER", "NOW"),
    await command(replica, "CLUSTER", "FAILOVER", "FORCE", "X"),
    await command(primary, "CLUSTER", "REPLICATE", "nope"),
    await command(primary, "CLUSTER", "REPLICATE", primaryLine.id),
    await command(primary, "CLUSTER", "REPLICATE", replicaLine.id),
    await command(primary, "CLUSTER", "REPLICATE", other.id),
    await command(primary, "CLUSTER", "REPLICAS", replicaLine.id),
    await command(primary, "CLUSTER", "REPLICAS", "nope"),
    (await command(primary, "CLUSTER", "REPLICAS", primaryLine.id)).replace(/ \d+ \d+ (\d+ connected)/, " _ _ $1"),
    (await command(primary, "CLUSTER", "SLAVES", primaryLine.id)).replace(/ \d+ \d+ (\d+ connected)/, " _ _ $1"),
    await command(primary, "REPLICAOF", "127.0.0.1", "1"),
    await command(primary, "COMMAND", "INFO", "cluster|replicate", "cluster|failover", "cluster|replicas", "cluster|slaves"),
    JSON.stringify(await docs(primary, ["cluster|replicate", "cluster|failover", "cluster|replicas"])),
  ].map((r) => r.replaceAll(replicaLine.id, "<replica>").replaceAll(primaryLine.id, "<primary>").replace(/127\.0\.0\.1:\d+@\d+/g, "<addr>"));
}

/** The 3+3 scenario on one kind of node: CLUSTER errors, kill -9 of a primary, CLUSTER FAILOVER, TAKEOVER, FORCE; the error replies seen. */
export async function failoverScenario(kind: Target): Promise<string[]> {
  const nodes = await cluster33(kind);
  const seen = await errors(nodes);
  await killPrimary(nodes);
  await manualFailover(nodes);
  await takeover(nodes);
  seen.push(await forceWithNoFailover(nodes));
  await stopAll(nodes);
  return seen;
}
