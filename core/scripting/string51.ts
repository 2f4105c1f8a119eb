/**
 * string.gsub and string.format as Lua 5.1 (Redis's Lua) has them. gsub
 * calls a replacement function or a table's __index through continuations
 * (yieldable.ts), so a script looping in one can still be suspended and
 * killed; it follows 5.1's rules (an empty match right after a match
 * counts, "%x" in a replacement is "x", a maximum is truncated), finding
 * each match with the library's own string.find. format's %s takes only
 * strings and numbers, as in 5.1, so it never runs a __tostring.
 */
import { lauxlib, lua, luaBytes, type LuaState } from "./lua.ts";
import { isStringLike, optInt } from "./base51.ts";
import { call, type LuaCall, type Steps, yieldable } from "./yieldable.ts";
import type { JsFunction } from "./vm.ts";
import { concat, str } from "../util/bytes.ts";

const INDEX = luaBytes("__index");
const CALL_2_1 = call(2, 1);
/** Lua 5.1's MAXTAGLOOP: how long an __index chain may be. */
const MAX_TAG_LOOP = 100;
const PERCENT = 37;
const ZERO = 48;
const NINE = 57;

/** A match string.find found: where it starts and ends (0-based, end exclusive); its captures are on the stack. */
interface Match {
  start: number;
  end: number;
  captures: number;
}

/** t[k] as 5.1's luaV_gettable, with the table and key on top (both popped, the value pushed): __index functions are called yieldably. */
function* getTable(L: LuaState): Generator<LuaCall, void, number> {
  for (let loop = 0; loop < MAX_TAG_LOOP; loop++) {
    lua.lua_pushvalue(L, -1);
    if (lua.lua_rawget(L, -3) !== lua.LUA_TNIL || lauxlib.luaL_getmetafield(L, -3, INDEX) === lua.LUA_TNIL) {
      lua.lua_replace(L, -3); // [value, key]
      lua.lua_pop(L, 1);
      return;
    }
    lua.lua_remove(L, -2); // the nil: [t, key, __index]
    if (lua.lua_type(L, -1) === lua.LUA_TFUNCTION) {
      lua.lua_rotate(L, -3, 1); // [__index, t, key]
      yield CALL_2_1;
      return;
    }
    if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
      lauxlib.luaL_error(L, "attempt to index a %s value", lauxlib.luaL_typename(L, -1));
    }
    lua.lua_replace(L, -3); // [__index, key]: look the key up there
  }
  lauxlib.luaL_error(L, "loop in gettable");
}

