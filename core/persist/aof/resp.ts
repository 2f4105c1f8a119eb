/**
 * Commands as the AOF holds them: RESP arrays of bulk strings (`*N`, then
 * `$len` and the bytes of each argument), built into one growable buffer so
 * a batch of effects reaches the file in one write.
 */
import type { PropArg } from "../propagate.ts";
import { ByteWriter } from "../rdb/writer.ts";
import { copyBytes, writeBinary } from "../../util/bytes.ts";

const CRLF_STAR = 42, DOLLAR = 36, CR = 13, LF = 10;
/** Room for a `*n`/`$n` header with its CRLF, and the CRLF after a bulk string (n below 10^12). */
const HEADER_ROOM = 18;

/** The growable buffer is ByteWriter's; binary() writes text as it is (a `#TS:` annotation). */
export class AofBuffer extends ByteWriter {
  constructor() {
    super(16 * 1024);
  }

  /** `*n` or `$n` and CRLF; room for it was ensured. */
  private header(mark: number, n: number): void {
    const b = this.buf;
    b[this.pos++] = mark;
    if (n < 10) b[this.pos++] = 48 + n;
    else if (n < 100) {
      // Two digits (keys, small values) without a string of them.
      b[this.pos++] = 48 + ((n / 10) | 0);
      b[this.pos++] = 48 + (n % 10);
    } else {
      const digits = String(n);
      for (let i = 0; i < digits.length; i++) b[this.pos++] = digits.charCodeAt(i);
    }
    b[this.pos++] = CR;
    b[this.pos++] = LF;
  }

  /** One bulk string: bytes, or a binary string (one char per byte). */
  arg(a: PropArg): void {
    this.reserve(a.length + HEADER_ROOM);
    this.put(a);
  }

  /** arg() once room for it was ensured. */
  private put(a: PropArg): void {
    const n = a.length;
    this.header(DOLLAR, n);
    const b = this.buf;
    let at = this.pos;
    if (typeof a === "string") at = writeBinary(a, b, at);
    else {
      copyBytes(a, 0, n, b, at);
      at += n;
    }
    b[at++] = CR;
    b[at++] = LF;
    this.pos = at;
  }

  command(argv: readonly PropArg[]): void {
    let room = HEADER_ROOM;
    for (let i = 0; i < argv.length; i++) room += argv[i].length + HEADER_ROOM;
    this.reserve(room);
    this.header(CRLF_STAR, argv.length);
    for (let i = 0; i < argv.length; i++) this.put(argv[i]);
  }

  /** Starts a command of n arguments whose arguments follow through arg(). */
  array(n: number): void {
    this.reserve(HEADER_ROOM);
    this.header(CRLF_STAR, n);
  }

  /** Hands the bytes so far to write (a view, valid during the call), and starts over; when write throws they stay. */
  drain(write: (bytes: Uint8Array) => void): void {
    write(this.buf.subarray(0, this.pos));
    this.pos = 0;
    if (this.buf.length > 1024 * 1024) this.buf = new Uint8Array(16 * 1024);
  }

  /** The bytes so far (a copy), and starts over. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    if (this.buf.length > 1024 * 1024) this.buf = new Uint8Array(16 * 1024);
    return out;
  }
}

/** Redis's `#TS:<unix seconds>` annotation (aof-timestamp-enabled). */
export function timestampAnnotation(unixSeconds: number): string {
  return `#TS:${unixSeconds}\r\n`;
}
