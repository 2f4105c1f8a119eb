/**
 * Streaming request parser: RESP multibulk and inline commands, fed with
 * whatever split of the byte stream the socket delivers. Arguments come out
 * as views into the received bytes; a buffer that has handed out views is
 * never written again, so a view stays valid for as long as it is held.
 */

export class ProtocolError extends Error {}

/** Raised when buffered input passes client-query-buffer-limit: Redis closes silently. */
export class QueryBufferLimitError extends Error {}

const CR = 13;
const LF = 10;
/** Redis's PROTO_INLINE_MAX_SIZE: longest header or inline line without a newline. */
const INLINE_MAX = 64 * 1024;
const UNAUTH_MAX_ARGS = 10;
const UNAUTH_MAX_BULK = 16384;

export interface ParserLimits {
  maxBulkLen: number;
  queryBufferLimit: number;
}

export class RequestParser {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;
  /** Arguments still expected for the multibulk in progress (0 = none). */
  private remaining = 0;
  private argv: Uint8Array[] = [];
  /** Length of the bulk whose body we wait for, or -1 while reading its header. */
  private bulkLen = -1;
  authenticated = true;

  constructor(private limits: ParserLimits) {}

  /** Bytes received and not yet parsed (Redis's qbuf). */
  get pending(): number {
    return this.end - this.start;
  }

