/**
 * Respite as a REPLICA of a real redis-server 7.0.15 primary, under every
 * runtime: full sync of a random dataset of every type (disk `$len` form and
 * diskless EOF-marker form), then a write stream of every command family with
 * expiries, MULTI and scripts, the link cut from either side and continued
 * with PSYNC, a restart continuing from the RDB's repl-id/offset, a chained
 * redis-server replica behind Respite, and promotion keeping replid2 (PSYNC2).
 * Also: a Respite primary demoted under its promoted replica, masterauth /
 * masteruser and announced addresses, repl-timeout, the old SYNC for a
 * primary without PSYNC and the fields shown while an RDB arrives (these two
 * against scripted primaries). Datasets are compared key by key and by DEBUG
 * DIGEST, encodings against a redis-server replica in the same position; the
 * replica-facing behaviour (READONLY, scripts, expired keys, WAIT,
 * serve-stale-data, INFO, ROLE, REPLICAOF replies) against a redis-server
 * replica of the same primary.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import * as fs from "node:fs";
import * as path from "node:path";
import { RUNTIMES, type ServerHandle, startRedis, startRespite, tmpDir } from "../lib/servers.ts";
import { decodeAt } from "../../core/resp/decoder.ts";
import { RawConnection } from "../lib/raw.ts";
import { type Cmd, rng } from "../lib/diff.ts";
import { assertSameDataset, type Dataset, keyCount, readDataset, writeDataset } from "../lib/rdb-dataset.ts";
import { info, until } from "../lib/targets.ts";

const text = (b: Buffer) => b.toString("latin1");

async function conn(s: ServerHandle): Promise<RawConnection> {
  return RawConnection.connect(s.port);
}

/** Waits until every replica's link is up and has applied the primary's whole stream. */
async function synced(primary: RawConnection, ...replicas: RawConnection[]): Promise<void> {
  await until(async () => {
    const want = (await info(primary, "replication")).get("master_repl_offset");
    for (const r of replicas) {
      const i = await info(r, "replication");
      if (i.get("master_link_status") !== "up" || i.get("slave_repl_offset") !== want) return false;
    }
    return true;
  }, () => "replicas in sync", 60_000, 50);
}

/** Closes the connections, then stops the servers in the order given. */
async function shutdown(conns: RawConnection[], servers: ServerHandle[]): Promise<void> {
  for (const c of conns) c.close();
  for (const s of servers) await s.stop();
}

async function stats(c: RawConnection): Promise<{ full: number; ok: number; err: number }> {
  const s = await info(c, "stats");
  return { full: Number(s.get("sync_full")), ok: Number(s.get("sync_partial_ok")), err: Number(s.get("sync_partial_err")) };
}

/**
 * A seeded stream of writes over every family the dataset has, as a client
 * would send them: strings, lists, hashes, sets, sorted sets, generic key
 * commands, TTLs (some short enough to expire on the primary meanwhile, which
 * then propagates DEL), SELECT, MULTI/EXEC blocks and Lua scripts.
 */
