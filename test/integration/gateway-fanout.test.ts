/**
 * Channel fan-out to many gateway WebSockets on every runtime (native topic
 * publish on Bun and uWS, the engine's path on Deno): json, base64 json and
 * resp3 subscribers mixed with a pattern subscriber all get exactly what the
 * engine's path gives, history ids included; unsubscribing and closing stop
 * delivery and show in PUBSUB NUMSUB; a subscriber publishing to itself gets
 * the push before its reply, as over RESP.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { type GatewayServer, startGateway, waitSubscribers, WsClient } from "../lib/gateway.ts";

const resp3 = (...args: string[]) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("");

for (const rt of RUNTIMES) {
  describe(`gateway fan-out (${rt})`, () => {
    let g: GatewayServer;
    let resp: RawConnection;
    before(async () => {
      g = await startGateway(rt, ["--gateway-tokens", "admin all", "--gateway-history", "fan:h* 100 600"]);
      resp = await RawConnection.connect(g.server.port);
    });
    after(async () => {
      resp?.close();
      await g?.stop();
    });

    for (const channel of ["fan:plain", "fan:hist"]) {
      it(`many subscribers of ${channel} get every message once, in order, as the engine would send it`, async () => {
        const json = await Promise.all(Array.from({ length: 12 }, () => WsClient.open(`${g.wsUrl}?token=admin`, "json")));
        const b64 = await WsClient.open(`${g.wsUrl}?token=admin&encoding=base64`, "json");
        const r3 = await Promise.all(Array.from({ length: 4 }, () => WsClient.open(`${g.wsUrl}?token=admin`, "resp3")));
        const pattern = await WsClient.open(`${g.wsUrl}?token=admin`, "json");
        for (const ws of [...json, b64]) assert.equal((await ws.call(["SUBSCRIBE", channel])).error, undefined);
        const confirm = `>3\r\n$9\r\nsubscribe\r\n$${channel.length}\r\n${channel}\r\n:1\r\n`;
        for (const ws of r3) assert.equal(await ws.resp(resp3("SUBSCRIBE", channel), confirm.length), confirm);
        await pattern.call(["PSUBSCRIBE", "fan:*"]);
        await waitSubscribers(resp, channel, 17);
        const n = 40;
        await resp.pipeline(Array.from({ length: n }, (_, i) => ["PUBLISH", channel, `m${i}`]));
        const expected = await json[0].json(n);
        assert.deepEqual(expected.map((f) => f.push), Array.from({ length: n }, (_, i) => ["message", channel, `m${i}`]));
        if (channel === "fan:hist") {
          const seqs = expected.map((f) => Number(String(f.id).split("-")[1]));
          assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i));
        } else assert.equal(expected[0].id, undefined);
        for (const ws of json.slice(1)) assert.deepEqual(await ws.json(n), expected);
        const b64frames = await b64.json(n);
        assert.deepEqual(b64frames.map((f) => [f.push[2], f.id]), expected.map((f) => [{ base64: Buffer.from(f.push[2]).toString("base64") }, f.id]));
        const bytes = Array.from({ length: n }, (_, i) => `>3\r\n$7\r\nmessage\r\n$${channel.length}\r\n${channel}\r\n$${String(`m${i}`).length}\r\nm${i}\r\n`).join("");
        for (const ws of r3) assert.equal(await ws.resp("", bytes.length), bytes);
        const pframes = await pattern.json(n);
        assert.deepEqual(pframes.map((f) => f.push), expected.map((f) => ["pmessage", "fan:*", channel, f.push[2]]));

        // Half unsubscribe, some close: they get nothing more, NUMSUB agrees.
        for (const ws of json.slice(0, 6)) assert.deepEqual((await ws.call(["UNSUBSCRIBE"])).result, [["unsubscribe", channel, 0]]);
        for (const ws of r3.slice(0, 2)) ws.close();
        await waitSubscribers(resp, channel, 9);
        assert.equal((await resp.call("PUBLISH", channel, "after")).toString(), ":10\r\n");
        for (const ws of json.slice(6)) assert.deepEqual((await ws.json())[0].push, ["message", channel, "after"]);
        for (const ws of json.slice(0, 6)) {
          assert.equal((await ws.call(["PING"])).result, "PONG");
          assert.deepEqual(ws.frames, []);
        }
        const after = `>3\r\n$7\r\nmessage\r\n$${channel.length}\r\n${channel}\r\n$5\r\nafter\r\n`;
        for (const ws of r3.slice(2)) assert.equal(await ws.resp("", after.length), after);

        // A subscriber that publishes to its own channel gets the push before its reply, as over RESP.
        const self = json[6];
        self.ws.send(JSON.stringify({ id: "pub", command: ["PUBLISH", channel, "self"] }));
        const [push, reply] = await self.json(2);
        assert.deepEqual([push.push, reply], [["message", channel, "self"], { id: "pub", result: 10 }]);
        for (const ws of [...json, b64, ...r3, pattern]) ws.close();
      });
    }
  });
}
