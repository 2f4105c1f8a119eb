/**
 * The list type: a quicklist, i.e. a sequence of listpack nodes (see
 * listpack.ts), each filled up to list-max-listpack-size (negative: a byte
 * budget of 4/8/16/32/64 KB; positive: an entry count within 8 KB), with
 * Redis 7.0's node-fill rule. Redis 7.0 encodes every list this way, so
 * OBJECT ENCODING always answers "quicklist" (the "listpack" encoding for
 * small lists arrived in 7.2); a small list is one quicklist node.
 *
 * Pushes and pops at either end are O(1) amortized: nodes are bounded, and
 * the node array keeps a gap in front so LPUSH can add nodes without
 * shifting. Indexing walks node counts from the nearer end, then entries
 * inside one node, without copying anything.
 */
import type { Collection } from "./value.ts";
import { type Entry, entrySize, Listpack, NONE } from "./listpack.ts";

/** Redis's SIZE_SAFETY_LIMIT: a count-limited node never grows past this many bytes. */
const SIZE_SAFETY_LIMIT = 8192;
/** Byte budgets for list-max-listpack-size -1 .. -5. */
const BYTE_BUDGETS = [4096, 8192, 16384, 32768, 65536];

/** Whether a node holding `count` entries in `bytes` bytes respects the fill setting. */
function nodeFits(fill: number, bytes: number, count: number): boolean {
  if (count <= 1) return true;
  if (fill < 0) {
    const budget = BYTE_BUDGETS[-fill - 1];
    if (budget !== undefined) return bytes <= budget;
  }
  return bytes <= SIZE_SAFETY_LIMIT && count <= fill;
}

/** Where an element lives: the node's index in the node array and the entry's position in it. */
type Location = [node: number, pos: number];

export class ListValue implements Collection {
  /** Nodes live in nodes[head..]; slots before head are free room for LPUSH. */
  private nodes: Listpack[] = [];
  private head = 0;
  size = 0;

  /** fill is list-max-listpack-size when the list was created, as Redis fixes it per list. */
  constructor(readonly fill: number) {}

  get type(): "list" {
    return "list";
  }

  encoding(): string {
    return "quicklist";
  }

  /** Number of quicklist nodes (LREM walks them by index). */
  get nodeCount(): number {
    return this.nodes.length - this.head;
  }

  clone(): ListValue {
    const copy = new ListValue(this.fill);
    copy.nodes = this.nodes.slice(this.head).map((n) => n.clone());
    copy.size = this.size;
    return copy;
  }

  /** See Collection.memoryUsage: the first `samples` nodes (0: all) stand for the rest, as Redis samples. */
  memoryUsage(samples = 0): number {
    const count = this.nodes.length - this.head;
    const n = samples > 0 && samples < count ? samples : count;
    let nodes = 0;
    for (let i = this.head; i < this.head + n; i++) nodes += 48 + this.nodes[i].capacity;
    return 48 + 8 * this.nodes.length + (n === count ? nodes : Math.floor((nodes / n) * count));
  }

  // ---- ends ----

  pushBack(v: Entry): void {
    const nodes = this.nodes;
    const tail = nodes.length > this.head ? nodes[nodes.length - 1] : undefined;
    if (tail && this.canAdd(tail, v)) tail.pushBack(v);
    else nodes.push(this.newNode(v));
    this.size++;
  }

  pushFront(v: Entry): void {
    const first = this.nodes.length > this.head ? this.nodes[this.head] : undefined;
    if (first && this.canAdd(first, v)) first.pushFront(v);
    else this.addFirstNode(this.newNode(v));
    this.size++;
  }

  /** Appends entries as one node whatever the fill, as Redis keeps the listpack nodes of a loaded RDB or RESTORE payload. */
  appendNode(entries: Entry[]): void {
    if (entries.length === 0) return;
    const node = new Listpack(entries.reduce((n, v) => n + entrySize(v.length), 0));
    for (const v of entries) node.pushBack(v);
    this.nodes.push(node);
    this.size += entries.length;
  }

  /** Removes and returns the first element, a view valid until the list is written again; the list must not be empty. */
  popFront(): Uint8Array {
    const node = this.nodes[this.head];
    const v = node.popFront();
    if (node.count === 0) this.dropFirstNode();
    this.size--;
    return v;
  }

  /** Removes and returns the last element, a view valid until the list is written again; the list must not be empty. */
  popBack(): Uint8Array {
    const node = this.nodes[this.nodes.length - 1];
    const v = node.popBack();
    if (node.count === 0) this.dropLastNode();
    this.size--;
    return v;
  }

  /** Keeps only elements start..stop (0 <= start <= stop < size). */
  trim(start: number, stop: number): void {
    const fromBack = this.size - 1 - stop;
    this.dropFront(start);
    this.dropBack(fromBack);
  }

  private dropFront(n: number): void {
    this.size -= n;
    while (n > 0) {
      const node = this.nodes[this.head];
      if (node.count > n) return node.dropFront(n);
      n -= node.count;
      this.dropFirstNode();
    }
  }

  private dropBack(n: number): void {
    this.size -= n;
    while (n > 0) {
      const node = this.nodes[this.nodes.length - 1];
      if (node.count > n) return node.dropBack(n);
      n -= node.count;
      this.dropLastNode();
    }
  }

  // ---- by index ----

  /** The element at index (negative from the end) as a view valid until the next change, or null. */
  at(index: number): Uint8Array | null {
    const loc = this.locate(index);
    return loc && this.nodes[loc[0]].value(loc[1]);
  }

  /** Replaces the element at index; false when out of range. */
  set(index: number, v: Entry): boolean {
    const loc = this.locate(index);
    if (!loc) return false;
    this.nodes[loc[0]].replace(loc[1], v);
    this.splitIfOverfull(loc[0]);
    return true;
  }

