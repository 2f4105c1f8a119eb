/**
 * table.insert, remove, concat and sort as Lua 5.1 (Redis's Lua) has them:
 * raw reads and writes (5.3's run __index/__newindex/__len from inside the
 * library, where a script could not be suspended), 5.1's bounds rules,
 * and 5.1's quicksort, whose comparator and __lt calls go through
 * continuations (yieldable.ts), so a script looping in a comparator can
 * still be suspended and killed. Writes to a read-only table fail.
 */
import { lauxlib, lua, luaBytes, type LuaState } from "./lua.ts";
import { checkInt, isStringLike, optInt } from "./base51.ts";
import { call, type LuaCall, type Steps, yieldable } from "./yieldable.ts";
import { concat, str } from "../util/bytes.ts";
import type { JsFunction } from "./vm.ts";

const CALL_2_1 = call(2, 1);
const LT = luaBytes("__lt");

/** t[i] = top of stack (popped), through the path that refuses a read-only table. */
function rawSetI(L: LuaState, t: number, i: number): void {
  lua.lua_pushnumber(L, i);
  lua.lua_insert(L, -2);
  lua.lua_rawset(L, t);
}

function tableLength(L: LuaState): number {
  lauxlib.luaL_checktype(L, 1, lua.LUA_TTABLE);
  return lua.lua_rawlen(L, 1);
}

/** Lua 5.1's luaG_ordererror, raised without a position as it is from inside sort. */
function orderError(L: LuaState, a: number, b: number): never {
  const s1 = str(lauxlib.luaL_typename(L, a));
  const s2 = str(lauxlib.luaL_typename(L, b));
  lua.lua_pushliteral(L, s1 === s2 ? `attempt to compare two ${s1} values` : `attempt to compare ${s1} with ${s2}`);
  lua.lua_error(L);
  throw new Error("unreachable");
}

/**
 * 5.1's sort_comp for the values at a and b, when it needs no Lua call:
 * numbers and strings without a comparator. Otherwise it pushes the
 * comparator (or the values' common __lt) and the two values, and returns
 * null: the caller makes the call and reads its result (callResult).
 */
function compare(L: LuaState, a: number, b: number): boolean | null {
  a = lua.lua_absindex(L, a);
  b = lua.lua_absindex(L, b);
  if (lua.lua_isnil(L, 2)) {
    const ta = lua.lua_type(L, a);
    if (ta !== lua.lua_type(L, b)) orderError(L, a, b);
    if (ta === lua.LUA_TNUMBER || ta === lua.LUA_TSTRING) return lua.lua_compare(L, a, b, lua.LUA_OPLT);
    if (lauxlib.luaL_getmetafield(L, a, LT) === lua.LUA_TNIL) orderError(L, a, b);
    if (lauxlib.luaL_getmetafield(L, b, LT) === lua.LUA_TNIL || !lua.lua_rawequal(L, -1, -2)) orderError(L, a, b);
    lua.lua_pop(L, 1);
  } else lua.lua_pushvalue(L, 2);
  lua.lua_pushvalue(L, a);
  lua.lua_pushvalue(L, b);
  return null;
}

/** The result of the call compare() prepared, popped. */
function callResult(L: LuaState): boolean {
  const r = lua.lua_toboolean(L, -1);
  lua.lua_pop(L, 1);
  return r;
}

/** t[i] = top, t[j] = the value below it (both popped). */
function set2(L: LuaState, i: number, j: number): void {
  rawSetI(L, 1, i);
  rawSetI(L, 1, j);
}

/**
 * Lua 5.1's auxsort, step for step, so that any comparator orders a table
 * exactly as Redis does. Each comparison is compare()'s answer, or the Lua
 * call it prepared, made here (a generator can only yield from itself).
 */
