/**
 * Stream consumer groups and XINFO, differential against one redis-server
 * 7.0.15 byte for byte: COMMAND INFO, hand-written edge cases for XGROUP,
 * XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO (RESP2 and
 * RESP3, binary names and fields), randomized sequences with fixed seeds
 * (several groups and consumers, deliveries, history reads, claims, acks,
 * XDEL/XTRIM tombstones and SETID, checking lag and entries-read after
 * every step), blocking XREADGROUP from several clients (FIFO service, key
 * deletion, XGROUP DESTROY, timeouts, CLIENT UNBLOCK), keyspace events, and
 * the effects written to the AOF. Times in replies (idle, delivery and seen
 * times) are the only parts masked; each runtime's keys carry its prefix.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, startRedis, startRespite, type ServerHandle, sharedRedis } from "../lib/servers.ts";
import { incrAofAfter } from "../lib/aof-incr.ts";
import { DiffPair, rng, show } from "../lib/diff.ts";
import { RawConnection } from "../lib/raw.ts";
import { info, until } from "../lib/targets.ts";
import { decodeReplies, type RespValue } from "../../core/resp/decoder.ts";
import { type Arg, bytes, type Command, commands, plain } from "../lib/collections.ts";

/**
 * A reply with its times masked: absolute unix-ms values (delivery and
 * seen times), XINFO CONSUMERS' idle, and the idle column of XPENDING rows.
 */
export function masked(reply: Buffer): string {
  return reply.toString("latin1")
    .replace(/:1\d{12}\r\n/g, ":<ms>\r\n")
    .replace(/(\$4\r\nidle\r\n):\d+\r\n/g, "$1:<idle>\r\n")
    .replace(/(\*4\r\n\$\d+\r\n\d+-\d+\r\n\$\d+\r\n[^\r\n]*\r\n):\d+\r\n/g, "$1:<idle>\r\n");
}

async function compare(pair: DiffPair, cmds: Command[]): Promise<Buffer[]> {
  const [a, b] = await Promise.all([pair.redis.pipeline(cmds), pair.respite.pipeline(cmds)]);
  for (let i = 0; i < cmds.length; i++) {
    // HELLO's reply holds the client ID, which differs.
    if (cmds[i][0].toString() === "HELLO") continue;
    const line = (j: number) => cmds[j].map((x) => x.toString("latin1")).join(" ");
    const before = cmds.slice(Math.max(0, i - 12), i).map((_, k, all) => line(i - all.length + k));
    assert.equal(JSON.stringify(masked(b[i])), JSON.stringify(masked(a[i])), `reply ${i} to ${line(i)}, after:\n${before.join("\n")}`);
  }
  return b;
}

const GROUP_COMMANDS = ["xgroup", "xreadgroup", "xack", "xpending", "xclaim", "xautoclaim", "xinfo"];

const redis = sharedRedis(["--stream-node-max-entries", "4"]);

