/**
 * What every cluster test needs: cluster nodes (Respite under a runtime,
 * the compiled binary, or redis-server 7 itself) each in a directory of its
 * own on a port whose bus port (+10000) is free too, a cluster made from
 * them by `redis-cli --cluster create` exactly as users make one, waiting
 * until every node says cluster_state:ok, and stopping or kill -9 of one.
 */
import assert from "node:assert/strict";
import { RawConnection } from "./raw.ts";
import { launch, portFree, reservePort, respiteCommand, type ServerHandle, tmpDir } from "./servers.ts";
import { compiledBinary, runProgram, type Target, until } from "./targets.ts";

export interface ClusterNodeHandle extends ServerHandle {
  kind: Target;
  /** The node's working directory (nodes.conf, RDB): restart() starts it again there. */
  dir: string;
  /** The arguments it was started with after the common ones, for restart(). */
  extra: string[];
  /** "127.0.0.1:port", as redis-cli and CLUSTER NODES name it. */
  addr: string;
}

/** Quick failure detection for tests; a test may pass its own --cluster-node-timeout later in extra (later flags win). */
export const NODE_TIMEOUT = 2000;

/**
 * A client port p with p and its bus port p+10000 both free, both below the kernel's ephemeral range (32768-), and
 * above the last slot (16383), so that tests which name ports in replies never mistake a slot number for a port.
 */
export function clusterPort(): Promise<number> {
  return reservePort(16384, 22768, async (p) => (await portFree(p)) && (await portFree(p + 10000)));
}

function nodeCommand(kind: Target, port: number, dir: string, extra: string[]): [string, string[]] {
  const common = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no",
    "--enable-debug-command", "yes", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
    "--cluster-node-timeout", String(NODE_TIMEOUT), ...extra];
  if (kind === "redis") return ["redis-server", common];
  const gateway = extra.includes("--gateway-port") ? [] : ["--gateway", "no"];
  if (kind === "compiled") return [compiledBinary(), [...gateway, ...common]];
  const [cmd, base] = respiteCommand(kind);
  return [cmd, [...base, ...gateway, ...common]];
}

/** Starts one cluster node of the given kind; dir and port given = a restart of a node that ran there. */
export async function startClusterNode(kind: Target, extra: string[] = [], at?: { dir: string; port: number }): Promise<ClusterNodeHandle> {
  const port = at?.port ?? (await clusterPort());
  const dir = at?.dir ?? tmpDir();
  const [cmd, args] = nodeCommand(kind, port, dir, extra);
  const server = await launch(cmd, args, port, undefined, dir);
  return { ...server, kind, dir, extra, addr: `127.0.0.1:${port}` };
}

/** Starts a node again in its directory on its port (it reloads its nodes.conf). */
export function restart(node: ClusterNodeHandle): Promise<ClusterNodeHandle> {
  return startClusterNode(node.kind, node.extra, { dir: node.dir, port: node.port });
}

/** Starts one node per kind, in parallel. */
export function startClusterNodes(kinds: Target[], extra: string[] = []): Promise<ClusterNodeHandle[]> {
  return Promise.all(kinds.map((k) => startClusterNode(k, extra)));
}

/** kill -9: the node stops at once, as in a crash (its peers see its bus links drop). */
export function kill(node: ClusterNodeHandle): Promise<void> {
  return node.stop();
}

