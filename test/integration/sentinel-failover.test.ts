/**
 * High availability end to end, Respite only: a Bun primary, Deno and Node
 * replicas, and three Respite Sentinels (Bun, Deno, the compiled binary),
 * under a write load from the Sentinel-aware clients users already have.
 * kill -9 the primary while ioredis (`sentinels:`) writes, then again while
 * redis-py's Sentinel client writes: each time a new primary is chosen, the
 * client finds it by itself, and every write acknowledged with WAIT 1 is on
 * it. The killed primaries come back as replicas and the three datasets end
 * equal (DEBUG DIGEST).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import Redis from "ioredis";
import { freePort, launch, respiteCommand, type Runtime, type ServerHandle, tmpDir } from "../lib/servers.ts";
import {
  agreedPrimary,
  client,
  closeAtEnd,
  discovered,
  DOWN_AFTER,
  NAME,
  sentinelConf,
  sentinelEvents,
  startRespiteSentinel,
} from "../lib/sentinel.ts";
import { sleep, until } from "../lib/targets.ts";

/** Short, so the second kill need not wait long: a Sentinel starts no new failover within twice this. */
const FAILOVER_TIMEOUT = 4000;
/** How long after the kill the new primary must be in place: down-after-milliseconds plus a few seconds. */
const FAILOVER_BOUND = DOWN_AFTER + 15_000;

/** Debian's python3-redis is installed for /usr/bin/python3, which may not be the python3 first on PATH. */
const PYTHON = "/usr/bin/python3";

/** Writes py:<i> = i through redis-py's Sentinel client until the stop file appears; prints each key WAIT 1 acknowledged. */
const PY_WRITER = `
import os, sys, time
from redis.sentinel import Sentinel
ports, stop = sys.argv[1], sys.argv[2]
sentinel = Sentinel([("127.0.0.1", int(p)) for p in ports.split(",")], socket_timeout=1)
primary = sentinel.master_for("${NAME}", socket_timeout=1)
i = 0
while not os.path.exists(stop):
    key = "py:%d" % i
    try:
        primary.set(key, i)
        if primary.execute_command("WAIT", 1, 1000) >= 1:
            print(key, flush=True)
    except Exception as e:
        print("# %s" % type(e).__name__, flush=True)
        time.sleep(0.05)
    i += 1
`;

interface Node {
  runtime: Runtime;
  port: number;
  dir: string;
  server: ServerHandle | null;
}

function startNode(node: Node, replicaOf?: number): Promise<ServerHandle> {
  const [cmd, base] = respiteCommand(node.runtime);
  // A config file, so the CONFIG REWRITE in Sentinel's reconfiguration transaction has somewhere to go.
  const conf = path.join(node.dir, "respite.conf");
  if (!fs.existsSync(conf)) fs.writeFileSync(conf, "");
  const args = [
    ...base,
    conf,
    "--port",
    String(node.port),
    "--bind",
    "127.0.0.1",
    "--gateway",
    "no",
    "--save",
    "",
    "--enable-debug-command",
    "yes",
    "--dir",
    node.dir,
  ];
  if (replicaOf) args.push("--replicaof", "127.0.0.1", String(replicaOf));
  return launch(cmd, args, node.port);
}

/** Writes key:<i> = i through ioredis until stop() holds; keys WAIT 1 acknowledged go into acked. */
async function ioredisLoad(app: Redis, stop: () => boolean, acked: Map<string, string>): Promise<void> {
  for (let i = 0; !stop(); i++) {
    const key = `io:${i}`;
    try {
      await app.set(key, String(i));
      if (Number(await app.call("WAIT", "1", "1000")) >= 1) acked.set(key, String(i));
    } catch {
      await sleep(50);
    }
  }
}

