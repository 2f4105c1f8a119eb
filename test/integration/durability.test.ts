/**
 * What survives a crash, black-box, on every runtime (and the compiled binary
 * for AOF): several pipelining clients write while the server is killed with
 * SIGKILL, then a server restarted on the same dir must hold every
 * acknowledged write (appendfsync always) or all but about a second of them
 * (everysec, measured and printed); a kill during BGSAVE leaves the previous
 * dump.rdb whole; truncated and corrupted RDB and AOF files are refused with
 * redis-server's message and exit code for the same file, or loaded up to the
 * damage with aof-load-truncated yes. Every scenario also passes against
 * redis-server itself (RESPITE_RUNTIMES=redis).
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RawConnection } from "../lib/raw.ts";
import { decode, loadOneLiners } from "../lib/keyspace.ts";
import { freePort, startRedis, tmpDir } from "../lib/servers.ts";
import { assertSameDataset, readDataset, writeDataset } from "../lib/rdb-dataset.ts";
import { connectLoaded, crash, exited, info, runUntilExit, sleep, startTarget, targets } from "../lib/targets.ts";

const CLIENTS = 4;
const BATCH = 50;
/** How long clients write before the kill: with everysec, long enough that losing all of it fails the 2 s bound. */
const LOAD_MS = { always: 1_500, everysec: 3_500 };

interface Load {
  /** Per client: how many of its SETs were acknowledged (w<c>:0 .. w<c>:acked-1). */
  acked: number[];
  ms: number;
}

/**
 * CLIENTS connections, each pipelining batches of SET w<c>:<n> plus an INCR,
 * until the server dies (killed after loadMs by kill()).
 */
async function writeUntilKilled(port: number, loadMs: number, kill: () => Promise<void>): Promise<Load> {
  const acked = Array(CLIENTS).fill(0);
  const start = Date.now();
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => RawConnection.connect(port)));
  const loops = clients.map(async (conn, c) => {
    try {
      for (let n = 0; ; n += BATCH) {
        const cmds: Array<Array<string | number>> = [];
        for (let i = n; i < n + BATCH; i++) cmds.push(["SET", `w${c}:${i}`, `${i}-${c}`]);
        cmds.push(["INCR", `count:${c}`]);
        const replies = await conn.pipeline(cmds);
        for (const r of replies.slice(0, BATCH)) assert.equal(r.toString(), "+OK\r\n");
        acked[c] = n + BATCH;
      }
    } catch (e) {
      if (!conn.closed) throw e;
    }
  });
  await sleep(loadMs);
  const ms = Date.now() - start;
  await kill();
  await Promise.all(loops);
  for (const conn of clients) conn.close();
  return { acked, ms };
}

/** Per client, how many acknowledged writes are missing after the restart; asserts the missing ones are the last ones. */
async function missingWrites(conn: RawConnection, load: Load): Promise<number[]> {
  const missing: number[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    let lost = 0;
    let firstLost = -1;
    for (let from = 0; from < load.acked[c]; from += 1_000) {
      const keys = Array.from({ length: Math.min(1_000, load.acked[c] - from) }, (_, j) => `w${c}:${from + j}`);
      const values = decode(await conn.call("MGET", ...keys)) as Array<Uint8Array | null>;
      values.forEach((v, j) => {
        const i = from + j;
        if (v === null) {
          lost++;
          if (firstLost < 0) firstLost = i;
        } else {
          assert.equal(Buffer.from(v).toString(), `${i}-${c}`, `w${c}:${i}`);
          assert.ok(firstLost < 0, `client ${c}: w${c}:${firstLost} lost but the later w${c}:${i} kept: the log is not in order`);
        }
      });
    }
    const count = Number(Buffer.from((decode(await conn.call("GET", `count:${c}`)) as Uint8Array | null) ?? Buffer.from("0")).toString());
    assert.ok(count * BATCH >= load.acked[c] - lost - BATCH, `count:${c} = ${count} batches for ${load.acked[c] - lost} kept writes`);
    missing.push(lost);
  }
  return missing;
}

