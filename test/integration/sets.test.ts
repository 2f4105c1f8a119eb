/**
 * Set commands, differential against one redis-server: COMMAND INFO, edge
 * cases and errors of every command in RESP2 and RESP3, binary members,
 * randomized sequences with fixed seeds crossing the intset -> hashtable
 * threshold (lowered with CONFIG SET) with OBJECT ENCODING after each step,
 * SPOP/SRANDMEMBER/SSCAN by content, and a 1,000,000-member set. Intset
 * replies are compared byte for byte (Redis's order is numeric); hashtable
 * replies as sorted lists (Redis's order is its hash table's).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, startRespite, type ServerHandle, sharedRedis } from "../lib/servers.ts";
import { DiffPair, rng } from "../lib/diff.ts";
import { type Arg, bytes, commands, compare, compareUnordered, decode } from "../lib/collections.ts";

const SET_COMMANDS = [
  "sadd", "srem", "smembers", "sismember", "smismember", "scard", "spop", "srandmember", "smove", "sinter", "sintercard",
  "sinterstore", "sunion", "sunionstore", "sdiff", "sdiffstore", "sscan",
];

const redis = sharedRedis();

for (const rt of RUNTIMES) {
  describe(`sets on ${rt}`, () => {
    let respite: ServerHandle;
    let pair: DiffPair;
    let section = 0;
    const prefix = () => `${rt}:s${section}:`;
    const same = (lines: Array<string | Arg[]>) => compare(pair, commands(prefix(), lines));
    const unordered = (lines: Array<string | Arg[]>) => compareUnordered(pair, commands(prefix(), lines));
    const mine = (lines: Array<string | Arg[]>) => pair.respite.pipeline(commands(prefix(), lines));
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
      for (const name of SET_COMMANDS) await pair.same("COMMAND", "INFO", name);
    });

    const intsetCases = [
      "SADD {s} 3 1 2 -5 100000 1", "SMEMBERS {s}", "OBJECT ENCODING {s}", "SADD {s} 5000000000 -70000", "SMEMBERS {s}",
      "OBJECT ENCODING {s}", "SISMEMBER {s} 3", "SISMEMBER {s} 4", "SISMEMBER {s} 03", "SISMEMBER {s} x", "SISMEMBER {none} 1",
      "SMISMEMBER {s} 1 4 3 x", "SMISMEMBER {none} 1 2", "SCARD {s}", "SCARD {none}", "SREM {s} 1 4 x", "SMEMBERS {s}",
      "SADD {s} 9223372036854775807 -9223372036854775808", "SMEMBERS {s}", "SADD {s} 9223372036854775808", "OBJECT ENCODING {s}",
      "SADD {i} 1 2 3 4", "SADD {j} 3 4 5", "SADD {k} 4 5 6 7 8", "SINTER {i} {j}", "SINTER {k} {i} {j}", "SUNION {i} {j}",
      "SUNION {i} {none} {k}", "SDIFF {i} {j}", "SDIFF {j} {i} {k}", "SDIFF {none} {i}", "SINTER {i} {none}", "SINTER {none}",
      "SUNION {none}", "SINTERSTORE {d} {i} {j}", "SMEMBERS {d}", "OBJECT ENCODING {d}", "SUNIONSTORE {d} {i} {k}",
      "SMEMBERS {d}", "SDIFFSTORE {d} {i} {j} {i}", "EXISTS {d}", "SET {d} x", "SINTERSTORE {d} {i} {none}", "EXISTS {d}",
      "SINTERCARD 2 {i} {j}", "SINTERCARD 2 {i} {j} LIMIT 1", "SINTERCARD 2 {i} {j} LIMIT 0", "SINTERCARD 3 {i} {j}",
      "SINTERCARD 0 {i}", "SINTERCARD x {i}", "SINTERCARD 1 {i} LIMIT -1", "SINTERCARD 1 {i} LIMIT x",
      "SINTERCARD 1 {i} LIMIT", "SINTERCARD 1 {i} FOO 1", "SINTERCARD 2 {i} {j} LIMIT 1 LIMIT 5", "SINTERCARD 1 {none}",
      "SET {str} x", "SINTER {none} {str}", "SINTER {i} {str}", "SUNION {str}", "SDIFF {none} {str}", "SINTERCARD 2 {i} {str}",
      "SINTERSTORE {d} {none} {str}", "SUNIONSTORE {d} {str}", "SADD {str} 1", "SREM {str} 1", "SMEMBERS {str}",
      "SISMEMBER {str} 1", "SCARD {str}", "SPOP {str}", "SRANDMEMBER {str}", "SSCAN {str} 0", "SMISMEMBER {str} 1",
      "SMOVE {i} {j} 1", "SMEMBERS {i}", "SMEMBERS {j}", "SMOVE {i} {j} 9", "SMOVE {i} {str} 2", "SMOVE {str} {i} 2",
      "SMOVE {none} {str} 2", "SMOVE {i} {i} 2", "SMOVE {i} {i} 9", "SMOVE {i} {fresh} 2", "SMEMBERS {fresh}",
      "OBJECT ENCODING {fresh}", "SMOVE {fresh} {i} 2", "EXISTS {fresh}", "SMOVE {i} {j} x",
      "SPOP {none}", "SPOP {none} 3", "SPOP {i} 0", "SPOP {i} -1", "SPOP {i} x", "SPOP {i} 1 2", "SRANDMEMBER {none}",
      "SRANDMEMBER {none} 5", "SRANDMEMBER {none} -5", "SRANDMEMBER {i} 100", "SRANDMEMBER {i} 0", "SRANDMEMBER {i} x",
      "SRANDMEMBER {i} 1 2", "SRANDMEMBER {i} -9223372036854775808", "SSCAN {i} 0", "SSCAN {i} 0 MATCH 2", "SSCAN {i} 0 COUNT 1",
      "SSCAN {i} 0 NOVALUES", "SSCAN {i} 0 COUNT 0", "SSCAN {i} x", "SSCAN {none} 0", "SSCAN {i} -1", "SPOP {i} 10",
      "EXISTS {i}", "SADD {p} 1", "SPOP {p}", "EXISTS {p}", "SADD {s}", "SREM {s}", "SINTERCARD 1",
    ];

    it("intset sets and the algebra on them: replies and errors, RESP2", async () => {
      section++;
      await same(intsetCases);
    });

    it("the same in RESP3", async () => {
      section++;
      await resp(3);
      try {
        await same(intsetCases);
      } finally {
        await resp(2);
      }
    });

    it("hashtable sets: members compared as sorted lists", async () => {
      section++;
      await same(["SADD {a} x y z 1 2", "OBJECT ENCODING {a}", "SADD {b} y z w 2 3", "SADD {n} 1 2 3", "SCARD {a}"]);
      await unordered([
        "SMEMBERS {a}", "SINTER {a} {b}", "SINTER {n} {a}", "SUNION {a} {b} {n}", "SDIFF {a} {b}", "SDIFF {n} {a}",
        "SRANDMEMBER {a} 100",
      ]);
      await same([
        "SINTERSTORE {d} {a} {b}", "OBJECT ENCODING {d}", "SINTERSTORE {d} {n} {a}", "OBJECT ENCODING {d}", "SMEMBERS {d}",
        "SUNIONSTORE {d} {a} {n}", "OBJECT ENCODING {d}", "SDIFFSTORE {d} {a} {b}", "OBJECT ENCODING {d}",
        "SDIFFSTORE {d} {n} {a}", "SMEMBERS {d}", "OBJECT ENCODING {d}", "SINTERCARD 2 {a} {b}", "SREM {a} x y z 1 2",
        "EXISTS {a}", "SADD {a} 5", "OBJECT ENCODING {a}", "SMOVE {b} {n} w", "OBJECT ENCODING {n}", "SMISMEMBER {n} w 1 q",
      ]);
    });

    it("binary members: NUL, CR/LF, invalid UTF-8, empty", async () => {
      section++;
      const odd = [Buffer.from("a\0b"), Buffer.from("\r\n"), Buffer.from([0xff, 0xfe, 0x80]), Buffer.alloc(0), Buffer.from("é")];
      const key = bytes(`${prefix()}bin`);
      await same([["SADD", key, ...odd, odd[0]], ["SCARD", key], ["SMISMEMBER", key, ...odd, Buffer.from("a")],
        ["SREM", key, odd[1]], ["SISMEMBER", key, odd[1]], ["OBJECT", "ENCODING", key]]);
      await unordered([["SMEMBERS", key]]);
    });

    it("randomized sequences cross set-max-intset-entries, OBJECT ENCODING after every step", async () => {
      for (const seed of [11, 12, 13, 14]) {
        section++;
        const random = rng(seed);
        const member = () => (random() < 0.05 ? "m" + Math.floor(random() * 5) : String(Math.floor(random() * 60) - 20));
        await same(["CONFIG SET set-max-intset-entries 16"]);
        for (let step = 0; step < 100; step++) {
          const op = random();
          const key = random() < 0.7 ? "{a}" : "{b}";
          const cmd = op < 0.45 ? `SADD ${key} ${member()} ${member()} ${member()}`
            : op < 0.6 ? `SREM ${key} ${member()} ${member()}`
            : op < 0.7 ? `SMOVE {a} {b} ${member()}`
            : op < 0.8 ? "SINTERSTORE {c} {a} {b}"
            : op < 0.9 ? "SUNIONSTORE {c} {a} {b}"
            : "SDIFFSTORE {c} {a} {b}";
          const replies = await same([cmd, "OBJECT ENCODING {a}", "OBJECT ENCODING {b}", "OBJECT ENCODING {c}", "SCARD {a}",
            `SISMEMBER {a} ${member()}`, "SINTERCARD 2 {a} {b}"]);
          for (const [i, k] of ["{a}", "{b}", "{c}"].entries()) {
            const listing = [`SMEMBERS ${k}`, `SUNION ${k}`, `SSCAN ${k} 0 COUNT 1000`];
            if (replies[i + 1].toString().includes("hashtable")) await unordered([`SMEMBERS ${k}`, `SUNION ${k}`]);
            else await same(listing);
          }
        }
        await same(["CONFIG SET set-max-intset-entries 512"]);
      }
    });

    it("SPOP SRANDMEMBER SSCAN by content on a hashtable set", async () => {
      section++;
      const members = Array.from({ length: 1000 }, (_, i) => `m${i}`);
      await mine([["SADD", `${prefix()}s`, ...members]]);
      const seen = new Set<string>();
      let cursor = "0";
      do {
        const [r] = await mine([`SSCAN {s} ${cursor} COUNT 33`]);
        const [next, items] = decode(r) as [string, string[]];
        for (const m of items) seen.add(m);
        cursor = next;
      } while (cursor !== "0");
      assert.equal(seen.size, 1000);
      const [some, repeated, one, popped, left, popAll, gone] = await mine([
        "SRANDMEMBER {s} 400", "SRANDMEMBER {s} -3000", "SRANDMEMBER {s}", "SPOP {s} 600", "SCARD {s}", "SPOP {s} 1000", "EXISTS {s}",
      ]);
      assert.equal(new Set(decode(some) as string[]).size, 400);
      assert.equal((decode(repeated) as string[]).length, 3000);
      assert.ok(members.includes(decode(one) as string));
      const poppedSet = new Set(decode(popped) as string[]);
      assert.equal(poppedSet.size, 600);
      assert.equal(decode(left), 400);
      const rest = decode(popAll) as string[];
      assert.equal(rest.length, 400);
      for (const m of rest) assert.ok(!poppedSet.has(m) && members.includes(m));
      assert.equal(decode(gone), 0);
      // Intset pops and picks stay within the set.
      const [, pick, pop, card] = await mine(["SADD {n} 1 2 3 4 5", "SRANDMEMBER {n} 3", "SPOP {n} 2", "SCARD {n}"]);
      assert.equal(new Set(decode(pick) as string[]).size, 3);
      assert.equal((decode(pop) as string[]).length, 2);
      assert.equal(decode(card), 3);
    });

    it("a 1,000,000-member set built with pipelined batches", async () => {
      section++;
      const key = `${prefix()}big`;
      const BATCH = 1000;
      for (let start = 0; start < 1_000_000; start += 50 * BATCH) {
        const cmds: Arg[][] = [];
        for (let b = start; b < start + 50 * BATCH; b += BATCH) {
          const cmd: Arg[] = ["SADD", key];
          for (let i = b; i < b + BATCH; i++) cmd.push(i % 3 === 0 ? String(i) : `member:${i}`);
          cmds.push(cmd);
        }
        await same(cmds);
      }
      await same([
        `SCARD ${key}`, `SISMEMBER ${key} 999999`, `SISMEMBER ${key} member:999998`, `SMISMEMBER ${key} 3 member:3 member:4`,
        `SREM ${key} 0 member:1 nope`, `SCARD ${key}`, `OBJECT ENCODING ${key}`, `SINTERCARD 1 ${key} LIMIT 10`,
        `SADD ${prefix()}few 3 6 member:4 x`, `SINTERCARD 2 ${prefix()}few ${key}`, `DEL ${key}`,
      ]);
    });
  });
}
