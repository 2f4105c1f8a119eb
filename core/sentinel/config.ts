/**
 * The `sentinel ...` lines of a Sentinel's config file: reading them at
 * startup (monitored masters, known replicas and Sentinels, epochs, myid)
 * and writing the current state back as redis-sentinel does, each
 * `sentinel <option>` kind replacing its old lines in place, new ones at
 * the end, so the file always holds what a restart needs.
 */
import { type Sentinel, SentinelError } from "./sentinel.ts";
import { DEFAULT_DOWN_AFTER, DEFAULT_FAILOVER_TIMEOUT, formatAddr } from "./instance.ts";

function toInt(s: string): number {
  if (!/^-?\d+$/.test(s)) throw new SentinelError("Invalid argument");
  return Number(s);
}

/** One `sentinel <option> ...` line of the config file (words after "sentinel"). */
export function applySentinelDirective(s: Sentinel, w: string[]): void {
  const opt = (w[0] ?? "").toLowerCase();
  const master = (name: string) => {
    const m = s.masters.get(name);
    if (!m) throw new SentinelError("No such master with specified name.");
    return m;
  };
  const want = (n: number) => {
    if (w.length !== n) throw new SentinelError("Unrecognized sentinel configuration statement.");
  };
  switch (opt) {
    case "monitor":
      want(5);
      try {
        s.monitor(w[1], w[2], toInt(w[3]), toInt(w[4]));
      } catch (e) {
        // The file's wording: no ERR prefix, and an address that is not an IP "can't be resolved".
        const msg = (e as Error).message.replace(/^ERR /, "");
        throw new SentinelError(msg.startsWith("Invalid IP") ? "Can't resolve instance hostname." : msg);
      }
      return;
    case "down-after-milliseconds": {
      want(3);
      const m = master(w[1]);
      m.downAfter = toInt(w[2]);
      if (m.downAfter <= 0) throw new SentinelError("negative or zero time parameter.");
      for (const r of m.replicas.values()) r.downAfter = m.downAfter;
      for (const x of m.sentinels.values()) x.downAfter = m.downAfter;
      return;
    }
    case "failover-timeout":
      want(3);
      master(w[1]).failoverTimeout = toInt(w[2]);
      return;
    case "parallel-syncs":
      want(3);
      master(w[1]).parallelSyncs = toInt(w[2]);
      return;
    case "notification-script": {
      want(3);
      const m = master(w[1]);
      if (!s.host.canExecute(w[2])) {
        throw new SentinelError("Notification script seems non existing or non executable.");
      }
      m.notificationScript = w[2];
      return;
    }
    case "client-reconfig-script": {
      want(3);
      const m = master(w[1]);
      if (!s.host.canExecute(w[2])) {
        throw new SentinelError("Client reconfiguration script seems non existing or non executable.");
      }
      m.clientReconfigScript = w[2];
      return;
    }
    case "auth-pass":
      want(3);
      master(w[1]).authPass = w[2];
      return;
    case "auth-user":
      want(3);
      master(w[1]).authUser = w[2];
      return;
    case "master-reboot-down-after-period":
      want(3);
      master(w[1]).rebootDownAfter = toInt(w[2]);
      return;
    case "current-epoch":
      want(2);
      s.currentEpoch = Math.max(s.currentEpoch, toInt(w[1]));
      return;
    case "myid":
      want(2);
      if (w[1].length !== 40) throw new SentinelError("Malformed Sentinel id in myid option.");
      s.myid = w[1];
      return;
    case "config-epoch": {
      want(3);
      const m = master(w[1]);
      m.configEpoch = toInt(w[2]);
      s.currentEpoch = Math.max(s.currentEpoch, m.configEpoch);
      return;
    }
    case "leader-epoch": {
      want(3);
      const m = master(w[1]);
      m.leaderEpoch = toInt(w[2]);
      s.currentEpoch = Math.max(s.currentEpoch, m.leaderEpoch);
      return;
    }
    case "known-slave":
    case "known-replica":
      want(4);
      s.addReplica(master(w[1]), w[2], toInt(w[3]));
      return;
    case "known-sentinel": {
      if (w.length !== 4 && w.length !== 5) throw new SentinelError("Unrecognized sentinel configuration statement.");
      const m = master(w[1]);
      const runid = w[4] ?? "";
      const si = s.createInstance("sentinel", runid || formatAddr(w[2], toInt(w[3])), w[2], toInt(w[3]), m);
      si.runid = runid;
      m.sentinels.set(si.name, si);
      return;
    }
    case "rename-command":
      want(4);
      master(w[1]).renamed.set(w[2].toLowerCase(), w[3]);
      return;
    case "announce-ip":
      want(2);
      s.announceIp = w[1];
      return;
    case "announce-port":
      want(2);
      s.announcePort = toInt(w[1]);
      return;
    case "deny-scripts-reconfig":
      want(2);
      s.denyScriptsReconfig = yesNo(w[1]);
      return;
    case "resolve-hostnames":
      want(2);
      s.resolveHostnames = yesNo(w[1]);
      return;
    case "announce-hostnames":
      want(2);
      s.announceHostnames = yesNo(w[1]);
      return;
    case "sentinel-user":
      want(2);
      s.sentinelUser = w[1];
      return;
    case "sentinel-pass":
      want(2);
      s.sentinelPass = w[1];
      return;
    default:
      throw new SentinelError("Unrecognized sentinel configuration statement.");
  }
}

