/**
 * Bad and odd requests for the protocol fuzzer (protocol-fuzz.ts): valid
 * commands of many families as RESP multibulk or inline, the same mutated
 * (bit flips, inserted CR/LF/'$'/'*', cuts, splices), multibulk and bulk
 * headers with huge, negative and malformed lengths, RESP3 type bytes sent
 * as requests, NUL bytes, unbalanced quotes, random bytes and over-long
 * lines. Seeded, so a run can be replayed. The commands are ones a stranger
 * may send without harming others by design: nothing that flushes, kills,
 * pauses, reconfigures, sleeps, runs scripts or asks for a reply sized by
 * its argument (SRANDMEMBER -n, SETRANGE at an offset), and keys live
 * under `fz:`, apart from the good clients'.
 */
import { rng } from "./diff.ts";

/** Numbers that probe parsers: limits of int64 and int32, signs, floats, junk. */
const NASTY_NUMBERS = [
  "0", "1", "-1", "2", "10", "-10", "3.5", "-0", "+1", "01", " 1", "1 ", "1e3", "0x10", "inf", "-inf", "nan", "",
  "2147483647", "2147483648", "-2147483648", "4294967296", "9223372036854775807", "-9223372036854775808",
  "9223372036854775808", "18446744073709551616", "99999999999999999999999", "1.7976931348623157e309", "abc",
];

/** Lengths for '*' and '$' headers. */
const NASTY_LENGTHS = [
  "-1", "-2", "-2147483648", "0", "1", "3", "100", "1024", "1048577", "536870912", "536870913", "2147483647", "2147483648",
  "9223372036854775807", "9223372036854775808", "-9223372036854775809", "", " 3", "3 ", "+3", "03", "3x", "x", "0x3",
];

const SPECIAL_BYTES = [...Buffer.from("\r\n*$-+:_,#%~>|=(!\"'\\ 0123456789\0\t\x7f\xff", "latin1")];
const RESP3_TYPES = [..."%~>#,(=|_!:+-"];

export class FuzzInputs {
  readonly random: () => number;

  constructor(seed: number) {
    this.random = rng(seed);
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  bytes(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.int(256));
    return s;
  }

  key(): string {
    return this.chance(0.05) ? "fz:" + this.bytes(1 + this.int(6)) : "fz:" + this.int(24);
  }

  value(): string {
    const r = this.random();
    if (r < 0.3) return this.pick(["", "a", "hello", "12", "-3", "3.14", "1e5", " ", "\r\n", "\0"]);
    if (r < 0.6) return this.pick(NASTY_NUMBERS);
    if (r < 0.98) return this.bytes(1 + this.int(40));
    return "x".repeat(500 + this.int(4000));
  }

  num(): string {
    return this.chance(0.7) ? String(this.int(20) - 5) : this.pick(NASTY_NUMBERS);
  }

