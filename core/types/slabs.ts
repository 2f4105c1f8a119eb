/**
 * Where SET puts string values of 257 bytes to 8 KB: copied into shared
 * 64 KB slabs rather than each into an ArrayBuffer of its own. V8 gives
 * every ArrayBuffer a backing store from malloc and a record its GC must
 * sweep when the buffer dies: a 500-byte copy cost Node ~1.1 us and Deno
 * ~2 us, half of an evicting SET's time, against ~0.25 us for a copy into
 * a slab. JSC allocates one in ~0.16 us and handles views of a shared
 * buffer worse: SET under Bun was 20-60% slower with slabs, so there each
 * value keeps a buffer of its own.
 *
 * A slab lives while any value in it does, so one long-lived value could
 * keep 64 KB alive. The cron's walk over the keyspace (db/slab-walk.ts)
 * takes a census of the bytes each slab still holds for keys; in the next
 * walk, values in a slab found less than half used move to the current
 * slab, and the old one goes to the GC with its last value.
 */

const SLAB_SIZE = 64 * 1024;
/** Longer values get a buffer of their own: one allocation is then cheap beside the copy. */
const SLAB_VALUE_MAX = 8 * 1024;
/** A slab whose values in the last census held less than this is emptied by the next walk. */
const SPARSE_BYTES = SLAB_SIZE / 2;
/** Slabs pay on V8 (Node, Deno), not on JSC (Bun, which names itself in navigator.userAgent). */
const SLABS_PAY = !(globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent?.startsWith("Bun/");

export class Slabs {
  private slab: Uint8Array | null = null;
  private at = 0;
  /** Slabs are numbered in order of creation; the number of a slab's buffer. */
  private slabId = -1;
  private readonly ids = new WeakMap<ArrayBufferLike, number>();
  /** Bytes of each slab seen in keys by the census under way. */
  private live = new Map<number, number>();
  /** Slabs numbered below this existed whole when the census began: only those can be judged by it. */
  private censusBefore = 0;
  /** Slabs the last census found under SPARSE_BYTES: their values move when the walk meets them. */
  private sparse = new Set<number>();
  /** Values moved out of sparse slabs so far. */
  moved = 0;

  constructor(private readonly enabled = SLABS_PAY) {}

  /** Whether any value was ever put in a slab: until then the cron walks nothing. */
  get inUse(): boolean {
    return this.slabId >= 0;
  }

  /** A copy of arg that the keyspace can keep: in a slab when short enough. */
  copy(arg: Uint8Array): Uint8Array {
    const n = arg.length;
    if (n > SLAB_VALUE_MAX || !this.enabled) return arg.slice();
    if (this.slab === null || this.at + n > SLAB_SIZE) {
      this.slab = new Uint8Array(SLAB_SIZE);
      this.at = 0;
      this.ids.set(this.slab.buffer, ++this.slabId);
    }
    const v = this.slab.subarray(this.at, this.at + n);
    v.set(arg);
    // A zero byte is left after each value, as after an sds string: a corrupted HLL's last opcode reads it (see hll-sparse.ts pastEnd).
    this.at += n + 1;
    return v;
  }

  /**
   * The census's look at one value held by a key: a value in a sparse slab
   * comes back as a copy to store in its place, anything else as null.
   */
  visit(v: Uint8Array): Uint8Array | null {
    let id = this.ids.get(v.buffer);
    if (id === undefined) return null;
    let moved: Uint8Array | null = null;
    if (this.sparse.has(id)) {
      moved = this.copy(v);
      id = this.slabId;
      this.moved++;
    }
    this.live.set(id, (this.live.get(id) ?? 0) + v.length);
    return moved;
  }

  /** A walk over every key starts. */
  beginCensus(): void {
    this.live = new Map();
    this.censusBefore = this.slabId;
  }

  /** The walk went over every key: slabs it could judge that held little are emptied by the next one. */
  endCensus(): void {
    // A slab no key uses is not counted at all: the GC frees it, nothing to move.
    const sparse = new Set<number>();
    for (const [id, bytes] of this.live) if (id < this.censusBefore && bytes < SPARSE_BYTES) sparse.add(id);
    this.sparse = sparse;
  }
}
