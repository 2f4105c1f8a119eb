/**
 * What differs per runtime: backend selection (--io), graceful stop on
 * SIGTERM/SIGINT, backpressure with a reply far larger than the socket
 * buffer, requirepass/AUTH (differential against redis-server), and the
 * single executable built by `npm run compile`.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as net from "node:net";
import { spawn, spawnSync } from "node:child_process";
import { Redis } from "ioredis";
import { freePort, respiteCommand, ROOT, RUNTIMES, startRedis, startRespite, tmpDir, type ServerHandle } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { DiffPair } from "../lib/diff.ts";
import { encodeCommand } from "../../core/resp/decoder.ts";

const BACKENDS = ["bun", "deno", "node"] as const;

function exited(server: ServerHandle): Promise<number | null> {
  const p = server.process;
  if (p.exitCode !== null) return Promise.resolve(p.exitCode);
  return new Promise((resolve) => p.once("exit", (code) => resolve(code)));
}

for (const rt of RUNTIMES) {
  describe(`runtime ${rt}`, () => {
    it(`--io ${rt} and --io auto pick the ${rt} backend`, async () => {
      for (const io of [rt, "auto"]) {
        const server = await startRespite(rt, ["--io", io]);
        try {
          const conn = await RawConnection.connect(server.port);
          const info = (await conn.call("INFO", "server")).toString("latin1");
          conn.close();
          assert.match(info, new RegExp(`respite_io:${rt}\r\n`));
          assert.match(server.output(), new RegExp(`io=${rt}, pid=`));
        } finally {
          await server.stop();
        }
      }
    });

    it("starts with the default bind `* -::*` and serves IPv4 clients", async () => {
      const server = await startRespite(rt, ["--bind", "*", "-::*"]);
      try {
        const conn = await RawConnection.connect(server.port, "127.0.0.1");
        assert.equal((await conn.call("PING")).toString(), "+PONG\r\n");
        conn.close();
      } finally {
        await server.stop();
      }
    });

    it("refuses another runtime's backend with exit code 1", () => {
      const [cmd, base] = respiteCommand(rt);
      for (const other of BACKENDS.filter((b) => b !== rt)) {
        const r = spawnSync(cmd, [...base, "--port", "0", "--io", other], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stderr, new RegExp(`io backend '${other}' needs the ${other} runtime, but this process runs on ${rt}`));
      }
    });

    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      it(`stops gracefully on ${signal}`, async () => {
        const sock = path.join(tmpDir(), "r.sock");
        const server = await startRespite(rt, ["--unixsocket", sock]);
        assert.ok(fs.existsSync(sock));
        const done = exited(server);
        server.process.kill(signal);
        assert.equal(await done, 0);
        const lines = server.output().split("\n").map((l) => l.replace(/^\d+:M .{24} /, ""));
        const tail = lines.slice(lines.indexOf(`# Received ${signal} scheduling shutdown...`));
        assert.deepEqual(tail.filter(Boolean), [
          `# Received ${signal} scheduling shutdown...`,
          "# User requested shutdown...",
          // Redis's default save points are on, so the final snapshot is written, as redis-server does.
          "* Saving the final RDB snapshot before exiting.",
          "* DB saved on disk",
          "* Removing the unix socket file.",
          "# Respite is now ready to exit, bye bye...",
        ]);
        assert.equal(fs.existsSync(sock), false);
      });
    }

    describe("a reply much larger than the socket buffer", () => {
      let server: ServerHandle;
      before(async () => {
        server = await startRespite(rt);
      });
      after(() => server?.stop());

      it("GET of a 50 MB value read slowly arrives whole, and other clients are served meanwhile", async () => {
        const size = 50 * 1024 * 1024;
        const value = Buffer.alloc(size);
        for (let i = 0; i < size; i += 4096) value.writeUInt32LE(i, i);
        const writer = await RawConnection.connect(server.port);
        assert.equal((await writer.call("SET", "huge", value)).toString(), "+OK\r\n");

        // A plain socket that keeps chunks in a list: RawConnection re-concatenates per chunk.
        const slow = net.connect(server.port, "127.0.0.1");
        await new Promise((r) => slow.once("connect", r));
        slow.pause();
        slow.write(encodeCommand(["GET", "huge"]));
        slow.write(encodeCommand(["PING"]));
        // While the reply waits for the slow reader, the server keeps serving others.
        await new Promise((r) => setTimeout(r, 200));
        assert.equal((await writer.call("PING")).toString(), "+PONG\r\n");
        assert.equal((await writer.call("STRLEN", "huge")).toString(), `:${size}\r\n`);
        const header = `$${size}\r\n`;
        const total = header.length + size + 2 + "+PONG\r\n".length;
        const chunks: Buffer[] = [];
        let received = 0;
        await new Promise<void>((resolve, reject) => {
          slow.on("data", (d: Buffer) => {
            chunks.push(d);
            received += d.length;
            if (received >= total) resolve();
          });
          slow.on("close", () => reject(new Error(`closed after ${received} bytes`)));
          slow.resume();
        });
        const all = Buffer.concat(chunks);
        assert.equal(all.length, total);
        assert.equal(all.subarray(0, header.length).toString(), header);
        assert.ok(all.subarray(header.length, header.length + size).equals(value), "value bytes differ");
        assert.equal(all.subarray(header.length + size).toString(), "\r\n+PONG\r\n");
        writer.close();
        slow.destroy();
      });
    });

    describe("requirepass, AUTH and NOAUTH (differential)", () => {
      let redis: ServerHandle;
      let respite: ServerHandle;
      const PASS = ["--requirepass", "s3cret"];
      before(async () => {
        [redis, respite] = await Promise.all([startRedis(PASS), startRespite(rt, PASS)]);
      });
      after(async () => {
        await Promise.all([redis?.stop(), respite?.stop()]);
      });

      it("refuses commands before AUTH and accepts the password", async () => {
        const pair = await DiffPair.open(redis.port, respite.port);
        try {
          await pair.same("PING");
          await pair.same("GET", "k");
          await pair.same("SELECT", "1");
          await pair.same("AUTH", "wrong");
          await pair.same("AUTH", "default", "wrong");
          await pair.same("AUTH", "nobody", "s3cret");
          await pair.same("AUTH", "a", "b", "c");
          await pair.same("HELLO", "3", "AUTH", "default", "wrong");
          await pair.same("AUTH", "s3cret");
          await pair.same("PING");
          await pair.same("SET", "k", "v");
          await pair.same("GET", "k");
          await pair.same("RESET");
          await pair.same("GET", "k");
          await pair.same("AUTH", "default", "s3cret");
          await pair.same("GET", "k");
        } finally {
          pair.close();
        }
      });

      it("HELLO with AUTH authenticates", async () => {
        const pair = await DiffPair.open(redis.port, respite.port);
        try {
          const hello = ["HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "me"];
          // Client ids depend on how many connections each server has seen.
          const [a, b] = await Promise.all([pair.redis.call(...hello), pair.respite.call(...hello)]);
          const anyId = (r: Buffer) => r.toString("latin1").replace(/\bid\r\n:\d+/, "id\r\n:N");
          assert.equal(anyId(b), anyId(a));
          await pair.same("GET", "k");
        } finally {
          pair.close();
        }
      });

      it("closes unauthenticated clients sending big requests", async () => {
        for (const bytes of ["*11\r\n", "*2\r\n$3\r\nGET\r\n$16385\r\n"]) {
          const [a, b] = await Promise.all([redis.port, respite.port].map(async (port) => {
            const conn = await RawConnection.connect(port);
            conn.write(bytes);
            return conn.untilClosed();
          }));
          assert.match(a, /^-ERR Protocol error: unauthenticated/);
          assert.equal(b, a);
        }
      });

      it("frees clients that never authenticated once requirepass is dropped", async () => {
        const [admin, waiting] = [await DiffPair.open(redis.port, respite.port), await DiffPair.open(redis.port, respite.port)];
        try {
          await waiting.same("PING");
          await admin.same("AUTH", "s3cret");
          await admin.same("CONFIG", "SET", "requirepass", "");
          await waiting.same("PING");
          await waiting.same("ECHO", "x".repeat(20_000));
        } finally {
          await admin.same("CONFIG", "SET", "requirepass", "s3cret");
          admin.close();
          waiting.close();
        }
      });

      it("ioredis connects with a password and fails without", async () => {
        const ok = new Redis({ port: respite.port, host: "127.0.0.1", password: "s3cret", lazyConnect: true });
        await ok.connect();
        assert.equal(await ok.get("k"), "v");
        ok.disconnect();
        // ioredis opens with HELLO, which Redis refuses before AUTH.
        const bad = new Redis({ port: respite.port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null });
        const errors: string[] = [];
        bad.on("error", (e: Error) => errors.push(e.message));
        await assert.rejects(bad.connect());
        assert.match(errors.join("\n"), /^NOAUTH HELLO must be called with the client already authenticated/m);
        bad.disconnect();
      });
    });
  });
}

describe("compiled single executable (npm run compile)", () => {
  const binary = path.join(ROOT, "dist/respite");

  /** Newest modification time of the sources the binary is built from. */
  function newestSource(): number {
    let newest = 0;
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith(".ts")) newest = Math.max(newest, fs.statSync(p).mtimeMs);
      }
    };
    walk(path.join(ROOT, "core"));
    walk(path.join(ROOT, "adapters"));
    return newest;
  }

  before(() => {
    if (fs.existsSync(binary) && fs.statSync(binary).mtimeMs > newestSource()) return;
    const r = spawnSync("npm", ["run", "compile"], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it("starts with redis-server flags and answers redis-cli", async () => {
    const port = await freePort();
    const sock = path.join(tmpDir(), "bin.sock");
    const child = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--unixsocket", sock, "--unixsocketperm", "700"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const done = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const cli = (...args: string[]) => spawnSync("redis-cli", args, { encoding: "latin1", timeout: 10_000 }).stdout;
    try {
      for (let i = 0; i < 200 && cli("-p", String(port), "PING") !== "PONG\n"; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(cli("-p", String(port), "SET", "bin", "ary"), "OK\n");
      assert.equal(cli("-s", sock, "GET", "bin"), "ary\n");
      assert.equal(fs.statSync(sock).mode & 0o777, 0o700);
      assert.match(cli("-p", String(port), "INFO", "server"), /respite_io:bun\r?\n/);
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await done, 0);
    assert.match(output, /Respite is now ready to exit, bye bye/);
    assert.equal(fs.existsSync(sock), false);
  });
});
