/**
 * DUMP, RESTORE and DEBUG DIGEST / DIGEST-VALUE / OBJECT against a real
 * redis-server 7.0: digests equal on random datasets of every type and
 * encoding; payloads cross both ways (redis-server's DUMP restores in
 * Respite and Respite's in redis-server) with equal values, deadlines,
 * encodings and digests; RESTORE's options, errors and keyspace events
 * byte for byte; and a short fuzz run of damaged payloads (the long one is
 * bench/restore-fuzz.ts) that must be refused with Redis's two errors,
 * never a crash or a half-made key.
 */
import { beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, sharedRedis } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { type Cmd, DiffPair, diffSuite, rng, show } from "../lib/diff.ts";
import { decode, text } from "../lib/keyspace.ts";
import type { RespValue } from "../../core/resp/decoder.ts";
import { mutate, readBack, RESTORE_ERRORS, SEED_KEYS, seedCommands, STREAM_SEED_KEYS, streamSeedCommands, withTrailer } from "../lib/dump-fuzz.ts";

const redis = sharedRedis();
const buf = (a: string | Uint8Array) => (typeof a === "string" ? Buffer.from(a, "latin1") : Buffer.from(a));
const cmd = (...args: Array<string | Uint8Array | number>): Cmd => args.map((a) => (typeof a === "number" ? a : buf(a)));

/**
 * A random dataset: every type in small (compact encoding) and large sizes,
 * binary keys and values, integer-looking strings and members, LZF-able
 * strings, deadlines on some keys, spread over a few databases.
 */
function randomDataset(seed: number, keys: number): Cmd[] {
  const rnd = rng(seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => pick(256)));
  const element = (): string | Buffer => {
    switch (pick(6)) {
      case 0: return String(pick(1000));
      case 1: return String(pick(2 ** 31) - 2 ** 30) + (rnd() < 0.3 ? "1234567890" : "");
      case 2: return bytes(1 + pick(12));
      case 3: return "e" + pick(100000);
      case 4: return "r".repeat(pick(3) === 0 ? 70 : 3) + pick(1000);
      default: return "m:" + pick(1e9).toString(36);
    }
  };
  const score = () => [String(pick(100)), (rnd() * 1e6 - 5e5).toString(), "1e" + (pick(600) - 300), "-inf", "inf"][pick(5)];
  const size = () => (rnd() < 0.7 ? 1 + pick(20) : 129 + pick(700));
  const out: Cmd[] = [];
  for (let i = 0; i < keys; i++) {
    if (rnd() < 0.1) out.push(cmd("SELECT", String(pick(4))));
    const key = rnd() < 0.2 ? Buffer.concat([buf("bin:"), bytes(1 + pick(8))]) : buf(`k:${seed}:${i}`);
    const n = size();
    switch (pick(7)) {
      case 0: out.push(cmd("SET", key, element())); break;
      case 1: out.push(cmd("SET", key, String(pick(1e6) * (pick(2) ? -1 : 1)))); break;
      case 2: out.push(cmd("SET", key, (rnd() < 0.5 ? "abcabcabc" : "z").repeat(10 + pick(500)))); break;
      case 3: out.push(cmd("RPUSH", key, ...Array.from({ length: n }, element))); break;
      case 4: out.push(cmd("SADD", key, ...Array.from({ length: n }, () => (rnd() < 0.5 ? String(pick(1e5) - 5e4) : element())))); break;
      case 5: out.push(cmd("HSET", key, ...Array.from({ length: n }, () => [element(), element()]).flat())); break;
      default: out.push(cmd("ZADD", key, ...Array.from({ length: n }, () => [score(), element()]).flat()));
    }
    if (rnd() < 0.25) out.push(cmd("PEXPIRE", key, String(1e6 + pick(1e8))));
  }
  out.push(cmd("SELECT", "0"));
  return out;
}

