/**
 * Who serves a slot when nodes disagree, as Redis 7.0 settles it: the
 * claim with the greater configEpoch wins (clusterUpdateSlotsConfigWith,
 * from PING/PONG headers and UPDATE messages), a node left without its
 * slots follows their new owner, keys of slots this node lost are
 * dropped; and two primaries with the same configEpoch part ways by node
 * name (clusterHandleConfigEpochCollision).
 */
import type { ClusterNode } from "./node.ts";
import type { ClusterState } from "./state.ts";
import { SLOTS } from "./slot.ts";

export interface SlotUpdateHost {
  readonly state: ClusterState;
  /** Keys this node holds in slot. */
  keysInSlot(slot: number): number;
  /** Drops every key of slot (Redis's delKeysInSlot: DEL propagated). */
  deleteKeysInSlot(slot: number): void;
  /** cluster-allow-replica-migration. */
  allowReplicaMigration(): boolean;
  /** Makes myself a replica of node (Redis's clusterSetMaster). */
  becomeReplicaOf(node: ClusterNode): void;
  log(level: "debug" | "verbose" | "notice" | "warning", msg: string): void;
}

const bit = (bitmap: Uint8Array, slot: number) => (bitmap[slot >> 3] & (1 << (slot & 7))) !== 0;

/** Redis's clusterUpdateSlotsConfigWith: sender claims slots under senderConfigEpoch. */
export function updateSlotsConfigWith(h: SlotUpdateHost, sender: ClusterNode, senderConfigEpoch: number, slots: Uint8Array): void {
  const state = h.state;
  const me = state.myself;
  if (sender === me) {
    h.log("warning", "Discarding UPDATE message about myself.");
    return;
  }
  const current = me.isPrimary ? me : me.replicaOf;
  let newPrimary: ClusterNode | null = null;
  let senderSlots = 0;
  let migratedOurSlots = 0;
  const dirty: number[] = [];
  for (let slot = 0; slot < SLOTS; slot++) {
    if (!bit(slots, slot)) continue;
    senderSlots++;
    const owner = state.slots[slot];
    if (owner === sender || state.importingFrom[slot] !== null) continue;
    if (owner !== null && owner.configEpoch >= senderConfigEpoch) continue;
    if (owner === me && h.keysInSlot(slot) !== 0) dirty.push(slot);
    if (owner !== null && owner === current) {
      newPrimary = sender;
      migratedOurSlots++;
    }
    state.moveSlot(slot, sender);
    state.requestUpdateState();
    state.requestSave(true);
  }
  if (newPrimary !== null && current !== null && current.numSlots === 0 && (h.allowReplicaMigration() || senderSlots === migratedOurSlots)) {
    h.log("warning", `Configuration change detected. Reconfiguring myself as a replica of ${sender.name}`);
    h.becomeReplicaOf(sender);
    state.requestUpdateState();
    state.requestSave(true);
  } else if (me.replicaOf !== null && me.replicaOf.replicaOf !== null) {
    const grand = me.replicaOf.replicaOf;
    h.log("warning", `I'm a sub-replica! Reconfiguring myself as a replica of grandmaster ${grand.name}`);
    h.becomeReplicaOf(grand);
    state.requestUpdateState();
    state.requestSave(true);
  } else {
    for (const slot of dirty) h.deleteKeysInSlot(slot);
  }
}

/**
 * Redis's clusterHandleConfigEpochCollision: two primaries with the same
 * configEpoch; the one with the lesser name keeps it, the other takes a new
 * epoch (saved at once).
 */
export function handleConfigEpochCollision(h: SlotUpdateHost, sender: ClusterNode): void {
  const state = h.state;
  const me = state.myself;
  if (sender.configEpoch !== me.configEpoch || !sender.isPrimary || !me.isPrimary) return;
  if (sender.name <= me.name) return;
  state.currentEpoch++;
  me.configEpoch = state.currentEpoch;
  state.requestSave(true);
  h.log("verbose", `WARNING: configEpoch collision with node ${sender.name}. configEpoch set to ${me.configEpoch}`);
}