export function stringFunctions(original: { find: JsFunction; format: JsFunction }): Record<string, JsFunction> {
  /** The first match of pattern at or after `from` in the string at index 1 (pattern at 2), or null. */
  const find = (L: LuaState, from: number): Match | null => {
    const top = lua.lua_gettop(L);
    lua.lua_pushcfunction(L, original.find);
    lua.lua_pushvalue(L, 1);
    lua.lua_pushvalue(L, 2);
    lua.lua_pushnumber(L, from + 1);
    if (lua.lua_pcall(L, 3, lua.LUA_MULTRET, 0) !== lua.LUA_OK) {
      const msg = str(lua.lua_tolstring(L, -1));
      if (msg === "C stack overflow") lua.lua_error(L); // the call itself was one too deep: as it is
      // A malformed pattern: raised again from here, so the error names the script's line as 5.1's gsub does.
      lauxlib.luaL_error(L, "%s", luaBytes(msg.replace(/^(invalid capture index) %\d+.*$/, "$1")));
    }
    if (lua.lua_isnil(L, top + 1)) {
      lua.lua_settop(L, top);
      return null;
    }
    const m = { start: lua.lua_tonumber(L, top + 1) - 1, end: lua.lua_tonumber(L, top + 2), captures: lua.lua_gettop(L) - top - 2 };
    lua.lua_remove(L, top + 1);
    lua.lua_remove(L, top + 1);
    return m;
  };

  /** 5.1's add_s: the replacement string at index 3 with %0-%9 and %x escapes. */
  const expand = (L: LuaState, src: Uint8Array, m: Match, capturesAt: number, out: Uint8Array[]): void => {
    const repl: Uint8Array = lua.lua_tolstring(L, 3);
    let from = 0;
    for (let i = 0; i < repl.length; i++) {
      if (repl[i] !== PERCENT) continue;
      out.push(repl.subarray(from, i));
      const c = repl[++i] ?? 0; // a trailing % escapes the string's terminating NUL, as in C
      from = i + 1;
      if (c < ZERO || c > NINE) out.push(Uint8Array.of(c));
      else if (c === ZERO) out.push(src.subarray(m.start, m.end));
      else {
        const n = c - ZERO - 1;
        if (n === 0 && m.captures === 0) out.push(src.subarray(m.start, m.end));
        else if (n >= m.captures) lauxlib.luaL_error(L, "invalid capture index");
        else out.push(lua.lua_tolstring(L, capturesAt + n));
      }
    }
    out.push(repl.subarray(from));
  };

  return {
    gsub: yieldable(function* (L: LuaState): Steps {
      const src: Uint8Array = lauxlib.luaL_checklstring(L, 1);
      const pattern: Uint8Array = lauxlib.luaL_checklstring(L, 2);
      const tr = lua.lua_type(L, 3);
      const max = optInt(L, 4, src.length + 1);
      const anchor = pattern[0] === 94; // ^
      lauxlib.luaL_argcheck(
        L,
        tr === lua.LUA_TNUMBER || tr === lua.LUA_TSTRING || tr === lua.LUA_TFUNCTION || tr === lua.LUA_TTABLE,
        3,
        "string/function/table expected",
      );
      lua.lua_settop(L, 3);
      const out: Uint8Array[] = [];
      let pos = 0;
      let n = 0;
      while (n < max) {
        const m = find(L, pos);
        if (m === null) break;
        out.push(src.subarray(pos, m.start));
        n++;
        const capturesAt = lua.lua_gettop(L) - m.captures + 1;
        if (tr === lua.LUA_TSTRING || tr === lua.LUA_TNUMBER) expand(L, src, m, capturesAt, out);
        else {
          lua.lua_checkstack(L, m.captures + 2);
          lua.lua_pushvalue(L, 3);
          if (m.captures === 0) lua.lua_pushstring(L, src.subarray(m.start, m.end));
          else lua.lua_pushvalue(L, capturesAt);
          if (tr === lua.LUA_TFUNCTION) {
            for (let i = 1; i < m.captures; i++) lua.lua_pushvalue(L, capturesAt + i);
            yield call(Math.max(m.captures, 1), 1);
          } else yield* getTable(L);
          if (!lua.lua_toboolean(L, -1)) out.push(src.subarray(m.start, m.end)); // nil or false keeps the match
          else if (!isStringLike(L, -1)) lauxlib.luaL_error(L, "invalid replacement value (a %s)", lauxlib.luaL_typename(L, -1));
          else out.push(lua.lua_tolstring(L, -1));
        }
        lua.lua_settop(L, 3);
        if (m.end > m.start) pos = m.end;
        else if (m.start < src.length) {
          out.push(src.subarray(m.start, m.start + 1));
          pos = m.start + 1;
        } else {
          pos = src.length;
          break;
        }
        if (anchor) break;
      }
      out.push(src.subarray(pos));
      lua.lua_pushstring(L, concat(out));
      lua.lua_pushnumber(L, n);
      return 2;
    }),
    format: (L) => {
      // 5.1's %s takes a string or a number (luaL_checklstring); the rest is the library's own format.
      const fmt: Uint8Array = lauxlib.luaL_checklstring(L, 1);
      const top = lua.lua_gettop(L);
      let arg = 1;
      for (let i = 0; i < fmt.length; i++) {
        if (fmt[i] !== PERCENT) continue;
        if (fmt[++i] === PERCENT) continue;
        while (i < fmt.length && (fmt[i] === 45 || fmt[i] === 43 || fmt[i] === 32 || fmt[i] === 35 || fmt[i] === 48)) i++; // flags
        while (i < fmt.length && ((fmt[i] >= ZERO && fmt[i] <= NINE) || fmt[i] === 46)) i++; // width, precision
        if (++arg > top) break;
        if (fmt[i] === 115 && !isStringLike(L, arg)) { // s
          lauxlib.luaL_argerror(L, arg, lua.lua_pushfstring(L, "string expected, got %s", lauxlib.luaL_typename(L, arg)));
        }
      }
      return original.format(L);
    },
  };
}
