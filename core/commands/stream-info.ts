/**
 * XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS and HELP,
 * field for field as Redis 7.0 answers: the stream's counters, the group
 * lag (stream-groups.ts), pending entries and consumers. radix-tree-nodes
 * is the node count Redis's radix tree has for the same node keys.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { encodeIdKey, formatId, MAX_ID, MIN_ID, type Stream } from "../types/stream.ts";
import { byName, groupLag, INVALID_ENTRIES_READ, type Pel, type PendingEntry, type StreamGroup } from "../types/stream-groups.ts";
import { replyHelp, subcommandSyntaxError } from "./help.ts";
import { cstr, longArg } from "./stream-group-args.ts";
import { readStream, replyEntry, replyRange } from "./stream-args.ts";

/**
 * Nodes of a radix tree holding these sorted, equal-length keys with
 * Redis's compression: the root, every branching point, every child of a
 * branching point (where a chain starts), and the leaves; each chain of
 * single-child steps is one node.
 */
export function radixNodes(keys: string[]): number {
  const positions = new Set<string>([""]);
  for (let i = 0; i < keys.length; i++) {
    positions.add(keys[i]);
    if (i === 0) continue;
    const a = keys[i - 1], b = keys[i];
    let l = 0;
    while (l < a.length && a.charCodeAt(l) === b.charCodeAt(l)) l++;
    positions.add(a.slice(0, l));
    positions.add(a.slice(0, l + 1));
    positions.add(b.slice(0, l + 1));
  }
  // A lone key hangs from the root by one chain: root and leaf.
  return positions.size;
}

function nodeKeys(s: Stream): string[] {
  return s.nodes.map((n) => {
    const k = encodeIdKey({ ms: n.ms, seq: n.seq });
    return String.fromCharCode(...k);
  });
}

function replyCounter(c: Client, v: number | bigint | null): void {
  if (v === null) c.out.nullBulk();
  else c.out.int(v);
}

function replyStreamHeader(c: Client, s: Stream, fields: number): void {
  c.out.map(fields);
  c.out.bulkStr("length");
  c.out.int(s.length);
  c.out.bulkStr("radix-tree-keys");
  c.out.int(s.nodes.length);
  c.out.bulkStr("radix-tree-nodes");
  c.out.int(radixNodes(nodeKeys(s)));
  c.out.bulkStr("last-generated-id");
  c.out.bulkStr(formatId(s.lastId));
  c.out.bulkStr("max-deleted-entry-id");
  c.out.bulkStr(formatId(s.maxDeletedId));
  c.out.bulkStr("entries-added");
  c.out.int(s.entriesAdded);
  c.out.bulkStr("recorded-first-entry-id");
  c.out.bulkStr(formatId(s.firstId));
}

function replyEdge(c: Client, s: Stream, last: boolean): void {
  const id = s.edgeId(last);
  if (id === null) return c.out.nullBulk();
  replyEntry(c, id, s.get(id)!);
}

function groupsOf(s: Stream): StreamGroup[] {
  return s.groups === null ? [] : byName(s.groups.values());
}

/** A map of named fields, each written by its function. */
function replyFields(c: Client, fields: Array<[string, () => void]>): void {
  c.out.map(fields.length);
  for (const [name, write] of fields) {
    c.out.bulkStr(name);
    write();
  }
}

/** A group's "entries-read" and "lag" fields. */
function readState(c: Client, s: Stream, g: StreamGroup): Array<[string, () => void]> {
  return [
    ["entries-read", () => replyCounter(c, g.entriesRead === INVALID_ENTRIES_READ ? null : g.entriesRead)],
    ["lag", () => replyCounter(c, groupLag(s, g))],
  ];
}

/** "pel-count" and "pending" of XINFO STREAM FULL: at most count rows (0: all), with the owner's name for a group PEL. */
function pelFields(c: Client, pel: Pel, count: number, owner: boolean): Array<[string, () => void]> {
  return [
    ["pel-count", () => c.out.int(pel.size)],
    ["pending", () => {
      const rows: PendingEntry[] = [];
      pel.forEachFrom(undefined, (e) => {
        rows.push(e);
        return count === 0 || rows.length < count;
      });
      c.out.array(rows.length);
      for (const e of rows) {
        c.out.array(owner ? 4 : 3);
        c.out.bulkStr(formatId(e.id));
        if (owner) c.out.bulkStr(e.consumer.name);
        c.out.int(e.deliveryTime);
        c.out.int(e.deliveryCount);
      }
    }],
  ];
}

