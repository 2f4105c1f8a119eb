/**
 * Browsers see one database in a cluster: a gateway client's command that
 * this node would answer with MOVED or ASK is forwarded instead, over the
 * gateway's links to the other nodes (cluster-link.ts), and the other
 * node's reply bytes are handed to the browser as if this node had run it.
 * The engine's own redirect check decides (Redis's getNodeByQuery, with
 * its CROSSSLOT, migration and transaction rules), then offers the
 * redirect to the client's `forward` hook. The client reads on while the
 * reply is on its way, which takes its place in the client's output
 * (cluster-order.ts); a blocking command holds the client (postponed), as
 * in Redis.
 *
 * The reply itself may redirect again (this node's slot map lags behind a
 * move): MOVED is followed and remembered for that slot until this node's
 * own map changes, ASK is followed with ASKING, TRYAGAIN and "CLUSTERDOWN
 * The cluster is down" are retried after a pause (this node's own
 * CLUSTERDOWN holds the command and runs it through the engine again), and
 * a node that cannot be reached is replaced by the slot's node in this
 * node's map, until the cluster has settled (a failover), within a bound.
 * A write whose link broke after it was sent is not sent again (it may have
 * run): its error says so. A transaction whose commands are all in one
 * other node's slot is queued here and sent there at EXEC as MULTI ... EXEC
 * in one write; WATCH of that node's keys opens a link of the client's own
 * there, which the transaction then takes. Keyless commands about the whole
 * database (DBSIZE, KEYS, SCAN) and WAIT after a forwarded write are
 * cluster-wide.ts's.
 */
import type { Client } from "../server/client.ts";
import type { Command } from "../commands/table.ts";
import type { Engine } from "../server/engine.ts";
import { endTransaction } from "../commands/transactions.ts";
import { ReplyError, type RespValue } from "../resp/decoder.ts";
import { ownedArgs, str } from "../util/bytes.ts";
import { LinkPool, type NodeLink, parseRedirect, type Redirect } from "./cluster-link.ts";
import { ShardRelay } from "./cluster-shard.ts";
import { OutputOrder, type Place } from "./cluster-order.ts";
import { firstError, nodeAddress, type WidePlan, widePlan } from "./cluster-wide.ts";

/** Pause before asking again after TRYAGAIN, CLUSTERDOWN or a node that cannot be reached (ms). */
const RETRY_MS = 100;
/** Redirects followed back to back before pausing between them (a slot map still settling). */
const EAGER_HOPS = 4;

/** A forwarded command on its way: kept across redirects and retries. */
interface Attempt {
  /** The arguments, owned (a held command's are also the client's postponed command, run again through the engine). */
  argv: Uint8Array[];
  /** What is sent: the command, or MULTI ... EXEC for a transaction. */
  commands: Uint8Array[][];
  exec: boolean;
  blocking: boolean;
  /** The slot, to find its node again after a lost link or TRYAGAIN / CLUSTERDOWN from there. */
  slot: number;
  /** The client had replies off (CLIENT REPLY OFF / SKIP): the reply is dropped. */
  silent: boolean;
  /** When the first try was made, for the bound on following a cluster that has not settled. */
  started: number;
  hops: number;
  /** The address this node's own MOVED named (null after an ASK). */
  mapped: string | null;
  /** Where the reply goes in the browser's output; null when the client waits (postponed) and the reply goes to its buffer. */
  place: Place | null;
  /** The link of its own a blocking command waits on (or a transaction's WATCH link), closed once answered. */
  own: NodeLink | null;
  /** The client's WATCH link (see watchSession), when the command must go there. */
  via: NodeLink | null;
  /** The node whose link failed last, not asked again until `until`, and the error the command gets if that is all. */
  failed: { address: string; until: number; error: string } | null;
}

const WORD = (s: string) => new TextEncoder().encode(s);
const MULTI = [WORD("MULTI")];
const EXEC = [WORD("EXEC")];
const ASKING = [WORD("ASKING")];

export class ClusterForwarder {
  readonly pool: LinkPool;
  readonly shard: ShardRelay;
  /** Where other nodes said a slot is while this node's map still says otherwise: slot -> [address the map gave, the node's]. */
  private readonly learned = new Map<number, [string, string]>();
  /** Each gateway client's output (cluster-order.ts). */
  private readonly orders = new WeakMap<Client, OutputOrder>();
  /** A command waiting for the cluster to settle, run again through the engine: known by its arguments. */
  private readonly held = new Map<Client, Attempt>();
  /** Blocking commands waiting on links of their own, closed if their client leaves. */
  private readonly blocked = new Map<Client, Attempt>();
  /** Where each client's last forwarded write ran, and its c.woff then: WAIT goes there while no write here came after. */
  private readonly lastWrite = new WeakMap<Client, { address: string; woff: number }>();
  /** Clients watching keys another node serves: the link their WATCH went on, where their EXEC goes. */
  private readonly watching = new Map<Client, { address: string; link: NodeLink }>();

