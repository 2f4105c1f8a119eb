/**
 * The base functions a script can call back into Lua through, as Lua 5.1
 * (Redis's Lua) has them, so that none can hold the engine: pairs, ipairs
 * and unpack read tables raw (5.3 runs __pairs and __index from inside the
 * library), tostring, pcall, xpcall and load call their Lua code through
 * continuations (yieldable.ts). pcall is Redis's: an error table caught
 * gives its `err` field. No catch outlives SCRIPT KILL (control.ts).
 * Also 5.1's loadstring (text only), unpack's stack limit and math.min/max.
 */
import { formatG14, lauxlib, lua, luaBytes, type LuaState } from "./lua.ts";
import type { ScriptControl } from "./control.ts";
import { call, type Steps, yieldable } from "./yieldable.ts";
import type { JsFunction } from "./vm.ts";
import { concat, str } from "../util/bytes.ts";

/** Lua 5.1's LUAI_MAXCSTACK: a C function may not hold more stack slots than this. */
const MAX_C_STACK = 8000;

const CALL_1_1 = call(1, 1);
const PCALL_1_1 = call(1, 1, true);
const PCALL_0_1 = call(0, 1, true);

const TOSTRING = luaBytes("__tostring");
const ERR = luaBytes("err");

/**
 * luaL_checkint as Redis's 5.1 on x86-64 has it: any number, cast by C to
 * a 64-bit integer (truncated; NaN and numbers out of range become the
 * smallest one) and then to a 32-bit int (its low bits).
 */
export function checkInt(L: LuaState, i: number): number {
  const t = Math.trunc(lauxlib.luaL_checknumber(L, i));
  if (t >= -0x80000000 && t <= 0x7fffffff) return t;
  if (!(Math.abs(t) < 2 ** 63)) return 0;
  return Number(BigInt.asIntN(32, BigInt(t)));
}

export function optInt(L: LuaState, i: number, def: number): number {
  return lua.lua_isnoneornil(L, i) ? def : checkInt(L, i);
}

/** A string (copied) or a number as the string 5.1 makes of it: what lua_isstring accepts. */
export function isStringLike(L: LuaState, i: number): boolean {
  const t = lua.lua_type(L, i);
  return t === lua.LUA_TSTRING || t === lua.LUA_TNUMBER;
}

/** Calls the __tostring metamethod pushed with its argument. */
const callTostring = yieldable(function* (): Steps {
  yield CALL_1_1;
  return 1;
});

