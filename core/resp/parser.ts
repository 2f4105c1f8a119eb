/**
 * Streaming request parser: RESP multibulk and inline commands, fed with
 * whatever split of the byte stream the socket delivers. Arguments come out
 * as views into the received bytes; a buffer that has handed out views is
 * never written again below its end, so a view stays valid for as long as
 * it is held. Error texts and edge cases follow Redis 7.0's networking.c.
 */

export class ProtocolError extends Error {}

/** Raised when buffered input passes client-query-buffer-limit: Redis closes silently. */
export class QueryBufferLimitError extends Error {}

const CR = 13;
const LF = 10;
/** Redis's PROTO_INLINE_MAX_SIZE: longest header or inline line without a newline. */
const INLINE_MAX = 64 * 1024;
const INT_MAX = 2147483647;
/** Before AUTH, Redis refuses requests bigger than these (a cheap DoS guard). */
const UNAUTH_MAX_ARGS = 10;
const UNAUTH_MAX_BULK = 16384;
/** Growth step cap when reallocating, so a slow big request does not double forever. */
const GROW_MAX_STEP = 1024 * 1024;

export interface ParserLimits {
  maxBulkLen: number;
  queryBufferLimit: number;
  /** requirepass is set (assumed when absent): unauthenticated clients get the small limits. */
  authRequired?: boolean;
  /** Arguments up to this many bytes come out as copies rather than views (see HostInfo.copyArgumentsUpTo). */
  copyArgumentsUpTo?: number;
}

const EMPTY = new Uint8Array(0);

function copyOf(buf: Uint8Array, at: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = buf[at + i];
  return out;
}

export class RequestParser {
  private buf: Uint8Array = EMPTY;
  /**
   * buf's ArrayBuffer and offset, read once per buffer when the first view
   * is made (the getter is slow in V8, and in JSC it gives a fresh buffer an
   * ArrayBuffer it would not need when every argument is copied).
   */
  private bufBytes: ArrayBufferLike | null = null;
  private bufOffset = 0;
  private start = 0;
  private end = 0;
  /** True when buf is ours (not a received chunk), so its tail past `end` may be written. */
  private ownsBuffer = false;
  /** Bytes after `start` already searched for a line end, so a slow line is not rescanned. */
  private scanned = 0;
  /** Arguments still expected for the multibulk in progress (0 = none). */
  private remaining = 0;
  private argv: Uint8Array[] = [];
  /** The name (first argument) of the last command parsed on the fast path: see sameName(). */
  private lastName: Uint8Array = EMPTY;
  /** Length of the bulk whose body we wait for, or -1 while reading its header. */
  private bulkLen = -1;
  /** Bytes of the arguments of the multibulk in progress already in argv (Redis's argv_len_sum). */
  private argvLen = 0;
  /** Where the input being run began: until the batch ends, Redis's qbuf still holds the commands it ran. */
  private batchFrom = 0;
  authenticated = true;

  constructor(private limits: ParserLimits) {}

  /** Bytes received and not yet parsed (Redis's qbuf). */
  get pending(): number {
    return this.end - this.start;
  }

  /** Marks the start of a run over the buffered input (see batchFrom). */
  markBatch(): void {
    this.batchFrom = this.start;
  }

  /** Redis's qbuf: input not yet parsed, plus, for the client whose batch is running, the commands it ran so far. */
  queryBytes(running: boolean): number {
    return this.end - (running ? Math.min(this.batchFrom, this.start) : this.start);
  }

  /** Bytes held for input: the buffer while it has unparsed bytes (it is let go once all were parsed). */
  get allocated(): number {
    return this.buf.length;
  }

  /** Room after the buffered input that later bytes fill without a copy (Redis's qbuf-free). */
  get free(): number {
    return this.ownsBuffer ? this.buf.length - this.end : 0;
  }

  /** Arguments of a multibulk still arriving, already parsed (argv-mem counts them): their count and bytes. */
  get partialArgs(): number {
    return this.argv.length;
  }

  get partialArgBytes(): number {
    return this.argvLen;
  }

