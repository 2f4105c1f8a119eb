/**
 * Client-side caching (CLIENT TRACKING) against redis-server: each scene
 * (test/lib/scene.ts) plays the same commands on both servers, and every
 * frame each connection receives, replies and invalidations in order, must
 * be the same. Covers RESP3 pushes, RESP2 REDIRECT to a subscriber,
 * broken redirects, BCAST with prefixes, OPTIN/OPTOUT with CLIENT CACHING,
 * NOLOOP, flushes, expiry, tracking-table-max-keys, scripts, errors and
 * RESET. node-redis's client-side cache runs against Respite alone.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { BasicClientSideCache, createClient } from "redis";
import { RUNTIMES, startRedis, startRespite, type ServerHandle } from "../lib/servers.ts";
import type { Cmd } from "../lib/diff.ts";
import { type Play, same, Scene, sleep } from "../lib/scene.ts";

/** Client names let close() wait for the server to notice a disconnection. */
async function named(s: Scene, ...names: string[]): Promise<void> {
  await s.open(...names);
  for (const n of names) await s.quiet(n, "CLIENT", "SETNAME", n);
}

async function resp3(s: Scene, ...names: string[]): Promise<void> {
  await named(s, ...names);
  for (const n of names) await s.quiet(n, "HELLO", "3");
}

const defaultMode: Play = async (s) => {
  await resp3(s, "a");
  await named(s, "b");
  await s.on("a", ["CLIENT", "TRACKING", "ON"]);
  await s.on("a", ["GET", "k"]);
  await s.on("b", ["SET", "k", "1"]);
  await s.read("a");
  await s.on("a", ["MGET", "k", "k2"]);
  // Invalidations a command causes for its own client follow its reply, even in a transaction.
  await s.on("a", ["MULTI"]);
  await s.on("a", ["GET", "k"]);
  await s.on("a", ["SET", "k", "2"]);
  await s.on("a", ["GET", "k"]);
  await s.on("a", ["EXEC"], 2);
  await s.on("b", ["SET", "k", "3"]);
  await s.read("a");
  await s.on("a", ["GET", "k2"]);
  await s.on("a", ["SET", "k2", "x"], 2);
  await s.pipeline("a", [["GET", "z"], ["SET", "z", "1"], ["GET", "z"]], 4);
  await s.on("a", ["CLIENT", "TRACKINGINFO"]);
  await s.on("a", ["CLIENT", "GETREDIR"]);
  await s.clientFlags("a");
  await s.info("b");
  // Keys are tracked whatever their db; a flush invalidates everything, SWAPDB nothing.
  await s.on("a", ["GET", "q"]);
  await s.on("b", ["SELECT", "2"]);
  await s.on("b", ["SET", "q", "1"]);
  await s.read("a");
  await s.on("a", ["FLUSHDB"], 2);
  await s.on("b", ["FLUSHALL"]);
  await s.read("a");
  await s.on("b", ["FLUSHDB"]);
  await s.read("a");
  await s.on("b", ["SWAPDB", "0", "1"]);
  await s.on("a", ["OBJECT", "ENCODING", "oe"]);
  await s.on("a", ["EXISTS", "ex"]);
  await s.on("a", ["GET", Buffer.from([0, 0xff, 13, 10])]);
  await s.on("b", ["MSET", "oe", "1", "ex", "1", Buffer.from([0, 0xff, 13, 10]), "v"]);
  await s.read("a", 3);
  // A write command's keys are not tracked, nor any key once tracking is off.
  await s.on("a", ["SET", "w", "1"]);
  await s.on("b", ["SET", "w", "2"]);
  await s.on("a", ["GET", "r"]);
  await s.on("a", ["CLIENT", "TRACKING", "OFF"]);
  await s.on("b", ["SET", "r", "1"]);
  await s.info("b");
  // Pushes go out even while replies are off.
  await s.on("a", ["CLIENT", "TRACKING", "ON"]);
  await s.on("a", ["GET", "k"]);
  s.send("a", ["CLIENT", "REPLY", "OFF"]);
  s.send("a", ["SET", "k", "1"]);
  await s.read("a");
  await s.on("a", ["CLIENT", "REPLY", "ON"]);
};