  /**
   * Calls visit for each element from index start (negative from the end)
   * towards the tail, or towards the head when reverse, until visit
   * returns false. visit must not change the list.
   */
  walk(start: number, reverse: boolean, visit: (node: Listpack, pos: number) => boolean): void {
    const loc = this.locate(start);
    if (!loc) return;
    let [i, pos] = loc;
    const nodes = this.nodes;
    for (;;) {
      const node = nodes[i];
      while (pos !== NONE) {
        if (!visit(node, pos)) return;
        pos = reverse ? node.prev(pos) : node.next(pos);
      }
      i += reverse ? -1 : 1;
      if (i < this.head || i >= nodes.length) return;
      pos = reverse ? nodes[i].last() : nodes[i].first();
    }
  }

  // ---- by value ----

  /** LINSERT: puts v before or after the first element equal to pivot; false when there is none. */
  insertAtPivot(pivot: Entry, v: Entry, after: boolean): boolean {
    for (let i = this.head; i < this.nodes.length; i++) {
      const node = this.nodes[i];
      for (let pos = node.first(); pos !== NONE; pos = node.next(pos)) {
        if (!node.equals(pos, pivot)) continue;
        node.insert(after ? node.next(pos) : pos, v);
        this.size++;
        this.splitIfOverfull(i);
        return true;
      }
    }
    return false;
  }

  /** LREM: removes up to limit elements equal to v (0 = all), scanning from the tail when fromTail. */
  removeMatching(v: Entry, limit: number, fromTail: boolean): number {
    let removed = 0;
    // Nodes are tracked by their rank from the first node: dropping a node may re-base the array.
    let r = fromTail ? this.nodeCount - 1 : 0;
    while (r >= 0 && r < this.nodeCount && (limit === 0 || removed < limit)) {
      const node = this.nodes[this.head + r];
      let pos = fromTail ? node.last() : node.first();
      while (pos !== NONE && (limit === 0 || removed < limit)) {
        if (!node.equals(pos, v)) {
          pos = fromTail ? node.prev(pos) : node.next(pos);
          continue;
        }
        removed++;
        if (fromTail) {
          // Entries before pos keep their offset from the node's start, which may move.
          const prev = node.prev(pos);
          const offset = prev - node.start;
          node.remove(pos);
          pos = prev === NONE ? NONE : node.start + offset;
        } else pos = node.remove(pos);
      }
      if (node.count === 0) {
        this.removeNode(this.head + r);
        if (fromTail) r--;
      } else r += fromTail ? -1 : 1;
    }
    this.size -= removed;
    return removed;
  }

  // ---- nodes ----

  private canAdd(node: Listpack, v: Entry): boolean {
    return nodeFits(this.fill, node.bytes + entrySize(v.length), node.count + 1);
  }

  private newNode(v: Entry): Listpack {
    const node = new Listpack(entrySize(v.length));
    node.pushBack(v);
    return node;
  }

  /** Finds the node and position of index (negative from the end), walking from the nearer end. */
  private locate(index: number): Location | null {
    if (index < 0) index += this.size;
    if (index < 0 || index >= this.size) return null;
    const nodes = this.nodes;
    if (index < this.size / 2) {
      for (let i = this.head;; i++) {
        const n = nodes[i].count;
        if (index < n) return [i, nodes[i].at(index)];
        index -= n;
      }
    }
    let fromEnd = this.size - 1 - index;
    for (let i = nodes.length - 1;; i--) {
      const n = nodes[i].count;
      if (fromEnd < n) return [i, nodes[i].at(n - 1 - fromEnd)];
      fromEnd -= n;
    }
  }

  private addFirstNode(node: Listpack): void {
    if (this.head === 0) {
      // Open a gap in front proportional to the node count, so prepending stays O(1) amortized.
      const gap = Math.max(4, this.nodes.length >> 1);
      const next = new Array<Listpack>(gap + this.nodes.length);
      for (let i = 0; i < this.nodes.length; i++) next[gap + i] = this.nodes[i];
      this.nodes = next;
      this.head = gap;
    }
    this.nodes[--this.head] = node;
  }

  private dropFirstNode(): void {
    (this.nodes as Array<Listpack | undefined>)[this.head++] = undefined;
    if (this.head === this.nodes.length) {
      this.nodes = [];
      this.head = 0;
    } else if (this.head > 32 && this.head > this.nodes.length >> 1) {
      this.nodes = this.nodes.slice(this.head);
      this.head = 0;
    }
  }

  private dropLastNode(): void {
    this.nodes.pop();
    if (this.nodes.length === this.head) {
      this.nodes = [];
      this.head = 0;
    }
  }

  private removeNode(i: number): void {
    if (i === this.head) this.dropFirstNode();
    else if (i === this.nodes.length - 1) this.dropLastNode();
    else this.nodes.splice(i, 1);
  }

  /** After a change in the middle of node i, splits it into nodes that respect the fill setting. */
  private splitIfOverfull(i: number): void {
    const node = this.nodes[i];
    if (nodeFits(this.fill, node.bytes, node.count)) return;
    const parts: Listpack[] = [];
    let part = new Listpack();
    for (let pos = node.first(); pos !== NONE; pos = node.next(pos)) {
      const v = node.value(pos);
      if (part.count > 0 && !this.canAdd(part, v)) {
        parts.push(part);
        part = new Listpack();
      }
      part.pushBack(v);
    }
    parts.push(part);
    this.nodes.splice(i, 1, ...parts);
  }
}

export function isList(v: unknown): v is ListValue {
  return v instanceof ListValue;
}
