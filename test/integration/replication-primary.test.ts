/**
 * Respite as a primary, served to real redis-server 7.0.15 replicas
 * (`redis-server --replicaof 127.0.0.1 <respite port>`) on every runtime:
 * full sync of the random dataset of every type (diskless EOF form and disk
 * form), a write stream of every family (expiries, MULTI/EXEC, scripts,
 * served blocking pops, SELECT, SWAPDB, FLUSHDB, active expiry DELs), the
 * link cut and restored with a partial resync (+CONTINUE), and both sides
 * compared key by key with DEBUG DIGEST. Also the raw protocol (SYNC,
 * PSYNC, REPLCONF), WAIT, min-replicas NOREPLICAS, the replica output
 * buffer limit, repl-timeout, and ROLE / INFO # Replication next to a
 * redis-server primary with the same replica. Every scenario runs against
 * redis-server as the primary too (RESPITE_RUNTIMES=redis).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { RawConnection } from "../lib/raw.ts";
import { encodeCommand } from "../../core/resp/decoder.ts";
import { decode } from "../lib/keyspace.ts";
import { type ServerHandle, startRedis } from "../lib/servers.ts";
import { assertSameDataset, expectNoErrors, keyCount, readDataset, writeDataset } from "../lib/rdb-dataset.ts";
import { type Cmd, rng } from "../lib/diff.ts";
import { info, sleep, startTarget, targets, until } from "../lib/targets.ts";

const PRIMARY_ARGS = ["--repl-diskless-sync-delay", "0"];

const started: ServerHandle[] = [];
after(async () => {
  for (const s of started) await s.stop();
});

async function primary(t: ReturnType<typeof targets>[number], extra: string[] = []): Promise<ServerHandle> {
  const s = await startTarget(t, [...PRIMARY_ARGS, ...extra]);
  started.push(s);
  return s;
}

async function replicaOf(port: number, extra: string[] = []): Promise<ServerHandle> {
  const s = await startRedis(["--replicaof", "127.0.0.1", String(port), ...extra]);
  started.push(s);
  return s;
}

/** Waits until a redis-server replica has its link up and no sync in progress. */
async function linked(conn: RawConnection, server: ServerHandle, primary?: ServerHandle): Promise<void> {
  let f = new Map<string, string>();
  await until(async () => {
    f = await info(conn, "replication");
    return f.get("master_link_status") === "up" && f.get("master_sync_in_progress") === "0";
  }, () => `replica link: ${JSON.stringify([...f])}\n${server.output().slice(-1500)}\nprimary:\n${primary?.output().slice(-1500)}`, 30_000, 50);
}

/** Runs a test body; a failure carries the last log lines of every server the file started. */
function logged(body: () => Promise<void>): () => Promise<void> {
  return async () => {
    const first = started.length;
    try {
      await body();
    } catch (e) {
      const logs = started.slice(first).map((s) => `---- port ${s.port}\n${s.output().slice(-2500)}`).join("\n");
      if (e instanceof Error) e.message += `\n${logs}`;
      throw e;
    }
  };
}

/** WAIT n 0 answered n: every replica has acknowledged the stream so far. */
async function acked(conn: RawConnection, n: number): Promise<void> {
  assert.equal(decode(await conn.call("WAIT", n, 20_000)), n);
}

const b = (s: string) => Buffer.from(s, "latin1");

