/**
 * Pub/sub against redis-server byte for byte: subscribe confirmations and
 * counts, the RESP2 subscribed context, message/pmessage/smessage pushes in
 * RESP2 and RESP3 with binary names, the order of pipelined deliveries,
 * PUBSUB introspection, RESET and MULTI. Then Respite alone, with raw
 * sockets: fan-out to 10,000 subscribers and over 10,000 channels, and the
 * pubsub output buffer limit closing a subscriber that stops reading.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { RUNTIMES, startRespite, type ServerHandle, sharedRedis } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { type Cmd, DiffPair, show } from "../lib/diff.ts";
import { encodeCommand } from "../../core/resp/decoder.ts";
import { decode, text } from "../lib/keyspace.ts";

/** Sends cmd to both servers and compares the next n replies (one command may confirm several names). */
async function sameN(pair: DiffPair, cmd: Cmd, n: number): Promise<Buffer[]> {
  const bytes = encodeCommand(cmd);
  pair.redis.write(bytes);
  pair.respite.write(bytes);
  const [a, b] = await Promise.all([pair.redis.readReplies(n), pair.respite.readReplies(n)]);
  assert.deepEqual(b.map(show), a.map(show), `replies to ${cmd.map(String).join(" ")}`);
  return a;
}

/** Reads n pushes on both sides and compares them. */
async function samePushes(pair: DiffPair, n: number): Promise<void> {
  const [a, b] = await Promise.all([pair.redis.readReplies(n), pair.respite.readReplies(n)]);
  assert.deepEqual(b.map(show), a.map(show));
}

/** Switches both connections of a pair to a protocol (HELLO's reply carries the client id, so it is not compared). */
async function hello(pair: DiffPair, version = "3"): Promise<void> {
  await Promise.all([pair.redis.call("HELLO", version), pair.respite.call("HELLO", version)]);
}

/** Sends a command that gets no reply (CLIENT REPLY OFF) to both servers. */
function sendBoth(pair: DiffPair, cmd: Cmd): void {
  const bytes = encodeCommand(cmd);
  pair.redis.write(bytes);
  pair.respite.write(bytes);
}

/** A CLIENT LIST field of the connection itself. */
async function ownField(conn: RawConnection, field: string): Promise<string> {
  const line = (await conn.call("CLIENT", "INFO")).toString("latin1");
  return line.match(new RegExp(`\\b${field}=(\\S*)`))![1];
}

const bin = (s: string) => Buffer.from(s, "latin1");
const BINARY = bin("bin\x00\r\n\xff\x80ary");

const redis = sharedRedis();

