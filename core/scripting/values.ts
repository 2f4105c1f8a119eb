/**
 * Lua values read into plain JS (and pushed back) for the data libraries
 * (cjson, cmsgpack): strings stay bytes, tables keep lua_next's order.
 */
import { lua, luaBytes, type LuaState } from "./lua.ts";
import { str } from "../util/bytes.ts";

/** cjson.null: a light userdata that only compares equal to itself. */
export const JSON_NULL = { jsonNull: true };

export class LuaTable {
  constructor(readonly entries: Array<[LuaValue, LuaValue]>) {}
}

export type LuaValue = null | boolean | number | Uint8Array | LuaTable | typeof JSON_NULL | { unsupported: string };

/** Reads the value at idx; tables deeper than maxDepth read as { unsupported: "depth" }. */
export function readLua(L: LuaState, idx: number, maxDepth = 1000, depth = 0): LuaValue {
  idx = lua.lua_absindex(L, idx);
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TNIL:
    case lua.LUA_TNONE:
      return null;
    case lua.LUA_TBOOLEAN:
      return lua.lua_toboolean(L, idx);
    case lua.LUA_TNUMBER:
      return lua.lua_tonumber(L, idx);
    case lua.LUA_TSTRING:
      return lua.lua_tolstring(L, idx).slice();
    case lua.LUA_TLIGHTUSERDATA:
      return lua.lua_touserdata(L, idx) === JSON_NULL ? JSON_NULL : { unsupported: "lightuserdata" };
    case lua.LUA_TTABLE: {
      if (depth >= maxDepth) return { unsupported: "depth" };
      lua.lua_checkstack(L, 4);
      const entries: Array<[LuaValue, LuaValue]> = [];
      lua.lua_pushnil(L);
      while (lua.lua_next(L, idx) !== 0) {
        entries.push([readLua(L, -2, maxDepth, depth + 1), readLua(L, -1, maxDepth, depth + 1)]);
        lua.lua_pop(L, 1);
      }
      return new LuaTable(entries);
    }
    default:
      return { unsupported: str(lua.lua_typename(L, lua.lua_type(L, idx))) };
  }
}

/** The array length of a table when every key is a positive integer (1..max), else -1. */
export function arrayLength(t: LuaTable): number {
  let max = 0;
  for (const [k] of t.entries) {
    if (typeof k !== "number" || !Number.isInteger(k) || k < 1) return -1;
    if (k > max) max = k;
  }
  return max;
}

/** Value of integer key i in an array-like table, or null. */
export function arrayItem(t: LuaTable, i: number): LuaValue {
  for (const [k, v] of t.entries) if (k === i) return v;
  return null;
}

export function pushLua(L: LuaState, v: LuaValue): void {
  lua.lua_checkstack(L, 4);
  if (v === null) lua.lua_pushnil(L);
  else if (typeof v === "boolean") lua.lua_pushboolean(L, v);
  else if (typeof v === "number") lua.lua_pushnumber(L, v);
  else if (v instanceof Uint8Array) lua.lua_pushstring(L, v);
  else if (v === JSON_NULL) lua.lua_pushlightuserdata(L, JSON_NULL);
  else if (v instanceof LuaTable) {
    lua.lua_createtable(L, 0, v.entries.length);
    for (const [k, val] of v.entries) {
      pushLua(L, k);
      pushLua(L, val);
      lua.lua_rawset(L, -3);
    }
  } else lua.lua_pushnil(L);
}

export const text = (s: string) => luaBytes(s);
