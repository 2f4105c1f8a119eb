/**
 * What a Sentinel knows about one monitored server or fellow Sentinel
 * (redis-sentinel's sentinelRedisInstance): address, flags, timers of its
 * links, what its INFO said and, for a master, its replicas, Sentinels,
 * votes and failover progress. Plain state; sentinel.ts acts on it.
 */
import type { Link } from "./link.ts";

export type Kind = "master" | "slave" | "sentinel";

export const FAILOVER_STATES = [
  "none",
  "wait_start",
  "select_slave",
  "send_slaveof_noone",
  "wait_promotion",
  "reconf_slaves",
  "update_config",
] as const;
export type FailoverState = typeof FAILOVER_STATES[number];

/** Redis's order of the flags in SENTINEL MASTER(S)/REPLICAS/SENTINELS replies. */
export interface Flags {
  sdown: boolean;
  odown: boolean;
  masterDown: boolean;
  failoverInProgress: boolean;
  promoted: boolean;
  reconfSent: boolean;
  reconfInprog: boolean;
  reconfDone: boolean;
  forceFailover: boolean;
  scriptKillSent: boolean;
  masterReboot: boolean;
}

export function noFlags(): Flags {
  return {
    sdown: false,
    odown: false,
    masterDown: false,
    failoverInProgress: false,
    promoted: false,
    reconfSent: false,
    reconfInprog: false,
    reconfDone: false,
    forceFailover: false,
    scriptKillSent: false,
    masterReboot: false,
  };
}

export const DEFAULT_DOWN_AFTER = 30_000;
export const DEFAULT_FAILOVER_TIMEOUT = 180_000;

export class Instance {
  flags: Flags = noFlags();
  runid = "";
  /** Command link (PING, INFO, PUBLISH, SENTINEL ...). */
  link: Link;
  /** Pub/sub link (SUBSCRIBE __sentinel__:hello), masters and replicas only. */
  pc: Link | null;
  pcLastActivity = 0;
  /** Oldest PING not answered yet, 0 when none. */
  actPingTime: number;
  lastPingTime = 0;
  lastPongTime: number;
  lastAvailTime: number;
  lastPubTime = 0;
  lastHelloTime = 0;
  lastMasterDownReplyTime: number;
  sDownSince = 0;
  oDownSince = 0;
  downAfter = DEFAULT_DOWN_AFTER;
  infoRefresh = 0;
  /** The connection an INFO was sent on and not answered yet, else null. */
  infoPendingOn: unknown = null;
  info: string | null = null;
  roleReported: "master" | "slave";
  roleReportedTime: number;
  slaveConfChangeTime: number;
  // master only
  quorum = 2;
  configEpoch = 0;
  failoverTimeout = DEFAULT_FAILOVER_TIMEOUT;
  parallelSyncs = 1;
  authPass = "";
  authUser = "";
  notificationScript = "";
  clientReconfigScript = "";
  rebootDownAfter = 0;
  masterRebootSince = 0;
  renamed = new Map<string, string>();
  readonly replicas = new Map<string, Instance>();
  readonly sentinels = new Map<string, Instance>();
  /** The vote: for a master, whom this Sentinel voted for; for a Sentinel, whom it voted for. */
  leader = "";
  leaderEpoch = 0;
  failoverState: FailoverState = "none";
  failoverEpoch = 0;
  failoverStartTime = 0;
  failoverStateChangeTime = 0;
  failoverDelayLogged = 0;
  promoted: Instance | null = null;
  // replica only (from its INFO)
  masterLinkDownTime = 0;
  slaveMasterHost = "";
  slaveMasterPort = 0;
  slaveMasterLinkUp = false;
  slavePriority = 100;
  slaveReplOffset = 0;
  replicaAnnounced = true;
  slaveReconfSentTime = 0;

  constructor(
    readonly kind: Kind,
    public name: string,
    public ip: string,
    public port: number,
    readonly master: Instance | null,
    makeLink: (pubsub: boolean) => Link,
    now: number,
  ) {
    this.link = makeLink(false);
    this.pc = kind === "sentinel" ? null : makeLink(true);
    this.actPingTime = this.lastPongTime = this.lastAvailTime = now;
    this.lastMasterDownReplyTime = now;
    this.roleReported = kind === "slave" ? "slave" : "master";
    this.roleReportedTime = this.slaveConfChangeTime = now;
  }

  get addr(): string {
    return formatAddr(this.ip, this.port);
  }

  get disconnected(): boolean {
    return this.link.disconnected || (this.pc !== null && this.pc.disconnected);
  }

  flagString(): string {
    const f = this.flags;
    const out: string[] = [];
    if (f.sdown) out.push("s_down");
    if (f.odown) out.push("o_down");
    out.push(this.kind);
    if (this.disconnected) out.push("disconnected");
    if (f.masterDown) out.push("master_down");
    if (f.failoverInProgress) out.push("failover_in_progress");
    if (f.promoted) out.push("promoted");
    if (f.reconfSent) out.push("reconf_sent");
    if (f.reconfInprog) out.push("reconf_inprog");
    if (f.reconfDone) out.push("reconf_done");
    if (f.forceFailover) out.push("force_failover");
    if (f.scriptKillSent) out.push("script_kill_sent");
    if (f.masterReboot) out.push("master_reboot");
    return out.join(",");
  }

  closeLinks(): void {
    this.link.close();
    this.pc?.close();
  }
}

/** Redis's anetFormatAddr: IPv6 in brackets. */
export function formatAddr(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}
