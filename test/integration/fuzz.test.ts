/**
 * Bad input never hurts others: a few seconds of the protocol fuzzer
 * (test/lib/protocol-fuzz.ts; bench/fuzz-protocol.ts runs it for a million
 * inputs) against every runtime and the compiled binary while good RESP2
 * and RESP3 clients check every reply, then every fuzzing connection must be
 * gone and memory back near where it was; the same for the gateway
 * (test/lib/gateway-fuzz.ts). Protocol error texts are compared with
 * redis-server's for the same bad inputs, and the bugs the fuzzers found
 * stay fixed: a bulk header promising 512 MB, HEAD of an SSE URL, a Host
 * header that makes no URL.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { aftermath, fuzzProtocol, memoryNow } from "../lib/protocol-fuzz.ts";
import { fuzzGateway } from "../lib/gateway-fuzz.ts";
import { FuzzInputs } from "../lib/fuzz-inputs.ts";
import { RawConnection } from "../lib/raw.ts";
import { freePort, RUNTIMES, type ServerHandle, startRedis, startRespite } from "../lib/servers.ts";
import { startTarget, targets } from "../lib/targets.ts";
import { show } from "../lib/diff.ts";

const MB = 1024 * 1024;
/** How far above its warmed-up RSS a server may stay once the fuzzers left (GC'd heaps and malloc arenas keep some). */
const RSS_SLACK = 128 * MB;

/** Sends input on a fresh connection, ends it, and returns everything the server sent until it closed. */
function exchange(port: number, input: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let out = "";
    sock.on("data", (d) => (out += d.toString("latin1")));
    sock.on("error", () => {});
    sock.on("close", () => resolve(out));
    sock.on("connect", () => sock.end(Buffer.from(input, "latin1")));
  });
}

const overlong = (s: string) => s.repeat(64 * 1024 + 10);
/** Bad requests whose replies (and whether the connection is closed) must be redis-server's, byte for byte. */
const FIXED = [
  "*abc\r\n", "*1\r\n$abc\r\n", "*1\r\nfoo\r\n", "\"unbalanced\r\n", overlong("A"), "*" + overlong("1"), "*1\r\n$" + overlong("1"),
  "*1\r\n" + overlong("x"), "*3000000000\r\n", "*2147483648\r\n", "*1\r\n$536870913\r\n", "*1\r\n$-1\r\n", "*1\r\n$-0\r\n",
  "*1\r\n$ 3\r\nabc\r\n", "*1\r\n$+3\r\nabc\r\n", "*1\r\n$03\r\nabc\r\n", "*-1\r\nPING\r\n", "*0\r\nPING\r\n", "*+1\r\n$4\r\nPING\r\n",
  "*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n", "*1\r\n$4\r\nPING\r\n\r\n\r\n", "\0\r\n", "PING\0junk\r\n", "*1\0\r\n$4\r\nPING\r\n",
  "*1\r\n$4\0\r\nPING\r\n", "ECHO \"a\\x41\\x4g\"\r\n", "ECHO \"\\\"\"\r\n", "ECHO 'a\\'b'\r\n", "ECHO \"a\"b\r\n", "%1\r\n", "_\r\n",
  ">2\r\n$4\r\nPING\r\n", "*1\r\n$4\r\nPING", "*2\r\n$4\r\nECHO\r\n$10\r\nabc",
];

/** Seeded mutations of a few commands whose replies depend on nothing but the bytes (no keys exist, nothing is written). */
function mutatedInputs(seed: number, count: number): string[] {
  const g = new FuzzInputs(seed);
  const bases = [["PING"], ["ECHO", "world"], ["GET", "nokey"], ["EXISTS", "nokey", "x"], ["STRLEN", "nokey"], ["NOSUCHCMD", "a", "b"], ["ECHO"]];
  return Array.from({ length: count }, () => {
    const argv = g.pick(bases);
    const r = g.random();
    return r < 0.45 ? g.mutate(g.resp(argv)) : r < 0.85 ? g.mutate(g.inline(argv)) : g.header() + g.resp(argv);
  });
}

describe("protocol error texts as redis-server's", () => {
  let redis: ServerHandle;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());

  for (const rt of RUNTIMES) {
    it(`${rt}: fixed bad inputs and 400 seeded mutations get the same bytes, and close, as from redis-server`, async () => {
      const server = await startRespite(rt);
      try {
        for (const input of [...FIXED, ...mutatedInputs(12, 400)]) {
          const [expected, got] = await Promise.all([exchange(redis.port, input), exchange(server.port, input)]);
          assert.equal(show(Buffer.from(got, "latin1")), show(Buffer.from(expected, "latin1")), `reply to ${show(Buffer.from(input.slice(0, 200), "latin1"))}`);
        }
      } finally {
        await server.stop();
      }
    });
  }
});

