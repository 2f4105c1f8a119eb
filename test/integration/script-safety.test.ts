/**
 * Scripts that cannot wedge the server, against redis-server 7.0.15 byte
 * for byte where Redis behaves well: SCRIPT KILL and FUNCTION KILL end a
 * read-only script wherever it loops (pcall loops, metamethods, sort
 * comparators, gsub callbacks, coroutines, load readers) and nothing in
 * the script can catch the kill; a script that wrote is UNKILLABLE and
 * SHUTDOWN NOSAVE still works; every client, old or new, gets BUSY while
 * a script runs; FUNCTION LOAD stops a library's code after 500 ms; the
 * sandbox is Redis 7's (read-only globals and library tables, no print or
 * loadfile, nothing one script does seen by the next); deep recursion,
 * huge unpacks and self-containing results get Redis's errors; and the
 * Lua 5.1 library functions rewritten for this behave as Redis's.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { RUNTIMES, startRedis, startRespite, type ServerHandle, tmpDir } from "../lib/servers.ts";
import { type Cmd, DiffPair } from "../lib/diff.ts";
import { RawConnection } from "../lib/raw.ts";
import { decodeAt, encodeCommand } from "../../core/resp/decoder.ts";
import { dumpLibraries } from "../../core/scripting/function-dump.ts";
import { EmbeddedEngine, ReplyError } from "../../mod.ts";

const ev = (script: string, ...rest: Array<string | number>): Cmd => ["EVAL", script, ...rest.length ? rest : [0]];
const BUSY = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
const FUNCTION_BUSY = "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n";
const UNKILLABLE = "-UNKILLABLE Sorry the script already executed write commands against the dataset. " +
  "You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n";
const KILLED = /^-ERR Script killed by user with SCRIPT KILL\.\.\. script: (\w{40}|\w+), on @user_(script|function):\d+\.\r\n$/;

/** Read-only scripts that never end by themselves; `redis` says whether redis-server's killed reply is the same bytes. */
const LOOPS: Array<{ what: string; script: string; redis: boolean }> = [
  { what: "a loop over pcall (the issue's script)", script: "local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end", redis: true },
  { what: "a loop over redis.pcall", script: "while true do\n  redis.pcall('nosuchcommand')\nend", redis: true },
  { what: "an xpcall handler (redis-server hangs for good here)", script: "xpcall(function() error('x') end,\n  function() while true do end end)\nwhile true do end", redis: false },
  { what: "an __index metamethod", script: "local t = setmetatable({}, {__index = function() while true do end end})\nreturn t.x", redis: true },
  { what: "a __tostring metamethod", script: "local t = setmetatable({}, {__tostring = function() while true do end end})\nreturn tostring(t)", redis: true },
  { what: "an __lt metamethod in table.sort", script: "local mt = {__lt = function() while true do end end}\ntable.sort({setmetatable({}, mt), setmetatable({}, mt)})", redis: true },
  { what: "a __concat metamethod", script: "local t = setmetatable({}, {__concat = function() while true do end end})\nreturn t .. 'x'", redis: true },
  { what: "a sort comparator", script: "table.sort({3, 2, 1}, function(a, b)\n  while true do end\nend)", redis: true },
  { what: "a gsub replacement function", script: "return string.gsub('abc', '%w', function(c)\n  while true do end\nend)", redis: true },
  { what: "a gsub replacement table's __index", script: "local t = setmetatable({}, {__index = function() while true do end end})\nreturn string.gsub('abc', '%w', t)", redis: true },
  { what: "a coroutine", script: "local co = coroutine.wrap(function()\n  while true do end\nend)\nco()", redis: true },
  { what: "coroutines in coroutines under pcall", script: "local inner = function() while true do end end\nlocal outer = coroutine.wrap(function()\n  pcall(coroutine.wrap(inner))\n  while true do end\nend)\nouter()", redis: true },
  { what: "a coroutine run from a sort comparator", script: "table.sort({1, 2}, function()\n  return coroutine.wrap(function() while true do end end)()\nend)", redis: true },
  { what: "a coroutine that keeps catching", script: "local co = coroutine.create(function()\n  while true do pcall(function() while true do end end) end\nend)\nwhile true do coroutine.resume(co) end", redis: true },
  // redis-server's load catches the kill (raised again on the next line): Respite's kill goes straight through.
  { what: "a load reader", script: "load(function()\n  while true do end\nend)\nwhile true do end", redis: false },
  { what: "endless tail calls", script: "local function f() return f() end\nreturn f()", redis: true },
];