function* auxSort(L: LuaState, l: number, u: number): Generator<LuaCall, void, number> {
  while (l < u) {
    lua.lua_rawgeti(L, 1, l);
    lua.lua_rawgeti(L, 1, u);
    if (compare(L, -1, -2) ?? ((yield CALL_2_1), callResult(L))) set2(L, l, u); // a[u] < a[l]?
    else lua.lua_pop(L, 2);
    if (u - l === 1) break;
    let i = Math.trunc((l + u) / 2);
    lua.lua_rawgeti(L, 1, i);
    lua.lua_rawgeti(L, 1, l);
    if (compare(L, -2, -1) ?? ((yield CALL_2_1), callResult(L))) set2(L, i, l); // a[i] < a[l]?
    else {
      lua.lua_pop(L, 1);
      lua.lua_rawgeti(L, 1, u);
      if (compare(L, -1, -2) ?? ((yield CALL_2_1), callResult(L))) set2(L, i, u); // a[u] < a[i]?
      else lua.lua_pop(L, 2);
    }
    if (u - l === 2) break;
    lua.lua_rawgeti(L, 1, i); // the pivot
    lua.lua_pushvalue(L, -1);
    lua.lua_rawgeti(L, 1, u - 1);
    set2(L, i, u - 1);
    i = l;
    let j = u - 1;
    for (;;) {
      for (;;) { // ++i until a[i] >= P
        lua.lua_rawgeti(L, 1, ++i);
        if (!(compare(L, -1, -2) ?? ((yield CALL_2_1), callResult(L)))) break;
        if (i > u) lauxlib.luaL_error(L, "invalid order function for sorting");
        lua.lua_pop(L, 1);
      }
      for (;;) { // --j until a[j] <= P
        lua.lua_rawgeti(L, 1, --j);
        if (!(compare(L, -3, -1) ?? ((yield CALL_2_1), callResult(L)))) break;
        if (j < l) lauxlib.luaL_error(L, "invalid order function for sorting");
        lua.lua_pop(L, 1);
      }
      if (j < i) {
        lua.lua_pop(L, 3);
        break;
      }
      set2(L, i, j);
    }
    lua.lua_rawgeti(L, 1, u - 1);
    lua.lua_rawgeti(L, 1, i);
    set2(L, u - 1, i);
    if (i - l < u - i) {
      j = l;
      i = i - 1;
      l = i + 2;
    } else {
      j = i + 1;
      i = u;
      u = j - 2;
    }
    yield* auxSort(L, j, i);
  }
}

export const tableFunctions: Record<string, JsFunction> = {
  insert: (L) => {
    let e = tableLength(L) + 1;
    let pos: number;
    switch (lua.lua_gettop(L)) {
      case 2:
        pos = e;
        break;
      case 3:
        pos = checkInt(L, 2);
        if (pos > e) e = pos;
        for (let i = e; i > pos; i--) {
          lua.lua_rawgeti(L, 1, i - 1);
          rawSetI(L, 1, i);
        }
        break;
      default:
        return lauxlib.luaL_error(L, "wrong number of arguments to 'insert'");
    }
    rawSetI(L, 1, pos);
    return 0;
  },
  remove: (L) => {
    const e = tableLength(L);
    let pos = optInt(L, 2, e);
    if (!(1 <= pos && pos <= e)) return 0;
    lua.lua_rawgeti(L, 1, pos);
    for (; pos < e; pos++) {
      lua.lua_rawgeti(L, 1, pos + 1);
      rawSetI(L, 1, pos);
    }
    lua.lua_pushnil(L);
    rawSetI(L, 1, e);
    return 1;
  },
  concat: (L) => {
    const sep: Uint8Array = lauxlib.luaL_optlstring(L, 2, new Uint8Array(0));
    lauxlib.luaL_checktype(L, 1, lua.LUA_TTABLE);
    let i = optInt(L, 3, 1);
    const last = lua.lua_isnoneornil(L, 4) ? lua.lua_rawlen(L, 1) : checkInt(L, 4);
    const parts: Uint8Array[] = [];
    const add = (i: number) => {
      lua.lua_rawgeti(L, 1, i);
      if (!isStringLike(L, -1)) {
        lauxlib.luaL_error(L, "invalid value (%s) at index %d in table for 'concat'", lauxlib.luaL_typename(L, -1), i);
      }
      parts.push(lua.lua_tolstring(L, -1));
      lua.lua_pop(L, 1);
    };
    for (; i < last; i++) {
      add(i);
      parts.push(sep);
    }
    if (i === last) add(i);
    lua.lua_pushstring(L, concat(parts));
    return 1;
  },
  sort: yieldable(function* (L: LuaState): Steps {
    const n = tableLength(L);
    if (!lua.lua_isnoneornil(L, 2)) lauxlib.luaL_checktype(L, 2, lua.LUA_TFUNCTION);
    lua.lua_settop(L, 2);
    yield* auxSort(L, 1, n);
    return 0;
  }),
};
