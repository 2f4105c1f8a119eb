/**
 * The gateway's HTTP API on every runtime: webdis-style URLs (db prefix,
 * escapes, suffixes, PUT bodies), JSON commands, pipelines and MULTI, the
 * RESP3 -> JSON mapping, status codes, tokens and default access, CORS and
 * origin refusal, HEAD/OPTIONS, and SSE subscriptions with recovery.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { type GatewayServer, startGateway, waitSubscribers } from "../lib/gateway.ts";
import { toJson } from "../../core/gateway/json.ts";
import { ReplyError, RespBigNumber, RespMap, RespVerbatim } from "../../core/resp/decoder.ts";

const TOKENS = ["--gateway-tokens", "admin-token all reader-token readonly"];

async function getJson(url: string, init?: RequestInit): Promise<[number, any]> {
  const res = await fetch(url, init);
  return [res.status, await res.json()];
}

/** Reads SSE events from a streaming response until `count` events arrived. */
async function sseEvents(res: Response, count: number): Promise<Array<{ event: string; id?: string; data: any }>> {
  const reader = res.body!.getReader();
  const events: Array<{ event: string; id?: string; data: any }> = [];
  let text = "";
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString("utf8");
    let end;
    while ((end = text.indexOf("\n\n")) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      if (block.startsWith(":")) continue;
      const fields = Object.fromEntries(block.split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]));
      events.push({ event: fields.event, id: fields.id, data: JSON.parse(fields.data) });
    }
  }
  await reader.cancel();
  return events;
}

describe("RESP3 to JSON mapping (values no command here returns)", () => {
  it("big numbers as strings, verbatim as text, doubles' specials as strings, non-text map keys as JSON", () => {
    assert.equal(toJson(new RespBigNumber("3492890328409238509324850943850943825024385")), "3492890328409238509324850943850943825024385");
    assert.equal(toJson(new RespVerbatim("txt", new TextEncoder().encode("héllo"))), "héllo");
    assert.deepEqual([NaN, Infinity, -Infinity, 1.5].map((d) => toJson(d)), ["nan", "inf", "-inf", 1.5]);
    assert.deepEqual(toJson(new RespMap([[1, true], [new Uint8Array([104]), null]])), { "1": true, h: null });
    assert.deepEqual(toJson([new ReplyError("ERR x"), 2n ** 70n]), [{ error: "ERR x" }, "1180591620717411303424"]);
    assert.deepEqual(toJson(new Uint8Array([0xff, 0])), { base64: "/wA=" });
    assert.deepEqual(toJson(new TextEncoder().encode("ok"), true), { base64: "b2s=" });
  });
});

