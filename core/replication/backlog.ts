/**
 * The replication backlog (Redis's repl_backlog): the last repl-backlog-size
 * bytes of the replication stream in a ring, so a replica that lost its link
 * can continue from its offset (+CONTINUE) instead of a full sync. Offsets
 * are stream offsets: the first byte ever fed after the backlog was created
 * has offset start+1, as in Redis.
 */
export class Backlog {
  private buf: Uint8Array;
  /** Where the next byte goes in buf. */
  private at = 0;
  /** Bytes held (repl_backlog_histlen). */
  histlen = 0;
  /** Stream offset of the byte after the newest held one minus one: the master_repl_offset it has seen. */
  endOffset: number;

  constructor(size: number, offset: number) {
    this.buf = new Uint8Array(Math.max(1, size));
    this.endOffset = offset;
  }

  get size(): number {
    return this.buf.length;
  }

  /** Offset of the oldest byte held (repl_backlog_first_byte_offset); endOffset+1 when empty. */
  get firstByteOffset(): number {
    return this.endOffset - this.histlen + 1;
  }

  append(bytes: Uint8Array): void {
    const n = bytes.length;
    this.endOffset += n;
    const size = this.buf.length;
    if (n >= size) {
      this.buf.set(bytes.subarray(n - size));
      this.at = 0;
      this.histlen = size;
      return;
    }
    const first = Math.min(n, size - this.at);
    this.buf.set(bytes.subarray(0, first), this.at);
    if (first < n) this.buf.set(bytes.subarray(first), 0);
    this.at = (this.at + n) % size;
    this.histlen = Math.min(size, this.histlen + n);
  }

  /** Whether a replica that has everything up to offset-1 can continue from here (offset is PSYNC's: the next byte it wants). */
  covers(offset: number): boolean {
    return offset >= this.firstByteOffset && offset <= this.endOffset + 1;
  }

  /** The bytes from stream offset `from` (the next byte wanted) to the end; covers(from) must hold. */
  from(from: number): Uint8Array {
    const n = this.endOffset + 1 - from;
    const out = new Uint8Array(n);
    const size = this.buf.length;
    const start = (this.at - n + size * 2) % size;
    const first = Math.min(n, size - start);
    out.set(this.buf.subarray(start, start + first));
    if (first < n) out.set(this.buf.subarray(0, n - first), first);
    return out;
  }

  /** CONFIG SET repl-backlog-size: keeps the newest bytes that fit. */
  resize(size: number): void {
    size = Math.max(1, size);
    if (size === this.buf.length) return;
    const keep = this.from(this.firstByteOffset);
    const tail = keep.subarray(Math.max(0, keep.length - size));
    this.buf = new Uint8Array(size);
    this.buf.set(tail);
    this.histlen = tail.length;
    this.at = tail.length % size;
  }
}
