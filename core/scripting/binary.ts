/**
 * The bit (LuaBitOp) and struct libraries Redis ships: 32-bit bit
 * operations on numbers, and packing values into binary strings.
 */
import { lauxlib, lua, luaBytes, type LuaState } from "./lua.ts";

/** luaL_error: the message with the calling script's position. */
function raise(L: LuaState, msg: string): number {
  lauxlib.luaL_where(L, 1);
  lua.lua_pushstring(L, luaBytes(msg));
  lua.lua_concat(L, 2);
  return lua.lua_error(L);
}

function bitArg(L: LuaState, i: number, fname: string): number {
  if (lua.lua_type(L, i) !== lua.LUA_TNUMBER && lua.lua_type(L, i) !== lua.LUA_TSTRING) {
    raise(L, `bad argument #${i} to '${fname}' (number expected, got ${lua.lua_typename(L, lua.lua_type(L, i)) ?? "no value"})`);
  }
  const n = lua.lua_tonumber(L, i);
  // LuaBitOp normalises by adding 2^52+2^51: round half to even, then the low 32 bits.
  const r = Math.round(n);
  const even = Math.abs(n % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return Number(BigInt.asIntN(32, BigInt(even)));
}

function ret(L: LuaState, n: number): number {
  lua.lua_pushnumber(L, n | 0);
  return 1;
}

function fold(op: (a: number, b: number) => number, name: string) {
  return (L: LuaState) => {
    let acc = bitArg(L, 1, name);
    for (let i = 2; i <= lua.lua_gettop(L); i++) acc = op(acc, bitArg(L, i, name));
    return ret(L, acc);
  };
}

function shift(op: (a: number, b: number) => number, name: string) {
  return (L: LuaState) => ret(L, op(bitArg(L, 1, name), bitArg(L, 2, name) & 31));
}

export const bitFunctions = {
  tobit: (L: LuaState) => ret(L, bitArg(L, 1, "tobit")),
  bnot: (L: LuaState) => ret(L, ~bitArg(L, 1, "bnot")),
  band: fold((a, b) => a & b, "band"),
  bor: fold((a, b) => a | b, "bor"),
  bxor: fold((a, b) => a ^ b, "bxor"),
  lshift: shift((a, b) => a << b, "lshift"),
  rshift: shift((a, b) => a >>> b, "rshift"),
  arshift: shift((a, b) => a >> b, "arshift"),
  rol: shift((a, b) => (a << b) | (a >>> (32 - b)), "rol"),
  ror: shift((a, b) => (a >>> b) | (a << (32 - b)), "ror"),
  bswap: (L: LuaState) => {
    const a = bitArg(L, 1, "bswap");
    return ret(L, ((a >>> 24) & 0xff) | ((a >>> 8) & 0xff00) | ((a & 0xff00) << 8) | (a << 24));
  },
  tohex: (L: LuaState) => {
    const a = bitArg(L, 1, "tohex");
    let n = lua.lua_isnoneornil(L, 2) ? 8 : bitArg(L, 2, "tohex");
    const upper = n < 0;
    if (upper) n = -n;
    if (n > 8) n = 8;
    let hex = (a >>> 0).toString(16).padStart(8, "0").slice(8 - n);
    if (upper) hex = hex.toUpperCase();
    lua.lua_pushstring(L, luaBytes(hex));
    return 1;
  },
};

// ---- struct ----

interface FormatItem {
  op: string;
  size: number;
}

/** Parses a struct format into items; '<' '>' '=' '!' set state. */
function* formatItems(L: LuaState, fmt: string, fname: string): Generator<FormatItem & { little: boolean; align: number }> {
  let little = true;
  let maxAlign = 1;
  for (let i = 0; i < fmt.length;) {
    const op = fmt[i++];
    let digits = "";
    while (i < fmt.length && fmt[i] >= "0" && fmt[i] <= "9") digits += fmt[i++];
    const n = digits === "" ? -1 : Number(digits);
    switch (op) {
      case " ": continue;
      case "<": case "=": little = true; continue;
      case ">": little = false; continue;
      case "!": maxAlign = n < 0 ? 8 : n; continue;
      case "x": case "b": case "B": yield { op, size: 1, little, align: 1 }; continue;
      case "h": case "H": yield { op, size: 2, little, align: Math.min(2, maxAlign) }; continue;
      case "l": case "L": case "T": yield { op, size: 8, little, align: Math.min(8, maxAlign) }; continue;
      case "f": yield { op, size: 4, little, align: Math.min(4, maxAlign) }; continue;
      case "d": yield { op, size: 8, little, align: Math.min(8, maxAlign) }; continue;
      case "i": case "I": {
        const size = n < 0 ? 4 : n;
        if (size > 8 || size < 1) raise(L, `integral size ${size} is larger than limit of 8`);
        yield { op, size, little, align: Math.min(size, maxAlign) };
        continue;
      }
      case "s": yield { op, size: 0, little, align: 1 }; continue;
      case "c": yield { op, size: n < 0 ? 1 : n, little, align: 1 }; continue;
      default:
        raise(L, `bad argument #1 to '${fname}' (invalid format option '${op}')`);
    }
  }
}

const pad = (pos: number, align: number) => (align > 1 && pos % align !== 0 ? align - (pos % align) : 0);

function structPack(L: LuaState): number {
  const fmt = String.fromCharCode(...(lua.lua_tolstring(L, 1) ?? []));
  const out: number[] = [];
  let arg = 2;
  const view = new DataView(new ArrayBuffer(8));
  for (const it of formatItems(L, fmt, "pack")) {
    for (let p = pad(out.length, it.align); p > 0; p--) out.push(0);
    if (it.op === "x") out.push(0);
    else if (it.op === "s" || it.op === "c") {
      const s: Uint8Array | null = lua.lua_tolstring(L, arg++);
      if (s === null) return raise(L, `bad argument #${arg - 1} to 'pack' (string expected)`);
      const size = it.op === "c" && it.size === 0 ? s.length : it.op === "c" ? it.size : s.length;
      if (it.op === "c" && s.length < size) return raise(L, `bad argument #${arg - 1} to 'pack' (string too short)`);
      for (let i = 0; i < size; i++) out.push(s[i]);
      if (it.op === "s") out.push(0);
    } else if (it.op === "f" || it.op === "d") {
      const n = lua.lua_tonumber(L, arg++);
      if (it.op === "f") view.setFloat32(0, n, it.little);
      else view.setFloat64(0, n, it.little);
      out.push(...new Uint8Array(view.buffer, 0, it.size));
    } else {
      const v = BigInt.asUintN(64, BigInt(Math.trunc(lua.lua_tonumber(L, arg++))));
      const bytes: number[] = [];
      for (let i = 0; i < it.size; i++) bytes.push(Number((v >> BigInt(i * 8)) & 255n));
      out.push(...(it.little ? bytes : bytes.reverse()));
    }
  }
  lua.lua_pushstring(L, Uint8Array.from(out));
  return 1;
}

function structUnpack(L: LuaState): number {
  const fmt = String.fromCharCode(...(lua.lua_tolstring(L, 1) ?? []));
  const data: Uint8Array | null = lua.lua_tolstring(L, 2);
  if (data === null) return raise(L, "bad argument #2 to 'unpack' (string expected)");
  let pos = lua.lua_isnoneornil(L, 3) ? 0 : lua.lua_tonumber(L, 3) - 1;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let count = 0;
  let lastNumber = 0;
  const need = (n: number) => {
    if (pos + n > data.length) raise(L, "bad argument #2 to 'unpack' (data string too short)");
  };
  for (const it of formatItems(L, fmt, "unpack")) {
    pos += pad(pos, it.align);
    lua.lua_checkstack(L, 2);
    if (it.op === "x") {
      pos++;
      continue;
    }
    if (it.op === "s") {
      const end = data.indexOf(0, pos);
      if (end < 0) return raise(L, "unfinished string in data");
      lua.lua_pushstring(L, data.slice(pos, end));
      pos = end + 1;
    } else if (it.op === "c") {
      const size = it.size === 0 ? lastNumber : it.size;
      need(size);
      lua.lua_pushstring(L, data.slice(pos, pos + size));
      pos += size;
    } else if (it.op === "f" || it.op === "d") {
      need(it.size);
      lua.lua_pushnumber(L, it.op === "f" ? view.getFloat32(pos, it.little) : view.getFloat64(pos, it.little));
      pos += it.size;
    } else {
      need(it.size);
      let v = 0n;
      for (let i = 0; i < it.size; i++) {
        const b = BigInt(data[pos + (it.little ? i : it.size - 1 - i)]);
        v |= b << BigInt(i * 8);
      }
      const signed = it.op === it.op.toLowerCase() && it.op !== "x";
      lastNumber = Number(signed ? BigInt.asIntN(it.size * 8, v) : v);
      lua.lua_pushnumber(L, lastNumber);
      pos += it.size;
    }
    count++;
  }
  lua.lua_pushnumber(L, pos + 1);
  return count + 1;
}

function structSize(L: LuaState): number {
  const fmt = String.fromCharCode(...(lua.lua_tolstring(L, 1) ?? []));
  let size = 0;
  for (const it of formatItems(L, fmt, "size")) {
    if (it.op === "s" || (it.op === "c" && it.size === 0)) return raise(L, "bad argument #1 to 'size' (options 'c0' - 's' have undefined sizes)");
    size += pad(size, it.align) + it.size;
  }
  lua.lua_pushnumber(L, size);
  return 1;
}

export const structFunctions = { pack: structPack, unpack: structUnpack, size: structSize };
