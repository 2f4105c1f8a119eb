/**
 * Configuration: the parameter registry behind redis.conf, the command line
 * and CONFIG GET/SET/REWRITE. Values are held as Redis prints them; typed
 * readers parse them, and listeners let hot paths cache what they need.
 */
import { PARAMS, type ParamKind, type ParamSpec } from "./params.ts";
import { RESPITE_PARAMS } from "./respite-params.ts";
import { globMatch } from "../util/glob.ts";

interface Param {
  name: string;
  kind: ParamKind;
  defaultValue: string;
  value: string;
  values?: string[];
  immutable: boolean;
  protected: boolean;
  aliases: string[];
}

export class ConfigError extends Error {}

/** Parses Redis memory values: 1k = 1000, 1kb = 1024, up to gb. */
export function parseMemory(s: string): number | null {
  const m = /^(-?\d+)(k|kb|m|mb|g|gb|b)?$/i.exec(s);
  if (!m) return null;
  const units: Record<string, number> = { "": 1, b: 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  return Number(m[1]) * units[(m[2] ?? "").toLowerCase()];
}

const INT = /^-?\d+$/;
const KEYSPACE_FLAGS = "KEg$lshzxetmdnA";

/** Validates and canonicalizes a value for its parameter; throws ConfigError with Redis's reason. */
function canonical(p: Param, value: string): string {
  switch (p.kind) {
    case "bool": {
      const v = value.toLowerCase();
      if (v !== "yes" && v !== "no") throw new ConfigError("argument must be 'yes' or 'no'");
      return v;
    }
    case "int": {
      if (!INT.test(value)) throw new ConfigError("argument couldn't be parsed into an integer");
      if (p.name === "hz") return String(Math.min(500, Math.max(1, Number(value))));
      return String(Number(value));
    }
    case "memory": {
      const n = parseMemory(value);
      if (n === null) throw new ConfigError("argument must be a memory value");
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
      return canonicalSpecial(p.name, value);
    default:
      return value;
  }
}

function canonicalSpecial(name: string, value: string): string {
  const words = value.split(/\s+/).filter(Boolean);
  switch (name) {
    case "save": {
      if (words.length % 2 !== 0 || words.some((w) => !INT.test(w))) throw new ConfigError("Invalid save parameters");
      return words.join(" ");
    }
    case "client-output-buffer-limit": {
      if (words.length % 4 !== 0) throw new ConfigError("Wrong number of arguments in buffer limit configuration.");
      return words.join(" ");
    }
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
        values: opts?.values?.split(" "),
        immutable: flags.includes("immutable"),
        protected: flags.includes("protected"),
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
    const p = this.params.get(name);
    if (!p) throw new Error(`unknown config ${name}`);
    return p.value;
  }

  num(name: string): number {
    return Number(this.get(name));
  }

  bool(name: string): boolean {
    return this.get(name) === "yes";
  }

  /** Calls fn now and after every change of the parameter. */
  watch(name: string, fn: (value: string) => void): void {
    const p = this.params.get(name)!;
    const list = this.listeners.get(p.name) ?? [];
    list.push(fn);
    this.listeners.set(p.name, list);
    fn(p.value);
  }

  /**
   * Sets several parameters atomically, as CONFIG SET does: all are
   * validated first, then applied; returns null or Redis's error text.
   */
  setMany(pairs: [string, string][], fromUser: boolean): string | null {
    const seen = new Set<Param>();
    const staged: [Param, string][] = [];
    for (const [rawName, value] of pairs) {
      const p = this.params.get(rawName.toLowerCase());
      if (!p) return `ERR Unknown option or number of arguments for CONFIG SET - '${rawName}'`;
      const fail = (why: string) => `ERR CONFIG SET failed (possibly related to argument '${rawName}') - ${why}`;
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
    for (const [p, value] of staged) this.assign(p, value);
    return null;
  }

  private assign(p: Param, value: string): void {
    if (p.value === value) return;
    p.value = value;
    for (const fn of this.listeners.get(p.name) ?? []) fn(value);
  }

  /** CONFIG GET: every parameter (and alias) whose name matches one of the globs. */
  matching(patterns: string[]): [string, string][] {
    const out = new Map<string, string>();
    for (const pattern of patterns) {
      const lp = pattern.toLowerCase();
      for (const [name, p] of this.params) {
        if (!out.has(name) && globMatch(lp, name, true)) out.set(name, p.value);
      }
    }
    return [...out];
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
   * CONFIG REWRITE: the original file with each changed parameter's line
   * replaced (or appended), and parameters back at their default dropped.
   */
  rewrite(originalText: string): string {
    const written = new Set<Param>();
    const out: string[] = [];
    for (const line of originalText.split("\n")) {
      const m = /^\s*([A-Za-z0-9_-]+)\s/.exec(line + " ");
      const p = m && !line.trimStart().startsWith("#") ? this.params.get(m[1].toLowerCase()) : undefined;
      if (!p) {
        out.push(line);
        continue;
      }
      if (written.has(p)) continue;
      written.add(p);
      if (p.value !== p.defaultValue || p.name === "dir") out.push(this.line(p));
    }
    const appended = [...new Set(this.params.values())].filter(
      (p) => !written.has(p) && p.value !== p.defaultValue && p.name !== "dir",
    );
    if (appended.length) {
      if (!out.includes("# Generated by CONFIG REWRITE")) out.push("# Generated by CONFIG REWRITE");
      for (const p of appended) out.push(this.line(p));
    }
    return out.join("\n").replace(/\n*$/, "\n");
  }

  private line(p: Param): string {
    if (p.kind === "special" && p.name === "save" && p.value === "") return `save ""`;
    if (p.kind === "special" && p.name === "save") {
      const w = p.value.split(" ");
      const lines: string[] = [];
      for (let i = 0; i < w.length; i += 2) lines.push(`save ${w[i]} ${w[i + 1]}`);
      return lines.join("\n");
    }
    if (p.kind === "special" && p.name !== "notify-keyspace-events") return `${p.name} ${p.value}`;
    return `${p.name} ${quoteIfNeeded(p.value)}`;
  }
}

function quoteIfNeeded(v: string): string {
  if (v !== "" && !/[\s"'\\]/.test(v)) return v;
  return '"' + v.replace(/[\\"]/g, (c) => "\\" + c).replace(/\n/g, "\\n").replace(/\r/g, "\\r") + '"';
}
