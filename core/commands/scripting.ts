/** Lua scripting: EVAL EVALSHA EVAL_RO EVALSHA_RO and SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP/DEBUG. */
import { monitorScriptCall } from "./monitor.ts";
import type { CommandDef, KeySpecDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { intArg } from "./args.ts";
import { replyHelp } from "./help.ts";
import { is, lower, str } from "../util/bytes.ts";
import { type Script, scripting } from "../scripting/runner.ts";
import { sha1hex } from "../scripting/sha1.ts";
import { evalShebang } from "../scripting/shebang.ts";

/** numkeys and the keys/args split shared by EVAL and FCALL; null after replying with the error. */
export function splitKeys(c: Client, argv: Uint8Array[], badNumber?: string): { keys: Uint8Array[]; args: Uint8Array[] } | null {
  const numkeys = intArg(c, argv[2], badNumber);
  if (numkeys === null) return null;
  if (numkeys > argv.length - 3) {
    c.error("ERR Number of keys can't be greater than number of args");
    return null;
  }
  if (numkeys < 0) {
    c.error("ERR Number of keys can't be negative");
    return null;
  }
  return { keys: argv.slice(3, 3 + numkeys), args: argv.slice(3 + numkeys) };
}

/** Key positions of a numkeys command (EVAL, FCALL): argv[3 .. 3+numkeys). */
export function numkeysKeys(argv: Uint8Array[]): number[] {
  const n = Number(str(argv[2] ?? new Uint8Array()));
  if (!Number.isInteger(n) || n <= 0 || n > argv.length - 3) return [];
  return Array.from({ length: n }, (_, i) => 3 + i);
}

/** Compiles a body into the cache (or finds it there); null after replying with the error. */
function loadScript(c: Client, body: Uint8Array): { sha: string; script: Script } | null {
  const s = scripting(c.engine);
  const sha = sha1hex(body);
  const cached = s.scripts.get(sha);
  if (cached) return { sha, script: cached };
  const shebang = evalShebang(str(body));
  if (typeof shebang === "string") {
    c.error(shebang);
    return null;
  }
  const script = s.compileScript(body, sha, shebang.flags, shebang.length);
  if (typeof script === "string") {
    c.error(script);
    return null;
  }
  return { sha, script };
}

function evalGeneric(c: Client, argv: Uint8Array[], bySha: boolean, readOnlyCommand: boolean): void {
  monitorScriptCall(c, argv);
  const split = splitKeys(c, argv);
  if (split === null) return;
  let found: { sha: string; script: Script } | null;
  if (bySha) {
    const sha = lower(str(argv[1]));
    const script = sha.length === 40 ? scripting(c.engine).scripts.get(sha) : undefined;
    if (script === undefined) return c.error("NOSCRIPT No matching script. Please use EVAL.");
    found = { sha, script };
  } else found = loadScript(c, argv[1]);
  if (found === null) return;
  const { sha, script } = found;
  if (readOnlyCommand && !script.flags.compat && !script.flags.noWrites) {
    return c.error("ERR Can not execute a script with write flag using *_ro command.");
  }
  if (!script.flags.compat && !script.flags.noWrites && writesRefusedOnReplica(c)) {
    return c.error("READONLY You can't write against a read only replica.");
  }
  scripting(c.engine).start(c, {
    name: sha,
    ref: script.ref,
    isEval: true,
    readOnly: readOnlyCommand || script.flags.noWrites,
    allowOom: !script.flags.compat && script.flags.allowOom,
    argv,
    ...split,
  });
}

/** A script that may write (flags without no-writes), on a read-only replica: refused up front, as Redis 7.0 counts it a write command. */
export function writesRefusedOnReplica(c: Client): boolean {
  const r = c.engine.replica;
  return r.host !== null && c !== r.master && c.engine.config.bool("replica-read-only");
}

const EVAL_NOTES = "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE";
const RO_NOTES = "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS";
const keySpec = (flags: string, notes?: string): KeySpecDef[] => [{ flags, notes, begin: 2, find: { keynum: [0, 1, 1] } }];

function evalDef(name: string, summary: string, since: string, bySha: boolean, ro: boolean): CommandDef {
  return {
    name,
    arity: -3,
    flags: (ro ? "readonly " : "") + "noscript stale skip_monitor no_mandatory_keys",
    acl: "scripting",
    getKeys: numkeysKeys,
    keySpecs: keySpec(ro ? "RO access" : "RW access update", bySha ? undefined : ro ? RO_NOTES : EVAL_NOTES),
    group: "scripting",
    since,
    summary,
    complexity: "Depends on the script that is executed.",
    run: (c, argv) => evalGeneric(c, argv, bySha, ro),
  };
}

const SCRIPT_HELP = [
  "DEBUG (YES|SYNC|NO)",
  "    Set the debug mode for subsequent scripts executed.",
  "EXISTS <sha1> [<sha1> ...]",
  "    Return information about the existence of the scripts in the script cache.",
  "FLUSH [ASYNC|SYNC]",
  "    Flush the Lua scripts cache. Very dangerous on replicas.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the scripts cache.",
  "    * SYNC: Synchronously flush the scripts cache.",
  "KILL",
  "    Kill the currently executing Lua script.",
  "LOAD <script>",
  "    Load a script into the scripts cache without executing it.",
];

/** FLUSH's optional ASYNC|SYNC; false after replying with the error. */
export function flushModeOk(c: Client, argv: Uint8Array[], what: string): boolean {
  if (argv.length === 2 || (argv.length === 3 && (is(argv[2], "sync") || is(argv[2], "async")))) return true;
  c.error(`ERR ${what} FLUSH only support SYNC|ASYNC option`);
  return false;
}

function sub(name: string, arity: number, flags: string, summary: string, run: CommandDef["run"], extra: Partial<CommandDef> = {}): CommandDef {
  return { name, arity, flags, acl: "scripting", group: "scripting", since: "2.6.0", summary, run, ...extra };
}

export const scriptingCommands: CommandDef[] = [
  evalDef("eval", "Execute a Lua script server side", "2.6.0", false, false),
  evalDef("evalsha", "Execute a Lua script server side", "2.6.0", true, false),
  evalDef("eval_ro", "Execute a read-only Lua script server side", "7.0.0", false, true),
  evalDef("evalsha_ro", "Execute a read-only Lua script server side", "7.0.0", true, true),
  {
    name: "script",
    arity: -2,
    flags: "",
    group: "scripting",
    since: "2.6.0",
    summary: "A container for Lua scripts management commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      sub("debug", 3, "noscript", "Set the debug mode for executed scripts.", (c) => {
        c.error("ERR SCRIPT DEBUG is not supported by Respite");
      }, { since: "3.2.0" }),
      sub("exists", -3, "noscript", "Check existence of scripts in the script cache.", (c, argv) => {
        const scripts = scripting(c.engine).scripts;
        c.out.array(argv.length - 2);
        for (let i = 2; i < argv.length; i++) c.out.int(scripts.has(lower(str(argv[i]))) ? 1 : 0);
      }, { tips: "request_policy:all_shards response_policy:agg_logical_and", complexity: "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation)." }),
      sub("flush", -2, "noscript", "Remove all the scripts from the script cache.", (c, argv) => {
        if (!flushModeOk(c, argv, "SCRIPT")) return;
        scripting(c.engine).flushScripts();
        c.out.ok();
      }, { tips: "request_policy:all_nodes response_policy:all_succeeded", complexity: "O(N) with N being the number of scripts in cache" }),
      sub("help", 2, "loading stale", "Show helpful text about the different subcommands", (c) => replyHelp(c, "script", SCRIPT_HELP), { since: "5.0.0" }),
      sub("kill", 2, "noscript allow_busy", "Kill the script currently in execution.", (c) => scripting(c.engine).kill(c, true), {
        tips: "request_policy:all_shards response_policy:one_succeeded",
      }),
      sub("load", 3, "noscript stale", "Load the specified Lua script into the script cache.", (c, argv) => {
        const found = loadScript(c, argv[2]);
        if (found) c.out.bulkStr(found.sha);
      }, { tips: "request_policy:all_nodes response_policy:all_succeeded", complexity: "O(N) with N being the length in bytes of the script body." }),
    ],
  },
];
