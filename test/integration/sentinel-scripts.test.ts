/**
 * Sentinel's scripts and TILT mode, Respite's Sentinel beside Debian's
 * redis-sentinel, each alone (quorum 1) over its own redis-server primary
 * and replica, configured alike: the notification script is called with
 * the same warning events and the client-reconfig script with the same
 * arguments through a failover; a failing script is queued for retry as
 * SENTINEL PENDING-SCRIPTS shows; script paths are checked as redis-sentinel
 * checks them; a Sentinel stopped for longer than the TILT trigger enters
 * TILT when it resumes.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import type Redis from "ioredis";
import { freePort, launch, respiteCommand, RUNTIMES, type ServerHandle, tmpDir } from "../lib/servers.ts";
import {
  client,
  fields,
  infoField,
  NAME,
  sentinelConf,
  startRedisSentinel,
  startRespiteSentinel,
} from "../lib/sentinel.ts";
import { sleep, until } from "../lib/targets.ts";

/** A script that appends its arguments as one line to log and exits with code. */
function script(dir: string, name: string, log: string, code: number): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\necho "$@" >> ${log}\nexit ${code}\n`, { mode: 0o755 });
  return file;
}

interface Group {
  sentinel: Redis;
  handle: ServerHandle;
  primaryPort: number;
  replicaPort: number;
  /** The notification and client-reconfig scripts' logs. */
  notified: string;
  reconfigured: string;
  dir: string;
}

async function startGroup(kind: "respite" | "redis", runtime: (typeof RUNTIMES)[number], started: ServerHandle[]) {
  const dir = tmpDir();
  const [primaryPort, replicaPort, sPort] = [await freePort(), await freePort(), await freePort()];
  const node = (port: number, ...more: string[]) =>
    launch("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...more], port, undefined, dir);
  started.push(await node(primaryPort));
  started.push(await node(replicaPort, "--replicaof", "127.0.0.1", String(primaryPort)));
  const notified = path.join(dir, "notified.log");
  const reconfigured = path.join(dir, "reconfigured.log");
  const conf = sentinelConf(tmpDir(), sPort, primaryPort);
  fs.appendFileSync(
    conf,
    [
      `sentinel deny-scripts-reconfig no`,
      `sentinel notification-script ${NAME} ${script(dir, "notify.sh", notified, 0)}`,
      `sentinel client-reconfig-script ${NAME} ${script(dir, "reconfig.sh", reconfigured, 0)}`,
      "",
    ].join("\n"),
  );
  const handle = kind === "respite" ? await startRespiteSentinel(runtime, conf, sPort) : await startRedisSentinel(conf, sPort);
  started.push(handle);
  const sentinel = client(sPort);
  await sentinel.call("SENTINEL", "SET", NAME, "quorum", "1");
  return { sentinel, handle, primaryPort, replicaPort, notified, reconfigured, dir } satisfies Group;
}

const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

/** A script's calls with this group's ports and run ids replaced by names, comparable across groups. */
function normalized(g: Group, file: string): string[] {
  return lines(file).map((l) =>
    l.replaceAll(String(g.primaryPort), "<primary>").replaceAll(String(g.replicaPort), "<replica>")
      .replace(/\b[0-9a-f]{40}\b/g, "<runid>")
  );
}

describe("Sentinel scripts and TILT", { concurrency: true }, () => {
  for (const runtime of RUNTIMES) {
    test(`notification and client-reconfig scripts, retries, path checks, TILT (${runtime})`, async () => {
      const started: ServerHandle[] = [];
      try {
        const mine = await startGroup("respite", runtime, started);
        const theirs = await startGroup("redis", runtime, started);
        const groups = [mine, theirs];
        for (const g of groups) {
          await until(
            async () => ((await g.sentinel.call("SENTINEL", "REPLICAS", NAME)) as unknown[]).length === 1,
            () => "replica discovered",
            30_000,
            100,
          );
        }

        // A failover in each group: the scripts see the same warnings and the same switch.
        for (const g of groups) await started.find((h) => h.port === g.primaryPort)!.stop();
        // The last warning of a failover: the old primary, now listed as a replica, is down.
        const settled = (g: Group) =>
          ["+failover-end", "+switch-master", "+sdown slave"].every((e) => lines(g.notified).some((l) => l.startsWith(e)));
        for (const g of groups) {
          await until(() => lines(g.reconfigured).length > 0, () => `client-reconfig-script called\n${g.handle.output()}`, 30_000, 100);
          await until(() => settled(g), () => `failover notified\n${lines(g.notified).join("\n")}`, 30_000, 100);
        }
        assert.deepEqual(normalized(mine, mine.reconfigured), [`${NAME} leader start 127.0.0.1 <primary> 127.0.0.1 <replica>`]);
        assert.deepEqual(normalized(mine, mine.reconfigured), normalized(theirs, theirs.reconfigured));
        // Scripts run side by side (up to 16 at once), so they finish, and log, in any order.
        assert.deepEqual(normalized(mine, mine.notified).sort(), normalized(theirs, theirs.notified).sort());

        // A script that exits with 1 is queued again, 30 s later; its error is an event.
        for (const g of groups) {
          const failing = script(g.dir, "fail.sh", path.join(g.dir, "fail.log"), 1);
          assert.equal(await g.sentinel.call("SENTINEL", "SET", NAME, "notification-script", failing), "OK");
          assert.equal(await g.sentinel.call("SENTINEL", "RESET", NAME), 1);
        }
        const pending = async (g: Group) => {
          const jobs = ((await g.sentinel.call("SENTINEL", "PENDING-SCRIPTS")) as unknown[]).map(fields);
          return jobs.filter((j) => j.get("flags") === "scheduled" && j.get("retry-num") === "1");
        };
        for (const g of groups) await until(async () => (await pending(g)).length > 0, () => "failed script queued", 15_000, 50);
        const [a, b] = [(await pending(mine))[0], (await pending(theirs))[0]];
        assert.deepEqual([...a.keys()], [...b.keys()]);
        assert.deepEqual([a.get("pid"), b.get("pid")], ["0", "0"]);
        for (const job of [a, b]) assert.ok(Number(job.get("run-delay")) > 20_000 && Number(job.get("run-delay")) <= 30_000);
        for (const g of groups) {
          const text = (await g.sentinel.info("sentinel")) as string;
          assert.equal(Number(infoField(text, "sentinel_scripts_queue_length")) > 0, true, text);
        }

        // Script paths are checked as redis-sentinel checks them.
        const missing = path.join(mine.dir, "missing.sh");
        const errors = await Promise.all(groups.map((g) =>
          g.sentinel.call("SENTINEL", "SET", NAME, "client-reconfig-script", missing).catch((e: Error) => e.message)
        ));
        assert.equal(errors[0], errors[1]);
        assert.match(errors[0] as string, /script seems non existing or non executable/);
        const bad = path.join(mine.dir, "bad.conf");
        fs.writeFileSync(bad, `port ${await freePort()}\nsentinel monitor m 127.0.0.1 1 1\nsentinel notification-script m ${missing}\n`);
        const [cmd, base] = respiteCommand(runtime);
        const myStart = spawnSync(cmd, [...base, bad, "--sentinel"], { encoding: "utf8", timeout: 30_000 });
        const theirStart = spawnSync("redis-sentinel", [bad], { encoding: "utf8", timeout: 30_000 });
        assert.equal(myStart.status, 1);
        assert.equal(theirStart.status, 1);
        const reason = (out: string) => out.split("\n").filter((l) => /script seems/.test(l));
        assert.deepEqual(reason(myStart.stdout + myStart.stderr), reason(theirStart.stdout + theirStart.stderr));

        // Stopped for longer than the TILT trigger (2 s), a Sentinel enters TILT when it resumes.
        for (const g of groups) g.handle.process.kill("SIGSTOP");
        await sleep(3000);
        for (const g of groups) g.handle.process.kill("SIGCONT");
        for (const g of groups) {
          await until(
            async () => infoField((await g.sentinel.info("sentinel")) as string, "sentinel_tilt") === "1",
            () => `TILT entered\n${g.handle.output().slice(-1500)}`,
            10_000,
            50,
          );
        }
        assert.match(mine.handle.output(), /# \+tilt #tilt mode entered/);
      } finally {
        for (const s of started) await s.stop();
      }
    });
  }
});
