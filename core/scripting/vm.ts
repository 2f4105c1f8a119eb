/**
 * One Lua state per engine, set up as Redis sets up its own: the standard
 * libraries with Lua 5.1's names and behaviour (prelude.ts, libs.ts), the
 * redis, bit, cjson, cmsgpack and struct libraries, and sealed globals:
 * reading a missing global is an error, and the globals, every library
 * table and their metatables are read-only (readonly.ts), so nothing one
 * script or function does is seen by another. EVAL scripts see the
 * globals themselves; function libraries see them through an empty proxy
 * whose reads FUNCTION LOAD points at its own API while a library loads.
 * Scripts run as coroutines so that a count hook can suspend a long one
 * (see runner.ts); FUNCTION LOAD's code is stopped after its time limit.
 */
import { lauxlib, lua, luaBytes, type LuaState, lualib, patchNumbers } from "./lua.ts";
import { PRELUDE } from "./prelude.ts";
import { str } from "../util/bytes.ts";
import { openDataLibraries, openLua51Libraries } from "./libs.ts";
import { errorValueText, pushErrorTable } from "./convert.ts";
import type { ScriptControl } from "./control.ts";
import { guardSetmetatable, protectTree, rawsetWritable, writable } from "./readonly.ts";
import { monotonicMs } from "../util/monotonic.ts";

const INDEX = luaBytes("__index");

/** How often (in VM instructions) the count hook runs. */
const HOOK_EVERY = 10_000;

const TEXT_ONLY = luaBytes("t");

export type JsFunction = (L: LuaState) => number;

export interface RunOutcome {
  status: "ok" | "error" | "yield";
}

/** Where a script error was raised: Redis reports the innermost Lua frame. */
export interface ErrorPlace {
  source: string;
  line: number;
}

export class LuaVm {
  readonly L: LuaState;
  /** Registry reference of the globals table. */
  private readonly realGlobals: number;
  /** What function libraries' global reads fall through to: the globals, or FUNCTION LOAD's library API while a library loads. */
  private globalsRef: number;
  /** Registry references of the empty table function libraries take as their globals, and of its metatable. */
  private proxy = 0;
  private proxyMeta = 0;
  /** While FUNCTION LOAD runs a library's code: when it must stop (monotonicMs()), else 0. */
  private loadDeadline = 0;
  /** A coroutine that finished its run, kept for the next one. */
  private spareThread: LuaState | null = null;
  /** Registry references that keep the coroutines alive. */
  private readonly threadAnchors = new Map<LuaState, number>();
  /** Registry references of the global names setGlobal sets. */
  private readonly names = new Map<string, number>();

  constructor(control: ScriptControl, onHook: (L: LuaState) => void) {
    patchNumbers();
    const L = (this.L = lauxlib.luaL_newstate());
    lualib.luaL_openlibs(L);
    for (const [table, name] of FLOAT_RESULTS) floatResults(L, table, name);
    this.mustRun(PRELUDE, "=prelude");
    openDataLibraries(this);
    openLua51Libraries(this, control);
    guardSetmetatable(L);
    lua.lua_pushglobaltable(L);
    this.realGlobals = this.globalsRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    lua.lua_sethook(L, (L: LuaState) => this.loadDeadline === 0 ? onHook(L) : this.checkLoadTime(L), lua.LUA_MASKCOUNT, HOOK_EVERY);
  }

  /** The hook while FUNCTION LOAD runs a library's code: past the deadline, Redis's error (nothing there can catch it). */
  private checkLoadTime(L: LuaState): void {
    if (monotonicMs() <= this.loadDeadline) return;
    pushErrorTable(L, "FUNCTION LOAD timeout");
    lua.lua_error(L);
  }

  /** Runs trusted setup code; a failure is a bug. */
  mustRun(code: string, name: string): void {
    if (lauxlib.luaL_loadbuffer(this.L, luaBytes(code), null, luaBytes(name)) !== lua.LUA_OK ||
      lua.lua_pcall(this.L, 0, 0, 0) !== lua.LUA_OK) {
      throw new Error(`Lua setup failed: ${str(lua.lua_tolstring(this.L, -1))}`);
    }
  }