function writeStream(seed: number, n: number, tag: string): { cmds: Cmd[]; shortLived: Array<[number, string]> } {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const k = (t: string) => `${tag}:${t}:${int(0, 15)}`;
  const cmds: Cmd[] = [];
  const shortLived: Array<[number, string]> = [];
  let db = 0;
  const gen = (): Cmd[] => {
    switch (int(0, 33)) {
      case 0: return [["SET", k("s"), `v${int(0, 1e6)}`]];
      case 1: return [["SET", k("s"), `e${int(0, 1e6)}`, "EX", int(1000, 9000)]];
      case 2: return [["INCRBY", k("n"), int(-50, 50)]];
      case 3: return [["INCRBYFLOAT", k("f"), `${int(-100, 100)}.25`]];
      case 4: return [["APPEND", k("s"), "+app"]];
      case 5: return [["SETRANGE", k("r"), int(0, 20), "xyz\x00\xff"]];
      case 6: return [["MSET", k("s"), "m1", k("n"), int(0, 9)]];
      case 7: return [["GETDEL", k("s")]];
      case 8: return [["LPUSH", k("l"), `a${int(0, 99)}`, `b${int(0, 99)}`]];
      case 9: return [["RPOP", k("l")]];
      case 10: return [["LMOVE", k("l"), k("l"), "LEFT", "RIGHT"]];
      case 11: return [["LTRIM", k("l"), 0, int(2, 10)]];
      case 12: return [["HSET", k("h"), `f${int(0, 20)}`, `v${int(0, 99)}`, `g${int(0, 20)}`, "w"]];
      case 13: return [["HINCRBY", k("h"), `c${int(0, 3)}`, int(1, 5)]];
      case 14: return [["HDEL", k("h"), `f${int(0, 20)}`]];
      case 15: return [["SADD", k("t"), ...Array.from({ length: int(1, 5) }, () => `m${int(0, 40)}`)]];
      case 16: return [["SPOP", k("t"), int(1, 2)]];
      case 17: return [["SINTERSTORE", k("t"), k("t"), k("t")]];
      case 18: return [["SUNIONSTORE", k("u"), k("t"), k("t")]];
      case 19: return [["ZADD", k("z"), int(-100, 100), `z${int(0, 30)}`, `${int(0, 5)}.5`, `y${int(0, 30)}`]];
      case 20: return [["ZINCRBY", k("z"), int(1, 9), `z${int(0, 30)}`]];
      case 21: return [["ZPOPMIN", k("z")]];
      case 22: return [["ZUNIONSTORE", k("zu"), 2, k("z"), k("z"), "WEIGHTS", 1, 2]];
      case 23: return [["PEXPIRE", k("s"), int(600_000, 900_000)]];
      case 24: return [["EXPIREAT", k("h"), Math.floor(Date.now() / 1000) + int(3600, 7200)]];
      case 25: return [["PERSIST", k("s")]];
      case 26: return [["DEL", k("l"), k("s")]];
      case 27: return [["RENAME", k("n"), k("n")], ["COPY", k("h"), k("hc"), "REPLACE"]];
      case 28: {
        db = int(0, 3);
        return [["SELECT", db]];
      }
      case 29: {
        const key = `${tag}:short:${cmds.length}`;
        shortLived.push([db, key]);
        return [["SET", key, "soon gone", "PX", int(5, 60)]];
      }
      case 30: return [["MULTI"], ["INCR", k("n")], ["LPUSH", k("l"), "in-multi"], ["SADD", k("t"), "in-multi"], ["EXEC"]];
      case 31:
        return [["EVAL", "redis.call('SET', KEYS[1], ARGV[1]); redis.call('HSET', KEYS[2], 'lua', ARGV[1]); return redis.call('INCR', KEYS[3])", 3, k("s"), k("h"), k("n"), `lua${int(0, 99)}`]];
      case 32: return [["SPOP", k("t")]];
      default: return [["UNLINK", k("u")], ["GETEX", k("s"), "PX", int(700_000, 800_000)]];
    }
  };
  while (cmds.length < n) cmds.push(...gen());
  cmds.push(["SELECT", 0]);
  return { cmds, shortLived };
}

/** Sends a stream (errors such as WRONGTYPE are part of it, as for any client), then makes the primary expire what is past its deadline. */
async function send(primary: RawConnection, s: { cmds: Cmd[]; shortLived: Array<[number, string]> }): Promise<void> {
  for (let i = 0; i < s.cmds.length; i += 200) await primary.pipeline(s.cmds.slice(i, i + 200));
  await new Promise((r) => setTimeout(r, 80));
  // Touching each short-lived key expires it on the primary (lazy expiry), which sends the replicas its DEL.
  await primary.pipeline(s.shortLived.flatMap(([db, key]) => [["SELECT", db], ["EXISTS", key]] as Cmd[]));
  await primary.call("SELECT", 0);
}

/**
 * The replica holds the primary's keys, values and TTLs (and DEBUG DIGEST);
 * encodings may differ from the primary's (a replica re-encodes what it
 * receives: INCRBYFLOAT arrives as SET, an RDB load makes embstr), so they
 * are compared with a redis-server replica in the same position.
 */
/** A scripted primary: answers each command a replica sends (argv as binary strings) through reply. */
async function fakePrimary(reply: (argv: string[], sock: net.Socket) => void): Promise<{ port: number; seen: string[]; close(): void }> {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    let buf = Buffer.alloc(0);
    sock.on("error", () => {});
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      for (let r = decodeAt(buf, 0); r !== null; r = decodeAt(buf, 0)) {
        buf = buf.subarray(r[1]);
        const argv = (r[0] as Uint8Array[]).map((a) => Buffer.from(a).toString("latin1"));
        seen.push(argv.join(" "));
        reply(argv, sock);
      }
    });
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    seen,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** PTTLs read from two servers a few reads apart: under a loaded CI run one read of the dataset has taken 5 s. */
const PTTL_TOLERANCE_MS = 30_000;