const redirects: Play = async (s) => {
  await named(s, "r", "a", "b", "x", "p");
  await resp3(s, "y");
  await s.quiet("x", "HELLO", "3");
  await s.on("r", ["SUBSCRIBE", "__redis__:invalidate"]);
  await s.on("a", ["CLIENT", "TRACKING", "ON", "REDIRECT", s.id("r")]);
  await s.on("a", ["GET", "k"]);
  await s.on("b", ["SET", "k", "1"]);
  await s.read("r");
  await s.on("a", ["GET", "k"]);
  await s.on("a", ["SET", "k", "2"]);
  await s.read("r");
  await s.on("a", ["FLUSHALL"]);
  await s.read("r");
  await s.on("a", ["CLIENT", "TRACKINGINFO"]);
  await s.on("a", ["CLIENT", "GETREDIR"]);
  await s.clientFlags("a");
  // A flush's null is in the tracking client's protocol, even inside a RESP2 message (as Redis sends it).
  await s.on("x", ["CLIENT", "TRACKING", "ON", "REDIRECT", s.id("r")]);
  await s.on("x", ["GET", "k"]);
  await s.on("b", ["SET", "k", "1"]);
  await s.read("r");
  await s.on("x", ["FLUSHDB"]);
  await s.read("r", 2);
  // A RESP3 redirect client gets pushes, subscribed or not.
  await s.on("a", ["CLIENT", "TRACKING", "ON", "REDIRECT", s.id("y")]);
  await s.on("a", ["GET", "k"]);
  await s.on("b", ["SET", "k", "1"]);
  await s.read("y");
  await s.on("b", ["FLUSHDB"]);
  await s.read("y");
  await s.read("r");
  // A RESP2 redirect client gets messages only in pub/sub mode (a pattern is enough).
  await s.on("a", ["CLIENT", "TRACKING", "ON", "REDIRECT", s.id("p")]);
  await s.on("a", ["GET", "k"]);
  await s.on("b", ["SET", "k", "1"]);
  await s.on("p", ["PSUBSCRIBE", "nothing*"]);
  await s.on("a", ["GET", "k"]);
  await s.on("b", ["SET", "k", "2"]);
  await s.read("p");
  // The redirect client is gone: a RESP3 client hears of it at each invalidation.
  await s.close("r");
  await s.on("x", ["GET", "k"]);
  await s.on("b", ["SET", "k", "1"]);
  await s.read("x");
  await s.on("x", ["CLIENT", "TRACKINGINFO"]);
  await s.clientFlags("x");
  await s.on("x", ["GET", "k"]);
  await s.on("x", ["SET", "k", "1"], 2);
  await s.on("a", ["GET", "k"]);
  await s.on("b", ["FLUSHALL"]);
  await s.read("x");
  await s.read("p");
};

const broadcast: Play = async (s) => {
  await resp3(s, "c", "d", "e");
  await named(s, "b");
  await s.on("c", ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "b", "PREFIX", "a", "NOLOOP"]);
  await s.on("d", ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a"]);
  await s.on("e", ["CLIENT", "TRACKING", "ON", "BCAST"]);
  const mset: Cmd = ["MSET", "b1", "1", "a2", "1", "a1", "2", "c", "3", "a2", "5"];
  await s.on("b", mset);
  await s.read("c", 2);
  await s.read("d");
  await s.read("e");
  // NOLOOP: c hears nothing of its own writes.
  await s.on("c", mset);
  await s.read("d");
  await s.read("e");
  // ...but a script's writes are the script client's, so c hears of those.
  await s.on("c", ["EVAL", "redis.call('set','a5','1') return 1", "0"], 2);
  await s.read("d");
  await s.read("e");
  // A batch of commands: one message after all their replies.
  await s.pipeline("d", [["SET", "ax", "1"], ["DEL", "ay"], ["SET", "ay", "2"], ["GET", "ax"]], 5);
  await s.read("c");
  await s.read("e");
  await s.on("d", ["GET", "a1"]);
  await s.on("d", ["MULTI"]);
  await s.on("d", ["SET", "a1", "1"]);
  await s.on("d", ["EXEC"], 2);
  await s.read("c");
  await s.read("e");
  await s.on("c", ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "z"]);
  await s.on("c", ["CLIENT", "TRACKINGINFO"]);
  await s.on("e", ["CLIENT", "TRACKINGINFO"]);
  await s.clientFlags("c");
  await s.info("b");
  await s.on("c", ["CLIENT", "TRACKING", "OFF"]);
  await s.info("b");
  await s.on("b", ["SET", "a9", "1"]);
  await s.read("d");
  await s.read("e");
  await s.on("b", ["FLUSHALL"]);
  await s.read("d");
  await s.read("e");
};