for (const rt of RUNTIMES) {
  describe(`stream consumer groups on ${rt}`, () => {
    let respite: ServerHandle;
    let pair: DiffPair;
    let section = 0;
    const prefix = () => `${rt}:${section}:`;
    const same = (lines: Array<string | Arg[]>) => compare(pair, commands(prefix(), lines));
    /** The lines in RESP2, then (on fresh keys) in RESP3. */
    const inBothProtocols = async (lines: string[]) => {
      await same(lines);
      section++;
      await same(["HELLO 3", ...lines, "HELLO 2"]);
    };

    before(async () => {
      respite = await startRespite(rt, ["--stream-node-max-entries", "4"]);
      pair = await DiffPair.open(redis().port, respite.port);
    });
    after(async () => {
      pair?.close();
      await respite?.stop();
    });

    it("COMMAND INFO matches redis-server", async () => {
      // Redis lists a container's subcommands in its dict's (seeded, random) order: compared sorted.
      const sorted = (b: Buffer) => {
        const [entry] = decodeReplies(b).values[0] as RespValue[][];
        const subs = (entry[9] as RespValue[][]).map((s) => JSON.stringify(plain(s))).sort();
        return JSON.stringify([plain(entry.slice(0, 9)), subs]);
      };
      for (const name of GROUP_COMMANDS) {
        const [a, b] = await Promise.all([pair.redis.call("COMMAND", "INFO", name), pair.respite.call("COMMAND", "INFO", name)]);
        assert.equal(sorted(b), sorted(a), name);
      }
      for (const sub of ["create", "createconsumer", "delconsumer", "destroy", "setid", "help"]) {
        await pair.same("COMMAND", "INFO", `xgroup|${sub}`);
      }
      for (const sub of ["consumers", "groups", "stream", "help"]) await pair.same("COMMAND", "INFO", `xinfo|${sub}`);
      await pair.same("COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "a", "b", ">", ">");
    });

    it("XGROUP: CREATE (MKSTREAM, $, ENTRIESREAD), SETID, CREATECONSUMER, DELCONSUMER, DESTROY, HELP and errors", async () => {
      section++;
      await same([
        "XGROUP CREATE {s} g $", "XGROUP CREATE {s} g $ MKSTREAM", "EXISTS {s}", "TYPE {s}", "XLEN {s}", "XGROUP CREATE {s} g $ MKSTREAM",
        "XGROUP CREATE {s} g2 0 ENTRIESREAD 5", "XGROUP CREATE {s} g3 0 ENTRIESREAD -1", "XGROUP CREATE {s} g4 0 ENTRIESREAD -2",
        "XGROUP CREATE {s} g4 0 ENTRIESREAD x", "XGROUP CREATE {s} g4 0 ENTRIESREAD", "XGROUP CREATE {s} g4 0 BOGUS",
        "XGROUP CREATE {s} g4 - ", "XGROUP CREATE {s} g4 +", "XGROUP CREATE {s} g4 abc", "XGROUP CREATE {s} g4 5",
        "XGROUP CREATE {s} g5 18446744073709551615-18446744073709551615", "XGROUP CREATE {s} g6 18446744073709551616",
        "XGROUP CREATE {s} g7 1-2 MKSTREAM ENTRIESREAD 3", "XGROUP CREATE {s} g8 0 ENTRIESREAD 9223372036854775807",
        "XINFO GROUPS {s}", "XADD {s} 1-1 f v", "XADD {s} 2-1 f v", "XINFO GROUPS {s}",
        "XGROUP SETID {s} g 1-1", "XGROUP SETID {s} g $", "XGROUP SETID {s} g - ENTRIESREAD 0", "XGROUP SETID {s} g +",
        "XGROUP SETID {s} g 1 ENTRIESREAD 1", "XGROUP SETID {s} nog 0", "XGROUP SETID {s} g 0 MKSTREAM", "XGROUP SETID {s} g 0 ENTRIESREAD",
        "XGROUP SETID {nokey} g 0", "XGROUP SETID {s} g (1", "XINFO GROUPS {s}",
        "XGROUP CREATECONSUMER {s} g c1", "XGROUP CREATECONSUMER {s} g c1", "XGROUP CREATECONSUMER {s} nog c1",
        "XGROUP CREATECONSUMER {nokey} g c1", "XGROUP CREATECONSUMER {s} g c2 extra", "XGROUP DELCONSUMER {s} g c9",
        "XGROUP DELCONSUMER {s} nog c1", "XINFO CONSUMERS {s} g", "XGROUP DELCONSUMER {s} g c1", "XINFO CONSUMERS {s} g",
        "XGROUP DESTROY {s} g", "XGROUP DESTROY {s} g", "XGROUP DESTROY {nokey} g", "XGROUP DESTROY {s}", "XINFO GROUPS {s}",
        "XGROUP HELP", "XGROUP help extra", "XGROUP", "XGROUP NOPE {s} g", "XGROUP NOPE", "XGROUP CREATE", "XGROUP CREATE {s}",
        "SET {str} x", "XGROUP CREATE {str} g 0", "XGROUP CREATE {str} g 0 MKSTREAM", "XGROUP DESTROY {str} g",
        "XGROUP CREATE {s} g 0 MKSTREAM MKSTREAM", "XGROUP CREATE {s} g9 0 mkstream entriesread 2 extra",
        "XGROUP CREATE {s} 'a b' 0", "XGROUP CREATE {s} '' 0", "XINFO GROUPS {s}",
      ]);
    });

    it("XREADGROUP: >, history, COUNT, NOACK, several keys, errors (RESP2 and RESP3)", async () => {
      section++;
      const lines = [
        "XADD {s} 1-1 a 1", "XADD {s} 1-2 b 2 c 3", "XADD {s} 2-0 a 4", "XGROUP CREATE {s} g 0", "XGROUP CREATE {t} g $ MKSTREAM",
        "XREADGROUP GROUP g c1 COUNT 1 STREAMS {s} >", "XREADGROUP GROUP g c2 STREAMS {s} >", "XREADGROUP GROUP g c2 STREAMS {s} >",
        "XREADGROUP GROUP g c1 STREAMS {s} 0", "XREADGROUP GROUP g c2 STREAMS {s} 0", "XREADGROUP GROUP g c2 COUNT 1 STREAMS {s} 1-1",
        "XREADGROUP GROUP g c3 STREAMS {s} 0", "XREADGROUP GROUP g c2 STREAMS {s} 18446744073709551615-18446744073709551615",
        "XPENDING {s} g", "XINFO GROUPS {s}", "XDEL {s} 1-2", "XREADGROUP GROUP g c2 STREAMS {s} 0", "XINFO GROUPS {s}",
        "XADD {s} 3-0 x y", "XADD {t} 5-0 z w", "XREADGROUP GROUP g c1 STREAMS {s} {t} > >", "XREADGROUP GROUP g c1 STREAMS {s} {t} 0 >",
        "XADD {s} 4-0 n 1", "XREADGROUP GROUP g c4 NOACK STREAMS {s} >", "XPENDING {s} g", "XINFO CONSUMERS {s} g", "XINFO GROUPS {s}",
        "XREADGROUP GROUP g c1 COUNT 0 STREAMS {s} 0", "XREADGROUP GROUP g c1 COUNT -3 STREAMS {s} 0",
        "XREADGROUP GROUP g c1 STREAMS {s} >", "XREADGROUP GROUP g c1 STREAMS {s}", "XREADGROUP GROUP g c1 STREAMS {s} $",
        "XREADGROUP GROUP g c1 STREAMS {s} +", "XREADGROUP GROUP g c1 STREAMS {s} -", "XREADGROUP GROUP g STREAMS {s} >",
        "XREADGROUP STREAMS {s} > x y", "XREADGROUP COUNT x GROUP g c STREAMS {s} >", "XREADGROUP BLOCK -1 GROUP g c STREAMS {s} >",
        "XREADGROUP BLOCK x GROUP g c STREAMS {s} >", "XREADGROUP BLOCK 0.5 GROUP g c STREAMS {s} >",
        "XREADGROUP GROUP g c STREAMS {nokey} >", "XREADGROUP GROUP nog c STREAMS {s} >", "XREADGROUP GROUP g c STREAMS {s} abc",
        "XREADGROUP GROUP g c foo STREAMS {s} >", "XREADGROUP GROUP g c STREAMS {s} {s} >", "XREADGROUP COUNT 1 BLOCK 1 STREAMS {s} > x",
        "XREADGROUP GROUP g c COUNT 1 STREAMS {s} > x y", "XREADGROUP NOACK COUNT 1 STREAMS {s} > x y", "SET {str} v",
        "XREADGROUP GROUP g c STREAMS {str} >", "XREADGROUP GROUP g c STREAMS {s} {str} > >", "XREADGROUP GROUP g c STREAMS {nokey} {str} > >",
        "XREADGROUP GROUP g c STREAMS {s} {nokey} > bad", "XREADGROUP GROUP g c STREAMS {s} {nokey} bad >",
        "XREADGROUP GROUP g c BLOCK 10 NOACK STREAMS {s} >", "XREADGROUP GROUP g c STREAMS {s} (1", "XREAD GROUP g c STREAMS {s} 0",
        "XREAD NOACK STREAMS {s} 0", "XREADGROUP group g c5 count 2 noack streams {s} 0", "XINFO CONSUMERS {s} g",
        "MULTI", "XREADGROUP GROUP g c1 BLOCK 0 STREAMS {s} >", "EXEC",
        "EVAL \"return redis.call('XREADGROUP','GROUP','g','c','BLOCK','0','STREAMS',KEYS[1],'>')\" 1 {s}",
        "EVAL \"return redis.call('xreadgroup','group','g','c9','streams',KEYS[1],'0')\" 1 {s}",
      ];
      await inBothProtocols(lines);
    });

    it("XACK, XPENDING summary and extended (IDLE, consumer, exclusive bounds, COUNT)", async () => {
      section++;
      const lines = [
        "XADD {s} 1-1 a 1", "XADD {s} 2-1 b 2", "XADD {s} 3-1 c 3", "XADD {s} 4-1 d 4", "XGROUP CREATE {s} g 0",
        "XPENDING {s} g", "XPENDING {s} g - + 10", "XREADGROUP GROUP g alice COUNT 2 STREAMS {s} >",
        "XREADGROUP GROUP g bob STREAMS {s} >", "XPENDING {s} g", "XPENDING {s} g - + 10", "XPENDING {s} g - + 2",
        "XPENDING {s} g (1-1 + 10", "XPENDING {s} g - (4-1 10", "XPENDING {s} g 2 3 10", "XPENDING {s} g - + 10 bob",
        "XPENDING {s} g - + 10 nobody", "XPENDING {s} g - + 0", "XPENDING {s} g - + -1", "XPENDING {s} g IDLE 0 - + 10",
        "XPENDING {s} g IDLE 100000000 - + 10", "XCLAIM {s} g bob 0 1-1 TIME 1000 JUSTID", "XPENDING {s} g IDLE 100000000 - + 10",
        "XPENDING {s} g IDLE 100000000 - + 10 alice", "XPENDING {s} g IDLE 100000000 - + 10 bob", "XPENDING {s} g IDLE x - + 10",
        "XPENDING {s} g IDLE 5 - +", "XPENDING {s} g - +", "XPENDING {s} g - + 10 bob extra", "XPENDING {s} g - + x",
        "XPENDING {s} g x + 10", "XPENDING {s} g - x 10", "XPENDING {s} g (18446744073709551615-18446744073709551615 + 10",
        "XPENDING {s} g - (0-0 10", "XPENDING {s} nog", "XPENDING {nokey} g", "XPENDING {nokey} g - + 10",
        "XPENDING {s} g - + 10 bob", "XACK {s} g 1-1 2-1 9-9", "XACK {s} g 1-1", "XACK {s} nog 3-1", "XACK {nokey} g 3-1",
        "XACK {s} g 3-1 bad", "XACK {s} g 3", "XPENDING {s} g", "XACK {s} g - +", "XACK {s} g 4-1 4-1", "XPENDING {s} g",
        "SET {str} v", "XACK {str} g 1-1", "XPENDING {str} g", "XPENDING {s} g IDLE 1 2 3 4 5 6",
      ];
      await inBothProtocols(lines);
    });

    it("XCLAIM: min-idle, IDLE, TIME, RETRYCOUNT, FORCE, JUSTID, LASTID, deleted entries, errors", async () => {
      section++;
      const lines = [
        "XADD {s} 1-1 a 1", "XADD {s} 2-1 b 2", "XADD {s} 3-1 c 3", "XADD {s} 4-1 d 4", "XGROUP CREATE {s} g 0",
        "XREADGROUP GROUP g alice STREAMS {s} >", "XCLAIM {s} g bob 0 1-1", "XPENDING {s} g - + 10", "XINFO CONSUMERS {s} g",
        "XCLAIM {s} g bob 100000000 2-1", "XCLAIM {s} g carol 100000000 2-1", "XINFO CONSUMERS {s} g",
        "XCLAIM {s} g bob 0 2-1 3-1 JUSTID", "XPENDING {s} g - + 10", "XCLAIM {s} g bob 0 2-1 RETRYCOUNT 7 IDLE 5000000",
        "XPENDING {s} g IDLE 4000000 - + 10", "XCLAIM {s} g bob 0 3-1 TIME 12345 JUSTID", "XINFO STREAM {s} FULL",
        "XCLAIM {s} g bob 0 3-1 TIME 99999999999999 JUSTID", "XPENDING {s} g IDLE 1000 - + 10",
        "XCLAIM {s} g bob 0 3-1 IDLE -5 JUSTID", "XCLAIM {s} g dave 0 9-9 FORCE", "XINFO CONSUMERS {s} g",
        "XACK {s} g 4-1", "XCLAIM {s} g dave 0 4-1", "XCLAIM {s} g dave 0 4-1 FORCE", "XCLAIM {s} g erin 0 4-1 FORCE JUSTID",
        "XPENDING {s} g - + 10", "XCLAIM {s} g erin 0 1-1 1-1 JUSTID", "XCLAIM {s} g erin 0 1-1 LASTID 50-0 JUSTID",
        "XINFO GROUPS {s}", "XCLAIM {s} g erin 0 LASTID 60-0", "XINFO GROUPS {s}", "XCLAIM {s} g erin 0 LASTID 10-0",
        "XINFO GROUPS {s}", "XDEL {s} 2-1", "XCLAIM {s} g erin 0 2-1 3-1", "XPENDING {s} g - + 10", "XPENDING {s} g",
        "XCLAIM {s} g erin x 1-1", "XCLAIM {s} g erin 0 1-1 IDLE x", "XCLAIM {s} g erin 0 1-1 TIME x",
        "XCLAIM {s} g erin 0 1-1 RETRYCOUNT x", "XCLAIM {s} g erin 0 1-1 LASTID x", "XCLAIM {s} g erin 0 1-1 BOGUS",
        "XCLAIM {s} g erin 0 1-1 IDLE", "XCLAIM {s} g erin 0 1-1 FORCE 3-1", "XCLAIM {s} nog erin 0 1-1",
        "XCLAIM {nokey} g erin 0 1-1", "XCLAIM {s} g erin 0", "XCLAIM {s} g erin -5 1-1 JUSTID", "XCLAIM {s} g erin 0 1-1 RETRYCOUNT -3",
        "XCLAIM {s} g erin 0 1-1 RETRYCOUNT 9223372036854775807 JUSTID", "XCLAIM {s} g erin 0 3-1 RETRYCOUNT 9007199254740993 JUSTID",
        "XCLAIM {s} g erin 0 1-1 RETRYCOUNT 9223372036854775808",
        "XPENDING {s} g - + 10", "SET {str} v", "XCLAIM {str} g erin 0 1-1", "XINFO CONSUMERS {s} g",
      ];
      await inBothProtocols(lines);
    });

    it("XAUTOCLAIM: cursor, COUNT, JUSTID, deleted entries, min-idle, errors", async () => {
      section++;
      const adds = Array.from({ length: 12 }, (_, i) => `XADD {s} ${i + 1}-0 f ${i}`);
      await same([
        ...adds, "XGROUP CREATE {s} g 0", "XREADGROUP GROUP g alice STREAMS {s} >", "XAUTOCLAIM {s} g bob 0 0 COUNT 3",
        "XAUTOCLAIM {s} g bob 0 4-0 COUNT 3 JUSTID", "XPENDING {s} g - + 20", "XAUTOCLAIM {s} g bob 100000000 0",
        "XAUTOCLAIM {s} g carol 0 (9-0", "XAUTOCLAIM {s} g carol 0 12-0", "XAUTOCLAIM {s} g carol 0 13-0", "XDEL {s} 2-0 3-0 5-0",
        "XAUTOCLAIM {s} g dave 0 - COUNT 2", "XAUTOCLAIM {s} g dave 0 - COUNT 2 JUSTID", "XPENDING {s} g",
        "XCLAIM {s} g erin 0 6-0 7-0 TIME 1000 JUSTID", "XAUTOCLAIM {s} g frank 100000000 - COUNT 1",
        "XAUTOCLAIM {s} g frank 100000000 - COUNT 1", "XAUTOCLAIM {s} g frank 100000000 7-0 COUNT 1",
        "XINFO CONSUMERS {s} g", "XAUTOCLAIM {s} g x 0 0 COUNT 0", "XAUTOCLAIM {s} g x 0 0 COUNT -1",
        "XAUTOCLAIM {s} g x 0 0 COUNT 576460752303423488", "XAUTOCLAIM {s} g x 0 0 COUNT x", "XAUTOCLAIM {s} g x 0 0 COUNT",
        "XAUTOCLAIM {s} g x 0 0 BOGUS", "XAUTOCLAIM {s} g x 0 bad", "XAUTOCLAIM {s} g x bad 0", "XAUTOCLAIM {s} g x -10 (18446744073709551615-18446744073709551615",
        "XAUTOCLAIM {s} nog x 0 0", "XAUTOCLAIM {nokey} g x 0 0", "XAUTOCLAIM {nokey} g x 0 0 BOGUS", "SET {str} v",
        "XAUTOCLAIM {str} g x 0 0", "XINFO CONSUMERS {s} g",
      ]);
      section++;
      // Every pending entry deleted: the COUNT and attempts limits with deleted IDs only.
      const many = Array.from({ length: 30 }, (_, i) => `XADD {s} ${i + 1}-0 f ${i}`);
      const dels = Array.from({ length: 30 }, (_, i) => `XDEL {s} ${i + 1}-0`);
      await same([...many, "XGROUP CREATE {s} g 0", "XREADGROUP GROUP g a STREAMS {s} >", "XADD {s} 99-0 keep me", ...dels,
        "XAUTOCLAIM {s} g b 0 - COUNT 2", "XAUTOCLAIM {s} g b 0 - COUNT 1", "XPENDING {s} g", "XAUTOCLAIM {s} g b 0 -", "XPENDING {s} g"]);
    });

    it("XINFO STREAM (and FULL with COUNT), GROUPS, CONSUMERS, HELP and errors, RESP2 and RESP3", async () => {
      section++;
      const lines = [
        "XINFO STREAM {s}", "XADD {s} 1-1 a 1", "XINFO STREAM {s}", "XINFO STREAM {s} FULL", "XGROUP CREATE {s} g 0",
        "XGROUP CREATE {s} a 0", "XGROUP CREATE {s} b $", ...Array.from({ length: 15 }, (_, i) => `XADD {s} ${i + 2}-${i} f${i % 3} v${i}`),
        "XREADGROUP GROUP g c1 COUNT 3 STREAMS {s} >", "XREADGROUP GROUP g c2 COUNT 2 STREAMS {s} >", "XREADGROUP GROUP a zed STREAMS {s} >",
        "XINFO STREAM {s}", "XINFO STREAM {s} FULL", "XINFO STREAM {s} FULL COUNT 2", "XINFO STREAM {s} FULL COUNT 0",
        "XINFO STREAM {s} FULL COUNT -1", "XINFO STREAM {s} full count 1", "XINFO STREAM {s} FULL COUNT x", "XINFO STREAM {s} FULL x 1",
        "XINFO STREAM {s} PARTIAL", "XINFO STREAM {s} FULL COUNT", "XINFO STREAM {nokey}", "XINFO STREAM {nokey} FULL x",
        "XINFO GROUPS {s}", "XINFO GROUPS {nokey}", "XINFO CONSUMERS {s} g", "XINFO CONSUMERS {s} a", "XINFO CONSUMERS {s} nog",
        "XINFO CONSUMERS {nokey} g", "XINFO CONSUMERS {s}", "XINFO GROUPS {s} x", "XINFO HELP", "XINFO help x", "XINFO NOPE {s}",
        "XINFO", "SET {str} v", "XINFO STREAM {str}", "XINFO GROUPS {str}", "XINFO CONSUMERS {str} g",
        "XDEL {s} 1-1 5-3", "XINFO STREAM {s}", "XINFO GROUPS {s}", "XTRIM {s} MAXLEN 3", "XINFO STREAM {s}", "XINFO GROUPS {s}",
        "XDEL {s} 14-12 15-13 16-14", "XINFO STREAM {s}", "XINFO STREAM {s} FULL", "XINFO GROUPS {s}",
      ];
      await inBothProtocols(lines);
    });

    it("WATCH: only a stream made by XGROUP CREATE MKSTREAM counts as a modification, as in Redis", async () => {
      section++;
      const run = async (port: number) => {
        const [a, b] = await Promise.all([RawConnection.connect(port), RawConnection.connect(port)]);
        const k = `${prefix()}w`, nk = `${prefix()}nw`;
        const out: string[] = [];
        try {
          for (const cmd of [
            ["XREADGROUP", "GROUP", "g", "c", "STREAMS", k, ">"], ["XREADGROUP", "GROUP", "g", "c0", "STREAMS", k, "0"], ["XACK", k, "g", "1-1"],
            ["XCLAIM", k, "g", "d", "0", "1-1"], ["XAUTOCLAIM", k, "g", "e", "0", "0"], ["XGROUP", "SETID", k, "g", "0"],
            ["XGROUP", "CREATECONSUMER", k, "g", "z"], ["XGROUP", "DELCONSUMER", k, "g", "c0"], ["XGROUP", "DESTROY", k, "g"],
            ["XGROUP", "CREATE", k, "g2", "0"], ["XGROUP", "CREATE", nk, "g", "$", "MKSTREAM"], ["XINFO", "STREAM", k],
          ]) {
            await a.pipeline([["DEL", k, nk], ["XADD", k, "1-1", "f", "v"], ["XADD", k, "2-1", "f", "v"], ["XGROUP", "CREATE", k, "g", "0"],
              ["XREADGROUP", "GROUP", "g", "c0", "COUNT", "1", "STREAMS", k, ">"], ["WATCH", k, nk]]);
            await b.call(...cmd);
            const [, , exec] = await a.pipeline([["MULTI"], ["PING"], ["EXEC"]]);
            out.push(`${cmd[0]} ${cmd[1]}: ${exec.toString("latin1")}`);
          }
          return out;
        } finally {
          a.close();
          b.close();
        }
      };
      const want = await run(redis().port);
      assert.deepEqual(await run(respite.port), want);
      assert.ok(want.some((line) => line.endsWith("*-1\r\n")), "the MKSTREAM case aborts");
    });

    it("keyspace hits and misses counted as Redis counts them", async () => {
      section++;
      const stats = async (conn: RawConnection) =>
        (await conn.call("INFO", "stats")).toString("latin1").split("\r\n").filter((l) => l.startsWith("keyspace_")).join(" ");
      await same(["XADD {h} 1-1 a b", "XGROUP CREATE {h} g 0", "CONFIG RESETSTAT"]);
      await same([
        "XREADGROUP GROUP g c STREAMS {h} >", "XREADGROUP GROUP g c STREAMS {h} >", "XREADGROUP GROUP g c STREAMS {h} 0", "XACK {h} g 1-1",
        "XPENDING {h} g", "XCLAIM {h} g c 0 1-1", "XINFO GROUPS {h}", "XAUTOCLAIM {h} g c 0 0", "XINFO STREAM {none}", "XACK {none} g 1-1",
        "XGROUP CREATE {h} g2 0", "XREADGROUP GROUP g c STREAMS {none} >", "XPENDING {none} g",
      ]);
      assert.equal(await stats(pair.respite), await stats(pair.redis));
    });

    it("binary keys, group and consumer names, fields and values", async () => {
      section++;
      const bin = Buffer.from([0, 1, 255, 13, 10, 32, 200]);
      const k = bytes(`${prefix()}bin`);
      await same([
        ["XADD", k, "1-1", bin, bin], ["XADD", k, "2-2", "f", Buffer.alloc(300, 7)], ["XGROUP", "CREATE", k, bin, "0"],
        ["XGROUP", "CREATE", k, Buffer.from([0]), "0"], ["XGROUP", "CREATE", k, Buffer.from([0, 0]), "0"],
        ["XGROUP", "CREATECONSUMER", k, bin, Buffer.from("é€")], ["XREADGROUP", "GROUP", bin, Buffer.from([255]), "STREAMS", k, ">"],
        ["XREADGROUP", "GROUP", bin, Buffer.from([0]), "COUNT", "1", "STREAMS", k, "0"], ["XPENDING", k, bin],
        ["XCLAIM", k, bin, Buffer.from([1, 2]), "0", "1-1", "JUSTID"], ["XINFO", "GROUPS", k], ["XGROUP", "SETID", k, Buffer.from("no\0pe"), "0"],
        ["XPENDING", k, Buffer.from("no\0pe")], ["XGROUP", "DELCONSUMER", k, bin, Buffer.from([255])],
        ["XINFO", "STREAM", k, "FULL"], ["XGROUP", "DESTROY", k, Buffer.from([0])], ["XINFO", "GROUPS", k],
      ]);
    });

    it("keyspace events of the group commands", async () => {
      section++;
      const conns = await Promise.all([redis().port, respite.port].map((p) => RawConnection.connect(p)));
      const subs = await Promise.all([redis().port, respite.port].map((p) => RawConnection.connect(p)));
      for (const c of conns) await c.call("CONFIG", "SET", "notify-keyspace-events", "KEA");
      for (const s of subs) await s.call("PSUBSCRIBE", `__keyspace@0__:${prefix()}*`);
      try {
        await same([
          "XGROUP CREATE {s} g $ MKSTREAM", "XGROUP CREATE {s} g $", "XGROUP CREATECONSUMER {s} g c", "XADD {s} 1-1 a b",
          "XREADGROUP GROUP g new STREAMS {s} >", "XREADGROUP GROUP g new STREAMS {s} >", "XCLAIM {s} g other 0 1-1",
          "XCLAIM {s} g other2 100000000 1-1", "XAUTOCLAIM {s} g third 0 0", "XACK {s} g 1-1", "XGROUP SETID {s} g 0",
          "XGROUP DELCONSUMER {s} g c", "XGROUP DELCONSUMER {s} g c", "XGROUP DESTROY {s} g", "XGROUP DESTROY {s} g", "DEL {s}",
        ]);
        await Promise.all(conns.map((c) => c.call("PING")));
        const [a, b] = await Promise.all(subs.map((s) => s.call("PING")));
        assert.equal(show(b), show(a));
      } finally {
        for (const c of conns) {
          await c.call("CONFIG", "SET", "notify-keyspace-events", "");
          c.close();
        }
        for (const s of subs) s.close();
      }
    });

    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      it(`random group workload, seed ${seed}`, async () => {
        section++;
        await randomWorkload(pair, prefix(), seed);
      });
    }

    it("blocking XREADGROUP: FIFO service, COUNT, NOACK, timeouts, XGROUP DESTROY, key deletion, CLIENT UNBLOCK", async () => {
      section++;
      const a = await blockingScenario(redis(), prefix());
      const b = await blockingScenario(respite, prefix());
      assert.deepEqual(b, a);
    });
  });

  describe(`stream groups on fresh servers, ${rt}`, () => {
    it("a waiting XREADGROUP answers -UNBLOCKED when maxmemory evicts its stream", async () => {
      const run = async (server: ServerHandle) => {
        const [c, w] = await Promise.all([RawConnection.connect(server.port), RawConnection.connect(server.port)]);
        try {
          await c.call("XGROUP", "CREATE", "ev", "g", "$", "MKSTREAM");
          const waiting = w.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "ev", ">");
          await until(async () => (await info(c, "clients")).get("blocked_clients") === "1", () => "blocked");
          await c.pipeline([["CONFIG", "SET", "maxmemory-policy", "allkeys-random"], ["CONFIG", "SET", "maxmemory", "1"], ["SET", "other", "v"],
            ["CONFIG", "SET", "maxmemory", "0"]]);
          return [(await waiting).toString("latin1"), (await c.call("EXISTS", "ev")).toString("latin1")];
        } finally {
          c.close();
          w.close();
          await server.stop();
        }
      };
      const want = await run(await startRedis());
      assert.deepEqual(await run(await startRespite(rt)), want);
      assert.equal(want[0], "-UNBLOCKED the stream key no longer exists\r\n");
    });
  });

  describe(`stream group effects in the AOF on ${rt}`, () => {
    it("XREADGROUP, XCLAIM, XAUTOCLAIM, NOACK and XGROUP write the same AOF as redis-server", async () => {
      const want = await aofOf(startRedis, GROUP_SEQUENCE, true);
      const got = await aofOf((extra) => startRespite(rt, extra), GROUP_SEQUENCE, true);
      assert.equal(got, want);
      assert.match(want, /CREATECONSUMER/);
    });

    for (const seed of [11, 12]) {
      it(`the random group workload writes the same AOF as redis-server, seed ${seed}`, async () => {
        const cmds = workload("w", seed, false);
        const want = await aofOf(startRedis, cmds, false);
        const got = await aofOf((extra) => startRespite(rt, extra), cmds, false);
        // Where they part (the whole files are too long for the assertion's output to reach it).
        let at = 0;
        while (at < got.length && got[at] === want[at]) at++;
        const around = (s: string) => JSON.stringify(s.slice(Math.max(0, at - 400), at + 400));
        assert.equal(got, want, `seed ${seed}: differ at ${at} of ${got.length} / ${want.length}: got ${around(got)}, want ${around(want)}`);
        assert.match(want, /XCLAIM[^]*XGROUP\r\n\$5\r\nSETID/);
      });
    }
  });
}

