/**
 * The keys of a db by cluster slot (Redis's per-slot key lists), kept only
 * in cluster mode: a count and a set of names per slot, so CLUSTER
 * COUNTKEYSINSLOT is O(1) and GETKEYSINSLOT reads only the keys it returns.
 * Db tells it of every key added and removed.
 */
import { keyHashSlot, SLOTS } from "../cluster/slot.ts";

export class SlotKeys {
  private readonly sets: (Set<string> | undefined)[] = new Array(SLOTS);

  added(key: string): void {
    const slot = keyHashSlot(key);
    let set = this.sets[slot];
    if (set === undefined) this.sets[slot] = set = new Set();
    set.add(key);
  }

  removed(key: string): void {
    const slot = keyHashSlot(key);
    const set = this.sets[slot];
    if (set === undefined) return;
    set.delete(key);
    if (set.size === 0) this.sets[slot] = undefined;
  }

  count(slot: number): number {
    return this.sets[slot]?.size ?? 0;
  }

  /** Up to max keys of a slot. */
  keys(slot: number, max: number): string[] {
    const out: string[] = [];
    const set = this.sets[slot];
    if (set === undefined || max === 0) return out;
    for (const key of set) {
      out.push(key);
      if (out.length >= max) break;
    }
    return out;
  }

  /** Slots holding at least one key, ascending. */
  *slotsWithKeys(): Iterable<number> {
    for (let slot = 0; slot < SLOTS; slot++) if (this.sets[slot] !== undefined) yield slot;
  }

  clear(): void {
    this.sets.fill(undefined);
  }
}
