/**
 * Running scripts for an engine: the Lua VM with Redis's `redis` library,
 * the script cache, and one script run at a time.
 *
 * A script runs synchronously inside its command, as in Redis. Past
 * busy-reply-threshold the VM's count hook suspends it (a coroutine yield,
 * passed up through any coroutine the script made, see coroutines.ts) and
 * it goes on from a timer in short slices, so the engine reads other
 * clients in between: they get BUSY, except for allow_busy commands such
 * as SCRIPT KILL, which flags the run; the hook then raises the kill, and
 * nothing in the script can catch it (control.ts). The caller gets its
 * reply when the script ends; its pipelined commands wait, and so does the
 * rest of its command when the script was queued in MULTI (EXEC goes on
 * with its queue then: core/server/suspended.ts). Scripts of clients
 * without a connection (the AOF loader) are never suspended.
 */
import { scriptClusterError } from "../server/cluster-mode.ts";
import { lauxlib, lua, luaBytes, type LuaState } from "./lua.ts";
import { LuaVm } from "./vm.ts";
import { errorValueText, pushErrorTable, pushReply } from "./convert.ts";
import { writeLuaValue } from "./result.ts";
import { ScriptControl } from "./control.ts";
import type { FunctionRegistry } from "./functions.ts";
import { sha1hex } from "./sha1.ts";
import { Client, noConnection } from "../server/client.ts";
import type { Engine, LogLevel } from "../server/engine.ts";
import { VERSION } from "../server/engine.ts";
import type { Db } from "../db/db.ts";
import { lower, ownedArgs, str } from "../util/bytes.ts";
import { OOM_ERROR } from "../server/evict.ts";
import { monotonicMs } from "../util/monotonic.ts";

/** Shebang flags (`#!lua flags=...`), shared by scripts and functions. */
export interface ScriptFlags {
  /** No shebang: EVAL's historical behaviour. */
  compat: boolean;
  noWrites: boolean;
  allowOom: boolean;
  allowStale: boolean;
  noCluster: boolean;
  allowCrossSlotKeys: boolean;
}

export const FLAG_NAMES: Record<string, keyof ScriptFlags> = {
  "no-writes": "noWrites",
  "allow-oom": "allowOom",
  "allow-stale": "allowStale",
  "no-cluster": "noCluster",
  "allow-cross-slot-keys": "allowCrossSlotKeys",
};

export function noFlags(compat: boolean): ScriptFlags {
  return { compat, noWrites: false, allowOom: false, allowStale: false, noCluster: false, allowCrossSlotKeys: false };
}

/** A compiled EVAL script. */
export interface Script {
  ref: number;
  body: Uint8Array;
  flags: ScriptFlags;
}

/** What the caller asked for when starting a run. */
export interface RunRequest {
  /** The sha for EVAL, the function name for FCALL (shown in errors). */
  name: string;
  ref: number;
  isEval: boolean;
  readOnly: boolean;
  /** The script declared allow-oom: deny-oom commands run even while memory is over maxmemory. */
  allowOom: boolean;
  keys: Uint8Array[];
  args: Uint8Array[];
  /** The command as the caller sent it, for FUNCTION STATS (views into its input until the script is suspended). */
  argv: Uint8Array[];
}

interface Run extends RunRequest {
  caller: Client;
  co: LuaState;
  db: Db;
  resp: 2 | 3;
  wrote: boolean;
  startedAt: number;
  sliceStart: number;
  engineNow: number;
  canSuspend: boolean;
  suspended: boolean;
}

/** How long a suspended script runs before letting the engine read clients again: other clients wait about this long for BUSY. */
const SLICE_MS = 5;

const LOG_LEVELS: LogLevel[] = ["debug", "verbose", "notice", "warning"];

const NO_CONNECTION = noConnection("script");

export class Scripting {
  readonly vm: LuaVm;
  readonly scripts = new Map<string, Script>();
  run: Run | null = null;
  /** The function libraries, once something has used them (see functions.ts). */
  functions: FunctionRegistry | null = null;
  private readonly control = new ScriptControl();
  /** Whether KEYS and ARGV hold an EVAL's arrays, which a function must not see. */
  private evalGlobals = false;
  /** The client redis.call runs commands as (Redis's lua client). */
  private readonly client: Client;

