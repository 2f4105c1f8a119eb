/**
 * The Node adapter's writes straight to the socket's handle, over real
 * loopback sockets: while the peer reads nothing the kernel stops taking
 * bytes, later writes wait in order, the counts CLIENT LIST shows (omem,
 * oll) see them, an end asked for meanwhile comes after the last byte, and
 * a write is reported taken (its memory free to reuse) only when it was.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { socketWriter } from "../../adapters/node-write.ts";

/** A server whose one accepted socket gets socketWriter; resolves with it and the client's socket, paused. */
async function pair(): Promise<{ server: net.Server; sock: net.Socket; client: net.Socket }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  const client = net.connect(port, "127.0.0.1");
  client.pause();
  return { server, sock: await accepted, client };
}

/** Chunk i: 64 KB of one byte value, with i in its first four bytes. */
function chunk(i: number): Uint8Array {
  const b = new Uint8Array(64 * 1024).fill(i & 0xff);
  new DataView(b.buffer).setUint32(0, i);
  return b;
}

describe("socketWriter", () => {
  it("queues what a peer does not read, in order, and ends after it", async () => {
    const { server, sock, client } = await pair();
    const writer = socketWriter(sock);
    const count = 200;
    const taken: boolean[] = [];
    for (let i = 0; i < count; i++) taken.push(writer.write(chunk(i)));
    assert.ok(taken.indexOf(false) > 0, "the first writes are taken at once, later ones wait");
    assert.ok(taken.slice(taken.indexOf(false)).every((t) => !t), "nothing is reported taken behind a write that waits");
    // 12.8 MB: more than loopback's socket buffers take from a peer that reads nothing.
    assert.ok(writer.pendingBytes() > 0, "bytes wait while the peer reads nothing");
    assert.ok(writer.pendingWrites() > 1, "several writes wait behind the one in flight");
    writer.end();
    writer.write(chunk(count));
    const received: Buffer[] = [];
    client.on("data", (d: Buffer) => received.push(d));
    const ended = new Promise((resolve) => client.on("end", resolve));
    client.resume();
    await ended;
    const all = Buffer.concat(received);
    assert.equal(all.length, count * 64 * 1024, "everything written before end() arrives, nothing after it");
    for (let i = 0; i < count; i++) {
      const at = i * 64 * 1024;
      assert.equal(all.readUInt32BE(at), i, `chunk ${i} in its place`);
      assert.equal(all[at + 64 * 1024 - 1], i & 0xff);
    }
    assert.equal(writer.pendingBytes(), 0);
    assert.equal(writer.pendingWrites(), 0);
    client.destroy();
    server.close();
  });

  it("takes a write at once while the peer reads", async () => {
    const { server, sock, client } = await pair();
    client.resume();
    const writer = socketWriter(sock);
    assert.equal(writer.write(new TextEncoder().encode("+OK\r\n")), true, "the kernel took it before write() returned");
    assert.equal(writer.pendingBytes(), 0);
    const got = await new Promise<string>((resolve) => client.once("data", (d: Buffer) => resolve(d.toString())));
    assert.equal(got, "+OK\r\n");
    client.destroy();
    server.close();
  });
});
