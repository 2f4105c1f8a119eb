/**
 * Redis 7's read-only tables (see fengari.cjs for the flag): the globals,
 * every library table and their metatables are made read-only once the VM
 * is set up, so no script or function can change what the next one sees.
 * setmetatable is guarded too (rawset needs nothing: it writes through the
 * flagged path). Trusted setup code writes through writable().
 */
import { lua, luaBytes, type LuaState } from "./lua.ts";

const READONLY_MESSAGE = "Attempt to modify a readonly table";
const SETMETATABLE = luaBytes("setmetatable");

interface FlaggedTable {
  readonly: boolean;
}

function tableAt(L: LuaState, idx: number): FlaggedTable {
  return lua.lua_topointer(L, idx) as FlaggedTable;
}

function isReadonly(L: LuaState, idx: number): boolean {
  return lua.lua_type(L, idx) === lua.LUA_TTABLE && tableAt(L, idx).readonly;
}

/** Makes the table at idx read-only, with every table it holds and every metatable on the way, as Redis walks its globals. */
export function protectTree(L: LuaState, idx: number): void {
  idx = lua.lua_absindex(L, idx);
  const t = tableAt(L, idx);
  if (t.readonly) return; // seen already (_G holds itself)
  t.readonly = true;
  lua.lua_checkstack(L, 4);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    if (lua.lua_type(L, -1) === lua.LUA_TTABLE) protectTree(L, -1);
    lua.lua_pop(L, 1);
  }
  if (lua.lua_getmetatable(L, idx)) {
    protectTree(L, -1);
    lua.lua_pop(L, 1);
  }
}

/** lua_rawset into the table at idx (key and value on top) even if it is read-only: trusted code's write. */
export function rawsetWritable(L: LuaState, idx: number): void {
  const t = tableAt(L, idx);
  const was = t.readonly;
  t.readonly = false;
  lua.lua_rawset(L, idx);
  t.readonly = was;
}

/** Runs trusted code that writes into the read-only table at idx. */
export function writable<T>(L: LuaState, idx: number, write: () => T): T {
  const t = tableAt(L, idx);
  const was = t.readonly;
  t.readonly = false;
  try {
    return write();
  } finally {
    t.readonly = was;
  }
}

/** Wraps the base library's setmetatable so that it refuses a read-only table, as Redis's lua_setmetatable does. */
export function guardSetmetatable(L: LuaState): void {
  lua.lua_getglobal(L, SETMETATABLE);
  const original = lua.lua_tocfunction(L, -1);
  lua.lua_pop(L, 1);
  lua.lua_pushcfunction(L, (L: LuaState) => {
    if (isReadonly(L, 1)) {
      lua.lua_pushliteral(L, READONLY_MESSAGE);
      return lua.lua_error(L);
    }
    return original(L);
  });
  lua.lua_setglobal(L, SETMETATABLE);
}
