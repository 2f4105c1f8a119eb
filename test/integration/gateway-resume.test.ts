/**
 * Recovery over the gateway's resp3 WebSocket on every runtime: the
 * trailing `SINCE <id>` option of SUBSCRIBE/PSUBSCRIBE, the `recovery` push
 * that says whether everything missed was replayed, id attributes on
 * message pushes, forced disconnects with no gap and no duplicate, and the
 * rule that keeps a channel named SINCE usable.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { type GatewayServer, publishThroughKills, type Resp3Item, startGateway, waitSubscribers, WsClient } from "../lib/gateway.ts";

const resp3 = (...args: string[]) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("");
const item = (value: unknown, attrs: Record<string, unknown> | null = null): Resp3Item => ({ attrs, value });
const confirm = (kind: string, name: string, n: number) => item([kind, name, n]);

for (const rt of RUNTIMES) {
  describe(`gateway resp3 recovery (${rt})`, () => {
    let g: GatewayServer;
    let resp: RawConnection;
    before(async () => {
      g = await startGateway(rt, ["--gateway-tokens", "admin all", "--gateway-history", "room:* 100 600 kill:* 1000 600"]);
      resp = await RawConnection.connect(g.server.port);
    });
    after(async () => {
      resp?.close();
      await g?.stop();
    });

    const open = () => WsClient.open(`${g.wsUrl}?token=admin`, "resp3");
    const send = (ws: WsClient, ...args: string[]) => ws.ws.send(Buffer.from(resp3(...args)));

    it("an empty id subscribes from now: a recovery push with the position, then id attributes on messages", async () => {
      const ws = await open();
      send(ws, "SUBSCRIBE", "room:a", "SINCE", "");
      const [sub, rec] = await ws.values(2);
      assert.deepEqual(sub, confirm("subscribe", "room:a", 1));
      const [kind, position, recovered] = rec.value as [string, string, null];
      assert.deepEqual([kind, recovered, rec.attrs], ["recovery", null, null]);
      assert.match(position, /^[0-9a-f]{6}-\d+$/);
      await resp.call("PUBLISH", "room:a", "hello");
      const [msg] = await ws.values(1);
      assert.deepEqual(msg.value, ["message", "room:a", "hello"]);
      const [epoch, seq] = position.split("-");
      assert.deepEqual(msg.attrs, { id: `${epoch}-${Number(seq) + 1}` });
      // Channels without history carry no id.
      send(ws, "SUBSCRIBE", "plain");
      assert.deepEqual(await ws.values(1), [confirm("subscribe", "plain", 2)]);
      await resp.call("PUBLISH", "plain", "p");
      assert.deepEqual(await ws.values(1), [item(["message", "plain", "p"])]);
      ws.close();
    });

    it("the not-recovered signal: an id from another run, or older than the history keeps", async () => {
      const ws = await open();
      send(ws, "SUBSCRIBE", "room:b", "SINCE", "");
      const position = ((await ws.values(2))[1].value as string[])[1];
      for (let i = 1; i <= 130; i++) await resp.call("PUBLISH", "room:b", String(i));
      const live = await ws.values(130);
      ws.close();
      const again = await open();
      send(again, "SUBSCRIBE", "room:b", "SINCE", "000000-1");
      const [sub, rec] = await again.values(2);
      assert.deepEqual(sub, confirm("subscribe", "room:b", 1));
      assert.deepEqual((rec.value as unknown[])[2], false);
      await again.noMoreValues();
      // Only the last 100 are kept: resuming from the start says so, and replays what is still there.
      send(again, "SUBSCRIBE", "room:b", "SINCE", position);
      const [sub2, rec2] = await again.values(2);
      assert.deepEqual(sub2, confirm("subscribe", "room:b", 1));
      assert.deepEqual(rec2.value, ["recovery", live[129].attrs!.id, false]);
      const replay = await again.values(100);
      assert.deepEqual(replay, live.slice(30));
      // Resuming from a kept id recovers everything after it.
      send(again, "SUBSCRIBE", "room:b", "SINCE", live[119].attrs!.id as string);
      const [, rec3, ...rest] = await again.values(12);
      assert.deepEqual(rec3.value, ["recovery", live[129].attrs!.id, true]);
      assert.deepEqual(rest, live.slice(120));
      await again.noMoreValues();
      again.close();
    });

    it("PSUBSCRIBE ... SINCE replays as pmessage pushes", async () => {
      const ws = await open();
      send(ws, "PSUBSCRIBE", "room:p*", "SINCE", "");
      const position = ((await ws.values(2))[1].value as string[])[1];
      ws.close();
      await resp.call("PUBLISH", "room:p1", "x");
      await resp.call("PUBLISH", "room:other", "skip");
      await resp.call("PUBLISH", "room:p2", "y");
      const back = await open();
      send(back, "PSUBSCRIBE", "room:p*", "SINCE", position);
      const [sub, rec, m1, m2] = await back.values(4);
      assert.deepEqual(sub, confirm("psubscribe", "room:p*", 1));
      assert.equal((rec.value as unknown[])[2], true);
      assert.deepEqual([m1.value, m2.value], [["pmessage", "room:p*", "room:p1", "x"], ["pmessage", "room:p*", "room:p2", "y"]]);
      await back.noMoreValues();
      back.close();
    });

    it("a channel named SINCE: the option needs a name before it and is stripped exactly once", async () => {
      const ws = await open();
      send(ws, "SUBSCRIBE", "SINCE");
      assert.deepEqual(await ws.values(1), [confirm("subscribe", "SINCE", 1)]);
      send(ws, "SUBSCRIBE", "since", "x");
      assert.deepEqual(await ws.values(2), [confirm("subscribe", "since", 2), confirm("subscribe", "x", 3)]);
      send(ws, "SUBSCRIBE", "a", "SINCE", "b", "SiNcE", "");
      const got = await ws.values(4);
      assert.deepEqual(got.slice(0, 3), [confirm("subscribe", "a", 4), confirm("subscribe", "SINCE", 4), confirm("subscribe", "b", 5)]);
      assert.equal((got[3].value as unknown[])[0], "recovery");
      await ws.noMoreValues();
      await waitSubscribers(resp, "SINCE", 1);
      assert.equal((await resp.call("PUBSUB", "NUMSUB", "SiNcE")).toString(), "*2\r\n$5\r\nSiNcE\r\n:0\r\n");
      // Refused where it cannot work.
      send(ws, "MULTI");
      send(ws, "SUBSCRIBE", "a", "SINCE", "");
      assert.deepEqual((await ws.values(2)).map((v) => v.value instanceof Error ? v.value.message : v.value),
        ["OK", "ERR SINCE is not allowed inside MULTI"]);
      send(ws, "DISCARD");
      assert.deepEqual(await ws.values(1), [item("OK")]);
      ws.close();
    });

    it("forced disconnects while a publisher runs lose nothing and repeat nothing", async () => {
      const admin = await RawConnection.connect(g.server.port);
      const received: string[] = [];
      let lastId = "";
      const connect = async () => {
        const ws = await open();
        send(ws, "CLIENT", "ID");
        const id = (await ws.values(1))[0].value as number;
        send(ws, "SUBSCRIBE", "kill:1", "SINCE", lastId);
        const [sub, rec] = await ws.values(2);
        assert.deepEqual(sub, confirm("subscribe", "kill:1", 1));
        const [, position, recovered] = rec.value as [string, string, boolean | null];
        assert.equal(recovered, lastId === "" ? null : true);
        if (lastId === "") lastId = position;
        return { ws, id };
      };
      const drain = (ws: WsClient) => {
        for (const v of ws.buffered()) {
          const [kind, , message] = v.value as string[];
          assert.equal(kind, "message");
          received.push(message);
          lastId = v.attrs!.id as string;
        }
      };
      const ws = await publishThroughKills(resp, admin, connect, drain);
      await resp.call("PUBLISH", "kill:1", "last");
      while (received.at(-1) !== "last") {
        const [v] = await ws.values(1);
        received.push((v.value as string[])[2]);
      }
      ws.close();
      admin.close();
      assert.deepEqual(received, [...Array.from({ length: 300 }, (_, i) => String(i + 1)), "last"]);
    });
  });
}
