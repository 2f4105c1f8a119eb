/**
 * RDB persistence, black-box, on every runtime (and the compiled binary for
 * save/load): a dump.rdb written by redis-server 7.0.15 loads with every key,
 * value, TTL and encoding equal, ours passes redis-check-rdb and loads into
 * redis-server; SAVE/BGSAVE/LASTSAVE, INFO persistence, save points, dir and
 * dbfilename, rdbcompression/rdbchecksum, MISCONF, SHUTDOWN and signals,
 * DEBUG RELOAD, startup log lines, -LOADING, a point-in-time BGSAVE under
 * writes, the logo banner. Every scenario also passes against redis-server
 * itself (RESPITE_RUNTIMES=redis), which is how the tests were checked.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RawConnection } from "../lib/raw.ts";
import { decode, loadOneLiners } from "../lib/keyspace.ts";
import { type ServerHandle, startRedis, tmpDir } from "../lib/servers.ts";
import { assertSameDataset, type Dataset, keyCount, readDataset, writeDataset } from "../lib/rdb-dataset.ts";
import {
  bgsaveDone, checkRdb, connectLoaded, exited, info, sleep, startTarget, type Target, targets, until,
} from "../lib/targets.ts";

const REDIS_DUMP_SEED = 11;
const LOADING_KEYS = 1_500_000;

/** A file written by redis-server from the random dataset, what redis-server reads back from it, and when. */
let redisDump = "";
let redisDumpKeys = 0;
let fromRedis: Dataset;
let fromRedisAt = 0;
/** A big dump.rdb (redis-server's DEBUG POPULATE) that takes a while to load. */
let bigDump = "";

before(async () => {
  const dir = tmpDir();
  const redis = await startRedis(["--dir", dir]);
  try {
    const conn = await RawConnection.connect(redis.port);
    await writeDataset(conn, { seed: REDIS_DUMP_SEED });
    assert.equal((await conn.call("SAVE")).toString(), "+OK\r\n");
    redisDump = path.join(dir, "redis-made.rdb");
    fs.copyFileSync(path.join(dir, "dump.rdb"), redisDump);
    // What redis-server itself makes of the file is the reference (encodings as loaded).
    assert.equal((await conn.call("DEBUG", "RELOAD")).toString(), "+OK\r\n");
    fromRedis = await readDataset(conn);
    fromRedisAt = Date.now();
    redisDumpKeys = keyCount(fromRedis);
    await conn.call("FLUSHALL");
    await conn.call("DEBUG", "POPULATE", LOADING_KEYS, "big", 16);
    assert.equal((await conn.call("SAVE")).toString(), "+OK\r\n");
    bigDump = path.join(dir, "big.rdb");
    fs.renameSync(path.join(dir, "dump.rdb"), bigDump);
    conn.close();
  } finally {
    await redis.stop();
  }
});

/** A fresh dir holding a copy of file as dump.rdb. */
function dirWith(file: string, name = "dump.rdb"): string {
  const dir = tmpDir();
  fs.copyFileSync(file, path.join(dir, name));
  return dir;
}

const ok = async (conn: RawConnection, ...cmd: Array<string | number>) => assert.equal((await conn.call(...cmd)).toString(), "+OK\r\n", cmd.join(" "));
/** An array reply's elements as binary strings. */
const strings = (v: unknown): string[] => (v as Uint8Array[]).map((b) => Buffer.from(b).toString("latin1"));
const reply = async (conn: RawConnection, ...cmd: Array<string | number | Buffer>) => (await conn.call(...cmd)).toString("latin1");

/** Starts redis-server on dir/name and reads everything back. */
async function readWithRedis(dir: string, name = "dump.rdb"): Promise<{ data: Dataset; output: string }> {
  const redis = await startRedis(["--dir", dir, "--dbfilename", name]);
  try {
    const conn = await connectLoaded(redis);
    const data = await readDataset(conn);
    conn.close();
    return { data, output: redis.output() };
  } finally {
    await redis.stop();
  }
}

/** Runs body with a server of target t started with args, stopped afterwards. */
async function withServer<T>(t: Target, args: string[], body: (server: ServerHandle, conn: RawConnection) => Promise<T>): Promise<T> {
  const server = await startTarget(t, args);
  try {
    const conn = await connectLoaded(server);
    try {
      return await body(server, conn);
    } finally {
      conn.close();
    }
  } finally {
    await server.stop();
  }
}

