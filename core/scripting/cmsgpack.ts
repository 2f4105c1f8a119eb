/**
 * The cmsgpack library as Redis ships it (lua-cmsgpack 0.4): pack(...)
 * concatenates each value's encoding; unpack, unpack_one and unpack_limit
 * decode them back.
 */
import { lauxlib, lua, luaBytes, type LuaState } from "./lua.ts";
import { arrayLength, LuaTable, type LuaValue, pushLua, readLua } from "./values.ts";

/** Tables nested deeper than this pack as nil, as lua-cmsgpack does. */
const MAX_NESTING = 16;

class Packer {
  bytes: number[] = [];
  private view = new DataView(new ArrayBuffer(8));

  push(...b: number[]): void {
    for (const x of b) this.bytes.push(x & 255);
  }

  be(n: number, size: number): void {
    for (let i = size - 1; i >= 0; i--) this.bytes.push(Number((BigInt(Math.trunc(n)) >> BigInt(i * 8)) & 255n));
  }

  value(v: LuaValue, depth: number): void {
    if (v === null || typeof v === "object" && "unsupported" in v) return this.push(0xc0);
    if (typeof v === "boolean") return this.push(v ? 0xc3 : 0xc2);
    if (typeof v === "number") return this.number(v);
    if (v instanceof Uint8Array) return this.string(v);
    if (v instanceof LuaTable) {
      if (depth > MAX_NESTING) return this.push(0xc0);
      return this.table(v, depth);
    }
    this.push(0xc0);
  }

  number(n: number): void {
    if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) {
      if (n >= 0) {
        if (n <= 127) return this.push(n);
        if (n <= 0xff) return this.push(0xcc, n);
        if (n <= 0xffff) return (this.push(0xcd), this.be(n, 2));
        if (n <= 0xffffffff) return (this.push(0xce), this.be(n, 4));
        return (this.push(0xcf), this.be(n, 8));
      }
      if (n >= -32) return this.push(n);
      if (n >= -128) return this.push(0xd0, n);
      if (n >= -32768) return (this.push(0xd1), this.be(n, 2));
      if (n >= -(2 ** 31)) return (this.push(0xd2), this.be(n, 4));
      return (this.push(0xd3), this.be(n, 8));
    }
    if (Math.fround(n) === n || Number.isNaN(n)) {
      this.view.setFloat32(0, n);
      return this.push(0xca, ...new Uint8Array(this.view.buffer, 0, 4));
    }
    this.view.setFloat64(0, n);
    this.push(0xcb, ...new Uint8Array(this.view.buffer, 0, 8));
  }

  string(s: Uint8Array): void {
    const n = s.length;
    if (n < 32) this.push(0xa0 | n);
    else if (n <= 0xff) this.push(0xd9, n);
    else if (n <= 0xffff) (this.push(0xda), this.be(n, 2));
    else (this.push(0xdb), this.be(n, 4));
    for (let i = 0; i < n; i++) this.bytes.push(s[i]);
  }

  table(t: LuaTable, depth: number): void {
    const len = arrayLength(t);
    if (len >= 0 && len === t.entries.length) {
      const byIndex = new Map(t.entries as Array<[number, LuaValue]>);
      this.header(len, 0x90, 0xdc, 0xdd);
      for (let i = 1; i <= len; i++) this.value(byIndex.get(i) ?? null, depth + 1);
      return;
    }
    this.header(t.entries.length, 0x80, 0xde, 0xdf);
    for (const [k, v] of t.entries) {
      this.value(k, depth + 1);
      this.value(v, depth + 1);
    }
  }

  header(n: number, fix: number, b16: number, b32: number): void {
    if (n < 16) this.push(fix | n);
    else if (n <= 0xffff) (this.push(b16), this.be(n, 2));
    else (this.push(b32), this.be(n, 4));
  }
}

class Unpacker {
  pos: number;
  private view: DataView;
  constructor(readonly buf: Uint8Array, offset: number) {
    this.pos = offset;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error("Missing bytes in input.");
  }

  uint(size: number): number {
    this.need(size);
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + this.buf[this.pos++];
    return n;
  }