test("1 primary + 2 replicas + 3 Sentinels: kill -9 under ioredis and redis-py writes loses no acknowledged write", async () => {
  const started: ServerHandle[] = [];
  const stopAll = async () => {
    for (const s of started) await s.stop();
  };
  try {
    const nodes: Node[] = [];
    for (const runtime of ["bun", "deno", "node"] as Runtime[]) {
      nodes.push({ runtime, port: await freePort(), dir: tmpDir(), server: null });
    }
    nodes[0].server = await startNode(nodes[0]);
    for (const n of nodes.slice(1)) n.server = await startNode(n, nodes[0].port);
    started.push(...nodes.map((n) => n.server!));
    const nodeClient = new Map(nodes.map((n) => [n.port, client(n.port)]));
    const byPort = (port: number) => nodes.find((n) => n.port === port)!;

    const sPorts = [await freePort(), await freePort(), await freePort()];
    const sentinelRuntimes: (Runtime | "compiled")[] = ["bun", "deno", "compiled"];
    const sentinels: ServerHandle[] = [];
    for (let i = 0; i < 3; i++) {
      const conf = sentinelConf(tmpDir(), sPorts[i], nodes[0].port, FAILOVER_TIMEOUT);
      sentinels.push(await startRespiteSentinel(sentinelRuntimes[i], conf, sPorts[i]));
    }
    started.push(...sentinels);
    const sClients = sPorts.map((p) => client(p));
    const logs = () =>
      [...sentinels, ...nodes.map((n) => n.server!)].map((h) => h.output().slice(-2000)).join("\n----\n");
    const agreed = (ports: number[]) => agreedPrimary(sClients, nodeClient, ports, logs);
    await discovered(sClients, 2, 2, logs);
    const seen = await sentinelEvents(sPorts[0], "+switch-master");

    /** kill -9 the primary at `port`; returns the new primary's port once a Sentinel announces it, within the bound. */
    const killPrimary = async (port: number): Promise<number> => {
      seen.length = 0;
      const killedAt = Date.now();
      await byPort(port).server!.stop();
      await until(() => seen.length > 0, () => `+switch-master after killing ${port}\n${logs()}`, FAILOVER_BOUND, 50);
      const [, name, , from, , to] = seen[0].split(" ");
      assert.deepEqual([name, from], [NAME, String(port)]);
      console.log(`# new primary ${to} ${Date.now() - killedAt} ms after kill -9 of ${port}`);
      return Number(to);
    };

    // ioredis finds the primary through the Sentinels and keeps writing across the kill.
    const app = closeAtEnd(
      new Redis({
        sentinels: sPorts.map((port) => ({ host: "127.0.0.1", port })),
        name: NAME,
        maxRetriesPerRequest: 100,
      }),
    );
    const ioAcked = new Map<string, string>();
    let stopIo = false;
    const ioLoad = ioredisLoad(app, () => stopIo, ioAcked);
    await until(() => ioAcked.size >= 50, () => "ioredis writes acknowledged before the kill", 30_000);
    const beforeKill = ioAcked.size;
    const first = await killPrimary(nodes[0].port);
    assert.ok([nodes[1].port, nodes[2].port].includes(first));
    // The client reconnects by itself, to the new primary.
    await until(() => ioAcked.size >= beforeKill + 50, () => "ioredis writes acknowledged after the failover", 60_000);
    stopIo = true;
    await ioLoad;
    const firstClient = nodeClient.get(first)!;
    for (const [k, v] of ioAcked) assert.equal(await firstClient.get(k), v, `acknowledged ${k} on the new primary`);

    // The killed primary returns and is made a replica of the new one.
    nodes[0].server = await startNode(nodes[0]);
    started.push(nodes[0].server);
    assert.equal(await agreed(nodes.map((n) => n.port)), first);

    // redis-py's Sentinel client writes while the second primary is killed.
    const stopFile = path.join(tmpDir(), "stop");
    const py = spawn(PYTHON, ["-c", PY_WRITER, sPorts.join(","), stopFile], { stdio: ["ignore", "pipe", "pipe"] });
    let pyOut = "";
    py.stdout.on("data", (d) => (pyOut += d));
    py.stderr.on("data", (d) => (pyOut += d));
    const pyAcked = () => pyOut.split("\n").filter((l) => l.startsWith("py:"));
    await until(() => pyAcked().length >= 50, () => `redis-py writes acknowledged before the kill\n${pyOut}`, 30_000);
    const pyBefore = pyAcked().length;
    const second = await killPrimary(first);
    assert.notEqual(second, first);
    await until(() => pyAcked().length >= pyBefore + 50, () => `redis-py writes after the failover\n${pyOut}`, 60_000);
    fs.writeFileSync(stopFile, "");
    await new Promise((resolve) => py.once("exit", resolve));
    const secondClient = nodeClient.get(second)!;
    for (const k of pyAcked()) {
      assert.equal(await secondClient.get(k), k.slice(3), `acknowledged ${k} on the new primary`);
    }
    for (const [k, v] of ioAcked) assert.equal(await secondClient.get(k), v, `${k} survived both failovers`);

    // The second killed primary returns too; all three datasets end equal.
    byPort(first).server = await startNode(byPort(first));
    started.push(byPort(first).server!);
    assert.equal(await agreed(nodes.map((n) => n.port)), second);
    assert.equal(await secondClient.call("WAIT", "2", "10000"), 2);
    const digests = await Promise.all(nodes.map((n) => nodeClient.get(n.port)!.call("DEBUG", "DIGEST")));
    assert.equal(new Set(digests).size, 1, `digests ${digests}`);
  } finally {
    await stopAll();
  }
});
