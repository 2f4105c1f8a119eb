/**
 * Which node serves a request (Redis's getNodeByQuery), and the error a
 * client gets when it is not this one (clusterRedirectClient): MOVED to the
 * slot's owner, ASK during a migration for keys not here, TRYAGAIN for a
 * multi-key request split by a migration, CROSSSLOT for keys of different
 * slots, CLUSTERDOWN when the slot is unassigned or the cluster is down.
 * The keys come from the caller (the engine reads them from the command
 * table), one list per command: one for a command, one per queued command
 * for EXEC.
 */
import type { ClusterNode } from "./node.ts";
import type { ClusterState } from "./state.ts";
import { keyHashSlotBytes } from "./slot.ts";

/** Redis's CLUSTER_REDIR_*. */
export const Redir = {
  NONE: 0,
  CROSS_SLOT: 1,
  UNSTABLE: 2,
  ASK: 3,
  MOVED: 4,
  DOWN_STATE: 5,
  DOWN_UNBOUND: 6,
  DOWN_RO_STATE: 7,
} as const;

/** The request as getNodeByQuery sees it. */
export interface Query {
  /** The keys (or shard channels) of each command of the request. */
  keys: Uint8Array[][];
  /** A write command, or EXEC of a transaction holding one. */
  write: boolean;
  /** SSUBSCRIBE, SUNSUBSCRIBE or SPUBLISH: channels, not keys. */
  pubsubShard: boolean;
  /** MIGRATE: always local while its slot is open. */
  migrate: boolean;
  /** The client sent ASKING, or the command has the asking flag (RESTORE-ASKING). */
  asking: boolean;
  /** The client sent READONLY. */
  readonly: boolean;
  /** Whether a key exists in db 0 (missing keys decide ASK and TRYAGAIN during a migration). */
  exists(key: Uint8Array): boolean;
}

/** cluster-allow-reads-when-down and cluster-allow-pubsubshard-when-down. */
export interface RedirectSettings {
  allowReadsWhenDown: boolean;
  allowPubsubShardWhenDown: boolean;
}

/** getNodeByQuery's answer: the node to serve it (myself to run it here), the slot, and Redir. */
export interface Route {
  node: ClusterNode | null;
  slot: number;
  code: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Redis's getNodeByQuery. */
export function routeQuery(state: ClusterState, q: Query, settings: RedirectSettings): Route {
  const me = state.myself;
  let first: Uint8Array | null = null;
  let slot = 0;
  let n: ClusterNode | null = null;
  let migrating = false, importing = false, multipleKeys = false;
  let missing = 0, existing = 0;
  for (const keys of q.keys) {
    for (const key of keys) {
      const keySlot = keyHashSlotBytes(key);
      if (first === null) {
        first = key;
        slot = keySlot;
        n = state.slots[slot];
        if (n === null) return { node: null, slot, code: Redir.DOWN_UNBOUND };
        if (n === me && state.migratingTo[slot] !== null) migrating = true;
        else if (state.importingFrom[slot] !== null) importing = true;
      } else if (!sameBytes(first, key)) {
        if (keySlot !== slot) return { node: null, slot, code: Redir.CROSS_SLOT };
        multipleKeys = true;
      }
      if ((migrating || importing) && !q.pubsubShard) {
        if (q.exists(key)) existing++;
        else missing++;
      }
    }
  }
  if (n === null) return { node: me, slot: -1, code: Redir.NONE };
  if (!state.ok) {
    if (q.pubsubShard) {
      if (!settings.allowPubsubShardWhenDown) return { node: null, slot, code: Redir.DOWN_STATE };
    } else if (!settings.allowReadsWhenDown) return { node: null, slot, code: Redir.DOWN_STATE };
    else if (q.write) return { node: null, slot, code: Redir.DOWN_RO_STATE };
  }
  if ((migrating || importing) && q.migrate) return { node: me, slot, code: Redir.NONE };
  if (migrating && missing > 0) {
    if (existing > 0) return { node: null, slot, code: Redir.UNSTABLE };
    return { node: state.migratingTo[slot], slot, code: Redir.ASK };
  }
  if (importing && q.asking) {
    if (multipleKeys && missing > 0) return { node: null, slot, code: Redir.UNSTABLE };
    return { node: me, slot, code: Redir.NONE };
  }
  if ((q.readonly || q.pubsubShard) && !q.write && me.isReplica && me.replicaOf === n) return { node: me, slot, code: Redir.NONE };
  return { node: n, slot, code: n !== me ? Redir.MOVED : Redir.NONE };
}

/** Redis's clusterRedirectClient: the error text for a route that is not myself. endpoint names the node as clients should reach it. */
export function redirectError(route: Route, endpoint: (n: ClusterNode) => string): string {
  switch (route.code) {
    case Redir.CROSS_SLOT:
      return "CROSSSLOT Keys in request don't hash to the same slot";
    case Redir.UNSTABLE:
      return "TRYAGAIN Multiple keys request during rehashing of slot";
    case Redir.DOWN_STATE:
      return "CLUSTERDOWN The cluster is down";
    case Redir.DOWN_RO_STATE:
      return "CLUSTERDOWN The cluster is down and only accepts read commands";
    case Redir.DOWN_UNBOUND:
      return "CLUSTERDOWN Hash slot not served";
    default: {
      const n = route.node!;
      return `${route.code === Redir.ASK ? "ASK" : "MOVED"} ${route.slot} ${endpoint(n)}:${n.port}`;
    }
  }
}

/** Redis's getPreferredEndpoint for cluster-preferred-endpoint-type: the ip, the hostname ("?" when none), or "" (unknown-endpoint). */
export function preferredEndpoint(node: ClusterNode, type: string): string {
  if (type === "ip") return node.ip;
  if (type === "hostname") return node.hostname !== "" ? node.hostname : "?";
  return "";
}
