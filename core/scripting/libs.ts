/**
 * Installs the libraries Redis adds to Lua: bit, cjson, cmsgpack, struct,
 * and math.random/math.randomseed on Redis's own deterministic rand48; and
 * Lua 5.1's versions of the standard functions that differ in 5.3 in ways
 * a script sees or that could hold the engine (base51.ts, table51.ts,
 * string51.ts, coroutines.ts).
 */
import { lauxlib, lua, luaBytes, type LuaState } from "./lua.ts";
import type { JsFunction, LuaVm } from "./vm.ts";
import { bitFunctions, structFunctions } from "./binary.ts";
import { cjsonFunctions } from "./cjson.ts";
import { cmsgpackFunctions } from "./cmsgpack.ts";
import { JSON_NULL } from "./values.ts";
import type { ScriptControl } from "./control.ts";
import { baseFunctions, minMax } from "./base51.ts";
import { tableFunctions } from "./table51.ts";
import { stringFunctions } from "./string51.ts";
import { coroutineFunctions } from "./coroutines.ts";

const LRAND48_MAX = 2147483647;

/** Redis's redisLrand48: the classic 48-bit linear congruential generator. */
class Rand48 {
  private x = 0x1234abcd330en;

  seed(s: number): void {
    this.x = ((BigInt(s) & 0xffffffffn) << 16n) | 0x330en;
  }

  next(): number {
    this.x = (0x5deece66dn * this.x + 0xbn) & 0xffffffffffffn;
    return Number(this.x >> 17n);
  }
}

function intArg(L: LuaState, i: number): number {
  return Math.trunc(lauxlib.luaL_checknumber(L, i));
}

function mathFunctions(rand: Rand48) {
  return {
    random(L: LuaState): number {
      const r = (rand.next() % LRAND48_MAX) / LRAND48_MAX;
      switch (lua.lua_gettop(L)) {
        case 0:
          lua.lua_pushnumber(L, r);
          break;
        case 1: {
          const u = intArg(L, 1);
          lauxlib.luaL_argcheck(L, 1 <= u, 1, luaBytes("interval is empty"));
          lua.lua_pushnumber(L, Math.floor(r * u) + 1);
          break;
        }
        case 2: {
          const l = intArg(L, 1);
          const u = intArg(L, 2);
          lauxlib.luaL_argcheck(L, l <= u, 2, luaBytes("interval is empty"));
          lua.lua_pushnumber(L, Math.floor(r * (u - l + 1)) + l);
          break;
        }
        default:
          return lauxlib.luaL_error(L, luaBytes("wrong number of arguments"));
      }
      return 1;
    },
    randomseed(L: LuaState): number {
      rand.seed(intArg(L, 1));
      return 0;
    },
    min: minMax((a, b) => a < b),
    max: minMax((a, b) => a > b),
  };
}

export function openDataLibraries(vm: LuaVm): void {
  vm.defineLibrary("bit", bitFunctions);
  vm.defineLibrary("struct", structFunctions);
  vm.defineLibrary("cmsgpack", cmsgpackFunctions);
  vm.defineLibrary("cjson", cjsonFunctions);
  vm.defineLibrary("math", mathFunctions(new Rand48()));
  const L = vm.L;
  lua.lua_getglobal(L, luaBytes("cjson"));
  lua.lua_pushlightuserdata(L, JSON_NULL);
  lua.lua_setfield(L, -2, luaBytes("null"));
  lua.lua_pop(L, 1);
}

/** The JS function `name` of global table `table` (or the global `name`). */
function libraryFunction(L: LuaState, table: string | null, name: string): JsFunction {
  if (table === null) lua.lua_pushglobaltable(L);
  else lua.lua_getglobal(L, luaBytes(table));
  lua.lua_getfield(L, -1, luaBytes(name));
  const f = lua.lua_tocfunction(L, -1);
  lua.lua_pop(L, 2);
  return f;
}

export function openLua51Libraries(vm: LuaVm, control: ScriptControl): void {
  const L = vm.L;
  const base = baseFunctions(control, { tostring: libraryFunction(L, null, "tostring"), next: libraryFunction(L, null, "next") });
  lua.lua_pushglobaltable(L);
  for (const [name, f] of Object.entries(base)) {
    lua.lua_pushcfunction(L, f);
    lua.lua_setfield(L, -2, luaBytes(name));
  }
  lua.lua_pop(L, 1);
  vm.defineLibrary("table", tableFunctions);
  vm.defineLibrary("string", stringFunctions({ find: libraryFunction(L, "string", "find"), format: libraryFunction(L, "string", "format") }));
  // The whole table is replaced: 5.3's isyieldable goes.
  lua.lua_newtable(L);
  lua.lua_setglobal(L, luaBytes("coroutine"));
  vm.defineLibrary("coroutine", coroutineFunctions(control));
}
