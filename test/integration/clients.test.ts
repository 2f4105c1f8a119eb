/**
 * Real client libraries against Respite on every runtime, over TCP and a
 * Unix socket: ioredis, node-redis (RESP2 and RESP3) and redis-cli
 * (stdin commands and --pipe mass insertion).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { Redis } from "ioredis";
import { createClient, RESP_TYPES } from "redis";
import { RUNTIMES, startRespite, tmpDir, type ServerHandle } from "../lib/servers.ts";
import { encodeCommand } from "../../core/resp/decoder.ts";
import { until } from "../lib/targets.ts";

/** Values that break text protocols: NUL, CR/LF, invalid UTF-8, high bytes. */
const NASTY = [
  Buffer.from([0]),
  Buffer.from("a\r\nb\r\n"),
  Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]),
  Buffer.from("*1\r\n$4\r\nPING\r\n"),
  Buffer.alloc(0),
];

function megabyte(seed: number): Buffer {
  const b = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < b.length; i++) b[i] = (i * seed + (i >> 8)) & 255;
  return b;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function redisCli(args: string[], input?: string | Buffer): string {
  const r = spawnSync("redis-cli", args, { input, encoding: "latin1", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(" ")} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

for (const rt of RUNTIMES) {
  describe(`client libraries on ${rt}`, () => {
    let server: ServerHandle;
    let sock: string;

    before(async () => {
      sock = path.join(tmpDir(), "r.sock");
      server = await startRespite(rt, ["--unixsocket", sock, "--unixsocketperm", "700"]);
    });

    after(async () => {
      await server?.stop();
    });

    it("creates the Unix socket with unixsocketperm", async () => {
      // The runtimes bind and listen in one call, so the chmod comes a moment after the socket accepts (the readiness probe).
      const mode = () => fs.statSync(sock).mode & 0o777;
      await until(() => mode() === 0o700, () => `mode ${mode().toString(8)}`, 2_000, 10);
      assert.ok(fs.statSync(sock).isSocket());
    });

    for (const transport of ["tcp", "unix"] as const) {
      describe(`ioredis over ${transport}`, () => {
        let r: Redis;
        before(async () => {
          r = transport === "tcp" ? new Redis({ port: server.port, host: "127.0.0.1", lazyConnect: true })
            : new Redis({ path: sock, lazyConnect: true });
          await r.connect();
        });
        after(() => r?.disconnect());

        it("strings with TTLs", async () => {
          const k = `ttl:${transport}`;
          assert.equal(await r.ping(), "PONG");
          assert.equal(await r.set(k, "v", "EX", 100), "OK");
          assert.equal(await r.get(k), "v");
          const ttl = await r.ttl(k);
          assert.ok(ttl === 100 || ttl === 99, `ttl ${ttl}`);
          assert.equal(await r.set(k, "short", "PX", 30), "OK");
          await sleep(80);
          assert.equal(await r.get(k), null);
          assert.equal(await r.ttl(k), -2);
        });

        it("MSET, MGET and INCR", async () => {
          assert.equal(await r.mset({ [`a:${transport}`]: "1", [`b:${transport}`]: "2" }), "OK");
          assert.deepEqual(await r.mget(`a:${transport}`, `b:${transport}`, "missing"), ["1", "2", null]);
          assert.equal(await r.incr(`a:${transport}`), 2);
          assert.equal(await r.incrby(`a:${transport}`, 40), 42);
          await assert.rejects(r.incr(`missing-then-text:${transport}`).then(() => r.set(`t:${transport}`, "x"))
            .then(() => r.incr(`t:${transport}`)), { message: "ERR value is not an integer or out of range" });
        });

        it("binary keys and values round-trip as Buffers", async () => {
          for (const [i, v] of NASTY.entries()) {
            const key = Buffer.concat([Buffer.from([0xff, 0, 13, 10, i]), Buffer.from(transport)]);
            assert.equal(await r.set(key, v), "OK");
            assert.deepEqual(await r.getBuffer(key), v);
          }
          const big = megabyte(7);
          await r.set(`big:${transport}`, big);
          assert.deepEqual(await r.getBuffer(`big:${transport}`), big);
        });

        it("a 10,000-command pipeline", async () => {
          const p = r.pipeline();
          for (let i = 0; i < 10_000; i++) {
            if (i % 2 === 0) p.set(`p:${transport}:${i}`, String(i));
            else p.get(`p:${transport}:${i - 1}`);
          }
          const results = await p.exec();
          assert.equal(results!.length, 10_000);
          for (let i = 0; i < 10_000; i++) {
            const [err, val] = results![i];
            assert.equal(err, null);
            assert.equal(val, i % 2 === 0 ? "OK" : String(i - 1));
          }
        });

        it("reports command errors as ReplyErrors and keeps working", async () => {
          await assert.rejects(r.call("NOSUCHCMD", "x"), {
            message: "ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' ",
          });
          await assert.rejects(r.call("GET"), { message: "ERR wrong number of arguments for 'get' command" });
          assert.equal(await r.echo("still here"), "still here");
        });
      });
    }

    for (const resp of [2, 3] as const) {
      it(`node-redis with RESP${resp} over TCP and Unix socket`, async () => {
        for (const socket of [{ host: "127.0.0.1", port: server.port }, { path: sock }]) {
          const c = createClient({ socket, RESP: resp });
          c.on("error", () => {});
          await c.connect();
          try {
            const hello = await c.hello(String(resp) as "3");
            assert.equal(hello.proto, resp);
            assert.equal(hello.version, "7.0.15");
            assert.equal(hello.mode, "standalone");
            const where = "path" in socket ? "unix" : "tcp";
            const key = `nr:${resp}:${where}`;
            await c.set(key, "1", { EX: 100 });
            assert.equal(await c.get(key), "1");
            assert.equal(await c.incr(key), 2);
            await c.mSet({ [`${key}:x`]: "x", [`${key}:y`]: "y" });
            assert.deepEqual(await c.mGet([`${key}:x`, `${key}:y`, "missing"]), ["x", "y", null]);
            const bin = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
            const big = megabyte(resp);
            for (const v of [...NASTY, big]) {
              const bkey = Buffer.concat([Buffer.from([0, 255, 10]), Buffer.from(key)]);
              await c.set(bkey, v);
              assert.deepEqual(await bin.get(bkey), v);
            }
            await assert.rejects(c.sendCommand(["NOSUCHCMD"]), /ERR unknown command 'NOSUCHCMD'/);
            assert.equal(await c.ping(), "PONG");
          } finally {
            c.destroy();
          }
        }
      });
    }

    it("node-redis RESP3 HELLO reply is a map", async () => {
      const c = createClient({ socket: { path: sock }, RESP: 3 });
      c.on("error", () => {});
      await c.connect();
      try {
        const reply = await c.withTypeMapping({ [RESP_TYPES.MAP]: Map }).sendCommand(["HELLO", "3"]) as Map<string, unknown>;
        assert.ok(reply instanceof Map);
        assert.deepEqual([...reply.keys()], ["server", "version", "proto", "id", "mode", "role", "modules"]);
        assert.equal(reply.get("proto"), 3);
      } finally {
        c.destroy();
      }
    });

    it("redis-cli commands over TCP and the Unix socket", () => {
      const tcp = ["-h", "127.0.0.1", "-p", String(server.port)];
      assert.equal(redisCli([...tcp, "SET", "cli", "hello world"]), "OK\n");
      assert.equal(redisCli(["-s", sock, "GET", "cli"]), "hello world\n");
      // Commands read from stdin, one per line, with redis-cli's quoting.
      const out = redisCli([...tcp], 'SET "cli 2" "a\\nb"\nGET "cli 2"\nECHO \'x y\'\nNOSUCH\n');
      // redis-cli adds an empty line after an error read from stdin, for redis-server too.
      assert.equal(out, "OK\na\nb\nx y\nERR unknown command 'NOSUCH', with args beginning with: \n\n");
    });

    it("redis-cli --pipe with RESP and inline commands", () => {
      const parts: Buffer[] = [];
      for (let i = 0; i < 2000; i++) {
        parts.push(i % 2 ? Buffer.from(encodeCommand(["SET", `pipe:${i}`, `v${i}`])) : Buffer.from(`SET pipe:${i} "v${i}"\r\n`));
      }
      const out = redisCli(["-s", sock, "--pipe"], Buffer.concat(parts));
      assert.match(out, /errors: 0, replies: 2000/);
      assert.equal(redisCli(["-s", sock, "GET", "pipe:1999"]), "v1999\n");
      assert.equal(redisCli(["-s", sock, "GET", "pipe:0"]), "v0\n");
      const bad = spawnSync("redis-cli", ["-s", sock, "--pipe"], { input: "SET a\r\nPING\r\n", encoding: "latin1" });
      assert.match(bad.stdout, /errors: 1, replies: 2/);
    });
  });
}