  feed(chunk: Uint8Array): void {
    if (this.start === this.end) {
      this.use(chunk);
      this.start = 0;
      this.end = chunk.length;
      this.ownsBuffer = false;
    } else if (this.ownsBuffer && this.end + chunk.length <= this.buf.length) {
      this.buf.set(chunk, this.end);
      this.end += chunk.length;
    } else {
      this.grow(chunk);
    }
    if (this.end - this.start > this.limits.queryBufferLimit) {
      throw new QueryBufferLimitError("query buffer limit");
    }
  }

  /** Moves the unparsed bytes and the chunk into a fresh buffer with room to spare. */
  private grow(chunk: Uint8Array): void {
    const need = this.end - this.start + chunk.length;
    let cap = need + Math.min(need, GROW_MAX_STEP);
    // A bulk body we know the size of gets all its room at once (one copy, not log(n)) when that is at most
    // 16 times what arrived (or 1 MB); until then the room grows 16-fold, so a header promising 512 MB costs
    // nothing until the bytes come (Bun zero-fills a new buffer: 512 MB of RSS and ~50 ms per such header).
    if (this.bulkLen >= 0) cap = Math.max(cap, Math.min(this.bulkLen + 2, Math.max(16 * need, GROW_MAX_STEP)));
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(this.start, this.end));
    next.set(chunk, this.end - this.start);
    this.use(next);
    this.end = need;
    this.start = 0;
    this.ownsBuffer = true;
  }

  private use(buf: Uint8Array): void {
    this.buf = buf;
    this.bufBytes = null;
    this.bufOffset = buf.byteOffset;
  }

  private consume(to: number): void {
    this.start = to;
    this.scanned = 0;
  }

  private unauthenticated(): boolean {
    return !this.authenticated && this.limits.authRequired !== false;
  }

  /**
   * Where the second argument (most commands' first key) of each complete
   * command waiting in the buffer is, for up to starts.length commands, as
   * offsets into `buffered` (length -1 for a command of one argument): what
   * their lookups read can then be loaded for all at once
   * (ShardedMap.prefetch). Returns how many commands it covered. Only reads;
   * stops at the first thing that is not a plain complete multibulk, which
   * next() then deals with.
   */
  peekKeys(starts: Int32Array, lengths: Int32Array): number {
    if (this.remaining !== 0) return 0;
    const buf = this.buf;
    const end = this.end;
    let i = this.start;
    let n = 0;
    while (n < starts.length && i < end && buf[i] === 42 /* '*' */) {
      let count = 0;
      for (i++; i < end && buf[i] >= 48 && buf[i] <= 57 && count < INT_MAX; i++) count = count * 10 + buf[i] - 48;
      if (count === 0) return n;
      i += 2;
      lengths[n] = -1;
      for (let k = 0; k < count; k++) {
        if (i >= end || buf[i] !== 36 /* '$' */) return n;
        let len = 0;
        for (i++; i < end && buf[i] >= 48 && buf[i] <= 57 && len < INT_MAX; i++) len = len * 10 + buf[i] - 48;
        i += 2;
        if (k === 1) {
          starts[n] = i;
          lengths[n] = len;
        }
        i += len + 2;
      }
      if (i > end) return n;
      n++;
    }
    return n;
  }

  /** The buffer peekKeys() gives offsets into. */
  get buffered(): Uint8Array {
    return this.buf;
  }

  /** The next complete command, or null when more bytes are needed. */
  next(): Uint8Array[] | null {
    for (;;) {
      if (this.remaining === 0) {
        if (this.start >= this.end) return this.release();
        if (this.buf[this.start] !== 42 /* '*' */) {
          const inline = this.parseInline();
          if (inline === null) return null;
          if (inline.length === 0) continue;
          return inline;
        }
        const whole = this.nextWhole();
        if (whole !== null) return whole;
        const n = this.readHeader("too big mbulk count string");
        if (n === null) return null;
        if (Number.isNaN(n) || n > INT_MAX) throw new ProtocolError("Protocol error: invalid multibulk length");
        if (n > UNAUTH_MAX_ARGS && this.unauthenticated()) {
          throw new ProtocolError("Protocol error: unauthenticated multibulk length");
        }
        if (n <= 0) continue;
        this.remaining = n;
        this.argv = [];
      }
      while (this.remaining > 0) {
        if (this.bulkLen < 0) {
          if (this.start >= this.end) return this.release();
          const len = this.readHeader("too big bulk count string", 36 /* '$' */);
          if (len === null) return null;
          if (Number.isNaN(len) || len < 0 || len > this.limits.maxBulkLen) {
            throw new ProtocolError("Protocol error: invalid bulk length");
          }
          if (len > UNAUTH_MAX_BULK && this.unauthenticated()) {
            throw new ProtocolError("Protocol error: unauthenticated bulk length");
          }
          this.bulkLen = len;
        }
        // Like Redis, the two bytes after the body are skipped unchecked.
        if (this.end - this.start < this.bulkLen + 2) return null;
        this.argv.push(this.buf.subarray(this.start, this.start + this.bulkLen));
        this.argvLen += this.bulkLen;
        this.consume(this.start + this.bulkLen + 2);
        this.bulkLen = -1;
        this.remaining--;
      }
      const argv = this.argv;
      this.argv = [];
      this.argvLen = 0;
      return argv;
    }
  }

  /** All input was parsed: the buffer is let go, so an idle client holds no input memory. */
  private release(): null {
    this.use(EMPTY);
    this.start = this.end = this.batchFrom = 0;
    this.ownsBuffer = false;
    return null;
  }

  /**
   * The common case in one pass: a multibulk already complete in the buffer,
   * whose headers are plain positive decimals within the limits. Anything
   * else (a partial command, an odd header, a limit hit) returns null
   * without consuming, and the general path below handles it.
   */
  private nextWhole(): Uint8Array[] | null {
    const buf = this.buf;
    const end = this.end;
    let i = this.start + 1;
    let n = buf[i] - 48;
    if (!(n >= 1 && n <= 9)) return null;
    for (i++; i < end; i++) {
      const d = buf[i] - 48;
      if (!(d >= 0 && d <= 9)) break;
      n = n * 10 + d;
      if (n > INT_MAX) return null;
    }
    if (i + 1 >= end || buf[i] !== CR || (n > UNAUTH_MAX_ARGS && !this.authenticated)) return null;
    i += 2;
    // Each argument takes at least 6 bytes ("$0\r\n\r\n"): no array for a count the buffer cannot hold yet.
    if (n * 6 > end - i) return null;
    const maxBulk = this.authenticated ? this.limits.maxBulkLen : Math.min(UNAUTH_MAX_BULK, this.limits.maxBulkLen);
    const argv: Uint8Array[] = new Array(n);
    const copyMax = this.limits.copyArgumentsUpTo ?? 0;
    for (let k = 0; k < n; k++) {
      if (i + 1 >= end || buf[i] !== 36 /* '$' */) return null;
      let len = buf[++i] - 48;
      if (!(len >= 0 && len <= 9)) return null;
      for (i++; len !== 0 && i < end; i++) {
        const d = buf[i] - 48;
        if (!(d >= 0 && d <= 9)) break;
        len = len * 10 + d;
        if (len > maxBulk) return null;
      }
      if (i + 1 >= end || buf[i] !== CR) return null;
      const body = i + 2;
      i = body + len + 2;
      if (i > end) return null;
      if (k === 0) argv[0] = this.sameName(buf, body, len) ? this.lastName : copyOf(buf, body, len);
      else if (len <= copyMax) argv[k] = copyOf(buf, body, len);
      // The constructor is cheaper than subarray() in V8, and no dearer in JSC.
      else argv[k] = new Uint8Array(this.bufBytes ??= buf.buffer, this.bufOffset + body, len);
    }
    this.consume(i);
    this.lastName = argv[0];
    return argv;
  }

  /**
   * Whether buf[at, at + len) spells the last command's name, byte for byte:
   * a pipeline mostly repeats one command, and reusing its name saves an
   * array per command and lets the command table recognise it by identity.
   * A new name is copied, so the name kept here never holds a read buffer
   * (Deno's adapter hands out views of 64 KB ones) after the client idles.
   */
  private sameName(buf: Uint8Array, at: number, len: number): boolean {
    const name = this.lastName;
    if (name.length !== len) return false;
    for (let i = 0; i < len; i++) if (name[i] !== buf[at + i]) return false;
    return true;
  }

  /**
   * Index of the first `stop` byte at or after start, or -1. Redis searches
   * with strchr, so a NUL byte hides every line end after it.
   */
  private findLineEnd(stop: number): number {
    const buf = this.buf;
    const end = this.end;
    let i = this.start + this.scanned;
    for (; i < end; i++) {
      const c = buf[i];
      if (c === stop) return i;
      if (c === 0) break;
    }
    this.scanned = i - this.start;
    return -1;
  }

  /**
   * Reads a "*<n>\r\n" or "$<n>\r\n" header at start: its value (NaN when it
   * is not a number by Redis's string2ll rules), or null until the line and
   * one byte after its CR are here. `expect` checks the type byte ('$').
   */
  private readHeader(tooBig: string, expect = 0): number | null {
    const cr = this.findLineEnd(CR);
    if (cr < 0 || cr + 1 >= this.end) {
      if (cr < 0 && this.end - this.start > INLINE_MAX) throw new ProtocolError(`Protocol error: ${tooBig}`);
      return null;
    }
    const type = this.buf[this.start];
    if (expect && type !== expect) {
      throw new ProtocolError(`Protocol error: expected '${String.fromCharCode(expect)}', got '${String.fromCharCode(type)}'`);
    }
    const n = parseDecimal(this.buf, this.start + 1, cr);
    this.consume(cr + 2);
    return n;
  }

  private parseInline(): Uint8Array[] | null {
    const nl = this.findLineEnd(LF);
    if (nl < 0) {
      if (this.end - this.start > INLINE_MAX) throw new ProtocolError("Protocol error: too big inline request");
      return null;
    }
    let lineEnd = nl;
    if (lineEnd > this.start && this.buf[lineEnd - 1] === CR) lineEnd--;
    const args = splitArgs(this.buf.subarray(this.start, lineEnd));
    if (args === null) throw new ProtocolError("Protocol error: unbalanced quotes in request");
    this.consume(nl + 1);
    return args;
  }
}