  /** Sets a table of functions and constants as global `name` (or fills the existing one). */
  defineLibrary(name: string, functions: Record<string, JsFunction>, constants: Record<string, string | number> = {}): void {
    const L = this.L;
    if (lua.lua_getglobal(L, luaBytes(name)) !== lua.LUA_TTABLE) {
      lua.lua_pop(L, 1);
      lua.lua_newtable(L);
    }
    for (const [k, f] of Object.entries(functions)) {
      lua.lua_pushjsfunction(L, f);
      lua.lua_setfield(L, -2, luaBytes(k));
    }
    for (const [k, v] of Object.entries(constants)) {
      if (typeof v === "number") lua.lua_pushnumber(L, v);
      else lua.lua_pushstring(L, luaBytes(v));
      lua.lua_setfield(L, -2, luaBytes(k));
    }
    lua.lua_setglobal(L, luaBytes(name));
  }

  /**
   * Seals the globals: reading a missing name is an error, and the globals
   * with every table they hold, their metatables and the strings'
   * metatable become read-only. Also makes the proxy function libraries
   * read globals through (read-only too).
   */
  seal(): void {
    const L = this.L;
    this.pushRealGlobals();
    this.forbidMissingNames(-1);
    protectTree(L, -1);
    lua.lua_pop(L, 1);
    lua.lua_pushliteral(L, "");
    lua.lua_getmetatable(L, -1);
    protectTree(L, -1);
    lua.lua_pop(L, 2);
    lua.lua_newtable(L); // the proxy
    lua.lua_newtable(L); // its metatable
    this.pushRealGlobals();
    lua.lua_setfield(L, -2, INDEX);
    lua.lua_pushvalue(L, -1);
    this.proxyMeta = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    lua.lua_setmetatable(L, -2);
    protectTree(L, -1);
    this.proxy = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  /** Gives the table at idx a metatable that makes reading a missing name an error, as for globals. */
  forbidMissingNames(idx: number): void {
    const L = this.L;
    idx = lua.lua_absindex(L, idx);
    lua.lua_newtable(L);
    lua.lua_pushjsfunction(L, (L: LuaState) => {
      const name = lua.lua_type(L, 2) === lua.LUA_TSTRING ? str(lua.lua_tolstring(L, 2)) : "?";
      return this.raise(L, `Script attempted to access nonexistent global variable '${name}'`);
    });
    lua.lua_setfield(L, -2, INDEX);
    lua.lua_setmetatable(L, idx);
  }

  /** Makes function libraries' global reads go to the table `ref` (see forbidMissingNames); returns the previous one. */
  readGlobalsFrom(ref: number): number {
    const L = this.L;
    const previous = this.globalsRef;
    this.globalsRef = ref;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.proxyMeta);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
    writable(L, -2, () => lua.lua_setfield(L, -2, INDEX));
    lua.lua_pop(L, 1);
    return previous;
  }

