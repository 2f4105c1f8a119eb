/**
 * The set type, in Redis 7.0's two encodings: an intset (sorted integers,
 * see intset.ts) while every member is an integer and there are at most
 * set-max-intset-entries of them, then a DenseTable ("hashtable"). Redis
 * 7.0 has no listpack encoding for sets (7.2 added it), so neither do we.
 * Conversion is one way, as in Redis.
 */
import { type Collection, collectionBase } from "./value.ts";
import { IntSet } from "./intset.ts";
import { DenseTable } from "./dense.ts";
import { parseInt64 } from "../util/number.ts";

export class SetValue extends collectionBase("set") implements Collection {
  private ints: IntSet | null = new IntSet();
  private table: DenseTable | null = null;

  count(): number {
    return this.ints ? this.ints.length : this.table!.size;
  }

  encoding(): string {
    return this.ints ? "intset" : "hashtable";
  }

  has(member: string): boolean {
    if (this.table) return this.table.has(member);
    const v = parseInt64(member);
    return v !== null && this.ints!.has(v);
  }

  /** Adds member (a binary string); true when new. maxIntset is set-max-intset-entries. */
  add(member: string, maxIntset: number): boolean {
    if (this.ints) {
      const v = parseInt64(member);
      if (v !== null) {
        if (!this.ints.add(v)) return false;
        if (this.ints.length > maxIntset) this.convert();
        return true;
      }
      this.convert();
    }
    return this.table!.set(member);
  }

  remove(member: string): boolean {
    if (this.table) return this.table.delete(member);
    const v = parseInt64(member);
    return v !== null && this.ints!.remove(v);
  }

  /** The i-th member (0 <= i < size): numeric order for an intset, slot order otherwise. */
  memberAt(i: number): string {
    return this.ints ? this.ints.textAt(i) : this.table!.keys[i];
  }

  removeAt(i: number): void {
    if (this.ints) this.ints.removeAt(i);
    else this.table!.deleteAt(i);
  }

  randomIndex(): number {
    return Math.floor(Math.random() * this.size);
  }

  /** Every member, in reply order. */
  members(): string[] {
    if (this.table) return this.table.keys.slice();
    const out = new Array<string>(this.ints!.length);
    for (let i = 0; i < out.length; i++) out[i] = this.ints!.textAt(i);
    return out;
  }

  /** The table, for cursor-based SSCAN; null while an intset. */
  dense(): DenseTable | null {
    return this.table;
  }

  private convert(): void {
    const table = new DenseTable(false);
    const ints = this.ints!;
    for (let i = 0; i < ints.length; i++) table.set(ints.textAt(i));
    this.table = table;
    this.ints = null;
  }

  clone(): SetValue {
    const s = new SetValue();
    s.ints = this.ints ? this.ints.clone() : null;
    s.table = this.table ? this.table.clone() : null;
    return s;
  }

  /** See Collection.memoryUsage: a table's first `samples` members (0: all) stand for the rest, as Redis samples. */
  memoryUsage(samples = 0): number {
    if (this.ints) return 48 + this.ints.bytes;
    const keys = this.table!.keys;
    const n = samples > 0 && samples < keys.length ? samples : keys.length;
    let members = 0;
    for (let i = 0; i < n; i++) members += 40 + keys[i].length;
    return 48 + (n === keys.length ? members : Math.floor((members / n) * keys.length));
  }
}
