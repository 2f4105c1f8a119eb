/**
 * The AOF against redis-server 7.0.15: the incr file Respite writes for a
 * command sequence equals redis-server's byte for byte (deadlines, which
 * depend on the moment, normalized); an AOF directory written by
 * redis-server loads into Respite, and Respite's (after BGREWRITEAOF, with
 * and without RDB preamble) loads into redis-server and passes
 * redis-check-aof; truncated files with aof-load-truncated yes/no; the
 * old-style rdb-preamble.aof fixture is migrated and loaded; with appendfsync
 * always, replies held for the turn's shared fsync keep their order (QUIT,
 * keyspace pushes, a client killed while held) and survive kill -9. Every
 * runtime.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { RawConnection } from "../lib/raw.ts";
import { decode } from "../lib/keyspace.ts";
import { freePort, ROOT, RUNTIMES, type ServerHandle, startRedis, startRespite, tmpDir } from "../lib/servers.ts";
import { assertSameDataset, type Dataset, readDataset, writeDataset } from "../lib/rdb-dataset.ts";
import { connectLoaded, exited, info, runUntilExit, until } from "../lib/targets.ts";

const FIXTURE = path.join(ROOT, "test/fixtures/redis-7.0.15-assets/rdb-preamble.aof");
type Cmd = Array<string | number>;

/** Commands whose effects cover Redis's rewrites, transactions, scripts, SELECT and lazy expiry. */
const SEQUENCE: Cmd[] = [
  ["DEBUG", "SET-ACTIVE-EXPIRE", "0"],
  ["set", "a", "1", "ex", "100"], ["expire", "a", "50"], ["pexpire", "a", "60000", "gt"], ["pexpire", "a", "1000", "gt"], ["expireat", "a", "4000000000"],
  ["setex", "b", "10", "v"], ["psetex", "b2", "10000", "v"], ["set", "c", "1", "exat", "4000000000", "get"], ["set", "c", "2", "get"],
  ["set", "c", "3", "keepttl"], ["getex", "c", "px", "5000"], ["getex", "c", "persist"], ["getdel", "c"], ["expire", "b", "-1"],
  ["sadd", "s", "a", "b", "c", "d", "e"], ["spop", "nope"], ["spop", "s", "10"], ["sadd", "s", "x"], ["spop", "s"],
  ["incrbyfloat", "f", "1.5"], ["hincrbyfloat", "h", "f", "2.5"], ["set", "nx", "1", "nx"], ["set", "nx", "2", "nx"],
  ["rpush", "L", "p", "q", "r", "s"], ["blpop", "L", "0"], ["brpop", "L", "0"], ["lmpop", "1", "L", "left", "count", "5"],
  ["rpush", "L", "x", "y"], ["blmove", "L", "D", "LEFT", "RIGHT", "0"], ["brpoplpush", "L", "D", "0"],
  ["zadd", "Z", "1", "a", "2", "b", "3", "c"], ["bzpopmin", "Z", "0"], ["zmpop", "1", "Z", "max", "count", "1"], ["zpopmin", "Z", "5"],
  ["multi"], ["set", "m", "1"], ["exec"], ["multi"], ["set", "m", "2"], ["incr", "n"], ["exec"], ["multi"], ["get", "m"], ["exec"],
  ["select", "2"], ["set", "in2", "1"], ["multi"], ["set", "x", "1"], ["select", "3"], ["set", "y", "2"], ["exec"], ["set", "z", "1"],
  ["select", "0"], ["eval", "redis.call('set','k','v')", "0"], ["eval", "redis.call('set','k','v') redis.call('incr','n')", "0"],
  ["eval", "return redis.call('get','k')", "0"], ["multi"], ["incr", "n"], ["eval", "redis.call('set','k','w')", "0"], ["exec"],
  ["set", "e1", "1", "px", "1"], ["set", "e2", "1", "px", "1"], ["set", "e3", "1", "px", "1"], ["DEBUG", "SLEEP", "0.01"],
  ["get", "e1"], ["incr", "e2"], ["multi"], ["get", "e3"], ["incr", "n"], ["exec"],
  ["function", "load", "#!lua name=lib\nredis.register_function('f1', function(keys, args) return redis.call('set', keys[1], args[1]) end)"],
  ["fcall", "f1", "1", "fk", "fv"], ["del", "fk", "nothere"], ["flushdb"],
];