function same(actual: Dataset, primary: Dataset, oracle?: Dataset): void {
  assertSameDataset(actual, primary, { pttlToleranceMs: PTTL_TOLERANCE_MS, encodings: false });
  if (oracle) assertSameDataset(actual, oracle, { pttlToleranceMs: PTTL_TOLERANCE_MS });
}

for (const rt of RUNTIMES) {
  describe(`Respite replica under ${rt} of redis-server 7.0.15`, () => {
    test("full sync from disk, the write stream, the link cut from either side and continued with PSYNC", async () => {
      const p = await startRedis(["--repl-diskless-sync", "no"]);
      const pc = await conn(p);
      await writeDataset(pc, { seed: 11, keysPerDb: 30 });
      const r = await startRespite(rt, ["--replicaof", `127.0.0.1 ${p.port}`]);
      const o = await startRedis(["--replicaof", `127.0.0.1 ${p.port}`]);
      const rc = await conn(r);
      const oc = await conn(o);
      try {
        await synced(pc, rc, oc);
        assert.match(r.output(), /MASTER <-> REPLICA sync: receiving \d+ bytes from master to disk/);
        const ri = await info(rc, "replication");
        const pi = await info(pc, "replication");
        assert.equal(ri.get("role"), "slave");
        assert.equal(ri.get("master_replid"), pi.get("master_replid"));
        assert.equal(ri.get("master_sync_in_progress"), "0");
        await send(pc, writeStream(1, 1500, "a"));
        await synced(pc, rc, oc);
        assert.deepEqual(await stats(pc), { full: 2, ok: 0, err: 0 });

        // The primary drops the links: the replicas reconnect and continue from their offsets.
        assert.equal(text(await pc.call("CLIENT", "KILL", "TYPE", "replica")), ":2\r\n");
        await send(pc, writeStream(2, 500, "b"));
        await synced(pc, rc, oc);
        assert.deepEqual(await stats(pc), { full: 2, ok: 2, err: 0 });
        // The replicas drop them (their primary's client killed): the same.
        assert.equal(text(await rc.call("CLIENT", "KILL", "TYPE", "master")), ":1\r\n");
        assert.equal(text(await oc.call("CLIENT", "KILL", "TYPE", "master")), ":1\r\n");
        await send(pc, writeStream(3, 500, "c"));
        await synced(pc, rc, oc);
        assert.deepEqual(await stats(pc), { full: 2, ok: 4, err: 0 });
        assert.match(r.output(), /Successful partial resynchronization with master\./);

        const want = await readDataset(pc);
        assert.ok(keyCount(want) > 400);
        same(await readDataset(rc), want, await readDataset(oc));
      } finally {
        await shutdown([pc, rc, oc], [r, o, p]);
      }
    });

    test("a db big enough for the stream's keys to be prefetched: the replica applies it as redis-server's does", async () => {
      const p = await startRedis(["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"]);
      const pc = await conn(p);
      // Past 16,384 keys the stream's keys are read ahead from each chunk (engine.ts prefetchKeys).
      for (let i = 0; i < 20_000; i += 1000) {
        await pc.call("MSET", ...Array.from({ length: 1000 }, (_, j) => [`big:${i + j}`, `${i + j}`]).flat());
      }
      const r = await startRespite(rt, ["--replicaof", `127.0.0.1 ${p.port}`]);
      const rc = await conn(r);
      try {
        await synced(pc, rc);
        const rand = rng(21);
        const key = () => `big:${Math.floor(rand() * 22_000)}`;
        const cmds: Cmd[] = [];
        for (let i = 0; i < 5000; i++) {
          const x = rand();
          cmds.push(x < 0.5 ? ["SET", key(), `w${i}`] : x < 0.7 ? ["INCR", key()] : x < 0.85 ? ["DEL", key()] : ["APPEND", key(), "+"]);
        }
        await pc.pipeline(cmds);
        await send(pc, writeStream(9, 500, "p"));
        await synced(pc, rc);
        assert.equal(text(await rc.call("DBSIZE")), text(await pc.call("DBSIZE")));
        assert.equal(text(await rc.call("DEBUG", "DIGEST")), text(await pc.call("DEBUG", "DIGEST")));
      } finally {
        await shutdown([pc, rc], [r, p]);
      }
    });

    test("diskless EOF-marker sync loaded from memory, a chained redis-server replica, promotion keeping replid2", async () => {
      const p = await startRedis(["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"]);
      const pc = await conn(p);
      await writeDataset(pc, { seed: 12, keysPerDb: 20, big: false });
      const replicaArgs = ["--replicaof", `127.0.0.1 ${p.port}`, "--repl-diskless-load", "on-empty-db"];
      const r = await startRespite(rt, replicaArgs);
      const o = await startRedis(replicaArgs);
      const rc = await conn(r);
      const oc = await conn(o);
      const chained = await startRedis(["--replicaof", `127.0.0.1 ${r.port}`]);
      const cc = await conn(chained);
      try {
        await synced(pc, rc, oc);
        assert.match(r.output(), /receiving streamed RDB from master with EOF to parser/);
        await send(pc, writeStream(4, 1500, "d"));
        await synced(pc, rc, oc);
        await synced(rc, cc);
        const want = await readDataset(pc);
        same(await readDataset(rc), want, await readDataset(oc));
        same(await readDataset(cc), want);

        // Promotion: the old history stays valid as replid2 up to the offset reached, so the chained replica continues.
        const before = await info(pc, "replication");
        const cBefore = await stats(rc);
        assert.equal(text(await rc.call("REPLICAOF", "NO", "ONE")), "+OK\r\n");
        const after = await info(rc, "replication");
        assert.equal(after.get("role"), "master");
        assert.equal(after.get("master_replid2"), before.get("master_replid"));
        assert.equal(after.get("second_repl_offset"), String(Number(before.get("master_repl_offset")) + 1));
        assert.notEqual(after.get("master_replid"), before.get("master_replid"));
        assert.equal(text(await rc.call("SET", "promoted", "yes")), "+OK\r\n");
        await synced(rc, cc);
        assert.equal(text(await cc.call("GET", "promoted")), "$3\r\nyes\r\n");
        const cAfter = await stats(rc);
        assert.equal(cAfter.full, cBefore.full, "the chained replica did not need a full sync");
        assert.equal(cAfter.ok, cBefore.ok + 1);
        same(await readDataset(cc), await readDataset(rc));
      } finally {
        await shutdown([pc, rc, oc, cc], [o, chained, r, p]);
      }
    });

    test("following a promoted sibling continues its history (PSYNC2 failover)", async () => {
      const p = await startRedis();
      const pc = await conn(p);
      await writeDataset(pc, { seed: 14, keysPerDb: 10, big: false });
      const r = await startRespite(rt, ["--replicaof", `127.0.0.1 ${p.port}`]);
      const o = await startRedis(["--replicaof", `127.0.0.1 ${p.port}`]);
      const rc = await conn(r);
      const oc = await conn(o);
      try {
        await synced(pc, rc, oc);
        await send(pc, writeStream(7, 400, "g"));
        await synced(pc, rc, oc);
        // The redis-server sibling is promoted; the Respite replica follows it and is continued, not fully synced.
        assert.equal(text(await oc.call("REPLICAOF", "NO", "ONE")), "+OK\r\n");
        assert.equal(text(await rc.call("REPLICAOF", "127.0.0.1", String(o.port))), "+OK\r\n");
        await send(oc, writeStream(8, 400, "h"));
        await synced(oc, rc);
        assert.deepEqual(await stats(oc), { full: 0, ok: 1, err: 0 });
        assert.match(r.output(), /Master replication ID changed to [0-9a-f]{40}/);
        const ri = await info(rc, "replication");
        const oi = await info(oc, "replication");
        for (const f of ["master_replid", "master_replid2", "second_repl_offset", "master_repl_offset"]) assert.equal(ri.get(f), oi.get(f), f);
        same(await readDataset(rc), await readDataset(oc));
      } finally {
        await shutdown([pc, rc, oc], [r, o, p]);
      }
    });

    test("a Respite primary demoted under its promoted replica continues from its own history", async () => {
      const p = await startRespite(rt, ["--repl-diskless-sync-delay", "0"]);
      const pc = await conn(p);
      await pc.call("SET", "from-old-primary", "1");
      const o = await startRedis(["--replicaof", `127.0.0.1 ${p.port}`]);
      const oc = await conn(o);
      try {
        await synced(pc, oc);
        await send(pc, writeStream(9, 300, "i"));
        await synced(pc, oc);
        // A failover: the replica is promoted, the old primary follows it (Redis's replicationCacheMasterUsingMyself).
        assert.equal(text(await oc.call("REPLICAOF", "NO", "ONE")), "+OK\r\n");
        assert.equal(text(await pc.call("REPLICAOF", "127.0.0.1", String(o.port))), "+OK\r\n");
        await oc.call("SET", "from-new-primary", "1");
        await synced(oc, pc);
        assert.deepEqual(await stats(oc), { full: 0, ok: 1, err: 0 });
        assert.match(p.output(), /Trying a partial resynchronization \(request [0-9a-f]{40}:\d+\)/);
        assert.equal(text(await pc.call("GET", "from-new-primary")), "$1\r\n1\r\n");
        assert.match(text(await pc.call("SET", "x", "1")), /^-READONLY /);
        same(await readDataset(pc), await readDataset(oc));
      } finally {
        await shutdown([pc, oc], [o, p]);
      }
    });

    test("a restarted replica continues from the replication id and offset in its RDB", async () => {
      const p = await startRedis(["--repl-diskless-sync", "no"]);
      const pc = await conn(p);
      await writeDataset(pc, { seed: 13, keysPerDb: 10, big: false });
      const args = ["--dir", tmpDir(), "--replicaof", `127.0.0.1 ${p.port}`];
      const oracleArgs = ["--dir", tmpDir(), "--replicaof", `127.0.0.1 ${p.port}`];
      const r1 = await startRespite(rt, args);
      const o1 = await startRedis(oracleArgs);
      let rc = await conn(r1);
      let oc = await conn(o1);
      let r2: ServerHandle | null = null;
      let o2: ServerHandle | null = null;
      try {
        await synced(pc, rc, oc);
        await send(pc, writeStream(5, 400, "e"));
        await synced(pc, rc, oc);
        assert.equal(text(await rc.call("SAVE")), "+OK\r\n");
        assert.equal(text(await oc.call("SAVE")), "+OK\r\n");
        rc.close();
        oc.close();
        await r1.stop();
        await o1.stop();
        await send(pc, writeStream(6, 400, "f"));
        r2 = await startRespite(rt, args);
        o2 = await startRedis(oracleArgs);
        rc = await conn(r2);
        oc = await conn(o2);
        await synced(pc, rc, oc);
        assert.match(r2.output(), /Trying a partial resynchronization \(request [0-9a-f]{40}:\d+\)/);
        assert.deepEqual(await stats(pc), { full: 2, ok: 2, err: 0 });
        same(await readDataset(rc), await readDataset(pc), await readDataset(oc));
      } finally {
        pc.close();
        rc.close();
        oc.close();
        await r2?.stop();
        await o2?.stop();
        await p.stop();
      }
    });

    test("authenticates with masterauth and masteruser", async () => {
      const p = await startRedis(["--requirepass", "sekret"]);
      const pc = await conn(p);
      await pc.call("AUTH", "sekret");
      await pc.call("SET", "secured", "1");
      const r = await startRespite(rt, ["--replicaof", `127.0.0.1 ${p.port}`, "--masteruser", "default", "--masterauth", "sekret",
        "--replica-announce-ip", "10.1.2.3", "--replica-announce-port", "4444"]);
      const rc = await conn(r);
      try {
        await synced(pc, rc);
        assert.equal(text(await rc.call("GET", "secured")), "$1\r\n1\r\n");
        // The primary lists the replica at the address it announced (REPLCONF ip-address, listening-port).
        assert.match((await info(pc, "replication")).get("slave0") ?? "", /^ip=10\.1\.2\.3,port=4444,state=online,/);
        // A wrong password: the handshake stops at AUTH and the link stays down.
        await rc.call("CONFIG", "SET", "masterauth", "wrong");
        await rc.call("CLIENT", "KILL", "TYPE", "master");
        await until(async () => /Unable to AUTH to MASTER: -WRONGPASS/.test(r.output()), () => "AUTH refused", 60_000, 50);
        assert.equal((await info(rc, "replication")).get("master_link_status"), "down");
      } finally {
        await shutdown([pc, rc], [r, p]);
      }
    });

    test("repl-timeout: a silent primary is dropped and the link continued, as a redis-server replica does", async () => {
      const p = await startRedis(["--repl-ping-replica-period", "1"]);
      const pc = await conn(p);
      const r = await startRespite(rt, ["--replicaof", `127.0.0.1 ${p.port}`, "--repl-timeout", "2"]);
      const o = await startRedis(["--replicaof", `127.0.0.1 ${p.port}`, "--repl-timeout", "2"]);
      const rc = await conn(r);
      const oc = await conn(o);
      try {
        await pc.call("SET", "before", "1");
        await synced(pc, rc, oc);
        assert.equal(text(await pc.call("DEBUG", "SLEEP", "4")), "+OK\r\n");
        await pc.call("SET", "after", "1");
        await synced(pc, rc, oc);
        for (const s of [r, o]) assert.match(s.output(), /MASTER timeout: no data nor PING received\.\.\./);
        assert.deepEqual(await stats(pc), { full: 2, ok: 2, err: 0 });
        assert.equal(text(await rc.call("GET", "after")), "$1\r\n1\r\n");
      } finally {
        await shutdown([pc, rc, oc], [r, o, p]);
      }
    });

    test("a primary without PSYNC gets the old SYNC: a full sync, then its stream", async () => {
      // The RDB a real redis-server writes, served by a primary that answers PSYNC as Redis 2.6 did.
      const source = await startRedis();
      const sc = await conn(source);
      await sc.call("SET", "old", "sync");
      await sc.call("SAVE");
      const dir = text(await sc.call("CONFIG", "GET", "dir")).split("\r\n")[4];
      const rdb = fs.readFileSync(path.join(dir, "dump.rdb"));
      sc.close();
      await source.stop();
      const fake = await fakePrimary((argv, sock) => {
        const name = argv[0].toUpperCase();
        if (name === "PING") sock.write("+PONG\r\n");
        else if (name === "REPLCONF" && argv[1].toUpperCase() !== "ACK") sock.write("+OK\r\n");
        else if (name === "PSYNC") sock.write("-ERR unknown command 'PSYNC'\r\n");
        else if (name === "SYNC") {
          sock.write(Buffer.concat([Buffer.from(`$${rdb.length}\r\n`), rdb, Buffer.from("*3\r\n$3\r\nSET\r\n$6\r\nstream\r\n$2\r\nok\r\n")]));
        }
      });
      const seen = fake.seen;
      const r = await startRespite(rt, ["--replicaof", `127.0.0.1 ${fake.port}`]);
      const rc = await conn(r);
      try {
        await until(async () => text(await rc.call("GET", "stream")) === "$2\r\nok\r\n", () => "the stream applied", 60_000, 50);
        assert.equal(text(await rc.call("GET", "old")), "$4\r\nsync\r\n");
        assert.deepEqual(seen.slice(0, 5), ["PING", `REPLCONF listening-port ${r.port}`, "REPLCONF capa eof capa psync2", "PSYNC ? -1", "SYNC"]);
        assert.match(r.output(), /Retrying with SYNC/);
      } finally {
        rc.close();
        await r.stop();
        fake.close();
      }
    });

    test("while the RDB arrives: INFO's master_sync_* fields and ROLE as a redis-server replica shows them", async () => {
      // A primary that announces 1000 bytes, sends 100 and then nothing more.
      const rdbStart = Buffer.from("REDIS0010\xfa\x09redis-ver\x067.0.15".padEnd(100, "\0"), "latin1");
      const fake = await fakePrimary((argv, sock) => {
        const name = argv[0].toUpperCase();
        if (name === "PING") sock.write("+PONG\r\n");
        else if (name === "REPLCONF") sock.write("+OK\r\n");
        else if (name === "PSYNC") sock.write(Buffer.concat([Buffer.from(`+FULLRESYNC ${"a".repeat(40)} 0\r\n$1000\r\n`), rdbStart]));
      });
      const r = await startRespite(rt, ["--replicaof", `127.0.0.1 ${fake.port}`]);
      const o = await startRedis(["--replicaof", `127.0.0.1 ${fake.port}`]);
      const rc = await conn(r);
      const oc = await conn(o);
      try {
        for (const c of [rc, oc]) await until(async () => (await info(c, "replication")).get("master_sync_read_bytes") === "100", () => "the transfer under way", 60_000, 50);
        const [ri, oi] = [await info(rc, "replication"), await info(oc, "replication")];
        assert.deepEqual([...ri.keys()], [...oi.keys()]);
        for (const f of ["master_link_status", "master_sync_in_progress", "master_sync_total_bytes", "master_sync_read_bytes", "master_sync_left_bytes", "master_sync_perc"]) {
          assert.equal(ri.get(f), oi.get(f), f);
        }
        assert.equal(ri.get("master_sync_perc"), "10.00");
        const role = (c: RawConnection) => c.call("ROLE").then(text);
        assert.equal(await role(rc), await role(oc));
        assert.match(await role(rc), /\$4\r\nsync\r\n:-1\r\n$/);
      } finally {
        rc.close();
        oc.close();
        await r.stop();
        await o.stop();
        fake.close();
      }
    });

    test("answers as a redis-server replica does: READONLY, expired keys, INFO, ROLE, REPLICAOF, serve-stale-data", async () => {
      const p = await startRedis();
      const pc = await conn(p);
      const r = await startRespite(rt, ["--replicaof", `127.0.0.1 ${p.port}`]);
      const o = await startRedis(["--replicaof", `127.0.0.1 ${p.port}`]);
      const rc = await conn(r);
      const oc = await conn(o);
      const both = async (...cmd: Cmd) => {
        const [a, b] = [text(await rc.call(...cmd)), text(await oc.call(...cmd))];
        assert.equal(a, b, `${cmd.join(" ")}: Respite ${JSON.stringify(a)}, redis-server ${JSON.stringify(b)}`);
        return a;
      };
      try {
        await synced(pc, rc, oc);
        assert.match(await both("SET", "k", "v"), /^-READONLY /);
        await both("MULTI");
        await both("INCR", "k");
        assert.match(await both("EXEC"), /^-EXECABORT/);
        await both("GET", "k");
        // Scripts: a write is refused (an undeclared one when it happens, a declared one up front); reads run.
        await pc.call("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('w', function(k) return redis.call('SET', k[1], 'f') end)\n" +
          "redis.register_function{function_name='r', callback=function(k) return redis.call('GET', k[1]) end, flags={'no-writes'}}");
        await synced(pc, rc, oc);
        assert.match(await both("EVAL", "redis.call('GET', 'k'); return redis.call('SET', 'k', 'v')", 0), /^-READONLY /);
        await both("EVAL", "#!lua\nreturn 1", 0);
        await both("EVAL", "#!lua flags=no-writes\nreturn redis.call('GET', 'k')", 0);
        await both("FCALL", "w", 1, "k");
        await both("FCALL", "r", 1, "k");
        await both("FCALL_RO", "r", 1, "k");
        await both("EXISTS", "k");
        // WAIT on the primary counts both replicas once they acknowledged (REPLCONF ACK / GETACK).
        await pc.call("SET", "acked", "1");
        assert.equal(text(await pc.call("WAIT", 2, 0)), ":2\r\n");
        assert.match(await both("WAIT", 1, 0), /^-ERR WAIT cannot be used with replica instances/);

        // Keys past their deadline read as missing on a replica but stay until the primary's DEL.
        await pc.call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
        await pc.call("SET", "gone", "soon", "PX", "150");
        await pc.call("SET", "stays", "x");
        await synced(pc, rc, oc);
        await new Promise((res) => setTimeout(res, 300));
        assert.equal(await both("GET", "gone"), "$-1\r\n");
        assert.equal(await both("EXISTS", "gone"), ":0\r\n");
        await both("TTL", "gone");
        assert.equal(await both("DBSIZE"), ":3\r\n");
        await both("KEYS", "gone");
        await pc.call("GET", "gone");
        await synced(pc, rc, oc);
        assert.equal(await both("DBSIZE"), ":2\r\n");

        // INFO replication shows the same fields in the same order; ROLE the same reply.
        const [ri, oi] = [await info(rc, "replication"), await info(oc, "replication")];
        assert.deepEqual([...ri.keys()], [...oi.keys()]);
        for (const f of ["role", "master_host", "master_port", "master_link_status", "master_sync_in_progress", "slave_repl_offset", "master_replid", "master_repl_offset"]) {
          assert.equal(ri.get(f), oi.get(f), f);
        }
        await both("ROLE");
        assert.match(await both("REPLICAOF", "127.0.0.1", String(p.port)), /^\+OK Already connected to specified master/);
        await both("REPLICAOF", "127.0.0.1", "70000");
        await both("REPLICAOF", "127.0.0.1", "port");
        await both("CONFIG", "GET", "replicaof");

        // The primary goes away: with replica-serve-stale-data no, only stale commands are served.
        await both("CONFIG", "SET", "replica-serve-stale-data", "no");
        pc.close();
        await p.stop();
        await until(async () =>
          (await info(rc, "replication")).get("master_link_status") === "down" && (await info(oc, "replication")).get("master_link_status") === "down", () => "links down", 60_000, 50);
        await until(async () => /Error condition on socket for SYNC: Connection refused/.test(r.output()), () => "a refused reconnection logged", 60_000, 50);
        const [rDown, oDown] = [await info(rc, "replication"), await info(oc, "replication")];
        assert.deepEqual([...rDown.keys()], [...oDown.keys()]);
        assert.equal(rDown.get("master_link_status"), "down");
        assert.match(await both("GET", "stays"), /^-MASTERDOWN /);
        await both("PING");
        await both("DBSIZE");
        assert.match(await both("SET", "k", "v"), /^-READONLY /);
        await both("CONFIG", "SET", "replica-serve-stale-data", "yes");
        assert.equal(await both("GET", "stays"), "$1\r\nx\r\n");

        // Promoted, it takes writes.
        assert.equal(await both("REPLICAOF", "NO", "ONE"), "+OK\r\n");
        assert.equal(await both("SET", "k", "v"), "+OK\r\n");
        assert.equal((await info(rc, "replication")).get("role"), "master");
        await both("CONFIG", "GET", "replicaof");
      } finally {
        await shutdown([pc, rc, oc], [r, o, p]);
      }
    });
  });
}