/** XINFO STREAM key FULL: the entries and every group with its PEL and consumers, COUNT of each list (0: all). */
function replyFull(c: Client, s: Stream, count: number): void {
  replyStreamHeader(c, s, 9);
  c.out.bulkStr("entries");
  replyRange(c, s, MIN_ID, MAX_ID, count, false);
  c.out.bulkStr("groups");
  const groups = groupsOf(s);
  c.out.array(groups.length);
  for (const g of groups) {
    replyFields(c, [
      ["name", () => c.out.bulkStr(g.name)],
      ["last-delivered-id", () => c.out.bulkStr(formatId(g.lastId))],
      ...readState(c, s, g),
      ...pelFields(c, g.pel, count, true),
      ["consumers", () => {
        const consumers = g.sortedConsumers();
        c.out.array(consumers.length);
        for (const consumer of consumers) {
          replyFields(c, [
            ["name", () => c.out.bulkStr(consumer.name)],
            ["seen-time", () => c.out.int(consumer.seenTime)],
            ...pelFields(c, consumer.pel, count, false),
          ]);
        }
      }],
    ]);
  }
}

function xinfoStream(c: Client, argv: Uint8Array[]): void {
  const s = stream(c, argv);
  if (s === null) return;
  const opts = argv.length - 3;
  if (opts === 0) {
    replyStreamHeader(c, s, 10);
    c.out.bulkStr("groups");
    c.out.int(s.groups?.size ?? 0);
    c.out.bulkStr("first-entry");
    replyEdge(c, s, false);
    c.out.bulkStr("last-entry");
    replyEdge(c, s, true);
    return;
  }
  const syntax = () => subcommandSyntaxError(c, "xinfo", str(argv[1]));
  if ((opts !== 1 && opts !== 3) || !is(argv[3], "full")) return syntax();
  let count = 10;
  if (opts === 3) {
    if (!is(argv[4], "count")) return syntax();
    const n = longArg(c, argv[5]);
    if (n === null) return;
    count = n < 0 ? 10 : n;
  }
  replyFull(c, s, count);
}

/** The stream at argv[2], or null after "no such key" / WRONGTYPE. */
function stream(c: Client, argv: Uint8Array[]): Stream | null {
  const s = readStream(c, str(argv[2]));
  if (s === undefined) c.error("ERR no such key");
  return s ?? null;
}

function xinfoGroups(c: Client, argv: Uint8Array[]): void {
  const s = stream(c, argv);
  if (s === null) return;
  const groups = groupsOf(s);
  c.out.array(groups.length);
  for (const g of groups) {
    replyFields(c, [
      ["name", () => c.out.bulkStr(g.name)],
      ["consumers", () => c.out.int(g.consumers.size)],
      ["pending", () => c.out.int(g.pel.size)],
      ["last-delivered-id", () => c.out.bulkStr(formatId(g.lastId))],
      ...readState(c, s, g),
    ]);
  }
}

function xinfoConsumers(c: Client, argv: Uint8Array[]): void {
  const s = stream(c, argv);
  if (s === null) return;
  const key = str(argv[2]), name = str(argv[3]);
  const g = s.groups?.get(name);
  if (g === undefined) return c.error(`NOGROUP No such consumer group '${cstr(name)}' for key name '${cstr(key)}'`);
  const consumers = g.sortedConsumers();
  const now = c.engine.now;
  c.out.array(consumers.length);
  for (const consumer of consumers) {
    replyFields(c, [
      ["name", () => c.out.bulkStr(consumer.name)],
      ["pending", () => c.out.int(consumer.pel.size)],
      ["idle", () => c.out.int(Math.max(now - consumer.seenTime, 0))],
    ]);
  }
}

const HELP = [
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
];

const sub = (name: string, arity: number, summary: string, run: (c: Client, argv: Uint8Array[]) => void, tips?: string): CommandDef => ({
  name,
  arity,
  flags: "readonly",
  acl: "stream",
  keys: [2, 2, 1],
  tips,
  group: "stream",
  since: "5.0.0",
  summary,
  complexity: "O(1)",
  run,
});

export const xinfoCommands: CommandDef[] = [
  {
    name: "xinfo",
    arity: -2,
    flags: "",
    group: "stream",
    since: "5.0.0",
    summary: "A container for stream introspection commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      sub("consumers", 4, "List the consumers in a consumer group", xinfoConsumers, "nondeterministic_output"),
      sub("stream", -3, "Get information about a stream", xinfoStream),
      {
        name: "help",
        arity: 2,
        flags: "loading stale",
        acl: "stream",
        group: "stream",
        since: "5.0.0",
        summary: "Show helpful text about the different subcommands",
        run: (c) => replyHelp(c, "xinfo", HELP),
      },
      sub("groups", 3, "List the consumer groups of a stream", xinfoGroups),
    ],
  },
];
