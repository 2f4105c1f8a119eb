/**
 * What a script command's script declares, as Redis's evalGetCommandFlags
 * and fcallGetCommandFlags make it part of the command's flags: EVAL or
 * FCALL of a script whose shebang (or function) flags have neither
 * allow-oom nor no-writes is deny-oom, so it is refused up front while
 * memory is over maxmemory. A script without a shebang keeps EVAL's own
 * flags, and checks each command it calls instead (see the script runner).
 */
import type { Engine } from "../server/engine.ts";
import type { Command } from "./table.ts";
import { lower, str } from "../util/bytes.ts";
import { luaLoaded } from "../scripting/lua.ts";
import { scripting, type ScriptFlags } from "../scripting/runner.ts";
import { functionRegistry } from "../scripting/functions.ts";
import { evalShebang } from "../scripting/shebang.ts";

/** The flags the script named by a script command declares; null when unknown (a missing script, a bad shebang). */
function declaredFlags(engine: Engine, name: string, argv: Uint8Array[]): ScriptFlags | null {
  if (argv.length < 2) return null;
  if (name === "eval" || name === "eval_ro") {
    const shebang = evalShebang(str(argv[1]));
    return typeof shebang === "string" ? null : shebang.flags;
  }
  // Nothing can be cached or registered before the Lua VM has loaded.
  if (!luaLoaded()) return null;
  if (name === "evalsha" || name === "evalsha_ro") return scripting(engine).scripts.get(lower(str(argv[1])))?.flags ?? null;
  if (name === "fcall" || name === "fcall_ro") return functionRegistry(scripting(engine)).functions.get(str(argv[1]))?.flags ?? null;
  return null;
}

/** Whether running cmd (a scripting command) counts as deny-oom because of its script's flags. */
export function scriptDeniesOom(engine: Engine, cmd: Command, argv: Uint8Array[]): boolean {
  const flags = declaredFlags(engine, cmd.name, argv);
  return flags !== null && !flags.compat && !flags.allowOom && !flags.noWrites;
}
