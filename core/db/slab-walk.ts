/**
 * The cron's walk for the string slabs (types/slabs.ts): a bounded number
 * of keys per tick, db after db, looking at each value held as bytes. One
 * pass over every db is one census of the slabs; values in slabs the
 * previous census found mostly unused move to the current slab as the walk
 * meets them, so no slab stays alive for a few of its values.
 */
import type { Db } from "./db.ts";
import type { ShardedMap, Walk } from "./sharded-map.ts";
import type { Slabs } from "../types/slabs.ts";
import type { Value } from "../types/value.ts";

export class SlabWalk {
  private db = 0;
  private walk: Walk | null = null;
  /** The map the walk is in: a flush replaces a db's map, and the walk starts that db over. */
  private map: ShardedMap<Value> | null = null;
  private inPass = false;

  constructor(private readonly slabs: Slabs) {}

  /** Looks at up to budget keys, going on from where the last call stopped. */
  step(dbs: readonly Db[], budget: number): void {
    const slabs = this.slabs;
    if (!slabs.inUse) return;
    if (!this.inPass) {
      this.inPass = true;
      this.db = 0;
      slabs.beginCensus();
    }
    while (budget > 0) {
      const data = dbs[this.db].data;
      if (this.walk === null || this.map !== data) {
        this.walk = data.walk();
        this.map = data;
      }
      const w = this.walk;
      for (; budget > 0 && data.advance(w); w.slot++, budget--) {
        const v = data.objectAt(w);
        if (!(v instanceof Uint8Array)) continue;
        const moved = slabs.visit(v);
        if (moved !== null) data.replaceAt(w, moved);
      }
      if (budget === 0) return;
      this.walk = null;
      this.map = null;
      if (++this.db === dbs.length) {
        this.inPass = false;
        slabs.endCensus();
        return;
      }
    }
  }
}
