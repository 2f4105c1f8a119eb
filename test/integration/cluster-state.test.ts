/**
 * A node's own cluster state and routing, against redis-server 7.0 nodes in
 * the same situation: keyHashSlot against CLUSTER KEYSLOT; a single node's
 * CLUSTER subcommands, their errors and the commands refused in cluster
 * mode, byte for byte; nodes.conf as Redis writes it, read back after a
 * restart and exchanged with redis-server both ways; a damaged nodes.conf
 * refused; and in a 3-node cluster made by redis-cli, MOVED / ASK / ASKING
 * / TRYAGAIN / CROSSSLOT / CLUSTERDOWN, scripts and transactions, SETSLOT
 * through a migration and CLUSTER INFO / NODES / SLOTS / SHARDS, each
 * compared with a redis-server cluster with ports and ids put in common
 * names.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RawConnection } from "../lib/raw.ts";
import { show } from "../lib/diff.ts";
import { rng } from "../lib/diff.ts";
import { runUntilExit, startTarget, type Target, targets, until } from "../lib/targets.ts";
import { tmpDir } from "../lib/servers.ts";
import {
  type ClusterNodeHandle, clusterInfo, clusterPort, command, createCluster, logs, myId, restart, startClusterNode, startClusterNodes,
  stopAll, waitClusterOk,
} from "../lib/cluster.ts";
import { keyHashSlot, keyHashSlotBytes } from "../../core/cluster/slot.ts";
import { decodeReplies, type RespValue } from "../../core/resp/decoder.ts";

type Cmd = Array<string | Buffer | number>;

/** Replies of a pipeline, as text. */
async function replies(node: ClusterNodeHandle, cmds: Cmd[]): Promise<string[]> {
  const conn = await RawConnection.connect(node.port);
  try {
    return (await conn.pipeline(cmds)).map((b) => b.toString("latin1"));
  } finally {
    conn.close();
  }
}

/** Asserts Respite's reply text equals redis-server's, shown escaped. */
function sameText(respite: string, redis: string, what: string): void {
  assert.equal(show(Buffer.from(respite, "latin1")), show(Buffer.from(redis, "latin1")), what);
}

/** The same pipeline on a redis-server node and a Respite node: every reply equal. */
async function sameReplies(redis: ClusterNodeHandle, respite: ClusterNodeHandle, cmds: Cmd[]): Promise<void> {
  const [a, b] = await Promise.all([replies(redis, cmds), replies(respite, cmds)]);
  cmds.forEach((cmd, i) => sameText(b[i], a[i], cmd.join(" ")));
}

/** Ports and node ids of a cluster replaced by names that are the same in both clusters (P0.., ID0..). */
function normalizer(nodes: ClusterNodeHandle[], ids: string[]): (s: string) => string {
  return (s) => {
    nodes.forEach((n, i) => {
      s = s.replace(new RegExp(`\\b${n.port}\\b`, "g"), `P${i}`).replace(new RegExp(`\\b${n.port + 10000}\\b`, "g"), `B${i}`);
    });
    ids.forEach((id, i) => (s = s.split(id).join(`ID${i}`)));
    return s;
  };
}

/** The nodes of a cluster in slot order: the owner of slot 0, of 5461, of 10923 (redis-cli's create order). */
async function bySlots(nodes: ClusterNodeHandle[]): Promise<ClusterNodeHandle[]> {
  const owners: ClusterNodeHandle[] = [];
  for (const first of [0, 5461, 10923]) {
    for (const n of nodes) {
      const nodesText = await command(n, "CLUSTER", "NODES");
      const me = nodesText.split("\n").find((l) => l.includes("myself"))!;
      if (new RegExp(` ${first}-`).test(me)) owners.push(n);
    }
  }
  assert.equal(owners.length, 3);
  return owners;
}

/** A reply decoded to plain values, maps as sorted entries, for order-free comparison. */
function plain(v: RespValue): unknown {
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [plain(k), plain(x)]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Uint8Array) return Buffer.from(v).toString("latin1");
  return v;
}

