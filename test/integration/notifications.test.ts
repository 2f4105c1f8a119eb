/**
 * Keyspace notifications against redis-server: a subscriber to
 * __key*__:* on each server sees the same pushes, in the same order, while
 * the same commands run on both: every string, key, expire and collection
 * command that emits an event (with the "new" class), clients served after
 * blocking, each event class of notify-keyspace-events alone, expiry (lazy
 * and active), binary keys, and randomized sequences. Hash field expiry
 * (7.4, no oracle) is checked against its documented events.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, startRespite, type ServerHandle, sharedRedis } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { type Cmd, DiffPair, pushesUntil, rng, show } from "../lib/diff.ts";
import { lines } from "../lib/keyspace.ts";

const BARRIER = "notifications:barrier";

/** blocked_clients from INFO clients. */
async function blockedClients(conn: RawConnection): Promise<number> {
  return Number(/blocked_clients:(\d+)/.exec((await conn.call("INFO", "clients")).toString())![1]);
}

const redis = sharedRedis();

for (const rt of RUNTIMES) {
  describe(`keyspace notifications on ${rt}`, () => {
    let server: ServerHandle;
    let cmd: DiffPair;
    let sub: DiffPair;
    /** The connection that blocks (BLPOP...) while cmd serves it. */
    let blocker: DiffPair;
    before(async () => {
      server = await startRespite(rt);
      cmd = await DiffPair.open(redis().port, server.port);
      sub = await DiffPair.open(redis().port, server.port);
      blocker = await DiffPair.open(redis().port, server.port);
      for (const conn of [sub.redis, sub.respite]) {
        await conn.pipeline([["PSUBSCRIBE", "__key*__:*"], ["SUBSCRIBE", BARRIER]]);
      }
    });
    after(async () => {
      await cmd?.same("CONFIG", "SET", "notify-keyspace-events", "");
      cmd?.close();
      sub?.close();
      blocker?.close();
      await server?.stop();
    });

    /**
     * Runs cmds on both servers under the given flags and compares replies
     * (unless they are random, as SPOP's), then the events they caused.
     */
    async function sameEvents(flags: string, cmds: Cmd[], replies: "same" | "random" = "same"): Promise<void> {
      await cmd.same("CONFIG", "SET", "notify-keyspace-events", flags);
      const all = [...cmds, ["PUBLISH", BARRIER, "end"]];
      if (replies === "same") await cmd.sameAll(all);
      else await Promise.all([cmd.redis.pipeline(all), cmd.respite.pipeline(all)]);
      const [a, b] = await Promise.all([pushesUntil(sub.redis, BARRIER), pushesUntil(sub.respite, BARRIER)]);
      assert.deepEqual(b, a, `events under '${flags}'`);
    }

    /** Blocks the blocker with `block` on both servers, then runs cmds, which serve it: same reply, same events. */
    async function sameEventsServing(block: Cmd, cmds: Cmd[]): Promise<void> {
      const served = Promise.all([blocker.redis.call(...block), blocker.respite.call(...block)]);
      for (const conn of [cmd.redis, cmd.respite]) {
        while ((await blockedClients(conn)) === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await sameEvents("KEAn", cmds);
      const [a, b] = await served;
      assert.equal(show(b), show(a), `served reply to ${block.join(" ")}`);
    }

    /** Runs cmds on Respite alone (commands redis 7.0 lacks) and returns the keyevent pushes as "event key". */
    async function respiteEvents(cmds: Cmd[]): Promise<string[]> {
      await cmd.respite.call("CONFIG", "SET", "notify-keyspace-events", "EAn");
      await cmd.respite.pipeline([...cmds, ["PUBLISH", BARRIER, "end"]]);
      const pushes = await pushesUntil(sub.respite, BARRIER);
      return pushes.map((p) => {
        const parts = JSON.parse(p).split("\r\n");
        return `${parts[6].replace("__keyevent@0__:", "")} ${parts[8]}`;
      });
    }

    it("emits Redis's events for string commands", async () => {
      await sameEvents("KEA", lines(
        "FLUSHALL",
        "SET a 1", "SET a 2 EX 100", "SET a 2 KEEPTTL", "SET a 3 NX", "SET a 3 XX GET", "SET b 3 GET", "SET a 4 PXAT 99999999999999",
        "SETNX c 1", "SETNX c 2", "SETEX d 10 v", "PSETEX d 10000 v", "MSET a 1 b 2", "MSETNX x 1 y 2", "MSETNX x 1 z 2",
        "GETSET a 5", "GETDEL a", "GETDEL a", "GETEX b EX 100", "GETEX b PERSIST", "GETEX b PERSIST", "GETEX b",
        "GETEX b EXAT 1", "GETEX nothing EX 10",
        "INCR c", "DECR c", "INCRBY c 5", "DECRBY c 2", "INCRBYFLOAT c 1.5", "INCR d",
        "APPEND c x", "APPEND n x", "SETRANGE c 1 zz", "SETRANGE c 1 ''", "SETRANGE q 0 ''", "SETRANGE q 2 x",
        "GET a", "MGET a b", "STRLEN c", "GETRANGE c 0 1",
      ));
    });

    it("emits Redis's events for key, expire and database commands", async () => {
      await sameEvents("KEA", lines(
        "FLUSHALL",
        "SET a 1", "SET b 2", "DEL a b c", "SET a 1", "UNLINK a nothing",
        "SET a 1", "RENAME a b", "RENAME b b", "RENAMENX b c", "SET d 1", "RENAMENX c d", "RENAME nothing x",
        "COPY c e", "COPY c e", "COPY c e REPLACE", "COPY c e DB 2", "MOVE e 1", "MOVE e 1", "SELECT 1", "DEL e", "SELECT 0",
        "EXPIRE c 100", "PEXPIRE c 100000", "EXPIREAT c 99999999999", "PEXPIREAT c 99999999999999", "EXPIRE c 100 NX",
        "EXPIRE c 200 GT", "PERSIST c", "PERSIST c", "EXPIRE c 100 XX", "EXPIRE nothing 10", "EXPIRE c 0",
        "SET g 1", "PEXPIREAT g 1", "SET h 1", "EXPIRE h -5",
        "SET s 1", "SWAPDB 0 1", "SWAPDB 0 1", "FLUSHDB", "SET t 1", "FLUSHALL",
        "SET u 1", "TOUCH u", "EXISTS u", "TYPE u", "TTL u", "OBJECT ENCODING u",
      ));
    });

    it("emits Redis's events for list commands, with new keys", async () => {
      await sameEvents("KEAn", lines(
        "FLUSHALL",
        "LPUSH l a b c", "RPUSH l d", "LPUSHX l x", "RPUSHX l y", "LPUSHX nothing x", "RPUSHX nothing x",
        "LPOP l", "RPOP l 2", "LPOP l 0", "LPOP nothing", "LINSERT l BEFORE a z", "LINSERT l AFTER b z", "LINSERT nothing BEFORE a z",
        "LSET l 0 q", "LSET l 99 q", "LREM l 0 q", "LREM l 0 nothing", "LTRIM l 0 0", "LTRIM l 5 4", "LTRIM nothing 0 1",
        "RPUSH s a b", "LMOVE s d LEFT RIGHT", "RPOPLPUSH s d", "RPOPLPUSH d d", "LMOVE nothing d LEFT LEFT", "LMOVE d d RIGHT LEFT",
        "LMPOP 2 nothing d LEFT COUNT 1", "LMPOP 1 d RIGHT COUNT 5", "RPUSH one x", "RPOP one", "RPUSH one x y", "LPOP one 5",
        "BLPOP nothing l2 0.01", "RPUSH bl a", "BLPOP bl 0", "RPUSH bl a b", "BRPOP bl 0", "BLMOVE bl bd RIGHT LEFT 0",
        "BRPOPLPUSH bd bd 0", "BLMPOP 0 1 bd LEFT COUNT 3",
        "SET str x", "LPUSH str x", "LMOVE bd str LEFT LEFT", "RPUSH srt 3 1 2", "SORT srt STORE out", "SORT srt DESC STORE out",
        "SORT nothing STORE out", "SORT nothing STORE out", "SORT_RO srt",
      ));
    });

    it("emits Redis's events for hash and set commands, with new keys", async () => {
      await sameEvents("KEAn", lines(
        "FLUSHALL",
        "HSET h a 1 b 2", "HSET h a 1", "HSETNX h a 2", "HSETNX h c 2", "HSETNX h2 c 2", "HMSET h d 4", "HDEL h a nope", "HDEL h nope",
        "HDEL nothing a", "HINCRBY h n 1", "HINCRBYFLOAT h f 1.5", "HINCRBY h a x", "HINCRBY h3 a 1", "HINCRBYFLOAT h4 a 1",
        "HSET h s str", "HINCRBY h s 1", "HINCRBYFLOAT h s 1", "HDEL h b c d n f s", "HDEL h2 c", "HGET h a", "HGETALL h3",
        "SADD s a b", "SADD s a", "SREM s a x", "SREM s x", "SREM nothing x", "SADD s c", "SPOP s 0", "SREM s b c",
        "SADD p 1", "SPOP p", "SADD p 1 2 3", "SPOP p 3", "SPOP nothing", "SPOP nothing 2",
        "SADD a 1 2", "SADD b 2 3", "SMOVE a b 1", "SMOVE a b 1", "SMOVE a b 2", "SMOVE b b 3", "SADD a 1", "SMOVE a c 1",
        "SMOVE nothing c 1", "SINTERSTORE d a b", "SADD a 2", "SINTERSTORE d a b", "SUNIONSTORE d a b", "SDIFFSTORE d b b",
        "SDIFFSTORE nx b b", "SINTERSTORE d2 nothing", "SET str x", "SADD str x", "SMOVE b str 2", "SUNIONSTORE str b",
        "SMEMBERS str", "SISMEMBER b 3", "SINTERCARD 1 b",
      ));
      await sameEvents("KEAn", lines("SADD r a b c d", "SPOP r", "SPOP r 2", "SPOP r 5"), "random");
    });

    it("emits Redis's events for sorted set commands, with new keys", async () => {
      await sameEvents("KEAn", lines(
        "FLUSHALL",
        "ZADD z 1 a 2 b", "ZADD z 1 a", "ZADD z 5 a", "ZADD z XX 1 q", "ZADD z NX 1 a", "ZADD z INCR 2 a", "ZINCRBY z 1 b",
        "ZINCRBY z 0 b", "ZADD z INCR 0 b", "ZADD z2 XX 1 a", "ZADD z GT 1 a", "ZADD z CH 9 c", "ZADD z INCR NX 1 a",
        "ZADD z 1 nan", "ZADD z2 GT 3 x",
        "ZREM z c nope", "ZREM z nope", "ZREM nothing a", "ZADD z 3 c 4 d 5 e", "ZREMRANGEBYSCORE z 100 200", "ZREMRANGEBYSCORE z 3 3",
        "ZREMRANGEBYRANK z 0 0", "ZREMRANGEBYLEX z [x [z", "ZREMRANGEBYLEX z - +", "ZREMRANGEBYRANK nothing 0 1",
        "ZADD z 1 a 2 b 3 c", "ZPOPMIN z", "ZPOPMAX z 0", "ZPOPMAX z 5", "ZPOPMIN nothing",
        "ZADD z 1 a 2 b", "ZMPOP 1 z MIN COUNT 1", "ZMPOP 2 nothing z MAX COUNT 9", "ZMPOP 1 nothing MIN",
        "ZADD x 1 a 2 b", "ZADD y 2 b 3 c", "ZUNIONSTORE u 2 x y", "ZINTERSTORE i 2 x y WEIGHTS 1 2", "ZDIFFSTORE d 2 x y",
        "ZDIFFSTORE d 2 x x", "ZINTERSTORE e 2 x nothing", "ZRANGESTORE r x 0 -1", "ZRANGESTORE r x 5 6", "ZRANGESTORE r2 x 5 6",
        "ZUNIONSTORE u 1 nothing", "ZUNION 2 x y", "ZINTERCARD 2 x y",
        "BZPOPMIN x 0", "BZPOPMAX x y 0", "BZMPOP 0 2 x y MIN COUNT 5", "BZPOPMIN nothing 0.01",
        "SET str v", "ZADD str 1 a", "ZUNIONSTORE str 1 y", "TYPE str",
      ));
    });

    it("emits Redis's events when a blocked client is served", async () => {
      await cmd.same("FLUSHALL");
      await sameEventsServing(["BLPOP", "bl", "0"], lines("RPUSH bl a b"));
      await sameEventsServing(["BRPOP", "nothing", "bl2", "0"], lines("LPUSH bl2 x"));
      await sameEventsServing(["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"], lines("RPUSH src x"));
      await sameEventsServing(["BRPOPLPUSH", "s5", "s5", "0"], lines("RPUSH s5 a"));
      await sameEventsServing(["BLMPOP", "0", "2", "m1", "m2", "RIGHT", "COUNT", "5"], lines("RPUSH m2 a b"));
      await sameEventsServing(["BZPOPMIN", "z1", "0"], lines("ZADD z1 1 a 2 b"));
      await sameEventsServing(["BZMPOP", "0", "1", "z2", "MAX", "COUNT", "9"], lines("ZADD z2 1 a"));
      await sameEventsServing(["BLPOP", "t", "0"], lines("MULTI", "RPUSH t a", "RPUSH t b", "LPOP t", "EXEC"));
      await sameEventsServing(["BLPOP", "w", "0"], lines("SET w x", "DEL w", "RPUSH w a"));
    });

    it("emits the documented 7.4 events for hash field expiry", async () => {
      await cmd.respite.call("FLUSHALL");
      assert.deepEqual(await respiteEvents(lines(
        "HSET h a 1 b 2 c 3", "HEXPIRE h 100 FIELDS 2 a nope", "HEXPIRE h 100 NX FIELDS 1 a", "HPERSIST h FIELDS 1 a",
        "HPERSIST h FIELDS 1 a", "HPEXPIRE h 0 FIELDS 1 b", "HEXPIREAT h 1 FIELDS 2 a c", "HEXPIRE nothing 10 FIELDS 1 a",
      )), ["new h", "hset h", "hexpire h", "hpersist h", "hexpired h", "hexpired h", "del h"]);
      await respiteEvents(lines("HSET g a 1 b 2", "HPEXPIRE g 20 FIELDS 2 a b"));
      await new Promise((r) => setTimeout(r, 60));
      // Read or reclaimed by the active cycle first, the expired fields go the same way.
      assert.deepEqual(await respiteEvents(lines("HGET g a", "EXISTS g")), ["hexpired g", "del g"]);
    });

    it("publishes only the classes and channel kinds the flags ask for", async () => {
      const cmds = lines("SET k 1", "EXPIRE k 100", "INCR k", "DEL k", "GET k", "EXISTS k", "SET k 1", "EXPIRE k 0");
      for (const flags of ["K$", "Eg", "KEx", "Em", "KA", "E$g", "Kgm", "$", "KE", ""]) await sameEvents(flags, cmds);
      await sameEvents("KEA", lines("FLUSHALL"));
    });

    it("emits expired for lazily and actively expired keys, with binary keys", async () => {
      const key = Buffer.from("bin\x00\r\n\xff:key", "latin1");
      await cmd.same("DEBUG", "SET-ACTIVE-EXPIRE", "0");
      await sameEvents("KEA", [["SET", key, "v", "PX", "30"], ["SET", "lazy", "v", "PX", "30"], ["SET", "active", "v", "PX", "30"]]);
      await new Promise((r) => setTimeout(r, 80));
      await sameEvents("KEA", [["GET", "lazy"], ["EXISTS", key], ["SET", key, "again"], ["DEL", key]]);
      await cmd.same("DEBUG", "SET-ACTIVE-EXPIRE", "1");
      // The active cycle finds "active" within a few cron ticks on both servers.
      await new Promise((r) => setTimeout(r, 400));
      await sameEvents("KEA", [["EXISTS", "active"]]);
      await sameEvents("KEAm", [["GET", key], ["GET", "nothing"]]);
      // A write over a key past its deadline expires it first, then creates it anew.
      await cmd.same("DEBUG", "SET-ACTIVE-EXPIRE", "0");
      await sameEvents("KEAn", [["SET", "over", "v", "PX", "30"], ["RPUSH", "overlist", "v"], ["PEXPIRE", "overlist", "30"]]);
      await new Promise((r) => setTimeout(r, 80));
      await sameEvents("KEAn", [["SET", "over", "again"], ["RPUSH", "overlist", "w"], ["SADD", "overlist", "x"]]);
      await cmd.same("DEBUG", "SET-ACTIVE-EXPIRE", "1");
    });

    it("matches redis-server over a randomized sequence", async () => {
      const next = rng(7260);
      const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
      const keys = ["r:a", "r:b", "r:c", "r:d"];
      const makers: Array<() => Cmd> = [
        () => ["SET", pick(keys), String(Math.floor(next() * 100))],
        () => ["SET", pick(keys), "v", pick(["EX", "PX"]), "100000"],
        () => ["SET", pick(keys), "v", pick(["NX", "XX", "GET", "KEEPTTL"])],
        () => ["GETDEL", pick(keys)],
        () => ["GETEX", pick(keys), pick(["PERSIST", "EX", "PX"]), "50000"].slice(0, 3 + Number(next() < 0.5)),
        () => ["INCRBY", pick(keys), String(Math.floor(next() * 10) - 5)],
        () => ["INCRBYFLOAT", pick(keys), "0.5"],
        () => ["APPEND", pick(keys), "x"],
        () => ["SETRANGE", pick(keys), String(Math.floor(next() * 4)), pick(["", "yz"])],
        () => ["EXPIRE", pick(keys), pick(["100", "0", "-1"])],
        () => ["PERSIST", pick(keys)],
        () => ["DEL", pick(keys), pick(keys)],
        () => ["RENAME", pick(keys), pick(keys)],
        () => ["RENAMENX", pick(keys), pick(keys)],
        () => ["COPY", pick(keys), pick(keys), ...(next() < 0.5 ? ["REPLACE"] : [])],
        () => ["MSET", pick(keys), "1", pick(keys), "2"],
        () => ["GET", pick(keys)],
      ];
      const cmds = Array.from({ length: 300 }, () => pick(makers)());
      await sameEvents("KEAm", [["FLUSHALL"], ...cmds]);
    });

    it("matches redis-server over a randomized sequence of collection commands", async () => {
      const next = rng(7340);
      const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
      const keys = ["c:a", "c:b", "c:c"];
      const member = () => pick(["m1", "m2", "m3", "7"]);
      const n = () => String(Math.floor(next() * 5) - 2);
      const makers: Array<() => Cmd> = [
        () => [pick(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), pick(keys), member(), member()],
        () => [pick(["LPOP", "RPOP"]), pick(keys), ...(next() < 0.5 ? [String(Math.floor(next() * 3))] : [])],
        () => ["LMOVE", pick(keys), pick(keys), pick(["LEFT", "RIGHT"]), pick(["LEFT", "RIGHT"])],
        () => ["LREM", pick(keys), n(), member()],
        () => ["LTRIM", pick(keys), n(), n()],
        () => ["LSET", pick(keys), n(), member()],
        () => ["LINSERT", pick(keys), pick(["BEFORE", "AFTER"]), member(), member()],
        () => ["HSET", pick(keys), member(), n()],
        () => ["HDEL", pick(keys), member(), member()],
        () => ["HINCRBY", pick(keys), member(), n()],
        () => ["SADD", pick(keys), member(), member()],
        () => ["SREM", pick(keys), member(), member()],
        () => ["SMOVE", pick(keys), pick(keys), member()],
        () => [pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), pick(keys), pick(keys), pick(keys)],
        () => ["ZADD", pick(keys), ...(next() < 0.3 ? [pick(["NX", "XX", "GT", "LT", "CH", "INCR"])] : []), n(), member()],
        () => ["ZINCRBY", pick(keys), n(), member()],
        () => ["ZREM", pick(keys), member(), member()],
        () => [pick(["ZPOPMIN", "ZPOPMAX"]), pick(keys), String(Math.floor(next() * 3))],
        () => ["ZREMRANGEBYSCORE", pick(keys), n(), n()],
        () => ["ZREMRANGEBYRANK", pick(keys), n(), n()],
        () => [pick(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), pick(keys), "2", pick(keys), pick(keys)],
        () => ["ZRANGESTORE", pick(keys), pick(keys), n(), n()],
        () => ["SORT", pick(keys), "ALPHA", "STORE", pick(keys)],
        () => ["DEL", pick(keys)],
      ];
      const cmds = Array.from({ length: 400 }, () => pick(makers)());
      await sameEvents("KEAn", [["FLUSHALL"], ...cmds]);
    });
  });
}
