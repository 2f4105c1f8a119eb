/**
 * Turns an engine into a Sentinel (`respite --sentinel`): the command table
 * cut down to what redis-sentinel answers, Sentinel's PUBLISH/INFO/ROLE in
 * place of the server's, and the Sentinel object the SENTINEL command and
 * the timer share, owned by the engine.
 */
import type { Dialer } from "../io.ts";
import type { Engine } from "../server/engine.ts";
import type { CommandDef } from "../commands/table.ts";
import { Sentinel } from "./sentinel.ts";
import { SENTINEL_KEEPS, sentinelCommandDefs, sentinelInfo, sentinelPublish, sentinelRole } from "./commands.ts";

export const SENTINEL_PORT = 26379;

export function installSentinel(engine: Engine, dialer: Dialer): Sentinel {
  const s = new Sentinel(engine, dialer);
  engine.sentinel = s;
  engine.commands.retain(new Set(SENTINEL_KEEPS));
  const replaced = (name: string, run: CommandDef["run"]): CommandDef[] => {
    const cmd = engine.commands.get(name);
    return cmd ? [{ ...cmd.def, run }] : [];
  };
  engine.commands.add([
    ...sentinelCommandDefs,
    ...replaced("publish", sentinelPublish),
    ...replaced("info", sentinelInfo),
    ...replaced("role", sentinelRole),
  ]);
  return s;
}
