/**
 * COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS,
 * GETKEYSANDFLAGS, HELP), every reply derived from the command table in
 * Redis 7's shape.
 */
import { type Command, type CommandDef, keyPositions, type KeySpecDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, lower, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { globMatch } from "../util/glob.ts";
import { ERR } from "./args.ts";
import { replyHelp } from "./help.ts";
import { docNotes } from "./doc-flags.ts";

const COMMAND_HELP = [
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
  "GETKEYSANDFLAGS <full-command>",
  "    Return the keys and the access flags from a full Redis command.",
];

/** The flags COMMAND shows, in Redis's order; may_replicate, sentinel and protected stay hidden as in Redis. */
const FLAG_ORDER = [
  "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking", "loading", "stale",
  "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth", "no_mandatory_keys", "no_async_loading", "no_multi",
  "movablekeys", "allow_busy",
];

/** ACL categories in Redis's bit order, which is the order COMMAND lists them in. */
const ACL_ORDER = [
  "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo", "stream",
  "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
];

/** The key specs of a command: its own full specs, or the single range spec its first/last/step describe. */
export function keySpecs(cmd: Command): KeySpecDef[] {
  if (cmd.def.keySpecs) return cmd.def.keySpecs;
  if (cmd.firstKey === 0) return [];
  const lastkey = cmd.lastKey < 0 ? cmd.lastKey : cmd.lastKey - cmd.firstKey;
  return [{ flags: cmd.keySpec.join(" "), begin: cmd.firstKey, find: { range: [lastkey, cmd.keyStep, 0] } }];
}

function movableKeys(cmd: Command): boolean {
  return cmd.getKeys !== undefined ||
    keySpecs(cmd).some((s) => typeof s.begin !== "number" || s.find === "unknown" || !("range" in s.find));
}

function flagsOf(cmd: Command): string[] {
  const flags = new Set(cmd.flags);
  if (movableKeys(cmd)) flags.add("movablekeys");
  return FLAG_ORDER.filter((f) => flags.has(f));
}

function stringSet(c: Client, items: string[], simple: boolean): void {
  c.out.set(items.length);
  for (const s of items) simple ? c.out.simple(s) : c.out.bulkStr(s);
}

/** A map reply from [key, writer] pairs. */
function replyMap(c: Client, entries: [string, () => void][]): void {
  c.out.map(entries.length);
  for (const [k, write] of entries) {
    c.out.bulkStr(k);
    write();
  }
}

function replyKeySpec(c: Client, spec: KeySpecDef): void {
  const { begin, find } = spec;
  const entries: [string, () => void][] = [];
  if (spec.notes) entries.push(["notes", () => c.out.bulkStr(spec.notes!)]);
  entries.push(["flags", () => stringSet(c, spec.flags.split(" ").filter(Boolean), true)]);
  entries.push(["begin_search", () => {
    if (begin === "unknown") return replyMap(c, [["type", () => c.out.bulkStr("unknown")], ["spec", () => c.out.map(0)]]);
    const [type, fields]: [string, [string, () => void][]] = typeof begin === "number"
      ? ["index", [["index", () => c.out.int(begin)]]]
      : ["keyword", [["keyword", () => c.out.bulkStr(begin.keyword)], ["startfrom", () => c.out.int(begin.startfrom)]]];
    replyMap(c, [["type", () => c.out.bulkStr(type)], ["spec", () => replyMap(c, fields)]]);
  }]);
  entries.push(["find_keys", () => {
    if (find === "unknown") return replyMap(c, [["type", () => c.out.bulkStr("unknown")], ["spec", () => c.out.map(0)]]);
    const [type, names, values] = "range" in find
      ? ["range", ["lastkey", "keystep", "limit"], find.range]
      : ["keynum", ["keynumidx", "firstkey", "keystep"], find.keynum];
    replyMap(c, [
      ["type", () => c.out.bulkStr(type)],
      ["spec", () => replyMap(c, names.map((n, i) => [n, () => c.out.int(values[i])]))],
    ]);
  }]);
  replyMap(c, entries);
}

export function replyCommandInfo(c: Client, cmd: Command): void {
  const out = c.out;
  out.array(10);
  out.bulkStr(cmd.fullName);
  out.int(cmd.arity);
  stringSet(c, flagsOf(cmd), true);
  out.int(cmd.firstKey);
  out.int(cmd.lastKey);
  out.int(cmd.keyStep);
  stringSet(c, ACL_ORDER.filter((a) => cmd.acl.includes(a)).map((a) => "@" + a), true);
  stringSet(c, (cmd.def.tips ?? "").split(" ").filter(Boolean), false);
  const specs = keySpecs(cmd);
  out.set(specs.length);
  for (const spec of specs) replyKeySpec(c, spec);
  if (!cmd.subcommands) return out.set(0);
  out.array(cmd.subcommands.size);
  for (const sub of cmd.subcommands.values()) replyCommandInfo(c, sub);
}

function replyCommandDocs(c: Client, cmd: Command): void {
  const entries: [string, () => void][] = [
    ["summary", () => c.out.bulkStr(cmd.summary)],
    ["since", () => c.out.bulkStr(cmd.since)],
    ["group", () => c.out.bulkStr(cmd.group)],
    ["complexity", () => c.out.bulkStr(cmd.complexity)],
  ];
  const notes = docNotes(cmd.fullName);
  if (notes) {
    entries.push(["doc_flags", () => stringSet(c, notes.flags, true)]);
    if (notes.deprecatedSince) entries.push(["deprecated_since", () => c.out.bulkStr(notes.deprecatedSince!)]);
    if (notes.replacedBy) entries.push(["replaced_by", () => c.out.bulkStr(notes.replacedBy!)]);
  }
  const subs = cmd.subcommands;
  if (subs) {
    entries.push(["subcommands", () => {
      c.out.map(subs.size);
      for (const sub of subs.values()) {
        c.out.bulkStr(sub.fullName);
        replyCommandDocs(c, sub);
      }
    }]);
  }
  replyMap(c, entries);
}

/** Finds "get" or "config|get" as COMMAND INFO / DOCS name them. */
function lookupByName(c: Client, name: string): Command | undefined {
  const [main, sub] = lower(name).split("|", 2);
  const cmd = c.engine.commands.get(main);
  if (sub === undefined) return cmd;
  return cmd?.subcommands?.get(sub);
}

function info(c: Client, argv: Uint8Array[]): void {
  if (argv.length <= 2) {
    const all = [...c.engine.commands.commands.values()];
    c.out.array(all.length);
    for (const cmd of all) replyCommandInfo(c, cmd);
    return;
  }
  c.out.array(argv.length - 2);
  for (const arg of argv.slice(2)) {
    const cmd = lookupByName(c, str(arg));
    if (cmd) replyCommandInfo(c, cmd);
    else c.out.nullBulk();
  }
}

function docs(c: Client, argv: Uint8Array[]): void {
  const found = argv.length <= 2
    ? [...c.engine.commands.commands.values()]
    : argv.slice(2).map((a) => lookupByName(c, str(a))).filter((x): x is Command => x !== undefined);
  c.out.map(found.length);
  for (const cmd of found) {
    c.out.bulkStr(cmd.fullName);
    replyCommandDocs(c, cmd);
  }
}

function list(c: Client, argv: Uint8Array[]): void {
  let keep: (cmd: Command) => boolean = () => true;
  if (argv.length === 5 && is(argv[2], "filterby")) {
    const value = str(argv[4]);
    if (is(argv[3], "module")) keep = () => false;
    else if (is(argv[3], "aclcat")) keep = (cmd) => cmd.acl.includes(lower(value));
    else if (is(argv[3], "pattern")) keep = (cmd) => globMatch(value, cmd.fullName, true);
    else return c.error(ERR.syntax);
  } else if (argv.length !== 2) {
    return c.error(ERR.syntax);
  }
  const names = [...c.engine.commands.all()].filter(keep).map((cmd) => cmd.fullName);
  c.out.array(names.length);
  for (const n of names) c.out.bulkStr(n);
}

/** Finds the keys one spec names in argv, as Redis's getKeysUsingKeySpecs; null when argv does not fit. */
function keysOfSpec(spec: KeySpecDef, argv: Uint8Array[]): number[] | null {
  const argc = argv.length;
  let first: number;
  if (spec.begin === "unknown") return [];
  if (typeof spec.begin === "number") first = spec.begin;
  else {
    const { startfrom } = spec.begin;
    const keyword = spec.begin.keyword.toLowerCase();
    const from = startfrom >= 0 ? startfrom : argc + startfrom;
    const dir = startfrom >= 0 ? 1 : -1;
    let at = -1;
    for (let i = from; i > 0 && i < argc; i += dir) {
      if (is(argv[i], keyword)) {
        at = i;
        break;
      }
    }
    if (at < 0) return [];
    first = at + 1;
  }
  let last: number;
  let step: number;
  if (spec.find === "unknown") return [];
  if ("range" in spec.find) {
    const [lastkey, keystep, limit] = spec.find.range;
    step = keystep;
    if (lastkey >= 0) last = first + lastkey;
    else if (!limit) last = argc + lastkey;
    else last = first + Math.floor((argc - first) / limit) + lastkey;
  } else {
    const [keynumidx, firstkey, keystep] = spec.find.keynum;
    if (first + keynumidx >= argc) return null;
    const numkeys = parseInteger(str(argv[first + keynumidx]));
    if (numkeys === null || numkeys < 0) return null;
    first += firstkey;
    last = first + numkeys - 1;
    step = keystep;
  }
  const out: number[] = [];
  for (let i = first; i <= last; i += step) {
    if (i >= argc) return null;
    out.push(i);
  }
  return out;
}

/** Key positions of a call with the flags of the spec each came from. */
function keysWithFlags(cmd: Command, argv: Uint8Array[]): [number, string][] {
  const specs = keySpecs(cmd);
  const variable = cmd.def.keyFlags;
  if (variable) {
    const flags = variable(argv);
    return keyPositions(cmd, argv).map((at, i) => [at, flags[i]]);
  }
  if (cmd.getKeys) {
    const flags = specs[0]?.flags ?? cmd.keySpec.join(" ");
    return cmd.getKeys(argv).map((i) => [i, flags]);
  }
  const out: [number, string][] = [];
  for (const spec of specs) {
    const keys = keysOfSpec(spec, argv);
    if (keys === null) return [];
    for (const i of keys) out.push([i, spec.flags]);
  }
  return out;
}

function getKeys(withFlags: boolean) {
  return (c: Client, argv: Uint8Array[]) => {
    const call = argv.slice(2);
    let cmd = c.engine.commands.get(lower(str(call[0])));
    if (cmd?.subcommands) cmd = call.length >= 2 ? cmd.subcommands.get(lower(str(call[1]))) : undefined;
    if (!cmd) return c.error("ERR Invalid command specified");
    if (!cmd.getKeys && keySpecs(cmd).length === 0) return c.error("ERR The command has no key arguments");
    if ((cmd.arity > 0 && cmd.arity !== call.length) || call.length < -cmd.arity) {
      return c.error("ERR Invalid number of arguments specified for command");
    }
    const keys = keysWithFlags(cmd, call);
    if (keys.length === 0) return c.error("ERR Invalid arguments specified for command");
    c.out.array(keys.length);
    for (const [i, flags] of keys) {
      if (!withFlags) {
        c.out.bulk(call[i]);
        continue;
      }
      c.out.array(2);
      c.out.bulk(call[i]);
      stringSet(c, flags.split(" ").filter(Boolean), true);
    }
  };
}

const SUB = "loading stale";

function sub(name: string, arity: number, since: string, summary: string, complexity: string, run: CommandDef["run"], tips?: string): CommandDef {
  return { name, arity, flags: SUB, acl: "connection", group: "server", since, summary, complexity, run, tips };
}

const PER_COMMAND = "O(N) where N is the number of commands to look up";
const PER_ARG = "O(N) where N is the number of arguments to the command";
const ALL = "O(N) where N is the total number of Redis commands";

export const commandCommands: CommandDef[] = [
  {
    name: "command",
    arity: -1,
    flags: SUB,
    acl: "connection",
    tips: "nondeterministic_output_order",
    group: "server",
    since: "2.8.13",
    summary: "Get array of Redis command details",
    complexity: ALL,
    run: info,
    subcommands: [
      sub("count", 2, "2.8.13", "Get total number of Redis commands", "O(1)", (c) => c.out.int(c.engine.commands.commands.size)),
      sub("list", -2, "7.0.0", "Get an array of Redis command names", ALL, list, "nondeterministic_output_order"),
      sub("info", -2, "2.8.13", "Get array of specific Redis command details, or all when no argument is given.", PER_COMMAND, info, "nondeterministic_output_order"),
      sub("docs", -2, "7.0.0", "Get array of specific Redis command documentation", PER_COMMAND, docs, "nondeterministic_output_order"),
      sub("getkeys", -4, "2.8.13", "Extract keys given a full Redis command", PER_ARG, getKeys(false)),
      sub("getkeysandflags", -4, "7.0.0", "Extract keys and access flags given a full Redis command", PER_ARG, getKeys(true)),
      sub("help", 2, "5.0.0", "Show helpful text about the different subcommands", "O(1)", (c) => replyHelp(c, "command", COMMAND_HELP)),
    ],
  },
];
