/**
 * One shard of the keyspace's hash table (see sharded-map.ts): a chained
 * hash table over slots (four words each) and their values, plus bucket
 * heads, with each key's bytes in a byte arena: a record of the key's
 * length as a varint and its bytes, followed, for a value kept as bytes
 * (kind > 0), by the value's length and bytes.
 *
 * A slot's words lie side by side in `slots`, so that a lookup meets one
 * cache line for all of them (at a million keys each separate array was a
 * miss of its own): where its record starts in the arena (or HOLE), the
 * next slot of its chain (a hole's next hole), its kind (top 8 bits) and,
 * in a tracked shard (the keyspace's, not the expires table's), the key's
 * access clock (the low 24 bits: Redis's lru field, see access.ts), and its
 * estimated bytes in a tracked shard (see usage.ts; 0 for holes).
 *
 * A linked shard (the keyspace's in cluster mode) keeps two more words per
 * slot, `links`, for the lists of keys by cluster slot that slot-keys.ts
 * threads through the shards; the shard only carries them along.
 *
 * An entry keeps its slot for as long as it lives: deleting leaves a hole
 * that a later insert reuses, and growing rebuilds only the chains. Only
 * compact() moves entries, and it bumps `epoch` so walks can tell (and, in
 * a linked shard, leaves where each slot went in `moved`).
 */
import { cursor, readVarint, varintSize, writeVarint } from "../types/packed.ts";
import { copyBytes, str, writeBinary } from "../util/bytes.ts";

/** How a map keeps some values as bytes in its arena instead of as objects (see Db's packed collections). */
export interface ValueCodec<V> {
  /** 1-255 when v can be kept as bytes, else 0. */
  kind(v: V): number;
  /** v's bytes, as a binary string or as bytes. */
  bytes(v: V): string | Uint8Array;
  /** The value back from its kind and bytes (bytes[at, at + length), lent: copied if kept). */
  revive(kind: number, bytes: Uint8Array, at: number, length: number): V;
  /** Whether values of kind never change in place: a read then revives a copy and leaves the bytes stored. */
  immutable(kind: number): boolean;
}

/** Hash bits the map spends choosing a shard; a shard's chains use the bits above. */
export const SHARD_BITS = 6;
export const NONE = -1;
/** The record offset of a free slot. */
export const HOLE = -1;
const MIN_CAPACITY = 8;
/** Arenas smaller than this are not worth compacting. */
const MIN_ARENA = 1024;
/** What every empty shard shares: 16 dbs of 2 maps of 64 shards would otherwise cost an idle server a few MB. */
const NO_CHAINS = Int32Array.of(NONE);
const NO_SLOTS = new Int32Array(0);
/** Words a slot takes in `slots`, and each one's place. */
const STRIDE = 4;
const RECORD = 0;
const NEXT = 1;
const META = 2;
const SIZE = 3;
/** The access clock's bits of a META word (see access.ts's LRU_CLOCK_MAX); the kind's are above. */
const CLOCK_BITS = 0xffffff;
const NO_BYTES = new Uint8Array(0);

/** FNV-1a over the key's chars: a few ns for typical keys, even spread whatever the naming scheme. */
export function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 16)) >>> 0;
}

/** hashOf() of the key whose bytes are bytes[at, at + length). */
export function hashOfBytes(bytes: Uint8Array, at: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = at; i < at + length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A key's bytes lent in place (a shard's arena) without making a string: valid until that table next changes. */
export interface KeyRef {
  bytes: Uint8Array;
  at: number;
  length: number;
}

/** The lent key as a binary string, for the rare consumer that needs one. */
export function refText(ref: KeyRef): string {
  return str(ref.bytes.subarray(ref.at, ref.at + ref.length));
}

/** Where copyRecords() compacts an arena about as large as the one it had (see there). */
let scratch = new Uint8Array(0);


function scratchOf(size: number) {
  if (scratch.length < size) scratch = new Uint8Array(size);
  return scratch;
}

