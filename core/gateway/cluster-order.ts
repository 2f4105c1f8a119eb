/**
 * Replies keep their order when a browser's commands are forwarded. A
 * forwarded command does not hold up the browser's next ones (a pipeline
 * to another node costs one round trip, not one per command): its reply
 * gets a place in the browser's output, and whatever the engine writes
 * after it (later replies, pushes) waits behind that place until the
 * other node's reply fills it. Sits between the engine client's connection
 * and the gateway transport (see connectClient in session.ts).
 */

/** A reply still to come. */
export interface Place {
  bytes: Uint8Array | null;
}

export class OutputOrder {
  private readonly queue: Array<Uint8Array | Place> = [];
  /** Bytes held behind places (counted as unsent output, so output buffer limits see them). */
  held = 0;

  constructor(private readonly target: (bytes: Uint8Array) => void) {}

  /** What the engine writes: out now, or behind the places still empty. */
  write(bytes: Uint8Array): void {
    if (this.queue.length === 0) return this.target(bytes);
    this.queue.push(bytes.slice());
    this.held += bytes.length;
  }

  /** A place for a reply that comes later. */
  reserve(): Place {
    const p: Place = { bytes: null };
    this.queue.push(p);
    return p;
  }

  /** The reply for a place: it goes out with everything behind it up to the next empty place. */
  fill(p: Place, bytes: Uint8Array): void {
    p.bytes = bytes.slice();
    this.held += bytes.length;
    while (this.queue.length !== 0) {
      const head = this.queue[0];
      const out = head instanceof Uint8Array ? head : head.bytes;
      if (out === null) return;
      this.queue.shift();
      this.held -= out.length;
      this.target(out);
    }
  }
}