/**
 * One random workload on a stream with several groups and consumers; after
 * each step the group state (XINFO GROUPS with lag and entries-read, the
 * PELs) is compared.
 */
async function randomWorkload(pair: DiffPair, prefix: string, seed: number): Promise<void> {
  const cmds = workload(`${prefix}w`, seed, true);
  try {
    await compare(pair, cmds.map((c) => c.map((a) => Buffer.from(a, "latin1"))));
  } catch (e) {
    throw new Error(`seed ${seed}: ${(e as Error).message}`);
  }
}

/** The random workload's commands on key; with checks, each step is followed by reads of the group state. */
function workload(key: string, seed: number, checks: boolean): string[][] {
  const rand = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const groups = ["g1", "g2", "g3"];
  const consumers = ["c1", "c2", "c3", "c4"];
  let ms = 1;
  let seq = 0;
  const ids: string[] = [];
  const anyId = () => (ids.length === 0 || rand() < 0.1 ? `${ms + 5}-0` : pick(ids));
  const cmds: string[][] = [["XADD", key, "1-0", "f", "v"], ...groups.map((g) => ["XGROUP", "CREATE", key, g, "0"])];
  ids.push("1-0");
  for (let step = 0; step < 300; step++) {
    const r = rand();
    const g = pick(groups), c = pick(consumers);
    let cmd: string[];
    if (r < 0.25) {
      if (rand() < 0.3) seq++;
      else {
        ms += 1 + Math.floor(rand() * 3);
        seq = 0;
      }
      const id = `${ms}-${seq}`;
      ids.push(id);
      cmd = ["XADD", key, id, pick(["a", "b"]), String(step)];
    } else if (r < 0.42) {
      cmd = ["XREADGROUP", "GROUP", g, c, ...(rand() < 0.6 ? ["COUNT", String(1 + Math.floor(rand() * 4))] : []),
        ...(rand() < 0.15 ? ["NOACK"] : []), "STREAMS", key, rand() < 0.8 ? ">" : pick(["0", anyId()])];
    } else if (r < 0.52) {
      cmd = ["XACK", key, g, anyId(), ...(rand() < 0.5 ? [anyId()] : [])];
    } else if (r < 0.6) {
      cmd = ["XCLAIM", key, g, c, "0", anyId(), ...(rand() < 0.4 ? [anyId()] : []),
        ...(rand() < 0.3 ? ["JUSTID"] : []), ...(rand() < 0.2 ? ["FORCE"] : []), ...(rand() < 0.2 ? ["RETRYCOUNT", "5"] : []),
        ...(rand() < 0.1 ? ["LASTID", anyId()] : [])];
    } else if (r < 0.67) {
      cmd = ["XAUTOCLAIM", key, g, c, "0", rand() < 0.5 ? "0" : anyId(), "COUNT", String(1 + Math.floor(rand() * 5)),
        ...(rand() < 0.3 ? ["JUSTID"] : [])];
    } else if (r < 0.74) {
      cmd = ["XDEL", key, anyId()];
    } else if (r < 0.77) {
      cmd = ["XTRIM", key, "MAXLEN", String(Math.floor(rand() * 12))];
    } else if (r < 0.8) {
      cmd = ["XTRIM", key, "MINID", anyId()];
    } else if (r < 0.85) {
      cmd = ["XGROUP", "SETID", key, g, rand() < 0.3 ? "$" : anyId(), ...(rand() < 0.3 ? ["ENTRIESREAD", String(Math.floor(rand() * 20) - 1)] : [])];
    } else if (r < 0.88) {
      cmd = ["XGROUP", pick(["CREATECONSUMER", "DELCONSUMER"]), key, g, c];
    } else if (r < 0.9) {
      cmd = ["XGROUP", "DESTROY", key, g];
    } else if (r < 0.92) {
      cmd = ["XGROUP", "CREATE", key, g, pick(["0", "$", anyId()]), ...(rand() < 0.3 ? ["ENTRIESREAD", String(Math.floor(rand() * 10))] : [])];
    } else if (r < 0.94) {
      cmd = ["XSETID", key, `${ms + 1}-0`];
      ms++;
      seq = 0;
    } else {
      cmd = ["XPENDING", key, g, "-", "+", "100", ...(rand() < 0.5 ? [c] : [])];
    }
    cmds.push(cmd);
    if (!checks) continue;
    cmds.push(["XINFO", "GROUPS", key], ["XPENDING", key, g], ["XPENDING", key, g, "-", "+", "100"]);
    if (step % 20 === 19) cmds.push(["XINFO", "STREAM", key, "FULL", "COUNT", "0"], ["XINFO", "CONSUMERS", key, g], ["XINFO", "STREAM", key]);
  }
  return cmds;
}

