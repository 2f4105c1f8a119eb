/**
 * A read/write workload through real cluster clients (ioredis `Cluster`,
 * node-redis `createCluster`) that runs while a test reshards or kills
 * nodes: each client writes keys spread over every slot, one at a time,
 * remembers every write the cluster acknowledged, reads some back, and
 * records every error it is shown. After the test's operation, every
 * acknowledged write must still be there.
 */
import assert from "node:assert/strict";
import { Cluster } from "ioredis";
import { createCluster } from "redis";
import type { ClusterNodeHandle } from "./cluster.ts";

/** The operations a workload needs from a cluster client. */
export interface ClusterClient {
  name: string;
  set(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<string | null>;
  /** SET then WAIT 1 on the node that took it: true when a replica acknowledged. */
  setAcked?(key: string, value: string, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function ioredisCluster(nodes: ClusterNodeHandle[]): Promise<ClusterClient> {
  const cluster = new Cluster(nodes.map((n) => ({ host: "127.0.0.1", port: n.port })), {
    // Failovers and reshards: keep retrying rather than give up (ioredis's defaults stop after 16 redirections).
    maxRedirections: 64,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 50,
    clusterRetryStrategy: () => 100,
    redisOptions: { maxRetriesPerRequest: null },
  });
  await new Promise<void>((resolve, reject) => {
    cluster.once("ready", resolve);
    cluster.once("error", reject);
  });
  cluster.on("error", () => {});
  return {
    name: "ioredis",
    set: (k, v) => cluster.set(k, v),
    get: (k) => cluster.get(k),
    async setAcked(k, v, timeoutMs) {
      // SET and WAIT in one pipeline go to the key's node, so WAIT counts that node's replicas.
      const r = await cluster.pipeline().set(k, v).call("WAIT", "1", String(timeoutMs)).exec();
      for (const [err] of r ?? []) if (err) throw err;
      return Number(r![1][1]) >= 1;
    },
    close: async () => {
      cluster.disconnect();
    },
  };
}

export async function nodeRedisCluster(nodes: ClusterNodeHandle[]): Promise<ClusterClient> {
  const cluster = createCluster({
    rootNodes: nodes.map((n) => ({ url: `redis://127.0.0.1:${n.port}` })),
    defaults: { socket: { reconnectStrategy: () => 100 } },
    maxCommandRedirections: 64,
  });
  cluster.on("error", () => {});
  await cluster.connect();
  return {
    name: "node-redis",
    set: (k, v) => cluster.set(k, v),
    get: async (k) => (await cluster.get(k)) as string | null,
    close: async () => {
      await cluster.close().catch(() => {});
    },
  };
}

export interface Workload {
  /** Writes acknowledged, by key: the last value written. */
  acked: Map<string, string>;
  errors: string[];
  /** Operations completed so far. */
  ops(): number;
  /** Ends the loop after the operation in flight. */
  stop(): Promise<void>;
}

/**
 * Writes `${prefix}:${n}` for n cycling over keys, each value new, and
 * every fifth write reads a key back, expecting the last value it acknowledged.
 * With waitAcked, each SET is followed by WAIT 1 and counts as acknowledged
 * only when a replica has it (what survives a kill -9 of its primary).
 */
export function startWorkload(client: ClusterClient, prefix: string, keys = 2000, opts: { waitAcked?: boolean } = {}): Workload {
  const acked = new Map<string, string>();
  const errors: string[] = [];
  let running = true;
  let done = 0;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const key = `${prefix}:${i % keys}`;
      const value = `${client.name}-${i}`;
      try {
        if (opts.waitAcked) {
          // Only writes a replica acknowledged must survive a failover; nothing is read back meanwhile.
          if (await client.setAcked!(key, value, 1000)) acked.set(key, value);
          else acked.delete(key);
        } else {
          await client.set(key, value);
          acked.set(key, value);
        }
        if (i % 5 === 0 && !opts.waitAcked) {
          const back = `${prefix}:${(i * 7) % keys}`;
          const got = await client.get(back);
          if (got !== (acked.get(back) ?? null)) errors.push(`${client.name} GET ${back}: ${got}, expected ${acked.get(back)}`);
        }
      } catch (e) {
        errors.push(`${client.name} ${key}: ${(e as Error).message}`);
      }
      done++;
    }
  })();
  return {
    acked,
    errors,
    ops: () => done,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Every key in acked reads back its value through client. */
export async function assertAcked(client: ClusterClient, acked: Map<string, string>, what: string): Promise<void> {
  const missing: string[] = [];
  for (const [key, value] of acked) {
    const got = await client.get(key);
    if (got !== value) missing.push(`${key}: ${got} (expected ${value})`);
  }
  assert.deepEqual(missing.slice(0, 20), [], `${what}: ${missing.length} of ${acked.size} acknowledged writes lost`);
}
