/**
 * The hash type, in Redis's two encodings. Small hashes are a "listpack":
 * one flat binary string (see packed.ts) of varint-length-prefixed entries
 * (field, value, field, value...) in insertion order, which costs a few
 * bytes per field instead of a Map entry. Past hash-max-listpack-entries fields, or on a field or value
 * longer than hash-max-listpack-value bytes, it becomes a Map ("hashtable"),
 * and never goes back, as in Redis.
 *
 * Per-field deadlines (Redis 7.4's HEXPIRE) live in a side map that only
 * hashes using them pay for; expired fields are removed by purgeExpired(),
 * which every hash command runs first.
 */
import { type Collection, collectionBase, type StringValue } from "./value.ts";
import { fromArg, fromStr } from "./string.ts";
import { DenseTable } from "./dense.ts";
import {
  BODY,
  cursor,
  EMPTY_PACKED,
  pack,
  packedCount,
  type PackedOwner,
  readVarint,
  varintSize,
  writeVarint,
} from "./packed.ts";
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

/** Where the field entry at pos has its bytes, and its value entry after it (set by locate()). */
const pair = { fieldStart: 0, fieldEnd: 0, valueStart: 0, valueEnd: 0 };

/** Decodes the field/value pair whose field entry starts at pos into `pair`. */
function locate(buf: Uint8Array, pos: number): void {
  const fieldLength = readVarint(buf, pos);
  pair.fieldStart = cursor.at;
  pair.fieldEnd = cursor.at + fieldLength;
  const valueLength = readVarint(buf, pair.fieldEnd);
  pair.valueStart = cursor.at;
  pair.valueEnd = cursor.at + valueLength;
}

/**
 * HGET on a hash the keyspace keeps as bytes (its listpack string at
 * bytes[at, at + length)): where field's value is, as [start, end) in
 * `pair`'s valueStart and valueEnd, or false when the hash lacks it.
 */
export function packedField(bytes: Uint8Array, at: number, length: number, field: Uint8Array): boolean {
  const end = at + length;
  readVarint(bytes, at);
  for (let pos = cursor.at; pos < end; pos = pair.valueEnd) {
    locate(bytes, pos);
    if (pair.fieldEnd - pair.fieldStart !== field.length) continue;
    let same = true;
    for (let i = 0; i < field.length && same; i++) same = bytes[pair.fieldStart + i] === field[i];
    if (same) return true;
  }
  return false;
}

/** Where packedField() found the value. */
export const packedValue: { readonly valueStart: number; readonly valueEnd: number } = pair;

/** HLEN of a hash kept as bytes (see packedField). */
export function packedFields(bytes: Uint8Array, at: number): number {
  return readVarint(bytes, at);
}

/** HGETALL and friends on a hash kept as bytes (see packedField): each pair's field and value as [start, end) of bytes. */
export function packedEach(
  bytes: Uint8Array,
  at: number,
  length: number,
  fn: (fieldStart: number, fieldEnd: number, valueStart: number, valueEnd: number) => void,
): void {
  const end = at + length;
  readVarint(bytes, at);
  for (let pos = cursor.at; pos < end; pos = pair.valueEnd) {
    locate(bytes, pos);
    fn(pair.fieldStart, pair.fieldEnd, pair.valueStart, pair.valueEnd);
  }
}

/** Bytes one entry of `length` bytes takes in the listpack. */
function entrySize(length: number): number {
  return varintSize(length) + length;
}

export class HashValue extends collectionBase("hash") implements Collection, PackedOwner {
  /** The listpack string (see packed.ts), or the table once converted. */
  private rep: string | DenseTable<StringValue> = EMPTY_PACKED;
  private expiry: FieldExpiry | null = null;

  /** A hash made from its listpack bytes where they lie (see ZSet.lentCopy). */
  static lentCopy(bytes: Uint8Array, at: number, length: number): HashValue {
    const h = new HashValue();
    pack.openBytes(h, bytes, at, length);
    return h;
  }

