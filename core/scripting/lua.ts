/**
 * The Lua VM: fengari (Lua 5.3 in plain JS, synchronous, no WebAssembly to
 * load), adjusted towards the Lua 5.1 that Redis embeds: every number is a
 * double, as in 5.1 (numerals and string conversions give floats, so
 * arithmetic cannot wrap at fengari's 32-bit integers), and numbers print
 * as 5.1's "%.14g" (10/2 is "5", not 5.3's "5.0").
 */
import { bytes } from "../util/bytes.ts";
// deno-lint-ignore no-explicit-any
export type LuaState = any;
// deno-lint-ignore no-explicit-any
type Module = any;

export let lua: Module, lauxlib: Module, lualib: Module;
let lobject: Module, lstring: Module;
let loading: Promise<void> | null = null;

/** Whether fengari is loaded; until then scripting commands wait for loadLua() (see Engine.execute). */
export const luaLoaded = (): boolean => lua !== undefined;

/**
 * Loads fengari on first use: it is about 20 MB of a Bun server's resident
 * memory (a third of an idle one), which a server that never runs a script
 * should not pay.
 */
export function loadLua(): Promise<void> {
  loading ??= import("./fengari.cjs").then(({ default: internals }) => {
    ({ lua, lauxlib, lualib } = internals.fengari);
    ({ lobject, lstring } = internals);
  });
  return loading;
}

/** C's printf("%.14g"), which Lua 5.1 uses for tostring and concatenation. */
export function formatG14(n: number): string {
  if (Number.isNaN(n)) return "-nan"; // x86 makes 0/0 a negative NaN, which Redis prints so
  if (n === Infinity) return "inf";
  if (n === -Infinity) return "-inf";
  if (n === 0) return Object.is(n, -0) ? "-0" : "0";
  // Integers below 1e14 print in full, as JS prints them (scripts format timestamps and counters all the time).
  if (Number.isInteger(n) && n < 1e14 && n > -1e14) return String(n);
  const [mant, expText] = roundedExponential(n).split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 14) {
    const abs = Math.abs(exp);
    return trimZeros(mant) + "e" + (exp < 0 ? "-" : "+") + (abs < 10 ? "0" : "") + abs;
  }
  const sign = mant.startsWith("-") ? "-" : "";
  const digits = mant.replace(/[-.]/g, "");
  const fixed = exp >= 0 ? digits.slice(0, exp + 1) + "." + digits.slice(exp + 1) : "0." + "0".repeat(-exp - 1) + digits;
  return sign + trimZeros(fixed);
}

/**
 * n.toExponential(13), except that an exact tie rounds half to even as C's
 * printf does (JS rounds it away from zero): 123456789012345 is
 * "1.2345678901234e+14" in Lua.
 */
function roundedExponential(n: number): string {
  const wide = n.toExponential(20);
  const digits = wide.slice(wide.indexOf(".") + 1, wide.indexOf("e"));
  const lastKept = wide.charCodeAt(wide.indexOf(".") + 13);
  if (digits.slice(13) !== "5000000" || lastKept % 2 !== 0) return n.toExponential(13);
  return wide.slice(0, wide.indexOf(".") + 14) + wide.slice(wide.indexOf("e"));
}

function trimZeros(s: string): string {
  if (s.indexOf(".") < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

/** Binary string (one char per byte) to a Lua string. */
export function luaBytes(s: string): Uint8Array {
  return bytes(s);
}

let patched = false;

/** Installs the 5.1 number behaviour into fengari's shared internals (once per process). */
export function patchNumbers(): void {
  if (patched) return;
  patched = true;
  const str2num = lobject.luaO_str2num;
  // deno-lint-ignore no-explicit-any
  lobject.luaO_str2num = (s: Uint8Array, o: any) => {
    const used = str2num(s, o);
    if (used !== 0 && o.ttisinteger()) o.setfltvalue(o.value);
    return used;
  };
  // deno-lint-ignore no-explicit-any
  lobject.luaO_tostring = (L: LuaState, obj: any) => {
    obj.setsvalue(lstring.luaS_bless(L, luaBytes(formatG14(Number(obj.value)))));
  };
}
