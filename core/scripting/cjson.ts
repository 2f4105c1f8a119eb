/**
 * The cjson library as Redis ships it (lua-cjson 2.1): numbers as %.14g,
 * '/' escaped, an empty table encodes as {}, arrays are tables with only
 * positive integer keys (too sparse ones are refused), cjson.null.
 */
import { lauxlib, lua, luaBytes, type LuaState, formatG14 } from "./lua.ts";
import { arrayLength, JSON_NULL, LuaTable, type LuaValue, pushLua, readLua } from "./values.ts";
import { str } from "../util/bytes.ts";

const MAX_DEPTH = 1000;

function escapeByte(b: number): string {
  switch (b) {
    case 34: return '\\"';
    case 92: return "\\\\";
    case 47: return "\\/";
    case 8: return "\\b";
    case 12: return "\\f";
    case 10: return "\\n";
    case 13: return "\\r";
    case 9: return "\\t";
  }
  if (b < 32 || b === 127) return "\\u00" + b.toString(16).padStart(2, "0");
  return String.fromCharCode(b);
}

class EncodeError extends Error {}

function typeName(v: LuaValue): string {
  if (v === null) return "nil";
  if (typeof v === "object" && "unsupported" in v) return v.unsupported === "depth" ? "table" : v.unsupported;
  return typeof v;
}

function encode(v: LuaValue, depth: number): string {
  if (v === null || v === JSON_NULL) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new EncodeError("Cannot serialise number: must not be NaN or Inf");
    return formatG14(v);
  }
  if (v instanceof Uint8Array) {
    let s = '"';
    for (let i = 0; i < v.length; i++) s += escapeByte(v[i]);
    return s + '"';
  }
  if (v instanceof LuaTable) {
    if (depth > MAX_DEPTH) throw new EncodeError(`Cannot serialise, excessive nesting (${depth})`);
    const len = arrayLength(v);
    if (len > 10 && len > v.entries.length * 2) throw new EncodeError("Cannot serialise table: excessively sparse array");
    if (len > 0) {
      const byIndex = new Map(v.entries as Array<[number, LuaValue]>);
      const items: string[] = [];
      for (let i = 1; i <= len; i++) items.push(encode(byIndex.get(i) ?? null, depth + 1));
      return "[" + items.join(",") + "]";
    }
    const members = v.entries.map(([k, val]) => {
      let key: string;
      if (typeof k === "number") key = '"' + formatG14(k) + '"';
      else if (k instanceof Uint8Array) key = encode(k, depth);
      else throw new EncodeError(`Cannot serialise ${typeName(k)}: table key must be a number or string`);
      return key + ":" + encode(val, depth + 1);
    });
    return "{" + members.join(",") + "}";
  }
  if ("unsupported" in v && v.unsupported === "depth") throw new EncodeError(`Cannot serialise, excessive nesting (${MAX_DEPTH + 1})`);
  throw new EncodeError(`Cannot serialise ${typeName(v)}: type not supported`);
}

class DecodeError extends Error {}

/** A JSON parser over a binary string; lua-cjson's error texts. */
class JsonParser {
  pos = 0;
  constructor(readonly s: string) {}

  fail(expected: string): never {
    const found = this.tokenName();
    throw new DecodeError(`Expected ${expected} but found ${found} at character ${this.pos + 1}`);
  }

  tokenName(): string {
    const ch = this.s[this.pos];
    if (ch === undefined) return "T_END";
    if ("{}[],:".includes(ch)) return { "{": "T_OBJ_BEGIN", "}": "T_OBJ_END", "[": "T_ARR_BEGIN", "]": "T_ARR_END", ",": "T_COMMA", ":": "T_COLON" }[ch]!;
    return "invalid token";
  }

  ws(): void {
    while (this.pos < this.s.length && " \t\r\n".includes(this.s[this.pos])) this.pos++;
  }

