/**
 * The bus codec's lengths and checks as Redis's clusterIsValidPacket: every
 * body kind round-trips with the totlen Redis computes for it, a message
 * whose length disagrees with its type is refused and one of another
 * version or type ignored (both dropped, the link kept, as Redis does), and
 * a stream that is not "RCmb" is cut off.
 * (Bytes from a real redis-server: test/integration/cluster-bus.test.ts.)
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { type BusBody, type BusHeader, decodeMessage, encodeMessage, frameLength, GOSSIP_SIZE, HEADER_SIZE, invalidReason, MsgType } from "../../core/cluster/bus-message.ts";

const NAME = "a".repeat(40);

function header(type: number): BusHeader {
  const myslots = new Uint8Array(2048);
  myslots[0] = 0x81;
  return {
    type, currentEpoch: 2 ** 40 + 3, configEpoch: 9, offset: 123456789, sender: NAME, myslots, replicaOf: "b".repeat(40),
    myip: "10.0.0.1", port: 7000, pport: 0, cport: 17000, flags: 2, state: 0, mflags: [1, 0, 0],
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);

it("every body kind round-trips with Redis's totlen", () => {
  const cases: [number, BusBody, number][] = [
    [MsgType.PING, { kind: "gossip", gossip: [], hostname: "" }, HEADER_SIZE],
    [MsgType.PONG, {
      kind: "gossip",
      gossip: [{ name: "c".repeat(40), pingSent: 1, pongReceived: 2, ip: "::1", port: 7001, cport: 17001, flags: 1, pport: 0 }],
      hostname: "h",
    }, HEADER_SIZE + GOSSIP_SIZE + 16],
    [MsgType.MEET, { kind: "gossip", gossip: [], hostname: "seven77" }, HEADER_SIZE + 16],
    [MsgType.MEET, { kind: "gossip", gossip: [], hostname: "eight888" }, HEADER_SIZE + 24],
    [MsgType.FAIL, { kind: "fail", name: "d".repeat(40) }, HEADER_SIZE + 40],
    [MsgType.PUBLISH, { kind: "publish", channel: bytes("ch"), message: Uint8Array.of(0, 255, 10) }, HEADER_SIZE + 8 + 5],
    [MsgType.PUBLISHSHARD, { kind: "publish", channel: bytes("s"), message: new Uint8Array(0) }, HEADER_SIZE + 8 + 1],
    [MsgType.UPDATE, { kind: "update", configEpoch: 77, name: "e".repeat(40), slots: new Uint8Array(2048).fill(0x0f) }, HEADER_SIZE + 8 + 40 + 2048],
    [MsgType.FAILOVER_AUTH_REQUEST, { kind: "empty" }, HEADER_SIZE],
    [MsgType.FAILOVER_AUTH_ACK, { kind: "empty" }, HEADER_SIZE],
    [MsgType.MFSTART, { kind: "empty" }, HEADER_SIZE],
  ];
  for (const [type, body, totlen] of cases) {
    const h = header(type);
    const b = encodeMessage(h, body);
    assert.equal(b.length, totlen, `type ${type}`);
    assert.equal(frameLength(b, 0), totlen);
    const msg = decodeMessage(b);
    assert.ok(msg !== null && msg !== "ignore");
    const expectFlags: [number, number, number] = body.kind === "gossip" && body.hostname !== "" ? [1 | 4, 0, 0] : [1, 0, 0];
    assert.deepEqual(msg.header, { ...h, mflags: expectFlags });
    assert.deepEqual(msg.body, body);
  }
});

it("a length that disagrees with the type is refused with Redis's warning, another version ignored, a stream not of RCmb cut off", () => {
  const ping = encodeMessage(header(MsgType.PING), { kind: "gossip", gossip: [], hostname: "" });
  const claimsGossip = ping.slice();
  claimsGossip[15] = 1; // count 1, no entry
  assert.equal(decodeMessage(claimsGossip), null);
  assert.equal(invalidReason(claimsGossip), `Received invalid ping packet of length ${HEADER_SIZE} but expected length ${HEADER_SIZE + 104}`);
  const fail = encodeMessage(header(MsgType.FAIL), { kind: "fail", name: NAME });
  assert.equal(decodeMessage(fail.subarray(0, HEADER_SIZE)), null);
  const v2 = ping.slice();
  v2[9] = 2;
  assert.equal(decodeMessage(v2), "ignore");
  const unknown = ping.slice();
  unknown[13] = 42;
  assert.equal(decodeMessage(unknown), "ignore");
  const notBus = bytes("*1\r\n$4\r\nPING\r\n");
  assert.equal(frameLength(notBus, 0), -1);
  const short = ping.slice(0, 8);
  short[6] = 0;
  short[7] = 8;
  assert.equal(frameLength(short, 0), -1);
});
