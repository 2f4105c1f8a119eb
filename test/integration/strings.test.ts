/**
 * The string commands, differential against one redis-server per run and
 * byte for byte: hand-written edge cases for every command, binary and
 * 1 MB values, size limits, expired keys, and long randomized sequences
 * with fixed seeds. Each runtime's keys carry its own prefix so the one
 * redis-server serves every runtime. The command table entries are also
 * checked against the real COMMAND INFO.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, sharedRedis } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { DiffPair, diffSuite, rng, show } from "../lib/diff.ts";
import { decodeReplies, type RespValue } from "../../core/resp/decoder.ts";
import { CommandTable } from "../../core/commands/table.ts";
import { stringCommands } from "../../core/commands/strings.ts";

/** Arguments are bytes: a JS string here is binary, one char per byte. */
type Arg = string | Buffer;
type Command = Buffer[];
const bytes = (s: Arg) => (typeof s === "string" ? Buffer.from(s, "latin1") : s);

/**
 * Builds commands from lines of words ('quoted' words may hold spaces or be
 * empty) or argument lists; `{name}` becomes a key under the prefix.
 */
function commands(prefix: string, lines: Array<string | Arg[]>): Command[] {
  const arg = (a: Arg) => (typeof a === "string" ? bytes(a.replace(/\{(\w+)\}/g, (_, k) => prefix + k)) : a);
  const words = (line: string) => line.match(/'[^']*'|\S+/g)!.map((w) => (w.startsWith("'") ? w.slice(1, -1) : w));
  return lines.map((l) => (typeof l === "string" ? words(l) : l).map(arg));
}

const STRING_COMMANDS = [
  "get", "set", "setnx", "setex", "psetex", "mget", "mset", "msetnx", "getset", "getdel", "getex", "append",
  "strlen", "incr", "decr", "incrby", "decrby", "incrbyfloat", "getrange", "setrange", "substr", "lcs",
];

const redis = sharedRedis();

/** A decoded reply with bulk strings as text, for comparing COMMAND INFO structures. */
function plain(v: RespValue): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("latin1");
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

/** RESP2 maps arrive as flat [key, value, ...] arrays. */
function pairs(list: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < list.length; i += 2) out[String(list[i])] = list[i + 1];
  return out;
}

describe("string command table", () => {
  it("matches redis-server's COMMAND INFO: arity, flags, keys, ACL categories, tips, key specs", async () => {
    const conn = await RawConnection.connect(redis().port);
    const reply = await conn.call("COMMAND", "INFO", ...STRING_COMMANDS);
    conn.close();
    const infos = plain(decodeReplies(reply).values[0]) as unknown[][];
    const table = new CommandTable();
    table.add(stringCommands);
    for (const info of infos) {
      const [name, arity, flags, first, last, step, acl, tips, specs] = info as [
        string, number, string[], number, number, number, string[], string[], unknown[][],
      ];
      const cmd = table.get(name);
      assert.ok(cmd, `${name} is registered`);
      assert.equal(cmd.arity, arity, `${name} arity`);
      assert.deepEqual([...cmd.flagList].sort(), [...flags].sort(), `${name} flags`);
      assert.deepEqual([cmd.firstKey, cmd.lastKey, cmd.keyStep], [first, last, step], `${name} key positions`);
      assert.deepEqual(cmd.acl.map((a) => "@" + a).sort(), [...acl].sort(), `${name} ACL categories`);
      assert.deepEqual((cmd.def.tips ?? "").split(" ").filter(Boolean), tips, `${name} tips`);
      assert.equal(specs.length, 1, `${name} has one key spec`);
      const spec = pairs(specs[0]);
      const mine = cmd.def.keySpecs?.[0];
      assert.deepEqual(mine ? mine.flags.split(" ") : cmd.keySpec, spec.flags, `${name} key spec flags`);
      assert.equal(mine?.notes, spec.notes, `${name} key spec notes`);
      const range = pairs(pairs(spec.find_keys as unknown[]).spec as unknown[]);
      const lastKey = cmd.lastKey < 0 ? cmd.lastKey : cmd.lastKey - cmd.firstKey;
      assert.deepEqual([lastKey, cmd.keyStep], [range.lastkey, range.keystep], `${name} key spec range`);
    }
    assert.equal(infos.length, STRING_COMMANDS.length);
  });
});

