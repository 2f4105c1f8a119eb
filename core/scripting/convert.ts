/**
 * Conversions between Redis replies and Lua values, as Redis documents
 * them: a command's RESP2/RESP3 reply becomes a Lua value for redis.call,
 * and a script's Lua result becomes the reply its caller gets.
 */
import { lauxlib, lua, luaBytes, type LuaState } from "./lua.ts";
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";

const CR = 13;

const fieldNames = new Map<string, Uint8Array>();

/** A field name as Lua bytes, made once: every reply conversion looks up the same few. */
function field(name: string): Uint8Array {
  let b = fieldNames.get(name);
  if (b === undefined) fieldNames.set(name, b = luaBytes(name));
  return b;
}

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

/** Lua 5.3 names the culprit after the error ("a nil value (local 'a')"), 5.1 before it, as Redis shows. */
function lua51Message(msg: string): string {
  return msg.replace(/attempt to (.+?) an? (\w+) value \((\w+) '(.*)'\)$/, (_m, op, type, kind, name) =>
    `attempt to ${op} ${kind} '${name}' (a ${type} value)`);
}

/**
 * The text of a script error on top of the stack, as Redis's error handler
 * builds it: an error table's err field, or "ERR " and the value as a
 * string; `counted` is false for errors a failed command already counted.
 * The value stays on the stack.
 */
export function errorValueText(L: LuaState): { text: string; counted: boolean } {
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
    const text = "ERR " + lua51Message(str(lauxlib.luaL_tolstring(L, -1)));
    lua.lua_pop(L, 1); // luaL_tolstring's copy
    return { text, counted: true };
  }
  lua.lua_getfield(L, -1, field("err"));
  const text = lua.lua_type(L, -1) === lua.LUA_TSTRING ? str(lua.lua_tolstring(L, -1)) : "ERR unknown error";
  lua.lua_getfield(L, -2, field("ignore_error_stats_update"));
  const counted = !lua.lua_toboolean(L, -1);
  lua.lua_pop(L, 2);
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

/** Pushes field `name` of the table at idx, read raw as Redis reads a result's fields; returns its type. */
function pushRawField(L: LuaState, idx: number, name: string): number {
  idx = lua.lua_absindex(L, idx);
  lua.lua_pushstring(L, field(name));
  return lua.lua_rawget(L, idx);
}

/** The string field `name` of the table at idx, or null. */
function stringField(L: LuaState, idx: number, name: string): string | null {
  pushRawField(L, idx, name);
  const s = lua.lua_type(L, -1) === lua.LUA_TSTRING ? str(lua.lua_tolstring(L, -1)) : null;
  lua.lua_pop(L, 1);
  return s;
}

/** Whether the table at idx has a field `name` of Lua type `type`; if so it is left pushed. */
function pushFieldOfType(L: LuaState, idx: number, name: string, type: number): boolean {
  if (pushRawField(L, idx, name) === type) return true;
  lua.lua_pop(L, 1);
  return false;
}

const oneLine = (s: string) => s.replace(/[\r\n]/g, " ");

/** Lua number to reply integer: C's (long long) cast truncates toward zero. */
function luaInteger(n: number): number | bigint {
  if (Number.isSafeInteger(n)) return n;
  if (!Number.isFinite(n)) return -(2n ** 63n);
  const t = Math.trunc(n);
  return Number.isSafeInteger(t) ? t : BigInt(t);
}

/**
 * Writes the Lua value at idx as the reply to c (Redis's luaReplyToRedisReply).
 * `scriptResp` is the protocol the script chose with redis.setresp: it
 * decides what booleans become.
 */