  constructor(private readonly engine: Engine) {
    this.pool = new LinkPool(engine.dialer!, () => engine.config.get("requirepass"));
    this.shard = new ShardRelay(engine, this.pool);
  }

  /** The output a gateway client's connection writes through: write (the transport's) once the replies ahead are in. */
  order(write: (bytes: Uint8Array) => void): OutputOrder {
    return new OutputOrder(write);
  }

  /** Makes a gateway client forward what other nodes serve; order is the one its connection writes through. */
  attach(c: Client, order: OutputOrder): void {
    this.orders.set(c, order);
    c.forward = (cmd, argv, redirect) => this.offer(c, cmd, argv, redirect);
  }

  /** The client hook: see Client.forward. */
  private offer(c: Client, cmd: Command, argv: Uint8Array[], text: string | null): "handled" | "local" | null {
    if (text === null) return this.keyless(c, cmd, argv);
    const redirect = parseRedirect(text);
    if (redirect === null) return c.multi === null && settling(text) ? this.hold(c, cmd, argv) : null;
    if (cmd.name === "ssubscribe" || cmd.name === "sunsubscribe") {
      if (c.multi !== null) return null;
      // Subscribed here; the relay subscribes this node to the channel where it lives.
      if (cmd.name === "ssubscribe" && !redirect.ask) this.shard.want(argv.slice(1).map(str), redirect.address);
      return "local";
    }
    if (c.multi !== null && cmd.name !== "exec") return "local";
    if (cmd.name === "exec" && c.multiError) {
      endTransaction(c);
      this.unwatch(c);
      this.engine.replyError(c, "EXECABORT Transaction discarded because of previous errors.");
      return "handled";
    }
    const address = redirect.ask ? redirect.address : this.current(redirect);
    const session = this.watching.get(c);
    if (cmd.name === "watch" && session !== undefined && session.address !== address) {
      this.engine.replyError(c, "ERR WATCH of keys on two nodes is not supported through the gateway");
      return "handled";
    }
    const a = this.attemptFor(c, cmd, argv);
    this.held.delete(c);
    a.slot = redirect.slot;
    a.mapped = redirect.ask ? null : redirect.address;
    if (cmd.name === "watch") a.via = session?.link ?? this.watchSession(c, address);
    else if (a.exec && session !== undefined) {
      // The transaction goes where its keys are watched, and that link ends with it (EXEC unwatches).
      this.watching.delete(c);
      a.via = a.own = session.link;
    }
    if (a.exec) endTransaction(c); // the queue is in a.commands; the client is out of MULTI here
    return this.launch(c, a, () => this.send(c, a, address, redirect.ask));
  }

  /** A link of c's own to address, where its WATCH and then its transaction go (a WATCH lives in one connection). */
  private watchSession(c: Client, address: string): NodeLink {
    const link = this.pool.own(address, c.resp);
    this.watching.set(c, { address, link });
    return link;
  }

  /** UNWATCH, DISCARD, RESET or the client's end: its keys watched elsewhere are let go with the link. */
  private unwatch(c: Client): void {
    this.watching.get(c)?.link.close();
    this.watching.delete(c);
  }

  /**
   * Sends a command on its way (go). A blocking command holds the client as
   * in Redis; so does a turn whose replies wait for the AOF (they must not be
   * overtaken), and a reply mode other than ON. Otherwise the client reads
   * on and the reply takes its place in the output.
   */
  private launch(c: Client, a: Attempt, go: () => void): "handled" {
    // CLIENT REPLY OFF / SKIP: the reply is not sent (the engine cut this command's output already).
    a.silent = c.replyMode !== "on" || c.skipNext;
    if (a.blocking || this.engine.repliesWait || a.silent) {
      c.postponed = a.argv;
      if (a.blocking) this.blocked.set(c, a);
    } else {
      this.engine.sendNow(c); // the replies before this one go out first
      a.place = this.orders.get(c)!.reserve();
    }
    go();
    return "handled";
  }

