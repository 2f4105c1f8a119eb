/**
 * Installs the libraries Redis adds to Lua: bit, cjson, cmsgpack, struct,
 * and math.random/math.randomseed on Redis's own deterministic rand48.
 */
import { formatG14, lauxlib, lua, luaBytes, type LuaState } from "./lua.ts";
import type { LuaVm } from "./vm.ts";
import { bitFunctions, structFunctions } from "./binary.ts";
import { cjsonFunctions } from "./cjson.ts";
import { cmsgpackFunctions } from "./cmsgpack.ts";
import { JSON_NULL } from "./values.ts";

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
  };
}

/** tostring formats numbers as Lua 5.1 does (%.14g); 5.3's luaL_tolstring would print 5 as "5.0". */
function installTostring(L: LuaState): void {
  lua.lua_getglobal(L, luaBytes("tostring"));
  lua.lua_pushcclosure(L, (L: LuaState) => {
    lauxlib.luaL_checkany(L, 1);
    if (lua.lua_type(L, 1) !== lua.LUA_TNUMBER) {
      lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
      lua.lua_insert(L, 1);
      lua.lua_call(L, lua.lua_gettop(L) - 1, 1);
      return 1;
    }
    lua.lua_pushstring(L, luaBytes(formatG14(lua.lua_tonumber(L, 1))));
    return 1;
  }, 1);
  lua.lua_setglobal(L, luaBytes("tostring"));
}

export function openDataLibraries(vm: LuaVm): void {
  vm.defineLibrary("bit", bitFunctions);
  vm.defineLibrary("struct", structFunctions);
  vm.defineLibrary("cmsgpack", cmsgpackFunctions);
  vm.defineLibrary("cjson", cjsonFunctions);
  vm.defineLibrary("math", mathFunctions(new Rand48()));
  const L = vm.L;
  installTostring(L);
  lua.lua_getglobal(L, luaBytes("cjson"));
  lua.lua_pushlightuserdata(L, JSON_NULL);
  lua.lua_setfield(L, -2, luaBytes("null"));
  lua.lua_pop(L, 1);
}
