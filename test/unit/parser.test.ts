/**
 * Request parser: any split of the byte stream gives the same commands,
 * inline lines split like Redis's sdssplitargs, and the limits Redis
 * enforces (bulk length, query buffer, unauthenticated clients).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ProtocolError, QueryBufferLimitError, RequestParser, splitArgs } from "../../core/resp/parser.ts";
import { encodeCommand } from "../../core/resp/decoder.ts";
import { rng } from "../lib/diff.ts";

const LIMITS = { maxBulkLen: 512 * 1024 * 1024, queryBufferLimit: 1024 * 1024 * 1024 };
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (argv: Uint8Array[]) => argv.map((a) => Buffer.from(a).toString("latin1"));

/** Feeds the chunks and returns every command, keeping the parser's views until the end. */
function parseAll(chunks: Uint8Array[], parser = new RequestParser(LIMITS)): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (const chunk of chunks) {
    parser.feed(chunk);
    for (let argv = parser.next(); argv !== null; argv = parser.next()) out.push(argv);
  }
  return out;
}

function parseOne(s: string, parser = new RequestParser(LIMITS)): string[][] {
  return parseAll([latin1(s)], parser).map(text);
}

/** Quotes an argument for an inline line so sdssplitargs gives it back unchanged. */
function quoteInline(arg: Uint8Array): string {
  let s = '"';
  for (const b of arg) {
    if (b === 34 || b === 92) s += "\\" + String.fromCharCode(b);
    else if (b < 32 || b > 126) s += "\\x" + b.toString(16).padStart(2, "0");
    else s += String.fromCharCode(b);
  }
  return s + '"';
}

/** A stream of many commands and the argv lists it must parse into. */
function makeStream(seed: number, count: number, bigBulk: number) {
  const rand = rng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const randomArg = () => {
    const r = rand();
    const len = r < 0.05 ? bigBulk : r < 0.2 ? int(2000) : int(20);
    const a = new Uint8Array(len);
    for (let i = 0; i < len; i++) a[i] = int(256);
    return a;
  };
  const parts: Uint8Array[] = [];
  const expected: string[][] = [];
  for (let i = 0; i < count; i++) {
    const r = rand();
    if (r < 0.05) {
      parts.push(latin1(r < 0.025 ? "*0\r\n" : "\r\n"));
      continue;
    }
    const argv = [latin1(`CMD${i}`), ...Array.from({ length: int(5) }, randomArg)];
    if (r < 0.3) {
      const line = argv.map((a, j) => (j === 0 ? "CMD" + i : quoteInline(a.subarray(0, 300))));
      parts.push(latin1(line.join(rand() < 0.5 ? " " : " \t ") + (rand() < 0.5 ? "\r\n" : "\n")));
      expected.push(text(argv.map((a, j) => (j === 0 ? a : a.subarray(0, 300)))));
    } else {
      parts.push(encodeCommand(argv));
      expected.push(text(argv));
    }
  }
  return { stream: Buffer.concat(parts), expected };
}

function randomSplits(stream: Uint8Array, rand: () => number, maxChunk: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let pos = 0; pos < stream.length;) {
    const n = 1 + Math.floor(rand() * maxChunk);
    // Fresh copies: the parser must not rely on chunks sharing one buffer.
    chunks.push(stream.slice(pos, pos + n));
    pos += n;
  }
  return chunks;
}