/** Every key in the current db of conn. */
async function allKeys(conn: RawConnection): Promise<Buffer[]> {
  return (decode(await conn.call("KEYS", "*")) as Uint8Array[]).map((k) => Buffer.from(k));
}

/**
 * Copies every key of dbs 0-3 from one server to the other with DUMP and
 * RESTORE ... ABSTTL, then checks each key's digest, encoding, deadline and
 * DEBUG OBJECT line, and the whole dataset's digest, on both.
 */
async function copyAndCompare(pair: DiffPair, from: RawConnection, to: RawConnection): Promise<number> {
  let copied = 0;
  for (let db = 0; db < 4; db++) {
    await from.call("SELECT", db);
    await to.call("SELECT", db);
    const keys = await allKeys(from);
    const payloads = await from.pipeline(keys.map((k) => ["DUMP", k]));
    const deadlines = await from.pipeline(keys.map((k) => ["PEXPIRETIME", k]));
    const restores = keys.map((k, i) => {
      const at = decode(deadlines[i]) as number;
      return ["RESTORE", k, at < 0 ? 0 : at, Buffer.from(decode(payloads[i]) as Uint8Array), "ABSTTL"];
    });
    const replies = await to.pipeline(restores);
    replies.forEach((r, i) => assert.equal(show(r), show(Buffer.from("+OK\r\n")), `RESTORE of ${show(keys[i])}`));
    for (const probe of ["DEBUG DIGEST-VALUE", "OBJECT ENCODING", "PEXPIRETIME", "TYPE"]) {
      const cmds = keys.map((k) => [...probe.split(" "), k]);
      const [a, b] = await Promise.all([from.pipeline(cmds), to.pipeline(cmds)]);
      a.forEach((r, i) => assert.equal(show(b[i]), show(r), `${probe} ${show(keys[i])}`));
    }
    copied += keys.length;
    // serializedlength without LZF here: compression has its own test below.
    await pair.same("CONFIG", "SET", "rdbcompression", "no");
    for (const k of keys) await sameObjectLine(pair, k);
    await pair.same("CONFIG", "SET", "rdbcompression", "yes");
  }
  await from.call("SELECT", 0);
  await to.call("SELECT", 0);
  assert.equal(show(await to.call("DEBUG", "DIGEST")), show(await from.call("DEBUG", "DIGEST")), "DEBUG DIGEST");
  return copied;
}

/** DEBUG OBJECT's line for key on both servers, equal but for the address and the LRU clock. */
async function sameObjectLine(pair: DiffPair, key: string | Buffer): Promise<void> {
  const [a, b] = await Promise.all([pair.redis.call("DEBUG", "OBJECT", key), pair.respite.call("DEBUG", "OBJECT", key)]);
  const fields = (r: Buffer) => r.toString("latin1").replace(/^\+Value at:0x[0-9a-f]+ /, "").replace(/ lru:\d+ lru_seconds_idle:\d+/, "");
  assert.match(b.toString("latin1"), /^\+Value at:0x[0-9a-f]+ refcount:\d+ encoding:\S+ serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+/);
  assert.equal(fields(b), fields(a), `DEBUG OBJECT ${show(Buffer.from(key))}`);
}

