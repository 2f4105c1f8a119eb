/**
 * maxmemory and eviction, with real clients. Byte for byte against
 * redis-server where replies are deterministic: OOM for deny-oom commands
 * (queued in MULTI, at EXEC, in scripts without allow-oom, FCALL), what
 * each of the eight policies evicts when nothing may stay (volatile-*
 * without deadlines: OOM), the LFU counter at lfu-log-factor 0, which
 * commands count as an access, RESTORE IDLETIME/FREQ, RDB IDLE/FREQ
 * records read across both servers, `evicted` events. Numerically: OBJECT
 * IDLETIME and DEBUG OBJECT's lru fields; used_memory following writes and
 * deletes as MEMORY USAGE adds up; DEL/UNLINK of evicted keys in the AOF.
 * And the cache workload (Zipf reads over ten times what fits, each missed
 * key written back): used_memory stays at the limit under every policy, and
 * Respite's hit ratio is within 2 points of redis-server's for allkeys-lru
 * and allkeys-lfu.
 */
import { beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RUNTIMES, type ServerHandle, sharedRedis, startRedis, startRespite } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { DiffPair, diffSuite } from "../lib/diff.ts";
import { decode, lines, text } from "../lib/keyspace.ts";
import { type CacheResult, type CacheWorkload, runCacheWorkload } from "../lib/cache-workload.ts";

const POLICIES = [
  "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
];

/** A field of INFO (any section) as a number. */
async function infoNumber(conn: RawConnection, field: string): Promise<number> {
  const info = (await conn.call("INFO", "everything")).toString("latin1");
  const m = new RegExp(`^${field}:(\\d+)`, "m").exec(info);
  assert.ok(m, `INFO has ${field}`);
  return Number(m[1]);
}

const int = async (conn: RawConnection, ...cmd: string[]) => Number(decode(await conn.call(...cmd)));

/** DEBUG OBJECT's lru and lru_seconds_idle. */
async function lruFields(conn: RawConnection, key: string): Promise<[number, number]> {
  const line = (await conn.call("DEBUG", "OBJECT", key)).toString("latin1");
  const m = / lru:(\d+) lru_seconds_idle:(\d+)/.exec(line);
  assert.ok(m, line);
  return [Number(m[1]), Number(m[2])];
}

/** The Zipf workload both servers run: values of 500 bytes, about 12,000 fit in 8 MB on each; ten times that many keys. */
const MAXMEMORY = 8 * 1024 * 1024;
/** How far over the limit memory may be when nothing can be evicted: the last write admitted, clients' buffers moving. */
const OVERSHOOT = MAXMEMORY / 1000;
const WORKLOAD: CacheWorkload = {
  keys: 120_000,
  skew: 0.99,
  valueSize: 500,
  warmup: 60_000,
  reads: 150_000,
  batch: 100,
  sampleEvery: 10,
  seed: 7,
};

async function cacheRun(port: number, policy: string, w: CacheWorkload): Promise<CacheResult> {
  const conn = await RawConnection.connect(port);
  await conn.pipeline([["FLUSHALL"], ["CONFIG", "SET", "maxmemory-policy", policy], ["CONFIG", "SET", "maxmemory", String(MAXMEMORY)]]);
  try {
    return await runCacheWorkload(port, w);
  } finally {
    await conn.pipeline([["CONFIG", "SET", "maxmemory", "0"], ["FLUSHALL"]]);
    conn.close();
  }
}

const redis = sharedRedis();
/**
 * A redis-server for the cache workload alone: a server that ran other tests holds memory a fresh one does
 * not (up to a megabyte of used_memory with no key), which would change how many keys fit.
 */
const cacheRedis = sharedRedis();
/** redis-server's results under the LRU and LFU policies, run once for every runtime to compare with. */
const redisResults = new Map<string, Promise<CacheResult>>();

