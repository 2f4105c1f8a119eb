/**
 * Lua scripting against redis-server, byte for byte: EVAL/EVALSHA/EVAL_RO,
 * SCRIPT, conversions both ways in RESP2 and RESP3, script errors and their
 * positions, sealed globals, the cjson/cmsgpack/bit/struct libraries,
 * shebang flags, BUSY and SCRIPT KILL; ioredis defineCommand, a sliding
 * window rate limiter and a lock behave the same on both servers. Each
 * runtime gets a fresh redis-server so script caches and math.random's
 * sequence start alike.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import Redis from "ioredis";
import { RUNTIMES, startRedis, startRespite, type ServerHandle } from "../lib/servers.ts";
import { type Cmd, DiffPair, rng } from "../lib/diff.ts";
import { RawConnection } from "../lib/raw.ts";
import { encodeCommand } from "../../core/resp/decoder.ts";

const ev = (script: string, ...rest: Array<string | number>): Cmd => ["EVAL", script, ...rest.length ? rest : [0]];

const RATE_LIMITER = `
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count >= limit then return {0, count} end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, window)
return {1, count + 1}`;

const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

for (const rt of RUNTIMES) {
  describe(`scripting on ${rt}`, () => {
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

    // First in the suite: Respite loads its Lua VM on the first script command (here an EXEC holding one).
    it("loads Lua on first use without reordering the commands pipelined around it", async () => {
      const other = await RawConnection.connect(server.port);
      const [, otherReplies] = await Promise.all([
        pair.sameAll([
          ["SET", "first:k", "1"],
          ["MULTI"],
          ev("return redis.call('INCR', KEYS[1])", 1, "first:k"),
          ["SET", "first:x", "y"],
          ["EXEC"],
          ["GET", "first:k"],
          ev("return ARGV[1]", 0, "z"),
          ["PING"],
        ]),
        other.pipeline([ev("return 7"), ["PING"]]),
      ]);
      assert.deepEqual(otherReplies.map(String), [":7\r\n", "+PONG\r\n"]);
      other.close();
    });

    it("converts Lua values to replies and replies to Lua values (RESP2)", async () => {
      await pair.sameAll([
        ["DEL", "s", "h", "l", "z"],
        ["SET", "s", "text"],
        ["HSET", "h", "f", "v"],
        ["RPUSH", "l", "a", "b", "c"],
        ["ZADD", "z", "1.5", "m"],
        ev("return 1"),
        ev("return 3.99"),
        ev("return -3.99"),
        ev("return 'str'"),
        ev("return true"),
        ev("return false"),
        ev("return nil"),
        ev("return {1, 2, {3, 'x'}, 'y', false, true}"),
        ev("return {1, 2, nil, 4}"),
        ev("return {ok='fine'}"),
        ev("return {err='MY error'}"),
        ev("return {err='no_code'}"),
        ev("return redis.status_reply('STATUS')"),
        ev("return redis.error_reply('MY err')"),
        ev("return redis.error_reply('single')"),
        ev("return redis.error_reply(1)"),
        ev("return redis.call('GET', 's')"),
        ev("return redis.call('GET', 'missing')"),
        ev("return type(redis.call('GET', 'missing'))"),
        ev("return redis.call('HGETALL', 'h')"),
        ev("return redis.call('LRANGE', 'l', 0, -1)"),
        ev("return redis.call('ZSCORE', 'z', 'm')"),
        ev("return redis.call('PING')"),
        ev("return redis.call('PING')['ok']"),
        ev("return redis.pcall('INCR', 's')"),
        ev("return redis.pcall('INCR', 's')['err']"),
        ev("return redis.call('SET', KEYS[1], ARGV[1])", 1, "k1", "v1"),
        ev("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", 2, "a", "b", "c", "d"),
        ev("return redis.call('SET', 'n', 3.5)"),
        ev("return redis.call('GET', 'n')"),
        ev("return redis.call('INCRBY', 'cnt', 2^40)"),
        ev("return tostring(10/2) .. ' ' .. tostring(2^53) .. ' ' .. tostring(0.1) .. ' ' .. 1e15 .. ' ' .. 1/3"),
        ev("return tostring(1e300 * 1e300) .. tostring(-1e300 * 1e300)"),
        ev("local t = {} for i = 1, 100 do t[i] = i * 1000000 end return t[100] * 1000"),
        ev("return {1700000000123 .. '', tostring(-99999999999999), tostring(1e14), tostring(123456789012345), 2^31 .. ''}"),
        ev("return {'\\15' < '\\16', 'a\\0b' < 'a\\0c', 'Z' < 'a', '\\200' > 'z', 'ab' < 'abc', '' < '\\0'}"),
        ev("local t = {'a', 'b'} table.sort(t, function(x, y) return x > y end) local u = {'\\255', '\\1', 'b', 'B'} table.sort(u) return {t[1], u[1], u[2], u[3], u[4]}"),
        ev("return {1, 2, ok='status wins'}"),
        ev("return {1, 2, err='error wins'}"),
        ev("return setmetatable({1, 2}, {__index = function(t, k) if k == 'ok' then return 'from meta' end end})"),
        ev("return {tonumber('12'), tonumber('0x10'), tonumber('z'), tonumber('7', 8)}"),
        ev("return {math.floor(3.7), math.ceil(3.2), math.fmod(7, 3), math.max(1, 5)}"),
        ev("return {math.random(), math.random(100), math.random(5, 10), tostring(math.random())}"),
        ev("math.randomseed(42) return {math.random(1000), math.random(1000)}"),
        ev("return string.format('%d %s %5.2f %x', 3, 'x', 1.5, 255)"),
        ev("return {string.byte('A'), string.char(72, 105), string.rep('ab', 3), ('x'):upper()}"),
        ev("return table.concat({1, 2, 3}, ',')"),
        ev("return {unpack({1, 2, 3})}"),
        ev("return table.getn({1, 2, 3})"),
        ev("return loadstring('return 7')()"),
        ev("return {type(unpack), type(loadstring), type(table.getn), type(math.mod), type(gcinfo), type(string.gfind), type(table.unpack)}"),
        ev("return redis.sha1hex('abc')"),
        ev("return redis.sha1hex('')"),
        ev("return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}"),
        ev("return {redis.LOG_DEBUG, redis.LOG_WARNING, redis.REPL_ALL, redis.REPL_NONE}"),
        ev("redis.log(redis.LOG_WARNING, 'from a script') return 1"),
        ev("redis.set_repl(redis.REPL_ALL) redis.replicate_commands() return 1"),
        ev("return redis.call('SELECT', 1)"),
        ev("redis.call('SELECT', 2) redis.call('SET', 'indb2', 'v') return redis.call('GET', 'indb2')"),
        ["GET", "indb2"],
        ev("return redis.call('BLPOP', 'nolist', 0)"),
      ]);
    });

    it("replies with Redis's errors for scripts, calls and arguments", async () => {
      await pair.sameAll([
        ["SET", "s", "text"],
        ev("return x"),
        ev("x = 1"),
        ev("local t = _G t.y = 2"),
        ev("return tonumber()"),
        ev("return math.floor('x')"),
        ev("redis = nil"),
        ev("return redis.call('nosuch')"),
        ev("return redis.call('GET', 'a', 'b')"),
        ev("return redis.call('INCR', 's')"),
        ev("return redis.call()"),
        ev("return redis.call({})"),
        ev("return redis.call('EVAL', 'return 1', '0')"),
        ev("return redis.call('MULTI')"),
        ev("error('boom')"),
        ev("error({err='X boom'})"),
        ev("error()"),
        ev("\n\nlocal a = nil\nreturn a.field"),
        ev("return redis.setresp(5)"),
        ev("return redis.setresp()"),
        ev("return redis.sha1hex()"),
        ev("return redis.log()"),
        ev("return redis.log('a', 'b')"),
        ev("return redis.log(99, 'b')"),
        ev("return cjson.encode(function() end)"),
        ev("return x(", 0),
        ev("return 1 +", 0),
        ["EVAL", "return 1", "-1"],
        ["EVAL", "return 1", "3", "a"],
        ["EVAL", "return 1", "x"],
        ["EVAL", "return 1"],
        ["EVALSHA", "0000", "0"],
        ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
        ["EVAL_RO", "return redis.call('SET', 'a', 'b')", "0"],
        ["EVAL_RO", "return redis.call('GET', 's')", "0"],
        ["EVAL", "#!lua flags=no-writes\nreturn redis.call('SET', 'a', 'b')", "0"],
        ["EVAL", "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1", "0"],
        ["EVAL", "#!lua flags=bogus\nreturn 1", "0"],
        ["EVAL", "#!lua foo=bar\nreturn 1", "0"],
        ["EVAL", "#!python\nreturn 1", "0"],
        ["EVAL", "#!lua", "0"],
        ["EVAL", "#!lua\nreturn x", "0"],
        ["EVAL_RO", "#!lua\nreturn 1", "0"],
        ["EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"],
      ]);
    });

    it("keeps scripts in the cache: EVALSHA, SCRIPT LOAD/EXISTS/FLUSH/HELP", async () => {
      await pair.sameAll([
        ["SCRIPT", "FLUSH"],
        ["SCRIPT", "LOAD", "return 'loaded'"],
        ["EVALSHA", "d3c21d0c2b9ca22f82737626a27bcaf5d288f99f", "0"],
        ["EVALSHA", "D3C21D0C2B9CA22F82737626A27BCAF5D288F99F", "0"],
        ["EVALSHA_RO", "d3c21d0c2b9ca22f82737626a27bcaf5d288f99f", "0"],
        ev("return 'via eval'"),
        ["SCRIPT", "EXISTS", "d3c21d0c2b9ca22f82737626a27bcaf5d288f99f", "ffffffffffffffffffffffffffffffffffffffff"],
        ["SCRIPT", "LOAD", "return"],
        ["SCRIPT", "LOAD", "x="],
        ["SCRIPT", "FLUSH", "ASYNC"],
        ["SCRIPT", "FLUSH", "bogus"],
        ["SCRIPT", "EXISTS", "d3c21d0c2b9ca22f82737626a27bcaf5d288f99f"],
        ["SCRIPT", "EXISTS"],
        ["SCRIPT", "KILL"],
        ["SCRIPT", "HELP"],
        ["SCRIPT", "NOSUCH"],
        ["EVALSHA", "d3c21d0c2b9ca22f82737626a27bcaf5d288f99f", "0"],
        ["MULTI"],
        ev("return redis.call('INCR', 'txcount')"),
        ev("return redis.call('INCR', 'txcount')"),
        ["EXEC"],
      ]);
    });

    it("converts RESP3 replies and values after redis.setresp(3)", async () => {
      await pair.same("DEL", "h3", "s3", "z3");
      await pair.same("HSET", "h3", "f", "v");
      await pair.same("SADD", "s3", "m");
      await pair.same("ZADD", "z3", "2.5", "m");
      const cmds: Cmd[] = [
        ev("redis.setresp(3) return redis.call('HGETALL', 'h3')"),
        ev("redis.setresp(3) local r = redis.call('HGETALL', 'h3') return {type(r.map), r.map.f}"),
        ev("redis.setresp(3) local r = redis.call('SMEMBERS', 's3') return {type(r.set), tostring(r.set.m)}"),
        ev("redis.setresp(3) return redis.call('ZSCORE', 'z3', 'm')"),
        ev("redis.setresp(3) return redis.call('ZSCORE', 'z3', 'm').double"),
        ev("redis.setresp(3) return {redis.call('GET', 'nokey') == nil, redis.call('EXISTS', 'h3')}"),
        ev("redis.setresp(3) return {double=1.5}"),
        ev("redis.setresp(3) return {double=3}"),
        ev("redis.setresp(3) return {true, false}"),
        ev("return {true, false}"),
        ev("return {map={a=1}}"),
        ev("return {set={x=true}}"),
        ev("return {big_number='12345678901234567890'}"),
        ev("return {verbatim_string={format='txt', string='hello'}}"),
        ev("return {double=0.1}"),
      ];
      await pair.sameAll(cmds);
      await Promise.all([pair.redis.call("HELLO", "3"), pair.respite.call("HELLO", "3")]);
      await pair.sameAll(cmds);
      await Promise.all([pair.redis.call("HELLO", "2"), pair.respite.call("HELLO", "2")]);
    });

    it("runs cjson, cmsgpack, bit and struct like Redis", async () => {
      await pair.sameAll([
        ev("return cjson.encode({1, 2, 3, 'x/y', 1.5, true, false})"),
        ev("return cjson.encode({a={b={c=1}}})"),
        ev("return cjson.encode({})"),
        ev("return cjson.encode({[1]=1, [2]=2, [4]=4})"),
        ev("return cjson.encode({[1]=1, [100]=2})"),
        ev("return cjson.encode('\\1\\31\"\\\\\\n\\t')"),
        ev("return cjson.encode(cjson.null)"),
        ev("return cjson.encode(1/0)"),
        ev("return cjson.encode(0.1)"),
        ev("return cjson.encode(123456789012345)"),
        ev("local t = cjson.decode('{\"a\":[1,2,{\"b\":null}],\"c\":\"\\\\u00e9\"}') return {t.a[1], t.a[2], t.a[3].b == cjson.null, t.c}"),
        ev("return cjson.decode('[1, 2.5, -3e2, true, false]')"),
        ev("return cjson.decode('\"x\"')"),
        ev("return cjson.decode('{bad')"),
        ev("return cjson.decode('[1,')"),
        ev("return cjson.decode('')"),
        ev("return cmsgpack.pack({1, 2, 'abc'}, 300, -5, 1.5, -100000, 4294967296, 'x', true, false)"),
        ev("return cmsgpack.pack(string.rep('a', 40), string.rep('b', 300))"),
        ev("return cmsgpack.pack({a=1})"),
        ev("return {cmsgpack.unpack(cmsgpack.pack({1, 2, {3}}, 'x', 70000, -70000, 0.25))}"),
        ev("local t = cmsgpack.unpack(cmsgpack.pack({a=1})) return t.a"),
        ev("return cmsgpack.unpack('\\193')"),
        ev("return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0)}"),
        ev("return {bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-16, 2), bit.rol(0x12345678, 8), bit.ror(0x12345678, 8)}"),
        ev("return {bit.tohex(-1), bit.tohex(255, 4), bit.tohex(255, -4), bit.tobit(2^32 + 5), bit.bswap(0x12345678)}"),
        ev("return struct.pack('>HIs', 1, 2, 'ab')"),
        ev("return struct.pack('<bBhHlLi3', -1, 255, -2, 65535, -3, 7, 100000)"),
        ev("return struct.pack('>dfc3', 1.5, 0.25, 'xyz')"),
        ev("return {struct.unpack('>HIs', struct.pack('>HIs', 1, 2, 'ab'))}"),
        ev("return {struct.unpack('<bBhHl', struct.pack('<bBhHl', -1, 255, -2, 65535, -3))}"),
        ev("return {struct.unpack('>d', struct.pack('>d', 1.5))}"),
        ev("return struct.size('>HIl')"),
        ev("return struct.pack('q', 1)"),
      ]);
    });

    it("keeps randomized scripts identical: arithmetic, strings and tables", async () => {
      const next = rng(7);
      const cmds: Cmd[] = [];
      for (let i = 0; i < 60; i++) {
        const a = Math.floor(next() * 2000000) - 1000000;
        const b = Math.floor(next() * 1000) + 1;
        cmds.push(ev(`local a, b = tonumber(ARGV[1]), tonumber(ARGV[2]) return {a + b, a * b, tostring(a / b), a % b, math.floor(a / b), tostring(a * b * 1000), string.format('%.2f', a / 7)}`, 0, a, b));
        cmds.push(ev(`local t = {} for i = 1, tonumber(ARGV[1]) do t[#t + 1] = tostring(i * ARGV[2]) end return {#t, table.concat(t, ':')}`, 0, 1 + (i % 9), b));
      }
      await pair.sameAll(cmds);
    });

    it("answers BUSY past busy-reply-threshold; SCRIPT KILL stops a read-only script, not one that wrote", async () => {
      await pair.same("CONFIG", "SET", "busy-reply-threshold", "100");
      for (const port of [redis.port, server.port]) {
        const runner = await RawConnection.connect(port);
        const other = await RawConnection.connect(port);
        runner.write(encodeCommand(["EVAL", "local i = 0 while true do i = i + 1 end", "0"]));
        let busy = "";
        while (!busy.startsWith("-BUSY")) busy = (await other.call("PING")).toString();
        assert.equal(busy, "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n");
        assert.equal((await other.call("FUNCTION", "KILL")).toString(), busy);
        assert.equal((await other.call("SCRIPT", "KILL")).toString(), "+OK\r\n");
        const [killed] = await runner.readReplies(1);
        assert.match(killed.toString(), /^-ERR Script killed by user with SCRIPT KILL\.\.\. script: \w{40}, on @user_script:1\.\r\n$/);
        assert.equal((await runner.call("PING")).toString(), "+PONG\r\n");
        // Busy for half a second of wall time whatever the VM's speed: a loop of fixed length ends before
        // busy-reply-threshold on a fast redis-server, and the poll below would never see BUSY.
        const slow = "redis.call('SET', 'busykey', 'v') local function us() local t = redis.call('TIME') return t[1] * 1000000 + t[2] end " +
          "local start = us() local n = 0 repeat n = n + 1 until us() - start > 500000 return 1";
        runner.write(encodeCommand(["EVAL", slow, "0"]));
        busy = "";
        while (!busy.startsWith("-BUSY")) busy = (await other.call("GET", "busykey")).toString();
        assert.match((await other.call("SCRIPT", "KILL")).toString(), /^-UNKILLABLE Sorry the script already executed write commands/);
        assert.equal((await runner.readReplies(1, 60_000))[0].toString(), ":1\r\n");
        assert.equal((await other.call("GET", "busykey")).toString(), "$1\r\nv\r\n");
        assert.equal((await other.call("SCRIPT", "KILL")).toString(), "-NOTBUSY No scripts in execution right now.\r\n");
        runner.close();
        other.close();
      }
      await pair.same("CONFIG", "SET", "busy-reply-threshold", "5000");
    });

    it("runs ioredis defineCommand scripts, a rate limiter and a lock identically", async () => {
      const clients = [new Redis(redis.port, "127.0.0.1"), new Redis(server.port, "127.0.0.1")];
      const results: unknown[][] = [];
      for (const client of clients) {
        const out: unknown[] = [];
        client.defineCommand("rateLimit", { numberOfKeys: 1, lua: RATE_LIMITER });
        client.defineCommand("unlock", { numberOfKeys: 1, lua: UNLOCK });
        client.defineCommand("echoAll", { numberOfKeys: 2, lua: "return {KEYS[1], KEYS[2], ARGV[1]}" });
        const c = client as Redis & Record<string, (...args: unknown[]) => Promise<unknown>>;
        await client.del("rl", "lock");
        await client.script("FLUSH");
        out.push(await c.echoAll("k1", "k2", "arg"));
        for (let t = 0; t < 12; t++) out.push(await c.rateLimit("rl", 1000 + t * 100, 500, 3, `req${t}`));
        out.push(await client.zrange("rl", 0, -1, "WITHSCORES"));
        out.push(await client.set("lock", "token-a", "PX", 10000, "NX"));
        out.push(await client.set("lock", "token-b", "PX", 10000, "NX"));
        out.push(await c.unlock("lock", "token-b"));
        out.push(await c.unlock("lock", "token-a"));
        out.push(await c.unlock("lock", "token-a"));
        out.push(await client.set("lock", "token-b", "PX", 10000, "NX"));
        results.push(out);
        client.disconnect();
      }
      assert.deepEqual(results[1], results[0]);
    });
  });
}
