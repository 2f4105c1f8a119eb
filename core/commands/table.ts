/**
 * The command table. Each family module exports CommandDefs; from this one
 * table come dispatch, arity errors, ACL categories, key positions and the
 * COMMAND INFO / DOCS / LIST / GETKEYS replies.
 */
import type { Client } from "../server/client.ts";
import type { LatencyHistogram } from "../server/latency.ts";

export type Handler = (c: Client, argv: Uint8Array[]) => void;

export interface CommandDef {
  name: string;
  /** Redis arity: N exact, -N at least N (the name counts). */
  arity: number;
  /** Space-separated Redis flags: write readonly denyoom admin pubsub noscript blocking loading stale skip_monitor skip_slowlog fast no_auth may_replicate sentinel no_mandatory_keys no_multi allow_busy */
  flags: string;
  /** [first, last, step] key positions; last -1 = through the end. Omitted = no keys. */
  keys?: [number, number, number];
  /** Key positions for commands whose keys depend on their arguments (numkeys...). */
  getKeys?: (argv: Uint8Array[]) => number[];
  /** Flags of each key a call names, for commands whose flags depend on the arguments (GETKEYSANDFLAGS). */
  keyFlags?: (argv: Uint8Array[]) => string[];
  /** Key spec flags for COMMAND INFO when the default from read/write is not what Redis says. */
  keySpec?: string;
  /** Full key specs, for commands a single range spec cannot describe (numkeys, keywords, several specs). */
  keySpecs?: KeySpecDef[];
  /** Space-separated command tips (nondeterministic_output request_policy:all_shards ...). */
  tips?: string;
  /** Extra ACL categories beyond those derived from flags (the group's own, dangerous...). */
  acl?: string;
  group: string;
  since: string;
  summary: string;
  complexity?: string;
  /** Absent for a container whose subcommands do the work. */
  run?: Handler;
  subcommands?: CommandDef[];
}

/** One Redis key spec: where the search for keys begins and how keys are found from there. */
export interface KeySpecDef {
  flags: string;
  notes?: string;
  /** begin_search: an argument index, or a keyword searched from startfrom (negative = from the end). */
  begin: number | { keyword: string; startfrom: number } | "unknown";
  /** find_keys: range [lastkey, keystep, limit] or keynum [keynumidx, firstkey, keystep]. */
  find: { range: [number, number, number] } | { keynum: [number, number, number] } | "unknown";
}

export interface Command {
  /** The definition this was built from, for COMMAND INFO / DOCS. */
  def: CommandDef;
  name: string;
  /** "config|get" for subcommands, as used in errors and COMMAND replies. */
  fullName: string;
  arity: number;
  flags: Set<string>;
  flagList: string[];
  /** flags.has("protected"), which every call checks (admit): a field read instead of a Set lookup. */
  isProtected: boolean;
  /**
   * Whether a run of such calls in a client's batch may be timed with one
   * clock reading (Engine.called): O(1) commands (flagged fast, and SET).
   */
  timedInRuns: boolean;
  firstKey: number;
  lastKey: number;
  keyStep: number;
  keySpec: string[];
  acl: string[];
  group: string;
  since: string;
  summary: string;
  complexity: string;
  run?: Handler;
  getKeys?: (argv: Uint8Array[]) => number[];
  subcommands?: Map<string, Command>;
  /** Per-command statistics for INFO commandstats. */
  calls: number;
  usec: number;
  rejectedCalls: number;
  failedCalls: number;
  /** Latency distribution for INFO latencystats and LATENCY HISTOGRAM; created on the first call. */
  histogram: LatencyHistogram | null;
}

/** Redis derives these categories from flags (setImplicitACLCategories). */
function aclCategories(def: CommandDef, flags: Set<string>): string[] {
  const cats: string[] = [];
  const add = (c: string) => cats.includes(c) || cats.push(c);
  for (const c of (def.acl ?? "").split(" ").filter(Boolean)) add(c);
  if (flags.has("write")) add("write");
  if (flags.has("readonly") && !cats.includes("scripting")) add("read");
  if (flags.has("admin")) {
    add("admin");
    add("dangerous");
  }
  if (flags.has("pubsub")) add("pubsub");
  if (flags.has("fast")) add("fast");
  if (flags.has("blocking")) add("blocking");
  if (!cats.includes("fast")) add("slow");
  return cats;
}