  constructor(readonly engine: Engine) {
    this.vm = new LuaVm(this.control, (L) => this.onHook(L));
    this.client = new Client(0, -1, NO_CONNECTION, engine);
    this.client.inExec = true; // blocking commands answer at once, as inside MULTI
    this.defineRedisLibrary();
    this.vm.seal();
  }

  get busy(): boolean {
    return this.run !== null && this.run.suspended;
  }

  private defineRedisLibrary(): void {
    const vm = this.vm;
    const raise = (L: LuaState, msg: string): number => {
      pushErrorTable(L, msg);
      return lua.lua_error(L);
    };
    const argString = (L: LuaState): string | null =>
      lua.lua_gettop(L) === 1 && lua.lua_type(L, 1) === lua.LUA_TSTRING ? str(lua.lua_tolstring(L, 1)) : null;
    const noop = () => 0;
    vm.defineLibrary("redis", {
      call: (L) => this.redisCall(L, true),
      pcall: (L) => this.redisCall(L, false),
      sha1hex: (L) => {
        if (lua.lua_gettop(L) !== 1) return raise(L, "wrong number of arguments");
        lua.lua_pushstring(L, luaBytes(sha1hex(lauxlib.luaL_checklstring(L, 1) ?? new Uint8Array())));
        return 1;
      },
      error_reply: (L) => {
        const s = argString(L);
        pushErrorTable(L, s === null ? "wrong number or type of arguments" : s.startsWith("-") ? s : "-" + s);
        return 1;
      },
      status_reply: (L) => {
        const s = argString(L);
        if (s === null) {
          pushErrorTable(L, "wrong number or type of arguments");
          return 1;
        }
        lua.lua_createtable(L, 0, 1);
        lua.lua_pushstring(L, luaBytes(s));
        lua.lua_setfield(L, -2, luaBytes("ok"));
        return 1;
      },
      log: (L) => {
        const argc = lua.lua_gettop(L);
        if (argc < 2) return raise(L, "redis.log() requires two arguments or more.");
        if (lua.lua_type(L, 1) !== lua.LUA_TNUMBER) return raise(L, "First argument must be a number (log level).");
        const level = lua.lua_tonumber(L, 1);
        if (!(level >= 0 && level <= 3)) return raise(L, "Invalid debug level.");
        const parts: string[] = [];
        for (let i = 2; i <= argc; i++) {
          const s = lua.lua_tolstring(L, i);
          if (s !== null) parts.push(str(s));
        }
        this.engine.log(LOG_LEVELS[Math.trunc(level)], parts.join(" "));
        return 0;
      },
      setresp: (L) => {
        if (lua.lua_gettop(L) !== 1) return raise(L, "redis.setresp() requires one argument.");
        const v = lua.lua_tonumber(L, 1);
        if (v !== 2 && v !== 3) return raise(L, "RESP version must be 2 or 3.");
        if (this.run) this.run.resp = v;
        return 0;
      },
      set_repl: (L) => {
        if (lua.lua_gettop(L) !== 1) return raise(L, "redis.set_repl() requires one argument.");
        const v = lua.lua_tonumber(L, 1);
        if (!(v >= 0 && v <= 3)) return raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
        return 0;
      },
      replicate_commands: (L) => {
        lua.lua_pushboolean(L, true);
        return 1;
      },
      breakpoint: (L) => {
        lua.lua_pushboolean(L, false);
        return 1;
      },
      debug: noop,
      acl_check_cmd: (L) => {
        lua.lua_pushboolean(L, true);
        return 1;
      },
    }, {
      LOG_DEBUG: 0,
      LOG_VERBOSE: 1,
      LOG_NOTICE: 2,
      LOG_WARNING: 3,
      REPL_NONE: 0,
      REPL_AOF: 1,
      REPL_SLAVE: 2,
      REPL_REPLICA: 2,
      REPL_ALL: 3,
      REDIS_VERSION: VERSION,
      REDIS_VERSION_NUM: VERSION.split(".").reduce((n, part) => n * 256 + Number(part), 0),
    });
  }

  // ---- redis.call ----