  /** A keyless command: DBSIZE, KEYS and SCAN over every primary, WAIT where the client's last write went (cluster-wide.ts); else null. */
  private keyless(c: Client, cmd: Command, argv: Uint8Array[]): "handled" | null {
    if (cmd.name === "unwatch" || cmd.name === "discard" || cmd.name === "reset") this.unwatch(c);
    if (c.multi !== null) return null;
    if (cmd.name === "wait") {
      const last = this.lastWrite.get(c);
      // Only while that write is the client's latest (a write here since moved c.woff).
      if (last === undefined || last.woff !== c.woff) return null;
      const a = this.attemptFor(c, cmd, argv);
      a.blocking = true;
      return this.launch(c, a, () => this.send(c, a, last.address, false));
    }
    const plan = widePlan(this.engine, cmd.name, argv);
    if (plan === null) return null;
    const a = this.attemptFor(c, cmd, argv);
    return this.launch(c, a, () => this.gather(c, a, plan));
  }

  /** Sends a plan's commands to its nodes; their replies, combined, answer a. */
  private gather(c: Client, a: Attempt, plan: WidePlan): void {
    const values: RespValue[] = new Array(plan.addresses.length);
    let left = plan.addresses.length;
    let done = false;
    plan.addresses.forEach((address, i) => {
      this.pool.link(address, c.resp).send([plan.commands[i]], (value) => {
        values[i] = value;
        if (--left !== 0 || done) return;
        done = true;
        const error = firstError(values);
        this.finish(c, a, error === null ? plan.combine(values, c.resp) : null, error?.message);
      }, (reason) => {
        if (done) return;
        done = true;
        this.finish(c, a, null, `ERR the gateway's connection to ${address} failed: ${reason}`);
      });
    });
  }

  /** The attempt for c's command: the held one when the engine runs that command again, else a new one. */
  private attemptFor(c: Client, cmd: Command, argv: Uint8Array[]): Attempt {
    const known = this.held.get(c);
    if (known !== undefined && known.argv === argv) return known;
    const owned = ownedArgs(argv);
    const exec = cmd.name === "exec";
    return {
      argv: owned,
      commands: exec ? [MULTI, ...c.multi!.map((q) => q.argv), EXEC] : [owned],
      exec,
      blocking: !exec && cmd.flags.has("blocking"),
      slot: -1,
      silent: false,
      started: this.engine.clock.now(),
      hops: 0,
      mapped: null,
      place: null,
      own: null,
      via: null,
      failed: null,
    };
  }

  /**
   * The cluster is down here or a multi-key command meets a migration: the
   * command waits and goes through the redirect check again in a moment, as
   * long as the cluster may be settling (a failover); then the error is sent.
   */
  private hold(c: Client, cmd: Command, argv: Uint8Array[]): "handled" | null {
    const a = this.attemptFor(c, cmd, argv);
    if (!this.withinBound(a)) {
      this.held.delete(c);
      return null;
    }
    this.held.set(c, a);
    c.postponed = a.argv;
    setTimeout(() => this.held.get(c) === a && !c.closed && this.engine.resumePostponed(c), RETRY_MS);
    return "handled";
  }

  /** Where a MOVED from this node's map really points: what another node said, while the map has not changed since. */
  private current(r: Redirect): string {
    const known = this.learned.get(r.slot);
    if (known === undefined) return r.address;
    if (known[0] === r.address) return known[1];
    this.learned.delete(r.slot);
    return r.address;
  }

  private send(c: Client, a: Attempt, address: string, asking: boolean): void {
    let link: NodeLink;
    if (a.via !== null) link = a.via;
    else if (a.blocking) {
      a.own?.close();
      link = a.own = this.pool.own(address, c.resp);
    } else link = this.pool.link(address, c.resp);
    const commands = asking ? [ASKING, ...a.commands] : a.commands;
    link.send(
      commands,
      (value, raw, skipped) => this.answered(c, a, address, value, raw, skipped),
      (reason, written) => this.failed(c, a, address, reason, written),
    );
  }

  private answered(c: Client, a: Attempt, address: string, value: RespValue, raw: Uint8Array, skipped: RespValue[]): void {
    if (c.closed) return this.drop(c, a);
    const error = redirectIn(value, skipped);
    // What went through a WATCH link is answered as it is: sent elsewhere, it would lose the WATCH.
    if (error !== null && a.via === null && this.withinBound(a)) {
      a.hops++;
      const r = parseRedirect(error);
      if (r === null) return this.later(c, a, () => this.reroute(c, a)); // TRYAGAIN, CLUSTERDOWN
      // Remembered against the address this node's map gave, until the map says something else.
      if (!r.ask && a.mapped !== null) this.learned.set(r.slot, [a.mapped, r.address]);
      const go = () => this.send(c, a, r.address, r.ask);
      return a.hops <= EAGER_HOPS ? go() : this.later(c, a, go);
    }
    if (error === null && !this.readOnly(a)) this.lastWrite.set(c, { address, woff: c.woff });
    this.finish(c, a, raw);
  }