  value(depth: number): LuaValue {
    this.ws();
    const ch = this.s[this.pos];
    if (ch === "{" || ch === "[") {
      if (depth > MAX_DEPTH) throw new DecodeError(`Found too many nested data structures (${depth}) at character ${this.pos + 1}`);
      return ch === "{" ? this.object(depth) : this.array(depth);
    }
    if (ch === '"') return this.string();
    for (const [word, v] of [["true", true], ["false", false], ["null", JSON_NULL]] as const) {
      if (this.s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.pos, this.pos + 400));
    if (m) {
      this.pos += m[0].length;
      return Number(m[0]);
    }
    return this.fail("value");
  }

  object(depth: number): LuaTable {
    this.pos++;
    const entries: Array<[LuaValue, LuaValue]> = [];
    this.ws();
    if (this.s[this.pos] === "}") {
      this.pos++;
      return new LuaTable(entries);
    }
    for (;;) {
      this.ws();
      if (this.s[this.pos] !== '"') this.fail("object key string");
      const key = this.string();
      this.ws();
      if (this.s[this.pos] !== ":") this.fail("colon");
      this.pos++;
      entries.push([key, this.value(depth + 1)]);
      this.ws();
      const ch = this.s[this.pos];
      this.pos++;
      if (ch === "}") return new LuaTable(entries);
      if (ch !== ",") {
        this.pos--;
        this.fail("comma or object end");
      }
    }
  }

  array(depth: number): LuaTable {
    this.pos++;
    const entries: Array<[LuaValue, LuaValue]> = [];
    this.ws();
    if (this.s[this.pos] === "]") {
      this.pos++;
      return new LuaTable(entries);
    }
    for (let i = 1;; i++) {
      entries.push([i, this.value(depth + 1)]);
      this.ws();
      const ch = this.s[this.pos];
      this.pos++;
      if (ch === "]") return new LuaTable(entries);
      if (ch !== ",") {
        this.pos--;
        this.fail("comma or array end");
      }
    }
  }

  string(): Uint8Array {
    const start = this.pos;
    this.pos++;
    let out = "";
    for (;;) {
      const ch = this.s[this.pos++];
      if (ch === undefined) {
        this.pos = start;
        throw new DecodeError(`Expected value but found invalid token at character ${start + 1}`);
      }
      if (ch === '"') break;
      if (ch !== "\\") {
        out += ch;
        continue;
      }
      const esc = this.s[this.pos++];
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (esc in simple) out += simple[esc];
      else if (esc === "u") {
        let cp = parseInt(this.s.slice(this.pos, this.pos + 4), 16);
        this.pos += 4;
        if (cp >= 0xd800 && cp < 0xdc00 && this.s.startsWith("\\u", this.pos)) {
          const lo = parseInt(this.s.slice(this.pos + 2, this.pos + 6), 16);
          this.pos += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        out += str(new TextEncoder().encode(String.fromCodePoint(cp)));
      } else {
        this.pos = start;
        throw new DecodeError(`Expected value but found invalid escape code at character ${start + 1}`);
      }
    }
    return luaBytes(out);
  }
}

/** luaL_error: the message with the calling script's position. */
function raise(L: LuaState, msg: string): number {
  lauxlib.luaL_where(L, 1);
  lua.lua_pushstring(L, luaBytes(msg));
  lua.lua_concat(L, 2);
  return lua.lua_error(L);
}

export const cjsonFunctions = {
  encode(L: LuaState): number {
    if (lua.lua_gettop(L) !== 1) return raise(L, "bad argument #1 to 'encode' (expected 1 argument)");
    let out: string;
    try {
      out = encode(readLua(L, 1, MAX_DEPTH + 1), 1);
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
      return raise(L, e.message);
    }
    lua.lua_pushstring(L, luaBytes(out));
    return 1;
  },
  decode(L: LuaState): number {
    if (lua.lua_gettop(L) !== 1) return raise(L, "bad argument #1 to 'decode' (expected 1 argument)");
    const parser = new JsonParser(str(lua.lua_tolstring(L, 1) ?? new Uint8Array()));
    let v: LuaValue;
    try {
      v = parser.value(1);
      parser.ws();
      if (parser.pos < parser.s.length) parser.fail("the end");
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      return raise(L, e.message);
    }
    pushLua(L, v);
    return 1;
  },
};
