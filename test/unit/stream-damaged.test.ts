/**
 * Streams restored from damaged DUMP payloads with sanitize-dump-payload no
 * (only the listpack header is checked then, as in Redis): an entry whose
 * field count claims 2^40 fields, or is negative or a string, must not send
 * a walk over the node into a loop that never ends; every stream command
 * then answers and the engine keeps serving. A damaged master entry, which
 * every walk starts from, is refused even unchecked (Redis would accept it
 * and may crash later); with sanitize-dump-payload yes all are refused.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { createEngine, ReplyError } from "../../mod.ts";
import { withTrailer } from "../lib/dump-fuzz.ts";

/** Redis listpack elements: 7-bit unsigned ints, 6-bit-length strings, 64-bit ints, each with its backlen. */
const small = (v: number) => [v, 1];
const text = (s: string) => [0x80 | s.length, ...Buffer.from(s, "latin1"), s.length + 1];
function int64(v: bigint): number[] {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(v);
  return [0xf4, ...b, 9];
}

function listpack(elements: number[][]): number[] {
  const body = elements.flat();
  const total = 6 + body.length + 1;
  return [total & 0xff, total >> 8, 0, 0, elements.length, 0, ...body, 0xff];
}

/** A type-19 stream payload: one node with master ID 1-0 holding lp, one entry 1-0, no groups. */
function streamPayload(lp: number[]): Uint8Array {
  assert.ok(lp.length < 64);
  const key = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
  // nodes, node key, listpack, length, last ID, first ID, max deleted ID, entries added, groups
  return withTrailer(Uint8Array.from([19, 1, 16, ...key, lp.length, ...lp, 1, 1, 0, 1, 0, 0, 0, 1, 0]));
}

const HUGE = int64(1n << 40n);
const master = (nf: number[]) => [small(1), small(0), nf, text("f"), small(0)];

/** Damaged entries: restored unchecked (sanitize-dump-payload no), as Redis does. */
const DAMAGED_ENTRIES: Record<string, Uint8Array> = {
  "an entry claiming 2^40 fields": streamPayload(listpack([...master(small(1)), small(0), small(0), small(0), HUGE, text("f"), text("v"), small(6)])),
  "an entry with a negative field count": streamPayload(listpack([...master(small(1)), small(0), small(0), small(0), int64(-5n), text("f"), text("v"), small(6)])),
  "flags and a count that are strings": streamPayload(listpack([...master(small(1)), text("x"), small(0), small(0), text("n"), text("f"), text("v"), small(6)])),
};

/** A damaged master entry, which every use of a node starts from: refused even unchecked. */
const DAMAGED_MASTERS: Record<string, Uint8Array> = {
  "a master entry claiming 2^40 fields": streamPayload(listpack([...master(HUGE), small(2), small(0), small(0), text("v"), small(4)])),
  "a node of one element": streamPayload(listpack([small(1)])),
  "a node whose first element claims more bytes than it has": streamPayload(listpack([[0xf0, 0xff, 0xff, 0, 0, 5], small(0)])),
  "a master entry whose count is a string": streamPayload(listpack([text("1"), small(0), small(1), text("f"), small(0), small(2), small(0), small(0), text("v"), small(4)])),
};

const READS: string[][] = [
  ["XRANGE", "s", "-", "+"],
  ["XREVRANGE", "s", "+", "-"],
  ["XRANGE", "s", "-", "+", "COUNT", "1"],
  ["XLEN", "s"],
  ["XINFO", "STREAM", "s"],
  ["XINFO", "STREAM", "s", "FULL"],
  ["DEBUG", "DIGEST-VALUE", "s"],
  ["DUMP", "s"],
  ["XGROUP", "CREATE", "s", "g", "0"],
  ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
  ["XDEL", "s", "1-0"],
  ["XADD", "s", "*", "f", "v"],
  ["XTRIM", "s", "MAXLEN", "0"],
];

it("a stream restored unchecked from a damaged node answers every command and keeps the engine serving", () => {
  const db = createEngine({ save: "" });
  for (const [what, payload] of Object.entries(DAMAGED_ENTRIES)) {
    db.call("DEL", "s");
    assert.equal(db.call("RESTORE", "s", "0", payload), "OK", what);
    for (const cmd of READS) {
      // Any reply will do for damaged data, but not the engine catching an exception.
      const reply = db.call(...cmd);
      assert.ok(!(reply instanceof ReplyError && reply.message.includes("internal error")), `${what}: ${cmd.join(" ")}: ${reply}`);
    }
    assert.equal(db.call("PING"), "PONG", what);
  }
  db.close();
});

it("damaged master entries are refused unchecked too; damaged entries with sanitize-dump-payload yes", () => {
  const db = createEngine({ save: "" });
  const refused = (payloads: Record<string, Uint8Array>) => {
    for (const [what, payload] of Object.entries(payloads)) {
      const reply = db.call("RESTORE", "s", "0", payload);
      assert.ok(reply instanceof ReplyError && reply.message === "ERR Bad data format", `${what}: ${reply}`);
    }
  };
  refused(DAMAGED_MASTERS);
  db.call("CONFIG", "SET", "sanitize-dump-payload", "yes");
  refused({ ...DAMAGED_ENTRIES, ...DAMAGED_MASTERS });
  // An undamaged node of the same shape loads.
  const valid = streamPayload(listpack([...master(small(1)), small(2), small(0), small(0), text("v"), small(4)]));
  assert.equal(db.call("RESTORE", "s", "0", valid), "OK");
  assert.deepEqual(db.call("XRANGE", "s", "-", "+"), [["1-0", ["f", "v"]]]);
  db.close();
});