describe("Respite to Respite: a Bun primary with Deno and Node replicas", () => {
  test("full sync (diskless), the write stream, a chained replica, the link cut and continued with PSYNC", async (t) => {
    const p = await startRespite("bun", ["--repl-diskless-sync-delay", "0"]);
    const pc = await conn(p);
    await writeDataset(pc, { seed: 21, keysPerDb: 30 });
    const deno = await startRespite("deno", ["--replicaof", `127.0.0.1 ${p.port}`]);
    const node = await startRespite("node", ["--replicaof", `127.0.0.1 ${p.port}`, "--repl-diskless-sync-delay", "0"]);
    const dc = await conn(deno);
    const nc = await conn(node);
    await synced(pc, dc, nc);
    // The stream the Node replica applies has db 3 selected when the chained replica syncs from it, and the next
    // write comes without a SELECT: the RDB it is sent must say so (repl-stream-db).
    await pc.call("SELECT", 3);
    await pc.call("SET", "rr:db3", "before");
    await synced(pc, dc, nc);
    // A replica of the Node replica: it gets what Node receives.
    const chained = await startRespite("bun", ["--replicaof", `127.0.0.1 ${node.port}`]);
    const cc = await conn(chained);
    try {
      await until(async () => (await info(cc, "replication")).get("master_link_status") === "up", () => "the chained replica up", 60_000, 50);
      await pc.call("SET", "rr:db3", "after");
      await pc.call("SELECT", 0);
      await send(pc, writeStream(4, 1500, "rr"));
      await synced(pc, dc, nc);
      assert.equal(text(await pc.call("CLIENT", "KILL", "TYPE", "replica")), ":2\r\n");
      await send(pc, writeStream(5, 500, "rs"));
      await synced(pc, dc, nc);
      assert.deepEqual(await stats(pc), { full: 2, ok: 2, err: 0 });
      await until(async () =>
        (await info(cc, "replication")).get("slave_repl_offset") === (await info(nc, "replication")).get("slave_repl_offset"), () => "the chained replica in sync", 60_000, 50);
      const want = await readDataset(pc);
      assert.ok(keyCount(want) > 400);
      const digest = text(await pc.call("DEBUG", "DIGEST"));
      for (const [name, c] of [["deno", dc], ["node", nc], ["chained", cc]] as const) {
        // The primary read again beside each replica: its PTTLs are then seconds apart, not three reads.
        await t.test(`the ${name} replica`, async () => {
          same(await readDataset(c), await readDataset(pc));
          assert.equal(text(await c.call("DEBUG", "DIGEST")), digest);
        });
      }
    } finally {
      await shutdown([pc, dc, nc, cc], [chained, node, deno, p]);
    }
  });
});