/** CLUSTER SHARDS with shards sorted by their first slot and offsets blanked (each kind counts its stream its own way). */
function shardsShape(raw: string, norm: (s: string) => string): string {
  const [value] = decodeReplies(Buffer.from(raw, "latin1")).values;
  const shards = (plain(value) as unknown[][]).map((s) => norm(JSON.stringify(s)).replace(/"replication-offset",\d+/g, `"replication-offset",N`));
  return shards.sort().join("\n");
}

/** CLUSTER NODES lines sorted, with the ping/pong times blanked. */
function nodesShape(raw: string): string {
  const body = raw.slice(raw.indexOf("\r\n") + 2).trim();
  return body.split("\n").map((l) => {
    const f = l.trim().split(" ");
    f[4] = f[5] = "T";
    return f.join(" ");
  }).sort().join("\n");
}

// Every runtime and the compiled binary (RESPITE_RUNTIMES narrows it).
const KINDS = targets(true).filter((t) => t !== "redis");

describe("keyHashSlot against redis-server's CLUSTER KEYSLOT", () => {
  let redis: ClusterNodeHandle;
  before(async () => (redis = await startClusterNode("redis")));
  after(() => redis?.stop());

  test("random binary keys, hash tags and edge cases", async () => {
    const rand = rng(15);
    const keys: Buffer[] = ["", "{", "}", "{}", "{}x", "a{}b{c}", "{user1000}.following", "foo{bar}{zap}", "{{bar}}", "x{b}y{c}"]
      .map((k) => Buffer.from(k, "latin1"));
    for (let i = 0; i < 300; i++) {
      const len = Math.floor(rand() * 24);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = rand() < 0.15 ? (rand() < 0.5 ? 123 : 125) : Math.floor(rand() * 256);
      keys.push(b);
    }
    const answers = await replies(redis, keys.map((k) => ["CLUSTER", "KEYSLOT", k]));
    keys.forEach((k, i) => {
      const expected = Number(answers[i].slice(1, -2));
      assert.equal(keyHashSlot(k.toString("latin1")), expected, `key ${show(k)}`);
      assert.equal(keyHashSlotBytes(new Uint8Array(k)), expected, `key bytes ${show(k)}`);
    });
  });
});

/** Commands on a fresh single node whose replies must be byte-identical to redis-server's. */
const SINGLE_NODE: Cmd[] = [
  ["SET", "foo", "bar"],
  ["GET", "foo"],
  ["MGET", "a", "b"],
  ["CLUSTER", "KEYSLOT", "foo"],
  ["CLUSTER", "ADDSLOTS", "x"],
  ["CLUSTER", "ADDSLOTS", "16384"],
  ["CLUSTER", "ADDSLOTS", "-1"],
  ["CLUSTER", "ADDSLOTS", "1", "2", "1"],
  ["CLUSTER", "ADDSLOTSRANGE", "1", "2", "3"],
  ["CLUSTER", "ADDSLOTSRANGE", "5", "4"],
  ["CLUSTER", "ADDSLOTSRANGE", "0", "100", "50", "200"],
  ["CLUSTER", "DELSLOTS", "0"],
  ["CLUSTER", "DELSLOTSRANGE", "0", "10"],
  ["CLUSTER", "ADDSLOTSRANGE", "0", "8000", "8001", "16383"],
  ["CLUSTER", "ADDSLOTS", "5"],
  ["CLUSTER", "DELSLOTS", "5", "5"],
  ["CLUSTER", "COUNTKEYSINSLOT", "x"],
  ["CLUSTER", "COUNTKEYSINSLOT", "16384"],
  ["CLUSTER", "GETKEYSINSLOT", "1", "-1"],
  ["CLUSTER", "GETKEYSINSLOT", "x", "1"],
  ["CLUSTER", "GETKEYSINSLOT", "16384", "1"],
  ["CLUSTER", "SETSLOT", "1", "foo"],
  ["CLUSTER", "SETSLOT", "1", "node"],
  ["CLUSTER", "SETSLOT", "99999", "node", "x"],
  ["CLUSTER", "SETSLOT", "1", "node", "abc"],
  ["CLUSTER", "SETSLOT", "1", "migrating", "abc"],
  ["CLUSTER", "SETSLOT", "1", "importing", "abc"],
  ["CLUSTER", "SETSLOT", "1", "stable"],
  ["CLUSTER", "SET-CONFIG-EPOCH", "x"],
  ["CLUSTER", "SET-CONFIG-EPOCH", "-1"],
  ["CLUSTER", "SET-CONFIG-EPOCH", "4"],
  ["CLUSTER", "SET-CONFIG-EPOCH", "5"],
  ["CLUSTER", "BUMPEPOCH"],
  ["CLUSTER", "RESET", "a", "b"],
  ["CLUSTER", "RESET", "medium"],
  ["CLUSTER", "FOO"],
  ["CLUSTER", "COUNT-FAILURE-REPORTS"],
  ["SELECT", "1"],
  ["SELECT", "0"],
  ["SELECT", "x"],
  ["SWAPDB", "0", "1"],
  ["READONLY"],
  ["READWRITE"],
  ["ASKING"],
  ["READONLY", "x"],
  ...["asking", "readonly", "readwrite", ...["help", "myid", "keyslot", "countkeysinslot", "getkeysinslot", "saveconfig", "bumpepoch",
    "set-config-epoch", "info", "nodes", "slots", "shards", "addslots", "delslots", "addslotsrange", "delslotsrange", "flushslots", "setslot",
    "reset"].map((sub) => `cluster|${sub}`)].map((name): Cmd => ["COMMAND", "INFO", name]),
];

