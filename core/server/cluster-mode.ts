/**
 * The engine's side of cluster mode (cluster-enabled yes): making
 * engine.cluster, the work done before sleeping (Redis's
 * clusterBeforeSleep: nodes.conf saved, state updated) and the part of the
 * cron that is the cluster's (Redis's clusterCron; the bus adds its own).
 * None of this runs when cluster mode is off.
 */
import type { Engine } from "./engine.ts";
import { ClusterState, Todo } from "../cluster/state.ts";
import { ClusterNode, NodeFlag, randomNodeName } from "../cluster/node.ts";
import { keyHashSlot, keyHashSlotBytes } from "../cluster/slot.ts";
import { later } from "../util/later.ts";
import { str } from "../util/bytes.ts";
import { luaLoaded } from "../scripting/lua.ts";
import type { Client } from "./client.ts";
import { type Command, keyPositions } from "../commands/table.ts";
import { preferredEndpoint, Redir, redirectError, type Route, routeQuery } from "../cluster/redirect.ts";
import { ClusterConfigError, loadClusterConfig, saveClusterConfig } from "../cluster/config-file.ts";
import { clusterFailoverHost, failoverBeforeSleep } from "../cluster/failover.ts";

/** A new ClusterState whose myself is a fresh primary with a random name (replaced by nodes.conf at startup, if there is one). */
export function createClusterState(engine: Engine): ClusterState {
  const myself = new ClusterNode(randomNodeName(), NodeFlag.MYSELF | NodeFlag.MASTER, engine.clock.now());
  const state = new ClusterState(myself);
  wire(engine, state);
  // CONFIG SET of the announced address or ports updates myself, as Redis's clusterUpdateMyself* do.
  for (const name of ["port", "cluster-announce-port", "cluster-announce-bus-port", "cluster-announce-hostname", "cluster-announce-ip"]) {
    engine.config.watch(name, () => {
      if (engine.cluster === null) return;
      refreshMyAddress(engine, engine.cluster);
      engine.cluster.requestSave();
    });
  }
  return state;
}

/**
 * Startup in cluster mode (Redis's clusterInit), in the working directory
 * (dir): nodes.conf read into engine.cluster, or, when there is none, the
 * fresh node saved to it. False after engine.onFatal when the file cannot
 * be used.
 */
export function startClusterMode(engine: Engine): boolean {
  let loaded: ClusterState | null;
  try {
    loaded = loadClusterConfig(engine);
  } catch (e) {
    if (!(e instanceof ClusterConfigError)) throw e;
    engine.onFatal(e.message);
    return false;
  }
  if (loaded === null) {
    const state = engine.cluster!;
    engine.log("notice", `No cluster configuration found, I'm ${state.myself.name}`);
    const error = saveClusterConfig(engine, state, true);
    if (error !== null) {
      engine.onFatal(`Configuration file "${engine.config.get("cluster-config-file")}" cannot be written: ${error}`);
      return false;
    }
  } else {
    engine.cluster = loaded;
    wire(engine, loaded);
    engine.log("notice", `Node configuration loaded, I'm ${loaded.myself.name}`);
  }
  engine.cluster!.requestUpdateState();
  return true;
}

/** Points a state's log and wake hooks at the engine (also for a state rebuilt from nodes.conf). */
export function wire(engine: Engine, state: ClusterState): void {
  state.log = (level, msg) => engine.log(level, msg);
  state.wake = () => later(() => clusterBeforeSleep(engine));
  state.slotLeaving = (slot) => engine.pubsub.removeShardChannelsInSlot(slot);
  refreshMyAddress(engine, state);
}

/** myself's ports and announced address, from the configuration (Redis's clusterUpdateMyselfAnnouncedPorts / hostname). */
export function refreshMyAddress(engine: Engine, state: ClusterState): void {
  const me = state.myself;
  const config = engine.config;
  const port = config.num("port");
  me.port = config.num("cluster-announce-port") || port;
  me.pport = 0;
  me.cport = config.num("cluster-announce-bus-port") || config.num("cluster-port") || port + 10000;
  me.hostname = config.get("cluster-announce-hostname");
  const ip = config.get("cluster-announce-ip");
  if (ip !== "") me.ip = ip;
}

/** What clusterBeforeSleep does with the todo bits: update the state, save nodes.conf (with fsync when asked). */
export function clusterBeforeSleep(engine: Engine): void {
  const state = engine.cluster;
  if (state === null) return;
  const todo = state.todo;
  const elections = Todo.HANDLE_FAILOVER | Todo.HANDLE_MANUALFAILOVER;
  if (todo & elections) {
    state.todo &= ~elections;
    failoverBeforeSleep(clusterFailoverHost(engine), todo);
  }
  if (todo & Todo.UPDATE_STATE) updateClusterState(engine);
  if (todo & Todo.SAVE_CONFIG) {
    state.todo &= ~(Todo.SAVE_CONFIG | Todo.FSYNC_CONFIG);
    const error = saveClusterConfig(engine, state, (todo & Todo.FSYNC_CONFIG) !== 0);
    if (error !== null) {
      engine.log("warning", `Could not save the cluster configuration: ${error}`);
    }
  }
}

