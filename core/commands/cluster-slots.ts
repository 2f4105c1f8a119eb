/**
 * CLUSTER ADDSLOTS, ADDSLOTSRANGE, DELSLOTS, DELSLOTSRANGE, FLUSHSLOTS and
 * SETSLOT: the slot table changed by hand (redis-cli --cluster create,
 * reshard), with Redis 7.0's checks, errors and epoch rules. Each change
 * asks for nodes.conf to be saved and the state updated before sleeping.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import type { ClusterState } from "../cluster/state.ts";
import { ADMIN, clusterSub, nodeArg, slotArg } from "./cluster-args.ts";
import { Todo } from "../cluster/state.ts";
import { SLOTS } from "../cluster/slot.ts";
import { is, str } from "../util/bytes.ts";
import { later } from "../util/later.ts";
import { clusterFailoverHost, setMyPrimary } from "../cluster/failover.ts";

/**
 * Redis's checkSlotAssignmentsOrReply over [start, end]: each slot must be
 * free (add) or assigned (del), and named once; marks them in chosen.
 */
function checkSlots(c: Client, state: ClusterState, chosen: Uint8Array, del: boolean, start: number, end: number): boolean {
  for (let slot = start; slot <= end; slot++) {
    if (del && state.slots[slot] === null) {
      c.error(`ERR Slot ${slot} is already unassigned`);
      return false;
    }
    if (!del && state.slots[slot] !== null) {
      c.error(`ERR Slot ${slot} is already busy`);
      return false;
    }
    if (chosen[slot]++ === 1) {
      c.error(`ERR Slot ${slot} specified multiple times`);
      return false;
    }
  }
  return true;
}

/** Redis's clusterUpdateSlots: the chosen slots assigned to myself or freed, importing state cleared. */
function updateSlots(c: Client, state: ClusterState, chosen: Uint8Array, del: boolean): void {
  for (let slot = 0; slot < SLOTS; slot++) {
    if (!chosen[slot]) continue;
    state.importingFrom[slot] = null;
    if (del) state.unassignSlot(slot);
    else state.assignSlot(slot, state.myself);
  }
  state.request(Todo.UPDATE_STATE | Todo.SAVE_CONFIG);
  c.out.ok();
}

/** ADDSLOTS / DELSLOTS <slot>...: every argument parsed first, then checked, then applied. */
function slotList(del: boolean) {
  return (c: Client, argv: Uint8Array[], state: ClusterState) => {
    const slots: number[] = [];
    for (let i = 2; i < argv.length; i++) {
      const slot = slotArg(c, argv[i]);
      if (slot === null) return;
      slots.push(slot);
    }
    const chosen = new Uint8Array(SLOTS);
    for (const slot of slots) if (!checkSlots(c, state, chosen, del, slot, slot)) return;
    updateSlots(c, state, chosen, del);
  };
}

/** ADDSLOTSRANGE / DELSLOTSRANGE <start> <end>...: pairs checked as they come. */
function slotRanges(del: boolean) {
  return (c: Client, argv: Uint8Array[], state: ClusterState) => {
    if (argv.length % 2 === 1) return c.error(`ERR wrong number of arguments for 'cluster|${str(argv[1]).toLowerCase()}' command`);
    const chosen = new Uint8Array(SLOTS);
    for (let i = 2; i < argv.length; i += 2) {
      const start = slotArg(c, argv[i]);
      if (start === null) return;
      const end = slotArg(c, argv[i + 1]);
      if (end === null) return;
      if (start > end) return c.error(`ERR start slot number ${start} is greater than end slot number ${end}`);
      if (!checkSlots(c, state, chosen, del, start, end)) return;
    }
    updateSlots(c, state, chosen, del);
  };
}

