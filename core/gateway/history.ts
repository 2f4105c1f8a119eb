/**
 * Channel history for recovery, beyond what Redis offers: messages
 * published on channels matching a gateway-history rule are kept, capped
 * by count and age, each with an id `<epoch>-<seq>`. The sequence is one
 * counter for all channels, so a pattern subscription can resume too. A
 * subscriber that comes back with the id of the last message it saw gets
 * what followed, or is told that the history no longer reaches back that
 * far (a trimmed message, or an id from another server run).
 */
import { globMatch } from "../util/glob.ts";

export interface HistoryRule {
  pattern: string;
  maxMessages: number;
  maxAgeMs: number;
}

export interface HistoryEntry {
  seq: number;
  channel: string;
  message: Uint8Array;
  at: number;
}

interface ChannelHistory {
  rule: HistoryRule;
  entries: HistoryEntry[];
  /** The highest sequence number trimmed away: a resume from below it has lost messages. */
  trimmedUpTo: number;
}

/** Parses `pattern max-messages max-age-seconds [...]`; throws on a malformed value. */
export function parseHistoryRules(value: string): HistoryRule[] {
  const w = value.split(" ").filter(Boolean);
  if (w.length % 3 !== 0) throw new Error("gateway-history needs triples: <pattern> <max-messages> <max-age-seconds>");
  const rules: HistoryRule[] = [];
  for (let i = 0; i < w.length; i += 3) {
    const [maxMessages, maxAge] = [Number(w[i + 1]), Number(w[i + 2])];
    if (!Number.isSafeInteger(maxMessages) || maxMessages < 1 || !Number.isSafeInteger(maxAge) || maxAge < 1) {
      throw new Error(`gateway-history: bad limits for ${w[i]}`);
    }
    rules.push({ pattern: w[i], maxMessages, maxAgeMs: maxAge * 1000 });
  }
  return rules;
}

export interface Replay {
  /** False when messages after `since` may have been lost. */
  recovered: boolean;
  entries: HistoryEntry[];
}

export class History {
  rules: HistoryRule[] = [];
  readonly epoch = Math.floor(Math.random() * 0x1000000).toString(16).padStart(6, "0");
  /** The sequence number of the newest message recorded. */
  seq = 0;
  private readonly channels = new Map<string, ChannelHistory>();

  idOf(seq: number): string {
    return `${this.epoch}-${seq}`;
  }

  /** Records a published message if its channel keeps history; returns its sequence number, or 0. */
  record(channel: string, message: Uint8Array, now: number): number {
    let h = this.channels.get(channel);
    if (!h) {
      const rule = this.rules.find((r) => globMatch(r.pattern, channel));
      if (!rule) return 0;
      this.channels.set(channel, (h = { rule, entries: [], trimmedUpTo: 0 }));
    }
    const entry = { seq: ++this.seq, channel, message: message.slice(), at: now };
    h.entries.push(entry);
    this.trim(h, now);
    return entry.seq;
  }

  private trim(h: ChannelHistory, now: number): void {
    let drop = 0;
    while (
      drop < h.entries.length &&
      (h.entries.length - drop > h.rule.maxMessages || now - h.entries[drop].at > h.rule.maxAgeMs)
    ) drop++;
    if (drop === 0) return;
    h.trimmedUpTo = h.entries[drop - 1].seq;
    h.entries.splice(0, drop);
  }

  /** Drops expired messages everywhere (from the gateway's timer). */
  expire(now: number): void {
    for (const h of this.channels.values()) this.trim(h, now);
  }

  /**
   * What a subscriber to the channels accepted by `matches` missed after
   * the message with id `since`, up to sequence number upto, in publish order.
   */
  since(since: string, matches: (channel: string) => boolean, upto: number, now: number): Replay {
    const dash = since.lastIndexOf("-");
    const seq = Number(since.slice(dash + 1));
    if (since.slice(0, dash) !== this.epoch || !Number.isSafeInteger(seq) || seq < 0 || seq > upto) {
      return { recovered: false, entries: [] };
    }
    let recovered = true;
    const entries: HistoryEntry[] = [];
    for (const [channel, h] of this.channels) {
      if (!matches(channel)) continue;
      this.trim(h, now);
      if (h.trimmedUpTo > seq) recovered = false;
      for (const e of h.entries) if (e.seq > seq && e.seq <= upto) entries.push(e);
    }
    entries.sort((a, b) => a.seq - b.seq);
    return { recovered, entries };
  }
}

/**
 * The history ids of messages on their way to one subscriber, per
 * "c:<channel>" / "p:<pattern>", in delivery order: the gateway learns a
 * message's id when it is published and pairs it with the push when that
 * push reaches the subscriber's output.
 */
export class PendingIds {
  private readonly queues = new Map<string, number[]>();

  expect(key: string, seq: number): void {
    const q = this.queues.get(key);
    if (q) q.push(seq);
    else this.queues.set(key, [seq]);
  }

  /** The sequence number a message/pmessage push carries (its channel or pattern is name), or 0 when none is expected. */
  take(kind: string, name: string): number {
    const key = kind === "message" ? "c:" + name : kind === "pmessage" ? "p:" + name : null;
    const q = key === null ? undefined : this.queues.get(key);
    if (!q) return 0;
    const seq = q.shift()!;
    if (q.length === 0) this.queues.delete(key!);
    return seq;
  }
}

/** Which channels a SUBSCRIBE (patterns null) or PSUBSCRIBE to names covers. */
export function subscriptionMatcher(names: string[], patterns: boolean): (channel: string) => boolean {
  return patterns ? (ch) => names.some((p) => globMatch(p, ch)) : (ch) => names.includes(ch);
}

/** A missed message as the push its subscriber would have received: message, or pmessage for the first matching pattern. */
export function missedPush(e: HistoryEntry, patterns: string[] | null): Uint8Array[] {
  const bytes = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
  return patterns === null
    ? [bytes("message"), bytes(e.channel), e.message]
    : [bytes("pmessage"), bytes(patterns.find((p) => globMatch(p, e.channel))!), bytes(e.channel), e.message];
}
