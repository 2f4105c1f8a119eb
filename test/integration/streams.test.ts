/**
 * Streams without consumer groups, differential against redis-server byte
 * for byte on every runtime: COMMAND INFO, hand-written edge cases for XADD
 * XRANGE XREVRANGE XLEN XDEL XTRIM XSETID XREAD (IDs at the edges, the same
 * millisecond, `ms-*`, exclusive bounds, `~` trims with LIMIT, RESP3),
 * randomized sequences with fixed seeds and small node limits whose DUMP
 * payloads (Redis's exact listpack nodes) must match after every batch,
 * blocking XREAD with several clients run the same way on both servers,
 * propagation of XADD * and `~` trims (via the AOF), DUMP/RESTORE and RDB
 * files both ways, consumer groups in DUMP and the AOF rewrite. The
 * 1,000,000-entry stream is in streams-million.test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RUNTIMES, type ServerHandle, sharedRedis, startRedis, startRespite, tmpDir } from "../lib/servers.ts";
import { diffSuite, rng, show } from "../lib/diff.ts";
import { type Arg, bytes, commands, compare } from "../lib/diff-lines.ts";
import { RawConnection } from "../lib/raw.ts";
import { encodeCommand } from "../../core/resp/decoder.ts";
import { checkRdb, connectLoaded, until } from "../lib/targets.ts";
import { crc64 } from "../../core/persist/rdb/crc64.ts";

const text = (b: Buffer) => b.toString("latin1");

/** Waits until `count` clients are blocked, as CLIENT LIST's b flag shows. */
async function blockedClients(conn: RawConnection, count: number): Promise<void> {
  await until(async () => (text(await conn.call("client", "list")).match(/flags=b/g) ?? []).length === count, () => `${count} blocked clients`);
}

const STREAM_COMMANDS = ["xadd", "xrange", "xrevrange", "xlen", "xdel", "xtrim", "xsetid", "xread"];
const MAX = "18446744073709551615";

const redis = sharedRedis(["--enable-debug-command", "yes"]);

