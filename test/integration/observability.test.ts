/**
 * Observability against redis-server, over real sockets on every runtime:
 * MONITOR lines (binary arguments, redaction, unix socket clients, the
 * monitor's own commands) with timestamps and ports masked; SLOWLOG with
 * slowlog-log-slower-than 0 compared structurally; LATENCY events from
 * DEBUG SLEEP and per-command histograms; blocked commands counted and
 * slow-logged when their wait ends; CLIENT PAUSE WRITE letting reads
 * through and holding writes until UNPAUSE releases them in order, and
 * freezing lazy expiry; MEMORY USAGE growing with the value.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { RUNTIMES, startRedis, startRespite, tmpDir, type ServerHandle } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { DiffPair } from "../lib/diff.ts";
import { decodeAt, type RespValue } from "../../core/resp/decoder.ts";
import { setTimeout as sleep } from "node:timers/promises";

const decode = (b: Buffer): RespValue => decodeAt(b, 0)![0];
const text = (v: RespValue) => Buffer.from(v as Uint8Array).toString("latin1");

/** A monitor line with the clock, client ports and socket path masked. */
function maskLine(line: string, socket: string): string {
  return line.replace(/^\+\d+\.\d{6} /, "+T ").replace(/:\d+\]/, ":P]").replace(`unix:${socket}`, "unix:S");
}

/** Reads monitor lines until one contains marker (that line included). */
async function linesUntil(m: RawConnection, marker: string, socket: string): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const [reply] = await m.readReplies(1);
    lines.push(maskLine(reply.toString("latin1"), socket));
    if (reply.includes(marker)) return lines;
  }
}

/** Every command a client sends while a monitor watches: binary args, redaction, errors, MULTI, admin commands. */
const FED: Array<Array<string | Buffer>> = [
  ["SET", Buffer.from('a"b\\c\n\r\t\x07\b\x01\xff\x7f\x00 ~', "latin1"), "x y"],
  ["GET", "a"],
  ["AUTH", "pw"],
  ["AUTH", "user", "pw"],
  ["HELLO", "3", "AUTH", "user", "pw"],
  ["HELLO", "2", "SETNAME", "x"],
  ["HELLO", "9", "AUTH", "user", "pw"],
  ["NOSUCH", "x"],
  ["GET"],
  ["MULTI"],
  ["SET", "k", "v"],
  ["INCR", "k"],
  ["EXEC"],
  ["CONFIG", "GET", "maxmemory"],
  ["CLIENT", "LIST"],
  ["CLIENT", "SETNAME", "fed"],
  ["SLOWLOG", "LEN"],
  ["DEBUG", "SLEEP", "0"],
  ["SELECT", "3"],
  ["PING"],
  ["SELECT", "0"],
];

let redis: ServerHandle;
const redisSocket = path.join(tmpDir(), "redis.sock");
before(async () => {
  redis = await startRedis(["--unixsocket", redisSocket]);
});
after(() => redis.stop());

