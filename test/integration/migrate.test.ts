/**
 * Moving keys between instances, and the tools that do it. MIGRATE first in
 * standalone mode: the same scenario run with redis-server 7 as the source
 * and with Respite as the source, against a redis-server target and a
 * Respite target, must give the same replies and leave both sides the same.
 * The cluster tools (redis-cli --cluster, cluster clients) are in
 * cluster-tools-<kind>.test.ts (test/lib/cluster-tool-suites.ts).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { RawConnection } from "../lib/raw.ts";
import { DiffPair } from "../lib/diff.ts";
import { commandDocs } from "../lib/command-docs.ts";
import { decodeReplies } from "../../core/resp/decoder.ts";
import { freePort, RUNTIMES, type ServerHandle, sharedRedis, startRespite } from "../lib/servers.ts";
import { info, until } from "../lib/targets.ts";

type Arg = string | Buffer | number;

/** A TCP server that takes connections and bytes and never answers: MIGRATE to it times out reading. */
async function silentServer(): Promise<{ port: number; received: () => Promise<void>; close: () => void }> {
  const sockets = new Set<net.Socket>();
  let waiter: (() => void) | null = null;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("data", () => waiter?.());
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => new Promise<void>((r) => (waiter = r)),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

function text(reply: Buffer): string {
  return reply.toString("latin1");
}

/** A key's type and value in a form that does not depend on the encoding the server chose. */
async function describeKey(conn: RawConnection, key: Buffer): Promise<string> {
  const type = text(await conn.call("TYPE", key)).trim();
  const read: Record<string, Arg[]> = {
    "+string": ["GET", key],
    "+hash": ["HGETALL", key],
    "+list": ["LRANGE", key, 0, -1],
    "+set": ["SMEMBERS", key],
    "+zset": ["ZRANGE", key, 0, -1, "WITHSCORES"],
  };
  const value = decodeReplies(await conn.call(...read[type])).values[0];
  const flat = Array.isArray(value) ? value.map((v) => Buffer.from(v as Uint8Array).toString("latin1")) : [Buffer.from(value as Uint8Array).toString("latin1")];
  if (type === "+set" || type === "+hash") flat.sort();
  const pttl = Number(text(await conn.call("PTTL", key)).slice(1));
  return `${type} ${JSON.stringify(flat)} ${pttl > 0 ? "ttl" : pttl}`;
}

/** Every key of db (sorted) with its description. */
async function dbContents(conn: RawConnection, db: number): Promise<string[]> {
  await conn.call("SELECT", db);
  const keys = decodeReplies(await conn.call("KEYS", "*")).values[0] as Uint8Array[];
  const out: string[] = [];
  for (const k of keys.map((k) => Buffer.from(k)).sort(Buffer.compare)) out.push(`${JSON.stringify(k.toString("latin1"))} ${await describeKey(conn, k)}`);
  await conn.call("SELECT", 0);
  return out;
}

const BIN = Buffer.from([0, 0xff, 0x0d, 0x0a, 0x80]);

/**
 * The scenario: the source (no password) migrates to the target (requirepass pw).
 * Returns a transcript of every reply and both sides' contents after.
 */
async function scenario(srcPort: number, dstPort: number): Promise<string[]> {
  const src = await RawConnection.connect(srcPort);
  const dst = await RawConnection.connect(dstPort);
  const silent = await silentServer();
  const refusedPort = await freePort();
  const log: string[] = [];
  try {
    await dst.call("AUTH", "pw");
    // Connections cached by earlier runs (authenticated, a db selected) are closed: each run starts afresh.
    await dst.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
    await dst.call("FLUSHALL");
    await src.call("FLUSHALL");
    await src.call("CONFIG", "RESETSTAT");
    await src.call("MSET", "d", "4", "e", "5", "f", "6", "h1", "x");
    await src.call("SET", "g", "7", "PX", "100000");
    await src.call("HSET", "h", "f1", "v1", "f2", "v2");
    await src.call("RPUSH", "l", "a", "b", "c");
    await src.call("ZADD", "z", "1", "a", "2.5", "b");
    await src.call("SADD", "s", "m1", "m2");
    await src.call("SET", BIN, BIN);
    await dst.call("SET", "e", "old");
    const host = "127.0.0.1";
    const cmds: Arg[][] = [
      ["MIGRATE", host, dstPort, "nokey", 0, 1000],
      // No AUTH: the target's NOAUTH comes back in the reply to SELECT.
      ["MIGRATE", host, dstPort, "d", 0, 1000],
      // d, f, g move; e is there already (BUSYKEY); "missing" is skipped.
      ["MIGRATE", host, dstPort, "", 0, 1000, "AUTH", "pw", "KEYS", "d", "e", "f", "g", "missing"],
      ["MIGRATE", host, dstPort, "e", 0, 1000, "AUTH2", "default", "pw", "REPLACE"],
      ["MIGRATE", host, dstPort, "h", 0, 1000, "AUTH", "pw", "COPY"],
      ["MIGRATE", host, dstPort, "h", 0, 1000, "AUTH", "pw", "COPY"],
      ["MIGRATE", host, dstPort, "", 0, 0, "AUTH", "pw", "REPLACE", "KEYS", "l", "z", BIN, "h"],
      ["MIGRATE", host, dstPort, "s", 5, 1000, "AUTH", "pw"],
      ["MIGRATE", host, dstPort, "h1", 99, 1000, "AUTH", "pw"],
      ["MIGRATE", host, dstPort, "h1", 0, 1000, "AUTH", "wrong"],
      ["MIGRATE", host, dstPort, "k", 0, 1000, "KEYS", "h1"],
      ["MIGRATE", host, dstPort, "", 0, 1000, "KEYS"],
      ["MIGRATE", host, dstPort, "h1", 0, "x"],
      ["MIGRATE", host, dstPort, "h1", "x", 1000],
      ["MIGRATE", host, dstPort, "h1", 0, 1000, "AUTH"],
      ["MIGRATE", host, dstPort, "h1", 0, 1000, "AUTH2", "u"],
      ["MIGRATE", host, dstPort, "h1", 0, 1000, "bogus"],
      // A timeout past setTimeout's range still waits for the reply.
      ["MIGRATE", host, dstPort, "h1", 0, "99999999999", "AUTH", "pw", "COPY", "REPLACE"],
      ["MIGRATE", host, dstPort, "h1", 0],
      ["MIGRATE", host, refusedPort, "h1", 0, 200],
      ["MIGRATE", "name.invalid", dstPort, "h1", 0, 200],
      ["MIGRATE", host, "notaport", "h1", 0, 200],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "", 0, 5, "COPY", "AUTH", "keys", "KEYS", "a", "b"],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "", 0, 5, "AUTH2", "u", "p", "KEYS", "a"],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "k", 0, 5],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "", 0, 5, "COPY", "KEYS"],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "k", 0, 5, "KEYS"],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "k", 0, 5, "KEYS", "a"],
      ["COMMAND", "GETKEYS", "MIGRATE", host, 1, "", 0, 5, "bogus", "keys", "a"],
    ];
    // Ports differ from run to run: the transcript names them.
    const named = (a: Arg) => (a === dstPort ? "TARGET" : a === refusedPort ? "REFUSED" : String(a));
    for (const cmd of cmds) log.push(`${cmd.map(named).join(" ")} -> ${text(await src.call(...cmd))}`);
    // A target that never answers: the read times out, and meanwhile every other client of the source waits.
    const other = await RawConnection.connect(srcPort);
    const order: string[] = [];
    const arrived = silent.received();
    const migrating = src.call("MIGRATE", host, silent.port, "h1", 0, 300).then((r) => order.push(`migrate ${text(r)}`));
    await arrived;
    const write = other.call("SET", "h1", "during").then((r) => order.push(`set ${text(r)}`));
    await Promise.all([migrating, write]);
    other.close();
    log.push(...order);
    log.push("source:", ...(await dbContents(src, 0)));
    log.push("target:", ...(await dbContents(dst, 0)), "target db 5:", ...(await dbContents(dst, 5)));
    const stats = text(await src.call("INFO", "commandstats")).split("\r\n").find((l) => l.startsWith("cmdstat_migrate:"));
    log.push(String(stats?.replace(/usec=\d+,usec_per_call=[\d.]+,/, "")));
    return log;
  } finally {
    silent.close();
    src.close();
    dst.close();
  }
}