function yesNo(v: string): boolean {
  const l = v.toLowerCase();
  if (l !== "yes" && l !== "no") throw new SentinelError("Please specify yes or no for the option.");
  return l === "yes";
}

/** Redis's sdscatrepr-style quoting for values that may hold spaces. */
function q(v: string): string {
  return '"' + v.replace(/[\\"]/g, (c) => "\\" + c).replace(/\n/g, "\\n").replace(/\r/g, "\\r") + '"';
}

/** The `sentinel` lines for the current state, in redis-sentinel's order. */
export function sentinelLines(s: Sentinel): string[] {
  const out = [`sentinel myid ${s.myid}`];
  if (!s.denyScriptsReconfig) out.push("sentinel deny-scripts-reconfig no");
  if (s.resolveHostnames) out.push("sentinel resolve-hostnames yes");
  if (s.announceHostnames) out.push("sentinel announce-hostnames yes");
  for (const m of s.masters.values()) {
    const [ip, port] = s.currentAddr(m);
    out.push(`sentinel monitor ${m.name} ${ip} ${port} ${m.quorum}`);
    if (m.downAfter !== DEFAULT_DOWN_AFTER) out.push(`sentinel down-after-milliseconds ${m.name} ${m.downAfter}`);
    if (m.failoverTimeout !== DEFAULT_FAILOVER_TIMEOUT) {
      out.push(`sentinel failover-timeout ${m.name} ${m.failoverTimeout}`);
    }
    if (m.parallelSyncs !== 1) out.push(`sentinel parallel-syncs ${m.name} ${m.parallelSyncs}`);
    if (m.notificationScript) out.push(`sentinel notification-script ${m.name} ${m.notificationScript}`);
    if (m.clientReconfigScript) out.push(`sentinel client-reconfig-script ${m.name} ${m.clientReconfigScript}`);
    if (m.authPass) out.push(`sentinel auth-pass ${m.name} ${m.authPass}`);
    if (m.authUser) out.push(`sentinel auth-user ${m.name} ${m.authUser}`);
    if (m.rebootDownAfter) out.push(`sentinel master-reboot-down-after-period ${m.name} ${m.rebootDownAfter}`);
    out.push(`sentinel config-epoch ${m.name} ${m.configEpoch}`);
    out.push(`sentinel leader-epoch ${m.name} ${m.leaderEpoch}`);
    for (const r of m.replicas.values()) {
      if (r.ip === ip && r.port === port) continue;
      out.push(`sentinel known-replica ${m.name} ${r.ip} ${r.port}`);
    }
    for (const x of m.sentinels.values()) {
      if (x.runid === "") continue;
      out.push(`sentinel known-sentinel ${m.name} ${x.ip} ${x.port} ${x.runid}`);
    }
    for (const [from, to] of m.renamed) out.push(`sentinel rename-command ${m.name} ${from} ${to}`);
  }
  out.push(`sentinel current-epoch ${s.currentEpoch}`);
  if (s.announceIp) out.push(`sentinel announce-ip ${q(s.announceIp)}`);
  if (s.announcePort) out.push(`sentinel announce-port ${s.announcePort}`);
  if (s.sentinelUser) out.push(`sentinel sentinel-user ${s.sentinelUser}`);
  if (s.sentinelPass) out.push(`sentinel sentinel-pass ${s.sentinelPass}`);
  return out;
}

/**
 * Puts the sentinel lines into a config text already rewritten for the
 * ordinary directives: each `sentinel <option>` kind takes the places of
 * that kind's old lines in order, extra old ones are dropped, and the rest
 * go at the end.
 */
export function rewriteSentinelConfig(s: Sentinel, rewritten: string): string {
  const lines = rewritten.replace(/\n$/, "").split("\n");
  const slots = new Map<string, number[]>();
  lines.forEach((line, i) => {
    const w = line.trim().split(/\s+/);
    if (w[0].toLowerCase() !== "sentinel" || w.length < 2) return;
    const key = w[1].toLowerCase() === "known-slave" ? "known-replica" : w[1].toLowerCase();
    slots.set(key, [...(slots.get(key) ?? []), i]);
  });
  const appended: string[] = [];
  for (const line of sentinelLines(s)) {
    const key = line.split(" ")[1];
    const slot = slots.get(key)?.shift();
    if (slot !== undefined) lines[slot] = line;
    else appended.push(line);
  }
  const drop = new Set([...slots.values()].flat());
  const kept = lines.filter((_, i) => !drop.has(i));
  return [...kept, ...appended].join("\n") + "\n";
}
