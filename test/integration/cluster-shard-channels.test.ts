/**
 * Shard channels when their slot leaves this node's shard (Redis 7.0's
 * removeChannelsInSlot from clusterDelSlot): the SSUBSCRIBE subscribers of
 * that slot's channels are unsubscribed, each told by a sunsubscribe push,
 * on the primary and on its replicas, whatever takes the slot: CLUSTER
 * DELSLOTS, FLUSHSLOTS, SETSLOT NODE, or a PONG from a node claiming it in
 * a newer epoch. The same script runs on a redis-server 7.0 cluster and on
 * Respite clusters; what every RESP2 and RESP3 subscriber receives is
 * compared byte for byte.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { RawConnection } from "../lib/raw.ts";
import { show } from "../lib/diff.ts";
import { RUNTIMES } from "../lib/servers.ts";
import { type Target, until } from "../lib/targets.ts";
import { type ClusterNodeHandle, command, logs, myId, startClusterNodes, stopAll, waitAgreed, waitClusterOk } from "../lib/cluster.ts";

/** Channels by slot: "{a}" and "{a}x" hash to 15495, foo to 12182, x to 16287, y to 12222 (all in P's half). */
const SLOT_A = 15495;
const SLOT_FOO = 12182;

/** What a subscriber received after its subscriptions, until its PING's answer (the barrier), shown. */
async function received(s: RawConnection): Promise<string[]> {
  s.write("*1\r\n$4\r\nPING\r\n");
  const out: string[] = [];
  for (;;) {
    const [reply] = await s.readReplies(1);
    const text = reply.toString("latin1");
    if (/pong/i.test(text)) return out;
    out.push(show(reply));
  }
}

/** The port of the node serving slot in node's CLUSTER NODES (0: nobody). */
async function owner(node: ClusterNodeHandle, slot: number): Promise<number> {
  for (const line of (await command(node, "CLUSTER", "NODES")).split("\n")) {
    const fields = line.split(" ");
    const serves = fields.slice(8).some((range) => {
      const [a, b] = range.split("-").map(Number);
      return slot >= a && slot <= (b ?? a);
    });
    if (serves) return Number(fields[1].split(":")[1].split("@")[0]);
  }
  return 0;
}

/** Waits until node sees slot served by the node on port (it learnt a move by the bus). */
async function waitOwner(node: ClusterNodeHandle, slot: number, port: number, all: ClusterNodeHandle[]): Promise<void> {
  await until(async () => (await owner(node, slot)) === port, () => `slot ${slot} not on ${port} for ${node.addr}` + logs(all), 30_000, 100);
}

/**
 * The script on three nodes of one kind: P (slots 8192-16383) with replica
 * R, and Q (0-8191). Returns every subscriber's pushes after each step.
 */
