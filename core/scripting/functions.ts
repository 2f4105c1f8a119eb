/**
 * Function libraries (FUNCTION LOAD): each library's code runs once at load
 * time, for at most 500 ms as in Redis, when its only global is a
 * read-only `redis` table with register_function and log; the functions
 * it registers are then called by FCALL.
 */
import { lauxlib, lua, luaBytes, type LuaState } from "./lua.ts";
import { noFlags, type ScriptFlags, type Scripting } from "./runner.ts";
import { pushErrorTable } from "./convert.ts";
import { libraryShebang, parseFlagList } from "./shebang.ts";
import { protectTree } from "./readonly.ts";
import { str } from "../util/bytes.ts";

/** Redis's LOAD_TIMEOUT_MS: how long a library's code may run at FUNCTION LOAD. */
const LOAD_TIMEOUT_MS = 500;

export interface LuaFunction {
  name: string;
  ref: number;
  flags: ScriptFlags;
  flagNames: string[];
  description: string | null;
  library: Library;
}

export interface Library {
  name: string;
  code: Uint8Array;
  functions: Map<string, LuaFunction>;
}

const NAME_RE = /^[A-Za-z0-9_]+$/;

export class FunctionRegistry {
  readonly libraries = new Map<string, Library>();
  readonly functions = new Map<string, LuaFunction>();
  /** The library whose code is running, while FUNCTION LOAD runs it. */
  private loading: Library | null = null;
  /** Registry ref of the globals a loading library sees. */
  private loadApi: number;