/** A write stream of every family, with what propagates as something else (rewrites, scripts, transactions). */
function writeStream(seed: number): Cmd[][] {
  const r = rng(seed);
  const batches: Cmd[][] = [];
  for (let round = 0; round < 20; round++) {
    const n = Math.floor(r() * 1_000_000);
    const db = round % 3;
    batches.push([
      ["SELECT", db],
      ["SET", `s:${round}`, `v${n}`, "EX", 1000 + round],
      ["SET", b(`bin:\0\r\n${round}`), b(`\xff\x00${n}`), "PX", 900_000],
      ["INCR", "counter"],
      // Never integral: a primary keeps INCRBYFLOAT's "12" as embstr, a replica loads SET's "12" as int (Redis too).
      ["SET", "float", "0.25", "NX"],
      ["INCRBYFLOAT", "float", "1.5"],
      ["APPEND", "app", `${n},`],
      ["SETRANGE", "range", round, "x"],
      ["GETEX", `s:${round}`, "PX", 500_000],
      ["RPUSH", "list", n, n + 1, n + 2],
      ["LPOP", "list"],
      ["LMOVE", "list", "list2", "LEFT", "RIGHT"],
      ["HSET", "hash", `f${round}`, n, "g", round],
      ["HINCRBYFLOAT", "hash", "float", "0.25"],
      ["HDEL", "hash", "g"],
      ["SADD", "set", n, n + 1, `m${round}`],
      ["SPOP", "set"],
      ["SREM", "set", n + 1],
      ["SINTERSTORE", "inter", "set", "set"],
      ["ZADD", "zset", n, `m${round}`, round, `r${round}`],
      ["ZINCRBY", "zset", 2.5, `r${round}`],
      ["ZPOPMIN", "zset"],
      ["ZUNIONSTORE", "zu", 1, "zset"],
      ["EXPIRE", "hash", 10_000 + round],
      ["PEXPIREAT", "list2", Date.now() + 3_600_000],
      ["PERSIST", "list2"],
      ["SET", `short:${round}`, "gone", "PX", 20],
      ["MULTI"],
      ["INCRBY", "counter", 10],
      ["SELECT", (db + 1) % 3],
      ["LPUSH", "tx", round],
      ["EXEC"],
      ["SELECT", db],
      ["EVAL", "redis.call('SET', KEYS[1], ARGV[1]); redis.call('INCR', KEYS[2]); return redis.call('SPOP', KEYS[3])", 3, `script:${round}`, "counter", "set", "scripted"],
      ["COPY", "hash", `hcopy:${round}`, "DB", 5, "REPLACE"],
      ["RENAME", "range", `range:${round}`],
      ["GETDEL", `range:${round}`],
    ]);
  }
  batches.push([["SELECT", 7], ["SET", "a", 1], ["SET", "b", 2], ["SWAPDB", 7, 8], ["SELECT", 9], ["SET", "x", 1], ["FLUSHDB"], ["SELECT", 0]]);
  return batches;
}

async function runStream(conn: RawConnection, seed: number, port: number): Promise<void> {
  // A blocked pop served by a push from another client propagates as the pop.
  const blocker = await RawConnection.connect(port);
  blocker.write(Buffer.from("*3\r\n$5\r\nBLPOP\r\n$7\r\nblocked\r\n$1\r\n0\r\n"));
  await sleep(50);
  for (const batch of writeStream(seed)) {
    const replies = (await conn.pipeline(batch)).map(decode);
    replies.forEach((v, i) => {
      if (v instanceof Error) assert.fail(`${batch[i].slice(0, 2).join(" ")}: ${v.message}`);
    });
  }
  await expectNoErrors(conn, [["RPUSH", "blocked", "a", "b"]]);
  await blocker.readReplies(1);
  blocker.close();
  // The short keys expire on the primary (active expiry or this lookup), which sends DEL.
  await sleep(300);
  for (let round = 0; round < 20; round++) await conn.pipeline([["SELECT", round % 3], ["EXISTS", `short:${round}`]]);
  await conn.call("SELECT", 0);
}

async function sameData(primaryConn: RawConnection, replicaConn: RawConnection, logs?: ServerHandle[]): Promise<void> {
  try {
    await sameDataNow(primaryConn, replicaConn);
  } catch (e) {
    if (logs) (e as Error).message += "\n" + logs.map((s) => s.output().slice(-3000)).join("\n----\n");
    throw e;
  }
}

