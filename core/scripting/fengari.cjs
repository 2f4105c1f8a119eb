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
module.exports = { fengari, lobject, lstring };