export async function stopAll(nodes: ClusterNodeHandle[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
}

/** Runs redis-cli with args: exit code and stdout+stderr. */
export function redisCli(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; output: string }> {
  return runProgram("redis-cli", args, timeoutMs);
}

/**
 * `redis-cli --cluster create` of the nodes (the first nodes.length/(replicas+1) become primaries, as redis-cli
 * picks them), answering yes; fails the test unless it ends with every slot covered.
 */
export async function createCluster(nodes: ClusterNodeHandle[], replicas = 0): Promise<string> {
  const r = await redisCli(["--cluster", "create", ...nodes.map((n) => n.addr), "--cluster-replicas", String(replicas), "--cluster-yes"]);
  assert.equal(r.code, 0, r.output + logs(nodes));
  assert.match(r.output, /\[OK\] All 16384 slots covered/, r.output + logs(nodes));
  return r.output;
}

/** `redis-cli --cluster check` through one node: exit code and output. */
export function clusterCheck(node: ClusterNodeHandle): Promise<{ code: number | null; output: string }> {
  return redisCli(["--cluster", "check", node.addr]);
}

/** Fails unless `redis-cli --cluster check` finds nothing wrong (no [ERR], no [WARNING], every slot covered). */
export async function assertCheckClean(node: ClusterNodeHandle, nodes: ClusterNodeHandle[] = [node]): Promise<string> {
  const r = await clusterCheck(node);
  assert.equal(r.code, 0, r.output + logs(nodes));
  assert.doesNotMatch(r.output, /\[ERR\]|\[WARNING\]/, r.output + logs(nodes));
  assert.match(r.output, /\[OK\] All 16384 slots covered/, r.output);
  return r.output;
}

/** The last lines each node printed, for failure messages. */
export function logs(nodes: ClusterNodeHandle[], chars = 1500): string {
  return nodes.map((n) => `\n--- ${n.kind} ${n.addr} ---\n${n.output().slice(-chars)}`).join("");
}

/** One command's reply as text (bulk or status), through a fresh connection. */
export async function command(node: ClusterNodeHandle, ...args: string[]): Promise<string> {
  const conn = await RawConnection.connect(node.port);
  try {
    return (await conn.call(...args)).toString("latin1");
  } finally {
    conn.close();
  }
}

/** CLUSTER INFO as a map of its fields. */
export async function clusterInfo(node: ClusterNodeHandle): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const line of (await command(node, "CLUSTER", "INFO")).split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

export interface NodeLine {
  id: string;
  addr: string;
  flags: string[];
  primary: string;
  configEpoch: number;
  linkState: string;
  slots: string[];
}

/** CLUSTER NODES, one entry per line. */
export async function clusterNodes(node: ClusterNodeHandle): Promise<NodeLine[]> {
  const reply = await command(node, "CLUSTER", "NODES");
  const body = reply.slice(reply.indexOf("\r\n") + 2);
  return body.split("\n").filter((l) => l.trim() !== "").map((l) => {
    const f = l.trim().split(" ");
    return { id: f[0], addr: f[1], flags: f[2].split(","), primary: f[3], configEpoch: Number(f[6]), linkState: f[7], slots: f.slice(8) };
  });
}

/** Waits until every node (of those still running) says cluster_state:ok. */
export async function waitClusterOk(nodes: ClusterNodeHandle[], timeoutMs = 60_000): Promise<void> {
  let last = "";
  await until(async () => {
    for (const n of nodes) {
      const state = (await clusterInfo(n)).get("cluster_state");
      if (state !== "ok") {
        last = `${n.kind} ${n.addr}: cluster_state:${state}`;
        return false;
      }
    }
    return true;
  }, () => last + logs(nodes), timeoutMs, 100);
}

/** Waits until every observer's CLUSTER NODES shows the node named id with flag (e.g. "fail", "fail?"), or without it. */
export async function waitFlag(observers: ClusterNodeHandle[], id: string, flag: string, present = true, timeoutMs = 60_000): Promise<void> {
  let last = "";
  await until(async () => {
    for (const o of observers) {
      const line = (await clusterNodes(o)).find((l) => l.id === id);
      if (!line || line.flags.includes(flag) !== present) {
        last = `${o.addr} sees ${id}: ${line?.flags.join(",") ?? "nothing"}`;
        return false;
      }
    }
    return true;
  }, () => last + logs(observers), timeoutMs, 100);
}

/** The node's own id (CLUSTER MYID). */
export async function myId(node: ClusterNodeHandle): Promise<string> {
  const reply = await command(node, "CLUSTER", "MYID");
  return reply.split("\r\n")[1];
}

/**
 * Waits until every node's CLUSTER NODES names the same nodes with the same slots (what redis-cli's
 * clusterManagerIsConfigConsistent compares): after add-node, before the next redis-cli command checks.
 */
export async function waitAgreed(nodes: ClusterNodeHandle[], timeoutMs = 60_000): Promise<void> {
  let last = "";
  const signature = async (n: ClusterNodeHandle) =>
    (await clusterNodes(n)).filter((l) => !l.flags.includes("handshake")).map((l) => `${l.id}:${l.slots.join(",")}`).sort().join(" ");
  await until(async () => {
    const sigs = await Promise.all(nodes.map(signature));
    last = sigs.join("\n");
    return sigs.every((s) => s === sigs[0]) && sigs[0].split(" ").length === nodes.length;
  }, () => `nodes disagree:\n${last}` + logs(nodes), timeoutMs, 100);
}
