/**
 * Server-wide counters behind INFO stats and errorstats, and the sampled
 * instantaneous rates (Redis keeps 16 samples, one per 100 ms).
 */

const SAMPLES = 16;

class RateMeter {
  private samples = new Array<number>(SAMPLES).fill(0);
  private idx = 0;
  private lastTime = 0;
  private lastValue = 0;

  sample(now: number, value: number): void {
    if (this.lastTime === 0) {
      this.lastTime = now;
      this.lastValue = value;
      return;
    }
    const dt = now - this.lastTime;
    if (dt < 100) return;
    this.samples[this.idx] = ((value - this.lastValue) * 1000) / dt;
    this.idx = (this.idx + 1) % SAMPLES;
    this.lastTime = now;
    this.lastValue = value;
  }

  get rate(): number {
    return this.samples.reduce((a, b) => a + b, 0) / SAMPLES;
  }
}

export class Stats {
  connectionsReceived = 0;
  commandsProcessed = 0;
  rejectedConnections = 0;
  netInput = 0;
  netOutput = 0;
  /** Reads from clients' sockets (the primary's included) and writes to them, as Redis counts its read and write handlers' runs. */
  readsProcessed = 0;
  writesProcessed = 0;
  expiredKeys = 0;
  expiredStalePerc = 0;
  expiredTimeCapReached = 0;
  evictedKeys = 0;
  /** Clients closed by maxmemory-clients (INFO evicted_clients). */
  evictedClients = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  errorReplies = 0;
  rejectedCalls = 0;
  clientQueryBufferLimitDisconnections = 0;
  /** Idle clients' reply buffers shrunk by the cron (INFO reply_buffer_shrinks). */
  replyBufferShrinks = 0;
  errors = new Map<string, number>();
  readonly ops = new RateMeter();
  readonly inBytes = new RateMeter();
  readonly outBytes = new RateMeter();

  errorReply(code: string): void {
    this.errorReplies++;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  sample(now: number): void {
    this.ops.sample(now, this.commandsProcessed);
    this.inBytes.sample(now, this.netInput);
    this.outBytes.sample(now, this.netOutput);
  }

  /** CONFIG RESETSTAT. */
  reset(): void {
    const fresh = new Stats();
    for (const k of Object.keys(fresh) as (keyof Stats)[]) {
      if (typeof fresh[k] === "number") (this as Record<string, unknown>)[k] = fresh[k];
    }
    this.errors.clear();
  }
}
