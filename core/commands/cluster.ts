/**
 * The CLUSTER container and its local subcommands (those that read or
 * change only this node's state). Subcommands of the bus (MEET, FORGET,
 * LINKS...) come from cluster-bus.ts and of failover (REPLICATE,
 * FAILOVER...) from cluster-failover.ts; slot assignment from
 * cluster-slots.ts, the views (INFO, NODES, SLOTS, SHARDS) from
 * cluster-views.ts.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { replyHelp } from "./help.ts";
import { ADMIN, clusterSub, INFO, integerArg } from "./cluster-args.ts";
import { clusterBusSubcommands } from "./cluster-bus.ts";
import { clusterFailoverSubcommands } from "./cluster-failover.ts";
import { clusterSlotSubcommands } from "./cluster-slots.ts";
import { clusterViewSubcommands } from "./cluster-views.ts";
import { clusterResetSubcommands } from "./cluster-reset.ts";
import { keyHashSlot, SLOTS } from "../cluster/slot.ts";
import { str } from "../util/bytes.ts";
import { saveClusterConfig } from "../cluster/config-file.ts";

const HELP = [
  "ADDSLOTS <slot> [<slot> ...]",
  "    Assign slots to current node.",
  "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
  "    Assign slots which are between <start-slot> and <end-slot> to current node.",
  "BUMPEPOCH",
  "    Advance the cluster config epoch.",
  "COUNT-FAILURE-REPORTS <node-id>",
  "    Return number of failure reports for <node-id>.",
  "COUNTKEYSINSLOT <slot>",
  "    Return the number of keys in <slot>.",
  "DELSLOTS <slot> [<slot> ...]",
  "    Delete slots information from current node.",
  "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
  "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
  "FAILOVER [FORCE|TAKEOVER]",
  "    Promote current replica node to being a master.",
  "FORGET <node-id>",
  "    Remove a node from the cluster.",
  "GETKEYSINSLOT <slot> <count>",
  "    Return key names stored by current node in a slot.",
  "FLUSHSLOTS",
  "    Delete current node own slots information.",
  "INFO",
  "    Return information about the cluster.",
  "KEYSLOT <key>",
  "    Return the hash slot for <key>.",
  "MEET <ip> <port> [<bus-port>]",
  "    Connect nodes into a working cluster.",
  "MYID",
  "    Return the node id.",
  "NODES",
  "    Return cluster configuration seen by node. Output format:",
  "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
  "REPLICATE <node-id>",
  "    Configure current node as replica to <node-id>.",
  "RESET [HARD|SOFT]",
  "    Reset current node (default: soft).",
  "SET-CONFIG-EPOCH <epoch>",
  "    Set config epoch of current node.",
  "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
  "    Set slot state.",
  "REPLICAS <node-id>",
  "    Return <node-id> replicas.",
  "SAVECONFIG",
  "    Force saving cluster configuration on disk.",
  "SLOTS",
  "    Return information about slots range mappings. Each range is made of:",
  "    start, end, master and replicas IP addresses, ports and ids",
  "SHARDS",
  "    Return information about slot range mappings and the nodes associated with them.",
  "LINKS",
  "    Return information about all network links between this node and its peers.",
  "    Output format is an array where each array element is a map containing attributes of a link",
];

const localSubcommands: CommandDef[] = [
  clusterSub("help", 2, "loading stale", "Show helpful text about the different subcommands", (c) => replyHelp(c, "cluster", HELP), {
    since: "5.0.0",
  }),
  clusterSub("myid", 2, INFO, "Return the node id", (c, _argv, state) => c.out.bulkStr(state.myself.name)),
  clusterSub("keyslot", 3, INFO, "Returns the hash slot of the specified key", (c, argv) => c.out.int(keyHashSlot(str(argv[2]))), {
    complexity: "O(N) where N is the number of bytes in the key",
  }),
  clusterSub("countkeysinslot", 3, INFO, "Return the number of local keys in the specified hash slot", (c, argv) => {
    const slot = integerArg(c, argv[2]);
    if (slot === null) return;
    if (slot < 0 || slot >= SLOTS) return c.error("ERR Invalid slot");
    c.out.int(c.db.slotKeys?.count(slot) ?? 0);
  }),
  clusterSub("getkeysinslot", 4, INFO, "Return local key names in the specified hash slot", (c, argv) => {
    const slot = integerArg(c, argv[2]);
    if (slot === null) return;
    const count = integerArg(c, argv[3]);
    if (count === null) return;
    if (slot < 0 || slot >= SLOTS || count < 0) return c.error("ERR Invalid slot or number of keys");
    const keys = c.db.slotKeys?.keys(slot, count) ?? [];
    c.out.array(keys.length);
    for (const key of keys) c.out.bulkStr(key);
  }, { complexity: "O(log(N)) where N is the number of requested keys", tips: "nondeterministic_output" }),
  clusterSub("saveconfig", 2, ADMIN, "Forces the node to save cluster state on disk", (c, _argv, state) => {
    const error = saveClusterConfig(c.engine, state, true);
    if (error !== null) return c.error(`ERR error saving the cluster node config: ${error}`);
    c.out.ok();
  }),
  clusterSub("bumpepoch", 2, ADMIN, "Advance the cluster config epoch", (c, _argv, state) => {
    const bumped = state.bumpConfigEpochWithoutConsensus();
    c.out.simple(`${bumped ? "BUMPED" : "STILL"} ${state.myself.configEpoch}`);
  }, { tips: "nondeterministic_output" }),
  clusterSub("set-config-epoch", 3, ADMIN, "Set the configuration epoch in a new node", (c, argv, state) => {
    const epoch = integerArg(c, argv[2]);
    if (epoch === null) return;
    if (epoch < 0) return c.error(`ERR Invalid config epoch specified: ${epoch}`);
    if (state.nodes.size > 1) return c.error("ERR The user can assign a config epoch only when the node does not know any other node.");
    if (state.myself.configEpoch !== 0) return c.error("ERR Node config epoch is already non-zero");
    state.myself.configEpoch = epoch;
    state.log("warning", `configEpoch set to ${epoch} via CLUSTER SET-CONFIG-EPOCH`);
    if (state.currentEpoch < epoch) state.currentEpoch = epoch;
    state.requestSave(true);
    state.requestUpdateState();
    c.out.ok();
  }),
];

/** ASKING, READONLY and READWRITE: connection flags the redirect check reads (core/cluster/redirect.ts). */
function connectionFlag(name: string, flags: string, summary: string, set: (c: Client) => void): CommandDef {
  const def = clusterSub(name, 1, flags, summary, (c) => {
    set(c);
    c.out.ok();
  });
  return { ...def, acl: "connection" };
}

export const clusterCommands: CommandDef[] = [
  connectionFlag("asking", "fast", "Sent by cluster clients after an -ASK redirect", (c) => (c.asking = true)),
  connectionFlag("readonly", "loading stale fast", "Enables read queries for a connection to a cluster replica node", (c) => (c.clusterReadonly = true)),
  connectionFlag("readwrite", "loading stale fast", "Disables read queries for a connection to a cluster replica node", (c) => (c.clusterReadonly = false)),
  {
    name: "cluster",
    arity: -2,
    flags: "",
    group: "cluster",
    since: "3.0.0",
    summary: "A container for cluster commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      ...localSubcommands,
      ...clusterViewSubcommands,
      ...clusterSlotSubcommands,
      ...clusterResetSubcommands,
      ...clusterBusSubcommands,
      ...clusterFailoverSubcommands,
    ],
  },
];