/** Set by the engine from its host (see HostInfo.freeReplacedBuffers): the allocator is the process's. */
let freeReplaced = false;

export function freeReplacedArenas(on: boolean): void {
  freeReplaced = on;
}

/** An array of n undefined, built by push: JSC makes `new Array(n)` past 100,000 a slower sparse kind. */
function emptyArray<T>(n: number): (T | undefined)[] {
  const a: (T | undefined)[] = [];
  for (let i = 0; i < n; i++) a.push(undefined);
  return a;
}

/** Marks slots from `first` on as holes (their other words zero), and returns the words. */
function holesFrom(slots: Int32Array<ArrayBuffer>, first: number): Int32Array<ArrayBuffer> {
  for (let w = first * STRIDE + RECORD; w < slots.length; w += STRIDE) slots[w] = HOLE;
  return slots;
}

export class Shard<V> {
  /** Each slot's value while it is an object; undefined for holes and values kept as bytes. */
  values: (V | undefined)[] = [];
  /** STRIDE words per slot (see the top); its length over STRIDE is the capacity. */
  slots = NO_SLOTS;
  /** First entry of each chain, by hash bits above the shard's; as many chains as slots (one while there are none). */
  heads = NO_CHAINS;
  arena = NO_BYTES;
  /** End of the arena's used bytes. */
  top = 0;
  /** Arena bytes no record uses, reclaimed when they are half of it. */
  garbage = 0;
  /** Slots ever filled since the last reset: entries and holes lie below. */
  used = 0;
  live = 0;
  freeHole = NONE;
  epoch = 0;
  /**
   * While a snapshot walks the shard (see core/persist/snapshot.ts): slots
   * must keep their keys, so no hole is reused and nothing compacts; a key
   * added meanwhile lands past the slots the walk covers.
   */
  frozen = false;
  /** Slots whose value may have become an object that could be kept as bytes (see ShardedMap.settle). */
  touched: number[] = [];
  /** When linked, two words per slot owned by slot-keys.ts (a key's next and previous in its cluster slot's list). */
  links = NO_SLOTS;
  linked = false;
  /** After a compaction of a linked shard: each former slot's new slot (NONE for holes), until slot-keys.ts relinks. */
  moved: Int32Array | null = null;
  /** The chain predecessor of the slot seek() last found (NONE when first in its chain). */
  private sought = NONE;

  get capacity(): number {
    return this.slots.length / STRIDE;
  }

  /** Where slot i's record starts in the arena, or HOLE. */
  private keyAt(i: number): number {
    return this.slots[i * STRIDE + RECORD];
  }

  private setKeyAt(i: number, at: number): void {
    this.slots[i * STRIDE + RECORD] = at;
  }

  /** Whether slot i holds an entry (else it is a hole, or unused). */
  occupied(i: number): boolean {
    return this.keyAt(i) !== HOLE;
  }

  /** The slot after i in its chain (a hole's next hole); NONE at the end. */
  chainNext(i: number): number {
    return this.slots[i * STRIDE + NEXT];
  }

  private setChainNext(i: number, next: number): void {
    this.slots[i * STRIDE + NEXT] = next;
  }

  /** 0 while slot i's value is in `values`, else the codec's kind of the bytes after its key. */
  kind(i: number): number {
    return this.slots[i * STRIDE + META] >>> 24;
  }

  private setKind(i: number, kind: number): void {
    const w = i * STRIDE + META;
    this.slots[w] = (this.slots[w] & CLOCK_BITS) | (kind << 24);
  }

  /** Slot i's access clock (tracked shards). */
  clock(i: number): number {
    return this.slots[i * STRIDE + META] & CLOCK_BITS;
  }

  setClock(i: number, clock: number): void {
    const w = i * STRIDE + META;
    this.slots[w] = (this.slots[w] & ~CLOCK_BITS) | clock;
  }

  /** Slot i's estimated bytes (tracked shards; 0 for holes). */
  sizeOf(i: number): number {
    return this.slots[i * STRIDE + SIZE] >>> 0;
  }