async function sameDataNow(primaryConn: RawConnection, replicaConn: RawConnection): Promise<void> {
  const want = await readDataset(primaryConn);
  const got = await readDataset(replicaConn);
  assert.ok(keyCount(want) > 100, `dataset has ${keyCount(want)} keys`);
  // PEXPIRETIME is compared exactly; PTTL only moves with the time between the two reads (slow on a loaded machine).
  assertSameDataset(got, want, { pttlToleranceMs: 120_000 });
  assert.ok(want.digest !== null && got.digest === want.digest, `digests ${got.digest} vs ${want.digest}`);
  // DBSIZE counts keys a replica holds expired (it hides them, never expires them): equal only when the primary's DELs arrived.
  const sizes = async (c: RawConnection) => {
    const cmds: Cmd[] = [];
    for (let db = 0; db < 16; db++) cmds.push(["SELECT", db], ["DBSIZE"]);
    const r = (await c.pipeline([...cmds, ["SELECT", 0]])).map(decode);
    return r.filter((_, i) => i % 2 === 1 && i < 32);
  };
  assert.deepEqual(await sizes(replicaConn), await sizes(primaryConn));
}

/** A raw socket that collects everything the server sends. */
class Tap {
  data = Buffer.alloc(0);
  closed = false;
  private constructor(readonly sock: net.Socket) {
    sock.on("data", (d) => (this.data = Buffer.concat([this.data, d])));
    sock.on("close", () => (this.closed = true));
    sock.on("error", () => {});
  }

