/**
 * COMMAND against redis-server: COMMAND INFO of every command both servers
 * have (subcommands compared by name, since Redis lists them in hash
 * order), DOCS, LIST filters, GETKEYS / GETKEYSANDFLAGS and errors.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, startRedis, startRespite, type ServerHandle } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { DiffPair } from "../lib/diff.ts";
import { decodeAt, ReplyError, RespMap, type RespValue } from "../../core/resp/decoder.ts";

/** A reply as plain JSON-able data: bulk strings as text, maps as objects. */
function plain(v: RespValue): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("latin1");
  if (v instanceof ReplyError) return { error: v.message };
  if (v instanceof RespMap) return Object.fromEntries([...v].map(([k, x]) => [String(plain(k)), plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

async function call(conn: RawConnection, ...args: string[]): Promise<unknown> {
  return plain(decodeAt(await conn.call(...args), 0)![0]);
}

/** A connection speaking RESP3, so maps decode as maps. */
async function resp3(port: number): Promise<RawConnection> {
  const c = await RawConnection.connect(port);
  await c.call("HELLO", "3");
  return c;
}

async function names(conn: RawConnection, ...filter: string[]): Promise<string[]> {
  return ((await call(conn, "COMMAND", "LIST", ...filter)) as string[]).sort();
}

/** Commands whose COMMAND INFO differs on purpose (rows in test/DIFFERENCES.md). */
const DELIBERATE = new Set(["zrank", "zrevrank"]);

type Info = [string, number, string[], number, number, number, string[], string[], unknown[], Info[]];

/** COMMAND INFO of one command, keeping only the subcommands `keep` accepts, sorted by name. */
function normalize(info: Info, keep: (name: string) => boolean): Info {
  const subs = info[9].filter((s) => keep(s[0])).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return [...info.slice(0, 9), subs] as Info;
}

let redis: ServerHandle;
before(async () => {
  redis = await startRedis();
});
after(() => redis.stop());

for (const rt of RUNTIMES) {
  describe(`COMMAND on ${rt}`, () => {
    let respite: ServerHandle;
    let pair: DiffPair;
    let shared: string[];

    before(async () => {
      respite = await startRespite(rt);
      pair = await DiffPair.open(redis.port, respite.port);
      const theirs = new Set(await names(pair.redis));
      shared = (await names(pair.respite)).filter((n) => theirs.has(n));
    });
    after(async () => {
      pair.close();
      await respite.stop();
    });

    it("COMMAND INFO matches Redis for every command both have", async () => {
      const ours = new Set(await names(pair.respite));
      const theirs = new Set(await names(pair.redis));
      const both = (n: string) => ours.has(n) && theirs.has(n);
      const top = shared.filter((n) => !n.includes("|") && !DELIBERATE.has(n));
      const a = (await call(pair.respite, "COMMAND", "INFO", ...top)) as Info[];
      const b = (await call(pair.redis, "COMMAND", "INFO", ...top)) as Info[];
      const mismatched: string[] = [];
      for (let i = 0; i < top.length; i++) {
        try {
          assert.deepEqual(normalize(a[i], both), normalize(b[i], both));
        } catch (e) {
          mismatched.push(`${top[i]}: ${(e as Error).message}`);
        }
      }
      assert.deepEqual(mismatched, []);
    });

    it("COMMAND INFO of a subcommand, of unknown names, and COMMAND COUNT", async () => {
      await pair.same("COMMAND", "INFO", "config|set", "nope", "client|list");
      await pair.same("COMMAND", "INFO", "nope");
      const count = (await call(pair.respite, "COMMAND", "COUNT")) as number;
      assert.equal(count, (await names(pair.respite)).filter((n) => !n.includes("|")).length);
      assert.equal(((await call(pair.respite, "COMMAND")) as unknown[]).length, count);
    });

    it("COMMAND DOCS matches Redis for these families (arguments and history aside)", async () => {
      const mine = shared.filter((n) => /^(info|time|lastsave|role|debug|shutdown|config|client|command)(\||$)/.test(n));
      const strip = (docs: Record<string, Record<string, unknown>>) => {
        for (const d of Object.values(docs)) {
          delete d.arguments;
          delete d.history;
          if (d.subcommands) {
            const subs = d.subcommands as Record<string, Record<string, unknown>>;
            for (const k of Object.keys(subs)) if (!shared.includes(k)) delete subs[k];
            strip(subs);
          }
        }
        return docs;
      };
      const [a, b] = [await resp3(respite.port), await resp3(redis.port)];
      const ours = strip((await call(a, "COMMAND", "DOCS", ...mine)) as Record<string, Record<string, unknown>>);
      const theirs = strip((await call(b, "COMMAND", "DOCS", ...mine)) as Record<string, Record<string, unknown>>);
      assert.deepEqual(ours, theirs);
      a.close();
      b.close();
      await pair.same("COMMAND", "DOCS", "nope");
    });

    it("COMMAND DOCS has since, group, doc_flags, deprecated_since and replaced_by of Redis for every command both have", async () => {
      const [a, b] = [await resp3(respite.port), await resp3(redis.port)];
      const ours = (await call(a, "COMMAND", "DOCS", ...shared)) as Record<string, Record<string, unknown>>;
      const theirs = (await call(b, "COMMAND", "DOCS", ...shared)) as Record<string, Record<string, unknown>>;
      a.close();
      b.close();
      const notes = (d: Record<string, unknown> | undefined) => [d?.since, d?.group, d?.doc_flags, d?.deprecated_since, d?.replaced_by];
      const subs = (d: Record<string, unknown> | undefined) => (d?.subcommands ?? {}) as Record<string, Record<string, unknown>>;
      let deprecated = 0;
      for (const name of Object.keys(theirs)) {
        assert.deepEqual(notes(ours[name]), notes(theirs[name]), name);
        if (theirs[name].deprecated_since) deprecated++;
        for (const [sub, doc] of Object.entries(subs(theirs[name]))) {
          if (shared.includes(sub)) assert.deepEqual(notes(subs(ours[name])[sub]), notes(doc), sub);
        }
      }
      assert.ok(deprecated >= 15, `${deprecated} deprecated commands compared`);
      for (const geo of ["georadius", "georadiusbymember", "georadius_ro", "georadiusbymember_ro"]) {
        assert.deepEqual([...(ours[geo]?.doc_flags as string[])], ["deprecated"], geo);
      }
    });

    it("COMMAND LIST filters match Redis on the commands both have", async () => {
      for (const filter of [["FILTERBY", "PATTERN", "CONFIG*"], ["FILTERBY", "ACLCAT", "connection"], ["FILTERBY", "ACLCAT", "dangerous"], ["FILTERBY", "pattern", "c?ient|*"]]) {
        const ours = await names(pair.respite, ...filter);
        const theirs = (await names(pair.redis, ...filter)).filter((n) => shared.includes(n));
        assert.deepEqual(ours.filter((n) => shared.includes(n)), theirs, filter.join(" "));
      }
      await pair.sameAll([
        ["COMMAND", "LIST", "FILTERBY", "MODULE", "x"],
        ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nope"],
        ["COMMAND", "LIST", "FILTERBY"],
        ["COMMAND", "LIST", "FILTERBY", "foo", "x"],
        ["COMMAND", "LIST", "foo"],
      ]);
    });

    it("COMMAND GETKEYS and GETKEYSANDFLAGS match Redis", async () => {
      await pair.sameAll([
        ["COMMAND", "GETKEYS"],
        ["COMMAND", "GETKEYS", "get"],
        ["COMMAND", "GETKEYS", "nope", "a"],
        ["COMMAND", "GETKEYS", "ping", "x"],
        ["COMMAND", "GETKEYS", "get", "a"],
        ["COMMAND", "GETKEYS", "get", "a", "b"],
        ["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"],
        ["COMMAND", "GETKEYS", "config", "get", "x"],
        ["COMMAND", "GETKEYS", "config", "nope", "x"],
        ["COMMAND", "GETKEYSANDFLAGS", "get", "a"],
        ["COMMAND", "GETKEYSANDFLAGS", "mset", "a", "1", "b", "2"],
        // Flags that depend on the arguments (Redis's setGetKeys, bitfieldGetKeys, sortGetKeys).
        ["COMMAND", "GETKEYSANDFLAGS", "bitfield", "k", "GET", "u8", "0"],
        ["COMMAND", "GETKEYSANDFLAGS", "bitfield", "k"],
        ["COMMAND", "GETKEYSANDFLAGS", "bitfield", "k", "overflow", "sat", "get", "i5", "#1", "get", "u8", "0"],
        ["COMMAND", "GETKEYSANDFLAGS", "bitfield", "k", "get", "u8", "0", "set", "u8", "0", "1"],
        ["COMMAND", "GETKEYSANDFLAGS", "bitfield", "k", "incrby", "u8", "0", "1"],
        ["COMMAND", "GETKEYSANDFLAGS", "bitfield", "k", "get", "u8"],
        ["COMMAND", "GETKEYSANDFLAGS", "bitfield", "k", "nope"],
        ["COMMAND", "GETKEYSANDFLAGS", "bitfield_ro", "k", "get", "u8", "0"],
        ["COMMAND", "GETKEYSANDFLAGS", "set", "k", "v"],
        ["COMMAND", "GETKEYSANDFLAGS", "set", "k", "v", "NX", "get"],
        ["COMMAND", "GETKEYSANDFLAGS", "set", "k", "v", "px", "10", "GET"],
        ["COMMAND", "GETKEYSANDFLAGS", "set", "k", "get"],
        ["COMMAND", "GETKEYSANDFLAGS", "sort", "k"],
        ["COMMAND", "GETKEYSANDFLAGS", "sort", "k", "by", "w*", "store", "d", "get", "#"],
        ["COMMAND", "GETKEYSANDFLAGS", "sort", "k", "store"],
        ["COMMAND", "GETKEYSANDFLAGS", "sort_ro", "k", "by", "w*"],
        ["COMMAND", "GETKEYSANDFLAGS", "georadius", "k", "0", "0", "1", "km", "store", "d"],
        ["COMMAND", "GETKEYSANDFLAGS", "xreadgroup", "group", "g", "c", "streams", "a", "b", "0", "0"],
        ["COMMAND", "GETKEYSANDFLAGS", "lmpop", "2", "a", "b", "left"],
        ["COMMAND", "GETKEYSANDFLAGS", "migrate", "h", "1", "", "0", "1", "keys", "a", "b"],
        ["COMMAND", "HELP"],
        ["COMMAND", "FOO"],
      ]);
    });
  });
}
