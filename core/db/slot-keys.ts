/**
 * The keys of a db by cluster slot (Redis's per-slot key lists), kept only
 * in cluster mode, so CLUSTER COUNTKEYSINSLOT is O(1) and GETKEYSINSLOT or
 * deleting a slot's keys reads only that slot's keys.
 *
 * Why not a Set of names per slot: under Bun that cost about 80 bytes of
 * RSS per small key (each name kept again as a JS string, plus the Set's
 * entry). Here, as in Redis, each slot's keys form a doubly linked list
 * threaded through the keyspace table itself (sharded-map.ts): two Int32
 * words per table slot in the key's shard (Shard.links) name the next and
 * previous key by position (slot * SHARDS + shard), and this keeps a head
 * and a count per cluster slot. That is 8 bytes per table slot (the table
 * is kept between one and eight times fuller than half), plus 128 KB.
 *
 * The map tells it of every key added (set) and removed (delete, deleteAt),
 * and of every shard compaction, the one time entries change positions.
 */
import { keyHashSlot, SLOTS } from "../cluster/slot.ts";
import { NONE, type Shard, SHARD_BITS } from "./shard.ts";

const SHARD_MASK = (1 << SHARD_BITS) - 1;

export class SlotKeys {
  /** Each cluster slot's first key's position, or NONE. */
  private readonly heads = new Int32Array(SLOTS).fill(NONE);
  private readonly counts = new Uint32Array(SLOTS);

  /** The map's shards, whose links this threads (each is made linked here). */
  constructor(private readonly shards: Shard<unknown>[]) {}

  /** Words 2i (next) and 2i + 1 (previous) of position p's shard's links, i being p's slot there. */
  private linksOf(p: number): Int32Array {
    return this.shards[p & SHARD_MASK].links;
  }

  /** key, just stored at position p, goes first in its slot's list. */
  added(key: string, p: number): void {
    const slot = keyHashSlot(key);
    const head = this.heads[slot];
    const at = (p >>> SHARD_BITS) * 2;
    const links = this.linksOf(p);
    links[at] = head;
    links[at + 1] = NONE;
    if (head !== NONE) this.linksOf(head)[(head >>> SHARD_BITS) * 2 + 1] = p;
    this.heads[slot] = p;
    this.counts[slot]++;
  }

  /** key, at position p, is about to leave the table. */
  removed(key: string, p: number): void {
    const slot = keyHashSlot(key);
    const at = (p >>> SHARD_BITS) * 2;
    const links = this.linksOf(p);
    const next = links[at];
    const prev = links[at + 1];
    if (prev === NONE) this.heads[slot] = next;
    else this.linksOf(prev)[(prev >>> SHARD_BITS) * 2] = next;
    if (next !== NONE) this.linksOf(next)[(next >>> SHARD_BITS) * 2 + 1] = prev;
    this.counts[slot]--;
  }

  /**
   * After shard s compacted (its entries moved, their links with them; see
   * Shard.moved): its links into itself, the links other shards' entries
   * have into it, and the heads that name its entries, all made to name the
   * new positions. Costs the shard's entries, not the 16,384 heads: a small
   * shard under churn compacts often.
   */
  relink(s: number): void {
    const shard = this.shards[s];
    const moved = shard.moved!;
    shard.moved = null;
    const links = shard.links;
    for (let j = 0; j < shard.used; j++) {
      const p = j * (1 << SHARD_BITS) + s;
      for (let d = 0; d < 2; d++) {
        const q = links[j * 2 + d];
        if (q === NONE) continue;
        // A neighbour in this shard moved too; one elsewhere stayed, and its link back names this entry's old place.
        if ((q & SHARD_MASK) === s) links[j * 2 + d] = moved[q >>> SHARD_BITS] * (1 << SHARD_BITS) + s;
        else this.linksOf(q)[(q >>> SHARD_BITS) * 2 + 1 - d] = p;
      }
      if (links[j * 2 + 1] === NONE) this.heads[keyHashSlot(shard.key(j))] = p;
    }
  }

  count(slot: number): number {
    return this.counts[slot];
  }

  /** Up to max keys of a slot. */
  keys(slot: number, max: number): string[] {
    const out: string[] = [];
    for (let p = this.heads[slot]; p !== NONE && out.length < max; p = this.linksOf(p)[(p >>> SHARD_BITS) * 2]) {
      out.push(this.shards[p & SHARD_MASK].key(p >>> SHARD_BITS));
    }
    return out;
  }

  /** Slots holding at least one key, ascending. */
  *slotsWithKeys(): Iterable<number> {
    for (let slot = 0; slot < SLOTS; slot++) if (this.counts[slot] !== 0) yield slot;
  }

  /** The table was emptied (its shards reset). */
  clear(): void {
    this.heads.fill(NONE);
    this.counts.fill(0);
  }
}