  feed(chunk: Uint8Array): void {
    if (this.start === this.end) {
      this.buf = chunk;
      this.start = 0;
      this.end = chunk.length;
    } else {
      const need = this.end - this.start + chunk.length;
      if (this.end + chunk.length <= this.buf.length && this.ownsBuffer) {
        this.buf.set(chunk, this.end);
        this.end += chunk.length;
      } else {
        let cap = need;
        if (this.bulkLen >= 0) cap = Math.max(cap, this.bulkLen + 2);
        if (cap < 2 * need) cap = Math.max(cap, Math.min(2 * need, need + 1024 * 1024));
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.start, this.end));
        next.set(chunk, this.end - this.start);
        this.buf = next;
        this.end = need;
        this.start = 0;
        this.ownsBuffer = true;
        return this.checkLimit();
      }
    }
    if (this.buf === chunk) this.ownsBuffer = false;
    this.checkLimit();
  }

  /** True when buf is ours, so its unused tail may be written. */
  private ownsBuffer = false;

  private checkLimit(): void {
    if (this.end - this.start > this.limits.queryBufferLimit) {
      throw new QueryBufferLimitError("query buffer limit");
    }
  }

  /** The next complete command, or null when more bytes are needed. */
  next(): Uint8Array[] | null {
    for (;;) {
      if (this.remaining === 0) {
        if (this.start >= this.end) return null;
        if (this.buf[this.start] !== 42 /* '*' */) {
          const inline = this.parseInline();
          if (inline === null) return null;
          if (inline.length === 0) continue;
          return inline;
        }
        const n = this.readLineInt(1, "too big mbulk count string");
        if (n === null) return null;
        if (n > 2147483647 || (!this.authenticated && n > UNAUTH_MAX_ARGS)) {
          throw new ProtocolError("Protocol error: invalid multibulk length");
        }
        if (n <= 0) continue;
        this.remaining = n;
        this.argv = [];
      }
      while (this.remaining > 0) {
        if (this.bulkLen < 0) {
          if (this.start >= this.end) return null;
          const c = this.buf[this.start];
          if (c !== 36 /* '$' */) {
            throw new ProtocolError(`Protocol error: expected '$', got '${String.fromCharCode(c)}'`);
          }
          const len = this.readLineInt(1, "too big bulk count string");
          if (len === null) return null;
          const max = this.authenticated ? this.limits.maxBulkLen : UNAUTH_MAX_BULK;
          if (len < 0 || len > max) throw new ProtocolError("Protocol error: invalid bulk length");
          this.bulkLen = len;
        }
        if (this.end - this.start < this.bulkLen + 2) return null;
        this.argv.push(this.buf.subarray(this.start, this.start + this.bulkLen));
        this.start += this.bulkLen + 2;
        this.bulkLen = -1;
        this.remaining--;
      }
      const argv = this.argv;
      this.argv = [];
      return argv;
    }
  }

  /**
   * Reads "<prefix><integer>\r\n" at start. Returns null if the line is not
   * complete yet; consumes it otherwise. Like Redis, garbage digits are an
   * invalid length (reported by the caller through the range check).
   */
  private readLineInt(skip: number, tooBig: string): number | null {
    const buf = this.buf;
    let i = this.start + skip;
    let neg = false;
    if (i < this.end && buf[i] === 45 /* '-' */) {
      neg = true;
      i++;
    }
    let n = 0;
    let digits = 0;
    let bad = false;
    for (; i < this.end; i++) {
      const c = buf[i];
      if (c === CR) break;
      if (c >= 48 && c <= 57 && digits < 19) {
        n = n * 10 + (c - 48);
        digits++;
      } else bad = true;
    }
    if (i + 1 >= this.end) {
      if (this.end - this.start > INLINE_MAX) throw new ProtocolError(`Protocol error: ${tooBig}`);
      return null;
    }
    if (buf[i + 1] !== LF) bad = true;
    this.start = i + 2;
    if (bad || digits === 0) return Number.MAX_SAFE_INTEGER;
    return neg ? -n : n;
  }

  private parseInline(): Uint8Array[] | null {
    const buf = this.buf;
    let nl = -1;
    for (let i = this.start; i < this.end; i++) {
      if (buf[i] === LF) {
        nl = i;
        break;
      }
    }
    if (nl < 0) {
      if (this.end - this.start > INLINE_MAX) {
        throw new ProtocolError("Protocol error: too big inline request");
      }
      return null;
    }
    let lineEnd = nl;
    if (lineEnd > this.start && buf[lineEnd - 1] === CR) lineEnd--;
    const line = buf.subarray(this.start, lineEnd);
    this.start = nl + 1;
    const args = splitArgs(line);
    if (args === null) throw new ProtocolError("Protocol error: unbalanced quotes in request");
    return args;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const ESCAPES: Record<number, number> = { 110: 10, 114: 13, 116: 9, 98: 8, 97: 7 };

/**
 * Splits a line into arguments the way redis-cli and redis.conf do
 * (Redis's sdssplitargs): double quotes with \xHH and C escapes, single
 * quotes with only \', and a closing quote must be followed by a space.
 * Returns null for unbalanced quotes.
 */
export function splitArgs(line: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    const cur: number[] = [];
    let inDq = false;
    let inSq = false;
    for (;;) {
      if (inDq) {
        if (i >= n) return null;
        const c = line[i];
        if (c === 92 && i + 3 < n && line[i + 1] === 120 && hexValue(line[i + 2]) >= 0 && hexValue(line[i + 3]) >= 0) {
          cur.push(hexValue(line[i + 2]) * 16 + hexValue(line[i + 3]));
          i += 3;
        } else if (c === 92 && i + 1 < n) {
          i++;
          cur.push(ESCAPES[line[i]] ?? line[i]);
        } else if (c === 34) {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          inDq = false;
        } else cur.push(c);
      } else if (inSq) {
        if (i >= n) return null;
        const c = line[i];
        if (c === 92 && i + 1 < n && line[i + 1] === 39) {
          i++;
          cur.push(39);
        } else if (c === 39) {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          inSq = false;
        } else cur.push(c);
      } else {
        if (i >= n) break;
        const c = line[i];
        if (isSpace(c)) break;
        if (c === 34) inDq = true;
        else if (c === 39) inSq = true;
        else cur.push(c);
      }
      i++;
    }
    out.push(Uint8Array.from(cur));
  }
}