for (const rt of RUNTIMES) {
  describe(`string commands on ${rt}`, () => {
    const suite = diffSuite(redis, rt);
    /** Keys of one test: runtime and test name, so nothing leaks between tests or runtimes. */
    let section = 0;
    const prefix = () => `${rt}:${section}:`;
    const same = (lines: Array<string | Arg[]>) => compare(suite.pair, commands(prefix(), lines));


    it("SET: options, conflicts and expire times", async () => {
      section++;
      await same([
        "SET {k} v", "GET {k}", "SET {k} v2 XX", "GET {k}", "SET {k} v3 NX", "SET {new} v NX", "SET {missing} v XX",
        "GET {missing}", "SET {k} v GET", "SET {k} w get", "SET {nokey} v GET", "SET {k} x NX GET", "SET {none2} x XX GET",
        "SET {k} v EX 100", "TTL {k}", "SET {k} v KEEPTTL", "TTL {k}", "SET {k} v", "TTL {k}", "SET {k} v PX 100000",
        "TTL {k}", "SET {k} v EXAT 99999999999", "SET {k} v PXAT 99999999999999", "SET {k} v EX 10 EX 100", "TTL {k}",
        "SET {k} v ex 10 px 100", "SET {k} v NX XX", "SET {k} v XX NX", "SET {k} v NX NX", "SET {k} v KEEPTTL EX 10",
        "SET {k} v EX 10 KEEPTTL", "SET {k} v EXAT 10 PXAT 10", "SET {k} v EX", "SET {k} v PERSIST", "SET {k} v FOO",
        "SET {k} v EX 0", "SET {k} v EX -1", "SET {k} v PX 0", "SET {k} v EXAT 0", "SET {k} v EX abc", "SET {k} v EX 1.5",
        "SET {k} v EX 9223372036854775", "SET {k} v EX 9223372036854776", "SET {k} v PX 9223372036854775807",
        "SET {k} v EXAT 9223372036854775", "SET {k} v PXAT 9223372036854775807", "SET {k} v EX 99999999999999999999",
        "SET {k} v EX abc NX XX", "SET {k} v XX EX 0", "GET {k}", "SET {k} v EXAT 1", "GET {k}", "SET {k} v PXAT 1 GET",
        "SET {k}", "SET", "SET {k} 12", "SET {k} 13 GET", "SET {k} -0", "GET {k}", "SET {k} 007 GET", "GET {k}",
      ]);
    });

    it("SETNX SETEX PSETEX GETSET GETDEL GETEX", async () => {
      section++;
      await same([
        "SETNX {a} 1", "SETNX {a} 2", "GET {a}", "SETNX {a}", "SETEX {b} 100 v", "TTL {b}", "GET {b}", "SETEX {b} 0 v",
        "SETEX {b} -10 v", "SETEX {b} x v", "SETEX {b} 9223372036854775807 v", "SETEX {b} 100", "PSETEX {c} 100000 v",
        "TTL {c}", "PSETEX {c} 0 v", "PSETEX {c} abc v", "PSETEX {c} 9223372036854775807 v", "GETSET {b} new",
        "TTL {b}", "GET {b}", "GETSET {none} v", "GET {none}", "GETSET {b}", "GETDEL {b}", "GETDEL {b}", "EXISTS {b}",
        "GETDEL {a} extra", "SET {e} val", "GETEX {e}", "GETEX {e} EX 100", "TTL {e}", "GETEX {e} PERSIST", "TTL {e}",
        "GETEX {e} PX 100000", "TTL {e}", "GETEX {e} EXAT 99999999999", "GETEX {e} PXAT 99999999999999", "GETEX {e} EX 0",
        "GETEX {e} EX -1", "GETEX {e} EX abc", "GETEX {e} EX", "GETEX {e} EX 10 PX 10", "GETEX {e} PERSIST EX 10",
        "GETEX {e} EX 10 PERSIST", "GETEX {e} NX", "GETEX {e} KEEPTTL", "GETEX {e} GET", "GETEX {e} FOO",
        "GETEX {e} EX 10 EX 20", "TTL {e}", "GETEX {nokey} EX -1", "GETEX {nokey} EX abc", "GETEX {nokey} PERSIST",
        "GETEX {e} EXAT 1", "EXISTS {e}", "SET {e} v", "GETEX {e} PXAT 1", "GET {e}", "GETEX", "SET {e} 123",
        "GETEX {e} persist", "GETEX {e} ex 9223372036854775807",
      ]);
    });

    it("MGET MSET MSETNX", async () => {
      section++;
      await same([
        "MSET {a} 1 {b} 2 {c} 3", "MGET {a} {b} {c} {d}", "MSET {a}", "MSET {a} 1 {b}", "MSET", "MSETNX {a} 9 {x} 9",
        "MGET {a} {x}", "MSETNX {x} 1 {y} 2", "MGET {x} {y}", "MSETNX {z} 1 {z} 2", "GET {z}", "MSETNX {q}",
        "SET {t} v EX 100", "MSET {t} w", "TTL {t}", "MSET {a} x {a} y", "GET {a}", "MGET {a}", "MGET", "MGET {nothing}",
      ]);
    });

    it("INCR DECR INCRBY DECRBY near the int64 limits", async () => {
      section++;
      await same([
        "INCR {n}", "INCR {n}", "DECR {n}", "DECR {m}", "INCRBY {n} 10", "INCRBY {n} -25", "DECRBY {n} 7",
        "DECRBY {n} -7", "GET {n}", "SET {n} 9007199254740991", "INCR {n}", "INCR {n}", "INCR {n}", "DECRBY {n} 3",
        "SET {n} -9007199254740992", "DECR {n}", "DECR {n}", "INCRBY {n} 18014398509481984",
        "SET {n} 9223372036854775806", "INCR {n}", "INCR {n}", "GET {n}", "SET {n} -9223372036854775807", "DECR {n}",
        "DECR {n}", "DECRBY {n} 1", "INCRBY {n} 9223372036854775807", "INCRBY {n} -1", "DECRBY {n} -9223372036854775808",
        "DECRBY {z} -9223372036854775808", "DECRBY {z} 9223372036854775807", "DECRBY {z} 1", "DECRBY {z} 1",
        "INCRBY {n} 9223372036854775808", "INCRBY {n} 1.5", "INCRBY {n} abc", "INCRBY {n} +1", "INCRBY {n} 01",
        "INCRBY {n} -0", "INCRBY {n} ''", "SET {s} abc", "INCR {s}", "SET {s} 1.0", "INCR {s}", "SET {s} -0", "INCR {s}",
        "SET {s} 01", "DECR {s}", "SET {s} +5", "INCR {s}", "SET {s} ' 5'", "INCR {s}", ["SET", "{s}", ""], "INCR {s}",
        "SET {s} 9223372036854775808", "INCR {s}", "SET {t} 5 EX 100", "INCR {t}", "TTL {t}", "INCR", "INCR {a} {b}",
        "APPEND {ap} 12", "INCR {ap}", "APPEND {ap} 3", "INCRBY {ap} 100", "GET {ap}",
      ]);
    });

    it("INCRBYFLOAT: long double precision, formatting and errors", async () => {
      section++;
      await same([
        "INCRBYFLOAT {f} 0.1", "INCRBYFLOAT {f} 0.2", "INCRBYFLOAT {f} -0.3", "SET {g} 10.5", "INCRBYFLOAT {g} 0.1",
        "INCRBYFLOAT {g} 1e308", "INCRBYFLOAT {g} 1e308", "SET {h} 1e4000", "INCRBYFLOAT {h} 1", "INCRBYFLOAT {h} -1e4000",
        "INCRBYFLOAT {i} 1.18e4932", "INCRBYFLOAT {i} 1.19e4932", "INCRBYFLOAT {j} 1e-4940", "INCRBYFLOAT {j} 1e-5000",
        "INCRBYFLOAT {k} inf", "INCRBYFLOAT {k} -inf", "INCRBYFLOAT {k} nan", "INCRBYFLOAT {k} abc", "INCRBYFLOAT {k} ' 1'",
        "INCRBYFLOAT {k} '1 '", "INCRBYFLOAT {k} 0x1p4", "INCRBYFLOAT {k} 0X.8", "INCRBYFLOAT {k} 1.", "INCRBYFLOAT {k} .5",
        "INCRBYFLOAT {k} .", "INCRBYFLOAT {k} +.5e1", "INCRBYFLOAT {k} 1e", "INCRBYFLOAT {k} -0", "INCRBYFLOAT {k} -1e-30",
        "SET {l} inf", "INCRBYFLOAT {l} 1", "SET {l} 9007199254740993", "INCRBYFLOAT {l} 0", "INCRBYFLOAT {l} 0.5",
        "SET {l} 9223372036854775807", "INCRBYFLOAT {l} 1", "SET {l} 18446744073709551617", "INCRBYFLOAT {l} 0",
        "SET {l} 1.0000000000000000000000001", "INCRBYFLOAT {l} 0", "SET {m} 5 PX 100000", "INCRBYFLOAT {m} 1.5",
        "TTL {m}", ["INCRBYFLOAT", "{k}", "1.5\0"], ["SET", "{z}", ""], "INCRBYFLOAT {z} 1", "INCRBYFLOAT {k} 1e-20",
        "INCRBYFLOAT {f2} 0.30000000000000004", "INCRBYFLOAT {f2} 123456789.123456789", "INCRBYFLOAT {k}",
        "SET {int} 3", "INCRBYFLOAT {int} 0.5", "INCRBYFLOAT {int} 0.5", "INCR {int}",
      ]);
    });

    it("APPEND STRLEN GETRANGE SUBSTR SETRANGE", async () => {
      section++;
      await same([
        "APPEND {s} hello", "APPEND {s} ' world'", "GET {s}", "STRLEN {s}", "STRLEN {none}", "GETRANGE {s} 0 4",
        "GETRANGE {s} -5 -1", "GETRANGE {s} 6 100", "GETRANGE {s} 5 2", "GETRANGE {s} -1 -5", "GETRANGE {s} -100 2",
        "GETRANGE {s} 0 -100", "GETRANGE {s} 11 11", "GETRANGE {s} -9223372036854775808 9223372036854775807",
        "GETRANGE {s} 0 x", "GETRANGE {s} x 0", "GETRANGE {none} 0 -1", "GETRANGE {none} x 0", "SUBSTR {s} 1 3",
        "SUBSTR {s} -3 -1", "SET {n} 12345", "GETRANGE {n} 1 -2", "STRLEN {n}", "APPEND {n} 6", "GET {n}", "INCR {n}",
        "SETRANGE {s} 6 WORLD", "GET {s}", "SETRANGE {s} 20 end", "GET {s}", "STRLEN {s}", "SETRANGE {s} 0 ''",
        "SETRANGE {new} 3 abc", "GET {new}", "SETRANGE {new2} 5 ''", "EXISTS {new2}", "SETRANGE {s} -1 x",
        "SETRANGE {s} x x", "SETRANGE {s} 536870912 x", "SETRANGE {big} 536870912 x", "SETRANGE {big} 536870911 ''",
        "SETRANGE {s} 9223372036854775807 x", "SET {n} 42", "SETRANGE {n} 1 9", "GET {n}", "INCR {n}",
        "SET {t} abc EX 100", "APPEND {t} def", "SETRANGE {t} 1 X", "TTL {t}", "GET {t}", ["APPEND", "{e}", ""], "GET {e}",
        "STRLEN {e}", "APPEND {e} x", "APPEND", "SETRANGE {s} 1", "STRLEN", "GETRANGE {s} 0",
      ]);
    });

    it("LCS: LEN, IDX, MINMATCHLEN, WITHMATCHLEN; RESP3 replies", async () => {
      section++;
      const lines: Array<string | Arg[]> = [
        "SET {a} ohmytext", "SET {b} mynewtext", "LCS {a} {b}", "LCS {a} {b} LEN", "LCS {a} {b} IDX",
        "LCS {a} {b} IDX MINMATCHLEN 4", "LCS {a} {b} IDX WITHMATCHLEN", "LCS {a} {b} idx minmatchlen 0 withmatchlen",
        "LCS {a} {b} IDX MINMATCHLEN -5 WITHMATCHLEN", "LCS {a} {b} LEN IDX", "LCS {a} {b} IDX LEN", "LCS {a} {b} MINMATCHLEN",
        "LCS {a} {b} MINMATCHLEN x", "LCS {a} {b} FOO", "LCS {a} {b} LEN LEN", "LCS {a} {none}", "LCS {none} {none} IDX",
        "LCS {none} {a} LEN", "LCS {a} {a} IDX WITHMATCHLEN", "SET {c} aaaaaaaaaa", "SET {d} aaa", "LCS {c} {d} IDX",
        "SET {e} ABCBDAB", "SET {f} BDCABA", "LCS {e} {f}", "LCS {e} {f} IDX WITHMATCHLEN", "LCS {f} {e} IDX",
        ["SET", "{g}", "\0\r\n\xff\xfe\0x"], ["SET", "{h}", "\xff\0\r\nx"], "LCS {g} {h}", "LCS {g} {h} IDX", "SET {i} 12345",
        "SET {j} 2468", "LCS {i} {j}", "LCS {a}", "LCS",
      ];
      await same(lines);
      for (const conn of [suite.pair.redis, suite.pair.respite]) await conn.call("HELLO", "3");
      try {
        await same([
          ...lines.filter((l) => typeof l === "string" && l.startsWith("LCS")),
          "GET {none}", "MGET {a} {none}", "SET {none} v XX", "SET {none} v XX GET", "GETEX {none}", "GETDEL {none}",
          "GETSET {none} v", "GETRANGE {none} 0 1", "INCRBYFLOAT {fl} 1.5", "SETNX {a} v", "INCR {n}",
        ]);
      } finally {
        for (const conn of [suite.pair.redis, suite.pair.respite]) await conn.call("HELLO", "2");
      }
    });

    it("appending to a copied value leaves the copy as it was", async (t) => {
      section++;
      const probe = await suite.pair.respite.call("COPY", `${prefix()}x`, `${prefix()}y`);
      if (!probe.toString().startsWith(":")) return t.skip("Respite has no COPY yet");
      await same([
        "SET {a} x", "APPEND {a} yy", "COPY {a} {b}", "APPEND {a} 11", "APPEND {b} 22", "GET {a}", "GET {b}",
        "SETRANGE {b} 0 Z", "GET {a}", "GET {b}", "COPY {b} {c}", "SETRANGE {c} 1 Q", "APPEND {c} 3", "GET {b}", "GET {c}",
      ]);
    });

    it("binary values and 1 MB values round-trip byte for byte", async () => {
      section++;
      const r = rng(7);
      const mb = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < mb.length; i++) mb[i] = Math.floor(r() * 256);
      const binary = "\0a\r\nb\xff\xfe\x80\xc3(\0";
      await same([
        ["SET", "{big}", mb], "GET {big}", "STRLEN {big}", "GETRANGE {big} 1000 1100", "GETRANGE {big} -10 -1",
        ["APPEND", "{big}", "tail\0\r\n"], "STRLEN {big}", "GETRANGE {big} -20 -1", ["SETRANGE", "{big}", "1048570", "\xff\0zz"],
        "GET {big}", ["MSET", "{b1}", mb, "{b2}", binary], "MGET {b1} {b2} {none}", ["GETSET", "{b1}", binary], "GET {b1}",
        "SETRANGE {b3} 1048576 end", "STRLEN {b3}", "GETRANGE {b3} 0 9", "GETRANGE {b3} -4 -1", ["SET", "{b4}", binary],
        ["APPEND", "{b4}", binary], "GET {b4}", "LCS {b1} {b4}", "LCS {b1} {b4} IDX", ["SET", "{k\0\r\n\xff}", binary],
        ["GET", "{k\0\r\n\xff}"], "GETDEL {big}", "GET {big}", ["SET", "{u}", "h\xc3\xa9llo \xe2\x82\xac"], "STRLEN {u}",
        "GETRANGE {u} 1 2",
      ]);
    });

    it("many appends build a value correctly", async () => {
      section++;
      const lines: Array<string | Arg[]> = [];
      for (let i = 0; i < 300; i++) lines.push(["APPEND", "{log}", `entry ${i};\0`.repeat(1 + (i % 7))]);
      lines.push("GET {log}", "STRLEN {log}", "SETRANGE {log} 5 XYZ", "APPEND {log} end", "GET {log}");
      await same(lines);
    });

    it("size limits: proto-max-bulk-len and LCS memory", async () => {
      section++;
      const half = Buffer.alloc(700 * 1024, 0x61);
      try {
        await same([
          "CONFIG SET proto-max-bulk-len 1048576", ["SET", "{k}", half], ["APPEND", "{k}", Buffer.alloc(400 * 1024)],
          "STRLEN {k}", "SETRANGE {k} 1048576 x", "SETRANGE {k} 1048575 x", "STRLEN {k}", "SETRANGE {new} 1048576 x",
          "EXISTS {new}", ["SET", "{small}", Buffer.alloc(600, 0x62)], "LCS {small} {small} LEN", "LCS {k} {small} LEN",
        ]);
      } finally {
        await same(["CONFIG SET proto-max-bulk-len 536870912"]);
      }
    });

    it("WRONGTYPE for every string command on another type", async (t) => {
      section++;
      const probe = await suite.pair.respite.call("SADD", `${prefix()}probe`, "x");
      if (!probe.toString().startsWith(":")) return t.skip("Respite has no set type yet");
      await same([
        "SADD {set} x", "GET {set}", "SET {set} v GET", "GETSET {set} v", "GETDEL {set}", "GETEX {set} EX 10",
        "GETEX {set} EX -1", "APPEND {set} x", "STRLEN {set}", "INCR {set}", "DECRBY {set} 1", "INCRBYFLOAT {set} 1",
        "GETRANGE {set} 0 -1", "GETRANGE {set} x 0", "SETRANGE {set} 0 x", "SETRANGE {set} -1 x", "SETRANGE {set} 0 ''",
        "LCS {set} {none}", "LCS {none} {set} IDX LEN", "MGET {set} {none}", "SADD {set2} x", "SETNX {set2} v",
        "MSETNX {set2} v", "SET {set2} v XX", "GET {set2}", "SADD {set3} x", "SET {set3} v NX GET", "SET {set3} v",
        "GET {set3}",
      ]);
    });

    it("a key past its deadline is never returned", async () => {
      section++;
      await same(["SET {a} value PX 50", "SET {b} 12 PX 50", "SET {c} abc PX 50", "SET {d} 1.5 PX 50"]);
      await new Promise((resolve) => setTimeout(resolve, 120));
      const mine = await same([
        "GET {a}", "STRLEN {a}", "GETRANGE {a} 0 -1", "SUBSTR {a} 0 -1", "MGET {a} {b} {c}", "LCS {a} {c} LEN",
        "GETEX {b}", "GETDEL {c}", "GETSET {d} x", "SET {a} v XX", "SETNX {b} v", "INCR {c}", "APPEND {d} y",
      ]);
      assert.deepEqual(mine.slice(0, 5).map(show), [
        show(Buffer.from("$-1\r\n")),
        show(Buffer.from(":0\r\n")),
        show(Buffer.from("$0\r\n\r\n")),
        show(Buffer.from("$0\r\n\r\n")),
        show(Buffer.from("*3\r\n$-1\r\n$-1\r\n$-1\r\n")),
      ]);
    });

    it("randomized sequences match redis-server byte for byte", async () => {
      section++;
      for (const seed of [1, 2, 3]) {
        const r = rng(seed * 7919 + rt.length);
        const batch: Command[] = [];
        for (let i = 0; i < 1200; i++) {
          batch.push(commands(`${prefix()}${seed}:`, [randomCommand(r)])[0]);
          if (batch.length === 150) await compare(suite.pair, batch.splice(0));
        }
        await compare(suite.pair, batch);
      }
    });
  });
}

