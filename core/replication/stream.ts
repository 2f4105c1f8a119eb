/**
 * A replica applying its primary's replication stream (Redis's master
 * client working through its query buffer): each command runs through the
 * engine as the primary's client, whose replies go nowhere; the offset moves
 * by the bytes of each command applied (Redis's reploff), which is what
 * REPLCONF ACK reports; and what was applied is passed on verbatim to this
 * server's own backlog and replicas (chained replication), never what this
 * server would propagate itself.
 */
import type { Engine } from "../server/engine.ts";
import type { Client } from "../server/client.ts";
import { RequestParser } from "../resp/parser.ts";
import { concat, is } from "../util/bytes.ts";

export class StreamApplier {
  /** While one of the stream's commands runs: keys past their deadline read as live (the primary's DEL follows). */
  applying = false;
  /** The primary's limits are not ours to enforce: its stream is taken whole. */
  private readonly parser = new RequestParser({ maxBulkLen: Infinity, queryBufferLimit: Infinity, authRequired: false });
  /** Bytes received since the stream started, how many of them were applied, and passed on. */
  private received = 0;
  private applied = 0;
  private forwarded = 0;
  /** Received bytes from `forwarded` on. */
  private unforwarded: Uint8Array[] = [];

  /**
   * offset is the stream offset reached (the FULLRESYNC offset, or the cached
   * one on +CONTINUE); ack sends REPLCONF ACK (GETACK), broken drops the link.
   */
  constructor(
    private readonly engine: Engine,
    readonly client: Client,
    public offset: number,
    private readonly ack: () => void,
    private readonly broken: () => void,
  ) {}

  /** slave_read_repl_offset: what was received, applied or not. */
  get readOffset(): number {
    return this.offset + this.received - this.applied;
  }

  /** Complete commands may wait that a paused client or a busy script held back: the cron calls apply() again. */
  get resumable(): boolean {
    return this.parser.pending > 0 && this.client.postponed === null && this.engine.busyError === null;
  }

  /** Runs every complete command received (chunk may be empty, to resume), then passes the applied bytes on. */
  apply(chunk: Uint8Array): void {
    const e = this.engine;
    const c = this.client;
    const parser = this.parser;
    if (chunk.length > 0) {
      this.received += chunk.length;
      this.unforwarded.push(chunk);
      c.netIn += chunk.length;
      parser.feed(chunk);
    }
    this.applying = true;
    let start = e.startBatch(c);
    let ahead = 0;
    try {
      // A command held by CLIENT PAUSE (the primary's client is paused too, as in Redis) stops the run, and so does
      // a script past busy-reply-threshold (the stream waits rather than getting -BUSY).
      while (c.postponed === null && e.busyError === null) {
        ahead = ahead > 0 ? ahead - 1 : e.prefetchKeys(parser, c.db) - 1;
        let argv: Uint8Array[] | null;
        try {
          argv = parser.next();
        } catch (err) {
          e.log("warning", `Protocol error from MASTER: ${(err as Error).message}`);
          this.applying = false;
          return this.broken();
        }
        if (argv === null) break;
        // The ACK reports what was applied before the GETACK, as Redis's.
        if (argv.length >= 2 && is(argv[0], "replconf") && is(argv[1], "getack")) this.ack();
        else start = e.executeInBatch(c, argv, start);
        const applied = this.received - parser.pending;
        this.offset += applied - this.applied;
        this.applied = applied;
        // The command ended the link (CLIENT KILL of the primary's client, REPLICAOF in a script...).
        if (c.closed) return;
      }
    } finally {
      this.applying = false;
      e.endBatch(null);
    }
    this.forward();
    e.flush(c);
    e.settleEagerly();
  }

  /** What was applied since the last call goes to the backlog and our replicas, byte for byte. */
  private forward(): void {
    let n = this.applied - this.forwarded;
    if (n <= 0) return;
    this.forwarded = this.applied;
    const out: Uint8Array[] = [];
    while (n > 0) {
      const head = this.unforwarded[0];
      if (head.length <= n) {
        out.push(head);
        n -= head.length;
        this.unforwarded.shift();
      } else {
        out.push(head.subarray(0, n));
        this.unforwarded[0] = head.subarray(n);
        n = 0;
      }
    }
    this.engine.primary.proxy(out.length === 1 ? out[0] : concat(out));
  }
}
