/**
 * Bitmaps and bit fields, differential against one redis-server per run
 * and byte for byte: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
 * BITFIELD_RO with 7.0's argument order and errors, encodings after a
 * write and the DUMP bytes of what they built, offsets up to 2^32-1 (a
 * 512 MB string), keyspace events and the changes each command counts
 * (what it propagates), a 64 MB bitmap, and long randomized sequences
 * with fixed seeds; the AOF a sequence of them leaves is redis-server's
 * byte for byte. Each runtime's keys carry its own prefix so the one
 * redis-server serves every runtime.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, sharedRedis, startRedis, startRespite } from "../lib/servers.ts";
import { incrAofAfter } from "../lib/aof-incr.ts";
import { commands } from "../lib/diff-lines.ts";
import { RawConnection } from "../lib/raw.ts";
import { type Cmd, DiffPair, diffSuite, rng, show } from "../lib/diff.ts";
import { commandDocs } from "../lib/command-docs.ts";

const BIT_COMMANDS = ["setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro"];

const redis = sharedRedis();

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)];
}

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** Integers for ranges, field values and increments: small ones, and the int64 edges. */
function anInteger(r: () => number, span: number): string {
  const x = r();
  if (x < 0.8) return String(int(r, -span, span));
  return pick(r, [
    "9223372036854775807", "-9223372036854775808", "-9223372036854775807", "9223372036854775806", "4294967295",
    "-4294967296", "2147483648", "9007199254740993", "-9007199254740993", "0", "-0", "01", "1.5", "x", "",
  ]);
}

/** A value of any encoding: digits (int), short bytes (embstr), long bytes (raw), runs of 0x00/0xff. */
function aValue(r: () => number): string {
  const x = r();
  if (x < 0.15) return String(int(r, -100000, 100000));
  if (x < 0.25) return "";
  const n = x < 0.7 ? int(r, 1, 40) : int(r, 41, 320);
  const fill = pick(r, [0, 0xff, -1]);
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(fill >= 0 && r() < 0.8 ? fill : int(r, 0, 255));
  return s;
}

function aFieldType(r: () => number): string {
  if (r() < 0.03) return pick(r, ["u64", "i65", "i0", "u0", "I8", "x8", "u", "i", "u08", "u-1"]);
  return (r() < 0.5 ? "i" : "u") + int(r, 1, r() < 0.5 ? 16 : 64);
}

/** A bit offset; far ones (up to 2^32-1) only for reads, so random writes never build 512 MB strings. */
function anOffset(r: () => number, bits: number, maxBit: number, write: boolean): string {
  const x = r();
  if (x < 0.15) return "#" + int(r, 0, Math.floor(maxBit / Math.max(bits, 1)));
  if (x < 0.2) return pick(r, ["4294967296", "-1", "#-1", "x", "#", "#9223372036854775807", "01", "18446744073709551616"]);
  if (x < 0.25 && !write) return pick(r, ["4294967295", "4294967232", "2147483648", "#536870911", "#67108863"]);
  return String(int(r, 0, maxBit));
}

