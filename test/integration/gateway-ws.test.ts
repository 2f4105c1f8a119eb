/**
 * The gateway's WebSocket protocols on every runtime, with an ordinary
 * WebSocket client (ws): json (ids, pipelining, pushes, bad frames) and
 * resp3 (RESP3 bytes both ways), access rules and tokens, origin refusal,
 * frame and queue limits (a slow reader is closed, not buffered for), and
 * recovery after forced disconnects with no gap and no duplicate.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { type GatewayServer, publishThroughKills, startGateway, waitSubscribers, WsClient } from "../lib/gateway.ts";

const resp3 = (...args: string[]) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("");

for (const rt of RUNTIMES) {
  describe(`gateway WebSocket (${rt})`, () => {
    let g: GatewayServer;
    let resp: RawConnection;
    before(async () => {
      g = await startGateway(rt, ["--gateway-tokens", "admin all", "--gateway-default-access", "subscribe",
        "--gateway-allowed-origins", "https://app.example", "--gateway-history", "room:* 100 600 kill:* 1000 600",
        "--gateway-max-frame", "64kb", "--gateway-max-queue", "256kb"]);
      resp = await RawConnection.connect(g.server.port);
    });
    after(async () => {
      resp?.close();
      await g?.stop();
    });

    it("json: replies echo ids in order, errors and bad frames are error replies, not crashes", async () => {
      const ws = await WsClient.open(`${g.wsUrl}?token=admin`, "json");
      for (let i = 0; i < 20; i++) ws.ws.send(JSON.stringify({ id: i, command: ["INCR", "seq"] }));
      ws.ws.send(JSON.stringify(["GET", "seq"]));
      const replies = await ws.json(21);
      assert.deepEqual(replies.slice(0, 20), Array.from({ length: 20 }, (_, i) => ({ id: i, result: i + 1 })));
      assert.deepEqual(replies[20], { result: "20" });
      assert.deepEqual(await ws.call(["HSET", "h", "a", "1"]).then((r) => r.result), 1);
      assert.deepEqual((await ws.call(["HGETALL", "h"])).result, { a: "1" });
      assert.match((await ws.call(["LPUSH", "h", "x"])).error, /^WRONGTYPE/);
      ws.ws.send("{not json");
      ws.ws.send(Buffer.from([0x5b, 0x22, 0xff, 0x22, 0x5d]));
      ws.ws.send(JSON.stringify({ id: "x", command: [] }));
      assert.deepEqual(await ws.json(3), [
        { error: "ERR invalid JSON" },
        { error: "ERR invalid UTF-8 in frame" },
        { id: "x", error: "ERR a command is a non-empty array of strings" },
      ]);
      assert.deepEqual((await ws.call(["SET", "b", { base64: "AP8=" }])).result, "OK");
      assert.deepEqual((await ws.call(["GET", "b"])).result, { base64: "AP8=" });
      assert.equal((await ws.call(["CLIENT", "REPLY", "OFF"])).error, "ERR CLIENT REPLY is not available over the gateway's json and HTTP protocols");
      assert.equal((await ws.call(["PING"])).result, "PONG");
      ws.close();
    });

    it("json: pushes arrive as {push}, subscribe replies gather their confirmations", async () => {
      const ws = await WsClient.open(`${g.wsUrl}?token=admin`, ["json"]);
      assert.deepEqual((await ws.call(["SUBSCRIBE", "news", "sport"])).result, [["subscribe", "news", 1], ["subscribe", "sport", 2]]);
      await resp.call("PUBLISH", "news", "hello");
      assert.deepEqual(await ws.json(), [{ push: ["message", "news", "hello"] }]);
      // In RESP3 a subscribed client may still run any command.
      assert.equal((await ws.call(["GET", "seq"])).result, "20");
      assert.deepEqual((await ws.call(["UNSUBSCRIBE"])).result, [["unsubscribe", "news", 1], ["unsubscribe", "sport", 0]]);
      assert.deepEqual((await ws.call(["UNSUBSCRIBE"])).result, [["unsubscribe", null, 0]]);
      const list = (await ws.call(["CLIENT", "LIST"])).result as string;
      assert.match(list, /cmd=client\|list/);
      ws.close();
    });

    it("resp3: binary frames carry RESP3 both ways, pushes included", async () => {
      const ws = await WsClient.open(`${g.wsUrl}?token=admin`, "resp3");
      assert.equal(await ws.resp(resp3("PING"), 7), "+PONG\r\n");
      await ws.resp(resp3("HSET", "r3", "f", "v"), 4);
      assert.equal(await ws.resp(resp3("HGETALL", "r3"), 18), "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
      const sub = ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n";
      assert.equal(await ws.resp(resp3("SUBSCRIBE", "ch"), sub.length), sub);
      await resp.call("PUBLISH", "ch", "x");
      const push = ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n";
      assert.equal(await ws.resp("", push.length), push);
      // Pipelined in one frame, answered in order.
      assert.equal(await ws.resp(resp3("ECHO", "a") + resp3("ECHO", "b"), 14), "$1\r\na\r\n$1\r\nb\r\n");
      ws.close();
    });

    it("default access and tokens: subscribe-only browsers get NOPERM elsewhere; bad tokens are refused", async () => {
      const anon = await WsClient.open(g.wsUrl, "json");
      assert.equal((await anon.call(["GET", "seq"])).error, "NOPERM this user has no permissions to run the 'get' command");
      assert.equal((await anon.call(["PUBLISH", "public:x", "m"])).error, "NOPERM this user has no permissions to run the 'publish' command");
      assert.equal((await anon.call(["SUBSCRIBE", "private"])).error,
        "NOPERM this user has no permissions to access one of the channels used as arguments");
      assert.deepEqual((await anon.call(["SUBSCRIBE", "public:x"])).result, [["subscribe", "public:x", 1]]);
      assert.equal((await anon.call(["PSUBSCRIBE", "*"])).error,
        "NOPERM this user has no permissions to access one of the channels used as arguments");
      assert.deepEqual((await anon.call(["PSUBSCRIBE", "public:*"])).result, [["psubscribe", "public:*", 2]]);
      anon.close();
      const viaProtocol = await WsClient.open(g.wsUrl, ["json", "token.admin"]);
      assert.equal(viaProtocol.ws.protocol, "json");
      assert.equal((await viaProtocol.call(["GET", "seq"])).result, "20");
      viaProtocol.close();
      await assert.rejects(WsClient.open(`${g.wsUrl}?token=nope`, "json"), /HTTP 401/);
      await assert.rejects(WsClient.open(g.wsUrl, "mqtt"), /HTTP 400/);
      const r3 = await WsClient.open(g.wsUrl, "resp3");
      const noperm = "-NOPERM this user has no permissions to run the 'set' command\r\n";
      assert.equal(await r3.resp(resp3("SET", "k", "v"), noperm.length), noperm);
      r3.close();
    });

    it("AUTH on the socket lifts the default access when requirepass is set", async () => {
      const locked = await startGateway(rt, ["--requirepass", "pw", "--gateway-default-access", "none"]);
      try {
        const ws = await WsClient.open(locked.wsUrl, "json");
        assert.equal((await ws.call(["GET", "k"])).error, "NOAUTH Authentication required.");
        assert.equal((await ws.call(["AUTH", "bad"])).error, "WRONGPASS invalid username-password pair or user is disabled.");
        assert.equal((await ws.call(["AUTH", "pw"])).result, "OK");
        assert.equal((await ws.call(["SET", "k", "v"])).result, "OK");
        ws.close();
        const hello = await WsClient.open(locked.wsUrl, "json");
        const r = await hello.call(["HELLO", "3", "AUTH", "default", "pw"]);
        assert.equal(r.result.proto, 3);
        assert.equal((await hello.call(["GET", "k"])).result, "v");
        hello.close();
      } finally {
        await locked.stop();
      }
    });

    it("origin check: pages from other origins are refused at the upgrade", async () => {
      await assert.rejects(WsClient.open(g.wsUrl, "json", { Origin: "https://evil.example" }), /HTTP 403/);
      const ok = await WsClient.open(g.wsUrl, "json", { Origin: "https://app.example" });
      assert.equal((await ok.call(["PING"])).result, "PONG");
      ok.close();
      const same = await WsClient.open(g.wsUrl, "json", { Origin: new URL(g.base).origin });
      same.close();
    });

    it("frames over gateway-max-frame close the socket with 1009", async () => {
      const ws = await WsClient.open(`${g.wsUrl}?token=admin`, "json");
      ws.ws.send(JSON.stringify(["SET", "big", "x".repeat(100_000)]));
      assert.equal(await ws.closed(), 1009);
      assert.equal((await resp.call("EXISTS", "big")).toString(), ":0\r\n");
    });

    it("a subscriber that stops reading is closed with 4008 and dropped, whatever is published", async () => {
      const slow = await WsClient.open(`${g.wsUrl}?token=admin`, "json");
      assert.deepEqual((await slow.call(["SUBSCRIBE", "flood"])).result, [["subscribe", "flood", 1]]);
      (slow.ws as any)._socket.pause();
      const payload = "p".repeat(50_000);
      let receivers = 1;
      let published = 0;
      // 60 MB offered: far beyond kernel buffers plus the 256 KB queue allowed.
      while (receivers > 0 && published < 1200) {
        const replies = await resp.pipeline(Array.from({ length: 20 }, () => ["PUBLISH", "flood", payload]));
        published += 20;
        receivers = Number(replies[replies.length - 1].toString().slice(1));
      }
      assert.equal(receivers, 0, "the slow subscriber was dropped");
      await waitSubscribers(resp, "flood", 0);
      (slow.ws as any)._socket.resume();
      assert.equal(await slow.closed(30_000), 4008);
      assert.match(slow.closeReason, /slow consumer/);
    });

    it("recovery: forced disconnects while a publisher runs lose nothing and repeat nothing", async () => {
      const admin = await RawConnection.connect(g.server.port);
      const received: string[] = [];
      let lastId: string | null = null;
      const connect = async () => {
        const ws = await WsClient.open(`${g.wsUrl}?token=admin`, "json");
        const id = (await ws.call(["CLIENT", "ID"])).result as number;
        const reply = await ws.call(["SUBSCRIBE", "kill:1"], lastId === null ? {} : { since: lastId });
        if (lastId !== null) assert.equal(reply.recovered, true);
        lastId ??= reply.position;
        return { ws, id };
      };
      const drain = (ws: WsClient) => {
        for (const f of ws.frames.splice(0)) {
          const m = JSON.parse(String(f));
          received.push(m.push[2]);
          lastId = m.id;
        }
      };
      const ws = await publishThroughKills(resp, admin, connect, drain);
      await new Promise((r) => setTimeout(r, 50));
      await resp.call("PUBLISH", "kill:1", "last");
      await new Promise<void>((resolve) => {
        const check = () => (ws.frames.some((f) => String(f).includes('"last"')) ? resolve() : setTimeout(check, 20));
        check();
      });
      drain(ws);
      ws.close();
      admin.close();
      assert.deepEqual(received, [...Array.from({ length: 300 }, (_, i) => String(i + 1)), "last"]);
    });
  });
}
