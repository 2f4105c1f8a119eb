/**
 * The hash type, in Redis's two encodings. Small hashes are a "listpack":
 * one flat binary string of length-prefixed entries (field, value, field,
 * value...) in insertion order, which costs a few bytes per field instead of
 * a Map entry. Past hash-max-listpack-entries fields, or on a field or value
 * longer than hash-max-listpack-value bytes, it becomes a Map ("hashtable"),
 * and never goes back, as in Redis.
 *
 * Per-field deadlines (Redis 7.4's HEXPIRE) live in a side map that only
 * hashes using them pay for; expired fields are removed by purgeExpired(),
 * which every hash command runs first.
 */
import type { Collection, StringValue } from "./value.ts";
import { fromArg, fromStr } from "./string.ts";
import { DenseTable } from "./dense.ts";
import { str } from "../util/bytes.ts";

export interface HashLimits {
  /** hash-max-listpack-entries */
  entries: number;
  /** hash-max-listpack-value */
  value: number;
}

/** Field deadlines; `next` is the earliest, so a hash with none due costs one comparison. */
interface FieldExpiry {
  at: Map<string, number>;
  next: number;
}

/**
 * Builds listpack strings in a reusable byte buffer, then makes one flat
 * string of it (String.fromCharCode over bytes gives a one-byte string
 * without the ropes and slices that concatenation would leave behind).
 */