  setSize(i: number, size: number): void {
    this.slots[i * STRIDE + SIZE] = size;
  }

  /** Makes the shard linked (see links), its links left for slot-keys.ts to thread. */
  makeLinked(): void {
    this.linked = true;
    this.links = this.capacity === 0 ? NO_SLOTS : new Int32Array(this.capacity * 2);
  }

  reset(capacity: number): void {
    this.values = emptyArray(capacity);
    this.slots = capacity === 0 ? NO_SLOTS : holesFrom(new Int32Array(capacity * STRIDE), 0);
    this.heads = capacity === 0 ? NO_CHAINS : new Int32Array(capacity).fill(NONE);
    this.links = capacity === 0 || !this.linked ? NO_SLOTS : new Int32Array(capacity * 2);
    this.arena = NO_BYTES;
    this.top = 0;
    this.garbage = 0;
    this.used = 0;
    this.live = 0;
    this.freeHole = NONE;
    this.touched = [];
    this.epoch++;
  }

  /** True when slot i holds key. */
  private holds(i: number, key: string): boolean {
    const arena = this.arena;
    let at = this.keyAt(i);
    let length = arena[at++];
    if (length >= 128) {
      length = readVarint(arena, at - 1);
      at = cursor.at;
    }
    if (length !== key.length) return false;
    for (let j = 0; j < length; j++) if (arena[at + j] !== key.charCodeAt(j)) return false;
    return true;
  }

  /** True when slot i holds the key lent by ref. */
  private holdsRef(i: number, ref: KeyRef): boolean {
    const arena = this.arena;
    const length = readVarint(arena, this.keyAt(i));
    if (length !== ref.length) return false;
    const at = cursor.at;
    const bytes = ref.bytes;
    for (let j = 0; j < length; j++) if (arena[at + j] !== bytes[ref.at + j]) return false;
    return true;
  }

  key(i: number): string {
    return this.stringAt(this.keyAt(i));
  }

  keyLength(i: number): number {
    return readVarint(this.arena, this.keyAt(i));
  }

  /** Slot i's kind (see ValueCodec); when its value is kept as bytes (kind > 0), lends them through ref. */
  bytesRef(i: number, ref: KeyRef): number {
    const kind = this.kind(i);
    if (kind !== 0) {
      ref.length = readVarint(this.arena, this.keyEnd(i));
      ref.at = cursor.at;
      ref.bytes = this.arena;
    }
    return kind;
  }

  /** Lends slot i's key bytes through ref. */
  keyRef(i: number, ref: KeyRef): void {
    ref.length = readVarint(this.arena, this.keyAt(i));
    ref.at = cursor.at;
    ref.bytes = this.arena;
  }

  /** The bytes of slot i's value, kept as bytes (kind > 0). */
  private valueBytes(i: number): string {
    return this.stringAt(this.keyEnd(i));
  }

  /** The length-prefixed bytes at `at` in the arena, as a binary string. */
  private stringAt(at: number): string {
    const length = readVarint(this.arena, at);
    return str(this.arena.subarray(cursor.at, cursor.at + length));
  }

  /** Writes s (a binary string or bytes), length first, at `at` in the arena (room reserved); returns where it ends. */
  private writeString(at: number, s: string | Uint8Array): number {
    const arena = this.arena;
    at = writeVarint(arena, at, s.length);
    if (typeof s === "string") return writeBinary(s, arena, at);
    copyBytes(s, 0, s.length, arena, at);
    return at + s.length;
  }

  /** Where slot i's key ends: its value's bytes follow when it has a kind. */
  private keyEnd(i: number): number {
    const length = readVarint(this.arena, this.keyAt(i));
    return cursor.at + length;
  }

  /** Where slot i's record ends. */
  private recordEnd(i: number): number {
    const end = this.keyEnd(i);
    if (this.kind(i) === 0) return end;
    const length = readVarint(this.arena, end);
    return cursor.at + length;
  }

