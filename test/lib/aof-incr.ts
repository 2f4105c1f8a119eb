/**
 * The AOF a server writes for a command sequence, for tests that compare
 * what Respite propagates with what redis-server does: start a server with
 * appendonly on in a fresh dir, run the commands, stop it, read the newest
 * incr file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { RawConnection } from "./raw.ts";
import { type ServerHandle, tmpDir } from "./servers.ts";
import type { Cmd } from "./diff.ts";

/**
 * start gets the extra arguments (appendonly, dir); then, if given, runs
 * before the server stops (more steps on other connections). Returns the
 * incr file's bytes as a binary string.
 */
export async function incrAofAfter(
  start: (extra: string[]) => Promise<ServerHandle>,
  cmds: Cmd[],
  then?: (conn: RawConnection, server: ServerHandle) => Promise<void>,
): Promise<string> {
  const dir = tmpDir();
  // appendfsync always: under everysec a redis-server whose background fsync runs long postpones its writes
  // (up to 2 s) while its replies still go out, so the SIGKILL below could leave its file short of the last
  // commands (seen as a flake of the stream-groups AOF test on a loaded host).
  const server = await start(["--appendonly", "yes", "--appendfsync", "always", "--dir", dir]);
  try {
    const conn = await RawConnection.connect(server.port);
    await conn.pipeline(cmds);
    if (then) await then(conn, server);
    await conn.call("PING");
    conn.close();
  } finally {
    await server.stop();
  }
  const aofDir = path.join(dir, "appendonlydir");
  const incr = fs.readdirSync(aofDir).filter((f) => f.endsWith(".incr.aof")).sort().at(-1)!;
  return fs.readFileSync(path.join(aofDir, incr), "latin1");
}
