/**
 * Pub/sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH,
 * their shard forms SSUBSCRIBE SUNSUBSCRIBE SPUBLISH, and PUBSUB. Each
 * (un)subscription is confirmed by its own ["subscribe", name, count]
 * reply: an array in RESP2, a push in RESP3.
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";
import { globMatch } from "../util/glob.ts";
import { replyHelp, subcommandSyntaxError } from "./help.ts";
import type { SubscriptionKind } from "../pubsub/hub.ts";

/** Commands a RESP2 client in pub/sub mode may still run. */
export const SUBSCRIBED_CONTEXT_COMMANDS = new Set([
  "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "ping", "quit", "reset",
]);

/** Redis's refusal of other commands in that context (EXEC's is turned into EXECABORT by the caller). */
export function subscribedContextError(fullName: string): string {
  return `ERR Can't execute '${fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
}

function confirm(c: Client, verb: string, name: string | null, count: number): void {
  const start = c.out.pos;
  c.out.push(3);
  c.out.bulkStr(verb);
  if (name === null) c.out.nullBulk();
  else c.out.bulkStr(name);
  c.out.int(count);
  c.engine.pubsub.holdIfSilenced(c, start);
}

function subscriber(kind: SubscriptionKind, verb: string): Handler {
  return (c, argv) => {
    if (kind === "shard" && c.inExec) return c.error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    for (let i = 1; i < argv.length; i++) {
      const name = str(argv[i]);
      confirm(c, verb, name, c.engine.pubsub.subscribe(c, kind, name));
    }
  };
}

/** With no names, drops every subscription of the kind, or confirms with a null name when there is none. */
function unsubscriber(kind: SubscriptionKind, verb: string): Handler {
  return (c, argv) => {
    const hub = c.engine.pubsub;
    const names = argv.length > 1 ? argv.slice(1).map(str) : [...(c.pubsub?.[kind] ?? [])];
    if (names.length === 0) confirm(c, verb, null, c.pubsub?.countFor(kind) ?? 0);
    for (const name of names) confirm(c, verb, name, hub.unsubscribe(c, kind, name));
    hub.settle(c);
  };
}

function replyNames(c: Client, kind: SubscriptionKind, argv: Uint8Array[]): void {
  if (argv.length > 3) return subcommandSyntaxError(c, "pubsub", str(argv[1]));
  const pattern = argv.length === 3 ? str(argv[2]) : null;
  const names = [...c.engine.pubsub.registries[kind].keys()].filter((n) => pattern === null || globMatch(pattern, n));
  c.out.array(names.length);
  for (const name of names) c.out.bulkStr(name);
}

function replyCounts(c: Client, kind: SubscriptionKind, argv: Uint8Array[]): void {
  const registry = c.engine.pubsub.registries[kind];
  c.out.array((argv.length - 2) * 2);
  for (let i = 2; i < argv.length; i++) {
    c.out.bulk(argv[i]);
    c.out.int(registry.get(str(argv[i]))?.size ?? 0);
  }
}

const HELP_LINES = [
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
];

const SUBSCRIBE_FLAGS = "pubsub noscript loading stale";
const SHARD_KEYS = { keys: [1, -1, 1] as [number, number, number], keySpec: "not_key" };

function pubsubSub(name: string, arity: number, since: string, summary: string, complexity: string, run: Handler): CommandDef {
  return { name, arity, flags: "pubsub loading stale", group: "pubsub", since, summary, complexity, run };
}

export const pubsubCommands: CommandDef[] = [
  {
    name: "subscribe",
    arity: -2,
    flags: SUBSCRIBE_FLAGS,
    group: "pubsub",
    since: "2.0.0",
    summary: "Listen for messages published to the given channels",
    complexity: "O(N) where N is the number of channels to subscribe to.",
    run: subscriber("channels", "subscribe"),
  },
  {
    name: "unsubscribe",
    arity: -1,
    flags: SUBSCRIBE_FLAGS,
    group: "pubsub",
    since: "2.0.0",
    summary: "Stop listening for messages posted to the given channels",
    complexity: "O(N) where N is the number of clients already subscribed to a channel.",
    run: unsubscriber("channels", "unsubscribe"),
  },
  {
    name: "psubscribe",
    arity: -2,
    flags: SUBSCRIBE_FLAGS,
    group: "pubsub",
    since: "2.0.0",
    summary: "Listen for messages published to channels matching the given patterns",
    complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
    run: subscriber("patterns", "psubscribe"),
  },
  {
    name: "punsubscribe",
    arity: -1,
    flags: SUBSCRIBE_FLAGS,
    group: "pubsub",
    since: "2.0.0",
    summary: "Stop listening for messages posted to channels matching the given patterns",
    complexity:
      "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
    run: unsubscriber("patterns", "punsubscribe"),
  },
  {
    name: "publish",
    arity: 3,
    flags: "pubsub loading stale fast",
    group: "pubsub",
    since: "2.0.0",
    summary: "Post a message to a channel",
    complexity:
      "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
    run(c, argv) {
      c.out.int(c.engine.pubsub.publish(argv[1], argv[2]));
      // In a cluster every node's subscribers get it, through the bus.
      c.engine.clusterBus?.publish(argv[1], argv[2]);
    },
  },
  {
    name: "ssubscribe",
    arity: -2,
    flags: SUBSCRIBE_FLAGS,
    ...SHARD_KEYS,
    group: "pubsub",
    since: "7.0.0",
    summary: "Listen for messages published to the given shard channels",
    complexity: "O(N) where N is the number of shard channels to subscribe to.",
    run: subscriber("shard", "ssubscribe"),
  },
  {
    name: "sunsubscribe",
    arity: -1,
    flags: SUBSCRIBE_FLAGS,
    ...SHARD_KEYS,
    group: "pubsub",
    since: "7.0.0",
    summary: "Stop listening for messages posted to the given shard channels",
    complexity: "O(N) where N is the number of clients already subscribed to a shard channel.",
    run: unsubscriber("shard", "sunsubscribe"),
  },
  {
    name: "spublish",
    arity: 3,
    flags: "pubsub loading stale fast",
    keys: [1, 1, 1],
    keySpec: "not_key",
    group: "pubsub",
    since: "7.0.0",
    summary: "Post a message to a shard channel",
    complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
    run(c, argv) {
      c.out.int(c.engine.pubsub.spublish(argv[1], argv[2]));
      c.engine.clusterBus?.publishShard(argv[1], argv[2]);
    },
  },
  {
    name: "pubsub",
    arity: -2,
    flags: "",
    group: "pubsub",
    since: "2.8.0",
    summary: "A container for Pub/Sub commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      pubsubSub("channels", -2, "2.8.0", "List active channels",
        "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        (c, argv) => replyNames(c, "channels", argv)),
      pubsubSub("numsub", -2, "2.8.0", "Get the count of subscribers for channels",
        "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        (c, argv) => replyCounts(c, "channels", argv)),
      pubsubSub("numpat", 2, "2.8.0", "Get the count of unique patterns pattern subscriptions", "O(1)",
        (c) => c.out.int(c.engine.pubsub.registries.patterns.size)),
      pubsubSub("shardchannels", -2, "7.0.0", "List active shard channels",
        "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        (c, argv) => replyNames(c, "shard", argv)),
      pubsubSub("shardnumsub", -2, "7.0.0", "Get the count of subscribers for shard channels",
        "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        (c, argv) => replyCounts(c, "shard", argv)),
      {
        name: "help",
        arity: 2,
        flags: "loading stale",
        group: "pubsub",
        since: "6.2.0",
        summary: "Show helpful text about the different subcommands",
        run: (c) => replyHelp(c, "pubsub", HELP_LINES),
      },
    ],
  },
];