class PackBuilder {
  private buf = new Uint8Array(4096);
  pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Copies s[from, to) as it is. */
  copy(s: string, from: number, to: number): void {
    this.ensure(to - from);
    const buf = this.buf;
    let p = this.pos;
    for (let i = from; i < to; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  private length(n: number): void {
    this.ensure(5);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  entry(s: string | Uint8Array): void {
    this.length(s.length);
    if (typeof s === "string") return this.copy(s, 0, s.length);
    this.ensure(s.length);
    this.buf.set(s, this.pos);
    this.pos += s.length;
  }

  done(): string {
    const n = this.pos;
    this.pos = 0;
    if (n <= 8192) return String.fromCharCode.apply(null, this.buf.subarray(0, n) as unknown as number[]);
    const chunks: string[] = [];
    for (let i = 0; i < n; i += 8192) {
      chunks.push(String.fromCharCode.apply(null, this.buf.subarray(i, Math.min(n, i + 8192)) as unknown as number[]));
    }
    return chunks.join("");
  }
}

const builder = new PackBuilder();

/** Reads the length prefix at pos: returns the length and sets `cursor.at` past the prefix. */
const cursor = { at: 0 };
function readLength(s: string, pos: number): number {
  let c = s.charCodeAt(pos++);
  let n = c & 0x7f;
  let shift = 7;
  while (c & 0x80) {
    c = s.charCodeAt(pos++);
    n |= (c & 0x7f) << shift;
    shift += 7;
  }
  cursor.at = pos;
  return n;
}

/** Where the entry starting at pos has its bytes: [start, end). */
function entryAt(s: string, pos: number): [number, number] {
  const n = readLength(s, pos);
  return [cursor.at, cursor.at + n];
}

export class HashValue implements Collection {
  /** The listpack form, or null once converted to the table. */
  private packed: string | null = "";
  /** Fields in the listpack form. */
  private packedCount = 0;
  private table: DenseTable<StringValue> | null = null;
  private expiry: FieldExpiry | null = null;

  get type(): "hash" {
    return "hash";
  }

  get size(): number {
    return this.table ? this.table.size : this.packedCount;
  }

  /** OBJECT ENCODING; "listpackex" once field deadlines were used, as in Redis 7.4. */
  encoding(): string {
    if (this.table) return "hashtable";
    return this.expiry ? "listpackex" : "listpack";
  }

  /** Start offset of field's entry in the listpack, or -1. */
  private find(field: string): number {
    const s = this.packed!;
    const len = field.length;
    let pos = 0;
    while (pos < s.length) {
      const n = readLength(s, pos);
      const start = cursor.at;
      if (n === len && s.startsWith(field, start)) return pos;
      const valueLength = readLength(s, start + n);
      pos = cursor.at + valueLength;
    }
    return -1;
  }

  get(field: string): StringValue | undefined {
    if (this.table) return this.table.get(field);
    const at = this.find(field);
    if (at < 0) return undefined;
    const s = this.packed!;
    const [, fieldEnd] = entryAt(s, at);
    const [vs, ve] = entryAt(s, fieldEnd);
    return s.substring(vs, ve);
  }

  has(field: string): boolean {
    return this.table ? this.table.has(field) : this.find(field) >= 0;
  }

  /** Byte length of a field's value, or 0 when absent (HSTRLEN). */
  valueLength(field: string): number {
    const v = this.get(field);
    if (v === undefined) return 0;
    return typeof v === "number" ? String(v).length : v.length;
  }

  /**
   * Sets field to value (an argument's bytes or a binary string); returns
   * true when the field is new. Clears the field's deadline, as HSET does.
   * Converts to the table first when the new contents would exceed limits.
   */
  set(field: string, value: Uint8Array | string, limits: HashLimits): boolean {
    if (this.expiry) this.clearDeadline(field);
    if (this.packed !== null && (field.length > limits.value || value.length > limits.value)) this.convert();
    if (this.table) {
      const had = this.table.has(field);
      this.table.set(field, typeof value === "string" ? fromStr(value) : fromArg(value));
      return !had;
    }
    const s = this.packed!;
    const at = this.find(field);
    if (at >= 0) {
      const [, fieldEnd] = entryAt(s, at);
      const [, valueEnd] = entryAt(s, fieldEnd);
      builder.copy(s, 0, fieldEnd);
      builder.entry(value);
      builder.copy(s, valueEnd, s.length);
      this.packed = builder.done();
      return false;
    }
    builder.copy(s, 0, s.length);
    builder.entry(field);
    builder.entry(value);
    this.packed = builder.done();
    this.packedCount++;
    if (this.packedCount > limits.entries) this.convert();
    return true;
  }

  /**
   * HSET's pairs argv[from..]: returns how many fields were new. Runs of new
   * fields are appended with one rebuild of the listpack rather than one
   * per field, which matters when loading many small hashes.
   */
  setPairs(argv: Uint8Array[], from: number, limits: HashLimits): number {
    let added = 0;
    let i = from;
    while (i < argv.length) {
      if (this.packed !== null) {
        const s = this.packed;
        const fresh = new Set<string>();
        builder.copy(s, 0, s.length);
        while (i < argv.length && this.packedCount + fresh.size < limits.entries) {
          const field = str(argv[i]), value = argv[i + 1];
          if (field.length > limits.value || value.length > limits.value || fresh.has(field) || this.find(field) >= 0) break;
          fresh.add(field);
          builder.entry(field);
          builder.entry(value);
          i += 2;
        }
        const packed = builder.done();
        if (fresh.size > 0) {
          this.packed = packed;
          this.packedCount += fresh.size;
          added += fresh.size;
        }
        if (i >= argv.length) break;
      }
      if (this.set(str(argv[i]), argv[i + 1], limits)) added++;
      i += 2;
    }
    return added;
  }

  delete(field: string): boolean {
    if (this.expiry) this.clearDeadline(field);
    if (this.table) return this.table.delete(field);
    const at = this.find(field);
    if (at < 0) return false;
    const s = this.packed!;
    const [, fieldEnd] = entryAt(s, at);
    const [, valueEnd] = entryAt(s, fieldEnd);
    builder.copy(s, 0, at);
    builder.copy(s, valueEnd, s.length);
    this.packed = builder.done();
    this.packedCount--;
    return true;
  }

  /** Calls fn for every field in order (insertion order for the listpack, as Redis replies). */
  forEach(fn: (field: string, value: StringValue) => void): void {
    if (this.table) {
      const { keys, values } = this.table;
      for (let i = 0; i < keys.length; i++) fn(keys[i], values![i]);
      return;
    }
    const s = this.packed!;
    let pos = 0;
    while (pos < s.length) {
      const [fs, fe] = entryAt(s, pos);
      const [vs, ve] = entryAt(s, fe);
      fn(s.substring(fs, fe), s.substring(vs, ve));
      pos = ve;
    }
  }

  /** Fields and values as parallel arrays, for random picks (the table's own arrays: read only). */
  columns(): [string[], StringValue[]] {
    if (this.table) return [this.table.keys, this.table.values!];
    const fields: string[] = [], values: StringValue[] = [];
    this.forEach((f, v) => {
      fields.push(f);
      values.push(v);
    });
    return [fields, values];
  }

  /** The i-th field and value (0 <= i < size), for random picks from the listpack. */
  entryAtIndex(i: number): [string, StringValue] {
    if (this.table) return [this.table.keys[i], this.table.values![i]];
    const s = this.packed!;
    let pos = 0;
    for (;;) {
      const [fs, fe] = entryAt(s, pos);
      const [vs, ve] = entryAt(s, fe);
      if (i-- === 0) return [s.substring(fs, fe), s.substring(vs, ve)];
      pos = ve;
    }
  }

  /** The table, for cursor-based HSCAN; null while packed. */
  get dense(): DenseTable<StringValue> | null {
    return this.table;
  }

  private convert(): void {
    const table = new DenseTable<StringValue>(true);
    this.forEach((f, v) => table.set(f, fromStr(v as string)));
    this.table = table;
    this.packed = null;
    this.packedCount = 0;
  }

  // ---- field deadlines ----

  get hasDeadlines(): boolean {
    return this.expiry !== null && this.expiry.at.size > 0;
  }

  deadline(field: string): number | undefined {
    return this.expiry?.at.get(field);
  }

  setDeadline(field: string, at: number): void {
    if (!this.expiry) this.expiry = { at: new Map(), next: Infinity };
    this.expiry.at.set(field, at);
    if (at < this.expiry.next) this.expiry.next = at;
  }

  /** Removes field's deadline; true when it had one. */
  clearDeadline(field: string): boolean {
    return this.expiry !== null && this.expiry.at.delete(field);
  }

  /** Deletes every field whose deadline is <= now; returns how many. */
  purgeExpired(now: number): number {
    const ex = this.expiry;
    if (ex === null || ex.next > now) return 0;
    let removed = 0;
    let next = Infinity;
    for (const [field, at] of ex.at) {
      if (at <= now) {
        ex.at.delete(field);
        this.delete(field);
        removed++;
      } else if (at < next) next = at;
    }
    ex.next = next;
    return removed;
  }

  clone(): HashValue {
    const h = new HashValue();
    h.packed = this.packed;
    h.packedCount = this.packedCount;
    h.table = this.table ? this.table.clone() : null;
    if (this.expiry) h.expiry = { at: new Map(this.expiry.at), next: this.expiry.next };
    return h;
  }

  memoryUsage(): number {
    let bytes = 48;
    if (this.packed !== null) bytes += 16 + this.packed.length;
    else {
      this.forEach((f, v) => (bytes += 48 + f.length + (typeof v === "number" ? 8 : v.length + 16)));
    }
    if (this.expiry) bytes += 64 + this.expiry.at.size * 40;
    return bytes;
  }
}