const optInOut: Play = async (s) => {
  await resp3(s, "a");
  await named(s, "b");
  await s.on("a", ["CLIENT", "TRACKING", "ON", "OPTIN"]);
  await s.on("a", ["GET", "k1"]);
  // CACHING YES covers the next command, whatever CLIENT subcommands come between, or a whole transaction.
  await s.on("a", ["CLIENT", "CACHING", "YES"]);
  await s.on("a", ["CLIENT", "GETREDIR"]);
  await s.on("a", ["GET", "k2"]);
  await s.on("a", ["GET", "k3"]);
  await s.on("a", ["CLIENT", "CACHING", "YES"]);
  await s.on("a", ["MULTI"]);
  await s.on("a", ["GET", "k4"]);
  await s.on("a", ["GET", "k5"]);
  await s.on("a", ["EXEC"]);
  await s.on("a", ["GET", "k6"]);
  await s.on("a", ["MULTI"]);
  await s.on("a", ["CLIENT", "CACHING", "YES"]);
  await s.on("a", ["GET", "k7"]);
  await s.on("a", ["EXEC"]);
  await s.on("a", ["GET", "k8"]);
  for (const [cmd, key] of [[["PING"], "k9"], [["NOSUCHCOMMAND"], "k10"], [["GET"], "k11"]] as const) {
    await s.on("a", ["CLIENT", "CACHING", "YES"]);
    await s.on("a", [...cmd]);
    await s.on("a", ["GET", key]);
  }
  await s.on("a", ["CLIENT", "CACHING", "YES"]);
  await s.on("a", ["CLIENT", "TRACKINGINFO"]);
  await s.on("a", ["CLIENT", "TRACKING", "ON", "OPTIN", "NOLOOP"]);
  await s.on("a", ["CLIENT", "TRACKINGINFO"]);
  await s.on("a", ["GET", "k12"]);
  const keys = Array.from({ length: 12 }, (_, i) => `k${i + 1}`);
  await s.on("b", ["MSET", ...keys.flatMap((k) => [k, "1"])]);
  await s.read("a", 5);
  await s.on("a", ["CLIENT", "TRACKING", "OFF"]);
  await s.on("a", ["CLIENT", "TRACKING", "ON", "OPTOUT"]);
  await s.on("a", ["GET", "k1"]);
  await s.on("a", ["CLIENT", "CACHING", "NO"]);
  await s.on("a", ["CLIENT", "TRACKINGINFO"]);
  await s.on("a", ["GET", "k2"]);
  await s.on("a", ["GET", "k3"]);
  await s.on("b", ["MSET", "k1", "2", "k2", "2", "k3", "2"]);
  await s.read("a", 2);
};

