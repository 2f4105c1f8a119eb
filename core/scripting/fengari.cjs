/*
 * fengari and the two internal modules lua.ts patches, required in this
 * fixed order: fengari's CommonJS files require each other in a cycle that
 * only resolves when its entry module loads first, and Bun does not keep
 * ESM import order for CommonJS dependencies.
 *
 * Before that, fengari's string hash is replaced: the other modules copy
 * it when they load. Every table access with a new string key computes it,
 * and fengari's own builds a string of hex digits one byte at a time (a
 * tenth of an EVALSHA's time). The replacement is the bytes as a binary
 * string (one char per byte), which also makes string comparison (l_strcmp
 * compares hashes) follow byte order as Lua 5.1 does in the C locale; the
 * "|" prefix keeps fengari's separation from light userdata keys.
 *
 * After loading, the VM's stack-top adjustment (run after every call
 * instruction) clears the slots it frees instead of deleting them: V8
 * makes an array with deleted elements holey and slower for good, which
 * cost Node about 15% of an EVALSHA. Only the callers that reach it
 * through the module (the VM loop, the API) see the replacement.
 *
 * Tables get Redis 7's read-only flag: every write that reaches a table's
 * storage (assignment, rawset, table.insert...) goes through luaH_setfrom,
 * which now fails on a read-only table with Redis's message (positioned
 * when a Lua instruction did the write, as Redis's patched Lua does). And
 * errors are worded as Lua 5.1 words them: the C-stack-depth error, and
 * the culprit of a type error named before its type ("attempt to index
 * local 'a' (a nil value)", where 5.3 says "a nil value (local 'a')"),
 * whether the script catches the error or not.
 *
 * And a fengari bug is mended: lua_pcallk, when its call can yield, means
 * to save whether hooks are allowed in the CallInfo (CIST_OAH) for the
 * error recovery to restore, but only ever clears the bit; so after a
 * pcall caught an error, the coroutine ran with hooks off for good, and
 * a script looping after a caught error could no longer be suspended or
 * killed.
 */
"use strict";
const lstring = require("fengari/src/lstring.js");

const chr = String.fromCharCode;
const CHUNK = 8192;

function hashBytes(b) {
  const n = b.length;
  if (n <= CHUNK) return "|" + chr.apply(null, b);
  let s = "|";
  for (let i = 0; i < n; i += CHUNK) s += chr.apply(null, b.subarray(i, i + CHUNK));
  return s;
}

lstring.luaS_hash = hashBytes;
lstring.luaS_hashlongstr = (ts) => {
  if (ts.hash === null) ts.hash = hashBytes(ts.realstring);
  return ts.hash;
};

const fengari = require("fengari");
const lobject = require("fengari/src/lobject.js");
const ldo = require("fengari/src/ldo.js");

const LUA_TNIL = fengari.lua.LUA_TNIL;
ldo.adjust_top = (L, newtop) => {
  while (L.top < newtop) L.stack[L.top++] = new lobject.TValue(LUA_TNIL, null);
  while (L.top > newtop) L.stack[--L.top] = undefined;
};
const ltable = require("fengari/src/ltable.js");
const ldebug = require("fengari/src/ldebug.js");
const READONLY = fengari.to_luastring("Attempt to modify a readonly table");
ltable.Table.prototype.readonly = false;
const setfrom = ltable.luaH_setfrom;
ltable.luaH_setfrom = (L, t, key, value) => {
  if (t.readonly) ldebug.luaG_runerror(L, READONLY);
  setfrom(L, t, key, value);
};

const JS_OVERFLOW = "JS stack overflow";
const C_OVERFLOW = fengari.to_luastring("C stack overflow");
const runerror = ldebug.luaG_runerror;
ldebug.luaG_runerror = (L, fmt, ...argp) =>
  runerror(L, fmt.length === JS_OVERFLOW.length && chr.apply(null, fmt) === JS_OVERFLOW ? C_OVERFLOW : fmt, ...argp);

const TYPE_ERROR_53 = /attempt to (.+?) an? (\w+) value \((\w+) '(.*)'\)$/;
const reworded = (raise) => (L, ...args) => {
  try {
    raise(L, ...args);
  } catch (e) {
    const msg = L.stack[L.top - 1];
    if (msg !== undefined && msg.ttisstring()) {
      const text = chr.apply(null, msg.svalue());
      const text51 = text.replace(TYPE_ERROR_53, (_m, op, type, kind, name) => `attempt to ${op} ${kind} '${name}' (a ${type} value)`);
      if (text51 !== text) msg.setsvalue(lstring.luaS_bless(L, Uint8Array.from(text51, (c) => c.charCodeAt(0))));
    }
    throw e;
  }
};
for (const name of ["luaG_typeerror", "luaG_concaterror", "luaG_opinterror"]) ldebug[name] = reworded(ldebug[name]);

const lstate = require("fengari/src/lstate.js");
const pcallk = fengari.lua.lua_pcallk;
fengari.lua.lua_pcallk = (L, ...args) => {
  if (L.allowhook) L.ci.callstatus |= lstate.CIST_OAH;
  return pcallk(L, ...args);
};

module.exports = { fengari, lobject, lstring };