export function writeLuaValue(c: Client, L: LuaState, idx: number, scriptResp: 2 | 3): void {
  const out = c.out;
  idx = lua.lua_absindex(L, idx);
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TSTRING:
      return out.bulk(lua.lua_tolstring(L, idx));
    case lua.LUA_TBOOLEAN: {
      const b = lua.lua_toboolean(L, idx);
      if (scriptResp === 3) return out.bool(b);
      return b ? out.int(1) : out.nullBulk();
    }
    case lua.LUA_TNUMBER:
      return out.int(luaInteger(lua.lua_tonumber(L, idx)));
    case lua.LUA_TTABLE:
      return writeLuaTable(c, L, idx, scriptResp);
    default:
      return out.nullBulk();
  }
}

/**
 * Whether the table at idx has only number keys, so that none of Redis's
 * special fields can be in it: most script results are such arrays, and
 * this scan costs less than looking the fields up.
 */
function isPlainArray(L: LuaState, idx: number): boolean {
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    const numberKey = lua.lua_type(L, -2) === lua.LUA_TNUMBER;
    lua.lua_pop(L, numberKey ? 1 : 2);
    if (!numberKey) return false;
  }
  return true;
}

function writeLuaTable(c: Client, L: LuaState, idx: number, scriptResp: 2 | 3): void {
  lua.lua_checkstack(L, 8);
  if (!isPlainArray(L, idx) && writeSpecialTable(c, L, idx, scriptResp)) return;
  // An array: elements 1..n up to the first nil.
  let n = 0;
  while (lua.lua_rawgeti(L, idx, n + 1) !== lua.LUA_TNIL) {
    lua.lua_pop(L, 1);
    n++;
  }
  lua.lua_pop(L, 1);
  c.out.array(n);
  for (let i = 1; i <= n; i++) {
    lua.lua_rawgeti(L, idx, i);
    writeLuaValue(c, L, -1, scriptResp);
    lua.lua_pop(L, 1);
  }
}

/** Writes a table holding one of Redis's special fields (err, ok, double, map...); false if it has none. */
function writeSpecialTable(c: Client, L: LuaState, idx: number, scriptResp: 2 | 3): boolean {
  const out = c.out;
  const err = stringField(L, idx, "err");
  if (err !== null) {
    pushRawField(L, idx, "ignore_error_stats_update");
    const counted = !lua.lua_toboolean(L, -1);
    lua.lua_pop(L, 1);
    if (counted) c.error(err);
    else out.error(err);
    return true;
  }
  const ok = stringField(L, idx, "ok");
  if (ok !== null) {
    out.simple(oneLine(ok));
    return true;
  }
  if (pushFieldOfType(L, idx, "double", lua.LUA_TNUMBER)) {
    out.double(lua.lua_tonumber(L, -1));
    lua.lua_pop(L, 1);
    return true;
  }
  const big = stringField(L, idx, "big_number");
  if (big !== null) {
    out.bigNumber(oneLine(big));
    return true;
  }
  for (const kind of ["map", "set"] as const) {
    if (pushFieldOfType(L, idx, kind, lua.LUA_TTABLE)) {
      writePairs(c, L, scriptResp, kind === "map");
      lua.lua_pop(L, 1);
      return true;
    }
  }
  if (pushFieldOfType(L, idx, "verbatim_string", lua.LUA_TTABLE)) {
    const format = stringField(L, -1, "format");
    const text = stringField(L, -1, "string");
    lua.lua_pop(L, 1);
    if (format !== null && text !== null) {
      out.verbatim(text, format);
      return true;
    }
  }
  return false;
}

/** Writes the table on top of the stack as a map (key and value) or a set (keys). */
function writePairs(c: Client, L: LuaState, scriptResp: 2 | 3, isMap: boolean): void {
  const t = lua.lua_absindex(L, -1);
  let n = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, t) !== 0) {
    n++;
    lua.lua_pop(L, 1);
  }
  if (isMap) c.out.map(n);
  else c.out.set(n);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, t) !== 0) {
    lua.lua_pushvalue(L, -2);
    writeLuaValue(c, L, -1, scriptResp);
    lua.lua_pop(L, 1);
    if (isMap) writeLuaValue(c, L, -1, scriptResp);
    lua.lua_pop(L, 1);
  }
}