const errors: Play = async (s) => {
  await named(s, "a", "b");
  const on = (...args: string[]) => s.on("a", ["CLIENT", "TRACKING", ...args]);
  await on("ON", "PREFIX", "a");
  await on("ON", "PREFIX", "a", "OPTIN", "OPTOUT");
  await on("ON", "BCAST", "OPTIN");
  await on("ON", "BCAST", "OPTIN", "OPTOUT");
  await on("ON", "OPTIN", "OPTOUT");
  await on("ON", "REDIRECT", "999999");
  await on("ON", "REDIRECT", "0");
  await on("ON", "REDIRECT", "-1");
  await on("ON", "REDIRECT", "x");
  await on("ON", "REDIRECT", s.id("b"), "REDIRECT", s.id("b"));
  await on("ON", "REDIRECT", "999999", "FOO");
  await on("ON", "FOO", "REDIRECT", "999999");
  await on("OFF", "REDIRECT", "999999");
  await on("MAYBE", "REDIRECT", "999999");
  await on("ON", "FOO");
  await on("MAYBE");
  await on("ON", "PREFIX");
  await on("ON", "BCAST", "PREFIX", "ab", "PREFIX", "a");
  await on("ON", "BCAST", "PREFIX", "a", "PREFIX", "a");
  await on("ON", "BCAST", "PREFIX", "", "PREFIX", "q");
  await on("ON", "BCAST", "PREFIX", "a\0b", "PREFIX", "a");
  await on("ON", "BCAST", "PREFIX", "a", "PREFIX", "b");
  await on("ON", "BCAST", "PREFIX", "abc");
  await on("ON", "BCAST", "PREFIX", "z", "PREFIX", "b");
  await on("ON", "BCAST", "PREFIX", "a\r\nq");
  await on("ON", "BCAST", "PREFIX", "a\r\nq");
  await on("ON", "BCAST");
  await s.on("a", ["CLIENT", "TRACKINGINFO"]);
  await on("ON");
  await on("ON", "OPTIN");
  await on("OFF", "PREFIX", "x");
  await s.on("a", ["CLIENT", "TRACKINGINFO"]);
  await s.on("a", ["CLIENT", "CACHING", "YES"]);
  await on("ON", "OPTIN");
  await on("ON", "BCAST");
  await on("ON", "OPTOUT");
  await on("ON", "OPTIN", "OPTOUT");
  await s.on("a", ["CLIENT", "CACHING", "NO"]);
  await s.on("a", ["CLIENT", "CACHING", "maybe"]);
  await s.on("a", ["CLIENT", "CACHING", "YES", "x"]);
  await s.on("a", ["CLIENT", "GETREDIR", "x"]);
  await s.on("a", ["CLIENT", "TRACKINGINFO", "x"]);
  await s.on("a", ["CLIENT", "TRACKING"]);
};