  constructor(private readonly scripting: Scripting) {
    const L = scripting.vm.L;
    lua.lua_newtable(L);
    lua.lua_getglobal(L, luaBytes("redis"));
    lua.lua_newtable(L);
    lua.lua_pushjsfunction(L, (L: LuaState) => this.register(L, this.loading!));
    lua.lua_setfield(L, -2, luaBytes("register_function"));
    for (const name of ["log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM"]) {
      lua.lua_getfield(L, -2, luaBytes(name));
      lua.lua_setfield(L, -2, luaBytes(name));
    }
    lua.lua_remove(L, -2);
    // As in Redis, the load-time redis table reports a missing field as a missing global.
    scripting.vm.forbidMissingNames(-1);
    lua.lua_setfield(L, -2, luaBytes("redis"));
    scripting.vm.forbidMissingNames(-1);
    protectTree(L, -1);
    this.loadApi = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  /**
   * FUNCTION LOAD: the library's name, or an error text. `restoring` is
   * FUNCTION RESTORE's wording; `timeoutMs` how long the code may run
   * (a loading RDB or AOF file gives it all the time, as Redis does).
   */
  load(code: Uint8Array, replace: boolean, restoring = false, timeoutMs = LOAD_TIMEOUT_MS): string | { error: string } {
    const meta = libraryShebang(str(code));
    if (typeof meta === "string") return { error: meta };
    if (meta.engine.toLowerCase() !== "lua") return { error: `ERR Engine '${meta.engine}' not found` };
    if (!NAME_RE.test(meta.name)) {
      return { error: "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long" };
    }
    const old = this.libraries.get(meta.name);
    // FUNCTION RESTORE words it without the quotes.
    if (old && !replace) return { error: restoring ? `ERR Library ${meta.name} already exists` : `ERR Library '${meta.name}' already exists` };
    const lib = this.compile(meta.name, code, timeoutMs);
    if ("error" in lib) return lib;
    for (const name of lib.functions.keys()) {
      const other = this.functions.get(name);
      if (other && other.library !== old) {
        this.drop(lib);
        return { error: `ERR Function ${name} already exists` };
      }
    }
    if (old) this.remove(old);
    this.add(lib);
    return meta.name;
  }

  /** Compiles and runs a library's code, collecting the functions it registers. */
  private compile(name: string, code: Uint8Array, timeoutMs: number): Library | { error: string } {
    const vm = this.scripting.vm;
    // The shebang becomes a comment so that line numbers stay the user's.
    const body = code.slice();
    body[0] = body[1] = 45;
    const ref = vm.compile(body, "@user_function", true);
    if (typeof ref === "string") return { error: `ERR Error compiling function: ${ref}` };
    const lib: Library = { name, code: code.slice(), functions: new Map() };
    const previous = vm.readGlobalsFrom(this.loadApi);
    this.loading = lib;
    const err = vm.callProtected(ref, timeoutMs);
    this.loading = null;
    vm.readGlobalsFrom(previous);
    vm.release(ref);
    if (err !== null) {
      this.drop(lib);
      return { error: `ERR Error registering functions: ${err}` };
    }
    if (lib.functions.size === 0) return { error: "ERR No functions registered" };
    return lib;
  }

  /** redis.register_function(name, callback) or redis.register_function{function_name=..., callback=..., flags=..., description=...}. */
  private register(L: LuaState, lib: Library): number {
    const fail = (msg: string): number => {
      pushErrorTable(L, msg);
      return lua.lua_error(L);
    };
    let name: string | null = null;
    let description: string | null = null;
    const flagNames: string[] = [];
    const argc = lua.lua_gettop(L);
    if (argc === 2) {
      if (lua.lua_type(L, 1) !== lua.LUA_TSTRING && lua.lua_type(L, 1) !== lua.LUA_TNUMBER) {
        return fail("first argument to redis.register_function must be a string");
      }
      if (lua.lua_type(L, 2) !== lua.LUA_TFUNCTION) return fail("second argument to redis.register_function must be a function");
      name = str(lua.lua_tolstring(L, 1));
      lua.lua_settop(L, 2);
    } else if (argc === 1 && lua.lua_type(L, 1) === lua.LUA_TTABLE) {
      lua.lua_pushnil(L);
      let callback = false;
      while (lua.lua_next(L, 1) !== 0) {
        const key = lua.lua_type(L, -2) === lua.LUA_TSTRING ? str(lua.lua_tolstring(L, -2)) : "";
        const type = lua.lua_type(L, -1);
        if (key === "function_name") {
          if (type !== lua.LUA_TSTRING) return fail("function_name argument given to redis.register_function must be a string");
          name = str(lua.lua_tolstring(L, -1));
        } else if (key === "description") {
          if (type !== lua.LUA_TSTRING) return fail("description argument given to redis.register_function must be a string");
          description = str(lua.lua_tolstring(L, -1));
        } else if (key === "callback") {
          if (type !== lua.LUA_TFUNCTION) return fail("callback argument given to redis.register_function must be a function");
          lua.lua_pushvalue(L, -1);
          lua.lua_insert(L, 2);
          callback = true;
        } else if (key === "flags") {
          if (type !== lua.LUA_TTABLE) return fail("flags argument to redis.register_function must be a table representing function flags");
          for (let i = 1; lua.lua_rawgeti(L, -1, i) !== lua.LUA_TNIL; i++) {
            if (lua.lua_type(L, -1) !== lua.LUA_TSTRING) return fail("unknown flag given");
            flagNames.push(str(lua.lua_tolstring(L, -1)));
            lua.lua_pop(L, 1);
          }
          lua.lua_pop(L, 1);
        } else return fail("unknown argument given to redis.register_function");
        lua.lua_pop(L, 1);
      }
      if (name === null) return fail("redis.register_function must get a function name argument");
      if (!callback) return fail("redis.register_function must get a callback argument");
      lua.lua_settop(L, 2);
    } else if (argc === 1) {
      return fail("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
    } else return fail("wrong number of arguments to redis.register_function");
    if (!NAME_RE.test(name)) {
      // Redis 7.0 words a bad function name as a library name.
      return fail("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
    }
    if (lib.functions.has(name)) return fail("Function already exists in the library");
    const flags = noFlags(false);
    if (parseFlagList(flagNames, flags) !== null) return fail("unknown flag given");
    const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    lib.functions.set(name, { name, ref, flags, flagNames, description, library: lib });
    return 0;
  }

  private add(lib: Library): void {
    this.libraries.set(lib.name, lib);
    for (const [name, fn] of lib.functions) this.functions.set(name, fn);
  }

  /** Takes a library out and frees its functions. */
  remove(lib: Library): void {
    this.libraries.delete(lib.name);
    for (const name of lib.functions.keys()) this.functions.delete(name);
    this.drop(lib);
  }

  private drop(lib: Library): void {
    for (const fn of lib.functions.values()) this.scripting.vm.release(fn.ref);
  }

  flush(): void {
    for (const lib of [...this.libraries.values()]) this.remove(lib);
  }
}

/** The function libraries of an engine's scripting state, made on first use. */
export function functionRegistry(s: Scripting): FunctionRegistry {
  return s.functions ??= new FunctionRegistry(s);
}