  /** True while a listpack without field deadlines, which the keyspace may keep as bytes instead of this object (see db.ts). */
  packable(): boolean {
    return typeof this.rep === "string" && this.expiry === null;
  }

  /** The listpack's bytes, for a packable() hash. */
  packedBytes(): string {
    return this.packed();
  }

  count(): number {
    const rep = this.rep;
    if (typeof rep !== "string") return rep.size;
    return pack.owner === this ? pack.count : packedCount(rep);
  }

  /** OBJECT ENCODING; "listpackex" once field deadlines were used, as in Redis 7.4. */
  encoding(): string {
    if (typeof this.rep !== "string") return "hashtable";
    return this.expiry ? "listpackex" : "listpack";
  }

  packedFlushed(s: string): void {
    this.rep = s;
  }

  /** The listpack in the shared buffer. */
  private open(): Uint8Array {
    return pack.open(this, this.rep as string);
  }

  /** The listpack as a string, with any edits in the buffer. */
  private packed(): string {
    if (pack.owner === this) pack.flush();
    return this.rep as string;
  }

  /** Offset of field's entry in the open listpack, or -1. */
  private find(field: string | Uint8Array): number {
    const buf = this.open();
    const len = field.length;
    for (let pos = BODY; pos < pack.end; pos = pair.valueEnd) {
      locate(buf, pos);
      if (pair.fieldEnd - pair.fieldStart === len && pack.equals(pair.fieldStart, field)) return pos;
    }
    return -1;
  }

  get(field: string): StringValue | undefined {
    const rep = this.rep;
    if (typeof rep !== "string") return rep.get(field);
    if (this.find(field) < 0) return undefined;
    return pack.string(pair.valueStart, pair.valueEnd);
  }

  has(field: string): boolean {
    const rep = this.rep;
    return typeof rep !== "string" ? rep.has(field) : this.find(field) >= 0;
  }

  /** Byte length of a field's value, or 0 when absent (HSTRLEN). */
  valueLength(field: string): number {
    const rep = this.rep;
    if (typeof rep === "string") return this.find(field) < 0 ? 0 : pair.valueEnd - pair.valueStart;
    const v = rep.get(field);
    return v === undefined ? 0 : typeof v === "number" ? String(v).length : v.length;
  }

  /**
   * Sets field to value (an argument's bytes or a binary string); returns
   * true when the field is new. Clears the field's deadline, as HSET does.
   * Converts to the table first when the new contents would exceed limits.
   */
  set(field: string, value: Uint8Array | string, limits: HashLimits): boolean {
    if (this.expiry) this.clearDeadline(field);
    if (typeof this.rep === "string" && (field.length > limits.value || value.length > limits.value)) this.convert();
    const rep = this.rep;
    if (typeof rep !== "string") return rep.set(field, typeof value === "string" ? fromStr(value) : fromArg(value));
    return this.packedSet(field, value, limits);
  }

  /** set() on the listpack, field and value within limits. */
  private packedSet(field: string | Uint8Array, value: Uint8Array | string, limits: HashLimits): boolean {
    const pos = this.find(field);
    if (pos >= 0) {
      const old = pair.valueEnd - pair.valueStart;
      // Overwriting a value with the same bytes changes nothing: no edit, no new string.
      if (old === value.length && pack.equals(pair.valueStart, value)) return false;
      pack.splice(pair.fieldEnd, entrySize(old), entrySize(value.length));
      pack.write(writeVarint(pack.buf, pair.fieldEnd, value.length), value);
      pack.changed();
      return false;
    }
    const end = pack.end;
    pack.splice(end, 0, entrySize(field.length) + entrySize(value.length));
    const valueAt = writeVarint(pack.buf, end, field.length) + field.length;
    pack.write(valueAt - field.length, field);
    pack.write(writeVarint(pack.buf, valueAt, value.length), value);
    pack.count++;
    pack.changed();
    if (pack.count > limits.entries) this.convert();
    return true;
  }

