/**
 * CONFIG against redis-server: GET (globs, aliases, several patterns, RESP3
 * map), SET errors and atomicity, parameters taking effect when set, RESETSTAT,
 * and REWRITE of the file the server started with, including a stock
 * Debian redis.conf.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort, RUNTIMES, sharedRedis, startRespite, tmpDir } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { type Cmd, diffSuite } from "../lib/diff.ts";
import { decodeAt, type RespValue } from "../../core/resp/decoder.ts";

const text = (v: RespValue) => Buffer.from(v as Uint8Array).toString("latin1");

/** CONFIG GET's pairs, sorted: Redis answers in hash order. */
async function configGet(conn: RawConnection, ...patterns: string[]): Promise<string[][]> {
  const flat = decodeAt(await conn.call("CONFIG", "GET", ...patterns), 0)![0] as RespValue[];
  const pairs: string[][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([text(flat[i]), text(flat[i + 1])]);
  return pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** Under Node a port set by CONFIG SET is bound just after the reply (test/DIFFERENCES.md): retry briefly. */
async function connectWhenListening(port: number): Promise<RawConnection> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await RawConnection.connect(port);
    } catch (e) {
      if (attempt === 50) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Parameters whose values differ by nature (paths, ports, this machine). */
const LOCAL = new Set(["dir", "port", "bind", "enable-debug-command", "appendonly", "save", "set-max-listpack-entries", "set-max-listpack-value"]);

const SET_CASES: Cmd[] = [
  ["CONFIG", "SET", "hz"],
  ["CONFIG", "SET", "hz", "1", "port"],
  ["CONFIG", "SET", "foo", "1"],
  ["CONFIG", "SET", "hz", "x"],
  ["CONFIG", "SET", "hz", "5", "HZ", "6"],
  ["CONFIG", "SET", "port", "99999999999"],
  ["CONFIG", "SET", "maxmemory", "1x"],
  ["CONFIG", "SET", "maxmemory", "-1"],
  ["CONFIG", "SET", "maxclients", "0"],
  ["CONFIG", "SET", "timeout", "-1"],
  ["CONFIG", "SET", "daemonize", "yes"],
  ["CONFIG", "SET", "dir", "/tmp"],
  ["CONFIG", "SET", "save", "100"],
  ["CONFIG", "SET", "appendonly", "maybe"],
  ["CONFIG", "SET", "client-query-buffer-limit", "1"],
  ["CONFIG", "SET", "client-output-buffer-limit", "normal 1 2"],
  ["CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", "foo"],
  ["CONFIG", "GET", "maxmemory"],
  ["CONFIG", "SET", "hz", "600", "maxmemory", "1GB", "notify-keyspace-events", "KEA"],
  ["CONFIG", "GET", "hz"],
  ["CONFIG", "GET", "maxmemory"],
  ["CONFIG", "GET", "notify-keyspace-events"],
  ["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 2 3"],
  ["CONFIG", "GET", "client-output-buffer-limit"],
  ["CONFIG", "SET", "hz", "0", "maxmemory", "0", "notify-keyspace-events", "", "client-output-buffer-limit", "pubsub 32mb 8mb 60"],
  ["CONFIG", "SET", "hz", "10"],
  ["CONFIG", "GET", "HZ"],
  ["CONFIG", "GET", "slave-read-only"],
  ["CONFIG", "GET", "nope"],
  ["CONFIG", "GET"],
  ["CONFIG", "RESETSTAT", "x"],
  ["CONFIG", "HELP"],
  ["CONFIG", "FOO"],
];

const redis = sharedRedis();

for (const rt of RUNTIMES) {
  describe(`CONFIG on ${rt}`, () => {
    const suite = diffSuite(redis, rt);

    it("CONFIG GET * lists Redis's parameters with Redis's defaults", async () => {
      const ours = new Map((await configGet(suite.pair.respite, "*")).map(([k, v]) => [k, v]));
      const theirs = await configGet(suite.pair.redis, "*");
      for (const [name, value] of theirs) {
        assert.ok(ours.has(name), `missing ${name}`);
        if (!LOCAL.has(name)) assert.equal(ours.get(name), value, name);
      }
      assert.match(ours.get("dir")!, /^\//);
      assert.ok(ours.has("io"));
    });

    it("CONFIG GET with several globs and aliases matches Redis", async () => {
      for (const patterns of [["*max-*-entries*", "port"], ["hz", "h?"], ["*ziplist*"], ["[ab]*"], ["HZ"], ["nope*"]]) {
        const ours = (await configGet(suite.pair.respite, ...patterns)).filter(([k]) => !LOCAL.has(k));
        const theirs = (await configGet(suite.pair.redis, ...patterns)).filter(([k]) => !LOCAL.has(k));
        assert.deepEqual(ours, theirs, patterns.join(" "));
      }
    });

    it("CONFIG GET is a map in RESP3", async () => {
      const c = await RawConnection.connect(suite.respite.port);
      await c.call("HELLO", "3");
      assert.equal((await c.call("CONFIG", "GET", "hz")).toString("latin1"), "%1\r\n$2\r\nhz\r\n$2\r\n10\r\n");
      c.close();
    });

    it("CONFIG SET errors, atomicity and canonical values match Redis", async () => {
      for (const cmd of SET_CASES) await suite.pair.same(...cmd);
    });

    it("parameters take effect when set", async () => {
      const c = await RawConnection.connect(suite.respite.port);
      await c.call("CONFIG", "SET", "maxclients", "2");
      const second = await RawConnection.connect(suite.respite.port);
      const refused = await RawConnection.connect(suite.respite.port);
      assert.equal(await refused.untilClosed(), "-ERR max number of clients reached\r\n");
      second.close();
      await c.call("CONFIG", "SET", "maxclients", "10000");

      await c.call("CONFIG", "SET", "proto-max-bulk-len", "1mb");
      const big = await RawConnection.connect(suite.respite.port);
      big.write(`*2\r\n$4\r\nECHO\r\n$${2 * 1024 * 1024}\r\n`);
      assert.equal(await big.untilClosed(), "-ERR Protocol error: invalid bulk length\r\n");
      await c.call("CONFIG", "SET", "proto-max-bulk-len", "512mb");

      await c.call("CONFIG", "SET", "requirepass", "secret");
      const locked = await RawConnection.connect(suite.respite.port);
      assert.equal((await locked.call("GET", "x")).toString(), "-NOAUTH Authentication required.\r\n");
      assert.equal((await locked.call("AUTH", "secret")).toString(), "+OK\r\n");
      await c.call("CONFIG", "SET", "requirepass", "");
      locked.close();

      await c.call("CONFIG", "SET", "timeout", "1");
      const idle = await RawConnection.connect(suite.respite.port);
      // Keep the other connections busy so only the idle one times out.
      const keepAlive = setInterval(() => void Promise.all([c.call("PING"), suite.pair.respite.call("PING")]), 200);
      await idle.untilClosed(15_000);
      clearInterval(keepAlive);
      await c.call("CONFIG", "SET", "timeout", "0");
      c.close();
    });

    it("CONFIG RESETSTAT clears INFO stats and command stats", async () => {
      const c = await RawConnection.connect(suite.respite.port);
      await c.call("NOSUCHCOMMAND");
      await c.call("GET", "a");
      assert.equal((await c.call("CONFIG", "RESETSTAT")).toString(), "+OK\r\n");
      const infoText = (await c.call("INFO", "everything")).toString("latin1");
      assert.match(infoText, /total_error_replies:0\r\n/);
      assert.doesNotMatch(infoText, /cmdstat_get:/);
      assert.doesNotMatch(infoText, /errorstat_ERR/);
      assert.match(infoText, /cmdstat_config\|resetstat:calls=1,/);
      c.close();
    });

    it("CONFIG REWRITE without a config file is an error", async () => {
      await suite.pair.same("CONFIG", "REWRITE");
    });

    it("CONFIG SET port and bind move the listener, keep connected clients, and refuse addresses that cannot be bound", async () => {
      const own = await startRespite(rt);
      const before = await RawConnection.connect(own.port);
      const moved = await freePort();
      assert.equal((await before.call("CONFIG", "SET", "port", String(moved))).toString(), "+OK\r\n");
      const after = await connectWhenListening(moved);
      assert.equal((await after.call("PING")).toString(), "+PONG\r\n");
      assert.equal((await before.call("PING")).toString(), "+PONG\r\n", "a connected client stays");
      await assert.rejects(RawConnection.connect(own.port), "the old port is closed");

      // A port another server holds, and an address this machine does not have: Redis's refusals.
      // Bun and Deno bind synchronously, so they refuse as Redis does; Node binds after replying
      // OK and then puts the old values back (test/DIFFERENCES.md).
      const oracle = await RawConnection.connect(redis().port);
      for (const [name, ours, forRedis] of [["port", String(redis().port), String(moved)], ["bind", "192.0.2.1", "192.0.2.1"]]) {
        const reply = (await after.call("CONFIG", "SET", name, ours)).toString();
        const expected = rt === "node" ? "+OK\r\n" : (await oracle.call("CONFIG", "SET", name, forRedis)).toString();
        assert.equal(reply, expected, `CONFIG SET ${name} ${ours}`);
      }
      oracle.close();
      const unchanged = JSON.stringify([["bind", "127.0.0.1"], ["port", String(moved)]]);
      while (JSON.stringify(await configGet(after, "port", "bind")) !== unchanged) await new Promise((r) => setTimeout(r, 20));
      const again = await connectWhenListening(moved);
      assert.equal((await again.call("PING")).toString(), "+PONG\r\n");
      again.close();
      before.close();
      after.close();
      await own.stop();
    });

    it("CONFIG REWRITE rewrites a stock Debian redis.conf, keeping its comments", { skip: !fs.existsSync("/etc/redis/redis.conf") }, async () => {
      const dir = tmpDir();
      const file = path.join(dir, "redis.conf");
      const stock = fs.readFileSync("/etc/redis/redis.conf", "latin1")
        .replace(/^port 6379$/m, "port 0")
        .replace(/^daemonize yes$/m, "daemonize no")
        .replace(/^logfile .*$/m, 'logfile ""')
        .replace(/^pidfile .*$/m, `pidfile ${path.join(dir, "r.pid")}`)
        .replace(/^dir .*$/m, `dir ${dir}`);
      fs.writeFileSync(file, stock);
      const server = await startRespite(rt, [file]);
      const c = await RawConnection.connect(server.port);
      assert.equal((await c.call("CONFIG", "GET", "dir")).toString("latin1").includes(dir), true);
      await c.call("CONFIG", "SET", "maxmemory", "100mb", "hz", "20", "save", "60 5", "appendfsync", "no");
      assert.equal((await c.call("CONFIG", "REWRITE")).toString(), "+OK\r\n");
      const rewritten = fs.readFileSync(file, "latin1");
      assert.match(rewritten, /^# Redis configuration file example\.$/m);
      assert.match(rewritten, /^hz 20$/m);
      assert.match(rewritten, /^appendfsync no$/m);
      assert.match(rewritten, /^save 60 5$/m);
      assert.doesNotMatch(rewritten, /^save 3600 1$/m);
      const [kept, generated] = rewritten.split("\n\n# Generated by CONFIG REWRITE\n");
      assert.equal(kept.split("\n").length, stock.replace(/\n$/, "").split("\n").length, "every original line keeps its place");
      // The test harness starts servers with --enable-debug-command yes and --gateway no.
      assert.deepEqual(generated.trim().split("\n").sort(), ["enable-debug-command yes", "gateway no", "maxmemory 100mb", "save 60 5"]);
      c.close();
      await server.stop();
    });
  });
}
