/**
 * HyperLogLog, differential against one redis-server per run and byte for
 * byte: the replies of PFADD PFCOUNT PFMERGE PFDEBUG and, above all, the
 * GET of every HLL after random adds, so the sparse opcodes, the switch to
 * dense by hll-sparse-max-bytes (by a register past 32: in the unit test,
 * no element short of 2^32 tries reaches one), the cached cardinality and
 * the estimate are redis-server's own. Corrupted and
 * foreign strings get Redis's errors; HLLs made by either server move to
 * the other through GET/SET and DUMP/RESTORE and go on the same way.
 * Random inputs come from fixed seeds (HLL_SEED overrides), printed on failure.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, sharedRedis, startRedis, startRespite, tmpDir } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { type Cmd, diffSuite, type DiffPair, rng, show } from "../lib/diff.ts";
import { commandDocs } from "../lib/command-docs.ts";
import { incrAofAfter } from "../lib/aof-incr.ts";

const redis = sharedRedis();
const SEED = Number(process.env.HLL_SEED ?? 20261206);
const HLL_COMMANDS = ["pfadd", "pfcount", "pfmerge", "pfdebug", "pfselftest"];

const bin = (s: string) => Buffer.from(s, "latin1");

/** An HLL header: "HYLL", encoding, three unused bytes, cached cardinality (stale unless given). */
function header(encoding: number, card: Buffer = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x80]), unused = [0, 0, 0]): Buffer {
  return Buffer.concat([bin("HYLL"), Buffer.from([encoding, ...unused]), card]);
}

const sparse = (ops: number[], card?: Buffer) => Buffer.concat([header(1, card), Buffer.from(ops)]);

/** Dense bytes with every register set to value(i). */
function dense(value: (i: number) => number): Buffer {
  const regs = Buffer.alloc(12288);
  for (let i = 0; i < 16384; i++) {
    const v = value(i);
    const bit = i * 6;
    regs[bit >> 3] |= (v << (bit & 7)) & 0xff;
    if ((bit & 7) > 2) regs[(bit >> 3) + 1] |= v >> (8 - (bit & 7));
  }
  return Buffer.concat([header(0, Buffer.alloc(8)), regs]);
}

/** Random binary elements of 0..40 bytes, so every tail length of the 8-byte hash loop comes up. */
function elements(next: () => number, n: number): Buffer[] {
  return Array.from({ length: n }, () => Buffer.from(Array.from({ length: Math.floor(next() * 41) }, () => Math.floor(next() * 256))));
}

/** Runs cmds on both servers, naming the seed if a reply differs. */
async function same(pair: DiffPair, cmds: Cmd[], seed?: number): Promise<void> {
  try {
    await pair.sameAll(cmds);
  } catch (e) {
    if (seed !== undefined) (e as Error).message += `\n(seed ${seed}; rerun with HLL_SEED=${SEED})`;
    throw e;
  }
}

describe("hyperloglog command table", () => {
  const suite = diffSuite(redis, RUNTIMES[0]);
  it("answers COMMAND INFO and GETKEYSANDFLAGS with redis-server's bytes", async () => {
    await suite.pair.same("COMMAND", "INFO", ...HLL_COMMANDS);
    await suite.pair.same("COMMAND", "GETKEYSANDFLAGS", "PFMERGE", "d", "s1", "s2");
    await suite.pair.same("COMMAND", "GETKEYSANDFLAGS", "PFCOUNT", "a", "b");
  });

  it("answers COMMAND DOCS with redis-server's summary, since, group and complexity", async () => {
    const { redis: theirs, respite: ours } = suite.pair;
    assert.deepEqual(await commandDocs(ours, HLL_COMMANDS), await commandDocs(theirs, HLL_COMMANDS));
  });
});

