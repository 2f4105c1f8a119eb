/**
 * Recovery over the gateway's `resp3` WebSocket, where the command is RESP
 * and there is no JSON field to carry `since`: SUBSCRIBE and PSUBSCRIBE take
 * a trailing `SINCE <id>` pair. The rule, so that any channel name stays
 * usable: when a SUBSCRIBE/PSUBSCRIBE has at least one name before its
 * next-to-last argument and that argument is SINCE (any case), the last two
 * arguments are the option, and it is stripped exactly once. So
 * `SUBSCRIBE SINCE x` subscribes to "SINCE" and "x", `SUBSCRIBE a SINCE x`
 * resumes "a" after id x, and `SUBSCRIBE a SINCE x SINCE ""` subscribes to
 * "a", "SINCE" and "x" (an empty id means nothing seen yet).
 *
 * After the subscription's confirmations the socket gets a push
 * `["recovery", <position>, <recovered>]` (recovered: #t, #f when the history
 * no longer reaches back to the id, or null for an empty id), then the
 * missed messages as ordinary message/pmessage pushes. From its first SINCE
 * on, every message push on a channel with history is preceded by a RESP3
 * attribute `|1 id <history id>`, so the browser always knows where to
 * resume; a resp3 socket that never uses SINCE gets exactly Redis's bytes.
 */
import type { Command } from "../commands/table.ts";
import { PushFrame } from "../pubsub/frame.ts";
import { decodeAt, RespPush } from "../resp/decoder.ts";
import type { Client } from "../server/client.ts";
import { concat, is, str } from "../util/bytes.ts";
import type { Gateway } from "./gateway.ts";
import { missedPush, PendingIds, subscriptionMatcher } from "./history.ts";

const ATTRIBUTE = 124; // |
const latin1 = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

/** The attribute that precedes a message push with its history id. */
function idAttribute(id: string): Uint8Array {
  return latin1(`|1\r\n$2\r\nid\r\n$${id.length}\r\n${id}\r\n`);
}

function recoveryPush(position: string, recovered: boolean | null): Uint8Array {
  const flag = recovered === null ? "_" : recovered ? "#t" : "#f";
  return latin1(`>3\r\n$8\r\nrecovery\r\n$${position.length}\r\n${position}\r\n${flag}\r\n`);
}

/** The end of the attribute at pos together with the value it decorates; -1 when incomplete. */
function attributedEnd(buf: Uint8Array, pos: number): number {
  const eol = buf.indexOf(10, pos);
  if (eol < 0) return -1;
  let p = eol + 1;
  for (let items = Number(str(buf.subarray(pos + 1, eol - 1))) * 2 + 1; items > 0; items--) {
    const r = decodeAt(buf, p);
    if (r === null) return -1;
    p = r[1];
  }
  return p;
}

export class Resp3Resume {
  private readonly ids = new PendingIds();
  /** Whether message pushes carry id attributes (from the first SINCE on). */
  tagging = false;
  /** Output bytes written before the first SINCE: they pass untouched, their messages' ids were never noted. */
  private passThrough = 0;
  private input = new Uint8Array(0);
  private pending: { argv: Uint8Array[]; since: string } | null = null;

  constructor(private readonly gw: Gateway, private readonly c: Client, private readonly send: (bytes: Uint8Array) => void) {}

  /** Run where the access check runs: strips a SINCE option (refusing it where it cannot work). */
  option(cmd: Command, argv: Uint8Array[]): string | null {
    if ((cmd.name !== "subscribe" && cmd.name !== "psubscribe") || argv.length < 4 || !is(argv[argv.length - 2], "since")) return null;
    if (this.c.multi !== null) return "ERR SINCE is not allowed inside MULTI";
    if (this.c.resp !== 3) return "ERR SINCE needs RESP3";
    if (this.c.replyMode !== "on" || this.c.skipNext) return "ERR SINCE needs CLIENT REPLY ON";
    const since = str(argv.pop()!);
    argv.pop();
    this.pending = { argv, since };
    return null;
  }

  /** After a command ran: the subscription a SINCE asked for is confirmed, so the recovery push and the replay follow. */
  afterCall(cmd: Command, argv: Uint8Array[]): void {
    if (this.pending?.argv !== argv) return;
    const { since } = this.pending;
    this.pending = null;
    const history = this.gw.history;
    const upto = history.seq;
    const out = this.c.out;
    if (!this.tagging) {
      this.tagging = true;
      this.passThrough = out.pos;
      this.gw.sessions.set(this.c, this);
    }
    const names = argv.slice(1).map(str);
    const patterns = cmd.name === "psubscribe" ? names : null;
    const missed = since === "" ? null : history.since(since, subscriptionMatcher(names, patterns !== null), upto, this.gw.engine.now);
    out.raw(recoveryPush(history.idOf(upto), missed?.recovered ?? null));
    for (const e of missed?.entries ?? []) {
      out.raw(idAttribute(history.idOf(e.seq)));
      out.raw(new PushFrame(missedPush(e, patterns)).bytes(3));
    }
  }

  /** The gateway saw a message published for this client: its id is written before the push when that arrives. */
  expectId(key: string, seq: number): void {
    this.ids.expect(key, seq);
  }

  detach(): void {
    this.gw.sessions.delete(this.c);
  }

  /** The client's output on its way to the socket: message pushes get their id attribute once tagging is on. */
  write(bytes: Uint8Array): void {
    if (!this.tagging) return this.send(bytes);
    const chunks: Uint8Array[] = [];
    if (this.passThrough > 0) {
      const n = Math.min(this.passThrough, bytes.length);
      this.passThrough -= n;
      chunks.push(bytes.subarray(0, n));
      bytes = bytes.subarray(n);
    }
    let buf = bytes;
    if (this.input.length) buf = concat([this.input, bytes]);
    let pos = 0;
    while (pos < buf.length) {
      let end: number;
      if (buf[pos] === ATTRIBUTE) end = attributedEnd(buf, pos);
      else {
        const r = decodeAt(buf, pos);
        end = r?.[1] ?? -1;
        const push = r?.[0];
        const seq = push instanceof RespPush && push[1] instanceof Uint8Array ? this.ids.take(str(push[0] as Uint8Array), str(push[1])) : 0;
        if (seq !== 0) chunks.push(idAttribute(this.gw.history.idOf(seq)));
      }
      if (end < 0) break;
      chunks.push(buf.subarray(pos, end));
      pos = end;
    }
    this.input = buf.slice(pos);
    if (chunks.length) this.send(chunks.length === 1 ? chunks[0] : concat(chunks));
  }
}