/** Replies (in arrival order per client) of a blocking scenario run against one server. */
async function blockingScenario(server: ServerHandle, prefix: string): Promise<string[]> {
  const key = `${prefix}b`;
  const ctl = await RawConnection.connect(server.port);
  const clients = await Promise.all([0, 1, 2, 3].map(() => RawConnection.connect(server.port)));
  const out: string[] = [];
  const blocked = async (n: number) =>
    until(async () => (await info(ctl, "clients")).get("blocked_clients") === String(n), () => `${n} clients blocked after ${out.length} replies`);
  try {
    await ctl.call("XGROUP", "CREATE", key, "g", "$", "MKSTREAM");
    await ctl.call("XGROUP", "CREATE", key, "h", "$");
    // Two readers on one group, served in the order they blocked, and one on another group.
    const waits = [
      clients[0].call("XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "COUNT", "1", "STREAMS", key, ">"),
      clients[1].call("XREADGROUP", "GROUP", "g", "b", "BLOCK", "0", "STREAMS", key, ">"),
    ];
    await blocked(2);
    waits.push(clients[2].call("XREADGROUP", "GROUP", "h", "c", "BLOCK", "0", "NOACK", "STREAMS", key, ">"));
    await blocked(3);
    // One entry: the first reader of g takes it, the second waits on; h's reader gets it too.
    out.push((await ctl.call("XADD", key, "1-1", "f", "1")).toString("latin1"));
    out.push((await waits[0]).toString("latin1"), (await waits[2]).toString("latin1"));
    await blocked(1);
    out.push((await ctl.call("XADD", key, "1-2", "f", "2")).toString("latin1"), (await waits[1]).toString("latin1"));
    out.push(masked(await ctl.call("XPENDING", key, "g", "-", "+", "10")), masked(await ctl.call("XINFO", "GROUPS", key)));
    // Two entries in one MULTI: the first waiter takes both (no COUNT), the second waits on.
    const w1 = clients[0].call("XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", key, ">");
    await blocked(1);
    const w2 = clients[1].call("XREADGROUP", "GROUP", "g", "b", "BLOCK", "0", "STREAMS", key, ">");
    await blocked(2);
    await ctl.pipeline([["MULTI"], ["XADD", key, "2-1", "f", "2"], ["XADD", key, "2-2", "f", "3"], ["EXEC"]]);
    out.push((await w1).toString("latin1"));
    // XGROUP DESTROY answers the group's waiter with -NOGROUP.
    await ctl.call("XGROUP", "DESTROY", key, "g");
    out.push((await w2).toString("latin1"));
    // Key deletion and a type change answer -UNBLOCKED.
    await ctl.call("XGROUP", "SETID", key, "h", "$");
    const w3 = clients[2].call("XREADGROUP", "GROUP", "h", "c", "BLOCK", "0", "STREAMS", key, ">");
    await blocked(1);
    await ctl.call("DEL", key);
    out.push((await w3).toString("latin1"));
    await ctl.call("XGROUP", "CREATE", key, "h", "$", "MKSTREAM");
    const w4 = clients[2].call("XREADGROUP", "GROUP", "h", "c", "BLOCK", "0", "STREAMS", key, ">");
    await blocked(1);
    await ctl.pipeline([["MULTI"], ["DEL", key], ["SET", key, "x"], ["EXEC"]]);
    out.push((await w4).toString("latin1"));
    await ctl.call("DEL", key);
    // A timeout, then CLIENT UNBLOCK (timeout reply and error).
    await ctl.call("XGROUP", "CREATE", key, "h", "$", "MKSTREAM");
    out.push((await clients[3].call("XREADGROUP", "GROUP", "h", "c", "BLOCK", "50", "STREAMS", key, ">")).toString("latin1"));
    const id = (await clients[3].call("CLIENT", "ID")).toString("latin1").slice(1, -2);
    for (const how of ["TIMEOUT", "ERROR"]) {
      const w = clients[3].call("XREADGROUP", "GROUP", "h", "c", "BLOCK", "0", "STREAMS", key, ">");
      await blocked(1);
      out.push((await ctl.call("CLIENT", "UNBLOCK", id, how)).toString("latin1"), (await w).toString("latin1"));
    }
    // FLUSHDB answers -UNBLOCKED; SWAPDB serves a waiter from the stream swapped in.
    for (const conn of [ctl, clients[3]]) await conn.call("SELECT", "9");
    await ctl.call("XGROUP", "CREATE", key, "h", "$", "MKSTREAM");
    const w6 = clients[3].call("XREADGROUP", "GROUP", "h", "c", "BLOCK", "0", "STREAMS", key, ">");
    await blocked(1);
    await ctl.call("FLUSHDB");
    out.push((await w6).toString("latin1"));
    await ctl.call("XGROUP", "CREATE", key, "h", "$", "MKSTREAM");
    const w7 = clients[3].call("XREADGROUP", "GROUP", "h", "c", "BLOCK", "0", "STREAMS", key, ">");
    await blocked(1);
    await ctl.pipeline([["SELECT", "10"], ["FLUSHDB"], ["XADD", key, "3-3", "from", "ten"], ["XGROUP", "CREATE", key, "h", "0"], ["SWAPDB", "9", "10"]]);
    out.push((await w7).toString("latin1"));
    await ctl.call("FLUSHDB");
    await ctl.call("SELECT", "9");
    await ctl.call("FLUSHDB");
    // The key expiring (the active cycle finds it) answers -UNBLOCKED too.
    await ctl.call("XGROUP", "CREATE", key, "h", "$", "MKSTREAM");
    await ctl.call("PEXPIRE", key, "50");
    out.push((await clients[3].call("XREADGROUP", "GROUP", "h", "c", "BLOCK", "0", "STREAMS", key, ">")).toString("latin1"));
    for (const conn of [ctl, clients[3]]) await conn.call("SELECT", "0");
    // Waiting on two streams: served by the one that got an entry, with that key alone.
    const key2 = `${key}2`;
    await ctl.call("XGROUP", "CREATE", key2, "h", "$", "MKSTREAM");
    const w8 = clients[3].call("XREADGROUP", "GROUP", "h", "c", "COUNT", "5", "BLOCK", "0", "STREAMS", key, key2, ">", ">");
    await blocked(1);
    await ctl.call("XADD", key2, "4-4", "two", "2");
    out.push((await w8).toString("latin1"), masked(await ctl.call("XPENDING", key2, "h", "-", "+", "10")));
    // RESP3: the served reply is a map.
    await clients[3].call("HELLO", "3");
    const w5 = clients[3].call("XREADGROUP", "GROUP", "h", "c", "BLOCK", "0", "STREAMS", key, ">");
    await blocked(1);
    await ctl.call("XADD", key, "9-9", "k", "v");
    out.push((await w5).toString("latin1"));
    out.push(masked(await ctl.call("XINFO", "STREAM", key, "FULL")));
    return out;
  } finally {
    ctl.close();
    for (const c of clients) c.close();
  }
}

const GROUP_SEQUENCE: string[][] = [
  ["XADD", "s", "1-1", "a", "1"], ["XADD", "s", "2-1", "b", "2"], ["XADD", "s", "3-1", "c", "3"], ["XGROUP", "CREATE", "s", "g", "0"],
  ["XGROUP", "CREATE", "s", "n", "0", "ENTRIESREAD", "0"], ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"], ["XREADGROUP", "GROUP", "n", "quiet", "NOACK", "STREAMS", "s", ">"],
  ["XREADGROUP", "GROUP", "n", "quiet", "NOACK", "STREAMS", "s", ">"], ["XCLAIM", "s", "g", "bob", "0", "1-1", "TIME", "1700000000000"],
  ["XCLAIM", "s", "g", "bob", "0", "9-9"], ["XCLAIM", "s", "g", "bob", "0", "9-9", "LASTID", "2-5"], ["XACK", "s", "g", "1-1", "7-7"],
  ["XACK", "s", "g", "7-7"], ["XDEL", "s", "2-1"], ["XAUTOCLAIM", "s", "g", "carol", "0", "0"], ["XGROUP", "CREATECONSUMER", "s", "g", "dan"],
  ["XGROUP", "DELCONSUMER", "s", "g", "dan"], ["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "1"],
  ["XREADGROUP", "GROUP", "g", "erin", "STREAMS", "s", ">"], ["XGROUP", "DESTROY", "s", "n"],
  ["XGROUP", "CREATE", "t", "g", "$", "MKSTREAM"],
];

/** The effects seq (then, with blocked, a served XREADGROUP BLOCK) leave in a fresh server's AOF, unix-ms times normalized. */
async function aofOf(start: (extra: string[]) => Promise<ServerHandle>, seq: string[][], blocked: boolean): Promise<string> {
  const servedBlock = async (c: RawConnection, server: ServerHandle) => {
    const w = await RawConnection.connect(server.port);
    const waiting = w.call("XREADGROUP", "GROUP", "g", "frank", "BLOCK", "0", "STREAMS", "t", ">");
    await until(async () => (await info(c, "clients")).get("blocked_clients") === "1", () => "blocked");
    await c.call("XADD", "t", "5-5", "x", "y");
    await waiting;
    w.close();
  };
  const aof = await incrAofAfter(start, seq, blocked ? servedBlock : undefined);
  return aof.replace(/\$13\r\n1\d{12}\r\n/g, "$13\r\n<ms>\r\n");
}