  private failed(c: Client, a: Attempt, address: string, reason: string, written: boolean): void {
    if (c.closed) return this.drop(c, a);
    // A write that reached the node may have run: not sent twice.
    const what = written ? "lost before the reply (the command may have run)" : "could not be made";
    const error = `ERR the gateway's connection to ${address} ${what}: ${reason}`;
    if ((!written || this.readOnly(a)) && a.slot >= 0 && a.via === null && this.withinBound(a)) {
      a.hops++;
      // That node is not asked again for a node timeout, while the cluster fails it over.
      a.failed = { address, until: this.engine.clock.now() + this.engine.config.num("cluster-node-timeout"), error };
      return this.later(c, a, () => this.reroute(c, a));
    }
    this.finish(c, a, null, error);
  }

  /**
   * Sends the command where this node's map now puts its slot (after a
   * failover, maybe here: then over a link to this node's own port); while
   * that is still the node that just failed, it waits for the map to change.
   */
  private reroute(c: Client, a: Attempt): void {
    const owner = this.engine.cluster!.slots[a.slot];
    if (owner === null) return this.finish(c, a, null, "CLUSTERDOWN Hash slot not served");
    const address = nodeAddress(this.engine, owner);
    const failed = a.failed;
    if (failed !== null && failed.address === address && this.engine.clock.now() < failed.until) {
      return this.withinBound(a) ? this.later(c, a, () => this.reroute(c, a)) : this.finish(c, a, null, failed.error);
    }
    this.send(c, a, address, false);
  }

  private later(c: Client, a: Attempt, fn: () => void): void {
    setTimeout(() => (c.closed ? this.drop(c, a) : fn()), RETRY_MS);
  }

  /**
   * Redirects are followed while the cluster may still be settling: failure
   * detection takes the node timeout, an election up to a few seconds more.
   */
  private withinBound(a: Attempt): boolean {
    return this.engine.clock.now() - a.started < this.followMs();
  }

  private followMs(): number {
    return 2 * this.engine.config.num("cluster-node-timeout") + 5000;
  }

  private readOnly(a: Attempt): boolean {
    if (a.exec) return false;
    const cmd = this.engine.commands.find(a.argv[0]);
    return cmd !== undefined && cmd.flags.has("readonly");
  }

  /** The reply goes to the browser: into its place, or into the waiting client's buffer, which then reads on. */
  private finish(c: Client, a: Attempt, raw: Uint8Array | null, error?: string): void {
    this.drop(c, a);
    if (a.place !== null) return this.orders.get(c)!.fill(a.place, raw ?? WORD(`-${error}\r\n`));
    c.postponed = null;
    // A silenced reply is dropped, as the engine drops it.
    if (!a.silent && raw !== null) c.out.raw(raw);
    else if (!a.silent) this.engine.replyError(c, error!);
    this.engine.processInput(c);
  }

  private drop(c: Client, a: Attempt): void {
    a.own?.close();
    a.own = null;
    if (this.blocked.get(c) === a) this.blocked.delete(c);
  }

  /**
   * Once a second (the gateway's tick): gives up on links to a node that
   * has not answered for twice the node timeout (by then the cluster has
   * failed it over, if it can; reads waiting there go to the new node),
   * closes the links of blocking commands and WATCHes whose browser left,
   * drops unused shard subscriptions.
   */
  tick(): void {
    this.pool.expire(2 * this.engine.config.num("cluster-node-timeout"));
    for (const [c, a] of this.blocked) if (c.closed) this.drop(c, a);
    for (const c of this.held.keys()) if (c.closed) this.held.delete(c);
    for (const c of this.watching.keys()) if (c.closed) this.unwatch(c);
    this.shard.tick();
  }

  close(): void {
    this.held.clear();
    this.blocked.clear();
    this.watching.clear();
    this.pool.closeAll();
    this.shard.close();
  }
}

/** Errors that say the cluster is settling (a failover, a migration): worth asking again rather than passing on. */
function settling(text: string): boolean {
  return text.startsWith("TRYAGAIN") || text.startsWith("CLUSTERDOWN The cluster is down");
}

/** The error in a reply (or among a transaction's earlier replies) that sends the command elsewhere or asks for a retry. */
function redirectIn(value: RespValue, skipped: RespValue[]): string | null {
  for (const v of [...skipped, value]) {
    if (!(v instanceof ReplyError)) continue;
    const m = v.message;
    if (m.startsWith("MOVED ") || m.startsWith("ASK ") || settling(m)) return m;
  }
  return null;
}