  int(size: number): number {
    const u = this.uint(size);
    const limit = 2 ** (size * 8);
    return u >= limit / 2 ? u - limit : u;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  items(n: number, isMap: boolean): LuaTable {
    const entries: Array<[LuaValue, LuaValue]> = [];
    for (let i = 1; i <= n; i++) entries.push(isMap ? [this.value(), this.value()] : [i, this.value()]);
    return new LuaTable(entries);
  }

  value(): LuaValue {
    this.need(1);
    const t = this.buf[this.pos++];
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 256;
    if ((t & 0xe0) === 0xa0) return this.bytes(t & 0x1f);
    if ((t & 0xf0) === 0x90) return this.items(t & 0x0f, false);
    if ((t & 0xf0) === 0x80) return this.items(t & 0x0f, true);
    switch (t) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xcc: return this.uint(1);
      case 0xcd: return this.uint(2);
      case 0xce: return this.uint(4);
      case 0xcf: return this.uint(8);
      case 0xd0: return this.int(1);
      case 0xd1: return this.int(2);
      case 0xd2: return this.int(4);
      case 0xd3: return this.int(8);
      case 0xca: {
        this.need(4);
        const f = this.view.getFloat32(this.pos);
        this.pos += 4;
        return f;
      }
      case 0xcb: {
        this.need(8);
        const d = this.view.getFloat64(this.pos);
        this.pos += 8;
        return d;
      }
      case 0xc4: case 0xd9: return this.bytes(this.uint(1));
      case 0xc5: case 0xda: return this.bytes(this.uint(2));
      case 0xc6: case 0xdb: return this.bytes(this.uint(4));
      case 0xdc: return this.items(this.uint(2), false);
      case 0xdd: return this.items(this.uint(4), false);
      case 0xde: return this.items(this.uint(2), true);
      case 0xdf: return this.items(this.uint(4), true);
    }
    throw new Error("Bad data format in input.");
  }
}

/** luaL_error: the message with the calling script's position. */
function raise(L: LuaState, msg: string): number {
  lauxlib.luaL_where(L, 1);
  lua.lua_pushstring(L, luaBytes(msg));
  lua.lua_concat(L, 2);
  return lua.lua_error(L);
}

/** Decodes up to `limit` values (0 = all) from `offset`; with `withOffset`, first pushes where decoding stopped (-1 at the end). */
function unpack(L: LuaState, limit: number, offset: number, withOffset: boolean): number {
  const buf: Uint8Array = lua.lua_tolstring(L, 1);
  if (buf === null) return raise(L, "bad argument #1 to 'unpack' (string expected)");
  const u = new Unpacker(buf, offset);
  const values: LuaValue[] = [];
  try {
    while (u.pos < buf.length && (limit === 0 || values.length < limit)) values.push(u.value());
  } catch (e) {
    return raise(L, (e as Error).message);
  }
  if (!lua.lua_checkstack(L, values.length + 2)) return raise(L, "too many items to unpack");
  if (withOffset) lua.lua_pushnumber(L, u.pos >= buf.length ? -1 : u.pos);
  for (const v of values) pushLua(L, v);
  return values.length + (withOffset ? 1 : 0);
}

export const cmsgpackFunctions = {
  pack(L: LuaState): number {
    const n = lua.lua_gettop(L);
    if (n === 0) return raise(L, "MessagePack pack needs input.");
    const p = new Packer();
    for (let i = 1; i <= n; i++) p.value(readLua(L, i, MAX_NESTING + 2), 1);
    lua.lua_pushstring(L, Uint8Array.from(p.bytes));
    return 1;
  },
  unpack: (L: LuaState) => unpack(L, 0, 0, false),
  unpack_one: (L: LuaState) => unpack(L, 1, lua.lua_gettop(L) >= 2 ? lua.lua_tonumber(L, 2) : 0, true),
  unpack_limit: (L: LuaState) =>
    unpack(L, lua.lua_tonumber(L, 2) || 0, lua.lua_gettop(L) >= 3 ? lua.lua_tonumber(L, 3) : 0, true),
};