/**
 * Sends a pipeline to both servers and compares the replies byte for byte,
 * except TTL, whose value can differ by the milliseconds between the two
 * servers: there only the kind (-2 missing, -1 no deadline, positive) must
 * agree. Returns Respite's replies.
 */
async function compare(pair: DiffPair, cmds: Command[]): Promise<Buffer[]> {
  const [a, b] = await Promise.all([pair.redis.pipeline(cmds), pair.respite.pipeline(cmds)]);
  const kind = (reply: Buffer) => {
    const n = Number(reply.toString().slice(1));
    return n < 0 ? String(n) : "positive";
  };
  for (let i = 0; i < cmds.length; i++) {
    const what = `reply ${i} to ${cmds[i].map((x) => x.toString("latin1")).join(" ")}`;
    if (cmds[i][0].toString().toUpperCase() === "TTL") assert.equal(kind(b[i]), kind(a[i]), what);
    else assert.equal(show(b[i]), show(a[i]), what);
  }
  return b;
}

const VALUES = [
  "0", "1", "-1", "42", "007", "-0", "+1", " 1", "1 ", "9007199254740991", "9007199254740992", "9007199254740993",
  "-9007199254740993", "9223372036854775806", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
  "18446744073709551616", "1.5", "0.1", "-2.25", "10.5", "1e308", "-1e308", "1e-300", "3.0e2", "0x1p4", "inf", "-inf",
  "nan", "", "hello", "\0", "a\r\nb", "\xff\xfe\x80", "x".repeat(300), "ab".repeat(40),
];
const KEYS = ["{a}", "{b}", "{c}", "{d}", "{n}", "{f}"];

