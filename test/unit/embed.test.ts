/**
 * The public API in mod.ts: an in-process engine driven without sockets,
 * and startServer() listening like the CLI does.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createEngine, ReplyError, startServer } from "../../mod.ts";
import { freePort, tmpDir } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";

describe("embedded engine", () => {
  it("runs commands synchronously and decodes replies", () => {
    const db = createEngine();
    try {
      assert.equal(db.call("SET", "k", "v", "EX", 100), "OK");
      assert.equal(db.call("GET", "k"), "v");
      assert.equal(db.call("INCR", "n"), 1);
      assert.equal(db.call("GET", "missing"), null);
      assert.deepEqual([...(db.call("MGET", "k", "missing") as unknown[])], ["v", null]);
      const err = db.call("INCR", "k");
      assert.ok(err instanceof ReplyError);
      assert.equal(err.message, "ERR value is not an integer or out of range");
      const bin = new Uint8Array([0, 13, 10, 255]);
      db.callRaw("SET", bin, bin);
      assert.deepEqual(db.callRaw("GET", bin), bin);
    } finally {
      db.close();
    }
  });

  it("takes directives and keeps databases apart", () => {
    const db = createEngine({ databases: 2 });
    try {
      assert.equal(db.call("SELECT", 1), "OK");
      assert.equal(db.call("SET", "a", "1"), "OK");
      assert.equal(db.call("DBSIZE"), 1);
      assert.ok(db.call("SELECT", 2) instanceof ReplyError);
      assert.deepEqual([...(db.call("CONFIG", "GET", "databases") as unknown[])], ["databases", "2"]);
    } finally {
      db.close();
    }
  });
});

describe("startServer", () => {
  it("serves RESP on the port it was given and closes cleanly", async () => {
    const port = await freePort();
    // In a directory of its own: a server loads the dump.rdb it finds there.
    const server = await startServer({ port, bind: "127.0.0.1", gateway: false, dir: tmpDir() });
    try {
      const conn = await RawConnection.connect(port);
      assert.equal((await conn.call("SET", "x", "1")).toString(), "+OK\r\n");
      assert.equal(server.engine.dbs[0].size, 1);
      conn.close();
    } finally {
      server.close();
    }
  });
});
