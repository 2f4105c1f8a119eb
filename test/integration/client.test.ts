/**
 * CLIENT against redis-server: names, ids, LIST/INFO fields, KILL in both
 * forms (killing yourself closes after the reply), REPLY modes, flags, and
 * the 7.2 SETINFO / NO-TOUCH additions.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, sharedRedis } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { DiffPair, diffSuite } from "../lib/diff.ts";

/** The fields of one CLIENT LIST / INFO line. */
function parseLine(line: string): Map<string, string> {
  return new Map(line.trim().split(" ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
}

async function clientInfo(c: RawConnection): Promise<Map<string, string>> {
  const raw = (await c.call("CLIENT", "INFO")).toString("latin1");
  return parseLine(raw.slice(raw.indexOf("\r\n") + 2, -2));
}

const redis = sharedRedis();

for (const rt of RUNTIMES) {
  describe(`CLIENT on ${rt}`, () => {
    const suite = diffSuite(redis, rt);

    it("names and argument errors match Redis", async () => {
      await suite.pair.sameAll([
        ["CLIENT", "GETNAME"],
        ["CLIENT", "SETNAME", "a b"],
        ["CLIENT", "SETNAME", "a\nb"],
        ["CLIENT", "SETNAME", "caf\xe9"],
        ["CLIENT", "SETNAME", "worker-1"],
        ["CLIENT", "GETNAME"],
        ["CLIENT", "SETNAME", ""],
        ["CLIENT", "GETNAME"],
        ["CLIENT", "SETNAME"],
        ["CLIENT", "ID", "x"],
        ["CLIENT", "FOO"],
        ["CLIENT", "REPLY", "foo"],
        ["CLIENT", "NO-EVICT", "maybe"],
        ["CLIENT", "NO-EVICT", "on"],
        ["CLIENT", "NO-EVICT", "off"],
        ["CLIENT", "KILL", "1.2.3.4:5"],
        ["CLIENT", "KILL", "id"],
        ["CLIENT", "KILL", "id", "x"],
        ["CLIENT", "KILL", "id", "0"],
        ["CLIENT", "KILL", "id", "999999"],
        ["CLIENT", "KILL", "type", "foo"],
        ["CLIENT", "KILL", "type", "master"],
        ["CLIENT", "KILL", "skipme", "maybe"],
        ["CLIENT", "KILL", "maxage", "1"],
        ["CLIENT", "KILL", "user", "nobody"],
        ["CLIENT", "KILL", "id", "5", "type"],
        ["CLIENT", "KILL", "laddr", "1.1.1.1:1"],
        ["CLIENT", "LIST", "type", "foo"],
        ["CLIENT", "LIST", "id", "x"],
        ["CLIENT", "LIST", "id"],
        ["CLIENT", "LIST", "foo"],
        ["CLIENT", "LIST", "id", "999999"],
        ["CLIENT", "LIST", "type", "master"],
        ["CLIENT", "LIST", "type", "pubsub"],
      ]);
    });

    it("CLIENT LIST and INFO have Redis's fields in Redis's order", async () => {
      const theirs = [...(await clientInfo(suite.pair.redis)).keys()];
      const ours = [...(await clientInfo(suite.pair.respite)).keys()];
      assert.deepEqual(ours, [...theirs, "lib-name", "lib-ver"]);
      const c = await RawConnection.connect(suite.respite.port);
      await c.call("SELECT", "2");
      await c.call("CLIENT", "SETNAME", "me");
      await c.call("CLIENT", "NO-EVICT", "on");
      const f = await clientInfo(c);
      assert.equal(f.get("name"), "me");
      assert.equal(f.get("db"), "2");
      assert.equal(f.get("flags"), "e");
      assert.equal(f.get("cmd"), "client|info");
      assert.equal(f.get("resp"), "2");
      assert.equal(f.get("laddr"), `127.0.0.1:${suite.respite.port}`);
      const id = (await c.call("CLIENT", "ID")).toString().slice(1, -2);
      assert.equal(f.get("id"), id);
      const list = (await suite.pair.respite.call("CLIENT", "LIST", "ID", id, "999")).toString("latin1");
      const line = list.slice(list.indexOf("\r\n") + 2, -2);
      assert.equal(line.split("\n").length, 2, "one line and a final newline");
      assert.equal(parseLine(line).get("name"), "me");
      assert.equal(parseLine(line).get("cmd"), "client|id", "the last command it ran");
      c.close();
    });

    it("CLIENT LIST and INFO are verbatim strings in RESP3", async () => {
      const c = await RawConnection.connect(suite.respite.port);
      await c.call("HELLO", "3");
      assert.match((await c.call("CLIENT", "INFO")).toString("latin1"), /^=\d+\r\ntxt:id=\d+ .* resp=3 lib-name= lib-ver=\n\r\n$/);
      assert.match((await c.call("CLIENT", "LIST")).toString("latin1"), /^=\d+\r\ntxt:id=/);
      c.close();
    });

    it("CLIENT KILL by address, by filters, and of yourself", async () => {
      const victim = await RawConnection.connect(suite.respite.port);
      const addr = (await clientInfo(victim)).get("addr")!;
      assert.equal((await suite.pair.respite.call("CLIENT", "KILL", addr)).toString(), "+OK\r\n");
      await victim.untilClosed();

      const a = await RawConnection.connect(suite.respite.port);
      const b = await RawConnection.connect(suite.respite.port);
      const idA = (await a.call("CLIENT", "ID")).toString().slice(1, -2);
      await b.call("CLIENT", "SETNAME", "b");
      assert.equal((await suite.pair.respite.call("CLIENT", "KILL", "ID", idA, "TYPE", "normal")).toString(), ":1\r\n");
      await a.untilClosed();
      assert.equal((await b.call("PING")).toString(), "+PONG\r\n");

      const listed = Number((await suite.pair.respite.call("CLIENT", "LIST")).toString("latin1").split("\n").length);
      assert.ok(listed > 2);
      const killer = await RawConnection.connect(suite.respite.port);
      const killed = (await killer.call("CLIENT", "KILL", "USER", "default", "SKIPME", "yes")).toString();
      assert.match(killed, /^:\d+\r\n$/);
      await b.untilClosed();
      assert.equal((await killer.call("PING")).toString(), "+PONG\r\n");
      assert.equal((await killer.call("CLIENT", "KILL", "ADDR", (await clientInfo(killer)).get("addr")!, "SKIPME", "no")).toString(), ":1\r\n");
      assert.equal(await killer.untilClosed(), "");
      suite.pair.close();
      suite.pair = await DiffPair.open(redis().port, suite.respite.port);
    });

    it("CLIENT REPLY OFF, SKIP and ON", async () => {
      for (const conn of [suite.pair.redis, suite.pair.respite]) {
        conn.write("*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\n*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n");
        assert.equal((await conn.readReplies(1))[0].toString(), "+OK\r\n");
        conn.write("*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n*2\r\n$4\r\nECHO\r\n$1\r\nb\r\n*2\r\n$4\r\nECHO\r\n$1\r\nc\r\n");
        assert.equal((await conn.readReplies(1))[0].toString(), "$1\r\nc\r\n");
      }
    });

    it("CLIENT SETINFO and NO-TOUCH behave as in Redis 7.2", async () => {
      const c = await RawConnection.connect(suite.respite.port);
      assert.equal((await c.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py")).toString(), "+OK\r\n");
      assert.equal((await c.call("CLIENT", "SETINFO", "lib-ver", "5.0.1")).toString(), "+OK\r\n");
      assert.equal((await c.call("CLIENT", "SETINFO", "lib-name", "a b")).toString(), "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n");
      assert.equal((await c.call("CLIENT", "SETINFO", "foo", "x")).toString(), "-ERR Unrecognized option 'foo'\r\n");
      assert.equal((await c.call("CLIENT", "NO-TOUCH", "on")).toString(), "+OK\r\n");
      const f = await clientInfo(c);
      assert.equal(f.get("lib-name"), "redis-py");
      assert.equal(f.get("lib-ver"), "5.0.1");
      assert.equal(f.get("flags"), "T");
      c.close();
    });
  });
}