export function baseFunctions(ctl: ScriptControl, original: { tostring: JsFunction; next: JsFunction }): Record<string, JsFunction> {
  const PCALL_ALL = call(0, lua.LUA_MULTRET, true); // fengari is loaded by now
  const ipairsStep: JsFunction = (L) => {
    const i = checkInt(L, 2) + 1;
    lauxlib.luaL_checktype(L, 1, lua.LUA_TTABLE);
    lua.lua_pushnumber(L, i);
    return lua.lua_rawgeti(L, 1, i) === lua.LUA_TNIL ? 0 : 2;
  };

  /** Compiles a chunk as 5.1's load_aux returns it: the function, or nil and the message. */
  const loaded = (L: LuaState, code: Uint8Array, name: Uint8Array): number => {
    if (lauxlib.luaL_loadbufferx(L, code, code.length, name, luaBytes("t")) === lua.LUA_OK) return 1;
    lua.lua_pushnil(L);
    lua.lua_insert(L, -2);
    return 2;
  };

  return {
    tostring: (L) => {
      lauxlib.luaL_checkany(L, 1);
      if (lua.lua_type(L, 1) === lua.LUA_TNUMBER) {
        lua.lua_pushstring(L, luaBytes(formatG14(lua.lua_tonumber(L, 1))));
        return 1;
      }
      if (lauxlib.luaL_getmetafield(L, 1, TOSTRING) === lua.LUA_TNIL) return original.tostring(L);
      lua.lua_pushvalue(L, 1);
      return callTostring(L); // 5.1 returns whatever the metamethod gives
    },
    pairs: (L) => {
      lauxlib.luaL_checktype(L, 1, lua.LUA_TTABLE);
      lua.lua_pushcfunction(L, original.next);
      lua.lua_pushvalue(L, 1);
      lua.lua_pushnil(L);
      return 3;
    },
    ipairs: (L) => {
      lauxlib.luaL_checktype(L, 1, lua.LUA_TTABLE);
      lua.lua_pushcfunction(L, ipairsStep);
      lua.lua_pushvalue(L, 1);
      lua.lua_pushnumber(L, 0);
      return 3;
    },
    unpack: (L) => {
      lauxlib.luaL_checktype(L, 1, lua.LUA_TTABLE);
      let i = optInt(L, 2, 1);
      const e = lua.lua_isnoneornil(L, 3) ? lua.lua_rawlen(L, 1) : checkInt(L, 3);
      if (i > e) return 0;
      const n = e - i + 1;
      if (n <= 0 || lua.lua_gettop(L) + n > MAX_C_STACK || !lua.lua_checkstack(L, n)) {
        return lauxlib.luaL_error(L, "too many results to unpack");
      }
      for (; i <= e; i++) lua.lua_rawgeti(L, 1, i);
      return n;
    },
    pcall: yieldable(function* (L: LuaState): Steps {
      lauxlib.luaL_checkany(L, 1);
      // The first result's slot, taken before the call: its results may fill the stack.
      lua.lua_pushboolean(L, true);
      lua.lua_insert(L, 1);
      const status = yield call(lua.lua_gettop(L) - 2, lua.LUA_MULTRET, true);
      ctl.raiseIfKilled(L);
      if (status === lua.LUA_OK) return lua.lua_gettop(L);
      // Redis's pcall gives a caught error table's message (redis.call's errors are such tables).
      if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
        lua.lua_pushstring(L, ERR);
        lua.lua_rawget(L, -2);
        if (isStringLike(L, -1)) lua.lua_replace(L, -2);
        else lua.lua_pop(L, 1);
      }
      lua.lua_pushboolean(L, false);
      lua.lua_replace(L, 1);
      return 2;
    }),
    xpcall: yieldable(function* (L: LuaState): Steps {
      // 5.1: xpcall(f, handler), f called with no arguments; the handler gets the error once f's stack is gone
      // (nothing a script can reach tells the difference: debug is not there).
      lauxlib.luaL_checkany(L, 2);
      lua.lua_settop(L, 2);
      lua.lua_pushvalue(L, 1);
      if ((yield PCALL_ALL) === lua.LUA_OK) {
        ctl.raiseIfKilled(L);
        lua.lua_remove(L, 2); // the handler's slot takes the first result: f's results may fill the stack
        lua.lua_pushboolean(L, true);
        lua.lua_replace(L, 1);
        return lua.lua_gettop(L);
      }
      ctl.raiseIfKilled(L);
      lua.lua_pushvalue(L, 2);
      lua.lua_insert(L, -2);
      const handled = yield PCALL_1_1;
      ctl.raiseIfKilled(L);
      if (handled !== lua.LUA_OK) {
        lua.lua_pop(L, 1);
        lua.lua_pushliteral(L, "error in error handling");
      }
      lua.lua_pushboolean(L, false);
      lua.lua_insert(L, -2);
      return 2;
    }),
    load: yieldable(function* (L: LuaState): Steps {
      const name = lauxlib.luaL_optlstring(L, 2, luaBytes("=(load)"));
      lauxlib.luaL_checktype(L, 1, lua.LUA_TFUNCTION);
      let code: Uint8Array = new Uint8Array(0);
      let tried = 0;
      for (;;) {
        lua.lua_pushvalue(L, 1);
        if ((yield PCALL_0_1) !== lua.LUA_OK) {
          ctl.raiseIfKilled(L);
          lua.lua_pushnil(L);
          lua.lua_insert(L, -2);
          return 2;
        }
        if (lua.lua_isnil(L, -1)) break;
        if (!isStringLike(L, -1)) {
          lua.lua_pushnil(L);
          lauxlib.luaL_where(L, 1);
          lua.lua_pushliteral(L, "reader function must return a string");
          lua.lua_concat(L, 2);
          return 2;
        }
        const piece: Uint8Array = lua.lua_tolstring(L, -1);
        lua.lua_pop(L, 1);
        if (piece.length === 0) break;
        code = concat([code, piece]);
        // 5.1 parses as it reads, so a syntax error ends the reading: find it by parsing whenever the code doubled.
        if (code.length >= 2 * tried) {
          tried = code.length;
          if (loaded(L, code, name) === 2 && !/<eof>'?$/.test(str(lua.lua_tolstring(L, -1)))) return 2;
          lua.lua_settop(L, 1);
        }
      }
      return loaded(L, code, name);
    }),
    loadstring: (L) => {
      const code: Uint8Array = lauxlib.luaL_checklstring(L, 1);
      return loaded(L, code, lauxlib.luaL_optlstring(L, 2, code));
    },
  };
}

/** 5.1's math.min and math.max: numbers (or numeric strings) only, compared as numbers. */
export function minMax(pick: (a: number, b: number) => boolean): JsFunction {
  return (L) => {
    let best = lauxlib.luaL_checknumber(L, 1);
    const n = lua.lua_gettop(L);
    for (let i = 2; i <= n; i++) {
      const d = lauxlib.luaL_checknumber(L, i);
      if (pick(d, best)) best = d;
    }
    lua.lua_pushnumber(L, best);
    return 1;
  };
}
