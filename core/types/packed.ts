/**
 * The working buffer of the packed ("listpack") encodings of hashes and
 * sorted sets. At rest such a value keeps its entries in one flat binary
 * string (a varint entry count, then the entries): the most compact form a
 * JS engine offers, one byte per char behind a single header. To read or
 * change it, the value opens this shared buffer: the string is copied in,
 * read and edited in place as bytes, and made a string again only when
 * another value opens the buffer or the value itself asks for its string.
 *
 * So repeated writes to one small collection (HSET or ZADD overwriting one
 * member, as redis-benchmark does) allocate nothing, and a command adding
 * ten entries to a new key leaves one string behind instead of ten
 * successively longer ones, which is what made loading many small
 * collections cost several times their final size in garbage.
 *
 * Commands run synchronously, so one buffer serves every value. A value
 * must not hold offsets into the buffer across anything that may open
 * another value (a callback, typically): it copies entries out first.
 */
import { str, writeBinary } from "../util/bytes.ts";

/** A value whose packed string the buffer may hold. */
export interface PackedOwner {
  /** Takes back its contents as a string after edits. */
  packedFlushed(s: string): void;
}

/** Where entries start in buf: room for the count's varint to be written in front of them on flush. */
export const BODY = 5;

export class PackBuffer {
  buf = new Uint8Array(1024);
  /** Entries occupy buf[BODY, end). */
  end = BODY;
  count = 0;
  owner: PackedOwner | null = null;
  private dirty = false;

  /** Makes the buffer hold owner's packed string s (unless it already does); returns the buffer. */
  open(owner: PackedOwner, s: string): Uint8Array {
    if (this.owner === owner) return this.buf;
    this.flush();
    const count = packedCount(s);
    const p = varintSize(count);
    const n = s.length - p;
    this.reserve(n);
    const buf = this.buf;
    // The count's varint lands in the room before BODY, which a flush rewrites.
    writeBinary(s, buf, BODY - p);
    this.end = BODY + n;
    this.count = count;
    this.owner = owner;
    return buf;
  }

  /**
   * Makes the buffer hold a packed value lent in place (bytes[at, at +
   * length): its count, then its entries) for owner, which then reads it
   * here with no string made. Marked changed, so owner gets its string if
   * the buffer moves on to another value while owner is still in use.
   */
  openBytes(owner: PackedOwner, bytes: Uint8Array, at: number, length: number): void {
    this.flush();
    const count = readVarint(bytes, at);
    const n = at + length - cursor.at;
    this.reserve(n);
    this.buf.set(bytes.subarray(cursor.at, at + length), BODY);
    this.end = BODY + n;
    this.count = count;
    this.owner = owner;
    this.dirty = true;
  }

  /** Makes the buffer hold a new, empty value of owner's (a builder for values made whole). */
  openEmpty(owner: PackedOwner): void {
    this.flush();
    this.end = BODY;
    this.count = 0;
    this.owner = owner;
    this.dirty = true;
  }

  /** Records that the owner's contents changed (its string is stale until flushed). */
  changed(): void {
    this.dirty = true;
  }

  /** Hands the owner its string back if it was edited; the buffer keeps holding it. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.owner!.packedFlushed(this.toString());
  }

  /** The length of owner's packed string s as it stands, edits in the buffer included, without making it a string. */
  lengthOf(owner: PackedOwner, s: string): number {
    return this.owner === owner ? this.end - BODY + varintSize(this.count) : s.length;
  }

  /** Forgets owner's contents without handing them back (it changed encoding). */
  release(owner: PackedOwner): void {
    if (this.owner !== owner) return;
    this.owner = null;
    this.dirty = false;
  }

  /** Removes `remove` bytes at `at` and opens a gap of `insert` bytes there. */
  splice(at: number, remove: number, insert: number): void {
    if (remove === insert) return;
    this.reserve(this.end - BODY - remove + insert);
    this.buf.copyWithin(at + insert, at + remove, this.end);
    this.end += insert - remove;
  }

  /** Writes bytes or a binary string at `at`. */
  write(at: number, v: Uint8Array | string): void {
    const buf = this.buf;
    if (typeof v !== "string") buf.set(v, at);
    else writeBinary(v, buf, at);
  }

  /** buf[from, to) as a binary string. */
  string(from: number, to: number): string {
    return str(this.buf.subarray(from, to));
  }

  /** True when buf[from, from + v.length) holds v's bytes. */
  equals(from: number, v: Uint8Array | string): boolean {
    const buf = this.buf;
    const n = v.length;
    if (typeof v === "string") {
      for (let i = 0; i < n; i++) if (buf[from + i] !== v.charCodeAt(i)) return false;
    } else {
      for (let i = 0; i < n; i++) if (buf[from + i] !== v[i]) return false;
    }
    return true;
  }

  /** The count and entries as one flat string. */
  private toString(): string {
    const head = BODY - varintSize(this.count);
    writeVarint(this.buf, head, this.count);
    return str(this.buf.subarray(head, this.end));
  }

  /** Makes room for a body of n bytes. */
  private reserve(n: number): void {
    if (BODY + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < BODY + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.end));
    this.buf = next;
  }
}

/** The one buffer every packed value opens. */
export const pack = new PackBuffer();

export function varintSize(n: number): number {
  let size = 1;
  for (; n >= 128; size++) n = Math.floor(n / 128);
  return size;
}

/** Writes n as a varint at `at` in buf; returns the offset after it. */
export function writeVarint(buf: Uint8Array, at: number, n: number): number {
  while (n >= 128) {
    buf[at++] = (n % 128) + 128;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

/** Set by readVarint: the offset just past the varint read. */
export const cursor = { at: 0 };

/** The varint at `at` in buf (cursor.at is left just past it). */
export function readVarint(buf: Uint8Array, at: number): number {
  let n = 0;
  for (let mul = 1; ; mul *= 128) {
    const b = buf[at++];
    n += (b & 127) * mul;
    if (b < 128) break;
  }
  cursor.at = at;
  return n;
}

/** The entry count at the head of a packed string. */
export function packedCount(s: string): number {
  let n = 0;
  for (let p = 0, mul = 1; ; mul *= 128) {
    const b = s.charCodeAt(p++);
    n += (b & 127) * mul;
    if (b < 128) return n;
  }
}

/** An empty packed string (count 0). */
export const EMPTY_PACKED = "\x00";
