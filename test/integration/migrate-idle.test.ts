/**
 * MIGRATE keeps its connection to a target for the next MIGRATE and closes
 * it after 10 s idle, as Redis's migrateCloseTimedoutSockets does (checked
 * each second: gone between 10 and 11 s). Seen from the target, a
 * redis-server: its CLIENT LIST shows each source's connection (told apart
 * by the db each MIGRATEs to) right after the MIGRATE and still 8 s later,
 * and then no more. redis-server as a source shows the same, under the same
 * checks, so the test checks what Redis does.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { RawConnection } from "../lib/raw.ts";
import { RUNTIMES, type ServerHandle, startRedis, startRespite } from "../lib/servers.ts";
import { sleep, until } from "../lib/targets.ts";

let target: ServerHandle;
const sources: { name: string; server: ServerHandle; db: number }[] = [];

before(async () => {
  target = await startRedis();
  sources.push({ name: "redis-server", server: await startRedis(), db: 1 });
  for (const [i, rt] of RUNTIMES.entries()) sources.push({ name: rt, server: await startRespite(rt), db: 2 + i });
});

after(async () => {
  await Promise.all([target, ...sources.map((s) => s.server)].map((s) => s?.stop()));
});

/** The dbs of the target's connections that last ran RESTORE (the MIGRATE connections). */
async function migrateConnections(): Promise<Set<number>> {
  const conn = await RawConnection.connect(target.port);
  try {
    const list = (await conn.call("CLIENT", "LIST")).toString("latin1");
    return new Set([...list.matchAll(/ db=(\d+) .* cmd=restore\b/g)].map((m) => Number(m[1])));
  } finally {
    conn.close();
  }
}

test("MIGRATE's cached connection stays while in use and closes after 10 s idle, as Redis's", async () => {
  for (const s of sources) {
    const conn = await RawConnection.connect(s.server.port);
    try {
      assert.equal((await conn.call("SET", `k${s.db}`, "v")).toString(), "+OK\r\n");
      assert.equal((await conn.call("MIGRATE", "127.0.0.1", target.port, `k${s.db}`, s.db, 5000)).toString(), "+OK\r\n", s.name);
    } finally {
      conn.close();
    }
  }
  const all = sources.map((s) => s.db).sort();
  assert.deepEqual([...(await migrateConnections())].sort(), all, "every source's connection is open after its MIGRATE");
  await sleep(8000);
  assert.deepEqual([...(await migrateConnections())].sort(), all, "still cached 8 s later");
  let left: number[] = [];
  await until(async () => {
    left = [...(await migrateConnections())];
    return left.length === 0;
  }, () => `still connected (db of each source): ${left.join(",")}; ${sources.map((s) => `${s.name}=${s.db}`).join(" ")}`, 20_000, 200);
});
