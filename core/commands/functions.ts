/** Redis functions: FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/RESTORE/STATS/KILL/HELP, FCALL and FCALL_RO. */
import { monitorScriptCall } from "./monitor.ts";
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { replyHelp } from "./help.ts";
import { is, str } from "../util/bytes.ts";
import { globMatch } from "../util/glob.ts";
import { scripting } from "../scripting/runner.ts";
import { functionRegistry, type FunctionRegistry, type Library } from "../scripting/functions.ts";
import { dumpLibraries, parseLibraries } from "../scripting/function-dump.ts";
import { numkeysKeys, splitKeys, writesRefusedOnReplica } from "./scripting.ts";
import { monotonicMs } from "../util/monotonic.ts";

const registry = (c: Client): FunctionRegistry => functionRegistry(scripting(c.engine));

function fcall(c: Client, argv: Uint8Array[], readOnlyCommand: boolean): void {
  monitorScriptCall(c, argv);
  const fn = registry(c).functions.get(str(argv[1]));
  if (fn === undefined) return c.error("ERR Function not found");
  const split = splitKeys(c, argv, "ERR Bad number of keys provided");
  if (split === null) return;
  if (readOnlyCommand && !fn.flags.noWrites) return c.error("ERR Can not execute a script with write flag using *_ro command.");
  if (!fn.flags.noWrites && writesRefusedOnReplica(c)) return c.error("READONLY You can't write against a read only replica.");
  scripting(c.engine).start(c, {
    name: fn.name,
    ref: fn.ref,
    isEval: false,
    readOnly: readOnlyCommand || fn.flags.noWrites,
    allowOom: fn.flags.allowOom,
    argv,
    ...split,
  });
}

function load(c: Client, argv: Uint8Array[]): void {
  let replace = false;
  for (let i = 2; i < argv.length - 1; i++) {
    if (is(argv[i], "replace")) replace = true;
    else return c.error(`ERR Unknown option given: ${str(argv[i])}`);
  }
  const result = registry(c).load(argv[argv.length - 1], replace);
  if (typeof result !== "string") return c.error(result.error);
  c.engine.dirty++; // a change to propagate, as Redis's server.dirty++
  c.out.bulkStr(result);
}

function writeLibrary(c: Client, lib: Library, withCode: boolean): void {
  c.out.map(withCode ? 4 : 3);
  c.out.bulkStr("library_name");
  c.out.bulkStr(lib.name);
  c.out.bulkStr("engine");
  c.out.bulkStr("LUA");
  c.out.bulkStr("functions");
  c.out.array(lib.functions.size);
  for (const fn of lib.functions.values()) {
    c.out.map(3);
    c.out.bulkStr("name");
    c.out.bulkStr(fn.name);
    c.out.bulkStr("description");
    if (fn.description === null) c.out.nullBulk();
    else c.out.bulkStr(fn.description);
    c.out.bulkStr("flags");
    c.out.set(fn.flagNames.length);
    for (const f of fn.flagNames) c.out.simple(f);
  }
  if (withCode) {
    c.out.bulkStr("library_code");
    c.out.bulk(lib.code);
  }
}

function list(c: Client, argv: Uint8Array[]): void {
  let withCode = false;
  let pattern: string | null = null;
  for (let i = 2; i < argv.length; i++) {
    if (!withCode && is(argv[i], "withcode")) withCode = true;
    else if (pattern === null && is(argv[i], "libraryname")) {
      if (i >= argv.length - 1) return c.error("ERR library name argument was not given");
      pattern = str(argv[++i]);
    } else return c.error(`ERR Unknown argument ${str(argv[i])}`);
  }
  const libs = [...registry(c).libraries.values()].filter((l) => pattern === null || globMatch(pattern, l.name));
  c.out.array(libs.length);
  for (const lib of libs) writeLibrary(c, lib, withCode);
}

function restore(c: Client, argv: Uint8Array[]): void {
  let policy = "append";
  if (argv.length === 4) {
    policy = str(argv[3]).toLowerCase();
    if (!["flush", "append", "replace"].includes(policy)) {
      return c.error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
    }
  } else if (argv.length > 4) return c.error("ERR syntax error");
  const codes = parseLibraries(argv[2]);
  if (codes === null) return c.error("ERR DUMP payload version or checksum are wrong");
  const reg = registry(c);
  const before = [...reg.libraries.values()].map((l) => l.code);
  if (policy === "flush") reg.flush();
  for (const code of codes) {
    const result = reg.load(code, policy === "replace", true);
    if (typeof result !== "string") {
      // All or nothing: put the libraries back as they were.
      reg.flush();
      for (const old of before) reg.load(old, false);
      return c.error(result.error);
    }
  }
  c.engine.dirty++;
  c.out.ok();
}

function stats(c: Client): void {
  const reg = registry(c);
  const run = scripting(c.engine).run;
  // As in Redis, an EVAL script keeps FUNCTION STATS out too.
  if (run !== null && run.isEval && run.suspended) return c.error(c.engine.busyError!);
  c.out.map(2);
  c.out.bulkStr("running_script");
  if (run === null || run.isEval) c.out.nullBulk();
  else {
    c.out.map(3);
    c.out.bulkStr("name");
    c.out.bulkStr(run.name);
    c.out.bulkStr("command");
    c.out.array(run.argv.length);
    for (const a of run.argv) c.out.bulk(a);
    c.out.bulkStr("duration_ms");
    c.out.int(Math.round(monotonicMs() - run.startedAt));
  }
  c.out.bulkStr("engines");
  c.out.map(1);
  c.out.bulkStr("LUA");
  c.out.map(2);
  c.out.bulkStr("libraries_count");
  c.out.int(reg.libraries.size);
  c.out.bulkStr("functions_count");
  c.out.int(reg.functions.size);
}