  /** Slot i's value, made an object again if it was kept as bytes (its bytes become garbage). */
  value(i: number, codec: ValueCodec<V> | null): V {
    const kind = this.kind(i);
    if (kind === 0) return this.values[i]!;
    const v = this.revived(i, kind, codec!);
    if (codec!.immutable(kind)) return v;
    this.setValue(i, v);
    this.touched.push(i);
    return v;
  }

  /** Slot i's value without keeping it: one kept as bytes is revived as a new object, the slot unchanged. */
  peek(i: number, codec: ValueCodec<V> | null): V {
    const kind = this.kind(i);
    return kind === 0 ? this.values[i]! : this.revived(i, kind, codec!);
  }

  /** Slot i's value kept as bytes of kind, revived by the codec from where they lie. */
  private revived(i: number, kind: number, codec: ValueCodec<V>): V {
    const length = readVarint(this.arena, this.keyEnd(i));
    return codec.revive(kind, this.arena, cursor.at, length);
  }

  /** Puts an object in slot i; bytes it kept for an earlier value become garbage. */
  setValue(i: number, v: V): void {
    if (this.kind(i) !== 0) {
      const keyEnd = this.keyEnd(i);
      this.garbage += this.recordEnd(i) - keyEnd;
      this.setKind(i, 0);
    }
    this.values[i] = v;
  }

  /** keepAsBytes() for a value being stored: over the slot's bytes when they have the same length. */
  putBytes(i: number, kind: number, bytes: string | Uint8Array): void {
    if (this.kind(i) !== 0) {
      const end = this.keyEnd(i);
      if (readVarint(this.arena, end) === bytes.length) {
        this.writeString(end, bytes);
        this.setKind(i, kind);
        return;
      }
    }
    this.keepAsBytes(i, kind, bytes);
  }

  /** Keeps slot i's value as `bytes` of `kind`, in a record written anew at the arena's end (or in place when last). */
  keepAsBytes(i: number, kind: number, bytes: string | Uint8Array): void {
    const keyLength = this.keyEnd(i) - this.keyAt(i);
    // Room first: reserve() may move every record, this one included.
    this.reserve(keyLength + varintSize(bytes.length) + bytes.length);
    let at = this.keyAt(i);
    const oldEnd = this.recordEnd(i);
    if (oldEnd !== this.top) {
      this.garbage += oldEnd - at;
      this.arena.copyWithin(this.top, at, at + keyLength);
      at = this.top;
    }
    this.top = this.writeString(at + keyLength, bytes);
    this.setKeyAt(i, at);
    this.setKind(i, kind);
    this.values[i] = undefined;
    this.reclaim();
  }

  /**
   * The arena offset of the first record in key hash h's chain (-1 when the
   * chain is empty): the first two of a lookup's reads, for prefetching.
   */
  chainRecord(h: number): number {
    const i = this.heads[h & (this.heads.length - 1)];
    return i === NONE ? -1 : this.keyAt(i);
  }

  find(key: string, h: number): number {
    let i = this.heads[h & (this.heads.length - 1)];
    while (i !== NONE && !this.holds(i, key)) i = this.chainNext(i);
    return i;
  }

  /** find() for a key lent by ref. */
  findRef(ref: KeyRef, h: number): number {
    let i = this.heads[h & (this.heads.length - 1)];
    while (i !== NONE && !this.holdsRef(i, ref)) i = this.chainNext(i);
    return i;
  }

  /** Adds key (absent) with an object value; returns its slot. */
  insert(key: string, h: number, value: V): number {
    let i = this.frozen ? NONE : this.freeHole;
    if (i !== NONE) {
      this.freeHole = this.chainNext(i);
    } else {
      if (this.used === this.capacity) this.grow();
      i = this.used++;
    }
    const at = this.reserve(varintSize(key.length) + key.length);
    this.top = this.writeString(at, key);
    this.setKeyAt(i, at);
    this.values[i] = value;
    this.link(i, h);
    this.live++;
    return i;
  }