  /** redis.call / redis.pcall: runs a command as the script client and pushes its reply. */
  private redisCall(L: LuaState, raise: boolean): number {
    const run = this.run;
    const argc = lua.lua_gettop(L);
    const fail = (msg: string, fromCommand = false): number => {
      pushErrorTable(L, msg, fromCommand);
      return raise ? lua.lua_error(L) : 1;
    };
    if (argc === 0) return fail("Please specify at least one argument for this redis lib call");
    const argv: Uint8Array[] = [];
    for (let i = 1; i <= argc; i++) {
      const t = lua.lua_type(L, i);
      if (t !== lua.LUA_TSTRING && t !== lua.LUA_TNUMBER) return fail("Lua redis lib command arguments must be strings or integers");
      argv.push(lua.lua_tolstring(L, i)); // Lua strings are immutable: no copy needed
    }
    if (run === null) return fail("redis.call can only be called inside a script invocation");
    let cmd = this.engine.commands.find(argv[0]);
    if (cmd?.subcommands && argv.length >= 2) cmd = cmd.subcommands.get(lower(str(argv[1])));
    if (cmd === undefined) return fail("Unknown Redis command called from script");
    if ((cmd.arity > 0 && argc !== cmd.arity) || argc < -cmd.arity) {
      return fail("Wrong number of args calling Redis command from script");
    }
    if (cmd.flags.has("noscript")) return fail("This Redis command is not allowed from script");
    // Over maxmemory when the script started, a deny-oom command is refused until the script has written (Redis's scriptVerifyOOM).
    if (!run.allowOom && !run.wrote && this.engine.evictor.limit !== 0 && this.engine.evictor.oomAtStart && cmd.flags.has("denyoom")) {
      return fail("-" + OOM_ERROR);
    }
    if (cmd.flags.has("write")) {
      if (run.readOnly) return fail("Write commands are not allowed from read-only scripts.");
      // A read-only replica refuses a script's first write (after one, failing would leave it half done), as Redis does.
      const replica = this.engine.replica;
      if (!run.wrote && replica.host !== null && run.caller !== replica.master && this.engine.config.bool("replica-read-only")) {
        return fail("-READONLY You can't write against a read only replica.");
      }
      run.wrote = true;
    }
    if (this.engine.cluster !== null) {
      const refused = scriptClusterError(this.engine, run.caller, cmd, argv);
      if (refused !== null) return fail(refused);
    }
    const c = this.client;
    c.db = run.db;
    c.resp = run.resp;
    c.user = run.caller.user;
    this.engine.call(c, cmd, argv);
    run.db = c.db;
    const reply = c.out.take();
    if (reply[0] === 45) return fail(str(reply.subarray(0, reply.length - 2)), true);
    pushReply(L, reply, 0);
    return 1;
  }

  // ---- running ----

  /** Compiles an EVAL script body (shebang already parsed); returns the error text on failure. */
  compileScript(body: Uint8Array, sha: string, flags: ScriptFlags, shebangLength: number): Script | string {
    const ref = this.vm.compile(body.subarray(shebangLength), "@user_script");
    if (typeof ref === "string") return `ERR Error compiling script (new function): ${ref}`;
    const script = { ref, body: body.slice(), flags };
    this.scripts.set(sha, script);
    return script;
  }

  flushScripts(): void {
    for (const s of this.scripts.values()) this.vm.release(s.ref);
    this.scripts.clear();
  }

  /** Starts a script for c; its reply is written now, or when a suspended script ends. */
  start(c: Client, req: RunRequest): void {
    const vm = this.vm;
    if (req.isEval || this.evalGlobals) {
      // Functions share the globals: they must not see the last script's keys.
      vm.setGlobal("KEYS", req.isEval ? req.keys : null);
      vm.setGlobal("ARGV", req.isEval ? req.args : null);
      this.evalGlobals = req.isEval;
    }
    const now = monotonicMs();
    const co = vm.thread(req.ref, req.isEval ? [] : [req.keys, req.args]);
    this.control.begin(co);
    this.run = {
      name: req.name,
      ref: req.ref,
      isEval: req.isEval,
      readOnly: req.readOnly,
      allowOom: req.allowOom,
      keys: req.keys,
      args: req.args,
      argv: req.argv,
      caller: c,
      co,
      db: c.db,
      resp: 2,
      wrote: false,
      startedAt: now,
      sliceStart: now,
      engineNow: this.engine.now,
      canSuspend: c.fd !== -1,
      suspended: false,
    };
    this.step();
  }

