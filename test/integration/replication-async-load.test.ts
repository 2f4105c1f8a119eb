/**
 * Redis 7.0's async loading on a replica (`repl-diskless-load swapdb`): a
 * full sync of the history the replica already holds (same replid: the
 * primary's backlog no longer covers the replica's offset) keeps serving the
 * old dataset while the new one arrives and loads, with INFO loading:0 and
 * async_loading:1, keys past their deadline read as live (Redis expires
 * nothing while loading), commands flagged no_async_loading (and CONFIG SET
 * of appendonly/dir) refused with -LOADING; then the new dataset and
 * functions are swapped in, or, when the link is cut mid-transfer, the old
 * ones simply stay. The load is made to take seconds by the primary
 * (redis-server's rdb-key-save-delay) or by the replica (key-load-delay), so
 * it is watched without timing assertions. The same script runs against a
 * redis-server replica and a Respite replica under every runtime (also of a
 * Respite primary), and all must give the same replies.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, type ServerHandle, startRedis, startRespite } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { info, until } from "../lib/targets.ts";

const KEYS = 150;
const lib = (reply: string) => `#!lua name=test\nredis.register_function('test', function() return '${reply}' end)`;
const text = (b: Buffer) => b.toString("latin1");

async function persistenceFlags(c: RawConnection): Promise<string> {
  const i = await info(c, "persistence");
  return `loading:${i.get("loading")} async_loading:${i.get("async_loading")}`;
}

/**
 * What makes the full sync take seconds: the primary writing the RDB, or the
 * replica loading it; "aborted" is the first with the link cut mid-transfer.
 */
type Slow = "rdb-key-save-delay" | "key-load-delay" | "aborted";

/** What the replica answers during and after the async load, as "command -> reply" lines. */
async function scenario(
  slow: Slow,
  startReplica: (extra: string[]) => Promise<ServerHandle>,
  startPrimary: (extra: string[]) => Promise<ServerHandle> = startRedis,
): Promise<string[]> {
  const primary = await startPrimary(["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"]);
  const replica = await startReplica(["--repl-diskless-load", "swapdb", "--replica-read-only", "no"]);
  const p = await RawConnection.connect(primary.port);
  const r = await RawConnection.connect(replica.port);
  const seen: string[] = [];
  const ask = async (...args: string[]) => void seen.push(`${args.join(" ")} -> ${text(await r.call(...args))}`);
  try {
    // Values of 20 kB, uncompressed: each key leaves the primary as soon as it is written (see below).
    await p.pipeline(Array.from({ length: KEYS }, (_, i) => ["SET", `key:${i}`, `${i}:`.padEnd(20000, "v")]));
    await p.call("CONFIG", "SET", "rdbcompression", "no");
    await p.call("FUNCTION", "LOAD", lib("hello2"));
    // A key past its deadline that the primary never deletes: a replica reads it as missing, except while it
    // loads (Redis expires nothing then, and an async load serves clients).
    await p.call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
    await p.call("SET", "short", "lived", "PX", "500");
    assert.equal(text(await r.call("REPLICAOF", "127.0.0.1", String(primary.port))), "+OK\r\n");
    await until(async () => (await info(r, "replication")).get("master_link_status") === "up", () => "first sync", 30_000);
    // What only the replica holds: served until the swap, gone after it.
    assert.equal(text(await r.call("SET", "mykey", "myvalue")), "+OK\r\n");
    assert.equal(text(await r.call("FUNCTION", "LOAD", "REPLACE", lib("hello1"))), "$4\r\ntest\r\n");
    await until(async () => text(await r.call("GET", "short")) === "$-1\r\n", () => "short past its deadline", 10_000);
    const replid = (await info(r, "replication")).get("master_replid");
    assert.equal(replid, (await info(p, "replication")).get("master_replid"));

    // 20 ms a key: the next RDB takes seconds to arrive or to load. The replica is cut off and the backlog
    // overwritten, so it comes back with our replid and an offset the primary no longer has: a full sync of
    // the same history.
    const knob = slow === "aborted" ? "rdb-key-save-delay" : slow;
    assert.equal(text(await (knob === "key-load-delay" ? r : p).call("CONFIG", "SET", knob, "20000")), "+OK\r\n");
    const fill = "A".repeat(16384);
    const replies = await p.pipeline([
      ["MULTI"], ["CLIENT", "KILL", "TYPE", "replica"], ["CONFIG", "SET", "repl-backlog-size", "16384"],
      ...Array.from({ length: 10 }, (_, i) => ["SET", `fill:${i}`, fill]), ["EXEC"],
    ]);
    assert.match(text(replies[replies.length - 1]), /^\*12\r\n:1\r\n/);
    await until(async () => (await info(r, "persistence")).get("async_loading") === "1", () => "async_loading:1", 30_000);

    seen.push(await persistenceFlags(r));
    await ask("GET", "mykey");
    await ask("FCALL", "test", "0");
    await ask("DBSIZE");
    await ask("GET", "short");
    await ask("PTTL", "short");
    await ask("EXISTS", "short");
    await ask("KEYS", "sh*");
    await ask("SET", "during", "load");
    await ask("CONFIG", "GET", "key-load-delay");
    await ask("CONFIG", "GET", "key-load*");
    await ask("BGSAVE");
    await ask("REPLICAOF", "NO", "ONE");
    await ask("CONFIG", "SET", "appendonly", "no");
    await ask("MULTI");
    await ask("BGREWRITEAOF");
    await ask("EXEC");
    seen.push(`master_replid unchanged: ${(await info(r, "replication")).get("master_replid") === replid}`);
    // Still loading: what was seen above was seen during the load.
    seen.push(await persistenceFlags(r));

    if (slow === "aborted") {
      // The next attempt waits 5 s on the primary: the replica is caught between two syncs, holding the old data.
      await p.call("CONFIG", "SET", "repl-diskless-sync-delay", "5");
      await p.call("CLIENT", "KILL", "TYPE", "replica");
      await until(async () => (await info(r, "persistence")).get("async_loading") === "0", () => "the load given up", 30_000);
      seen.push(await persistenceFlags(r));
      await ask("GET", "mykey");
      await ask("GET", "during");
      await ask("FCALL", "test", "0");
      await ask("DBSIZE");
      return seen;
    }
    await until(async () => {
      const i = await info(r, "replication");
      return i.get("master_link_status") === "up" && (await info(r, "persistence")).get("async_loading") === "0";
    }, () => "the new dataset in place", 60_000, 50);
    seen.push(await persistenceFlags(r));
    await ask("GET", "mykey");
    await ask("GET", "during");
    await ask("FCALL", "test", "0");
    await ask("DBSIZE");
    await ask("GET", "short");
    seen.push(`same digest as the primary: ${text(await r.call("DEBUG", "DIGEST")) === text(await p.call("DEBUG", "DIGEST"))}`);
    return seen;
  } finally {
    await p.call("CONFIG", "SET", "rdb-key-save-delay", "0");
    p.close();
    r.close();
    await replica.stop();
    await primary.stop();
  }
}

