/**
 * The pub/sub hub: who is subscribed to which channel, pattern and shard
 * channel, and the fan-out of published messages. A message is encoded
 * once per protocol. Small ones are copied into each subscriber's reply
 * buffer and the subscribers written to are flushed once, after the
 * publisher's whole input batch (as Redis writes before its next poll): a
 * socket write per delivery cost more than 80% of a PUBLISH to one
 * subscriber. Big ones go straight to the socket of a subscriber with
 * nothing buffered, the same bytes for everyone. Anything for a client
 * whose replies are being built (the one running the command) joins its
 * reply buffer, so it keeps its place after earlier replies.
 */
import type { Client } from "../server/client.ts";
import type { Engine } from "../server/engine.ts";
import { str } from "../util/bytes.ts";
import { globMatch } from "../util/glob.ts";
import { type Part, PushFrame } from "./frame.ts";
import { keyeventChannel, KeyspaceEvents, keyspaceChannel } from "./notify.ts";
import { keyHashSlot } from "../cluster/slot.ts";

export type SubscriptionKind = "channels" | "patterns" | "shard";

/** A push at least this big is written to an idle subscriber's socket as it is rather than copied into its buffer. */
const DIRECT_WRITE_BYTES = 16 * 1024;

/** A client's subscriptions; Client.pubsub holds one while the client is in pub/sub mode (flag P). */
export class Subscriptions {
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  readonly shard = new Set<string>();

  get total(): number {
    return this.channels.size + this.patterns.size + this.shard.size;
  }

  /** The count subscribe/unsubscribe replies carry: shard channels are counted apart. */
  countFor(kind: SubscriptionKind): number {
    return kind === "shard" ? this.shard.size : this.channels.size + this.patterns.size;
  }
}

export class PubSubHub {
  /** Name -> subscribers, one map per kind; a name is dropped with its last subscriber. */
  readonly registries: Record<SubscriptionKind, Map<string, Set<Client>>> = {
    channels: new Map(),
    patterns: new Map(),
    shard: new Map(),
  };
  readonly events = new KeyspaceEvents();
  /** Told of every message before it is delivered (the gateway's history and message ids). */
  onPublish: ((channel: string, message: Part) => void) | null = null;
  /**
   * Set by the gateway: sends a channel message to the subscribers it can
   * reach with one native publish and returns them (skipped here), or null.
   */
  channelFanOut: ((channel: string, message: Part, clients: Set<Client>) => Set<Client> | null) | null = null;
  /** Pushes for the running client while its replies are off: Redis sends pushes anyway, after the cut. */
  private held: Uint8Array[] = [];
  /** Subscribers with deliveries in their reply buffer, flushed when the current task ends. */
  private unflushed = new Set<Client>();
  /** The shard channels with subscribers, by cluster slot: what a slot leaving this node's shard drops. */
  private readonly shardBySlot = new Map<number, Set<string>>();

  constructor(private readonly engine: Engine) {
    engine.config.watch("notify-keyspace-events", (v) => this.events.configure(v));
  }

  /** Adds one subscription (a repeat is harmless); returns the count the reply carries. */
  subscribe(c: Client, kind: SubscriptionKind, name: string): number {
    const subs = (c.pubsub ??= new Subscriptions());
    const mine = subs[kind];
    if (!mine.has(name)) {
      mine.add(name);
      const registry = this.registries[kind];
      let clients = registry.get(name);
      if (!clients) {
        registry.set(name, (clients = new Set()));
        if (kind === "shard") this.indexShard(name, true);
      }
      clients.add(c);
    }
    return subs.countFor(kind);
  }

  /** Removes one subscription if present; returns the count the reply carries. */
  unsubscribe(c: Client, kind: SubscriptionKind, name: string): number {
    const subs = c.pubsub;
    if (subs === null) return 0;
    if (subs[kind].delete(name)) {
      const registry = this.registries[kind];
      const clients = registry.get(name)!;
      clients.delete(c);
      if (clients.size === 0) {
        registry.delete(name);
        if (kind === "shard") this.indexShard(name, false);
      }
    }
    return subs.countFor(kind);
  }

  private indexShard(name: string, add: boolean): void {
    const slot = keyHashSlot(name);
    let names = this.shardBySlot.get(slot);
    if (add) {
      if (names === undefined) this.shardBySlot.set(slot, (names = new Set()));
      names.add(name);
    } else if (names !== undefined) {
      names.delete(name);
      if (names.size === 0) this.shardBySlot.delete(slot);
    }
  }