/** Scripts that catch the kill and would answer if they could: Respite's kill cannot be caught, not even on the same line. */
const CATCHERS = [
  "local ok, e = pcall(function() while true do end end) return 'caught: ' .. tostring(e)",
  "local ok, e = xpcall(function() while true do end end, function(e) return e end) return 'caught'",
  "local ok, e = coroutine.resume(coroutine.create(function() while true do end end)) return 'caught'",
  "local ok = pcall(coroutine.wrap(function() while true do end end)) return 'caught'",
  "local f = load(function() while true do end end) return 'caught'",
  "local ok = pcall(table.sort, {2, 1}, function() while true do end end) return 'caught'",
  "local ok = pcall(string.gsub, 'a', 'a', function() while true do end end) return 'caught'",
];

/** Sends cmd (or a pipeline of them) on a new connection; on another, waits until the server answers `probe` with BUSY. */
async function untilBusy(port: number, cmd: Cmd | Cmd[], probe: Cmd = ["PING"]): Promise<{ runner: RawConnection; other: RawConnection; busy: string }> {
  const runner = await RawConnection.connect(port);
  const other = await RawConnection.connect(port);
  runner.write(Buffer.concat((Array.isArray(cmd[0]) ? cmd as Cmd[] : [cmd as Cmd]).map((c) => encodeCommand(c))));
  let busy = "";
  while (!busy.startsWith("-BUSY")) busy = (await other.call(...probe)).toString();
  return { runner, other, busy };
}

interface Killed {
  busy: string;
  kill: string;
  reply: string;
  after: string;
}

/** Runs cmd until the server is busy, sends the kill and returns what everyone got. */
async function runAndKill(port: number, cmd: Cmd, kill: Cmd = ["SCRIPT", "KILL"]): Promise<Killed> {
  const { runner, other, busy } = await untilBusy(port, cmd);
  try {
    const killReply = (await other.call(...kill)).toString();
    const [reply] = await runner.readReplies(1, 30_000);
    return { busy, kill: killReply, reply: reply.toString(), after: (await runner.call("PING")).toString() };
  } finally {
    runner.close();
    other.close();
  }
}

/** A script fragment that runs for ms milliseconds by the server's clock (redis.call('TIME')), then goes on. */
function spin(ms: number): string {
  return "local function now() local t = redis.call('TIME') return t[1] * 1000000 + t[2] end\n" +
    `local s = now() while now() - s < ${ms * 1000} do end\n`;
}

/** A MULTI ... EXEC whose script outlasts busy-reply-threshold, with its surroundings, on a server of its own: everything one could see of it. */
async function suspendedExec(server: ServerHandle, dir: string): Promise<Record<string, string[]>> {
  const conn = () => RawConnection.connect(server.port);
  const [admin, blocker, watcher, subscriber] = await Promise.all([conn(), conn(), conn(), conn()]);
  await admin.pipeline([["CONFIG", "RESETSTAT"], ["SLOWLOG", "RESET"]]);
  blocker.write(encodeCommand(["BLPOP", "list", "0"]));
  await watcher.call("WATCH", "k");
  await subscriber.call("PSUBSCRIBE", "__keyspace@0__:*");
  // Nobody may see the transaction's RPUSH before it ends: by then the list is gone, so the BLPOP still waits.
  // The runner tracks k: its own invalidation follows the EXEC reply.
  const runner = await conn();
  const other = await conn();
  runner.write(Buffer.concat(([
    ["HELLO", "3"],
    ["CLIENT", "TRACKING", "ON"],
    ["GET", "k"],
    ["MULTI"],
    ["RPUSH", "list", "a"],
    ["SET", "k", "1"],
    ev(spin(1000) + "redis.call('DEL', 'list')\nreturn redis.call('INCR', 'k')"),
    ["INCR", "k"],
    ["EXEC"],
  ] as Cmd[]).map((c) => encodeCommand(c))));
  // k is set by the EXEC only: the first answer other than nil is BUSY (or, on a machine too slow to be seen busy, k's final value).
  let busy = "$-1\r\n";
  while (busy === "$-1\r\n") busy = (await other.call("GET", "k")).toString();
  // An allow_busy command of another client runs in the middle: the runner's pending invalidation stays the runner's.
  const meanwhile = await other.call("WATCH", "x");
  const replies = (await runner.readReplies(10)).slice(1);
  const afterwards = await watcher.pipeline([["MULTI"], ["GET", "k"], ["EXEC"]]);
  await other.call("RPUSH", "list", "z");
  const served = await blocker.readReplies(1);
  await other.call("SET", "marker", "1");
  const events: string[] = [];
  while (!events.at(-1)?.includes("marker")) events.push((await subscriber.readReplies(1))[0].toString());
  const stats = (await other.call("INFO", "commandstats")).toString().split("\r\n")
    .filter((l) => /^cmdstat_(exec|eval|rpush|set|incr):/.test(l)).map((l) => l.replace(/usec=\d+,usec_per_call=[\d.]+,/, "")).sort();
  const slowlog = (await other.call("SLOWLOG", "GET")).toString().split("\r\n").filter((l) => /^[A-Za-z]/.test(l));
  for (const c of [admin, blocker, watcher, subscriber, runner, other]) c.close();
  const aofDir = path.join(dir, "appendonlydir");
  const incr = fs.readdirSync(aofDir).filter((f) => f.endsWith(".incr.aof")).sort().at(-1)!;
  return {
    busy: [busy, meanwhile.toString()],
    replies: replies.map(String),
    afterwards: afterwards.map(String),
    served: served.map(String),
    events,
    stats,
    slowlog,
    aof: [fs.readFileSync(path.join(aofDir, incr), "latin1")],
  };
}

