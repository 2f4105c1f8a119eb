/**
 * RESTORE in an embedded engine: what it propagates (a relative TTL as the
 * deadline it gave plus ABSTTL, a restore already past its deadline as the
 * DEL of the key it replaced, nothing when nothing changed), and SHA-1 as
 * DEBUG DIGEST uses it (bytes and binary strings, every padding length).
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createEngine } from "../../mod.ts";
import { hex, sha1 } from "../../core/scripting/sha1.ts";
import type { PropArg } from "../../core/persist/propagate.ts";

const text = (a: PropArg) => (typeof a === "string" ? a : Buffer.from(a).toString("latin1"));

it("RESTORE propagates deadlines as absolute times and an expired replace as DEL", () => {
  const db = createEngine({ save: "" });
  const fed: string[][] = [];
  db.engine.propagation.attach({ feed: (_db, argv) => void fed.push(argv.map(text)), pending: false, beforeSleep() {} });
  db.callRaw("SET", "src", "v");
  const payload = db.callRaw("DUMP", "src") as Uint8Array;
  const p = Buffer.from(payload).toString("latin1");
  fed.length = 0;
  const before = Date.now();
  assert.equal(db.call("RESTORE", "a", "0", payload), "OK");
  assert.equal(db.call("RESTORE", "b", "5000", payload), "OK");
  assert.equal(db.call("RESTORE", "c", "1", payload, "ABSTTL"), "OK");
  assert.equal(db.call("RESTORE", "a", "1", payload, "REPLACE", "ABSTTL"), "OK");
  assert.equal(fed.length, 3, JSON.stringify(fed));
  assert.deepEqual(fed[0], ["RESTORE", "a", "0", p]);
  const [name, key, at, body, abs] = fed[1];
  assert.deepEqual([name, key, body, abs], ["RESTORE", "b", p, "ABSTTL"]);
  assert.ok(Number(at) >= before + 5000 && Number(at) <= Date.now() + 5000, at);
  assert.deepEqual(fed[2], ["DEL", "a"]);
  db.close();
});

it("sha1() agrees with node:crypto on bytes and binary strings of every padding length", () => {
  for (let len = 0; len < 200; len++) {
    const b = Uint8Array.from({ length: len }, (_, i) => (i * 37 + len) & 255);
    const want = createHash("sha1").update(b).digest("hex");
    assert.equal(hex(sha1(b)), want);
    assert.equal(hex(sha1(Buffer.from(b).toString("latin1"))), want);
  }
});