for (const rt of RUNTIMES) {
  describe(`observability on ${rt}`, () => {
    let respite: ServerHandle;
    const respiteSocket = path.join(tmpDir(), "respite.sock");
    let pair: DiffPair;

    before(async () => {
      respite = await startRespite(rt, ["--unixsocket", respiteSocket]);
      pair = await DiffPair.open(redis.port, respite.port);
    });
    after(async () => {
      pair.close();
      await respite.stop();
    });

    /** Runs `session` against both servers and returns what each produced. */
    async function onBoth<T>(session: (s: ServerHandle, socket: string) => Promise<T>): Promise<[T, T]> {
      return [await session(redis, redisSocket), await session(respite, respiteSocket)];
    }

    it("MONITOR shows each command as Redis does, from TCP and unix socket clients", async () => {
      const [want, got] = await onBoth(async (s, socket) => {
        const m = await RawConnection.connect(s.port);
        const c = await RawConnection.connect(s.port);
        const u = await RawConnection.connectUnix(socket);
        const lines = [(await m.call("MONITOR")).toString("latin1")];
        await c.pipeline(FED);
        await u.call("SET", "via", Buffer.from([0, 200, 10]));
        await c.call("ECHO", "end");
        lines.push(...await linesUntil(m, '"end"', socket));
        for (const conn of [m, c, u]) conn.close();
        return lines;
      });
      assert.deepEqual(got, want);
    });

    it("a monitoring client: keyspace refused, own commands fed after their reply, RESET ends it, RESP3 lines stay simple", async () => {
      const [want, got] = await onBoth(async (s, socket) => {
        const m = await RawConnection.connect(s.port);
        const out: string[] = [];
        const show = (b: Buffer) => out.push(maskLine(b.toString("latin1"), socket));
        show(await m.call("HELLO", "3"));
        show(await m.call("MONITOR"));
        show(await m.call("GET", "a"));
        m.write("*1\r\n$7\r\nMONITOR\r\n");
        for (const b of await m.pipeline([["PING"], ["CLIENT", "GETNAME"]])) show(b);
        for (const b of await m.readReplies(2)) show(b);
        show(await m.call("RESET"));
        show(await m.call("PING"));
        show(await m.call("MULTI"));
        show(await m.call("MONITOR"));
        show(await m.call("EXEC"));
        m.close();
        return out.map((line) => line.replace(/:\d+\r\n/g, ":N\r\n"));
      });
      assert.deepEqual(got, want);
    });

    it("SLOWLOG with slowlog-log-slower-than 0 logs what Redis logs, clipped and redacted alike", async () => {
      const clip = ["RPUSH", "biglist", ...Array.from({ length: 40 }, (_, i) => String(i))];
      const [want, got] = await onBoth(async (s) => {
        const c = await RawConnection.connect(s.port);
        await c.pipeline([
          ["CONFIG", "SET", "slowlog-log-slower-than", "0"],
          ["SLOWLOG", "RESET"],
          ["CLIENT", "SETNAME", "slow"],
          ["MULTI"],
          ["SET", "k", "v"],
          ["EXEC"],
          ["AUTH", "secret"],
          ["HELLO", "2", "AUTH", "u", "p"],
          ["CONFIG", "SET", "masteruser", ""],
          ["NOSUCH"],
          ["GET"],
          clip,
          ["SET", "long", "x".repeat(300)],
          ["BLPOP", "nolist", "0.01"],
        ]);
        const entries = decode(await c.call("SLOWLOG", "GET", "-1")) as RespValue[][];
        const len = decode(await c.call("SLOWLOG", "LEN"));
        await c.call("CONFIG", "SET", "slowlog-log-slower-than", "10000");
        c.close();
        assert.ok(entries.every((e, i) => i === 0 || (e[0] as number) < (entries[i - 1][0] as number)), "newest first");
        // id, time and duration are the server's own; the shape, arguments, address form and name must match.
        return {
          len,
          entries: entries.map((e) => [typeof e[1], typeof e[2], (e[3] as RespValue[]).map(text), text(e[4]).replace(/:\d+$/, ":P"), text(e[5])]),
        };
      });
      assert.deepEqual(got, want);
      await pair.sameAll([
        ["SLOWLOG", "GET", "-2"],
        ["SLOWLOG", "GET", "x"],
        ["SLOWLOG", "GET", "1", "2"],
        ["SLOWLOG", "GET", "0"],
        ["SLOWLOG", "LEN", "1"],
        ["SLOWLOG", "FOO"],
        ["SLOWLOG", "HELP"],
      ]);
    });

    it("MONITOR shows a script command's line before the commands it calls, failed ones included", async () => {
      const [want, got] = await onBoth(async (s, socket) => {
        const m = await RawConnection.connect(s.port);
        const c = await RawConnection.connect(s.port);
        await m.call("MONITOR");
        await c.pipeline([
          ["FUNCTION", "LOAD", "REPLACE", "#!lua name=monlib\nredis.register_function('monget', function(keys) return redis.call('get', keys[1]) end)"],
          ["EVAL", "redis.call('set', KEYS[1], 'v') return redis.call('get', KEYS[1])", "1", "mon:k"],
          ["EVALSHA", "0".repeat(40), "0"],
          ["EVAL", "return 1", "x"],
          ["EVAL_RO", "return redis.call('get', 'mon:k')", "0"],
          ["FCALL", "monget", "1", "mon:k"],
          ["FCALL", "nosuch", "0"],
        ]);
        await c.call("ECHO", "end");
        const lines = await linesUntil(m, '"end"', socket);
        for (const conn of [m, c]) conn.close();
        return lines;
      });
      assert.deepEqual(got, want);
      assert.ok(got.some((line) => line.includes("[0 lua]")), "the script's own commands are shown");
    });

    it("a pipeline's O(1) commands, timed together, keep their counts and order and do not take a slow neighbour's time", async () => {
      // Fast commands (and SET) of one read share a clock reading (Engine.called); DEBUG SLEEP takes its own.
      const c = await RawConnection.connect(respite.port);
      await c.pipeline([["CONFIG", "SET", "slowlog-log-slower-than", "0"], ["CONFIG", "RESETSTAT"], ["SLOWLOG", "RESET"]]);
      const cmds = [
        ...Array.from({ length: 40 }, (_, i) => ["SET", `t${i}`, "v"]),
        ["DEBUG", "SLEEP", "0.03"],
        ...Array.from({ length: 40 }, (_, i) => ["GET", `t${i}`]),
        ["SET", "big", "x".repeat(20_000)],
      ];
      await c.pipeline(cmds);
      const entries = decode(await c.call("SLOWLOG", "GET", "-1")) as RespValue[][];
      const stats = text(decode(await c.call("INFO", "commandstats")));
      await c.call("CONFIG", "SET", "slowlog-log-slower-than", "10000");
      c.close();
      const logged = entries.reverse().map((e) => (e[3] as RespValue[]).map(text).slice(0, 2).join(" "));
      const first = logged.indexOf("SET t0");
      assert.deepEqual(logged.slice(first, first + cmds.length), cmds.map((a) => a.slice(0, 2).join(" ")));
      const usec = (name: string) => Number(logged.indexOf(name) >= 0 && entries[logged.indexOf(name)][2]);
      assert.ok(usec("DEBUG SLEEP") >= 30_000, `DEBUG SLEEP took ${usec("DEBUG SLEEP")} us`);
      for (const [i, e] of entries.entries()) {
        if (logged[i] !== "DEBUG SLEEP") assert.ok((e[2] as number) < 30_000, `${logged[i]} took ${e[2]} us`);
      }
      assert.match(stats, /cmdstat_set:calls=41,usec=\d+,/);
      assert.match(stats, /cmdstat_get:calls=40,usec=\d+,/);
      assert.ok(!/cmdstat_(set|get):calls=\d+,usec=0,/.test(stats), stats);
    });

    it("a blocked command is counted when it runs and slow-logged when served or ended by CLIENT UNBLOCK, never when timed out", async () => {
      const [want, got] = await onBoth(async (s) => {
        const admin = await RawConnection.connect(s.port);
        const waiter = await RawConnection.connect(s.port);
        const waiterId = String(decode(await waiter.call("CLIENT", "ID")));
        const stats = async () =>
          text(decode(await admin.call("INFO", "commandstats"))).split("\r\n")
            .filter((l) => /^cmdstat_(blpop|brpop|blmove):/.test(l)).sort()
            .map((l) => l.replace(/usec=\d+,usec_per_call=[\d.]+,/, ""));
        const slowlog = async () =>
          (decode(await admin.call("SLOWLOG", "GET", "-1")) as RespValue[][]).map((e) => (e[3] as RespValue[]).map(text).join(" "))
            .filter((line) => line !== "INFO clients"); // as many as polls were needed to see the client blocked
        const blocked = async () => {
          while (!/\r\nblocked_clients:1\r\n/.test(text(decode(await admin.call("INFO", "clients"))))) await sleep(5);
        };
        await admin.pipeline([["CONFIG", "SET", "slowlog-log-slower-than", "0"], ["DEL", "bq"], ["CONFIG", "RESETSTAT"], ["SLOWLOG", "RESET"]]);
        const seen: unknown[] = [];
        waiter.write(encode(["BLPOP", "bq", "0"]));
        await blocked();
        seen.push(await stats());
        await admin.call("RPUSH", "bq", "a");
        seen.push(String(await waiter.readReplies(1)), await stats(), await slowlog());
        await admin.call("SLOWLOG", "RESET");
        seen.push(String(await waiter.call("BRPOP", "bq", "0.01")), await stats(), await slowlog());
        waiter.write(encode(["BLMOVE", "bq", "bq2", "LEFT", "RIGHT", "0"]));
        await blocked();
        await admin.call("CLIENT", "UNBLOCK", waiterId, "ERROR");
        seen.push(String(await waiter.readReplies(1)), await stats());
        const histogram = decode(await admin.call("LATENCY", "HISTOGRAM", "blpop")) as RespValue[];
        await admin.call("CONFIG", "RESETSTAT");
        seen.push(histogram.length, decode(await admin.call("LATENCY", "HISTOGRAM", "blpop")));
        await admin.call("CONFIG", "SET", "slowlog-log-slower-than", "10000");
        for (const conn of [admin, waiter]) conn.close();
        return seen;
      });
      assert.deepEqual(got, want);
    });

    it("LATENCY records DEBUG SLEEP as a command event and reports it as Redis does", async () => {
      const [want, got] = await onBoth(async (s) => {
        const c = await RawConnection.connect(s.port);
        await c.pipeline([["LATENCY", "RESET"], ["CONFIG", "SET", "latency-monitor-threshold", "10"]]);
        const disabledFirst = decode(await c.call("LATENCY", "LATEST"));
        await c.call("DEBUG", "SLEEP", "0.05");
        const latest = decode(await c.call("LATENCY", "LATEST")) as RespValue[][];
        const history = decode(await c.call("LATENCY", "HISTORY", "command")) as RespValue[][];
        const graph = text(decode(await c.call("LATENCY", "GRAPH", "command")));
        const doctor = text(decode(await c.call("LATENCY", "DOCTOR")));
        const resets = decode(await c.call("LATENCY", "RESET", "COMMAND", "nosuch"));
        await c.call("CONFIG", "SET", "latency-monitor-threshold", "0");
        c.close();
        assert.ok((latest[0][2] as number) >= 50 && (history[0][1] as number) >= 50, "a 50 ms sleep is at least 50 ms");
        return {
          disabledFirst,
          latest: latest.map((e) => [text(e[0]), e.length]),
          history: history.length,
          // The sleep's measured length may differ by a millisecond: mask numbers.
          graph: graph.replace(/\d+/g, "N"),
          doctor: doctor.replace(/\d+(\.\d+)?/g, "N"),
          resets,
        };
      });
      assert.deepEqual(got, want);
      await pair.sameAll([
        ["LATENCY", "HELP"],
        ["LATENCY", "HISTORY", "nosuch"],
        ["LATENCY", "GRAPH", "nosuch"],
        ["LATENCY", "HISTORY"],
        ["LATENCY", "FOO"],
        ["LATENCY", "DOCTOR"],
        ["LATENCY", "HISTOGRAM", "nosuch"],
      ]);
    });

    it("latency histograms count every call: LATENCY HISTOGRAM and INFO latencystats", async () => {
      const c = await RawConnection.connect(respite.port);
      await c.call("CONFIG", "RESETSTAT");
      const before = decode(await c.call("LATENCY", "HISTOGRAM", "lpush")) as RespValue[];
      const calls = before.length ? ((before[1] as RespValue[])[1] as number) : 0;
      for (let i = 0; i < 25; i++) await c.call("LPUSH", "hist", String(i));
      const reply = decode(await c.call("LATENCY", "HISTOGRAM", "LPUSH", "config")) as RespValue[];
      assert.equal(text(reply[0]), "lpush");
      const body = reply[1] as RespValue[];
      assert.equal(text(body[0]), "calls");
      assert.equal(body[1], calls + 25);
      const levels = body[3] as number[];
      assert.equal(levels[levels.length - 1], calls + 25, "the last level holds every call");
      for (let i = 2; i < levels.length; i += 2) assert.ok(levels[i] > levels[i - 2] && levels[i + 1] > levels[i - 1]);
      const names = reply.filter((_, i) => i % 2 === 0).map(text);
      assert.ok(names.includes("config|resetstat"), "a container names its subcommands");
      const info = text(decode(await c.call("INFO", "latencystats")));
      assert.match(info, /\r\nlatency_percentiles_usec_lpush:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n/);
      await c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "0 50 100");
      assert.match(text(decode(await c.call("INFO", "latencystats"))), /latency_percentiles_usec_lpush:p0=\d+\.\d{3},p50=[\d.]+,p100=[\d.]+\r\n/);
      await c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9");
      c.close();
    });

    it("INFO counts reads and writes as Redis: one each per round trip, however many commands it carries", async () => {
      const [want, got] = await onBoth(async (s) => {
        const c = await RawConnection.connect(s.port);
        await c.call("CONFIG", "RESETSTAT");
        for (let i = 0; i < 5; i++) await c.call("SET", "rw", String(i));
        // A client that leaves: its last read meets the end.
        const brief = await RawConnection.connect(s.port);
        await brief.call("PING");
        brief.close();
        await sleep(50);
        await c.pipeline(Array.from({ length: 10 }, () => ["GET", "rw"]));
        const stats = text(decode(await c.call("INFO", "stats")));
        c.close();
        return ["total_reads_processed", "total_writes_processed", "total_commands_processed"].map((f) => stats.match(new RegExp(`${f}:(\\d+)`))![0]);
      });
      assert.deepEqual(got, want);
    });

    it("CLIENT PAUSE WRITE lets reads through and holds writes, then UNPAUSE releases them in order", async () => {
      await pair.sameAll([
        ["CLIENT", "PAUSE"],
        ["CLIENT", "PAUSE", "x"],
        ["CLIENT", "PAUSE", "-1"],
        ["CLIENT", "PAUSE", "10", "foo"],
        ["CLIENT", "PAUSE", "x", "foo"],
        ["CLIENT", "PAUSE", "10", "write", "x"],
        ["CLIENT", "PAUSE", "1.5"],
        ["CLIENT", "UNPAUSE"],
        ["CLIENT", "UNPAUSE", "x"],
      ]);
      const admin = await RawConnection.connect(respite.port);
      const writer = await RawConnection.connect(respite.port);
      const reader = await RawConnection.connect(respite.port);
      await admin.call("SET", "paused", "before");
      assert.equal((await admin.call("CLIENT", "PAUSE", "60000", "WRITE")).toString(), "+OK\r\n");
      writer.write(Buffer.concat([["GET", "paused"], ["SET", "paused", "1"], ["GET", "paused"], ["INCR", "paused"]].map(encode)));
      assert.equal((await writer.readReplies(1))[0].toString(), "$6\r\nbefore\r\n");
      assert.equal((await reader.call("GET", "paused")).toString(), "$6\r\nbefore\r\n", "the held SET has not run");
      const list = text(decode(await reader.call("CLIENT", "LIST")));
      assert.match(list, /flags=b db=0 .* cmd=set /, "the held client shows as blocked on its command");
      assert.match(text(decode(await reader.call("INFO", "clients"))), /\r\nblocked_clients:1\r\n/);
      assert.equal((await admin.call("CLIENT", "UNPAUSE")).toString(), "+OK\r\n");
      const released = await writer.readReplies(3);
      assert.deepEqual(released.map(String), ["+OK\r\n", "$1\r\n1\r\n", ":2\r\n"]);

      // ALL holds every command, CLIENT UNPAUSE included: only the deadline ends it.
      await admin.call("CLIENT", "PAUSE", "300", "ALL");
      admin.write(encode(["CLIENT", "UNPAUSE"]));
      writer.write(encode(["GET", "paused"]));
      reader.write(encode(["PING"]));
      assert.equal((await writer.readReplies(1))[0].toString(), "$1\r\n2\r\n");
      assert.equal((await reader.readReplies(1))[0].toString(), "+PONG\r\n");
      assert.equal((await admin.readReplies(1))[0].toString(), "+OK\r\n");
      for (const conn of [admin, writer, reader]) conn.close();
    });

    it("while clients are paused a key past its deadline reads as gone but is deleted only after the pause", async () => {
      await pair.sameAll([["SELECT", "9"], ["FLUSHDB"], ["DEBUG", "SET-ACTIVE-EXPIRE", "0"], ["SET", "pk", "v", "PX", "20"]]);
      await sleep(50);
      await pair.sameAll([
        ["CLIENT", "PAUSE", "10000", "WRITE"],
        ["GET", "pk"],
        ["EXISTS", "pk"],
        ["TTL", "pk"],
        ["DBSIZE"],
        ["CLIENT", "UNPAUSE"],
        ["DBSIZE"],
        ["GET", "pk"],
        ["DBSIZE"],
        ["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
        ["SELECT", "0"],
      ]);
    });

    it("MEMORY USAGE grows with the value; MEMORY's other subcommands answer in Redis's shapes", async () => {
      const c = await RawConnection.connect(respite.port);
      let previous = 0;
      for (const size of [1, 10, 100, 1000, 10_000, 100_000]) {
        await c.call("SET", "sized", "v".repeat(size));
        const usage = decode(await c.call("MEMORY", "USAGE", "sized")) as number;
        assert.ok(usage > previous && usage >= size, `${size} bytes -> ${usage}`);
        previous = usage;
      }
      const adds: Array<[string, (i: number) => string[]]> = [
        ["l", (i) => ["RPUSH", "l", `m${i}`]],
        ["s", (i) => ["SADD", "s", `m${i}`]],
        ["h", (i) => ["HSET", "h", `f${i}`, `m${i}`]],
        ["z", (i) => ["ZADD", "z", String(i), `m${i}`]],
      ];
      for (const [key, add] of adds) {
        await c.call(...add(0));
        const small = decode(await c.call("MEMORY", "USAGE", key)) as number;
        await c.pipeline(Array.from({ length: 199 }, (_, i) => add(i + 1)));
        assert.ok((decode(await c.call("MEMORY", "USAGE", key, "SAMPLES", "0")) as number) > small, key);
      }
      c.close();
      await pair.sameAll([
        ["MEMORY", "USAGE", "nosuch"],
        ["MEMORY", "USAGE", "nosuch", "SAMPLES"],
        ["MEMORY", "USAGE", "nosuch", "SAMPLES", "x"],
        ["MEMORY", "USAGE", "nosuch", "SAMPLES", "-1"],
        ["MEMORY", "USAGE", "nosuch", "FOO", "1"],
        ["MEMORY", "USAGE"],
        ["MEMORY", "PURGE"],
        ["MEMORY", "HELP"],
        ["MEMORY", "FOO"],
      ]);
      const [want, got] = await onBoth(async (s) => {
        const conn = await RawConnection.connect(s.port);
        await conn.call("SET", "stats-key", "1");
        const stats = decode(await conn.call("MEMORY", "STATS")) as RespValue[];
        const doctor = decode(await conn.call("MEMORY", "DOCTOR"));
        conn.close();
        return { names: stats.filter((_, i) => i % 2 === 0), doctor: doctor instanceof Uint8Array };
      });
      assert.deepEqual(got, want);
    });
  });
}

function encode(args: string[]): Buffer {
  return Buffer.from(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`);
}
