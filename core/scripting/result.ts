/**
 * A script's Lua result as the reply its caller gets (Redis's
 * luaReplyToRedisReply): strings, numbers, booleans, arrays, and Redis's
 * special tables (err, ok, double, big_number, map, set, verbatim_string),
 * read raw so that no metamethod runs once the script is over.
 *
 * Redis converts on its Lua stack, which holds 8000 slots: the result
 * starts 2 slots up, each array level takes 1 more, a map's key 4 and
 * value 3, a set's member 3, and a value with fewer than 4 slots left
 * becomes "reached lua stack limit". Respite counts the same slots, so a
 * table that holds itself gives Redis's reply exactly, nested as deep;
 * and it walks the result with its own stack of frames, not recursion,
 * which 8000 levels would overflow on Node.
 */
import { lua, luaBytes, type LuaState } from "./lua.ts";
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";

const RESULT_DEPTH = 2;
const STACK_SLOTS = 8000;
const STACK_LIMIT_ERROR = "ERR reached lua stack limit";

const fieldNames = new Map<string, Uint8Array>();

/** A field name as Lua bytes, made once: every conversion looks up the same few. */
export function field(name: string): Uint8Array {
  let b = fieldNames.get(name);
  if (b === undefined) fieldNames.set(name, b = luaBytes(name));
  return b;
}

/** Pushes field `name` of the table at idx, read raw as Redis reads a result's fields; returns its type. */
export function pushRawField(L: LuaState, idx: number, name: string): number {
  idx = lua.lua_absindex(L, idx);
  lua.lua_pushstring(L, field(name));
  return lua.lua_rawget(L, idx);
}

/** The string field `name` of the table at idx, or null. */
export function stringField(L: LuaState, idx: number, name: string): string | null {
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

/** A table being written: an array's elements 1..n, or a map's or set's pairs (its table at `table`). */
interface Frame {
  table: number;
  /** The Lua stack top the frame's children are pushed above. */
  base: number;
  depth: number;
  /** Arrays: the next element and the count. */
  next: number;
  count: number;
  /** Maps and sets: null for an array; during a map, whether the key was written and its value is next. */
  pairs: { isMap: boolean; valueNext: boolean } | null;
}

/**
 * Writes the Lua value at idx as the reply to c. `scriptResp` is the
 * protocol the script chose with redis.setresp: it decides what booleans
 * become.
 */
export function writeLuaValue(c: Client, L: LuaState, idx: number, scriptResp: 2 | 3): void {
  const frames: Frame[] = [];
  let value = lua.lua_absindex(L, idx);
  let depth = RESULT_DEPTH;
  for (;;) {
    if (value !== 0) {
      const frame = writeOne(c, L, value, scriptResp, depth);
      if (frame !== null) frames.push(frame);
      value = 0;
    }
    const f = frames[frames.length - 1];
    if (f === undefined) return;
    // The next child of the innermost table, pushed above its base; or the table is done.
    if (f.pairs === null) {
      lua.lua_settop(L, f.base);
      if (f.next > f.count) {
        frames.pop();
        continue;
      }
      lua.lua_rawgeti(L, f.table, f.next++);
      value = f.base + 1;
      depth = f.depth + 1;
    } else if (f.pairs.valueNext) {
      lua.lua_settop(L, f.base + 2); // key, value
      f.pairs.valueNext = false;
      value = f.base + 2;
      depth = f.depth + 3;
    } else {
      lua.lua_settop(L, f.base + 1); // the key lua_next goes on from
      if (lua.lua_next(L, f.table) === 0) {
        lua.lua_settop(L, f.table - 1); // the map or set table goes too
        frames.pop();
        continue;
      }
      lua.lua_pushvalue(L, -2);
      f.pairs.valueNext = f.pairs.isMap;
      value = f.base + 3;
      depth = f.depth + (f.pairs.isMap ? 4 : 3);
    }
  }
}

/** Writes a value, or a table's header; returns the frame for the table's children. */
function writeOne(c: Client, L: LuaState, idx: number, scriptResp: 2 | 3, depth: number): Frame | null {
  const out = c.out;
  if (depth + 4 > STACK_SLOTS) {
    c.error(STACK_LIMIT_ERROR);
    return null;
  }
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TSTRING:
      out.bulk(lua.lua_tolstring(L, idx));
      return null;
    case lua.LUA_TBOOLEAN: {
      const b = lua.lua_toboolean(L, idx);
      if (scriptResp === 3) out.bool(b);
      else if (b) out.int(1);
      else out.nullBulk();
      return null;
    }
    case lua.LUA_TNUMBER:
      out.int(luaInteger(lua.lua_tonumber(L, idx)));
      return null;
    case lua.LUA_TTABLE:
      return writeTable(c, L, idx, depth);
    default:
      out.nullBulk();
      return null;
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

function writeTable(c: Client, L: LuaState, idx: number, depth: number): Frame | null {
  lua.lua_checkstack(L, 8);
  if (!isPlainArray(L, idx)) {
    const special = writeSpecialTable(c, L, idx, depth);
    if (special !== undefined) return special;
  }
  // An array: elements 1..n up to the first nil.
  let n = 0;
  while (lua.lua_rawgeti(L, idx, n + 1) !== lua.LUA_TNIL) {
    lua.lua_pop(L, 1);
    n++;
  }
  lua.lua_pop(L, 1);
  c.out.array(n);
  return { table: idx, base: lua.lua_gettop(L), depth, next: 1, count: n, pairs: null };
}

/** Writes a table holding one of Redis's special fields; undefined if it has none, a frame for a map's or set's pairs. */
function writeSpecialTable(c: Client, L: LuaState, idx: number, depth: number): Frame | null | undefined {
  const out = c.out;
  const err = stringField(L, idx, "err");
  if (err !== null) {
    pushRawField(L, idx, "ignore_error_stats_update");
    const counted = !lua.lua_toboolean(L, -1);
    lua.lua_pop(L, 1);
    if (counted) c.error(err);
    else out.error(err);
    return null;
  }
  const ok = stringField(L, idx, "ok");
  if (ok !== null) {
    out.simple(oneLine(ok));
    return null;
  }
  if (pushFieldOfType(L, idx, "double", lua.LUA_TNUMBER)) {
    out.double(lua.lua_tonumber(L, -1));
    lua.lua_pop(L, 1);
    return null;
  }
  const big = stringField(L, idx, "big_number");
  if (big !== null) {
    out.bigNumber(oneLine(big));
    return null;
  }
  for (const kind of ["map", "set"] as const) {
    if (pushFieldOfType(L, idx, kind, lua.LUA_TTABLE)) {
      const table = lua.lua_gettop(L);
      let n = 0;
      lua.lua_pushnil(L);
      while (lua.lua_next(L, table) !== 0) {
        n++;
        lua.lua_pop(L, 1);
      }
      if (kind === "map") out.map(n);
      else out.set(n);
      lua.lua_pushnil(L); // the first key lua_next starts from
      return { table, base: table, depth, next: 0, count: 0, pairs: { isMap: kind === "map", valueNext: false } };
    }
  }
  if (pushFieldOfType(L, idx, "verbatim_string", lua.LUA_TTABLE)) {
    const format = stringField(L, -1, "format");
    const text = stringField(L, -1, "string");
    lua.lua_pop(L, 1);
    if (format !== null && text !== null) {
      out.verbatim(text, format);
      return null;
    }
  }
  return undefined;
}