for (const rt of RUNTIMES) {
  describe(`gateway HTTP (${rt})`, () => {
    let g: GatewayServer;
    let resp: RawConnection;
    before(async () => {
      g = await startGateway(rt, [...TOKENS, "--gateway-default-access", "all", "--gateway-allowed-origins", "https://app.example",
        "--gateway-history", "hist:* 3 600"]);
      resp = await RawConnection.connect(g.server.port);
    });
    after(async () => {
      resp?.close();
      await g?.stop();
    });

    it("webdis URLs: GET /SET/k/v, /GET/k, db prefix, %2f and %2e escapes", async () => {
      assert.deepEqual(await getJson(`${g.base}/SET/plain/value`), [200, { SET: "OK" }]);
      assert.deepEqual(await getJson(`${g.base}/GET/plain`), [200, { GET: "value" }]);
      assert.deepEqual(await getJson(`${g.base}/SET/a%2fb/c%2ed`), [200, { SET: "OK" }]);
      assert.equal((await resp.call("GET", "a/b")).toString(), "$3\r\nc.d\r\n");
      assert.deepEqual(await getJson(`${g.base}/7/SET/in7/seven`), [200, { SET: "OK" }]);
      assert.deepEqual(await getJson(`${g.base}/GET/in7`), [200, { GET: null }]);
      assert.deepEqual(await getJson(`${g.base}/7/GET/in7`), [200, { GET: "seven" }]);
      assert.equal((await resp.pipeline([["SELECT", "7"], ["GET", "in7"], ["SELECT", "0"]]))[1].toString(), "$5\r\nseven\r\n");
      assert.deepEqual(await getJson(`${g.base}/99/GET/x`), [400, { error: "ERR DB index is out of range" }]);
    });

    it("suffixes: .json default, .raw RESP3 bytes, .txt/.html raw values with their type, 404 for nil", async () => {
      await resp.call("SET", "page", "<b>hi</b>");
      let res = await fetch(`${g.base}/GET/page.raw`);
      assert.equal(Buffer.from(await res.arrayBuffer()).toString("latin1"), "$9\r\n<b>hi</b>\r\n");
      res = await fetch(`${g.base}/GET/page.html`);
      assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(await res.text(), "<b>hi</b>");
      res = await fetch(`${g.base}/GET/page.txt`);
      assert.match(res.headers.get("content-type")!, /^text\/plain/);
      assert.equal(await res.text(), "<b>hi</b>");
      assert.equal((await fetch(`${g.base}/GET/missing.txt`)).status, 404);
      res = await fetch(`${g.base}/HGETALL/nohash.raw`);
      assert.equal(await res.text(), "%0\r\n");
      // An escaped dot is part of the argument, not a suffix.
      await resp.call("SET", "name.txt", "dotted");
      assert.deepEqual(await getJson(`${g.base}/GET/name%2etxt`), [200, { GET: "dotted" }]);
    });

    it("a request body past gateway-max-frame gets 413, with Content-Length or streamed, and the gateway goes on", async () => {
      assert.equal((await resp.call("CONFIG", "SET", "gateway-max-frame", "1024")).toString(), "+OK\r\n");
      try {
        const big = "x".repeat(4096);
        assert.equal((await fetch(`${g.base}/SET/big`, { method: "PUT", body: big })).status, 413);
        const chunks = new ReadableStream({
          start(c) {
            for (let i = 0; i < 64; i++) c.enqueue(new TextEncoder().encode(big));
            c.close();
          },
        });
        const streamed = await fetch(`${g.base}/SET/big`, { method: "PUT", body: chunks, duplex: "half" } as RequestInit);
        assert.equal(streamed.status, 413);
        assert.deepEqual(await getJson(`${g.base}/`, { method: "POST", body: JSON.stringify(["SET", "big", big]) }), [
          413,
          { error: "ERR request body larger than gateway-max-frame" },
        ]);
        assert.equal((await resp.call("EXISTS", "big")).toString(), ":0\r\n");
        assert.deepEqual(await getJson(`${g.base}/SET/big`, { method: "PUT", body: "small" }), [200, { SET: "OK" }]);
      } finally {
        await resp.call("CONFIG", "SET", "gateway-max-frame", "1048576");
      }
    });

    it("PUT sends the body as the last argument, binary-safe; non-UTF-8 values come back base64", async () => {
      const body = Buffer.from([0, 1, 0xfe, 0xff, 47, 10]);
      assert.equal((await fetch(`${g.base}/SET/bin`, { method: "PUT", body })).status, 200);
      assert.deepEqual(Buffer.from(await (await fetch(`${g.base}/GET/bin.bin`)).arrayBuffer()), body);
      assert.deepEqual(await getJson(`${g.base}/GET/bin`), [200, { GET: { base64: body.toString("base64") } }]);
      assert.deepEqual(await getJson(`${g.base}/GET/plain?encoding=base64`), [200, { GET: { base64: "dmFsdWU=" } }]);
      assert.deepEqual(await getJson(`${g.base}/SET/pct/%ff%00`), [200, { SET: "OK" }]);
      assert.equal((await resp.call("STRLEN", "pct")).toString(), ":2\r\n");
    });

    it("POST / runs a JSON command or a pipeline; POST /multi one transaction", async () => {
      const post = (path: string, body: unknown) => getJson(`${g.base}${path}`, { method: "POST", body: JSON.stringify(body) });
      assert.deepEqual(await post("/", ["SET", "counter", 10]), [200, { result: "OK" }]);
      assert.deepEqual(await post("/", [["INCR", "counter"], ["INCRBY", "counter", "x"], ["GET", "counter"]]), [200, [
        { result: 11 },
        { error: "ERR value is not an integer or out of range" },
        { result: "11" },
      ]]);
      assert.deepEqual(await post("/", ["INCRBY", "counter", "x"]), [400, { error: "ERR value is not an integer or out of range" }]);
      assert.deepEqual(await post("/multi", [["INCR", "counter"], ["LPUSH", "counter", "a"], ["INCR", "counter"]]), [200, {
        result: [12, { error: "WRONGTYPE Operation against a key holding the wrong kind of value" }, 13],
      }]);
      const [status, body] = await post("/multi", [["INCR", "counter"], ["NOSUCH"]]);
      assert.equal(status, 400);
      assert.match(body.error, /^EXECABORT/);
      assert.equal((await resp.call("GET", "counter")).toString(), "$2\r\n13\r\n");
      assert.deepEqual(await post("/", { not: "a command" }), [400, { error: "ERR a command is a non-empty array of strings" }]);
      assert.equal((await fetch(`${g.base}/`, { method: "POST", body: "[oops" })).status, 400);
    });

    it("maps RESP3 types: maps to objects, sets to arrays, doubles to numbers with inf as a string, verbatim to text", async () => {
      await resp.pipeline([["HSET", "h", "f1", "v1", "f2", "v2"], ["SADD", "s", "m"], ["ZADD", "z", "1.5", "a", "inf", "b"]]);
      assert.deepEqual(await getJson(`${g.base}/HGETALL/h`), [200, { HGETALL: { f1: "v1", f2: "v2" } }]);
      assert.deepEqual(await getJson(`${g.base}/SMEMBERS/s`), [200, { SMEMBERS: ["m"] }]);
      assert.deepEqual(await getJson(`${g.base}/ZSCORE/z/a`), [200, { ZSCORE: 1.5 }]);
      assert.deepEqual(await getJson(`${g.base}/ZSCORE/z/b`), [200, { ZSCORE: "inf" }]);
      assert.deepEqual(await getJson(`${g.base}/ZRANGE/z/0/-1/WITHSCORES`), [200, { ZRANGE: [["a", 1.5], ["b", "inf"]] }]);
      assert.deepEqual(await getJson(`${g.base}/EXISTS/h/s/nope`), [200, { EXISTS: 2 }]);
      const [, info] = await getJson(`${g.base}/INFO/server`);
      assert.match(info.INFO, /^# Server\r\nredis_version:7\.0\.15/);
    });

    it("tokens and default access: 401 for a bad token, 403 for refused commands and channels", async () => {
      const restricted = await startGateway(rt, [...TOKENS, "--gateway-default-access", "readonly"]);
      try {
        const b = restricted.base;
        assert.deepEqual(await getJson(`${b}/GET/x`), [200, { GET: null }]);
        assert.deepEqual(await getJson(`${b}/SET/x/1`), [403, { error: "NOPERM this user has no permissions to run the 'set' command" }]);
        assert.deepEqual(await getJson(`${b}/CONFIG/SET/maxclients/1`), [403, { error: "NOPERM this user has no permissions to run the 'config|set' command" }]);
        assert.deepEqual(await getJson(`${b}/KEYS/*`), [403, { error: "NOPERM this user has no permissions to run the 'keys' command" }]);
        const reader = { headers: { Authorization: "Bearer reader-token" } };
        assert.equal((await getJson(`${b}/SET/x/1`, reader))[0], 403);
        const admin = { headers: { Authorization: "Bearer admin-token" } };
        assert.deepEqual(await getJson(`${b}/SET/x/1`, admin), [200, { SET: "OK" }]);
        assert.deepEqual(await getJson(`${b}/GET/x?token=admin-token`), [200, { GET: "1" }]);
        assert.deepEqual(await getJson(`${b}/GET/x`, { headers: { Authorization: "Bearer wrong" } }), [401, { error: "unknown token" }]);
        // Refused inside MULTI dooms the transaction, as an ACL refusal does.
        const [status, body] = await getJson(`${b}/multi`, { method: "POST", body: JSON.stringify([["GET", "x"], ["DEL", "x"]]) });
        assert.equal(status, 403);
        assert.match(body.cause, /^NOPERM/);
        assert.deepEqual(await getJson(`${b}/SUBSCRIBE/private`), [403, { error: "NOPERM this user has no permissions to access one of the channels used as arguments" }]);
      } finally {
        await restricted.stop();
      }
      const locked = await startGateway(rt, ["--requirepass", "s3cret", "--gateway-default-access", "none"]);
      try {
        assert.deepEqual(await getJson(`${locked.base}/GET/x`), [401, { error: "NOAUTH Authentication required." }]);
        const post = (body: unknown) => getJson(locked.base + "/", { method: "POST", body: JSON.stringify(body) });
        assert.deepEqual(await post([["AUTH", "wrong"], ["GET", "x"]]), [200, [
          { error: "WRONGPASS invalid username-password pair or user is disabled." },
          { error: "NOAUTH Authentication required." },
        ]]);
        assert.deepEqual(await post([["AUTH", "s3cret"], ["SET", "x", "1"]]), [200, [{ result: "OK" }, { result: "OK" }]]);
      } finally {
        await locked.stop();
      }
    });

    it("CORS: allowed origins get headers, others 403; OPTIONS preflight; HEAD runs nothing", async () => {
      let res = await fetch(`${g.base}/GET/plain`, { headers: { Origin: "https://app.example" } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
      res = await fetch(`${g.base}/SET/plain/evil`, { headers: { Origin: "https://evil.example" } });
      assert.equal(res.status, 403);
      assert.equal(res.headers.get("access-control-allow-origin"), null);
      assert.equal((await resp.call("GET", "plain")).toString(), "$5\r\nvalue\r\n");
      res = await fetch(`${g.base}/SET/k/v`, { method: "OPTIONS", headers: { Origin: "https://app.example", "Access-Control-Request-Method": "PUT" } });
      assert.equal(res.status, 204);
      assert.match(res.headers.get("access-control-allow-methods")!, /PUT/);
      assert.match(res.headers.get("access-control-allow-headers")!, /Authorization/);
      res = await fetch(`${g.base}/SET/headkey/v`, { method: "HEAD" });
      assert.equal(res.status, 200);
      assert.equal((await resp.call("EXISTS", "headkey")).toString(), ":0\r\n");
    });

    it("serves the demo page and the browser client", async () => {
      const page = await fetch(`${g.base}/`);
      assert.match(page.headers.get("content-type")!, /text\/html/);
      assert.match(await page.text(), /import \{ RespiteClient \} from "\/client\.js"/);
      const js = await fetch(`${g.base}/client.js`);
      assert.match(js.headers.get("content-type")!, /javascript/);
      const src = await js.text();
      assert.match(src, /export \{ RespiteClient \}/);
      assert.doesNotMatch(src, /: string|private /, "types are stripped");
    });

    it("SSE: /subscribe streams messages; Last-Event-ID replays what was missed, or says it could not", async () => {
      const first = await fetch(`${g.base}/subscribe/hist:a`);
      assert.equal(first.headers.get("content-type"), "text/event-stream");
      const reading = sseEvents(first, 3);
      await waitSubscribers(resp, "hist:a", 1);
      await resp.call("PUBLISH", "hist:a", "one");
      await resp.call("PUBLISH", "hist:a", "two");
      const [sub, m1, m2] = await reading;
      assert.equal(sub.event, "subscribe");
      assert.deepEqual(sub.data.result, [["subscribe", "hist:a", 1]]);
      assert.deepEqual([m1.data, m2.data], [{ channel: "hist:a", message: "one" }, { channel: "hist:a", message: "two" }]);
      // Disconnected after "one": two, three and four were published meanwhile.
      await waitSubscribers(resp, "hist:a", 0);
      await resp.call("PUBLISH", "hist:a", "three");
      const again = await fetch(`${g.base}/subscribe/hist:a`, { headers: { "Last-Event-ID": m1.id! } });
      const replayed = await sseEvents(again, 3);
      assert.equal(replayed[0].data.recovered, true);
      assert.deepEqual(replayed.slice(1).map((e) => [e.id, e.data.message]), [[m2.id, "two"], [replayed[2].id, "three"]]);
      // The history keeps 3 messages: resuming from before them cannot be complete.
      for (const m of ["4", "5", "6"]) await resp.call("PUBLISH", "hist:a", m);
      const late = await sseEvents(await fetch(`${g.base}/subscribe/hist:a?since=${m1.id}`), 4);
      assert.equal(late[0].data.recovered, false);
      assert.deepEqual(late.slice(1).map((e) => e.data.message), ["4", "5", "6"]);
      const patterned = await fetch(`${g.base}/psubscribe/hist:*`, { headers: { "Last-Event-ID": late[2].id! } });
      const p = await sseEvents(patterned, 2);
      assert.deepEqual(p[1].data, { pattern: "hist:*", channel: "hist:a", message: "6" });
    });
  });
}
