/**
 * Wire protocol, differential against redis-server byte for byte: malformed
 * requests get Redis's protocol error and the connection closes while other
 * clients keep working; empty requests, huge pipelines, split bulks and the
 * proto-max-bulk-len and client-query-buffer-limit limits.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, startRedis, startRespite, type ServerHandle } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { DiffPair, rng, show, type Cmd } from "../lib/diff.ts";
import { encodeCommand } from "../../core/resp/decoder.ts";

/** Bulks up to 2 MB, but at most 1 MB of unparsed input. */
const LIMITS = ["--proto-max-bulk-len", "2mb", "--client-query-buffer-limit", "1mb"];

const long = "x".repeat(70_000);
const MALFORMED: Array<[string, string]> = [
  ["bad multibulk count", "*abc\r\n"],
  ["missing count", "*\r\n"],
  ["leading zero count", "*01\r\n$4\r\nPING\r\n"],
  ["count over INT_MAX", "*3000000000\r\n"],
  ["huge count", "*99999999999999999999999\r\n"],
  ["simple string inside multibulk", "*1\r\n+x\r\n"],
  ["negative bulk length", "*1\r\n$-5\r\n"],
  ["bad bulk length", "*1\r\n$4x\r\nPING\r\n"],
  ["bulk over proto-max-bulk-len", "*2\r\n$3\r\nGET\r\n$2097153\r\n"],
  ["too big inline request", long],
  ["too big mbulk count", "*" + long],
  ["too big bulk count", "*1\r\n$" + long],
  ["unbalanced double quote", 'ECHO "abc\r\n'],
  ["unbalanced single quote", "ECHO 'abc\r\n"],
  ["text after closing quote", 'ECHO "a"b\r\n'],
  // Redis finds line ends with strchr, so a NUL hides them until the 64 KB limit.
  ["NUL before an inline newline", "ECHO a\0b\r\n" + long],
  ["NUL before a count's CR", "*1\0\r\n" + long],
  ["replies before the error are sent", "PING\r\nECHO hi\r\n*1\r\n$x\r\nPING\r\n"],
];

/** Writes bytes, returns all the server sent until it closed the connection. */
async function sendUntilClosed(port: number, bytes: string | Uint8Array): Promise<string> {
  const conn = await RawConnection.connect(port);
  conn.write(bytes);
  return conn.untilClosed();
}

async function sendAndRead(port: number, bytes: string | Uint8Array, replies: number): Promise<string> {
  const conn = await RawConnection.connect(port);
  conn.write(bytes);
  const out = await conn.readReplies(replies);
  conn.close();
  return Buffer.concat(out).toString("latin1");
}

