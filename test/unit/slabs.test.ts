/**
 * The string slabs (core/types/slabs.ts) under an in-process engine: long
 * values share slabs without seeing each other's writes, and the walk
 * (core/db/slab-walk.ts) moves the values left in mostly unused slabs so
 * those slabs can go.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createEngine } from "../../mod.ts";
import { SlabWalk } from "../../core/db/slab-walk.ts";
import type { Engine } from "../../core/server/engine.ts";

const value = (i: number, n = 1000) => Buffer.alloc(n, `${i}:`).toString("latin1");

/** The distinct buffers under the string values of every key: the slabs (and own buffers) they keep alive. */
function buffersHeld(engine: Engine): number {
  const buffers = new Set<ArrayBufferLike>();
  for (const db of engine.dbs) {
    const w = db.data.walk();
    for (; db.data.advance(w); w.slot++) {
      const v = db.data.objectAt(w);
      if (v instanceof Uint8Array) buffers.add(v.buffer);
    }
  }
  return buffers.size;
}

describe("string slabs", () => {
  it("keep neighbours apart through SETRANGE, APPEND and SETBIT", () => {
    const e = createEngine({ save: "" });
    try {
      for (let i = 0; i < 8; i++) e.call("SET", `k${i}`, value(i, 300 + i));
      e.call("SETRANGE", "k3", 0, "xyz");
      e.call("APPEND", "k4", "tail");
      e.call("SETBIT", "k5", 0, 1);
      e.call("SET", "k6", value(60, 400));
      for (let i = 0; i < 8; i++) {
        let want = value(i, 300 + i);
        if (i === 3) want = "xyz" + want.slice(3);
        if (i === 4) want += "tail";
        if (i === 5) want = String.fromCharCode(want.charCodeAt(0) | 0x80) + want.slice(1);
        if (i === 6) want = value(60, 400);
        assert.equal(Buffer.from(e.callRaw("GET", `k${i}`) as Uint8Array).toString("latin1"), want, `k${i}`);
      }
      assert.equal(e.call("OBJECT", "ENCODING", "k0"), "raw");
      assert.equal(e.call("STRLEN", "k7"), 307);
    } finally {
      e.close();
    }
  });

  it("leave a zero byte after each value, which a truncated HLL opcode reads as Redis reads sds's terminator", () => {
    // A sparse HLL of 257 bytes (no cached count): 240 ZERO runs of 64 registers, then the first byte of an XZERO
    // whose second is missing. Read as 0 the runs fall short of 16,384 registers, corrupted for redis-server
    // too; read as 0xff (the neighbour's first byte) they fit and PFCOUNT answers 0.
    const hll = Buffer.concat([Buffer.from("HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80", "latin1"), Buffer.alloc(240, 0x3f), Buffer.of(0x43)]);
    const counts = (neighbour: boolean) => {
      const e = createEngine({ save: "" });
      try {
        e.callRaw("SET", "h", hll);
        if (neighbour) e.callRaw("SET", "n", Buffer.alloc(300, 0xff));
        return String(e.call("PFCOUNT", "h"));
      } finally {
        e.close();
      }
    };
    assert.match(counts(false), /INVALIDOBJ Corrupted HLL object detected/);
    assert.equal(counts(true), counts(false));
  });

  it("move the values left in mostly unused slabs, keeping every byte", () => {
    const e = createEngine({ save: "", databases: 2 });
    try {
      const engine = e.engine;
      // ~65 values a slab; 3,000 values fill ~46 slabs, then nine in ten go, spread over all of them.
      for (let db = 0; db < 2; db++) {
        e.call("SELECT", db);
        for (let i = 0; i < 1500; i++) e.call("SET", `k${i}`, value(i));
        for (let i = 0; i < 1500; i++) if (i % 10 !== 0) e.call(i % 3 === 0 ? "DEL" : "UNLINK", `k${i}`);
      }
      const before = buffersHeld(engine);
      assert.ok(before >= 40, `${before} slabs held before`);
      const walk = new SlabWalk(engine.slabs);
      // Each pass over the 300 keys takes a few steps: the first counts, the next ones move what it found sparse.
      for (let i = 0; i < 200; i++) walk.step(engine.dbs, 100);
      const after = buffersHeld(engine);
      assert.ok(engine.slabs.moved >= 290 && engine.slabs.moved <= 400, `${engine.slabs.moved} values moved`);
      assert.ok(after <= 6, `${after} slabs held after (300 values of 1,000 bytes fill 5)`);
      for (let db = 0; db < 2; db++) {
        e.call("SELECT", db);
        assert.equal(e.call("DBSIZE"), 150);
        for (let i = 0; i < 1500; i += 10) assert.equal(e.call("GET", `k${i}`), value(i));
      }
      // Slabs that are well used stay where they are.
      const moved = engine.slabs.moved;
      for (let i = 0; i < 200; i++) walk.step(engine.dbs, 100);
      assert.equal(engine.slabs.moved, moved);
    } finally {
      e.close();
    }
  });
});
