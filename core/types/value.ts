/**
 * What a key can hold. Strings are stored bare to keep a million small keys
 * small: a binary string (one char per byte) up to STRING_INLINE_MAX bytes,
 * a Uint8Array above it, or a number when the value is a canonical integer
 * within ±2^53 (so INCR works without parsing). Collections are objects
 * that name their own type and encoding.
 */

export interface Collection {
  readonly type: "list" | "hash" | "set" | "zset" | "stream";
  /** OBJECT ENCODING's answer, e.g. "listpack" or "hashtable". */
  encoding(): string;
  /** A deep copy, for COPY. */
  clone(): Collection;
  /**
   * Approximate bytes held (MEMORY USAGE, used_memory). With samples > 0 a
   * large collection measures that many of its elements and scales by its
   * size, as Redis's objectComputeSize does, so the figure costs O(samples).
   */
  memoryUsage(samples?: number): number;
  /** Number of elements; an empty collection is deleted by the command that emptied it. */
  readonly size: number;
}

/**
 * The base class of each collection type, holding its `type` and `size`
 * accessors. They live here and not on the class itself because JSC gives
 * every object an inline slot per non-function property of its class's own
 * prototype, accessors included: with four of them a small hash took 64
 * bytes instead of 32, on each of a hundred thousand keys. Subclasses keep
 * their own prototypes to methods for the same reason.
 */
export function collectionBase<T extends Collection["type"]>(type: T) {
  abstract class Base {
    get type(): T {
      return type;
    }

    get size(): number {
      return this.count();
    }

    abstract count(): number;
  }
  return Base;
}

export type StringValue = string | number | Uint8Array;
export type Value = StringValue | Collection;

/** Strings longer than this are kept as bytes: copying them out char by char would cost more than their header. */
export const STRING_INLINE_MAX = 256;

export function isString(v: Value): v is StringValue {
  return typeof v !== "object" || v instanceof Uint8Array;
}

export function typeName(v: Value): string {
  return isString(v) ? "string" : v.type;
}