const FUNCTION_HELP = [
  "LOAD [REPLACE] <FUNCTION CODE>",
  "    Create a new library with the given library name and code.",
  "DELETE <LIBRARY NAME>",
  "    Delete the given library.",
  "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
  "    Return general information on all the libraries:",
  "    * Library name",
  "    * The engine used to run the Library",
  "    * Library description",
  "    * Functions list",
  "    * Library code (if WITHCODE is given)",
  "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
  "STATS",
  "    Return information about the current function running:",
  "    * Function name",
  "    * Command used to run the function",
  "    * Duration in MS that the function is running",
  "    If no function is running, return nil",
  "    In addition, returns a list of available engines.",
  "KILL",
  "    Kill the current running function.",
  "FLUSH [ASYNC|SYNC]",
  "    Delete all the libraries.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the libraries.",
  "    * SYNC: Synchronously flush the libraries.",
  "DUMP",
  "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
  "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
  "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
  "    control how to handle existing libraries (default APPEND):",
  "    * FLUSH: delete all existing libraries.",
  "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
  "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
  "      libraries with the new libraries (notice that even on this option there is a chance of failure",
  "      in case of functions name collision with another library).",
];

const ALL_SHARDS = "request_policy:all_shards response_policy:all_succeeded";

function sub(name: string, arity: number, flags: string, summary: string, run: CommandDef["run"], extra: Partial<CommandDef> = {}): CommandDef {
  return { name, arity, flags, acl: "scripting", group: "scripting", since: "7.0.0", summary, run, ...extra };
}

function fcallDef(name: string, summary: string, ro: boolean): CommandDef {
  return {
    name,
    arity: -3,
    flags: (ro ? "readonly " : "") + "noscript stale skip_monitor no_mandatory_keys",
    acl: "scripting",
    getKeys: numkeysKeys,
    keySpecs: [{
      flags: ro ? "RO access" : "RW access update",
      notes: `We cannot tell how the keys will be used so we assume the worst, ${ro ? "RO and ACCESS" : "RW and UPDATE"}`,
      begin: 2,
      find: { keynum: [0, 1, 1] },
    }],
    group: "scripting",
    since: "7.0.0",
    summary,
    complexity: "Depends on the function that is executed.",
    run: (c, argv) => fcall(c, argv, ro),
  };
}

export const functionCommands: CommandDef[] = [
  fcallDef("fcall", "Invoke a function", false),
  fcallDef("fcall_ro", "Invoke a read-only function", true),
  {
    name: "function",
    arity: -2,
    flags: "",
    group: "scripting",
    since: "7.0.0",
    summary: "A container for function commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      sub("delete", 3, "write noscript", "Delete a function by name", (c, argv) => {
        const reg = registry(c);
        const lib = reg.libraries.get(str(argv[2]));
        if (lib === undefined) return c.error("ERR Library not found");
        reg.remove(lib);
        c.engine.dirty++;
        c.out.ok();
      }, { tips: ALL_SHARDS }),
      sub("dump", 2, "noscript", "Dump all functions into a serialized binary payload", (c) => {
        c.out.bulk(dumpLibraries([...registry(c).libraries.values()].map((l) => l.code)));
      }, { complexity: "O(N) where N is the number of functions" }),
      sub("flush", -2, "write noscript", "Deleting all functions", (c, argv) => {
        if (argv.length > 3 || (argv.length === 3 && !is(argv[2], "sync") && !is(argv[2], "async"))) {
          return c.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        }
        registry(c).flush();
        c.engine.dirty++;
        c.out.ok();
      }, { tips: ALL_SHARDS, complexity: "O(N) where N is the number of functions deleted" }),
      sub("help", 2, "loading stale", "Show helpful text about the different subcommands", (c) => replyHelp(c, "function", FUNCTION_HELP)),
      sub("kill", 2, "noscript allow_busy", "Kill the function currently in execution.", (c) => scripting(c.engine).kill(c, false), {
        tips: "request_policy:all_shards response_policy:one_succeeded",
      }),
      sub("list", -2, "noscript", "List information about all the functions", list, {
        tips: "nondeterministic_output_order",
        complexity: "O(N) where N is the number of functions",
      }),
      sub("load", -3, "write denyoom noscript", "Create a function with the given arguments (name, code, description)", load, {
        tips: ALL_SHARDS,
        complexity: "O(1) (considering compilation time is redundant)",
      }),
      sub("restore", -3, "write denyoom noscript", "Restore all the functions on the given payload", restore, {
        tips: ALL_SHARDS,
        complexity: "O(N) where N is the number of functions on the payload",
      }),
      sub("stats", 2, "noscript allow_busy", "Return information about the function currently running (name, description, duration)", stats, {
        tips: "nondeterministic_output request_policy:all_shards response_policy:special",
      }),
    ],
  },
];