/** Redis's clusterUpdateState with this engine's settings. */
export function updateClusterState(engine: Engine): void {
  engine.cluster!.updateState(engine.clock.now(), {
    requireFullCoverage: engine.config.bool("cluster-require-full-coverage"),
    nodeTimeout: engine.config.num("cluster-node-timeout"),
  });
}

/** The cluster's share of each cron tick (Redis's clusterCron runs every 100 ms: hz 10). */
export function clusterCron(engine: Engine): void {
  const state = engine.cluster!;
  if ((state.todo & Todo.UPDATE_STATE) !== 0 || !state.ok) updateClusterState(engine);
  if (state.todo !== 0) clusterBeforeSleep(engine);
  if (engine.blocking.keysWithWaiters !== 0) redirectBlockedClients(engine);
}

/**
 * Clients blocked on keys (BLPOP, XREAD...) whose slot this node no longer
 * serves, or while the cluster is down, get the redirect and stop waiting
 * (Redis's clusterRedirectBlockedClientIfNeeded, from its clients cron).
 */
function redirectBlockedClients(engine: Engine): void {
  const state = engine.cluster!;
  const me = state.myself;
  for (const c of engine.clients.values()) {
    const blocked = c.blocked;
    if (blocked === null || blocked.keys.length === 0) continue;
    let error: string | null = null;
    if (!state.ok) error = "CLUSTERDOWN The cluster is down";
    else {
      const slot = keyHashSlot(blocked.keys[0]);
      let node = state.slots[slot];
      const write = blocked.call?.cmd.flags.has("write") ?? false;
      if (c.clusterReadonly && !write && me.isReplica && me.replicaOf === node) node = me;
      if (node !== me && state.importingFrom[slot] === null) {
        error = redirectText(engine, { node, slot, code: node === null ? Redir.DOWN_UNBOUND : Redir.MOVED });
      }
    }
    if (error !== null) engine.blocking.unblockByRequest(c, true, error);
  }
}

/** Whether a command's keys are checked (Redis: a command with key specs or movable keys, and EXEC). */
function hasKeys(cmd: Command): boolean {
  return cmd.firstKey !== 0 || cmd.getKeys !== undefined || cmd.name === "exec";
}

const SHARD_PUBSUB = new Set(["ssubscribe", "sunsubscribe", "spublish"]);

/** Routes one command (or a transaction, for EXEC) with the given client flags. */
function route(engine: Engine, c: Client, cmd: Command, argv: Uint8Array[], asking: boolean): Route {
  const state = engine.cluster!;
  const exec = cmd.name === "exec";
  const calls: [Command, Uint8Array[]][] = exec ? (c.multi ?? []).map((q) => [q.cmd, q.argv]) : [[cmd, argv]];
  const db = engine.dbs[0];
  return routeQuery(state, {
    keys: calls.map(([qc, qa]) => keyPositions(qc, qa).map((i) => qa[i])),
    write: cmd.flags.has("write") || (exec && calls.some(([qc]) => qc.flags.has("write"))),
    pubsubShard: SHARD_PUBSUB.has(cmd.name),
    migrate: cmd.name === "migrate",
    asking: asking || cmd.flags.has("asking"),
    readonly: c.clusterReadonly,
    exists: (key) => db.peek(str(key), engine.now) !== undefined,
  }, {
    allowReadsWhenDown: engine.config.bool("cluster-allow-reads-when-down"),
    allowPubsubShardWhenDown: engine.config.bool("cluster-allow-pubsubshard-when-down"),
  });
}

/** The text of a redirect for a client (MOVED/ASK name the node by cluster-preferred-endpoint-type). */
function redirectText(engine: Engine, r: Route): string {
  const type = engine.config.get("cluster-preferred-endpoint-type");
  return redirectError(r, (n) => preferredEndpoint(n, type));
}

/** This node serves the slot, and it is neither migrating nor importing. */
function servesStably(state: ClusterState, slot: number): boolean {
  return state.slots[slot] === state.myself && state.migratingTo[slot] === null && state.importingFrom[slot] === null;
}

/**
 * The common case, without building a Query: every key in one slot this
 * node serves, not being migrated or imported, and the cluster up.
 * False means "look closer" (routeQuery decides).
 */
