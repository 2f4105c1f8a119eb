/**
 * Reply encoder for RESP2 and RESP3 into one growable buffer per client, so
 * every reply produced while handling one read leaves in a single write.
 * Strings held by the keyspace are "binary strings" (one char per byte), so
 * they are copied byte by byte without any text encoding.
 */
import { formatDouble } from "../util/number.ts";
import { writeBinary } from "../util/bytes.ts";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Replies sent often enough to be worth pre-encoding. */
export const CONST = {
  ok: ascii("+OK\r\n"),
  pong: ascii("+PONG\r\n"),
  queued: ascii("+QUEUED\r\n"),
  nullBulk2: ascii("$-1\r\n"),
  nullArray2: ascii("*-1\r\n"),
  null3: ascii("_\r\n"),
  emptyArray: ascii("*0\r\n"),
  zero: ascii(":0\r\n"),
  one: ascii(":1\r\n"),
};

export type Protocol = 2 | 3;

const CHUNK = 16 * 1024;
/** Below this much room left, take() starts a fresh chunk rather than a sliver. */
const MIN_ROOM = 2 * 1024;

export class ReplyWriter {
  /** Where replies go: the unused tail of a chunk, starting with the bytes not taken yet. */
  buf = new Uint8Array(CHUNK);
  pos = 0;
  resp: Protocol = 2;
  /** The whole allocation buf is a window of (see reuse). */
  private chunk = this.buf;
  /** The most bytes one take() carried since the client-memory cron last looked (Redis's rbp, buf_peak). */
  peak = CHUNK;
  /** Bytes reserved for replies: the whole chunk buf is the tail of (Redis's rbs, buf_usable_size). */
  size = CHUNK;

  /**
   * Takes the bytes written so far and starts over. They are handed out as
   * a view, not a copy (allocating an ArrayBuffer per write costs more than
   * the replies): later replies go after them, never over them.
   */
  take(): Uint8Array {
    if (this.pos > this.peak) this.peak = this.pos;
    const out = this.buf.subarray(0, this.pos);
    const room = this.buf.length - this.pos;
    // A buffer grown for a big reply is let go rather than kept per client.
    if (room >= MIN_ROOM && room <= CHUNK) this.buf = this.buf.subarray(this.pos);
    else this.fresh(CHUNK);
    this.pos = 0;
    return out;
  }

  /**
   * After take(), when the connection says the kernel has copied what was
   * taken and everything before it: replies start again at the chunk's
   * beginning, so they are written into cache lines just written rather
   * than into fresh memory, as Redis reuses each client's reply buffer.
   */
  reuse(taken: Uint8Array): void {
    if (this.pos === 0 && taken.buffer === this.chunk.buffer) this.buf = this.chunk;
  }

  private fresh(size: number): void {
    this.buf = this.chunk = new Uint8Array(size);
    this.size = size;
  }