for (const rt of RUNTIMES) {
  describe(`pub/sub on ${rt}`, () => {
    let server: ServerHandle;
    const pairs: DiffPair[] = [];
    const open = async () => {
      const pair = await DiffPair.open(redis().port, server.port);
      pairs.push(pair);
      return pair;
    };
    before(async () => {
      server = await startRespite(rt, ["--maxclients", "10100"]);
    });
    after(async () => {
      for (const p of pairs) p.close();
      await server?.stop();
    });

    it("confirms (un)subscriptions with Redis's counts and restricts the RESP2 context", async () => {
      const sub = await open();
      const ch = `ctx:${rt}:`;
      for (const verb of ["UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"]) await sameN(sub, [verb], 1);
      await sameN(sub, ["SUBSCRIBE", ch + "a", ch + "b"], 2);
      await sameN(sub, ["SUBSCRIBE", ch + "a"], 1);
      await sameN(sub, ["PSUBSCRIBE", ch + "*"], 1);
      await sameN(sub, ["SSUBSCRIBE", ch + "s"], 1);
      await sub.sameAll([["GET", "x"], ["CLIENT", "LIST"], ["MULTI"], ["EXEC"], ["PING"], ["PING", BINARY], ["ECHO", "x"]]);
      await sameN(sub, ["UNSUBSCRIBE", ch + "a", ch + "nope"], 2);
      await sameN(sub, ["PUNSUBSCRIBE", ch + "*"], 1);
      await sameN(sub, ["UNSUBSCRIBE"], 1);
      await sameN(sub, ["UNSUBSCRIBE"], 1);
      // Still in pub/sub mode: the shard subscription remains.
      await sub.sameAll([["GET", "x"], ["PING"]]);
      await sameN(sub, ["SUNSUBSCRIBE"], 1);
      await sub.sameAll([["GET", "x"], ["PING"]]);
    });

    it("shows sub/psub/ssub and flag P in CLIENT INFO, and RESET leaves pub/sub mode", async () => {
      const sub = await open();
      await hello(sub);
      const ch = `info:${rt}:`;
      await sameN(sub, ["SUBSCRIBE", ch + "a", ch + "b"], 2);
      await sameN(sub, ["PSUBSCRIBE", ch + "*"], 1);
      await sameN(sub, ["SSUBSCRIBE", ch + "s"], 1);
      for (const field of ["flags", "sub", "psub", "ssub"]) {
        assert.equal(await ownField(sub.respite, field), await ownField(sub.redis, field), field);
      }
      await sub.same("RESET");
      await hello(sub, "2");
      await sub.sameAll([["GET", "x"], ["PING"], ["PUBSUB", "NUMSUB", ch + "a"], ["PUBSUB", "NUMPAT"]]);
      assert.equal(await ownField(sub.respite, "flags"), await ownField(sub.redis, "flags"));
    });

    it("delivers message, pmessage and smessage in RESP2 and RESP3, binary-safe", async () => {
      const sub2 = await open();
      const sub3 = await open();
      const pub = await open();
      await hello(sub3);
      const ch = `msg:${rt}:`;
      for (const sub of [sub2, sub3]) {
        await sameN(sub, ["SUBSCRIBE", ch + "a", Buffer.concat([bin(ch), BINARY])], 2);
        await sameN(sub, ["PSUBSCRIBE", ch + "a*"], 1);
        await sameN(sub, ["SSUBSCRIBE", ch + "s"], 1);
      }
      const message = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await pub.same("PUBLISH", ch + "a", message);
      for (const sub of [sub2, sub3]) await samePushes(sub, 2);
      await pub.same("PUBLISH", Buffer.concat([bin(ch), BINARY]), "");
      for (const sub of [sub2, sub3]) await samePushes(sub, 1);
      await pub.same("PUBLISH", ch + "abc", "p");
      for (const sub of [sub2, sub3]) await samePushes(sub, 1);
      await pub.same("SPUBLISH", ch + "s", BINARY);
      for (const sub of [sub2, sub3]) await samePushes(sub, 1);
      await pub.sameAll([["PUBLISH", ch + "none", "x"], ["SPUBLISH", ch + "a", "x"], ["PUBLISH", ch + "s", "x"]]);
      await pub.same("PUBLISH", ch + "a", "big".repeat(100_000));
      for (const sub of [sub2, sub3]) await samePushes(sub, 2);
    });

    it("keeps the order of pipelined deliveries, small ones buffered and big ones written at once", async () => {
      const sub2 = await open();
      const sub3 = await open();
      const pub = await open();
      await hello(sub3);
      const ch = `order:${rt}`;
      for (const sub of [sub2, sub3]) {
        await sameN(sub, ["SUBSCRIBE", ch], 1);
        await sameN(sub, ["PSUBSCRIBE", ch + "*"], 1);
      }
      const big = "b".repeat(20_000);
      await pub.sameAll([["PUBLISH", ch + ":p", big], ["PUBLISH", ch, "1"], ["PUBLISH", ch, big], ["PUBLISH", ch + ":p", "3"], ["PUBLISH", ch, "4"]]);
      for (const sub of [sub2, sub3]) await samePushes(sub, 8);
      await pub.same("PUBLISH", ch, big + "alone");
      for (const sub of [sub2, sub3]) await samePushes(sub, 2);
      await sub3.same("PING", "after");
    });

    it("in RESP3 a client publishing to itself gets the push before the reply, even with replies off", async () => {
      const me = await open();
      const other = await open();
      await hello(me);
      const ch = `self:${rt}`;
      await sameN(me, ["SUBSCRIBE", ch], 1);
      await sameN(me, ["PUBLISH", ch, "hi"], 2);
      await sameN(me, ["GET", "x"], 1);
      sendBoth(me, ["CLIENT", "REPLY", "OFF"]);
      await sameN(me, ["PUBLISH", ch, "silent"], 1);
      await other.same("PUBLISH", ch, "from other");
      await samePushes(me, 1);
      await sameN(me, ["SUBSCRIBE", ch + ":2"], 1);
      await sameN(me, ["CLIENT", "REPLY", "ON"], 1);
      await sameN(me, ["MULTI"], 1);
      await sameN(me, ["PUBLISH", ch, "in exec"], 1);
      await sameN(me, ["EXEC"], 2);
    });

    it("SUBSCRIBE inside EXEC enters pub/sub mode; SSUBSCRIBE is refused there", async () => {
      const c = await open();
      const ch = `exec:${rt}`;
      await c.sameAll([["MULTI"], ["SSUBSCRIBE", ch], ["EXEC"]]);
      await c.sameAll([["MULTI"], ["SUBSCRIBE", ch], ["PING"]]);
      await sameN(c, ["EXEC"], 1);
      await c.sameAll([["PING"], ["SET", "k", "v"]]);
    });

    it("answers PUBSUB subcommands and INFO counters like redis-server", async () => {
      const sub = await open();
      const q = await open();
      const ch = `intro:${rt}:`;
      await sameN(sub, ["SUBSCRIBE", ch + "one"], 1);
      await sameN(sub, ["PSUBSCRIBE", ch + "p1", ch + "p2"], 2);
      await sameN(sub, ["SSUBSCRIBE", ch + "shard"], 1);
      await q.sameAll([
        ["PUBSUB", "CHANNELS", ch + "*"],
        ["PUBSUB", "CHANNELS", ch + "o?e"],
        ["PUBSUB", "CHANNELS", "nothing*"],
        ["PUBSUB", "NUMSUB"],
        ["PUBSUB", "NUMSUB", ch + "one", ch + "two", ch + "one"],
        ["PUBSUB", "NUMPAT"],
        ["PUBSUB", "SHARDCHANNELS", ch + "*"],
        ["PUBSUB", "SHARDNUMSUB", ch + "shard", ch + "one"],
        ["PUBSUB", "HELP"],
        ["PUBSUB", "CHANNELS", "a", "b"],
        ["PUBSUB", "NUMPAT", "x"],
        ["PUBSUB", "NOPE"],
        ["PUBSUB"],
        ["PUBLISH", "x"],
        ["SUBSCRIBE"],
        ["SPUBLISH", "a", "b", "c"],
      ]);
      const stats = async (conn: RawConnection) => {
        const info = text(decode(await conn.call("INFO", "stats")));
        return ["pubsub_channels", "pubsub_patterns", "pubsubshard_channels"].map((f) => info.match(`${f}:(\\d+)`)![1]);
      };
      assert.deepEqual(await stats(q.respite), await stats(q.redis));
      await q.same("PUBLISH", ch + "p1", "x"); // one pattern matches itself
      await samePushes(sub, 1);
      sub.close();
      await new Promise((r) => setTimeout(r, 100));
      await q.sameAll([["PUBSUB", "NUMSUB", ch + "one"], ["PUBSUB", "NUMPAT"], ["PUBSUB", "SHARDNUMSUB", ch + "shard"]]);
    });

    it("fans out to 10,000 subscribers of one channel and to 10,000 channels of one subscriber each", async () => {
      const n = 10_000;
      const pub = await RawConnection.connect(server.port);
      const channelCount = async () => Number(text(decode(await pub.call("INFO", "stats"))).match(/pubsub_channels:(\d+)/)![1]);
      const channelsBefore = await channelCount();
      const socks: net.Socket[] = [];
      const received: string[] = new Array(n).fill("");
      const expected: string[] = [];
      const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;
      for (let i = 0; i < n; i++) {
        const own = `own:${i}`;
        const head = i % 2 ? ">" : "*";
        const hello = i % 2 ? "HELLO-REPLY" : "";
        expected.push(hello + [
          `${head}3\r\n${bulk("subscribe")}${bulk("big")}:1\r\n`,
          `${head}3\r\n${bulk("subscribe")}${bulk(own)}:2\r\n`,
          `${head}3\r\n${bulk("message")}${bulk("big")}${bulk("to all")}`,
          `${head}3\r\n${bulk("message")}${bulk(own)}${bulk(`to ${i}`)}`,
        ].join(""));
      }
      const waiters = new Map<number, () => void>();
      const connectOne = (i: number) =>
        new Promise<void>((resolve, reject) => {
          const s = net.connect(server.port, "127.0.0.1", () => {
            const cmds = [...(i % 2 ? [encodeCommand(["HELLO", "3"])] : []), encodeCommand(["SUBSCRIBE", "big", `own:${i}`])];
            s.write(Buffer.concat(cmds));
            resolve();
          });
          s.setEncoding("latin1");
          s.on("data", (d: string) => {
            received[i] += d;
            // The HELLO reply holds the client id; replace it by a marker once it is complete.
            if (i % 2 && received[i].startsWith("%7") && received[i].includes("*0\r\n")) {
              received[i] = "HELLO-REPLY" + received[i].slice(received[i].indexOf("*0\r\n") + 4);
            }
            waiters.get(i)?.();
          });
          s.on("error", reject);
          socks.push(s);
        });
      const until = (i: number, len: (i: number) => number) =>
        new Promise<void>((resolve) => {
          waiters.set(i, () => received[i].length >= len(i) && resolve());
          if (received[i].length >= len(i)) resolve();
        });
      try {
        for (let i = 0; i < n; i += 500) await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, j) => connectOne(i + j)));
        const confirmed = (i: number) => expected[i].indexOf(i % 2 ? ">3\r\n$7\r\nmessage" : "*3\r\n$7\r\nmessage");
        await Promise.all(Array.from({ length: n }, (_, i) => until(i, confirmed)));
        assert.equal((await pub.call("PUBSUB", "NUMSUB", "big")).toString(), `*2\r\n$3\r\nbig\r\n:${n}\r\n`);
        assert.equal((await pub.call("PUBLISH", "big", "to all")).toString(), `:${n}\r\n`);
        const replies = await pub.pipeline(Array.from({ length: n }, (_, i) => ["PUBLISH", `own:${i}`, `to ${i}`]));
        assert.ok(replies.every((r) => r.toString() === ":1\r\n"));
        await Promise.all(Array.from({ length: n }, (_, i) => until(i, (k) => expected[k].length)));
        for (let i = 0; i < n; i++) assert.equal(received[i], expected[i], `subscriber ${i}`);
        assert.equal(await channelCount(), channelsBefore + n + 1);
      } finally {
        for (const s of socks) s.destroy();
      }
      // Disconnected subscribers leave their channels.
      for (let tries = 0; tries < 100; tries++) {
        if ((await pub.call("PUBSUB", "NUMSUB", "big")).toString().endsWith(":0\r\n")) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal((await pub.call("PUBLISH", "big", "x")).toString(), ":0\r\n");
      pub.close();
    });

    // The soft limit lets output grow for a second before acting, so its flood is slowed to keep memory small.
    const floods = [
      { limit: "pubsub 4mb 1mb 60", what: "hard", size: 64 * 1024, pauseMs: 0 },
      { limit: "pubsub 0 1mb 0", what: "soft", size: 8 * 1024, pauseMs: 10 },
    ];
    for (const { limit, what, size, pauseMs } of floods) {
      it(`closes a subscriber that stops reading at the ${what} output buffer limit; others carry on`, async () => {
        const pub = await RawConnection.connect(server.port);
        const other = await RawConnection.connect(server.port);
        assert.equal((await pub.call("CONFIG", "SET", "client-output-buffer-limit", limit)).toString(), "+OK\r\n");
        const rssOf = async () => Number(text(decode(await other.call("INFO", "memory"))).match(/used_memory_rss:(\d+)/)![1]);
        const rssBefore = await rssOf();
        const sub = await RawConnection.connect(server.port);
        await sub.call("SUBSCRIBE", `flood:${what}`);
        sub.sock.pause();
        const chunk = "x".repeat(size);
        let published = 0;
        let last = "";
        // Up to 256 MB (hard) or 5 s (soft), far past the limit: without one the server would hold all of it.
        for (let round = 0; round < 256 * (64 * 1024 / size) && last !== ":0\r\n"; round++) {
          if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
          const replies = await pub.pipeline(Array.from({ length: 16 }, () => ["PUBLISH", `flood:${what}`, chunk]));
          published += 16;
          last = replies[replies.length - 1].toString();
          assert.equal((await other.call("PING")).toString(), "+PONG\r\n");
        }
        assert.equal(last, ":0\r\n", `still subscribed after ${published} messages`);
        const growth = (await rssOf()) - rssBefore;
        assert.ok(growth < 100 * 1024 * 1024, `rss grew by ${growth} bytes`);
        assert.match(server.output(), /Client id=\d+ .* scheduled to be closed ASAP for overcoming of output buffer limits\./);
        sub.sock.resume();
        await sub.untilClosed(20_000);
        assert.equal((await other.call("SET", "k", "v")).toString(), "+OK\r\n");
        await pub.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60");
        pub.close();
        other.close();
      });
    }
  });
}