  static open(port: number): Promise<Tap> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => resolve(new Tap(s)));
      s.once("error", reject);
    });
  }

  send(...cmds: string[][]): void {
    this.sock.write(cmds.map((c) => `*${c.length}\r\n` + c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")).join(""));
  }

  text(): string {
    return this.data.toString("latin1");
  }

  async has(what: string | RegExp, timeoutMs = 15_000): Promise<void> {
    await until(() => (typeof what === "string" ? this.text().includes(what) : what.test(this.text())), () => `tap waits for ${what}; has ${JSON.stringify(this.text().slice(0, 300))}...${JSON.stringify(this.text().slice(-300))}`, timeoutMs);
  }
}

for (const t of targets(false)) {
  describe(`replication primary: ${t}`, { concurrency: false }, () => {
    it("redis-server replicas: full sync (diskless and disk), write stream, partial resync after a cut, same data", logged(async () => {
      const p = await primary(t);
      const pc = await RawConnection.connect(p.port);
      const keys = await writeDataset(pc, { seed: 1301, keysPerDb: 30 });
      assert.ok(keys > 400);
      // Diskless (repl-diskless-sync yes, the default): the EOF-marker form.
      const r1 = await replicaOf(p.port);
      const rc1 = await RawConnection.connect(r1.port);
      await linked(rc1, r1, p);
      assert.match(r1.output(), /receiving streamed RDB from master with EOF/);
      await acked(pc, 1);
      await sameData(pc, rc1, [p, r1]);

      // The disk form: $<length> then the file.
      await expectNoErrors(pc, [["CONFIG", "SET", "repl-diskless-sync", "no"]]);
      const r2 = await replicaOf(p.port);
      const rc2 = await RawConnection.connect(r2.port);
      await linked(rc2, r2);
      assert.match(r2.output(), /receiving \d+ bytes from master to disk/);

      await runStream(pc, 77, p.port);
      await acked(pc, 2);
      await sameData(pc, rc1, [p, r1]);
      await sameData(pc, rc2, [p, r2]);

      // The link cut: the replica comes back with PSYNC and continues from the backlog.
      const before = await info(pc, "stats");
      await expectNoErrors(rc1, [["CLIENT", "KILL", "TYPE", "master"]]);
      await runStream(pc, 78, p.port);
      await linked(rc1, r1);
      await until(async () => (await info(pc, "replication")).get("connected_slaves") === "2", () => "replica back", 20_000);
      const afterCut = await info(pc, "stats");
      assert.equal(Number(afterCut.get("sync_partial_ok")), Number(before.get("sync_partial_ok")) + 1);
      assert.equal(afterCut.get("sync_full"), before.get("sync_full"));
      assert.match(r1.output(), /Successful partial resynchronization with master/);
      await acked(pc, 2);
      await sameData(pc, rc1, [p, r1]);
      await sameData(pc, rc2, [p, r2]);
      for (const c of [pc, rc1, rc2]) c.close();
      for (const s of [r1, r2, p]) await s.stop();
    }));

    it("SYNC and PSYNC on a raw socket: disk and EOF forms, +CONTINUE, the stream with SELECT, REPLCONF", logged(async () => {
      const p = await primary(t);
      const pc = await RawConnection.connect(p.port);
      await expectNoErrors(pc, [["SET", "k", "v"], ["SELECT", 3], ["SET", "k3", "v3"], ["SELECT", 0]]);
      // The old SYNC: no +FULLRESYNC line, the RDB as a bulk of known length, then the stream.
      const sync = await Tap.open(p.port);
      sync.send(["SYNC"]);
      await sync.has(/^\n*\$\d+\r\nREDIS0010/);
      const m = /^\n*\$(\d+)\r\n/.exec(sync.text())!;
      const rdbEnd = m[0].length + Number(m[1]);
      await until(() => sync.data.length >= rdbEnd, () => "whole RDB");
      const rdb = sync.data.subarray(m[0].length, rdbEnd).toString("latin1");
      assert.ok(rdb.includes("repl-id") && rdb.includes("k3") && rdb.includes("v3"), "the RDB holds the keys and the replication aux fields");
      await expectNoErrors(pc, [["SELECT", 2], ["SET", "after", "sync"], ["SELECT", 0]]);
      await sync.has("*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$4\r\nsync\r\n");

      // PSYNC with capa eof and the diskless default: +FULLRESYNC <replid> <offset>, then $EOF:<40 bytes>.
      // Pipelined behind replies not sent yet, PSYNC is refused.
      const early = await Tap.open(p.port);
      early.send(["REPLCONF", "capa", "eof"], ["PSYNC", "?", "-1"]);
      await early.has("+OK\r\n-ERR SYNC and PSYNC are invalid with pending output\r\n");
      const full = await Tap.open(p.port);
      full.send(["REPLCONF", "listening-port", "4444"], ["REPLCONF", "capa", "eof", "capa", "psync2"]);
      await full.has("+OK\r\n+OK\r\n");
      full.send(["PSYNC", "?", "-1"]);
      await full.has(/^\+OK\r\n\+OK\r\n\+FULLRESYNC [0-9a-f]{40} \d+\r\n\n*\$EOF:[0-9a-zA-Z]{40}\r\nREDIS0010/);
      const [, replid, offset] = /\+FULLRESYNC ([0-9a-f]{40}) (\d+)/.exec(full.text())!;
      const mark = /\$EOF:(\S{40})\r\n/.exec(full.text())![1];
      await full.has(new RegExp(`REDIS0010[\\s\\S]*${mark}`));
      const repl = await info(pc, "replication");
      assert.equal(repl.get("master_replid"), replid);
      assert.match(repl.get("slave1") ?? repl.get("slave0") ?? "", /port=4444/);

      // A second link continuing from the announced point: +CONTINUE <replid> and everything since.
      const cont = await Tap.open(p.port);
      cont.send(["REPLCONF", "capa", "psync2"]);
      await cont.has("+OK\r\n");
      cont.send(["PSYNC", replid, String(Number(offset) + 1)]);
      await cont.has(`+OK\r\n+CONTINUE ${replid}\r\n`);
      await expectNoErrors(pc, [["SET", "late", "1"]]);
      await cont.has("*3\r\n$3\r\nSET\r\n$4\r\nlate\r\n$1\r\n1\r\n");
      // Without psync2: +CONTINUE alone. An unknown id: a full sync.
      const old = await Tap.open(p.port);
      old.send(["PSYNC", replid, String(Number(offset) + 1)]);
      await old.has(/^\+CONTINUE\r\n/);
      const wrong = await Tap.open(p.port);
      wrong.send(["REPLCONF", "capa", "eof"]);
      await wrong.has("+OK\r\n");
      wrong.send(["PSYNC", "0123456789012345678901234567890123456789", "5"]);
      await wrong.has(/^\+OK\r\n\+FULLRESYNC /);
      // Replicas are clients of type replica, flag S.
      const listed = (await pc.call("CLIENT", "LIST", "TYPE", "replica")).toString("latin1");
      assert.ok(listed.split("\n").filter((l) => l.includes("flags=S ")).length >= 4, listed);
      // REPLCONF errors as Redis's.
      assert.equal((await pc.call("REPLCONF", "listening-port")).toString(), "-ERR syntax error\r\n");
      assert.equal((await pc.call("REPLCONF", "bogus", "1")).toString(), "-ERR Unrecognized REPLCONF option: bogus\r\n");
      assert.equal((await pc.call("REPLCONF", "listening-port", "x")).toString(), "-ERR value is not an integer or out of range\r\n");
      // The stream pings its replicas: each gets ping in the stream (period 1s here).
      await expectNoErrors(pc, [["CONFIG", "SET", "repl-ping-replica-period", "1"]]);
      await cont.has("*1\r\n$4\r\nping\r\n");
      for (const x of [sync, early, full, cont, old, wrong]) x.sock.destroy();
      // (Redis 7 keeps what a replica has not been sent yet in its backlog: none is left here.)
      await until(async () => (await info(pc, "replication")).get("connected_slaves") === "0", () => "taps gone");
      // A backlog too small for the gap: the partial resync is refused, a full one follows.
      const before = await info(pc, "stats");
      await expectNoErrors(pc, [["CONFIG", "SET", "repl-backlog-size", "16384"]]);
      for (let i = 0; i < 200; i++) await expectNoErrors(pc, [["SET", `filler${i}`, "f".repeat(1000)]]);
      const gap = await Tap.open(p.port);
      gap.send(["PSYNC", replid, String(Number(offset) + 1)]);
      await gap.has(/^\+FULLRESYNC /);
      const afterGap = await info(pc, "stats");
      assert.equal(Number(afterGap.get("sync_partial_err")), Number(before.get("sync_partial_err")) + 1);
      assert.equal(Number(afterGap.get("sync_full")), Number(before.get("sync_full")) + 1);
      const backlog = await info(pc, "replication");
      // Redis 7 trims its backlog in blocks of 16 KB: at least the size is kept, far less than was written.
      const histlen = Number(backlog.get("repl_backlog_histlen"));
      assert.ok(histlen >= 16384 && histlen < 100_000, `histlen ${histlen}`);
      assert.equal(Number(backlog.get("repl_backlog_first_byte_offset")) + histlen - 1, Number(backlog.get("master_repl_offset")));
      gap.sock.destroy();
      // repl-diskless-sync-delay: replicas arriving within it share one transfer (the same EOF mark).
      await expectNoErrors(pc, [["CONFIG", "SET", "repl-diskless-sync-delay", "1"]]);
      const d1 = await Tap.open(p.port);
      const d2 = await Tap.open(p.port);
      for (const d of [d1, d2]) {
        d.send(["REPLCONF", "capa", "eof"]);
        await d.has("+OK\r\n");
        d.send(["PSYNC", "?", "-1"]);
      }
      // Waiting for the delay, each gets a newline a second, as from Redis.
      const eof = /^\+OK\r\n\n*\+FULLRESYNC [0-9a-f]{40} (\d+)\r\n\n*\$EOF:(\S{40})\r\n/;
      await d1.has(eof);
      await d2.has(eof);
      assert.deepEqual(eof.exec(d1.text())!.slice(1), eof.exec(d2.text())!.slice(1));
      d1.sock.destroy();
      d2.sock.destroy();
      pc.close();
      await p.stop();
    }));

    it("WAIT, min-replicas-to-write NOREPLICAS, ROLE and INFO # Replication next to a redis-server primary", logged(async () => {
      const p = await primary(t);
      const pc = await RawConnection.connect(p.port);
      // No replicas: WAIT answers 0 at its timeout.
      assert.equal(decode(await pc.call("WAIT", 1, 50)), 0);
      assert.equal((await pc.call("WAIT", "x", 0)).toString(), "-ERR value is not an integer or out of range\r\n");
      assert.equal((await pc.call("WAIT", 1, -1)).toString(), "-ERR timeout is negative\r\n");
      await expectNoErrors(pc, [["CONFIG", "SET", "min-replicas-to-write", "1"]]);
      assert.equal((await pc.call("SET", "x", "1")).toString(), "-NOREPLICAS Not enough good replicas to write.\r\n");
      assert.equal((await pc.call("GET", "x")).toString(), "$-1\r\n");
      const r = await replicaOf(p.port, ["--replica-announce-ip", "10.1.2.3"]);
      const rc = await RawConnection.connect(r.port);
      await linked(rc, r);
      await until(async () => (await pc.call("SET", "x", "1")).toString() === "+OK\r\n", () => "writes accepted with a good replica", 10_000, 100);
      assert.equal(decode(await pc.call("WAIT", 1, 0)), 1);
      // More than there are: the timeout answers how many acknowledged.
      assert.equal(decode(await pc.call("WAIT", 2, 200)), 1);

      // The same topology with redis-server as the primary, for the shapes.
      const rp = await startRedis(PRIMARY_ARGS);
      started.push(rp);
      const rpc = await RawConnection.connect(rp.port);
      await expectNoErrors(rpc, [["CONFIG", "SET", "min-replicas-to-write", "1"]]);
      const rr = await replicaOf(rp.port, ["--replica-announce-ip", "10.1.2.3"]);
      const rrc = await RawConnection.connect(rr.port);
      await linked(rrc, rr);
      await until(async () => (await rpc.call("SET", "x", "1")).toString() === "+OK\r\n", () => "redis accepts writes", 10_000, 100);
      assert.equal(decode(await rpc.call("WAIT", 1, 0)), 1);
      await acked(pc, 1);
      await acked(rpc, 1);
      // The replica's client is counted apart from the normal ones, in INFO and MEMORY STATS (redis-server 7.0.15 shows
      // 0: it counts only clients it may evict; test/DIFFERENCES.md).
      {
        const conn = pc;
        const mem = await info(conn, "memory");
        assert.ok(Number(mem.get("mem_clients_slaves")) > 0, `mem_clients_slaves ${mem.get("mem_clients_slaves")}`);
        const stats = decode(await conn.call("MEMORY", "STATS")) as unknown[];
        const at = stats.findIndex((x) => x instanceof Uint8Array && Buffer.from(x).toString() === "clients.slaves");
        assert.ok((stats[at + 1] as number) > 0);
      }

      const ours = await info(pc, "replication");
      const theirs = await info(rpc, "replication");
      assert.deepEqual([...ours.keys()], [...theirs.keys()]);
      const shape = (line: string) => line.replace(/port=\d+/, "port=P").replace(/offset=\d+/, "offset=O").replace(/lag=\d+/, "lag=L");
      assert.equal(shape(ours.get("slave0")!), shape(theirs.get("slave0")!));
      assert.match(ours.get("slave0")!, /^ip=10\.1\.2\.3,port=\d+,state=online,offset=\d+,lag=\d+$/);
      // The replica's next ACK (once a second) covers everything, the GETACK of the WAIT included.
      await until(async () => {
        const f = await info(pc, "replication");
        return f.get("slave0")!.match(/offset=(\d+)/)![1] === f.get("master_repl_offset");
      }, () => "slave0 offset reaches master_repl_offset", 10_000, 100);
      for (const f of ["role", "connected_slaves", "min_slaves_good_slaves", "master_failover_state", "master_replid2", "second_repl_offset", "repl_backlog_active", "repl_backlog_size", "repl_backlog_first_byte_offset"]) {
        assert.equal(ours.get(f), theirs.get(f), f);
      }
      assert.equal(ours.get("repl_backlog_histlen"), ours.get("master_repl_offset"));
      const role = decode(await pc.call("ROLE")) as unknown[];
      const theirRole = decode(await rpc.call("ROLE")) as unknown[];
      assert.equal(Buffer.from(role[0] as Uint8Array).toString(), "master");
      assert.equal(role[1], Number(ours.get("master_repl_offset")));
      const entry = (role[2] as Uint8Array[][]).map((e) => e.map((x) => Buffer.from(x).toString()));
      const theirEntry = (theirRole[2] as Uint8Array[][]).map((e) => e.map((x) => Buffer.from(x).toString()));
      assert.equal(entry.length, 1);
      assert.equal(entry[0][0], theirEntry[0][0]);
      assert.equal(entry[0][1], String(r.port));
      assert.equal(entry[0][2], String(role[1]));
      // WAIT waits for the client's own last write: with the replicas stopped, a client that wrote gets 0 at its
      // timeout, one that never wrote gets 1 at once, on both primaries.
      for (const s of [r, rr]) s.process.kill("SIGSTOP");
      try {
        for (const [writer, port] of [[pc, p.port], [rpc, rp.port]] as const) {
          assert.equal((await writer.call("SET", "w", "1")).toString(), "+OK\r\n");
          const idle = await RawConnection.connect(port);
          assert.equal(decode(await idle.call("WAIT", 1, 100)), 1);
          assert.equal(decode(await writer.call("WAIT", 1, 100)), 0);
          idle.close();
        }
      } finally {
        for (const s of [r, rr]) s.process.kill("SIGCONT");
      }
      // The replica gone: connected_slaves back to 0, writes refused again once it is no longer good.
      await r.stop();
      await until(async () => (await info(pc, "replication")).get("connected_slaves") === "0", () => "replica gone", 15_000);
      assert.equal((await pc.call("SET", "y", "1")).toString(), "-NOREPLICAS Not enough good replicas to write.\r\n");
      for (const c of [pc, rc, rpc, rrc]) c.close();
      for (const s of [rr, rp, p]) await s.stop();
    }));

    it("SHUTDOWN waits for lagging replicas up to shutdown-timeout, holding writes; ABORT; NOW; as redis-server", logged(async () => {
      /** One primary's story with a stopped replica; what clients saw and what it logged, comparable across servers. */
      const story = async (p: ServerHandle) => {
        const seen: string[] = [];
        const pc = await RawConnection.connect(p.port);
        const r = await replicaOf(p.port);
        await linked(await RawConnection.connect(r.port), r, p);
        await acked(pc, 1);
        r.process.kill("SIGSTOP");
        try {
          assert.equal((await pc.call("SET", "k", "1")).toString(), "+OK\r\n");
          // SHUTDOWN waits: another SHUTDOWN joins it, writes are held, reads are served.
          const first = await RawConnection.connect(p.port);
          first.write(encodeCommand(["SHUTDOWN"]));
          const second = await RawConnection.connect(p.port);
          await until(() => p.output().includes("Waiting for replicas before shutting down."), () => p.output(), 5_000);
          second.write(encodeCommand(["SHUTDOWN", "NOSAVE"]));
          const writer = await RawConnection.connect(p.port);
          writer.write(encodeCommand(["SET", "k", "2"]));
          seen.push((await pc.call("GET", "k")).toString());
          seen.push(`held write still waits: ${await writer.readReplies(1, 300).then(() => false, () => true)}`);
          // ABORT: the waiting SHUTDOWNs get their error, the held write runs.
          seen.push((await pc.call("SHUTDOWN", "ABORT")).toString());
          seen.push((await first.readReplies(1))[0].toString(), (await second.readReplies(1))[0].toString());
          seen.push((await writer.readReplies(1))[0].toString());
          seen.push((await pc.call("SHUTDOWN", "ABORT")).toString());
          assert.match(p.output(), /Shutdown manually aborted\./);
          // The deadline passes with the replica still stopped: the server exits, naming the lagging replica.
          await expectNoErrors(pc, [["CONFIG", "SET", "shutdown-timeout", "1"]]);
          pc.write(encodeCommand(["SHUTDOWN", "NOSAVE"]));
          await pc.untilClosed(10_000);
          await until(() => p.process.exitCode !== null, () => "exited", 10_000);
          const out = p.output();
          seen.push(...["Lagging replica 127.0.0.1:\\d+ reported offset \\d+ behind master, lag=\\d+, state=online\\.", "0 of 1 replicas are in sync when shutting down\\."]
            .map((re) => `${re}: ${new RegExp(re).test(out)}`));
          for (const c of [first, second, writer]) c.close();
        } finally {
          r.process.kill("SIGCONT");
        }
        return seen;
      };
      const mine = await story(await primary(t, ["--save", ""]));
      const theirs = await story(await primary("redis", ["--save", ""]));
      assert.deepEqual(mine, theirs);
      assert.ok(mine.every((line) => !line.endsWith(": false")), mine.join("\n"));

      // SHUTDOWN NOW does not wait.
      const p = await primary(t, ["--save", ""]);
      const pc = await RawConnection.connect(p.port);
      const r = await replicaOf(p.port);
      await linked(await RawConnection.connect(r.port), r, p);
      r.process.kill("SIGSTOP");
      try {
        await pc.call("SET", "k", "1");
        pc.write(encodeCommand(["SHUTDOWN", "NOW"]));
        await pc.untilClosed(5_000);
        assert.doesNotMatch(p.output(), /Waiting for replicas/);
      } finally {
        r.process.kill("SIGCONT");
      }
    }));

    it("a replica that stops reading is dropped at client-output-buffer-limit replica; a silent one at repl-timeout", logged(async () => {
      const p = await primary(t, ["--repl-diskless-sync", "no"]);
      const pc = await RawConnection.connect(p.port);
      await expectNoErrors(pc, [["CONFIG", "SET", "client-output-buffer-limit", "replica 1mb 0 0"]]);
      const stuck = await Tap.open(p.port);
      stuck.send(["PSYNC", "?", "-1"]);
      await stuck.has(/^\+FULLRESYNC/);
      await until(async () => (await info(pc, "replication")).get("slave0")?.includes("state=online") ?? false, () => "online", 15_000);
      stuck.sock.pause();
      const big = "x".repeat(1024 * 1024);
      for (let i = 0; i < 40 && (await info(pc, "replication")).get("connected_slaves") !== "0"; i++) {
        await expectNoErrors(pc, [["SET", `big${i}`, big]]);
      }
      await until(async () => (await info(pc, "replication")).get("connected_slaves") === "0", () => "dropped", 15_000);
      await until(() => /for overcoming of output buffer limits/.test(p.output()), () => "the log line", 5_000);
      stuck.sock.destroy();

      // repl-timeout: a replica that never sends REPLCONF ACK is dropped.
      await expectNoErrors(pc, [["CONFIG", "SET", "repl-timeout", "1"], ["CONFIG", "SET", "client-output-buffer-limit", "replica 0 0 0"]]);
      const silent = await Tap.open(p.port);
      silent.send(["PSYNC", "?", "-1"]);
      await silent.has(/^\+FULLRESYNC/);
      await until(() => silent.closed, () => "the silent replica closed", 20_000, 100);
      assert.match(p.output(), /Disconnecting timedout replica/);
      assert.equal((await info(pc, "replication")).get("connected_slaves"), "0");
      pc.close();
      await p.stop();
    }));
  });
}
