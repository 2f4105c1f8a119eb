/**
 * globMatch against the real thing: a redis-server holds a set of awkward
 * keys, and for every pattern (hand-picked tricky ones, then random ones
 * built from the special characters) the keys its KEYS returns must be
 * exactly those globMatch accepts. KEYS "*" alone is left out: Redis
 * short-cuts it to "every key", which the KEYS command handles itself.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startRedis, type ServerHandle } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { rng } from "../lib/diff.ts";
import { decodeAt } from "../../core/resp/decoder.ts";
import { globMatch } from "../../core/util/glob.ts";

const KEYS = [
  "", "a", "b", "z", "A", "Z", "ab", "abc", "abd", "aXc", "a-c", "a]c", "a[c", "a^c", "a\\c", "a*c", "a?c",
  "-", "]", "[", "^", "\\", "*", "?", "\\\\", "[]", "[a]", "a\\", "hello", "hallo", "hxllo", "heeeello", "hllo",
  "\x00", "a\x00b", "\x7f", "\x80", "\xff", "a\xe9", "\xe9", "0", "9", "foo:bar", "foo:", ":bar", "aaaa", "aaab",
];

const TRICKY = [
  "", "**", "?", "??", "*?", "?*", "a*", "*c", "a*c", "*a*", "a**c", "***", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo",
  "h[a-b]llo", "h[b-a]llo", "[a-c]", "[c-a]", "[A-z]", "[z-A]", "[^a-c]", "[^]", "[]", "[]]", "[]a]", "[a", "[a-",
  "[^a", "[", "[\\]]", "[\\", "\\", "a\\", "a\\\\c", "\\*", "\\?", "\\[", "[\\-]", "[-a]", "[a-]", "[a-c-e]",
  "a[-]c", "a[]]c", "a[\\^]c", "a[^^]c", "[\x00-\x7f]", "[\x80-\xff]", "[\x00-\xff]", "[\xff-\x00]", "[a-\xff]",
  "[\x7f-\x80]", "a\xe9", "[\xe0-\xef]", "a[\x00]b", "*\x00*", "foo:*", "*:*", "*:", ":*", "a*a*a*b", "*a*a*b",
  "[a-z]*[a-z]", "[^a-z]*", "*[", "*[a", "*\\", "?\\", "[]-]", "[!a]", "[a-a]", "[aa-]", "[--/]",
];

async function keysOf(conn: RawConnection, pattern: string): Promise<string[]> {
  const reply = decodeAt(await conn.call("KEYS", Buffer.from(pattern, "latin1")), 0)![0] as Uint8Array[];
  return reply.map((k) => Buffer.from(k).toString("latin1")).sort();
}

function randomPattern(next: () => number): string {
  const alphabet = ["*", "?", "[", "]", "^", "-", "\\", "a", "b", "c", "A", "z", "\xe9", "\xff", "\x00", ":"];
  const len = Math.floor(next() * 7);
  let p = "";
  for (let i = 0; i < len; i++) p += alphabet[Math.floor(next() * alphabet.length)];
  return p;
}

describe("globMatch against redis-server KEYS", () => {
  let redis: ServerHandle;
  let conn: RawConnection;

  before(async () => {
    redis = await startRedis();
    conn = await RawConnection.connect(redis.port);
    await conn.pipeline(KEYS.map((k) => ["SET", Buffer.from(k, "latin1"), "1"]));
  });

  after(async () => {
    conn.close();
    await redis.stop();
  });

  async function check(pattern: string): Promise<void> {
    const expected = await keysOf(conn, pattern);
    const actual = KEYS.filter((k) => globMatch(pattern, k)).sort();
    assert.deepEqual(actual, expected, `pattern ${JSON.stringify(pattern)}`);
  }

  it("agrees on hand-picked tricky patterns", async () => {
    for (const p of TRICKY) await check(p);
  });

  it("agrees on 3000 random patterns of special characters", async () => {
    const next = rng(7);
    for (let i = 0; i < 3000; i++) {
      const p = randomPattern(next);
      if (p !== "*") await check(p);
    }
  });

  it("never matches the empty key with a star", () => {
    assert.equal(globMatch("*", ""), false);
    assert.equal(globMatch("", ""), true);
  });

  it("folds only ASCII letters under nocase, and not escaped bytes in a class", () => {
    assert.equal(globMatch("HELLO", "hello", true), true);
    assert.equal(globMatch("[A-C]", "b", true), true);
    assert.equal(globMatch("[\\A]", "a", true), false);
    assert.equal(globMatch("\xc9", "\xe9", true), false);
  });

  it("gives up on patterns nested past Redis's limit", () => {
    assert.equal(globMatch("a*".repeat(1100) + "b", "a".repeat(1100)), false);
  });
});
