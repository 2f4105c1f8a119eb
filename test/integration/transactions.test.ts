/**
 * MULTI/EXEC/DISCARD/WATCH: queueing, EXECABORT after a refused command,
 * runtime errors that do not roll back, and WATCH broken by another
 * client's write, by expiry and by flushes; differential where the reply
 * is deterministic, on every runtime.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, sharedRedis } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { diffSuite } from "../lib/diff.ts";

const redis = sharedRedis();

for (const rt of RUNTIMES) {
  describe(`transactions on ${rt}`, () => {
    const suite = diffSuite(redis, rt);

    it("queues, executes and reports errors like redis-server", async () => {
      const k = `tx:${rt}:`;
      await suite.pair.sameAll([
        ["DEL", k + "a", k + "b", k + "s"],
        ["EXEC"],
        ["DISCARD"],
        ["MULTI"],
        ["MULTI"],
        ["WATCH", k + "a"],
        ["SET", k + "a", "1"],
        ["INCR", k + "a"],
        ["SET", k + "s", "text"],
        ["INCR", k + "s"],
        ["GET", k + "a"],
        ["EXEC"],
        ["MULTI"],
        ["SET", k + "b"],
        ["NOSUCHCOMMAND"],
        ["GET", k + "b"],
        ["EXEC"],
        ["MULTI"],
        ["SET", k + "b", "x"],
        ["DISCARD"],
        ["GET", k + "b"],
        ["MULTI"],
        ["EXEC"],
      ]);
    });

    it("a write from another client breaks WATCH; UNWATCH and EXEC clear it", async () => {
      const k = `tx:${rt}:w`;
      const other = await RawConnection.connect(suite.respite.port);
      const otherRedis = await RawConnection.connect(redis().port);
      await suite.pair.same("SET", k, "1");
      await suite.pair.same("WATCH", k);
      await Promise.all([other.call("SET", k, "2"), otherRedis.call("SET", k, "2")]);
      await suite.pair.sameAll([["MULTI"], ["SET", k, "3"], ["EXEC"], ["GET", k]]);
      // Watching again after EXEC starts clean.
      await suite.pair.sameAll([["WATCH", k], ["MULTI"], ["SET", k, "4"], ["EXEC"], ["GET", k]]);
      await suite.pair.same("WATCH", k);
      await Promise.all([other.call("SET", k, "5"), otherRedis.call("SET", k, "5")]);
      await suite.pair.sameAll([["UNWATCH"], ["MULTI"], ["SET", k, "6"], ["EXEC"]]);
      other.close();
      otherRedis.close();
    });

    it("expiry and FLUSHDB of a watched key abort EXEC", async () => {
      const k = `tx:${rt}:e`;
      await suite.pair.sameAll([["SET", k, "v", "PX", "50"], ["WATCH", k]]);
      await new Promise((r) => setTimeout(r, 120));
      await suite.pair.sameAll([["MULTI"], ["PING"], ["EXEC"]]);
      const conn = await RawConnection.connect(suite.respite.port);
      await conn.call("SET", k, "v");
      await conn.call("WATCH", k);
      const flusher = await RawConnection.connect(suite.respite.port);
      await flusher.call("FLUSHDB");
      await conn.call("MULTI");
      await conn.call("PING");
      assert.equal((await conn.call("EXEC")).toString(), "*-1\r\n");
      conn.close();
      flusher.close();
    });

    it("RESET leaves the transaction", async () => {
      const conn = await RawConnection.connect(suite.respite.port);
      await conn.call("MULTI");
      await conn.call("SET", "x", "1");
      assert.equal((await conn.call("RESET")).toString(), "+RESET\r\n");
      assert.equal((await conn.call("EXEC")).toString(), "-ERR EXEC without MULTI\r\n");
      conn.close();
    });
  });
}
