/**
 * Redis's intset: a sorted array of integers in the narrowest width that
 * holds them all (16, 32 or 64 bits), widened for good when a larger value
 * arrives. Lookups are binary searches; members come out in numeric order,
 * which is the order Redis replies in for intset-encoded sets.
 */

type Store = Int16Array | Int32Array | BigInt64Array;

const INT16_MIN = -32768, INT16_MAX = 32767;
const INT32_MIN = -2147483648, INT32_MAX = 2147483647;

function widthFor(v: bigint): 2 | 4 | 8 {
  if (v >= INT16_MIN && v <= INT16_MAX) return 2;
  if (v >= INT32_MIN && v <= INT32_MAX) return 4;
  return 8;
}

function allocate(width: 2 | 4 | 8, capacity: number): Store {
  return width === 2 ? new Int16Array(capacity) : width === 4 ? new Int32Array(capacity) : new BigInt64Array(capacity);
}

export class IntSet {
  private data: Store = new Int16Array(4);
  length = 0;

  /** Element width in bytes, as Redis's intset encoding. */
  get width(): 2 | 4 | 8 {
    return this.data.BYTES_PER_ELEMENT as 2 | 4 | 8;
  }

  /** Index of v, or -(insertion point) - 1 when absent. */
  private search(v: bigint): number {
    const data = this.data;
    const key = data instanceof BigInt64Array ? v : Number(v);
    let lo = 0, hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = data[mid];
      if (m < key) lo = mid + 1;
      else if (m > key) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  has(v: bigint): boolean {
    if (widthFor(v) > this.width) return false;
    return this.search(v) >= 0;
  }

  /** Adds v; false when already present. */
  add(v: bigint): boolean {
    const width = widthFor(v);
    if (width > this.width) {
      this.resize(width, Math.max(4, this.length * 2));
      // A value wider than every member is beyond them all: first if negative, last otherwise.
      if (v < 0n) this.insertAt(0, v);
      else this.insertAt(this.length, v);
      return true;
    }
    const at = this.search(v);
    if (at >= 0) return false;
    this.insertAt(-at - 1, v);
    return true;
  }

  remove(v: bigint): boolean {
    if (widthFor(v) > this.width) return false;
    const at = this.search(v);
    if (at < 0) return false;
    this.removeAt(at);
    return true;
  }

  removeAt(i: number): void {
    this.data.copyWithin(i, i + 1, this.length);
    this.length--;
  }

  at(i: number): bigint {
    return BigInt(this.data[i]);
  }

  /** The i-th member as decimal text. */
  textAt(i: number): string {
    return String(this.data[i]);
  }

  private insertAt(i: number, v: bigint): void {
    if (this.length === this.data.length) this.resize(this.width, this.length * 2);
    const data = this.data;
    data.copyWithin(i + 1, i, this.length);
    if (data instanceof BigInt64Array) data[i] = v;
    else data[i] = Number(v);
    this.length++;
  }

  private resize(width: 2 | 4 | 8, capacity: number): void {
    const next = allocate(width, capacity);
    const old = this.data;
    if (next instanceof BigInt64Array) {
      for (let i = 0; i < this.length; i++) next[i] = BigInt(old[i]);
    } else (next as Int16Array | Int32Array).set((old as Int16Array | Int32Array).subarray(0, this.length));
    this.data = next;
  }

  clone(): IntSet {
    const s = new IntSet();
    s.data = this.data.slice(0, Math.max(4, this.length)) as Store;
    s.length = this.length;
    return s;
  }

  /** Bytes held, as Redis counts an intset: header plus width per member. */
  get bytes(): number {
    return 8 + this.data.length * this.width;
  }
}
