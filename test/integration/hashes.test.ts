/**
 * Hash commands, differential against one redis-server: COMMAND INFO, edge
 * cases and errors of every command in RESP2 and RESP3, binary fields,
 * randomized sequences with fixed seeds crossing the listpack -> hashtable
 * thresholds (lowered with CONFIG SET) with OBJECT ENCODING after each step,
 * HRANDFIELD/HSCAN by content, and a 1,000,000-field hash. Per-field expiry
 * (Redis 7.4, absent from the 7.0 oracle) is checked against its documented
 * behaviour on Respite alone.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, startRespite, type ServerHandle, sharedRedis } from "../lib/servers.ts";
import { DiffPair, rng } from "../lib/diff.ts";
import { type Arg, bytes, commands, compare, compareUnordered, decode, sorted } from "../lib/collections.ts";

const HASH_COMMANDS = [
  "hset", "hsetnx", "hget", "hmget", "hmset", "hdel", "hlen", "hstrlen", "hexists", "hkeys", "hvals", "hgetall",
  "hincrby", "hincrbyfloat", "hrandfield", "hscan",
];

const redis = sharedRedis();

for (const rt of RUNTIMES) {
  describe(`hashes on ${rt}`, () => {
    let respite: ServerHandle;
    let pair: DiffPair;
    let section = 0;
    const prefix = () => `${rt}:h${section}:`;
    const same = (lines: Array<string | Arg[]>) => compare(pair, commands(prefix(), lines));
    const mine = (lines: Array<string | Arg[]>) => pair.respite.pipeline(commands(prefix(), lines));
    const unordered = (lines: Array<string | Arg[]>, pairs = false) => compareUnordered(pair, commands(prefix(), lines), pairs);
    const text = (replies: Buffer[]) => replies.map((b) => b.toString("latin1"));
    /** Switches both connections' protocol (HELLO replies differ in their client id). */
    const resp = (v: 2 | 3) => Promise.all([pair.redis.call("HELLO", v), pair.respite.call("HELLO", v)]);

    before(async () => {
      respite = await startRespite(rt);
      pair = await DiffPair.open(redis().port, respite.port);
    });
    after(async () => {
      pair?.close();
      await respite?.stop();
    });

    it("COMMAND INFO matches redis-server", async () => {
      for (const name of HASH_COMMANDS) await pair.same("COMMAND", "INFO", name);
    });

    it("HSET HMSET HSETNX HGET HMGET HDEL HLEN HSTRLEN HEXISTS: replies and errors", async () => {
      section++;
      await same([
        "HSET {h} a 1 b 2 c 3", "HSET {h} a 10 d 4", "HSET {h} a", "HSET {h} a 1 b", "HSET {h}", "HMSET {h} a 1 b",
        "HMSET {h} e 5 f 6", "HGET {h} a", "HGET {h} zz", "HGET {none} a", "HMGET {h} a zz b", "HMGET {none} a b",
        "HSETNX {h} a 99", "HSETNX {h} g 7", "HSETNX {new} x y", "HLEN {h}", "HLEN {none}", "HSTRLEN {h} a",
        "HSTRLEN {h} zz", "HSTRLEN {none} a", "HEXISTS {h} a", "HEXISTS {h} zz", "HEXISTS {none} a", "HGETALL {h}",
        "HKEYS {h}", "HVALS {h}", "HDEL {h} a zz b", "HDEL {h} zz", "HDEL {none} a", "HGETALL {h}", "OBJECT ENCODING {h}",
        "HSET {h} '' empty", "HGET {h} ''", "HSET {h} e ''", "HSTRLEN {h} e", "HSET {h} num 12345678901234567890",
        "HSTRLEN {h} num", "HGETALL {h}", "HDEL {h} c d e f g '' num", "EXISTS {h}", "HGETALL {none}", "HKEYS {none}",
        "HVALS {none}", "SET {s} x", "HSET {s} a 1", "HGET {s} a", "HMGET {s} a", "HDEL {s} a", "HLEN {s}", "HSTRLEN {s} a",
        "HEXISTS {s} a", "HGETALL {s}", "HSETNX {s} a 1", "HSET {d} f v f w", "HGETALL {d}", "HLEN {d}",
      ]);
    });

    it("hash reads and GET on hashes and strings the keyspace keeps as bytes (read in place) match redis-server", async () => {
      section++;
      const p = prefix();
      const rand = rng(31);
      const field = (j: number) => (j % 4 === 3 ? Buffer.from([0, 13, 10, 255, j]) : `f${j}`);
      const fill: Arg[][] = [];
      for (let i = 0; i < 3000; i++) {
        fill.push(["HSET", `${p}h${i}`, ...Array.from({ length: 1 + (i % 9) }, (_, j) => [field(j), j === 2 ? "" : `v${i}:${j}`]).flat()]);
        if (i % 10 === 0) fill.push(["SET", `${p}s${i}`, `str${i}`]);
      }
      await pair.sameAll(fill);
      // More than 1,024 hashes were touched, and the cron runs meanwhile: they rest as bytes again.
      await new Promise((r) => setTimeout(r, 300));
      const reads: Arg[][] = [];
      for (let i = 0; i < 3000; i++) {
        const k = Math.floor(rand() * 3100);
        const x = rand();
        const f = field(Math.floor(rand() * 10));
        if (x < 0.3) reads.push(["HGET", `${p}h${k}`, f]);
        else if (x < 0.35) reads.push(["HMGET", `${p}h${k}`, f, field(0), field(3)]);
        else if (x < 0.4) reads.push(["HLEN", `${p}h${k}`]);
        else if (x < 0.45) reads.push(["HSTRLEN", `${p}h${k}`, f]);
        else if (x < 0.5) reads.push(["HEXISTS", `${p}h${k}`, f]);
        else if (x < 0.55) reads.push(["HGETALL", `${p}h${k}`]);
        else if (x < 0.58) reads.push(["HKEYS", `${p}h${k}`]);
        else if (x < 0.6) reads.push(["HVALS", `${p}h${k}`]);
        else if (x < 0.62) reads.push(["HRANDFIELD", `${p}h${k}`, "50", "WITHVALUES"]);
        else if (x < 0.64) reads.push(["HSCAN", `${p}h${k}`, "0"]);
        else if (x < 0.7) reads.push([["HGET", "HLEN", "HSTRLEN", "HEXISTS", "HGETALL"][k % 5], `${p}s${k - (k % 10)}`, "f0"].slice(0, k % 5 === 1 || k % 5 === 4 ? 2 : 3));
        else if (x < 0.9) reads.push(["GET", `${p}s${k - (k % 10)}`]);
        else reads.push(["GET", `${p}h${k}`]);
      }
      await pair.sameAll(reads);
    });

    it("HINCRBY and HINCRBYFLOAT", async () => {
      section++;
      await same([
        "HINCRBY {h} a 5", "HINCRBY {h} a -12", "HINCRBY {h} a x", "HINCRBY {h} a 1.5", "HINCRBY {h} a ''",
        "HSET {h} s str big 9223372036854775806 neg -9223372036854775807 sp ' 1'", "HINCRBY {h} s 1", "HINCRBY {h} sp 1",
        "HINCRBY {h} big 1", "HINCRBY {h} big 1", "HINCRBY {h} neg -1", "HINCRBY {h} neg -1", "HINCRBY {h} a 9223372036854775808",
        "HINCRBYFLOAT {h} f 1.5", "HINCRBYFLOAT {h} f 0.1", "HINCRBYFLOAT {h} f -1.6", "HINCRBYFLOAT {h} f 1e400",
        "HINCRBYFLOAT {h} f inf", "HINCRBYFLOAT {h} f -inf", "HINCRBYFLOAT {h} f nan", "HINCRBYFLOAT {h} f x",
        "HINCRBYFLOAT {h} s 1", "HINCRBYFLOAT {h} a 2.5e3", "HINCRBYFLOAT {h} a 0x10", "HINCRBYFLOAT {h} g 3.0",
        "HINCRBYFLOAT {h} g 1.7976931348623157e308", "HINCRBYFLOAT {h} g 1.7976931348623157e308", "HINCRBYFLOAT {h} g -1.0",
        "HINCRBY {none} a x", "EXISTS {none}", "HINCRBYFLOAT {none2} a nan", "EXISTS {none2}",
        "SET {str} 1", "HINCRBY {str} a 1", "HINCRBYFLOAT {str} a 1", "OBJECT ENCODING {h}",
      ]);
      await unordered(["HGETALL {h}"], true);
    });

    it("HRANDFIELD and HSCAN on listpack hashes, RESP2 and RESP3", async () => {
      section++;
      const lines = [
        "HSET {h} a 1 b 2 c 3", "HRANDFIELD {h} 3", "HRANDFIELD {h} 10 WITHVALUES", "HRANDFIELD {h} 0",
        "HRANDFIELD {h} 0 WITHVALUES", "HRANDFIELD {none}", "HRANDFIELD {none} 5", "HRANDFIELD {none} -5 WITHVALUES",
        "HRANDFIELD {h} x", "HRANDFIELD {h} 1 x", "HRANDFIELD {h} 1 WITHVALUES x", "HRANDFIELD {h} x WITHVALUES x",
        "HRANDFIELD {h} -9223372036854775808", "HRANDFIELD {h} -4611686018427387904 WITHVALUES",
        "HRANDFIELD {h} 4611686018427387904 WITHVALUES", "HSCAN {h} 0", "HSCAN {h} 0 MATCH a*", "HSCAN {h} 0 MATCH * COUNT 1",
        "HSCAN {h} 0 COUNT 0", "HSCAN {h} 0 COUNT x", "HSCAN {h} 0 TYPE string", "HSCAN {h} 0 MATCH", "HSCAN {h} x",
        "HSCAN {h} -1", "HSCAN {h} 18446744073709551616", "HSCAN {h} ''", "HSCAN {none} 0", "HSCAN {none} 0 COUNT 0",
        "HSCAN {none} x", "SET {s} x", "HSCAN {s} 0", "HRANDFIELD {s}", "HRANDFIELD {s} 2",
      ];
      await same(lines);
      await resp(3);
      await same([...lines.slice(1), "HGETALL {h}", "HGETALL {none}", "HMGET {h} a zz", "HGET {h} zz"]);
      await resp(2);
      // Random picks: membership, distinctness and counts.
      for (const proto of ["2", "3"]) {
        const r = await mine([`HELLO ${proto}`, "HRANDFIELD {h}", "HRANDFIELD {h} 2", "HRANDFIELD {h} -7", "HRANDFIELD {h} -4 WITHVALUES"]);
        assert.ok(["a", "b", "c"].includes(decode(r[1]) as string));
        const two = decode(r[2]) as string[];
        assert.equal(new Set(two).size, 2);
        assert.equal((decode(r[3]) as string[]).length, 7);
        const pairs = decode(r[4]) as unknown[];
        const flat = proto === "3" ? (pairs as string[][]).flat() : (pairs as string[]);
        assert.equal(flat.length, 8);
        for (let i = 0; i < 8; i += 2) assert.equal(flat[i + 1], String(flat[i].charCodeAt(0) - 96));
      }
      await mine(["HELLO 2"]);
    });

    it("binary fields and values: NUL, CR/LF, invalid UTF-8, long values", async () => {
      section++;
      const odd = [Buffer.from("a\0b"), Buffer.from("\r\n"), Buffer.from([0xff, 0xfe, 0x80]), Buffer.alloc(0), Buffer.from("é")];
      const key = bytes(`${prefix()}bin`);
      const cmds: Arg[][] = [];
      for (const f of odd) cmds.push(["HSET", key, f, Buffer.concat([f, f])]);
      cmds.push(["HGETALL", key], ["HMGET", key, ...odd], ["HSTRLEN", key, odd[2]], ["OBJECT", "ENCODING", key]);
      cmds.push(["HSET", key, Buffer.from([0, 13, 10, 255]), Buffer.alloc(300, 0xff)], ["OBJECT", "ENCODING", key]);
      cmds.push(["HGET", key, Buffer.from([0, 13, 10, 255])], ["HSTRLEN", key, Buffer.from([0, 13, 10, 255])]);
      cmds.push(["HDEL", key, odd[0]], ["HLEN", key]);
      await same(cmds);
      await unordered([["HGETALL", key]], true);
      await unordered([["HKEYS", key], ["HVALS", key]]);
    });

    it("randomized sequences cross the listpack limits, OBJECT ENCODING after every step", async () => {
      for (const seed of [1, 2, 3, 4]) {
        section++;
        const random = rng(seed);
        const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
        await same(["CONFIG SET hash-max-listpack-entries 12", "CONFIG SET hash-max-ziplist-value 16"]);
        const field = () => pick(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "\0x", "long-field-name-x"]);
        const value = () => (random() < 0.1 ? "v".repeat(10 + Math.floor(random() * 12)) : String(Math.floor(random() * 100) - 50));
        let hashtable = false;
        for (let step = 0; step < 120; step++) {
          const op = random();
          const cmd = op < 0.4
            ? `HSET {h} ${field()} ${value()} ${field()} ${value()}`
            : op < 0.55 ? `HDEL {h} ${field()} ${field()}`
            : op < 0.7 ? `HINCRBY {h} ${field()} ${Math.floor(random() * 20) - 10}`
            : op < 0.8 ? `HINCRBYFLOAT {h} ${field()} 0.5`
            : op < 0.9 ? `HSETNX {h} ${field()} ${value()}`
            : `HMGET {h} ${field()} ${field()}`;
          const [, enc] = await same([cmd, "OBJECT ENCODING {h}", "HLEN {h}", `HGET {h} ${field()}`]);
          hashtable = enc.toString().includes("hashtable");
          if (hashtable) {
            await unordered(["HGETALL {h}"], true);
            await unordered(["HKEYS {h}", "HVALS {h}"]);
          } else await same(["HGETALL {h}", "HKEYS {h}", "HVALS {h}"]);
        }
        await same(["CONFIG SET hash-max-listpack-entries 512", "CONFIG SET hash-max-listpack-value 64"]);
      }
    });

    it("small hashes and sorted sets read back and edit the same after the cron keeps them as bytes", async () => {
      section++;
      const ticks = () => new Promise((r) => setTimeout(r, 350));
      const n = 150;
      const keys = [...Array(n).keys()];
      await same(keys.flatMap((i) => [
        [bytes("HSET"), bytes(prefix() + `h${i}`), bytes("f\0\r\n"), Buffer.from([0xff, i & 255]), bytes("n"), bytes(String(i))],
        `ZADD {z${i}} ${i} a 1.5 b${i} -inf '\xff'`,
      ]));
      await ticks();
      const readBack = () => same(keys.flatMap((i) => [
        `HGETALL {h${i}}`, `OBJECT ENCODING {h${i}}`, `ZRANGE {z${i}} 0 -1 WITHSCORES`, `OBJECT ENCODING {z${i}}`, `TYPE {z${i}}`,
      ]));
      await readBack();
      await same(keys.flatMap((i) => [`HINCRBY {h${i}} n 5`, `HDEL {h${i}} f`, `ZINCRBY {z${i}} 2 a`, `ZREM {z${i}} b${i}`]));
      await readBack();
      await ticks();
      await readBack();
      // Values moved between keys and dbs, and edited past the listpack limits.
      await same(keys.flatMap((i) => [`RENAME {h${i}} {r${i}}`, `COPY {z${i}} {c${i}}`, `MOVE {c${i}} 3`]));
      await same(keys.flatMap((i) => (i % 10 === 0 ? [`HSET {r${i}} big ${"x".repeat(100)}`, `ZADD {z${i}} 1 ${"y".repeat(100)}`] : [])));
      await ticks();
      // The hashes grown into hashtables list their fields in their own order.
      for (const i of keys.filter((i) => i % 10 === 0)) await unordered([`HGETALL {r${i}}`], true);
      await same(keys.flatMap((i) => [
        ...(i % 10 === 0 ? [] : [`HGETALL {r${i}}`]), `OBJECT ENCODING {r${i}}`, `EXISTS {h${i}}`, `ZRANGE {z${i}} 0 -1 WITHSCORES`,
      ]));
      await same(["SELECT 3", ...keys.map((i) => `ZRANGE {c${i}} 0 -1 WITHSCORES`), ...keys.map((i) => `DEL {c${i}}`), "SELECT 0"]);
    });

    it("hashtable encoding: HSCAN covers every field, HRANDFIELD picks distinct fields", async () => {
      section++;
      const fields = Array.from({ length: 1000 }, (_, i) => [`f${i}`, `v${i}`]).flat();
      await same([["HSET", `${prefix()}h`, ...fields], "OBJECT ENCODING {h}"]);
      await unordered(["HGETALL {h}"], true);
      await unordered(["HKEYS {h}"]);
      const seen = new Map<string, string>();
      let cursor = "0";
      do {
        const [r] = await mine([`HSCAN {h} ${cursor} COUNT 37`]);
        const [next, items] = decode(r) as [string, string[]];
        for (let i = 0; i < items.length; i += 2) seen.set(items[i], items[i + 1]);
        cursor = next;
      } while (cursor !== "0");
      assert.equal(seen.size, 1000);
      for (const [f, v] of seen) assert.equal(v, "v" + f.slice(1));
      const [matched] = await mine(["HSCAN {h} 0 MATCH f99* COUNT 100000"]);
      assert.deepEqual(sorted(matched, true, true), ["0", [["f99", "v99"], ["f990", "v990"], ["f991", "v991"], ["f992", "v992"],
        ["f993", "v993"], ["f994", "v994"], ["f995", "v995"], ["f996", "v996"], ["f997", "v997"], ["f998", "v998"], ["f999", "v999"]]]);
      const [distinct, repeated, all] = await mine(["HRANDFIELD {h} 300 WITHVALUES", "HRANDFIELD {h} -2000", "HRANDFIELD {h} 5000"]);
      const pairs = decode(distinct) as string[];
      assert.equal(pairs.length, 600);
      assert.equal(new Set(pairs.filter((_, i) => i % 2 === 0)).size, 300);
      assert.equal((decode(repeated) as string[]).length, 2000);
      assert.equal(new Set(decode(all) as string[]).size, 1000);
    });

    it("a 1,000,000-field hash built with pipelined batches", async () => {
      section++;
      const key = `${prefix()}big`;
      const BATCH = 1000;
      for (let start = 0; start < 1_000_000; start += 50 * BATCH) {
        const cmds: Arg[][] = [];
        for (let b = start; b < start + 50 * BATCH; b += BATCH) {
          const cmd: Arg[] = ["HSET", key];
          for (let i = b; i < b + BATCH; i++) cmd.push(`field:${i}`, String(i * 7));
          cmds.push(cmd);
        }
        await same(cmds);
      }
      await same([
        `HLEN ${key}`, `HGET ${key} field:999999`, `HSTRLEN ${key} field:123456`, `HEXISTS ${key} field:1000000`,
        `HINCRBY ${key} field:5 10`, `HDEL ${key} field:1 field:2 nope`, `HLEN ${key}`, `OBJECT ENCODING ${key}`,
        `HMGET ${key} field:0 field:1 field:500000`, `DEL ${key}`,
      ]);
    });

    it("per-field expiry as documented for Redis 7.4: HEXPIRE family, HTTL family, HPERSIST", async () => {
      section++;
      const far = Math.floor(Date.now() / 1000) + 100000;
      const r = text(await mine([
        "HSET {h} a 1 b 2 c 3", "HEXPIRE {h} 100 FIELDS 2 a zz", "HTTL {h} FIELDS 3 a b zz", "HPTTL {h} FIELDS 1 b",
        "HEXPIRE {h} 50 NX FIELDS 2 a b", "HEXPIRE {h} 200 XX FIELDS 2 a c", "HEXPIRE {h} 300 GT FIELDS 2 a b",
        "HEXPIRE {h} 100 LT FIELDS 2 a b", `HEXPIREAT {h} ${far} FIELDS 1 c`, "HEXPIRETIME {h} FIELDS 2 c zz",
        `HPEXPIREAT {h} ${far * 1000 + 1} FIELDS 1 c`, "HPEXPIRETIME {h} FIELDS 1 c", "HPERSIST {h} FIELDS 3 a b zz",
        "HTTL {h} FIELDS 1 a", "HEXPIRE {none} 10 FIELDS 2 a b", "HTTL {none} FIELDS 1 a", "HPERSIST {none} FIELDS 1 a",
        "OBJECT ENCODING {h}", "HEXPIRE {h} 0 FIELDS 1 a", "HGETALL {h}", "HPEXPIREAT {h} 1 FIELDS 1 b", "HLEN {h}",
        "HEXPIRE {h} -1 FIELDS 1 c", "HEXPIRE {h} x FIELDS 1 c", "HEXPIRE {h} 10 FIELDS 0 c", "HEXPIRE {h} 10 FIELDS 2 c",
        "HEXPIRE {h} 10 FIELDS 1 c d", "HEXPIRE {h} 10 FIELD 1 c", "HEXPIRE {h} 10 NX XX FIELDS 1 c", "HTTL {h} X 1 c",
        "HTTL {h} FIELDS x c", "HPEXPIRE {h} 281474976710655 FIELDS 1 c", "HEXPIRE {h} 9223372036854775 FIELDS 1 c",
        "SET {s} x", "HEXPIRE {s} 10 FIELDS 1 a", "HTTL {s} FIELDS 1 a", "HPERSIST {s} FIELDS 1 a",
        "HEXPIRE {h} 0 FIELDS 1 c", "EXISTS {h}",
      ]));
      assert.deepEqual(r, [
        ":3\r\n", "*2\r\n:1\r\n:-2\r\n", "*3\r\n:100\r\n:-1\r\n:-2\r\n", "*1\r\n:-1\r\n",
        "*2\r\n:0\r\n:1\r\n", "*2\r\n:1\r\n:0\r\n", "*2\r\n:1\r\n:1\r\n",
        "*2\r\n:1\r\n:1\r\n", "*1\r\n:1\r\n", `*2\r\n:${far}\r\n:-2\r\n`,
        "*1\r\n:1\r\n", `*1\r\n:${far * 1000 + 1}\r\n`, "*3\r\n:1\r\n:1\r\n:-2\r\n",
        "*1\r\n:-1\r\n", "*2\r\n:-2\r\n:-2\r\n", "*1\r\n:-2\r\n", "*1\r\n:-2\r\n",
        "$10\r\nlistpackex\r\n", "*1\r\n:2\r\n", "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n", "*1\r\n:2\r\n", ":1\r\n",
        "-ERR invalid expire time, must be >= 0\r\n", "-ERR value is not an integer or out of range\r\n",
        "-ERR Parameter `numFields` should be greater than 0\r\n",
        "-ERR The `numfields` parameter must match the number of arguments\r\n",
        "-ERR The `numfields` parameter must match the number of arguments\r\n",
        "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
        "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
        "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
        "-ERR Parameter `numFields` should be greater than 0\r\n",
        "-ERR invalid expire time in 'hpexpire' command\r\n", "-ERR invalid expire time in 'hexpire' command\r\n",
        "+OK\r\n", ...Array(3).fill("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        "*1\r\n:2\r\n", ":0\r\n",
      ]);
    });

    it("expired fields are never returned; HSET clears a field's deadline; the cron reclaims idle hashes", async () => {
      section++;
      await mine([
        "HSET {h} keep 1 gone 2 reset 3", "HPEXPIRE {h} 30 FIELDS 2 gone reset", "HSET {h} reset 4", "HTTL {h} FIELDS 1 reset",
        "HSET {idle} x 1 y 2", "HPEXPIRE {idle} 30 FIELDS 2 x y",
        "HSET {table} " + Array.from({ length: 600 }, (_, i) => `f${i} v`).join(" "), "HPEXPIRE {table} 30 FIELDS 2 f1 f2",
      ]);
      await new Promise((r) => setTimeout(r, 80));
      const r = text(await mine([
        "HGETALL {h}", "HGET {h} gone", "HEXISTS {h} gone", "HLEN {h}", "HTTL {h} FIELDS 2 gone reset", "HMGET {h} gone keep",
        "HLEN {table}", "HEXISTS {table} f1", "OBJECT ENCODING {table}",
      ]));
      assert.deepEqual(r, [
        "*4\r\n$4\r\nkeep\r\n$1\r\n1\r\n$5\r\nreset\r\n$1\r\n4\r\n", "$-1\r\n", ":0\r\n", ":2\r\n", "*2\r\n:-2\r\n:-1\r\n",
        "*2\r\n$-1\r\n$1\r\n1\r\n", ":598\r\n", ":0\r\n", "$9\r\nhashtable\r\n",
      ]);
      // Nobody reads {idle}: only the active expire cycle can delete it.
      let exists = "";
      for (let i = 0; i < 100 && exists !== ":0\r\n"; i++) {
        await new Promise((r) => setTimeout(r, 50));
        [exists] = text(await pair.respite.pipeline([["EXISTS", `${prefix()}idle`].map(bytes)]));
      }
      assert.equal(exists, ":0\r\n");
    });
  });
}