/**
 * A reply too deeply nested for the test decoder: the bytes before the PONG
 * of a PING sent after it, on a new connection (in RESP3 after HELLO 3,
 * whose reply is skipped).
 */
function rawReply(port: number, cmd: Cmd, resp3 = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const parts: Buffer[] = [];
    const pong = Buffer.from("+PONG\r\n");
    sock.on("data", (d) => {
      parts.push(d);
      const all = Buffer.concat(parts);
      if (all.length >= pong.length && all.subarray(all.length - pong.length).equals(pong)) {
        sock.destroy();
        const start = resp3 ? decodeAt(all, 0)![1] : 0;
        resolve(all.subarray(start, all.length - pong.length));
      }
    });
    sock.on("error", reject);
    sock.write(Buffer.concat([...resp3 ? [encodeCommand(["HELLO", "3"])] : [], encodeCommand(cmd), encodeCommand(["PING"])]));
  });
}

for (const rt of RUNTIMES) {
  describe(`script safety on ${rt}`, () => {
    let redis: ServerHandle;
    let server: ServerHandle;
    let pair: DiffPair;
    before(async () => {
      const args = ["--busy-reply-threshold", "50"];
      [redis, server] = await Promise.all([startRedis(args), startRespite(rt, args)]);
      pair = await DiffPair.open(redis.port, server.port);
    });
    after(async () => {
      pair?.close();
      await Promise.all([server?.stop(), redis?.stop()]);
    });

    it("SCRIPT KILL ends a read-only script wherever it loops", async () => {
      for (const { what, script, redis: same } of LOOPS) {
        const got = await runAndKill(server.port, ev(script));
        assert.equal(got.busy, BUSY, what);
        assert.equal(got.kill, "+OK\r\n", what);
        assert.match(got.reply, KILLED, what);
        assert.equal(got.after, "+PONG\r\n", what);
        if (same) assert.equal(got.reply, (await runAndKill(redis.port, ev(script))).reply, `${what}: as redis-server`);
      }
    });

    it("does not let a script catch its kill", async () => {
      for (const script of CATCHERS) {
        const got = await runAndKill(server.port, ev(script));
        assert.match(got.reply, KILLED, script);
      }
    });

    it("FUNCTION KILL ends a function looping over pcall; SCRIPT KILL and BUSY name FUNCTION KILL", async () => {
      await pair.same("FUNCTION", "LOAD", "REPLACE", "#!lua name=loops\nredis.register_function('pcallspin', function()\n" +
        "  local f = function() while true do end end\n  while true do pcall(f) end\nend)");
      for (const port of [redis.port, server.port]) {
        const { runner, other, busy } = await untilBusy(port, ["FCALL", "pcallspin", "0"]);
        assert.equal(busy, FUNCTION_BUSY);
        assert.equal((await other.call("SCRIPT", "KILL")).toString(), FUNCTION_BUSY);
        assert.equal((await other.call("FUNCTION", "KILL")).toString(), "+OK\r\n");
        assert.equal((await runner.readReplies(1))[0].toString(), "-ERR Script killed by user with SCRIPT KILL... script: pcallspin, on @user_function:4.\r\n");
        runner.close();
        other.close();
      }
    });

    it("answers BUSY to every client, pipelined or newly connected, while a script runs; NOTBUSY after", async () => {
      for (const port of [redis.port, server.port]) {
        const { runner, other: old, busy } = await untilBusy(port, ev("while true do end"), ["GET", "k"]);
        assert.equal(busy, BUSY);
        const fresh = await RawConnection.connect(port);
        assert.equal((await fresh.call("PING")).toString(), BUSY);
        const pipelined = await old.pipeline([["SET", "k", "v"], ["INCR", "n"], ["EVAL", "return 1", "0"], ["FCALL", "x", "0"]]);
        assert.deepEqual(pipelined.map(String), [BUSY, BUSY, BUSY, BUSY]);
        // The runner's own pipelined commands wait for its script, then run.
        runner.write(encodeCommand(["PING"]));
        assert.equal((await fresh.call("SHUTDOWN")).toString(), BUSY);
        assert.equal((await fresh.call("SCRIPT", "KILL")).toString(), "+OK\r\n");
        const [killed, pong] = await runner.readReplies(2);
        assert.match(killed.toString(), KILLED);
        assert.equal(pong.toString(), "+PONG\r\n");
        assert.equal((await fresh.call("SCRIPT", "KILL")).toString(), "-NOTBUSY No scripts in execution right now.\r\n");
        for (const c of [runner, old, fresh]) c.close();
      }
    });

    it("suspends a script queued in MULTI: BUSY for others, SCRIPT KILL answers as that EXEC element, the rest runs", async () => {
      const got: string[][] = [];
      for (const port of [redis.port, server.port]) {
        const { runner, other, busy } = await untilBusy(port, [["DEL", "k"], ["MULTI"], ["SET", "k", "1"], ev("while true do end"), ["INCR", "k"], ["EXEC"]], ["GET", "k"]);
        assert.equal(busy, BUSY);
        assert.equal((await other.call("INCR", "k")).toString(), BUSY);
        assert.equal((await other.call("FUNCTION", "KILL")).toString(), BUSY);
        assert.equal((await other.call("SCRIPT", "KILL")).toString(), "+OK\r\n");
        got.push([...(await runner.readReplies(6)).map(String), (await other.call("GET", "k")).toString()]);
        runner.close();
        other.close();
      }
      assert.match(got[1][5], /^\*3\r\n\+OK\r\n-ERR Script killed by user with SCRIPT KILL\.\.\. script: \w{40}, on @user_script:1\.\r\n:2\r\n$/);
      assert.deepEqual(got[1], got[0]);
    });

    it("goes on with EXEC's queue after each long script, FCALL too, killed in turn", async () => {
      await pair.same("FUNCTION", "LOAD", "REPLACE", "#!lua name=execspin\nredis.register_function('execspin', function()\n  while true do end\nend)");
      const got: string[][] = [];
      for (const port of [redis.port, server.port]) {
        const { runner, other } = await untilBusy(port, [
          ["DEL", "k"], ["MULTI"], ev("while true do end"), ["INCR", "k"], ["FCALL", "execspin", "0"], ["INCR", "k"], ["EXEC"],
        ]);
        assert.equal((await other.call("SCRIPT", "KILL")).toString(), "+OK\r\n");
        // The second script is suspended in its turn: BUSY now names FUNCTION KILL.
        while ((await other.call("PING")).toString() !== FUNCTION_BUSY);
        assert.equal((await other.call("FUNCTION", "KILL")).toString(), "+OK\r\n");
        got.push([...(await runner.readReplies(7)).map(String), (await other.call("GET", "k")).toString()]);
        runner.close();
        other.close();
      }
      assert.match(got[1][6], /^\*4\r\n-ERR Script killed by user with SCRIPT KILL\.\.\. script: \w{40}, on @user_script:1\.\r\n:1\r\n-ERR Script killed by user with SCRIPT KILL\.\.\. script: execspin, on @user_function:3\.\r\n:2\r\n$/);
      assert.deepEqual(got[1], got[0]);
    });

    it("finishes an EXEC suspended in its script as if uninterrupted: replies, WATCH, BLPOP, events, stats, slow log, AOF", async () => {
      const args = ["--busy-reply-threshold", "50", "--appendonly", "yes", "--appendfsync", "always", "--slowlog-log-slower-than", "200000",
        "--notify-keyspace-events", "KA"];
      const [redisDir, respiteDir] = [tmpDir(), tmpDir()];
      const [own, ownRedis] = await Promise.all([startRespite(rt, [...args, "--dir", respiteDir]), startRedis([...args, "--dir", redisDir])]);
      try {
        const got = await suspendedExec(own, respiteDir);
        const want = await suspendedExec(ownRedis, redisDir);
        assert.equal(got.busy[0], BUSY);
        assert.deepEqual(got.replies.slice(7), ["*4\r\n:1\r\n+OK\r\n:2\r\n:3\r\n", ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"]);
        assert.equal(got.afterwards[2], "*-1\r\n");
        assert.equal(got.served[0], "*2\r\n$4\r\nlist\r\n$1\r\nz\r\n");
        assert.match(got.aof[0], /\*1\r\n\$5\r\nMULTI\r\n\*3\r\n\$5\r\nRPUSH[^]*\*1\r\n\$4\r\nEXEC\r\n/);
        assert.equal(got.slowlog.filter((l) => l === "EVAL").length, 1);
        for (const k of Object.keys(want)) assert.deepEqual(got[k], want[k], k);
      } finally {
        await Promise.all([own.stop(), ownRedis.stop()]);
      }
    });

    it("keeps a script that wrote UNKILLABLE, alone or queued in MULTI; SHUTDOWN NOSAVE still stops the server", async () => {
      const script = ev("redis.call('SET', 'written', '1')\nwhile true do end");
      for (const cmds of [[script], [["MULTI"], script, ["EXEC"]]]) {
        const own = await startRespite(rt, ["--busy-reply-threshold", "50"]);
        const { runner, other, busy } = await untilBusy(own.port, cmds, ["GET", "written"]);
        assert.equal(busy, BUSY);
        assert.equal((await other.call("SCRIPT", "KILL")).toString(), UNKILLABLE);
        assert.equal((await other.call("SHUTDOWN")).toString(), BUSY);
        assert.equal((await other.call("SHUTDOWN", "SAVE")).toString(), BUSY);
        const exited = new Promise<number | null>((resolve) => own.process.once("exit", (code) => resolve(code)));
        other.write(encodeCommand(["SHUTDOWN", "NOSAVE"]));
        assert.equal(await other.untilClosed(), "");
        assert.equal(await exited, 0);
        runner.close();
        await own.stop();
      }
    });

    it("keeps a function that wrote UNKILLABLE to FUNCTION KILL, as redis-server", async () => {
      await pair.same("FUNCTION", "LOAD", "REPLACE", "#!lua name=writer\nredis.register_function('writespin', function()\n" +
        "  redis.call('SET', 'fwritten', '1')\n  local t = redis.call('TIME')\n  local stop = t[1] + 1\n" +
        "  while tonumber(redis.call('TIME')[1]) <= stop do end\n  return 'done'\nend)");
      for (const port of [redis.port, server.port]) {
        const { runner, other, busy } = await untilBusy(port, ["FCALL", "writespin", "0"]);
        assert.equal(busy, FUNCTION_BUSY);
        assert.equal((await other.call("FUNCTION", "KILL")).toString(), UNKILLABLE);
        assert.equal((await runner.readReplies(1))[0].toString(), "$4\r\ndone\r\n");
        runner.close();
        other.close();
      }
    });

    it("stops FUNCTION LOAD's code after 500 ms with Redis's error; the server goes on", async () => {
      await pair.sameAll([
        ["FUNCTION", "LOAD", "#!lua name=spin\nlocal i = 0\nwhile true do i = i + 1 end"],
        ["FUNCTION", "LOAD", "#!lua name=spin2\nlocal s = ('x'):gsub('x', function() while true do end end)"],
        ["FUNCTION", "LOAD", "#!lua name=spin3\nlocal t = setmetatable({}, {__index = function() while true do end end})"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "spin*"],
        ["PING"],
      ]);
      // FUNCTION RESTORE runs the same code: redis-server hangs for good on this payload, Respite stops it as FUNCTION LOAD.
      const payload = Buffer.from(dumpLibraries([Buffer.from("#!lua name=spin\nwhile true do end")]));
      assert.equal((await pair.respite.call("FUNCTION", "RESTORE", payload)).toString(), "-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n");
      assert.equal((await pair.respite.call("PING")).toString(), "+PONG\r\n");
    });

    it("makes globals and every library table read-only, as Redis 7", async () => {
      const cmds: Cmd[] = [];
      for (const target of ["_G", "redis", "string", "table", "math", "cjson", "cmsgpack", "bit", "struct", "coroutine", "getmetatable('')", "getmetatable(_G)"]) {
        cmds.push(
          ev(`${target}.injected = 1`),
          ev(`rawset(${target}, 'injected', 1)`),
          ev(`setmetatable(${target}, {})`),
          ev(`local t = ${target} for k in pairs(t) do t[k] = nil end`),
          ev(`table.insert(${target}, 1)`),
        );
      }
      cmds.push(
        ev("redis = function() end"),
        ev("x = 1"),
        ev("KEYS = {}"),
        ev("string.len = nil"),
        ev("redis.call = function() return 'fake' end"),
        ev("getmetatable('').__index = {}"),
        ev("getmetatable(_G).__index = nil"),
        ev("setmetatable(_G, nil)"),
        ev("KEYS[1] = 'x' return KEYS[1]", 1, "k"),
        ev("local t = {} t.x = 1 setmetatable(t, {}) rawset(t, 'y', 2) return {t.x, t.y}"),
        ev("return loadstring('z = 1')()"),
        ev("return {pcall(function() redis = 1 end)}"),
      );
      // After all that, every script and function sees the untouched environment.
      cmds.push(
        ev("return {type(redis), type(redis.call), string.len('abc'), type(getmetatable('').__index.len)}"),
        ["FUNCTION", "LOAD", "REPLACE", "#!lua name=plain\nredis.register_function('plain', function(k, a) return {redis.call('PING'), type(string.len), #k} end)"],
        ["FCALL", "plain", "0"],
        ev("local n = 0 for k in pairs(_G) do n = n + 1 end return n"),
        ev("local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t"),
      );
      await pair.sameAll(cmds);
    });

    it("keeps print, loadfile, dofile, require, os, io, debug and package out of reach", async () => {
      const cmds: Cmd[] = [];
      for (const name of ["print", "loadfile", "dofile", "require", "os", "io", "debug", "package", "module", "getfenv", "setfenv", "newproxy", "rawlen", "utf8", "arg", "fengari"]) {
        cmds.push(ev(`return ${name}`), ev(`return type(${name})`), ev(`${name}()`), ev(`return rawget(_G, '${name}')`));
      }
      cmds.push(
        ev("print('x')"),
        ev("return {pcall(print, 'x')}"),
        ev("return os.time()"),
        ev("return loadstring(string.dump(function() return 1 end))"),
        ev("return {load('return 1')}"),
        ev("nonexistent_global = nil"),
        ev("return nonexistent_global"),
        ev("return nonexistent_global.field"),
        ev("nonexistent_function()"),
        ev("local f = loadstring('return undefined_thing') return f()"),
      );
      await pair.sameAll(cmds);
    });

    it("shows nothing one script or function does to the next, except the keyspace", async () => {
      await pair.sameAll([
        ev("return {KEYS[1], ARGV[1]}", 1, "key1", "arg1"),
        ["FUNCTION", "LOAD", "REPLACE", "#!lua name=peek\nredis.register_function('peek', function() return {type(KEYS), type(ARGV)} end)"],
        ["FCALL", "peek", "0"],
        ev("math.randomseed(7) return 1"),
        ev("return {pcall(function() cjson.encode = nil end)}"),
        ev("return cjson.encode({1, 2})"),
        ev("return tostring(math.random())"),
      ]);
    });

    it("answers deep recursion, huge unpacks and bad yields with Redis's errors", async () => {
      await pair.sameAll([
        ev("local function f(n) return 1 + f(n + 1) end return f(1)"),
        ev("local function f() return f() + 1 end return {pcall(f)}"),
        ev("local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x"),
        ev("local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return {pcall(function() return t.x end)}"),
        ev("local function f() table.sort({1, 2}, f) end f()"),
        ev("local function f() return string.gsub('a', 'a', f) end return f()"),
        ev("local t t = setmetatable({}, {__tostring = function() return tostring(t) end}) return tostring(t)"),
        ev("local function f() return pcall(f) end return {f()}"),
        ev("local function f() return xpcall(f, function(e) return e end) end return {f()}"),
        ev("local function f(n) if n == 0 then return 'x' end return pcall(f, n - 1) end return {f(180)}"),
        ev("return select('#', unpack({}, 1, 7997))"),
        ev("return select('#', unpack({}, 1, 7998))"),
        ev("return unpack({}, 1, 1e9)"),
        ev("return unpack({}, 1, 1e300)"),
        ev("return {pcall(unpack, {}, 1, 100000)}"),
        ev("local t = {} t[1] = t return cjson.encode(t)"),
        ev("local t = {} t[1] = t return #cmsgpack.pack(t)"),
        ev("coroutine.yield()"),
        ev("return {pcall(coroutine.yield, 1)}"),
        ev("return coroutine.running()"),
        ev("local co = coroutine.create(function() pcall(coroutine.yield, 7) end) return {coroutine.resume(co)}"),
        ev("local co = coroutine.create(function() local t = setmetatable({}, {__index = function() coroutine.yield(5) end}) return t.x end) return {coroutine.resume(co)}"),
        ev("local co = coroutine.create(function() table.sort({3, 2, 1}, function(a, b) coroutine.yield() return a < b end) end) return {coroutine.resume(co)}"),
        ev("local function it() coroutine.yield(1) end local co = coroutine.create(function() for k in it do end end) return {coroutine.resume(co)}"),
        ev("local co co = coroutine.create(function() return coroutine.resume(co) end) return {coroutine.resume(co)}"),
        ev("return coroutine.wrap(print)"),
      ]);
    });

    it("answers a result that holds itself with Redis's replies, nested as deep", async () => {
      const load = ["FUNCTION", "LOAD", "REPLACE", "#!lua name=selfref\nredis.register_function('selfref', function() local t = {} t[1] = t return t end)"];
      await pair.same(...load);
      for (const [cmd, resp3] of [
        [ev("local t = {} t[1] = t return t"), false],
        [ev("local t = {1, 2} t[3] = t return t"), false],
        [ev("local a, b = {}, {} a[1] = b b[1] = a return {a, a}"), false],
        [ev("redis.setresp(3) local t = {} t.map = {x = t} return t"), false],
        [ev("redis.setresp(3) local t = {} t.map = {x = t} return t"), true],
        [ev("redis.setresp(3) local t = {} t.map = {} t.map[t] = 1 return t"), true],
        [ev("redis.setresp(3) local t = {} t.set = {} t.set[t] = true return t"), true],
        [["FCALL", "selfref", "0"], false],
      ] as Array<[Cmd, boolean]>) {
        const [a, b] = await Promise.all([rawReply(redis.port, cmd, resp3), rawReply(server.port, cmd, resp3)]);
        assert.ok(a.toString("latin1").includes("-ERR reached lua stack limit\r\n"));
        assert.equal(b.length, a.length, `length of the reply to ${cmd.join(" ")}`);
        assert.ok(b.equals(a), `reply to ${cmd.join(" ")}`);
      }
      assert.equal((await pair.respite.call("PING")).toString(), "+PONG\r\n");
    });

    it("runs the Lua 5.1 library functions that call back into Lua as Redis's", async () => {
      await pair.sameAll([
        ev("local t = {5, 3, 1, 4} table.sort(t) return t"),
        ev("local t = {5, 3, 1, 4} table.sort(t, function(a, b) return a > b end) return t"),
        ev("local t = {} for i = 1, 300 do t[i] = (i * 37) % 101 end table.sort(t, function(a, b) return a % 7 < b % 7 end) return t"),
        ev("local t = {} for i = 1, 200 do t[i] = tostring((i * 7919) % 1000) end table.sort(t) return t"),
        ev("table.sort({1, 'x'})"),
        ev("table.sort({{}, {}})"),
        ev("table.sort({}, 1)"),
        ev("local mt = {__lt = function(a, b) return a.v < b.v end} local t = {} for i = 1, 20 do t[i] = setmetatable({v = (i * 13) % 20}, mt) end table.sort(t) local r = {} for i = 1, 20 do r[i] = t[i].v end return r"),
        ev("return string.gsub('hello world', '(o)', function(c) return c:upper() end)"),
        ev("return string.gsub('hello world', 'o*', 'X')"),
        ev("return string.gsub('abc', '%w*', '-')"),
        ev("return string.gsub('abc', 'b', '%x')"),
        ev("return string.gsub('abc', 'b', '%')"),
        ev("return string.gsub('abcabc', 'b', 'X', 1.5)"),
        ev("return string.gsub('abc', '(b)', '%1%0%%')"),
        ev("return string.gsub('abc', '%1', 'x')"),
        ev("return string.gsub('hello world', '%w+', {hello = 'HI'})"),
        ev("return string.gsub('abc', '.', setmetatable({}, {__index = function(t, k) return k:upper() end}))"),
        ev("return string.gsub('abc', '()', function(p) return p end)"),
        ev("return string.gsub('abc', '.', function() return true end)"),
        ev("return string.gsub('abc', '%', 'x')"),
        ev("return string.format('%s|%5.2s|%d', 'a', 'xyz', 3)"),
        ev("return string.format('%s', nil)"),
        ev("return string.format('%s', setmetatable({}, {__tostring = function() return 'T' end}))"),
        ev("return tostring(setmetatable({}, {__tostring = function() return 5 end}))"),
        ev("return tostring(setmetatable({}, {__tostring = function() return nil end}))"),
        ev("tostring()"),
        ev("return {xpcall(function() error('x') end, function(e) return 'h:' .. tostring(e) end)}"),
        ev("return {xpcall(function() error('x') end, function(e) error('y') end)}"),
        ev("return {xpcall(function(...) return select('#', ...) end, function() end, 5)}"),
        ev("return xpcall(function() end)"),
        ev("return {pcall(error, {err = 'x'})}"),
        ev("return {pcall(redis.call, 'nosuchcmd')}"),
        ev("return {pcall(function() local x = nil return x.y end)}"),
        ev("local parts = {'return ', '1 + ', '2'} local i = 0 return load(function() i = i + 1 return parts[i] end)()"),
        ev("return {load(function() return 'return +' end)}"),
        ev("return {loadstring('return +')}"),
        ev("return loadstring(function() end)"),
        ev("local t = setmetatable({}, {__index = function(t, k) if k < 3 then return k end end}) local n = 0 for i in ipairs(t) do n = n + 1 end return n"),
        ev("return pairs(nil)"),
        ev("local t = setmetatable({}, {__index = function() return 7 end}) return unpack(t, 1, 2)"),
        ev("local t = {1, 2, 3} table.insert(t, 0, 'x') return {t[0], t[1], #t}"),
        ev("local t = {1, 2, 3} return {table.remove(t, 5), #t}"),
        ev("return table.concat({1, true})"),
        ev("return table.concat({1.5, 2, 'x'}, ', ')"),
        ev("return math.max(1, '5', 3)"),
        ev("return math.min()"),
        ev("local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) return {co(1), co(10)}"),
        ev("local co = coroutine.wrap(function() error('boom') end) co()"),
        ev("return coroutine.status(nil)"),
      ]);
    });
  });
}

describe("script safety in an embedded engine", () => {
  const KILLED_TEXT = /^ERR Script killed by user with SCRIPT KILL\.\.\. script: \w{40}, on @user_script:1\.$/;
  const pause = () => new Promise((resolve) => setTimeout(resolve, 10));
  const embedded = () => new EmbeddedEngine({ "busy-reply-threshold": 50 }, { logSink: () => {} });

  it("suspends a long script run with callAsync: call() gets BUSY, SCRIPT KILL ends it, queued commands follow", async () => {
    const db = embedded();
    try {
      const looping = db.callAsync("EVAL", "while true do end", 0);
      const queued = db.callAsync("SET", "k", "after");
      const busy = db.call("GET", "k");
      assert.ok(busy instanceof ReplyError);
      assert.equal(busy.message, BUSY.slice(1, -2));
      assert.equal(db.call("SCRIPT", "KILL"), "OK");
      const killed = await looping;
      assert.ok(killed instanceof ReplyError);
      assert.match(killed.message, KILLED_TEXT);
      assert.equal(await queued, "OK");
      assert.equal(db.call("GET", "k"), "after");
    } finally {
      db.close();
    }
  });

  it("suspends a script queued in MULTI: EXEC's reply holds the kill and the rest", async () => {
    const db = embedded();
    try {
      for (const cmd of [["MULTI"], ["SET", "k", "1"], ["EVAL", "while true do end", 0], ["INCR", "k"]]) db.call(...cmd);
      const exec = db.callAsync("EXEC");
      assert.ok(db.call("INCR", "k") instanceof ReplyError);
      assert.equal(db.call("SCRIPT", "KILL"), "OK");
      const [set, killed, incr] = (await exec) as unknown[];
      assert.equal(set, "OK");
      assert.match((killed as ReplyError).message, KILLED_TEXT);
      assert.equal(incr, 2);
    } finally {
      db.close();
    }
  });

  it("throws from call() when its script is suspended, and serves on", async () => {
    const db = embedded();
    try {
      assert.throws(() => db.call("EVAL", "while true do end", 0), /still running after busy-reply-threshold/);
      assert.equal(db.call("SCRIPT", "KILL"), "OK");
      while (db.call("PING") !== "PONG") await pause();
      assert.equal(db.call("EVAL", "return 'next'", 0), "next");
    } finally {
      db.close();
    }
  });
});
