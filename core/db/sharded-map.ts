/**
 * A Map split into fixed shards by a cheap hash of the key. JS engines
 * rehash a whole Map when it grows or shrinks past a power of two, which on
 * a million-key keyspace stalls every client for tens of milliseconds (seen
 * when mass expiry shrinks it). Shards keep each rehash small. The API is
 * the part of Map the keyspace uses; iteration walks the shards in order,
 * each with a live Map iterator, so entries present throughout a walk are
 * visited exactly once.
 */

const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;

/** FNV-1a over the key's chars: a few ns for typical keys, even spread whatever the naming scheme. */
export function shardOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 16)) & (SHARDS - 1);
}

export class ShardedMap<V> {
  readonly shards: Map<string, V>[] = Array.from({ length: SHARDS }, () => new Map());
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return this.shards[shardOf(key)].get(key);
  }

  has(key: string): boolean {
    return this.shards[shardOf(key)].has(key);
  }

  /** Stores value; true when key was not there before (Redis's dbAdd rather than an overwrite). */
  set(key: string, value: V): boolean {
    const shard = this.shards[shardOf(key)];
    const before = shard.size;
    shard.set(key, value);
    if (shard.size === before) return false;
    this.count++;
    return true;
  }

  delete(key: string): boolean {
    if (!this.shards[shardOf(key)].delete(key)) return false;
    this.count--;
    return true;
  }

  clear(): void {
    for (const shard of this.shards) shard.clear();
    this.count = 0;
  }

  *keys(): IterableIterator<string> {
    for (const shard of this.shards) yield* shard.keys();
  }

  *entries(): IterableIterator<[string, V]> {
    for (const shard of this.shards) yield* shard.entries();
  }
}