const LOADING = "-LOADING Redis is loading the dataset in memory\r\n";
const EXPECTED = [
  "loading:0 async_loading:1",
  "GET mykey -> $7\r\nmyvalue\r\n",
  "FCALL test 0 -> $6\r\nhello1\r\n",
  `DBSIZE -> :${KEYS + 2}\r\n`,
  "GET short -> $5\r\nlived\r\n",
  "PTTL short -> :0\r\n",
  "EXISTS short -> :1\r\n",
  "KEYS sh* -> *1\r\n$5\r\nshort\r\n",
  "SET during load -> +OK\r\n",
  "CONFIG GET key-load-delay -> *2\r\n$14\r\nkey-load-delay\r\n$SLOW\r\n",
  // A test knob: listed only when asked by name.
  "CONFIG GET key-load* -> *0\r\n",
  `BGSAVE -> ${LOADING}`,
  `REPLICAOF NO ONE -> ${LOADING}`,
  `CONFIG SET appendonly no -> ${LOADING}`,
  "MULTI -> +OK\r\n",
  `BGREWRITEAOF -> ${LOADING}`,
  "EXEC -> -EXECABORT Transaction discarded because of previous errors.\r\n",
  "master_replid unchanged: true",
  "loading:0 async_loading:1",
  "loading:0 async_loading:0",
  "GET mykey -> $-1\r\n",
  "GET during -> $-1\r\n",
  "FCALL test 0 -> $6\r\nhello2\r\n",
  `DBSIZE -> :${KEYS + 11}\r\n`,
  "GET short -> $-1\r\n",
  "same digest as the primary: true",
];

/** After the link is cut mid-transfer: the old dataset and functions, with what was written meanwhile. */
const AFTER_ABORT = [
  "loading:0 async_loading:0",
  "GET mykey -> $7\r\nmyvalue\r\n",
  "GET during -> $4\r\nload\r\n",
  "FCALL test 0 -> $6\r\nhello1\r\n",
  `DBSIZE -> :${KEYS + 3}\r\n`,
];

/** EXPECTED with key-load-delay's value as CONFIG GET shows it. */
function expected(slow: Slow): string[] {
  const value = slow === "key-load-delay" ? "20000" : "0";
  const lines = EXPECTED.map((line) => line.replace("$SLOW", `$${value.length}\r\n${value}`));
  return slow === "aborted" ? [...lines.slice(0, lines.indexOf("loading:0 async_loading:0")), ...AFTER_ABORT] : lines;
}

describe("async loading on a replica (repl-diskless-load swapdb, same replid)", () => {
  for (const slow of ["rdb-key-save-delay", "key-load-delay", "aborted"] as const) {
    test(`redis-server replica, ${slow}`, async () => {
      // Redis serves clients only every loading-process-events-interval-bytes of the load (2 MB by default),
      // and only while bytes arrive: keys bigger than the primary's 16 kB writes keep them arriving.
      const seen = await scenario(slow, (extra) => startRedis([...extra, "--loading-process-events-interval-bytes", "1024"]));
      assert.deepEqual(seen, expected(slow));
    });
    for (const rt of RUNTIMES) {
      test(`Respite replica (${rt}), ${slow}`, async () => {
        assert.deepEqual(await scenario(slow, (extra) => startRespite(rt, extra)), expected(slow));
      });
    }
  }
  // Respite has no rdb-key-save-delay: with a Respite primary the replica's load is what takes time.
  for (const rt of RUNTIMES) {
    test(`Respite replica of a Respite primary (${rt}), key-load-delay`, async () => {
      const start = (extra: string[]) => startRespite(rt, extra);
      assert.deepEqual(await scenario("key-load-delay", start, start), expected("key-load-delay"));
    });
  }
});
