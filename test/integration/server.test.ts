/**
 * INFO, TIME, LASTSAVE, ROLE, DEBUG and SHUTDOWN on every runtime, against
 * redis-server: INFO's sections and field names in Redis's order, counters
 * that follow what clients did, DEBUG SLEEP stalling every client, SHUTDOWN
 * ending the process; and the command line (flags, config file errors).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { respiteCommand, type Runtime, RUNTIMES, sharedRedis, startRespite, tmpDir } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { diffSuite } from "../lib/diff.ts";

/** INFO text from a RESP2 bulk reply. */
async function info(conn: RawConnection, ...sections: string[]): Promise<string> {
  const raw = (await conn.call("INFO", ...sections)).toString("latin1");
  return raw.slice(raw.indexOf("\r\n") + 2, -2);
}

function fields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

const headers = (text: string) => text.split("\r\n").filter((l) => l.startsWith("# "));

function runCli(rt: Runtime, args: string[], cwd?: string): { status: number | null; out: string } {
  const [cmd, base] = respiteCommand(rt);
  const r = spawnSync(cmd, [...base, ...args], { encoding: "latin1", timeout: 20_000, cwd });
  return { status: r.status, out: r.stdout + r.stderr };
}

const redis = sharedRedis();

for (const rt of RUNTIMES) {
  describe(`server commands on ${rt}`, () => {
    const suite = diffSuite(redis, rt);

    it("INFO has Redis's sections for each selector, in Redis's order", async () => {
      for (const sel of [[], ["default"], ["all"], ["everything"], ["keyspace", "server"], ["SERVER"], ["bogus"], ["commandstats"]]) {
        assert.deepEqual(headers(await info(suite.pair.respite, ...sel)), headers(await info(suite.pair.redis, ...sel)), `INFO ${sel.join(" ")}`);
      }
      await suite.pair.same("INFO", "bogus");
    });

    it("INFO has every field Redis has, in the same order", async () => {
      for (const section of ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "cluster"]) {
        const ours = [...fields(await info(suite.pair.respite, section)).keys()];
        const theirs = [...fields(await info(suite.pair.redis, section)).keys()];
        assert.deepEqual(ours.filter((k) => theirs.includes(k)), theirs, `section ${section}`);
      }
      const server = fields(await info(suite.pair.respite, "server"));
      assert.equal(server.get("redis_version"), "7.0.15");
      assert.equal(server.get("tcp_port"), String(suite.respite.port));
      assert.match(server.get("respite_runtime")!, new RegExp(`^${rt} `));
      assert.match(server.get("respite_io")!, /\w+/);
    });

    it("INFO counters follow what clients do", async () => {
      const c = await RawConnection.connect(suite.respite.port);
      await c.call("CONFIG", "RESETSTAT");
      await c.call("SELECT", "3");
      await c.call("SET", "k1", "v");
      await c.call("SET", "k2", "v", "EX", "100");
      await c.call("GET", "k1");
      await c.call("GET", "missing");
      await c.call("NOSUCHCOMMAND");
      await c.call("GET");
      const f = fields(await info(c, "everything"));
      assert.match(f.get("db3")!, /^keys=2,expires=1,avg_ttl=\d+$/);
      assert.equal(f.get("keyspace_hits"), "1");
      assert.equal(f.get("keyspace_misses"), "1");
      assert.equal(f.get("total_error_replies"), "2");
      assert.equal(f.get("errorstat_ERR"), "count=2");
      assert.match(f.get("cmdstat_set")!, /^calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0$/);
      assert.match(f.get("cmdstat_get")!, /^calls=2,.*rejected_calls=1,failed_calls=0$/);
      assert.ok(Number(f.get("rdb_changes_since_last_save")) >= 2);
      assert.ok(Number(f.get("connected_clients")) >= 2);
      assert.ok(Number(f.get("used_memory")) > 0);
      assert.equal(f.get("role"), "master");
      assert.match(f.get("master_replid")!, /^[0-9a-f]{40}$/);
      c.close();
    });

    it("INFO is a verbatim string in RESP3", async () => {
      const c = await RawConnection.connect(suite.respite.port);
      await c.call("HELLO", "3");
      const reply = (await c.call("INFO", "server")).toString("latin1");
      assert.match(reply, /^=\d+\r\ntxt:# Server\r\nredis_version:7\.0\.15\r\n/);
      c.close();
    });

    it("TIME, LASTSAVE and ROLE have Redis's shapes", async () => {
      await suite.pair.same("ROLE");
      const time = (await suite.pair.respite.call("TIME")).toString("latin1");
      const m = /^\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n$/.exec(time);
      assert.ok(m, time);
      assert.ok(Math.abs(Number(m[1]) - Date.now() / 1000) < 60);
      assert.ok(Number(m[2]) < 1e6);
      assert.match((await suite.pair.respite.call("LASTSAVE")).toString("latin1"), /^:\d{10}\r\n$/);
      await suite.pair.same("TIME", "x");
    });

    it("DEBUG and SHUTDOWN argument errors match Redis", async () => {
      await suite.pair.sameAll([
        ["DEBUG"],
        ["DEBUG", "foo"],
        ["DEBUG", "sleep"],
        ["DEBUG", "sleep", "0"],
        ["DEBUG", "sleep", "x"],
        ["DEBUG", "set-active-expire", "1"],
        ["SHUTDOWN", "foo"],
        ["SHUTDOWN", "nosave", "save"],
        ["SHUTDOWN", "abort", "now"],
        ["SHUTDOWN", "ABORT"],
      ]);
    });

    it("DEBUG SLEEP stalls every client until it ends", async () => {
      const sleeper = await RawConnection.connect(suite.respite.port);
      const other = await RawConnection.connect(suite.respite.port);
      const order: string[] = [];
      const slept = sleeper.call("DEBUG", "SLEEP", "0.3").then(() => order.push("sleep"));
      await new Promise((r) => setTimeout(r, 50));
      const pinged = other.call("PING").then(() => order.push("ping"));
      await Promise.all([slept, pinged]);
      assert.deepEqual(order, ["sleep", "ping"]);
      sleeper.close();
      other.close();
    });

    it("DEBUG SET-ACTIVE-EXPIRE 0 leaves expired keys until they are touched", async () => {
      const c = await RawConnection.connect(suite.respite.port);
      await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
      await c.call("SET", "gone", "v", "PX", "1");
      await new Promise((r) => setTimeout(r, 300));
      assert.match(fields(await info(c, "keyspace")).get("db0") ?? "", /^keys=1,/);
      await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1");
      let keys: string | undefined = "";
      for (let i = 0; i < 50 && keys !== undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        keys = fields(await info(c, "keyspace")).get("db0");
      }
      assert.equal(keys, undefined);
      c.close();
    });

    it("SHUTDOWN closes every connection and ends the process with status 0", async () => {
      const own = await startRespite(rt);
      const bystander = await RawConnection.connect(own.port);
      const c = await RawConnection.connect(own.port);
      const exited = new Promise<number | null>((resolve) => own.process.once("exit", (code) => resolve(code)));
      c.write("*1\r\n$8\r\nSHUTDOWN\r\n");
      assert.equal(await c.untilClosed(), "");
      await bystander.untilClosed();
      assert.equal(await exited, 0);
      assert.match(own.output(), /User requested shutdown/);
    });
  });

  describe(`command line on ${rt}`, () => {
    it("--version and --help", () => {
      const v = runCli(rt, ["--version"]);
      assert.equal(v.status, 0);
      assert.match(v.out, /redis_version=7\.0\.15/);
      const h = runCli(rt, ["--help"]);
      assert.equal(h.status, 0);
      assert.match(h.out, /Usage: respite \[\/path\/to\/redis\.conf\]/);
    });

    it("an unknown directive is fatal, naming the file and line", () => {
      const dir = tmpDir();
      const file = path.join(dir, "bad.conf");
      fs.writeFileSync(file, "port 0\nfoo bar\n");
      const r = runCli(rt, [file]);
      assert.equal(r.status, 1);
      assert.match(r.out, /FATAL CONFIG FILE ERROR[^\n]*\nReading the configuration file, at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments/);
      assert.ok(r.out.includes(file));
      const flag = runCli(rt, ["--port", "0", "--hz", "x"]);
      assert.equal(flag.status, 1);
      assert.match(flag.out, />>> 'hz x'\nargument couldn't be parsed into an integer/);
      assert.equal(runCli(rt, [path.join(dir, "missing.conf")]).status, 1);
    });
  });
}