const redisSource = sharedRedis();
const redisTarget = sharedRedis(["--requirepass", "pw"]);

// Under each runtime named (not "redis" or "compiled", which the cluster files may add).
for (const rt of RUNTIMES.filter((r) => r === "bun" || r === "deno" || r === "node")) {
  describe(`MIGRATE in standalone mode under ${rt}`, () => {
    let source: ServerHandle;
    let target: ServerHandle;
    before(async () => {
      [source, target] = await Promise.all([startRespite(rt), startRespite(rt, ["--requirepass", "pw"])]);
    });
    after(async () => {
      await Promise.all([source?.stop(), target?.stop()]);
    });

    test("COMMAND INFO and DOCS of MIGRATE and RESTORE-ASKING are redis-server's", async () => {
      const pair = await DiffPair.open(redisSource().port, source.port);
      try {
        await pair.same("COMMAND", "INFO", "migrate", "restore-asking");
        assert.deepEqual(await commandDocs(pair.respite, ["migrate", "restore-asking"]), await commandDocs(pair.redis, ["migrate", "restore-asking"]));
      } finally {
        pair.close();
      }
    });

    test("MIGRATE inside MULTI/EXEC is refused (test/DIFFERENCES.md), the key left in place", async () => {
      const conn = await RawConnection.connect(source.port);
      try {
        await conn.call("SET", "inexec", "1");
        const replies = await conn.pipeline([["MULTI"], ["MIGRATE", "127.0.0.1", redisTarget().port, "inexec", 0, 1000, "AUTH", "pw"], ["EXEC"]]);
        assert.equal(text(replies[2]), "*1\r\n-ERR MIGRATE is not supported inside MULTI/EXEC or scripts by Respite\r\n");
        assert.equal(text(await conn.call("GET", "inexec")), "$1\r\n1\r\n");
      } finally {
        conn.close();
      }
    });

    test("the keys MIGRATE moved leave the source's replica too (one DEL propagated), and WAIT covers it", async () => {
      const replica = await startRespite(rt, ["--replicaof", "127.0.0.1", String(source.port)]);
      const [src, rep] = await Promise.all([RawConnection.connect(source.port), RawConnection.connect(replica.port)]);
      try {
        await until(async () => (await info(rep, "replication")).get("master_link_status") === "up", () => "replica link down", 30_000);
        await src.call("MSET", "p1", "1", "p2", "2", "p3", "3");
        const moved = await src.call("MIGRATE", "127.0.0.1", redisTarget().port, "", 0, 1000, "AUTH", "pw", "REPLACE", "KEYS", "p1", "p2");
        assert.equal(text(moved), "+OK\r\n");
        assert.equal(text(await src.call("WAIT", 1, 5000)), ":1\r\n");
        assert.equal(text(await rep.call("EXISTS", "p1", "p2", "p3")), ":1\r\n");
        assert.equal(text(await src.call("EXISTS", "p1", "p2", "p3")), ":1\r\n");
      } finally {
        src.close();
        rep.close();
        await replica.stop();
      }
    });

    test("Respite migrates to redis-server as redis-server does", async () => {
      const expected = await scenario(redisSource().port, redisTarget().port);
      assert.deepEqual(await scenario(source.port, redisTarget().port), expected);
    });

    test("redis-server and Respite migrate to Respite as to redis-server", async () => {
      const expected = await scenario(redisSource().port, redisTarget().port);
      assert.deepEqual(await scenario(redisSource().port, target.port), expected);
      assert.deepEqual(await scenario(source.port, target.port), expected);
    });
  });
}
