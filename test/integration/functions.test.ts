/**
 * Redis functions against redis-server, byte for byte: FUNCTION LOAD
 * (metadata, compile and registration errors, REPLACE), LIST, DELETE,
 * FLUSH, STATS, HELP, DUMP/RESTORE round trips (including a payload made
 * by Redis), and FCALL/FCALL_RO with flags, keys and errors, on every
 * runtime.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, startRedis, startRespite, type ServerHandle } from "../lib/servers.ts";
import { type Cmd, DiffPair } from "../lib/diff.ts";
import { RawConnection } from "../lib/raw.ts";

const LIB1 = `#!lua name=lib1
redis.register_function('getkey', function(keys, args) return redis.call('GET', keys[1]) end)
redis.register_function{function_name='echo', callback=function(keys, args) return args[1] end, flags={'no-writes'}, description='echoes'}
redis.register_function('setkey', function(keys, args) return redis.call('SET', keys[1], args[1]) end)`;

const LIB2 = `#!lua name=lib2
local function helper(x) return x * 2 end
redis.register_function('double', function(keys, args) return helper(tonumber(args[1])) end)
redis.register_function('fails', function(keys, args) error('broken') end)
redis.register_function('missing', function(keys, args) return nothere end)`;

const ONE = `#!lua name=one
redis.register_function{function_name='only', callback=function(keys, args) return #keys end, flags={'no-writes', 'allow-stale'}, description='the only one'}`;

const load = (code: string, ...opts: string[]): Cmd => ["FUNCTION", "LOAD", ...opts, code];

for (const rt of RUNTIMES) {
  describe(`functions on ${rt}`, () => {
    let redis: ServerHandle;
    let server: ServerHandle;
    let pair: DiffPair;
    before(async () => {
      [redis, server] = await Promise.all([startRedis(), startRespite(rt)]);
      pair = await DiffPair.open(redis.port, server.port);
    });
    after(async () => {
      pair?.close();
      await Promise.all([server?.stop(), redis?.stop()]);
    });

    it("loads libraries with Redis's errors", async () => {
      await pair.sameAll([
        ["FUNCTION", "FLUSH"],
        load("#!lua name=bad\nredis.register_function('f', function() end)\nx("),
        load("#!lua name=bad\nerror('boom')"),
        load("#!lua name=bad\nlocal a = 1"),
        load("#!lua name=bad\nredis.call('PING')"),
        load("#!lua name=bad\nredis.register_function('f')"),
        load("#!lua name=bad\nredis.register_function('f', 1)"),
        load("#!lua name=bad\nredis.register_function(1, function() end)"),
        ["FUNCTION", "DELETE", "bad"],
        load("#!lua name=bad\nredis.register_function('f', function() end, 3)"),
        load("#!lua name=bad\nredis.register_function{function_name='f'}"),
        load("#!lua name=bad\nredis.register_function{callback=function() end}"),
        load("#!lua name=bad\nredis.register_function{function_name='f', callback=function() end, flags={'bogus'}}"),
        load("#!lua name=bad\nredis.register_function{function_name='f', callback=function() end, other=1}"),
        load("#!lua name=bad\nredis.register_function('bad-name', function() end)"),
        load("#!lua name=bad\nredis.register_function('f', function() end)\nredis.register_function('f', function() end)"),
        load("#!lua name=bad-name\n"),
        load("#!js name=x\n"),
        load("no metadata"),
        load("#!lua"),
        load("#!lua foo=bar\n"),
        load("#!lua\nreturn 1"),
        load("#!lua name=a name=b\n"),
        ["FUNCTION", "LOAD", "BOGUS", "#!lua name=x\n"],
        load(LIB1),
        load(LIB1),
        load(LIB1, "REPLACE"),
        load("#!lua name=other\nredis.register_function('echo', function() end)"),
        load(LIB2),
        load(ONE),
        ["FUNCTION", "LIST", "LIBRARYNAME", "one"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "on?", "WITHCODE"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "nomatch*"],
        ["FUNCTION", "LIST", "bogus"],
        ["FUNCTION", "LIST", "LIBRARYNAME"],
        ["FUNCTION", "STATS"],
        ["FUNCTION", "KILL"],
        ["FUNCTION", "HELP"],
        ["FUNCTION", "DELETE", "nosuch"],
        ["FUNCTION", "DELETE", "lib2"],
        ["FUNCTION", "DELETE", "lib1"],
        ["FUNCTION", "LIST"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "lib2"],
        ["FUNCTION", "FLUSH", "bogus"],
        ["FUNCTION", "FLUSH", "ASYNC"],
        ["FUNCTION", "LIST"],
      ]);
    });

    it("calls functions with FCALL and FCALL_RO", async () => {
      await pair.sameAll([
        ["FUNCTION", "FLUSH"],
        load(LIB1),
        load(LIB2),
        ["SET", "fk", "value"],
        ["FCALL", "getkey", "1", "fk"],
        ["FCALL", "echo", "0", "hello"],
        ["FCALL_RO", "echo", "0", "hello"],
        ["FCALL_RO", "getkey", "1", "fk"],
        ["FCALL", "setkey", "1", "fk2", "v2"],
        ["GET", "fk2"],
        ["FCALL", "double", "0", "21"],
        ["FCALL", "fails", "0"],
        ["FCALL", "missing", "0"],
        ["FCALL", "nosuch", "0"],
        ["FCALL", "echo", "x"],
        ["FCALL", "echo", "5"],
        ["FCALL", "echo", "-1"],
        ["FCALL", "getkey"],
        ["EVAL", "return redis.call('FCALL', 'echo', '0', 'x')", "0"],
        ["EVAL", "redis.register_function('a', function() end)", "0"],
      ]);
    });

    it("dumps and restores libraries, and restores a payload made by Redis", async () => {
      // One library per payload: Redis orders several by its dict, Respite by load order.
      await pair.sameAll([["FUNCTION", "FLUSH"], load(LIB2)]);
      const [fromRedis, fromRespite] = await Promise.all([pair.redis.call("FUNCTION", "DUMP"), pair.respite.call("FUNCTION", "DUMP")]);
      const payload = (reply: Buffer) => reply.subarray(reply.indexOf("\r\n") + 2, reply.length - 2);
      for (const dump of [payload(fromRedis), payload(fromRespite)]) {
        await pair.sameAll([
          ["FUNCTION", "RESTORE", dump],
          ["FUNCTION", "RESTORE", dump, "REPLACE"],
          ["FUNCTION", "RESTORE", dump, "BOGUS"],
          ["FUNCTION", "FLUSH"],
          load(ONE),
          ["FUNCTION", "RESTORE", dump],
          ["FUNCTION", "LIST", "LIBRARYNAME", "one", "WITHCODE"],
          ["FCALL", "double", "0", "4"],
          ["FCALL", "only", "2", "a", "b"],
          ["FUNCTION", "RESTORE", dump, "FLUSH"],
          ["FCALL", "only", "0"],
          ["FCALL", "double", "0", "5"],
          ["FUNCTION", "RESTORE", Buffer.concat([dump.subarray(0, dump.length - 1), Buffer.from([dump[dump.length - 1] ^ 1])])],
          ["FUNCTION", "RESTORE", "bogus"],
        ]);
      }
      // Several libraries survive a round trip through Respite's own payload.
      await pair.respite.call("FUNCTION", "LOAD", LIB1);
      const all = payload(await pair.respite.call("FUNCTION", "DUMP"));
      assert.equal((await pair.respite.call("FUNCTION", "RESTORE", all, "FLUSH")).toString(), "+OK\r\n");
      assert.equal((await pair.respite.call("FCALL", "echo", "0", "back")).toString(), "$4\r\nback\r\n");
      assert.equal((await pair.respite.call("FCALL", "double", "0", "8")).toString(), ":16\r\n");
    });

    it("reports a running function in FUNCTION STATS and stops it with FUNCTION KILL", async () => {
      await pair.sameAll([
        ["CONFIG", "SET", "busy-reply-threshold", "100"],
        load("#!lua name=slow\nredis.register_function('spin', function() local i = 0 while true do i = i + 1 end end)", "REPLACE"),
      ]);
      for (const port of [redis.port, server.port]) {
        const runner = await RawConnection.connect(port);
        const other = await RawConnection.connect(port);
        runner.write("*3\r\n$5\r\nFCALL\r\n$4\r\nspin\r\n$1\r\n0\r\n");
        let busy = "";
        while (!busy.startsWith("-BUSY")) busy = (await other.call("PING")).toString();
        assert.equal(busy, "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n");
        const stats = (await other.call("FUNCTION", "STATS")).toString();
        assert.match(stats, /^\*4\r\n\$14\r\nrunning_script\r\n\*6\r\n\$4\r\nname\r\n\$4\r\nspin\r\n\$7\r\ncommand\r\n\*3\r\n\$5\r\nFCALL\r\n\$4\r\nspin\r\n\$1\r\n0\r\n\$11\r\nduration_ms\r\n:\d+\r\n/);
        assert.equal((await other.call("SCRIPT", "KILL")).toString(), busy);
        assert.equal((await other.call("FUNCTION", "KILL")).toString(), "+OK\r\n");
        const [killed] = await runner.readReplies(1);
        assert.equal(killed.toString(), "-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.\r\n");
        runner.close();
        other.close();
      }
      await pair.same("CONFIG", "SET", "busy-reply-threshold", "5000");
    });
  });
}
