/**
 * A stream as AOF rewrite commands, as Redis 7.0's rewriteStreamObject: an
 * XADD per entry (or XADD MAXLEN 0 0-1 x y for an empty stream), XSETID
 * with the last ID, entries-added and max-deleted-entry-id, then per group
 * XGROUP CREATE ... ENTRIESREAD, and per consumer an XCLAIM ... FORCE per
 * pending entry, or XGROUP CREATECONSUMER when it has none.
 */
import type { PropArg } from "../propagate.ts";
import { formatId, type Stream } from "../../types/stream.ts";
import { byName } from "../../types/stream-groups.ts";

export function streamRewrite(key: string, s: Stream, emit: (argv: PropArg[]) => void): void {
  if (s.length > 0) s.forEach((id, fields) => emit(["XADD", key, formatId(id), ...fields]));
  else emit(["XADD", key, "MAXLEN", "0", "0-1", "x", "y"]);
  emit([
    "XSETID", key, formatId(s.lastId),
    "ENTRIESADDED", String(s.entriesAdded),
    "MAXDELETEDID", formatId(s.maxDeletedId),
  ]);
  if (s.groups === null) return;
  for (const g of byName(s.groups.values())) {
    emit(["XGROUP", "CREATE", key, g.name, formatId(g.lastId), "ENTRIESREAD", String(g.entriesRead)]);
    for (const c of g.sortedConsumers()) {
      if (c.pel.size === 0) {
        emit(["XGROUP", "CREATECONSUMER", key, g.name, c.name]);
        continue;
      }
      for (const e of c.pel) {
        emit([
          "XCLAIM", key, g.name, c.name, "0", formatId(e.id),
          "TIME", String(e.deliveryTime), "RETRYCOUNT", String(e.deliveryCount), "JUSTID", "FORCE",
        ]);
      }
    }
  }
}
