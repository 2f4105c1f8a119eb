/**
 * nodes.conf (cluster-config-file): written as Redis 7.0 writes it, one
 * line a node as CLUSTER NODES shows it (handshake nodes left out) and a
 * last `vars currentEpoch N lastVoteEpoch N` line (see saveClusterConfig
 * for how it is written); read back at startup as
 * Redis's clusterLoadConfig, a damaged file stopping the server.
 */
import type { FileSystem, WritableFile } from "../io.ts";
import { ClusterNode, NodeFlag } from "./node.ts";
import { ClusterState } from "./state.ts";
import { nodesDescription } from "./nodes-text.ts";
import { osErrorText } from "../util/os-error.ts";

/** What saving and loading need from the engine. */
export interface ConfigFileHost {
  fs: FileSystem;
  config: { get(name: string): string };
  now: number;
}

/** The whole text of nodes.conf for a state. */
export function clusterConfigText(state: ClusterState): string {
  return nodesDescription(state, NodeFlag.HANDSHAKE) + `vars currentEpoch ${state.currentEpoch} lastVoteEpoch ${state.lastVoteEpoch}\n`;
}

/**
 * Writes nodes.conf (Redis's clusterSaveConfig); null, or why it failed.
 * Written in place as Redis 7.0 writes it, padded with newlines to the old
 * length so the file is never shorter than a whole configuration while it
 * is written, then cut; a save that must be durable (FSYNC_CONFIG: epochs,
 * votes) is fsynced before the file is closed, as Redis fsyncs it. Not a
 * temporary file and a rename: a reshard saves on every SETSLOT, and the
 * source node's durable saves (a new owner's epoch, learned by gossip)
 * cost ~1 ms that way (a new file's fdatasync, the rename, the directory's
 * fsync), several times Redis's in-place fsync.
 */
export function saveClusterConfig(host: ConfigFileHost, state: ClusterState, fsync: boolean): string | null {
  const path = host.config.get("cluster-config-file");
  const content = new TextEncoder().encode(clusterConfigText(state));
  const fs = host.fs;
  let file: WritableFile | null = null;
  try {
    const old = fs.size(path);
    file = fs.open(path, "overwrite");
    if (old > content.length) {
      const padded = new Uint8Array(old).fill(10);
      padded.set(content);
      file.write(padded);
      file.truncate(content.length);
    } else file.write(content);
    if (fsync) file.syncNow();
    return null;
  } catch (e) {
    return osErrorText(e);
  } finally {
    file?.close();
  }
}

/** A nodes.conf that cannot be used: the text redis-server logs before exiting. */
export class ClusterConfigError extends Error {}

/**
 * Reads nodes.conf into a new ClusterState (Redis's clusterLoadConfig),
 * or null when the file is missing or empty (a new node). Throws
 * ClusterConfigError for a damaged file or one without myself.
 */
export function loadClusterConfig(host: ConfigFileHost): ClusterState | null {
  const path = host.config.get("cluster-config-file");
  if (!host.fs.exists(path) || host.fs.size(path) === 0) return null;
  let text: string;
  try {
    text = host.fs.readText(path);
  } catch (e) {
    throw new ClusterConfigError(`Loading the cluster node config from ${path}: ${osErrorText(e)}`);
  }
  const corrupted = () => new ClusterConfigError("Unrecoverable error: corrupted cluster config file.");
  const nodes = new Map<string, ClusterNode>();
  const lookup = (name: string) => {
    let n = nodes.get(name);
    if (n === undefined) nodes.set(name, n = new ClusterNode(name, 0, host.now));
    return n;
  };
  let myself: ClusterNode | null = null;
  let currentEpoch = 0;
  let lastVoteEpoch = 0;
  const slotLines: [ClusterNode, string[]][] = [];
  const primaryOf: [ClusterNode, ClusterNode][] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const argv = line.split(/\s+/);
    if (argv[0] === "vars") {
      for (let i = 1; i + 1 < argv.length; i += 2) {
        if (argv[i] === "currentEpoch") currentEpoch = Number(argv[i + 1]);
        else if (argv[i] === "lastVoteEpoch") lastVoteEpoch = Number(argv[i + 1]);
        // Redis skips (and logs) variables it does not know.
      }
      continue;
    }
    if (argv.length < 8) throw corrupted();
    if (!/^[0-9a-f]{40}$/.test(argv[0])) throw corrupted();
    const n = lookup(argv[0]);
    const addr = /^(.*):(\d+)(?:@(\d+))?(?:,(.*))?$/.exec(argv[1]);
    if (addr === null) throw corrupted();
    n.ip = addr[1];
    n.port = Number(addr[2]);
    n.cport = addr[3] !== undefined ? Number(addr[3]) : n.port + 10000;
    n.hostname = addr[4] ?? "";
    for (const flag of argv[2].split(",")) {
      if (flag === "myself") {
        if (myself !== null && myself !== n) throw corrupted();
        myself = n;
        n.flags |= NodeFlag.MYSELF;
      } else if (flag === "master") n.flags |= NodeFlag.MASTER;
      else if (flag === "slave") n.flags |= NodeFlag.SLAVE;
      else if (flag === "fail?") n.flags |= NodeFlag.PFAIL;
      else if (flag === "fail") {
        n.flags |= NodeFlag.FAIL;
        n.failTime = host.now;
      } else if (flag === "handshake") n.flags |= NodeFlag.HANDSHAKE;
      else if (flag === "noaddr") n.flags |= NodeFlag.NOADDR;
      else if (flag === "nofailover") n.flags |= NodeFlag.NOFAILOVER;
      else if (flag !== "noflags") throw corrupted();
    }
    if (argv[3] !== "-") {
      if (!/^[0-9a-f]{40}$/.test(argv[3])) throw corrupted();
      primaryOf.push([n, lookup(argv[3])]);
    }
    if (Number(argv[4]) !== 0) n.pingSent = host.now;
    if (Number(argv[5]) !== 0) n.pongReceived = host.now;
    n.configEpoch = Number(argv[6]);
    if (!Number.isSafeInteger(n.configEpoch)) throw corrupted();
    slotLines.push([n, argv.slice(8)]);
  }
  if (myself === null) throw corrupted();
  const state = new ClusterState(myself);
  for (const n of nodes.values()) state.addNode(n);
  for (const [replica, primary] of primaryOf) state.addReplica(primary, replica);
  for (const [n, words] of slotLines) {
    for (const word of words) {
      const moving = /^\[(\d+)-([<>])-([0-9a-f]{40})\]$/.exec(word);
      if (moving !== null) {
        const slot = Number(moving[1]);
        if (slot >= 16384) throw corrupted();
        const other = state.nodeByName(moving[3]) ?? lookupAdd(state, moving[3], host.now);
        if (moving[2] === ">") state.migratingTo[slot] = other;
        else state.importingFrom[slot] = other;
        continue;
      }
      const range = /^(\d+)(?:-(\d+))?$/.exec(word);
      if (range === null) throw corrupted();
      const start = Number(range[1]);
      const end = range[2] !== undefined ? Number(range[2]) : start;
      if (start > end || end >= 16384) throw corrupted();
      for (let slot = start; slot <= end; slot++) state.assignSlot(slot, n);
    }
  }
  state.currentEpoch = Math.max(currentEpoch, state.maxEpoch());
  state.lastVoteEpoch = lastVoteEpoch;
  return state;
}

/** A node named only in a migration entry: known by name, address unknown (Redis creates it the same way). */
function lookupAdd(state: ClusterState, name: string, now: number): ClusterNode {
  const n = new ClusterNode(name, 0, now);
  state.addNode(n);
  return n;
}
