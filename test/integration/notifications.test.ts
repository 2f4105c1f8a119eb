/**
 * Keyspace notifications against redis-server: a subscriber to
 * __key*__:* on each server sees the same pushes, in the same order, while
 * the same commands run on both: every string, key and expire command that
 * emits an event, each event class of notify-keyspace-events alone,
 * expiry (lazy and active), binary keys, and a randomized sequence.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, startRedis, startRespite, type ServerHandle } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { type Cmd, DiffPair, rng, show } from "../lib/diff.ts";
import { lines } from "../lib/keyspace.ts";

const BARRIER = "notifications:barrier";

/** Pushes received until the barrier message, which the commanding connection publishes last. */
async function pushesUntilBarrier(sub: RawConnection): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const [push] = await sub.readReplies(1);
    if (push.includes(BARRIER)) return out;
    out.push(show(push));
  }
}

let redis: ServerHandle;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

for (const rt of RUNTIMES) {
  describe(`keyspace notifications on ${rt}`, () => {
    let server: ServerHandle;
    let cmd: DiffPair;
    let sub: DiffPair;
    before(async () => {
      server = await startRespite(rt);
      cmd = await DiffPair.open(redis.port, server.port);
      sub = await DiffPair.open(redis.port, server.port);
      for (const conn of [sub.redis, sub.respite]) {
        await conn.pipeline([["PSUBSCRIBE", "__key*__:*"], ["SUBSCRIBE", BARRIER]]);
      }
    });
    after(async () => {
      await cmd?.same("CONFIG", "SET", "notify-keyspace-events", "");
      cmd?.close();
      sub?.close();
      await server?.stop();
    });

    /** Runs cmds on both servers under the given flags and compares replies, then the events they caused. */
    async function sameEvents(flags: string, cmds: Cmd[]): Promise<void> {
      await cmd.same("CONFIG", "SET", "notify-keyspace-events", flags);
      await cmd.sameAll([...cmds, ["PUBLISH", BARRIER, "end"]]);
      const [a, b] = await Promise.all([pushesUntilBarrier(sub.redis), pushesUntilBarrier(sub.respite)]);
      assert.deepEqual(b, a, `events under '${flags}'`);
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
  });
}
