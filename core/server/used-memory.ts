/**
 * used_memory as Respite counts it: the running sums of its estimates
 * (every db's keys, values and deadlines, see core/db/usage.ts; the
 * clients' buffers, see client-memory.ts; the AOF buffer), which follow
 * writes and deletes exactly, where the process RSS follows the garbage
 * collector. maxmemory is weighed against it; INFO, MEMORY STATS and
 * MEMORY DOCTOR report it. Reading it costs a few additions per db.
 */
import type { Engine } from "./engine.ts";
import { HEAP_NUMBER, TABLE_ENTRY } from "../db/usage.ts";

export class UsedMemory {
  /** The highest total seen (used_memory_peak). */
  private peakBytes = 0;

  constructor(private readonly engine: Engine) {}

  /** used_memory. */
  total(): number {
    const bytes = this.counted() + this.notCountedForEvict();
    if (bytes > this.peakBytes) this.peakBytes = bytes;
    return bytes;
  }

  /** What maxmemory is weighed against: used_memory without mem_not_counted_for_evict. */
  counted(): number {
    let bytes = this.engine.clientsMemory;
    for (const db of this.engine.dbs) bytes += db.bytes;
    return bytes;
  }

  /** used_memory_peak, this reading included. */
  peak(): number {
    this.total();
    return this.peakBytes;
  }

  /** mem_not_counted_for_evict: in used_memory but not weighed against maxmemory (Redis: the AOF and replica buffers). */
  notCountedForEvict(): number {
    return this.engine.aof.bufferedBytes;
  }

  /** The keyspace tables' entries (per db: keys, deadlines), as MEMORY STATS shows them. */
  tables(): Array<{ id: number; main: number; expires: number }> {
    return this.engine.dbs.filter((db) => db.size > 0).map((db) => ({
      id: db.id,
      main: db.size * TABLE_ENTRY,
      expires: db.expires.size * (TABLE_ENTRY + HEAP_NUMBER),
    }));
  }

  /** used_memory_overhead: what is not the data itself (clients, buffers, table entries). */
  overhead(): number {
    let bytes = this.engine.clientsMemory + this.notCountedForEvict();
    for (const t of this.tables()) bytes += t.main + t.expires;
    return bytes;
  }
}