describe("RequestParser stream splitting", () => {
  it("gives the same commands for one write, random splits and one byte at a time", () => {
    const { stream, expected } = makeStream(1, 400, 100_000);
    assert.deepEqual(parseAll([stream]).map(text), expected);
    for (const [seed, maxChunk] of [[2, 3], [3, 50], [4, 4000], [5, 70_000]]) {
      const got = parseAll(randomSplits(stream, rng(seed), maxChunk)).map(text);
      assert.deepEqual(got, expected, `seed ${seed} max chunk ${maxChunk}`);
    }
    const bytewise = Array.from(stream, (b) => Uint8Array.of(b));
    assert.deepEqual(parseAll(bytewise).map(text), expected);
  });

  it("keeps argument views valid after later feeds", () => {
    const { stream, expected } = makeStream(7, 200, 40_000);
    const parser = new RequestParser(LIMITS);
    const held = parseAll(randomSplits(stream, rng(8), 700), parser);
    // Feed more after the views were handed out; they must not change.
    parseAll(randomSplits(makeStream(9, 100, 40_000).stream, rng(10), 700), parser);
    assert.deepEqual(held.map(text), expected);
  });

  it("gives the same commands when small arguments are copied and a repeated name is reused", () => {
    // Names repeat as in a pipeline, with case and length changes between runs.
    const names = ["SET", "SET", "set", "SET", "SETX", "SE", "GET", "GET", "GET"];
    const rand = rng(12);
    const commands = Array.from({ length: 3000 }, (_, i) => [
      names[Math.floor(i / 7) % names.length],
      ...Array.from({ length: Math.floor(rand() * 3) }, () => "x".repeat(Math.floor(rand() * 70))),
    ]);
    const stream = Buffer.concat(commands.map((argv) => encodeCommand(argv)));
    for (const copyArgumentsUpTo of [0, 32]) {
      const parser = new RequestParser({ ...LIMITS, copyArgumentsUpTo });
      const held = parseAll(randomSplits(stream, rng(13), 900), parser);
      parseAll(randomSplits(makeStream(14, 50, 1000).stream, rng(15), 700), parser);
      assert.deepEqual(held.map(text), commands, `copyArgumentsUpTo ${copyArgumentsUpTo}`);
    }
  });

  it("keeps no command name as a view of a read buffer", () => {
    // An idle client keeps its last command's name: it must not pin the chunk it came in.
    const chunk = new Uint8Array(encodeCommand(["SET", "k", "v".repeat(100)]));
    const [argv] = parseAll([chunk], new RequestParser(LIMITS));
    assert.equal(text(argv)[0], "SET");
    assert.notEqual(argv[0].buffer, chunk.buffer);
    assert.equal(argv[2].buffer, chunk.buffer);
  });

  it("answers a big bulk split across many reads", () => {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i * 7);
    const stream = encodeCommand(["SET", "k", big]);
    const chunks = randomSplits(stream, rng(11), 65536);
    const [argv] = parseAll(chunks);
    assert.equal(argv.length, 3);
    assert.deepEqual(Buffer.from(argv[2]), Buffer.from(big));
  });

  it("ignores *0, negative counts and empty lines", () => {
    assert.deepEqual(parseOne("*0\r\n*-5\r\n\r\n\n   \r\nPING\r\n"), [["PING"]]);
  });

  it("skips the two bytes after a bulk without checking them, like Redis", () => {
    assert.deepEqual(parseOne("*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"), [["PING"], ["PING"]]);
  });
});

describe("inline commands (sdssplitargs)", () => {
  const split = (s: string) => {
    const r = splitArgs(latin1(s));
    return r === null ? null : text(r);
  };

  it("splits on spaces and tabs, skipping leading and trailing blanks", () => {
    assert.deepEqual(split("  SET\tk   v  "), ["SET", "k", "v"]);
    assert.deepEqual(split(""), []);
  });

  it("splits a line without quotes as the quoting splitter does (the fast path)", () => {
    const next = rng(12);
    const chars = " \t\r\n\v\fab\xff\x80\\x";
    for (let t = 0; t < 2000; t++) {
      const line = Array.from({ length: Math.floor(next() * 24) }, () => chars[Math.floor(next() * chars.length)]).join("");
      // A trailing empty quoted argument sends the line down the quoting path, which then gives one more argument.
      const quoted = split(line + ' ""')!;
      assert.deepEqual(split(line), quoted.slice(0, -1), JSON.stringify(line));
    }
    assert.deepEqual(split("PING\0 ignored"), ["PING"]);
  });

  it("handles double-quote escapes", () => {
    assert.deepEqual(split('ECHO "a\\x41\\x4g\\n\\r\\t\\b\\a\\"\\\\\\q"'), ["ECHO", "aAx4g\n\r\t\b\x07\"\\q"]);
    assert.deepEqual(split('ECHO "" "a b"'), ["ECHO", "", "a b"]);
  });

  it("single quotes only unescape \\'", () => {
    assert.deepEqual(split("ECHO 'a\\'b\\n'"), ["ECHO", "a'b\\n"]);
  });

  it("joins quoted parts glued to a word", () => {
    assert.deepEqual(split('ECHO foo"bar baz"'), ["ECHO", "foobar baz"]);
  });

  it("rejects unbalanced quotes and text glued after a closing quote", () => {
    assert.equal(split('ECHO "a'), null);
    assert.equal(split("ECHO 'a"), null);
    assert.equal(split('ECHO "a"b'), null);
    assert.equal(split("ECHO 'a'b"), null);
  });

  it("keeps \\v and \\f inside a word but skips them between words", () => {
    assert.deepEqual(split("ECHO a\vb"), ["ECHO", "a\vb"]);
    assert.deepEqual(split("\v ECHO \fa \f"), ["ECHO", "a"]);
  });

  it("stops at a NUL byte, as Redis reads the line as a C string", () => {
    assert.deepEqual(split("ECHO a\0b c"), ["ECHO", "a"]);
  });

  it("reports unbalanced quotes as Redis's protocol error", () => {
    assert.throws(() => parseOne('ECHO "a\r\n'), { message: "Protocol error: unbalanced quotes in request" });
  });
});