const rdbOk = (file: string) => {
  const r = checkRdb(file);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /RDB looks OK/);
};

for (const t of targets(true)) {
  describe(`RDB save and load on ${t}`, () => {
    it("loads a dump.rdb written by redis-server: every key, type, value, TTL, encoding, digest, function", async () => {
      const dir = dirWith(redisDump);
      await withServer(t, ["--dir", dir], async (server, conn) => {
        const got = await readDataset(conn);
        assertSameDataset(got, fromRedis, { pttlToleranceMs: Date.now() - fromRedisAt + 5_000 });
        assert.equal(keyCount(got), redisDumpKeys);
        const log = server.output();
        assert.match(log, /Loading RDB produced by version 7\.0\.15/);
        assert.match(log, new RegExp(`Done loading RDB, keys loaded: ${redisDumpKeys}, keys expired: 0\\.`));
        assert.match(log, /DB loaded from disk: \d+\.\d+ seconds/);
        const f = await info(conn);
        assert.equal(f.get("rdb_last_load_keys_loaded"), String(redisDumpKeys));
        assert.equal(f.get("rdb_changes_since_last_save"), "0");
        assert.equal(f.get("loading"), "0");
      });
    });

    it("SAVE writes a file that passes redis-check-rdb and loads into redis-server with every key, value, TTL and encoding", async () => {
      const dir = tmpDir();
      const written = await withServer(t, ["--dir", dir, "--dbfilename", "ours.rdb"], async (_server, conn) => {
        await writeDataset(conn, { seed: 22 });
        const data = await readDataset(conn);
        await ok(conn, "SAVE");
        assert.equal((await info(conn)).get("rdb_changes_since_last_save"), "0");
        return { data, at: Date.now() };
      });
      const file = path.join(dir, "ours.rdb");
      rdbOk(file);
      const { data, output } = await readWithRedis(dir, "ours.rdb");
      assertSameDataset(data, written.data, { pttlToleranceMs: Date.now() - written.at + 5_000 });
      assert.match(output, /Loading RDB produced by version 7\.0\.15/);
      assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith("temp")).length, 0, "no temp file left behind");
    });
  });
}

