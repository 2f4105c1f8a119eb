/**
 * List commands, differential against redis-server on every runtime: each
 * command's edge cases and errors, binary elements, randomized sequences
 * crossing node boundaries by count (list-max-listpack-size > 0) and by
 * bytes (big elements) with OBJECT ENCODING checked after each step, and a
 * million-element list read in the middle.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, type ServerHandle, startRedis, startRespite } from "../lib/servers.ts";
import { type Cmd, DiffPair, rng } from "../lib/diff.ts";

const EDGE_CASES: Cmd[] = [
  ["set", "s", "x"],
  ["rpush", "l", "a", "b", "c", "a", "b", "a"],
  ["lpush", "l", "z"], ["lpushx", "nokey", "a"], ["rpushx", "nokey", "a"], ["lpushx", "l", "1", "2"], ["rpushx", "s", "a"],
  ["lpush", "s", "a"], ["rpush", "l"], ["llen", "l"], ["llen", "nokey"], ["llen", "s"],
  ["lrange", "l", "0", "-1"], ["lrange", "l", "-100", "100"], ["lrange", "l", "2", "1"], ["lrange", "l", "5", "5"],
  ["lrange", "l", "9223372036854775807", "-9223372036854775808"], ["lrange", "l", "x", "1"], ["lrange", "nokey", "x", "1"],
  ["lrange", "s", "0", "x"], ["lrange", "s", "0", "1"], ["lrange", "nokey", "0", "-1"], ["lrange", "l", "-3", "-1"],
  ["lindex", "l", "0"], ["lindex", "l", "-1"], ["lindex", "l", "100"], ["lindex", "l", "-100"], ["lindex", "l", "x"],
  ["lindex", "nokey", "x"], ["lindex", "s", "x"],
  ["lset", "nokey", "0", "a"], ["lset", "nokey", "x", "a"], ["lset", "l", "50", "a"], ["lset", "l", "x", "a"], ["lset", "s", "0", "a"],
  ["lset", "l", "-1", "last"], ["lset", "l", "0", "first"],
  ["linsert", "l", "middle", "a", "b"], ["linsert", "nokey", "before", "a", "b"], ["linsert", "l", "before", "zz", "b"],
  ["linsert", "l", "AFTER", "a", "after-a"], ["linsert", "l", "before", "a", "before-a"], ["linsert", "s", "before", "a", "b"],
  ["lrem", "l", "x", "a"], ["lrem", "nokey", "0", "a"], ["lrem", "s", "0", "a"], ["lrem", "l", "-1", "a"], ["lrem", "l", "1", "b"],
  ["lrem", "l", "0", "nothing"], ["lrange", "l", "0", "-1"],
  ["lpos", "l", "a"], ["lpos", "l", "b", "rank", "-1"], ["lpos", "l", "a", "rank", "0"], ["lpos", "l", "a", "count", "-1"],
  ["lpos", "l", "a", "maxlen", "-1"], ["lpos", "l", "a", "count", "x"], ["lpos", "l", "a", "maxlen", "x"], ["lpos", "l", "a", "rank", "x"],
  ["lpos", "l", "a", "rank", "-9223372036854775808"], ["lpos", "l", "a", "rank", "-9223372036854775807"],
  ["lpos", "l", "a", "rank", "9223372036854775807"], ["lpos", "l", "a", "maxlen", "9223372036854775808"],
  ["lpos", "nokey", "a"], ["lpos", "nokey", "a", "count", "0"], ["lpos", "nokey", "a", "foo"], ["lpos", "l", "a", "rank"],
  ["lpos", "s", "a"], ["lpos", "l", "a", "count", "0", "maxlen", "0"], ["lpos", "l", "a", "rank", "2", "count", "0"],
  ["lpos", "l", "a", "rank", "-2", "count", "2", "maxlen", "4"], ["lpos", "l", "a", "RANK", "1", "count", "1", "rank", "-1"],
  ["lpop", "l", "x"], ["lpop", "s"], ["lpop", "s", "0"], ["lpop", "nokey", "-1"], ["lpop", "s", "-1"], ["lpop", "nokey", "0"],
  ["lpop", "nokey"], ["lpop", "nokey", "2"], ["lpop", "l", "0"], ["rpop", "l", "0"], ["lpop", "l", "1"], ["rpop", "l", "2"],
  ["lpop", "l"], ["rpop", "l"], ["lpop", "l", "1", "2"],
  ["lmove", "l", "d", "middle", "left"], ["lmove", "l", "d", "left", "x"], ["lmove", "nokey", "d", "up", "left"],
  ["lmove", "s", "d", "left", "left"], ["lmove", "l", "s", "left", "left"], ["lmove", "nokey", "s", "left", "left"],
  ["lmove", "l", "l", "left", "right"], ["lmove", "l", "d", "RIGHT", "LEFT"], ["rpoplpush", "l", "l"], ["rpoplpush", "l", "d"],
  ["rpoplpush", "nokey", "d"], ["rpoplpush", "s", "d"], ["rpoplpush", "d", "s"], ["lrange", "d", "0", "-1"],
  ["lmpop", "0", "l", "left"], ["lmpop", "-1", "l", "left"], ["lmpop", "2", "l", "left"], ["lmpop", "1", "l", "middle"],
  ["lmpop", "1", "l", "left", "count", "0"], ["lmpop", "1", "l", "left", "count", "-1"], ["lmpop", "1", "l", "left", "count", "x"],
  ["lmpop", "1", "l", "left", "count", "1", "count", "2"], ["lmpop", "1", "l", "left", "foo"], ["lmpop", "1", "l", "left", "count"],
  ["lmpop", "99999999999", "l", "left"], ["lmpop", "x", "l", "left"], ["lmpop", "1", "nokey", "left"],
  ["lmpop", "2", "nokey", "s", "left"], ["lmpop", "2", "s", "l", "left"], ["lmpop", "2", "nokey", "l", "RIGHT", "COUNT", "2"],
  ["lmpop", "1", "d", "left", "count", "100"], ["exists", "d"],
  ["blpop", "l", "0.0001x"], ["blpop", "l", "-1"], ["blpop", "l", "inf"], ["blpop", "l", "1e20"], ["blpop", "l", "nan"],
  ["blpop", "s", "0"], ["blpop", "nokey", "s", "0"], ["rpush", "l", "p", "q", "r"], ["blpop", "l", "0"], ["brpop", "nokey", "l", "0"],
  ["blmpop", "0", "0", "l", "left"], ["blmpop", "x", "1", "l", "left"], ["blmpop", "0", "1", "l", "left", "count", "10"],
  ["blmove", "l", "d", "left", "x", "0"], ["blmove", "l", "d", "left", "left", "x"], ["blmove", "s", "d", "left", "left", "0"],
  ["rpush", "l", "x"], ["blmove", "l", "s", "left", "left", "0"], ["brpoplpush", "l", "d", "0"], ["lrange", "d", "0", "-1"],
  ["ltrim", "l", "x", "1"], ["ltrim", "nokey", "0", "1"], ["ltrim", "s", "0", "1"],
  ["rpush", "t", "1", "2", "3", "4", "5", "6"], ["ltrim", "t", "1", "-2"], ["lrange", "t", "0", "-1"], ["ltrim", "t", "-100", "100"],
  ["ltrim", "t", "2", "1"], ["exists", "t"], ["type", "d"], ["object", "encoding", "d"],
  ["multi"], ["blpop", "nokey", "0"], ["brpoplpush", "nokey", "d", "0"], ["blmove", "nokey", "d", "left", "left", "0"],
  ["blmpop", "0", "1", "nokey", "left"], ["exec"],
  ["hello", "3"], ["lpop", "nokey"], ["lpop", "nokey", "1"], ["lmpop", "1", "nokey", "left"], ["lpos", "nokey", "a"],
  ["blpop", "nokey", "0.001"], ["hello", "2"], ["blpop", "nokey", "0.001"], ["brpoplpush", "nokey", "d", "0.001"],
  ["blmpop", "0.001", "1", "nokey", "left"],
];

const BINARY = [
  Buffer.from([0]), Buffer.from("a\r\nb"), Buffer.from([0xff, 0xfe, 0x80, 0x00, 0x0d]), Buffer.alloc(0), Buffer.alloc(200, 0xc3),
  Buffer.alloc(20000, 0x0a),
];

/** A random list command over two keys, with elements of varied sizes so nodes fill by count and by bytes. */
function randomCommand(next: () => number, values: Buffer[]): Cmd {
  const key = next() < 0.8 ? "r" : "r2";
  const v = () => values[Math.floor(next() * values.length)];
  const idx = () => String(Math.floor(next() * 30) - 15);
  switch (Math.floor(next() * 16)) {
    case 0: case 1: case 2: return ["rpush", key, v(), v()];
    case 3: case 4: return ["lpush", key, v()];
    case 5: return ["lpop", key, ...(next() < 0.5 ? [String(Math.floor(next() * 3))] : [])];
    case 6: return ["rpop", key];
    case 7: return ["lset", key, idx(), v()];
    case 8: return ["linsert", key, next() < 0.5 ? "before" : "after", v(), v()];
    case 9: return ["lrem", key, String(Math.floor(next() * 5) - 2), v()];
    case 10: return ["ltrim", key, idx(), idx()];
    case 11: return ["lmove", key, key === "r" ? "r2" : "r", next() < 0.5 ? "left" : "right", next() < 0.5 ? "left" : "right"];
    case 12: return ["lpos", key, v(), "rank", String(next() < 0.5 ? 1 : -1), "count", "0"];
    case 13: return ["lindex", key, idx()];
    case 14: return ["lmpop", "2", "r", "r2", next() < 0.5 ? "left" : "right", "count", String(1 + Math.floor(next() * 3))];
    default: return ["lrange", key, idx(), idx()];
  }
}