for (const t of targets(true)) {
  describe(`kill -9 under write load with AOF on ${t}`, () => {
    for (const fsync of ["always", "everysec"] as const) {
      it(`appendfsync ${fsync}: after kill -9 and restart, ${fsync === "always" ? "every" : "all but about a second of the"} acknowledged write${fsync === "always" ? " is" : "s are"} there`, async () => {
        const dir = tmpDir();
        const args = ["--dir", dir, "--appendonly", "yes", "--appendfsync", fsync];
        const server = await startTarget(t, args);
        await connectLoaded(server).then((c) => c.close());
        const load = await writeUntilKilled(server.port, LOAD_MS[fsync], () => crash(server));
        const total = load.acked.reduce((a, b) => a + b, 0);
        assert.ok(total > 0, "no write was acknowledged");
        const restarted = await startTarget(t, args);
        try {
          const conn = await connectLoaded(restarted);
          const missing = await missingWrites(conn, load);
          const lost = missing.reduce((a, b) => a + b, 0);
          const perSecond = (total * 1000) / load.ms;
          console.log(`# ${t} appendfsync ${fsync}: ${total} writes acknowledged in ${load.ms} ms (${Math.round(perSecond)}/s), ${lost} missing after kill -9 (${(lost / perSecond).toFixed(3)} s worth)`);
          if (fsync === "always") assert.equal(lost, 0, `acknowledged writes lost with appendfsync always: ${missing}`);
          else assert.ok(lost <= perSecond * 2 + CLIENTS * BATCH, `${lost} acknowledged writes lost, more than 2 s worth (${Math.round(perSecond)}/s)`);
          assert.match((await info(conn)).get("aof_enabled")!, /^1$/);
          conn.close();
        } finally {
          await restarted.stop();
        }
      });
    }

    it("kill -9 during BGSAVE: the previous dump.rdb is intact and loads", async () => {
      const dir = tmpDir();
      const server = await startTarget(t, ["--dir", dir]);
      const file = path.join(dir, "dump.rdb");
      let previous: Buffer;
      try {
        const conn = await connectLoaded(server);
        await writeDataset(conn, { seed: 5, keysPerDb: 5, big: false, functions: false });
        const expected = await readDataset(conn);
        assert.equal((await conn.call("SAVE")).toString(), "+OK\r\n");
        previous = fs.readFileSync(file);
        const cmds: string[][] = [];
        for (let i = 0; i < 300_000; i += 1000) cmds.push(["MSET", ...Array.from({ length: 1000 }, (_, j) => [`more:${i + j}`, "v".repeat(50)]).flat()]);
        await loadOneLiners(server.port, cmds);
        const [started, inf] = await conn.pipeline([["BGSAVE"], ["INFO", "persistence"]]);
        assert.equal(started.toString(), "+Background saving started\r\n");
        assert.match(inf.toString(), /rdb_bgsave_in_progress:1\r\n/);
        await crash(server);
        conn.close();
        assert.ok(fs.readFileSync(file).equals(previous), "dump.rdb is the file the last completed save wrote");
        const again = await startTarget(t, ["--dir", dir]);
        try {
          const c = await connectLoaded(again);
          assertSameDataset(await readDataset(c), expected, { pttlToleranceMs: 60_000, encodings: false });
          c.close();
        } finally {
          await again.stop();
        }
      } finally {
        await server.stop();
      }
    });
  });
}

/** Damaged copies of files redis-server wrote: a dump.rdb and an AOF dir (RDB base + incr file). */
let rdbDir = "";
let aofDir = "";
const INCR = "appendonly.aof.1.incr.aof";

before(async () => {
  rdbDir = tmpDir();
  const redis = await startRedis(["--dir", rdbDir]);
  try {
    const conn = await RawConnection.connect(redis.port);
    for (let i = 0; i < 200; i++) await conn.call("SET", `key:${i}`, `value-${i}-${"x".repeat(30)}`);
    assert.equal((await conn.call("SAVE")).toString(), "+OK\r\n");
    conn.close();
  } finally {
    await redis.stop();
  }
  aofDir = tmpDir();
  const aof = await startRedis(["--dir", aofDir, "--appendonly", "yes"]);
  const conn = await connectLoaded(aof);
  for (let i = 0; i < 50; i++) await conn.call("SET", `key:${i}`, `value-${i}`);
  await conn.call("RPUSH", "list", "a", "b", "c");
  conn.write("SHUTDOWN NOSAVE\r\n");
  await conn.untilClosed();
  await exited(aof);
  assert.ok(fs.existsSync(path.join(aofDir, "appendonlydir", INCR)));
});

interface Damage {
  name: string;
  /** Makes the damaged copy in a fresh dir; returns the dir. */
  make(): string;
  args: string[];
}

function copyDir(from: string): string {
  const dir = tmpDir();
  fs.cpSync(from, dir, { recursive: true });
  return dir;
}

function edit(file: string, change: (b: Buffer) => Buffer): void {
  fs.writeFileSync(file, change(fs.readFileSync(file)));
}