  /** HSET's pairs argv[from..]: returns how many fields were new. */
  setPairs(argv: Uint8Array[], from: number, limits: HashLimits): number {
    let added = 0;
    // The listpack takes fields straight from the arguments' bytes, no string per field.
    const bytesIn = typeof this.rep === "string" && this.expiry === null && argv.every((a, i) => i < from || a.length <= limits.value);
    for (let i = from; i < argv.length; i += 2) {
      const isNew = bytesIn && typeof this.rep === "string"
        ? this.packedSet(argv[i], argv[i + 1], limits)
        : this.set(str(argv[i]), argv[i + 1], limits);
      if (isNew) added++;
    }
    return added;
  }

  delete(field: string): boolean {
    if (this.expiry) this.clearDeadline(field);
    const rep = this.rep;
    if (typeof rep !== "string") return rep.delete(field);
    const pos = this.find(field);
    if (pos < 0) return false;
    pack.splice(pos, pair.valueEnd - pos, 0);
    pack.count--;
    pack.changed();
    return true;
  }

  /** Calls fn for every field in order (insertion order for the listpack, as Redis replies). */
  forEach(fn: (field: string, value: StringValue) => void): void {
    const [fields, values] = this.columns();
    for (let i = 0; i < fields.length; i++) fn(fields[i], values[i]);
  }

  /** Fields and values as parallel arrays, for random picks (the table's own arrays: read only). */
  columns(): [string[], StringValue[]] {
    const rep = this.rep;
    if (typeof rep !== "string") return [rep.keys, rep.values!];
    const fields: string[] = [], values: StringValue[] = [];
    const buf = this.open();
    for (let pos = BODY; pos < pack.end; pos = pair.valueEnd) {
      locate(buf, pos);
      fields.push(pack.string(pair.fieldStart, pair.fieldEnd));
      values.push(pack.string(pair.valueStart, pair.valueEnd));
    }
    return [fields, values];
  }

  /** The i-th field and value (0 <= i < size), for random picks from the listpack. */
  entryAtIndex(i: number): [string, StringValue] {
    const rep = this.rep;
    if (typeof rep !== "string") return [rep.keys[i], rep.values![i]];
    const buf = this.open();
    for (let pos = BODY; ; pos = pair.valueEnd) {
      locate(buf, pos);
      if (i-- === 0) return [pack.string(pair.fieldStart, pair.fieldEnd), pack.string(pair.valueStart, pair.valueEnd)];
    }
  }

  /** The table, for cursor-based HSCAN; null while packed. */
  dense(): DenseTable<StringValue> | null {
    return typeof this.rep === "string" ? null : this.rep;
  }

  private convert(): void {
    const [fields, values] = this.columns();
    const table = new DenseTable<StringValue>(true);
    for (let i = 0; i < fields.length; i++) table.set(fields[i], fromStr(values[i] as string));
    pack.release(this);
    this.rep = table;
  }

  // ---- field deadlines ----

  hasDeadlines(): boolean {
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
    h.rep = typeof this.rep === "string" ? this.packed() : this.rep.clone();
    if (this.expiry) h.expiry = { at: new Map(this.expiry.at), next: this.expiry.next };
    return h;
  }

  /** See Collection.memoryUsage: a table's first `samples` fields (0: all) stand for the rest, as Redis samples. */
  memoryUsage(samples = 0): number {
    let bytes = 48;
    const rep = this.rep;
    if (typeof rep === "string") {
      // The buffer's length, not packed(): measuring must not turn a value being edited back into a string.
      bytes += 16 + pack.lengthOf(this, rep) - varintSize(this.count());
    } else {
      const n = samples > 0 && samples < rep.size ? samples : rep.size;
      let fields = 0;
      for (let i = 0; i < n; i++) {
        const v = rep.values![i];
        fields += 48 + rep.keys[i].length + (typeof v === "number" ? 8 : v.length + 16);
      }
      bytes += n === rep.size ? fields : Math.floor((fields / n) * rep.size);
    }
    if (this.expiry) bytes += 64 + this.expiry.at.size * 40;
    return bytes;
  }
}