/** The AOF incr file with 13-digit unix-ms deadlines replaced, as they depend on when the command ran. */
function normalized(dir: string): string {
  const aofDir = path.join(dir, "appendonlydir");
  const incr = fs.readdirSync(aofDir).filter((f) => f.endsWith(".incr.aof")).sort().at(-1)!;
  return fs.readFileSync(path.join(aofDir, incr), "latin1").replace(/\$13\r\n1\d{12}\r\n/g, "$13\r\n<ms>\r\n");
}

async function runSequence(server: ServerHandle): Promise<void> {
  const conn = await RawConnection.connect(server.port);
  for (const cmd of SEQUENCE) await conn.call(...cmd);
  // A blocked client served by a later push propagates the non-blocking pop.
  const blocked = await RawConnection.connect(server.port);
  const waiting = blocked.call("BLMOVE", "W", "D2", "RIGHT", "LEFT", "0");
  const waiting2 = (await RawConnection.connect(server.port)).call("BLPOP", "W2", "0");
  await until(async () => (await info(conn, "clients")).get("blocked_clients") === "2", () => "clients blocked");
  await conn.call("RPUSH", "W", "1", "2");
  await conn.call("RPUSH", "W2", "1", "2");
  await waiting;
  await waiting2;
  // A pipeline in one write, with commands where Redis skips what stands in place of a CRLF unchecked: the AOF
  // holds their canonical encoding, not the bytes as they came.
  conn.write(
    "*3\r\n$3\r\nset\r\n$2\r\nr1\r\n$4\r\na\r\nb\r\n" +
      "*3\r\n$3\r\nSET\r\n$2\r\nr2\r\n$1\r\nvXY" +
      "*3\rX$3\r\nSET\r\n$2\r\nr3\r\n$1\r\nv\r\n" +
      "*3\r\n$3\rXSET\r\n$2\r\nr4\r\n$1\r\nv\r\n" +
      "*3\r\n$6\r\nAPPEND\r\n$2\r\nr1\r\n$0\r\n\r\n" +
      "*3\r\n$6\r\nAPPEND\r\n$2\r\nr1\r\n$1\r\n\x00\r\n",
  );
  await conn.readReplies(6);
  await conn.call("PING");
}