const DAMAGES: Damage[] = [
  {
    name: "a truncated dump.rdb",
    make() {
      const dir = copyDir(rdbDir);
      edit(path.join(dir, "dump.rdb"), (b) => b.subarray(0, Math.floor(b.length * 0.6)));
      return dir;
    },
    args: [],
  },
  {
    name: "a dump.rdb with a flipped byte (checksum error)",
    make() {
      const dir = copyDir(rdbDir);
      edit(path.join(dir, "dump.rdb"), (b) => {
        const i = b.indexOf("value-100-");
        b[i + 6] = "7".charCodeAt(0);
        return b;
      });
      return dir;
    },
    args: [],
  },
  {
    name: "an AOF cut in its last command, aof-load-truncated no",
    make() {
      const dir = copyDir(aofDir);
      edit(path.join(dir, "appendonlydir", INCR), (b) => b.subarray(0, b.length - 5));
      return dir;
    },
    args: ["--appendonly", "yes", "--aof-load-truncated", "no"],
  },
  {
    name: "an AOF with a bad byte in the middle",
    make() {
      const dir = copyDir(aofDir);
      edit(path.join(dir, "appendonlydir", INCR), (b) => {
        const i = b.indexOf("*3", Math.floor(b.length / 2));
        b[i] = "!".charCodeAt(0);
        return b;
      });
      return dir;
    },
    args: ["--appendonly", "yes"],
  },
];

/** The log lines that explain a refusal: redis-server's warnings, less banner and host advice, without their prefix. */
function refusalLines(output: string): string[] {
  return output
    .split("\n")
    .map((l) => l.replace(/^\d+:[A-Z] \d\d \w{3} \d{4} [\d:.]+ # /, "").trim())
    .filter((l) => /Short read|checksum|Internal error|Unexpected end of file|Bad file format|AOF|RDB/.test(l))
    // Not the redis-check-rdb report redis-server appends ("[offset 3000] ...", "--- RDB ERROR DETECTED ---").
    .filter((l) => !/overcommit|^\*|^\[|^---|Loading RDB produced|RDB age|RDB memory usage|Reading RDB base|RDB is base|Done loading|DB loaded from/.test(l))
    // "Internal error in RDB reading offset 0, function at rdb.c:3249 -> why": the reason is what another server can share.
    .map((l) => l.replace(/^.*function at rdb\.c:\d+ -> /, ""));
}

const redisVerdicts = new Map<string, { code: number | null; lines: string[] }>();

for (const t of targets(false)) {
  describe(`damaged files on ${t}`, () => {
    for (const damage of DAMAGES) {
      it(`${damage.name}: refused with redis-server's message and exit code`, async () => {
        let verdict = redisVerdicts.get(damage.name);
        if (!verdict) {
          const r = await runUntilExit("redis", ["--dir", damage.make(), ...damage.args], await freePort());
          verdict = { code: r.code, lines: refusalLines(r.output) };
          assert.equal(verdict.code, 1, r.output);
          assert.ok(verdict.lines.length > 0, r.output);
          redisVerdicts.set(damage.name, verdict);
          console.log(`# redis-server on ${damage.name}: exit ${verdict.code}, ${JSON.stringify(verdict.lines)}`);
        }
        const r = await runUntilExit(t, ["--dir", damage.make(), ...damage.args], await freePort(), 10_000);
        assert.equal(r.code, verdict.code, `exit code\n${r.output}`);
        for (const line of verdict.lines) assert.ok(r.output.includes(line), `redis-server says: ${line}\n${t} said:\n${r.output}`);
      });
    }

    it("an AOF cut in its last command loads up to the damage with aof-load-truncated yes, as redis-server", async () => {
      const make = () => {
        const dir = copyDir(aofDir);
        edit(path.join(dir, "appendonlydir", INCR), (b) => b.subarray(0, b.length - 5));
        return dir;
      };
      const args = ["--appendonly", "yes", "--aof-load-truncated", "yes"];
      const redis = await startTarget("redis", ["--dir", make(), ...args]);
      const server = await startTarget(t, ["--dir", make(), ...args]).catch(async (e) => {
        await redis.stop();
        throw e;
      });
      try {
        const a = await connectLoaded(redis);
        const b = await connectLoaded(server);
        const want = await readDataset(a);
        assert.equal(want.dbs[0].size, 50, "redis-server drops the cut RPUSH and keeps the 50 SETs");
        assertSameDataset(await readDataset(b), want, { pttlToleranceMs: 0, digest: true });
        for (const line of [
          `!!! Warning: short read while loading the AOF file ${INCR}!!!`,
          `AOF ${INCR} loaded anyway because aof-load-truncated is enabled`,
        ]) {
          assert.ok(redis.output().includes(line), `redis-server: ${line}`);
          assert.ok(server.output().includes(line), `${t} should log: ${line}\n${server.output()}`);
        }
        assert.equal((await b.call("SET", "after", "1")).toString(), "+OK\r\n", "writes go on after the truncated load");
        a.close();
        b.close();
      } finally {
        await redis.stop();
        await server.stop();
      }
    });
  });
}
