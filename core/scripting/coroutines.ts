/**
 * The coroutine library as Lua 5.1 has it (Redis's Lua), written so that a
 * long script can be suspended inside a coroutine it created. A script
 * sees 5.1's rules: its own code runs in the main thread, so running()
 * gives nil there and yield() fails there; a coroutine can only yield
 * from plain Lua calls (not across pcall, a metamethod, an iterator or a
 * library callback); only Lua functions become coroutines. Underneath,
 * the count hook may yield from anywhere a 5.3 yield can reach the
 * script's own coroutine: resume() then yields its caller too (with a
 * continuation that resumes the inner coroutine again), and so up to the
 * engine, which goes on with the script later (see runner.ts).
 */
import { lauxlib, lua, type LuaState } from "./lua.ts";
import type { ScriptControl } from "./control.ts";
import type { JsFunction } from "./vm.ts";
import { str } from "../util/bytes.ts";

/** fengari's CallInfo status bits (lstate.js): running a Lua function; entered luaV_execute afresh (called from JS or a metamethod). */
const CIST_LUA = 1 << 1;
const CIST_FRESH = 1 << 3;

interface CallInfo {
  callstatus: number;
  previous: CallInfo;
}

const STATUS_NAMES = ["running", "suspended", "normal", "dead"] as const;
type CoStatus = 0 | 1 | 2 | 3;

/** Lua 5.1's costatus. */
function coStatus(L: LuaState, co: LuaState): CoStatus {
  if (L === co) return 0;
  switch (lua.lua_status(co)) {
    case lua.LUA_YIELD:
      return 1;
    case lua.LUA_OK:
      if (lua.lua_getstack(co, 0, new lua.lua_Debug())) return 2;
      return lua.lua_gettop(co) === 0 ? 3 : 1;
    default:
      return 3;
  }
}

/** Whether L could yield in Lua 5.1: only Lua frames, called from Lua, between the yield and the coroutine's body. */
function yieldable51(L: LuaState): boolean {
  const base: CallInfo = L.base_ci;
  for (let ci: CallInfo = L.ci.previous; ci !== base; ci = ci.previous) {
    if (!(ci.callstatus & CIST_LUA)) return false;
    if (ci.callstatus & CIST_FRESH && ci.previous !== base) return false;
  }
  return true;
}

function checkCoroutine(L: LuaState): LuaState {
  const co = lua.lua_tothread(L, 1);
  lauxlib.luaL_argcheck(L, co !== null, 1, "coroutine expected");
  return co;
}

function checkLuaFunction(L: LuaState): void {
  lauxlib.luaL_argcheck(L, lua.lua_isfunction(L, 1) && !lua.lua_iscfunction(L, 1), 1, "Lua function expected");
}

/** What to do with a finished resume: r results on top of L, or (r < 0) the error value. */
type Finish = (L: LuaState, r: number) => number;

interface Resuming {
  co: LuaState;
  finish: Finish;
}

export function coroutineFunctions(ctl: ScriptControl): Record<string, JsFunction> {
  /** Resumes co with narg arguments moved from L; a suspension from inside it suspends L too. */
  const resume = (L: LuaState, co: LuaState, narg: number, finish: Finish): number => {
    ctl.enterResume(L);
    let status: number;
    try {
      status = lua.lua_resume(co, L, narg);
    } finally {
      ctl.leaveResume();
    }
    if (status === lua.LUA_YIELD && ctl.suspending) {
      const resuming: Resuming = { co, finish };
      return lua.lua_yieldk(L, 0, resuming, again);
    }
    ctl.raiseIfKilled(L);
    if (status === lua.LUA_OK || status === lua.LUA_YIELD) {
      const n = lua.lua_gettop(co);
      if (!lua.lua_checkstack(L, n + 1)) lauxlib.luaL_error(L, "too many results to resume");
      lua.lua_xmove(co, L, n);
      return finish(L, n);
    }
    lua.lua_xmove(co, L, 1);
    if (lua.lua_type(L, -1) === lua.LUA_TSTRING && str(lua.lua_tolstring(L, -1)) === "JS stack overflow") {
      lua.lua_pop(L, 1);
      lua.lua_pushliteral(L, "C stack overflow");
    }
    return finish(L, -1);
  };
  const again = (L: LuaState, _status: number, r: Resuming): number => resume(L, r.co, 0, r.finish);

  /** Lua 5.1's auxresume: the status check, then the resume. */
  const auxResume = (L: LuaState, co: LuaState, narg: number, finish: Finish): number => {
    const status = coStatus(L, co);
    if (!lua.lua_checkstack(co, narg)) lauxlib.luaL_error(L, "too many arguments to resume");
    if (status !== 1) {
      lua.lua_pushliteral(L, `cannot resume ${STATUS_NAMES[status]} coroutine`);
      return finish(L, -1);
    }
    lua.lua_xmove(L, co, narg);
    return resume(L, co, narg, finish);
  };

  const resumeResult: Finish = (L, r) => {
    lua.lua_pushboolean(L, r >= 0);
    if (r < 0) {
      lua.lua_insert(L, -2);
      return 2;
    }
    lua.lua_insert(L, -(r + 1));
    return r + 1;
  };

  const wrapResult: Finish = (L, r) => {
    if (r >= 0) return r;
    if (lua.lua_type(L, -1) === lua.LUA_TSTRING) { // the error gets where the wrapped function was called
      lauxlib.luaL_where(L, 1);
      lua.lua_insert(L, -2);
      lua.lua_concat(L, 2);
    }
    return lua.lua_error(L);
  };

  /** A function coroutine.wrap made: resumes its coroutine (its upvalue). */
  const resumeWrapped = (L: LuaState): number =>
    auxResume(L, lua.lua_tothread(L, lua.lua_upvalueindex(1)), lua.lua_gettop(L), wrapResult);

  const create = (L: LuaState): LuaState => {
    checkLuaFunction(L);
    const co = lua.lua_newthread(L);
    lua.lua_pushvalue(L, 1);
    lua.lua_xmove(L, co, 1);
    return co;
  };

  return {
    create: (L) => {
      create(L);
      return 1;
    },
    resume: (L) => auxResume(L, checkCoroutine(L), lua.lua_gettop(L) - 1, resumeResult),
    running: (L) => {
      if (L === ctl.main) lua.lua_pushnil(L);
      else lua.lua_pushthread(L);
      return 1;
    },
    status: (L) => {
      lua.lua_pushliteral(L, STATUS_NAMES[coStatus(L, checkCoroutine(L))]);
      return 1;
    },
    wrap: (L) => {
      create(L);
      lua.lua_pushcclosure(L, resumeWrapped, 1);
      return 1;
    },
    yield: (L) => {
      if (L === ctl.main || !lua.lua_isyieldable(L) || !yieldable51(L)) {
        lua.lua_pushliteral(L, "attempt to yield across metamethod/C-call boundary");
        return lua.lua_error(L);
      }
      return lua.lua_yield(L, lua.lua_gettop(L));
    },
  };
}