  /** A command that is valid, or nearly: right names, random arguments, sometimes the wrong count. */
  command(): string[] {
    const k = () => this.key();
    const v = () => this.value();
    const n = () => this.num();
    const many = (f: () => string) => Array.from({ length: 1 + this.int(4) }, f);
    const pairs = (a: () => string, b: () => string) => Array.from({ length: 1 + this.int(3) }, () => [a(), b()]).flat();
    const templates: Array<() => string[]> = [
      () => ["PING"], () => ["PING", v()], () => ["ECHO", v()], () => ["SET", k(), v()],
      () => ["SET", k(), v(), ...this.pick([["NX"], ["XX"], ["GET"], ["KEEPTTL"], ["EX", n()], ["PX", n()], ["EXAT", n()], ["NX", "XX"]])],
      () => ["GET", k()], () => ["GETDEL", k()], () => ["GETEX", k(), "PX", n()], () => ["MSET", ...pairs(k, v)], () => ["MGET", ...many(k)],
      () => ["DEL", ...many(k)], () => ["EXISTS", ...many(k)], () => ["INCR", k()], () => ["INCRBY", k(), n()],
      () => ["INCRBYFLOAT", k(), n()], () => ["DECRBY", k(), n()], () => ["APPEND", k(), v()], () => ["STRLEN", k()],
      () => ["GETRANGE", k(), n(), n()], () => ["LPUSH", k(), ...many(v)], () => ["RPUSH", k(), ...many(v)], () => ["LPOP", k(), n()],
      () => ["LRANGE", k(), n(), n()], () => ["LINDEX", k(), n()], () => ["LINSERT", k(), this.pick(["BEFORE", "AFTER", "x"]), v(), v()],
      () => ["LREM", k(), n(), v()], () => ["LTRIM", k(), n(), n()], () => ["LPOS", k(), v(), "RANK", n()], () => ["LSET", k(), n(), v()],
      () => ["HSET", k(), ...pairs(v, v)], () => ["HGET", k(), v()], () => ["HGETALL", k()], () => ["HINCRBY", k(), v(), n()],
      () => ["HDEL", k(), ...many(v)], () => ["SADD", k(), ...many(v)], () => ["SMEMBERS", k()], () => ["SINTER", k(), k()],
      () => ["SPOP", k()], () => ["SISMEMBER", k(), v()], () => ["ZADD", k(), ...pairs(n, v)], () => ["ZADD", k(), "XX", "CH", n(), v()],
      () => ["ZRANGE", k(), n(), n(), "WITHSCORES"], () => ["ZRANGEBYSCORE", k(), n(), n()], () => ["ZINCRBY", k(), n(), v()],
      () => ["ZSCORE", k(), v()], () => ["ZREM", k(), v()], () => ["ZUNIONSTORE", k(), "2", k(), k()], () => ["EXPIRE", k(), n()],
      () => ["PEXPIRE", k(), n()], () => ["TTL", k()], () => ["PERSIST", k()], () => ["TYPE", k()], () => ["RENAME", k(), k()],
      () => ["OBJECT", "ENCODING", k()], () => ["SCAN", n(), "MATCH", "fz:*", "COUNT", n()], () => ["KEYS", "fz:1*"], () => ["DBSIZE"],
      () => ["SELECT", String(this.int(17))], () => ["HELLO", this.pick(["2", "3", "4", "x"])], () => ["HELLO", "3", "SETNAME", v()],
      () => ["RESET"], () => ["CLIENT", "SETNAME", v()], () => ["CLIENT", "GETNAME"], () => ["CLIENT", "ID"], () => ["CLIENT", "INFO"],
      () => ["CLIENT", "REPLY", this.pick(["ON", "OFF", "SKIP"])], () => ["MULTI"], () => ["EXEC"], () => ["DISCARD"],
      () => ["WATCH", k()], () => ["UNWATCH"], () => ["SUBSCRIBE", "fz:ch" + this.int(3)], () => ["PSUBSCRIBE", "fz:*"],
      () => ["UNSUBSCRIBE"], () => ["PUBLISH", "fz:ch" + this.int(3), v()], () => ["BLPOP", k(), this.pick(["0.01", "0", "-1", "x"])],
      () => ["BZPOPMIN", k(), "0.01"], () => ["INFO", this.pick(["server", "clients", "memory", "x", "everything"])],
      () => ["CONFIG", "GET", this.pick(["maxmemory", "*max*", "x"])], () => ["COMMAND", "INFO", this.pick(["get", "set", "x"])],
      () => ["COMMAND", "COUNT"], () => ["TIME"], () => ["AUTH", v()], () => ["AUTH", "default", v()], () => ["QUIT"],
      () => ["SORT", k(), "LIMIT", n(), n(), "ALPHA"], () => ["DUMP", k()], () => ["RESTORE", k(), "0", v()],
      () => ["SETEX", k(), n(), v()], () => ["COPY", k(), k()], () => ["LMOVE", k(), k(), "LEFT", "RIGHT"],
      () => ["SINTERCARD", n(), k(), k()], () => ["MEMORY", "USAGE", k()], () => ["OBJECT", "FREQ", k()],
      () => [this.bytes(1 + this.int(8)), ...many(v)], () => ["get"], () => ["SET", k()], () => [""],
    ];
    return this.pick(templates)();
  }

  resp(argv: string[]): string {
    let s = `*${argv.length}\r\n`;
    for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
    return s;
  }