  /** Swaps an idle buffer for a smaller one (nothing may be pending); the next take() after a reply starts a full chunk again. */
  shrink(size: number): void {
    this.fresh(size);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = Math.max(this.buf.length * 2, CHUNK);
    while (cap < this.pos + n) cap *= 2;
    const old = this.buf;
    this.fresh(cap);
    this.buf.set(old.subarray(0, this.pos));
  }

  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    // For the few bytes of a typical reply a loop beats set()'s call overhead.
    const buf = this.buf;
    if (n > 32) buf.set(bytes, this.pos);
    else for (let i = 0, p = this.pos; i < n; i++) buf[p + i] = bytes[i];
    this.pos += n;
  }

  /** Writes a binary string (char codes 0..255) as bytes. */
  private latin1(s: string): void {
    const n = s.length;
    this.ensure(n);
    this.pos = writeBinary(s, this.buf, this.pos);
  }

  /** Writes an integer in decimal; safe integers without building a string (lengths, counters). */
  private decimal(n: number): void {
    if (!Number.isSafeInteger(n)) return this.latin1(String(n));
    let digits = 1;
    let v = n < 0 ? -n : n;
    for (let rest = v; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    this.ensure(digits + 1);
    const buf = this.buf;
    if (n < 0) buf[this.pos++] = 45; // '-'
    let p = this.pos + digits;
    this.pos = p;
    do {
      const q = Math.floor(v / 10);
      buf[--p] = 48 + (v - q * 10);
      v = q;
    } while (v !== 0);
  }

  private crlf(): void {
    this.ensure(2);
    this.buf[this.pos++] = 13;
    this.buf[this.pos++] = 10;
  }

  private header(prefix: number, n: number): void {
    this.ensure(1);
    this.buf[this.pos++] = prefix;
    this.decimal(n);
    this.crlf();
  }

  ok(): void {
    this.raw(CONST.ok);
  }

  simple(s: string): void {
    this.ensure(1);
    this.buf[this.pos++] = 43; // '+'
    this.latin1(s);
    this.crlf();
  }

  /** An error reply; msg starts with its code ("ERR ...", "WRONGTYPE ..."). Newlines become spaces as in Redis. */
  error(msg: string): void {
    this.ensure(1);
    this.buf[this.pos++] = 45; // '-'
    this.latin1(msg.replace(/[\r\n]/g, " "));
    this.crlf();
  }

  int(n: number | bigint): void {
    if (n === 0) return this.raw(CONST.zero);
    if (n === 1) return this.raw(CONST.one);
    this.ensure(1);
    this.buf[this.pos++] = 58; // ':'
    if (typeof n === "number") this.decimal(n);
    else this.latin1(String(n));
    this.crlf();
  }

  bulk(bytes: Uint8Array): void {
    this.header(36, bytes.length);
    this.raw(bytes);
    this.crlf();
  }

  /** A bulk string of len bytes of src from offset: no view to allocate (LRANGE over listpack nodes). */
  bulkFrom(src: Uint8Array, offset: number, len: number): void {
    this.header(36, len);
    this.ensure(len + 2);
    const buf = this.buf;
    let p = this.pos;
    if (len > 32) buf.set(src.subarray(offset, offset + len), p);
    else for (let i = 0; i < len; i++) buf[p + i] = src[offset + i];
    p += len;
    buf[p++] = 13;
    buf[p++] = 10;
    this.pos = p;
  }

  /** A bulk string given as a binary string. */
  bulkStr(s: string): void {
    this.header(36, s.length);
    this.latin1(s);
    this.crlf();
  }

  /** A bulk string for a stored string value, whatever form it is held in. */
  bulkValue(v: string | Uint8Array | number): void {
    if (typeof v === "string") this.bulkStr(v);
    else if (typeof v === "number") this.bulkStr(String(v));
    else this.bulk(v);
  }

  /** The null reply: `$-1` in RESP2, `_` in RESP3. */
  nullBulk(): void {
    this.raw(this.resp === 2 ? CONST.nullBulk2 : CONST.null3);
  }

  /** The null array: `*-1` in RESP2, `_` in RESP3. */
  nullArray(): void {
    this.raw(this.resp === 2 ? CONST.nullArray2 : CONST.null3);
  }

  array(n: number): void {
    this.header(42, n);
  }

  /** A map of n pairs: flattened to 2n array elements in RESP2. */
  map(n: number): void {
    if (this.resp === 2) this.header(42, n * 2);
    else this.header(37, n);
  }

  set(n: number): void {
    this.header(this.resp === 2 ? 42 : 126, n);
  }

  push(n: number): void {
    this.header(this.resp === 2 ? 42 : 62, n);
  }

  /** A double: bulk string in RESP2, `,` in RESP3; formatted like Redis 7.0 (%.17g). */
  double(d: number): void {
    this.doubleText(formatDouble(d));
  }

  /** A double already formatted (GEOPOS's "%.17Lf" digits): bulk string in RESP2, `,` in RESP3. */
  doubleText(s: string): void {
    if (this.resp === 2) return this.bulkStr(s);
    this.ensure(1);
    this.buf[this.pos++] = 44; // ','
    this.latin1(s);
    this.crlf();
  }

  bool(b: boolean): void {
    if (this.resp === 2) return this.int(b ? 1 : 0);
    this.latin1(b ? "#t\r\n" : "#f\r\n");
  }

  bigNumber(digits: string): void {
    if (this.resp === 2) return this.bulkStr(digits);
    this.ensure(1);
    this.buf[this.pos++] = 40; // '('
    this.latin1(digits);
    this.crlf();
  }

  /** Verbatim text (format "txt" or "mkd"); a plain bulk string in RESP2. */
  verbatim(text: string, format = "txt"): void {
    if (this.resp === 2) return this.bulkStr(text);
    this.header(61, text.length + 4);
    this.latin1(format + ":" + text);
    this.crlf();
  }
}

