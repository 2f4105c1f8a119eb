/**
 * A 1,000,000-entry stream on every runtime, against redis-server: the
 * same million XADDs (three small fields, IDs three per millisecond, as a
 * busy event log) go to both, then XLEN, XRANGE and XREVRANGE at both ends
 * and in the middle, XREAD, XDEL, `~` and exact trims, and the DUMP of the
 * whole stream must be byte-identical (every node's listpack as Redis
 * writes it). The commands are encoded once and sent as raw pipelines.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { RUNTIMES, sharedRedis } from "../lib/servers.ts";
import { diffSuite } from "../lib/diff.ts";
import { commands, compare } from "../lib/diff-lines.ts";

const TOTAL = 1_000_000;
const CHUNK = 50_000;
const KEY = "million";
const BASE_MS = 1_700_000_000_000;

/** The XADDs, encoded once: CHUNK commands per buffer. */
const chunks: Buffer[] = [];
/** redis-server's DUMP of the full stream (built once, restored per runtime). */
let dump: Buffer;

/**
 * Sends the XADDs to port on a socket of its own, a chunk at a time; every
 * reply is `$<n>\r\n<id>\r\n`, so counting line feeds (two per reply) is
 * enough to know a chunk was answered, without decoding a million replies.
 */
function load(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let next = 0;
    let lines = 0;
    let errors = 0;
    let prev = 10;
    const send = () => {
      if (next === chunks.length) {
        sock.end();
        return errors === 0 ? resolve() : reject(new Error(`${errors} error replies`));
      }
      lines = 0;
      sock.write(chunks[next++]);
    };
    sock.on("connect", send);
    sock.on("error", reject);
    sock.on("data", (d: Buffer) => {
      for (let i = 0; i < d.length; i++) {
        if (d[i] === 10) lines++;
        else if (d[i] === 45 && prev === 10) errors++;
        prev = d[i];
      }
      if (lines === 2 * CHUNK) send();
    });
  });
}

const redis = sharedRedis();

before(() => {
  for (let start = 0; start < TOTAL; start += CHUNK) {
    const bulk = (v: string) => `$${v.length}\r\n${v}\r\n`;
    let text = "";
    for (let i = start; i < start + CHUNK; i++) {
      text += `*9\r\n$4\r\nXADD\r\n${bulk(KEY)}${bulk(`${BASE_MS + Math.floor(i / 3)}-*`)}$4\r\nuser\r\n${bulk(String(i % 1000))}` +
        `$6\r\naction\r\n$5\r\nclick\r\n$1\r\nn\r\n${bulk(String(i))}`;
    }
    chunks.push(Buffer.from(text, "latin1"));
  }
});

for (const rt of RUNTIMES) {
  describe(`a 1,000,000-entry stream on ${rt}`, () => {
    const suite = diffSuite(redis, rt);

    it("built by XADD, read at both ends and in the middle, trimmed, with DUMP equal to redis-server's", { timeout: 600_000 }, async () => {
      const { pair } = suite;
      if (dump === undefined) {
        await load(redis().port);
        const reply = await pair.redis.call("DUMP", KEY);
        dump = Buffer.from(reply.subarray(reply.indexOf("\r\n") + 2, reply.length - 2));
      } else {
        await pair.redis.call("DEL", KEY);
        assert.equal((await pair.redis.call("RESTORE", KEY, "0", dump)).toString(), "+OK\r\n");
      }
      await load(suite.respite.port);
      const same = async () => {
        const [a, b] = await Promise.all([pair.redis.call("DUMP", KEY), pair.respite.call("DUMP", KEY)]);
        assert.ok(a.equals(b), "DUMP of the stream differs from redis-server's");
      };
      await same();
      const mid = BASE_MS + 166_666;
      await compare(pair, commands("", [
        ["XLEN", KEY], ["XRANGE", KEY, "-", "+", "COUNT", "3"], ["XREVRANGE", KEY, "+", "-", "COUNT", "3"],
        ["XRANGE", KEY, String(mid), String(mid + 1)], ["XREVRANGE", KEY, `(${mid + 2}`, String(mid), "COUNT", "4"],
        ["XREAD", "COUNT", "2", "STREAMS", KEY, `${BASE_MS + 200_000}-1`], ["XDEL", KEY, `${BASE_MS}-0`, `${BASE_MS + 111_111}-0`],
        ["XTRIM", KEY, "MAXLEN", "~", "900000"], ["XLEN", KEY], ["XRANGE", KEY, "-", "+", "COUNT", "1"],
        ["XTRIM", KEY, "MINID", String(BASE_MS + 50_000)], ["XLEN", KEY], ["XRANGE", KEY, "-", "+", "COUNT", "1"],
        ["XADD", KEY, "MAXLEN", "~", "500000", `${BASE_MS + 400_000}-0`, "late", "1"], ["XLEN", KEY],
      ]));
      await same();
      await Promise.all([pair.redis.call("DEL", KEY), pair.respite.call("DEL", KEY)]);
    });
  });
}
