/**
 * What the running script's libraries need to know about its run, so that
 * no script can wedge the server: whether SCRIPT KILL or FUNCTION KILL
 * flagged it (every place that catches errors re-raises the kill, so no
 * pcall, xpcall or coroutine can keep it going), and whether a suspension
 * started by the count hook inside a nested coroutine can travel up to
 * the script's own coroutine, which is what the engine resumes.
 */
import { lua, type LuaState } from "./lua.ts";
import { pushErrorTable } from "./convert.ts";

export class ScriptControl {
  /** The coroutine the running script started in, or null between runs. */
  main: LuaState | null = null;
  killed = false;
  /** Set when the hook yields to suspend the script: nested coroutines pass the yield up instead of returning it. */
  suspending = false;
  /** One entry per nested coroutine being resumed: whether a yield inside it can travel up to main. */
  private readonly resumes: boolean[] = [];

  /** A new run starting in co. */
  begin(co: LuaState): void {
    this.main = co;
    this.killed = false;
    this.suspending = false;
    this.resumes.length = 0;
  }

  end(): void {
    this.main = null;
    this.resumes.length = 0;
  }

  /** Whether a yield from L (the running thread) would reach the engine, so the script can be suspended here. */
  canSuspend(L: LuaState): boolean {
    if (!lua.lua_isyieldable(L)) return false;
    const n = this.resumes.length;
    return n === 0 ? L === this.main : this.resumes[n - 1];
  }

  /** L is about to resume a nested coroutine. */
  enterResume(L: LuaState): void {
    this.resumes.push(this.main !== null && this.canSuspend(L));
  }

  leaveResume(): void {
    this.resumes.pop();
  }

  /** Raises the kill error in L if the running script was killed. */
  raiseIfKilled(L: LuaState): void {
    if (!this.killed) return;
    // Redis 7.0 names SCRIPT KILL even when FUNCTION KILL stopped a function.
    pushErrorTable(L, "Script killed by user with SCRIPT KILL...");
    lua.lua_error(L);
  }
}
