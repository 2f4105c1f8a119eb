/**
 * Blocking list commands over real sockets with several clients, on every
 * runtime: first-come first-served wake-ups, fractional timeouts, BLMOVE
 * chains, pipelined input held behind a blocked command, disconnects while
 * blocked and CLIENT UNBLOCK. Orders across sockets are never assumed;
 * each client's own reply sequence is.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, type ServerHandle, startRespite } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { encodeCommand } from "../../core/resp/decoder.ts";

const text = (b: Buffer) => b.toString("latin1");
const pair = (key: string, v: string) => `*2\r\n$${key.length}\r\n${key}\r\n$${v.length}\r\n${v}\r\n`;

/** Waits until `count` clients are blocked, as CLIENT LIST's b flag shows. */
async function blockedClients(conn: RawConnection, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const list = text(await conn.call("client", "list"));
    if ((list.match(/flags=b/g) ?? []).length === count) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never saw ${count} blocked clients`);
}

for (const rt of RUNTIMES) {
  describe(`blocking on ${rt}`, () => {
    let server: ServerHandle;
    let ctl: RawConnection;
    const open: RawConnection[] = [];
    const connect = async () => {
      const c = await RawConnection.connect(server.port);
      open.push(c);
      return c;
    };
    before(async () => {
      server = await startRespite(rt);
      ctl = await connect();
    });
    after(async () => {
      for (const c of open) c.close();
      await server.stop();
    });

    test("clients blocked on a key are served first come, first served", async () => {
      await ctl.call("flushall");
      const waiters = [await connect(), await connect(), await connect()];
      for (let i = 0; i < waiters.length; i++) {
        waiters[i].write(encodeCommand(["blpop", "q", "other", "0"]));
        await blockedClients(ctl, i + 1);
      }
      assert.equal(text(await ctl.call("rpush", "q", "1", "2")), ":2\r\n");
      assert.equal(text((await waiters[0].readReplies(1))[0]), pair("q", "1"));
      assert.equal(text((await waiters[1].readReplies(1))[0]), pair("q", "2"));
      await blockedClients(ctl, 1);
      assert.equal(text(await ctl.call("exists", "q")), ":0\r\n");
      await ctl.call("lpush", "other", "x");
      assert.equal(text((await waiters[2].readReplies(1))[0]), pair("other", "x"));
      await blockedClients(ctl, 0);
    });

    test("a key of another type keeps clients waiting; BRPOP serves from the tail", async () => {
      await ctl.call("flushall");
      const w = await connect();
      w.write(encodeCommand(["brpop", "k", "0"]));
      await blockedClients(ctl, 1);
      await ctl.pipeline([["set", "k", "str"], ["del", "k"], ["rpush", "k", "a", "b"]]);
      assert.equal(text((await w.readReplies(1))[0]), pair("k", "b"));
    });

    test("fractional timeouts answer with a null array, RESP3 null", async () => {
      const w = await connect();
      const replies = await w.pipeline([
        ["blpop", "none", "0.05"], ["brpoplpush", "none", "d", "0.01"], ["blmpop", "0.02", "1", "none", "left"],
        ["hello", "3"], ["blmove", "none", "d", "left", "left", "0.01"],
      ]);
      assert.deepEqual(replies.slice(0, 3).map(text), ["*-1\r\n", "*-1\r\n", "*-1\r\n"]);
      assert.equal(text(replies[4]), "_\r\n");
    });

    test("pipelined commands after a blocking command wait for it", async () => {
      await ctl.call("flushall");
      const w = await connect();
      w.write(Buffer.concat([encodeCommand(["blpop", "p", "0"]), encodeCommand(["set", "after", "1"]), encodeCommand(["get", "p"])]));
      await blockedClients(ctl, 1);
      assert.equal(text(await ctl.call("get", "after")), "$-1\r\n");
      await ctl.call("rpush", "p", "v");
      const replies = (await w.readReplies(3)).map(text);
      assert.deepEqual(replies, [pair("p", "v"), "+OK\r\n", "$-1\r\n"]);
      assert.equal(text(await ctl.call("get", "after")), "$1\r\n1\r\n");
    });

    test("BLMOVE chains hand an element along, and BLMPOP takes its count", async () => {
      await ctl.call("flushall");
      const a = await connect();
      const b = await connect();
      const m = await connect();
      a.write(encodeCommand(["blmove", "c1", "c2", "left", "right", "0"]));
      await blockedClients(ctl, 1);
      b.write(encodeCommand(["brpoplpush", "c2", "c3", "0"]));
      await blockedClients(ctl, 2);
      m.write(encodeCommand(["blmpop", "0", "2", "c4", "c3", "right", "count", "5"]));
      await blockedClients(ctl, 3);
      await ctl.call("rpush", "c1", "x");
      assert.equal(text((await a.readReplies(1))[0]), "$1\r\nx\r\n");
      assert.equal(text((await b.readReplies(1))[0]), "$1\r\nx\r\n");
      assert.equal(text((await m.readReplies(1))[0]), "*2\r\n$2\r\nc3\r\n*1\r\n$1\r\nx\r\n");
      assert.equal(text(await ctl.call("dbsize")), ":0\r\n");
    });

    test("a blocked client that disconnects leaves no trace", async () => {
      await ctl.call("flushall");
      const gone = await connect();
      gone.write(encodeCommand(["blpop", "g", "0"]));
      await blockedClients(ctl, 1);
      gone.close();
      await blockedClients(ctl, 0);
      const w = await connect();
      w.write(encodeCommand(["blpop", "g", "0"]));
      await blockedClients(ctl, 1);
      await ctl.call("rpush", "g", "only");
      assert.equal(text((await w.readReplies(1))[0]), pair("g", "only"));
      assert.equal(text(await ctl.call("llen", "g")), ":0\r\n");
    });

    test("CLIENT UNBLOCK with TIMEOUT and ERROR", async () => {
      const w = await connect();
      const id = text(await w.call("client", "id")).slice(1, -2);
      assert.equal(text(await ctl.call("client", "unblock", id)), ":0\r\n");
      w.write(Buffer.concat([encodeCommand(["blpop", "u", "0"]), encodeCommand(["ping"])]));
      await blockedClients(ctl, 1);
      assert.equal(text(await ctl.call("client", "unblock", id, "bogus")), "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n");
      assert.equal(text(await ctl.call("client", "unblock", id)), ":1\r\n");
      assert.deepEqual((await w.readReplies(2)).map(text), ["*-1\r\n", "+PONG\r\n"]);
      w.write(encodeCommand(["blmove", "u", "v", "left", "left", "0"]));
      await blockedClients(ctl, 1);
      assert.equal(text(await ctl.call("client", "unblock", id, "ERROR")), ":1\r\n");
      assert.equal(text((await w.readReplies(1))[0]), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
      assert.equal(text(await ctl.call("client", "unblock", "x")), "-ERR value is not an integer or out of range\r\n");
    });

    test("inside MULTI blocking commands do not block", async () => {
      const w = await connect();
      const replies = await w.pipeline([["multi"], ["blpop", "none", "0"], ["blmove", "none", "d", "left", "left", "0"], ["exec"]]);
      assert.equal(text(replies[3]), "*2\r\n*-1\r\n$-1\r\n");
    });
  });
}