for (const t of targets(false)) {
  describe(`RDB commands and configuration on ${t}`, () => {
    it("hash field deadlines make the file Redis 7.4's version 12, however the hash got its key; none keep 7.0's 10", async () => {
      const dir = tmpDir();
      const header = () => fs.readFileSync(path.join(dir, "dump.rdb")).subarray(0, 9).toString("latin1");
      await withServer(t, ["--dir", dir], async (_server, conn) => {
        assert.equal(await reply(conn, "HSET", "h", "a", "1", "b", "2"), ":2\r\n");
        await ok(conn, "SAVE");
        assert.equal(header(), "REDIS0010");
        assert.equal(await reply(conn, "HPEXPIRE", "h", 100_000, "FIELDS", 1, "a"), "*1\r\n:1\r\n");
        await ok(conn, "RENAME", "h", "h2");
        assert.equal(await reply(conn, "MOVE", "h2", 3), ":1\r\n");
        await ok(conn, "SAVE");
        assert.equal(header(), "REDIS0012");
      });
      await withServer(t, ["--dir", dir], async (_server, conn) => {
        await ok(conn, "SELECT", 3);
        const ttl = decode(await conn.call("HPTTL", "h2", "FIELDS", 2, "a", "b")) as number[];
        assert.ok(ttl[0] > 90_000 && ttl[0] <= 100_000, String(ttl));
        assert.equal(ttl[1], -1);
        // Loaded from the file, the hash is listed again: the next save is version 12 too.
        await ok(conn, "SAVE");
        assert.equal(header(), "REDIS0012");
      });
    });

    it("BGSAVE, LASTSAVE and the INFO persistence fields follow a save", async () => {
      const dir = tmpDir();
      await withServer(t, ["--dir", dir], async (_server, conn) => {
        let f = await info(conn);
        assert.equal(f.get("rdb_changes_since_last_save"), "0");
        assert.equal(f.get("rdb_bgsave_in_progress"), "0");
        assert.equal(f.get("rdb_last_bgsave_status"), "ok");
        assert.equal(f.get("rdb_last_bgsave_time_sec"), "-1");
        assert.equal(f.get("rdb_saves"), "0");
        const startSave = Number(f.get("rdb_last_save_time"));
        assert.equal(decode(await conn.call("LASTSAVE")), startSave);
        for (let i = 0; i < 5; i++) await ok(conn, "SET", `k${i}`, i);
        await conn.call("DEL", "k0", "nosuchkey");
        assert.equal((await info(conn)).get("rdb_changes_since_last_save"), "6");
        await sleep(1_100); // LASTSAVE has second resolution
        const before = Math.floor(Date.now() / 1000);
        assert.equal(await reply(conn, "BGSAVE"), "+Background saving started\r\n");
        f = await bgsaveDone(conn);
        assert.equal(f.get("rdb_last_bgsave_status"), "ok");
        assert.equal(f.get("rdb_changes_since_last_save"), "0");
        assert.equal(f.get("rdb_saves"), "1");
        assert.match(f.get("rdb_last_bgsave_time_sec")!, /^\d+$/);
        assert.equal(f.get("rdb_current_bgsave_time_sec"), "-1");
        const last = Number(f.get("rdb_last_save_time"));
        assert.ok(last >= before && last > startSave, `rdb_last_save_time ${last} >= ${before}`);
        assert.equal(decode(await conn.call("LASTSAVE")), last);
        rdbOk(path.join(dir, "dump.rdb"));
        await ok(conn, "SAVE");
        assert.equal((await info(conn)).get("rdb_saves"), "2");
        await ok(conn, "SET", "after", "x");
        assert.equal((await info(conn)).get("rdb_changes_since_last_save"), "1");
      });
      const { data } = await readWithRedis(dir);
      assert.deepEqual([...data.dbs[0].keys()].sort(), ["k1", "k2", "k3", "k4"]);
    });

    it("BGSAVE while one runs is refused (SCHEDULE too); inside MULTI it is scheduled and runs after EXEC", async () => {
      const dir = tmpDir();
      await withServer(t, ["--dir", dir], async (server, conn) => {
        await fill(server.port, "s", 100_000, 30);
        const replies = (await conn.pipeline([["BGSAVE"], ["BGSAVE"], ["BGSAVE", "SCHEDULE"], ["BGSAVE", "NOW"]])).map((b) => b.toString("latin1"));
        assert.deepEqual(replies, [
          "+Background saving started\r\n",
          "-ERR Background save already in progress\r\n",
          "-ERR Background save already in progress\r\n",
          "-ERR syntax error\r\n",
        ]);
        assert.equal((await bgsaveDone(conn)).get("rdb_saves"), "1");
        const tx = (await conn.pipeline([["MULTI"], ["BGSAVE"], ["EXEC"]])).map((b) => b.toString("latin1"));
        assert.deepEqual(tx, ["+OK\r\n", "+QUEUED\r\n", "*1\r\n+Background saving scheduled\r\n"]);
        let f = new Map<string, string>();
        await until(async () => (f = await info(conn)).get("rdb_saves") === "2" && f.get("rdb_bgsave_in_progress") === "0", () => `rdb_saves ${f.get("rdb_saves")}`, 30_000);
        assert.equal(f.get("rdb_last_bgsave_status"), "ok");
      });
      rdbOk(path.join(dir, "dump.rdb"));
    });

    it("a BGSAVE file is the dataset as it was when BGSAVE started, whatever clients do meanwhile", async () => {
      const dir = tmpDir();
      const N = 200_000;
      const H = 2_000;
      const original = (i: number) => `v${i}-${"p".repeat(40)}`;
      await withServer(t, ["--dir", dir], async (server, conn) => {
        await fill(server.port, "pit", N, 0, original);
        await loadOneLiners(server.port, Array.from({ length: H }, (_, i) => ["HSET", `pith:${i}`, "a", "1", "b", String(i)]));
        await loadOneLiners(server.port, Array.from({ length: H }, (_, i) => ["RPUSH", `pitl:${i}`, "x", String(i)]));
        const writer = await RawConnection.connect(server.port);
        // BGSAVE leads the first batch, so its writes follow it at once: change, delete, expire and create
        // keys in batches until the save ends.
        let during = 0;
        let batch = 0;
        for (;;) {
          const cmds: Array<Array<string | number>> = [];
          for (let j = 0; j < 100; j++) {
            const i = (batch * 7919 + j * 104729) % N;
            const h = (batch * 31 + j) % H;
            cmds.push(
              ["SET", `pit:${i}`, "changed"], ["DEL", `pit:${(i + 1) % N}`], ["PEXPIRE", `pit:${(i + 2) % N}`, 1], ["SET", `new:${batch}:${j}`, "x"],
              ["HSET", `pith:${h}`, "a", "changed", "c", "new"], ["RPUSH", `pitl:${h}`, "more"], ["DEL", `pitl:${(h + 1) % H}`],
            );
          }
          cmds.push(["INFO", "persistence"]);
          if (batch === 0) cmds.unshift(["BGSAVE"]);
          const replies = await writer.pipeline(cmds);
          if (batch === 0) assert.equal(replies[0].toString(), "+Background saving started\r\n");
          batch++;
          if (!/rdb_bgsave_in_progress:1/.test(replies[replies.length - 1].toString("latin1"))) break;
          during++;
          assert.ok(batch < 100_000, "BGSAVE never ended");
        }
        assert.ok(during > 0, "no write landed while BGSAVE ran (dataset too small to tell)");
        writer.close();
        const f = await bgsaveDone(conn);
        assert.equal(f.get("rdb_last_bgsave_status"), "ok");
        console.log(`# ${t}: ${during} batches of 700 writes landed while BGSAVE ran`);
      });
      const redis = await startRedis(["--dir", dir]);
      try {
        const conn = await connectLoaded(redis);
        assert.equal(decode(await conn.call("DBSIZE")), N + 2 * H, "keys created after BGSAVE started are absent, deleted ones present");
        for (let from = 0; from < N; from += 2_000) {
          const keys = Array.from({ length: 2_000 }, (_, j) => `pit:${from + j}`);
          const values = decode(await conn.call("MGET", ...keys)) as Uint8Array[];
          values.forEach((v, j) => assert.equal(v && Buffer.from(v).toString(), original(from + j), keys[j]));
        }
        const ttls = (await conn.pipeline(Array.from({ length: 1000 }, (_, i) => ["PTTL", `pit:${i * 199}`]))).map((b) => b.toString());
        assert.deepEqual(ttls.filter((x) => x !== ":-1\r\n"), [], "no key has a TTL");
        for (let h = 0; h < H; h += 97) {
          assert.deepEqual(strings(decode(await conn.call("HGETALL", `pith:${h}`))), ["a", "1", "b", String(h)]);
          assert.deepEqual(strings(decode(await conn.call("LRANGE", `pitl:${h}`, 0, -1))), ["x", String(h)]);
        }
        conn.close();
      } finally {
        await redis.stop();
      }
    });

    it("save points: a write starts a BGSAVE once `save 1 1` is due, from the command line or CONFIG SET", async () => {
      const dir = tmpDir();
      await withServer(t, ["--dir", dir, "--save", "1 1"], async (_server, conn) => {
        assert.deepEqual(strings(decode(await conn.call("CONFIG", "GET", "save"))), ["save", "1 1"]);
        await ok(conn, "SET", "a", "1");
        await until(() => fs.existsSync(path.join(dir, "dump.rdb")), () => "dump.rdb after save 1 1", 10_000);
        await bgsaveDone(conn);
        await ok(conn, "CONFIG", "SET", "save", "");
        await ok(conn, "SET", "b", "1");
        await sleep(2_500);
        assert.equal((await info(conn)).get("rdb_saves"), "1", "no save point, no save");
        await ok(conn, "CONFIG", "SET", "save", "1 1 3600 100");
        await until(async () => (await info(conn)).get("rdb_saves") === "2", () => "second save after CONFIG SET save", 10_000);
        await bgsaveDone(conn);
      });
      const { data } = await readWithRedis(dir);
      assert.deepEqual([...data.dbs[0].keys()].sort(), ["a", "b"]);
    });

    it("CONFIG SET dir and dbfilename take effect at the next SAVE, and a server started there loads it", async () => {
      const first = tmpDir();
      const second = tmpDir();
      await withServer(t, ["--dir", first, "--enable-protected-configs", "yes"], async (_server, conn) => {
        await ok(conn, "SET", "where", "first");
        await ok(conn, "SAVE");
        await ok(conn, "CONFIG", "SET", "dir", second);
        assert.deepEqual(strings(decode(await conn.call("CONFIG", "GET", "dir"))), ["dir", fs.realpathSync(second)]);
        await ok(conn, "SET", "where", "second");
        await ok(conn, "SAVE");
        await ok(conn, "CONFIG", "SET", "dbfilename", "renamed.rdb");
        await ok(conn, "SET", "where", "renamed");
        assert.equal(await reply(conn, "BGSAVE"), "+Background saving started\r\n");
        await bgsaveDone(conn);
        assert.match(await reply(conn, "CONFIG", "SET", "dbfilename", "sub/x.rdb"), /^-ERR CONFIG SET failed \(possibly related to argument 'dbfilename'\) - dbfilename can't be a path, just a filename\r\n$/);
      });
      assert.deepEqual(fs.readdirSync(first), ["dump.rdb"]);
      assert.deepEqual(fs.readdirSync(second).sort(), ["dump.rdb", "renamed.rdb"]);
      for (const [file, value] of [["dump.rdb", "second"], ["renamed.rdb", "renamed"]]) {
        await withServer(t, ["--dir", second, "--dbfilename", file], async (_server, conn) => {
          assert.equal(await reply(conn, "GET", "where"), `$${value.length}\r\n${value}\r\n`);
        });
      }
    });

    it("rdbcompression yes/no and rdbchecksum no: smaller or plain files, all valid and loadable by redis-server", async () => {
      const dir = tmpDir();
      const big = "abcdefgh".repeat(10_000);
      const sizes: Record<string, number> = {};
      // rdbchecksum is fixed at startup, rdbcompression can change at runtime.
      for (const checksum of ["yes", "no"]) {
        await withServer(t, ["--dir", dir, "--rdbchecksum", checksum, "--enable-protected-configs", "yes"], async (_server, conn) => {
          await ok(conn, "SET", "compressible", big);
          assert.equal(await reply(conn, "RPUSH", "list", ...Array.from({ length: 2_000 }, () => "same-element-again")), ":2000\r\n");
          for (const compression of checksum === "yes" ? ["yes", "no"] : ["yes"]) {
            const name = checksum === "no" ? "nocrc.rdb" : `${compression}.rdb`;
            await ok(conn, "CONFIG", "SET", "rdbcompression", compression, "dbfilename", name);
            await ok(conn, "SAVE");
            sizes[name] = fs.statSync(path.join(dir, name)).size;
          }
        });
      }
      assert.ok(sizes["yes.rdb"] < 10_000, `compressed file ${sizes["yes.rdb"]} bytes`);
      assert.ok(sizes["no.rdb"] > 80_000, `uncompressed file ${sizes["no.rdb"]} bytes`);
      const crc = (name: string) => [...fs.readFileSync(path.join(dir, name)).subarray(-8)];
      assert.deepEqual(crc("nocrc.rdb"), [0, 0, 0, 0, 0, 0, 0, 0], "rdbchecksum no writes a zero checksum");
      assert.notDeepEqual(crc("yes.rdb"), [0, 0, 0, 0, 0, 0, 0, 0]);
      for (const name of ["yes.rdb", "no.rdb", "nocrc.rdb"]) {
        rdbOk(path.join(dir, name));
        const { data } = await readWithRedis(dir, name);
        assert.equal(data.dbs[0].get("compressible")?.value, big, name);
        assert.equal(data.dbs[0].get("list")?.value, JSON.stringify(Array(2_000).fill("same-element-again")), name);
      }
    });

    it("stop-writes-on-bgsave-error: a failed BGSAVE refuses writes with MISCONF until a save succeeds", async () => {
      const dir = tmpDir();
      const other = tmpDir();
      await withServer(t, ["--dir", dir, "--save", "3600 1", "--enable-protected-configs", "yes"], async (_server, conn) => {
        await ok(conn, "SET", "a", "1");
        fs.rmSync(dir, { recursive: true });
        assert.equal(await reply(conn, "SAVE"), "-ERR\r\n");
        assert.equal(await reply(conn, "BGSAVE"), "+Background saving started\r\n");
        const f = await bgsaveDone(conn);
        assert.equal(f.get("rdb_last_bgsave_status"), "err");
        const misconf = "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n";
        assert.equal(await reply(conn, "SET", "b", "1"), misconf);
        assert.equal(await reply(conn, "INCR", "a"), misconf);
        assert.equal(await reply(conn, "GET", "a"), "$1\r\n1\r\n", "reads still work");
        assert.equal(await reply(conn, "PING"), misconf, "PING too, as Redis does");
        await ok(conn, "CONFIG", "SET", "stop-writes-on-bgsave-error", "no");
        await ok(conn, "SET", "b", "1");
        await ok(conn, "CONFIG", "SET", "stop-writes-on-bgsave-error", "yes");
        assert.equal(await reply(conn, "SET", "b", "2"), misconf);
        await ok(conn, "CONFIG", "SET", "dir", other);
        assert.equal(await reply(conn, "BGSAVE"), "+Background saving started\r\n");
        assert.equal((await bgsaveDone(conn)).get("rdb_last_bgsave_status"), "ok");
        await ok(conn, "SET", "b", "3");
      });
      rdbOk(path.join(other, "dump.rdb"));
    });

    it("SHUTDOWN SAVE saves without save points, SHUTDOWN NOSAVE does not, plain SHUTDOWN saves when save points exist", async () => {
      for (const [save, cmd, saves] of [["", "SHUTDOWN SAVE", true], ["3600 1", "SHUTDOWN NOSAVE", false], ["3600 1", "SHUTDOWN", true], ["", "SHUTDOWN", false]] as const) {
        const dir = tmpDir();
        const server = await startTarget(t, ["--dir", dir, "--save", save]);
        const conn = await connectLoaded(server);
        await ok(conn, "SET", "k", cmd);
        conn.write(cmd.split(" ").map((w) => `${w} `).join("") + "\r\n");
        await conn.untilClosed();
        assert.equal(await exited(server), 0, `${cmd} with save '${save}': exit code`);
        assert.equal(fs.existsSync(path.join(dir, "dump.rdb")), saves, `${cmd} with save '${save}' ${saves ? "saves" : "does not save"}`);
        if (saves) {
          rdbOk(path.join(dir, "dump.rdb"));
          assert.match(server.output(), /DB saved on disk/);
          await withServer(t, ["--dir", dir], async (_s, c) => assert.equal(await reply(c, "GET", "k"), `$${cmd.length}\r\n${cmd}\r\n`));
        }
      }
    });

    it("SIGTERM and SIGINT save when save points exist, and not otherwise", async () => {
      for (const [signal, save, saves] of [["SIGTERM", "3600 1", true], ["SIGINT", "3600 1", true], ["SIGTERM", "", false]] as const) {
        const dir = tmpDir();
        const server = await startTarget(t, ["--dir", dir, "--save", save]);
        const conn = await connectLoaded(server);
        await ok(conn, "SET", "k", signal);
        conn.close();
        assert.equal(await exited(server, signal), 0, `${signal} exit code`);
        assert.equal(fs.existsSync(path.join(dir, "dump.rdb")), saves, `${signal} with save '${save}'`);
        if (saves) {
          assert.match(server.output(), /Saving the final RDB snapshot before exiting\.[\s\S]*DB saved on disk/);
          const { data } = await readWithRedis(dir);
          assert.equal(data.dbs[0].get("k")?.value, signal);
        }
      }
    });

    it("DEBUG RELOAD saves and reloads: the dataset, TTLs and digest stay", async () => {
      const dir = tmpDir();
      await withServer(t, ["--dir", dir], async (_server, conn) => {
        await writeDataset(conn, { seed: 33, keysPerDb: 15, big: false });
        const before = await readDataset(conn);
        const at = Date.now();
        await ok(conn, "DEBUG", "RELOAD");
        const after = await readDataset(conn);
        assertSameDataset(after, before, { pttlToleranceMs: Date.now() - at + 2_000, encodings: false });
        assert.equal(after.digest, before.digest);
        assert.ok(fs.existsSync(path.join(dir, "dump.rdb")));
      });
    });

    it("keys whose TTL passed while on disk are not loaded, and the log says how many", async () => {
      const dir = tmpDir();
      await withServer("redis", ["--dir", dir], async (_s, conn) => {
        await ok(conn, "SET", "stays", "1");
        await ok(conn, "SET", "goes1", "1", "PX", "300");
        assert.equal(await reply(conn, "HSET", "goes2", "f", "v"), ":1\r\n");
        assert.equal(decode(await conn.call("PEXPIRE", "goes2", 300)), 1);
        await ok(conn, "SAVE");
      });
      await sleep(400);
      await withServer(t, ["--dir", dir], async (server, conn) => {
        assert.deepEqual(strings(decode(await conn.call("KEYS", "*"))), ["stays"]);
        assert.match(server.output(), /Done loading RDB, keys loaded: 1, keys expired: 2\./);
        assert.equal((await info(conn)).get("rdb_last_load_keys_expired"), "2");
      });
    });

    it("a client connecting while a big dump.rdb loads gets -LOADING; INFO reports the load", async () => {
      const dir = dirWith(bigDump);
      const server = await startTarget(t, ["--dir", dir]);
      try {
        const conn = await RawConnection.connect(server.port);
        const [ping, get, inf] = (await conn.pipeline([["PING"], ["GET", "key:1"], ["INFO", "persistence"]])).map((b) => b.toString("latin1"));
        assert.equal(ping, "-LOADING Redis is loading the dataset in memory\r\n");
        assert.equal(get, "-LOADING Redis is loading the dataset in memory\r\n");
        assert.match(inf, /\r\nloading:1\r\n/);
        assert.match(inf, /\r\nloading_loaded_perc:\d+\.\d+\r\n/);
        assert.match(inf, /\r\nloading_total_bytes:\d+\r\n/);
        conn.close();
        const loaded = await connectLoaded(server, 120_000);
        assert.equal(decode(await loaded.call("DBSIZE")), LOADING_KEYS);
        assert.equal(await reply(loaded, "GET", "big:1"), `$16\r\n${"value:1".padEnd(16, "\0")}\r\n`);
        assert.match((await info(loaded)).get("loading")!, /^0$/);
        assert.match(server.output(), /DB loaded from disk: \d+\.\d+ seconds/);
        loaded.close();
      } finally {
        await server.stop();
      }
    });

    it("a client connecting while a big AOF loads gets -LOADING: its RDB base and its commands load in steps", async () => {
      const dir = tmpDir();
      const aofDir = path.join(dir, "appendonlydir");
      fs.mkdirSync(aofDir);
      fs.copyFileSync(bigDump, path.join(aofDir, "appendonly.aof.1.base.rdb"));
      const extra = 300_000;
      const commands: string[] = [];
      for (let i = 0; i < extra; i++) commands.push(`*3\r\n$3\r\nSET\r\n$${`aof:${i}`.length}\r\naof:${i}\r\n$1\r\nv\r\n`);
      fs.writeFileSync(path.join(aofDir, "appendonly.aof.1.incr.aof"), commands.join(""));
      fs.writeFileSync(
        path.join(aofDir, "appendonly.aof.manifest"),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
      );
      const server = await startTarget(t, ["--dir", dir, "--appendonly", "yes"]);
      try {
        const conn = await RawConnection.connect(server.port);
        const [ping, inf] = (await conn.pipeline([["PING"], ["INFO", "persistence"]])).map((b) => b.toString("latin1"));
        assert.equal(ping, "-LOADING Redis is loading the dataset in memory\r\n");
        assert.match(inf, /\r\nloading:1\r\n/);
        const total = Number(/\r\nloading_total_bytes:(\d+)\r\n/.exec(inf)![1]);
        assert.equal(total, fs.statSync(bigDump).size + commands.join("").length);
        conn.close();
        const loaded = await connectLoaded(server, 120_000);
        assert.equal(decode(await loaded.call("DBSIZE")), LOADING_KEYS + extra);
        assert.equal(await reply(loaded, "GET", `aof:${extra - 1}`), "$1\r\nv\r\n");
        assert.match(server.output(), /DB loaded from append only file: \d+\.\d+ seconds/);
        loaded.close();
      } finally {
        await server.stop();
      }
    });

    it("always-show-logo prints the banner with the PID and port", async () => {
      await withServer(t, ["--always-show-logo", "yes"], async (server, conn) => {
        const pid = (await info(conn, "server")).get("process_id");
        const log = server.output();
        assert.match(log, new RegExp(`\\s+PID: ${pid}\\s`));
        assert.match(log, new RegExp(`\\s+Port: ${server.port}\\s`));
        assert.match(log, /Running in standalone mode/);
      });
    });
  });
}

/** n string keys prefix:0.. with values value(i) (default: i padded to size bytes), fast. */
function fill(port: number, prefix: string, n: number, size: number, value = (i: number) => String(i).padEnd(size, "x")): Promise<void> {
  const cmds: string[][] = [];
  for (let i = 0; i < n; i += 1000) {
    const cmd = ["MSET"];
    for (let j = i; j < Math.min(n, i + 1000); j++) cmd.push(`${prefix}:${j}`, value(j));
    cmds.push(cmd);
  }
  return loadOneLiners(port, cmds);
}
