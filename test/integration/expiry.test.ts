/**
 * Key deadlines. Differential against redis-server byte for byte: EXPIRE
 * PEXPIRE EXPIREAT PEXPIREAT with NX XX GT LT and their conflicts, overflow
 * errors, deadlines in the past (a DEL, not an expiry), TTL PTTL
 * EXPIRETIME PEXPIRETIME PERSIST, and which deletions INFO counts as
 * expired. Targeted: 100k keys vanish with nobody touching them (the
 * active cycle), and no command ever shows a key past its deadline, with
 * the active cycle on or off. Deadlines are absolute (PXAT) times from
 * this process's clock, which is the server's clock too, so "the server
 * read its time after we sent" is what every check relies on.
 */
import { beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, sharedRedis } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { type Cmd, diffSuite, rng } from "../lib/diff.ts";
import { decode, lines, loadOneLiners, text } from "../lib/keyspace.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function infoField(conn: RawConnection, field: string): Promise<number> {
  const info = text(decode(await conn.call("INFO", "stats")));
  const m = new RegExp(`^${field}:(\\d+)`, "m").exec(info);
  assert.ok(m, `INFO stats has ${field}`);
  return Number(m[1]);
}

const redis = sharedRedis();

for (const rt of RUNTIMES) {
  describe(`expiry on ${rt}`, () => {
    const suite = diffSuite(redis, rt);
    const same = (...text: string[]) => suite.pair.sameAll(lines(...text));

    beforeEach(async () => {
      await same("FLUSHALL", "DEBUG SET-ACTIVE-EXPIRE 1");
    });

    it("EXPIRE PEXPIRE EXPIREAT PEXPIREAT with NX XX GT LT", async () => {
      await same(
        "SET k v", "EXPIRE k 100", "TTL k", "EXPIRE k 100 NX", "EXPIRE k 200 XX", "TTL k", "EXPIRE k 50 GT", "TTL k",
        "EXPIRE k 300 GT", "TTL k", "EXPIRE k 400 LT", "EXPIRE k 10 LT", "TTL k", "EXPIRE k 10 lt", "PERSIST k", "TTL k",
        "EXPIRE k 10 XX", "EXPIRE k 10 GT", "EXPIRE k 10 GT GT", "EXPIRE k 500 LT", "TTL k", "PERSIST k",
        "EXPIRE k 10 nx", "EXPIRE k 10 NX", "TTL k", "EXPIRE k 20 XX GT", "TTL k", "EXPIRE k 5 XX LT", "TTL k",
        "EXPIRE k 10 NX XX", "EXPIRE k 10 NX GT", "EXPIRE k 10 NX LT", "EXPIRE k 10 XX NX", "EXPIRE k 10 GT LT",
        "EXPIRE k 10 LT GT", "EXPIRE k 10 GT NX LT", "EXPIRE k 10 FOO", "EXPIRE k 10 NX FOO", "EXPIRE k abc FOO",
        "EXPIRE k abc NX XX", "EXPIRE k abc GT LT", "EXPIRE k abc", "EXPIRE k 1.5", "EXPIRE k ''", "EXPIRE k +1",
        "EXPIRE nokey 100", "EXPIRE nokey 100 XX", "EXPIRE k", "EXPIRE", "PEXPIRE k 100000", "TTL k",
        "PEXPIRE k 100000 NX", "PEXPIRE k 200000 GT", "TTL k", "PEXPIRE k abc", "PEXPIRE k 10 NX XX",
        "EXPIREAT k 4000000000", "EXPIRETIME k", "PEXPIRETIME k", "EXPIREAT k 3000000000 GT", "EXPIREAT k 5000000000 GT",
        "EXPIRETIME k", "EXPIREAT k 4500000000 LT", "EXPIRETIME k", "EXPIREAT k 4500000000 NX", "EXPIREAT k abc",
        "PEXPIREAT k 4000000000123", "EXPIRETIME k", "PEXPIRETIME k", "PEXPIREAT k 4000000000999 XX", "EXPIRETIME k",
        "PEXPIREAT k 4100000000000 LT", "PEXPIRETIME k", "PEXPIREAT k 10 GT LT", "PERSIST k", "PERSIST k", "PERSIST nokey",
        "EXPIRETIME k", "PEXPIRETIME k", "EXPIRETIME nokey", "PEXPIRETIME nokey", "TTL nokey", "PTTL nokey", "PTTL k",
        "TTL", "TTL a b", "PTTL", "EXPIRETIME", "PEXPIRETIME a b", "PERSIST", "PERSIST a b",
        "PEXPIRE k 2200", "TTL k", "ZADD z 1 a", "EXPIRE z 100", "TTL z", "TYPE z", "PERSIST z", "TTL z",
      );
      const [a, b] = await Promise.all([suite.pair.redis.call("PTTL", "z"), suite.pair.respite.call("PTTL", "z")]);
      assert.equal(b.toString(), a.toString());
      await same("PEXPIRE z 100000");
      const pttl = Number(decode(await suite.pair.respite.call("PTTL", "z")));
      assert.ok(pttl > 90_000 && pttl <= 100_000, `PTTL ${pttl}`);
    });

    it("rejects deadlines that overflow 64-bit milliseconds, as Redis does", async () => {
      const big = [
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "9223372036854775", "9223372036854774", "9223372036854", "-9223372036854775", "-9223372036854776",
        "9223372036854775000", "9223370000000000000", "99999999999999999999",
      ];
      for (const cmd of ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]) {
        const seq: string[] = [];
        for (const v of big) seq.push("SET k v", `${cmd} k ${v}`, "EXISTS k", `${cmd} nokey ${v}`);
        await same(...seq);
      }
    });

    it("a deadline already past deletes the key at once, as a DEL and not an expiry", async () => {
      await same("DEBUG SET-ACTIVE-EXPIRE 0");
      const expiredBefore = await Promise.all([infoField(suite.pair.redis, "expired_keys"), infoField(suite.pair.respite, "expired_keys")]);
      await same(
        "SET a 1", "EXPIRE a -1", "EXISTS a", "SET a 1", "EXPIRE a 0", "EXISTS a", "SET a 1", "PEXPIRE a -100", "EXISTS a",
        "SET a 1", "EXPIREAT a 1", "EXISTS a", "SET a 1", "PEXPIREAT a 0", "EXISTS a", "SET a 1", "EXPIREAT a -5",
        "TTL a", "EXPIRE nokey -1", "SET a 1", "EXPIRE a 100", "EXPIRE a -1 GT", "TTL a", "EXPIRE a -1 LT", "EXISTS a",
        "SET a 1", "EXPIRE a -1 XX", "EXISTS a", "EXPIRE a -1 NX", "EXISTS a", "SET a 1", "EXPIRE a -1 NX", "EXISTS a",
        "ZADD z 1 m", "PEXPIRE z -1", "TYPE z", "SET a 1", "PEXPIRE a -9223372036854775808", "EXISTS a",
        "SET a 1", "EXPIRE a -9223372036854775", "EXISTS a", "SET lazy 1", "PEXPIREAT lazy " + (Date.now() + 30),
      );
      await sleep(60);
      // KEYS skips a key past its deadline but leaves it to be expired by the next access: DBSIZE still counts it.
      await same("KEYS lazy", "DBSIZE", "GET lazy", "EXISTS lazy", "DBSIZE");
      const afterwards = await Promise.all([infoField(suite.pair.redis, "expired_keys"), infoField(suite.pair.respite, "expired_keys")]);
      assert.equal(afterwards[1] - expiredBefore[1], afterwards[0] - expiredBefore[0]);
      assert.equal(afterwards[1] - expiredBefore[1], 1);
    });

    it("100k keys with short deadlines vanish without anyone touching them", async () => {
      const conn = await RawConnection.connect(suite.respite.port);
      const expiredBefore = await infoField(conn, "expired_keys");
      const keys = Array.from({ length: 100_000 }, (_, i) => `k:${i}`);
      const withoutDeadline = keys.filter((_, i) => i % 2 === 0);
      await loadOneLiners(suite.respite.port, withoutDeadline.map((k) => ["SET", k, "v"]));
      // Half get their deadline with SET PXAT, half with PEXPIREAT on an existing key.
      const at = String(Date.now() + 2500);
      const withDeadline = keys.filter((_, i) => i % 2 === 1).map((k) => ["SET", k, "v", "PXAT", at]);
      await loadOneLiners(suite.respite.port, [...withDeadline, ...withoutDeadline.map((k) => ["PEXPIREAT", k, at])]);
      assert.ok(Date.now() < Number(at), "loaded before the deadline (else the test proves nothing)");
      assert.equal(decode(await conn.call("DBSIZE")), 100_000);
      let size = 100_000;
      for (let waited = 0; size > 0 && waited < 30_000; waited += 100) {
        await sleep(100);
        size = Number(decode(await conn.call("DBSIZE")));
      }
      assert.equal(size, 0);
      assert.equal(await infoField(conn, "expired_keys") - expiredBefore, 100_000);
      conn.close();
    });

    for (const active of [false, true]) {
      it(`no command shows a key past its deadline (active cycle ${active ? "on" : "off"})`, async () => {
        const conn = await RawConnection.connect(suite.respite.port);
        await conn.call("DEBUG", "SET-ACTIVE-EXPIRE", active ? "1" : "0");
        const next = rng(active ? 5 : 6);
        const deadline = new Map<string, number>();
        const start = Date.now() + 50;
        const cmds: string[][] = [];
        for (let i = 0; i < 3000; i++) {
          const key = `d:${i}`;
          const at = start + Math.floor(next() * 300);
          deadline.set(key, at);
          cmds.push(i % 3 === 0 ? ["ZADD", key, "1", "m"] : ["SET", key, "v"], ["PEXPIREAT", key, String(at)]);
        }
        await loadOneLiners(suite.respite.port, cmds);
        const alive = (key: string, sentAt: number, what: string) =>
          assert.ok(deadline.get(key)! > sentAt, `${what} showed ${key} ${sentAt - deadline.get(key)!} ms past its deadline`);
        let cursor = "0";
        while (Date.now() < start + 400) {
          const key = `d:${Math.floor(next() * 3000)}`;
          const probes: Cmd[] = [
            ["GET", key], ["EXISTS", key], ["TTL", key], ["PTTL", key], ["TYPE", key], ["EXPIRETIME", key],
            ["OBJECT", "ENCODING", key], ["RANDOMKEY"], ["SCAN", cursor, "COUNT", "100"], ["KEYS", "d:1*"],
            ["COPY", key, "copied", "REPLACE"], ["EXISTS", "copied"], ["DEL", "copied"], ["RENAMENX", key, key],
            ["MOVE", key, "1"],
          ];
          const sentAt = Date.now();
          const [get, exists, ttl, pttl, type, expiretime, encoding, random, scan, keys, copy, copied, , renamenx, move] =
            (await conn.pipeline(probes)).map(decode);
          const shows = (yes: boolean, what: string) => yes && alive(key, sentAt, what);
          shows(get !== null, "GET"); // a WRONGTYPE error shows the key too
          shows(exists === 1, "EXISTS");
          shows(ttl !== -2, "TTL");
          shows(pttl !== -2, "PTTL");
          shows(type !== "none", "TYPE");
          shows(expiretime !== -2, "EXPIRETIME");
          shows(encoding !== null, "OBJECT ENCODING");
          shows(copy === 1, "COPY");
          shows(copied === 1, "EXISTS on the copy");
          shows(renamenx === 0, "RENAMENX");
          shows(move === 1, "MOVE");
          if (move === 1) await conn.pipeline([["SELECT", "1"], ["MOVE", key, "0"], ["SELECT", "0"]]);
          if (random !== null && text(random).startsWith("d:")) alive(text(random), sentAt, "RANDOMKEY");
          const [nextCursor, scanned] = scan as [Uint8Array, Uint8Array[]];
          cursor = text(nextCursor);
          for (const k of scanned) alive(text(k), sentAt, "SCAN");
          for (const k of keys as Uint8Array[]) alive(text(k), sentAt, "KEYS");
        }
        await sleep(Math.max(0, start + 300 - Date.now()));
        const sentAt = Date.now();
        const all = [...deadline.keys()];
        const replies = await conn.pipeline([...all.map((k) => ["EXISTS", k]), ["DBSIZE"], ["KEYS", "*"]]);
        const liveAtSend = all.filter((k) => deadline.get(k)! > sentAt).length;
        assert.ok(Number(decode(replies[all.length])) <= liveAtSend, "DBSIZE after touching every key");
        assert.deepEqual(decode(replies[all.length + 1]), []);
        await conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "1");
        conn.close();
      });
    }
  });
}
