/**
 * CLUSTER RESET [SOFT|HARD] (Redis's clusterReset): a replica becomes an
 * empty primary, every slot and every other node is forgotten, and a hard
 * reset also zeroes the epochs and takes a new node id.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import type { ClusterState } from "../cluster/state.ts";
import { Todo } from "../cluster/state.ts";
import { randomNodeName } from "../cluster/node.ts";
import { SLOTS } from "../cluster/slot.ts";
import { clusterSub, subcommandSyntax } from "./cluster-args.ts";
import { is } from "../util/bytes.ts";
import { clusterFailoverHost, resetManualFailover } from "../cluster/failover.ts";

/** Resets this node's cluster state; hard also renames it and zeroes the epochs. */
export function resetCluster(c: Client, state: ClusterState, hard: boolean): void {
  const engine = c.engine;
  const me = state.myself;
  if (me.isReplica) {
    state.setPrimary(me);
    engine.replica.unfollow();
    for (const db of engine.dbs) {
      engine.dbReplaced(db);
      db.clear();
    }
  }
  state.migratingTo.fill(null);
  state.importingFrom.fill(null);
  resetManualFailover(clusterFailoverHost(engine));
  for (let slot = 0; slot < SLOTS; slot++) state.unassignSlot(slot);
  for (const node of [...state.nodes.values()]) if (node !== me) state.deleteNode(node);
  if (hard) {
    state.currentEpoch = 0;
    state.lastVoteEpoch = 0;
    me.configEpoch = 0;
    state.log("warning", "configEpoch set to 0 via CLUSTER RESET HARD");
    state.renameNode(me, randomNodeName());
    state.log("notice", `Node hard reset, now I'm ${me.name}`);
  }
  state.request(Todo.SAVE_CONFIG | Todo.UPDATE_STATE | Todo.FSYNC_CONFIG);
}

export const clusterResetSubcommands: CommandDef[] = [
  clusterSub("reset", -2, "admin noscript stale", "Reset a Redis Cluster node", (c, argv, state) => {
    if (argv.length > 3) return subcommandSyntax(c, argv);
    let hard = false;
    if (argv.length === 3) {
      if (is(argv[2], "hard")) hard = true;
      else if (!is(argv[2], "soft")) return c.error("ERR syntax error");
    }
    if (state.myself.isPrimary && c.db.size !== 0) return c.error("ERR CLUSTER RESET can't be called with master nodes containing keys");
    resetCluster(c, state, hard);
    c.out.ok();
  }, { complexity: "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect." }),
];