  /** An inline request: words, quoted (with escapes) when they hold spaces, quotes or binary. */
  inline(argv: string[]): string {
    const word = (a: string) => {
      if (a !== "" && /^[\x21-\x7e]+$/.test(a) && !/["']/.test(a) && this.chance(0.9)) return a;
      return '"' + Array.from(a, (c) => (/[\x20-\x7e]/.test(c) && c !== '"' && c !== "\\" ? c : "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"))).join("") + '"';
    };
    return argv.map(word).join(" ") + this.pick(["\r\n", "\n", "\r\n"]);
  }

  /** Changes one to four bytes or slices of a request: flips, special bytes, inserts, cuts, duplicates. */
  mutate(s: string): string {
    let b = Buffer.from(s, "latin1");
    for (let ops = 1 + this.int(4); ops > 0; ops--) {
      const at = this.int(b.length + 1);
      const special = Buffer.of(this.pick(SPECIAL_BYTES));
      switch (this.int(8)) {
        case 0:
          if (at < b.length) b[at] ^= 1 << this.int(8);
          break;
        case 1:
          if (at < b.length) b[at] = special[0];
          break;
        case 2:
          b = Buffer.concat([b.subarray(0, at), special, b.subarray(at)]);
          break;
        case 3:
          b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + this.int(4))]);
          break;
        case 4:
          b = b.subarray(0, at);
          break;
        case 5: {
          const from = this.int(b.length + 1);
          b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + 1 + this.int(16)), b.subarray(at)]);
          break;
        }
        case 6:
          b = Buffer.concat([b.subarray(0, at), Buffer.from(this.header(), "latin1"), b.subarray(at)]);
          break;
        default:
          b = Buffer.concat([b.subarray(0, at), Buffer.from(this.bytes(1 + this.int(4)), "latin1"), b.subarray(at)]);
      }
    }
    return b.toString("latin1");
  }

  header(): string {
    return `${this.pick(["*", "$"])}${this.pick(NASTY_LENGTHS)}\r\n`;
  }

  /** A multibulk whose counts and lengths are nasty: huge, negative, malformed, or lying about the body. */
  badLengths(): string {
    const argv = this.command();
    let s = this.chance(0.5) ? `*${this.pick(NASTY_LENGTHS)}\r\n` : `*${argv.length}\r\n`;
    for (const a of argv) s += this.chance(0.3) ? `$${this.pick(NASTY_LENGTHS)}\r\n${a}\r\n` : `$${a.length}\r\n${a}\r\n`;
    return s;
  }

  /** A RESP3 value (map, set, push, boolean, double, ...) sent as if it were a request. */
  resp3Value(): string {
    const t = this.pick(RESP3_TYPES);
    return this.chance(0.5) ? `${t}${this.pick(NASTY_LENGTHS)}\r\n${this.resp(this.command())}` : `${t}${this.value()}\r\n`;
  }

  /** A line over Redis's 64 KB inline limit, inline or as a header, with no line end. */
  overlong(): string {
    return this.pick(["", "*", "*1\r\n$"]) + (this.chance(0.5) ? "1" : "A").repeat(64 * 1024 + 1 + this.int(1000));
  }

  /** One input: most are whole requests, a few leave the parser waiting for a body or a line end. */
  next(): string {
    const r = this.random();
    if (r < 0.28) return this.resp(this.command());
    if (r < 0.38) return this.inline(this.command());
    if (r < 0.66) return this.mutate(this.chance(0.7) ? this.resp(this.command()) : this.inline(this.command()));
    if (r < 0.76) return this.badLengths();
    if (r < 0.81) return this.resp3Value();
    if (r < 0.86) return this.bytes(1 + this.int(64));
    if (r < 0.9) return this.pick(["\r\n", "\n", "\r", "\0\r\n", " \r\n", "\"\r\n", "'a\r\n", "\"a\"b\r\n", "PING \"\\x4\"\r\n"]);
    if (r < 0.95) return this.inline(this.command()).replace(/ /, this.pick(["\0", "\t", "\v", "\f"]));
    if (r < 0.999) return this.pick(["*1\r\n$", "*2\r\n$3\r\nGET\r\n", "*1\r\n$4\r\nPI", "$", "*"]) + this.bytes(this.int(3));
    return this.overlong();
  }
}
