/** The state of a startup load in progress, and the INFO lines that show it (redis-server's loading_* fields). */
import type { Engine } from "../server/engine.ts";

/** What INFO shows while a load is in progress. */
export interface LoadingState {
  startedAt: number;
  totalBytes: number;
  loadedBytes: number;
  /**
   * A replica's async load (Redis 7.0's async_loading): clients keep being
   * served from the old dataset meanwhile; only commands flagged
   * no_async_loading are refused.
   */
  async?: boolean;
}

/** Bytes parsed between two turns of the event loop (Redis's loading-process-events-interval-bytes). */
export const STEP_BYTES = 2 * 1024 * 1024;

/** Lets the event loop run between steps of a load, so clients that connect meanwhile get -LOADING. */
export const yieldToIo = (): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** INFO persistence's loading lines. */
export function loadingInfo(engine: Engine): Array<[string, string | number]> {
  const s = engine.loading;
  if (s === null) return [["loading", 0], ["async_loading", 0]];
  const elapsed = (engine.clock.now() - s.startedAt) / 1000;
  const perc = s.totalBytes === 0 ? 0 : (s.loadedBytes / s.totalBytes) * 100;
  // An EOF-marked transfer has no known size: Redis then counts one byte remaining.
  const remaining = s.totalBytes === 0 ? 1 : s.totalBytes - s.loadedBytes;
  const eta = s.loadedBytes === 0 ? 1 : Math.round(remaining / (s.loadedBytes / Math.max(elapsed, 0.001)));
  return [
    ["loading", s.async ? 0 : 1],
    ["async_loading", s.async ? 1 : 0],
    ["loading_start_time", Math.floor(s.startedAt / 1000)],
    ["loading_total_bytes", s.totalBytes],
    ["loading_rdb_used_mem", 0],
    ["loading_loaded_bytes", s.loadedBytes],
    ["loading_loaded_perc", perc.toFixed(2)],
    ["loading_eta_seconds", eta],
  ];
}