function servedHere(state: ClusterState, cmd: Command, argv: Uint8Array[]): boolean {
  if (!state.ok) return false;
  // One key at a fixed position (GET, SET, INCR...): its slot, without building the position list.
  if (cmd.firstKey !== 0 && cmd.firstKey === cmd.lastKey && cmd.getKeys === undefined) {
    if (cmd.firstKey >= argv.length) return true;
    return servesStably(state, keyHashSlotBytes(argv[cmd.firstKey]));
  }
  const positions = keyPositions(cmd, argv);
  if (positions.length === 0) return true;
  const slot = keyHashSlotBytes(argv[positions[0]]);
  if (!servesStably(state, slot)) return false;
  for (let i = 1; i < positions.length; i++) if (keyHashSlotBytes(argv[positions[i]]) !== slot) return false;
  return true;
}

/**
 * Whether ASKING stops applying after cmd (Redis's resetClient): it covers
 * one command, or a whole transaction, and the command admitted again after
 * waiting (for CLIENT PAUSE, or the Lua VM) still has it.
 */
function endsAsking(engine: Engine, c: Client, cmd: Command): boolean {
  if (cmd.name === "asking" || cmd.name === "multi") return false;
  if (c.multi !== null && cmd.name !== "exec" && cmd.name !== "discard") return false;
  if (engine.pause.mode !== null && engine.pause.holds(c, cmd)) return false;
  const scripted = cmd.group === "scripting" || (cmd.name === "exec" && (c.multi?.some((q) => q.cmd.group === "scripting") ?? false));
  return !(scripted && !luaLoaded());
}

/**
 * The cluster check of admit() (Redis's processCommand / getNodeByQuery):
 * null when the command may go on here; the error to refuse it with
 * (MOVED, ASK, CROSSSLOT...); or false when a gateway client's hook took
 * the redirect (it forwards the command and replies itself). Commands from
 * the primary are never redirected. Keeps ASKING for one command (or a
 * transaction), as Redis's resetClient.
 */
export function clusterAdmit(engine: Engine, c: Client, cmd: Command, argv: Uint8Array[]): string | null | false {
  const asking = c.asking;
  c.askingNow = asking;
  if (asking && endsAsking(engine, c, cmd)) c.asking = false;
  // A gateway client's keyless command may be about the whole cluster (DBSIZE, SCAN, WAIT): the gateway's to say.
  if (c.isMaster || !hasKeys(cmd)) return c.forward !== null && c.forward(cmd, argv, null) === "handled" ? false : null;
  if (cmd.name === "exec") {
    if (c.multi === null) return null;
  } else if (servedHere(engine.cluster!, cmd, argv)) return null;
  const r = route(engine, c, cmd, argv, asking);
  if (r.node === engine.cluster!.myself) return null;
  const text = redirectText(engine, r);
  // A gateway client's redirects go to the gateway first (core/gateway/cluster-forward.ts).
  if (c.forward !== null) {
    const taken = c.forward(cmd, argv, text);
    if (taken === "handled") return false;
    if (taken === "local") return null;
  }
  return text;
}

/** A script's redis.call in cluster mode (Redis's scriptVerifyClusterState): null, or the error for the script. */
export function scriptClusterError(engine: Engine, caller: Client, cmd: Command, argv: Uint8Array[]): string | null {
  if (caller.isMaster || !hasKeys(cmd)) return null;
  const r = route(engine, caller, cmd, argv, caller.askingNow);
  if (r.node === engine.cluster!.myself) return null;
  if (r.code === Redir.DOWN_RO_STATE) return "Script attempted to execute a write command while the cluster is down and readonly";
  if (r.code === Redir.DOWN_STATE) return "Script attempted to execute a command while the cluster is down";
  return "Script attempted to access a non local key in a cluster node";
}

/**
 * After the dataset loaded at startup (Redis's verifyClusterConfigWithData):
 * keys only in db 0, else the server stops; a primary holding keys of a
 * slot nobody serves takes the slot, and of a slot another node serves
 * imports it. False after engine.onFatal.
 */
export function verifyClusterConfigWithData(engine: Engine): boolean {
  const state = engine.cluster!;
  if (state.myself.isReplica) return true;
  if (engine.dbs.some((db, i) => i !== 0 && db.size !== 0)) {
    engine.onFatal("You can't have keys in a DB different than DB 0 when in Cluster mode. Exiting.");
    return false;
  }
  let changed = false;
  for (const slot of engine.dbs[0].slotKeys!.slotsWithKeys()) {
    const owner = state.slots[slot];
    if (owner === state.myself || state.importingFrom[slot] !== null) continue;
    changed = true;
    if (owner === null) {
      engine.log("warning", `I have keys for unassigned slot ${slot}. Taking responsibility for it.`);
      state.assignSlot(slot, state.myself);
    } else {
      engine.log("warning", `I have keys for slot ${slot}, but the slot is assigned to another node. Setting it to importing state.`);
      state.importingFrom[slot] = owner;
    }
  }
  if (!changed) return true;
  state.requestUpdateState();
  const error = saveClusterConfig(engine, state, true);
  if (error === null) return true;
  engine.onFatal("Fatal: can't update cluster config file.");
  return false;
}