  private step(): void {
    const run = this.run!;
    run.sliceStart = monotonicMs();
    this.control.suspending = false;
    const status = this.vm.resume(run.co);
    if (status === "yield") return this.suspend(run);
    this.run = null;
    this.control.end();
    this.reply(run, status === "ok");
    this.vm.releaseThread(run.co, status === "ok");
    if (run.suspended) this.resumeCaller(run.caller);
  }

  private suspend(run: Run): void {
    if (!run.suspended) {
      run.suspended = true;
      // The caller's argument views only last until the engine reads input again.
      run.argv = ownedArgs(run.argv);
      run.caller.inBusyScript = true;
      const kill = run.isEval ? "SCRIPT KILL" : "FUNCTION KILL";
      this.engine.busyError = busyError(run.isEval);
      this.engine.log(
        "warning",
        `Slow script detected: still in execution after ${Math.round(monotonicMs() - run.startedAt)} milliseconds. You can try killing the script using the ${kill} command. Script name is: ${run.name}.`,
      );
    }
    this.engine.suspended.pause();
    setTimeout(() => {
      this.engine.suspended.resume();
      this.engine.now = run.engineNow;
      this.step();
    }, 0);
  }

  /** A suspended script ended: its caller's command goes on (to its end, or to the next script that suspends). */
  private resumeCaller(c: Client): void {
    this.engine.busyError = null;
    c.inBusyScript = false;
    this.engine.suspended.finish(c);
  }

  /** Writes the script's result, or its error with where it was raised, to the caller. */
  private reply(run: Run, ok: boolean): void {
    const { co, caller: c } = run;
    const L = this.vm.L;
    if (ok) {
      if (lua.lua_gettop(co) === 0) return c.out.nullBulk();
      lua.lua_settop(co, 1);
      lua.lua_xmove(co, L, 1);
      writeLuaValue(c, L, -1, run.resp);
      return lua.lua_pop(L, 1);
    }
    const place = this.vm.errorPlace(co);
    lua.lua_xmove(co, L, 1);
    const { text, counted } = errorValueText(L);
    lua.lua_pop(L, 1);
    let msg = text;
    if (place) msg += ` script: ${run.name}, on ${place.source}:${place.line}.`;
    if (counted) c.error(msg);
    else c.out.error(msg);
  }

  /**
   * The count hook: kills a script on SCRIPT/FUNCTION KILL, wherever it is;
   * suspends it past busy-reply-threshold wherever the yield can reach
   * the engine (everywhere a script can loop, see control.ts).
   */
  private onHook(L: LuaState): void {
    const run = this.run;
    if (run === null) return;
    this.control.raiseIfKilled(L);
    if (!run.canSuspend || !this.control.canSuspend(L)) return;
    const now = monotonicMs();
    const threshold = this.engine.config.num("busy-reply-threshold");
    if (threshold > 0 && now - run.startedAt > threshold && now - run.sliceStart > SLICE_MS) {
      this.control.suspending = true;
      lua.lua_yield(L, 0);
    }
  }

  /** SCRIPT KILL / FUNCTION KILL: replies and flags the running script. */
  kill(c: Client, isEval: boolean): void {
    const run = this.run;
    if (run === null || !run.suspended) return c.error("NOTBUSY No scripts in execution right now.");
    if (run.wrote) {
      return c.error(
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
      );
    }
    if (run.isEval !== isEval) return c.error(busyError(run.isEval));
    this.control.killed = true;
    c.out.ok();
  }
}

/** What other clients get while a script is suspended: it names the KILL that applies. */
function busyError(isEval: boolean): string {
  return `BUSY Redis is busy running a script. You can only call ${isEval ? "SCRIPT" : "FUNCTION"} KILL or SHUTDOWN NOSAVE.`;
}

/** The engine's scripting state if something has used it: a save need not start a Lua VM to find no functions. */
export function startedScripting(engine: Engine): Scripting | null {
  return engine.scripting;
}

/** The engine's scripting state, created (with its Lua VM) on first use. */
export function scripting(engine: Engine): Scripting {
  return engine.scripting ??= new Scripting(engine);
}
