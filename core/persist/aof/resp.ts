/**
 * Commands as the AOF holds them: RESP arrays of bulk strings (`*N`, then
 * `$len` and the bytes of each argument), built into one growable buffer so
 * a batch of effects reaches the file in one write.
 */
import type { PropArg } from "../propagate.ts";

const CRLF_STAR = 42, DOLLAR = 36, CR = 13, LF = 10;

export class AofBuffer {
  private buf = new Uint8Array(16 * 1024);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  /** ASCII text as it is (a `#TS:` annotation). */
  text(s: string): void {
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.length++] = s.charCodeAt(i);
  }

  private header(mark: number, n: number): void {
    const digits = String(n);
    this.ensure(digits.length + 3);
    const b = this.buf;
    b[this.length++] = mark;
    for (let i = 0; i < digits.length; i++) b[this.length++] = digits.charCodeAt(i);
    b[this.length++] = CR;
    b[this.length++] = LF;
  }

  /** One bulk string: bytes, or a binary string (one char per byte). */
  arg(a: PropArg): void {
    const n = a.length;
    this.header(DOLLAR, n);
    this.ensure(n + 2);
    const b = this.buf;
    if (typeof a === "string") {
      for (let i = 0; i < n; i++) b[this.length++] = a.charCodeAt(i);
    } else {
      b.set(a, this.length);
      this.length += n;
    }
    b[this.length++] = CR;
    b[this.length++] = LF;
  }

  command(argv: readonly PropArg[]): void {
    this.header(CRLF_STAR, argv.length);
    for (const a of argv) this.arg(a);
  }

  /** Starts a command of n arguments whose arguments follow through arg(). */
  array(n: number): void {
    this.header(CRLF_STAR, n);
  }

  /** The bytes so far (a copy), and starts over. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.length);
    this.length = 0;
    if (this.buf.length > 1024 * 1024) this.buf = new Uint8Array(16 * 1024);
    return out;
  }
}

/** Redis's `#TS:<unix seconds>` annotation (aof-timestamp-enabled). */
export function timestampAnnotation(unixSeconds: number): string {
  return `#TS:${unixSeconds}\r\n`;
}