  /**
   * Redis's removeChannelsInSlot, for a slot this node's shard stops
   * serving: every subscriber of the slot's shard channels (channels in
   * byte order, subscribers in the order they came) is unsubscribed and told
   * with a sunsubscribe push, leaving pub/sub mode when nothing is left.
   * Gateway clients keep theirs: the gateway relays them to wherever the
   * slot went (core/gateway/cluster-shard.ts).
   */
  removeShardChannelsInSlot(slot: number): void {
    const names = this.shardBySlot.get(slot);
    if (names === undefined) return;
    for (const name of [...names].sort()) {
      for (const c of [...this.registries.shard.get(name)!]) {
        if (c.forward !== null) continue;
        this.deliver(c, new PushFrame(["sunsubscribe", name, this.unsubscribe(c, "shard", name)]));
        this.settle(c);
      }
    }
  }

  /** After an unsubscribe command: a client with nothing left leaves pub/sub mode. */
  settle(c: Client): void {
    if (c.pubsub !== null && c.pubsub.total === 0) c.pubsub = null;
  }

  /** Drops every subscription silently (RESET, disconnection). */
  unsubscribeAll(c: Client): void {
    const subs = c.pubsub;
    if (subs === null) return;
    for (const kind of ["channels", "patterns", "shard"] as const) {
      for (const name of [...subs[kind]]) this.unsubscribe(c, kind, name);
    }
    c.pubsub = null;
  }

  /** PUBLISH: channel subscribers, then every matching pattern's; returns how many deliveries were made. */
  publish(channel: Part, message: Part): number {
    const name = typeof channel === "string" ? channel : str(channel);
    this.onPublish?.(name, message);
    let receivers = 0;
    const direct = this.registries.channels.get(name);
    if (direct) {
      receivers += direct.size;
      const served = this.channelFanOut?.(name, message, direct) ?? null;
      this.fanOut(direct, new PushFrame(["message", channel, message]), served);
    }
    if (this.registries.patterns.size !== 0) {
      for (const [pattern, clients] of this.registries.patterns) {
        if (globMatch(pattern, name)) receivers += this.fanOut(clients, new PushFrame(["pmessage", pattern, channel, message]));
      }
    }
    return receivers;
  }

  /** SPUBLISH: shard channel subscribers only. */
  spublish(channel: Uint8Array, message: Uint8Array): number {
    const clients = this.registries.shard.get(str(channel));
    return clients ? this.fanOut(clients, new PushFrame(["smessage", channel, message])) : 0;
  }

  /** A keyspace event of class cls (a notify-keyspace-events letter) on key in db. */
  notify(db: number, event: string, key: string, cls: string): void {
    if (!this.events.wants(cls)) return;
    if (this.registries.channels.size === 0 && this.registries.patterns.size === 0) return;
    if (this.events.keyspace) this.publish(keyspaceChannel(db, key), event);
    if (this.events.keyevent) this.publish(keyeventChannel(db, event), key);
  }

  /**
   * Called after a push for the running client c was written from outStart:
   * when c's replies are switched off (CLIENT REPLY OFF/SKIP), the push is
   * set aside, to be put back once the engine has cut the command's reply.
   */
  holdIfSilenced(c: Client, outStart: number): void {
    if (c.replyMode !== "off" && !c.skipNext) return;
    this.held.push(c.out.buf.slice(outStart, c.out.pos));
    c.out.pos = outStart;
  }

  releaseHeldPushes(c: Client): void {
    for (const bytes of this.held) c.out.raw(bytes);
    this.held = [];
  }

  /** Counts the receivers first: a subscriber closed for its output limit midway still counts, as in Redis. */
  private fanOut(clients: Set<Client>, frame: PushFrame, served: Set<Client> | null = null): number {
    const n = clients.size;
    if (served?.size === n) return n;
    for (const s of clients) if (served === null || !served.has(s)) this.deliver(s, frame);
    return n;
  }

  private deliver(s: Client, frame: PushFrame): void {
    const bytes = frame.bytes(s.resp);
    if (s.current !== null) {
      const start = s.out.pos;
      s.out.raw(bytes);
      return this.holdIfSilenced(s, start);
    }
    if (s.out.pos === 0 && bytes.length >= DIRECT_WRITE_BYTES && !this.engine.repliesWait) {
      s.conn.write(bytes);
      return this.sent(s, bytes.length);
    }
    s.out.raw(bytes);
    if (this.unflushed.size === 0) queueMicrotask(() => this.flushDeliveries());
    this.unflushed.add(s);
    this.engine.clientMemory.afterOutput(s);
  }

  private flushDeliveries(): void {
    for (const s of this.unflushed) this.engine.flush(s);
    this.unflushed.clear();
  }

  /** Accounts for a push of n bytes that went straight to s's socket, closing s if its output passed its limit. */
  sent(s: Client, n: number): void {
    this.engine.stats.netOutput += n;
    s.netOut += n;
    this.engine.clientMemory.afterOutput(s);
  }
}
