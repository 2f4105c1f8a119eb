/**
 * Moving keys between instances, and the tools that do it. MIGRATE first in
 * standalone mode: the same scenario run with redis-server 7 as the source
 * and with Respite as the source, against a redis-server target and a
 * Respite target, must give the same replies and leave both sides the same.
 * Then a cluster of three nodes made by `redis-cli --cluster create`:
 * `reshard` of 1,000 slots while ioredis's Cluster and node-redis's
 * createCluster read and write (no error shown to them, no acknowledged
 * write lost), `add-node` of a primary and `rebalance` onto it and off it,
 * `del-node`, `add-node --cluster-slave`, with `check` clean after each.
 * RESPITE_RUNTIMES=redis runs the cluster part against redis-server itself.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { RawConnection } from "../lib/raw.ts";
import { DiffPair } from "../lib/diff.ts";
import { commandDocs } from "../lib/command-docs.ts";
import { decodeReplies } from "../../core/resp/decoder.ts";
import { freePort, RUNTIMES, type ServerHandle, sharedRedis, startRespite } from "../lib/servers.ts";
import { info, targets, until } from "../lib/targets.ts";
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
} from "../lib/cluster.ts";
import { assertAcked, type ClusterClient, ioredisCluster, nodeRedisCluster, startWorkload } from "../lib/cluster-workload.ts";

type Arg = string | Buffer | number;

/** A TCP server that takes connections and bytes and never answers: MIGRATE to it times out reading. */
async function silentServer(): Promise<{ port: number; received: () => Promise<void>; close: () => void }> {
  const sockets = new Set<net.Socket>();
  let waiter: (() => void) | null = null;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("data", () => waiter?.());
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => new Promise<void>((r) => (waiter = r)),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

function text(reply: Buffer): string {
  return reply.toString("latin1");
}

/** A key's type and value in a form that does not depend on the encoding the server chose. */
async function describeKey(conn: RawConnection, key: Buffer): Promise<string> {
  const type = text(await conn.call("TYPE", key)).trim();
  const read: Record<string, Arg[]> = {
    "+string": ["GET", key],
    "+hash": ["HGETALL", key],
    "+list": ["LRANGE", key, 0, -1],
    "+set": ["SMEMBERS", key],
    "+zset": ["ZRANGE", key, 0, -1, "WITHSCORES"],
  };
  const value = decodeReplies(await conn.call(...read[type])).values[0];
  const flat = Array.isArray(value) ? value.map((v) => Buffer.from(v as Uint8Array).toString("latin1")) : [Buffer.from(value as Uint8Array).toString("latin1")];
  if (type === "+set" || type === "+hash") flat.sort();
  const pttl = Number(text(await conn.call("PTTL", key)).slice(1));
  return `${type} ${JSON.stringify(flat)} ${pttl > 0 ? "ttl" : pttl}`;
}

/** Every key of db (sorted) with its description. */
async function dbContents(conn: RawConnection, db: number): Promise<string[]> {
  await conn.call("SELECT", db);
  const keys = decodeReplies(await conn.call("KEYS", "*")).values[0] as Uint8Array[];
  const out: string[] = [];
  for (const k of keys.map((k) => Buffer.from(k)).sort(Buffer.compare)) out.push(`${JSON.stringify(k.toString("latin1"))} ${await describeKey(conn, k)}`);
  await conn.call("SELECT", 0);
  return out;
}

const BIN = Buffer.from([0, 0xff, 0x0d, 0x0a, 0x80]);

/**
 * The scenario: the source (no password) migrates to the target (requirepass pw).
 * Returns a transcript of every reply and both sides' contents after.
 */
async function scenario(srcPort: number, dstPort: number): Promise<string[]> {
  const src = await RawConnection.connect(srcPort);
  const dst = await RawConnection.connect(dstPort);
  const silent = await silentServer();
  const refusedPort = await freePort();
  const log: string[] = [];
  try {
    await dst.call("AUTH", "pw");
    // Connections cached by earlier runs (authenticated, a db selected) are closed: each run starts afresh.
    await dst.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
    await dst.call("FLUSHALL");
    await src.call("FLUSHALL");
    await src.call("CONFIG", "RESETSTAT");
    await src.call("MSET", "d", "4", "e", "5", "f", "6", "h1", "x");
    await src.call("SET", "g", "7", "PX", "100000");
    await src.call("HSET", "h", "f1", "v1", "f2", "v2");
    await src.call("RPUSH", "l", "a", "b", "c");
    await src.call("ZADD", "z", "1", "a", "2.5", "b");
    await src.call("SADD", "s", "m1", "m2");
    await src.call("SET", BIN, BIN);
    await dst.call("SET", "e", "old");
    const host = "127.0.0.1";
    const cmds: Arg[][] = [
      ["MIGRATE", host, dstPort, "nokey", 0, 1000],
      // No AUTH: the target's NOAUTH comes back in the reply to SELECT.
      ["MIGRATE", host, dstPort, "d", 0, 1000],
      // d, f, g move; e is there already (BUSYKEY); "missing" is skipped.
      ["MIGRATE", host, dstPort, "", 0, 1000, "AUTH", "pw", "KEYS", "d", "e", "f", "g", "missing"],
      ["MIGRATE", host, dstPort, "e", 0, 1000, "AUTH2", "default", "pw", "REPLACE"],
      ["MIGRATE", host, dstPort, "h", 0, 1000, "AUTH", "pw", "COPY"],
      ["MIGRATE", host, dstPort, "h", 0, 1000, "AUTH", "pw", "COPY"],
      ["MIGRATE", host, dstPort, "", 0, 0, "AUTH", "pw", "REPLACE", "KEYS", "l", "z", BIN, "h"],
      ["MIGRATE", host, dstPort, "s", 5, 1000, "AUTH", "pw"],
      ["MIGRATE", host, dstPort, "h1", 99, 1000, "AUTH", "pw"],
      ["MIGRATE", host, dstPort, "h1", 0, 1000, "AUTH", "wrong"],
      ["MIGRATE", host, dstPort, "k", 0, 1000, "KEYS", "h1"],
      ["MIGRATE", host, dstPort, "", 0, 1000, "KEYS"],
      ["MIGRATE", host, dstPort, "h1", 0, "x"],
      ["MIGRATE", host, dstPort, "h1", "x", 1000],
      ["MIGRATE", host, dstPort, "h1", 0, 1000, "AUTH"],
      ["MIGRATE", host, dstPort, "h1", 0, 1000, "AUTH2", "u"],
      ["MIGRATE", host, dstPort, "h1", 0, 1000, "bogus"],
      // A timeout past setTimeout's range still waits for the reply.
      ["MIGRATE", host, dstPort, "h1", 0, "99999999999", "AUTH", "pw", "COPY", "REPLACE"],
      ["MIGRATE", host, dstPort, "h1", 0],
      ["MIGRATE", host, refusedPort, "h1", 0, 200],
      ["MIGRATE", "name.invalid", dstPort, "h1", 0, 200],
      ["MIGRATE", host, "notaport", "h1", 0, 200],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "", 0, 5, "COPY", "AUTH", "keys", "KEYS", "a", "b"],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "", 0, 5, "AUTH2", "u", "p", "KEYS", "a"],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "k", 0, 5],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "", 0, 5, "COPY", "KEYS"],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "k", 0, 5, "KEYS"],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "k", 0, 5, "KEYS", "a"],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "", 0, 5, "bogus", "keys", "a"],
    ];
    // Ports differ from run to run: the transcript names them.
    const named = (a: Arg) => (a === dstPort ? "TARGET" : a === refusedPort ? "REFUSED" : String(a));
    for (const cmd of cmds) log.push(`${cmd.map(named).join(" ")} -> ${text(await src.call(...cmd))}`);
    // A target that never answers: the read times out, and meanwhile every other client of the source waits.
    const other = await RawConnection.connect(srcPort);
    const order: string[] = [];
    const arrived = silent.received();
    const migrating = src.call("MIGRATE", host, silent.port, "h1", 0, 300).then((r) => order.push(`migrate ${text(r)}`));
    await arrived;
    const write = other.call("SET", "h1", "during").then((r) => order.push(`set ${text(r)}`));
    await Promise.all([migrating, write]);
    other.close();
    log.push(...order);
    log.push("source:", ...(await dbContents(src, 0)));
    log.push("target:", ...(await dbContents(dst, 0)), "target db 5:", ...(await dbContents(dst, 5)));
    const stats = text(await src.call("INFO", "commandstats")).split("\r\n").find((l) => l.startsWith("cmdstat_migrate:"));
    log.push(String(stats?.replace(/usec=\d+,usec_per_call=[\d.]+,/, "")));
    return log;
  } finally {
    silent.close();
    src.close();
    dst.close();
  }
}