for (const rt of RUNTIMES) {
  describe(`protocol on ${rt}`, () => {
    let redis: ServerHandle;
    let respite: ServerHandle;
    let pair: DiffPair;
    /** A client that stays connected through every broken one. */
    let bystander: DiffPair;

    before(async () => {
      [redis, respite] = await Promise.all([startRedis(LIMITS), startRespite(rt, LIMITS)]);
      pair = await DiffPair.open(redis.port, respite.port);
      bystander = await DiffPair.open(redis.port, respite.port);
      await bystander.same("SET", "bystander", "here");
    });

    after(async () => {
      pair?.close();
      bystander?.close();
      await Promise.all([redis?.stop(), respite?.stop()]);
    });

    for (const [name, bytes] of MALFORMED) {
      it(`closes on ${name} with Redis's error`, async () => {
        const [a, b] = await Promise.all([sendUntilClosed(redis.port, bytes), sendUntilClosed(respite.port, bytes)]);
        assert.match(a, /-ERR Protocol error: /);
        assert.equal(JSON.stringify(b), JSON.stringify(a));
        await bystander.same("GET", "bystander");
      });
    }

    it("ignores *0, negative counts and empty inline lines", async () => {
      const bytes = "*0\r\n\r\n\n   \r\n*-1\r\nPING\r\n*0\r\nECHO  \t x\r\n";
      const [a, b] = await Promise.all([sendAndRead(redis.port, bytes, 2), sendAndRead(respite.port, bytes, 2)]);
      assert.equal(show(Buffer.from(b, "latin1")), show(Buffer.from(a, "latin1")));
    });

    it("parses inline quoting like Redis", async () => {
      const lines = ['ECHO "a\\x41\\n\\"q\\\\"', "ECHO 'it\\'s'", 'ECHO foo"bar baz"', "ECHO a\vb", 'SET "k 1" ""', 'GET "k 1"'];
      for (const line of lines) {
        const [a, b] = await Promise.all([sendAndRead(redis.port, line + "\r\n", 1), sendAndRead(respite.port, line + "\r\n", 1)]);
        assert.equal(show(Buffer.from(b, "latin1")), show(Buffer.from(a, "latin1")), line);
      }
    });

    it("answers a pipeline of 10,000 commands in one write, in order", async () => {
      const rand = rng(42);
      const cmds: Cmd[] = [];
      for (let i = 0; i < 10_000; i++) {
        const key = `pipe:${Math.floor(rand() * 500)}`;
        const r = rand();
        if (r < 0.4) cmds.push(["SET", key, `v${i}`]);
        else if (r < 0.8) cmds.push(["GET", key]);
        else if (r < 0.9) cmds.push(["ECHO", Buffer.from([i & 255, 0, 13, 10])]);
        else cmds.push(["PING", `p${i}`]);
      }
      await pair.sameAll(cmds);
    });

    it("answers pipelines split anywhere in a db big enough for their keys to be prefetched, as Redis", async () => {
      // Past 16,384 keys a pipeline's keys are read ahead from its input (engine.ts prefetchKeys).
      for (let i = 0; i < 20_000; i += 1000) {
        await pair.sameAll([["MSET", ...Array.from({ length: 1000 }, (_, j) => [`big:${i + j}`, `${i + j}`]).flat()]]);
      }
      const rand = rng(7);
      const key = () => (rand() < 0.1 ? Buffer.from([0, 13, 10, 255, Math.floor(rand() * 4)]) : `big:${Math.floor(rand() * 22_000)}`);
      const cmds: Cmd[] = [];
      for (let i = 0; i < 3000; i++) {
        const r = rand();
        if (r < 0.35) cmds.push(["GET", key()]);
        else if (r < 0.6) cmds.push(["SET", key(), `w${i}`]);
        else if (r < 0.7) cmds.push(["DEL", key(), key()]);
        else if (r < 0.8) cmds.push(["INCR", key()]);
        else if (r < 0.9) cmds.push(["MGET", key(), key(), key()]);
        else cmds.push(["PING"]);
      }
      const bytes = Buffer.concat(cmds.map((c) => encodeCommand(c)));
      const send = async (conn: RawConnection) => {
        const cut = rng(11);
        for (let pos = 0; pos < bytes.length;) {
          const next = Math.min(bytes.length, pos + 1 + Math.floor(cut() * 2000));
          conn.write(bytes.subarray(pos, next));
          pos = next;
          if (cut() < 0.2) await new Promise((r) => setTimeout(r, 1));
        }
        return conn.readReplies(cmds.length);
      };
      const [a, b] = await Promise.all([send(pair.redis), send(pair.respite)]);
      for (let i = 0; i < cmds.length; i++) assert.equal(show(b[i]), show(a[i]), `reply ${i}`);
      await pair.same("DBSIZE");
      await pair.same("FLUSHALL");
    });

    it("accepts a bulk split across many reads", async () => {
      const value = Buffer.alloc(900_000);
      for (let i = 0; i < value.length; i++) value[i] = (i * 31) & 255;
      const bytes = encodeCommand(["SET", "split", value]);
      const write = async (conn: RawConnection) => {
        for (let pos = 0; pos < bytes.length; pos += 9000) {
          conn.write(bytes.subarray(pos, pos + 9000));
          await new Promise((r) => setTimeout(r, 1));
        }
        return (await conn.readReplies(1))[0];
      };
      const [a, b] = await Promise.all([write(pair.redis), write(pair.respite)]);
      assert.equal(show(b), show(a));
      const got = await pair.same("GET", "split");
      assert.equal(got.length, `$900000\r\n`.length + 900_000 + 2);
    });

    it("accepts a bulk length of exactly proto-max-bulk-len, then closes the client past client-query-buffer-limit", async () => {
      const flood = async (port: number) => {
        const conn = await RawConnection.connect(port);
        conn.write("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097152\r\n");
        const piece = Buffer.alloc(64 * 1024, 97);
        for (let sent = 0; sent < 2_000_000 && !conn.closed; sent += piece.length) {
          conn.write(piece);
          await new Promise((r) => setTimeout(r, 1));
        }
        return conn.untilClosed();
      };
      const [a, b] = await Promise.all([flood(redis.port), flood(respite.port)]);
      // Closed silently: no protocol error, the length itself was fine.
      assert.equal(a, "");
      assert.equal(b, "");
      await bystander.same("GET", "bystander");
    });

    it("applies proto-max-bulk-len lowered with CONFIG SET", async () => {
      await pair.same("CONFIG", "SET", "proto-max-bulk-len", "1mb");
      try {
        const bytes = "*2\r\n$4\r\nECHO\r\n$1048577\r\n";
        const [a, b] = await Promise.all([sendUntilClosed(redis.port, bytes), sendUntilClosed(respite.port, bytes)]);
        assert.equal(a, "-ERR Protocol error: invalid bulk length\r\n");
        assert.equal(b, a);
      } finally {
        await pair.same("CONFIG", "SET", "proto-max-bulk-len", "2mb");
      }
    });

    it("keeps a client just under the query buffer limit", async () => {
      const conn = await RawConnection.connect(respite.port);
      conn.write("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n");
      conn.write(Buffer.alloc(1_000_000, 97));
      conn.write("\r\n");
      assert.equal((await conn.readReplies(1))[0].toString(), "+OK\r\n");
      conn.close();
    });
  });
}