  /**
   * find() for a removal: also notes the slot's predecessor in its chain,
   * so that removeFound() unlinks it without a second walk, and so that in
   * between, while the slot still holds the key, slot-keys.ts can take the
   * key out of its cluster slot's list (the removal may compact the shard).
   */
  seek(key: string, h: number): number {
    let prev = NONE;
    let i = this.heads[h & (this.heads.length - 1)];
    while (i !== NONE && !this.holds(i, key)) {
      prev = i;
      i = this.chainNext(i);
    }
    this.sought = prev;
    return i;
  }

  /** Removes the entry seek(key, h) just found in slot i; returns the size its slot recorded (0 untracked). */
  removeFound(i: number, h: number): number {
    return this.unlink(i, h & (this.heads.length - 1), this.sought);
  }

  /** Removes the entry in slot i (live), found without its key as a string (eviction); returns its recorded size. */
  removeAt(i: number): number {
    const length = this.keyLength(i);
    const bucket = (hashOfBytes(this.arena, cursor.at, length) >>> SHARD_BITS) & (this.heads.length - 1);
    let prev = NONE;
    for (let j = this.heads[bucket]; j !== i; j = this.chainNext(j)) prev = j;
    return this.unlink(i, bucket, prev);
  }

  /** Takes slot i, preceded by prev in its chain, out of the table: it becomes a hole. */
  private unlink(i: number, bucket: number, prev: number): number {
    if (prev === NONE) this.heads[bucket] = this.chainNext(i);
    else this.setChainNext(prev, this.chainNext(i));
    this.garbage += this.recordEnd(i) - this.keyAt(i);
    this.setKeyAt(i, HOLE);
    this.values[i] = undefined;
    this.setChainNext(i, this.freeHole);
    this.freeHole = i;
    this.live--;
    // Kind, clock and size go together (an untracked shard's size is always 0).
    const size = this.sizeOf(i);
    this.slots[i * STRIDE + META] = 0;
    this.slots[i * STRIDE + SIZE] = 0;
    if (this.live < this.capacity >>> 3 && this.capacity > MIN_CAPACITY && !this.frozen) this.compact();
    else this.reclaim();
    return size;
  }

  /**
   * Makes room for n more arena bytes; returns where they start (the top).
   * A full arena is copied, without its garbage, into one a quarter larger
   * than what it then holds: the arena is most of a shard's bytes, so its
   * spare room is kept small at the price of more frequent copies.
   */
  private reserve(n: number): number {
    if (this.top + n > this.arena.length) {
      this.copyRecords(Math.max(64, Math.ceil((this.top - this.garbage + n) * 1.25)));
    }
    return this.top;
  }

  private link(i: number, h: number): void {
    const bucket = h & (this.heads.length - 1);
    this.setChainNext(i, this.heads[bucket]);
    this.heads[bucket] = i;
  }

  /**
   * Doubles the slots and rebuilds the chains of the live entries. Holes
   * keep their links, which are the free list: a frozen shard (a snapshot
   * walking it) grows with holes in it, since inserts then never reuse them.
   */
  private grow(): void {
    const capacity = this.capacity;
    const grown = Math.max(MIN_CAPACITY, capacity * 2);
    for (let i = capacity; i < grown; i++) this.values.push(undefined);
    const slots = holesFrom(new Int32Array(grown * STRIDE), capacity);
    slots.set(this.slots);
    this.slots = slots;
    if (this.linked) {
      const links = new Int32Array(grown * 2);
      links.set(this.links);
      this.links = links;
    }
    this.heads = new Int32Array(grown).fill(NONE);
    const arena = this.arena;
    for (let i = 0; i < capacity; i++) {
      if (!this.occupied(i)) continue;
      const length = readVarint(arena, this.keyAt(i));
      this.link(i, hashOfBytes(arena, cursor.at, length) >>> SHARD_BITS);
    }
  }