/** One random command over the keys. */
function aCommand(r: () => number, keys: string[]): string[] {
  const key = pick(r, keys);
  const x = r();
  const maxBit = 8 * 48;
  /** Range bounds: bytes, or bits across values of up to 320 bytes. */
  const span = r() < 0.5 ? 400 : 3000;
  if (x < 0.12) return ["SETBIT", key, r() < 0.95 ? String(int(r, 0, maxBit)) : anOffset(r, 1, maxBit, true), r() < 0.95 ? String(int(r, 0, 1)) : pick(r, ["2", "-1", "x"])];
  if (x < 0.2) return ["GETBIT", key, r() < 0.9 ? String(int(r, 0, maxBit + 64)) : anOffset(r, 1, maxBit, false)];
  if (x < 0.32) {
    const cmd = ["BITCOUNT", key];
    if (r() < 0.8) cmd.push(anInteger(r, span), anInteger(r, span));
    if (r() < 0.5) cmd.push(pick(r, ["BIT", "BYTE", "bit", "byte", "bits"]));
    return r() < 0.02 ? cmd.slice(0, 3) : cmd;
  }
  if (x < 0.46) {
    const cmd = ["BITPOS", key, r() < 0.97 ? String(int(r, 0, 1)) : pick(r, ["2", "-1", "x"])];
    const y = r();
    if (y < 0.7) cmd.push(anInteger(r, span));
    if (y < 0.5) cmd.push(anInteger(r, span));
    if (y < 0.3) cmd.push(pick(r, ["BIT", "BYTE", "bit", "byte", "bits"]));
    if (y < 0.01) cmd.push("1");
    return cmd;
  }
  if (x < 0.56) {
    const op = pick(r, ["AND", "OR", "XOR", "NOT", "and", "Xor", "DIFF", "nand"]);
    const n = op.toUpperCase() === "NOT" && r() < 0.95 ? 1 : int(r, 1, 4);
    return ["BITOP", op, pick(r, keys), ...Array.from({ length: n }, () => pick(r, keys))];
  }
  if (x < 0.78) {
    const cmd = [r() < 0.85 ? "BITFIELD" : "BITFIELD_RO", key];
    for (let i = int(r, 0, 4); i > 0; i--) {
      const y = r();
      if (y < 0.2) {
        cmd.push("OVERFLOW", r() < 0.97 ? pick(r, ["WRAP", "SAT", "FAIL", "wrap", "sat", "fail"]) : "NONE");
        continue;
      }
      const type = aFieldType(r);
      const bits = Number(type.slice(1)) || 1;
      const sub = y < 0.5 ? "GET" : y < 0.75 ? "SET" : "INCRBY";
      cmd.push(r() < 0.9 ? sub : sub.toLowerCase(), type, anOffset(r, bits, maxBit, sub !== "GET"));
      if (sub !== "GET") cmd.push(anInteger(r, r() < 0.5 ? 200 : 2 ** 40));
    }
    if (r() < 0.02) cmd.push("GET");
    return cmd;
  }
  if (x < 0.84) return ["SET", key, aValue(r)];
  if (x < 0.86) return ["APPEND", key, aValue(r)];
  if (x < 0.88) return ["INCR", key];
  if (x < 0.9) return ["DEL", key];
  if (x < 0.92) return ["OBJECT", "ENCODING", key];
  if (x < 0.94) return ["STRLEN", key];
  if (x < 0.96) return ["RPUSH", pick(r, keys), "x"];
  if (x < 0.97) return ["DUMP", key];
  return ["GET", key];
}

/** Runs cmds on both servers, one INFO persistence after each: same replies, same changes counted (what is propagated). */
async function sameWithChanges(pair: DiffPair, cmds: Cmd[]): Promise<void> {
  const all: Cmd[] = [["INFO", "persistence"]];
  for (const c of cmds) all.push(c, ["INFO", "persistence"]);
  const [a, b] = await Promise.all([pair.redis.pipeline(all), pair.respite.pipeline(all)]);
  const dirty = (reply: Buffer) => Number(/rdb_changes_since_last_save:(\d+)/.exec(reply.toString("latin1"))![1]);
  for (let i = 1; i < all.length; i += 2) {
    const what = all[i].map((x) => Buffer.from(x as string).toString("latin1")).join(" ");
    assert.equal(show(b[i]), show(a[i]), `reply to ${what}`);
    assert.equal(dirty(b[i + 1]) - dirty(b[i - 1]), dirty(a[i + 1]) - dirty(a[i - 1]), `changes counted by ${what}`);
  }
}

/** Bit commands that change something, change nothing, or only create a key, alone, in MULTI and in a script. */
const AOF_SEQUENCE = commands("", [
  "SETBIT a 7 1", "SETBIT a 7 1", "SETBIT a 3 0", "SETBIT a 100 0", "SET i 12", "SETBIT i 0 0", "SETBIT i 0 1",
  "BITFIELD b SET u8 0 1 GET u8 0", "BITFIELD b SET u8 0 1", "BITFIELD b INCRBY i4 #1 3 OVERFLOW FAIL INCRBY u2 0 7",
  "BITFIELD c OVERFLOW FAIL INCRBY u2 0 7", "BITFIELD b GET u8 0", "BITFIELD_RO b GET u8 0", "BITOP OR d a b",
  "BITOP AND d none", "BITOP AND d none", "BITOP NOT e a", "MULTI", "SETBIT m 1 1", "BITFIELD m SET u8 0 0", "SETBIT m 9 0", "EXEC",
  "GETBIT a 7", "BITCOUNT a", "BITPOS a 1",
  ["EVAL", "redis.call('setbit', KEYS[1], 5, 1) return redis.call('bitfield', KEYS[1], 'incrby', 'u8', 0, 1)", "1", "s"],
]);