for (const rt of RUNTIMES) {
  describe(`DUMP, RESTORE and DEBUG digests under ${rt}`, () => {
    const s = diffSuite(redis, rt);
    beforeEach(async () => {
      await s.pair.same("FLUSHALL");
      await s.pair.same("SELECT", "0");
    });

    it("has Redis's command table entries and DEBUG's replies for bad subcommands", async () => {
      await s.pair.same("COMMAND", "INFO", "dump", "restore");
      await s.pair.same("DUMP");
      await s.pair.same("DUMP", "a", "b");
      await s.pair.same("RESTORE", "a", "0");
      await s.pair.same("DEBUG", "DIGEST", "x");
      await s.pair.same("DEBUG", "OBJECT");
      await s.pair.same("DEBUG", "OBJECT", "nokey");
      await s.pair.same("DEBUG", "DIGEST-VALUE");
      await s.pair.same("DEBUG", "DIGEST-VALUE", "nokey", "other");
      await s.pair.same("DEBUG", "DIGEST");
      await s.pair.same("DUMP", "nokey");
    });

    it("DEBUG DIGEST and DIGEST-VALUE equal redis-server's on random datasets", async () => {
      for (const seed of [1, 2, 3]) {
        await s.pair.sameAll(randomDataset(seed, 150));
        await s.pair.sameAll(seedCommands().map((c) => cmd(...c)));
        await s.pair.same("DEBUG", "DIGEST");
        for (let db = 0; db < 4; db++) {
          await s.pair.same("SELECT", String(db));
          const keys = await allKeys(s.pair.redis);
          await s.pair.same("DEBUG", "DIGEST-VALUE", ...keys);
        }
        await s.pair.same("SELECT", "0");
        // Changes move the digest the same way: deletions, a persisted deadline, an element changed.
        await s.pair.same("DEL", SEED_KEYS[0], SEED_KEYS[5]);
        await s.pair.same("PERSIST", `k:${seed}:3`);
        await s.pair.same("LSET", "seed:list", "0", "changed");
        await s.pair.same("DEBUG", "DIGEST");
        await s.pair.same("FLUSHALL");
      }
    });

    it("DEBUG OBJECT prints Redis's fields, the address aside", async () => {
      await s.pair.sameAll(seedCommands().map((c) => cmd(...c)));
      const check = (key: string) => sameObjectLine(s.pair, key);
      for (const key of SEED_KEYS) await check(key);
      // ql_compressed follows list-compress-depth (for Redis: the one at the list's creation, see DIFFERENCES.md).
      await s.pair.sameAll([cmd("CONFIG", "SET", "list-compress-depth", "1"), cmd("RPUSH", "compressed", "a", "b")]);
      await check("compressed");
      await s.pair.same("CONFIG", "SET", "list-compress-depth", "0");
    });

    it("redis-server's DUMP payloads restore in Respite with equal values, deadlines, encodings and digests", async () => {
      await s.pair.redis.pipeline([...randomDataset(7, 300), ...seedCommands().map((c) => cmd(...c))]);
      const n = await copyAndCompare(s.pair, s.pair.redis, s.pair.respite);
      assert.ok(n > 250, `copied ${n} keys`);
    });

    it("Respite's DUMP payloads restore in redis-server with equal values, deadlines, encodings and digests", async () => {
      await s.pair.respite.pipeline([...randomDataset(8, 300), ...seedCommands().map((c) => cmd(...c))]);
      const n = await copyAndCompare(s.pair, s.pair.respite, s.pair.redis);
      assert.ok(n > 250, `copied ${n} keys`);
    });

    it("DUMP gives redis-server's bytes where the encoding fixes them", async () => {
      await s.pair.sameAll(seedCommands().map((c) => cmd(...c)));
      for (const key of SEED_KEYS.filter((k) => !/bigset|bighash|widehash|bigzset|:set$/.test(k))) await s.pair.same("DUMP", key);
      await s.pair.same("CONFIG", "SET", "rdbcompression", "no");
      await s.pair.same("DUMP", "seed:lzf");
      await s.pair.same("CONFIG", "SET", "rdbcompression", "yes");
    });

    it("compresses strings with LZF exactly as redis-server does", async () => {
      for (const unit of ["z", "abcabcabc", "ab", "abcdefgh", "hello world "]) {
        const values = Array.from({ length: 300 }, (_, n) => unit.repeat(n + 1)).filter((v) => v.length > 20);
        await s.pair.sameAll(values.map((v, i) => cmd("SET", `lzf:${unit}:${i}`, v)));
        await s.pair.sameAll(values.map((_, i) => cmd("DUMP", `lzf:${unit}:${i}`)));
      }
    });

    it("RESTORE gives a value the encoding the server's thresholds call for, as redis-server does", async () => {
      await s.pair.redis.pipeline(seedCommands().map((c) => cmd(...c)));
      const payloads = (await s.pair.redis.pipeline(SEED_KEYS.map((k) => ["DUMP", k]))).map((r) => Buffer.from(decode(r) as Uint8Array));
      const limits = ["hash-max-listpack-entries", "zset-max-listpack-entries", "set-max-intset-entries", "list-max-listpack-size"];
      const values = ["hash-max-listpack-value", "zset-max-listpack-value"];
      const original: Uint8Array[] = [];
      for (const l of [...limits, ...values]) original.push((decode(await s.pair.redis.call("CONFIG", "GET", l)) as Uint8Array[])[1]);
      for (const [entries, value] of [["3", "8"], ["1000", "1000"]]) {
        await s.pair.sameAll([
          ...limits.map((l) => cmd("CONFIG", "SET", l, l.startsWith("list") ? "2" : entries)),
          ...values.map((l) => cmd("CONFIG", "SET", l, value)),
        ]);
        await s.pair.sameAll(SEED_KEYS.map((k, i) => cmd("RESTORE", "copy:" + k, "0", payloads[i], "REPLACE")));
        for (const k of SEED_KEYS) {
          await s.pair.same("OBJECT", "ENCODING", "copy:" + k);
          await s.pair.same("DEBUG", "DIGEST-VALUE", "copy:" + k);
          await sameObjectLine(s.pair, "copy:" + k);
        }
      }
      await s.pair.sameAll([...limits, ...values].map((l, i) => cmd("CONFIG", "SET", l, original[i])));
    });

    it("RESTORE's options and errors match byte for byte, keyspace events included", async () => {
      await s.pair.redis.call("SET", "src", "value");
      const p = Buffer.from(decode(await s.pair.redis.call("DUMP", "src")) as Uint8Array);
      await s.pair.redis.call("DEL", "src");
      const subs = await Promise.all([RawConnection.connect(redis().port), RawConnection.connect(s.respite.port)]);
      await s.pair.same("CONFIG", "SET", "notify-keyspace-events", "KEA");
      await Promise.all(subs.map((c) => c.call("PSUBSCRIBE", "*")));
      const future = Date.now() + 1e7;
      const badVersion = withTrailer(p.subarray(0, p.length - 10), 11);
      const badCrc = Buffer.from(p);
      badCrc[badCrc.length - 1] ^= 1;
      const script: Cmd[] = [
        cmd("RESTORE", "k", "0", p), cmd("GET", "k"), cmd("RESTORE", "k", "0", p), cmd("RESTORE", "k", "0", p, "REPLACE"),
        cmd("RESTORE", "k", "-1", p, "REPLACE"), cmd("RESTORE", "k", "abc", p, "REPLACE"), cmd("RESTORE", "k2", "-1", p),
        cmd("RESTORE", "k", "0", p, "IDLETIME"), cmd("RESTORE", "k", "0", p, "IDLETIME", "-1", "REPLACE"),
        cmd("RESTORE", "k", "0", p, "IDLETIME", "x", "REPLACE"), cmd("RESTORE", "k", "0", p, "FREQ", "256", "REPLACE"),
        cmd("RESTORE", "k", "0", p, "FREQ", "-1", "REPLACE"), cmd("RESTORE", "k", "0", p, "FREQ", "5", "IDLETIME", "5", "REPLACE"),
        cmd("RESTORE", "k", "0", p, "IDLETIME", "5", "FREQ", "5", "REPLACE"), cmd("RESTORE", "k", "0", p, "FOO"),
        cmd("RESTORE", "k", "0", p, "REPLACE", "IDLETIME", "1000"), cmd("RESTORE", "k", "0", p, "replace", "freq", "100"),
        cmd("RESTORE", "k", "100000", p, "REPLACE"), cmd("TTL", "k"), cmd("RESTORE", "k", "1", p, "REPLACE", "ABSTTL"),
        cmd("EXISTS", "k"), cmd("RESTORE", "k3", "1", p, "ABSTTL"), cmd("EXISTS", "k3"),
        cmd("RESTORE", "k", String(future), p, "ABSTTL"), cmd("PEXPIRETIME", "k"),
        cmd("RESTORE", "k4", "0", badCrc), cmd("RESTORE", "k4", "0", badVersion), cmd("RESTORE", "k4", "0", ""),
        cmd("RESTORE", "k4", "0", "short"), cmd("RESTORE", "k4", "0", withTrailer(Buffer.from([0, 0x80]))),
        cmd("RESTORE", "k4", "0", withTrailer(Buffer.from([42, 1, 65]))), cmd("EXISTS", "k4"),
        cmd("RESTORE", "k", "0", badCrc, "REPLACE"), cmd("GET", "k"), cmd("PUBLISH", "end", "x"),
      ];
      await s.pair.sameAll(script);
      const events = await Promise.all(subs.map(async (c) => {
        const seen: string[] = [];
        for (;;) {
          const [r] = await c.readReplies(1);
          seen.push(r.toString("latin1"));
          if (r.includes("end")) return seen;
        }
      }));
      assert.deepEqual(events[1], events[0]);
      assert.ok(events[0].some((e) => e.includes("restore")));
      subs.forEach((c) => c.close());
      await s.pair.same("CONFIG", "SET", "notify-keyspace-events", "");
    });

    it("refuses 2,000 damaged payloads with Redis's errors, never an internal error or a half-made key", async () => {
      await s.pair.redis.pipeline([...seedCommands(), ...streamSeedCommands()].map((c) => cmd(...c)));
      const keys = [...SEED_KEYS, ...STREAM_SEED_KEYS];
      const payloads = (await s.pair.redis.pipeline(keys.map((k) => ["DUMP", k]))).map((r) => decode(r) as Uint8Array);
      const conn = s.pair.respite;
      await conn.call("SET", "victim", "before");
      const rnd = rng(11);
      let ok = 0;
      const counts = new Map<string, number>();
      for (let i = 0; i < 2000; i++) {
        // The second half with every entry checked at RESTORE time (sanitize-dump-payload yes).
        if (i === 1000) await conn.call("CONFIG", "SET", "sanitize-dump-payload", "yes");
        const damaged = Buffer.from(mutate(payloads, rnd));
        const replace = i % 2 === 1;
        const key = replace ? "victim" : "fuzz";
        const r = decode(await conn.call("RESTORE", key, "0", damaged, ...(replace ? ["REPLACE"] : [])));
        if (r instanceof Error) {
          assert.ok(RESTORE_ERRORS.includes(r.message), `mutation ${i}: ${r.message}`);
          counts.set(r.message, (counts.get(r.message) ?? 0) + 1);
          if (replace) assert.equal(text(decode(await conn.call("GET", "victim"))), "before", `mutation ${i} left the old value`);
          else assert.equal(decode(await conn.call("EXISTS", "fuzz")), 0, `mutation ${i} left a key`);
          continue;
        }
        assert.equal(r, "OK");
        ok++;
        const type = text(decode(await conn.call("TYPE", key)));
        for (const read of readBack(type, key)) {
          const reply = decode(await conn.call(...read.map(buf))) as RespValue;
          assert.ok(!(reply instanceof Error), `mutation ${i}: ${read.join(" ")} -> ${String(reply)}`);
        }
        await conn.call("DEL", "fuzz");
        await conn.call("SET", "victim", "before");
      }
      assert.ok((counts.get(RESTORE_ERRORS[0]) ?? 0) > 50 && (counts.get(RESTORE_ERRORS[1]) ?? 0) > 500, JSON.stringify([...counts, ok]));
      await conn.call("CONFIG", "SET", "sanitize-dump-payload", "no");
      assert.equal(text(decode(await conn.call("PING"))), "PONG");
    });
  });
}