function pick<T>(r: () => number, list: T[]): T {
  return list[Math.floor(r() * list.length)];
}

function randomValue(r: () => number): string {
  const p = r();
  if (p < 0.6) return pick(r, VALUES);
  if (p < 0.8) return String(Math.floor(r() * 2000) - 1000);
  if (p < 0.9) return (r() * 1000 - 500).toFixed(Math.floor(r() * 5));
  return Array.from({ length: Math.floor(r() * 24) }, () => String.fromCharCode(Math.floor(r() * 256))).join("");
}

/** Expire options whose deadlines are far away or already past, so nothing expires while the sequence runs. */
function randomExpire(r: () => number): string[] {
  return pick(r, [
    ["EX", pick(r, ["1000", "0", "-5", "abc", "9223372036854775807", "9223372036854775"])],
    ["PX", pick(r, ["1000000", "0", "abc", "9223372036854775807"])],
    ["EXAT", pick(r, ["1", "99999999999", "0", "9223372036854775"])],
    ["PXAT", pick(r, ["1", "99999999999999", "-1"])],
  ]);
}

function randomSetOptions(r: () => number): string[] {
  const out: string[] = [];
  for (let n = Math.floor(r() * 4); n > 0; n--) {
    const o = r();
    if (o < 0.4) out.push(...randomExpire(r));
    else out.push(pick(r, ["NX", "XX", "GET", "KEEPTTL", "nx", "get"]));
  }
  return out;
}

