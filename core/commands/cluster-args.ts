/**
 * What every CLUSTER subcommand module shares: the CommandDef shape of a
 * subcommand (flags and docs as redis-server 7.0 reports them), the cluster
 * state or Redis's error when cluster mode is off, and slot / node-id
 * arguments parsed with Redis's errors.
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import type { ClusterState } from "../cluster/state.ts";
import type { ClusterNode } from "../cluster/node.ts";
import { SLOTS } from "../cluster/slot.ts";
import { str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { subcommandSyntaxError } from "./help.ts";

/** Flags of the admin subcommands that change the configuration (ADDSLOTS, SETSLOT, MEET...). */
export const ADMIN = "admin stale no_async_loading";
/** Flags of the read-only informational ones (INFO, NODES, MYID...). */
export const INFO = "stale";

/**
 * A CLUSTER subcommand's definition. run is called only in cluster mode,
 * with the state; with cluster mode off the reply is Redis's error.
 */
export function clusterSub(
  name: string,
  arity: number,
  flags: string,
  summary: string,
  run: (c: Client, argv: Uint8Array[], state: ClusterState) => void,
  extra: Partial<CommandDef> = {},
): CommandDef {
  const handler: Handler = (c, argv) => {
    const state = c.engine.cluster;
    if (state === null) return c.error("ERR This instance has cluster support disabled");
    run(c, argv, state);
  };
  return { name, arity, flags, group: "cluster", since: "3.0.0", summary, complexity: "O(1)", run: handler, ...extra };
}

/** Redis's getSlotOrReply: a slot number 0..16383, or null after "Invalid or out of range slot". */
export function slotArg(c: Client, arg: Uint8Array): number | null {
  const n = parseInt64(str(arg));
  if (n === null || n < 0n || n >= BigInt(SLOTS)) {
    c.error("ERR Invalid or out of range slot");
    return null;
  }
  return Number(n);
}

/** Redis's getLongLongFromObjectOrReply: an integer, or null after "value is not an integer or out of range". */
export function integerArg(c: Client, arg: Uint8Array): number | null {
  const n = parseInt64(str(arg));
  if (n === null) {
    c.error("ERR value is not an integer or out of range");
    return null;
  }
  return Number(n);
}

/** Redis's addReplySubcommandSyntaxError for a CLUSTER subcommand given the wrong arguments. */
export function subcommandSyntax(c: Client, argv: Uint8Array[]): void {
  subcommandSyntaxError(c, "cluster", str(argv[1]));
}

/** A known node by name, or null after Redis's "Unknown node <name>". */
export function nodeArg(c: Client, state: ClusterState, arg: Uint8Array): ClusterNode | null {
  const node = state.nodeByName(str(arg));
  if (node === undefined) {
    c.error(`ERR Unknown node ${str(arg)}`);
    return null;
  }
  return node;
}
