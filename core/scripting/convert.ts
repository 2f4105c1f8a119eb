/**
 * Conversions between Redis replies and Lua values, as Redis documents
 * them: a command's RESP2/RESP3 reply becomes a Lua value for redis.call
 * (a script's result becomes a reply in result.ts), and Redis's error
 * tables.
 */
import { lauxlib, lua, luaBytes, type LuaState } from "./lua.ts";
import { field, pushRawField, stringField } from "./result.ts";
import { str } from "../util/bytes.ts";

const CR = 13;

function lineEnd(buf: Uint8Array, pos: number): number {
  while (buf[pos] !== CR) pos++;
  return pos;
}

function setField(L: LuaState, name: string, push: () => void): void {
  lua.lua_createtable(L, 0, 1);
  push();
  lua.lua_setfield(L, -2, field(name));
}

/**
 * Splits "-CODE message" as Redis's luaPushError does: a message without a
 * leading '-' gets the ERR code; the text is trimmed of CR/LF.
 */
export function errorText(raw: string): string {
  let code = "ERR";
  let msg = raw;
  if (raw.charCodeAt(0) === 45) {
    const sp = raw.indexOf(" ");
    if (sp < 0) msg = raw.slice(1);
    else {
      code = raw.slice(1, sp);
      msg = raw.slice(sp + 1);
    }
  }
  return code + " " + msg.replace(/^[\r\n]+|[\r\n]+$/g, "");
}

/** Pushes Redis's error table {err=...}; `fromCommand` marks errors already counted in errorstats. */
export function pushErrorTable(L: LuaState, raw: string, fromCommand = false): void {
  lua.lua_createtable(L, 0, 2);
  lua.lua_pushstring(L, luaBytes(errorText(raw)));
  lua.lua_setfield(L, -2, field("err"));
  if (fromCommand) {
    lua.lua_pushboolean(L, true);
    lua.lua_setfield(L, -2, field("ignore_error_stats_update"));
  }
}

/**
 * The text of a script error on top of the stack, as Redis's error handler
 * builds it: an error table's err field, or "ERR " and the value as a
 * string; `counted` is false for errors a failed command already counted.
 * The value stays on the stack.
 */
export function errorValueText(L: LuaState): { text: string; counted: boolean } {
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
    const text = "ERR " + str(lauxlib.luaL_tolstring(L, -1));
    lua.lua_pop(L, 1); // luaL_tolstring's copy
    return { text, counted: true };
  }
  // Raw reads: a metamethod here would run outside the script, where nothing could stop it.
  const text = stringField(L, -1, "err") ?? "ERR unknown error";
  pushRawField(L, -1, "ignore_error_stats_update");
  const counted = !lua.lua_toboolean(L, -1);
  lua.lua_pop(L, 1);
  return { text, counted };
}

function parseDoubleReply(s: string): number {
  if (s === "inf") return Infinity;
  if (s === "-inf") return -Infinity;
  if (s === "nan" || s === "-nan") return NaN;
  return Number(s);
}

/** Pushes the reply at buf[pos] as a Lua value; returns where it ends. */
export function pushReply(L: LuaState, buf: Uint8Array, pos: number): number {
  const type = buf[pos];
  const end = lineEnd(buf, pos + 1);
  const line = str(buf.subarray(pos + 1, end));
  let next = end + 2;
  lua.lua_checkstack(L, 4);
  switch (type) {
    case 43: // + status
      setField(L, "ok", () => lua.lua_pushstring(L, buf.subarray(pos + 1, end)));
      break;
    case 45: // - error
      pushErrorTable(L, "-" + line, true);
      break;
    case 58: // : integer; a double, as every Lua 5.1 number
      lua.lua_pushnumber(L, Number(line));
      break;
    case 36: { // $ bulk
      const n = Number(line);
      if (n < 0) lua.lua_pushboolean(L, false);
      else {
        lua.lua_pushstring(L, buf.subarray(next, next + n)); // fengari copies it
        next += n + 2;
      }
      break;
    }
    case 42: // * array
    case 62: { // > push
      const n = Number(line);
      if (n < 0) {
        lua.lua_pushboolean(L, false);
        break;
      }
      lua.lua_createtable(L, n, 0);
      for (let i = 1; i <= n; i++) {
        next = pushReply(L, buf, next);
        lua.lua_rawseti(L, -2, i);
      }
      break;
    }
    case 37: // % map
    case 126: { // ~ set
      const n = Number(line);
      const isMap = type === 37;
      lua.lua_createtable(L, 0, 1);
      lua.lua_createtable(L, 0, n);
      for (let i = 0; i < n; i++) {
        next = pushReply(L, buf, next);
        if (isMap) next = pushReply(L, buf, next);
        else lua.lua_pushboolean(L, true);
        lua.lua_rawset(L, -3);
      }
      lua.lua_setfield(L, -2, field(isMap ? "map" : "set"));
      break;
    }
    case 95: // _ null
      lua.lua_pushnil(L);
      break;
    case 35: // # boolean
      lua.lua_pushboolean(L, line === "t");
      break;
    case 44: // , double
      setField(L, "double", () => lua.lua_pushnumber(L, parseDoubleReply(line)));
      break;
    case 40: // ( big number
      setField(L, "big_number", () => lua.lua_pushstring(L, luaBytes(line)));
      break;
    case 61: { // = verbatim
      const n = Number(line);
      const body = buf.subarray(next, next + n);
      next += n + 2;
      setField(L, "verbatim_string", () => {
        lua.lua_createtable(L, 0, 2);
        lua.lua_pushstring(L, body.slice(0, 3));
        lua.lua_setfield(L, -2, field("format"));
        lua.lua_pushstring(L, body.slice(4));
        lua.lua_setfield(L, -2, field("string"));
      });
      break;
    }
    default:
      lua.lua_pushnil(L);
  }
  return next;
}