for (const rt of RUNTIMES) {
  describe(`hyperloglog on ${rt}`, () => {
    const suite = diffSuite(redis, rt);
    let section = 0;
    /** A key of this runtime and test, so runtimes sharing the one redis-server never meet. */
    const k = (name: string) => `${rt}:${section}:${name}`;

    it("random adds: the bytes of every HLL, sparse through dense, match redis-server's", async () => {
      section++;
      const seed = SEED;
      const next = rng(seed);
      const cmds: Cmd[] = [];
      // Sizes from a handful of elements to well past the sparse limit; batches of 1 to 60 per PFADD.
      for (const [name, total] of [["a", 40], ["b", 400], ["c", 1500], ["d", 4000]] as const) {
        let added = 0;
        while (added < total) {
          const n = 1 + Math.floor(next() * (next() < 0.5 ? 3 : 60));
          cmds.push(["PFADD", k(name), ...elements(next, n)]);
          added += n;
          if (next() < 0.15) cmds.push(["GET", k(name)], ["PFCOUNT", k(name)], ["PFDEBUG", "ENCODING", k(name)]);
        }
        // Elements already seen change nothing: 0, and the cached count stays valid.
        cmds.push(["GET", k(name)], ["PFCOUNT", k(name)], ["GET", k(name)], ["OBJECT", "ENCODING", k(name)]);
      }
      cmds.push(["PFADD", k("a"), "x", "x", "x"], ["PFADD", k("a"), "x"], ["GET", k("a")], ["PFCOUNT", k("a")]);
      cmds.push(["PFDEBUG", "DECODE", k("a")], ["PFDEBUG", "DECODE", k("b")], ["PFDEBUG", "DECODE", k("d")]);
      cmds.push(["PFDEBUG", "GETREG", k("b")], ["GET", k("b")], ["PFDEBUG", "ENCODING", k("b")]);
      await same(suite.pair, cmds, seed);
    });

    it("PFCOUNT of several keys and PFMERGE: sparse, dense, missing, the destination among the sources", async () => {
      section++;
      const seed = SEED + 1;
      const next = rng(seed);
      const cmds: Cmd[] = [];
      cmds.push(["PFADD", k("s1"), ...elements(next, 30)], ["PFADD", k("s2"), ...elements(next, 50)]);
      cmds.push(["PFADD", k("d1"), ...elements(next, 3000)], ["PFADD", k("d2"), ...elements(next, 2500)]);
      cmds.push(
        ["PFCOUNT", k("s1"), k("s2")], ["PFCOUNT", k("s1"), k("d1"), k("none")], ["PFCOUNT", k("none"), k("none2")],
        ["PFCOUNT", k("d1"), k("d2"), k("s1"), k("s2")],
        ["PFMERGE", k("m1"), k("s1"), k("s2")], ["GET", k("m1")], ["PFCOUNT", k("m1")], ["GET", k("m1")],
        ["PFMERGE", k("m2"), k("s1"), k("d1")], ["GET", k("m2")], ["PFCOUNT", k("m2")],
        ["PFMERGE", k("s1"), k("s2")], ["GET", k("s1")],
        ["PFMERGE", k("s2"), k("d2")], ["GET", k("s2")], ["PFDEBUG", "ENCODING", k("s2")],
        ["PFMERGE", k("m3")], ["GET", k("m3")], ["PFMERGE", k("m3"), k("none")], ["GET", k("m3")],
        ["PFMERGE", k("d1"), k("d1")], ["GET", k("d1")],
      );
      // Many sparse sources merged into a sparse destination until it passes the sparse limit.
      for (let i = 0; i < 12; i++) cmds.push(["PFADD", k(`p${i}`), ...elements(next, 150)]);
      cmds.push(["PFMERGE", k("big"), ...Array.from({ length: 12 }, (_, i) => k(`p${i}`))], ["GET", k("big")]);
      cmds.push(["PFMERGE", k("big2"), k("p0"), k("p1"), k("p2")], ["GET", k("big2")], ["PFDEBUG", "DECODE", k("big2")]);
      await same(suite.pair, cmds, seed);
    });

    it("hll-sparse-max-bytes: a small limit, zero, and a large one that keeps big HLLs sparse", async () => {
      section++;
      const seed = SEED + 2;
      const next = rng(seed);
      const cmds: Cmd[] = [["CONFIG", "SET", "hll-sparse-max-bytes", "100"]];
      for (let i = 0; i < 30; i++) cmds.push(["PFADD", k("small"), ...elements(next, 3)], ["GET", k("small")]);
      cmds.push(["CONFIG", "SET", "hll-sparse-max-bytes", "0"], ["PFADD", k("zero"), "a"], ["GET", k("zero")]);
      cmds.push(["CONFIG", "SET", "hll-sparse-max-bytes", "20000"]);
      for (let i = 0; i < 40; i++) cmds.push(["PFADD", k("large"), ...elements(next, 300)]);
      cmds.push(["GET", k("large")], ["PFDEBUG", "ENCODING", k("large")], ["PFCOUNT", k("large")]);
      // A register at 32, the most a sparse VAL holds, kept sparse under a large limit, then merged and counted.
      cmds.push(["SET", k("v32"), sparse([0x40, 0xff, 0xfc, 0x7e, 0xfe])], ["PFDEBUG", "DECODE", k("v32")]);
      cmds.push(["PFADD", k("v32"), ...elements(next, 50)], ["GET", k("v32")], ["PFMERGE", k("v32m"), k("v32"), k("small")]);
      cmds.push(["GET", k("v32m")], ["PFCOUNT", k("v32")], ["PFCOUNT", k("v32"), k("large")]);
      cmds.push(["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]);
      await same(suite.pair, cmds, seed);
    });

    it("HLLs crafted with SET: corrupted sparse runs, registers at the limits, foreign strings", async () => {
      section++;
      const seed = SEED + 3;
      const next = rng(seed);
      const cases: Record<string, Buffer> = {
        short: bin("HYLL\x01"),
        headerOnly: sparse([]),
        xzeroShort: sparse([0x40, 0x10]),
        xzeroLong: sparse([0x7f, 0xff, 0x7f, 0xff]),
        vals: sparse([...Array(10).fill(0x80), 0x7f, 0xf0]),
        zeros: sparse(Array(300).fill(0x3f)),
        bigVal: sparse([...Array(4096).fill(0xff), 0x00]),
        encoding2: Buffer.concat([header(2), Buffer.from([0x7f, 0xff])]),
        denseShort: Buffer.concat([header(0), Buffer.alloc(100)]),
        all63: dense(() => 63),
        all50: dense(() => 50),
        mixed: dense((i) => (i * 7) % 64),
        number: bin("12"),
        text: bin("hello world, this is no HLL"),
        cachedFive: sparse([0x7f, 0xff], Buffer.from([5, 0, 0, 0, 0, 0, 0, 0])),
        unusedBytes: Buffer.concat([header(1, Buffer.alloc(8), [9, 8, 7]), Buffer.from([0x7f, 0xff])]),
        // An XZERO cut to its first byte at the end: splitting it writes past the end, and later commands read that byte.
        cutXzero: sparse([0x7f]),
        cutAfterVals: sparse([0x80, 0x84, 0x3f, 0x7e]),
      };
      const cmds: Cmd[] = [];
      for (const [name, value] of Object.entries(cases)) {
        const key = k(name);
        cmds.push(["SET", key, value], ["PFCOUNT", key], ["GET", key], ["OBJECT", "ENCODING", key]);
        cmds.push(["PFDEBUG", "ENCODING", key], ["PFDEBUG", "DECODE", key]);
        for (const n of [1, 5, 40]) cmds.push(["PFADD", key, ...elements(next, n)], ["GET", key]);
        cmds.push(["PFCOUNT", key, k("cachedFive")], ["PFMERGE", k("to") + name, key], ["GET", k("to") + name]);
        cmds.push(["PFMERGE", key, k("vals")], ["GET", key]);
        for (const sub of ["TODENSE", "GETREG"]) cmds.push(["SET", key, value], ["PFDEBUG", sub, key], ["GET", key]);
        cmds.push(["PFDEBUG", "NOSUCH", key]);
      }
      for (let i = 0; i < 6; i++) cmds.push(["PFADD", k("cutXzero"), ...elements(next, 1)], ["PFDEBUG", "DECODE", k("cutXzero")]);
      cmds.push(["PFCOUNT", k("cutXzero")], ["PFMERGE", k("fromCut"), k("cutXzero")], ["GET", k("fromCut")]);
      await same(suite.pair, cmds, seed);
    });

    it("random sparse forms, valid or with a byte changed or the tail cut, through every command", async () => {
      section++;
      const seed = SEED + 6;
      const next = rng(seed);
      const int = (n: number) => Math.floor(next() * n);
      const cmds: Cmd[] = [];
      for (let i = 0; i < 60; i++) {
        const ops: number[] = [];
        for (let total = 0; total < 16384;) {
          const t = next();
          const n = t < 0.3 ? 1 + int(64) : t < 0.5 ? 1 + int(3000) : 1 + int(4);
          if (t < 0.3) ops.push(n - 1);
          else if (t < 0.5) ops.push(0x40 | ((n - 1) >> 8), (n - 1) & 0xff);
          else ops.push(0x80 | (int(32) << 2) | (n - 1));
          total += n;
        }
        if (next() < 0.7) ops[int(ops.length)] = int(256);
        if (next() < 0.3) ops.length = int(ops.length + 1);
        const card = next() < 0.3 ? Buffer.from(Array.from({ length: 8 }, () => int(256))) : undefined;
        const value = sparse(ops, card);
        const key = k(`c${i}`);
        cmds.push(["SET", key, value]);
        for (let j = 0; j < 3; j++) cmds.push(["PFADD", key, ...elements(next, [1, 3, 30][int(3)])], ["GET", key]);
        cmds.push(["PFCOUNT", key], ["PFDEBUG", "DECODE", key], ["PFMERGE", k(`m${i}`), key, k(`c${Math.max(0, i - 1)}`)]);
        cmds.push(["GET", k(`m${i}`)], ["PFCOUNT", key, k(`m${i}`)], ["SET", key, value], ["PFDEBUG", "GETREG", key], ["GET", key]);
      }
      await same(suite.pair, cmds, seed);
    });

    it("errors: other types, arity, PFDEBUG subcommands and missing keys", async () => {
      section++;
      await same(suite.pair, [
        ["RPUSH", k("list"), "x"], ["PFADD", k("list"), "a"], ["PFCOUNT", k("list")], ["PFCOUNT", k("none"), k("list")],
        ["PFMERGE", k("d"), k("list")], ["PFMERGE", k("list"), k("none")], ["PFDEBUG", "GETREG", k("list")],
        ["SET", k("str"), "abc"], ["PFADD", k("str"), "a"], ["PFCOUNT", k("str")], ["PFMERGE", k("str")],
        ["SET", k("int"), "12345"], ["PFCOUNT", k("int")], ["SET", k("int20"), "12345678901234567890"], ["PFCOUNT", k("int20")],
        ["PFADD"], ["PFCOUNT"], ["PFMERGE"], ["PFDEBUG", "GETREG"], ["PFDEBUG", "GETREG", k("a"), "x"], ["PFSELFTEST", "x"],
        ["PFDEBUG", "GETREG", k("none")], ["PFDEBUG", "nosuch", k("none")], ["PFADD", k("h")], ["PFADD", k("h")],
        ["GET", k("h")], ["PFDEBUG", "nosuch", k("h")], ["PFDEBUG", "decode", k("h")], ["PFDEBUG", "Encoding", k("h")],
        ["PFDEBUG", "todense", k("h")], ["PFDEBUG", "todense", k("h")], ["PFDEBUG", "decode", k("h")],
        ["PFCOUNT", k("h")], ["EXISTS", k("d")],
      ]);
    });

    it("PFCOUNT that refreshes the cache is a write: WATCH sees it; a valid cache is not", async () => {
      section++;
      const cmds: Cmd[] = [["PFADD", k("w"), "a", "b"]];
      for (let i = 0; i < 2; i++) cmds.push(["WATCH", k("w")], ["PFCOUNT", k("w")], ["MULTI"], ["PING"], ["EXEC"]);
      cmds.push(["SET", k("e"), sparse([0x7f, 0xff])], ["OBJECT", "ENCODING", k("e")], ["PFCOUNT", k("e")]);
      cmds.push(["OBJECT", "ENCODING", k("e")], ["GET", k("e")]);
      await same(suite.pair, cmds);
    });

    it("keyspace events: pfadd for PFADD and PFMERGE, none for a PFADD that changes nothing", async () => {
      section++;
      const pair = suite.pair;
      await same(pair, [["CONFIG", "SET", "notify-keyspace-events", "KA"]]);
      const subs = await Promise.all([RawConnection.connect(redis().port), RawConnection.connect(suite.respite.port)]);
      try {
        await Promise.all(subs.map((s) => s.call("PSUBSCRIBE", `__keyspace@0__:${k("*")}`)));
        await same(pair, [
          ["PFADD", k("n"), "a"], ["PFADD", k("n"), "a"], ["PFMERGE", k("m"), k("n")], ["PFCOUNT", k("m")], ["DEL", k("m")],
          ["SET", k("z"), "1"],
        ]);
        // The SET's event last: an extra event from either server would shift it.
        const [a, b] = await Promise.all(subs.map((s) => s.readReplies(4)));
        assert.deepEqual(b.map(show), a.map(show));
      } finally {
        for (const s of subs) s.close();
        await same(pair, [["CONFIG", "SET", "notify-keyspace-events", ""]]);
      }
    });

    it("HLLs move between the servers by GET/SET and DUMP/RESTORE and go on the same way", async () => {
      section++;
      const { redis: r, respite: s } = suite.pair;
      const seed = SEED + 4;
      const next = rng(seed);
      for (const [n, maker, taker] of [[20, r, s], [2000, r, s], [20, s, r], [2000, s, r]] as const) {
        const key = k(`moved${n}${maker === r ? "r" : "s"}`);
        await maker.call("PFADD", key, ...elements(next, n));
        const value = await maker.call("GET", key);
        await taker.call("SET", key, value.subarray(value.indexOf("\r\n") + 2, -2));
        const dumpKey = key + ":dumped";
        const dumped = await maker.call("DUMP", key);
        for (const to of [maker, taker]) await to.call("RESTORE", dumpKey, 0, dumped.subarray(dumped.indexOf("\r\n") + 2, -2));
        const more = elements(next, n);
        await same(suite.pair, [
          ["GET", key], ["GET", dumpKey], ["PFCOUNT", key], ["PFADD", key, ...more], ["PFADD", dumpKey, ...more],
          ["GET", key], ["GET", dumpKey], ["PFCOUNT", key, dumpKey], ["DUMP", key], ["OBJECT", "ENCODING", dumpKey],
        ], seed);
      }
    });

    it("HLLs in an RDB written by redis-server load into Respite, and back, with the same bytes", async () => {
      const dir = tmpDir();
      const next = rng(SEED + 5);
      const keys = ["sparse", "dense", "cached"];
      const sizes = [200, 5000, 50];
      const origin = await startRedis(["--dir", dir, "--dbfilename", "redis.rdb"]);
      const before: Buffer[] = [];
      try {
        const conn = await RawConnection.connect(origin.port);
        for (let i = 0; i < keys.length; i++) await conn.call("PFADD", keys[i], ...elements(next, sizes[i]));
        await conn.call("PFCOUNT", "cached");
        for (const key of keys) before.push(await conn.call("GET", key));
        assert.equal((await conn.call("SAVE")).toString(), "+OK\r\n");
        conn.close();
      } finally {
        await origin.stop();
      }
      const more = elements(next, 100);
      const ours = await startRespite(rt, ["--dir", dir, "--dbfilename", "redis.rdb", "--save", ""]);
      const after: Buffer[] = [];
      try {
        const conn = await RawConnection.connect(ours.port);
        for (let i = 0; i < keys.length; i++) {
          assert.equal(show(await conn.call("GET", keys[i])), show(before[i]), keys[i]);
        }
        for (const key of keys) await conn.call("PFADD", key, ...more);
        for (const key of keys) after.push(await conn.call("GET", key));
        assert.equal((await conn.call("SAVE")).toString(), "+OK\r\n");
        conn.close();
      } finally {
        await ours.stop();
      }
      // Respite saved over redis-server's file (dbfilename is a protected config in 7.0).
      const back = await startRedis(["--dir", dir, "--dbfilename", "redis.rdb"]);
      try {
        const conn = await RawConnection.connect(back.port);
        for (let i = 0; i < keys.length; i++) assert.equal(show(await conn.call("GET", keys[i])), show(after[i]), keys[i]);
        conn.close();
      } finally {
        await back.stop();
      }
    });

    it("propagates as redis-server does: the AOF of PFADD, PFCOUNT (refreshing or not), PFDEBUG and PFMERGE is the same", async () => {
      const cmds: Cmd[] = [
        ["PFADD", "k", "a", "b", "c"], ["PFADD", "k", "a"], ["PFCOUNT", "k"], ["PFCOUNT", "k"], ["PFCOUNT", "k", "s"],
        ["PFADD", "s", "x"], ["PFDEBUG", "ENCODING", "s"], ["PFDEBUG", "GETREG", "s"], ["PFDEBUG", "TODENSE", "s"],
        ["PFDEBUG", "TODENSE", "k"], ["PFMERGE", "m", "k", "s"], ["PFADD", "s"], ["PFADD", "new"],
      ];
      const theirs = await incrAofAfter(startRedis, cmds);
      const ours = await incrAofAfter((extra) => startRespite(rt, extra), cmds);
      assert.equal(JSON.stringify(ours), JSON.stringify(theirs));
    });

    it("PFSELFTEST passes", async () => {
      const reply = await suite.pair.respite.call("PFSELFTEST");
      assert.equal(show(reply), show(bin("+OK\r\n")));
    });
  });
}
