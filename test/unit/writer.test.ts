/**
 * Reply writer: the exact bytes of every RESP2 and RESP3 reply type, and
 * that the decoder reads them back.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ReplyWriter } from "../../core/resp/writer.ts";
import { decodeReplies, RespBigNumber, RespMap, RespPush, RespSet, RespVerbatim } from "../../core/resp/decoder.ts";

function bytesOf(resp: 2 | 3, write: (w: ReplyWriter) => void): string {
  const w = new ReplyWriter();
  w.resp = resp;
  write(w);
  return Buffer.from(w.take()).toString("latin1");
}

const both = (write: (w: ReplyWriter) => void): [string, string] => [bytesOf(2, write), bytesOf(3, write)];

describe("ReplyWriter", () => {
  it("simple strings, errors and integers", () => {
    assert.equal(bytesOf(2, (w) => w.ok()), "+OK\r\n");
    assert.equal(bytesOf(2, (w) => w.simple("PONG")), "+PONG\r\n");
    assert.equal(bytesOf(2, (w) => w.error("ERR bad\r\nthing")), "-ERR bad  thing\r\n");
    assert.equal(bytesOf(2, (w) => [0, 1, -1, 42, 9007199254740991].forEach((n) => w.int(n))),
      ":0\r\n:1\r\n:-1\r\n:42\r\n:9007199254740991\r\n");
    assert.equal(bytesOf(2, (w) => w.int(-9223372036854775808n)), ":-9223372036854775808\r\n");
  });

  it("bulk strings from bytes, binary strings and numbers", () => {
    assert.equal(bytesOf(2, (w) => w.bulk(Uint8Array.of(0, 13, 10, 255))), "$4\r\n\x00\r\n\xff\r\n");
    assert.equal(bytesOf(2, (w) => w.bulkStr("")), "$0\r\n\r\n");
    assert.equal(bytesOf(2, (w) => w.bulkStr("\xe9t\xe9")), "$3\r\n\xe9t\xe9\r\n");
    assert.equal(bytesOf(2, (w) => w.bulkValue(-12)), "$3\r\n-12\r\n");
  });

  it("reuse() starts the next replies over the taken bytes only when they were all sent", () => {
    const w = new ReplyWriter();
    w.ok();
    const first = w.take();
    w.reuse(first);
    w.int(42);
    const second = w.take();
    assert.equal(second.byteOffset, first.byteOffset, "written from the chunk's start again");
    assert.equal(Buffer.from(second).toString("latin1"), ":42\r\n");
    // Not reused: the taken bytes stay as they were while later replies go after them.
    w.simple("PONG");
    const kept = w.take();
    w.simple("ZZZZ");
    assert.equal(Buffer.from(kept).toString("latin1"), "+PONG\r\n");
    // Bytes written since the take: reuse() would write over them, so it does nothing.
    w.reuse(kept);
    assert.equal(Buffer.from(w.take()).toString("latin1"), "+ZZZZ\r\n");
    assert.equal(Buffer.from(kept).toString("latin1"), "+PONG\r\n");
  });

  it("a bulk larger than the initial buffer", () => {
    const big = new Uint8Array(100_000).fill(97);
    const out = bytesOf(2, (w) => w.bulk(big));
    assert.equal(out, "$100000\r\n" + "a".repeat(100_000) + "\r\n");
  });

  it("nulls: $-1 / *-1 in RESP2, _ in RESP3", () => {
    assert.deepEqual(both((w) => w.nullBulk()), ["$-1\r\n", "_\r\n"]);
    assert.deepEqual(both((w) => w.nullArray()), ["*-1\r\n", "_\r\n"]);
  });

  it("doubles with %.17g, inf, -inf and nan", () => {
    const cases: Array<[number, string]> = [
      [3.14, "3.1400000000000001"],
      [0.1, "0.10000000000000001"],
      [1e300, "1.0000000000000001e+300"],
      [-2.5e-7, "-2.4999999999999999e-07"],
      [1 / 3, "0.33333333333333331"],
      [1.2345678901234568e17, "1.2345678901234568e+17"],
      [1e17, "1e+17"],
      [1e16, "10000000000000000"],
      [0.0001, "0.0001"],
      [0.00001, "1.0000000000000001e-05"],
      [5e-324, "4.9406564584124654e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"],
      [100, "100"],
      [10.5, "10.5"],
      [-0, "-0"],
      [Infinity, "inf"],
      [-Infinity, "-inf"],
      [NaN, "nan"],
    ];
    for (const [d, s] of cases) {
      assert.deepEqual(both((w) => w.double(d)), [`$${s.length}\r\n${s}\r\n`, `,${s}\r\n`], String(d));
    }
  });

  it("booleans: integers in RESP2, #t/#f in RESP3", () => {
    assert.deepEqual(both((w) => (w.bool(true), w.bool(false))), [":1\r\n:0\r\n", "#t\r\n#f\r\n"]);
  });

  it("maps flatten to arrays in RESP2", () => {
    const write = (w: ReplyWriter) => {
      w.map(2);
      w.bulkStr("a");
      w.int(1);
      w.bulkStr("b");
      w.nullBulk();
    };
    assert.deepEqual(both(write), ["*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$-1\r\n", "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n"]);
    assert.deepEqual(both((w) => w.map(0)), ["*0\r\n", "%0\r\n"]);
  });

  it("sets and pushes are arrays in RESP2", () => {
    assert.deepEqual(both((w) => (w.set(1), w.bulkStr("x"))), ["*1\r\n$1\r\nx\r\n", "~1\r\n$1\r\nx\r\n"]);
    assert.deepEqual(both((w) => (w.push(2), w.bulkStr("message"), w.int(3))),
      ["*2\r\n$7\r\nmessage\r\n:3\r\n", ">2\r\n$7\r\nmessage\r\n:3\r\n"]);
    assert.deepEqual(both((w) => w.array(3)), ["*3\r\n", "*3\r\n"]);
  });

  it("big numbers are bulk strings in RESP2", () => {
    const n = "1234567890123456789012345678901234567890";
    assert.deepEqual(both((w) => w.bigNumber(n)), [`$40\r\n${n}\r\n`, `(${n}\r\n`]);
  });

  it("verbatim strings carry their format in RESP3", () => {
    assert.deepEqual(both((w) => w.verbatim("a\r\nb")), ["$4\r\na\r\nb\r\n", "=8\r\ntxt:a\r\nb\r\n"]);
    assert.deepEqual(both((w) => w.verbatim("# x", "mkd")), ["$3\r\n# x\r\n", "=7\r\nmkd:# x\r\n"]);
  });

  it("take() hands out a copy and starts over", () => {
    const w = new ReplyWriter();
    w.ok();
    const first = w.take();
    w.simple("XX");
    assert.equal(Buffer.from(first).toString(), "+OK\r\n");
    assert.equal(Buffer.from(w.take()).toString(), "+XX\r\n");
  });

  it("decodes back to the same values", () => {
    const w = new ReplyWriter();
    w.resp = 3;
    w.map(1);
    w.bulkStr("k");
    w.set(2);
    w.double(1.5);
    w.bool(true);
    w.push(1);
    w.bigNumber("99999999999999999999");
    w.verbatim("hi");
    w.nullBulk();
    w.error("ERR x");
    const { values, used } = decodeReplies(w.take());
    assert.equal(used > 0, true);
    assert.equal(values.length, 5);
    const m = values[0] as RespMap;
    assert.ok(m instanceof RespMap);
    const s = m.get(Buffer.from("k")) ?? [...m.values()][0];
    assert.ok(s instanceof RespSet);
    assert.deepEqual([...(s as RespSet)], [1.5, true]);
    assert.ok(values[1] instanceof RespPush);
    assert.equal(((values[1] as RespPush)[0] as RespBigNumber).digits, "99999999999999999999");
    assert.equal((values[2] as RespVerbatim).format, "txt");
    assert.equal(Buffer.from((values[2] as RespVerbatim).text).toString(), "hi");
    assert.equal(values[3], null);
    assert.equal((values[4] as Error).message, "ERR x");
  });
});