async function scenario(kind: Target): Promise<string[]> {
  const nodes = await startClusterNodes([kind, kind, kind]);
  const [p, q, r] = nodes;
  const subs: RawConnection[] = [];
  try {
    const [pid, qid] = [await myId(p), await myId(q)];
    assert.equal(await command(p, "CLUSTER", "ADDSLOTSRANGE", "8192", "16383"), "+OK\r\n");
    assert.equal(await command(q, "CLUSTER", "ADDSLOTSRANGE", "0", "8191"), "+OK\r\n");
    await command(p, "CLUSTER", "SET-CONFIG-EPOCH", "1");
    await command(q, "CLUSTER", "SET-CONFIG-EPOCH", "2");
    await command(p, "CLUSTER", "MEET", "127.0.0.1", String(q.port));
    await command(p, "CLUSTER", "MEET", "127.0.0.1", String(r.port));
    await until(async () => (await command(r, "CLUSTER", "REPLICATE", pid)) === "+OK\r\n", () => logs(nodes), 30_000, 100);
    await waitAgreed(nodes);
    await waitClusterOk(nodes);

    const open = async (node: ClusterNodeHandle, resp3: boolean, ...cmds: string[][]) => {
      const s = await RawConnection.connect(node.port);
      subs.push(s);
      if (resp3) await s.call("HELLO", "3");
      if (node === r) await s.call("READONLY");
      // A (un)subscription confirms each name: the confirmations past the first are read here too.
      for (const cmd of cmds) await s.pipeline([cmd]).then(() => cmd.length > 2 ? s.readReplies(cmd.length - 2) : []);
      return s;
    };
    // Two channels of slot A (in one command: a count of 2 before foo), foo in another slot, and a plain channel.
    const p2 = await open(p, false, ["SSUBSCRIBE", "{a}x", "{a}"], ["SSUBSCRIBE", "foo"], ["SUBSCRIBE", "plain"]);
    const p3 = await open(p, true, ["SSUBSCRIBE", "{a}"], ["SSUBSCRIBE", "x"], ["SSUBSCRIBE", "y"]);
    const p2only = await open(p, false, ["SSUBSCRIBE", "foo"]);
    const r2 = await open(r, false, ["SSUBSCRIBE", "{a}x"], ["SSUBSCRIBE", "foo"]);
    const r3 = await open(r, true, ["SSUBSCRIBE", "{a}", "{a}x"], ["SSUBSCRIBE", "y"]);
    const all = [p2, p3, p2only, r2, r3];
    const out: string[] = [];
    const step = async (name: string) => {
      for (const [i, s] of all.entries()) out.push(`${name} sub${i}: ${(await received(s)).join(" ")}`);
    };

    // Q imports slot A and takes it (SETSLOT NODE while importing bumps its epoch): P and R learn it from Q's PONG.
    assert.equal(await command(q, "CLUSTER", "SETSLOT", String(SLOT_A), "IMPORTING", pid), "+OK\r\n");
    assert.equal(await command(q, "CLUSTER", "SETSLOT", String(SLOT_A), "NODE", qid), "+OK\r\n");
    await waitOwner(p, SLOT_A, q.port, nodes);
    await waitOwner(r, SLOT_A, q.port, nodes);
    await step("pong");
    // The replica drops its primary's slot itself: its subscribers go; the primary's stay.
    assert.equal(await command(r, "CLUSTER", "DELSLOTS", String(SLOT_FOO)), "+OK\r\n");
    await step("replica delslots");
    // SETSLOT NODE on P giving foo's slot to Q.
    assert.equal(await command(p, "CLUSTER", "SETSLOT", String(SLOT_FOO), "NODE", qid), "+OK\r\n");
    await step("setslot node");
    // A RESP3 subscriber running DELSLOTSRANGE itself gets its push before the reply.
    const own = await p3.call("CLUSTER", "DELSLOTSRANGE", "16287", "16287");
    out.push(`own delslots: ${show(own)} ${(await received(p3)).join(" ")}`);
    await step("after own");
    // FLUSHSLOTS on R frees nothing (a replica has no slots of its own); on P, P's subscriber of y goes, R's stays.
    assert.equal(await command(r, "CLUSTER", "FLUSHSLOTS"), "+OK\r\n");
    assert.equal(await command(p, "CLUSTER", "FLUSHSLOTS"), "+OK\r\n");
    await step("flushslots");
    // Left pub/sub mode when nothing is left: a RESP2 PING answers +PONG; one still on "plain" stays in it.
    out.push(`p2only ping: ${show(await p2only.call("PING"))}`);
    out.push(`shardchannels P: ${show(await p2only.call("PUBSUB", "SHARDCHANNELS"))}`);
    out.push(`shardnumsub R: ${show(await command(r, "PUBSUB", "SHARDNUMSUB", "{a}", "{a}x", "y"))}`);
    return out;
  } finally {
    for (const s of subs) s.close();
    await stopAll(nodes);
  }
}

describe("shard channels of a slot that leaves the shard", () => {
  let expected: string[] = [];
  before(async () => {
    expected = await scenario("redis");
  });

  test("redis-server 7.0 unsubscribes on the primary and the replica (the script sees it)", () => {
    const pong = expected.filter((l) => l.startsWith("pong "));
    assert.equal(pong.filter((l) => l.includes("sunsubscribe")).length, 4, expected.join("\n"));
  });

  for (const rt of RUNTIMES) {
    test(`Respite (${rt}) sends the same pushes as redis-server`, async () => {
      const got = await scenario(rt);
      for (let i = 0; i < Math.max(got.length, expected.length); i++) assert.equal(got[i], expected[i], `line ${i}`);
    });
  }
});