const redisSource = sharedRedis();
const redisTarget = sharedRedis(["--requirepass", "pw"]);

// The standalone part runs under each runtime named (not "redis" or "compiled", which the cluster part may add).
for (const rt of RUNTIMES.filter((r) => r === "bun" || r === "deno" || r === "node")) {
  describe(`MIGRATE in standalone mode under ${rt}`, () => {
    let source: ServerHandle;
    let target: ServerHandle;
    before(async () => {
      [source, target] = await Promise.all([startRespite(rt), startRespite(rt, ["--requirepass", "pw"])]);
    });
    after(async () => {
      await Promise.all([source?.stop(), target?.stop()]);
    });

    test("COMMAND INFO and DOCS of MIGRATE and RESTORE-ASKING are redis-server's", async () => {
      const pair = await DiffPair.open(redisSource().port, source.port);
      try {
        await pair.same("COMMAND", "INFO", "migrate", "restore-asking");
        assert.deepEqual(await commandDocs(pair.respite, ["migrate", "restore-asking"]), await commandDocs(pair.redis, ["migrate", "restore-asking"]));
      } finally {
        pair.close();
      }
    });

    test("MIGRATE inside MULTI/EXEC is refused (test/DIFFERENCES.md), the key left in place", async () => {
      const conn = await RawConnection.connect(source.port);
      try {
        await conn.call("SET", "inexec", "1");
        const replies = await conn.pipeline([["MULTI"], ["MIGRATE", "127.0.0.1", redisTarget().port, "inexec", 0, 1000, "AUTH", "pw"], ["EXEC"]]);
        assert.equal(text(replies[2]), "*1\r\n-ERR MIGRATE is not supported inside MULTI/EXEC or scripts by Respite\r\n");
        assert.equal(text(await conn.call("GET", "inexec")), "$1\r\n1\r\n");
      } finally {
        conn.close();
      }
    });

    test("the keys MIGRATE moved leave the source's replica too (one DEL propagated), and WAIT covers it", async () => {
      const replica = await startRespite(rt, ["--replicaof", "127.0.0.1", String(source.port)]);
      const [src, rep] = await Promise.all([RawConnection.connect(source.port), RawConnection.connect(replica.port)]);
      try {
        await until(async () => (await info(rep, "replication")).get("master_link_status") === "up", () => "replica link down", 30_000);
        await src.call("MSET", "p1", "1", "p2", "2", "p3", "3");
        const moved = await src.call("MIGRATE", "127.0.0.1", redisTarget().port, "", 0, 1000, "AUTH", "pw", "REPLACE", "KEYS", "p1", "p2");
        assert.equal(text(moved), "+OK\r\n");
        assert.equal(text(await src.call("WAIT", 1, 5000)), ":1\r\n");
        assert.equal(text(await rep.call("EXISTS", "p1", "p2", "p3")), ":1\r\n");
        assert.equal(text(await src.call("EXISTS", "p1", "p2", "p3")), ":1\r\n");
      } finally {
        src.close();
        rep.close();
        await replica.stop();
      }
    });

    test("Respite migrates to redis-server as redis-server does", async () => {
      const expected = await scenario(redisSource().port, redisTarget().port);
      assert.deepEqual(await scenario(source.port, redisTarget().port), expected);
    });

    test("redis-server and Respite migrate to Respite as to redis-server", async () => {
      const expected = await scenario(redisSource().port, redisTarget().port);
      assert.deepEqual(await scenario(redisSource().port, target.port), expected);
      assert.deepEqual(await scenario(source.port, target.port), expected);
    });
  });
}

// ---- redis-cli --cluster and cluster clients against a cluster of one kind of node ----

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

for (const kind of targets(true)) {
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
}

for (const kind of targets(true)) {
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
}

for (const kind of targets(true).filter((t) => t !== "redis")) {
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