describe("bit commands in the AOF", () => {
  let expected = "";
  it("redis-server's incr file for the sequence (the oracle)", async () => {
    expected = await incrAofAfter(startRedis, AOF_SEQUENCE);
    assert.match(expected, /BITFIELD/);
  });
  for (const rt of RUNTIMES) {
    it(`propagates what redis-server propagates, byte for byte, on ${rt}`, async () => {
      assert.equal(await incrAofAfter((extra) => startRespite(rt, extra), AOF_SEQUENCE), expected);
    });
  }
});

for (const rt of RUNTIMES) {
  describe(`bitmap commands on ${rt}`, () => {
    const suite = diffSuite(redis, rt);
    let section = 0;
    const prefix = () => `${rt}:bits${section}:`;
    const same = (lines: string[]) => sameWithChanges(suite.pair, commands(prefix(), lines));

    it("has Redis's COMMAND INFO and COMMAND DOCS (arguments and history aside)", async () => {
      await suite.pair.same("COMMAND", "INFO", ...BIT_COMMANDS);
      assert.deepEqual(
        await commandDocs(suite.pair.respite, BIT_COMMANDS),
        await commandDocs(suite.pair.redis, BIT_COMMANDS),
      );
    });

    it("SETBIT GETBIT: errors, growth, encodings, no-op writes", async () => {
      section++;
      await same([
        "SETBIT {a} 7 1", "GET {a}", "SETBIT {a} 7 1", "SETBIT {a} 7 0", "SETBIT {a} 0 0", "SETBIT {a} 100 0", "STRLEN {a}",
        "OBJECT ENCODING {a}", "GETBIT {a} 7", "GETBIT {a} 100", "GETBIT {a} 1000", "GETBIT {none} 5",
        "SET {i} 5", "OBJECT ENCODING {i}", "SETBIT {i} 0 0", "OBJECT ENCODING {i}", "GET {i}", "SETBIT {i} 1 1", "GET {i}",
        "SET {i} 12345", "GETBIT {i} 2", "GETBIT {i} 3", "GETBIT {i} 39", "GETBIT {i} 40", "SET {e} abc", "SETBIT {e} 3 0",
        "OBJECT ENCODING {e}", "SET {n} -7", "GETBIT {n} 2", "SETBIT {n} 2 0", "GET {n}", "INCR {n}",
        "SETBIT {a} -1 1", "SETBIT {a} x 1", "SETBIT {a} 1 2", "SETBIT {a} 1 -1", "SETBIT {a} 1 x", "SETBIT {a} 1 1.0",
        "SETBIT {a} 01 1", "SETBIT {a} #1 1", "SETBIT {a} 4294967296 1", "SETBIT {a} 18446744073709551616 1",
        "GETBIT {a} -1", "GETBIT {a} x", "GETBIT {a} 4294967295", "GETBIT {a} 4294967296", "GETBIT {none} x",
        "RPUSH {l} x", "SETBIT {l} 0 1", "SETBIT {l} 0 2", "GETBIT {l} 0", "GETBIT {l} x", "SETBIT {a}", "GETBIT {a}",
        "SET {t} v EX 1000", "SETBIT {t} 1 0", "TTL {t}", "SETBIT {t} 80 1", "TTL {t}", "SET {z} ''", "SETBIT {z} 0 0",
        "STRLEN {z}", "GET {z}", "CONFIG SET proto-max-bulk-len 1048576", "SETBIT {p} 8388607 0", "SETBIT {p} 8388608 0",
        "GETBIT {p} 8388608", "BITFIELD {p} GET u8 #1048575 GET u8 #1048576", "CONFIG SET proto-max-bulk-len 536870912",
        "GETBIT {p} 8388608",
      ]);
    });

    it("SETBIT and GETBIT at offsets up to 2^32-1 (a 512 MB string)", async () => {
      section++;
      await same([
        "SETBIT {big} 4294967295 1", "STRLEN {big}", "GETBIT {big} 4294967295", "GETBIT {big} 4294967294", "BITCOUNT {big}",
        "BITPOS {big} 1", "BITPOS {big} 0 -1", "BITPOS {big} 1 -2", "BITCOUNT {big} -1 -1", "BITCOUNT {big} 4294967290 -1 BIT",
        "BITFIELD {big} GET u8 4294967288 GET i8 4294967288 GET u63 4294967232 GET u8 4294967295",
        "BITFIELD {big} SET u1 4294967295 0", "BITPOS {big} 1", "SETBIT {big} 4294967296 1", "SETBIT {big} 2147483648 1",
        "BITPOS {big} 1", "BITCOUNT {big} 268435456 268435456", "GETBIT {big} 2147483648", "DEL {big}",
        "BITFIELD {big2} SET i64 4294967232 -1", "STRLEN {big2}", "BITFIELD {big2} GET i64 4294967232 GET u8 #536870911",
        "BITFIELD {big2} INCRBY u2 4294967294 1", "BITFIELD {big2} GET u8 #536870912", "BITFIELD {big2} SET u8 #536870912 1",
        "DEL {big2}",
      ]);
    });

    it("BITCOUNT and BITPOS: 7.0's argument order, BYTE and BIT ranges, integers", async () => {
      section++;
      await same([
        "SET {s} foobar", "BITCOUNT {s}", "BITCOUNT {s} 0 0", "BITCOUNT {s} 1 1", "BITCOUNT {s} 1 -1", "BITCOUNT {s} -1 -3",
        "BITCOUNT {s} -1 -3 foo", "BITCOUNT {s} 5 30 BIT", "BITCOUNT {s} 0 -1 bit", "BITCOUNT {s} 0 -1 byte",
        "BITCOUNT {s} 0 -1 bits", "BITCOUNT {s} 1", "BITCOUNT {s} 1 2 3 4", "BITCOUNT {s} x 1", "BITCOUNT {s} 1 x",
        "BITCOUNT {s} -9223372036854775808 9223372036854775807", "BITCOUNT {s} -9223372036854775807 -9223372036854775808",
        "BITCOUNT {s} -9223372036854775808 -9223372036854775807 BIT", "BITCOUNT {s} 9007199254740993 9007199254740992",
        "BITCOUNT {none} x", "BITCOUNT {none} 1", "BITCOUNT {none} 0 1 foo", "RPUSH {l} x", "BITCOUNT {l}", "BITCOUNT {l} x",
        "SET {i} 1234567", "BITCOUNT {i}", "BITCOUNT {i} 2 3", "BITPOS {i} 0", "BITPOS {i} 1 3", "SET {e} ''", "BITCOUNT {e}",
        "BITPOS {e} 0", "BITPOS {e} 1", "BITPOS {e} 0 0 -1", "BITPOS {e} 0 0 -1 BIT",
        "SET {f} '\xff\xf0\x00'", "BITPOS {f} 0", "BITPOS {f} 1 2", "BITPOS {f} 1 1", "BITPOS {f} 0 0 0", "BITPOS {f} 0 0 -1",
        "BITPOS {f} 0 1 -1", "BITPOS {f} 1 12 20 BIT", "BITPOS {f} 0 3 11 BIT", "BITPOS {f} 0 0 3 BIT", "BITPOS {f} 1 17 23 BIT",
        "BITPOS {f} 0 4 4 BIT", "BITPOS {f} 1 -1 -3", "BITPOS {f} 0 -1 -3", "BITPOS {f} 1 0 x foo", "BITPOS {f} 1 x 0 foo",
        "BITPOS {f} 1 0 0 foo", "BITPOS {f} 2", "BITPOS {f} x", "BITPOS {f} 1 0 1 BIT extra", "BITPOS {none} x", "BITPOS {none} 2",
        "BITPOS {none} 0", "BITPOS {none} 1", "BITPOS {none} 1 x", "BITPOS {l} 1", "BITPOS {l} 2", "BITPOS {l} x",
        "SET {o} '\xff\xff\xff\xff\xff\xff\xff\xff\xff'", "BITPOS {o} 0", "BITPOS {o} 0 0", "BITPOS {o} 0 0 -1", "BITPOS {o} 0 2 50 BIT",
        "BITPOS {o} 0 3", "BITPOS {o} 0 0 -1 BIT",
      ]);
    });

    it("BITOP: operations, padding, missing sources, the destination's type, TTL and deletion", async () => {
      section++;
      await same([
        "SET {a} foobar", "SET {b} abcdef", "SET {c} 'x\xff'", "BITOP AND {d} {a} {b}", "GET {d}", "OBJECT ENCODING {d}",
        "BITOP OR {d} {a} {b} {c}", "GET {d}", "BITOP XOR {d} {a} {c} {none}", "GET {d}", "BITOP NOT {d} {c}", "GET {d}",
        "BITOP and {d} {a} {none}", "GET {d}", "BITOP not {d} {none}", "EXISTS {d}", "BITOP or {d} {none} {none2}",
        "BITOP NOT {d} {a} {b}", "BITOP NOT {d}", "BITOP DIFF {d} {a} {b}", "BITOP ANDOR {d} {a} {b}", "BITOP nope {d} {a}",
        "BITOP", "BITOP AND {d}", "RPUSH {l} x", "BITOP AND {d} {a} {l}", "BITOP AND {l} {a}", "TYPE {l}",
        "SET {t} v EX 1000", "BITOP OR {t} {a}", "TTL {t}", "SET {i} 255", "BITOP OR {d} {i} {i}", "GET {d}", "BITOP XOR {a} {a}",
        "GET {a}", "BITOP AND {e} {none}", "EXISTS {e}", "SET {z} ''", "BITOP OR {z} {z}", "EXISTS {z}",
      ]);
    });

    it("BITFIELD and BITFIELD_RO: types, # offsets, overflow, argument errors", async () => {
      section++;
      await same([
        "BITFIELD {k} SET i8 0 -100 GET u8 0 INCRBY i8 0 -100 GET i8 0", "BITFIELD {k} OVERFLOW SAT INCRBY i8 0 -100",
        "BITFIELD {k} OVERFLOW FAIL INCRBY i8 0 -100 INCRBY u4 #3 100 OVERFLOW WRAP INCRBY u4 #3 100",
        "BITFIELD {k} SET u8 0 128", "BITFIELD {k} SET u8 0 128", "BITFIELD {k} INCRBY u8 0 0", "BITFIELD {k}",
        "BITFIELD {k} GET i64 0 GET u63 1 GET i1 0 GET u1 0 GET i64 #3", "BITFIELD {k} SET i64 0 -9223372036854775808",
        "BITFIELD {k} INCRBY i64 0 -1", "BITFIELD {k} OVERFLOW SAT INCRBY i64 0 -1 INCRBY i64 0 9223372036854775807",
        "BITFIELD {k} OVERFLOW SAT SET u8 0 -1 SET i8 8 200 SET u63 8 -1 OVERFLOW WRAP SET u3 0 -1 GET u16 0",
        "BITFIELD {k} OVERFLOW FAIL SET u8 0 256 SET i8 0 -129 SET i8 0 -128", "GET {k}",
        "BITFIELD {k} get u8 0 Overflow Sat incrby u8 0 1000 overflow fail set i3 5 4",
        "BITFIELD {k} GET u64 0", "BITFIELD {k} GET i65 0", "BITFIELD {k} GET I8 0", "BITFIELD {k} GET u08 0", "BITFIELD {k} GET i0 0",
        "BITFIELD {k} GET u 0", "BITFIELD {k} GET u8 -1", "BITFIELD {k} GET u8 #-1", "BITFIELD {k} GET u8 '#'",
        "BITFIELD {k} GET u8 #9223372036854775807", "BITFIELD {k} GET u8 #2305843009213693952", "BITFIELD {k} GET u8 4294967296",
        "BITFIELD {k} GET u8 0 OVERFLOW", "BITFIELD {k} GET u8", "BITFIELD {k} FOO", "BITFIELD {k} SET u8 0",
        "BITFIELD {k} OVERFLOW NONE GET u8 0", "BITFIELD {k} SET u8 0 x", "BITFIELD {k} INCRBY u8 0 1.5",
        "BITFIELD {k} INCRBY u8 0 9223372036854775808", "BITFIELD {k} GET u8 0 SET u8 -1 1 SET u8 0 1", "GET {k}",
        "BITFIELD_RO {k} GET u8 0 GET i4 #1", "BITFIELD_RO {k} SET u8 0 1", "BITFIELD_RO {k} GET u8 0 INCRBY u8 0 x",
        "BITFIELD_RO {k} INCRBY u8 0 1 GET u9 0", "BITFIELD_RO {none} GET u8 0", "BITFIELD_RO {k}",
        "BITFIELD {nk} OVERFLOW FAIL INCRBY u2 100 10", "EXISTS {nk}", "STRLEN {nk}", "BITFIELD {nk2} SET u8 0 0", "STRLEN {nk2}",
        "BITFIELD {nk3} GET u8 100", "EXISTS {nk3}", "SET {i} 42", "BITFIELD {i} GET u8 0", "OBJECT ENCODING {i}",
        "BITFIELD {i} SET u8 0 52", "OBJECT ENCODING {i}", "GET {i}", "SET {s} abc", "BITFIELD {s} INCRBY u8 0 0",
        "OBJECT ENCODING {s}", "RPUSH {l} x", "BITFIELD {l} GET u8 0", "BITFIELD {l} SET u8 0 1", "BITFIELD_RO {l} GET u8 0",
        "BITFIELD_RO {l} SET u8 0 1", "BITFIELD {l} GET u8 x", "SET {t} v EX 1000", "BITFIELD {t} SET u8 100 1", "TTL {t}",
      ]);
    });

    it("answers RESP3 clients the same, a FAIL overflow as a null", async () => {
      section++;
      const hello = (v: string) => Promise.all([suite.pair.redis.call("HELLO", v), suite.pair.respite.call("HELLO", v)]);
      await hello("3");
      try {
        await suite.pair.sameAll(commands(prefix(), [
          "BITFIELD {k} OVERFLOW FAIL INCRBY u2 0 5 GET u2 0 SET i8 8 -3", "BITFIELD_RO {k} GET i8 8", "BITPOS {k} 1",
        ]));
      } finally {
        await hello("2");
      }
    });

    it("emits Redis's keyspace events for every bit command", async () => {
      section++;
      const sub = await DiffPair.open(redis().port, suite.respite.port);
      try {
        const barrier = `${prefix()}barrier`;
        for (const conn of [sub.redis, sub.respite]) {
          await conn.pipeline([["PSUBSCRIBE", `__key*__:${prefix()}*`], ["SUBSCRIBE", barrier]]);
        }
        await suite.pair.same("CONFIG", "SET", "notify-keyspace-events", "KEAnm");
        const cmds = commands(prefix(), [
          "SETBIT {a} 3 1", "SETBIT {a} 3 1", "SETBIT {a} 3 0", "SETBIT {a} 50 0", "GETBIT {none} 1", "BITCOUNT {none}",
          "BITPOS {none} 1", "SET {i} 7", "SETBIT {i} 0 0", "BITOP OR {d} {a} {i}", "BITOP AND {d} {none}", "BITOP AND {d} {none}",
          "BITFIELD {b} SET u8 0 1 SET u8 8 1", "BITFIELD {b} SET u8 0 1", "BITFIELD {b} GET u8 0", "BITFIELD_RO {none} GET u8 0",
          "BITFIELD {c} OVERFLOW FAIL INCRBY u2 0 9", "SET {t} x PX 1", "DEBUG SLEEP 0.01", "BITOP NOT {t} {a}",
        ]);
        await suite.pair.sameAll([...cmds, ["PUBLISH", barrier, "end"]]);
        const events = async (conn: RawConnection) => {
          const out: string[] = [];
          for (;;) {
            const [push] = await conn.readReplies(1);
            if (push.includes(barrier)) return out;
            out.push(show(push));
          }
        };
        const [a, b] = await Promise.all([events(sub.redis), events(sub.respite)]);
        assert.deepEqual(b, a);
        assert.ok(a.length > 10, "the events arrived");
      } finally {
        await suite.pair.same("CONFIG", "SET", "notify-keyspace-events", "");
        sub.close();
      }
    });

    it("invalidates keys tracked by GETBIT, BITCOUNT, BITPOS, BITFIELD_RO when bit commands write them", async () => {
      section++;
      const tracked = await DiffPair.open(redis().port, suite.respite.port);
      try {
        const key = (k: string) => prefix() + k;
        await Promise.all([tracked.redis.call("HELLO", "3"), tracked.respite.call("HELLO", "3")]);
        await tracked.sameAll([["CLIENT", "TRACKING", "on"], ...commands(prefix(), [
          "GETBIT {a} 1", "BITCOUNT {b}", "BITPOS {c} 1", "BITFIELD_RO {d} GET u8 0", "BITOP OR {x} {e}",
        ])]);
        await suite.pair.sameAll(commands(prefix(), [
          "SETBIT {a} 1 1", "BITFIELD {b} SET u8 0 1", "BITOP NOT {c} {a}", "SETBIT {d} 9 0", "SETBIT {e} 0 1",
        ]));
        const untilPong = async (conn: RawConnection) => {
          conn.write("PING\r\n");
          const out: string[] = [];
          for (;;) {
            const [reply] = await conn.readReplies(1);
            if (reply.toString() === "+PONG\r\n") return out;
            out.push(show(reply));
          }
        };
        const [a, b] = await Promise.all([untilPong(tracked.redis), untilPong(tracked.respite)]);
        assert.deepEqual(b, a);
        assert.equal(a.length, 4, "BITOP is a write: the key it read is not tracked");
        assert.ok(!a.some((p) => p.includes(key("e"))));
      } finally {
        tracked.close();
      }
    });

    it("agrees on a 64 MB bitmap: BITCOUNT, BITPOS, BITOP, BITFIELD", async () => {
      section++;
      const r = rng(64);
      const big = Buffer.alloc(64 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(Math.floor(r() * 2 ** 32), i);
      big.fill(0xff, 1000, 5_000_000);
      const half = Buffer.from(big.subarray(3, 32 * 1024 * 1024 + 3));
      const key = (k: string) => prefix() + k;
      await suite.pair.sameAll([["SET", key("m"), big], ["SET", key("h"), half]]);
      await sameWithChanges(suite.pair, commands(prefix(), [
        "BITCOUNT {m}", "BITCOUNT {m} 7 -9", "BITCOUNT {m} 13 536870000 BIT", "BITPOS {m} 1", "BITPOS {m} 0 1000",
        "BITPOS {m} 1 5000 -1", "BITPOS {m} 0 8000 39999999 BIT", "BITOP AND {x} {m} {h}", "BITCOUNT {x}", "BITOP OR {x} {m} {h}",
        "BITCOUNT {x}", "BITOP XOR {x} {h} {m} {h}", "BITCOUNT {x}", "BITOP NOT {x} {h}", "BITCOUNT {x}", "STRLEN {x}",
        "DEBUG DIGEST-VALUE {x}", "BITFIELD {m} GET i64 1000000 INCRBY u7 500000001 99", "SETBIT {m} 536870911 0",
        "BITCOUNT {m}", "DEBUG DIGEST-VALUE {m}", "DEL {m} {h} {x}",
      ]));
    });

    it("matches redis-server on random sequences (fixed seeds)", async () => {
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        section++;
        const r = rng(seed);
        const keys = ["{a}", "{b}", "{c}", "{d}"];
        const init = keys.map((k) => `SET ${k} x`);
        const cmds: Cmd[] = commands(prefix(), init);
        for (let i = 0; i < 600; i++) {
          cmds.push(aCommand(r, keys.map((k) => prefix() + k.slice(1, -1))).map((w) => Buffer.from(w, "latin1")));
        }
        try {
          await sameWithChanges(suite.pair, cmds);
        } catch (e) {
          throw new Error(`seed ${seed}: ${(e as Error).message}`);
        }
      }
    });
  });
}
