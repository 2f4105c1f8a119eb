/**
 * The cluster bus against redis-server 7.0: the message codec checked on
 * bytes a real redis-server sends (a MEET caught on a port of ours), and
 * Respite's MEET byte-identical to redis-server's in the same state; six
 * Respite nodes made into a 3+3 cluster by `redis-cli --cluster create`
 * and found clean by `--cluster check`; a mixed Respite + redis-server
 * cluster made the same way; FAIL of a node killed with -9 seen by every
 * node; PUBLISH reaching subscribers on every node and SPUBLISH its
 * shard; MEET/FORGET/COUNT-FAILURE-REPORTS replies against redis-server's.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { RawConnection } from "../lib/raw.ts";
import { type Target, targets, until } from "../lib/targets.ts";
import {
  assertCheckClean, type ClusterNodeHandle, clusterInfo, clusterNodes, clusterPort, command, createCluster, kill, logs, myId, restart,
  startClusterNode, startClusterNodes, stopAll, waitClusterOk, waitFlag,
} from "../lib/cluster.ts";
import { type BusMessage, decodeMessage, encodeMessage, frameLength, type Gossip, HEADER_SIZE, MsgType } from "../../core/cluster/bus-message.ts";
import { keyHashSlot } from "../../core/cluster/slot.ts";

/** MEETs a port of ours from node and returns the first whole bus message it sends there. */
async function captureMeet(node: ClusterNodeHandle): Promise<Buffer> {
  const port = await clusterPort();
  let chunks = Buffer.alloc(0);
  let done!: (b: Buffer) => void;
  const got = new Promise<Buffer>((resolve) => (done = resolve));
  const server = net.createServer((s) => {
    s.on("data", (d) => {
      chunks = Buffer.concat([chunks, d]);
      if (chunks.length >= 8) {
        const len = frameLength(chunks, 0);
        if (len > 0 && chunks.length >= len) done(chunks.subarray(0, len));
      }
    });
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(port + 10000, "127.0.0.1", resolve));
  try {
    assert.equal(await command(node, "CLUSTER", "MEET", "127.0.0.1", String(port)), "+OK\r\n");
    return await Promise.race([got, new Promise<Buffer>((_, reject) => setTimeout(() => reject(new Error("no MEET" + logs([node]))), 10_000))]);
  } finally {
    server.close();
  }
}

/** A fresh node with slots 0, 5 and 16383, configEpoch 7 and a hostname, as both kinds are put before their MEET is caught. */
async function preparedNode(kind: Target): Promise<ClusterNodeHandle> {
  const node = await startClusterNode(kind, ["--cluster-announce-hostname", "host-a"]);
  assert.equal(await command(node, "CLUSTER", "ADDSLOTS", "0", "5", "16383"), "+OK\r\n");
  assert.equal(await command(node, "CLUSTER", "SET-CONFIG-EPOCH", "7"), "+OK\r\n");
  return node;
}

/** The Respite runtime of the tests that need one kind of Respite node: the first named, else Bun. */
const rt: Target = targets(false).find((t) => t !== "redis") ?? "bun";

describe("cluster bus message codec", () => {
  test("a redis-server MEET decodes to its state and encodes back to the same bytes", async () => {
    const node = await preparedNode("redis");
    try {
      const bytes = await captureMeet(node);
      const msg = decodeMessage(bytes);
      assert.ok(msg !== null && msg !== "ignore");
      const h = msg.header;
      assert.equal(h.type, MsgType.MEET);
      assert.equal(h.sender, await myId(node));
      assert.equal(h.port, node.port);
      assert.equal(h.cport, node.port + 10000);
      assert.equal(h.currentEpoch, 7);
      assert.equal(h.configEpoch, 7);
      assert.equal(h.replicaOf, null);
      assert.equal(h.flags, 1 | 16); // master, myself
      assert.equal(h.state, 1); // not every slot served: fail
      const served = [...Array(16384).keys()].filter((s) => (h.myslots[s >> 3] & (1 << (s & 7))) !== 0);
      assert.deepEqual(served, [0, 5, 16383]);
      assert.deepEqual(msg.body, { kind: "gossip", gossip: [], hostname: "host-a" });
      assert.equal(bytes.length, HEADER_SIZE + 16);
      assert.deepEqual(Buffer.from(encodeMessage(h, msg.body)), bytes);
    } finally {
      await node.stop();
    }
  });

  test("gossip entries of a redis-server MEET decode to the node they describe", async () => {
    const [a, b] = await startClusterNodes(["redis", "redis"]);
    try {
      await command(a, "CLUSTER", "MEET", "127.0.0.1", String(b.port));
      await until(async () => (await clusterNodes(a)).every((l) => !l.flags.includes("handshake")) && (await clusterNodes(a)).length === 2, () => "a meets b");
      // Redis picks gossip entries at random (the node being met, in handshake, may use up the picks): MEET until b is in one.
      let caught: { bytes: Buffer; msg: BusMessage; about: Gossip } | null = null;
      for (let i = 0; i < 20 && caught === null; i++) {
        const bytes = await captureMeet(a);
        const msg = decodeMessage(bytes);
        assert.ok(msg !== null && msg !== "ignore" && msg.body.kind === "gossip");
        const about = msg.body.gossip.find((e) => e.port === b.port);
        if (about !== undefined) caught = { bytes, msg, about };
      }
      assert.ok(caught !== null, "b never gossiped");
      const { bytes, msg, about } = caught;
      assert.equal(about.name, await myId(b));
      assert.equal(about.ip, "127.0.0.1");
      assert.equal(about.cport, b.port + 10000);
      assert.equal(about.flags, 1); // master
      assert.deepEqual(Buffer.from(encodeMessage(msg.header, msg.body)), bytes);
    } finally {
      await stopAll([a, b]);
    }
  });

  test(`Respite (${rt}) sends the MEET redis-server sends in the same state, byte for byte but its name and ports`, async () => {
    const [redis, respite] = await Promise.all([preparedNode("redis"), preparedNode(rt)]);
    try {
      const [theirs, ours] = await Promise.all([captureMeet(redis), captureMeet(respite)]);
      assert.equal(ours.length, theirs.length);
      const mask = (b: Buffer) => {
        const m = Buffer.from(b);
        m.fill(0, 40, 80); // sender
        m.fill(0, 10, 12); // port
        m.fill(0, 2248, 2250); // bus port
        return m;
      };
      assert.deepEqual(mask(ours), mask(theirs));
      const msg = decodeMessage(ours);
      assert.ok(msg !== null && msg !== "ignore");
      assert.equal(msg.header.sender, await myId(respite));
    } finally {
      await stopAll([redis, respite]);
    }
  });
});

/** Subscribes a fresh connection to channel on node (SUBSCRIBE, or SSUBSCRIBE when shard). */
async function subscriber(node: ClusterNodeHandle, channel: string, shard = false): Promise<RawConnection> {
  const conn = await RawConnection.connect(node.port);
  const reply = (await conn.call(shard ? "SSUBSCRIBE" : "SUBSCRIBE", channel)).toString("latin1");
  assert.match(reply, new RegExp(shard ? "ssubscribe" : "subscribe"), reply);
  return conn;
}

async function nextPush(conn: RawConnection): Promise<string> {
  return (await conn.readReplies(1, 15_000))[0].toString("latin1");
}

/** The ids of the primaries and, for each, its replicas (from one node's CLUSTER NODES). */
async function topology(node: ClusterNodeHandle, nodes: ClusterNodeHandle[]) {
  const lines = await clusterNodes(node);
  const byAddr = new Map(nodes.map((n) => [n.addr, n]));
  const handle = (addr: string) => byAddr.get(addr.split("@")[0])!;
  const primaries = lines.filter((l) => l.flags.includes("master") && l.slots.length > 0);
  return primaries.map((p) => ({
    primary: handle(p.addr),
    id: p.id,
    slots: p.slots,
    replicas: lines.filter((l) => l.primary === p.id).map((l) => handle(l.addr)),
  }));
}

function clusterSuite(name: string, kinds: Target[]) {
  describe(name, () => {
    let nodes: ClusterNodeHandle[] = [];
    before(async () => {
      nodes = await startClusterNodes(kinds);
      await createCluster(nodes, 1);
      await waitClusterOk(nodes);
      // Every node knows every replica's role before the tests look.
      await until(async () => {
        for (const n of nodes) if ((await clusterNodes(n)).filter((l) => l.flags.includes("slave")).length !== 3) return false;
        return true;
      }, () => "replicas known everywhere" + logs(nodes), 30_000, 100);
    });
    after(() => stopAll(nodes));

    test("redis-cli --cluster check finds the cluster clean; CLUSTER INFO and INFO show the bus", async () => {
      await assertCheckClean(nodes[0], nodes);
      for (const n of nodes) {
        const info = await clusterInfo(n);
        assert.equal(info.get("cluster_state"), "ok");
        assert.equal(info.get("cluster_known_nodes"), "6");
        assert.equal(info.get("cluster_size"), "3");
        assert.ok(Number(info.get("cluster_stats_messages_ping_sent")) > 0, [...info].join(" "));
        assert.ok(Number(info.get("cluster_stats_messages_pong_received")) > 0, [...info].join(" "));
        const clients = (await command(n, "INFO", "clients"));
        assert.match(clients, /cluster_connections:10\r\n/);
      }
    });

    test("CLUSTER LINKS lists a link to and from every other node (on every node, redis-server's too)", async () => {
      for (const n of nodes) {
        const ids = (await clusterNodes(n)).filter((l) => !l.flags.includes("myself")).map((l) => l.id).sort();
        await until(async () => {
          const reply = await command(n, "CLUSTER", "LINKS");
          const to = [...reply.matchAll(/\$2\r\nto\r\n\$4\r\nnode\r\n\$40\r\n([0-9a-f]{40})/g)].map((m) => m[1]).sort();
          const from = [...reply.matchAll(/\$4\r\nfrom\r\n\$4\r\nnode\r\n\$40\r\n([0-9a-f]{40})/g)].map((m) => m[1]).sort();
          return JSON.stringify(to) === JSON.stringify(ids) && JSON.stringify(from) === JSON.stringify(ids);
        }, () => `links of ${n.addr}`, 15_000, 100);
      }
    });

    test("PUBLISH on one node reaches subscribers on every node", async () => {
      // nodes[0] and nodes[1] are of both kinds in the mixed cluster: each encodes, the other decodes.
      for (const from of [nodes[0], nodes[1]]) {
        const subs = await Promise.all(nodes.map((n) => subscriber(n, "news")));
        try {
          assert.match(await command(from, "PUBLISH", "news", `hello from ${from.addr}`), /^:1\r\n$/);
          for (const s of subs) assert.equal(await nextPush(s), `*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$${`hello from ${from.addr}`.length}\r\nhello from ${from.addr}\r\n`);
        } finally {
          for (const s of subs) s.close();
        }
      }
    });

    test("binary channels and messages cross the bus unchanged", async () => {
      const channel = Buffer.from([0, 255, 13, 10, 123, 125]);
      const message = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const subs = await Promise.all(nodes.map(async (n) => {
        const conn = await RawConnection.connect(n.port);
        await conn.call("SUBSCRIBE", channel);
        return conn;
      }));
      try {
        const pub = await RawConnection.connect(nodes[1].port);
        assert.equal((await pub.call("PUBLISH", channel, message)).toString("latin1"), ":1\r\n");
        pub.close();
        const expected = Buffer.concat([Buffer.from("*3\r\n$7\r\nmessage\r\n$6\r\n"), channel, Buffer.from("\r\n$256\r\n"), message, Buffer.from("\r\n")]);
        for (const s of subs) assert.deepEqual((await s.readReplies(1, 15_000))[0], expected);
      } finally {
        for (const s of subs) s.close();
      }
    });

    test("SPUBLISH reaches the subscribers of its shard", async () => {
      const shards = await topology(nodes[0], nodes);
      // A channel in the first shard's first slot range.
      const [lo, hi] = shards[0].slots[0].split("-").map(Number);
      let channel = "";
      for (let i = 0; ; i++) {
        const s = keyHashSlot(`ch${i}`);
        if (s >= lo && s <= (hi ?? lo)) {
          channel = `ch${i}`;
          break;
        }
      }
      const shard = [shards[0].primary, ...shards[0].replicas];
      const subs = await Promise.all(shard.map((n) => subscriber(n, channel, true)));
      try {
        assert.equal(await command(shards[0].primary, "SPUBLISH", channel, "m1"), ":1\r\n");
        for (const s of subs) assert.equal(await nextPush(s), `*3\r\n$8\r\nsmessage\r\n$${channel.length}\r\n${channel}\r\n$2\r\nm1\r\n`);
      } finally {
        for (const s of subs) s.close();
      }
    });

    test("a replica killed with -9 is FAIL everywhere, and cleared once it restarts from its nodes.conf", async () => {
      const shards = await topology(nodes[0], nodes);
      const victim = shards[0].replicas[0];
      const id = await myId(victim);
      const survivors = nodes.filter((n) => n !== victim);
      await kill(victim);
      await waitFlag(survivors, id, "fail");
      const back = await restart(victim);
      nodes[nodes.indexOf(victim)] = back;
      assert.equal(await myId(back), id);
      await waitFlag(nodes, id, "fail", false);
      await waitFlag(nodes.filter((n) => n !== back), id, "fail?", false);
      await waitClusterOk(nodes);
    });

    test("a slot taken with SETSLOT NODE under a greater epoch (BUMPEPOCH) is learned by every node; its old primary drops its keys, its replicas keep them (7.0.15)", async () => {
      const shards = await topology(nodes[0], nodes);
      const from = shards[0];
      const to = shards[2];
      const slot = Number(from.slots[0].split("-")[0]);
      let key = "";
      for (let i = 0; key === ""; i++) if (keyHashSlot(`k${i}`) === slot) key = `k${i}`;
      assert.equal(await command(from.primary, "SET", key, "v"), "+OK\r\n");
      assert.equal(await command(from.primary, "WAIT", "1", "10000"), ":1\r\n");
      for (const n of [from.primary, ...from.replicas]) assert.equal(await command(n, "CLUSTER", "COUNTKEYSINSLOT", String(slot)), ":1\r\n");
      assert.equal(await command(to.primary, "CLUSTER", "SETSLOT", String(slot), "NODE", to.id), "+OK\r\n");
      assert.match(await command(to.primary, "CLUSTER", "BUMPEPOCH"), /^\+(BUMPED|STILL) \d+\r\n$/);
      let last = "";
      await until(async () => {
        for (const n of nodes) {
          const owner = (await clusterNodes(n)).find((l) => l.slots.some((r) => r === String(slot) || r.startsWith(`${slot}-`) || r.endsWith(`-${slot}`)));
          if (owner?.id !== to.id) {
            last = `${n.addr} sees slot ${slot} at ${owner?.id}`;
            return false;
          }
        }
        return true;
      }, () => last + logs(nodes), 30_000, 100);
      // Redis 7.0.15's delKeysInSlot on the primary that lost the slot, without DELs for its replicas: they keep the key.
      await until(async () => (await command(from.primary, "CLUSTER", "COUNTKEYSINSLOT", String(slot))) === ":0\r\n", () => `${from.primary.addr} still has ${key}`);
      for (const n of from.replicas) assert.equal(await command(n, "CLUSTER", "COUNTKEYSINSLOT", String(slot)), ":1\r\n", n.addr);
      await assertCheckClean(nodes[0], nodes);
    });

    test("a primary killed with -9 is marked FAIL on every other node", async () => {
      const shards = await topology(nodes[0], nodes);
      const victim = shards[1].primary;
      const survivors = nodes.filter((n) => n !== victim);
      await kill(victim);
      await waitFlag(survivors, shards[1].id, "fail");
      assert.match(await command(survivors[0], "CLUSTER", "COUNT-FAILURE-REPORTS", shards[1].id), /^:\d\r\n$/);
    });
  });
}

for (const rtName of targets(true)) {
  if (rtName === "redis") continue;
  clusterSuite(`six Respite nodes (${rtName}), 3 primaries + 3 replicas`, Array(6).fill(rtName));
}
clusterSuite(`a mixed cluster of Respite (${rt}) and redis-server nodes`, ["redis", rt, rt, "redis", rt, "redis"]);

describe("cluster-port", () => {
  test(`a Respite (${rt}) node listens for the bus on cluster-port and is met there by redis-server`, async () => {
    const cport = await clusterPort();
    const [redis, respite] = await Promise.all([startClusterNode("redis"), startClusterNode(rt, ["--cluster-port", String(cport)])]);
    try {
      assert.equal(await command(redis, "CLUSTER", "MEET", "127.0.0.1", String(respite.port), String(cport)), "+OK\r\n");
      const id = await myId(respite);
      let last = "";
      await until(async () => {
        const line = (await clusterNodes(redis)).find((l) => l.id === id);
        last = JSON.stringify(line);
        return line?.addr === `127.0.0.1:${respite.port}@${cport}` && line.linkState === "connected";
      }, () => last + logs([redis, respite]));
      const theirs = await myId(redis);
      await until(async () => (await clusterNodes(respite)).some((l) => l.id === theirs && l.linkState === "connected"), () => "respite knows redis");
    } finally {
      await stopAll([redis, respite]);
    }
  });
});

describe("cluster-announce-hostname", () => {
  test(`travels in the ping extension both ways between Respite (${rt}) and redis-server`, async () => {
    const [redis, respite] = await Promise.all([
      startClusterNode("redis", ["--cluster-announce-hostname", "redis-b"]),
      startClusterNode(rt, ["--cluster-announce-hostname", "respite-a"]),
    ]);
    try {
      assert.equal(await command(respite, "CLUSTER", "MEET", "127.0.0.1", String(redis.port)), "+OK\r\n");
      const [respiteId, redisId] = [await myId(respite), await myId(redis)];
      let last = "";
      await until(async () => {
        const theirs = (await clusterNodes(redis)).find((l) => l.id === respiteId);
        const ours = (await clusterNodes(respite)).find((l) => l.id === redisId);
        last = `${theirs?.addr} / ${ours?.addr}`;
        return theirs?.addr === `127.0.0.1:${respite.port}@${respite.port + 10000},respite-a` &&
          ours?.addr === `127.0.0.1:${redis.port}@${redis.port + 10000},redis-b`;
      }, () => last + logs([redis, respite]));
    } finally {
      await stopAll([redis, respite]);
    }
  });
});

describe("bytes on the bus that are not a valid message", () => {
  test(`Respite (${rt}) closes a link not speaking the bus, ignores a malformed message and answers the next, as redis-server`, async () => {
    for (const node of await startClusterNodes([rt, "redis"])) {
      try {
        const resp = await RawConnection.connect(node.port + 10000);
        resp.write("*1\r\n$4\r\nPING\r\n");
        await resp.untilClosed();
        const ping = Buffer.from(encodeMessage({
          type: MsgType.PING, currentEpoch: 0, configEpoch: 0, offset: 0, sender: "f".repeat(40), myslots: new Uint8Array(2048),
          replicaOf: null, myip: "", port: 1, pport: 0, cport: 10001, flags: 1, state: 1, mflags: [0, 0, 0],
        }, { kind: "gossip", gossip: [], hostname: "" }));
        const lying = Buffer.from(ping);
        lying.writeUInt16BE(3, 14); // 3 gossip entries that are not there
        const peer = await RawConnection.connect(node.port + 10000);
        peer.write(Buffer.concat([lying, ping]));
        // Only the valid PING is answered: one PONG (a header, no gossip: the node knows no one).
        const pong = await new Promise<Buffer>((resolve, reject) => {
          let got = Buffer.alloc(0);
          const timer = setTimeout(() => reject(new Error(`no PONG from ${node.kind}: ${got.length} bytes`)), 10_000);
          peer.sock.on("data", (d: Buffer) => {
            got = Buffer.concat([got, d]);
            if (got.length >= HEADER_SIZE) {
              clearTimeout(timer);
              resolve(got);
            }
          });
        });
        assert.equal(pong.length, HEADER_SIZE);
        const msg = decodeMessage(pong);
        assert.ok(msg !== null && msg !== "ignore");
        assert.equal(msg.header.type, MsgType.PONG);
        assert.equal(msg.header.sender, await myId(node));
        peer.close();
        assert.equal(await command(node, "PING"), "+PONG\r\n");
        assert.equal((await clusterNodes(node)).length, 1);
      } finally {
        await node.stop();
      }
    }
  });
});

describe("configEpoch collisions", () => {
  test(`primaries met with the same configEpoch (0) end with distinct ones, Respite (${rt}) and redis-server alike`, async () => {
    const nodes = await startClusterNodes([rt, rt, "redis", rt]);
    try {
      const ranges = [["0", "4095"], ["4096", "8191"], ["8192", "12287"], ["12288", "16383"]];
      for (const [i, n] of nodes.entries()) assert.equal(await command(n, "CLUSTER", "ADDSLOTSRANGE", ...ranges[i]), "+OK\r\n");
      for (const n of nodes.slice(1)) assert.equal(await command(nodes[0], "CLUSTER", "MEET", "127.0.0.1", String(n.port)), "+OK\r\n");
      let last = "";
      await until(async () => {
        for (const n of nodes) {
          const lines = await clusterNodes(n);
          const epochs = new Set(lines.map((l) => l.configEpoch));
          if (lines.length !== 4 || epochs.size !== 4) {
            last = `${n.addr}: ${lines.map((l) => `${l.id.slice(0, 8)}@${l.configEpoch}`).join(" ")}`;
            return false;
          }
        }
        return true;
      }, () => last + logs(nodes), 30_000, 100);
      await waitClusterOk(nodes);
    } finally {
      await stopAll(nodes);
    }
  });
});

describe("a node back with a stale slot claim is corrected", () => {
  // The first node comes back claiming a slot taken under a greater epoch meanwhile: the others' headers
  // (or an UPDATE, when their link to it is up when it first claims the slot) tell it the new owner.
  for (const kinds of [[rt, rt, rt], [rt, "redis", "redis"], ["redis", rt, rt]] as Target[][]) {
    test(kinds.join(", "), async () => {
      let nodes = await startClusterNodes(kinds);
      try {
        await createCluster(nodes, 0);
        await waitClusterOk(nodes);
        const [a, b] = nodes;
        const aId = await myId(a);
        const bId = await myId(b);
        const slot = Number((await clusterNodes(a)).find((l) => l.id === aId)!.slots[0].split("-")[0]);
        await kill(a);
        await waitFlag([b, nodes[2]], aId, "fail");
        assert.equal(await command(b, "CLUSTER", "SETSLOT", String(slot), "NODE", bId), "+OK\r\n");
        assert.match(await command(b, "CLUSTER", "BUMPEPOCH"), /^\+BUMPED \d+\r\n$/);
        await until(async () => (await clusterNodes(nodes[2])).find((l) => l.id === bId)!.slots.includes(String(slot)), () => "c learns the slot moved");
        const back = await restart(a);
        nodes = [back, ...nodes.slice(1)];
        let last = "";
        await until(async () => {
          const owner = (await clusterNodes(back)).find((l) => l.slots.some((r) => r === String(slot) || r.startsWith(`${slot}-`)));
          last = `owner ${owner?.id}`;
          return owner?.id === bId;
        }, () => last + logs(nodes), 30_000, 100);
        await waitClusterOk(nodes);
      } finally {
        await stopAll(nodes);
      }
    });
  }
});

describe("CLUSTER MEET, FORGET, COUNT-FAILURE-REPORTS errors as redis-server's", () => {
  test("same replies", async () => {
    const [redis, respite] = await startClusterNodes(["redis", rt]);
    try {
      const cases = [
        ["CLUSTER", "MEET", "1.2.3", "5"],
        ["CLUSTER", "MEET", "127.0.0.1", "abc"],
        ["CLUSTER", "MEET", "127.0.0.1", "70000"],
        ["CLUSTER", "MEET", "127.0.0.1", "7000", "x"],
        ["CLUSTER", "MEET", "localhost", "7000"],
        ["CLUSTER", "MEET", "127.0.0.1", "0"],
        ["CLUSTER", "MEET", "127.0.0.1"],
        ["CLUSTER", "FORGET", "abc"],
        ["CLUSTER", "FORGET"],
        ["CLUSTER", "COUNT-FAILURE-REPORTS", "abc"],
        ["CLUSTER", "LINKS"],
      ];
      for (const args of cases) assert.equal(await command(respite, ...args), await command(redis, ...args), args.join(" "));
      assert.equal(await command(respite, "CLUSTER", "FORGET", await myId(respite)), "-ERR I tried hard but I can't forget myself...\r\n");
      assert.equal(await command(respite, "CLUSTER", "COUNT-FAILURE-REPORTS", await myId(respite)), ":0\r\n");
      // A MEET nobody answers: a node in handshake, dropped after the handshake timeout (the node timeout), on both.
      const nobody = await clusterPort();
      for (const n of [redis, respite]) {
        assert.equal(await command(n, "CLUSTER", "MEET", "127.0.0.1", String(nobody)), "+OK\r\n");
        const lines = await clusterNodes(n);
        assert.deepEqual(lines.map((l) => l.flags.includes("handshake")).sort(), [false, true], JSON.stringify(lines));
      }
      for (const n of [redis, respite]) await until(async () => (await clusterNodes(n)).length === 1, () => `${n.kind} keeps the handshake`);
      // Meeting the redis node and forgetting it: gone from CLUSTER NODES, not re-added by gossip.
      assert.equal(await command(respite, "CLUSTER", "MEET", "127.0.0.1", String(redis.port)), "+OK\r\n");
      const redisId = await myId(redis);
      await until(async () => (await clusterNodes(respite)).some((l) => l.id === redisId && l.linkState === "connected"), () => "met" + logs([redis, respite]));
      assert.equal(await command(respite, "CLUSTER", "FORGET", redisId), "+OK\r\n");
      assert.equal((await clusterNodes(respite)).length, 1);
    } finally {
      await stopAll([redis, respite]);
    }
  });
});