/**
 * Redis's string2ll: optional '-', no '+', no leading zeros (except "0"
 * itself), no spaces, must fit in 64 bits. NaN when invalid; values past
 * 2^53 only need to compare as "too big", which they still do.
 */
export function parseDecimal(buf: Uint8Array, from: number, to: number): number {
  let i = from;
  if (i >= to) return NaN;
  if (to - i === 1 && buf[i] === 48) return 0;
  const negative = buf[i] === 45;
  if (negative && ++i >= to) return NaN;
  if (buf[i] < 49 || buf[i] > 57) return NaN;
  if (to - i > 19) return NaN;
  let n = 0;
  for (; i < to; i++) {
    const c = buf[i];
    if (c < 48 || c > 57) return NaN;
    n = n * 10 + (c - 48);
  }
  // 19 digits may still overflow int64 (max 9223372036854775807).
  if (n > 9223372036854775807) return NaN;
  return negative ? -n : n;
}

/** C isspace(): what sdssplitargs skips between arguments and accepts after a closing quote. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** What ends an unquoted argument in sdssplitargs (narrower than isspace: no \v or \f). */
function endsWord(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9 || c === 0;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const ESCAPES: Record<number, number> = { 110: 10, 114: 13, 116: 9, 98: 8, 97: 7 };

/** splitArgs() of line[0, n) when it holds no quote (an inline PING, most config lines): each word copied whole. */
function plainWords(line: Uint8Array, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    const from = i;
    while (i < n && !endsWord(line[i])) i++;
    out.push(line.slice(from, i));
  }
}

/**
 * Splits a line into arguments the way redis-cli and redis.conf do
 * (Redis's sdssplitargs): double quotes with \xHH and C escapes, single
 * quotes with only \', and a closing quote must be followed by a space.
 * Returns null for unbalanced quotes. The line is a C string to Redis, so a
 * NUL ends it.
 */
export function splitArgs(line: Uint8Array): Uint8Array[] | null {
  let n = line.indexOf(0);
  if (n < 0) n = line.length;
  if (line.indexOf(34) < 0 && line.indexOf(39) < 0) return plainWords(line, n);
  const out: Uint8Array[] = [];
  let i = 0;
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
          i++;
          break;
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
          i++;
          break;
        } else cur.push(c);
      } else {
        if (i >= n) break;
        const c = line[i];
        if (endsWord(c)) break;
        if (c === 34) inDq = true;
        else if (c === 39) inSq = true;
        else cur.push(c);
      }
      i++;
    }
    out.push(Uint8Array.from(cur));
  }
}
