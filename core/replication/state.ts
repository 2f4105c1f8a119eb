/**
 * The replication identity of this server (Redis's replid, replid2,
 * master_repl_offset, second_repl_offset) and the backlog, shared by the
 * primary side (primary.ts, serving replicas) and the replica side
 * (replica.ts, following a primary). PSYNC2: a promoted replica keeps its
 * old id as replid2, valid up to second_repl_offset, so the other replicas
 * of the old primary can continue from it.
 *
 * The offset counts the bytes of the replication stream; it only moves
 * while a backlog exists (Redis: no backlog, no stream).
 */
import { randomHex } from "../util/random-hex.ts";
import { Backlog } from "./backlog.ts";

export const NO_REPLID = "0".repeat(40);

export class ReplicationState {
  replid = randomHex(40);
  replid2 = NO_REPLID;
  /** master_repl_offset: bytes fed to the stream (and the backlog) so far. */
  offset = 0;
  /** Up to which offset replid2 is valid; -1 for none. */
  secondOffset = -1;
  backlog: Backlog | null = null;
  /** Unix ms since when there are no replicas, for repl-backlog-ttl (0 while some are attached). */
  noReplicasSince = 0;

  /** A new history starts (Redis's changeReplicationId). */
  changeReplid(): void {
    this.replid = randomHex(40);
  }

  /** Redis's clearReplicationId2. */
  clearReplid2(): void {
    this.replid2 = NO_REPLID;
    this.secondOffset = -1;
  }

  /**
   * Redis's shiftReplicationId, on promotion: the old id stays valid as
   * replid2 up to the current offset (+1: the next byte a replica asks for).
   */
  shiftReplid(): void {
    this.replid2 = this.replid;
    this.secondOffset = this.offset + 1;
    this.changeReplid();
  }

  createBacklog(size: number): Backlog {
    this.backlog = new Backlog(size, this.offset);
    return this.backlog;
  }

  freeBacklog(): void {
    this.backlog = null;
  }

  /** Bytes appended to the stream: the backlog keeps them, the offset moves. No-op without a backlog. */
  append(bytes: Uint8Array): void {
    if (this.backlog === null || bytes.length === 0) return;
    this.backlog.append(bytes);
    this.offset = this.backlog.endOffset;
  }

  /**
   * Whether PSYNC replid offset can continue here (Redis's
   * masterTryPartialResynchronization checks), else the reason for the log.
   */
  canContinue(replid: string, offset: number): string | null {
    if (replid !== this.replid && !(replid === this.replid2 && offset <= this.secondOffset)) {
      if (replid === "?") return "full sync requested";
      if (replid !== this.replid2) return `Replication ID mismatch (Replica asked for '${replid}', my replication IDs are '${this.replid}' and '${this.replid2}')`;
      return `Requested offset for second ID was ${offset}, but I can reply up to ${this.secondOffset}`;
    }
    const b = this.backlog;
    if (b === null || !b.covers(offset)) {
      return `Unable to partial resync with replica: lack of backlog (Replica request was: ${offset}).`;
    }
    return null;
  }
}
