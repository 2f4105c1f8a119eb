/**
 * Configuration: the parameter registry behind redis.conf, the command line
 * and CONFIG GET/SET/REWRITE. Values are held as Redis prints them; typed
 * readers parse them, and listeners let hot paths cache what they need.
 */
import { DEFAULT_INT_RANGE, DEFAULT_MEMORY_RANGE, PARAMS, type ParamKind, type ParamSpec, RANGES } from "./params.ts";
import { parseInt64 } from "../util/number.ts";
import { RESPITE_PARAMS } from "./respite-params.ts";
import { globMatch } from "../util/glob.ts";

interface Param {
  name: string;
  kind: ParamKind;
  defaultValue: string;
  value: string;
  /** Number(value), kept beside it: commands read numeric parameters per call (hll-sparse-max-bytes in PFADD). */
  num: number;
  values?: string[];
  immutable: boolean;
  protected: boolean;
  hidden: boolean;
  aliases: string[];
}

export class ConfigError extends Error {}

/**
 * A change that takes effect outside the engine and can fail, such as
 * listening on a new port: called with the values as they would be after
 * CONFIG SET; returns Redis's reason for refusing, or null once applied.
 */
export type Applier = (get: (name: string) => string) => string | null;

/** Parses Redis memory values: 1k = 1000, 1kb = 1024, up to gb; negative values are not memory values. */
export function parseMemory(s: string): number | null {
  const m = /^(\d+)(k|kb|m|mb|g|gb|b)?$/i.exec(s);
  if (!m) return null;
  const units: Record<string, number> = { "": 1, b: 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  return Number(m[1]) * units[(m[2] ?? "").toLowerCase()];
}

/** Redis's rewrite form of a byte count: the largest exact unit among gb, mb, kb. */
export function formatMemory(n: number): string {
  for (const [unit, size] of [["gb", 1024 ** 3], ["mb", 1024 ** 2], ["kb", 1024]] as const) {
    if (n !== 0 && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

function checkRange(name: string, value: bigint, fallback: [string, string]): void {
  const [min, max] = RANGES[name] ?? fallback;
  if (value < BigInt(min) || value > BigInt(max)) {
    throw new ConfigError(`argument must be between ${min} and ${max} inclusive`);
  }
}

const INT = /^-?\d+$/;
const KEYSPACE_FLAGS = "KEg$lshzxetmdnA";

/** Parameters naming a file inside dir (or the AOF dir), which Redis refuses as paths. */
const BARE_NAMES: Record<string, string> = {
  dbfilename: "dbfilename can't be a path, just a filename",
  appendfilename: "appendfilename can't be a path, just a filename",
  appenddirname: "appenddirname can't be a path, just a dirname",
};

/** Validates and canonicalizes a value for its parameter; throws ConfigError with Redis's reason. */
function canonical(p: Param, value: string): string {
  if (p.name in BARE_NAMES && value.includes("/")) throw new ConfigError(BARE_NAMES[p.name]);
  switch (p.kind) {
    case "bool": {
      const v = value.toLowerCase();
      if (v !== "yes" && v !== "no") throw new ConfigError("argument must be 'yes' or 'no'");
      return v;
    }
    case "int": {
      const n = parseInt64(value);
      if (n === null) throw new ConfigError("argument couldn't be parsed into an integer");
      checkRange(p.name, n, DEFAULT_INT_RANGE);
      if (p.name === "hz") return String(Math.min(500, Math.max(1, Number(n))));
      return String(n);
    }
    case "memory": {
      if (PERCENT_PARAMS.has(p.name)) return canonicalPercent(p.name, value);
      const n = parseMemory(value);
      if (n === null) throw new ConfigError("argument must be a memory value");
      checkRange(p.name, BigInt(n), DEFAULT_MEMORY_RANGE);
      return String(n);
    }
    case "enum": {
      const v = value.toLowerCase();
      if (!p.values!.includes(v)) {
        throw new ConfigError(`argument(s) must be one of the following: ${p.values!.join(", ")}`);
      }
      return v;
    }
    case "special":
      return canonicalSpecial(p, value);
    default:
      return value;
  }
}

/** Memory parameters that also take a percentage of maxmemory (Redis's PERCENT_CONFIG). */
const PERCENT_PARAMS = new Set(["maxmemory-clients"]);

/** "N%" (0 to 100; "0%" is 0) or a memory value, as Redis reads a PERCENT_CONFIG parameter. */
function canonicalPercent(name: string, value: string): string {
  const percent = /^(\d+)%$/.exec(value);
  if (percent === null) {
    const n = parseMemory(value);
    if (n === null) throw new ConfigError("argument must be a memory or percent value");
    checkRange(name, BigInt(n), DEFAULT_MEMORY_RANGE);
    return String(n);
  }
  const n = Number(percent[1]);
  if (n > 100) throw new ConfigError("percentage argument must be less or equal to 100");
  return n === 0 ? "0" : `${n}%`;
}

function canonicalSpecial(p: Param, value: string): string {
  const words = value.split(/\s+/).filter(Boolean);
  switch (p.name) {
    case "save": {
      if (words.length % 2 !== 0 || words.some((w) => !INT.test(w))) throw new ConfigError("Invalid save parameters");
      return words.join(" ");
    }
    case "client-output-buffer-limit":
      return mergeBufferLimits(p.value, words);
    case "notify-keyspace-events": {
      for (const ch of value) {
        if (!KEYSPACE_FLAGS.includes(ch)) throw new ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
      }
      return keyspaceFlagsToString(value);
    }
    case "unixsocketperm": {
      if (!/^[0-7]+$/.test(value)) throw new ConfigError("argument couldn't be parsed into an integer");
      return value.replace(/^0+(?=.)/, "");
    }
    default:
      return words.join(" ");
  }
}

const BUFFER_CLASSES: Record<string, string> = { normal: "normal", slave: "slave", replica: "slave", pubsub: "pubsub" };

/** Sets the output buffer limits of the classes named, keeping the others (as CONFIG SET does). */
function mergeBufferLimits(current: string, words: string[]): string {
  if (words.length % 4 !== 0) throw new ConfigError("Wrong number of arguments in buffer limit configuration.");
  const limits = new Map<string, string[]>();
  const cur = current.split(" ");
  for (let i = 0; i < cur.length; i += 4) limits.set(cur[i], cur.slice(i + 1, i + 4));
  for (let i = 0; i < words.length; i += 4) {
    const cls = BUFFER_CLASSES[words[i].toLowerCase()];
    if (!cls) throw new ConfigError("Invalid client class specified in buffer limit configuration.");
    const hard = parseMemory(words[i + 1]);
    const soft = parseMemory(words[i + 2]);
    if (hard === null || soft === null || !/^\d+$/.test(words[i + 3])) {
      throw new ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    }
    limits.set(cls, [String(hard), String(soft), String(Number(words[i + 3]))]);
  }
  return ["normal", "slave", "pubsub"].map((c) => `${c} ${limits.get(c)!.join(" ")}`).join(" ");
}

/** Redis prints notify-keyspace-events in a fixed order, with A for the full set. */
function keyspaceFlagsToString(flags: string): string {
  const has = (c: string) => flags.includes(c) || (flags.includes("A") && "g$lshzxetd".includes(c));
  let out = "";
  if ("g$lshzxetd".split("").every(has)) out += "A";
  else for (const c of "g$lshzxetd") if (has(c)) out += c;
  for (const c of "KEmn") if (has(c)) out += c;
  return out;
}

export class Config {
  private params = new Map<string, Param>();
  private listeners = new Map<string, Array<(value: string) => void>>();
  private appliers = new Map<string, Applier>();
  /** Directives seen in the config file, in order, for CONFIG REWRITE. */
  private fileLines: string[] = [];
  configFile = "";

  constructor() {
    for (const spec of [...PARAMS, ...RESPITE_PARAMS] as ParamSpec[]) {
      const [name, kind, defaultValue, opts] = spec;
      const flags = (opts?.flags ?? "").split(" ");
      const p: Param = {
        name,
        kind,
        defaultValue,
        value: defaultValue,
        num: Number(defaultValue),
        values: opts?.values?.split(" "),
        immutable: flags.includes("immutable"),
        protected: flags.includes("protected"),
        hidden: flags.includes("hidden"),
        aliases: opts?.aliases?.split(" ") ?? [],
      };
      this.params.set(name, p);
      for (const a of p.aliases) this.params.set(a, p);
    }
  }

  has(name: string): boolean {
    return this.params.has(name.toLowerCase());
  }

  get(name: string): string {
    return this.known(name).value;
  }

  num(name: string): number {
    return this.known(name).num;
  }

  bool(name: string): boolean {
    return this.get(name) === "yes";
  }

  private known(name: string): Param {
    const p = this.params.get(name);
    if (!p) throw new Error(`unknown config ${name}`);
    return p;
  }

  /** Calls fn now and after every change of the parameter. */
  watch(name: string, fn: (value: string) => void): void {
    const p = this.params.get(name)!;
    const list = this.listeners.get(p.name) ?? [];
    list.push(fn);
    this.listeners.set(p.name, list);
    fn(p.value);
  }

  /** Has CONFIG SET of the parameter go through fn, which may refuse it (see Applier). */
  onApply(name: string, fn: Applier): void {
    this.appliers.set(name, fn);
  }

  /**
   * Sets several parameters atomically, as CONFIG SET does: all are
   * validated first, then applied; returns null or Redis's error text.
   */
  setMany(pairs: [string, string][], fromUser: boolean): string | null {
    const seen = new Set<Param>();
    const staged: [Param, string][] = [];
    const failure = (rawName: string, why: string) => `ERR CONFIG SET failed (possibly related to argument '${rawName}') - ${why}`;
    for (const [rawName, value] of pairs) {
      const p = this.params.get(rawName.toLowerCase());
      if (!p) return `ERR Unknown option or number of arguments for CONFIG SET - '${rawName}'`;
      const fail = (why: string) => failure(rawName, why);
      if (seen.has(p)) return fail("duplicate parameter");
      seen.add(p);
      if (fromUser && p.immutable) return fail("can't set immutable config");
      if (fromUser && p.protected && this.get("enable-protected-configs") === "no") return fail("can't set protected config");
      try {
        staged.push([p, canonical(p, value)]);
      } catch (e) {
        return fail((e as Error).message);
      }
    }
    const refusal = this.runAppliers(pairs, staged);
    if (refusal !== null) return failure(...refusal);
    for (const [p, value] of staged) this.assign(p, value);
    return null;
  }

  /** Runs the appliers of the changed parameters; on a refusal undoes those run before it and returns [name, reason]. */
  private runAppliers(pairs: [string, string][], staged: [Param, string][]): [string, string] | null {
    const next = new Map(staged.map(([p, value]) => [p.name, value]));
    const done: Applier[] = [];
    for (let i = 0; i < staged.length; i++) {
      const [p, value] = staged[i];
      const apply = this.appliers.get(p.name);
      if (apply === undefined || value === p.value) continue;
      const why = apply((name) => next.get(name) ?? this.get(name));
      if (why !== null) {
        for (const undo of done.reverse()) undo((name) => this.get(name));
        return [pairs[i][0], why];
      }
      done.push(apply);
    }
    return null;
  }

  private assign(p: Param, value: string): void {
    if (p.value === value) return;
    p.value = value;
    p.num = Number(value);
    for (const fn of this.listeners.get(p.name) ?? []) fn(value);
  }

  /**
   * CONFIG GET: a name without glob characters is looked up directly and
   * answered under the spelling asked; a glob matches every parameter and
   * alias name. Each name appears once.
   */
  matching(patterns: string[]): [string, string][] {
    const out = new Map<string, [string, string]>();
    for (const pattern of patterns) {
      if (!/[*?[]/.test(pattern)) {
        const key = pattern.toLowerCase();
        const p = this.params.get(key);
        if (p && !out.has(key)) out.set(key, [pattern, p.value]);
        continue;
      }
      for (const [name, p] of this.params) {
        if (!out.has(name) && !p.hidden && globMatch(pattern, name, true)) out.set(name, [name, p.value]);
      }
    }
    return [...out.values()];
  }

  resetToDefault(name: string): void {
    const p = this.params.get(name)!;
    this.assign(p, p.defaultValue);
  }

  /**
   * Applies one directive from a file or the command line. Multi-word
   * parameters (save, bind...) take all words; repeated `save` lines add up.
   */
  applyDirective(name: string, args: string[]): void {
    const lname = name.toLowerCase();
    const p = this.params.get(lname);
    if (!p) throw new ConfigError("Bad directive or wrong number of arguments");
    if (p.kind !== "special" && args.length !== 1) throw new ConfigError("wrong number of arguments");
    let value = args.join(" ");
    if (p.name === "save" && this.fileLines.some((l) => /^save\s/i.test(l)) && value !== "") {
      value = `${p.value === p.defaultValue ? "" : p.value} ${value}`.trim();
    }
    this.assign(p, canonical(p, value));
    this.fileLines.push(`${lname} ${args.map(quoteIfNeeded).join(" ")}`);
  }

  /**
   * CONFIG REWRITE, as Redis does it: comments and other lines stay; each
   * parameter's lines are replaced in place (aliases by the canonical name),
   * leftover old lines blanked, and changed parameters not yet in the file
   * appended under a "# Generated by CONFIG REWRITE" marker.
   */
  rewrite(originalText: string): string {
    const lines = originalText.replace(/\r?\n$/, "").split(/\r?\n/);
    const slots = new Map<Param, number[]>();
    let hasMarker = false;
    lines.forEach((line, i) => {
      const t = line.trim();
      if (t.startsWith("#")) hasMarker ||= t.includes(REWRITE_MARKER);
      const p = t.startsWith("#") ? undefined : this.params.get(t.split(/\s/)[0].toLowerCase());
      if (p) slots.set(p, [...(slots.get(p) ?? []), i]);
    });
    const appended: string[] = [];
    for (const p of new Set(this.params.values())) {
      const free = slots.get(p) ?? [];
      for (const [line, force] of this.rewriteLines(p)) {
        const slot = free.shift();
        if (slot !== undefined) lines[slot] = line;
        else if (force) appended.push(line);
      }
      for (const orphan of free) lines[orphan] = "";
    }
    if (appended.length && !hasMarker) lines.push("", REWRITE_MARKER);
    return [...lines, ...appended].join("\n") + "\n";
  }

  /** The lines a parameter rewrites to, each with whether it must be written even if absent from the file. */
  private rewriteLines(p: Param): [string, boolean][] {
    const changed = p.value !== p.defaultValue;
    switch (p.kind) {
      case "memory":
        return [[`${p.name} ${p.value.endsWith("%") ? p.value : formatMemory(Number(p.value))}`, changed]];
      case "string":
        return [[`${p.name} ${quote(p.value)}`, changed]];
      case "special":
        break;
      default:
        return [[`${p.name} ${p.value}`, changed]];
    }
    switch (p.name) {
      case "save": {
        if (p.value === "") return [[`save ""`, true]];
        const w = p.value.split(" ");
        const out: [string, boolean][] = [];
        for (let i = 0; i < w.length; i += 2) out.push([`save ${w[i]} ${w[i + 1]}`, true]);
        return out;
      }
      case "dir":
      case "notify-keyspace-events":
        // Redis always writes dir (the cwd); it is empty only when no process set it.
        return [[`${p.name} ${quote(p.value)}`, p.name === "dir" ? p.value !== "" : changed]];
      case "client-output-buffer-limit": {
        const cur = p.value.split(" ");
        const def = p.defaultValue.split(" ");
        const out: [string, boolean][] = [];
        for (let i = 0; i < cur.length; i += 4) {
          const cls = cur[i] === "slave" ? "replica" : cur[i];
          const [hard, soft] = [cur[i + 1], cur[i + 2]].map((v) => formatMemory(Number(v)));
          const same = cur.slice(i, i + 4).join(" ") === def.slice(i, i + 4).join(" ");
          out.push([`${p.name} ${cls} ${hard} ${soft} ${cur[i + 3]}`, !same]);
        }
        return out;
      }
      case "replicaof":
        // In cluster mode a replica's primary lives in nodes.conf, so Redis writes no replicaof line (and blanks one).
        if (this.bool("cluster-enabled")) return [];
        return p.value === "" ? [] : [[`${p.name} ${p.value}`, changed]];
      default:
        return p.value === "" && !changed ? [] : [[`${p.name} ${p.value}`, changed]];
    }
  }
}

const REWRITE_MARKER = "# Generated by CONFIG REWRITE";

/** Redis's sdscatrepr: always quoted, with C escapes for quotes, backslashes and control bytes. */
function quote(v: string): string {
  const esc: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\x07": "\\a", "\b": "\\b" };
  // deno-lint-ignore no-control-regex
  return '"' + v.replace(/[\\"\x00-\x1f\x7f-\xff]/g, (c) => esc[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`) + '"';
}

function quoteIfNeeded(v: string): string {
  if (v !== "" && !/[\s"'\\]/.test(v)) return v;
  return '"' + v.replace(/[\\"]/g, (c) => "\\" + c).replace(/\n/g, "\\n").replace(/\r/g, "\\r") + '"';
}