function checkAof(dir: string): { status: number | null; out: string } {
  const manifest = path.join(dir, "appendonlydir", "appendonly.aof.manifest");
  const r = spawnSync("redis-check-aof", [manifest], { encoding: "latin1", timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

async function rewriteDone(conn: RawConnection): Promise<void> {
  let fields = new Map<string, string>();
  await until(
    async () => (fields = await info(conn)).get("aof_rewrite_in_progress") === "0" && fields.get("aof_rewrite_scheduled") === "0",
    () => JSON.stringify([...fields]),
  );
}

/**
 * A zset score of -0 reads back as 0 from a ZADD in redis-server itself, and
 * Respite's RDB listpack reading does the same (reported): compared as 0.
 */
function zeroSigns(d: Dataset): Dataset {
  for (const db of d.dbs) for (const k of db.values()) if (k.type === "zset") k.value = k.value.replaceAll('"-0"]', '"0"]');
  return d;
}

function copyDir(from: string): string {
  const to = tmpDir();
  fs.cpSync(from, to, { recursive: true });
  return to;
}

let expected = "";

/** A dir whose AOF incr file is /dev/full: every write to it fails with ENOSPC, as on a full disk. */
function fullDiskDir(): string {
  const dir = tmpDir();
  const aofDir = path.join(dir, "appendonlydir");
  fs.mkdirSync(aofDir);
  fs.writeFileSync(path.join(aofDir, "appendonly.aof.manifest"), "file appendonly.aof.1.incr.aof seq 1 type i\n");
  fs.symlinkSync("/dev/full", path.join(aofDir, "appendonly.aof.1.incr.aof"));
  return dir;
}

/** What a client sees on a full disk with appendfsync everysec: its write acknowledged, then MISCONF for writes and PING. */
async function fullDiskReplies(server: ServerHandle): Promise<string[]> {
  const conn = await RawConnection.connect(server.port);
  const replies = [(await conn.call("SET", "a", "1")).toString("latin1")];
  for (const cmd of [["SET", "b", "2"], ["GET", "a"], ["PING"], ["DEL", "a"]]) replies.push((await conn.call(...cmd)).toString("latin1"));
  replies.push(`aof_last_write_status:${(await info(conn, "persistence")).get("aof_last_write_status")}`);
  conn.close();
  return replies;
}

let fullDiskExpected: string[] = [];

/** Stream claims in an AOF: XCLAIM with TIME, XREADGROUP (propagated as XCLAIM with TIME) and XGROUP CREATECONSUMER. */
const CLAIMS: Cmd[] = [
  ["XADD", "s", "1-1", "a", "b"], ["XADD", "s", "2-1", "a", "c"], ["XGROUP", "CREATE", "s", "g", "0"],
  ["XREADGROUP", "GROUP", "g", "r", "STREAMS", "s", ">"],
  ["XCLAIM", "s", "g", "c", "0", "1-1", "TIME", "1700000000123", "RETRYCOUNT", "3", "JUSTID"],
  ["XGROUP", "CREATECONSUMER", "s", "g", "idle"],
];

/** The group's pending entries (with delivery times) and its consumers' seen times, from XINFO STREAM FULL. */
async function claimsLoaded(conn: RawConnection): Promise<{ pending: string; seen: number[] }> {
  const text = (v: unknown): unknown => (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : Array.isArray(v) ? v.map(text) : v);
  const full = text(decode(await conn.call("XINFO", "STREAM", "s", "FULL"))) as unknown[];
  const field = (list: unknown[], name: string) => list[list.indexOf(name) + 1] as unknown[][];
  const [group] = field(full, "groups");
  const seen = field(group, "consumers").map((c) => Number(field(c, "seen-time")));
  return { pending: JSON.stringify(field(group, "pending")), seen };
}

let claimsDir = "";
let claimsExpected = "";

describe("aof", () => {
  it("redis-server's incr file for the sequence (the oracle)", async () => {
    const dir = tmpDir();
    // always: with everysec, redis-server postpones its write while a background fsync is slow, and the kill
    // that stops it would lose the tail (seen once on a loaded host); the file's contents are the same.
    const redis = await startRedis(["--appendonly", "yes", "--appendfsync", "always", "--dir", dir]);
    try {
      await runSequence(redis);
    } finally {
      await redis.stop();
    }
    expected = normalized(dir);
    assert.match(expected, /PXAT/);
  });

  it("redis-server's AOF of stream claims, and what it loads from it (the oracle)", async () => {
    claimsDir = tmpDir();
    const redis = await startRedis(["--appendonly", "yes", "--appendfsync", "always", "--dir", claimsDir]);
    try {
      const conn = await RawConnection.connect(redis.port);
      for (const cmd of CLAIMS) assert.ok(!(decode(await conn.call(...cmd)) instanceof Error), cmd.join(" "));
    } finally {
      await redis.stop();
    }
    const loadedAfter = Date.now();
    const loaded = await startRedis(["--appendonly", "yes", "--dir", copyDir(claimsDir)]);
    try {
      const { pending, seen } = await claimsLoaded(await connectLoaded(loaded));
      claimsExpected = pending;
      assert.match(pending, /\["1-1","c",1700000000123,3\]/);
      assert.ok(seen.length === 3 && seen.every((t) => t >= loadedAfter), JSON.stringify(seen));
    } finally {
      await loaded.stop();
    }
  });

  it("redis-server on a full disk (the oracle)", async () => {
    const redis = await startRedis(["--appendonly", "yes", "--dir", fullDiskDir()]);
    try {
      fullDiskExpected = await fullDiskReplies(redis);
    } finally {
      await redis.stop();
    }
    assert.match(fullDiskExpected[1], /^-MISCONF Errors writing to the AOF file: No space left on device/);
  });

  for (const rt of RUNTIMES) {
    describe(rt, () => {
      it("propagates the same effects as redis-server, byte for byte", async () => {
        const dir = tmpDir();
        const server = await startRespite(rt, ["--appendonly", "yes", "--dir", dir]);
        try {
          await runSequence(server);
          // appendfsync everysec: written before the replies, so it is in the file already.
          assert.equal(normalized(dir), expected);
        } finally {
          await server.stop();
        }
      });

      it("loads an AOF directory written by redis-server (base, incr) and keeps appending", async () => {
        for (const preamble of ["yes", "no"]) {
          const dir = tmpDir();
          const redis = await startRedis(["--appendonly", "yes", "--dir", dir, "--aof-use-rdb-preamble", preamble]);
          const rc = await RawConnection.connect(redis.port);
          await writeDataset(rc, { seed: 5, keysPerDb: 10 });
          await rc.call("BGREWRITEAOF");
          await rewriteDone(rc);
          await rc.call("SET", "after-rewrite", "1");
          await rc.call("SELECT", "3");
          await rc.call("RPUSH", "after-list", "a", "b");
          const want = await readDataset(rc);
          await redis.stop();
          const copy = copyDir(dir);
          const server = await startRespite(rt, ["--appendonly", "yes", "--dir", copy]);
          try {
            const conn = await connectLoaded(server);
            assertSameDataset(zeroSigns(await readDataset(conn)), zeroSigns(want), { pttlToleranceMs: 60_000, encodings: false, digest: false, streamsAsAof: true });
            await conn.call("SET", "from-respite", "1");
            assert.match(server.output(), /DB loaded from append only file/);
          } finally {
            await server.stop();
          }
        }
      });

      it("loads stream claims with their delivery TIME, consumers seen at the time of loading, as redis-server", async () => {
        const loadedAfter = Date.now();
        const server = await startRespite(rt, ["--appendonly", "yes", "--dir", copyDir(claimsDir)]);
        try {
          const { pending, seen } = await claimsLoaded(await connectLoaded(server));
          assert.equal(pending, claimsExpected);
          // Stamped by the load (redis-server's seen times are its load's), not with the loader's clock at 0.
          assert.ok(seen.length === 3 && seen.every((t) => t >= loadedAfter), JSON.stringify(seen));
        } finally {
          await server.stop();
        }
      });

      for (const preamble of ["yes", "no"]) {
        it(`rewrites (aof-use-rdb-preamble ${preamble}); redis-server loads the directory and redis-check-aof passes`, async () => {
          const dir = tmpDir();
          const server = await startRespite(rt, ["--appendonly", "yes", "--dir", dir, "--aof-use-rdb-preamble", preamble]);
          let want;
          try {
            const conn = await connectLoaded(server);
            await writeDataset(conn, { seed: 7, keysPerDb: 10 });
            assert.equal((await conn.call("BGREWRITEAOF")).toString(), "+Background append only file rewriting started\r\n");
            await conn.call("SET", "during", "1");
            await rewriteDone(conn);
            await conn.call("SELECT", "5");
            await conn.call("SADD", "after", "x", "y");
            await conn.call("SET", "ttl", "v", "EX", "1000");
            const fields = await info(conn);
            assert.equal(fields.get("aof_rewrites"), "1");
            assert.equal(fields.get("aof_last_bgrewrite_status"), "ok");
            want = await readDataset(conn);
          } finally {
            await server.stop();
          }
          const files = fs.readdirSync(path.join(dir, "appendonlydir")).sort();
          const ext = preamble === "yes" ? "rdb" : "aof";
          assert.deepEqual(files, [`appendonly.aof.2.base.${ext}`, "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]);
          assert.equal(
            fs.readFileSync(path.join(dir, "appendonlydir", "appendonly.aof.manifest"), "latin1"),
            `file appendonly.aof.2.base.${ext} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n`,
          );
          const check = checkAof(dir);
          assert.equal(check.status, 0, check.out);
          const redis = await startRedis(["--appendonly", "yes", "--dir", copyDir(dir)]);
          try {
            const rc = await connectLoaded(redis);
            assertSameDataset(zeroSigns(await readDataset(rc)), zeroSigns(want), { pttlToleranceMs: 60_000, encodings: false, digest: false, streamsAsAof: true });
          } finally {
            await redis.stop();
          }
        });
      }

      it("a truncated incr file: cut back with aof-load-truncated yes, refused with no, as redis-server", async () => {
        const dir = tmpDir();
        const server = await startRespite(rt, ["--appendonly", "yes", "--dir", dir, "--appendfsync", "always"]);
        const conn = await connectLoaded(server);
        await conn.call("SET", "a", "1");
        await conn.call("RPUSH", "l", "x", "y");
        await server.stop(); // kill -9: appendfsync always made both durable
        const incr = path.join(dir, "appendonlydir", "appendonly.aof.1.incr.aof");
        const whole = fs.readFileSync(incr);
        fs.writeFileSync(incr, whole.subarray(0, whole.length - 3));
        const refused = await runUntilExit(rt, ["--appendonly", "yes", "--dir", dir, "--aof-load-truncated", "no"], await freePort());
        assert.equal(refused.code, 1, refused.output);
        assert.match(refused.output, /# Unexpected end of file reading the append only file appendonly\.aof\.1\.incr\.aof\. You can: 1\) Make a backup of your AOF file, then use \.\/redis-check-aof --fix <filename\.manifest>\. 2\) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server\./);
        const loaded = await startRespite(rt, ["--appendonly", "yes", "--dir", dir]);
        try {
          const c2 = await connectLoaded(loaded);
          assert.equal((await c2.call("GET", "a")).toString(), "$1\r\n1\r\n");
          assert.equal((await c2.call("EXISTS", "l")).toString(), ":0\r\n");
          const out = loaded.output();
          assert.match(out, /# !!! Warning: short read while loading the AOF file appendonly\.aof\.1\.incr\.aof!!!/);
          assert.match(out, /# !!! Truncating the AOF appendonly\.aof\.1\.incr\.aof at offset 50 !!!/);
          assert.match(out, /# AOF appendonly\.aof\.1\.incr\.aof loaded anyway because aof-load-truncated is enabled/);
        } finally {
          await loaded.stop();
        }
        assert.equal(fs.statSync(incr).size, 50);
      });

      it("appendfsync always: replies held for the turn's one fsync keep their order; QUIT, pushes, a client killed while held", async () => {
        const dir = tmpDir();
        const args = ["--appendonly", "yes", "--dir", dir, "--appendfsync", "always", "--notify-keyspace-events", "KA"];
        const server = await startRespite(rt, args);
        const clients = await Promise.all(Array.from({ length: 20 }, () => RawConnection.connect(server.port)));
        try {
          // Many clients in the same turns: each one's replies come back whole and in order.
          await Promise.all(clients.map(async (conn, c) => {
            for (let round = 0; round < 10; round++) {
              const cmds: Cmd[] = [];
              for (let i = 0; i < 10; i++) cmds.push(["SET", `k${c}`, `${round}-${i}`], ["GET", `k${c}`], ["INCR", "n"]);
              const replies = (await conn.pipeline(cmds)).map(String);
              for (let i = 0; i < 10; i++) {
                const v = `${round}-${i}`;
                assert.deepEqual(replies.slice(i * 3, i * 3 + 2), ["+OK\r\n", `$${v.length}\r\n${v}\r\n`]);
                assert.match(replies[i * 3 + 2], /^:\d+\r\n$/);
              }
            }
          }));
          // QUIT after a write: both replies, then the close; the command after QUIT never runs.
          const q = await RawConnection.connect(server.port);
          q.write("*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$1\r\n1\r\n*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$1\r\n2\r\n");
          assert.equal(await q.untilClosed(), "+OK\r\n+OK\r\n");
          // A keyspace push reaches a subscriber; a subscriber killed in the turn its push was held gets nothing.
          const [conn] = clients;
          const sub = await RawConnection.connect(server.port);
          await sub.call("SUBSCRIBE", "__keyspace@0__:watched");
          const doomed = await RawConnection.connect(server.port);
          const doomedId = Number(String(await doomed.call("CLIENT", "ID")).slice(1));
          await doomed.call("SUBSCRIBE", "__keyspace@0__:watched");
          const replies = (await conn.pipeline([["SET", "watched", "v"], ["CLIENT", "KILL", "ID", doomedId]])).map(String);
          assert.deepEqual(replies, ["+OK\r\n", ":1\r\n"]);
          assert.match(String((await sub.readReplies(1))[0]), /watched\r\n\$3\r\nset\r\n$/);
          assert.equal(await doomed.untilClosed(), "");
          assert.equal(String(await conn.call("GET", "q")), "$1\r\n1\r\n");
          sub.close();
        } finally {
          for (const c of clients) c.close();
          await server.stop(); // kill -9: every acknowledged write is on disk
        }
        const again = await startRespite(rt, args);
        try {
          const conn = await connectLoaded(again);
          assert.deepEqual((await conn.pipeline([["GET", "n"], ["GET", "q"], ["GET", "watched"], ["GET", "k19"]])).map(String),
            ["$4\r\n2000\r\n", "$1\r\n1\r\n", "$1\r\nv\r\n", "$3\r\n9-9\r\n"]);
        } finally {
          await again.stop();
        }
      });

      it("migrates and loads the old-style rdb-preamble.aof fixture as redis-server", async () => {
        const dir = tmpDir();
        fs.copyFileSync(FIXTURE, path.join(dir, "appendonly.aof"));
        const server = await startRespite(rt, ["--appendonly", "yes", "--dir", dir]);
        try {
          const conn = await connectLoaded(server);
          const keys = (await conn.call("KEYS", "*")).toString("latin1").split("\r\n").filter((l) => /^k\d$/.test(l)).sort();
          assert.deepEqual(keys, ["k1", "k2", "k3"]);
          assert.equal((await conn.call("GET", "k3")).toString(), "$2\r\nv3\r\n");
          const out = server.output();
          assert.match(out, /Successfully migrated an old-style AOF file \(appendonly\.aof\) into the AOF directory \(appendonlydir\)\./);
          assert.match(out, /Reading RDB preamble from AOF file\.\.\./);
          assert.match(out, /Reading the remaining AOF tail\.\.\./);
        } finally {
          await server.stop();
        }
        assert.equal(
          fs.readFileSync(path.join(dir, "appendonlydir", "appendonly.aof.manifest"), "latin1"),
          "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
        );
      });

      it("a full disk: everysec refuses writes and PING with redis-server's MISCONF; always exits as redis-server does", async () => {
        const server = await startRespite(rt, ["--appendonly", "yes", "--dir", fullDiskDir()]);
        try {
          assert.deepEqual(await fullDiskReplies(server), fullDiskExpected);
          assert.match(server.output(), /Error writing to the AOF file: No space left on device/);
        } finally {
          await server.stop();
        }
        const always = await startRespite(rt, ["--appendonly", "yes", "--appendfsync", "always", "--dir", fullDiskDir()]);
        const conn = await RawConnection.connect(always.port);
        await assert.rejects(conn.call("SET", "a", "1"));
        assert.equal(await exited(always), 1);
        assert.match(always.output(), /Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting.../);
      });

      it("CONFIG SET appendonly yes starts with a rewrite; SHUTDOWN keeps every write", async () => {
        const dir = tmpDir();
        const server = await startRespite(rt, ["--dir", dir]);
        const conn = await connectLoaded(server);
        await conn.call("SET", "before", "1");
        assert.equal((await conn.call("CONFIG", "SET", "appendonly", "yes")).toString(), "+OK\r\n");
        await conn.call("SET", "after", "2");
        await rewriteDone(conn);
        await conn.call("SET", "later", "3");
        assert.equal((await info(conn)).get("aof_enabled"), "1");
        await conn.call("SHUTDOWN", "NOSAVE").catch(() => {});
        await exited(server);
        const again = await startRespite(rt, ["--appendonly", "yes", "--dir", dir]);
        try {
          const c2 = await connectLoaded(again);
          for (const k of ["before", "after", "later"]) assert.equal((await c2.call("EXISTS", k)).toString(), ":1\r\n", k);
        } finally {
          await again.stop();
        }
      });
    });
  }
});
