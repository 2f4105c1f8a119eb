/**
 * What the Sentinel tests share: the monitored group's name and timings, a
 * sentinel.conf writer, starting Respite's and Debian's Sentinels, clients
 * closed when the file ends, and readers for Sentinel's flat replies.
 */
import { after } from "node:test";
import * as fs from "node:fs";
import * as path from "node:path";
import Redis, { type RedisOptions } from "ioredis";
import { launch, respiteCommand, type Runtime, type ServerHandle } from "./servers.ts";
import { compiledBinary, until } from "./targets.ts";

export const NAME = "mymaster";
export const DOWN_AFTER = 2000;

/** Writes dir/sentinel.conf monitoring 127.0.0.1:masterPort as NAME with quorum 2. */
export function sentinelConf(dir: string, port: number, masterPort: number, failoverTimeout = 12000): string {
  const file = path.join(dir, "sentinel.conf");
  fs.writeFileSync(
    file,
    [
      `port ${port}`,
      `bind 127.0.0.1`,
      `dir ${dir}`,
      `sentinel monitor ${NAME} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${NAME} ${DOWN_AFTER}`,
      `sentinel failover-timeout ${NAME} ${failoverTimeout}`,
      "",
    ].join("\n"),
  );
  return file;
}

export function startRespiteSentinel(runtime: Runtime | "compiled", conf: string, port: number): Promise<ServerHandle> {
  const [cmd, base] = runtime === "compiled" ? [compiledBinary(), []] : respiteCommand(runtime);
  return launch(cmd, [...base, conf, "--sentinel"], port);
}

export function startRedisSentinel(conf: string, port: number): Promise<ServerHandle> {
  return launch("redis-sentinel", [conf], port, undefined, path.dirname(conf));
}

/** A flat [k, v, k, v] reply as a Map. */
export function fields(reply: unknown): Map<string, string> {
  const a = reply as string[];
  const m = new Map<string, string>();
  for (let i = 0; i < a.length; i += 2) m.set(a[i], a[i + 1]);
  return m;
}

export function infoField(text: string, key: string): string | undefined {
  for (const line of text.split("\r\n")) if (line.startsWith(key + ":")) return line.slice(key.length + 1);
  return undefined;
}

const clients: Redis[] = [];
after(() => {
  for (const c of clients) c.disconnect();
});

/** Closes c when the test file ends. */
export function closeAtEnd<T extends Redis>(c: T): T {
  c.on("error", () => {});
  clients.push(c);
  return c;
}

/** A client that retries its connection every 200 ms and fails a command after one retry. */
export function client(port: number, options: RedisOptions = {}): Redis {
  return closeAtEnd(
    new Redis({ port, host: "127.0.0.1", lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => 200, ...options }),
  );
}

/** Subscribes to a Sentinel's event channels; the events arrive in the returned list as "channel message". */
export async function sentinelEvents(port: number, ...channels: string[]): Promise<string[]> {
  const seen: string[] = [];
  // No resubscribing after a reconnect: ioredis sends that SUBSCRIBE unawaited, and when the server stops under it
  // (a Sentinel restarted at a test's end) its rejection would surface as an unhandled one in some later test.
  const events = client(port, { autoResubscribe: false });
  events.on("message", (ch: string, msg: string) => seen.push(`${ch} ${msg}`));
  await events.subscribe(...channels);
  return seen;
}

/**
 * Waits until the Sentinels agree on one master among `ports` and the servers match: it is a primary, every
 * other port its replica with the link up, and every Sentinel sees those as healthy replicas that reported
 * their new role. Returns its port.
 */
export async function agreedPrimary(
  sentinels: Redis[],
  nodes: Map<number, Redis>,
  ports: number[],
  logs: () => string,
): Promise<number> {
  let master = 0;
  await until(
    async () => {
      const addrs = new Set<string>();
      for (const s of sentinels) {
        addrs.add(((await s.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", NAME)) as string[])[1]);
      }
      if (addrs.size !== 1) return false;
      master = Number([...addrs][0]);
      if (!ports.includes(master)) return false;
      if (infoField(await nodes.get(master)!.info("replication"), "role") !== "master") return false;
      for (const p of ports.filter((x) => x !== master)) {
        const text = await nodes.get(p)!.info("replication").catch(() => "");
        if (infoField(text, "master_port") !== String(master) || infoField(text, "master_link_status") !== "up") {
          return false;
        }
      }
      for (const s of sentinels) {
        const replicas = ((await s.call("SENTINEL", "REPLICAS", NAME)) as unknown[]).map(fields)
          .filter((f) => ports.includes(Number(f.get("port"))));
        if (replicas.length !== ports.length - 1) return false;
        if (!replicas.every((f) => f.get("flags") === "slave" && f.get("role-reported") === "slave")) return false;
      }
      return true;
    },
    () => `the group agrees on a master among ${ports}\n${logs()}`,
    90_000,
    250,
  );
  return master;
}

/** Waits until every Sentinel knows `replicas` replicas and `others` other Sentinels of the group. */
export async function discovered(sentinels: Redis[], replicas: number, others: number, logs = () => ""): Promise<void> {
  await until(
    async () => {
      for (const s of sentinels) {
        if (((await s.call("SENTINEL", "REPLICAS", NAME)) as unknown[]).length !== replicas) return false;
        if (((await s.call("SENTINEL", "SENTINELS", NAME)) as unknown[]).length !== others) return false;
      }
      return true;
    },
    () => `every Sentinel knows ${replicas} replicas and ${others} other Sentinels\n${logs()}`,
    30_000,
    200,
  );
}