for (const rt of RUNTIMES) {
  describe(`eviction on ${rt}`, () => {
    const suite = diffSuite(redis, rt);
    const same = (...text: string[]) => suite.pair.sameAll(lines(...text));

    beforeEach(async () => {
      await same(
        "CONFIG SET maxmemory 0",
        "FLUSHALL",
        "FUNCTION FLUSH",
        "CONFIG SET maxmemory-policy noeviction",
        "CONFIG SET lfu-log-factor 10",
        "CONFIG SET lazyfree-lazy-eviction no",
        "CONFIG SET notify-keyspace-events ''",
      );
    });

    it("over maxmemory, deny-oom commands get OOM while reads, DEL and EXPIRE run", async () => {
      await same(
        "SET a 1", "SET b 2 EX 1000", "RPUSH l x", "CONFIG SET maxmemory 1",
        "SET c 3", "SETNX c 3", "INCR a", "APPEND a x", "LPUSH l y", "RPUSHX l y", "HSET h f v", "SADD s m", "ZADD z 1 m",
        "RESTORE r 0 x", "GET a", "LRANGE l 0 -1", "EXISTS a b", "EXPIRE a 100", "PERSIST a", "DEL b", "LPOP l", "DBSIZE",
        "CONFIG SET maxmemory 0", "SET c 3", "GET c",
      );
    });

    it("inside MULTI every command but EXEC/DISCARD/QUIT/RESET is refused; EXEC of a deny-oom transaction aborts", async () => {
      const ctl = await DiffPair.open(redis().port, suite.respite.port);
      try {
        await same("SET k 1", "CONFIG SET maxmemory 1", "MULTI", "GET k", "SET k 2", "PING", "EXEC", "MULTI", "DISCARD", "GET k");
        // Queued while under the limit, then memory went over: EXEC aborts a transaction holding a deny-oom command.
        await same("CONFIG SET maxmemory 0", "MULTI", "SET k 2", "GET k");
        await ctl.same("CONFIG", "SET", "maxmemory", "1");
        await same("EXEC", "EXEC", "GET k");
        // A transaction of reads and deletes still runs.
        await ctl.same("CONFIG", "SET", "maxmemory", "0");
        await same("MULTI", "GET k", "DEL k");
        await ctl.same("CONFIG", "SET", "maxmemory", "1");
        await same("EXEC", "DBSIZE");
      } finally {
        ctl.close();
      }
    });

    it("scripts: without shebang the first deny-oom call fails unless the script wrote; shebang and functions need allow-oom or no-writes", async () => {
      const library = "#!lua name=lib\n" +
        "redis.register_function('plain', function() return redis.call('set','q','1') end)\n" +
        "redis.register_function{function_name='oom', callback=function() return redis.call('set','q','2') end, flags={'allow-oom'}}\n" +
        "redis.register_function{function_name='ro', callback=function() return redis.call('get','q') end, flags={'no-writes'}}";
      const sha = text(decode(await suite.pair.same("SCRIPT", "LOAD", "#!lua\nreturn redis.call('set','s','1')")));
      await suite.pair.sameAll([
        ["FUNCTION", "LOAD", library],
        ["SET", "a", "1"],
        ["CONFIG", "SET", "maxmemory", "1"],
        ["EVAL", "return redis.call('set','x','y')", "0"],
        ["EVAL", "return redis.pcall('set','x','y')", "0"],
        ["EVAL", "return redis.call('get','a')", "0"],
        ["EVAL", "redis.call('del','a') return redis.call('set','x','y')", "0"],
        ["EVAL", "#!lua\nreturn redis.call('set','x','z')", "0"],
        ["EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','x','w')", "0"],
        ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0"],
        ["EVALSHA", sha, "0"],
        ["FUNCTION", "LOAD", "REPLACE", library],
        ["FCALL", "plain", "0"],
        ["FCALL", "oom", "0"],
        ["FCALL", "ro", "0"],
        ["FCALL_RO", "ro", "0"],
        ["GET", "q"],
        ["GET", "x"],
      ]);
    });

    it("each policy evicts what it may, then refuses with OOM; volatile-* without volatile keys gives OOM", async () => {
      for (const policy of POLICIES) {
        const before = await Promise.all([infoNumber(suite.pair.redis, "evicted_keys"), infoNumber(suite.pair.respite, "evicted_keys")]);
        await same(
          "CONFIG SET maxmemory 0", "FLUSHALL", `CONFIG SET maxmemory-policy ${policy}`, "SET a 1", "HSET b f v",
          "SET v 3 EX 1000", "SET w 4 PX 2000000", "CONFIG SET maxmemory 1", "SET c 3", "DBSIZE", "EXISTS a b v w",
          "CONFIG SET maxmemory 0", "FLUSHALL", "SET a 1", "CONFIG SET maxmemory 1", "SET c 3", "DBSIZE",
        );
        const after = await Promise.all([infoNumber(suite.pair.redis, "evicted_keys"), infoNumber(suite.pair.respite, "evicted_keys")]);
        assert.equal(after[1] - before[1], after[0] - before[0], `${policy}: keys evicted`);
      }
    });

    it("INFO shows maxmemory, its policy, evictions and the eviction time", async () => {
      await same("CONFIG SET maxmemory 12345678", "CONFIG SET maxmemory-policy allkeys-lfu");
      const info = (await suite.pair.respite.call("INFO", "everything")).toString("latin1");
      for (const field of ["maxmemory:12345678", "maxmemory_human:11.77M", "maxmemory_policy:allkeys-lfu", "mem_not_counted_for_evict:0"]) {
        assert.match(info, new RegExp(`^${field}\r$`, "m"));
      }
      for (const field of ["used_memory", "used_memory_rss", "used_memory_peak", "evicted_keys", "total_eviction_exceeded_time", "current_eviction_exceeded_time"]) {
        assert.match(info, new RegExp(`^${field}:\\d+\r$`, "m"));
      }
    });

    it("LFU: new keys count 5, each access one more at lfu-log-factor 0; EXISTS TYPE TTL OBJECT are no access, TOUCH is", async () => {
      await same(
        "CONFIG SET maxmemory-policy allkeys-lfu", "CONFIG SET lfu-log-factor 0", "SET k v", "OBJECT FREQ k", "GET k",
        "OBJECT FREQ k", "EXISTS k", "TYPE k", "TTL k", "PTTL k", "OBJECT ENCODING k", "SCAN 0 TYPE string", "OBJECT FREQ k", "TOUCH k nokey", "OBJECT FREQ k", "SET k v2", "OBJECT FREQ k", "APPEND k x", "OBJECT FREQ k",
        "OBJECT IDLETIME k", "OBJECT FREQ nokey", "HSET h f v", "HGET h f", "HGET h f", "OBJECT FREQ h",
        "RENAME h h2", "OBJECT FREQ h2", "MOVE h2 1", "SELECT 1", "OBJECT FREQ h2", "SELECT 0", "COPY k k3", "OBJECT FREQ k3",
        "CONFIG SET maxmemory-policy allkeys-lru", "OBJECT FREQ k",
      );
      // RESTORE FREQ sets the counter under an LFU policy; IDLETIME is ignored there.
      const payload = decode(await suite.pair.same("DUMP", "k")) as Uint8Array;
      await suite.pair.same("CONFIG", "SET", "maxmemory-policy", "volatile-lfu");
      await suite.pair.sameAll([
        ["RESTORE", "f", "0", Buffer.from(payload), "FREQ", "100"],
        ["RESTORE", "i", "0", Buffer.from(payload), "IDLETIME", "100"],
        ["OBJECT", "FREQ", "f"],
        ["OBJECT", "FREQ", "i"],
        ["RESTORE", "g", "0", Buffer.from(payload), "FREQ", "256"],
      ]);
    });

    it("LRU: RESTORE IDLETIME sets the idle time; reads and TOUCH reset it, EXISTS TYPE TTL OBJECT SCAN MEMORY DEBUG do not", async () => {
      await same("SET k v");
      const payload = decode(await suite.pair.same("DUMP", "k")) as Uint8Array;
      for (const policy of ["noeviction", "allkeys-lru"]) {
        await suite.pair.same("CONFIG", "SET", "maxmemory-policy", policy);
        await suite.pair.sameAll([
          ["RESTORE", "i", "0", Buffer.from(payload), "IDLETIME", "1000", "REPLACE"],
          ["RESTORE", "j", "0", Buffer.from(payload), "IDLETIME", "2000", "REPLACE"],
          ["EXISTS", "i"], ["TYPE", "i"], ["TTL", "i"], ["PTTL", "i"], ["EXPIRETIME", "i"], ["OBJECT", "ENCODING", "i"],
          ["OBJECT", "FREQ", "i"],
        ]);
        for (const conn of [suite.pair.redis, suite.pair.respite]) {
          // Their replies differ between the servers (order, sizes, addresses), but neither is an access.
          await conn.pipeline([["SCAN", "0", "TYPE", "string"], ["MEMORY", "USAGE", "i"], ["DEBUG", "OBJECT", "i"], ["RANDOMKEY"]]);
          const idle = await int(conn, "OBJECT", "IDLETIME", "i");
          assert.ok(idle >= 1000 && idle <= 1002, `${policy}: idle ${idle}`);
          const [lru, lruIdle] = await lruFields(conn, "j");
          assert.ok(lruIdle >= 2000 && lruIdle <= 2002, `${policy}: DEBUG OBJECT idle ${lruIdle}`);
          assert.ok(Math.abs(Math.floor(Date.now() / 1000) % 2 ** 24 - 2000 - lru) <= 2, `${policy}: lru ${lru}`);
          await conn.pipeline([["GET", "i"], ["TOUCH", "j"]]);
          assert.ok((await int(conn, "OBJECT", "IDLETIME", "i")) <= 1);
          assert.ok((await int(conn, "OBJECT", "IDLETIME", "j")) <= 1);
        }
      }
    });

    it("CLIENT NO-TOUCH (Redis 7.2): the client's reads leave the clock alone, its TOUCH does not", async () => {
      const c = suite.pair.respite;
      await c.call("SET", "k", "v");
      const payload = decode(await c.call("DUMP", "k")) as Uint8Array;
      await c.call("RESTORE", "i", "0", Buffer.from(payload), "IDLETIME", "500");
      assert.equal(text(decode(await c.call("CLIENT", "NO-TOUCH", "ON"))), "OK");
      await c.pipeline([["GET", "i"], ["STRLEN", "i"], ["GETRANGE", "i", "0", "0"], ["DUMP", "i"]]);
      assert.ok((await int(c, "OBJECT", "IDLETIME", "i")) >= 500);
      await c.call("TOUCH", "i");
      assert.ok((await int(c, "OBJECT", "IDLETIME", "i")) <= 1);
      await c.call("CLIENT", "NO-TOUCH", "OFF");
    });

    it("RDB files carry IDLE under LRU policies and FREQ under LFU ones, both ways with redis-server, and through DEBUG RELOAD", async () => {
      await same("SET k v");
      const payload = decode(await suite.pair.same("DUMP", "k")) as Uint8Array;
      const respite = suite.pair.respite;
      const dir = text((decode(await respite.call("CONFIG", "GET", "dir")) as Uint8Array[])[1]);
      /** Saves under policy, then reads the file back with DEBUG RELOAD and with a redis-server started on it. */
      const roundTrip = async (policy: string, check: (conn: RawConnection, who: string) => Promise<void>) => {
        await respite.pipeline([["CONFIG", "SET", "maxmemory-policy", policy], ["DEBUG", "RELOAD"]]);
        await check(respite, "DEBUG RELOAD");
        await respite.call("SAVE");
        const other = await startRedis(["--dir", dir, "--maxmemory-policy", policy]);
        try {
          const conn = await RawConnection.connect(other.port);
          await check(conn, "redis-server");
          conn.close();
        } finally {
          await other.stop();
        }
      };
      await respite.call("RESTORE", "i", "0", Buffer.from(payload), "IDLETIME", "1000");
      await roundTrip("allkeys-lru", async (conn, who) => {
        const idle = await int(conn, "OBJECT", "IDLETIME", "i");
        assert.ok(idle >= 1000 && idle <= 1010, `${who} read idle ${idle}`);
      });
      await respite.pipeline([["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"], ["RESTORE", "f", "0", Buffer.from(payload), "FREQ", "77"]]);
      await roundTrip("allkeys-lfu", async (conn) => assert.equal(await int(conn, "OBJECT", "FREQ", "f"), 77));
      // redis-server's file read by Respite.
      const r = await startRedis(["--maxmemory-policy", "allkeys-lfu"]);
      let back: ServerHandle | undefined;
      try {
        const conn = await RawConnection.connect(r.port);
        await conn.pipeline([["RESTORE", "f", "0", Buffer.from(payload), "FREQ", "66"], ["SAVE"]]);
        const redisDir = text((decode(await conn.call("CONFIG", "GET", "dir")) as Uint8Array[])[1]);
        conn.close();
        back = await startRespite(rt, ["--dir", redisDir, "--maxmemory-policy", "allkeys-lfu"]);
        const b = await RawConnection.connect(back.port);
        assert.equal(await int(b, "OBJECT", "FREQ", "f"), 66);
        b.close();
      } finally {
        await back?.stop();
        await r.stop();
      }
    });

    it("evicted keys raise `evicted` keyspace events", async () => {
      const subs = await Promise.all([RawConnection.connect(redis().port), RawConnection.connect(suite.respite.port)]);
      try {
        await same("CONFIG SET notify-keyspace-events Ee");
        for (const s of subs) await s.call("SUBSCRIBE", "__keyevent@0__:evicted");
        await same("SET a 1", "SET b 2", "SET c 3", "CONFIG SET maxmemory-policy allkeys-random", "CONFIG SET maxmemory 1", "SET d 4", "DBSIZE");
        const [fromRedis, fromRespite] = await Promise.all(subs.map(async (s) => {
          const messages = await s.readReplies(3);
          return messages.map((m) => text((decode(m) as Uint8Array[])[2])).sort();
        }));
        assert.deepEqual(fromRespite, fromRedis);
        assert.deepEqual(fromRespite, ["a", "b", "c"]);
      } finally {
        for (const s of subs) s.close();
      }
    });

    it("evicted keys reach the AOF as DEL, or UNLINK with lazyfree-lazy-eviction", async () => {
      const server = await startRespite(rt, ["--appendonly", "yes"]);
      try {
        const c = await RawConnection.connect(server.port);
        await c.pipeline(lines("SET a 1", "SET b 2", "CONFIG SET maxmemory-policy allkeys-lru", "CONFIG SET maxmemory 1", "SET c 3"));
        await c.pipeline(lines("CONFIG SET maxmemory 0", "CONFIG SET lazyfree-lazy-eviction yes", "SET d 4", "CONFIG SET maxmemory 1", "SET e 5"));
        const dir = text((decode(await c.call("CONFIG", "GET", "dir")) as Uint8Array[])[1]);
        c.close();
        const aofDir = path.join(dir, "appendonlydir");
        const incr = fs.readdirSync(aofDir).filter((f) => f.endsWith(".incr.aof"));
        const aof = incr.map((f) => fs.readFileSync(path.join(aofDir, f), "latin1")).join("");
        const commands = aof.split("*").slice(1).map((cmd) => cmd.split("\r\n").filter((_, i) => i > 0 && i % 2 === 0).join(" "));
        assert.deepEqual(commands.filter((cmd) => /^(DEL|UNLINK) /.test(cmd)).sort(), ["DEL a", "DEL b", "UNLINK d"]);
      } finally {
        await server.stop();
      }
    });

    it("used_memory follows writes and deletes by the amounts MEMORY USAGE gives", async () => {
      // Each step on a connection of its own, gone before the next, so only the data differs between readings.
      const alone = async <T>(fn: (conn: RawConnection) => Promise<T>): Promise<T> => {
        const conn = await RawConnection.connect(suite.respite.port);
        try {
          return await fn(conn);
        } finally {
          conn.close();
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      // Clients' buffers change on their own (the cron shrinks idle reply buffers): the data is used_memory without them.
      const used = () =>
        alone(async (conn) => {
          const info = (await conn.call("INFO", "memory")).toString("latin1");
          const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)![1]);
          return field("used_memory") - field("mem_clients_normal");
        });
      const write = (cmds: string[][]) => alone((conn) => conn.pipeline(cmds));
      const usage = (keys: string[]) =>
        alone(async (conn) => (await conn.pipeline(keys.map((k) => ["MEMORY", "USAGE", k]))).reduce((sum, r) => sum + Number(decode(r)), 0));
      const base = await used();
      await write([["SET", "big", "x".repeat(1 << 20)]]);
      assert.equal((await used()) - base, await usage(["big"]));
      const keys = Array.from({ length: 5000 }, (_, i) => `key:${i}`);
      await write(keys.map((k, i) => (i % 2 ? ["SET", k, String(i)] : ["SET", k, "v".repeat(i % 300), "EX", "1000"])));
      assert.equal((await used()) - base, await usage(["big", ...keys]));
      // Collections change in place: a hash grows past its listpack, a list by nodes, both shrink again.
      await write([
        ...Array.from({ length: 1000 }, (_, i) => ["HSET", "h", `field:${i}`, "x".repeat(i % 50)]),
        ...Array.from({ length: 2000 }, (_, i) => ["RPUSH", "l", "y".repeat(i % 100)]),
      ]);
      assert.equal((await used()) - base, await usage(["big", "h", "l", ...keys]));
      await write([["HDEL", "h", ...Array.from({ length: 990 }, (_, i) => `field:${i}`)], ["LTRIM", "l", "0", "9"]]);
      assert.equal((await used()) - base, await usage(["big", "h", "l", ...keys]));
      await write([["DEL", "big", "h", "l", ...keys]]);
      assert.equal(await used(), base);
    });

    it("cache workload: used memory stays at the limit under every policy; LRU and LFU hit ratios within 2 points of redis-server's", async () => {
      for (const policy of POLICIES) {
        const volatile = policy.startsWith("volatile-");
        const w: CacheWorkload = policy.endsWith("-lru") || policy.endsWith("-lfu")
          ? { ...WORKLOAD, ttl: volatile ? 100_000 : 0 }
          : { ...WORKLOAD, warmup: 30_000, reads: 30_000, ttl: volatile ? 100_000 : 0 };
        const result = await cacheRun(suite.respite.port, policy, w);
        const max = Math.max(...result.usedSamples);
        const mean = result.usedSamples.reduce((a, b) => a + b, 0) / result.usedSamples.length;
        // With nothing to evict, the last write admitted below the limit may end above it: by about a value.
        assert.ok(max <= MAXMEMORY + (policy === "noeviction" ? OVERSHOOT : 0), `${policy}: used_memory ${max} over maxmemory`);
        assert.ok(mean >= MAXMEMORY * 0.95, `${policy}: used_memory ${mean} on average, not at the limit`);
        if (policy === "noeviction") assert.ok(result.errors > 0, "noeviction: write-backs refused");
        else assert.equal(result.errors, 0, `${policy}: write-backs refused`);
        if (policy !== "allkeys-lru" && policy !== "allkeys-lfu") continue;
        if (!redisResults.has(policy)) redisResults.set(policy, cacheRun(cacheRedis().port, policy, w));
        const theirs = await redisResults.get(policy)!;
        const points = (result.hitRatio - theirs.hitRatio) * 100;
        console.log(
          `# ${rt} ${policy}: hit ratio ${(result.hitRatio * 100).toFixed(2)}% (${result.keysAtEnd} keys) vs redis-server ` +
            `${(theirs.hitRatio * 100).toFixed(2)}% (${theirs.keysAtEnd} keys)`,
        );
        assert.ok(Math.abs(points) <= 2, `${policy}: ${points.toFixed(2)} points from redis-server's hit ratio`);
      }
      // The same workload without deadlines leaves volatile-* nothing to evict: write-backs get OOM.
      const none = await cacheRun(suite.respite.port, "volatile-lru", { ...WORKLOAD, warmup: 30_000, reads: 10_000 });
      assert.ok(none.errors > 0 && Math.max(...none.usedSamples) <= MAXMEMORY + OVERSHOOT);
    });
  });
}