  pushRealGlobals(L: LuaState = this.L): void {
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.realGlobals);
  }

  /** Sets (or with null, removes) a global array of strings, past the seal (EVAL's KEYS and ARGV). */
  setGlobal(name: string, values: Uint8Array[] | null): void {
    const L = this.L;
    this.pushRealGlobals();
    this.pushName(name);
    if (values === null) lua.lua_pushnil(L);
    else pushStringArray(L, values);
    rawsetWritable(L, -3);
    lua.lua_pop(L, 1);
  }

  /** Pushes `name` as a Lua string made once: a new one would be copied and hashed on every run. */
  private pushName(name: string): void {
    let ref = this.names.get(name);
    if (ref === undefined) {
      lua.lua_pushstring(this.L, luaBytes(name));
      this.names.set(name, ref = lauxlib.luaL_ref(this.L, lua.LUA_REGISTRYINDEX));
    }
    lua.lua_rawgeti(this.L, lua.LUA_REGISTRYINDEX, ref);
  }

  /** Raises a Lua error with the caller's position, as luaL_error does. */
  raise(L: LuaState, msg: string): number {
    lauxlib.luaL_where(L, 1);
    lua.lua_pushstring(L, luaBytes(msg));
    lua.lua_concat(L, 2);
    return lua.lua_error(L);
  }

  /**
   * Compiles code (text only: no bytecode gets in); returns a registry
   * reference to the function, or the compile error text. A function
   * library's code reads its globals through the proxy.
   */
  compile(code: Uint8Array, chunkName: string, library = false): number | string {
    const L = this.L;
    if (lauxlib.luaL_loadbufferx(L, code, code.length, luaBytes(chunkName), TEXT_ONLY) !== lua.LUA_OK) {
      // Lua 5.1 quotes the end-of-input token ("near '<eof>'"), 5.3 does not.
      const err = str(lua.lua_tolstring(L, -1)).replace(/ near <eof>$/, " near '<eof>'");
      lua.lua_pop(L, 1);
      return err;
    }
    if (library) {
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.proxy);
      lua.lua_setupvalue(L, -2, 1); // _ENV
    }
    return lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  release(ref: number): void {
    lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, ref);
  }

  /** A coroutine about to call the function `ref` with the given string-table arguments. */
  thread(ref: number, tableArgs: Uint8Array[][] = []): LuaState {
    const co = this.spareThread ?? this.newThread();
    this.spareThread = null;
    lua.lua_rawgeti(co, lua.LUA_REGISTRYINDEX, ref);
    for (const values of tableArgs) pushStringArray(co, values);
    return co;
  }

  /**
   * Hands back a coroutine whose run is over: one that returned can start
   * another function, so the next run reuses it (creating a coroutine is
   * a good part of a short script's cost); one that failed is dead.
   */
  releaseThread(co: LuaState, returned: boolean): void {
    if (returned && this.spareThread === null) {
      lua.lua_settop(co, 0);
      this.spareThread = co;
      return;
    }
    lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, this.threadAnchors.get(co));
    this.threadAnchors.delete(co);
  }

  private newThread(): LuaState {
    const co = lua.lua_newthread(this.L);
    this.threadAnchors.set(co, lauxlib.luaL_ref(this.L, lua.LUA_REGISTRYINDEX));
    return co;
  }

  /** Calls the function `ref` with no arguments for at most timeoutMs; returns the error text (Redis's form) or null. */
  callProtected(ref: number, timeoutMs: number): string | null {
    const L = this.L;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
    this.loadDeadline = monotonicMs() + timeoutMs;
    const status = lua.lua_pcall(L, 0, 0, 0);
    this.loadDeadline = 0;
    if (status === lua.LUA_OK) return null;
    const { text } = errorValueText(L);
    lua.lua_pop(L, 1);
    return text;
  }

  /** Runs a coroutine until it returns, fails or yields from the hook. */
  resume(co: LuaState): RunOutcome["status"] {
    const nargs = lua.lua_status(co) === lua.LUA_YIELD ? 0 : lua.lua_gettop(co) - 1;
    const status = lua.lua_resume(co, this.L, nargs);
    if (status === lua.LUA_OK) return "ok";
    if (status === lua.LUA_YIELD) return "yield";
    return "error";
  }

  /** The innermost Lua frame of a failed coroutine, skipping the JS function that raised. */
  errorPlace(co: LuaState): ErrorPlace | null {
    const ar = new lua.lua_Debug();
    for (let level = 0; level < 2; level++) {
      if (!lua.lua_getstack(co, level, ar)) return null;
      lua.lua_getinfo(co, luaBytes("Sl"), ar);
      const what = typeof ar.what === "string" ? ar.what : str(ar.what);
      if (what !== "C" && what !== "J") return { source: typeof ar.source === "string" ? ar.source : str(ar.source), line: ar.currentline };
    }
    return null;
  }
}

/** Library functions that give Lua 5.3 integers, where Lua 5.1 has only doubles. */
const FLOAT_RESULTS: Array<[string | null, string]> = [[null, "tonumber"], ["math", "floor"], ["math", "ceil"]];

/**
 * Replaces library function `name` (of global table `table`, or a global)
 * with a JS function that calls it in the same frame, so argument errors
 * still name it, and turns its integer results into floats.
 */
function floatResults(L: LuaState, table: string | null, name: string): void {
  if (table === null) lua.lua_pushglobaltable(L);
  else lua.lua_getglobal(L, luaBytes(table));
  lua.lua_getfield(L, -1, luaBytes(name));
  const original: JsFunction = lua.lua_tocfunction(L, -1);
  lua.lua_pop(L, 1);
  lua.lua_pushjsfunction(L, (L: LuaState) => {
    const n = original(L);
    const top = lua.lua_gettop(L);
    for (let i = top - n + 1; i <= top; i++) {
      if (lua.lua_isinteger(L, i)) {
        lua.lua_pushnumber(L, lua.lua_tonumber(L, i));
        lua.lua_replace(L, i);
      }
    }
    return n;
  });
  lua.lua_setfield(L, -2, luaBytes(name));
  lua.lua_pop(L, 1);
}

function pushStringArray(L: LuaState, values: Uint8Array[]): void {
  lua.lua_createtable(L, values.length, 0);
  for (let i = 0; i < values.length; i++) {
    lua.lua_pushstring(L, values[i]);
    lua.lua_rawseti(L, -2, i + 1);
  }
}