function randomIndex(r: () => number): string {
  return pick(r, ["0", "1", "-1", "3", "-3", "10", "-100", "100", "9223372036854775807", "-9223372036854775808", "x"]);
}

const GENERATORS: Array<[number, (r: () => number) => Arg[]]> = [
  [8, (r) => ["SET", pick(r, KEYS), randomValue(r), ...randomSetOptions(r)]],
  [6, (r) => ["GET", pick(r, KEYS)]],
  [2, (r) => ["SETNX", pick(r, KEYS), randomValue(r)]],
  [1, (r) => ["SETEX", pick(r, KEYS), pick(r, ["1000", "0", "-1", "x"]), randomValue(r)]],
  [1, (r) => ["PSETEX", pick(r, KEYS), pick(r, ["1000000", "0", "x"]), randomValue(r)]],
  [3, (r) => ["MGET", ...KEYS.filter(() => r() < 0.5)]],
  [2, (r) => ["MSET", ...KEYS.filter(() => r() < 0.3).flatMap((k) => [k, randomValue(r)]), ...(r() < 0.1 ? ["{a}"] : [])]],
  [1, (r) => ["MSETNX", ...KEYS.filter(() => r() < 0.3).flatMap((k) => [k, randomValue(r)])]],
  [2, (r) => ["GETSET", pick(r, KEYS), randomValue(r)]],
  [1, (r) => ["GETDEL", pick(r, KEYS)]],
  [2, (r) => ["GETEX", pick(r, KEYS), ...(r() < 0.3 ? ["PERSIST"] : r() < 0.6 ? randomExpire(r) : [])]],
  [4, (r) => ["APPEND", pick(r, KEYS), randomValue(r)]],
  [2, (r) => ["STRLEN", pick(r, KEYS)]],
  [4, (r) => [pick(r, ["INCR", "DECR"]), pick(r, KEYS)]],
  [4, (r) => [pick(r, ["INCRBY", "DECRBY"]), pick(r, KEYS), r() < 0.7 ? String(Math.floor(r() * 200) - 100) : randomValue(r)]],
  [4, (r) => ["INCRBYFLOAT", pick(r, KEYS), r() < 0.5 ? (r() * 100 - 50).toFixed(Math.floor(r() * 4)) : randomValue(r)]],
  [3, (r) => [pick(r, ["GETRANGE", "SUBSTR"]), pick(r, KEYS), randomIndex(r), randomIndex(r)]],
  [3, (r) => ["SETRANGE", pick(r, KEYS), pick(r, ["0", "1", "5", "17", "40", "-1", "x"]), randomValue(r)]],
  [2, (r) => ["LCS", pick(r, KEYS), pick(r, KEYS), ...pick(r, [[], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"], ["IDX", "MINMATCHLEN", "2"]])]],
  [2, (r) => ["TTL", pick(r, KEYS)]],
];
const TOTAL_WEIGHT = GENERATORS.reduce((n, [w]) => n + w, 0);

function randomCommand(r: () => number): Arg[] {
  let x = r() * TOTAL_WEIGHT;
  for (const [w, gen] of GENERATORS) {
    if ((x -= w) < 0) return gen(r);
  }
  return GENERATORS[0][1](r);
}
