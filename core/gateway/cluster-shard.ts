/**
 * Shard channels for browsers in a cluster. A shard channel lives on the
 * node serving its slot (SPUBLISH reaches that shard only), so a browser's
 * SSUBSCRIBE to a channel another node serves is kept here, as a local
 * subscription (its confirmations and SUNSUBSCRIBE behave as usual), and
 * the gateway subscribes this node to the channel where it lives, on one
 * RESP3 subscriber link per node: the smessages that arrive there are
 * delivered to the local subscribers. When the channel's slot moves (its
 * node ends the subscription with sunsubscribe, as Redis 7.0 does, or this
 * node's slot map shows the move), the relay subscribes again where the
 * slot went; channels no browser here listens to any more are dropped
 * within a second. Only browsers' subscriptions are relayed: another
 * node's relay subscribed here is an ordinary subscriber.
 */
import type { Engine } from "../server/engine.ts";
import { type RespPush, type RespValue, ReplyError } from "../resp/decoder.ts";
import { keyHashSlot } from "../cluster/slot.ts";
import { bytes, str } from "../util/bytes.ts";
import { type LinkPool, type NodeLink, parseRedirect } from "./cluster-link.ts";

/** Pause before subscribing again after a move or a lost link (ms). */
const AGAIN_MS = 100;

export class ShardRelay {
  /** Channel (binary string) -> the node address this node is subscribed at. */
  private readonly where = new Map<string, string>();
  /** Subscriber links by node address. */
  private readonly links = new Map<string, NodeLink>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly engine: Engine, private readonly pool: LinkPool) {}

  /** A gateway client is about to subscribe here to channels the node at address serves. */
  want(channels: string[], address: string): void {
    for (const ch of channels) if (!this.where.has(ch)) this.subscribe(ch, address);
  }

  /**
   * Brings the subscriptions elsewhere in line with the browsers' here and
   * this node's slot map: dropped where no browser here listens or where the
   * slot is no longer served, made where a browser's channel is served by
   * another node (which may be a channel whose slot left this node).
   */
  reconcile(): void {
    const cluster = this.engine.cluster;
    if (cluster === null) return;
    const local = this.engine.pubsub.registries.shard;
    // Only browsers' subscriptions are relayed: another node's relay subscribed here is not (it would loop).
    const browsers = (ch: string): boolean => {
      for (const c of local.get(ch) ?? []) if (c.forward !== null) return true;
      return false;
    };
    const mine = cluster.myPrimary;
    const home = (ch: string): string | null => {
      const owner = cluster.slots[keyHashSlot(ch)];
      return owner === null || owner === mine || owner.port === 0 ? null : `${owner.ip}:${owner.port}`;
    };
    for (const [ch, address] of this.where) {
      if (browsers(ch) && home(ch) === address) continue;
      this.where.delete(ch);
      this.links.get(address)?.post(["SUNSUBSCRIBE", bytes(ch)]);
    }
    for (const ch of local.keys()) {
      const address = this.where.has(ch) || !browsers(ch) ? null : home(ch);
      if (address !== null) this.subscribe(ch, address);
    }
  }

  tick(): void {
    if (this.where.size !== 0 || this.engine.pubsub.registries.shard.size !== 0) this.reconcile();
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    for (const l of this.links.values()) l.close();
    this.links.clear();
    this.where.clear();
  }

  private subscribe(ch: string, address: string): void {
    this.where.set(ch, address);
    this.linkTo(address).post(["SSUBSCRIBE", bytes(ch)]);
  }

  private linkTo(address: string): NodeLink {
    let l = this.links.get(address);
    if (l === undefined || !l.usable) {
      l = this.pool.subscriber(address, {
        push: (p) => this.pushed(address, p),
        stray: (v) => this.stray(address, v),
        closed: (dead) => this.lost(address, dead),
      });
      this.links.set(address, l);
    }
    return l;
  }

  private pushed(address: string, p: RespPush): void {
    const kind = p[0] instanceof Uint8Array ? str(p[0]) : String(p[0]);
    const channel = p[1];
    if (!(channel instanceof Uint8Array)) return;
    if (kind === "smessage" && p[2] instanceof Uint8Array) {
      this.engine.pubsub.spublish(channel, p[2]);
      return;
    }
    // The node stopped serving the channel's slot: subscribe where it went.
    if (kind === "sunsubscribe" && this.where.get(str(channel)) === address) {
      this.where.delete(str(channel));
      this.soon();
    }
  }

  /** A reply no request waits for: an SSUBSCRIBE refused with MOVED (this node's map lags) is made where the node says. */
  private stray(address: string, v: RespValue): void {
    if (!(v instanceof ReplyError)) return;
    const r = parseRedirect(v.message);
    for (const [ch, at] of this.where) {
      if (at !== address || (r !== null && keyHashSlot(ch) !== r.slot)) continue;
      this.where.delete(ch);
      if (r !== null && !r.ask) this.subscribe(ch, r.address);
    }
    if (r === null) this.soon();
  }

  private lost(address: string, dead: NodeLink): void {
    if (this.links.get(address) !== dead) return;
    this.links.delete(address);
    for (const [ch, at] of this.where) if (at === address) this.where.delete(ch);
    this.soon();
  }

  private soon(): void {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.reconcile();
    }, AGAIN_MS);
  }
}
