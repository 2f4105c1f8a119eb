/**
 * INFO # Replication and ROLE for a primary, field by field as Redis 7.0
 * prints them (the replica side adds its master_* fields where marked).
 */
import type { Engine } from "../server/engine.ts";
import type { ReplicaLink } from "./primary.ts";

type Field = [string, string | number];

/** Redis's replstate names for the slaveN line. */
function stateName(l: ReplicaLink): string {
  return l.state;
}

/** The fields a primary shows about its replicas (role through the slaveN lines). */
export function primaryFields(e: Engine): Field[] {
  const p = e.primary;
  const out: Field[] = [["connected_slaves", p.links.length]];
  if (e.config.num("min-replicas-to-write") > 0 && e.config.num("min-replicas-max-lag") > 0) {
    out.push(["min_slaves_good_slaves", p.goodReplicas]);
  }
  p.links.forEach((l, i) => {
    const lag = Math.floor((e.clock.now() - l.ackTime) / 1000);
    out.push([`slave${i}`, `ip=${l.ip},port=${l.port},state=${stateName(l)},offset=${l.ackOffset},lag=${lag}`]);
  });
  return out;
}

/** The ids, offsets and backlog fields that close the section. */
export function streamFields(e: Engine): Field[] {
  const s = e.replication;
  const b = s.backlog;
  return [
    ["master_failover_state", "no-failover"],
    ["master_replid", s.replid],
    ["master_replid2", s.replid2],
    ["master_repl_offset", e.primary.offset],
    ["second_repl_offset", s.secondOffset],
    ["repl_backlog_active", b === null ? 0 : 1],
    ["repl_backlog_size", b === null ? e.config.num("repl-backlog-size") : b.size],
    ["repl_backlog_first_byte_offset", b === null ? 0 : b.firstByteOffset],
    ["repl_backlog_histlen", b === null ? 0 : b.histlen],
  ];
}

/** INFO # Replication. */
export function replicationInfo(e: Engine): Field[] {
  // A replica's link fields (replica.ts) come between role and connected_slaves.
  if (e.replica.following) return [["role", "slave"], ...e.replica.info(), ...primaryFields(e), ...streamFields(e)];
  return [["role", "master"], ...primaryFields(e), ...streamFields(e)];
}