describe("protocol errors", () => {
  const cases: Array<[string, string]> = [
    ["*abc\r\n", "invalid multibulk length"],
    ["*\r\n", "invalid multibulk length"],
    ["*-0\r\n", "invalid multibulk length"],
    ["*01\r\n", "invalid multibulk length"],
    ["*+1\r\n", "invalid multibulk length"],
    ["*3000000000\r\n", "invalid multibulk length"],
    ["*99999999999999999999\r\n", "invalid multibulk length"],
    ["*1\r\n+x\r\n", "expected '$', got '+'"],
    ["*1\r\n$-5\r\n", "invalid bulk length"],
    ["*1\r\n$04\r\n", "invalid bulk length"],
    ["*1\r\n$ 4\r\n", "invalid bulk length"],
    ["*1\r\n$600000000\r\n", "invalid bulk length"],
  ];
  for (const [input, msg] of cases) {
    it(`${JSON.stringify(input)} -> ${msg}`, () => {
      assert.throws(() => parseOne(input), (e: Error) => e instanceof ProtocolError && e.message === `Protocol error: ${msg}`);
    });
  }

  it("accepts the largest multibulk count and waits for its arguments", () => {
    assert.deepEqual(parseOne("*2147483647\r\n"), []);
  });

  it("takes any byte after CR as the header's end, like Redis", () => {
    assert.deepEqual(parseOne("*1\rx$4\r\nPING\r\n"), [["PING"]]);
  });

  it("rejects lines over 64 KB without a newline", () => {
    const long = "x".repeat(64 * 1024 + 1);
    assert.throws(() => parseOne(long), { message: "Protocol error: too big inline request" });
    assert.throws(() => parseOne("*" + long), { message: "Protocol error: too big mbulk count string" });
    assert.throws(() => parseOne("*1\r\n$" + long), { message: "Protocol error: too big bulk count string" });
    assert.deepEqual(parseOne("x".repeat(64 * 1024)), []);
  });

  it("waits forever on a line with a NUL before its newline, like Redis's strchr", () => {
    assert.deepEqual(parseOne("ECHO a\0b\r\nPING\r\n"), []);
    assert.deepEqual(parseOne("*1\0\r\n$4\r\nPING\r\n"), []);
  });
});

