/**
 * One cluster bus connection (Redis's clusterLink): bytes in are cut into
 * whole messages by the length each announces, bytes out go to the
 * connection. A stream that is not bus messages closes the link, as in
 * Redis. The bus (bus.ts) owns what the messages mean.
 */
import type { Connection } from "../io.ts";
import type { ClusterLink, ClusterNode } from "./node.ts";
import { frameLength } from "./bus-message.ts";

export interface LinkOwner {
  /** One whole message (its bytes are the link's to reuse after the call: copy what must outlive it). */
  message(link: BusLink, bytes: Uint8Array): void;
  /** The link ended (either side, or close()); called once. */
  closed(link: BusLink): void;
  /** Bytes that are not a bus message's start (bad signature or length): the owner closes the link. */
  badFrame(link: BusLink): void;
}

export class BusLink implements ClusterLink {
  createdAt: number;
  node: ClusterNode | null;
  readonly inbound: boolean;
  closed = false;
  /** Bytes received and not yet a whole message: buf[0..len). */
  private buf = new Uint8Array(0);
  private len = 0;

  constructor(readonly conn: Connection, node: ClusterNode | null, inbound: boolean, now: number, private owner: LinkOwner) {
    this.node = node;
    this.inbound = inbound;
    this.createdAt = now;
  }

  /** Bytes from the peer: every whole message in them is handed to the owner, in order. */
  data(chunk: Uint8Array): void {
    if (this.closed) return;
    if (this.len + chunk.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + chunk.length, 4096));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
    let at = 0;
    while (this.len - at >= 8 && !this.closed) {
      const total = frameLength(this.buf, at);
      if (total < 0) {
        this.owner.badFrame(this);
        this.close();
        return;
      }
      if (this.len - at < total) break;
      this.owner.message(this, this.buf.subarray(at, at + total));
      at += total;
    }
    if (at > 0) {
      this.buf.copyWithin(0, at, this.len);
      this.len -= at;
    }
  }

  send(bytes: Uint8Array): void {
    if (!this.closed) this.conn.write(bytes);
  }

  pending(): number {
    return this.conn.pendingBytes();
  }

  /** Closes the connection (dropping what is queued) and tells the owner. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.conn.abort) this.conn.abort();
    else this.conn.close();
    this.owner.closed(this);
  }
}

/** A node's outbound link: the bus makes every link, so each is a BusLink. */
export function linkOf(node: ClusterNode): BusLink | null {
  return node.link as BusLink | null;
}