for (const rt of RUNTIMES) {
  describe(`streams on ${rt}`, () => {
    const suite = diffSuite(redis, rt, ["--enable-debug-command", "yes"]);
    let section = 0;
    const prefix = () => `${rt}:${section}:`;
    const same = (lines: Array<string | Arg[]>) => compare(suite.pair, commands(prefix(), lines));

    it("COMMAND INFO matches redis-server", async () => {
      for (const name of STREAM_COMMANDS) await suite.pair.same("COMMAND", "INFO", name);
      await suite.pair.same("COMMAND", "GETKEYS", "XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "a", "b", "1", "2");
    });

    it("XADD: explicit, ms-* and edge IDs, NOMKSTREAM, argument errors", async () => {
      section++;
      await same([
        "XADD {s} 1-1 a 1", "XADD {s} 1-1 a 1", "XADD {s} 1-0 a 1", "XADD {s} 1 a 1", "XADD {s} 1-* b 2", "XADD {s} 1-* b 2 c 3",
        "XADD {s} 2-* x y", "XADD {s} 0-* x y", "XADD {s} 5-18446744073709551615 f v", "XADD {s} 5-* f v", "XADD {s} 6 f v",
        "XADD {s} 0-0 f v", "XADD {n} 0-0 f v", "EXISTS {n}", "XADD {n} 0-* f v", "XADD {n2} 0 f v", "XADD {s} f",
        "XADD {s} 7-1 f", "XADD {s} 7-1 f v g", "XADD {s} x-1 f v", "XADD {s} 7-x f v", "XADD {s} -1 f v", "XADD {s} 7- f v",
        "XADD {s} '' f v", "XADD {s} 7-*1 f v", "XADD {s} *-1 f v", "XADD {s} ' 8-1' f v", "XADD {s} +9-+0 f v",
        "XADD {s} 010-01 f v", "XADD {s} 11--0 f v", "XADD {s} 12-18446744073709551616 f v", "XADD {s} 12-1-1 f v",
        "XADD {s} NOMKSTREAM 13-1 f v", "XADD {none} NOMKSTREAM 1-1 f v", "EXISTS {none}", "XADD {none} nomkstream * f v",
        `XADD {m} ${MAX}-${MAX} f v`, "XADD {m} * f v", `XADD {m} ${MAX}-* f v`, `XADD {m2} ${MAX}-* f v`,
        `XADD {m3} ${MAX}-0 f v`, `XADD {m3} ${MAX}-* f v`, `XRANGE {m3} - +`, "XADD {m4} 9007199254740993-9007199254740993 a b",
        "XADD {m4} 9007199254740993-* a b", "XRANGE {m4} - +", "XLEN {s}", "XRANGE {s} - +", "SET {str} x",
        "XADD {str} 1-1 f v", "XADD {str} NOMKSTREAM 1-1 f v", "XADD", "XADD {s}", "XADD {s} 20-1", "TYPE {s}",
        "OBJECT ENCODING {s}", "XADD {s} MAXLEN", "XADD {s} MAXLEN 1", "XADD {s} 30-1 MAXLEN 1 f v",
      ]);
    });

    it("XADD and XTRIM trimming: MAXLEN/MINID with = and ~, LIMIT and its errors", async () => {
      section++;
      const fill: string[] = [];
      for (let i = 1; i <= 350; i++) fill.push(`XADD {t} ${i}-1 field ${i} other ${i % 7}`);
      await same(fill);
      await same([
        "XTRIM {t} MAXLEN ~ 340", "XLEN {t}", "XTRIM {t} MAXLEN ~ 100", "XLEN {t}", "XTRIM {t} MAXLEN = 240", "XLEN {t}",
        "XTRIM {t} MAXLEN 230 LIMIT 5", "XTRIM {t} MAXLEN ~ 50 LIMIT 5", "XTRIM {t} MAXLEN ~ 50 LIMIT 100", "XLEN {t}",
        "XTRIM {t} MINID ~ 300", "XLEN {t}", "XTRIM {t} MINID 300-1", "XRANGE {t} - + COUNT 2", "XTRIM {t} MINID = 305",
        "XTRIM {t} MINID 305-1", "XTRIM {t} MAXLEN -1", "XTRIM {t} MAXLEN x", "XTRIM {t} MAXLEN 1 MINID 1",
        "XTRIM {t} MINID 1 MAXLEN 1", "XTRIM {t}", "XTRIM {t} LIMIT 10", "XTRIM {t} MAXLEN ~ 1 LIMIT -1",
        "XTRIM {t} MAXLEN ~ 1 LIMIT x", "XTRIM {t} MINID -", "XTRIM {t} MINID +", "XTRIM {t} MINID x", "XTRIM {t} FOO 1",
        "XTRIM {none} MAXLEN 0", "XTRIM {t} MAXLEN ~ 0 LIMIT 0", "XLEN {t}", "XADD {t} MAXLEN ~ 10 LIMIT 2 400-1 f v",
        "XADD {t} MAXLEN 1 LIMIT 2 401-1 f v", "XADD {t} LIMIT 2 402-1 f v", "XADD {t} MINID = 399 403-1 f v",
        "XADD {t} MAXLEN = 3 MINID 1 404-1 f v", "XADD {t} MAXLEN 2 404-1 f v", "XRANGE {t} - +", "XTRIM {t} MAXLEN 0",
        "XLEN {t}", "EXISTS {t}", "XRANGE {t} - +", "XADD {t} 405-1 f v", "XTRIM {t} maxlen = 0", "XTRIM {t} minid ~ 999",
        "XADD {t} MAXLEN 0 406-1 f v", "XLEN {t}", "XADD {t} MINID 500 407-1 f v", "XLEN {t}", "XTRIM {t} MAXLEN 5 extra",
      ]);
    });

    it("XRANGE and XREVRANGE: - +, incomplete and exclusive bounds, COUNT, errors, RESP3", async () => {
      section++;
      await same([
        "XADD {r} 1-1 a 1", "XADD {r} 1-2 b 2", "XADD {r} 2-0 c 3 d 4", "XADD {r} 3-5 a 5", `XADD {r} 3-${MAX} e 6`,
        "XADD {r} 4-0 a 7", "XRANGE {r} - +", "XREVRANGE {r} + -", "XRANGE {r} 1 3", "XRANGE {r} (1-1 (4-0",
        "XRANGE {r} (1 (4", "XREVRANGE {r} (4-0 (1-1", "XRANGE {r} 3 3", `XRANGE {r} (3-${MAX} +`, "XRANGE {r} - + COUNT 2",
        "XREVRANGE {r} + - COUNT 2", "XRANGE {r} - + COUNT 0", "XRANGE {r} - + COUNT -1", "XRANGE {r} - + COUNT x",
        "XRANGE {r} - + COUNT", "XRANGE {r} - + LIMIT 1", "XRANGE {r} - + count 1 count 3", "XRANGE {r} ( +",
        "XRANGE {r} (- +", "XRANGE {r} - (+", "XRANGE {r} (0-0 +", `XRANGE {r} (${MAX}-${MAX} +`, "XRANGE {r} - (0-0",
        `XRANGE {r} - (${MAX}-${MAX}`, "XRANGE {r} 4 1", "XRANGE {r} x +", "XRANGE {r} - x", "XRANGE {none} - +",
        "XRANGE {none} - + COUNT 0", "XREVRANGE {none} + -", "XRANGE {r} 2-0 2-0", "XRANGE {r} 2-1 2-5", "SET {str} x",
        "XRANGE {str} - +", "XREVRANGE {str} + -", "XLEN {str}", "XLEN {none}", "XLEN {r}", "HELLO 3", "XRANGE {r} - + COUNT 2",
        "XRANGE {r} - + COUNT 0", "XRANGE {none} - +", "HELLO 2",
      ]);
    });

    it("XDEL and XSETID: first and max-deleted IDs, entries-added, errors", async () => {
      section++;
      await same([
        "XADD {d} 1-1 a 1", "XADD {d} 2-1 a 2", "XADD {d} 3-1 a 3", "XADD {d} 4-1 a 4", "XDEL {d} 2-1 9-9 2-1", "XDEL {d} 1-1",
        "XDEL {d} x", "XDEL {d} 3-1 x", "XLEN {d}", "XDEL {none} 1-1", "XDEL {none} x", "XDEL {d} - +", "XDEL {d} 3",
        "XRANGE {d} - +", "DUMP {d}", "XSETID {d} 3-0", "XSETID {d} 4-1", "XSETID {d} 5-0 ENTRIESADDED 1",
        "XSETID {d} 5-0 ENTRIESADDED -1", "XSETID {d} 5-0 ENTRIESADDED x", "XSETID {d} 5-0 MAXDELETEDID 6-0",
        "XSETID {d} 5-0 MAXDELETEDID 1-0", "XSETID {d} 5-0 MAXDELETEDID x", "XSETID {d} 5-0 ENTRIESADDED 9 MAXDELETEDID 4-9",
        "DUMP {d}", "XSETID {d} 4-8", "XSETID {d} 5-0 FOO 1", "XSETID {d} 5-0 ENTRIESADDED", "XSETID {none} 1-1",
        "XSETID {d} +", "XSETID {d} 9", "XADD {d} 9-0 f v", "XADD {d} 9-* f v", "DUMP {d}", "XDEL {d} 9-1 9-2 4-1",
        "DUMP {d}", "XLEN {d}", "EXISTS {d}", "XADD {d} 10-1 f v", "DUMP {d}", "XSETID {d} 10-1 ENTRIESADDED 9223372036854775807",
        "DUMP {d}", "XSETID {d} 11-1 ENTRIESADDED 0", "SET {str} x", "XDEL {str} 1-1", "XSETID {str} 1-1",
      ]);
    });

    it("XREAD without BLOCK: several keys, $, COUNT, tombstones, errors, RESP3", async () => {
      section++;
      await same([
        "XADD {a} 1-1 f 1", "XADD {a} 2-1 f 2", "XADD {b} 5-1 g 1", "XREAD STREAMS {a} {b} 0 0", "XREAD COUNT 1 STREAMS {a} {b} 0 0",
        "XREAD STREAMS {a} {b} 1-1 5-1", "XREAD STREAMS {a} {b} $ $", "XREAD STREAMS {a} {none} 1 0", "XREAD STREAMS {none} 0",
        "XREAD COUNT -5 STREAMS {a} 0", "XREAD COUNT 0 STREAMS {a} 0", "XREAD STREAMS {a} {b} 0", "XREAD STREAMS {a}",
        "XREAD STREAMS", "XREAD {a} 0", "XREAD COUNT x STREAMS {a} 0", "XREAD STREAMS {a} >", "XREAD STREAMS {a} -",
        "XREAD STREAMS {a} +", "XREAD STREAMS {a} x", "XREAD GROUP g c STREAMS {a} 0", "XREAD NOACK STREAMS {a} 0",
        "XREAD FOO STREAMS {a} 0", "XREAD BLOCK x STREAMS {a} 0", "XREAD BLOCK -1 STREAMS {a} 0", "XREAD BLOCK 1.5 STREAMS {a} 0",
        "XREAD BLOCK 100 STREAMS {a} 0", "XREAD COUNT 1 BLOCK 100 STREAMS {a} 1", "SET {str} x", "XREAD STREAMS {str} 0",
        "XREAD STREAMS {a} {str} 0 0", "XDEL {a} 2-1", "XREAD STREAMS {a} 1-1", "XREAD STREAMS {a} 0", "HELLO 3",
        "XREAD STREAMS {a} {b} 0 0", "XREAD STREAMS {a} 5", "XREAD COUNT 1 STREAMS {b} {a} 0 0", "HELLO 2", "MULTI",
        "XREAD BLOCK 0 STREAMS {a} $", "XREAD BLOCK 0 STREAMS {a} 0", "EXEC",
        ["EVAL", "return redis.call('xread', 'block', '0', 'streams', KEYS[1], '0')", "1", `${prefix()}a`],
        ["EVAL", "return redis.call('xread', 'count', '1', 'streams', KEYS[1], '0')", "1", `${prefix()}a`],
      ]);
    });

    it("binary fields and values, integer-looking strings, big values round-trip with identical DUMP", async () => {
      section++;
      const bin = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const big = Buffer.alloc(5000, "x");
      await same([
        ["XADD", `${prefix()}b`, "1-1", bin, bin.subarray(0, 3)], ["XADD", `${prefix()}b`, "1-2", "", ""],
        ["XADD", `${prefix()}b`, "1-3", "12", "-7", "0", "9223372036854775807", "-9223372036854775808", "9223372036854775808"],
        ["XADD", `${prefix()}b`, "1-4", "01", "-0", "1.5", " 1", "127", "128", "-4096", "-4097", "4095", "4096"],
        ["XADD", `${prefix()}b`, "1-5", "32767", "32768", "-8388608", "8388607", "2147483647", "2147483648"],
        ["XADD", `${prefix()}b`, "1-6", big, big.subarray(0, 70)], ["XADD", `${prefix()}b`, "1-7", bin, bin],
        ["XRANGE", `${prefix()}b`, "-", "+"], ["XREVRANGE", `${prefix()}b`, "+", "-", "COUNT", "3"], ["DUMP", `${prefix()}b`],
      ]);
    });

    it("random XADD/XDEL/XTRIM/XRANGE/XREAD sequences under small node limits keep DUMP bytes equal", async () => {
      for (const [maxEntries, maxBytes] of [[3, 4096], [100, 4096], [7, 150], [0, 0], [100, 1]]) {
        for (const conn of [suite.pair.redis, suite.pair.respite]) {
          await conn.call("CONFIG", "SET", "stream-node-max-entries", String(maxEntries));
          await conn.call("CONFIG", "SET", "stream-node-max-bytes", String(maxBytes));
        }
        try {
          for (let seed = 1; seed <= 3; seed++) await randomRun(seed * 100 + maxEntries + maxBytes);
        } finally {
          for (const conn of [suite.pair.redis, suite.pair.respite]) {
            await conn.call("CONFIG", "SET", "stream-node-max-entries", "100");
            await conn.call("CONFIG", "SET", "stream-node-max-bytes", "4096");
          }
        }
      }
    });

    async function randomRun(seed: number): Promise<void> {
      section++;
      const r = rng(seed);
      const key = `${prefix()}rand`;
      const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
      const fieldNames = ["a", "b", "c", "12", "field"];
      const value = () => pick(["1", "0", "-5", "xyz", "", "4096", "9999999999", String(Math.floor(r() * 1e6)), "\x00\xff"]);
      let ms = 1;
      const ids: string[] = [];
      for (let batch = 0; batch < 8; batch++) {
        const cmds: Arg[][] = [];
        for (let i = 0; i < 40; i++) {
          const roll = r();
          if (roll < 0.6) {
            if (r() < 0.6) ms += Math.floor(r() * 3);
            const nf = 1 + Math.floor(r() * 3);
            const fv: string[] = [];
            const shared = r() < 0.6;
            for (let f = 0; f < nf; f++) fv.push(shared ? fieldNames[f] : pick(fieldNames), value());
            const trim = r() < 0.15 ? pick([["MAXLEN", "~", "20"], ["MAXLEN", "30"], ["MINID", "~", String(ms - 5)], ["MINID", String(ms - 8)]]) : [];
            const id = r() < 0.7 ? `${ms}-*` : `${ms}-${Math.floor(r() * 4)}`;
            cmds.push(["XADD", key, ...trim, id, ...fv]);
            ids.push(`${ms}-0`, `${ms}-1`);
          } else if (roll < 0.72 && ids.length) {
            cmds.push(["XDEL", key, pick(ids), pick(ids)]);
          } else if (roll < 0.78) {
            cmds.push(["XTRIM", key, ...pick([["MAXLEN", "~", "10"], ["MAXLEN", String(Math.floor(r() * 40))], ["MINID", `${ms - 3}`], ["MINID", "~", `${ms - 2}`, "LIMIT", "3"]])]);
          } else if (roll < 0.88) {
            const a = Math.floor(r() * (ms + 1));
            const b = a + Math.floor(r() * 10);
            cmds.push(r() < 0.5 ? ["XRANGE", key, `(${a}`, `${b}`, "COUNT", String(1 + Math.floor(r() * 5))] : ["XREVRANGE", key, `${b}`, `${a}`]);
          } else if (roll < 0.95) {
            cmds.push(["XREAD", "COUNT", String(Math.floor(r() * 4)), "STREAMS", key, `${Math.floor(r() * (ms + 1))}-0`]);
          } else cmds.push(["XLEN", key]);
        }
        cmds.push(["DUMP", key], ["XRANGE", key, "-", "+"]);
        await compare(suite.pair, cmds.map((c) => c.map(bytes)), seed);
      }
    }

    it("DUMP/RESTORE both ways between redis-server and Respite, stream with empty and tombstoned nodes", async () => {
      section++;
      const k = `${prefix()}dr`;
      const cmds: string[][] = [];
      for (let i = 1; i <= 250; i++) cmds.push(["XADD", k, `${i}-0`, "f", String(i), ...(i % 3 ? [] : ["g", "x"])]);
      cmds.push(["XDEL", k, "5-0", "150-0", "250-0"], ["XTRIM", k, "MAXLEN", "200"], ["XSETID", k, "300-0", "ENTRIESADDED", "400"]);
      await suite.pair.redis.pipeline(cmds);
      const fromRedis = await suite.pair.redis.call("DUMP", k);
      const payload = Buffer.from(fromRedis.subarray(fromRedis.indexOf("\r\n") + 2, fromRedis.length - 2));
      assert.equal(text(await suite.pair.respite.call("RESTORE", k, "0", payload)), "+OK\r\n");
      assert.equal(show(await suite.pair.respite.call("DUMP", k)), show(fromRedis));
      await same(["XRANGE {dr} - + COUNT 5", "XREVRANGE {dr} + - COUNT 5", "XLEN {dr}"]);
      const empty = `${prefix()}empty`;
      await suite.pair.respite.pipeline([["XADD", empty, "1-1", "a", "b"], ["XDEL", empty, "1-1"]]);
      const mine = await suite.pair.respite.call("DUMP", empty);
      const minePayload = Buffer.from(mine.subarray(mine.indexOf("\r\n") + 2, mine.length - 2));
      assert.equal(text(await suite.pair.redis.call("RESTORE", empty, "0", minePayload)), "+OK\r\n");
      await same(["XLEN {empty}", "DUMP {empty}", "XADD {empty} 1-1 a b", "XADD {empty} 1-2 a b", "DUMP {empty}"]);
    });

    it("sanitize-dump-payload yes: RESTORE refuses a node whose counters or entries do not add up, as redis-server does", async () => {
      section++;
      const k = `${prefix()}san`;
      const both = [suite.pair.redis, suite.pair.respite];
      for (const conn of both) {
        await conn.call("CONFIG", "SET", "rdbcompression", "no");
        await conn.call("CONFIG", "SET", "sanitize-dump-payload", "yes");
      }
      try {
        await same(["XADD {san} 1-1 a 1 b 2", "XADD {san} 1-2 a 3 b 4", "XADD {san} 2-0 c 5", "XDEL {san} 1-2"]);
        const reply = await suite.pair.redis.call("DUMP", k);
        const payload = Buffer.from(reply.subarray(reply.indexOf("\r\n") + 2, reply.length - 2));
        // type, node count, the 16-byte key as a string, the listpack's length, then its 6-byte header: the master count.
        const lpAt = 1 + 1 + 17 + 1;
        const corrupt = (at: number, byte: number) => {
          const p = Buffer.from(payload);
          p[lpAt + at] = byte;
          p.writeBigUInt64LE(crc64(p.subarray(0, p.length - 8)), p.length - 8);
          return p;
        };
        assert.equal(payload[lpAt + 6], 2, "the master count of live entries");
        for (const bad of [corrupt(6, 3), corrupt(6, 0), corrupt(8, 0), corrupt(8, 2), corrupt(7, 2)]) {
          const [r] = await compare(suite.pair, [[Buffer.from("RESTORE"), Buffer.from(`${k}x`), Buffer.from("0"), bad]]);
          assert.equal(text(r), "-ERR Bad data format\r\n");
        }
        await compare(suite.pair, [[Buffer.from("RESTORE"), Buffer.from(`${k}ok`), Buffer.from("0"), payload]]);
        await same(["XRANGE {sanok} - +", "DUMP {sanok}"]);
      } finally {
        for (const conn of both) {
          await conn.call("CONFIG", "SET", "rdbcompression", "yes");
          await conn.call("CONFIG", "SET", "sanitize-dump-payload", "no");
        }
      }
    });

    it("consumer groups persist: DUMP/RESTORE both ways keep PELs, times and counters byte for byte; the AOF rewrite replays them", async () => {
      section++;
      const k = `${prefix()}cg`;
      const setup = (key: string): string[][] => {
        const cmds: string[][] = [];
        for (let i = 1; i <= 30; i++) cmds.push(["XADD", key, `${i}-1`, "f", String(i)]);
        cmds.push(
          ["XGROUP", "CREATE", key, "g1", "0"], ["XGROUP", "CREATE", key, "g2", "$"], ["XGROUP", "CREATE", key, "a\x00b", "5-1"],
          ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "7", "STREAMS", key, ">"],
          ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", key, ">"],
          ["XREADGROUP", "GROUP", "a\x00b", "zed", "NOACK", "COUNT", "2", "STREAMS", key, ">"],
          ["XACK", key, "g1", "2-1", "9-1"], ["XCLAIM", key, "g1", "bob", "0", "3-1", "RETRYCOUNT", "5"],
          ["XGROUP", "CREATECONSUMER", key, "g2", "idle"], ["XDEL", key, "4-1", "20-1"],
        );
        return cmds;
      };
      const payloadOf = (reply: Buffer) => Buffer.from(reply.subarray(reply.indexOf("\r\n") + 2, reply.length - 2));
      // redis-server -> Respite
      await suite.pair.redis.pipeline(setup(k));
      const fromRedis = await suite.pair.redis.call("DUMP", k);
      assert.equal(text(await suite.pair.respite.call("RESTORE", k, "0", payloadOf(fromRedis))), "+OK\r\n");
      assert.equal(show(await suite.pair.respite.call("DUMP", k)), show(fromRedis));
      await same(["XINFO STREAM {cg} FULL", "XPENDING {cg} g1", "XINFO GROUPS {cg}", "XINFO CONSUMERS {cg} g2"].slice(0, 3));
      // Respite -> redis-server
      const k2 = `${prefix()}cg2`;
      await suite.pair.respite.pipeline(setup(k2));
      const mine = await suite.pair.respite.call("DUMP", k2);
      assert.equal(text(await suite.pair.redis.call("RESTORE", k2, "0", payloadOf(mine))), "+OK\r\n");
      assert.equal(show(await suite.pair.redis.call("DUMP", k2)), show(mine));
      // The AOF rewrite (XADD, XSETID, XGROUP CREATE ... ENTRIESREAD, XCLAIM ... FORCE, CREATECONSUMER): the same
      // base file bytes as redis-server's rewrite of the same value, and redis-server replays it to the same groups.
      const rewrite = async (start: () => Promise<ServerHandle>, dir: string): Promise<string> => {
        const server = await start();
        try {
          const conn = await RawConnection.connect(server.port);
          await conn.call("RESTORE", "cg", "0", payloadOf(mine));
          await conn.call("CONFIG", "SET", "appendonly", "yes");
          const aofDir = path.join(dir, "appendonlydir");
          await until(async () => /aof_rewrite_in_progress:0/.test(text(await conn.call("INFO", "persistence"))) &&
            fs.existsSync(aofDir) && fs.readdirSync(aofDir).some((f) => f.includes(".base.aof")), () => "AOF rewrite");
          conn.close();
          return fs.readFileSync(path.join(aofDir, fs.readdirSync(aofDir).find((f) => f.includes(".base.aof"))!), "latin1");
        } finally {
          await server.stop();
        }
      };
      const [dirA, dirB] = [tmpDir(), tmpDir()];
      const opts = (dir: string) => ["--dir", dir, "--aof-use-rdb-preamble", "no"];
      const ours = await rewrite(() => startRespite(rt, opts(dirA)), dirA);
      const theirs = await rewrite(() => startRedis(opts(dirB)), dirB);
      assert.equal(show(Buffer.from(ours, "latin1")), show(Buffer.from(theirs, "latin1")));
      const replayed: string[] = [];
      for (const dir of [dirA, dirB]) {
        const redisSrv = await startRedis(["--dir", dir, "--appendonly", "yes"]);
        try {
          const rc = await connectLoaded(redisSrv);
          // Seen times are when XCLAIM replayed.
          replayed.push(text(await rc.call("XINFO", "STREAM", "cg", "FULL")).replace(/\$9\r\nseen-time\r\n:\d+\r\n/g, ""));
          rc.close();
        } finally {
          await redisSrv.stop();
        }
      }
      assert.equal(replayed[0], replayed[1]);
    });

    it("COPY, MEMORY USAGE, OBJECT ENCODING, TYPE, keyspace events", async () => {
      section++;
      await same(["XADD {c} 1-1 a 1", "XADD {c} 2-1 b 2", "COPY {c} {c2}", "XDEL {c} 1-1", "XRANGE {c2} - +", "DUMP {c2}",
        "TYPE {c2}", "OBJECT ENCODING {c2}", "RENAME {c2} {c3}", "DUMP {c3}", "DEBUG DIGEST-VALUE {c3} {c}",
        ["XADD", `${prefix()}c`, "3-1", "\x00bin", "\xff\x00"], "DEBUG DIGEST-VALUE {c}", "XDEL {c} 2-1 3-1", "DEBUG DIGEST-VALUE {c}"]);
      const usage = Number(text(await suite.pair.respite.call("MEMORY", "USAGE", `${prefix()}c3`)).slice(1));
      assert.ok(usage > 50 && usage < 10_000, `MEMORY USAGE ${usage}`);
      const sub = await RawConnection.connect(suite.respite.port);
      await suite.pair.respite.call("CONFIG", "SET", "notify-keyspace-events", "KEt");
      try {
        await sub.call("PSUBSCRIBE", "__keyspace@0__:*");
        await suite.pair.respite.pipeline(commands(prefix(), [
          "XADD {ev} MAXLEN 1 1-1 a 1", "XADD {ev} MAXLEN 1 2-1 a 1", "XDEL {ev} 2-1", "XSETID {ev} 5-5", "XADD {ev} 6-1 a 1",
          "XTRIM {ev} MAXLEN 0",
        ]));
        const events = (await sub.readReplies(7)).map((b) => text(b).split("\r\n").at(-2));
        assert.deepEqual(events, ["xadd", "xadd", "xtrim", "xdel", "xsetid", "xadd", "xtrim"]);
      } finally {
        sub.close();
        await suite.pair.respite.call("CONFIG", "SET", "notify-keyspace-events", "");
      }
    });

    it("XREAD BLOCK: served FIFO by XADD with the one key that got data, $, COUNT, timeouts, CLIENT UNBLOCK — as redis-server", async () => {
      section++;
      const scenario = async (port: number, p: string): Promise<string[]> => {
        const ctl = await RawConnection.connect(port);
        const ws = [await RawConnection.connect(port), await RawConnection.connect(port), await RawConnection.connect(port)];
        const out: string[] = [];
        try {
          await ctl.call("XADD", `${p}x`, "1-1", "old", "1");
          ws[0].write(encodeCommand(["XREAD", "BLOCK", "0", "STREAMS", `${p}x`, `${p}y`, "$", "$"]));
          await blockedClients(ctl, 1);
          ws[1].write(encodeCommand(["XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", `${p}y`, "0"]));
          await blockedClients(ctl, 2);
          ws[2].write(encodeCommand(["XREAD", "BLOCK", "0", "STREAMS", `${p}y`, "5-0"]));
          await blockedClients(ctl, 3);
          // Writes that add nothing newer leave everyone waiting.
          out.push(text(await ctl.call("XADD", `${p}x`, "1-2", "f", "v")));
          out.push(text(await ctl.call("XDEL", `${p}x`, "1-2")));
          out.push(text(await ctl.call("XADD", `${p}y`, "2-1", "a", "1")));
          out.push(text((await ws[0].readReplies(1))[0]), text((await ws[1].readReplies(1))[0]));
          await blockedClients(ctl, 1);
          out.push(text(await ctl.call("XADD", `${p}y`, "3-1", "b", "2")));
          out.push(text(await ctl.call("DEL", `${p}y`)));
          // An XSETID past the reader's ID wakes nobody (only additions do); the next XADD serves it.
          out.push(text(await ctl.call("XADD", `${p}y`, "1-1", "c", "3")), text(await ctl.call("XSETID", `${p}y`, "9-0")));
          out.push(text(await ctl.call("CLIENT", "LIST")).match(/flags=b/g)!.length.toString());
          out.push(text(await ctl.call("XADD", `${p}y`, "9-1", "d", "4")));
          out.push(text((await ws[2].readReplies(1))[0]));
          await blockedClients(ctl, 0);
          ws[0].write(encodeCommand(["XREAD", "BLOCK", "20", "STREAMS", `${p}none`, "0"]));
          out.push(text((await ws[0].readReplies(1))[0]));
          await ws[1].call("HELLO", "3");
          ws[1].write(encodeCommand(["XREAD", "BLOCK", "0", "STREAMS", `${p}z`, "0"]));
          await blockedClients(ctl, 1);
          out.push(text(await ctl.call("XADD", `${p}z`, "1-1", "f", "v")));
          out.push(text((await ws[1].readReplies(1))[0]));
          ws[1].write(encodeCommand(["XREAD", "BLOCK", "0", "STREAMS", `${p}z`, "$"]));
          await blockedClients(ctl, 1);
          const list = text(await ctl.call("CLIENT", "LIST"));
          const blockedId = /id=(\d+)[^\n]*flags=b/.exec(list)![1];
          out.push(text(await ctl.call("CLIENT", "UNBLOCK", blockedId)));
          out.push(text((await ws[1].readReplies(1))[0]));
          ws[1].write(encodeCommand(["XREAD", "BLOCK", "0", "STREAMS", `${p}z`, "$"]));
          await blockedClients(ctl, 1);
          out.push(text(await ctl.call("CLIENT", "UNBLOCK", blockedId, "ERROR")));
          out.push(text((await ws[1].readReplies(1))[0]));
          ws[2].write(encodeCommand(["XREAD", "BLOCK", "0", "STREAMS", `${p}many`, "0"]));
          await blockedClients(ctl, 1);
          const many: string[][] = [["MULTI"]];
          for (let i = 1; i <= 1200; i++) many.push(["XADD", `${p}many`, `${i}-1`, "i", String(i)]);
          many.push(["EXEC"]);
          await ctl.pipeline(many);
          const served = text((await ws[2].readReplies(1))[0]);
          out.push(served.slice(0, 40), String((served.match(/\r\n\*2\r\n\$\d+\r\n\d+-1\r\n/g) ?? []).length));
          return out;
        } finally {
          ctl.close();
          for (const w of ws) w.close();
        }
      };
      const p = prefix();
      const [a, b] = [await scenario(redis().port, p), await scenario(suite.respite.port, p)];
      assert.deepEqual(b, a);
    });

    it("XADD * propagates its ID and ~ trims propagate exactly: the AOF replays to the same DUMP", async () => {
      const dir = tmpDir();
      const server = await startRespite(rt, ["--dir", dir, "--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--stream-node-max-entries", "5"]);
      try {
        const conn = await RawConnection.connect(server.port);
        const cmds: string[][] = [];
        for (let i = 0; i < 60; i++) cmds.push(["XADD", "p", "MAXLEN", "~", "12", "*", "n", String(i)]);
        cmds.push(["XTRIM", "p", "MINID", "~", "0"], ["XADD", "q", "5-*", "a", "b"], ["XADD", "q", "5-*", "a", "b"]);
        await conn.pipeline(cmds);
        const before = [text(await conn.call("DUMP", "p")), text(await conn.call("DUMP", "q"))];
        conn.close();
        await server.stop();
        const aofDir = path.join(dir, "appendonlydir");
        const incr = fs.readdirSync(aofDir).find((f) => f.includes(".incr."))!;
        const aof = fs.readFileSync(path.join(aofDir, incr), "latin1");
        assert.ok(!aof.includes("\r\n*\r\n"), "XADD * written with its ID");
        assert.ok(!aof.includes("\r\n~\r\n"), "~ written as =");
        assert.match(aof, /\$1\r\n=\r\n\$2\r\n1\d\r\n/);
        const redisSrv = await startRedis(["--dir", dir, "--appendonly", "yes", "--stream-node-max-entries", "5"]);
        try {
          const rc = await connectLoaded(redisSrv);
          assert.deepEqual([text(await rc.call("DUMP", "p")), text(await rc.call("DUMP", "q"))], before);
          rc.close();
        } finally {
          await redisSrv.stop();
        }
      } finally {
        await server.stop().catch(() => {});
      }
    });

    it("RDB both ways and AOF rewrite: redis-server loads Respite's files and Respite loads redis-server's, DUMP equal", async () => {
      section++;
      const build: string[][] = [];
      for (let i = 1; i <= 300; i++) build.push(["XADD", "s1", `${i}-${i % 4}`, "k", String(i), ...(i % 5 ? [] : ["bin", "\x00\x01\xff"])]);
      build.push(["XDEL", "s1", "10-2", "200-0"], ["XTRIM", "s1", "MINID", "50"], ["XADD", "s2", "1-1", "a", "b"], ["XDEL", "s2", "1-1"]);
      build.push(["XADD", "s3", `${MAX}-${MAX}`, "last", "one"], ["SET", "plain", "x"]);
      const keys = ["s1", "s2", "s3"];
      const dumps = async (conn: RawConnection) => (await conn.pipeline(keys.map((k) => ["DUMP", k]))).map(text);
      // What an AOF rewrite keeps (entries and counters; not the node layout): redis-server's XINFO STREAM without the radix-tree lines.
      const content = async (conn: RawConnection) => (await conn.pipeline(keys.flatMap((k) => [["XRANGE", k, "-", "+"], ["XINFO", "STREAM", k]])))
        .map((b) => text(b).replace(/\$15\r\nradix-tree-keys\r\n:\d+\r\n\$16\r\nradix-tree-nodes\r\n:\d+\r\n/, ""));
      // redis-server builds the reference and its dump.rdb.
      const dir2 = tmpDir();
      const srv = await startRedis(["--dir", dir2]);
      let fromRedis: string[];
      let reference: string[];
      try {
        const rc = await RawConnection.connect(srv.port);
        await rc.pipeline(build);
        fromRedis = await dumps(rc);
        reference = await content(rc);
        await rc.call("SAVE");
        rc.close();
      } finally {
        await srv.stop();
      }
      // Respite builds the same (same DUMP bytes), saves an RDB and rewrites an AOF.
      const dir = tmpDir();
      const mine = await startRespite(rt, ["--dir", dir]);
      try {
        const conn = await RawConnection.connect(mine.port);
        await conn.pipeline(build);
        assert.deepEqual(await dumps(conn), fromRedis!);
        assert.equal(text(await conn.call("SAVE")), "+OK\r\n");
        await conn.call("CONFIG", "SET", "aof-use-rdb-preamble", "no");
        await conn.call("CONFIG", "SET", "appendonly", "yes");
        await until(async () => /aof_rewrite_in_progress:0/.test(text(await conn.call("INFO", "persistence"))) &&
          fs.existsSync(path.join(dir, "appendonlydir")) &&
          fs.readdirSync(path.join(dir, "appendonlydir")).some((f) => f.includes(".base.aof")), () => "AOF rewrite");
        conn.close();
      } finally {
        await mine.stop();
      }
      assert.equal(checkRdb(path.join(dir, "dump.rdb")).status, 0);
      const rdbDir = tmpDir();
      fs.copyFileSync(path.join(dir, "dump.rdb"), path.join(rdbDir, "dump.rdb"));
      for (const [d, extra] of [[rdbDir, []], [dir, ["--appendonly", "yes"]]] as Array<[string, string[]]>) {
        const redisSrv = await startRedis(["--dir", d, ...extra]);
        try {
          const rc = await connectLoaded(redisSrv);
          if (extra.length === 0) assert.deepEqual(await dumps(rc), fromRedis!);
          assert.deepEqual(await content(rc), reference!);
          rc.close();
        } finally {
          await redisSrv.stop();
        }
      }
      // redis-server's dump.rdb loads into Respite with the same DUMP bytes.
      const loaded = await startRespite(rt, ["--dir", dir2]);
      try {
        const conn = await connectLoaded(loaded);
        assert.deepEqual(await dumps(conn), fromRedis!);
        assert.equal(text(await conn.call("XLEN", "s1")), ":250\r\n");
        conn.close();
      } finally {
        await loaded.stop();
      }
    });
  });
}
