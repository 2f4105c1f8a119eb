/**
 * Library functions that call back into Lua (a sort comparator, a gsub
 * replacement function, a __tostring metamethod, pcall's function) must
 * let a long script be suspended from inside that callback, or a script
 * looping there would hold the engine for good (see runner.ts). Lua 5.3
 * allows it when the JS function calls with a continuation; writing the
 * function as a generator makes the continuation free: it yields each
 * call it wants made (function and arguments already pushed), and the
 * driver makes it with lua_callk/lua_pcallk, handing the generator back
 * in as the continuation's context when the call was suspended.
 */
import { lua, type LuaState } from "./lua.ts";

/** A call the generator asks for: the function and its nargs arguments are on top of the stack. */
export interface LuaCall {
  nargs: number;
  nresults: number;
  /** Made as lua_pcall: the generator gets the status back, and the error value on the stack. */
  protect: boolean;
}

/** The steps of a library function: yields calls, gets each call's status, returns its result count. */
export type Steps = Generator<LuaCall, number, number>;

/** A reusable call description. */
export function call(nargs: number, nresults: number, protect = false): LuaCall {
  return { nargs, nresults, protect };
}

/** A JS function for Lua whose body is a generator of calls. */
export function yieldable(body: (L: LuaState) => Steps): (L: LuaState) => number {
  return (L: LuaState) => drive(L, body(L), lua.LUA_OK);
}

function drive(L: LuaState, steps: Steps, status: number): number {
  for (;;) {
    const next = steps.next(status);
    if (next.done) return next.value;
    const c = next.value;
    // Either call returns when the callee ran to its end; a suspension throws past here and resumes in resume().
    status = c.protect
      ? lua.lua_pcallk(L, c.nargs, c.nresults, 0, steps, resume)
      : (lua.lua_callk(L, c.nargs, c.nresults, steps, resume), lua.LUA_OK);
  }
}

/** The continuation: the suspended call has finished (LUA_YIELD), or failed inside a protected call. */
function resume(L: LuaState, status: number, steps: Steps): number {
  return drive(L, steps, status === lua.LUA_YIELD ? lua.LUA_OK : status);
}