const expiry: Play = async (s) => {
  await resp3(s, "a", "c");
  await named(s, "b");
  await s.on("b", ["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
  await s.on("a", ["CLIENT", "TRACKING", "ON"]);
  await s.on("c", ["CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP"]);
  for (const key of ["e", "f", "g"]) {
    await s.on("b", ["SET", key, "1", "PX", "400"]);
    await s.read("c");
  }
  await s.on("a", ["MGET", "e", "f"]);
  await sleep(500);
  // Lazy expiry by a's own read: the invalidation follows the reply.
  await s.on("a", ["GET", "e"], 2);
  await s.read("c");
  await s.on("b", ["EXISTS", "f"]);
  await s.read("a");
  await s.read("c");
  // An expiry has no writer: even a NOLOOP client hears of the one its own read caused.
  await s.on("c", ["GET", "g"], 2);
  await s.on("b", ["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
  await s.on("b", ["SET", "h", "1", "PX", "400"]);
  await s.read("c");
  await s.on("a", ["GET", "h"]);
  await s.read("a");
  await s.read("c");
};

const tableLimit: Play = async (s) => {
  await resp3(s, "a");
  const keys = (p: string) => [1, 2, 3, 4].map((i) => p + i);
  await s.quiet("admin", "CONFIG", "SET", "tracking-table-max-keys", "2");
  await s.on("a", ["CLIENT", "TRACKING", "ON"]);
  // Checked before each command; the limit goes last so the cron has nothing left to do.
  const batch = (p: string): Cmd[] => [["MGET", ...keys(p)], ["PING"], ["CONFIG", "SET", "tracking-table-max-keys", "0"]];
  await s.pipeline("a", batch("m"), 5);
  await s.info("admin");
  // The client about to run a command does not hear of these with NOLOOP (as in Redis).
  await s.on("a", ["CLIENT", "TRACKING", "ON", "NOLOOP"]);
  await s.quiet("admin", "CONFIG", "SET", "tracking-table-max-keys", "2");
  await s.pipeline("a", batch("n"), 3);
  await s.info("admin");
  await s.quiet("admin", "CONFIG", "SET", "tracking-table-max-keys", "1000000");
  // Which keys go is random in Redis: only how many is compared.
  for (let i = 0; i < s.log.length; i++) s.log[i] = s.log[i].replace(/\$2\\r\\n[mn]\d/g, "$$2\\r\\nkey");
};

const scripts: Play = async (s) => {
  await resp3(s, "a");
  await named(s, "b");
  await s.on("a", ["CLIENT", "TRACKING", "ON"]);
  // A read inside a script tracks the keys the script declared; a script that reads nothing tracks none.
  await s.on("a", ["EVAL_RO", "return redis.call('get','t2')", "1", "t1"]);
  await s.on("a", ["EVAL", "return redis.call('set','t3','x')", "1", "t4"]);
  await s.on("a", ["EVAL", "return redis.call('exists','t5')", "2", "t6", "t7"]);
  await s.on("a", ["EVAL_RO", "return 1", "1", "t8"]);
  await s.on("b", ["MSET", ...[1, 2, 3, 4, 5, 6, 7, 8].flatMap((i) => [`t${i}`, "1"])]);
  await s.read("a", 3);
  await s.on("a", ["GET", "t1"]);
  // The script's own write to a key a tracks: the invalidation follows EVAL's reply.
  await s.on("a", ["EVAL", "redis.call('set','t1','2') return redis.call('get','t1')", "1", "t1"], 2);
  await s.on("b", ["SET", "t1", "3"]);
  await s.read("a");
};

const resetAndLeave: Play = async (s) => {
  await resp3(s, "a");
  await named(s, "b");
  await s.on("a", ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x"]);
  await s.info("b");
  await s.on("a", ["RESET"]);
  await s.on("a", ["CLIENT", "TRACKINGINFO"]);
  await s.clientFlags("a");
  await s.info("b");
  await s.quiet("a", "CLIENT", "SETNAME", "a");
  await s.on("a", ["CLIENT", "TRACKING", "ON"]);
  await s.on("a", ["GET", "k"]);
  await s.close("a");
  // The keys a departed client read stay until invalidated, as in Redis.
  await s.info("b");
  await s.on("b", ["SET", "k", "1"]);
  await s.info("b");
};

let redis: ServerHandle;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

for (const rt of RUNTIMES) {
  describe(`client tracking on ${rt}`, () => {
    let server: ServerHandle;
    before(async () => {
      server = await startRespite(rt);
    });
    after(async () => {
      await server?.stop();
    });

    const scenes: Array<[string, Play]> = [
      ["RESP3 default mode: pushes after the reply, MULTI, pipelines, flushes, dbs, binary keys", defaultMode],
      ["REDIRECT: RESP2 __redis__:invalidate messages, RESP3 pushes, broken redirects", redirects],
      ["BCAST with prefixes and NOLOOP", broadcast],
      ["OPTIN/OPTOUT with CLIENT CACHING", optInOut],
      ["option errors in Redis's order, TRACKINGINFO, GETREDIR", errors],
      ["lazy and active expiry", expiry],
      ["tracking-table-max-keys", tableLimit],
      ["reads inside scripts", scripts],
      ["RESET and disconnection turn tracking off", resetAndLeave],
    ];
    for (const [title, play] of scenes) it(title, () => same(redis.port, server.port, play));

    it("node-redis client-side cache (RESP3) is invalidated by other clients and FLUSHALL", async () => {
      const cache = new BasicClientSideCache();
      const socket = { port: server.port, host: "127.0.0.1" };
      const client = createClient({ socket, RESP: 3, clientSideCache: cache });
      const writer = createClient({ socket });
      await Promise.all([client.connect(), writer.connect()]);
      try {
        await writer.set("csc", "1");
        assert.equal(await client.get("csc"), "1");
        assert.equal(await client.get("csc"), "1");
        assert.equal(cache.stats().hitCount, 1);
        assert.equal(cache.size(), 1);
        let invalidated = new Promise((resolve) => cache.once("invalidate", resolve));
        await writer.set("csc", "2");
        assert.equal(String(await invalidated), "csc");
        assert.equal(cache.size(), 0);
        assert.equal(await client.get("csc"), "2");
        invalidated = new Promise((resolve) => cache.once("invalidate", resolve));
        await writer.flushAll();
        assert.equal(await invalidated, null);
        assert.equal(await client.get("csc"), null);
      } finally {
        await Promise.all([client.quit(), writer.quit()]);
      }
    });
  });
}