describe("a single cluster node against redis-server's", () => {
  for (const kind of KINDS) {
    describe(kind, () => {
      let redis: ClusterNodeHandle, respite: ClusterNodeHandle;
      before(async () => ([redis, respite] = await startClusterNodes(["redis", kind])));
      after(() => stopAll([redis, respite].filter(Boolean)));

      test("CLUSTER subcommands, their errors, and what cluster mode refuses", async () => {
        await sameReplies(redis, respite, SINGLE_NODE);
      });

      test("INFO redis_mode and HELLO's mode say cluster", async () => {
        for (const n of [redis, respite]) {
          const [info, hello] = await replies(n, [["INFO", "server"], ["HELLO", "2"]]);
          assert.match(info, /\r\nredis_mode:cluster\r\n/, n.kind);
          assert.match(hello, /\r\nmode\r\n\$7\r\ncluster\r\n/, n.kind);
        }
      });

      test("keys kept by slot: COUNTKEYSINSLOT, GETKEYSINSLOT, FLUSHSLOTS and RESET with keys", async () => {
        await waitClusterOk([redis, respite]);
        const cmds: Cmd[] = [
          ["MSET", "{t}a", "1", "{t}b", "2", "{t}c", "3"],
          ["MOVE", "{t}a", "1"],
          ["COPY", "{t}a", "{t}f", "DB", "1"],
          ["COPY", "{t}a", "{t}f", "DB", "0"],
          ["DEL", "{t}c", "{t}f"],
          ["RENAME", "{t}b", "{t}e"],
          ["CLUSTER", "COUNTKEYSINSLOT", "15891"],
          ["CLUSTER", "GETKEYSINSLOT", "15891", "0"],
          ["CLUSTER", "FLUSHSLOTS"],
          ["CLUSTER", "RESET"],
          ["FLUSHALL"],
          ["CLUSTER", "COUNTKEYSINSLOT", "15891"],
        ];
        await sameReplies(redis, respite, cmds);
        // The keys themselves, in any order (Redis lists them in its dict's order).
        await replies(respite, [["MSET", "{t}x", "1", "{t}y", "2"]]);
        const [list] = await replies(respite, [["CLUSTER", "GETKEYSINSLOT", "15891", "10"]]);
        assert.deepEqual(list.split("\r\n").filter((l) => l.startsWith("{")).sort(), ["{t}x", "{t}y"]);
        assert.equal((await replies(respite, [["CLUSTER", "GETKEYSINSLOT", "15891", "1"]]))[0].slice(0, 4), "*1\r\n");
      });

      test("CLUSTER INFO and the slot-less CLUSTERDOWN errors", async () => {
        // k596 hashes to slot 0.
        assert.equal(keyHashSlot("k596"), 0);
        const cmds: Cmd[] = [["CLUSTER", "DELSLOTSRANGE", "0", "10"], ["SET", "k596", "1"], ["GET", "k596"], ["CLUSTER", "ADDSLOTSRANGE", "0", "10"]];
        await sameReplies(redis, respite, cmds);
        await waitClusterOk([redis, respite]);
        const [ia, ib] = await Promise.all([clusterInfo(redis), clusterInfo(respite)]);
        for (const field of ["cluster_state", "cluster_slots_assigned", "cluster_slots_ok", "cluster_slots_pfail", "cluster_slots_fail",
          "cluster_known_nodes", "cluster_size", "cluster_current_epoch", "cluster_my_epoch", "total_cluster_links_buffer_limit_exceeded"]) {
          assert.equal(ib.get(field), ia.get(field), field);
        }
        assert.deepEqual([...ib.keys()].filter((k) => !k.startsWith("cluster_stats")), [...ia.keys()].filter((k) => !k.startsWith("cluster_stats")));
      });

      test("a cluster down: full coverage, reads and shard pub/sub when down", async () => {
        const waitState = async (state: string) => {
          for (const n of [redis, respite]) {
            await until(async () => (await clusterInfo(n)).get("cluster_state") === state, () => `${n.kind} not ${state}` + logs([n]));
          }
        };
        const both = (cmds: Cmd[]) => sameReplies(redis, respite, cmds);
        for (const n of [redis, respite]) await replies(n, [["FLUSHALL"], ["CLUSTER", "FLUSHSLOTS"], ["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]]);
        await waitState("ok");
        await both([["SET", "b", "1"], ["CLUSTER", "DELSLOTS", "0"]]);
        await waitState("fail");
        await both([
          ["GET", "b"], ["GET", "k596"], ["SPUBLISH", "b", "x"], ["PUBLISH", "b", "x"],
          ["CONFIG", "SET", "cluster-allow-pubsubshard-when-down", "no"], ["SPUBLISH", "b", "x"],
          ["CONFIG", "SET", "cluster-allow-reads-when-down", "yes"], ["GET", "b"], ["SET", "b", "2"], ["MULTI"], ["GET", "b"], ["EXEC"],
          ["MULTI"], ["SET", "b", "3"], ["EXEC"],
          ["EVAL", "return redis.call('get', KEYS[1])", "1", "b"],
          ["EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "b"],
          ["EVAL", "return redis.pcall('set', KEYS[1], 'x')", "1", "b"],
          ["CONFIG", "SET", "cluster-allow-reads-when-down", "no"],
          ["EVAL", "return redis.pcall('get', 'b')", "0"],
          ["CONFIG", "SET", "cluster-require-full-coverage", "no"],
        ]);
        await waitState("ok");
        await both([["GET", "b"], ["SET", "b", "4"], ["GET", "k596"], ["SET", "k596", "1"], ["CONFIG", "SET", "cluster-require-full-coverage", "yes"]]);
      });
    });
  }
});

describe("nodes.conf", () => {
  for (const kind of KINDS) {
    describe(kind, () => {
      test("written as Redis writes it and read back after a restart", async () => {
        let node = await startClusterNode(kind);
        try {
          const id = await myId(node);
          await replies(node, [["CLUSTER", "ADDSLOTSRANGE", "0", "99", "200", "200"], ["CLUSTER", "SET-CONFIG-EPOCH", "9"]]);
          await until(() => fs.readFileSync(path.join(node.dir, "nodes.conf"), "latin1").includes(" 9 connected"), () => logs([node]));
          const text = fs.readFileSync(path.join(node.dir, "nodes.conf"), "latin1");
          assert.equal(text, `${id} :${node.port}@${node.port + 10000} myself,master - 0 0 9 connected 0-99 200\nvars currentEpoch 9 lastVoteEpoch 0\n`);
          const before = await command(node, "CLUSTER", "NODES");
          await node.stop();
          node = await restart(node);
          assert.equal(await myId(node), id);
          assert.equal(await command(node, "CLUSTER", "NODES"), before);
          assert.equal((await clusterInfo(node)).get("cluster_current_epoch"), "9");
        } finally {
          await node.stop();
        }
      });

      test("redis-server's nodes.conf read by Respite, and Respite's by redis-server", async () => {
        for (const [from, to] of [["redis", kind], [kind, "redis"]] as [Target, Target][]) {
          let node = await startClusterNode(from);
          try {
            await replies(node, [["CLUSTER", "ADDSLOTSRANGE", "10", "20", "30", "30"], ["CLUSTER", "SET-CONFIG-EPOCH", "3"], ["CLUSTER", "BUMPEPOCH"]]);
            await until(() => fs.readFileSync(path.join(node.dir, "nodes.conf"), "latin1").includes(" 3 connected 10-20 30"), () => logs([node]));
            const nodesBefore = await command(node, "CLUSTER", "NODES");
            await node.stop();
            node = await startClusterNode(to, [], { dir: node.dir, port: node.port });
            assert.equal(await command(node, "CLUSTER", "NODES"), nodesBefore, `${from} -> ${to}`);
            assert.equal((await clusterInfo(node)).get("cluster_current_epoch"), "3");
          } finally {
            await node.stop();
          }
        }
      });

      test("keys loaded at startup claim their slots; keys outside db 0 stop the server", async () => {
        const source = await startTarget("redis", ["--dir", tmpDir()]);
        const conn = await RawConnection.connect(source.port);
        const rdbDir = (await conn.call("CONFIG", "GET", "dir")).toString("latin1").split("\r\n")[4];
        await conn.pipeline([["MSET", "b", "1", "{b}x", "2", "foo", "3"], ["SAVE"]]);
        const rdb = fs.readFileSync(path.join(rdbDir, "dump.rdb"));
        await conn.pipeline([["SELECT", "1"], ["SET", "other", "1"], ["SAVE"]]);
        const rdbDb1 = fs.readFileSync(path.join(rdbDir, "dump.rdb"));
        conn.close();
        await source.stop();
        const mine: string[] = [];
        for (const t of ["redis", kind] as Target[]) {
          const dir = tmpDir();
          fs.writeFileSync(path.join(dir, "dump.rdb"), rdb);
          const port = await clusterPort();
          const node = await startClusterNode(t, ["--save", "3600 1"], { dir, port });
          try {
            await until(async () => (await command(node, "DBSIZE")) === ":3\r\n", () => logs([node]));
            const me = (await command(node, "CLUSTER", "NODES")).split("\n").find((l) => l.includes("myself"))!;
            mine.push(me.split(" ").slice(2).join(" "));
            assert.match(node.output(), /I have keys for unassigned slot 3300\. Taking responsibility for it\./);
          } finally {
            await node.stop();
          }
          const dir1 = tmpDir();
          fs.writeFileSync(path.join(dir1, "dump.rdb"), rdbDb1);
          const r = await runUntilExit(t, ["--dir", dir1, "--cluster-enabled", "yes", "--save", "3600 1"], await clusterPort());
          // redis-server 7.0.15 crashes loading them (its per-slot index exists for db 0 only); Respite stops as its check says.
          assert.notEqual(r.code, 0, r.output);
          if (t !== "redis") {
            assert.equal(r.code, 1, r.output);
            assert.match(r.output, /You can't have keys in a DB different than DB 0 when in Cluster mode\. Exiting\./);
          }
        }
        assert.equal(mine[1], mine[0]);
      });

      test("a damaged nodes.conf stops the server as redis-server", async () => {
        for (const content of ["garbage line here\n", "abc :0@0 myself,master - 0 0 0 connected\n",
          "0123456789abcdef0123456789abcdef01234567 :0@0 master - 0 0 0 connected\n"]) {
          const outputs: string[] = [];
          for (const t of ["redis", kind] as Target[]) {
            const dir = tmpDir();
            fs.writeFileSync(path.join(dir, "nodes.conf"), content);
            const port = await clusterPort();
            const r = await runUntilExit(t, ["--dir", dir, "--cluster-enabled", "yes"], port);
            assert.equal(r.code, 1, `${t}: ${r.output}`);
            outputs.push(r.output.match(/Unrecoverable error: [^\n]*/)?.[0] ?? r.output);
          }
          assert.equal(outputs[1], outputs[0], content);
        }
      });
    });
  }
});

describe("routing in a 3-node cluster against a redis-server cluster", () => {
  for (const kind of KINDS) {
    describe(kind, () => {
      let redisNodes: ClusterNodeHandle[] = [], respiteNodes: ClusterNodeHandle[] = [];
      /** Per kind: the nodes in slot order, their ids and the normalizer. */
      const sides: { nodes: ClusterNodeHandle[]; ids: string[]; norm: (s: string) => string }[] = [];

      before(async () => {
        [redisNodes, respiteNodes] = await Promise.all([startClusterNodes(["redis", "redis", "redis"]), startClusterNodes([kind, kind, kind])]);
        await Promise.all([createCluster(redisNodes), createCluster(respiteNodes)]);
        await waitClusterOk([...redisNodes, ...respiteNodes]);
        for (const all of [redisNodes, respiteNodes]) {
          const nodes = await bySlots(all);
          const ids = await Promise.all(nodes.map(myId));
          sides.push({ nodes, ids, norm: normalizer(nodes, ids) });
        }
      });
      after(() => stopAll([...redisNodes, ...respiteNodes]));

      /** Runs a pipeline on node i of both clusters; asserts the normalized replies equal. cmds may name ids as ID0.. */
      async function same(i: number, cmds: Cmd[]): Promise<string[]> {
        const out = await Promise.all(sides.map((s) =>
          replies(s.nodes[i], cmds.map((c) => c.map((a) => (typeof a === "string" ? a.replace(/^ID(\d)$/, (_, n) => s.ids[Number(n)]) : a))))
            .then((r) => r.map(s.norm))
        ));
        cmds.forEach((cmd, j) => sameText(out[1][j], out[0][j], `node ${i}: ${cmd.join(" ")}`));
        return out[1];
      }

      /** CLUSTER SLOTS, SHARDS and NODES of node i on both sides: the same once ports and ids are named alike. */
      async function sameViews(i: number): Promise<void> {
        const out = await Promise.all(sides.map(async (s) => {
          const [slots, shards, nodes, , slots3, shards3] = await replies(s.nodes[i], [
            ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"], ["CLUSTER", "NODES"], ["HELLO", "3"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"],
          ]);
          return [s.norm(slots), shardsShape(shards, s.norm), nodesShape(s.norm(nodes)), s.norm(slots3), shardsShape(shards3, s.norm)];
        }));
        sameText(out[1][3], out[0][3], `CLUSTER SLOTS in RESP3 on node ${i}`);
        assert.equal(out[1][4], out[0][4], `CLUSTER SHARDS in RESP3 on node ${i}`);
        sameText(out[1][0], out[0][0], `CLUSTER SLOTS on node ${i}`);
        assert.equal(out[1][1], out[0][1], `CLUSTER SHARDS on node ${i}`);
        assert.equal(out[1][2], out[0][2], `CLUSTER NODES on node ${i}`);
      }

      test("MOVED, CROSSSLOT, transactions and scripts", async () => {
        await same(0, [
          ["SET", "foo", "bar"], ["SET", "b", "1"], ["GET", "b"], ["MGET", "b", "f"], ["MSET", "{b}x", "1", "{b}y", "2"], ["MGET", "b", "b"],
          ["MULTI"], ["GET", "foo"], ["EXEC"],
          ["MULTI"], ["GET", "b"], ["GET", "f"], ["EXEC"],
          ["MULTI"], ["GET", "b"], ["SET", "{b}z", "3"], ["EXEC"],
          ["EVAL", "return redis.call('get','foo')", "0"],
          ["EVAL", "return redis.pcall('get','foo')", "0"],
          ["EVAL", "return redis.call('get',KEYS[1])", "1", "foo"],
          ["EVAL", "return redis.call('get',KEYS[1])", "2", "b", "f"],
          ["EVAL", "redis.call('set','b','2'); return redis.call('get','f')", "0"],
          ["SPUBLISH", "foo", "x"], ["PUBLISH", "foo", "x"],
          ["CLUSTER", "COUNTKEYSINSLOT", "3300"],
          ["CLUSTER", "SETSLOT", "12182", "MIGRATING", "ID1"],
          ["CLUSTER", "SETSLOT", "3300", "IMPORTING", "ID1"],
          ["CLUSTER", "SETSLOT", "3300", "NODE", "ID1"],
        ]);
      });

      test("a slot migrating: ASK, ASKING, TRYAGAIN, then SETSLOT NODE", async () => {
        // Slot 3300 ("b", "{b}...") moves from node 0 to node 1 as redis-cli --cluster reshard moves it.
        await same(1, [["CLUSTER", "SETSLOT", "3300", "IMPORTING", "ID0"], ["GET", "{b}new"], ["ASKING"], ["GET", "{b}new"], ["GET", "{b}new"]]);
        await same(0, [
          ["CLUSTER", "SETSLOT", "3300", "MIGRATING", "ID1"],
          ["GET", "b"], ["GET", "{b}new"], ["MGET", "b", "{b}new"], ["MGET", "{b}q", "{b}new"], ["SET", "{b}new", "1"],
          ["EXISTS", "b", "{b}x"], ["DEL", "{b}gone"],
          ["MULTI"], ["GET", "{b}new"], ["EXEC"],
        ]);
        await same(1, [
          ["ASKING"], ["MGET", "{b}q", "{b}new"],
          ["ASKING"], ["SET", "{b}new", "2"], ["GET", "{b}new"],
          ["ASKING"], ["GET", "foo"],
          ["ASKING"], ["MULTI"], ["GET", "{b}new"], ["EXEC"],
          ["ASKING"], ["EVAL", "return redis.call('get',KEYS[1])", "1", "{b}new"],
          // A refused command ends ASKING too (Redis's resetClient runs after it).
          ["ASKING"], ["NOSUCHCOMMAND"], ["GET", "{b}new"],
          ["ASKING"], ["GET"], ["GET", "{b}new"],
          ["READONLY"], ["GET", "{b}new"], ["READWRITE"],
        ]);
        // The keys move (as MIGRATE would), then the slot is given to node 1 on both sides of the move.
        await same(0, [
          ["DEL", "b", "{b}x", "{b}y", "{b}z"], ["CLUSTER", "SETSLOT", "3300", "NODE", "ID0"], ["SET", "b", "back"],
          ["CLUSTER", "SETSLOT", "3300", "NODE", "ID1"], ["DEL", "b"], ["CLUSTER", "SETSLOT", "3300", "NODE", "ID1"],
          ["CLUSTER", "COUNTKEYSINSLOT", "3300"], ["GET", "b"],
        ]);
        await same(1, [["SET", "{b}new", "3"], ["CLUSTER", "SETSLOT", "3300", "NODE", "ID1"], ["GET", "{b}new"], ["GET", "b"]]);
        const infos = await Promise.all(sides.map((s) => clusterInfo(s.nodes[1])));
        for (const f of ["cluster_current_epoch", "cluster_my_epoch", "cluster_size", "cluster_slots_assigned"]) {
          assert.equal(infos[1].get(f), infos[0].get(f), f);
        }
      });

      test("CLUSTER SLOTS, SHARDS and NODES once the move has spread", async () => {
        for (const s of sides) {
          await until(async () => {
            for (const n of s.nodes) if (!(await command(n, "CLUSTER", "SLOTS")).includes(`:3300\r\n:3300\r\n`)) return false;
            return true;
          }, () => logs(s.nodes));
        }
        for (let i = 0; i < 3; i++) await sameViews(i);
      });

      test("a replica: READONLY / READWRITE, and CLUSTER SLOTS and SHARDS listing it", async () => {
        await Promise.all(sides.map(async (s, k) => {
          const replica = await startClusterNode(k === 0 ? "redis" : kind);
          (k === 0 ? redisNodes : respiteNodes).push(replica);
          assert.equal(await command(replica, "CLUSTER", "MEET", "127.0.0.1", String(s.nodes[0].port)), "+OK\r\n");
          await until(async () => (await clusterInfo(replica)).get("cluster_known_nodes") === "4", () => logs([replica, ...s.nodes]));
          await until(async () => (await command(replica, "CLUSTER", "REPLICATE", s.ids[0])) === "+OK\r\n", () => logs([replica, ...s.nodes]));
          s.ids.push(await myId(replica));
          s.nodes.push(replica);
          s.norm = normalizer(s.nodes, s.ids);
          await replies(s.nodes[0], [["SET", "f", "v"], ["WAIT", "1", "0"]]);
          // Listed in CLUSTER SLOTS once it has data from its primary, everywhere.
          for (const n of s.nodes) {
            await until(async () => (await command(n, "CLUSTER", "SLOTS")).includes(String(replica.port)), () => logs(s.nodes));
          }
        }));
        await same(3, [
          ["GET", "f"], ["READONLY"], ["GET", "f"], ["MGET", "f", "f"], ["SET", "f", "w"], ["GET", "foo"], ["MULTI"], ["GET", "f"], ["EXEC"],
          ["EVAL", "return redis.call('get', KEYS[1])", "1", "f"], ["READWRITE"], ["GET", "f"], ["CLUSTER", "COUNTKEYSINSLOT", "3168"],
          ["CLUSTER", "SETSLOT", "3168", "STABLE"],
        ]);
        for (const i of [0, 3]) await sameViews(i);
      });

      test("a restarted node comes back with its slots, epochs and peers from nodes.conf", async () => {
        const s = sides[1];
        const node = s.nodes[2];
        const before = nodesShape(s.norm(await command(node, "CLUSTER", "NODES")));
        await node.stop();
        const again = await restart(node);
        respiteNodes[respiteNodes.indexOf(node)] = again;
        s.nodes[2] = again;
        // Right after the restart its peers are as the file left them (connected or not); once the bus is up, as before.
        assert.equal(await myId(again), s.ids[2]);
        await waitClusterOk(s.nodes);
        let now = "";
        await until(async () => (now = nodesShape(s.norm(await command(again, "CLUSTER", "NODES")))) === before, () => `${now}\n!==\n${before}`);
      });

      test("a client blocked on a slot given away gets MOVED", async () => {
        // "j" hashes to slot 3564, served by node 0 and empty.
        const out = await Promise.all(sides.map(async (s) => {
          const blocked = await RawConnection.connect(s.nodes[0].port);
          try {
            blocked.write("*3\r\n$5\r\nBLPOP\r\n$1\r\nj\r\n$1\r\n0\r\n");
            await until(async () => (await command(s.nodes[0], "INFO", "clients")).includes("blocked_clients:1"), () => logs(s.nodes));
            assert.equal(await command(s.nodes[0], "CLUSTER", "SETSLOT", "3564", "NODE", s.ids[1]), "+OK\r\n");
            return s.norm((await blocked.readReplies(1))[0].toString("latin1"));
          } finally {
            blocked.close();
          }
        }));
        sameText(out[1], out[0], "BLPOP reply");
      });

      test("cluster-announce-hostname and cluster-preferred-endpoint-type in CLUSTER SLOTS, SHARDS and MOVED", async () => {
        await same(0, [["CONFIG", "SET", "cluster-announce-hostname", "host-zero"]]);
        for (const type of ["hostname", "unknown-endpoint", "ip"]) {
          await same(0, [["CONFIG", "SET", "cluster-preferred-endpoint-type", type], ["GET", "foo"], ["CLUSTER", "SLOTS"]]);
          await sameViews(0);
        }
      });

      test("CLUSTER RESET of a replica: an empty primary knowing only itself; HARD takes a new id", async () => {
        await same(3, [["CLUSTER", "RESET"], ["DBSIZE"], ["CLUSTER", "COUNTKEYSINSLOT", "3168"], ["GET", "f"]]);
        for (const s of sides) {
          const nodes = await command(s.nodes[3], "CLUSTER", "NODES");
          assert.match(nodes, new RegExp(`^\\$\\d+\r\n${s.ids[3]} 127\\.0\\.0\\.1:\\d+@\\d+ myself,master - \\d+ \\d+ 0 connected\n\r\n$`));
          assert.match(await command(s.nodes[3], "ROLE"), /^\*3\r\n\$6\r\nmaster\r\n/);
          assert.equal(await command(s.nodes[3], "CLUSTER", "RESET", "HARD"), "+OK\r\n");
          assert.notEqual(await myId(s.nodes[3]), s.ids[3]);
        }
      });
    });
  }
});
