/**
 * MIGRATE's connection cache with a fake dialer: one connection per
 * host:port reused while it lives, reply lines read across any split of the
 * bytes, a transfer ended by the peer closing (with the lines read so far),
 * dial failures told apart as Redis's replies need (refused vs the rest).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Connection, Dialer, StreamHandlers } from "../../core/io.ts";
import { type DialFailure, type MigrateSocket, MigrateSockets, type TransferEnd } from "../../core/cluster/migrate-sockets.ts";

/** A dialer whose connections record what was written; the test feeds their replies and ends them. */
class FakeDialer implements Dialer {
  dials = 0;
  handlers: StreamHandlers[] = [];
  written: Uint8Array[] = [];
  fail: Error | null = null;

  connect(_host: string, _port: number, handlers: StreamHandlers): Promise<Connection> {
    this.dials++;
    if (this.fail !== null) return Promise.reject(this.fail);
    this.handlers.push(handlers);
    return Promise.resolve({
      write: (b) => void this.written.push(b),
      pendingBytes: () => 0,
      close: () => {},
      remoteAddress: "",
      localAddress: "",
      kind: "tcp",
    });
  }
}

function get(sockets: MigrateSockets, name = "h:1"): Promise<[MigrateSocket | null, DialFailure | null]> {
  return new Promise((resolve) => sockets.get("h", 1, 1000, name, (s, why) => resolve([s, why])));
}

function transfer(sock: MigrateSocket, count: number): { done: Promise<[string[], TransferEnd]> } {
  return { done: new Promise((resolve) => sock.transfer(new Uint8Array([1]), count, 60_000, (lines, end) => resolve([lines, end]))) };
}

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe("MIGRATE's connection cache", () => {
  it("reuses the connection to the same host:port and dials again once it closed", async () => {
    const dialer = new FakeDialer();
    const sockets = new MigrateSockets(() => dialer, () => 0);
    const [a] = await get(sockets);
    const [b] = await get(sockets);
    assert.equal(a, b);
    assert.equal(dialer.dials, 1);
    assert.equal(sockets.size, 1);
    dialer.handlers[0].closed();
    assert.equal(sockets.size, 0);
    const [c] = await get(sockets);
    assert.notEqual(c, a);
    assert.equal(dialer.dials, 2);
    sockets.closeAll();
  });

  it("reads reply lines split anywhere across chunks, and ends a transfer when the peer closes", async () => {
    const dialer = new FakeDialer();
    const sockets = new MigrateSockets(() => dialer, () => 0);
    const [sock] = await get(sockets);
    const t = transfer(sock!, 3);
    for (const part of ["+O", "K\r", "\n-BUSYKEY Target\xff key", " name already exists.\r\n+OK\r", "\n"]) dialer.handlers[0].data(bytes(part));
    assert.deepEqual(await t.done, [["+OK", "-BUSYKEY Target\xff key name already exists.", "+OK"], null]);
    const t2 = transfer(sock!, 2);
    dialer.handlers[0].data(bytes("+OK\r\n"));
    dialer.handlers[0].closed();
    assert.deepEqual(await t2.done, [["+OK"], "closed"]);
    sockets.closeAll();
  });

  it("tells a refused dial from the others, and caches neither", async () => {
    const dialer = new FakeDialer();
    const sockets = new MigrateSockets(() => dialer, () => 0);
    dialer.fail = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    assert.deepEqual(await get(sockets), [null, "refused"]);
    dialer.fail = new Error("getaddrinfo ENOTFOUND name.invalid");
    assert.deepEqual(await get(sockets), [null, "connect"]);
    assert.deepEqual(await new Promise((r) => new MigrateSockets(() => null, () => 0).get("h", 1, 10, "h:1", (s, why) => r([s, why]))), [null, "connect"]);
    assert.equal(sockets.size, 0);
  });
});