function build(def: CommandDef, parent?: Command): Command {
  const flagList = def.flags.split(" ").filter(Boolean);
  const flags = new Set(flagList);
  const [firstKey, lastKey, keyStep] = def.keys ?? [0, 0, 0];
  const defaultSpec = flags.has("write") ? "RW update" : "RO access";
  const cmd: Command = {
    def,
    name: def.name,
    fullName: parent ? `${parent.name}|${def.name}` : def.name,
    arity: def.arity,
    flags,
    flagList,
    isProtected: flags.has("protected"),
    timedInRuns: (flags.has("fast") || def.name === "set") && !parent,
    firstKey,
    lastKey,
    keyStep,
    keySpec: (def.keySpec ?? defaultSpec).split(" "),
    acl: aclCategories(def, flags),
    group: def.group,
    since: def.since,
    summary: def.summary,
    complexity: def.complexity ?? "O(1)",
    run: def.run,
    getKeys: def.getKeys,
    calls: 0,
    usec: 0,
    rejectedCalls: 0,
    failedCalls: 0,
    histogram: null,
  };
  if (def.subcommands) {
    cmd.subcommands = new Map(def.subcommands.map((s) => [s.name, build(s, cmd)]));
  }
  return cmd;
}

/** Hash of a command name, ASCII case folded (the |32 also folds a few non-letters: the name check settles those). */
function nameHash(name: string): number {
  let h = name.length;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + (name.charCodeAt(i) | 32)) | 0;
  return h;
}

/** nameHash of request bytes: a function of its own, so each stays monomorphic on the dispatch path. */
function requestHash(name: Uint8Array): number {
  let h = name.length;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + (name[i] | 32)) | 0;
  return h;
}

/** Whether request bytes spell a lower-case command name, ignoring ASCII case. */
function sameName(bytes: Uint8Array, name: string): boolean {
  if (bytes.length !== name.length) return false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== name.charCodeAt(i)) return false;
  }
  return true;
}

export class CommandTable {
  readonly commands = new Map<string, Command>();
  /**
   * Commands by nameHash in an open-addressed table (linear probing), so
   * dispatch builds no string from the request and reads two arrays, not a Map.
   */
  private slots: (Command | null)[] = [null];
  private slotHashes = new Int32Array(1);
  /** find()'s last request name and answer. */
  private lastName: Uint8Array | null = null;
  private lastFound: Command | undefined = undefined;

  add(defs: CommandDef[]): void {
    for (const def of defs) this.commands.set(def.name, build(def));
    this.reindex();
  }

  get(name: string): Command | undefined {
    return this.commands.get(name);
  }

  /** Drops every command not named (a Sentinel's table keeps a few). */
  retain(names: Set<string>): void {
    for (const name of [...this.commands.keys()]) if (!names.has(name)) this.commands.delete(name);
    this.reindex();
  }

  private reindex(): void {
    this.lastName = null;
    let size = 16;
    while (size < this.commands.size * 4) size *= 2;
    this.slots = new Array<Command | null>(size).fill(null);
    this.slotHashes = new Int32Array(size);
    for (const cmd of this.commands.values()) {
      const h = nameHash(cmd.name);
      let i = h & (size - 1);
      while (this.slots[i] !== null) i = (i + 1) & (size - 1);
      this.slots[i] = cmd;
      this.slotHashes[i] = h;
    }
  }

  /** The command named by a request's first argument, in any letter case. */
  find(name: Uint8Array): Command | undefined {
    // The parser hands a pipeline's repeated name as the same view: no hashing for it (views are never written).
    if (name === this.lastName) return this.lastFound;
    const found = this.lookup(name);
    this.lastName = name;
    this.lastFound = found;
    return found;
  }

  private lookup(name: Uint8Array): Command | undefined {
    const h = requestHash(name);
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = h & mask;; i = (i + 1) & mask) {
      const cmd = slots[i];
      if (cmd === null) return undefined;
      if (this.slotHashes[i] === h && sameName(name, cmd.name)) return cmd;
    }
  }

  /** Every command and subcommand, for COMMAND LIST and INFO commandstats. */
  *all(): Iterable<Command> {
    for (const cmd of this.commands.values()) {
      yield cmd;
      if (cmd.subcommands) yield* cmd.subcommands.values();
    }
  }
}

/** Key positions of a concrete call, from the table's first/last/step. */
export function keyPositions(cmd: Command, argv: Uint8Array[]): number[] {
  if (cmd.getKeys) return cmd.getKeys(argv);
  if (cmd.firstKey === 0) return [];
  const argc = argv.length;
  const last = cmd.lastKey < 0 ? argc + cmd.lastKey : cmd.lastKey;
  const out: number[] = [];
  for (let i = cmd.firstKey; i <= last && i < argc; i += cmd.keyStep) out.push(i);
  return out;
}
