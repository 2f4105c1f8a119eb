/**
 * Respite's Sentinel (`respite sentinel.conf --sentinel`) in a mixed group
 * with Debian's redis-sentinel 7.0, monitoring real redis-server 7.0.15
 * primaries and replicas: discovery (INFO, __sentinel__:hello), the
 * SENTINEL subcommands against redis-sentinel's answers, failovers after a
 * kill -9 and forced ones led by either kind of Sentinel, the old primary
 * turned into a replica when it returns, the event channels and the
 * rewritten config file (a restarted Sentinel remembers the group).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import Redis from "ioredis";
import { freePort, launch, respiteCommand, RUNTIMES, type ServerHandle, startRespite, tmpDir } from "../lib/servers.ts";
import {
  agreedPrimary,
  client,
  closeAtEnd,
  discovered,
  fields,
  infoField,
  NAME,
  sentinelConf,
  sentinelEvents,
  startRedisSentinel,
  startRespiteSentinel,
} from "../lib/sentinel.ts";
import { sleep, until } from "../lib/targets.ts";

interface Node {
  port: number;
  dir: string;
  server: ServerHandle | null;
}

function startRedisNode(port: number, dir: string, replicaOf?: number): Promise<ServerHandle> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--repl-diskless-sync",
    "no",
  ];
  if (replicaOf) args.push("--replicaof", "127.0.0.1", String(replicaOf));
  // A config file, so the CONFIG REWRITE inside Sentinel's reconfiguration transaction succeeds.
  const conf = path.join(dir, "redis.conf");
  if (!fs.existsSync(conf)) fs.writeFileSync(conf, "");
  return launch("redis-server", [conf, ...args], port, undefined, dir);
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  return "(no error)";
}

// The runtimes' groups run side by side: each waits mostly on Sentinel's timers (INFO every 10 s, 8 s before a
// returning primary is reconfigured), and the file must finish within the runner's per-file timeout.
describe("Sentinel", { concurrency: true }, () => {
  for (const runtime of RUNTIMES) {
    describe(`Sentinel under ${runtime}`, () => {
      test("mixed group with redis-sentinel: discovery, commands, failovers both ways, config rewrite", async () => {
        const started: ServerHandle[] = [];
        try {
          // 1 primary + 2 replicas (redis-server 7.0.15).
          const nodes: Node[] = [];
          for (let i = 0; i < 3; i++) nodes.push({ port: await freePort(), dir: tmpDir(), server: null });
          nodes[0].server = await startRedisNode(nodes[0].port, nodes[0].dir);
          nodes[1].server = await startRedisNode(nodes[1].port, nodes[1].dir, nodes[0].port);
          nodes[2].server = await startRedisNode(nodes[2].port, nodes[2].dir, nodes[0].port);
          started.push(...nodes.map((n) => n.server!));
          const nodeClient = new Map(nodes.map((n) => [n.port, client(n.port)]));

          // 3 Sentinels: Respite and two redis-sentinels, quorum 2.
          const sPorts = [await freePort(), await freePort(), await freePort()];
          const sDirs = sPorts.map(() => tmpDir());
          const confs = sPorts.map((p, i) => sentinelConf(sDirs[i], p, nodes[0].port));
          let respite = await startRespiteSentinel(runtime, confs[0], sPorts[0]);
          started.push(respite);
          const sentinels = [respite];
          for (let i = 1; i < 3; i++) sentinels.push(await startRedisSentinel(confs[i], sPorts[i]));
          started.push(...sentinels.slice(1));
          const r = client(sPorts[0]);
          const redisS = [client(sPorts[1]), client(sPorts[2])];
          const all = [r, ...redisS];

          // Discovery: replicas through INFO, the other Sentinels through __sentinel__:hello, both ways.
          const myid = (await r.call("SENTINEL", "MYID")) as string;
          assert.match(myid, /^[0-9a-f]{40}$/);
          await discovered(all, 2, 2);
          for (const s of redisS) {
            const known = ((await s.call("SENTINEL", "SENTINELS", NAME)) as unknown[]).map(fields);
            const me = known.find((f) => f.get("runid") === myid);
            assert.ok(me, "redis-sentinel knows the Respite Sentinel by its id");
            assert.equal(me.get("port"), String(sPorts[0]));
            assert.equal(me.get("ip"), "127.0.0.1");
          }

          // The SENTINEL subcommands answer as redis-sentinel's do.
          const oracle = redisS[0];
          const mine = fields(await r.call("SENTINEL", "MASTER", NAME));
          const theirs = fields(await oracle.call("SENTINEL", "MASTER", NAME));
          assert.deepEqual([...mine.keys()], [...theirs.keys()]);
          for (
            const k of [
              "name",
              "ip",
              "port",
              "runid",
              "flags",
              "down-after-milliseconds",
              "role-reported",
              "config-epoch",
              "num-slaves",
              "num-other-sentinels",
              "quorum",
              "failover-timeout",
              "parallel-syncs",
            ]
          ) {
            assert.equal(mine.get(k), theirs.get(k), k);
          }
          const myReplicas = ((await r.call("SENTINEL", "REPLICAS", NAME)) as unknown[]).map(fields);
          const theirReplicas = ((await oracle.call("SENTINEL", "REPLICAS", NAME)) as unknown[]).map(fields);
          assert.deepEqual([...myReplicas[0].keys()], [...theirReplicas[0].keys()]);
          assert.deepEqual(myReplicas.map((f) => f.get("name")).sort(), theirReplicas.map((f) => f.get("name")).sort());
          const mySentinels = ((await r.call("SENTINEL", "SENTINELS", NAME)) as unknown[]).map(fields);
          const theirSentinels = ((await oracle.call("SENTINEL", "SENTINELS", NAME)) as unknown[]).map(fields);
          assert.deepEqual([...mySentinels[0].keys()], [...theirSentinels[0].keys()]);
          for (
            const args of [
              ["GET-MASTER-ADDR-BY-NAME", NAME],
              ["GET-MASTER-ADDR-BY-NAME", "nosuch"],
              ["CKQUORUM", NAME],
              ["IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", String(nodes[0].port), "0", "*"],
              ["IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0", "*"],
              ["PENDING-SCRIPTS"],
              ["CONFIG", "GET", "resolve-hostnames"],
              ["INFO-CACHE", "nosuch"],
            ]
          ) {
            assert.deepEqual(await r.call("SENTINEL", ...args), await oracle.call("SENTINEL", ...args), args.join(" "));
          }
          for (
            const args of [
              ["MASTER", "nosuch"],
              ["REPLICAS", "nosuch"],
              ["FAILOVER", "nosuch"],
              ["MONITOR", NAME, "127.0.0.1", "1", "2"],
              ["MONITOR", "x", "127.0.0.1", "1", "0"],
              ["NOSUCH"],
              ["MASTER"],
              ["SET", NAME, "nosuch-option", "1"],
              ["SET", NAME, "quorum"],
              ["SET", NAME, "quorum", "2", "parallel-syncs"],
              ["SET", NAME, "down-after-milliseconds", "abc"],
              ["SET", NAME, "notification-script", "/bin/true"],
              ["MONITOR", "x", "127.0.0.1", "abc", "2"],
              ["MONITOR", "x", "127.0.0.1", "1", "abc"],
              ["MONITOR", "x", "not-an-ip", "1", "2"],
              ["CONFIG", "SET", "nosuch", "1"],
              ["IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "abc", "0", "*"],
            ]
          ) {
            assert.equal(
              await errorOf(r.call("SENTINEL", ...args)),
              await errorOf(oracle.call("SENTINEL", ...args)),
              args.join(" "),
            );
          }
          for (const cmd of [["GET", "k"], ["PUBLISH", "other", "x"], ["SET", "k", "v"]]) {
            assert.equal(
              await errorOf(r.call(cmd[0], ...cmd.slice(1))),
              await errorOf(oracle.call(cmd[0], ...cmd.slice(1))),
              cmd.join(" "),
            );
          }
          assert.deepEqual(await r.call("ROLE"), ["sentinel", [NAME]]);
          const info = (await r.call("INFO")) as string;
          assert.equal(infoField(info, "redis_mode"), "sentinel");
          assert.equal(infoField(info, "sentinel_masters"), "1");
          assert.equal(
            infoField(info, "master0"),
            `name=${NAME},status=ok,address=127.0.0.1:${nodes[0].port},slaves=2,sentinels=3`,
          );
          const cache = (await r.call("SENTINEL", "INFO-CACHE", NAME)) as unknown[];
          assert.equal(cache[0], NAME);
          assert.equal((cache[1] as unknown[]).length, 3);
          assert.match(String((cache[1] as unknown[][])[0][1]), /role:master/);

          // MONITOR / SET / REMOVE of a second master, with their events.
          const seen = await sentinelEvents(
            sPorts[0],
            "+monitor",
            "-monitor",
            "+set",
            "+sdown",
            "-sdown",
            "+odown",
            "+switch-master",
            "+failover-end",
            "+try-failover",
            "+elected-leader",
            "+promoted-slave",
            "+convert-to-slave",
            "+new-epoch",
            "+slave-reconf-sent",
          );
          assert.equal(await r.call("SENTINEL", "MONITOR", "other", "127.0.0.1", String(nodes[1].port), "1"), "OK");
          assert.equal(
            await r.call("SENTINEL", "SET", "other", "down-after-milliseconds", "5000", "quorum", "3"),
            "OK",
          );
          const other = fields(await r.call("SENTINEL", "MASTER", "other"));
          assert.equal(other.get("down-after-milliseconds"), "5000");
          assert.equal(other.get("quorum"), "3");
          assert.equal(await r.call("SENTINEL", "REMOVE", "other"), "OK");
          await until(() => seen.some((e) => e.startsWith("-monitor master other")), () => seen.join("\n"), 5000);
          assert.ok(seen.includes(`+monitor master other 127.0.0.1 ${nodes[1].port} quorum 1`), seen.join("\n"));
          assert.ok(
            seen.includes(`+set master other 127.0.0.1 ${nodes[1].port} down-after-milliseconds 5000`),
            seen.join("\n"),
          );

          const logs = () => sentinels.map((h) => h.output().slice(-2500)).join("\n----\n");
          const agreed = (ports: number[]) => agreedPrimary(all, nodeClient, ports, logs);

          // A Sentinel-aware client that knows only the Respite Sentinel finds the primary through it.
          const app = closeAtEnd(
            new Redis({ sentinels: [{ host: "127.0.0.1", port: sPorts[0] }], name: NAME, maxRetriesPerRequest: 50 }),
          );
          assert.equal(await app.set("before", "1"), "OK");
          assert.equal(await nodeClient.get(nodes[0].port)!.get("before"), "1");

          // kill -9 the primary: the group agrees on a new one, whoever leads.
          const old = nodes[0];
          await old.server!.stop();
          await until(
            () => seen.some((e) => e.startsWith("+switch-master")),
            () => `+switch-master on Respite\n${seen.join("\n")}\n${logs()}`,
            60_000,
            100,
          );
          const switched = seen.find((e) => e.startsWith("+switch-master"))!.split(" ");
          assert.equal(switched[1], NAME);
          assert.equal(switched[3], String(old.port));
          assert.ok([nodes[1].port, nodes[2].port].includes(Number(switched[5])));
          assert.ok(seen.some((e) => e.startsWith(`+sdown master ${NAME} 127.0.0.1 ${old.port}`)), seen.join("\n"));
          const first = await agreed([nodes[1].port, nodes[2].port]);
          // The client reconnects by itself, to the new primary.
          assert.equal(await app.set("after", "2"), "OK");
          assert.equal(await nodeClient.get(first)!.get("after"), "2");
          assert.equal(await nodeClient.get(first)!.get("before"), "1");

          // The old primary comes back and is turned into a replica of the new one.
          old.server = await startRedisNode(old.port, old.dir);
          started.push(old.server);
          assert.equal(await agreed([nodes[0].port, nodes[1].port, nodes[2].port]), first);

          // A failover forced through the Respite Sentinel: it leads, redis-sentinels follow its hello (config epoch).
          seen.length = 0;
          const epochBefore = Number(fields(await oracle.call("SENTINEL", "MASTER", NAME)).get("config-epoch"));
          assert.equal(await r.call("SENTINEL", "FAILOVER", NAME), "OK");
          assert.match(await errorOf(r.call("SENTINEL", "FAILOVER", NAME)), /INPROG|NOGOODSLAVE/);
          await until(
            () => seen.some((e) => e.startsWith("+switch-master")),
            () => `forced failover\n${seen.join("\n")}\n${logs()}`,
            60_000,
            100,
          );
          const second = Number(seen.find((e) => e.startsWith("+switch-master"))!.split(" ")[5]);
          assert.notEqual(second, first);
          assert.ok(seen.some((e) => e.startsWith(`+elected-leader master ${NAME}`)), seen.join("\n"));
          assert.ok(seen.some((e) => e.startsWith("+promoted-slave slave")), seen.join("\n"));
          assert.ok(seen.some((e) => e.startsWith(`+failover-end master ${NAME}`)), seen.join("\n"));
          assert.equal(await agreed(nodes.map((n) => n.port)), second);
          const epochAfter = Number(fields(await oracle.call("SENTINEL", "MASTER", NAME)).get("config-epoch"));
          assert.ok(epochAfter > epochBefore, `config epoch ${epochBefore} -> ${epochAfter}`);

          // A failover forced through a redis-sentinel: the Respite Sentinel learns it from the hello messages.
          seen.length = 0;
          assert.equal(await oracle.call("SENTINEL", "FAILOVER", NAME), "OK");
          await until(
            () => seen.some((e) => e.startsWith("+switch-master")),
            () => `redis-sentinel's failover seen\n${seen.join("\n")}`,
            60_000,
            100,
          );
          const third = Number(seen.find((e) => e.startsWith("+switch-master"))!.split(" ")[5]);
          assert.notEqual(third, second);
          assert.equal(await agreed(nodes.map((n) => n.port)), third);

          // The config file was rewritten as redis-sentinel rewrites its own: same monitored address, epochs and replicas.
          await r.call("SENTINEL", "FLUSHCONFIG");
          await oracle.call("SENTINEL", "FLUSHCONFIG");
          const lines = (file: string) =>
            fs.readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith("sentinel "));
          const mineConf = lines(confs[0]);
          const theirConf = lines(confs[1]);
          const pick = (ls: string[], kind: string) => ls.filter((l) => l.startsWith(`sentinel ${kind} `)).sort();
          for (
            const kind of [
              "monitor",
              "config-epoch",
              "current-epoch",
              "known-replica",
              "down-after-milliseconds",
              "failover-timeout",
            ]
          ) {
            assert.deepEqual(pick(mineConf, kind), pick(theirConf, kind), kind);
          }
          assert.ok(mineConf.includes(`sentinel myid ${myid}`));
          assert.equal(pick(mineConf, "known-sentinel").length, 2);

          // Restarted from that file, the Respite Sentinel knows the group at once.
          await respite.stop();
          respite = await startRespiteSentinel(runtime, confs[0], sPorts[0]);
          started.push(respite);
          const again = client(sPorts[0]);
          assert.equal(await again.call("SENTINEL", "MYID"), myid);
          assert.deepEqual(await again.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", NAME), ["127.0.0.1", String(third)]);
          assert.equal(((await again.call("SENTINEL", "REPLICAS", NAME)) as unknown[]).length, 2);
          assert.equal(((await again.call("SENTINEL", "SENTINELS", NAME)) as unknown[]).length, 2);
          await sleep(0);
        } finally {
          if (process.env.SENTINEL_TEST_LOGS) {
            started.forEach((h, i) =>
              fs.writeFileSync(path.join(process.env.SENTINEL_TEST_LOGS!, `${runtime}-${i}-${h.port}.log`), h.output())
            );
          }
          for (const s of started) await s.stop();
        }
      });

      test("auth-pass, RESET, CONFIG, a failover it leads alone, and bad config lines as in redis-sentinel", async () => {
        const started: ServerHandle[] = [];
        try {
          const [pPort, rPort, sPort] = [await freePort(), await freePort(), await freePort()];
          const [pDir, rDir, sDir] = [tmpDir(), tmpDir(), tmpDir()];
          started.push(
            await launch(
              "redis-server",
              ["--port", String(pPort), "--bind", "127.0.0.1", "--save", "", "--dir", pDir, "--requirepass", "s3cret"],
              pPort,
              undefined,
              pDir,
            ),
          );
          started.push(
            await launch(
              "redis-server",
              [
                "--port",
                String(rPort),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                rDir,
                "--masterauth",
                "s3cret",
                "--requirepass",
                "s3cret",
                "--replicaof",
                "127.0.0.1",
                String(pPort),
              ],
              rPort,
              undefined,
              rDir,
            ),
          );
          const conf = sentinelConf(sDir, sPort, pPort);
          fs.appendFileSync(conf, `sentinel auth-pass ${NAME} wrong\n`);
          started.push(await startRespiteSentinel(runtime, conf, sPort));
          const s = client(sPort);
          // With the wrong password INFO is refused: no replica is discovered, and the master is not answering PING as it should.
          await sleep(1500);
          assert.equal(((await s.call("SENTINEL", "REPLICAS", NAME)) as unknown[]).length, 0);
          assert.equal(await s.call("SENTINEL", "SET", NAME, "auth-pass", "s3cret"), "OK");
          const replicaSeen = async () => {
            const rs = ((await s.call("SENTINEL", "REPLICAS", NAME)) as unknown[]).map(fields);
            return rs.length === 1 && rs[0].get("master-link-status") === "ok";
          };
          await until(replicaSeen, () => "replica found with auth", 15_000, 100);
          const replica = fields(((await s.call("SENTINEL", "REPLICAS", NAME)) as unknown[])[0]);
          assert.equal(replica.get("name"), `127.0.0.1:${rPort}`);
          assert.equal(replica.get("master-port"), String(pPort));
          assert.match(fs.readFileSync(conf, "utf8"), new RegExp(`^sentinel auth-pass ${NAME} s3cret$`, "m"));

          // RESET forgets replicas and Sentinels, then INFO finds the replica again.
          assert.equal(await s.call("SENTINEL", "RESET", "my*"), 1);
          assert.equal(await s.call("SENTINEL", "RESET", "nomatch*"), 0);
          await until(replicaSeen, () => "replica found after RESET", 15_000, 100);

          // SENTINEL CONFIG SET/GET, persisted in the file.
          assert.equal(await s.call("SENTINEL", "CONFIG", "SET", "announce-port", "4242"), "OK");
          assert.deepEqual(await s.call("SENTINEL", "CONFIG", "GET", "announce-*"), [
            "announce-hostnames",
            "no",
            "announce-ip",
            "",
            "announce-port",
            "4242",
          ]);
          assert.equal(
            await errorOf(s.call("SENTINEL", "CONFIG", "SET", "announce-port", "x")),
            "ERR Invalid value 'x' to SENTINEL CONFIG SET 'announce-port'",
          );
          assert.match(fs.readFileSync(conf, "utf8"), /^sentinel announce-port 4242$/m);

          // Alone with quorum 1, the Respite Sentinel takes a killed primary through ODOWN and fails it over itself.
          assert.equal(await s.call("SENTINEL", "SET", NAME, "quorum", "1"), "OK");
          const seen = await sentinelEvents(
            sPort,
            "+sdown",
            "+odown",
            "+try-failover",
            "+elected-leader",
            "+promoted-slave",
            "+switch-master",
          );
          await started[0].stop();
          await until(() => seen.some((e) => e.startsWith("+switch-master")), () => seen.join("\n"), 30_000, 100);
          assert.deepEqual(seen.map((e) => e.split(" ")[0]), [
            "+sdown",
            "+odown",
            "+try-failover",
            "+elected-leader",
            "+promoted-slave",
            "+switch-master",
          ]);
          assert.ok(seen.includes(`+odown master ${NAME} 127.0.0.1 ${pPort} #quorum 1/1`), seen.join("\n"));
          assert.ok(seen.includes(`+switch-master ${NAME} 127.0.0.1 ${pPort} 127.0.0.1 ${rPort}`), seen.join("\n"));
          const promoted = closeAtEnd(new Redis({ port: rPort, host: "127.0.0.1", password: "s3cret" }));
          assert.equal(infoField(await promoted.info("replication"), "role"), "master");

          // A statement Sentinel does not know stops startup, with redis-sentinel's message.
          for (const line of ["sentinel nonsense x", "sentinel known-replica nosuch 127.0.0.1 1"]) {
            const bad = path.join(sDir, "bad.conf");
            fs.writeFileSync(bad, `port ${sPort}\n${line}\n`);
            const [cmd, base] = respiteCommand(runtime);
            const mine = spawnSync(cmd, [...base, bad, "--sentinel"], { encoding: "utf8", timeout: 30_000 });
            const theirs = spawnSync("redis-sentinel", [bad], { encoding: "utf8", timeout: 30_000 });
            assert.equal(mine.status, 1);
            assert.equal(theirs.status, 1);
            const why = (out: string) =>
              out.split("\n").filter((l) => l.startsWith(">>>") || /statement|specified name/.test(l));
            assert.deepEqual(why(mine.stdout + mine.stderr), why(theirs.stdout + theirs.stderr));
          }
        } finally {
          for (const h of started) await h.stop();
        }
      });

      test("redis-sentinel and the Respite Sentinel monitor a Respite primary: INFO, its hello channel, SDOWN/ODOWN, announce-ip/port", async () => {
        const started: ServerHandle[] = [];
        try {
          const primary = await startRespite(runtime, ["--save", ""]);
          const pPort = primary.port;
          started.push(primary);
          const sPorts = [await freePort(), await freePort()];
          const confs = sPorts.map((p) => sentinelConf(tmpDir(), p, pPort));
          started.push(await startRespiteSentinel(runtime, confs[0], sPorts[0]));
          started.push(await startRedisSentinel(confs[1], sPorts[1]));
          const [mine, theirs] = sPorts.map(client);
          // Each finds the other through the Respite primary's __sentinel__:hello channel, and reads its INFO.
          await until(
            async () => {
              for (const s of [mine, theirs]) {
                if (((await s.call("SENTINEL", "SENTINELS", NAME)) as unknown[]).length !== 1) return false;
                if (fields(await s.call("SENTINEL", "MASTER", NAME)).get("role-reported") !== "master") return false;
              }
              return true;
            },
            () => "both Sentinels know each other and the Respite primary",
            20_000,
            100,
          );
          const runid = infoField(await client(pPort).info("server"), "run_id");
          assert.equal(fields(await theirs.call("SENTINEL", "MASTER", NAME)).get("runid"), runid);
          assert.equal(fields(await mine.call("SENTINEL", "MASTER", NAME)).get("runid"), runid);
          assert.equal(fields(await theirs.call("SENTINEL", "MASTER", NAME)).get("flags"), "master");

          // Killed, it is SDOWN for each and ODOWN once they agree (quorum 2); with no replica there is nothing to promote.
          await primary.stop();
          await until(
            async () => {
              for (const s of [mine, theirs]) {
                if (
                  fields(await s.call("SENTINEL", "MASTER", NAME)).get("flags")?.split(",").includes("o_down") !== true
                ) {
                  return false;
                }
              }
              return true;
            },
            () => "o_down on both",
            20_000,
            100,
          );
          assert.equal(
            infoField((await mine.call("INFO", "sentinel")) as string, "master0"),
            `name=${NAME},status=odown,address=127.0.0.1:${pPort},slaves=0,sentinels=2`,
          );

          // announce-ip / announce-port: the address other Sentinels learn from the hello messages.
          assert.equal(await mine.call("SENTINEL", "CONFIG", "SET", "announce-ip", "127.0.0.2"), "OK");
          assert.equal(await mine.call("SENTINEL", "CONFIG", "SET", "announce-port", "4321"), "OK");
          const myid = await mine.call("SENTINEL", "MYID");
          await until(
            async () => {
              const known = ((await theirs.call("SENTINEL", "SENTINELS", NAME)) as unknown[]).map(fields);
              return known.length === 1 && known[0].get("ip") === "127.0.0.2" && known[0].get("port") === "4321" &&
                known[0].get("runid") === myid;
            },
            () => "redis-sentinel learns the announced address",
            15_000,
            100,
          );
        } finally {
          for (const h of started) await h.stop();
        }
      });
    });
  }
});