function flushSlots(c: Client, _argv: Uint8Array[], state: ClusterState): void {
  if (c.engine.dbs[0].size !== 0) return c.error("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
  state.unassignAllSlots(state.myself);
  state.request(Todo.UPDATE_STATE | Todo.SAVE_CONFIG);
  c.out.ok();
}

/** Keys held here in a slot. */
function keysInSlot(c: Client, slot: number): number {
  return c.engine.dbs[0].slotKeys?.count(slot) ?? 0;
}

/** SETSLOT <slot> NODE <id>: the slot's new owner, with Redis's rules for leftover keys, becoming a replica, and the epoch bump. */
function setSlotNode(c: Client, state: ClusterState, slot: number, arg: Uint8Array): boolean {
  const n = nodeArg(c, state, arg);
  if (n === null) return false;
  if (n.isReplica) {
    c.error("ERR Target node is not a master");
    return false;
  }
  const me = state.myself;
  if (state.slots[slot] === me && n !== me && keysInSlot(c, slot) !== 0) {
    c.error(`ERR Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`);
    return false;
  }
  if (keysInSlot(c, slot) === 0 && state.migratingTo[slot] !== null) state.migratingTo[slot] = null;
  const wasMine = state.slots[slot] === me;
  state.moveSlot(slot, n);
  if (wasMine && n !== me && me.numSlots === 0 && c.engine.config.bool("cluster-allow-replica-migration")) {
    state.log("warning", `Configuration change detected. Reconfiguring myself as a replica of ${n.name}`);
    setMyPrimary(clusterFailoverHost(c.engine), n);
    state.request(Todo.SAVE_CONFIG | Todo.UPDATE_STATE | Todo.FSYNC_CONFIG);
  }
  if (n === me && state.importingFrom[slot] !== null) {
    // Migrated by hand: a new epoch, so that the new owner wins when the change spreads.
    if (state.bumpConfigEpochWithoutConsensus()) state.log("warning", `configEpoch updated after importing slot ${slot}`);
    state.importingFrom[slot] = null;
    // Redis queues this PONG on the bus links, written on the next event-loop turn, after the reply:
    // the migrating node then mostly hears redis-cli's SETSLOT NODE before the new owner's claim, and
    // does not take the claim from gossip with a fsynced nodes.conf save for every slot of a reshard.
    later(() => state.failover.bus?.broadcastPong(false));
  }
  return true;
}

function setSlot(c: Client, argv: Uint8Array[], state: ClusterState): void {
  if (state.myself.isReplica) return c.error("ERR Please use SETSLOT only with masters.");
  const slot = slotArg(c, argv[2]);
  if (slot === null) return;
  const me = state.myself;
  const action = argv[3];
  const unknown = (arg: Uint8Array) => c.error(`ERR I don't know about node ${str(arg)}`);
  if (is(action, "migrating") && argv.length === 5) {
    if (state.slots[slot] !== me) return c.error(`ERR I'm not the owner of hash slot ${slot}`);
    const n = state.nodeByName(str(argv[4]));
    if (n === undefined) return unknown(argv[4]);
    if (n.isReplica) return c.error("ERR Target node is not a master");
    state.migratingTo[slot] = n;
  } else if (is(action, "importing") && argv.length === 5) {
    if (state.slots[slot] === me) return c.error(`ERR I'm already the owner of hash slot ${slot}`);
    const n = state.nodeByName(str(argv[4]));
    if (n === undefined) return unknown(argv[4]);
    if (n.isReplica) return c.error("ERR Target node is not a master");
    state.importingFrom[slot] = n;
  } else if (is(action, "stable") && argv.length === 4) {
    state.importingFrom[slot] = null;
    state.migratingTo[slot] = null;
  } else if (is(action, "node") && argv.length === 5) {
    if (!setSlotNode(c, state, slot, argv[4])) return;
  } else {
    return c.error("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
  }
  state.request(Todo.SAVE_CONFIG | Todo.UPDATE_STATE);
  c.out.ok();
}

const PER_SLOT = "O(N) where N is the total number of hash slot arguments";
const PER_RANGE = "O(N) where N is the total number of the slots between the start slot and end slot arguments.";

export const clusterSlotSubcommands: CommandDef[] = [
  clusterSub("addslots", -3, ADMIN, "Assign new hash slots to receiving node", slotList(false), { complexity: PER_SLOT }),
  clusterSub("delslots", -3, ADMIN, "Set hash slots as unbound in receiving node", slotList(true), { complexity: PER_SLOT }),
  clusterSub("addslotsrange", -4, ADMIN, "Assign new hash slots to receiving node", slotRanges(false), { since: "7.0.0", complexity: PER_RANGE }),
  clusterSub("delslotsrange", -4, ADMIN, "Set hash slots as unbound in receiving node", slotRanges(true), { since: "7.0.0", complexity: PER_RANGE }),
  clusterSub("flushslots", 2, ADMIN, "Delete a node's own slots information", flushSlots),
  clusterSub("setslot", -4, ADMIN, "Bind a hash slot to a specific node", setSlot),
];