describe("limits", () => {
  it("applies proto-max-bulk-len as set at the time of the header", () => {
    const limits = { ...LIMITS, maxBulkLen: 10 };
    const p = new RequestParser(limits);
    assert.deepEqual(parseOne("*1\r\n$10\r\n0123456789\r\n", p), [["0123456789"]]);
    assert.throws(() => parseOne("*1\r\n$11\r\n", p), { message: "Protocol error: invalid bulk length" });
    limits.maxBulkLen = 20;
    assert.deepEqual(parseOne("*1\r\n$11\r\n01234567890\r\n", new RequestParser(limits)), [["01234567890"]]);
  });

  it("closes when unparsed input passes client-query-buffer-limit", () => {
    const p = new RequestParser({ ...LIMITS, queryBufferLimit: 1000 });
    p.feed(latin1("*2\r\n$3\r\nSET\r\n$5000\r\n"));
    p.next();
    p.feed(new Uint8Array(1000));
    assert.throws(() => p.feed(new Uint8Array(1)), QueryBufferLimitError);
  });

  it("does not count parsed commands against the query buffer limit", () => {
    const p = new RequestParser({ ...LIMITS, queryBufferLimit: 1000 });
    for (let i = 0; i < 100; i++) assert.deepEqual(parseOne("PING ".repeat(100) + "\r\n", p).length, 1);
  });

  it("limits unauthenticated clients to 10 arguments and 16384-byte bulks", () => {
    const p = () => {
      const parser = new RequestParser(LIMITS);
      parser.authenticated = false;
      return parser;
    };
    assert.deepEqual(parseOne("*10\r\n", p()), []);
    assert.throws(() => parseOne("*11\r\n", p()), { message: "Protocol error: unauthenticated multibulk length" });
    assert.deepEqual(parseOne("*1\r\n$16384\r\n", p()), []);
    assert.throws(() => parseOne("*1\r\n$16385\r\n", p()), { message: "Protocol error: unauthenticated bulk length" });
    // Inline requests have no argument limit (only the 64 KB line limit).
    assert.equal(parseOne("a b c d e f g h i j k l\r\n", p())[0].length, 12);
    const authed = p();
    authed.authenticated = true;
    assert.deepEqual(parseOne(encodeCommand(Array(20).fill("x")).reduce((s, b) => s + String.fromCharCode(b), ""), authed).length, 1);
  });
});

describe("peekKeys (the keys a pipeline's lookups are prefetched for)", () => {
  const peek = (input: string, max = 32, skip = 0) => {
    const parser = new RequestParser(LIMITS);
    parser.feed(latin1(input));
    for (let i = 0; i < skip; i++) parser.next();
    const starts = new Int32Array(max);
    const lengths = new Int32Array(max);
    const n = parser.peekKeys(starts, lengths);
    const buf = parser.buffered;
    return Array.from(
      { length: n },
      (_, k) => (lengths[k] < 0 ? null : Buffer.from(buf.subarray(starts[k], starts[k] + lengths[k])).toString("latin1")),
    );
  };
  const wire = (...cmds: string[][]) => cmds.map((c) => Buffer.from(encodeCommand(c)).toString("latin1")).join("");

  it("gives each complete command's second argument (none for one argument), binary or empty, of what is left", () => {
    const input = wire(["GET", "a\r\n\0b"], ["PING"], ["SET", "", "v"], ["MSET", "k1", "1", "k2", "2"], ["GET", "c"]);
    assert.deepEqual(peek(input), ["a\r\n\0b", null, "", "k1", "c"]);
    assert.deepEqual(peek(input, 32, 2), ["", "k1", "c"]);
    assert.deepEqual(peek(input, 2), ["a\r\n\0b", null]);
  });

  it("stops at a partial command, an inline one or anything odd, and leaves parsing as it was", () => {
    const whole = wire(["GET", "a"], ["GET", "b"]);
    assert.deepEqual(peek(whole + "*2\r\n$3\r\nGET\r\n$5\r\nabc"), ["a", "b"]);
    assert.deepEqual(peek(whole + "*2\r\n$3\r\nGET\r\n$100\r\n" + "x".repeat(10)), ["a", "b"]);
    assert.deepEqual(peek(whole + "GET c\r\n" + wire(["GET", "d"])), ["a", "b"]);
    assert.deepEqual(peek(whole + "*-1\r\n" + wire(["GET", "e"])), ["a", "b"]);
    assert.deepEqual(peek("*abc\r\n" + whole), []);
    const parser = new RequestParser(LIMITS);
    const input = latin1(whole + "*2\r\n$3\r\nGET\r\n$1\r\n");
    parser.feed(input);
    parser.peekKeys(new Int32Array(4), new Int32Array(4));
    assert.deepEqual(parseAll([latin1("z\r\n")], parser).map(text), [["GET", "a"], ["GET", "b"], ["GET", "z"]]);
  });
});