for (const t of targets(true)) {
  describe(`protocol fuzzing, ${t}`, () => {
    let server: ServerHandle;
    before(async () => {
      server = await startTarget(t, []);
    });
    after(() => server.stop());

    it("good RESP2 and RESP3 clients get every reply right while fuzzers send 30,000 bad inputs; memory comes back", async () => {
      await fuzzProtocol({ port: server.port, inputs: 5_000, seed: 77 });
      const warm = await aftermath(server.port, Infinity);
      assert.deepEqual(warm.lingeringClients, []);
      const base = await memoryNow(server.port);
      const report = await fuzzProtocol({ port: server.port, inputs: 30_000, seed: 78 });
      assert.ok(report.goodCommands > 0 && report.inputs >= 30_000);
      const end = await aftermath(server.port, base.rssBytes + RSS_SLACK);
      assert.deepEqual(end.lingeringClients, [], "every fuzzing connection is released");
      assert.ok(end.rssBytes <= base.rssBytes + RSS_SLACK, `RSS ${end.rssBytes / MB} MB after, ${base.rssBytes / MB} MB before`);
    });

    it("clients that reset right after connecting leave the server accepting and alive", async () => {
      // Deno's accept() failed with ENOTCONN for them and ended the accept loop; Node crashed writing a refusal to one.
      for (let i = 0; i < 200; i++) {
        await new Promise<void>((resolve) => {
          const sock = net.connect(server.port, "127.0.0.1");
          sock.on("error", () => {});
          sock.once("connect", () => sock.resetAndDestroy());
          sock.once("close", () => resolve());
        });
      }
      const conn = await RawConnection.connect(server.port);
      assert.equal((await conn.call("PING")).toString(), "+PONG\r\n");
      conn.close();
    });

    it("headers promising 512 MB bulks cost no memory until their bytes come", async () => {
      const base = await memoryNow(server.port);
      let peak = 0;
      for (let i = 0; i < 10; i++) {
        // The header and a little of the body in one read, a little more in the next, then the client leaves.
        const conn = await RawConnection.connect(server.port);
        conn.write("*1\r\n$536870912\r\nab");
        await new Promise((r) => setTimeout(r, 5));
        conn.write("cd");
        await new Promise((r) => setTimeout(r, 5));
        conn.close();
        peak = Math.max(peak, (await memoryNow(server.port)).rssBytes);
      }
      assert.ok(peak < base.rssBytes + 256 * MB, `RSS went from ${base.rssBytes / MB} MB to ${peak / MB} MB`);
    });
  });
}

for (const rt of RUNTIMES) {
  describe(`gateway fuzzing, ${rt}`, () => {
    let server: ServerHandle;
    let gport: number;
    before(async () => {
      gport = await freePort();
      server = await startRespite(rt, ["--gateway-port", String(gport), "--gateway-tokens", "good-token all fuzz-token all"]);
      for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${gport}/PING`).then(() => true, () => false)); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    after(() => server.stop());

    it("the good WebSocket and HTTP client gets every reply right while fuzzers send 5,000 bad requests and frames", async () => {
      const opts = { port: gport, goodToken: "good-token", fuzzToken: "fuzz-token", maxFrame: MB };
      await fuzzGateway({ ...opts, inputs: 1_000, seed: 5 });
      const warm = await aftermath(server.port, Infinity);
      const base = await memoryNow(server.port);
      await fuzzGateway({ ...opts, inputs: 5_000, seed: 6 });
      const end = await aftermath(server.port, base.rssBytes + RSS_SLACK);
      assert.deepEqual([...warm.lingeringClients, ...end.lingeringClients], [], "every gateway client is released");
      assert.ok(end.rssBytes <= base.rssBytes + RSS_SLACK, `RSS ${end.rssBytes / MB} MB after, ${base.rssBytes / MB} MB before`);
      assert.equal((await (await fetch(`http://127.0.0.1:${gport}/PING`)).json()).PING, "PONG");
    });

    it("HEAD of an SSE URL opens no subscription that would stay forever", async () => {
      const res = await fetch(`http://127.0.0.1:${gport}/psubscribe/public:*`, { method: "HEAD" });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/event-stream");
      const conn = await RawConnection.connect(server.port);
      const list = (await conn.call("CLIENT", "LIST")).toString("latin1");
      conn.close();
      assert.doesNotMatch(list, /psub=1/);
    });

    it("a Host header that makes no URL gets 400, and the gateway keeps serving", async () => {
      for (const host of ["1270.1:80", "127.0.0.1:*1", "a b"]) {
        const reply = await exchange(gport, `GET /PING HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        assert.match(reply, /^HTTP\/1\.1 400 /, `Host: ${host}`);
      }
      const ws = await exchange(gport, "GET /ws HTTP/1.1\r\nHost: 1270.1:80\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      assert.match(ws, /^HTTP\/1\.1 400 /);
      assert.equal((await (await fetch(`http://127.0.0.1:${gport}/PING`)).json()).PING, "PONG");
    });
  });
}
