/**
 * Native fan-out (Bun, uWS): a channel message to many gateway WebSockets
 * is encoded once per protocol (a RESP3 push, a json text frame) and handed
 * to the runtime's topic publish, which copies it to every subscribed socket
 * in native code, instead of going through each socket's engine output and
 * session. Sockets join a topic ("resp3:<channel>", "json:<channel>") the
 * first time a message reaches them this way, and leave it when they are
 * found unsubscribed or close. Everything else (patterns, shard channels,
 * Deno, base64 json sockets, resp3 sockets tagging ids) takes the engine's
 * path. Order with replies holds because a message only goes native when
 * every member of its topics has nothing buffered in the engine (otherwise
 * the whole message takes the engine's path), and the runtimes flush a
 * socket's pending topic messages before its next own send.
 */
import { PushFrame, type Part } from "../pubsub/frame.ts";
import { decodeAt } from "../resp/decoder.ts";
import type { Client } from "../server/client.ts";
import type { Gateway } from "./gateway.ts";
import { jsonPushFrame } from "./json.ts";
import type { Resp3Resume } from "./resume.ts";
import type { DecodedSession } from "./session.ts";
import type { LiveSocket, SocketTopics, TopicServer } from "./ws.ts";

export interface TopicMember {
  live: LiveSocket;
  topics: SocketTopics;
  encoding: "resp3" | "json";
  session: DecodedSession | null;
  resume: Resp3Resume | null;
}

interface Member extends TopicMember {
  client: Client;
  joined: Set<string>;
}

export class NativeFanOut {
  private readonly members = new Map<Client, Member>();
  /** Topic -> the members that joined it. */
  private readonly topics = new Map<string, Set<Member>>();

  constructor(private readonly gw: Gateway) {}

  add(client: Client, m: TopicMember): void {
    this.members.set(client, { ...m, client, joined: new Set() });
    this.gw.engine.pubsub.channelFanOut ??= (channel, message, clients) => this.publish(channel, message, clients);
  }

  /** A closing socket leaves its topics with the runtime; here it is forgotten. */
  remove(client: Client): void {
    const m = this.members.get(client);
    if (!m) return;
    this.members.delete(client);
    for (const topic of m.joined) this.forget(topic, m);
  }

  /** Sends message to the members among clients; returns them, or null when the engine must deliver it to everyone. */
  private publish(channel: string, message: Part, clients: Set<Client>): Set<Client> | null {
    if (this.members.size === 0) return null;
    const groups: Record<Member["encoding"], Member[]> = { resp3: [], json: [] };
    for (const c of clients) {
      const m = this.members.get(c);
      if (m === undefined) continue;
      if (!this.idle(m)) return null;
      groups[m.encoding].push(m);
    }
    if (groups.resp3.length + groups.json.length === 0) return null;
    const resp3 = new PushFrame(["message", channel, message]).bytes(3);
    const served = new Set<Client>();
    if (groups.resp3.length) this.send("resp3:" + channel, groups.resp3, clients, resp3);
    if (groups.json.length) {
      const push = decodeAt(resp3, 0)![0];
      let frame: string | null = null;
      for (const m of groups.json) {
        // Every member was told the same id at publish time: each takes its copy off its queue.
        const id = m.session!.takeId(channel);
        frame ??= jsonPushFrame(push, false, id);
      }
      this.send("json:" + channel, groups.json, clients, frame!);
    }
    for (const group of [groups.resp3, groups.json]) {
      for (const m of group) {
        served.add(m.client);
        this.gw.engine.pubsub.sent(m.client, resp3.length);
        m.live.checkQueue();
      }
    }
    return served;
  }

  /** Nothing of the member's is waiting in the engine, so a push sent now is where the engine would put it. */
  private idle(m: Member): boolean {
    const c = m.client;
    return c.current === null && c.out.pos === 0 && c.resp === 3 && !m.live.closing &&
      (m.session?.idle() ?? true) && !(m.resume?.tagging ?? false);
  }

  private send(topic: string, group: Member[], subscribed: Set<Client>, data: string | Uint8Array): void {
    let joined = this.topics.get(topic);
    if (!joined) this.topics.set(topic, (joined = new Set()));
    for (const m of group) {
      if (joined.has(m)) continue;
      m.topics.subscribe(topic);
      m.joined.add(topic);
      joined.add(m);
    }
    // Members that unsubscribed since the last message leave now, before it goes out.
    if (joined.size !== group.length) {
      for (const m of joined) {
        if (subscribed.has(m.client)) continue;
        m.topics.unsubscribe(topic);
        this.forget(topic, m);
      }
    }
    const servers = new Set<TopicServer>();
    for (const m of group) servers.add(m.topics.server);
    for (const server of servers) server.publish(topic, data);
  }

  private forget(topic: string, m: Member): void {
    m.joined.delete(topic);
    const joined = this.topics.get(topic);
    joined?.delete(m);
    if (joined?.size === 0) this.topics.delete(topic);
  }
}