let redis: ServerHandle;
before(async () => (redis = await startRedis()));
after(async () => await redis.stop());

for (const rt of RUNTIMES) {
  describe(`lists on ${rt}`, () => {
    let respite: ServerHandle;
    let d: DiffPair;
    before(async () => {
      respite = await startRespite(rt);
      d = await DiffPair.open(redis.port, respite.port);
    });
    after(async () => {
      d.close();
      await respite.stop();
    });

    test("every command's edge cases and errors", async () => {
      await d.same("flushall");
      for (const cmd of EDGE_CASES) {
        // HELLO's reply carries the connection id, which differs between the servers.
        if (cmd[0] === "hello") await Promise.all([d.redis.call(...cmd), d.respite.call(...cmd)]);
        else await d.same(...cmd);
      }
    });

    test("binary elements survive every path", async () => {
      await d.same("flushall");
      await d.same("rpush", "b", ...BINARY);
      await d.same("lpush", "b", ...BINARY);
      await d.sameAll([
        ["lrange", "b", "0", "-1"], ["lindex", "b", "5"], ["lpos", "b", BINARY[1], "count", "0"], ["lrem", "b", "1", BINARY[0]],
        ["linsert", "b", "after", BINARY[2], BINARY[5]], ["lset", "b", "3", BINARY[1]], ["lmove", "b", "b2", "left", "right"],
        ["lrange", "b", "0", "-1"], ["lrange", "b2", "0", "-1"], ["lmpop", "1", "b", "right", "count", "20"], ["exists", "b"],
      ]);
    });

    test("popped elements moved within one list stay intact (pops hand out views of the node's bytes)", async () => {
      await d.same("flushall");
      const elements = Array.from({ length: 400 }, (_, i) => `e${i}:` + "v".repeat((i * 37) % 200));
      await d.same("rpush", "rot", ...elements);
      const moves: string[][] = [];
      for (let i = 0; i < 600; i++) {
        const [from, to] = [["left", "left"], ["left", "right"], ["right", "left"], ["right", "right"]][i % 4];
        moves.push(["lmove", "rot", "rot", from, to]);
        if (i % 50 === 0) moves.push(["rpoplpush", "rot", "rot"], ["lpop", "rot", "3"], ["rpush", "rot", `new${i}`]);
      }
      await d.sameAll(moves);
      await d.sameAll([["lrange", "rot", "0", "-1"], ["lpop", "rot", "500"], ["exists", "rot"]]);
    });

    for (const [fill, seed] of [["3", 1], ["-1", 2], ["1", 3], ["-2", 4]] as const) {
      test(`randomized sequence, list-max-listpack-size ${fill}, seed ${seed}`, async () => {
        await d.same("flushall");
        await d.same("config", "set", "list-max-listpack-size", fill);
        const next = rng(seed);
        const values = [
          ...["a", "b", "c", "1", "22"].map((s) => Buffer.from(s)), Buffer.alloc(300, "x"), Buffer.alloc(3000, "y"),
          Buffer.alloc(9000, "z"), BINARY[2],
        ];
        for (let step = 0; step < 400; step++) {
          const cmd = randomCommand(next, values);
          await d.sameAll([cmd, ["llen", "r"], ["object", "encoding", "r"], ["lindex", "r", "-1"]]);
        }
        await d.sameAll([["lrange", "r", "0", "-1"], ["lrange", "r2", "0", "-1"]]);
        await d.same("config", "set", "list-max-listpack-size", "-2");
      });
    }

    test("a million elements, read in the middle", async () => {
      await d.same("flushall");
      const batch: Cmd = ["rpush", "big"];
      for (let i = 0; i < 10_000; i++) batch.push(String(i));
      const pushes: Cmd[] = Array.from({ length: 100 }, () => batch);
      await d.sameAll(pushes);
      await d.sameAll([
        ["llen", "big"], ["lindex", "big", "500000"], ["lindex", "big", "-499999"], ["lrange", "big", "499995", "500005"],
        ["lpos", "big", "9999", "rank", "50"], ["lset", "big", "600000", "mid"], ["linsert", "big", "before", "mid", "new"],
        ["lrange", "big", "599998", "600002"], ["lpush", "big", "head"], ["lindex", "big", "300000"], ["object", "encoding", "big"],
        ["ltrim", "big", "100", "-100"], ["llen", "big"], ["rpop", "big", "3"], ["lpop", "big", "3"],
      ]);
      const mem = Number((await d.respite.call("memory", "usage", "big")).toString().slice(1));
      assert.ok(Number.isNaN(mem) || mem < 60 * 1024 * 1024, `memory usage ${mem}`);
    });
  });
}