  /** Drops the garbage once it is half the arena. */
  private reclaim(): void {
    if (this.garbage > this.top >>> 1 && this.top > MIN_ARENA) {
      this.copyRecords(Math.ceil((this.top - this.garbage) * 1.25));
    }
  }

  /**
   * Moves the records, without the garbage between them, into an arena of
   * `size` bytes; slots stay put. Under churn (a delete per insert, as
   * eviction makes) the arena fills with garbage as fast as with records,
   * and the new arena would be about the old one's size: then the records
   * go into a scratch buffer that becomes the arena, the old arena the next
   * scratch, which spares an allocation (and the collector's work) per
   * compaction. A scratch much larger than the arena (left by a larger
   * shard) is copied back from instead, so no shard keeps room it never
   * needed.
   */
  private copyRecords(size: number): void {
    const old = this.arena;
    const inPlace = size <= old.length && size * 4 >= old.length * 3;
    const arena = inPlace ? scratchOf(size) : new Uint8Array(size);
    let top = 0;
    // Records that lay end to end (in slot order, as the last compaction left them) move as one run.
    let runFrom = 0;
    let runTo = 0;
    for (let i = 0; i < this.used; i++) {
      const at = this.keyAt(i);
      if (at === HOLE) continue;
      const end = this.recordEnd(i);
      if (at !== runTo) {
        copyBytes(old, runFrom, runTo, arena, top - (runTo - runFrom));
        runFrom = at;
      }
      runTo = end;
      this.setKeyAt(i, top);
      top += end - at;
    }
    copyBytes(old, runFrom, runTo, arena, top - (runTo - runFrom));
    if (inPlace && arena.length > old.length * 1.5) old.set(arena.subarray(0, top));
    else if (inPlace) {
      // The scratch becomes the arena and the old arena the next scratch: no second copy.
      this.arena = arena;
      scratch = old;
    } else {
      this.arena = arena;
      // Nothing keeps a view of an arena past a method call, so the old one can go now (not the shared empty one).
      if (freeReplaced && old !== NO_BYTES) {
        (old.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer }).transfer?.(0);
      }
    }
    this.top = top;
    this.garbage = 0;
  }

  /** Moves the entries, in slot order, into the smallest table holding them at most half full. */
  private compact(): void {
    const keys: string[] = [];
    const values: (V | undefined)[] = [];
    const kinds: number[] = [];
    const bytes: string[] = [];
    const clocks: number[] = [];
    const sizes: number[] = [];
    const links = this.links;
    const moved = this.linked ? new Int32Array(this.used).fill(NONE) : null;
    for (let i = 0; i < this.used; i++) {
      if (!this.occupied(i)) continue;
      // Entries go back in order into an empty table: the j-th live one lands in slot j.
      if (moved !== null) moved[i] = keys.length;
      keys.push(this.key(i));
      values.push(this.values[i]);
      const kind = this.kind(i);
      kinds.push(kind);
      bytes.push(kind === 0 ? "" : this.valueBytes(i));
      clocks.push(this.clock(i));
      sizes.push(this.sizeOf(i));
    }
    let capacity = keys.length === 0 ? 0 : MIN_CAPACITY;
    while (capacity < keys.length * 2) capacity *= 2;
    this.reset(capacity);
    for (let j = 0; j < keys.length; j++) {
      const i = this.insert(keys[j], hashOf(keys[j]) >>> SHARD_BITS, values[j]!);
      this.setClock(i, clocks[j]);
      this.setSize(i, sizes[j]);
      if (kinds[j] !== 0) this.keepAsBytes(i, kinds[j], bytes[j]);
      else this.touched.push(i);
    }
    if (moved === null) return;
    for (let i = 0; i < moved.length; i++) {
      const j = moved[i];
      if (j === NONE) continue;
      this.links[j * 2] = links[i * 2];
      this.links[j * 2 + 1] = links[i * 2 + 1];
    }
    this.moved = moved;
  }
}
