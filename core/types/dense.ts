/**
 * The "hashtable" encoding of sets and hashes: members in a dense array
 * plus a Map from member to its slot. Deleting moves the last member into
 * the hole, so random picks (SPOP, SRANDMEMBER, HRANDFIELD) are O(1) and
 * uniform, and SCAN can use a plain integer cursor (see scanDown).
 */
export class DenseTable<V = never> {
  keys: string[] = [];
  /** Values parallel to keys, for hashes; null for sets. */
  values: V[] | null;
  private slots = new Map<string, number>();

  constructor(withValues: boolean) {
    this.values = withValues ? [] : null;
  }

  get size(): number {
    return this.keys.length;
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  get(key: string): V | undefined {
    const i = this.slots.get(key);
    return i === undefined ? undefined : this.values![i];
  }

  /** Adds or replaces key; true when it is new. */
  set(key: string, value?: V): boolean {
    const i = this.slots.get(key);
    if (i !== undefined) {
      if (this.values) this.values[i] = value!;
      return false;
    }
    this.slots.set(key, this.keys.length);
    this.keys.push(key);
    if (this.values) this.values.push(value!);
    return true;
  }

  delete(key: string): boolean {
    const i = this.slots.get(key);
    if (i === undefined) return false;
    this.deleteAt(i);
    return true;
  }

  deleteAt(i: number): void {
    const keys = this.keys;
    const last = keys.length - 1;
    this.slots.delete(keys[i]);
    if (i !== last) {
      keys[i] = keys[last];
      this.slots.set(keys[i], i);
      if (this.values) this.values[i] = this.values[last];
    }
    keys.pop();
    this.values?.pop();
  }

  clone(): DenseTable<V> {
    const t = new DenseTable<V>(this.values !== null);
    t.keys = this.keys.slice();
    t.values = this.values ? this.values.slice() : null;
    t.slots = new Map(this.slots);
    return t;
  }

  /**
   * One SCAN step: visits up to count slots downward from the cursor and
   * returns the next cursor (0 when done). Cursor c means "slots below c
   * are unvisited"; 0 starts at the top. Deletion only ever moves the top
   * member down, and additions go on top, so a member present throughout
   * the scan stays below the cursor until visited: never missed.
   */
  scanDown(cursor: number, count: number, visit: (slot: number) => void): number {
    let i = cursor === 0 || cursor > this.keys.length ? this.keys.length : cursor;
    for (let n = 0; n < count && i > 0; n++) visit(--i);
    return i;
  }
}
